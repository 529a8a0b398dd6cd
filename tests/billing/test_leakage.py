"""Revenue leakage (DOMAIN.md §4, issue 5): closed billable work not invoiced after N days with its value,
time, parts and charges recorded after the work was invoiced, accepted quotes not converted; the sums per
section and currency, the CSV rows, who may read it."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from fixflow.billing import report_selectors, services
from fixflow.billing.choices import InvoiceStatus
from fixflow.billing.models import Invoice, InvoiceLine, Quote, Rate
from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service.choices import BillingStatus
from fixflow.service.models import WorkOrder

from ..factories import ClientFactory, PartFactory
from .factories import (
    at,
    billing_setup,
    charge,
    client_billing,
    closed_work_order,
    part_usage,
    time_entry,
    wo_billing,
)

NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def billing(world):
    return billing_setup(world)


@pytest.fixture(autouse=True)
def _now():
    with clock.frozen_at(NOW):
        yield


def _closed_days_ago(world, days: int, **fields):
    return closed_work_order(world, closed=NOW - timedelta(days=days, hours=1), **fields)


def _issue_bypassing_documents(world, wo, *, number="INV-2026-00001", issued_at=None):
    """Invoice ``wo``'s closed work and mark the draft issued (the documents are tested elsewhere)."""
    [draft] = services.invoice_closed_work(actor=world.accountant, client_ids=[wo.client_id])
    Invoice.objects.filter(pk=draft.pk).update(
        status=InvoiceStatus.ISSUED,
        number=number,
        issue_date=date(2026, 4, 1),
        issued_at=issued_at or datetime.now(UTC),  # real time: facts are stamped with it
    )
    WorkOrder.objects.filter(pk=wo.pk).update(billing_status=BillingStatus.INVOICED)
    return draft


def _report(world, **kw):
    return report_selectors.leakage(actor=world.accountant, **kw)


# ---------------------------------------------------------------------------------------------
# closed work not invoiced


def test_closed_work_waiting_longer_than_the_threshold_is_listed_with_its_value(world, billing):
    # given work closed 30 and 20 days ago, and work closed yesterday (the default threshold is 14 days)
    old = _closed_days_ago(world, 30, title="Pump overhaul")
    time_entry(old, at("2026-03-02", "08:00"), 90)  # 1.5 h × 80
    middle = _closed_days_ago(world, 20, title="Valve check")
    part_usage(middle, part=PartFactory(organization=world.org, sale_price=D("15.00")), quantity="2")  # 30.00
    charge(middle, "Parking", "12.50")
    _closed_days_ago(world, 1, title="Yesterday")
    # when
    report = _report(world)
    # then: oldest first, exact values
    assert report.days == 14
    assert [(u.work_order, u.days_waiting, u.estimate, u.currency, u.is_on_draft) for u in report.unbilled] == [
        (old, 30, D("120.00"), "EUR", False),
        (middle, 20, D("42.50"), "EUR", False),
    ]
    summary = report_selectors.summarize(report)
    assert (summary.unbilled.count, summary.unbilled.without_estimate) == (2, 0)
    assert summary.unbilled.totals == [report_selectors.Amount(D("162.50"), "EUR")]


def test_the_threshold_can_be_chosen_per_report(world, billing):
    # given
    recent = _closed_days_ago(world, 1)
    time_entry(recent, at("2026-03-02", "08:00"), 60)
    # when / then: 0 days shows everything closed and not invoiced, 2 days nothing
    assert [u.estimate for u in _report(world, days="0").unbilled] == [D("80.00")]
    assert _report(world, days=2).unbilled == []


def test_work_on_a_draft_counts_until_the_draft_is_issued_with_the_draft_lines_and_what_came_after(world, billing):
    # given work whose hour is on a draft, and an expense recorded after the draft was made
    wo = _closed_days_ago(world, 20)
    time_entry(wo, at("2026-03-02", "08:00"), 60)
    services.invoice_closed_work(actor=world.accountant)
    charge(wo, "Disposal fee", "12.50")
    # when
    [item] = _report(world).unbilled
    # then: 80.00 on the draft + 12.50 not on it yet
    assert (item.is_on_draft, item.estimate, item.problem) == (True, D("92.50"), "")


def test_work_that_cannot_be_priced_is_listed_without_a_value_and_says_why(world, billing):
    # given no labour rate at all
    wo = _closed_days_ago(world, 20)
    time_entry(wo, at("2026-03-02", "08:00"), 60)
    Rate.objects.filter(organization=world.org, kind="labour").delete()
    # when
    report = _report(world)
    # then
    [item] = report.unbilled
    assert item.estimate is None and "rate" in item.problem.lower()
    summary = report_selectors.summarize(report).unbilled
    assert (summary.count, summary.totals, summary.without_estimate) == (1, [], 1)


def test_values_in_different_currencies_are_summed_apart(world, billing):
    # given a client billed in CHF beside the EUR one
    swiss = ClientFactory(organization=world.org, name="Bergbahn AG")
    from ..factories import SiteFactory

    SiteFactory(client=swiss, name="Talstation")
    client_billing(swiss, currency="CHF", country="CH")
    chf = _closed_days_ago(world, 25, client=swiss)
    time_entry(chf, at("2026-03-02", "08:00"), 120)
    eur = _closed_days_ago(world, 15)
    time_entry(eur, at("2026-03-02", "08:00"), 30)
    # when
    report = _report(world)
    # then: never one number across currencies; per client for "invoice now"
    assert report_selectors.summarize(report).unbilled.totals == [
        report_selectors.Amount(D("160.00"), "CHF"),
        report_selectors.Amount(D("40.00"), "EUR"),
    ]
    groups = report_selectors.unbilled_by_client(report)
    assert [(g.client, [u.work_order for u in g.items], g.summary.totals) for g in groups] == [
        (swiss, [chf], [report_selectors.Amount(D("160.00"), "CHF")]),
        (world.client, [eur], [report_selectors.Amount(D("40.00"), "EUR")]),
    ]


# ---------------------------------------------------------------------------------------------
# recorded after the work was invoiced


def test_time_parts_and_charges_recorded_after_invoicing_are_listed_with_their_value(world, billing):
    # given invoiced work (one hour), then time, a part and a charge recorded on it, bypassing the services
    wo = _closed_days_ago(world, 40)
    time_entry(wo, at("2026-03-02", "08:00"), 60)
    _issue_bypassing_documents(world, wo)
    late_time = time_entry(wo, at("2026-03-03", "08:00"), 30)
    late_part = part_usage(wo, part=PartFactory(organization=world.org, sale_price=D("9.90")), quantity="3")
    late_charge = charge(wo, "Parking", "7.50")
    not_billable = charge(wo, "Coffee", "3.00", is_billable=False)
    # when
    report = _report(world)
    # then: 0.5 h × 80 = 40.00; 3 × 9.90 = 29.70; 7.50 — the non-billable charge is no leak
    assert [(f.kind, f.fact_id, f.estimate, f.currency, f.problem) for f in report.late_facts] == [
        ("time", late_time.pk, D("40.00"), "EUR", ""),
        ("part", late_part.pk, D("29.70"), "EUR", ""),
        ("charge", late_charge.pk, D("7.50"), "EUR", ""),
    ]
    assert not_billable.pk not in [f.fact_id for f in report.late_facts if f.kind == "charge"]
    assert report.late_facts[2].description == "Expense · 1 × Parking"
    assert report_selectors.summarize(report).late_facts.totals == [report_selectors.Amount(D("77.20"), "EUR")]
    assert report.unbilled == []


def test_a_charge_added_after_the_draft_was_made_is_late_once_the_invoice_is_issued(world, billing):
    # given work on a draft, then a call-out fee recorded through the service before the draft is issued
    wo = _closed_days_ago(world, 20)
    time_entry(wo, at("2026-03-02", "08:00"), 60)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    fee = services.charge_add(
        actor=world.dispatcher, work_order_id=wo.pk, kind="call_out", description="Call-out", unit_price="45"
    )
    Invoice.objects.filter(pk=draft.pk).update(
        status=InvoiceStatus.ISSUED, number="INV-2026-00009", issue_date=date(2026, 4, 1), issued_at=NOW
    )
    WorkOrder.objects.filter(pk=wo.pk).update(billing_status=BillingStatus.INVOICED)
    # when
    report = _report(world)
    # then
    assert [(f.kind, f.fact_id, f.estimate) for f in report.late_facts] == [("charge", fee.pk, D("45.00"))]


def test_at_a_fixed_price_only_work_recorded_after_the_invoice_leaks_and_charges_always_do(world, billing):
    # given work sold at a fixed price of 500 and invoiced; time recorded after the invoice, and a charge
    wo = _closed_days_ago(world, 40)
    wo_billing(wo, fixed_price=D("500"))
    time_entry(wo, at("2026-03-02", "08:00"), 60)
    _issue_bypassing_documents(world, wo)
    late_time = time_entry(wo, at("2026-03-03", "08:00"), 45)
    late_charge = charge(wo, "Crane hire", "180.00", kind="fixed")
    # when
    report = _report(world)
    # then: the time has no price of its own under a fixed price; the charge is billed on top
    assert [(f.kind, f.fact_id, f.estimate) for f in report.late_facts] == [
        ("time", late_time.pk, None),
        ("charge", late_charge.pk, D("180.00")),
    ]
    assert report.late_facts[0].problem == "Invoiced at a fixed price: decide whether this is billed on top."
    summary = report_selectors.summarize(report).late_facts
    assert (summary.totals, summary.without_estimate) == ([report_selectors.Amount(D("180.00"), "EUR")], 1)


def test_work_billed_by_hand_as_one_line_leaks_only_what_came_after_its_invoice(world, billing):
    # given work invoiced with one manual line naming it (an amount agreed by hand), then more time recorded
    wo = _closed_days_ago(world, 40)
    time_entry(wo, at("2026-03-02", "08:00"), 60)
    invoice = Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="EUR")
    InvoiceLine.objects.create(
        organization=world.org,
        invoice=invoice,
        kind="manual",
        description="Repair as agreed on the phone",
        unit_price=D("150"),
        net_amount=D("150.00"),
        work_order=wo,
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        status=InvoiceStatus.ISSUED, number="INV-2026-00002", issue_date=date(2026, 4, 1), issued_at=datetime.now(UTC)
    )
    WorkOrder.objects.filter(pk=wo.pk).update(billing_status=BillingStatus.INVOICED)
    late = time_entry(wo, at("2026-03-03", "08:00"), 30)
    # when
    report = _report(world)
    # then: the hour before the invoice was part of the agreed amount; the half hour after is priced
    assert [(f.kind, f.fact_id, f.estimate) for f in report.late_facts] == [("time", late.pk, D("40.00"))]


def test_work_released_by_a_credit_note_is_no_longer_late_but_waiting_again(world, billing):
    # given invoiced work with a late entry, then the invoice line released and the work back to invoicing
    wo = _closed_days_ago(world, 40)
    time_entry(wo, at("2026-03-02", "08:00"), 60)
    draft = _issue_bypassing_documents(world, wo)
    time_entry(wo, at("2026-03-03", "08:00"), 30)
    draft.lines.update(released=True)
    WorkOrder.objects.filter(pk=wo.pk).update(billing_status=BillingStatus.TO_INVOICE)
    # when
    report = _report(world)
    # then: both hours wait to be invoiced again
    assert report.late_facts == []
    assert [(u.work_order, u.estimate) for u in report.unbilled] == [(wo, D("120.00"))]


# ---------------------------------------------------------------------------------------------
# accepted quotes, the CSV rows, who may read it


def _accepted_quote(world, number="Q-2026-0007", net="250.00", converted=False):
    return Quote.objects.create(
        organization=world.org,
        number=number,
        client=world.client,
        title="New circulation pump",
        currency="EUR",
        status="accepted",
        total_net=D(net),
        total_tax=D(net) * D("0.19"),
        total_gross=D(net) * D("1.19"),
        decided_at=NOW - timedelta(days=3),
        decided_by_name="Hanna Hausmeister",
        converted_at=NOW if converted else None,
    )


def test_accepted_quotes_not_converted_are_listed_with_their_net(world, billing):
    # given
    waiting = _accepted_quote(world)
    _accepted_quote(world, number="Q-2026-0008", converted=True)
    Quote.objects.create(
        organization=world.org, number="Q-2026-0009", client=world.client, title="Sent", currency="EUR"
    )
    # when
    report = _report(world)
    # then
    assert report.quotes_not_converted == [waiting]
    assert report_selectors.summarize(report).quotes.totals == [report_selectors.Amount(D("250.00"), "EUR")]


def test_the_csv_rows_name_their_section(world, billing):
    # given one row of each section (a client whose name a spreadsheet would run as a formula)
    world.client.name = "=HYPERLINK(1)"
    world.client.save()
    done = _closed_days_ago(world, 40, title="Done")
    time_entry(done, at("2026-03-02", "08:00"), 60)
    _issue_bypassing_documents(world, done)
    late = charge(done, "Parking", "7.50")
    wo = _closed_days_ago(world, 30, title="Pump overhaul")
    time_entry(wo, at("2026-03-02", "08:00"), 90)
    quote = _accepted_quote(world)
    report = _report(world)
    # when
    rows = report_selectors.csv_rows(report)
    only_quotes = report_selectors.csv_rows(report, section="quotes")
    # then
    assert rows[0] == report_selectors.CSV_HEADER
    assert rows[1:] == [
        [
            "unbilled",
            world.client.pk,
            "'=HYPERLINK(1)",
            wo.pk,
            wo.number,
            "",
            "",
            "Pump overhaul",
            wo.closed_at.isoformat(),
            30,
            "no",
            "120.00",
            "EUR",
            "",
        ],
        [
            "late_charge",
            world.client.pk,
            "'=HYPERLINK(1)",
            done.pk,
            done.number,
            "",
            "",
            "Expense · 1 × Parking",
            report.late_facts[0].recorded_at.isoformat(),
            "",
            "",
            "7.50",
            "EUR",
            "",
        ],
        [
            "quote",
            world.client.pk,
            "'=HYPERLINK(1)",
            "",
            "",
            quote.pk,
            "Q-2026-0007",
            "New circulation pump",
            quote.decided_at.isoformat(),
            "",
            "",
            "250.00",
            "EUR",
            "",
        ],
    ]
    assert late.pk == report.late_facts[0].fact_id
    assert only_quotes == [rows[0], rows[3]]


def test_an_unknown_csv_section_is_refused(world, billing):
    with pytest.raises(DomainError) as exc:
        report_selectors.csv_rows(_report(world), section="everything")
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "section")


@pytest.mark.parametrize("days", ["-1", "3651", "two weeks", "1.5"])
def test_a_threshold_that_is_not_a_number_of_days_is_refused(world, billing, days):
    with pytest.raises(DomainError) as exc:
        _report(world, days=days)
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "days")


@pytest.mark.parametrize("who", ["technician", "requester", "client_user"])
def test_only_those_who_bill_read_the_report(world, billing, who):
    with pytest.raises(DomainError) as exc:
        report_selectors.leakage(actor=getattr(world, who))
    assert exc.value.code == ErrorCode.PERMISSION_DENIED


@pytest.mark.parametrize("who", ["admin", "dispatcher", "accountant"])
def test_the_office_and_accounting_read_the_report(world, billing, who):
    wo = _closed_days_ago(world, 30)
    time_entry(wo, at("2026-03-02", "08:00"), 60)
    assert [u.estimate for u in report_selectors.leakage(actor=getattr(world, who)).unbilled] == [D("80.00")]


def test_another_organizations_work_never_shows(world, other_world, billing):
    # given unbilled work in the other organization only
    from ..factories import WorkOrderFactory

    WorkOrderFactory(
        organization=other_world.org,
        equipment=other_world.equipment,
        status="closed",
        billing_status=BillingStatus.TO_INVOICE,
        closed_at=NOW - timedelta(days=60),
    )
    # when / then
    assert _report(world).is_empty
