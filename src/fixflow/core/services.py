"""Writes for tenancy, users, tokens and the shared helpers other apps' services build on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.forms.models import model_to_dict

from . import clock
from .choices import Role
from .errors import DomainError, ErrorCode, validation
from .models import ApiToken, ChangeRecord, Membership, Organization, Sequence, User
from .permissions import Actor, require


def sequence_next(*, organization: Organization, key: str) -> int:
    """Return the next value of a per-organization counter.

    Precondition: the caller is inside ``transaction.atomic``. The ``UPDATE … RETURNING`` takes the
    counter row's write lock until that transaction ends, so concurrent callers get consecutive
    values and a rollback gives the number back (no gaps). One query once the counter exists.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("sequence_next must run inside transaction.atomic()")
    table = connection.ops.quote_name(Sequence._meta.db_table)
    sql = f"UPDATE {table} SET last_value = last_value + 1 WHERE organization_id = %s AND key = %s RETURNING last_value"  # noqa: S608 - table name from the model
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [organization.pk, key])
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        Sequence.objects.get_or_create(organization=organization, key=key)
    raise RuntimeError(f"counter {key!r} could not be created")


def snapshot(instance: models.Model, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON-safe dict of a model's concrete fields, for change records."""
    data = model_to_dict(instance, exclude=list(exclude))
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, default=str))


def change_record_write(
    *, actor: Actor | None, instance: models.Model, action: str, before: dict | None, after: dict | None
) -> ChangeRecord | None:
    """Record a configuration change (skipped when an update changed nothing)."""
    if action == ChangeRecord.Action.UPDATE and before == after:
        return None
    return ChangeRecord.objects.create(
        organization_id=instance.organization_id,
        actor=actor.user if actor else None,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        action=action,
        before=before,
        after=after,
    )


def full_clean_or_raise(instance: models.Model, exclude: Iterable[str] | None = None) -> None:
    """Run model validation and turn the first problem into a DomainError naming the field."""
    try:
        instance.full_clean(exclude=list(exclude) if exclude else None, validate_unique=True)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.error_dict.items()))
            unique = _unique_violation(instance, errors) if field == "__all__" else None
            if unique is not None:
                raise validation(*unique) from exc
            message = " ".join(m for e in errors for m in e.messages)
            raise validation(message, field=None if field == "__all__" else field) from exc
        raise validation(" ".join(exc.messages)) from exc


def _unique_violation(instance: models.Model, errors) -> tuple[str, str] | None:
    """A unique-constraint error as (message, field): "There is already a client with this name."."""
    for error in errors:
        check = (error.params or {}).get("unique_check") if error.code in ("unique", "unique_together") else None
        if not check:
            continue
        fields = [f for f in check if f not in ("organization", "client", "template", "work_order")] or list(check)
        field = fields[-1]
        label = instance._meta.get_field(field).verbose_name
        return f"There is already a {instance._meta.verbose_name} with this {label}.", field
    return None


def check_version(instance: models.Model, expected_version: int | None) -> None:
    """Refuse an update based on a stale copy (the caller read ``expected_version``)."""
    if expected_version is not None and expected_version != instance.version:
        raise DomainError(
            ErrorCode.STALE_VERSION,
            f"This record was changed by someone else (version {instance.version}, you had "
            f"{expected_version}). Reload it and apply your change again.",
            details={"current_version": instance.version},
        )


def apply_changes(instance: models.Model, data: dict[str, Any], allowed: Iterable[str]) -> list[str]:
    """Set the allowed fields from ``data``; return the names that actually changed."""
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise validation(f"Unknown or read-only field: {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    changed = []
    for name, value in data.items():
        field = instance._meta.get_field(name)
        attname = field.attname
        if getattr(instance, attname) != value:
            setattr(instance, attname, value)
            changed.append(attname)
    return changed


# --- organization -----------------------------------------------------------------------------

ORGANIZATION_FIELDS = (
    "name",
    "currency",
    "timezone",
    "work_order_prefix",
    "reopen_window_days",
    "requires_four_eyes_review",
)


@transaction.atomic
def organization_update(*, actor: Actor, data: dict[str, Any], expected_version: int | None = None) -> Organization:
    """Change the acting organization's settings (admin). Writes a ChangeRecord; a stale
    ``expected_version`` is refused with STALE_VERSION."""
    require(actor, "organization.manage")
    org = Organization.objects.select_for_update().get(pk=actor.organization_id)
    check_version(org, expected_version)
    before = snapshot(org)
    if not apply_changes(org, data, ORGANIZATION_FIELDS):
        return org
    full_clean_or_raise(org)
    org.version += 1
    org.save()
    org.organization_id = org.pk  # so change_record_write can read it like a tenant row
    change_record_write(
        actor=actor, instance=org, action=ChangeRecord.Action.UPDATE, before=before, after=snapshot(org)
    )
    return org


@transaction.atomic
def organization_create(
    *, name: str, owner: User, currency: str = "EUR", timezone: str = "Europe/Berlin", work_order_prefix: str = "WO"
) -> Organization:
    """Create a tenant with its first admin (used by the demo, the CLI and tests)."""
    org = Organization(name=name, currency=currency, timezone=timezone, work_order_prefix=work_order_prefix)
    full_clean_or_raise(org)
    org.save()
    Membership.objects.create(organization=org, user=owner, role=Role.ADMIN)
    return org


# --- members ----------------------------------------------------------------------------------


def _membership_snapshot(m: Membership) -> dict:
    return {"user": m.user.email, "role": m.role, "client": m.client_id, "is_active": m.is_active}


@transaction.atomic
def membership_create(
    *, actor: Actor, email: str, full_name: str, role: str, client_id: int | None = None, password: str | None = None
) -> Membership:
    """Add a person to the organization (creating the user when the e-mail is new)."""
    require(actor, "members.manage")
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise validation("Enter a valid e-mail address.", field="email")
    role = _valid_role(role)
    client = _valid_client(actor, role, client_id)
    user = User.objects.filter(email=email).first()
    if user is None:
        if not full_name.strip():
            raise validation("Enter the person's name.", field="full_name")
        user = User.objects.create_user(email=email, password=password, full_name=full_name.strip())
    if Membership.objects.filter(user=user, organization_id=actor.organization_id).exists():
        raise validation(f"{email} is already a member of this organization.", field="email")
    m = Membership.objects.create(organization_id=actor.organization_id, user=user, role=role, client=client)
    change_record_write(actor=actor, instance=m, action="create", before=None, after=_membership_snapshot(m))
    return m


@transaction.atomic
def membership_update(
    *, actor: Actor, membership_id: int, role: str, client_id: int | None = None, is_active: bool = True
) -> Membership:
    """Change a member's role, client or active flag. The last active admin cannot be demoted."""
    require(actor, "members.manage")
    m = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(organization_id=actor.organization_id, pk=membership_id)
        .first()
    )
    if m is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Member not found.")
    before = _membership_snapshot(m)
    role = _valid_role(role)
    client = _valid_client(actor, role, client_id)
    if m.role == Role.ADMIN and (role != Role.ADMIN or not is_active):
        admins = Membership.objects.filter(organization_id=actor.organization_id, role=Role.ADMIN, is_active=True)
        if admins.exclude(pk=m.pk).count() == 0:
            raise validation("The organization needs at least one active admin.", field="role")
    m.role, m.client, m.is_active = role, client, is_active
    m.save()
    change_record_write(actor=actor, instance=m, action="update", before=before, after=_membership_snapshot(m))
    return m


def _valid_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise validation(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.", field="role") from None


def _valid_client(actor: Actor, role: Role, client_id: int | None):
    from fixflow.customers.models import Client

    if role != Role.CLIENT_USER:
        return None
    if client_id is None:
        raise validation("A client user must be linked to a client.", field="client")
    client = Client.objects.filter(organization_id=actor.organization_id, pk=client_id).first()
    if client is None:
        raise validation("Unknown client.", field="client")
    return client


# --- API tokens -------------------------------------------------------------------------------


def api_token_create(*, actor: Actor, name: str) -> tuple[ApiToken, str]:
    """Create a personal token for the acting user; returns the row and the raw token (shown once)."""
    require(actor, "tokens.own")
    name = (name or "").strip()
    if not name:
        raise validation("Give the token a name, e.g. the script that will use it.", field="name")
    if len(name) > 100:
        raise validation("Keep the name under 100 characters.", field="name")
    raw, digest = ApiToken.generate()
    token = ApiToken.objects.create(
        organization_id=actor.organization_id, user=actor.user, name=name, token_prefix=raw[:12], token_hash=digest
    )
    return token, raw


def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(organization_id=actor.organization_id, user=actor.user, pk=token_id).first()
    if token is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Token not found.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(raw: str) -> Actor | None:
    """The actor for a bearer token, or None when the token is unknown or revoked."""
    from .permissions import actor_for

    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=ApiToken.hash(raw), revoked_at=None).first()
    if token is None or not token.user.is_active:
        return None
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    actor = actor_for(token.user, token.organization_id)
    if actor is None or actor.organization_id != token.organization_id:
        return None
    return actor


def unique_or_raise(fn, message: str, field: str | None = None):
    """Run ``fn`` in a savepoint; turn a unique-constraint violation into a validation error."""
    try:
        with transaction.atomic():
            return fn()
    except IntegrityError as exc:
        raise validation(message, field=field) from exc
