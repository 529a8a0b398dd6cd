"""The preventive maintenance generator: occurrences and their work orders (DOMAIN.md §3).

Runs as a periodic job of ``fixflow worker``, from ``fixflow manage generate_pm --until DATE``, on
demand for one plan, on a meter reading, and on the completion of a generated work order.

How: plans are read :data:`BATCH_PLANS` at a time. For each (plan, equipment) — a *target* — the
generator first reads, without locks and in a fixed number of queries for the whole batch, what it
would record; targets with nothing to do cost no write and no lock (a second run is a read). The
targets with work are then locked (their ``PlanTarget`` rows, ``SELECT … FOR UPDATE`` in id order),
read again, and their occurrences recorded in one transaction per batch: plain work orders in bulk
(``batch.create_work_orders``: the same numbering, template copy, event and SLA as
``work_order_create``), and one by one through ``work_order_create`` when a plan replaces open work or
fails one of its checks (then its error is reported and the others go on).

Safety: two generators at once take turns on the target locks and the second finds the work done;
each occurrence has a unique key (plan, equipment, local due date or due meter value), so nothing is
created twice even without the lock. Everything is computed from the plan's anchor and the stored
counters, never by chaining generated dates.
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q

from fixflow.assets.choices import EquipmentStatus
from fixflow.assets.models import Equipment, Meter
from fixflow.core import clock
from fixflow.core.choices import Role
from fixflow.core.errors import validation
from fixflow.core.permissions import Actor
from fixflow.service.choices import ACTIVE_STATUSES, Status, WorkOrderType
from fixflow.service.models import WorkOrder

from . import recurrence
from .choices import DayShift, Mode, OccurrenceStatus, OpenPolicy, TriggerKind
from .models import MaintenancePlan, Occurrence, PlanTarget

log = logging.getLogger(__name__)

SYSTEM_EMAIL = "system@fixflow.invalid"
# ``generate(until=…)`` reaches at most this far ahead: the longest horizon a plan may have (five years).
MAX_UNTIL_DAYS = 1830
MISSED_REASON = "Missed: its date passed before the plan was generated."
# Plans read and written together by ``generate``: one transaction per batch.
BATCH_PLANS = 1000
# How far after the window a date shifted to the previous working day is looked for (holidays in a row).
SHIFT_SLACK_DAYS = 14
# Set while the generator works on a target: a work order it cancels (open policy "replace") must not
# start a nested generation for the same target.
_generating: ContextVar[bool] = ContextVar("fixflow_pm_generating", default=False)


def system_actor(organization) -> Actor:
    """The actor the generator creates work orders as: "Fixflow (preventive maintenance)"."""
    from fixflow.core.models import User

    user = User.objects.filter(email=SYSTEM_EMAIL).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=SYSTEM_EMAIL, password=None, full_name="Fixflow (preventive maintenance)", is_active=False
                )
        except IntegrityError:
            user = User.objects.get(email=SYSTEM_EMAIL)
    return Actor(user=user, organization=organization, role=Role.ADMIN)


@dataclass
class Stats:
    plans: int = 0
    targets: int = 0
    work_orders: int = 0
    skipped: int = 0
    missed: int = 0
    replaced: int = 0
    errors: list[str] = field(default_factory=list)
    failed_plans: set[int] = field(default_factory=set, repr=False)  # plans with an error: not generated up to

    def add(self, other: Stats) -> None:
        for name in ("plans", "targets", "work_orders", "skipped", "missed", "replaced"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        self.failed_plans |= other.failed_plans

    def failed(self, plan: MaintenancePlan, equipment: Equipment, exc: Exception) -> Stats:
        log.exception("Generating plan %s for equipment %s failed", plan.pk, equipment.pk)
        self.errors.append(f"{plan.name} / {equipment.name}: {exc}")
        self.failed_plans.add(plan.pk)
        return self

    def as_dict(self) -> dict:
        return {
            "plans": self.plans,
            "targets": self.targets,
            "work_orders": self.work_orders,
            "skipped": self.skipped,
            "missed": self.missed,
            "replaced": self.replaced,
            "errors": self.errors,
        }


# ---------------------------------------------------------------------------------------------
# what a plan covers, and its working days


def plan_equipment(plan: MaintenancePlan) -> list[Equipment]:
    """The equipment items a plan applies to: its one item, or the category's items at its site."""
    if plan.equipment_id:
        return [plan.equipment] if plan.equipment.status != EquipmentStatus.RETIRED else []
    return list(
        Equipment.objects.filter(site_id=plan.site_id, category_id=plan.category_id)
        .exclude(status=EquipmentStatus.RETIRED)
        .order_by("pk")
    )


def working_day_test(plan: MaintenancePlan) -> Callable[[date], bool]:
    """Whether a local date is a working day: the plan's business calendar, or Monday to Friday."""
    if plan.calendar_id is None:
        return lambda d: d.weekday() < 5
    from fixflow.sla.engine import calendar_from_snapshot, calendar_snapshot

    cal = calendar_from_snapshot(calendar_snapshot(plan.calendar))
    if cal.always_open:
        return lambda d: True
    return lambda d: d not in cal.holidays and bool(cal.week[d.weekday()])


def shifted(plan: MaintenancePlan, day: date, is_working: Callable[[date], bool] | None = None) -> date:
    if plan.day_shift == DayShift.NONE:
        return day
    return recurrence.shift_to_working_day(day, is_working or working_day_test(plan), plan.day_shift)


def local_today(plan: MaintenancePlan, now: datetime) -> date:
    return now.astimezone(ZoneInfo(plan.site.timezone)).date()


# ---------------------------------------------------------------------------------------------
# the generator


def generate(
    *,
    until: date | None = None,
    now: datetime | None = None,
    organization_id: int | None = None,
    plan_ids: list[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Stats:
    """Generate what is due for every active plan (or the given ones) up to ``until`` (default today).

    ``until`` is a local date: work orders are created for occurrences whose creation day (due date
    minus lead days) is on or before it; at most five years ahead (a validation error on ``until``),
    and for each plan never past its own horizon. Plans are read and written :data:`BATCH_PLANS` at a
    time; ``progress(done, total)`` is called after each batch.
    """
    now = now or clock.now()
    check_until(until, now.date(), MAX_UNTIL_DAYS, "five years ahead")
    plans = MaintenancePlan.objects.filter(is_active=True)
    if organization_id is not None:
        plans = plans.filter(organization_id=organization_id)
    if plan_ids is not None:
        plans = plans.filter(pk__in=plan_ids)
    # the latest local "until" of any site: no plan's own until is later
    bound = until or (now.astimezone(UTC) + timedelta(hours=14)).date()
    rows = _idle_plans(plans, bound)
    stats = Stats()
    related = _Related()
    for first in range(0, len(rows), BATCH_PLANS):
        chunk = rows[first : first + BATCH_PLANS]
        busy = {pk for pk, idle in chunk if not idle}
        stats.plans += len(chunk) - len(busy)
        stats.targets += len(chunk) - len(busy)  # an idle plan is on one equipment item
        if busy:
            batch = MaintenancePlan.objects.filter(_plans_q(list(busy), "pk"), is_active=True).order_by("pk")
            batch = related.attach([p for p in batch if p.pk in busy])
            stats.add(_generate_plans(batch, until=until, now=now))
        if progress is not None:
            progress(first + len(chunk), len(rows))
    recorded = stats.work_orders + stats.skipped + stats.missed
    if recorded >= ANALYZE_AFTER:
        _analyze()
    return stats


def _idle_plans(plans, until: date) -> list[tuple[int, bool]]:
    """(id, idle) of the plans in id order. Idle: on one equipment item, with nothing to do up to ``until``
    (any site's), known without looking at its dates:

    - a calendar plan already generated up to then (``generated_until``: set after a run in which every
      target succeeded; cleared when an edit may open gaps, ``services.plan_update``) — a later run with
      the same or an earlier date finds every date recorded;
    - floating work (days after completion, or a floating meter) with an open occurrence: one at a time;
    - a plan on days after completion whose next due date (its anchor before the first) is further than its
      lead days (and a working-day shift) ahead;
    - a fixed meter plan whose meter has not reached the target's next due value.

    Four plain queries (an ``EXISTS`` per plan makes PostgreSQL plan a costly query, JIT-compiled).
    """
    on_one = plans.filter(equipment__isnull=False)
    rows = plans.order_by("pk").values_list(
        "pk",
        "equipment_id",
        "rule",
        "mode",
        "interval_days",
        "meter_name",
        "meter_interval",
        "meter_mode",
        "generated_until",
        "anchor",
        "lead_days",
    )
    floating_next = dict(
        PlanTarget.objects.filter(plan__in=on_one.filter(mode=Mode.FLOATING), next_due_date__isnull=False)
        .values_list("plan_id", "next_due_date")
        .iterator(chunk_size=10_000)
    )
    open_ones = set(
        Occurrence.objects.filter(
            plan__in=on_one.exclude(mode=Mode.FIXED, meter_mode=Mode.FIXED),
            trigger__in=[TriggerKind.FLOATING, TriggerKind.METER],
            status=OccurrenceStatus.GENERATED,
            work_order__status__in=ACTIVE_STATUSES,
        ).values_list("plan_id", "equipment_id")
    )
    metered = on_one.filter(mode=Mode.FIXED, meter_mode=Mode.FIXED, meter_interval__isnull=False).exclude(meter_name="")
    next_values = {
        (plan_id, eq_id): value
        for plan_id, eq_id, value in PlanTarget.objects.filter(
            plan__in=metered, next_due_value__isnull=False
        ).values_list("plan_id", "equipment_id", "next_due_value")
    }
    lifetimes = {
        (eq_id, name): value
        for eq_id, name, value in Meter.objects.filter(
            equipment_id__in=metered.values("equipment_id"), is_active=True
        ).values_list("equipment_id", "name", "lifetime_value")
    }
    out = []
    for row in rows:
        pk, equipment_id, rule, mode, interval_days, meter_name, meter_interval, meter_mode, done_until = row[:9]
        anchor, lead_days = row[9:]
        idle = False
        if equipment_id is not None:
            has_meter = bool(meter_name) and meter_interval is not None
            if mode == Mode.FIXED and rule and not meter_name:
                idle = done_until is not None and done_until >= until
            elif (mode == Mode.FLOATING and interval_days) or (has_meter and meter_mode == Mode.FLOATING):
                idle = (pk, equipment_id) in open_ones
                if not idle and mode == Mode.FLOATING and not has_meter:
                    due = floating_next.get(pk, anchor)
                    idle = due - timedelta(days=lead_days + SHIFT_SLACK_DAYS) > until
            elif has_meter and not rule:
                due = next_values.get((pk, equipment_id))
                lifetime = lifetimes.get((equipment_id, meter_name))
                idle = due is not None and (lifetime is None or lifetime < due)
        out.append((pk, idle))
    return out


# Tables a generation writes; analysed after a run that recorded this many occurrences, so that the
# next queries are planned on their real size (the database's own statistics lag behind a bulk load).
ANALYZE_AFTER = 20_000
GENERATED_TABLES = (
    "maintenance.Occurrence",
    "maintenance.PlanTarget",
    "service.WorkOrder",
    "service.WorkOrderEvent",
    "service.ChecklistAnswer",
    "service.PlannedMaterial",
    "sla.WorkOrderSla",
    "sla.SlaClock",
)


def _analyze() -> None:
    analyze_tables(GENERATED_TABLES)


def analyze_tables(labels) -> None:
    """``ANALYZE`` the tables of these models (``app.Model`` labels) after a bulk load."""
    from django.apps import apps

    tables = [apps.get_model(label)._meta.db_table for label in labels]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
        elif connection.vendor == "sqlite":
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def check_until(until: date | None, today: date, days: int, what: str) -> None:
    """Refuse an ``until`` more than ``days`` after ``today`` (a validation error on ``until``)."""
    if until is not None and until > today + timedelta(days=days):
        last = (today + timedelta(days=days)).isoformat()
        raise validation(f"until is at most {what} ({last}).", field="until")


def generate_plan(plan: MaintenancePlan, *, until: date | None = None, now: datetime | None = None) -> Stats:
    """Generate one plan for each of its equipment items, up to ``until`` but never past its horizon."""
    return _generate_plans([plan], until=until, now=now or clock.now())


class _Related:
    """Sites, templates, calendars and equipment of the plans, read once per run and shared by them."""

    def __init__(self):
        self.cache: dict[type, dict[int, Any]] = defaultdict(dict)

    def _get(self, model, ids: set[int]) -> dict[int, Any]:
        known = self.cache[model]
        missing = {pk for pk in ids if pk is not None and pk not in known}
        if missing:
            known.update((o.pk, o) for o in model.objects.filter(pk__in=missing))
        return known

    def attach(self, plans: list[MaintenancePlan]) -> list[MaintenancePlan]:
        from fixflow.core.models import Organization
        from fixflow.customers.models import Site
        from fixflow.service.models import WorkOrderTemplate
        from fixflow.sla.models import BusinessCalendar

        organizations = self._get(Organization, {p.organization_id for p in plans})
        sites = self._get(Site, {p.site_id for p in plans})
        templates = self._get(WorkOrderTemplate, {p.template_id for p in plans})
        calendars = self._get(BusinessCalendar, {p.calendar_id for p in plans})
        equipment = self._get(Equipment, {p.equipment_id for p in plans})
        for p in plans:
            p.organization = organizations[p.organization_id]
            p.site, p.template = sites[p.site_id], templates[p.template_id]
            p.calendar = calendars.get(p.calendar_id)
            p.equipment = equipment.get(p.equipment_id)
        return plans


@dataclass
class _Pair:
    """One plan on one equipment item in a run: its local today and how far it generates."""

    plan: MaintenancePlan
    equipment: Equipment
    today: date
    until: date
    is_working: Callable[[date], bool]

    @property
    def key(self) -> tuple[int, int]:
        return (self.plan.pk, self.equipment.pk)


def _generate_plans(plans: list[MaintenancePlan], *, until: date | None, now: datetime) -> Stats:
    """Generate the plans (active ones, site and template loaded) on each of their equipment items."""
    stats = Stats(plans=len(plans))
    working: dict[int | None, Callable[[date], bool]] = {}
    category = _category_equipment([p for p in plans if not p.equipment_id])
    pairs: list[_Pair] = []
    untils: dict[date, list[int]] = defaultdict(list)
    for plan in plans:
        today = local_today(plan, now)
        plan_until = min(until or today, today + timedelta(days=plan.horizon_days))
        if plan.equipment_id:
            if plan.equipment.status == EquipmentStatus.RETIRED:
                continue  # nothing generated for it: not generated up to anything either
            if plan.has_calendar_trigger and plan.generated_until and plan.generated_until >= plan_until:
                stats.targets += 1  # every date up to then is recorded (see _idle)
                continue
            items = [plan.equipment]
        else:
            items = category.get((plan.site_id, plan.category_id), [])
        if plan.generated_until is None or plan.generated_until < plan_until:
            untils[plan_until].append(plan.pk)
        if plan.calendar_id not in working:
            working[plan.calendar_id] = working_day_test(plan)
        pairs.extend(_Pair(plan, eq, today, plan_until, working[plan.calendar_id]) for eq in items)
    result = _generate_pairs(pairs, now=now)
    stats.add(result)
    for plan_until, ids in untils.items():
        done = [pk for pk in ids if pk not in result.failed_plans]
        if done:
            MaintenancePlan.objects.filter(pk__in=done).filter(
                Q(generated_until__isnull=True) | Q(generated_until__lt=plan_until)
            ).update(generated_until=plan_until)
    return stats


def _category_equipment(plans: list[MaintenancePlan]) -> dict[tuple[int, int], list[Equipment]]:
    """The equipment items of the category plans, by (site, category): not retired, in id order."""
    out: dict[tuple[int, int], list[Equipment]] = defaultdict(list)
    if not plans:
        return out
    wanted = {(p.site_id, p.category_id) for p in plans}
    items = (
        Equipment.objects.filter(site_id__in={s for s, _c in wanted}, category_id__in={c for _s, c in wanted})
        .exclude(status=EquipmentStatus.RETIRED)
        .order_by("pk")
    )
    for eq in items:
        if (eq.site_id, eq.category_id) in wanted:
            out[(eq.site_id, eq.category_id)].append(eq)
    return out


def _generate_pairs(pairs: list[_Pair], *, now: datetime) -> Stats:
    """Generate for the (plan, equipment) pairs: read without locks what each would do; then, for those
    with something to do, lock their targets, read again, decide and write — in bulk where the work
    orders are plain (``batch``), one by one through ``work_order_create`` otherwise. Should the bulk
    write fail, each target is generated on its own, so that one broken plan does not stop the others
    and its error is reported."""
    token = _generating.set(True)
    try:
        stats = Stats(targets=len(pairs))
        work = _dry_run(pairs)
        if not work:
            return stats
        try:
            with transaction.atomic():
                stats.add(_generate_locked(work, now=now))
        except Exception:
            log.exception("Generating %s targets in one batch failed; generating them one by one", len(work))
            for pair in work:
                stats.add(_generate_one(pair, now=now))
        return stats
    finally:
        _generating.reset(token)


def _dry_run(pairs: list[_Pair]) -> list[_Pair]:
    """The pairs with something to do: an occurrence to record, or a counter that moves. A target not made
    yet counts from fresh counters: a calendar plan whose first date is not due yet needs no row."""
    if not pairs:
        return []
    wanted = {p.key for p in pairs}
    rows = PlanTarget.objects.filter(_plans_q([p.plan.pk for p in pairs])).values_list(
        "plan_id", "equipment_id", "next_due_date", "next_due_value", "count"
    )
    targets = {(r[0], r[1]): _Counters(*r[2:]) for r in rows if (r[0], r[1]) in wanted}
    states = _load_states(pairs, targets)
    work = []
    for pair in pairs:
        target = targets.get(pair.key) or _Counters(None, None, 0)
        probe = copy.copy(target)
        if _decide(pair, probe, states[pair.key]) or _counters(probe) != _counters(target):
            work.append(pair)
    return work


@dataclass(slots=True)
class _Counters:
    """A target's counters as the dry run reads them (``_decide`` moves them as it would a ``PlanTarget``'s)."""

    next_due_date: date | None
    next_due_value: Decimal | None
    count: int


def _plans_q(plan_ids: list[int], field_name: str = "plan_id") -> Q:
    """``plan_id IN (…)``, or a range when the ids are dense (short SQL, one index range)."""
    ids = sorted(set(plan_ids))
    if len(ids) > 50 and ids[-1] - ids[0] < 2 * len(ids):
        return Q(**{f"{field_name}__gte": ids[0], f"{field_name}__lte": ids[-1]})
    return Q(**{f"{field_name}__in": ids})


def _counters(target: PlanTarget) -> tuple:
    return (target.next_due_date, target.next_due_value, target.count)


def _generate_locked(work: list[_Pair], *, now: datetime) -> Stats:
    """Inside the caller's transaction: lock the targets, decide from their state read again, write."""
    stats = Stats()
    _lock_replaceable(work)
    targets = _targets(work, lock=True, create=True)
    states = _load_states(work, targets)
    before = {key: _counters(t) for key, t in targets.items()}
    technicians = _active_technicians(work)
    batched: list[tuple[_Pair, list[_Decision]]] = []
    slow: list[tuple[_Pair, list[_Decision]]] = []
    for pair in work:
        decisions = _decide(pair, targets[pair.key], states[pair.key])
        (batched if _batchable(pair, decisions, technicians, now) else slow).append((pair, decisions))
    for pair, decisions in slow:
        target = targets[pair.key]
        try:
            with transaction.atomic():
                stats.add(_write_slow(pair, target, decisions, now=now))
                target.save()
        except Exception as exc:  # one broken plan must not stop the others; the error is reported
            stats.failed(pair.plan, pair.equipment, exc)
        before.pop(pair.key, None)
    stats.add(_write_batch(batched, now=now))
    _save_counters([t for key, t in targets.items() if key in before and _counters(t) != before[key]])
    return stats


def _save_counters(targets: list[PlanTarget]) -> None:
    """Write the moved counters of many targets (one statement, run for each row)."""
    if not targets:
        return
    fields = [PlanTarget._meta.get_field(name) for name in ("next_due_date", "next_due_value", "count")]
    names = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    table = connection.ops.quote_name(PlanTarget._meta.db_table)
    rows = [[*(f.get_db_prep_save(getattr(t, f.attname), connection) for f in fields), t.pk] for t in targets]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {names} WHERE id = %s", rows)  # noqa: S608 - names from the model


def _generate_one(pair: _Pair, *, now: datetime) -> Stats:
    """One target in its own transaction, its work orders through ``work_order_create``."""
    try:
        with transaction.atomic():
            _lock_replaceable([pair])
            targets = _targets([pair], lock=True, create=True)
            target = targets[pair.key]
            decisions = _decide(pair, target, _load_states([pair], targets)[pair.key])
            stats = _write_slow(pair, target, decisions, now=now)
            target.save()
            return stats
    except Exception as exc:  # one broken plan must not stop the others; the error is reported
        return Stats().failed(pair.plan, pair.equipment, exc)


def _lock_replaceable(pairs: list[_Pair]) -> None:
    """Lock the open work orders that plans with the open policy "replace" may cancel, before their targets.

    Completing a generated work order locks the work order, then its target (``on_completion``); the
    generator cancelling that work order would otherwise hold the target and wait for the work order.
    Taken in the same order, the two wait for each other instead of deadlocking. (The plan's open work on
    its other equipment is locked too: a few rows more, not a wrong answer.)"""
    replacing = [p for p in pairs if p.plan.open_policy == OpenPolicy.REPLACE]
    if not replacing:
        return
    open_work = Occurrence.objects.filter(
        plan_id__in={p.plan.pk for p in replacing},
        equipment_id__in={p.equipment.pk for p in replacing},
        work_order__status__in=ACTIVE_STATUSES,
    ).values("work_order_id")
    list(WorkOrder.objects.select_for_update().filter(pk__in=open_work).order_by("pk").values_list("pk", flat=True))


def _targets(pairs: list[_Pair], *, lock: bool = False, create: bool = False) -> dict[tuple[int, int], PlanTarget]:
    """The ``PlanTarget`` rows of the pairs; ``create`` makes the missing ones; ``lock`` takes their row
    locks (``SELECT … FOR UPDATE`` in id order: two generators take turns, the second finds the work done)."""
    wanted = {p.key for p in pairs}

    def read():
        qs = PlanTarget.objects.filter(
            _plans_q([k[0] for k in wanted]), equipment_id__in={k[1] for k in wanted}
        ).order_by("pk")
        if lock:
            qs = qs.select_for_update()
        return {(t.plan_id, t.equipment_id): t for t in qs if (t.plan_id, t.equipment_id) in wanted}

    found = read()
    missing = [p for p in pairs if p.key not in found]
    if create and missing:
        PlanTarget.objects.bulk_create(
            [PlanTarget(organization_id=p.plan.organization_id, plan=p.plan, equipment=p.equipment) for p in missing],
            ignore_conflicts=True,
            batch_size=2000,
        )
        found = read()
    return found


# ---------------------------------------------------------------------------------------------
# what a target holds: read in bulk for many targets


@dataclass(frozen=True)
class _Open:
    """A generated occurrence whose work order is still active."""

    occurrence_id: int
    due_date: date
    work_order_id: int
    number: str
    trigger: str = ""


@dataclass
class _State:
    """What deciding a target's next occurrences needs, besides the plan and the target's counters."""

    last_calendar_key: str | None = None  # the latest calendar key due before today
    keys: set[str] = field(default_factory=set)  # recorded keys a candidate could take again
    # _Open: all (one-at-a-time plans), else the meter ones and those due before today
    open: list = field(default_factory=list)
    meter: Meter | None = None


LAST_KEY_LOOKBACK_DAYS = 400  # the last calendar key before today is looked for this far back first
MISSED_LOOKBACK_DAYS = 732  # past dates older than this are not recorded as missed (the catch-up still is made)


def _load_calendar_keys(pairs: list[_Pair], states: dict, base) -> None:
    """The last calendar key due before today of each pair, and the keys after it that a candidate could
    take: those up to the end of its window (a key after the last one due before today is due today or
    later, see ``_calendar_candidates``; one after the window cannot be a candidate's)."""
    calendar = base.filter(trigger=TriggerKind.CALENDAR)

    def last_keys(pairs: list[_Pair], lookback: int | None) -> None:
        by_today: dict[date, set[int]] = defaultdict(set)
        for p in pairs:
            by_today[p.today].add(p.plan.pk)
        due_before = Q(pk__in=[])
        for today, ids in by_today.items():
            since = Q(due_date__gte=today - timedelta(days=lookback)) if lookback else Q()
            due_before |= Q(plan_id__in=ids, due_date__lt=today) & since
        rows = (
            calendar.filter(due_before)
            .values("plan_id", "equipment_id")
            .annotate(last=Max("key"))
            .values_list("plan_id", "equipment_id", "last")
        )
        for plan_id, eq_id, last in rows:
            if (plan_id, eq_id) in states:
                states[(plan_id, eq_id)].last_calendar_key = last

    # most targets had one within the last year; the others (yearly plans, a long pause, none yet) are
    # looked up without a bound
    last_keys(pairs, LAST_KEY_LOOKBACK_DAYS)
    rest = [p for p in pairs if states[p.key].last_calendar_key is None]
    if rest:
        last_keys(rest, None)
    window_end = max(p.until + timedelta(days=p.plan.lead_days + SHIFT_SLACK_DAYS) for p in pairs)
    rows = calendar.filter(
        _plans_q([p.plan.pk for p in pairs]),
        due_date__gte=min(p.today for p in pairs),
        key__lte=window_end.isoformat(),
    ).values_list("plan_id", "equipment_id", "key")
    for plan_id, eq_id, key in rows:
        state = states.get((plan_id, eq_id))
        if state is not None and (state.last_calendar_key is None or key > state.last_calendar_key):
            state.keys.add(key)


def _one_at_a_time(plan: MaintenancePlan) -> bool:
    """Floating work: one open occurrence at a time, the next counts from its completion (rule 3)."""
    return plan.has_floating_trigger or (plan.has_meter_trigger and plan.meter_mode == Mode.FLOATING)


def _load_states(pairs: list[_Pair], targets: dict) -> dict[tuple[int, int], _State]:
    """The state of each pair in a fixed number of queries, whatever the number of pairs."""
    states = {p.key: _State() for p in pairs}
    plans = {p.plan.pk: p.plan for p in pairs}
    today_of = {p.plan.pk: p.today for p in pairs}
    base = Occurrence.objects.filter(_plans_q(list(plans)))

    calendar = [p for p in pairs if p.plan.has_calendar_trigger]
    if calendar:
        _load_calendar_keys(calendar, states, base)
    floating = [p for p in pairs if p.plan.has_floating_trigger]
    if floating:
        lowest = min(
            (targets[p.key].next_due_date if p.key in targets and targets[p.key].next_due_date else p.plan.anchor)
            for p in floating
        )
        rows = (
            base.filter(_plans_q([p.plan.pk for p in floating]), key__gte=lowest.isoformat())
            .exclude(trigger=TriggerKind.METER)
            .values_list("plan_id", "equipment_id", "key")
        )
        for plan_id, eq_id, key in rows:
            if (plan_id, eq_id) in states:
                states[(plan_id, eq_id)].keys.add(key)

    metered = [p for p in pairs if p.plan.has_meter_trigger]
    if metered:
        rows = base.filter(_plans_q([p.plan.pk for p in metered]), trigger=TriggerKind.METER).values_list(
            "plan_id", "equipment_id", "key"
        )
        for plan_id, eq_id, key in rows:
            if (plan_id, eq_id) in states:
                states[(plan_id, eq_id)].keys.add(key)
        meters = Meter.objects.filter(
            equipment_id__in={p.equipment.pk for p in metered},
            name__in={p.plan.meter_name for p in metered},
            is_active=True,
        )
        by_name = {(m.equipment_id, m.name): m for m in meters}
        for p in metered:
            states[p.key].meter = by_name.get((p.equipment.pk, p.plan.meter_name))

    single = {pk for pk, plan in plans.items() if _one_at_a_time(plan)}
    rows = (
        base.filter(
            Q(plan_id__in=single) | Q(due_date__lt=max(today_of.values())) | Q(trigger=TriggerKind.METER),
            status=OccurrenceStatus.GENERATED,
            work_order__status__in=ACTIVE_STATUSES,
        )
        .order_by("due_date", "id")
        .values_list("id", "plan_id", "equipment_id", "due_date", "work_order_id", "work_order__number", "trigger")
    )
    for occ_id, plan_id, eq_id, due_date, wo_id, number, trigger in rows:
        state = states.get((plan_id, eq_id))
        if state is not None and (plan_id in single or due_date < today_of[plan_id] or trigger == TriggerKind.METER):
            state.open.append(_Open(occ_id, due_date, wo_id, number, trigger))
    return states


# ---------------------------------------------------------------------------------------------
# deciding: the candidates of a target and what becomes of each


@dataclass(frozen=True)
class Candidate:
    key: str
    trigger: str
    nominal: date  # the date the rule gives (the key), before the working-day shift
    due_date: date
    due_value: Decimal | None = None


@dataclass(eq=False)
class _Decision:
    """One occurrence to record: missed, skipped (``blocking``: the open ones), or generated (``replace``:
    the open ones its work order replaces). ``work_order`` is set once made."""

    candidate: Candidate
    status: str
    is_catch_up: bool = False
    blocking: list = field(default_factory=list)  # _Open or _Decision
    replace: list = field(default_factory=list)  # _Open or _Decision
    work_order: Any = None

    @property
    def due_date(self) -> date:
        return self.candidate.due_date


def _decide(pair: _Pair, target: PlanTarget, state: _State) -> list[_Decision]:
    """The occurrences to record for a target now, in due order; moves its counters (``target``) and
    marks the keys taken (``state``). Rules 6–8: a recorded key is never made again; a previous one still
    open (due before today) makes the next one skipped, stacked or replacing it; missed ones are recorded."""
    plan = pair.plan
    # a calendar occurrence blocks once its date has passed (lead time: the next one may be generated
    # before it is due); a meter one from the start: its threshold was crossed, it is due already
    open_before = [o for o in state.open if o.due_date < pair.today or o.trigger == TriggerKind.METER]
    decisions = []
    candidates = _candidates(
        plan, pair.equipment, target, state, until=pair.until, today=pair.today, is_working=pair.is_working
    )
    for candidate, catch_up, missed in candidates:
        if plan.max_count is not None and target.count >= plan.max_count:
            break
        if candidate.key in state.keys:
            continue  # recorded already (rule 6)
        state.keys.add(candidate.key)
        target.count += 1
        if missed:
            decisions.append(_Decision(candidate, OccurrenceStatus.MISSED))
            continue
        decision = _Decision(candidate, OccurrenceStatus.GENERATED, is_catch_up=catch_up)
        if open_before and plan.open_policy == OpenPolicy.SKIP:
            decision.status, decision.blocking = OccurrenceStatus.SKIPPED, list(open_before)
        elif open_before and plan.open_policy == OpenPolicy.REPLACE:
            decision.replace, open_before = open_before, []
        if decision.status == OccurrenceStatus.GENERATED and (
            candidate.due_date < pair.today or candidate.trigger == TriggerKind.METER
        ):
            open_before.append(decision)  # open, and due (before today): the next ones see it
        decisions.append(decision)
    return decisions


def free_floating_day(plan: MaintenancePlan, equipment: Equipment, day: date) -> date:
    """The first local date on or after ``day`` that is not yet the key of an occurrence of the target.

    Rule 3 puts the next floating date at the completion + the interval; rule 6 keys an occurrence by its
    local date, once. Completed (or cancelled) exactly the interval before it was due, the next date is
    the finished one's own key: it moves on to the next free day instead of colliding with it forever.
    """
    taken = set(
        Occurrence.objects.filter(plan=plan, equipment=equipment, key__gte=day.isoformat())
        .exclude(trigger=TriggerKind.METER)
        .values_list("key", flat=True)
    )
    return _free_day(taken, day)


def _free_day(taken: set[str], day: date) -> date:
    while day.isoformat() in taken:
        day += timedelta(days=1)
    return day


def _ended(plan: MaintenancePlan, target: PlanTarget, today: date) -> bool:
    """The plan has ended for this target: past its end date, or its count of occurrences reached."""
    if plan.max_count is not None and target.count >= plan.max_count:
        return True
    return plan.end_date is not None and today > plan.end_date


def _candidates(plan, equipment, target: PlanTarget, state: _State, *, until, today, is_working):
    """Yield (candidate, is_catch_up, is_missed) in due order for what may be created now."""
    if plan.max_count is not None and target.count >= plan.max_count:
        return
    horizon_end = until + timedelta(days=plan.lead_days)
    if plan.has_calendar_trigger:
        yield from _calendar_candidates(plan, state, horizon_end=horizon_end, today=today, is_working=is_working)
    floating = plan.has_floating_trigger
    if _one_at_a_time(plan) and state.open:
        return  # floating work: one open occurrence at a time, the next counts from its completion
    fired = False
    if floating:
        due = _free_day(state.keys, target.next_due_date or plan.anchor)
        if target.next_due_date is not None and due != target.next_due_date:
            target.next_due_date = due  # left on a finished occurrence's key (see free_floating_day)
        if plan.end_date is None or due <= plan.end_date:
            shifted_due = shifted(plan, due, is_working)
            if shifted_due - timedelta(days=plan.lead_days) <= until:
                fired = True
                yield Candidate(due.isoformat(), TriggerKind.FLOATING, due, shifted_due), shifted_due < today, False
    if plan.has_meter_trigger and not (fired and floating) and not _ended(plan, target, today):
        candidate = _meter_candidate(plan, target, state.meter, today=today)
        if candidate is not None:
            yield candidate, False, False


def _calendar_candidates(plan, state: _State, *, horizon_end, today, is_working):
    """Calendar occurrences not yet generated, up to the horizon; past ones give one catch-up at most.

    Looks from the last occurrence already due before today: later ones may have been withdrawn by an
    edit (rule 10) while a started one after them stays, so the gaps are filled and existing keys skipped.
    """
    last = state.last_calendar_key
    start = date.fromisoformat(last) + timedelta(days=1) if last else plan.anchor
    existing = state.keys
    created = plan.created_at.astimezone(ZoneInfo(plan.site.timezone)).date() if plan.created_at else plan.anchor
    # Past dates give missed records (from the plan's creation, at most MISSED_LOOKBACK_DAYS back) and one
    # catch-up, the latest: the walk starts at the earlier of the two, not at a long-ago anchor (a daily
    # plan anchored years back would list MAX_OCCURRENCES old dates and never reach the latest one).
    shift_back = timedelta(days=SHIFT_SLACK_DAYS if plan.day_shift != DayShift.NONE else 0)
    floor = min(max(created, today - timedelta(days=MISSED_LOOKBACK_DAYS)), today - shift_back)
    if start < floor:
        latest = recurrence.last_before(plan.rule, plan.anchor, today - shift_back, end_date=plan.end_date)
        start = max(start, floor if latest is None else min(floor, latest))
    # With the shift to the previous working day, a date a little after the window may be due inside it.
    slack = timedelta(days=SHIFT_SLACK_DAYS if plan.day_shift == DayShift.PREVIOUS else 0)
    dates = recurrence.occurrences(plan.rule, plan.anchor, start=start, end=horizon_end + slack, end_date=plan.end_date)
    dues = {}
    for d in dates:
        if d.isoformat() in existing:
            continue
        due = shifted(plan, d, is_working)
        if d <= horizon_end or due <= horizon_end:
            dues[d] = due
    past = [d for d, due in dues.items() if due < today]
    for day in past[:-1]:  # missed (worker down or plan started in the past): recorded, never backfilled
        if day >= created:
            yield Candidate(day.isoformat(), TriggerKind.CALENDAR, day, dues[day]), False, True
    if past:
        day = past[-1]
        yield Candidate(day.isoformat(), TriggerKind.CALENDAR, day, dues[day]), True, False
    for day, due in dues.items():
        if today <= due <= horizon_end:
            yield Candidate(day.isoformat(), TriggerKind.CALENDAR, day, due), False, False


def meter_of(equipment: Equipment, name: str) -> Meter | None:
    return Meter.objects.filter(equipment=equipment, name=name, is_active=True).first()


def _meter_candidate(plan, target: PlanTarget, meter: Meter | None, *, today) -> Candidate | None:
    if meter is None or meter.lifetime_value is None:
        return None
    if target.next_due_value is None:
        target.next_due_value = (
            plan.meter_start if plan.meter_start is not None else meter.lifetime_value + plan.meter_interval
        )
    due_value = target.next_due_value
    if meter.lifetime_value < due_value:
        return None
    if plan.meter_mode == Mode.FIXED:
        # a jump over several intervals gives one work order; the next due value is the first still ahead
        target.next_due_value = recurrence.next_meter_threshold(due_value, plan.meter_interval, meter.lifetime_value)
    day = meter.last_read_at.astimezone(ZoneInfo(plan.site.timezone)).date() if meter.last_read_at else today
    return Candidate(f"m:{due_value.normalize():f}", TriggerKind.METER, day, max(day, today), due_value)


# ---------------------------------------------------------------------------------------------
# writing: one by one through work_order_create, or in bulk


def _occurrence(pair: _Pair, decision: _Decision) -> Occurrence:
    plan, candidate = pair.plan, decision.candidate
    missed = decision.status == OccurrenceStatus.MISSED
    return Occurrence(
        organization_id=plan.organization_id,
        plan=plan,
        equipment=pair.equipment,
        key=candidate.key,
        trigger=candidate.trigger,
        due_date=candidate.due_date,
        due_at=recurrence.due_instant(candidate.due_date, plan.due_time, plan.site.timezone),
        due_value=candidate.due_value,
        status=decision.status,
        reason=MISSED_REASON if missed else "",
        is_catch_up=decision.is_catch_up,
    )


def _number_of(entry) -> str:
    return entry.number if isinstance(entry, _Open) else entry.work_order.number


def _skip_reason(decision: _Decision) -> str:
    return f"Skipped: {', '.join(_number_of(o) for o in decision.blocking)} is still open."


def _title(plan: MaintenancePlan, decision: _Decision) -> str:
    return (plan.name if not decision.is_catch_up else f"{plan.name} (overdue)")[:200]


def _write_slow(pair: _Pair, target: PlanTarget, decisions: list[_Decision], *, now: datetime) -> Stats:
    """Record the decisions one by one; work orders through ``work_order_create``, replaced ones cancelled
    through ``work_order_transition``. An occurrence recorded meanwhile (its unique key) is left as it is."""
    from fixflow.service import services as wo_services

    stats = Stats()
    plan = pair.plan
    actor = system_actor(plan.organization)
    for decision in decisions:
        occurrence = _occurrence(pair, decision)
        if decision.status == OccurrenceStatus.SKIPPED:
            occurrence.reason = _skip_reason(decision)
        try:
            with transaction.atomic():
                occurrence.save()
        except IntegrityError:
            target.count -= 1
            continue
        if decision.status == OccurrenceStatus.MISSED:
            stats.missed += 1
            continue
        if decision.status == OccurrenceStatus.SKIPPED:
            stats.skipped += 1
            continue
        for old in decision.replace:
            wo_services.work_order_transition(
                actor=actor,
                work_order_id=old.work_order_id if isinstance(old, _Open) else old.work_order.pk,
                to=Status.CANCELLED,
                reason=f"Replaced by the occurrence due {decision.due_date.isoformat()} of {plan.name}.",
            )
        if decision.replace:
            stats.replaced += 1
        candidate = decision.candidate
        wo = wo_services.work_order_create(
            actor=actor,
            title=_title(plan, decision),
            site_id=plan.site_id,
            equipment_id=pair.equipment.pk,
            template_id=plan.template_id,
            type=WorkOrderType.PREVENTIVE,
            lead_technician_id=plan.lead_technician_id,
            scheduled_start=occurrence.due_at,
            description=_description(plan, candidate, decision.is_catch_up),
            sla_start=max(occurrence.due_at, now),
        )
        decision.work_order = wo
        occurrence.work_order = wo
        occurrence.save(update_fields=["work_order"])
        stats.work_orders += 1
    return stats


def _active_technicians(pairs: list[_Pair]) -> set[tuple[int, int]]:
    """(organization, user) of the plans' technicians who may lead work (``work_order_create``'s check)."""
    from fixflow.core.models import Membership

    wanted = {p.plan.lead_technician_id for p in pairs if p.plan.lead_technician_id}
    if not wanted:
        return set()
    return set(
        Membership.objects.filter(
            organization_id__in={p.plan.organization_id for p in pairs},
            user_id__in=wanted,
            is_active=True,
            role__in=[Role.TECHNICIAN, Role.DISPATCHER, Role.ADMIN],
        ).values_list("organization_id", "user_id")
    )


def _batchable(pair: _Pair, decisions: list[_Decision], technicians: set, now: datetime) -> bool:
    """Whether the work orders of these decisions pass every check of ``work_order_create`` (then they are
    made in bulk); replacing open work goes one by one (it cancels through the work order lifecycle)."""
    plan, eq = pair.plan, pair.equipment
    if any(d.replace for d in decisions):
        return False
    if not any(d.status == OccurrenceStatus.GENERATED for d in decisions):
        return True
    if not plan.template.is_active or plan.template.organization_id != plan.organization_id:
        return False
    if eq.site_id != plan.site_id or eq.organization_id != plan.organization_id:
        return False
    if plan.lead_technician_id and (plan.organization_id, plan.lead_technician_id) not in technicians:
        return False
    for d in decisions:
        if d.status == OccurrenceStatus.GENERATED:
            if not _title(plan, d).strip() or len(_description(plan, d.candidate, d.is_catch_up).strip()) > 20000:
                return False
    return True


def _write_batch(entries: list[tuple[_Pair, list[_Decision]]], *, now: datetime) -> Stats:
    """Record the decisions of many targets in bulk: their work orders through ``batch.create_work_orders``
    (per organization, in due order per target), then the occurrences. The caller holds the targets' locks,
    so the keys are free; should one be taken all the same, the unique constraint refuses the whole batch."""
    from . import batch

    stats = Stats()
    rows: list[tuple[_Pair, _Decision, datetime]] = []
    by_org: dict[int, list[tuple[_Decision, batch.NewWorkOrder]]] = defaultdict(list)
    organizations = {}
    instants: dict[tuple, datetime] = {}
    for pair, decisions in entries:
        plan = pair.plan
        for decision in decisions:
            when = (decision.due_date, plan.due_time, plan.site.timezone)
            due_at = instants.get(when)
            if due_at is None:
                due_at = instants[when] = recurrence.due_instant(*when)
            rows.append((pair, decision, due_at))
            if decision.status == OccurrenceStatus.GENERATED:
                organizations[plan.organization_id] = plan.organization
                by_org[plan.organization_id].append(
                    (
                        decision,
                        batch.NewWorkOrder(
                            plan=plan,
                            equipment=pair.equipment,
                            title=_title(plan, decision),
                            description=_description(plan, decision.candidate, decision.is_catch_up),
                            scheduled_start=due_at,
                            sla_start=max(due_at, now),
                        ),
                    )
                )
    for org_id, items in by_org.items():
        orders = batch.create_work_orders(system_actor(organizations[org_id]), [item for _d, item in items])
        for (decision, _item), wo in zip(items, orders, strict=True):
            decision.work_order = wo
    table = batch.Table(Occurrence, OCCURRENCE_COLUMNS)
    for pair, decision, due_at in rows:
        candidate, reason, wo_id = decision.candidate, "", None
        if decision.status == OccurrenceStatus.SKIPPED:
            reason = _skip_reason(decision)
            stats.skipped += 1
        elif decision.status == OccurrenceStatus.MISSED:
            reason = MISSED_REASON
            stats.missed += 1
        else:
            wo_id = decision.work_order.pk
            stats.work_orders += 1
        table.add(
            pair.plan.organization_id,
            pair.plan.pk,
            pair.equipment.pk,
            candidate.key,
            candidate.trigger,
            candidate.due_date,
            due_at,
            candidate.due_value,
            decision.status,
            reason,
            decision.is_catch_up,
            wo_id,
        )
    table.write()
    return stats


OCCURRENCE_COLUMNS = [
    "organization_id",
    "plan_id",
    "equipment_id",
    "key",
    "trigger",
    "due_date",
    "due_at",
    "due_value",
    "status",
    "reason",
    "is_catch_up",
    "work_order_id",
]


def _description(plan, candidate: Candidate, catch_up: bool) -> str:
    lines = [plan.template.description] if plan.template.description else []
    if candidate.trigger == TriggerKind.METER:
        lines.append(f"Preventive maintenance due at {candidate.due_value.normalize():f} ({plan.meter_name}).")
    else:
        lines.append(f"Preventive maintenance due {candidate.due_date.isoformat()}.")
    if catch_up:
        lines.append(
            "Catch-up: this occurrence was due before the plan was generated; earlier ones are not re-created."
        )
    return "\n\n".join(lines)


# ---------------------------------------------------------------------------------------------
# the work order side: completion restarts floating and meter counters (same transaction)


def on_work_order_status(wo, *, target: str, when: datetime) -> None:
    """Called by ``work_order_transition``: a generated work order was completed or cancelled."""
    if target not in (Status.COMPLETED, Status.CANCELLED):
        return
    occurrence = Occurrence.objects.filter(work_order=wo).select_related("plan", "plan__site", "equipment").first()
    if occurrence is None:
        return
    plan = occurrence.plan
    state = _locked_target(plan, occurrence.equipment)
    local = when.astimezone(ZoneInfo(plan.site.timezone)).date()
    if plan.has_floating_trigger:
        state.next_due_date = free_floating_day(plan, occurrence.equipment, local + timedelta(days=plan.interval_days))
    if plan.has_meter_trigger and (plan.meter_mode == Mode.FLOATING or plan.has_floating_trigger):
        meter = meter_of(occurrence.equipment, plan.meter_name)
        if meter is not None and meter.lifetime_value is not None:
            state.next_due_value = meter.lifetime_value + plan.meter_interval
    if target == Status.COMPLETED:
        state.last_completed_at = when
        meter = meter_of(occurrence.equipment, plan.meter_name) if plan.meter_name else None
        state.last_completed_value = meter.lifetime_value if meter else None
    state.save()
    if plan.is_active and not _generating.get() and occurrence.equipment.status != EquipmentStatus.RETIRED:
        _generate_quietly(plan, occurrence.equipment)


def _locked_target(plan: MaintenancePlan, equipment: Equipment) -> PlanTarget:
    target = PlanTarget.objects.select_for_update().filter(plan=plan, equipment=equipment).first()
    if target is None:
        try:
            with transaction.atomic():
                PlanTarget.objects.create(organization_id=plan.organization_id, plan=plan, equipment=equipment)
        except IntegrityError:
            pass
        target = PlanTarget.objects.select_for_update().get(plan=plan, equipment=equipment)
    return target


def _generate_quietly(plan: MaintenancePlan, equipment: Equipment) -> Stats:
    """Generate for one target right after a completion or a reading, in a savepoint: a plan that cannot
    generate (its template was retired, its technician left) must not refuse the completion or the
    reading that triggered it. The periodic run reports the error again."""
    now = clock.now()
    today = local_today(plan, now)
    try:
        with transaction.atomic():
            return _generate_pairs([_Pair(plan, equipment, today, today, working_day_test(plan))], now=now)
    except Exception as exc:
        return Stats().failed(plan, equipment, exc)


def on_meter_reading(meter: Meter) -> Stats:
    """A new reading may cross a meter plan's threshold: generate for that equipment's meter plans now."""
    stats = Stats()
    plans = MaintenancePlan.objects.filter(
        organization_id=meter.organization_id, is_active=True, meter_name=meter.name
    ).select_related("site", "equipment", "template", "calendar")
    eq = meter.equipment
    if eq.status == EquipmentStatus.RETIRED:
        return stats
    for plan in plans.filter(equipment=eq) | plans.filter(
        equipment=None, site_id=eq.site_id, category_id=eq.category_id
    ):
        stats.add(_generate_quietly(plan, eq))
    return stats
