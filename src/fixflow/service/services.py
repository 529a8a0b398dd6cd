"""Writes on requests, work orders and what is recorded on them. One function per write.

Every function takes the acting user (``actor``) first, checks the role and scope, changes rows in
one transaction, writes the ``WorkOrderEvent`` rows of the timeline and raises ``DomainError`` when
the action is refused (nothing is written then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from fixflow.assets.choices import EquipmentStatus
from fixflow.assets.models import Equipment
from fixflow.core import clock
from fixflow.core.choices import Role
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.models import Membership
from fixflow.core.permissions import Actor, require
from fixflow.core.services import check_version, sequence_next
from fixflow.customers.models import Client, Site
from fixflow.inventory.models import Part
from fixflow.maintenance import generator as pm_generator
from fixflow.sla import engine as sla_engine

from . import lifecycle
from .choices import (
    ACTIVE_STATUSES,
    BillingStatus,
    ChecklistKind,
    EventKind,
    HoldReason,
    Priority,
    RequestSource,
    RequestStatus,
    Status,
    TimeKind,
    WorkOrderType,
)
from .models import (
    Attachment,
    ChecklistAnswer,
    PartUsage,
    PlannedMaterial,
    TimeEntry,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderHelper,
    WorkOrderNote,
    WorkOrderTemplate,
    WorkRequest,
)

# ---------------------------------------------------------------------------------------------
# shared lookups, scoped to the actor's organization


def _in_org(actor: Actor, model, pk, what: str, field: str, **scope):
    """The row of the actor's organization (narrowed by ``scope``), or a validation error naming the field."""
    if pk in (None, ""):
        return None
    try:
        int(pk)
    except (TypeError, ValueError):
        raise validation(f"Unknown {what} (id {pk}).", field=field) from None
    obj = model.objects.filter(organization_id=actor.organization_id, pk=pk, **scope).first()
    if obj is None:
        raise validation(f"Unknown {what} (id {pk}).", field=field)
    return obj


def _choice(value, choices, field: str, default=None):
    if value in (None, ""):
        if default is None:
            raise validation(f"Choose a {field.replace('_', ' ')}.", field=field)
        return default
    if value not in choices.values:
        raise validation(
            f"{value!r} is not a valid {field.replace('_', ' ')}; use one of {', '.join(choices.values)}.", field=field
        )
    return choices(value)


def _text(value, field: str, *, required: bool = False, max_length: int | None = None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise validation(f"The {field.replace('_', ' ')} is required.", field=field)
    if max_length and len(value) > max_length:
        raise validation(f"Keep the {field.replace('_', ' ')} under {max_length} characters.", field=field)
    return value


def _decimal(value, field: str, *, minimum: Decimal | None = Decimal(0), positive: bool = False) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise validation(f"Enter a number for {field.replace('_', ' ')}.", field=field) from None
    if not d.is_finite():
        raise validation(f"Enter a number for {field.replace('_', ' ')}.", field=field)
    if positive and d <= 0:
        raise validation(f"The {field.replace('_', ' ')} must be more than zero.", field=field)
    if minimum is not None and d < minimum:
        raise validation(f"The {field.replace('_', ' ')} cannot be negative.", field=field)
    if abs(d) >= Decimal(10) ** 9:
        raise validation(f"The {field.replace('_', ' ')} is too large.", field=field)
    return d


@dataclass(frozen=True)
class Location:
    client: Client
    site: Site
    equipment: Equipment | None


def _location(actor: Actor, client_id, site_id, equipment_id) -> Location:
    """Resolve client, site and equipment; they must belong together (and to the client user).

    A client user's lookups are narrowed to their own client first, so the errors never name another
    client's site or equipment.
    """
    own = actor.is_client
    site = _in_org(actor, Site, site_id, "site", "site", **({"client_id": actor.client_id} if own else {}))
    if site is None:
        raise validation("Choose the site where the work is needed.", field="site")
    client = (
        _in_org(actor, Client, client_id, "client", "client", **({"id": actor.client_id} if own else {}))
        if client_id not in (None, "")
        else site.client
    )
    if site.client_id != client.pk:
        raise validation(f"The site {site.name} does not belong to {client.name}.", field="site")
    equipment = _in_org(
        actor,
        Equipment,
        equipment_id,
        "equipment",
        "equipment",
        **({"site__client_id": actor.client_id} if own else {}),
    )
    if equipment is not None and equipment.site_id != site.pk:
        raise validation(f"{equipment.name} is not at {site.name}.", field="equipment")
    if actor.is_client and client.pk != actor.client_id:
        raise validation("Unknown site.", field="site")
    return Location(client, site, equipment)


def _technician(actor: Actor, user_id, field: str):
    if user_id in (None, ""):
        return None
    m = (
        Membership.objects.select_related("user")
        .filter(
            organization_id=actor.organization_id,
            user_id=user_id,
            is_active=True,
            role__in=[Role.TECHNICIAN, Role.DISPATCHER, Role.ADMIN],
        )
        .first()
    )
    if m is None:
        raise validation("Choose an active technician of this organization.", field=field)
    return m.user


def _event(
    wo: WorkOrder, actor: Actor | None, kind: str, *, occurred_at: datetime | None = None, **kw
) -> WorkOrderEvent:
    now = clock.now()
    return WorkOrderEvent.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        actor=actor.user if actor else None,
        kind=kind,
        occurred_at=occurred_at or now,
        recorded_at=now,
        **kw,
    )


def _bump(wo: WorkOrder, *fields: str) -> None:
    wo.version += 1
    wo.save(update_fields=["version", "updated_at", *fields])


def _is_assigned(actor: Actor, wo: WorkOrder) -> bool:
    if wo.lead_technician_id == actor.user_id:
        return True
    return WorkOrderHelper.objects.filter(work_order=wo, user_id=actor.user_id).exists()


def _locked_work_order(actor: Actor, work_order_id) -> WorkOrder:
    """The work order, locked FOR UPDATE, if the actor may see it; 404 otherwise."""
    from .selectors import as_id, work_order_queryset

    wo = work_order_queryset(actor=actor).select_for_update(of=("self",)).filter(pk=as_id(work_order_id)).first()
    if wo is None:
        raise not_found("Work order")
    return wo


def _require_recording(actor: Actor, wo: WorkOrder) -> None:
    """Time, parts, notes, checklist and files: office roles, or a technician assigned to it."""
    require(actor, "work_orders.record")
    if not actor.can("work_orders.record_any") and not _is_assigned(actor, wo):
        raise DomainError(
            ErrorCode.PERMISSION_DENIED, "Only the technicians assigned to this work order may record work on it."
        )


def _require_open_for_recording(wo: WorkOrder, what: str) -> None:
    if wo.status in (Status.CLOSED, Status.CANCELLED):
        raise DomainError(
            ErrorCode.CONFLICT,
            f"The work order is {wo.get_status_display().lower()}: {what} can no longer be changed. Reopen it first.",
        )
    if wo.billing_status == BillingStatus.INVOICED:
        raise DomainError(ErrorCode.CONFLICT, f"The work order has been invoiced: {what} can no longer be changed.")


def _require_recordable(actor: Actor, wo: WorkOrder, what: str, accepted_by: Actor | None) -> None:
    """The usual recording checks, or, for a fact held from the field (DOMAIN.md §5 rule 3), the office
    member accepting it: then the technician's fact is recorded even on closed, cancelled or invoiced work
    (on invoiced work it becomes a late fact of the revenue-leakage report; no invoice changes)."""
    if accepted_by is None:
        _require_recording(actor, wo)
        _require_open_for_recording(wo, what)
        return
    require(accepted_by, "work_orders.record_any", "Only the office accepts work held from the field.")
    if accepted_by.organization_id != wo.organization_id:
        raise not_found("Work order")


def _require_not_on_invoice(fact, what: str) -> None:
    """A time entry or part usage on an invoice line that no credit note released is frozen (billing rule 1)."""
    line = fact.invoice_lines.filter(released=False).select_related("invoice").first()
    if line is None:
        return
    if line.invoice.status == "draft":
        raise DomainError(ErrorCode.CONFLICT, f"This {what} is on a draft invoice: remove its line there first.")
    raise DomainError(
        ErrorCode.CONFLICT, f"This {what} is invoiced: it can no longer be changed; credit the invoice first."
    )


# ---------------------------------------------------------------------------------------------
# work requests


@transaction.atomic
def work_request_create(
    *,
    actor: Actor,
    title: str,
    site_id,
    client_id=None,
    equipment_id=None,
    description: str = "",
    suggested_priority: str | None = None,
    source: str = RequestSource.WEB,
) -> WorkRequest:
    """Report a problem. Anyone in the organization may; client users only for their own sites."""
    require(actor, "requests.create")
    loc = _location(actor, client_id, site_id, equipment_id)
    req = WorkRequest.objects.create(
        organization_id=actor.organization_id,
        source=_choice(source, RequestSource, "source", RequestSource.WEB),
        requester=actor.user,
        requester_name=actor.user.full_name,
        requester_email=actor.user.email,
        client=loc.client,
        site=loc.site,
        equipment=loc.equipment,
        title=_text(title, "title", required=True, max_length=200),
        description=_text(description, "description", max_length=20000),
        suggested_priority=_choice(suggested_priority, Priority, "suggested_priority", Priority.NORMAL),
    )
    return req


def _locked_request(actor: Actor, request_id) -> WorkRequest:
    from .selectors import as_id, work_request_queryset

    req = work_request_queryset(actor=actor).select_for_update(of=("self",)).filter(pk=as_id(request_id)).first()
    if req is None:
        raise not_found("Work request")
    return req


def _require_new_request(req: WorkRequest) -> None:
    if req.status != RequestStatus.NEW:
        raise DomainError(ErrorCode.INVALID_TRANSITION, f"This request is already {req.get_status_display().lower()}.")


@transaction.atomic
def work_request_reject(*, actor: Actor, request_id, reason: str) -> WorkRequest:
    """Turn a request down with a reason the requester will see."""
    require(actor, "requests.triage")
    req = _locked_request(actor, request_id)
    _require_new_request(req)
    req.rejection_reason = _text(reason, "reason", required=True, max_length=2000)
    req.status, req.decided_by, req.decided_at = RequestStatus.REJECTED, actor.user, clock.now()
    req.version += 1
    req.save()
    return req


@transaction.atomic
def work_request_mark_duplicate(*, actor: Actor, request_id, duplicate_of_id) -> WorkRequest:
    """Close a request as a duplicate of another one of the same organization."""
    require(actor, "requests.triage")
    req = _locked_request(actor, request_id)
    _require_new_request(req)
    original = _in_org(actor, WorkRequest, duplicate_of_id, "request", "duplicate_of")
    if original is None or original.pk == req.pk:
        raise validation("Choose the request this one duplicates.", field="duplicate_of")
    req.duplicate_of, req.status = original, RequestStatus.DUPLICATE
    req.decided_by, req.decided_at = actor.user, clock.now()
    req.version += 1
    req.save()
    return req


@transaction.atomic
def work_request_convert(
    *,
    actor: Actor,
    request_id,
    template_id=None,
    priority: str | None = None,
    type: str | None = None,
    title: str | None = None,
    equipment_id=None,
    lead_technician_id=None,
    scheduled_start=None,
    scheduled_end=None,
) -> WorkOrder:
    """Accept a request and create its work order, keeping its text and attachments.

    The request row is locked, so converting twice (a double click, a retried API call) creates one
    work order: the second call is refused with INVALID_TRANSITION.
    """
    require(actor, "requests.triage")
    req = _locked_request(actor, request_id)
    _require_new_request(req)
    wo = work_order_create(
        actor=actor,
        title=title or req.title,
        description=req.description,
        client_id=req.client_id,
        site_id=req.site_id,
        equipment_id=equipment_id if equipment_id not in (None, "") else req.equipment_id,
        template_id=template_id,
        priority=priority or req.suggested_priority,
        type=type,
        lead_technician_id=lead_technician_id,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        request=req,
    )
    for att in req.attachments.all():
        Attachment.objects.create(
            organization_id=att.organization_id,
            work_order=wo,
            file=att.file.name,
            thumbnail=att.thumbnail.name if att.thumbnail else None,
            original_name=att.original_name,
            content_type=att.content_type,
            size_bytes=att.size_bytes,
            caption=att.caption,
            is_client_visible=att.is_client_visible,
            uploaded_by=att.uploaded_by,
        )
    req.status, req.decided_by, req.decided_at = RequestStatus.ACCEPTED, actor.user, clock.now()
    req.version += 1
    req.save()
    return wo


# ---------------------------------------------------------------------------------------------
# work orders: create and edit


def _number(actor: Actor) -> str:
    org = actor.organization
    year = clock.now().astimezone(org.tzinfo).year
    n = sequence_next(organization=org, key=f"work_order:{year}")
    return f"{org.work_order_prefix}-{year}-{n:05d}"


def _check_schedule(start, end) -> None:
    if start and end and end < start:
        raise validation("The scheduled end must be after the start.", field="scheduled_end")


@transaction.atomic
def work_order_create(
    *,
    actor: Actor,
    title: str | None = None,
    site_id,
    client_id=None,
    equipment_id=None,
    template_id=None,
    description: str = "",
    type: str | None = None,
    priority: str | None = None,
    lead_technician_id=None,
    helper_ids=(),
    scheduled_start: datetime | None = None,
    scheduled_end: datetime | None = None,
    estimated_duration_minutes: int | None = None,
    is_billable: bool | None = None,
    reports_equipment_down: bool = False,
    request: WorkRequest | None = None,
    follow_up_of: WorkOrder | None = None,
    requires_equipment: bool | None = None,
    sla_start: datetime | None = None,
) -> WorkOrder:
    """Create a work order, from a template when given (checklist, parts, requirements are copied).

    The SLA clocks start at ``sla_start`` (preventive work: its due instant), else when the request
    arrived, else now.

    Side effects: a CREATED event; the equipment is marked down when ``reports_equipment_down``.
    """
    require(actor, "work_orders.create")
    loc = _location(actor, client_id, site_id, equipment_id)
    template = _in_org(actor, WorkOrderTemplate, template_id, "template", "template")
    if template is not None and not template.is_active:
        raise validation(f"The template {template.name} is no longer in use.", field="template")
    if not title and template is not None:
        title = template.name
    _check_schedule(scheduled_start, scheduled_end)
    if requires_equipment is None:
        requires_equipment = template.requires_equipment if template else True
    if requires_equipment and loc.equipment is None:
        raise validation(
            "Choose the equipment the work is done on (or a template for site-level work).", field="equipment"
        )
    lead = _technician(actor, lead_technician_id, "lead_technician")
    wo = WorkOrder.objects.create(
        organization_id=actor.organization_id,
        number=_number(actor),
        title=_text(title, "title", required=True, max_length=200),
        description=_text(description, "description", max_length=20000),
        type=_choice(type, WorkOrderType, "type", template.type if template else WorkOrderType.CORRECTIVE),
        priority=_choice(priority, Priority, "priority", template.default_priority if template else Priority.NORMAL),
        client=loc.client,
        site=loc.site,
        equipment=loc.equipment,
        template=template,
        request=request,
        follow_up_of=follow_up_of,
        lead_technician=lead,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end
        or (
            scheduled_start
            + timedelta(
                minutes=estimated_duration_minutes or (template.estimated_duration_minutes if template else 0) or 60
            )
            if scheduled_start
            else None
        ),
        estimated_duration_minutes=estimated_duration_minutes
        or (template.estimated_duration_minutes if template else None),
        is_billable=is_billable if is_billable is not None else (template.is_billable if template else True),
        requires_equipment=requires_equipment,
        requires_signature=template.requires_signature if template else False,
        reports_equipment_down=bool(reports_equipment_down and loc.equipment),
        created_by=actor.user,
    )
    _set_helpers(actor, wo, helper_ids, lead)
    if template is not None:
        ChecklistAnswer.objects.bulk_create(
            [
                ChecklistAnswer(
                    organization_id=wo.organization_id,
                    work_order=wo,
                    position=i.position,
                    label=i.label,
                    kind=i.kind,
                    is_required=i.is_required,
                )
                for i in template.checklist_items.all()
            ]
        )
        PlannedMaterial.objects.bulk_create(
            [
                PlannedMaterial(
                    organization_id=wo.organization_id,
                    work_order=wo,
                    part=tp.part,
                    description=tp.part.name,
                    quantity=tp.quantity,
                    unit=tp.part.unit,
                )
                for tp in template.parts.select_related("part")
            ]
        )
    _event(
        wo,
        actor,
        EventKind.CREATED,
        to_status=Status.NEW,
        data={
            "from_request": request.pk if request else None,
            "template": template.name if template else None,
            "follow_up_of": follow_up_of.number if follow_up_of else None,
        },
    )
    if wo.reports_equipment_down:
        _equipment_refresh_status(wo.equipment_id)
    # The SLA clocks start when the client asked: the request's arrival, or now.
    sla_engine.apply(wo, start=sla_start or (request.created_at if request else None))
    if lead is not None:
        sla_engine.on_assigned(wo, when=clock.now())
    return wo


def _set_helpers(actor: Actor, wo: WorkOrder, helper_ids, lead) -> bool:
    wanted = {h.pk for h in (_technician(actor, hid, "helpers") for hid in helper_ids or ()) if h}
    if lead is not None:
        wanted.discard(lead.pk)
    current = set(WorkOrderHelper.objects.filter(work_order=wo).values_list("user_id", flat=True))
    if wanted == current:
        return False
    WorkOrderHelper.objects.filter(work_order=wo, user_id__in=current - wanted).delete()
    WorkOrderHelper.objects.bulk_create(
        [WorkOrderHelper(organization_id=wo.organization_id, work_order=wo, user_id=u) for u in wanted - current]
    )
    return True


def _refuse_waiving_without_reason(wo: WorkOrder) -> None:
    """Turning billable work with billable time, parts or charges recorded into non-billable work would let
    it go unbilled without a word: that is marking it no charge, which needs a reason (billing, issue 5).
    Work already marked no charge keeps its reason, so it may become non-billable."""
    if wo.billing_status == BillingStatus.NO_CHARGE:
        return
    recorded = (
        wo.time_entries.filter(is_billable=True).exists()
        or wo.part_usages.filter(is_billable=True).exists()
        or wo.charges.filter(is_billable=True).exists()
    )
    if recorded:
        raise DomainError(
            ErrorCode.CONFLICT,
            "Billable time, parts or charges are recorded on this work order: to bill nothing, mark it "
            "“No charge” and say why.",
            field="is_billable",
        )


EDITABLE_FIELDS = {
    "title",
    "description",
    "type",
    "priority",
    "equipment_id",
    "is_billable",
    "reports_equipment_down",
    "lead_technician_id",
    "helper_ids",
    "scheduled_start",
    "scheduled_end",
    "estimated_duration_minutes",
    "resolution_notes",
}


@transaction.atomic
def work_order_update(
    *, actor: Actor, work_order_id, data: dict[str, Any], expected_version: int | None = None
) -> WorkOrder:
    """Edit details, planning (technicians, schedule) or resolution notes of a work order.

    Office roles edit everything while the work order is not closed or cancelled; an assigned
    technician may only write the resolution notes. A stale ``expected_version`` is refused
    (STALE_VERSION). Writes one UPDATED / ASSIGNED / SCHEDULED event per kind of change.
    """
    wo = _locked_work_order(actor, work_order_id)
    check_version(wo, expected_version)
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise validation(f"{name} cannot be changed here.", field=name)
    office_fields = set(data) - {"resolution_notes"}
    if office_fields:
        require(actor, "work_orders.plan")
    else:
        _require_recording(actor, wo)
    if wo.status in (Status.CLOSED, Status.CANCELLED):
        raise DomainError(ErrorCode.CONFLICT, f"A {wo.get_status_display().lower()} work order cannot be edited.")

    changes: dict[str, list] = {}

    def put(name: str, value):
        old = getattr(wo, name)
        if old != value:
            changes[name] = [_plain(old), _plain(value)]
            setattr(wo, name, value)

    if "title" in data:
        put("title", _text(data["title"], "title", required=True, max_length=200))
    if "description" in data:
        put("description", _text(data["description"], "description", max_length=20000))
    if "type" in data:
        put("type", _choice(data["type"], WorkOrderType, "type"))
    if "priority" in data:
        put("priority", _choice(data["priority"], Priority, "priority"))
    if "is_billable" in data:
        if wo.billing_status in (BillingStatus.INVOICED,):
            raise DomainError(ErrorCode.CONFLICT, "An invoiced work order stays billable.")
        is_billable = bool(data["is_billable"])
        if wo.is_billable and not is_billable:
            _refuse_waiving_without_reason(wo)
        put("is_billable", is_billable)
    if "equipment_id" in data:
        eq = _in_org(actor, Equipment, data["equipment_id"], "equipment", "equipment")
        if eq is not None and eq.site_id != wo.site_id:
            raise validation(f"{eq.name} is not at {wo.site.name}.", field="equipment")
        if eq is None and wo.requires_equipment:
            raise validation("This type of work needs the equipment it is done on.", field="equipment")
        put("equipment_id", eq.pk if eq else None)
    if "reports_equipment_down" in data:
        put("reports_equipment_down", bool(data["reports_equipment_down"]) and wo.equipment_id is not None)
    if "estimated_duration_minutes" in data:
        value = data["estimated_duration_minutes"]
        try:
            value = int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            raise validation(
                "Enter the estimated duration in whole minutes.", field="estimated_duration_minutes"
            ) from None
        if value is not None and value <= 0:
            raise validation("The estimated duration must be more than zero.", field="estimated_duration_minutes")
        put("estimated_duration_minutes", value)
    if "resolution_notes" in data:
        put("resolution_notes", _text(data["resolution_notes"], "resolution_notes", max_length=20000))

    schedule: dict[str, list] = {}
    for name in ("scheduled_start", "scheduled_end"):
        if name in data and getattr(wo, name) != data[name]:
            schedule[name] = [_plain(getattr(wo, name)), _plain(data[name])]
            setattr(wo, name, data[name])
    _check_schedule(wo.scheduled_start, wo.scheduled_end)

    assignment: dict[str, Any] = {}
    if "lead_technician_id" in data:
        lead = _technician(actor, data["lead_technician_id"], "lead_technician")
        if wo.lead_technician_id != (lead.pk if lead else None):
            assignment["lead_technician"] = [
                str(wo.lead_technician) if wo.lead_technician else None,
                str(lead) if lead else None,
            ]
            wo.lead_technician = lead
        if lead is None and wo.status != Status.NEW:
            raise validation("A planned or started work order needs a lead technician.", field="lead_technician")
    if "helper_ids" in data and _set_helpers(actor, wo, data["helper_ids"], wo.lead_technician):
        assignment["helpers"] = sorted(str(u) for u in wo.helpers.all())
    elif "lead_technician_id" in data and wo.lead_technician_id:
        WorkOrderHelper.objects.filter(work_order=wo, user_id=wo.lead_technician_id).delete()

    if not (changes or schedule or assignment):
        return wo
    wo.version += 1
    wo.save()
    if changes:
        _event(wo, actor, EventKind.UPDATED, data=changes)
    if schedule:
        _event(wo, actor, EventKind.SCHEDULED, data=schedule)
    if assignment:
        _event(wo, actor, EventKind.ASSIGNED, data=assignment)
    if "reports_equipment_down" in changes or "equipment_id" in changes:
        _equipment_refresh_status(wo.equipment_id)
        if "equipment_id" in changes and changes["equipment_id"][0]:
            _equipment_refresh_status(changes["equipment_id"][0])
    if "priority" in changes:
        sla_engine.on_priority_changed(wo)
    if "lead_technician" in assignment:
        sla_engine.on_assigned(wo, when=clock.now())
    return wo


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# ---------------------------------------------------------------------------------------------
# the lifecycle


def work_order_facts(
    actor: Actor,
    wo: WorkOrder,
    *,
    now: datetime | None = None,
    is_assigned: bool | None = None,
    checklist: list | None = None,
) -> lifecycle.Facts:
    """Everything the lifecycle guards need to know, read from the database; a caller that has read the
    work order's checklist rows already (``checklist``) or knows the actor is assigned (``is_assigned``,
    e.g. the technician's own bundle) passes them and saves the queries."""
    if checklist is not None:
        unanswered = tuple(i.label for i in checklist if i.is_required and not i.value)
    else:
        unanswered = tuple(wo.checklist.filter(is_required=True, value="").values_list("label", flat=True))
    return lifecycle.Facts(
        status=Status(wo.status),
        now=now or clock.now(),
        actor_role=actor.role,
        actor_user_id=actor.user_id,
        actor_is_assigned=_is_assigned(actor, wo) if is_assigned is None else is_assigned,
        has_assignee=wo.lead_technician_id is not None,
        has_scheduled_start=wo.scheduled_start is not None,
        hold_reason=wo.hold_reason,
        resolution_notes=wo.resolution_notes,
        unanswered_required_items=unanswered,
        requires_equipment=wo.requires_equipment,
        has_equipment=wo.equipment_id is not None,
        requires_signature=wo.requires_signature,
        has_signature=bool(wo.signature),
        completed_by_id=wo.completed_by_id,
        requires_four_eyes_review=actor.organization.requires_four_eyes_review,
        closed_at=wo.closed_at,
        reopen_window_days=actor.organization.reopen_window_days,
        billing_status=wo.billing_status,
    )


@transaction.atomic
def work_order_transition(
    *,
    actor: Actor,
    work_order_id,
    to: str,
    reason: str = "",
    hold_reason: str = "",
    resolution_notes: str | None = None,
    expected_version: int | None = None,
    occurred_at: datetime | None = None,
) -> WorkOrder:
    """Move a work order to another status: the only writer of ``WorkOrder.status``.

    Locks the work order row (FOR UPDATE). Refuses with INVALID_TRANSITION when the table has no such
    edge, PERMISSION_DENIED when the actor may not take it, VALIDATION when a required reason is
    missing, GUARD_FAILED (with every unmet guard in ``details``) otherwise. On success: updates the
    timestamps, stops running timers on completion, sets the billing status on closing, refreshes the
    equipment's status and writes a TRANSITION event. ``occurred_at`` is the time it really happened
    (an offline phone's clock); the caller has checked it is within bounds.
    """
    wo = _locked_work_order(actor, work_order_id)
    check_version(wo, expected_version)
    source = Status(wo.status)
    try:
        target = Status(to)
    except ValueError:
        raise validation(f"{to!r} is not a status; use one of {', '.join(Status.values)}.", field="to") from None
    t = lifecycle.transition_for(source, target)
    if t is None:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"A work order that is {source.label.lower()} cannot become {target.label.lower()}.",
            field="to",
            details={"from": source, "to": target},
        )
    now = clock.now()
    when = occurred_at or now
    facts = work_order_facts(actor, wo, now=now)
    if not lifecycle.may_take(t, facts):
        if actor.role == Role.TECHNICIAN and t.assigned_technician:
            msg = "Only the technicians assigned to this work order may do that."
        else:
            msg = f"Your role ({actor.role.label}) may not {t.name} a work order."
        raise DomainError(ErrorCode.PERMISSION_DENIED, msg)
    reason = _text(reason, "reason", max_length=2000)
    if t.reason_required and not reason:
        raise validation(
            f"Say why the work order is being {'cancelled' if t.name == 'cancel' else 'reopened'}.", field="reason"
        )
    if target == Status.ON_HOLD:
        wo.hold_reason = _choice(hold_reason, HoldReason, "hold_reason")
    if resolution_notes is not None:
        wo.resolution_notes = _text(resolution_notes, "resolution_notes", max_length=20000)
    facts = work_order_facts(actor, wo, now=now)
    problems = lifecycle.unmet_guards(t, facts)
    if problems:
        raise DomainError(
            ErrorCode.GUARD_FAILED,
            " ".join(p.message for p in problems),
            field=problems[0].field,
            details={"unmet": [{"guard": p.guard, "message": p.message, "field": p.field} for p in problems]},
        )

    wo.status = target
    if target != Status.ON_HOLD:
        wo.hold_reason = ""
    if t.reason_required or target == Status.ON_HOLD:
        wo.status_reason = reason
    if target == Status.IN_PROGRESS and wo.started_at is None:
        wo.started_at = when
    if target == Status.COMPLETED:
        wo.completed_at, wo.completed_by = when, actor.user
        _stop_timers(wo, when)
    if target == Status.CLOSED:
        wo.closed_at, wo.closed_by = when, actor.user
        if wo.is_billable and wo.billing_status == BillingStatus.NOT_BILLABLE:
            wo.billing_status = BillingStatus.TO_INVOICE
    if source == Status.CLOSED:  # reopened: not ready to invoice any more
        wo.closed_at, wo.closed_by = None, None
        if wo.billing_status == BillingStatus.TO_INVOICE:
            wo.billing_status = BillingStatus.NOT_BILLABLE
    if t.name == "reopen":  # a new resolution cycle; closing keeps who completed it and when
        wo.completed_at, wo.completed_by = None, None
    if target == Status.CANCELLED:
        wo.cancelled_at = when
        _stop_timers(wo, when)
    if target == Status.NEW and source == Status.PLANNED:
        wo.lead_technician = None
        WorkOrderHelper.objects.filter(work_order=wo).delete()
    wo.version += 1
    wo.save()
    _event(
        wo,
        actor,
        EventKind.TRANSITION,
        from_status=source,
        to_status=target,
        reason=reason,
        occurred_at=when,
        data={"hold_reason": wo.hold_reason} if target == Status.ON_HOLD else {},
    )
    if wo.equipment_id and wo.reports_equipment_down:
        _equipment_refresh_status(wo.equipment_id)
    sla_engine.on_transition(wo, source=source, target=target, name=t.name, when=when, now=now)
    pm_generator.on_work_order_status(wo, target=target, when=when)
    return wo


def _stop_timers(wo: WorkOrder, when: datetime) -> None:
    for entry in TimeEntry.objects.filter(work_order=wo, ended_at=None):
        entry.ended_at = max(when, entry.started_at)
        entry.duration_minutes = _minutes(entry.started_at, entry.ended_at)
        entry.save(update_fields=["ended_at", "duration_minutes"])


def _equipment_refresh_status(equipment_id) -> None:
    """Equipment is down while any work order reporting it down is still active (open or on hold)."""
    if not equipment_id:
        return
    eq = Equipment.objects.select_for_update().get(pk=equipment_id)
    if eq.status == EquipmentStatus.RETIRED:
        return
    down = WorkOrder.objects.filter(
        equipment_id=equipment_id, reports_equipment_down=True, status__in=ACTIVE_STATUSES
    ).exists()
    wanted = EquipmentStatus.DOWN if down else EquipmentStatus.OPERATIONAL
    if eq.status != wanted:
        eq.status = wanted
        eq.version += 1
        eq.save(update_fields=["status", "version", "updated_at"])


@transaction.atomic
def work_order_follow_up(*, actor: Actor, work_order_id, reason: str) -> WorkOrder:
    """Create a callback work order linked to a closed (or completed) one, e.g. after the reopen window."""
    require(actor, "work_orders.create")
    original = _locked_work_order(actor, work_order_id)
    reason = _text(reason, "reason", required=True, max_length=2000)
    if original.status not in (Status.COMPLETED, Status.CLOSED):
        raise DomainError(
            ErrorCode.CONFLICT,
            f"A follow-up is for completed or closed work; this one is still {original.get_status_display().lower()}.",
        )
    wo = work_order_create(
        actor=actor,
        title=f"Follow-up: {original.title}"[:200],
        description=reason,
        client_id=original.client_id,
        site_id=original.site_id,
        equipment_id=original.equipment_id,
        template_id=None,
        type=original.type,
        priority=original.priority,
        follow_up_of=original,
        requires_equipment=original.requires_equipment,
    )
    _event(original, actor, EventKind.FOLLOW_UP, reason=reason, data={"follow_up": wo.number})
    return wo


@transaction.atomic
def work_order_set_billing(*, actor: Actor, work_order_id, billing_status: str, reason: str = "") -> WorkOrder:
    """Mark billable work as ``no_charge`` (reason required) or back to ``to_invoice``.

    ``invoiced`` is set by the billing app when an invoice is issued, never here.
    """
    require(actor, "work_orders.billing")
    wo = _locked_work_order(actor, work_order_id)
    target = _choice(billing_status, BillingStatus, "billing_status")
    if target not in (BillingStatus.NO_CHARGE, BillingStatus.TO_INVOICE):
        raise validation("Only 'no_charge' and 'to_invoice' can be set by hand.", field="billing_status")
    if wo.billing_status == BillingStatus.INVOICED:
        raise DomainError(ErrorCode.CONFLICT, "This work order has been invoiced; use a credit note.")
    if not wo.is_billable:
        raise DomainError(ErrorCode.CONFLICT, "This work order is not billable.")
    if target == BillingStatus.NO_CHARGE:
        reason = _text(reason, "reason", required=True, max_length=2000)
    elif wo.status != Status.CLOSED:
        raise DomainError(ErrorCode.CONFLICT, "Only closed work can be sent to invoicing.")
    before = wo.billing_status
    if before == target:
        return wo
    wo.billing_status = target
    wo.no_charge_reason = reason if target == BillingStatus.NO_CHARGE else ""
    _bump(wo, "billing_status", "no_charge_reason")
    _event(wo, actor, EventKind.BILLING, reason=reason, data={"from": before, "to": target})
    return wo


# ---------------------------------------------------------------------------------------------
# checklist


def _checklist_value(item: ChecklistAnswer, value) -> str:
    if value is None:
        return ""
    raw = str(value).strip()
    if raw == "":
        return ""
    match item.kind:
        case ChecklistKind.CHECKBOX:
            if raw.lower() in {"true", "1", "yes", "on", "done"}:
                return "done"
            if raw.lower() in {"false", "0", "no", "off"}:
                return ""
            raise validation(f"Tick or untick “{item.label}”.", field="value")
        case ChecklistKind.NUMBER:
            return str(_decimal(raw, "value", minimum=None))
        case ChecklistKind.PASS_FAIL:
            if raw.lower() not in {"pass", "fail"}:
                raise validation(f"Answer “{item.label}” with pass or fail.", field="value")
            return raw.lower()
        case _:
            return _text(raw, "value", max_length=500)


@transaction.atomic
def checklist_answer(
    *,
    actor: Actor,
    work_order_id,
    item_id,
    value,
    occurred_at: datetime | None = None,
    accepted_by: Actor | None = None,
) -> ChecklistAnswer:
    """Answer (or clear, with an empty value) one checklist item of a work order (``accepted_by``: see
    ``_require_recordable``)."""
    wo = _locked_work_order(actor, work_order_id)
    _require_recordable(actor, wo, "the checklist", accepted_by)
    item = ChecklistAnswer.objects.filter(work_order=wo, pk=item_id).first()
    if item is None:
        raise not_found("Checklist item")
    new = _checklist_value(item, value)
    if new == item.value:
        return item
    item.value = new
    item.answered_by, item.answered_at = (actor.user, occurred_at or clock.now()) if new else (None, None)
    item.save()
    _bump(wo)
    _event(wo, actor, EventKind.CHECKLIST, occurred_at=occurred_at, data={"item": item.label, "value": new})
    return item


# ---------------------------------------------------------------------------------------------
# time


def _minutes(start: datetime, end: datetime) -> int:
    """Elapsed minutes. In UTC: two datetimes in one named zone subtract on the wall clock in Python,
    an hour off across a DST change."""
    return max(0, round((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 60))


def _time_technician(actor: Actor, wo: WorkOrder, technician_id):
    if technician_id in (None, "") or str(technician_id) == str(actor.user_id):
        return actor.user
    if not actor.can("work_orders.record_any"):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "You can only record your own time.")
    return _technician(actor, technician_id, "technician")


@transaction.atomic
def time_entry_create(
    *,
    actor: Actor,
    work_order_id,
    started_at: datetime | None,
    ended_at: datetime | None = None,
    duration_minutes: int | None = None,
    technician_id=None,
    kind: str = TimeKind.LABOUR,
    is_billable: bool | None = None,
    note: str = "",
    occurred_at: datetime | None = None,
    accepted_by: Actor | None = None,
) -> TimeEntry:
    """Record time on a work order: a start and an end, or a start and a duration.

    ``occurred_at``: when it was recorded (a phone's clock, checked by the sync); ``accepted_by``: see
    ``_require_recordable``."""
    wo = _locked_work_order(actor, work_order_id)
    _require_recordable(actor, wo, "time", accepted_by)
    technician = _time_technician(actor, wo, technician_id)
    if started_at is None:
        raise validation("Enter when the work started.", field="started_at")
    started_at = started_at.astimezone(UTC)  # durations and comparisons in elapsed time, not wall time
    ended_at = ended_at.astimezone(UTC) if ended_at is not None else None
    if ended_at is None and duration_minutes in (None, ""):
        raise validation("Enter the end time or the duration.", field="ended_at")
    if ended_at is None:
        try:
            duration = int(duration_minutes)
        except (TypeError, ValueError):
            raise validation("Enter the duration in whole minutes.", field="duration_minutes") from None
        if duration <= 0 or duration > 24 * 60:
            raise validation("The duration must be between 1 minute and 24 hours.", field="duration_minutes")
        ended_at = started_at + timedelta(minutes=duration)
    if ended_at <= started_at:
        raise validation("The end must be after the start.", field="ended_at")
    if ended_at - started_at > timedelta(hours=24):
        raise validation("One entry cannot be longer than 24 hours; split it per day.", field="ended_at")
    if started_at > clock.now() + timedelta(minutes=5):
        raise validation("Time cannot be recorded in the future.", field="started_at")
    if ended_at > clock.now() + timedelta(minutes=5):
        raise validation("Time cannot be recorded in the future: the end has not happened yet.", field="ended_at")
    entry = TimeEntry.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        technician=technician,
        kind=_choice(kind, TimeKind, "kind", TimeKind.LABOUR),
        started_at=started_at,
        ended_at=ended_at,
        duration_minutes=_minutes(started_at, ended_at),
        is_billable=wo.is_billable if is_billable is None else bool(is_billable),
        note=_text(note, "note", max_length=500),
        created_by=actor.user,
    )
    _bump(wo)
    _event(
        wo,
        actor,
        EventKind.TIME,
        occurred_at=occurred_at,
        data={"entry": entry.pk, "technician": str(technician), "minutes": entry.duration_minutes, "kind": entry.kind},
    )
    return entry


@transaction.atomic
def timer_start(
    *, actor: Actor, work_order_id, kind: str = TimeKind.LABOUR, occurred_at: datetime | None = None
) -> TimeEntry:
    """Start the actor's timer on a work order (one running timer per technician and work order)."""
    wo = _locked_work_order(actor, work_order_id)
    _require_recording(actor, wo)
    _require_open_for_recording(wo, "time")
    if wo.status not in (Status.IN_PROGRESS, Status.PLANNED, Status.NEW):
        raise DomainError(
            ErrorCode.CONFLICT,
            f"The work order is {wo.get_status_display().lower()}; start or resume it before starting the timer.",
        )
    if TimeEntry.objects.filter(work_order=wo, technician=actor.user, ended_at=None).exists():
        raise DomainError(ErrorCode.CONFLICT, "Your timer is already running on this work order.")
    entry = TimeEntry.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        technician=actor.user,
        kind=_choice(kind, TimeKind, "kind", TimeKind.LABOUR),
        started_at=occurred_at or clock.now(),
        is_billable=wo.is_billable,
        created_by=actor.user,
    )
    _bump(wo)
    _event(wo, actor, EventKind.TIME, occurred_at=occurred_at, data={"entry": entry.pk, "timer": "started"})
    return entry


@transaction.atomic
def timer_stop(*, actor: Actor, work_order_id, occurred_at: datetime | None = None) -> TimeEntry:
    """Stop the actor's running timer; it becomes a time entry with a duration."""
    wo = _locked_work_order(actor, work_order_id)
    _require_recording(actor, wo)
    entry = TimeEntry.objects.select_for_update().filter(work_order=wo, technician=actor.user, ended_at=None).first()
    if entry is None:
        raise DomainError(ErrorCode.CONFLICT, "You have no running timer on this work order.")
    entry.ended_at = max(occurred_at or clock.now(), entry.started_at)
    entry.duration_minutes = _minutes(entry.started_at, entry.ended_at)
    entry.save(update_fields=["ended_at", "duration_minutes"])
    _bump(wo)
    _event(
        wo,
        actor,
        EventKind.TIME,
        occurred_at=occurred_at,
        data={"entry": entry.pk, "timer": "stopped", "minutes": entry.duration_minutes},
    )
    return entry


@transaction.atomic
def time_entry_delete(*, actor: Actor, time_entry_id) -> None:
    """Remove a time entry recorded by mistake (not once the work order is closed or invoiced)."""
    entry = TimeEntry.objects.filter(organization_id=actor.organization_id, pk=time_entry_id).first()
    if entry is None:
        raise not_found("Time entry")
    wo = _locked_work_order(actor, entry.work_order_id)
    _require_recording(actor, wo)
    _require_not_on_invoice(entry, "time entry")
    _require_open_for_recording(wo, "time")
    if entry.technician_id != actor.user_id and not actor.can("work_orders.record_any"):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "You can only remove your own time.")
    data = {"technician": str(entry.technician), "minutes": entry.duration_minutes, "kind": entry.kind}
    entry.delete()
    _bump(wo)
    _event(wo, actor, EventKind.TIME_REMOVED, data=data)


# ---------------------------------------------------------------------------------------------
# parts and planned materials


def _part_and_description(actor: Actor, part_id, description: str) -> tuple[Part | None, str]:
    part = _in_org(actor, Part, part_id, "part", "part")
    description = _text(description, "description", max_length=200)
    if part is None and not description:
        raise validation("Choose a part from the catalogue or describe it.", field="part")
    return part, description or part.name


@transaction.atomic
def part_usage_create(
    *,
    actor: Actor,
    work_order_id,
    quantity,
    part_id=None,
    description: str = "",
    unit: str | None = None,
    unit_cost=None,
    is_billable: bool | None = None,
    occurred_at: datetime | None = None,
    accepted_by: Actor | None = None,
) -> PartUsage:
    """Record a part used; cost and sale price are copied from the catalogue at this moment.

    ``occurred_at`` and ``accepted_by``: as for ``time_entry_create``."""
    wo = _locked_work_order(actor, work_order_id)
    _require_recordable(actor, wo, "parts", accepted_by)
    part, description = _part_and_description(actor, part_id, description)
    qty = _decimal(quantity, "quantity", positive=True)
    if unit_cost not in (None, ""):
        cost = _decimal(unit_cost, "unit_cost")
    else:
        cost = part.unit_cost if part else Decimal(0)
    usage = PartUsage.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        part=part,
        description=description,
        quantity=qty,
        unit=_text(unit, "unit", max_length=20) or (part.unit if part else "pc"),
        unit_cost=cost,
        unit_price=part.sale_price if part else Decimal(0),
        is_billable=wo.is_billable if is_billable is None else bool(is_billable),
        created_by=actor.user,
    )
    _bump(wo)
    _event(
        wo,
        actor,
        EventKind.PART,
        occurred_at=occurred_at,
        data={"usage": usage.pk, "part": description, "quantity": str(qty)},
    )
    return usage


@transaction.atomic
def part_usage_delete(*, actor: Actor, part_usage_id) -> None:
    usage = PartUsage.objects.filter(organization_id=actor.organization_id, pk=part_usage_id).first()
    if usage is None:
        raise not_found("Part usage")
    wo = _locked_work_order(actor, usage.work_order_id)
    _require_recording(actor, wo)
    _require_not_on_invoice(usage, "part usage")
    _require_open_for_recording(wo, "parts")
    data = {"part": usage.description, "quantity": str(usage.quantity)}
    usage.delete()
    _bump(wo)
    _event(wo, actor, EventKind.PART_REMOVED, data=data)


@transaction.atomic
def planned_material_add(
    *, actor: Actor, work_order_id, quantity, part_id=None, description: str = "", unit: str | None = None
) -> PlannedMaterial:
    """Plan a material for the work (office roles); shown to the technician, compared with usage."""
    require(actor, "work_orders.plan")
    wo = _locked_work_order(actor, work_order_id)
    _require_open_for_recording(wo, "planned materials")
    part, description = _part_and_description(actor, part_id, description)
    item = PlannedMaterial.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        part=part,
        description=description,
        quantity=_decimal(quantity, "quantity", positive=True),
        unit=_text(unit, "unit", max_length=20) or (part.unit if part else "pc"),
    )
    _bump(wo)
    _event(wo, actor, EventKind.MATERIAL, data={"added": description, "quantity": str(item.quantity)})
    return item


@transaction.atomic
def planned_material_remove(*, actor: Actor, planned_material_id) -> None:
    require(actor, "work_orders.plan")
    item = PlannedMaterial.objects.filter(organization_id=actor.organization_id, pk=planned_material_id).first()
    if item is None:
        raise not_found("Planned material")
    wo = _locked_work_order(actor, item.work_order_id)
    _require_open_for_recording(wo, "planned materials")
    data = {"removed": item.description, "quantity": str(item.quantity)}
    item.delete()
    _bump(wo)
    _event(wo, actor, EventKind.MATERIAL, data=data)


# ---------------------------------------------------------------------------------------------
# notes, attachments, signature


@transaction.atomic
def note_create(
    *, actor: Actor, work_order_id, body: str, is_client_visible: bool = False, occurred_at: datetime | None = None
) -> WorkOrderNote:
    """Add a note or finding. Client users may add notes; theirs are always visible to the client."""
    from .selectors import work_order_queryset

    wo = work_order_queryset(actor=actor).select_for_update(of=("self",)).filter(pk=work_order_id).first()
    if wo is None:
        raise not_found("Work order")
    if actor.role in (Role.CLIENT_USER, Role.REQUESTER):
        is_client_visible = True
    elif actor.role == Role.ACCOUNTANT:
        pass  # the office's bookkeeping remarks
    else:
        _require_recording(actor, wo)
    note = WorkOrderNote.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        author=actor.user,
        body=_text(body, "body", required=True, max_length=20000),
        is_client_visible=bool(is_client_visible),
    )
    _bump(wo)
    _event(
        wo,
        actor,
        EventKind.NOTE,
        occurred_at=occurred_at,
        data={"note": note.pk, "client_visible": note.is_client_visible},
    )
    return note


@transaction.atomic
def attachment_add(
    *,
    actor: Actor,
    upload,
    work_order_id=None,
    work_request_id=None,
    caption: str = "",
    is_client_visible: bool | None = None,
    occurred_at: datetime | None = None,
    accepted_by: Actor | None = None,
) -> Attachment:
    """Store a validated file on a work order or a work request (see ``attachments.validate_upload``).

    ``occurred_at`` and ``accepted_by`` (work orders only): as for ``time_entry_create``."""
    from .attachments import store_upload
    from .selectors import work_request_queryset

    if (work_order_id is None) == (work_request_id is None):
        raise validation("Attach the file to a work order or to a request.")
    wo = req = None
    if work_order_id is not None:
        wo = _locked_work_order(actor, work_order_id)
        if accepted_by is not None:
            _require_recordable(actor, wo, "attachments", accepted_by)
        else:
            if actor.role not in (Role.CLIENT_USER, Role.REQUESTER, Role.ACCOUNTANT):
                _require_recording(actor, wo)
            _require_open_for_recording(wo, "attachments")
    else:
        req = work_request_queryset(actor=actor).filter(pk=work_request_id).first()
        if req is None:
            raise not_found("Work request")
        if req.status != RequestStatus.NEW:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"This request is already {req.get_status_display().lower()}; add files to its work order instead.",
            )
    if is_client_visible is None or actor.role in (Role.CLIENT_USER, Role.REQUESTER):
        is_client_visible = actor.role in (Role.CLIENT_USER, Role.REQUESTER) or req is not None
    stored = store_upload(upload, organization_id=actor.organization_id)
    att = Attachment.objects.create(
        organization_id=actor.organization_id,
        work_order=wo,
        work_request=req,
        file=stored.file_name,
        thumbnail=stored.thumbnail_name,
        original_name=stored.original_name,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        caption=_text(caption, "caption", max_length=200),
        is_client_visible=bool(is_client_visible),
        uploaded_by=actor.user,
    )
    if wo is not None:
        _bump(wo)
        _event(
            wo,
            actor,
            EventKind.ATTACHMENT,
            occurred_at=occurred_at,
            data={"attachment": att.pk, "name": att.original_name},
        )
    return att


@transaction.atomic
def signature_capture(
    *,
    actor: Actor,
    work_order_id,
    image_png: bytes,
    signed_by_name: str,
    occurred_at: datetime | None = None,
    accepted_by: Actor | None = None,
) -> WorkOrder:
    """Store the client's drawn signature (a PNG) and the signer's name on the work order (``accepted_by``:
    a signature held from the field, accepted by the office on closed or cancelled work)."""
    from .attachments import store_signature

    wo = _locked_work_order(actor, work_order_id)
    signed_statuses = {Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED}
    if accepted_by is None:
        _require_recording(actor, wo)
    else:
        _require_recordable(actor, wo, "the signature", accepted_by)
        signed_statuses |= {Status.CLOSED, Status.CANCELLED}
    if wo.status not in signed_statuses:
        raise DomainError(ErrorCode.CONFLICT, "The client signs work that has been started.")
    name = _text(signed_by_name, "signed_by_name", required=True, max_length=200)
    wo.signature = store_signature(image_png, organization_id=wo.organization_id)
    wo.signed_by_name, wo.signed_at = name, occurred_at or clock.now()
    _bump(wo, "signature", "signed_by_name", "signed_at")
    _event(wo, actor, EventKind.SIGNATURE, occurred_at=occurred_at, data={"signed_by": name})
    return wo


# ---------------------------------------------------------------------------------------------
# templates (configuration: every change writes a ChangeRecord)

TEMPLATE_FIELDS = (
    "name",
    "type",
    "default_priority",
    "description",
    "estimated_duration_minutes",
    "is_billable",
    "requires_equipment",
    "requires_signature",
    "is_active",
)


def _template_snapshot(t: WorkOrderTemplate) -> dict:
    from fixflow.core.services import snapshot

    data = snapshot(t)
    data["checklist"] = [
        {"label": i.label, "kind": i.kind, "is_required": i.is_required} for i in t.checklist_items.all()
    ]
    data["parts"] = [{"part": p.part_id, "quantity": str(p.quantity)} for p in t.parts.all()]
    return data


def _template_children(actor: Actor, t: WorkOrderTemplate, checklist, parts) -> None:
    from .models import TemplateChecklistItem, TemplatePart

    if checklist is not None:
        items = []
        for pos, item in enumerate(checklist):
            label = _text(item.get("label"), "checklist", max_length=200)
            if not label:
                raise validation(f"Checklist item {pos + 1} needs a label.", field="checklist")
            items.append(
                TemplateChecklistItem(
                    organization_id=t.organization_id,
                    template=t,
                    position=pos,
                    label=label,
                    kind=_choice(item.get("kind"), ChecklistKind, "kind", ChecklistKind.CHECKBOX),
                    is_required=bool(item.get("is_required", False)),
                )
            )
        t.checklist_items.all().delete()
        TemplateChecklistItem.objects.bulk_create(items)
    if parts is not None:
        rows = []
        for item in parts:
            part = _in_org(actor, Part, item.get("part_id"), "part", "parts")
            if part is None:
                raise validation("Choose a part for each planned part line.", field="parts")
            rows.append(
                TemplatePart(
                    organization_id=t.organization_id,
                    template=t,
                    part=part,
                    quantity=_decimal(item.get("quantity", 1), "quantity", positive=True),
                )
            )
        t.parts.all().delete()
        TemplatePart.objects.bulk_create(rows)


def _template_apply(t: WorkOrderTemplate, data: dict[str, Any]) -> None:
    from fixflow.core.services import apply_changes, full_clean_or_raise

    data = {k: v for k, v in data.items() if k not in ("checklist", "parts")}
    if "estimated_duration_minutes" in data and data["estimated_duration_minutes"] in ("",):
        data["estimated_duration_minutes"] = None
    if "name" in data:
        data["name"] = _text(data["name"], "name", required=True, max_length=200)
    apply_changes(t, data, TEMPLATE_FIELDS)
    if t.estimated_duration_minutes is not None and t.estimated_duration_minutes <= 0:
        raise validation("The estimated duration must be more than zero.", field="estimated_duration_minutes")
    full_clean_or_raise(t)


@transaction.atomic
def template_create(*, actor: Actor, data: dict[str, Any]) -> WorkOrderTemplate:
    """Create a work order template with its checklist (``checklist``: list of dicts) and parts."""
    from fixflow.core.services import change_record_write

    require(actor, "templates.manage")
    t = WorkOrderTemplate(organization_id=actor.organization_id)
    _template_apply(t, data)
    t.save()
    _template_children(actor, t, data.get("checklist") or [], data.get("parts") or [])
    change_record_write(actor=actor, instance=t, action="create", before=None, after=_template_snapshot(t))
    return t


@transaction.atomic
def template_update(
    *, actor: Actor, pk, data: dict[str, Any], expected_version: int | None = None
) -> WorkOrderTemplate:
    """Change a template; work orders already made from it keep their copy of the checklist."""
    from fixflow.core.services import change_record_write

    require(actor, "templates.manage")
    t = WorkOrderTemplate.objects.select_for_update().filter(organization_id=actor.organization_id, pk=pk).first()
    if t is None:
        raise not_found("Template")
    check_version(t, expected_version)
    before = _template_snapshot(t)
    _template_apply(t, data)
    _template_children(actor, t, data.get("checklist"), data.get("parts"))
    after = _template_snapshot(t)
    if after != before:
        t.version += 1
        t.save()
        change_record_write(actor=actor, instance=t, action="update", before=before, after=_template_snapshot(t))
    return t
