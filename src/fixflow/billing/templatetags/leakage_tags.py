"""Money as the revenue-leakage pages show it: ``1,234.50 EUR``, totals in several currencies side by side."""

from decimal import Decimal

from django import template

from fixflow.billing.report_selectors import money

register = template.Library()


@register.filter
def amount(value, currency: str = ""):
    """``Decimal("1234.5")|amount:"EUR"`` → ``1,234.50 EUR``; empty for no value."""
    if value in (None, ""):
        return ""
    rounded = money(Decimal(value), currency) if currency else Decimal(value)
    places = max(0, -rounded.as_tuple().exponent) if isinstance(rounded.as_tuple().exponent, int) else 2
    text = f"{rounded:,.{places}f}"
    return f"{text} {currency}".strip()


@register.filter
def amounts(totals) -> str:
    """Totals per currency (``report_selectors.Amount``) as ``120.00 EUR · 35.00 CHF``; ``–`` for none."""
    parts = [amount(t.amount, t.currency) for t in totals or ()]
    return " · ".join(parts) if parts else "–"
