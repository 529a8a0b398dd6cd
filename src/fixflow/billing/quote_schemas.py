"""API schemas of quotes: the quote with its lines and VAT breakdown, its inputs, sending and converting.

The In/Patch schemas check the shape (types, lengths); :mod:`.quote_services` checks the meaning (the
client's sites, tax rates of the organization, the state of the quote…) and answers 422 or 409 naming the
field. Unit costs are not shown: client users read quotes too.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from fixflow.core.errors import DomainError

from . import calculations as calc
from .choices import LineKind, QuoteConversion, QuoteStatus
from .quote_selectors import quote_lines, quote_tax_breakdown
from .quote_services import public_url


def _amount(value, currency: str) -> Decimal:
    """An amount with the currency's decimals (stored with 3): ``192.000`` EUR → ``192.00``."""
    try:
        return calc.quantize(value, currency)
    except DomainError:  # an unknown currency code: show what is stored
        return value


class QuoteLineOut(Schema):
    id: int
    position: int
    kind: str
    description: str
    detail: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    discount_reason: str
    net_amount: Decimal
    tax_category: str
    tax_rate: Decimal
    exemption_reason: str
    exemption_code: str
    part_id: int | None

    @staticmethod
    def resolve_net_amount(obj) -> Decimal:
        return _amount(obj.net_amount, obj.quote.currency)


class TaxGroupOut(Schema):
    category: str = Field(description="EN 16931 VAT category (UNCL5305)")
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_reason: str


class QuoteOut(Schema):
    id: int
    number: str
    title: str
    status: str = Field(description="draft, sent, accepted, rejected or expired")
    client_id: int
    client_name: str
    site_id: int | None
    equipment_id: int | None
    work_request_id: int | None
    work_order_id: int | None = Field(description="The work order the quote was made from")
    currency: str
    issue_date: date | None = Field(description="Set when the quote is sent")
    valid_until: date | None
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    sent_at: datetime | None
    sent_to: str
    decided_at: datetime | None
    decided_by_name: str
    rejection_reason: str
    converted_at: datetime | None
    conversion: str = Field(description="fixed_price or estimate for a work order; empty otherwise")
    converted_work_order_id: int | None
    converted_invoice_id: int | None
    public_url: str | None = Field(description="Where the client accepts or rejects it (once sent)")
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_client_name(obj) -> str:
        return obj.client.name

    @staticmethod
    def resolve_total_net(obj) -> Decimal:
        return _amount(obj.total_net, obj.currency)

    @staticmethod
    def resolve_total_tax(obj) -> Decimal:
        return _amount(obj.total_tax, obj.currency)

    @staticmethod
    def resolve_total_gross(obj) -> Decimal:
        return _amount(obj.total_gross, obj.currency)

    @staticmethod
    def resolve_public_url(obj) -> str | None:
        return public_url(obj) if obj.sent_at is not None else None


class QuoteDetailOut(QuoteOut):
    introduction: str
    terms: str
    decided_from_ip: str | None
    has_signature: bool
    lines: list[QuoteLineOut]
    tax_breakdown: list[TaxGroupOut]

    @staticmethod
    def resolve_has_signature(obj) -> bool:
        return bool(obj.decision_signature)

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(quote_lines(quote=obj))

    @staticmethod
    def resolve_tax_breakdown(obj) -> list:
        return quote_tax_breakdown(quote=obj)


class QuoteIn(Schema):
    client_id: int | None = Field(None, description="For a blank quote; implied by a request or work order")
    work_request_id: int | None = Field(None, description="Make the quote from this request")
    work_order_id: int | None = Field(
        None, description="Make the quote from this work order, with its estimated labour and planned materials"
    )
    title: str | None = Field(None, max_length=200)
    site_id: int | None = None
    equipment_id: int | None = None
    introduction: str = Field("", max_length=20000)
    terms: str = Field("", max_length=20000)
    valid_until: date | None = None


class QuotePatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    introduction: str | None = Field(None, max_length=20000)
    terms: str | None = Field(None, max_length=20000)
    site_id: int | None = None
    equipment_id: int | None = None
    valid_until: date | None = None


class QuoteLineIn(Schema):
    kind: LineKind = LineKind.MANUAL
    description: str | None = Field(None, max_length=500, description="Default: the part's name")
    detail: str = Field("", max_length=2000)
    quantity: Decimal = Field(Decimal(1), gt=0)
    unit: str | None = Field(None, max_length=20)
    unit_price: Decimal | None = Field(
        None, description="Empty for a part, labour or travel: priced from the price lists and rates"
    )
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100)
    discount_reason: str = Field("", max_length=200)
    tax_rate_id: int | None = Field(None, description="Default: the client's tax rate, else the organization's")
    part_id: int | None = None


class QuoteLinePatch(Schema):
    kind: LineKind | None = None
    description: str | None = Field(None, min_length=1, max_length=500)
    detail: str | None = Field(None, max_length=2000)
    quantity: Decimal | None = Field(None, gt=0)
    unit: str | None = Field(None, max_length=20)
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = Field(None, ge=0, le=100)
    discount_reason: str | None = Field(None, max_length=200)
    tax_rate_id: int | None = None
    part_id: int | None = None


class QuoteLineOrderIn(Schema):
    line_ids: list[int] = Field(description="Every line of the quote, once, in the new order")


class QuoteSendIn(Schema):
    to: str | None = Field(None, max_length=254, description="Default: the client's primary contact")
    message: str = Field("", max_length=5000, description="A personal note above the link in the e-mail")
    valid_until: date | None = Field(None, description="Default: today + the quote validity of the settings")


class QuoteConvertIn(Schema):
    target: Literal["work_order", "invoice"]
    mode: QuoteConversion = Field(
        QuoteConversion.FIXED_PRICE, description="For a work order: fixed_price (the net total) or estimate"
    )
    site_id: int | None = Field(None, description="Where the work is done, when the quote names no site")


class QuoteFilter(Schema):
    status: QuoteStatus | None = None
    client_id: int | None = None
    q: str | None = Field(None, description="Search number, title and client")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
