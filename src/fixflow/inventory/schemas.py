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
    category_id: int | None = Field(None, description="Its part category (service contracts cover parts by category).")
    is_active: bool = True


class PartPatch(Schema):
    sku: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=200)
    unit: str | None = Field(None, min_length=1, max_length=20)
    unit_cost: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=4)
    sale_price: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=4)
    barcode: str | None = Field(None, max_length=64)
    category_id: int | None = Field(None, description="Send null to take the part out of its category.")
    is_active: bool | None = None


class PartOut(Schema):
    id: int
    sku: str
    name: str
    unit: str
    unit_cost: Decimal
    sale_price: Decimal
    barcode: str
    category_id: int | None
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PartCategoryIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class PartCategoryPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)


class PartCategoryOut(Schema):
    id: int
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
