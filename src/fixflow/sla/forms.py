"""Forms of the SLA configuration pages: a calendar's week, holidays, and policies.

The forms parse what people type (times such as ``8:30`` or ``24:00``, durations such as ``4 h`` or
``1 d 2 h``) and show it again with errors next to the row they concern; the services in
:mod:`fixflow.sla.services` validate against the organization's data and write.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from fixflow.assets.choices import Criticality
from fixflow.core.models import TIMEZONE_CHOICES
from fixflow.core.permissions import Actor
from fixflow.service.choices import HoldReason, Priority, WorkOrderType

from . import clock
from .choices import DEFAULT_TARGETS, WEEKDAYS, ResponseMetOn
from .models import BusinessCalendar, SlaPolicy

# --- durations -----------------------------------------------------------------------------------

UNIT_MINUTES = {
    "d": 1440,
    "day": 1440,
    "days": 1440,
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "hour": 60,
    "hours": 60,
    "m": 1,
    "min": 1,
    "mins": 1,
    "minute": 1,
    "minutes": 1,
}
_PART = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*([a-z]+)\s*")
DURATION_HELP = _lazy("Business time, e.g. 45 min, 4 h, 1 h 30 min, 1:30, or 1 d 2 h (1 d = 24 business hours).")


def parse_duration(text: str) -> int:
    """Whole minutes from ``90``, ``1:30``, ``4 h``, ``1.5 h``, ``1 h 30 min``, ``1 d 2 h`` (a d is 24 h).

    A plain number is minutes. Raises ValidationError with an example of what is understood.
    """
    value = (text or "").strip().lower()
    example = _("Write a duration such as 45 min, 4 h, 1 h 30 min, 1:30 or 1 d 2 h.")
    if not value:
        raise forms.ValidationError(_("Enter a target."), code="required")
    if len(value) > 40:
        raise forms.ValidationError(_("“%(text)s…” is too long for a duration.") % {"text": text[:20]})
    value = value.encode("ascii", "replace").decode()  # "²" and other non-ASCII digits are not numbers here
    if re.fullmatch(r"\d+", value):
        return int(value)
    if m := re.fullmatch(r"(\d+):([0-5]\d)", value):
        return int(m[1]) * 60 + int(m[2])
    total, pos, seen = 0.0, 0, set()
    while pos < len(value):
        m = _PART.match(value, pos)
        if not m or m.end() == pos:
            raise forms.ValidationError(
                _("“%(text)s” is not a duration. %(example)s") % {"text": text, "example": example}
            )
        unit = UNIT_MINUTES.get(m[2])
        if unit is None:
            raise forms.ValidationError(
                _("“%(unit)s” is not a unit; use d, h or min. %(example)s") % {"unit": m[2], "example": example}
            )
        if unit in seen:
            raise forms.ValidationError(
                _("“%(text)s” names a unit twice. %(example)s") % {"text": text, "example": example}
            )
        seen.add(unit)
        total += float(m[1].replace(",", ".")) * unit
        pos = m.end()
    if abs(total - round(total)) > 1e-6:
        raise forms.ValidationError(_("“%(text)s” is not a whole number of minutes.") % {"text": text})
    return round(total)


def format_duration(minutes: int | None) -> str:
    """Minutes as people enter them back: ``45 min``, ``4 h``, ``1 h 30 min`` (never days, which mislead)."""
    if minutes in (None, ""):
        return ""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


# --- calendars -----------------------------------------------------------------------------------

MIN_ROWS = 3  # interval rows per weekday shown without JavaScript (blank ones are ignored)
MAX_ROWS = 12
_ROW_KEY = re.compile(r"^w([0-6])-(\d{1,2})-(start|end)$")
TIMEZONE_FIELD_CHOICES = [(tz, tz) for tz, _label in TIMEZONE_CHOICES]


def parse_time(text: str) -> int:
    """Minutes from midnight of ``8``, ``8:30``, ``08.30``, ``0830`` or ``24:00`` (an end of day)."""
    value = text.strip().replace(".", ":").replace("h", ":").rstrip(":")
    if re.fullmatch(r"\d{1,2}", value):
        value += ":00"
    elif re.fullmatch(r"\d{3,4}", value):
        value = f"{value[:-2]}:{value[-2:]}"
    try:
        return clock.parse_hhmm(value)
    except clock.CalendarError:
        raise forms.ValidationError(
            _("“%(text)s” is not a time between 00:00 and 24:00, such as 08:30.") % {"text": text}
        ) from None


class CalendarForm(forms.Form):
    """Name, time zone and the week: per weekday rows of ``start``–``end`` (``w<day>-<row>-start``/``-end``)."""

    name = forms.CharField(label=_lazy("Name"), max_length=200)
    timezone = forms.ChoiceField(
        label=_lazy("Time zone"),
        choices=TIMEZONE_FIELD_CHOICES,
        help_text=_lazy("Working hours and holidays are read in this zone's local time, summer time included."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, actor: Actor, calendar: BusinessCalendar | None = None, **kwargs):
        self.actor = actor
        self.calendar = calendar
        initial = kwargs.pop("initial", None) or {}
        if calendar is not None:
            initial = {"name": calendar.name, "timezone": calendar.timezone, "version": calendar.version, **initial}
            week = calendar.week
        else:
            initial = {"timezone": actor.organization.timezone, **initial}
            week = [[["08:00", "17:00"]]] * 5 + [[], []]
        super().__init__(data, initial=initial, **kwargs)
        self.day_errors: dict[int, list[str]] = {}
        self.week: list = []
        for day in range(7):
            intervals = week[day] if data is None else []
            rows = max(MIN_ROWS, len(intervals) + 1)
            if data is not None:
                posted = [int(m[2]) for key in data if (m := _ROW_KEY.match(key)) and int(m[1]) == day]
                rows = max(MIN_ROWS, max(posted, default=-1) + 1)
            for i in range(min(rows, MAX_ROWS)):
                start, end = intervals[i] if i < len(intervals) else ("", "")
                attrs = {"inputmode": "numeric", "autocomplete": "off", "size": 5, "maxlength": 5, "class": "time"}
                self.fields[f"w{day}-{i}-start"] = forms.CharField(
                    required=False,
                    initial=start,
                    label=_("%(day)s, from") % {"day": WEEKDAYS[day]},
                    widget=forms.TextInput(attrs={**attrs, "placeholder": "08:00"}),
                )
                self.fields[f"w{day}-{i}-end"] = forms.CharField(
                    required=False,
                    initial=end,
                    label=_("%(day)s, until") % {"day": WEEKDAYS[day]},
                    widget=forms.TextInput(attrs={**attrs, "placeholder": "17:00"}),
                )

    def _rows(self, day: int) -> list[int]:
        return sorted({int(m[2]) for name in self.fields if (m := _ROW_KEY.match(name)) and int(m[1]) == day})

    def clean(self):
        data = super().clean()
        week = []
        for day in range(7):
            intervals = []
            for i in self._rows(day):
                start_name, end_name = f"w{day}-{i}-start", f"w{day}-{i}-end"
                start_text, end_text = (data.get(start_name) or "").strip(), (data.get(end_name) or "").strip()
                if not start_text and not end_text:
                    continue  # a blank row
                if not start_text or not end_text:
                    self.add_error(start_name if not start_text else end_name, _("Give both a start and an end."))
                    continue
                try:
                    start = parse_time(start_text)
                except forms.ValidationError as exc:
                    self.add_error(start_name, exc)
                    continue
                try:
                    end = parse_time(end_text)
                except forms.ValidationError as exc:
                    self.add_error(end_name, exc)
                    continue
                if start == clock.MINUTES_PER_DAY:
                    self.add_error(start_name, _("24:00 is only an end; a day starts at 00:00."))
                    continue
                if end <= start:
                    self.add_error(
                        end_name,
                        _(
                            "%(start)s–%(end)s ends before it starts. A night shift is two intervals: "
                            "22:00–24:00 on one day and 00:00–06:00 on the next."
                        )
                        % {"start": clock.format_hhmm(start), "end": clock.format_hhmm(end)},
                    )
                    continue
                intervals.append((start, end))
            intervals.sort()
            for (s1, e1), (s2, e2) in zip(intervals, intervals[1:], strict=False):
                if s2 < e1:
                    self.day_errors.setdefault(day, []).append(
                        _("%(a)s and %(b)s overlap; join them into one interval.")
                        % {
                            "a": f"{clock.format_hhmm(s1)}–{clock.format_hhmm(e1)}",
                            "b": f"{clock.format_hhmm(s2)}–{clock.format_hhmm(e2)}",
                        }
                    )
            week.append([[clock.format_hhmm(s), clock.format_hhmm(e)] for s, e in intervals])
        if self.day_errors:
            days = ", ".join(str(WEEKDAYS[d]) for d in sorted(self.day_errors))
            raise forms.ValidationError(_("Check the working hours of %(days)s.") % {"days": days})
        self.week = week
        return data

    def valid_week(self) -> list:
        """The intervals that parse, errors or not (for the live picture while someone is typing)."""
        if self.is_bound:
            self.is_valid()
        if self.week:
            return self.week
        if not self.is_bound:
            return self.calendar.week if self.calendar else [[["08:00", "17:00"]]] * 5 + [[], []]
        week = []
        for day in range(7):
            intervals = []
            for i in self._rows(day):
                try:
                    start = parse_time(self.data.get(f"w{day}-{i}-start") or "")
                    end = parse_time(self.data.get(f"w{day}-{i}-end") or "")
                except forms.ValidationError:
                    continue
                if start < end:
                    intervals.append((start, end))
            week.append([[clock.format_hhmm(s), clock.format_hhmm(e)] for s, e in sorted(intervals)])
        return week

    def days(self) -> list[dict]:
        """Per weekday: its name, its rows (start and end bound fields) and the day's own errors."""
        out = []
        for day in range(7):
            rows = [(self[f"w{day}-{i}-start"], self[f"w{day}-{i}-end"]) for i in self._rows(day)]
            out.append({"index": day, "name": WEEKDAYS[day], "rows": rows, "errors": self.day_errors.get(day, [])})
        return out

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def service_data(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"], "timezone": self.cleaned_data["timezone"], "week": self.week}


# --- holidays ------------------------------------------------------------------------------------


class HolidayForm(forms.Form):
    date = forms.DateField(label=_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=_lazy("Name"), max_length=200, required=False)


MAX_ICS_BYTES = 1024 * 1024
ICS_CONTENT_TYPES = {"text/calendar", "application/ics", "text/x-vcalendar", "application/octet-stream", ""}


class HolidayImportForm(forms.Form):
    file = forms.FileField(
        label=_lazy("iCalendar file (.ics)"),
        help_text=_lazy("All-day events become holidays; at most 1 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".ics"):
            raise forms.ValidationError(_("Choose an iCalendar file ending in .ics."))
        if (upload.content_type or "").split(";")[0].strip().lower() not in ICS_CONTENT_TYPES:
            raise forms.ValidationError(
                _("The file is %(type)s, not an iCalendar file.") % {"type": upload.content_type}
            )
        if upload.size > MAX_ICS_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload.read()


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    """The countries the ``holidays`` package knows, by name, as (alpha-2 code, "Name (code)")."""
    from holidays import list_supported_countries
    from holidays.registry import COUNTRIES

    names = {entry[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entry[0]) for entry in COUNTRIES.values()}
    codes = [code for code in list_supported_countries() if len(code) == 2]
    return sorted(((c, f"{names.get(c, c)} ({c})") for c in codes), key=lambda choice: choice[1])


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """IANA zone → ISO country code, from the system's zone.tab (empty when there is none)."""
    import zoneinfo

    for folder in zoneinfo.TZPATH:
        path = Path(folder) / "zone.tab"
        if path.is_file():
            out = {}
            for line in path.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) >= 3 and not line.startswith("#"):
                    out[parts[2]] = parts[0]
            return out
    return {}


def country_for_timezone(tz: str) -> str:
    return _zone_countries().get(tz, "")


class HolidayGenerateForm(forms.Form):
    country = forms.ChoiceField(label=_lazy("Country"), choices=())
    year = forms.IntegerField(label=_lazy("Year"), min_value=1990, max_value=2100)
    subdivision = forms.CharField(
        label=_lazy("Region (optional)"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"size": 6, "autocomplete": "off", "placeholder": _lazy("e.g. BY")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("— choose a country —")), *country_choices()]


# --- policies ------------------------------------------------------------------------------------

CONDITIONS = ("clients", "sites", "priorities", "types", "criticalities")
TARGET_KINDS = ("response", "resolution")


class _SiteChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.client.name} · {obj.name}"


class PolicyForm(forms.Form):
    """A policy: conditions, calendar, per priority a response and a resolution target, escalation."""

    name = forms.CharField(label=_lazy("Name"), max_length=200)
    is_active = forms.BooleanField(
        label=_lazy("Active"), required=False, initial=True, help_text=_lazy("An inactive policy is skipped.")
    )
    calendar = forms.ModelChoiceField(
        label=_lazy("Calendar"),
        queryset=BusinessCalendar.objects.none(),
        empty_label=None,
        help_text=_lazy("Targets count business time in this calendar's working hours."),
    )
    clients = forms.ModelMultipleChoiceField(
        label=_lazy("Clients"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_lazy("None chosen: any client."),
    )
    sites = _SiteChoice(
        label=_lazy("Sites"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_lazy("None chosen: any site."),
    )
    priorities = forms.MultipleChoiceField(
        label=_lazy("Priorities"),
        choices=Priority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_lazy("None ticked: any priority."),
    )
    types = forms.MultipleChoiceField(
        label=_lazy("Work order types"),
        choices=WorkOrderType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_lazy("None ticked: any type."),
    )
    criticalities = forms.MultipleChoiceField(
        label=_lazy("Equipment criticality"),
        choices=Criticality.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_lazy("None ticked: any equipment, and work orders without equipment."),
    )
    at_risk_percent = forms.IntegerField(
        label=_lazy("At risk at"),
        min_value=1,
        max_value=99,
        initial=80,
        help_text=_lazy("Percent of a target used up when the work order is flagged at risk (1–99)."),
        widget=forms.NumberInput(attrs={"size": 4}),
    )
    response_met_on = forms.ChoiceField(
        label=_lazy("Response is met when"),
        choices=ResponseMetOn.choices,
        initial=ResponseMetOn.START,
        widget=forms.RadioSelect,
    )
    pausing_hold_reasons = forms.MultipleChoiceField(
        label=_lazy("Hold reasons that pause the resolution clock"),
        choices=HoldReason.choices,
        required=False,
        initial=["waiting_for_client", "waiting_for_parts"],
        widget=forms.CheckboxSelectMultiple,
    )
    notify_technician = forms.BooleanField(
        label=_lazy("Also notify the assigned technician"), required=False, initial=False
    )
    escalation_email = forms.EmailField(
        label=_lazy("Escalation address"),
        required=False,
        help_text=_lazy("Receives the at-risk and breach e-mails too, besides the dispatchers."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, actor: Actor, policy: SlaPolicy | None = None, **kwargs):
        from fixflow.customers.models import Client, Site

        self.actor = actor
        self.policy = policy
        initial: dict[str, Any] = {}
        targets = DEFAULT_TARGETS
        if policy is not None:
            targets = policy.targets or DEFAULT_TARGETS
            initial = {
                "name": policy.name,
                "is_active": policy.is_active,
                "calendar": policy.calendar_id,
                "priorities": policy.priorities,
                "types": policy.types,
                "criticalities": policy.criticalities,
                "at_risk_percent": policy.at_risk_percent,
                "response_met_on": policy.response_met_on,
                "pausing_hold_reasons": policy.pausing_hold_reasons,
                "notify_technician": policy.notify_technician,
                "escalation_email": policy.escalation_email,
                "version": policy.version,
            }
            if policy.pk:
                initial["clients"] = list(policy.clients.values_list("pk", flat=True))
                initial["sites"] = list(policy.sites.values_list("pk", flat=True))
        for priority in Priority.values:
            for kind in TARGET_KINDS:
                initial[f"target_{priority}_{kind}"] = format_duration((targets.get(priority) or {}).get(kind))
        super().__init__(data, initial=initial, **kwargs)
        org = actor.organization_id
        self.fields["calendar"].queryset = BusinessCalendar.objects.filter(organization_id=org).order_by(
            "-is_24x7", "name"
        )
        self.fields["clients"].queryset = Client.objects.filter(organization_id=org).order_by("name")
        self.fields["sites"].queryset = (
            Site.objects.filter(organization_id=org).select_related("client").order_by("client__name", "name")
        )
        for priority, label in Priority.choices:
            for kind in TARGET_KINDS:
                self.fields[f"target_{priority}_{kind}"] = forms.CharField(
                    label=f"{label} · {_('response') if kind == 'response' else _('resolution')}",
                    max_length=40,
                    widget=forms.TextInput(attrs={"size": 10, "autocomplete": "off"}),
                )
        if self.is_default:
            for name in (*CONDITIONS, "is_active"):
                del self.fields[name]

    @property
    def is_default(self) -> bool:
        return bool(self.policy and self.policy.is_default)

    def target_rows(self) -> list[dict]:
        """The targets table: per priority its label and the response and resolution fields."""
        return [
            {
                "priority": priority,
                "label": label,
                "response": self[f"target_{priority}_response"],
                "resolution": self[f"target_{priority}_resolution"],
            }
            for priority, label in Priority.choices
        ]

    def clean(self):
        data = super().clean()
        self.targets: dict[str, dict[str, int]] = {}
        for priority, label in Priority.choices:
            pair = {}
            for kind in TARGET_KINDS:
                name = f"target_{priority}_{kind}"
                if name in self.errors:
                    continue
                try:
                    minutes = parse_duration(data.get(name) or "")
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
                    continue
                if minutes <= 0:
                    self.add_error(name, _("A target must be more than zero."))
                    continue
                pair[kind] = minutes
            if len(pair) == 2 and pair["response"] > pair["resolution"]:
                self.add_error(
                    f"target_{priority}_response",
                    _(
                        "%(priority)s: the response target (%(response)s) is longer than "
                        "the resolution target (%(resolution)s)."
                    )
                    % {
                        "priority": label,
                        "response": format_duration(pair["response"]),
                        "resolution": format_duration(pair["resolution"]),
                    },
                )
            self.targets[priority] = pair
        return data

    @property
    def target_errors(self) -> list[str]:
        return [e for name, errors in self.errors.items() if name.startswith("target_") for e in errors]

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {
            "name": d["name"],
            "calendar_id": d["calendar"].pk,
            "targets": self.targets,
            "at_risk_percent": d["at_risk_percent"],
            "response_met_on": d["response_met_on"],
            "pausing_hold_reasons": list(d.get("pausing_hold_reasons") or []),
            "notify_technician": bool(d.get("notify_technician")),
            "escalation_email": d.get("escalation_email") or "",
        }
        if not self.is_default:
            data.update(
                {
                    "is_active": bool(d.get("is_active")),
                    "client_ids": [c.pk for c in d.get("clients") or []],
                    "site_ids": [s.pk for s in d.get("sites") or []],
                    "priorities": list(d.get("priorities") or []),
                    "types": list(d.get("types") or []),
                    "criticalities": list(d.get("criticalities") or []),
                }
            )
        return data
