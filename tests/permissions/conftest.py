import pytest
from django.db import transaction
from django.test import override_settings

from ..conftest import build_other_world, build_world
from .scenario import build


@pytest.fixture(autouse=True)
def _media_in_tmp():
    """Files of the shared scenario live in the module's media folder (see ``matrix``)."""


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker, tmp_path_factory):
    """The scenario, built once per test module inside an outer transaction.

    Each test still runs in its own savepoint (the ``db`` fixture) and is rolled back to this state,
    like Django's ``TestCase.setUpTestData``: the matrices run hundreds of cases on one scenario.
    """
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
        ),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world, other_world = build_world(), build_other_world()
            yield world, other_world, build(world, other_world)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
