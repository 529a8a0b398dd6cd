"""Charges on work orders in the API: ``GET/POST /work-orders/{id}/charges``, ``GET/DELETE /charges/{id}``.

Reads go through :mod:`.charge_selectors` (``work_orders.costs``: staff; a work order or charge outside the
caller's scope is a 404); writes through ``services.charge_add`` / ``charge_delete`` (``charges.record``:
admins, dispatchers, and technicians on work assigned to them). A work order that is invoiced or cancelled
takes no charges (409); a charge on an invoice line cannot be removed (409).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from fixflow.core.api_support import actor_of, page_of, page_response
from fixflow.core.pagination import paginate

from . import charge_selectors as selectors
from . import services
from .charge_schemas import ChargeFilter, ChargeIn, ChargeOut

router = Router()

TAGS = ["charges"]


@router.get(
    "/work-orders/{id}/charges",
    response=page_of(ChargeOut),
    url_name="work_order_charge_list",
    tags=TAGS,
    summary="List the call-out fees, fixed charges and expenses of a work order",
)
def charge_list(request: HttpRequest, id: int, filters: Query[ChargeFilter]):  # noqa: A002
    actor = actor_of(request)
    wo = selectors.work_order_for_charges(actor=actor, work_order_id=id)
    qs = selectors.charge_list(actor=actor, work_order=wo)
    return page_response(paginate(qs, ordering=["incurred_on", "id"], cursor=filters.cursor, limit=filters.limit))


@router.post(
    "/work-orders/{id}/charges",
    response={201: ChargeOut},
    url_name="work_order_charge_create",
    tags=TAGS,
    summary="Record a call-out fee, fixed charge or expense (refused once the work order is invoiced)",
)
def charge_create(request: HttpRequest, id: int, payload: ChargeIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.work_order_for_charges(actor=actor, work_order_id=id)  # 404 outside the caller's scope
    charge = services.charge_add(actor=actor, work_order_id=id, **payload.model_dump())
    response["Location"] = f"/api/v1/charges/{charge.pk}"
    return Status(201, selectors.charge_get(actor=actor, pk=charge.pk))


@router.get(
    "/charges/{id}",
    response=ChargeOut,
    url_name="charge_get",
    tags=TAGS,
    summary="Get a charge, with the invoice it is on",
)
def charge_get(request: HttpRequest, id: int):  # noqa: A002
    return selectors.charge_get(actor=actor_of(request), pk=id)


@router.delete(
    "/charges/{id}",
    response={204: None},
    url_name="charge_delete",
    tags=TAGS,
    summary="Remove a charge recorded by mistake (not once it is on an invoice)",
)
def charge_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.charge_get(actor=actor, pk=id)  # 404 outside the caller's scope
    services.charge_delete(actor=actor, charge_id=id)
    return Status(204, None)
