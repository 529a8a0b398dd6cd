"""Live events (issue 4, decision 0011): the process's hub and the ``/live/events/`` stream.

The hub is exercised against the real database of the run: LISTEN/NOTIFY (the trigger of
``field/0002_live_notify``) on PostgreSQL, the poll of the event table on SQLite. Writes go through the
services, on a thread of their own with their own connection and transaction, as a request would. The
stream is exercised through Django's real ASGI handler (the one ``fixflow serve`` runs), with a client
that disconnects the way uvicorn reports it.

Waiting for an event uses a generous deadline; no test asserts how fast it came (``fixflow bench
--live-only`` measures that). Absence is proven by order: a later sentinel event arrives first.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.db import connection, connections, transaction
from django.test import Client

from fixflow.field import live
from fixflow.field.live import Hub, LiveEvent, Subscription
from fixflow.service import services
from fixflow.service.models import WorkOrderEvent
from tests.service.helpers import work_order_in

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 60.0  # seconds an answer or event may take on a loaded machine (the target is 2; the first request
# of a process also imports and compiles what the pages need)


@pytest.fixture(autouse=True)
def _requests_close_their_connections(monkeypatch):
    """Each ASGI request runs on a thread of its own: let Django close its connection when it ends (as the
    pool does in production), so that no session outlives the test database."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


def run(coro):
    """Run a scenario on a fresh event loop, then close the loop's hub (its connections) whatever happened."""

    async def scenario():
        try:
            return await coro
        finally:
            await live.shutdown()

    return asyncio.run(scenario())


async def in_thread(fn, *args, **kwargs):
    """``fn`` on a worker thread, with its own connection, committed (or rolled back) before it returns."""

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)


def note(world, wo, body: str = "Seal replaced") -> LiveEvent:
    """The technician adds a note; the event row it wrote, as the hub announces it."""
    services.note_create(actor=world.technician, work_order_id=wo.pk, body=body)
    row = WorkOrderEvent.objects.filter(work_order=wo).latest("id")
    return LiveEvent(row.pk, wo.pk, wo.organization_id)


async def next_event(sub: Subscription) -> LiveEvent:
    event = await sub.next(DEADLINE)
    assert event is not None, f"no event within {DEADLINE} s"
    return event


# --- the hub -------------------------------------------------------------------------------------


def test_an_event_committed_by_a_technician_reaches_a_subscriber_of_the_organization(world):
    # given a work order of the technician's and a dispatcher's page subscribed
    wo = work_order_in(world, "in_progress")

    async def scenario():
        sub = await live.hub().subscribe(world.org.pk)
        # when the technician starts the timer, adds a note and puts the work on hold
        await in_thread(services.timer_start, actor=world.technician, work_order_id=wo.pk)
        written = await in_thread(note, world, wo)
        await in_thread(
            services.work_order_transition,
            actor=world.technician,
            work_order_id=wo.pk,
            to="on_hold",
            hold_reason="waiting_for_parts",
            reason="Seal kit ordered",
        )
        return [await next_event(sub) for _ in range(3)], written

    received, written = run(scenario())

    # then the subscriber hears of each event, in order, with its work order and organization
    events = list(WorkOrderEvent.objects.filter(work_order=wo).order_by("id"))
    assert [e.kind for e in events] == ["time", "note", "transition"]
    assert received == [LiveEvent(e.pk, wo.pk, world.org.pk) for e in events]
    assert received[1] == written


def test_an_event_of_a_rolled_back_transaction_never_reaches_anyone(world):
    # given a subscriber
    wo = work_order_in(world, "in_progress")

    def note_then_fail():
        with transaction.atomic():
            note(world, wo, "Never saved")
            raise RuntimeError("the request failed after the note")

    async def scenario():
        sub = await live.hub().subscribe(world.org.pk)
        # when a note is written in a transaction that rolls back, then another one is committed
        with pytest.raises(RuntimeError):
            await in_thread(note_then_fail)
        sentinel = await in_thread(note, world, wo, "Saved")
        return await next_event(sub), sentinel

    first, sentinel = run(scenario())

    # then the first event the subscriber hears of is the committed one
    assert first == sentinel
    assert WorkOrderEvent.objects.filter(work_order=wo).count() == 1


def test_a_subscriber_hears_only_of_its_own_organization(world, other_world):
    # given a dispatcher of each organization subscribed, and a work order in each
    ours = work_order_in(world, "in_progress")
    theirs = work_order_in(other_world, "in_progress")

    async def scenario():
        hub = live.hub()
        sub_ours = await hub.subscribe(world.org.pk)
        sub_theirs = await hub.subscribe(other_world.org.pk)
        # when a technician of each writes, ours, theirs, then ours again
        first = await in_thread(note, world, ours)
        foreign = await in_thread(note, other_world, theirs)
        second = await in_thread(note, world, ours)
        got_ours = [await next_event(sub_ours), await next_event(sub_ours)]
        got_theirs = await next_event(sub_theirs)
        return (first, foreign, second), got_ours, got_theirs

    (first, foreign, second), got_ours, got_theirs = run(scenario())

    # then each hears only of its own work orders
    assert got_ours == [first, second]
    assert got_theirs == foreign


def test_the_source_stops_when_the_last_subscriber_leaves_and_starts_again_for_the_next(world):
    wo = work_order_in(world, "in_progress")

    async def scenario():
        hub = live.hub()
        hub.linger_seconds = 0
        sub = await hub.subscribe(world.org.pk)
        running_with_one = hub.is_running
        hub.unsubscribe(sub)
        await asyncio.sleep(0.05)  # the linger timer of 0 s fires
        running_with_none = hub.is_running
        again = await hub.subscribe(world.org.pk)
        written = await in_thread(note, world, wo)
        return running_with_one, running_with_none, await next_event(again), written

    running_with_one, running_with_none, received, written = run(scenario())

    assert (running_with_one, running_with_none) == (True, False)
    assert received == written


def test_a_subscriber_that_falls_behind_is_told_to_refresh_instead_of_blocking_the_others():
    # given a hub whose subscribers hold two events
    hub = Hub(vendor="sqlite")
    hub.queue_size = 2

    async def scenario():
        slow = Subscription(1, hub.queue_size)
        hub._subscribers[1] = {slow}
        # when three events arrive before it reads any
        hub.publish([LiveEvent(i, 10, 1) for i in (1, 2, 3)])
        return slow.take_overflow(), slow.take_overflow(), hub.last_id, await slow.next(0.01)

    overflowed, again, last_id, left = asyncio.run(scenario())

    # then it is marked once, its queue emptied, and the hub moved on
    assert (overflowed, again, last_id, left) == (True, False, 3, None)


@pytest.mark.parametrize("payload", ["", "1 2", "1 2 3 4", "a b c", "1 -2 3", "1 2 3x"])
def test_a_notification_that_is_not_ours_is_ignored(payload):
    assert LiveEvent.from_payload(payload) is None


def test_a_notification_names_the_event_its_work_order_and_its_organization():
    assert LiveEvent.from_payload("123 45 6") == LiveEvent(123, 45, 6)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY exists on PostgreSQL only")
def test_the_listener_reconnects_and_catches_up_when_its_connection_is_lost(world):
    # given a subscriber, and its hub's listening connection
    wo = work_order_in(world, "in_progress")

    def kill_listener() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query = %s",
                [f"LISTEN {live.CHANNEL}"],
            )
            return len(cursor.fetchall())

    async def scenario():
        sub = await live.hub().subscribe(world.org.pk)
        # when the database drops that connection and a technician writes meanwhile
        killed = await in_thread(kill_listener)
        written = await in_thread(note, world, wo)
        return killed, await next_event(sub), written

    killed, received, written = run(scenario())

    # then the event still arrives (notified after the reconnect, or read by the catch-up)
    assert killed == 1
    assert received == written


# --- the stream, through Django's ASGI handler -------------------------------------------------


class Stream:
    """A GET of ``/live/events/`` through ``ASGIHandler``, as uvicorn drives it; ``close()`` disconnects."""

    def __init__(self, user=None, headers: dict[str, str] | None = None, query: str = ""):
        self.user, self.headers, self.query = user, headers or {}, query
        self.messages: asyncio.Queue = asyncio.Queue()
        self._gone = asyncio.Event()
        self._buffer = ""
        self.task: asyncio.Task | None = None

    async def open(self) -> dict:
        """Start the request; returns the response start (status and headers)."""
        cookie = await in_thread(self._session_cookie) if self.user else ""
        headers = [(b"host", b"testserver"), (b"cookie", cookie.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/live/events/",
            "raw_path": b"/live/events/",
            "query_string": self.query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        self.task = asyncio.create_task(ASGIHandler()(scope, self._receive, self.messages.put))
        start = await asyncio.wait_for(self.messages.get(), DEADLINE)
        assert start["type"] == "http.response.start"
        return {"status": start["status"], "headers": {k.decode().lower(): v.decode() for k, v in start["headers"]}}

    def _session_cookie(self) -> str:
        client = Client()
        client.force_login(self.user)
        return f"sessionid={client.cookies['sessionid'].value}"

    async def _receive(self):
        if not getattr(self, "_sent_body", False):
            self._sent_body = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def body(self) -> str:
        """The whole body of a finished (non-streaming) answer."""
        parts = []
        while True:
            message = await asyncio.wait_for(self.messages.get(), DEADLINE)
            parts.append(message.get("body", b"").decode())
            if not message.get("more_body"):
                return "".join(parts)

    async def frame(self) -> dict:
        """The next message of the stream (comments included), parsed."""
        while "\n\n" not in self._buffer:
            message = await asyncio.wait_for(self.messages.get(), DEADLINE)
            self._buffer += message.get("body", b"").decode()
        raw, self._buffer = self._buffer.split("\n\n", 1)
        fields: dict = {}
        for line in raw.split("\n"):
            name, _, value = line.partition(":")
            fields.setdefault(name or "comment", value.strip())
        if "data" in fields:
            fields["data"] = json.loads(fields["data"])
        return fields

    async def close(self) -> None:
        """The browser goes away: uvicorn reports ``http.disconnect``; the handler must end."""
        self._gone.set()
        await asyncio.wait_for(self.task, DEADLINE)


def test_the_stream_starts_with_a_retry_hint_and_the_last_event_id_then_sends_events(world):
    wo = work_order_in(world, "in_progress")
    before = note(world, wo, "Before the page opened")

    async def scenario():
        stream = Stream(world.dispatcher.user)
        start = await stream.open()
        hello = await stream.frame()
        written = await in_thread(note, world, wo)
        event = await stream.frame()
        await stream.close()
        return start, hello, event, written

    start, hello, event, written = run(scenario())

    assert start["status"] == 200
    assert start["headers"]["content-type"].startswith("text/event-stream")
    assert start["headers"]["cache-control"] == "no-cache, no-store"
    assert start["headers"]["x-accel-buffering"] == "no"
    assert hello == {"retry": "3000", "id": str(before.id), "event": "hello", "data": {}}
    assert event == {
        "id": str(written.id),
        "event": "work_order",
        "data": {"id": written.id, "work_order": wo.pk},
    }


def test_a_browser_that_disconnects_is_forgotten(world):
    async def scenario():
        hub = live.hub()
        hub.linger_seconds = 0
        stream = Stream(world.dispatcher.user)
        await stream.open()
        await stream.frame()
        with_page = hub.subscriber_count
        await stream.close()
        await asyncio.sleep(0.05)
        return with_page, hub.subscriber_count, hub.is_running

    with_page, after, running = run(scenario())

    assert (with_page, after, running) == (1, 0, False)


def test_a_reconnecting_browser_gets_what_it_missed_of_its_organization_only(world, other_world):
    # given a page that saw the stream up to some event, then lost the connection
    ours = work_order_in(world, "in_progress")
    theirs = work_order_in(other_world, "in_progress")
    seen = note(world, ours, "Seen")
    # while it was away: ours, another tenant's, ours
    missed_first = note(world, ours, "Missed 1")
    note(other_world, theirs, "Not ours")
    missed_second = note(world, ours, "Missed 2")

    async def scenario():
        stream = Stream(world.dispatcher.user, {"Last-Event-ID": str(seen.id)})
        await stream.open()
        frames = [await stream.frame() for _ in range(3)]
        await stream.close()
        return frames

    hello, first, second = run(scenario())

    # then it resumes from where it was and gets exactly its organization's missed events
    assert (hello["event"], hello["id"]) == ("hello", str(seen.id))
    assert [(f["event"], f["data"]["id"]) for f in (first, second)] == [
        ("work_order", missed_first.id),
        ("work_order", missed_second.id),
    ]


def test_a_page_connecting_for_the_first_time_gets_what_happened_since_it_was_rendered(world):
    # given a page rendered when ``rendered`` was the newest event, and a note committed before it connects
    wo = work_order_in(world, "in_progress")
    rendered = note(world, wo, "Before the render")
    meanwhile = note(world, wo, "Between the render and the connection")

    async def scenario():
        stream = Stream(world.dispatcher.user, query=f"since={rendered.id}")
        await stream.open()
        frames = [await stream.frame() for _ in range(2)]
        await stream.close()
        return frames

    hello, event = run(scenario())

    assert (hello["event"], hello["id"]) == ("hello", str(rendered.id))
    assert (event["event"], event["data"]["id"]) == ("work_order", meanwhile.id)


def test_a_browser_that_missed_too_much_is_told_to_refresh_everything(world, monkeypatch):
    wo = work_order_in(world, "in_progress")
    seen = note(world, wo, "Seen")
    for i in range(3):
        note(world, wo, f"Missed {i}")
    monkeypatch.setattr("fixflow.field.live_views.REPLAY_LIMIT", 2)

    async def scenario():
        stream = Stream(world.dispatcher.user, {"Last-Event-ID": str(seen.id)})
        await stream.open()
        frames = [await stream.frame() for _ in range(2)]
        await stream.close()
        return frames

    hello, reset = run(scenario())

    assert hello["event"] == "hello"
    assert reset["event"] == "reset"
    assert int(reset["id"]) == WorkOrderEvent.objects.latest("id").pk


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 19])
@pytest.mark.parametrize("where", ["header", "query"])
def test_a_last_event_id_that_is_not_ours_is_refused(world, value, where):
    async def scenario():
        if where == "header":
            stream = Stream(world.dispatcher.user, {"Last-Event-ID": value})
        else:
            stream = Stream(world.dispatcher.user, query=f"since={value}")
        start = await stream.open()
        body = await stream.body()
        await asyncio.wait_for(stream.task, DEADLINE)
        return start, body

    start, body = run(scenario())

    assert start["status"] == 400
    assert "Last-Event-ID" in body


@pytest.mark.parametrize("role", ["technician", "requester", "client_user", "accountant"])
def test_roles_outside_the_office_may_not_subscribe(world, role):
    async def scenario():
        hub = live.hub()
        stream = Stream(world.actors[role].user)
        start = await stream.open()
        await stream.body()
        await asyncio.wait_for(stream.task, DEADLINE)
        return start, hub.subscriber_count

    start, subscribers = run(scenario())

    assert start["status"] == 403
    assert subscribers == 0


def test_an_anonymous_caller_is_sent_to_sign_in():
    async def scenario():
        stream = Stream()
        start = await stream.open()
        await stream.body()
        await asyncio.wait_for(stream.task, DEADLINE)
        return start

    start = run(scenario())

    assert start["status"] == 302
    assert start["headers"]["location"].startswith("/login/?next=/live/events/")


def test_under_wsgi_the_answer_is_the_replay_and_a_retry_so_the_browser_polls(world):
    # given a page that saw up to one event, and one more committed since
    wo = work_order_in(world, "in_progress")
    seen = note(world, wo, "Seen")
    missed = note(world, wo, "Missed")
    client = Client()
    client.force_login(world.dispatcher.user)

    # when it asks through a WSGI handler (Django's test client)
    response = client.get("/live/events/", headers={"Last-Event-ID": str(seen.id)})

    # then the stream ends after the replay, and tells the browser to come back in 5 s
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert body == (
        f"retry: 5000\nid: {seen.id}\nevent: hello\ndata: {{}}\n\n"
        f'id: {missed.id}\nevent: work_order\ndata: {{"id":{missed.id},"work_order":{wo.pk}}}\n\n'
    )


# --- the pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "included"),
    [("dispatcher", True), ("admin", True), ("technician", False), ("accountant", False), ("client_user", False)],
)
def test_the_office_pages_load_the_live_script_once_for_the_roles_that_may_subscribe(world, role, included):
    wo = work_order_in(world, "in_progress", client=world.client, site=world.site)
    client = Client()
    client.force_login(world.actors[role].user)

    for url in ("/", "/work-orders/", f"/work-orders/{wo.pk}/"):
        html = client.get(url).content.decode()
        assert html.count("field/live.js") == (1 if included else 0), (role, url)
        if included:  # with the newest event at render time, where the stream starts
            latest = WorkOrderEvent.objects.latest("id").pk if WorkOrderEvent.objects.exists() else 0
            assert f'data-events="/live/events/" data-since="{latest}"' in html


def test_the_live_benchmark_signs_in_one_office_page_per_subscriber_and_leaves_nothing_behind():
    from django.contrib.sessions.models import Session

    from fixflow import bench, bench_live
    from fixflow.core.models import Organization, User

    # when the benchmark seeds three pages
    seeded = bench_live.seed_live(3)

    # then each page is a dispatcher's signed-in session, and the work orders are in progress
    users = {int(Session.objects.get(pk=key).get_decoded()["_auth_user_id"]) for key in seeded["sessions"]}
    assert len(users) == 3
    assert set(User.objects.filter(pk__in=users).values_list("memberships__role", flat=True)) == {"dispatcher"}
    assert WorkOrderEvent.objects.filter(work_order_id__in=seeded["work_orders"]).count() == 3 * bench_live.WORK_ORDERS
    # and the clean-up removes the organization and its people
    bench.purge(seeded["organization_id"], email_domain=bench_live.LIVE_EMAIL_DOMAIN)
    assert not Organization.objects.filter(pk=seeded["organization_id"]).exists()
    assert not User.objects.filter(email__endswith="@" + bench_live.LIVE_EMAIL_DOMAIN).exists()
