"""The invoice API: the list with its filters and pages, invoicing closed work, editing drafts with If-Match,
lines, regenerating, deleting, issuing (a broken rule is a 422 naming it), the documents, payments, credit
notes, sending and the accounting export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest
from lxml import etree
from pypdf import PdfReader

from fixflow.billing import services
from fixflow.billing.documents import validate
from fixflow.billing.models import Invoice, InvoiceLine, Payment
from fixflow.core import clock
from fixflow.service.choices import BillingStatus
from fixflow.service.models import WorkOrder
from tests.billing.factories import (
    at,
    billing_setup,
    client_billing,
    closed_work_order,
    stub_documents,
    time_entry,
)

from .conftest import assert_problem

MONDAY = "2026-03-02"


@pytest.fixture
def billing(world):
    setup = billing_setup(world)
    client_billing(world.client, invoice_email="rechnung@stadtwerke.example")
    return setup


@pytest.fixture
def closed(world, billing):
    """A closed work order of the world's client waiting to be invoiced: 2 h of labour (160.00 net)."""
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 120)
    return wo


@pytest.fixture
def draft(api, closed) -> dict:
    r = api("accountant").post("/invoices/invoice-closed-work", {})
    assert r.status_code == 200, r.content
    [summary] = r.json()["invoices"]
    return api("accountant").get(f"/invoices/{summary['id']}").json()


@pytest.fixture
def stubbed(monkeypatch):
    """Issue without rendering the real documents (numbering, payments and credit notes do not need them)."""
    return stub_documents(monkeypatch)


def _today(world):
    return clock.now().astimezone(world.org.tzinfo).date()


def _issue(api, invoice_id: int, **body):
    r = api("accountant").post(f"/invoices/{invoice_id}/issue", body)
    assert r.status_code == 200, r.content
    return r.json()


# --- invoicing closed work and the draft ------------------------------------------------------


def test_closed_work_becomes_a_draft_with_lines_vat_and_totals(api, world, closed):
    # when
    r = api("accountant").post("/invoices/invoice-closed-work", {"client_ids": [world.client.pk]})
    # then: one draft for the client, 2 h × 80 + 19 %
    assert r.status_code == 200, r.content
    [summary] = r.json()["invoices"]
    assert (summary["kind"], summary["status"], summary["number"], summary["client_name"]) == (
        "invoice",
        "draft",
        None,
        "Stadtwerke",
    )
    r = api("accountant").get(f"/invoices/{summary['id']}")
    body = r.json()
    assert r["ETag"] == f'"{body["version"]}"'
    assert [
        (line["number"], line["kind"], line["quantity"], line["unit_price"], line["net_amount"])
        for line in body["lines"]
    ] == [(1, "labour", "2.0000", "80.0000", "160.00")]
    assert body["lines"][0]["work_order"] == {"id": closed.pk, "number": closed.number, "title": closed.title}
    assert body["vat_breakdown"] == [
        {
            "category": "S",
            "rate": "19.00",
            "taxable": "160.00",
            "tax": "30.40",
            "exemption_reason": "",
            "exemption_code": "",
        }
    ]
    assert (body["total_net"], body["total_tax"], body["total_gross"]) == ("160.00", "30.40", "190.40")
    assert (body["pdf_url"], body["payments"]) == (None, [])


def test_invoicing_with_nothing_waiting_returns_no_drafts(api, billing):
    r = api("accountant").post("/invoices/invoice-closed-work", {"until": "2026-01-31"})
    assert r.status_code == 200 and r.json() == {"invoices": []}


def test_an_unknown_client_is_refused_on_its_field(api, other_world, closed, nothing_written):
    with nothing_written():
        r = api("accountant").post("/invoices/invoice-closed-work", {"client_ids": [other_world.client.pk]})
    assert_problem(r, 422, "validation_error", field="client_ids")
    assert not Invoice.objects.exists()


def test_dispatchers_read_invoices_but_do_not_invoice(api, draft):
    assert api("dispatcher").get(f"/invoices/{draft['id']}").status_code == 200
    assert_problem(api("dispatcher").post("/invoices/invoice-closed-work", {}), 403, "permission_denied")
    assert_problem(api("dispatcher").patch(f"/invoices/{draft['id']}", {"note": "x"}), 403, "permission_denied")


def test_a_draft_is_changed_with_if_match_and_a_stale_copy_is_refused(api, draft):
    accountant = api("accountant")
    etag = f'"{draft["version"]}"'
    # when
    r = accountant.patch(
        f"/invoices/{draft['id']}",
        {"note": "Thank you for your order.", "due_date": "2026-12-31", "buyer_reference": "PO-77"},
        headers={"If-Match": etag},
    )
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["note"], r.json()["due_date"], r.json()["buyer_reference"]) == (
        "Thank you for your order.",
        "2026-12-31",
        "PO-77",
    )
    assert r["ETag"] != etag
    # when the old ETag is sent again, nothing changes
    r = accountant.patch(f"/invoices/{draft['id']}", {"note": "Overwritten"}, headers={"If-Match": etag})
    assert_problem(r, 412, "stale_version")
    assert Invoice.objects.get(pk=draft["id"]).note == "Thank you for your order."


def test_a_bad_date_is_a_problem_naming_the_field(api, draft):
    r = api("accountant").patch(f"/invoices/{draft['id']}", {"due_date": "31.12.2026"})
    assert_problem(r, 422, "validation_error", field="due_date")


def test_lines_are_added_changed_and_removed_on_a_draft_with_live_totals(api, world, draft, billing):
    accountant = api("accountant")
    invoice_id = draft["id"]
    # when a manual line is added with the 7 % rate
    r = accountant.post(
        f"/invoices/{invoice_id}/lines",
        {
            "description": "Disposal of old seals",
            "quantity": "3",
            "unit_price": "4.50",
            "tax_rate_id": billing.vat7.pk,
            "work_order_id": draft["lines"][0]["work_order"]["id"],
        },
        headers={"If-Match": f'"{draft["version"]}"'},
    )
    # then it is numbered after the work order's other line and priced with its own VAT group
    assert r.status_code == 201, r.content
    line = r.json()
    assert (line["number"], line["kind"], line["net_amount"], line["tax_rate"]) == (2, "manual", "13.50", "7.00")
    etag = r["ETag"]
    body = accountant.get(f"/invoices/{invoice_id}").json()
    assert [(g["rate"], g["taxable"], g["tax"]) for g in body["vat_breakdown"]] == [
        ("19.00", "160.00", "30.40"),
        ("7.00", "13.50", "0.95"),
    ]
    assert body["total_gross"] == "204.85"
    # when the generated labour line is discounted, without a reason first
    labour = body["lines"][0]["id"]
    r = accountant.patch(f"/invoice-lines/{labour}", {"discount_percent": "10"}, headers={"If-Match": etag})
    assert_problem(r, 422, "validation_error", field="discount_reason")
    r = accountant.patch(
        f"/invoice-lines/{labour}",
        {"discount_percent": "10", "discount_reason": "Goodwill"},
        headers={"If-Match": etag},
    )
    assert r.status_code == 200, r.content
    assert r.json()["net_amount"] == "144.00"
    assert accountant.get(f"/invoices/{invoice_id}").json()["total_net"] == "157.50"
    r = accountant.get(f"/invoice-lines/{line['id']}")
    assert (r.json()["description"], r.json()["number"]) == ("Disposal of old seals", 2)
    assert r["ETag"] == accountant.get(f"/invoices/{invoice_id}")["ETag"]
    # when the manual line is removed
    r = accountant.delete(f"/invoice-lines/{line['id']}")
    assert r.status_code == 204
    assert accountant.get(f"/invoices/{invoice_id}").json()["total_net"] == "144.00"


def test_a_line_with_a_malformed_quantity_names_the_field(api, draft):
    r = api("accountant").post(
        f"/invoices/{draft['id']}/lines", {"description": "x", "quantity": "lots", "unit_price": "1"}
    )
    assert_problem(r, 422, "validation_error", field="quantity")


def test_regenerating_prices_the_work_afresh_and_keeps_manual_lines(api, world, draft, billing, closed):
    accountant = api("accountant")
    accountant.post(f"/invoices/{draft['id']}/lines", {"description": "Parking", "quantity": "1", "unit_price": "5"})
    # given the labour rate went up
    billing.labour.unit_price = D("90.00")
    billing.labour.save()
    # when
    r = accountant.post(f"/invoices/{draft['id']}/regenerate")
    # then
    assert r.status_code == 200, r.content
    assert sorted((line["kind"], line["net_amount"]) for line in r.json()["lines"]) == [
        ("labour", "180.00"),
        ("manual", "5.00"),
    ]


def test_a_draft_is_deleted_and_its_work_waits_again(api, draft, closed):
    r = api("accountant").delete(f"/invoices/{draft['id']}")
    assert r.status_code == 204
    assert not Invoice.objects.filter(pk=draft["id"]).exists()
    assert WorkOrder.objects.get(pk=closed.pk).billing_status == BillingStatus.TO_INVOICE


# --- issuing and the documents ----------------------------------------------------------------


def test_issuing_numbers_freezes_and_serves_a_pdf_and_both_xmls(api, world, draft):
    accountant = api("accountant")
    # when
    body = _issue(api, draft["id"])
    # then
    today = _today(world)
    assert (body["status"], body["number"], body["issue_date"]) == ("issued", f"INV-{today.year}-00001", str(today))
    assert body["pdf_url"] == f"/api/v1/invoices/{draft['id']}/pdf"
    assert WorkOrder.objects.get(pk=draft["lines"][0]["work_order"]["id"]).billing_status == BillingStatus.INVOICED
    # the PDF is a real PDF, served as an attachment named for the number
    r = accountant.get(body["pdf_url"])
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f'attachment; filename="{body["number"]}.pdf"'
    assert body["number"] in PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    # the CII and the UBL pass XSD and schematron
    r = accountant.get(f"/invoices/{draft['id']}/xml")
    assert r.status_code == 200 and r["Content-Type"] == "application/xml"
    validate.check_cii(r.content)
    r = accountant.get(f"/invoices/{draft['id']}/xml", {"format": "ubl"})
    validate.check_ubl(r.content)
    assert etree.fromstring(r.content).tag.endswith("Invoice")
    assert_problem(accountant.get(f"/invoices/{draft['id']}/xml", {"format": "pdf"}), 422, "validation_error", "format")
    # and the issued invoice can no longer be changed or deleted
    assert_problem(accountant.patch(f"/invoices/{draft['id']}", {"note": "late"}), 409, "conflict")
    assert_problem(accountant.delete(f"/invoices/{draft['id']}"), 409, "conflict")
    line_id = body["lines"][0]["id"]
    assert_problem(accountant.patch(f"/invoice-lines/{line_id}", {"quantity": "1"}), 409, "conflict")
    assert_problem(accountant.post(f"/invoices/{draft['id']}/regenerate"), 409, "conflict")


def test_a_draft_has_no_documents_yet(api, draft):
    assert_problem(api("accountant").get(f"/invoices/{draft['id']}/pdf"), 409, "conflict")


def test_issuing_reverse_charge_without_the_clients_vat_id_names_the_rule(api, world, billing, nothing_written):
    # given the client is billed with reverse charge but has no VAT id
    from tests.billing.factories import TaxRateFactory

    reverse = TaxRateFactory(
        organization=world.org,
        name="Reverse charge",
        category="AE",
        rate=D("0"),
        exemption_reason="Reverse charge",
        exemption_code="VATEX-EU-AE",
    )
    world.client.billing.tax_rate = reverse
    world.client.billing.save()
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    [draft] = api("accountant").post("/invoices/invoice-closed-work", {}).json()["invoices"]
    # when
    r = api("accountant").post(f"/invoices/{draft['id']}/issue", {})
    # then
    body = assert_problem(r, 422, "validation_error")
    assert "BR-AE-02" in body["detail"] or "VAT id" in body["detail"]
    assert Invoice.objects.get(pk=draft["id"]).number is None


def test_an_issue_date_in_the_future_is_refused(api, world, draft, stubbed):
    future = (_today(world) + timedelta(days=2)).isoformat()
    r = api("accountant").post(f"/invoices/{draft['id']}/issue", {"issue_date": future})
    assert_problem(r, 422, "validation_error", field="issue_date")


# --- payments, credit notes -------------------------------------------------------------------


def test_payments_move_an_invoice_to_partially_paid_then_paid(api, world, draft, stubbed):
    accountant = api("accountant")
    invoice = _issue(api, draft["id"])
    # when half is paid
    r = accountant.post(f"/invoices/{invoice['id']}/payments", {"amount": "100.00", "reference": "TX-1"})
    assert r.status_code == 201, r.content
    payment = r.json()
    assert (payment["amount"], payment["method"], payment["paid_on"]) == ("100.00", "transfer", str(_today(world)))
    body = accountant.get(f"/invoices/{invoice['id']}").json()
    assert (body["status"], body["amount_paid"], body["amount_due"]) == ("partially_paid", "100.00", "90.40")
    # when too much is paid
    r = accountant.post(f"/invoices/{invoice['id']}/payments", {"amount": "100.00"})
    assert_problem(r, 422, "validation_error", field="amount")
    # when the rest is paid
    accountant.post(f"/invoices/{invoice['id']}/payments", {"amount": "90.40", "method": "card"})
    assert accountant.get(f"/invoices/{invoice['id']}").json()["status"] == "paid"
    # when the first payment was a mistake
    assert accountant.delete(f"/invoice-payments/{payment['id']}").status_code == 204
    body = accountant.get(f"/invoices/{invoice['id']}").json()
    assert (body["status"], body["amount_due"]) == ("partially_paid", "100.00")
    assert [p["amount"] for p in body["payments"]] == ["90.40"]


def test_a_payment_on_a_draft_is_refused(api, draft, nothing_written):
    r = api("accountant").post(f"/invoices/{draft['id']}/payments", {"amount": "10"})
    assert_problem(r, 409, "conflict")
    assert not Payment.objects.exists()


def test_a_partial_credit_note_by_line_and_quantity(api, world, draft, stubbed):
    accountant = api("accountant")
    invoice = _issue(api, draft["id"])
    labour = invoice["lines"][0]["id"]
    # when half an hour is credited
    r = accountant.post(
        f"/invoices/{invoice['id']}/credit-notes",
        {"reason": "Travel time was billed as labour", "lines": [{"line_id": labour, "quantity": "0.5"}]},
    )
    # then a draft credit note referencing the invoice
    assert r.status_code == 201, r.content
    note = r.json()
    assert (note["kind"], note["status"], note["credited_invoice_id"], note["credit_reason"]) == (
        "credit_note",
        "draft",
        invoice["id"],
        "Travel time was billed as labour",
    )
    assert [(line["quantity"], line["net_amount"], line["credited_line_id"]) for line in note["lines"]] == [
        ("0.5000", "40.00", labour)
    ]
    # when more than is left is credited
    r = accountant.post(
        f"/invoices/{invoice['id']}/credit-notes",
        {"reason": "again", "lines": [{"line_id": labour, "quantity": "2"}]},
    )
    assert_problem(r, 422, "validation_error", field="lines")
    # when the credit note is issued
    issued = _issue(api, note["id"])
    assert issued["number"].startswith("CN-")
    body = accountant.get(f"/invoices/{invoice['id']}").json()
    assert (body["amount_due"], body["credit_note_ids"]) == ("142.80", [note["id"]])


def test_a_credit_note_needs_a_reason(api, draft, stubbed):
    invoice = _issue(api, draft["id"])
    r = api("accountant").post(f"/invoices/{invoice['id']}/credit-notes", {"reason": "  "})
    assert_problem(r, 422, "validation_error", field="reason")


# --- the list ---------------------------------------------------------------------------------


def test_the_list_filters_by_status_client_kind_dates_and_overdue(api, world, billing, stubbed):
    accountant = api("accountant")
    for client in (world.client, world.other_client):
        wo = closed_work_order(world, client=client)
        time_entry(wo, at(MONDAY, "08:00"), 60)
    drafts = accountant.post("/invoices/invoice-closed-work", {}).json()["invoices"]
    assert sorted(d["client_name"] for d in drafts) == ["Bäckerei Kühn", "Stadtwerke"]
    first = next(d for d in drafts if d["client_name"] == "Stadtwerke")
    past = (_today(world) - timedelta(days=30)).isoformat()
    _issue(api, first["id"], issue_date=past)

    def ids(**params):
        r = accountant.get("/invoices", params)
        assert r.status_code == 200, r.content
        return [item["id"] for item in r.json()["items"]]

    other = next(d["id"] for d in drafts if d["id"] != first["id"])
    # then: issued first (by issue date), drafts last
    assert ids() == [first["id"], other]
    assert ids(status="draft") == [other]
    assert ids(status="issued,paid") == [first["id"]]
    assert ids(client=world.client.pk) == [first["id"]]
    assert ids(kind="credit_note") == []
    assert ids(date_from=past, date_to=past) == [first["id"]]
    assert ids(overdue="true") == [first["id"]]  # due 14 days after an issue 30 days ago
    assert ids(q="Bäckerei") == [other]
    body = accountant.get("/invoices", {"overdue": "true"}).json()
    assert body["items"][0]["is_overdue"] is True
    assert_problem(accountant.get("/invoices", {"status": "open"}), 422, "validation_error", field="status")
    assert_problem(accountant.get("/invoices", {"date_from": "yesterday"}), 422, "validation_error", field="date_from")


def test_the_list_pages_with_a_cursor(api, world, billing):
    for _ in range(3):
        wo = closed_work_order(world)
        time_entry(wo, at(MONDAY, "08:00"), 60)
        services.invoice_closed_work(actor=world.accountant)
        Invoice.objects.create(organization=world.org, client=world.other_client, currency="EUR", series="INV")
    r = api("accountant").get("/invoices", {"limit": 2})
    first = r.json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api("accountant").get("/invoices", {"limit": 2, "cursor": first["next_cursor"]}).json()
    seen = [i["id"] for i in first["items"] + second["items"]]
    assert len(seen) == len(set(seen)) == min(4, Invoice.objects.count())


def test_client_users_see_their_own_issued_invoices_only(api, world, billing, stubbed):
    accountant = api("accountant")
    for client in (world.client, world.other_client):
        wo = closed_work_order(world, client=client)
        time_entry(wo, at(MONDAY, "08:00"), 60)
    drafts = accountant.post("/invoices/invoice-closed-work", {}).json()["invoices"]
    mine = next(d for d in drafts if d["client_name"] == "Stadtwerke")
    theirs = next(d for d in drafts if d["client_name"] != "Stadtwerke")
    client_user = api("client_user")
    # a draft does not exist for them
    assert [i["id"] for i in client_user.get("/invoices").json()["items"]] == []
    assert_problem(client_user.get(f"/invoices/{mine['id']}"), 404, "not_found")
    # once issued it does, read-only
    _issue(api, mine["id"])
    _issue(api, theirs["id"])
    assert [i["id"] for i in client_user.get("/invoices").json()["items"]] == [mine["id"]]
    assert client_user.get(f"/invoices/{mine['id']}").status_code == 200
    assert_problem(client_user.get(f"/invoices/{theirs['id']}"), 404, "not_found")
    assert_problem(client_user.post(f"/invoices/{mine['id']}/payments", {"amount": "1"}), 403, "permission_denied")
    assert_problem(api("technician").get("/invoices"), 403, "permission_denied")


# --- sending and the accounting export --------------------------------------------------------


def test_sending_mails_both_documents_and_records_it(api, world, draft, mailoutbox):
    invoice = _issue(api, draft["id"])
    # when
    r = api("accountant").post(f"/invoices/{invoice['id']}/send", {"message": "As agreed on the phone."})
    # then
    assert r.status_code == 200, r.content
    assert r.json()["sent_to"] == "rechnung@stadtwerke.example"
    [mail] = mailoutbox
    assert mail.to == ["rechnung@stadtwerke.example"]
    assert [name for name, _c, _m in mail.attachments] == [f"{invoice['number']}.pdf", f"{invoice['number']}-cii.xml"]
    assert "As agreed on the phone." in mail.body
    stored = Invoice.objects.get(pk=invoice["id"])
    assert (stored.sent_to, stored.sent_at is not None) == ("rechnung@stadtwerke.example", True)


def test_sending_a_draft_or_to_a_malformed_address_is_refused(api, draft, mailoutbox):
    assert_problem(api("accountant").post(f"/invoices/{draft['id']}/send", {}), 409, "conflict")
    assert mailoutbox == []


def test_a_failing_mail_server_is_a_503_and_nothing_is_recorded(api, world, draft, settings, stubbed):
    from tests.smtp import free_port, smtp_mailers

    invoice = _issue(api, draft["id"])
    settings.MAILERS = smtp_mailers("127.0.0.1", free_port())  # nothing listens there
    r = api("accountant").post(f"/invoices/{invoice['id']}/send", {"to": "ap@example.com"})
    body = assert_problem(r, 503, "conflict")
    assert "could not be sent" in body["detail"]
    assert Invoice.objects.get(pk=invoice["id"]).sent_at is None


def test_the_accounting_export_has_a_row_per_vat_line_with_credit_notes_negative(api, world, draft, billing, stubbed):
    accountant = api("accountant")
    accountant.post(
        f"/invoices/{draft['id']}/lines",
        {"description": "Handbook", "quantity": "1", "unit_price": "20", "tax_rate_id": billing.vat7.pk},
    )
    invoice = _issue(api, draft["id"])
    note = accountant.post(f"/invoices/{invoice['id']}/credit-notes", {"reason": "Wrong rate"}).json()
    credit = _issue(api, note["id"])
    today = _today(world).isoformat()
    # when
    r = accountant.get("/invoices/accounting-export", {"date_from": today, "date_to": today})
    # then
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"] == f'attachment; filename="accounting-{today}-{today}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert [(x["number"], x["type"], x["vat_rate"], x["net"], x["vat"], x["gross"]) for x in rows] == [
        (invoice["number"], "380", "19.00", "160.00", "30.40", "190.40"),
        (invoice["number"], "380", "7.00", "20.00", "1.40", "21.40"),
        (credit["number"], "381", "19.00", "-160.00", "-30.40", "-190.40"),
        (credit["number"], "381", "7.00", "-20.00", "-1.40", "-21.40"),
    ]
    assert rows[2]["credited_invoice"] == invoice["number"]
    assert (rows[0]["client"], rows[0]["currency"], rows[0]["vat_category"]) == ("Stadtwerke", "EUR", "S")
    # a period that ends before it starts is refused; client users may not export
    r = accountant.get("/invoices/accounting-export", {"date_from": today, "date_to": "2000-01-01"})
    assert_problem(r, 422, "validation_error", field="date_to")
    assert_problem(
        api("client_user").get("/invoices/accounting-export", {"date_from": today, "date_to": today}),
        403,
        "permission_denied",
    )


def test_the_line_numbers_follow_the_work_order_groups(api, world, billing, stubbed):
    # given two work orders on one draft, then a manual line for the first one
    first, second = closed_work_order(world), closed_work_order(world)
    for wo in (first, second):
        time_entry(wo, at(MONDAY, "08:00"), 60)
    [draft] = api("accountant").post("/invoices/invoice-closed-work", {}).json()["invoices"]
    api("accountant").post(
        f"/invoices/{draft['id']}/lines",
        {"description": "Extra seal", "quantity": "1", "unit_price": "9", "work_order_id": first.pk},
    )
    # then the lines are numbered down the groups, as on the PDF and in the XML
    body = api("accountant").get(f"/invoices/{draft['id']}").json()
    assert [(line["number"], line["work_order"]["id"], line["kind"]) for line in body["lines"]] == [
        (1, first.pk, "labour"),
        (2, first.pk, "manual"),
        (3, second.pk, "labour"),
    ]
    assert InvoiceLine.objects.filter(invoice_id=draft["id"]).count() == 3


def test_the_list_and_the_detail_take_a_fixed_number_of_queries(api, world, billing, django_assert_max_num_queries):
    # given 30 drafts of different clients, each with two lines
    from tests.factories import ClientFactory

    for i in range(30):
        client = ClientFactory(organization=world.org, name=f"Client {i:02d}")
        invoice = Invoice.objects.create(organization=world.org, client=client, currency="EUR", series="INV")
        for n in range(2):
            InvoiceLine.objects.create(
                organization=world.org, invoice=invoice, description=f"Line {n}", unit_price=D("10"), net_amount=D("10")
            )
    accountant = api("accountant")
    accountant.get("/invoices")  # the token is looked up and cached once
    # then the list and a detail do not grow with the rows
    with django_assert_max_num_queries(6):
        r = accountant.get("/invoices", {"limit": 30})
    assert len(r.json()["items"]) == 30
    with django_assert_max_num_queries(8):
        r = accountant.get(f"/invoices/{invoice.pk}")
    assert len(r.json()["lines"]) == 2
