"""Issuing (DOMAIN.md §4 rules 8-10): gap-free numbers under a lock, dates never backwards, validation
before numbering, snapshots, documents and their hashes, work orders invoiced; payments."""

import hashlib
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from fixflow.billing import services
from fixflow.billing.choices import InvoiceStatus
from fixflow.billing.models import ClientBilling, Invoice, InvoiceLine, InvoiceSeries, Payment
from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service.choices import BillingStatus, EventKind, Status
from fixflow.service.models import WorkOrder, WorkOrderEvent

from .factories import (
    STUB_CII,
    STUB_PDF,
    STUB_UBL,
    ContractFactory,
    TaxRateFactory,
    at,
    billing_setup,
    client_billing,
    closed_work_order,
    needs_documents,
    stub_documents,
    time_entry,
)

MONDAY = "2026-03-02"


@pytest.fixture
def billing(world):
    return billing_setup(world)


@pytest.fixture
def rendered(monkeypatch):
    return stub_documents(monkeypatch)


def _today(world) -> date:
    return clock.now().astimezone(world.org.tzinfo).date()


def _draft(world, *, minutes=60, equipment=None, **wo_fields) -> Invoice:
    """The draft holding a new closed work order with one labour line of ``minutes`` (80/h)."""
    wo = closed_work_order(world, equipment=equipment or world.equipment, **wo_fields)
    time_entry(wo, at(MONDAY, "08:00"), minutes)
    services.invoice_closed_work(actor=world.accountant, client_ids=[wo.client_id])
    return InvoiceLine.objects.filter(work_order=wo).select_related("invoice").first().invoice


def _issue(world, invoice, **kw) -> Invoice:
    return services.invoice_issue(actor=world.accountant, invoice_id=invoice.pk, **kw)


def _state(invoice) -> dict:
    return Invoice.objects.filter(pk=invoice.pk).values().get()


def test_issuing_numbers_snapshots_renders_and_freezes(world, billing, rendered):
    # given a draft for 1 h of labour, and the client's billing details
    client_billing(world.client, legal_name="Stadtwerke Berlin GmbH", buyer_reference="04011000-1234-12")
    world.client.vat_id = "DE987654321"
    world.client.save()
    draft = _draft(world)
    wo = draft.lines.get().work_order
    # when
    invoice = _issue(world, draft)
    # then: the first number of the series, today, due in 14 days
    today = _today(world)
    assert invoice.number == f"INV-{today.year}-00001"
    assert (invoice.status, invoice.series, invoice.issue_date) == (InvoiceStatus.ISSUED, "INV", today)
    assert invoice.due_date == today + timedelta(days=14)
    assert invoice.payment_terms == "Payable within 14 days without deduction."
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross, invoice.amount_due) == (
        D("80.00"),
        D("15.20"),
        D("95.20"),
        D("95.20"),
    )
    assert invoice.issued_by == world.accountant.user and invoice.issued_at is not None
    # and the parties as they are today
    assert invoice.seller == {
        "name": "Acme Maintenance",
        "legal_name": "Acme Maintenance GmbH",
        "street": "Industriestraße 5",
        "address_line_2": "",
        "postcode": "80331",
        "city": "München",
        "country": "DE",
        "vat_id": "DE123456789",
        "tax_number": "",
        "registration_id": "HRB 12345, Amtsgericht München",
        "email": "billing@acme.example",
        "phone": "",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "bank_name": "Commerzbank",
        "logo_path": "",
    }
    assert invoice.buyer == {
        "name": "Stadtwerke",
        "legal_name": "Stadtwerke Berlin GmbH",
        "street": "Am Wasserwerk 1",
        "address_line_2": "",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "DE987654321",
        "buyer_reference": "04011000-1234-12",
        "endpoint_scheme": "",
        "endpoint_id": "",
        "email": "rechnung@example.com",
    }
    assert invoice.buyer_reference == "04011000-1234-12"
    # and the documents with their hashes
    assert rendered == [(invoice.pk, invoice.number)]
    assert invoice.pdf.read() == STUB_PDF and invoice.xml_cii.read() == STUB_CII and invoice.xml_ubl.read() == STUB_UBL
    assert invoice.pdf_sha256 == hashlib.sha256(STUB_PDF).hexdigest()
    assert invoice.xml_sha256 == hashlib.sha256(STUB_CII).hexdigest()
    # and the work order is invoiced, with an event naming the invoice
    wo.refresh_from_db()
    assert wo.billing_status == BillingStatus.INVOICED
    event = WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.BILLING).get()
    assert event.data == {"from": "to_invoice", "to": "invoiced", "invoice": invoice.number, "invoice_id": invoice.pk}
    assert InvoiceSeries.objects.get(organization=world.org, code="INV").last_number == 1


def test_numbers_are_consecutive_in_a_series(world, billing, rendered):
    # when three drafts are issued one after the other
    numbers = [_issue(world, _draft(world)).number for _ in range(2)]
    numbers.append(_issue(world, _draft(world, equipment=world.other_equipment)).number)
    # then
    year = _today(world).year
    assert numbers == [f"INV-{year}-00001", f"INV-{year}-00002", f"INV-{year}-00003"]
    assert InvoiceSeries.objects.get(organization=world.org, code="INV").last_number == 3


def test_each_organization_counts_on_its_own(world, other_world, billing, rendered):
    billing_setup(other_world)
    ours = _issue(world, _draft(world))
    wo = closed_work_order(other_world, equipment=other_world.equipment)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    [theirs] = services.invoice_closed_work(actor=other_world.admin)
    theirs = services.invoice_issue(actor=other_world.admin, invoice_id=theirs.pk)
    assert ours.number == theirs.number == f"INV-{_today(world).year}-00001"


def test_a_failure_after_numbering_gives_the_number_back(world, billing, monkeypatch):
    # given the XML validation fails for the first issue
    failing, passing = _draft(world), _draft(world, equipment=world.other_equipment)
    before = _state(failing)

    def broken(invoice):
        raise DomainError(ErrorCode.VALIDATION, "[BR-CO-15] Invoice total amount with VAT = total without VAT + VAT.")

    monkeypatch.setattr(services, "_render_documents", broken)
    # when
    with pytest.raises(DomainError) as exc:
        _issue(world, failing)
    # then: nothing changed, no number taken
    assert "BR-CO-15" in exc.value.message
    assert _state(failing) == before
    assert not InvoiceSeries.objects.filter(last_number__gt=0).exists()
    assert WorkOrder.objects.filter(billing_status=BillingStatus.INVOICED).count() == 0
    # when the next invoice is issued, it gets the number
    stub_documents(monkeypatch)
    issued = _issue(world, passing)
    assert issued.number.endswith("-00001")
    # and the one that failed, once fixed, the next
    assert _issue(world, failing).number.endswith("-00002")


def test_an_issue_date_before_the_last_one_in_the_series_is_refused(world, billing, rendered):
    # given an invoice issued yesterday
    today = _today(world)
    _issue(world, _draft(world), issue_date=today - timedelta(days=1))
    draft = _draft(world)
    # when the next is dated two days ago
    with pytest.raises(DomainError) as exc:
        _issue(world, draft, issue_date=today - timedelta(days=2))
    # then
    assert exc.value.field == "issue_date" and "never go backwards" in exc.value.message
    assert Invoice.objects.get(pk=draft.pk).number is None
    # and the same day is fine
    assert _issue(world, draft, issue_date=today - timedelta(days=1)).number.endswith("-00002")


def test_an_issue_date_in_the_future_is_refused(world, billing, rendered):
    draft = _draft(world)
    with pytest.raises(DomainError) as exc:
        _issue(world, draft, issue_date=_today(world) + timedelta(days=1))
    assert exc.value.field == "issue_date"


def test_an_empty_draft_is_refused(world, billing, rendered):
    draft = Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="EUR")
    with pytest.raises(DomainError) as exc:
        _issue(world, draft)
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "lines")
    assert not InvoiceSeries.objects.exists()


def test_reverse_charge_without_the_clients_vat_id_is_refused(world, billing, rendered):
    # given a client invoiced under reverse charge, without a VAT id
    reverse = TaxRateFactory(
        organization=world.org,
        category="AE",
        rate=D("0"),
        exemption_reason="Reverse charge",
        exemption_code="VATEX-EU-AE",
    )
    client_billing(world.client, tax_rate=reverse, country="AT")
    draft = _draft(world)
    before = _state(draft)
    # when
    with pytest.raises(DomainError) as exc:
        _issue(world, draft)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "vat_id")
    assert "VAT id" in exc.value.message
    assert _state(draft) == before and rendered == []
    # when the VAT id is added, it is issued without VAT
    world.client.vat_id = "ATU12345678"
    world.client.save()
    invoice = _issue(world, draft)
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (D("80.00"), D("0.00"), D("80.00"))


def test_a_total_of_zero_is_refused(world, billing, rendered):
    draft = Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="EUR")
    services.invoice_line_add(
        actor=world.accountant, invoice_id=draft.pk, data={"description": "Free", "quantity": "1", "unit_price": "0"}
    )
    with pytest.raises(DomainError) as exc:
        _issue(world, draft)
    assert exc.value.field == "lines" and "more than 0" in exc.value.message


def test_work_covered_by_a_contract_in_full_is_issued_at_zero_and_paid(world, billing, rendered):
    # given a contract with 10 included hours and a 1 h job: an invoice recording the covered hour
    ContractFactory(organization=world.org, client=world.client, included_labour_minutes=600)
    draft = _draft(world)
    assert draft.total_gross == 0
    # when
    invoice = _issue(world, draft)
    # then
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_due == 0


def test_a_currency_with_three_decimals_cannot_be_issued(world, billing, rendered):
    draft = Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="KWD")
    with pytest.raises(DomainError) as exc:
        _issue(world, draft)
    assert exc.value.field == "currency"


def test_a_reopened_work_order_on_a_draft_stops_the_issue(world, billing, rendered):
    draft = _draft(world)
    WorkOrder.objects.update(status=Status.IN_PROGRESS, billing_status=BillingStatus.NOT_BILLABLE)
    with pytest.raises(DomainError) as exc:
        _issue(world, draft)
    assert exc.value.code == ErrorCode.CONFLICT and "regenerate the draft" in exc.value.message


def test_issuing_needs_the_invoices_capability(world, billing, rendered):
    draft = _draft(world)
    for role in ("dispatcher", "technician", "client_user"):
        with pytest.raises(DomainError) as exc:
            services.invoice_issue(actor=getattr(world, role), invoice_id=draft.pk)
        assert exc.value.code == ErrorCode.PERMISSION_DENIED


def test_another_organizations_draft_is_not_found(world, other_world, billing, rendered):
    draft = _draft(world)
    billing_setup(other_world)
    with pytest.raises(DomainError) as exc:
        services.invoice_issue(actor=other_world.admin, invoice_id=draft.pk)
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_the_clients_new_address_does_not_change_an_issued_invoice(world, billing, rendered):
    # given an issued invoice
    client_billing(world.client)
    invoice = _issue(world, _draft(world))
    buyer, pdf_hash = dict(invoice.buyer), invoice.pdf_sha256
    # when the client moves
    ClientBilling.objects.filter(client=world.client).update(street="Neue Allee 99", city="Potsdam")
    world.client.name = "Stadtwerke Neu"
    world.client.save()
    # then the invoice keeps the address it was issued to
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.buyer == buyer and invoice.buyer["street"] == "Am Wasserwerk 1"
    assert invoice.pdf_sha256 == pdf_hash


@needs_documents
def test_issued_documents_are_stored_with_their_hashes_and_stay_the_same(world, billing):
    # given an issued invoice with the real documents
    from fixflow.billing.documents import cii, terms

    client_billing(world.client)
    invoice = _issue(world, _draft(world))
    pdf, xml = invoice.pdf.read(), invoice.xml_cii.read()
    # then
    assert pdf.startswith(b"%PDF") and invoice.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert invoice.xml_sha256 == hashlib.sha256(xml).hexdigest()
    assert invoice.number.encode() in xml and b"Am Wasserwerk 1" in xml
    assert invoice.xml_ubl.read().count(invoice.number.encode()) >= 1
    # when the client moves, the documents rendered from the stored invoice are the same bytes
    ClientBilling.objects.filter(client=world.client).update(street="Neue Allee 99")
    assert cii.render(terms.build(Invoice.objects.get(pk=invoice.pk))) == xml


@needs_documents
def test_a_zero_decimal_currency_invoice_is_issued(world, billing):
    from .factories import price_list

    client_billing(world.client, currency="JPY", price_list=price_list(world, currency="JPY", labour=D("10000")))
    invoice = _issue(world, _draft(world, minutes=45))
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (D("7500"), D("1425"), D("8925"))
    assert b"8925" in invoice.xml_cii.read()


# ---------------------------------------------------------------------------------------------
# payments


def test_payments_move_an_invoice_to_partially_paid_and_paid(world, billing, rendered):
    # given an issued invoice of 95.20
    invoice = _issue(world, _draft(world))
    # when 50 are paid
    first = services.payment_record(actor=world.accountant, invoice_id=invoice.pk, amount="50.00", reference="TX1")
    invoice.refresh_from_db()
    # then
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("partially_paid", D("50.00"), D("45.20"))
    assert (first.amount, first.method, first.paid_on) == (D("50.00"), "transfer", _today(world))
    # when the rest is paid
    services.payment_record(actor=world.accountant, invoice_id=invoice.pk, amount="45.20", method="card")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("paid", D("95.20"), D("0.00"))
    # when the first payment was a mistake
    services.payment_delete(actor=world.accountant, payment_id=first.pk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("partially_paid", D("45.20"), D("50.00"))


def test_an_overpayment_is_refused(world, billing, rendered):
    invoice = _issue(world, _draft(world))
    services.payment_record(actor=world.accountant, invoice_id=invoice.pk, amount="90")
    with pytest.raises(DomainError) as exc:
        services.payment_record(actor=world.accountant, invoice_id=invoice.pk, amount="5.21")
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "amount")
    assert Payment.objects.count() == 1
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == D("90.00")


@pytest.mark.parametrize(
    "amount, paid_on, field",
    [("0", None, "amount"), ("-5", None, "amount"), ("1.005", None, "amount"), ("10", "2999-01-01", "paid_on")],
)
def test_a_wrong_payment_is_refused(world, billing, rendered, amount, paid_on, field):
    invoice = _issue(world, _draft(world))
    with pytest.raises(DomainError) as exc:
        services.payment_record(actor=world.accountant, invoice_id=invoice.pk, amount=amount, paid_on=paid_on)
    assert exc.value.field == field
    assert not Payment.objects.exists()


def test_a_draft_takes_no_payment(world, billing, rendered):
    draft = _draft(world)
    with pytest.raises(DomainError) as exc:
        services.payment_record(actor=world.accountant, invoice_id=draft.pk, amount="10")
    assert exc.value.code == ErrorCode.CONFLICT


def test_lines_of_an_issued_invoice_keep_their_facts(world, billing, rendered):
    invoice = _issue(world, _draft(world))
    assert InvoiceLine.objects.filter(invoice=invoice, time_entry__isnull=False, released=False).count() == 1
