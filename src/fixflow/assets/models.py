"""Assets: the equipment a client owns at a site, in a hierarchy, with a public token for QR codes."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from fixflow.core.models import VersionedModel

from .choices import Criticality, EquipmentStatus


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
