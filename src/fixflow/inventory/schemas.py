"""API schemas for the parts catalogue."""

from datetime import datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class PartRef(Schema):
    id: int
    sku: str
    name: str
    unit: str


class PartIn(Schema):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field("pc", min_length=1, max_length=20)
    unit_cost: Decimal = Field(Decimal(0), ge=0, max_digits=12, decimal_places=4)
    sale_price: Decimal = Field(Decimal(0), ge=0, max_digits=12, decimal_places=4)
    barcode: str = Field("", max_length=64)
    is_active: bool = True


class PartPatch(Schema):
    sku: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=200)
    unit: str | None = Field(None, min_length=1, max_length=20)
    unit_cost: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=4)
    sale_price: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=4)
    barcode: str | None = Field(None, max_length=64)
    is_active: bool | None = None


class PartOut(Schema):
    id: int
    sku: str
    name: str
    unit: str
    unit_cost: Decimal
    sale_price: Decimal
    barcode: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime
