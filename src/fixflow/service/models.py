"""Service: requests, templates, work orders and everything recorded on them."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fixflow.core.models import TenantModel, VersionedModel

from .choices import (
    PRIORITY_RANK,
    STATUS_CATEGORY,
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

USER = settings.AUTH_USER_MODEL


class WorkOrderTemplate(VersionedModel):
    """A standard job: its type, default priority, duration, checklist, parts and requirements."""

    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=WorkOrderType.choices, default=WorkOrderType.CORRECTIVE)
    default_priority = models.CharField(
        _("default priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    description = models.TextField(_("instructions"), blank=True)
    estimated_duration_minutes = models.PositiveIntegerField(_("estimated duration (minutes)"), null=True, blank=True)
    is_billable = models.BooleanField(_("billable by default"), default=True)
    requires_equipment = models.BooleanField(
        _("equipment required"),
        default=True,
        help_text=_("Untick for site-level work that is not done on one piece of equipment."),
    )
    requires_signature = models.BooleanField(_("client signature required"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("work order template")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="template_unique_name")]

    def __str__(self) -> str:
        return self.name


class TemplateChecklistItem(TenantModel):
    """One step of a template's checklist, copied onto each work order made from it."""

    template = models.ForeignKey(WorkOrderTemplate, on_delete=models.CASCADE, related_name="checklist_items")
    position = models.PositiveIntegerField(default=0)
    label = models.CharField(_("label"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=ChecklistKind.choices, default=ChecklistKind.CHECKBOX)
    is_required = models.BooleanField(_("required"), default=False)

    class Meta:
        ordering = ["position", "id"]


class TemplatePart(TenantModel):
    """A part a template usually needs; becomes a planned material on the work order."""

    template = models.ForeignKey(WorkOrderTemplate, on_delete=models.CASCADE, related_name="parts")
    part = models.ForeignKey("inventory.Part", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=12, decimal_places=3, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["id"]


class WorkRequest(VersionedModel):
    """A reported problem, before anyone has turned it into planned work."""

    source = models.CharField(_("source"), max_length=10, choices=RequestSource.choices, default=RequestSource.WEB)
    requester = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("requested by")
    )
    requester_name = models.CharField(_("requester name"), max_length=200, blank=True)
    requester_email = models.EmailField(_("requester e-mail"), blank=True)
    client = models.ForeignKey("customers.Client", on_delete=models.PROTECT, related_name="+", verbose_name=_("client"))
    site = models.ForeignKey("customers.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    equipment = models.ForeignKey(
        "assets.Equipment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("equipment"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    suggested_priority = models.CharField(
        _("suggested priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.NEW)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("duplicate of")
    )
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("work request")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def reference(self) -> str:
        return f"REQ-{self.pk}"


class WorkOrder(VersionedModel):
    """A unit of planned work on a client's site and equipment, from creation to closing.

    ``status`` is written only by ``services.work_order_transition``; ``billing_status`` only by the
    billing services. ``version`` increases on every change so stale edits are refused.
    """

    number = models.CharField(_("number"), max_length=32)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(_("type"), max_length=20, choices=WorkOrderType.choices, default=WorkOrderType.CORRECTIVE)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    client = models.ForeignKey(
        "customers.Client", on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("client")
    )
    site = models.ForeignKey(
        "customers.Site", on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("site")
    )
    equipment = models.ForeignKey(
        "assets.Equipment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
        verbose_name=_("equipment"),
    )
    template = models.ForeignKey(
        WorkOrderTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work_orders",
        verbose_name=_("template"),
    )
    request = models.OneToOneField(
        WorkRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work_order",
        verbose_name=_("from request"),
    )
    follow_up_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
    )
    lead_technician = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_work_orders",
        verbose_name=_("lead technician"),
    )
    helpers = models.ManyToManyField(
        USER, through="WorkOrderHelper", related_name="helper_work_orders", blank=True, verbose_name=_("helpers")
    )
    scheduled_start = models.DateTimeField(_("scheduled start"), null=True, blank=True)
    scheduled_end = models.DateTimeField(_("scheduled end"), null=True, blank=True)
    estimated_duration_minutes = models.PositiveIntegerField(_("estimated duration (minutes)"), null=True, blank=True)
    priority_rank = models.GeneratedField(
        expression=models.Case(
            *[models.When(priority=p, then=models.Value(r)) for p, r in PRIORITY_RANK.items()],
            default=models.Value(9),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
        verbose_name=_("priority rank"),
        help_text=_("0 for critical … 3 for low: sorts by urgency from an index."),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW, editable=False)
    hold_reason = models.CharField(_("hold reason"), max_length=20, choices=HoldReason.choices, blank=True)
    status_reason = models.TextField(
        _("reason"), blank=True, help_text=_("Why it was put on hold, reopened or cancelled.")
    )
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    is_billable = models.BooleanField(_("billable"), default=True)
    billing_status = models.CharField(
        _("billing status"),
        max_length=12,
        choices=BillingStatus.choices,
        default=BillingStatus.NOT_BILLABLE,
        editable=False,
    )
    no_charge_reason = models.TextField(_("no-charge reason"), blank=True)
    requires_equipment = models.BooleanField(_("equipment required"), default=True)
    requires_signature = models.BooleanField(_("client signature required"), default=False)
    reports_equipment_down = models.BooleanField(
        _("equipment is down"),
        default=False,
        help_text=_("The equipment is out of service until this work is completed."),
    )
    signature = models.ImageField(_("client signature"), upload_to="signatures/%Y/%m/", null=True, blank=True)
    signed_by_name = models.CharField(_("signed by"), max_length=200, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The SLA summary kept by fixflow.sla (the worst state of the current targets, and the earliest due
    # instant of a target not yet met): what lists filter and sort on. Not versioned: nobody edits it.
    sla_state = models.CharField(_("SLA state"), max_length=10, blank=True, editable=False)
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("work order")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="work_order_unique_number"),
            models.CheckConstraint(
                condition=~Q(billing_status="no_charge") | ~Q(no_charge_reason=""),
                name="work_order_no_charge_needs_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "scheduled_start", "id"], name="wo_org_sched"),
            models.Index(fields=["organization", "status", "scheduled_start", "id"], name="wo_org_status_sched"),
            models.Index(
                fields=["organization", "lead_technician", "status", "scheduled_start", "id"],
                name="wo_org_tech_status_sched",
            ),
            models.Index(
                fields=["organization", "status", "priority", "scheduled_start", "id"], name="wo_org_status_prio_sched"
            ),
            models.Index(fields=["organization", "-created_at", "-id"], name="wo_org_created"),
            models.Index(fields=["organization", "priority_rank", "scheduled_start", "id"], name="wo_org_rank_sched"),
            models.Index(
                fields=["organization", "status", "priority_rank", "scheduled_start", "id"],
                name="wo_org_status_rank_sched",
            ),
            models.Index(fields=["organization", "billing_status", "closed_at"], name="wo_org_billing"),
            models.Index(fields=["equipment", "-created_at"], name="wo_equipment_history"),
            models.Index(fields=["organization", "sla_due_at", "id"], name="wo_org_sla_due"),
            models.Index(fields=["organization", "sla_state", "sla_due_at", "id"], name="wo_org_sla_state_due"),
            models.Index(fields=["client", "-created_at"], name="wo_client_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.title}"

    @property
    def status_category(self) -> str:
        return STATUS_CATEGORY[Status(self.status)]


class WorkOrderHelper(TenantModel):
    """A technician who helps the lead technician on a work order."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="helper_links")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work_order", "user"], name="helper_once_per_work_order")]


class ChecklistAnswer(TenantModel):
    """A checklist item on one work order (copied from its template) and the technician's answer."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveIntegerField(default=0)
    label = models.CharField(_("label"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=ChecklistKind.choices, default=ChecklistKind.CHECKBOX)
    is_required = models.BooleanField(_("required"), default=False)
    value = models.CharField(_("answer"), max_length=500, blank=True)
    answered_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    @property
    def is_answered(self) -> bool:
        return self.value != ""


class PlannedMaterial(TenantModel):
    """A part (or free-text material) identified while planning, compared later with what was used."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="planned_materials")
    part = models.ForeignKey("inventory.Part", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)])
    unit = models.CharField(_("unit"), max_length=20, default="pc")

    class Meta:
        ordering = ["id"]


class TimeEntry(TenantModel):
    """Time a technician spent on a work order. ``ended_at`` empty means a running timer."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="time_entries")
    technician = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="time_entries")
    kind = models.CharField(_("kind"), max_length=10, choices=TimeKind.choices, default=TimeKind.LABOUR)
    started_at = models.DateTimeField(_("start"))
    ended_at = models.DateTimeField(_("end"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    is_billable = models.BooleanField(_("billable"), default=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "technician"],
                condition=Q(ended_at=None),
                name="one_running_timer_per_technician_and_work_order",
            ),
            models.CheckConstraint(
                condition=Q(ended_at=None) | Q(ended_at__gte=models.F("started_at")), name="time_entry_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["organization", "technician", "started_at"])]

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class PartUsage(TenantModel):
    """A part (from the catalogue or free text) used on a work order, with cost and price copied."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="part_usages")
    part = models.ForeignKey("inventory.Part", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)])
    unit = models.CharField(_("unit"), max_length=20, default="pc")
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=4, default=0)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4, default=0)
    is_billable = models.BooleanField(_("billable"), default=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("part usage")
        ordering = ["created_at", "id"]
        # the parts a technician's phone keeps: the organization's most used in the last 90 days
        indexes = [models.Index(fields=["organization", "created_at"], name="partusage_org_created")]


class WorkOrderNote(TenantModel):
    """A note or finding; client-visible notes appear in the portal and on reports."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("note"))
    is_client_visible = models.BooleanField(_("visible to the client"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


def attachment_path(instance, filename: str) -> str:
    # The stored name never derives from the uploaded name (see services.attachment_add).
    return f"attachments/{instance.organization_id}/{filename}"


class Attachment(TenantModel):
    """A validated file on a work request or work order (photo, PDF, office document)."""

    work_order = models.ForeignKey(
        WorkOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    work_request = models.ForeignKey(
        WorkRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    thumbnail = models.ImageField(upload_to=attachment_path, null=True, blank=True, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    is_client_visible = models.BooleanField(_("visible to the client"), default=False)
    uploaded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(work_order__isnull=False) | Q(work_request__isnull=False), name="attachment_has_owner"
            ),
        ]

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class WorkOrderEvent(TenantModel):
    """One line of a work order's timeline: a transition or a material change, who, when, why.

    ``occurred_at`` is when it happened (a phone's clock when within bounds); ``recorded_at`` is when
    the server stored it.
    """

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["work_order", "recorded_at", "id"])]
