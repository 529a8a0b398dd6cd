"""API schemas for templates, work requests, work orders and what is recorded on them.

Inputs are ``…In`` / ``…Patch``; outputs are explicit ``…Out`` schemas with small nested references
(client, site, equipment, people) — never "all fields". Instants are ISO 8601 with an offset; inputs
without one are refused.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import AwareDatetime, Field

from fixflow.assets.schemas import ClientRef, EquipmentRef, SiteRef, UserRef
from fixflow.inventory.schemas import PartRef

TypeValue = Literal["corrective", "preventive", "inspection", "installation"]
PriorityValue = Literal["critical", "high", "normal", "low"]
StatusValue = Literal["new", "planned", "in_progress", "on_hold", "completed", "closed", "cancelled"]
BillingStatusValue = Literal["not_billable", "to_invoice", "invoiced", "no_charge"]
HoldReasonValue = Literal["waiting_for_client", "waiting_for_parts", "waiting_for_access", "other"]
ChecklistKindValue = Literal["checkbox", "number", "text", "pass_fail"]
RequestStatusValue = Literal["new", "accepted", "rejected", "duplicate"]
RequestSourceValue = Literal["web", "api", "portal", "qr", "email"]
TimeKindValue = Literal["labour", "travel"]


class Ref(Schema):
    id: int
    name: str


class WorkOrderRef(Schema):
    id: int
    number: str
    title: str


# --- templates -------------------------------------------------------------------------------------


class TemplateChecklistItemIn(Schema):
    label: str = Field(min_length=1, max_length=200)
    kind: ChecklistKindValue = "checkbox"
    is_required: bool = False


class TemplatePartIn(Schema):
    part_id: int
    quantity: Decimal = Field(Decimal(1), gt=0, max_digits=12, decimal_places=3)


class TemplateIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    type: TypeValue = "corrective"
    default_priority: PriorityValue = "normal"
    description: str = ""
    estimated_duration_minutes: int | None = Field(None, gt=0)
    is_billable: bool = True
    requires_equipment: bool = True
    requires_signature: bool = False
    is_active: bool = True
    checklist: list[TemplateChecklistItemIn] = []
    parts: list[TemplatePartIn] = []


class TemplatePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    type: TypeValue | None = None
    default_priority: PriorityValue | None = None
    description: str | None = None
    estimated_duration_minutes: int | None = Field(None, gt=0)
    is_billable: bool | None = None
    requires_equipment: bool | None = None
    requires_signature: bool | None = None
    is_active: bool | None = None
    checklist: list[TemplateChecklistItemIn] | None = Field(None, description="Replaces the whole checklist.")
    parts: list[TemplatePartIn] | None = Field(None, description="Replaces all template parts.")


class TemplateChecklistItemOut(Schema):
    id: int
    position: int
    label: str
    kind: ChecklistKindValue
    is_required: bool


class TemplatePartOut(Schema):
    id: int
    part: PartRef
    quantity: Decimal


class TemplateOut(Schema):
    id: int
    name: str
    type: TypeValue
    default_priority: PriorityValue
    description: str
    estimated_duration_minutes: int | None
    is_billable: bool
    requires_equipment: bool
    requires_signature: bool
    is_active: bool
    checklist: list[TemplateChecklistItemOut] = Field(alias="checklist_items")
    parts: list[TemplatePartOut]
    version: int
    created_at: datetime
    updated_at: datetime


# --- work requests ---------------------------------------------------------------------------------


class WorkRequestIn(Schema):
    site_id: int
    client_id: int | None = Field(None, description="Defaults to the site's client.")
    equipment_id: int | None = None
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    suggested_priority: PriorityValue = "normal"


class WorkRequestRejectIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class WorkRequestDuplicateIn(Schema):
    duplicate_of_id: int


class WorkRequestConvertIn(Schema):
    template_id: int | None = None
    priority: PriorityValue | None = Field(None, description="Defaults to the request's suggested priority.")
    type: TypeValue | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    equipment_id: int | None = Field(None, description="Defaults to the request's equipment.")
    lead_technician_id: int | None = None
    scheduled_start: AwareDatetime | None = None
    scheduled_end: AwareDatetime | None = None


class WorkRequestOut(Schema):
    id: int
    reference: str
    status: RequestStatusValue
    source: RequestSourceValue
    title: str
    description: str
    suggested_priority: PriorityValue
    client: ClientRef
    site: SiteRef
    equipment: EquipmentRef | None
    requester: UserRef | None
    requester_name: str
    requester_email: str
    rejection_reason: str
    duplicate_of_id: int | None
    decided_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class WorkRequestDetailOut(WorkRequestOut):
    decided_by: UserRef | None
    work_order: WorkOrderRef | None

    @staticmethod
    def resolve_work_order(obj) -> Any:
        return getattr(obj, "work_order", None)


# --- work orders -----------------------------------------------------------------------------------


class WorkOrderIn(Schema):
    site_id: int
    client_id: int | None = Field(None, description="Defaults to the site's client.")
    equipment_id: int | None = None
    template_id: int | None = None
    title: str | None = Field(None, min_length=1, max_length=200, description="Defaults to the template's name.")
    description: str = Field("", max_length=20000)
    type: TypeValue | None = None
    priority: PriorityValue | None = None
    lead_technician_id: int | None = None
    helper_ids: list[int] = []
    scheduled_start: AwareDatetime | None = None
    scheduled_end: AwareDatetime | None = None
    estimated_duration_minutes: int | None = Field(None, gt=0)
    is_billable: bool | None = None
    reports_equipment_down: bool = False
    requires_equipment: bool | None = Field(None, description="Defaults to the template's setting (or true).")


class WorkOrderPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20000)
    type: TypeValue | None = None
    priority: PriorityValue | None = None
    equipment_id: int | None = None
    is_billable: bool | None = None
    reports_equipment_down: bool | None = None
    lead_technician_id: int | None = Field(None, description="null unassigns (only while new).")
    helper_ids: list[int] | None = None
    scheduled_start: AwareDatetime | None = None
    scheduled_end: AwareDatetime | None = None
    estimated_duration_minutes: int | None = Field(None, gt=0)
    resolution_notes: str | None = Field(None, max_length=20000)


class WorkOrderFilter(Schema):
    status: list[str] | None = Field(None, description="Comma-separated or repeated: status=new,planned")
    priority: list[str] | None = None
    type: list[str] | None = None
    billing_status: list[str] | None = None
    technician: str | None = Field(None, description="A user id, or `me`: lead technician or helper.")
    client: int | None = None
    site: int | None = None
    equipment: int | None = None
    template: int | None = None
    open: bool | None = Field(None, description="Only new, planned, in progress or on hold.")
    overdue: bool | None = Field(None, description="Not started and past its scheduled end.")
    unassigned: bool | None = None
    scheduled_from: AwareDatetime | None = None
    scheduled_to: AwareDatetime | None = None
    q: str | None = Field(None, description="Number, title, client, site or equipment name contains.")
    sla_state: list[str] | None = Field(
        None,
        description="The worst state of the current SLA targets, comma-separated or repeated: "
        "pending, at_risk, paused, breached, met.",
    )
    sla_due_before: str | None = Field(
        None, description="The earliest open SLA due instant is before this ISO 8601 instant (with an offset)."
    )
    sla_due_after: str | None = Field(
        None, description="The earliest open SLA due instant is at or after this ISO 8601 instant (with an offset)."
    )
    sort: Literal[
        "scheduled_start",
        "-scheduled_start",
        "created",
        "-created",
        "priority",
        "number",
        "-number",
        "sla_due",
        "-sla_due",
    ] = Field("-created", description="sla_due: the earliest open SLA due instant first (work without one last).")
    cursor: str | None = None
    limit: int = 50


SlaStateValue = Literal["pending", "paused", "at_risk", "met", "breached", "cancelled"]


class SlaTargetStatusOut(Schema):
    """One current SLA target of a work order: its state and the business time left."""

    target: Literal["response", "resolution"]
    state: SlaStateValue
    due_at: datetime | None = Field(description="Empty while the clock is paused.")
    remaining_minutes: int | None = Field(
        description="Business minutes left (negative: overdue); empty once met or cancelled."
    )


class WorkOrderSummaryOut(Schema):
    """A row of the work order list."""

    id: int
    number: str
    title: str
    type: TypeValue
    priority: PriorityValue
    status: StatusValue
    status_category: str
    billing_status: BillingStatusValue
    client: ClientRef
    site: SiteRef
    equipment: EquipmentRef | None
    lead_technician: UserRef | None
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    sla_state: SlaStateValue | Literal[""] = Field(
        description="The worst state of the current SLA targets (empty: no SLA applies)."
    )
    sla_due_at: datetime | None = Field(description="The earliest due instant of an open SLA target.")
    version: int
    created_at: datetime
    updated_at: datetime


class WorkOrderOut(WorkOrderSummaryOut):
    """One work order with its details (its checklist, time, parts, notes and files are sub-resources)."""

    description: str
    template: Ref | None
    request_id: int | None
    follow_up_of: WorkOrderRef | None
    helpers: list[UserRef]
    estimated_duration_minutes: int | None
    hold_reason: HoldReasonValue | Literal[""]
    status_reason: str
    resolution_notes: str
    is_billable: bool
    no_charge_reason: str
    requires_equipment: bool
    requires_signature: bool
    reports_equipment_down: bool
    has_signature: bool
    signed_by_name: str
    signed_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    completed_by: UserRef | None
    closed_at: datetime | None
    closed_by: UserRef | None
    cancelled_at: datetime | None
    created_by: UserRef | None
    sla: list[SlaTargetStatusOut] = Field(
        description="Per current SLA target (response, resolution): state, due instant and business minutes left. "
        "GET /work-orders/{id}/sla explains them."
    )

    @staticmethod
    def resolve_has_signature(obj) -> bool:
        return bool(obj.signature)

    @staticmethod
    def resolve_sla(obj) -> list:
        return getattr(obj, "sla_targets", [])


class TransitionIn(Schema):
    to: StatusValue
    reason: str = Field("", max_length=2000, description="Required to cancel or reopen.")
    hold_reason: HoldReasonValue | Literal[""] = Field("", description="Required to put on hold.")
    resolution_notes: str | None = Field(None, max_length=20000, description="Set together with completing.")


class GuardOut(Schema):
    guard: str
    message: str
    field: str | None


class TransitionOptionOut(Schema):
    to: StatusValue
    name: str
    is_possible: bool
    reason_required: bool
    hold_reason_required: bool
    unmet: list[GuardOut]


class FollowUpIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class BillingIn(Schema):
    billing_status: Literal["to_invoice", "no_charge"]
    reason: str = Field("", max_length=2000, description="Required for no_charge.")


class EventOut(Schema):
    id: int
    kind: str
    from_status: StatusValue | Literal[""]
    to_status: StatusValue | Literal[""]
    reason: str
    data: dict[str, Any]
    actor: UserRef | None
    occurred_at: datetime
    recorded_at: datetime


class SignatureIn(Schema):
    image_png_base64: str = Field(
        min_length=1, description="The drawn signature as a base64 PNG (a data: URL is accepted too), at most 1 MB."
    )
    signed_by_name: str = Field(min_length=1, max_length=200)


# --- checklist, planned materials ------------------------------------------------------------------


class ChecklistItemOut(Schema):
    id: int
    work_order_id: int
    position: int
    label: str
    kind: ChecklistKindValue
    is_required: bool
    value: str
    is_answered: bool
    answered_by: UserRef | None
    answered_at: datetime | None


class ChecklistAnswerIn(Schema):
    value: bool | int | float | str | None = Field(
        description='checkbox: true/false; number: a number; pass_fail: "pass" or "fail"; text: any text. '
        'null or "" clears the answer.'
    )


class PlannedMaterialIn(Schema):
    part_id: int | None = None
    description: str = Field("", max_length=200, description="Free text when the part is not in the catalogue.")
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    unit: str | None = Field(None, max_length=20)


class PlannedMaterialOut(Schema):
    id: int
    work_order_id: int
    part: PartRef | None
    description: str
    quantity: Decimal
    unit: str


# --- time, parts, notes, attachments ---------------------------------------------------------------


class TimerStartIn(Schema):
    kind: TimeKindValue = "labour"


class TimeEntryIn(Schema):
    work_order_id: int
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(None, gt=0, le=24 * 60)
    technician_id: int | None = Field(None, description="Office roles may record time for others; default: you.")
    kind: TimeKindValue = "labour"
    is_billable: bool | None = None
    note: str = Field("", max_length=500)


class TimeEntryFilter(Schema):
    work_order: int | None = None
    technician: str | None = Field(None, description="A user id or `me`.")
    kind: TimeKindValue | None = None
    started_from: AwareDatetime | None = None
    started_to: AwareDatetime | None = None
    cursor: str | None = None
    limit: int = 50


class TimeEntryOut(Schema):
    id: int
    work_order_id: int
    technician: UserRef
    kind: TimeKindValue
    started_at: datetime
    ended_at: datetime | None
    duration_minutes: int | None
    is_running: bool
    is_billable: bool
    note: str
    created_at: datetime


class PartUsageIn(Schema):
    work_order_id: int
    part_id: int | None = None
    description: str = Field("", max_length=200, description="Free text when the part is not in the catalogue.")
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    unit: str | None = Field(None, max_length=20)
    unit_cost: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=4)
    is_billable: bool | None = None


class PartUsageFilter(Schema):
    work_order: int | None = None
    part: int | None = None
    cursor: str | None = None
    limit: int = 50


class PartUsageOut(Schema):
    id: int
    work_order_id: int
    part: PartRef | None
    description: str
    quantity: Decimal
    unit: str
    unit_cost: Decimal
    unit_price: Decimal
    is_billable: bool
    created_by: UserRef | None
    created_at: datetime


class NoteIn(Schema):
    work_order_id: int
    body: str = Field(min_length=1, max_length=20000)
    is_client_visible: bool = False


class NoteFilter(Schema):
    work_order: int | None = None
    cursor: str | None = None
    limit: int = 50


class NoteOut(Schema):
    id: int
    work_order_id: int
    author: UserRef | None
    body: str
    is_client_visible: bool
    created_at: datetime


class AttachmentFilter(Schema):
    work_order: int | None = None
    work_request: int | None = None
    cursor: str | None = None
    limit: int = 50


class AttachmentOut(Schema):
    id: int
    work_order_id: int | None
    work_request_id: int | None
    original_name: str
    content_type: str
    size_bytes: int
    caption: str
    is_client_visible: bool
    is_image: bool
    uploaded_by: UserRef | None
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_download_url(obj) -> str:
        return f"/api/v1/attachments/{obj.pk}/download"


class WorkRequestFilter(Schema):
    status: list[str] | None = Field(None, description="Comma-separated or repeated.")
    client: int | None = None
    site: int | None = None
    equipment: int | None = None
    source: RequestSourceValue | None = None
    q: str | None = None
    cursor: str | None = None
    limit: int = 50


class TemplateFilter(Schema):
    q: str | None = None
    is_active: bool | None = None
    type: TypeValue | None = None
    cursor: str | None = None
    limit: int = 50
