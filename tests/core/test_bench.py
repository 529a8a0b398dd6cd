"""``fixflow bench`` at a tiny size: the seeders write what the engine would, the SLA figures are real.

Timings are not asserted (a loaded test machine says nothing about them); what is checked is that
each measurement measures the right thing: due dates that are correct, a scan that moves exactly
the clocks whose threshold passed, and a seeded organization that is removed completely.
"""

from collections import Counter

import pytest

from fixflow import bench
from fixflow.assets.models import Meter
from fixflow.core.models import Organization, User
from fixflow.maintenance import services
from fixflow.maintenance.models import MaintenancePlan, Occurrence, PlannedDates
from fixflow.service.models import WorkOrder
from fixflow.sla.models import SlaClock, SlaNotification, SlaPause, SlaPolicy, WorkOrderSla

pytestmark = pytest.mark.django_db


def test_due_dates_are_computed_per_calendar_kind_and_each_is_checked():
    # when
    report = bench.bench_sla_due(200, log=lambda _msg: None)
    # then
    assert set(report["calendars"]) == {"business", "split_shift", "plant_24x5", "24x7"}
    for name, result in report["calendars"].items():
        assert result["checked"] == 200 and result["mismatches"] == 0, name
        assert result["add_business_minutes_per_s"] > 0 and result["clock_with_pauses_per_s"] > 0
        assert result["starts_near_a_dst_change"] > 0, name
    assert report["calendars"]["business"]["holidays"] >= 27  # three years of Berlin public holidays
    assert report["slowest_per_s"] == min(
        min(r["add_business_minutes_per_s"], r["clock_with_pauses_per_s"]) for r in report["calendars"].values()
    )


def test_the_scan_benchmark_moves_exactly_the_clocks_whose_threshold_passed_then_removes_everything():
    # when
    report = bench.bench_sla_scan(300, gap_minutes=240, log=lambda _msg: None)
    # then
    assert report["open_work_orders"] == 300 and report["clocks"] == 600
    assert report["expected"]["at_risk"] + report["expected"]["breached"] > 0
    assert report["changed_as_expected"] is True
    assert report["notifications_recorded"] == report["first"]["changed"]
    assert report["second_same_instant"]["at_risk"] == report["second_same_instant"]["breached"] == 0
    assert sum(report["states_before"].values()) == sum(report["states_after"].values()) == 600
    assert report["seed"]["pauses"] > 0 and set(report["states_before"]) >= {"pending", "paused", "met", "breached"}
    assert not Organization.objects.filter(name=bench.SLA_ORG_NAME).exists()
    assert not User.objects.filter(email__endswith="@" + bench.SLA_EMAIL_DOMAIN).exists()
    assert not SlaClock.objects.exists() and not SlaNotification.objects.exists() and not WorkOrder.objects.exists()


def test_the_seeded_sla_rows_are_shaped_as_the_engine_makes_them():
    # given
    from datetime import UTC, datetime, timedelta

    judged_at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    # when
    seeded = bench.seed_sla(200, judged_at=judged_at, log=lambda _msg: None)
    # then
    org = seeded.organization_id
    work_orders = WorkOrder.objects.filter(organization_id=org)
    assert work_orders.count() == 200 == WorkOrderSla.objects.filter(organization_id=org).count()
    assert set(work_orders.values_list("status", flat=True)) == set(bench.SLA_STATUSES)
    clocks = SlaClock.objects.filter(organization_id=org)
    assert Counter(clocks.values_list("target", flat=True)) == {"response": 200, "resolution": 200}
    for c in clocks.filter(state__in=["pending", "at_risk"]):
        assert c.paused_since is None and c.due_at > judged_at and c.at_risk_at < c.due_at
    for c in clocks.filter(state="paused"):
        assert c.due_at is None and SlaPause.objects.filter(clock=c, ended_at=None).exists()
    # the summary is the worst current state and the earliest open due
    for wo in work_orders.prefetch_related("sla_clocks"):
        states = {c.state for c in wo.sla_clocks.all()}
        assert wo.sla_state in states
    policies = set(WorkOrderSla.objects.filter(organization_id=org).values_list("policy_name", flat=True))
    assert policies == set(SlaPolicy.objects.filter(organization_id=org).values_list("name", flat=True))
    bench.purge(org, email_domain=bench.SLA_EMAIL_DOMAIN)
    assert not SlaPolicy.objects.filter(organization_id=org).exists()


def test_the_http_benchmark_organization_gets_sla_policies_and_is_removed_with_them():
    # when
    seeded = bench.seed(60, log=lambda _msg: None)
    # then
    org = seeded.organization_id
    assert WorkOrder.objects.filter(organization_id=org).count() == 60
    assert set(SlaPolicy.objects.filter(organization_id=org).values_list("name", flat=True)) == {
        "Standard",
        "Critical equipment",
        "Plant sites",
        "Key account",
    }
    assert set(WorkOrder.objects.filter(organization_id=org).values_list("sla_state", flat=True)) == {""}
    bench.purge(org)
    assert not Organization.objects.filter(pk=org).exists()
    assert not SlaPolicy.objects.filter(organization_id=org).exists()


# --- preventive maintenance ---------------------------------------------------------------------


def test_the_pm_benchmark_generates_a_year_then_finds_nothing_to_do_and_removes_everything():
    # when
    report = bench.bench_pm(60, forecast_repeats=2, log=lambda _msg: None)
    # then: the work orders due within their lead time, made once; the rest of the year planned ahead (rule 9)
    generated = report["generate"]
    assert report["plans"] == 60 and generated["work_orders"] > 0 and generated["planned_ahead"] > 300
    assert generated["occurrences"] == generated["by_status"]["generated"] == generated["work_orders"]
    assert generated["events"] == generated["work_order_slas"] == generated["work_orders"]
    assert generated["sla_clocks"] == 2 * generated["work_orders"]
    assert generated["checklist_answers"] == 4 * generated["work_orders"]
    assert set(generated["by_trigger"]) >= {"calendar", "floating"}
    assert report["second_run"]["unchanged"] is True
    for run in ("second_run", "periodic_run", "full_check_run"):
        summary = report[run]["summary"]
        assert "60 plans, 0 work orders, 0 skipped, 0 missed, 0 occurrences planned ahead, 0 errors." in summary, run
    # the forecast of the site: every occurrence upcoming before; the same ones after, read from the planning
    # calendar, those within their lead time generated
    before, after = report["forecast_before"], report["forecast_after"]
    assert before["items"] > 0 and set(before["by_kind"]) == {"upcoming"}
    assert after["items"] == before["items"] and set(after["by_kind"]) <= {"upcoming", "generated"}
    assert not Organization.objects.filter(name=bench.PM_ORG_NAME).exists()
    assert not User.objects.filter(email__endswith="@" + bench.PM_EMAIL_DOMAIN).exists()
    assert not WorkOrder.objects.exists() and not Occurrence.objects.exists()
    assert not PlannedDates.objects.exists()


def test_the_seeded_plans_are_plans_the_plan_form_would_save():
    # given
    seeded = bench.seed_pm(120, log=lambda _msg: None)
    # then
    plans = MaintenancePlan.objects.filter(organization_id=seeded.organization_id).select_related("site", "equipment")
    assert plans.count() == 120 and set(seeded.kinds) == set(bench.PM_MIX)
    for plan in plans:
        services._validate_triggers(plan)  # raises on a plan the services would refuse
        plan.full_clean()
        assert plan.equipment.site_id == plan.site_id
    metered = plans.exclude(meter_name="")
    assert metered.exists() and all(m.meter_start is not None for m in metered)
    assert Meter.objects.filter(organization_id=seeded.organization_id).count() == seeded.meters
    bench.purge(seeded.organization_id, email_domain=bench.PM_EMAIL_DOMAIN)
    assert not MaintenancePlan.objects.exists()


def test_the_command_passes_every_benchmark_option(monkeypatch):
    # given
    from fixflow import cli

    seen = {}
    monkeypatch.setattr(cli, "_django", lambda *args, **kwargs: None)
    monkeypatch.setattr(bench, "run", lambda **kwargs: seen.update(kwargs) or 0)
    # when
    code = cli.main(
        [
            "bench",
            "--pm-plans",
            "100000",
            "--pm-only",
            "--sla-open-work-orders",
            "500",
            "--sla-only",
            "--due-computations",
            "10",
            "--scan-gap-minutes",
            "5",
            "--billing-work-orders",
            "10000",
            "--billing-clients",
            "500",
            "--billing-only",
            "--field-app",
            "--field-commands",
            "1000",
            "--field-only",
            "--live-subscribers",
            "100",
            "--live-only",
        ]
    )
    # then
    assert code == 0
    assert seen == {
        "work_orders": 100_000,
        "requests": 300,
        "keep": False,
        "output": None,
        "sla_open_work_orders": 500,
        "sla_only": True,
        "due_computations": 10,
        "scan_gap_minutes": 5,
        "pm_plans": 100_000,
        "pm_only": True,
        "billing_work_orders": 10_000,
        "billing_clients": 500,
        "billing_only": True,
        "field_app": True,
        "field_commands": 1000,
        "field_only": True,
        "live_subscribers": 100,
        "live_only": True,
    }
