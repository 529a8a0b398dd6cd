"""Billing reads, always narrowed to what the actor may see.

Invoices: ``invoices.view``; client users see only their own client's issued invoices and credit notes
(never drafts). The work waiting to be invoiced and the revenue-leakage report are for the roles that
handle billing (``invoices.manage`` or ``work_orders.billing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum

from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.permissions import Actor, require
from fixflow.service.choices import BillingStatus
from fixflow.service.models import PartUsage, TimeEntry, WorkOrder

from . import pricing
from .choices import ISSUED_STATES, DocumentType, InvoiceStatus, LineKind, QuoteStatus
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
        .select_related("invoice", "work_order", "work_order__site", "contract", "part")
        .order_by("position", "id")
    )


def invoice_payments(*, actor: Actor, invoice: Invoice) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(invoice=invoice, organization_id=actor.organization_id)
        .select_related("invoice")
        .order_by("paid_on", "id")
    )


def invoice_draft_pdf(*, actor: Actor, invoice: Invoice) -> bytes:
    """A draft (already checked with :func:`invoice_get`) rendered as it would look if issued now, marked
    as a draft: the seller and buyer as issuing would take them today. Nothing is stored."""
    from .documents import pdf
    from .services import buyer_snapshot, seller_snapshot, settings_for

    if invoice.status != InvoiceStatus.DRAFT:
        raise DomainError(ErrorCode.CONFLICT, "An issued invoice has its own PDF; download that one.")
    invoice.seller = seller_snapshot(settings_for(actor.organization))
    invoice.buyer = buyer_snapshot(invoice.client, invoice=invoice)
    return pdf.render_preview(invoice)


def invoice_line_get(*, actor: Actor, pk) -> InvoiceLine:
    """A line of an invoice the actor may see, with its invoice; NOT_FOUND otherwise."""
    line = (
        InvoiceLine.objects.filter(invoice__in=invoice_queryset(actor=actor), pk=_as_id(pk))
        .select_related("invoice", "invoice__client")
        .first()
    )
    if line is None:
        raise not_found("Invoice line")
    return line


def invoice_payment_get(*, actor: Actor, pk) -> Payment:
    """A payment of an invoice the actor may see; NOT_FOUND otherwise."""
    payment = Payment.objects.filter(invoice__in=invoice_queryset(actor=actor), pk=_as_id(pk)).first()
    if payment is None:
        raise not_found("Payment")
    return payment


OPEN_STATES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
KINDS = {"invoice": DocumentType.INVOICE, "credit_note": DocumentType.CREDIT_NOTE}


@dataclass(frozen=True)
class InvoiceFilters:
    """The filters of the invoice list, shared by the page and the API (one definition for both).

    ``status``: any of the invoice states; ``kind``: ``invoice`` or ``credit_note``; ``date_from`` /
    ``date_to``: the issue date (drafts have none, so a date range leaves them out); ``overdue``: issued
    invoices with something still due after their due date; ``q``: the number or the client's name."""

    status: tuple[str, ...] = ()
    client_id: int | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    q: str = ""


def _today(actor: Actor) -> date:
    return clock.now().astimezone(actor.organization.tzinfo).date()


def invoice_list(*, actor: Actor, filters: InvoiceFilters | None = None) -> QuerySet[Invoice]:
    """The invoices and credit notes the actor may see, filtered; ``invoices.view`` (PERMISSION_DENIED
    otherwise, so a list is never silently empty for a role that may not read invoices)."""
    require(actor, "invoices.view")
    filters = filters or InvoiceFilters()
    qs = invoice_queryset(actor=actor).select_related("client")
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.client_id is not None:
        qs = qs.filter(client_id=filters.client_id)
    if filters.kind in KINDS:
        qs = qs.filter(document_type=KINDS[filters.kind])
    if filters.date_from is not None:
        qs = qs.filter(issue_date__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(issue_date__lte=filters.date_to)
    if filters.overdue:
        qs = qs.filter(
            document_type=DocumentType.INVOICE, status__in=OPEN_STATES, due_date__lt=_today(actor), amount_due__gt=0
        )
    q = (filters.q or "").strip()
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(client__name__icontains=q))
    return qs


@dataclass(frozen=True)
class CurrencyTotals:
    """The sums of a filtered invoice list in one currency (issued documents only; drafts counted apart)."""

    currency: str
    invoices: int
    invoiced: Decimal  # gross of issued invoices (380)
    credited: Decimal  # gross of issued credit notes (381)
    due: Decimal  # still due on issued invoices
    overdue: Decimal  # of which past the due date
    drafts: int
    drafts_net: Decimal


def invoice_totals(*, actor: Actor, queryset: QuerySet[Invoice]) -> list[CurrencyTotals]:
    """Totals per currency of an :func:`invoice_list` queryset (all of it, not one page), in two queries."""
    today = _today(actor)
    zero = Decimal(0)
    rows = (
        queryset.order_by()
        .values("currency")
        .annotate(
            invoices=Count("id", filter=Q(document_type=DocumentType.INVOICE, status__in=ISSUED_STATES)),
            invoiced=Sum("total_gross", filter=Q(document_type=DocumentType.INVOICE, status__in=ISSUED_STATES)),
            credited=Sum("total_gross", filter=Q(document_type=DocumentType.CREDIT_NOTE, status__in=ISSUED_STATES)),
            due=Sum("amount_due", filter=Q(document_type=DocumentType.INVOICE, status__in=OPEN_STATES)),
            overdue=Sum(
                "amount_due",
                filter=Q(document_type=DocumentType.INVOICE, status__in=OPEN_STATES, due_date__lt=today),
            ),
            drafts=Count("id", filter=Q(status=InvoiceStatus.DRAFT)),
            drafts_net=Sum("total_net", filter=Q(status=InvoiceStatus.DRAFT)),
        )
        .order_by("currency")
    )
    return [
        CurrencyTotals(
            currency=row["currency"],
            invoices=row["invoices"],
            invoiced=row["invoiced"] or zero,
            credited=row["credited"] or zero,
            due=row["due"] or zero,
            overdue=row["overdue"] or zero,
            drafts=row["drafts"],
            drafts_net=row["drafts_net"] or zero,
        )
        for row in rows
    ]


def is_overdue(invoice: Invoice, today: date) -> bool:
    return (
        invoice.document_type == DocumentType.INVOICE
        and invoice.status in OPEN_STATES
        and invoice.due_date is not None
        and invoice.due_date < today
        and invoice.amount_due > 0
    )


def invoice_credit_notes(*, actor: Actor, invoice: Invoice) -> QuerySet[Invoice]:
    """The credit notes of an invoice that the actor may see (client users: the issued ones)."""
    return invoice_queryset(actor=actor).filter(credited_invoice=invoice).order_by("created_at", "id")


def credit_left(*, invoice: Invoice) -> dict[int, Decimal]:
    """Per line of an issued invoice the quantity not yet on a credit note (issued or draft)."""
    lines = dict(invoice.lines.values_list("pk", "quantity"))
    done = dict(
        InvoiceLine.objects.filter(credited_line_id__in=list(lines), invoice__document_type=DocumentType.CREDIT_NOTE)
        .values("credited_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("credited_line_id", "total")
    )
    return {pk: quantity - done.get(pk, Decimal(0)) for pk, quantity in lines.items()}


def invoice_sendings(*, actor: Actor, invoice: Invoice) -> list[dict]:
    """Every time the invoice was e-mailed (newest first): ``{"at", "to", "by", "attachments"}``, from the
    change records :func:`services.invoice_send` writes."""
    from fixflow.core.models import ChangeRecord

    if not actor.can("invoices.manage"):
        return []
    records = ChangeRecord.objects.filter(
        organization_id=actor.organization_id,
        object_type=Invoice._meta.label_lower,
        object_id=str(invoice.pk),
        after__has_key="sent_to",
    ).select_related("actor")
    return [
        {
            "at": record.at,
            "to": record.after.get("sent_to", ""),
            "by": record.actor.full_name if record.actor else "",
            "attachments": record.after.get("attachments", []),
        }
        for record in records.order_by("-at", "-id")
    ]


def work_order_invoices(*, actor: Actor, work_order_id: int) -> list[Invoice]:
    """The invoices and credit notes with a line of this work order that the actor may see, oldest first."""
    if not actor.can("invoices.view"):
        return []
    ids = InvoiceLine.objects.filter(organization_id=actor.organization_id, work_order_id=work_order_id).values(
        "invoice_id"
    )
    return list(invoice_queryset(actor=actor).filter(pk__in=ids).order_by("created_at", "id"))


# ---------------------------------------------------------------------------------------------
# accounting export


@dataclass(frozen=True)
class AccountingRow:
    """One VAT line (a BG-23 group) of an issued invoice or credit note, for the accounting export. Amounts of
    credit notes are negative, so the column sums of a period are the revenue and the VAT of that period."""

    number: str
    document_type: str
    issue_date: date
    due_date: date | None
    client: str
    client_vat_id: str
    buyer_reference: str
    currency: str
    category: str
    rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    exemption_reason: str
    exemption_code: str
    credited_invoice: str
    status: str


def accounting_rows(*, actor: Actor, date_from: date, date_to: date):
    """The VAT lines of the issued invoices and credit notes dated within ``date_from`` … ``date_to``
    (inclusive), in the order they were issued; read from what was issued (the VAT breakdown and the buyer
    snapshot), never recomputed. ``invoices.manage`` (admins, accountants)."""
    require(actor, "invoices.manage")
    if date_to < date_from:
        raise validation("The end of the period lies before its start.", field="date_to")
    invoices = (
        Invoice.objects.filter(
            organization_id=actor.organization_id,
            status__in=ISSUED_STATES,
            issue_date__gte=date_from,
            issue_date__lte=date_to,
        )
        .select_related("credited_invoice")
        .order_by("issue_date", "issued_at", "id")
    )
    for invoice in invoices.iterator(chunk_size=500):
        sign = -1 if invoice.document_type == DocumentType.CREDIT_NOTE else 1
        buyer = invoice.buyer or {}
        for group in invoice.tax_breakdown or []:
            net, tax = Decimal(group["taxable"]), Decimal(group["tax"])
            yield AccountingRow(
                number=invoice.number or "",
                document_type=invoice.document_type,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                client=buyer.get("legal_name") or buyer.get("name", ""),
                client_vat_id=buyer.get("vat_id", ""),
                buyer_reference=invoice.buyer_reference or buyer.get("buyer_reference", ""),
                currency=invoice.currency,
                category=group["category"],
                rate=Decimal(group["rate"]),
                net=sign * net,
                tax=sign * tax,
                gross=sign * (net + tax),
                exemption_reason=group.get("exemption_reason", ""),
                exemption_code=group.get("exemption_code", ""),
                credited_invoice=(invoice.credited_invoice.number or "") if invoice.credited_invoice_id else "",
                status=invoice.status,
            )


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


@dataclass
class ClientPreview:
    """What “invoice closed work” would do for one client: its closed work orders waiting to be invoiced,
    those with something new to put on an invoice, and the net of the lines it would make per currency
    (``None`` when the estimate was skipped; ``problems`` name the work orders that cannot be priced)."""

    client_id: int
    client_name: str
    work_orders: int = 0
    with_new_lines: int = 0
    on_draft: int = 0
    net: dict[str, Decimal] | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class ClosedWorkPreview:
    clients: list[ClientPreview]
    estimated: bool  # False when there were too many work orders to price them for a preview

    @property
    def work_orders(self) -> int:
        return sum(c.work_orders for c in self.clients)

    @property
    def problems(self) -> list[str]:
        return [p for c in self.clients for p in c.problems]

    @property
    def clients_to_invoice(self) -> int:
        """The clients whose drafts would get lines (all clients shown when the estimate was skipped)."""
        if not self.estimated:
            return len(self.clients)
        return sum(1 for c in self.clients if c.with_new_lines or c.problems)


PREVIEW_ESTIMATE_LIMIT = 500


def closed_work_preview(
    *, actor: Actor, client_ids=None, until: date | None = None, estimate_limit: int = PREVIEW_ESTIMATE_LIMIT
) -> ClosedWorkPreview:
    """Per client, what “invoice closed work” would take (``invoices.manage``): counts always; the net of the
    lines it would make (priced as the run would price them: only facts on no invoice yet) when there are
    at most ``estimate_limit`` work orders. Nothing is written."""
    require(actor, "invoices.manage")
    work_orders = list(billable_work(actor=actor, client_ids=client_ids, until=until))
    clients: dict[int, ClientPreview] = {}
    for wo in work_orders:
        row = clients.setdefault(wo.client_id, ClientPreview(wo.client_id, wo.client.name))
        row.work_orders += 1
        row.on_draft += int(wo.is_on_draft)
    estimated = bool(work_orders) and len(work_orders) <= estimate_limit
    if estimated:
        org = actor.organization
        from .services import settings_for

        pricer = pricing.Pricer(org, settings_for(org), work_orders=work_orders)
        facts = pricing.load_facts([wo.pk for wo in work_orders])
        included = pricing.IncludedTime()
        for wo in work_orders:
            row = clients[wo.client_id]
            row.net = row.net if row.net is not None else {}
            try:
                ctx, lines = pricing.price_work_order(pricer, wo, facts, included)
            except DomainError as exc:
                row.problems.append(f"{wo.number}: {exc.message}")
                continue
            if lines:
                row.with_new_lines += 1
                row.net[ctx.currency] = row.net.get(ctx.currency, Decimal(0)) + sum(
                    (line.net_amount for line in lines), Decimal(0)
                )
    return ClosedWorkPreview(sorted(clients.values(), key=lambda c: c.client_name.lower()), estimated)


# ---------------------------------------------------------------------------------------------
# revenue leakage


@dataclass(frozen=True)
class UnbilledWork:
    """A closed billable work order nobody has invoiced after the leakage threshold, with what it is worth
    (its lines on a draft plus the lines “invoice closed work” would make now; None when its pricing is
    incomplete, ``problem`` then says why)."""

    work_order: WorkOrder
    closed_at: datetime
    days_waiting: int
    estimate: Decimal | None
    currency: str
    problem: str = ""
    is_on_draft: bool = False


@dataclass(frozen=True)
class LateFact:
    """Time, a part or a charge recorded on a work order after it was invoiced, and on no invoice, with the
    net a line for it would have now (None when it cannot be priced: a fixed price, a missing rate)."""

    kind: str  # "time", "part" or "charge"
    work_order: WorkOrder
    recorded_at: datetime
    description: str
    fact_id: int
    estimate: Decimal | None = None
    currency: str = ""
    problem: str = ""


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
      oldest first, with the value “invoice closed work” would give it now (``estimate``); work already
      on a draft counts until the draft is issued, valued with its draft lines;
    - billable time, parts or charges on an invoiced work order that are on no invoice: recorded after it
      was invoiced, or after its draft was made (for a fixed price, time and parts only count when they
      came after its invoice; charges are billed on top of a fixed price), each with its value;
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
            UnbilledWork(
                wo,
                wo.closed_at,
                (now - wo.closed_at).days,
                value,
                currency or org.currency,
                problem,
                bool(getattr(wo, "is_on_draft", False)),
            )
        )

    report.late_facts = _late_facts(actor, settings, estimate=estimate)
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
    """What each work order is worth: its lines already on a draft plus what its facts not on a line yet
    would be priced at now (the facts on a draft are taken, so pricing alone would miss them)."""
    from django.db.models import Sum

    pricer = pricing.Pricer(org, settings, work_orders=work_orders)
    facts = pricing.load_facts([wo.pk for wo in work_orders])
    included = pricing.IncludedTime()
    drafted_lines = (
        InvoiceLine.objects.filter(
            work_order__in=[wo.pk for wo in work_orders if getattr(wo, "is_on_draft", False)],
            released=False,
            invoice__status="draft",
            invoice__document_type=DocumentType.INVOICE,
        )
        .values("work_order_id", "invoice__currency")
        .annotate(total=Sum("net_amount"))
    )
    on_drafts = {row["work_order_id"]: (row["total"], row["invoice__currency"]) for row in drafted_lines}
    values = {}
    for wo in work_orders:
        drafted, draft_currency = on_drafts.get(wo.pk, (Decimal(0), ""))
        try:
            ctx, lines = pricing.price_work_order(pricer, wo, facts, included)
        except DomainError as exc:
            values[wo.pk] = (None, draft_currency, exc.message)
            continue
        if draft_currency and draft_currency != ctx.currency:
            values[wo.pk] = (None, ctx.currency, f"On a draft in {draft_currency}, priced in {ctx.currency} now.")
            continue
        values[wo.pk] = (drafted + sum((line.net_amount for line in lines), Decimal(0)), ctx.currency, "")
    return values


def _late_facts(actor: Actor, settings=None, *, estimate: bool = True) -> list[LateFact]:
    """Billable facts of invoiced work orders on no line that a credit note has not released: time and parts
    (after the first issued invoice only, when the work order was billed as a whole: a fixed price, or only
    manual lines) and charges (always: a fixed price does not include them), each with the value of its
    line(s) if it were invoiced now."""
    from .models import WorkOrderCharge

    lines = InvoiceLine.objects.filter(
        work_order=OuterRef("work_order_id"), released=False, invoice__document_type=DocumentType.INVOICE
    )
    invoiced_at = Subquery(
        lines.filter(invoice__status__in=ISSUED_STATES)
        .values("work_order")
        .annotate(first=Min("invoice__issued_at"))
        .values("first")[:1]
    )
    # billed as a whole: a fixed price, or only manual lines naming the work order (an amount agreed by
    # hand); then what was recorded before the invoice was part of that amount
    whole = lines.filter(charge=None, time_entry=None, part_usage=None)
    billed_as_a_whole = {
        "has_fixed": Exists(whole.filter(kind=LineKind.FIXED)),
        "has_manual": Exists(whole.filter(kind=LineKind.MANUAL)),
        "has_priced": Exists(lines.filter(Q(time_entry__isnull=False) | Q(part_usage__isnull=False))),
    }
    base = Q(
        organization_id=actor.organization_id,
        work_order__billing_status=BillingStatus.INVOICED,
        is_billable=True,
    )
    as_a_whole = Q(has_fixed=True) | Q(has_manual=True, has_priced=False)
    late = ~as_a_whole | Q(created_at__gt=F("invoiced_at"))
    found: list[LateFact] = []
    entries = (
        TimeEntry.objects.filter(base, ended_at__isnull=False)
        .annotate(invoiced_at=invoiced_at, **billed_as_a_whole)
        .filter(~Exists(InvoiceLine.objects.filter(time_entry=OuterRef("pk"), released=False)))
        .filter(late)
        .select_related("work_order__client", "work_order__site", "technician")
    )
    for e in entries:
        found.append(LateFact("time", e.work_order, e.created_at, f"{e.duration_minutes} min · {e.technician}", e.pk))
    usages = (
        PartUsage.objects.filter(base)
        .annotate(invoiced_at=invoiced_at, **billed_as_a_whole)
        .filter(~Exists(InvoiceLine.objects.filter(part_usage=OuterRef("pk"), released=False)))
        .filter(late)
        .select_related("work_order__client", "work_order__site")
    )
    for u in usages:
        found.append(
            LateFact("part", u.work_order, u.created_at, f"{u.quantity.normalize():f} × {u.description}", u.pk)
        )
    charges = (
        WorkOrderCharge.objects.filter(base)
        .filter(~Exists(InvoiceLine.objects.filter(charge=OuterRef("pk"), released=False)))
        .select_related("work_order__client", "work_order__site")
    )
    for c in charges:
        found.append(
            LateFact(
                "charge",
                c.work_order,
                c.created_at,
                f"{c.get_kind_display()} · {c.quantity.normalize():f} × {c.description}",
                c.pk,
            )
        )
    if estimate and found:
        from .report_selectors import price_late_facts

        found = price_late_facts(actor, settings, found)
    found.sort(key=lambda f: (f.recorded_at, f.kind, f.fact_id))
    return found
