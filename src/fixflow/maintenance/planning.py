"""Planning ahead (DOMAIN.md §3 rule 9): the calendar occurrences of each plan up to its horizon, on the
planning calendar, without work orders.

``fixflow manage generate_pm --until DATE`` and the worker's periodic job record every calendar date of
the active fixed plans up to ``DATE`` (or each plan's horizon) in :class:`PlannedDates` (one row per plan
and equipment item); the generator (``generator.generate``) creates the work order ``lead_days`` before the
due date, and the forecast skips the dates recorded since. The dates come from the code the forecast uses
(``selectors._upcoming``: from the anchor, the working-day shift, the end date and count, the keys already
recorded), so the forecast may read the rows instead of expanding each rule: both give the same
occurrences (a test compares them).

Floating and meter occurrences are not planned: their dates move with each completion and reading, so the
forecast computes them (one at a time, cheap). Decision 0009.

Safety: each batch of plans is locked (``SELECT … FOR UPDATE`` of the plan rows, as an edit does), read
again, and its rows written anew; an edit or a change of the working-day calendar drops the rows and
clears ``planned_until`` (:func:`forget`), so the next run plans the dates again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction

from fixflow.core import clock

from . import batch, generator, selectors
from .choices import Mode
from .generator import BATCH_PLANS, MAX_UNTIL_DAYS, check_until
from .models import MaintenancePlan, PlannedDates

# The periodic job extends a plan's planning calendar when it reaches less than this many days short of its
# horizon: once a week per plan rather than a day's dates every day.
REPLAN_SLACK_DAYS = 7


@dataclass
class PlanStats:
    plans: int = 0  # plans looked at
    planned_plans: int = 0  # plans whose planning calendar was extended
    occurrences: int = 0  # planned occurrences recorded


def _calendar_plans(organization_id: int | None, plan_ids: list[int] | None):
    plans = MaintenancePlan.objects.filter(is_active=True, mode=Mode.FIXED).exclude(rule="")
    if organization_id is not None:
        plans = plans.filter(organization_id=organization_id)
    if plan_ids is not None:
        plans = plans.filter(pk__in=plan_ids)
    return plans


def plan_ahead(
    *,
    until: date | None = None,
    now: datetime | None = None,
    organization_id: int | None = None,
    plan_ids: list[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PlanStats:
    """Put the calendar occurrences of the active fixed plans (or the given ones) on the planning calendar,
    up to ``until`` (a local date, at most five years ahead) but never past a plan's own horizon; without
    ``until``, up to each plan's horizon, extended when it is a week short of it. Idempotent."""
    now = now or clock.now()
    check_until(until, now.date(), MAX_UNTIL_DAYS, "five years ahead")
    todays: dict[str, date] = {}
    wanted: dict[int, date] = {}
    rows = _calendar_plans(organization_id, plan_ids).order_by("pk")
    rows = rows.values_list("pk", "planned_until", "horizon_days", "site__timezone")
    looked = 0
    for pk, planned_until, horizon_days, zone in rows:
        looked += 1
        if zone not in todays:
            todays[zone] = selectors._local_today(zone, now, {})
        horizon = todays[zone] + timedelta(days=horizon_days)
        bound = min(until, horizon) if until is not None else horizon
        due_for_it = bound if until is not None else bound - timedelta(days=REPLAN_SLACK_DAYS)
        if planned_until is None or planned_until < due_for_it:
            wanted[pk] = bound
    stats = PlanStats(plans=looked)
    ids = sorted(wanted)
    for first in range(0, len(ids), BATCH_PLANS):
        chunk = ids[first : first + BATCH_PLANS]
        with transaction.atomic():
            _plan_batch(chunk, wanted, now=now, stats=stats)
        if progress is not None:
            progress(first + len(chunk), len(ids))
    if stats.planned_plans >= generator.ANALYZE_AFTER:
        generator.analyze_tables(("maintenance.PlannedDates", "maintenance.MaintenancePlan"))
    return stats


def _plan_batch(ids: list[int], wanted: dict[int, date], *, now: datetime, stats: PlanStats) -> None:
    """Lock the plans (in id order), read them again, write each target's dates from today to its bound.

    The whole calendar of a target is written again (one row): dates taken by work orders since, or passed,
    are dropped on the way, and a refresh needs no merge with what was there."""
    locked = (
        MaintenancePlan.objects.filter(pk__in=ids, is_active=True, mode=Mode.FIXED)
        .exclude(rule="")
        .select_for_update(of=("self",))
        .select_related(*selectors._FORECAST_RELATED)
        .only(*selectors._forecast_fields())
        .order_by("pk")
    )
    plans = [p for p in locked if p.planned_until is None or p.planned_until < wanted[p.pk]]
    if not plans:
        return
    PlannedDates.objects.filter(plan_id__in=[p.pk for p in plans]).delete()
    ctx = selectors._load_context(plans, now=now, planned=False)
    table = batch.Table(PlannedDates, ["organization_id", "plan_id", "equipment_id", "days"])
    done: dict[date, list[int]] = defaultdict(list)
    for plan in plans:
        bound = wanted[plan.pk]
        for eq in ctx.equipment[plan.pk]:
            days = []
            for due in selectors._upcoming(plan, eq, ctx):
                if due.nominal > bound:
                    break
                days.append([due.nominal.isoformat(), due.due_date.isoformat()])
            table.add(plan.organization_id, plan.pk, eq.pk, days)
            stats.occurrences += len(days)
        done[bound].append(plan.pk)
    table.write()
    stats.planned_plans += len(plans)
    for bound, plan_ids in done.items():
        MaintenancePlan.objects.filter(pk__in=plan_ids).update(planned_until=bound)


def forget(plans) -> None:
    """Drop the planning calendar of the plans (a queryset or ids): their dates may have moved (an edit of
    the plan, of its equipment coverage or of its working-day calendar). The next run plans them again."""
    if not isinstance(plans, (list, tuple, set)):
        plans = list(plans.values_list("pk", flat=True))
    if not plans:
        return
    PlannedDates.objects.filter(plan_id__in=plans).delete()
    MaintenancePlan.objects.filter(pk__in=plans).update(planned_until=None)
