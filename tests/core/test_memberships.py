"""Members of an organization: roles, client users bound to a client, and at least one admin."""

import pytest
from django.db import IntegrityError, transaction

from fixflow.core.choices import Role
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import Membership, User
from fixflow.core.permissions import CAPABILITIES, actor_for, require
from fixflow.core.services import membership_create, membership_update, organization_create

from ..factories import UserFactory


def _memberships(org) -> list[dict]:
    return list(Membership.objects.filter(organization=org).order_by("id").values())


def test_an_admin_adds_a_new_person_with_a_role(world):
    # when
    m = membership_create(
        actor=world.admin,
        email=" New.Tech@Example.com ",
        full_name="Nina Neu",
        role="technician",
        password="long-enough-password",
    )
    # then
    assert (m.user.email, m.user.full_name, m.role, m.client) == (
        "new.tech@example.com",
        "Nina Neu",
        "technician",
        None,
    )
    assert m.user.check_password("long-enough-password")


def test_an_existing_user_joins_a_second_organization_with_another_role(world, other_world):
    # when
    m = membership_create(actor=other_world.admin, email=world.technician.user.email, full_name="", role="dispatcher")
    # then
    assert m.user == world.technician.user
    assert actor_for(world.technician.user, other_world.org.pk).role == Role.DISPATCHER
    assert actor_for(world.technician.user, world.org.pk).role == Role.TECHNICIAN


def test_a_client_user_needs_a_client(world):
    # given
    before = _memberships(world.org)
    # when
    with pytest.raises(DomainError) as exc:
        membership_create(actor=world.admin, email="c@example.com", full_name="C", role="client_user")
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "client")
    assert _memberships(world.org) == before
    assert not User.objects.filter(email="c@example.com").exists()


def test_a_client_user_cannot_be_bound_to_another_organizations_client(world, other_world):
    # when
    with pytest.raises(DomainError) as exc:
        membership_create(
            actor=world.admin, email="c@example.com", full_name="C", role="client_user", client_id=other_world.client.pk
        )
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "client")


def test_a_client_given_for_another_role_is_ignored(world):
    # when
    m = membership_create(
        actor=world.admin, email="d@example.com", full_name="D", role="dispatcher", client_id=world.client.pk
    )
    # then
    assert m.client is None


def test_the_database_binds_client_users_and_only_them_to_a_client(world):
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=world.client_user.membership_id).update(client=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=world.dispatcher.membership_id).update(client=world.client)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"role": "superuser"}, "role"),
        ({"full_name": "  "}, "full_name"),
    ],
    ids=["email", "role", "name"],
)
def test_invalid_members_are_refused_naming_the_field(world, kw, field):
    # given
    before = _memberships(world.org)
    # when
    with pytest.raises(DomainError) as exc:
        membership_create(
            actor=world.admin, **({"email": "x@example.com", "full_name": "X", "role": "technician"} | kw)
        )
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, field)
    assert _memberships(world.org) == before


def test_a_person_is_a_member_only_once(world):
    # when
    with pytest.raises(DomainError) as exc:
        membership_create(actor=world.admin, email=world.technician.user.email.upper(), full_name="", role="admin")
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "email")


@pytest.mark.parametrize("who", ["dispatcher", "technician", "accountant", "requester", "client_user"])
def test_only_admins_manage_members(world, who):
    # given
    before = _memberships(world.org)
    # when
    with pytest.raises(DomainError) as exc:
        membership_update(actor=getattr(world, who), membership_id=getattr(world, who).membership_id, role="admin")
    # then
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    assert _memberships(world.org) == before


def test_the_last_admin_cannot_be_demoted(world):
    # given
    before = _memberships(world.org)
    # when
    with pytest.raises(DomainError) as exc:
        membership_update(actor=world.admin, membership_id=world.admin.membership_id, role="dispatcher")
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "role")
    assert _memberships(world.org) == before


def test_the_last_admin_cannot_be_deactivated(world):
    # given
    before = _memberships(world.org)
    # when
    with pytest.raises(DomainError) as exc:
        membership_update(actor=world.admin, membership_id=world.admin.membership_id, role="admin", is_active=False)
    # then
    assert exc.value.code == ErrorCode.VALIDATION
    assert _memberships(world.org) == before


def test_an_admin_can_step_down_once_there_is_another_admin(world):
    # given
    membership_update(actor=world.admin, membership_id=world.dispatcher.membership_id, role="admin")
    # when
    m = membership_update(actor=world.admin, membership_id=world.admin.membership_id, role="dispatcher")
    # then
    assert m.role == Role.DISPATCHER


def test_an_inactive_second_admin_does_not_count(world):
    # given
    second = membership_update(actor=world.admin, membership_id=world.dispatcher.membership_id, role="admin")
    membership_update(actor=world.admin, membership_id=second.pk, role="admin", is_active=False)
    # when
    with pytest.raises(DomainError) as exc:
        membership_update(actor=world.admin, membership_id=world.admin.membership_id, role="technician")
    # then
    assert exc.value.code == ErrorCode.VALIDATION


def test_a_member_of_another_organization_is_not_found(world, other_world):
    # when
    with pytest.raises(DomainError) as exc:
        membership_update(actor=world.admin, membership_id=other_world.admin.membership_id, role="requester")
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_a_deactivated_member_has_no_actor(world):
    # given
    membership_update(
        actor=world.admin, membership_id=world.technician.membership_id, role="technician", is_active=False
    )
    # when / then
    assert actor_for(world.technician.user, world.org.pk) is None


def test_an_inactive_user_has_no_actor(world):
    # given
    user = world.technician.user
    user.is_active = False
    user.save()
    # when / then
    assert actor_for(user, world.org.pk) is None


def test_without_a_chosen_organization_the_actor_is_in_the_first_one_by_name(world, other_world):
    # given
    membership_create(actor=other_world.admin, email=world.technician.user.email, full_name="", role="dispatcher")
    # when
    actor = actor_for(world.technician.user)
    # then (Acme Maintenance sorts before Other Tenant GmbH)
    assert actor.organization == world.org


def test_creating_an_organization_makes_its_owner_admin(db):
    # given
    owner = UserFactory()
    # when
    org = organization_create(name="Fresh Start", owner=owner)
    # then
    assert actor_for(owner, org.pk).role == Role.ADMIN


def test_an_unknown_capability_grants_nothing_and_fails_loudly(world):
    # when / then
    with pytest.raises(KeyError):
        world.admin.can("work_orders.delete_everything")


def test_every_capability_is_held_by_at_least_one_role_and_require_refuses_the_others(world):
    for capability, roles in CAPABILITIES.items():
        assert roles, capability
        for role in Role:
            actor = world.actors[role.value]
            if role in roles:
                require(actor, capability)
            else:
                with pytest.raises(DomainError) as exc:
                    require(actor, capability)
                assert exc.value.code == ErrorCode.PERMISSION_DENIED
