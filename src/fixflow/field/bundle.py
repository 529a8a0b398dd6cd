"""What a technician's phone keeps for offline work (DOMAIN.md §5 rule 1): the bundle of their assigned work
orders with the parts they are likely to need, the parts catalogue search, their devices. Reads only, scoped
to the acting technician, in a fixed number of queries whatever the number of work orders.

Serving a bundle also records the base values of each work order's editable fields at its version
(``FieldBase``): a field edit made offline is merged against them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.translation import gettext as _

from fixflow.assets.models import Meter
from fixflow.core import clock
from fixflow.core.errors import validation
from fixflow.core.pagination import Page, paginate
from fixflow.core.permissions import Actor, require
from fixflow.customers.models import Contact
from fixflow.inventory.models import Part
from fixflow.service import lifecycle, services
from fixflow.service.choices import Status
from fixflow.service.models import (
    Attachment,
    PartUsage,
    PlannedMaterial,
    TimeEntry,
    WorkOrder,
    WorkOrderHelper,
    WorkOrderNote,
)

from .choices import CommandStatus
from .commands import field_values
from .models import Device, FieldBase, SyncCommand

DONE_DAYS = 7  # work done (or cancelled) this recently stays on the phone
MAX_DAYS = 31
HISTORY = 5  # earlier work orders shown per equipment
BASE_KEEP_DAYS = 30
PARTS_LIMIT = 20
BUNDLE_PARTS = 200  # catalogue parts on the phone besides the planned ones: the most used first
BUNDLE_PARTS_DAYS = 90  # "most used": part usages recorded this recently
_COMPLETE = lifecycle.transition_for(Status.IN_PROGRESS, Status.COMPLETED)


def assigned_work_orders(*, actor: Actor, days: int = 3) -> QuerySet[WorkOrder]:
    """The actor's work orders (lead or helper): started or paused ones, new or planned ones due or scheduled
    within ``days`` (or not scheduled), and those completed, closed or cancelled in the last ``DONE_DAYS``."""
    require(actor, "field.sync", _("The field app is for technicians."))
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise validation(_("days must be between 1 and %(n)s.") % {"n": MAX_DAYS}, field="days")
    now = clock.now()
    horizon, since = now + timedelta(days=days), now - timedelta(days=DONE_DAYS)
    mine = Q(lead_technician_id=actor.user_id) | Exists(
        WorkOrderHelper.objects.filter(work_order=OuterRef("pk"), user_id=actor.user_id)
    )
    upcoming = Q(status__in=(Status.NEW, Status.PLANNED)) & (
        Q(scheduled_start=None) | Q(scheduled_start__lt=horizon) | Q(sla_due_at__lt=horizon)
    )
    started = Q(status__in=(Status.IN_PROGRESS, Status.ON_HOLD))
    done = (
        Q(status=Status.COMPLETED, completed_at__gte=since)
        | Q(status=Status.CLOSED, closed_at__gte=since)
        | Q(status=Status.CANCELLED, cancelled_at__gte=since)
    )
    return (
        WorkOrder.objects.filter(organization_id=actor.organization_id)
        .filter(mine)
        .filter(upcoming | started | done)
        .order_by(F("scheduled_start").asc(nulls_last=True), "id")
    )


def bundle(*, actor: Actor, days: int = 3) -> dict[str, Any]:
    """The technician's offline bundle (the shape of ``GET /api/v1/field/bundle``)."""
    work_orders = list(
        assigned_work_orders(actor=actor, days=days)
        .select_related("client", "site", "equipment", "lead_technician")
        .prefetch_related(
            Prefetch("client__contacts", queryset=Contact.objects.order_by("-is_primary", "name", "id")),
            "checklist",
            Prefetch("time_entries", queryset=TimeEntry.objects.select_related("technician")),
            Prefetch("part_usages", queryset=PartUsage.objects.order_by("created_at", "id")),
            Prefetch("notes", queryset=WorkOrderNote.objects.select_related("author")),
            Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id")),
        )
    )
    equipment_ids = {wo.equipment_id for wo in work_orders if wo.equipment_id}
    history = _history(equipment_ids)
    meters = _meters(equipment_ids)
    _record_bases(work_orders)
    return {
        "server_time": clock.now(),
        "days": days,
        "work_orders": [_work_order(actor, wo, history, meters) for wo in work_orders],
        "parts": _bundle_parts(actor, work_orders),
        "held": field_messages(actor=actor),
    }


def _bundle_parts(actor: Actor, work_orders: list[WorkOrder]) -> list[dict[str, Any]]:
    """The catalogue parts the phone searches offline, by name: those planned on the bundled work orders
    (even if deactivated since: the office chose them for the job), and ``BUNDLE_PARTS`` of the
    organization's active parts, the most used in the last ``BUNDLE_PARTS_DAYS`` days, then the others by
    name.

    At most three queries whatever the number of work orders: the usage counts (grouped in the database over one
    organization's recent usages), the rest of the catalogue by name when fewer parts were used, and the
    part rows."""
    org_id = actor.organization_id
    chosen = list(
        PartUsage.objects.filter(
            organization_id=org_id,
            part__is_active=True,
            created_at__gte=clock.now() - timedelta(days=BUNDLE_PARTS_DAYS),
        )
        .values("part_id")
        .annotate(uses=Count("id"))
        .order_by("-uses", "part__name", "part_id")
        .values_list("part_id", flat=True)[:BUNDLE_PARTS]
    )
    if len(chosen) < BUNDLE_PARTS:
        by_name = Part.objects.filter(organization_id=org_id, is_active=True).exclude(pk__in=chosen)
        chosen += by_name.order_by("name", "id").values_list("pk", flat=True)[: BUNDLE_PARTS - len(chosen)]
    planned = PlannedMaterial.objects.filter(work_order__in=[wo.pk for wo in work_orders], part__isnull=False)
    return list(
        Part.objects.filter(organization_id=org_id)
        .filter(Q(pk__in=chosen) | Q(pk__in=planned.values("part_id")))
        .order_by("name", "id")
        .values("id", "sku", "name", "unit", "barcode")
    )


def _work_order(actor: Actor, wo: WorkOrder, history: dict, meters: dict) -> dict[str, Any]:
    checklist = list(wo.checklist.all())
    facts = services.work_order_facts(actor, wo, is_assigned=True, checklist=checklist)  # prefetched rows
    return {
        "id": wo.pk,
        "number": wo.number,
        "title": wo.title,
        "description": wo.description,
        "status": wo.status,
        "priority": wo.priority,
        "version": wo.version,
        "hold_reason": wo.hold_reason,
        "status_reason": wo.status_reason,
        "resolution_notes": wo.resolution_notes,
        "scheduled_start": wo.scheduled_start,
        "scheduled_end": wo.scheduled_end,
        "due_at": wo.sla_due_at,
        "started_at": wo.started_at,
        "completed_at": wo.completed_at,
        "is_lead": wo.lead_technician_id == actor.user_id,
        "client": _client(wo),
        "site": _site(wo),
        "equipment": _equipment(wo, history),
        "checklist": [
            {"id": i.pk, "label": i.label, "kind": i.kind, "is_required": i.is_required, "value": i.value}
            for i in checklist
        ],
        "time_entries": [_time_entry(actor, e) for e in wo.time_entries.all()],
        "part_usages": [
            {
                "id": u.pk,
                "part_id": u.part_id,
                "description": u.description,
                "quantity": u.quantity,
                "unit": u.unit,
            }
            for u in wo.part_usages.all()
        ],
        "notes": [
            {
                "id": n.pk,
                "author": str(n.author) if n.author else "",
                "body": n.body,
                "is_client_visible": n.is_client_visible,
                "created_at": n.created_at,
            }
            for n in wo.notes.all()
        ],
        "photos": [_attachment(a) for a in wo.attachments.all()],
        "signature": _signature(wo),
        "requires_signature": wo.requires_signature,
        "missing": [
            {"guard": p.guard, "message": p.message, "field": p.field} for p in lifecycle.unmet_guards(_COMPLETE, facts)
        ],
        "transitions": [
            {
                "to": o.transition.target,
                "name": o.transition.name,
                "possible": o.is_possible,
                "problems": [p.message for p in o.problems],
            }
            for o in lifecycle.options(facts)
        ],
        "meters": meters.get(wo.equipment_id, []),
    }


def _client(wo: WorkOrder) -> dict[str, Any]:
    contacts = list(wo.client.contacts.all())
    contact = contacts[0] if contacts else None
    return {
        "id": wo.client_id,
        "name": wo.client.name,
        "phone": wo.client.phone,
        "contact_name": contact.name if contact else "",
        "contact_phone": (contact.phone if contact else "") or wo.client.phone,
    }


def _site(wo: WorkOrder) -> dict[str, Any]:
    s = wo.site
    return {
        "id": s.pk,
        "name": s.name,
        "address": s.address,
        "access_notes": s.access_notes,
        "timezone": s.timezone,
        "latitude": s.latitude,
        "longitude": s.longitude,
    }


def _equipment(wo: WorkOrder, history: dict) -> dict[str, Any] | None:
    e = wo.equipment
    if e is None:
        return None
    earlier = [h for h in history.get(e.pk, []) if h["id"] != wo.pk][:HISTORY]
    return {
        "id": e.pk,
        "name": e.name,
        "manufacturer": e.manufacturer,
        "model": e.model,
        "serial_number": e.serial_number,
        "status": e.status,
        "history": earlier,
    }


def _history(equipment_ids: set[int]) -> dict[int, list[dict]]:
    """The latest work orders of each piece of equipment, one query (a row number per equipment)."""
    if not equipment_ids:
        return {}
    ranked = (
        WorkOrder.objects.filter(equipment_id__in=equipment_ids)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("equipment_id")], order_by=[F("created_at").desc(), F("id").desc()]
            )
        )
        .filter(rank__lte=HISTORY + 1)
        .values("id", "equipment_id", "number", "title", "status", "created_at", "completed_at", "resolution_notes")
    )
    out: dict[int, list[dict]] = {}
    for row in sorted(ranked, key=lambda r: (r["equipment_id"], -r["created_at"].timestamp(), -r["id"])):
        out.setdefault(row.pop("equipment_id"), []).append(
            {
                "id": row["id"],
                "number": row["number"],
                "title": row["title"],
                "status": row["status"],
                "date": row["completed_at"] or row["created_at"],
                "resolution": row["resolution_notes"],
            }
        )
    return out


def _meters(equipment_ids: set[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for m in Meter.objects.filter(equipment_id__in=equipment_ids, is_active=True).order_by("name", "id"):
        out.setdefault(m.equipment_id, []).append(
            {
                "id": m.pk,
                "name": m.name,
                "unit": m.unit,
                "kind": m.kind,
                "last_value": m.last_value,
                "last_read_at": m.last_read_at,
            }
        )
    return out


def _time_entry(actor: Actor, e: TimeEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "technician": str(e.technician),
        "is_mine": e.technician_id == actor.user_id,
        "kind": e.kind,
        "started_at": e.started_at,
        "ended_at": e.ended_at,
        "duration_minutes": e.duration_minutes,
        "is_running": e.ended_at is None,
        "note": e.note,
    }


def _attachment(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "caption": a.caption,
        "name": a.original_name,
        "content_type": a.content_type,
        "is_image": a.is_image,
        "url": reverse("attachment_download", args=[a.pk]),
        "thumbnail_url": reverse("attachment_thumbnail", args=[a.pk]) if a.thumbnail else None,
        "created_at": a.created_at,
    }


def _signature(wo: WorkOrder) -> dict[str, Any] | None:
    if not wo.signature:
        return None
    return {
        "signed_by_name": wo.signed_by_name,
        "signed_at": wo.signed_at,
        "url": reverse("work_order_signature_image", args=[wo.pk]),
    }


def _record_bases(work_orders: list[WorkOrder]) -> None:
    """Keep each work order's field values at the version handed out (the base of a later field edit)."""
    if not work_orders:
        return
    FieldBase.objects.bulk_create(
        [
            FieldBase(organization_id=wo.organization_id, work_order=wo, version=wo.version, values=field_values(wo))
            for wo in work_orders
        ],
        ignore_conflicts=True,
    )
    FieldBase.objects.filter(
        work_order__in=work_orders, created_at__lt=clock.now() - timedelta(days=BASE_KEEP_DAYS)
    ).delete()


def field_messages(*, actor: Actor, since: datetime | None = None) -> list[dict[str, Any]]:
    """The actor's commands waiting for the office, and those the office decided lately (with its reason)."""
    since = since or clock.now() - timedelta(days=DONE_DAYS)
    rows = SyncCommand.objects.filter(organization_id=actor.organization_id, user_id=actor.user_id).filter(
        Q(status=CommandStatus.HELD, resolution="") | Q(resolved_at__gte=since)
    )
    return [
        {
            "mutation_id": c.mutation_id,
            "type": c.type,
            "work_order_id": c.work_order_id,
            "status": c.status,
            "hold_reason": c.hold_reason,
            "resolution": c.resolution,
            "message": c.message,
            "resolved_at": c.resolved_at,
        }
        for c in rows.order_by("received_at", "id")[:200]
    ]


def part_search(*, actor: Actor, q: str = "") -> list[Part]:
    """Active catalogue parts whose name or SKU contains ``q``, or whose barcode is ``q`` (20 at most)."""
    require(actor, "field.sync", _("The field app is for technicians."))
    q = (q or "").strip()[:100]
    qs = Part.objects.filter(organization_id=actor.organization_id, is_active=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(sku__icontains=q) | Q(barcode__iexact=q))
    return list(qs.order_by("name", "id")[:PARTS_LIMIT])


def device_list(*, actor: Actor, cursor: str | None = None, limit: int = 50) -> Page:
    """The actor's own devices (technicians), or every device of the organization (the office)."""
    require(actor, "field.sync", _("Devices are the field app's."))
    qs = (
        Device.objects.filter(organization_id=actor.organization_id)
        .select_related("user")
        .annotate(
            pending=Count("commands", filter=Q(commands__status=CommandStatus.PENDING)),
            held=Count("commands", filter=Q(commands__status=CommandStatus.HELD, commands__resolution="")),
        )
    )
    if not actor.can("field.review"):
        qs = qs.filter(user_id=actor.user_id)
    return paginate(qs, ordering=["-last_seen_at"], cursor=cursor, limit=limit)
