"""Reads on requests and work orders, always narrowed to what the actor may see.

Scope: office roles, technicians and accountants see all work of their organization; requesters see
the requests they made and the work orders made from them; client users see their client's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum

from fixflow.core import clock
from fixflow.core.errors import not_found
from fixflow.core.pagination import Page, paginate
from fixflow.core.permissions import Actor

from .choices import ACTIVE_STATUSES, BillingStatus, Status
from .models import (
    Attachment,
    PartUsage,
    TimeEntry,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderHelper,
    WorkOrderNote,
    WorkOrderTemplate,
    WorkRequest,
)


def work_order_queryset(*, actor: Actor) -> QuerySet[WorkOrder]:
    qs = WorkOrder.objects.filter(organization_id=actor.organization_id)
    if actor.can("work_orders.view_all"):
        return qs
    if actor.is_client:
        return qs.filter(client_id=actor.client_id)
    return qs.filter(request__requester_id=actor.user_id)


def work_request_queryset(*, actor: Actor) -> QuerySet[WorkRequest]:
    qs = WorkRequest.objects.filter(organization_id=actor.organization_id)
    if actor.can("requests.view_all"):
        return qs
    if actor.is_client:
        return qs.filter(client_id=actor.client_id)
    return qs.filter(requester_id=actor.user_id)


WORK_ORDER_SORTS = {
    "scheduled_start": ["scheduled_start"],
    "-scheduled_start": ["-scheduled_start"],
    "created": ["created_at"],
    "-created": ["-created_at"],
    "priority": ["priority_rank", "scheduled_start"],
    "number": ["number"],
    "-number": ["-number"],
}


def _as_list(value) -> list:
    if value in (None, "", []):
        return []
    if isinstance(value, list | tuple | set):
        return [v for v in value if v not in (None, "")]
    return [v for v in str(value).split(",") if v]


def work_order_filter(qs: QuerySet[WorkOrder], *, actor: Actor, filters: dict[str, Any]) -> QuerySet[WorkOrder]:
    """Apply the list filters shared by the work order page and ``GET /api/v1/work-orders``."""
    if statuses := _as_list(filters.get("status")):
        qs = qs.filter(status__in=statuses)
    if priorities := _as_list(filters.get("priority")):
        qs = qs.filter(priority__in=priorities)
    if types := _as_list(filters.get("type")):
        qs = qs.filter(type__in=types)
    if billing := _as_list(filters.get("billing_status")):
        qs = qs.filter(billing_status__in=billing)
    if tech := filters.get("technician"):
        if tech == "me":
            tech = actor.user_id
        qs = qs.filter(Q(lead_technician_id=tech) | Exists(
            WorkOrderHelper.objects.filter(work_order=OuterRef("pk"), user_id=tech)))
    if lead := filters.get("lead_technician"):
        qs = qs.filter(lead_technician_id=actor.user_id if lead == "me" else lead)
    for name in ("client", "site", "equipment", "template"):
        if value := filters.get(name):
            qs = qs.filter(**{f"{name}_id": value})
    if filters.get("unassigned"):
        qs = qs.filter(lead_technician=None)
    if filters.get("open"):
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    if filters.get("overdue"):
        qs = qs.filter(status__in=[Status.NEW, Status.PLANNED], scheduled_end__lt=clock.now())
    if start_from := filters.get("scheduled_from"):
        qs = qs.filter(scheduled_start__gte=start_from)
    if start_to := filters.get("scheduled_to"):
        qs = qs.filter(scheduled_start__lt=start_to)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(client__name__icontains=q)
                       | Q(site__name__icontains=q) | Q(equipment__name__icontains=q))
    return qs


def work_order_list(*, actor: Actor, filters: dict[str, Any] | None = None, sort: str = "-created",
                    cursor: str | None = None, limit: int = 50) -> Page:
    """One page of work orders the actor may see, filtered and sorted, with what a list row shows."""
    from django.db.models import Case, IntegerField, Value, When

    from .choices import PRIORITY_RANK

    qs = work_order_filter(work_order_queryset(actor=actor), actor=actor, filters=filters or {})
    ordering = WORK_ORDER_SORTS.get(sort)
    if ordering is None:
        from fixflow.core.errors import validation

        raise validation(f"Unknown sort {sort!r}; use one of {', '.join(WORK_ORDER_SORTS)}.", field="sort")
    if sort == "priority":
        qs = qs.annotate(priority_rank=Case(*[When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()],
                                            output_field=IntegerField()))
    qs = qs.select_related("client", "site", "equipment", "lead_technician")
    return paginate(qs, ordering=ordering, cursor=cursor, limit=limit)


def work_order_get(*, actor: Actor, pk) -> WorkOrder:
    """A work order with everything its page shows, or NOT_FOUND outside the actor's scope."""
    notes = WorkOrderNote.objects.select_related("author")
    attachments = Attachment.objects.all()
    if not actor.can("notes.internal"):
        notes = notes.filter(is_client_visible=True)
        attachments = attachments.filter(is_client_visible=True)
    wo = (
        work_order_queryset(actor=actor)
        .select_related("client", "site", "equipment", "equipment__category", "template", "request",
                        "lead_technician", "completed_by", "closed_by", "follow_up_of", "created_by")
        .prefetch_related(
            "helpers", "checklist", "planned_materials__part",
            Prefetch("time_entries", queryset=TimeEntry.objects.select_related("technician")),
            Prefetch("part_usages", queryset=PartUsage.objects.select_related("part")),
            Prefetch("notes", queryset=notes), Prefetch("attachments", queryset=attachments), "follow_ups",
        )
        .filter(pk=pk)
        .first()
    )
    if wo is None:
        raise not_found("Work order")
    return wo


def work_order_timeline(*, actor: Actor, work_order: WorkOrder) -> list[WorkOrderEvent]:
    qs = WorkOrderEvent.objects.filter(work_order=work_order).select_related("actor")
    if not actor.can("notes.internal"):
        qs = qs.exclude(kind__in=["time", "time_removed", "part", "part_removed", "material"])
    return list(qs)


def work_order_totals(*, work_order: WorkOrder) -> dict[str, Any]:
    """Minutes by kind and part cost, for the work order page and the accountant."""
    minutes = work_order.time_entries.aggregate(
        labour=Sum("duration_minutes", filter=Q(kind="labour")), travel=Sum("duration_minutes", filter=Q(kind="travel"))
    )
    parts_cost = sum((u.quantity * u.unit_cost for u in work_order.part_usages.all()), start=0)
    return {"labour_minutes": minutes["labour"] or 0, "travel_minutes": minutes["travel"] or 0,
            "parts_cost": parts_cost}


def work_request_list(*, actor: Actor, filters: dict[str, Any] | None = None, cursor: str | None = None,
                      limit: int = 50) -> Page:
    filters = filters or {}
    qs = work_request_queryset(actor=actor).select_related("client", "site", "equipment", "requester")
    if statuses := _as_list(filters.get("status")):
        qs = qs.filter(status__in=statuses)
    for name in ("client", "site", "equipment"):
        if value := filters.get(name):
            qs = qs.filter(**{f"{name}_id": value})
    if source := filters.get("source"):
        qs = qs.filter(source=source)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(site__name__icontains=q))
    return paginate(qs, ordering=["-created_at"], cursor=cursor, limit=limit)


def work_request_get(*, actor: Actor, pk) -> WorkRequest:
    req = (work_request_queryset(actor=actor).select_related("client", "site", "equipment", "requester",
                                                              "duplicate_of", "decided_by")
           .prefetch_related("attachments").filter(pk=pk).first())
    if req is None:
        raise not_found("Work request")
    return req


def template_queryset(*, actor: Actor) -> QuerySet[WorkOrderTemplate]:
    return WorkOrderTemplate.objects.filter(organization_id=actor.organization_id)


def dispatcher_home(*, actor: Actor) -> dict[str, Any]:
    """What a dispatcher starts the day with: new requests, unplanned work, overdue work."""
    wos = work_order_queryset(actor=actor).select_related("client", "site", "lead_technician")
    now = clock.now()
    return {
        "new_requests": list(work_request_queryset(actor=actor).filter(status="new")
                             .select_related("client", "site").order_by("-created_at")[:10]),
        "unplanned": list(wos.filter(status=Status.NEW).order_by("-created_at")[:10]),
        "overdue": list(wos.filter(status__in=[Status.NEW, Status.PLANNED], scheduled_end__lt=now)
                        .order_by("scheduled_end")[:10]),
        "in_progress": list(wos.filter(status__in=[Status.IN_PROGRESS, Status.ON_HOLD])
                            .order_by("scheduled_start")[:10]),
        "to_review": list(wos.filter(status=Status.COMPLETED).order_by("completed_at")[:10]),
        "counts": wos.filter(status__in=ACTIVE_STATUSES).aggregate(
            new=Count("id", filter=Q(status=Status.NEW)), planned=Count("id", filter=Q(status=Status.PLANNED)),
            in_progress=Count("id", filter=Q(status=Status.IN_PROGRESS)),
            on_hold=Count("id", filter=Q(status=Status.ON_HOLD))),
    }


def technician_home(*, actor: Actor, day_start: datetime, day_end: datetime) -> dict[str, Any]:
    """A technician's own work: today, later, and what is still running."""
    mine = work_order_filter(work_order_queryset(actor=actor), actor=actor, filters={"technician": "me"}).select_related(
        "client", "site", "equipment")
    return {
        "active": list(mine.filter(status__in=[Status.IN_PROGRESS, Status.ON_HOLD]).order_by("scheduled_start")),
        "today": list(mine.filter(status__in=[Status.NEW, Status.PLANNED], scheduled_start__lt=day_end)
                      .order_by("scheduled_start")),
        "upcoming": list(mine.filter(status__in=[Status.NEW, Status.PLANNED], scheduled_start__gte=day_end)
                         .order_by("scheduled_start")[:20]),
    }


def accountant_home(*, actor: Actor) -> dict[str, Any]:
    """Closed billable work waiting for an invoice, oldest first."""
    qs = work_order_queryset(actor=actor).filter(billing_status=BillingStatus.TO_INVOICE).select_related(
        "client", "site")
    return {"to_invoice": list(qs.order_by("closed_at")[:50]), "to_invoice_count": qs.count()}


def equipment_history(*, actor: Actor, equipment_id, cursor: str | None = None, limit: int = 50) -> Page:
    qs = work_order_queryset(actor=actor).filter(equipment_id=equipment_id).select_related("lead_technician")
    return paginate(qs, ordering=["-created_at"], cursor=cursor, limit=limit)
