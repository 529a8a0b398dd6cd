"""The SLA clock maths: business time through a calendar, as pure functions (no ORM).

A :class:`Calendar` has an IANA time zone, per weekday (Monday = 0) a list of working intervals in
local wall time, in minutes from midnight (``(480, 1020)`` is 08:00–17:00, an end of 1440 is 24:00;
a night shift is two intervals on two days), and holidays as local dates (no working time at all).

Business time is the real time that overlaps working intervals. Each interval is turned into two UTC
instants through the calendar's zone, so a working day across a DST change has its real length
(00:00–24:00 lasts 23 hours on 2026-03-29 in Europe/Berlin and 25 hours on 2026-10-25). A local time
is the first instant the wall clock shows it or a later time: a time that comes twice (02:30 on the
autumn day) is its first occurrence, and a time the clocks jump over (02:30 on the spring day) is the
instant of the jump (03:00 summer time), so 02:30–03:00 is empty that day and 02:30–05:00 lasts two
hours. This mapping never goes backwards, so the intervals of a day, and of successive days, stay
sorted and disjoint in UTC. A 24×7 calendar counts real elapsed time.

Everything works in whole seconds; targets are whole minutes. Instants in and out are aware
datetimes; results are in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# How far ahead a computation may walk before the calendar is declared to have no working time
# (a calendar whose every day is a holiday, say): ten years.
MAX_DAYS = 3660

Interval = tuple[int, int]


class CalendarError(ValueError):
    """The calendar cannot give the answer (no working time within ten years)."""


@dataclass(frozen=True, eq=False)
class Calendar:
    """A business calendar. ``week[d]`` are the working intervals of weekday ``d`` (Monday = 0)."""

    timezone: str = "UTC"
    week: tuple[tuple[Interval, ...], ...] = ((),) * 7
    holidays: frozenset[date] = frozenset()
    always_open: bool = False  # the 24×7 calendar: real elapsed time
    _day_cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise CalendarError("A calendar has seven weekdays.")
        for day in self.week:
            previous_end = -1
            for start, end in day:
                if not (0 <= start < end <= MINUTES_PER_DAY):
                    raise CalendarError(f"The interval {start}–{end} is not within one day.")
                if start < previous_end:
                    raise CalendarError("Working intervals of one day must be sorted and must not overlap.")
                previous_end = end
        if not self.always_open and not any(self.week):
            raise CalendarError("A calendar needs at least one working interval.")

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def working_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of one local date as UTC instants (none on a holiday)."""
        cached = self._day_cache.get(day)
        if cached is None:
            if day in self.holidays:
                cached = ()
            else:
                zone = self.zone
                cached = tuple(
                    (_utc(day, start, zone), _utc(day, end, zone)) for start, end in self.week[day.weekday()]
                )
            if len(self._day_cache) > 4096:
                self._day_cache.clear()
            self._day_cache[day] = cached
        return cached

    def is_working(self, instant: datetime) -> bool:
        """Whether ``instant`` lies inside a working interval."""
        if self.always_open:
            return True
        instant = instant.astimezone(UTC)
        day = instant.astimezone(self.zone).date()
        # The next day too: were the clocks to go back across midnight (from 00:30 to 23:30, say),
        # the repeated half hour would show the earlier date inside the next day's first interval.
        return any(
            start <= instant < end for d in (day, day + timedelta(days=1)) for start, end in self.working_intervals(d)
        )


TWENTY_FOUR_SEVEN = Calendar(timezone="UTC", week=(((0, MINUTES_PER_DAY),),) * 7, always_open=True)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The first instant at which the wall clock of ``zone`` shows ``minute`` of ``day`` or later."""
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(minute // 60, minute % 60))
    instant = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first of a repeated time
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # The clocks jump over ``wall``. Read with the offset after the jump it lies before the jump, with
    # the offset before it at or after: find the jump between the two, to the second.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after_offset = instant.astimezone(zone).utcoffset()
    while instant - before > timedelta(seconds=1):
        middle = before + timedelta(seconds=(instant - before).total_seconds() // 2)
        if middle.astimezone(zone).utcoffset() == after_offset:
            instant = middle
        else:
            before = middle
    return instant


def _check_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("SLA instants must be timezone-aware.")
    return instant.astimezone(UTC)


def add_business_seconds(calendar: Calendar, start: datetime, seconds: int) -> datetime:
    """The instant at which ``seconds`` of business time have passed since ``start``.

    Zero business time from an instant outside working hours is that instant itself (nothing has to
    pass). Otherwise the result lies inside or at the end of a working interval.
    """
    start = _check_aware(start)
    if seconds < 0:
        raise ValueError("Business time to add must not be negative.")
    if calendar.always_open:
        return start + timedelta(seconds=seconds)
    if seconds == 0:
        return start
    remaining = timedelta(seconds=seconds)
    day = start.astimezone(calendar.zone).date()
    for _ in range(MAX_DAYS):
        for begin, end in calendar.working_intervals(day):
            if end <= start:
                continue
            begin = max(begin, start)
            available = end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)
    raise CalendarError("The calendar has no working time in the next ten years.")


def add_business_minutes(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    """``start`` plus ``minutes`` of business time, walked through the calendar (in UTC)."""
    return add_business_seconds(calendar, start, minutes * 60)


def business_seconds_between(calendar: Calendar, a: datetime, b: datetime) -> int:
    """The business time in ``[a, b)`` in whole seconds; 0 when ``b`` is not after ``a``."""
    a, b = _check_aware(a), _check_aware(b)
    if b <= a:
        return 0
    if calendar.always_open:
        return int((b - a).total_seconds())
    total = timedelta()
    zone = calendar.zone
    day = a.astimezone(zone).date()
    # One day beyond ``b``'s date: were the clocks to go back across midnight, ``b`` could show the
    # earlier date while the next day's first interval has begun.
    last = b.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        for begin, end in calendar.working_intervals(day):
            lo, hi = max(begin, a), min(end, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return int(total.total_seconds())


def business_minutes_between(calendar: Calendar, a: datetime, b: datetime) -> int:
    """The business time in ``[a, b)`` in whole minutes (rounded down)."""
    return business_seconds_between(calendar, a, b) // 60


# ---------------------------------------------------------------------------------------------
# targets


@dataclass(frozen=True)
class Pause:
    """A pause of a clock; ``end`` None while it lasts."""

    start: datetime
    end: datetime | None = None


def paused_seconds(calendar: Calendar, pauses: list[Pause] | tuple[Pause, ...], until: datetime) -> int:
    """The business time the pauses cover, an open pause counted until ``until``."""
    return sum(business_seconds_between(calendar, p.start, p.end or until) for p in pauses)


def _check_not_negative(target_minutes: int, paused: int) -> None:
    # Checked apart: a negative pause must not shorten a target, even when the sum stays positive.
    if target_minutes < 0 or paused < 0:
        raise ValueError("Targets and paused time must not be negative.")


def due_instant(calendar: Calendar, start: datetime, target_minutes: int, paused: int = 0) -> datetime:
    """Rule 5 of DOMAIN.md §2: start + target + paused business time, walked through the calendar."""
    _check_not_negative(target_minutes, paused)
    return add_business_seconds(calendar, start, target_minutes * 60 + paused)


def at_risk_instant(
    calendar: Calendar, start: datetime, target_minutes: int, percent: int, paused: int = 0
) -> datetime:
    """When ``percent`` of the target is used up (the at-risk threshold), pauses added."""
    _check_not_negative(target_minutes, paused)
    return add_business_seconds(calendar, start, (target_minutes * 60 * percent) // 100 + paused)


def parse_hhmm(text: str) -> int:
    """Minutes from midnight of a local time written ``HH:MM`` (``24:00`` allowed as an end)."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
    except (ValueError, AttributeError):
        raise CalendarError(f"{text!r} is not a time such as 08:30.") from None
    if not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise CalendarError(f"{text!r} is not a time between 00:00 and 24:00.")
    return hours * 60 + minutes


def format_hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def week_from_json(week: list) -> tuple[tuple[Interval, ...], ...]:
    """The stored form (seven lists of ``["08:00", "17:00"]`` pairs) as minute intervals."""
    if not isinstance(week, list | tuple) or len(week) != 7:
        raise CalendarError("A week is seven lists of working intervals, Monday first.")
    return tuple(tuple(sorted((parse_hhmm(s), parse_hhmm(e)) for s, e in day)) for day in week)


def week_to_json(week: tuple[tuple[Interval, ...], ...]) -> list:
    return [[[format_hhmm(s), format_hhmm(e)] for s, e in day] for day in week]
