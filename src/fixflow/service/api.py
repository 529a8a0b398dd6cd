"""Templates, work requests, work orders and what is recorded on them, in the API.

Handlers parse input, call one service (writes) or selector (reads, scoped to the actor) and present
the result; they hold no rules of their own. Transitions are sub-resources
(``POST /work-orders/{id}/transitions``); every list is a keyset page ``{items, next_cursor}``.
"""

import base64
import binascii
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from fixflow.core.api_support import actor_of, if_match_version, page_of, page_response, set_etag
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.files import StoredFileResponse
from fixflow.core.pagination import Page

from . import schemas, selectors, services
from .choices import BillingStatus, Priority, RequestStatus, WorkOrderType
from .choices import Status as WorkOrderStatus
from .selectors import work_order_queryset

router = Router()

WORK_ORDERS = ["work orders"]
RECORDING = ["work order recording"]


# --- helpers --------------------------------------------------------------------------------------


def _csv(values: list[str] | None, allowed, field: str) -> list[str]:
    """Values of a list filter given repeated (``?status=a&status=b``) or comma-separated (``a,b``)."""
    allowed_values = list(getattr(allowed, "values", allowed))
    out = []
    for value in values or []:
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            if part not in allowed_values:
                raise validation(
                    f"{part!r} is not a valid {field.replace('_', ' ')}; use one of {', '.join(allowed_values)}.",
                    field=field,
                )
            out.append(part)
    return out


def _user_filter(value: str | None, field: str) -> str | None:
    if value in (None, ""):
        return None
    if value == "me" or value.isdigit():
        return value
    raise validation(f"{field} must be a user id or 'me'.", field=field)


def _instant(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 instant with an offset from a query parameter (a ``+`` sent unencoded arrives as a space)."""
    if value in (None, ""):
        return None
    text = value.strip()
    candidates = [text]
    if " " in text:
        head, _sep, tail = text.rpartition(" ")
        candidates.append(f"{head}+{tail}")
    for candidate in candidates:
        try:
            instant = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if instant.tzinfo is None:
            raise validation(
                f"{field} needs an offset, e.g. {instant.isoformat()}Z or {instant.isoformat()}+01:00.", field=field
            )
        return instant
    raise validation(
        f"{value!r} is not an ISO 8601 instant; send {field} like 2026-03-02T08:00:00+01:00 (URL-encode the '+').",
        field=field,
    )


def _work_order_out(request: HttpRequest, response: HttpResponse, pk: int):
    wo = selectors.work_order_detail(actor=actor_of(request), pk=pk)
    _attach_sla(wo)
    set_etag(response, wo.version)
    return wo


def _attach_sla(wo) -> None:
    """The state, due instant and business time left of each current SLA target (``WorkOrderOut.sla``).

    Two queries (the applied snapshot and the current clocks), whatever the number of targets.
    """
    from django.db.models import Prefetch, prefetch_related_objects

    from fixflow.core import clock
    from fixflow.sla.choices import Target
    from fixflow.sla.engine import clock_status
    from fixflow.sla.models import SlaClock

    prefetch_related_objects(
        [wo], "sla", Prefetch("sla_clocks", queryset=SlaClock.objects.filter(is_current=True), to_attr="current_clocks")
    )
    sla = getattr(wo, "sla", None) if _has_sla(wo) else None
    if sla is None:
        wo.sla_targets = []
        return
    order = {t: i for i, t in enumerate(Target.values)}
    now = clock.now()
    rows = sorted(wo.current_clocks, key=lambda r: order.get(r.target, len(order)))
    wo.sla_targets = [clock_status(row, sla, now) for row in rows]


def _has_sla(wo) -> bool:
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return wo.sla is not None
    except ObjectDoesNotExist:
        return False


def _created(response: HttpResponse, path: str) -> None:
    response["Location"] = f"/api/v1/{path}"


def _attachment_created(request, response, file, caption, is_client_visible, **owner):
    """Store an upload on a work order or request (``work_order_id=`` or ``work_request_id=``): 201 + Location."""
    att = services.attachment_add(
        actor=actor_of(request), upload=file, caption=caption, is_client_visible=is_client_visible, **owner
    )
    _created(response, f"attachments/{att.pk}")
    return Status(201, att)


def _page(page: Page) -> dict[str, Any]:
    return page_response(page)


# --- templates ------------------------------------------------------------------------------------


@router.get(
    "/templates",
    response=page_of(schemas.TemplateOut),
    url_name="template_list",
    tags=["templates"],
    summary="List work order templates",
)
def template_list(request: HttpRequest, filters: Query[schemas.TemplateFilter]):
    params = filters.model_dump(exclude_none=True)
    cursor, limit = params.pop("cursor", None), params.pop("limit", 50)
    return _page(selectors.template_list(actor=actor_of(request), filters=params, cursor=cursor, limit=limit))


@router.post(
    "/templates",
    response={201: schemas.TemplateOut},
    url_name="template_create",
    tags=["templates"],
    summary="Create a template with its checklist and parts",
)
def template_create(request: HttpRequest, payload: schemas.TemplateIn, response: HttpResponse):
    actor = actor_of(request)
    t = services.template_create(actor=actor, data=payload.model_dump())
    t = selectors.template_get(actor=actor, pk=t.pk)
    set_etag(response, t.version)
    _created(response, f"templates/{t.pk}")
    return Status(201, t)


@router.get(
    "/templates/{id}",
    response=schemas.TemplateOut,
    url_name="template_get",
    tags=["templates"],
    summary="Get a template",
)
def template_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    t = selectors.template_get(actor=actor_of(request), pk=id)
    set_etag(response, t.version)
    return t


@router.patch(
    "/templates/{id}",
    response=schemas.TemplateOut,
    url_name="template_patch",
    tags=["templates"],
    summary="Change a template (send If-Match); checklist and parts are replaced when given",
)
def template_patch(request: HttpRequest, id: int, payload: schemas.TemplatePatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    data = payload.model_dump(exclude_unset=True)
    for name in ("checklist", "parts"):
        if name in data and data[name] is None:
            data.pop(name)
    services.template_update(actor=actor, pk=id, data=data, expected_version=if_match_version(request))
    t = selectors.template_get(actor=actor, pk=id)
    set_etag(response, t.version)
    return t


# --- work requests --------------------------------------------------------------------------------


@router.get(
    "/work-requests",
    response=page_of(schemas.WorkRequestOut),
    url_name="work_request_list",
    tags=["work requests"],
    summary="List work requests, newest first",
)
def work_request_list(request: HttpRequest, filters: Query[schemas.WorkRequestFilter]):
    params = filters.model_dump(exclude_none=True)
    cursor, limit = params.pop("cursor", None), params.pop("limit", 50)
    params["status"] = _csv(params.get("status"), RequestStatus, "status")
    return _page(selectors.work_request_list(actor=actor_of(request), filters=params, cursor=cursor, limit=limit))


@router.post(
    "/work-requests",
    response={201: schemas.WorkRequestDetailOut},
    url_name="work_request_create",
    tags=["work requests"],
    summary="Report a problem (source: api)",
)
def work_request_create(request: HttpRequest, payload: schemas.WorkRequestIn, response: HttpResponse):
    actor = actor_of(request)
    req = services.work_request_create(actor=actor, source="api", **payload.model_dump())
    req = selectors.work_request_get(actor=actor, pk=req.pk)
    set_etag(response, req.version)
    _created(response, f"work-requests/{req.pk}")
    return Status(201, req)


@router.get(
    "/work-requests/{id}",
    response=schemas.WorkRequestDetailOut,
    url_name="work_request_get",
    tags=["work requests"],
    summary="Get a work request",
)
def work_request_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    req = selectors.work_request_get(actor=actor_of(request), pk=id)
    set_etag(response, req.version)
    return req


@router.post(
    "/work-requests/{id}/reject",
    response=schemas.WorkRequestDetailOut,
    url_name="work_request_reject",
    tags=["work requests"],
    summary="Turn a request down with a reason",
)
def work_request_reject(
    request: HttpRequest,
    id: int,
    payload: schemas.WorkRequestRejectIn,  # noqa: A002
    response: HttpResponse,
):
    actor = actor_of(request)
    services.work_request_reject(actor=actor, request_id=id, reason=payload.reason)
    return work_request_get(request, id, response)


@router.post(
    "/work-requests/{id}/duplicate",
    response=schemas.WorkRequestDetailOut,
    url_name="work_request_duplicate",
    tags=["work requests"],
    summary="Close a request as a duplicate of another one",
)
def work_request_duplicate(
    request: HttpRequest,
    id: int,
    payload: schemas.WorkRequestDuplicateIn,  # noqa: A002
    response: HttpResponse,
):
    services.work_request_mark_duplicate(
        actor=actor_of(request), request_id=id, duplicate_of_id=payload.duplicate_of_id
    )
    return work_request_get(request, id, response)


@router.post(
    "/work-requests/{id}/convert",
    response={201: schemas.WorkOrderOut},
    url_name="work_request_convert",
    tags=["work requests"],
    summary="Accept a request and create its work order",
)
def work_request_convert(
    request: HttpRequest,
    id: int,
    payload: schemas.WorkRequestConvertIn,  # noqa: A002
    response: HttpResponse,
):
    wo = services.work_request_convert(actor=actor_of(request), request_id=id, **payload.model_dump())
    _created(response, f"work-orders/{wo.pk}")
    return Status(201, _work_order_out(request, response, wo.pk))


@router.post(
    "/work-requests/{id}/attachments",
    response={201: schemas.AttachmentOut},
    url_name="work_request_attachment_create",
    tags=["work requests", "attachments"],
    summary="Attach a file to a request (multipart/form-data)",
)
def work_request_attachment_create(
    request: HttpRequest,
    id: int,
    response: HttpResponse,  # noqa: A002
    file: File[UploadedFile],
    caption: Form[str] = "",
    is_client_visible: Form[bool | None] = None,
):
    return _attachment_created(request, response, file, caption, is_client_visible, work_request_id=id)


# --- work orders ----------------------------------------------------------------------------------


@router.get(
    "/work-orders",
    response=page_of(schemas.WorkOrderSummaryOut),
    url_name="work_order_list",
    tags=WORK_ORDERS,
    summary="List work orders (filters combine with AND)",
)
def work_order_list(request: HttpRequest, filters: Query[schemas.WorkOrderFilter]):
    params = filters.model_dump(exclude_none=True)
    cursor, limit, sort = params.pop("cursor", None), params.pop("limit", 50), params.pop("sort", "-created")
    params["status"] = _csv(params.get("status"), WorkOrderStatus, "status")
    params["priority"] = _csv(params.get("priority"), Priority, "priority")
    params["type"] = _csv(params.get("type"), WorkOrderType, "type")
    params["billing_status"] = _csv(params.get("billing_status"), BillingStatus, "billing_status")
    params["technician"] = _user_filter(params.get("technician"), "technician")
    params["sla_state"] = _csv(params.get("sla_state"), selectors.SLA_FILTER_STATES, "sla_state")
    for name in ("sla_due_before", "sla_due_after"):
        params[name] = _instant(params.get(name), name)
    page = selectors.work_order_list(actor=actor_of(request), filters=params, sort=sort, cursor=cursor, limit=limit)
    return _page(page)


@router.post(
    "/work-orders",
    response={201: schemas.WorkOrderOut},
    url_name="work_order_create",
    tags=WORK_ORDERS,
    summary="Create a work order (from a template when given)",
)
def work_order_create(request: HttpRequest, payload: schemas.WorkOrderIn, response: HttpResponse):
    wo = services.work_order_create(actor=actor_of(request), **payload.model_dump())
    _created(response, f"work-orders/{wo.pk}")
    return Status(201, _work_order_out(request, response, wo.pk))


@router.get(
    "/work-orders/{id}",
    response=schemas.WorkOrderOut,
    url_name="work_order_get",
    tags=WORK_ORDERS,
    summary="Get a work order (its ETag is its version)",
)
def work_order_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    return _work_order_out(request, response, id)


@router.patch(
    "/work-orders/{id}",
    response=schemas.WorkOrderOut,
    url_name="work_order_patch",
    tags=WORK_ORDERS,
    summary="Change details, planning or resolution notes (send If-Match with the ETag)",
)
def work_order_patch(
    request: HttpRequest,
    id: int,
    payload: schemas.WorkOrderPatch,  # noqa: A002
    response: HttpResponse,
):
    data = payload.model_dump(exclude_unset=True)
    for name in ("is_billable", "reports_equipment_down"):
        if name in data and data[name] is None:
            raise validation(f"{name} must be true or false.", field=name)
    if "helper_ids" in data and data["helper_ids"] is None:
        data["helper_ids"] = []
    services.work_order_update(
        actor=actor_of(request), work_order_id=id, data=data, expected_version=if_match_version(request)
    )
    return _work_order_out(request, response, id)


@router.post(
    "/work-orders/{id}/transitions",
    response=schemas.WorkOrderOut,
    url_name="work_order_transition",
    tags=WORK_ORDERS,
    summary="Move the work order to another status (If-Match optional)",
)
def work_order_transition(
    request: HttpRequest,
    id: int,
    payload: schemas.TransitionIn,  # noqa: A002
    response: HttpResponse,
):
    services.work_order_transition(
        actor=actor_of(request),
        work_order_id=id,
        to=payload.to,
        reason=payload.reason,
        hold_reason=payload.hold_reason,
        resolution_notes=payload.resolution_notes,
        expected_version=if_match_version(request),
    )
    return _work_order_out(request, response, id)


@router.get(
    "/work-orders/{id}/transitions",
    response=page_of(schemas.TransitionOptionOut),
    url_name="work_order_transition_options",
    tags=WORK_ORDERS,
    summary="The transitions you may take now, each with what still blocks it",
)
def work_order_transition_options(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    wo = work_order_queryset(actor=actor).filter(pk=id).first()
    if wo is None:
        raise not_found("Work order")
    items = [
        {
            "to": o.transition.target.value,
            "name": o.transition.name,
            "is_possible": o.is_possible,
            "reason_required": o.transition.reason_required,
            "hold_reason_required": "has_hold_reason" in o.transition.guards,
            "unmet": [{"guard": p.guard, "message": p.message, "field": p.field} for p in o.problems],
        }
        for o in selectors.work_order_transition_options(actor=actor, work_order=wo)
    ]
    return {"items": items, "next_cursor": None}


@router.get(
    "/work-orders/{id}/timeline",
    response=page_of(schemas.EventOut),
    url_name="work_order_timeline",
    tags=WORK_ORDERS,
    summary="What happened to the work order, oldest first",
)
def work_order_timeline(request: HttpRequest, id: int, cursor: str | None = None, limit: int = 50):  # noqa: A002
    return _page(selectors.work_order_event_list(actor=actor_of(request), work_order_id=id, cursor=cursor, limit=limit))


@router.post(
    "/work-orders/{id}/follow-ups",
    response={201: schemas.WorkOrderOut},
    url_name="work_order_follow_up",
    tags=WORK_ORDERS,
    summary="Create a follow-up (callback) work order for completed or closed work",
)
def work_order_follow_up(
    request: HttpRequest,
    id: int,
    payload: schemas.FollowUpIn,  # noqa: A002
    response: HttpResponse,
):
    wo = services.work_order_follow_up(actor=actor_of(request), work_order_id=id, reason=payload.reason)
    _created(response, f"work-orders/{wo.pk}")
    return Status(201, _work_order_out(request, response, wo.pk))


@router.post(
    "/work-orders/{id}/billing",
    response=schemas.WorkOrderOut,
    url_name="work_order_billing",
    tags=WORK_ORDERS,
    summary="Mark billable work as no_charge (with a reason) or back to to_invoice",
)
def work_order_billing(
    request: HttpRequest,
    id: int,
    payload: schemas.BillingIn,  # noqa: A002
    response: HttpResponse,
):
    services.work_order_set_billing(
        actor=actor_of(request), work_order_id=id, billing_status=payload.billing_status, reason=payload.reason
    )
    return _work_order_out(request, response, id)


@router.get(
    "/work-orders/{id}/checklist",
    response=page_of(schemas.ChecklistItemOut),
    url_name="work_order_checklist",
    tags=RECORDING,
    summary="The work order's checklist with answers",
)
def work_order_checklist(request: HttpRequest, id: int, cursor: str | None = None, limit: int = 50):  # noqa: A002
    return _page(selectors.checklist_list(actor=actor_of(request), work_order_id=id, cursor=cursor, limit=limit))


@router.put(
    "/work-orders/{id}/checklist/{item_id}",
    response=schemas.ChecklistItemOut,
    url_name="work_order_checklist_answer",
    tags=RECORDING,
    summary="Answer (or clear) one checklist item",
)
def work_order_checklist_answer(
    request: HttpRequest,
    id: int,
    item_id: int,  # noqa: A002
    payload: schemas.ChecklistAnswerIn,
):
    return services.checklist_answer(actor=actor_of(request), work_order_id=id, item_id=item_id, value=payload.value)


@router.get(
    "/work-orders/{id}/planned-materials",
    response=page_of(schemas.PlannedMaterialOut),
    url_name="planned_material_list",
    tags=RECORDING,
    summary="Materials planned for the work",
)
def planned_material_list(request: HttpRequest, id: int, cursor: str | None = None, limit: int = 50):  # noqa: A002
    return _page(selectors.planned_material_list(actor=actor_of(request), work_order_id=id, cursor=cursor, limit=limit))


@router.post(
    "/work-orders/{id}/planned-materials",
    response={201: schemas.PlannedMaterialOut},
    url_name="planned_material_create",
    tags=RECORDING,
    summary="Plan a material (office roles)",
)
def planned_material_create(request: HttpRequest, id: int, payload: schemas.PlannedMaterialIn):  # noqa: A002
    item = services.planned_material_add(actor=actor_of(request), work_order_id=id, **payload.model_dump())
    item.refresh_from_db()  # the quantity as stored (quantized), the same as the list shows it
    return Status(201, item)


@router.delete(
    "/planned-materials/{id}",
    response={204: None},
    url_name="planned_material_delete",
    tags=RECORDING,
    summary="Remove a planned material",
)
def planned_material_delete(request: HttpRequest, id: int):  # noqa: A002
    services.planned_material_remove(actor=actor_of(request), planned_material_id=id)
    return Status(204, None)


@router.post(
    "/work-orders/{id}/timer/start",
    response={201: schemas.TimeEntryOut},
    url_name="work_order_timer_start",
    tags=RECORDING,
    summary="Start your timer on the work order",
)
def work_order_timer_start(
    request: HttpRequest,
    id: int,
    response: HttpResponse,  # noqa: A002
    payload: schemas.TimerStartIn | None = None,
):
    entry = services.timer_start(actor=actor_of(request), work_order_id=id, kind=payload.kind if payload else "labour")
    _created(response, f"time-entries/{entry.pk}")
    return Status(201, entry)


@router.post(
    "/work-orders/{id}/timer/stop",
    response=schemas.TimeEntryOut,
    url_name="work_order_timer_stop",
    tags=RECORDING,
    summary="Stop your running timer; it becomes a time entry",
)
def work_order_timer_stop(request: HttpRequest, id: int):  # noqa: A002
    return services.timer_stop(actor=actor_of(request), work_order_id=id)


@router.post(
    "/work-orders/{id}/attachments",
    response={201: schemas.AttachmentOut},
    url_name="work_order_attachment_create",
    tags=RECORDING + ["attachments"],
    summary="Attach a photo or document (multipart/form-data)",
)
def work_order_attachment_create(
    request: HttpRequest,
    id: int,
    response: HttpResponse,  # noqa: A002
    file: File[UploadedFile],
    caption: Form[str] = "",
    is_client_visible: Form[bool | None] = None,
):
    return _attachment_created(request, response, file, caption, is_client_visible, work_order_id=id)


@router.post(
    "/work-orders/{id}/signature",
    response=schemas.WorkOrderOut,
    url_name="work_order_signature",
    tags=RECORDING,
    summary="Store the client's signature (base64 PNG) and the signer's name",
)
def work_order_signature(
    request: HttpRequest,
    id: int,
    payload: schemas.SignatureIn,  # noqa: A002
    response: HttpResponse,
):
    raw = payload.image_png_base64.strip()
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    try:
        image = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise validation("image_png_base64 is not valid base64.", field="image_png_base64") from None
    services.signature_capture(
        actor=actor_of(request), work_order_id=id, image_png=image, signed_by_name=payload.signed_by_name
    )
    return _work_order_out(request, response, id)


# --- time entries, part usages, notes: records on a work order ---------------------------------------


def _register_records(
    *,
    path: str,
    name: str,
    tag: str,
    label: str,
    schema_in,
    schema_out,
    filter_schema,
    list_selector,
    get_selector,
    create_service,
    delete_service=None,
    summaries: dict[str, str],
    normalise_filters=None,
) -> None:
    """``GET/POST /{path}``, ``GET /{path}/{id}`` and optionally ``DELETE /{path}/{id}`` for one kind of
    record on work orders: reads through the actor-scoped selectors, writes through one service each."""

    def list_(request: HttpRequest, filters: Query[filter_schema]):  # type: ignore[valid-type]
        params = filters.model_dump(exclude_none=True)
        cursor, limit = params.pop("cursor", None), params.pop("limit", 50)
        if normalise_filters:
            normalise_filters(params)
        return _page(list_selector(actor=actor_of(request), filters=params, cursor=cursor, limit=limit))

    def create(request: HttpRequest, payload: schema_in, response: HttpResponse):  # type: ignore[valid-type]
        actor = actor_of(request)
        record = create_service(actor=actor, **payload.model_dump())
        _created(response, f"{path}/{record.pk}")
        return Status(201, get_selector(actor=actor, pk=record.pk))

    def get(request: HttpRequest, id: int):  # noqa: A002
        return get_selector(actor=actor_of(request), pk=id)

    def delete(request: HttpRequest, id: int):  # noqa: A002
        delete_service(actor=actor_of(request), pk=id)
        return Status(204, None)

    router.add_api_operation(
        f"/{path}",
        ["GET"],
        list_,
        response=page_of(schema_out),
        url_name=f"{name}_list",
        operation_id=f"{name}_list",
        tags=[tag],
        summary=summaries["list"],
    )
    router.add_api_operation(
        f"/{path}",
        ["POST"],
        create,
        response={201: schema_out},
        url_name=f"{name}_create",
        operation_id=f"{name}_create",
        tags=[tag],
        summary=summaries["create"],
    )
    router.add_api_operation(
        f"/{path}/{{id}}",
        ["GET"],
        get,
        response=schema_out,
        url_name=f"{name}_get",
        operation_id=f"{name}_get",
        tags=[tag],
        summary=f"Get a {label}",
    )
    if delete_service is not None:
        router.add_api_operation(
            f"/{path}/{{id}}",
            ["DELETE"],
            delete,
            response={204: None},
            url_name=f"{name}_delete",
            operation_id=f"{name}_delete",
            tags=[tag],
            summary=f"Remove a {label} recorded by mistake",
        )


def _technician_filter(params: dict) -> None:
    params["technician"] = _user_filter(params.get("technician"), "technician")


_register_records(
    path="time-entries",
    name="time_entry",
    tag="time entries",
    label="time entry",
    schema_in=schemas.TimeEntryIn,
    schema_out=schemas.TimeEntryOut,
    filter_schema=schemas.TimeEntryFilter,
    list_selector=selectors.time_entry_list,
    get_selector=selectors.time_entry_get,
    create_service=services.time_entry_create,
    delete_service=lambda *, actor, pk: services.time_entry_delete(actor=actor, time_entry_id=pk),
    normalise_filters=_technician_filter,
    summaries={
        "list": "List time entries, newest first",
        "create": "Record time: a start and an end, or a start and a duration",
    },
)
_register_records(
    path="part-usages",
    name="part_usage",
    tag="part usages",
    label="part usage",
    schema_in=schemas.PartUsageIn,
    schema_out=schemas.PartUsageOut,
    filter_schema=schemas.PartUsageFilter,
    list_selector=selectors.part_usage_list,
    get_selector=selectors.part_usage_get,
    create_service=services.part_usage_create,
    delete_service=lambda *, actor, pk: services.part_usage_delete(actor=actor, part_usage_id=pk),
    summaries={
        "list": "List parts used on work orders",
        "create": "Record a part used (cost and price are copied from the catalogue)",
    },
)
_register_records(
    path="notes",
    name="note",
    tag="notes",
    label="note",
    schema_in=schemas.NoteIn,
    schema_out=schemas.NoteOut,
    filter_schema=schemas.NoteFilter,
    list_selector=selectors.note_list,
    get_selector=selectors.note_get,
    create_service=services.note_create,
    summaries={
        "list": "List notes (client users and requesters see the client-visible ones)",
        "create": "Add a note or finding to a work order",
    },
)


# --- attachments ----------------------------------------------------------------------------------


@router.get(
    "/attachments",
    response=page_of(schemas.AttachmentOut),
    url_name="attachment_list",
    tags=["attachments"],
    summary="List files on work orders and requests",
)
def attachment_list(request: HttpRequest, filters: Query[schemas.AttachmentFilter]):
    params = filters.model_dump(exclude_none=True)
    cursor, limit = params.pop("cursor", None), params.pop("limit", 50)
    return _page(selectors.attachment_list(actor=actor_of(request), filters=params, cursor=cursor, limit=limit))


@router.get(
    "/attachments/{id}",
    response=schemas.AttachmentOut,
    url_name="attachment_get",
    tags=["attachments"],
    summary="Get an attachment's metadata",
)
def attachment_get(request: HttpRequest, id: int):  # noqa: A002
    return selectors.attachment_get(actor=actor_of(request), pk=id)


@router.get(
    "/attachments/{id}/download",
    url_name="attachment_download",
    tags=["attachments"],
    summary="Download the file (Content-Disposition carries its original name)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file, with its stored content type",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def attachment_download(request: HttpRequest, id: int):  # noqa: A002
    att = selectors.attachment_get(actor=actor_of(request), pk=id)
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise DomainError(ErrorCode.NOT_FOUND, "The file is missing from storage.") from None
    response = StoredFileResponse(handle, as_attachment=True, filename=att.original_name, content_type=att.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-cache"
    return response
