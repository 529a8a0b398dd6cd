"""Work requests: report, triage (reject, duplicate, convert)."""

from fixflow.service.models import WorkOrder, WorkRequest

from .conftest import assert_problem


def _request(api, world, title="Leak", role="requester", **extra) -> dict:
    r = api(role).post("/work-requests", {"site_id": world.site.pk, "title": title, **extra})
    assert r.status_code == 201, r.content
    return r.json()


def test_a_request_made_through_the_api_records_who_and_from_where(api, world):
    # when
    body = _request(api, world, description="Water under the pump", equipment_id=world.equipment.pk)
    # then
    assert body["source"] == "api" and body["status"] == "new"
    assert body["requester"] == {"id": world.requester.user_id, "full_name": "Rita Requester"}
    assert body["client"]["id"] == world.client.pk
    assert body["equipment"] == {"id": world.equipment.pk, "name": "Pump P1", "serial_number": ""}
    assert body["reference"] == f"REQ-{body['id']}"
    assert body["work_order"] is None


def test_a_client_user_cannot_report_for_another_clients_site(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("client_user").post("/work-requests", {"site_id": world.other_site.pk, "title": "Not ours"})
    # then
    assert_problem(r, 422, "validation_error", field="site")


def test_a_dispatcher_rejects_a_request_with_a_reason(api, world):
    # given
    req = _request(api, world)
    # when
    r = api("dispatcher").post(f"/work-requests/{req['id']}/reject", {"reason": "Not our equipment"})
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["rejection_reason"]) == ("rejected", "Not our equipment")
    assert r.json()["decided_by"]["id"] == world.dispatcher.user_id
    assert api("requester").get(f"/work-requests/{req['id']}").json()["status"] == "rejected"


def test_a_rejected_request_cannot_be_converted(api, world, nothing_written):
    # given
    req = _request(api, world)
    api("dispatcher").post(f"/work-requests/{req['id']}/reject", {"reason": "No"})
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-requests/{req['id']}/convert", {})
    # then
    assert_problem(r, 409, "invalid_transition", detail="already rejected")


def test_rejecting_needs_a_reason(api, world, nothing_written):
    # given
    req = _request(api, world)
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-requests/{req['id']}/reject", {"reason": ""})
    # then
    assert_problem(r, 422, "validation_error", field="reason")
    assert WorkRequest.objects.get(pk=req["id"]).status == "new"


def test_a_request_is_marked_as_a_duplicate_of_another(api, world):
    # given
    first, second = _request(api, world, "Leak"), _request(api, world, "Leak again", role="client_user")
    # when
    r = api("dispatcher").post(f"/work-requests/{second['id']}/duplicate", {"duplicate_of_id": first["id"]})
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["duplicate_of_id"]) == ("duplicate", first["id"])


def test_a_request_cannot_duplicate_itself(api, world, nothing_written):
    # given
    req = _request(api, world)
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-requests/{req['id']}/duplicate", {"duplicate_of_id": req["id"]})
    # then
    assert_problem(r, 422, "validation_error", field="duplicate_of")


def test_converting_plans_the_work_in_one_step(api, world, template):
    # given
    req = _request(api, world, equipment_id=world.equipment.pk, suggested_priority="critical")
    # when
    r = api("dispatcher").post(
        f"/work-requests/{req['id']}/convert",
        {
            "template_id": template.pk,
            "title": "Replace the seal",
            "lead_technician_id": world.technician.user_id,
            "scheduled_start": "2030-03-02T08:00:00+01:00",
            "type": "corrective",
        },
    )
    # then
    assert r.status_code == 201, r.content
    wo = r.json()
    assert (wo["title"], wo["priority"], wo["status"]) == ("Replace the seal", "critical", "new")
    assert wo["scheduled_start"] == "2030-03-02T07:00:00Z"
    assert wo["scheduled_end"] == "2030-03-02T08:30:00Z"  # the template's 90 minutes
    assert wo["lead_technician"]["id"] == world.technician.user_id
    assert wo["template"] == {"id": template.pk, "name": "Boiler service"}
    detail = api("requester").get(f"/work-requests/{req['id']}").json()
    assert detail["status"] == "accepted"
    assert detail["work_order"] == {"id": wo["id"], "number": wo["number"], "title": "Replace the seal"}


def test_converting_twice_is_refused_and_creates_one_work_order(api, world, template, nothing_written):
    # given
    req = _request(api, world, equipment_id=world.equipment.pk)
    api("dispatcher").post(f"/work-requests/{req['id']}/convert", {"template_id": template.pk})
    with nothing_written():
        # when
        r = api("dispatcher").post(f"/work-requests/{req['id']}/convert", {"template_id": template.pk})
    # then
    assert_problem(r, 409, "invalid_transition")
    assert WorkOrder.objects.filter(request_id=req["id"]).count() == 1


def test_requesters_may_not_triage(api, world, nothing_written):
    # given
    req = _request(api, world)
    with nothing_written():
        # when
        r = api("requester").post(f"/work-requests/{req['id']}/convert", {})
    # then
    assert_problem(r, 403, "permission_denied")


def test_requests_are_filtered_by_status_source_and_text(api, world):
    # given
    keep = _request(api, world, "Heating cold")
    dropped = _request(api, world, "Broken window")
    api("dispatcher").post(f"/work-requests/{dropped['id']}/reject", {"reason": "Glazier"})
    dispatcher = api("dispatcher")
    # when
    new = dispatcher.get("/work-requests", {"status": "new"}).json()["items"]
    both = dispatcher.get("/work-requests", {"status": ["new", "rejected"]}).json()["items"]
    found = dispatcher.get("/work-requests", {"q": "heating", "source": "api", "site": world.site.pk}).json()["items"]
    # then
    assert [r["id"] for r in new] == [keep["id"]]
    assert [r["id"] for r in both] == [dropped["id"], keep["id"]]
    assert [r["id"] for r in found] == [keep["id"]]


def test_an_unknown_request_status_filter_is_a_422(api, world):
    # when
    r = api("dispatcher").get("/work-requests", {"status": "open"})
    # then
    assert_problem(r, 422, "validation_error", field="status")
