"""API schemas of the field app: the bundle a phone keeps, the sync batch and its answers, the held queue.

The sync batch's shape is checked here (ids are UUIDs, ``seq`` a number, at most ``MAX_COMMANDS``); what a
command says is judged per command by the sync, so one bad command is refused without losing the others.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import Field

from .sync import MAX_COMMANDS

BIG = 2**62  # ids and sequence numbers fit a bigint column


# --- sync ---------------------------------------------------------------------------------------------


class CommandIn(Schema):
    mutation_id: UUID = Field(description="Made by the phone for this change; a replay returns the stored result.")
    seq: int = Field(ge=0, le=BIG, description="Increasing by one per device, from 1.")
    type: str = Field(min_length=1, max_length=20, description="transition, timer.start, time.add, part.use, …")
    work_order_id: int | None = Field(None, ge=1, le=BIG)
    payload: dict[str, Any] = Field(default_factory=dict)
    occurred_at: str | None = Field(None, max_length=64, description="The phone's clock, ISO 8601 with an offset.")
    base_version: int | None = Field(None, ge=0, le=2**31 - 1, description="The work order version it started from.")


class SyncIn(Schema):
    device_id: UUID
    commands: list[CommandIn] = Field(max_length=MAX_COMMANDS)


class WorkOrderState(Schema):
    id: int
    status: str
    version: int


class CommandAnswer(Schema):
    mutation_id: UUID
    status: str = Field(description="applied, refused, held, or pending (waiting for an earlier seq)")
    message: str
    result: dict[str, Any]
    work_order: WorkOrderState | None


class SyncOut(Schema):
    server_time: datetime
    results: list[CommandAnswer]


# --- bundle -------------------------------------------------------------------------------------------


class ClientOut(Schema):
    id: int
    name: str
    phone: str
    contact_name: str
    contact_phone: str


class SiteOut(Schema):
    id: int
    name: str
    address: str
    access_notes: str
    timezone: str
    latitude: Decimal | None
    longitude: Decimal | None


class HistoryOut(Schema):
    id: int
    number: str
    title: str
    status: str
    date: datetime
    resolution: str


class EquipmentOut(Schema):
    id: int
    name: str
    manufacturer: str
    model: str
    serial_number: str
    status: str
    history: list[HistoryOut]


class ChecklistItemOut(Schema):
    id: int
    label: str
    kind: str
    is_required: bool
    value: str


class TimeEntryOut(Schema):
    id: int
    technician: str
    is_mine: bool
    kind: str
    started_at: datetime
    ended_at: datetime | None
    duration_minutes: int | None
    is_running: bool
    note: str


class PartUsageOut(Schema):
    id: int
    part_id: int | None
    description: str
    quantity: Decimal
    unit: str


class NoteOut(Schema):
    id: int
    author: str
    body: str
    is_client_visible: bool
    created_at: datetime


class PhotoOut(Schema):
    id: int
    caption: str
    name: str
    content_type: str
    is_image: bool
    url: str
    thumbnail_url: str | None
    created_at: datetime


class SignatureOut(Schema):
    signed_by_name: str
    signed_at: datetime | None
    url: str


class MissingOut(Schema):
    guard: str
    message: str
    field: str | None


class TransitionOut(Schema):
    to: str
    name: str
    possible: bool
    problems: list[str]


class MeterOut(Schema):
    id: int
    name: str
    unit: str
    kind: str
    last_value: Decimal | None
    last_read_at: datetime | None


class BundleWorkOrder(Schema):
    id: int
    number: str
    title: str
    description: str
    status: str
    priority: str
    version: int
    hold_reason: str
    status_reason: str
    resolution_notes: str
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    due_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    is_lead: bool
    client: ClientOut
    site: SiteOut
    equipment: EquipmentOut | None
    checklist: list[ChecklistItemOut]
    time_entries: list[TimeEntryOut]
    part_usages: list[PartUsageOut]
    notes: list[NoteOut]
    photos: list[PhotoOut]
    signature: SignatureOut | None
    requires_signature: bool
    missing: list[MissingOut] = Field(description="Completion guards still unmet (DOMAIN.md §1).")
    transitions: list[TransitionOut] = Field(description="What the technician may do next, with what blocks it.")
    meters: list[MeterOut]


class FieldMessageOut(Schema):
    mutation_id: UUID
    type: str
    work_order_id: int | None
    status: str
    hold_reason: str
    resolution: str
    message: str
    resolved_at: datetime | None


class PartOut(Schema):
    id: int
    sku: str
    name: str
    unit: str
    barcode: str


class BundleOut(Schema):
    server_time: datetime
    days: int
    work_orders: list[BundleWorkOrder]
    parts: list[PartOut] = Field(
        description="Catalogue parts to search offline: those planned on these work orders, and the "
        "organization's most used active parts (200, by use in the last 90 days, then by name)."
    )
    held: list[FieldMessageOut] = Field(description="Your changes held for the office, and its recent decisions.")


# --- devices and the held queue ------------------------------------------------------------------------


class UserRefOut(Schema):
    id: int
    name: str


class DeviceOut(Schema):
    id: int
    device_id: UUID
    user: UserRefOut
    label: str
    first_seen_at: datetime
    last_seen_at: datetime
    last_seq: int
    pending: int
    held: int


class ConflictOut(Schema):
    field: str
    label: str
    base: Any = None
    server: Any = None
    device: Any = None


class HeldWorkOrderOut(Schema):
    id: int
    number: str
    title: str
    status: str
    billing_status: str


class HeldOut(Schema):
    id: int
    mutation_id: UUID
    type: str
    type_label: str
    summary: str
    technician: UserRefOut
    device: str
    work_order: HeldWorkOrderOut | None
    occurred_at: datetime | None = Field(description="The phone's clock.")
    received_at: datetime
    effective_at: datetime | None = Field(description="The time used.")
    time_flagged: bool
    time_note: str
    hold_reason: str
    hold_reason_label: str
    message: str
    conflicts: list[ConflictOut]
    status: str
    resolution: str
    resolution_reason: str


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)
