"""Report pages of the billing app: the revenue-leakage report (issue 5, DOMAIN.md §4).

Three sections — closed billable work not invoiced after N days (per client, with "invoice now"), time,
parts and charges recorded after their work order was invoiced, accepted quotes not converted — each with
its estimated value, and the whole or one section as CSV (``?format=csv[&section=…]``, the rows of
``GET /api/v1/billing/leakage?format=csv``). N comes from the form (validated: a bad value is shown as an
error next to the field and the report falls back to the billing settings' threshold).
"""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from fixflow.core import clock
from fixflow.web.helpers import actor_required

from . import report_selectors as reports
from .report_api import leakage_csv_response

SECTION_CHOICES = (
    ("", _("All sections")),
    ("unbilled", _("Closed work not invoiced")),
    ("late_facts", _("Recorded after invoicing")),
    ("quotes", _("Accepted quotes not converted")),
)


class LeakageForm(forms.Form):
    days = forms.IntegerField(
        label=_("Closed for more than (days)"),
        required=False,
        min_value=0,
        max_value=reports.MAX_DAYS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": reports.MAX_DAYS}),
    )
    section = forms.ChoiceField(label=_("Section"), required=False, choices=SECTION_CHOICES, widget=forms.HiddenInput)
    format = forms.ChoiceField(required=False, choices=(("", "html"), ("csv", "CSV")), widget=forms.HiddenInput)

    def value(self, name: str):
        """A valid value, or None when the field is empty or refused (its error is shown)."""
        return (getattr(self, "cleaned_data", {}) or {}).get(name) or None


def _closed_work_url(actor) -> str:
    """Where "Invoice now" leads: the "invoice closed work" page for those who make invoices; the others
    (dispatchers) get the client's work orders waiting for an invoice."""
    if not actor.can("invoices.manage"):
        return ""
    try:
        return reverse("billing-invoice-closed-work")
    except NoReverseMatch:  # the invoice pages are not installed
        return ""


@actor_required
@require_GET
def leakage_page(request):
    """The report; the CSV of the whole report or one section with ``format=csv``."""
    actor = request.actor
    reports.require_leakage(actor)
    data = request.GET.copy()  # the value shown is the one used: the settings' threshold when none is given
    if not data.get("days"):
        data["days"] = str(reports.default_days(actor))
    form = LeakageForm(data)
    is_valid = form.is_valid()
    days = form.cleaned_data.get("days") if is_valid else form.value("days")
    report = reports.leakage(actor=actor, days=days)
    today = clock.now().astimezone(actor.organization.tzinfo).date()
    if is_valid and form.cleaned_data.get("format") == "csv":
        return leakage_csv_response(report, section=form.cleaned_data.get("section") or None, today=today)
    return render(
        request,
        "billing/reports/leakage.html",
        {
            "nav": "home",
            "form": form,
            "report": report,
            "summary": reports.summarize(report),
            "groups": reports.unbilled_by_client(report),
            "late_groups": reports.late_facts_by_work_order(report),
            "default_days": reports.default_days(actor),
            "closed_work_url": _closed_work_url(actor),
        },
        status=200 if is_valid else 422,
    )


urlpatterns = [
    path("billing/leakage/", leakage_page, name="billing-leakage"),
]
