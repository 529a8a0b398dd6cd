"""Shared fixtures: an organization with one member per role, and a second organization."""

from dataclasses import dataclass

import pytest

from fixflow.core.choices import Role
from fixflow.core.permissions import Actor, actor_for

from .factories import (
    ClientFactory,
    EquipmentFactory,
    MembershipFactory,
    OrganizationFactory,
    SiteFactory,
    UserFactory,
)

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class World:
    """One organization with a client, a site, equipment and one actor per role."""

    org: object
    client: object
    site: object
    equipment: object
    other_client: object
    other_site: object
    other_equipment: object
    actors: dict[str, Actor]

    def __getattr__(self, name: str) -> Actor:
        try:
            return self.__dict__["actors"][name]
        except KeyError:
            raise AttributeError(name) from None


def make_actor(org, role: str, *, client=None, email: str | None = None, full_name: str | None = None) -> Actor:
    kwargs = {"email": email} if email else {}
    if full_name:
        kwargs["full_name"] = full_name
    user = UserFactory(**kwargs)
    MembershipFactory(organization=org, user=user, role=role, client=client if role == Role.CLIENT_USER else None)
    return actor_for(user, org.pk)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def other_world(db) -> World:
    """A second tenant, to prove isolation."""
    return build_other_world()


def build_world() -> World:
    """One organization with two clients, their sites and equipment, and one member per role."""
    org = OrganizationFactory(name="Acme Maintenance")
    client = ClientFactory(organization=org, name="Stadtwerke")
    site = SiteFactory(client=client, name="Pumpwerk Nord")
    equipment = EquipmentFactory(site=site, name="Pump P1")
    other_client = ClientFactory(organization=org, name="Bäckerei Kühn")
    other_site = SiteFactory(client=other_client, name="Backstube")
    other_equipment = EquipmentFactory(site=other_site, name="Oven 2")
    actors = {
        "admin": make_actor(org, Role.ADMIN, full_name="Ada Admin"),
        "dispatcher": make_actor(org, Role.DISPATCHER, full_name="Dora Dispatcher"),
        "technician": make_actor(org, Role.TECHNICIAN, full_name="Tom Technician"),
        "technician2": make_actor(org, Role.TECHNICIAN, full_name="Tina Technician"),
        "accountant": make_actor(org, Role.ACCOUNTANT, full_name="Carl Accountant"),
        "requester": make_actor(org, Role.REQUESTER, full_name="Rita Requester"),
        "client_user": make_actor(org, Role.CLIENT_USER, client=client, full_name="Clara Client"),
        "other_client_user": make_actor(org, Role.CLIENT_USER, client=other_client, full_name="Otto Client"),
    }
    return World(org, client, site, equipment, other_client, other_site, other_equipment, actors)


def build_other_world() -> World:
    org = OrganizationFactory(name="Other Tenant GmbH")
    client = ClientFactory(organization=org, name="Foreign Client")
    site = SiteFactory(client=client, name="Foreign Site")
    equipment = EquipmentFactory(site=site, name="Foreign Pump")
    other_client = ClientFactory(organization=org)
    other_site = SiteFactory(client=other_client)
    other_equipment = EquipmentFactory(site=other_site)
    actors = {
        "admin": make_actor(org, Role.ADMIN),
        "dispatcher": make_actor(org, Role.DISPATCHER),
        "technician": make_actor(org, Role.TECHNICIAN),
    }
    return World(org, client, site, equipment, other_client, other_site, other_equipment, actors)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords with a fast hasher: PBKDF2's 1.5 M rounds cost ~0.3 s per user created."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
