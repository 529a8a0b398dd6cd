"""SLA on work order pages (recalculation) and the compliance report (page, chart and CSV)."""

from __future__ import annotations

import csv
from datetime import date

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from fixflow.core import clock as wall_clock
from fixflow.core.errors import DomainError, ErrorCode, not_found
from fixflow.core.permissions import Actor, require
from fixflow.web.helpers import actor_required, add_domain_error

from . import selectors, services
from .choices import Target

# ---------------------------------------------------------------------------------------------
# the work order page: recalculate


@actor_required
@require_POST
def work_order_recalculate(request, pk):
    """Apply the policy that matches now to an open work order (rule 4), then back to its page."""
    from fixflow.service.selectors import work_order_queryset

    actor = request.actor
    if not work_order_queryset(actor=actor).filter(pk=pk).exists():
        raise not_found("Work order")
    require(actor, "sla.recalculate")
    try:
        sla = services.work_order_recalculate(actor=actor, work_order_id=pk)
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"SLA recalculated with the policy “{sla.policy_name}” (version {sla.policy_version})."
        )
    return redirect(reverse("work_order_detail", args=[pk]) + "#sla")


# ---------------------------------------------------------------------------------------------
# the compliance report


class ComplianceFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(
        label=_("Until (not included)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    client = forms.ChoiceField(label=_("Client"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    target = forms.ChoiceField(label=_("Target"), required=False, choices=[("", _("Both targets")), *Target.choices])

    def __init__(self, *args, actor: Actor, today: date, **kwargs):
        from fixflow.customers.models import Client
        from fixflow.service.choices import Priority

        super().__init__(*args, **kwargs)
        self.default_from, self.default_to = selectors.default_report_range(today)
        self.fields["date_from"].widget.attrs["placeholder"] = self.default_from.isoformat()
        self.fields["date_to"].widget.attrs["placeholder"] = self.default_to.isoformat()
        clients = Client.objects.filter(organization_id=actor.organization_id).order_by("name", "id")
        self.fields["client"].choices = [("", _("All clients"))] + [(str(c.pk), c.name) for c in clients]
        self.fields["priority"].choices = [("", _("Any priority")), *Priority.choices]

    def report_args(self) -> dict:
        """The selector's arguments; invalid fields fall back to their default (and show their error)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "date_from": data.get("date_from") or self.default_from,
            "date_to": data.get("date_to") or self.default_to,
            "client_id": data.get("client") or None,
            "priority": data.get("priority") or None,
            "target": data.get("target") or None,
        }


CSV_HEADER = ["group", "key", "label", "met", "breached", "open", "total", "compliance_percent"]


def _csv(report: selectors.ComplianceReport) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"sla-compliance-{report.date_from.isoformat()}-{report.date_to.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    groups = [
        ("client", report.by_client),
        ("priority", report.by_priority),
        ("month", report.by_month),
        ("target", report.by_target),
        ("total", [report.totals]),
    ]
    for group, rows in groups:
        for r in rows:
            percent = "" if r.compliance_percent is None else f"{r.compliance_percent:.1f}"
            writer.writerow([group, r.key, _csv_safe(r.label), r.met, r.breached, r.open, r.total, percent])
    return response


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (a client named ``=HYPERLINK(...)``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CHART = {"width": 760, "height": 230, "left": 44, "right": 12, "top": 16, "bottom": 40}


def _chart(report: selectors.ComplianceReport) -> dict:
    """Bars per month (met beside breached), positioned for an SVG drawn by the template."""
    months = report.by_month
    top = max([max(m.met, m.breached) for m in months] + [1])
    step = _nice_step(top)
    scale_max = ((top + step - 1) // step) * step
    plot_w = CHART["width"] - CHART["left"] - CHART["right"]
    plot_h = CHART["height"] - CHART["top"] - CHART["bottom"]
    slot = plot_w / max(len(months), 1)
    bar = max(min(slot * 0.32, 28), 3)
    base = CHART["top"] + plot_h

    def height(value: int) -> float:
        return round(plot_h * value / scale_max, 1)

    bars = []
    for i, m in enumerate(months):
        center = CHART["left"] + slot * i + slot / 2
        bars.append(
            {
                "row": m,
                "label_x": round(center, 1),
                "met_x": round(center - bar - 1, 1),
                "breached_x": round(center + 1, 1),
                "met_y": round(base - height(m.met), 1),
                "breached_y": round(base - height(m.breached), 1),
                "met_h": height(m.met),
                "breached_h": height(m.breached),
            }
        )
    ticks = [{"value": v, "y": round(base - height(v), 1)} for v in range(0, scale_max + 1, step)]
    return {
        **CHART,
        "bars": bars,
        "bar_w": round(bar, 1),
        "ticks": ticks,
        "base": base,
        "right_x": CHART["width"] - CHART["right"],
        "label_y": base + 18,
        "empty": not any(m.met or m.breached for m in months),
    }


def _nice_step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top / step <= 5:
            return step
    return max(top // 5, 1)


@actor_required
@require_GET
def compliance(request):
    actor = request.actor
    require(actor, "sla.view")
    today = wall_clock.now().astimezone(actor.organization.tzinfo).date()
    data = request.GET.copy()  # the dates shown are the ones used: the defaults when none are given
    default_from, default_to = selectors.default_report_range(today)
    if not data.get("date_from"):
        data["date_from"] = default_from.isoformat()
    if not data.get("date_to"):
        data["date_to"] = default_to.isoformat()
    form = ComplianceFilterForm(data, actor=actor, today=today)
    args = form.report_args()
    try:
        report = selectors.compliance_report(actor=actor, **args)
    except DomainError as exc:
        if exc.code != ErrorCode.VALIDATION:
            raise
        add_domain_error(form, exc)
        report = selectors.compliance_report(actor=actor, date_from=form.default_from, date_to=form.default_to)
    if request.GET.get("format") == "csv":
        return _csv(report)
    params = request.GET.copy()
    params["format"] = "csv"
    return render(
        request,
        "sla/report/compliance.html",
        {
            "nav": "sla_report",
            "form": form,
            "report": report,
            "chart": _chart(report),
            "csv_query": params.urlencode(),
        },
    )


urlpatterns = [
    path("sla/report/", compliance, name="sla-compliance"),
    path("work-orders/<int:pk>/sla/recalculate/", work_order_recalculate, name="sla-work-order-recalculate"),
]
