"""The live event hub of one server process: committed work order events, fanned out to the office pages.

Every ``WorkOrderEvent`` row (a transition, time, a part, a note, a photo, a checklist answer, a
signature…) is an event the dispatcher's open pages want to hear about within two seconds. One hub
per server process (per event loop) learns about them from the database and hands each one to the
subscribers of its organization (decision 0011):

- **PostgreSQL**: one dedicated psycopg 3 async connection runs ``LISTEN fixflow_live``. A trigger on
  the event table (migration ``field/0002_live_notify``) sends ``NOTIFY`` with ``"<event id> <work
  order id> <organization id>"``; PostgreSQL delivers it only when the writing transaction commits,
  to every listening process. After the listener reconnects it reads the events it missed.
- **SQLite**: a short poll (:attr:`Hub.poll_seconds`) of the event table for ids above the last one
  seen, shared by every subscriber of the process. SQLite has one writer at a time, so ids are
  committed in order and the poll misses none.

The source runs only while someone listens (and :attr:`Hub.linger_seconds` longer, so that a page
change does not reconnect it). Its database work runs on one thread of its own; nothing else keeps
state in memory: a page that reconnects names the last event it saw (``Last-Event-ID``) and
:meth:`Hub.events_after` reads what it missed from the table.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)

CHANNEL = "fixflow_live"  # also in migrations/0002_live_notify.py


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """A committed work order event, as small as the notification that announces it."""

    id: int
    work_order_id: int
    organization_id: int

    @classmethod
    def from_payload(cls, payload: str) -> LiveEvent | None:
        """``"<event id> <work order id> <organization id>"``; None for anything else."""
        parts = payload.split()
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        return cls(int(parts[0]), int(parts[1]), int(parts[2]))


# --- database reads (run on the hub's own thread) ------------------------------------------------


def read_latest_event_id() -> int:
    """The highest event id committed so far (0 without events): where a new subscriber starts."""
    from django.db.models import Max

    from fixflow.service.models import WorkOrderEvent

    return WorkOrderEvent.objects.aggregate(last=Max("id"))["last"] or 0


def read_events_after(after_id: int, *, organization_id: int | None = None, limit: int = 1000) -> list[LiveEvent]:
    """The events above ``after_id`` (of one organization, when given), oldest first."""
    from fixflow.service.models import WorkOrderEvent

    qs = WorkOrderEvent.objects.filter(id__gt=after_id)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    rows = qs.order_by("id").values_list("id", "work_order_id", "organization_id")[:limit]
    return [LiveEvent(*row) for row in rows]


def _listener_conninfo() -> dict[str, Any]:
    """Django's connection parameters for the default database, minus what only Django's own cursors use."""
    params = dict(connections["default"].get_connection_params())
    for key in ("cursor_factory", "context", "pool"):
        params.pop(key, None)
    return params


# --- subscribers ---------------------------------------------------------------------------------


class Subscription:
    """One open page's queue of events of its organization.

    A page that cannot keep up (its queue is full) is not blocked on: it is marked ``overflowed`` and
    told to refresh everything once (:meth:`take_overflow`).
    """

    def __init__(self, organization_id: int, queue_size: int):
        self.organization_id = organization_id
        self._queue: asyncio.Queue[LiveEvent] = asyncio.Queue(queue_size)
        self.overflowed = False

    def offer(self, event: LiveEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    async def next(self, timeout: float) -> LiveEvent | None:
        """The next event, or None when ``timeout`` seconds passed without one."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    def drain(self) -> list[LiveEvent]:
        """The events already waiting, without waiting: sent together with the one just taken."""
        events = []
        while not self._queue.empty():
            events.append(self._queue.get_nowait())
        return events

    def take_overflow(self) -> bool:
        """Whether events were dropped since the last call; empties the queue when they were."""
        if not self.overflowed:
            return False
        while not self._queue.empty():
            self._queue.get_nowait()
        self.overflowed = False
        return True


# --- the hub -------------------------------------------------------------------------------------


class Hub:
    """The live events of one process: one database source, any number of subscribers."""

    poll_seconds = 0.5  # SQLite: how often the event table is read
    linger_seconds = 10.0  # keep the source this long after the last subscriber left
    ready_timeout = 10.0  # a subscriber waits this long for the source to start
    queue_size = 1000  # events waiting per subscriber before it is told to refresh everything
    catch_up_limit = 1000  # events read after a listener reconnect

    def __init__(self, vendor: str | None = None):
        self.vendor = vendor or connections["default"].vendor
        self.last_id = 0  # the highest event id seen committed
        self._subscribers: dict[int, set[Subscription]] = {}
        self._task: asyncio.Task | None = None
        self._ready: asyncio.Event | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._executor: ThreadPoolExecutor | None = None

    # subscribers

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    @property
    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def subscribe(self, organization_id: int) -> Subscription:
        """A new subscriber, once the source is running (every event committed from now on reaches it).

        Raises ``TimeoutError`` when the source could not start (the database is unreachable); the
        subscriber is then already removed.
        """
        sub = Subscription(organization_id, self.queue_size)
        self._subscribers.setdefault(organization_id, set()).add(sub)
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        try:
            await self._start()
        except BaseException:
            self.unsubscribe(sub)
            raise
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a subscriber; the source stops ``linger_seconds`` after the last one left."""
        subs = self._subscribers.get(sub.organization_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.organization_id]
        if not self._subscribers and self._task is not None and self._linger is None:
            loop = asyncio.get_running_loop()
            self._linger = loop.call_later(self.linger_seconds, self._stop_if_idle)

    def publish(self, events: Iterable[LiveEvent]) -> None:
        """Hand each event to the subscribers of its organization (in the hub's event loop)."""
        for event in events:
            self.last_id = max(self.last_id, event.id)
            for sub in self._subscribers.get(event.organization_id, ()):
                sub.offer(event)

    async def events_after(self, after_id: int, *, organization_id: int, limit: int) -> list[LiveEvent]:
        """The organization's events with an id above ``after_id``, oldest first (a reconnecting page)."""
        return await self._db(read_events_after, after_id, organization_id=organization_id, limit=limit)

    async def latest_event_id(self) -> int:
        return await self._db(read_latest_event_id)

    # the source

    async def _start(self) -> None:
        if not self.is_running:
            self._ready = asyncio.Event()
            source = self._listen if self.vendor == "postgresql" else self._poll
            # A context of its own: the source outlives the request that started it (and its
            # thread-sensitive executor, which Django closes when that request ends).
            self._task = asyncio.get_running_loop().create_task(source(), context=contextvars.Context())
        await asyncio.wait_for(self._ready.wait(), self.ready_timeout)

    def _stop_if_idle(self) -> None:
        self._linger = None
        if not self._subscribers and self._task is not None:
            self._task.cancel()
            self._task = None
            if self._executor is not None:  # the SQLite poll's connection
                self._executor.submit(connections.close_all)

    async def aclose(self) -> None:
        """Stop the source and close the hub's database connections (server shutdown, tests)."""
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, connections.close_all)
            self._executor.shutdown(wait=False)
            self._executor = None

    async def _db(self, fn: Callable, *args, **kwargs):
        """Run ORM code on the hub's own thread. On PostgreSQL the connection goes back (to the pool)
        after each call; SQLite keeps it for the next poll. A failed call closes it."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fixflow-live")
        keep = self.vendor == "sqlite"

        def call():
            try:
                return fn(*args, **kwargs)
            except Exception:
                connections.close_all()
                raise
            finally:
                if not keep:
                    connections.close_all()

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def _poll(self) -> None:
        """SQLite: read the events above the last id seen, every ``poll_seconds``."""
        failing = False
        while True:
            try:
                if self._ready.is_set():
                    self.publish(await self._db(read_events_after, self.last_id, limit=self.catch_up_limit))
                else:
                    self.last_id = max(self.last_id, await self._db(read_latest_event_id))
                    self._ready.set()
            except Exception as exc:  # noqa: BLE001 - a locked or lost database: try again next time
                # once per outage, not twice a second
                logger.log(logging.DEBUG if failing else logging.WARNING, "live events: polling failed: %s", exc)
                failing = True
            else:
                if failing:
                    logger.warning("live events: polling the event table works again")
                failing = False
            await asyncio.sleep(self.poll_seconds)

    async def _listen(self) -> None:
        """PostgreSQL: LISTEN on a dedicated connection; reconnect (and catch up) when it is lost."""
        import psycopg

        delay = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**_listener_conninfo(), autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if self._ready.is_set():  # a reconnect: what was committed while we were away
                        self.publish(await self._db(read_events_after, self.last_id, limit=self.catch_up_limit))
                    else:
                        self.last_id = max(self.last_id, await self._db(read_latest_event_id))
                        self._ready.set()
                    delay = 0.5
                    async for notify in conn.notifies():
                        event = LiveEvent.from_payload(notify.payload)
                        if event is not None:
                            self.publish([event])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database went away: keep trying
                logger.warning("live events: the listener lost its connection (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """The hub of the running event loop (one per server process under uvicorn)."""
    loop = asyncio.get_running_loop()
    for other in [lp for lp in _hubs if lp.is_closed()]:  # loops of finished tests
        del _hubs[other]
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]


async def shutdown() -> None:
    """Close the running loop's hub, if it has one (server shutdown, the end of a test)."""
    current = _hubs.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.aclose()
