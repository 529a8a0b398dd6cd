"""API schemas of invoices and credit notes: the list and its filters, the detail with lines, VAT breakdown
and payments, draft edits, lines, issuing, sending, payments, credit notes, invoicing closed work.

The In/Patch schemas check the shape only (types, lengths); ``billing.services`` checks the meaning (a
draft, a rate of this organization, a payment not above what is due…) and answers 422 or 409 naming the
field or the rule. Amounts are decimal strings in the invoice's currency.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from . import calculations as calc
from .choices import DocumentType

KIND = {DocumentType.INVOICE: "invoice", DocumentType.CREDIT_NOTE: "credit_note"}


def _field(obj, name: str):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _amount(obj, name: str) -> Decimal:
    """An amount as the document carries it: rounded to its currency (``160.00``, ``8925`` for yen), whatever
    the column's scale; a line or a payment takes its invoice's currency."""
    value = _field(obj, name)
    currency = obj.get("currency") if isinstance(obj, dict) else getattr(obj, "currency", None)
    if currency is None:
        currency = obj.invoice.currency
    return calc.quantize(value, currency)


class InvoiceFilter(Schema):
    status: str | None = Field(
        None, description="Comma-separated states: draft, issued, partially_paid, paid, credited"
    )
    client: int | None = Field(None, description="A client's id")
    kind: Literal["invoice", "credit_note"] | None = None
    date_from: date | None = Field(None, description="Issued on or after (drafts have no issue date)")
    date_to: date | None = Field(None, description="Issued on or before")
    overdue: bool = Field(False, description="Only issued invoices with an amount due past their due date")
    q: str | None = Field(None, max_length=100, description="Part of the number or of the client's name")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class AccountingExportQuery(Schema):
    date_from: date = Field(description="First issue date of the period")
    date_to: date = Field(description="Last issue date of the period (inclusive)")


class XmlFormatQuery(Schema):
    format: str = Field("cii", description="cii (Factur-X / ZUGFeRD, EN 16931) or ubl (Peppol BIS Billing 3.0)")


class WorkOrderRef(Schema):
    id: int
    number: str
    title: str


class InvoiceSummaryOut(Schema):
    id: int
    kind: str = Field(description="invoice (type 380) or credit_note (type 381)")
    document_type: str
    number: str | None = Field(description="Assigned when issued; null for drafts")
    status: str
    client_id: int
    client_name: str
    currency: str
    issue_date: date | None
    due_date: date | None
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    is_overdue: bool = False
    credited_invoice_id: int | None
    sent_at: datetime | None
    version: int

    # the detail is built as a dict (its lines are not the model's ``lines`` manager): both are read
    @staticmethod
    def resolve_kind(obj) -> str:
        if isinstance(obj, dict):
            return obj["kind"]
        return KIND.get(obj.document_type, obj.document_type)

    @staticmethod
    def resolve_client_name(obj) -> str:
        return obj["client_name"] if isinstance(obj, dict) else obj.client.name

    @staticmethod
    def resolve_total_net(obj) -> Decimal:
        return _amount(obj, "total_net")

    @staticmethod
    def resolve_total_tax(obj) -> Decimal:
        return _amount(obj, "total_tax")

    @staticmethod
    def resolve_total_gross(obj) -> Decimal:
        return _amount(obj, "total_gross")

    @staticmethod
    def resolve_amount_paid(obj) -> Decimal:
        return _amount(obj, "amount_paid")

    @staticmethod
    def resolve_amount_due(obj) -> Decimal:
        return _amount(obj, "amount_due")


class InvoiceLineOut(Schema):
    id: int
    number: int = Field(0, description="The line's number on the PDF and its id in the e-invoice (BT-126)")
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
    work_order: WorkOrderRef | None
    service_date: date | None
    contract_id: int | None
    part_id: int | None
    time_entry_id: int | None
    part_usage_id: int | None
    charge_id: int | None
    credited_line_id: int | None
    billed_minutes: int
    is_overtime: bool

    @staticmethod
    def resolve_net_amount(obj) -> Decimal:
        return _amount(obj, "net_amount")


class VatGroupOut(Schema):
    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_reason: str = ""
    exemption_code: str = ""


class PaymentOut(Schema):
    id: int
    invoice_id: int
    amount: Decimal
    paid_on: date
    method: str
    reference: str
    created_at: datetime

    @staticmethod
    def resolve_amount(obj) -> Decimal:
        return _amount(obj, "amount")


class InvoiceOut(InvoiceSummaryOut):
    series: str
    buyer_reference: str
    order_reference: str
    note: str
    payment_terms: str
    service_from: date | None
    service_until: date | None
    credit_reason: str
    credited_invoice_number: str | None = None
    seller: dict = Field(description="The seller as issued (empty on drafts)")
    buyer: dict = Field(description="The buyer as issued (empty on drafts)")
    issued_at: datetime | None
    sent_to: str
    lines: list[InvoiceLineOut]
    vat_breakdown: list[VatGroupOut] = Field(description="EN 16931 BG-23: one group per VAT category and rate")
    payments: list[PaymentOut]
    credit_note_ids: list[int] = Field(description="Credit notes of this invoice")
    pdf_url: str | None = Field(description="Download of the issued PDF (PDF/A-3b with the CII inside)")
    xml_url: str | None = Field(description="Download of the e-invoice (CII; ?format=ubl for UBL)")


class InvoicePatch(Schema):
    due_date: date | None = None
    buyer_reference: str | None = Field(None, max_length=100)
    order_reference: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=5000)
    payment_terms: str | None = Field(None, max_length=300)


class InvoiceLineIn(Schema):
    description: str = Field(max_length=500)
    quantity: Decimal
    unit_price: Decimal = Field(description="Net, up to 4 decimals; may be negative (a deduction)")
    unit: str = Field("pc", max_length=20)
    detail: str = Field("", max_length=2000)
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100)
    discount_reason: str = Field("", max_length=200, description="Needed with a discount")
    service_date: date | None = None
    work_order_id: int | None = Field(None, description="A work order of the invoice's client")
    tax_rate_id: int | None = Field(None, description="Default: the client's tax rate, else the organization's")


class InvoiceLinePatch(Schema):
    description: str | None = Field(None, max_length=500)
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    unit: str | None = Field(None, max_length=20)
    detail: str | None = Field(None, max_length=2000)
    discount_percent: Decimal | None = Field(None, ge=0, le=100)
    discount_reason: str | None = Field(None, max_length=200)
    service_date: date | None = None
    work_order_id: int | None = None
    tax_rate_id: int | None = None


class ClosedWorkIn(Schema):
    client_ids: list[int] | None = Field(None, description="The clients to invoice; omitted or null: all clients")
    until: date | None = Field(None, description="Only work orders closed on or before this date")


class ClosedWorkOut(Schema):
    invoices: list[InvoiceSummaryOut] = Field(description="The drafts that received lines, oldest first")


class IssueIn(Schema):
    issue_date: date | None = Field(
        None, description="Default today; never in the future, never before the series' last invoice date"
    )


class SendIn(Schema):
    to: str | None = Field(None, max_length=254, description="Default: the client's invoice e-mail address")
    message: str = Field("", max_length=2000, description="A few words above the payment details")
    xml_format: str = Field("cii", description="cii (Factur-X / ZUGFeRD) or ubl (Peppol BIS Billing 3.0)")


class SendOut(Schema):
    id: int
    number: str | None
    sent_at: datetime
    sent_to: str
    version: int


class PaymentIn(Schema):
    amount: Decimal = Field(description="More than 0, at most what is still due, in the invoice's currency")
    paid_on: date | None = Field(None, description="Default today; never in the future")
    method: str = Field("transfer", description="transfer, card, cash, direct_debit or other")
    reference: str = Field("", max_length=200)


class CreditLineIn(Schema):
    line_id: int = Field(description="A line of the invoice being credited")
    quantity: Decimal = Field(description="How much of it to credit (at most what is left)")


class CreditNoteIn(Schema):
    reason: str = Field(max_length=300, description="Printed on the credit note and sent as its note (BT-22)")
    lines: list[CreditLineIn] | None = Field(None, description="Omitted or null: credit everything still uncredited")
