"""The guards and side effects of the lifecycle: planning, completing, reviewing, reopening, cancelling."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.permissions import actor_for
from fixflow.core.services import organization_update
from fixflow.service import services
from fixflow.service.choices import BillingStatus, EventKind, HoldReason, Status
from fixflow.service.models import ChecklistAnswer, TimeEntry, WorkOrderEvent, WorkOrderHelper

from .helpers import png_bytes, state_of, work_order_in


def _refused(actor, wo, to, **kw) -> DomainError:
    """Take the transition, expect a refusal, and check that nothing at all was written."""
    before = state_of(wo)
    with pytest.raises(DomainError) as exc:
        services.work_order_transition(actor=actor, work_order_id=wo.pk, to=to, **kw)
    assert state_of(wo) == before
    return exc.value


def _unmet(err: DomainError) -> list[str]:
    return [u["guard"] for u in err.details["unmet"]]


# --- plan -----------------------------------------------------------------------------------------


def test_planning_without_assignee_and_scheduled_start_is_refused_naming_both(world):
    # given
    wo = work_order_in(world, Status.NEW, lead_technician=None, scheduled_start=None, scheduled_end=None)
    # when
    err = _refused(world.dispatcher, wo, Status.PLANNED)
    # then
    assert err.code == ErrorCode.GUARD_FAILED
    assert _unmet(err) == ["has_assignee", "has_scheduled_start"]
    assert err.field == "lead_technician"


def test_planning_without_scheduled_start_is_refused(world):
    # given
    wo = work_order_in(world, Status.NEW, scheduled_start=None, scheduled_end=None)
    # when
    err = _refused(world.dispatcher, wo, Status.PLANNED)
    # then
    assert (err.code, _unmet(err), err.field) == (ErrorCode.GUARD_FAILED, ["has_scheduled_start"], "scheduled_start")


def test_planning_an_assigned_and_scheduled_work_order_plans_it(world):
    # given
    wo = work_order_in(world, Status.NEW)
    # when
    services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to=Status.PLANNED)
    # then
    wo.refresh_from_db()
    assert wo.status == Status.PLANNED
    assert wo.lead_technician == world.technician.user


def test_unplanning_removes_the_lead_technician_and_helpers(world):
    # given
    wo = work_order_in(world, Status.PLANNED)
    WorkOrderHelper.objects.create(organization=world.org, work_order=wo, user=world.technician2.user)
    # when
    services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to=Status.NEW)
    # then
    wo.refresh_from_db()
    assert (wo.status, wo.lead_technician_id) == (Status.NEW, None)
    assert not WorkOrderHelper.objects.filter(work_order=wo).exists()


def test_starting_an_unassigned_work_order_is_refused_even_for_the_dispatcher(world):
    # given
    wo = work_order_in(world, Status.NEW, lead_technician=None)
    # when
    err = _refused(world.dispatcher, wo, Status.IN_PROGRESS)
    # then
    assert (err.code, _unmet(err)) == (ErrorCode.GUARD_FAILED, ["has_assignee"])


# --- start, hold, resume ----------------------------------------------------------------------------


def test_starting_records_the_start_once_and_resuming_keeps_it(world):
    # given
    wo = work_order_in(world, Status.PLANNED)
    # when
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.IN_PROGRESS)
    wo.refresh_from_db()
    started = wo.started_at
    services.work_order_transition(
        actor=world.technician,
        work_order_id=wo.pk,
        to=Status.ON_HOLD,
        hold_reason=HoldReason.WAITING_FOR_ACCESS,
        reason="Gate locked",
    )
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.IN_PROGRESS)
    # then
    wo.refresh_from_db()
    assert started is not None and wo.started_at == started
    assert (wo.status, wo.hold_reason, wo.version) == (Status.IN_PROGRESS, "", 4)
    hold = WorkOrderEvent.objects.get(work_order=wo, to_status=Status.ON_HOLD)
    assert (hold.reason, hold.data) == ("Gate locked", {"hold_reason": "waiting_for_access"})


def test_putting_on_hold_without_a_hold_reason_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    err = _refused(world.technician, wo, Status.ON_HOLD)
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, "hold_reason")


def test_putting_on_hold_with_an_unknown_hold_reason_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    err = _refused(world.technician, wo, Status.ON_HOLD, hold_reason="lunch")
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, "hold_reason")


# --- complete ----------------------------------------------------------------------------------------


def test_completing_without_resolution_notes_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS, resolution_notes="  ")
    # when
    err = _refused(world.technician, wo, Status.COMPLETED)
    # then
    assert (err.code, _unmet(err), err.field) == (ErrorCode.GUARD_FAILED, ["has_resolution_notes"], "resolution_notes")


def test_resolution_notes_given_with_the_completion_are_saved(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS, resolution_notes="")
    # when
    services.work_order_transition(
        actor=world.technician, work_order_id=wo.pk, to=Status.COMPLETED, resolution_notes="  Cleaned the strainer.  "
    )
    # then
    wo.refresh_from_db()
    assert (wo.status, wo.resolution_notes) == (Status.COMPLETED, "Cleaned the strainer.")
    assert (wo.completed_by, wo.completed_at is not None) == (world.technician.user, True)


def test_completing_with_unanswered_required_checklist_items_is_refused_naming_them(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    common = {"organization": world.org, "work_order": wo}
    ChecklistAnswer.objects.create(**common, position=0, label="Isolate power", is_required=True, value="done")
    ChecklistAnswer.objects.create(**common, position=1, label="Check pressure", is_required=True)
    ChecklistAnswer.objects.create(**common, position=2, label="Photo of plate", is_required=False)
    ChecklistAnswer.objects.create(**common, position=3, label="Test run", is_required=True)
    # when
    err = _refused(world.technician, wo, Status.COMPLETED)
    # then
    assert (err.code, _unmet(err), err.field) == (ErrorCode.GUARD_FAILED, ["required_checklist_answered"], "checklist")
    assert "Check pressure, Test run" in err.message
    assert "Photo of plate" not in err.message


def test_completing_after_answering_the_required_checklist_items_succeeds(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    item = ChecklistAnswer.objects.create(
        organization=world.org, work_order=wo, label="Check pressure", kind="number", is_required=True
    )
    services.checklist_answer(actor=world.technician, work_order_id=wo.pk, item_id=item.pk, value="2.5")
    # when
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.COMPLETED)
    # then
    wo.refresh_from_db()
    item.refresh_from_db()
    assert (wo.status, item.value, item.answered_by) == (Status.COMPLETED, "2.5", world.technician.user)


def test_completing_without_equipment_when_the_work_requires_it_is_refused(world):
    # given
    wo = work_order_in(
        world,
        Status.IN_PROGRESS,
        equipment=None,
        site=world.site,
        client=world.client,
        organization=world.org,
        requires_equipment=True,
    )
    # when
    err = _refused(world.technician, wo, Status.COMPLETED)
    # then
    assert (err.code, _unmet(err), err.field) == (ErrorCode.GUARD_FAILED, ["has_required_equipment"], "equipment")


def test_site_level_work_completes_without_equipment(world):
    # given
    wo = work_order_in(
        world,
        Status.IN_PROGRESS,
        equipment=None,
        site=world.site,
        client=world.client,
        organization=world.org,
        requires_equipment=False,
    )
    # when
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.COMPLETED)
    # then
    wo.refresh_from_db()
    assert wo.status == Status.COMPLETED


def test_completing_without_a_required_signature_is_refused_and_succeeds_once_signed(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS, requires_signature=True)
    # when
    err = _refused(world.technician, wo, Status.COMPLETED)
    services.signature_capture(
        actor=world.technician, work_order_id=wo.pk, image_png=png_bytes(), signed_by_name="Hans Meier"
    )
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.COMPLETED)
    # then
    assert (err.code, _unmet(err), err.field) == (ErrorCode.GUARD_FAILED, ["has_required_signature"], "signature")
    wo.refresh_from_db()
    assert (wo.status, wo.signed_by_name) == (Status.COMPLETED, "Hans Meier")


def test_every_unmet_completion_guard_is_reported_at_once(world):
    # given
    wo = work_order_in(
        world,
        Status.IN_PROGRESS,
        resolution_notes="",
        equipment=None,
        site=world.site,
        client=world.client,
        organization=world.org,
        requires_signature=True,
    )
    ChecklistAnswer.objects.create(organization=world.org, work_order=wo, label="Test run", is_required=True)
    # when
    err = _refused(world.technician, wo, Status.COMPLETED)
    # then
    assert _unmet(err) == [
        "has_resolution_notes",
        "required_checklist_answered",
        "has_required_equipment",
        "has_required_signature",
    ]


def test_completing_stops_every_running_timer_at_the_completion_time(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    WorkOrderHelper.objects.create(organization=world.org, work_order=wo, user=world.technician2.user)
    services.timer_start(
        actor=world.technician, work_order_id=wo.pk, occurred_at=timezone.now() - timedelta(minutes=90)
    )
    services.timer_start(
        actor=world.technician2, work_order_id=wo.pk, occurred_at=timezone.now() - timedelta(minutes=30)
    )
    # when
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.COMPLETED)
    # then
    wo.refresh_from_db()
    entries = list(TimeEntry.objects.filter(work_order=wo).order_by("started_at"))
    assert [e.ended_at for e in entries] == [wo.completed_at, wo.completed_at]
    assert [e.duration_minutes for e in entries] == [90, 30]


def test_completing_a_work_order_cancelled_meanwhile_is_refused(world):
    # given
    wo = work_order_in(world, Status.CANCELLED)
    # when
    err = _refused(world.technician, wo, Status.COMPLETED)
    # then
    assert err.code == ErrorCode.INVALID_TRANSITION


# --- close (four-eyes review) ------------------------------------------------------------------------


def _completed_by_admin(world):
    """An admin who also does field work leads a job and completes it."""
    wo = work_order_in(world, Status.IN_PROGRESS, lead_technician=world.admin.user)
    services.work_order_transition(actor=world.admin, work_order_id=wo.pk, to=Status.COMPLETED)
    return wo


def test_the_person_who_completed_the_work_may_not_close_it(world):
    # given
    wo = _completed_by_admin(world)
    # when
    err = _refused(world.admin, wo, Status.CLOSED)
    # then
    assert (err.code, _unmet(err)) == (ErrorCode.GUARD_FAILED, ["four_eyes"])


def test_someone_else_closes_it_and_who_completed_it_is_kept(world):
    # given
    wo = _completed_by_admin(world)
    wo.refresh_from_db()
    completed_at = wo.completed_at
    # when
    services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to=Status.CLOSED)
    # then
    wo.refresh_from_db()
    assert (wo.status, wo.closed_by) == (Status.CLOSED, world.dispatcher.user)
    assert (wo.completed_by, wo.completed_at) == (world.admin.user, completed_at)


def test_the_person_who_completed_the_work_may_close_it_when_the_organization_turns_four_eyes_off(world):
    # given
    wo = _completed_by_admin(world)
    organization_update(actor=world.admin, data={"requires_four_eyes_review": False})
    admin = actor_for(world.admin.user, world.org.pk)
    # when
    services.work_order_transition(actor=admin, work_order_id=wo.pk, to=Status.CLOSED)
    # then
    wo.refresh_from_db()
    assert (wo.status, wo.closed_by, wo.completed_by) == (Status.CLOSED, world.admin.user, world.admin.user)


# --- reopen --------------------------------------------------------------------------------------------


def test_reopening_completed_work_without_a_reason_is_refused(world):
    # given
    wo = work_order_in(world, Status.COMPLETED)
    # when
    err = _refused(world.dispatcher, wo, Status.IN_PROGRESS, reason="   ")
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, "reason")


def test_reopening_completed_work_with_a_reason_starts_a_new_cycle(world):
    # given
    wo = work_order_in(world, Status.COMPLETED)
    # when
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=wo.pk, to=Status.IN_PROGRESS, reason="Still dripping"
    )
    # then
    wo.refresh_from_db()
    assert (wo.status, wo.status_reason, wo.completed_at, wo.completed_by) == (
        Status.IN_PROGRESS,
        "Still dripping",
        None,
        None,
    )
    assert WorkOrderEvent.objects.get(work_order=wo).reason == "Still dripping"


def test_reopening_closed_work_inside_the_window_makes_it_not_ready_to_invoice(world):
    # given
    wo = work_order_in(world, Status.CLOSED, closed_at=timezone.now() - timedelta(days=13, hours=23))
    # when
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=wo.pk, to=Status.IN_PROGRESS, reason="Leaking again"
    )
    # then
    wo.refresh_from_db()
    assert (wo.status, wo.closed_at, wo.closed_by) == (Status.IN_PROGRESS, None, None)
    assert wo.billing_status == BillingStatus.NOT_BILLABLE


def test_reopening_closed_work_outside_the_window_is_refused(world):
    # given
    wo = work_order_in(world, Status.CLOSED, closed_at=timezone.now() - timedelta(days=14, minutes=1))
    # when
    err = _refused(world.dispatcher, wo, Status.IN_PROGRESS, reason="Leaking again")
    # then
    assert (err.code, _unmet(err)) == (ErrorCode.GUARD_FAILED, ["within_reopen_window"])
    assert "follow-up" in err.message


def test_the_reopen_window_is_the_organizations_setting(world):
    # given
    organization_update(actor=world.admin, data={"reopen_window_days": 30})
    dispatcher = actor_for(world.dispatcher.user, world.org.pk)
    wo = work_order_in(world, Status.CLOSED, closed_at=timezone.now() - timedelta(days=20))
    # when
    services.work_order_transition(actor=dispatcher, work_order_id=wo.pk, to=Status.IN_PROGRESS, reason="Again")
    # then
    wo.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS


def test_reopening_invoiced_work_is_refused_even_inside_the_window(world):
    # given
    wo = work_order_in(world, Status.CLOSED, billing_status=BillingStatus.INVOICED)
    # when
    err = _refused(world.dispatcher, wo, Status.IN_PROGRESS, reason="Leaking again")
    # then
    assert (err.code, _unmet(err)) == (ErrorCode.GUARD_FAILED, ["not_invoiced"])


def test_a_follow_up_links_to_closed_work_outside_the_window(world):
    # given
    wo = work_order_in(world, Status.CLOSED, closed_at=timezone.now() - timedelta(days=40))
    # when
    follow_up = services.work_order_follow_up(actor=world.dispatcher, work_order_id=wo.pk, reason="Leaking again")
    # then
    assert (follow_up.follow_up_of, follow_up.status, follow_up.equipment) == (wo, Status.NEW, world.equipment)
    assert WorkOrderEvent.objects.get(work_order=wo).data == {"follow_up": follow_up.number}


# --- cancel --------------------------------------------------------------------------------------------


def test_cancelling_without_a_reason_is_refused(world):
    # given
    wo = work_order_in(world, Status.PLANNED)
    # when
    err = _refused(world.dispatcher, wo, Status.CANCELLED)
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, "reason")


@pytest.mark.parametrize("source", [Status.NEW, Status.PLANNED, Status.IN_PROGRESS, Status.ON_HOLD])
def test_cancelling_after_invoicing_is_refused(world, source):
    # given
    wo = work_order_in(world, source, billing_status=BillingStatus.INVOICED)
    # when
    err = _refused(world.dispatcher, wo, Status.CANCELLED, reason="Duplicate")
    # then
    assert (err.code, _unmet(err)) == (ErrorCode.GUARD_FAILED, ["not_invoiced"])


def test_cancelling_records_the_reason_and_stops_running_timers(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    services.timer_start(
        actor=world.technician, work_order_id=wo.pk, occurred_at=timezone.now() - timedelta(minutes=10)
    )
    # when
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=wo.pk, to=Status.CANCELLED, reason="Client sold the building"
    )
    # then
    wo.refresh_from_db()
    entry = TimeEntry.objects.get(work_order=wo)
    assert (wo.status, wo.status_reason) == (Status.CANCELLED, "Client sold the building")
    assert (entry.ended_at, entry.duration_minutes) == (wo.cancelled_at, 10)
    event = WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.TRANSITION).get()
    assert event.reason == "Client sold the building"


def test_a_role_that_may_not_cancel_is_told_so_before_being_asked_for_a_reason(world):
    # given a work order and a technician who may not cancel
    from fixflow.core.errors import DomainError
    from fixflow.service import services

    wo = services.work_order_create(
        actor=world.dispatcher, title="Leak", site_id=world.site.pk, equipment_id=world.equipment.pk
    )
    # when they try without a reason
    with pytest.raises(DomainError) as refused:
        services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to="cancelled")
    # then the answer is about the role, not the missing reason
    assert refused.value.code == "permission_denied"
