"""PM reads: the forecast (generated, upcoming calendar / floating / meter, skipped, missed, overdue), PM
compliance, stale plans, next due dates and the live preview of an unsaved plan."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fixflow.assets import meters
from fixflow.core.clock import frozen_at
from fixflow.core.errors import DomainError
from fixflow.maintenance import generator, selectors, services
from fixflow.maintenance.models import MaintenancePlan, Occurrence
from fixflow.service import services as wo_services
from fixflow.service.models import WorkOrder

from ..factories import CategoryFactory, EquipmentFactory, SiteFactory, TemplateFactory, WorkOrderFactory

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(y, m, d, h=12, mi=0, tz=BERLIN) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=tz)


PLANNED_AT = at(2027, 1, 10)


def make_plan(world, *, when: datetime = PLANNED_AT, **data) -> MaintenancePlan:
    template = TemplateFactory(organization=world.org)
    body = {
        "name": "Monthly pump check",
        "template_id": template.pk,
        "equipment_id": world.equipment.pk,
        "anchor": "2027-01-31",
        "recurrence": {"frequency": "monthly", "monthly_by": "day"},
        "lead_days": 7,
        "lead_technician_id": world.technician.user_id,
        **data,
    }
    with frozen_at(when):
        return services.plan_create(actor=world.dispatcher, data=body)


def kinds(items) -> list[tuple[str, str]]:
    return [(i.due_date.isoformat(), i.kind) for i in items]


def complete(world, work_order_id: int, when: datetime) -> None:
    with frozen_at(when):
        wo_services.work_order_transition(actor=world.dispatcher, work_order_id=work_order_id, to="in_progress")
        wo_services.work_order_transition(
            actor=world.dispatcher, work_order_id=work_order_id, to="completed", resolution_notes="Done."
        )


# --- forecast: calendar plans ------------------------------------------------------------------------


def test_the_forecast_lists_a_monthly_plan_from_its_anchor_with_month_ends(world):
    # given a monthly plan on the 31st, nothing generated yet
    make_plan(world)
    # when
    items = selectors.forecast(
        actor=world.technician, date_from="2027-01-01", date_to="2027-05-31", now=at(2027, 1, 10)
    )
    # then every month's last day when the month is shorter, 09:00 local
    assert kinds(items) == [
        ("2027-01-31", "upcoming"),
        ("2027-02-28", "upcoming"),
        ("2027-03-31", "upcoming"),
        ("2027-04-30", "upcoming"),
        ("2027-05-31", "upcoming"),
    ]
    assert items[0].due_at == datetime(2027, 1, 31, 9, tzinfo=BERLIN)
    assert items[2].due_at == datetime(2027, 3, 31, 9, tzinfo=BERLIN)  # after the DST change, still 09:00
    assert items[0].key == "2027-01-31" and items[0].trigger == "calendar"
    assert items[0].technician_name == "Tom Technician"


def test_the_forecast_stops_at_the_horizon_end_date_and_count(world):
    # given three plans ending in different ways
    make_plan(world, name="Horizon", horizon_days=60)
    make_plan(world, name="End date", end_date="2027-03-31")
    make_plan(world, name="Count", max_count=2)
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-12-31", now=at(2027, 1, 10))
    # then
    by_plan = {}
    for item in items:
        by_plan.setdefault(item.plan_name, []).append(item.due_date.isoformat())
    assert by_plan == {
        "Horizon": ["2027-01-31", "2027-02-28"],  # 10 Jan + 60 days = 11 Mar
        "End date": ["2027-01-31", "2027-02-28", "2027-03-31"],
        "Count": ["2027-01-31", "2027-02-28"],
    }


def test_generated_overdue_and_skipped_occurrences_appear_with_their_work_order(world):
    # given the January occurrence generated, and February skipped because January is still open
    plan = make_plan(world)
    generator.generate(now=at(2027, 1, 25))
    generator.generate(now=at(2027, 2, 22))
    wo = Occurrence.objects.get(plan=plan, key="2027-01-31").work_order
    # when
    items = selectors.forecast(
        actor=world.dispatcher, date_from="2027-01-01", date_to="2027-04-30", now=at(2027, 2, 22)
    )
    # then
    assert kinds(items) == [
        ("2027-01-31", "overdue"),
        ("2027-02-28", "skipped"),
        ("2027-03-31", "upcoming"),
        ("2027-04-30", "upcoming"),
    ]
    assert items[0].work_order_number == wo.number
    assert items[0].work_order_status == "new"
    assert items[0].completed_on_time is None
    assert items[1].reason == f"Skipped: {wo.number} is still open."


def test_a_generated_work_order_not_yet_due_is_generated_not_overdue(world):
    # given
    plan = make_plan(world)
    generator.generate(now=at(2027, 1, 25))
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-02-28", now=at(2027, 1, 25))
    # then the next one is computed after the last generated key
    assert kinds(items) == [("2027-01-31", "generated"), ("2027-02-28", "upcoming")]
    assert items[0].occurrence_id == Occurrence.objects.get(plan=plan).pk


def test_completion_on_time_and_late_is_told_per_occurrence(world):
    # given January completed on its due day (late evening, local time), February the day after
    plan = make_plan(world, open_policy="stack")
    generator.generate(now=at(2027, 1, 25))
    complete(world, Occurrence.objects.get(plan=plan, key="2027-01-31").work_order_id, at(2027, 1, 31, 23, 30))
    generator.generate(now=at(2027, 2, 22))
    complete(world, Occurrence.objects.get(plan=plan, key="2027-02-28").work_order_id, at(2027, 3, 1, 0, 30))
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-02-28", now=at(2027, 3, 2))
    # then
    assert [(i.kind, i.work_order_status, i.completed_on_time) for i in items] == [
        ("generated", "completed", True),
        ("generated", "completed", False),
    ]


def test_missed_occurrences_are_shown_and_the_catch_up_is_overdue(world):
    # given a weekly plan whose first weeks passed before the generator ran
    plan = make_plan(world, anchor="2027-01-04", recurrence={"frequency": "weekly"}, lead_days=0)
    MaintenancePlan.objects.filter(pk=plan.pk).update(created_at=at(2027, 1, 1))
    generator.generate(now=at(2027, 1, 20))
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-01-31", now=at(2027, 1, 20))
    # then
    assert kinds(items) == [
        ("2027-01-04", "missed"),
        ("2027-01-11", "missed"),
        ("2027-01-18", "overdue"),
        ("2027-01-25", "upcoming"),
    ]
    assert items[2].is_catch_up


def test_a_working_day_shift_moves_upcoming_dates(world):
    # given the last day of the month, moved to the previous working day (Mon–Fri without a calendar)
    make_plan(world, recurrence={"frequency": "monthly", "monthly_by": "last_day"}, day_shift="previous")
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-05-31", now=at(2027, 1, 10))
    # then 31 Jan 2027 is a Sunday, 28 Feb a Sunday, 31 Mar a Wednesday, 30 Apr a Friday, 31 May a Monday
    assert [(i.due_date.isoformat(), i.key) for i in items] == [
        ("2027-01-29", "2027-01-31"),
        ("2027-02-26", "2027-02-28"),
        ("2027-03-31", "2027-03-31"),
        ("2027-04-30", "2027-04-30"),
        ("2027-05-31", "2027-05-31"),
    ]


def test_the_forecast_filters_by_site_equipment_technician_and_plan(world):
    # given a plan on the pump, and a category plan at the other site with two items
    pump = make_plan(world, name="Pump")
    category = CategoryFactory(organization=world.org, name="Ovens")
    world.other_equipment.category = category
    world.other_equipment.save()
    oven3 = EquipmentFactory(site=world.other_site, category=category, name="Oven 3")
    ovens = make_plan(
        world,
        name="Ovens",
        equipment_id=None,
        site_id=world.other_site.pk,
        category_id=category.pk,
        lead_technician_id=None,
    )
    span = {"date_from": "2027-01-01", "date_to": "2027-01-31", "now": at(2027, 1, 10)}
    # when / then
    everything = selectors.forecast(actor=world.admin, **span)
    assert sorted((i.plan_name, i.equipment_name) for i in everything) == [
        ("Ovens", "Oven 2"),
        ("Ovens", "Oven 3"),
        ("Pump", "Pump P1"),
    ]
    assert {i.plan_id for i in selectors.forecast(actor=world.admin, site_id=world.site.pk, **span)} == {pump.pk}
    assert [i.equipment_id for i in selectors.forecast(actor=world.admin, equipment_id=oven3.pk, **span)] == [oven3.pk]
    assert {i.plan_id for i in selectors.forecast(actor=world.admin, plan_id=ovens.pk, **span)} == {ovens.pk}
    by_tech = selectors.forecast(actor=world.admin, technician_id=world.technician.user_id, **span)
    assert {i.plan_id for i in by_tech} == {pump.pk}


def test_the_forecast_is_refused_to_client_users_and_checks_its_range(world):
    # when / then
    with pytest.raises(DomainError) as err:
        selectors.forecast(actor=world.client_user, date_from="2027-01-01", date_to="2027-01-31")
    assert err.value.code == "permission_denied"
    with pytest.raises(DomainError) as err:
        selectors.forecast(actor=world.admin, date_from="2027-02-01", date_to="2027-01-31")
    assert err.value.field == "date_to"
    with pytest.raises(DomainError) as err:
        selectors.forecast(actor=world.admin, date_from="31.01.2027", date_to="2027-01-31")
    assert err.value.field == "date_from"


def test_the_forecast_does_not_show_another_organizations_plans(world, other_world):
    # given
    make_plan(world)
    # when
    items = selectors.forecast(
        actor=other_world.dispatcher, date_from="2027-01-01", date_to="2027-03-31", now=at(2027, 1, 10)
    )
    # then
    assert items == []


def test_a_paused_plan_keeps_its_recorded_occurrences_and_loses_its_upcoming_ones(world):
    # given
    plan = make_plan(world)
    generator.generate(now=at(2027, 1, 25))
    services.plan_set_active(actor=world.dispatcher, plan_id=plan.pk, active=False)
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-03-31", now=at(2027, 1, 26))
    # then
    assert kinds(items) == [("2027-01-31", "generated")]


# --- forecast: floating and meter plans ------------------------------------------------------------------


def test_a_floating_plan_forecasts_every_interval_assuming_on_time_completion(world):
    # given 30 days after the last completion, first due 1 March
    plan = make_plan(world, mode="floating", interval_days=30, anchor="2027-03-01", recurrence=None, rule="")
    span = {"date_from": "2027-02-01", "date_to": "2027-05-31"}
    # when nothing is generated yet
    items = selectors.forecast(actor=world.admin, now=at(2027, 2, 10), **span)
    # then
    assert kinds(items) == [
        ("2027-03-01", "upcoming"),
        ("2027-03-31", "upcoming"),
        ("2027-04-30", "upcoming"),
        ("2027-05-30", "upcoming"),
    ]
    assert {i.trigger for i in items} == {"floating"}
    # when the first is generated: the next counts from its due date
    generator.generate(now=at(2027, 2, 25))
    items = selectors.forecast(actor=world.admin, now=at(2027, 2, 25), **span)
    assert kinds(items)[:2] == [("2027-03-01", "generated"), ("2027-03-31", "upcoming")]
    # when it is completed late, on 10 March: the next ones move (fixed would not)
    complete(world, Occurrence.objects.get(plan=plan).work_order_id, at(2027, 3, 10))
    items = selectors.forecast(actor=world.admin, now=at(2027, 3, 10), **span)
    assert kinds(items) == [("2027-03-01", "generated"), ("2027-04-09", "upcoming"), ("2027-05-09", "upcoming")]
    assert items[0].completed_on_time is False


def _meter_with_rate(world) -> object:
    """Running hours: 1000 on 1 January, 1300 on 31 January (12:00 Berlin): 10 h a day."""
    meter = meters.meter_create(actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Hours", "unit": "h"})
    with frozen_at(at(2027, 1, 1)):
        meters.reading_record(actor=world.technician, meter_id=meter.pk, value="1000")
    with frozen_at(at(2027, 1, 31)):
        meters.reading_record(actor=world.technician, meter_id=meter.pk, value="1300")
    meter.refresh_from_db()
    return meter


def test_a_meter_plan_forecasts_thresholds_at_the_date_the_usage_rate_predicts(world):
    # given 10 h a day (1300 h on 31 January) and a service every 500 h from 1500 h
    meter = _meter_with_rate(world)
    make_plan(
        world,
        recurrence=None,
        rule="",
        meter_name="Hours",
        meter_interval="500",
        meter_start="1500",
        anchor="2027-01-31",
    )
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-02-01", date_to="2027-06-30", now=at(2027, 1, 31))
    # then
    assert [(i.due_date.isoformat(), i.key, i.due_value) for i in items] == [
        ("2027-02-20", "m:1500", Decimal("1500.000")),  # 200 h: 20 days
        ("2027-04-11", "m:2000", Decimal("2000.000")),  # 500 h: 50 days
        ("2027-05-31", "m:2500", Decimal("2500.000")),
    ]
    assert all(i.is_predicted and i.trigger == "meter" and i.kind == "upcoming" for i in items)
    assert selectors.usage_rates([meter], now=at(2027, 1, 31)) == {
        meter.pk: meters.usage_rate(meter, now=at(2027, 1, 31))
    }
    assert meters.usage_rate(meter, now=at(2027, 1, 31)) == Decimal("10.000")


def test_a_meter_without_a_usage_rate_predicts_nothing(world):
    # given one reading only
    meter = meters.meter_create(actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Hours", "unit": "h"})
    with frozen_at(at(2027, 1, 1)):
        meters.reading_record(actor=world.technician, meter_id=meter.pk, value="1000")
    make_plan(world, recurrence=None, rule="", meter_name="Hours", meter_interval="500", anchor="2027-01-31")
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-12-31", now=at(2027, 1, 2))
    # then
    assert items == []


def test_whichever_comes_first_restarts_both_counters_from_each_completion(world):
    # given 30 days after completion or every 500 h, first due 15 March or at 1500 h (predicted 20 Feb)
    _meter_with_rate(world)
    make_plan(
        world,
        mode="floating",
        interval_days=30,
        anchor="2027-03-15",
        recurrence=None,
        rule="",
        meter_name="Hours",
        meter_interval="500",
        meter_start="1500",
    )
    # when
    items = selectors.forecast(actor=world.admin, date_from="2027-02-01", date_to="2027-04-30", now=at(2027, 1, 31))
    # then the meter fires first; then 30 days from it (22 Mar) comes before 1500 + 500 h (11 Apr), and again
    assert [(i.due_date.isoformat(), i.trigger) for i in items] == [
        ("2027-02-20", "meter"),
        ("2027-03-22", "floating"),
        ("2027-04-21", "floating"),
    ]


# --- next due dates, summary, preview ---------------------------------------------------------------------


def test_a_plans_next_five_due_dates_include_its_open_generated_one(world):
    # given
    plan = make_plan(world, horizon_days=30)
    generator.generate(now=at(2027, 1, 25))
    plan = services.plan_get(actor=world.admin, pk=plan.pk)
    # when
    dates = selectors.plan_next_due(plan=plan, now=at(2027, 1, 25))
    # then (beyond the horizon: the horizon only limits the calendar)
    assert dates == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30), date(2027, 5, 31)]


def test_a_plan_summary_reads_as_a_sentence(world):
    # given
    plan = make_plan(world, recurrence={"frequency": "monthly", "interval": 3, "monthly_by": "last_day"})
    # when / then
    assert (
        selectors.plan_summary(plan)
        == "every 3 months on the last day, 7 days ahead, skip if the last one is still open"
    )


def test_the_preview_of_an_unsaved_plan_gives_its_next_five_dates():
    # when
    dates = selectors.plan_preview(
        data={"anchor": "2027-01-31", "recurrence": {"frequency": "monthly", "monthly_by": "day"}},
        today=date(2027, 1, 10),
    )
    # then
    assert dates == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30), date(2027, 5, 31)]


def test_the_preview_handles_the_2nd_tuesday_biweekly_days_and_floating_plans():
    assert selectors.plan_preview(
        data={
            "anchor": "2027-01-01",
            "recurrence": {"frequency": "monthly", "monthly_by": "nth_weekday", "nth": 2, "weekday": 1},
        },
        today=date(2027, 1, 1),
    ) == [date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9), date(2027, 4, 13), date(2027, 5, 11)]
    assert selectors.plan_preview(
        data={"anchor": "2027-01-04", "recurrence": {"frequency": "weekly", "interval": 2, "weekdays": [0, 3]}},
        today=date(2027, 1, 1),
    ) == [date(2027, 1, 4), date(2027, 1, 7), date(2027, 1, 18), date(2027, 1, 21), date(2027, 2, 1)]
    assert selectors.plan_preview(
        data={"anchor": "2026-12-01", "mode": "floating", "interval_days": "45", "max_count": 3},
        today=date(2027, 1, 1),
    ) == [date(2027, 1, 1), date(2027, 2, 15), date(2027, 4, 1)]


def test_the_preview_from_a_later_day_starts_from_that_day_and_respects_the_end():
    assert selectors.plan_preview(
        data={"anchor": "2024-02-29", "recurrence": {"frequency": "yearly"}, "end_date": "2030-12-31"},
        today=date(2027, 1, 1),
    ) == [date(2027, 2, 28), date(2028, 2, 29), date(2029, 2, 28), date(2030, 2, 28)]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "anchor"),
        ({"anchor": "2027-02-30", "recurrence": {"frequency": "monthly"}}, "anchor"),
        ({"anchor": "2027-01-01", "recurrence": {"frequency": "hourly"}}, "frequency"),
        ({"anchor": "2027-01-01", "recurrence": {"frequency": "monthly", "month_day": 32}}, "month_day"),
        ({"anchor": "2027-01-01", "mode": "floating"}, "interval_days"),
        ({"anchor": "2027-01-01"}, "rule"),
        ({"anchor": "2027-01-01", "rule": "FREQ=SOMETIMES"}, "rule"),
        ({"anchor": "2027-01-01", "rule": "FREQ=DAILY", "end_date": "2026-12-31"}, "end_date"),
        ({"anchor": "2027-01-01", "meter_name": "Hours"}, "meter_interval"),
    ],
)
def test_the_preview_refuses_what_the_service_refuses(data, field):
    with pytest.raises(DomainError) as err:
        selectors.plan_preview(data=data, today=date(2027, 1, 1))
    assert err.value.code == "validation_error"
    assert err.value.field == field


# --- compliance --------------------------------------------------------------------------------------------


def _occurrence(plan, key: str, *, status="generated", wo_status=None, completed_at=None, started_at=None, tz=BERLIN):
    day = date.fromisoformat(key)
    wo = None
    if wo_status is not None:
        wo = WorkOrderFactory(
            equipment=plan.equipment, status=wo_status, completed_at=completed_at, started_at=started_at
        )
    return Occurrence.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        equipment=plan.equipment,
        key=key,
        trigger="calendar",
        due_date=day,
        due_at=datetime(day.year, day.month, day.day, 9, tzinfo=tz),
        status=status,
        work_order=wo,
    )


def test_compliance_counts_on_time_over_due_per_month_site_and_plan(world):
    # given a plan with one occurrence of each outcome in March, one in April, one due in the future
    plan = make_plan(world)
    _occurrence(plan, "2027-03-01", wo_status="completed", completed_at=at(2027, 3, 1, 23, 30))  # on time (local)
    _occurrence(plan, "2027-03-02", wo_status="closed", completed_at=at(2027, 2, 28))  # early: on time
    _occurrence(plan, "2027-03-03", wo_status="completed", completed_at=at(2027, 3, 4, 0, 30))  # late (local)
    _occurrence(plan, "2027-03-04", wo_status="cancelled")
    _occurrence(plan, "2027-03-05", status="skipped")
    _occurrence(plan, "2027-03-06", status="missed")
    _occurrence(plan, "2027-03-07", wo_status="in_progress", started_at=at(2027, 3, 7))
    _occurrence(plan, "2027-04-01", wo_status="completed", completed_at=at(2027, 4, 1, 8))
    _occurrence(plan, "2027-04-20", wo_status="new")  # not due yet
    # when
    report = selectors.compliance(
        actor=world.accountant, date_from="2027-03-01", date_to="2027-04-30", now=at(2027, 4, 10)
    )
    # then
    assert report.totals.as_dict() == {
        "key": "total",
        "label": "Total",
        "due": 8,
        "on_time": 3,
        "late": 1,
        "open": 1,
        "cancelled": 1,
        "skipped": 1,
        "missed": 1,
        "compliance_percent": 37.5,
    }
    assert [(r.key, r.due, r.on_time, r.compliance_percent) for r in report.by_period] == [
        ("2027-03", 7, 2, 28.6),
        ("2027-04", 1, 1, 100.0),
    ]
    assert [(r.key, r.label, r.due) for r in report.by_site] == [(str(world.site.pk), "Pumpwerk Nord", 8)]
    assert [(r.key, r.label, r.on_time) for r in report.by_plan] == [(str(plan.pk), "Monthly pump check", 3)]


def test_compliance_judges_on_time_in_each_sites_own_time_zone(world):
    # given a site in New York: completed at 23:30 local on the due day is 05:30 the next day in Berlin
    ny_site = SiteFactory(client=world.client, name="Harbor", timezone="America/New_York")
    ny_pump = EquipmentFactory(site=ny_site, name="Pump NY")
    plan = make_plan(world, equipment_id=ny_pump.pk, name="NY check")
    berlin_plan = make_plan(world, name="Berlin check")
    _occurrence(
        plan, "2027-03-01", wo_status="completed", completed_at=at(2027, 3, 1, 23, 30, tz=NEW_YORK), tz=NEW_YORK
    )
    _occurrence(plan, "2027-03-02", wo_status="completed", completed_at=at(2027, 3, 3, 0, 30, tz=NEW_YORK), tz=NEW_YORK)
    _occurrence(berlin_plan, "2027-03-01", wo_status="completed", completed_at=at(2027, 3, 1, 23, 30))
    # when
    report = selectors.compliance(actor=world.admin, date_from="2027-03-01", date_to="2027-03-31", now=at(2027, 3, 20))
    # then
    by_plan = {r.label: (r.on_time, r.late) for r in report.by_plan}
    assert by_plan == {"Berlin check": (1, 0), "NY check": (1, 1)}
    assert [r.label for r in report.by_site] == ["Harbor", "Pumpwerk Nord"]


def test_compliance_filters_by_site_and_plan_and_groups_by_week(world):
    # given
    plan = make_plan(world)
    other = make_plan(world, name="Other", equipment_id=world.other_equipment.pk)
    _occurrence(plan, "2027-03-01", wo_status="completed", completed_at=at(2027, 3, 1))
    _occurrence(other, "2027-03-09", status="missed")
    span = {"date_from": "2027-03-01", "date_to": "2027-03-14", "now": at(2027, 4, 1)}
    # when / then
    weekly = selectors.compliance(actor=world.admin, group="week", **span)
    assert [(r.key, r.due, r.on_time) for r in weekly.by_period] == [("2027-W09", 1, 1), ("2027-W10", 1, 0)]
    assert selectors.compliance(actor=world.admin, site_id=world.other_site.pk, **span).totals.due == 1
    assert selectors.compliance(actor=world.admin, plan_id=plan.pk, **span).totals.on_time == 1
    with pytest.raises(DomainError) as err:
        selectors.compliance(actor=world.admin, group="fortnight", **span)
    assert err.value.field == "group"


def test_compliance_of_an_empty_range_lists_every_month_empty(world):
    report = selectors.compliance(actor=world.admin, date_from="2027-01-15", date_to="2027-03-02", now=at(2027, 4, 1))
    assert [(r.key, r.due, r.compliance_percent) for r in report.by_period] == [
        ("2027-01", 0, None),
        ("2027-02", 0, None),
        ("2027-03", 0, None),
    ]
    assert report.totals.compliance_percent is None


def test_compliance_after_a_real_generation_and_completion(world):
    # given January generated and completed on time, February generated and left open past its date
    plan = make_plan(world, open_policy="stack")
    generator.generate(now=at(2027, 1, 25))
    complete(world, Occurrence.objects.get(plan=plan, key="2027-01-31").work_order_id, at(2027, 1, 30))
    generator.generate(now=at(2027, 2, 22))
    # when
    report = selectors.compliance(actor=world.admin, date_from="2027-01-01", date_to="2027-03-31", now=at(2027, 3, 5))
    # then
    assert (report.totals.due, report.totals.on_time, report.totals.open) == (2, 1, 1)


# --- stale plans ---------------------------------------------------------------------------------------------


def test_a_plan_whose_last_three_work_orders_were_never_started_is_stale(world):
    # given a stale plan (new, planned, cancelled unstarted), and one whose last three include a started one
    stale = make_plan(world, name="Stale")
    _occurrence(stale, "2027-01-01", wo_status="completed", completed_at=at(2027, 1, 1), started_at=at(2027, 1, 1))
    _occurrence(stale, "2027-02-01", wo_status="new")
    _occurrence(stale, "2027-03-01", wo_status="planned")
    _occurrence(stale, "2027-03-15", wo_status="cancelled")
    _occurrence(stale, "2027-03-20", status="skipped")  # no work order: not counted
    _occurrence(stale, "2027-05-01", wo_status="new")  # not due yet: not counted
    busy = make_plan(world, name="Busy")
    _occurrence(busy, "2027-02-01", wo_status="new")
    _occurrence(busy, "2027-03-01", wo_status="cancelled", started_at=at(2027, 3, 1))
    _occurrence(busy, "2027-03-15", wo_status="new")
    young = make_plan(world, name="Young")
    _occurrence(young, "2027-03-15", wo_status="new")
    # when
    found = selectors.stale_plans(actor=world.technician, now=at(2027, 4, 1))
    # then
    assert [p.name for p in found] == ["Stale"]
    assert [(w.status, w.due_date.isoformat()) for w in found[0].work_orders] == [
        ("cancelled", "2027-03-15"),
        ("planned", "2027-03-01"),
        ("new", "2027-02-01"),
    ]
    assert [p.name for p in selectors.stale_plans(actor=world.technician, last_n=1, now=at(2027, 4, 1))] == [
        "Busy",
        "Stale",
        "Young",
    ]


def test_a_paused_plan_is_not_listed_as_stale(world):
    plan = make_plan(world)
    for key in ("2027-01-01", "2027-02-01", "2027-03-01"):
        _occurrence(plan, key, wo_status="new")
    services.plan_set_active(actor=world.dispatcher, plan_id=plan.pk, active=False)
    assert selectors.stale_plans(actor=world.admin, now=at(2027, 4, 1)) == []


def test_stale_plans_checks_last_n(world):
    with pytest.raises(DomainError) as err:
        selectors.stale_plans(actor=world.admin, last_n=0)
    assert err.value.field == "last_n"


# --- the equipment page ---------------------------------------------------------------------------------------


def test_equipment_maintenance_lists_its_plans_next_dates_and_meters(world):
    # given the pump's own plan, a category plan that covers it, and a meter
    category = CategoryFactory(organization=world.org, name="Pumps")
    world.equipment.category = category
    world.equipment.save()
    make_plan(world, name="Own")
    make_plan(
        world,
        name="By category",
        equipment_id=None,
        site_id=world.site.pk,
        category_id=category.pk,
        mode="floating",
        interval_days=10,
        anchor="2027-02-01",
        recurrence=None,
    )
    make_plan(world, name="Elsewhere", equipment_id=world.other_equipment.pk)
    meter = _meter_with_rate(world)
    # when
    view = selectors.equipment_maintenance(actor=world.technician, equipment_id=world.equipment.pk, now=at(2027, 1, 31))
    # then
    assert [(p["plan"].name, [i.due_date.isoformat() for i in p["next_due"]]) for p in view["plans"]] == [
        ("By category", ["2027-02-01", "2027-02-11", "2027-02-21"]),
        ("Own", ["2027-01-31", "2027-02-28", "2027-03-31"]),
    ]
    assert view["plans"][1]["summary"].startswith("every month on day 31")
    assert [(m["meter"].pk, m["lifetime_value"], m["usage_per_day"]) for m in view["meters"]] == [
        (meter.pk, Decimal("1300.000"), Decimal("10.000"))
    ]


def test_equipment_maintenance_hides_plans_from_roles_without_the_right_and_other_clients(world):
    # given
    make_plan(world)
    # when / then: the requester sees the equipment's meters but no plans; another client's user nothing
    assert selectors.equipment_maintenance(actor=world.requester, equipment_id=world.equipment.pk)["plans"] == []
    with pytest.raises(DomainError) as err:
        selectors.equipment_maintenance(actor=world.other_client_user, equipment_id=world.equipment.pk)
    assert err.value.code == "not_found"


def test_the_forecast_reads_a_fixed_number_of_queries_whatever_the_number_of_plans(
    world, django_assert_max_num_queries
):
    # given plans of every kind on ten items
    _meter_with_rate(world)
    category = CategoryFactory(organization=world.org)
    for n in range(10):
        eq = EquipmentFactory(site=world.site, category=category)
        make_plan(world, name=f"Calendar {n}", equipment_id=eq.pk)
        make_plan(world, name=f"Floating {n}", equipment_id=eq.pk, mode="floating", interval_days=20, recurrence=None)
    make_plan(world, name="Meter", recurrence=None, meter_name="Hours", meter_interval="500")
    make_plan(world, name="Category", equipment_id=None, site_id=world.site.pk, category_id=category.pk)
    generator.generate(now=at(2027, 1, 25))
    # when / then
    with django_assert_max_num_queries(12):
        items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-03-31", now=at(2027, 1, 26))
    assert len(items) > 60
    assert WorkOrder.objects.count() > 20


def test_a_date_withdrawn_by_an_edit_before_a_started_one_is_upcoming_again(world):
    # given January and February generated (40 days ahead), February started, January not
    plan = make_plan(world, lead_days=40, open_policy="stack")
    generator.generate(now=at(2027, 1, 25))
    feb = Occurrence.objects.get(plan=plan, key="2027-02-28").work_order_id
    with frozen_at(at(2027, 1, 26)):
        wo_services.work_order_transition(actor=world.technician, work_order_id=feb, to="in_progress")
        # when the timing changes: January is withdrawn, February stays
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"lead_days": 35})
    # then
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-03-31", now=at(2027, 1, 26))
    assert kinds(items) == [("2027-01-31", "upcoming"), ("2027-02-28", "generated"), ("2027-03-31", "upcoming")]
