"""API schemas for equipment categories and equipment, and the small references other apps nest."""

from datetime import date, datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

CriticalityValue = Literal["low", "medium", "high", "critical"]
EquipmentStatusValue = Literal["operational", "down", "retired"]


# --- references nested in other objects -----------------------------------------------------------


class UserRef(Schema):
    id: int
    full_name: str


class ClientRef(Schema):
    id: int
    name: str


class SiteRef(Schema):
    id: int
    name: str
    timezone: str


class CategoryRef(Schema):
    id: int
    name: str


class EquipmentRef(Schema):
    id: int
    name: str
    serial_number: str


# --- categories -----------------------------------------------------------------------------------


class CategoryIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    description: str = ""


class CategoryPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = None


class CategoryOut(Schema):
    id: int
    name: str
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


# --- equipment ------------------------------------------------------------------------------------


class EquipmentIn(Schema):
    site_id: int
    name: str = Field(min_length=1, max_length=200)
    parent_id: int | None = None
    category_id: int | None = None
    manufacturer: str = Field("", max_length=100)
    model: str = Field("", max_length=100)
    serial_number: str = Field("", max_length=100)
    install_date: date | None = None
    warranty_end: date | None = None
    criticality: CriticalityValue = "medium"
    status: EquipmentStatusValue = "operational"
    notes: str = ""


class EquipmentPatch(Schema):
    site_id: int | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    parent_id: int | None = None
    category_id: int | None = None
    manufacturer: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=100)
    serial_number: str | None = Field(None, max_length=100)
    install_date: date | None = None
    warranty_end: date | None = None
    criticality: CriticalityValue | None = None
    status: EquipmentStatusValue | None = None
    notes: str | None = None


class EquipmentParentRef(Schema):
    id: int
    name: str


class EquipmentOut(Schema):
    id: int
    name: str
    client: ClientRef = Field(alias="site.client")
    site: SiteRef
    parent: EquipmentParentRef | None
    category: CategoryRef | None
    manufacturer: str
    model: str
    serial_number: str
    install_date: date | None
    warranty_end: date | None
    criticality: CriticalityValue
    status: EquipmentStatusValue
    notes: str
    version: int
    created_at: datetime
    updated_at: datetime


class EquipmentWorkOrderOut(Schema):
    """One line of an equipment's work history."""

    id: int
    number: str
    title: str
    type: str
    priority: str
    status: str
    billing_status: str
    lead_technician: UserRef | None
    scheduled_start: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
