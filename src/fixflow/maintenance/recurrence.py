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
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
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
            month = spec.month if spec.month is not None else anchor.month
            if not 1 <= month <= 12:
                raise RuleError("The month is 1 to 12.", "month")
            parts.append(f"BYMONTH={month}")
        if spec.monthly_by == "day":
            day = spec.month_day if spec.month_day is not None else anchor.day
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
    upper = text.upper()
    if "DTSTART" in upper or "UNTIL" in upper or "COUNT" in upper:
        raise RuleError("Give the start, end date and count as plan fields, not inside the rule.", "rule")
    # Occurrences are dates (one key per local date): a rule repeating within a day would give the same
    # date several times, and a time of day is the plan's due time, not part of the rule.
    if any(part in upper for part in ("BYHOUR", "BYMINUTE", "BYSECOND")):
        raise RuleError("The rule repeats on days; the time of day is the plan's due time.", "rule")
    _check_parts(upper)
    try:
        rule = rrule.rrulestr(text, dtstart=datetime.combine(anchor, time()))
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
        raise RuleError(f"The recurrence rule is not valid RFC 5545: {exc}.", "rule") from None
    if not isinstance(rule, rrule.rrule) or rule._freq not in _FREQ_NAME:
        raise RuleError(f"The rule repeats every day at most often: {', '.join(FREQUENCIES)}.", "rule")
    return rule


def occurrences(
    text: str, anchor: date, *, start: date, end: date, end_date: date | None = None, count: int | None = None
) -> list[date]:
    """The local dates of the rule in ``[start, end]`` (inclusive), computed from the anchor.

    ``end_date`` and ``count`` end the plan itself (``count``: the number of occurrences from the
    anchor on). Never lists more than :data:`MAX_OCCURRENCES`.
    """
    if end_date is not None:
        end = min(end, end_date)
    fast = _fast_rule(text) if count is None else None
    if fast is not None:
        return [] if end < start else list(_fast_dates(fast, anchor, start, end, MAX_OCCURRENCES))
    rule = parse_rule(text, anchor)
    if end < start:
        return []
    result = []
    for index, day in enumerate(_walk(rule, anchor, end), start=1):
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
    fast = _fast_rule(text)
    if fast is not None:
        yield from _fast_dates(fast, anchor, anchor if after is None else after + timedelta(days=1), None, None)
        return
    rule = parse_rule(text, anchor)
    for day in _walk(rule, anchor, None):
        if after is None or day > after:
            yield day


_BYDAY = re.compile(r"^([+-]?\d+)?(MO|TU|WE|TH|FR|SA|SU)$")
MAX_INTERVAL = 1000
# the rule check looks this many days past a window before it says the rule gives no (more) date there
WALK_SLACK_DAYS = 800  # a yearly period is looked at whole, and may start up to a year before the anchor
# an unbounded walk gives up this long after its last date (Feb 29 on a Monday: gaps of 40 years)
WALK_UNBOUNDED_DAYS = 50 * 366


def _check_parts(upper: str) -> None:
    """Refuse the parts dateutil takes but walks badly: INTERVAL=0 repeats the anchor for ever, a
    negative one goes backwards, an ordinal weekday such as +9MO fails in the middle of a walk."""
    parts = [tuple(s.strip() for s in item.partition("=")[::2]) for item in upper.split(";")]
    # the n-th weekday of the month (1 to 5), or of the year in a yearly rule without BYMONTH (1 to 53)
    of_year = ("FREQ", "YEARLY") in parts and not any(name == "BYMONTH" for name, _ in parts)
    most = 53 if of_year else 5
    for name, value in parts:
        if name == "INTERVAL":
            if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_INTERVAL:
                raise RuleError(f"INTERVAL is a whole number from 1 to {MAX_INTERVAL}, not {value!r}.", "rule")
        elif name == "BYDAY":
            for code in value.split(","):
                found = _BYDAY.match(code.strip())
                if found is None:
                    raise RuleError(f"BYDAY takes weekdays such as MO or 2TU, not {code!r}.", "rule")
                if found.group(1) is not None and not 1 <= abs(int(found.group(1))) <= most:
                    raise RuleError(
                        f"A BYDAY ordinal is 1 to {most} or -1 to -{most} (2TU, -1FR), not {code!r}.", "rule"
                    )


class _WalkEndError(Exception):
    pass


class _Counted(tuple):
    """A rule's BYDAY weekdays (all seven when it has none: the same dates) that count the days dateutil
    looks at. dateutil stops a walk only at a date it yields (or in year 9999): a rule that gives no date,
    such as ``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``, would look at every day up to 9999 (seconds of CPU).
    The count ends the walk once it has looked at more days than the window holds."""

    left: int

    def __contains__(self, item) -> bool:
        self.left -= 1
        if self.left < 0:
            raise _WalkEndError
        return tuple.__contains__(self, item)


def _walk(rule: rrule.rrule, anchor: date, end: date | None) -> Iterator[date]:
    """The dates of a dateutil rule from its anchor, given up once it has looked past ``end`` (None: 50
    years after the last date found); always ends. dateutil's errors in the middle of a walk (a date
    beyond year 9999, …) are :class:`RuleError`."""
    counted = _Counted(rule._byweekday or range(7))
    base = (end - anchor).days if end is not None else WALK_UNBOUNDED_DAYS
    counted.left = max(0, base) + WALK_SLACK_DAYS
    rule._byweekday = counted
    try:
        for dt in rule:
            day = dt.date()
            if end is None:
                counted.left = WALK_UNBOUNDED_DAYS + WALK_SLACK_DAYS  # 50 more years from this date
            yield day
    except _WalkEndError:
        return
    except (ValueError, IndexError, OverflowError) as exc:
        raise RuleError(f"The recurrence rule cannot be followed: {exc}.", "rule") from None


def last_before(text: str, anchor: date, day: date, *, end_date: date | None = None) -> date | None:
    """The rule's last date before ``day`` (and not after ``end_date``); None when it has none."""
    if end_date is not None:
        day = min(day, end_date + timedelta(days=1))
    if day <= anchor:
        return None
    fast = _fast_rule(text)
    if fast is None:
        last = None
        for found in _walk(parse_rule(text, anchor), anchor, day):
            if found >= day:
                break
            last = found
        return last
    span = 32  # windows back from ``day``, four times longer each time, down to the anchor
    while True:
        low = anchor if span >= (day - anchor).days else day - timedelta(days=span)
        last = None
        for last in _fast_dates(fast, anchor, low, day - timedelta(days=1), None):  # noqa: B007
            pass
        if last is not None or low == anchor:
            return last
        span *= 4


def count_through(text: str, anchor: date, day: date, limit: int) -> int:
    """How many dates the rule gives from the anchor through ``day`` (at most ``limit``)."""
    if day < anchor or limit <= 0:
        return 0
    fast = _fast_rule(text)
    dates = _fast_dates(fast, anchor, anchor, day, limit) if fast else _walk(parse_rule(text, anchor), anchor, day)
    count = 0
    for found in dates:
        if found > day or count >= limit:
            break
        count += 1
    return count


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


# ---------------------------------------------------------------------------------------------
# the dates of the common rules without dateutil
#
# dateutil walks a rule from its DTSTART, period by period: a monthly plan anchored five years back
# costs sixty steps before its first date in the window (about 60 µs a date). The rules the plan form
# builds (and the same shapes typed by hand) are computed here directly from the period that holds the
# start of the window, with dateutil's own semantics: periods counted from the anchor's day, week
# (weeks start on Monday), month or year; dates before the anchor never occur; a day the month lacks
# is no date (BYMONTHDAY=31 skips 30-day months, BYDAY=5TU months without a fifth Tuesday) unless
# ``BYMONTHDAY=D,-1;BYSETPOS=1`` asks for the last day instead. Any other rule goes to dateutil. Both
# agree on every rule and window (tests/maintenance/test_recurrence_properties.py).


@dataclass(frozen=True)
class _Fast:
    freq: str  # DAILY, WEEKLY, MONTHLY, YEARLY
    interval: int
    weekdays: tuple[int, ...] | None = None  # WEEKLY: BYDAY (None: the anchor's weekday)
    month_day: int | None = None  # BYMONTHDAY, 1..31 or -31..-1 (None with no nth: the anchor's day)
    clamp: bool = False  # BYMONTHDAY=D,-1;BYSETPOS=1: day D, or the last day of shorter months
    nth: tuple[int, int] | None = None  # BYDAY=2TU: (2, 1)
    month: int | None = None  # YEARLY: BYMONTH (None: the anchor's month)


_NTH = re.compile(r"^([+-]?[1-5])(MO|TU|WE|TH|FR|SA|SU)$")


@lru_cache(maxsize=4096)
def _fast_rule(text: str) -> _Fast | None:
    """The rule as a :class:`_Fast` when it has one of the shapes computed directly, else None."""
    parts: dict[str, str] = {}
    for item in (text or "").strip().removeprefix("RRULE:").upper().split(";"):
        name, sep, value = item.partition("=")
        if not sep or not value or name in parts:
            return None
        parts[name] = value
    freq = parts.pop("FREQ", None)
    if freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return None
    try:
        interval = int(parts.pop("INTERVAL", "1"))
    except ValueError:
        return None
    if not 1 <= interval <= 10000 or parts.pop("WKST", "MO") != "MO":
        return None
    byday, bymonthday, bysetpos = parts.pop("BYDAY", None), parts.pop("BYMONTHDAY", None), parts.pop("BYSETPOS", None)
    bymonth = parts.pop("BYMONTH", None)
    if parts:
        return None  # BYYEARDAY, BYWEEKNO, …
    if freq == "DAILY":
        return _Fast(freq, interval) if byday is bymonthday is bysetpos is bymonth is None else None
    if freq == "WEEKLY":
        if bymonthday is not None or bysetpos is not None or bymonth is not None:
            return None
        if byday is None:
            return _Fast(freq, interval)
        codes = byday.split(",")
        if any(c not in WEEKDAY_CODES for c in codes):
            return None
        return _Fast(freq, interval, weekdays=tuple(sorted({WEEKDAY_CODES.index(c) for c in codes})))
    month = None
    if freq == "YEARLY":
        if bymonth is None:
            if byday is not None or bymonthday is not None:
                return None  # days of the whole year
        elif not bymonth.isdigit() or not 1 <= int(bymonth) <= 12:
            return None
        else:
            month = int(bymonth)
    elif bymonth is not None:
        return None
    if byday is not None:
        found = _NTH.match(byday)
        if found is None or bymonthday is not None or bysetpos is not None:
            return None
        n = int(found.group(1))
        return _Fast(freq, interval, nth=(n, WEEKDAY_CODES.index(found.group(2))), month=month)
    if bymonthday is None:
        return None if bysetpos is not None else _Fast(freq, interval, month=month)
    days = bymonthday.split(",")
    try:
        numbers = [int(d) for d in days]
    except ValueError:
        return None
    if len(numbers) == 1 and bysetpos is None and 1 <= abs(numbers[0]) <= 31:
        return _Fast(freq, interval, month_day=numbers[0], month=month)
    if len(numbers) == 2 and numbers[1] == -1 and bysetpos == "1" and 1 <= numbers[0] <= 31:
        return _Fast(freq, interval, month_day=numbers[0], clamp=True, month=month)
    return None


def _day_in_month(fast: _Fast, year: int, month: int, anchor: date) -> int | None:
    last = std_calendar.monthrange(year, month)[1]
    if fast.nth is not None:
        n, weekday = fast.nth
        if n > 0:
            day = 1 + (weekday - date(year, month, 1).weekday()) % 7 + (n - 1) * 7
            return day if day <= last else None
        day = last - (date(year, month, last).weekday() - weekday) % 7 + (n + 1) * 7
        return day if day >= 1 else None
    wanted = fast.month_day if fast.month_day is not None else anchor.day
    if fast.clamp:
        return min(wanted, last)
    if wanted < 0:
        wanted = last + wanted + 1
        return wanted if wanted >= 1 else None
    return wanted if wanted <= last else None


def _fast_dates(fast: _Fast, anchor: date, start: date, end: date | None, limit: int | None) -> Iterator[date]:
    """The rule's dates in [max(start, anchor), end] in order (``end`` None: unbounded, up to year 9999)."""
    start = max(start, anchor)
    if end is not None and end < start:
        return
    last_day = end if end is not None else date(9999, 12, 31)
    count = 0
    if fast.freq == "DAILY":
        step = fast.interval
        day = anchor + timedelta(days=-(-(start - anchor).days // step) * step)
        while day <= last_day:
            yield day
            count += 1
            if limit is not None and count >= limit:
                return
            if (date.max - day).days < step:
                return
            day += timedelta(days=step)
        return
    if fast.freq == "WEEKLY":
        weekdays = fast.weekdays if fast.weekdays is not None else (anchor.weekday(),)
        first_week = anchor - timedelta(days=anchor.weekday())
        weeks = (start - timedelta(days=start.weekday()) - first_week).days // 7
        week = first_week + timedelta(days=weeks // fast.interval * fast.interval * 7)
        step = timedelta(days=7 * fast.interval)
        while week <= last_day:
            for weekday in weekdays:
                day = week + timedelta(days=weekday)
                if day < start:
                    continue
                if day > last_day:
                    return
                yield day
                count += 1
                if limit is not None and count >= limit:
                    return
            if (date(9999, 12, 31) - week).days < step.days:
                return
            week += step
        return
    # MONTHLY and YEARLY: periods of months from the anchor's month (a year is twelve of them)
    step = fast.interval * (12 if fast.freq == "YEARLY" else 1)
    month_of_year = (fast.month or anchor.month) - 1 if fast.freq == "YEARLY" else None
    first = anchor.year * 12 + anchor.month - 1
    if month_of_year is not None:
        first = anchor.year * 12 + month_of_year  # the anchor's year, in the rule's month
    periods = max(0, (start.year * 12 + start.month - 1 - first) // step)
    index = first + periods * step
    stop = last_day.year * 12 + last_day.month - 1
    while index <= stop:
        year, month = divmod(index, 12)
        day = _day_in_month(fast, year, month + 1, anchor)
        if day is not None:
            found = date(year, month + 1, day)
            if found > last_day:
                return
            if found >= start:
                yield found
                count += 1
                if limit is not None and count >= limit:
                    return
        index += step
