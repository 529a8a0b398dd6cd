"""Writes of the SLA configuration: calendars, holidays, policies, and recalculation.

Every function checks the actor's capability, validates its input into a DomainError naming the
field, writes a ChangeRecord, and is the one path for that write (pages, API and admin call it).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from fixflow.core import clock as wall_clock
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.models import ChangeRecord
from fixflow.core.permissions import Actor, require
from fixflow.core.services import change_record_write, check_version, full_clean_or_raise, snapshot
from fixflow.customers.models import Client, Site

from . import clock, engine
from .choices import ResponseMetOn
from .models import BusinessCalendar, Holiday, SlaPolicy

PRIORITIES = ("critical", "high", "normal", "low")
MAX_TARGET_MINUTES = 366 * 24 * 60


# ---------------------------------------------------------------------------------------------
# calendars


def normalize_week(value: Any) -> list:
    """A week as stored: seven lists (Monday first) of sorted ``["HH:MM", "HH:MM"]`` pairs."""
    if not isinstance(value, list | tuple) or len(value) != 7:
        raise validation("Give working hours for the seven weekdays, Monday first.", field="week")
    try:
        for day in value:
            if not isinstance(day, list | tuple) or any(
                not isinstance(pair, list | tuple) or len(pair) != 2 for pair in day
            ):
                raise clock.CalendarError('Each interval is a pair of times such as ["08:00", "17:00"].')
        week = clock.week_from_json(value)
        for day in week:
            for start, end in day:
                if end <= start:
                    raise clock.CalendarError(
                        f"{clock.format_hhmm(start)}–{clock.format_hhmm(end)} ends before it starts; "
                        "a night shift is two intervals, one on each day."
                    )
        clock.Calendar(timezone="UTC", week=week)
    except clock.CalendarError as exc:
        raise validation(str(exc), field="week") from None
    return clock.week_to_json(week)


def _calendar(actor: Actor, calendar_id, *, lock: bool = False) -> BusinessCalendar:
    qs = BusinessCalendar.objects.filter(organization_id=actor.organization_id)
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=int(calendar_id))
    except (BusinessCalendar.DoesNotExist, TypeError, ValueError):
        raise not_found("Calendar") from None


def _editable(cal: BusinessCalendar) -> None:
    if cal.is_24x7:
        raise DomainError(ErrorCode.CONFLICT, "The built-in 24×7 calendar cannot be changed.")


CALENDAR_FIELDS = ("name", "timezone", "week")


@transaction.atomic
def calendar_create(*, actor: Actor, data: dict[str, Any]) -> BusinessCalendar:
    require(actor, "sla.manage")
    engine.ensure_defaults(actor.organization_id)
    unknown = set(data) - set(CALENDAR_FIELDS)
    if unknown:
        raise validation(f"{sorted(unknown)[0]} cannot be set on a calendar.", field=sorted(unknown)[0])
    cal = BusinessCalendar(
        organization_id=actor.organization_id,
        name=(data.get("name") or "").strip(),
        timezone=data.get("timezone") or actor.organization.timezone,
        week=normalize_week(data["week"]) if "week" in data else [[["08:00", "17:00"]]] * 5 + [[], []],
    )
    full_clean_or_raise(cal)
    cal.save()
    change_record_write(actor=actor, instance=cal, action=ChangeRecord.Action.CREATE, before=None, after=snapshot(cal))
    return cal


@transaction.atomic
def calendar_update(
    *, actor: Actor, calendar_id, data: dict[str, Any], expected_version: int | None = None
) -> BusinessCalendar:
    """Edit a calendar. Open work orders keep the snapshot they were given (rule 4) until recalculated."""
    require(actor, "sla.manage")
    cal = _calendar(actor, calendar_id, lock=True)
    check_version(cal, expected_version)
    _editable(cal)
    unknown = set(data) - set(CALENDAR_FIELDS)
    if unknown:
        raise validation(f"{sorted(unknown)[0]} cannot be changed on a calendar.", field=sorted(unknown)[0])
    before = snapshot(cal)
    if "name" in data:
        cal.name = (data["name"] or "").strip()
    if "timezone" in data:
        cal.timezone = data["timezone"] or ""
    if "week" in data:
        cal.week = normalize_week(data["week"])
    full_clean_or_raise(cal)
    after = snapshot(cal)
    if after != before:
        cal.version += 1
        cal.save()
        change_record_write(actor=actor, instance=cal, action=ChangeRecord.Action.UPDATE, before=before, after=after)
    return cal


@transaction.atomic
def calendar_delete(*, actor: Actor, calendar_id) -> None:
    require(actor, "sla.manage")
    cal = _calendar(actor, calendar_id, lock=True)
    _editable(cal)
    used = list(cal.policies.values_list("name", flat=True)[:3])
    if used:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"The calendar is used by the SLA policy {', '.join(used)}; give the policy another calendar first.",
        )
    change_record_write(actor=actor, instance=cal, action=ChangeRecord.Action.DELETE, before=snapshot(cal), after=None)
    cal.delete()


def _bump_calendar(cal: BusinessCalendar) -> None:
    cal.version += 1
    cal.save(update_fields=["version", "updated_at"])


@transaction.atomic
def holiday_add(*, actor: Actor, calendar_id, day: date | str, name: str = "") -> Holiday:
    require(actor, "sla.manage")
    cal = _calendar(actor, calendar_id, lock=True)
    _editable(cal)
    day = _date(day)
    name = (name or "").strip()[:200]
    holiday, created = Holiday.objects.get_or_create(
        organization_id=actor.organization_id, calendar=cal, date=day, defaults={"name": name}
    )
    if not created:
        raise validation(f"{day.isoformat()} is already a holiday ({holiday.name or 'no name'}).", field="date")
    _bump_calendar(cal)
    change_record_write(
        actor=actor, instance=cal, action=ChangeRecord.Action.UPDATE, before=None, after={"holiday": str(holiday)}
    )
    return holiday


@transaction.atomic
def holiday_remove(*, actor: Actor, holiday_id) -> None:
    require(actor, "sla.manage")
    try:
        holiday = Holiday.objects.select_related("calendar").get(
            organization_id=actor.organization_id, pk=int(holiday_id)
        )
    except (Holiday.DoesNotExist, TypeError, ValueError):
        raise not_found("Holiday") from None
    cal = holiday.calendar
    _editable(cal)
    change_record_write(
        actor=actor, instance=cal, action=ChangeRecord.Action.UPDATE, before={"holiday": str(holiday)}, after=None
    )
    holiday.delete()
    _bump_calendar(cal)


def _date(value) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise validation(f"{value!r} is not a date such as 2026-12-25.", field="date") from None


def _add_holidays(actor: Actor, cal: BusinessCalendar, days: dict[date, str]) -> int:
    existing = set(cal.holidays.values_list("date", flat=True))
    new = [
        Holiday(organization_id=actor.organization_id, calendar=cal, date=d, name=n[:200])
        for d, n in sorted(days.items())
        if d not in existing
    ]
    Holiday.objects.bulk_create(new)
    if new:
        _bump_calendar(cal)
        change_record_write(
            actor=actor,
            instance=cal,
            action=ChangeRecord.Action.UPDATE,
            before=None,
            after={"holidays_added": [str(h) for h in new]},
        )
    return len(new)


MAX_ICS_BYTES = 1024 * 1024


def _event_days(event, name: str) -> list[date]:
    """The local dates an all-day VEVENT covers: DTSTART up to DTEND (exclusive) or DTSTART + DURATION."""
    what = f"The event “{name or 'without a name'}”"
    try:
        start = event.decoded("DTSTART", None)
        end = event.decoded("DTEND", None)
        duration = event.decoded("DURATION", None) if end is None else None
    except Exception:  # icalendar raises ValueError, TypeError … on malformed values
        raise validation(f"{what} has a date the file does not write correctly.", field="file") from None
    if start is None:
        return []
    if isinstance(start, datetime):
        raise validation(f"{what} has a time of day; holidays are whole days.", field="file")
    if not isinstance(start, date) or not 1900 <= start.year <= 2999:
        raise validation(f"{what} starts outside the years 1900–2999.", field="file")
    if isinstance(duration, timedelta):
        end = start + max(duration, timedelta(days=1))
    if end is None:
        end = start + timedelta(days=1)
    if isinstance(end, datetime):
        end = end.date()
    if not isinstance(end, date) or end.year > 3000:
        raise validation(f"{what} has an end the file does not write as a date.", field="file")
    if (end - start).days > 366:
        raise validation(f"{what} lasts more than a year; a holiday is a day or a few.", field="file")
    return [start + timedelta(days=i) for i in range((end - start).days)]


@transaction.atomic
def holidays_import_ics(*, actor: Actor, calendar_id, content: bytes) -> int:
    """Add the all-day events of an iCalendar file as holidays (each day of a multi-day event).

    Returns how many dates were new. Timed events are refused: a holiday is a whole local date.
    """
    from icalendar import Calendar as ICalendar

    require(actor, "sla.manage")
    cal = _calendar(actor, calendar_id, lock=True)
    _editable(cal)
    if len(content) > MAX_ICS_BYTES:
        raise validation("The iCalendar file is larger than 1 MB.", field="file")
    try:
        parsed = ICalendar.from_ical(content)
    except Exception:  # icalendar raises ValueError and others on malformed input
        raise validation("This is not an iCalendar (.ics) file.", field="file") from None
    days: dict[date, str] = {}
    for event in parsed.walk("VEVENT"):
        name = " ".join(str(event.get("SUMMARY", "")).split())[:200]
        for day in _event_days(event, name):
            days.setdefault(day, name)
            if len(days) > 3660:
                raise validation("The file holds more than ten years of holidays; import one year at a time.", "file")
    if not days:
        raise validation("The file holds no all-day events.", field="file")
    return _add_holidays(actor, cal, days)


@transaction.atomic
def holidays_generate(*, actor: Actor, calendar_id, country: str, year: int, subdivision: str = "") -> int:
    """Add a country's public holidays of one year (the ``holidays`` package); returns how many were new."""
    import holidays as holidays_lib

    require(actor, "sla.manage")
    cal = _calendar(actor, calendar_id, lock=True)
    _editable(cal)
    country = (country or "").strip().upper()
    if country not in holidays_lib.list_supported_countries():
        raise validation(f"{country or 'No country'} is not a supported country code such as DE or US.", "country")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise validation("Enter a year such as 2027.", field="year") from None
    if not 1990 <= year <= 2100:
        raise validation("Enter a year between 1990 and 2100.", field="year")
    supported = holidays_lib.list_supported_countries()[country]
    # Codes are upper case (BE, NSW), some names are not (Augsburg, NSW Western): match either way.
    wanted = (subdivision or "").strip()
    subdivision = next((s for s in supported if s.casefold() == wanted.casefold()), None) if wanted else ""
    if subdivision is None:
        raise validation(
            f"{wanted} is not a subdivision of {country}; use one of {', '.join(supported)}.", field="subdivision"
        )
    found = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year)
    return _add_holidays(actor, cal, dict(found.items()))


# ---------------------------------------------------------------------------------------------
# policies


def normalize_targets(value: Any) -> dict:
    """Rule 2: every priority has a response and a resolution target in positive business minutes,
    response ≤ resolution."""
    if not isinstance(value, dict):
        raise validation("Give a response and a resolution target for each priority.", field="targets")
    result = {}
    for priority in PRIORITIES:
        entry = value.get(priority)
        if not isinstance(entry, dict):
            raise validation(f"The {priority} priority has no targets.", field="targets")
        pair = {}
        for target in ("response", "resolution"):
            raw = entry.get(target)
            try:
                if isinstance(raw, bool):  # JSON true is not a number of minutes
                    raise TypeError
                minutes = int(raw)
                if str(raw).strip() != str(minutes) and not isinstance(raw, int):
                    raise ValueError
            except (TypeError, ValueError):
                raise validation(f"The {target} target of {priority} must be whole minutes.", field="targets") from None
            if minutes <= 0:
                raise validation(f"The {target} target of {priority} must be more than zero.", field="targets")
            if minutes > MAX_TARGET_MINUTES:
                raise validation(f"The {target} target of {priority} is longer than a year.", field="targets")
            pair[target] = minutes
        if pair["response"] > pair["resolution"]:
            raise validation(
                f"The response target of {priority} is longer than its resolution target.", field="targets"
            )
        result[priority] = pair
    extra = set(value) - set(PRIORITIES)
    if extra:
        raise validation(f"{sorted(extra)[0]} is not a priority.", field="targets")
    return result


def _choices(value, allowed, field: str) -> list:
    values = list(dict.fromkeys(value or []))
    for v in values:
        if v not in allowed:
            raise validation(f"{v!r} is not one of {', '.join(allowed)}.", field=field)
    return values


POLICY_FIELDS = (
    "name",
    "is_active",
    "calendar_id",
    "client_ids",
    "site_ids",
    "priorities",
    "types",
    "criticalities",
    "targets",
    "at_risk_percent",
    "response_met_on",
    "pausing_hold_reasons",
    "notify_technician",
    "escalation_email",
)


def _policy(actor: Actor, policy_id, *, lock: bool = False) -> SlaPolicy:
    qs = SlaPolicy.objects.filter(organization_id=actor.organization_id)
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=int(policy_id))
    except (SlaPolicy.DoesNotExist, TypeError, ValueError):
        raise not_found("SLA policy") from None


def _policy_snapshot(p: SlaPolicy) -> dict:
    data = snapshot(p, exclude=["clients", "sites"])
    data["clients"] = sorted(p.clients.values_list("pk", flat=True)) if p.pk else []
    data["sites"] = sorted(p.sites.values_list("pk", flat=True)) if p.pk else []
    return data


def _apply_policy(actor: Actor, p: SlaPolicy, data: dict[str, Any]) -> tuple[list | None, list | None]:
    from fixflow.assets.choices import Criticality
    from fixflow.service.choices import HoldReason, WorkOrderType

    unknown = set(data) - set(POLICY_FIELDS)
    if unknown:
        raise validation(f"{sorted(unknown)[0]} cannot be set on an SLA policy.", field=sorted(unknown)[0])
    if "name" in data:
        p.name = (data["name"] or "").strip()
    if "is_active" in data:
        if p.is_default and not data["is_active"]:
            raise validation("The default policy is always active.", field="is_active")
        p.is_active = bool(data["is_active"])
    if "calendar_id" in data and data["calendar_id"] not in (None, ""):
        p.calendar = _calendar(actor, data["calendar_id"])
    elif "calendar_id" in data or p.calendar_id is None:
        raise validation("Choose the calendar the targets are counted in.", field="calendar")
    if "targets" in data:
        p.targets = normalize_targets(data["targets"])
    elif not p.targets:
        raise validation("Give a response and a resolution target for each priority.", field="targets")
    conditions = ("client_ids", "site_ids", "priorities", "types", "criticalities")
    if p.is_default and any(data.get(name) for name in conditions):
        raise validation(
            "The default policy applies to everything the others do not; it has no conditions.", field="priorities"
        )
    if "priorities" in data:
        p.priorities = _choices(data["priorities"], PRIORITIES, "priorities")
    if "types" in data:
        p.types = _choices(data["types"], WorkOrderType.values, "types")
    if "criticalities" in data:
        p.criticalities = _choices(data["criticalities"], Criticality.values, "criticalities")
    if "pausing_hold_reasons" in data:
        p.pausing_hold_reasons = _choices(data["pausing_hold_reasons"], HoldReason.values, "pausing_hold_reasons")
    if "at_risk_percent" in data:
        try:
            percent = int(data["at_risk_percent"])
        except (TypeError, ValueError):
            raise validation("Enter the at-risk threshold as a whole percentage.", field="at_risk_percent") from None
        if not 1 <= percent <= 99:
            raise validation("The at-risk threshold is between 1 and 99 % of the target.", field="at_risk_percent")
        p.at_risk_percent = percent
    if "response_met_on" in data:
        if data["response_met_on"] not in ResponseMetOn.values:
            raise validation(f"Use one of {', '.join(ResponseMetOn.values)}.", field="response_met_on")
        p.response_met_on = data["response_met_on"]
    if "notify_technician" in data:
        p.notify_technician = bool(data["notify_technician"])
    if "escalation_email" in data:
        p.escalation_email = (data["escalation_email"] or "").strip()
    full_clean_or_raise(p, exclude=["clients", "sites"])
    clients = sites = None
    if "client_ids" in data:
        ids = list(dict.fromkeys(int(i) for i in data["client_ids"] or []))
        clients = list(Client.objects.filter(organization_id=actor.organization_id, pk__in=ids))
        if len(clients) != len(ids):
            raise validation("One of the clients does not exist.", field="clients")
    if "site_ids" in data:
        ids = list(dict.fromkeys(int(i) for i in data["site_ids"] or []))
        sites = list(Site.objects.filter(organization_id=actor.organization_id, pk__in=ids))
        if len(sites) != len(ids):
            raise validation("One of the sites does not exist.", field="sites")
    return clients, sites


def _int_list(data: dict, name: str) -> None:
    if name in data:
        try:
            data[name] = [int(v) for v in data[name] or []]
        except (TypeError, ValueError):
            raise validation(f"{name} must be a list of ids.", field=name.removesuffix("_ids") + "s") from None


@transaction.atomic
def policy_create(*, actor: Actor, data: dict[str, Any]) -> SlaPolicy:
    """A new policy, placed before the default one (last among the others unless ``position`` says)."""
    require(actor, "sla.manage")
    engine.ensure_defaults(actor.organization_id)
    data = dict(data)
    for name in ("client_ids", "site_ids"):
        _int_list(data, name)
    last = (
        SlaPolicy.objects.filter(organization_id=actor.organization_id, is_default=False)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    p = SlaPolicy(organization_id=actor.organization_id, position=(last or 0) + 1)
    clients, sites = _apply_policy(actor, p, data)
    p.save()
    if clients is not None:
        p.clients.set(clients)
    if sites is not None:
        p.sites.set(sites)
    change_record_write(
        actor=actor, instance=p, action=ChangeRecord.Action.CREATE, before=None, after=_policy_snapshot(p)
    )
    return p


@transaction.atomic
def policy_update(*, actor: Actor, policy_id, data: dict[str, Any], expected_version: int | None = None) -> SlaPolicy:
    """Edit a policy. Open work orders keep their snapshot (rule 4) until someone recalculates them."""
    require(actor, "sla.manage")
    p = _policy(actor, policy_id, lock=True)
    check_version(p, expected_version)
    data = dict(data)
    for name in ("client_ids", "site_ids"):
        _int_list(data, name)
    before = _policy_snapshot(p)
    clients, sites = _apply_policy(actor, p, data)
    p.save()
    if clients is not None:
        p.clients.set(clients)
    if sites is not None:
        p.sites.set(sites)
    after = _policy_snapshot(p)
    if after != before:
        p.version += 1
        p.save(update_fields=["version", "updated_at"])
        after["version"] = p.version
        change_record_write(actor=actor, instance=p, action=ChangeRecord.Action.UPDATE, before=before, after=after)
    return p


@transaction.atomic
def policy_delete(*, actor: Actor, policy_id) -> None:
    require(actor, "sla.manage")
    p = _policy(actor, policy_id, lock=True)
    if p.is_default:
        raise DomainError(ErrorCode.CONFLICT, "The default SLA policy cannot be deleted.")
    change_record_write(
        actor=actor, instance=p, action=ChangeRecord.Action.DELETE, before=_policy_snapshot(p), after=None
    )
    p.delete()


@transaction.atomic
def policy_move(*, actor: Actor, policy_id, position: int) -> list[SlaPolicy]:
    """Put a policy at ``position`` (1 = checked first) among the non-default ones; returns the new order."""
    require(actor, "sla.manage")
    p = _policy(actor, policy_id, lock=True)
    if p.is_default:
        raise validation("The default policy always comes last.", field="position")
    others = list(
        SlaPolicy.objects.select_for_update()
        .filter(organization_id=actor.organization_id, is_default=False)
        .exclude(pk=p.pk)
        .order_by("position", "id")
    )
    try:
        index = min(max(int(position), 1), len(others) + 1) - 1
    except (TypeError, ValueError):
        raise validation("Enter the position as a whole number.", field="position") from None
    others.insert(index, p)
    for i, policy in enumerate(others, start=1):
        if policy.position != i:
            policy.position = i
            policy.save(update_fields=["position", "updated_at"])
    return others


# ---------------------------------------------------------------------------------------------
# recalculation


@transaction.atomic
def work_order_recalculate(*, actor: Actor, work_order_id):
    """Apply the policy that matches now to one open work order (rule 4's "recalculate")."""
    from fixflow.service.choices import ACTIVE_STATUSES
    from fixflow.service.models import WorkOrder

    require(actor, "sla.recalculate")
    wo = (
        # only the work order's row: PostgreSQL cannot lock the nullable side of the equipment join
        WorkOrder.objects.select_for_update(of=("self",))
        .filter(organization_id=actor.organization_id, pk=_pk(work_order_id))
        .select_related("equipment")
        .first()
    )
    if wo is None:
        raise not_found("Work order")
    if wo.status not in ACTIVE_STATUSES:
        raise DomainError(ErrorCode.CONFLICT, "Only open work orders are recalculated; this one is finished.")
    return engine.recalculate(wo, now=wall_clock.now())


def _pk(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def recalculate_open(*, actor: Actor) -> int:
    """Recalculate every open work order of the organization; returns how many. One transaction each."""
    from fixflow.service.choices import ACTIVE_STATUSES
    from fixflow.service.models import WorkOrder

    require(actor, "sla.recalculate")
    ids = list(
        WorkOrder.objects.filter(organization_id=actor.organization_id, status__in=ACTIVE_STATUSES).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        work_order_recalculate(actor=actor, work_order_id=pk)
    return len(ids)
