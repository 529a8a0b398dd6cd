"""The "Charges" section of the work order page: call-out fees, fixed charges and expenses."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from fixflow.billing import services as billing_services
from fixflow.billing.models import WorkOrderCharge
from fixflow.core import clock
from fixflow.service import services
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import WorkOrder
from tests.billing.factories import billing_setup

from .test_work_order_pages import png_bytes

HTMX = {"HTTP_HX_REQUEST": "true"}
EXPENSE = {
    "kind": "expense",
    "description": "Parking at the pump station",
    "quantity": "2",
    "unit": "h",
    "unit_price": "3.50",
    "incurred_on": "2026-03-02",
    "is_billable": "on",
}


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def wo(world):
    """A work order led by world.technician, in progress."""
    created = services.work_order_create(
        actor=world.dispatcher,
        site_id=world.site.pk,
        equipment_id=world.equipment.pk,
        title="Pump leaking",
        lead_technician_id=world.technician.user_id,
        scheduled_start=timezone.now() + timedelta(hours=1),
    )
    services.work_order_transition(actor=world.technician, work_order_id=created.pk, to="in_progress")
    return WorkOrder.objects.get(pk=created.pk)


def _add(wo) -> str:
    return f"/work-orders/{wo.pk}/charges/add/"


def _charges(wo) -> list[tuple]:
    return list(
        WorkOrderCharge.objects.filter(work_order=wo).values_list("kind", "description", "quantity", "unit_price")
    )


def test_the_technician_sees_the_section_with_its_form(world, wo, svc_login):
    page = html(svc_login(world.technician).get(f"/work-orders/{wo.pk}/"))
    assert 'id="wo-charges"' in page and "Record a charge or expense" in page
    assert f'action="/work-orders/{wo.pk}/charges/add/"' in page


def test_the_accountant_reads_the_charges_without_the_form(world, wo, svc_login):
    # given
    billing_services.charge_add(actor=world.dispatcher, work_order_id=wo.pk, description="Crane", unit_price="180")
    # when
    page = html(svc_login(world.accountant).get(f"/work-orders/{wo.pk}/"))
    # then
    assert 'id="wo-charges"' in page and "Crane" in page and "180.00 EUR" in page
    assert "Record a charge or expense" not in page and "/delete/" not in page.split('id="wo-charges"')[1]


def test_client_users_do_not_see_the_charges_section(world, wo, svc_login):
    billing_services.charge_add(actor=world.dispatcher, work_order_id=wo.pk, description="Crane", unit_price="180")
    page = html(svc_login(world.client_user).get(f"/work-orders/{wo.pk}/"))
    assert 'id="wo-charges"' not in page and "180.00" not in page


def test_client_users_do_not_see_charges_in_the_history(world, wo, svc_login):
    billing_services.charge_add(actor=world.dispatcher, work_order_id=wo.pk, description="Crane", unit_price="180")
    page = html(svc_login(world.client_user).get(f"/work-orders/{wo.pk}/"))
    assert "Crane" not in page


def test_an_expense_is_recorded_with_htmx_and_the_section_comes_back(world, wo, svc_login):
    # given a receipt attached to the work order
    receipt = services.attachment_add(
        actor=world.technician,
        work_order_id=wo.pk,
        upload=SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png"),
    )
    # when
    response = svc_login(world.technician).post(_add(wo), {**EXPENSE, "receipt": str(receipt.pk)}, **HTMX)
    # then
    assert response.status_code == 200
    page = html(response)
    assert page.lstrip().startswith('<section class="panel wo-charges" id="wo-charges">')
    assert "Charge “Parking at the pump station” recorded." in page
    assert "7.00 EUR" in page and "receipt.png" in page
    assert _charges(wo) == [("expense", "Parking at the pump station", D("2"), D("3.50"))]
    assert WorkOrderCharge.objects.get(work_order=wo).receipt == receipt


def test_without_javascript_recording_redirects_back_to_the_section(world, wo, svc_login):
    client = svc_login(world.dispatcher)
    response = client.post(_add(wo), {**EXPENSE, "kind": "call_out", "description": "Call-out"})
    assert response.status_code == 302 and response.url == f"/work-orders/{wo.pk}/#wo-charges"
    assert _charges(wo) == [("call_out", "Call-out", D("2"), D("3.50"))]
    assert "Charge “Call-out” recorded." in html(client.get(response.url))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": ""}, "description"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"unit_price": "1.123456"}, "unit_price"),
        ({"quantity": "0"}, "quantity"),
        ({"incurred_on": "yesterday"}, "incurred_on"),
        ({"kind": "bribe"}, "kind"),
    ],
)
def test_a_bad_charge_is_shown_next_to_its_field_and_keeps_the_input(world, wo, svc_login, change, field):
    # when
    response = svc_login(world.technician).post(_add(wo), {**EXPENSE, **change}, **HTMX)
    # then
    page = html(response)
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert f'data-field="{field}"' in page
    assert page.split(f'data-field="{field}"')[1].split("</div>")[0].count('class="errorlist"') == 1
    assert '<details class="add-box" open>' in page
    if field != "description":
        assert 'value="Parking at the pump station"' in page
    assert _charges(wo) == []


def test_without_javascript_a_refused_charge_comes_back_on_the_work_order_page(world, wo, svc_login):
    # when
    response = svc_login(world.technician).post(_add(wo), {**EXPENSE, "quantity": "0"})
    # then
    page = html(response)
    assert response.status_code == 422
    assert "<h1>" in page and 'id="wo-charges"' in page
    assert "The quantity must be more than 0." in page and 'value="Parking at the pump station"' in page
    assert _charges(wo) == []


def test_an_invoiced_work_order_takes_no_charges_and_says_why(world, wo, svc_login):
    # given the page opened, then the work order invoiced meanwhile
    client = svc_login(world.dispatcher)
    client.get(f"/work-orders/{wo.pk}/")
    WorkOrder.objects.filter(pk=wo.pk).update(status=Status.CLOSED, billing_status=BillingStatus.INVOICED)
    # when
    response = client.post(_add(wo), EXPENSE, **HTMX)
    # then
    page = html(response)
    assert "The work order has been invoiced: charges can no longer be changed; credit it first." in page
    assert "Invoiced: charges can no longer be added or removed" in page
    assert "Record a charge or expense" not in page
    assert _charges(wo) == []


def test_a_charge_is_removed_and_one_on_a_draft_is_not(world, wo, svc_login):
    # given two charges; then the work closed and the second one put on a draft
    client = svc_login(world.dispatcher)
    first = billing_services.charge_add(
        actor=world.dispatcher, work_order_id=wo.pk, description="Wrong", unit_price="1"
    )
    # when
    removed = client.post(f"/charges/{first.pk}/delete/", **HTMX)
    # then
    assert removed.status_code == 200 and "Charge “Wrong” removed." in html(removed)
    assert _charges(wo) == []

    # given
    billing_setup(world)
    second = billing_services.charge_add(
        actor=world.dispatcher, work_order_id=wo.pk, description="Disposal", unit_price="25"
    )
    WorkOrder.objects.filter(pk=wo.pk).update(
        status=Status.CLOSED, billing_status=BillingStatus.TO_INVOICE, closed_at=clock.now()
    )
    billing_services.invoice_closed_work(actor=world.accountant)
    # when
    refused = client.post(f"/charges/{second.pk}/delete/")
    # then
    assert refused.status_code == 302
    page = html(client.get(refused.url))
    assert "This charge is on a draft invoice: remove its line there first." in page
    assert "on a draft invoice" in page
    assert WorkOrderCharge.objects.filter(pk=second.pk).exists()


@pytest.mark.parametrize(("who", "status"), [("technician2", 403), ("accountant", 403), ("other_client_user", 404)])
def test_others_may_not_record_or_remove_charges(world, wo, svc_login, who, status):
    # given
    charge = billing_services.charge_add(
        actor=world.dispatcher, work_order_id=wo.pk, description="Toll", unit_price="4"
    )
    client = svc_login(getattr(world, who))
    # when
    added = client.post(_add(wo), EXPENSE)
    removed = client.post(f"/charges/{charge.pk}/delete/")
    # then
    assert (added.status_code, removed.status_code) == (status, status)
    assert _charges(wo) == [("expense", "Toll", D("1"), D("4"))]


def test_the_forms_need_the_csrf_token(world, wo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.technician.user)
    response = client.post(_add(wo), EXPENSE, secure=True)
    assert response.status_code == 403
    assert _charges(wo) == []
