"""Properties of the recurrence module over many rules and windows (hypothesis, no database).

The generator-level property "generating twice gives the same set" is in test_generator.py.
"""

import itertools
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixflow.maintenance.recurrence import (
    RuleSpec,
    _fast_rule,
    build_rule,
    iter_occurrences,
    occurrences,
    parse_rule,
)

ANCHORS = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))


@st.composite
def specs(draw) -> RuleSpec:
    frequency = draw(st.sampled_from(["daily", "weekly", "monthly", "yearly"]))
    interval = draw(st.integers(min_value=1, max_value=6 if frequency != "daily" else 45))
    if frequency == "daily":
        return RuleSpec(frequency, interval)
    if frequency == "weekly":
        weekdays = tuple(draw(st.sets(st.integers(0, 6), max_size=7)))
        return RuleSpec(frequency, interval, weekdays=weekdays)
    monthly_by = draw(st.sampled_from(["day", "nth_weekday", "last_day"]))
    month = draw(st.none() | st.integers(1, 12)) if frequency == "yearly" else None
    if monthly_by == "day":
        return RuleSpec(
            frequency, interval, monthly_by="day", month_day=draw(st.none() | st.integers(1, 31)), month=month
        )
    if monthly_by == "nth_weekday":
        return RuleSpec(
            frequency,
            interval,
            monthly_by="nth_weekday",
            nth=draw(st.sampled_from([1, 2, 3, 4, -1])),
            weekday=draw(st.integers(0, 6)),
            month=month,
        )
    return RuleSpec(frequency, interval, monthly_by="last_day", month=month)


@st.composite
def windows(draw):
    """An anchor and three ordered dates a ≤ b ≤ c around it."""
    anchor = draw(ANCHORS)
    a = anchor + timedelta(days=draw(st.integers(-400, 800)))
    b = a + timedelta(days=draw(st.integers(0, 800)))
    c = b + timedelta(days=draw(st.integers(0, 800)))
    return anchor, a, b, c


FAST = settings(max_examples=150, deadline=None)


@FAST
@given(specs(), windows())
def test_occurrences_are_strictly_increasing_and_inside_the_window(spec, window):
    anchor, a, _, c = window
    dates = occurrences(build_rule(spec, anchor), anchor, start=a, end=c)
    assert all(x < y for x, y in zip(dates, dates[1:], strict=False))
    assert all(d >= anchor and d >= a and d <= c for d in dates)


@FAST
@given(specs(), windows(), st.integers(0, 600))
def test_nothing_after_the_end_date(spec, window, days):
    anchor, a, _, c = window
    end_date = anchor + timedelta(days=days)
    dates = occurrences(build_rule(spec, anchor), anchor, start=a, end=c, end_date=end_date)
    assert all(d <= end_date for d in dates)
    assert dates == [d for d in occurrences(build_rule(spec, anchor), anchor, start=a, end=c) if d <= end_date]


@FAST
@given(specs(), windows())
def test_a_window_split_in_two_gives_the_same_dates(spec, window):
    anchor, a, b, c = window
    rule = build_rule(spec, anchor)
    whole = occurrences(rule, anchor, start=a, end=c)
    first = occurrences(rule, anchor, start=a, end=b)
    second = occurrences(rule, anchor, start=b + timedelta(days=1), end=c)
    assert whole == first + second


@FAST
@given(specs(), windows(), st.integers(1, 30))
def test_a_count_keeps_the_first_n_occurrences_from_the_anchor(spec, window, count):
    anchor, _, _, c = window
    rule = build_rule(spec, anchor)
    far = c + timedelta(days=4000)
    assert (
        occurrences(rule, anchor, start=anchor, end=far, count=count)
        == occurrences(rule, anchor, start=anchor, end=far)[:count]
    )


@FAST
@given(specs(), ANCHORS)
def test_day_rules_fall_on_their_day_or_the_last_day_of_a_shorter_month(spec, anchor):
    if spec.frequency not in ("monthly", "yearly") or spec.monthly_by != "day":
        return
    wanted = spec.month_day or anchor.day
    for d in occurrences(build_rule(spec, anchor), anchor, start=anchor, end=anchor + timedelta(days=800)):
        last = ((d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
        assert d.day == min(wanted, last)


# ---------------------------------------------------------------------------------------------
# the direct computation of the common rules gives exactly dateutil's dates

WEEKDAY = st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])


@st.composite
def fast_rules(draw) -> str:
    """Rules of the shapes computed without dateutil: the form's, and the same shapes typed by hand."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 7 if freq != 'DAILY' else 60))}")
    if freq == "WEEKLY" and draw(st.booleans()):
        parts.append("BYDAY=" + ",".join(draw(st.lists(WEEKDAY, min_size=1, max_size=7))))
    if freq in ("MONTHLY", "YEARLY"):
        if freq == "YEARLY" and draw(st.booleans()):
            parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
        has_month = any(p.startswith("BYMONTH=") for p in parts)
        shape = draw(st.sampled_from(["none", "day", "clamp", "nth"]))
        if freq == "YEARLY" and not has_month:
            shape = "none"
        if shape == "day":
            parts.append(f"BYMONTHDAY={draw(st.integers(1, 31) | st.integers(-31, -1))}")
        elif shape == "clamp":
            parts.append(f"BYMONTHDAY={draw(st.integers(1, 31))},-1;BYSETPOS=1")
        elif shape == "nth":
            parts.append(f"BYDAY={draw(st.sampled_from([1, 2, 3, 4, 5, -1, -2, -5]))}{draw(WEEKDAY)}")
    return ";".join(draw(st.permutations(parts)))


def dateutil_dates(text: str, anchor: date, start: date, end: date) -> list[date]:
    rule = parse_rule(text, anchor)
    return [d.date() for d in rule.between(datetime.combine(start, time()), datetime.combine(end, time()), inc=True)]


WIDE_ANCHORS = st.dates(min_value=date(1995, 1, 1), max_value=date(2040, 12, 31))


@settings(max_examples=400, deadline=None)
@given(fast_rules(), WIDE_ANCHORS, st.integers(-800, 4000), st.integers(0, 900))
def test_the_direct_computation_gives_dateutils_dates(text, anchor, offset, length):
    # given a rule the direct computation knows, and a window anywhere around its anchor
    assert _fast_rule(text) is not None, text
    start = anchor + timedelta(days=offset)
    end = start + timedelta(days=length)
    # then
    assert occurrences(text, anchor, start=start, end=end) == dateutil_dates(text, anchor, start, end)
    after = list(itertools.islice(iter_occurrences(text, anchor, after=start), 5))
    rule = parse_rule(text, anchor)
    assert after == [d.date() for d in itertools.islice(rule.xafter(datetime.combine(start, time())), 5)]


@settings(max_examples=200, deadline=None)
@given(specs(), WIDE_ANCHORS, st.integers(-400, 3000))
def test_every_rule_the_form_builds_is_computed_directly(spec, anchor, offset):
    text = build_rule(spec, anchor)
    assert _fast_rule(text) is not None, text
    start = anchor + timedelta(days=offset)
    end = start + timedelta(days=500)
    assert occurrences(text, anchor, start=start, end=end) == dateutil_dates(text, anchor, start, end)


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=MONTHLY;BYDAY=TU",  # every Tuesday of the month
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=YEARLY;BYDAY=20MO",  # the 20th Monday of the year
        "FREQ=WEEKLY;WKST=SU;BYDAY=SU,MO;INTERVAL=2",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",  # the last working day
        "FREQ=YEARLY;BYWEEKNO=20",
    ],
)
def test_other_rules_are_left_to_dateutil_with_the_same_result(text):
    anchor = date(2026, 1, 7)
    assert _fast_rule(text) is None
    dates = occurrences(text, anchor, start=date(2026, 3, 1), end=date(2027, 6, 30))
    assert dates == dateutil_dates(text, anchor, date(2026, 3, 1), date(2027, 6, 30))
    assert dates


def test_an_anchor_years_back_costs_no_more_than_a_recent_one():
    # a monthly plan anchored ten years back: its dates this year, computed from the period that holds them
    import time as wall

    rule = "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=31,-1;BYSETPOS=1"
    started = wall.perf_counter()
    for _ in range(2000):
        occurrences(rule, date(2016, 1, 31), start=date(2026, 1, 1), end=date(2026, 12, 31))
    per_call = (wall.perf_counter() - started) / 2000
    assert occurrences(rule, date(2016, 1, 31), start=date(2026, 1, 1), end=date(2026, 3, 31)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert per_call < 0.002  # dateutil: ~7 ms walking 120 months; directly: ~20 µs
