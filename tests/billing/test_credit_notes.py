"""Credit notes (DOMAIN.md §4 rules 9, 10): type 381 referencing the original, positive amounts, issued in
their own series; crediting in full releases the work (it can be invoiced again) and marks the original
credited; a partial credit by quantity reduces what is due."""

from datetime import timedelta
from decimal import Decimal as D

import pytest

from fixflow.billing import services
from fixflow.billing.choices import DocumentType, InvoiceStatus, LineKind
from fixflow.billing.models import Invoice, InvoiceLine
from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service.choices import BillingStatus, EventKind
from fixflow.service.models import WorkOrderEvent

from ..factories import PartFactory
from .factories import (
    ContractFactory,
    at,
    billing_setup,
    client_billing,
    closed_work_order,
    needs_documents,
    part_usage,
    stub_documents,
    time_entry,
)

MONDAY = "2026-03-02"


@pytest.fixture
def billing(world):
    return billing_setup(world)


@pytest.fixture
def issued(world, billing, monkeypatch):
    """An issued invoice for 2 h of labour (160.00) and 2 seal kits at 15.00 (30.00): 226.10 with VAT."""
    stub_documents(monkeypatch)
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 120)
    part_usage(wo, part=PartFactory(organization=world.org, name="Seal kit", sale_price=D("15.00")), quantity="2")
    [draft] = services.invoice_closed_work(actor=world.accountant)
    return services.invoice_issue(actor=world.accountant, invoice_id=draft.pk)


def _credit(world, invoice, **kw):
    kw.setdefault("reason", "Wrong client")
    return services.credit_note_create(actor=world.accountant, invoice_id=invoice.pk, **kw)


def _today(world):
    return clock.now().astimezone(world.org.tzinfo).date()


def test_a_full_credit_note_copies_every_line_with_positive_amounts(world, issued):
    # when
    note = _credit(world, issued)
    # then: a draft of type 381 referencing the invoice, amounts as on the invoice (positive)
    assert (note.document_type, note.status, note.number) == (DocumentType.CREDIT_NOTE, InvoiceStatus.DRAFT, None)
    assert note.credited_invoice == issued and note.credit_reason == "Wrong client"
    assert [(line.description, line.quantity, line.net_amount) for line in note.lines.order_by("position")] == [
        ("Labour · Tom Technician", D("2"), D("160.00")),
        ("Seal kit", D("2"), D("30.00")),
    ]
    assert (note.total_net, note.total_tax, note.total_gross) == (D("190.00"), D("36.10"), D("226.10"))
    assert [line.credited_line for line in note.lines.order_by("position")] == list(issued.lines.order_by("position"))
    # and nothing is released while it is a draft
    assert not InvoiceLine.objects.filter(released=True).exists()


def test_issuing_a_credit_note_releases_the_work_and_credits_the_invoice(world, issued):
    # given a full credit note
    note = _credit(world, issued)
    wo = issued.lines.first().work_order
    # when
    note = services.invoice_issue(actor=world.accountant, invoice_id=note.pk)
    # then: numbered in the credit note series
    assert note.number == f"CN-{_today(world).year}-00001" and note.status == InvoiceStatus.ISSUED
    # and the invoice is credited, its lines released
    issued.refresh_from_db()
    assert (issued.status, issued.amount_due) == (InvoiceStatus.CREDITED, D("0.00"))
    assert list(issued.lines.values_list("released", flat=True)) == [True, True]
    # and the work waits to be invoiced again
    wo.refresh_from_db()
    assert wo.billing_status == BillingStatus.TO_INVOICE
    event = WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.BILLING).last()
    assert (event.data["from"], event.data["to"], event.data["invoice"], event.reason) == (
        "invoiced",
        "to_invoice",
        note.number,
        "Wrong client",
    )
    # when the work is invoiced again, the same facts go on a new draft
    [again] = services.invoice_closed_work(actor=world.accountant)
    assert again.pk not in (issued.pk, note.pk)
    assert sorted(again.lines.values_list("kind", flat=True)) == [LineKind.LABOUR, LineKind.PART]
    assert again.total_gross == D("226.10")


def test_a_partial_credit_reduces_what_is_due_without_releasing_the_line(world, issued):
    # given one of the two seal kits was not used
    part_line = issued.lines.get(kind=LineKind.PART)
    note = _credit(world, issued, lines=[(part_line.pk, "1")], reason="One kit returned")
    assert (note.total_net, note.total_tax, note.total_gross) == (D("15.00"), D("2.85"), D("17.85"))
    # when
    services.invoice_issue(actor=world.accountant, invoice_id=note.pk)
    # then
    issued.refresh_from_db()
    assert (issued.status, issued.amount_due) == (InvoiceStatus.ISSUED, D("208.25"))
    assert not InvoiceLine.objects.filter(released=True).exists()
    assert issued.lines.first().work_order.billing_status == BillingStatus.INVOICED
    # and a payment of what is left pays it
    services.payment_record(actor=world.accountant, invoice_id=issued.pk, amount="208.25")
    issued.refresh_from_db()
    assert issued.status == InvoiceStatus.PAID
    # and the other kit can still be credited, but no more
    with pytest.raises(DomainError) as exc:
        _credit(world, issued, lines=[(part_line.pk, "1.5")])
    assert exc.value.field == "lines" and "only 1 pc left" in exc.value.message


def test_crediting_one_line_in_full_releases_only_that_line(world, issued):
    labour = issued.lines.get(kind=LineKind.LABOUR)
    note = _credit(world, issued, lines=[(labour.pk, "2")], reason="Time booked on the wrong job")
    services.invoice_issue(actor=world.accountant, invoice_id=note.pk)
    issued.refresh_from_db()
    assert issued.status == InvoiceStatus.ISSUED and issued.amount_due == D("35.70")
    assert dict(issued.lines.values_list("kind", "released")) == {LineKind.LABOUR: True, LineKind.PART: False}
    # the released time is invoiced again, the part is not
    [again] = services.invoice_closed_work(actor=world.accountant)
    assert list(again.lines.values_list("kind", flat=True)) == [LineKind.LABOUR]


def test_two_drafts_cannot_credit_the_same_quantity(world, issued):
    _credit(world, issued)
    with pytest.raises(DomainError) as exc:
        _credit(world, issued)
    assert exc.value.code == ErrorCode.CONFLICT
    assert Invoice.objects.filter(document_type=DocumentType.CREDIT_NOTE).count() == 1


@pytest.mark.parametrize("what", ["draft", "credit note", "credited"])
def test_what_cannot_be_credited(world, issued, what):
    if what == "draft":
        target = Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="EUR")
    elif what == "credit note":
        target = _credit(world, issued)
    else:
        services.invoice_issue(actor=world.accountant, invoice_id=_credit(world, issued).pk)
        target = issued
    with pytest.raises(DomainError) as exc:
        _credit(world, target)
    assert exc.value.code == ErrorCode.CONFLICT


def test_a_credit_note_needs_a_reason_and_lines_of_the_invoice(world, issued, other_world):
    with pytest.raises(DomainError) as exc:
        _credit(world, issued, reason=" ")
    assert exc.value.field == "reason"
    with pytest.raises(DomainError) as exc:
        _credit(world, issued, lines=[(999999, "1")])
    assert exc.value.field == "lines"
    assert not Invoice.objects.filter(document_type=DocumentType.CREDIT_NOTE).exists()


def test_a_credited_invoice_takes_no_payment(world, issued):
    services.invoice_issue(actor=world.accountant, invoice_id=_credit(world, issued).pk)
    with pytest.raises(DomainError) as exc:
        services.payment_record(actor=world.accountant, invoice_id=issued.pk, amount="1")
    assert exc.value.code == ErrorCode.CONFLICT


def test_crediting_covered_work_gives_the_included_hours_back(world, billing, monkeypatch):
    # given a contract with 2 included hours, used up by an issued invoice
    stub_documents(monkeypatch)
    ContractFactory(organization=world.org, client=world.client, included_labour_minutes=120)
    first = closed_work_order(world)
    time_entry(first, at(MONDAY, "08:00"), 120)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    invoice = services.invoice_issue(actor=world.accountant, invoice_id=draft.pk)
    # when it is credited in full (a zero credit note: the lines were given away)
    note = services.invoice_issue(actor=world.accountant, invoice_id=_credit(world, invoice).pk)
    assert note.total_gross == 0
    # then the hours are available again for other work
    first.billing_status = BillingStatus.NO_CHARGE
    first.no_charge_reason = "Duplicate"
    first.save()
    second = closed_work_order(world, closed=clock.now() - timedelta(days=1))
    time_entry(second, at("2026-03-09", "08:00"), 60)
    [again] = services.invoice_closed_work(actor=world.accountant)
    assert list(again.lines.values_list("discount_percent", "covered_minutes")) == [(D("100"), 60)]


@needs_documents
def test_an_issued_credit_note_has_valid_documents(world, billing):
    client_billing(world.client)
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    invoice = services.invoice_issue(actor=world.accountant, invoice_id=draft.pk)
    note = services.invoice_issue(actor=world.accountant, invoice_id=_credit(world, invoice).pk)
    xml = note.xml_cii.read()
    assert b"381" in xml and invoice.number.encode() in xml
    assert note.xml_ubl.read().startswith(b"<?xml")
