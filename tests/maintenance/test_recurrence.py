"""The recurrence module with exact dates (DOMAIN.md §3 "Tests"): no database."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fixflow.maintenance.recurrence import (
    MAX_OCCURRENCES,
    MeterState,
    RuleError,
    RuleSpec,
    build_rule,
    describe_rule,
    due_instant,
    iter_occurrences,
    next_lifetime,
    next_meter_threshold,
    occurrences,
    parse_rule,
    predicted_date,
    shift_to_working_day,
    usage_per_day,
)

D = Decimal


def _dates(spec: RuleSpec, anchor: date, *, start: date | None = None, end: date, **kwargs) -> list[date]:
    return occurrences(build_rule(spec, anchor), anchor, start=start or anchor, end=end, **kwargs)


# ---------------------------------------------------------------------------------------------
# calendar rules from the anchor, never chained


def test_monthly_from_31_january_falls_on_each_months_last_day_when_shorter():
    # when
    dates = _dates(RuleSpec("monthly"), date(2026, 1, 31), end=date(2026, 6, 30))
    # then
    assert dates == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
    ]


def test_monthly_from_31_january_of_a_leap_year_falls_on_29_february():
    assert _dates(RuleSpec("monthly"), date(2028, 1, 31), end=date(2028, 4, 30)) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]


def test_monthly_on_day_30_comes_back_to_30_after_february():
    assert _dates(RuleSpec("monthly"), date(2026, 1, 30), end=date(2026, 3, 31)) == [
        date(2026, 1, 30),
        date(2026, 2, 28),
        date(2026, 3, 30),
    ]


def test_yearly_from_29_february_falls_on_28_february_in_common_years():
    # when
    rule = build_rule(RuleSpec("yearly"), date(2028, 2, 29))
    dates = occurrences(rule, date(2028, 2, 29), start=date(2028, 1, 1), end=date(2033, 12, 31))
    # then: the chosen rule is "the 29th, or the last day of a shorter February"
    assert dates == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
        date(2033, 2, 28),
    ]
    assert describe_rule(rule, date(2028, 2, 29)) == (
        "every year on day 29 of February (or the last day of shorter months)"
    )


def test_the_2nd_tuesday_of_each_month():
    # given
    spec = RuleSpec("monthly", monthly_by="nth_weekday", nth=2, weekday=1)
    # when
    dates = _dates(spec, date(2026, 1, 1), end=date(2026, 6, 30))
    # then
    assert dates == [
        date(2026, 1, 13),
        date(2026, 2, 10),
        date(2026, 3, 10),
        date(2026, 4, 14),
        date(2026, 5, 12),
        date(2026, 6, 9),
    ]
    assert all(d.weekday() == 1 and 8 <= d.day <= 14 for d in dates)


def test_the_nth_weekday_defaults_to_the_anchors_position_in_its_month():
    # 2026-01-22 is the 4th Thursday of January
    assert build_rule(RuleSpec("monthly", monthly_by="nth_weekday"), date(2026, 1, 22)).endswith("BYDAY=4TH")


def test_the_last_friday_of_each_month():
    spec = RuleSpec("monthly", monthly_by="nth_weekday", nth=-1, weekday=4)
    assert _dates(spec, date(2026, 1, 1), end=date(2026, 3, 31)) == [
        date(2026, 1, 30),
        date(2026, 2, 27),
        date(2026, 3, 27),
    ]


def test_the_last_day_every_3_months():
    # when
    rule = build_rule(RuleSpec("monthly", interval=3, monthly_by="last_day"), date(2026, 1, 15))
    dates = occurrences(rule, date(2026, 1, 15), start=date(2026, 1, 1), end=date(2027, 1, 31))
    # then
    assert rule == "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1"
    assert dates == [date(2026, 1, 31), date(2026, 4, 30), date(2026, 7, 31), date(2026, 10, 31), date(2027, 1, 31)]
    assert describe_rule(rule, date(2026, 1, 15)) == "every 3 months on the last day"


def test_every_2_weeks_on_monday_and_thursday():
    # when: anchored on Monday 5 January 2026
    rule = build_rule(RuleSpec("weekly", interval=2, weekdays=(3, 0)), date(2026, 1, 5))
    dates = occurrences(rule, date(2026, 1, 5), start=date(2026, 1, 1), end=date(2026, 2, 28))
    # then
    assert rule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"
    assert dates == [
        date(2026, 1, 5),
        date(2026, 1, 8),
        date(2026, 1, 19),
        date(2026, 1, 22),
        date(2026, 2, 2),
        date(2026, 2, 5),
        date(2026, 2, 16),
        date(2026, 2, 19),
    ]
    assert describe_rule(rule, date(2026, 1, 5)) == "every 2 weeks on Monday and Thursday"


def test_every_2_weeks_anchored_midweek_starts_in_the_anchors_week():
    # Wednesday 7 January: the Thursday of that week is the first, then two weeks on
    rule = build_rule(RuleSpec("weekly", interval=2, weekdays=(0, 3)), date(2026, 1, 7))
    assert occurrences(rule, date(2026, 1, 7), start=date(2026, 1, 1), end=date(2026, 1, 31)) == [
        date(2026, 1, 8),
        date(2026, 1, 19),
        date(2026, 1, 22),
    ]


def test_weekly_without_weekdays_repeats_the_anchors_weekday():
    rule = build_rule(RuleSpec("weekly"), date(2026, 1, 7))
    assert rule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=WE"
    assert occurrences(rule, date(2026, 1, 7), start=date(2026, 1, 7), end=date(2026, 1, 21)) == [
        date(2026, 1, 7),
        date(2026, 1, 14),
        date(2026, 1, 21),
    ]


def test_every_3_days():
    rule = build_rule(RuleSpec("daily", interval=3), date(2026, 2, 26))
    assert occurrences(rule, date(2026, 2, 26), start=date(2026, 2, 26), end=date(2026, 3, 8)) == [
        date(2026, 2, 26),
        date(2026, 3, 1),
        date(2026, 3, 4),
        date(2026, 3, 7),
    ]


def test_yearly_on_the_2nd_tuesday_of_march():
    spec = RuleSpec("yearly", monthly_by="nth_weekday", nth=2, weekday=1, month=3)
    rule = build_rule(spec, date(2026, 1, 1))
    assert occurrences(rule, date(2026, 1, 1), start=date(2026, 1, 1), end=date(2028, 12, 31)) == [
        date(2026, 3, 10),
        date(2027, 3, 9),
        date(2028, 3, 14),
    ]
    assert describe_rule(rule, date(2026, 1, 1)) == "every year on the 2nd Tuesday of March"


def test_the_window_start_does_not_shift_the_grid():
    # the dates of a window are those of the whole rule inside it: computed from the anchor
    anchor = date(2026, 1, 31)
    rule = build_rule(RuleSpec("monthly", interval=2), anchor)
    assert occurrences(rule, anchor, start=date(2026, 4, 1), end=date(2026, 9, 30)) == [
        date(2026, 5, 31),
        date(2026, 7, 31),
        date(2026, 9, 30),
    ]


def test_the_end_date_and_the_count_end_the_plan():
    anchor = date(2026, 1, 31)
    rule = build_rule(RuleSpec("monthly"), anchor)
    # end date: inclusive
    assert occurrences(rule, anchor, start=anchor, end=date(2027, 1, 1), end_date=date(2026, 4, 30)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    # count: occurrences from the anchor on, whatever the window
    assert occurrences(rule, anchor, start=date(2026, 3, 1), end=date(2027, 1, 1), count=3) == [date(2026, 3, 31)]
    assert occurrences(rule, anchor, start=date(2026, 5, 1), end=date(2027, 1, 1), count=3) == []
    # a window ending before it starts
    assert occurrences(rule, anchor, start=date(2026, 5, 1), end=date(2026, 4, 1)) == []


def test_nothing_before_the_anchor():
    anchor = date(2026, 3, 15)
    rule = build_rule(RuleSpec("monthly"), anchor)
    assert occurrences(rule, anchor, start=date(2026, 1, 1), end=date(2026, 5, 31)) == [
        date(2026, 3, 15),
        date(2026, 4, 15),
        date(2026, 5, 15),
    ]


def test_a_long_window_is_capped():
    anchor = date(2000, 1, 1)
    rule = build_rule(RuleSpec("daily"), anchor)
    dates = occurrences(rule, anchor, start=anchor, end=date(2099, 12, 31))
    assert len(dates) == MAX_OCCURRENCES
    assert dates[-1] == anchor + timedelta(days=MAX_OCCURRENCES - 1)


def test_iter_occurrences_after_a_date():
    anchor = date(2026, 1, 31)
    rule = build_rule(RuleSpec("monthly"), anchor)
    found = iter_occurrences(rule, anchor, after=date(2026, 2, 28))
    assert [next(found), next(found)] == [date(2026, 3, 31), date(2026, 4, 30)]
    assert next(iter_occurrences(rule, anchor)) == anchor


# ---------------------------------------------------------------------------------------------
# due instants: the local time stays, the UTC instant moves


@pytest.mark.parametrize(
    ("zone", "before", "after", "utc_before", "utc_after"),
    [
        # Europe/Berlin: CET (UTC+1) → CEST (UTC+2) on 29 March, back on 25 October 2026
        ("Europe/Berlin", date(2026, 3, 28), date(2026, 3, 29), 8, 7),
        ("Europe/Berlin", date(2026, 10, 24), date(2026, 10, 25), 7, 8),
        # America/New_York: EST (UTC−5) → EDT (UTC−4) on 8 March, back on 1 November 2026
        ("America/New_York", date(2026, 3, 7), date(2026, 3, 8), 14, 13),
        ("America/New_York", date(2026, 10, 31), date(2026, 11, 1), 13, 14),
    ],
)
def test_nine_oclock_local_stays_nine_across_dst(zone, before, after, utc_before, utc_after):
    # when
    first = due_instant(before, time(9), zone)
    second = due_instant(after, time(9), zone)
    # then
    assert first == datetime(before.year, before.month, before.day, utc_before, tzinfo=UTC)
    assert second == datetime(after.year, after.month, after.day, utc_after, tzinfo=UTC)
    for instant in (first, second):
        assert instant.astimezone(ZoneInfo(zone)).time() == time(9)


def test_a_weekly_plan_keeps_nine_oclock_over_the_berlin_spring_change():
    anchor = date(2026, 3, 22)
    rule = build_rule(RuleSpec("weekly"), anchor)
    days = occurrences(rule, anchor, start=anchor, end=date(2026, 4, 5))
    instants = [due_instant(d, time(9), "Europe/Berlin") for d in days]
    assert [i.hour for i in instants] == [8, 7, 7]
    assert instants[1] - instants[0] == timedelta(days=7, hours=-1)


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc", "expected_local"),
    [
        ("Europe/Berlin", date(2026, 3, 29), datetime(2026, 3, 29, 1, 30, tzinfo=UTC), time(3, 30)),
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 8, 7, 30, tzinfo=UTC), time(3, 30)),
    ],
)
def test_a_due_time_in_the_spring_forward_gap_moves_on_by_the_gap(zone, day, expected_utc, expected_local):
    instant = due_instant(day, time(2, 30), zone)
    assert instant == expected_utc
    assert instant.astimezone(ZoneInfo(zone)).time() == expected_local


def test_a_due_time_repeated_in_autumn_is_the_first_of_the_two():
    instant = due_instant(date(2026, 10, 25), time(2, 30), "Europe/Berlin")
    assert instant == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# working days


HOLIDAYS = {date(2026, 12, 25), date(2026, 12, 24)}


def _working(d: date) -> bool:
    return d.weekday() < 5 and d not in HOLIDAYS


@pytest.mark.parametrize(
    ("day", "direction", "expected"),
    [
        (date(2026, 3, 14), "previous", date(2026, 3, 13)),  # Saturday → Friday
        (date(2026, 3, 15), "previous", date(2026, 3, 13)),  # Sunday → Friday
        (date(2026, 3, 14), "next", date(2026, 3, 16)),  # Saturday → Monday
        (date(2026, 3, 15), "next", date(2026, 3, 16)),
        (date(2026, 3, 14), "none", date(2026, 3, 14)),
        (date(2026, 3, 12), "previous", date(2026, 3, 12)),  # a working day stays
        (date(2026, 12, 25), "previous", date(2026, 12, 23)),  # Friday holiday after a holiday
        (date(2026, 12, 24), "next", date(2026, 12, 28)),  # Thu + Fri holidays, then the weekend
        (date(2026, 12, 26), "previous", date(2026, 12, 23)),  # Saturday after two holidays
    ],
)
def test_shift_to_the_previous_or_next_working_day(day, direction, expected):
    assert shift_to_working_day(day, _working, direction) == expected


def test_a_calendar_without_working_days_keeps_the_date():
    assert shift_to_working_day(date(2026, 3, 14), lambda d: False, "next") == date(2026, 3, 14)


# ---------------------------------------------------------------------------------------------
# plain language


@pytest.mark.parametrize(
    ("spec", "anchor", "text"),
    [
        (RuleSpec("daily"), date(2026, 1, 1), "every day"),
        (RuleSpec("daily", interval=10), date(2026, 1, 1), "every 10 days"),
        (RuleSpec("weekly"), date(2026, 1, 9), "every week on Friday"),
        (RuleSpec("weekly", weekdays=(0, 2, 4)), date(2026, 1, 5), "every week on Monday, Wednesday and Friday"),
        (RuleSpec("monthly"), date(2026, 1, 15), "every month on day 15"),
        (RuleSpec("monthly"), date(2026, 1, 31), "every month on day 31 (or the last day of shorter months)"),
        (RuleSpec("monthly", interval=3, monthly_by="last_day"), date(2026, 1, 1), "every 3 months on the last day"),
        (
            RuleSpec("monthly", monthly_by="nth_weekday", nth=2, weekday=1),
            date(2026, 1, 1),
            "every month on the 2nd Tuesday",
        ),
        (
            RuleSpec("monthly", monthly_by="nth_weekday", nth=-1, weekday=4),
            date(2026, 1, 1),
            "every month on the last Friday",
        ),
        (RuleSpec("yearly"), date(2026, 6, 1), "every year on day 1 of June"),
        (
            RuleSpec("yearly", interval=2, monthly_by="last_day", month=2),
            date(2026, 1, 1),
            ("every 2 years on the last day of February"),
        ),
    ],
)
def test_describe_rule(spec, anchor, text):
    assert describe_rule(build_rule(spec, anchor), anchor) == text


# ---------------------------------------------------------------------------------------------
# bad input says which field to fix


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (RuleSpec("hourly"), "frequency"),
        (RuleSpec("monthly", interval=0), "interval"),
        (RuleSpec("monthly", interval=1001), "interval"),
        (RuleSpec("weekly", weekdays=(0, 7)), "weekdays"),
        (RuleSpec("weekly", weekdays=(-1,)), "weekdays"),
        (RuleSpec("monthly", month_day=32), "month_day"),
        (RuleSpec("monthly", month_day=0), "month_day"),
        (RuleSpec("monthly", month_day=-3), "month_day"),
        (RuleSpec("yearly", month=13), "month"),
        (RuleSpec("yearly", month=0), "month"),
        (RuleSpec("monthly", monthly_by="nth_weekday", nth=6, weekday=1), "nth"),
        (RuleSpec("monthly", monthly_by="nth_weekday", nth=0, weekday=1), "nth"),
        (RuleSpec("monthly", monthly_by="nth_weekday", nth=2, weekday=7), "weekday"),
        (RuleSpec("monthly", monthly_by="fortnight"), "monthly_by"),
    ],
)
def test_build_rule_refuses_bad_choices_naming_the_field(spec, field):
    with pytest.raises(RuleError) as err:
        build_rule(spec, date(2026, 1, 15))
    assert err.value.field == field
    assert str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "FREQ=MONTHLY;COUNT=3",
        "FREQ=MONTHLY;UNTIL=20270101",
        "DTSTART:20260101\nRRULE:FREQ=DAILY",
        "FREQ=FORTNIGHTLY",
        "NOT A RULE",
        # finer than a day: several occurrences on one date would share one key
        "FREQ=HOURLY",
        "FREQ=MINUTELY;INTERVAL=30",
        "FREQ=DAILY;BYHOUR=8,16",
        "FREQ=WEEKLY;BYMINUTE=0,30",
    ],
)
def test_parse_rule_refuses_what_is_not_a_plan_rule(text):
    with pytest.raises(RuleError) as err:
        parse_rule(text, date(2026, 1, 1))
    assert err.value.field == "rule"


def test_parse_rule_accepts_the_rrule_prefix():
    rule = parse_rule("RRULE:FREQ=MONTHLY;BYMONTHDAY=-1", date(2026, 1, 1))
    assert rule[0] == datetime(2026, 1, 31)


# ---------------------------------------------------------------------------------------------
# meters


def test_the_first_reading_is_the_lifetime_value():
    assert next_lifetime(None, D("1234.5")) == D("1234.5")


def test_a_reading_adds_its_increase_to_the_lifetime():
    assert next_lifetime(MeterState(lifetime=D("5000"), reading=D("1000")), D("1250")) == D("5250")
    assert next_lifetime(MeterState(lifetime=D("5000"), reading=D("1000")), D("1000")) == D("5000")


def test_a_reading_below_the_last_is_refused():
    with pytest.raises(RuleError) as err:
        next_lifetime(MeterState(lifetime=D("5000"), reading=D("1000")), D("999.9"))
    assert err.value.field == "value"
    assert "replacement" in str(err.value)


def test_a_replacement_keeps_the_lifetime_and_counts_from_the_new_meter():
    # when: a new meter showing 10 replaces the one at 1000 (lifetime 5000)
    after_replacement = next_lifetime(MeterState(D("5000"), D("1000")), D("10"), kind="replacement")
    after_next = next_lifetime(MeterState(after_replacement, D("10")), D("60"))
    # then
    assert after_replacement == D("5000")
    assert after_next == D("5050")


def test_a_rollover_adds_what_was_left_to_the_wrap_and_the_new_display():
    state = MeterState(lifetime=D("250000"), reading=D("99950"))
    assert next_lifetime(state, D("30"), kind="rollover", rollover_at=D("100000")) == D("250080")


def test_a_rollover_needs_a_rollover_value_and_a_lower_display():
    state = MeterState(lifetime=D("250000"), reading=D("99950"))
    with pytest.raises(RuleError) as err:
        next_lifetime(state, D("30"), kind="rollover")
    assert err.value.field == "kind"
    with pytest.raises(RuleError) as err:
        next_lifetime(state, D("99960"), kind="rollover", rollover_at=D("100000"))
    assert err.value.field == "value"


@pytest.mark.parametrize(
    ("due", "lifetime", "expected"),
    [
        (D("500"), D("499"), D("500")),  # not reached: still due
        (D("500"), D("500"), D("1000")),  # reached exactly: the next one
        (D("500"), D("1750"), D("2000")),  # a jump over three intervals: the first still ahead
        (D("500"), D("2000"), D("2500")),
        (D("250.5"), D("260"), D("500.5")),
    ],
)
def test_next_meter_threshold(due, lifetime, expected):
    assert next_meter_threshold(due, D("250") if due == D("250.5") else D("500"), lifetime) == expected


def test_a_meter_interval_must_be_positive():
    with pytest.raises(RuleError) as err:
        next_meter_threshold(D("500"), D("0"), D("600"))
    assert err.value.field == "meter_interval"


def test_usage_per_day_is_the_average_between_the_first_and_the_last_point():
    t0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
    points = [(t0, D("1000")), (t0 + timedelta(days=3), D("1010")), (t0 + timedelta(days=10), D("1200"))]
    assert usage_per_day(points) == D("20")
    assert usage_per_day(points[:1]) is None
    assert usage_per_day([(t0, D("1")), (t0, D("2"))]) is None
    assert usage_per_day([(t0, D("0")), (t0 + timedelta(hours=12), D("6"))]) == D("12")


def test_predicted_date_at_the_usage_rate():
    at = datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert predicted_date(D("1200"), at, D("1500"), D("20")) == date(2026, 3, 16)
    assert predicted_date(D("1500"), at, D("1500"), None) == date(2026, 3, 1)  # already reached
    assert predicted_date(D("1200"), at, D("1500"), None) is None
    assert predicted_date(D("1200"), at, D("1500"), D("0")) is None
    assert predicted_date(D("0"), at, D("1000000"), D("0.1")) is None  # more than ten years away
