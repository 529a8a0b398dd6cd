"""Every kind of refusal is an application/problem+json with a stable code, and writes nothing."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fixflow.core.services import api_token_create, api_token_revoke
from fixflow.service.models import WorkOrder, WorkOrderEvent

from .conftest import BASE, assert_problem


def test_a_body_that_is_not_json_is_a_400_problem(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post("/work-requests", raw='{"site_id": 1, "title": ')
    # then
    assert_problem(r, 400, "malformed_request", detail="not valid JSON")


def test_a_wrongly_typed_field_is_a_422_naming_the_field(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post("/work-orders", {"site_id": "the big one", "title": "Leak"})
    # then
    body = assert_problem(r, 422, "validation_error", field="site_id")
    assert body["errors"][0]["field"] == "site_id"


def test_a_missing_required_field_is_a_422_saying_it_is_required(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("requester").post("/work-requests", {"site_id": world.site.pk})
    # then
    assert_problem(r, 422, "validation_error", field="title", detail="required")


def test_a_status_that_does_not_exist_is_a_422(api, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-orders/{work_order.pk}/transitions", {"to": "done"})
    # then
    assert_problem(r, 422, "validation_error", field="to")


def test_an_instant_without_a_utc_offset_is_refused(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(
            "/work-orders",
            {
                "site_id": world.site.pk,
                "equipment_id": world.equipment.pk,
                "title": "Leak",
                "scheduled_start": "2026-03-02T08:00:00",
            },
        )
    # then
    assert_problem(r, 422, "validation_error", field="scheduled_start")


def test_an_unknown_site_in_the_body_is_a_422_naming_it(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post("/work-orders", {"site_id": 987654, "title": "Leak"})
    # then
    assert_problem(r, 422, "validation_error", field="site", detail="Unknown site")


def test_an_unknown_template_is_a_422_and_creates_no_work_order(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(
            "/work-orders", {"site_id": world.site.pk, "equipment_id": world.equipment.pk, "template_id": 987654}
        )
    # then
    assert_problem(r, 422, "validation_error", field="template")


def test_equipment_at_another_site_is_refused(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(
            "/work-orders", {"site_id": world.site.pk, "equipment_id": world.other_equipment.pk, "title": "Leak"}
        )
    # then
    assert_problem(r, 422, "validation_error", field="equipment")


@pytest.mark.parametrize(
    "path",
    [
        "/work-orders/987654",
        "/work-requests/987654",
        "/templates/987654",
        "/time-entries/987654",
        "/part-usages/987654",
        "/notes/987654",
        "/attachments/987654",
        "/equipment/987654",
        "/parts/987654",
    ],
)
def test_an_unknown_id_in_the_path_is_a_404_problem(api, world, path):
    # when
    r = api("admin").get(path)
    # then
    assert_problem(r, 404, "not_found")


def test_a_stale_if_match_on_patch_is_a_412_and_changes_nothing(api, work_order, nothing_written):
    # given someone else changed the work order after we read version 1
    dispatcher = api("dispatcher")
    dispatcher.patch(f"/work-orders/{work_order.pk}", {"priority": "high"})
    with nothing_written():
        # when
        r = dispatcher.patch(f"/work-orders/{work_order.pk}", {"title": "Our edit"}, headers={"If-Match": '"1"'})
    # then
    body = assert_problem(r, 412, "stale_version", detail="changed by someone else")
    assert body["details"] == {"current_version": 2}
    work_order.refresh_from_db()
    assert (work_order.title, work_order.priority, work_order.version) == ("Pump P1 leaking", "high", 2)


def test_an_if_match_that_is_not_an_etag_is_a_422(api, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").patch(f"/work-orders/{work_order.pk}", {"title": "x"}, headers={"If-Match": "yesterday"})
    # then
    assert_problem(r, 422, "validation_error", field="If-Match")


def test_a_stale_if_match_on_a_transition_is_a_412(api, world, started_work_order, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(
            f"/work-orders/{started_work_order.pk}/transitions",
            {"to": "on_hold", "hold_reason": "waiting_for_parts"},
            headers={"If-Match": '"1"'},
        )
    # then
    assert_problem(r, 412, "stale_version")
    started_work_order.refresh_from_db()
    assert started_work_order.status == "in_progress"


def test_a_transition_missing_from_the_table_is_a_409_invalid_transition(api, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-orders/{work_order.pk}/transitions", {"to": "closed"})
    # then
    body = assert_problem(r, 409, "invalid_transition", field="to", detail="cannot become closed")
    assert body["details"] == {"from": "new", "to": "closed"}
    assert WorkOrder.objects.get(pk=work_order.pk).status == "new"


def test_completing_with_unmet_guards_is_a_409_listing_every_unmet_guard(api, started_work_order, nothing_written):
    # given the work order has no resolution notes and the required checklist item is unanswered
    events = WorkOrderEvent.objects.filter(work_order=started_work_order).count()
    with nothing_written():
        # when
        r = api("technician").post(f"/work-orders/{started_work_order.pk}/transitions", {"to": "completed"})
    # then
    body = assert_problem(r, 409, "transition_guard_failed", field="resolution_notes")
    assert [u["guard"] for u in body["details"]["unmet"]] == ["has_resolution_notes", "required_checklist_answered"]
    assert "Check pressure" in body["details"]["unmet"][1]["message"]
    started_work_order.refresh_from_db()
    assert (started_work_order.status, started_work_order.completed_at) == ("in_progress", None)
    assert WorkOrderEvent.objects.filter(work_order=started_work_order).count() == events


def test_resolution_notes_sent_with_a_refused_completion_are_not_saved(api, started_work_order, nothing_written):
    with nothing_written():
        # when the notes come along but the checklist still blocks completion
        r = api("technician").post(
            f"/work-orders/{started_work_order.pk}/transitions", {"to": "completed", "resolution_notes": "All done"}
        )
    # then
    body = assert_problem(r, 409, "transition_guard_failed", field="checklist")
    assert [u["guard"] for u in body["details"]["unmet"]] == ["required_checklist_answered"]
    started_work_order.refresh_from_db()
    assert started_work_order.resolution_notes == ""


def test_cancelling_without_a_reason_is_a_422_on_the_reason(api, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-orders/{work_order.pk}/transitions", {"to": "cancelled"})
    # then
    assert_problem(r, 422, "validation_error", field="reason")


def test_a_technician_may_not_create_work_orders(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(
            "/work-orders", {"site_id": world.site.pk, "equipment_id": world.equipment.pk, "title": "Leak"}
        )
    # then
    assert_problem(r, 403, "permission_denied", detail="Technician")


def test_a_technician_not_assigned_may_not_start_the_work(api, world, work_order, nothing_written):
    # given the work order is planned for another technician
    api("dispatcher").patch(f"/work-orders/{work_order.pk}", {"lead_technician_id": world.technician2.user_id})
    with nothing_written():
        # when
        r = api("technician").post(f"/work-orders/{work_order.pk}/transitions", {"to": "in_progress"})
    # then
    assert_problem(r, 403, "permission_denied", detail="assigned")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "colour"}, "sort"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 500}, "limit"),
        ({"status": "new,finished"}, "status"),
        ({"technician": "somebody"}, "technician"),
        ({"client": "x"}, "client"),
    ],
)
def test_bad_list_parameters_are_a_422_naming_the_parameter(api, world, params, field):
    # when
    r = api("dispatcher").get("/work-orders", params)
    # then
    assert_problem(r, 422, "validation_error", field=field)


def test_a_request_without_credentials_is_a_401_with_a_bearer_challenge(client, world):
    # when
    r = client.get(f"{BASE}/work-orders", secure=True)
    # then
    assert_problem(r, 401, "not_authenticated", detail="Bearer")
    assert r["WWW-Authenticate"].startswith("Bearer")


def test_an_anonymous_post_is_a_401_not_a_csrf_failure(world, nothing_written):
    # given a client that enforces CSRF like a browser, without a session
    client = Client(enforce_csrf_checks=True)
    with nothing_written():
        # when
        r = client.post(
            f"{BASE}/work-requests",
            {"site_id": world.site.pk, "title": "x"},
            content_type="application/json",
            secure=True,
        )
    # then
    assert_problem(r, 401, "not_authenticated")


def test_a_revoked_token_no_longer_works(client, world):
    # given
    token, raw = api_token_create(actor=world.dispatcher, name="old script")
    api_token_revoke(actor=world.dispatcher, token_id=token.pk)
    # when
    r = client.get(f"{BASE}/me", secure=True, headers={"Authorization": f"Bearer {raw}"})
    # then
    assert_problem(r, 401, "not_authenticated")


def test_time_in_the_future_is_refused(api, started_work_order, nothing_written):
    with nothing_written():
        # when
        r = api("technician").post(
            "/time-entries",
            {
                "work_order_id": started_work_order.pk,
                "duration_minutes": 30,
                "started_at": (timezone.now() + timedelta(days=1)).isoformat(),
            },
        )
    # then
    assert_problem(r, 422, "validation_error", field="started_at")
