"""Billing status beside the operational status: to_invoice on closing, no_charge with a reason."""

import pytest
from django.db import IntegrityError, transaction

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services
from fixflow.service.choices import BillingStatus, EventKind, Status
from fixflow.service.models import WorkOrder, WorkOrderEvent

from .helpers import state_of, work_order_in


def _close(world, wo):
    return services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to=Status.CLOSED)


def test_closing_billable_work_puts_it_to_invoice(world):
    # given
    wo = work_order_in(world, Status.COMPLETED, is_billable=True)
    # when
    _close(world, wo)
    # then
    wo.refresh_from_db()
    assert (wo.status, wo.billing_status) == (Status.CLOSED, BillingStatus.TO_INVOICE)


def test_closing_non_billable_work_leaves_it_not_billable(world):
    # given
    wo = work_order_in(world, Status.COMPLETED, is_billable=False)
    # when
    _close(world, wo)
    # then
    wo.refresh_from_db()
    assert (wo.status, wo.billing_status) == (Status.CLOSED, BillingStatus.NOT_BILLABLE)


def test_billable_work_is_not_to_invoice_before_it_is_closed(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS, is_billable=True)
    # when
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.COMPLETED)
    # then
    wo.refresh_from_db()
    assert wo.billing_status == BillingStatus.NOT_BILLABLE


def test_reopening_and_closing_again_puts_it_back_to_invoice(world):
    # given
    wo = work_order_in(world, Status.CLOSED, is_billable=True)
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=wo.pk, to=Status.IN_PROGRESS, reason="Forgot the filter"
    )
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.COMPLETED)
    # when
    _close(world, wo)
    # then
    wo.refresh_from_db()
    assert wo.billing_status == BillingStatus.TO_INVOICE


def test_marking_no_charge_without_a_reason_is_refused(world):
    # given
    wo = work_order_in(world, Status.CLOSED)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_order_set_billing(
            actor=world.dispatcher, work_order_id=wo.pk, billing_status="no_charge", reason=" "
        )
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "reason")
    assert state_of(wo) == before


def test_marking_no_charge_with_a_reason_records_it(world):
    # given
    wo = work_order_in(world, Status.CLOSED)
    # when
    services.work_order_set_billing(
        actor=world.accountant, work_order_id=wo.pk, billing_status="no_charge", reason="Warranty repair"
    )
    # then
    wo.refresh_from_db()
    assert (wo.billing_status, wo.no_charge_reason) == (BillingStatus.NO_CHARGE, "Warranty repair")
    event = WorkOrderEvent.objects.get(work_order=wo)
    assert (event.kind, event.reason, event.data) == (
        EventKind.BILLING,
        "Warranty repair",
        {"from": "to_invoice", "to": "no_charge"},
    )


def test_the_database_refuses_no_charge_without_a_reason(world):
    # given
    wo = work_order_in(world, Status.CLOSED)
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkOrder.objects.filter(pk=wo.pk).update(billing_status=BillingStatus.NO_CHARGE, no_charge_reason="")
    wo.refresh_from_db()
    assert wo.billing_status == BillingStatus.TO_INVOICE


def test_no_charge_work_stays_no_charge_when_closed(world):
    # given
    wo = work_order_in(world, Status.COMPLETED)
    services.work_order_set_billing(
        actor=world.dispatcher, work_order_id=wo.pk, billing_status="no_charge", reason="Goodwill"
    )
    # when
    _close(world, wo)
    # then
    wo.refresh_from_db()
    assert wo.billing_status == BillingStatus.NO_CHARGE


def test_no_charge_work_can_be_sent_back_to_invoicing_once_closed(world):
    # given
    wo = work_order_in(world, Status.CLOSED)
    services.work_order_set_billing(
        actor=world.dispatcher, work_order_id=wo.pk, billing_status="no_charge", reason="Goodwill"
    )
    # when
    services.work_order_set_billing(actor=world.dispatcher, work_order_id=wo.pk, billing_status="to_invoice")
    # then
    wo.refresh_from_db()
    assert (wo.billing_status, wo.no_charge_reason) == (BillingStatus.TO_INVOICE, "")


@pytest.mark.parametrize(
    ("fields", "target", "code"),
    [
        (
            {"status": Status.IN_PROGRESS, "billing_status": BillingStatus.NO_CHARGE, "no_charge_reason": "Goodwill"},
            "to_invoice",
            ErrorCode.CONFLICT,
        ),
        ({"status": Status.CLOSED, "billing_status": BillingStatus.INVOICED}, "no_charge", ErrorCode.CONFLICT),
        (
            {"status": Status.CLOSED, "is_billable": False, "billing_status": BillingStatus.NOT_BILLABLE},
            "no_charge",
            ErrorCode.CONFLICT,
        ),
        ({"status": Status.CLOSED}, "invoiced", ErrorCode.VALIDATION),
        ({"status": Status.CLOSED}, "free", ErrorCode.VALIDATION),
    ],
    ids=["to-invoice-while-open", "already-invoiced", "not-billable", "invoiced-by-hand", "unknown"],
)
def test_billing_changes_that_make_no_sense_are_refused(world, fields, target, code):
    # given
    wo = work_order_in(world, **fields)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_order_set_billing(
            actor=world.dispatcher, work_order_id=wo.pk, billing_status=target, reason="Because"
        )
    # then
    assert exc.value.code == code
    assert state_of(wo) == before


@pytest.mark.parametrize("who", ["technician", "requester", "client_user"])
def test_only_office_and_accounting_change_the_billing_status(world, who):
    # given
    wo = work_order_in(world, Status.CLOSED)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_order_set_billing(
            actor=getattr(world, who), work_order_id=wo.pk, billing_status="no_charge", reason="Because"
        )
    # then
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    assert state_of(wo) == before
