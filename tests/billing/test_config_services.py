"""Billing configuration services: seller settings, tax rates, rate classes, rates, price lists, clients'
billing details and service contracts — validation per field, permissions, isolation, and that a refused
change writes nothing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fixflow.billing import config_services as svc
from fixflow.billing import pricing
from fixflow.billing.config_services import RateRow
from fixflow.billing.models import (
    BillingSettings,
    ClientBilling,
    Invoice,
    InvoiceLine,
    PriceList,
    PriceListItem,
    Rate,
    RateClass,
    ServiceContract,
    TaxRate,
    TechnicianRateClass,
)
from fixflow.billing.services import settings_for
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import ChangeRecord
from fixflow.inventory import services as inventory_services
from fixflow.inventory.models import PartCategory
from tests.factories import EquipmentFactory, PartFactory, SiteFactory, WorkOrderFactory

REVERSE_CHARGE = {"name": "Reverse charge", "category": "AE", "rate": "0", "exemption_code": "VATEX-EU-AE"}


def refused(code: ErrorCode, field: str | None = None):
    """A context manager asserting a DomainError with ``code`` (and ``field``)."""

    class _Refused:
        def __enter__(self):
            self.ctx = pytest.raises(DomainError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            swallowed = self.ctx.__exit__(*exc)
            assert self.info.value.code == code, self.info.value
            if field is not None:
                assert self.info.value.field == field, self.info.value
            return swallowed

    return _Refused()


def png(width: int = 64, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def standard(world):
    return svc.tax_rate_create(actor=world.admin, data={"name": "VAT 19 %", "category": "S", "rate": "19"})


@pytest.fixture
def price_list(world):
    return svc.price_list_create(actor=world.admin, data={"name": "Key accounts", "currency": "EUR"})


# --- settings -----------------------------------------------------------------------------------


def test_an_admin_fills_in_the_seller_details_and_the_iban_is_kept_in_groups_of_four(world, standard):
    # given
    version = settings_for(world.org).version
    # when
    row = svc.billing_settings_update(
        actor=world.admin,
        data={
            "legal_name": "Acme Maintenance GmbH",
            "street": "Hafenstraße 12",
            "postcode": "20457",
            "city": "Hamburg",
            "country": "de",
            "vat_id": "de 123 456 789",
            "iban": "de89 3704 0044 0532 0130 00",
            "bic": "cobadeffxxx",
            "default_tax_rate_id": standard.pk,
            "labour_increment_minutes": 30,
            "overtime_multiplier": "1.25",
        },
        expected_version=version,
    )
    # then
    row.refresh_from_db()
    assert (row.country, row.vat_id, row.iban, row.bic) == (
        "DE",
        "DE123456789",
        "DE89 3704 0044 0532 0130 00",
        "COBADEFFXXX",
    )
    assert row.default_tax_rate_id == standard.pk
    assert (row.labour_increment_minutes, row.overtime_multiplier) == (30, Decimal("1.25"))
    assert row.version == version + 1
    record = ChangeRecord.objects.filter(object_type="billing.billingsettings").latest("at")
    assert record.before["iban"] == "" and record.after["iban"] == "DE89 3704 0044 0532 0130 00"


def test_an_accountant_may_change_the_billing_settings(world):
    # when
    row = svc.billing_settings_update(actor=world.accountant, data={"payment_terms_days": 30})
    # then
    assert row.payment_terms_days == 30


@pytest.mark.parametrize("role", ["dispatcher", "technician", "requester", "client_user"])
def test_other_roles_may_not_change_the_billing_settings(world, role):
    with refused(ErrorCode.PERMISSION_DENIED):
        svc.billing_settings_update(actor=world.actors[role], data={"legal_name": "Hijacked"})
    assert not BillingSettings.objects.filter(legal_name="Hijacked").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"iban": "DE89 3704 0044 0532 0130 01"}, "iban"),  # one digit typed wrong
        ({"iban": "not an iban"}, "iban"),
        ({"bic": "COBA"}, "bic"),
        ({"vat_id": "123456789"}, "vat_id"),  # no country prefix (BR-CO-09)
        ({"country": "XX"}, "country"),
        ({"email": "billing@"}, "email"),
        ({"invoice_series": "INV 2026"}, "invoice_series"),
        ({"labour_increment_minutes": 0}, "labour_increment_minutes"),
        ({"overtime_multiplier": "0.5"}, "overtime_multiplier"),
        ({"parts_markup_percent": "12.345"}, "parts_markup_percent"),
        ({"call_out_fee": "-5"}, "call_out_fee"),
        ({"quote_validity_days": "soon"}, "quote_validity_days"),
        ({"unknown": "x"}, "unknown"),
    ],
)
def test_bad_settings_are_refused_on_their_field_and_nothing_changes(world, data, field):
    # given
    before = settings_for(world.org)
    # when
    with refused(ErrorCode.VALIDATION, field):
        svc.billing_settings_update(actor=world.admin, data={"legal_name": "Changed", **data})
    # then
    after = BillingSettings.objects.get(pk=before.pk)
    assert (after.legal_name, after.version) == ("", before.version)


def test_a_greek_vat_id_may_use_the_el_prefix(world):
    row = svc.billing_settings_update(actor=world.admin, data={"vat_id": "EL123456789"})
    assert row.vat_id == "EL123456789"


def test_a_stale_settings_form_is_refused(world):
    # given someone saved meanwhile
    version = settings_for(world.org).version
    svc.billing_settings_update(actor=world.admin, data={"city": "Kiel"}, expected_version=version)
    # when
    with refused(ErrorCode.STALE_VERSION):
        svc.billing_settings_update(actor=world.accountant, data={"city": "Bremen"}, expected_version=version)
    # then
    assert settings_for(world.org).city == "Kiel"


def test_another_organizations_tax_rate_or_calendar_cannot_be_chosen(world, other_world):
    # given
    foreign = svc.tax_rate_create(actor=other_world.admin, data={"name": "Foreign", "category": "S", "rate": "20"})
    # then
    with refused(ErrorCode.VALIDATION, "default_tax_rate"):
        svc.billing_settings_update(actor=world.admin, data={"default_tax_rate_id": foreign.pk})
    with refused(ErrorCode.VALIDATION, "overtime_calendar"):
        svc.billing_settings_update(actor=world.admin, data={"overtime_calendar_id": 999999})


def test_an_inactive_tax_rate_cannot_become_the_default(world):
    rate = svc.tax_rate_create(actor=world.admin, data={"name": "Old 16 %", "rate": "16", "is_active": False})
    with refused(ErrorCode.VALIDATION, "default_tax_rate"):
        svc.billing_settings_update(actor=world.admin, data={"default_tax_rate_id": rate.pk})


def test_a_png_logo_is_stored_and_can_be_removed(world):
    # when
    row = svc.billing_settings_update(
        actor=world.admin, data={}, logo=SimpleUploadedFile("logo.png", png(), content_type="image/png")
    )
    # then
    assert row.logo.name.startswith("billing/logos/") and row.logo.name.endswith(".png")
    # when
    row = svc.billing_settings_update(actor=world.admin, data={}, remove_logo=True)
    # then
    assert not row.logo


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("logo.png", b"%PDF-1.7 not an image", ErrorCode.UNSUPPORTED_FILE_TYPE),
        ("logo.gif", b"GIF89a" + b"\x00" * 40, ErrorCode.UNSUPPORTED_FILE_TYPE),
        ("logo.png", png()[:60], ErrorCode.UNSUPPORTED_FILE_TYPE),  # cut off
        ("huge.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (svc.LOGO_MAX_BYTES + 1), ErrorCode.UPLOAD_TOO_LARGE),
        ("wide.png", png(4001, 20), ErrorCode.VALIDATION),
    ],
)
def test_a_bad_logo_is_refused_and_the_old_one_stays(world, name, content, code):
    # given a logo
    svc.billing_settings_update(actor=world.admin, data={}, logo=SimpleUploadedFile("a.png", png(), "image/png"))
    before = settings_for(world.org)
    # when
    with refused(code, "logo"):
        svc.billing_settings_update(actor=world.admin, data={}, logo=SimpleUploadedFile(name, content, "image/png"))
    # then
    assert settings_for(world.org).logo.name == before.logo.name


# --- tax rates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"category": "S", "rate": "0"}, "rate"),  # BR-S-05
        ({"category": "Z", "rate": "7"}, "rate"),  # BR-Z-05
        ({"category": "E", "rate": "0"}, "exemption_reason"),  # BR-E-10
        ({"category": "AE", "rate": "0", "exemption_code": "VATEX-EU-IC"}, "exemption_code"),
        ({"category": "K", "rate": "0", "exemption_code": "IC"}, "exemption_code"),
        ({"category": "E", "rate": "0", "exemption_code": "VATEX-EU-AE"}, "exemption_code"),
        ({"category": "S", "rate": "19", "exemption_reason": "none"}, "exemption_reason"),  # BR-S-10
        ({"category": "G", "rate": "19", "exemption_code": "VATEX-EU-G"}, "rate"),
        ({"category": "S", "rate": "19.555"}, "rate"),
        ({"category": "S", "rate": "101"}, "rate"),
        ({"category": "X", "rate": "0"}, "category"),
        ({"category": "S", "rate": "19", "name": " "}, "name"),
    ],
)
def test_a_tax_rate_is_checked_per_vat_category(world, data, field):
    with refused(ErrorCode.VALIDATION, field):
        svc.tax_rate_create(actor=world.accountant, data={"name": "Rate", **data})
    assert not TaxRate.objects.filter(organization=world.org).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"category": "S", "rate": "7"},
        {"category": "Z", "rate": "0"},
        {"category": "E", "rate": "0", "exemption_reason": "Steuerfrei nach § 4 Nr. 16 UStG"},
        {"category": "AE", "rate": "0", "exemption_code": "vatex-eu-ae"},
        {"category": "K", "rate": "0", "exemption_reason": "Intra-community supply", "exemption_code": "VATEX-EU-IC"},
        {"category": "G", "rate": "0", "exemption_code": "VATEX-EU-G"},
        {"category": "O", "rate": "0", "exemption_reason": "Not subject to VAT"},
        {"category": "E", "rate": "0", "exemption_code": "VATEX-EU-132-1A"},
    ],
)
def test_valid_tax_rates_of_every_category_are_saved(world, data):
    row = svc.tax_rate_create(actor=world.accountant, data={"name": "Rate", **data})
    assert row.category == data["category"] and row.exemption_code == data.get("exemption_code", "").upper()


def test_two_tax_rates_cannot_share_a_name(world, standard):
    with refused(ErrorCode.VALIDATION, "name"):
        svc.tax_rate_create(actor=world.admin, data={"name": "vat 19 %", "rate": "19"})


def _line_with(world, standard) -> InvoiceLine:
    invoice = Invoice.objects.create(organization=world.org, client=world.client, currency="EUR", series="INV")
    return InvoiceLine.objects.create(
        organization=world.org,
        invoice=invoice,
        description="Labour",
        tax_category=standard.category,
        tax_rate=standard.rate,
    )


def test_a_tax_rate_on_invoice_lines_cannot_be_deleted_or_change_its_rate_but_can_be_deactivated(world, standard):
    # given a line that copied it
    _line_with(world, standard)
    # then
    with refused(ErrorCode.CONFLICT):
        svc.tax_rate_delete(actor=world.admin, tax_rate_id=standard.pk)
    with refused(ErrorCode.CONFLICT, "rate"):
        svc.tax_rate_update(actor=world.admin, tax_rate_id=standard.pk, data={"rate": "16"})
    renamed = svc.tax_rate_update(actor=world.admin, tax_rate_id=standard.pk, data={"name": "VAT 19 % (old)"})
    off = svc.tax_rate_update(
        actor=world.admin, tax_rate_id=standard.pk, data={"is_active": False}, expected_version=renamed.version
    )
    assert (off.name, off.rate, off.is_active) == ("VAT 19 % (old)", Decimal("19.00"), False)


def test_the_default_tax_rate_and_one_clients_use_cannot_be_deactivated_or_deleted(world, standard):
    # given
    svc.billing_settings_update(actor=world.admin, data={"default_tax_rate_id": standard.pk})
    reverse = svc.tax_rate_create(
        actor=world.admin,
        data={"name": "Reverse charge", "category": "AE", "rate": "0", "exemption_code": "VATEX-EU-AE"},
    )
    svc.client_billing_update(
        actor=world.admin, client_id=world.client.pk, data={"vat_id": "ATU12345678", "tax_rate_id": reverse.pk}
    )
    # then
    for rate in (standard, reverse):
        with refused(ErrorCode.CONFLICT, "is_active"):
            svc.tax_rate_update(actor=world.admin, tax_rate_id=rate.pk, data={"is_active": False})
        with refused(ErrorCode.CONFLICT):
            svc.tax_rate_delete(actor=world.admin, tax_rate_id=rate.pk)
    assert TaxRate.objects.filter(organization=world.org, is_active=True).count() == 2


def test_an_unused_tax_rate_is_deleted(world, standard):
    svc.tax_rate_delete(actor=world.admin, tax_rate_id=standard.pk)
    assert not TaxRate.objects.filter(pk=standard.pk).exists()
    assert ChangeRecord.objects.filter(object_type="billing.taxrate", action="delete").exists()


def test_another_organizations_tax_rate_is_not_found(world, other_world):
    foreign = svc.tax_rate_create(actor=other_world.admin, data={"name": "Foreign", "rate": "20"})
    with refused(ErrorCode.NOT_FOUND):
        svc.tax_rate_update(actor=world.admin, tax_rate_id=foreign.pk, data={"name": "Mine"})
    with refused(ErrorCode.NOT_FOUND):
        svc.tax_rate_delete(actor=world.admin, tax_rate_id=foreign.pk)
    assert TaxRate.objects.get(pk=foreign.pk).name == "Foreign"


# --- rate classes, technicians, rates -----------------------------------------------------------


def test_a_technician_is_billed_at_a_rate_class_and_can_be_taken_off_it(world):
    # given
    senior = svc.rate_class_create(actor=world.admin, data={"name": "Senior engineer"})
    # when
    svc.technician_rate_class_set(actor=world.accountant, user_id=world.technician.user_id, rate_class_id=senior.pk)
    # then
    assert TechnicianRateClass.objects.get(user_id=world.technician.user_id).rate_class == senior
    with refused(ErrorCode.CONFLICT):
        svc.rate_class_delete(actor=world.admin, rate_class_id=senior.pk)
    # when
    svc.technician_rate_class_set(actor=world.accountant, user_id=world.technician.user_id, rate_class_id=None)
    svc.rate_class_delete(actor=world.admin, rate_class_id=senior.pk)
    # then
    assert not RateClass.objects.filter(pk=senior.pk).exists()


def test_only_members_who_record_work_of_this_organization_get_a_rate_class(world, other_world):
    senior = svc.rate_class_create(actor=world.admin, data={"name": "Senior engineer"})
    for user_id in (world.requester.user_id, other_world.technician.user_id, 0):
        with refused(ErrorCode.NOT_FOUND):
            svc.technician_rate_class_set(actor=world.admin, user_id=user_id, rate_class_id=senior.pk)
    foreign = svc.rate_class_create(actor=other_world.admin, data={"name": "Foreign"})
    with refused(ErrorCode.VALIDATION, "rate_class"):
        svc.technician_rate_class_set(actor=world.admin, user_id=world.technician.user_id, rate_class_id=foreign.pk)
    assert not TechnicianRateClass.objects.filter(organization=world.org).exists()


def test_one_rate_per_place_and_kind(world, price_list):
    # given
    svc.rate_create(actor=world.admin, data={"kind": "labour", "unit_price": "85", "unit_cost": "40"})
    svc.rate_create(actor=world.admin, data={"kind": "labour", "unit_price": "80", "price_list_id": price_list.pk})
    # then
    with refused(ErrorCode.VALIDATION, "kind"):
        svc.rate_create(actor=world.admin, data={"kind": "labour", "unit_price": "90"})
    assert Rate.objects.filter(organization=world.org).count() == 2


def test_the_rate_table_sets_changes_and_removes_rates_in_one_go(world, price_list):
    # given
    senior = svc.rate_class_create(actor=world.admin, data={"name": "Senior engineer"})
    svc.rates_replace(
        actor=world.admin,
        price_list_id=price_list.pk,
        rows=[RateRow(None, "labour", "80", "40"), RateRow(None, "travel", "50"), RateRow(senior.pk, "labour", "110")],
    )
    # when
    svc.rates_replace(
        actor=world.admin,
        price_list_id=price_list.pk,
        rows=[RateRow(None, "labour", "82.50", "40"), RateRow(None, "travel", ""), RateRow(senior.pk, "labour", "110")],
    )
    # then
    rates = {(r.rate_class_id, r.kind): r.unit_price for r in Rate.objects.filter(price_list=price_list)}
    assert rates == {(None, "labour"): Decimal("82.5000"), (senior.pk, "labour"): Decimal("110.0000")}


def test_a_bad_price_in_the_rate_table_names_its_cell_and_writes_nothing(world):
    with refused(ErrorCode.VALIDATION, "travel-default-unit_price"):
        svc.rates_replace(actor=world.admin, rows=[RateRow(None, "labour", "80"), RateRow(None, "travel", "fifty")])
    assert not Rate.objects.filter(organization=world.org).exists()


def test_rates_set_here_price_the_work_through_the_client_price_list(world, price_list, standard):
    # given the organization's default, a price list on the client and a senior class
    senior = svc.rate_class_create(actor=world.admin, data={"name": "Senior engineer"})
    svc.rates_replace(actor=world.admin, rows=[RateRow(None, "labour", "75", "35")])
    svc.rates_replace(actor=world.admin, price_list_id=price_list.pk, rows=[RateRow(senior.pk, "labour", "120", "60")])
    svc.technician_rate_class_set(actor=world.admin, user_id=world.technician.user_id, rate_class_id=senior.pk)
    svc.client_billing_update(actor=world.admin, client_id=world.client.pk, data={"price_list_id": price_list.pk})
    svc.billing_settings_update(actor=world.admin, data={"default_tax_rate_id": standard.pk})
    wo = WorkOrderFactory(equipment=world.equipment)
    pricer = pricing.Pricer(world.org, settings_for(world.org), work_orders=[wo])
    ctx = pricer.for_work_order(wo, on=date(2026, 3, 2))
    # when
    senior_price = pricer.labour_rate(ctx, "labour", world.technician.user_id)
    other_price = pricer.labour_rate(ctx, "labour", world.technician2.user_id)
    # then
    assert (senior_price.price, senior_price.cost) == (Decimal("120"), Decimal("60"))
    assert (other_price.price, other_price.cost) == (Decimal("75"), Decimal("35"))


# --- price lists and part prices ----------------------------------------------------------------


@pytest.mark.parametrize(("currency", "message"), [("BHD", "at most 2 decimals"), ("XYZ", "not a currency")])
def test_a_price_list_in_a_currency_invoices_cannot_use_is_refused(world, currency, message):
    with refused(ErrorCode.VALIDATION, "currency") as info:
        svc.price_list_create(actor=world.admin, data={"name": "Gulf", "currency": currency})
    assert message in info.value.message
    assert not PriceList.objects.filter(organization=world.org).exists()


def test_a_price_list_without_currency_is_in_the_organizations(world):
    row = svc.price_list_create(actor=world.admin, data={"name": "Standard"})
    assert row.currency == world.org.currency


def test_a_yen_price_list_is_fine(world):
    assert svc.price_list_create(actor=world.admin, data={"name": "Tokyo", "currency": "jpy"}).currency == "JPY"


def test_a_price_list_clients_use_cannot_be_deleted_deactivated_or_change_a_pinned_currency(world, price_list):
    # given
    svc.client_billing_update(
        actor=world.admin, client_id=world.client.pk, data={"currency": "EUR", "price_list_id": price_list.pk}
    )
    # then
    with refused(ErrorCode.CONFLICT):
        svc.price_list_delete(actor=world.admin, price_list_id=price_list.pk)
    with refused(ErrorCode.CONFLICT, "is_active"):
        svc.price_list_update(actor=world.admin, price_list_id=price_list.pk, data={"is_active": False})
    with refused(ErrorCode.VALIDATION, "currency"):
        svc.price_list_update(actor=world.admin, price_list_id=price_list.pk, data={"currency": "CHF"})
    assert PriceList.objects.get(pk=price_list.pk).currency == "EUR"


def test_part_prices_are_set_one_by_one(world, price_list, other_world):
    # given
    part = PartFactory(organization=world.org, sku="SEAL-40")
    # when
    svc.price_list_item_set(actor=world.admin, price_list_id=price_list.pk, part_id=part.pk, unit_price="12.50")
    item = svc.price_list_item_set(actor=world.admin, price_list_id=price_list.pk, part_id=part.pk, unit_price="13")
    # then
    assert PriceListItem.objects.get(pk=item.pk).unit_price == Decimal("13")
    foreign_part = PartFactory(organization=other_world.org)
    with refused(ErrorCode.VALIDATION, "part"):
        svc.price_list_item_set(actor=world.admin, price_list_id=price_list.pk, part_id=foreign_part.pk, unit_price=1)
    foreign_list = svc.price_list_create(actor=other_world.admin, data={"name": "Foreign"})
    with refused(ErrorCode.NOT_FOUND):
        svc.price_list_item_set(actor=world.admin, price_list_id=foreign_list.pk, part_id=part.pk, unit_price=1)


def test_pasted_part_prices_are_imported_with_decimal_commas_and_a_header(world, price_list):
    # given
    seal = PartFactory(organization=world.org, sku="SEAL-40")
    filt = PartFactory(organization=world.org, sku="FLT-10")
    svc.price_list_item_set(actor=world.admin, price_list_id=price_list.pk, part_id=filt.pk, unit_price="9")
    # when
    result = svc.price_list_items_import(
        actor=world.admin, price_list_id=price_list.pk, text="SKU;Price\nSEAL-40;12,50\n\nFLT-10\t1.234,5\n"
    )
    # then
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    prices = dict(PriceListItem.objects.filter(price_list=price_list).values_list("part_id", "unit_price"))
    assert prices == {seal.pk: Decimal("12.5"), filt.pk: Decimal("1234.5")}


def test_an_import_with_an_unknown_sku_imports_nothing_and_names_the_line(world, price_list):
    PartFactory(organization=world.org, sku="SEAL-40")
    with refused(ErrorCode.VALIDATION, "lines") as info:
        svc.price_list_items_import(
            actor=world.admin, price_list_id=price_list.pk, text="SEAL-40;12.50\nNOPE-1;3\nSEAL-40;abc"
        )
    assert "line 2: no part with the SKU NOPE-1" in info.value.message
    assert "line 3: abc is not a price" in info.value.message
    assert not PriceListItem.objects.filter(price_list=price_list).exists()


# --- clients' billing details -------------------------------------------------------------------


def test_a_clients_billing_details_keep_the_vat_id_on_the_client_and_move_its_version(world, price_list, standard):
    # given
    version = world.client.version
    # when
    billing = svc.client_billing_update(
        actor=world.accountant,
        client_id=world.client.pk,
        data={
            "legal_name": "Stadtwerke Musterstadt GmbH",
            "street": "Am Wasserturm 3",
            "postcode": "24103",
            "city": "Kiel",
            "country": "DE",
            "vat_id": "DE 987 654 321",
            "buyer_reference": "04011000-12345-34",
            "endpoint_scheme": "0204",
            "endpoint_id": "04011000-12345-34",
            "invoice_email": "rechnung@stadtwerke.example",
            "price_list_id": price_list.pk,
            "tax_rate_id": standard.pk,
            "payment_terms_days": 30,
        },
        expected_version=version,
    )
    # then
    world.client.refresh_from_db()
    assert world.client.vat_id == "DE987654321"
    assert world.client.version == version + 1
    assert ClientBilling.objects.get(pk=billing.pk).price_list == price_list
    with refused(ErrorCode.STALE_VERSION):
        svc.client_billing_update(
            actor=world.admin, client_id=world.client.pk, data={"city": "x"}, expected_version=version
        )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"endpoint_scheme": "0204"}, "endpoint_id"),
        ({"endpoint_id": "abc"}, "endpoint_scheme"),
        ({"endpoint_scheme": "ABC", "endpoint_id": "x"}, "endpoint_scheme"),
        ({"endpoint_scheme": "EM", "endpoint_id": "not-mail"}, "endpoint_id"),
        ({"currency": "KWD"}, "currency"),
        ({"currency": "CHF", "price_list": True}, "price_list"),
        ({"invoice_email": "x@"}, "invoice_email"),
        ({"vat_id": "12345"}, "vat_id"),
        ({"payment_terms_days": 400}, "payment_terms_days"),
    ],
)
def test_bad_client_billing_details_are_refused_and_nothing_changes(world, price_list, data, field):
    if data.pop("price_list", False):
        data["price_list_id"] = price_list.pk
    with refused(ErrorCode.VALIDATION, field):
        svc.client_billing_update(actor=world.admin, client_id=world.client.pk, data={"city": "Kiel", **data})
    assert not ClientBilling.objects.filter(client=world.client).exists()


def test_reverse_charge_needs_the_clients_vat_id(world):
    reverse = svc.tax_rate_create(
        actor=world.admin,
        data={"name": "Reverse charge", "category": "AE", "rate": "0", "exemption_code": "VATEX-EU-AE"},
    )
    with refused(ErrorCode.VALIDATION, "vat_id"):
        svc.client_billing_update(actor=world.admin, client_id=world.client.pk, data={"tax_rate_id": reverse.pk})


def test_another_organizations_client_is_not_found_and_dispatchers_may_not_change_billing(world, other_world):
    with refused(ErrorCode.NOT_FOUND):
        svc.client_billing_update(actor=world.admin, client_id=other_world.client.pk, data={"city": "x"})
    with refused(ErrorCode.PERMISSION_DENIED):
        svc.client_billing_update(actor=world.dispatcher, client_id=world.client.pk, data={"city": "x"})
    assert not ClientBilling.objects.exists()


# --- service contracts --------------------------------------------------------------------------


@pytest.fixture
def filters(world):
    return inventory_services.part_category_create(actor=world.admin, data={"name": "Filters"})


def _contract_data(world, **changes) -> dict:
    return {
        "client_id": world.client.pk,
        "name": "Pump maintenance",
        "reference": "WV-2026-007",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "site_ids": [world.site.pk],
        "equipment_ids": [world.equipment.pk],
        "included_labour_minutes": 600,
        "period": "year",
        "covers_travel": True,
        "waives_call_out": True,
        "discount_percent": "10",
        **changes,
    }


def test_a_contract_covers_sites_equipment_and_part_categories_of_its_client(world, filters, price_list):
    # when
    contract = svc.contract_create(
        actor=world.accountant,
        data=_contract_data(world, covered_part_category_ids=[filters.pk], price_list_id=price_list.pk),
    )
    # then
    contract.refresh_from_db()
    assert list(contract.sites.all()) == [world.site]
    assert list(contract.equipment.all()) == [world.equipment]
    assert list(contract.covered_part_categories.all()) == [filters]
    assert (contract.included_labour_minutes, contract.discount_percent) == (600, Decimal("10"))
    assert ChangeRecord.objects.get(object_type="billing.servicecontract").after["sites"] == [world.site.pk]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valid_until": "2025-12-31"}, "valid_until"),
        ({"site_ids": ["other_site"]}, "sites"),
        ({"equipment_ids": ["other_equipment"]}, "equipment"),
        ({"equipment_ids": ["second_site_equipment"]}, "equipment"),  # not at the chosen site
        ({"client_id": "foreign_client"}, "client"),
        ({"client_id": None}, "client"),
        ({"site_ids": ["foreign_site"]}, "sites"),
        ({"covered_part_category_ids": [0]}, "covered_part_categories"),
        ({"discount_percent": "120"}, "discount_percent"),
        ({"period": "week"}, "period"),
        ({"valid_from": "01.01.2026"}, "valid_from"),
        ({"name": ""}, "name"),
    ],
)
def test_a_contract_with_foreign_or_inconsistent_parts_is_refused(world, other_world, changes, field):
    # given
    second_site = SiteFactory(client=world.client, name="Second site")
    names = {
        "other_site": world.other_site.pk,
        "other_equipment": world.other_equipment.pk,
        "second_site_equipment": EquipmentFactory(site=second_site).pk,
        "foreign_client": other_world.client.pk,
        "foreign_site": other_world.site.pk,
    }

    def resolve(value):
        if isinstance(value, list):
            return [names.get(v, v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    data = _contract_data(world, **{k: resolve(v) for k, v in changes.items()})
    # when
    with refused(ErrorCode.VALIDATION, field):
        svc.contract_create(actor=world.admin, data=data)
    # then
    assert not ServiceContract.objects.exists()


def test_a_price_list_in_another_currency_than_the_clients_is_refused_on_a_contract(world):
    usd = svc.price_list_create(actor=world.admin, data={"name": "US", "currency": "USD"})
    with refused(ErrorCode.VALIDATION, "price_list"):
        svc.contract_create(actor=world.admin, data=_contract_data(world, price_list_id=usd.pk))


def test_a_contract_is_updated_with_a_version_check(world):
    # given
    contract = svc.contract_create(actor=world.admin, data=_contract_data(world))
    # when
    updated = svc.contract_update(
        actor=world.admin,
        contract_id=contract.pk,
        data={"site_ids": [], "equipment_ids": [], "included_labour_minutes": 1200},
        expected_version=contract.version,
    )
    # then
    assert (updated.version, updated.included_labour_minutes) == (contract.version + 1, 1200)
    assert list(updated.sites.all()) == []
    with refused(ErrorCode.STALE_VERSION):
        svc.contract_update(actor=world.admin, contract_id=contract.pk, data={"name": "x"}, expected_version=1)


def test_changing_the_client_checks_the_sites_again(world):
    contract = svc.contract_create(actor=world.admin, data=_contract_data(world))
    with refused(ErrorCode.VALIDATION, "sites"):
        svc.contract_update(actor=world.admin, contract_id=contract.pk, data={"client_id": world.other_client.pk})
    assert ServiceContract.objects.get(pk=contract.pk).client == world.client


def test_a_contract_on_invoices_cannot_be_deleted_one_without_can(world):
    # given
    named = svc.contract_create(actor=world.admin, data=_contract_data(world))
    spare = svc.contract_create(actor=world.admin, data=_contract_data(world, name="Spare"))
    invoice = Invoice.objects.create(organization=world.org, client=world.client, currency="EUR", series="INV")
    InvoiceLine.objects.create(organization=world.org, invoice=invoice, description="Covered", contract=named)
    # then
    with refused(ErrorCode.CONFLICT):
        svc.contract_delete(actor=world.admin, contract_id=named.pk)
    svc.contract_delete(actor=world.admin, contract_id=spare.pk)
    assert list(ServiceContract.objects.values_list("pk", flat=True)) == [named.pk]


def test_a_part_category_an_active_contract_covers_cannot_be_deleted(world, filters):
    svc.contract_create(actor=world.admin, data=_contract_data(world, covered_part_category_ids=[filters.pk]))
    with refused(ErrorCode.CONFLICT):
        inventory_services.part_category_delete(actor=world.admin, pk=filters.pk)
    assert PartCategory.objects.filter(pk=filters.pk).exists()


def test_a_part_gets_a_category_of_its_organization_only(world, other_world, filters):
    part = PartFactory(organization=world.org)
    inventory_services.part_update(actor=world.admin, pk=part.pk, data={"category_id": filters.pk})
    part.refresh_from_db()
    assert part.category == filters
    foreign = inventory_services.part_category_create(actor=other_world.admin, data={"name": "Foreign"})
    with refused(ErrorCode.VALIDATION, "category"):
        inventory_services.part_update(actor=world.admin, pk=part.pk, data={"category_id": foreign.pk})
