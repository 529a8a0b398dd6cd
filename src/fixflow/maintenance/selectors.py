"""Reads of preventive maintenance: the forecast, PM compliance, stale plans, an equipment item's plans
and meters, a plan's next due dates and summary, and the live preview of an unsaved plan.

Every read takes the acting user and needs ``maintenance.view`` (admins, dispatchers, technicians,
accountants: the whole organization; client users hold no such right). Upcoming occurrences are
computed the way the generator will make them (``fixflow.maintenance.generator``): calendar dates from
the plan's anchor (``recurrence``), never by chaining; floating dates from the stored counter, then every
interval assuming on-time completion; meter thresholds at the date the usage rate predicts.

The forecast reads everything it needs in a fixed number of queries whatever the number of plans
(plans, equipment of category plans, targets, the occurrences in the range, the keys recorded from
today on, meters and their recent readings, and one snapshot per business calendar).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate, TruncMonth, TruncQuarter, TruncWeek, TruncYear
from django.db.models.lookups import LessThanOrEqual

from fixflow.core import clock
from fixflow.core.errors import validation
from fixflow.core.pagination import Page, paginate
from fixflow.core.permissions import Actor, require
from fixflow.service.choices import ACTIVE_STATUSES, Status

from . import generator, recurrence, services
from .choices import DayShift, Mode, OccurrenceStatus, OpenPolicy, TriggerKind
from .models import MaintenancePlan, Occurrence, PlannedDates, PlanTarget

MAX_RANGE_DAYS = 1831  # the longest horizon a plan may have (five years), and a day
STALE_MAX_N = 20
# A working-day shift moves a date by a few days; dates this far outside the range are looked at too.
SHIFT_MARGIN = timedelta(days=31)


class ForecastKind:
    GENERATED = "generated"  # a work order exists (open and not yet due, or finished, or cancelled)
    UPCOMING = "upcoming"  # computed: not generated yet
    SKIPPED = "skipped"  # recorded: the previous one was still open (open policy "skip")
    MISSED = "missed"  # recorded: its date passed before it was generated (no backfill)
    OVERDUE = "overdue"  # generated, still open, and its due date has passed

    ALL = ("generated", "upcoming", "skipped", "missed", "overdue")


@dataclass(slots=True)
class ForecastItem:
    """One due occurrence on the planning calendar, generated or still to come."""

    kind: str
    plan_id: int
    plan_name: str
    equipment_id: int
    equipment_name: str
    site_id: int
    site_name: str
    timezone: str
    due_date: date
    due_at: datetime
    trigger: str
    key: str
    due_value: Decimal | None = None
    is_predicted: bool = False  # a meter threshold's date predicted from the usage rate
    occurrence_id: int | None = None
    work_order_id: int | None = None
    work_order_number: str = ""
    work_order_status: str = ""
    completed_at: datetime | None = None
    completed_on_time: bool | None = None  # None until completed
    is_catch_up: bool = False
    reason: str = ""
    technician_id: int | None = None
    technician_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


# ---------------------------------------------------------------------------------------------
# helpers


def _as_date(value, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise validation(f"{name} must be a date such as 2026-01-31.", field=name) from None


def _as_id(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise validation(f"{name} must be an id.", field=name) from None


def _range(date_from, date_to, *, max_days: int = MAX_RANGE_DAYS) -> tuple[date, date]:
    date_from, date_to = _as_date(date_from, "date_from"), _as_date(date_to, "date_to")
    if date_to < date_from:
        raise validation("date_to cannot be before date_from.", field="date_to")
    if (date_to - date_from).days >= max_days:
        raise validation(f"The range covers at most {max_days} days.", field="date_to")
    return date_from, date_to


def _key_of_value(value: Decimal) -> str:
    return f"m:{value.normalize():f}"


def _local_today(zone: str, now: datetime, cache: dict[str, date]) -> date:
    if zone not in cache:
        cache[zone] = now.astimezone(ZoneInfo(zone)).date()
    return cache[zone]


def _today_condition(qs: QuerySet, now: datetime, path: str = "plan__site__timezone") -> tuple[Q, dict[str, date]]:
    """``due_date`` before today in each site's own zone: one condition per zone the rows use."""
    zones = sorted(set(qs.order_by().values_list(path, flat=True).distinct()))
    todays = {zone: now.astimezone(ZoneInfo(zone)).date() for zone in zones}
    condition = Q(pk__in=[])
    for zone, today in todays.items():
        condition |= Q(**{path: zone}, due_date__lt=today)
    return condition, todays


def _plans(actor: Actor) -> QuerySet[MaintenancePlan]:
    return services.plan_queryset(actor=actor)


# ---------------------------------------------------------------------------------------------
# upcoming occurrences: what the generator will make


@dataclass(frozen=True, order=True)
class _Due:
    due_date: date
    nominal: date
    trigger: str = field(compare=False)
    due_value: Decimal | None = field(default=None, compare=False)
    is_predicted: bool = field(default=False, compare=False)

    @property
    def key(self) -> str:
        if self.trigger == TriggerKind.METER and self.due_value is not None:
            return _key_of_value(self.due_value)
        return self.nominal.isoformat()


@dataclass
class _Context:
    """What computing upcoming occurrences needs, read in bulk for a set of plans."""

    now: datetime
    equipment: dict[int, list] = field(default_factory=dict)  # plan id -> equipment items
    targets: dict[tuple[int, int], PlanTarget] = field(default_factory=dict)
    keys: set[tuple[int, int, str]] = field(default_factory=set)  # (plan, equipment, key) recorded already
    # (plan, equipment) -> its planned occurrences (rule date, due date) in date order, for plans planned ahead
    planned: dict[tuple[int, int], list[tuple[date, date]]] = field(default_factory=dict)
    meters: dict[tuple[int, str], Any] = field(default_factory=dict)  # (equipment id, name) -> Meter
    rates: dict[int, Decimal | None] = field(default_factory=dict)  # meter id -> usage per day
    working: dict[int | None, Callable[[date], bool]] = field(default_factory=dict)
    todays: dict[str, date] = field(default_factory=dict)

    def today(self, plan: MaintenancePlan) -> date:
        return _local_today(plan.site.timezone, self.now, self.todays)

    def is_working(self, plan: MaintenancePlan) -> Callable[[date], bool]:
        if plan.calendar_id not in self.working:
            self.working[plan.calendar_id] = generator.working_day_test(plan)
        return self.working[plan.calendar_id]

    def shifted(self, plan: MaintenancePlan, day: date) -> date:
        if plan.day_shift == DayShift.NONE:
            return day
        return recurrence.shift_to_working_day(day, self.is_working(plan), plan.day_shift)


def _load_context(
    plans: list[MaintenancePlan],
    *,
    now: datetime,
    equipment_id: int | None = None,
    planned: bool = True,
    planned_to: date | None = None,
) -> _Context:
    """Read the state of every target of ``plans`` (active plans) in a fixed number of queries.

    ``planned``: read the planning calendar of the plans planned ahead (``planning.plan_ahead``), due up to
    ``planned_to`` when given (a caller that stops there), instead of expanding their rules.
    """
    from fixflow.assets.choices import EquipmentStatus
    from fixflow.assets.models import Equipment, Meter

    ctx = _Context(now=now)
    if not plans:
        return ctx
    by_group: dict[tuple[int, int], list[int]] = defaultdict(list)
    for plan in plans:
        if plan.equipment_id:
            eq = plan.equipment
            keep = eq.status != EquipmentStatus.RETIRED and (equipment_id is None or eq.pk == equipment_id)
            ctx.equipment[plan.pk] = [eq] if keep else []
        else:
            ctx.equipment[plan.pk] = []
            by_group[(plan.site_id, plan.category_id)].append(plan.pk)
    if by_group:
        items = Equipment.objects.filter(
            organization_id=plans[0].organization_id,
            site_id__in={s for s, _c in by_group},
            category_id__in={c for _s, c in by_group},
        ).exclude(status=EquipmentStatus.RETIRED)
        if equipment_id is not None:
            items = items.filter(pk=equipment_id)
        for eq in items.order_by("pk"):
            for plan_id in by_group.get((eq.site_id, eq.category_id), ()):
                ctx.equipment[plan_id].append(eq)
    plan_ids = [p.pk for p in plans]
    targets = PlanTarget.objects.filter(plan_id__in=plan_ids)
    if equipment_id is not None:
        targets = targets.filter(equipment_id=equipment_id)
    ctx.targets = {(t.plan_id, t.equipment_id): t for t in targets}

    calendar_plans = [p for p in plans if p.has_calendar_trigger]
    if calendar_plans:
        # the calendar keys recorded from the earliest "today" on (minus a shift): the generator fills the
        # dates between them (an edit withdraws later ones while a started one stays), never those before
        since = min(ctx.today(p) for p in calendar_plans) - SHIFT_MARGIN
        rows = Occurrence.objects.filter(
            plan_id__in=[p.pk for p in calendar_plans], trigger=TriggerKind.CALENDAR, due_date__gte=since
        )
        if equipment_id is not None:
            rows = rows.filter(equipment_id=equipment_id)
        ctx.keys.update(rows.values_list("plan_id", "equipment_id", "key"))
        ahead = [p for p in calendar_plans if p.planned_until is not None] if planned else []
        if ahead:
            rows = PlannedDates.objects.filter(plan_id__in=[p.pk for p in ahead])
            if equipment_id is not None:
                rows = rows.filter(equipment_id=equipment_id)
            for plan_id, eq_id, days in rows.values_list("plan_id", "equipment_id", "days"):
                ctx.planned[(plan_id, eq_id)] = _planned_days(days, since, planned_to)

    meter_plans = [p for p in plans if p.has_meter_trigger]
    if meter_plans:
        eq_ids = {eq.pk for p in meter_plans for eq in ctx.equipment[p.pk]}
        names = {p.meter_name for p in meter_plans}
        meters = list(Meter.objects.filter(equipment_id__in=eq_ids, name__in=names, is_active=True))
        ctx.meters = {(m.equipment_id, m.name): m for m in meters}
        ctx.rates = usage_rates(meters, now=now)

    # the keys the first floating date / meter threshold of each target would take, if they exist already
    wanted: dict[str, set[int]] = defaultdict(set)
    for plan in plans:
        for eq in ctx.equipment[plan.pk]:
            for key in _first_keys(plan, eq, ctx):
                wanted[key].add(plan.pk)
    if wanted:
        rows = Occurrence.objects.filter(
            plan_id__in={pk for ids in wanted.values() for pk in ids}, key__in=list(wanted)
        ).values_list("plan_id", "equipment_id", "key")
        ctx.keys.update(rows)
    return ctx


def _planned_days(days: list, since: date, planned_to: date | None) -> list[tuple[date, date]]:
    """The (rule date, due date) pairs of a planning calendar from ``since`` on, up to ``planned_to`` (with
    room for a shift) when given. Dates are ISO text: compared as text before parsing the few kept."""
    low = since.isoformat()
    high = (planned_to + SHIFT_MARGIN).isoformat() if planned_to is not None else None
    out = []
    for day, due in days:
        if due < low:
            continue
        if high is not None and due > high:
            continue
        out.append((date.fromisoformat(day), date.fromisoformat(due)))
    return out


def _floating_base(plan: MaintenancePlan, target: PlanTarget | None) -> date:
    return target.next_due_date if target is not None and target.next_due_date else plan.anchor


def _meter_base(plan: MaintenancePlan, target: PlanTarget | None, meter) -> Decimal | None:
    if meter is None or meter.lifetime_value is None:
        return None
    if target is not None and target.next_due_value is not None:
        return target.next_due_value
    return plan.meter_start if plan.meter_start is not None else meter.lifetime_value + plan.meter_interval


def _first_keys(plan: MaintenancePlan, equipment, ctx: _Context) -> list[str]:
    target = ctx.targets.get((plan.pk, equipment.pk))
    keys = []
    if plan.has_floating_trigger:
        keys.append(_floating_base(plan, target).isoformat())
    if plan.has_meter_trigger:
        base = _meter_base(plan, target, ctx.meters.get((equipment.pk, plan.meter_name)))
        if base is not None:
            keys.append(_key_of_value(base))
    return keys


def _upcoming(plan: MaintenancePlan, equipment, ctx: _Context) -> Iterator[_Due]:
    """The occurrences of one target not generated yet, in due order, from today on; ends at the plan's
    end date and count (not at its horizon: callers stop where they need to)."""
    target = ctx.targets.get((plan.pk, equipment.pk))
    remaining = None if plan.max_count is None else max(0, plan.max_count - (target.count if target else 0))
    if remaining == 0:
        return
    if plan.has_calendar_trigger:
        dues = _calendar_dues(plan, equipment, ctx)
    else:
        dues = _counter_dues(plan, equipment, target, ctx)
    for index, due in enumerate(dues):
        if remaining is not None and index >= remaining:
            return
        if plan.end_date is not None and due.nominal > plan.end_date:
            return
        if index >= recurrence.MAX_OCCURRENCES:
            return
        yield due


def _calendar_dues(plan: MaintenancePlan, equipment, ctx: _Context) -> Iterator[_Due]:
    """The rule's dates (from the anchor) due from today on that have no occurrence yet: those on the
    planning calendar as they were recorded, then the rule's dates after ``planned_until``."""
    today = ctx.today(plan)
    after = today - SHIFT_MARGIN
    planned = ctx.planned.get((plan.pk, equipment.pk))
    if planned is not None:
        for day, due in planned:
            if due >= today and (plan.pk, equipment.pk, day.isoformat()) not in ctx.keys:
                yield _Due(due, day, TriggerKind.CALENDAR)
        after = max(after, plan.planned_until)
    for day in recurrence.iter_occurrences(plan.rule, plan.anchor, after=after):
        if (plan.pk, equipment.pk, day.isoformat()) in ctx.keys:
            continue
        due = ctx.shifted(plan, day)
        if due < today:
            continue  # passed without being generated: the generator records it as missed or its catch-up
        yield _Due(due, day, TriggerKind.CALENDAR)


def _counter_dues(plan: MaintenancePlan, equipment, target: PlanTarget | None, ctx: _Context) -> Iterator[_Due]:
    """Floating days and meter thresholds (whichever comes first when both are set): after each one both
    counters restart from its completion, assumed on its due date."""
    today = ctx.today(plan)
    zone = ZoneInfo(plan.site.timezone)
    floating = plan.has_floating_trigger
    next_day: date | None = None
    if floating:
        next_day = _floating_base(plan, target)
        if (plan.pk, equipment.pk, next_day.isoformat()) in ctx.keys:  # generated, not yet completed
            next_day += timedelta(days=plan.interval_days)
        next_day = max(next_day, today)  # one not made while the worker was down is made at once
    meter = ctx.meters.get((equipment.pk, plan.meter_name)) if plan.has_meter_trigger else None
    rate = ctx.rates.get(meter.pk) if meter is not None else None
    next_value = _meter_base(plan, target, meter) if meter is not None else None
    lifetime = meter.lifetime_value if meter is not None else None
    if next_value is not None and (plan.pk, equipment.pk, _key_of_value(next_value)) in ctx.keys:
        next_value += plan.meter_interval
    at = ctx.now.astimezone(zone)  # lifetime ``lifetime`` was reached by then
    while True:
        meter_day = None
        if next_value is not None:
            meter_day = recurrence.predicted_date(lifetime, at, next_value, rate)
        if next_day is None and meter_day is None:
            return
        by_meter = next_day is None or (meter_day is not None and meter_day < next_day)
        if by_meter:
            fired = max(meter_day, today)
            yield _Due(fired, fired, TriggerKind.METER, next_value, is_predicted=True)
        else:
            fired = next_day
            yield _Due(ctx.shifted(plan, next_day), next_day, TriggerKind.FLOATING)
        # restart both counters from the completion, assumed on the due date
        completed = datetime.combine(fired, time(12), tzinfo=zone)
        if lifetime is not None and rate and completed > at:
            reached = lifetime + rate * Decimal((completed - at).total_seconds()) / Decimal(86400)
            lifetime, at = max(lifetime, reached), completed
        if floating:
            next_day = fired + timedelta(days=plan.interval_days)
        if next_value is not None:
            if not by_meter:
                next_value = (lifetime or Decimal(0)) + plan.meter_interval  # the floating one restarts it
            elif plan.meter_mode == Mode.FLOATING:
                next_value = max(next_value, lifetime or next_value) + plan.meter_interval
            else:
                next_value += plan.meter_interval


def usage_rates(meters: Iterable, *, now: datetime | None = None) -> dict[int, Decimal | None]:
    """The usage rate of each meter as :func:`fixflow.assets.meters.usage_rate` computes it, in two queries
    for all of them (the readings in each window; the last one before it, for meters with fewer than two)."""
    from fixflow.assets.choices import MeterKind
    from fixflow.assets.models import MeterReading

    now = now or clock.now()
    meters = [m for m in meters]
    rates: dict[int, Decimal | None] = {m.pk: None for m in meters}
    continuous = [m for m in meters if m.kind == MeterKind.CONTINUOUS]
    if not continuous:
        return rates
    widest = max(m.usage_window_days for m in continuous)
    points: dict[int, list] = defaultdict(list)
    since_of = {m.pk: now - timedelta(days=m.usage_window_days) for m in continuous}
    rows = (
        MeterReading.objects.filter(meter_id__in=list(since_of), read_at__gte=now - timedelta(days=widest))
        .order_by("meter_id", "read_at", "id")
        .values_list("meter_id", "read_at", "lifetime")
    )
    for meter_id, read_at, lifetime in rows:
        if read_at >= since_of[meter_id]:
            points[meter_id].append((read_at, lifetime))
    lacking = [m for m in continuous if len(points[m.pk]) < 2]
    before: dict[int, tuple] = {}
    if lacking:
        by_window: dict[int, list[int]] = defaultdict(list)
        for m in lacking:
            by_window[m.usage_window_days].append(m.pk)
        earlier = Q(pk__in=[])
        for days, ids in by_window.items():
            earlier |= Q(meter_id__in=ids, read_at__lt=now - timedelta(days=days))
        latest = Window(RowNumber(), partition_by=[F("meter_id")], order_by=[F("read_at").desc(), F("id").desc()])
        rows = (
            MeterReading.objects.filter(earlier)
            .annotate(rank=latest)
            .filter(rank=1)
            .values_list("meter_id", "read_at", "lifetime")
        )
        before = {meter_id: (read_at, lifetime) for meter_id, read_at, lifetime in rows}
    for meter in continuous:
        own = points[meter.pk]
        if len(own) < 2 and meter.pk in before:
            own = [before[meter.pk], *own]
        rate = recurrence.usage_per_day(own)
        rates[meter.pk] = rate.quantize(Decimal("0.001")) if rate is not None else None
    return rates


# ---------------------------------------------------------------------------------------------
# the forecast


def forecast(
    *,
    actor: Actor,
    date_from,
    date_to,
    site_id=None,
    equipment_id=None,
    technician_id=None,
    plan_id=None,
    now: datetime | None = None,
) -> list[ForecastItem]:
    """Due occurrences of the visible plans with a due date in [date_from, date_to] (both included, local
    dates of each site), sorted by due instant.

    Recorded occurrences come as ``generated`` (with the work order's number, status, and whether it was
    completed on or before its due date), ``overdue`` (generated, still open, due date passed),
    ``skipped`` and ``missed``, paused plans included. Active plans add ``upcoming`` occurrences from
    today on, up to ``horizon_days`` from today, the plan's end date and count. Filters: site, equipment
    (its own plans and its category's plans at its site), technician (the work order's lead technician,
    or the plan's for what is not generated), plan. Needs ``maintenance.view``; at most five years.
    """
    from fixflow.assets.models import Equipment

    require(actor, "maintenance.view")
    now = now or clock.now()
    date_from, date_to = _range(date_from, date_to)
    site_id = _as_id(site_id, "site")
    equipment_id = _as_id(equipment_id, "equipment")
    technician_id = _as_id(technician_id, "technician")
    plan_id = _as_id(plan_id, "plan")

    plans = _plans(actor)
    if site_id is not None:
        plans = plans.filter(site_id=site_id)
    if plan_id is not None:
        plans = plans.filter(pk=plan_id)
    if equipment_id is not None:
        eq = Equipment.objects.filter(organization_id=actor.organization_id, pk=equipment_id).first()
        if eq is None:
            raise validation(f"There is no equipment {equipment_id}.", field="equipment")
        plans = plans.filter(
            Q(equipment_id=eq.pk) | Q(equipment__isnull=True, site_id=eq.site_id, category_id=eq.category_id)
        )

    # recorded occurrences in the range
    occurrences = Occurrence.objects.filter(plan__in=plans, due_date__gte=date_from, due_date__lte=date_to)
    if equipment_id is not None:
        occurrences = occurrences.filter(equipment_id=equipment_id)
    if technician_id is not None:
        occurrences = occurrences.filter(
            Q(work_order__lead_technician_id=technician_id)
            | Q(work_order__isnull=True, plan__lead_technician_id=technician_id)
        )
    items = _recorded_items(occurrences, now)

    # upcoming: active plans, when the range reaches today
    if date_to >= now.date() - timedelta(days=1):
        active = plans.filter(is_active=True)
        if technician_id is not None:
            active = active.filter(lead_technician_id=technician_id)
        active_plans = list(active.select_related(*_FORECAST_RELATED).only(*_forecast_fields()))
        items.extend(_upcoming_items(active_plans, now=now, date_from=date_from, date_to=date_to, eq_id=equipment_id))
    items.sort(key=lambda i: (i.due_date, i.due_at, i.plan_name.lower(), i.equipment_name.lower(), i.plan_id))
    return items


_FORECAST_RELATED = ("site", "equipment", "calendar", "lead_technician")


@lru_cache(maxsize=1)
def _forecast_fields() -> tuple[str, ...]:
    """The plan with what the forecast reads of its related rows (their other columns are not loaded:
    a site's 500 plans with all columns of five tables cost a third of the forecast)."""
    return (
        *(f.name for f in MaintenancePlan._meta.concrete_fields),
        "site__name",
        "site__timezone",
        "equipment__name",
        "equipment__status",
        "equipment__site_id",
        "equipment__category_id",
        "lead_technician__full_name",
        "calendar__name",
        "calendar__version",
        "calendar__timezone",
        "calendar__week",
        "calendar__is_24x7",
    )


_RECORDED_VALUES = (
    "id",
    "plan_id",
    "plan__name",
    "plan__site_id",
    "plan__site__name",
    "plan__site__timezone",
    "plan__lead_technician_id",
    "plan__lead_technician__full_name",
    "equipment_id",
    "equipment__name",
    "due_date",
    "due_at",
    "trigger",
    "key",
    "due_value",
    "status",
    "reason",
    "is_catch_up",
    "work_order_id",
    "work_order__number",
    "work_order__status",
    "work_order__completed_at",
    "work_order__lead_technician_id",
    "work_order__lead_technician__full_name",
)


def _recorded_items(occurrences: QuerySet[Occurrence], now: datetime) -> list[ForecastItem]:
    """Forecast items of recorded occurrences, read as plain values (no model instances: a busy site has
    thousands)."""
    todays: dict[str, date] = {}
    items = []
    for row in occurrences.values(*_RECORDED_VALUES):
        zone = row["plan__site__timezone"]
        kind, on_time = row["status"], None
        has_wo = row["work_order_id"] is not None
        if kind == OccurrenceStatus.GENERATED and has_wo:
            if row["work_order__status"] in ACTIVE_STATUSES and row["due_date"] < _local_today(zone, now, todays):
                kind = ForecastKind.OVERDUE
            completed_at = row["work_order__completed_at"]
            if completed_at is not None and row["work_order__status"] in (Status.COMPLETED, Status.CLOSED):
                on_time = completed_at.astimezone(ZoneInfo(zone)).date() <= row["due_date"]
        tech = "work_order__lead_technician" if has_wo else "plan__lead_technician"
        items.append(
            ForecastItem(
                kind=kind,
                plan_id=row["plan_id"],
                plan_name=row["plan__name"],
                equipment_id=row["equipment_id"],
                equipment_name=row["equipment__name"],
                site_id=row["plan__site_id"],
                site_name=row["plan__site__name"],
                timezone=zone,
                due_date=row["due_date"],
                due_at=row["due_at"],
                trigger=row["trigger"],
                key=row["key"],
                due_value=row["due_value"],
                occurrence_id=row["id"],
                work_order_id=row["work_order_id"],
                work_order_number=row["work_order__number"] or "",
                work_order_status=row["work_order__status"] or "",
                completed_at=row["work_order__completed_at"],
                completed_on_time=on_time,
                is_catch_up=row["is_catch_up"],
                reason=row["reason"],
                technician_id=row[f"{tech}_id"],
                technician_name=row[f"{tech}__full_name"] or "",
            )
        )
    return items


@lru_cache(maxsize=4096)
def _due_instant(day: date, at: time, zone: str) -> datetime:
    return recurrence.due_instant(day, at, zone)


def _upcoming_item(plan: MaintenancePlan, equipment, due: _Due) -> ForecastItem:
    tech = plan.lead_technician
    return ForecastItem(
        kind=ForecastKind.UPCOMING,
        plan_id=plan.pk,
        plan_name=plan.name,
        equipment_id=equipment.pk,
        equipment_name=equipment.name,
        site_id=plan.site_id,
        site_name=plan.site.name,
        timezone=plan.site.timezone,
        due_date=due.due_date,
        due_at=_due_instant(due.due_date, plan.due_time, plan.site.timezone),
        trigger=due.trigger,
        key=due.key,
        due_value=due.due_value,
        is_predicted=due.is_predicted,
        technician_id=tech.pk if tech is not None else None,
        technician_name=tech.full_name if tech is not None else "",
    )


def _upcoming_items(
    plans: list[MaintenancePlan], *, now: datetime, date_from: date, date_to: date, eq_id: int | None
) -> list[ForecastItem]:
    ctx = _load_context(plans, now=now, equipment_id=eq_id, planned_to=date_to)
    items = []
    for plan in plans:
        today = ctx.today(plan)
        last_day = min(date_to, today + timedelta(days=plan.horizon_days))
        if last_day < max(date_from, today):
            continue
        for eq in ctx.equipment[plan.pk]:
            for due in _upcoming(plan, eq, ctx):
                if due.due_date > last_day:
                    if due.nominal > last_day + SHIFT_MARGIN:
                        break
                    continue
                if due.due_date < date_from:
                    continue
                items.append(_upcoming_item(plan, eq, due))
    return items


# ---------------------------------------------------------------------------------------------
# next due dates of a saved plan, its summary, and the preview of an unsaved one


def plan_next_due(*, plan: MaintenancePlan, now: datetime | None = None, count: int = 5) -> list[date]:
    """The next ``count`` due dates of a plan (from today in its site's zone; any of its equipment items):
    generated occurrences still open and due from today on, then upcoming ones (beyond the horizon too,
    within its end date and count). A paused plan has only its open generated ones."""
    now = now or clock.now()
    today = now.astimezone(ZoneInfo(plan.site.timezone)).date()
    dates = set(
        Occurrence.objects.filter(
            plan=plan,
            status=OccurrenceStatus.GENERATED,
            due_date__gte=today,
            work_order__status__in=ACTIVE_STATUSES,
        ).values_list("due_date", flat=True)[:count]
    )
    if plan.is_active:
        ctx = _load_context([plan], now=now)
        streams = [_upcoming(plan, eq, ctx) for eq in ctx.equipment[plan.pk]]
        for due in heapq.merge(*streams):
            if len(dates) >= count and due.due_date > max(dates):
                break
            dates.add(due.due_date)
    return sorted(dates)[:count]


def plan_summary(plan: MaintenancePlan) -> str:
    """The plan in one sentence: "every 3 months on the last day, 7 days ahead, skip if the last one is
    still open"."""
    parts = []
    if plan.has_calendar_trigger:
        try:
            parts.append(recurrence.describe_rule(plan.rule, plan.anchor))
        except recurrence.RuleError:
            parts.append("an unreadable rule")
    if plan.has_floating_trigger:
        parts.append(f"{_days(plan.interval_days)} after the last completion")
    if plan.has_meter_trigger:
        interval = f"{plan.meter_interval.normalize():f}"
        tail = " after the reading at the last completion" if plan.meter_mode == Mode.FLOATING else ""
        parts.append(f"every {interval} of {plan.meter_name}{tail}")
    text = " or ".join(parts) + (", whichever comes first" if len(parts) > 1 else "")
    if not parts:
        text = "no trigger"
    text += f", {_days(plan.lead_days)} ahead" if plan.lead_days else ", on the due day"
    text += {
        OpenPolicy.SKIP: ", skip if the last one is still open",
        OpenPolicy.STACK: ", create it even if the last one is still open",
        OpenPolicy.REPLACE: ", replace the last one if it is still open",
    }.get(plan.open_policy, "")
    if plan.day_shift == DayShift.PREVIOUS:
        text += ", moved to the previous working day"
    elif plan.day_shift == DayShift.NEXT:
        text += ", moved to the next working day"
    if plan.end_date:
        text += f", until {plan.end_date.isoformat()}"
    if plan.max_count:
        text += f", {plan.max_count} times at most"
    return text


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def plan_preview(*, data: dict[str, Any], today: date, count: int = 5, actor: Actor | None = None) -> list[date]:
    """The next ``count`` due dates (from ``today``) of a plan being edited, for the live preview.

    ``data`` holds the form's values as for :func:`services.plan_create` (``anchor``, ``recurrence`` or
    ``rule``, ``mode``, ``interval_days``, ``meter_name``/``meter_interval``, ``end_date``, ``max_count``,
    ``day_shift``, ``calendar_id``), checked by the same rules as the service (a ``DomainError`` names
    the field). Calendar plans give the rule's dates from the anchor; floating plans the first due date
    and then every interval assuming on-time completion; a plan with only a meter trigger has no dates.
    Nothing is read from the database, except the business calendar when one is chosen (with ``actor``,
    from the actor's organization).
    """
    plan = MaintenancePlan(anchor=services._date(data.get("anchor"), "anchor"))
    if plan.anchor is None:
        raise validation("Enter the first due date.", field="anchor")
    plan.mode = data.get("mode") or Mode.FIXED
    if plan.mode not in Mode.values:
        raise validation(f"Use one of {', '.join(Mode.values)}.", field="mode")
    if data.get("recurrence"):
        plan.rule = services.rule_from_choices(data["recurrence"], plan.anchor)
    else:
        plan.rule = (data.get("rule") or "").strip().removeprefix("RRULE:")
    plan.interval_days = services._int(data.get("interval_days"), "interval_days", minimum=1, maximum=3650)
    plan.meter_name = (data.get("meter_name") or "").strip()
    plan.meter_interval = services._decimal(data.get("meter_interval"), "meter_interval")
    plan.end_date = services._date(data.get("end_date"), "end_date")
    plan.max_count = services._int(data.get("max_count"), "max_count", minimum=1, maximum=100000)
    plan.day_shift = data.get("day_shift") or DayShift.NONE
    if plan.day_shift not in DayShift.values:
        raise validation(f"Use one of {', '.join(DayShift.values)}.", field="day_shift")
    services._validate_triggers(plan)

    is_working: Callable[[date], bool] = lambda d: d.weekday() < 5  # noqa: E731 — the generator's default
    calendar_id = data.get("calendar_id")
    if plan.day_shift != DayShift.NONE and calendar_id not in (None, "") and actor is not None:
        from fixflow.sla.models import BusinessCalendar

        plan.calendar = BusinessCalendar.objects.filter(
            organization_id=actor.organization_id, pk=_as_id(calendar_id, "calendar")
        ).first()
        if plan.calendar is None:
            raise validation("That calendar does not exist.", field="calendar")
        is_working = generator.working_day_test(plan)

    def shifted(day: date) -> date:
        if plan.day_shift == DayShift.NONE:
            return day
        return recurrence.shift_to_working_day(day, is_working, plan.day_shift)

    out: list[date] = []
    if plan.has_calendar_trigger:
        # from a little before today (a date moved to the next working day may be due today), not from the
        # anchor: a daily plan anchored years back has thousands of dates before today; the ones skipped
        # are counted for the plan's count of occurrences
        after = max(plan.anchor, today - SHIFT_MARGIN) - timedelta(days=1)
        limit = plan.max_count if plan.max_count is not None else 0
        before = recurrence.count_through(plan.rule, plan.anchor, after, limit)
        dates = recurrence.iter_occurrences(plan.rule, plan.anchor, after=after)
        for walked, day in enumerate(dates, start=1):
            index = before + walked
            if (plan.max_count is not None and index > plan.max_count) or (plan.end_date and day > plan.end_date):
                break
            if walked > recurrence.MAX_OCCURRENCES or len(out) >= count:
                break
            due = shifted(day)
            if due >= today:
                out.append(due)
    elif plan.has_floating_trigger:
        day = max(plan.anchor, today)
        while len(out) < count and (plan.max_count is None or len(out) < plan.max_count):
            if plan.end_date and day > plan.end_date:
                break
            out.append(shifted(day))
            day += timedelta(days=plan.interval_days)
    return out


# ---------------------------------------------------------------------------------------------
# PM compliance


@dataclass
class ComplianceRow:
    """Due occurrences of one group and what became of them."""

    key: str
    label: str
    on_time: int = 0
    late: int = 0  # completed after the due date
    open: int = 0  # generated, still open (overdue)
    cancelled: int = 0
    skipped: int = 0
    missed: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.open + self.cancelled + self.skipped + self.missed

    @property
    def compliance_percent(self) -> float | None:
        """on time / due, one decimal; None when nothing was due."""
        return round(100 * self.on_time / self.due, 1) if self.due else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "due": self.due,
            "on_time": self.on_time,
            "late": self.late,
            "open": self.open,
            "cancelled": self.cancelled,
            "skipped": self.skipped,
            "missed": self.missed,
            "compliance_percent": self.compliance_percent,
        }


@dataclass
class ComplianceReport:
    date_from: date
    date_to: date  # included
    group: str
    site_id: int | None
    plan_id: int | None
    totals: ComplianceRow
    by_period: list[ComplianceRow]  # every period of the range, empty ones included
    by_site: list[ComplianceRow]
    by_plan: list[ComplianceRow]
    # one row per period × site × plan with anything due (``compliance(detail=True)`` only; not in as_dict)
    detail: list[ComplianceDetailRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "group": self.group,
            "site_id": self.site_id,
            "plan_id": self.plan_id,
            "totals": self.totals.as_dict(),
            "by_period": [r.as_dict() for r in self.by_period],
            "by_site": [r.as_dict() for r in self.by_site],
            "by_plan": [r.as_dict() for r in self.by_plan],
        }


@dataclass
class ComplianceDetailRow(ComplianceRow):
    """One period of one plan at one site (``key`` and ``label`` are the period's)."""

    site_id: int = 0
    site_name: str = ""
    plan_id: int = 0
    plan_name: str = ""


GROUPS = ("month", "week", "quarter", "year")
_TRUNC = {"month": TruncMonth, "week": TruncWeek, "quarter": TruncQuarter, "year": TruncYear}


def _period_key(day: date, group: str) -> str:
    if group == "year":
        return f"{day.year:04d}"
    if group == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if group == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{day.year:04d}-{day.month:02d}"


def _periods(first: date, last: date, group: str) -> list[str]:
    """The key of every period with a day in [first, last]."""
    out: list[str] = []
    if group == "week":
        day = first - timedelta(days=first.weekday())
        step = lambda d: d + timedelta(days=7)  # noqa: E731
    elif group == "year":
        day = date(first.year, 1, 1)
        step = lambda d: date(d.year + 1, 1, 1)  # noqa: E731
    else:
        months = 3 if group == "quarter" else 1
        day = date(first.year, first.month - (first.month - 1) % months, 1)
        step = lambda d: date(d.year + (d.month + months - 1) // 12, (d.month + months - 1) % 12 + 1, 1)  # noqa: E731
    while day <= last:
        out.append(_period_key(day, group))
        try:
            day = step(day)
        except (OverflowError, ValueError):  # the last period of year 9999
            break
    return out


def compliance(
    *,
    actor: Actor,
    date_from,
    date_to,
    site_id=None,
    plan_id=None,
    group: str = "month",
    now: datetime | None = None,
    detail: bool = False,
) -> ComplianceReport:
    """PM compliance (DOMAIN.md §3 rule 11): occurrences completed on time / due occurrences, with a due
    date in [date_from, date_to] (both included), per period (``group``: month, week, quarter or year), site
    and plan; with ``detail``, also per period × site × plan (the rows with anything due; one more query).

    An occurrence is due once its due date has ended in its site's zone (later ones are left out). It is
    on time when its work order was completed (completed or closed) on or before its due date, local
    time; completed later is late; skipped, missed, cancelled and still open count as due and not done.
    Aggregate queries (one per grouping), on SQLite and PostgreSQL alike. Needs ``maintenance.view``.
    """
    from fixflow.customers.models import Site

    require(actor, "maintenance.view")
    now = now or clock.now()
    date_from, date_to = _range(date_from, date_to, max_days=3661)
    if group not in GROUPS:
        raise validation(f"Group by one of {', '.join(GROUPS)}.", field="group")
    site_id = _as_id(site_id, "site")
    plan_id = _as_id(plan_id, "plan")
    if site_id is not None and not Site.objects.filter(organization_id=actor.organization_id, pk=site_id).exists():
        raise validation(f"There is no site {site_id}.", field="site")
    if plan_id is not None and not _plans(actor).filter(pk=plan_id).exists():
        raise validation(f"There is no maintenance plan {plan_id}.", field="plan")

    qs = Occurrence.objects.filter(
        organization_id=actor.organization_id, due_date__gte=date_from, due_date__lte=date_to
    )
    if actor.is_client:  # not reachable through the capability table; kept so a change there cannot leak
        qs = qs.filter(plan__site__client_id=actor.client_id)
    if site_id is not None:
        qs = qs.filter(plan__site_id=site_id)
    if plan_id is not None:
        qs = qs.filter(plan_id=plan_id)
    passed, todays = _today_condition(qs, now)
    qs = qs.filter(passed)

    generated = Q(status=OccurrenceStatus.GENERATED)
    done = generated & Q(
        work_order__status__in=[Status.COMPLETED, Status.CLOSED], work_order__completed_at__isnull=False
    )
    in_time = Q(pk__in=[])
    for zone in todays:
        completed_day = TruncDate("work_order__completed_at", tzinfo=ZoneInfo(zone))
        in_time |= Q(plan__site__timezone=zone) & Q(LessThanOrEqual(completed_day, F("due_date")))
    counts = {
        "on_time": Count("id", filter=done & in_time),
        "late": Count("id", filter=done & ~in_time),
        "open": Count("id", filter=generated & Q(work_order__status__in=list(ACTIVE_STATUSES))),
        "cancelled": Count(
            "id", filter=generated & (Q(work_order__status=Status.CANCELLED) | Q(work_order__isnull=True))
        ),
        "skipped": Count("id", filter=Q(status=OccurrenceStatus.SKIPPED)),
        "missed": Count("id", filter=Q(status=OccurrenceStatus.MISSED)),
    }

    def row(key: str, label: str, values: dict) -> ComplianceRow:
        return ComplianceRow(key=key, label=label, **{name: values[name] or 0 for name in counts})

    totals = row("total", "Total", qs.aggregate(**counts))
    by_site = sorted(
        (
            row(str(r["plan__site_id"]), r["plan__site__name"], r)
            for r in qs.order_by().values("plan__site_id", "plan__site__name").annotate(**counts)
        ),
        key=lambda r: (r.label.lower(), r.key),
    )
    by_plan = sorted(
        (
            row(str(r["plan_id"]), r["plan__name"], r)
            for r in qs.order_by().values("plan_id", "plan__name").annotate(**counts)
        ),
        key=lambda r: (r.label.lower(), r.key),
    )
    found: dict[str, ComplianceRow] = {}
    period = _TRUNC[group]("due_date")
    for r in qs.order_by().annotate(period=period).values("period").annotate(**counts):
        day = r["period"].date() if isinstance(r["period"], datetime) else r["period"]
        key = _period_key(day, group)
        found[key] = row(key, key, r)
    by_period = [found.get(k) or ComplianceRow(key=k, label=k) for k in _periods(date_from, date_to, group)]
    details = []
    if detail:
        fields = ("period", "plan__site_id", "plan__site__name", "plan_id", "plan__name")
        for r in qs.order_by().annotate(period=period).values(*fields).annotate(**counts):
            day = r["period"].date() if isinstance(r["period"], datetime) else r["period"]
            key = _period_key(day, group)
            details.append(
                ComplianceDetailRow(
                    key=key,
                    label=key,
                    site_id=r["plan__site_id"],
                    site_name=r["plan__site__name"],
                    plan_id=r["plan_id"],
                    plan_name=r["plan__name"],
                    **{name: r[name] or 0 for name in counts},
                )
            )
        details.sort(key=lambda d: (d.key, d.site_name.lower(), d.site_id, d.plan_name.lower(), d.plan_id))
    return ComplianceReport(
        date_from=date_from,
        date_to=date_to,
        group=group,
        site_id=site_id,
        plan_id=plan_id,
        totals=totals,
        by_period=by_period,
        by_site=by_site,
        by_plan=by_plan,
        detail=details,
    )


# ---------------------------------------------------------------------------------------------
# stale plans


@dataclass(frozen=True)
class StaleWorkOrder:
    work_order_id: int
    number: str
    status: str
    due_date: date


@dataclass(frozen=True)
class StalePlan:
    """An active plan whose last N work orders, due and passed, were never started."""

    plan_id: int
    name: str
    site_id: int
    site_name: str
    work_orders: list[StaleWorkOrder]  # newest first


def stale_plans(*, actor: Actor, last_n: int = 3, now: datetime | None = None) -> list[StalePlan]:
    """Active plans whose last ``last_n`` generated work orders with a passed due instant were never
    started: still new or planned, or cancelled without having been started. One query (a window over
    each plan's occurrences). Needs ``maintenance.view``."""
    require(actor, "maintenance.view")
    now = now or clock.now()
    if not isinstance(last_n, int) or not 1 <= last_n <= STALE_MAX_N:
        raise validation(f"last_n is a whole number from 1 to {STALE_MAX_N}.", field="last_n")
    plans = _plans(actor).filter(is_active=True)
    ranked = (
        Occurrence.objects.filter(
            plan__in=plans, status=OccurrenceStatus.GENERATED, work_order__isnull=False, due_at__lt=now
        )
        .annotate(rank=Window(RowNumber(), partition_by=[F("plan_id")], order_by=[F("due_at").desc(), F("id").desc()]))
        .filter(rank__lte=last_n)
        .values_list(
            "plan_id",
            "plan__name",
            "plan__site_id",
            "plan__site__name",
            "work_order_id",
            "work_order__number",
            "work_order__status",
            "work_order__started_at",
            "due_date",
            "rank",
        )
    )
    rows: dict[int, list] = defaultdict(list)
    for row in ranked:
        rows[row[0]].append(row)
    never_started = {Status.NEW, Status.PLANNED, Status.CANCELLED}
    out = []
    for plan_rows in rows.values():
        if len(plan_rows) < last_n:
            continue
        if all(r[6] in never_started and r[7] is None for r in plan_rows):
            plan_rows.sort(key=lambda r: r[9])
            first = plan_rows[0]
            out.append(
                StalePlan(
                    plan_id=first[0],
                    name=first[1],
                    site_id=first[2],
                    site_name=first[3],
                    work_orders=[StaleWorkOrder(r[4], r[5], r[6], r[8]) for r in plan_rows],
                )
            )
    out.sort(key=lambda p: (p.name.lower(), p.plan_id))
    return out


# ---------------------------------------------------------------------------------------------
# one equipment item


def equipment_maintenance(*, actor: Actor, equipment_id, now: datetime | None = None, next_count: int = 3) -> dict:
    """The plans on an equipment item (its own, and its category's at its site) with their next
    ``next_count`` due dates for this item, and its meters with the last reading, lifetime value and
    usage rate.

    The equipment must be visible to the actor (else NOT_FOUND); plans are listed for holders of
    ``maintenance.view`` only (others get an empty list). Returns ``{"equipment", "plans": [{"plan",
    "summary", "next_due": [ForecastItem]}], "meters": [{"meter", "last_value", "last_read_at",
    "lifetime_value", "usage_per_day"}]}``; ``next_due`` holds its open generated occurrences (overdue
    first) and then upcoming ones.
    """
    from fixflow.assets.meters import meter_queryset
    from fixflow.assets.services import EQUIPMENT
    from fixflow.core.entities import entity_get

    now = now or clock.now()
    eq = entity_get(EQUIPMENT, actor=actor, pk=_as_id(equipment_id, "equipment"))
    plans_out = []
    if actor.can("maintenance.view"):
        plans = list(
            _plans(actor)
            .filter(Q(equipment_id=eq.pk) | Q(equipment__isnull=True, site_id=eq.site_id, category_id=eq.category_id))
            .select_related("site", "equipment", "calendar", "lead_technician")
            .order_by("name", "id")
        )
        open_items: dict[int, list[ForecastItem]] = defaultdict(list)
        recorded = Occurrence.objects.filter(
            plan__in=[p.pk for p in plans],
            equipment=eq,
            status=OccurrenceStatus.GENERATED,
            work_order__status__in=ACTIVE_STATUSES,
        ).order_by("due_date", "id")
        for item in _recorded_items(recorded, now):
            open_items[item.plan_id].append(item)
        active = [p for p in plans if p.is_active]
        ctx = _load_context(active, now=now, equipment_id=eq.pk)
        for plan in plans:
            items = open_items[plan.pk][:next_count]
            if plan.is_active and eq in ctx.equipment.get(plan.pk, ()):
                for due in _upcoming(plan, eq, ctx):
                    if len(items) >= next_count:
                        break
                    items.append(_upcoming_item(plan, eq, due))
            plans_out.append({"plan": plan, "summary": plan_summary(plan), "next_due": items})
    meters = list(meter_queryset(actor=actor).filter(equipment=eq).order_by("name", "id"))
    rates = usage_rates(meters, now=now)
    meters_out = [
        {
            "meter": m,
            "last_value": m.last_value,
            "last_read_at": m.last_read_at,
            "lifetime_value": m.lifetime_value,
            "usage_per_day": rates.get(m.pk),
        }
        for m in meters
    ]
    return {"equipment": eq, "plans": plans_out, "meters": meters_out}


# ---------------------------------------------------------------------------------------------
# lists (keyset pages, as every list of the API and the pages)


PLAN_RELATED = ("site", "equipment", "category", "template", "calendar", "lead_technician")


def plan_list(*, actor: Actor, filters: dict[str, Any], cursor: str | None = None, limit: int = 50) -> Page:
    """A page of the visible plans by name. Filters: ``q`` (name contains), ``site``, ``equipment`` (its
    own plans and its category's at its site), ``active``. Needs ``maintenance.view``."""
    from fixflow.assets.models import Equipment

    qs = _plans(actor).select_related(*PLAN_RELATED)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(name__icontains=q)
    if (site_id := _as_id(filters.get("site"), "site")) is not None:
        qs = qs.filter(site_id=site_id)
    if (equipment_id := _as_id(filters.get("equipment"), "equipment")) is not None:
        eq = Equipment.objects.filter(organization_id=actor.organization_id, pk=equipment_id).first()
        if eq is None:
            raise validation(f"There is no equipment {equipment_id}.", field="equipment")
        qs = qs.filter(
            Q(equipment_id=eq.pk) | Q(equipment__isnull=True, site_id=eq.site_id, category_id=eq.category_id)
        )
    if filters.get("active") is not None:
        qs = qs.filter(is_active=bool(filters["active"]))
    return paginate(qs, ordering=["name"], cursor=cursor, limit=limit)


def occurrence_list(
    *, actor: Actor, plan_id, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """A page of one plan's recorded occurrences, latest due first (NOT_FOUND outside the actor's scope)."""
    plan = services.plan_get(actor=actor, pk=plan_id)
    qs = plan.occurrences.select_related("equipment", "work_order")
    if status:
        if status not in OccurrenceStatus.values:
            raise validation(f"Use one of {', '.join(OccurrenceStatus.values)}.", field="status")
        qs = qs.filter(status=status)
    return paginate(qs, ordering=["-due_date"], cursor=cursor, limit=limit)


def reading_page(*, actor: Actor, meter_id, cursor: str | None = None, limit: int = 50) -> Page:
    """A page of a meter's readings, latest first (NOT_FOUND when the meter's equipment is not visible)."""
    from fixflow.assets.meters import meter_get

    meter = meter_get(actor=actor, pk=meter_id)
    qs = meter.readings.select_related("recorded_by", "work_order")
    return paginate(qs, ordering=["-read_at"], cursor=cursor, limit=limit)
