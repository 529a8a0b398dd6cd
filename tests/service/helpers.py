"""Builders shared by the service tests: work orders in a given status, and "nothing changed" checks."""

from __future__ import annotations

import io
from datetime import timedelta

from django.utils import timezone
from PIL import Image

from fixflow.service.choices import BillingStatus, HoldReason, Status
from fixflow.service.models import TimeEntry, WorkOrder, WorkOrderEvent

from ..factories import WorkOrderFactory

RESOLUTION = "Replaced the shaft seal; no more leaks."


def work_order_in(world, status: str, **fields) -> WorkOrder:
    """A work order row in ``status`` (no events yet) with every guard of its outgoing transitions met.

    Assigned to ``world.technician``, scheduled, with resolution notes once started; completed by the
    technician, closed yesterday by the dispatcher. ``fields`` override any of it.
    """
    now = timezone.now()
    values = {
        "equipment": world.equipment,
        "lead_technician": world.technician.user,
        "scheduled_start": now + timedelta(hours=2),
        "status": status,
    }
    if status in (Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED, Status.CLOSED):
        values |= {"started_at": now - timedelta(hours=3), "resolution_notes": RESOLUTION}
    if status == Status.ON_HOLD:
        values |= {"hold_reason": HoldReason.WAITING_FOR_PARTS, "status_reason": "Seal kit ordered"}
    if status in (Status.COMPLETED, Status.CLOSED):
        values |= {"completed_at": now - timedelta(days=1, hours=2), "completed_by": world.technician.user}
    if status == Status.CLOSED:
        values |= {
            "closed_at": now - timedelta(days=1),
            "closed_by": world.dispatcher.user,
            "billing_status": BillingStatus.TO_INVOICE,
        }
    if status == Status.CANCELLED:
        values |= {"cancelled_at": now - timedelta(hours=1), "status_reason": "Client sold the building"}
    values |= fields
    return WorkOrderFactory(**values)


def state_of(wo: WorkOrder) -> dict:
    """Every column of the work order as stored, plus how many events and time entries it has."""
    row = WorkOrder.objects.filter(pk=wo.pk).values().get()
    row["events"] = WorkOrderEvent.objects.filter(work_order_id=wo.pk).count()
    row["time_entries"] = list(TimeEntry.objects.filter(work_order_id=wo.pk).values().order_by("id"))
    return row


def png_bytes(size=(40, 30), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(size=(800, 600), color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=85)
    return out.getvalue()
