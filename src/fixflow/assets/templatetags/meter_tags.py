"""Meter values as people read them, and the "Meter readings" card of the work order page."""

from decimal import Decimal

from django import template

from fixflow.assets import meters

register = template.Library()


@register.filter
def meter_amount(value, unit: str = ""):
    """``1234.500`` → ``1,234.5 h``; empty for no value."""
    if value in (None, ""):
        return ""
    return meters.format_amount(Decimal(value), unit)


@register.filter
def meter_rate(value, unit: str = ""):
    """A usage rate per day, to a sensible precision: ``12.3 h/day``, ``0.45 h/day``."""
    if value in (None, ""):
        return ""
    value = Decimal(value)
    places = Decimal("0.1") if abs(value) >= 10 else Decimal("0.01")
    return f"{meters.format_amount(value.quantize(places), unit)}/day"


@register.inclusion_tag("assets/meters/_work_order_card.html", takes_context=True)
def work_order_meter_card(context):
    """The card for ``wo`` in the context; a refused reading posted without JavaScript comes back through
    ``request.meter_reading_forms`` (set by ``meter_views.work_order_meter_reading``)."""
    from fixflow.assets.meter_views import work_order_card_context

    request = context["request"]
    wo = context["wo"]
    if getattr(request, "actor", None) is None:
        return {"wo_meters": []}
    data = work_order_card_context(request, wo, forms=getattr(request, "meter_reading_forms", None))
    return {**data, "request": request}


@register.inclusion_tag("assets/meters/_card.html", takes_context=True)
def meter_card(context, card: dict):
    """One meter's card from ``meter_views.meter_card_context`` (the htmx answer renders the same template)."""
    return {**card, "request": context.get("request"), "actor": context.get("actor")}
