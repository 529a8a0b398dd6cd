"""Revenue leakage as the accountant reads it (DOMAIN.md §4, issue 5): the report of
:func:`.selectors.leakage_report` checked for the reader's role, summed per section and currency, grouped per
client for "invoice now", and flattened for the CSV export.

Who may read it: whoever handles billing (``invoices.manage`` or ``work_orders.billing``: admins,
dispatchers, accountants); anyone else is refused (PERMISSION_DENIED), never shown an empty report that
would read as "nothing is leaking".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from fixflow.core.errors import DomainError, ErrorCode, validation
from fixflow.core.permissions import Actor

from . import calculations as calc
from . import pricing
from .selectors import LateFact, LeakageReport, UnbilledWork, leakage_report

MAX_DAYS = 3650  # ten years: anything older is not a reminder any more but an archive question
SECTIONS = ("unbilled", "late_facts", "quotes")
ZERO = Decimal(0)


def may_read_leakage(actor: Actor) -> bool:
    return actor.can("invoices.manage") or actor.can("work_orders.billing")


def require_leakage(actor: Actor) -> None:
    if not may_read_leakage(actor):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "The revenue-leakage report is for the people who bill.")


def check_days(value) -> int | None:
    """``days`` as the report takes it: empty → None (the billing settings' threshold), else a whole number
    of days from 0 to :data:`MAX_DAYS`; anything else is refused naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise validation("Enter the days as a whole number, e.g. 14.", field="days") from None
    if not 0 <= days <= MAX_DAYS:
        raise validation(f"Enter between 0 and {MAX_DAYS} days.", field="days")
    return days


def leakage(*, actor: Actor, days=None, estimate: bool = True) -> LeakageReport:
    """The report for someone who bills; ``days`` checked by :func:`check_days`."""
    require_leakage(actor)
    return leakage_report(actor=actor, days=check_days(days), estimate=estimate)


# ---------------------------------------------------------------------------------------------
# sums


@dataclass(frozen=True)
class Amount:
    amount: Decimal
    currency: str


@dataclass
class SectionSummary:
    """How many rows a section has and what they are worth, per currency (amounts in different currencies
    are never added up); ``without_estimate`` counts the rows that could not be priced."""

    count: int = 0
    totals: list[Amount] = field(default_factory=list)
    without_estimate: int = 0


@dataclass
class LeakageSummary:
    days: int
    unbilled: SectionSummary
    late_facts: SectionSummary
    quotes: SectionSummary

    @property
    def is_empty(self) -> bool:
        return not (self.unbilled.count or self.late_facts.count or self.quotes.count)


def money(amount: Decimal | None, currency: str) -> Decimal | None:
    """An amount rounded to its currency's minor units (a quote's total is stored with 3 decimals)."""
    if amount is None:
        return None
    try:
        return calc.quantize(amount, currency)
    except DomainError:  # an unknown code: show the amount as stored
        return amount


def _summary(values: list[tuple[Decimal | None, str]]) -> SectionSummary:
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    missing = 0
    for amount, currency in values:
        if amount is None:
            missing += 1
        else:
            sums[currency] += amount
    totals = [Amount(money(sums[c], c), c) for c in sorted(sums)]
    return SectionSummary(count=len(values), totals=totals, without_estimate=missing)


def summarize(report: LeakageReport) -> LeakageSummary:
    """The totals of each section (the home-page panel and the report's head)."""
    return LeakageSummary(
        days=report.days,
        unbilled=_summary([(u.estimate, u.currency) for u in report.unbilled]),
        late_facts=_summary([(f.estimate, f.currency) for f in report.late_facts]),
        quotes=_summary([(q.total_net, q.currency) for q in report.quotes_not_converted]),
    )


@dataclass
class ClientGroup:
    """The unbilled work of one client: what "invoice now" would take."""

    client: object
    items: list[UnbilledWork]
    summary: SectionSummary


def unbilled_by_client(report: LeakageReport) -> list[ClientGroup]:
    """The unbilled work per client, the client waiting longest first; each client's work oldest first."""
    groups: dict[int, list[UnbilledWork]] = {}
    for item in report.unbilled:  # already oldest first
        groups.setdefault(item.work_order.client_id, []).append(item)
    return [
        ClientGroup(items[0].work_order.client, items, _summary([(u.estimate, u.currency) for u in items]))
        for items in groups.values()
    ]


@dataclass
class WorkOrderGroup:
    """What was recorded on one invoiced work order after its invoice."""

    work_order: object
    items: list[LateFact]
    summary: SectionSummary


def late_facts_by_work_order(report: LeakageReport) -> list[WorkOrderGroup]:
    """The late facts per work order, the work order with the earliest late fact first."""
    groups: dict[int, list[LateFact]] = {}
    for fact in report.late_facts:  # already in the order they were recorded
        groups.setdefault(fact.work_order.pk, []).append(fact)
    return [
        WorkOrderGroup(items[0].work_order, items, _summary([(f.estimate, f.currency) for f in items]))
        for items in groups.values()
    ]


# ---------------------------------------------------------------------------------------------
# the value of late facts (called by selectors._late_facts)


def price_late_facts(actor: Actor, settings, found: list[LateFact]) -> list[LateFact]:
    """Each late fact with the net of the line(s) invoicing it now would make (a time entry may become
    several lines: covered time, overtime). A fact that would make no line (time or parts of a work order
    invoiced at a fixed price) or whose work order cannot be priced gets None and the reason."""
    from .services import settings_for

    org = actor.organization
    settings = settings or settings_for(org)
    work_orders = list({f.work_order.pk: f.work_order for f in found}.values())
    pricer = pricing.Pricer(org, settings, work_orders=work_orders)
    facts = pricing.load_facts([wo.pk for wo in work_orders])
    included = pricing.IncludedTime()
    values: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    currency_of: dict[int, str] = {}
    problem_of: dict[int, str] = {}
    for wo in work_orders:
        try:
            ctx, lines = pricing.price_work_order(pricer, wo, facts, included)
        except DomainError as exc:
            problem_of[wo.pk] = exc.message
            continue
        currency_of[wo.pk] = ctx.currency
        for line in lines:
            sources = (("time", line.time_entry_id), ("part", line.part_usage_id), ("charge", line.charge_id))
            for kind, fact_id in sources:
                if fact_id is not None:
                    values[(kind, fact_id)] += line.net_amount
    priced = []
    for f in found:
        wo_id = f.work_order.pk
        value = values.get((f.kind, f.fact_id))
        if wo_id in problem_of:
            problem = problem_of[wo_id]
        elif value is None:
            problem = "Invoiced at a fixed price: decide whether this is billed on top."
        else:
            problem = ""
        priced.append(replace(f, estimate=value, currency=currency_of.get(wo_id, org.currency), problem=problem))
    return priced


# ---------------------------------------------------------------------------------------------
# the CSV export: one table, a ``section`` column says which part of the report a row belongs to

CSV_HEADER = [
    "section",
    "client_id",
    "client",
    "work_order_id",
    "work_order",
    "quote_id",
    "quote",
    "what",
    "date",
    "days_waiting",
    "on_draft",
    "estimate",
    "currency",
    "note",
]


def _safe(text) -> str:
    """A cell a spreadsheet will not run as a formula (a client named ``=HYPERLINK(...)``)."""
    text = "" if text is None else str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _money(value: Decimal | None, currency: str) -> str:
    return "" if value is None else str(money(value, currency))


def csv_rows(report: LeakageReport, *, section: str | None = None) -> list[list]:
    """The rows of the CSV export (header first), for one section or all three."""
    if section is not None and section not in SECTIONS:
        raise validation(f"Choose a section: {', '.join(SECTIONS)}.", field="section")
    rows: list[list] = [CSV_HEADER]
    if section in (None, "unbilled"):
        for u in report.unbilled:
            wo = u.work_order
            rows.append(
                [
                    "unbilled",
                    wo.client_id,
                    _safe(wo.client.name),
                    wo.pk,
                    _safe(wo.number),
                    "",
                    "",
                    _safe(wo.title),
                    u.closed_at.isoformat(),
                    u.days_waiting,
                    "yes" if u.is_on_draft else "no",
                    _money(u.estimate, u.currency),
                    u.currency,
                    _safe(u.problem),
                ]
            )
    if section in (None, "late_facts"):
        for f in report.late_facts:
            wo = f.work_order
            rows.append(
                [
                    f"late_{f.kind}",
                    wo.client_id,
                    _safe(wo.client.name),
                    wo.pk,
                    _safe(wo.number),
                    "",
                    "",
                    _safe(f.description),
                    f.recorded_at.isoformat(),
                    "",
                    "",
                    _money(f.estimate, f.currency),
                    f.currency,
                    _safe(f.problem),
                ]
            )
    if section in (None, "quotes"):
        for q in report.quotes_not_converted:
            rows.append(
                [
                    "quote",
                    q.client_id,
                    _safe(q.client.name),
                    "",
                    "",
                    q.pk,
                    _safe(q.number),
                    _safe(q.title),
                    q.decided_at.isoformat() if q.decided_at else "",
                    "",
                    "",
                    _money(q.total_net, q.currency),
                    q.currency,
                    "",
                ]
            )
    return rows


def csv_filename(report: LeakageReport, section: str | None, today) -> str:
    return f"revenue-leakage-{section or 'all'}-{report.days}d-{today.isoformat()}.csv"


def default_days(actor: Actor) -> int:
    """The billing settings' threshold, shown beside the days field."""
    from .services import settings_for

    return settings_for(actor.organization).leakage_days
