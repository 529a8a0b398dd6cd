"""Editing a work order: optimistic locking, who may edit what, and the events written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services
from fixflow.service.choices import EventKind, Status
from fixflow.service.models import WorkOrderEvent

from ..factories import EquipmentFactory
from .helpers import state_of, work_order_in


def _update(actor, wo, data, **kw):
    return services.work_order_update(actor=actor, work_order_id=wo.pk, data=data, **kw)


def test_an_update_based_on_a_stale_version_is_refused_and_changes_nothing(world):
    # given someone else saved version 2 after we read version 1
    wo = work_order_in(world, Status.NEW, title="Pump leaking")
    _update(world.dispatcher, wo, {"priority": "high"}, expected_version=1)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _update(world.dispatcher, wo, {"title": "Pump leaking badly"}, expected_version=1)
    # then
    assert exc.value.code == ErrorCode.STALE_VERSION
    assert exc.value.details == {"current_version": 2}
    assert state_of(wo) == before


def test_an_update_with_the_current_version_bumps_it_and_writes_one_event_per_kind(world):
    # given
    wo = work_order_in(world, Status.NEW, title="Pump leaking", lead_technician=None)
    start = timezone.now() + timedelta(days=1)
    # when
    result = _update(
        world.dispatcher,
        wo,
        {
            "title": "Pump leaking badly",
            "priority": "high",
            "scheduled_start": start,
            "scheduled_end": start + timedelta(hours=2),
            "lead_technician_id": world.technician.user.pk,
        },
        expected_version=1,
    )
    # then
    wo.refresh_from_db()
    assert (result.version, wo.version, wo.title, wo.priority) == (2, 2, "Pump leaking badly", "high")
    events = {e.kind: e.data for e in WorkOrderEvent.objects.filter(work_order=wo)}
    assert set(events) == {EventKind.UPDATED, EventKind.SCHEDULED, EventKind.ASSIGNED}
    assert events[EventKind.UPDATED] == {
        "title": ["Pump leaking", "Pump leaking badly"],
        "priority": ["normal", "high"],
    }
    assert events[EventKind.ASSIGNED] == {"lead_technician": [None, "Tom Technician"]}


def test_an_update_that_changes_nothing_keeps_the_version_and_writes_no_event(world):
    # given
    wo = work_order_in(world, Status.NEW, title="Pump leaking")
    before = state_of(wo)
    # when
    _update(world.dispatcher, wo, {"title": " Pump leaking "}, expected_version=1)
    # then
    assert state_of(wo) == before


def test_an_assigned_technician_may_write_only_the_resolution_notes(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS, resolution_notes="")
    # when
    _update(world.technician, wo, {"resolution_notes": "Seal replaced."})
    before = state_of(wo)
    with pytest.raises(DomainError) as exc:
        _update(world.technician, wo, {"priority": "low"})
    # then
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    assert state_of(wo) == before
    assert before["resolution_notes"] == "Seal replaced."


def test_a_technician_not_assigned_may_not_write_the_resolution_notes(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _update(world.technician2, wo, {"resolution_notes": "Not mine."})
    # then
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    assert state_of(wo) == before


@pytest.mark.parametrize("status", [Status.CLOSED, Status.CANCELLED])
def test_closed_or_cancelled_work_cannot_be_edited(world, status):
    # given
    wo = work_order_in(world, status)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _update(world.dispatcher, wo, {"title": "Changed"})
    # then
    assert exc.value.code == ErrorCode.CONFLICT
    assert state_of(wo) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"number": "WO-1999-00001"}, "number"),
        ({"title": ""}, "title"),
        ({"priority": "urgent"}, "priority"),
        ({"estimated_duration_minutes": 0}, "estimated_duration_minutes"),
        ({"estimated_duration_minutes": "an hour"}, "estimated_duration_minutes"),
        ({"lead_technician_id": None}, "lead_technician"),
    ],
    ids=["status", "number", "empty-title", "priority", "duration", "duration-text", "unassign-planned"],
)
def test_invalid_edits_are_refused_naming_the_field(world, data, field):
    # given
    wo = work_order_in(world, Status.PLANNED)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _update(world.dispatcher, wo, data)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, field)
    assert state_of(wo) == before


def test_a_schedule_ending_before_it_starts_is_refused(world):
    # given
    wo = work_order_in(world, Status.NEW)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _update(world.dispatcher, wo, {"scheduled_end": wo.scheduled_start - timedelta(minutes=1)})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "scheduled_end")
    assert state_of(wo) == before


def test_equipment_from_another_site_is_refused(world):
    # given
    wo = work_order_in(world, Status.NEW)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _update(world.dispatcher, wo, {"equipment_id": world.other_equipment.pk})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "equipment")
    assert state_of(wo) == before


def test_equipment_of_another_organization_is_unknown(world, other_world):
    # given
    wo = work_order_in(world, Status.NEW)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _update(world.dispatcher, wo, {"equipment_id": other_world.equipment.pk})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "equipment")
    assert state_of(wo) == before


def test_a_technician_of_another_organization_cannot_be_assigned(world, other_world):
    # given
    wo = work_order_in(world, Status.NEW, lead_technician=None)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _update(world.dispatcher, wo, {"lead_technician_id": other_world.technician.user.pk})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "lead_technician")
    assert state_of(wo) == before


def test_moving_the_work_to_other_equipment_keeps_the_site(world):
    # given
    wo = work_order_in(world, Status.NEW)
    pump2 = EquipmentFactory(site=world.site, name="Pump P2")
    # when
    _update(world.dispatcher, wo, {"equipment_id": pump2.pk})
    # then
    wo.refresh_from_db()
    assert (wo.equipment, wo.site) == (pump2, world.site)
