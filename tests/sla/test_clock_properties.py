"""Properties of the SLA clock maths on random calendars around DST days (hypothesis).

Calendars have random working intervals per weekday (on a quarter-hour grid or on any minute, so
some start or end inside a DST gap or a repeated hour), random holidays near the DST day, and one of
several zones: Europe/Berlin and America/New_York (one-hour changes at 02:00), Australia/Lord_Howe
(a half-hour change), America/Santiago (changes at midnight), Asia/Kolkata and UTC (none). Starts are
whole seconds within three days of a DST day, most of them just before the change.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fixflow.sla.clock import (
    TWENTY_FOUR_SEVEN,
    Calendar,
    Pause,
    add_business_minutes,
    add_business_seconds,
    business_minutes_between,
    business_seconds_between,
    due_instant,
    paused_seconds,
)

# Days in 2026 on which the zone's offset changes (spring, autumn); any day for zones without DST.
DST_DAYS = {
    "Europe/Berlin": [date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],
    "America/Santiago": [date(2026, 4, 5), date(2026, 9, 6)],
    "Asia/Kolkata": [date(2026, 3, 29)],
    "UTC": [date(2026, 10, 25)],
}
SECONDS_PER_DAY = 86400

fast = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Interval ends on a quarter-hour grid, on any minute, or at the edges of the hours the clocks skip
# or repeat (00:00 in Santiago, 02:00–02:30 on Lord Howe, 02:00–03:00 in Berlin and New York).
NEAR_CHANGES = [0, 1, 15, 30, 59, 60, 61, 90, 119, 120, 121, 135, 149, 150, 151, 165, 179, 180, 181, 210, 1439, 1440]
minute_points = st.one_of(st.sampled_from(NEAR_CHANGES), st.integers(0, 96).map(lambda q: q * 15), st.integers(0, 1440))
day_intervals = st.lists(minute_points, unique=True, max_size=6).map(
    lambda points: tuple(zip(sorted(points)[::2], sorted(points)[1::2], strict=False))
)


@st.composite
def situations(draw) -> tuple[Calendar, datetime]:
    """A calendar and a start instant (UTC, whole seconds) within three days of one of its DST days."""
    zone = draw(st.sampled_from(sorted(DST_DAYS)))
    anchor = draw(st.sampled_from(DST_DAYS[zone]))
    start = datetime.combine(anchor, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    around = st.integers(-SECONDS_PER_DAY, SECONDS_PER_DAY // 4) | st.integers(
        -3 * SECONDS_PER_DAY, 3 * SECONDS_PER_DAY
    )
    start += timedelta(seconds=draw(around))
    if draw(st.integers(0, 9)) == 0:
        return TWENTY_FOUR_SEVEN, start
    week = [draw(day_intervals) for _ in range(7)]
    if not any(week):
        week[draw(st.integers(0, 6))] = ((480, 1020),)
    holidays = draw(st.frozensets(st.integers(-10, 10).map(lambda d: anchor + timedelta(days=d)), max_size=6))
    return Calendar(timezone=zone, week=tuple(week), holidays=holidays), start


def weekly_minutes(cal: Calendar) -> int:
    return 7 * 1440 if cal.always_open else sum(end - begin for day in cal.week for begin, end in day)


# Up to five business days; a sparse calendar would walk for years, so targets stay within
# 26 of its weeks (holidays lie within ten days of the start, so a 26-week walk always ends).
minutes = st.integers(0, 240) | st.integers(0, 5 * 480)


def reachable(cal: Calendar, *amounts: int) -> None:
    assume(sum(amounts) <= weekly_minutes(cal) * 26)


@fast
@given(situations(), minutes)
def test_between_start_and_start_plus_m_is_m(situation, m):
    cal, start = situation
    reachable(cal, m)
    due = add_business_minutes(cal, start, m)
    assert business_seconds_between(cal, start, due) == m * 60
    assert business_minutes_between(cal, start, due) == m
    assert due >= start and due.tzinfo is UTC


@fast
@given(situations(), minutes, minutes)
def test_adding_is_strictly_monotonic_in_minutes(situation, a, b):
    cal, start = situation
    reachable(cal, a, b)
    low, high = sorted((a, b))
    if low == high:
        assert add_business_minutes(cal, start, low) == add_business_minutes(cal, start, high)
    else:  # more business time can only be had later
        assert add_business_minutes(cal, start, low) < add_business_minutes(cal, start, high)


@fast
@given(situations(), st.integers(0, 2 * SECONDS_PER_DAY), minutes)
def test_adding_is_monotonic_in_start(situation, later_by, m):
    cal, start = situation
    reachable(cal, m)
    later = start + timedelta(seconds=later_by)
    assert add_business_minutes(cal, start, m) <= add_business_minutes(cal, later, m)


@fast
@given(situations(), st.integers(1, 5 * 480), st.integers(0, 3 * SECONDS_PER_DAY), st.integers(0, SECONDS_PER_DAY))
def test_a_pause_never_shortens_a_due_instant(situation, target, pause_offset, pause_length):
    cal, start = situation
    reachable(cal, target + 24 * 60)
    pause = Pause(start + timedelta(seconds=pause_offset), start + timedelta(seconds=pause_offset + pause_length))
    paused = paused_seconds(cal, [pause], until=pause.end)
    assert 0 <= paused <= pause_length
    unpaused = due_instant(cal, start, target)
    assert due_instant(cal, start, target, paused) >= unpaused
    # and more pause is never earlier either
    assert due_instant(cal, start, target, paused + 60) >= due_instant(cal, start, target, paused)


@fast
@given(situations(), minutes, minutes)
def test_adding_in_two_steps_is_adding_the_sum(situation, a, b):
    """add(add(s, a), b) == add(s, a + b), exactly.

    It holds because the first step ends where the walk of the sum would be after ``a``: for a > 0
    inside a working interval or at its end (``add`` never stops in the gap after an interval), and
    for a = 0 at ``s`` itself, from which the second walk starts as the whole one does. (In whole
    minutes of ``business_minutes_between`` additivity does not hold: each part is rounded down.)
    """
    cal, start = situation
    reachable(cal, a, b)
    middle = add_business_minutes(cal, start, a)
    if a > 0:  # the minute before the first result was working time
        assert cal.is_working(middle - timedelta(seconds=1))
    assert add_business_minutes(cal, middle, b) == add_business_minutes(cal, start, a + b)


@fast
@given(
    situations(),
    st.integers(0, 4 * SECONDS_PER_DAY),
    st.integers(0, 4 * SECONDS_PER_DAY),
)
def test_between_is_additive_over_a_split_point(situation, first, second):
    cal, a = situation
    b = a + timedelta(seconds=first)
    c = b + timedelta(seconds=second)
    whole = business_seconds_between(cal, a, c)
    assert whole == business_seconds_between(cal, a, b) + business_seconds_between(cal, b, c)
    assert 0 <= whole <= first + second  # business time is a part of real time
    assert business_seconds_between(cal, c, a) == (0 if c > a else whole)


@fast
@given(situations(), st.integers(0, 2 * SECONDS_PER_DAY))
def test_one_second_counts_exactly_when_it_is_working_time(situation, offset):
    cal, start = situation
    instant = start + timedelta(seconds=offset)
    expected = 1 if cal.is_working(instant) else 0
    assert business_seconds_between(cal, instant, instant + timedelta(seconds=1)) == expected


@fast
@given(situations(), st.integers(0, 5 * 480 * 60))
def test_seconds_and_minutes_agree(situation, seconds):
    cal, start = situation
    reachable(cal, seconds // 60 + 1)
    assert business_seconds_between(cal, start, add_business_seconds(cal, start, seconds)) == seconds
    if seconds % 60 == 0:
        assert add_business_seconds(cal, start, seconds) == add_business_minutes(cal, start, seconds // 60)
