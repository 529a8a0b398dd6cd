"""Forms of the maintenance plan pages: the list filters and the plan form.

The plan form asks in plain choices — "every 3 months on the last day", "30 days after the last
completion", "every 500 running hours" — and turns them into the data dict the services take
(:func:`fixflow.maintenance.services.plan_create` / ``plan_update``; the calendar choices become an
RFC 5545 rule through ``services.rule_from_choices``). The services validate; a refused input comes
back as a DomainError naming a field, which :meth:`PlanForm.add_service_error` shows next to the field
of this form that holds it.
"""

from __future__ import annotations

import calendar as std_calendar
import re
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from fixflow.core.errors import DomainError
from fixflow.core.permissions import Actor
from fixflow.service import selectors as service_selectors
from fixflow.service.forms import ParentSelect
from fixflow.web.forms import ListFilterForm

from . import recurrence, services
from .choices import DayShift, Mode, OpenPolicy, TriggerKind
from .models import MaintenancePlan

WEEKDAY_CHOICES = [(str(i), _(name)) for i, name in enumerate(recurrence.WEEKDAY_NAMES)]
WEEKDAY_SHORT = [(str(i), _(name[:3])) for i, name in enumerate(recurrence.WEEKDAY_NAMES)]
MONTH_CHOICES = [(str(i), _(std_calendar.month_name[i])) for i in range(1, 13)]
NTH_CHOICES = [("1", _("first")), ("2", _("second")), ("3", _("third")), ("4", _("fourth")), ("5", _("fifth"))]
NTH_CHOICES.append(("-1", _("last")))
FREQUENCY_CHOICES = [
    ("daily", _("day(s)")),
    ("weekly", _("week(s)")),
    ("monthly", _("month(s)")),
    ("yearly", _("year(s)")),
]
MONTHLY_BY_CHOICES = [
    ("day", _("On a day of the month")),
    ("nth_weekday", _("On a weekday of the month, e.g. the 2nd Tuesday")),
    ("last_day", _("On the last day of the month")),
]
TIME_TRIGGER_CALENDAR = "calendar"
TIME_TRIGGER_FLOATING = "floating"
TIME_TRIGGER_NONE = "none"
TIME_TRIGGER_CUSTOM = "custom"  # a rule set through the API that the choices cannot show: kept as it is
TIME_TRIGGER_CHOICES = [
    (TIME_TRIGGER_CALENDAR, _("On fixed dates (a calendar repeat from the first due date)")),
    (TIME_TRIGGER_FLOATING, _("Floating: a number of days after the last completion")),
    (TIME_TRIGGER_NONE, _("No time trigger (the meter only)")),
]
TARGET_CHOICES = [
    ("equipment", _("One equipment item")),
    ("category", _("Every item of a category at the site")),
]
METER_MODE_CHOICES = [
    (Mode.FIXED, _("On a fixed grid: every N from the first due value, however late the work was done")),
    (Mode.FLOATING, _("From the reading when the last one was completed")),
]
OPEN_POLICY_CHOICES = [
    (OpenPolicy.SKIP, _("Skip the new one (recorded as skipped for compliance)")),
    (OpenPolicy.STACK, _("Create it anyway, next to the open one")),
    (OpenPolicy.REPLACE, _("Cancel the open one and create the new one")),
]

# the field of this form that shows a service error naming ``field``
ERROR_FIELDS = {
    "mode": "time_trigger",
    "rule": "time_trigger",
    "recurrence": "time_trigger",
    "template_id": "template",
    "site_id": "site",
    "equipment_id": "equipment",
    "category_id": "category",
    "calendar_id": "calendar",
    "lead_technician_id": "lead_technician",
}
SCHEDULE_FIELDS = (
    "time_trigger",
    "frequency",
    "interval",
    "weekdays",
    "monthly_by",
    "month_day",
    "nth",
    "weekday",
    "month",
    "interval_days",
    "use_meter",
    "meter_name",
    "meter_interval",
    "meter_start",
    "meter_mode",
    "anchor",
    "due_time",
    "lead_days",
    "horizon_days",
    "end_date",
    "max_count",
    "open_policy",
    "day_shift",
    "calendar",
)


def _choices(items, label=str, empty=None) -> list[tuple[str, str]]:
    out = [("", empty)] if empty is not None else []
    return out + [(str(i.pk), label(i)) for i in items]


def _site_label(clients):
    """Label sites as "Pumpwerk Nord · Stadtwerke" without a query per site."""
    names = {c.pk: c.name for c in clients}
    return lambda s: f"{s.name} · {names[s.client_id]}" if s.client_id in names else s.name


def choices_from_rule(rule: str, anchor: date) -> dict[str, Any] | None:
    """The plain choices that give exactly ``rule`` from ``anchor`` (as :func:`recurrence.build_rule`
    writes it), or None when the choices cannot show it (a rule typed into the API)."""
    text = (rule or "").strip()
    if not text:
        return None
    parts: dict[str, str] = {}
    for item in text.upper().split(";"):
        name, sep, value = item.partition("=")
        if not sep:
            return None
        parts[name] = value
    frequency = parts.get("FREQ", "").lower()
    if frequency not in recurrence.FREQUENCIES or not parts.get("INTERVAL", "1").isdigit():
        return None
    choices: dict[str, Any] = {"frequency": frequency, "interval": int(parts.get("INTERVAL", "1"))}
    byday = parts.get("BYDAY", "")
    if frequency == "weekly" and byday:
        codes = byday.split(",")
        if any(code not in recurrence.WEEKDAY_CODES for code in codes):
            return None
        choices["weekdays"] = [recurrence.WEEKDAY_CODES.index(code) for code in codes]
    if frequency == "yearly" and parts.get("BYMONTH", "").isdigit():
        choices["month"] = int(parts["BYMONTH"])
    if frequency in ("monthly", "yearly"):
        monthday = parts.get("BYMONTHDAY", "")
        if monthday == "-1":
            choices["monthly_by"] = "last_day"
        elif m := re.fullmatch(r"(-1|[1-5])(MO|TU|WE|TH|FR|SA|SU)", byday):
            choices.update(monthly_by="nth_weekday", nth=int(m[1]), weekday=recurrence.WEEKDAY_CODES.index(m[2]))
        elif m := re.fullmatch(r"(\d{1,2})(,-1)?", monthday):
            choices.update(monthly_by="day", month_day=int(m[1]))
    spec = _spec(choices)
    try:
        built = recurrence.build_rule(spec, anchor)
    except recurrence.RuleError:
        return None
    return choices if built == text else None


def _spec(choices: dict[str, Any]) -> recurrence.RuleSpec:
    return recurrence.RuleSpec(
        frequency=choices.get("frequency") or "monthly",
        interval=choices.get("interval") or 1,
        weekdays=tuple(choices.get("weekdays") or ()),
        monthly_by=choices.get("monthly_by") or "day",
        month_day=choices.get("month_day"),
        nth=choices.get("nth"),
        weekday=choices.get("weekday"),
        month=choices.get("month"),
    )


class PlanFilterForm(ListFilterForm):
    site = forms.ChoiceField(label=_("Site"), required=False)
    equipment = forms.ChoiceField(
        label=_("Equipment"), required=False, widget=ParentSelect(filter_by="site"), help_text=None
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Active and paused")), ("active", _("Active")), ("paused", _("Paused"))],
    )
    trigger = forms.ChoiceField(
        label=_("Trigger"), required=False, choices=[("", _("Any trigger")), *TriggerKind.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Plan name…")
        loc = service_selectors.location_choices(actor=self.actor)
        self.fields["site"].choices = _choices(loc["sites"], _site_label(loc["clients"]), empty=_("All sites"))
        self.fields["equipment"].choices = _choices(loc["equipment"], empty=_("All equipment"))
        self.fields["equipment"].widget.parents = {str(e.pk): str(e.site_id) for e in loc["equipment"]}

    def values(self) -> dict[str, Any]:
        values = super().values()
        status = values.pop("status", None)
        if status:
            values["active"] = status == "active"
        return values

    @property
    def is_filtered(self) -> bool:
        return any(v not in (None, "") for v in self.values().values())


class PlanForm(forms.Form):
    """Create or edit a plan from plain choices. ``plan``: the plan being edited (None: a new one).

    ``for_preview``: only the schedule matters (name, template and target may still be empty).
    """

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Quarterly pump service")}),
        help_text=_("The title of the work orders it creates."),
    )
    template = forms.ChoiceField(
        label=_("Work order template"), help_text=_("The checklist, planned parts and duration of each visit.")
    )
    target_kind = forms.ChoiceField(
        label=_("Applies to"), choices=TARGET_CHOICES, initial="equipment", widget=forms.RadioSelect
    )
    site = forms.ChoiceField(
        label=_("Site"),
        required=False,
        widget=ParentSelect(),
        help_text=_("Narrows the equipment list; for a category, the site whose items the plan covers."),
    )
    equipment = forms.ChoiceField(label=_("Equipment"), required=False, widget=ParentSelect(filter_by="site"))
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        help_text=_("Every item of this category at the site, including ones added later (not retired ones)."),
    )

    time_trigger = forms.ChoiceField(
        label=_("When"), choices=TIME_TRIGGER_CHOICES, initial=TIME_TRIGGER_CALENDAR, widget=forms.RadioSelect
    )
    interval = forms.IntegerField(
        label=_("Every"),
        required=False,
        min_value=1,
        max_value=1000,
        initial=1,
        widget=forms.NumberInput(attrs={"min": 1, "max": 1000}),
    )
    frequency = forms.ChoiceField(label=_("Unit"), required=False, choices=FREQUENCY_CHOICES, initial="monthly")
    weekdays = forms.MultipleChoiceField(
        label=_("On"),
        required=False,
        choices=WEEKDAY_SHORT,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the weekday of the first due date."),
    )
    month = forms.ChoiceField(label=_("In"), required=False, choices=[("", _("the first due date's month"))])
    monthly_by = forms.ChoiceField(
        label=_("Day"), required=False, choices=MONTHLY_BY_CHOICES, initial="day", widget=forms.RadioSelect
    )
    month_day = forms.IntegerField(
        label=_("Day of the month"),
        required=False,
        min_value=1,
        max_value=31,
        widget=forms.NumberInput(attrs={"min": 1, "max": 31, "placeholder": _("as the first due date")}),
        help_text=_("29, 30 or 31: the last day of shorter months."),
    )
    nth = forms.ChoiceField(label=_("The"), required=False, choices=NTH_CHOICES, initial="1")
    weekday = forms.ChoiceField(label=_("Weekday"), required=False, choices=WEEKDAY_CHOICES, initial="1")
    interval_days = forms.IntegerField(
        label=_("Days after the last completion"),
        required=False,
        min_value=1,
        max_value=3650,
        widget=forms.NumberInput(attrs={"min": 1, "placeholder": "30"}),
        help_text=_(
            "The first one is due on the first due date; each next one this many days after the last "
            "was completed (or cancelled)."
        ),
    )
    use_meter = forms.BooleanField(
        label=_("Also (or only) by a meter"),
        required=False,
        help_text=_("With days after completion as well: whichever comes first."),
    )
    meter_name = forms.CharField(
        label=_("Meter"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "meter-names", "placeholder": _("e.g. Running hours")}),
        help_text=_("The name of the equipment's meter, as on the equipment page."),
    )
    meter_interval = forms.DecimalField(
        label=_("Every (meter units)"),
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "inputmode": "decimal", "placeholder": "500"}),
    )
    meter_start = forms.DecimalField(
        label=_("First due at (meter value)"),
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "inputmode": "decimal"}),
        help_text=_("Empty: the current reading plus the interval."),
    )
    meter_mode = forms.ChoiceField(
        label=_("Count the next one"),
        required=False,
        choices=METER_MODE_CHOICES,
        initial=Mode.FIXED,
        widget=forms.RadioSelect,
    )

    anchor = forms.DateField(
        label=_("First due date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Calendar repeats count from this date."),
    )
    due_time = forms.TimeField(
        label=_("Due at"),
        initial=time(9, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Local time at the site."),
    )
    lead_days = forms.IntegerField(
        label=_("Create the work order (days ahead)"),
        min_value=0,
        max_value=365,
        initial=7,
        widget=forms.NumberInput(attrs={"min": 0, "max": 365}),
        help_text=_("0: on the due day."),
    )
    horizon_days = forms.IntegerField(
        label=_("Show on the forecast (days ahead)"),
        min_value=1,
        max_value=1830,
        initial=365,
        widget=forms.NumberInput(attrs={"min": 1, "max": 1830}),
    )
    end_date = forms.DateField(
        label=_("Ends on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: no end date."),
    )
    max_count = forms.IntegerField(
        label=_("Ends after (occurrences)"),
        required=False,
        min_value=1,
        max_value=100000,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=_("Empty: no limit."),
    )
    open_policy = forms.ChoiceField(
        label=_("When the previous one is still open"),
        choices=OPEN_POLICY_CHOICES,
        initial=OpenPolicy.SKIP,
        widget=forms.RadioSelect,
    )
    day_shift = forms.ChoiceField(
        label=_("A due date on a non-working day"),
        choices=[
            (DayShift.NONE, _("Keep the date")),
            (DayShift.PREVIOUS, _("Move to the previous working day")),
            (DayShift.NEXT, _("Move to the next working day")),
        ],
        initial=DayShift.NONE,
    )
    calendar = forms.ChoiceField(
        label=_("Working days from"),
        required=False,
        help_text=_("A business calendar with its holidays (Settings → Calendars)."),
    )
    lead_technician = forms.ChoiceField(
        label=_("Technician"), required=False, help_text=_("Who the work orders are assigned to.")
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("A paused plan creates no work orders.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, actor: Actor, plan: MaintenancePlan | None = None, for_preview=False, **kwargs):
        self.actor = actor
        self.plan = plan
        self.for_preview = for_preview
        self.custom_rule = ""
        initial = kwargs.pop("initial", None) or {}
        if plan is not None:
            initial = {**self.initial_from_plan(plan), **initial}
        super().__init__(data, initial=initial, **kwargs)
        self._setup_choices()
        if self.custom_rule:
            text = self._describe(self.custom_rule, plan.anchor)
            self.fields["time_trigger"].choices = [
                (
                    TIME_TRIGGER_CUSTOM,
                    _("Keep the current rule: %(text)s (%(rule)s)") % {"text": text, "rule": plan.rule},
                ),
                *TIME_TRIGGER_CHOICES,
            ]
        if for_preview:
            for name in ("name", "template", "target_kind", "due_time", "lead_days", "horizon_days"):
                self.fields[name].required = False

    # --- choices ---------------------------------------------------------------------------------

    def _setup_choices(self) -> None:
        from fixflow.assets.models import Equipment, EquipmentCategory
        from fixflow.customers.models import Site
        from fixflow.sla.models import BusinessCalendar

        actor, plan = self.actor, self.plan
        org = actor.organization_id
        templates = list(service_selectors.template_queryset(actor=actor).filter(is_active=True).order_by("name"))
        if plan is not None and plan.template_id not in {t.pk for t in templates}:
            templates.append(plan.template)
        self.fields["template"].choices = _choices(
            templates,
            lambda t: t.name if t.is_active else f"{t.name} ({_('no longer in use')})",
            empty=_("Choose a template…"),
        )
        loc = service_selectors.location_choices(actor=actor)
        sites, equipment = loc["sites"], loc["equipment"]
        if plan is not None and plan.site_id not in {s.pk for s in sites}:
            sites.append(Site.objects.select_related("client").get(pk=plan.site_id))
        if plan is not None and plan.equipment_id and plan.equipment_id not in {e.pk for e in equipment}:
            equipment.append(Equipment.objects.select_related("site").get(pk=plan.equipment_id))
        self.sites = {str(s.pk): s for s in sites}
        self.equipment_items = {str(e.pk): e for e in equipment}
        self.fields["site"].choices = _choices(sites, _site_label(loc["clients"]), empty=_("Any site"))
        site_names = {s.pk: s.name for s in sites}
        self.fields["equipment"].choices = _choices(
            equipment,
            lambda e: f"{e.name} · {site_names[e.site_id]}" if e.site_id in site_names else e.name,
            empty=_("Choose the equipment…"),
        )
        self.fields["equipment"].widget.parents = {str(e.pk): str(e.site_id) for e in equipment}
        categories = EquipmentCategory.objects.filter(organization_id=org).order_by("name", "id")
        self.fields["category"].choices = _choices(categories, empty=_("Choose a category…"))
        calendars = BusinessCalendar.objects.filter(organization_id=org).order_by("-is_24x7", "name", "id")
        self.fields["calendar"].choices = _choices(calendars, empty=_("Monday to Friday (no holidays)"))
        users = service_selectors.assignable_users(actor=actor)
        if plan is not None and plan.lead_technician_id and plan.lead_technician_id not in {u.pk for u in users}:
            users.append(plan.lead_technician)
        self.fields["lead_technician"].choices = _choices(
            users, lambda u: u.full_name or u.email, empty=_("Not assigned (the dispatcher plans it)")
        )
        self.fields["month"].choices = [("", _("the first due date's month")), *MONTH_CHOICES]

    @staticmethod
    def _describe(rule: str, anchor: date) -> str:
        try:
            return recurrence.describe_rule(rule, anchor)
        except recurrence.RuleError:
            return str(_("an unreadable rule"))

    def initial_from_plan(self, plan: MaintenancePlan) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": plan.name,
            "template": str(plan.template_id),
            "target_kind": "category" if plan.category_id and not plan.equipment_id else "equipment",
            "site": str(plan.site_id),
            "equipment": str(plan.equipment_id or ""),
            "category": str(plan.category_id or ""),
            "anchor": plan.anchor,
            "due_time": plan.due_time,
            "lead_days": plan.lead_days,
            "horizon_days": plan.horizon_days,
            "end_date": plan.end_date,
            "max_count": plan.max_count,
            "open_policy": plan.open_policy,
            "day_shift": plan.day_shift,
            "calendar": str(plan.calendar_id or ""),
            "lead_technician": str(plan.lead_technician_id or ""),
            "is_active": plan.is_active,
            "version": plan.version,
            "interval_days": plan.interval_days,
            "use_meter": plan.has_meter_trigger,
            "meter_name": plan.meter_name,
            "meter_interval": plan.meter_interval.normalize() if plan.meter_interval is not None else None,
            "meter_start": plan.meter_start.normalize() if plan.meter_start is not None else None,
            "meter_mode": plan.meter_mode,
        }
        if plan.has_calendar_trigger:
            choices = choices_from_rule(plan.rule, plan.anchor)
            if choices is None:
                self.custom_rule = plan.rule
                initial["time_trigger"] = TIME_TRIGGER_CUSTOM
            else:
                initial["time_trigger"] = TIME_TRIGGER_CALENDAR
                initial.update(
                    {
                        "frequency": choices["frequency"],
                        "interval": choices["interval"],
                        "weekdays": [str(d) for d in choices.get("weekdays", ())],
                        "month": str(choices.get("month") or ""),
                        "monthly_by": choices.get("monthly_by", "day"),
                        "month_day": choices.get("month_day"),
                        "nth": str(choices.get("nth") or "1"),
                        "weekday": str(choices["weekday"]) if choices.get("weekday") is not None else "1",
                    }
                )
        elif plan.has_floating_trigger:
            initial["time_trigger"] = TIME_TRIGGER_FLOATING
        else:
            initial["time_trigger"] = TIME_TRIGGER_NONE
        return initial

    # --- validation and the data for the services -------------------------------------------------

    def clean(self):
        data = super().clean()
        if data.get("target_kind") == "category" and not data.get("site") and not self.for_preview:
            self.add_error("site", _("Choose the site whose items of the category the plan covers."))
        if data.get("time_trigger") == TIME_TRIGGER_CUSTOM and not self.custom_rule:
            self.add_error("time_trigger", _("Choose when the plan is due."))
        return data

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def recurrence_choices(self) -> dict[str, Any]:
        d = self.cleaned_data
        frequency = d.get("frequency") or "monthly"
        choices: dict[str, Any] = {"frequency": frequency, "interval": d.get("interval") or 1}
        if frequency == "weekly":
            choices["weekdays"] = [int(w) for w in d.get("weekdays") or ()]
        if frequency in ("monthly", "yearly"):
            by = d.get("monthly_by") or "day"
            choices["monthly_by"] = by
            if by == "day" and d.get("month_day") is not None:
                choices["month_day"] = d["month_day"]
            if by == "nth_weekday":
                choices["nth"] = int(d.get("nth") or 1)
                choices["weekday"] = int(d.get("weekday") or 0)
        if frequency == "yearly" and d.get("month"):
            choices["month"] = int(d["month"])
        return choices

    def service_data(self) -> dict[str, Any]:
        """The cleaned input as ``plan_create`` / ``plan_update`` take it. Values a trigger does not use
        are left as they are on an edit (so an unchanged form changes nothing)."""
        d = self.cleaned_data
        editing = self.plan is not None
        target = d.get("target_kind") or "equipment"
        data: dict[str, Any] = {
            "name": d.get("name") or "",
            "template_id": d.get("template") or None,
            "site_id": d.get("site") or None,
            "equipment_id": (d.get("equipment") or None) if target == "equipment" else None,
            "category_id": (d.get("category") or None) if target == "category" else None,
            "anchor": d.get("anchor"),
            "due_time": d.get("due_time") or time(9, 0),
            "lead_days": d.get("lead_days"),
            "horizon_days": d.get("horizon_days"),
            "end_date": d.get("end_date"),
            "max_count": d.get("max_count"),
            "open_policy": d.get("open_policy") or OpenPolicy.SKIP,
            "day_shift": d.get("day_shift") or DayShift.NONE,
            "calendar_id": d.get("calendar") or None,
            "lead_technician_id": d.get("lead_technician") or None,
            "is_active": bool(d.get("is_active")),
        }
        if target == "equipment" and data["equipment_id"]:
            # the site follows the equipment (a site chosen only to narrow the list must not refuse it)
            eq = self.equipment_items.get(str(data["equipment_id"]))
            if eq is not None:
                data["site_id"] = eq.site_id
        trigger = d.get("time_trigger") or TIME_TRIGGER_CALENDAR
        if trigger == TIME_TRIGGER_CALENDAR:
            data["mode"] = Mode.FIXED
            data["recurrence"] = self.recurrence_choices()
            if not editing:
                data["interval_days"] = None
        elif trigger == TIME_TRIGGER_CUSTOM:
            data["mode"] = Mode.FIXED
        elif trigger == TIME_TRIGGER_FLOATING:
            data["mode"] = Mode.FLOATING
            data["interval_days"] = d.get("interval_days")
            if not editing or self.plan.mode != Mode.FLOATING:
                data["rule"] = ""
        else:
            data["mode"] = Mode.FIXED
            data["rule"] = ""
        if d.get("use_meter"):
            data["meter_name"] = (d.get("meter_name") or "").strip()
            data["meter_interval"] = d.get("meter_interval")
            data["meter_start"] = d.get("meter_start")
            data["meter_mode"] = d.get("meter_mode") or Mode.FIXED
        else:
            data["meter_name"] = ""
            data["meter_interval"] = None
        return data

    def preview_data(self) -> dict[str, Any]:
        """The data of :meth:`service_data` for ``selectors.plan_preview`` (a kept rule included)."""
        data = self.service_data()
        if data.get("mode") == Mode.FIXED and "recurrence" not in data and "rule" not in data and self.plan:
            data["rule"] = self.plan.rule
        return data

    def summary_plan(self) -> MaintenancePlan:
        """An unsaved plan with the schedule of this form, for ``selectors.plan_summary``."""
        data = self.preview_data()
        anchor = data["anchor"]
        rule = data.get("rule") or ""
        if data.get("recurrence"):
            rule = services.rule_from_choices(data["recurrence"], anchor)
        plan = MaintenancePlan(
            anchor=anchor,
            rule=rule,
            mode=data["mode"],
            interval_days=data.get("interval_days"),
            meter_name=data.get("meter_name", ""),
            meter_interval=data.get("meter_interval"),
            meter_mode=data.get("meter_mode") or Mode.FIXED,
            lead_days=data.get("lead_days") or 0,
            open_policy=data["open_policy"],
            day_shift=data["day_shift"],
            end_date=data.get("end_date"),
            max_count=data.get("max_count"),
        )
        if data["mode"] == Mode.FLOATING and "rule" not in data and self.plan is not None:
            plan.rule = self.plan.rule
        return plan

    def site_timezone(self) -> str:
        """The time zone of the chosen site (or the equipment's), else the organization's."""
        d = getattr(self, "cleaned_data", None) or {}
        eq = self.equipment_items.get(str(d.get("equipment") or ""))
        site = self.sites.get(str(eq.site_id)) if eq is not None else self.sites.get(str(d.get("site") or ""))
        return site.timezone if site is not None else self.actor.organization.timezone

    def today(self, now) -> date:
        """Today at the form's site: the preview lists due dates from this day on."""
        return now.astimezone(ZoneInfo(self.site_timezone())).date()

    def add_service_error(self, exc: DomainError) -> None:
        """Show a refused input next to the field of this form that holds it (or on top)."""
        name = ERROR_FIELDS.get(exc.field or "", exc.field)
        if name not in self.fields:
            name = None
        if name and name in self.errors:
            return  # the field already says what is wrong
        self.add_error(name, exc.message)

    # --- layout helpers for the template ----------------------------------------------------------

    def field_label(self, name: str | None) -> str:
        name = ERROR_FIELDS.get(name or "", name)
        if name in self.fields:
            return str(self.fields[name].label)
        return ""

    def schedule_errors(self) -> list[tuple[str, str]]:
        """(label, message) of the errors that stop the preview: the schedule's fields and the form's own."""
        out = []
        for name, errors in self.errors.items():
            if name != "__all__" and name not in SCHEDULE_FIELDS:
                continue
            label = self.field_label(name) if name != "__all__" else ""
            out.extend((label, str(e)) for e in errors)
        return out
