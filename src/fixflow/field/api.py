"""The field app in the API: offline sync, the technician's work order bundle, the held queue (issue 4).

Handlers parse input, call one service or selector and present the result. The phone signs in with the
browser session (CSRF header on the sync POST) or a personal token.
"""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from fixflow.core.api_support import actor_of, page_of, page_response

from . import bundle as selectors
from . import held, schemas
from .sync import CommandIn, sync_commands

router = Router()

TAGS = ["field"]


class BundleQuery(Schema):
    days: int = Field(3, ge=1, le=selectors.MAX_DAYS, description="Work due or scheduled within this many days.")


class PartQuery(Schema):
    q: str = Field("", max_length=100, description="Part of the name or SKU, or the whole barcode.")


class PageQuery(Schema):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/field/bundle", response=schemas.BundleOut, url_name="field_bundle", tags=TAGS, summary="Offline bundle")
def field_bundle(request: HttpRequest, query: Query[BundleQuery]):
    """The signed-in technician's assigned work orders to keep on the phone, with everything to work offline."""
    return selectors.bundle(actor=actor_of(request), days=query.days)


@router.get("/field/parts", response=list[schemas.PartOut], url_name="field_parts", tags=TAGS, summary="Find parts")
def field_parts(request: HttpRequest, query: Query[PartQuery]):
    return selectors.part_search(actor=actor_of(request), q=query.q)


@router.post("/field/sync", response=schemas.SyncOut, url_name="field_sync", tags=TAGS, summary="Sync offline changes")
def field_sync(request: HttpRequest, payload: schemas.SyncIn):
    """Apply queued commands once each, in per-device order; answer each: applied, refused, held (or pending)."""
    commands = [CommandIn(**c.model_dump()) for c in payload.commands]
    answer = sync_commands(
        actor=actor_of(request),
        device_id=payload.device_id,
        commands=commands,
        label=request.headers.get("User-Agent", "")[:200],
    )
    return {"server_time": answer.server_time, "results": [vars(a) for a in answer.results]}


@router.get(
    "/field/devices",
    response=page_of(schemas.DeviceOut),
    url_name="field_devices",
    tags=TAGS,
    summary="Devices (own; the office: all)",
)
def field_devices(request: HttpRequest, query: Query[PageQuery]):
    page = selectors.device_list(actor=actor_of(request), cursor=query.cursor, limit=query.limit)
    page.items = [_device(d) for d in page.items]
    return page_response(page)


@router.get(
    "/field/held", response=page_of(schemas.HeldOut), url_name="field_held", tags=TAGS, summary="Held from the field"
)
def field_held(request: HttpRequest, query: Query[PageQuery]):
    from fixflow.core.pagination import paginate

    qs = held.held_queryset(actor=actor_of(request))
    page = paginate(qs, ordering=["received_at"], cursor=query.cursor, limit=query.limit)
    page.items = [held.held_summary(c) for c in page.items]
    return page_response(page)


@router.post(
    "/field/held/{id}/accept",
    response=schemas.HeldOut,
    url_name="field_held_accept",
    tags=TAGS,
    summary="Accept a held command",
)
def field_held_accept(request: HttpRequest, id: int):  # noqa: A002
    return held.held_summary(held.held_accept(actor=actor_of(request), command_id=id))


@router.post(
    "/field/held/{id}/reject",
    response=schemas.HeldOut,
    url_name="field_held_reject",
    tags=TAGS,
    summary="Reject a held command",
)
def field_held_reject(request: HttpRequest, id: int, payload: schemas.RejectIn):  # noqa: A002
    return held.held_summary(held.held_reject(actor=actor_of(request), command_id=id, reason=payload.reason))


def _device(d) -> dict:
    return {
        "id": d.pk,
        "device_id": d.device_id,
        "user": {"id": d.user_id, "name": str(d.user)},
        "label": d.label,
        "first_seen_at": d.first_seen_at,
        "last_seen_at": d.last_seen_at,
        "last_seq": d.last_seq,
        "pending": d.pending,
        "held": d.held,
    }
