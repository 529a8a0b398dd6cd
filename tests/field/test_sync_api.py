"""The field API through HTTP: the bundle a phone keeps, parts search, the sync batch (token and session with
CSRF), devices, and the held queue; bad input is a problem+json naming the field."""

import base64
import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fixflow.assets import meters
from fixflow.core import clock
from fixflow.field.models import SyncCommand
from fixflow.field.sync import MAX_COMMANDS
from fixflow.service import services
from fixflow.service.models import TimeEntry, WorkOrderNote
from tests.api.conftest import Api, assert_problem, session_client

from .conftest import at, closed_work_order, planned_work_order, png, started_work_order


@pytest.fixture
def api(world):
    cache = {}

    def make(role: str) -> Api:
        if role not in cache:
            cache[role] = Api(getattr(world, role))
        return cache[role]

    return make


def command(wo, type_="note.add", payload=None, *, seq=1, when=None, **extra) -> dict:
    return {
        "mutation_id": str(uuid.uuid4()),
        "seq": seq,
        "type": type_,
        "work_order_id": getattr(wo, "pk", wo),
        "payload": payload if payload is not None else {"body": "Seal worn"},
        "occurred_at": (when or clock.now()).isoformat(),
        **extra,
    }


def batch(*commands, device_id=None) -> dict:
    return {"device_id": str(device_id or uuid.uuid4()), "commands": list(commands)}


# --- sync ----------------------------------------------------------------------------------------------


def test_a_batch_is_answered_per_command_in_the_order_received(world, api):
    # given a started work order and a closed one
    wo = started_work_order(world)
    closed = closed_work_order(world)
    body = batch(
        command(wo, "timer.start", {}, seq=1, when=at("10:00")),
        command(wo, "note.add", {"body": "Bearing noisy"}, seq=2, when=at("10:05")),
        command(closed, "note.add", {"body": "Late"}, seq=3, when=at("10:06")),
        command(wo, "transition", {"to": "closed"}, seq=4, when=at("10:07")),
    )
    # when
    with clock.frozen_at(at("11:00")):
        response = api("technician").post("/field/sync", body)
    # then
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["server_time"].startswith("2026-03-02T10:00:00")
    assert [(r["mutation_id"], r["status"]) for r in data["results"]] == [
        (body["commands"][0]["mutation_id"], "applied"),
        (body["commands"][1]["mutation_id"], "applied"),
        (body["commands"][2]["mutation_id"], "held"),
        (body["commands"][3]["mutation_id"], "refused"),
    ]
    timer, note, late, refused = data["results"]
    assert timer["result"]["time_entry_id"] == TimeEntry.objects.get(work_order=wo).pk
    assert note["work_order"] == {"id": wo.pk, "status": "in_progress", "version": wo.version + 2}
    assert late["work_order"]["status"] == "closed" and closed.number in late["message"]
    assert refused["result"]["code"] == "invalid_transition" and refused["message"]


def test_a_replayed_batch_returns_the_stored_answers(world, api):
    wo = started_work_order(world)
    body = batch(command(wo, seq=1), command(wo, seq=2))
    with clock.frozen_at(at("11:00")):
        first = api("technician").post("/field/sync", body).json()
        second = api("technician").post("/field/sync", body).json()
    assert first["results"] == second["results"]
    assert WorkOrderNote.objects.filter(work_order=wo).count() == 2


def test_the_phone_syncs_with_its_session_and_the_csrf_header(world):
    wo = started_work_order(world)
    client, token = session_client(world.technician.user)
    body = json.dumps(batch(command(wo)))
    # without the header: refused, nothing applied
    refused = client.post("/api/v1/field/sync", body, content_type="application/json", secure=True)
    assert_problem(refused, 403, "permission_denied")
    assert not SyncCommand.objects.exists()
    # with it
    ok = client.post(
        "/api/v1/field/sync", body, content_type="application/json", secure=True, headers={"X-CSRFToken": token}
    )
    assert ok.status_code == 200 and ok.json()["results"][0]["status"] == "applied"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"commands": []}, "device_id"),
        ({"device_id": "phone-1", "commands": []}, "device_id"),
        ({"device_id": str(uuid.uuid4())}, "commands"),
        ({"device_id": str(uuid.uuid4()), "commands": [{"seq": 1, "type": "note.add"}]}, "commands.0.mutation_id"),
        (
            {"device_id": str(uuid.uuid4()), "commands": [{"mutation_id": "x", "seq": 1, "type": "note.add"}]},
            "commands.0.mutation_id",
        ),
        (
            {
                "device_id": str(uuid.uuid4()),
                "commands": [{"mutation_id": str(uuid.uuid4()), "seq": "one", "type": "t"}],
            },
            "commands.0.seq",
        ),
        (
            {
                "device_id": str(uuid.uuid4()),
                "commands": [{"mutation_id": str(uuid.uuid4()), "seq": 1, "type": "note.add", "payload": "text"}],
            },
            "commands.0.payload",
        ),
    ],
)
def test_a_malformed_batch_is_a_problem_naming_the_field(world, api, body, field):
    response = api("technician").post("/field/sync", body)
    assert_problem(response, 422, "validation_error", field=field)
    assert not SyncCommand.objects.exists()


def test_too_many_commands_at_once_are_refused(world, api):
    wo = started_work_order(world)
    body = batch(*(command(wo, seq=i + 1) for i in range(MAX_COMMANDS + 1)))
    response = api("technician").post("/field/sync", body)
    assert_problem(response, 422, "validation_error", field="commands")
    assert not SyncCommand.objects.exists()


def test_a_body_that_is_not_json_is_a_problem(world, api):
    response = api("technician").post("/field/sync", raw="{not json")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/problem+json")


def test_people_outside_the_field_may_not_sync(world, api):
    wo = started_work_order(world)
    for role in ("accountant", "requester", "client_user"):
        assert_problem(api(role).post("/field/sync", batch(command(wo))), 403, "permission_denied")
    assert not SyncCommand.objects.exists()


# --- bundle and parts ------------------------------------------------------------------------------------


def test_the_bundle_holds_the_technicians_work_with_what_is_needed_offline(world, api, part_with_barcode):
    # given the technician's started work order with a recorded photo, signature and meter, and others' work
    wo = started_work_order(world)
    earlier = closed_work_order(world, when=at("08:00") - timedelta(days=3))
    meter = meters.meter_create(actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Hours", "unit": "h"})
    services.signature_capture(actor=world.technician, work_order_id=wo.pk, image_png=png(), signed_by_name="Hans")
    services.part_usage_create(actor=world.technician, work_order_id=wo.pk, part_id=part_with_barcode.pk, quantity=1)
    not_mine = planned_work_order(world, title="Someone else's")
    services.work_order_update(
        actor=world.dispatcher, work_order_id=not_mine.pk, data={"lead_technician_id": world.technician2.user_id}
    )
    # when
    with clock.frozen_at(at("11:00")):
        response = api("technician").get("/field/bundle", {"days": 3})
    # then
    assert response.status_code == 200, response.content
    data = response.json()
    ids = [w["id"] for w in data["work_orders"]]
    assert wo.pk in ids and not_mine.pk not in ids
    assert earlier.pk in ids  # closed three days ago: done this week
    item = next(w for w in data["work_orders"] if w["id"] == wo.pk)
    assert item["client"]["name"] == "Stadtwerke" and item["site"]["name"] == "Pumpwerk Nord"
    assert item["equipment"]["name"] == "Pump P1"
    assert {h["id"] for h in item["equipment"]["history"]} == {earlier.pk, not_mine.pk}
    assert [c["label"] for c in item["checklist"]] == ["Check pressure"]
    assert {m["guard"] for m in item["missing"]} == {"has_resolution_notes", "required_checklist_answered"}
    assert {t["to"] for t in item["transitions"]} == {"on_hold", "completed"}
    assert item["signature"]["signed_by_name"] == "Hans" and item["signature"]["url"].endswith("signature.png")
    assert item["part_usages"][0]["description"] == part_with_barcode.name
    assert [m["id"] for m in item["meters"]] == [meter.pk]
    assert item["version"] == wo.version + 2
    assert data["held"] == []


def test_the_bundle_keeps_work_done_this_week_and_drops_older(world, api):
    recent = closed_work_order(world, when=at("08:00") - timedelta(days=2))
    old = closed_work_order(world, when=at("08:00") - timedelta(days=9))
    with clock.frozen_at(at("11:00")):
        ids = [w["id"] for w in api("technician").get("/field/bundle").json()["work_orders"]]
    assert recent.pk in ids and old.pk not in ids


def test_work_scheduled_beyond_the_horizon_waits(world, api):
    near = planned_work_order(world, when=at("08:00") + timedelta(days=1))
    far = planned_work_order(world, when=at("08:00") + timedelta(days=6))
    with clock.frozen_at(at("11:00")):
        three = [w["id"] for w in api("technician").get("/field/bundle").json()["work_orders"]]
        seven = [w["id"] for w in api("technician").get("/field/bundle", {"days": 7}).json()["work_orders"]]
    assert near.pk in three and far.pk not in three and far.pk in seven


@pytest.mark.parametrize("days", ["0", "32", "x"])
def test_a_bad_horizon_is_a_problem_naming_days(world, api, days):
    assert_problem(api("technician").get("/field/bundle", {"days": days}), 422, "validation_error", field="days")


def test_the_bundle_reads_a_fixed_number_of_queries(world, api):
    started_work_order(world)
    with clock.frozen_at(at("11:00")):
        api("technician").get("/field/bundle")  # the token's first use is recorded once
    with clock.frozen_at(at("11:00")), CaptureQueriesContext(connection) as one:
        api("technician").get("/field/bundle")
    for _ in range(4):
        started_work_order(world)
    with clock.frozen_at(at("11:00")), CaptureQueriesContext(connection) as five:
        assert len(api("technician").get("/field/bundle").json()["work_orders"]) == 5
    assert len(five) == len(one)


def test_the_bundle_lists_what_the_office_decided(world, api):
    wo = closed_work_order(world)
    body = batch(command(wo, "note.add", {"body": "Late"}))
    with clock.frozen_at(at("12:00")):
        api("technician").post("/field/sync", body)
    item = SyncCommand.objects.get()
    api("dispatcher").post(f"/field/held/{item.pk}/reject", {"reason": "Not needed"})
    held = api("technician").get("/field/bundle").json()["held"]
    assert [(h["mutation_id"], h["status"], h["resolution"]) for h in held] == [
        (str(item.mutation_id), "refused", "rejected")
    ]
    assert held[0]["message"].endswith("Not needed")


@pytest.fixture
def part_with_barcode(world):
    from tests.factories import PartFactory

    return PartFactory(organization=world.org, sku="SEAL-77", name="Shaft seal kit", barcode="4006381333931")


def test_parts_are_found_by_name_sku_or_barcode(world, api, part_with_barcode, other_world):
    from tests.factories import PartFactory

    PartFactory(organization=world.org, sku="FLT-1", name="Filter")
    PartFactory(organization=other_world.org, sku="SEAL-99", name="Shaft seal (foreign)")
    for q in ("shaft", "seal-77", "4006381333931"):
        found = api("technician").get("/field/parts", {"q": q}).json()
        assert [p["id"] for p in found] == [part_with_barcode.pk], q
    assert len(api("technician").get("/field/parts").json()) == 2
    assert_problem(api("accountant").get("/field/parts", {"q": "x"}), 403, "permission_denied")


# --- devices and the held queue ---------------------------------------------------------------------------


def test_technicians_see_their_own_devices_and_the_office_all(world, api):
    wo = started_work_order(world)
    phone, tablet = uuid.uuid4(), uuid.uuid4()
    api("technician").post("/field/sync", batch(command(wo), device_id=phone))
    api("technician2").post("/field/sync", batch(command(wo), device_id=tablet))
    own = api("technician").get("/field/devices").json()["items"]
    everyone = api("dispatcher").get("/field/devices").json()["items"]
    assert [d["device_id"] for d in own] == [str(phone)]
    assert sorted(d["device_id"] for d in everyone) == sorted([str(phone), str(tablet)])
    assert own[0]["user"]["name"] == "Tom Technician" and own[0]["last_seq"] == 1


def test_the_office_lists_accepts_and_rejects_held_items(world, api):
    wo = closed_work_order(world)
    body = batch(
        command(wo, "time.add", {"started_at": at("10:00").isoformat(), "duration_minutes": 30}, seq=1),
        command(wo, "note.add", {"body": "Also cleaned the filter"}, seq=2),
    )
    with clock.frozen_at(at("12:00")):
        api("technician").post("/field/sync", body)
    listed = api("dispatcher").get("/field/held").json()["items"]
    assert [i["summary"] for i in listed] == [listed[0]["summary"], "Also cleaned the filter"]
    assert listed[0]["hold_reason"] == "closed" and listed[0]["technician"]["name"] == "Tom Technician"
    assert listed[0]["work_order"]["number"] == wo.number
    accepted = api("dispatcher").post(f"/field/held/{listed[0]['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["resolution"] == "accepted"
    assert_problem(api("dispatcher").post(f"/field/held/{listed[0]['id']}/accept"), 409, "conflict")
    assert_problem(
        api("dispatcher").post(f"/field/held/{listed[1]['id']}/reject", {"reason": ""}),
        422,
        "validation_error",
        "reason",
    )
    rejected = api("admin").post(f"/field/held/{listed[1]['id']}/reject", {"reason": "Duplicate note"})
    assert rejected.json()["resolution"] == "rejected"
    assert api("dispatcher").get("/field/held").json()["items"] == []
    assert_problem(api("technician").get("/field/held"), 403, "permission_denied")
    assert_problem(api("dispatcher").post("/field/held/999999/accept"), 404, "not_found")


def test_a_signature_arrives_through_the_api(world, api):
    wo = started_work_order(world)
    payload = {"signer_name": "Hans Meier", "data_base64": "data:image/png;base64," + base64.b64encode(png()).decode()}
    with clock.frozen_at(at("12:00")):
        data = api("technician").post("/field/sync", batch(command(wo, "signature.add", payload))).json()
    assert data["results"][0]["status"] == "applied"
    assert data["results"][0]["result"]["url"].endswith(f"/work-orders/{wo.pk}/signature.png")
