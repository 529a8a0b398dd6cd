"""Preventive maintenance recurrence as pure functions (no ORM): rules, occurrences, meters, summaries.

Calendar triggers are RFC 5545 rules (python-dateutil ``rrule``) computed from the plan's anchor date,
never by chaining the last date (DOMAIN.md §3 rule 2): a monthly plan anchored on 31 January falls on
28/29 February, 31 March, 30 April. "Day D of the month" is written ``BYMONTHDAY=D,-1;BYSETPOS=1``
(the D-th, or the last day when the month is shorter), "the last day" ``BYMONTHDAY=-1``, "the 2nd
Tuesday" ``BYDAY=2TU``. Occurrences are local dates; the due instant is that date at the plan's local
time of day in the site's zone (09:00 stays 09:00 across DST).
"""

from __future__ import annotations

import calendar as std_calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil import rrule

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", -1: "last"}
FREQUENCIES = ("daily", "weekly", "monthly", "yearly")
_FREQ = {"daily": rrule.DAILY, "weekly": rrule.WEEKLY, "monthly": rrule.MONTHLY, "yearly": rrule.YEARLY}
_FREQ_NAME = {v: k for k, v in _FREQ.items()}
MAX_OCCURRENCES = 5000  # one computation never lists more (a daily plan over 13 years)


class RuleError(ValueError):
    """The recurrence cannot be built or read; the message says what to fix."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RuleSpec:
    """The plain choices of the plan form, turned into an RRULE by :func:`build_rule`.

    ``monthly_by``: "day" (``month_day``, 1–31; shorter months use their last day), "nth_weekday"
    (``nth`` 1–5 or -1 for the last, ``weekday`` 0–6), or "last_day". Weekly uses ``weekdays``
    (empty: the anchor's weekday). Yearly repeats the anchor's month with the monthly choices.
    """

    frequency: str = "monthly"
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    monthly_by: str = "day"
    month_day: int | None = None
    nth: int | None = None
    weekday: int | None = None
    month: int | None = None  # yearly: the month (default: the anchor's)


def build_rule(spec: RuleSpec, anchor: date) -> str:
    """The RRULE text (without DTSTART) for the plain choices, anchored on ``anchor``."""
    if spec.frequency not in FREQUENCIES:
        raise RuleError(f"Choose how often: {', '.join(FREQUENCIES)}.", "frequency")
    if not isinstance(spec.interval, int) or not 1 <= spec.interval <= 1000:
        raise RuleError("The interval is a whole number from 1 to 1000.", "interval")
    parts = [f"FREQ={spec.frequency.upper()}", f"INTERVAL={spec.interval}"]
    if spec.frequency == "weekly":
        days = sorted(set(spec.weekdays)) or [anchor.weekday()]
        if any(d not in range(7) for d in days):
            raise RuleError("Weekdays are 0 (Monday) to 6 (Sunday).", "weekdays")
        parts.append("BYDAY=" + ",".join(WEEKDAY_CODES[d] for d in days))
    elif spec.frequency in ("monthly", "yearly"):
        if spec.frequency == "yearly":
            month = spec.month or anchor.month
            if not 1 <= month <= 12:
                raise RuleError("The month is 1 to 12.", "month")
            parts.append(f"BYMONTH={month}")
        if spec.monthly_by == "day":
            day = spec.month_day or anchor.day
            if not 1 <= day <= 31:
                raise RuleError("The day of the month is 1 to 31.", "month_day")
            parts.append(f"BYMONTHDAY={day},-1;BYSETPOS=1" if day > 28 else f"BYMONTHDAY={day}")
        elif spec.monthly_by == "nth_weekday":
            nth = spec.nth if spec.nth is not None else (anchor.day - 1) // 7 + 1
            weekday = spec.weekday if spec.weekday is not None else anchor.weekday()
            if nth not in ORDINALS:
                raise RuleError("Choose the 1st to 5th or the last weekday of the month.", "nth")
            if weekday not in range(7):
                raise RuleError("Weekdays are 0 (Monday) to 6 (Sunday).", "weekday")
            parts.append(f"BYDAY={nth}{WEEKDAY_CODES[weekday]}")
        elif spec.monthly_by == "last_day":
            parts.append("BYMONTHDAY=-1")
        else:
            raise RuleError("Choose a day of the month, a weekday of the month, or the last day.", "monthly_by")
    return ";".join(parts)


def parse_rule(text: str, anchor: date) -> rrule.rrule:
    """The dateutil rule for an RRULE text starting at ``anchor`` (its first possible occurrence)."""
    text = (text or "").strip().removeprefix("RRULE:")
    if not text:
        raise RuleError("The plan has no recurrence rule.", "rule")
    if "DTSTART" in text.upper() or "UNTIL" in text.upper() or "COUNT" in text.upper():
        raise RuleError("Give the start, end date and count as plan fields, not inside the rule.", "rule")
    try:
        return rrule.rrulestr(text, dtstart=datetime.combine(anchor, time()))
    except (ValueError, TypeError) as exc:
        raise RuleError(f"The recurrence rule is not valid RFC 5545: {exc}.", "rule") from None


def occurrences(
    text: str, anchor: date, *, start: date, end: date, end_date: date | None = None, count: int | None = None
) -> list[date]:
    """The local dates of the rule in ``[start, end]`` (inclusive), computed from the anchor.

    ``end_date`` and ``count`` end the plan itself (``count``: the number of occurrences from the
    anchor on). Never lists more than :data:`MAX_OCCURRENCES`.
    """
    rule = parse_rule(text, anchor)
    if end_date is not None:
        end = min(end, end_date)
    if end < start:
        return []
    result = []
    for index, dt in enumerate(rule, start=1):
        day = dt.date()
        if count is not None and index > count:
            break
        if day > end:
            break
        if day >= start:
            result.append(day)
            if len(result) >= MAX_OCCURRENCES:
                break
    return result


def iter_occurrences(text: str, anchor: date, *, after: date | None = None) -> Iterator[date]:
    """Occurrences from the anchor on (strictly after ``after`` when given), unbounded."""
    rule = parse_rule(text, anchor)
    for dt in rule if after is None else rule.xafter(datetime.combine(after, time()), inc=False):
        yield dt.date()


def due_instant(day: date, at: time, timezone: str) -> datetime:
    """The due instant of a local date at a local time of day, in UTC (a time in a DST gap moves on)."""
    zone = ZoneInfo(timezone)
    local = datetime.combine(day, at, tzinfo=zone)
    # normalise a non-existent local time (spring forward) to the real instant after the gap
    return local.astimezone(UTC).astimezone(zone).astimezone(UTC)


def shift_to_working_day(day: date, is_working_day, direction: str) -> date:
    """Move a date that is not a working day to the previous or next one (``direction``: none, previous,
    next). ``is_working_day`` is a function of a date; gives up after a year and keeps the date."""
    if direction == "none" or is_working_day(day):
        return day
    step = timedelta(days=-1 if direction == "previous" else 1)
    candidate = day
    for _ in range(366):
        candidate += step
        if is_working_day(candidate):
            return candidate
    return day


# ---------------------------------------------------------------------------------------------
# meters


@dataclass(frozen=True)
class MeterState:
    """The lifetime value of a continuous meter and the displayed reading it came from."""

    lifetime: Decimal
    reading: Decimal


def next_lifetime(
    last: MeterState | None, value: Decimal, *, kind: str = "reading", rollover_at: Decimal | None = None
) -> Decimal:
    """The lifetime value after a new displayed reading of a continuous meter (DOMAIN.md §3 rule 4).

    ``kind``: "reading" (must not go below the last), "replacement" (a new meter starting at ``value``:
    the lifetime does not move), "rollover" (the display passed ``rollover_at`` and started again at 0).
    """
    if last is None:
        return value
    if kind == "replacement":
        return last.lifetime
    if kind == "rollover":
        if rollover_at is None or rollover_at <= 0:
            raise RuleError("This meter has no rollover value; record a meter replacement instead.", "kind")
        if value > last.reading:
            raise RuleError("After a rollover the reading is lower than the last one.", "value")
        return last.lifetime + (rollover_at - last.reading) + value
    if value < last.reading:
        raise RuleError(
            f"{value} is below the last reading {last.reading}; record a meter replacement or a rollover "
            "if the meter was changed or wrapped round.",
            "value",
        )
    return last.lifetime + (value - last.reading)


def next_meter_threshold(due: Decimal, interval: Decimal, lifetime: Decimal) -> Decimal:
    """The first due value after ``lifetime`` on the grid ``due + k × interval`` (a jump over several
    intervals gives one work order, and the next due value is the first one still ahead)."""
    if interval <= 0:
        raise RuleError("The meter interval must be more than zero.", "meter_interval")
    if lifetime < due:
        return due
    steps = (lifetime - due) // interval + 1
    return due + steps * interval


def usage_per_day(points: list[tuple[datetime, Decimal]]) -> Decimal | None:
    """Average usage per day between the first and the last (instant, lifetime) point; None if unknown."""
    if len(points) < 2:
        return None
    (t0, v0), (t1, v1) = points[0], points[-1]
    days = Decimal((t1 - t0).total_seconds()) / Decimal(86400)
    if days <= 0:
        return None
    return (v1 - v0) / days


def predicted_date(lifetime: Decimal, at: datetime, due_value: Decimal, rate: Decimal | None) -> date | None:
    """When a meter will reach ``due_value`` at ``rate`` per day (today when already reached)."""
    if lifetime >= due_value:
        return at.date()
    if not rate or rate <= 0:
        return None
    days = float((due_value - lifetime) / rate)
    if days > 3660:
        return None
    return (at + timedelta(days=days)).date()


# ---------------------------------------------------------------------------------------------
# plain language


def describe_rule(text: str, anchor: date) -> str:
    """The rule in words: "every 3 months on the last day", "every 2 weeks on Monday and Thursday"."""
    rule = parse_rule(text, anchor)
    freq = _FREQ_NAME.get(rule._freq, "")
    interval = rule._interval
    unit = {"daily": "day", "weekly": "week", "monthly": "month", "yearly": "year"}[freq]
    head = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
    if freq == "weekly":
        days = sorted(rule._byweekday or [anchor.weekday()])
        return f"{head} on {_join([WEEKDAY_NAMES[d] for d in days])}"
    if freq in ("monthly", "yearly"):
        month = ""
        if freq == "yearly" and rule._bymonth:
            month = f" of {std_calendar.month_name[rule._bymonth[0]]}"
        if rule._bynweekday:
            weekday, nth = rule._bynweekday[0]
            return f"{head} on the {ORDINALS.get(nth, str(nth))} {WEEKDAY_NAMES[weekday]}{month}"
        days = [d for d in (rule._bymonthday or ())] + [d for d in (rule._bynmonthday or ())]
        positive = [d for d in days if d > 0]
        if positive:
            day = positive[0]
            tail = " (or the last day of shorter months)" if day > 28 else ""
            return f"{head} on day {day}{month}{tail}"
        if days:
            return f"{head} on the last day{month}"
    return head


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
