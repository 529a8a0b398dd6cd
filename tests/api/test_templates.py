"""Work order templates with their checklist and parts."""

from fixflow.core.models import ChangeRecord
from fixflow.service.models import WorkOrderTemplate

from .conftest import assert_problem


def _template_body(part) -> dict:
    return {
        "name": "Annual boiler service",
        "type": "preventive",
        "default_priority": "low",
        "estimated_duration_minutes": 120,
        "requires_signature": True,
        "checklist": [{"label": "Clean burner", "is_required": True}, {"label": "CO reading (ppm)", "kind": "number"}],
        "parts": [{"part_id": part.pk, "quantity": "1.5"}],
    }


def test_a_dispatcher_creates_a_template_with_its_checklist_and_parts(api, world, part):
    # when
    r = api("dispatcher").post("/templates", _template_body(part))
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    assert [(i["label"], i["kind"], i["is_required"]) for i in body["checklist"]] == [
        ("Clean burner", "checkbox", True),
        ("CO reading (ppm)", "number", False),
    ]
    assert body["parts"][0]["part"] == {"id": part.pk, "sku": "FLT-1", "name": "Filter", "unit": "pc"}
    assert body["parts"][0]["quantity"] == "1.500"
    assert r["Location"] == f"/api/v1/templates/{body['id']}"
    assert ChangeRecord.objects.get(object_type="service.workordertemplate").after["checklist"][0]["label"] == (
        "Clean burner"
    )


def test_a_template_patch_replaces_the_checklist_when_given(api, world, template):
    # given
    dispatcher = api("dispatcher")
    etag = dispatcher.get(f"/templates/{template.pk}")["ETag"]
    # when
    r = dispatcher.patch(
        f"/templates/{template.pk}", {"checklist": [{"label": "Only step"}]}, headers={"If-Match": etag}
    )
    # then
    assert r.status_code == 200, r.content
    assert [i["label"] for i in r.json()["checklist"]] == ["Only step"]
    assert len(r.json()["parts"]) == 1  # parts were not sent, so they stay
    assert r["ETag"] == '"2"'


def test_a_stale_template_patch_is_a_412(api, world, template, nothing_written):
    # given
    api("dispatcher").patch(f"/templates/{template.pk}", {"description": "v2"})
    with nothing_written():
        # when
        r = api("dispatcher").patch(f"/templates/{template.pk}", {"name": "Mine"}, headers={"If-Match": '"1"'})
    # then
    assert_problem(r, 412, "stale_version")
    assert WorkOrderTemplate.objects.get(pk=template.pk).name == "Boiler service"


def test_a_template_with_an_unknown_part_is_refused(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post("/templates", {"name": "T", "parts": [{"part_id": 987654, "quantity": 1}]})
    # then
    assert_problem(r, 422, "validation_error", field="parts")


def test_a_checklist_item_without_a_label_is_refused(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post("/templates", {"name": "T", "checklist": [{"label": ""}]})
    # then
    assert_problem(r, 422, "validation_error", field="checklist.0.label")


def test_a_technician_reads_templates_but_may_not_write_them(api, world, template, nothing_written):
    # when
    listed = api("technician").get("/templates")
    with nothing_written():
        refused = api("technician").post("/templates", {"name": "Mine"})
    # then
    assert [t["name"] for t in listed.json()["items"]] == ["Boiler service"]
    assert_problem(refused, 403, "permission_denied")


def test_client_users_do_not_see_templates(api, world, template):
    # when
    r = api("client_user").get(f"/templates/{template.pk}")
    # then
    assert_problem(r, 403, "permission_denied")


def test_templates_are_filtered_by_activity_and_name(api, world, template, part):
    # given
    dispatcher = api("dispatcher")
    dispatcher.post("/templates", {"name": "Old inspection", "type": "inspection", "is_active": False})
    # when
    active = dispatcher.get("/templates", {"is_active": "true"}).json()["items"]
    inspections = dispatcher.get("/templates", {"type": "inspection"}).json()["items"]
    found = dispatcher.get("/templates", {"q": "boiler"}).json()["items"]
    # then
    assert [t["name"] for t in active] == ["Boiler service"]
    assert [t["name"] for t in inspections] == ["Old inspection"]
    assert [t["name"] for t in found] == ["Boiler service"]
