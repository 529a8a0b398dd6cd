"""The revenue-leakage report page (with its CSV) and the accountant's home-page panel."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from fixflow.billing import services
from fixflow.billing.choices import InvoiceStatus
from fixflow.billing.models import Invoice, Quote
from fixflow.core import clock
from fixflow.service.choices import BillingStatus
from fixflow.service.models import WorkOrder
from tests.billing.factories import at, billing_setup, charge, closed_work_order, time_entry

NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)
URL = "/billing/leakage/"


def html(response) -> str:
    return response.content.decode()


@pytest.fixture(autouse=True)
def _now():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def leak_world(world):
    """Work closed 30 days ago worth 120.00, a 7.50 charge recorded after another work order was invoiced,
    an accepted quote of 250.00 not converted."""
    billing_setup(world)
    done = closed_work_order(world, closed=NOW - timedelta(days=40), title="Done and invoiced")
    time_entry(done, at("2026-03-02", "08:00"), 60)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    Invoice.objects.filter(pk=draft.pk).update(
        status=InvoiceStatus.ISSUED, number="INV-2026-00001", issue_date=date(2026, 3, 10), issued_at=NOW
    )
    WorkOrder.objects.filter(pk=done.pk).update(billing_status=BillingStatus.INVOICED)
    charge(done, "Parking", "7.50")
    waiting = closed_work_order(world, closed=NOW - timedelta(days=30, hours=1), title="Pump overhaul")
    time_entry(waiting, at("2026-03-02", "08:00"), 90)
    Quote.objects.create(
        organization=world.org,
        number="Q-2026-0007",
        client=world.client,
        title="New circulation pump",
        currency="EUR",
        status="accepted",
        total_net=D("250.00"),
        decided_at=NOW - timedelta(days=3),
    )
    return {"done": done, "waiting": waiting}


def test_the_report_shows_the_three_sections_with_their_values_and_links(world, leak_world, ref_login):
    # when
    response = ref_login(world.accountant).get(URL)
    # then
    assert response.status_code == 200
    page = html(response)
    waiting, done = leak_world["waiting"], leak_world["done"]
    assert "120.00 EUR" in page and "7.50 EUR" in page and "250.00 EUR" in page
    assert f'href="/work-orders/{waiting.pk}/"' in page and f'href="/work-orders/{done.pk}/"' in page
    assert f'href="/invoices/closed-work/?client={world.client.pk}" data-invoice-now' in page  # invoice now
    assert "Expense · 1 × Parking" in page and "Q-2026-0007" in page
    assert "Closed more than 14 days ago, not invoiced" in page


def test_the_days_field_changes_the_threshold(world, leak_world, ref_login):
    # when
    response = ref_login(world.accountant).get(URL, {"days": "31"})
    # then
    page = html(response)
    assert response.status_code == 200
    assert "Closed more than 31 days ago, not invoiced" in page
    assert "Pump overhaul" not in page and "Nothing waiting that long" in page


def test_a_dispatcher_is_sent_to_the_clients_work_waiting_for_an_invoice(world, leak_world, ref_login):
    # dispatchers read the report but do not make invoices: "invoice now" lists the client's work
    page = html(ref_login(world.dispatcher).get(URL))
    assert f'href="/work-orders/?billing_status=to_invoice&amp;client={world.client.pk}" data-invoice-now' in page


@pytest.mark.parametrize("days", ["-1", "4000", "two"])
def test_a_bad_number_of_days_is_shown_next_to_the_field(world, leak_world, ref_login, days):
    # when
    response = ref_login(world.accountant).get(URL, {"days": days})
    # then: the error, what was typed, and the report at the settings' threshold
    page = html(response)
    assert response.status_code == 422
    assert 'data-field="days"' in page and 'class="errorlist"' in page
    assert f'value="{days}"' in page
    assert "Closed more than 14 days ago, not invoiced" in page and "Pump overhaul" in page


def test_the_csv_downloads_all_sections_or_one(world, leak_world, ref_login):
    client = ref_login(world.accountant)
    # when
    everything = client.get(URL, {"format": "csv", "days": "14"})
    one = client.get(URL, {"format": "csv", "days": "14", "section": "unbilled"})
    # then
    assert everything["Content-Type"] == "text/csv; charset=utf-8"
    assert everything["Content-Disposition"] == 'attachment; filename="revenue-leakage-all-14d-2026-04-15.csv"'
    rows = list(csv.reader(io.StringIO(everything.content.decode())))
    assert [(r[0], r[11]) for r in rows[1:]] == [("unbilled", "120.00"), ("late_charge", "7.50"), ("quote", "250.00")]
    assert [r[0] for r in csv.reader(io.StringIO(one.content.decode()))] == ["section", "unbilled"]


def test_an_unknown_csv_section_is_not_downloaded_but_explained(world, leak_world, ref_login):
    response = ref_login(world.accountant).get(URL, {"format": "csv", "section": "everything"})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/html")
    assert "Select a valid choice" in html(response)


@pytest.mark.parametrize("who", ["technician", "requester", "client_user"])
def test_the_report_is_refused_to_those_who_do_not_bill(world, leak_world, ref_login, who):
    response = ref_login(getattr(world, who)).get(URL)
    assert response.status_code == 403
    assert "Pump overhaul" not in html(response)


def test_the_accountants_home_shows_the_leakage_panel(world, leak_world, ref_login):
    # when
    response = ref_login(world.accountant).get("/")
    # then
    page = html(response)
    assert 'id="leakage-panel"' in page
    assert "120.00 EUR" in page and "1 work order closed over 14 days ago, not invoiced" in page
    assert "7.50 EUR" in page and "1 item recorded after invoicing" in page
    assert "250.00 EUR" in page and "1 accepted quote not converted" in page
    assert 'href="/billing/leakage/#leak-unbilled"' in page and 'href="/billing/leakage/"' in page


def test_the_panel_says_when_nothing_leaks(world, ref_login):
    # given billing set up and nothing waiting
    billing_setup(world)
    # when
    page = html(ref_login(world.accountant).get("/"))
    # then
    assert 'id="leakage-panel"' in page and "Nothing is leaking" in page
