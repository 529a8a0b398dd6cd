"""What technicians record on a work order: checklist, time, parts, planned materials, notes, signature."""

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fixflow.service.models import ChecklistAnswer, PartUsage, PlannedMaterial, TimeEntry

from .conftest import assert_problem, png_bytes


def _checklist(api, wo) -> dict[str, dict]:
    return {i["label"]: i for i in api("technician").get(f"/work-orders/{wo.pk}/checklist").json()["items"]}


# --- checklist ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "value", "stored"),
    [
        ("Check pressure", 1.75, "1.75"),
        ("Check pressure", "2", "2"),
        ("Flue gas test", "PASS", "pass"),
        ("Flue gas test", "fail", "fail"),
    ],
)
def test_checklist_answers_are_stored_in_the_items_kind(api, world, started_work_order, label, value, stored):
    # given
    item = _checklist(api, started_work_order)[label]
    # when
    r = api("technician").put(f"/work-orders/{started_work_order.pk}/checklist/{item['id']}", {"value": value})
    # then
    assert r.status_code == 200, r.content
    assert r.json()["value"] == stored
    assert r.json()["answered_by"] == {"id": world.technician.user_id, "full_name": "Tom Technician"}


def test_a_checkbox_is_ticked_with_true_and_cleared_with_null(api, world, started_work_order):
    # given
    item = ChecklistAnswer.objects.create(
        organization=world.org, work_order=started_work_order, label="Tidy up", kind="checkbox", position=9
    )
    path = f"/work-orders/{started_work_order.pk}/checklist/{item.pk}"
    # when
    ticked = api("technician").put(path, {"value": True})
    cleared = api("technician").put(path, {"value": None})
    # then
    assert (ticked.json()["value"], ticked.json()["is_answered"]) == ("done", True)
    assert (cleared.json()["value"], cleared.json()["answered_by"]) == ("", None)


def test_an_answer_of_the_wrong_kind_is_refused(api, started_work_order, nothing_written):
    # given
    item = _checklist(api, started_work_order)["Flue gas test"]
    with nothing_written():
        # when
        r = api("technician").put(f"/work-orders/{started_work_order.pk}/checklist/{item['id']}", {"value": "maybe"})
    # then
    assert_problem(r, 422, "validation_error", field="value", detail="pass or fail")
    assert ChecklistAnswer.objects.get(pk=item["id"]).value == ""


def test_a_checklist_item_of_another_work_order_is_a_404(api, world, started_work_order, template):
    # given
    other = (
        api("dispatcher")
        .post(
            "/work-orders", {"site_id": world.site.pk, "equipment_id": world.equipment.pk, "template_id": template.pk}
        )
        .json()
    )
    foreign_item = api("dispatcher").get(f"/work-orders/{other['id']}/checklist").json()["items"][0]
    # when
    r = api("technician").put(f"/work-orders/{started_work_order.pk}/checklist/{foreign_item['id']}", {"value": 1})
    # then
    assert_problem(r, 404, "not_found")


# --- planned materials ----------------------------------------------------------------------------


def test_the_office_plans_and_removes_materials(api, world, work_order, part):
    # given
    dispatcher = api("dispatcher")
    # when
    added = dispatcher.post(f"/work-orders/{work_order.pk}/planned-materials", {"part_id": part.pk, "quantity": 3})
    free = dispatcher.post(
        f"/work-orders/{work_order.pk}/planned-materials",
        {"description": "Copper pipe", "quantity": "2.5", "unit": "m"},
    )
    removed = dispatcher.delete(f"/planned-materials/{added.json()['id']}")
    listed = dispatcher.get(f"/work-orders/{work_order.pk}/planned-materials").json()["items"]
    # then
    assert added.status_code == 201 and added.json()["part"]["sku"] == "FLT-1"
    assert (free.json()["description"], free.json()["quantity"], free.json()["unit"]) == ("Copper pipe", "2.500", "m")
    assert removed.status_code == 204
    assert [m["description"] for m in listed] == ["Gasket", "Copper pipe"]  # the template's part stays


def test_technicians_do_not_plan_materials(api, started_work_order, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(
            f"/work-orders/{started_work_order.pk}/planned-materials", {"description": "Oil", "quantity": 1}
        )
    # then
    assert_problem(r, 403, "permission_denied")


def test_a_material_needs_a_part_or_a_description(api, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-orders/{work_order.pk}/planned-materials", {"quantity": 1})
    # then
    assert_problem(r, 422, "validation_error", field="part")
    assert PlannedMaterial.objects.filter(work_order=work_order).count() == 1


# --- time -----------------------------------------------------------------------------------------


def test_a_running_timer_cannot_be_started_twice(api, started_work_order, nothing_written):
    # given
    technician = api("technician")
    technician.post(f"/work-orders/{started_work_order.pk}/timer/start", {"kind": "travel"})
    with nothing_written():
        # when
        r = technician.post(f"/work-orders/{started_work_order.pk}/timer/start")
    # then
    assert_problem(r, 409, "conflict", detail="already running")
    assert TimeEntry.objects.get(work_order=started_work_order).kind == "travel"


def test_stopping_without_a_timer_is_a_409(api, started_work_order, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(f"/work-orders/{started_work_order.pk}/timer/stop")
    # then
    assert_problem(r, 409, "conflict", detail="no running timer")


def test_time_is_recorded_with_an_end_and_listed_for_me(api, world, started_work_order):
    # given
    start = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    technician = api("technician")
    # when
    r = technician.post(
        "/time-entries",
        {
            "work_order_id": started_work_order.pk,
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(minutes=95)).isoformat(),
            "note": "Pump dismantled",
        },
    )
    mine = technician.get("/time-entries", {"technician": "me", "work_order": started_work_order.pk}).json()
    theirs = technician.get("/time-entries", {"technician": world.technician2.user_id}).json()
    # then
    assert r.status_code == 201, r.content
    assert (r.json()["duration_minutes"], r.json()["kind"], r.json()["is_running"]) == (95, "labour", False)
    assert r.json()["technician"]["id"] == world.technician.user_id
    assert [e["id"] for e in mine["items"]] == [r.json()["id"]]
    assert theirs["items"] == []


def test_time_entries_are_filtered_by_start(api, world, started_work_order):
    # given
    now = timezone.now()
    for hours in (50, 26, 2):
        api("technician").post(
            "/time-entries",
            {
                "work_order_id": started_work_order.pk,
                "duration_minutes": 30,
                "started_at": (now - timedelta(hours=hours)).isoformat(),
            },
        )
    # when
    r = api("dispatcher").get(
        "/time-entries",
        {"started_from": (now - timedelta(hours=30)).isoformat(), "started_to": (now - timedelta(hours=1)).isoformat()},
    )
    # then
    assert len(r.json()["items"]) == 2


def test_a_technician_records_only_their_own_time(api, world, started_work_order, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(
            "/time-entries",
            {
                "work_order_id": started_work_order.pk,
                "technician_id": world.technician2.user_id,
                "started_at": (timezone.now() - timedelta(hours=1)).isoformat(),
                "duration_minutes": 10,
            },
        )
    # then
    assert_problem(r, 403, "permission_denied", detail="your own time")


def test_the_office_removes_a_time_entry_and_the_timeline_says_so(api, world, started_work_order):
    # given
    entry = (
        api("technician")
        .post(
            "/time-entries",
            {
                "work_order_id": started_work_order.pk,
                "started_at": (timezone.now() - timedelta(hours=1)).isoformat(),
                "duration_minutes": 10,
            },
        )
        .json()
    )
    # when
    r = api("dispatcher").delete(f"/time-entries/{entry['id']}")
    # then
    assert r.status_code == 204
    assert not TimeEntry.objects.filter(pk=entry["id"]).exists()
    kinds = [e["kind"] for e in api("dispatcher").get(f"/work-orders/{started_work_order.pk}/timeline").json()["items"]]
    assert kinds[-1] == "time_removed"


def test_time_needs_an_end_or_a_duration(api, started_work_order, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(
            "/time-entries", {"work_order_id": started_work_order.pk, "started_at": timezone.now().isoformat()}
        )
    # then
    assert_problem(r, 422, "validation_error", field="ended_at")


# --- parts ----------------------------------------------------------------------------------------


def test_a_part_from_the_catalogue_copies_its_cost_and_price(api, world, started_work_order, part):
    # when
    r = api("technician").post(
        "/part-usages", {"work_order_id": started_work_order.pk, "part_id": part.pk, "quantity": "1.5"}
    )
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["description"], body["quantity"], body["unit_cost"], body["unit_price"]) == (
        "Filter",
        "1.500",
        "8.0000",
        "12.5000",
    )
    assert body["created_by"]["id"] == world.technician.user_id
    assert r["Location"] == f"/api/v1/part-usages/{body['id']}"


def test_a_free_text_part_is_recorded_and_removed(api, world, started_work_order):
    # given
    technician = api("technician")
    usage = technician.post(
        "/part-usages",
        {"work_order_id": started_work_order.pk, "description": "Cable ties", "quantity": 10, "unit_cost": "0.05"},
    ).json()
    # when
    listed = technician.get("/part-usages", {"work_order": started_work_order.pk}).json()["items"]
    r = technician.delete(f"/part-usages/{usage['id']}")
    # then
    assert [u["description"] for u in listed] == ["Cable ties"]
    assert usage["part"] is None and usage["unit_cost"] == "0.0500"
    assert r.status_code == 204 and not PartUsage.objects.exists()


def test_a_zero_quantity_is_refused(api, started_work_order, part, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(
            "/part-usages", {"work_order_id": started_work_order.pk, "part_id": part.pk, "quantity": 0}
        )
    # then
    assert_problem(r, 422, "validation_error", field="quantity")


def test_parts_cannot_be_added_once_the_work_order_is_cancelled(api, work_order, part, nothing_written):
    # given
    api("dispatcher").post(f"/work-orders/{work_order.pk}/transitions", {"to": "cancelled", "reason": "dup"})
    with nothing_written():
        # when
        r = api("dispatcher").post("/part-usages", {"work_order_id": work_order.pk, "part_id": part.pk, "quantity": 1})
    # then
    assert_problem(r, 409, "conflict", detail="cancelled")


def test_a_technician_not_assigned_records_nothing(api, started_work_order, part, nothing_written):
    with nothing_written():
        # when
        r = api("technician2").post(
            "/part-usages", {"work_order_id": started_work_order.pk, "part_id": part.pk, "quantity": 1}
        )
    # then
    assert_problem(r, 403, "permission_denied", detail="assigned")


# --- notes ----------------------------------------------------------------------------------------


def test_a_note_is_added_and_read_back(api, world, started_work_order):
    # when
    r = api("technician").post("/notes", {"work_order_id": started_work_order.pk, "body": "Bearing noisy"})
    got = api("dispatcher").get(f"/notes/{r.json()['id']}")
    # then
    assert r.status_code == 201
    assert got.json() == {
        "id": r.json()["id"],
        "work_order_id": started_work_order.pk,
        "author": {"id": world.technician.user_id, "full_name": "Tom Technician"},
        "body": "Bearing noisy",
        "is_client_visible": False,
        "created_at": r.json()["created_at"],
    }


def test_an_internal_note_is_a_404_for_a_client_user(api, started_work_order):
    # given
    note = api("technician").post("/notes", {"work_order_id": started_work_order.pk, "body": "Internal"}).json()
    # when
    r = api("client_user").get(f"/notes/{note['id']}")
    # then
    assert_problem(r, 404, "not_found")


def test_an_empty_note_is_refused(api, started_work_order, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post("/notes", {"work_order_id": started_work_order.pk, "body": ""})
    # then
    assert_problem(r, 422, "validation_error", field="body")


# --- signature ------------------------------------------------------------------------------------


def test_the_clients_signature_is_stored(api, world, started_work_order):
    # given
    image = base64.b64encode(png_bytes(size=(300, 100), color=(255, 255, 255))).decode()
    # when
    r = api("technician").post(
        f"/work-orders/{started_work_order.pk}/signature",
        {"image_png_base64": f"data:image/png;base64,{image}", "signed_by_name": "Hans Kunde"},
    )
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["has_signature"], r.json()["signed_by_name"]) == (True, "Hans Kunde")
    assert r.json()["signed_at"] is not None


@pytest.mark.parametrize(
    ("image", "field"),
    [("%%% not base64 %%%", "image_png_base64"), (base64.b64encode(b"GIF89a....").decode(), "signature")],
)
def test_a_signature_that_is_not_a_png_is_refused(api, started_work_order, image, field, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(
            f"/work-orders/{started_work_order.pk}/signature", {"image_png_base64": image, "signed_by_name": "Hans"}
        )
    # then
    assert_problem(r, 422, "validation_error", field=field)
    started_work_order.refresh_from_db()
    assert not started_work_order.signature


def test_work_not_started_is_not_signed(api, work_order):
    # when
    r = api("dispatcher").post(
        f"/work-orders/{work_order.pk}/signature",
        {"image_png_base64": base64.b64encode(png_bytes()).decode(), "signed_by_name": "H"},
    )
    # then
    assert_problem(r, 409, "conflict", detail="started")


def test_decimal_quantities_keep_their_precision(api, started_work_order):
    # when
    r = api("technician").post(
        "/part-usages", {"work_order_id": started_work_order.pk, "description": "Oil", "quantity": "0.125", "unit": "l"}
    )
    # then
    assert PartUsage.objects.get(pk=r.json()["id"]).quantity == Decimal("0.125")
