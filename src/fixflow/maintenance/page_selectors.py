"""Reads for the plan pages: a filtered page of plans with what each list row shows, one plan's equipment
items with their next due dates and meters, and the facts the live preview of the plan form adds.

They build on :mod:`fixflow.maintenance.selectors` (the same upcoming-occurrence computation as the
forecast and the generator) and read in a fixed number of queries whatever the number of plans on a
page. Every read takes the acting user and needs ``maintenance.view`` (through ``plan_queryset``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from fixflow.core import clock
from fixflow.core.errors import validation
from fixflow.core.pagination import Page, paginate
from fixflow.core.permissions import Actor, require
from fixflow.service.choices import ACTIVE_STATUSES

from . import selectors, services
from .choices import Mode, OccurrenceStatus, TriggerKind
from .models import MaintenancePlan, Occurrence

TRIGGERS = tuple(TriggerKind.values)  # calendar, floating, meter


def trigger_condition(trigger: str) -> Q:
    """Plans with this trigger (``MaintenancePlan.has_<trigger>_trigger`` as a query)."""
    if trigger == TriggerKind.CALENDAR:
        return Q(mode=Mode.FIXED) & ~Q(rule="")
    if trigger == TriggerKind.FLOATING:
        return Q(mode=Mode.FLOATING, interval_days__gt=0)
    if trigger == TriggerKind.METER:
        return ~Q(meter_name="") & Q(meter_interval__isnull=False)
    raise validation(f"Use one of {', '.join(TRIGGERS)}.", field="trigger")


def plan_page(*, actor: Actor, filters: dict[str, Any], cursor: str | None = None, limit: int = 50) -> Page:
    """A keyset page of the visible plans by name: :func:`selectors.plan_list` with one more filter,
    ``trigger`` (calendar, floating or meter: plans that have that trigger, alone or with another)."""
    trigger = filters.get("trigger")
    if not trigger:
        return selectors.plan_list(actor=actor, filters=filters, cursor=cursor, limit=limit)
    qs = _filtered(actor, filters).filter(trigger_condition(trigger))
    return paginate(qs, ordering=["name"], cursor=cursor, limit=limit)


def _filtered(actor: Actor, filters: dict[str, Any]):
    """The plans :func:`selectors.plan_list` pages through for its filters (kept in step with it)."""
    from fixflow.assets.models import Equipment

    qs = services.plan_queryset(actor=actor).select_related(*selectors.PLAN_RELATED)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(name__icontains=q)
    if (site_id := selectors._as_id(filters.get("site"), "site")) is not None:
        qs = qs.filter(site_id=site_id)
    if (equipment_id := selectors._as_id(filters.get("equipment"), "equipment")) is not None:
        eq = Equipment.objects.filter(organization_id=actor.organization_id, pk=equipment_id).first()
        if eq is None:
            raise validation(f"There is no equipment {equipment_id}.", field="equipment")
        qs = qs.filter(
            Q(equipment_id=eq.pk) | Q(equipment__isnull=True, site_id=eq.site_id, category_id=eq.category_id)
        )
    if filters.get("active") is not None:
        qs = qs.filter(is_active=bool(filters["active"]))
    return qs


# ---------------------------------------------------------------------------------------------
# list rows


@dataclass
class LastWorkOrder:
    id: int
    number: str
    status: str
    due_date: date


@dataclass
class PlanRow:
    """What the plan list shows besides the plan itself."""

    plan: MaintenancePlan
    summary: str
    next_due: list[date] = field(default_factory=list)
    overdue: int = 0  # generated work orders still open after their due date
    last_work_order: LastWorkOrder | None = None


def plan_rows(plans: list[MaintenancePlan], *, now: datetime | None = None, count: int = 2) -> list[PlanRow]:
    """The rows of a page of plans: summary, the next ``count`` due dates (open generated ones due from
    today on, then upcoming ones; none for a paused plan except its open work), the number of open
    work orders already past due, and the last generated work order. Three queries plus the forecast's
    fixed set for the active plans, whatever the number of plans. ``plans`` come from :func:`plan_page`."""
    now = now or clock.now()
    if not plans:
        return []
    ids = [p.pk for p in plans]
    todays = {p.pk: now.astimezone(ZoneInfo(p.site.timezone)).date() for p in plans}
    rows = {p.pk: PlanRow(plan=p, summary=selectors.plan_summary(p)) for p in plans}

    open_dates: dict[int, set[date]] = {pk: set() for pk in ids}
    for plan_id, due in Occurrence.objects.filter(
        plan_id__in=ids, status=OccurrenceStatus.GENERATED, work_order__status__in=ACTIVE_STATUSES
    ).values_list("plan_id", "due_date"):
        if due >= todays[plan_id]:
            open_dates[plan_id].add(due)
        else:
            rows[plan_id].overdue += 1

    last = (
        Occurrence.objects.filter(plan_id__in=ids, work_order__isnull=False)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("plan_id")], order_by=[F("created_at").desc(), F("id").desc()])
        )
        .filter(rank=1)
        .values_list("plan_id", "work_order_id", "work_order__number", "work_order__status", "due_date")
    )
    for plan_id, wo_id, number, status, due in last:
        rows[plan_id].last_work_order = LastWorkOrder(wo_id, number, status, due)

    active = [p for p in plans if p.is_active]
    ctx = selectors._load_context(active, now=now)
    for plan in plans:
        dates = open_dates[plan.pk]
        if plan.is_active:
            streams = [selectors._upcoming(plan, eq, ctx) for eq in ctx.equipment.get(plan.pk, ())]
            for due in heapq.merge(*streams):
                if len(dates) >= count and due.due_date > max(dates):
                    break
                dates.add(due.due_date)
        rows[plan.pk].next_due = sorted(dates)[:count]
    return [rows[p.pk] for p in plans]


def plan_next_upcoming(*, actor: Actor, plan: MaintenancePlan, now: datetime | None = None) -> date | None:
    """The due date of the plan's next occurrence not generated yet (any of its equipment items), or None
    (paused, ended, or a meter that has no predicted date). ``plan`` as from ``services.plan_get``."""
    require(actor, "maintenance.view")
    if not plan.is_active:
        return None
    ctx = selectors._load_context([plan], now=now or clock.now())
    streams = [selectors._upcoming(plan, eq, ctx) for eq in ctx.equipment.get(plan.pk, ())]
    first = next(iter(heapq.merge(*streams)), None)
    return first.due_date if first is not None else None


# ---------------------------------------------------------------------------------------------
# one plan: its equipment items


@dataclass
class DueItem:
    due_date: date
    trigger: str
    due_value: Decimal | None = None
    is_predicted: bool = False
    work_order_id: int | None = None  # an open generated one
    work_order_number: str = ""
    work_order_status: str = ""
    is_overdue: bool = False


@dataclass
class TargetRow:
    """One equipment item of a plan: where its counters stand and what comes next."""

    equipment: Any
    next_due: list[DueItem]
    count: int = 0  # occurrences so far
    last_completed_at: datetime | None = None
    next_due_value: Decimal | None = None  # the meter value the next meter occurrence is due at
    meter: Any = None  # the equipment's meter the plan counts on (None: missing)
    usage_per_day: Decimal | None = None


def plan_targets(
    *, actor: Actor, plan: MaintenancePlan, now: datetime | None = None, count: int = 3, limit: int = 100
) -> tuple[list[TargetRow], int]:
    """The equipment items a plan covers now (its one item, or the category's items at the site, not
    retired), at most ``limit``, with their open generated work orders and the next upcoming dates up to
    ``count`` items in all, the meter the plan counts on and its next due value. Returns (rows, total).
    ``plan`` comes from :func:`services.plan_get` for the same actor (which checked its scope)."""
    require(actor, "maintenance.view")
    now = now or clock.now()
    ctx = selectors._load_context([plan], now=now)
    items = ctx.equipment.get(plan.pk, [])
    total = len(items)
    items = items[:limit]
    today = ctx.today(plan)
    open_by_eq: dict[int, list[DueItem]] = {}
    for occ in (
        Occurrence.objects.filter(
            plan=plan,
            equipment__in=items,
            status=OccurrenceStatus.GENERATED,
            work_order__status__in=ACTIVE_STATUSES,
        )
        .select_related("work_order")
        .order_by("due_date", "id")
    ):
        open_by_eq.setdefault(occ.equipment_id, []).append(
            DueItem(
                due_date=occ.due_date,
                trigger=occ.trigger,
                due_value=occ.due_value,
                work_order_id=occ.work_order_id,
                work_order_number=occ.work_order.number,
                work_order_status=occ.work_order.status,
                is_overdue=occ.due_date < today,
            )
        )
    rows = []
    for eq in items:
        target = ctx.targets.get((plan.pk, eq.pk))
        due_items = open_by_eq.get(eq.pk, [])[:count]
        if plan.is_active:
            for due in selectors._upcoming(plan, eq, ctx):
                if len(due_items) >= count:
                    break
                due_items.append(DueItem(due.due_date, due.trigger, due.due_value, due.is_predicted))
        meter = ctx.meters.get((eq.pk, plan.meter_name)) if plan.has_meter_trigger else None
        next_value = target.next_due_value if target is not None else None
        if plan.has_meter_trigger and next_value is None and meter is not None:
            next_value = selectors._meter_base(plan, target, meter)
        rows.append(
            TargetRow(
                equipment=eq,
                next_due=due_items,
                count=target.count if target else 0,
                last_completed_at=target.last_completed_at if target else None,
                next_due_value=next_value,
                meter=meter,
                usage_per_day=ctx.rates.get(meter.pk) if meter is not None else None,
            )
        )
    return rows, total


# ---------------------------------------------------------------------------------------------
# the preview of the plan form


def preview_facts(
    *, actor: Actor, equipment_id=None, site_id=None, category_id=None, meter_name: str = "", meter_interval=None
) -> dict[str, Any]:
    """What the live preview adds to the dates: the number of equipment items a category plan covers,
    and for an equipment plan with a meter trigger the meter (or its absence) and its current value.

    Returns ``{"items": int | None, "meter": Meter | None, "meter_missing": bool, "usage_per_day",
    "first_due_value"}``. Reads only the actor's organization; an id that is not there gives nothing."""
    from fixflow.assets.choices import EquipmentStatus
    from fixflow.assets.models import Equipment, Meter

    out: dict[str, Any] = {
        "items": None,
        "meter": None,
        "meter_missing": False,
        "usage_per_day": None,
        "first_due_value": None,
    }
    org = actor.organization_id
    if equipment_id:
        eq = Equipment.objects.filter(organization_id=org, pk=equipment_id).first()
        if eq is not None and meter_name:
            meter = Meter.objects.filter(equipment=eq, name=meter_name, is_active=True).first()
            out["meter"] = meter
            out["meter_missing"] = meter is None
            if meter is not None:
                out["usage_per_day"] = selectors.usage_rates([meter]).get(meter.pk)
                if meter.lifetime_value is not None and meter_interval is not None:
                    out["first_due_value"] = meter.lifetime_value + meter_interval
    elif site_id and category_id:
        out["items"] = (
            Equipment.objects.filter(organization_id=org, site_id=site_id, category_id=category_id)
            .exclude(status=EquipmentStatus.RETIRED)
            .count()
        )
    return out


def meter_names(*, actor: Actor) -> list[str]:
    """The names of the organization's active meters, for the meter field's suggestions."""
    from fixflow.assets.models import Meter

    return list(
        Meter.objects.filter(organization_id=actor.organization_id, is_active=True)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )
