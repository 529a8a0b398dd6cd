"""Assets: the equipment a client owns at a site, in a hierarchy, with a public token for QR codes."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fixflow.core.models import TenantModel, VersionedModel

from .choices import Criticality, EquipmentStatus, MeterKind, ReadingKind, ReadingSource


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


class EquipmentCategory(VersionedModel):
    """A kind of equipment (boiler, chiller, lift…), used to group and to target maintenance plans."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("equipment category")
        verbose_name_plural = _("equipment categories")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="category_unique_name")]

    def __str__(self) -> str:
        return self.name


class Equipment(VersionedModel):
    """A maintained item at a site; may be part of a larger item (a pump inside a chiller plant)."""

    site = models.ForeignKey(
        "customers.Site", on_delete=models.PROTECT, related_name="equipment", verbose_name=_("site")
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("part of")
    )
    category = models.ForeignKey(
        EquipmentCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="equipment",
        verbose_name=_("category"),
    )
    name = models.CharField(_("name"), max_length=200)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    install_date = models.DateField(_("install date"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    criticality = models.CharField(
        _("criticality"), max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=12, choices=EquipmentStatus.choices, default=EquipmentStatus.OPERATIONAL
    )
    public_token = models.CharField(
        _("public token"),
        max_length=32,
        unique=True,
        default=new_public_token,
        editable=False,
        help_text=_("Used in the QR code request link."),
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "site", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def client_id(self) -> int:
        return self.site.client_id


class Meter(VersionedModel):
    """A counter or gauge on an equipment item (running hours, km, cycles, pressure).

    A continuous meter keeps a lifetime value that never goes down: a replaced meter or a display
    that wrapped round is recorded as such, not as a lower reading (DOMAIN.md §3 rule 4).
    """

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="meters")
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=20, help_text=_("h, km, cycles, bar…"))
    kind = models.CharField(_("kind"), max_length=10, choices=MeterKind.choices, default=MeterKind.CONTINUOUS)
    rollover_at = models.DecimalField(
        _("rolls over at"),
        max_digits=16,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("The value after which the display starts again at zero (e.g. 99999.9)."),
    )
    usage_window_days = models.PositiveIntegerField(
        _("usage rate window (days)"), default=30, help_text=_("The usage rate is the average over this window.")
    )
    last_value = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True, editable=False)
    lifetime_value = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True, editable=False)
    last_read_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("meter")
        ordering = ["equipment", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["equipment", "name"], name="meter_unique_name_per_equipment")]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


class MeterReading(TenantModel):
    """One reading: the displayed ``value`` and, for continuous meters, the ``lifetime`` it makes."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings")
    value = models.DecimalField(_("reading"), max_digits=16, decimal_places=3)
    lifetime = models.DecimalField(_("lifetime value"), max_digits=16, decimal_places=3)
    kind = models.CharField(_("kind"), max_length=12, choices=ReadingKind.choices, default=ReadingKind.READING)
    read_at = models.DateTimeField(_("read at"))
    source = models.CharField(_("source"), max_length=10, choices=ReadingSource.choices, default=ReadingSource.PAGE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    work_order = models.ForeignKey(
        "service.WorkOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="meter_readings"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meter reading")
        ordering = ["-read_at", "-id"]
        indexes = [models.Index(fields=["meter", "-read_at", "-id"], name="meter_reading_recent")]
