"""API schemas of the billing configuration: settings, tax rates, rate classes, technicians, rates, price
lists and their part prices, clients' billing details, service contracts.

The In/Patch schemas check only the shape (types, lengths); the services check the meaning (VAT rules,
the IBAN's check digits, ids of the organization…) and answer 422 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from fixflow.inventory.schemas import PartRef

from .choices import ContractPeriod, RateKind, VatCategory

Price = Decimal  # per hour or per unit, up to 4 decimals
COUNTRY = "ISO 3166-1 alpha-2 country code, e.g. DE"


# --- settings ---------------------------------------------------------------------------------


class BillingSettingsOut(Schema):
    legal_name: str
    street: str
    address_line_2: str
    postcode: str
    city: str
    country: str = Field(description=COUNTRY)
    vat_id: str
    tax_number: str
    registration_id: str
    email: str
    phone: str
    bank_name: str
    iban: str
    bic: str
    payment_terms_days: int
    payment_terms_note: str
    logo_url: str | None = Field(description="The logo printed on quotes and invoices (PNG or JPEG).")
    invoice_series: str
    credit_note_series: str
    quote_prefix: str
    default_tax_rate_id: int | None
    labour_minimum_minutes: int
    labour_increment_minutes: int
    parts_markup_percent: Decimal
    call_out_fee: Decimal
    overtime_calendar_id: int | None = Field(description="Working hours; labour outside them is overtime.")
    overtime_multiplier: Decimal
    leakage_days: int
    quote_validity_days: int
    version: int
    updated_at: datetime

    @staticmethod
    def resolve_logo_url(obj) -> str | None:
        return obj.logo.url if obj.logo else None


class BillingSettingsPatch(Schema):
    legal_name: str | None = Field(None, max_length=200)
    street: str | None = Field(None, max_length=200)
    address_line_2: str | None = Field(None, max_length=200)
    postcode: str | None = Field(None, max_length=20)
    city: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2, description=COUNTRY)
    vat_id: str | None = Field(None, max_length=40, description="With its country prefix, e.g. DE123456789")
    tax_number: str | None = Field(None, max_length=32)
    registration_id: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=50)
    bank_name: str | None = Field(None, max_length=100)
    iban: str | None = Field(None, max_length=50, description="Checked with its check digits (ISO 13616)")
    bic: str | None = Field(None, max_length=20)
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    payment_terms_note: str | None = Field(None, max_length=300)
    invoice_series: str | None = Field(None, min_length=1, max_length=20)
    credit_note_series: str | None = Field(None, min_length=1, max_length=20)
    quote_prefix: str | None = Field(None, min_length=1, max_length=20)
    default_tax_rate_id: int | None = None
    labour_minimum_minutes: int | None = Field(None, ge=0, le=480)
    labour_increment_minutes: int | None = Field(None, ge=1, le=240)
    parts_markup_percent: Decimal | None = Field(None, ge=0, le=1000)
    call_out_fee: Decimal | None = Field(None, ge=0)
    overtime_calendar_id: int | None = None
    overtime_multiplier: Decimal | None = Field(None, ge=1, le=10)
    leakage_days: int | None = Field(None, ge=1, le=365)
    quote_validity_days: int | None = Field(None, ge=1, le=365)


# --- tax rates --------------------------------------------------------------------------------


class TaxRateIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    category: VatCategory = Field(VatCategory.STANDARD, description="EN 16931 VAT category (UNCL5305)")
    rate: Decimal = Field(ge=0, le=100, description="Percent; 0 for every category but S")
    exemption_reason: str = Field("", max_length=300, description="Needed for E, AE, K, G and O (or a code)")
    exemption_code: str = Field("", max_length=30, description="VATEX code, e.g. VATEX-EU-AE")
    is_active: bool = True


class TaxRatePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    category: VatCategory | None = None
    rate: Decimal | None = Field(None, ge=0, le=100)
    exemption_reason: str | None = Field(None, max_length=300)
    exemption_code: str | None = Field(None, max_length=30)
    is_active: bool | None = None


class TaxRateOut(Schema):
    id: int
    name: str
    category: str
    rate: Decimal
    exemption_reason: str
    exemption_code: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class TaxRateFilter(Schema):
    is_active: bool | None = None
    q: str | None = None
    cursor: str | None = None
    limit: int = 50


# --- rate classes, technicians, rates ---------------------------------------------------------


class RateClassIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class RateClassPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)


class RateClassOut(Schema):
    id: int
    name: str
    technician_count: int = 0
    version: int
    created_at: datetime
    updated_at: datetime


class PageFilter(Schema):
    cursor: str | None = None
    limit: int = 50


class TechnicianOut(Schema):
    user_id: int
    name: str
    email: str
    role: str
    is_active: bool
    rate_class_id: int | None = Field(description="None: billed at the organization's (or price list's) default")
    rate_class_name: str


class TechnicianRateClassIn(Schema):
    rate_class_id: int | None = Field(description="The rate class; null for none")


class RateIn(Schema):
    price_list_id: int | None = Field(None, description="None: the organization's default rates")
    rate_class_id: int | None = Field(None, description="None: any technician")
    kind: RateKind = RateKind.LABOUR
    unit_price: Price = Field(ge=0, description="Price per hour, net")
    unit_cost: Price = Field(Decimal(0), ge=0, description="Cost per hour (for margins)")


class RatePatch(Schema):
    unit_price: Price | None = Field(None, ge=0)
    unit_cost: Price | None = Field(None, ge=0)


class RateOut(Schema):
    id: int
    price_list_id: int | None
    rate_class_id: int | None
    kind: str
    unit_price: Decimal
    unit_cost: Decimal


class RateFilter(Schema):
    price_list_id: int | None = Field(None, description="Rates of this price list")
    organization_only: bool = Field(False, description="Only the organization's default rates (no price list)")
    rate_class_id: int | None = None
    kind: RateKind | None = None
    cursor: str | None = None
    limit: int = 50


# --- price lists ------------------------------------------------------------------------------


class PriceListIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    currency: str | None = Field(None, min_length=3, max_length=3, description="ISO 4217; default the organization's")
    parts_markup_percent: Decimal | None = Field(None, ge=0, le=1000, description="None: the organization's")
    call_out_fee: Price | None = Field(None, ge=0, description="None: the organization's")
    is_active: bool = True


class PriceListPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    currency: str | None = Field(None, min_length=3, max_length=3)
    parts_markup_percent: Decimal | None = Field(None, ge=0, le=1000)
    call_out_fee: Price | None = Field(None, ge=0)
    is_active: bool | None = None


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    parts_markup_percent: Decimal | None
    call_out_fee: Decimal | None
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PriceListFilter(Schema):
    is_active: bool | None = None
    q: str | None = None
    cursor: str | None = None
    limit: int = 50


class PriceListItemIn(Schema):
    part_id: int
    unit_price: Price = Field(ge=0)


class PriceListItemPatch(Schema):
    unit_price: Price = Field(ge=0)


class PriceListItemOut(Schema):
    id: int
    price_list_id: int
    part: PartRef
    unit_price: Decimal


class PriceListItemFilter(Schema):
    q: str | None = Field(None, description="Search SKU and part name")
    cursor: str | None = None
    limit: int = 50


class PriceListImportIn(Schema):
    text: str = Field(min_length=1, max_length=500_000, description="One part per line: SKU;price (or SKU, tab, price)")


class PriceListImportOut(Schema):
    created: int
    updated: int
    unchanged: int


# --- clients' billing details -----------------------------------------------------------------


class ClientBillingOut(Schema):
    client_id: int
    client_name: str
    legal_name: str
    street: str
    address_line_2: str
    postcode: str
    city: str
    country: str
    vat_id: str = Field(description="The client's VAT id (the same field as on the client)")
    buyer_reference: str
    endpoint_scheme: str
    endpoint_id: str
    invoice_email: str
    currency: str = Field(description="Empty: the price list's, else the organization's")
    effective_currency: str = Field(description="The currency the client is invoiced in")
    price_list_id: int | None
    tax_rate_id: int | None
    payment_terms_days: int | None
    version: int = Field(description="The client's version (also the ETag)")


class ClientBillingPatch(Schema):
    legal_name: str | None = Field(None, max_length=200)
    street: str | None = Field(None, max_length=200)
    address_line_2: str | None = Field(None, max_length=200)
    postcode: str | None = Field(None, max_length=20)
    city: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2, description=COUNTRY)
    vat_id: str | None = Field(None, max_length=40)
    buyer_reference: str | None = Field(None, max_length=100, description="Leitweg-ID, PO or cost centre (BT-10)")
    endpoint_scheme: str | None = Field(None, max_length=10, description="EAS code, e.g. 0204, 9930, EM")
    endpoint_id: str | None = Field(None, max_length=100)
    invoice_email: str | None = Field(None, max_length=254)
    currency: str | None = Field(None, max_length=3)
    price_list_id: int | None = None
    tax_rate_id: int | None = None
    payment_terms_days: int | None = Field(None, ge=0, le=365)


# --- service contracts ------------------------------------------------------------------------


class ContractIn(Schema):
    client_id: int
    name: str = Field(min_length=1, max_length=200)
    reference: str = Field("", max_length=64)
    valid_from: date
    valid_until: date | None = None
    site_ids: list[int] = Field(default_factory=list, description="Covered sites of the client; none: all")
    equipment_ids: list[int] = Field(default_factory=list, description="Covered equipment at those sites")
    included_labour_minutes: int = Field(0, ge=0, description="Labour included per period, in minutes")
    period: ContractPeriod = ContractPeriod.YEAR
    covers_travel: bool = False
    covered_part_category_ids: list[int] = Field(default_factory=list)
    waives_call_out: bool = False
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100, description="On the work it does not cover")
    price_list_id: int | None = None
    is_active: bool = True
    notes: str = Field("", max_length=5000)


class ContractPatch(Schema):
    client_id: int | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    reference: str | None = Field(None, max_length=64)
    valid_from: date | None = None
    valid_until: date | None = None
    site_ids: list[int] | None = None
    equipment_ids: list[int] | None = None
    included_labour_minutes: int | None = Field(None, ge=0)
    period: ContractPeriod | None = None
    covers_travel: bool | None = None
    covered_part_category_ids: list[int] | None = None
    waives_call_out: bool | None = None
    discount_percent: Decimal | None = Field(None, ge=0, le=100)
    price_list_id: int | None = None
    is_active: bool | None = None
    notes: str | None = Field(None, max_length=5000)


class ContractOut(Schema):
    id: int
    client_id: int
    name: str
    reference: str
    valid_from: date
    valid_until: date | None
    site_ids: list[int]
    equipment_ids: list[int]
    included_labour_minutes: int
    period: str
    covers_travel: bool
    covered_part_category_ids: list[int]
    waives_call_out: bool
    discount_percent: Decimal
    price_list_id: int | None
    is_active: bool
    notes: str
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_site_ids(obj) -> list[int]:
        return sorted(s.pk for s in obj.sites.all())

    @staticmethod
    def resolve_equipment_ids(obj) -> list[int]:
        return sorted(e.pk for e in obj.equipment.all())

    @staticmethod
    def resolve_covered_part_category_ids(obj) -> list[int]:
        return sorted(c.pk for c in obj.covered_part_categories.all())


class ContractFilter(Schema):
    client_id: int | None = None
    is_active: bool | None = None
    q: str | None = Field(None, description="Search name, reference and client")
    cursor: str | None = None
    limit: int = 50
