"""The offline command types: how each one's payload is read, checked and applied through the domain
services (DOMAIN.md §5 rule 2), and how it reads in plain words.

A handler never writes a work order row itself: it calls the one service of its write
(``work_order_transition``, ``time_entry_create``, ``reading_record``…) as the technician, with the time
the sync decided on (``Ctx.when``). ``parse`` only reads the payload (a bad one is refused before anything
is decided); ``check`` looks at the work order, so a command that could never apply is refused rather
than held; ``apply`` runs inside the caller's savepoint.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Q
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from fixflow.assets import meters
from fixflow.assets.choices import ReadingKind, ReadingSource
from fixflow.assets.models import Meter
from fixflow.core.errors import DomainError, ErrorCode, validation
from fixflow.core.permissions import Actor
from fixflow.inventory.models import Part
from fixflow.service import services
from fixflow.service.attachments import sniff
from fixflow.service.choices import HoldReason as WorkOrderHoldReason
from fixflow.service.choices import Status
from fixflow.service.models import ChecklistAnswer, TimeEntry, WorkOrder

from .choices import CommandType
from .models import SyncCommand

# How far a phone's clock may run ahead of the server's before its time is not believed (rule 6).
SKEW = timedelta(minutes=5)
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
SIGNATURE_MAX_BYTES = 1024 * 1024
# Fields a field edit may carry: the simple fields of ``services.work_order_update`` (which decides who may
# change which: a technician only the resolution notes).
MERGE_FIELDS = (
    "title",
    "description",
    "type",
    "priority",
    "resolution_notes",
    "estimated_duration_minutes",
    "scheduled_start",
    "scheduled_end",
)
_INSTANT_FIELDS = {"scheduled_start", "scheduled_end"}


@dataclass
class Ctx:
    """One command being applied: who (the technician), on what (the locked work order), when."""

    actor: Actor
    command: SyncCommand
    work_order: WorkOrder
    when: datetime  # the time used: the phone's, or the server's when the phone's is out of bounds
    accepted_by: Actor | None = None  # the office member accepting a held command


@dataclass
class Done:
    """What a handler answers: applied (or held, for a merge with conflicts), a message, a result."""

    message: str
    result: dict[str, Any] = field(default_factory=dict)
    conflict: dict[str, Any] = field(default_factory=dict)  # field edits: the fields held for the office


@dataclass(frozen=True)
class Handler:
    parse: Callable[[dict], dict]
    apply: Callable[[Ctx, dict], Done]
    describe: Callable[[dict], str]
    check: Callable[[Ctx, dict], None] | None = None
    holds_when_closed: bool = True  # append-only records: held on closed, cancelled or invoiced work


# --- reading payloads --------------------------------------------------------------------------------


def _text(payload: dict, name: str, *, required: bool = False, max_length: int = 20000) -> str:
    value = payload.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise validation(_("%(name)s must be text.") % {"name": name}, field=name)
    value = value.strip()
    if required and not value:
        raise validation(_("%(name)s is required.") % {"name": name}, field=name)
    if len(value) > max_length:
        raise validation(_("Keep %(name)s under %(n)s characters.") % {"name": name, "n": max_length}, field=name)
    return value


def _int(payload: dict, name: str, *, required: bool = True) -> int | None:
    value = payload.get(name)
    if value in (None, "") and not required:
        return None
    if isinstance(value, bool):
        value = None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise validation(_("%(name)s must be a whole number.") % {"name": name}, field=name) from None


def _bool(payload: dict, name: str) -> bool:
    value = payload.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def parse_instant(value) -> datetime | None:
    """An ISO 8601 instant with an offset, or None (absent, unreadable or without an offset)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def _instant(payload: dict, name: str) -> datetime:
    instant = parse_instant(payload.get(name))
    if instant is None:
        raise validation(
            _("%(name)s must be an ISO 8601 instant with an offset, e.g. 2026-03-02T09:00:00+01:00.") % {"name": name},
            field=name,
        )
    return instant


def _base64(payload: dict, name: str, *, limit: int) -> bytes:
    raw = payload.get(name)
    if not isinstance(raw, str) or not raw.strip():
        raise validation(_("%(name)s is required.") % {"name": name}, field=name)
    raw = raw.strip()
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    if len(raw) > (limit + 2) // 3 * 4 + 4:
        raise DomainError(
            ErrorCode.UPLOAD_TOO_LARGE,
            _("The file is larger than %(mb).1f MB.") % {"mb": limit / 1048576},
            field=name,
        )
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise validation(_("%(name)s is not valid base64.") % {"name": name}, field=name) from None
    if not data:
        raise validation(_("%(name)s is empty.") % {"name": name}, field=name)
    if len(data) > limit:
        raise DomainError(
            ErrorCode.UPLOAD_TOO_LARGE,
            _("The file is larger than %(mb).1f MB.") % {"mb": limit / 1048576},
            field=name,
        )
    return data


def _local(ctx_or_wo, instant: datetime | None) -> str:
    """An instant as the site's wall clock, for messages."""
    if instant is None:
        return ""
    wo = ctx_or_wo.work_order if isinstance(ctx_or_wo, Ctx) else ctx_or_wo
    from zoneinfo import ZoneInfo

    return f"{instant.astimezone(ZoneInfo(wo.site.timezone)):%d %b %H:%M}"


# --- transition --------------------------------------------------------------------------------------


def _parse_transition(p: dict) -> dict:
    to = _text(p, "to", required=True, max_length=20)
    if to not in Status.values:
        raise validation(
            _("%(to)r is not a status; use one of %(all)s.") % {"to": to, "all": ", ".join(Status.values)}, field="to"
        )
    notes = p.get("resolution_notes")
    return {
        "to": to,
        "reason": _text(p, "reason", max_length=2000),
        "hold_reason": _text(p, "hold_reason", max_length=20),
        "resolution_notes": None if notes is None else _text(p, "resolution_notes"),
    }


def _apply_transition(ctx: Ctx, a: dict) -> Done:
    wo, target = ctx.work_order, Status(a["to"])
    if wo.status == target:
        notes = a["resolution_notes"]
        if notes and notes != wo.resolution_notes.strip():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                _("The work order was already %(status)s; your resolution notes were not saved: “%(notes)s”")
                % {"status": target.label.lower(), "notes": notes},
                field="to",
            )
        return Done(_("The work order was already %(status)s.") % {"status": target.label.lower()}, {"unchanged": True})
    hold_reason = a["hold_reason"]
    if target == Status.ON_HOLD and not hold_reason:
        hold_reason = WorkOrderHoldReason.OTHER  # the phone asks for a reason in words; the kind is optional
    try:
        wo = services.work_order_transition(
            actor=ctx.actor,
            work_order_id=wo.pk,
            to=target,
            reason=a["reason"],
            hold_reason=hold_reason,
            resolution_notes=a["resolution_notes"],
            occurred_at=ctx.when,
        )
    except DomainError as exc:
        raise _explained(ctx, exc, target) from None
    return Done(_("%(number)s is now %(status)s.") % {"number": wo.number, "status": target.label.lower()})


def _explained(ctx: Ctx, exc: DomainError, target: Status) -> DomainError:
    """A refused transition says what happened in the office meanwhile (rule 5: visible to the technician)."""
    wo = ctx.work_order
    if wo.status == Status.CANCELLED:
        reason = f" ({wo.status_reason})" if wo.status_reason else ""
        message = _("%(number)s was cancelled in the office on %(when)s%(reason)s: “%(action)s” was not applied.") % {
            "number": wo.number,
            "when": _local(ctx, wo.cancelled_at),
            "reason": reason,
            "action": target.label,
        }
        return DomainError(exc.code, message, field=exc.field, details=exc.details)
    if exc.code == ErrorCode.INVALID_TRANSITION:
        message = _("%(number)s is %(status)s now: “%(action)s” was not applied.") % {
            "number": wo.number,
            "status": wo.get_status_display().lower(),
            "action": target.label,
        }
        return DomainError(exc.code, message, field=exc.field, details=exc.details)
    return exc


def _describe_transition(a: dict) -> str:
    label = Status(a["to"]).label if a.get("to") in Status.values else a.get("to")
    text = _("Status → %(status)s") % {"status": label}
    if a.get("reason"):
        text += f" ({a['reason']})"
    return text


# --- timer -------------------------------------------------------------------------------------------


def _entries(ctx: Ctx):
    return TimeEntry.objects.filter(work_order=ctx.work_order, technician=ctx.actor.user)


def _apply_timer_start(ctx: Ctx, a: dict) -> Done:
    """One running timer per technician and work order across devices (rule 7): a second start while one
    runs, or at a moment an entry from another device already covers, changes nothing."""
    covering = (
        _entries(ctx)
        .filter(Q(ended_at=None) | Q(started_at__lte=ctx.when, ended_at__gt=ctx.when))
        .order_by(F("ended_at").desc(nulls_first=True))
        .first()
    )
    if covering is not None and covering.ended_at is None:
        return Done(
            _("Your timer was already running since %(when)s.") % {"when": _local(ctx, covering.started_at)},
            {"time_entry_id": covering.pk, "already_running": True},
        )
    if covering is not None:
        return Done(
            _("Your time from %(start)s to %(end)s already covers this moment; no second timer was started.")
            % {"start": _local(ctx, covering.started_at), "end": _local(ctx, covering.ended_at)},
            {"time_entry_id": covering.pk, "already_running": True},
        )
    entry = services.timer_start(actor=ctx.actor, work_order_id=ctx.work_order.pk, occurred_at=ctx.when)
    return Done(_("Timer started at %(when)s.") % {"when": _local(ctx, entry.started_at)}, {"time_entry_id": entry.pk})


def _apply_timer_stop(ctx: Ctx, a: dict) -> Done:
    if _entries(ctx).filter(ended_at=None).exists():
        entry = services.timer_stop(actor=ctx.actor, work_order_id=ctx.work_order.pk, occurred_at=ctx.when)
        return Done(
            _("Timer stopped: %(minutes)s min recorded.") % {"minutes": entry.duration_minutes},
            {"time_entry_id": entry.pk, "duration_minutes": entry.duration_minutes},
        )
    last = _entries(ctx).exclude(ended_at=None).order_by("-ended_at", "-id").first()
    if last is not None and last.started_at <= ctx.when:
        return Done(
            _("Your timer had already stopped at %(when)s (%(minutes)s min recorded).")
            % {"when": _local(ctx, last.ended_at), "minutes": last.duration_minutes},
            {"time_entry_id": last.pk, "already_stopped": True},
        )
    raise DomainError(ErrorCode.CONFLICT, _("You have no running timer on this work order."))


# --- time, parts, checklist, notes ---------------------------------------------------------------------


def _parse_time(p: dict) -> dict:
    minutes = _int(p, "duration_minutes")
    if minutes <= 0 or minutes > 24 * 60:
        raise validation(_("The duration must be between 1 minute and 24 hours."), field="duration_minutes")
    kind = _text(p, "kind", max_length=10) or "labour"
    return {
        "started_at": _instant(p, "started_at"),
        "duration_minutes": minutes,
        "note": _text(p, "note", max_length=500),
        "kind": kind,
    }


def time_bounds(a: dict, received_at: datetime) -> tuple[datetime, str]:
    """The start of a time entry, and why it was moved: time that ends in the future (beyond the skew)
    when the server received it is kept, as many minutes ending then (rule 6: server time, flagged)."""
    start, minutes = a["started_at"], a["duration_minutes"]
    if start + timedelta(minutes=minutes) <= received_at + SKEW:
        return start, ""
    return received_at - timedelta(minutes=minutes), _(
        "The time entered ended in the future on the phone's clock; "
        "it was recorded as ending when it reached the server."
    )


def _apply_time(ctx: Ctx, a: dict) -> Done:
    start, _note = time_bounds(a, ctx.command.received_at)
    entry = services.time_entry_create(
        actor=ctx.actor,
        work_order_id=ctx.work_order.pk,
        started_at=start,
        duration_minutes=a["duration_minutes"],
        kind=a["kind"],
        note=a["note"],
        occurred_at=ctx.when,
        accepted_by=ctx.accepted_by,
    )
    return Done(_("%(minutes)s min recorded.") % {"minutes": entry.duration_minutes}, {"time_entry_id": entry.pk})


def _describe_time(a: dict) -> str:
    text = _("%(minutes)s min from %(start)s") % {
        "minutes": a.get("duration_minutes"),
        "start": a["started_at"].strftime("%-d %b %H:%M") if isinstance(a.get("started_at"), datetime) else "?",
    }
    return f"{text} · {a['note']}" if a.get("note") else text


def _parse_part(p: dict) -> dict:
    part_id = _int(p, "part_id", required=False)
    note = _text(p, "note", max_length=200)
    if part_id is None and not note:
        raise validation(_("Choose a part from the catalogue."), field="part_id")
    quantity = p.get("quantity")
    if quantity in (None, "") or isinstance(quantity, bool):
        raise validation(_("quantity is required."), field="quantity")
    return {"part_id": part_id, "quantity": str(quantity), "note": note}


def _check_part(ctx: Ctx, a: dict) -> None:
    if (
        a["part_id"] is not None
        and not Part.objects.filter(organization_id=ctx.actor.organization_id, pk=a["part_id"]).exists()
    ):
        raise validation(_("Unknown part (id %(id)s).") % {"id": a["part_id"]}, field="part_id")


def _apply_part(ctx: Ctx, a: dict) -> Done:
    description = a["note"]
    if a["part_id"] is not None and a["note"]:
        name = (
            Part.objects.filter(organization_id=ctx.actor.organization_id, pk=a["part_id"])
            .values_list("name", flat=True)
            .first()
        )
        description = f"{name} ({a['note']})"[:200]
    usage = services.part_usage_create(
        actor=ctx.actor,
        work_order_id=ctx.work_order.pk,
        part_id=a["part_id"],
        quantity=a["quantity"],
        description=description,
        occurred_at=ctx.when,
        accepted_by=ctx.accepted_by,
    )
    return Done(
        _("%(quantity)s × %(part)s recorded.")
        % {"quantity": f"{usage.quantity.normalize():f}", "part": usage.description},
        {"part_usage_id": usage.pk},
    )


def _describe_part(a: dict) -> str:
    name = ""
    if a.get("part_id") is not None:
        part = Part.objects.filter(pk=a["part_id"]).only("sku", "name").first()
        name = str(part) if part else f"#{a['part_id']}"
    text = f"{a.get('quantity')} × {name}".strip()
    return f"{text} ({a['note']})" if a.get("note") else text


def _parse_checklist(p: dict) -> dict:
    value = p.get("value")
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif value is not None and not isinstance(value, str | int | float | Decimal):
        raise validation(_("value must be text, a number or true/false."), field="value")
    return {"item_id": _int(p, "item_id"), "value": "" if value is None else str(value)}


def _check_checklist(ctx: Ctx, a: dict) -> None:
    if not ChecklistAnswer.objects.filter(work_order=ctx.work_order, pk=a["item_id"]).exists():
        raise validation(_("This checklist item is not on the work order."), field="item_id")


def _apply_checklist(ctx: Ctx, a: dict) -> Done:
    item = services.checklist_answer(
        actor=ctx.actor,
        work_order_id=ctx.work_order.pk,
        item_id=a["item_id"],
        value=a["value"],
        occurred_at=ctx.when,
        accepted_by=ctx.accepted_by,
    )
    return Done(_("“%(label)s” answered.") % {"label": item.label}, {"item_id": item.pk, "value": item.value})


def _describe_checklist(a: dict) -> str:
    label = ChecklistAnswer.objects.filter(pk=a.get("item_id")).values_list("label", flat=True).first()
    return f"{label or '#' + str(a.get('item_id'))}: {a.get('value') or _('(cleared)')}"


def _parse_note(p: dict) -> dict:
    return {"body": _text(p, "body", required=True), "is_client_visible": _bool(p, "is_client_visible")}


def _apply_note(ctx: Ctx, a: dict) -> Done:
    note = services.note_create(
        actor=ctx.actor,
        work_order_id=ctx.work_order.pk,
        body=a["body"],
        is_client_visible=a["is_client_visible"],
        occurred_at=ctx.when,
    )
    return Done(_("Note added."), {"note_id": note.pk})


# --- photo and signature -----------------------------------------------------------------------------


def _parse_photo(p: dict) -> dict:
    content_type = _text(p, "content_type", required=True, max_length=100).lower()
    if content_type not in PHOTO_TYPES:
        raise DomainError(
            ErrorCode.UNSUPPORTED_FILE_TYPE,
            _("A photo must be a JPEG, PNG or WebP image."),
            field="content_type",
        )
    data = _base64(p, "data_base64", limit=settings.FIXFLOW_MAX_UPLOAD_BYTES)
    name = "photo" + PHOTO_TYPES[content_type]
    try:
        sniffed = sniff(data[:8192], name)
    except DomainError:
        sniffed = None
    if sniffed not in PHOTO_TYPES:
        raise DomainError(
            ErrorCode.UNSUPPORTED_FILE_TYPE, _("The photo is not a JPEG, PNG or WebP image."), field="data_base64"
        )
    return {"caption": _text(p, "caption", max_length=200), "data": data, "content_type": sniffed, "size": len(data)}


def _apply_photo(ctx: Ctx, a: dict) -> Done:
    name = f"photo-{ctx.when:%Y%m%d-%H%M%S}{PHOTO_TYPES[a['content_type']]}"
    upload = SimpleUploadedFile(name, a["data"], content_type=a["content_type"])
    att = services.attachment_add(
        actor=ctx.actor,
        upload=upload,
        work_order_id=ctx.work_order.pk,
        caption=a["caption"],
        occurred_at=ctx.when,
        accepted_by=ctx.accepted_by,
    )
    result = {"attachment_id": att.pk, "url": reverse("attachment_download", args=[att.pk])}
    if att.thumbnail:
        result["thumbnail_url"] = reverse("attachment_thumbnail", args=[att.pk])
    return Done(_("Photo added."), result)


def _describe_photo(a: dict) -> str:
    size = a.get("size")
    text = _("Photo") + (f" ({size // 1024} KB)" if size else "")
    return f"{text}: {a['caption']}" if a.get("caption") else text


def _parse_signature(p: dict) -> dict:
    data = _base64(p, "data_base64", limit=SIGNATURE_MAX_BYTES)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise DomainError(ErrorCode.UNSUPPORTED_FILE_TYPE, _("The signature must be a PNG image."), field="data_base64")
    return {"signer_name": _text(p, "signer_name", required=True, max_length=200), "data": data}


def _apply_signature(ctx: Ctx, a: dict) -> Done:
    wo = services.signature_capture(
        actor=ctx.actor,
        work_order_id=ctx.work_order.pk,
        image_png=a["data"],
        signed_by_name=a["signer_name"],
        occurred_at=ctx.when,
        accepted_by=ctx.accepted_by,
    )
    return Done(
        _("Signed by %(name)s.") % {"name": wo.signed_by_name},
        {"signed_by_name": wo.signed_by_name, "url": reverse("work_order_signature_image", args=[wo.pk])},
    )


# --- meter reading -----------------------------------------------------------------------------------


def _parse_reading(p: dict) -> dict:
    value = p.get("value")
    if value in (None, "") or isinstance(value, bool):
        raise validation(_("value is required."), field="value")
    return {"meter_id": _int(p, "meter_id"), "value": str(value), "is_replacement": _bool(p, "is_replacement")}


def _check_reading(ctx: Ctx, a: dict) -> None:
    wo = ctx.work_order
    if not Meter.objects.filter(
        organization_id=wo.organization_id, pk=a["meter_id"], equipment_id=wo.equipment_id
    ).exists():
        raise validation(_("This meter is not on the work order's equipment."), field="meter_id")


def _apply_reading(ctx: Ctx, a: dict) -> Done:
    reading = meters.reading_record(
        actor=ctx.actor,
        meter_id=a["meter_id"],
        value=a["value"],
        read_at=ctx.when,
        kind=ReadingKind.REPLACEMENT if a["is_replacement"] else ReadingKind.READING,
        source=ReadingSource.PHONE,
        work_order_id=ctx.work_order.pk,
    )
    return Done(
        _("Reading %(value)s recorded.") % {"value": meters.format_amount(reading.value, reading.meter.unit)},
        {"reading_id": reading.pk},
    )


def _describe_reading(a: dict) -> str:
    meter = Meter.objects.filter(pk=a.get("meter_id")).only("name", "unit").first()
    name, unit = (meter.name, meter.unit) if meter else (f"#{a.get('meter_id')}", "")
    text = f"{name}: {a.get('value')} {unit}".strip()
    return text + (" " + _("(meter replaced)") if a.get("is_replacement") else "")


# --- field edits: a three-way merge --------------------------------------------------------------------


def _parse_fields(p: dict) -> dict:
    fields = p.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise validation(_("fields must name at least one field and its new value."), field="fields")
    unknown = sorted(set(fields) - set(MERGE_FIELDS))
    if unknown:
        raise validation(
            _("%(name)s cannot be changed from the field.") % {"name": unknown[0]}, field=f"fields.{unknown[0]}"
        )
    base = p.get("base")
    if base is not None and not isinstance(base, dict):
        raise validation(_("base must map field names to the values the phone started from."), field="base")
    return {
        "fields": {k: comparable(k, v) for k, v in fields.items()},
        "base": {k: comparable(k, v) for k, v in (base or {}).items()},
    }


def comparable(name: str, value) -> Any:
    """A field's value in one form for both sides of the comparison (instants as UTC ISO text)."""
    if value is None:
        return "" if name not in _INSTANT_FIELDS and name != "estimated_duration_minutes" else None
    if name in _INSTANT_FIELDS:
        instant = value if isinstance(value, datetime) else parse_instant(value)
        if instant is None:
            raise validation(_("%(name)s must be an ISO 8601 instant with an offset.") % {"name": name}, field=name)
        return instant.astimezone(UTC).isoformat()
    if name == "estimated_duration_minutes":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise validation(_("Enter the estimated duration in whole minutes."), field=name) from None
    return str(value).strip()


def field_values(wo: WorkOrder) -> dict[str, Any]:
    """The work order's mergeable fields in comparable form (what a bundle hands out as the base)."""
    return {name: comparable(name, getattr(wo, name)) for name in MERGE_FIELDS}


def merge(base: dict | None, server: dict, device: dict, *, unchanged_since_base: bool) -> tuple[dict, dict, list]:
    """Three-way merge of a field edit (rule 4): returns (fields to write, conflicts, fields already equal).

    A field the server did not change since the phone's base takes the phone's value; a field both changed
    to different values is a conflict. Without a known base, a field is taken only when nothing at all
    changed on the server since the phone's version."""
    write, conflicts, same = {}, {}, []
    for name, mine in device.items():
        theirs = server[name]
        if theirs == mine:
            same.append(name)
        elif base is not None and name in base and base[name] == theirs:
            write[name] = mine
        elif (base is None or name not in base) and unchanged_since_base:
            write[name] = mine
        else:
            conflicts[name] = {"base": (base or {}).get(name), "server": theirs, "device": mine}
    return write, conflicts, same


def service_data(fields: dict) -> dict:
    """Comparable values back to what ``work_order_update`` takes."""
    return {name: parse_instant(v) if name in _INSTANT_FIELDS and v else v for name, v in fields.items()}


def _apply_fields(ctx: Ctx, a: dict) -> Done:
    from .models import FieldBase

    wo, cmd = ctx.work_order, ctx.command
    if cmd.base_version is None:
        raise validation(_("A field edit needs the version it started from (base_version)."), field="base_version")
    base = a["base"] or None
    if base is None:
        known = (
            FieldBase.objects.filter(work_order=wo, version=cmd.base_version).values_list("values", flat=True).first()
        )
        base = known
    write, conflicts, same = merge(
        base, field_values(wo), a["fields"], unchanged_since_base=wo.version == cmd.base_version
    )
    if write:
        services.work_order_update(actor=ctx.actor, work_order_id=wo.pk, data=service_data(write))
    result = {"applied": sorted(write), "unchanged": sorted(same), "conflicts": sorted(conflicts)}
    if conflicts:
        names = ", ".join(_field_label(n) for n in sorted(conflicts))
        return Done(
            _("Also changed in the office: %(fields)s. Held for the office to decide.") % {"fields": names},
            result,
            conflict=conflicts,
        )
    return Done(_("Saved."), result)


def accept_conflicts(*, office: Actor, command: SyncCommand) -> WorkOrder:
    """The office takes the phone's values of the conflicting fields of a held field edit."""
    data = service_data({name: c["device"] for name, c in command.conflict.items()})
    return services.work_order_update(actor=office, work_order_id=command.work_order_id, data=data)


def _field_label(name: str) -> str:
    return str(WorkOrder._meta.get_field(name).verbose_name)


def _describe_fields(a: dict) -> str:
    return ", ".join(
        f"{capfirst(_field_label(k))}: {v if v not in (None, '') else '—'}" for k, v in a.get("fields", {}).items()
    )


HANDLERS: dict[str, Handler] = {
    CommandType.TRANSITION: Handler(
        _parse_transition, _apply_transition, _describe_transition, holds_when_closed=False
    ),
    CommandType.TIMER_START: Handler(lambda p: {}, _apply_timer_start, lambda a: _("Timer started")),
    CommandType.TIMER_STOP: Handler(
        lambda p: {}, _apply_timer_stop, lambda a: _("Timer stopped"), holds_when_closed=False
    ),
    CommandType.TIME_ADD: Handler(_parse_time, _apply_time, _describe_time),
    CommandType.PART_USE: Handler(_parse_part, _apply_part, _describe_part, check=_check_part),
    CommandType.CHECKLIST_ANSWER: Handler(
        _parse_checklist, _apply_checklist, _describe_checklist, check=_check_checklist
    ),
    CommandType.NOTE_ADD: Handler(_parse_note, _apply_note, lambda a: a.get("body", "")),
    CommandType.PHOTO_ADD: Handler(_parse_photo, _apply_photo, _describe_photo),
    CommandType.SIGNATURE_ADD: Handler(
        _parse_signature, _apply_signature, lambda a: _("Signed by %(name)s") % {"name": a.get("signer_name", "")}
    ),
    CommandType.READING_ADD: Handler(_parse_reading, _apply_reading, _describe_reading, check=_check_reading),
    CommandType.FIELD_UPDATE: Handler(_parse_fields, _apply_fields, _describe_fields),
}


def describe(command: SyncCommand, tz=None) -> str:
    """The command in plain words, for the office (its payload read again; an unreadable one as it is);
    instants in ``tz`` (the site's time zone) when given."""
    handler = HANDLERS.get(command.type)
    if handler is None:
        return command.type
    try:
        args = handler.parse(command.payload)
    except DomainError:
        return command.type
    if tz is not None:
        args = {k: v.astimezone(tz) if isinstance(v, datetime) else v for k, v in args.items()}
    return handler.describe(args)
