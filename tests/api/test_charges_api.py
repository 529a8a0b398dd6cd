"""Charges on work orders in the API: ``GET/POST /work-orders/{id}/charges``, ``GET/DELETE /charges/{id}``."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fixflow.billing import services as billing_services
from fixflow.billing.models import WorkOrderCharge
from fixflow.core import clock
from fixflow.service import services
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import WorkOrder
from tests.billing.factories import billing_setup

from .conftest import assert_problem, png_bytes

PARKING = {"description": "Parking at the site", "unit_price": "7.50", "incurred_on": "2026-03-02"}


def _charges(wo) -> list[tuple]:
    return list(WorkOrderCharge.objects.filter(work_order=wo).values_list("kind", "description", "unit_price"))


def test_the_assigned_technician_records_an_expense_with_its_receipt(api, world, started_work_order):
    # given a photo of the receipt attached to the work order
    receipt = services.attachment_add(
        actor=world.technician,
        work_order_id=started_work_order.pk,
        upload=SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png"),
    )
    # when
    r = api("technician").post(
        f"/work-orders/{started_work_order.pk}/charges", {**PARKING, "quantity": "2", "receipt_id": receipt.pk}
    )
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    assert r["Location"] == f"/api/v1/charges/{body['id']}"
    assert {k: v for k, v in body.items() if k not in ("id", "created_at")} == {
        "work_order_id": started_work_order.pk,
        "kind": "expense",
        "description": "Parking at the site",
        "quantity": "2.000",
        "unit": "pc",
        "unit_price": "7.5000",
        "unit_cost": "0.0000",
        "amount": "15.00",
        "incurred_on": "2026-03-02",
        "is_billable": True,
        "receipt_id": receipt.pk,
        "invoice_id": None,
        "invoice_number": None,
        "created_by": {"id": world.technician.user_id, "full_name": "Tom Technician"},
    }
    assert _charges(started_work_order) == [("expense", "Parking at the site", D("7.50"))]


def test_charges_are_listed_and_read_by_the_staff(api, world, started_work_order):
    # given a call-out fee and an expense
    path = f"/work-orders/{started_work_order.pk}/charges"
    api("dispatcher").post(
        path, {"kind": "call_out", "description": "Call-out", "unit_price": "45", "incurred_on": "2026-03-01"}
    )
    api("technician").post(path, PARKING)
    # when
    listed = api("accountant").get(path)
    # then
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(c["kind"], c["amount"]) for c in items] == [("call_out", "45.00"), ("expense", "7.50")]
    assert api("technician2").get(f"/charges/{items[0]['id']}").json()["description"] == "Call-out"


def test_the_date_defaults_to_today(api, world, started_work_order):
    r = api("technician").post(
        f"/work-orders/{started_work_order.pk}/charges", {"description": "Toll", "unit_price": "4"}
    )
    assert r.json()["incurred_on"] == clock.now().astimezone(world.org.tzinfo).date().isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "", "unit_price": "1"}, "description"),
        ({"description": "Parking"}, "unit_price"),
        ({"description": "Parking", "unit_price": "-1"}, "unit_price"),
        ({"description": "Parking", "unit_price": "1.00001"}, "unit_price"),
        ({"description": "Parking", "unit_price": "1", "quantity": "0"}, "quantity"),
        ({"description": "Parking", "unit_price": "1", "kind": "bribe"}, "kind"),
        ({"description": "Parking", "unit_price": "1", "incurred_on": "02.03.2026"}, "incurred_on"),
        ({"description": "x" * 301, "unit_price": "1"}, "description"),
    ],
)
def test_bad_charges_are_refused_naming_the_field(api, world, started_work_order, body, field):
    r = api("technician").post(f"/work-orders/{started_work_order.pk}/charges", body)
    assert_problem(r, 422, "validation_error", field=field)
    assert _charges(started_work_order) == []


def test_a_receipt_of_another_work_order_is_refused(api, world, started_work_order, template):
    # given a file on another work order
    other = services.work_order_create(
        actor=world.dispatcher, site_id=world.site.pk, equipment_id=world.equipment.pk, title="Other"
    )
    upload = SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png")
    foreign_file = services.attachment_add(actor=world.dispatcher, work_order_id=other.pk, upload=upload)
    # when
    r = api("technician").post(
        f"/work-orders/{started_work_order.pk}/charges", {**PARKING, "receipt_id": foreign_file.pk}
    )
    # then
    assert_problem(r, 422, "validation_error", field="receipt")
    assert _charges(started_work_order) == []


def test_an_invoiced_work_order_takes_no_charges(api, world, started_work_order):
    # given
    WorkOrder.objects.filter(pk=started_work_order.pk).update(
        status=Status.CLOSED, billing_status=BillingStatus.INVOICED
    )
    # when
    r = api("dispatcher").post(f"/work-orders/{started_work_order.pk}/charges", PARKING)
    # then
    assert_problem(
        r,
        409,
        "conflict",
        detail="The work order has been invoiced: charges can no longer be changed; credit it first.",
    )
    assert _charges(started_work_order) == []


def test_a_charge_on_a_draft_invoice_cannot_be_removed(api, world, started_work_order):
    # given a charge, then the work closed and put on a draft
    billing_setup(world)
    created = api("technician").post(f"/work-orders/{started_work_order.pk}/charges", PARKING).json()
    WorkOrder.objects.filter(pk=started_work_order.pk).update(
        status=Status.CLOSED, billing_status=BillingStatus.TO_INVOICE, closed_at=clock.now()
    )
    [draft] = billing_services.invoice_closed_work(actor=world.accountant)
    # when
    shown = api("dispatcher").get(f"/charges/{created['id']}")
    r = api("dispatcher").delete(f"/charges/{created['id']}")
    # then
    assert (shown.json()["invoice_id"], shown.json()["invoice_number"]) == (draft.pk, None)
    assert_problem(r, 409, "conflict", detail="This charge is on a draft invoice: remove its line there first.")
    assert WorkOrderCharge.objects.filter(pk=created["id"]).exists()


def test_a_charge_recorded_by_mistake_is_removed(api, world, started_work_order):
    # given
    created = api("technician").post(f"/work-orders/{started_work_order.pk}/charges", PARKING).json()
    # when
    r = api("technician").delete(f"/charges/{created['id']}")
    # then
    assert r.status_code == 204
    assert _charges(started_work_order) == []
    assert_problem(api("technician").get(f"/charges/{created['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("technician2", 403, "permission_denied"),
        ("accountant", 403, "permission_denied"),
        ("client_user", 403, "permission_denied"),
        ("requester", 404, "not_found"),  # not their request's work order: it does not exist for them
    ],
)
def test_only_the_office_and_the_assigned_technicians_record_charges(api, world, started_work_order, who, status, code):
    r = api(who).post(f"/work-orders/{started_work_order.pk}/charges", PARKING)
    assert_problem(r, status, code)
    assert _charges(started_work_order) == []


def test_client_users_never_see_the_charges_of_their_work_orders(api, world, started_work_order):
    # given
    created = api("technician").post(f"/work-orders/{started_work_order.pk}/charges", PARKING).json()
    # when / then: they see the work order, not its costs
    assert api("client_user").get(f"/work-orders/{started_work_order.pk}").status_code == 200
    assert_problem(api("client_user").get(f"/work-orders/{started_work_order.pk}/charges"), 403, "permission_denied")
    assert_problem(api("client_user").get(f"/charges/{created['id']}"), 403, "permission_denied")
    assert_problem(api("client_user").delete(f"/charges/{created['id']}"), 403, "permission_denied")


def test_another_clients_user_gets_404s(api, world, started_work_order):
    created = api("technician").post(f"/work-orders/{started_work_order.pk}/charges", PARKING).json()
    user = api("other_client_user")
    assert_problem(user.get(f"/work-orders/{started_work_order.pk}/charges"), 404, "not_found")
    assert_problem(user.post(f"/work-orders/{started_work_order.pk}/charges", PARKING), 404, "not_found")
    assert_problem(user.get(f"/charges/{created['id']}"), 404, "not_found")
    assert_problem(user.delete(f"/charges/{created['id']}"), 404, "not_found")
    assert WorkOrderCharge.objects.filter(pk=created["id"]).exists()


def test_the_list_is_paginated(api, world, started_work_order):
    # given three charges
    for day in (1, 2, 3):
        billing_services.charge_add(
            actor=world.dispatcher,
            work_order_id=started_work_order.pk,
            description=f"Toll {day}",
            unit_price="4",
            incurred_on=date(2026, 3, day),
        )
    path = f"/work-orders/{started_work_order.pk}/charges"
    # when
    first = api("dispatcher").get(path, {"limit": 2}).json()
    second = api("dispatcher").get(path, {"limit": 2, "cursor": first["next_cursor"]}).json()
    # then
    assert [c["description"] for c in first["items"] + second["items"]] == ["Toll 1", "Toll 2", "Toll 3"]
    assert second["next_cursor"] is None


def test_the_list_reads_a_fixed_number_of_queries(api, world, started_work_order, django_assert_max_num_queries):
    # given thirty charges by different people, some with a receipt
    receipt = services.attachment_add(
        actor=world.technician,
        work_order_id=started_work_order.pk,
        upload=SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png"),
    )
    for i in range(30):
        billing_services.charge_add(
            actor=world.technician if i % 2 else world.dispatcher,
            work_order_id=started_work_order.pk,
            description=f"Toll {i}",
            unit_price="4",
            receipt_id=receipt.pk if i % 3 == 0 else None,
        )
    client = api("accountant")
    # when / then: token, membership, the work order's scope, the page (with its invoice columns)
    with django_assert_max_num_queries(6):
        r = client.get(f"/work-orders/{started_work_order.pk}/charges", {"limit": 30})
    assert len(r.json()["items"]) == 30
