"""Configuration changes leave a ChangeRecord with who, when, and the state before and after."""

import pytest

from fixflow.assets.services import category_create, category_delete, category_update
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import ChangeRecord
from fixflow.core.services import membership_create, membership_update, organization_update
from fixflow.service import services

from ..factories import PartFactory


def _records(object_type: str) -> list[ChangeRecord]:
    return list(ChangeRecord.objects.filter(object_type=object_type).order_by("id"))


def test_creating_a_template_records_it_with_its_checklist_and_parts(world):
    # given
    part = PartFactory(organization=world.org)
    # when
    t = services.template_create(
        actor=world.dispatcher,
        data={
            "name": "Boiler service",
            "estimated_duration_minutes": 90,
            "checklist": [{"label": "Check flue", "is_required": True}],
            "parts": [{"part_id": part.pk, "quantity": 2}],
        },
    )
    # then
    [record] = _records("service.workordertemplate")
    assert (record.action, record.object_id, record.actor, record.before) == (
        "create",
        str(t.pk),
        world.dispatcher.user,
        None,
    )
    assert record.after["name"] == "Boiler service"
    assert record.after["checklist"] == [{"label": "Check flue", "kind": "checkbox", "is_required": True}]
    assert record.after["parts"] == [{"part": part.pk, "quantity": "2.000"}]


def test_changing_a_template_records_before_and_after(world):
    # given
    t = services.template_create(
        actor=world.dispatcher, data={"name": "Boiler service", "checklist": [{"label": "Check flue"}]}
    )
    # when
    services.template_update(
        actor=world.dispatcher,
        pk=t.pk,
        expected_version=1,
        data={
            "estimated_duration_minutes": 120,
            "checklist": [{"label": "Check flue"}, {"label": "Test run", "is_required": True}],
        },
    )
    # then
    record = _records("service.workordertemplate")[-1]
    assert record.action == "update"
    assert (record.before["estimated_duration_minutes"], record.after["estimated_duration_minutes"]) == (None, 120)
    assert [i["label"] for i in record.before["checklist"]] == ["Check flue"]
    assert [i["label"] for i in record.after["checklist"]] == ["Check flue", "Test run"]
    t.refresh_from_db()
    assert t.version == 2


def test_a_template_change_that_changes_nothing_records_nothing(world):
    # given
    t = services.template_create(
        actor=world.dispatcher, data={"name": "Boiler service", "checklist": [{"label": "Check flue"}]}
    )
    # when
    services.template_update(
        actor=world.dispatcher, pk=t.pk, data={"name": "Boiler service", "checklist": [{"label": "Check flue"}]}
    )
    # then
    assert [r.action for r in _records("service.workordertemplate")] == ["create"]
    t.refresh_from_db()
    assert t.version == 1


def test_category_create_update_and_delete_are_recorded(world):
    # when
    c = category_create(actor=world.dispatcher, data={"name": "Pumps"})
    category_update(actor=world.dispatcher, pk=c.pk, data={"description": "Centrifugal and dosing pumps"})
    category_delete(actor=world.admin, pk=c.pk)
    # then
    records = _records("assets.equipmentcategory")
    assert [(r.action, r.object_id) for r in records] == [
        ("create", str(c.pk)),
        ("update", str(c.pk)),
        ("delete", str(c.pk)),
    ]
    assert [r.actor for r in records] == [world.dispatcher.user, world.dispatcher.user, world.admin.user]
    created, updated, deleted = records
    assert (created.before, created.after["name"]) == (None, "Pumps")
    assert (updated.before["description"], updated.after["description"]) == ("", "Centrifugal and dosing pumps")
    assert (deleted.before["name"], deleted.after) == ("Pumps", None)
    assert all(r.organization_id == world.org.pk for r in records)


def test_membership_changes_are_recorded(world):
    # when
    m = membership_create(actor=world.admin, email="new@example.com", full_name="Nina Neu", role="technician")
    membership_update(actor=world.admin, membership_id=m.pk, role="dispatcher")
    # then
    created, updated = _records("core.membership")
    assert (created.action, created.before, created.after) == (
        "create",
        None,
        {"user": "new@example.com", "role": "technician", "client": None, "is_active": True},
    )
    assert (updated.action, updated.before["role"], updated.after["role"]) == ("update", "technician", "dispatcher")


def test_a_membership_update_that_changes_nothing_records_nothing(world):
    # when
    membership_update(actor=world.admin, membership_id=world.technician.membership_id, role="technician")
    # then
    assert _records("core.membership") == []


def test_organization_settings_changes_are_recorded(world):
    # when
    organization_update(actor=world.admin, data={"reopen_window_days": 30, "requires_four_eyes_review": False})
    # then
    [record] = _records("core.organization")
    assert (record.action, record.object_id, record.organization_id) == ("update", str(world.org.pk), world.org.pk)
    assert (record.before["reopen_window_days"], record.after["reopen_window_days"]) == (14, 30)
    assert (record.before["requires_four_eyes_review"], record.after["requires_four_eyes_review"]) == (True, False)


def test_an_invalid_organization_change_records_nothing(world):
    # when
    with pytest.raises(DomainError) as exc:
        organization_update(actor=world.admin, data={"timezone": "Mars/Olympus"})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "timezone")
    assert _records("core.organization") == []
    world.org.refresh_from_db()
    assert world.org.timezone == "Europe/Berlin"


def test_an_organization_change_that_changes_nothing_records_nothing(world):
    # when
    organization_update(actor=world.admin, data={"name": "Acme Maintenance"})
    # then
    assert _records("core.organization") == []


def test_only_admins_change_the_organization(world):
    # when
    with pytest.raises(DomainError) as exc:
        organization_update(actor=world.dispatcher, data={"requires_four_eyes_review": False})
    # then
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    world.org.refresh_from_db()
    assert world.org.requires_four_eyes_review is True
    assert _records("core.organization") == []


def test_other_organizations_do_not_see_the_records(world, other_world):
    # given
    organization_update(actor=world.admin, data={"name": "Acme Maintenance GmbH"})
    # when / then
    assert not ChangeRecord.objects.filter(organization=other_world.org).exists()
