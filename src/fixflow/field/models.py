"""Field work: the devices technicians sync from, the log of their offline commands, and the base values
a field edit is merged against (DOMAIN.md §5)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fixflow.core.models import TenantModel

from .choices import CommandStatus, CommandType, HoldReason, Resolution

USER = settings.AUTH_USER_MODEL


class Device(TenantModel):
    """A phone or browser one technician syncs from, known by the UUID the app made for itself.

    Commands are applied in the order of their ``seq`` per device (and user: two people signing in on one
    shared phone keep separate queues). ``last_seq`` is the highest sequence number applied so far: the
    point the next command must follow.
    """

    device_id = models.UUIDField(_("device id"))
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="field_devices", verbose_name=_("user"))
    label = models.CharField(_("label"), max_length=200, blank=True, help_text=_("The browser it identified as."))
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    last_seq = models.BigIntegerField(_("last sequence number applied"), default=0)

    class Meta:
        verbose_name = _("device")
        ordering = ["-last_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user", "device_id"], name="field_device_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.label or self.device_id}"


class SyncCommand(TenantModel):
    """One offline action of a technician as it reached the server: the mutation log.

    Stored before it is applied (``pending``), so a replay of the same ``mutation_id`` (unique per
    organization) answers with the stored outcome instead of applying it twice. ``occurred_at`` is the
    phone's clock, ``received_at`` the server's; ``effective_at`` is the one used (the phone's when it is
    within bounds, else the server's, and ``time_flagged``). A held command waits in the office's queue
    until someone accepts or rejects it (``resolution``).
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands", verbose_name=_("device"))
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+", verbose_name=_("technician"))
    mutation_id = models.UUIDField(_("mutation id"))
    seq = models.BigIntegerField(_("sequence number"))
    type = models.CharField(_("type"), max_length=20)
    work_order = models.ForeignKey(
        "service.WorkOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("work order"),
    )
    work_order_ref = models.BigIntegerField(_("work order id sent"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    base_version = models.PositiveIntegerField(_("base version"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("device time"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"))
    effective_at = models.DateTimeField(_("time used"), null=True, blank=True)
    time_flagged = models.BooleanField(_("device time not used"), default=False)
    time_note = models.CharField(_("why the device time was not used"), max_length=300, blank=True)
    applied_at = models.DateTimeField(_("decided"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CommandStatus.choices, default=CommandStatus.PENDING)
    message = models.TextField(_("message"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    hold_reason = models.CharField(_("held because"), max_length=10, choices=HoldReason.choices, blank=True)
    conflict = models.JSONField(
        _("conflicting fields"),
        default=dict,
        blank=True,
        help_text=_("Per field: the value the phone started from, the server's value and the phone's value."),
    )
    paired_with = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pairs",
        help_text=_("A held timer stop belongs to the held timer start it ends."),
    )
    resolution = models.CharField(_("resolution"), max_length=10, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("synced command")
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "mutation_id"], name="field_command_unique_mutation"),
            models.CheckConstraint(
                condition=~Q(status="held") | ~Q(hold_reason=""), name="field_command_held_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["device", "status", "seq"], name="field_cmd_device_queue"),
            models.Index(fields=["organization", "status", "received_at"], name="field_cmd_org_status"),
            models.Index(fields=["user", "status", "resolved_at"], name="field_cmd_user_status"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq} · {self.status}"

    @property
    def type_label(self) -> str:
        try:
            return str(CommandType(self.type).label)
        except ValueError:
            return self.type


class FieldBase(TenantModel):
    """The values of a work order's editable fields at one version, as a bundle handed them to a phone.

    A field edit made offline names the version it started from; these values are its base in the
    three-way merge (base / server / phone) that tells a change made on one side from a conflict.
    """

    work_order = models.ForeignKey("service.WorkOrder", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work_order", "version"], name="field_base_unique_version")]
