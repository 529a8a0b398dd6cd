"""The sync rules of DOMAIN.md §5, through the sync service: once per mutation id, per-device order, device
time within bounds, append-only records held on closed or invoiced work, transitions checked against the
server's state, field edits merged by field, one timer per technician and work order across devices."""

import base64
from datetime import timedelta

import pytest

from fixflow.core import clock
from fixflow.field import held
from fixflow.field.choices import CommandStatus, HoldReason, Resolution
from fixflow.field.models import Device, SyncCommand
from fixflow.field.sync import SEQ_GAP_WAIT
from fixflow.service import services
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import (
    Attachment,
    PartUsage,
    TimeEntry,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderNote,
)
from fixflow.sla.models import SlaClock

from .conftest import Phone, at, closed_work_order, jpeg, planned_work_order, png, started_work_order

# --- once, in order ----------------------------------------------------------------------------------


def test_the_same_command_replayed_twice_is_applied_once(world, phone):
    # given a note written offline
    wo = started_work_order(world)
    note = phone.command("note.add", wo, {"body": "Seal worn on the drive side."}, when=at("09:30"))
    # when the phone sends it, loses the answer and sends it twice more
    with clock.frozen_at(at("11:00")):
        first = phone.sync(note)
        second = phone.sync(note)
        third = phone.sync(note, note)
    # then it was applied once, and every answer is the stored one
    assert WorkOrderNote.objects.filter(work_order=wo).count() == 1
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="note").count() == 1
    assert [a.status for a in first + second + third] == ["applied"] * 4
    assert {a.result["note_id"] for a in first + second + third} == {WorkOrderNote.objects.get().pk}
    assert SyncCommand.objects.count() == 1


def test_commands_arriving_out_of_order_are_applied_in_the_devices_order(world, phone):
    # given: offline, the technician started the work (seq 1) and then put it on hold (seq 2)
    wo = planned_work_order(world)
    start = phone.command("transition", wo, {"to": "in_progress"}, when=at("09:00"))
    hold = phone.command(
        "transition", wo, {"to": "on_hold", "hold_reason": "waiting_for_parts", "reason": "No seal"}, when=at("09:40")
    )
    # when the hold arrives first
    with clock.frozen_at(at("12:00")):
        (early,) = phone.sync(hold)
    # then it waits for its predecessor: nothing happened yet
    wo.refresh_from_db()
    assert (early.status, wo.status) == ("pending", Status.PLANNED)
    assert "earlier changes" in early.message
    # when the start arrives
    with clock.frozen_at(at("12:01")):
        answers = phone.sync(start)
        replayed = phone.sync(hold)
    # then both were applied, start first, each at its own phone time
    wo.refresh_from_db()
    assert [a.status for a in answers + replayed] == ["applied", "applied"]
    assert wo.status == Status.ON_HOLD and wo.started_at == at("09:00")
    transitions = list(
        WorkOrderEvent.objects.filter(work_order=wo, kind="transition", actor=world.technician.user)
        .order_by("id")
        .values_list("to_status", "occurred_at")
    )
    assert transitions == [("in_progress", at("09:00")), ("on_hold", at("09:40"))]


def test_a_command_whose_predecessor_never_arrives_is_applied_after_the_wait(world, phone):
    # given seq 2 arrived, seq 1 never does (the phone dropped it)
    wo = started_work_order(world)
    phone.seq = 1
    note = phone.command("note.add", wo, {"body": "Valve stiff."}, when=at("09:30"))
    with clock.frozen_at(at("10:00")):
        (first,) = phone.sync(note)
    # when the phone syncs again after the documented wait
    with clock.frozen_at(at("10:00") + SEQ_GAP_WAIT + timedelta(seconds=1)):
        (later,) = phone.sync(note)
    # then it was applied then, once
    assert (first.status, later.status) == ("pending", "applied")
    assert WorkOrderNote.objects.filter(work_order=wo).count() == 1
    assert Device.objects.get(device_id=phone.device_id).last_seq == 2


def test_a_phone_that_starts_again_at_seq_one_is_not_stuck(world, phone):
    # given a device that synced seq 1 and 2, then lost its storage but kept its id
    wo = started_work_order(world)
    with clock.frozen_at(at("10:00")):
        phone.sync(phone.command("note.add", wo, {"body": "one"}), phone.command("note.add", wo, {"body": "two"}))
        phone.seq = 0
        (answer,) = phone.sync(phone.command("note.add", wo, {"body": "again one"}))
    # then its new commands (new mutation ids) are applied
    assert answer.status == "applied"
    assert WorkOrderNote.objects.filter(work_order=wo).count() == 3


# --- device time (rule 6) ------------------------------------------------------------------------------


def test_an_offline_start_at_nine_synced_at_two_starts_the_work_and_meets_the_response_at_nine(world, phone):
    # given a planned work order, started on the phone at 09:00 without signal
    wo = planned_work_order(world, when=at("08:00"))
    start = phone.command("transition", wo, {"to": "in_progress"}, when=at("09:00"))
    # when the phone gets signal at 14:00
    with clock.frozen_at(at("14:00")):
        (answer,) = phone.sync(start)
    # then the work order started at 09:00 and the SLA response was met at 09:00; the server time is kept too
    wo.refresh_from_db()
    assert answer.status == "applied"
    assert answer.work_order == {"id": wo.pk, "status": "in_progress", "version": wo.version}
    assert wo.started_at == at("09:00")
    response = SlaClock.objects.get(work_order=wo, target="response", is_current=True)
    assert (response.state, response.met_at) == ("met", at("09:00"))
    event = WorkOrderEvent.objects.get(work_order=wo, kind="transition", to_status="in_progress")
    assert (event.occurred_at, event.recorded_at) == (at("09:00"), at("14:00"))
    cmd = SyncCommand.objects.get()
    assert (cmd.occurred_at, cmd.received_at, cmd.effective_at, cmd.time_flagged) == (
        at("09:00"),
        at("14:00"),
        at("09:00"),
        False,
    )


def test_a_phone_clock_two_hours_fast_is_replaced_by_the_server_time_and_flagged(world, phone):
    # given a phone whose clock is two hours ahead
    wo = planned_work_order(world)
    start = phone.command("transition", wo, {"to": "in_progress"}, when=at("12:00"))
    # when it syncs at 10:00 server time
    with clock.frozen_at(at("10:00")):
        (answer,) = phone.sync(start)
    # then the server's time is used, both are kept, and the entry is flagged
    wo.refresh_from_db()
    assert answer.status == "applied"
    assert wo.started_at == at("10:00")
    assert answer.result["time_flagged"] is True
    assert "2.0 h ahead" in answer.message
    cmd = SyncCommand.objects.get()
    assert (cmd.occurred_at, cmd.effective_at, cmd.time_flagged) == (at("12:00"), at("10:00"), True)
    assert "ahead" in cmd.time_note


def test_a_phone_clock_within_the_skew_is_believed(world, phone):
    wo = planned_work_order(world)
    with clock.frozen_at(at("10:00")):
        (answer,) = phone.sync(phone.command("transition", wo, {"to": "in_progress"}, when=at("10:04")))
    wo.refresh_from_db()
    assert (answer.result["time_flagged"], wo.started_at) == (False, at("10:04"))


def test_a_phone_time_before_the_work_orders_previous_event_is_replaced_and_flagged(world, phone):
    # given a work order planned at 08:30 and a phone clock that says the work started at 07:00
    wo = planned_work_order(world, when=at("08:00"))
    with clock.frozen_at(at("10:00")):
        (answer,) = phone.sync(phone.command("transition", wo, {"to": "in_progress"}, when=at("07:00")))
    # then
    wo.refresh_from_db()
    assert wo.started_at == at("10:00")
    assert answer.result["time_flagged"] is True
    assert "previous event" in SyncCommand.objects.get().time_note


def test_a_command_without_a_readable_time_uses_the_server_time(world, phone):
    wo = started_work_order(world)
    with clock.frozen_at(at("11:00")):
        (answer,) = phone.sync(phone.command("note.add", wo, {"body": "x"}, when="yesterday-ish"))
    assert answer.status == "applied" and answer.result["time_flagged"] is True
    assert WorkOrderEvent.objects.get(work_order=wo, kind="note").occurred_at == at("11:00")


def test_hours_entered_that_end_in_the_future_are_kept_as_ending_at_the_server_time(world, phone):
    # given: two hours ahead, the technician enters "the last hour"
    wo = started_work_order(world)
    entry = {"started_at": at("12:00").isoformat(), "duration_minutes": 60}
    with clock.frozen_at(at("11:00")):
        (answer,) = phone.sync(phone.command("time.add", wo, entry, when=at("13:00")))
    # then the hour is recorded, ending at the server time, and flagged
    time_entry = TimeEntry.objects.get(work_order=wo)
    assert answer.status == "applied"
    assert (time_entry.started_at, time_entry.ended_at, time_entry.duration_minutes) == (at("10:00"), at("11:00"), 60)
    assert SyncCommand.objects.get().time_flagged


# --- append-only records, held when the work order is closed or invoiced (rule 3) ---------------------


def test_hours_added_offline_to_a_work_order_closed_online_are_held(world, phone):
    # given hours entered offline at 10:15, while the office closed the work order at 10:30
    wo = closed_work_order(world)
    hours = {"started_at": at("09:15").isoformat(), "duration_minutes": 45, "note": "Flushing the circuit"}
    # when the phone syncs
    with clock.frozen_at(at("15:00")):
        (answer,) = phone.sync(phone.command("time.add", wo, hours, when=at("10:15")))
    # then the hours wait for the office: nothing recorded, nothing dropped
    assert answer.status == "held"
    assert wo.number in answer.message and "closed" in answer.message
    assert not TimeEntry.objects.filter(work_order=wo).exists()
    (item,) = held.held_queryset(actor=world.dispatcher)
    assert (item.hold_reason, item.type, item.payload["duration_minutes"]) == (HoldReason.CLOSED, "time.add", 45)
    assert WorkOrder.objects.get(pk=wo.pk).version == wo.version


def test_accepting_held_hours_on_closed_work_adds_them_and_keeps_it_to_invoice(world, phone):
    # given held hours on closed, not yet invoiced work
    wo = closed_work_order(world)
    hours = {"started_at": at("09:15").isoformat(), "duration_minutes": 45}
    with clock.frozen_at(at("15:00")):
        phone.sync(phone.command("time.add", wo, hours, when=at("10:15")))
    item = SyncCommand.objects.get()
    # when the dispatcher accepts them
    with clock.frozen_at(at("16:00")):
        held.held_accept(actor=world.dispatcher, command_id=item.pk)
    # then they are the technician's time on the work order, still closed and to invoice
    entry = TimeEntry.objects.get(work_order=wo)
    wo.refresh_from_db()
    assert (entry.technician_id, entry.started_at, entry.duration_minutes) == (
        world.technician.user_id,
        at("09:15"),
        45,
    )
    assert (wo.status, wo.billing_status) == (Status.CLOSED, BillingStatus.TO_INVOICE)
    item.refresh_from_db()
    assert (item.status, item.resolution, item.resolved_by_id) == ("applied", "accepted", world.dispatcher.user_id)
    assert "Accepted by Dora Dispatcher" in item.message
    # and the phone learns it when it sends the command again
    with clock.frozen_at(at("16:05")):
        (answer,) = phone.sync(phone_command_again(item))
    assert (answer.status, answer.result["time_entry_id"]) == ("applied", entry.pk)


def phone_command_again(item: SyncCommand):
    from fixflow.field.sync import CommandIn

    return CommandIn(mutation_id=item.mutation_id, seq=item.seq, type=item.type, work_order_id=item.work_order_ref)


def test_accepting_held_hours_on_invoiced_work_makes_a_late_fact_and_leaves_the_invoice(world, phone, monkeypatch):
    from fixflow.billing import services as billing
    from fixflow.billing.selectors import leakage_report
    from tests.billing.factories import billing_setup, stub_documents

    # given a closed work order with an hour of time, invoiced at 12:00 (documents stubbed: not under test)
    billing_setup(world)
    stub_documents(monkeypatch)
    wo = closed_work_order(world, minutes=60)
    with clock.frozen_at(at("12:00")):
        [draft] = billing.invoice_closed_work(actor=world.accountant, client_ids=[wo.client_id])
        invoice = billing.invoice_issue(actor=world.accountant, invoice_id=draft.pk)
    issued = (invoice.number, invoice.total_gross, list(invoice.lines.values_list("id", "quantity", "net_amount")))
    # and half an hour entered offline arrives after the invoice
    hours = {"started_at": at("10:00").isoformat(), "duration_minutes": 30}
    with clock.frozen_at(at("14:00")):
        (answer,) = phone.sync(phone.command("time.add", wo, hours, when=at("10:05")))
    assert (answer.status, SyncCommand.objects.get().hold_reason) == ("held", HoldReason.INVOICED)
    # when the dispatcher accepts it
    with clock.frozen_at(at("15:00")):
        held.held_accept(actor=world.dispatcher, command_id=SyncCommand.objects.get().pk)
    # then the time is recorded and reported as leaking; the issued invoice is exactly as it was
    late = TimeEntry.objects.get(work_order=wo, duration_minutes=30)
    invoice.refresh_from_db()
    assert (invoice.number, invoice.total_gross, list(invoice.lines.values_list("id", "quantity", "net_amount"))) == (
        issued
    )
    assert WorkOrder.objects.get(pk=wo.pk).billing_status == BillingStatus.INVOICED
    with clock.frozen_at(at("15:05")):
        facts = leakage_report(actor=world.accountant).late_facts
    assert [(f.kind, f.fact_id) for f in facts] == [("time", late.pk)]


def test_a_held_timer_start_without_its_stop_waits_for_it(world, phone):
    wo = closed_work_order(world)
    with clock.frozen_at(at("15:00")):
        phone.sync(phone.command("timer.start", wo, when=at("10:40")))
    item = SyncCommand.objects.get()
    with pytest.raises(services.DomainError) as refused:
        held.held_accept(actor=world.dispatcher, command_id=item.pk)
    assert "stop has not arrived" in refused.value.message
    with clock.frozen_at(at("15:10")):
        (stop,) = phone.sync(phone.command("timer.stop", wo, when=at("11:00")))
    assert stop.status == "held"
    held.held_accept(actor=world.dispatcher, command_id=item.pk)
    assert TimeEntry.objects.get(work_order=wo).duration_minutes == 20


def test_rejecting_a_held_item_records_nothing_and_tells_the_technician_why(world, phone):
    # given
    wo = closed_work_order(world)
    with clock.frozen_at(at("15:00")):
        phone.sync(phone.command("part.use", wo, {"part_id": None, "note": "Gasket", "quantity": 2}, when=at("10:20")))
    item = SyncCommand.objects.get()
    # when
    held.held_reject(actor=world.dispatcher, command_id=item.pk, reason="Already on the van stock list")
    # then
    assert not PartUsage.objects.filter(work_order=wo).exists()
    item.refresh_from_db()
    assert (item.status, item.resolution, item.resolution_reason) == (
        "refused",
        "rejected",
        "Already on the van stock list",
    )
    (answer,) = phone.sync(phone_command_again(item))
    assert answer.status == "refused"
    assert answer.message == "Rejected by Dora Dispatcher: Already on the van stock list"


def test_a_held_item_is_decided_once(world, phone):
    wo = closed_work_order(world)
    with clock.frozen_at(at("15:00")):
        phone.sync(phone.command("note.add", wo, {"body": "Late finding"}, when=at("10:20")))
    item = SyncCommand.objects.get()
    held.held_accept(actor=world.dispatcher, command_id=item.pk)
    with pytest.raises(services.DomainError) as refused:
        held.held_reject(actor=world.dispatcher, command_id=item.pk, reason="No")
    assert refused.value.code == "conflict"
    with pytest.raises(services.DomainError):
        held.held_accept(actor=world.dispatcher, command_id=item.pk)
    assert WorkOrderNote.objects.filter(work_order=wo).count() == 1


def test_a_timer_started_and_stopped_on_closed_work_is_held_as_one_entry(world, phone):
    # given: the office closed the work while the technician's phone ran its timer offline
    wo = closed_work_order(world)
    with clock.frozen_at(at("15:00")):
        answers = phone.sync(
            phone.command("timer.start", wo, when=at("10:40")), phone.command("timer.stop", wo, when=at("11:25"))
        )
    assert [a.status for a in answers] == ["held", "held"]
    (item,) = held.held_queryset(actor=world.dispatcher)  # the stop is decided with its start
    # when the dispatcher accepts the start
    held.held_accept(actor=world.dispatcher, command_id=item.pk)
    # then one entry of 45 minutes, and both commands are applied
    entry = TimeEntry.objects.get(work_order=wo, technician=world.technician.user, duration_minutes=45)
    assert (entry.started_at, entry.ended_at) == (at("10:40"), at("11:25"))
    assert set(SyncCommand.objects.values_list("status", "resolution")) == {("applied", "accepted")}


def test_records_on_cancelled_work_are_held_too(world, phone):
    wo = started_work_order(world)
    services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to="cancelled", reason="Duplicate")
    with clock.frozen_at(at("15:00")):
        (answer,) = phone.sync(phone.command("note.add", wo, {"body": "Found the leak"}, when=at("10:20")))
    assert (answer.status, SyncCommand.objects.get().hold_reason) == ("held", HoldReason.CANCELLED)


def test_records_on_work_changed_in_the_office_but_still_open_are_accepted(world, phone):
    # given the office changed the description and the priority meanwhile
    wo = started_work_order(world)
    services.work_order_update(
        actor=world.dispatcher, work_order_id=wo.pk, data={"priority": "high", "description": "Urgent now"}
    )
    with clock.frozen_at(at("15:00")):
        answers = phone.sync(
            phone.command("note.add", wo, {"body": "Seal worn"}, when=at("10:00")),
            phone.command("time.add", wo, {"started_at": at("09:00").isoformat(), "duration_minutes": 50}),
        )
    assert [a.status for a in answers] == ["applied", "applied"]


# --- transitions against the server's state (rule 5) ----------------------------------------------------


def test_completing_offline_a_work_order_cancelled_online_is_refused_and_says_why(world, phone):
    # given the office cancelled the work order at 11:00
    wo = started_work_order(world)
    with clock.frozen_at(at("11:00")):
        services.work_order_transition(
            actor=world.dispatcher, work_order_id=wo.pk, to="cancelled", reason="Client sold the building"
        )
    wo.refresh_from_db()
    complete = phone.command(
        "transition", wo, {"to": "completed", "resolution_notes": "Seal replaced"}, when=at("11:30")
    )
    # when the phone's completion arrives
    with clock.frozen_at(at("14:00")):
        (answer,) = phone.sync(complete)
    # then it is refused, with what happened in the office, and nothing changed
    assert answer.status == "refused"
    assert "cancelled in the office" in answer.message and "Client sold the building" in answer.message
    assert answer.work_order["status"] == "cancelled"
    after = WorkOrder.objects.get(pk=wo.pk)
    assert (after.status, after.version, after.resolution_notes) == (Status.CANCELLED, wo.version, "")
    # and it stays visible: a replay answers the same, the bundle still shows the cancelled work order
    with clock.frozen_at(at("14:05")):
        (again,) = phone.sync(complete)
    assert (again.status, again.message) == (answer.status, answer.message)
    from fixflow.field.bundle import bundle

    with clock.frozen_at(at("14:10")):
        shown = {w["id"]: w["status"] for w in bundle(actor=world.technician)["work_orders"]}
    assert shown[wo.pk] == "cancelled"


def test_a_transition_the_table_does_not_allow_is_refused(world, phone):
    wo = planned_work_order(world)
    with clock.frozen_at(at("10:00")):
        (answer,) = phone.sync(phone.command("transition", wo, {"to": "closed"}))
    assert answer.status == "refused" and answer.result["code"] == "invalid_transition"


def test_starting_work_that_someone_else_already_started_changes_nothing(world, phone):
    wo = started_work_order(world)
    with clock.frozen_at(at("10:00")):
        (answer,) = phone.sync(phone.command("transition", wo, {"to": "in_progress"}))
    assert answer.status == "applied" and answer.result["unchanged"] is True
    assert WorkOrder.objects.get(pk=wo.pk).version == wo.version


def test_putting_on_hold_without_a_kind_of_reason_uses_other(world, phone):
    wo = started_work_order(world)
    with clock.frozen_at(at("10:00")):
        (answer,) = phone.sync(phone.command("transition", wo, {"to": "on_hold", "reason": "Client not there"}))
    wo.refresh_from_db()
    assert answer.status == "applied"
    assert (wo.status, wo.hold_reason, wo.status_reason) == ("on_hold", "other", "Client not there")


def test_completion_with_a_missing_guard_is_refused_with_the_guard(world, phone):
    wo = started_work_order(world)
    with clock.frozen_at(at("10:00")):
        (answer,) = phone.sync(phone.command("transition", wo, {"to": "completed", "resolution_notes": "Done"}))
    assert answer.status == "refused"
    assert "Check pressure" in answer.message and answer.result["code"] == "transition_guard_failed"


# --- field edits: merged by field, conflicts held (rule 4) ------------------------------------------------


def test_different_fields_changed_on_both_sides_merge(world, phone):
    # given the phone edited the resolution notes from version v while the office renamed the work order
    wo = started_work_order(world)
    base_version = wo.version
    from fixflow.field.bundle import bundle

    bundle(actor=world.technician)  # the phone got its base values
    services.work_order_update(actor=world.dispatcher, work_order_id=wo.pk, data={"title": "Pump P1: seal"})
    edit = phone.command(
        "field.update", wo, {"fields": {"resolution_notes": "Replaced the seal"}}, base_version=base_version
    )
    # when
    with clock.frozen_at(at("12:00")):
        (answer,) = phone.sync(edit)
    # then both changes stand
    wo.refresh_from_db()
    assert answer.status == "applied" and answer.result["applied"] == ["resolution_notes"]
    assert (wo.title, wo.resolution_notes) == ("Pump P1: seal", "Replaced the seal")


def test_the_same_field_changed_on_both_sides_is_a_conflict_for_the_office(world, phone):
    # given the phone and the office both wrote the resolution notes, starting from empty notes
    wo = started_work_order(world)
    base_version = wo.version
    services.work_order_update(
        actor=world.dispatcher, work_order_id=wo.pk, data={"resolution_notes": "Office: seal ordered"}
    )
    edit = phone.command(
        "field.update",
        wo,
        {"fields": {"resolution_notes": "Replaced the seal"}, "base": {"resolution_notes": ""}},
        base_version=base_version,
    )
    # when
    with clock.frozen_at(at("12:00")):
        (answer,) = phone.sync(edit)
    # then the office's value stays until someone decides; the three values are kept side by side
    wo.refresh_from_db()
    assert answer.status == "held"
    assert wo.resolution_notes == "Office: seal ordered"
    (item,) = held.held_queryset(actor=world.dispatcher)
    assert item.conflict == {
        "resolution_notes": {"base": "", "server": "Office: seal ordered", "device": "Replaced the seal"}
    }
    summary = held.held_summary(item)
    assert summary["conflicts"] == [
        {
            "field": "resolution_notes",
            "label": "resolution notes",
            "base": "",
            "server": "Office: seal ordered",
            "device": "Replaced the seal",
        }
    ]
    # when the dispatcher accepts the phone's value
    held.held_accept(actor=world.dispatcher, command_id=item.pk)
    wo.refresh_from_db()
    assert wo.resolution_notes == "Replaced the seal"


def test_a_field_edit_without_a_known_base_is_taken_only_if_nothing_changed(world, phone):
    wo = started_work_order(world)
    edit = phone.command("field.update", wo, {"fields": {"resolution_notes": "A"}}, base_version=wo.version)
    stale = phone.command("field.update", wo, {"fields": {"resolution_notes": "B"}}, base_version=wo.version)
    with clock.frozen_at(at("12:00")):
        first, second = phone.sync(edit, stale)
    assert (first.status, second.status) == ("applied", "held")
    assert WorkOrder.objects.get(pk=wo.pk).resolution_notes == "A"


def test_a_field_edit_without_a_base_version_is_refused(world, phone):
    wo = started_work_order(world)
    with clock.frozen_at(at("12:00")):
        (answer,) = phone.sync(phone.command("field.update", wo, {"fields": {"resolution_notes": "A"}}))
    assert (answer.status, answer.result["field"]) == ("refused", "base_version")


def test_a_technician_cannot_edit_office_fields_from_the_field(world, phone):
    wo = started_work_order(world)
    edit = phone.command("field.update", wo, {"fields": {"priority": "low"}}, base_version=wo.version)
    with clock.frozen_at(at("12:00")):
        (answer,) = phone.sync(edit)
    assert (answer.status, answer.result["code"]) == ("refused", "permission_denied")
    assert WorkOrder.objects.get(pk=wo.pk).priority == wo.priority


# --- one timer per technician and work order across devices (rule 7) ---------------------------------------


def test_one_timer_runs_across_two_devices(world, phone):
    # given the technician's phone and tablet
    wo = started_work_order(world)
    tablet = Phone(world.technician)
    # when both start the timer, the tablet stops it, then the phone stops it too
    with clock.frozen_at(at("12:00")):
        (a,) = phone.sync(phone.command("timer.start", wo, when=at("10:00")))
        (b,) = tablet.sync(tablet.command("timer.start", wo, when=at("10:05")))
        (c,) = tablet.sync(tablet.command("timer.stop", wo, when=at("11:00")))
        (d,) = phone.sync(phone.command("timer.stop", wo, when=at("11:10")))
    # then one entry, from the first start to the first stop
    (entry,) = TimeEntry.objects.filter(work_order=wo, technician=world.technician.user)
    assert (entry.started_at, entry.ended_at, entry.duration_minutes) == (at("10:00"), at("11:00"), 60)
    assert [x.status for x in (a, b, c, d)] == ["applied"] * 4
    assert b.result["already_running"] and d.result["already_stopped"]
    assert Device.objects.filter(user=world.technician.user).count() == 2


def test_a_timer_start_inside_time_another_device_recorded_starts_nothing(world, phone):
    wo = started_work_order(world)
    tablet = Phone(world.technician)
    with clock.frozen_at(at("12:00")):
        phone.sync(
            phone.command("timer.start", wo, when=at("10:00")), phone.command("timer.stop", wo, when=at("11:00"))
        )
        (late,) = tablet.sync(tablet.command("timer.start", wo, when=at("10:30")))
    assert late.status == "applied" and late.result["already_running"]
    assert not TimeEntry.objects.filter(work_order=wo, ended_at=None).exists()


def test_stopping_a_timer_that_never_ran_is_refused(world, phone):
    wo = started_work_order(world)
    with clock.frozen_at(at("12:00")):
        (answer,) = phone.sync(phone.command("timer.stop", wo, when=at("11:00")))
    assert answer.status == "refused" and "no running timer" in answer.message


def test_completing_stops_the_running_timer_at_the_phones_time(world, phone):
    wo = started_work_order(world)
    item = wo.checklist.get()
    with clock.frozen_at(at("13:00")):
        answers = phone.sync(
            phone.command("timer.start", wo, when=at("10:00")),
            phone.command("checklist.answer", wo, {"item_id": item.pk, "value": 2.4}, when=at("10:30")),
            phone.command("transition", wo, {"to": "completed", "resolution_notes": "Seal replaced"}, when=at("11:15")),
        )
    assert [a.status for a in answers] == ["applied"] * 3
    entry = TimeEntry.objects.get(work_order=wo)
    assert (entry.ended_at, entry.duration_minutes) == (at("11:15"), 75)
    wo.refresh_from_db()
    assert (wo.status, wo.completed_at) == (Status.COMPLETED, at("11:15"))


# --- the other records -----------------------------------------------------------------------------------


def test_parts_checklist_notes_and_readings_are_recorded_at_the_phones_time(world, phone, part):
    from fixflow.assets import meters
    from fixflow.assets.models import MeterReading

    wo = started_work_order(world)
    meter = meters.meter_create(actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Hours", "unit": "h"})
    item = wo.checklist.get()
    with clock.frozen_at(at("13:00")):
        answers = phone.sync(
            phone.command("part.use", wo, {"part_id": part.pk, "quantity": "2"}, when=at("10:00")),
            phone.command("checklist.answer", wo, {"item_id": item.pk, "value": "2.5"}, when=at("10:05")),
            phone.command("note.add", wo, {"body": "Bearing noisy"}, when=at("10:10")),
            phone.command("reading.add", wo, {"meter_id": meter.pk, "value": 1234.5}, when=at("10:15")),
        )
    assert [a.status for a in answers] == ["applied"] * 4
    usage = PartUsage.objects.get(work_order=wo)
    assert (usage.part_id, usage.quantity, usage.unit_price) == (part.pk, 2, part.sale_price)
    item.refresh_from_db()
    assert (item.value, item.answered_at) == ("2.5", at("10:05"))
    reading = MeterReading.objects.get(meter=meter)
    assert (reading.value, reading.read_at, reading.source, reading.work_order_id) == (
        1234.5,
        at("10:15"),
        "phone",
        wo.pk,
    )
    events = dict(
        WorkOrderEvent.objects.filter(work_order=wo, kind__in=["part", "note"]).values_list("kind", "occurred_at")
    )
    assert events == {"part": at("10:00"), "note": at("10:10")}


def test_a_photo_is_stored_with_a_thumbnail(world, phone):
    wo = started_work_order(world)
    photo = {"caption": "Worn seal", "content_type": "image/jpeg", "data_base64": base64.b64encode(jpeg()).decode()}
    with clock.frozen_at(at("13:00")):
        (answer,) = phone.sync(phone.command("photo.add", wo, photo, when=at("10:00")))
    att = Attachment.objects.get(work_order=wo)
    assert answer.status == "applied" and answer.result["attachment_id"] == att.pk
    assert (att.caption, att.content_type, bool(att.thumbnail)) == ("Worn seal", "image/jpeg", True)
    assert "data_base64" in SyncCommand.objects.get().payload  # the bytes are not kept in the log…
    assert SyncCommand.objects.get().payload["data_base64"].endswith("stored>")  # …once stored


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"content_type": "application/pdf", "data_base64": "JVBERi0xLjcK"}, "unsupported_file_type", "content_type"),
        (
            {"content_type": "image/jpeg", "data_base64": base64.b64encode(b"%PDF-1.7\n" * 20).decode()},
            "unsupported_file_type",
            "data_base64",
        ),
        ({"content_type": "image/jpeg", "data_base64": "not base64!"}, "validation_error", "data_base64"),
        ({"content_type": "image/jpeg", "data_base64": ""}, "validation_error", "data_base64"),
    ],
)
def test_a_photo_of_the_wrong_type_or_unreadable_is_refused(world, phone, payload, code, field):
    wo = started_work_order(world)
    with clock.frozen_at(at("13:00")):
        (answer,) = phone.sync(phone.command("photo.add", wo, payload))
    assert (answer.status, answer.result["code"], answer.result["field"]) == ("refused", code, field)
    assert not Attachment.objects.filter(work_order=wo).exists()


def test_a_photo_over_the_size_limit_is_refused(world, phone, settings):
    settings.FIXFLOW_MAX_UPLOAD_BYTES = 10_000
    wo = started_work_order(world)
    big = jpeg((1600, 1200))
    assert len(big) > 10_000
    photo = {"content_type": "image/jpeg", "data_base64": base64.b64encode(big).decode()}
    with clock.frozen_at(at("13:00")):
        (answer,) = phone.sync(phone.command("photo.add", wo, photo))
    assert (answer.status, answer.result["code"]) == ("refused", "upload_too_large")


def test_a_signature_is_stored_and_a_bad_one_refused(world, phone):
    wo = started_work_order(world)
    good = {"signer_name": "Hans Meier", "data_base64": base64.b64encode(png()).decode()}
    not_png = {"signer_name": "Hans Meier", "data_base64": base64.b64encode(jpeg((50, 20))).decode()}
    too_big = {
        "signer_name": "Hans Meier",
        "data_base64": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 1048577).decode(),
    }
    no_name = {"signer_name": " ", "data_base64": base64.b64encode(png()).decode()}
    with clock.frozen_at(at("13:00")):
        answers = phone.sync(
            *(phone.command("signature.add", wo, p, when=at("11:00")) for p in (not_png, too_big, no_name, good))
        )
    assert [(a.status, a.result.get("field")) for a in answers] == [
        ("refused", "data_base64"),
        ("refused", "data_base64"),
        ("refused", "signer_name"),
        ("applied", None),
    ]
    wo.refresh_from_db()
    assert (wo.signed_by_name, wo.signed_at, bool(wo.signature)) == ("Hans Meier", at("11:00"), True)


# --- what may not be synced ---------------------------------------------------------------------------------


def test_an_unknown_kind_of_change_is_refused_and_nothing_with_a_legal_number_is_made(world, phone):
    from fixflow.billing.models import Invoice

    wo = started_work_order(world)
    with clock.frozen_at(at("13:00")):
        (answer,) = phone.sync(phone.command("invoice.create", wo, {"lines": []}))
    assert answer.status == "refused" and "Unknown kind of change" in answer.message
    assert not Invoice.objects.exists()


def test_work_of_another_organization_is_not_found(world, other_world, phone):
    foreign = planned_work_order(other_world)
    with clock.frozen_at(at("13:00")):
        (answer,) = phone.sync(phone.command("note.add", foreign, {"body": "x"}))
    assert (answer.status, answer.result["code"], answer.work_order) == ("refused", "not_found", None)


def test_a_technician_not_assigned_may_not_record_even_on_closed_work(world):
    wo = closed_work_order(world)
    other = Phone(world.technician2)
    with clock.frozen_at(at("13:00")):
        open_answer, closed_answer = other.sync(
            other.command("note.add", started_work_order(world), {"body": "x"}),
            other.command("note.add", wo, {"body": "x"}),
        )
    assert (open_answer.status, closed_answer.status) == ("refused", "refused")
    assert not SyncCommand.objects.filter(status=CommandStatus.HELD).exists()


def test_another_persons_mutation_id_is_not_answered_with_their_result(world, phone):
    wo = started_work_order(world)
    mine = phone.command("note.add", wo, {"body": "Mine"})
    with clock.frozen_at(at("13:00")):
        phone.sync(mine)
        (answer,) = Phone(world.technician2).sync(mine)
    assert answer.status == "refused" and answer.result == {}
    assert WorkOrderNote.objects.count() == 1


def test_only_people_who_work_in_the_field_sync(world):
    with pytest.raises(services.DomainError) as refused:
        Phone(world.accountant).sync()
    assert refused.value.code == "permission_denied"


def test_the_office_decides_only_its_own_organizations_held_items(world, other_world, phone):
    wo = closed_work_order(world)
    with clock.frozen_at(at("15:00")):
        phone.sync(phone.command("note.add", wo, {"body": "Late"}))
    item = SyncCommand.objects.get()
    for attempt in (
        lambda: held.held_accept(actor=other_world.dispatcher, command_id=item.pk),
        lambda: held.held_reject(actor=other_world.dispatcher, command_id=item.pk, reason="x"),
    ):
        with pytest.raises(services.DomainError) as refused:
            attempt()
        assert refused.value.code == "not_found"
    with pytest.raises(services.DomainError) as refused:
        held.held_accept(actor=world.technician, command_id=item.pk)
    assert refused.value.code == "permission_denied"
    assert SyncCommand.objects.get().resolution == ""


def test_rejecting_needs_a_reason(world, phone):
    wo = closed_work_order(world)
    with clock.frozen_at(at("15:00")):
        phone.sync(phone.command("note.add", wo, {"body": "Late"}))
    with pytest.raises(services.DomainError) as refused:
        held.held_reject(actor=world.dispatcher, command_id=SyncCommand.objects.get().pk, reason="  ")
    assert (refused.value.code, refused.value.field) == ("validation_error", "reason")


def test_resolved_items_leave_the_queue(world, phone):
    wo = closed_work_order(world)
    with clock.frozen_at(at("15:00")):
        phone.sync(phone.command("note.add", wo, {"body": "a"}), phone.command("note.add", wo, {"body": "b"}))
    first, second = held.held_queryset(actor=world.dispatcher).order_by("seq")
    held.held_accept(actor=world.dispatcher, command_id=first.pk)
    assert list(held.held_queryset(actor=world.dispatcher)) == [second]
    assert held.held_count(actor=world.dispatcher) == 1 and held.held_count(actor=world.technician) == 0
    assert SyncCommand.objects.get(pk=first.pk).resolution == Resolution.ACCEPTED
