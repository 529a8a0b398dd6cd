"""Browser tests of revenue leakage and charges: the accountant sees the leakage panel on the home page,
opens the report, narrows it and downloads the CSV; a technician records an expense on the phone."""

import csv
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fixflow.billing import services
from fixflow.billing.choices import InvoiceStatus
from fixflow.billing.models import Invoice, Quote, WorkOrderCharge
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import WorkOrder
from tests.billing.factories import at, billing_setup, charge, closed_work_order, time_entry

from .conftest import log_in
from .flow_fixtures import settled

pytestmark = pytest.mark.browser


@pytest.fixture
def leaks(site_url, world):
    """Work closed 30 days ago worth 120.00 EUR, a 7.50 charge recorded after another work order was invoiced,
    an accepted quote of 250.00 not converted. (After ``site_url``: the live server is checked before the
    test writes.)"""
    billing_setup(world)
    now = timezone.now()
    done = closed_work_order(world, closed=now - timedelta(days=40), title="Boiler repaired")
    time_entry(done, at("2026-03-02", "08:00"), 60)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    Invoice.objects.filter(pk=draft.pk).update(
        status=InvoiceStatus.ISSUED, number="INV-2026-00001", issue_date=date(2026, 3, 10), issued_at=now
    )
    WorkOrder.objects.filter(pk=done.pk).update(billing_status=BillingStatus.INVOICED)
    charge(done, "Parking", "7.50")
    waiting = closed_work_order(world, closed=now - timedelta(days=30, hours=1), title="Pump overhaul")
    time_entry(waiting, at("2026-03-02", "08:00"), 90)
    Quote.objects.create(
        organization=world.org,
        number="Q-2026-0007",
        client=world.client,
        title="New circulation pump",
        currency="EUR",
        status="accepted",
        total_net=D("250.00"),
        decided_at=now - timedelta(days=3),
    )
    return {"done": done, "waiting": waiting}


def test_the_accountant_follows_the_leakage_panel_to_the_report_and_its_csv(world, leaks, open_page):
    page = open_page()
    # given the accountant signed in
    log_in(page, world.accountant)
    # then the home page shows the panel with each section's value
    panel = page.locator("#leakage-panel")
    expect(panel.locator("[data-stat=unbilled]")).to_contain_text("120.00 EUR")
    expect(panel.locator("[data-stat=unbilled]")).to_contain_text("1 work order closed over 14 days ago")
    expect(panel.locator("[data-stat=late_facts]")).to_contain_text("7.50 EUR")
    expect(panel.locator("[data-stat=quotes]")).to_contain_text("250.00 EUR")

    # when they open the report
    panel.get_by_role("link", name="Open the report").click()
    # then the three sections list what leaks, with a way to invoice the client now
    expect(page.locator("h1")).to_have_text("Revenue leakage")
    unbilled = page.locator("#leak-unbilled")
    expect(unbilled.locator(f"tr[data-work-order='{leaks['waiting'].pk}']")).to_contain_text("120.00 EUR")
    expect(unbilled.get_by_role("link", name="Invoice now")).to_have_attribute(
        "href", f"/invoices/closed-work/?client={world.client.pk}"
    )
    expect(page.locator("#leak-late")).to_contain_text("Expense · 1 × Parking")
    expect(page.locator("#leak-quotes")).to_contain_text("Q-2026-0007")

    # when they ask for work closed more than 31 days ago
    page.locator("input[name=days]").fill("31")
    page.get_by_role("button", name="Show").click()
    # then the work closed 30 days ago is not listed
    expect(unbilled).to_contain_text("Nothing waiting that long")
    # and a threshold that is no number of days is explained next to the field, the report unchanged
    page.locator("input[name=days]").fill("-3")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("[data-field=days] .errorlist")).to_contain_text("greater than or equal to 0")
    expect(unbilled.locator(f"tr[data-work-order='{leaks['waiting'].pk}']")).to_be_visible()

    # when they download the CSV of the unbilled work
    with page.expect_download() as download:
        unbilled.locator("[data-csv=unbilled]").click()
    # then it holds that work order with its value
    assert download.value.suggested_filename == f"revenue-leakage-unbilled-14d-{timezone.localdate().isoformat()}.csv"
    with open(download.value.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert [(r[0], r[4], r[11], r[12]) for r in rows[1:]] == [("unbilled", leaks["waiting"].number, "120.00", "EUR")]


def test_the_panel_and_the_report_read_well_on_a_phone(world, leaks, open_page):
    page = open_page(phone=True)
    log_in(page, world.accountant)
    expect(page.locator("#leakage-panel [data-stat=unbilled]")).to_be_visible()
    page.locator("#leakage-panel [data-stat=unbilled]").click()
    expect(page.locator("#leak-unbilled")).to_contain_text("Pump overhaul")
    # every row of the report fits the screen: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_technician_records_an_expense_on_the_phone(world, open_page):
    # given a work order the technician is working on
    wo = closed_work_order(world, title="Leaking valve")
    WorkOrder.objects.filter(pk=wo.pk).update(
        status=Status.IN_PROGRESS, billing_status=BillingStatus.NOT_BILLABLE, closed_at=None
    )
    page = open_page(phone=True)
    log_in(page, world.technician)
    page.goto(f"/work-orders/{wo.pk}/")
    section = page.locator("#wo-charges")
    # when they record parking with a price below zero
    section.get_by_text("Record a charge or expense").click()
    section.locator("input[name=description]").fill("Parking garage")
    section.locator("input[name=unit_price]").fill("-6.50")
    section.get_by_role("button", name="Add charge").click()
    settled(page)
    # then the price is refused next to it and what they typed stays
    expect(section.locator("[data-field=unit_price] .errorlist")).to_be_visible()
    expect(section.locator("input[name=description]")).to_have_value("Parking garage")
    assert not WorkOrderCharge.objects.filter(work_order=wo).exists()
    # when they correct it
    section.locator("input[name=unit_price]").fill("6.50")
    section.get_by_role("button", name="Add charge").click()
    settled(page)
    # then the expense is listed and saved
    expect(section.locator("[data-notice]")).to_contain_text("Charge “Parking garage” recorded.")
    expect(section.locator("tr[data-charge]")).to_contain_text("6.50 EUR")
    [saved] = WorkOrderCharge.objects.filter(work_order=wo)
    assert (saved.kind, saved.description, saved.unit_price, saved.created_by) == (
        "expense",
        "Parking garage",
        D("6.50"),
        world.technician.user,
    )
