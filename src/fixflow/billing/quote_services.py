"""Quote writes (DOMAIN.md §4 rule 5): draft → sent → accepted / rejected / expired, and the one conversion
of an accepted quote into a work order or a draft invoice. One function per write; pages, the API, the
public accept page and the worker's expiry job all call these.

Office functions take the acting user first and need ``quotes.manage`` (admins, dispatchers, accountants);
converting also needs what the result needs (``work_orders.create`` for a work order, ``invoices.manage``
for an invoice), checked by the services that make it. Each runs in one transaction, locks the quote
(``SELECT … FOR UPDATE``) and raises ``DomainError`` when the action is refused, writing nothing then.
Quotes carry a ``version``: pass ``expected_version`` to refuse an edit made on a stale copy.

Only drafts are edited. Sending numbers nothing (the number is given when the draft is made, unique per
organization: ``<prefix>-<year>-<n:05d>``, gaps allowed) but dates the quote, sets its validity and
e-mails the PDF with the link to the public page, where the client accepts (name, drawn signature, time,
IP) or rejects (reason) without an account: :func:`quote_accept` / :func:`quote_reject`, which take the
public token instead of an actor. A sent quote past its validity is refused there and moved to
``expired`` by :func:`quote_expire_due` (the ``billing.expire_quotes`` job). An accepted quote is frozen
(the model refuses changes on every path) and converts once (:func:`quote_convert`).

Prices (DOMAIN.md §4 rules 2-4) come from :mod:`.pricing` and are copied onto the lines; totals from
:mod:`.calculations`, exactly as for invoices.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Max
from django.template.loader import render_to_string
from django.urls import reverse
from PIL import Image, UnidentifiedImageError

from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.models import Organization
from fixflow.core.permissions import Actor, require
from fixflow.core.services import check_version, sequence_next
from fixflow.customers.models import Client, Contact, Site
from fixflow.service.choices import BillingStatus, EventKind, RequestStatus, Status
from fixflow.service.models import WorkOrder, WorkOrderEvent, WorkRequest

from . import calculations as calc
from . import inputs, pricing
from .choices import LineKind, QuoteConversion, QuoteStatus
from .config_services import effective_currency
from .models import ClientBilling, Invoice, InvoiceLine, Quote, QuoteLine, TaxRate, WorkOrderBilling
from .sending import MailNotSentError
from .services import settings_for

log = logging.getLogger(__name__)

MANAGE = "quotes.manage"
ZERO = Decimal(0)
HUNDRED = Decimal(100)
SIGNATURE_MAX_BYTES = 1024 * 1024
SIGNATURE_MAX_PIXELS = 4000
LINE_FIELDS = frozenset(
    {
        "kind",
        "description",
        "detail",
        "quantity",
        "unit",
        "unit_price",
        "discount_percent",
        "discount_reason",
        "tax_rate_id",
        "part_id",
    }
)
HEADER_FIELDS = frozenset({"title", "introduction", "terms", "site_id", "equipment_id", "valid_until"})
CONVERSION_TARGETS = ("work_order", "invoice")


# ---------------------------------------------------------------------------------------------
# parsing: each returns the cleaned value or raises VALIDATION on the field


_id = inputs.as_id
_label = inputs.label
_text = inputs.text
_decimal = inputs.decimal
_date = inputs.as_date


def _email(value, field: str = "to") -> str:
    value = _text(value, field, max_length=254, required=True)
    try:
        validate_email(value)
    except ValidationError:
        raise validation(f"{value} is not an e-mail address.", field=field) from None
    return value


def today_for(organization: Organization) -> date:
    """Today in the organization's time zone: quotes are dated and expire by the seller's calendar."""
    return clock.now().astimezone(organization.tzinfo).date()


# ---------------------------------------------------------------------------------------------
# locking and the state rules


def _locked_quote(actor: Actor, quote_id, *, draft: bool = False) -> Quote:
    """The actor's organization's quote, its row locked FOR UPDATE; NOT_FOUND otherwise. ``draft``:
    refuse any other state with CONFLICT saying what to do instead."""
    require(actor, MANAGE)
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("client", "organization")
        .filter(organization_id=actor.organization_id, pk=_id(quote_id))
        .first()
    )
    if quote is None:
        raise not_found("Quote")
    if draft and quote.status != QuoteStatus.DRAFT:
        raise not_editable(quote)
    return quote


def not_editable(quote: Quote) -> DomainError:
    """Why a quote that is not a draft cannot be changed, and what to do instead."""
    match quote.status:
        case QuoteStatus.SENT:
            message = f"{quote.number} has been sent: withdraw it (back to draft) before changing it."
        case QuoteStatus.ACCEPTED:
            who = f" by {quote.decided_by_name}" if quote.decided_by_name else ""
            message = f"{quote.number} was accepted{who}: it is frozen; make a new quote for other work."
        case QuoteStatus.REJECTED:
            message = f"{quote.number} was rejected by the client: make a new quote instead."
        case QuoteStatus.EXPIRED:
            message = f"{quote.number} has expired: withdraw it (back to draft) to revise and send it again."
        case _:
            message = f"{quote.number} can no longer be changed."
    return DomainError(ErrorCode.CONFLICT, message)


def _bump(quote: Quote, *fields: str) -> None:
    quote.version += 1
    quote.save(update_fields=["version", "updated_at", *fields])


def _recompute(quote: Quote) -> None:
    """The totals (BG-22) from the lines, by the same maths as invoices; bumps the version."""
    rows = quote.lines.values_list("net_amount", "tax_category", "tax_rate", "exemption_reason", "exemption_code")
    result = calc.totals([calc.Line(*row) for row in rows], quote.currency)
    quote.total_net, quote.total_tax, quote.total_gross = result.total_net, result.total_tax, result.total_gross
    _bump(quote, "total_net", "total_tax", "total_gross")


# ---------------------------------------------------------------------------------------------
# where the quote is for, and what prices it


def _client(actor: Actor, client_id) -> Client:
    client = Client.objects.filter(organization_id=actor.organization_id, pk=_id(client_id)).first()
    if client is None:
        raise validation("Choose the client the quote is for.", field="client")
    return client


def _site_and_equipment(actor: Actor, client: Client, site_id, equipment_id):
    """An optional site of the client and optional equipment at it (the equipment names its site)."""
    from fixflow.assets.models import Equipment

    site = equipment = None
    if site_id not in (None, ""):
        site = Site.objects.filter(organization_id=actor.organization_id, client=client, pk=_id(site_id)).first()
        if site is None:
            raise validation(f"Choose a site of {client.name}.", field="site")
    if equipment_id not in (None, ""):
        equipment = (
            Equipment.objects.select_related("site")
            .filter(organization_id=actor.organization_id, site__client=client, pk=_id(equipment_id))
            .first()
        )
        if equipment is None:
            raise validation(f"Choose equipment of {client.name}.", field="equipment")
        if site is not None and equipment.site_id != site.pk:
            raise validation(f"{equipment.name} is not at {site.name}.", field="equipment")
        site = equipment.site
    return site, equipment


def _pricing(actor: Actor, quote: Quote, work_order: WorkOrder | None = None):
    """A pricer and the pricing context of the quote's work: its work order's, or that of a work order not
    made yet (same client, site and equipment), so contracts and price lists apply as on the invoice."""
    settings = settings_for(actor.organization)
    target = work_order or SimpleNamespace(
        pk=None,
        client_id=quote.client_id,
        client=quote.client,
        site_id=quote.site_id,
        equipment_id=quote.equipment_id,
    )
    pricer = pricing.Pricer(actor.organization, settings, work_orders=[target])
    return pricer, pricer.for_work_order(target, on=today_for(actor.organization))


def _tax_rate(actor: Actor, client: Client, tax_rate_id) -> TaxRate:
    """The tax rate chosen for a line, else the client's, else the organization's default."""
    if tax_rate_id not in (None, ""):
        rate = TaxRate.objects.filter(organization_id=actor.organization_id, pk=_id(tax_rate_id)).first()
        if rate is None:
            raise validation("Choose one of the organization's tax rates.", field="tax_rate")
        return rate
    cb = ClientBilling.objects.filter(client=client).select_related("tax_rate").first()
    rate = cb.tax_rate if cb is not None and cb.tax_rate_id else settings_for(actor.organization).default_tax_rate
    if rate is None:
        raise validation(
            "Choose a tax rate: there is no default in the billing settings and none on the client.", field="tax_rate"
        )
    return rate


def _copy_tax(line: QuoteLine, tax: pricing.Tax | TaxRate) -> None:
    if isinstance(tax, TaxRate):
        tax = pricing.Tax.of(tax)
    line.tax_category, line.tax_rate = tax.category, tax.rate
    line.exemption_reason, line.exemption_code = tax.exemption_reason, tax.exemption_code


def _new_line(quote: Quote, **kw) -> QuoteLine:
    kw.setdefault("unit_cost", ZERO)
    kw.setdefault("discount_percent", ZERO)
    line = QuoteLine(organization_id=quote.organization_id, quote=quote, **kw)
    line.net_amount = calc.line_net(line.quantity, line.unit_price, line.discount_percent, quote.currency)
    return line


def _contract_terms(ctx: pricing.WorkOrderPricing) -> tuple[Decimal, str]:
    contract = ctx.contract
    discount = contract.discount_percent if contract is not None else ZERO
    return discount, (f"Contract {contract}: {discount.normalize():f} % discount" if discount else "")


def _estimate_lines(actor: Actor, quote: Quote, wo: WorkOrder) -> list[QuoteLine]:
    """A work order's estimate as quote lines: its estimated labour (the work order's or its template's
    duration, rounded like recorded labour, at the lead technician's rate), its planned materials priced
    like part usages (covered part categories at 100 % discount), and the call-out fee — each priced as
    the invoice would price it (rules 2-4), with the client's tax."""
    pricer, ctx = _pricing(actor, quote, wo)
    settings = pricer.settings
    discount, discount_reason = _contract_terms(ctx)
    lines: list[QuoteLine] = []
    minutes = wo.estimated_duration_minutes or (wo.template.estimated_duration_minutes if wo.template_id else None)
    if minutes:
        billed = calc.billable_minutes(minutes, settings.labour_minimum_minutes, settings.labour_increment_minutes)
        rate = pricer.labour_rate(ctx, "labour", wo.lead_technician_id)
        lines.append(
            _new_line(
                quote,
                kind=LineKind.LABOUR,
                description="Labour (estimate)",
                detail=f"Estimated {billed} min · "
                + ("default rate" if rate.source == "organization" else f"rate of {rate.source}"),
                quantity=calc.hours(billed),
                unit="h",
                unit_price=rate.price,
                unit_cost=rate.cost,
                discount_percent=discount,
                discount_reason=discount_reason,
            )
        )
    for material in wo.planned_materials.select_related("part").order_by("id"):
        part = material.part
        if part is None:
            lines.append(
                _new_line(
                    quote,
                    kind=LineKind.PART,
                    description=material.description[:500] or "Material",
                    detail="Free-text material: enter its price.",
                    quantity=material.quantity,
                    unit=material.unit,
                    unit_price=ZERO,
                )
            )
            continue
        usage = SimpleNamespace(part_id=part.pk, unit_price=part.sale_price, unit_cost=part.unit_cost)
        price = pricer.part_price(ctx, usage)
        covered = pricer.covers_part(ctx, part.category_id)
        lines.append(
            _new_line(
                quote,
                kind=LineKind.PART,
                description=(material.description or part.name)[:500],
                detail=part.sku,
                quantity=material.quantity,
                unit=material.unit or part.unit,
                unit_price=price.price,
                unit_cost=price.cost,
                discount_percent=HUNDRED if covered else discount,
                discount_reason=f"Covered by contract {ctx.contract}" if covered else discount_reason,
                part=part,
            )
        )
    fee = pricer.call_out_fee(ctx)
    if fee > 0:
        waived = ctx.contract is not None and ctx.contract.waives_call_out
        lines.append(
            _new_line(
                quote,
                kind=LineKind.CALL_OUT,
                description="Call-out fee",
                quantity=Decimal(1),
                unit="pc",
                unit_price=calc.quantize_price(fee),
                discount_percent=HUNDRED if waived else ZERO,
                discount_reason=f"Call-out waived by contract {ctx.contract}" if waived else "",
            )
        )
    for position, line in enumerate(lines, 1):
        line.position = position
        _copy_tax(line, ctx.tax)
    return lines


# ---------------------------------------------------------------------------------------------
# creating and editing drafts


def _number(actor: Actor) -> str:
    """``Q-2026-00042``: a counter per organization and year (unique; a deleted draft leaves a gap)."""
    org = actor.organization
    year = today_for(org).year
    prefix = settings_for(org).quote_prefix or "Q"
    return f"{prefix}-{year}-{sequence_next(organization=org, key=f'quote:{year}'):05d}"


def _source_work_order(actor: Actor, work_order_id) -> WorkOrder:
    wo = (
        WorkOrder.objects.select_related("client", "site", "equipment", "template")
        .filter(organization_id=actor.organization_id, pk=_id(work_order_id))
        .first()
    )
    if wo is None:
        raise validation("Choose a work order of this organization.", field="work_order")
    if wo.status == Status.CANCELLED:
        raise validation(f"{wo.number} is cancelled: there is nothing to quote.", field="work_order")
    if wo.billing_status == BillingStatus.INVOICED:
        raise validation(f"{wo.number} has been invoiced already.", field="work_order")
    return wo


def _source_request(actor: Actor, request_id) -> WorkRequest:
    req = (
        WorkRequest.objects.select_related("client", "site", "equipment")
        .filter(organization_id=actor.organization_id, pk=_id(request_id))
        .first()
    )
    if req is None:
        raise validation("Choose a request of this organization.", field="work_request")
    if req.status in (RequestStatus.REJECTED, RequestStatus.DUPLICATE):
        raise validation(
            f"This request is {req.get_status_display().lower()}: there is nothing to quote.", field="work_request"
        )
    return req


@transaction.atomic
def quote_create(
    *,
    actor: Actor,
    client_id=None,
    work_request_id=None,
    work_order_id=None,
    title: str | None = None,
    site_id=None,
    equipment_id=None,
    introduction: str = "",
    terms: str = "",
    valid_until: date | str | None = None,
) -> Quote:
    """A draft quote: blank (for ``client_id``), from a work request (its client, site, equipment, title and
    description) or from a work order (the same, plus its estimate as priced lines: see
    :func:`_estimate_lines`). Gets its number now. The currency is the client's (rule 2: the client's,
    else its price list's, else the organization's). Refused: more than one source, unknown or foreign
    ids, a cancelled or invoiced work order, a rejected request, a currency that cannot be invoiced, no
    tax rate or no labour rate for the estimate."""
    require(actor, MANAGE)
    sources = [s for s in (work_request_id, work_order_id) if s not in (None, "")]
    if len(sources) > 1:
        raise validation("Make the quote from a request or from a work order, not both.", field="work_order")
    wo = _source_work_order(actor, work_order_id) if work_order_id not in (None, "") else None
    req = _source_request(actor, work_request_id) if work_request_id not in (None, "") else None
    source = wo or req
    if source is not None:
        client = source.client
        if client_id not in (None, "") and _id(client_id) != client.pk:
            raise validation(f"The {'work order' if wo else 'request'} is for {client.name}.", field="client")
        site, equipment = source.site, source.equipment
        if equipment_id not in (None, "") or site_id not in (None, ""):
            site, equipment = _site_and_equipment(actor, client, site_id or source.site_id, equipment_id)
        title = title or source.title
        introduction = introduction or source.description
    else:
        if client_id in (None, ""):
            raise validation("Choose the client the quote is for.", field="client")
        client = _client(actor, client_id)
        site, equipment = _site_and_equipment(actor, client, site_id, equipment_id)
    cb = ClientBilling.objects.filter(client=client).select_related("price_list").first()
    currency = effective_currency(actor.organization, cb)
    calc.check_currency(currency)
    valid_until = _date(valid_until, "valid_until")
    if valid_until is not None and valid_until < today_for(actor.organization):
        raise validation("The quote would be out of date already: choose a later date.", field="valid_until")
    quote = Quote.objects.create(
        organization_id=actor.organization_id,
        number=_number(actor),
        client=client,
        site=site,
        equipment=equipment,
        work_request=req or (wo.request if wo is not None else None),
        work_order=wo,
        title=_text(title, "title", max_length=200, required=True),
        introduction=_text(introduction, "introduction", max_length=20000),
        terms=_text(terms, "terms", max_length=20000),
        currency=currency,
        valid_until=valid_until,
        created_by=actor.user,
    )
    if wo is not None:
        lines = _estimate_lines(actor, quote, wo)
        if lines:
            QuoteLine.objects.bulk_create(lines)
            _recompute(quote)
    return quote


@transaction.atomic
def quote_update(*, actor: Actor, quote_id, data: dict[str, Any], expected_version: int | None = None) -> Quote:
    """Change a draft's title, introduction, terms, site, equipment or validity date. Drafts only."""
    quote = _locked_quote(actor, quote_id, draft=True)
    check_version(quote, expected_version)
    unknown = set(data) - HEADER_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise validation(f"Unknown or read-only field: {name}.", field=name)
    changed = []

    def put(name, value):
        if getattr(quote, name) != value:
            setattr(quote, name, value)
            changed.append(name)

    if "title" in data:
        put("title", _text(data["title"], "title", max_length=200, required=True))
    for name in ("introduction", "terms"):
        if name in data:
            put(name, _text(data[name], name, max_length=20000))
    if "site_id" in data or "equipment_id" in data:
        site_id = data.get("site_id", quote.site_id)
        equipment_id = data.get("equipment_id", quote.equipment_id)
        if "equipment_id" not in data and quote.equipment_id and quote.equipment.site_id != _id(site_id):
            equipment_id = None  # a new site drops the equipment of the old one
        site, equipment = _site_and_equipment(actor, quote.client, site_id, equipment_id)
        put("site_id", site.pk if site else None)
        put("equipment_id", equipment.pk if equipment else None)
    if "valid_until" in data:
        valid_until = _date(data["valid_until"], "valid_until")
        if valid_until is not None and valid_until < today_for(actor.organization):
            raise validation("The quote would be out of date already: choose a later date.", field="valid_until")
        put("valid_until", valid_until)
    if changed:
        _bump(quote, *changed)
    return quote


@transaction.atomic
def quote_delete(*, actor: Actor, quote_id, expected_version: int | None = None) -> None:
    """Delete a draft with its lines (its number is not reused). Sent and decided quotes stay: withdraw a sent
    one; an accepted one is frozen for good."""
    quote = _locked_quote(actor, quote_id, draft=True)
    check_version(quote, expected_version)
    quote.lines.all().delete()
    quote.delete()


# ---------------------------------------------------------------------------------------------
# lines


def _line_values(actor: Actor, quote: Quote, data: dict[str, Any], line: QuoteLine) -> list[str]:
    """Apply validated line input to ``line`` (prices and tax are copied onto it); returns what changed.

    A part (``part_id``) fills the description and unit when they are not given and, without a unit price,
    is priced as the invoice would price it; a labour or travel line without a unit price gets the rate."""
    from fixflow.inventory.models import Part

    unknown = set(data) - LINE_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise validation(f"Unknown or read-only field: {name}.", field=name)
    changed: list[str] = []

    def put(name, value):
        if getattr(line, name) != value:
            setattr(line, name, value)
            changed.append(name)

    if "kind" in data:
        kind = data["kind"] or LineKind.MANUAL
        if kind not in LineKind.values:
            raise validation(f"Choose a kind of line: {', '.join(LineKind.values)}.", field="kind")
        put("kind", kind)
    part = None
    if data.get("part_id") not in (None, ""):
        part = Part.objects.filter(organization_id=actor.organization_id, pk=_id(data["part_id"])).first()
        if part is None:
            raise validation("Choose a part of the catalogue.", field="part")
        put("part_id", part.pk)
        if "kind" not in data:
            put("kind", LineKind.PART)
    elif "part_id" in data:
        put("part_id", None)
    description = data.get("description")
    if description in (None, "") and part is not None and line.pk is None:
        description = part.name
    if description is not None or line.pk is None:
        put("description", _text(description, "description", max_length=500, required=True))
    if "detail" in data:
        put("detail", _text(data["detail"], "detail", max_length=2000))
    elif part is not None and line.pk is None:
        put("detail", part.sku)
    if "quantity" in data or line.pk is None:
        put("quantity", _decimal(data.get("quantity", 1), "quantity", positive=True))
    unit = data.get("unit")
    if unit in (None, "") and part is not None:
        unit = part.unit
    if unit is not None or line.pk is None:
        put("unit", _text(unit, "unit", max_length=20) or ("h" if line.kind in ("labour", "travel") else "pc"))
    price_asked = line.pk is None or "unit_price" in data  # a new line, or a price typed (or cleared)
    if data.get("unit_price") not in (None, ""):
        put("unit_price", _decimal(data["unit_price"], "unit_price", minimum=None))
    elif part is not None or (price_asked and line.kind in (LineKind.LABOUR, LineKind.TRAVEL)):
        price = _list_price(actor, quote, line, part)  # left empty: the price list's or the rate
        put("unit_price", price.price)
        put("unit_cost", price.cost)
    elif price_asked:
        raise validation("The unit price is required.", field="unit_price")
    if "discount_percent" in data:
        percent = _decimal(data["discount_percent"] or 0, "discount_percent", places=2)
        if percent > HUNDRED:
            raise validation("A discount is between 0 and 100 %.", field="discount_percent")
        put("discount_percent", percent)
    if "discount_reason" in data:
        put("discount_reason", _text(data["discount_reason"], "discount_reason", max_length=200))
    if "tax_rate_id" in data or line.pk is None:
        rate = _tax_rate(actor, quote.client, data.get("tax_rate_id"))
        before = (line.tax_category, line.tax_rate, line.exemption_reason, line.exemption_code)
        _copy_tax(line, rate)
        if before != (line.tax_category, line.tax_rate, line.exemption_reason, line.exemption_code):
            changed.extend(["tax_category", "tax_rate", "exemption_reason", "exemption_code"])
    if line.discount_percent and not line.discount_reason:
        raise validation("Say why the line is discounted (the client reads it).", field="discount_reason")
    put("net_amount", calc.line_net(line.quantity, line.unit_price, line.discount_percent, quote.currency))
    return changed


def _list_price(actor: Actor, quote: Quote, line: QuoteLine, part) -> pricing.Price:
    """The price the invoice would give a part or an hour of labour / travel for this quote's work."""
    pricer, ctx = _pricing(actor, quote, quote.work_order if quote.work_order_id else None)
    if part is not None:
        usage = SimpleNamespace(part_id=part.pk, unit_price=part.sale_price, unit_cost=part.unit_cost)
        return pricer.part_price(ctx, usage)
    technician = quote.work_order.lead_technician_id if quote.work_order_id else None
    return pricer.labour_rate(ctx, line.kind, technician)


@transaction.atomic
def quote_line_add(*, actor: Actor, quote_id, data: dict[str, Any], expected_version: int | None = None) -> QuoteLine:
    """Add a line to a draft: ``description``, ``quantity`` (1), ``unit_price`` and optionally ``kind``,
    ``unit``, ``detail``, ``discount_percent`` + ``discount_reason``, ``tax_rate_id`` (default: the client's,
    else the organization's) and ``part_id``. A part or a labour/travel line without a unit price is priced
    from the price lists and rates (rules 2-4). Price, cost and tax are copied onto the line."""
    quote = _locked_quote(actor, quote_id, draft=True)
    check_version(quote, expected_version)
    calc.check_currency(quote.currency)
    position = (quote.lines.aggregate(last=Max("position"))["last"] or 0) + 1
    line = QuoteLine(organization_id=quote.organization_id, quote=quote, kind=LineKind.MANUAL, position=position)
    _line_values(actor, quote, data, line)
    line.save()
    _recompute(quote)
    return line


def _locked_line(actor: Actor, line_id) -> tuple[QuoteLine, Quote]:
    require(actor, MANAGE)
    line = QuoteLine.objects.filter(organization_id=actor.organization_id, pk=_id(line_id)).first()
    if line is None:
        raise not_found("Quote line")
    quote = _locked_quote(actor, line.quote_id, draft=True)
    return line, quote


@transaction.atomic
def quote_line_update(*, actor: Actor, line_id, data: dict[str, Any], expected_version: int | None = None) -> QuoteLine:
    """Change a line of a draft (the fields of :func:`quote_line_add`). ``expected_version`` is the quote's."""
    line, quote = _locked_line(actor, line_id)
    check_version(quote, expected_version)
    changed = _line_values(actor, quote, data, line)
    if changed:
        line.save(update_fields=sorted(set(changed)))
        _recompute(quote)
    return line


@transaction.atomic
def quote_line_remove(*, actor: Actor, line_id, expected_version: int | None = None) -> Quote:
    """Remove a line from a draft; returns the quote with its new totals."""
    line, quote = _locked_line(actor, line_id)
    check_version(quote, expected_version)
    line.delete()
    _recompute(quote)
    return quote


@transaction.atomic
def quote_lines_reorder(*, actor: Actor, quote_id, line_ids: list, expected_version: int | None = None) -> Quote:
    """Put a draft's lines in the order of ``line_ids``, which must name each of its lines once."""
    quote = _locked_quote(actor, quote_id, draft=True)
    check_version(quote, expected_version)
    lines = {line.pk: line for line in quote.lines.all()}
    wanted = [_id(pk) for pk in line_ids or ()]
    if sorted(pk for pk in wanted if pk is not None) != sorted(lines) or len(wanted) != len(lines):
        raise validation("List every line of the quote once, in the new order.", field="line_ids")
    moved = []
    for position, pk in enumerate(wanted, 1):
        if lines[pk].position != position:
            lines[pk].position = position
            moved.append(lines[pk])
    if moved:
        QuoteLine.objects.bulk_update(moved, ["position"])
        _bump(quote)
    return quote


@transaction.atomic
def quote_line_move(*, actor: Actor, line_id, direction: str, expected_version: int | None = None) -> Quote:
    """Move a draft's line one place ``up`` or ``down`` (the pages' arrows; the API reorders whole lists)."""
    line, quote = _locked_line(actor, line_id)
    if direction not in ("up", "down"):
        raise validation("Move a line up or down.", field="direction")
    order = list(quote.lines.order_by("position", "id").values_list("pk", flat=True))
    index = order.index(line.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    return quote_lines_reorder(actor=actor, quote_id=quote.pk, line_ids=order, expected_version=expected_version)


# ---------------------------------------------------------------------------------------------
# sending


def public_url(quote: Quote) -> str:
    """The page where the client reads, accepts or rejects the quote (no account needed)."""
    return django_settings.BASE_URL.rstrip("/") + reverse("billing-quote-public", args=[quote.public_token])


def default_recipient(quote: Quote) -> str:
    """Who receives the quote: the client's primary contact (else its first contact with an e-mail), else
    the client's invoice address, else the client's e-mail; "" when nobody has an address."""
    contact = (
        Contact.objects.filter(client_id=quote.client_id)
        .exclude(email="")
        .order_by("-is_primary", "name", "id")
        .first()
    )
    if contact is not None:
        return contact.email
    cb = ClientBilling.objects.filter(client_id=quote.client_id).first()
    return (cb.invoice_email if cb is not None else "") or quote.client.email


def _check_sendable(quote: Quote) -> list[QuoteLine]:
    lines = list(quote.lines.order_by("position", "id"))
    if not lines:
        raise validation("A quote needs at least one line before it is sent.", field="lines")
    calc.check_currency(quote.currency)
    calc.check_tax(
        [
            calc.Line(line.net_amount, line.tax_category, line.tax_rate, line.exemption_reason, line.exemption_code)
            for line in lines
        ],
        buyer_vat_id=quote.client.vat_id,
    )
    if quote.total_gross < 0:
        raise validation("The total of a quote cannot be below 0.", field="lines")
    return lines


@dataclass(frozen=True)
class Seller:
    name: str
    email: str


def _seller(quote: Quote) -> Seller:
    settings = settings_for(quote.organization)
    return Seller(settings.legal_name or quote.organization.name, settings.email)


def _send_email(quote: Quote, to: str, message: str) -> None:
    """E-mail the quote's PDF and the link to its public page. Raises :class:`MailNotSentError` (CONFLICT;
    the API answers 503) when the mail server refuses or cannot be reached: the caller's transaction is rolled
    back, so nothing is recorded as sent."""
    from .documents.pdf import render_quote

    seller = _seller(quote)
    context = {
        "quote": quote,
        "seller": seller.name,
        "url": public_url(quote),
        "message": message,
    }
    mail = EmailMultiAlternatives(
        subject=" ".join(f"Quote {quote.number} from {seller.name}: {quote.title}".split()),
        body=render_to_string("billing/quotes/email/quote_sent.txt", context),
        from_email=django_settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[seller.email] if seller.email else None,
        headers={"Auto-Submitted": "auto-generated", "X-Fixflow-Quote": quote.number},
    )
    mail.attach_alternative(render_to_string("billing/quotes/email/quote_sent.html", context), "text/html")
    mail.attach(f"{quote.number}.pdf", render_quote(quote), "application/pdf")
    try:
        mail.send()
    except Exception as exc:
        log.warning("Quote %s could not be sent to %s: %s", quote.number, to, exc)
        raise MailNotSentError(f"to {to}: {type(exc).__name__}: {exc}") from exc


@transaction.atomic
def quote_send(
    *,
    actor: Actor,
    quote_id,
    to: str | None = None,
    message: str = "",
    valid_until: date | str | None = None,
    expected_version: int | None = None,
) -> Quote:
    """E-mail a draft to the client (draft → sent), or a sent one again. The PDF goes attached, with the link
    to the public page where the client accepts or rejects it.

    Sending dates the quote today and sets its validity (``valid_until``, else the date chosen on the draft
    if still ahead, else today + the billing settings' ``quote_validity_days``); sending again keeps both.
    ``to`` defaults to :func:`default_recipient`. Refused: no lines, a total below 0, VAT EN 16931 would
    reject (e.g. reverse charge without the client's VAT id), a validity in the past, an expired or decided
    quote, no address, a mail server that refuses (nothing is recorded as sent then)."""
    quote = _locked_quote(actor, quote_id)
    check_version(quote, expected_version)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        raise not_editable(quote)
    today = today_for(actor.organization)
    if quote.status == QuoteStatus.SENT and quote.valid_until is not None and quote.valid_until < today:
        raise DomainError(
            ErrorCode.CONFLICT, f"{quote.number} expired on {quote.valid_until:%Y-%m-%d}: withdraw it to revise it."
        )
    _check_sendable(quote)
    to = to if to not in (None, "") else default_recipient(quote)
    if not to:
        raise validation("Enter the address to send the quote to: the client has no contact with an e-mail.", "to")
    recipient = _email(to)
    message = _text(message, "message", max_length=5000)
    fields = ["sent_at", "sent_to", "status"]
    if quote.status == QuoteStatus.DRAFT:
        chosen = _date(valid_until, "valid_until")
        if chosen is not None and chosen < today:
            raise validation("The quote would be out of date already: choose a later date.", field="valid_until")
        if chosen is None:
            chosen = quote.valid_until if quote.valid_until and quote.valid_until >= today else None
        quote.valid_until = chosen or today + timedelta(days=settings_for(actor.organization).quote_validity_days)
        quote.issue_date = today
        fields += ["valid_until", "issue_date"]
    elif valid_until not in (None, "") and _date(valid_until, "valid_until") != quote.valid_until:
        raise validation("The quote has been sent: withdraw it to change its validity.", field="valid_until")
    quote.status, quote.sent_at, quote.sent_to = QuoteStatus.SENT, clock.now(), recipient
    _bump(quote, *fields)
    _send_email(quote, recipient, message)
    return quote


@transaction.atomic
def quote_withdraw(*, actor: Actor, quote_id, expected_version: int | None = None) -> Quote:
    """Take a sent (or expired) quote back to draft to revise it; the client's link says it is being revised
    until it is sent again. Accepted and rejected quotes stay as the client decided."""
    quote = _locked_quote(actor, quote_id)
    check_version(quote, expected_version)
    if quote.status not in (QuoteStatus.SENT, QuoteStatus.EXPIRED):
        if quote.status == QuoteStatus.DRAFT:
            raise DomainError(ErrorCode.CONFLICT, f"{quote.number} is a draft already.")
        raise not_editable(quote)
    quote.status = QuoteStatus.DRAFT
    fields = ["status"]
    if quote.valid_until is not None and quote.valid_until < today_for(actor.organization):
        quote.valid_until = None
        fields.append("valid_until")
    _bump(quote, *fields)
    return quote


# ---------------------------------------------------------------------------------------------
# the client's decision (public page: no actor, the token is the key)


def _locked_by_token(token: str) -> Quote:
    token = (token or "").strip()
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("organization", "client")
        .filter(public_token=token)
        .first()
        if token
        else None
    )
    if quote is None or (quote.status == QuoteStatus.DRAFT and quote.sent_at is None):
        raise not_found("Quote")
    return quote


def check_open_for_decision(quote: Quote, today: date) -> None:
    """A client decides only on a sent quote still valid; otherwise CONFLICT saying why."""
    if quote.status == QuoteStatus.SENT and (quote.valid_until is None or quote.valid_until >= today):
        return
    decided = quote.decided_at.astimezone(quote.organization.tzinfo) if quote.decided_at else None
    match quote.status:
        case QuoteStatus.ACCEPTED:
            message = f"This quote was accepted on {decided:%Y-%m-%d} by {quote.decided_by_name}."
        case QuoteStatus.REJECTED:
            message = f"This quote was rejected on {decided:%Y-%m-%d}."
        case QuoteStatus.DRAFT:
            message = "This quote is being revised: you will receive the new version."
        case _:
            day = quote.valid_until
            message = f"This quote expired on {day:%Y-%m-%d}; ask us for a new one." if day else "This quote expired."
    raise DomainError(ErrorCode.CONFLICT, message)


def check_signature(image_png: bytes) -> bytes:
    """A drawn signature: a readable PNG of at most 1 MB and 4000 px a side, with something drawn on it."""
    if not image_png:
        raise validation("Sign in the box first.", field="signature")
    if len(image_png) > SIGNATURE_MAX_BYTES:
        raise validation("The signature image is too large (at most 1 MB).", field="signature")
    try:
        with Image.open(io.BytesIO(image_png)) as img:
            if img.format != "PNG":
                raise validation("The signature must be a PNG image.", field="signature")
            if max(img.size) > SIGNATURE_MAX_PIXELS:
                raise validation("The signature image is too large.", field="signature")
            img.load()
            rgba = img.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise validation("The signature is not a readable image; sign again.", field="signature") from None
    alpha_box = rgba.getchannel("A").getbbox()
    ink_box = rgba.convert("L").point(lambda v: 255 if v < 200 else 0).getbbox()
    if alpha_box is None or ink_box is None:
        raise validation("The signature box is empty: sign in it first.", field="signature")
    return image_png


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


@transaction.atomic
def quote_accept(*, token: str, signed_by_name: str, signature_png: bytes, ip_address: str | None = None) -> Quote:
    """The client accepts a sent quote on its public page: name, drawn signature (PNG), time and IP are
    recorded and the quote is frozen. Refused (CONFLICT) unless it is sent and still valid; an empty name or
    a signature that is not a drawn PNG is a VALIDATION error. Locks the quote: two clicks accept once."""
    quote = _locked_by_token(token)
    check_open_for_decision(quote, today_for(quote.organization))
    name = _text(signed_by_name, "signed_by_name", max_length=200, required=True)
    image = check_signature(signature_png)
    quote.decision_signature.save(
        f"{quote.organization_id}/{secrets.token_hex(16)}.png", ContentFile(image), save=False
    )
    quote.status = QuoteStatus.ACCEPTED
    quote.decided_at, quote.decided_by_name, quote.decided_from_ip = clock.now(), name, _ip(ip_address)
    quote.version += 1
    quote.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by_name",
            "decided_from_ip",
            "decision_signature",
            "version",
            "updated_at",
        ]
    )
    return quote


@transaction.atomic
def quote_reject(*, token: str, reason: str, name: str = "", ip_address: str | None = None) -> Quote:
    """The client rejects a sent quote on its public page, saying why (required); time and IP are kept.
    Refused (CONFLICT) unless it is sent and still valid."""
    quote = _locked_by_token(token)
    check_open_for_decision(quote, today_for(quote.organization))
    quote.rejection_reason = _text(reason, "reason", max_length=5000, required=True)
    quote.decided_by_name = _text(name, "name", max_length=200)
    quote.status, quote.decided_at, quote.decided_from_ip = QuoteStatus.REJECTED, clock.now(), _ip(ip_address)
    _bump(quote, "status", "rejection_reason", "decided_by_name", "decided_at", "decided_from_ip")
    return quote


def quote_expire_due(*, now: datetime | None = None) -> int:
    """Move sent quotes whose validity has passed (by their organization's calendar) to ``expired``;
    returns how many. Run by the worker (``billing.expire_quotes``); running it twice changes nothing more.
    One UPDATE per organization that has such quotes."""
    now = now or clock.now()
    horizon = (now + timedelta(days=1)).date()  # no time zone is a day ahead of UTC + 1 day
    org_ids = (
        Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=horizon)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    expired = 0
    for org in Organization.objects.filter(pk__in=list(org_ids)).order_by("pk"):
        today = now.astimezone(org.tzinfo).date()
        expired += Quote.objects.filter(organization=org, status=QuoteStatus.SENT, valid_until__lt=today).update(
            status=QuoteStatus.EXPIRED, version=F("version") + 1, updated_at=now
        )
    if expired:
        log.info("%d quote(s) expired", expired)
    return expired


# ---------------------------------------------------------------------------------------------
# converting an accepted quote, once


def _labour_minutes(quote: Quote) -> int | None:
    hours_total = sum(
        (line.quantity for line in quote.lines.all() if line.kind == LineKind.LABOUR and line.unit == "h"), ZERO
    )
    return int(hours_total * 60) or None


def _work_order_for(actor: Actor, quote: Quote, site_id) -> tuple[WorkOrder, bool]:
    """The work order the accepted quote prices: the one it was made from (still open for billing), the one
    its request becomes, or a new one. Returns (work order, made now)."""
    from fixflow.service import services as service

    if quote.work_order_id:
        wo = WorkOrder.objects.select_for_update().get(pk=quote.work_order_id)
        if wo.status != Status.CANCELLED and wo.billing_status != BillingStatus.INVOICED:
            return wo, False
    if quote.work_request_id:
        req = WorkRequest.objects.filter(pk=quote.work_request_id).first()
        # work_request_convert needs equipment (it takes no "site-level work" flag): without any, the work
        # order is made below and the request is left for the dispatcher to close
        if req is not None and req.status == RequestStatus.NEW and (quote.equipment_id or req.equipment_id):
            wo = service.work_request_convert(
                actor=actor, request_id=req.pk, title=quote.title, equipment_id=quote.equipment_id
            )
            return wo, True
    site = quote.site
    if site is None:
        if site_id in (None, ""):
            raise validation("The quote names no site: choose where the work is done.", field="site")
        site, _equipment = _site_and_equipment(actor, quote.client, site_id, None)
    wo = service.work_order_create(
        actor=actor,
        title=quote.title,
        description=quote.introduction,
        client_id=quote.client_id,
        site_id=site.pk,
        equipment_id=quote.equipment_id,
        requires_equipment=quote.equipment_id is not None,
        estimated_duration_minutes=_labour_minutes(quote),
        is_billable=True,
    )
    for line in quote.lines.filter(kind=LineKind.PART, part__isnull=False).order_by("position", "id"):
        service.planned_material_add(
            actor=actor, work_order_id=wo.pk, part_id=line.part_id, quantity=line.quantity, unit=line.unit
        )
    return wo, True


def _price_work_order(actor: Actor, quote: Quote, wo: WorkOrder, mode: str) -> None:
    """Record the accepted price on the work order: a fixed price (the quote's net total, invoiced as one
    line) or an estimate (its labour rates and part prices override the price lists, rule 2)."""
    from fixflow.service import services as service

    billing = WorkOrderBilling.objects.select_for_update().filter(work_order=wo).first()
    if billing is not None and billing.quote_id and billing.quote_id != quote.pk:
        raise DomainError(
            ErrorCode.CONFLICT, f"{wo.number} is already priced by quote {billing.quote.number}.", field="target"
        )
    if billing is None:
        billing = WorkOrderBilling(organization_id=wo.organization_id, work_order=wo)
    fixed = calc.quantize(quote.total_net, quote.currency) if mode == QuoteConversion.FIXED_PRICE else None
    billing.quote, billing.fixed_price = quote, fixed
    billing.version += 1 if billing.pk else 0
    billing.save()
    if not wo.is_billable:
        service.work_order_update(actor=actor, work_order_id=wo.pk, data={"is_billable": True})
        wo.refresh_from_db()
    now = clock.now()
    price = f"{fixed} {quote.currency}" if fixed is not None else "estimate"
    WorkOrderEvent.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        actor=actor.user,
        kind=EventKind.UPDATED,
        data={"quote": ["", quote.number], "price": ["", price]},
        occurred_at=now,
        recorded_at=now,
    )
    wo.version += 1
    wo.save(update_fields=["version", "updated_at"])


def _to_invoice(actor: Actor, quote: Quote) -> Invoice:
    """A draft invoice with the quote's lines copied (manual lines: regenerating the draft keeps them)."""
    from . import services as billing

    require(actor, "invoices.manage", "Your role may not make invoices; ask an accountant to convert this quote.")
    if quote.work_order_id:
        wo = WorkOrder.objects.filter(pk=quote.work_order_id).first()
        if wo is not None and wo.status != Status.CANCELLED:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"This quote prices {wo.number}: convert it to the work order (fixed price) and invoice the work "
                "order when it is closed, so the work is not billed twice.",
                field="target",
            )
    calc.check_currency(quote.currency)
    settings = settings_for(actor.organization)
    cb = ClientBilling.objects.filter(client_id=quote.client_id).first()
    # services.py has no public "new draft with these lines"; its own helpers make and total the draft
    invoice = billing._new_draft(actor, settings, quote.client_id, quote.currency, cb)
    invoice.note = f"As accepted in quote {quote.number} of {quote.issue_date:%Y-%m-%d}."
    invoice.save(update_fields=["note", "updated_at"])
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                organization_id=invoice.organization_id,
                invoice=invoice,
                position=position,
                kind=LineKind.MANUAL,
                description=line.description,
                detail=line.detail,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                unit_cost=line.unit_cost,
                discount_percent=line.discount_percent,
                discount_reason=line.discount_reason,
                net_amount=line.net_amount,
                tax_category=line.tax_category,
                tax_rate=line.tax_rate,
                exemption_reason=line.exemption_reason,
                exemption_code=line.exemption_code,
                part_id=line.part_id,
            )
            for position, line in enumerate(quote.lines.order_by("position", "id"), 1)
        ]
    )
    billing._recompute(invoice)
    return invoice


def converted_to(quote: Quote) -> str:
    if quote.converted_work_order_id:
        return f"work order {quote.converted_work_order.number}"
    if quote.converted_invoice_id:
        return "a draft invoice" if quote.converted_invoice.number is None else f"invoice {quote.converted_invoice}"
    return "another document"


@transaction.atomic
def quote_convert(
    *,
    actor: Actor,
    quote_id,
    target: str,
    mode: str = QuoteConversion.FIXED_PRICE,
    site_id=None,
    expected_version: int | None = None,
) -> Quote:
    """Turn an accepted quote, once, into:

    - ``work_order``: the work order it was made from (when still open for billing), else its request's new
      work order, else a new one at its site (``site_id`` when the quote names none; part lines become
      planned materials); the price goes on the work order's billing terms: ``fixed_price`` (the quote's net
      total, invoiced as one line) or ``estimate`` (its rates and part prices price what is recorded);
    - ``invoice``: a draft invoice with its lines (needs ``invoices.manage``; refused for a quote of a work
      order, which is invoiced from the work order).

    Locks the quote: a second conversion is refused with CONFLICT naming the first. The work order and
    invoice are made by ``service.services`` and ``billing.services``, which check their own permissions."""
    quote = _locked_quote(actor, quote_id)
    check_version(quote, expected_version)
    if quote.status != QuoteStatus.ACCEPTED:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"{quote.number} is {quote.get_status_display().lower()}: only a quote the client accepted is converted.",
        )
    if quote.converted_at is not None:
        raise DomainError(ErrorCode.CONFLICT, f"{quote.number} was converted already, into {converted_to(quote)}.")
    if target not in CONVERSION_TARGETS:
        raise validation("Convert into a work order or an invoice.", field="target")
    fields = ["converted_at"]
    if target == "work_order":
        if mode not in QuoteConversion.values:
            raise validation("Choose a fixed price or an estimate.", field="mode")
        wo, _made = _work_order_for(actor, quote, site_id)
        _price_work_order(actor, quote, wo, mode)
        quote.converted_work_order, quote.conversion = wo, mode
        fields += ["converted_work_order", "conversion"]
    else:
        quote.converted_invoice = _to_invoice(actor, quote)
        fields.append("converted_invoice")
    quote.converted_at = clock.now()
    _bump(quote, *fields)
    return quote
