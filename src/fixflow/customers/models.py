"""Customers: the clients a maintenance company serves, their contacts and their sites."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fixflow.core.models import VersionedModel, validate_timezone


class Client(VersionedModel):
    """A customer (or, for an in-house team, an internal department) that owns sites and equipment."""

    name = models.CharField(_("name"), max_length=200)
    billing_address = models.TextField(_("billing address"), blank=True)
    vat_id = models.CharField(_("VAT id"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("client")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="client_unique_name")]
        indexes = [models.Index(fields=["organization", "is_active", "name"])]

    def __str__(self) -> str:
        return self.name


class Contact(VersionedModel):
    """A person at a client: who to call, who receives quotes and reports."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("client"))
    name = models.CharField(_("name"), max_length=200)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("contact")
        ordering = ["-is_primary", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Site(VersionedModel):
    """A place where work happens: a building, plant or shop of one client, in its own time zone."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="sites", verbose_name=_("client"))
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Berlin",
        validators=[validate_timezone],
        help_text=_("IANA time zone of the site, e.g. Europe/Berlin or America/New_York."),
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    access_notes = models.TextField(_("access notes"), blank=True, help_text=_("Keys, codes, parking, contacts."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("site")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="site_unique_name_per_client")]

    def __str__(self) -> str:
        return self.name
