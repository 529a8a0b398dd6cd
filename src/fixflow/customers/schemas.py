from datetime import datetime
from decimal import Decimal

from ninja import Schema
from pydantic import EmailStr, Field


class ClientIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    billing_address: str = ""
    vat_id: str = Field("", max_length=32)
    email: EmailStr | None = None
    phone: str = Field("", max_length=50)
    notes: str = ""
    is_active: bool = True


class ClientPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    billing_address: str | None = None
    vat_id: str | None = Field(None, max_length=32)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    notes: str | None = None
    is_active: bool | None = None


class ClientOut(Schema):
    id: int
    name: str
    billing_address: str
    vat_id: str
    email: str
    phone: str
    notes: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ContactIn(Schema):
    client_id: int
    name: str = Field(min_length=1, max_length=200)
    job_title: str = Field("", max_length=100)
    email: EmailStr | None = None
    phone: str = Field("", max_length=50)
    is_primary: bool = False
    notes: str = ""


class ContactPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    job_title: str | None = Field(None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    is_primary: bool | None = None
    notes: str | None = None


class ContactOut(Schema):
    id: int
    client_id: int
    name: str
    job_title: str
    email: str
    phone: str
    is_primary: bool
    notes: str
    version: int


class SiteIn(Schema):
    client_id: int
    name: str = Field(min_length=1, max_length=200)
    address: str = ""
    timezone: str = "Europe/Berlin"
    latitude: Decimal | None = Field(None, ge=-90, le=90)
    longitude: Decimal | None = Field(None, ge=-180, le=180)
    access_notes: str = ""
    is_active: bool = True


class SitePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = None
    timezone: str | None = None
    latitude: Decimal | None = Field(None, ge=-90, le=90)
    longitude: Decimal | None = Field(None, ge=-180, le=180)
    access_notes: str | None = None
    is_active: bool | None = None


class SiteOut(Schema):
    id: int
    client_id: int
    client_name: str = Field(alias="client.name")
    name: str
    address: str
    timezone: str
    latitude: Decimal | None
    longitude: Decimal | None
    access_notes: str
    is_active: bool
    version: int
