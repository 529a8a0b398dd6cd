"""The accounting export: one row per VAT line of the invoices and credit notes issued in a period, read from what
was issued (the VAT breakdown, the buyer snapshot), credit notes negative, so a period's columns sum up to its
revenue and VAT; drafts and other periods left out; text that a spreadsheet would run as a formula kept as text."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest

from fixflow.billing import exports, selectors, services
from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode

from .factories import (
    TaxRateFactory,
    at,
    billing_setup,
    client_billing,
    closed_work_order,
    stub_documents,
    time_entry,
)

MONDAY = "2026-03-02"


@pytest.fixture
def billing(world, monkeypatch):
    stub_documents(monkeypatch)
    setup = billing_setup(world)
    client_billing(world.client, legal_name="Stadtwerke Berlin GmbH", buyer_reference="04011000-1234-12")
    world.client.vat_id = "DE987654321"
    world.client.save()
    return setup


def _today(world):
    return clock.now().astimezone(world.org.tzinfo).date()


def _invoice(world, *, minutes=60, client=None, extra=None, **issue):
    wo = closed_work_order(world, client=client) if client else closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), minutes)
    [draft] = services.invoice_closed_work(actor=world.accountant, client_ids=[wo.client_id])
    for data in extra or []:
        services.invoice_line_add(actor=world.accountant, invoice_id=draft.pk, data=data)
    return services.invoice_issue(actor=world.accountant, invoice_id=draft.pk, **issue)


def _csv(world, date_from, date_to) -> list[dict]:
    out = io.StringIO()
    exports.write_accounting_csv(
        selectors.accounting_rows(actor=world.accountant, date_from=date_from, date_to=date_to), out
    )
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_each_vat_line_is_a_row_and_credit_notes_are_negative(world, billing):
    # given an invoice with a 19 % and a 7 % line, and a partial credit note
    invoice = _invoice(
        world,
        minutes=120,
        extra=[{"description": "Handbook", "quantity": "1", "unit_price": "24.50", "tax_rate_id": billing.vat7.pk}],
    )
    labour = invoice.lines.get(kind="labour")
    note = services.credit_note_create(
        actor=world.accountant, invoice_id=invoice.pk, reason="One hour too many", lines=[(labour.pk, "1")]
    )
    note = services.invoice_issue(actor=world.accountant, invoice_id=note.pk)
    today = _today(world)
    # when
    rows = _csv(world, today, today)
    # then
    assert [
        (r["number"], r["type"], r["vat_category"], r["vat_rate"], r["net"], r["vat"], r["gross"]) for r in rows
    ] == [
        (invoice.number, "380", "S", "19.00", "160.00", "30.40", "190.40"),
        (invoice.number, "380", "S", "7.00", "24.50", "1.72", "26.22"),
        (note.number, "381", "S", "19.00", "-80.00", "-15.20", "-95.20"),
    ]
    first = rows[0]
    assert (first["issue_date"], first["due_date"]) == (today.isoformat(), (today + timedelta(days=14)).isoformat())
    assert (first["client"], first["client_vat_id"], first["buyer_reference"], first["currency"]) == (
        "Stadtwerke Berlin GmbH",
        "DE987654321",
        "04011000-1234-12",
        "EUR",
    )
    assert (rows[2]["credited_invoice"], rows[2]["status"]) == (invoice.number, "issued")
    assert rows[0]["status"] == "issued"
    # the columns sum to the period's revenue and VAT
    assert sum(D(r["net"]) for r in rows) == D("104.50")
    assert sum(D(r["vat"]) for r in rows) == D("16.92")


def test_the_export_reads_what_was_issued_not_the_client_now(world, billing):
    invoice = _invoice(world)
    world.client.billing.legal_name = "Renamed GmbH"
    world.client.billing.save()
    world.client.vat_id = "DE000000000"
    world.client.save()
    [row] = _csv(world, invoice.issue_date, invoice.issue_date)
    assert (row["client"], row["client_vat_id"]) == ("Stadtwerke Berlin GmbH", "DE987654321")


def test_only_the_period_and_only_issued_documents(world, billing):
    today = _today(world)
    earlier = _invoice(world, issue_date=today - timedelta(days=40))
    later = _invoice(world)
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 30)
    services.invoice_closed_work(actor=world.accountant)  # a draft: never exported
    assert [r["number"] for r in _csv(world, today - timedelta(days=40), today - timedelta(days=1))] == [earlier.number]
    assert [r["number"] for r in _csv(world, today, today)] == [later.number]
    assert _csv(world, today + timedelta(days=1), today + timedelta(days=30)) == []


def test_exempt_and_reverse_charge_lines_carry_their_reason_and_code(world, billing):
    reverse = TaxRateFactory(
        organization=world.org,
        name="Reverse charge",
        category="AE",
        rate=D("0"),
        exemption_reason="Reverse charge: VAT to be accounted for by the recipient",
        exemption_code="VATEX-EU-AE",
    )
    world.client.billing.tax_rate = reverse
    world.client.billing.save()
    invoice = _invoice(world)
    [row] = _csv(world, invoice.issue_date, invoice.issue_date)
    assert (row["vat_category"], row["vat_rate"], row["vat"], row["exemption_code"]) == (
        "AE",
        "0.00",
        "0.00",
        "VATEX-EU-AE",
    )
    assert row["exemption_reason"].startswith("Reverse charge")


def test_text_that_looks_like_a_formula_stays_text(world, billing):
    world.client.billing.legal_name = '=HYPERLINK("http://evil.example")'
    world.client.billing.save()
    invoice = _invoice(world)
    [row] = _csv(world, invoice.issue_date, invoice.issue_date)
    assert row["client"] == '\'=HYPERLINK("http://evil.example")'


def test_a_period_ending_before_it_starts_is_refused_and_only_managers_export(world, billing):
    today = _today(world)
    with pytest.raises(DomainError) as refused:
        list(selectors.accounting_rows(actor=world.accountant, date_from=today, date_to=today - timedelta(days=1)))
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION, "date_to")
    for role in ("dispatcher", "client_user", "technician"):
        with pytest.raises(DomainError) as refused:
            list(selectors.accounting_rows(actor=getattr(world, role), date_from=today, date_to=today))
        assert refused.value.code == ErrorCode.PERMISSION_DENIED
