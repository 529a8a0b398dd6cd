"""Properties of the recurrence module over many rules and windows (hypothesis, no database).

The generator-level property "generating twice gives the same set" is in test_generator.py.
"""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from fixflow.maintenance.recurrence import RuleSpec, build_rule, occurrences

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
