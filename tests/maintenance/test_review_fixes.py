"""Findings of the PM code review (issue 6): raw rules that hung or failed, catch-up for long-ago anchors,
open policy "skip" on meters, coverage edits (rule 10), offset due times, meter sums beyond the columns,
large user ids, and the live preview of plans anchored long ago."""

from datetime import date
from decimal import Decimal

import pytest

from fixflow.core.clock import frozen_at
from fixflow.core.errors import DomainError
from fixflow.core.models import Membership, User
from fixflow.maintenance import recurrence, selectors, services
from fixflow.maintenance.models import PlanTarget
from fixflow.service.models import WorkOrder

from ..factories import EquipmentFactory
from .test_generator import at, hours_meter, make_plan, meter_plan, occurrences, read, run


def refused(field: str, fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    assert caught.value.field == field, caught.value.message
    return caught.value.message


# --- 1. raw rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "part"),
    [
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=WEEKLY;INTERVAL=-1", "INTERVAL"),
        ("FREQ=DAILY;INTERVAL=1001", "INTERVAL"),
        ("FREQ=MONTHLY;BYDAY=+9MO", "BYDAY"),
        ("FREQ=MONTHLY;BYDAY=0MO", "BYDAY"),
        ("FREQ=MONTHLY;BYDAY=XX", "BYDAY"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "bysetpos"),
    ],
)
def test_a_raw_rule_dateutil_walks_badly_is_refused_naming_its_part(rule, part):
    with pytest.raises(recurrence.RuleError) as caught:
        recurrence.parse_rule(rule, date(2026, 1, 5))
    assert part in str(caught.value)
    assert caught.value.field == "rule"


def test_a_rule_that_never_happens_is_refused_quickly_and_every_walk_ends():
    # dateutil alone walks to year 9999 (about 19 s) and an unbounded walk never returns: these return
    # because every walk is bounded (no timed assertion: the machine's load must not decide the result)
    rule, anchor = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", date(2026, 1, 5)
    assert recurrence.occurrences(rule, anchor, start=anchor, end=date(2036, 1, 5), count=1) == []
    assert list(recurrence.iter_occurrences(rule, anchor)) == []
    assert recurrence.last_before(rule, anchor, date(2030, 1, 1)) is None


def test_rare_rules_still_give_their_dates():
    # Feb 29 on a Monday: gaps of 28 and 40 years
    dates = recurrence.iter_occurrences("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", date(2026, 1, 5))
    assert [next(dates) for _ in range(3)] == [date(2044, 2, 29), date(2072, 2, 29), date(2112, 2, 29)]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=WEEKLY;INTERVAL=-1",
        "FREQ=MONTHLY;BYDAY=+9MO",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    ],
)
def test_a_plan_with_a_bad_raw_rule_is_a_field_error(world, rule):
    refused("rule", make_plan, world, recurrence=None, rule=rule)


# --- 3. catch-up for long-ago anchors -------------------------------------------------------------------


def test_a_daily_plan_anchored_long_ago_gets_one_catch_up_the_latest_past_date(world):
    # given a daily plan anchored 21 years before it was created
    plan = make_plan(
        world, anchor="2005-01-03", recurrence={"frequency": "daily"}, open_policy="stack", when=at(2026, 1, 20)
    )
    # when the generator runs three times that morning
    for hour in (7, 8, 9):
        run(plan, at(2026, 1, 20, hour))
    # then there is one catch-up, yesterday's, and today's occurrence
    catch_ups = occurrences(plan, is_catch_up=True)
    assert [(o.key, o.status) for o in catch_ups] == [("2026-01-19", "generated")]
    assert [o.key for o in occurrences(plan, status="generated")] == ["2026-01-19", "2026-01-20"]
    assert WorkOrder.objects.filter(title__contains="overdue").count() == 1


# --- 4. open policy "skip" on meter occurrences -----------------------------------------------------------


def test_skip_blocks_a_second_meter_work_order_on_the_same_day(world):
    # given a plan every 500 h that skips while one is open, and m:500 generated this morning
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world, open_policy="skip")
    read(world, meter, "510", at(2026, 2, 2, 8))
    # when 1000 h is passed the same afternoon while m:500 is still new
    read(world, meter, "1020", at(2026, 2, 2, 15))
    # then m:1000 is skipped: one work order only
    assert [(o.key, o.status) for o in occurrences(plan)] == [("m:1000", "skipped"), ("m:500", "generated")]
    assert len([o for o in occurrences(plan) if o.work_order_id]) == 1


# --- 6. rule 10: coverage edits ---------------------------------------------------------------------------


def test_moving_a_plan_to_other_equipment_withdraws_the_old_items_unstarted_work(world):
    # given a plan with lead 7 that generated the 31 January work order for Pump P1
    plan = make_plan(world, lead_days=7, when=at(2026, 1, 20))
    run(plan, at(2026, 1, 25))
    (old,) = occurrences(plan)
    other = EquipmentFactory(site=world.site, name="Pump P2")
    # when the plan is moved to Pump P2
    with frozen_at(at(2026, 1, 26)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"equipment_id": other.pk})
    run(plan, at(2026, 1, 27))
    run(plan, at(2026, 1, 28))
    # then P1's work order is withdrawn and P2 has the one work order of that date
    assert WorkOrder.objects.get(pk=old.work_order_id).status == "cancelled"
    assert [(o.equipment_id, o.key, o.work_order.status) for o in occurrences(plan)] == [
        (other.pk, "2026-01-31", "new")
    ]


# --- 9. due times with an offset ------------------------------------------------------------------------


@pytest.mark.parametrize("due_time", ["09:00+02:00", "09:00:00Z"])
def test_a_due_time_with_an_offset_is_a_field_error(world, due_time):
    message = refused("due_time", make_plan, world, due_time=due_time)
    assert "local time" in message


# --- 12. meter values beyond the columns ----------------------------------------------------------------


def test_meter_values_stay_within_the_columns(world):
    meter = hours_meter(world, rollover_at="999999999999")
    # a reading, a plan interval or start of a trillion or more is refused
    refused("value", read, world, meter, "6000000000000", at(2026, 1, 1, 12))
    refused("meter_interval", meter_plan, world, meter_interval="6000000000000")
    refused("meter_start", meter_plan, world, meter_start="1e12")
    # a lifetime that rollovers would take to a trillion is refused too
    read(world, meter, "999999999000", at(2026, 1, 1, 12))
    refused("value", read, world, meter, "5", at(2026, 1, 2, 12), kind="rollover")
    # the largest values still fit: the plan's next due value is read back
    plan = meter_plan(world, meter_interval="999999999999", meter_start=None)
    run(plan, at(2026, 1, 3, 12))
    assert PlanTarget.objects.get(plan=plan).next_due_value == Decimal("1999999998999")


# --- 13. large user ids ----------------------------------------------------------------------------------


def test_a_lead_technician_with_a_large_id_is_accepted(world):
    user = User.objects.create_user(email="big@example.com", password=None, full_name="Big Id", id=250000)
    Membership.objects.create(organization=world.org, user=user, role="technician", is_active=True)
    plan = make_plan(world, lead_technician_id=user.pk)
    assert plan.lead_technician_id == 250000
    message = refused("lead_technician", make_plan, world, lead_technician_id=10**30)
    assert "not a technician" in message


# --- the live preview ------------------------------------------------------------------------------------


def test_the_preview_of_a_daily_plan_anchored_long_ago_starts_today(world):
    data = {"anchor": "2012-01-02", "recurrence": {"frequency": "daily"}}
    assert selectors.plan_preview(data=data, today=date(2026, 1, 20), count=3) == [
        date(2026, 1, 20),
        date(2026, 1, 21),
        date(2026, 1, 22),
    ]
    # the count of occurrences still counts from the anchor
    counted = {**data, "anchor": "2026-01-10", "max_count": 12}
    assert selectors.plan_preview(data=counted, today=date(2026, 1, 20), count=5) == [
        date(2026, 1, 20),
        date(2026, 1, 21),
    ]
    raw = {"anchor": "2012-01-02", "rule": "FREQ=DAILY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12"}  # through dateutil
    assert selectors.plan_preview(data=raw, today=date(2026, 1, 20), count=2) == [date(2026, 1, 20), date(2026, 1, 21)]
