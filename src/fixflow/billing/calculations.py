"""Billing maths as pure functions (no ORM): money rounding, line nets, the VAT breakdown and the EN 16931
totals, labour rounding and overtime, rate and part price resolution, contract coverage, payment state.

DOMAIN.md §4 states the rules; EN 16931-1 (the European e-invoice standard) states the business rules
(BR-…) that the totals must satisfy, and the official schematron checks them on every generated CII and
UBL invoice. Each function names the rule it implements; docs/decisions/0007-money-and-invoice-totals.md
says why the rounding works as it does.

Conventions:

- Money is ``Decimal``, never ``float`` (a float raises ``TypeError``; an int or a string is accepted).
- Amounts are rounded ROUND_HALF_UP (half away from zero: 0.005 → 0.01, −0.005 → −0.01) to the currency's
  minor units by :func:`quantize`, the one helper; unit prices and costs keep 4 decimals
  (:func:`quantize_price`), VAT rates and percentages 2, labour quantities are hours with 4 decimals.
- Arithmetic runs in a 60-digit context, so nothing is rounded before the one explicit rounding.
- Documents (quotes, invoices, credit notes) are in currencies with at most 2 minor units
  (:func:`check_currency`): EN 16931 allows no more (BR-DEC-*).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import NamedTuple

from fixflow.core.currencies import MINOR_UNITS
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.sla.clock import Calendar, business_seconds_between

ZERO = Decimal(0)
HUNDRED = Decimal(100)
SIXTY = Decimal(60)
# At most this many minor units on an EN 16931 document (BR-DEC-01 … BR-DEC-28: "at most 2 decimals").
MAX_DOCUMENT_DECIMALS = 2
PRICE_EXPONENT = Decimal("0.0001")  # unit prices, costs and labour quantities (hours)
RATE_EXPONENT = Decimal("0.01")  # VAT rates and percentages
_EXPONENTS = {places: Decimal(1).scaleb(-places) for places in range(5)}
# Wide enough that no product or quotient of stored values (14 digits, 4 decimals) is rounded early.
_CONTEXT = Context(prec=60)

# UNCL5305 VAT category codes (mirrors billing.choices, which this pure module does not import; a test
# keeps the two equal).
VAT_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "O"})
# Rate 0 and an exemption reason or code (BR-E-05/10, BR-AE-05/10, BR-IC-05/10, BR-G-05/10, BR-O-05/10).
ZERO_RATE_CATEGORIES = frozenset({"E", "AE", "K", "G", "O"})
# The buyer's VAT identifier BT-48 is required (BR-AE-02, BR-IC-02).
BUYER_VAT_ID_REQUIRED = frozenset({"AE", "K"})
# The seller needs a VAT id (BT-31) or a tax registration id (BT-32) …
SELLER_TAX_ID_REQUIRED = frozenset({"S", "Z", "E", "AE"})
# … and for these a VAT id (BR-IC-02, BR-G-02).
SELLER_VAT_ID_REQUIRED = frozenset({"K", "G"})
# The prefix of each category's business rules in EN 16931.
RULE_PREFIX = {"S": "BR-S", "Z": "BR-Z", "E": "BR-E", "AE": "BR-AE", "K": "BR-IC", "G": "BR-G", "O": "BR-O"}
CATEGORY_NAMES = {
    "S": "standard-rated VAT",
    "Z": "zero-rated VAT",
    "E": "VAT exemption",
    "AE": "reverse charge",
    "K": "intra-community supply",
    "G": "export outside the EU",
    "O": "outside the scope of VAT",
}

# Payment states an issued invoice moves through (InvoiceStatus values).
ISSUED = "issued"
PARTIALLY_PAID = "partially_paid"
PAID = "paid"

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


# ---------------------------------------------------------------------------------------------
# money


def _decimal(value: Decimal | int | str, what: str = "amount") -> Decimal:
    """``value`` as a finite Decimal; floats are refused (binary fractions are not money)."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"The {what} {value!r} is not a number.") from None
    else:
        raise TypeError(f"The {what} must be a Decimal, an int or a string, not {type(value).__name__}.")
    if not number.is_finite():
        raise ValueError(f"The {what} must be a finite number, not {number}.")
    return number


def _plus(number: Decimal) -> Decimal:
    """``number`` without a negative sign on zero (``-0.00`` reads as a refund of nothing)."""
    return number.copy_abs() if number.is_zero() else number


def minor_units(currency: str) -> int:
    """The number of decimals of ``currency`` (ISO 4217); DomainError VALIDATION for an unknown code."""
    places = MINOR_UNITS.get(currency) if isinstance(currency, str) else None
    if places is None:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"{currency!r} is not a currency code Fixflow knows (ISO 4217, e.g. EUR).",
            field="currency",
        )
    return places


def quantize(amount: Decimal | int | str, currency: str) -> Decimal:
    """``amount`` rounded ROUND_HALF_UP to the minor units of ``currency`` (ARCHITECTURE.md rule 6: money
    is quantized in one helper). Works for every known currency, also those with 3 decimals; documents
    refuse those through :func:`check_currency`."""
    exponent = _EXPONENTS[minor_units(currency)]
    with localcontext(_CONTEXT):
        return _plus(_decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP))


def quantize_price(price: Decimal | int | str) -> Decimal:
    """A unit price or cost rounded ROUND_HALF_UP to 4 decimals, as the catalogue and the lines store it."""
    with localcontext(_CONTEXT):
        return _plus(_decimal(price, "price").quantize(PRICE_EXPONENT, rounding=ROUND_HALF_UP))


def check_currency(code: str) -> int:
    """Refuse a currency a quote or an invoice cannot be in; return its minor units (0, 1 or 2).

    EN 16931 allows at most 2 decimals on every amount (BR-DEC-*), so currencies with 3 minor units (BHD,
    IQD, JOD, KWD, LYD, OMR, TND) cannot be invoiced: their amounts could be neither rounded to 2 decimals
    (it would not be the legal amount) nor written with 3. Raises DomainError VALIDATION on ``currency``.
    """
    places = minor_units(code)
    if places > MAX_DOCUMENT_DECIMALS:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"{code} cannot be invoiced: EN 16931 allows at most 2 decimals and {code} has {places}.",
            field="currency",
        )
    return places


def _rounded(amount: Decimal | int | str, currency: str, what: str) -> Decimal:
    """An amount that must already be rounded to the currency, in its canonical form (``100`` → ``100.00``)."""
    number = _decimal(amount, what)
    rounded = quantize(number, currency)
    if rounded != number:
        raise ValueError(f"The {what} {number} is not rounded to the minor unit of {currency}.")
    return rounded


# ---------------------------------------------------------------------------------------------
# lines


class LineAmounts(NamedTuple):
    """One line's amounts: ``gross`` = quantity × unit price, ``discount`` = the line allowance (BT-136),
    ``net`` = the line net amount (BT-131); ``gross − discount == net`` exactly."""

    gross: Decimal
    discount: Decimal
    net: Decimal


def _percent(value: Decimal | int | str, field: str = "discount_percent") -> Decimal:
    number = _decimal(value, "percentage")
    if not ZERO <= number <= HUNDRED:
        raise DomainError(ErrorCode.VALIDATION, "A discount is between 0 and 100 %.", field=field)
    return number


def line_amounts(
    quantity: Decimal | int | str,
    unit_price: Decimal | int | str,
    discount_percent: Decimal | int | str,
    currency: str,
) -> LineAmounts:
    """The amounts of one line (DOMAIN.md §4 rule 7: line net rounded per line).

    The net is rounded once from the exact ``quantity × unit_price × (1 − discount / 100)``, so it is never
    more than half a minor unit from the exact value; the gross is rounded alike and the discount is the
    difference, so the allowance shown on the line (BT-136) and the net (BT-131) always add up.
    """
    check_currency(currency)
    qty = _decimal(quantity, "quantity")
    price = _decimal(unit_price, "unit price")
    percent = _percent(discount_percent)
    with localcontext(_CONTEXT):
        exact_gross = qty * price
        exact_net = exact_gross * (HUNDRED - percent) / HUNDRED
    gross = quantize(exact_gross, currency)
    net = quantize(exact_net, currency)
    return LineAmounts(gross, _plus(gross - net), net)


def line_net(
    quantity: Decimal | int | str,
    unit_price: Decimal | int | str,
    discount_percent: Decimal | int | str,
    currency: str,
) -> Decimal:
    """BT-131 invoice line net amount = quantity × price − discount, rounded ROUND_HALF_UP per line to the
    currency's decimals (at most 2; DOMAIN.md §4 rule 7). See :func:`line_amounts`."""
    return line_amounts(quantity, unit_price, discount_percent, currency).net


@dataclass(frozen=True)
class Line:
    """What the VAT maths needs of a quote or invoice line: its net (BT-131, already rounded to the
    currency), VAT category (BT-151), rate in percent (BT-152) and exemption reason (BT-120) / code
    (BT-121). ``label`` names the line in error messages (its description, say)."""

    net: Decimal
    category: str
    rate: Decimal
    exemption_reason: str = ""
    exemption_code: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "net", _decimal(self.net, "line net"))
        object.__setattr__(self, "rate", _decimal(self.rate, "VAT rate"))


# ---------------------------------------------------------------------------------------------
# VAT and totals


@dataclass(frozen=True)
class TaxGroup:
    """One VAT breakdown (BG-23): category (BT-118), rate (BT-119), taxable amount (BT-116), tax (BT-117),
    exemption reason text (BT-120) and code (BT-121), the last two only for the zero-rate categories."""

    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_reason: str = ""
    exemption_code: str = ""


def _rate(value: Decimal | int | str) -> Decimal:
    """A VAT rate with 2 decimals; refuses more precision than the tax rates store (5.2)."""
    rate = _decimal(value, "VAT rate")
    rounded = rate.quantize(RATE_EXPONENT, rounding=ROUND_HALF_UP)
    if rounded != rate:
        raise DomainError(ErrorCode.VALIDATION, f"A VAT rate has at most 2 decimals, not {rate}.", field="tax_rate")
    return _plus(rounded)


def tax_breakdown(lines: Iterable[Line], currency: str) -> list[TaxGroup]:
    """The VAT breakdown (BG-23): one group per (category, rate), sorted by category, then rate descending.

    The taxable amount of a group is the sum of its line nets (BR-S-08, BR-Z-08, BR-E-08, BR-AE-08,
    BR-IC-08, BR-G-08, BR-O-08; Fixflow has no document-level allowances or charges) and its VAT is
    computed once on that sum, rounded ROUND_HALF_UP to the currency (BR-CO-17, DOMAIN.md §4 rule 7),
    never summed from rounded per-line VAT. Zero-rate categories carry the exemption reason and code of
    their lines (:func:`check_tax` makes sure the lines agree); S and Z never carry one (BR-S-10, BR-Z-10).
    Line nets must already be rounded to the currency (:func:`line_net`); otherwise ``ValueError``.
    """
    check_currency(currency)
    groups: dict[tuple[str, Decimal], dict] = {}
    for line in lines:
        net = _rounded(line.net, currency, "line net")
        key = (line.category, _rate(line.rate))
        group = groups.setdefault(key, {"taxable": quantize(ZERO, currency), "reason": "", "code": ""})
        group["taxable"] += net
        if line.category in ZERO_RATE_CATEGORIES:
            group["reason"] = group["reason"] or line.exemption_reason.strip()
            group["code"] = group["code"] or line.exemption_code.strip()
    result = []
    for (category, rate), group in sorted(groups.items(), key=lambda item: (item[0][0], -item[0][1])):
        taxable = _plus(group["taxable"])
        with localcontext(_CONTEXT):
            exact_tax = taxable * rate / HUNDRED
        result.append(TaxGroup(category, rate, taxable, quantize(exact_tax, currency), group["reason"], group["code"]))
    return result


@dataclass(frozen=True)
class Totals:
    """The document totals (BG-22), named like the ``Invoice`` fields, with their EN 16931 terms."""

    currency: str
    line_total: Decimal  # BT-106 sum of invoice line net amounts
    allowance_total: Decimal  # BT-107 document-level allowances (Fixflow has none: 0)
    charge_total: Decimal  # BT-108 document-level charges (none: 0)
    total_net: Decimal  # BT-109 invoice total without VAT
    total_tax: Decimal  # BT-110 invoice total VAT amount
    total_gross: Decimal  # BT-112 invoice total with VAT
    amount_paid: Decimal  # BT-113 paid amount
    rounding_amount: Decimal  # BT-114 rounding amount (none: 0)
    amount_due: Decimal  # BT-115 amount due for payment
    breakdown: tuple[TaxGroup, ...]  # BG-23

    def breakdown_json(self) -> list[dict]:
        """The breakdown in the ``Invoice.tax_breakdown`` format (:func:`breakdown_to_json`)."""
        return breakdown_to_json(self.breakdown)


def totals(lines: Iterable[Line], currency: str, paid: Decimal | int | str = 0) -> Totals:
    """The totals of a quote, invoice or credit note, exactly as EN 16931 defines them:

    - BR-CO-10: BT-106 = Σ BT-131 (line nets, each already rounded);
    - BR-CO-13: BT-109 = BT-106 − BT-107 + BT-108;
    - BR-CO-14: BT-110 = Σ BT-117 (VAT per group, :func:`tax_breakdown`, BR-CO-17);
    - BR-CO-15: BT-112 = BT-109 + BT-110;
    - BR-CO-16: BT-115 = BT-112 − BT-113 + BT-114.

    ``paid`` (BT-113) must be rounded to the currency. Every amount is exact: sums of rounded amounts.
    """
    lines = list(lines)
    breakdown = tuple(tax_breakdown(lines, currency))
    zero = quantize(ZERO, currency)
    line_total = zero + sum((_rounded(line.net, currency, "line net") for line in lines), ZERO)
    amount_paid = _rounded(paid, currency, "paid amount")
    allowance_total = charge_total = rounding_amount = zero
    total_net = line_total - allowance_total + charge_total
    total_tax = zero + sum((group.tax for group in breakdown), ZERO)
    total_gross = total_net + total_tax
    amount_due = total_gross - amount_paid + rounding_amount
    return Totals(
        currency=currency,
        line_total=_plus(line_total),
        allowance_total=allowance_total,
        charge_total=charge_total,
        total_net=_plus(total_net),
        total_tax=_plus(total_tax),
        total_gross=_plus(total_gross),
        amount_paid=amount_paid,
        rounding_amount=rounding_amount,
        amount_due=_plus(amount_due),
        breakdown=breakdown,
    )


def breakdown_to_json(groups: Iterable[TaxGroup]) -> list[dict]:
    """The ``Invoice.tax_breakdown`` JSON: ``{"category", "rate" ("19.00"), "taxable", "tax",
    "exemption_reason", "exemption_code"}`` with Decimals as strings, in the order given."""
    return [
        {
            "category": group.category,
            "rate": str(_rate(group.rate)),
            "taxable": str(group.taxable),
            "tax": str(group.tax),
            "exemption_reason": group.exemption_reason,
            "exemption_code": group.exemption_code,
        }
        for group in groups
    ]


def breakdown_from_json(data: Iterable[dict]) -> list[TaxGroup]:
    """The inverse of :func:`breakdown_to_json`."""
    return [
        TaxGroup(
            category=item["category"],
            rate=_decimal(item["rate"], "VAT rate"),
            taxable=_decimal(item["taxable"], "taxable amount"),
            tax=_decimal(item["tax"], "VAT amount"),
            exemption_reason=item.get("exemption_reason", ""),
            exemption_code=item.get("exemption_code", ""),
        )
        for item in data
    ]


def _line_name(number: int, line: Line) -> str:
    return f"Line {number} ({line.label})" if line.label else f"Line {number}"


def _tax_error(message: str, field: str, number: int | None, rule: str) -> DomainError:
    details = {"rule": rule} if number is None else {"line": number, "rule": rule}
    return DomainError(ErrorCode.VALIDATION, message, field=field, details=details)


def check_tax(
    lines: Iterable[Line],
    *,
    buyer_vat_id: str | None,
    seller_vat_id: str | None = None,
    seller_tax_number: str | None = None,
) -> None:
    """Refuse VAT on the lines that EN 16931 would reject (DOMAIN.md §4 rule 7), with DomainError
    VALIDATION naming the line (``details["line"]``, 1-based), the field and the business rule.

    Per line: a known category; a rate from 0 to 100 % with at most 2 decimals; S above 0 % (BR-S-05);
    Z, E, AE, K, G and O at 0 % (BR-Z-05, BR-E-05, BR-AE-05, BR-IC-05, BR-G-05, BR-O-05); E, AE, K, G and
    O with an exemption reason or code (BR-E-10 …); AE and K need the buyer's VAT id (BR-AE-02, BR-IC-02).
    Across lines: one exemption reason per zero-rate category, as there is one breakdown per category
    (BR-E-08 …); category O cannot be mixed with other categories (BR-O-11, BR-O-12).
    Seller identifiers are checked only when given (not None): S, Z, E and AE need a VAT id or a tax
    number (BR-S-02 …), K and G a VAT id (BR-IC-02, BR-G-02).
    """
    buyer_vat_id = (buyer_vat_id or "").strip()
    check_seller = seller_vat_id is not None or seller_tax_number is not None
    seller_vat_id = (seller_vat_id or "").strip()
    seller_tax_number = (seller_tax_number or "").strip()
    reasons: dict[str, tuple[str, str]] = {}
    categories: set[str] = set()
    for number, line in enumerate(lines, 1):
        where = _line_name(number, line)
        category = line.category
        if category not in VAT_CATEGORIES:
            raise _tax_error(
                f"{where}: {category!r} is not a VAT category (S, Z, E, AE, K, G or O).",
                "tax_category",
                number,
                "BT-151",
            )
        categories.add(category)
        name, prefix = CATEGORY_NAMES[category], RULE_PREFIX[category]
        rate = line.rate
        if not ZERO <= rate <= HUNDRED:
            raise _tax_error(f"{where}: a VAT rate is between 0 and 100 %, not {rate} %.", "tax_rate", number, "BT-152")
        if rate.quantize(RATE_EXPONENT, rounding=ROUND_HALF_UP) != rate:
            raise _tax_error(f"{where}: a VAT rate has at most 2 decimals, not {rate}.", "tax_rate", number, "BT-152")
        if category == "S" and rate == ZERO:
            raise _tax_error(
                f"{where}: standard-rated VAT needs a rate above 0 %; use zero-rated (Z) or an exemption for 0 %.",
                "tax_rate",
                number,
                "BR-S-05",
            )
        if category != "S" and rate != ZERO:
            raise _tax_error(
                f"{where}: {name} (category {category}) has a VAT rate of 0 %, not {rate} %.",
                "tax_rate",
                number,
                f"{prefix}-05",
            )
        if category in ZERO_RATE_CATEGORIES:
            reason = (line.exemption_reason.strip(), line.exemption_code.strip())
            if not any(reason):
                raise _tax_error(
                    f"{where}: {name} needs an exemption reason or code; set it on the tax rate.",
                    "exemption_reason",
                    number,
                    f"{prefix}-10",
                )
            first = reasons.setdefault(category, reason)
            if reason != first:
                raise _tax_error(
                    f"{where}: all lines with {name} (category {category}) must share one exemption reason and code "
                    f"(an invoice has one VAT breakdown per category); use one tax rate for them.",
                    "exemption_reason",
                    number,
                    f"{prefix}-08",
                )
        if category in BUYER_VAT_ID_REQUIRED and not buyer_vat_id:
            raise _tax_error(
                f"{where}: {name} needs the client's VAT id; add it on the client's billing details.",
                "vat_id",
                number,
                f"{prefix}-02",
            )
        if check_seller:
            if category in SELLER_VAT_ID_REQUIRED and not seller_vat_id:
                raise _tax_error(
                    f"{where}: {name} needs your VAT id; add it under Billing settings.",
                    "vat_id",
                    number,
                    f"{prefix}-02",
                )
            if category in SELLER_TAX_ID_REQUIRED and not (seller_vat_id or seller_tax_number):
                raise _tax_error(
                    f"{where}: {name} needs your VAT id or tax number; add one under Billing settings.",
                    "vat_id",
                    number,
                    f"{prefix}-02",
                )
    if "O" in categories and len(categories) > 1:
        raise _tax_error(
            "Lines outside the scope of VAT (category O) cannot share an invoice with lines of other VAT "
            "categories; invoice them separately.",
            "tax_category",
            None,
            "BR-O-11",
        )


# ---------------------------------------------------------------------------------------------
# labour


def billable_minutes(minutes: int, minimum: int = 15, increment: int = 15) -> int:
    """Labour rounded per entry (DOMAIN.md §4 rule 3): first the minimum, then up to the next multiple of
    the increment (minimum 15, increment 15: 1 → 15, 16 → 30; minimum 20: 5 → 20 → 30). No time stays no
    time: 0 → 0. The result is never less than ``minutes`` and always a multiple of ``increment``."""
    if minutes < 0 or minimum < 0 or increment < 1:
        raise ValueError("Minutes and the minimum must not be negative; the increment is at least 1 minute.")
    if minutes == 0:
        return 0
    minutes = max(minutes, minimum)
    return -(-minutes // increment) * increment


def _elapsed_seconds(start: datetime, end: datetime) -> int:
    """The real seconds from ``start`` to ``end`` (0 when not after). Both go to UTC first: Python subtracts
    two datetimes of one zone as wall times, so a night across a DST change would be an hour off."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("Time entries are timezone-aware.")
    return max(0, int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()))


def split_overtime(start: datetime, end: datetime, calendar: Calendar | None) -> tuple[int, int]:
    """``(normal_seconds, overtime_seconds)`` of the real time from ``start`` to ``end`` (DOMAIN.md §4 rule 3:
    overtime multipliers apply outside the business calendar).

    Normal time is the business time of the calendar (``sla.clock``: local working intervals, holidays,
    DST-correct); the rest of the real elapsed time is overtime. A 24×7 calendar, or none, has no overtime.
    """
    elapsed = _elapsed_seconds(start, end)
    if calendar is None or calendar.always_open:
        return elapsed, 0
    normal = min(elapsed, business_seconds_between(calendar, start, end))
    return normal, elapsed - normal


@dataclass(frozen=True)
class LabourSplit:
    """A time entry's minutes: as recorded, as billed after rounding, and the billed minutes split into
    normal and overtime (``normal_minutes + overtime_minutes == billed_minutes``)."""

    recorded_minutes: int
    billed_minutes: int
    normal_minutes: int
    overtime_minutes: int


def labour_split(
    *,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    duration_minutes: int | None = None,
    calendar: Calendar | None = None,
    minimum: int = 15,
    increment: int = 15,
) -> LabourSplit:
    """Round one time entry and split it into normal time and overtime (DOMAIN.md §4 rule 3).

    The recorded minutes are ``duration_minutes`` when given (as the time entry stores them), otherwise
    the real time from start to end to the nearest minute. The overtime is the real time outside the
    calendar (:func:`split_overtime`) to the nearest minute, never more than the recorded minutes.

    Rounding applies to the whole entry (:func:`billable_minutes`), not to each part. The minutes it adds
    go to the normal part, so overtime is billed only for time really spent outside working hours; an
    entry entirely outside the calendar is billed entirely as overtime, rounding included.
    """
    if duration_minutes is None:
        if started_at is None or ended_at is None:
            raise ValueError("A time entry without an end (a running timer) cannot be billed.")
        recorded = (_elapsed_seconds(started_at, ended_at) + 30) // 60
    else:
        recorded = int(duration_minutes)
        if recorded < 0:
            raise ValueError("A duration must not be negative.")
    overtime = 0
    if started_at is not None and ended_at is not None:
        _normal, overtime_seconds = split_overtime(started_at, ended_at, calendar)
        overtime = min(recorded, (overtime_seconds + 30) // 60)
    billed = billable_minutes(recorded, minimum, increment)
    if billed == 0:
        return LabourSplit(recorded, 0, 0, 0)
    if overtime == recorded:
        return LabourSplit(recorded, billed, 0, billed)
    return LabourSplit(recorded, billed, billed - overtime, overtime)


def hours(minutes: int) -> Decimal:
    """Minutes as an hour quantity with 4 decimals (15 → 0.25, 20 → 0.3333), as a labour line shows it."""
    with localcontext(_CONTEXT):
        return (Decimal(minutes) / SIXTY).quantize(PRICE_EXPONENT, rounding=ROUND_HALF_UP)


def overtime_price(unit_price: Decimal | int | str, multiplier: Decimal | int | str) -> Decimal:
    """The hourly price outside working hours: price × multiplier, 4 decimals (DOMAIN.md §4 rule 3)."""
    factor = _decimal(multiplier, "overtime multiplier")
    if factor < 1:
        raise DomainError(ErrorCode.VALIDATION, "The overtime multiplier is at least 1.", field="overtime_multiplier")
    with localcontext(_CONTEXT):
        return quantize_price(_decimal(unit_price, "price") * factor)


@dataclass(frozen=True)
class LabourLine:
    """One invoice line of a time entry: its minutes, quantity in hours, prices, discount and net."""

    minutes: int
    quantity: Decimal  # hours, 4 decimals
    unit_price: Decimal  # per hour; × the multiplier when overtime
    unit_cost: Decimal
    discount_percent: Decimal  # 100 when covered by the contract
    net: Decimal
    is_overtime: bool = False
    is_covered: bool = False


def labour_amounts(
    split: LabourSplit,
    *,
    unit_price: Decimal | int | str,
    currency: str,
    unit_cost: Decimal | int | str = 0,
    overtime_multiplier: Decimal | int | str = 1,
    covered_minutes: int = 0,
    discount_percent: Decimal | int | str = 0,
) -> list[LabourLine]:
    """The lines of one rounded time entry (DOMAIN.md §4 rules 3 and 4), in this order and only those with
    minutes: covered normal time, covered overtime, billed normal time, billed overtime.

    Covered minutes (the contract's included time, :func:`split_covered`) come off the normal time first,
    then off overtime; covered lines keep their price and carry a 100 % discount, so the trail shows the
    value given away. ``discount_percent`` (the contract's discount on the rest) applies to billed lines.
    Overtime lines cost the same per hour (the multiplier is a price surcharge, not a cost). Each net is
    :func:`line_net` of the quantity in hours, so the invoice multiplies out as printed.
    """
    if not 0 <= covered_minutes <= split.billed_minutes:
        raise ValueError("Covered minutes are between 0 and the billed minutes of the entry.")
    discount = _percent(discount_percent)
    normal_price = quantize_price(_decimal(unit_price, "price"))
    extra_price = overtime_price(normal_price, overtime_multiplier) if split.overtime_minutes else normal_price
    cost = quantize_price(_decimal(unit_cost, "cost"))
    covered_normal = min(covered_minutes, split.normal_minutes)
    covered_overtime = covered_minutes - covered_normal
    parts = [
        (covered_normal, False, True),
        (covered_overtime, True, True),
        (split.normal_minutes - covered_normal, False, False),
        (split.overtime_minutes - covered_overtime, True, False),
    ]
    lines = []
    for minutes, is_overtime, is_covered in parts:
        if minutes <= 0:
            continue
        quantity = hours(minutes)
        price = extra_price if is_overtime else normal_price
        percent = HUNDRED if is_covered else discount
        net = line_net(quantity, price, percent, currency)
        lines.append(LabourLine(minutes, quantity, price, cost, percent, net, is_overtime, is_covered))
    return lines


# ---------------------------------------------------------------------------------------------
# rates and part prices


@dataclass(frozen=True)
class RateCandidate:
    """An hourly rate found at one place of the resolution order; ``cost`` None when that place has only
    a price (a work order override), ``name`` the contract, price list or rate class."""

    price: Decimal
    cost: Decimal | None = None
    name: str = ""


class ResolvedRate(NamedTuple):
    price: Decimal
    cost: Decimal
    source: str


def resolve_rate(
    kind: str,
    *,
    work_order_override: RateCandidate | None = None,
    contract: RateCandidate | None = None,
    client_price_list: RateCandidate | None = None,
    rate_class: RateCandidate | None = None,
    default: RateCandidate | None = None,
) -> ResolvedRate:
    """The hourly rate of ``kind`` ("labour" or "travel") in the order of DOMAIN.md §4 rule 2: work order
    (or quote) override → contract → client price list → technician rate class → organization default.

    The first candidate present gives the price and names the source ("work order", "contract <name>",
    "price list <name>", "rate class <name>", "organization"). When it has no cost (an override is only a
    price), the cost is that of the next candidate that has one (0 when none): what an hour costs does not
    depend on what it is sold for. Prices and costs have 4 decimals. Raises DomainError VALIDATION when no
    rate exists at all.
    """
    ordered = [
        (work_order_override, "work order"),
        (contract, "contract {}"),
        (client_price_list, "price list {}"),
        (rate_class, "rate class {}"),
        (default, "organization"),
    ]
    present = [(candidate, label.format(candidate.name).strip()) for candidate, label in ordered if candidate]
    if not present:
        raise DomainError(
            ErrorCode.VALIDATION, f"No {kind} rate: set one under Billing settings.", details={"kind": kind}
        )
    (winner, source), *rest = present
    cost = winner.cost
    for candidate, _source in rest:
        if cost is not None:
            break
        cost = candidate.cost
    return ResolvedRate(quantize_price(winner.price), quantize_price(cost if cost is not None else ZERO), source)


class PartPrice(NamedTuple):
    price: Decimal
    source: str


def part_price(
    *,
    list_price: Decimal | int | str | None = None,
    sale_price: Decimal | int | str | None = None,
    unit_cost: Decimal | int | str | None = None,
    markup_percent: Decimal | int | str = 0,
    price_list_name: str = "",
) -> PartPrice:
    """A part's unit price (DOMAIN.md §4 rule 4): the client's price list price when there is one (also
    0: given away), else the catalogue sale price when above 0, else cost × (1 + markup / 100); 4 decimals.
    """
    if list_price is not None:
        return PartPrice(quantize_price(list_price), f"price list {price_list_name}".strip())
    if sale_price is not None and _decimal(sale_price, "sale price") > ZERO:
        return PartPrice(quantize_price(sale_price), "catalogue")
    markup = _decimal(markup_percent, "markup")
    if markup < ZERO:
        raise DomainError(ErrorCode.VALIDATION, "A markup must not be negative.", field="parts_markup_percent")
    cost = _decimal(unit_cost if unit_cost is not None else ZERO, "cost")
    with localcontext(_CONTEXT):
        price = quantize_price(cost * (HUNDRED + markup) / HUNDRED)
    return PartPrice(price, f"cost + {markup.normalize():f} % markup")


# ---------------------------------------------------------------------------------------------
# contracts


class Coverage(NamedTuple):
    """One labour entry split by a contract: ``covered_minutes`` taken from the included time (a line at
    100 % discount naming the contract) and ``billed_minutes`` charged as usual."""

    covered_minutes: int
    billed_minutes: int


def split_covered(minutes: int, remaining_included: int) -> Coverage:
    """Split one (rounded) labour entry by the contract's included time still left in the period
    (DOMAIN.md §4 rule 4): 10 h included, 8 h used, a 4 h job → 2 h covered + 2 h billed."""
    if minutes < 0:
        raise ValueError("Minutes must not be negative.")
    covered = max(0, min(minutes, remaining_included))
    return Coverage(covered, minutes - covered)


def cover_labour(entries: Sequence[int], remaining_included: int) -> list[int]:
    """The covered minutes of each entry, in order: each takes what is left of the included time, the
    entry that crosses the limit partly, the later ones nothing."""
    covered = []
    for minutes in entries:
        part = split_covered(minutes, remaining_included).covered_minutes
        remaining_included -= part
        covered.append(part)
    return covered


def _add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, on the last day of the month when the month is shorter (31 Jan + 1 → 28 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def contract_period(valid_from: date, period: str, day: date) -> tuple[date, date]:
    """The contract period (``start`` inclusive, ``end`` exclusive) that contains ``day``: months, quarters
    or years counted from ``valid_from``. Each boundary is ``valid_from`` plus whole periods, so a contract
    from 31 January has monthly periods from 31 Jan, 28 Feb (29 in a leap year), 31 Mar, 30 Apr, …
    """
    step = PERIOD_MONTHS.get(period)
    if step is None:
        raise ValueError(f"A contract period is one of {', '.join(PERIOD_MONTHS)}, not {period!r}.")
    if day < valid_from:
        raise ValueError("The day lies before the contract starts.")
    index = ((day.year - valid_from.year) * 12 + day.month - valid_from.month) // step
    start = _add_months(valid_from, index * step)
    if start > day:
        index -= 1
        start = _add_months(valid_from, index * step)
    return start, _add_months(valid_from, (index + 1) * step)


# ---------------------------------------------------------------------------------------------
# payments


def payment_status(gross: Decimal | int | str, paid: Decimal | int | str) -> str:
    """The state of an issued invoice from its payments (DOMAIN.md §4 rule 10): ``"issued"`` while nothing
    is paid, ``"partially_paid"``, then ``"paid"`` once the total (BT-112) is paid. An invoice of 0 (all
    work covered) is paid when issued."""
    gross, paid = _decimal(gross), _decimal(paid)
    if paid >= gross:
        return PAID
    return PARTIALLY_PAID if paid > ZERO else ISSUED


def check_payment(
    gross: Decimal | int | str,
    paid_so_far: Decimal | int | str,
    amount: Decimal | int | str,
    *,
    currency: str | None = None,
) -> Decimal:
    """Refuse a payment that is not above 0, has more decimals than the currency (when given), or would pay
    more than is due (DOMAIN.md §4 rule 10: overpayment is refused). Returns the new paid amount (BT-113).
    Raises DomainError VALIDATION on ``amount``."""
    gross, paid_so_far, amount = _decimal(gross), _decimal(paid_so_far), _decimal(amount)
    if amount <= ZERO:
        raise DomainError(ErrorCode.VALIDATION, "A payment must be more than 0.", field="amount")
    if currency is not None and quantize(amount, currency) != amount:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"{currency} has {minor_units(currency)} decimals; the payment {amount} has more.",
            field="amount",
        )
    due = gross - paid_so_far
    if amount > due:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"The payment of {amount} is more than the {_plus(max(due, ZERO))} still due.",
            field="amount",
            details={"due": str(_plus(max(due, ZERO)))},
        )
    return paid_so_far + amount
