"""Preventive maintenance and meters in the API: meters and readings on equipment, plans (CRUD, pause,
resume, generation on demand), their occurrences, the forecast, PM compliance and stale plans.

Handlers parse input, call one service (writes) or selector (reads, scoped to the actor) and present the
result. Writes of plans go through ``fixflow.maintenance.services``, of meters and readings through
``fixflow.assets.meters``; both check the capability and validate. Objects outside the caller's scope are
404. Lists are keyset pages ``{items, next_cursor}``; the forecast and the reports answer one range.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from fixflow.assets import meters
from fixflow.core import clock
from fixflow.core.api_support import actor_of, if_match_version, page_of, page_response, set_etag
from fixflow.core.errors import validation
from fixflow.core.permissions import Actor

from . import generator, schemas, selectors, services
from .models import MaintenancePlan

router = Router()

METERS = ["meters"]
PLANS = ["maintenance plans"]
PM = ["preventive maintenance"]

FORECAST_DEFAULT_DAYS = 90


def _created(response: HttpResponse, path: str) -> None:
    response["Location"] = f"/api/v1/{path}"


# --- meters and readings ---------------------------------------------------------------------------------


def _meter_out(actor: Actor, meter_id, response: HttpResponse | None = None):
    meter = meters.meter_get(actor=actor, pk=meter_id)
    meter.usage_per_day = meters.usage_rate(meter)
    if response is not None:
        set_etag(response, meter.version)
    return meter


def _meter_data(payload, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    for name in ("name", "unit", "kind", "usage_window_days", "is_active"):
        if name in data and data[name] is None:
            if not partial:
                data.pop(name)
                continue
            raise validation(f"{name} cannot be null; leave it out to keep it.", field=name)
    return data


@router.get(
    "/equipment/{id}/meters",
    response=page_of(schemas.MeterOut),
    url_name="equipment_meter_list",
    tags=METERS,
    summary="List the meters of an equipment item, with their usage rate",
)
def meter_list(request: HttpRequest, id: int, filters: Query[schemas.MeterFilter]):  # noqa: A002
    from fixflow.assets.services import EQUIPMENT
    from fixflow.core.entities import entity_get
    from fixflow.core.pagination import paginate

    actor = actor_of(request)
    equipment = entity_get(EQUIPMENT, actor=actor, pk=id)  # outside the caller's scope: 404
    qs = meters.meter_queryset(actor=actor).filter(equipment=equipment)
    page = paginate(qs, ordering=["name"], cursor=filters.cursor, limit=filters.limit)
    rates = selectors.usage_rates(page.items)
    for meter in page.items:
        meter.usage_per_day = rates.get(meter.pk)
    return page_response(page)


@router.post(
    "/equipment/{id}/meters",
    response={201: schemas.MeterOut},
    url_name="equipment_meter_create",
    tags=METERS,
    summary="Add a meter (counter or gauge) to an equipment item",
)
def meter_create(request: HttpRequest, id: int, payload: schemas.MeterIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    meter = meters.meter_create(actor=actor, equipment_id=id, data=_meter_data(payload, partial=False))
    _created(response, f"meters/{meter.pk}")
    return Status(201, _meter_out(actor, meter.pk, response))


@router.get(
    "/meters/{id}",
    response=schemas.MeterOut,
    url_name="meter_get",
    tags=METERS,
    summary="Get a meter: last reading, lifetime value and usage rate (its ETag is its version)",
)
def meter_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    return _meter_out(actor_of(request), id, response)


@router.patch(
    "/meters/{id}",
    response=schemas.MeterOut,
    url_name="meter_patch",
    tags=METERS,
    summary="Change a meter (send If-Match); the kind only while it has no readings",
)
def meter_patch(request: HttpRequest, id: int, payload: schemas.MeterPatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    meters.meter_update(
        actor=actor,
        meter_id=id,
        data=_meter_data(payload, partial=True),
        expected_version=if_match_version(request),
    )
    return _meter_out(actor, id, response)


@router.delete(
    "/meters/{id}",
    response={204: None},
    url_name="meter_delete",
    tags=METERS,
    summary="Delete a meter without readings (one with readings: deactivate it)",
)
def meter_delete(request: HttpRequest, id: int):  # noqa: A002
    meters.meter_delete(actor=actor_of(request), meter_id=id)
    return Status(204, None)


@router.get(
    "/meters/{id}/readings",
    response=page_of(schemas.ReadingOut),
    url_name="meter_reading_list",
    tags=METERS,
    summary="List a meter's readings, latest first",
)
def reading_list(request: HttpRequest, id: int, filters: Query[schemas.ReadingFilter]):  # noqa: A002
    return page_response(
        selectors.reading_page(actor=actor_of(request), meter_id=id, cursor=filters.cursor, limit=filters.limit)
    )


@router.post(
    "/meters/{id}/readings",
    response={201: schemas.ReadingOut},
    url_name="meter_reading_create",
    tags=METERS,
    summary="Record a reading; below the last one only as a replacement or rollover. May generate PM work orders",
)
def reading_create(request: HttpRequest, id: int, payload: schemas.ReadingIn, response: HttpResponse):  # noqa: A002
    reading = meters.reading_record(actor=actor_of(request), meter_id=id, **payload.model_dump())
    _created(response, f"meters/{id}/readings")
    return Status(201, reading)


# --- plans -----------------------------------------------------------------------------------------------


_PLAN_NOT_NULL = (
    "name",
    "template_id",
    "site_id",
    "anchor",
    "due_time",
    "mode",
    "meter_mode",
    "lead_days",
    "horizon_days",
    "open_policy",
    "day_shift",
    "is_active",
)


def _plan_data(payload, *, partial: bool) -> dict[str, Any]:
    if not partial:
        data = payload.model_dump(exclude_none=True)
    else:
        data = payload.model_dump(exclude_unset=True)
        for name in _PLAN_NOT_NULL:
            if name in data and data[name] is None:
                raise validation(f"{name} cannot be null; leave it out to keep it.", field=name)
        if "recurrence" in data and data["recurrence"] is None:
            data.pop("recurrence")
    return data


def _plan_out(actor: Actor, plan_id, response: HttpResponse | None = None) -> MaintenancePlan:
    plan = services.plan_get(actor=actor, pk=plan_id)
    plan.next_due_dates = selectors.plan_next_due(plan=plan)
    if response is not None:
        set_etag(response, plan.version)
    return plan


@router.get(
    "/maintenance/plans",
    response=page_of(schemas.PlanOut),
    url_name="maintenance_plan_list",
    tags=PLANS,
    summary="List maintenance plans by name",
)
def plan_list(request: HttpRequest, filters: Query[schemas.PlanFilter]):
    params = filters.model_dump(exclude_none=True)
    cursor, limit = params.pop("cursor", None), params.pop("limit", 50)
    return page_response(selectors.plan_list(actor=actor_of(request), filters=params, cursor=cursor, limit=limit))


@router.post(
    "/maintenance/plans",
    response={201: schemas.PlanDetailOut},
    url_name="maintenance_plan_create",
    tags=PLANS,
    summary="Create a maintenance plan (calendar, floating or meter trigger)",
)
def plan_create(request: HttpRequest, payload: schemas.PlanIn, response: HttpResponse):
    actor = actor_of(request)
    plan = services.plan_create(actor=actor, data=_plan_data(payload, partial=False))
    _created(response, f"maintenance/plans/{plan.pk}")
    return Status(201, _plan_out(actor, plan.pk, response))


@router.get(
    "/maintenance/plans/{id}",
    response=schemas.PlanDetailOut,
    url_name="maintenance_plan_get",
    tags=PLANS,
    summary="Get a plan with its summary in words and its next five due dates (its ETag is its version)",
)
def plan_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    return _plan_out(actor_of(request), id, response)


@router.patch(
    "/maintenance/plans/{id}",
    response=schemas.PlanDetailOut,
    url_name="maintenance_plan_patch",
    tags=PLANS,
    summary="Change a plan (send If-Match); a timing change withdraws future work orders not yet started",
)
def plan_patch(request: HttpRequest, id: int, payload: schemas.PlanPatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    services.plan_update(
        actor=actor, plan_id=id, data=_plan_data(payload, partial=True), expected_version=if_match_version(request)
    )
    return _plan_out(actor, id, response)


@router.delete(
    "/maintenance/plans/{id}",
    response={204: None},
    url_name="maintenance_plan_delete",
    tags=PLANS,
    summary="Delete a plan that never generated a work order (else 409: pause it)",
)
def plan_delete(request: HttpRequest, id: int):  # noqa: A002
    services.plan_delete(actor=actor_of(request), plan_id=id)
    return Status(204, None)


@router.post(
    "/maintenance/plans/{id}/pause",
    response=schemas.PlanDetailOut,
    url_name="maintenance_plan_pause",
    tags=PLANS,
    summary="Pause a plan: it generates nothing until resumed",
)
def plan_pause(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    services.plan_set_active(actor=actor, plan_id=id, active=False)
    return _plan_out(actor, id, response)


@router.post(
    "/maintenance/plans/{id}/resume",
    response=schemas.PlanDetailOut,
    url_name="maintenance_plan_resume",
    tags=PLANS,
    summary="Resume a paused plan (occurrences missed meanwhile give one catch-up, no backfill)",
)
def plan_resume(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    services.plan_set_active(actor=actor, plan_id=id, active=True)
    return _plan_out(actor, id, response)


@router.post(
    "/maintenance/plans/{id}/generate",
    response=schemas.GenerateOut,
    url_name="maintenance_plan_generate",
    tags=PLANS,
    summary="Generate one plan's work orders now (up to until, default today); answers what was created",
)
def plan_generate(request: HttpRequest, id: int, payload: schemas.GenerateIn):  # noqa: A002
    actor = actor_of(request)
    until = payload.until
    if until is not None:
        plan = services.plan_get(actor=actor, pk=id)
        today = generator.local_today(plan, clock.now())
        if until < today:
            raise validation("until cannot be in the past; missed occurrences are not backfilled.", field="until")
        last = today + timedelta(days=plan.horizon_days)
        if until > last:
            raise validation(f"until is at most the plan's horizon ahead ({last.isoformat()}).", field="until")
    return services.plan_generate(actor=actor, plan_id=id, until=until).as_dict()


@router.get(
    "/maintenance/plans/{id}/occurrences",
    response=page_of(schemas.OccurrenceOut),
    url_name="maintenance_occurrence_list",
    tags=PLANS,
    summary="List a plan's recorded occurrences (generated, skipped, missed), latest due first",
)
def occurrence_list(request: HttpRequest, id: int, filters: Query[schemas.OccurrenceFilter]):  # noqa: A002
    page = selectors.occurrence_list(
        actor=actor_of(request), plan_id=id, status=filters.status, cursor=filters.cursor, limit=filters.limit
    )
    return page_response(page)


# --- forecast, compliance, stale plans ------------------------------------------------------------------------


def _org_today(actor: Actor) -> date:
    return clock.now().astimezone(actor.organization.tzinfo).date()


@router.get(
    "/maintenance/forecast",
    response=schemas.ForecastOut,
    url_name="maintenance_forecast",
    tags=PM,
    summary="Due occurrences in a date range: generated, upcoming, skipped, missed and overdue",
)
def forecast(request: HttpRequest, filters: Query[schemas.ForecastFilter]):
    actor = actor_of(request)
    date_from = filters.date_from or _org_today(actor)
    date_to = filters.date_to or date_from + timedelta(days=FORECAST_DEFAULT_DAYS)
    technician = filters.technician
    if technician == "me":
        technician = actor.user_id
    elif technician not in (None, "") and not str(technician).isdigit():
        raise validation("technician must be a user id or 'me'.", field="technician")
    items = selectors.forecast(
        actor=actor,
        date_from=date_from,
        date_to=date_to,
        site_id=filters.site,
        equipment_id=filters.equipment,
        technician_id=technician,
        plan_id=filters.plan,
    )
    return {"date_from": date_from, "date_to": date_to, "items": [item.as_dict() for item in items]}


@router.get(
    "/maintenance/compliance",
    response=schemas.ComplianceReportOut,
    url_name="maintenance_compliance",
    tags=PM,
    summary="PM compliance: occurrences completed on time / due, per period, site and plan",
)
def compliance(request: HttpRequest, filters: Query[schemas.ComplianceFilter]):
    actor = actor_of(request)
    today = _org_today(actor)
    date_to = filters.date_to or today
    if filters.date_from is not None:
        date_from = filters.date_from
    else:
        y, m = date_to.year, date_to.month - 11
        while m < 1:
            y, m = y - 1, m + 12
        date_from = date(y, m, 1)
    report = selectors.compliance(
        actor=actor,
        date_from=date_from,
        date_to=date_to,
        site_id=filters.site,
        plan_id=filters.plan,
        group=filters.group,
    )
    return report.as_dict()


@router.get(
    "/maintenance/stale-plans",
    response=schemas.StalePlansOut,
    url_name="maintenance_stale_plans",
    tags=PM,
    summary="Active plans whose last N work orders, past due, were never started",
)
def stale_plans(request: HttpRequest, last_n: int = 3):
    from dataclasses import asdict

    items = selectors.stale_plans(actor=actor_of(request), last_n=last_n)
    return {"last_n": last_n, "items": [asdict(item) for item in items]}
