"""The SLA clocks of work orders: applying a policy, reacting to transitions, the breach scan.

Called by ``fixflow.service.services`` inside its transactions (create, transition, priority and
assignment changes) and by the worker's periodic scan. Everything here writes SLA rows and the SLA
summary of the work order (``sla_state``, ``sla_due_at``), never anything else of the work order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from fixflow.core import clock as wall_clock

from . import clock
from .choices import (
    DEFAULT_TARGETS,
    FINAL_STATES,
    STATE_SEVERITY,
    NotificationLevel,
    SlaState,
    Target,
)
from .models import BusinessCalendar, SlaClock, SlaNotification, SlaPause, SlaPolicy, WorkOrderSla

log = logging.getLogger(__name__)

TWENTY_FOUR_SEVEN_NAME = "24×7"


# ---------------------------------------------------------------------------------------------
# calendars and policies as the engine sees them


def calendar_snapshot(calendar: BusinessCalendar, since: date | None = None) -> dict:
    """What a work order keeps of its calendar: zone, week, and the holidays from ``since`` on."""
    holidays = calendar.holidays.all()
    if since is not None:
        holidays = holidays.filter(date__gte=since)
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "version": calendar.version,
        "timezone": calendar.timezone,
        "week": calendar.week,
        "is_24x7": calendar.is_24x7,
        "holidays": [d.isoformat() for d in holidays.values_list("date", flat=True)],
    }


def _local_date(calendar: BusinessCalendar, instant: datetime) -> date:
    """The calendar's local date at ``instant``: holidays are local dates, and the instant may be
    written in any zone (the server's UTC date is a day off for much of the day in most zones)."""
    return instant.astimezone(ZoneInfo(calendar.timezone)).date()


def calendar_from_snapshot(snapshot: dict) -> clock.Calendar:
    """The pure calendar of a snapshot; equal snapshots share one object (and its day cache)."""
    return _calendar(json.dumps(snapshot, sort_keys=True, default=str))


@lru_cache(maxsize=256)
def _calendar(key: str) -> clock.Calendar:
    data = json.loads(key)
    if data.get("is_24x7"):
        return clock.TWENTY_FOUR_SEVEN
    return clock.Calendar(
        timezone=data["timezone"],
        week=clock.week_from_json(data["week"]),
        holidays=frozenset(date.fromisoformat(d) for d in data.get("holidays", ())),
    )


def ensure_defaults(organization_id: int) -> SlaPolicy:
    """The organization's default policy, created (with the built-in 24×7 calendar) when missing."""
    policy = SlaPolicy.objects.filter(organization_id=organization_id, is_default=True).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            cal, _ = BusinessCalendar.objects.get_or_create(
                organization_id=organization_id,
                is_24x7=True,
                defaults={"name": TWENTY_FOUR_SEVEN_NAME, "timezone": "UTC", "week": [[["00:00", "24:00"]]] * 7},
            )
            return SlaPolicy.objects.create(
                organization_id=organization_id,
                name="Standard",
                is_default=True,
                position=0,
                calendar=cal,
                targets=DEFAULT_TARGETS,
            )
    except IntegrityError:  # created meanwhile by another request
        return SlaPolicy.objects.get(organization_id=organization_id, is_default=True)


def policy_matches(policy: SlaPolicy, wo, *, client_ids: set[int], site_ids: set[int]) -> bool:
    """Rule 1: every condition the policy sets matches the work order (empty conditions match all)."""
    if client_ids and wo.client_id not in client_ids:
        return False
    if site_ids and wo.site_id not in site_ids:
        return False
    if policy.priorities and wo.priority not in policy.priorities:
        return False
    if policy.types and wo.type not in policy.types:
        return False
    if policy.criticalities:
        criticality = wo.equipment.criticality if wo.equipment_id else None
        if criticality not in policy.criticalities:
            return False
    return True


def policy_for(wo) -> SlaPolicy:
    """The first active policy (in order) whose conditions match; the default one otherwise."""
    default = ensure_defaults(wo.organization_id)
    candidates = (
        SlaPolicy.objects.filter(organization_id=wo.organization_id, is_default=False, is_active=True)
        .select_related("calendar")
        .prefetch_related("clients", "sites")
        .order_by("position", "id")
    )
    for policy in candidates:
        clients = {c.pk for c in policy.clients.all()}
        sites = {s.pk for s in policy.sites.all()}
        if policy_matches(policy, wo, client_ids=clients, site_ids=sites):
            return policy
    return default


# ---------------------------------------------------------------------------------------------
# one clock


def _target_minutes(sla: WorkOrderSla, priority: str, target: str) -> int:
    return int(sla.targets[priority][target])


def _schedule(row: SlaClock, cal: clock.Calendar, percent: int) -> None:
    """Compute due and at-risk instants of a clock that is not paused (rule 5)."""
    if row.paused_since is not None:
        row.due_at = row.at_risk_at = None
        return
    row.due_at = clock.due_instant(cal, row.started_at, row.target_minutes, row.paused_seconds)
    row.at_risk_at = clock.at_risk_instant(cal, row.started_at, row.target_minutes, percent, row.paused_seconds)


def _judge(row: SlaClock, now: datetime) -> None:
    """Set the state of a clock from its instants at ``now``; breach and met are final (rule 9)."""
    if row.state in FINAL_STATES:
        return
    if row.state == SlaState.BREACHED:
        return  # sticky
    if row.paused_since is not None:
        row.state = SlaState.PAUSED
    elif row.due_at is not None and now >= row.due_at:
        row.state, row.breached_at = SlaState.BREACHED, row.due_at
    elif row.at_risk_at is not None and now >= row.at_risk_at:
        row.state = SlaState.AT_RISK
    else:
        row.state = SlaState.PENDING


def _meet(row: SlaClock, when: datetime) -> None:
    """The target is reached at ``when``: met when on time, breached (kept) when late (rule 6).

    Only the first time counts: a breached response is not reached again when the work resumes."""
    if row.state in FINAL_STATES or row.met_at is not None:
        return
    row.met_at = when
    if row.state == SlaState.BREACHED:
        return
    if row.due_at is not None and when > row.due_at:
        row.state, row.breached_at = SlaState.BREACHED, row.due_at
    else:
        row.state = SlaState.MET


@dataclass(frozen=True)
class Status:
    """What a badge shows of one clock at an instant."""

    target: str
    state: str
    due_at: datetime | None
    remaining_minutes: int | None  # business minutes left (negative: overdue); None when met or paused


def clock_status(row: SlaClock, sla: WorkOrderSla, now: datetime) -> Status:
    cal = calendar_from_snapshot(sla.calendar)
    remaining = None
    if row.state not in FINAL_STATES and row.paused_since is None and row.due_at is not None:
        until = row.met_at or now  # a target reached late stays as late as it was reached
        if until <= row.due_at:
            remaining = clock.business_minutes_between(cal, until, row.due_at)
        else:
            # overdue rounds up: a second late is a minute late, never "0 remaining" on a breach
            remaining = -clock.business_seconds_between(cal, row.due_at, until) // 60
    elif row.paused_since is not None and row.state != SlaState.BREACHED:
        used = clock.business_seconds_between(cal, row.started_at, row.paused_since) - row.paused_seconds
        remaining = row.target_minutes - used // 60
    return Status(row.target, row.state, row.due_at, remaining)


# ---------------------------------------------------------------------------------------------
# the work order's clocks


def _current(wo) -> dict[str, SlaClock]:
    rows = SlaClock.objects.select_for_update().filter(work_order=wo, is_current=True)
    return {r.target: r for r in rows}


def _summarize(wo, rows: Iterable[SlaClock]) -> None:
    """Store the worst state and the earliest open due instant on the work order (list filters)."""
    rows = list(rows)
    state = min((r.state for r in rows), key=lambda s: STATE_SEVERITY[SlaState(s)], default="")
    open_dues = [r.due_at for r in rows if r.state not in FINAL_STATES and r.due_at is not None]
    due = min(open_dues, default=None)
    if wo.sla_state != state or wo.sla_due_at != due:
        wo.sla_state, wo.sla_due_at = state, due
        type(wo).objects.filter(pk=wo.pk).update(sla_state=state, sla_due_at=due)


def _save(rows: Iterable[SlaClock]) -> None:
    for row in rows:
        row.save()


def apply(wo, *, start: datetime | None = None, now: datetime | None = None) -> WorkOrderSla:
    """Apply the matching policy to a new work order: snapshot and the two clocks of cycle 1 (rule 4)."""
    now = now or wall_clock.now()
    start = start or now
    policy = policy_for(wo)
    cal = policy.calendar
    sla = WorkOrderSla.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        policy=policy,
        policy_name=policy.name,
        policy_version=policy.version,
        calendar=calendar_snapshot(cal, since=_local_date(cal, start)),
        targets=policy.targets,
        at_risk_percent=policy.at_risk_percent,
        response_met_on=policy.response_met_on,
        pausing_hold_reasons=policy.pausing_hold_reasons,
        notify_technician=policy.notify_technician,
        escalation_email=policy.escalation_email,
        started_at=start,
        applied_at=now,
    )
    rows = [_new_clock(wo, sla, target, cycle=1, start=start) for target in (Target.RESPONSE, Target.RESOLUTION)]
    crossed = _evaluate(wo, sla, rows, now)
    SlaClock.objects.bulk_create(rows)
    _summarize(wo, rows)
    # A work order made from an old request may be at risk or breached from the start; the scan only
    # sees clocks that cross a threshold later, so the escalation is recorded here.
    _notify(wo, crossed)
    return sla


def _new_clock(wo, sla: WorkOrderSla, target: str, *, cycle: int, start: datetime) -> SlaClock:
    row = SlaClock(
        organization_id=wo.organization_id,
        work_order=wo,
        target=target,
        cycle=cycle,
        priority=wo.priority,
        target_minutes=_target_minutes(sla, wo.priority, target),
        started_at=start,
    )
    _schedule(row, calendar_from_snapshot(sla.calendar), sla.at_risk_percent)
    return row


def _evaluate(wo, sla: WorkOrderSla, rows: Iterable[SlaClock], now: datetime) -> list[tuple[SlaClock, str]]:
    """Judge the clocks at ``now``; return the (clock, level) escalations this moves them into."""
    crossed = []
    for row in rows:
        before = row.state
        _judge(row, now)
        if row.state != before:
            if row.state == SlaState.AT_RISK:
                crossed.append((row, NotificationLevel.AT_RISK))
            elif row.state == SlaState.BREACHED and not row.met_at:
                crossed.append((row, NotificationLevel.BREACHED))
    return crossed


def _sla(wo) -> WorkOrderSla | None:
    return WorkOrderSla.objects.filter(work_order=wo).first()


def on_transition(wo, *, source: str, target: str, name: str, when: datetime, now: datetime | None = None) -> None:
    """React to a status change (rules 6, 7, 9, 11). ``when``: when it happened (device time)."""
    from fixflow.service.choices import Status as WoStatus

    now = now or wall_clock.now()
    sla = _sla(wo)
    if sla is None:
        return
    cal = calendar_from_snapshot(sla.calendar)
    rows = _current(wo)
    response, resolution = rows.get(Target.RESPONSE), rows.get(Target.RESOLUTION)

    if name == "reopen" and resolution is not None:  # rule 11: a new cycle, the old one kept
        resolution.is_current = False
        resolution.save(update_fields=["is_current", "updated_at"])
        resolution = _new_clock(wo, sla, Target.RESOLUTION, cycle=resolution.cycle + 1, start=when)
        resolution.save()
        rows[Target.RESOLUTION] = resolution

    if target == WoStatus.IN_PROGRESS and response is not None:
        _meet(response, when)
    if source == WoStatus.ON_HOLD and resolution is not None:
        _end_pause(resolution, cal, sla, when)
    if target == WoStatus.ON_HOLD and resolution is not None and wo.hold_reason in sla.pausing_hold_reasons:
        _start_pause(wo, resolution, when, wo.hold_reason)
    if target == WoStatus.COMPLETED and resolution is not None:
        _meet(resolution, when)
    if target == WoStatus.CANCELLED:
        for row in rows.values():
            if row.paused_since is not None:
                _end_pause(row, cal, sla, when)
            if row.state not in FINAL_STATES and row.state != SlaState.BREACHED:
                row.state = SlaState.CANCELLED
    crossed = _evaluate(wo, sla, rows.values(), now)
    _save(rows.values())
    _summarize(wo, rows.values())
    _notify(wo, crossed)


def on_assigned(wo, *, when: datetime, now: datetime | None = None) -> None:
    """A technician was assigned: meets the response target when the policy says so (rule 6)."""
    sla = _sla(wo)
    if sla is None or sla.response_met_on != "assignment" or wo.lead_technician_id is None:
        return
    rows = _current(wo)
    response = rows.get(Target.RESPONSE)
    if response is None or response.state in FINAL_STATES:
        return
    _meet(response, when)
    crossed = _evaluate(wo, sla, rows.values(), now or wall_clock.now())
    _save(rows.values())
    _summarize(wo, rows.values())
    _notify(wo, crossed)


def on_priority_changed(wo, *, now: datetime | None = None) -> None:
    """Rule 8: keep start, elapsed time and pauses, swap the targets; a passed due is breached at once."""
    now = now or wall_clock.now()
    sla = _sla(wo)
    if sla is None:
        return
    cal = calendar_from_snapshot(sla.calendar)
    rows = _current(wo)
    for row in rows.values():
        if row.state in FINAL_STATES or row.state == SlaState.BREACHED:
            continue  # a met target stays met, a breach stays breached with the due it missed
        row.priority = wo.priority
        row.target_minutes = _target_minutes(sla, wo.priority, row.target)
        _schedule(row, cal, sla.at_risk_percent)
        if row.state == SlaState.AT_RISK:
            row.state = SlaState.PENDING  # judged again below against the new target
    crossed = _evaluate(wo, sla, rows.values(), now)
    _save(rows.values())
    _summarize(wo, rows.values())
    _notify(wo, crossed)


def _start_pause(wo, row: SlaClock, when: datetime, reason: str) -> None:
    # A breached clock does not pause: breach is sticky, and its due instant is the one it missed
    # (pausing would blank it and move it past the breach on resuming).
    if row.paused_since is not None or row.state in FINAL_STATES or row.state == SlaState.BREACHED:
        return
    row.paused_since = when
    row.due_at = row.at_risk_at = None
    row.state = SlaState.PAUSED
    SlaPause.objects.create(
        organization_id=wo.organization_id, work_order=wo, clock=row, started_at=when, reason=reason
    )


def _end_pause(row: SlaClock, cal: clock.Calendar, sla: WorkOrderSla, when: datetime) -> None:
    if row.paused_since is None:
        return
    pause = SlaPause.objects.filter(clock=row, ended_at=None).first()
    start = pause.started_at if pause else row.paused_since
    seconds = clock.business_seconds_between(cal, start, max(when, start))
    if pause is not None:
        pause.ended_at, pause.business_seconds = max(when, start), seconds
        pause.save(update_fields=["ended_at", "business_seconds"])
    row.paused_seconds += seconds
    row.paused_since = None
    if row.state == SlaState.PAUSED:
        row.state = SlaState.PENDING
    _schedule(row, cal, sla.at_risk_percent)


def recalculate(wo, *, now: datetime | None = None) -> WorkOrderSla:
    """Apply the policy that matches now to an open work order, keeping start, pauses and met times.

    The explicit correction of rule 4: states are judged again from scratch against the new targets
    (a target met in time stays met; a breach that the new targets do not confirm is lifted).
    """
    now = now or wall_clock.now()
    sla = _sla(wo)
    if sla is None:
        return apply(wo, now=now)
    policy = policy_for(wo)
    sla.policy, sla.policy_name, sla.policy_version = policy, policy.name, policy.version
    sla.calendar = calendar_snapshot(policy.calendar, since=_local_date(policy.calendar, sla.started_at))
    sla.targets, sla.at_risk_percent = policy.targets, policy.at_risk_percent
    sla.response_met_on, sla.pausing_hold_reasons = policy.response_met_on, policy.pausing_hold_reasons
    sla.notify_technician, sla.escalation_email = policy.notify_technician, policy.escalation_email
    sla.recalculated_at = now
    sla.save()
    cal = calendar_from_snapshot(sla.calendar)
    rows = _current(wo)
    for row in rows.values():
        if row.state == SlaState.CANCELLED:
            continue
        pauses = list(row.pauses.all())
        row.paused_seconds = sum(
            clock.business_seconds_between(cal, p.started_at, p.ended_at) for p in pauses if p.ended_at
        )
        for p in pauses:
            if p.ended_at:
                p.business_seconds = clock.business_seconds_between(cal, p.started_at, p.ended_at)
                p.save(update_fields=["business_seconds"])
        row.priority = wo.priority
        row.target_minutes = _target_minutes(sla, wo.priority, row.target)
        _schedule(row, cal, sla.at_risk_percent)
        met_at, row.met_at, row.breached_at = row.met_at, None, None
        row.state = SlaState.PENDING
        if met_at is not None:
            _meet(row, met_at)
    crossed = _evaluate(wo, sla, rows.values(), now)
    _save(rows.values())
    _summarize(wo, rows.values())
    _notify(wo, crossed)
    return sla


# ---------------------------------------------------------------------------------------------
# escalation and the breach scan


def _notify(wo, crossed: list[tuple[SlaClock, str]]) -> list[int]:
    """Record the escalations once per (work order, target, level, cycle) and queue their sending."""
    if not crossed:
        return []
    keys = [
        SlaNotification(
            organization_id=wo.organization_id, work_order_id=wo.pk, target=row.target, level=level, cycle=row.cycle
        )
        for row, level in crossed
    ]
    return _record_notifications(keys)


def _record_notifications(keys: list[SlaNotification]) -> list[int]:
    """Insert the notifications that do not exist yet and queue the unsent ones to be sent after commit.

    The unsent rows are read back by work order and matched to the keys here: one indexed lookup
    instead of an ``OR`` of one condition per key (which grows the SQL with the batch)."""
    if not keys:
        return []
    SlaNotification.objects.bulk_create(keys, ignore_conflicts=True)
    wanted = {(k.work_order_id, k.target, k.level, k.cycle) for k in keys}
    unsent = SlaNotification.objects.filter(work_order_id__in={k.work_order_id for k in keys}, sent_at=None)
    ids = [
        pk for pk, *key in unsent.values_list("pk", "work_order_id", "target", "level", "cycle") if tuple(key) in wanted
    ]
    if ids:
        transaction.on_commit(lambda: _enqueue_sending(ids))
    return ids


def _enqueue_sending(ids: list[int]) -> None:
    from .tasks import send_sla_notifications

    try:
        send_sla_notifications.enqueue(ids)
    except Exception:  # the queue is down: the periodic scan sends what is left unsent
        log.exception("Could not queue SLA notifications %s", ids)


SCAN_BATCH = 2000


def scan(*, now: datetime | None = None, batch: int = SCAN_BATCH) -> dict[str, int]:
    """The breach scan (rule 9): move running clocks whose due or at-risk instant has passed.

    Each threshold is read on its own, in the order of its instant, through its partial index
    (``sla_clock_due_scan``, ``sla_clock_risk_scan``): a quiet minute costs two index probes whatever
    the history. Breaches go first, so a clock past both thresholds is breached once and never
    reported at risk. Each batch is one transaction with its rows locked (``SKIP LOCKED``: two scans
    at once share the work) and is written with plain UPDATEs: the scan only worsens states and never
    moves a due instant, so the work order summaries need no recomputation. Returns the counts of
    clocks moved to at risk and to breached.
    """
    now = now or wall_clock.now()
    breached = Q(state__in=[SlaState.PENDING, SlaState.AT_RISK], paused_since=None, due_at__lte=now)
    at_risk = Q(state=SlaState.PENDING, paused_since=None, at_risk_at__lte=now)
    breaches = _scan_threshold(breached, "due_at", NotificationLevel.BREACHED, now, batch)
    risks = _scan_threshold(at_risk, "at_risk_at", NotificationLevel.AT_RISK, now, batch)
    return {NotificationLevel.AT_RISK: risks, NotificationLevel.BREACHED: breaches}


def _scan_threshold(condition: Q, instant: str, level: str, now: datetime, batch: int) -> int:
    """Move the clocks matching ``condition`` to ``level``, batch by batch in the order of ``instant``.

    Locks are taken in the order every other writer uses — the work order first, then its clocks — so a
    scan and a transition (which locks the work order, then its clocks) cannot deadlock. A work order
    locked by someone else is skipped (``SKIP LOCKED``): whoever holds it judges its clocks on the way
    out, and the next scan catches what is left.
    """
    from fixflow.service.models import WorkOrder

    moved = 0
    after: tuple[datetime, int] | None = None
    while True:
        with transaction.atomic():
            candidates = SlaClock.objects.filter(condition, is_current=True)
            if after is not None:
                candidates = candidates.filter(
                    Q(**{f"{instant}__gt": after[0]}) | Q(**{instant: after[0], "pk__gt": after[1]})
                )
            page = list(candidates.order_by(instant, "pk").values_list("pk", instant, "work_order_id")[:batch])
            if not page:
                return moved
            after = (page[-1][1], page[-1][0])
            locked = list(
                WorkOrder.objects.select_for_update(skip_locked=True)
                .filter(pk__in={wo for _pk, _at, wo in page})
                .values_list("pk", flat=True)
            )
            # judged again under the lock: another scan may have moved them meanwhile
            rows = list(
                SlaClock.objects.select_for_update()
                .filter(condition, is_current=True, pk__in=[pk for pk, _at, wo in page if wo in set(locked)])
                .values_list("pk", "organization_id", "work_order_id", "target", "cycle")
            )
            if not rows:
                continue
            ids, work_orders = [r[0] for r in rows], {r[2] for r in rows}
            if level == NotificationLevel.BREACHED:
                SlaClock.objects.filter(pk__in=ids).update(
                    state=SlaState.BREACHED, breached_at=F("due_at"), updated_at=now
                )
                WorkOrder.objects.filter(pk__in=work_orders).update(sla_state=SlaState.BREACHED)
            else:
                SlaClock.objects.filter(pk__in=ids).update(state=SlaState.AT_RISK, updated_at=now)
                WorkOrder.objects.filter(pk__in=work_orders).exclude(sla_state=SlaState.BREACHED).update(
                    sla_state=SlaState.AT_RISK
                )
            _record_notifications(
                [
                    SlaNotification(organization_id=org, work_order_id=wo, target=target, level=level, cycle=cycle)
                    for _pk, org, wo, target, cycle in rows
                ]
            )
            moved += len(rows)
