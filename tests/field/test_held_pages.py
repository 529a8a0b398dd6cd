"""The office's "Held from the field" page: the queue with the technician, the phone's time beside the
server's, the command in plain words and conflicts side by side; accept and reject with htmx or plain
forms; the count in the navigation."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from fixflow.core import clock
from fixflow.field.models import SyncCommand
from fixflow.service import services
from fixflow.service.models import TimeEntry, WorkOrder

from .conftest import at, closed_work_order, started_work_order

HTMX = {"HX-Request": "true"}


@pytest.fixture
def office(world) -> Client:
    client = Client()
    client.force_login(world.dispatcher.user)
    return client


@pytest.fixture
def held_hours(world, phone):
    """45 minutes entered offline at 10:15 on work the office closed at 10:30; the phone 2 h fast."""
    wo = closed_work_order(world)
    hours = {"started_at": at("09:15").isoformat(), "duration_minutes": 45, "note": "Flushing the circuit"}
    with clock.frozen_at(at("15:00")):
        phone.sync(phone.command("time.add", wo, hours, when=at("17:05")))
    return SyncCommand.objects.get()


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_queue_shows_who_when_what_and_on_which_work_order(world, office, held_hours):
    # when
    response = office.get(reverse("field_held_list"))
    # then
    assert response.status_code == 200
    html = _text(response)
    wo = held_hours.work_order
    assert f'data-held="{held_hours.pk}"' in html
    assert "Tom Technician" in html and wo.number in html and "Work order closed" in html
    assert "45 min from 2 Mar 09:15" in html and "Flushing the circuit" in html
    assert "Mon 2 Mar 2026 17:05" in html  # the phone's clock (Berlin, the site's zone)…
    assert "Mon 2 Mar 2026 15:00" in html  # …beside the server's
    assert "ahead" in html  # and why the phone's time was not used
    assert "data-held-count>1<" in html  # the navigation badge


def test_accepting_with_htmx_records_the_hours_and_swaps_the_card(world, office, held_hours):
    # when
    response = office.post(reverse("field_held_accept", args=[held_hours.pk]), headers=HTMX)
    # then
    assert response.status_code == 200
    html = _text(response)
    assert html.lstrip().startswith(f'<li class="card held-card" id="held-{held_hours.pk}"')
    assert "Accepted" in html and "data-accept" not in html
    assert TimeEntry.objects.filter(work_order=held_hours.work_order, duration_minutes=45).count() == 1
    assert 'id="held-count" class="badge badge-warn" data-held-count hidden hx-swap-oob="true">0<' in html
    assert "data-held-count hidden>0<" in _text(office.get(reverse("field_held_list")))


def test_accepting_without_javascript_comes_back_to_the_list(world, office, held_hours):
    response = office.post(reverse("field_held_accept", args=[held_hours.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("field_held_list")
    assert "Accepted" in _text(response) and "Nothing is waiting" in _text(response)


def test_rejecting_needs_a_reason_and_keeps_the_item(world, office, held_hours):
    # when the reason is missing (htmx)
    response = office.post(reverse("field_held_reject", args=[held_hours.pk]), {"reason": ""}, headers=HTMX)
    # then the card comes back with the error, the item still waits
    assert response.status_code == 200
    assert "Say why, for the technician." in _text(response)
    assert SyncCommand.objects.get().resolution == ""
    # and without JavaScript the page says so with a 422
    plain = office.post(reverse("field_held_reject", args=[held_hours.pk]), {"reason": " "})
    assert plain.status_code == 422 and "Say why, for the technician." in _text(plain)


def test_rejecting_with_a_reason_resolves_the_item(world, office, held_hours):
    response = office.post(
        reverse("field_held_reject", args=[held_hours.pk]), {"reason": "Billed on the next visit"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Rejected by Dora Dispatcher: Billed on the next visit" in _text(response)
    held_hours.refresh_from_db()
    assert (held_hours.status, held_hours.resolution) == ("refused", "rejected")
    assert not TimeEntry.objects.filter(work_order=held_hours.work_order).exists()


def test_a_refused_accept_shows_the_reason_on_the_card(world, office, phone):
    # given a field edit held on closed work: it cannot apply until the work order is reopened
    wo = closed_work_order(world)
    with clock.frozen_at(at("15:00")):
        phone.sync(
            phone.command(
                "field.update",
                wo,
                {"fields": {"resolution_notes": "Also tightened the flange"}},
                base_version=wo.version,
            )
        )
    item = SyncCommand.objects.get()
    # when
    response = office.post(reverse("field_held_accept", args=[item.pk]), headers=HTMX)
    # then
    assert response.status_code == 200
    assert "cannot be edited" in _text(response) and "data-accept" in _text(response)
    assert WorkOrder.objects.get(pk=wo.pk).resolution_notes == "Seal replaced."
    plain = office.post(reverse("field_held_accept", args=[item.pk]))
    assert plain.status_code == 422 and "cannot be edited" in _text(plain)


def test_a_conflict_is_shown_side_by_side(world, office, phone):
    wo = started_work_order(world)
    base = wo.version
    services.work_order_update(actor=world.dispatcher, work_order_id=wo.pk, data={"resolution_notes": "Office text"})
    edit = {"fields": {"resolution_notes": "Phone text"}, "base": {"resolution_notes": ""}}
    with clock.frozen_at(at("12:00")):
        phone.sync(phone.command("field.update", wo, edit, base_version=base))
    html = _text(office.get(reverse("field_held_list")))
    row = re.search(r'<tr data-conflict="resolution_notes">(.*?)</tr>', html).group(1)
    assert re.findall(r"<td data-\w+>(.*?)</td>", row) == ["–", "Office text", "Phone text"]
    assert "Take the phone's value" in html and "Keep the office's value" in html


def test_the_page_and_its_actions_are_the_offices(world, held_hours):
    for role in ("technician", "accountant", "client_user"):
        client = Client()
        client.force_login(getattr(world, role).user)
        assert client.get(reverse("field_held_list")).status_code == 403
        assert client.post(reverse("field_held_accept", args=[held_hours.pk])).status_code == 403
        assert "data-nav-held" not in _text(client.get(reverse("home")))
    assert SyncCommand.objects.get().resolution == ""


def test_an_empty_queue_says_so(world, office):
    html = _text(office.get(reverse("field_held_list")))
    assert "Nothing is waiting" in html and "data-held-count hidden>0<" in html
