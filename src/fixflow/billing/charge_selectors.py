"""Charges recorded on work orders (call-out fees, fixed charges, expenses), as the staff read them.

A charge is seen by whoever sees its work order and may see effort and costs (``work_orders.costs``:
admins, dispatchers, technicians, accountants); client users and requesters never see them. A charge of a
work order outside the actor's scope is a 404. Each charge says whether it is on an invoice line (a draft
or an issued invoice) that no credit note has released: then it can no longer be removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery

from fixflow.core.errors import not_found
from fixflow.core.permissions import Actor, require
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import WorkOrder, WorkOrderHelper

from .models import InvoiceLine, WorkOrderCharge

VIEW = "work_orders.costs"
RECORD = "charges.record"


def _as_id(pk) -> int | None:
    try:
        return int(pk)
    except (TypeError, ValueError):
        return None


def _with_invoice(qs: QuerySet[WorkOrderCharge]) -> QuerySet[WorkOrderCharge]:
    """Annotate the invoice a charge is on (``invoice_id``, ``invoice_number``, ``invoice_status``)."""
    line = InvoiceLine.objects.filter(charge=OuterRef("pk"), released=False).order_by("id")
    return qs.annotate(
        invoice_id=Subquery(line.values("invoice_id")[:1]),
        invoice_number=Subquery(line.values("invoice__number")[:1]),
        invoice_status=Subquery(line.values("invoice__status")[:1]),
    ).select_related("created_by", "receipt")


def work_order_for_charges(*, actor: Actor, work_order_id) -> WorkOrder:
    """The work order, when the actor sees it (404 otherwise) and may see its charges (403 otherwise)."""
    from fixflow.service.selectors import work_order_queryset

    wo = work_order_queryset(actor=actor).select_related("site", "client").filter(pk=_as_id(work_order_id)).first()
    if wo is None:
        raise not_found("Work order")
    require(actor, VIEW)
    return wo


def charge_list(*, actor: Actor, work_order: WorkOrder) -> QuerySet[WorkOrderCharge]:
    """The charges of a work order already checked with :func:`work_order_for_charges`, oldest first."""
    qs = WorkOrderCharge.objects.filter(organization_id=actor.organization_id, work_order=work_order)
    return _with_invoice(qs).order_by("incurred_on", "id")


def charge_get(*, actor: Actor, pk) -> WorkOrderCharge:
    """One charge of a work order the actor sees and may see the costs of; NOT_FOUND otherwise."""
    from fixflow.service.selectors import work_order_queryset

    qs = WorkOrderCharge.objects.filter(
        organization_id=actor.organization_id, pk=_as_id(pk), work_order__in=work_order_queryset(actor=actor)
    )
    charge = _with_invoice(qs).first()
    if charge is None:
        raise not_found("Charge")
    require(actor, VIEW)
    return charge


@dataclass(frozen=True)
class ChargePermissions:
    """What the work order page offers the actor in its "Charges" section, and why not."""

    may_view: bool
    may_record: bool
    closed_reason: str = ""  # why nothing can be recorded any more (invoiced, cancelled)


def charge_permissions(*, actor: Actor, work_order: WorkOrder) -> ChargePermissions:
    """Mirrors ``services.charge_add``: ``charges.record``, a technician only on work assigned to them, not
    once the work order is invoiced or cancelled. The service checks again when the form is sent."""
    if not actor.can(VIEW):
        return ChargePermissions(False, False)
    if work_order.billing_status == BillingStatus.INVOICED:
        return ChargePermissions(True, False, "invoiced")
    if work_order.status == Status.CANCELLED:
        return ChargePermissions(True, False, "cancelled")
    if not actor.can(RECORD):
        return ChargePermissions(True, False)
    if actor.can("work_orders.record_any"):
        return ChargePermissions(True, True)
    assigned = work_order.lead_technician_id == actor.user_id or (
        WorkOrderHelper.objects.filter(work_order=work_order, user_id=actor.user_id).exists()
    )
    return ChargePermissions(True, assigned)
