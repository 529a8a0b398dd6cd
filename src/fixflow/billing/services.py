"""Billing writes (DOMAIN.md §4): charges, invoicing closed work, drafts, issuing with gap-free numbers,
credit notes and payments. One function per write; every entrance (pages, API, admin, jobs) calls these.

Each function takes the acting user first, checks the capability (``invoices.manage`` for invoices and
payments, ``charges.record`` for charges), locks what it changes, runs in one transaction and raises
``DomainError`` when the action is refused (nothing is written then). Drafts carry a ``version``; pass
``expected_version`` to refuse an edit made on a stale copy (STALE_VERSION).

Who writes ``WorkOrder.billing_status``: ``service.services`` moves it between ``not_billable``,
``to_invoice`` and ``no_charge`` (closing, reopening, marking by hand); this module alone moves it to
``invoiced`` (when an invoice is issued) and back (when a credit note releases the work), in
:func:`_set_billing_status`, which writes the work order's BILLING event.

Numbers (rule 8): ``<series>-<year>-<n:05d>``, e.g. ``INV-2026-00042``: ``n`` counts per organization and
series and never resets (the year is the issue date's, for people reading it), so the series has no gaps
across years and one counter row (``InvoiceSeries``) is all that is locked.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum

from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.models import Organization
from fixflow.core.permissions import Actor, require
from fixflow.core.services import apply_changes, check_version
from fixflow.customers.models import Client
from fixflow.service.choices import BillingStatus, EventKind, Status
from fixflow.service.models import WorkOrder, WorkOrderEvent, WorkOrderHelper

from . import calculations as calc
from . import inputs, pricing
from .choices import ISSUED_STATES, ChargeKind, DocumentType, InvoiceStatus, LineKind, PaymentMethod
from .models import (
    BillingSettings,
    ClientBilling,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    Payment,
    TaxRate,
    WorkOrderCharge,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# ---------------------------------------------------------------------------------------------
# small helpers


_id = inputs.as_id
_text = inputs.text
_decimal = inputs.decimal
_date = inputs.as_date


def _today(organization: Organization) -> date:
    return clock.now().astimezone(organization.tzinfo).date()


def _frozen(invoice: Invoice) -> DomainError:
    what = "credit note" if invoice.document_type == DocumentType.CREDIT_NOTE else "invoice"
    return DomainError(
        ErrorCode.CONFLICT,
        f"The {what} {invoice.number} is issued: it cannot be changed; correct it with a credit note.",
    )


def _locked_invoice(actor: Actor, invoice_id, *, draft: bool = False) -> Invoice:
    """The invoice of the actor's organization, its row locked FOR UPDATE (not its client's); 404 otherwise.
    ``draft``: refuse an issued one with CONFLICT."""
    require(actor, "invoices.manage")
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("client", "organization")
        .filter(organization_id=actor.organization_id, pk=_id(invoice_id))
        .first()
    )
    if invoice is None:
        raise not_found("Invoice")
    if draft and invoice.status != InvoiceStatus.DRAFT:
        raise _frozen(invoice)
    return invoice


def _bump(invoice: Invoice, *fields: str) -> None:
    invoice.version += 1
    invoice.save(update_fields=["version", "updated_at", *fields])


# ---------------------------------------------------------------------------------------------
# settings and the seller/buyer snapshots


def settings_for(organization: Organization) -> BillingSettings:
    """The organization's billing settings, created with the defaults when missing."""
    found = BillingSettings.objects.filter(organization=organization).select_related("default_tax_rate").first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return BillingSettings.objects.create(organization=organization)
    except IntegrityError:  # created meanwhile by another request
        return BillingSettings.objects.select_related("default_tax_rate").get(organization=organization)


def seller_snapshot(settings: BillingSettings) -> dict[str, str]:
    """The seller (BG-4) as an issued invoice keeps it (format in the billing brief: all strings)."""
    org = settings.organization
    return {
        "name": org.name,
        "legal_name": settings.legal_name or org.name,
        "street": settings.street,
        "address_line_2": settings.address_line_2,
        "postcode": settings.postcode,
        "city": settings.city,
        "country": settings.country,
        "vat_id": settings.vat_id,
        "tax_number": settings.tax_number,
        "registration_id": settings.registration_id,
        "email": settings.email,
        "phone": settings.phone,
        "iban": settings.iban.replace(" ", ""),
        "bic": settings.bic,
        "bank_name": settings.bank_name,
        "logo_path": settings.logo.name if settings.logo else "",
    }


def buyer_snapshot(client: Client, *, invoice: Invoice | None = None) -> dict[str, str]:
    """The buyer (BG-7) as an issued invoice keeps it: the client's billing details, with the invoice's
    own buyer reference when it has one."""
    cb = ClientBilling.objects.filter(client=client).first()
    reference = (invoice.buyer_reference if invoice is not None else "") or (cb.buyer_reference if cb else "")
    return {
        "name": client.name,
        "legal_name": (cb.legal_name if cb else "") or client.name,
        "street": cb.street if cb else "",
        "address_line_2": cb.address_line_2 if cb else "",
        "postcode": cb.postcode if cb else "",
        "city": cb.city if cb else "",
        "country": cb.country if cb else "",
        "vat_id": client.vat_id,
        "buyer_reference": reference,
        "endpoint_scheme": cb.endpoint_scheme if cb else "",
        "endpoint_id": cb.endpoint_id if cb else "",
        "email": (cb.invoice_email if cb else "") or client.email,
    }


# ---------------------------------------------------------------------------------------------
# the billing status of work orders (the only writer of ``invoiced``)


def _set_billing_status(actor: Actor, work_orders, target: str, *, invoice: Invoice, reason: str = "") -> None:
    """Move locked work orders to ``target`` and write a BILLING event on each that changed."""
    now = clock.now()
    events = []
    for wo in work_orders:
        before = wo.billing_status
        if before == target:
            continue
        wo.billing_status = target
        wo.version += 1
        wo.save(update_fields=["billing_status", "version", "updated_at"])
        events.append(
            WorkOrderEvent(
                organization_id=wo.organization_id,
                work_order=wo,
                actor=actor.user,
                kind=EventKind.BILLING,
                reason=reason,
                data={"from": before, "to": target, "invoice": invoice.number, "invoice_id": invoice.pk},
                occurred_at=now,
                recorded_at=now,
            )
        )
    WorkOrderEvent.objects.bulk_create(events)


def _locked_work_orders(ids) -> list[WorkOrder]:
    """Work orders locked FOR UPDATE in id order (one order for every caller: no deadlocks)."""
    return list(WorkOrder.objects.select_for_update().filter(pk__in=set(ids)).order_by("id"))


# ---------------------------------------------------------------------------------------------
# charges recorded on work orders


def _charge_work_order(actor: Actor, work_order_id) -> WorkOrder:
    from fixflow.service.selectors import work_order_queryset

    require(actor, "charges.record")
    wo = work_order_queryset(actor=actor).select_for_update(of=("self",)).filter(pk=_id(work_order_id)).first()
    if wo is None:
        raise not_found("Work order")
    if not actor.can("work_orders.record_any"):
        assigned = wo.lead_technician_id == actor.user_id or (
            WorkOrderHelper.objects.filter(work_order=wo, user_id=actor.user_id).exists()
        )
        if not assigned:
            raise DomainError(
                ErrorCode.PERMISSION_DENIED, "Only the technicians assigned to this work order may record charges."
            )
    if wo.billing_status == BillingStatus.INVOICED:
        raise DomainError(
            ErrorCode.CONFLICT, "The work order has been invoiced: charges can no longer be changed; credit it first."
        )
    if wo.status == Status.CANCELLED:
        raise DomainError(ErrorCode.CONFLICT, "The work order is cancelled: nothing can be charged on it.")
    return wo


def _wo_event(actor: Actor, wo: WorkOrder, data: dict) -> None:
    now = clock.now()
    WorkOrderEvent.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        actor=actor.user,
        kind=EventKind.UPDATED,
        data=data,
        occurred_at=now,
        recorded_at=now,
    )
    wo.version += 1
    wo.save(update_fields=["version", "updated_at"])


@transaction.atomic
def charge_add(
    *,
    actor: Actor,
    work_order_id,
    description: str,
    unit_price,
    kind: str = ChargeKind.EXPENSE,
    quantity=1,
    unit: str = "pc",
    unit_cost=0,
    incurred_on: date | str | None = None,
    is_billable: bool = True,
    receipt_id=None,
) -> WorkOrderCharge:
    """Record a call-out fee, fixed charge or expense on a work order (``charges.record``; a technician
    only on work assigned to them). Locks the work order; refused once it is invoiced or cancelled.
    Writes an UPDATED event and bumps the work order's version."""
    from fixflow.service.models import Attachment

    wo = _charge_work_order(actor, work_order_id)
    if kind not in ChargeKind.values:
        raise validation(f"{kind!r} is not a kind of charge; use one of {', '.join(ChargeKind.values)}.", field="kind")
    receipt = None
    if receipt_id not in (None, ""):
        receipt = Attachment.objects.filter(organization_id=wo.organization_id, work_order=wo, pk=_id(receipt_id))
        receipt = receipt.first()
        if receipt is None:
            raise validation("The receipt must be a file attached to this work order.", field="receipt")
    charge = WorkOrderCharge.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        kind=kind,
        description=_text(description, "description", required=True, max_length=300),
        quantity=_decimal(quantity, "quantity", places=3, positive=True),
        unit=_text(unit, "unit", max_length=20) or "pc",
        unit_price=_decimal(unit_price, "unit_price"),
        unit_cost=_decimal(unit_cost or 0, "unit_cost"),
        incurred_on=_date(incurred_on, "incurred_on") or _today(actor.organization),
        is_billable=bool(is_billable),
        receipt=receipt,
        created_by=actor.user,
    )
    # the timeline shows UPDATED data as {what: [before, after]}
    _wo_event(actor, wo, {"charge": ["", f"{charge.get_kind_display()}: {charge.description}"]})
    return charge


@transaction.atomic
def charge_delete(*, actor: Actor, charge_id) -> None:
    """Remove a charge recorded by mistake; refused once invoiced (on a line that no credit note released)."""
    charge = WorkOrderCharge.objects.filter(organization_id=actor.organization_id, pk=_id(charge_id)).first()
    if charge is None:
        raise not_found("Charge")
    wo = _charge_work_order(actor, charge.work_order_id)
    line = charge.invoice_lines.filter(released=False).select_related("invoice").first()
    if line is not None and line.invoice.status == InvoiceStatus.DRAFT:
        raise DomainError(ErrorCode.CONFLICT, "This charge is on a draft invoice: remove its line there first.")
    if line is not None:
        raise DomainError(
            ErrorCode.CONFLICT, "This charge is invoiced: it can no longer be changed; credit the invoice first."
        )
    data = {"charge": [f"{charge.get_kind_display()}: {charge.description}", "removed"]}
    charge.delete()
    _wo_event(actor, wo, data)


# ---------------------------------------------------------------------------------------------
# invoicing closed work


def _regimes(categories: set[str]) -> set[str]:
    return {pricing.Tax(c, ZERO).regime for c in categories}


def _open_drafts(organization_id: int, client_ids) -> dict[tuple[int, str], list[tuple[Invoice, set[str]]]]:
    """Drafts (type 380) per (client, currency), oldest first, each with its lines' tax regimes; locked."""
    drafts = list(
        Invoice.objects.select_for_update()
        .filter(
            organization_id=organization_id,
            status=InvoiceStatus.DRAFT,
            document_type=DocumentType.INVOICE,
            client_id__in=client_ids,
        )
        .order_by("created_at", "id")
    )
    categories: dict[int, set[str]] = defaultdict(set)
    for invoice_id, category in (
        InvoiceLine.objects.filter(invoice__in=[d.pk for d in drafts])
        .values_list("invoice_id", "tax_category")
        .distinct()
    ):
        categories[invoice_id].add(category)
    found: dict[tuple[int, str], list[tuple[Invoice, set[str]]]] = defaultdict(list)
    for d in drafts:
        found[(d.client_id, d.currency)].append((d, _regimes(categories[d.pk])))
    return found


def _new_draft(actor: Actor, settings: BillingSettings, client_id: int, currency: str, cb: ClientBilling | None):
    return Invoice.objects.create(
        organization_id=actor.organization_id,
        document_type=DocumentType.INVOICE,
        series=settings.invoice_series,
        client_id=client_id,
        currency=currency,
        buyer_reference=cb.buyer_reference if cb else "",
        created_by=actor.user,
    )


def _recompute(invoice: Invoice) -> None:
    """Totals (BG-22), the VAT breakdown (BG-23) and the service period from the lines; bumps the version."""
    rows = list(
        invoice.lines.values_list(
            "net_amount", "tax_category", "tax_rate", "exemption_reason", "exemption_code", "service_date"
        )
    )
    lines = [calc.Line(net, category, rate, reason, code) for net, category, rate, reason, code, _day in rows]
    result = calc.totals(lines, invoice.currency, paid=invoice.amount_paid)
    invoice.total_net = result.total_net
    invoice.total_tax = result.total_tax
    invoice.total_gross = result.total_gross
    invoice.amount_due = result.amount_due
    invoice.tax_breakdown = result.breakdown_json()
    dates = [row[5] for row in rows if row[5]]
    invoice.service_from = min(dates) if dates else None
    invoice.service_until = max(dates) if dates else None
    _bump(
        invoice, "total_net", "total_tax", "total_gross", "amount_due", "tax_breakdown", "service_from", "service_until"
    )


def _calc_line(line: InvoiceLine) -> calc.Line:
    return calc.Line(
        net=line.net_amount,
        category=line.tax_category,
        rate=line.tax_rate,
        exemption_reason=line.exemption_reason,
        exemption_code=line.exemption_code,
        label=line.description[:60],
    )


def billable_work_orders(organization_id: int, *, client_ids=None, until: date | None = None, tz=None):
    """Closed, billable work orders waiting to be invoiced (``to_invoice``); completed work that nobody has
    reviewed and closed yet is not invoiced. ``until``: closed on or before that local date."""
    qs = WorkOrder.objects.filter(
        organization_id=organization_id,
        status=Status.CLOSED,
        billing_status=BillingStatus.TO_INVOICE,
        is_billable=True,
    )
    if client_ids is not None:
        qs = qs.filter(client_id__in=client_ids)
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=tz)
        qs = qs.filter(closed_at__lt=end)
    return qs


def _client_ids(actor: Actor, client_ids) -> list[int] | None:
    if client_ids is None:
        return None
    if isinstance(client_ids, int | str):
        client_ids = [client_ids]
    ids = {_id(c) for c in client_ids}
    if None in ids:
        raise validation("Unknown client.", field="client_ids")
    found = set(Client.objects.filter(organization_id=actor.organization_id, pk__in=ids).values_list("pk", flat=True))
    if found != ids:
        raise validation("Unknown client.", field="client_ids")
    return sorted(ids)


@transaction.atomic
def invoice_closed_work(*, actor: Actor, client_ids=None, until: date | str | None = None) -> list[Invoice]:
    """Turn the closed work waiting to be invoiced into draft invoices: for the given clients or all.

    One draft per client, currency and tax regime (rule 6); an open draft of the same client, currency and
    regime is extended rather than a second one made. Lines are priced by :func:`pricing.price_work_order`
    (rules 2-4), each naming its work order and date of service. Running it again adds nothing for facts
    already on a line that no credit note released (the partial unique indexes of ``InvoiceLine`` guard it
    in the database; the work orders are locked FOR UPDATE, in id order, so two runs at once wait for each
    other). Work orders keep ``to_invoice`` until their invoice is issued.

    Returns the drafts that received lines, oldest first. Refused (nothing written) with VALIDATION when
    a rate or tax rate is missing or a currency cannot be invoiced (the error names the work order).
    """
    require(actor, "invoices.manage")
    org = actor.organization
    ids = _client_ids(actor, client_ids)
    until = _date(until, "until")
    _lock_drafts(org.pk, ids)
    candidates = billable_work_orders(org.pk, client_ids=ids, until=until, tz=org.tzinfo)
    locked = list(candidates.select_for_update().order_by("id").values_list("id", flat=True))
    return _invoice_work_orders(actor, locked)


def _lock_drafts(organization_id: int, client_ids=None) -> None:
    """Lock the open drafts (type 380) of the clients, in id order. Lock order everywhere: invoices, then
    work orders, then the series row — so a run, an issue and a regeneration never deadlock."""
    qs = Invoice.objects.select_for_update().filter(
        organization_id=organization_id, status=InvoiceStatus.DRAFT, document_type=DocumentType.INVOICE
    )
    if client_ids is not None:
        qs = qs.filter(client_id__in=client_ids)
    list(qs.order_by("id").values_list("id", flat=True))


def _invoice_work_orders(actor: Actor, wo_ids: list[int], *, into: Invoice | None = None) -> list[Invoice]:
    if not wo_ids:
        return []
    org = actor.organization
    settings = settings_for(org)
    work_orders = list(
        WorkOrder.objects.filter(pk__in=wo_ids)
        .select_related("site", "client")
        .order_by("client_id", "closed_at", "id")
    )
    pricer = pricing.Pricer(org, settings, work_orders=work_orders)
    facts = pricing.load_facts(wo_ids)
    included = pricing.IncludedTime()
    drafts = _open_drafts(org.pk, {wo.client_id for wo in work_orders})
    if into is not None:
        drafts[(into.client_id, into.currency)].insert(0, (into, set()))
    chosen: dict[tuple[int, str, str], Invoice] = {}
    new_lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    invoices: dict[int, Invoice] = {}
    for wo in work_orders:
        try:
            ctx, lines = pricing.price_work_order(pricer, wo, facts, included)
        except DomainError as exc:  # name the work order: the run covers many
            raise DomainError(
                exc.code, f"{wo.number} ({wo.client}): {exc.message}", field=exc.field, details=exc.details
            ) from exc
        if not lines:
            continue
        key = ctx.group_key
        invoice = chosen.get(key)
        if invoice is None:
            for draft, regimes in drafts.get((wo.client_id, ctx.currency), ()):
                if not regimes or ctx.tax.regime in regimes:
                    invoice = draft
                    regimes.add(ctx.tax.regime)
                    break
            if invoice is None:
                invoice = _new_draft(
                    actor, settings, wo.client_id, ctx.currency, pricer.client_billing.get(wo.client_id)
                )
                drafts[(wo.client_id, ctx.currency)].append((invoice, {ctx.tax.regime}))
            chosen[key] = invoice
        invoices[invoice.pk] = invoice
        new_lines[invoice.pk].extend(lines)
    last_positions = dict(
        InvoiceLine.objects.filter(invoice_id__in=list(new_lines))
        .values("invoice_id")
        .annotate(last=Max("position"))
        .values_list("invoice_id", "last")
    )
    everything = []
    for invoice_id, lines in new_lines.items():
        position = last_positions.get(invoice_id, 0) + 1
        for offset, line in enumerate(lines):
            line.invoice_id = invoice_id
            line.position = position + offset
        everything.extend(lines)
    try:
        with transaction.atomic():
            InvoiceLine.objects.bulk_create(everything, batch_size=1000)
    except IntegrityError as exc:
        raise DomainError(
            ErrorCode.CONFLICT,
            "Some of this work was put on an invoice at the same moment; run “invoice closed work” again.",
        ) from exc
    for invoice in invoices.values():
        _recompute(invoice)
    return sorted(invoices.values(), key=lambda i: (i.created_at, i.pk))


# ---------------------------------------------------------------------------------------------
# editing drafts


DRAFT_FIELDS = ("due_date", "note", "buyer_reference", "order_reference", "payment_terms")


@transaction.atomic
def invoice_update(*, actor: Actor, invoice_id, data: dict[str, Any], expected_version: int | None = None) -> Invoice:
    """Change a draft's due date, note, buyer/order reference or payment terms. Refused once issued."""
    invoice = _locked_invoice(actor, invoice_id, draft=True)
    check_version(invoice, expected_version)
    data = dict(data)
    if "due_date" in data:
        data["due_date"] = _date(data["due_date"], "due_date")
    for name, limit in (("note", 5000), ("buyer_reference", 100), ("order_reference", 100), ("payment_terms", 300)):
        if name in data:
            data[name] = _text(data[name], name, max_length=limit)
    changed = apply_changes(invoice, data, DRAFT_FIELDS)
    if changed:
        _bump(invoice, *changed)
    return invoice


def _tax_for(actor: Actor, invoice: Invoice, tax_rate_id) -> TaxRate:
    if tax_rate_id not in (None, ""):
        rate = TaxRate.objects.filter(organization_id=actor.organization_id, pk=_id(tax_rate_id)).first()
        if rate is None:
            raise validation("Unknown tax rate.", field="tax_rate")
        return rate
    cb = ClientBilling.objects.filter(client_id=invoice.client_id).select_related("tax_rate").first()
    rate = cb.tax_rate if cb is not None and cb.tax_rate_id else settings_for(actor.organization).default_tax_rate
    if rate is None:
        raise validation("Choose a tax rate (there is no default in the billing settings).", field="tax_rate")
    return rate


def _line_values(actor: Actor, invoice: Invoice, data: dict[str, Any], line: InvoiceLine) -> list[str]:
    """Apply validated manual-line input to ``line``; returns the changed field names."""
    changed = []

    def put(name, value):
        if getattr(line, name) != value:
            setattr(line, name, value)
            changed.append(name)

    unknown = set(data) - set(LINE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise validation(f"Unknown or read-only field: {name}.", field=name)
    if "description" in data:
        put("description", _text(data["description"], "description", required=True, max_length=500))
    if "detail" in data:
        put("detail", _text(data["detail"], "detail", max_length=2000))
    if "quantity" in data:
        put("quantity", _decimal(data["quantity"], "quantity", positive=True))
    if "unit" in data:
        put("unit", _text(data["unit"], "unit", max_length=20) or "pc")
    if "unit_price" in data:
        put("unit_price", _decimal(data["unit_price"], "unit_price", minimum=None))
    if "discount_percent" in data:
        percent = _decimal(data["discount_percent"] or 0, "discount_percent", places=2)
        if percent > HUNDRED:
            raise validation("A discount is between 0 and 100 %.", field="discount_percent")
        put("discount_percent", percent)
    if "discount_reason" in data:
        put("discount_reason", _text(data["discount_reason"], "discount_reason", max_length=200))
    if "service_date" in data:
        put("service_date", _date(data["service_date"], "service_date"))
    if "work_order_id" in data:
        wo_id = data["work_order_id"]
        wo = None
        if wo_id not in (None, ""):
            wo = WorkOrder.objects.filter(
                organization_id=actor.organization_id, client_id=invoice.client_id, pk=_id(wo_id)
            ).first()
            if wo is None:
                raise validation("Choose a work order of this client.", field="work_order")
        put("work_order_id", wo.pk if wo else None)
    if "tax_rate_id" in data or line.pk is None:
        rate = _tax_for(actor, invoice, data.get("tax_rate_id"))
        put("tax_category", rate.category)
        put("tax_rate", rate.rate)
        put("exemption_reason", rate.exemption_reason)
        put("exemption_code", rate.exemption_code)
    if line.discount_percent and not line.discount_reason:
        raise validation("Say why the line is discounted.", field="discount_reason")
    net = calc.line_net(line.quantity, line.unit_price, line.discount_percent, invoice.currency)
    put("net_amount", net)
    return changed


LINE_FIELDS = (
    "description",
    "detail",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "discount_reason",
    "service_date",
    "work_order_id",
    "tax_rate_id",
)


def _draft_invoice_of_kind(actor: Actor, invoice_id) -> Invoice:
    invoice = _locked_invoice(actor, invoice_id, draft=True)
    if invoice.document_type != DocumentType.INVOICE:
        raise DomainError(
            ErrorCode.CONFLICT, "The lines of a credit note come from the invoice it credits; recreate it instead."
        )
    return invoice


@transaction.atomic
def invoice_line_add(
    *, actor: Actor, invoice_id, data: dict[str, Any], expected_version: int | None = None
) -> InvoiceLine:
    """Add a manual line to a draft invoice: ``description``, ``quantity``, ``unit_price`` and optionally
    ``unit``, ``detail``, ``discount_percent`` + ``discount_reason``, ``service_date``, ``work_order_id``
    (of this client) and ``tax_rate_id`` (default: the client's, else the organization's tax rate).
    Prices and the tax are copied onto the line. Refused on issued invoices and on credit notes."""
    invoice = _draft_invoice_of_kind(actor, invoice_id)
    check_version(invoice, expected_version)
    for name in ("description", "quantity", "unit_price"):
        if data.get(name) in (None, ""):
            raise validation(f"The {name.replace('_', ' ')} is required.", field=name)
    position = (invoice.lines.aggregate(last=Max("position"))["last"] or 0) + 1
    line = InvoiceLine(
        organization_id=invoice.organization_id, invoice=invoice, kind=LineKind.MANUAL, position=position
    )
    _line_values(actor, invoice, data, line)
    line.save()
    _recompute(invoice)
    return line


def _locked_line(actor: Actor, line_id) -> tuple[InvoiceLine, Invoice]:
    line = InvoiceLine.objects.filter(organization_id=actor.organization_id, pk=_id(line_id)).first()
    if line is None:
        require(actor, "invoices.manage")
        raise not_found("Invoice line")
    invoice = _draft_invoice_of_kind(actor, line.invoice_id)
    return line, invoice


@transaction.atomic
def invoice_line_update(
    *, actor: Actor, line_id, data: dict[str, Any], expected_version: int | None = None
) -> InvoiceLine:
    """Change a line of a draft (the fields of :func:`invoice_line_add`). A generated line keeps the fact
    it bills; regenerating the draft prices it afresh. ``expected_version`` is the invoice's."""
    line, invoice = _locked_line(actor, line_id)
    check_version(invoice, expected_version)
    changed = _line_values(actor, invoice, data, line)
    if changed:
        line.save(update_fields=changed)
        _recompute(invoice)
    return line


@transaction.atomic
def invoice_line_remove(*, actor: Actor, line_id, expected_version: int | None = None) -> None:
    """Remove a line from a draft. A generated line's fact becomes free again: the next “invoice closed
    work” puts it back (mark the time or part not billable to leave it out for good)."""
    line, invoice = _locked_line(actor, line_id)
    check_version(invoice, expected_version)
    line.delete()
    _recompute(invoice)


@transaction.atomic
def invoice_regenerate(*, actor: Actor, invoice_id, expected_version: int | None = None) -> Invoice:
    """Drop a draft's generated lines and price its work orders afresh (new rates, new facts, corrected
    contracts); manual lines stay. Work orders no longer waiting to be invoiced (reopened, marked no
    charge) drop out. Returns the draft (it may have no lines left)."""
    require(actor, "invoices.manage")
    found = Invoice.objects.filter(organization_id=actor.organization_id, pk=_id(invoice_id)).first()
    if found is not None:
        _lock_drafts(actor.organization_id, [found.client_id])
    invoice = _draft_invoice_of_kind(actor, invoice_id)
    check_version(invoice, expected_version)
    generated = invoice.lines.exclude(kind=LineKind.MANUAL)
    wo_ids = set(generated.exclude(work_order=None).values_list("work_order_id", flat=True))
    generated.delete()
    if wo_ids:
        waiting = billable_work_orders(actor.organization_id).filter(pk__in=wo_ids)
        locked = list(waiting.select_for_update().order_by("id").values_list("id", flat=True))
        _invoice_work_orders(actor, locked, into=invoice)
    invoice.refresh_from_db()
    _recompute(invoice)
    return invoice


@transaction.atomic
def invoice_delete(*, actor: Actor, invoice_id, expected_version: int | None = None) -> None:
    """Delete a draft with its lines; the facts on it become free again. Issued invoices are never
    deleted (the model and queryset refuse it too)."""
    invoice = _locked_invoice(actor, invoice_id, draft=True)
    check_version(invoice, expected_version)
    invoice.lines.all().delete()
    invoice.delete()


# ---------------------------------------------------------------------------------------------
# issuing


@dataclass(frozen=True)
class Documents:
    pdf: bytes
    xml_cii: bytes
    xml_ubl: bytes


def _render_documents(invoice: Invoice) -> Documents:
    """Render the PDF (PDF/A-3b with the CII embedded), the CII and the UBL of an invoice that has its
    number, dates, snapshots and totals. Each XML is validated (XSD + EN 16931 schematron) before the PDF
    is made; a failure raises DomainError VALIDATION naming the rule, which rolls the issue back."""
    from fixflow.billing.documents import cii, pdf, terms, ubl, validate

    data = terms.build(invoice)
    xml_cii = cii.render(data)
    validate.check_cii(xml_cii)
    xml_ubl = ubl.render(data)
    validate.check_ubl(xml_ubl)
    return Documents(pdf=pdf.render_invoice(invoice, xml_cii), xml_cii=xml_cii, xml_ubl=xml_ubl)


def _check_issuable_total(invoice: Invoice, lines: list[InvoiceLine], gross: Decimal) -> None:
    """An invoice (or credit note) must be worth more than 0 — except when every line is given away at
    100 % discount (contract-covered work): that document records the included time it used up."""
    if gross > 0:
        return
    if gross == 0 and all(line.discount_percent == HUNDRED for line in lines):
        return
    what = "credit note" if invoice.document_type == DocumentType.CREDIT_NOTE else "invoice"
    raise validation(f"The total of the {what} must be more than 0 (it is {gross} {invoice.currency}).", field="lines")


def _lock_work_orders_for_issue(invoice: Invoice, lines: list[InvoiceLine]) -> list[WorkOrder]:
    """Lock the work orders of an invoice's lines; a generated line's work order must still be waiting to
    be invoiced (or be invoiced already, by another invoice of the same work)."""
    wo_ids = {line.work_order_id for line in lines if line.work_order_id}
    work_orders = _locked_work_orders(wo_ids)
    generated = {line.work_order_id for line in lines if line.work_order_id and line.kind != LineKind.MANUAL}
    for wo in work_orders:
        if wo.pk in generated and wo.billing_status not in (BillingStatus.TO_INVOICE, BillingStatus.INVOICED):
            raise DomainError(
                ErrorCode.CONFLICT,
                f"{wo.number} is no longer waiting to be invoiced ({wo.get_billing_status_display().lower()}, "
                f"{wo.get_status_display().lower()}); regenerate the draft.",
                field="lines",
            )
    return work_orders


def _file_name(invoice: Invoice, suffix: str) -> str:
    return f"{invoice.organization_id}/{re.sub(r'[^A-Za-z0-9._-]+', '-', invoice.number)}{suffix}"


@transaction.atomic
def invoice_issue(
    *, actor: Actor, invoice_id, issue_date: date | str | None = None, expected_version: int | None = None
) -> Invoice:
    """Issue a draft invoice or credit note: the legal number, the snapshots, the documents, frozen.

    In one transaction: locks the draft, then its work orders (id order), then the series' counter row
    (``InvoiceSeries``, SELECT … FOR UPDATE, created on first use), so concurrent issues in one series
    queue on that row and get consecutive numbers. Refused (VALIDATION/CONFLICT, nothing written) when the
    draft has no lines, its total is not above 0, the currency has 3 decimals, the VAT is wrong for
    EN 16931 (e.g. reverse charge without the client's VAT id), the issue date lies in the future or
    before the series' last issue date (dates never go backwards), or a work order was reopened. The
    documents are rendered and their XML validated after the number is taken: a failure rolls everything
    back and the number is used by the next issue (no gaps). Then: an invoice's work orders become
    ``invoiced``; a credit note releases the lines it fully credits (their facts can be invoiced again;
    their work orders go back to ``to_invoice``) and marks the original ``credited`` when nothing is left.
    """
    invoice = _locked_invoice(actor, invoice_id, draft=True)
    check_version(invoice, expected_version)
    org = actor.organization
    settings = settings_for(org)
    is_credit = invoice.document_type == DocumentType.CREDIT_NOTE
    calc.check_currency(invoice.currency)
    lines = list(invoice.lines.order_by("position", "id"))
    if not lines:
        raise validation("An invoice needs at least one line.", field="lines")
    today = _today(org)
    issue_date = _date(issue_date, "issue_date") or today
    if issue_date > today:
        raise validation("An invoice cannot be dated in the future.", field="issue_date")
    if is_credit:  # locked now, released after the number is taken (lock order: work orders, then series)
        _locked_work_orders({line.work_order_id for line in lines if line.work_order_id})
        original = Invoice.objects.select_for_update().get(pk=invoice.credited_invoice_id)
        _check_credit_quantities(lines, issued_only=True)
    else:
        work_orders = _lock_work_orders_for_issue(invoice, lines)
    seller = seller_snapshot(settings)
    buyer = buyer_snapshot(invoice.client, invoice=invoice)
    calc_lines = [_calc_line(line) for line in lines]
    calc.check_tax(
        calc_lines, buyer_vat_id=buyer["vat_id"], seller_vat_id=seller["vat_id"], seller_tax_number=seller["tax_number"]
    )
    result = calc.totals(calc_lines, invoice.currency)
    _check_issuable_total(invoice, lines, result.total_gross)
    if invoice.due_date is not None and invoice.due_date < issue_date:
        raise validation("The due date lies before the invoice date.", field="due_date")

    # the number: the series row stays locked until this transaction ends
    code = settings.credit_note_series if is_credit else settings.invoice_series
    series, _created = InvoiceSeries.objects.select_for_update().get_or_create(organization_id=org.pk, code=code)
    if series.last_issue_date is not None and issue_date < series.last_issue_date:
        raise validation(
            f"The series {code} has invoices dated {series.last_issue_date:%Y-%m-%d}; dates never go backwards "
            "within a series.",
            field="issue_date",
        )
    series.last_number += 1
    series.last_issue_date = issue_date
    series.save(update_fields=["last_number", "last_issue_date"])

    cb = ClientBilling.objects.filter(client_id=invoice.client_id).first()
    terms_days = cb.payment_terms_days if cb is not None and cb.payment_terms_days is not None else None
    terms_days = settings.payment_terms_days if terms_days is None else terms_days
    invoice.series = code
    invoice.number = f"{code}-{issue_date.year}-{series.last_number:05d}"
    invoice.issue_date = issue_date
    invoice.due_date = invoice.due_date or issue_date + timedelta(days=terms_days)
    if is_credit:  # nothing to pay: the credit note's own terms (documents.terms.CREDIT_NOTE_TERMS) apply
        from .documents.terms import CREDIT_NOTE_TERMS

        invoice.payment_terms = invoice.payment_terms or CREDIT_NOTE_TERMS
    else:
        invoice.payment_terms = (
            invoice.payment_terms
            or settings.payment_terms_note
            or (f"Payable within {terms_days} days without deduction." if terms_days else "Payable on receipt.")
        )
    invoice.buyer_reference = buyer["buyer_reference"]
    invoice.seller, invoice.buyer = seller, buyer
    invoice.total_net, invoice.total_tax, invoice.total_gross = result.total_net, result.total_tax, result.total_gross
    invoice.tax_breakdown = result.breakdown_json()
    invoice.amount_paid, invoice.amount_due = ZERO, result.amount_due
    invoice.issued_at, invoice.issued_by = clock.now(), actor.user
    invoice.save()  # still a draft, now with its number: the documents read it from here

    documents = _render_documents(invoice)
    invoice.pdf.save(_file_name(invoice, ".pdf"), ContentFile(documents.pdf), save=False)
    invoice.xml_cii.save(_file_name(invoice, "-cii.xml"), ContentFile(documents.xml_cii), save=False)
    invoice.xml_ubl.save(_file_name(invoice, "-ubl.xml"), ContentFile(documents.xml_ubl), save=False)
    invoice.pdf_sha256 = hashlib.sha256(documents.pdf).hexdigest()
    invoice.xml_sha256 = hashlib.sha256(documents.xml_cii).hexdigest()
    invoice.status = InvoiceStatus.ISSUED if is_credit else calc.payment_status(result.total_gross, ZERO)
    invoice.version += 1
    invoice.save()

    if is_credit:
        _apply_credit(actor, invoice, lines, original)
    else:
        _set_billing_status(actor, work_orders, BillingStatus.INVOICED, invoice=invoice)
    return invoice


# ---------------------------------------------------------------------------------------------
# credit notes


def _credited_quantities(line_ids, *, issued_only: bool, exclude_invoice: int | None = None) -> dict[int, Decimal]:
    qs = InvoiceLine.objects.filter(credited_line_id__in=line_ids, invoice__document_type=DocumentType.CREDIT_NOTE)
    if issued_only:
        qs = qs.filter(invoice__status__in=ISSUED_STATES)
    if exclude_invoice is not None:
        qs = qs.exclude(invoice_id=exclude_invoice)
    return {
        row["credited_line_id"]: row["total"] for row in qs.values("credited_line_id").annotate(total=Sum("quantity"))
    }


def _check_credit_quantities(lines: list[InvoiceLine], *, issued_only: bool) -> None:
    """A credit note credits no line beyond its quantity (issued credit notes count; drafts too on creation)."""
    originals = {o.pk: o for o in InvoiceLine.objects.filter(pk__in=[line.credited_line_id for line in lines])}
    invoice_id = lines[0].invoice_id if lines else None
    done = _credited_quantities(list(originals), issued_only=issued_only, exclude_invoice=invoice_id)
    for line in lines:
        original = originals[line.credited_line_id]
        left = original.quantity - done.get(original.pk, ZERO)
        if line.quantity > left:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"“{original.description}” has only {left.normalize():f} {original.unit} left to credit.",
                field="lines",
            )


@transaction.atomic
def credit_note_create(*, actor: Actor, invoice_id, reason: str, lines: list[tuple[Any, Any]] | None = None) -> Invoice:
    """A draft credit note (type 381, EN 16931 BT-3) for an issued invoice, referencing it (BT-25).

    ``lines`` None credits everything still uncredited; otherwise ``[(line_id, quantity), …]`` credits
    those quantities of those lines. As EN 16931 wants it, a credit note's quantities and amounts are
    positive (the type says they are a reduction); each line copies the credited line's price, discount
    and VAT (``credited_line`` links them). Issue it with :func:`invoice_issue` (the credit note series).
    The reason is the credit note's first note (BT-22) and its PDF's subtitle; ``note`` stays empty for
    whatever else the accountant wants to say.
    Refused: a draft or fully credited invoice, an unknown line, a quantity above what is left, no reason.
    """
    original = _locked_invoice(actor, invoice_id)
    if original.document_type != DocumentType.INVOICE:
        raise DomainError(ErrorCode.CONFLICT, "A credit note cannot be credited.")
    if original.status == InvoiceStatus.DRAFT:
        raise DomainError(ErrorCode.CONFLICT, "A draft is not credited: edit or delete it.")
    if original.status == InvoiceStatus.CREDITED:
        raise DomainError(ErrorCode.CONFLICT, f"{original.number} has been credited in full already.")
    reason = _text(reason, "reason", required=True, max_length=300)
    originals = {line.pk: line for line in original.lines.order_by("position", "id")}
    done = _credited_quantities(list(originals), issued_only=False)
    left = {pk: line.quantity - done.get(pk, ZERO) for pk, line in originals.items()}
    if lines is None:
        wanted = [(pk, left[pk]) for pk in originals if left[pk] > 0]
        if not wanted:
            raise DomainError(ErrorCode.CONFLICT, f"Everything on {original.number} is credited (or on a draft).")
    else:
        wanted = []
        seen = set()
        for raw_id, raw_quantity in lines:
            pk = _id(raw_id)
            if pk not in originals or pk in seen:
                raise validation("Choose lines of the invoice being credited, each once.", field="lines")
            seen.add(pk)
            quantity = _decimal(raw_quantity, "quantity", positive=True)
            if quantity > left[pk]:
                raise validation(
                    f"“{originals[pk].description}” has only {left[pk].normalize():f} {originals[pk].unit} "
                    "left to credit.",
                    field="lines",
                )
            wanted.append((pk, quantity))
        if not wanted:
            raise validation("Choose at least one line to credit.", field="lines")
    settings = settings_for(actor.organization)
    note = Invoice.objects.create(
        organization_id=original.organization_id,
        document_type=DocumentType.CREDIT_NOTE,
        series=settings.credit_note_series,
        client_id=original.client_id,
        currency=original.currency,
        credited_invoice=original,
        credit_reason=reason,
        buyer_reference=original.buyer_reference,
        order_reference=original.order_reference,
        created_by=actor.user,
    )
    new_lines = []
    for position, (pk, quantity) in enumerate(wanted, 1):
        source = originals[pk]
        whole = quantity == source.quantity
        new_lines.append(
            InvoiceLine(
                organization_id=note.organization_id,
                invoice=note,
                position=position,
                kind=source.kind,
                description=source.description,
                detail=source.detail,
                quantity=quantity,
                unit=source.unit,
                unit_price=source.unit_price,
                unit_cost=source.unit_cost,
                discount_percent=source.discount_percent,
                discount_reason=source.discount_reason,
                net_amount=source.net_amount
                if whole
                else calc.line_net(quantity, source.unit_price, source.discount_percent, note.currency),
                tax_category=source.tax_category,
                tax_rate=source.tax_rate,
                exemption_reason=source.exemption_reason,
                exemption_code=source.exemption_code,
                part_id=source.part_id,
                work_order_id=source.work_order_id,
                service_date=source.service_date,
                contract_id=source.contract_id,
                billed_minutes=source.billed_minutes if whole else 0,
                is_overtime=source.is_overtime,
                credited_line=source,
            )
        )
    InvoiceLine.objects.bulk_create(new_lines)
    _recompute(note)
    return note


def _apply_credit(actor: Actor, note: Invoice, lines: list[InvoiceLine], original: Invoice) -> None:
    """After a credit note is issued: release the lines it has now credited in full (their facts are free
    again, their work orders wait to be invoiced again), and settle the original's state."""
    credited_ids = [line.credited_line_id for line in lines]
    done = _credited_quantities(credited_ids, issued_only=True)
    originals = list(InvoiceLine.objects.filter(pk__in=credited_ids))
    released = [o for o in originals if done.get(o.pk, ZERO) >= o.quantity]
    InvoiceLine.objects.filter(pk__in=[o.pk for o in released]).update(released=True)
    wo_ids = {o.work_order_id for o in released if o.work_order_id and o.kind != LineKind.MANUAL}
    by_status = defaultdict(list)
    for wo in _locked_work_orders(wo_ids):
        if wo.billing_status == BillingStatus.INVOICED:
            by_status[BillingStatus.TO_INVOICE if wo.status == Status.CLOSED else BillingStatus.NOT_BILLABLE].append(wo)
    for target, work_orders in by_status.items():
        _set_billing_status(actor, work_orders, target, invoice=note, reason=note.credit_reason)
    _settle(original)


def _credited_total(invoice: Invoice) -> Decimal:
    total = Invoice.objects.filter(
        credited_invoice=invoice, document_type=DocumentType.CREDIT_NOTE, status__in=ISSUED_STATES
    ).aggregate(total=Sum("total_gross"))["total"]
    return total or ZERO


def _settle(invoice: Invoice) -> None:
    """The state and amount due of an issued invoice from its payments and issued credit notes."""
    credited = _credited_total(invoice)
    owed = invoice.total_gross - credited
    fully_credited = not invoice.lines.filter(released=False).exists() or owed <= 0
    if fully_credited:
        status = InvoiceStatus.CREDITED
    else:
        status = calc.payment_status(owed, invoice.amount_paid)
    amount_due = max(ZERO, owed - invoice.amount_paid)
    if (status, amount_due) != (invoice.status, invoice.amount_due):
        invoice.status, invoice.amount_due = status, amount_due
        _bump(invoice, "status", "amount_due")


# ---------------------------------------------------------------------------------------------
# payments


@transaction.atomic
def payment_record(
    *,
    actor: Actor,
    invoice_id,
    amount,
    paid_on: date | str | None = None,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
) -> Payment:
    """Record a payment received for an issued invoice: it becomes partially paid or paid (rule 10).
    Locks the invoice. Refused: drafts, credit notes, credited invoices, 0 or negative amounts, more
    decimals than the currency has, more than is still due (after credit notes), a date in the future."""
    invoice = _locked_invoice(actor, invoice_id)
    if invoice.document_type != DocumentType.INVOICE:
        raise DomainError(ErrorCode.CONFLICT, "Payments are recorded on invoices, not on credit notes.")
    if invoice.status == InvoiceStatus.DRAFT:
        raise DomainError(ErrorCode.CONFLICT, "Issue the invoice before recording a payment.")
    if invoice.status == InvoiceStatus.CREDITED:
        raise DomainError(ErrorCode.CONFLICT, f"{invoice.number} has been credited: nothing is due.")
    if method not in PaymentMethod.values:
        raise validation(f"Choose a payment method: {', '.join(PaymentMethod.values)}.", field="method")
    paid_on = _date(paid_on, "paid_on") or _today(actor.organization)
    if paid_on > _today(actor.organization):
        raise validation("A payment cannot be dated in the future.", field="paid_on")
    value = _decimal(amount, "amount", places=4, positive=True)
    owed = invoice.total_gross - _credited_total(invoice)
    paid = calc.check_payment(owed, invoice.amount_paid, value, currency=invoice.currency)
    payment = Payment.objects.create(
        organization_id=invoice.organization_id,
        invoice=invoice,
        amount=value,
        paid_on=paid_on,
        method=method,
        reference=_text(reference, "reference", max_length=200),
        created_by=actor.user,
    )
    invoice.amount_paid = paid
    invoice.status = calc.payment_status(owed, paid)
    invoice.amount_due = max(ZERO, owed - paid)
    _bump(invoice, "amount_paid", "amount_due", "status")
    return payment


@transaction.atomic
def payment_delete(*, actor: Actor, payment_id) -> Invoice:
    """Remove a payment recorded by mistake; the invoice's state follows (paid → partially paid → issued)."""
    require(actor, "invoices.manage")
    payment = Payment.objects.filter(organization_id=actor.organization_id, pk=_id(payment_id)).first()
    if payment is None:
        raise not_found("Payment")
    invoice = _locked_invoice(actor, payment.invoice_id)
    payment.delete()
    invoice.amount_paid = Payment.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"] or ZERO
    invoice.amount_paid = calc.quantize(invoice.amount_paid, invoice.currency)
    _bump(invoice, "amount_paid")
    _settle(invoice)
    return invoice


# ---------------------------------------------------------------------------------------------
# sending


def invoice_send(*, actor: Actor, invoice_id, to: str | None = None, message: str = "", xml_format: str = "cii"):
    """E-mail an issued invoice or credit note with its PDF and its XML (``cii`` or ``ubl``) attached, to
    ``to`` or else the buyer's address as issued (the client's invoice e-mail). ``invoices.manage``.

    The mail goes out before anything is written and without holding a lock (a slow mail server must not
    block payments on the invoice); once the server took it, the invoice records ``sent_at`` and
    ``sent_to`` (fields that may change after issue) and a change record keeps every sending with its
    attachments. Refused: a draft (CONFLICT), no address or a malformed one, an unknown XML format
    (VALIDATION). Raises :class:`sending.MailNotSentError` (nothing recorded) when the mail server fails.
    """
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from fixflow.core.models import ChangeRecord
    from fixflow.core.services import change_record_write

    from . import sending

    require(actor, "invoices.manage")
    invoice = (
        Invoice.objects.select_related("credited_invoice")
        .filter(organization_id=actor.organization_id, pk=_id(invoice_id))
        .first()
    )
    if invoice is None:
        raise not_found("Invoice")
    if invoice.status == InvoiceStatus.DRAFT:
        raise DomainError(ErrorCode.CONFLICT, "Issue the invoice before sending it: a draft has no number yet.")
    if xml_format not in sending.XML_FORMATS:
        raise validation(f"Choose the XML format: {' or '.join(sending.XML_FORMATS)}.", field="xml_format")
    address = _text(to, "to", max_length=254) or (invoice.buyer or {}).get("email", "")
    if not address:
        raise validation("The client has no address for invoices: enter the address to send to.", field="to")
    try:
        validate_email(address)
    except ValidationError:
        raise validation(f"“{address}” is not an e-mail address.", field="to") from None
    message = _text(message, "message", max_length=2000)
    names = sending.send(invoice, to=address, message=message, xml_format=xml_format)
    with transaction.atomic():
        invoice = _locked_invoice(actor, invoice.pk)
        before = {"sent_at": invoice.sent_at.isoformat() if invoice.sent_at else None, "sent_to": invoice.sent_to}
        invoice.sent_at, invoice.sent_to = clock.now(), address
        _bump(invoice, "sent_at", "sent_to")
        change_record_write(
            actor=actor,
            instance=invoice,
            action=ChangeRecord.Action.UPDATE,
            before=before,
            after={"sent_at": invoice.sent_at.isoformat(), "sent_to": address, "attachments": names},
        )
    return invoice
