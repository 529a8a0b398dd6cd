"""An issued invoice is immutable through every path (DOMAIN.md §4 rule 9): the services, the model's
``save()``/``delete()``, the queryset's ``update()``/``delete()``, the admin; so are its lines and the
time, parts and charges they bill. Only the payment state and the sending record move on.

The API and the pages come later; their refusal is to be tested with them.
"""

from decimal import Decimal as D

import pytest

from fixflow.billing import services
from fixflow.billing.choices import InvoiceStatus
from fixflow.billing.models import FrozenInvoiceError, Invoice, InvoiceLine
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services as service_services
from fixflow.service.choices import Status
from fixflow.service.models import WorkOrder

from ..factories import UserFactory
from .factories import at, billing_setup, charge, closed_work_order, part_usage, stub_documents, time_entry

MONDAY = "2026-03-02"


@pytest.fixture
def issued(world, monkeypatch):
    billing_setup(world)
    stub_documents(monkeypatch)
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    part_usage(wo)
    charge(wo)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    return services.invoice_issue(actor=world.accountant, invoice_id=draft.pk)


def _stored(invoice) -> tuple:
    row = Invoice.objects.filter(pk=invoice.pk).values().get()
    lines = list(InvoiceLine.objects.filter(invoice_id=invoice.pk).values().order_by("id"))
    return row, lines


@pytest.mark.parametrize(
    "action",
    [
        "update",
        "line_add",
        "line_update",
        "line_remove",
        "regenerate",
        "delete",
        "issue",
    ],
)
def test_the_services_refuse_to_change_an_issued_invoice(world, issued, action):
    # given
    before = _stored(issued)
    line = issued.lines.first()
    calls = {
        "update": lambda: services.invoice_update(actor=world.accountant, invoice_id=issued.pk, data={"note": "x"}),
        "line_add": lambda: services.invoice_line_add(
            actor=world.accountant,
            invoice_id=issued.pk,
            data={"description": "Extra", "quantity": "1", "unit_price": "10"},
        ),
        "line_update": lambda: services.invoice_line_update(
            actor=world.accountant, line_id=line.pk, data={"unit_price": "1"}
        ),
        "line_remove": lambda: services.invoice_line_remove(actor=world.accountant, line_id=line.pk),
        "regenerate": lambda: services.invoice_regenerate(actor=world.accountant, invoice_id=issued.pk),
        "delete": lambda: services.invoice_delete(actor=world.accountant, invoice_id=issued.pk),
        "issue": lambda: services.invoice_issue(actor=world.accountant, invoice_id=issued.pk),
    }
    # when
    with pytest.raises(DomainError) as exc:
        calls[action]()
    # then
    assert exc.value.code == ErrorCode.CONFLICT
    assert f"{issued.number} is issued" in exc.value.message
    assert _stored(issued) == before


def test_the_model_refuses_to_save_or_delete_an_issued_invoice(world, issued):
    before = _stored(issued)
    invoice = Invoice.objects.get(pk=issued.pk)
    invoice.total_gross = D("1.00")
    with pytest.raises(FrozenInvoiceError):
        invoice.save()
    with pytest.raises(FrozenInvoiceError):
        invoice.save(update_fields=["total_gross"])
    with pytest.raises(FrozenInvoiceError):
        Invoice.objects.get(pk=issued.pk).delete()
    assert _stored(issued) == before


def test_the_model_still_takes_the_payment_state(world, issued):
    invoice = Invoice.objects.get(pk=issued.pk)
    invoice.status = InvoiceStatus.PARTIALLY_PAID
    invoice.save(update_fields=["status", "updated_at"])
    assert Invoice.objects.get(pk=issued.pk).status == InvoiceStatus.PARTIALLY_PAID


def test_the_queryset_refuses_updates_and_deletes_of_issued_invoices(world, issued):
    before = _stored(issued)
    with pytest.raises(FrozenInvoiceError):
        Invoice.objects.filter(pk=issued.pk).update(total_gross=D("1.00"))
    with pytest.raises(FrozenInvoiceError):
        Invoice.objects.all().update(note="changed")
    with pytest.raises(FrozenInvoiceError):
        Invoice.objects.filter(pk=issued.pk).delete()
    assert _stored(issued) == before


def test_the_lines_of_an_issued_invoice_cannot_change(world, issued):
    before = _stored(issued)
    line = InvoiceLine.objects.filter(invoice=issued).first()
    line.unit_price = D("1")
    with pytest.raises(FrozenInvoiceError):
        line.save()
    with pytest.raises(FrozenInvoiceError):
        line.delete()
    with pytest.raises(FrozenInvoiceError):
        InvoiceLine.objects.filter(invoice=issued).update(unit_price=D("1"))
    with pytest.raises(FrozenInvoiceError):
        InvoiceLine.objects.filter(invoice=issued).delete()
    with pytest.raises(FrozenInvoiceError):
        InvoiceLine.objects.create(organization=world.org, invoice=issued, description="Sneaked in")
    assert _stored(issued) == before


def test_the_time_parts_and_charges_it_bills_cannot_be_removed(world, issued):
    # given the work order reopened behind the billing app's back, so only the invoice protects the facts
    line = issued.lines.exclude(time_entry=None).get()
    wo = line.work_order
    WorkOrder.objects.filter(pk=wo.pk).update(status=Status.IN_PROGRESS, billing_status="to_invoice")
    message = "is invoiced: it can no longer be changed; credit the invoice first."
    # when / then
    with pytest.raises(DomainError) as exc:
        service_services.time_entry_delete(actor=world.dispatcher, time_entry_id=line.time_entry_id)
    assert exc.value.code == ErrorCode.CONFLICT and exc.value.message == f"This time entry {message}"
    usage = issued.lines.exclude(part_usage=None).get().part_usage
    with pytest.raises(DomainError) as exc:
        service_services.part_usage_delete(actor=world.dispatcher, part_usage_id=usage.pk)
    assert exc.value.message == f"This part usage {message}"
    recorded = issued.lines.exclude(charge=None).get().charge
    with pytest.raises(DomainError) as exc:
        services.charge_delete(actor=world.dispatcher, charge_id=recorded.pk)
    assert exc.value.message == f"This charge {message}"
    assert wo.time_entries.count() == 1 and wo.part_usages.count() == 1 and wo.charges.count() == 1


@pytest.fixture
def staff(client, db):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_the_admin_shows_an_issued_invoice_read_only_and_refuses_a_post(world, issued, staff):
    # given
    before = _stored(issued)
    url = f"/admin/billing/invoice/{issued.pk}/change/"
    # when the change form is opened
    page = staff.get(url)
    # then it shows the invoice without a way to save it
    assert page.status_code == 200
    assert issued.number in page.text and 'name="_save"' not in page.text
    # when a change is posted anyway, or the invoice deleted
    posted = staff.post(url, {"currency": "USD", "note": "changed", "_save": "Save"})
    deleted = staff.post(f"/admin/billing/invoice/{issued.pk}/delete/", {"post": "yes"})
    # then both are refused and nothing changed
    assert posted.status_code == 403 and deleted.status_code == 403
    assert _stored(issued) == before


def test_the_admin_cannot_add_invoices(world, issued, staff):
    assert staff.get("/admin/billing/invoice/add/").status_code == 403
    assert staff.get("/admin/billing/invoice/").status_code == 200
