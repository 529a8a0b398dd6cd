"""Writes of preventive maintenance plans: create, edit (future occurrences only), pause, resume,
delete, and generation on demand. One path for each; pages and the API call these."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q

from fixflow.assets.meters import METER_MAX
from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.models import ChangeRecord
from fixflow.core.permissions import Actor, require
from fixflow.core.services import change_record_write, check_version, full_clean_or_raise, snapshot
from fixflow.service.choices import Status

from . import generator, recurrence
from .choices import DayShift, Mode, OccurrenceStatus, OpenPolicy, TriggerKind
from .models import MaintenancePlan, Occurrence, PlannedDates, PlanTarget

PLAN_FIELDS = (
    "name",
    "template_id",
    "site_id",
    "equipment_id",
    "category_id",
    "rule",
    "recurrence",
    "anchor",
    "due_time",
    "mode",
    "interval_days",
    "meter_name",
    "meter_interval",
    "meter_start",
    "meter_mode",
    "lead_days",
    "horizon_days",
    "end_date",
    "max_count",
    "open_policy",
    "day_shift",
    "calendar_id",
    "lead_technician_id",
    "is_active",
)
RULE_CHECK_DAYS = 3660  # a rule must give a date within ten years of its anchor
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2999, 12, 31)  # plan dates (anchor, end date)
METER_FIELDS = frozenset({"meter_name", "meter_interval", "meter_start", "meter_mode"})
# Changing these moves future occurrences: unstarted generated ones are withdrawn and made again.
TIMING_FIELDS = frozenset(
    {
        "rule",
        "anchor",
        "due_time",
        "mode",
        "interval_days",
        "meter_name",
        "meter_interval",
        "meter_start",
        "meter_mode",
        "lead_days",
        "end_date",
        "max_count",
        "day_shift",
        "calendar_id",
        "template_id",
    }
)
# Changing these changes the items a plan covers: the unstarted occurrences of the items it no longer
# covers are withdrawn (rule 10); the items still covered keep theirs.
COVERAGE_FIELDS = frozenset({"equipment", "site", "category"})


def plan_queryset(*, actor: Actor):
    require(actor, "maintenance.view")
    qs = MaintenancePlan.objects.filter(organization_id=actor.organization_id)
    if actor.is_client:
        qs = qs.filter(site__client_id=actor.client_id)
    return qs


def plan_get(*, actor: Actor, pk, lock: bool = False) -> MaintenancePlan:
    qs = plan_queryset(actor=actor).select_related("site", "equipment", "category", "template", "calendar")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=int(pk))
    except (MaintenancePlan.DoesNotExist, TypeError, ValueError):
        raise not_found("Maintenance plan") from None


def _in_org(actor: Actor, model, pk, field: str, what: str):
    if pk in (None, ""):
        return None
    try:
        return model.objects.get(organization_id=actor.organization_id, pk=int(pk))
    except (model.DoesNotExist, TypeError, ValueError):
        raise validation(f"That {what} does not exist.", field=field) from None


def _int(value, field: str, *, minimum: int = 0, maximum: int = 100000, allow_none: bool = True) -> int | None:
    if value in (None, ""):
        if allow_none:
            return None
        raise validation("This field is required.", field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise validation("Enter a whole number.", field=field) from None
    if not minimum <= number <= maximum:
        raise validation(f"Enter a number from {minimum} to {maximum}.", field=field)
    return number


def _decimal(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise validation(f"{value!r} is not a number.", field=field) from None
    if not number.is_finite() or number < 0:
        raise validation("Enter a positive number.", field=field)
    if number >= METER_MAX:  # a lifetime plus an interval must fit the value columns (13 digits)
        raise validation(f"Enter a number below {METER_MAX:,.0f}.", field=field)
    return number.quantize(Decimal("0.001"))


def _date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise validation(f"{value!r} is not a date such as 2027-01-31.", field=field) from None
    # the rule check and the working-day shift look years ahead: dates near the calendar's ends would overflow
    if not MIN_DATE <= value <= MAX_DATE:
        raise validation(f"Enter a date from {MIN_DATE.year} to {MAX_DATE.year}.", field=field)
    return value


def _time(value, field: str) -> time:
    """A local wall time of day (the site's zone): a time with an offset is refused."""
    if not isinstance(value, time):
        try:
            value = time.fromisoformat(str(value).strip())
        except ValueError:
            raise validation(f"{value!r} is not a time such as 09:00.", field=field) from None
    if value.tzinfo is not None:
        raise validation("Enter the local time of day at the site, such as 09:00, without an offset.", field=field)
    return value


def rule_from_choices(choices: dict[str, Any], anchor: date) -> str:
    """The RRULE for the plain choices of the plan form (see :class:`recurrence.RuleSpec`)."""

    def number(name, default=None):
        value = choices.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise validation("Enter a whole number.", field=name) from None

    if not isinstance(choices, dict):
        raise validation("Give the repeat as its plain choices (frequency, interval, …).", field="recurrence")
    weekdays = choices.get("weekdays") or ()
    if isinstance(weekdays, str):
        weekdays = [w for w in weekdays.replace(",", " ").split() if w]
    try:
        weekdays = tuple(int(d) for d in weekdays)
    except (TypeError, ValueError):
        raise validation("Weekdays are 0 (Monday) to 6 (Sunday).", field="weekdays") from None
    spec = recurrence.RuleSpec(
        frequency=choices.get("frequency") or "monthly",
        interval=number("interval", 1),
        weekdays=weekdays,
        monthly_by=choices.get("monthly_by") or "day",
        month_day=number("month_day"),
        nth=number("nth"),
        weekday=number("weekday"),
        month=number("month"),
    )
    try:
        return recurrence.build_rule(spec, anchor)
    except recurrence.RuleError as exc:
        raise validation(str(exc), field=exc.field) from None


def _apply(actor: Actor, plan: MaintenancePlan, data: dict[str, Any]) -> set[str]:
    from fixflow.assets.models import Equipment, EquipmentCategory
    from fixflow.customers.models import Site
    from fixflow.service.models import WorkOrderTemplate
    from fixflow.sla.models import BusinessCalendar

    unknown = set(data) - set(PLAN_FIELDS)
    if unknown:
        raise validation(f"{sorted(unknown)[0]} cannot be set on a plan.", field=sorted(unknown)[0])
    before = snapshot(plan)
    if "name" in data:
        plan.name = (data["name"] or "").strip()
    if "template_id" in data:
        plan.template = _in_org(actor, WorkOrderTemplate, data["template_id"], "template", "template")
        if plan.template is None:
            raise validation("Choose the template the work orders are made from.", field="template")
        if not plan.template.is_active:
            raise validation(f"The template {plan.template.name} is no longer in use.", field="template")
    if "site_id" in data:
        plan.site = _in_org(actor, Site, data["site_id"], "site", "site")
    if "equipment_id" in data:
        plan.equipment = _in_org(actor, Equipment, data["equipment_id"], "equipment", "equipment")
    if "category_id" in data:
        plan.category = _in_org(actor, EquipmentCategory, data["category_id"], "category", "category")
    if plan.equipment_id and plan.site_id is None:
        plan.site = plan.equipment.site
    if plan.site_id is None:
        raise validation("Choose the equipment (or a site and a category).", field="equipment")
    if plan.equipment_id and plan.equipment.site_id != plan.site_id:
        raise validation(f"{plan.equipment.name} is not at {plan.site.name}.", field="equipment")
    if plan.equipment_id and plan.category_id:
        raise validation("Choose one equipment item or a category, not both.", field="category")
    if not plan.equipment_id and not plan.category_id:
        raise validation("Choose the equipment, or a category for every item of it at the site.", field="equipment")
    if "anchor" in data:
        plan.anchor = _date(data["anchor"], "anchor")
    if plan.anchor is None:
        raise validation("Enter the first due date.", field="anchor")
    if "due_time" in data:
        plan.due_time = _time(data["due_time"], "due_time")
    if "mode" in data:
        if data["mode"] not in Mode.values:
            raise validation(f"Use one of {', '.join(Mode.values)}.", field="mode")
        plan.mode = data["mode"]
    if "recurrence" in data and data["recurrence"]:
        plan.rule = rule_from_choices(data["recurrence"], plan.anchor)
    elif "rule" in data:
        plan.rule = (data["rule"] or "").strip().removeprefix("RRULE:")
    if "interval_days" in data:
        plan.interval_days = _int(data["interval_days"], "interval_days", minimum=1, maximum=3650)
    if "meter_name" in data:
        plan.meter_name = (data["meter_name"] or "").strip()
    if "meter_interval" in data:
        plan.meter_interval = _decimal(data["meter_interval"], "meter_interval")
    if "meter_start" in data:
        plan.meter_start = _decimal(data["meter_start"], "meter_start")
    if "meter_mode" in data:
        if data["meter_mode"] not in Mode.values:
            raise validation(f"Use one of {', '.join(Mode.values)}.", field="meter_mode")
        plan.meter_mode = data["meter_mode"]
    if "lead_days" in data:
        plan.lead_days = _int(data["lead_days"], "lead_days", maximum=365, allow_none=False)
    if "horizon_days" in data:
        plan.horizon_days = _int(data["horizon_days"], "horizon_days", minimum=1, maximum=1830, allow_none=False)
    if "end_date" in data:
        plan.end_date = _date(data["end_date"], "end_date")
    if "max_count" in data:
        plan.max_count = _int(data["max_count"], "max_count", minimum=1, maximum=100000)
    if "open_policy" in data:
        if data["open_policy"] not in OpenPolicy.values:
            raise validation(f"Use one of {', '.join(OpenPolicy.values)}.", field="open_policy")
        plan.open_policy = data["open_policy"]
    if "day_shift" in data:
        if data["day_shift"] not in DayShift.values:
            raise validation(f"Use one of {', '.join(DayShift.values)}.", field="day_shift")
        plan.day_shift = data["day_shift"]
    if "calendar_id" in data:
        plan.calendar = _in_org(actor, BusinessCalendar, data["calendar_id"], "calendar", "calendar")
    if "lead_technician_id" in data:
        from fixflow.core.models import Membership

        tech = data["lead_technician_id"]
        if tech in (None, ""):
            plan.lead_technician = None
        else:
            # an id, of any size the column holds (no form-field maximum); a bigger one is no one's
            try:
                tech_id = int(tech)
            except (TypeError, ValueError):
                raise validation("Enter a whole number.", field="lead_technician") from None
            membership = (
                Membership.objects.filter(
                    organization_id=actor.organization_id,
                    user_id=tech_id if 0 < tech_id < 2**63 else 0,
                    is_active=True,
                    role__in=["technician", "dispatcher", "admin"],
                )
                .select_related("user")
                .first()
            )
            if membership is None:
                raise validation("That person is not a technician of this organization.", field="lead_technician")
            plan.lead_technician = membership.user
    if "is_active" in data:
        plan.is_active = bool(data["is_active"])
    _validate_triggers(plan)
    full_clean_or_raise(plan)
    after = snapshot(plan)
    return {name for name in after if after[name] != before.get(name)}


def _validate_triggers(plan: MaintenancePlan) -> None:
    if plan.mode == Mode.FIXED and plan.rule:
        try:
            recurrence.parse_rule(plan.rule, plan.anchor)
        except recurrence.RuleError as exc:
            raise validation(str(exc), field="rule") from None
        # e.g. BYMONTHDAY=30;BYMONTH=2: a valid rule that never falls on a date (the walk is bounded)
        try:
            found = recurrence.occurrences(
                plan.rule, plan.anchor, start=plan.anchor, end=plan.anchor + timedelta(days=RULE_CHECK_DAYS), count=1
            )
        except recurrence.RuleError as exc:
            raise validation(str(exc), field="rule") from None
        if not found:
            raise validation("This rule gives no date in the next ten years.", field="rule")
    if plan.mode == Mode.FLOATING and not plan.interval_days:
        raise validation("A floating plan needs the number of days after the last completion.", field="interval_days")
    if bool(plan.meter_name) != (plan.meter_interval is not None):
        raise validation("A meter trigger needs both the meter and the interval.", field="meter_interval")
    if plan.meter_interval is not None and plan.meter_interval <= 0:
        raise validation("The meter interval must be more than zero.", field="meter_interval")
    if not (plan.has_calendar_trigger or plan.has_floating_trigger or plan.has_meter_trigger):
        raise validation("Give the plan a trigger: a repeat rule, days after completion, or a meter.", field="rule")
    if plan.has_calendar_trigger and plan.has_meter_trigger:
        raise validation(
            "With a meter, the time part counts from the last completion (whichever comes first): choose the "
            "floating mode and the number of days.",
            field="mode",
        )
    if plan.end_date and plan.end_date < plan.anchor:
        raise validation("The plan cannot end before its first due date.", field="end_date")


@transaction.atomic
def plan_create(*, actor: Actor, data: dict[str, Any]) -> MaintenancePlan:
    require(actor, "maintenance.manage")
    plan = MaintenancePlan(organization_id=actor.organization_id)
    _apply(actor, plan, data)
    plan.save()
    change_record_write(
        actor=actor, instance=plan, action=ChangeRecord.Action.CREATE, before=None, after=snapshot(plan)
    )
    return plan


@transaction.atomic
def plan_update(*, actor: Actor, plan_id, data: dict[str, Any], expected_version: int | None = None) -> MaintenancePlan:
    """Edit a plan. Rule 10: only future, unstarted occurrences change — a timing change withdraws the
    generated work orders that are still new and due from today on (cancelled with the reason) so the
    generator makes them again under the new settings; started and finished work stays as it is."""
    require(actor, "maintenance.manage")
    plan = plan_get(actor=actor, pk=plan_id, lock=True)
    check_version(plan, expected_version)
    before = snapshot(plan)
    covered = {e.pk for e in generator.plan_equipment(plan)}
    changed = _apply(actor, plan, data)
    if not changed:
        return plan
    plan.version += 1
    timing = changed & ({f.removesuffix("_id") for f in TIMING_FIELDS} | TIMING_FIELDS)
    gone: set[int] = set()
    if changed & COVERAGE_FIELDS:
        gone = covered - {e.pk for e in generator.plan_equipment(plan)}
    if timing or changed & COVERAGE_FIELDS:
        plan.generated_until = None  # dates may be open again: the next run looks at every one
        plan.planned_until = None  # and the planning calendar is made again (rule 9)
        PlannedDates.objects.filter(plan=plan).delete()
    plan.save()
    withdrawn = 0
    if timing or gone:
        withdrawn = _withdraw_future(actor, plan, timing, gone=gone)
    change_record_write(
        actor=actor,
        instance=plan,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after={**snapshot(plan), "withdrawn_work_orders": withdrawn},
    )
    return plan


def _withdraw_future(actor: Actor, plan: MaintenancePlan, changed: set[str], *, gone: set[int] = frozenset()) -> int:
    """Withdraw the future, unstarted calendar and floating occurrences (rule 10) and restart only the
    counters the change moves. Meter occurrences are due already (their threshold was crossed): they stay.
    A withdrawal is not a cancellation by someone: it starts no generation and moves no counter; the
    next run makes the occurrences again under the new settings.

    ``gone``: the equipment items the plan no longer covers: their future unstarted occurrences of every
    trigger are withdrawn and never made again. With no timing change (``changed`` empty), only theirs."""
    from fixflow.service import services as wo_services

    today = generator.local_today(plan, clock.now())
    targets = {
        t.equipment_id: t
        for t in PlanTarget.objects.select_for_update(of=("self",)).filter(plan=plan).select_related("equipment")
    }
    moved = Q(equipment_id__in=gone)
    if changed:
        moved |= ~Q(trigger=TriggerKind.METER)
    future = Occurrence.objects.filter(moved, plan=plan, due_date__gte=today).select_related("work_order")
    count = 0
    removed: dict[int, int] = {}
    system = generator.system_actor(plan.organization)
    token = generator._generating.set(True)
    try:
        for occurrence in future:
            wo = occurrence.work_order
            if occurrence.status == OccurrenceStatus.GENERATED and wo is not None:
                if wo.status != Status.NEW:
                    continue  # planned or started work stays
                wo_services.work_order_transition(
                    actor=system, work_order_id=wo.pk, to=Status.CANCELLED, reason=f"The plan {plan.name} was changed."
                )
                count += 1
            elif occurrence.status != OccurrenceStatus.SKIPPED:
                continue
            occurrence.delete()
            removed[occurrence.equipment_id] = removed.get(occurrence.equipment_id, 0) + 1
    finally:
        generator._generating.reset(token)
    for equipment_id, target in targets.items():
        # the targets as they were before the withdrawal (a cancellation restarts floating counters)
        target.count = max(0, target.count - removed.get(equipment_id, 0))
        if changed & {"interval_days", "mode", "anchor"} and plan.has_floating_trigger:
            # the next floating date counts from the last completion with the new interval (or the new anchor)
            target.next_due_date = (
                generator.free_floating_day(
                    plan,
                    target.equipment,
                    generator.local_today(plan, target.last_completed_at) + timedelta(days=plan.interval_days),
                )
                if target.last_completed_at
                else None
            )
        if changed & METER_FIELDS:
            floating_meter = plan.meter_mode == Mode.FLOATING or plan.has_floating_trigger
            target.next_due_value = (
                target.last_completed_value + plan.meter_interval
                if floating_meter and plan.has_meter_trigger and target.last_completed_value is not None
                else None
            )
        target.save(update_fields=["next_due_date", "next_due_value", "count"])
    return count


@transaction.atomic
def plan_set_active(*, actor: Actor, plan_id, active: bool) -> MaintenancePlan:
    """Pause or resume a plan. A paused plan generates nothing; resuming does not backfill (rule 8)."""
    require(actor, "maintenance.manage")
    plan = plan_get(actor=actor, pk=plan_id, lock=True)
    if plan.is_active == active:
        return plan
    before = snapshot(plan)
    plan.is_active = active
    plan.version += 1
    plan.save(update_fields=["is_active", "version", "updated_at"])
    change_record_write(
        actor=actor, instance=plan, action=ChangeRecord.Action.UPDATE, before=before, after=snapshot(plan)
    )
    return plan


@transaction.atomic
def plan_delete(*, actor: Actor, plan_id) -> None:
    require(actor, "maintenance.manage")
    plan = plan_get(actor=actor, pk=plan_id, lock=True)
    if plan.occurrences.filter(work_order__isnull=False).exists():
        raise DomainError(
            ErrorCode.CONFLICT, "This plan has generated work orders; pause it instead of deleting its history."
        )
    change_record_write(
        actor=actor, instance=plan, action=ChangeRecord.Action.DELETE, before=snapshot(plan), after=None
    )
    plan.delete()


def plan_generate(*, actor: Actor, plan_id, until: date | None = None) -> generator.Stats:
    """Generate one plan now, up to ``until`` (default today in the site's zone).

    ``until`` is from today to the plan's horizon ahead (a validation error on ``until`` otherwise: a
    date in the past would backfill nothing, rule 8; beyond the horizon is not planned yet, rule 9).
    A paused plan is a conflict.
    """
    require(actor, "maintenance.manage")
    plan = plan_get(actor=actor, pk=plan_id)
    if until is not None:
        today = generator.local_today(plan, clock.now())
        if until < today:
            raise validation("until cannot be in the past; missed occurrences are not backfilled.", field="until")
        generator.check_until(until, today, plan.horizon_days, "the plan's horizon ahead")
    if not plan.is_active:
        raise DomainError(ErrorCode.CONFLICT, "The plan is paused; resume it first.")
    return generator.generate_plan(plan, until=until)
