"""Sign-in, the home page of each role, and personal API tokens."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fixflow.core.models import ApiToken
from fixflow.service.models import WorkRequest
from tests.conftest import PASSWORD
from tests.factories import UserFactory, WorkOrderFactory, WorkRequestFactory

# --- sign-in -------------------------------------------------------------------------------------


def test_the_sign_in_page_renders_for_anonymous_visitors(db, ref_login):
    # when
    response = ref_login(None).get(reverse("login"))
    # then
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode() and 'type="email"' in response.content.decode()


def test_signing_in_with_the_email_in_any_case_opens_the_home_page(world, ref_login):
    # given
    client = ref_login(None)
    # when
    response = client.post(reverse("login"), {"username": world.admin.user.email.upper(), "password": PASSWORD})
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_wrong_password_shows_an_error_and_keeps_the_email(world, ref_login):
    # when
    response = ref_login(None).post(reverse("login"), {"username": world.admin.user.email, "password": "nope"})
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "do not match an account" in html
    assert f'value="{world.admin.user.email}"' in html


def test_a_user_without_membership_is_told_to_ask_an_admin(db, ref_login):
    # given
    user = UserFactory()
    client = ref_login(None)
    client.force_login(user)
    # when
    response = client.get(reverse("home"))
    # then
    assert response.status_code == 403
    assert "not a member of any organization" in response.content.decode()


# --- home pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "template"),
    [
        ("admin", "web/home_dispatcher.html"),
        ("dispatcher", "web/home_dispatcher.html"),
        ("technician", "web/home_technician.html"),
        ("accountant", "web/home_accountant.html"),
        ("requester", "web/home_requester.html"),
        ("client_user", "web/home_requester.html"),
    ],
)
def test_each_role_gets_its_own_home_page(world, ref_login, role, template):
    # when
    response = ref_login(world.actors[role]).get(reverse("home"))
    # then
    assert response.status_code == 200
    assert template in [t.name for t in response.templates]


def test_the_dispatcher_home_links_new_requests_unplanned_overdue_running_and_completed_work(world, ref_login):
    # given
    now = timezone.now()
    request = WorkRequestFactory(site=world.site, title="Water on the floor")
    unplanned = WorkOrderFactory(equipment=world.equipment, title="Unplanned job")
    overdue = WorkOrderFactory(
        equipment=world.equipment,
        title="Late job",
        status="planned",
        lead_technician=world.technician.user,
        scheduled_start=now - timedelta(days=2),
        scheduled_end=now - timedelta(days=2) + timedelta(hours=1),
    )
    running = WorkOrderFactory(equipment=world.equipment, title="Running job", status="in_progress")
    completed = WorkOrderFactory(equipment=world.equipment, title="Done job", status="completed", completed_at=now)
    # when
    response = ref_login(world.dispatcher).get(reverse("home"))
    # then
    html = response.content.decode()
    assert reverse("work_request_detail", args=[request.pk]) in html
    for wo in (unplanned, overdue, running, completed):
        assert reverse("work_order_detail", args=[wo.pk]) in html
    assert response.context["counts"]["new"] == 1 and response.context["counts"]["in_progress"] == 1
    assert "due 2\xa0days ago" in html or "due 1\xa0day" in html


def test_the_technician_home_shows_own_work_with_site_address_and_equipment(world, ref_login):
    # given
    now = timezone.now()
    mine = WorkOrderFactory(
        equipment=world.equipment,
        title="My job today",
        status="planned",
        lead_technician=world.technician.user,
        scheduled_start=now,
    )
    WorkOrderFactory(
        equipment=world.equipment,
        title="Colleague's job",
        status="planned",
        lead_technician=world.technician2.user,
        scheduled_start=now,
    )
    later = WorkOrderFactory(
        equipment=world.equipment,
        title="My job next week",
        status="planned",
        lead_technician=world.technician.user,
        scheduled_start=now + timedelta(days=7),
    )
    # when
    response = ref_login(world.technician).get(reverse("home"))
    # then
    html = response.content.decode()
    assert "My job today" in html and "My job next week" in html
    assert "Colleague's job" not in html
    assert "Hauptstraße 1" in html and world.equipment.name in html
    assert [wo.pk for wo in response.context["upcoming"]] == [later.pk]
    assert mine.pk in [wo.pk for wo in response.context["today"]]


def test_the_accountant_home_lists_closed_work_to_invoice_oldest_first_with_days_waiting(world, ref_login):
    # given
    now = timezone.now()
    recent = WorkOrderFactory(
        equipment=world.equipment,
        title="Recent",
        status="closed",
        billing_status="to_invoice",
        closed_at=now - timedelta(days=2),
    )
    old = WorkOrderFactory(
        equipment=world.equipment,
        title="Old",
        status="closed",
        billing_status="to_invoice",
        closed_at=now - timedelta(days=20),
    )
    WorkOrderFactory(
        equipment=world.equipment,
        title="Invoiced",
        status="closed",
        billing_status="invoiced",
        closed_at=now - timedelta(days=30),
    )
    # when
    response = ref_login(world.accountant).get(reverse("home"))
    # then
    html = response.content.decode()
    assert [wo.pk for wo in response.context["to_invoice"]] == [old.pk, recent.pk]
    assert "20 days" in html and "2 days" in html
    assert world.client.name in html
    assert "Invoiced" not in html


def test_the_requester_home_shows_own_requests_and_the_report_button(world, ref_login):
    # given
    WorkRequest.objects.create(
        organization=world.org, client=world.client, site=world.site, title="My leak", requester=world.requester.user
    )
    WorkRequestFactory(site=world.site, title="Someone else's leak")
    # when
    html = ref_login(world.requester).get(reverse("home")).content.decode()
    # then
    assert "My leak" in html and "Someone else's leak" not in html
    assert reverse("work_request_create") in html and "Report a problem" in html


def test_the_client_user_home_shows_only_their_clients_work(world, ref_login):
    # given
    WorkOrderFactory(equipment=world.equipment, title="Our pump")
    WorkOrderFactory(equipment=world.other_equipment, title="Their oven")
    WorkRequestFactory(site=world.site, title="Our request")
    WorkRequestFactory(site=world.other_site, title="Their request")
    # when
    html = ref_login(world.client_user).get(reverse("home")).content.decode()
    # then
    assert "Our pump" in html and "Our request" in html
    assert "Their oven" not in html and "Their request" not in html


def test_the_home_page_never_shows_another_organizations_work(world, other_world, ref_login):
    # given
    WorkOrderFactory(equipment=other_world.equipment, title="Foreign job")
    WorkRequestFactory(site=other_world.site, title="Foreign request")
    # when
    html = ref_login(world.dispatcher).get(reverse("home")).content.decode()
    # then
    assert "Foreign job" not in html and "Foreign request" not in html


# --- API tokens ----------------------------------------------------------------------------------


def test_a_new_api_token_is_shown_once_and_listed_by_its_prefix(world, ref_login):
    # given
    client = ref_login(world.technician)
    # when
    created = client.post(reverse("api_tokens"), {"name": "Nightly export"})
    later = client.get(reverse("api_tokens"))
    # then
    token = ApiToken.objects.get(user=world.technician.user)
    raw = created.context["raw_token"]
    assert created.status_code == 200
    assert raw.startswith(token.token_prefix) and raw in created.content.decode()
    assert ApiToken.hash(raw) == token.token_hash
    assert raw not in later.content.decode() and token.token_prefix in later.content.decode()


def test_a_token_without_a_name_is_refused_next_to_the_field(world, ref_login):
    # when
    response = ref_login(world.technician).post(reverse("api_tokens"), {"name": "  "})
    # then
    assert response.status_code == 422
    assert 'class="field has-error" data-field="name"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_token_is_revoked_and_another_users_token_cannot_be(world, ref_login):
    # given
    client = ref_login(world.technician)
    client.post(reverse("api_tokens"), {"name": "Mine"})
    ref_login(world.dispatcher).post(reverse("api_tokens"), {"name": "Dora's"})
    mine = ApiToken.objects.get(name="Mine")
    doras = ApiToken.objects.get(name="Dora's")
    # when
    revoked = client.post(reverse("api_tokens"), {"revoke": str(mine.pk)})
    foreign = client.post(reverse("api_tokens"), {"revoke": str(doras.pk)})
    junk = client.post(reverse("api_tokens"), {"revoke": "abc"})
    # then
    mine.refresh_from_db()
    doras.refresh_from_db()
    assert (revoked.status_code, foreign.status_code, junk.status_code) == (302, 302, 302)
    assert mine.revoked_at is not None
    assert doras.revoked_at is None
