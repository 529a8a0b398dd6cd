"""Planning ahead (rule 9): the planning calendar holds the calendar occurrences up to the horizon without
work orders; the forecast reads it and shows exactly what it computes without it."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fixflow.core.clock import frozen_at
from fixflow.maintenance import generator, planning, selectors, services
from fixflow.maintenance.models import MaintenancePlan, Occurrence, PlannedDates
from fixflow.service.models import WorkOrder
from fixflow.sla import services as sla_services

from ..factories import CategoryFactory, EquipmentFactory, TemplateFactory

BERLIN = ZoneInfo("Europe/Berlin")


def at(y, m, d, h=12) -> datetime:
    return datetime(y, m, d, h, tzinfo=BERLIN)


START = at(2027, 1, 10)


def make_plan(world, **data) -> MaintenancePlan:
    body = {
        "name": "Pump check",
        "template_id": TemplateFactory(organization=world.org).pk,
        "equipment_id": world.equipment.pk,
        "anchor": "2027-01-31",
        "recurrence": {"frequency": "monthly", "monthly_by": "day"},
        "lead_days": 7,
        **data,
    }
    with frozen_at(START):
        return services.plan_create(actor=world.dispatcher, data=body)


def planned(plan) -> list[tuple[str, str]]:
    """The (rule date, due date) pairs on the plan's planning calendar (all its equipment items)."""
    rows = PlannedDates.objects.filter(plan=plan).order_by("equipment_id")
    return sorted((day, due) for row in rows for day, due in row.days)


def seen(world, now: datetime, date_to: str = "2027-12-31") -> list[tuple]:
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to=date_to, now=now)
    return [(i.plan_id, i.equipment_id, i.key, i.due_date, i.due_at, i.kind, i.work_order_id) for i in items]


def office_calendar(world):
    cal = sla_services.calendar_create(actor=world.admin, data={"name": "Office", "timezone": "Europe/Berlin"})
    sla_services.holiday_add(actor=world.admin, calendar_id=cal.pk, day="2027-04-30", name="Bridge day")
    return cal


SHAPES = {
    "monthly on the 31st": {},
    "last day, previous working day": {
        "recurrence": {"frequency": "monthly", "monthly_by": "last_day"},
        "day_shift": "previous",
    },
    "2nd Tuesday every quarter": {
        "anchor": "2027-01-01",
        "recurrence": {"frequency": "monthly", "interval": 3, "monthly_by": "nth_weekday", "nth": 2, "weekday": 1},
    },
    "every 2 weeks on Monday and Thursday": {
        "anchor": "2027-01-04",
        "recurrence": {"frequency": "weekly", "interval": 2, "weekdays": [0, 3]},
    },
    "count of 5": {"recurrence": {"frequency": "monthly", "monthly_by": "day"}, "max_count": 5},
    "end date": {"end_date": "2027-06-15"},
    "short horizon": {"horizon_days": 60},
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_the_forecast_reads_the_planning_calendar_and_shows_what_it_computes(world, shape):
    # given a plan, with a calendar holiday where it shifts
    data = dict(shape)
    if data.get("day_shift"):
        data["calendar_id"] = office_calendar(world).pk
    plan = make_plan(world, **data)
    computed = seen(world, START)
    # when its dates are planned ahead
    stats = planning.plan_ahead(now=START)
    # then the rows are there and the forecast shows the same
    assert stats.occurrences == len(planned(plan)) > 0
    assert seen(world, START) == computed
    # and the same after work orders were made, a month later (the calendar is not refreshed before then)
    for when in (at(2027, 1, 24), at(2027, 2, 25), at(2027, 3, 5)):
        with frozen_at(when):
            generator.generate(now=when)
        plan.refresh_from_db()
        assert seen(world, when) == _computed(world, when)


def _computed(world, now: datetime) -> list[tuple]:
    """The forecast without the planning calendar."""
    keep = list(PlannedDates.objects.values_list("pk", "days"))
    until = dict(MaintenancePlan.objects.values_list("pk", "planned_until"))
    MaintenancePlan.objects.update(planned_until=None)
    try:
        return seen(world, now)
    finally:
        for pk, value in until.items():
            MaintenancePlan.objects.filter(pk=pk).update(planned_until=value)
        assert list(PlannedDates.objects.values_list("pk", "days")) == keep


def test_planning_a_category_plan_plans_each_item(world):
    # given a category plan on two ovens
    category = CategoryFactory(organization=world.org, name="Ovens")
    ovens = [EquipmentFactory(site=world.site, category=category, name=f"Oven {n}") for n in (1, 2)]
    plan = make_plan(world, equipment_id=None, site_id=world.site.pk, category_id=category.pk)
    # when
    planning.plan_ahead(until=date(2027, 3, 31), now=START)
    # then
    rows = PlannedDates.objects.filter(plan=plan).order_by("equipment_id")
    assert [(r.equipment_id, [day for day, _due in r.days]) for r in rows] == [
        (oven.pk, ["2027-01-31", "2027-02-28", "2027-03-31"]) for oven in ovens
    ]
    plan.refresh_from_db()
    assert plan.planned_until == date(2027, 3, 31)


def test_planning_is_idempotent_and_makes_no_work_orders(world):
    plan = make_plan(world)
    first = planning.plan_ahead(until=date(2027, 6, 30), now=START)
    again = planning.plan_ahead(until=date(2027, 6, 30), now=START)
    assert (first.occurrences, again.occurrences, again.planned_plans) == (6, 0, 0)
    assert [day for day, _due in planned(plan)] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
        "2027-06-30",
    ]
    assert not WorkOrder.objects.exists() and not Occurrence.objects.exists()


def test_planning_further_extends_the_calendar(world):
    plan = make_plan(world)
    planning.plan_ahead(until=date(2027, 3, 31), now=START)
    stats = planning.plan_ahead(until=date(2027, 5, 31), now=START)
    assert (stats.planned_plans, stats.occurrences) == (1, 5)
    assert PlannedDates.objects.filter(plan=plan).count() == 1
    assert [day for day, _due in planned(plan)] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
    ]


def test_the_periodic_run_extends_the_calendar_once_a_week(world):
    plan = make_plan(world, horizon_days=100)
    planning.plan_ahead(now=START)  # up to 20 April
    plan.refresh_from_db()
    assert plan.planned_until == date(2027, 4, 20)
    # six days later nothing is due for replanning; eight days later it is extended to the new horizon
    assert planning.plan_ahead(now=START + timedelta(days=6)).planned_plans == 0
    assert planning.plan_ahead(now=START + timedelta(days=8)).planned_plans == 1
    plan.refresh_from_db()
    assert plan.planned_until == date(2027, 4, 28)
    assert [day for day, _due in planned(plan)][-1] == "2027-03-31"


def test_the_planning_calendar_of_a_plan_does_not_reach_past_its_horizon_or_the_date(world):
    short = make_plan(world, name="Short", horizon_days=40)
    long = make_plan(world, name="Long")
    planning.plan_ahead(until=date(2027, 5, 31), now=START)
    assert [day for day, _due in planned(short)] == ["2027-01-31"]
    assert [day for day, _due in planned(long)][-1] == "2027-05-31"


def test_editing_the_timing_of_a_plan_drops_its_planning_calendar(world):
    # given a plan planned ahead
    plan = make_plan(world)
    other = make_plan(world, name="Other")
    planning.plan_ahead(until=date(2027, 6, 30), now=START)
    # when its rule changes
    with frozen_at(START):
        services.plan_update(
            actor=world.dispatcher,
            plan_id=plan.pk,
            data={"recurrence": {"frequency": "monthly", "monthly_by": "last_day"}},
        )
    # then its rows are gone (the next run plans them again), the other plan keeps its own
    plan.refresh_from_db()
    assert (plan.planned_until, planned(plan)) == (None, [])
    assert len(planned(other)) == 6
    # and a rename keeps them
    planning.plan_ahead(until=date(2027, 6, 30), now=START)
    with frozen_at(START):
        services.plan_update(actor=world.dispatcher, plan_id=plan.pk, data={"name": "Renamed"})
    assert len(planned(plan)) == 6


def test_a_new_holiday_drops_the_planning_calendar_of_the_plans_shifted_by_it(world):
    # given two plans on the office calendar, one shifting to working days, and one plan without a calendar
    cal = office_calendar(world)
    shifted = make_plan(world, name="Shifted", calendar_id=cal.pk, day_shift="previous")
    unshifted = make_plan(world, name="Unshifted", calendar_id=cal.pk, day_shift="none")
    planning.plan_ahead(until=date(2027, 6, 30), now=START)
    assert ("2027-03-31", "2027-03-31") in planned(shifted)
    # when 31 March becomes a holiday
    sla_services.holiday_add(actor=world.admin, calendar_id=cal.pk, day="2027-03-31", name="Closed")
    # then the shifted plan is planned again (with the new date), the other keeps its rows
    assert planned(shifted) == [] and len(planned(unshifted)) == 6
    planning.plan_ahead(until=date(2027, 6, 30), now=START)
    assert ("2027-03-31", "2027-03-30") in planned(shifted)


def test_the_generator_takes_a_planned_occurrence_when_its_creation_day_comes(world):
    plan = make_plan(world, open_policy="stack")
    planning.plan_ahead(until=date(2027, 4, 30), now=START)
    for when in (at(2027, 1, 24), at(2027, 2, 21)):  # 31 January and 28 February minus 7 days
        with frozen_at(when):
            generator.generate(now=when)
    keys = list(Occurrence.objects.filter(plan=plan).order_by("due_date").values_list("key", flat=True))
    assert keys == ["2027-01-31", "2027-02-28"]
    assert WorkOrder.objects.count() == 2
    # the forecast shows them once (as work orders), the later ones upcoming from the planning calendar
    items = selectors.forecast(actor=world.admin, date_from="2027-01-01", date_to="2027-04-30", now=when)
    assert [(i.key, i.kind) for i in items] == [
        ("2027-01-31", "overdue"),  # still open on 21 February
        ("2027-02-28", "generated"),
        ("2027-03-31", "upcoming"),
        ("2027-04-30", "upcoming"),
    ]


def test_a_paused_plan_is_not_planned(world):
    plan = make_plan(world)
    services.plan_set_active(actor=world.dispatcher, plan_id=plan.pk, active=False)
    assert planning.plan_ahead(until=date(2027, 6, 30), now=START).occurrences == 0
    assert planned(plan) == []


def test_planning_refuses_a_date_more_than_five_years_ahead(world):
    from fixflow.core.errors import DomainError

    with pytest.raises(DomainError) as err:
        planning.plan_ahead(until=date(2032, 2, 1), now=START)
    assert err.value.field == "until"
