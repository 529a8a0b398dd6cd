"""Pages for the maintenance forecast calendar, the PM compliance report (page, chart and CSV) and stale plans.

The views parse the query string with a form, call one selector and present what it returns. A bad query
parameter (a date, an id, a group) becomes an error next to its field and the page falls back to the
default for it, never a 500.
"""

from __future__ import annotations

import csv
from calendar import monthrange
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from fixflow.core import clock as wall_clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.permissions import Actor, require
from fixflow.web.helpers import actor_required, add_domain_error

from . import selectors
from .selectors import ForecastItem, ForecastKind
from .services import plan_queryset

FIRST_YEAR, LAST_YEAR = 1900, 2999  # the calendar can page through these years


def _today(actor: Actor) -> date:
    return wall_clock.now().astimezone(actor.organization.tzinfo).date()


def _choices(items, label=str, empty=None) -> list[tuple[str, str]]:
    return ([("", empty)] if empty is not None else []) + [(str(i.pk), label(i)) for i in items]


def _in_years(value: date | None) -> date | None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise forms.ValidationError(
            _("Choose a date between %(first)s and %(last)s.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return value


class _Options:
    """What the filters offer, read once per page: sites and plans; for the forecast also technicians (who
    may lead work) and the equipment in service."""

    def __init__(self, actor: Actor, *, forecast: bool = False):
        from fixflow.assets.choices import EquipmentStatus
        from fixflow.assets.models import Equipment
        from fixflow.customers.models import Site
        from fixflow.service.selectors import assignable_users

        org = actor.organization_id
        self.sites = list(Site.objects.filter(organization_id=org).order_by("name", "id"))
        self.plans = list(plan_queryset(actor=actor).only("id", "name", "site_id").order_by("name", "id"))
        self.technicians = assignable_users(actor=actor) if forecast else []
        self.equipment = (
            list(
                Equipment.objects.filter(organization_id=org)
                .exclude(status=EquipmentStatus.RETIRED)
                .only("id", "name", "site_id")
                .order_by("name", "id")
            )
            if forecast
            else []
        )


# ---------------------------------------------------------------------------------------------
# the forecast calendar

VIEWS = (("month", _("Month")), ("week", _("Week")), ("day", _("Day")))
CELL_CAP = {"month": 4, "week": 25}  # items shown per day cell; the rest behind "+N more" (the day view)
DAY_CAP = 500  # items listed in the day view
WEEKDAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))

KINDS = {  # kind -> (label, symbol, what it means)
    ForecastKind.OVERDUE: (_("Overdue"), "!", _("generated, due date passed, work order not done")),
    ForecastKind.GENERATED: (_("Generated"), "●", _("a work order exists")),
    ForecastKind.UPCOMING: (_("Upcoming"), "○", _("not generated yet")),
    ForecastKind.SKIPPED: (_("Skipped"), "⊘", _("the previous one was still open")),
    ForecastKind.MISSED: (_("Missed"), "✕", _("its date passed before it was generated")),
}


class ForecastFilterForm(forms.Form):
    view = forms.ChoiceField(label=_("View"), required=False, choices=VIEWS, widget=forms.HiddenInput)
    date = forms.DateField(label=_("Date"), required=False, widget=forms.HiddenInput)
    site = forms.ChoiceField(label=_("Site"), required=False)
    equipment = forms.ChoiceField(label=_("Equipment"), required=False)
    technician = forms.ChoiceField(label=_("Technician"), required=False)
    plan = forms.ChoiceField(label=_("Plan"), required=False)

    def __init__(self, *args, actor: Actor, **kwargs):
        from fixflow.service.forms import ParentSelect

        super().__init__(*args, **kwargs)
        options = _Options(actor, forecast=True)
        self.fields["site"].choices = _choices(options.sites, empty=_("All sites"))
        self.fields["equipment"].widget = ParentSelect(filter_by="site")
        self.fields["equipment"].choices = _choices(options.equipment, empty=_("All equipment"))
        self.fields["equipment"].widget.parents = {str(e.pk): str(e.site_id) for e in options.equipment}
        self.fields["technician"].choices = _choices(
            options.technicians, lambda u: u.full_name or u.email, empty=_("Anyone")
        )
        self.fields["plan"].widget = ParentSelect(filter_by="site")
        self.fields["plan"].choices = _choices(options.plans, lambda p: p.name, empty=_("All plans"))
        self.fields["plan"].widget.parents = {str(p.pk): str(p.site_id) for p in options.plans}

    def clean_date(self):
        return _in_years(self.cleaned_data.get("date"))

    def values(self) -> dict:
        """The valid values; an invalid field is left out (and shows its error)."""
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "")}

    @property
    def field_errors(self) -> list[str]:
        """Errors of the hidden fields (view, date), which have no place of their own on the page."""
        return [f"{self[name].label}: {e}" for name in ("view", "date") for e in self.errors.get(name, [])]


@dataclass
class Day:
    day: date
    items: list[ForecastItem] = field(default_factory=list)
    in_period: bool = True
    is_today: bool = False
    cap: int = 0

    @property
    def shown(self) -> list[ForecastItem]:
        return self.items[: self.cap] if self.cap else self.items

    @property
    def more(self) -> int:
        return max(0, len(self.items) - self.cap) if self.cap else 0


def _period(view: str, day: date) -> tuple[date, date, date, date]:
    """(first, last) day of the period shown and (previous, next) dates to page to."""
    if view == "day":
        return day, day, day - timedelta(days=1), day + timedelta(days=1)
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6), first - timedelta(days=7), first + timedelta(days=7)
    first = day.replace(day=1)
    last = day.replace(day=monthrange(day.year, day.month)[1])
    previous = (first - timedelta(days=1)).replace(day=1)
    return first, last, previous, last + timedelta(days=1)


def _title(view: str, first: date, last: date) -> str:
    if view == "day":
        return first.strftime("%A %-d %B %Y")
    if view == "week":
        year, week, _weekday = first.isocalendar()
        span = (
            f"{first:%-d %b} – {last:%-d %b %Y}" if first.year == last.year else f"{first:%-d %b %Y} – {last:%-d %b %Y}"
        )
        return f"Week {week}, {year} · {span}"
    return first.strftime("%B %Y")


def _weeks(view: str, first: date, last: date, items: list[ForecastItem], today: date) -> list[list[Day]]:
    """The calendar grid: weeks of seven days, Monday first; in the month view the days of the weeks
    around the month are shown without items (they belong to the previous or next month)."""
    by_day: dict[date, list[ForecastItem]] = defaultdict(list)
    for item in items:
        by_day[item.due_date].append(item)
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=6 - last.weekday())
    weeks, week = [], []
    day = start
    while day <= end:
        inside = first <= day <= last
        week.append(
            Day(day, by_day.get(day, []) if inside else [], in_period=inside, is_today=day == today, cap=CELL_CAP[view])
        )
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += timedelta(days=1)
    return weeks


@actor_required
@require_GET
def forecast(request):
    """The planning calendar: due occurrences per day, month / week / day view, with filters."""
    actor = request.actor
    require(actor, "maintenance.view")
    today = _today(actor)
    form = ForecastFilterForm(request.GET, actor=actor)
    values = form.values()
    view = values.get("view") or "month"
    anchor = values.get("date") or today
    first, last, previous, following = _period(view, anchor)
    filters = {
        "site_id": values.get("site"),
        "equipment_id": values.get("equipment"),
        "technician_id": values.get("technician"),
        "plan_id": values.get("plan"),
    }
    try:
        items = selectors.forecast(actor=actor, date_from=first, date_to=last, **filters)
    except DomainError as exc:
        if exc.code != ErrorCode.VALIDATION:
            raise
        add_domain_error(form, exc)
        items = selectors.forecast(actor=actor, date_from=first, date_to=last)
    counts = Counter(i.kind for i in items)
    context = {
        "nav": "maintenance",
        "tab": "forecast",
        "form": form,
        "view": view,
        "views": VIEWS,
        "title": _title(view, first, last),
        "first": first,
        "last": last,
        "previous": previous.isoformat(),
        "following": following.isoformat(),
        "today": today,
        "today_iso": today.isoformat(),
        "anchor": anchor,
        "anchor_iso": anchor.isoformat(),
        "weekdays": WEEKDAYS,
        "week_view": view == "week",
        "is_filtered": any(filters.values()),
        "kinds": [
            {"kind": kind, "label": label, "symbol": symbol, "help": help_text, "count": counts.get(kind, 0)}
            for kind, (label, symbol, help_text) in KINDS.items()
        ],
        "total": len(items),
    }
    if view == "day":
        context["items"] = items[:DAY_CAP]
        context["hidden"] = max(0, len(items) - DAY_CAP)
    else:
        context["weeks"] = _weeks(view, first, last, items, today)
    return render(request, "maintenance/report/forecast.html", context)


# ---------------------------------------------------------------------------------------------
# PM compliance

GROUP_CHOICES = (("week", _("Week")), ("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year")))


def default_compliance_range(today: date) -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months ago until today."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1), today


class ComplianceFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(
        label=_("Until (included)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    site = forms.ChoiceField(label=_("Site"), required=False)
    plan = forms.ChoiceField(label=_("Plan"), required=False)
    group = forms.ChoiceField(label=_("Per"), required=False, choices=GROUP_CHOICES)

    def __init__(self, *args, actor: Actor, today: date, **kwargs):
        from fixflow.service.forms import ParentSelect

        super().__init__(*args, **kwargs)
        self.default_from, self.default_to = default_compliance_range(today)
        options = _Options(actor)
        self.fields["site"].choices = _choices(options.sites, empty=_("All sites"))
        self.fields["plan"].widget = ParentSelect(filter_by="site")
        self.fields["plan"].choices = _choices(options.plans, lambda p: p.name, empty=_("All plans"))
        self.fields["plan"].widget.parents = {str(p.pk): str(p.site_id) for p in options.plans}

    def clean_date_from(self):
        return _in_years(self.cleaned_data.get("date_from"))

    def clean_date_to(self):
        return _in_years(self.cleaned_data.get("date_to"))

    def report_args(self) -> dict:
        """The selector's arguments; invalid fields fall back to their default (and show their error)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "date_from": data.get("date_from") or self.default_from,
            "date_to": data.get("date_to") or self.default_to,
            "site_id": data.get("site") or None,
            "plan_id": data.get("plan") or None,
            "group": data.get("group") or "month",
        }


CSV_HEADER = [
    "period",
    "site_id",
    "site",
    "plan_id",
    "plan",
    "due",
    "on_time",
    "late",
    "open",
    "cancelled",
    "skipped",
    "missed",
    "compliance_percent",
]


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (a plan named ``=HYPERLINK(...)``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(report: selectors.ComplianceReport) -> HttpResponse:
    """One row per period × site × plan with anything due, in period order."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"pm-compliance-{report.date_from.isoformat()}-{report.date_to.isoformat()}-{report.group}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for r in report.detail:
        percent = "" if r.compliance_percent is None else f"{r.compliance_percent:.1f}"
        writer.writerow(
            [
                r.key,
                r.site_id,
                _csv_safe(r.site_name),
                r.plan_id,
                _csv_safe(r.plan_name),
                r.due,
                r.on_time,
                r.late,
                r.open,
                r.cancelled,
                r.skipped,
                r.missed,
                percent,
            ]
        )
    return response


LABEL_CHAR_WIDTH = 6.5  # SVG units per character of an 11 px axis label


def _chart(report: selectors.ComplianceReport) -> dict:
    """On time beside not done on time, per period: the SLA report's bar pair chart, fed PM rows.

    ``sla.report_views._chart`` positions pairs of bars (``met``, ``breached``) per row of ``by_month``;
    each PM period is handed to it in that shape. Long ranges label every few periods only.
    """
    from fixflow.sla.report_views import _chart as bar_pairs

    rows = [
        SimpleNamespace(key=r.key, label=r.label, met=r.on_time, breached=r.due - r.on_time, pm=r)
        for r in report.by_period
    ]
    chart = bar_pairs(SimpleNamespace(by_month=rows))
    label_width = max((len(r.key) for r in rows), default=1) * LABEL_CHAR_WIDTH + 8
    fits = max(1, int((chart["width"] - chart["left"] - chart["right"]) // label_width))
    every = max(1, -(-len(rows) // fits))
    for index, bar in enumerate(chart["bars"]):
        bar["show_label"] = index % every == 0
    return chart


@actor_required
@require_GET
def compliance(request):
    """PM compliance: completed on time / due per period, site and plan; a chart, tables and a CSV export."""
    actor = request.actor
    require(actor, "maintenance.view")
    today = _today(actor)
    data = request.GET.copy()  # the values shown are the ones used: the defaults when none are given
    default_from, default_to = default_compliance_range(today)
    for name, default in (
        ("date_from", default_from.isoformat()),
        ("date_to", default_to.isoformat()),
        ("group", "month"),
    ):
        if not data.get(name):
            data[name] = default
    form = ComplianceFilterForm(data, actor=actor, today=today)
    args = form.report_args()
    want_csv = request.GET.get("format") == "csv"
    try:
        report = selectors.compliance(actor=actor, detail=want_csv, **args)
    except DomainError as exc:
        if exc.code != ErrorCode.VALIDATION:
            raise
        add_domain_error(form, exc)
        report = selectors.compliance(
            actor=actor, date_from=form.default_from, date_to=form.default_to, detail=want_csv
        )
    if want_csv:
        return _csv(report)
    params = request.GET.copy()
    params["format"] = "csv"
    return render(
        request,
        "maintenance/report/compliance.html",
        {
            "nav": "maintenance",
            "tab": "compliance",
            "form": form,
            "report": report,
            "group_label": dict(GROUP_CHOICES)[report.group],
            "not_on_time": report.totals.due - report.totals.on_time,
            "chart": _chart(report),
            "csv_query": params.urlencode(),
        },
    )


# ---------------------------------------------------------------------------------------------
# stale plans


class StaleForm(forms.Form):
    n = forms.IntegerField(
        label=_("Last work orders"),
        required=False,
        min_value=1,
        max_value=selectors.STALE_MAX_N,
        widget=forms.NumberInput(attrs={"placeholder": "3"}),
        help_text=_("How many of a plan's latest generated work orders were never started."),
    )

    def last_n(self) -> int:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("n") or 3


@actor_required
@require_GET
def stale(request):
    """Active plans whose last N generated work orders were never started."""
    actor = request.actor
    require(actor, "maintenance.view")
    data = request.GET.copy()
    if not data.get("n"):
        data["n"] = "3"
    form = StaleForm(data)
    last_n = form.last_n()
    plans = selectors.stale_plans(actor=actor, last_n=last_n)
    return render(
        request,
        "maintenance/report/stale.html",
        {"nav": "maintenance", "tab": "stale", "form": form, "last_n": last_n, "plans": plans},
    )


urlpatterns = [
    path("maintenance/forecast/", forecast, name="maintenance-forecast"),
    path("maintenance/compliance/", compliance, name="maintenance-compliance"),
    path("maintenance/stale/", stale, name="maintenance-stale"),
]
