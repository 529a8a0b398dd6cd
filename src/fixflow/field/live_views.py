"""Live updates of the office pages (issue 4): a Server-Sent Events stream of the organization's work
order events, fed by the process's hub (:mod:`fixflow.field.live`, decision 0011).

``GET /live/events/`` needs a signed-in member whose role holds ``field.live`` (admins and
dispatchers: they see every work order of the organization, so an event of any of them is theirs to
hear about). Technicians, requesters and client users are refused (403): their pages are the phone
app and the portal, and a stream filtered to one client's or one technician's work orders would need a
look-up per event and subscriber. The stream only says *which* work order changed; the page then
fetches its own fragments through the ordinary, permission-checked views.

Messages::

    retry: 3000                  how long the browser waits before it reconnects
    id: 1234                     the last event id: sent back as Last-Event-ID on reconnect
    event: hello | work_order | reset
    data: {"id": 1235, "work_order": 17}

``hello`` opens the stream; ``work_order`` names one committed event; ``reset`` says events were
missed (too many to replay, or a page that fell behind): refresh everything once. The page names the
newest event it knows of: ``Last-Event-ID`` when the browser reconnects, ``?since=`` (rendered into the
page) on the first connection; what came after it is replayed first. A comment line
(``: keep-alive``) every 15 seconds keeps proxies from closing an idle stream.

Under ASGI (``fixflow serve``) the stream stays open. Under a WSGI server (Django's threaded test
server, a WSGI deployment) an endless stream would hold a thread forever, so the answer is the replay
and a 5-second ``retry``: the browser comes back by itself, which turns the same page code into a poll.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.defaults import permission_denied

from . import live

RETRY_MS = 3000
POLL_RETRY_MS = 5000  # under WSGI: the browser reconnects this often
HEARTBEAT_SECONDS = 15.0
REPLAY_LIMIT = 500  # events replayed after a reconnect; more than that: "reset"


def _frame(event: str, data: dict, *, event_id: int | None = None, retry: int | None = None) -> str:
    lines = []
    if retry is not None:
        lines.append(f"retry: {retry}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"event: {event}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    return "\n".join(lines) + "\n\n"


def _event_frame(event: live.LiveEvent, event_id: int) -> str:
    return _frame("work_order", {"id": event.id, "work_order": event.work_order_id}, event_id=event_id)


def _organization_of(request) -> int | HttpResponse:
    """The subscriber's organization, or the answer that refuses them (the checks of ``actor_required``)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = request.actor
    if not actor:
        return HttpResponseForbidden(render(request, "web/no_membership.html").content)
    if not actor.can("field.live"):
        # rendered here, on the request's thread: an exception raised by an async view is rendered on
        # another thread, whose database connection the end of the request would not close
        return permission_denied(request, PermissionDenied(_("Your role does not follow work orders live.")))
    return actor.organization_id


def _last_event_id(request) -> int | None:
    """Where the page is: the ``Last-Event-ID`` a reconnecting browser sends, else ``?since=`` (the newest
    event when the page was rendered, so that nothing between the render and the connection is lost);
    ValueError when it is not an event id."""
    raw = (request.headers.get("Last-Event-ID") or request.GET.get("since") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(raw)
    return int(raw)


@require_GET
async def live_events(request):
    """The organization's work order events as Server-Sent Events (see the module docstring)."""
    organization_id = await sync_to_async(_organization_of)(request)
    if isinstance(organization_id, HttpResponse):
        return organization_id
    try:
        last_id = _last_event_id(request)
    except ValueError:
        return HttpResponseBadRequest(
            _("Last-Event-ID (or since) must be the id of an event this server sent."),
            content_type="text/plain; charset=utf-8",
        )
    if isinstance(request, ASGIRequest):
        content = _stream(organization_id, last_id)
    else:
        content = iter(await sync_to_async(_replay_once)(organization_id, last_id))
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each message on at once
    return response


async def _stream(organization_id: int, last_id: int | None) -> AsyncIterator[str]:
    """The open stream: hello, what the page missed, then each event as the hub hands it over."""
    # The sign-in check used this request's database connection; a stream may stay open for hours.
    await sync_to_async(connections.close_all)()
    hub = live.hub()
    try:
        sub = await hub.subscribe(organization_id)
    except TimeoutError:  # the database cannot be reached: the browser tries again later
        yield _frame("unavailable", {}, retry=RETRY_MS * 5)
        return
    try:
        cursor = hub.last_id if last_id is None else last_id
        missed: list[live.LiveEvent] = []
        if last_id is not None:
            missed = await hub.events_after(last_id, organization_id=organization_id, limit=REPLAY_LIMIT + 1)
        yield _frame("hello", {}, event_id=cursor, retry=RETRY_MS)
        if len(missed) > REPLAY_LIMIT:
            cursor = max(cursor, hub.last_id, missed[-1].id)
            yield _frame("reset", {}, event_id=cursor)
            missed = []
        for event in missed:
            cursor = max(cursor, event.id)
            yield _event_frame(event, cursor)
        replayed = {event.id for event in missed}
        while True:
            event = await sub.next(HEARTBEAT_SECONDS)
            if sub.take_overflow():
                cursor = max(cursor, hub.last_id)
                yield _frame("reset", {}, event_id=cursor)
            elif event is None:
                yield ": keep-alive\n\n"
            else:  # this one and whatever else is waiting, in one write: bursts cost one send per page
                frames = []
                for each in [event, *sub.drain()]:
                    if each.id not in replayed:
                        cursor = max(cursor, each.id)
                        frames.append(_event_frame(each, cursor))
                if frames:
                    yield "".join(frames)
    finally:
        # the client went away (Django cancels the response) or the server stops
        hub.unsubscribe(sub)


def _replay_once(organization_id: int, last_id: int | None) -> list[str]:
    """WSGI: hello, the events after ``last_id`` and the end of the stream; the browser reconnects."""
    if last_id is None:
        return [_frame("hello", {}, event_id=live.read_latest_event_id(), retry=POLL_RETRY_MS)]
    missed = live.read_events_after(last_id, organization_id=organization_id, limit=REPLAY_LIMIT + 1)
    frames = [_frame("hello", {}, event_id=last_id, retry=POLL_RETRY_MS)]
    if len(missed) > REPLAY_LIMIT:
        return [*frames, _frame("reset", {}, event_id=live.read_latest_event_id())]
    return frames + [_event_frame(event, event.id) for event in missed]


urlpatterns = [path("live/events/", live_events, name="live_events")]
