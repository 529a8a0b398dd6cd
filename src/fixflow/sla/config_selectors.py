"""Reads of the SLA configuration pages: calendars, holidays and policies of the actor's organization.

Every function checks ``sla.view`` and narrows to the actor's organization; an object of another
organization does not exist (NOT_FOUND). Writes go through :mod:`fixflow.sla.services`.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from fixflow.core.errors import not_found
from fixflow.core.permissions import Actor, require

from . import engine
from .models import BusinessCalendar, Holiday, SlaPolicy


def _pk(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def calendar_list(*, actor: Actor) -> list[BusinessCalendar]:
    """The calendars (built-in 24×7 first) with ``holiday_count`` and ``policy_names`` (the policies using each)."""
    require(actor, "sla.view")
    engine.ensure_defaults(actor.organization_id)
    calendars = list(
        BusinessCalendar.objects.filter(organization_id=actor.organization_id)
        .annotate(holiday_count=Count("holidays", distinct=True))
        .prefetch_related(Prefetch("policies", queryset=SlaPolicy.objects.order_by("is_default", "position", "id")))
        .order_by("-is_24x7", "name", "id")
    )
    for cal in calendars:
        cal.policy_names = [p.name for p in cal.policies.all()]
    return calendars


def calendar_get(*, actor: Actor, pk) -> BusinessCalendar:
    require(actor, "sla.view")
    cal = BusinessCalendar.objects.filter(organization_id=actor.organization_id, pk=_pk(pk)).first()
    if cal is None:
        raise not_found("Calendar")
    return cal


def calendar_holidays(*, actor: Actor, calendar: BusinessCalendar) -> QuerySet[Holiday]:
    require(actor, "sla.view")
    return Holiday.objects.filter(organization_id=actor.organization_id, calendar=calendar).order_by("date")


def holiday_get(*, actor: Actor, pk) -> Holiday:
    require(actor, "sla.view")
    holiday = (
        Holiday.objects.filter(organization_id=actor.organization_id, pk=_pk(pk)).select_related("calendar").first()
    )
    if holiday is None:
        raise not_found("Holiday")
    return holiday


def calendar_policies(*, actor: Actor, calendar: BusinessCalendar) -> QuerySet[SlaPolicy]:
    require(actor, "sla.view")
    return SlaPolicy.objects.filter(organization_id=actor.organization_id, calendar=calendar).order_by(
        "is_default", "position", "id"
    )


def policy_list(*, actor: Actor) -> list[SlaPolicy]:
    """The policies in the order they are tried (the default last), with calendar, clients and sites."""
    require(actor, "sla.view")
    engine.ensure_defaults(actor.organization_id)
    return list(
        SlaPolicy.objects.filter(organization_id=actor.organization_id)
        .select_related("calendar")
        .prefetch_related("clients", "sites__client")
        .order_by("is_default", "position", "id")
    )


def policy_get(*, actor: Actor, pk) -> SlaPolicy:
    require(actor, "sla.view")
    policy = (
        SlaPolicy.objects.filter(organization_id=actor.organization_id, pk=_pk(pk)).select_related("calendar").first()
    )
    if policy is None:
        raise not_found("SLA policy")
    return policy


def open_work_order_count(*, actor: Actor) -> int:
    """How many work orders a "recalculate open work orders" would touch."""
    from fixflow.service.choices import ACTIVE_STATUSES
    from fixflow.service.models import WorkOrder

    require(actor, "sla.recalculate")
    return WorkOrder.objects.filter(organization_id=actor.organization_id, status__in=ACTIVE_STATUSES).count()
