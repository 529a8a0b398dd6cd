"""The billing maths (DOMAIN.md §4 "Tests" and rules 2–4, 7, 10), with exact amounts worked out by hand.

No database: ``billing.calculations`` is pure. Amounts are written as strings so every expected value
shows its decimals (``Decimal("1.00")`` and ``Decimal("1")`` are equal, but the JSON and the documents
print them differently, so the tests compare ``str`` where the form matters).
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fixflow.billing import calculations as calc
from fixflow.billing.calculations import (
    Coverage,
    LabourSplit,
    Line,
    RateCandidate,
    TaxGroup,
    billable_minutes,
    breakdown_from_json,
    breakdown_to_json,
    check_currency,
    check_payment,
    check_tax,
    contract_period,
    cover_labour,
    hours,
    labour_amounts,
    labour_split,
    line_amounts,
    line_net,
    overtime_price,
    part_price,
    payment_status,
    quantize,
    quantize_price,
    resolve_rate,
    split_covered,
    split_overtime,
    tax_breakdown,
    totals,
)
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.sla.clock import TWENTY_FOUR_SEVEN, Calendar

D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
EXEMPT = "Steuerfrei nach § 4 Nr. 21 UStG"
REVERSE = "Reverse charge"


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def refused(excinfo) -> DomainError:
    error = excinfo.value
    assert error.code == ErrorCode.VALIDATION
    return error


# ---------------------------------------------------------------------------------------------
# money and currencies


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.005", "EUR", "0.01"),  # half up, not to even
        ("0.125", "EUR", "0.13"),  # banker's rounding would give 0.12
        ("0.0049999", "EUR", "0.00"),
        ("-0.005", "EUR", "-0.01"),  # half away from zero: a credit rounds like a debit
        ("-0.004", "EUR", "0.00"),  # never "-0.00"
        ("100", "EUR", "100.00"),
        ("1000.5", "JPY", "1001"),
        ("999.49", "JPY", "999"),
        ("1.2345", "KWD", "1.235"),  # quantize knows 3-decimal currencies; documents refuse them
        (7, "CHF", "7.00"),
    ],
)
def test_quantize_rounds_half_up_to_the_currencys_minor_unit(amount, currency, expected):
    assert str(quantize(amount, currency)) == expected


def test_floats_are_refused_as_money():
    with pytest.raises(TypeError):
        quantize(0.1, "EUR")
    with pytest.raises(TypeError):
        line_net(1, 0.1, 0, "EUR")


def test_prices_keep_four_decimals():
    assert str(quantize_price("12.33335")) == "12.3334"
    assert str(quantize_price(5)) == "5.0000"


@pytest.mark.parametrize(("code", "places"), [("EUR", 2), ("CHF", 2), ("JPY", 0), ("ISK", 0)])
def test_currencies_with_up_to_two_decimals_can_be_invoiced(code, places):
    assert check_currency(code) == places


@pytest.mark.parametrize("code", ["BHD", "KWD", "TND"])
def test_a_three_decimal_currency_is_refused_for_invoicing(code):
    with pytest.raises(DomainError) as excinfo:
        check_currency(code)
    error = refused(excinfo)
    assert error.message == f"{code} cannot be invoiced: EN 16931 allows at most 2 decimals and {code} has 3."
    assert error.field == "currency"
    with pytest.raises(DomainError):
        line_net(1, "1.000", 0, code)
    with pytest.raises(DomainError):
        totals([Line(D("1.000"), "S", D(19))], code)


@pytest.mark.parametrize("code", ["XYZ", "eur", "", None])
def test_an_unknown_currency_is_refused(code):
    with pytest.raises(DomainError) as excinfo:
        check_currency(code)
    assert refused(excinfo).field == "currency"
    with pytest.raises(DomainError):
        quantize(1, code)


# ---------------------------------------------------------------------------------------------
# lines


def test_three_times_0_333_at_19_percent_is_1_19():
    # given one line: 3 × 0.333 = 0.999, rounded once per line
    net = line_net(3, "0.333", 0, "EUR")
    # when
    result = totals([Line(net, "S", D("19"))], "EUR")
    # then
    assert str(net) == "1.00"
    assert (str(result.total_net), str(result.total_tax), str(result.total_gross)) == ("1.00", "0.19", "1.19")
    assert str(result.amount_due) == "1.19"


def test_three_lines_of_0_333_are_rounded_each_and_vat_once_per_group():
    # given three lines of 1 × 0.333: each rounds to 0.33
    lines = [Line(line_net(1, "0.333", 0, "EUR"), "S", D("19")) for _ in range(3)]
    # when
    result = totals(lines, "EUR")
    # then: 0.99 net; VAT 0.99 × 19 % = 0.1881 → 0.19 on the group
    assert (str(result.total_net), str(result.total_tax), str(result.total_gross)) == ("0.99", "0.19", "1.18")


def test_vat_is_computed_on_the_group_not_summed_from_lines():
    # given three lines of 0.35 at 19 %: per line 0.0665 → 0.07, summed 0.21
    lines = [Line(D("0.35"), "S", D("19"))] * 3
    # then: per group 1.05 × 19 % = 0.1995 → 0.20 (BR-CO-17)
    assert str(totals(lines, "EUR").total_tax) == "0.20"


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "gross", "allowance", "net"),
    [
        ("2.5", "68.40", "0", "171.00", "0.00", "171.00"),
        ("3", "12.3333", "0", "37.00", "0.00", "37.00"),
        ("1", "10.05", "10", "10.05", "1.00", "9.05"),  # 9.045 → 9.05 half up
        ("0.3333", "80", "0", "26.66", "0.00", "26.66"),  # 26.664
        ("4", "80", "100", "320.00", "320.00", "0.00"),  # covered: the value stays visible
        ("-1", "19.99", "0", "-19.99", "0.00", "-19.99"),  # a deduction line
        ("1", "0.004", "0", "0.00", "0.00", "0.00"),
    ],
)
def test_line_amounts(quantity, price, discount, gross, allowance, net):
    amounts = line_amounts(quantity, price, discount, "EUR")
    assert (str(amounts.gross), str(amounts.discount), str(amounts.net)) == (gross, allowance, net)
    assert amounts.gross - amounts.discount == amounts.net


def test_the_line_net_is_rounded_once_from_the_exact_value():
    # 3 × 3.335 = 10.005, less 50 % = 5.0025 → 5.00; rounding the gross first (10.01 / 2 = 5.005 → 5.01)
    # would lose more than half a cent.
    amounts = line_amounts(3, "3.335", 50, "EUR")
    assert (str(amounts.gross), str(amounts.discount), str(amounts.net)) == ("10.01", "5.01", "5.00")


@pytest.mark.parametrize("discount", ["-1", "100.01"])
def test_a_discount_outside_0_to_100_percent_is_refused(discount):
    with pytest.raises(DomainError) as excinfo:
        line_net(1, 10, discount, "EUR")
    assert refused(excinfo).field == "discount_percent"


def test_line_nets_must_be_rounded_before_totals():
    with pytest.raises(ValueError, match="not rounded"):
        totals([Line(D("1.001"), "S", D(19))], "EUR")
    with pytest.raises(ValueError, match="not rounded"):
        tax_breakdown([Line(D("0.5"), "S", D(10))], "JPY")


# ---------------------------------------------------------------------------------------------
# VAT breakdown and totals


def mixed_lines() -> list[Line]:
    return [
        Line(line_net("2.5", "68.40", 0, "EUR"), "S", D("19"), label="Labour"),  # 171.00
        Line(line_net(3, "12.3333", 0, "EUR"), "S", D("19.00"), label="Filter"),  # 37.00
        Line(line_net(2, "9.99", 0, "EUR"), "S", D("7"), label="Manual"),  # 19.98
        Line(line_net(1, 50, 0, "EUR"), "E", D("0"), EXEMPT, label="Training"),  # 50.00
        Line(line_net(1, "10.05", 10, "EUR"), "S", D("7"), label="Booklet"),  # 9.05
    ]


def test_mixed_rates_and_exempt_lines():
    # when
    result = totals(mixed_lines(), "EUR")
    # then: one group per (category, rate), by category then rate descending
    assert [(g.category, str(g.rate), str(g.taxable), str(g.tax)) for g in result.breakdown] == [
        ("E", "0.00", "50.00", "0.00"),
        ("S", "19.00", "208.00", "39.52"),  # 208.00 × 19 % = 39.52
        ("S", "7.00", "29.03", "2.03"),  # 29.03 × 7 % = 2.0321
    ]
    assert result.breakdown[0].exemption_reason == EXEMPT
    assert str(result.line_total) == "287.03"
    assert (str(result.total_net), str(result.total_tax), str(result.total_gross)) == ("287.03", "41.55", "328.58")
    check_tax(mixed_lines(), buyer_vat_id="", seller_vat_id="DE123456789")


def test_the_breakdown_json_has_the_leads_format_and_reads_back():
    result = totals([Line(D("100.00"), "S", D("19"))], "EUR")
    data = result.breakdown_json()
    assert data == [
        {
            "category": "S",
            "rate": "19.00",
            "taxable": "100.00",
            "tax": "19.00",
            "exemption_reason": "",
            "exemption_code": "",
        }
    ]
    assert breakdown_from_json(data) == list(result.breakdown)
    mixed = totals(mixed_lines(), "EUR").breakdown
    assert breakdown_from_json(breakdown_to_json(mixed)) == list(mixed)


def test_standard_and_zero_rated_groups_carry_no_exemption_reason():
    groups = tax_breakdown([Line(D("10.00"), "S", D(19), "stray"), Line(D("5.00"), "Z", D(0), "stray")], "EUR")
    assert [(g.category, g.exemption_reason) for g in groups] == [("S", ""), ("Z", "")]


def test_paid_amount_and_amount_due():
    result = totals([Line(D("100.00"), "S", D(19))], "EUR", paid="50.00")
    assert (str(result.total_gross), str(result.amount_paid), str(result.amount_due)) == ("119.00", "50.00", "69.00")
    with pytest.raises(ValueError):
        totals([Line(D("100.00"), "S", D(19))], "EUR", paid="0.001")


def test_no_lines_total_zero():
    result = totals([], "EUR")
    assert (str(result.total_net), str(result.total_gross), result.breakdown) == ("0.00", "0.00", ())


def test_a_zero_decimal_currency_is_handled():
    # given JPY: 3 × 333.5 = 1000.5 → 1001 yen; 480 yen at the 8 % reduced rate
    lines = [Line(line_net(3, "333.5", 0, "JPY"), "S", D(10)), Line(line_net(1, 480, 0, "JPY"), "S", D(8))]
    # when
    result = totals(lines, "JPY")
    # then: 1001 × 10 % = 100.1 → 100; 480 × 8 % = 38.4 → 38; whole yen throughout
    assert [(str(g.taxable), str(g.tax)) for g in result.breakdown] == [("1001", "100"), ("480", "38")]
    assert (str(result.total_net), str(result.total_tax), str(result.total_gross)) == ("1481", "138", "1619")
    assert result.breakdown_json()[0]["taxable"] == "1001"


def test_reverse_charge_totals_no_vat():
    lines = [Line(D("1000.00"), "AE", D(0), REVERSE, "VATEX-EU-AE")]
    check_tax(lines, buyer_vat_id="ATU12345678", seller_vat_id="DE123456789")
    result = totals(lines, "EUR")
    assert (str(result.total_tax), str(result.total_gross)) == ("0.00", "1000.00")
    assert result.breakdown[0] == TaxGroup("AE", D("0.00"), D("1000.00"), D("0.00"), REVERSE, "VATEX-EU-AE")


# ---------------------------------------------------------------------------------------------
# VAT validation


def test_reverse_charge_without_the_buyers_vat_id_is_refused():
    lines = [Line(D("100.00"), "S", D(19)), Line(D("500.00"), "AE", D(0), REVERSE, "VATEX-EU-AE", label="Repair")]
    for missing in ("", "  ", None):
        with pytest.raises(DomainError) as excinfo:
            check_tax(lines, buyer_vat_id=missing)
        error = refused(excinfo)
        assert error.message == (
            "Line 2 (Repair): reverse charge needs the client's VAT id; add it on the client's billing details."
        )
        assert error.field == "vat_id"
        assert error.details == {"line": 2, "rule": "BR-AE-02"}


@pytest.mark.parametrize(
    ("line", "field", "rule", "message"),
    [
        (Line(D(1), "S", D(0)), "tax_rate", "BR-S-05", "standard-rated VAT needs a rate above 0 %"),
        (Line(D(1), "Z", D(7)), "tax_rate", "BR-Z-05", "zero-rated VAT (category Z) has a VAT rate of 0 %"),
        (Line(D(1), "E", D(19), EXEMPT), "tax_rate", "BR-E-05", "VAT exemption (category E) has a VAT rate of 0 %"),
        (Line(D(1), "E", D(0)), "exemption_reason", "BR-E-10", "VAT exemption needs an exemption reason or code"),
        (Line(D(1), "G", D(0), " "), "exemption_reason", "BR-G-10", "export outside the EU needs an exemption"),
        (Line(D(1), "K", D(0), "IC"), "vat_id", "BR-IC-02", "intra-community supply needs the client's VAT id"),
        (Line(D(1), "X", D(0)), "tax_category", "BT-151", "'X' is not a VAT category"),
        (Line(D(1), "S", D(101)), "tax_rate", "BT-152", "a VAT rate is between 0 and 100 %"),
        (Line(D(1), "S", D(-7)), "tax_rate", "BT-152", "a VAT rate is between 0 and 100 %"),
        (Line(D(1), "S", D("19.005")), "tax_rate", "BT-152", "a VAT rate has at most 2 decimals"),
    ],
)
def test_tax_rules_per_line(line, field, rule, message):
    with pytest.raises(DomainError) as excinfo:
        check_tax([Line(D(1), "S", D(19)), line], buyer_vat_id="")
    error = refused(excinfo)
    assert (error.field, error.details) == (field, {"line": 2, "rule": rule})
    assert error.message.startswith("Line 2: ")
    assert message in error.message


def test_an_exemption_code_alone_is_enough():
    check_tax([Line(D(1), "E", D(0), exemption_code="VATEX-EU-132")], buyer_vat_id="")


def test_lines_of_one_exempt_category_must_share_the_exemption_reason():
    lines = [Line(D(1), "E", D(0), EXEMPT), Line(D(1), "E", D(0), "§ 4 Nr. 8 UStG")]
    with pytest.raises(DomainError) as excinfo:
        check_tax(lines, buyer_vat_id="")
    assert refused(excinfo).details == {"line": 2, "rule": "BR-E-08"}


def test_outside_the_scope_of_vat_cannot_be_mixed_with_other_categories():
    check_tax([Line(D(1), "O", D(0), "Not subject to VAT")] * 2, buyer_vat_id="")
    with pytest.raises(DomainError) as excinfo:
        check_tax([Line(D(1), "O", D(0), "Not subject to VAT"), Line(D(1), "S", D(19))], buyer_vat_id="")
    error = refused(excinfo)
    assert (error.field, error.details) == ("tax_category", {"rule": "BR-O-11"})


def test_seller_identifiers_are_checked_when_given():
    standard = [Line(D(1), "S", D(19))]
    check_tax(standard, buyer_vat_id="")  # not given: not checked
    check_tax(standard, buyer_vat_id="", seller_vat_id="", seller_tax_number="143/123/45678")
    with pytest.raises(DomainError) as excinfo:
        check_tax(standard, buyer_vat_id="", seller_vat_id="", seller_tax_number="")
    assert refused(excinfo).details["rule"] == "BR-S-02"
    export = [Line(D(1), "G", D(0), "Export")]
    with pytest.raises(DomainError) as excinfo:
        check_tax(export, buyer_vat_id="", seller_vat_id="", seller_tax_number="143/123/45678")
    assert refused(excinfo).details["rule"] == "BR-G-02"


def test_the_category_sets_match_the_model_choices():
    from fixflow.billing import choices

    assert {c.value for c in choices.VatCategory} == calc.VAT_CATEGORIES
    assert choices.ZERO_RATE_CATEGORIES == calc.ZERO_RATE_CATEGORIES
    assert choices.EXEMPTION_REASON_REQUIRED == calc.ZERO_RATE_CATEGORIES
    assert choices.BUYER_VAT_ID_REQUIRED == calc.BUYER_VAT_ID_REQUIRED
    assert {calc.ISSUED, calc.PARTIALLY_PAID, calc.PAID} <= {s.value for s in choices.InvoiceStatus}
    assert set(calc.PERIOD_MONTHS) == {p.value for p in choices.ContractPeriod}


# ---------------------------------------------------------------------------------------------
# labour rounding and overtime

ROUNDING = [
    # (minutes, minimum, increment, billed)
    (0, 15, 15, 0),
    (1, 15, 15, 15),
    (14, 15, 15, 15),
    (15, 15, 15, 15),
    (16, 15, 15, 30),
    (29, 15, 15, 30),
    (30, 15, 15, 30),
    (31, 15, 15, 45),
    (61, 15, 15, 75),
    (240, 15, 15, 240),
    (10, 60, 15, 60),  # a one-hour minimum
    (61, 60, 15, 75),
    (5, 20, 15, 30),  # the minimum first (20), then up to the increment
    (7, 0, 1, 7),  # no rounding
    (7, 0, 5, 10),
    (0, 60, 15, 0),  # no time stays no time
]


@pytest.mark.parametrize(("minutes", "minimum", "increment", "billed"), ROUNDING)
def test_labour_rounding_table(minutes, minimum, increment, billed):
    assert billable_minutes(minutes, minimum, increment) == billed


def test_labour_rounding_defaults_to_15_and_15():
    assert billable_minutes(1) == 15


@pytest.mark.parametrize(("minutes", "minimum", "increment"), [(-1, 15, 15), (1, -1, 15), (1, 15, 0)])
def test_labour_rounding_refuses_nonsense(minutes, minimum, increment):
    with pytest.raises(ValueError):
        billable_minutes(minutes, minimum, increment)


# Monday to Friday 08:00–17:00 in Berlin; 25 December 2026 (a Friday) is a holiday.
OFFICE = Calendar(
    timezone="Europe/Berlin", week=(((480, 1020),),) * 5 + ((), ()), holidays=frozenset({date(2026, 12, 25)})
)
# Every night 22:00–06:00 (two intervals a day).
NIGHTS = Calendar(timezone="Europe/Berlin", week=(((0, 360), (1320, 1440)),) * 7)
HOUR = 3600

# March 2026: Tue 24, Fri 27, Sat 28, Sun 29 (clocks go forward 02:00 → 03:00). October: Sat 24, Sun 25
# (clocks go back 03:00 → 02:00).
OVERTIME_CASES = [
    (OFFICE, (2026, 3, 24, 9, 0), (2026, 3, 24, 11, 0), 2 * HOUR, 0, "inside working hours"),
    (OFFICE, (2026, 3, 24, 16, 0), (2026, 3, 24, 18, 30), HOUR, HOUR * 3 // 2, "past closing time"),
    (OFFICE, (2026, 3, 24, 6, 30), (2026, 3, 24, 8, 15), HOUR // 4, HOUR * 3 // 2, "before opening"),
    (OFFICE, (2026, 3, 24, 22, 0), (2026, 3, 25, 3, 0), 0, 5 * HOUR, "across midnight"),
    (OFFICE, (2026, 3, 24, 22, 0), (2026, 3, 25, 9, 0), HOUR, 10 * HOUR, "overnight into the next morning"),
    (OFFICE, (2026, 3, 27, 16, 0), (2026, 3, 28, 2, 0), HOUR, 9 * HOUR, "Friday into Saturday"),
    (OFFICE, (2026, 3, 28, 20, 0), (2026, 3, 29, 8, 0), 0, 11 * HOUR, "weekend night, spring DST: 11 real hours"),
    (OFFICE, (2026, 10, 24, 20, 0), (2026, 10, 25, 8, 0), 0, 13 * HOUR, "weekend night, autumn DST: 13 hours"),
    (OFFICE, (2026, 3, 28, 22, 0), (2026, 3, 30, 10, 0), 2 * HOUR, 33 * HOUR, "the DST weekend into Monday"),
    (OFFICE, (2026, 12, 25, 10, 0), (2026, 12, 25, 12, 0), 0, 2 * HOUR, "a holiday is overtime"),
    (NIGHTS, (2026, 3, 28, 21, 0), (2026, 3, 29, 7, 0), 7 * HOUR, 2 * HOUR, "night shift, spring: 22–06 is 7 h"),
    (NIGHTS, (2026, 10, 24, 21, 0), (2026, 10, 25, 7, 0), 9 * HOUR, 2 * HOUR, "night shift, autumn: 22–06 is 9 h"),
]


@pytest.mark.parametrize(
    ("calendar", "start", "end", "normal", "overtime", "why"), OVERTIME_CASES, ids=[c[-1] for c in OVERTIME_CASES]
)
def test_overtime_is_the_time_outside_the_calendar(calendar, start, end, normal, overtime, why):
    assert split_overtime(berlin(*start), berlin(*end), calendar) == (normal, overtime), why


def test_overtime_counts_in_the_calendars_zone_whatever_zone_the_instants_are_in():
    # 15:00–17:30 UTC on a March Tuesday is 16:00–18:30 in Berlin
    start, end = datetime(2026, 3, 24, 15, 0, tzinfo=UTC), datetime(2026, 3, 24, 17, 30, tzinfo=UTC)
    assert split_overtime(start, end, OFFICE) == (HOUR, HOUR * 3 // 2)


@pytest.mark.parametrize("calendar", [TWENTY_FOUR_SEVEN, None])
def test_a_24x7_calendar_or_none_has_no_overtime(calendar):
    start = berlin(2026, 3, 28, 20, 0)
    assert split_overtime(start, berlin(2026, 3, 29, 8, 0), calendar) == (11 * HOUR, 0)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        split_overtime(datetime(2026, 3, 24, 9), datetime(2026, 3, 24, 10), OFFICE)


SPLIT_CASES = [
    # (start, end, recorded, billed, normal, overtime, why)
    ((2026, 3, 24, 9, 0), (2026, 3, 24, 9, 5), 5, 15, 15, 0, "a short job: the minimum"),
    ((2026, 3, 24, 16, 50), (2026, 3, 24, 17, 20), 30, 30, 10, 20, "across closing, nothing to round"),
    ((2026, 3, 24, 16, 52), (2026, 3, 24, 17, 34), 42, 45, 11, 34, "the 3 rounded minutes go to normal time"),
    ((2026, 3, 28, 10, 0), (2026, 3, 28, 10, 20), 20, 30, 0, 30, "all overtime: rounding included"),
    ((2026, 3, 24, 7, 59), (2026, 3, 24, 9, 59), 120, 120, 119, 1, "one minute early"),
    ((2026, 3, 28, 22, 0), (2026, 3, 29, 4, 10), 310, 315, 0, 315, "a DST night: 6 h 10 on the clock, 5 h 10 real"),
]


@pytest.mark.parametrize(
    ("start", "end", "recorded", "billed", "normal", "overtime", "why"), SPLIT_CASES, ids=[c[-1] for c in SPLIT_CASES]
)
def test_rounding_applies_to_the_whole_entry_and_the_extra_goes_to_normal_time(
    start, end, recorded, billed, normal, overtime, why
):
    split = labour_split(started_at=berlin(*start), ended_at=berlin(*end), calendar=OFFICE)
    assert split == LabourSplit(recorded, billed, normal, overtime), why


def test_a_duration_without_times_is_normal_time():
    assert labour_split(duration_minutes=50) == LabourSplit(50, 60, 60, 0)
    assert labour_split(duration_minutes=0) == LabourSplit(0, 0, 0, 0)


def test_the_stored_duration_wins_over_start_and_end():
    # 16:00–18:00 (1 h overtime), but the technician recorded only 90 minutes
    split = labour_split(
        started_at=berlin(2026, 3, 24, 16, 0), ended_at=berlin(2026, 3, 24, 18, 0), duration_minutes=90, calendar=OFFICE
    )
    assert split == LabourSplit(90, 90, 30, 60)


def test_a_running_timer_cannot_be_billed():
    with pytest.raises(ValueError):
        labour_split(started_at=berlin(2026, 3, 24, 9, 0), calendar=OFFICE)


def test_hours_and_overtime_prices():
    assert [str(hours(m)) for m in (15, 20, 60, 90, 11)] == ["0.2500", "0.3333", "1.0000", "1.5000", "0.1833"]
    assert str(overtime_price("80", "1.5")) == "120.0000"
    assert str(overtime_price("66.6667", "1.25")) == "83.3334"
    with pytest.raises(DomainError):
        overtime_price(80, "0.5")


def test_labour_amounts_price_normal_time_and_overtime():
    # given 16:52–17:34: 45 min billed, 11 normal, 34 overtime, at 80/h and 1.5× overtime
    split = LabourSplit(42, 45, 11, 34)
    # when
    lines = labour_amounts(split, unit_price="80", unit_cost="35", overtime_multiplier="1.5", currency="EUR")
    # then: 0.1833 h × 80 = 14.664 → 14.66; 0.5667 h × 120 = 68.004 → 68.00
    assert [(x.minutes, str(x.quantity), str(x.unit_price), str(x.net), x.is_overtime) for x in lines] == [
        (11, "0.1833", "80.0000", "14.66", False),
        (34, "0.5667", "120.0000", "68.00", True),
    ]
    assert all(line.unit_cost == D("35.0000") and not line.is_covered for line in lines)


def test_contract_with_10_included_hours_8_used_and_a_4_hour_job():
    # given 10 h included, 8 h used this period, a 4 h job in working hours at 80/h
    split = labour_split(started_at=berlin(2026, 3, 24, 9, 0), ended_at=berlin(2026, 3, 24, 13, 0), calendar=OFFICE)
    coverage = split_covered(split.billed_minutes, remaining_included=10 * 60 - 8 * 60)
    # when
    lines = labour_amounts(split, unit_price=80, currency="EUR", covered_minutes=coverage.covered_minutes)
    # then: 2 h covered (100 % discount, the value visible) and 2 h billed
    assert coverage == Coverage(120, 120)
    covered, billed = lines
    assert (covered.minutes, str(covered.quantity), str(covered.discount_percent), str(covered.net)) == (
        120,
        "2.0000",
        "100",
        "0.00",
    )
    assert covered.is_covered and str(line_amounts(covered.quantity, covered.unit_price, 0, "EUR").net) == "160.00"
    assert (billed.minutes, str(billed.net), billed.is_covered) == (120, "160.00", False)
    result = totals([Line(line.net, "S", D(19)) for line in lines], "EUR")
    assert (str(result.total_net), str(result.total_tax), str(result.total_gross)) == ("160.00", "30.40", "190.40")


def test_covered_minutes_come_off_normal_time_first():
    lines = labour_amounts(
        LabourSplit(60, 60, 30, 30),
        unit_price=80,
        overtime_multiplier=2,
        currency="EUR",
        covered_minutes=45,
        discount_percent=10,
    )
    assert [(x.minutes, x.is_overtime, x.is_covered, str(x.discount_percent), str(x.net)) for x in lines] == [
        (30, False, True, "100", "0.00"),
        (15, True, True, "100", "0.00"),
        (15, True, False, "10", "36.00"),  # 0.25 h × 160 = 40.00, less 10 %
    ]
    with pytest.raises(ValueError):
        labour_amounts(LabourSplit(60, 60, 60, 0), unit_price=80, currency="EUR", covered_minutes=61)


# ---------------------------------------------------------------------------------------------
# rates and part prices


def candidates() -> dict:
    return {
        "work_order_override": RateCandidate(D("95"), None),
        "contract": RateCandidate(D("70"), D("38"), "Wartung 2026"),
        "client_price_list": RateCandidate(D("75"), D("37"), "Industry"),
        "rate_class": RateCandidate(D("85"), D("40"), "Senior engineer"),
        "default": RateCandidate(D("80"), D("35")),
    }


@pytest.mark.parametrize(
    ("absent", "price", "cost", "source"),
    [
        ((), "95.0000", "38.0000", "work order"),  # an override has no cost: the contract's
        (("work_order_override",), "70.0000", "38.0000", "contract Wartung 2026"),
        (("work_order_override", "contract"), "75.0000", "37.0000", "price list Industry"),
        (("work_order_override", "contract", "client_price_list"), "85.0000", "40.0000", "rate class Senior engineer"),
        (("work_order_override", "contract", "client_price_list", "rate_class"), "80.0000", "35.0000", "organization"),
    ],
)
def test_rates_resolve_in_the_order_of_rule_2(absent, price, cost, source):
    given = {name: value for name, value in candidates().items() if name not in absent}
    resolved = resolve_rate("labour", **given)
    assert (str(resolved.price), str(resolved.cost), resolved.source) == (price, cost, source)


def test_an_override_alone_costs_nothing():
    assert resolve_rate("travel", work_order_override=RateCandidate(D("50"))) == (D("50"), D(0), "work order")


def test_no_rate_at_all_is_refused():
    with pytest.raises(DomainError) as excinfo:
        resolve_rate(
            "labour", work_order_override=None, contract=None, client_price_list=None, rate_class=None, default=None
        )
    assert refused(excinfo).message == "No labour rate: set one under Billing settings."


@pytest.mark.parametrize(
    ("given", "price", "source"),
    [
        ({"list_price": "12.50", "sale_price": "15", "unit_cost": "9"}, "12.5000", "price list Industry"),
        ({"list_price": "0", "sale_price": "15", "unit_cost": "9"}, "0.0000", "price list Industry"),  # given away
        ({"sale_price": "15", "unit_cost": "9"}, "15.0000", "catalogue"),
        ({"sale_price": "0", "unit_cost": "10.00"}, "13.0000", "cost + 30 % markup"),
        ({"unit_cost": "0.3333", "markup_percent": "33.33"}, "0.4444", "cost + 33.33 % markup"),  # 0.44438889
        ({"unit_cost": None}, "0.0000", "cost + 30 % markup"),
    ],
)
def test_part_prices_follow_rule_4(given, price, source):
    given = {"markup_percent": "30.00", "price_list_name": "Industry", **given}
    result = part_price(**given)
    assert (str(result.price), result.source) == (price, source)


# ---------------------------------------------------------------------------------------------
# contracts


def test_included_time_covers_entries_in_order():
    assert cover_labour([120, 240, 60], 300) == [120, 180, 0]
    assert cover_labour([120, 240], 0) == [0, 0]
    assert cover_labour([120], -30) == [0]  # already overused
    assert cover_labour([], 600) == []


@pytest.mark.parametrize(
    ("valid_from", "period", "day", "expected"),
    [
        (date(2026, 1, 1), "year", date(2026, 12, 31), (date(2026, 1, 1), date(2027, 1, 1))),
        (date(2026, 1, 1), "year", date(2027, 1, 1), (date(2027, 1, 1), date(2028, 1, 1))),
        (date(2025, 7, 15), "year", date(2026, 3, 24), (date(2025, 7, 15), date(2026, 7, 15))),
        (date(2025, 11, 15), "quarter", date(2026, 3, 1), (date(2026, 2, 15), date(2026, 5, 15))),
        (date(2025, 11, 15), "quarter", date(2026, 2, 14), (date(2025, 11, 15), date(2026, 2, 15))),
        (date(2026, 1, 31), "month", date(2026, 2, 27), (date(2026, 1, 31), date(2026, 2, 28))),
        (date(2026, 1, 31), "month", date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 31))),
        (date(2026, 1, 31), "month", date(2026, 4, 30), (date(2026, 4, 30), date(2026, 5, 31))),
        (date(2024, 2, 29), "year", date(2025, 3, 1), (date(2025, 2, 28), date(2026, 2, 28))),
        (date(2026, 3, 10), "month", date(2026, 3, 10), (date(2026, 3, 10), date(2026, 4, 10))),
    ],
)
def test_contract_periods_count_from_valid_from(valid_from, period, day, expected):
    assert contract_period(valid_from, period, day) == expected


def test_contract_period_refuses_days_before_the_start_and_unknown_periods():
    with pytest.raises(ValueError):
        contract_period(date(2026, 3, 10), "month", date(2026, 3, 9))
    with pytest.raises(ValueError):
        contract_period(date(2026, 3, 10), "week", date(2026, 3, 19))


# ---------------------------------------------------------------------------------------------
# payments


@pytest.mark.parametrize(
    ("gross", "paid", "status"),
    [
        ("119.00", "0.00", "issued"),
        ("119.00", "0.01", "partially_paid"),
        ("119.00", "118.99", "partially_paid"),
        ("119.00", "119.00", "paid"),
        ("0.00", "0.00", "paid"),  # everything covered: nothing to pay
    ],
)
def test_payment_status(gross, paid, status):
    assert payment_status(D(gross), D(paid)) == status


def test_payments_up_to_the_amount_due_are_accepted():
    assert check_payment(D("119.00"), D("100.00"), D("19.00"), currency="EUR") == D("119.00")


@pytest.mark.parametrize(
    ("paid_so_far", "amount", "message"),
    [
        ("100.00", "19.01", "The payment of 19.01 is more than the 19.00 still due."),
        ("119.00", "0.01", "The payment of 0.01 is more than the 0.00 still due."),
        ("0.00", "0.00", "A payment must be more than 0."),
        ("0.00", "-5.00", "A payment must be more than 0."),
        ("0.00", "5.001", "EUR has 2 decimals; the payment 5.001 has more."),
    ],
)
def test_overpayments_and_odd_payments_are_refused(paid_so_far, amount, message):
    with pytest.raises(DomainError) as excinfo:
        check_payment(D("119.00"), D(paid_so_far), D(amount), currency="EUR")
    error = refused(excinfo)
    assert (error.message, error.field) == (message, "amount")


def test_recorded_minutes_round_to_the_nearest_minute():
    # seconds beyond whole minutes round to the nearest minute: 14 min 29 s → 14, 14 min 30 s → 15
    start = berlin(2026, 3, 24, 9, 0)
    assert labour_split(started_at=start, ended_at=start + timedelta(minutes=14, seconds=29)).recorded_minutes == 14
    assert labour_split(started_at=start, ended_at=start + timedelta(minutes=14, seconds=30)).recorded_minutes == 15
