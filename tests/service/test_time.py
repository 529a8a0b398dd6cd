"""Time on work orders: entries with start and end or duration, and one running timer per person."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services
from fixflow.service.choices import BillingStatus, EventKind, Status
from fixflow.service.models import TimeEntry, WorkOrderEvent, WorkOrderHelper

from .helpers import state_of, work_order_in


def _record(actor, wo, **kw):
    kw.setdefault("started_at", timezone.now() - timedelta(hours=2))
    kw.setdefault("duration_minutes", 45)
    return services.time_entry_create(actor=actor, work_order_id=wo.pk, **kw)


def _refused(fn, wo) -> DomainError:
    before = state_of(wo)
    with pytest.raises(DomainError) as exc:
        fn()
    assert state_of(wo) == before
    return exc.value


def test_an_assigned_technician_records_time_with_a_duration(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    start = timezone.now() - timedelta(hours=2)
    # when
    entry = _record(world.technician, wo, started_at=start, duration_minutes=45, kind="travel", note="A7 jam")
    # then
    assert (entry.technician, entry.kind, entry.started_at, entry.ended_at, entry.duration_minutes) == (
        world.technician.user,
        "travel",
        start,
        start + timedelta(minutes=45),
        45,
    )
    assert entry.is_billable is True
    wo.refresh_from_db()
    assert wo.version == 2
    event = WorkOrderEvent.objects.get(work_order=wo)
    assert (event.kind, event.data["minutes"]) == (EventKind.TIME, 45)


def test_an_entry_ending_before_it_starts_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    start = timezone.now() - timedelta(hours=2)
    # when
    err = _refused(lambda: _record(world.technician, wo, started_at=start, ended_at=start - timedelta(minutes=1)), wo)
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, "ended_at")


def test_an_entry_ending_when_it_starts_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    start = timezone.now() - timedelta(hours=2)
    # when
    err = _refused(lambda: _record(world.technician, wo, started_at=start, ended_at=start), wo)
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, "ended_at")


def test_time_starting_in_the_future_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    err = _refused(lambda: _record(world.technician, wo, started_at=timezone.now() + timedelta(hours=1)), wo)
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, "started_at")


def test_time_ending_in_the_future_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    err = _refused(
        lambda: _record(
            world.technician,
            wo,
            started_at=timezone.now() - timedelta(hours=1),
            ended_at=timezone.now() + timedelta(hours=3),
        ),
        wo,
    )
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, "ended_at")


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"started_at": None}, "started_at"),
        ({"duration_minutes": None}, "ended_at"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"duration_minutes": "lots"}, "duration_minutes"),
        ({"kind": "overtime"}, "kind"),
    ],
    ids=["no-start", "no-end", "zero", "over-a-day", "not-a-number", "kind"],
)
def test_incomplete_or_invalid_time_is_refused_naming_the_field(world, kw, field):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    err = _refused(lambda: _record(world.technician, wo, **kw), wo)
    # then
    assert (err.code, err.field) == (ErrorCode.VALIDATION, field)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Status.CLOSED},
        {"status": Status.CANCELLED},
        {"status": Status.COMPLETED, "billing_status": BillingStatus.INVOICED},
    ],
    ids=["closed", "cancelled", "invoiced"],
)
def test_closed_cancelled_or_invoiced_work_refuses_new_time(world, fields):
    # given
    wo = work_order_in(world, **fields)
    # when
    err = _refused(lambda: _record(world.dispatcher, wo), wo)
    # then
    assert err.code == ErrorCode.CONFLICT


def test_a_technician_records_only_their_own_time(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    WorkOrderHelper.objects.create(organization=world.org, work_order=wo, user=world.technician2.user)
    # when
    err = _refused(lambda: _record(world.technician, wo, technician_id=world.technician2.user.pk), wo)
    # then
    assert err.code == ErrorCode.PERMISSION_DENIED


def test_a_dispatcher_records_time_for_a_technician(world):
    # given
    wo = work_order_in(world, Status.COMPLETED)
    # when
    entry = _record(world.dispatcher, wo, technician_id=world.technician2.user.pk)
    # then
    assert (entry.technician, entry.created_by) == (world.technician2.user, world.dispatcher.user)


def test_a_technician_not_assigned_cannot_record_time(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    err = _refused(lambda: _record(world.technician2, wo), wo)
    # then
    assert err.code == ErrorCode.PERMISSION_DENIED


@pytest.mark.parametrize("who", ["accountant", "client_user"])
def test_people_who_do_not_do_the_work_cannot_record_time(world, who):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    err = _refused(lambda: _record(getattr(world, who), wo), wo)
    # then
    assert err.code == ErrorCode.PERMISSION_DENIED


def test_a_technician_removes_only_their_own_time(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    WorkOrderHelper.objects.create(organization=world.org, work_order=wo, user=world.technician2.user)
    mine = _record(world.technician2, wo)
    theirs = _record(world.technician, wo)
    # when
    err = _refused(lambda: services.time_entry_delete(actor=world.technician2, time_entry_id=theirs.pk), wo)
    services.time_entry_delete(actor=world.technician2, time_entry_id=mine.pk)
    # then
    assert err.code == ErrorCode.PERMISSION_DENIED
    assert list(TimeEntry.objects.filter(work_order=wo)) == [theirs]


# --- timers ----------------------------------------------------------------------------------------------


def test_a_timer_runs_until_stopped_and_becomes_an_entry(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    start = timezone.now() - timedelta(minutes=20)
    services.timer_start(actor=world.technician, work_order_id=wo.pk, occurred_at=start)
    # when
    entry = services.timer_stop(actor=world.technician, work_order_id=wo.pk, occurred_at=start + timedelta(minutes=17))
    # then
    assert (entry.started_at, entry.duration_minutes, entry.is_running) == (start, 17, False)


def test_a_second_timer_for_the_same_technician_and_work_order_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    services.timer_start(actor=world.technician, work_order_id=wo.pk)
    # when
    err = _refused(lambda: services.timer_start(actor=world.technician, work_order_id=wo.pk), wo)
    # then
    assert err.code == ErrorCode.CONFLICT
    assert TimeEntry.objects.filter(work_order=wo, ended_at=None).count() == 1


def test_the_database_allows_only_one_running_timer_per_technician_and_work_order(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    services.timer_start(actor=world.technician, work_order_id=wo.pk)
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntry.objects.create(
            organization=world.org, work_order=wo, technician=world.technician.user, started_at=timezone.now()
        )


def test_two_technicians_each_run_a_timer_on_the_same_work_order(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    WorkOrderHelper.objects.create(organization=world.org, work_order=wo, user=world.technician2.user)
    # when
    services.timer_start(actor=world.technician, work_order_id=wo.pk)
    services.timer_start(actor=world.technician2, work_order_id=wo.pk)
    # then
    assert TimeEntry.objects.filter(work_order=wo, ended_at=None).count() == 2


def test_a_technician_may_run_timers_on_two_work_orders(world):
    # given
    first, second = work_order_in(world, Status.IN_PROGRESS), work_order_in(world, Status.IN_PROGRESS)
    # when
    services.timer_start(actor=world.technician, work_order_id=first.pk)
    services.timer_start(actor=world.technician, work_order_id=second.pk)
    # then
    assert TimeEntry.objects.filter(technician=world.technician.user, ended_at=None).count() == 2


def test_stopping_without_a_running_timer_is_refused(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    err = _refused(lambda: services.timer_stop(actor=world.technician, work_order_id=wo.pk), wo)
    # then
    assert err.code == ErrorCode.CONFLICT


@pytest.mark.parametrize("status", [Status.ON_HOLD, Status.COMPLETED, Status.CLOSED])
def test_a_timer_does_not_start_on_paused_or_finished_work(world, status):
    # given
    wo = work_order_in(world, status)
    # when
    err = _refused(lambda: services.timer_start(actor=world.technician, work_order_id=wo.pk), wo)
    # then
    assert err.code == ErrorCode.CONFLICT


def test_durations_across_a_dst_change_are_elapsed_time_not_wall_time(world):
    # given a night shift in Berlin across the end of summer time (02:00–03:00 happens twice)
    import zoneinfo
    from datetime import datetime

    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    wo = work_order_in(world, Status.IN_PROGRESS)
    start = datetime(2025, 10, 26, 1, 0, tzinfo=berlin)
    end = datetime(2025, 10, 26, 4, 0, tzinfo=berlin)  # three hours on the wall clock, four elapsed
    # when
    entry = _record(world.technician, wo, started_at=start, ended_at=end)
    by_duration = _record(world.technician, wo, started_at=start, duration_minutes=240)
    # then
    assert entry.duration_minutes == 240
    assert by_duration.ended_at == end
