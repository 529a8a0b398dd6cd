"""Invoicing closed work (DOMAIN.md §4 rules 1-4, 6): drafts per client, currency and tax regime, lines
from time, parts, charges, the call-out fee and fixed prices, rates, overtime, contracts, idempotency."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from fixflow.billing import selectors, services
from fixflow.billing.choices import InvoiceStatus, LineKind
from fixflow.billing.models import Invoice, InvoiceLine, Quote
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services as service_services
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import TimeEntry, WorkOrder
from fixflow.sla.models import BusinessCalendar

from ..factories import ClientFactory, PartFactory, SiteFactory
from .factories import (
    ContractFactory,
    at,
    billing_setup,
    charge,
    client_billing,
    closed_work_order,
    lines_of,
    part_category,
    part_usage,
    price_list,
    rate_class,
    time_entry,
    wo_billing,
)

MONDAY = "2026-03-02"


@pytest.fixture
def billing(world):
    return billing_setup(world)


def _run(world, **kw):
    return services.invoice_closed_work(actor=world.accountant, **kw)


def test_closed_work_becomes_one_draft_with_a_line_per_fact(world, billing):
    # given a closed work order with labour, travel, a part and an expense
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 120)
    time_entry(wo, at(MONDAY, "07:30"), 25, kind="travel")
    part_usage(wo, part=PartFactory(organization=world.org, name="Seal kit", sale_price=D("15.00")), quantity="2")
    charge(wo, "Parking", "12.50")
    # when
    [invoice] = _run(world)
    # then: travel first (it started first), rounded up to 30 min; VAT 19 % on 227.50 is 43.225 → 43.23
    assert invoice.status == InvoiceStatus.DRAFT and invoice.number is None
    assert invoice.client == world.client and invoice.currency == "EUR"
    assert lines_of(invoice) == [
        ("Travel · Tom Technician", D("0.5"), D("50"), D("0"), D("25.00")),
        ("Labour · Tom Technician", D("2"), D("80"), D("0"), D("160.00")),
        ("Seal kit", D("2"), D("15"), D("0"), D("30.00")),
        ("Parking", D("1"), D("12.50"), D("0"), D("12.50")),
    ]
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (D("227.50"), D("43.23"), D("270.73"))
    assert invoice.tax_breakdown == [
        {
            "category": "S",
            "rate": "19.00",
            "taxable": "227.50",
            "tax": "43.23",
            "exemption_reason": "",
            "exemption_code": "",
        }
    ]
    assert {line.work_order_id for line in invoice.lines.all()} == {wo.pk}
    assert [line.service_date for line in invoice.lines.order_by("position")] == [date(2026, 3, 2)] * 4
    assert invoice.lines.get(kind=LineKind.LABOUR).detail == "2026-03-02 08:00–10:00 (120 min recorded, 120 min billed)"
    # and the work order waits for the invoice to be issued
    wo.refresh_from_db()
    assert wo.billing_status == BillingStatus.TO_INVOICE


def test_labour_is_rounded_per_entry(world, billing):
    # given entries of 7, 16 and 45 minutes (minimum 15, increment 15)
    wo = closed_work_order(world)
    for start, minutes in (("08:00", 7), ("09:00", 16), ("10:00", 45)):
        time_entry(wo, at(MONDAY, start), minutes)
    # when
    [invoice] = _run(world)
    # then: 15, 30 and 45 minutes, each its own line
    assert [(line.billed_minutes, line.quantity, line.net_amount) for line in invoice.lines.order_by("position")] == [
        (15, D("0.25"), D("20.00")),
        (30, D("0.5"), D("40.00")),
        (45, D("0.75"), D("60.00")),
    ]


def test_time_outside_the_working_hours_is_overtime(world, billing):
    # given Mon–Fri 08:00–17:00 and an entry from 16:00 to 18:15
    billing.settings.overtime_calendar = BusinessCalendar.objects.create(
        organization=world.org, name="Office hours", timezone="Europe/Berlin"
    )
    billing.settings.save()
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "16:00"), 135)
    # when
    [invoice] = _run(world)
    # then: one hour at 80, the rest at 80 × 1.5 = 120 per hour
    assert lines_of(invoice) == [
        ("Labour · Tom Technician", D("1"), D("80"), D("0"), D("80.00")),
        ("Labour, overtime ×1.5 · Tom Technician", D("1.25"), D("120"), D("0"), D("150.00")),
    ]
    assert [line.is_overtime for line in invoice.lines.order_by("position")] == [False, True]


def test_a_sunday_entry_is_overtime_entirely(world, billing):
    # given the office calendar and work on Sunday 1 March
    billing.settings.overtime_calendar = BusinessCalendar.objects.create(
        organization=world.org, name="Office hours", timezone="Europe/Berlin"
    )
    billing.settings.save()
    wo = closed_work_order(world)
    time_entry(wo, at("2026-03-01", "10:00"), 50)
    # when
    [invoice] = _run(world)
    # then: rounded to 60 minutes, all of it at the overtime price
    assert lines_of(invoice) == [("Labour, overtime ×1.5 · Tom Technician", D("1"), D("120"), D("0"), D("120.00"))]


def test_overtime_is_counted_in_the_working_hours_of_the_sites_own_zone(world, billing):
    # given office hours Mon–Fri 08:00–17:00 kept in Berlin, and work at a New York site
    billing.settings.overtime_calendar = BusinessCalendar.objects.create(
        organization=world.org, name="Office hours", timezone="Europe/Berlin"
    )
    billing.settings.save()
    site = SiteFactory(organization=world.org, client=world.client, timezone="America/New_York")
    wo = closed_work_order(world, site=site, equipment=None)
    # from 15:00 to 18:00 in New York (21:00–24:00 in Berlin)
    time_entry(wo, at(MONDAY, "15:00", zone="America/New_York"), 180)
    # when
    [invoice] = _run(world)
    # then: two hours in New York's working day, one after it
    assert lines_of(invoice) == [
        ("Labour · Tom Technician", D("2"), D("80"), D("0"), D("160.00")),
        ("Labour, overtime ×1.5 · Tom Technician", D("1"), D("120"), D("0"), D("120.00")),
    ]
    assert invoice.lines.get(is_overtime=False).detail.startswith("2026-03-02 15:00–18:00")


@pytest.mark.parametrize(
    "level, expected_price",
    [
        ("work order", D("95")),
        ("contract", D("70")),
        ("client price list", D("75")),
        ("rate class", D("110")),
        ("organization", D("80")),
    ],
)
def test_rates_resolve_from_the_work_order_down_to_the_organization(world, billing, level, expected_price):
    # given every level down to ``level`` configured
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    levels = ["organization", "rate class", "client price list", "contract", "work order"]
    present = levels[: levels.index(level) + 1]
    if "rate class" in present:
        rate_class(world, world.technician.user, price=D("110.00"))
    if "client price list" in present:
        client_billing(world.client, price_list=price_list(world, labour=D("75.00")))
    if "contract" in present:
        ContractFactory(organization=world.org, client=world.client, price_list=price_list(world, labour=D("70.00")))
    if "work order" in present:
        wo_billing(wo, labour_rate=D("95.00"))
    # when
    [invoice] = _run(world)
    # then
    line = invoice.lines.get()
    assert (line.unit_price, line.net_amount) == (expected_price, expected_price)


def test_a_price_list_in_another_currency_does_not_apply(world, billing):
    # given the client's price list is in CHF but the client is invoiced in EUR
    client_billing(world.client, currency="EUR", price_list=price_list(world, currency="CHF", labour=D("99.00")))
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    # when
    [invoice] = _run(world)
    # then: the organization's rate
    assert invoice.lines.get().unit_price == D("80")


def test_parts_are_priced_from_the_price_list_then_the_catalogue_then_cost_plus_markup(world, billing):
    # given three parts: one on the client's price list, one with a sale price, one free text at cost 10
    listed = PartFactory(organization=world.org, name="Listed", sale_price=D("15.00"))
    catalogue = PartFactory(organization=world.org, name="Catalogue", sale_price=D("15.00"))
    client_billing(world.client, price_list=price_list(world, parts={listed: D("12.00")}))
    wo = closed_work_order(world)
    part_usage(wo, part=listed)
    part_usage(wo, part=catalogue)
    part_usage(wo, description="Copper pipe", unit_cost=D("10.00"))
    # when
    [invoice] = _run(world)
    # then: 12, 15 and 10 × 1.30
    assert [(line.description, line.unit_price) for line in invoice.lines.order_by("position")] == [
        ("Listed", D("12")),
        ("Catalogue", D("15")),
        ("Copper pipe", D("13")),
    ]


def test_contract_with_ten_included_hours_eight_used_and_a_four_hour_job(world, billing):
    # given a contract with 10 included hours a year, 8 of them used by an earlier job
    contract = ContractFactory(organization=world.org, client=world.client, included_labour_minutes=600)
    first = closed_work_order(world)
    time_entry(first, at(MONDAY, "08:00"), 8 * 60)
    [draft] = _run(world)
    assert lines_of(draft) == [("Labour · Tom Technician", D("8"), D("80"), D("100"), D("0.00"))]
    # when a 4 h job is invoiced
    second = closed_work_order(world, closed=datetime(2026, 3, 10, 16, 0, tzinfo=UTC))
    time_entry(second, at("2026-03-09", "08:00"), 4 * 60)
    [again] = _run(world)
    # then: the same draft gets 2 h covered (100 % discount naming the contract) and 2 h billed
    assert again.pk == draft.pk
    new = list(again.lines.filter(work_order=second).order_by("position"))
    assert [(line.quantity, line.discount_percent, line.net_amount, line.covered_minutes) for line in new] == [
        (D("2"), D("100"), D("0.00"), 120),
        (D("2"), D("0"), D("160.00"), 0),
    ]
    assert new[0].contract == contract and new[0].discount_reason == f"Covered by contract {contract}"
    assert new[0].time_entry_id == new[1].time_entry_id
    assert (again.total_net, again.total_tax, again.total_gross) == (D("160.00"), D("30.40"), D("190.40"))


def test_included_hours_count_per_contract_period(world, billing):
    # given a monthly contract with 1 included hour, used up in March
    ContractFactory(organization=world.org, client=world.client, included_labour_minutes=60, period="month")
    march = closed_work_order(world)
    time_entry(march, at(MONDAY, "08:00"), 60)
    april = closed_work_order(world, closed=datetime(2026, 4, 7, 16, 0, tzinfo=UTC))
    time_entry(april, at("2026-04-06", "08:00"), 60)
    # when
    [invoice] = _run(world)
    # then: each month's hour is covered
    assert [line.discount_percent for line in invoice.lines.order_by("position")] == [D("100"), D("100")]


def test_contract_covers_part_categories_waives_the_call_out_and_discounts_the_rest(world):
    # given a call-out fee of 45, and a contract covering filters, waiving the call-out, 10 % off the rest
    billing_setup(world, call_out_fee=D("45.00"))
    filters = part_category(world, "Filters")
    contract = ContractFactory(
        organization=world.org, client=world.client, waives_call_out=True, discount_percent=D("10")
    )
    contract.covered_part_categories.add(filters)
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    part_usage(wo, part=PartFactory(organization=world.org, name="Filter F7", category=filters, sale_price=D("20")))
    part_usage(wo, part=PartFactory(organization=world.org, name="Belt", sale_price=D("30")))
    # when
    [invoice] = _run(world)
    # then
    assert lines_of(invoice) == [
        ("Labour · Tom Technician", D("1"), D("80"), D("10"), D("72.00")),
        ("Filter F7", D("1"), D("20"), D("100"), D("0.00")),
        ("Belt", D("1"), D("30"), D("10"), D("27.00")),
        ("Call-out fee", D("1"), D("45"), D("100"), D("0.00")),
    ]
    reasons = [line.discount_reason for line in invoice.lines.order_by("position")]
    assert reasons == [
        f"Contract {contract}: 10 % discount",
        f"Covered by contract {contract}",
        f"Contract {contract}: 10 % discount",
        f"Call-out waived by contract {contract}",
    ]


def test_the_call_out_fee_is_charged_once_per_work_order(world):
    # given a call-out fee and a work order with two visits
    billing_setup(world, call_out_fee=D("45.00"))
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    time_entry(wo, at("2026-03-03", "08:00"), 60)
    # when invoiced twice
    [invoice] = _run(world)
    assert _run(world) == []
    # then
    assert invoice.lines.filter(kind=LineKind.CALL_OUT).count() == 1


def test_a_fixed_price_is_one_line_and_the_recorded_time_is_not_priced(world, billing):
    # given a work order sold at a fixed price, with 3 h recorded, a part and an expense
    wo = closed_work_order(world, title="Replace pump")
    wo_billing(wo, fixed_price=D("500.00"))
    time_entry(wo, at(MONDAY, "08:00"), 180)
    part_usage(wo)
    charge(wo, "Crane hire", "150.00")
    # when
    [invoice] = _run(world)
    # then: the fixed price, and the expense on top
    assert lines_of(invoice) == [
        (f"{wo.number} · Replace pump", D("1"), D("500"), D("0"), D("500.00")),
        ("Crane hire", D("1"), D("150"), D("0"), D("150.00")),
    ]
    assert invoice.lines.first().detail == "Fixed price; includes 3 h recorded and 1 part(s) used."
    # and a second run adds nothing
    assert _run(world) == []
    assert invoice.lines.count() == 2


def test_running_it_twice_creates_nothing_new(world, billing):
    # given invoiced closed work
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    part_usage(wo)
    charge(wo)
    [invoice] = _run(world)
    before = list(InvoiceLine.objects.values().order_by("id"))
    # when
    again = _run(world)
    # then
    assert again == []
    assert list(InvoiceLine.objects.values().order_by("id")) == before
    assert Invoice.objects.count() == 1


def test_an_open_draft_of_the_client_is_extended(world, billing):
    # given a draft for the client
    first = closed_work_order(world)
    time_entry(first, at(MONDAY, "08:00"), 60)
    [draft] = _run(world)
    # when more work is closed and invoiced
    second = closed_work_order(world)
    time_entry(second, at(MONDAY, "13:00"), 30)
    [extended] = _run(world)
    # then
    assert extended.pk == draft.pk
    assert list(extended.lines.order_by("position").values_list("work_order_id", "position")) == [
        (first.pk, 1),
        (second.pk, 2),
    ]
    assert extended.total_net == D("120.00") and extended.version > draft.version


def test_new_facts_on_a_work_order_are_added_later(world, billing):
    # given an invoiced draft, then a charge recorded on the (still to invoice) work order
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    [draft] = _run(world)
    services.charge_add(actor=world.dispatcher, work_order_id=wo.pk, description="Disposal", unit_price="20")
    # when
    [again] = _run(world)
    # then
    assert again.pk == draft.pk
    assert [line.description for line in again.lines.order_by("position")] == ["Labour · Tom Technician", "Disposal"]


def test_work_is_split_by_client_and_currency(world, billing):
    # given two work orders of one client in EUR, one sold by a quote in USD, and one of another client
    wo1 = closed_work_order(world)
    time_entry(wo1, at(MONDAY, "08:00"), 60)
    wo2 = closed_work_order(world)
    time_entry(wo2, at(MONDAY, "10:00"), 30)
    wo3 = closed_work_order(world)
    quote = Quote.objects.create(
        organization=world.org, number="Q-1", client=world.client, title="Pump", currency="USD", status="accepted"
    )
    wo_billing(wo3, fixed_price=D("300.00"), quote=quote)
    wo4 = closed_work_order(world, equipment=world.other_equipment)
    time_entry(wo4, at(MONDAY, "08:00"), 60)
    # when
    invoices = _run(world)
    # then
    got = {(i.client_id, i.currency): sorted(i.lines.values_list("work_order_id", flat=True)) for i in invoices}
    assert got == {
        (world.client.pk, "EUR"): [wo1.pk, wo2.pk],
        (world.client.pk, "USD"): [wo3.pk],
        (world.other_client.pk, "EUR"): [wo4.pk],
    }
    assert {(i.client_id, i.currency): i.total_net for i in invoices} == {
        (world.client.pk, "EUR"): D("120.00"),
        (world.client.pk, "USD"): D("300.00"),
        (world.other_client.pk, "EUR"): D("80.00"),
    }


def test_work_is_split_by_tax_regime(world, billing):
    # given a draft in the standard regime, then the client switches to reverse charge
    wo1 = closed_work_order(world)
    time_entry(wo1, at(MONDAY, "08:00"), 60)
    [domestic] = _run(world)
    from .factories import TaxRateFactory

    reverse = TaxRateFactory(
        organization=world.org,
        category="AE",
        rate=D("0"),
        exemption_reason="Reverse charge",
        exemption_code="VATEX-EU-AE",
    )
    client_billing(world.client, tax_rate=reverse)
    wo2 = closed_work_order(world)
    time_entry(wo2, at(MONDAY, "10:00"), 60)
    # when
    [other] = _run(world)
    # then: a second draft, with the reverse-charge tax copied onto its line
    assert other.pk != domestic.pk
    line = other.lines.get()
    assert (line.tax_category, line.tax_rate, line.exemption_code) == ("AE", D("0"), "VATEX-EU-AE")


def test_only_closed_billable_work_waiting_to_be_invoiced_is_taken(world, billing):
    # given work completed but not reviewed, not billable, no charge, and one closed to invoice
    waiting = closed_work_order(world)
    completed = closed_work_order(world, status=Status.COMPLETED, closed_at=None, billing_status="not_billable")
    not_billable = closed_work_order(world, is_billable=False, billing_status="not_billable")
    no_charge = closed_work_order(world, billing_status="no_charge", no_charge_reason="Goodwill")
    for wo in (waiting, completed, not_billable, no_charge):
        time_entry(wo, at(MONDAY, "08:00"), 60)
    # when
    [invoice] = _run(world)
    # then
    assert set(invoice.lines.values_list("work_order_id", flat=True)) == {waiting.pk}


def test_non_billable_time_and_running_timers_are_left_out(world, billing):
    # given
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    time_entry(wo, at(MONDAY, "10:00"), 60, is_billable=False)
    TimeEntry.objects.create(
        organization=world.org, work_order=wo, technician=world.technician2.user, started_at=at(MONDAY, "12:00")
    )
    # when
    [invoice] = _run(world)
    # then
    assert invoice.lines.count() == 1


def test_one_client_or_closed_until_a_date(world, billing):
    # given work of two clients, one closed later
    early = closed_work_order(world)
    late = closed_work_order(world, closed=datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    other = closed_work_order(world, equipment=world.other_equipment)
    for wo in (early, late, other):
        time_entry(wo, at(MONDAY, "08:00"), 60)
    # when
    [mine] = _run(world, client_ids=[world.client.pk], until=date(2026, 3, 10))
    # then
    assert set(mine.lines.values_list("work_order_id", flat=True)) == {early.pk}
    waiting = {wo.pk: wo.is_on_draft for wo in selectors.billable_work(actor=world.accountant)}
    assert waiting == {early.pk: True, late.pk: False, other.pk: False}


def test_an_unknown_client_is_refused(world, other_world, billing):
    with pytest.raises(DomainError) as exc:
        _run(world, client_ids=[other_world.client.pk])
    assert exc.value.code == ErrorCode.VALIDATION and exc.value.field == "client_ids"


def test_one_time_entry_cannot_be_on_two_drafts(world, billing):
    # given a time entry on a draft
    wo = closed_work_order(world)
    entry = time_entry(wo, at(MONDAY, "08:00"), 60)
    [draft] = _run(world)
    second = Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="EUR")
    # when it is put on another draft, the database refuses
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(
            organization=world.org, invoice=second, time_entry=entry, work_order=wo, description="Again"
        )
    # and invoicing again finds nothing to add, to either draft
    assert _run(world) == []
    assert InvoiceLine.objects.filter(time_entry=entry).count() == 1


def test_missing_tax_rate_or_rate_is_refused_and_nothing_is_written(world):
    # given no billing configuration at all
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    # when / then
    with pytest.raises(DomainError) as exc:
        _run(world)
    assert exc.value.code == ErrorCode.VALIDATION and exc.value.field == "default_tax_rate"
    assert not Invoice.objects.exists()


def test_a_missing_rate_is_refused_naming_the_work_order(world, billing):
    billing.labour.delete()
    billing.travel.delete()
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    with pytest.raises(DomainError) as exc:
        _run(world)
    assert exc.value.message == f"{wo.number} (Stadtwerke): No labour rate: set one under Billing settings."
    assert not Invoice.objects.exists()


def test_a_currency_with_three_decimals_is_refused(world, billing):
    # given a client invoiced in Kuwaiti dinar
    client_billing(world.client, currency="KWD")
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    # when / then
    with pytest.raises(DomainError) as exc:
        _run(world)
    assert exc.value.field == "currency" and "at most 2 decimals" in exc.value.message
    assert not Invoice.objects.exists()


def test_a_zero_decimal_currency_is_invoiced_in_whole_units(world, billing):
    # given a client invoiced in yen, with a yen price list
    client_billing(world.client, currency="JPY", price_list=price_list(world, currency="JPY", labour=D("9999.50")))
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 45)
    # when
    [invoice] = _run(world)
    # then: 0.75 h × 9999.50 = 7499.625 → 7500; VAT 1425
    assert invoice.currency == "JPY"
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (D("7500"), D("1425"), D("8925"))


def test_invoicing_needs_the_invoices_capability(world, billing):
    for role in ("technician", "dispatcher", "client_user"):
        with pytest.raises(DomainError) as exc:
            services.invoice_closed_work(actor=getattr(world, role))
        assert exc.value.code == ErrorCode.PERMISSION_DENIED


# ---------------------------------------------------------------------------------------------
# drafts


def test_a_draft_can_be_edited_regenerated_and_deleted(world, billing):
    # given a draft with one generated line
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    [draft] = _run(world)
    # when a manual line is added at 7 %, the due date set and the generated line discounted
    manual = services.invoice_line_add(
        actor=world.accountant,
        invoice_id=draft.pk,
        data={"description": "Documentation", "quantity": "3", "unit_price": "0.333", "tax_rate_id": billing.vat7.pk},
    )
    services.invoice_update(actor=world.accountant, invoice_id=draft.pk, data={"due_date": "2026-12-31"})
    labour = draft.lines.get(kind=LineKind.LABOUR)
    services.invoice_line_update(
        actor=world.accountant, line_id=labour.pk, data={"discount_percent": "50", "discount_reason": "Goodwill"}
    )
    draft.refresh_from_db()
    # then: 3 × 0.333 = 0.999 → 1.00 at 7 %; 40.00 at 19 %
    assert manual.net_amount == D("1.00")
    assert draft.tax_breakdown == [
        {
            "category": "S",
            "rate": "19.00",
            "taxable": "40.00",
            "tax": "7.60",
            "exemption_reason": "",
            "exemption_code": "",
        },
        {
            "category": "S",
            "rate": "7.00",
            "taxable": "1.00",
            "tax": "0.07",
            "exemption_reason": "",
            "exemption_code": "",
        },
    ]
    assert (draft.total_net, draft.total_tax, draft.total_gross) == (D("41.00"), D("7.67"), D("48.67"))
    assert draft.due_date == date(2026, 12, 31)

    # when the organization's rate changes and the draft is regenerated
    billing.labour.unit_price = D("90.00")
    billing.labour.save()
    services.invoice_regenerate(actor=world.accountant, invoice_id=draft.pk)
    # then: the generated line is priced afresh (the discount given by hand is gone), the manual line stays
    assert [(line.description, line.net_amount) for line in draft.lines.order_by("position")] == [
        ("Documentation", D("1.00")),
        ("Labour · Tom Technician", D("90.00")),
    ]
    # when a line is removed and the draft deleted
    services.invoice_line_remove(actor=world.accountant, line_id=manual.pk)
    services.invoice_delete(actor=world.accountant, invoice_id=draft.pk)
    # then the work can be invoiced again
    assert not Invoice.objects.exists()
    [fresh] = _run(world)
    assert fresh.lines.count() == 1


def test_a_stale_draft_edit_is_refused(world, billing):
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    [draft] = _run(world)
    with pytest.raises(DomainError) as exc:
        services.invoice_update(
            actor=world.accountant, invoice_id=draft.pk, data={"note": "x"}, expected_version=draft.version - 1
        )
    assert exc.value.code == ErrorCode.STALE_VERSION


def test_a_manual_line_needs_a_description_quantity_and_price(world, billing):
    draft = Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="EUR")
    with pytest.raises(DomainError) as exc:
        services.invoice_line_add(actor=world.accountant, invoice_id=draft.pk, data={"description": "X"})
    assert exc.value.field == "quantity"
    with pytest.raises(DomainError) as exc:
        services.invoice_line_add(
            actor=world.accountant,
            invoice_id=draft.pk,
            data={"description": "X", "quantity": "1", "unit_price": "5", "discount_percent": "10"},
        )
    assert exc.value.field == "discount_reason"
    assert not draft.lines.exists()


# ---------------------------------------------------------------------------------------------
# charges and the facts on drafts


def test_charges_are_recorded_by_the_assigned_technician_and_refused_once_invoiced(world, billing):
    # given
    wo = closed_work_order(world)
    # when the lead technician records an expense
    expense = services.charge_add(
        actor=world.technician, work_order_id=wo.pk, description="Parking", unit_price="7.50", incurred_on="2026-03-02"
    )
    # then
    assert (expense.kind, expense.unit_price, expense.created_by) == ("expense", D("7.50"), world.technician.user)
    # and another technician may not
    with pytest.raises(DomainError) as exc:
        services.charge_add(actor=world.technician2, work_order_id=wo.pk, description="X", unit_price="1")
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    # when it is on a draft, it cannot be deleted
    _run(world)
    with pytest.raises(DomainError) as exc:
        services.charge_delete(actor=world.dispatcher, charge_id=expense.pk)
    assert exc.value.code == ErrorCode.CONFLICT and "draft invoice" in exc.value.message


def test_time_on_a_draft_cannot_be_deleted(world, billing):
    # given a reopened work order whose time is on a draft
    wo = closed_work_order(world)
    entry = time_entry(wo, at(MONDAY, "08:00"), 60)
    _run(world)
    WorkOrder.objects.filter(pk=wo.pk).update(status=Status.IN_PROGRESS, billing_status="not_billable")
    # when / then
    with pytest.raises(DomainError) as exc:
        service_services.time_entry_delete(actor=world.dispatcher, time_entry_id=entry.pk)
    assert exc.value.code == ErrorCode.CONFLICT
    assert exc.value.message == "This time entry is on a draft invoice: remove its line there first."


# ---------------------------------------------------------------------------------------------
# revenue leakage


def test_leakage_lists_old_unbilled_work_with_its_value_and_accepted_quotes(world, billing):
    # given work closed 30 days ago, work closed yesterday, and an accepted quote not converted
    from fixflow.core import clock

    old = closed_work_order(world, closed=clock.now() - timedelta(days=30))
    time_entry(old, at(MONDAY, "08:00"), 90)
    closed_work_order(world, closed=clock.now() - timedelta(days=1))
    quote = Quote.objects.create(
        organization=world.org, number="Q-7", client=world.client, title="Pump", currency="EUR", status="accepted"
    )
    # when
    report = selectors.leakage_report(actor=world.accountant)
    # then
    assert [(u.work_order, u.days_waiting, u.estimate, u.currency) for u in report.unbilled] == [
        (old, 30, D("120.00"), "EUR")
    ]
    assert report.quotes_not_converted == [quote]
    assert report.late_facts == []
    # and nothing for a technician
    assert selectors.leakage_report(actor=world.technician).is_empty


def test_leakage_lists_time_recorded_after_the_work_was_invoiced(world, billing):
    # given an invoiced work order (issued) and time recorded on it afterwards, bypassing the services
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    [draft] = _run(world)
    Invoice.objects.filter(pk=draft.pk).update(
        status=InvoiceStatus.ISSUED, number="INV-2026-00001", issue_date=date(2026, 3, 5)
    )
    WorkOrder.objects.filter(pk=wo.pk).update(billing_status=BillingStatus.INVOICED)
    late = time_entry(wo, at("2026-03-04", "08:00"), 30)
    # when
    report = selectors.leakage_report(actor=world.accountant)
    # then
    assert [(f.kind, f.fact_id, f.work_order) for f in report.late_facts] == [("time", late.pk, wo)]


def test_client_users_see_only_their_own_issued_invoices(world, billing):
    mine = Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="EUR")
    Invoice.objects.filter(pk=mine.pk).update(status="issued", number="INV-1", issue_date=date(2026, 3, 5))
    Invoice.objects.create(organization=world.org, series="INV", client=world.client, currency="EUR")  # a draft
    theirs = Invoice.objects.create(organization=world.org, series="INV", client=world.other_client, currency="EUR")
    Invoice.objects.filter(pk=theirs.pk).update(status="issued", number="INV-2", issue_date=date(2026, 3, 5))
    assert list(selectors.invoice_queryset(actor=world.client_user)) == [mine]
    assert selectors.invoice_queryset(actor=world.accountant).count() == 3
    assert not selectors.invoice_queryset(actor=world.technician).exists()
    with pytest.raises(DomainError) as exc:
        selectors.invoice_get(actor=world.client_user, pk=theirs.pk)
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_a_site_level_work_order_of_another_client_is_invoiced_to_that_client(world, billing):
    client = ClientFactory(organization=world.org, name="Hotel Adler")
    site = SiteFactory(client=client, name="Lobby")
    wo = closed_work_order(world, site=site)
    time_entry(wo, at(MONDAY, "08:00"), 60)
    [invoice] = _run(world)
    assert invoice.client == client
