"""Invoice pages: the list with filters, totals and the drafts, “invoice closed work” with its preview, the
draft editor (header, lines in place with htmx, regenerate, delete, issue with its confirmation), the issued
invoice (documents, sending, payments, credit notes), the accounting export, client users' read-only view and
the work order's invoice panel — every refused input shown on its form, nothing lost."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest
from pypdf import PdfReader

from fixflow.billing import services
from fixflow.billing.models import Invoice, InvoiceLine, Payment
from fixflow.core import clock
from fixflow.service.choices import BillingStatus
from fixflow.service.models import WorkOrder
from tests.billing.factories import (
    TaxRateFactory,
    at,
    billing_setup,
    client_billing,
    closed_work_order,
    stub_documents,
    time_entry,
)

MONDAY = "2026-03-02"
HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def billing(world):
    setup = billing_setup(world)
    client_billing(world.client, invoice_email="rechnung@stadtwerke.example")
    return setup


@pytest.fixture
def closed(world, billing):
    """A closed work order of the world's client: 2 h of labour (160.00 net, 190.40 with VAT)."""
    wo = closed_work_order(world, title="Pump leaking at the seal")
    time_entry(wo, at(MONDAY, "08:00"), 120)
    return wo


@pytest.fixture
def draft(world, closed) -> Invoice:
    [invoice] = services.invoice_closed_work(actor=world.accountant)
    return invoice


@pytest.fixture
def stubbed(monkeypatch):
    return stub_documents(monkeypatch)


@pytest.fixture
def accountant(svc_login, world):
    return svc_login(world.accountant)


def _today(world):
    return clock.now().astimezone(world.org.tzinfo).date()


def _issue(world, invoice, **kw) -> Invoice:
    return services.invoice_issue(actor=world.accountant, invoice_id=invoice.pk, **kw)


# --- invoicing closed work --------------------------------------------------------------------


def test_the_closed_work_page_previews_per_client_then_makes_the_drafts(world, closed, accountant):
    # given a second client with closed work
    other = closed_work_order(world, client=world.other_client)
    time_entry(other, at(MONDAY, "09:00"), 60)
    # when the accountant opens the page
    r = accountant.get("/invoices/closed-work/")
    # then each client shows its work and the estimated net, before anything is written
    assert r.status_code == 200
    page = html(r)
    assert "Stadtwerke" in page and "Bäckerei Kühn" in page
    assert "160.00 EUR" in page and "80.00 EUR" in page
    assert "Make the drafts for 2 clients" in page
    assert not Invoice.objects.exists()
    # when they choose one client and confirm
    r = accountant.get("/invoices/closed-work/", {"client": world.client.pk})
    assert "Make the draft for Stadtwerke" in html(r)
    assert f'data-client="{world.other_client.pk}"' not in html(r)
    r = accountant.post("/invoices/closed-work/", {"client": world.client.pk, "until": ""})
    # then the draft made is listed with its total
    assert r.status_code == 200
    draft = Invoice.objects.get()
    assert draft.client == world.client
    assert f"/invoices/{draft.pk}/" in html(r) and "190.40 EUR" in html(r)
    # and running it again makes nothing new
    r = accountant.post("/invoices/closed-work/", {"client": world.client.pk})
    assert "Nothing new to invoice" in html(r)
    assert Invoice.objects.count() == 1


def test_work_that_cannot_be_priced_is_named_in_the_preview_and_refused(world, closed, accountant):
    # given the organization has no labour rate any more
    from fixflow.billing.models import Rate

    Rate.objects.filter(organization=world.org).delete()
    # when
    r = accountant.get("/invoices/closed-work/")
    # then the work order is named
    assert closed.number in html(r)
    # when they confirm anyway
    r = accountant.post("/invoices/closed-work/", {"client": ""})
    assert r.status_code == 422
    assert closed.number in html(r) and not Invoice.objects.exists()


def test_only_invoice_managers_invoice_closed_work(svc_login, world, closed):
    assert svc_login(world.dispatcher).get("/invoices/closed-work/").status_code == 403
    assert svc_login(world.client_user).post("/invoices/closed-work/", {}).status_code == 403
    assert not Invoice.objects.exists()


# --- the draft editor -------------------------------------------------------------------------


def test_the_draft_page_shows_lines_by_work_order_totals_and_the_issue_warning(draft, closed, accountant):
    r = accountant.get(f"/invoices/{draft.pk}/")
    assert r.status_code == 200
    page = html(r)
    assert f"{closed.number}</b></a> · Pump leaking at the seal" in page
    assert "160.00" in page and "190.40 EUR" in page
    assert "assigns the next number of the series INV and freezes the document" in page
    assert "data-confirm" in page and "Issue invoice" in page


def test_a_line_is_edited_in_place_with_htmx_and_the_totals_follow(draft, accountant):
    line = draft.lines.get()
    # when the accountant opens the line's editor
    r = accountant.get(f"/invoices/lines/{line.pk}/edit/", headers=HTMX)
    assert r.status_code == 200
    assert 'id="invoice-body"' in html(r) and 'name="edit-quantity"' in html(r)
    # and types a discount without a reason
    data = {
        "edit-version": draft.version,
        "edit-description": "Labour: pump repair",
        "edit-quantity": "2",
        "edit-unit": "h",
        "edit-unit_price": "80",
        "edit-discount_percent": "10",
        "edit-discount_reason": "",
        "edit-tax_rate": "",
    }
    r = accountant.post(f"/invoices/lines/{line.pk}/edit/", data, headers=HTMX)
    # then the error is next to the field, the typed values stay, nothing is saved
    assert r.status_code == 200
    assert "Say why the line is discounted." in html(r)
    assert 'value="Labour: pump repair"' in html(r)
    line.refresh_from_db()
    assert line.discount_percent == 0
    # when they give the reason
    data["edit-discount_reason"] = "Goodwill"
    r = accountant.post(f"/invoices/lines/{line.pk}/edit/", data, headers=HTMX)
    # then the body comes back with the new net, the new totals and the draft's new version swapped in
    assert r.status_code == 200
    line.refresh_from_db()
    draft.refresh_from_db()
    assert (line.description, line.net_amount, draft.total_gross) == ("Labour: pump repair", D("144.000"), D("171.360"))
    page = html(r)
    assert "144.00" in page and "171.36 EUR" in page
    assert f'value="{draft.version}" id="header-version" hx-swap-oob="true"' in page


def test_a_line_is_edited_without_javascript_too(draft, accountant):
    line = draft.lines.get()
    r = accountant.get(f"/invoices/lines/{line.pk}/edit/")
    assert r.status_code == 302 and r.url.endswith(f"?edit={line.pk}#line-{line.pk}")
    r = accountant.get(r.url)
    assert 'name="edit-quantity"' in html(r)
    r = accountant.post(
        f"/invoices/lines/{line.pk}/edit/",
        {
            "edit-version": draft.version,
            "edit-description": line.description,
            "edit-quantity": "zwei",
            "edit-unit": "h",
            "edit-unit_price": "80",
        },
    )
    assert r.status_code == 422 and "Enter a number for the quantity." in html(r)
    r = accountant.post(
        f"/invoices/lines/{line.pk}/edit/",
        {
            "edit-version": draft.version,
            "edit-description": line.description,
            "edit-quantity": "1.5",
            "edit-unit": "h",
            "edit-unit_price": "80",
        },
    )
    assert r.status_code == 302
    line.refresh_from_db()
    assert line.net_amount == D("120.000")


def test_a_manual_line_is_added_and_removed(world, draft, billing, accountant):
    wo_id = draft.lines.get().work_order_id
    r = accountant.post(
        f"/invoices/{draft.pk}/lines/add/",
        {
            "add-version": draft.version,
            "add-description": "Disposal of old seals",
            "add-quantity": "3",
            "add-unit": "pc",
            "add-unit_price": "4.50",
            "add-tax_rate": str(billing.vat7.pk),
            "add-work_order": str(wo_id),
        },
        headers=HTMX,
    )
    assert r.status_code == 200, html(r)[:500]
    manual = draft.lines.get(kind="manual")
    assert (manual.net_amount, manual.tax_rate, manual.work_order_id) == (D("13.500"), D("7.00"), wo_id)
    assert "Disposal of old seals" in html(r) and "0.95" in html(r)  # the 7 % VAT group
    draft.refresh_from_db()
    r = accountant.post(f"/invoices/lines/{manual.pk}/remove/", {"version": draft.version}, headers=HTMX)
    assert r.status_code == 200
    assert not draft.lines.filter(kind="manual").exists()


def test_a_stale_header_is_refused_and_what_was_typed_stays(draft, accountant):
    r = accountant.post(
        f"/invoices/{draft.pk}/edit/", {"version": draft.version - 1, "note": "Thanks!", "buyer_reference": "PO-9"}
    )
    assert r.status_code == 422
    assert "changed by someone else" in html(r) and "Thanks!</textarea>" in html(r)
    r = accountant.post(
        f"/invoices/{draft.pk}/edit/",
        {"version": draft.version, "note": "Thanks!", "buyer_reference": "PO-9", "due_date": "2026-12-31"},
    )
    assert r.status_code == 302
    draft.refresh_from_db()
    assert (draft.note, draft.buyer_reference, str(draft.due_date)) == ("Thanks!", "PO-9", "2026-12-31")


def test_regenerate_and_delete_a_draft(draft, billing, closed, accountant):
    billing.labour.unit_price = D("90.00")
    billing.labour.save()
    r = accountant.post(f"/invoices/{draft.pk}/regenerate/", {"version": draft.version})
    assert r.status_code == 302
    assert draft.lines.get().net_amount == D("180.000")
    draft.refresh_from_db()
    r = accountant.post(f"/invoices/{draft.pk}/delete/", {"version": draft.version})
    assert r.status_code == 302 and r.url == "/invoices/"
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    assert WorkOrder.objects.get(pk=closed.pk).billing_status == BillingStatus.TO_INVOICE


def test_a_draft_pdf_preview_is_marked_as_a_draft(draft, accountant):
    r = accountant.get(f"/invoices/{draft.pk}/pdf/")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("inline")
    text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    assert "Draft preview" in text and "190.40" in text
    assert draft.pdf.name == ""


def test_issuing_a_draft_assigns_the_number_and_freezes_it(world, draft, accountant):
    r = accountant.post(f"/invoices/{draft.pk}/issue/", {"version": draft.version, "issue_date": ""})
    assert r.status_code == 302
    draft.refresh_from_db()
    assert draft.number == f"INV-{_today(world).year}-00001" and draft.status == "issued"
    r = accountant.get(r.url)
    page = html(r)
    assert f"Invoice {draft.number}" in page and "Send by e-mail" in page and "Record payment" in page
    assert "Issue invoice" not in page and "Save details" not in page
    # the stored documents are served: the PDF inline or as a file, the XML as a file
    r = accountant.get(f"/invoices/{draft.pk}/pdf/", {"download": "1"})
    assert r["Content-Disposition"] == f'attachment; filename="{draft.number}.pdf"'
    assert r.content == draft.pdf.read()
    r = accountant.get(f"/invoices/{draft.pk}/xml/", {"format": "ubl"})
    assert r["Content-Disposition"] == f'attachment; filename="{draft.number}-ubl.xml"'
    # and editing it is refused on every page, saying why
    r = accountant.post(f"/invoices/{draft.pk}/edit/", {"version": draft.version, "note": "x"}, follow=True)
    assert "is issued: it can no longer be changed" in html(r)
    line = draft.lines.get()
    r = accountant.post(f"/invoices/lines/{line.pk}/remove/", {}, headers=HTMX)
    assert (r.status_code, r["HX-Redirect"]) == (204, f"/invoices/{draft.pk}/")
    assert accountant.post(f"/invoices/{draft.pk}/issue/", {"version": draft.version}).status_code == 302
    draft.refresh_from_db()
    assert (draft.note, draft.lines.count()) == ("", 1)


def test_an_issue_refused_by_a_rule_is_shown_on_the_issue_form(world, billing, accountant, stubbed):
    # given the client is billed with reverse charge but has no VAT id
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
    [draft] = services.invoice_closed_work(actor=world.accountant)
    # when
    r = accountant.post(f"/invoices/{draft.pk}/issue/", {"version": draft.version})
    # then
    assert r.status_code == 422
    assert "VAT id" in html(r)
    draft.refresh_from_db()
    assert draft.number is None


def test_a_future_issue_date_is_refused_on_its_field(world, draft, accountant):
    future = (_today(world) + timedelta(days=3)).isoformat()
    r = accountant.post(f"/invoices/{draft.pk}/issue/", {"version": draft.version, "issue_date": future})
    assert r.status_code == 422 and "cannot be dated in the future" in html(r)


# --- the issued invoice -----------------------------------------------------------------------


def test_payments_are_recorded_and_removed(world, draft, accountant, stubbed):
    invoice = _issue(world, draft)
    r = accountant.post(f"/invoices/{invoice.pk}/payments/add/", {"amount": "500", "method": "transfer"})
    assert r.status_code == 422 and "190.40" in html(r) and 'value="500"' in html(r)
    r = accountant.post(f"/invoices/{invoice.pk}/payments/add/", {"amount": "90.40", "method": "transfer"})
    assert r.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("partially_paid", D("100.000"))
    r = accountant.post(f"/invoices/{invoice.pk}/payments/add/", {"amount": "100", "method": "cash"})
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert "Paid" in html(accountant.get(f"/invoices/{invoice.pk}/"))
    payment = Payment.objects.get(amount=D("100"))
    r = accountant.post(f"/invoices/payments/{payment.pk}/delete/")
    invoice.refresh_from_db()
    assert (r.status_code, invoice.status) == (302, "partially_paid")


def test_a_credit_note_is_made_from_chosen_lines_and_quantities(world, draft, accountant, stubbed):
    invoice = _issue(world, draft)
    line = invoice.lines.get()
    r = accountant.get(f"/invoices/{invoice.pk}/credit-note/")
    assert r.status_code == 200 and 'value="2"' in html(r)
    # more than is left is refused on the form
    r = accountant.post(
        f"/invoices/{invoice.pk}/credit-note/", {f"line-{line.pk}": "on", f"quantity-{line.pk}": "3", "reason": "x"}
    )
    assert r.status_code == 422 and "left to credit" in html(r)
    r = accountant.post(
        f"/invoices/{invoice.pk}/credit-note/",
        {f"line-{line.pk}": "on", f"quantity-{line.pk}": "0.5", "reason": "Travel billed as labour"},
    )
    assert r.status_code == 302
    note = Invoice.objects.get(credited_invoice=invoice)
    assert (note.status, note.total_net, note.credit_reason) == ("draft", D("40.000"), "Travel billed as labour")
    page = html(accountant.get(r.url))
    assert "Issue credit note" in page and "Travel billed as labour" in page and "Edit line" not in page


def test_sending_from_the_page_mails_and_records(world, draft, accountant, mailoutbox):
    invoice = _issue(world, draft)
    r = accountant.post(f"/invoices/{invoice.pk}/send/", {"to": "not an address", "xml_format": "cii"})
    assert r.status_code == 422 and "is not an e-mail address" in html(r) and mailoutbox == []
    r = accountant.post(
        f"/invoices/{invoice.pk}/send/", {"to": "ap@stadtwerke.example", "xml_format": "ubl", "message": "Hello"}
    )
    assert r.status_code == 302
    [mail] = mailoutbox
    assert mail.to == ["ap@stadtwerke.example"]
    assert [name for name, _c, _m in mail.attachments] == [f"{invoice.number}.pdf", f"{invoice.number}-ubl.xml"]
    assert "ap@stadtwerke.example" in html(accountant.get(r.url))


# --- the list, the export, client users, the work order panel ---------------------------------


def test_the_list_shows_drafts_issued_invoices_badges_and_totals(world, billing, accountant, stubbed):
    for client in (world.client, world.other_client):
        wo = closed_work_order(world, client=client)
        time_entry(wo, at(MONDAY, "08:00"), 60)
    drafts = services.invoice_closed_work(actor=world.accountant)
    old = next(d for d in drafts if d.client_id == world.client.pk)
    _issue(world, old, issue_date=_today(world) - timedelta(days=30))
    r = accountant.get("/invoices/")
    page = html(r)
    assert "1 draft waiting to be issued" in page
    assert "Overdue" in page and "95.20" in page
    r = accountant.get("/invoices/", {"status": "paid"})
    assert "No invoices match these filters." in html(r)
    r = accountant.get("/invoices/", {"overdue": "on"})
    assert old.number in html(r) if (old := Invoice.objects.get(pk=old.pk)) else False


def test_the_accounting_export_is_a_csv_download(world, draft, accountant, stubbed):
    invoice = _issue(world, draft)
    today = _today(world).isoformat()
    r = accountant.get("/invoices/accounting-export/", {"date_from": today, "date_to": today})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert [(x["number"], x["type"], x["net"], x["vat"]) for x in rows] == [(invoice.number, "380", "160.00", "30.40")]
    r = accountant.get("/invoices/accounting-export/", {"date_from": today, "date_to": "2000-01-01"})
    assert r.status_code == 302


def test_client_users_see_their_issued_invoices_read_only(world, svc_login, draft, stubbed):
    client_user = svc_login(world.client_user)
    assert svc_login(world.client_user).get(f"/invoices/{draft.pk}/").status_code == 404
    assert draft.client_id == world.client.pk
    invoice = _issue(world, draft)
    page = html(client_user.get("/invoices/"))
    assert invoice.number in page and "Invoice closed work" not in page
    page = html(client_user.get(f"/invoices/{invoice.pk}/"))
    assert "Download PDF" in page and "Record payment" not in page and "Send by e-mail" not in page
    assert svc_login(world.other_client_user).get(f"/invoices/{invoice.pk}/").status_code == 404
    assert client_user.post(f"/invoices/{invoice.pk}/payments/add/", {"amount": "1"}).status_code == 403


def test_the_work_order_page_links_its_invoices(world, draft, closed, svc_login, stubbed):
    r = svc_login(world.accountant).get(f"/work-orders/{closed.pk}/")
    assert f"/invoices/{draft.pk}/" in html(r)
    # a client user sees it only once issued
    assert f"/invoices/{draft.pk}/" not in html(svc_login(world.client_user).get(f"/work-orders/{closed.pk}/"))
    _issue(world, draft)
    assert f"/invoices/{draft.pk}/" in html(svc_login(world.client_user).get(f"/work-orders/{closed.pk}/"))
    assert InvoiceLine.objects.filter(work_order=closed).exists()
