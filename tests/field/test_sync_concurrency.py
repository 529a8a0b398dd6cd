"""Replays racing each other (DOMAIN.md §5 rule 2, ARCHITECTURE rule 8), on PostgreSQL: the same batch sent
twice at the same moment — by a phone that retried before its first request answered, or by two devices of
one technician sharing a queue — is applied once, and both answers are the stored outcome."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from fixflow.field.models import Device, SyncCommand
from fixflow.service.models import TimeEntry, WorkOrderEvent, WorkOrderNote

from .conftest import Phone, started_work_order

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _at_once(*calls):
    """Run the calls in threads released together; each thread has its own database connection."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _batch(phone: Phone, wo) -> list:
    notes = [phone.command("note.add", wo, {"body": f"Finding {i}"}) for i in range(15)]
    timer = [phone.command("timer.start", wo), phone.command("timer.stop", wo)]
    return [*notes, *timer]


def test_two_replays_of_the_same_batch_at_once_apply_it_once(world):
    # given a batch of a new device (its device row does not exist yet either)
    wo = started_work_order(world)
    phone = Phone(world.technician)
    commands = _batch(phone, wo)
    # when it arrives twice at the same moment
    first, second = _at_once(lambda: phone.sync(*commands), lambda: phone.sync(*commands))
    # then each command was applied once and both answers say so, with the same results
    assert WorkOrderNote.objects.filter(work_order=wo).count() == 15
    assert TimeEntry.objects.filter(work_order=wo).count() == 1
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="note").count() == 15
    assert SyncCommand.objects.count() == len(commands) and Device.objects.count() == 1
    assert [a.status for a in first] == ["applied"] * len(commands)
    assert [(a.mutation_id, a.status, a.result) for a in first] == [(a.mutation_id, a.status, a.result) for a in second]


def test_the_same_commands_from_two_devices_at_once_are_applied_once(world):
    # given one technician's phone and tablet holding the same queued commands
    wo = started_work_order(world)
    phone = Phone(world.technician)
    tablet = Phone(world.technician)
    commands = _batch(phone, wo)
    # when both send them at once
    answers = _at_once(lambda: phone.sync(*commands), lambda: tablet.sync(*commands))
    # then nothing was applied twice
    assert WorkOrderNote.objects.filter(work_order=wo).count() == 15
    assert TimeEntry.objects.filter(work_order=wo).count() == 1
    assert SyncCommand.objects.count() == len(commands)
    for answer in answers:
        assert {a.status for a in answer} <= {"applied", "pending"}
