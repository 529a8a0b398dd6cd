"""Field sync fixtures: a technician's phone that queues commands, and work orders in the states the rules
of DOMAIN.md §5 talk about, made through the services."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from fixflow.core import clock
from fixflow.field.sync import CommandIn, sync_commands
from fixflow.service import services
from fixflow.service.models import WorkOrder
from tests.factories import ChecklistItemFactory, PartFactory, TemplateFactory

# A Monday in Berlin (UTC+1): the office day the tests play in.
DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hhmm: str, day: datetime = DAY) -> datetime:
    """``HH:MM`` Berlin time on the test day, as an aware UTC instant."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return day.replace(hour=hour - 1, minute=minute)


class Phone:
    """A technician's phone: its device id, its own numbering of commands, and its sync."""

    def __init__(self, actor, device_id: uuid.UUID | None = None):
        self.actor = actor
        self.device_id = device_id or uuid.uuid4()
        self.seq = 0

    def command(self, type: str, wo=None, payload=None, *, when=None, base_version=None, seq=None) -> CommandIn:
        if seq is None:
            self.seq += 1
            seq = self.seq
        occurred = when or clock.now()
        return CommandIn(
            mutation_id=uuid.uuid4(),
            seq=seq,
            type=type,
            work_order_id=getattr(wo, "pk", wo),
            payload=payload or {},
            occurred_at=occurred.isoformat() if isinstance(occurred, datetime) else occurred,
            base_version=base_version,
        )

    def sync(self, *commands: CommandIn):
        return sync_commands(actor=self.actor, device_id=self.device_id, commands=list(commands)).results

    def one(self, *args, **kwargs):
        (answer,) = self.sync(self.command(*args, **kwargs))
        return answer


@pytest.fixture
def phone(world) -> Phone:
    return Phone(world.technician)


@pytest.fixture
def part(world):
    return PartFactory(organization=world.org, sku="SEAL-1", name="Shaft seal", barcode="4006381333931")


def planned_work_order(world, *, when: datetime | None = None, title: str = "Pump P1 leaking") -> WorkOrder:
    """A work order from a template (one required checklist item), planned for ``world.technician``."""
    when = when or at("08:00")
    with clock.frozen_at(when):
        template = TemplateFactory(organization=world.org, name=f"Pump service {uuid.uuid4().hex[:6]}")
        ChecklistItemFactory(template=template, label="Check pressure", kind="number", is_required=True)
        wo = services.work_order_create(
            actor=world.dispatcher,
            site_id=world.site.pk,
            equipment_id=world.equipment.pk,
            template_id=template.pk,
            title=title,
            lead_technician_id=world.technician.user_id,
            scheduled_start=when + timedelta(hours=1),
        )
    with clock.frozen_at(when + timedelta(minutes=30)):
        services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to="planned")
    wo.refresh_from_db()
    return wo


def started_work_order(world, *, when: datetime | None = None) -> WorkOrder:
    when = when or at("08:00")
    wo = planned_work_order(world, when=when)
    with clock.frozen_at(when + timedelta(hours=1)):
        services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to="in_progress")
    wo.refresh_from_db()
    return wo


def closed_work_order(world, *, when: datetime | None = None, minutes: int = 0) -> WorkOrder:
    """Started 09:00, completed 10:00 by the technician, closed 10:30 by the dispatcher (to invoice); with
    ``minutes`` of the technician's time from 09:00."""
    when = when or at("08:00")
    wo = started_work_order(world, when=when)
    item = wo.checklist.get()
    with clock.frozen_at(when + timedelta(hours=2)):
        if minutes:
            services.time_entry_create(
                actor=world.technician,
                work_order_id=wo.pk,
                started_at=when + timedelta(hours=1),
                duration_minutes=minutes,
            )
        services.checklist_answer(actor=world.technician, work_order_id=wo.pk, item_id=item.pk, value="2.5")
        services.work_order_transition(
            actor=world.technician, work_order_id=wo.pk, to="completed", resolution_notes="Seal replaced."
        )
    with clock.frozen_at(when + timedelta(hours=2, minutes=30)):
        services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to="closed")
    wo.refresh_from_db()
    return wo


def jpeg(size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def png(size=(300, 120)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(out, "PNG")
    return out.getvalue()
