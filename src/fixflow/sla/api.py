"""SLAs in the API: business calendars and their holidays, policies, recalculation, the SLA of a
work order and the compliance report.

Writes go through ``fixflow.sla.services`` (which checks the capability and validates); reads are
narrowed to the caller's organization and need ``sla.view``. An object of another organization is
a 404 — checked before the capability, so a caller never learns from a 403 that it exists.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from fixflow.core import clock as wall_clock
from fixflow.core.api_support import actor_of, if_match_version, page_of, page_response, set_etag
from fixflow.core.errors import not_found, validation
from fixflow.core.pagination import paginate
from fixflow.core.permissions import Actor, require

from . import engine, schemas, selectors, services
from .models import BusinessCalendar, Holiday, SlaPolicy

router = Router()

CALENDARS = ["SLA calendars"]
POLICIES = ["SLA policies"]
SLA = ["SLA"]


# --- reads, scoped to the organization ----------------------------------------------------------------


def _id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _calendars(actor: Actor) -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.filter(organization_id=actor.organization_id)


def _policies(actor: Actor) -> QuerySet[SlaPolicy]:
    return (
        SlaPolicy.objects.filter(organization_id=actor.organization_id)
        .select_related("calendar")
        .prefetch_related("clients", "sites")
    )


def _calendar(actor: Actor, pk) -> BusinessCalendar:
    cal = _calendars(actor).filter(pk=_id(pk)).first()
    if cal is None:
        raise not_found("Calendar")
    return cal


def _policy(actor: Actor, pk) -> SlaPolicy:
    policy = _policies(actor).filter(pk=_id(pk)).first()
    if policy is None:
        raise not_found("SLA policy")
    return policy


def _policy_page(actor: Actor, *, filters: dict, cursor: str | None = None, limit: int = 50) -> dict:
    qs = _policies(actor)
    if filters.get("is_active") is not None:
        qs = qs.filter(is_active=filters["is_active"])
    return page_response(paginate(qs, ordering=["is_default", "position", "id"], cursor=cursor, limit=limit))


def _created(response: HttpResponse, path: str) -> None:
    response["Location"] = f"/api/v1/{path}"


# --- calendars -------------------------------------------------------------------------------------------


@router.get(
    "/sla/calendars",
    response=page_of(schemas.SlaCalendarOut),
    url_name="sla_calendar_list",
    tags=CALENDARS,
    summary="List business calendars (the built-in 24×7 one first)",
)
def calendar_list(request: HttpRequest, filters: Query[schemas.SlaCalendarFilter]):
    actor = actor_of(request)
    require(actor, "sla.view")
    engine.ensure_defaults(actor.organization_id)
    params = filters.model_dump(exclude_none=True)
    qs = _calendars(actor)
    if q := (params.get("q") or "").strip():
        qs = qs.filter(name__icontains=q)
    ordering = ["-is_24x7", "name", "id"]
    return page_response(paginate(qs, ordering=ordering, cursor=params.get("cursor"), limit=params.get("limit", 50)))


@router.post(
    "/sla/calendars",
    response={201: schemas.SlaCalendarOut},
    url_name="sla_calendar_create",
    tags=CALENDARS,
    summary="Create a business calendar (time zone and working hours per weekday)",
)
def calendar_create(request: HttpRequest, payload: schemas.SlaCalendarIn, response: HttpResponse):
    data = payload.model_dump(exclude_unset=True)
    if data.get("timezone") is None:
        data.pop("timezone", None)
    if data.get("week") is None:
        data.pop("week", None)
    cal = services.calendar_create(actor=actor_of(request), data=data)
    set_etag(response, cal.version)
    _created(response, f"sla/calendars/{cal.pk}")
    return Status(201, cal)


@router.get(
    "/sla/calendars/{id}",
    response=schemas.SlaCalendarOut,
    url_name="sla_calendar_get",
    tags=CALENDARS,
    summary="Get a business calendar (its ETag is its version)",
)
def calendar_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    require(actor, "sla.view")
    cal = _calendar(actor, id)
    set_etag(response, cal.version)
    return cal


@router.patch(
    "/sla/calendars/{id}",
    response=schemas.SlaCalendarOut,
    url_name="sla_calendar_patch",
    tags=CALENDARS,
    summary="Change a calendar (send If-Match); open work orders keep theirs until recalculated",
)
def calendar_patch(request: HttpRequest, id: int, payload: schemas.SlaCalendarPatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    _calendar(actor, id)
    data = payload.model_dump(exclude_unset=True)
    cal = services.calendar_update(actor=actor, calendar_id=id, data=data, expected_version=if_match_version(request))
    set_etag(response, cal.version)
    return cal


@router.delete(
    "/sla/calendars/{id}",
    response={204: None},
    url_name="sla_calendar_delete",
    tags=CALENDARS,
    summary="Delete a calendar no policy uses",
)
def calendar_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    _calendar(actor, id)
    services.calendar_delete(actor=actor, calendar_id=id)
    return Status(204, None)


# --- holidays ----------------------------------------------------------------------------------------------


@router.get(
    "/sla/calendars/{id}/holidays",
    response=page_of(schemas.SlaHolidayOut),
    url_name="sla_holiday_list",
    tags=CALENDARS,
    summary="List a calendar's holidays by date",
)
def holiday_list(request: HttpRequest, id: int, filters: Query[schemas.SlaHolidayFilter]):  # noqa: A002
    actor = actor_of(request)
    require(actor, "sla.view")
    cal = _calendar(actor, id)
    params = filters.model_dump(exclude_none=True)
    qs = Holiday.objects.filter(organization_id=actor.organization_id, calendar=cal)
    if year := params.get("year"):
        qs = qs.filter(date__year=year)
    return page_response(paginate(qs, ordering=["date"], cursor=params.get("cursor"), limit=params.get("limit", 50)))


@router.post(
    "/sla/calendars/{id}/holidays",
    response={201: schemas.SlaHolidayOut},
    url_name="sla_holiday_create",
    tags=CALENDARS,
    summary="Add a holiday (a local date without working time)",
)
def holiday_create(request: HttpRequest, id: int, payload: schemas.SlaHolidayIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    _calendar(actor, id)
    holiday = services.holiday_add(actor=actor, calendar_id=id, day=payload.date, name=payload.name)
    _created(response, f"sla/holidays/{holiday.pk}")
    return Status(201, holiday)


@router.delete(
    "/sla/holidays/{id}",
    response={204: None},
    url_name="sla_holiday_delete",
    tags=CALENDARS,
    summary="Remove a holiday",
)
def holiday_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    if not Holiday.objects.filter(organization_id=actor.organization_id, pk=_id(id)).exists():
        raise not_found("Holiday")
    services.holiday_remove(actor=actor, holiday_id=id)
    return Status(204, None)


@router.post(
    "/sla/calendars/{id}/holidays/import",
    response=schemas.SlaHolidaysAddedOut,
    url_name="sla_holiday_import",
    tags=CALENDARS,
    summary="Add the all-day events of an iCalendar (.ics) file as holidays (multipart/form-data, at most 1 MB)",
)
def holiday_import(request: HttpRequest, id: int, file: File[UploadedFile]):  # noqa: A002
    actor = actor_of(request)
    _calendar(actor, id)
    content = file.read(services.MAX_ICS_BYTES + 1)
    added = services.holidays_import_ics(actor=actor, calendar_id=id, content=content)
    return {"added": added}


@router.post(
    "/sla/calendars/{id}/holidays/generate",
    response=schemas.SlaHolidaysAddedOut,
    url_name="sla_holiday_generate",
    tags=CALENDARS,
    summary="Add a country's public holidays of one year",
)
def holiday_generate(request: HttpRequest, id: int, payload: schemas.SlaHolidayGenerateIn):  # noqa: A002
    actor = actor_of(request)
    _calendar(actor, id)
    added = services.holidays_generate(
        actor=actor, calendar_id=id, country=payload.country, year=payload.year, subdivision=payload.subdivision
    )
    return {"added": added}


# --- policies ------------------------------------------------------------------------------------------------


def _policy_data(actor: Actor, payload, *, partial: bool) -> dict:
    data = payload.model_dump(exclude_unset=partial)
    if data.get("calendar_id") is not None and not _calendars(actor).filter(pk=data["calendar_id"]).exists():
        raise validation(f"There is no calendar {data['calendar_id']}; see GET /sla/calendars.", field="calendar_id")
    for name in ("is_active", "notify_technician", "at_risk_percent", "response_met_on", "name", "targets"):
        if name in data and data[name] is None:
            raise validation(f"{name} cannot be null; leave it out to keep it.", field=name)
    for name in ("client_ids", "site_ids", "priorities", "types", "criticalities", "pausing_hold_reasons"):
        if name in data and data[name] is None:
            data[name] = []
    if "escalation_email" in data and data["escalation_email"] is None:
        data["escalation_email"] = ""
    return data


@router.get(
    "/sla/policies",
    response=page_of(schemas.SlaPolicyOut),
    url_name="sla_policy_list",
    tags=POLICIES,
    summary="List SLA policies in evaluation order (the default one last)",
)
def policy_list(request: HttpRequest, filters: Query[schemas.SlaPolicyFilter]):
    actor = actor_of(request)
    require(actor, "sla.view")
    engine.ensure_defaults(actor.organization_id)
    params = filters.model_dump(exclude_none=True)
    cursor, limit = params.pop("cursor", None), params.pop("limit", 50)
    return _policy_page(actor, filters=params, cursor=cursor, limit=limit)


@router.post(
    "/sla/policies",
    response={201: schemas.SlaPolicyOut},
    url_name="sla_policy_create",
    tags=POLICIES,
    summary="Create an SLA policy (placed before the default one, after the others)",
)
def policy_create(request: HttpRequest, payload: schemas.SlaPolicyIn, response: HttpResponse):
    actor = actor_of(request)
    require(actor, "sla.manage")
    policy = services.policy_create(actor=actor, data=_policy_data(actor, payload, partial=False))
    policy = _policy(actor, policy.pk)
    set_etag(response, policy.version)
    _created(response, f"sla/policies/{policy.pk}")
    return Status(201, policy)


@router.get(
    "/sla/policies/{id}",
    response=schemas.SlaPolicyOut,
    url_name="sla_policy_get",
    tags=POLICIES,
    summary="Get an SLA policy (its ETag is its version)",
)
def policy_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    require(actor, "sla.view")
    policy = _policy(actor, id)
    set_etag(response, policy.version)
    return policy


@router.patch(
    "/sla/policies/{id}",
    response=schemas.SlaPolicyOut,
    url_name="sla_policy_patch",
    tags=POLICIES,
    summary="Change an SLA policy (send If-Match); open work orders keep theirs until recalculated",
)
def policy_patch(request: HttpRequest, id: int, payload: schemas.SlaPolicyPatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    _policy(actor, id)
    require(actor, "sla.manage")
    services.policy_update(
        actor=actor,
        policy_id=id,
        data=_policy_data(actor, payload, partial=True),
        expected_version=if_match_version(request),
    )
    policy = _policy(actor, id)
    set_etag(response, policy.version)
    return policy


@router.delete(
    "/sla/policies/{id}",
    response={204: None},
    url_name="sla_policy_delete",
    tags=POLICIES,
    summary="Delete an SLA policy (the default one cannot be deleted: 409)",
)
def policy_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    _policy(actor, id)
    services.policy_delete(actor=actor, policy_id=id)
    return Status(204, None)


@router.post(
    "/sla/policies/{id}/move",
    response=page_of(schemas.SlaPolicyOut),
    url_name="sla_policy_move",
    tags=POLICIES,
    summary="Move a policy to another place in the evaluation order; answers the new order",
)
def policy_move(request: HttpRequest, id: int, payload: schemas.SlaPolicyMoveIn):  # noqa: A002
    actor = actor_of(request)
    _policy(actor, id)
    services.policy_move(actor=actor, policy_id=id, position=payload.position)
    return _policy_page(actor, filters={}, limit=200)


# --- recalculation ---------------------------------------------------------------------------------------------


@router.post(
    "/sla/recalculate",
    response=schemas.SlaRecalculatedOut,
    url_name="sla_recalculate_open",
    tags=SLA,
    summary="Give every open work order the policy, calendar and targets that match now",
)
def recalculate_open(request: HttpRequest):
    return {"recalculated": services.recalculate_open(actor=actor_of(request))}


@router.post(
    "/work-orders/{id}/sla/recalculate",
    response=schemas.WorkOrderSlaOut,
    url_name="work_order_sla_recalculate",
    tags=SLA,
    summary="Give an open work order the policy, calendar and targets that match now (keeps start, pauses, met)",
)
def work_order_recalculate(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    services.work_order_recalculate(actor=actor, work_order_id=id)
    return _work_order_sla(actor, id)


# --- the SLA of a work order, compliance ------------------------------------------------------------------------


def _work_order_sla(actor: Actor, pk):
    from fixflow.service.selectors import work_order_queryset

    wo = work_order_queryset(actor=actor).select_related("site").filter(pk=_id(pk)).first()
    if wo is None:
        raise not_found("Work order")
    view = selectors.work_order_sla(actor=actor, work_order=wo)
    if view is None:
        raise not_found("SLA of this work order (it was made before SLAs applied; recalculate it to apply one)")
    return view


@router.get(
    "/work-orders/{id}/sla",
    response=schemas.WorkOrderSlaOut,
    url_name="work_order_sla",
    tags=SLA,
    summary="The SLA of a work order: policy, calendar, pauses, targets, and why they are due when they are",
)
def work_order_sla(request: HttpRequest, id: int):  # noqa: A002
    return _work_order_sla(actor_of(request), id)


@router.get(
    "/sla/compliance",
    response=schemas.SlaComplianceReportOut,
    url_name="sla_compliance",
    tags=SLA,
    summary="Met and breached SLA targets per client, priority, month and target",
)
def compliance(request: HttpRequest, filters: Query[schemas.SlaComplianceFilter]):
    actor = actor_of(request)
    require(actor, "sla.view")
    date_from, date_to = filters.date_from, filters.date_to
    if date_from is None or date_to is None:
        default_from, default_to = selectors.default_report_range(
            wall_clock.now().astimezone(actor.organization.tzinfo).date()
        )
        date_from, date_to = date_from or default_from, date_to or default_to
    report = selectors.compliance_report(
        actor=actor,
        date_from=date_from,
        date_to=date_to,
        client_id=filters.client,
        priority=filters.priority,
        target=filters.target,
    )
    return report.as_dict()
