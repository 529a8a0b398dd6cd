"""The preventive maintenance generator through its services: exact dates, idempotence, counters,
policies, catch-up, editing and two generators at once (DOMAIN.md §3)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixflow.assets import meters
from fixflow.assets.choices import EquipmentStatus
from fixflow.assets.models import Meter
from fixflow.core.clock import frozen_at
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.maintenance import generator, services
from fixflow.maintenance.models import MaintenancePlan, Occurrence, PlanTarget
from fixflow.service import services as wo_services
from fixflow.service.models import TemplatePart, WorkOrder
from fixflow.sla.models import BusinessCalendar, Holiday

from ..conftest import build_world
from ..factories import CategoryFactory, ChecklistItemFactory, EquipmentFactory, PartFactory, TemplateFactory

BERLIN = ZoneInfo("Europe/Berlin")
D = Decimal


def at(y: int, m: int, d: int, h: int = 6, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=BERLIN)


def make_plan(world, *, when: datetime | None = None, template=None, **data) -> MaintenancePlan:
    """A plan created by the dispatcher at ``when`` (its creation date matters for missed occurrences)."""
    when = when or at(2026, 1, 20)
    template = template or TemplateFactory(organization=world.org)
    payload = {
        "name": "Pump check",
        "template_id": template.pk,
        "equipment_id": world.equipment.pk,
        "lead_technician_id": world.technician.user.pk,
        "anchor": "2026-01-31",
        "recurrence": {"frequency": "monthly"},
        "lead_days": 0,
    }
    payload.update(data)
    with frozen_at(when):
        plan = services.plan_create(actor=world.dispatcher, data=payload)
    MaintenancePlan.objects.filter(pk=plan.pk).update(created_at=when)
    plan.refresh_from_db()
    return plan


def run(plan: MaintenancePlan | None, when: datetime, **kwargs) -> generator.Stats:
    with frozen_at(when):
        return generator.generate(now=when, plan_ids=[plan.pk] if plan else None, **kwargs)


def occurrences(plan, **filters) -> list[Occurrence]:
    return list(
        Occurrence.objects.filter(plan=plan, **filters).select_related("work_order").order_by("due_date", "key")
    )


def keys(plan, **filters) -> list[str]:
    return [o.key for o in occurrences(plan, **filters)]


def occurrence(plan, key: str) -> Occurrence:
    return Occurrence.objects.select_related("work_order").get(plan=plan, key=key)


def target(plan, equipment=None) -> PlanTarget:
    return PlanTarget.objects.get(plan=plan, equipment=equipment or plan.equipment)


def complete(world, wo: WorkOrder, when: datetime) -> WorkOrder:
    with frozen_at(when):
        wo_services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to="in_progress")
        return wo_services.work_order_transition(
            actor=world.dispatcher, work_order_id=wo.pk, to="completed", resolution_notes="Checked, all fine."
        )


def cancel(world, wo: WorkOrder, when: datetime, reason: str = "Not needed") -> WorkOrder:
    with frozen_at(when):
        return wo_services.work_order_transition(
            actor=world.dispatcher, work_order_id=wo.pk, to="cancelled", reason=reason
        )


def hours_meter(world, equipment=None, **data) -> Meter:
    return meters.meter_create(
        actor=world.admin, equipment_id=(equipment or world.equipment).pk, data={"name": "Hours", "unit": "h", **data}
    )


def read(world, meter: Meter, value, when: datetime, **kwargs):
    with frozen_at(when):
        return meters.reading_record(actor=world.technician, meter_id=meter.pk, value=value, **kwargs)


def snapshot(plan) -> list[tuple]:
    return sorted(
        Occurrence.objects.filter(plan=plan).values_list("equipment_id", "key", "status", "work_order_id", "due_date")
    )


# ---------------------------------------------------------------------------------------------
# idempotence and lead days


def test_generating_twice_creates_nothing_new(world):
    # given
    plan = make_plan(world, lead_days=7)
    first = run(plan, at(2026, 1, 24))
    ahead = run(plan, at(2026, 1, 24), until=date(2026, 3, 31))
    before = snapshot(plan)
    # when
    again = run(plan, at(2026, 1, 24, 18))
    again_ahead = run(plan, at(2026, 1, 24, 18), until=date(2026, 3, 31))
    # then
    assert (first.work_orders, ahead.work_orders) == (1, 2)
    assert keys(plan) == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert (
        again.as_dict()
        == again_ahead.as_dict()
        == {
            "plans": 1,
            "targets": 1,
            "work_orders": 0,
            "skipped": 0,
            "missed": 0,
            "replaced": 0,
            "errors": [],
        }
    )
    assert snapshot(plan) == before
    assert WorkOrder.objects.count() == 3


def test_a_work_order_is_created_exactly_lead_days_before_it_is_due(world):
    # given a plan due on 31 March at 09:00, seven days ahead
    plan = make_plan(world, anchor="2026-03-31", lead_days=7)
    # when / then: not on 23 March, even late in the evening
    assert run(plan, at(2026, 3, 23, 23, 59)).work_orders == 0
    assert not keys(plan)
    # when / then: on 24 March, just after midnight local time
    assert run(plan, at(2026, 3, 24, 0, 1)).work_orders == 1
    occ = occurrence(plan, "2026-03-31")
    assert occ.due_date == date(2026, 3, 31)
    assert occ.due_at == datetime(2026, 3, 31, 7, tzinfo=UTC)  # 09:00 CEST
    assert occ.work_order.scheduled_start == occ.due_at
    assert not occ.is_catch_up


def test_lead_days_longer_than_the_period_do_not_skip_the_next_occurrences(world):
    # given a weekly plan created two weeks ahead, skipping when the previous one is still open
    plan = make_plan(world, anchor="2026-03-02", recurrence={"frequency": "weekly"}, lead_days=14)
    # when
    stats = run(plan, at(2026, 3, 2))
    # then: the ones not yet due are not "still open" late ones
    assert stats.work_orders == 3 and stats.skipped == 0
    assert keys(plan, status="generated") == ["2026-03-02", "2026-03-09", "2026-03-16"]
    # when the first one is overdue and still open
    stats = run(plan, at(2026, 3, 10))
    # then the next one is skipped because of it
    assert stats.skipped == 1
    skipped = occurrence(plan, "2026-03-23")
    assert skipped.status == "skipped" and skipped.work_order is None
    assert occurrence(plan, "2026-03-02").work_order.number in skipped.reason


# ---------------------------------------------------------------------------------------------
# working days


def test_the_shift_to_the_previous_working_day_keeps_the_lead_days(world):
    # given: the 14th of March 2026 is a Saturday; due on Friday the 13th, created seven days before
    plan = make_plan(world, anchor="2026-03-14", day_shift="previous", lead_days=7)
    # when / then
    assert run(plan, at(2026, 3, 5, 23)).work_orders == 0
    assert run(plan, at(2026, 3, 6)).work_orders == 1
    occ = occurrence(plan, "2026-03-14")
    assert occ.due_date == date(2026, 3, 13)
    assert occ.due_at == datetime(2026, 3, 13, 8, tzinfo=UTC)


def test_the_working_day_shift_uses_the_plans_business_calendar_holidays(world):
    # given a calendar where Friday 13 and Monday 16 March 2026 are holidays
    cal = BusinessCalendar.objects.create(organization=world.org, name="Office", timezone="Europe/Berlin")
    for day in (date(2026, 3, 13), date(2026, 3, 16)):
        Holiday.objects.create(organization=world.org, calendar=cal, date=day)
    before = make_plan(world, name="Before", anchor="2026-03-14", day_shift="previous", calendar_id=cal.pk)
    after = make_plan(world, name="After", anchor="2026-03-14", day_shift="next", calendar_id=cal.pk)
    plain = make_plan(world, name="Plain", anchor="2026-03-14", day_shift="next")
    # when
    run(None, at(2026, 3, 18))
    # then
    assert occurrence(before, "2026-03-14").due_date == date(2026, 3, 12)
    assert occurrence(after, "2026-03-14").due_date == date(2026, 3, 17)
    assert occurrence(plain, "2026-03-14").due_date == date(2026, 3, 16)  # Monday to Friday without a calendar


# ---------------------------------------------------------------------------------------------
# fixed and floating


def test_a_fixed_plan_completed_late_keeps_its_next_due_date(world):
    # given
    plan = make_plan(world)
    run(plan, at(2026, 1, 31))
    # when: the 31 January work is done ten days late
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 2, 10, 14))
    # then the next one is still due on 28 February
    assert run(plan, at(2026, 2, 27)).work_orders == 0
    assert run(plan, at(2026, 2, 28)).work_orders == 1
    assert occurrence(plan, "2026-02-28").due_date == date(2026, 2, 28)
    assert target(plan).next_due_date is None


def test_a_floating_plan_completed_late_moves_its_next_due_date(world):
    # given every 30 days after the last completion, first due 31 January
    plan = make_plan(world, mode="floating", interval_days=30, recurrence=None)
    run(plan, at(2026, 1, 31))
    wo = occurrence(plan, "2026-01-31").work_order
    # when it is completed on 10 February
    complete(world, wo, at(2026, 2, 10, 14))
    # then the next one is due 30 days later
    assert target(plan).next_due_date == date(2026, 3, 12)
    assert target(plan).last_completed_at == at(2026, 2, 10, 14)
    assert run(plan, at(2026, 3, 11)).work_orders == 0
    assert run(plan, at(2026, 3, 12)).work_orders == 1
    assert keys(plan) == ["2026-01-31", "2026-03-12"]


def test_a_floating_plan_moves_in_the_same_transaction_as_the_completion(world):
    # given
    plan = make_plan(world, mode="floating", interval_days=30, recurrence=None)
    run(plan, at(2026, 1, 31))
    wo = occurrence(plan, "2026-01-31").work_order

    class Abort(Exception):
        pass

    # when the completion is rolled back
    with pytest.raises(Abort), transaction.atomic():
        complete(world, wo, at(2026, 2, 10, 14))
        assert target(plan).next_due_date == date(2026, 3, 12)  # written with the completion
        raise Abort
    # then so is the counter
    assert target(plan).next_due_date is None
    assert WorkOrder.objects.get(pk=wo.pk).status == "new"


def test_a_floating_completion_within_the_lead_days_generates_the_next_at_once(world):
    # given 10 days after completion, created 14 days ahead
    plan = make_plan(world, mode="floating", interval_days=10, lead_days=14, recurrence=None)
    run(plan, at(2026, 1, 20))
    # when
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 2, 1, 10))
    # then
    assert keys(plan) == ["2026-01-31", "2026-02-11"]
    assert occurrence(plan, "2026-02-11").work_order.status == "new"


def test_a_floating_plan_has_one_open_occurrence_at_a_time(world):
    # given
    plan = make_plan(world, mode="floating", interval_days=7, lead_days=3, recurrence=None)
    run(plan, at(2026, 1, 31))
    # when the work is not done for months
    for when in (at(2026, 2, 10), at(2026, 3, 15), at(2026, 5, 1)):
        stats = run(plan, when)
        assert (stats.work_orders, stats.skipped, stats.missed) == (0, 0, 0)
    # then
    assert keys(plan) == ["2026-01-31"]


# ---------------------------------------------------------------------------------------------
# meters


def meter_plan(world, **data) -> MaintenancePlan:
    fields = {
        "recurrence": None,
        "meter_name": "Hours",
        "meter_interval": "500",
        "meter_start": "500",
        "anchor": "2026-01-01",
    }
    return make_plan(world, when=at(2026, 1, 2), **{**fields, **data})


def test_a_meter_jump_over_three_intervals_gives_one_work_order(world):
    # given a plan every 500 h from 500 h
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world)
    # when the next reading jumps over 500, 1000 and 1500
    read(world, meter, "1750", at(2026, 2, 2, 12))
    # then one work order, and the next due value is the first one still ahead
    occs = occurrences(plan)
    assert [o.key for o in occs] == ["m:500"]
    assert occs[0].due_value == D("500") and occs[0].trigger == "meter"
    assert occs[0].due_date == date(2026, 2, 2)
    assert occs[0].work_order.type == "preventive"
    assert target(plan).next_due_value == D("2000")
    # when more readings come below the next threshold, after the work is done
    complete(world, occs[0].work_order, at(2026, 2, 3, 12))
    read(world, meter, "1999", at(2026, 2, 4, 12))
    assert keys(plan) == ["m:500"]
    read(world, meter, "2000", at(2026, 2, 5, 12))
    # then
    assert keys(plan) == ["m:500", "m:2000"]
    assert target(plan).next_due_value == D("2500")


def test_a_floating_meter_plan_counts_from_the_reading_at_completion(world):
    # given
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world, meter_mode="floating")
    read(world, meter, "520", at(2026, 1, 10, 12))
    assert keys(plan) == ["m:500"]
    # when more hours pass while it is open, then it is completed at 950 h
    read(world, meter, "900", at(2026, 1, 12, 12))
    assert keys(plan) == ["m:500"]
    read(world, meter, "950", at(2026, 1, 13, 12))
    complete(world, occurrence(plan, "m:500").work_order, at(2026, 1, 13, 14))
    # then the next one is due at 950 + 500
    assert target(plan).next_due_value == D("1450")
    assert target(plan).last_completed_value == D("950")
    read(world, meter, "1449", at(2026, 1, 20, 12))
    assert keys(plan) == ["m:500"]
    read(world, meter, "1450", at(2026, 1, 21, 12))
    assert keys(plan) == ["m:500", "m:1450"]


def test_whichever_comes_first_the_meter_fires_and_completion_restarts_both_counters(world):
    # given every 30 days after completion (first due 28 February) or every 500 h from 500 h
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 20, 12))
    plan = make_plan(
        world,
        recurrence=None,
        mode="floating",
        interval_days=30,
        anchor="2026-02-28",
        meter_name="Hours",
        meter_interval="500",
        meter_start="500",
    )
    # when the meter reaches 500 h first
    read(world, meter, "600", at(2026, 2, 10, 12))
    # then the meter generates; the days do not while it is open
    assert keys(plan) == ["m:500"]
    assert run(plan, at(2026, 2, 28)).work_orders == 0
    # when it is completed on 2 March at 650 h
    read(world, meter, "650", at(2026, 3, 1, 12))
    complete(world, occurrence(plan, "m:500").work_order, at(2026, 3, 2, 12))
    # then both counters restart from that completion
    state = target(plan)
    assert (state.next_due_date, state.next_due_value) == (date(2026, 4, 1), D("1150"))
    assert run(plan, at(2026, 3, 31)).work_orders == 0
    assert run(plan, at(2026, 4, 1)).work_orders == 1
    assert keys(plan) == ["m:500", "2026-04-01"]
    assert occurrence(plan, "2026-04-01").trigger == "floating"


def test_whichever_comes_first_the_days_fire_and_completion_restarts_both_counters(world):
    # given
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 20, 12))
    plan = make_plan(
        world,
        recurrence=None,
        mode="floating",
        interval_days=30,
        meter_name="Hours",
        meter_interval="500",
        meter_start="500",
    )
    # when the days come first (31 January), then the meter passes 500 h while the work is open
    run(plan, at(2026, 1, 31))
    read(world, meter, "700", at(2026, 2, 5, 12))
    # then one work order only
    assert keys(plan) == ["2026-01-31"]
    # when it is completed on 6 February at 700 h
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 2, 6, 12))
    # then both restart: 8 March or 1200 h
    state = target(plan)
    assert (state.next_due_date, state.next_due_value) == (date(2026, 3, 8), D("1200"))
    read(world, meter, "1199", at(2026, 2, 20, 12))
    assert keys(plan) == ["2026-01-31"]
    read(world, meter, "1200", at(2026, 2, 21, 12))
    assert keys(plan) == ["2026-01-31", "m:1200"]
    assert run(plan, at(2026, 3, 8)).work_orders == 0  # the meter's work order is open


def test_a_reading_below_the_last_is_refused_unless_a_replacement_or_a_rollover(world):
    # given
    meter = hours_meter(world, rollover_at="10000")
    read(world, meter, "9900", at(2026, 1, 1, 12))
    # when a lower plain reading comes
    with pytest.raises(DomainError) as err:
        read(world, meter, "10", at(2026, 1, 2, 12))
    # then it is refused and nothing changed
    assert err.value.code == ErrorCode.VALIDATION and err.value.field == "value"
    meter.refresh_from_db()
    assert (meter.last_value, meter.lifetime_value, meter.readings.count()) == (D("9900"), D("9900"), 1)
    # when it is a rollover, then a replacement
    assert read(world, meter, "10", at(2026, 1, 2, 12), kind="rollover").lifetime == D("10010")
    assert read(world, meter, "5", at(2026, 1, 3, 12), kind="replacement").lifetime == D("10010")
    assert read(world, meter, "65", at(2026, 1, 4, 12)).lifetime == D("10070")
    meter.refresh_from_db()
    assert (meter.last_value, meter.lifetime_value) == (D("65"), D("10070"))


def test_a_reading_on_a_retired_item_generates_nothing(world):
    # given
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world)
    world.equipment.status = EquipmentStatus.RETIRED
    world.equipment.save(update_fields=["status"])
    # when
    read(world, meter, "800", at(2026, 1, 5, 12))
    # then
    assert keys(plan) == []


# ---------------------------------------------------------------------------------------------
# previous still open


def test_open_policy_skip_records_the_skipped_occurrence_with_its_reason(world):
    # given the 31 January work order still open on 28 February
    plan = make_plan(world)
    run(plan, at(2026, 1, 31))
    open_wo = occurrence(plan, "2026-01-31").work_order
    # when
    stats = run(plan, at(2026, 2, 28))
    # then
    assert (stats.work_orders, stats.skipped) == (0, 1)
    skipped = occurrence(plan, "2026-02-28")
    assert skipped.status == "skipped" and skipped.work_order is None
    assert skipped.reason == f"Skipped: {open_wo.number} is still open."
    assert WorkOrder.objects.count() == 1
    assert run(plan, at(2026, 2, 28, 12)).skipped == 0  # recorded once


def test_open_policy_stack_creates_it_anyway(world):
    plan = make_plan(world, open_policy="stack")
    run(plan, at(2026, 1, 31))
    stats = run(plan, at(2026, 2, 28))
    assert (stats.work_orders, stats.skipped) == (1, 0)
    assert [o.work_order.status for o in occurrences(plan)] == ["new", "new"]


def test_open_policy_replace_cancels_the_old_one_with_a_reason(world):
    # given
    plan = make_plan(world, open_policy="replace")
    run(plan, at(2026, 1, 31))
    old = occurrence(plan, "2026-01-31").work_order
    # when
    stats = run(plan, at(2026, 2, 28))
    # then
    assert (stats.work_orders, stats.replaced) == (1, 1)
    old.refresh_from_db()
    assert old.status == "cancelled"
    assert old.status_reason == "Replaced by the occurrence due 2026-02-28 of Pump check."
    assert occurrence(plan, "2026-01-31").status == "generated"  # its history stays
    assert occurrence(plan, "2026-02-28").work_order.status == "new"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes no row locks (FOR UPDATE)")
def test_open_policy_replace_locks_the_open_work_order_before_the_target_as_a_completion_does(world):
    # given a plan that replaces open work, with its January work order open
    from django.test.utils import CaptureQueriesContext

    plan = make_plan(world, open_policy="replace")
    run(plan, at(2026, 1, 31))
    # when February is generated
    with CaptureQueriesContext(connection) as queries:
        assert run(plan, at(2026, 2, 28)).replaced == 1
    # then the work order is locked before the plan target (a completion takes them in that order too)
    locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    first = {
        table: next(i for i, sql in enumerate(locks) if sql.split(" FROM ", 1)[1].startswith(f'"{table}"'))
        for table in ("service_workorder", "maintenance_plantarget")
    }
    assert first["service_workorder"] < first["maintenance_plantarget"]


def test_a_completed_previous_one_does_not_block_the_next(world):
    plan = make_plan(world)
    run(plan, at(2026, 1, 31))
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 2, 3))
    assert run(plan, at(2026, 2, 28)).work_orders == 1


# ---------------------------------------------------------------------------------------------
# missed occurrences, cancellations, ends


def test_a_generator_down_for_weeks_gives_one_overdue_catch_up_and_records_the_rest_missed(world):
    # given a monthly plan made on 20 January whose 31 January work was done
    plan = make_plan(world, lead_days=7)
    run(plan, at(2026, 1, 24))
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 1, 31, 12))
    # when the generator runs again only on 10 May
    stats = run(plan, at(2026, 5, 10))
    # then
    assert (stats.work_orders, stats.missed, stats.skipped) == (1, 2, 0)
    missed = occurrences(plan, status="missed")
    assert [o.key for o in missed] == ["2026-02-28", "2026-03-31"]
    assert all(o.work_order is None and o.reason for o in missed)
    catch_up = occurrence(plan, "2026-04-30")
    assert catch_up.is_catch_up and catch_up.status == "generated"
    assert catch_up.work_order.title == "Pump check (overdue)"
    assert "Catch-up" in catch_up.work_order.description
    assert catch_up.work_order.scheduled_start == datetime(2026, 4, 30, 7, tzinfo=UTC)
    assert keys(plan) == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]  # 31 May: from 24 May
    # when it runs again
    assert run(plan, at(2026, 5, 10, 12)).as_dict()["work_orders"] == 0
    assert len(keys(plan)) == 4


def test_a_plan_started_in_the_past_gives_one_catch_up_and_no_backfill(world):
    # given a plan made on 15 April whose first due date was 31 January
    plan = make_plan(world, when=at(2026, 4, 15), lead_days=7)
    # when
    stats = run(plan, at(2026, 4, 15))
    # then one overdue work order; the dates before the plan existed were never due
    assert (stats.work_orders, stats.missed) == (1, 0)
    assert keys(plan) == ["2026-03-31"]
    assert occurrence(plan, "2026-03-31").is_catch_up


def test_a_floating_plan_started_in_the_past_gives_one_catch_up(world):
    plan = make_plan(world, when=at(2026, 4, 15), mode="floating", interval_days=30, recurrence=None)
    run(plan, at(2026, 4, 15))
    occ = occurrence(plan, "2026-01-31")
    assert occ.is_catch_up and occ.work_order is not None
    assert keys(plan) == ["2026-01-31"]


def test_a_cancelled_occurrence_keeps_its_key_and_is_not_regenerated(world):
    # given
    plan = make_plan(world)
    run(plan, at(2026, 1, 31))
    wo = occurrence(plan, "2026-01-31").work_order
    # when
    cancel(world, wo, at(2026, 1, 31, 10))
    run(plan, at(2026, 1, 31, 12))
    run(plan, at(2026, 2, 1))
    # then
    assert keys(plan) == ["2026-01-31"]
    assert occurrence(plan, "2026-01-31").work_order_id == wo.pk
    assert WorkOrder.objects.count() == 1
    assert run(plan, at(2026, 2, 28)).work_orders == 1  # the next one is not blocked by it


def test_max_count_stops_the_plan(world):
    plan = make_plan(world, max_count=2)
    run(plan, at(2026, 1, 24), until=date(2026, 12, 31))
    assert keys(plan) == ["2026-01-31", "2026-02-28"]
    assert target(plan).count == 2
    assert run(plan, at(2027, 1, 1)).as_dict()["work_orders"] == 0
    assert keys(plan) == ["2026-01-31", "2026-02-28"]


def test_the_end_date_stops_the_plan(world):
    plan = make_plan(world, end_date="2026-03-31")
    run(plan, at(2026, 1, 24), until=date(2026, 12, 31))
    assert keys(plan) == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert run(plan, at(2026, 7, 1)).work_orders == 0


def test_a_paused_plan_generates_nothing_and_resuming_does_not_backfill(world):
    # given
    plan = make_plan(world)
    run(plan, at(2026, 1, 31))
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 1, 31, 12))
    services.plan_set_active(actor=world.dispatcher, plan_id=plan.pk, active=False)
    # when
    paused = [run(plan, at(2026, 2, 28)), run(plan, at(2026, 3, 31))]
    # then
    assert [s.plans for s in paused] == [0, 0]
    assert keys(plan) == ["2026-01-31"]
    with pytest.raises(DomainError) as err:
        services.plan_generate(actor=world.dispatcher, plan_id=plan.pk)
    assert err.value.code == ErrorCode.CONFLICT
    # when resumed on 10 April
    services.plan_set_active(actor=world.dispatcher, plan_id=plan.pk, active=True)
    stats = run(plan, at(2026, 4, 10))
    # then at most one (overdue) work order for the paused months
    assert (stats.work_orders, stats.missed) == (1, 1)
    assert [o.work_order_id is not None for o in occurrences(plan)] == [True, False, True]
    assert occurrence(plan, "2026-03-31").is_catch_up


# ---------------------------------------------------------------------------------------------
# what a plan covers and what its work orders carry


def test_a_category_plan_covers_every_item_of_the_category_at_the_site(world):
    # given
    pumps = CategoryFactory(organization=world.org, name="Pumps")
    a = EquipmentFactory(site=world.site, category=pumps, name="Pump A")
    b = EquipmentFactory(site=world.site, category=pumps, name="Pump B")
    EquipmentFactory(site=world.site, category=pumps, name="Old pump", status=EquipmentStatus.RETIRED)
    EquipmentFactory(site=world.other_site, category=pumps, name="Pump elsewhere")
    EquipmentFactory(site=world.site, name="Not a pump")
    plan = make_plan(world, equipment_id=None, category_id=pumps.pk, site_id=world.site.pk)
    # when
    stats = run(plan, at(2026, 1, 31))
    # then
    assert (stats.targets, stats.work_orders) == (2, 2)
    assert sorted(o.equipment_id for o in occurrences(plan)) == [a.pk, b.pk]
    assert {o.work_order.equipment_id for o in occurrences(plan)} == {a.pk, b.pk}
    # when B is retired and a new pump arrives
    b.status = EquipmentStatus.RETIRED
    b.save(update_fields=["status"])
    c = EquipmentFactory(site=world.site, category=pumps, name="Pump C")
    run(plan, at(2026, 2, 28))
    # then
    assert sorted(o.equipment_id for o in occurrences(plan, key="2026-02-28")) == [a.pk, c.pk]


def test_the_generated_work_order_carries_the_template(world):
    # given
    template = TemplateFactory(
        organization=world.org,
        name="Pump service",
        description="Check the seals.",
        estimated_duration_minutes=90,
        default_priority="high",
        requires_signature=True,
        is_billable=False,
    )
    ChecklistItemFactory(template=template, label="Seals dry", position=1, is_required=True)
    ChecklistItemFactory(template=template, label="Pressure", position=2, kind="number")
    part = PartFactory(organization=world.org, name="Seal kit")
    TemplatePart.objects.create(organization=world.org, template=template, part=part, quantity=D("2"))
    plan = make_plan(world, template=template)
    # when
    run(plan, at(2026, 1, 31))
    # then
    occ = occurrence(plan, "2026-01-31")
    wo = occ.work_order
    assert wo.type == "preventive" and wo.template_id == template.pk
    assert wo.priority == "high"
    assert wo.estimated_duration_minutes == 90
    assert wo.requires_signature is True and wo.is_billable is False
    assert [(c.label, c.kind, c.is_required) for c in wo.checklist.order_by("position")] == [
        ("Seals dry", "checkbox", True),
        ("Pressure", "number", False),
    ]
    assert [(m.part_id, m.quantity) for m in wo.planned_materials.all()] == [(part.pk, D("2"))]
    assert wo.description.startswith("Check the seals.")
    assert "due 2026-01-31" in wo.description
    assert wo.equipment_id == world.equipment.pk and wo.site_id == world.site.pk
    assert wo.lead_technician_id == world.technician.user.pk
    assert wo.scheduled_start == datetime(2026, 1, 31, 8, tzinfo=UTC)
    assert wo.scheduled_end == wo.scheduled_start + timedelta(minutes=90)
    assert WorkOrder.objects.get(pk=wo.pk).pm_occurrence == occ
    assert wo.created_by.email == generator.SYSTEM_EMAIL


# ---------------------------------------------------------------------------------------------
# editing (rule 10)


def test_editing_a_plans_timing_withdraws_only_future_unstarted_work_orders(world):
    # given four work orders: 31 Jan (past, not started), 28 Feb (new), 31 Mar (started), 30 Apr (new)
    plan = make_plan(world, open_policy="stack")
    run(plan, at(2026, 1, 31))
    run(plan, at(2026, 2, 1), until=date(2026, 4, 30))
    wos = {o.key: o.work_order for o in occurrences(plan)}
    with frozen_at(at(2026, 2, 1, 9)):
        wo_services.work_order_transition(actor=world.dispatcher, work_order_id=wos["2026-03-31"].pk, to="in_progress")
    # when the due time changes on 2 February
    with frozen_at(at(2026, 2, 2)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"due_time": "07:00"})
    # then only the future, unstarted ones are withdrawn, with the reason
    statuses = {k: WorkOrder.objects.get(pk=wo.pk).status for k, wo in wos.items()}
    assert statuses == {
        "2026-01-31": "new",
        "2026-02-28": "cancelled",
        "2026-03-31": "in_progress",
        "2026-04-30": "cancelled",
    }
    assert WorkOrder.objects.get(pk=wos["2026-02-28"].pk).status_reason == "The plan Pump check was changed."
    assert keys(plan) == ["2026-01-31", "2026-03-31"]
    # when the generator runs again they come back under the new settings
    run(plan, at(2026, 2, 2), until=date(2026, 4, 30))
    assert keys(plan) == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    assert occurrence(plan, "2026-02-28").due_at == datetime(2026, 2, 28, 6, tzinfo=UTC)  # 07:00 CET
    assert occurrence(plan, "2026-03-31").due_at == datetime(2026, 3, 31, 7, tzinfo=UTC)  # kept: 09:00 CEST
    assert target(plan).count == 4


def test_editing_a_plans_name_withdraws_nothing(world):
    plan = make_plan(world, lead_days=40)
    run(plan, at(2026, 1, 24))
    before = snapshot(plan)
    with frozen_at(at(2026, 1, 25)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"name": "Pump check (north)"})
    assert snapshot(plan) == before
    assert all(o.work_order.status == "new" for o in occurrences(plan))


def test_editing_a_floating_plans_lead_days_keeps_its_next_due_date(world):
    # given the next floating one due 12 March (30 days after 10 February), generated 10 days ahead
    plan = make_plan(world, mode="floating", interval_days=30, recurrence=None, lead_days=10)
    run(plan, at(2026, 1, 31))
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 2, 10, 14))
    run(plan, at(2026, 3, 2))
    withdrawn = occurrence(plan, "2026-03-12").work_order
    # when the lead days change
    with frozen_at(at(2026, 3, 3)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"lead_days": 5})
    # then its work order is withdrawn but the next due date stays
    assert WorkOrder.objects.get(pk=withdrawn.pk).status == "cancelled"
    assert target(plan).next_due_date == date(2026, 3, 12)
    assert run(plan, at(2026, 3, 6)).work_orders == 0
    assert run(plan, at(2026, 3, 7)).work_orders == 1
    assert occurrence(plan, "2026-03-12").work_order.status == "new"
    # when the interval changes, the next date counts from the last completion
    with frozen_at(at(2026, 3, 8)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"interval_days": 40})
    assert target(plan).next_due_date == date(2026, 3, 22)


def test_a_meter_work_order_due_already_stays_when_the_plan_is_edited(world):
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world)
    read(world, meter, "600", at(2026, 1, 5, 12))
    wo = occurrence(plan, "m:500").work_order
    with frozen_at(at(2026, 1, 5, 13)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"lead_days": 3})
    assert WorkOrder.objects.get(pk=wo.pk).status == "new"
    assert target(plan).next_due_value == D("1000")


# ---------------------------------------------------------------------------------------------
# failures do not spread


def test_a_completion_is_not_refused_when_the_next_generation_fails(world):
    # given a floating plan whose template was retired after its work order was made
    template = TemplateFactory(organization=world.org)
    plan = make_plan(world, template=template, mode="floating", interval_days=1, recurrence=None)
    run(plan, at(2026, 1, 31))
    template.is_active = False
    template.save(update_fields=["is_active"])
    # when the work is completed (the next one would be due the next day)
    wo = complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 2, 5, 10))
    # then the completion stands and the counter moved; the periodic run reports the error
    assert wo.status == "completed"
    assert target(plan).next_due_date == date(2026, 2, 6)
    assert keys(plan) == ["2026-01-31"]
    stats = run(plan, at(2026, 2, 6))
    assert stats.work_orders == 0 and len(stats.errors) == 1
    assert "no longer in use" in stats.errors[0]


def test_a_reading_is_recorded_when_the_plan_cannot_generate(world):
    template = TemplateFactory(organization=world.org)
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world, template=template)
    template.is_active = False
    template.save(update_fields=["is_active"])
    reading = read(world, meter, "600", at(2026, 1, 5, 12))
    assert reading.pk and reading.lifetime == D("600")
    assert keys(plan) == []


def test_one_broken_plan_does_not_stop_the_others(world):
    broken_template = TemplateFactory(organization=world.org)
    broken = make_plan(world, name="Broken", template=broken_template)
    fine = make_plan(world, name="Fine")
    broken_template.is_active = False
    broken_template.save(update_fields=["is_active"])
    stats = run(None, at(2026, 1, 31))
    assert (stats.plans, stats.work_orders, len(stats.errors)) == (2, 1, 1)
    assert stats.errors[0].startswith("Broken / Pump P1:")
    assert keys(fine) == ["2026-01-31"] and keys(broken) == []


# ---------------------------------------------------------------------------------------------
# properties and concurrency


class _Rollback(Exception):
    pass


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    frequency=st.sampled_from(["daily", "weekly", "monthly"]),
    interval=st.integers(1, 3),
    lead_days=st.integers(0, 20),
    policy=st.sampled_from(["skip", "stack", "replace"]),
    first=st.integers(0, 60),
    gap=st.integers(0, 90),
)
def test_generation_twice_gives_the_same_set(world, frequency, interval, lead_days, policy, first, gap):
    with pytest.raises(_Rollback), transaction.atomic():
        plan = make_plan(
            world,
            recurrence={"frequency": frequency, "interval": interval},
            anchor="2026-01-05",
            lead_days=lead_days,
            open_policy=policy,
        )
        runs = (at(2026, 1, 5) + timedelta(days=first), at(2026, 1, 5) + timedelta(days=first + gap))
        for number, when in enumerate(runs, start=1):
            run(plan, when)
            once = snapshot(plan)
            stats = run(plan, when + timedelta(hours=1))
            assert snapshot(plan) == once
            assert (stats.work_orders, stats.skipped, stats.missed) == (0, 0, 0)
            dates = [o.due_date for o in occurrences(plan)]
            assert dates == sorted(dates) and len(set(dates)) == len(dates)
            assert all(d >= date(2026, 1, 5) for d in dates)
            assert all(d <= when.date() + timedelta(days=lead_days) for d in dates)
            assert sum(o.is_catch_up for o in occurrences(plan)) <= number  # at most one per run
        raise _Rollback


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two generators at once need PostgreSQL row locks (SQLite has one writer and serialises them anyway)",
)
@pytest.mark.django_db(transaction=True)
def test_two_generators_at_once_create_no_duplicate():
    # given ten plans (one on a category of three items) that generate a year ahead
    world = build_world()
    pumps = CategoryFactory(organization=world.org)
    for _ in range(3):
        EquipmentFactory(site=world.site, category=pumps)
    plans = [make_plan(world, name=f"Plan {i}", open_policy="stack", lead_days=30) for i in range(9)]
    plans.append(make_plan(world, name="Pumps", equipment_id=None, category_id=pumps.pk, site_id=world.site.pk))
    now = at(2026, 1, 24)
    first = generator.generate(now=now)  # the plans' targets exist: the generators meet on their row locks
    assert (first.targets, first.work_orders) == (12, 9)
    threads = 4
    barrier = threading.Barrier(threads)

    def work(_):
        try:
            barrier.wait(timeout=10)
            return generator.generate(now=now, until=date(2026, 12, 31))
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(work, range(threads)))
    # then every occurrence once, one work order each, and all the work done once between them
    assert all(not r.errors for r in results)
    total = Occurrence.objects.count()
    assert total == 9 * 12 + 3 * 12
    assert sum(r.work_orders + r.skipped for r in results) == total - 9
    assert WorkOrder.objects.count() == Occurrence.objects.exclude(work_order=None).count()
    assert len(set(Occurrence.objects.values_list("plan_id", "equipment_id", "key"))) == total
    assert len(set(WorkOrder.objects.values_list("number", flat=True))) == WorkOrder.objects.count()
    assert PlanTarget.objects.count() == 12
    assert all(t.count == 12 for t in PlanTarget.objects.all())


# ---------------------------------------------------------------------------------------------
# plan input the generator could not use is refused when the plan is saved


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"recurrence": {"frequency": "weekly", "weekdays": ["monday"]}}, "weekdays"),
        ({"recurrence": {"frequency": "monthly", "month_day": 0}}, "month_day"),
        ({"recurrence": "monthly"}, "recurrence"),
        ({"recurrence": None, "rule": "FREQ=HOURLY"}, "rule"),
        ({"recurrence": None, "rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rule"),
    ],
)
def test_a_rule_the_generator_cannot_use_is_refused(world, data, field):
    with pytest.raises(DomainError) as err:
        make_plan(world, **data)
    assert (err.value.code, err.value.field) == (ErrorCode.VALIDATION, field)
    assert not MaintenancePlan.objects.exists()


def test_weekdays_may_be_given_as_text(world):
    plan = make_plan(world, anchor="2026-01-05", recurrence={"frequency": "weekly", "weekdays": "0,3"})
    assert plan.rule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TH"


# ---------------------------------------------------------------------------------------------
# bugs fixed: a floating plan stuck on its own key, meter plans past their end, generating too far


def test_a_floating_plan_completed_exactly_its_interval_early_moves_past_the_existing_key(world):
    # given every 10 days after completion, created 14 days ahead: the one due 31 January exists
    plan = make_plan(world, mode="floating", interval_days=10, lead_days=14, recurrence=None)
    run(plan, at(2026, 1, 20))
    # when it is completed on 21 January, exactly 10 days before it was due
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 1, 21, 10))
    # then the next one takes the first free date after the existing key, at once (within the lead days)
    assert target(plan).next_due_date == date(2026, 2, 1)
    assert keys(plan) == ["2026-01-31", "2026-02-01"]
    assert occurrence(plan, "2026-02-01").work_order.status == "new"
    # and the plan goes on from there
    complete(world, occurrence(plan, "2026-02-01").work_order, at(2026, 2, 1, 10))
    assert keys(plan) == ["2026-01-31", "2026-02-01", "2026-02-11"]


def test_a_floating_plan_cancelled_exactly_its_interval_early_is_not_stuck(world):
    # given
    plan = make_plan(world, mode="floating", interval_days=10, lead_days=14, recurrence=None)
    run(plan, at(2026, 1, 20))
    # when its work order is cancelled on 21 January
    cancel(world, occurrence(plan, "2026-01-31").work_order, at(2026, 1, 21, 10))
    # then the next one is due on 1 February, not on the cancelled key
    assert keys(plan) == ["2026-01-31", "2026-02-01"]
    assert run(plan, at(2026, 1, 22)).work_orders == 0


def test_a_floating_plan_left_on_an_existing_key_by_an_older_version_generates_again(world):
    # given the state an older generator left: the counter on the key of a finished occurrence
    plan = make_plan(world, mode="floating", interval_days=10, lead_days=14, recurrence=None)
    run(plan, at(2026, 1, 20))
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 1, 21, 10))
    Occurrence.objects.filter(plan=plan, key="2026-02-01").delete()
    PlanTarget.objects.filter(plan=plan).update(next_due_date=date(2026, 1, 31))
    # when
    stats = run(plan, at(2026, 1, 22))
    # then
    assert stats.work_orders == 1
    assert keys(plan) == ["2026-01-31", "2026-02-01"]
    assert target(plan).next_due_date == date(2026, 2, 1)
    assert run(plan, at(2026, 1, 22, 12)).work_orders == 0


def test_editing_a_floating_interval_does_not_land_on_an_existing_key(world):
    # given a 10-day plan completed on 21 January (the 31 January one stays, started)
    plan = make_plan(world, mode="floating", interval_days=10, lead_days=0, recurrence=None, anchor="2026-01-31")
    run(plan, at(2026, 1, 31))
    complete(world, occurrence(plan, "2026-01-31").work_order, at(2026, 2, 1, 10))
    assert target(plan).next_due_date == date(2026, 2, 11)
    run(plan, at(2026, 2, 11))
    with frozen_at(at(2026, 2, 11, 9)):
        wo_services.work_order_transition(
            actor=world.dispatcher, work_order_id=occurrence(plan, "2026-02-11").work_order.pk, to="in_progress"
        )
    # when the interval becomes 10 days again from the last completion... and lands on the started one
    with frozen_at(at(2026, 2, 11, 10)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"interval_days": 10, "lead_days": 1})
    # then the started one stays and the counter is past its key
    assert occurrence(plan, "2026-02-11").work_order.status == "in_progress"
    assert target(plan).next_due_date == date(2026, 2, 11)  # lead days only: the counter did not move
    with frozen_at(at(2026, 2, 11, 11)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"interval_days": 9})
    with frozen_at(at(2026, 2, 11, 12)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"interval_days": 10})
    assert target(plan).next_due_date == date(2026, 2, 12)


def test_a_meter_plan_generates_nothing_after_its_end_date(world):
    # given a plan every 500 h that ended on 31 January
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world, end_date="2026-01-31")
    read(world, meter, "600", at(2026, 1, 10, 12))
    assert keys(plan) == ["m:500"]
    complete(world, occurrence(plan, "m:500").work_order, at(2026, 1, 11, 12))
    # when the meter passes 1000 h in February
    read(world, meter, "1100", at(2026, 2, 2, 12))
    stats = run(plan, at(2026, 2, 3))
    # then nothing more: the plan has ended
    assert keys(plan) == ["m:500"]
    assert stats.work_orders == 0
    assert target(plan).next_due_value == D("1000")


def test_a_meter_plan_stops_after_max_count(world):
    # given
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world, max_count=1)
    read(world, meter, "600", at(2026, 1, 10, 12))
    complete(world, occurrence(plan, "m:500").work_order, at(2026, 1, 11, 12))
    # when
    read(world, meter, "1100", at(2026, 2, 2, 12))
    # then
    assert keys(plan) == ["m:500"]
    assert target(plan).count == 1
    assert target(plan).next_due_value == D("1000")  # the counter does not run on after the end


def test_a_whichever_first_plan_generates_nothing_from_its_meter_after_the_end_date(world):
    # given every 30 days or every 500 h, ending on 15 March; the 28 February one done on 1 March at 300 h
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 20, 12))
    plan = make_plan(
        world,
        recurrence=None,
        mode="floating",
        interval_days=30,
        anchor="2026-02-28",
        end_date="2026-03-15",
        meter_name="Hours",
        meter_interval="500",
        meter_start="500",
    )
    run(plan, at(2026, 2, 28))
    read(world, meter, "300", at(2026, 3, 1, 11))
    complete(world, occurrence(plan, "2026-02-28").work_order, at(2026, 3, 1, 12))
    assert (target(plan).next_due_date, target(plan).next_due_value) == (date(2026, 3, 31), D("800"))
    # when the meter passes 800 h after the end date
    read(world, meter, "900", at(2026, 3, 20, 12))
    # then
    assert keys(plan) == ["2026-02-28"]
    assert run(plan, at(2026, 4, 1)).work_orders == 0


def test_generating_one_plan_further_than_its_horizon_is_refused(world):
    # given a plan with a 90-day horizon
    plan = make_plan(world, horizon_days=90)
    # when / then
    with frozen_at(at(2026, 1, 24)), pytest.raises(DomainError) as err:
        services.plan_generate(actor=world.dispatcher, plan_id=plan.pk, until=date(2026, 4, 25))
    assert (err.value.code, err.value.field) == (ErrorCode.VALIDATION, "until")
    assert "2026-04-24" in err.value.message
    assert not Occurrence.objects.exists()
    with frozen_at(at(2026, 1, 24)), pytest.raises(DomainError) as err:
        services.plan_generate(actor=world.dispatcher, plan_id=plan.pk, until=date(2026, 1, 23))
    assert (err.value.code, err.value.field) == (ErrorCode.VALIDATION, "until")
    # up to the horizon is fine
    with frozen_at(at(2026, 1, 24)):
        stats = services.plan_generate(actor=world.dispatcher, plan_id=plan.pk, until=date(2026, 4, 24))
    assert stats.work_orders == 3


def test_the_generator_stops_each_plan_at_its_horizon_and_refuses_more_than_five_years(world):
    # given
    short = make_plan(world, name="Short", horizon_days=60)
    long = make_plan(world, name="Long", horizon_days=365)
    # when
    run(None, at(2026, 1, 24), until=date(2026, 12, 31))
    # then
    assert keys(short) == ["2026-01-31", "2026-02-28", "2026-03-31"][:2]
    assert len(keys(long)) == 12
    with pytest.raises(DomainError) as err:
        run(None, at(2026, 1, 24), until=date(2031, 2, 1))
    assert (err.value.code, err.value.field) == (ErrorCode.VALIDATION, "until")


def test_the_command_refuses_a_date_more_than_five_years_ahead(world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    make_plan(world)
    with frozen_at(at(2026, 1, 24)), pytest.raises(CommandError, match="at most five years ahead"):
        call_command("generate_pm", "--until", "2031-02-01", stdout=StringIO(), stderr=StringIO())
    assert not Occurrence.objects.exists()


# ---------------------------------------------------------------------------------------------
# the bulk path makes what work_order_create makes


def _work_order_view(wo: WorkOrder) -> dict:
    """Everything a generated work order holds, without its ids, number and write instants."""
    from django.forms.models import model_to_dict

    from fixflow.service.models import WorkOrderEvent
    from fixflow.sla.models import SlaClock, WorkOrderSla

    wo = WorkOrder.objects.get(pk=wo.pk)
    ignore = {"id", "number", "created_at", "updated_at", "helpers", "signature"}
    sla = WorkOrderSla.objects.get(work_order=wo)
    return {
        "work_order": {k: v for k, v in model_to_dict(wo).items() if k not in ignore},
        "sla_state": (wo.sla_state, wo.sla_due_at),
        "checklist": list(wo.checklist.order_by("position").values("position", "label", "kind", "is_required")),
        "materials": list(wo.planned_materials.order_by("id").values("part_id", "description", "quantity", "unit")),
        "events": list(
            WorkOrderEvent.objects.filter(work_order=wo).values(
                "actor_id", "kind", "from_status", "to_status", "reason", "data"
            )
        ),
        "sla": {
            k: v
            for k, v in model_to_dict(sla).items()
            if k not in {"id", "work_order", "applied_at", "recalculated_at"}
        },
        "clocks": list(
            SlaClock.objects.filter(work_order=wo)
            .order_by("target")
            .values(
                "target",
                "cycle",
                "is_current",
                "priority",
                "target_minutes",
                "started_at",
                "paused_seconds",
                "due_at",
                "at_risk_at",
                "state",
                "met_at",
                "breached_at",
            )
        ),
    }


@pytest.mark.parametrize("response_met_on", ["start", "assignment"])
def test_the_bulk_path_makes_exactly_what_work_order_create_makes(world, monkeypatch, response_met_on):
    # given a key account policy on office hours with a holiday, a template with a checklist and a part
    from fixflow.sla.models import SlaPolicy

    office = BusinessCalendar.objects.create(
        organization=world.org,
        name="Office",
        timezone="Europe/Berlin",
        week=[[["08:00", "17:00"]]] * 5 + [[], []],
    )
    Holiday.objects.create(organization=world.org, calendar=office, date=date(2026, 2, 2))
    policy = SlaPolicy.objects.create(
        organization=world.org,
        name="Key account",
        position=1,
        calendar=office,
        targets={p: {"response": 120, "resolution": 960} for p in ("critical", "high", "normal", "low")},
        response_met_on=response_met_on,
    )
    policy.clients.add(world.client)
    template = TemplateFactory(
        organization=world.org, description="Check the seals.", estimated_duration_minutes=90, requires_signature=True
    )
    ChecklistItemFactory(template=template, label="Seals dry", position=1, is_required=True)
    ChecklistItemFactory(template=template, label="Pressure", position=2, kind="number")
    TemplatePart.objects.create(
        organization=world.org, template=template, part=PartFactory(organization=world.org), quantity=D("2")
    )
    bulk = make_plan(world, name="Bulk", template=template, lead_days=7, when=at(2026, 1, 20))
    slow = make_plan(world, name="Bulk", template=template, lead_days=7, when=at(2026, 1, 20))
    # when one is generated in bulk and the other through work_order_create, at the same instant
    run(bulk, at(2026, 1, 24))
    monkeypatch.setattr(generator, "_batchable", lambda *args: False)
    run(slow, at(2026, 1, 24))
    # then both work orders are the same in every respect but their numbers
    made_in_bulk, made_one_by_one = occurrence(bulk, "2026-01-31").work_order, occurrence(slow, "2026-01-31").work_order
    assert made_in_bulk.number != made_one_by_one.number
    view = _work_order_view(made_in_bulk)
    assert view == _work_order_view(made_one_by_one)
    assert view["sla"]["policy_name"] == "Key account" and view["sla"]["calendar"]["holidays"] == ["2026-02-02"]
    assert view["clocks"][1]["state"] == ("met" if response_met_on == "assignment" else "pending")
    assert len(view["checklist"]) == 2 and len(view["materials"]) == 1


def test_work_orders_made_in_bulk_are_numbered_on_in_creation_order(world):
    # given a work order made by hand first
    with frozen_at(at(2026, 1, 24)):
        first = wo_services.work_order_create(
            actor=world.dispatcher, title="By hand", site_id=world.site.pk, equipment_id=world.equipment.pk
        )
    plan = make_plan(world, lead_days=7)
    # when a year is generated at once
    run(plan, at(2026, 1, 24), until=date(2026, 12, 31))
    with frozen_at(at(2026, 1, 24, 12)):
        last = wo_services.work_order_create(
            actor=world.dispatcher, title="By hand", site_id=world.site.pk, equipment_id=world.equipment.pk
        )
    # then the numbers follow on without gaps, in due order
    numbers = [o.work_order.number for o in occurrences(plan)]
    assert len(numbers) == 12
    sequence = [first.number, *numbers, last.number]
    assert [int(n.rsplit("-", 1)[1]) for n in sequence] == list(range(1, 15))


def test_a_batch_that_fails_is_generated_target_by_target_and_reports_only_the_broken_one(world, monkeypatch):
    # given two plans, and a bulk write that fails
    from fixflow.maintenance import batch

    fine = make_plan(world, name="Fine")
    broken_template = TemplateFactory(organization=world.org)
    broken = make_plan(world, name="Broken", template=broken_template)
    broken_template.is_active = False
    broken_template.save(update_fields=["is_active"])

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batch, "create_work_orders", fail)
    # when
    stats = run(None, at(2026, 1, 31))
    # then the sound plan is generated one by one, the broken one reports its own error
    assert (stats.plans, stats.targets, stats.work_orders) == (2, 2, 1)
    assert len(stats.errors) == 1 and stats.errors[0].startswith("Broken / Pump P1:")
    assert keys(fine) == ["2026-01-31"] and keys(broken) == []


def test_a_second_run_with_nothing_to_do_writes_and_locks_nothing(world):
    # given a plan generated a year ahead
    from django.test.utils import CaptureQueriesContext

    plan = make_plan(world, lead_days=7)
    run(plan, at(2026, 1, 24), until=date(2026, 12, 31))
    # when it runs again
    with CaptureQueriesContext(connection) as queries:
        stats = run(plan, at(2026, 1, 24, 12), until=date(2026, 12, 31))
    # then it only reads
    assert stats.work_orders == 0
    # (DECLARE … CURSOR FOR SELECT: PostgreSQL's server-side cursor behind .iterator())
    reads = ("SELECT", "SAVEPOINT", "RELEASE", "DECLARE")
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(reads)]
    assert writes == [] and not any("FOR UPDATE" in q["sql"] for q in queries)
    assert len(queries) <= 12


# ---------------------------------------------------------------------------------------------
# what a later run skips: calendar plans generated up to the date already, floating work still open


def test_a_plan_generated_a_year_ahead_is_skipped_until_an_edit_opens_dates_again(world):
    # given a monthly plan generated a year ahead
    plan = make_plan(world, lead_days=7)
    run(plan, at(2026, 1, 24), until=date(2026, 12, 31))
    assert MaintenancePlan.objects.get(pk=plan.pk).generated_until == date(2026, 12, 31)
    # when its equipment changes
    other = EquipmentFactory(site=world.site, name="Pump P2")
    with frozen_at(at(2026, 1, 25)):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"equipment_id": other.pk})
    # then the next run with the same date generates the new item's year
    assert MaintenancePlan.objects.get(pk=plan.pk).generated_until is None
    stats = run(plan, at(2026, 1, 25), until=date(2026, 12, 31))
    assert stats.work_orders == 12
    assert len(keys(plan, equipment=other)) == 12


def test_a_new_item_of_a_category_is_generated_after_a_year_ahead_run(world):
    # given a category plan generated a year ahead
    pumps = CategoryFactory(organization=world.org, name="Pumps")
    EquipmentFactory(site=world.site, category=pumps, name="Pump A")
    plan = make_plan(world, equipment_id=None, category_id=pumps.pk, site_id=world.site.pk)
    run(plan, at(2026, 1, 24), until=date(2026, 12, 31))
    # when a pump arrives and the periodic run comes
    b = EquipmentFactory(site=world.site, category=pumps, name="Pump B")
    stats = run(None, at(2026, 1, 31))
    # then the new pump's first one is made
    assert stats.work_orders == 1 and keys(plan, equipment=b) == ["2026-01-31"]


def test_a_plan_that_failed_is_tried_again_with_the_same_date(world):
    # given a plan whose template was retired: its run fails
    template = TemplateFactory(organization=world.org)
    plan = make_plan(world, template=template)
    template.is_active = False
    template.save(update_fields=["is_active"])
    assert len(run(plan, at(2026, 1, 24), until=date(2026, 3, 31)).errors) == 1
    assert MaintenancePlan.objects.get(pk=plan.pk).generated_until is None
    # when the template is in use again and the same run comes
    template.is_active = True
    template.save(update_fields=["is_active"])
    stats = run(plan, at(2026, 1, 24), until=date(2026, 3, 31))
    # then it is generated
    assert stats.work_orders == 3 and not stats.errors


def test_a_run_counts_the_plans_it_skipped(world):
    # given a calendar plan generated ahead and a floating plan with its work order open
    make_plan(world, name="Calendar", lead_days=7)
    make_plan(world, name="Floating", mode="floating", interval_days=30, recurrence=None)
    first = run(None, at(2026, 1, 31), until=date(2026, 6, 30))
    # when the periodic run comes
    again = run(None, at(2026, 2, 1))
    # then both were looked at, and nothing made
    assert first.work_orders == 7
    assert (again.plans, again.targets, again.work_orders) == (2, 2, 0)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two generators at once need PostgreSQL row locks (SQLite has one writer and serialises them anyway)",
)
@pytest.mark.django_db(transaction=True)
def test_two_generators_at_once_over_several_batches_make_each_occurrence_once(monkeypatch):
    # given calendar, floating and category plans read three at a time, nothing generated yet
    monkeypatch.setattr(generator, "BATCH_PLANS", 3)
    world = build_world()
    pumps = CategoryFactory(organization=world.org)
    for _ in range(2):
        EquipmentFactory(site=world.site, category=pumps)
    for i in range(6):
        make_plan(world, name=f"Monthly {i}", lead_days=14)
    for i in range(3):
        make_plan(world, name=f"Floating {i}", mode="floating", interval_days=20, recurrence=None)
    make_plan(world, name="Pumps", equipment_id=None, category_id=pumps.pk, site_id=world.site.pk)
    now = at(2026, 1, 24)
    threads = 4
    barrier = threading.Barrier(threads)

    def work(_):
        try:
            barrier.wait(timeout=10)
            return generator.generate(now=now, until=date(2026, 6, 30))
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(work, range(threads)))
    # then: six months for each calendar target, one floating each, once; numbers without gaps
    assert all(not r.errors for r in results)
    calendar_targets, months = 6 + 2, 6
    assert Occurrence.objects.filter(trigger="calendar").count() == calendar_targets * months
    assert Occurrence.objects.filter(trigger="floating").count() == 3
    assert sum(r.work_orders for r in results) == Occurrence.objects.count() == WorkOrder.objects.count()
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in WorkOrder.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(
        t.count == (1 if t.plan.mode == "floating" else months) for t in PlanTarget.objects.select_related("plan")
    )


def test_the_periodic_run_makes_a_meter_work_order_the_reading_could_not(world):
    # given a meter plan whose template was retired when the reading passed its threshold
    template = TemplateFactory(organization=world.org)
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    plan = meter_plan(world, template=template)
    assert run(plan, at(2026, 1, 2)).work_orders == 0  # below 500 h: nothing to do
    template.is_active = False
    template.save(update_fields=["is_active"])
    read(world, meter, "620", at(2026, 1, 5, 12))
    assert keys(plan) == []
    # when it is in use again and the periodic run comes
    template.is_active = True
    template.save(update_fields=["is_active"])
    stats = run(None, at(2026, 1, 5, 13))
    # then
    assert stats.work_orders == 1 and keys(plan) == ["m:500"]
    assert run(None, at(2026, 1, 5, 14)).as_dict() == {
        "plans": 1,
        "targets": 1,
        "work_orders": 0,
        "skipped": 0,
        "missed": 0,
        "replaced": 0,
        "errors": [],
    }


# ---------------------------------------------------------------------------------------------
# the forecast reads in a fixed number of queries (its plans' related rows are partly loaded)


def test_the_forecast_reads_the_same_number_of_queries_for_four_plans_or_sixteen(world):
    from django.test.utils import CaptureQueriesContext

    from fixflow.maintenance import selectors

    cal = BusinessCalendar.objects.create(organization=world.org, name="Office", timezone="Europe/Berlin")
    Holiday.objects.create(organization=world.org, calendar=cal, date=date(2026, 3, 13))
    meter = hours_meter(world)
    read(world, meter, "100", at(2026, 1, 1, 12))
    read(world, meter, "300", at(2026, 1, 10, 12))
    pumps = CategoryFactory(organization=world.org)
    EquipmentFactory(site=world.site, category=pumps)

    def add_four(i: int) -> None:
        make_plan(world, name=f"Calendar {i}", calendar_id=cal.pk, day_shift="next")
        make_plan(world, name=f"Floating {i}", mode="floating", interval_days=30, recurrence=None)
        meter_plan(world, name=f"Meter {i}")
        make_plan(world, name=f"Pumps {i}", equipment_id=None, category_id=pumps.pk, site_id=world.site.pk)

    def queries() -> tuple[int, int]:
        with frozen_at(at(2026, 2, 1)), CaptureQueriesContext(connection) as captured:
            items = selectors.forecast(
                actor=world.dispatcher, date_from=date(2026, 2, 1), date_to=date(2026, 4, 30), now=at(2026, 2, 1)
            )
        return len(captured), len(items)

    add_four(0)
    few, few_items = queries()
    for i in range(1, 4):
        add_four(i)
    many, many_items = queries()
    assert many_items > few_items > 0
    assert many == few
