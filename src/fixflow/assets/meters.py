"""Meters on equipment and their readings: the one path for these writes, and their reads.

A continuous meter's lifetime value never goes down (DOMAIN.md §3 rule 4): a reading below the last
one is refused unless it is recorded as a meter replacement or a rollover. A reading may cross the
threshold of a meter-based maintenance plan; the plan then generates its work order at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from fixflow.core import clock
from fixflow.core.entities import entity_get, entity_queryset
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.models import ChangeRecord
from fixflow.core.permissions import Actor, require
from fixflow.core.services import change_record_write, check_version, full_clean_or_raise, snapshot

from .choices import MeterKind, ReadingKind, ReadingSource
from .models import Equipment, Meter, MeterReading
from .services import EQUIPMENT

METER_FIELDS = ("name", "unit", "kind", "rollover_at", "usage_window_days", "is_active")
# A reading may be dated this far in the future (clock skew of a phone), no further.
FUTURE_TOLERANCE = timedelta(minutes=10)


def _equipment(actor: Actor, equipment_id) -> Equipment:
    try:
        return entity_get(EQUIPMENT, actor=actor, pk=int(equipment_id))
    except (TypeError, ValueError):
        raise not_found("Equipment") from None


def meter_queryset(*, actor: Actor):
    """Meters on equipment the actor may see."""
    require(actor, "equipment.view")
    return Meter.objects.filter(equipment__in=entity_queryset(EQUIPMENT, actor=actor)).select_related(
        "equipment", "equipment__site"
    )


def meter_get(*, actor: Actor, pk, lock: bool = False) -> Meter:
    qs = meter_queryset(actor=actor)
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=int(pk))
    except (Meter.DoesNotExist, TypeError, ValueError):
        raise not_found("Meter") from None


# Meter values (readings, lifetimes, rollover values, and a plan's meter interval and start) stay below
# this: their sums (a lifetime plus an interval, a lifetime after rollovers) then fit the value columns
# (13 digits before the point).
METER_MAX = Decimal("1e12")


def _decimal(value, field: str, *, allow_none: bool = False) -> Decimal | None:
    if value in (None, "") and allow_none:
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise validation(f"{value!r} is not a number.", field=field) from None
    if not number.is_finite() or abs(number) >= METER_MAX:
        raise validation(f"Enter a number below {METER_MAX:,.0f}.", field=field)
    return number.quantize(Decimal("0.001"))


@transaction.atomic
def meter_create(*, actor: Actor, equipment_id, data: dict[str, Any]) -> Meter:
    require(actor, "equipment.manage")
    equipment = _equipment(actor, equipment_id)
    meter = Meter(organization_id=actor.organization_id, equipment=equipment)
    _apply(meter, data)
    full_clean_or_raise(meter)
    meter.save()
    change_record_write(
        actor=actor, instance=meter, action=ChangeRecord.Action.CREATE, before=None, after=snapshot(meter)
    )
    return meter


def _apply(meter: Meter, data: dict[str, Any]) -> None:
    unknown = set(data) - set(METER_FIELDS)
    if unknown:
        raise validation(f"{sorted(unknown)[0]} cannot be set on a meter.", field=sorted(unknown)[0])
    if "name" in data:
        meter.name = (data["name"] or "").strip()
    if "unit" in data:
        meter.unit = (data["unit"] or "").strip()
    if "kind" in data:
        if meter.pk and meter.last_value is not None and data["kind"] != meter.kind:
            raise validation("A meter with readings keeps its kind; add a new meter instead.", field="kind")
        if data["kind"] not in MeterKind.values:
            raise validation(f"Use one of {', '.join(MeterKind.values)}.", field="kind")
        meter.kind = data["kind"]
    if "rollover_at" in data:
        meter.rollover_at = _decimal(data["rollover_at"], "rollover_at", allow_none=True)
        if meter.rollover_at is not None and meter.rollover_at <= 0:
            raise validation("The rollover value must be more than zero.", field="rollover_at")
    if "usage_window_days" in data:
        try:
            days = int(data["usage_window_days"])
        except (TypeError, ValueError):
            raise validation("Enter the window in whole days.", field="usage_window_days") from None
        if not 1 <= days <= 3650:
            raise validation("The usage window is 1 to 3650 days.", field="usage_window_days")
        meter.usage_window_days = days
    if "is_active" in data:
        meter.is_active = bool(data["is_active"])


@transaction.atomic
def meter_update(*, actor: Actor, meter_id, data: dict[str, Any], expected_version: int | None = None) -> Meter:
    require(actor, "equipment.manage")
    meter = meter_get(actor=actor, pk=meter_id, lock=True)
    check_version(meter, expected_version)
    before = snapshot(meter)
    _apply(meter, data)
    full_clean_or_raise(meter)
    after = snapshot(meter)
    if after != before:
        meter.version += 1
        meter.save()
        change_record_write(actor=actor, instance=meter, action=ChangeRecord.Action.UPDATE, before=before, after=after)
    return meter


@transaction.atomic
def meter_delete(*, actor: Actor, meter_id) -> None:
    require(actor, "equipment.manage")
    meter = meter_get(actor=actor, pk=meter_id, lock=True)
    if meter.readings.exists():
        raise DomainError(ErrorCode.CONFLICT, "This meter has readings; deactivate it instead of deleting its history.")
    change_record_write(
        actor=actor, instance=meter, action=ChangeRecord.Action.DELETE, before=snapshot(meter), after=None
    )
    meter.delete()


@transaction.atomic
def reading_record(
    *,
    actor: Actor,
    meter_id,
    value,
    read_at: datetime | None = None,
    kind: str = ReadingKind.READING,
    source: str = ReadingSource.PAGE,
    work_order_id=None,
    note: str = "",
) -> MeterReading:
    """Record a reading. Technicians may record on equipment of work they are assigned to (or any
    visible equipment: readings are observations); a reading older than the latest is accepted only
    when it fits between its neighbours."""
    from fixflow.maintenance.recurrence import MeterState, RuleError, next_lifetime

    require(actor, "work_orders.record")
    meter = meter_get(actor=actor, pk=meter_id, lock=True)
    if not meter.is_active:
        raise DomainError(ErrorCode.CONFLICT, f"The meter {meter.name} is no longer in use.")
    value = _decimal(value, "value")
    now = clock.now()
    read_at = read_at or now
    if read_at.tzinfo is None:
        raise validation("Give the reading time with its time zone.", field="read_at")
    if read_at > now + FUTURE_TOLERANCE:
        raise validation("A reading cannot be in the future.", field="read_at")
    if kind not in ReadingKind.values:
        raise validation(f"Use one of {', '.join(ReadingKind.values)}.", field="kind")
    if source not in ReadingSource.values:
        raise validation(f"Use one of {', '.join(ReadingSource.values)}.", field="source")
    work_order = None
    if work_order_id:
        from fixflow.service.selectors import work_order_queryset

        work_order = work_order_queryset(actor=actor).filter(pk=work_order_id, equipment=meter.equipment).first()
        if work_order is None:
            raise validation("The work order is not on this meter's equipment.", field="work_order")
    if meter.kind == MeterKind.GAUGE:
        if kind != ReadingKind.READING:
            raise validation("A gauge has plain readings only.", field="kind")
        lifetime = value
    else:
        last = meter.readings.order_by("-read_at", "-id").first()
        if last is not None and read_at < last.read_at:
            raise validation(
                f"The last reading is from {_site_time(meter, last.read_at):%-d %b %Y %H:%M}; "
                "record readings in order.",
                field="read_at",
            )
        if last is not None and kind == ReadingKind.READING and value < last.value:
            raise validation(
                f"{format_amount(value, meter.unit)} is below the last reading "
                f"{format_amount(last.value, meter.unit)} of {_site_time(meter, last.read_at):%-d %b %Y}; "
                "if the meter was replaced or rolled over, record a meter replacement or a rollover.",
                field="value",
            )
        state = MeterState(lifetime=last.lifetime, reading=last.value) if last else None
        try:
            lifetime = next_lifetime(state, value, kind=kind, rollover_at=meter.rollover_at)
        except RuleError as exc:
            raise validation(str(exc), field=exc.field) from None
        if lifetime >= METER_MAX:
            raise validation(
                f"This reading would take the meter's lifetime value to {METER_MAX:,.0f} or more, "
                "more than Fixflow counts; check the reading.",
                field="value",
            )
    reading = MeterReading.objects.create(
        organization_id=actor.organization_id,
        meter=meter,
        value=value,
        lifetime=lifetime,
        kind=kind,
        read_at=read_at,
        source=source,
        recorded_by=actor.user,
        work_order=work_order,
        note=(note or "").strip()[:500],
    )
    if meter.last_read_at is None or read_at >= meter.last_read_at:
        meter.last_value, meter.lifetime_value, meter.last_read_at = value, lifetime, read_at
        meter.save(update_fields=["last_value", "lifetime_value", "last_read_at", "updated_at"])
    if meter.kind == MeterKind.CONTINUOUS:
        from fixflow.maintenance.generator import on_meter_reading

        on_meter_reading(meter)
    return reading


def format_amount(value: Decimal | None, unit: str = "") -> str:
    """A meter value as people read it: ``1,234.5 h`` (thousands grouped, no trailing zeros)."""
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():,f}"
    return f"{text} {unit}".strip()


def _site_time(meter: Meter, instant: datetime) -> datetime:
    """An instant as the wall-clock time at the meter's site (messages name local times)."""
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo(meter.equipment.site.timezone))


def usage_rate(meter: Meter, *, now: datetime | None = None) -> Decimal | None:
    """Average use per day over the meter's window (continuous meters), None without two readings."""
    from fixflow.maintenance.recurrence import usage_per_day

    if meter.kind != MeterKind.CONTINUOUS:
        return None
    now = now or clock.now()
    since = now - timedelta(days=meter.usage_window_days)
    points = list(
        meter.readings.filter(read_at__gte=since).order_by("read_at", "id").values_list("read_at", "lifetime")
    )
    if len(points) < 2:
        before = meter.readings.filter(read_at__lt=since).order_by("-read_at", "-id").values_list("read_at", "lifetime")
        points = list(before[:1]) + points
    rate = usage_per_day(points)
    return rate.quantize(Decimal("0.001")) if rate is not None else None


def reading_list(*, actor: Actor, meter_id, limit: int = 200) -> list[MeterReading]:
    meter = meter_get(actor=actor, pk=meter_id)
    return list(meter.readings.select_related("recorded_by").order_by("-read_at", "-id")[:limit])
