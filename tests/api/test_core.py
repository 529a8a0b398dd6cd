"""The organization's settings in the API."""

import pytest

from fixflow.core.models import ChangeRecord, Organization

from .conftest import assert_problem


@pytest.mark.parametrize("role", ["admin", "technician", "client_user"])
def test_every_member_reads_the_organization(api, world, role):
    # when
    r = api(role).get("/organization")
    # then
    assert r.status_code == 200
    assert r.json()["name"] == "Acme Maintenance"
    assert r.json()["reopen_window_days"] == 14


def test_an_admin_changes_the_settings_and_the_change_is_recorded(api, world):
    # when
    r = api("admin").patch("/organization", {"reopen_window_days": 7, "requires_four_eyes_review": False})
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["reopen_window_days"], r.json()["requires_four_eyes_review"]) == (7, False)
    record = ChangeRecord.objects.get(object_type="core.organization")
    assert record.before["reopen_window_days"] == 14 and record.after["reopen_window_days"] == 7
    assert record.actor == world.admin.user


def test_a_dispatcher_may_not_change_the_settings(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").patch("/organization", {"name": "Hijacked"})
    # then
    assert_problem(r, 403, "permission_denied")
    assert Organization.objects.get(pk=world.org.pk).name == "Acme Maintenance"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"currency": "XXY"}, "currency"),
        ({"reopen_window_days": -1}, "reopen_window_days"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(api, world, body, field, nothing_written):
    with nothing_written():
        # when
        r = api("admin").patch("/organization", body)
    # then
    assert_problem(r, 422, "validation_error", field=field)
    assert Organization.objects.get(pk=world.org.pk).timezone == "Europe/Berlin"


def test_a_stale_if_match_on_the_organization_is_refused_and_nothing_changes(world):
    # given an admin who read the settings at version 1
    from django.test import Client

    client = Client()
    client.force_login(world.admin.user)
    etag = client.get("/api/v1/organization")["ETag"]
    client.patch("/api/v1/organization", {"name": "First"}, content_type="application/json", headers={"If-Match": etag})
    # when they send a change based on the old version
    response = client.patch(
        "/api/v1/organization", {"name": "Second"}, content_type="application/json", headers={"If-Match": etag}
    )
    # then
    assert response.status_code == 412
    assert response.json()["code"] == "stale_version"
    world.org.refresh_from_db()
    assert world.org.name == "First"
