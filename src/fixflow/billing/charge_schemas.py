"""API schemas of the charges recorded on work orders: call-out fees, fixed charges and expenses.

``ChargeIn`` checks the shape (types, lengths, at most 3 decimals of quantity and 4 of price); the service
checks the meaning (the work order still open for charges, the receipt a file of this work order) and
answers 409/422 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from fixflow.assets.schemas import UserRef

ChargeKindValue = Literal["call_out", "fixed", "expense"]


class ChargeIn(Schema):
    kind: ChargeKindValue = Field("expense", description="call_out (call-out fee), fixed (fixed charge), expense")
    description: str = Field(min_length=1, max_length=300)
    quantity: Decimal = Field(Decimal(1), gt=0, max_digits=12, decimal_places=3)
    unit: str = Field("pc", max_length=20)
    unit_price: Decimal = Field(ge=0, max_digits=14, decimal_places=4, description="Net, in the invoice's currency")
    unit_cost: Decimal = Field(Decimal(0), ge=0, max_digits=14, decimal_places=4)
    incurred_on: date | None = Field(None, description="Defaults to today (the organization's time zone).")
    is_billable: bool = True
    receipt_id: int | None = Field(None, description="A file attached to this work order (the receipt).")


class ChargeOut(Schema):
    id: int
    work_order_id: int
    kind: ChargeKindValue
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    unit_cost: Decimal
    amount: Decimal = Field(description="quantity × unit price, net, before any discount on the invoice")
    incurred_on: date
    is_billable: bool
    receipt_id: int | None
    invoice_id: int | None = Field(description="The invoice (draft or issued) the charge is on, if any.")
    invoice_number: str | None
    created_by: UserRef | None
    created_at: datetime

    @staticmethod
    def resolve_amount(obj) -> Decimal:
        return (obj.quantity * obj.unit_price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @staticmethod
    def resolve_invoice_id(obj) -> int | None:
        return getattr(obj, "invoice_id", None)

    @staticmethod
    def resolve_invoice_number(obj) -> str | None:
        return getattr(obj, "invoice_number", None)


class ChargeFilter(Schema):
    cursor: str | None = None
    limit: int = 50
