"""The EN 16931 terms of one invoice or credit note, as one dict that both e-invoice syntaxes render.

:func:`build` reads the stored invoice only: its fields, its lines and the seller and buyer snapshots
taken at issue (formats in ``Invoice.seller`` / ``Invoice.buyer``), never the live organization or client,
so a document rendered again later is byte for byte the same (DOMAIN.md §4 rule 9).

The dict uses the keys of the ``factur-x`` library's generator (``"BT-1"``, ``"BG-25"`` …, party blocks
with ``name``, ``addr_l1``, ``vat_identifier`` …) so :mod:`.cii` and :mod:`.ubl` hand it over as it is.
Every value is a string, a list or a dict: amounts are Decimal strings quantized to the currency (at most 2
decimals, :func:`calculations.check_currency`), prices 2 to 4 decimals, dates ISO ``YYYY-MM-DD``; the dict
is JSON-serialisable. Empty values are left out rather than written as empty elements.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fixflow.billing import calculations
from fixflow.billing.choices import DEFAULT_UNIT_CODE, UNIT_CODES, DocumentType

ZERO = Decimal(0)
SEPA_CREDIT_TRANSFER = "58"  # UNCL4461
EMAIL_SCHEME = "EM"  # EAS code list: electronic mail
QUANTITY_EXPONENT = Decimal("0.0001")
# Categories without a VAT rate element (BR-O-05, BR-O-09: "shall not contain a VAT rate").
NO_RATE_CATEGORIES = frozenset({"O"})
CREDIT_NOTE_TERMS = "Refunded to your account or set off against open invoices."


def build(invoice) -> dict:
    """The EN 16931 terms of ``invoice`` (an ``Invoice`` with its lines, any state) as one dict.

    Raises DomainError VALIDATION for a currency EN 16931 cannot carry (3 minor units, unknown code).
    Totals come from the stored fields (BG-22) and the stored VAT breakdown (BG-23), not recomputed, so
    validation catches a stored invoice whose amounts do not add up.
    """
    currency = invoice.currency
    calculations.check_currency(currency)
    # A credit note is written with positive amounts (its type says it credits); stored negatives flip.
    sign = -1 if invoice.document_type == DocumentType.CREDIT_NOTE and invoice.total_gross < 0 else 1
    lines = document_lines(invoice.lines.select_related("work_order", "work_order__site", "contract", "part"))
    seller = invoice.seller or {}
    buyer = invoice.buyer or {}
    number = invoice.number or f"DRAFT-{invoice.pk}"

    def money(value) -> str:
        return _money(sign * Decimal(value or 0), currency)

    terms: dict = {
        "BT-1": number,
        "BT-2": _iso(invoice.issue_date or invoice.created_at.date()),
        "BT-3": str(invoice.document_type),
        "BT-5": currency,
    }
    _put(terms, "BT-9", _iso(invoice.due_date))
    _put(terms, "BT-10", invoice.buyer_reference or buyer.get("buyer_reference", ""))
    _put(terms, "BT-13", invoice.order_reference)
    payment_terms = invoice.payment_terms
    if not payment_terms and invoice.document_type == DocumentType.CREDIT_NOTE:
        payment_terms = CREDIT_NOTE_TERMS  # BR-CO-25: an amount due needs terms or a due date
    _put(terms, "BT-20", payment_terms)
    notes = [text for text in (invoice.credit_reason, invoice.note) if text and text.strip()]
    if notes:
        terms["BG-1"] = [{"BT-22": text.strip()} for text in notes]
    if invoice.credited_invoice_id:
        credited = invoice.credited_invoice
        preceding = {"BT-25": credited.number or f"DRAFT-{credited.pk}"}
        _put(preceding, "BT-26", _iso(credited.issue_date))
        terms["BG-3"] = [preceding]

    terms["BG-4"] = _seller(seller)
    terms["BG-7"] = _buyer(buyer)

    # BG-14 invoicing period and BT-72 delivery date from the service dates (rule 6)
    days = sorted({line.service_date for line in lines if line.service_date})
    start = invoice.service_from or (days[0] if days else None)
    end = invoice.service_until or (days[-1] if days else None)
    _put(terms, "BT-73", _iso(start))
    _put(terms, "BT-74", _iso(end))
    if len(days) == 1 and start == end:
        terms["BT-72"] = _iso(days[0])

    iban = _compact(seller.get("iban", ""))
    if iban and invoice.document_type == DocumentType.INVOICE:
        terms["BT-81"] = SEPA_CREDIT_TRANSFER
        terms["BT-83"] = number
        terms["BT-84"] = iban
        _put(terms, "BT-85", seller.get("legal_name") or seller.get("name", ""))
        _put(terms, "BT-86", _compact(seller.get("bic", "")))

    terms["BG-23"] = [_vat_group(group, money) for group in invoice.tax_breakdown or []]
    line_terms = [_line(index, line, currency, sign) for index, line in enumerate(lines, 1)]
    line_total = sum((Decimal(item["BT-131"]) for item in line_terms), ZERO)
    terms["BT-106"] = _money(line_total, currency)
    terms["BT-109"] = money(invoice.total_net)
    terms["BT-110"] = money(invoice.total_tax)
    terms["BT-112"] = money(invoice.total_gross)
    # Payments come after issue; the documents show the amount due at issue, the whole total.
    terms["BT-115"] = money(invoice.total_gross)
    terms["BG-25"] = line_terms
    return terms


def document_lines(lines) -> list:
    """The lines in the order both documents show them: grouped by work order, the groups in the order
    their first line comes on the invoice, lines without a work order last; within a group by position.

    The PDF numbers the lines 1 … n in this order and the XML gives the same numbers as line ids (BT-126,
    unique within the invoice), so “line 7” means the same line on paper and in the e-invoice, also when a
    line was added to a work order's group after other work orders' lines (a manual line, a regeneration).
    """
    lines = sorted(lines, key=lambda line: (line.position, line.pk or 0))
    first: dict[int, int] = {}
    for index, line in enumerate(lines):
        if line.work_order_id:
            first.setdefault(line.work_order_id, index)
    return sorted(
        lines,
        key=lambda line: (0, first[line.work_order_id]) if line.work_order_id else (1, 0),
    )


# ---------------------------------------------------------------------------------------------
# parties


def _seller(snapshot: dict) -> dict:
    """BG-4 with BT-27 legal name, BT-28 trading name, BT-30 registration, BT-31 VAT id, BT-32 tax number,
    BT-34 electronic address (the billing e-mail), BG-5 address and BG-6 contact."""
    party = _party(snapshot)
    _put(party, "tax_identifier", snapshot.get("tax_number", "").strip())
    _put(party, "legal_identifier", snapshot.get("registration_id", "").strip())
    email = snapshot.get("email", "").strip()
    if email:
        party["einvoicing_addr"] = email
        party["einvoicing_addr_schemeid"] = EMAIL_SCHEME
    contact = {}
    _put(contact, "email", email)
    _put(contact, "phone", snapshot.get("phone", "").strip())
    if contact:
        party["contacts"] = [contact]
    return party


def _buyer(snapshot: dict) -> dict:
    """BG-7 with BT-44 name, BT-45 trading name, BT-48 VAT id, BT-49 electronic address (the e-invoice
    endpoint, else the e-mail), BG-8 address and BG-9 contact e-mail."""
    party = _party(snapshot)
    email = snapshot.get("email", "").strip()
    endpoint, scheme = snapshot.get("endpoint_id", "").strip(), snapshot.get("endpoint_scheme", "").strip()
    if endpoint and scheme:
        party["einvoicing_addr"], party["einvoicing_addr_schemeid"] = endpoint, scheme
    elif email:
        party["einvoicing_addr"], party["einvoicing_addr_schemeid"] = email, EMAIL_SCHEME
    if email:
        party["contacts"] = [{"email": email}]
    return party


def _party(snapshot: dict) -> dict:
    name = (snapshot.get("name") or "").strip()
    legal_name = (snapshot.get("legal_name") or "").strip() or name
    party = {"name": legal_name}
    if name and name != legal_name:
        party["biz_name"] = name
    for key, source in (
        ("addr_l1", "street"),
        ("addr_l2", "address_line_2"),
        ("postcode", "postcode"),
        ("city", "city"),
        ("country_code", "country"),
        ("vat_identifier", "vat_id"),
    ):
        _put(party, key, (snapshot.get(source) or "").strip())
    if "country_code" in party:
        party["country_code"] = party["country_code"].upper()
    return party


# ---------------------------------------------------------------------------------------------
# VAT and lines


def _vat_group(group: dict, money) -> dict:
    """BG-23: BT-116 taxable, BT-117 tax, BT-118 category, BT-119 rate, BT-120/121 exemption."""
    category = group["category"]
    result = {"BT-116": money(group["taxable"]), "BT-117": money(group["tax"]), "BT-118": category}
    if category not in NO_RATE_CATEGORIES:
        result["BT-119"] = _rate(group["rate"])
    _put(result, "BT-120", (group.get("exemption_reason") or "").strip())
    _put(result, "BT-121", (group.get("exemption_code") or "").strip())
    return result


def _line(index: int, line, currency: str, sign: int) -> dict:
    """BG-25: BT-126 id, BT-127 note (the work order), BT-129/130 quantity and unit, BT-131 net, BT-146 net
    price, BT-151/152 VAT, BT-153/154 name and description, BT-155 part number, BG-26 BT-134/135 the date
    of service, BG-27 the line allowance (BT-136 amount, BT-137 base, BT-138 %, BT-139 reason).

    A negative unit price is written as a positive price with a negative quantity (BR-27: the item net
    price is never negative). The allowance is the difference between quantity × price rounded to the
    currency and the stored net, so the line multiplies out as printed; a negative difference (a net
    above quantity × price) is a line charge (BG-28).
    """
    quantity = sign * Decimal(line.quantity)
    price = Decimal(line.unit_price)
    if price < 0:
        quantity, price = -quantity, -price
    net = calculations.quantize(sign * Decimal(line.net_amount), currency)
    gross = calculations.quantize(quantity * price, currency)
    result = {
        "BT-126": str(index),
        "BT-129": _plain(quantity.quantize(QUANTITY_EXPONENT)),
        "BT-130": UNIT_CODES.get((line.unit or "").strip().lower(), DEFAULT_UNIT_CODE),
        "BT-131": _money(net, currency),
        "BT-146": _price(price, currency),
        "BT-151": line.tax_category,
        "BT-153": line.description.strip() or str(line.get_kind_display()),
    }
    if line.tax_category not in NO_RATE_CATEGORIES:
        result["BT-152"] = _rate(line.tax_rate)
    _put(result, "BT-154", (line.detail or "").strip())
    if line.part_id and line.part is not None:
        result["BT-155"] = line.part.sku
    work_order = line.work_order
    if work_order is not None:
        note = f"{work_order.number} · {work_order.title}"
        if work_order.site_id:
            note += f" · {work_order.site.name}"
        result["BT-127-00"] = [{"BT-127": note}]
    if line.service_date:
        result["BT-134"] = result["BT-135"] = _iso(line.service_date)
    difference = gross - net
    if difference > 0:
        allowance = {
            "amount": _money(difference, currency),
            "base_amount": _money(gross, currency),
            "reason": _allowance_reason(line),
        }
        percent = Decimal(line.discount_percent or 0)
        if percent > 0:
            allowance["rate"] = _rate(percent)
        result["BG-27"] = [allowance]
    elif difference < 0:
        result["BG-28"] = [{"amount": _money(-difference, currency), "reason": "Rounding"}]
    return result


def _allowance_reason(line) -> str:
    """BT-139: the discount reason; a contract-covered line names its contract (rule 4)."""
    reason = (line.discount_reason or "").strip()
    if reason:
        return reason
    if line.contract_id and line.contract is not None:
        return f"Covered by service contract {line.contract}"
    return "Discount"


# ---------------------------------------------------------------------------------------------
# formatting


def _put(target: dict, key: str, value) -> None:
    if value:
        target[key] = value


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _compact(text: str) -> str:
    return "".join((text or "").split()).upper()


def _plain(number: Decimal) -> str:
    """A Decimal without trailing zeros or exponent: 2.5000 → "2.5", 3.0000 → "3"."""
    text = f"{number.normalize():f}"
    return "0" if text in {"-0", "0"} else text


def _money(amount: Decimal, currency: str) -> str:
    return str(calculations.quantize(amount, currency))


def _rate(rate) -> str:
    return str(Decimal(rate).quantize(Decimal("0.01")))


def _price(price: Decimal, currency: str) -> str:
    """BT-146 with the currency's decimals, or up to 4 when the price has them (12.5 → "12.50")."""
    places = max(calculations.check_currency(currency), 2)
    exact = Decimal(price).quantize(QUANTITY_EXPONENT)
    shown = exact.quantize(Decimal(1).scaleb(-places))
    return str(shown if shown == exact else exact.normalize())
