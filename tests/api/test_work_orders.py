"""Work orders: list and filters, read with ETag, edit with If-Match, transitions, follow-ups, billing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fixflow.service.models import WorkOrder, WorkOrderEvent
from tests.factories import WorkOrderFactory

from .conftest import assert_problem


def _numbers(r) -> list[str]:
    assert r.status_code == 200, r.content
    return [wo["number"] for wo in r.json()["items"]]


@pytest.fixture
def board(world):
    """Six work orders in different states, for the list filters (numbers are their names)."""
    now = timezone.now()
    tech, tech2 = world.technician.user, world.technician2.user

    def wo(number, **kw):
        kw.setdefault("equipment", world.equipment)
        return WorkOrderFactory(organization=world.org, number=number, title=f"Job {number}", **kw)

    rows = {
        "A": wo("A", status="new", priority="low", lead_technician=None, scheduled_start=None),
        "B": wo(
            "B",
            status="planned",
            priority="high",
            lead_technician=tech,
            scheduled_start=now + timedelta(days=1),
            scheduled_end=now + timedelta(days=1, hours=1),
        ),
        "C": wo(
            "C",
            status="planned",
            priority="critical",
            lead_technician=tech2,
            scheduled_start=now - timedelta(days=1),
            scheduled_end=now - timedelta(hours=23),
        ),
        "D": wo(
            "D",
            status="in_progress",
            priority="normal",
            lead_technician=tech,
            type="preventive",
            scheduled_start=now - timedelta(hours=1),
        ),
        "E": wo(
            "E",
            status="closed",
            priority="high",
            lead_technician=tech2,
            billing_status="to_invoice",
            equipment=world.other_equipment,
            scheduled_start=now - timedelta(days=3),
        ),
        "F": wo(
            "F", status="cancelled", priority="normal", lead_technician=None, scheduled_start=now + timedelta(days=2)
        ),
    }
    rows["B"].helpers.add(tech2, through_defaults={"organization": world.org})
    return rows


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "planned,in_progress", "sort": "number"}, ["B", "C", "D"]),
        ({"status": ["new", "closed"], "sort": "number"}, ["A", "E"]),
        ({"priority": "high", "sort": "number"}, ["B", "E"]),
        ({"type": "preventive"}, ["D"]),
        ({"billing_status": "to_invoice"}, ["E"]),
        ({"technician": "me", "sort": "number"}, ["B", "D"]),
        ({"technician": "tech2", "sort": "number"}, ["B", "C", "E"]),
        ({"unassigned": "true", "open": "true"}, ["A"]),
        ({"overdue": "true"}, ["C"]),
        ({"client": "other_client"}, ["E"]),
        ({"site": "site", "open": "true", "sort": "number"}, ["A", "B", "C", "D"]),
        ({"equipment": "other_equipment"}, ["E"]),
        ({"scheduled_from": "now", "sort": "scheduled_start"}, ["B", "F"]),
        ({"scheduled_to": "now", "sort": "-scheduled_start"}, ["D", "C", "E"]),
        ({"q": "job c"}, ["C"]),
        ({"open": "true", "sort": "priority"}, ["C", "B", "D", "A"]),
        ({"sort": "-number"}, ["F", "E", "D", "C", "B", "A"]),
    ],
)
def test_the_work_order_list_filters_and_sorts(api, world, board, params, expected):
    # given
    values = {
        "tech2": world.technician2.user_id,
        "other_client": world.other_client.pk,
        "site": world.site.pk,
        "other_equipment": world.other_equipment.pk,
        "now": timezone.now().isoformat(),
    }
    query = {k: values.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    # when
    r = api("technician").get("/work-orders", query)
    # then
    assert _numbers(r) == expected


def test_the_cursor_walks_the_whole_list_without_gaps_or_repeats(api, world, board):
    # given
    seen, cursor = [], None
    # when
    while True:
        r = api("dispatcher").get(
            "/work-orders", {"limit": 4, "sort": "scheduled_start", **({"cursor": cursor} if cursor else {})}
        )
        seen += _numbers(r)
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    # then the NULL start comes last
    assert seen == ["E", "C", "D", "B", "F", "A"]


def test_a_work_order_is_read_with_its_version_as_etag(api, world, work_order):
    # when
    r = api("technician").get(f"/work-orders/{work_order.pk}")
    # then
    assert r.status_code == 200
    assert r["ETag"] == f'"{work_order.version}"'
    body = r.json()
    assert body["number"] == work_order.number
    assert body["site"] == {"id": world.site.pk, "name": "Pumpwerk Nord", "timezone": "Europe/Berlin"}
    assert body["equipment"]["name"] == "Pump P1"
    assert body["created_by"] == {"id": world.dispatcher.user_id, "full_name": "Dora Dispatcher"}
    assert body["helpers"] == [] and body["has_signature"] is False
    assert body["created_at"].endswith("Z")


def test_a_dispatcher_creates_a_work_order_with_helpers(api, world, template):
    # when
    r = api("dispatcher").post(
        "/work-orders",
        {
            "site_id": world.site.pk,
            "equipment_id": world.equipment.pk,
            "template_id": template.pk,
            "lead_technician_id": world.technician.user_id,
            "helper_ids": [world.technician2.user_id],
            "scheduled_start": "2030-01-10T09:00:00+01:00",
            "priority": "high",
            "reports_equipment_down": True,
        },
    )
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["title"] == "Boiler service"
    assert body["helpers"] == [{"id": world.technician2.user_id, "full_name": "Tina Technician"}]
    assert body["reports_equipment_down"] is True
    assert r["ETag"] == '"1"'
    assert api("dispatcher").get(f"/equipment/{world.equipment.pk}").json()["status"] == "down"


def test_site_level_work_needs_no_equipment_when_asked(api, world):
    # when
    r = api("dispatcher").post(
        "/work-orders", {"site_id": world.site.pk, "title": "Fence repair", "requires_equipment": False}
    )
    # then
    assert r.status_code == 201, r.content
    assert r.json()["equipment"] is None


def test_a_patch_with_the_current_etag_applies_and_returns_the_next_one(api, world, work_order):
    # given
    dispatcher = api("dispatcher")
    etag = dispatcher.get(f"/work-orders/{work_order.pk}")["ETag"]
    # when
    r = dispatcher.patch(
        f"/work-orders/{work_order.pk}", {"priority": "critical", "description": "Urgent"}, headers={"If-Match": etag}
    )
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["priority"], r.json()["description"]) == ("critical", "Urgent")
    assert r["ETag"] == f'"{work_order.version + 1}"'
    assert WorkOrderEvent.objects.filter(work_order=work_order, kind="updated").count() == 1


def test_the_assigned_technician_writes_resolution_notes_but_not_the_title(api, started_work_order, nothing_written):
    # given
    technician = api("technician")
    # when
    ok = technician.patch(f"/work-orders/{started_work_order.pk}", {"resolution_notes": "Seal replaced"})
    with nothing_written():
        refused = technician.patch(f"/work-orders/{started_work_order.pk}", {"title": "Mine now"})
    # then
    assert ok.status_code == 200 and ok.json()["resolution_notes"] == "Seal replaced"
    assert_problem(refused, 403, "permission_denied")


def test_a_null_flag_is_refused_rather_than_read_as_false(api, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").patch(f"/work-orders/{work_order.pk}", {"is_billable": None})
    # then
    assert_problem(r, 422, "validation_error", field="is_billable")
    assert WorkOrder.objects.get(pk=work_order.pk).is_billable is True


def test_the_transition_options_show_what_still_blocks_each_one(api, world, work_order):
    # when
    r = api("dispatcher").get(f"/work-orders/{work_order.pk}/transitions")
    # then
    assert r.status_code == 200
    options = {o["to"]: o for o in r.json()["items"]}
    assert set(options) == {"planned", "in_progress", "cancelled"}
    assert options["planned"]["is_possible"] is False
    assert [u["guard"] for u in options["planned"]["unmet"]] == ["has_assignee", "has_scheduled_start"]
    assert options["cancelled"] == {
        "to": "cancelled",
        "name": "cancel",
        "is_possible": True,
        "reason_required": True,
        "hold_reason_required": False,
        "unmet": [],
    }


def test_the_assigned_technician_is_offered_hold_and_complete(api, started_work_order):
    # when
    r = api("technician").get(f"/work-orders/{started_work_order.pk}/transitions")
    # then
    options = {o["to"]: o for o in r.json()["items"]}
    assert set(options) == {"on_hold", "completed"}
    assert options["on_hold"]["hold_reason_required"] is True and options["on_hold"]["is_possible"] is True
    assert [u["guard"] for u in options["completed"]["unmet"]] == [
        "has_resolution_notes",
        "required_checklist_answered",
    ]


def test_other_technicians_and_client_users_are_offered_nothing(api, started_work_order):
    # when
    for role in ("technician2", "client_user"):
        r = api(role).get(f"/work-orders/{started_work_order.pk}/transitions")
        # then
        assert r.json() == {"items": [], "next_cursor": None}


def test_on_hold_needs_a_reason_and_resume_clears_it(api, started_work_order):
    # given
    technician = api("technician")
    path = f"/work-orders/{started_work_order.pk}/transitions"
    # when
    missing = technician.post(path, {"to": "on_hold"})
    held = technician.post(path, {"to": "on_hold", "hold_reason": "waiting_for_parts", "reason": "Seal on order"})
    resumed = technician.post(path, {"to": "in_progress"})
    # then
    assert_problem(missing, 422, "validation_error", field="hold_reason")
    assert (held.json()["status"], held.json()["hold_reason"]) == ("on_hold", "waiting_for_parts")
    assert held.json()["status_reason"] == "Seal on order"
    assert (resumed.json()["status"], resumed.json()["hold_reason"]) == ("in_progress", "")


def _complete(api, wo) -> None:
    technician = api("technician")
    item = technician.get(f"/work-orders/{wo.pk}/checklist").json()["items"][0]
    technician.put(f"/work-orders/{wo.pk}/checklist/{item['id']}", {"value": 2})
    r = technician.post(f"/work-orders/{wo.pk}/transitions", {"to": "completed", "resolution_notes": "Done"})
    assert r.status_code == 200, r.content


def test_the_technician_who_completed_the_work_may_not_close_it(api, world, started_work_order, nothing_written):
    # given an admin, who may close work, completed it themselves after a reopen
    _complete(api, started_work_order)
    api("dispatcher").post(
        f"/work-orders/{started_work_order.pk}/transitions", {"to": "in_progress", "reason": "Recheck"}
    )
    admin = api("admin")
    r = admin.post(
        f"/work-orders/{started_work_order.pk}/transitions", {"to": "completed", "resolution_notes": "Rechecked"}
    )
    assert r.status_code == 200, r.content
    with nothing_written():
        # when
        r = admin.post(f"/work-orders/{started_work_order.pk}/transitions", {"to": "closed"})
    # then
    body = assert_problem(r, 409, "transition_guard_failed", detail="four-eyes")
    assert [u["guard"] for u in body["details"]["unmet"]] == ["four_eyes"]


def test_a_follow_up_is_created_for_closed_work(api, world, started_work_order):
    # given
    _complete(api, started_work_order)
    api("dispatcher").post(f"/work-orders/{started_work_order.pk}/transitions", {"to": "closed"})
    # when
    r = api("dispatcher").post(f"/work-orders/{started_work_order.pk}/follow-ups", {"reason": "Leaking again"})
    # then
    assert r.status_code == 201, r.content
    follow_up = r.json()
    assert follow_up["follow_up_of"] == {
        "id": started_work_order.pk,
        "number": started_work_order.number,
        "title": "Pump P1 leaking",
    }
    assert follow_up["title"] == "Follow-up: Pump P1 leaking" and follow_up["status"] == "new"
    assert r["Location"] == f"/api/v1/work-orders/{follow_up['id']}"


def test_open_work_gets_no_follow_up(api, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-orders/{work_order.pk}/follow-ups", {"reason": "Again"})
    # then
    assert_problem(r, 409, "conflict", detail="still new")


def test_closed_work_can_be_marked_no_charge_with_a_reason(api, world, started_work_order):
    # given
    _complete(api, started_work_order)
    api("dispatcher").post(f"/work-orders/{started_work_order.pk}/transitions", {"to": "closed"})
    # when
    missing = api("accountant").post(f"/work-orders/{started_work_order.pk}/billing", {"billing_status": "no_charge"})
    r = api("accountant").post(
        f"/work-orders/{started_work_order.pk}/billing", {"billing_status": "no_charge", "reason": "Warranty"}
    )
    # then
    assert_problem(missing, 422, "validation_error", field="reason")
    assert r.status_code == 200, r.content
    assert (r.json()["billing_status"], r.json()["no_charge_reason"]) == ("no_charge", "Warranty")


def test_billing_cannot_be_set_to_invoiced_by_hand(api, work_order):
    # when
    r = api("accountant").post(f"/work-orders/{work_order.pk}/billing", {"billing_status": "invoiced"})
    # then
    assert_problem(r, 422, "validation_error", field="billing_status")


def test_open_work_cannot_be_sent_to_invoicing(api, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("accountant").post(f"/work-orders/{work_order.pk}/billing", {"billing_status": "to_invoice"})
    # then
    assert_problem(r, 409, "conflict", detail="closed")


def test_the_timeline_is_paginated_oldest_first(api, world, started_work_order):
    # when
    first = api("dispatcher").get(f"/work-orders/{started_work_order.pk}/timeline", {"limit": 2}).json()
    rest = (
        api("dispatcher")
        .get(f"/work-orders/{started_work_order.pk}/timeline", {"limit": 50, "cursor": first["next_cursor"]})
        .json()
    )
    # then
    kinds = [e["kind"] for e in first["items"] + rest["items"]]
    assert kinds == ["created", "scheduled", "assigned", "transition", "transition"]
    assert first["items"][0]["actor"]["full_name"] == "Dora Dispatcher"
    assert rest["next_cursor"] is None
