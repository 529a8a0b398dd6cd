"""``GET /billing/leakage``: the revenue-leakage report as JSON and CSV, for the people who bill."""

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

from .conftest import assert_problem

NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def leaks(world):
    """One row in each section: work closed 30 days ago (1.5 h = 120.00), a charge of 7.50 recorded after
    another work order was invoiced, an accepted quote of 250.00 not converted."""
    billing_setup(world)
    done = closed_work_order(world, closed=NOW - timedelta(days=40), title="Done")
    time_entry(done, at("2026-03-02", "08:00"), 60)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    Invoice.objects.filter(pk=draft.pk).update(
        status=InvoiceStatus.ISSUED, number="INV-2026-00001", issue_date=date(2026, 3, 10), issued_at=NOW
    )
    WorkOrder.objects.filter(pk=done.pk).update(billing_status=BillingStatus.INVOICED)
    late = charge(done, "Parking", "7.50")
    waiting = closed_work_order(world, closed=NOW - timedelta(days=30, hours=1), title="Pump overhaul")
    time_entry(waiting, at("2026-03-02", "08:00"), 90)
    quote = Quote.objects.create(
        organization=world.org,
        number="Q-2026-0007",
        client=world.client,
        title="New circulation pump",
        currency="EUR",
        status="accepted",
        total_net=D("250.00"),
        decided_at=NOW - timedelta(days=3),
    )
    return {"done": done, "late": late, "waiting": waiting, "quote": quote}


def test_the_report_lists_each_section_with_exact_values(api, world, leaks):
    # when
    r = api("accountant").get("/billing/leakage")
    # then
    assert r.status_code == 200, r.content
    body = r.json()
    waiting, done = leaks["waiting"], leaks["done"]
    assert body["days"] == 14
    assert body["unbilled"] == {
        "count": 1,
        "totals": [{"amount": "120.00", "currency": "EUR"}],
        "without_estimate": 0,
        "items": [
            {
                "work_order_id": waiting.pk,
                "number": waiting.number,
                "title": "Pump overhaul",
                "client_id": world.client.pk,
                "client": "Stadtwerke",
                "closed_at": "2026-03-16T09:00:00Z",
                "days_waiting": 30,
                "is_on_draft": False,
                "estimate": "120.00",
                "currency": "EUR",
                "problem": "",
            }
        ],
    }
    [fact] = body["late_facts"]["items"]
    assert (body["late_facts"]["count"], body["late_facts"]["totals"]) == (1, [{"amount": "7.50", "currency": "EUR"}])
    assert {k: fact[k] for k in ("kind", "fact_id", "work_order_id", "description", "estimate", "problem")} == {
        "kind": "charge",
        "fact_id": leaks["late"].pk,
        "work_order_id": done.pk,
        "description": "Expense · 1 × Parking",
        "estimate": "7.50",
        "problem": "",
    }
    assert body["quotes_not_converted"]["items"] == [
        {
            "quote_id": leaks["quote"].pk,
            "number": "Q-2026-0007",
            "title": "New circulation pump",
            "client_id": world.client.pk,
            "client": "Stadtwerke",
            "accepted_at": "2026-04-12T10:00:00Z",
            "total_net": "250.00",
            "currency": "EUR",
        }
    ]


def test_days_changes_the_threshold(api, world, leaks):
    # when
    r = api("dispatcher").get("/billing/leakage", {"days": 31})
    # then: the work closed 30 days ago is not late enough any more
    assert r.status_code == 200
    assert (r.json()["days"], r.json()["unbilled"]["count"]) == (31, 0)


@pytest.mark.parametrize("days", ["-1", "3651", "soon"])
def test_a_bad_threshold_is_a_422_naming_days(api, world, leaks, days):
    r = api("accountant").get("/billing/leakage", {"days": days})
    assert_problem(r, 422, "validation_error", field="days")


def test_the_csv_has_one_row_per_item_and_a_section_column(api, world, leaks):
    # when
    r = api("accountant").get("/billing/leakage", {"format": "csv"})
    # then
    assert r.status_code == 200
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"] == 'attachment; filename="revenue-leakage-all-14d-2026-04-15.csv"'
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0][:3] == ["section", "client_id", "client"]
    assert [(row[0], row[4] or row[6], row[11], row[12]) for row in rows[1:]] == [
        ("unbilled", leaks["waiting"].number, "120.00", "EUR"),
        ("late_charge", leaks["done"].number, "7.50", "EUR"),
        ("quote", "Q-2026-0007", "250.00", "EUR"),
    ]


def test_the_csv_of_one_section(api, world, leaks):
    # when
    r = api("accountant").get("/billing/leakage", {"format": "csv", "section": "quotes", "days": 7})
    # then
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert [row[0] for row in rows] == ["section", "quote"]
    assert r["Content-Disposition"] == 'attachment; filename="revenue-leakage-quotes-7d-2026-04-15.csv"'


@pytest.mark.parametrize(("params", "field"), [({"format": "pdf"}, "format"), ({"section": "all"}, "section")])
def test_an_unknown_format_or_section_is_a_422(api, world, leaks, params, field):
    r = api("accountant").get("/billing/leakage", params)
    assert_problem(r, 422, "validation_error", field=field)


@pytest.mark.parametrize("who", ["technician", "requester", "client_user"])
def test_the_report_is_refused_to_those_who_do_not_bill(api, world, leaks, who):
    for params in ({}, {"format": "csv"}):
        r = api(who).get("/billing/leakage", params)
        assert_problem(r, 403, "permission_denied")


def test_another_organization_sees_none_of_it(other_api, other_world, leaks):
    # when
    body = other_api("admin").get("/billing/leakage").json()
    # then
    assert [body[s]["count"] for s in ("unbilled", "late_facts", "quotes_not_converted")] == [0, 0, 0]
