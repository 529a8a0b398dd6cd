"""The "Charges" section of the work order page: call-out fees, fixed charges and expenses (with a receipt
from the work order's files), listed with the invoice they are on, added and removed.

The section is drawn by ``{% work_order_charges %}`` (``templatetags/charge_tags.py``) inside the work
order page; adding and removing swap the section with htmx, or redirect back to the page without
JavaScript (a refused form then comes back on the page with its errors, nothing typed lost). Writes go
through ``services.charge_add`` / ``charge_delete``; who may do what is decided there (``charges.record``:
admins, dispatchers, technicians on work assigned to them; nothing once the work order is invoiced).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.permissions import require
from fixflow.web.forms import call_service, failed_status
from fixflow.web.helpers import actor_required

from . import charge_selectors as selectors
from . import services
from .choices import ChargeKind
from .models import ClientBilling

RECORD = "charges.record"


class ChargeForm(forms.Form):
    """What a charge needs; the service checks the numbers (positive quantity, at most 4 decimals of
    price) and the receipt, and names the field it refuses."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ChargeKind.choices, initial=ChargeKind.EXPENSE)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. Parking, disposal fee, call-out")}),
    )
    quantity = forms.DecimalField(label=gettext_lazy("Quantity"), initial=Decimal(1), max_digits=12, decimal_places=3)
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=20, initial="pc", required=False)
    unit_price = forms.DecimalField(
        label=gettext_lazy("Unit price (net)"), max_digits=14, decimal_places=4, min_value=0
    )
    incurred_on = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    receipt = forms.ChoiceField(
        label=gettext_lazy("Receipt"),
        required=False,
        help_text=gettext_lazy("A file attached to this work order (add the photo under Files first)."),
    )
    is_billable = forms.BooleanField(label=gettext_lazy("Billable"), required=False, initial=True)

    def __init__(self, *args, work_order, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incurred_on"].initial = today
        files = work_order.attachments.order_by("created_at", "id").values_list("pk", "original_name")
        self.fields["receipt"].choices = [("", _("— no receipt —"))] + [(str(pk), name) for pk, name in files]

    def service_data(self) -> dict:
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "description": d["description"],
            "quantity": d["quantity"],
            "unit": d.get("unit") or "pc",
            "unit_price": d["unit_price"],
            "incurred_on": d["incurred_on"],
            "is_billable": bool(d.get("is_billable")),
            "receipt_id": d.get("receipt") or None,
        }


def _today(actor):
    return clock.now().astimezone(actor.organization.tzinfo).date()


def _currency(actor, wo) -> str:
    """The currency the work order will be invoiced in: its client's, else the organization's."""
    own = ClientBilling.objects.filter(client_id=wo.client_id).values_list("currency", flat=True).first()
    return own or actor.organization.currency


def section_context(request, wo, *, form=None, notice: str = "", error: str = "") -> dict:
    """Everything the section shows for this actor; ``charges_visible`` False for those who may not see
    costs (client users, requesters)."""
    actor = request.actor
    permissions = selectors.charge_permissions(actor=actor, work_order=wo)
    if not permissions.may_view:
        return {"charges_visible": False}
    charges = list(selectors.charge_list(actor=actor, work_order=wo))
    for charge in charges:
        charge.amount = charge.quantity * charge.unit_price
        charge.quantity_display = f"{charge.quantity.normalize():f}"
    billable = sum((c.amount for c in charges if c.is_billable), Decimal(0))
    if form is not None and form.errors and not permissions.may_record:
        # refused because the work order moved on (invoiced, cancelled): the form is gone, say why
        error = error or " ".join(str(e) for errors in form.errors.values() for e in errors)
    return {
        "charges_visible": True,
        "wo": wo,
        "charges": charges,
        "charges_billable_total": billable,
        "charges_currency": _currency(actor, wo),
        "charges_may_record": permissions.may_record,
        "charges_closed_reason": permissions.closed_reason,
        "charge_form": form or ChargeForm(work_order=wo, today=_today(actor), auto_id="charge-%s"),
        "charges_notice": notice,
        "charges_error": error,
    }


def _section(request, wo, *, status: int = 200, **kwargs) -> HttpResponse:
    html = render_to_string("billing/charges/_section.html", section_context(request, wo, **kwargs), request=request)
    return HttpResponse(html, status=status)


def _work_order(request, pk):
    from fixflow.service.selectors import work_order_get

    return work_order_get(actor=request.actor, pk=pk)


def _back(wo_id: int) -> str:
    return reverse("work_order_detail", args=[wo_id]) + "#wo-charges"


@require_POST
@actor_required
def charge_add(request, pk):
    """Record a charge from the work order page."""
    actor = request.actor
    wo = _work_order(request, pk)
    require(actor, RECORD)
    form = ChargeForm(request.POST, work_order=wo, today=_today(actor), auto_id="charge-%s")
    charge = None
    if form.is_valid():
        charge = call_service(
            form, lambda: services.charge_add(actor=actor, work_order_id=wo.pk, **form.service_data())
        )
    if charge is not None:
        notice = _("Charge “%(description)s” recorded.") % {"description": charge.description}
        if request.htmx:
            return _section(request, _work_order(request, wo.pk), notice=notice)
        messages.success(request, notice)
        return redirect(_back(wo.pk))
    if request.htmx:
        return _section(request, wo, form=form, status=failed_status(request))
    # without JavaScript: the work order page again, with this form and its errors
    from fixflow.service.views import work_order_detail

    request.charge_form = form
    response = work_order_detail(request, wo.pk)
    response.status_code = failed_status(request)
    return response


@require_POST
@actor_required
def charge_delete(request, pk):
    """Remove a charge recorded by mistake; refused (with the reason) once it is on an invoice."""
    actor = request.actor
    charge = selectors.charge_get(actor=actor, pk=pk)
    wo_id = charge.work_order_id
    try:
        services.charge_delete(actor=actor, charge_id=charge.pk)
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        if request.htmx:
            return _section(request, _work_order(request, wo_id), error=exc.message)
        messages.error(request, exc.message)
        return redirect(_back(wo_id))
    notice = _("Charge “%(description)s” removed.") % {"description": charge.description}
    if request.htmx:
        return _section(request, _work_order(request, wo_id), notice=notice)
    messages.success(request, notice)
    return redirect(_back(wo_id))


urlpatterns = [
    path("work-orders/<int:pk>/charges/add/", charge_add, name="billing-charge-add"),
    path("charges/<int:pk>/delete/", charge_delete, name="billing-charge-delete"),
]
