"""Preventive maintenance and meters over HTTP: meters and readings, plans (CRUD, pause, resume, generate),
occurrences, the forecast, PM compliance and stale plans."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fixflow.assets import meters
from fixflow.assets.models import Meter, MeterReading
from fixflow.core.clock import frozen_at
from fixflow.core.models import ChangeRecord
from fixflow.maintenance import generator, services
from fixflow.maintenance.models import MaintenancePlan, Occurrence
from fixflow.service import services as wo_services
from tests.factories import CategoryFactory, EquipmentFactory, TemplateFactory

from .conftest import assert_problem

BERLIN = ZoneInfo("Europe/Berlin")


def at(y, m, d, h=12, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=BERLIN)


@pytest.fixture
def pm_template(world):
    return TemplateFactory(organization=world.org, name="Pump service", requires_signature=True)


def plan_body(world, template, **extra) -> dict:
    return {
        "name": "Monthly pump check",
        "template_id": template.pk,
        "equipment_id": world.equipment.pk,
        "anchor": "2027-01-31",
        "recurrence": {"frequency": "monthly", "monthly_by": "day"},
        "lead_days": 7,
        "lead_technician_id": world.technician.user_id,
        **extra,
    }


@pytest.fixture
def plan(world, pm_template):
    with frozen_at(at(2027, 1, 10)):
        return services.plan_create(actor=world.dispatcher, data=plan_body(world, pm_template))


@pytest.fixture
def meter(world):
    return meters.meter_create(
        actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Running hours", "unit": "h"}
    )


# --- meters ---------------------------------------------------------------------------------------------------


def test_a_meter_round_trip_create_get_patch_delete(api, world):
    # given
    dispatcher = api("dispatcher")
    # when it is created
    r = dispatcher.post(f"/equipment/{world.equipment.pk}/meters", {"name": "Odometer", "unit": "km"})
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    assert r["Location"] == f"/api/v1/meters/{body['id']}"
    assert r["ETag"] == '"1"'
    assert body["equipment"] == {"id": world.equipment.pk, "name": "Pump P1", "serial_number": ""}
    assert (body["kind"], body["usage_window_days"], body["lifetime_value"], body["usage_per_day"]) == (
        "continuous",
        30,
        None,
        None,
    )
    # when it is read, changed with its ETag, listed and deleted
    etag = dispatcher.get(f"/meters/{body['id']}")["ETag"]
    r = dispatcher.patch(f"/meters/{body['id']}", {"rollover_at": "99999.9"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.content
    assert (r.json()["rollover_at"], r["ETag"]) == ("99999.900", '"2"')
    listed = dispatcher.get(f"/equipment/{world.equipment.pk}/meters").json()
    assert [m["name"] for m in listed["items"]] == ["Odometer"]
    assert dispatcher.delete(f"/meters/{body['id']}").status_code == 204
    assert not Meter.objects.filter(pk=body["id"]).exists()


def test_a_stale_meter_patch_is_a_412(api, world, meter):
    # given
    api("admin").patch(f"/meters/{meter.pk}", {"unit": "hours"})
    # when
    r = api("dispatcher").patch(f"/meters/{meter.pk}", {"unit": "h"}, headers={"If-Match": '"1"'})
    # then
    assert_problem(r, 412, "stale_version")
    assert Meter.objects.get(pk=meter.pk).unit == "hours"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Hours"}, "unit"),
        ({"name": "Hours", "unit": "h", "kind": "odometer"}, "kind"),
        ({"name": "Hours", "unit": "h", "usage_window_days": 0}, "usage_window_days"),
        ({"name": "Hours", "unit": "h", "rollover_at": "-1"}, "rollover_at"),
    ],
)
def test_an_invalid_meter_is_refused_with_its_field(api, world, body, field):
    r = api("dispatcher").post(f"/equipment/{world.equipment.pk}/meters", body)
    assert_problem(r, 422, "validation_error", field=field)
    assert not Meter.objects.exists()


def test_a_meter_of_another_organization_does_not_exist(api, other_world):
    # given
    foreign = meters.meter_create(
        actor=other_world.admin, equipment_id=other_world.equipment.pk, data={"name": "Hours", "unit": "h"}
    )
    # when / then
    assert_problem(api("admin").get(f"/meters/{foreign.pk}"), 404, "not_found")
    assert_problem(api("admin").post(f"/meters/{foreign.pk}/readings", {"value": "5"}), 404, "not_found")
    assert_problem(
        api("admin").post(f"/equipment/{other_world.equipment.pk}/meters", {"name": "X", "unit": "h"}), 404, "not_found"
    )


def test_readings_are_recorded_listed_in_pages_and_give_a_usage_rate(api, world, meter):
    # given
    technician = api("technician")
    # when three readings are sent, ten days apart
    for day, value in ((1, "100"), (11, "150"), (21, "200")):
        with frozen_at(at(2027, 1, day)):
            r = technician.post(f"/meters/{meter.pk}/readings", {"value": value, "note": f"Day {day}"})
            assert r.status_code == 201, r.content
    # then
    body = r.json()
    assert (body["value"], body["lifetime"], body["kind"], body["source"]) == ("200.000", "200.000", "reading", "api")
    assert body["recorded_by"] == {"id": world.technician.user_id, "full_name": "Tom Technician"}
    first = technician.get(f"/meters/{meter.pk}/readings", {"limit": 2}).json()
    assert [i["value"] for i in first["items"]] == ["200.000", "150.000"]
    rest = technician.get(f"/meters/{meter.pk}/readings", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert ([i["value"] for i in rest["items"]], rest["next_cursor"]) == (["100.000"], None)
    with frozen_at(at(2027, 1, 21)):
        got = technician.get(f"/meters/{meter.pk}").json()
    assert (got["last_value"], got["lifetime_value"], got["usage_per_day"]) == ("200.000", "200.000", "5.000")


def test_a_reading_below_the_last_is_refused_unless_recorded_as_a_replacement(api, world, meter):
    # given
    technician = api("technician")
    technician.post(f"/meters/{meter.pk}/readings", {"value": "1000"})
    # when a lower reading is sent
    r = technician.post(f"/meters/{meter.pk}/readings", {"value": "10"})
    # then it is refused, saying how to record a replaced meter
    body = assert_problem(r, 422, "validation_error", field="value")
    assert "replacement" in body["detail"]
    assert MeterReading.objects.filter(meter=meter).count() == 1
    # when it is sent as a replacement, and the new meter moves on
    r = technician.post(f"/meters/{meter.pk}/readings", {"value": "10", "kind": "replacement"})
    assert (r.status_code, r.json()["lifetime"]) == (201, "1000.000")
    r = technician.post(f"/meters/{meter.pk}/readings", {"value": "60"})
    assert r.json()["lifetime"] == "1050.000"


def test_a_reading_needs_an_aware_time_not_in_the_future(api, world, meter):
    technician = api("technician")
    r = technician.post(f"/meters/{meter.pk}/readings", {"value": "1", "read_at": "2027-01-01T10:00:00"})
    assert_problem(r, 422, "validation_error", field="read_at")
    future = (datetime.now(BERLIN) + timedelta(days=1)).isoformat()
    r = technician.post(f"/meters/{meter.pk}/readings", {"value": "1", "read_at": future})
    assert_problem(r, 422, "validation_error", field="read_at")
    assert not MeterReading.objects.exists()


def test_a_requester_may_read_meters_but_not_record_readings(api, world, meter):
    assert api("requester").get(f"/meters/{meter.pk}").status_code == 200
    assert_problem(api("requester").post(f"/meters/{meter.pk}/readings", {"value": "1"}), 403, "permission_denied")


def test_a_meter_with_readings_cannot_be_deleted(api, world, meter):
    api("technician").post(f"/meters/{meter.pk}/readings", {"value": "1"})
    assert_problem(api("dispatcher").delete(f"/meters/{meter.pk}"), 409, "conflict")
    assert Meter.objects.filter(pk=meter.pk).exists()


def test_a_reading_past_a_meter_plans_threshold_generates_its_work_order(api, world, meter, pm_template):
    # given a plan every 500 h from 500 h, at 100 h now
    api("technician").post(f"/meters/{meter.pk}/readings", {"value": "100"})
    body = plan_body(world, pm_template, recurrence=None, meter_name="Running hours", meter_interval="500")
    body["meter_start"] = "500"
    assert api("dispatcher").post("/maintenance/plans", body).status_code == 201
    # when a reading jumps over three intervals
    api("technician").post(f"/meters/{meter.pk}/readings", {"value": "1750"})
    # then one work order, and the next threshold is the first one still ahead
    occurrences = Occurrence.objects.filter(plan__name="Monthly pump check")
    assert [o.key for o in occurrences] == ["m:500"]
    assert occurrences[0].work_order.requires_signature


# --- plans -------------------------------------------------------------------------------------------------------


def test_a_plan_round_trip_create_get_patch_delete(api, world, pm_template):
    # given
    dispatcher = api("dispatcher")
    # when it is created
    with frozen_at(at(2027, 1, 10)):
        r = dispatcher.post("/maintenance/plans", plan_body(world, pm_template))
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    assert r["Location"] == f"/api/v1/maintenance/plans/{body['id']}"
    assert r["ETag"] == '"1"'
    assert (
        body["summary"]
        == "every month on day 31 (or the last day of shorter months), 7 days ahead, skip if the last one is still open"
    )
    assert body["rule"] == "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=31,-1;BYSETPOS=1"
    assert body["next_due_dates"] == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]
    assert body["template"] == {"id": pm_template.pk, "name": "Pump service"}
    assert body["site"]["id"] == world.site.pk
    assert body["lead_technician"] == {"id": world.technician.user_id, "full_name": "Tom Technician"}
    assert (body["due_time"], body["mode"], body["open_policy"], body["is_active"]) == (
        "09:00:00",
        "fixed",
        "skip",
        True,
    )
    # when it is read and changed with its ETag
    with frozen_at(at(2027, 1, 10)):
        got = dispatcher.get(f"/maintenance/plans/{body['id']}")
        r = dispatcher.patch(
            f"/maintenance/plans/{body['id']}",
            {"recurrence": {"frequency": "monthly", "interval": 3, "monthly_by": "last_day"}, "lead_days": 14},
            headers={"If-Match": got["ETag"]},
        )
    # then
    assert r.status_code == 200, r.content
    assert r["ETag"] == '"2"'
    assert r.json()["summary"].startswith("every 3 months on the last day, 14 days ahead")
    assert r.json()["next_due_dates"][:3] == ["2027-01-31", "2027-04-30", "2027-07-31"]
    assert ChangeRecord.objects.filter(object_type="maintenance.maintenanceplan").count() == 2
    # when it is deleted (nothing was generated)
    assert dispatcher.delete(f"/maintenance/plans/{body['id']}").status_code == 204
    assert not MaintenancePlan.objects.filter(pk=body["id"]).exists()


def test_a_stale_plan_patch_is_a_412_and_changes_nothing(api, world, plan):
    # given
    api("admin").patch(f"/maintenance/plans/{plan.pk}", {"name": "Changed first"})
    # when
    r = api("dispatcher").patch(f"/maintenance/plans/{plan.pk}", {"name": "Mine"}, headers={"If-Match": '"1"'})
    # then
    assert_problem(r, 412, "stale_version")
    assert MaintenancePlan.objects.get(pk=plan.pk).name == "Changed first"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"mode": "floating", "recurrence": None}, "interval_days"),
        ({"recurrence": {"frequency": "fortnightly"}}, "recurrence.frequency"),
        ({"recurrence": {"frequency": "monthly", "month_day": 40}}, "month_day"),
        ({"recurrence": None, "rule": "FREQ=DAILY;COUNT=3"}, "rule"),
        ({"recurrence": None}, "rule"),
        ({"equipment_id": None}, "equipment"),
        ({"anchor": "2027-02-30"}, "anchor"),
        ({"end_date": "2026-12-31"}, "end_date"),
        ({"meter_name": "Hours"}, "meter_interval"),
        ({"open_policy": "ignore"}, "open_policy"),
        ({"lead_days": 400}, "lead_days"),
        ({"template_id": 987654}, "template"),
        # raw rules dateutil walks badly (a hang, a 500, 19 s of CPU) and an offset due time (review, issue 6)
        ({"recurrence": None, "rule": "FREQ=DAILY;INTERVAL=0"}, "rule"),
        ({"recurrence": None, "rule": "FREQ=WEEKLY;INTERVAL=-1"}, "rule"),
        ({"recurrence": None, "rule": "FREQ=MONTHLY;BYDAY=+9MO"}, "rule"),
        ({"recurrence": None, "rule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, "rule"),
        ({"due_time": "09:00+02:00"}, "due_time"),
        ({"recurrence": None, "meter_name": "Hours", "meter_interval": "6000000000000"}, "meter_interval"),
    ],
)
def test_an_invalid_plan_is_refused_with_its_field(api, world, pm_template, nothing_written, extra, field):
    with nothing_written():
        r = api("dispatcher").post("/maintenance/plans", plan_body(world, pm_template, **extra))
    assert_problem(r, 422, "validation_error", field=field)
    assert not MaintenancePlan.objects.exists()


def test_a_null_for_a_required_plan_field_is_refused_in_a_patch(api, world, plan):
    r = api("dispatcher").patch(f"/maintenance/plans/{plan.pk}", {"anchor": None})
    assert_problem(r, 422, "validation_error", field="anchor")


def test_plans_are_listed_and_filtered_by_site_equipment_and_active(api, world, plan, pm_template):
    # given a category plan at the other site and a paused plan on the other oven
    category = CategoryFactory(organization=world.org, name="Ovens")
    oven = EquipmentFactory(site=world.other_site, category=category, name="Oven 7")
    dispatcher = api("dispatcher")
    ovens = dispatcher.post(
        "/maintenance/plans",
        plan_body(
            world, pm_template, name="Ovens", equipment_id=None, site_id=world.other_site.pk, category_id=category.pk
        ),
    ).json()
    paused = dispatcher.post(
        "/maintenance/plans", plan_body(world, pm_template, name="Paused", equipment_id=world.other_equipment.pk)
    ).json()
    dispatcher.post(f"/maintenance/plans/{paused['id']}/pause")
    # when / then
    technician = api("technician")

    def names(params=None):
        return [p["name"] for p in technician.get("/maintenance/plans", params or {}).json()["items"]]

    assert names() == ["Monthly pump check", "Ovens", "Paused"]
    assert names({"site": world.other_site.pk}) == ["Ovens", "Paused"]
    assert names({"equipment": oven.pk}) == ["Ovens"]
    assert names({"active": "false"}) == ["Paused"]
    assert names({"q": "pump"}) == ["Monthly pump check"]
    page = technician.get("/maintenance/plans", {"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert ovens["category"] == {"id": category.pk, "name": "Ovens"} and ovens["equipment"] is None
    assert_problem(
        technician.get("/maintenance/plans", {"equipment": 987654}), 422, "validation_error", field="equipment"
    )


def test_a_technician_reads_plans_but_may_not_change_them(api, world, plan):
    assert api("technician").get(f"/maintenance/plans/{plan.pk}").status_code == 200
    r = api("technician").patch(f"/maintenance/plans/{plan.pk}", {"name": "Mine"})
    assert_problem(r, 403, "permission_denied")
    assert_problem(api("client_user").get(f"/maintenance/plans/{plan.pk}"), 403, "permission_denied")


def test_another_organizations_plan_does_not_exist(api, other_api, plan):
    assert_problem(other_api("dispatcher").get(f"/maintenance/plans/{plan.pk}"), 404, "not_found")
    assert_problem(other_api("dispatcher").post(f"/maintenance/plans/{plan.pk}/generate"), 404, "not_found")
    assert other_api("dispatcher").get("/maintenance/plans").json()["items"] == []


def test_pause_resume_and_generate_on_demand(api, world, plan):
    # given
    dispatcher = api("dispatcher")
    # when paused, generation is refused
    r = dispatcher.post(f"/maintenance/plans/{plan.pk}/pause")
    assert (r.status_code, r.json()["is_active"], r["ETag"]) == (200, False, '"2"')
    with frozen_at(at(2027, 1, 25)):
        assert_problem(dispatcher.post(f"/maintenance/plans/{plan.pk}/generate"), 409, "conflict")
        # when resumed and generated
        assert dispatcher.post(f"/maintenance/plans/{plan.pk}/resume").json()["is_active"] is True
        r = dispatcher.post(f"/maintenance/plans/{plan.pk}/generate")
        # then the January work order is created, and again gives nothing new
        assert r.status_code == 200, r.content
        assert r.json() == {
            "plans": 1,
            "targets": 1,
            "work_orders": 1,
            "skipped": 0,
            "missed": 0,
            "replaced": 0,
            "errors": [],
        }
        assert dispatcher.post(f"/maintenance/plans/{plan.pk}/generate").json()["work_orders"] == 0
        # with until: the work orders whose creation day (due − lead days) is by then; January is not late yet
        r = dispatcher.post(f"/maintenance/plans/{plan.pk}/generate", {"until": "2027-02-25"})
        assert (r.json()["work_orders"], r.json()["skipped"]) == (1, 0)
        assert [o.key for o in Occurrence.objects.filter(plan=plan)] == ["2027-01-31", "2027-02-28"]
        assert_problem(
            dispatcher.post(f"/maintenance/plans/{plan.pk}/generate", {"until": "2029-01-01"}),
            422,
            "validation_error",
            field="until",
        )
    # a plan with generated work orders keeps its history
    assert_problem(dispatcher.delete(f"/maintenance/plans/{plan.pk}"), 409, "conflict")


def test_a_plans_occurrences_are_listed_latest_first(api, world, plan):
    # given
    generator.generate(now=at(2027, 1, 25))
    generator.generate(now=at(2027, 2, 22))
    # when
    body = api("accountant").get(f"/maintenance/plans/{plan.pk}/occurrences").json()
    # then
    assert [(o["key"], o["status"], o["trigger"]) for o in body["items"]] == [
        ("2027-02-28", "skipped", "calendar"),
        ("2027-01-31", "generated", "calendar"),
    ]
    wo = body["items"][1]["work_order"]
    assert wo["status"] == "new" and wo["number"]
    assert body["items"][1]["due_at"] == "2027-01-31T08:00:00Z"
    only = api("accountant").get(f"/maintenance/plans/{plan.pk}/occurrences", {"status": "skipped"}).json()
    assert [o["key"] for o in only["items"]] == ["2027-02-28"]


# --- forecast, compliance, stale plans ---------------------------------------------------------------------------


def test_the_forecast_answers_generated_overdue_skipped_and_upcoming_occurrences(api, world, plan):
    # given
    generator.generate(now=at(2027, 1, 25))
    generator.generate(now=at(2027, 2, 22))
    # when
    with frozen_at(at(2027, 2, 22)):
        r = api("technician").get("/maintenance/forecast", {"date_from": "2027-01-01", "date_to": "2027-03-31"})
    # then
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["date_from"], body["date_to"]) == ("2027-01-01", "2027-03-31")
    assert [(i["due_date"], i["kind"]) for i in body["items"]] == [
        ("2027-01-31", "overdue"),
        ("2027-02-28", "skipped"),
        ("2027-03-31", "upcoming"),
    ]
    first = body["items"][0]
    assert first["work_order_number"] and first["work_order_status"] == "new"
    assert (first["plan_id"], first["equipment_name"], first["site_name"]) == (plan.pk, "Pump P1", "Pumpwerk Nord")
    assert body["items"][2]["due_at"] == "2027-03-31T07:00:00Z"  # 09:00 summer time


def test_the_forecast_defaults_to_90_days_and_filters_by_me(api, world, plan):
    # when
    with frozen_at(at(2027, 1, 10)):
        mine = api("technician").get("/maintenance/forecast", {"technician": "me"}).json()
        theirs = api("technician2").get("/maintenance/forecast", {"technician": "me"}).json()
    # then
    assert (mine["date_from"], mine["date_to"]) == ("2027-01-10", "2027-04-10")
    assert [i["due_date"] for i in mine["items"]] == ["2027-01-31", "2027-02-28", "2027-03-31"]
    assert theirs["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"technician": "tom"}, "technician"),
        ({"date_from": "2027-02-01", "date_to": "2027-01-01"}, "date_to"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2027-01-01", "date_to": "2040-01-01"}, "date_to"),
        ({"equipment": 987654}, "equipment"),
    ],
)
def test_a_forecast_with_bad_parameters_is_refused(api, world, params, field):
    assert_problem(api("dispatcher").get("/maintenance/forecast", params), 422, "validation_error", field=field)


def test_the_forecast_is_refused_to_client_users(api, world):
    assert_problem(api("client_user").get("/maintenance/forecast"), 403, "permission_denied")


def test_compliance_answers_on_time_over_due(api, world):
    # given January completed on time and February left open past its date
    template = TemplateFactory(organization=world.org, name="Quick check")
    with frozen_at(at(2027, 1, 10)):
        plan = services.plan_create(actor=world.dispatcher, data=plan_body(world, template, open_policy="stack"))
    generator.generate(now=at(2027, 1, 25))
    wo_id = Occurrence.objects.get(plan=plan, key="2027-01-31").work_order_id
    with frozen_at(at(2027, 1, 30)):
        wo_services.work_order_transition(actor=world.technician, work_order_id=wo_id, to="in_progress")
        wo_services.work_order_transition(
            actor=world.technician, work_order_id=wo_id, to="completed", resolution_notes="Impeller cleaned."
        )
    generator.generate(now=at(2027, 2, 22))
    # when
    with frozen_at(at(2027, 3, 5)):
        r = api("accountant").get("/maintenance/compliance", {"date_from": "2027-01-01", "date_to": "2027-03-31"})
        weekly = api("accountant").get(
            "/maintenance/compliance", {"date_from": "2027-01-25", "date_to": "2027-03-07", "group": "week"}
        )
        default = api("accountant").get("/maintenance/compliance")
    # then
    assert r.status_code == 200, r.content
    body = r.json()
    assert {k: body["totals"][k] for k in ("due", "on_time", "late", "open", "compliance_percent")} == {
        "due": 2,
        "on_time": 1,
        "late": 0,
        "open": 1,
        "compliance_percent": 50.0,
    }
    assert [(p["key"], p["due"], p["on_time"]) for p in body["by_period"]] == [
        ("2027-01", 1, 1),
        ("2027-02", 1, 0),
        ("2027-03", 0, 0),
    ]
    assert [(p["label"], p["due"]) for p in body["by_plan"]] == [("Monthly pump check", 2)]
    assert [p["key"] for p in weekly.json()["by_period"]][:2] == ["2027-W04", "2027-W05"]
    assert (default.json()["date_from"], default.json()["date_to"]) == ("2026-04-01", "2027-03-05")
    assert_problem(
        api("accountant").get("/maintenance/compliance", {"group": "fortnight"}), 422, "validation_error", field="group"
    )
    assert_problem(api("requester").get("/maintenance/compliance"), 403, "permission_denied")


def test_stale_plans_answers_plans_never_started(api, world, plan):
    # given three work orders generated (stack) and never started, all past due
    MaintenancePlan.objects.filter(pk=plan.pk).update(open_policy="stack")
    for now in (at(2027, 1, 25), at(2027, 2, 22), at(2027, 3, 25)):
        generator.generate(now=now)
    # when
    with frozen_at(at(2027, 4, 5)):
        body = api("dispatcher").get("/maintenance/stale-plans").json()
        two = api("dispatcher").get("/maintenance/stale-plans", {"last_n": 2}).json()
    # then
    assert body["last_n"] == 3
    assert [(p["plan_id"], [w["due_date"] for w in p["work_orders"]]) for p in body["items"]] == [
        (plan.pk, ["2027-03-31", "2027-02-28", "2027-01-31"])
    ]
    assert two["last_n"] == 2 and len(two["items"][0]["work_orders"]) == 2
    assert_problem(api("dispatcher").get("/maintenance/stale-plans", {"last_n": 0}), 422, "validation_error")


# --- query counts ---------------------------------------------------------------------------------------------


def test_the_plan_and_occurrence_lists_read_a_constant_number_of_queries(
    api, world, pm_template, django_assert_max_num_queries
):
    # given twenty plans with occurrences
    category = CategoryFactory(organization=world.org)
    for n in range(20):
        eq = EquipmentFactory(site=world.site, category=category)
        with frozen_at(at(2027, 1, 10)):
            services.plan_create(
                actor=world.dispatcher, data=plan_body(world, pm_template, name=f"Plan {n:02d}", equipment_id=eq.pk)
            )
    with frozen_at(at(2027, 1, 10)):
        busy = services.plan_create(
            actor=world.dispatcher,
            data=plan_body(
                world,
                pm_template,
                name="Busy",
                anchor="2027-01-01",
                recurrence={"frequency": "daily"},
                open_policy="stack",
            ),
        )
    generator.generate(now=at(2027, 1, 25))
    caller = api("dispatcher")
    caller.get("/me")  # the token is looked up once before counting
    # when / then
    with django_assert_max_num_queries(6):
        r = caller.get("/maintenance/plans", {"limit": 50})
    assert len(r.json()["items"]) == 21
    with django_assert_max_num_queries(6):
        r = caller.get(f"/maintenance/plans/{busy.pk}/occurrences")
    assert len(r.json()["items"]) > 10


def test_a_meters_reading_list_reads_a_constant_number_of_queries(api, world, meter, django_assert_max_num_queries):
    for value in range(1, 31):
        meters.reading_record(actor=world.technician, meter_id=meter.pk, value=value)
    caller = api("dispatcher")
    with django_assert_max_num_queries(6):
        r = caller.get(f"/meters/{meter.pk}/readings")
    assert len(r.json()["items"]) == 30
    assert Decimal(r.json()["items"][0]["value"]) == 30
