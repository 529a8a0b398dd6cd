"""``fixflow manage generate_pm`` and the worker's periodic generation job."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from fixflow.core import scheduler
from fixflow.core.clock import frozen_at
from fixflow.maintenance import services
from fixflow.maintenance.jobs import GENERATE_INTERVAL_SECONDS
from fixflow.maintenance.models import Occurrence, PlannedDates
from fixflow.maintenance.tasks import generate_pm
from fixflow.service.models import WorkOrder

from ..factories import TemplateFactory

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 1, 24, 6, tzinfo=BERLIN)


def make_plan(world, name="Pump check", **data):
    template = data.pop("template", None) or TemplateFactory(organization=world.org)
    payload = {
        "name": name,
        "template_id": template.pk,
        "equipment_id": world.equipment.pk,
        "anchor": "2026-01-31",
        "recurrence": {"frequency": "monthly"},
        "lead_days": 7,
        "open_policy": "stack",
        **data,
    }
    with frozen_at(NOW):
        return services.plan_create(actor=world.dispatcher, data=payload)


def generate_pm_command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with frozen_at(NOW):
        call_command("generate_pm", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_creates_what_is_due_and_plans_the_rest_up_to_the_date(world):
    # given two plans, 7 days ahead, on 24 January
    first = make_plan(world)
    second = make_plan(world, name="Filter change", recurrence={"frequency": "monthly", "monthly_by": "last_day"})
    # when
    out, err = generate_pm_command("--until", "2026-04-30")
    # then the work order of 31 January is made (its creation day has come), the later ones are planned (rule 9)
    assert keys(first) == keys(second) == ["2026-01-31"]
    assert planned(first) == planned(second) == ["2026-02-28", "2026-03-31", "2026-04-30"]  # rule 2
    assert "Generated and planned up to 2026-04-30" in out
    assert out.rstrip().endswith("2 plans, 2 work orders, 0 skipped, 0 missed, 6 occurrences planned ahead, 0 errors.")
    assert err.rstrip().endswith("[##############################] 2/2 plans planned")
    assert "\r[" in err
    # when it runs again
    out, _ = generate_pm_command("--until", "2026-04-30", "--no-progress")
    # then nothing new
    assert "2 plans, 0 work orders, 0 skipped, 0 missed, 0 occurrences planned ahead, 0 errors." in out
    assert WorkOrder.objects.count() == 2
    assert sum(len(r.days) for r in PlannedDates.objects.all()) == 6


def keys(plan) -> list[str]:
    return list(Occurrence.objects.filter(plan=plan).order_by("due_date").values_list("key", flat=True))


def planned(plan) -> list[str]:
    return sorted(day for row in PlannedDates.objects.filter(plan=plan) for day, _due in row.days)


def test_the_command_without_a_date_plans_up_to_each_horizon(world):
    plan = make_plan(world, horizon_days=70)
    out, _ = generate_pm_command("--no-progress")
    assert keys(plan) == ["2026-01-31"]  # 24 January: 31 January minus 7 lead days is today
    assert planned(plan) == ["2026-02-28", "2026-03-31"]  # up to 4 April
    assert "Generated and planned up to the horizon" in out and "1 work orders" in out


def test_the_planned_work_order_is_made_when_its_creation_day_comes(world):
    # given a plan planned ahead
    plan = make_plan(world)
    generate_pm_command("--until", "2026-03-31", "--no-progress")
    # when the generator runs on 21 February (28 February minus 7 days)
    out, err = StringIO(), StringIO()
    with frozen_at(datetime(2026, 2, 21, 6, tzinfo=BERLIN)):
        call_command("generate_pm", "--no-progress", "--until", "2026-03-31", stdout=out, stderr=err)
    # then the planned occurrence became a work order
    assert keys(plan) == ["2026-01-31", "2026-02-28"]


def test_the_command_for_one_plan_leaves_the_others(world):
    plan = make_plan(world)
    other = make_plan(world, name="Other")
    out, _ = generate_pm_command("--until", "2026-02-28", "--plan", str(plan.pk), "--no-progress")
    assert keys(plan) == ["2026-01-31"]
    assert planned(plan) == ["2026-02-28"]
    assert keys(other) == [] and planned(other) == []
    assert "1 plans, 1 work orders" in out


def test_the_command_for_one_organization_leaves_the_others(world, other_world):
    # given a plan in each organization
    ours = make_plan(world)
    template = TemplateFactory(organization=other_world.org)
    with frozen_at(NOW):
        theirs = services.plan_create(
            actor=other_world.dispatcher,
            data={
                "name": "Theirs",
                "template_id": template.pk,
                "equipment_id": other_world.equipment.pk,
                "anchor": "2026-01-31",
                "recurrence": {"frequency": "monthly"},
            },
        )
    # when
    generate_pm_command("--until", "2026-02-28", "--organization", str(world.org.pk), "--no-progress")
    # then
    assert keys(ours) == ["2026-01-31"] and planned(ours) == ["2026-02-28"]
    assert keys(theirs) == [] and planned(theirs) == []


def test_a_paused_plan_asked_for_is_reported_and_not_generated(world):
    plan = make_plan(world)
    services.plan_set_active(actor=world.dispatcher, plan_id=plan.pk, active=False)
    out, err = generate_pm_command("--until", "2026-02-28", "--plan", str(plan.pk), "--no-progress")
    assert f"Paused, not generated: plan {plan.pk}." in err
    assert "0 plans, 0 work orders" in out
    assert keys(plan) == [] and planned(plan) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "31.01.2027"], "is not a date such as 2027-01-31"),
        (["--plan", "999999"], "No such maintenance plan: 999999."),
        (["--organization", "999999"], "No such organization: 999999."),
    ],
)
def test_bad_arguments_are_refused(world, args, message):
    with pytest.raises(CommandError, match=message):
        generate_pm_command(*args)
    assert not WorkOrder.objects.exists()


def test_errors_are_listed_and_fail_the_command_after_the_other_plans(world):
    # given a plan whose template was retired, and a sound one
    broken_template = TemplateFactory(organization=world.org)
    make_plan(world, name="Broken", template=broken_template)
    fine = make_plan(world, name="Fine")
    broken_template.is_active = False
    broken_template.save(update_fields=["is_active"])
    # when
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc, frozen_at(NOW):
        call_command("generate_pm", "--no-progress", stdout=out, stderr=err)
    # then
    assert "2 plans, 1 work orders, 0 skipped, 0 missed," in str(exc.value)
    assert str(exc.value).endswith(" 1 errors.")
    assert "Error: Broken / Pump P1:" in err.getvalue()
    assert keys(fine) == ["2026-01-31"]


# ---------------------------------------------------------------------------------------------
# the periodic job


def test_the_generator_job_is_registered_every_15_minutes(db):
    jobs = {j.name: j for j in scheduler.jobs()}
    assert GENERATE_INTERVAL_SECONDS == 900
    assert jobs["maintenance.generate"].interval_seconds == 900
    assert jobs["maintenance.generate"].resolve() is generate_pm


def test_the_generator_task_generates_what_is_due(world):
    plan = make_plan(world)
    with frozen_at(NOW):
        result = generate_pm.call()
    assert result == {
        "plans": 1,
        "targets": 1,
        "work_orders": 1,
        "skipped": 0,
        "missed": 0,
        "replaced": 0,
        "errors": [],
        "planned_occurrences": 11,  # February to December: the default horizon is a year
    }
    assert keys(plan) == ["2026-01-31"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_due_generator_job(world):
    # given a plan due for generation
    plan = make_plan(world)
    job = {j.name: j for j in scheduler.jobs()}["maintenance.generate"]
    # when the scheduler claims the job and the worker runs once
    with frozen_at(NOW):
        assert scheduler.run_due(worker_id="pm-test", now=NOW, job_list=[job]) == ["maintenance.generate"]
        assert scheduler.run_worker(once=True, with_scheduler=False, worker_id="pm-test") == 0
    # then the task ran and made the work order
    result = DBTaskResult.objects.get(task_path="fixflow.maintenance.tasks.generate_pm")
    assert result.status == "SUCCESSFUL"
    assert result.return_value["work_orders"] == 1
    assert keys(plan) == ["2026-01-31"]
