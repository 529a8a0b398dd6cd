"""Personal API tokens: stored hashed, shown once, revocable."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import ApiToken
from fixflow.core.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    membership_create,
    membership_update,
)


def test_a_token_is_stored_only_as_its_hash(world):
    # when
    token, raw = api_token_create(actor=world.technician, name="export script")
    # then
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw.startswith("ffx_") and len(raw) > 40
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert row["token_prefix"] == raw[:12]
    assert raw not in {str(v) for v in row.values()}


def test_the_raw_token_is_shown_once_and_cannot_be_read_back(world):
    # given
    token, raw = api_token_create(actor=world.technician, name="export script")
    # when
    reloaded = ApiToken.objects.get(pk=token.pk)
    # then
    assert not any(raw == getattr(reloaded, f.attname) for f in ApiToken._meta.concrete_fields)


def test_two_tokens_are_different(world):
    # when
    (_, first), (_, second) = (api_token_create(actor=world.technician, name=n) for n in ("a", "b"))
    # then
    assert first != second


def test_a_token_authenticates_as_its_user_in_its_organization(world):
    # given
    _, raw = api_token_create(actor=world.technician, name="export script")
    # when
    actor = api_token_authenticate(raw)
    # then
    assert (actor.user, actor.organization, actor.role) == (world.technician.user, world.org, "technician")


def test_a_token_records_when_it_was_last_used(world):
    # given
    token, raw = api_token_create(actor=world.technician, name="export script")
    # when
    api_token_authenticate(raw)
    # then
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(seconds=10)


def test_a_revoked_token_no_longer_authenticates(world):
    # given
    token, raw = api_token_create(actor=world.technician, name="export script")
    # when
    api_token_revoke(actor=world.technician, token_id=token.pk)
    # then
    assert api_token_authenticate(raw) is None
    token.refresh_from_db()
    assert token.revoked_at is not None and not token.is_active


def test_nobody_revokes_someone_elses_token(world):
    # given
    token, raw = api_token_create(actor=world.technician, name="export script")
    # when
    with pytest.raises(DomainError) as exc:
        api_token_revoke(actor=world.admin, token_id=token.pk)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND
    assert api_token_authenticate(raw) is not None


@pytest.mark.parametrize("raw", ["", "ffx_", "ffx_wrong", "Bearer ffx_x", "not-a-token"])
def test_unknown_tokens_do_not_authenticate(world, raw):
    assert api_token_authenticate(raw) is None


def test_a_token_of_a_deactivated_member_no_longer_authenticates(world, other_world):
    # given the technician is also a member elsewhere, so actor_for would find another organization
    membership_create(actor=other_world.admin, email=world.technician.user.email, full_name="", role="admin")
    _, raw = api_token_create(actor=world.technician, name="export script")
    # when
    membership_update(
        actor=world.admin, membership_id=world.technician.membership_id, role="technician", is_active=False
    )
    # then
    assert api_token_authenticate(raw) is None


def test_a_token_of_an_inactive_user_no_longer_authenticates(world):
    # given
    _, raw = api_token_create(actor=world.technician, name="export script")
    # when
    world.technician.user.is_active = False
    world.technician.user.save()
    # then
    assert api_token_authenticate(raw) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_short_name(world, name):
    # when
    with pytest.raises(DomainError) as exc:
        api_token_create(actor=world.technician, name=name)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "name")
    assert not ApiToken.objects.exists()
