"""The "Charges" section of the work order page (call-out fees, fixed charges, expenses)."""

from django import template

register = template.Library()


@register.inclusion_tag("billing/charges/_section.html", takes_context=True)
def work_order_charges(context):
    """The section for ``wo`` in the context; a form refused without JavaScript comes back through
    ``request.charge_form`` (set by ``charge_views.charge_add``)."""
    from fixflow.billing.charge_views import section_context

    request = context["request"]
    if getattr(request, "actor", None) is None:
        return {"charges_visible": False}
    data = section_context(request, context["wo"], form=getattr(request, "charge_form", None))
    return {**data, "request": request, "csrf_token": context.get("csrf_token")}
