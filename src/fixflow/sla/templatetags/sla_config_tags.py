"""Template helpers of the SLA configuration pages: the week picture, week summaries, durations, roles."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fixflow.core import clock as wall_clock

from .. import clock
from ..choices import WEEKDAYS
from ..forms import format_duration

register = template.Library()

SHORT_DAYS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]


@register.filter
def can(actor, capability: str) -> bool:
    """``{% if actor|can:"sla.view" %}``: whether the acting member's role holds a capability."""
    return bool(actor) and actor.can(capability)


@register.filter
def duration(minutes) -> str:
    """Business minutes as ``4 h``, ``1 h 30 min`` or ``45 min``."""
    return format_duration(minutes)


@register.filter
def get_item(mapping, key):
    """``{{ targets|get_item:"high" }}``: a dict value by a variable key (None when absent)."""
    return mapping.get(key) if isinstance(mapping, dict) else None


def _label_maps() -> dict[str, dict]:
    from fixflow.assets.choices import Criticality
    from fixflow.service.choices import HoldReason, Priority, WorkOrderType

    return {
        "priority": dict(Priority.choices),
        "type": dict(WorkOrderType.choices),
        "criticality": dict(Criticality.choices),
        "hold_reason": dict(HoldReason.choices),
    }


@register.filter
def labels(values, kind: str) -> str:
    """Stored choice values as their labels, comma-separated: ``policy.priorities|labels:"priority"``."""
    names = _label_maps().get(kind, {})
    return ", ".join(str(names.get(v, v)) for v in values or [])


def _intervals(week) -> list[list[tuple[int, int]]]:
    """The stored week as minute intervals, skipping what does not parse (a picture never fails)."""
    out = []
    for day in list(week or [])[:7]:
        intervals = []
        for pair in day or []:
            try:
                start, end = clock.parse_hhmm(pair[0]), clock.parse_hhmm(pair[1])
            except (clock.CalendarError, IndexError, TypeError):
                continue
            if start < end:
                intervals.append((start, end))
        out.append(sorted(intervals))
    return out + [[] for _ in range(7 - len(out))]


@register.filter
def week_summary(week) -> str:
    """``Mon–Fri 08:00–17:00 · Sat 08:00–12:00``: weekdays with the same hours grouped, closed days left out."""
    days = _intervals(week)
    if all(d == [(0, clock.MINUTES_PER_DAY)] for d in days):
        return _("Every day, around the clock")
    groups: list[tuple[int, int, list]] = []
    for index, intervals in enumerate(days):
        if groups and groups[-1][2] == intervals and groups[-1][1] == index - 1:
            groups[-1] = (groups[-1][0], index, intervals)
        else:
            groups.append((index, index, intervals))
    parts = []
    for first, last, intervals in groups:
        if not intervals:
            continue
        label = SHORT_DAYS[first] if first == last else f"{SHORT_DAYS[first]}–{SHORT_DAYS[last]}"
        hours = ", ".join(f"{clock.format_hhmm(s)}–{clock.format_hhmm(e)}" for s, e in intervals)
        parts.append(f"{label} {hours}")
    return " · ".join(parts) or _("No working hours")


@register.filter
def weekly_hours(week) -> str:
    """Working time per week, e.g. ``45 h``."""
    return format_duration(sum(e - s for day in _intervals(week) for s, e in day))


# --- the week picture ----------------------------------------------------------------------------

LEFT, TOP, COLUMN, HOUR = 46, 34, 78, 15
WIDTH, HEIGHT = LEFT + 7 * COLUMN + 6, TOP + 24 * HOUR + 6


def _n(value: float) -> str:
    """A coordinate as SVG wants it, whatever the active locale's decimal separator."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def week_picture(week, timezone: str = "UTC", holidays=(), today: date | None = None, now_minute: int | None = None):
    """The geometry of the SVG week: 7 columns (Monday first) × 24 hours, working intervals as blocks.

    ``today`` and ``now_minute`` are the calendar's local date and time (from the one clock when not given);
    today's column is marked, with a line at the current time. Coordinates are strings (see ``_n``).
    """
    if today is None:
        try:
            local = wall_clock.now().astimezone(ZoneInfo(timezone or "UTC"))
        except (KeyError, ValueError):
            local = wall_clock.now()
        today, now_minute = local.date(), local.hour * 60 + local.minute
    monday = today - timedelta(days=today.weekday())
    holiday_set = set(holidays or ())
    days = _intervals(week)
    columns = []
    for index in range(7):
        day = monday + timedelta(days=index)
        x = LEFT + index * COLUMN
        blocks = []
        for start, end in days[index]:
            y, height = TOP + start * HOUR / 60, (end - start) * HOUR / 60
            label = f"{clock.format_hhmm(start)}–{clock.format_hhmm(end)}"
            blocks.append(
                {
                    "x": _n(x + 4),
                    "y": _n(y),
                    "width": _n(COLUMN - 8),
                    "height": _n(height),
                    "label": label,
                    "title": f"{WEEKDAYS[index]} {label}",
                    "text_y": _n(y + min(height, 2 * HOUR) / 2 + 4),
                    "show_text": height >= HOUR,
                }
            )
        columns.append(
            {
                "x": _n(x),
                "x2": _n(x + COLUMN),
                "center": _n(x + COLUMN / 2),
                "name": SHORT_DAYS[index],
                "date": day,
                "is_today": day == today,
                "is_holiday": day in holiday_set,
                "blocks": blocks,
            }
        )
    hours = [
        {
            "y": _n(TOP + h * HOUR),
            "label_y": _n(TOP + h * HOUR + 4),
            "label": f"{h:02d}:00" if h % 3 == 0 else "",
            "strong": h % 6 == 0,
        }
        for h in range(25)
    ]
    return {
        "width": _n(WIDTH),
        "height": _n(HEIGHT),
        "left": _n(LEFT),
        "label_x": _n(LEFT - 6),
        "top": _n(TOP),
        "right": _n(LEFT + 7 * COLUMN),
        "bottom": _n(TOP + 24 * HOUR),
        "column": _n(COLUMN),
        "columns": columns,
        "hours": hours,
        "now_y": _n(TOP + now_minute * HOUR / 60) if now_minute is not None else None,
        "timezone": timezone,
        "summary": week_summary(week),
    }


@register.inclusion_tag("sla/config/_week_svg.html")
def week_svg(week, timezone="UTC", holidays=()):
    """``{% week_svg calendar.week calendar.timezone holiday_dates %}``: the week as a server-rendered SVG."""
    return {"pic": week_picture(week, timezone, holidays)}
