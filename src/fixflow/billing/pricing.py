"""The ORM side of pricing: load what prices a work order (DOMAIN.md §4 rules 2-4) and call the pure maths.

A :class:`Pricer` is made once per organization and run (``invoice_closed_work``, a regeneration, the
leakage estimate). It loads the rates, technician rate classes, price list items, client billing
details, contracts and the overtime calendar in a handful of queries, then answers per work order
without touching the database again, so invoicing thousands of work orders costs the same few queries.

Resolution (rule 2), first present wins: the work order's override (``WorkOrderBilling`` rates, or the
prices of the quote it was converted from as an estimate) → the covering contract's price list → the
client's price list → the technician's rate class → the organization's default rate. A price list only
applies when it is in the invoice's currency. Parts (rule 4): price list price → catalogue sale price
(copied onto the part usage when it was recorded) → cost × (1 + markup).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import F, Sum

from fixflow.core.errors import validation
from fixflow.core.models import Organization
from fixflow.service.models import PartUsage, TimeEntry
from fixflow.sla import clock as sla_clock
from fixflow.sla import engine as sla_engine

from . import calculations as calc
from .choices import LineKind, RateKind
from .models import (
    BillingSettings,
    ClientBilling,
    InvoiceLine,
    PriceList,
    PriceListItem,
    QuoteLine,
    Rate,
    ServiceContract,
    TaxRate,
    TechnicianRateClass,
    WorkOrderBilling,
    WorkOrderCharge,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Tax:
    """The VAT a generated line copies (rule 2: price, cost and tax are copied onto the line)."""

    category: str
    rate: Decimal
    exemption_reason: str = ""
    exemption_code: str = ""

    @property
    def regime(self) -> str:
        """Lines of one regime may share an invoice (rule 6): domestic S/Z/E mix; AE, K, G, O stand alone."""
        return "domestic" if self.category in ("S", "Z", "E") else self.category

    @classmethod
    def of(cls, rate: TaxRate) -> Tax:
        return cls(rate.category, rate.rate, rate.exemption_reason, rate.exemption_code)


@dataclass(frozen=True)
class Price:
    price: Decimal
    cost: Decimal
    source: str


@dataclass
class WorkOrderPricing:
    """Everything that prices one work order, resolved once."""

    work_order: object
    currency: str
    tax: Tax
    billing: WorkOrderBilling | None
    contract: ServiceContract | None
    client_price_list: PriceList | None
    contract_price_list: PriceList | None
    quote_rates: dict[str, Decimal] = field(default_factory=dict)  # kind → price from an estimate quote
    quote_parts: dict[int, Decimal] = field(default_factory=dict)  # part id → price from an estimate quote

    @property
    def fixed_price(self) -> Decimal | None:
        return self.billing.fixed_price if self.billing is not None else None

    @property
    def group_key(self) -> tuple[int, str, str]:
        """One invoice per client, currency and tax regime (rule 6)."""
        return (self.work_order.client_id, self.currency, self.tax.regime)


class Pricer:
    """Prices of one organization, loaded once (see the module docstring)."""

    def __init__(self, organization: Organization, settings: BillingSettings, *, client_ids=None, work_orders=()):
        self.organization = organization
        self.settings = settings
        org_id = organization.pk
        self.rates: dict[tuple[int | None, int | None, str], Rate] = {
            (r.price_list_id, r.rate_class_id, r.kind): r for r in Rate.objects.filter(organization_id=org_id)
        }
        self.rate_class_of: dict[int, object] = {
            t.user_id: t.rate_class
            for t in TechnicianRateClass.objects.filter(organization_id=org_id).select_related("rate_class")
        }
        clients = {wo.client_id for wo in work_orders} if work_orders else client_ids
        billing_qs = ClientBilling.objects.filter(organization_id=org_id).select_related("price_list", "tax_rate")
        contract_qs = ServiceContract.objects.filter(organization_id=org_id, is_active=True).select_related(
            "price_list"
        )
        if clients is not None:
            billing_qs = billing_qs.filter(client_id__in=list(clients))
            contract_qs = contract_qs.filter(client_id__in=list(clients))
        self.client_billing: dict[int, ClientBilling] = {b.client_id: b for b in billing_qs}
        self.contracts: dict[int, list[ServiceContract]] = defaultdict(list)
        self.contract_sites: dict[int, set[int]] = {}
        self.contract_equipment: dict[int, set[int]] = {}
        self.contract_categories: dict[int, set[int]] = {}
        for c in contract_qs.prefetch_related("sites", "equipment", "covered_part_categories"):
            self.contracts[c.client_id].append(c)
            self._remember_contract(c)
        wo_ids = [wo.pk for wo in work_orders]
        self.wo_billing: dict[int, WorkOrderBilling] = {
            b.work_order_id: b
            for b in WorkOrderBilling.objects.filter(organization_id=org_id, work_order_id__in=wo_ids).select_related(
                "quote", "contract__price_list"
            )
        }
        for b in self.wo_billing.values():
            if b.contract_id and b.contract_id not in self.contract_sites:
                self._remember_contract(b.contract)
        quote_ids = [b.quote_id for b in self.wo_billing.values() if b.quote_id and b.fixed_price is None]
        self.quote_lines: dict[int, list[QuoteLine]] = defaultdict(list)
        for line in QuoteLine.objects.filter(quote_id__in=quote_ids).order_by("position", "id"):
            self.quote_lines[line.quote_id].append(line)
        self._items: dict[int, dict[int, Decimal]] = {}
        self._calendar: dict | None = None  # the overtime calendar's snapshot
        self._calendars: dict[str, sla_clock.Calendar] = {}  # … read in each site's zone
        self._calendar_loaded = False

    def _remember_contract(self, c: ServiceContract) -> None:
        self.contract_sites[c.pk] = {s.pk for s in c.sites.all()}
        self.contract_equipment[c.pk] = {e.pk for e in c.equipment.all()}
        self.contract_categories[c.pk] = {p.pk for p in c.covered_part_categories.all()}

    # --- per work order ---------------------------------------------------------------------

    def for_work_order(self, wo, *, on: date) -> WorkOrderPricing:
        """Currency, tax, contract and price lists of a work order whose work was done on ``on``."""
        cb = self.client_billing.get(wo.client_id)
        billing = self.wo_billing.get(wo.pk)
        currency = self._currency(cb, billing)
        contract = self.contract_for(wo, on=on, billing=billing)
        client_list = cb.price_list if cb is not None and cb.price_list_id else None
        contract_list = contract.price_list if contract is not None and contract.price_list_id else None
        ctx = WorkOrderPricing(
            work_order=wo,
            currency=currency,
            tax=self._tax(cb, wo),
            billing=billing,
            contract=contract,
            client_price_list=client_list if client_list and client_list.currency == currency else None,
            contract_price_list=contract_list if contract_list and contract_list.currency == currency else None,
        )
        if billing is not None and billing.quote_id and billing.fixed_price is None:
            for line in self.quote_lines.get(billing.quote_id, ()):
                if line.kind in (LineKind.LABOUR, LineKind.TRAVEL):
                    ctx.quote_rates.setdefault(line.kind, line.unit_price)
                elif line.kind == LineKind.PART and line.part_id:
                    ctx.quote_parts.setdefault(line.part_id, line.unit_price)
        return ctx

    def _currency(self, cb: ClientBilling | None, billing: WorkOrderBilling | None) -> str:
        """The quote's currency for work sold by a quote; else the client's; else its price list's; else
        the organization's."""
        if billing is not None and billing.quote_id:
            return billing.quote.currency
        if cb is not None and cb.currency:
            return cb.currency
        if cb is not None and cb.price_list_id:
            return cb.price_list.currency
        return self.organization.currency

    def _tax(self, cb: ClientBilling | None, wo) -> Tax:
        rate = cb.tax_rate if cb is not None and cb.tax_rate_id else self.settings.default_tax_rate
        if rate is None:
            raise validation(
                f"No tax rate for {wo.client}: set a default tax rate in the billing settings "
                "or a tax rate on the client's billing details.",
                field="default_tax_rate",
            )
        return Tax.of(rate)

    def contract_for(self, wo, *, on: date, billing: WorkOrderBilling | None = None) -> ServiceContract | None:
        """The contract covering a work order on a date: the one set on the work order, else the client's
        active contract valid that day that covers its equipment, else its site, else all its sites.
        Among equals the latest start wins. ``skip_contract`` on the work order applies none."""
        if billing is not None:
            if billing.skip_contract:
                return None
            if billing.contract_id:
                return billing.contract
        best, best_rank = None, None
        for c in self.contracts.get(wo.client_id, ()):
            if c.valid_from > on or (c.valid_until is not None and c.valid_until < on):
                continue
            sites, equipment = self.contract_sites[c.pk], self.contract_equipment[c.pk]
            if equipment and wo.equipment_id in equipment:
                rank = 3
            elif sites and wo.site_id in sites:
                rank = 2
            elif not sites and not equipment:
                rank = 1
            else:
                continue
            key = (rank, c.valid_from, -c.pk)
            if best_rank is None or key > best_rank:
                best, best_rank = c, key
        return best

    def covers_part(self, ctx: WorkOrderPricing, category_id: int | None) -> bool:
        """Whether the contract covers parts of this category (rule 4: 100 % discount)."""
        if ctx.contract is None or category_id is None:
            return False
        return category_id in self.contract_categories.get(ctx.contract.pk, ())

    # --- rates ------------------------------------------------------------------------------

    def labour_rate(self, ctx: WorkOrderPricing, kind: str, technician_id: int) -> Price:
        """The hourly price and cost of a labour or travel entry (rule 2). Where no travel rate exists at
        all, travel is priced as labour."""
        if kind == RateKind.TRAVEL and not self._has_travel_rate(ctx):
            kind = RateKind.LABOUR
        return self._rate(ctx, kind, technician_id)

    def _has_travel_rate(self, ctx: WorkOrderPricing) -> bool:
        if ctx.billing is not None and ctx.billing.travel_rate is not None:
            return True
        return RateKind.TRAVEL in ctx.quote_rates or any(key[2] == RateKind.TRAVEL for key in self.rates)

    def _rate(self, ctx: WorkOrderPricing, kind: str, technician_id: int) -> Price:
        rate_class = self.rate_class_of.get(technician_id)
        rc_id = rate_class.pk if rate_class is not None else None

        def on_list(price_list: PriceList | None) -> Rate | None:
            if price_list is None:
                return None
            found = self.rates.get((price_list.pk, rc_id, kind)) if rc_id else None
            return found or self.rates.get((price_list.pk, None, kind))

        by_class = self.rates.get((None, rc_id, kind)) if rc_id else None
        default = self.rates.get((None, None, kind))
        override = None
        if ctx.billing is not None:
            override = ctx.billing.travel_rate if kind == RateKind.TRAVEL else ctx.billing.labour_rate
        if override is None:
            override = ctx.quote_rates.get(kind)
        contract_rate = on_list(ctx.contract_price_list)
        client_rate = on_list(ctx.client_price_list)

        def candidate(rate: Rate | None, name: str) -> calc.RateCandidate | None:
            return calc.RateCandidate(rate.unit_price, rate.unit_cost, name) if rate is not None else None

        # an override is only a price: the cost of the hour comes from the next place that has one
        price, cost, source = calc.resolve_rate(
            kind,
            work_order_override=calc.RateCandidate(override) if override is not None else None,
            contract=candidate(contract_rate, ctx.contract.name if ctx.contract else ""),
            client_price_list=candidate(client_rate, ctx.client_price_list.name if ctx.client_price_list else ""),
            rate_class=candidate(by_class, rate_class.name if rate_class is not None else ""),
            default=candidate(default, ""),
        )
        return Price(price, cost, source)

    # --- parts and the call-out fee -----------------------------------------------------------

    def _list_items(self, price_list: PriceList | None) -> dict[int, Decimal]:
        if price_list is None:
            return {}
        items = self._items.get(price_list.pk)
        if items is None:
            items = dict(PriceListItem.objects.filter(price_list=price_list).values_list("part_id", "unit_price"))
            self._items[price_list.pk] = items
        return items

    def part_price(self, ctx: WorkOrderPricing, usage) -> Price:
        """The price of a part usage (rule 4): the quote's or a price list's price, else the catalogue sale
        price copied onto the usage, else its cost plus the markup."""
        list_price, list_name = None, ""
        if usage.part_id:
            list_price = ctx.quote_parts.get(usage.part_id)
            list_name = f"of quote {ctx.billing.quote.number}" if list_price is not None else ""
            for pl in (ctx.contract_price_list, ctx.client_price_list):
                if list_price is None and pl is not None:
                    list_price, list_name = self._list_items(pl).get(usage.part_id), pl.name
        markup = self.settings.parts_markup_percent
        for pl in (ctx.contract_price_list, ctx.client_price_list):
            if pl is not None and pl.parts_markup_percent is not None:
                markup = pl.parts_markup_percent
                break
        price, source = calc.part_price(
            list_price=list_price,
            sale_price=usage.unit_price,
            unit_cost=usage.unit_cost,
            markup_percent=markup,
            price_list_name=list_name,
        )
        return Price(price, calc.quantize_price(usage.unit_cost), source)

    def call_out_fee(self, ctx: WorkOrderPricing) -> Decimal:
        """The contract's or client's price list fee, else the organization's (0: none)."""
        for pl in (ctx.contract_price_list, ctx.client_price_list):
            if pl is not None and pl.call_out_fee is not None:
                return pl.call_out_fee
        return self.settings.call_out_fee

    # --- overtime ---------------------------------------------------------------------------

    def calendar(self, zone: str) -> sla_clock.Calendar | None:
        """The working hours outside which labour is overtime, at a site in ``zone`` (None: no overtime).

        The organization has one overtime calendar; its week (08:00–17:00 …) and holidays are read as the
        site's local time, so work at a New York site is not priced on Berlin office hours."""
        if not self._calendar_loaded:
            cal = self.settings.overtime_calendar
            self._calendar = sla_engine.calendar_snapshot(cal) if cal else None
            self._calendar_loaded = True
        if self._calendar is None:
            return None
        if zone not in self._calendars:
            self._calendars[zone] = sla_engine.calendar_from_snapshot({**self._calendar, "timezone": zone})
        return self._calendars[zone]


# ---------------------------------------------------------------------------------------------
# the billable facts of work orders, and the lines they become


@dataclass
class Facts:
    """The billable facts of some work orders that are on no invoice yet (rule 1: each invoiced once).

    A fact on a line that is not ``released`` (by a credit note) is taken, on a draft or an issued
    invoice alike; ``wo_level`` holds (work order, kind) of the call-out and fixed-price lines taken.
    """

    entries: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    usages: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    charges: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    wo_level: set[tuple[int, str]] = field(default_factory=set)
    has_time: set[int] = field(default_factory=set)  # work orders with billable time (a visit: call-out)
    call_out_recorded: set[int] = field(default_factory=set)  # a call-out charge replaces the automatic fee


def load_facts(work_orders) -> Facts:
    """Load the facts of ``work_orders`` (a queryset or a list of ids) in five queries."""
    taken = InvoiceLine.objects.filter(work_order__in=work_orders, released=False, invoice__document_type="380")
    taken_entries = set(taken.exclude(time_entry=None).values_list("time_entry_id", flat=True))
    taken_usages = set(taken.exclude(part_usage=None).values_list("part_usage_id", flat=True))
    taken_charges = set(taken.exclude(charge=None).values_list("charge_id", flat=True))
    facts = Facts()
    facts.wo_level = set(
        taken.filter(time_entry=None, part_usage=None, charge=None, kind__in=(LineKind.CALL_OUT, LineKind.FIXED))
        .values_list("work_order_id", "kind")
        .distinct()
    )
    # names and categories as plain columns: no User or Part objects for thousands of facts
    entries = (
        TimeEntry.objects.filter(work_order__in=work_orders, is_billable=True, ended_at__isnull=False)
        .annotate(technician_name=F("technician__full_name"), technician_email=F("technician__email"))
        .order_by("started_at", "id")
    )
    for entry in entries:
        facts.has_time.add(entry.work_order_id)
        if entry.pk not in taken_entries:
            facts.entries[entry.work_order_id].append(entry)
    usages = PartUsage.objects.filter(work_order__in=work_orders, is_billable=True).annotate(
        part_sku=F("part__sku"), part_category_id=F("part__category_id")
    )
    for usage in usages.order_by("created_at", "id"):
        if usage.pk not in taken_usages:
            facts.usages[usage.work_order_id].append(usage)
    charges = WorkOrderCharge.objects.filter(work_order__in=work_orders, is_billable=True)
    for charge in charges.order_by("incurred_on", "id"):
        if charge.kind == LineKind.CALL_OUT:
            facts.call_out_recorded.add(charge.work_order_id)
        if charge.pk not in taken_charges:
            facts.charges[charge.work_order_id].append(charge)
    return facts


class IncludedTime:
    """The included labour minutes of contracts per period, as used by earlier non-released invoice lines
    (drafts too, so two drafts never spend the same hours) and by the lines priced in this run."""

    def __init__(self) -> None:
        self._used: dict[tuple[int, date], int] = {}

    def _key(self, contract: ServiceContract, day: date) -> tuple[tuple[int, date], date]:
        start, end = calc.contract_period(contract.valid_from, contract.period, max(day, contract.valid_from))
        return (contract.pk, start), end

    def remaining(self, contract: ServiceContract, day: date) -> int:
        key, end = self._key(contract, day)
        if key not in self._used:
            used = InvoiceLine.objects.filter(
                contract=contract,
                released=False,
                invoice__document_type="380",
                service_date__gte=key[1],
                service_date__lt=end,
            ).aggregate(total=Sum("covered_minutes"))["total"]
            self._used[key] = used or 0
        return max(0, contract.included_labour_minutes - self._used[key])

    def take(self, contract: ServiceContract, day: date, minutes: int) -> None:
        key, _end = self._key(contract, day)
        self._used[key] = self._used.get(key, 0) + minutes


def local_date(instant, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def service_day(wo) -> date:
    """The date of service of a work order as a whole: completed (else closed), in the site's zone."""
    instant = wo.completed_at or wo.closed_at or wo.created_at
    return local_date(instant, wo.site.timezone)


def price_work_order(pricer: Pricer, wo, facts: Facts, included: IncludedTime) -> tuple[WorkOrderPricing, list]:
    """The invoice lines (unsaved, without invoice and position) of a work order's facts not invoiced yet.

    - A fixed price (``WorkOrderBilling.fixed_price``, e.g. from an accepted quote) is one line; the time
      and parts recorded are not priced (the line's detail sums them up; the work order being invoiced
      freezes them). Charges (expenses, fixed charges) are billed on top, as recorded.
    - Otherwise: a line per part of each time entry (rule 3: rounded per entry; normal time and overtime
      outside the overtime calendar; the contract's included time first, as 100 % discount lines naming
      the contract, rule 4), a line per part usage (rule 4; covered part categories at 100 % discount;
      dated when recorded, at the latest on the work order's date of service), a line per charge, and
      the call-out fee once per work order with billable time (100 % discount when the contract waives
      it; none when a call-out charge was recorded). The contract's discount applies to billed labour,
      travel and parts.
    Raises DomainError when a rate is missing or the currency cannot be invoiced.
    """
    day = service_day(wo)
    ctx = pricer.for_work_order(wo, on=day)
    calc.check_currency(ctx.currency)
    contract = ctx.contract
    zone = wo.site.timezone
    lines: list[InvoiceLine] = []

    def line(**kw) -> InvoiceLine:
        kw.setdefault("service_date", day)
        kw.setdefault("unit_cost", Decimal(0))
        kw.setdefault("discount_percent", Decimal(0))
        item = InvoiceLine(
            organization_id=wo.organization_id,
            work_order_id=wo.pk,
            tax_category=ctx.tax.category,
            tax_rate=ctx.tax.rate,
            exemption_reason=ctx.tax.exemption_reason,
            exemption_code=ctx.tax.exemption_code,
            **kw,
        )
        item.net_amount = calc.line_net(item.quantity, item.unit_price, item.discount_percent, ctx.currency)
        lines.append(item)
        return item

    discount = contract.discount_percent if contract is not None else Decimal(0)
    discount_reason = f"Contract {contract}: {discount.normalize():f} % discount" if discount else ""
    covered_reason = f"Covered by contract {contract}" if contract is not None else ""

    if ctx.fixed_price is not None:
        if (wo.pk, LineKind.FIXED) not in facts.wo_level:
            minutes = sum(e.duration_minutes or 0 for e in facts.entries.get(wo.pk, ()))
            parts = len(facts.usages.get(wo.pk, ()))
            quote = f" (quote {ctx.billing.quote.number})" if ctx.billing.quote_id else ""
            line(
                kind=LineKind.FIXED,
                description=f"{wo.number} · {wo.title}"[:500],
                detail=f"Fixed price{quote}; includes {calc.hours(minutes).normalize():f} h recorded and "
                f"{parts} part(s) used.",
                quantity=Decimal(1),
                unit="pc",
                unit_price=calc.quantize_price(ctx.fixed_price),
            )
    else:
        for entry in facts.entries.get(wo.pk, ()):
            _time_lines(pricer, ctx, entry, included, line, zone, discount, discount_reason, covered_reason)
        for usage in facts.usages.get(wo.pk, ()):
            price = pricer.part_price(ctx, usage)
            covered = pricer.covers_part(ctx, usage.part_category_id)
            line(
                kind=LineKind.PART,
                description=usage.description[:500],
                detail=usage.part_sku or "",
                quantity=usage.quantity,
                unit=usage.unit,
                unit_price=price.price,
                unit_cost=price.cost,
                discount_percent=Decimal(100) if covered else discount,
                discount_reason=covered_reason if covered else discount_reason,
                contract_id=contract.pk if (covered or discount) else None,
                part_id=usage.part_id,
                part_usage_id=usage.pk,
                service_date=min(local_date(usage.created_at, zone), day),
            )
    for charge in facts.charges.get(wo.pk, ()):
        waived = charge.kind == LineKind.CALL_OUT and contract is not None and contract.waives_call_out
        line(
            kind=charge.kind,
            description=charge.description[:500],
            quantity=charge.quantity,
            unit=charge.unit,
            unit_price=calc.quantize_price(charge.unit_price),
            unit_cost=calc.quantize_price(charge.unit_cost),
            discount_percent=Decimal(100) if waived else Decimal(0),
            discount_reason=f"Call-out waived by contract {contract}" if waived else "",
            contract_id=contract.pk if waived else None,
            charge_id=charge.pk,
            service_date=charge.incurred_on,
        )
    fee = pricer.call_out_fee(ctx)
    wants_call_out = (
        ctx.fixed_price is None
        and fee > 0
        and wo.pk in facts.has_time
        and wo.pk not in facts.call_out_recorded
        and (wo.pk, LineKind.CALL_OUT) not in facts.wo_level
    )
    if wants_call_out:
        waived = contract is not None and contract.waives_call_out
        line(
            kind=LineKind.CALL_OUT,
            description="Call-out fee",
            quantity=Decimal(1),
            unit="pc",
            unit_price=calc.quantize_price(fee),
            discount_percent=Decimal(100) if waived else Decimal(0),
            discount_reason=f"Call-out waived by contract {contract}" if waived else "",
            contract_id=contract.pk if waived else None,
        )
    return ctx, lines


def _time_lines(pricer, ctx, entry, included, line, zone, discount, discount_reason, covered_reason) -> None:
    settings = pricer.settings
    split = calc.labour_split(
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        duration_minutes=entry.duration_minutes,
        calendar=pricer.calendar(zone),
        minimum=settings.labour_minimum_minutes,
        increment=settings.labour_increment_minutes,
    )
    if split.billed_minutes == 0:
        return
    day = local_date(entry.started_at, zone)
    contract = ctx.contract
    covered = 0
    if (
        contract is not None
        and contract.included_labour_minutes
        and (entry.kind == RateKind.LABOUR or contract.covers_travel)
        and day >= contract.valid_from
    ):
        covered = calc.split_covered(split.billed_minutes, included.remaining(contract, day)).covered_minutes
        included.take(contract, day, covered)
    rate = pricer.labour_rate(ctx, entry.kind, entry.technician_id)
    parts = calc.labour_amounts(
        split,
        unit_price=rate.price,
        unit_cost=rate.cost,
        currency=ctx.currency,
        overtime_multiplier=settings.overtime_multiplier,
        covered_minutes=covered,
        discount_percent=discount,
    )
    zone_info = ZoneInfo(zone)
    start, end = entry.started_at.astimezone(zone_info), entry.ended_at.astimezone(zone_info)
    label = "Travel" if entry.kind == RateKind.TRAVEL else "Labour"
    technician = getattr(entry, "technician_name", None) or getattr(entry, "technician_email", None)
    technician = technician or str(entry.technician)
    when = (
        f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
        if start.date() == end.date()
        else f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"
    )
    for segment, part in enumerate(parts):
        overtime = f", overtime ×{settings.overtime_multiplier.normalize():f}" if part.is_overtime else ""
        line(
            kind=entry.kind,
            description=f"{label}{overtime} · {technician}"[:500],
            detail=f"{when} ({split.recorded_minutes} min recorded, {split.billed_minutes} min billed)",
            quantity=part.quantity,
            unit="h",
            unit_price=part.unit_price,
            unit_cost=part.unit_cost,
            discount_percent=part.discount_percent,
            discount_reason=covered_reason if part.is_covered else (discount_reason if discount else ""),
            contract_id=contract.pk if (part.is_covered or discount) else None,
            covered_minutes=part.minutes if part.is_covered else 0,
            billed_minutes=part.minutes,
            is_overtime=part.is_overtime,
            time_entry_id=entry.pk,
            segment=segment,
            service_date=day,
        )
