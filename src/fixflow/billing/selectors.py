"""Billing reads, always narrowed to what the actor may see.

Invoices: ``invoices.view``; client users see only their own client's issued invoices and credit notes
(never drafts). The work waiting to be invoiced and the revenue-leakage report are for the roles that
handle billing (``invoices.manage`` or ``work_orders.billing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet, Subquery

from fixflow.core import clock
from fixflow.core.errors import DomainError, not_found
from fixflow.core.permissions import Actor
from fixflow.service.choices import BillingStatus
from fixflow.service.models import PartUsage, TimeEntry, WorkOrder

from . import pricing
from .choices import ISSUED_STATES, DocumentType, LineKind, QuoteStatus
from .models import Invoice, InvoiceLine, Payment, Quote


def _as_id(pk) -> int | None:
    try:
        return int(pk)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# invoices


def invoice_queryset(*, actor: Actor) -> QuerySet[Invoice]:
    """The invoices and credit notes the actor may see."""
    if not actor.can("invoices.view"):
        return Invoice.objects.none()
    qs = Invoice.objects.filter(organization_id=actor.organization_id)
    if actor.is_client:
        return qs.filter(client_id=actor.client_id, status__in=ISSUED_STATES)
    return qs


def invoice_get(*, actor: Actor, pk) -> Invoice:
    """One invoice the actor may see, with its client; NOT_FOUND otherwise (never a 403 that confirms it)."""
    invoice = invoice_queryset(actor=actor).select_related("client", "credited_invoice").filter(pk=_as_id(pk)).first()
    if invoice is None:
        raise not_found("Invoice")
    return invoice


def invoice_lines(*, actor: Actor, invoice: Invoice) -> QuerySet[InvoiceLine]:
    """The lines of an invoice (already checked with :func:`invoice_get`), in order, with their work orders."""
    return (
        InvoiceLine.objects.filter(invoice=invoice, organization_id=actor.organization_id)
        .select_related("work_order", "contract", "part")
        .order_by("position", "id")
    )


def invoice_payments(*, actor: Actor, invoice: Invoice) -> QuerySet[Payment]:
    return Payment.objects.filter(invoice=invoice, organization_id=actor.organization_id).order_by("paid_on", "id")


# ---------------------------------------------------------------------------------------------
# work waiting to be invoiced


def _may_bill(actor: Actor) -> bool:
    return actor.can("invoices.manage") or actor.can("work_orders.billing")


def billable_work(*, actor: Actor, client_ids=None, until: date | None = None) -> QuerySet[WorkOrder]:
    """Closed, billable work orders waiting to be invoiced: what “invoice closed work” would take. They
    stay here until their invoice is issued; ``is_on_draft`` tells those already on a draft."""
    from .services import billable_work_orders

    if not _may_bill(actor):
        return WorkOrder.objects.none()
    qs = billable_work_orders(actor.organization_id, client_ids=client_ids, until=until, tz=actor.organization.tzinfo)
    on_draft = InvoiceLine.objects.filter(work_order=OuterRef("pk"), released=False, invoice__status="draft")
    return (
        qs.annotate(is_on_draft=Exists(on_draft))
        .select_related("client", "site")
        .order_by("client__name", "closed_at", "id")
    )


# ---------------------------------------------------------------------------------------------
# revenue leakage


@dataclass(frozen=True)
class UnbilledWork:
    """A closed billable work order nobody has invoiced after the leakage threshold, with what it is worth
    (the lines “invoice closed work” would make now; None when its pricing is incomplete)."""

    work_order: WorkOrder
    closed_at: datetime
    days_waiting: int
    estimate: Decimal | None
    currency: str
    problem: str = ""


@dataclass(frozen=True)
class LateFact:
    """Time or a part recorded on a work order after it was invoiced, and on no invoice."""

    kind: str  # "time" or "part"
    work_order: WorkOrder
    recorded_at: datetime
    description: str
    fact_id: int


@dataclass
class LeakageReport:
    days: int
    unbilled: list[UnbilledWork] = field(default_factory=list)
    late_facts: list[LateFact] = field(default_factory=list)
    quotes_not_converted: list[Quote] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.unbilled or self.late_facts or self.quotes_not_converted)


def leakage_report(*, actor: Actor, days: int | None = None, estimate: bool = True) -> LeakageReport:
    """Where money is being lost (the accountant's report and home-page panel):

    - closed billable work not invoiced after ``days`` (default: the billing settings' ``leakage_days``),
      oldest first, with the value “invoice closed work” would give it now (``estimate``);
    - billable time or parts recorded on an invoiced work order that are on no invoice: recorded after it
      was invoiced (for a fixed price, only what came after its invoice);
    - accepted quotes not yet converted into a work order or an invoice.
    """
    from .services import settings_for

    if not _may_bill(actor):
        return LeakageReport(days=days or 0)
    org = actor.organization
    settings = settings_for(org)
    days = settings.leakage_days if days is None else int(days)
    now = clock.now()
    report = LeakageReport(days=days)

    waiting = list(
        billable_work(actor=actor)
        .filter(closed_at__lt=now - timedelta(days=days))
        .order_by("closed_at", "id")
        .select_related("site", "client")
    )
    values = _estimates(org, settings, waiting) if estimate and waiting else {}
    for wo in waiting:
        value, currency, problem = values.get(wo.pk, (None, "", ""))
        report.unbilled.append(
            UnbilledWork(wo, wo.closed_at, (now - wo.closed_at).days, value, currency or org.currency, problem)
        )

    report.late_facts = _late_facts(actor)
    report.quotes_not_converted = (
        list(
            Quote.objects.filter(organization_id=org.pk, status=QuoteStatus.ACCEPTED, converted_at__isnull=True)
            .select_related("client")
            .order_by("decided_at", "id")
        )
        if actor.can("quotes.view")
        else []
    )
    return report


def _estimates(org, settings, work_orders: list[WorkOrder]) -> dict[int, tuple[Decimal | None, str, str]]:
    pricer = pricing.Pricer(org, settings, work_orders=work_orders)
    facts = pricing.load_facts([wo.pk for wo in work_orders])
    included = pricing.IncludedTime()
    values = {}
    for wo in work_orders:
        try:
            ctx, lines = pricing.price_work_order(pricer, wo, facts, included)
        except DomainError as exc:
            values[wo.pk] = (None, "", exc.message)
            continue
        values[wo.pk] = (sum((line.net_amount for line in lines), Decimal(0)), ctx.currency, "")
    return values


def _late_facts(actor: Actor) -> list[LateFact]:
    """Billable facts of invoiced work orders on no line that a credit note has not released."""
    lines = InvoiceLine.objects.filter(
        work_order=OuterRef("work_order_id"), released=False, invoice__document_type=DocumentType.INVOICE
    )
    invoiced_at = Subquery(
        lines.filter(invoice__status__in=ISSUED_STATES)
        .values("work_order")
        .annotate(first=Min("invoice__issued_at"))
        .values("first")[:1]
    )
    fixed_price = Exists(lines.filter(kind=LineKind.FIXED, charge=None))
    base = Q(
        organization_id=actor.organization_id,
        work_order__billing_status=BillingStatus.INVOICED,
        is_billable=True,
    )
    late = Q(is_fixed=False) | Q(created_at__gt=F("invoiced_at"))
    found: list[LateFact] = []
    entries = (
        TimeEntry.objects.filter(base, ended_at__isnull=False)
        .annotate(invoiced_at=invoiced_at, is_fixed=fixed_price)
        .filter(~Exists(InvoiceLine.objects.filter(time_entry=OuterRef("pk"), released=False)))
        .filter(late)
        .select_related("work_order", "technician")
    )
    for e in entries:
        found.append(LateFact("time", e.work_order, e.created_at, f"{e.duration_minutes} min · {e.technician}", e.pk))
    usages = (
        PartUsage.objects.filter(base)
        .annotate(invoiced_at=invoiced_at, is_fixed=fixed_price)
        .filter(~Exists(InvoiceLine.objects.filter(part_usage=OuterRef("pk"), released=False)))
        .filter(late)
        .select_related("work_order")
    )
    for u in usages:
        found.append(
            LateFact("part", u.work_order, u.created_at, f"{u.quantity.normalize():f} × {u.description}", u.pk)
        )
    found.sort(key=lambda f: (f.recorded_at, f.kind, f.fact_id))
    return found
