"""A billable work order cannot be marked no charge without a reason — on every path that could (issue 5).

The paths: the service, the API (``POST …/billing``, ``PATCH`` of the work order), the work order page (the
billing box, the edit form), the admin, the lifecycle (close, reopen), a bare queryset update. Turning
billable work with billable facts recorded into non-billable work would waive it just the same, so that
needs the no-charge route (and its reason) too.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import WorkOrder
from tests.api.conftest import Api, assert_problem
from tests.billing.factories import charge, part_usage, time_entry

from ..factories import UserFactory
from .helpers import state_of, work_order_in


def _page_client(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def _billing(wo) -> tuple[str, str, bool]:
    wo.refresh_from_db()
    return wo.billing_status, wo.no_charge_reason, wo.is_billable


# --- the service and its entrances ---------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_the_service_refuses_no_charge_without_a_reason(world, reason):
    wo = work_order_in(world, Status.CLOSED)
    before = state_of(wo)
    with pytest.raises(DomainError) as exc:
        services.work_order_set_billing(
            actor=world.accountant, work_order_id=wo.pk, billing_status="no_charge", reason=reason
        )
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "reason")
    assert state_of(wo) == before


@pytest.mark.parametrize("body", [{"billing_status": "no_charge"}, {"billing_status": "no_charge", "reason": "  "}])
def test_the_api_refuses_no_charge_without_a_reason(world, body):
    wo = work_order_in(world, Status.CLOSED)
    before = state_of(wo)
    r = Api(world.accountant).post(f"/work-orders/{wo.pk}/billing", body)
    assert_problem(r, 422, "validation_error", field="reason")
    assert state_of(wo) == before


def test_a_work_order_patch_cannot_set_the_billing_status(world):
    # given billable work in progress
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when a PATCH names the billing status (not a field of the PATCH schema)
    r = Api(world.dispatcher).patch(f"/work-orders/{wo.pk}", {"billing_status": "no_charge", "no_charge_reason": ""})
    # then it is not written, whatever the answer
    assert r.status_code < 500
    assert _billing(wo) == (BillingStatus.NOT_BILLABLE, "", True)


def test_the_billing_box_of_the_page_refuses_no_charge_without_a_reason(world):
    wo = work_order_in(world, Status.CLOSED)
    response = _page_client(world.dispatcher).post(
        f"/work-orders/{wo.pk}/billing/", {"billing_status": "no_charge", "reason": ""}
    )
    assert response.status_code == 422 and "The reason is required." in response.content.decode()
    assert _billing(wo) == (BillingStatus.TO_INVOICE, "", True)


def test_the_admin_cannot_change_a_work_orders_billing(world):
    # given a superuser in the admin
    wo = work_order_in(world, Status.CLOSED)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/service/workorder/{wo.pk}/change/"
    # when
    shown = client.get(url, secure=True)
    posted = client.post(url, {"billing_status": "no_charge", "no_charge_reason": ""}, secure=True)
    # then: read only
    assert shown.status_code == 200 and 'name="billing_status"' not in shown.content.decode()
    assert posted.status_code == 403
    assert _billing(wo) == (BillingStatus.TO_INVOICE, "", True)


def test_the_database_refuses_no_charge_without_a_reason_on_a_bare_update(world):
    wo = work_order_in(world, Status.CLOSED)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkOrder.objects.filter(pk=wo.pk).update(billing_status=BillingStatus.NO_CHARGE)
    assert _billing(wo) == (BillingStatus.TO_INVOICE, "", True)


# --- waiving billable work by making it non-billable ----------------------------------------------


def _with_time(world, status=Status.IN_PROGRESS):
    wo = work_order_in(world, status)
    time_entry(wo, timezone.now() - timedelta(hours=2), 60)
    return wo


@pytest.mark.parametrize(
    "record",
    [
        lambda wo: time_entry(wo, timezone.now() - timedelta(hours=2), 60),
        lambda wo: part_usage(wo, description="Seal kit", quantity="1"),
        lambda wo: charge(wo, "Parking", "7.50"),
    ],
    ids=["time", "part", "charge"],
)
def test_billable_work_with_billable_facts_cannot_be_made_non_billable(world, record):
    # given billable work with time, a part or a charge recorded
    wo = work_order_in(world, Status.IN_PROGRESS)
    record(wo)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_order_update(actor=world.dispatcher, work_order_id=wo.pk, data={"is_billable": False})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.CONFLICT, "is_billable")
    assert "mark it “No charge” and say why" in exc.value.message
    assert state_of(wo) == before


def test_the_api_patch_refuses_to_make_billed_work_non_billable(world):
    wo = _with_time(world)
    r = Api(world.dispatcher).patch(f"/work-orders/{wo.pk}", {"is_billable": False})
    assert_problem(r, 409, "conflict", field="is_billable")
    assert _billing(wo) == (BillingStatus.NOT_BILLABLE, "", True)


def test_the_edit_form_refuses_to_make_billed_work_non_billable(world):
    # given
    wo = _with_time(world)
    client = _page_client(world.dispatcher)
    # when the box "Billable" is unticked
    response = client.post(
        f"/work-orders/{wo.pk}/edit/",
        {
            "version": wo.version,
            "title": wo.title,
            "type": wo.type,
            "priority": wo.priority,
            "equipment": wo.equipment_id,
            "lead_technician": wo.lead_technician_id,
        },
        secure=True,
    )
    # then
    page = response.content.decode()
    assert response.status_code == 422
    assert 'data-field="is_billable"' in page and "mark it “No charge” and say why" in page
    assert _billing(wo) == (BillingStatus.NOT_BILLABLE, "", True)


def test_work_without_billable_facts_may_become_non_billable(world):
    # given (a non-billable part does not count)
    wo = work_order_in(world, Status.PLANNED)
    part_usage(wo, description="Free sample", quantity="1", is_billable=False)
    # when
    services.work_order_update(actor=world.dispatcher, work_order_id=wo.pk, data={"is_billable": False})
    # then
    assert _billing(wo) == (BillingStatus.NOT_BILLABLE, "", False)


def test_work_marked_no_charge_with_a_reason_may_become_non_billable(world):
    # given
    wo = _with_time(world)
    services.work_order_set_billing(
        actor=world.dispatcher, work_order_id=wo.pk, billing_status="no_charge", reason="Warranty repair"
    )
    # when
    services.work_order_update(actor=world.dispatcher, work_order_id=wo.pk, data={"is_billable": False})
    # then
    assert _billing(wo) == (BillingStatus.NO_CHARGE, "Warranty repair", False)


# --- the lifecycle keeps the reason ---------------------------------------------------------------


def test_closing_and_reopening_keep_no_charge_with_its_reason(world):
    # given completed work marked no charge
    wo = work_order_in(world, Status.COMPLETED)
    services.work_order_set_billing(
        actor=world.dispatcher, work_order_id=wo.pk, billing_status="no_charge", reason="Goodwill after a complaint"
    )
    # when closed, then reopened
    services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to=Status.CLOSED)
    closed = _billing(wo)
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=wo.pk, to=Status.IN_PROGRESS, reason="Leak came back"
    )
    # then
    assert closed == (BillingStatus.NO_CHARGE, "Goodwill after a complaint", True)
    assert _billing(wo) == (BillingStatus.NO_CHARGE, "Goodwill after a complaint", True)


def test_closing_billable_work_never_makes_it_no_charge(world):
    # given billable completed work with time
    wo = _with_time(world, Status.COMPLETED)
    # when
    services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to=Status.CLOSED)
    # then
    assert _billing(wo) == (BillingStatus.TO_INVOICE, "", True)
