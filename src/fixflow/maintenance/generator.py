"""The preventive maintenance generator: occurrences and their work orders (DOMAIN.md §3).

Runs as a periodic job of ``fixflow worker``, from ``fixflow manage generate_pm --until DATE``, on
demand for one plan, on a meter reading, and on the completion of a generated work order.

Safety: each (plan, equipment) is processed in its own transaction with its ``PlanTarget`` row locked
(two generators at once take turns per target and the second finds the work done); each occurrence
has a unique key (plan, equipment, local due date or due meter value), so nothing is created twice
even without the lock. Everything is computed from the plan's anchor and the stored counters, never
by chaining generated dates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from fixflow.assets.choices import EquipmentStatus
from fixflow.assets.models import Equipment, Meter
from fixflow.core import clock
from fixflow.core.choices import Role
from fixflow.core.permissions import Actor
from fixflow.service.choices import ACTIVE_STATUSES, Status, WorkOrderType

from . import recurrence
from .choices import DayShift, Mode, OccurrenceStatus, OpenPolicy, TriggerKind
from .models import MaintenancePlan, Occurrence, PlanTarget

log = logging.getLogger(__name__)

SYSTEM_EMAIL = "system@fixflow.invalid"
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

    def add(self, other: Stats) -> None:
        for name in ("plans", "targets", "work_orders", "skipped", "missed", "replaced"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

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
    minus lead days) is on or before it.
    """
    now = now or clock.now()
    plans = MaintenancePlan.objects.filter(is_active=True).select_related("site", "equipment", "template", "calendar")
    if organization_id is not None:
        plans = plans.filter(organization_id=organization_id)
    if plan_ids is not None:
        plans = plans.filter(pk__in=plan_ids)
    ids = list(plans.order_by("pk").values_list("pk", flat=True))
    stats = Stats()
    for index, pk in enumerate(ids, start=1):
        plan = plans.get(pk=pk)
        stats.add(generate_plan(plan, until=until, now=now))
        if progress is not None:
            progress(index, len(ids))
    return stats


def generate_plan(plan: MaintenancePlan, *, until: date | None = None, now: datetime | None = None) -> Stats:
    now = now or clock.now()
    stats = Stats(plans=1)
    today = local_today(plan, now)
    until = until or today
    is_working = working_day_test(plan)
    for equipment in plan_equipment(plan):
        try:
            with transaction.atomic():
                stats.add(_generate_target(plan, equipment, until=until, today=today, now=now, is_working=is_working))
        except Exception as exc:  # one broken plan must not stop the others; the error is reported
            log.exception("Generating plan %s for equipment %s failed", plan.pk, equipment.pk)
            stats.errors.append(f"{plan.name} / {equipment.name}: {exc}")
    if not plan.generated_until or plan.generated_until < until:
        MaintenancePlan.objects.filter(pk=plan.pk).update(generated_until=until)
    return stats


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


@dataclass(frozen=True)
class Candidate:
    key: str
    trigger: str
    nominal: date  # the date the rule gives (the key), before the working-day shift
    due_date: date
    due_value: Decimal | None = None


def _generate_target(
    plan: MaintenancePlan,
    equipment: Equipment,
    *,
    until: date,
    today: date,
    now: datetime,
    is_working: Callable[[date], bool],
) -> Stats:
    token = _generating.set(True)
    try:
        return _generate_locked(plan, equipment, until=until, today=today, now=now, is_working=is_working)
    finally:
        _generating.reset(token)


def _generate_locked(plan, equipment, *, until, today, now, is_working) -> Stats:
    stats = Stats(targets=1)
    target = _locked_target(plan, equipment)
    for candidate, catch_up, missed in _candidates(
        plan, equipment, target, until=until, today=today, now=now, is_working=is_working
    ):
        if plan.max_count is not None and target.count >= plan.max_count:
            break
        outcome = _occur(plan, equipment, target, candidate, catch_up=catch_up, missed=missed, now=now)
        if outcome is None:
            continue  # already there
        target.count += 1
        if outcome == OccurrenceStatus.GENERATED:
            stats.work_orders += 1
        elif outcome == OccurrenceStatus.SKIPPED:
            stats.skipped += 1
        elif outcome == OccurrenceStatus.MISSED:
            stats.missed += 1
        elif outcome == "replaced":
            stats.work_orders += 1
            stats.replaced += 1
    target.save()
    return stats


def _open_occurrences(plan: MaintenancePlan, equipment: Equipment) -> list[Occurrence]:
    return list(
        Occurrence.objects.filter(
            plan=plan, equipment=equipment, status=OccurrenceStatus.GENERATED, work_order__status__in=ACTIVE_STATUSES
        ).select_related("work_order")
    )


def _candidates(plan, equipment, target: PlanTarget, *, until, today, now, is_working):
    """Yield (candidate, is_catch_up, is_missed) in due order for what may be created now."""
    horizon_end = until + timedelta(days=plan.lead_days)
    if plan.has_calendar_trigger:
        yield from _calendar_candidates(
            plan, equipment, target, horizon_end=horizon_end, today=today, is_working=is_working
        )
    floating = plan.has_floating_trigger
    meter_trigger = plan.has_meter_trigger
    single_open = floating or (meter_trigger and plan.meter_mode == Mode.FLOATING)
    if single_open and _open_occurrences(plan, equipment):
        return  # floating work: one open occurrence at a time, the next counts from its completion
    fired = False
    if floating:
        due = target.next_due_date or plan.anchor
        if plan.end_date is None or due <= plan.end_date:
            shifted_due = shifted(plan, due, is_working)
            if shifted_due - timedelta(days=plan.lead_days) <= until:
                fired = True
                yield Candidate(due.isoformat(), TriggerKind.FLOATING, due, shifted_due), shifted_due < today, False
    if meter_trigger and not (fired and floating):
        candidate = _meter_candidate(plan, equipment, target, today=today)
        if candidate is not None:
            yield candidate, False, False


def _calendar_candidates(plan, equipment, target, *, horizon_end, today, is_working):
    """Calendar occurrences not yet generated, up to the horizon; past ones give one catch-up at most."""
    last = (
        Occurrence.objects.filter(plan=plan, equipment=equipment, trigger=TriggerKind.CALENDAR)
        .order_by("-due_date")
        .values_list("key", flat=True)
        .first()
    )
    start = date.fromisoformat(last) + timedelta(days=1) if last else plan.anchor
    created = plan.created_at.astimezone(ZoneInfo(plan.site.timezone)).date() if plan.created_at else plan.anchor
    dates = recurrence.occurrences(plan.rule, plan.anchor, start=start, end=horizon_end, end_date=plan.end_date)
    past = [d for d in dates if shifted(plan, d, is_working) < today]
    future = [d for d in dates if shifted(plan, d, is_working) >= today]
    for day in past[:-1]:  # missed (worker down or plan started in the past): recorded, never backfilled
        if day >= created:
            yield Candidate(day.isoformat(), TriggerKind.CALENDAR, day, shifted(plan, day, is_working)), False, True
    if past:
        day = past[-1]
        yield Candidate(day.isoformat(), TriggerKind.CALENDAR, day, shifted(plan, day, is_working)), True, False
    for day in future:
        due = shifted(plan, day, is_working)
        if due <= horizon_end:
            yield Candidate(day.isoformat(), TriggerKind.CALENDAR, day, due), False, False


def meter_of(equipment: Equipment, name: str) -> Meter | None:
    return Meter.objects.filter(equipment=equipment, name=name, is_active=True).first()


def _meter_candidate(plan, equipment, target: PlanTarget, *, today) -> Candidate | None:
    meter = meter_of(equipment, plan.meter_name)
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


def _occur(plan, equipment, target, candidate: Candidate, *, catch_up: bool, missed: bool, now: datetime):
    """Record one occurrence and, unless missed or skipped, create its work order. None if it existed."""
    from fixflow.service import services as wo_services

    due_at = recurrence.due_instant(candidate.due_date, plan.due_time, plan.site.timezone)
    occurrence = Occurrence(
        organization_id=plan.organization_id,
        plan=plan,
        equipment=equipment,
        key=candidate.key,
        trigger=candidate.trigger,
        due_date=candidate.due_date,
        due_at=due_at,
        due_value=candidate.due_value,
        status=OccurrenceStatus.MISSED if missed else OccurrenceStatus.GENERATED,
        reason="Missed: its date passed before the plan was generated." if missed else "",
        is_catch_up=catch_up,
    )
    try:
        with transaction.atomic():
            occurrence.save()
    except IntegrityError:
        return None
    if missed:
        return OccurrenceStatus.MISSED
    outcome = OccurrenceStatus.GENERATED
    open_ones = [o for o in _open_occurrences(plan, equipment) if o.pk != occurrence.pk]
    actor = system_actor(plan.organization)
    if open_ones and plan.open_policy == OpenPolicy.SKIP:
        numbers = ", ".join(o.work_order.number for o in open_ones)
        occurrence.status = OccurrenceStatus.SKIPPED
        occurrence.reason = f"Skipped: {numbers} is still open."
        occurrence.save(update_fields=["status", "reason"])
        return OccurrenceStatus.SKIPPED
    if open_ones and plan.open_policy == OpenPolicy.REPLACE:
        for old in open_ones:
            wo_services.work_order_transition(
                actor=actor,
                work_order_id=old.work_order_id,
                to=Status.CANCELLED,
                reason=f"Replaced by the occurrence due {candidate.due_date.isoformat()} of {plan.name}.",
            )
        outcome = "replaced"
    template = plan.template
    title = plan.name if not catch_up else f"{plan.name} (overdue)"
    wo = wo_services.work_order_create(
        actor=actor,
        title=title[:200],
        site_id=plan.site_id,
        equipment_id=equipment.pk,
        template_id=template.pk,
        type=WorkOrderType.PREVENTIVE,
        lead_technician_id=plan.lead_technician_id,
        scheduled_start=due_at,
        description=_description(plan, candidate, catch_up),
        sla_start=max(due_at, now),
    )
    occurrence.work_order = wo
    occurrence.save(update_fields=["work_order"])
    return outcome


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
        state.next_due_date = local + timedelta(days=plan.interval_days)
    if plan.has_meter_trigger and (plan.meter_mode == Mode.FLOATING or plan.has_floating_trigger):
        meter = meter_of(occurrence.equipment, plan.meter_name)
        if meter is not None and meter.lifetime_value is not None:
            state.next_due_value = meter.lifetime_value + plan.meter_interval
    if target == Status.COMPLETED:
        state.last_completed_at = when
        meter = meter_of(occurrence.equipment, plan.meter_name) if plan.meter_name else None
        state.last_completed_value = meter.lifetime_value if meter else None
    state.save()
    if plan.is_active and not _generating.get():
        _generate_target(
            plan,
            occurrence.equipment,
            until=local_today(plan, clock.now()),
            today=local_today(plan, clock.now()),
            now=clock.now(),
            is_working=working_day_test(plan),
        )


def on_meter_reading(meter: Meter) -> Stats:
    """A new reading may cross a meter plan's threshold: generate for that equipment's meter plans now."""
    stats = Stats()
    plans = MaintenancePlan.objects.filter(
        organization_id=meter.organization_id, is_active=True, meter_name=meter.name
    ).select_related("site", "equipment", "template", "calendar")
    eq = meter.equipment
    for plan in plans.filter(equipment=eq) | plans.filter(
        equipment=None, site_id=eq.site_id, category_id=eq.category_id
    ):
        today = local_today(plan, clock.now())
        stats.add(
            _generate_target(plan, eq, until=today, today=today, now=clock.now(), is_working=working_day_test(plan))
        )
    return stats
