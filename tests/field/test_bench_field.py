"""The field sync benchmark's queue is a real morning's work: every command applies, and the benchmark
organization is removed with everything the sync wrote (the timing itself runs in ``fixflow bench``)."""

from collections import Counter
from datetime import timedelta

from fixflow import bench_field
from fixflow.core import clock
from fixflow.core.models import Organization, User
from fixflow.core.permissions import actor_for
from fixflow.field.bundle import bundle
from fixflow.field.models import Device, SyncCommand
from fixflow.field.sync import CommandIn, sync_commands
from fixflow.service.models import WorkOrder


def test_the_benchmark_queue_applies_in_full_and_is_removed(db):
    # given the benchmark's organization and a queue of 60 commands (three work orders' worth)
    morning = clock.now() - bench_field.STEP * 70
    with clock.frozen_at(morning - timedelta(hours=1)):
        world = bench_field._seed(lambda message: None)
    queue = bench_field._queue(world, 60, morning)
    technician = actor_for(User.objects.get(email=f"technician@{bench_field.FIELD_EMAIL_DOMAIN}"))
    bundle(actor=technician)  # the phone read its bundle before going offline
    # when it is synced
    commands = [CommandIn(**command) for command in queue]
    answers = sync_commands(actor=technician, device_id=commands[0].mutation_id, commands=commands).results
    # then every command of every type applied, and the first work orders are completed
    assert Counter(a.status for a in answers) == {"applied": 60}
    assert {c["type"] for c in queue} == {
        "transition",
        "timer.start",
        "checklist.answer",
        "part.use",
        "note.add",
        "reading.add",
        "time.add",
        "photo.add",
        "field.update",
        "timer.stop",
    }
    assert WorkOrder.objects.filter(status="completed").count() == 60 // 13
    # and the clean-up leaves nothing behind
    bench_field._purge(lambda message: None)
    assert not Organization.objects.filter(name=bench_field.FIELD_ORG_NAME).exists()
    assert not SyncCommand.objects.exists() and not Device.objects.exists()
