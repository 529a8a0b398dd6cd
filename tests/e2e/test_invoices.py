"""Browser tests of invoicing: the accountant invoices a client's closed work, corrects a line of the draft in
place, issues it (the number is assigned and the documents made), downloads the PDF and records the payment
until the invoice is paid; the client's user reads the issued invoice on a phone."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from fixflow.billing import services
from fixflow.billing.models import Invoice
from tests.billing.factories import at, billing_setup, client_billing, closed_work_order, time_entry

from .conftest import log_in
from .flow_fixtures import settled

pytestmark = pytest.mark.browser


@pytest.fixture
def closed_work(world):
    """The seller's billing set up, and a closed work order of Stadtwerke with 2 h of labour (80 €/h)."""
    billing_setup(world)
    client_billing(world.client, invoice_email="rechnung@stadtwerke.example")
    wo = closed_work_order(world, title="Pump P1 leaking at the shaft seal")
    time_entry(wo, at("2026-03-02", "08:00"), 120)
    return wo


def test_an_accountant_invoices_closed_work_corrects_a_line_issues_and_is_paid(world, closed_work, browser_page):
    page = browser_page
    # given the accountant on the invoice list
    log_in(page, world.accountant)
    page.goto("/invoices/")
    page.get_by_role("link", name="Invoice closed work").click()

    # when they choose the client, they see what would be invoiced before anything is made
    page.locator("select[name=client]").select_option(str(world.client.pk))
    page.get_by_role("button", name="Show").click()
    row = page.locator(f"tr[data-client='{world.client.pk}']")
    expect(row).to_contain_text("Stadtwerke")
    expect(row).to_contain_text("160.00 EUR")
    assert not Invoice.objects.exists()
    page.get_by_role("button", name="Make the draft for Stadtwerke").click()

    # then the draft made is listed; they open it
    expect(page.locator("#made")).to_contain_text("1 draft made or extended")
    page.locator("#made a").first.click()
    expect(page.locator("h1")).to_contain_text("Draft")
    expect(page.locator("#lines")).to_contain_text(closed_work.number)
    expect(page.locator("[data-total=gross]")).to_have_text("190.40 EUR")

    # when they correct the labour line in place: first forgetting the reason of a discount
    page.get_by_role("link", name="Edit line 1").click()
    settled(page)
    page.locator("input[name=edit-quantity]").fill("1.5")
    page.locator("input[name=edit-discount_percent]").fill("10")
    page.get_by_role("button", name="Save line").click()
    settled(page)
    # then the refusal is next to the field and what they typed stays
    expect(page.locator("[data-field=discount_reason] .errorlist")).to_contain_text("Say why the line is discounted")
    expect(page.locator("input[name=edit-quantity]")).to_have_value("1.5")
    page.locator("input[name=edit-discount_percent]").fill("")
    page.get_by_role("button", name="Save line").click()
    settled(page)
    # and the totals follow without a reload: 1.5 h × 80 = 120.00 + 19 % VAT
    expect(page.locator("[data-total=net]")).to_have_text("120.00 EUR")
    expect(page.locator("[data-total=gross]")).to_have_text("142.80 EUR")
    expect(page.locator("input[name=edit-quantity]")).to_have_count(0)

    # when they issue it, confirming that the number is assigned and the invoice frozen
    expect(page.locator("#issue")).to_contain_text("assigns the next number of the series INV and freezes")
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Issue invoice").click(no_wait_after=True)
    # then it has its number and is frozen (the first issue compiles the EN 16931 rules: give it time)
    expect(page.locator("h1")).to_contain_text(re.compile(r"Invoice INV-\d{4}-00001"), timeout=90_000)
    assert "frozen" in messages[0]
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.total_gross) == ("issued", Decimal("142.800"))
    expect(page.get_by_role("button", name="Save line")).to_have_count(0)

    # when they download the PDF
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    data = open(download.value.path(), "rb").read()
    # then it is the issued invoice
    assert download.value.suggested_filename == f"{invoice.number}.pdf"
    assert data.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert invoice.number in text and "142.80" in text

    # when the client pays part of it, then the rest
    page.locator("#payment summary").click()
    page.locator("#payment input[name=amount]").fill("100")
    page.locator("#payment input[name=reference]").fill("Bank statement 12")
    page.locator("#payment button[type=submit]").click()
    expect(page.locator(".page-head .badge[data-status=partially_paid]")).to_be_visible()
    expect(page.locator("[data-total=due]")).to_have_text("42.80 EUR")
    page.locator("#payment summary").click()
    expect(page.locator("#payment input[name=amount]")).to_have_value("42.80")  # what is still due
    page.locator("#payment button[type=submit]").click()
    # then the invoice is paid
    expect(page.locator(".page-head .badge[data-status=paid]")).to_be_visible()
    expect(page.locator("#payments")).to_contain_text("Bank statement 12")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("paid", Decimal("0.000"))


def test_a_client_user_reads_their_issued_invoice_on_a_phone(world, closed_work, phone_page):
    # given an issued invoice of the client
    [draft] = services.invoice_closed_work(actor=world.accountant)
    invoice = services.invoice_issue(actor=world.accountant, invoice_id=draft.pk)
    page = phone_page
    # when their user opens the invoices on the phone
    log_in(page, world.client_user)
    page.goto("/invoices/")
    page.get_by_role("link", name=invoice.number).click()
    # then the invoice reads without side scrolling, with its total and the PDF, and nothing to change
    expect(page.locator("h1")).to_contain_text(invoice.number)
    expect(page.locator("[data-total=gross]")).to_have_text("190.40 EUR")
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
    expect(page.get_by_text("Record payment")).to_have_count(0)
    expect(page.get_by_text("Send by e-mail")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
