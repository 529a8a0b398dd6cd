"""Presentation helpers of the invoice pages: status badges, amounts in a currency, VAT labels, and the
"Invoices" panel of the work order page."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext as _

from fixflow.billing import calculations as calc
from fixflow.billing.choices import DocumentType, InvoiceStatus, VatCategory

register = template.Library()

TONES = {
    InvoiceStatus.DRAFT: "muted",
    InvoiceStatus.ISSUED: "info",
    InvoiceStatus.PARTIALLY_PAID: "warn",
    InvoiceStatus.PAID: "ok",
    InvoiceStatus.CREDITED: "muted",
}


@register.simple_tag
def invoice_badge(invoice):
    """The state of an invoice or credit note as a coloured pill (“Overdue” beside it when it is)."""
    status = InvoiceStatus(invoice.status)
    badge = format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>', TONES.get(status, "info"), status, status.label
    )
    if getattr(invoice, "is_overdue", False):
        badge += format_html(' <span class="badge badge-danger" data-status="overdue">{}</span>', _("Overdue"))
    return badge


@register.filter
def invoice_name(invoice) -> str:
    """``INV-2026-00042``, ``Draft 17`` or ``Draft credit note 18``."""
    if invoice.number:
        return invoice.number
    if invoice.document_type == DocumentType.CREDIT_NOTE:
        return _("Draft credit note %(id)s") % {"id": invoice.pk}
    return _("Draft %(id)s") % {"id": invoice.pk}


@register.filter
def amount(value, currency: str) -> str:
    """``1234.5`` in EUR → ``1,234.50``: rounded to the currency's minor units, grouped (no code)."""
    if value in (None, ""):
        return ""
    try:
        places = calc.minor_units(currency)
        value = calc.quantize(Decimal(value), currency)
    except (InvalidOperation, TypeError, ValueError, KeyError):
        return str(value)
    return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def quantity(value) -> str:
    """A quantity without trailing zeros: 2, 1.5, 0.1833."""
    if value in (None, ""):
        return ""
    number = Decimal(value).normalize()
    return format(number if number != number.to_integral() else number.quantize(Decimal(1)), "f")


@register.filter
def price(value) -> str:
    """A unit price with at least 2 decimals and at most its 4: 45 → 45.00, 0.3333 → 0.3333."""
    if value in (None, ""):
        return ""
    number = Decimal(value)
    shown = number.quantize(Decimal("0.01"))
    return format(shown if shown == number else number.normalize(), "f")


@register.filter
def vat_label(line) -> str:
    """The VAT of a line (or a breakdown row) as people read it: ``19 %``, ``Reverse charge``."""
    category = line["category"] if isinstance(line, dict) else line.tax_category
    rate = Decimal(line["rate"] if isinstance(line, dict) else line.tax_rate)
    if category == VatCategory.STANDARD or rate:
        return f"{quantity(rate)} %"
    return str(VatCategory(category).label) if category in VatCategory.values else category


@register.inclusion_tag("billing/invoices/_work_order_invoices.html", takes_context=True)
def work_order_invoices(context):
    """The invoices and credit notes that bill the work order ``wo`` of the context, as the actor may see them."""
    from fixflow.billing import selectors

    request = context.get("request")
    actor = getattr(request, "actor", None)
    wo = context.get("wo")
    if actor is None or wo is None or not actor.can("invoices.view"):
        return {"show": False}
    return {"show": True, "invoices": selectors.work_order_invoices(actor=actor, work_order_id=wo.pk), "wo": wo}
