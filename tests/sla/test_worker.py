"""``fixflow worker``: the periodic scheduler's claims, the worker's once mode, signals, and the SLA jobs."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.tasks import task
from django_tasks_db.models import DBTaskResult

from fixflow import cli
from fixflow.core import scheduler
from fixflow.core.clock import frozen_at
from fixflow.core.models import ScheduledJob
from fixflow.service import services as wo_services
from fixflow.sla.models import SlaClock, SlaNotification

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@task()
def stamp(word: str = "tick") -> str:
    """A task for these tests: records that it ran in its return value."""
    return f"{word} done"


JOB = scheduler.Job(name="test.stamp", task="tests.sla.test_worker.stamp", interval_seconds=60)


def queued(task_name: str = "tests.sla.test_worker.stamp"):
    return DBTaskResult.objects.filter(task_path=task_name)


def test_the_sla_jobs_are_registered(db):
    # when the registry loads the apps' jobs modules
    jobs = {j.name: j for j in scheduler.jobs()}

    # then the scan runs every minute and the re-send sweep every five, both resolvable tasks
    assert jobs["sla.scan"].interval_seconds == 60
    assert jobs["sla.scan"].resolve().module_path == "fixflow.sla.tasks.sla_scan"
    assert jobs["sla.send_unsent_notifications"].interval_seconds == 300
    assert jobs["sla.send_unsent_notifications"].resolve().module_path == (
        "fixflow.sla.jobs.send_unsent_sla_notifications"
    )


@pytest.mark.parametrize(
    ("name", "task_path", "interval", "message"),
    [
        ("", "a.b", 60, "1 to 100 characters"),
        ("x" * 101, "a.b", 60, "1 to 100 characters"),
        ("ok", "nodots", 60, "dotted path"),
        ("ok", "a.b", 0, "at most once a second"),
    ],
)
def test_registering_a_bad_job_is_refused(name, task_path, interval, message):
    with pytest.raises(ValueError, match=message):
        scheduler.register(name, task_path, interval_seconds=interval)


def test_a_due_job_is_queued_once_by_two_claimers_one_after_the_other(db):
    # given a job that has never run
    # when two workers look for due jobs at the same instant
    first = scheduler.run_due(worker_id="worker-a", now=T0, job_list=[JOB])
    second = scheduler.run_due(worker_id="worker-b", now=T0, job_list=[JOB])

    # then the first queues it, the second finds it already taken
    assert (first, second) == (["test.stamp"], [])
    assert queued().count() == 1
    row = ScheduledJob.objects.get(name="test.stamp")
    assert (row.next_run_at, row.last_run_at, row.last_worker) == (T0 + timedelta(seconds=60), T0, "worker-a")

    # and it is due again one interval later, not before
    assert scheduler.run_due(worker_id="worker-b", now=T0 + timedelta(seconds=59), job_list=[JOB]) == []
    assert scheduler.run_due(worker_id="worker-b", now=T0 + timedelta(seconds=60), job_list=[JOB]) == ["test.stamp"]
    assert queued().count() == 2
    assert ScheduledJob.objects.get(name="test.stamp").last_worker == "worker-b"


def test_a_worker_that_was_down_runs_a_job_once_not_once_per_missed_interval(db):
    # given a job last run an hour ago
    scheduler.run_due(worker_id="w", now=T0, job_list=[JOB])

    # when the worker comes back an hour later and ticks twice
    later = T0 + timedelta(hours=1)
    runs = scheduler.run_due(worker_id="w", now=later, job_list=[JOB]) + scheduler.run_due(
        worker_id="w", now=later + timedelta(seconds=5), job_list=[JOB]
    )

    # then it ran once, and the next run is one interval after that
    assert runs == ["test.stamp"]
    assert ScheduledJob.objects.get(name="test.stamp").next_run_at == later + timedelta(seconds=60)


def test_a_shorter_interval_takes_effect_at_once(db):
    # given a job that ran with a one-hour interval
    hourly = scheduler.Job(name="test.stamp", task=JOB.task, interval_seconds=3600)
    scheduler.run_due(worker_id="w", now=T0, job_list=[hourly])

    # when it is registered every minute instead
    runs = scheduler.run_due(worker_id="w", now=T0 + timedelta(seconds=60), job_list=[JOB])

    # then it is due a minute after the last run, not an hour
    assert runs == ["test.stamp"]
    assert ScheduledJob.objects.get(name="test.stamp").interval_seconds == 60


def test_a_job_whose_task_cannot_be_queued_stays_due_and_does_not_block_the_others(db):
    # given a job pointing at a task that does not exist, registered before a good one
    broken = scheduler.Job(name="test.broken", task="tests.sla.test_worker.no_such_task", interval_seconds=60)

    # when the scheduler ticks
    runs = scheduler.run_due(worker_id="w", now=T0, job_list=[broken, JOB])

    # then the good job is queued and the broken one was given back (still due)
    assert runs == ["test.stamp"]
    assert ScheduledJob.objects.get(name="test.broken").next_run_at == T0
    assert ScheduledJob.objects.get(name="test.broken").last_run_at is None


@pytest.mark.django_db(transaction=True)
def test_many_workers_ticking_at_the_same_moment_queue_a_due_job_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so claims cannot overlap")
    # given a job that is due, and eight workers
    scheduler.ensure_rows([JOB], now=T0)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def tick(n: int) -> None:
        try:
            barrier.wait(10)
            results.extend(scheduler.run_due(worker_id=f"worker-{n}", now=T0, job_list=[JOB]))
        except Exception as exc:  # reported below: an assert in a thread would pass silently
            errors.append(exc)
        finally:
            connections.close_all()

    # when they all tick at once
    threads = [threading.Thread(target=tick, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    # then exactly one of them queued it
    assert errors == []
    assert results == ["test.stamp"]
    assert queued().count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_in_once_mode_runs_the_queued_tasks_and_exits():
    # given two queued tasks
    stamp.enqueue("first")
    stamp.enqueue(word="second")

    # when the worker runs once, without the scheduler
    code = scheduler.run_worker(once=True, with_scheduler=False, worker_id="test-once")

    # then both ran successfully, by this worker
    assert code == 0
    results = {r.return_value: r for r in queued()}
    assert set(results) == {"first done", "second done"}
    assert {r.status for r in results.values()} == {"SUCCESSFUL"}
    assert all(r.worker_ids == ["test-once"] for r in results.values())


@pytest.mark.django_db(transaction=True)
def test_fixflow_worker_once_queues_the_due_sla_jobs_and_runs_them(world, settings):
    # given a work order whose resolution target is breached (24×7 default policy, normal: 2400 min)
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    from django.core import mail

    mail.outbox = []
    with frozen_at(T0):
        wo = wo_services.work_order_create(
            actor=world.dispatcher, title="Pump P1 leaks", site_id=world.site.pk, equipment_id=world.equipment.pk
        )
    breached = T0 + timedelta(minutes=2400, seconds=1)

    # when `fixflow worker --once` runs then (the one clock is frozen: the scan's "now" is the breach)
    with frozen_at(breached), _restoring_log_levels():
        code = cli.main(["worker", "--once", "--worker-id", "cli-test", "--log-level", "WARNING"])

    # then the scheduler queued the scan and the sweep, and the worker ran them and the sending
    assert code == 0
    scan = ScheduledJob.objects.get(name="sla.scan")
    assert (scan.last_run_at, scan.last_worker, scan.next_run_at) == (
        breached,
        "cli-test",
        breached + timedelta(seconds=60),
    )
    assert ScheduledJob.objects.get(name="sla.send_unsent_notifications").last_worker == "cli-test"
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert queued("fixflow.sla.tasks.sla_scan").get().return_value == {"at_risk": 0, "breached": 2}
    assert set(SlaClock.objects.filter(work_order=wo).values_list("state", flat=True)) == {"breached"}
    assert SlaNotification.objects.filter(sent_at=None).count() == 0
    assert sorted(m.subject for m in mail.outbox) == [
        f"[Fixflow] SLA breached: {wo.number} Pump P1 leaks — resolution",
        f"[Fixflow] SLA breached: {wo.number} Pump P1 leaks — response",
    ]

    # when it runs again a moment later: no job is due, nothing more is sent
    before = DBTaskResult.objects.count()
    with frozen_at(breached + timedelta(seconds=30)), _restoring_log_levels():
        assert cli.main(["worker", "--once", "--worker-id", "cli-test-2", "--log-level", "WARNING"]) == 0
    assert DBTaskResult.objects.count() == before
    # and a minute later the scan runs again but breaches nothing twice
    with frozen_at(breached + timedelta(seconds=61)), _restoring_log_levels():
        assert cli.main(["worker", "--once", "--log-level", "WARNING"]) == 0
    assert queued("fixflow.sla.tasks.sla_scan").count() == 2
    assert len(mail.outbox) == 2


class _restoring_log_levels:  # noqa: N801 (used as a context manager)
    """``fixflow worker`` sets the levels of the app's loggers; give the test run its own back."""

    names = ("fixflow", "django_tasks_db", "django.tasks")

    def __enter__(self):
        import logging

        self.saved = {n: logging.getLogger(n).level for n in self.names}

    def __exit__(self, *exc):
        import logging

        for name, level in self.saved.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize(
    "argv",
    [
        ["worker", "--tick", "0"],
        ["worker", "--interval", "-1"],
        ["worker", "--max-tasks", "0"],
        ["worker", "--worker-id", "x" * 65],
        ["worker", "--bogus"],
    ],
)
def test_bad_worker_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_the_worker_process_stops_gracefully_on_sigterm(tmp_path):
    # given a migrated database of its own, and `fixflow worker` started the way `fixflow demo` starts it
    env = {
        **os.environ,
        "FIXFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "FIXFLOW_DATA_DIR": str(tmp_path),
        "FIXFLOW_HTTPS": "0",
        "FIXFLOW_LOG_LEVEL": "INFO",
    }
    subprocess.run(
        [sys.executable, "-m", "fixflow.cli", "manage", "migrate", "--verbosity", "0"],
        env=env,
        check=True,
        timeout=120,
    )
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log_file:
        process = cli.start_worker_process(
            "--tick", "0.2", "--interval", "0.2", env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            # when it has queued and run the SLA scan once
            deadline = time.monotonic() + 120  # a wait bound for a loaded machine, not a measurement
            while "path=fixflow.sla.tasks.sla_scan state=SUCCESSFUL" not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            # and is sent SIGTERM
            assert cli.stop_process(process, timeout=60) == 0  # exit code 0: it stopped by itself, not killed
        finally:
            if process.poll() is None:
                process.kill()

    # then it stopped cleanly, and said so
    output = log_path.read_text()
    assert "Scheduler started" in output
    assert "Queued scheduled job sla.scan" in output
    assert f"Received {signal.strsignal(signal.SIGTERM)}" in output
    assert "stopped after" in output
