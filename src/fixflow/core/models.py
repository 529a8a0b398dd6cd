"""Tenancy, users, roles and the cross-cutting records every app uses."""

import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .currencies import CURRENCY_CHOICES

TIMEZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz or tz == "UTC")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone such as Europe/Berlin."), params={"value": value})


class Organization(models.Model):
    """A tenant: one maintenance company or in-house team. Every tenant-owned row points to one."""

    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_timezone])
    work_order_prefix = models.CharField(
        _("work order number prefix"), max_length=10, default="WO", help_text=_("Numbers look like WO-2026-00042.")
    )
    reopen_window_days = models.PositiveIntegerField(
        _("reopen window (days)"),
        default=14,
        help_text=_("A closed work order can be reopened within this many days; later a follow-up is created."),
    )
    requires_four_eyes_review = models.BooleanField(
        _("four-eyes review"),
        default=True,
        help_text=_("The technician who completed a work order may not close it."),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class TenantModel(models.Model):
    """Base for every row owned by an organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address. Roles live on memberships, per organization."""

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("can use the admin site"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email


class Membership(TenantModel):
    """A user's role in one organization; client users are bound to one client."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    client = models.ForeignKey(
        "customers.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
        help_text=_("Only for client users: the client whose data they see."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_one_per_org"),
            models.CheckConstraint(
                condition=(Q(role="client_user") & Q(client__isnull=False)) | (~Q(role="client_user") & Q(client=None)),
                name="membership_client_iff_client_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"


class Sequence(TenantModel):
    """A named counter per organization (work order numbers per year, later invoice series).

    Taken with ``SELECT … FOR UPDATE`` inside the caller's transaction so numbers have no gaps.
    """

    key = models.CharField(max_length=100)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="sequence_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} = {self.last_value}"


class ChangeRecord(TenantModel):
    """Audit trail of configuration changes (templates, settings, memberships): before/after JSON."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_repr} {self.action}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TenantModel):
    """A personal API token. Only the SHA-256 hash is stored; the token is shown once at creation."""

    PREFIX = "ffx_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_prefix = models.CharField(max_length=16, help_text=_("First characters, to recognise the token."))
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @classmethod
    def generate(cls) -> tuple[str, str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        return raw, _hash_token(raw)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(TenantModel):
    """The stored first response to a POST carrying an ``Idempotency-Key`` header."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user", "key"], name="idempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key


class VersionedModel(TenantModel):
    """A tenant row that people edit: a ``version`` for optimistic locking, and timestamps."""

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ScheduledJob(models.Model):
    """A periodic job of the worker's scheduler: whichever worker moves ``next_run_at`` first runs it."""

    name = models.CharField(max_length=100, primary_key=True)
    interval_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_worker = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("scheduled job")

    def __str__(self) -> str:
        return self.name
