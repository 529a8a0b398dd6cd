"""Properties of the billing maths (hypothesis): the EN 16931 totals rules always hold, rounding loses at
most half a minor unit per line, labour rounding and contract coverage keep their promises.

Lines are drawn with quantities and prices as the models store them (4 decimals), discounts with 2,
the VAT categories and rates an invoice can carry, in currencies with 2 and with 0 minor units.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixflow.billing.calculations import (
    Line,
    billable_minutes,
    breakdown_from_json,
    breakdown_to_json,
    check_payment,
    contract_period,
    cover_labour,
    labour_amounts,
    labour_split,
    line_amounts,
    payment_status,
    quantize,
    split_overtime,
    tax_breakdown,
    totals,
)
from fixflow.core.errors import DomainError
from fixflow.sla.clock import TWENTY_FOUR_SEVEN, Calendar

fast = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CURRENCIES = {"EUR": Decimal("0.01"), "CHF": Decimal("0.01"), "JPY": Decimal(1), "ISK": Decimal(1)}
# (category, rate, exemption reason)
TAXES = [
    ("S", Decimal("19"), ""),
    ("S", Decimal("7"), ""),
    ("S", Decimal("20.00"), ""),
    ("S", Decimal("5.5"), ""),
    ("S", Decimal("8.1"), ""),
    ("S", Decimal("0.01"), ""),
    ("Z", Decimal("0"), ""),
    ("E", Decimal("0"), "Exempt"),
    ("AE", Decimal("0"), "Reverse charge"),
    ("K", Decimal("0"), "Intra-community supply"),
    ("G", Decimal("0"), "Export"),
]

quantities = st.decimals(min_value=-50, max_value=10_000, places=4, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=0, max_value=1_000_000, places=4, allow_nan=False, allow_infinity=False)
discounts = st.one_of(
    st.just(Decimal(0)),
    st.just(Decimal(100)),
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
)


@st.composite
def invoices(draw) -> tuple[str, list[tuple], list[Line]]:
    """A currency, the raw line inputs and the lines (net rounded per line)."""
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    raw = draw(st.lists(st.tuples(quantities, prices, discounts, st.sampled_from(TAXES)), min_size=1, max_size=12))
    lines = []
    for quantity, price, discount, (category, rate, reason) in raw:
        net = line_amounts(quantity, price, discount, currency).net
        lines.append(Line(net, category, rate, reason))
    return currency, raw, lines


@fast
@given(invoices(), st.integers(0, 100))
def test_en16931_totals_rules_always_hold(invoice, paid_share):
    # given
    currency, _raw, lines = invoice
    unit = CURRENCIES[currency]
    gross_estimate = totals(lines, currency).total_gross
    paid = quantize(max(gross_estimate, Decimal(0)) * paid_share / 100, currency)
    # when
    result = totals(lines, currency, paid=paid)
    # then
    assert result.line_total == sum(line.net for line in lines)  # BR-CO-10
    assert result.allowance_total == result.charge_total == result.rounding_amount == 0  # BR-CO-11, BR-CO-12
    assert result.total_net == result.line_total - result.allowance_total + result.charge_total  # BR-CO-13
    assert result.total_tax == sum(group.tax for group in result.breakdown)  # BR-CO-14
    assert result.total_gross == result.total_net + result.total_tax  # BR-CO-15
    assert result.amount_due == result.total_gross - result.amount_paid + result.rounding_amount  # BR-CO-16
    for group in result.breakdown:
        exact = group.taxable * group.rate / 100
        assert group.tax == exact.quantize(unit, rounding="ROUND_HALF_UP")  # BR-CO-17
        assert abs(group.tax - exact) <= unit / 2
        # BR-S-08 …: the taxable amount is the sum of the nets of the lines in the group
        assert group.taxable == sum(x.net for x in lines if (x.category, x.rate) == (group.category, group.rate))
    # every amount has the currency's decimals, as the documents print them
    for amount in (result.total_net, result.total_tax, result.total_gross, result.amount_due):
        assert amount.as_tuple().exponent == unit.as_tuple().exponent
        assert not (amount.is_zero() and amount.is_signed())


@fast
@given(invoices())
def test_the_breakdown_has_one_group_per_category_and_rate_in_order(invoice):
    currency, _raw, lines = invoice
    groups = tax_breakdown(lines, currency)
    keys = [(g.category, g.rate) for g in groups]
    assert len(keys) == len(set(keys)) == len({(line.category, line.rate) for line in lines})
    assert keys == sorted(keys, key=lambda key: (key[0], -key[1]))
    assert all(g.exemption_reason for g in groups if g.category not in ("S", "Z"))
    assert breakdown_from_json(breakdown_to_json(groups)) == groups


@fast
@given(st.sampled_from(sorted(CURRENCIES)), quantities, prices, discounts)
def test_rounding_never_loses_more_than_half_a_minor_unit_per_line(currency, quantity, price, discount):
    amounts = line_amounts(quantity, price, discount, currency)
    exact = quantity * price * (100 - discount) / 100
    assert abs(amounts.net - exact) <= CURRENCIES[currency] / 2
    assert abs(amounts.gross - quantity * price) <= CURRENCIES[currency] / 2
    assert amounts.gross - amounts.discount == amounts.net
    if discount == 100:
        assert amounts.net == 0


@fast
@given(st.integers(0, 24 * 60), st.integers(0, 120), st.integers(1, 120))
def test_billable_minutes_round_up_to_the_increment(minutes, minimum, increment):
    billed = billable_minutes(minutes, minimum, increment)
    assert billed >= minutes
    assert billed % increment == 0
    assert (billed == 0) == (minutes == 0)
    if minutes:
        assert billed >= minimum
        assert billed - max(minutes, minimum) < increment  # rounded up, never by a whole increment more


BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = Calendar(timezone="Europe/Berlin", week=(((480, 720), (780, 1020)),) * 5 + ((), ()))
# Starts within a week around each 2026 DST change in Berlin, whole seconds.
starts = st.builds(
    lambda anchor, seconds: anchor + timedelta(seconds=seconds),
    st.sampled_from([datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC)]),
    st.integers(0, 6 * 86400),
)
durations = st.integers(0, 36 * 3600)


@fast
@given(starts, durations, st.sampled_from([OFFICE, TWENTY_FOUR_SEVEN, None]))
def test_normal_time_and_overtime_add_up_to_the_real_time(start, seconds, calendar):
    end = start + timedelta(seconds=seconds)
    normal, overtime = split_overtime(start.astimezone(BERLIN), end.astimezone(BERLIN), calendar)
    assert normal + overtime == seconds
    assert normal >= 0 and overtime >= 0
    if calendar is not OFFICE:
        assert overtime == 0


@fast
@given(
    starts, st.integers(0, 12 * 3600), st.integers(0, 60), st.sampled_from([1, 5, 6, 10, 15, 30]), st.integers(0, 900)
)
def test_a_labour_entry_splits_into_lines_that_add_up(start, seconds, minimum, increment, included):
    # given
    end = start + timedelta(seconds=seconds)
    split = labour_split(started_at=start, ended_at=end, calendar=OFFICE, minimum=minimum, increment=increment)
    covered = cover_labour([split.billed_minutes], included)[0]
    # when
    lines = labour_amounts(split, unit_price="80", overtime_multiplier="1.5", currency="EUR", covered_minutes=covered)
    # then
    assert split.billed_minutes == billable_minutes(split.recorded_minutes, minimum, increment)
    assert split.normal_minutes + split.overtime_minutes == split.billed_minutes
    assert split.overtime_minutes <= split.billed_minutes
    if split.normal_minutes and split.recorded_minutes:
        # rounding added to normal time only: overtime is never more than the overtime worked (± 1 min)
        assert split.overtime_minutes * 60 <= split_overtime(start, end, OFFICE)[1] + 30
    assert sum(line.minutes for line in lines) == split.billed_minutes
    assert sum(line.minutes for line in lines if line.is_covered) == covered
    assert all(line.net == 0 for line in lines if line.is_covered)


@fast
@given(st.lists(st.integers(0, 600), max_size=10), st.integers(-60, 3000))
def test_contract_coverage_never_exceeds_the_included_time_or_an_entry(entries, included):
    covered = cover_labour(entries, included)
    assert len(covered) == len(entries)
    assert all(0 <= c <= e for c, e in zip(covered, entries, strict=True))
    assert sum(covered) == min(sum(entries), max(included, 0))
    # in order: once an entry is not fully covered, nothing later is
    partly = [i for i, (c, e) in enumerate(zip(covered, entries, strict=True)) if c < e]
    if partly:
        assert all(c == 0 for c in covered[partly[0] + 1 :])


@fast
@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.sampled_from(["month", "quarter", "year"]),
    st.integers(0, 2000),
)
def test_contract_periods_contain_the_day_and_follow_each_other(valid_from, period, offset):
    day = valid_from + timedelta(days=offset)
    start, end = contract_period(valid_from, period, day)
    assert valid_from <= start <= day < end
    if start > valid_from:
        assert contract_period(valid_from, period, start - timedelta(days=1))[1] == start
    assert contract_period(valid_from, period, end)[0] == end


money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)


@fast
@given(money, st.lists(money, max_size=6))
def test_payments_never_exceed_the_total_and_the_state_follows_them(gross, attempts):
    paid = Decimal("0.00")
    for amount in attempts:
        try:
            paid = check_payment(gross, paid, amount, currency="EUR")
        except DomainError:
            assert amount <= 0 or paid + amount > gross
        assert paid <= gross
    status = payment_status(gross, paid)
    assert status == ("paid" if paid >= gross else "partially_paid" if paid > 0 else "issued")
