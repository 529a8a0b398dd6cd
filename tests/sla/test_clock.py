"""The SLA clock maths (DOMAIN.md §2, "Tests"), with exact expected instants.

Every case is written in the calendar's local wall time and checked in Europe/Berlin and in
America/New_York (the tables hold dates without DST changes, so one local table serves both zones).
The DST cases give the expected instant in UTC as well, so the conversion is checked too, not only
repeated. The server runs in UTC; instants given in other zones check that the site's zone rules.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fixflow.sla.clock import (
    TWENTY_FOUR_SEVEN,
    Calendar,
    CalendarError,
    Pause,
    add_business_minutes,
    add_business_seconds,
    at_risk_instant,
    business_minutes_between,
    business_seconds_between,
    due_instant,
    format_hhmm,
    parse_hhmm,
    paused_seconds,
    week_from_json,
    week_to_json,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = [pytest.param(BERLIN, id="Berlin"), pytest.param(NEW_YORK, id="New_York")]


def hm(text: str) -> int:
    return parse_hhmm(text)


# Monday to Friday 08:00–17:00.
OFFICE = (((hm("08:00"), hm("17:00")),),) * 5 + ((), ())
# A split shift: 08:00–12:00 and 13:00–17:00, Monday to Friday (8 hours a day).
SPLIT = (((hm("08:00"), hm("12:00")), (hm("13:00"), hm("17:00"))),) * 5 + ((), ())
# Night shifts from Monday to Friday night: 22:00–24:00, and 00:00–06:00 on the next morning.
NIGHT = (
    ((hm("22:00"), hm("24:00")),),  # Monday evening
    ((hm("00:00"), hm("06:00")), (hm("22:00"), hm("24:00"))),  # Tuesday
    ((hm("00:00"), hm("06:00")), (hm("22:00"), hm("24:00"))),  # Wednesday
    ((hm("00:00"), hm("06:00")), (hm("22:00"), hm("24:00"))),  # Thursday
    ((hm("00:00"), hm("06:00")), (hm("22:00"), hm("24:00"))),  # Friday
    ((hm("00:00"), hm("06:00")),),  # Saturday morning ends Friday's night
    (),
)
WEEKS = {"office": OFFICE, "split": SPLIT, "night": NIGHT}

# Christmas 2026: Thu 24, Fri 25, Sat 26 December, then the weekend; New Year's Eve and Day are
# Thursday and Friday. Wed 3 June 2026 is a one-off holiday in the middle of a week.
CHRISTMAS = frozenset(
    {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 31), date(2027, 1, 1)}
)
MIDWEEK = frozenset({date(2026, 6, 3)})
HOLIDAYS = {"none": frozenset(), "christmas": CHRISTMAS, "midweek": MIDWEEK}

# June 2026: Mon 1, Tue 2, Wed 3, Thu 4, Fri 5, Sat 6, Sun 7, Mon 8, Tue 9.
# (week, holidays, start local, minutes, expected local, why)
ADD_CASES = [
    ("office", "none", (2026, 6, 1, 10, 0), 60, (2026, 6, 1, 11, 0), "inside hours: plain addition"),
    ("office", "none", (2026, 6, 1, 6, 0), 60, (2026, 6, 1, 9, 0), "before opening: counts from 08:00"),
    ("office", "none", (2026, 6, 1, 18, 0), 60, (2026, 6, 2, 9, 0), "after closing: next morning 08:00 + 1 h"),
    ("office", "none", (2026, 6, 2, 2, 0), 60, (2026, 6, 2, 9, 0), "at night: the same day's 08:00 + 1 h"),
    ("office", "none", (2026, 6, 6, 10, 0), 60, (2026, 6, 8, 9, 0), "Saturday: Monday 08:00 + 1 h"),
    ("office", "none", (2026, 6, 7, 23, 59), 1, (2026, 6, 8, 8, 1), "Sunday night: Monday 08:01"),
    ("office", "none", (2026, 6, 6, 10, 0), 0, (2026, 6, 6, 10, 0), "nothing to add: the start itself"),
    ("office", "none", (2026, 6, 1, 16, 0), 60, (2026, 6, 1, 17, 0), "ends at closing: due 17:00, not 08:00"),
    ("office", "none", (2026, 6, 1, 17, 0), 0, (2026, 6, 1, 17, 0), "at closing with 0 left: 17:00"),
    ("office", "none", (2026, 6, 1, 17, 0), 1, (2026, 6, 2, 8, 1), "at closing with 1 minute left: 08:01"),
    ("office", "none", (2026, 6, 1, 16, 59), 1, (2026, 6, 1, 17, 0), "the last minute of the day"),
    ("office", "none", (2026, 6, 1, 16, 59), 2, (2026, 6, 2, 8, 1), "one minute today, one tomorrow"),
    ("office", "none", (2026, 6, 1, 8, 0), 540, (2026, 6, 1, 17, 0), "a full day is 9 hours"),
    ("office", "none", (2026, 6, 1, 8, 0), 541, (2026, 6, 2, 8, 1), "a full day and a minute"),
    ("office", "none", (2026, 6, 5, 16, 0), 120, (2026, 6, 8, 9, 0), "Friday 16:00 + 2 h: 1 h Fri, 1 h Mon"),
    ("office", "none", (2026, 6, 5, 17, 0), 1, (2026, 6, 8, 8, 1), "Friday closing + 1 min: Monday 08:01"),
    ("office", "none", (2026, 6, 1, 10, 0), 2700, (2026, 6, 8, 10, 0), "5 business days: a week later"),
    # Wed 12:00 + 40 h: Wed 5 h, Thu 9, Fri 9, Mon 9 (32 h), Tue 08:00 + 8 h = 16:00.
    ("office", "none", (2026, 6, 3, 12, 0), 2400, (2026, 6, 9, 16, 0), "40 h over a weekend"),
    # Holidays: no working time at all.
    ("office", "midweek", (2026, 6, 3, 10, 0), 60, (2026, 6, 4, 9, 0), "created on a holiday: next day 09:00"),
    ("office", "midweek", (2026, 6, 2, 16, 0), 120, (2026, 6, 4, 9, 0), "a holiday in between is skipped"),
    ("office", "christmas", (2026, 12, 24, 10, 0), 60, (2026, 12, 28, 9, 0), "Christmas Eve: Monday 28th"),
    ("office", "christmas", (2026, 12, 23, 16, 0), 120, (2026, 12, 28, 9, 0), "over 24–26 Dec and a weekend"),
    ("office", "christmas", (2026, 12, 22, 17, 0), 540, (2026, 12, 23, 17, 0), "the last day before Christmas"),
    ("office", "christmas", (2026, 12, 22, 17, 0), 541, (2026, 12, 28, 8, 1), "one minute more: after Christmas"),
    # Wed 23 10:00 + 40 h: Wed 7 h, Mon 28 9 h, Tue 9 h, Wed 30 9 h (34 h), New Year run Thu–Sun,
    # Mon 4 Jan 08:00 + 6 h = 14:00.
    ("office", "christmas", (2026, 12, 23, 10, 0), 2400, (2027, 1, 4, 14, 0), "5 business days over two runs"),
    # Split shifts: 08–12 and 13–17.
    ("split", "none", (2026, 6, 1, 11, 30), 30, (2026, 6, 1, 12, 0), "ends with the morning shift"),
    ("split", "none", (2026, 6, 1, 11, 30), 31, (2026, 6, 1, 13, 1), "the lunch break is skipped"),
    ("split", "none", (2026, 6, 1, 11, 30), 60, (2026, 6, 1, 13, 30), "half before, half after lunch"),
    ("split", "none", (2026, 6, 1, 12, 15), 30, (2026, 6, 1, 13, 30), "created during lunch: from 13:00"),
    ("split", "none", (2026, 6, 1, 16, 30), 60, (2026, 6, 2, 8, 30), "afternoon shift, then next morning"),
    ("split", "none", (2026, 6, 1, 8, 0), 480, (2026, 6, 1, 17, 0), "a split day holds 8 hours"),
    # Night shifts: Mon–Fri 22:00–24:00, Tue–Sat 00:00–06:00.
    ("night", "none", (2026, 6, 1, 23, 0), 120, (2026, 6, 2, 1, 0), "across midnight: 1 h Mon, 1 h Tue"),
    ("night", "none", (2026, 6, 1, 22, 0), 120, (2026, 6, 2, 0, 0), "24:00 is Tuesday 00:00"),
    ("night", "none", (2026, 6, 1, 12, 0), 60, (2026, 6, 1, 23, 0), "created by day: the night shift counts"),
    ("night", "none", (2026, 6, 2, 6, 0), 1, (2026, 6, 2, 22, 1), "after the morning part: 22:01"),
    ("night", "none", (2026, 6, 6, 5, 0), 60, (2026, 6, 6, 6, 0), "Saturday morning ends Friday's night"),
    # Fri 23:30: 30 min Fri, 6 h Sat morning, no shift Sat/Sun night, Mon 22:00 + 30 min.
    ("night", "none", (2026, 6, 5, 23, 30), 420, (2026, 6, 8, 22, 30), "over the weekend"),
]


def local(zone: ZoneInfo, parts: tuple) -> datetime:
    return datetime(*parts, tzinfo=zone)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("week", "holidays", "start", "minutes", "expected", "why"), ADD_CASES, ids=[c[-1] for c in ADD_CASES]
)
def test_add_business_minutes_walks_the_calendar(zone, week, holidays, start, minutes, expected, why):
    cal = Calendar(timezone=zone.key, week=WEEKS[week], holidays=HOLIDAYS[holidays])
    result = add_business_minutes(cal, local(zone, start), minutes)
    assert result == local(zone, expected), why
    assert result.utcoffset() == timedelta(0)  # stored in UTC


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("week", "holidays", "start", "minutes", "expected", "why"), ADD_CASES, ids=[c[-1] for c in ADD_CASES]
)
def test_business_minutes_between_counts_back_what_was_added(zone, week, holidays, start, minutes, expected, why):
    cal = Calendar(timezone=zone.key, week=WEEKS[week], holidays=HOLIDAYS[holidays])
    assert business_minutes_between(cal, local(zone, start), local(zone, expected)) == minutes, why
    assert business_seconds_between(cal, local(zone, start), local(zone, expected)) == minutes * 60


# (week, holidays, a, b, business minutes in [a, b), why)
BETWEEN_CASES = [
    ("office", "none", (2026, 6, 1, 10, 0), (2026, 6, 1, 10, 0), 0, "an empty span"),
    ("office", "none", (2026, 6, 1, 11, 0), (2026, 6, 1, 10, 0), 0, "b before a: nothing, never negative"),
    ("office", "none", (2026, 6, 1, 7, 0), (2026, 6, 1, 18, 0), 540, "the whole day from outside hours"),
    ("office", "none", (2026, 6, 6, 0, 0), (2026, 6, 8, 0, 0), 0, "a weekend holds no business time"),
    ("office", "none", (2026, 6, 5, 16, 0), (2026, 6, 8, 9, 0), 120, "Friday afternoon to Monday morning"),
    ("office", "none", (2026, 6, 1, 0, 0), (2026, 6, 8, 0, 0), 2700, "a week is 45 hours"),
    ("office", "midweek", (2026, 6, 1, 0, 0), (2026, 6, 8, 0, 0), 2160, "a week with a holiday: 36 hours"),
    ("office", "christmas", (2026, 12, 23, 8, 0), (2026, 12, 28, 8, 0), 540, "Christmas run: only Wed 23rd"),
    ("split", "none", (2026, 6, 1, 11, 0), (2026, 6, 1, 14, 0), 120, "lunch does not count"),
    ("night", "none", (2026, 6, 1, 21, 0), (2026, 6, 2, 7, 0), 480, "one night: 2 h + 6 h"),
    ("night", "none", (2026, 6, 2, 6, 0), (2026, 6, 2, 22, 0), 0, "the day between two nights"),
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("week", "holidays", "a", "b", "minutes", "why"), BETWEEN_CASES, ids=[c[-1] for c in BETWEEN_CASES]
)
def test_business_minutes_between(zone, week, holidays, a, b, minutes, why):
    cal = Calendar(timezone=zone.key, week=WEEKS[week], holidays=HOLIDAYS[holidays])
    assert business_minutes_between(cal, local(zone, a), local(zone, b)) == minutes, why


@pytest.mark.parametrize("zone", ZONES)
def test_between_rounds_down_to_whole_minutes_and_seconds_are_exact(zone):
    cal = Calendar(timezone=zone.key, week=OFFICE)
    a = datetime(2026, 6, 1, 8, 0, 30, tzinfo=zone)
    b = datetime(2026, 6, 1, 9, 0, tzinfo=zone)
    assert business_seconds_between(cal, a, b) == 3570
    assert business_minutes_between(cal, a, b) == 59
    # 30 seconds from 07:59:30 are outside hours
    assert business_seconds_between(cal, datetime(2026, 6, 1, 7, 59, 30, tzinfo=zone), b) == 3600
    assert add_business_seconds(cal, datetime(2026, 6, 1, 16, 59, 30, tzinfo=zone), 45) == datetime(
        2026, 6, 2, 8, 0, 15, tzinfo=zone
    )


# ---------------------------------------------------------------------------------------------
# DST: expected instants in UTC, and in local time as a check of the reasoning.

ALL_DAY = (((0, 1440),),) * 7
# 01:00–05:00 every day in Berlin: the interval spans the 02:00–03:00 change in both directions.
EARLY_BERLIN = (((hm("01:00"), hm("05:00")),),) * 7
# 00:00–04:00 every day in New York: spans 02:00–03:00 (spring) and the repeated 01:00–02:00 (autumn).
EARLY_NEW_YORK = (((hm("00:00"), hm("04:00")),),) * 7

Z = UTC
# (zone, week or None for the built-in 24×7, start, minutes, expected in UTC, expected local, why)
DST_CASES = [
    # 24×7 counts real elapsed time: a DST day has 23 or 25 hours, so 24 h later shows another hour.
    (BERLIN, None, (2026, 3, 28, 12, 0), 1440, (2026, 3, 29, 11, 0), (2026, 3, 29, 13, 0), "24x7 spring +24h"),
    (BERLIN, None, (2026, 10, 24, 12, 0), 1440, (2026, 10, 25, 10, 0), (2026, 10, 25, 11, 0), "24x7 autumn +24h"),
    (BERLIN, None, (2026, 3, 29, 1, 30), 60, (2026, 3, 29, 1, 30), (2026, 3, 29, 3, 30), "24x7 over the gap"),
    (NEW_YORK, None, (2026, 3, 7, 12, 0), 1440, (2026, 3, 8, 17, 0), (2026, 3, 8, 13, 0), "NY 24x7 spring"),
    (NEW_YORK, None, (2026, 10, 31, 12, 0), 1440, (2026, 11, 1, 16, 0), (2026, 11, 1, 11, 0), "NY 24x7 autumn"),
    # A business calendar open all day is real time too: 24 h after Saturday noon is Sunday 13:00.
    (BERLIN, ALL_DAY, (2026, 3, 28, 12, 0), 1440, (2026, 3, 29, 11, 0), (2026, 3, 29, 13, 0), "all day spring"),
    (BERLIN, ALL_DAY, (2026, 10, 24, 12, 0), 1440, (2026, 10, 25, 10, 0), (2026, 10, 25, 11, 0), "all day autumn"),
    # Berlin 01:00–05:00: on 29 March it runs 01:00 CET (00:00Z) – 05:00 CEST (03:00Z), 3 hours.
    (BERLIN, EARLY_BERLIN, (2026, 3, 28, 5, 0), 180, (2026, 3, 29, 3, 0), (2026, 3, 29, 5, 0), "spring: 3 h"),
    (BERLIN, EARLY_BERLIN, (2026, 3, 28, 5, 0), 181, (2026, 3, 29, 23, 1), (2026, 3, 30, 1, 1), "spring: +1 min"),
    (BERLIN, EARLY_BERLIN, (2026, 3, 29, 0, 0), 90, (2026, 3, 29, 1, 30), (2026, 3, 29, 3, 30), "across the gap"),
    # On 25 October it runs 01:00 CEST (23:00Z the day before) – 05:00 CET (04:00Z), 5 hours.
    (BERLIN, EARLY_BERLIN, (2026, 10, 24, 5, 0), 300, (2026, 10, 25, 4, 0), (2026, 10, 25, 5, 0), "autumn: 5 h"),
    (BERLIN, EARLY_BERLIN, (2026, 10, 24, 5, 0), 301, (2026, 10, 26, 0, 1), (2026, 10, 26, 1, 1), "autumn +1min"),
    (BERLIN, EARLY_BERLIN, (2026, 10, 25, 0, 0), 90, (2026, 10, 25, 0, 30), (2026, 10, 25, 2, 30), "first 02:30"),
    (BERLIN, EARLY_BERLIN, (2026, 10, 25, 0, 0), 150, (2026, 10, 25, 1, 30), (2026, 10, 25, 2, 30), "second 02:30"),
    # New York 00:00–04:00: on 8 March 00:00 EST (05:00Z) – 04:00 EDT (08:00Z), 3 hours.
    (NEW_YORK, EARLY_NEW_YORK, (2026, 3, 7, 4, 0), 180, (2026, 3, 8, 8, 0), (2026, 3, 8, 4, 0), "NY spring 3 h"),
    (NEW_YORK, EARLY_NEW_YORK, (2026, 3, 7, 4, 0), 181, (2026, 3, 9, 4, 1), (2026, 3, 9, 0, 1), "NY spring +1"),
    (NEW_YORK, EARLY_NEW_YORK, (2026, 3, 8, 0, 0), 150, (2026, 3, 8, 7, 30), (2026, 3, 8, 3, 30), "NY gap"),
    # On 1 November 00:00 EDT (04:00Z) – 04:00 EST (09:00Z), 5 hours; 01:00–02:00 comes twice.
    (NEW_YORK, EARLY_NEW_YORK, (2026, 10, 31, 4, 0), 300, (2026, 11, 1, 9, 0), (2026, 11, 1, 4, 0), "NY autumn"),
    (NEW_YORK, EARLY_NEW_YORK, (2026, 10, 31, 4, 0), 301, (2026, 11, 2, 5, 1), (2026, 11, 2, 0, 1), "NY aut +1"),
    (NEW_YORK, EARLY_NEW_YORK, (2026, 11, 1, 0, 0), 90, (2026, 11, 1, 5, 30), (2026, 11, 1, 1, 30), "NY 1st 1:30"),
    (NEW_YORK, EARLY_NEW_YORK, (2026, 11, 1, 0, 0), 150, (2026, 11, 1, 6, 30), (2026, 11, 1, 1, 30), "NY 2nd 1:30"),
    # Office hours over the DST weekends: Monday's 09:00 has the new offset.
    (BERLIN, OFFICE, (2026, 3, 27, 16, 0), 120, (2026, 3, 30, 7, 0), (2026, 3, 30, 9, 0), "office spring"),
    (BERLIN, OFFICE, (2026, 10, 23, 16, 0), 120, (2026, 10, 26, 8, 0), (2026, 10, 26, 9, 0), "office autumn"),
    (NEW_YORK, OFFICE, (2026, 3, 6, 16, 0), 120, (2026, 3, 9, 13, 0), (2026, 3, 9, 9, 0), "NY office spring"),
    (NEW_YORK, OFFICE, (2026, 10, 30, 16, 0), 120, (2026, 11, 2, 14, 0), (2026, 11, 2, 9, 0), "NY office autumn"),
]


@pytest.mark.parametrize(
    ("zone", "week", "start", "minutes", "utc", "wall", "why"), DST_CASES, ids=[c[-1] for c in DST_CASES]
)
def test_dst_days_have_their_real_length(zone, week, start, minutes, utc, wall, why):
    cal = TWENTY_FOUR_SEVEN if week is None else Calendar(timezone=zone.key, week=week)
    begin = local(zone, start)
    result = add_business_minutes(cal, begin, minutes)
    assert result == datetime(*utc, tzinfo=UTC), why
    assert result.astimezone(zone).replace(tzinfo=None) == datetime(*wall), why
    assert business_minutes_between(cal, begin, result) == minutes


@pytest.mark.parametrize(
    ("zone", "day", "minutes"),
    [
        (BERLIN, date(2026, 3, 29), 180),  # 01:00 CET – 05:00 CEST
        (BERLIN, date(2026, 3, 28), 240),  # an ordinary day
        (BERLIN, date(2026, 10, 25), 300),  # 01:00 CEST – 05:00 CET
        (NEW_YORK, date(2026, 3, 8), 180),
        (NEW_YORK, date(2026, 11, 1), 300),
    ],
)
def test_a_dst_day_holds_its_real_business_time(zone, day, minutes):
    week = EARLY_BERLIN if zone is BERLIN else EARLY_NEW_YORK
    cal = Calendar(timezone=zone.key, week=week)
    a = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    assert business_minutes_between(cal, a, a + timedelta(hours=12)) == minutes


@pytest.mark.parametrize(
    ("interval", "day", "expected", "why"),
    [
        # Spring (the wall clock jumps from 02:00 to 03:00 = 01:00Z): 02:30 is reached at the jump.
        (("02:30", "05:00"), date(2026, 3, 29), ((2026, 3, 29, 1, 0), (2026, 3, 29, 3, 0)), "starts at the jump"),
        (("02:00", "03:00"), date(2026, 3, 29), ((2026, 3, 29, 1, 0), (2026, 3, 29, 1, 0)), "the gap is empty"),
        (("02:30", "03:00"), date(2026, 3, 29), ((2026, 3, 29, 1, 0), (2026, 3, 29, 1, 0)), "inside the gap"),
        (("01:30", "02:30"), date(2026, 3, 29), ((2026, 3, 29, 0, 30), (2026, 3, 29, 1, 0)), "ends at the jump"),
        # Autumn (02:00–03:00 comes twice): a time is its first occurrence.
        (("02:30", "05:00"), date(2026, 10, 25), ((2026, 10, 25, 0, 30), (2026, 10, 25, 4, 0)), "first 02:30"),
    ],
)
def test_local_times_the_clocks_jump_over_or_repeat(interval, day, expected, why):
    cal = Calendar(timezone="Europe/Berlin", week=((tuple(hm(t) for t in interval),),) * 7)
    (begin, end) = cal.working_intervals(day)[0]
    assert (begin, end) == tuple(datetime(*e, tzinfo=UTC) for e in expected), why


def test_interval_inside_the_spring_gap_adds_nothing():
    """02:30–03:00 does not exist on 29 March: the day holds only its 03:00–04:00 hour."""
    cal = Calendar(timezone="Europe/Berlin", week=(((hm("02:30"), hm("03:00")), (hm("03:00"), hm("04:00"))),) * 7)
    start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    assert add_business_minutes(cal, start, 30) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert add_business_minutes(cal, start, 60) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)  # 04:00 CEST
    # the 61st minute is the next day's 02:31 (30 min + 30 min on 30 March)
    assert add_business_minutes(cal, start, 61) == datetime(2026, 3, 30, 2, 31, tzinfo=BERLIN)
    assert business_minutes_between(cal, start, datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)) == 60


def test_clocks_changing_at_midnight():
    """America/Santiago: at 00:00 on 5 April 2026 the clocks go back to 23:00 on the 4th, and at 00:00
    on 6 September they jump to 01:00. Saturday's 23:00–24:00 lasts until the wall clock first shows
    Sunday 00:00: two hours in April (23:00 comes twice), one in September; Sunday 00:00–06:00 lasts
    six hours in April and five in September."""
    santiago = ZoneInfo("America/Santiago")
    cal = Calendar(timezone=santiago.key, week=((),) * 5 + (((hm("23:00"), hm("24:00")),), ((0, hm("06:00")),)))
    assert cal.working_intervals(date(2026, 4, 4)) == (
        (datetime(2026, 4, 5, 2, 0, tzinfo=UTC), datetime(2026, 4, 5, 4, 0, tzinfo=UTC)),
    )
    assert cal.working_intervals(date(2026, 4, 5)) == (
        (datetime(2026, 4, 5, 4, 0, tzinfo=UTC), datetime(2026, 4, 5, 10, 0, tzinfo=UTC)),
    )
    repeated_2330 = datetime(2026, 4, 5, 3, 30, tzinfo=UTC)  # the second 23:30 on the 4th (-04)
    assert cal.is_working(repeated_2330)
    saturday_noon = datetime(2026, 4, 4, 12, 0, tzinfo=santiago)
    assert business_minutes_between(cal, saturday_noon, repeated_2330) == 90
    assert add_business_minutes(cal, saturday_noon, 90) == repeated_2330
    assert business_minutes_between(cal, saturday_noon, datetime(2026, 4, 6, tzinfo=santiago)) == 480
    # September: Saturday 23:00 (-04, 03:00Z) until the jump (04:00Z = Sunday 01:00 -03), then 5 hours
    saturday_noon = datetime(2026, 9, 5, 12, 0, tzinfo=santiago)
    assert add_business_minutes(cal, saturday_noon, 60) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert add_business_minutes(cal, saturday_noon, 61) == datetime(2026, 9, 6, 4, 1, tzinfo=UTC)
    assert business_minutes_between(cal, saturday_noon, datetime(2026, 9, 7, tzinfo=santiago)) == 360


# ---------------------------------------------------------------------------------------------
# The site's zone, not the server's (UTC) nor the zone an instant happens to be written in.

TOKYO = ZoneInfo("Asia/Tokyo")
KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("calendar_zone", "start", "minutes", "expected_utc", "why"),
    [
        # 12:00Z is Monday 08:00 in New York (EDT): one hour later is 09:00 EDT = 13:00Z.
        ("America/New_York", datetime(2026, 6, 1, 12, 0, tzinfo=UTC), 60, (2026, 6, 1, 13, 0), "UTC in"),
        # The same instant written in Tokyo time (Monday 21:00 JST).
        ("America/New_York", datetime(2026, 6, 1, 21, 0, tzinfo=TOKYO), 60, (2026, 6, 1, 13, 0), "Tokyo in"),
        # 06:30Z is 08:30 in Berlin (open) but 02:30 in New York (closed).
        ("Europe/Berlin", datetime(2026, 6, 1, 6, 30, tzinfo=UTC), 30, (2026, 6, 1, 7, 0), "Berlin open"),
        ("America/New_York", datetime(2026, 6, 1, 6, 30, tzinfo=UTC), 30, (2026, 6, 1, 12, 30), "NY closed"),
        # Monday 02:00 in Berlin is Sunday 20:00 in New York: Monday 08:00 EDT + 1 h.
        ("America/New_York", datetime(2026, 6, 8, 2, 0, tzinfo=BERLIN), 60, (2026, 6, 8, 13, 0), "dates differ"),
        # Sunday 22:00 in New York is Monday 04:00 in Berlin: Monday 08:00 CEST + 1 h = 07:00Z.
        ("Europe/Berlin", datetime(2026, 6, 7, 22, 0, tzinfo=NEW_YORK), 60, (2026, 6, 8, 7, 0), "NY Sunday"),
        # Kolkata is UTC+05:30: 03:00Z is Monday 08:30 IST.
        ("Asia/Kolkata", datetime(2026, 6, 1, 3, 0, tzinfo=UTC), 60, (2026, 6, 1, 4, 0), "half-hour zone"),
        # Friday 17:00 in Kolkata is 11:30Z; + 1 min is Monday 08:01 IST = 02:31Z.
        ("Asia/Kolkata", datetime(2026, 6, 5, 17, 0, tzinfo=KOLKATA), 1, (2026, 6, 8, 2, 31), "Kolkata Friday"),
    ],
)
def test_the_calendar_zone_decides(calendar_zone, start, minutes, expected_utc, why):
    cal = Calendar(timezone=calendar_zone, week=OFFICE)
    result = add_business_minutes(cal, start, minutes)
    assert result == datetime(*expected_utc, tzinfo=UTC), why
    assert result.tzinfo is UTC
    # between does not care in which zone its instants are written
    assert business_minutes_between(cal, start.astimezone(TOKYO), result.astimezone(NEW_YORK)) == minutes


def test_holidays_are_local_dates_of_the_calendar():
    """A New York holiday on 3 June covers 04:00Z on the 3rd to 04:00Z on the 4th, whatever UTC says."""
    cal = Calendar(timezone="America/New_York", week=OFFICE, holidays=MIDWEEK)
    # Tue 2 June 16:00 EDT (20:00Z, already the 3rd in UTC and in Berlin) + 2 h: 1 h Tue, Thu 09:00 EDT
    start = datetime(2026, 6, 2, 20, 0, tzinfo=UTC)
    assert add_business_minutes(cal, start, 120) == datetime(2026, 6, 4, 13, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# targets: due and at-risk instants, pauses


@pytest.mark.parametrize("zone", ZONES)
def test_due_instant_adds_the_paused_business_time(zone):
    cal = Calendar(timezone=zone.key, week=OFFICE)
    start = datetime(2026, 6, 5, 15, 0, tzinfo=zone)  # Friday
    assert due_instant(cal, start, 60) == datetime(2026, 6, 5, 16, 0, tzinfo=zone)
    # paused Friday 15:30 to Monday 10:00: 1.5 h Friday + 2 h Monday of business time
    pauses = [Pause(datetime(2026, 6, 5, 15, 30, tzinfo=zone), datetime(2026, 6, 8, 10, 0, tzinfo=zone))]
    paused = paused_seconds(cal, pauses, until=datetime(2026, 6, 9, tzinfo=zone))
    assert paused == 210 * 60
    # due = Friday 15:00 + 1 h + 3.5 h: 2 h on Friday, Monday 08:00 + 2.5 h
    assert due_instant(cal, start, 60, paused) == datetime(2026, 6, 8, 10, 30, tzinfo=zone)


@pytest.mark.parametrize("zone", ZONES)
def test_several_pauses_sum_and_an_open_pause_counts_until_now(zone):
    cal = Calendar(timezone=zone.key, week=OFFICE)
    pauses = [
        Pause(datetime(2026, 6, 1, 9, 0, tzinfo=zone), datetime(2026, 6, 1, 9, 45, tzinfo=zone)),  # 45 min
        Pause(datetime(2026, 6, 1, 16, 30, tzinfo=zone), datetime(2026, 6, 2, 8, 15, tzinfo=zone)),  # 30 + 15
        Pause(datetime(2026, 6, 2, 11, 0, tzinfo=zone)),  # open: until 11:20
    ]
    assert paused_seconds(cal, pauses, until=datetime(2026, 6, 2, 11, 20, tzinfo=zone)) == (45 + 45 + 20) * 60


@pytest.mark.parametrize("zone", ZONES)
def test_at_risk_instant_is_a_share_of_the_target(zone):
    cal = Calendar(timezone=zone.key, week=OFFICE)
    start = datetime(2026, 6, 1, 8, 0, tzinfo=zone)
    # 80 % of 100 min = 80 min
    assert at_risk_instant(cal, start, 100, 80) == datetime(2026, 6, 1, 9, 20, tzinfo=zone)
    # 80 % of 7 min = 5 min 36 s (to the second)
    assert at_risk_instant(cal, start, 7, 80) == datetime(2026, 6, 1, 8, 5, 36, tzinfo=zone)
    # 80 % of 9 h from Monday 16:00: 7 h 12 min = 1 h Monday + Tuesday 08:00 + 6 h 12 min
    at_risk = at_risk_instant(cal, datetime(2026, 6, 1, 16, 0, tzinfo=zone), 540, 80)
    assert at_risk == datetime(2026, 6, 2, 14, 12, tzinfo=zone)
    # pauses move it like the due instant
    assert at_risk_instant(cal, start, 100, 80, paused=600) == datetime(2026, 6, 1, 9, 30, tzinfo=zone)


def test_is_working():
    cal = Calendar(timezone="Europe/Berlin", week=SPLIT)
    assert cal.is_working(datetime(2026, 6, 1, 8, 0, tzinfo=BERLIN))
    assert not cal.is_working(datetime(2026, 6, 1, 7, 59, 59, tzinfo=BERLIN))
    assert not cal.is_working(datetime(2026, 6, 1, 12, 0, tzinfo=BERLIN))  # an end is exclusive
    assert cal.is_working(datetime(2026, 6, 1, 11, 0, tzinfo=UTC))  # 13:00 CEST
    assert not cal.is_working(datetime(2026, 6, 6, 10, 0, tzinfo=BERLIN))  # Saturday
    assert TWENTY_FOUR_SEVEN.is_working(datetime(2026, 6, 6, 3, 0, tzinfo=BERLIN))


# ---------------------------------------------------------------------------------------------
# errors


def test_naive_datetimes_are_refused():
    cal = Calendar(timezone="Europe/Berlin", week=OFFICE)
    naive, aware = datetime(2026, 6, 1, 10, 0), datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_minutes(cal, naive, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_minutes(TWENTY_FOUR_SEVEN, naive, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_minutes_between(cal, naive, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_minutes_between(cal, aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_instant(cal, naive, 60)


@pytest.mark.parametrize("calendar", [pytest.param(TWENTY_FOUR_SEVEN, id="24x7"), pytest.param(None, id="office")])
def test_negative_time_is_refused(calendar):
    cal = calendar or Calendar(timezone="Europe/Berlin", week=OFFICE)
    start = datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(cal, start, -1)
    with pytest.raises(ValueError, match="negative"):
        add_business_seconds(cal, start, -1)
    with pytest.raises(ValueError, match="negative"):
        due_instant(cal, start, 60, paused=-60)
    with pytest.raises(ValueError, match="negative"):
        due_instant(cal, start, -60, paused=7200)
    with pytest.raises(ValueError, match="negative"):
        at_risk_instant(cal, start, 60, 80, paused=-60)


@pytest.mark.parametrize(
    ("week", "message"),
    [
        (((),) * 7, "at least one working interval"),
        (((),) * 6, "seven weekdays"),
        ((((600, 480),),) + ((),) * 6, "not within one day"),  # ends before it starts
        ((((480, 480),),) + ((),) * 6, "not within one day"),  # empty
        ((((0, 1441),),) + ((),) * 6, "not within one day"),  # past 24:00
        ((((-60, 60),),) + ((),) * 6, "not within one day"),
        ((((480, 720), (700, 1020)),) + ((),) * 6, "must not overlap"),
        ((((780, 1020), (480, 720)),) + ((),) * 6, "sorted"),
    ],
)
def test_calendars_without_valid_working_time_are_refused(week, message):
    with pytest.raises(CalendarError, match=message):
        Calendar(timezone="Europe/Berlin", week=week)


def test_a_calendar_whose_working_days_are_all_holidays_gives_no_answer():
    # Mondays only, and every Monday of the next eleven years is a holiday
    first = date(2026, 6, 1)
    mondays = frozenset(first + timedelta(weeks=n) for n in range(11 * 53))
    cal = Calendar(timezone="Europe/Berlin", week=(((480, 1020),),) + ((),) * 6, holidays=mondays)
    with pytest.raises(CalendarError, match="no working time"):
        add_business_minutes(cal, datetime(2026, 6, 1, tzinfo=BERLIN), 1)
    assert business_minutes_between(cal, datetime(2026, 6, 1, tzinfo=BERLIN), datetime(2026, 7, 1, tzinfo=BERLIN)) == 0
    assert issubclass(CalendarError, ValueError)


@pytest.mark.parametrize(
    ("text", "minute"), [("08:00", 480), ("8:30", 510), (" 17:00 ", 1020), ("00:00", 0), ("24:00", 1440)]
)
def test_parse_hhmm(text, minute):
    assert parse_hhmm(text) == minute


@pytest.mark.parametrize("text", ["8", "25:00", "24:01", "12:60", "ab:cd", "08:00:00", "", None, 800])
def test_parse_hhmm_refuses_what_is_not_a_time(text):
    with pytest.raises(CalendarError):
        parse_hhmm(text)


def test_week_json_round_trip():
    stored = [[["13:00", "17:00"], ["08:00", "12:00"]], [], [["22:00", "24:00"]], [], [], [], [["00:00", "06:00"]]]
    week = week_from_json(stored)
    assert week[0] == ((480, 720), (780, 1020))  # sorted
    assert week[2] == ((1320, 1440),)
    assert week_to_json(week) == [
        [["08:00", "12:00"], ["13:00", "17:00"]],
        [],
        [["22:00", "24:00"]],
        [],
        [],
        [],
        [["00:00", "06:00"]],
    ]
    assert format_hhmm(1440) == "24:00"
    with pytest.raises(CalendarError, match="seven"):
        week_from_json([[]] * 6)
    with pytest.raises(CalendarError, match="seven"):
        week_from_json("Mon-Fri 8-17")
