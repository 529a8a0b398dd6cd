"""Inventory: the parts catalogue and its categories (stock levels and locations come later)."""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fixflow.core.models import VersionedModel


class PartCategory(VersionedModel):
    """A group of parts (filters, seals, refrigerants…): service contracts cover parts by category."""

    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("part category")
        verbose_name_plural = _("part categories")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="part_category_unique_name")]

    def __str__(self) -> str:
        return self.name


class Part(VersionedModel):
    """A catalogue item that technicians use on work orders, with its cost and sale price."""

    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, default="pc", help_text=_("pc, m, l, kg…"))
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    sale_price = models.DecimalField(
        _("sale price"), max_digits=12, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    category = models.ForeignKey(
        PartCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="parts", verbose_name=_("category")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "sku"], name="part_unique_sku")]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"
