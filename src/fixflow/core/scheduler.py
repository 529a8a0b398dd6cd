"""The periodic scheduler of ``fixflow worker``: named jobs that queue a task every N seconds.

Apps register their jobs in a ``jobs.py`` module (found like ``admin.py``: every installed app's
``jobs`` module is imported once) by calling :func:`register`. Each job has a ``ScheduledJob`` row;
whichever worker moves its ``next_run_at`` forward with one conditional UPDATE
(``... SET next_run_at = now + interval WHERE name = ? AND next_run_at <= now``) queues the task, so
with any number of workers each due run is queued exactly once: the database serializes the two
UPDATEs and the second one matches no row any more (PostgreSQL re-checks the WHERE clause on the
row the first one committed; SQLite has one writer at a time).

The claim and the enqueue share one transaction (django-tasks-db queues into the same database), so
a failed enqueue gives the run back. A worker that was down does not catch up missed runs: the next
run is one interval after the late one.

The worker itself is django-tasks-db's ``Worker``; :func:`run_worker` runs it with the scheduler in
a thread beside it, and stops both on SIGTERM or SIGINT (the task that is running finishes first).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType

from django.db import connections, transaction
from django.utils.crypto import get_random_string
from django.utils.module_loading import autodiscover_modules, import_string

from fixflow.core import clock

from .models import ScheduledJob

log = logging.getLogger(__name__)

NAME_MAX_LENGTH = ScheduledJob._meta.get_field("name").max_length
DEFAULT_TICK_SECONDS = 5.0


@dataclass(frozen=True)
class Job:
    """A periodic job: queue the django.tasks task at ``task`` (a dotted path) every ``interval_seconds``."""

    name: str
    task: str
    interval_seconds: int

    def resolve(self):
        """The task object (imported lazily, so registering a job imports nothing of its app)."""
        return import_string(self.task)


_registry: dict[str, Job] = {}
_discovered = False
_discover_lock = threading.Lock()


def register(name: str, task: str, *, interval_seconds: int) -> Job:
    """Register (or replace) the periodic job ``name``. Called at import time of an app's ``jobs.py``."""
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"A job name has 1 to {NAME_MAX_LENGTH} characters: {name!r}")
    if "." not in task:
        raise ValueError(f"Give the task as a dotted path such as 'fixflow.sla.tasks.sla_scan': {task!r}")
    if int(interval_seconds) < 1:
        raise ValueError(f"A job runs at most once a second: interval_seconds={interval_seconds!r}")
    job = Job(name=name, task=task, interval_seconds=int(interval_seconds))
    _registry[name] = job
    return job


def unregister(name: str) -> None:
    _registry.pop(name, None)


def jobs() -> list[Job]:
    """Every registered job, by name, after importing the ``jobs`` module of every installed app."""
    global _discovered
    if not _discovered:
        with _discover_lock:
            if not _discovered:
                autodiscover_modules("jobs")
                _discovered = True
    return sorted(_registry.values(), key=lambda j: j.name)


def ensure_rows(job_list: list[Job], *, now: datetime) -> dict[str, ScheduledJob]:
    """The ``ScheduledJob`` rows of these jobs: missing ones created (due at once), intervals followed.

    Reads only, unless a row is missing or an interval changed (a tick writes nothing when no job is
    due). Safe with several workers: creation ignores a row another worker inserted meanwhile.
    """
    names = [j.name for j in job_list]
    rows = {r.name: r for r in ScheduledJob.objects.filter(name__in=names)}
    missing = [j for j in job_list if j.name not in rows]
    if missing:
        ScheduledJob.objects.bulk_create(
            [ScheduledJob(name=j.name, interval_seconds=j.interval_seconds, next_run_at=now) for j in missing],
            ignore_conflicts=True,
        )
        rows.update((r.name, r) for r in ScheduledJob.objects.filter(name__in=[j.name for j in missing]))
    for job in job_list:
        row = rows[job.name]
        if row.interval_seconds == job.interval_seconds:
            continue
        # A shorter interval takes effect at once (one new interval after the last run), not after the
        # longer one has passed.
        row.next_run_at = min(row.next_run_at, (row.last_run_at or now) + timedelta(seconds=job.interval_seconds))
        row.interval_seconds = job.interval_seconds
        ScheduledJob.objects.filter(name=job.name).update(
            interval_seconds=row.interval_seconds, next_run_at=row.next_run_at
        )
    return rows


def claim(job: Job, *, now: datetime, worker_id: str) -> bool:
    """Take the due run of ``job``: True for exactly one caller per run, however many try at once."""
    updated = ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + timedelta(seconds=job.interval_seconds),
        interval_seconds=job.interval_seconds,
        last_run_at=now,
        last_worker=worker_id[:200],
    )
    return updated == 1


def run_due(*, worker_id: str, now: datetime | None = None, job_list: list[Job] | None = None) -> list[str]:
    """Queue the task of every due job that this caller claims; return their names.

    Each claim and its enqueue are one transaction. A job whose task cannot be queued is logged and
    left due (it is tried again on the next tick); the other jobs still run.
    """
    now = now or clock.now()
    job_list = jobs() if job_list is None else job_list
    if not job_list:
        return []
    rows = ensure_rows(job_list, now=now)
    queued = []
    for job in job_list:
        if rows[job.name].next_run_at > now:
            continue  # not due: no write, no lock (the claim below re-checks under the row lock)
        try:
            with transaction.atomic():
                if not claim(job, now=now, worker_id=worker_id):
                    continue
                result = job.resolve().enqueue()
        except Exception:
            log.exception("Could not queue the scheduled job %s (%s)", job.name, job.task)
            continue
        log.info("Queued scheduled job %s (%s) as task %s", job.name, job.task, result.id)
        queued.append(job.name)
    return queued


def new_worker_id() -> str:
    """Unique across the pool and readable in ``last_worker``: host, process and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(8)}"


class Scheduler:
    """Runs :func:`run_due` every ``tick_seconds`` in a thread of its own until :meth:`stop`."""

    def __init__(self, *, worker_id: str, tick_seconds: float = DEFAULT_TICK_SECONDS):
        if tick_seconds <= 0:
            raise ValueError("tick_seconds must be positive")
        self.worker_id = worker_id
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    def tick(self) -> list[str]:
        try:
            return run_due(worker_id=self.worker_id)
        except Exception:  # the database is away for a moment: try again on the next tick
            log.exception("Scheduler tick failed")
            return []
        finally:
            self.ticks += 1
            if self._thread is not None and threading.current_thread() is self._thread:
                connections.close_all()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.tick_seconds)
        log.info("Scheduler stopped")

    def start(self) -> None:
        names = ", ".join(j.name for j in jobs()) or "no jobs"  # imports the apps' jobs.py here, not in the thread
        log.info("Scheduler started (every %ss): %s", self.tick_seconds, names)
        self._thread = threading.Thread(target=self._loop, name="fixflow-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


_SIGNALS = ("SIGINT", "SIGTERM", "SIGQUIT")


def _install_signals(handler) -> dict:
    """Route SIGINT/SIGTERM/SIGQUIT to ``handler``; return the handlers to restore (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for name in _SIGNALS:
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, handler)
    return previous


def _restore_signals(previous: dict) -> None:
    for number, handler in previous.items():
        signal.signal(number, handler)


def run_worker(
    *,
    once: bool = False,
    queue_names: tuple[str, ...] = ("default",),
    interval: float = 1.0,
    tick_seconds: float = DEFAULT_TICK_SECONDS,
    max_tasks: int | None = None,
    worker_id: str | None = None,
    with_scheduler: bool = True,
    backend_name: str = "default",
) -> int:
    """Run django-tasks-db's worker with the scheduler beside it, until SIGTERM/SIGINT.

    ``once``: queue the due jobs, run every ready task, then return (tests, cron). A second signal
    while a task runs ends the process at once (django-tasks-db's behaviour).
    """
    from django_tasks_db.management.commands.db_worker import Worker

    worker_id = worker_id or new_worker_id()
    scheduler = Scheduler(worker_id=worker_id, tick_seconds=tick_seconds) if with_scheduler else None

    class SchedulingWorker(Worker):
        def shutdown(self, signum: int, frame: FrameType | None) -> None:
            if scheduler is not None:
                scheduler.stop()
            super().shutdown(signum, frame)

    worker = SchedulingWorker(
        queue_names=list(queue_names),
        interval=0 if once else interval,
        batch=once,
        backend_name=backend_name,
        startup_delay=not once,
        max_tasks=max_tasks,
        worker_id=worker_id[:64],
        excluded_queue_names=[],
    )
    log.info(
        "Fixflow worker %s: queues %s%s%s",
        worker_id,
        ",".join(queue_names),
        ", scheduler on" if scheduler else ", scheduler off",
        ", once" if once else "",
    )
    previous = _install_signals(worker.shutdown)
    try:
        if scheduler is not None:
            if once:
                queued = scheduler.tick()
                log.info("Scheduler queued %d job(s): %s", len(queued), ", ".join(queued) or "none due")
            else:
                scheduler.start()
        worker.run()
    except SystemExit as exc:  # the worker's signal handler exits this way when idle
        return int(exc.code or 0)
    finally:
        if scheduler is not None:
            scheduler.stop()
            scheduler.join(timeout=30)
        _restore_signals(previous)
        log.info("Fixflow worker %s stopped after %d task(s)", worker_id, worker._run_tasks)
    return 0
