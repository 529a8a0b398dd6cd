"""Presentation helpers of the quote pages: status badges, amounts in a currency, VAT labels."""

from decimal import Decimal

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext as _

from fixflow.billing import calculations as calc
from fixflow.billing.choices import QuoteStatus, VatCategory

register = template.Library()

TONES = {
    QuoteStatus.DRAFT: "muted",
    QuoteStatus.SENT: "info",
    QuoteStatus.ACCEPTED: "ok",
    QuoteStatus.REJECTED: "danger",
    QuoteStatus.EXPIRED: "warn",
}


@register.simple_tag
def quote_badge(quote):
    """The status of a quote as a coloured pill."""
    status = QuoteStatus(quote.status)
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>', TONES.get(status, "info"), status, status.label
    )


@register.filter
def money(amount, currency: str) -> str:
    """``1234.5`` in EUR → ``1,234.50 EUR``: rounded to the currency's minor units, grouped."""
    if amount in (None, ""):
        return ""
    try:
        places = calc.minor_units(currency)
        value = calc.quantize(Decimal(amount), currency)
    except Exception:  # noqa: BLE001 - a display helper never breaks the page
        return f"{amount} {currency}"
    return f"{formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)} {currency}"


@register.filter
def price(amount) -> str:
    """A unit price: 2 decimals, or up to 4 when it has them (``12.5`` → ``12.50``, ``0.1234`` stays)."""
    if amount in (None, ""):
        return ""
    value = Decimal(amount).quantize(Decimal("0.0001"))
    shown = value.quantize(Decimal("0.01"))
    value = shown if shown == value else value.normalize()
    return formats.number_format(value, use_l10n=True, force_grouping=True)


@register.filter
def quantity(value) -> str:
    if value in (None, ""):
        return ""
    value = Decimal(value).normalize()
    return formats.number_format(value if value != value.to_integral() else value.quantize(Decimal(1)), use_l10n=True)


@register.filter
def vat_label(line) -> str:
    """``19 %`` for standard rates, the category's name otherwise."""
    is_line = hasattr(line, "tax_category")
    category = line.tax_category if is_line else line.category
    rate = line.tax_rate if is_line else line.rate
    if category == VatCategory.STANDARD or rate:
        return f"{formats.number_format(Decimal(rate).normalize(), use_l10n=True)} %"
    return {"AE": _("Reverse charge"), "E": _("Exempt"), "Z": "0 %", "K": _("Intra-EU"), "G": _("Export")}.get(
        category, _("Not subject to VAT")
    )


@register.filter
def plain_price(amount) -> str:
    """A unit price as an input takes it back: no grouping, 2 decimals or up to 4 (``12.5`` → ``12.50``)."""
    from fixflow.web.forms import plain_decimal

    return plain_decimal(Decimal(amount), 2) if amount not in (None, "") else ""


@register.simple_tag
def source_quotes(source):
    """The quotes made from a work order or request, and those that became the work order, newest first."""
    from django.db.models import Q

    from fixflow.billing.models import Quote
    from fixflow.service.models import WorkOrder

    if isinstance(source, WorkOrder):
        condition = Q(work_order=source) | Q(converted_work_order=source)
    else:
        condition = Q(work_request=source)
    return list(Quote.objects.filter(condition, organization_id=source.organization_id).order_by("-created_at", "-id"))
