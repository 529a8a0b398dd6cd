"""Billing configuration pages: the settings form, tax rates, the rate tables, price lists, the client's
billing card and form, contracts and part categories — every refused input shown on its field, nothing lost."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fixflow.billing import config_services as svc
from fixflow.billing.config_services import RateRow
from fixflow.billing.models import (
    BillingSettings,
    ClientBilling,
    Invoice,
    InvoiceLine,
    PriceListItem,
    Rate,
    ServiceContract,
    TaxRate,
    TechnicianRateClass,
)
from fixflow.billing.services import settings_for
from fixflow.inventory import services as inventory
from fixflow.inventory.models import Part
from tests.factories import PartFactory

SETTINGS = {
    "legal_name": "Acme Maintenance GmbH",
    "street": "Hafenstraße 12",
    "postcode": "20457",
    "city": "Hamburg",
    "country": "DE",
    "vat_id": "DE123456789",
    "iban": "DE89 3704 0044 0532 0130 00",
    "payment_terms_days": "14",
    "invoice_series": "INV",
    "credit_note_series": "CN",
    "quote_prefix": "Q",
    "labour_minimum_minutes": "15",
    "labour_increment_minutes": "15",
    "parts_markup_percent": "30",
    "call_out_fee": "0",
    "overtime_multiplier": "1.5",
    "leakage_days": "14",
    "quote_validity_days": "30",
}


def html(response) -> str:
    return response.content.decode()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 80, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def admin(world, ref_login):
    return ref_login(world.admin)


@pytest.fixture
def standard(world):
    return svc.tax_rate_create(actor=world.admin, data={"name": "VAT 19 %", "rate": "19"})


@pytest.fixture
def price_list(world):
    return svc.price_list_create(actor=world.admin, data={"name": "Key accounts"})


# --- settings ---------------------------------------------------------------------------------


def test_the_settings_form_saves_the_seller_and_shows_the_logo(world, admin, standard):
    # given
    version = settings_for(world.org).version
    # when
    r = admin.post(
        "/settings/billing/",
        {
            **SETTINGS,
            "default_tax_rate": standard.pk,
            "version": version,
            "logo": SimpleUploadedFile("logo.png", png(), "image/png"),
        },
    )
    # then
    assert r.status_code == 302, html(r)[:2000]
    row = BillingSettings.objects.get(organization=world.org)
    assert (row.legal_name, row.default_tax_rate, row.version) == ("Acme Maintenance GmbH", standard, version + 1)
    assert row.logo
    page = html(admin.get("/settings/billing/"))
    assert 'src="data:image/png;base64,' in page
    assert "Remove the logo" in page


def test_a_mistyped_iban_is_shown_on_its_field_and_the_other_input_stays(world, admin):
    r = admin.post("/settings/billing/", {**SETTINGS, "iban": "DE89 3704 0044 0532 0130 01"})
    assert r.status_code == 422
    assert r.context["form"].errors["iban"] == [
        "The check digits of this IBAN do not match: check it for a typing error."
    ]
    assert 'value="Acme Maintenance GmbH"' in html(r)
    assert settings_for(world.org).legal_name == ""


def test_a_settings_form_saved_by_someone_else_meanwhile_is_refused(world, admin):
    version = settings_for(world.org).version
    svc.billing_settings_update(actor=world.accountant, data={"city": "Kiel"})
    r = admin.post("/settings/billing/", {**SETTINGS, "version": version})
    assert r.status_code == 422
    assert "changed by someone else" in html(r)
    assert settings_for(world.org).city == "Kiel"


def test_a_pdf_is_no_logo(world, admin):
    r = admin.post("/settings/billing/", {**SETTINGS, "logo": SimpleUploadedFile("logo.png", b"%PDF-1.7", "image/png")})
    assert r.status_code == 422
    assert "PNG or JPEG" in str(r.context["form"].errors["logo"])


@pytest.mark.parametrize(("role", "status"), [("accountant", 200), ("dispatcher", 403), ("technician", 403)])
def test_the_settings_page_is_for_billing_roles(world, ref_login, role, status):
    assert ref_login(world.actors[role]).get("/settings/billing/").status_code == status


def test_accountants_find_billing_in_the_settings(world, ref_login):
    accountant = ref_login(world.accountant)
    assert 'href="/settings/"' in html(accountant.get("/"))
    page = html(accountant.get("/settings/"))
    assert "Billing settings" in page and "Price lists" in page and "Members" not in page
    assert "Billing settings" not in html(ref_login(world.dispatcher).get("/settings/"))


# --- tax rates --------------------------------------------------------------------------------


def test_a_tax_rate_form_names_the_field_its_category_needs(world, admin):
    r = admin.post("/settings/billing/tax-rates/new/", {"name": "Exempt", "category": "E", "rate": "0"})
    assert r.status_code == 422
    assert "exemption reason" in str(r.context["form"].errors["exemption_reason"])
    r = admin.post(
        "/settings/billing/tax-rates/new/",
        {"name": "Exempt", "category": "E", "rate": "0", "exemption_reason": "§ 4 Nr. 16 UStG", "is_active": "on"},
    )
    assert r.status_code == 302
    assert TaxRate.objects.get(organization=world.org).category == "E"


def test_a_tax_rate_on_invoices_keeps_its_rate_and_cannot_be_deleted(world, admin, standard):
    # given a line that copied it
    invoice = Invoice.objects.create(organization=world.org, client=world.client, currency="EUR", series="INV")
    InvoiceLine.objects.create(organization=world.org, invoice=invoice, description="x", tax_category="S", tax_rate=19)
    # when
    r = admin.post(
        f"/settings/billing/tax-rates/{standard.pk}/edit/",
        {"name": "VAT 19 %", "category": "S", "rate": "16", "is_active": "on", "version": standard.version},
    )
    # then
    assert r.status_code == 422
    assert "add a new tax rate" in str(r.context["form"].errors["rate"])
    assert "On 1 invoice or quote line" in html(r)
    r = admin.post(f"/settings/billing/tax-rates/{standard.pk}/delete/", follow=True)
    assert "stays for the record" in html(r)
    assert TaxRate.objects.get(pk=standard.pk).rate == Decimal("19")


def test_dispatchers_read_tax_rates_without_edit_links(world, ref_login, standard):
    page = html(ref_login(world.dispatcher).get("/settings/billing/tax-rates/"))
    assert "VAT 19 %" in page and "New tax rate" not in page and f"/tax-rates/{standard.pk}/edit/" not in page


# --- rates ------------------------------------------------------------------------------------


def test_the_rate_table_saves_and_a_bad_cell_is_marked(world, admin):
    senior = svc.rate_class_create(actor=world.admin, data={"name": "Senior engineer"})
    # when
    r = admin.post(
        "/settings/billing/rates/save/",
        {"labour-default-unit_price": "80", "labour-default-unit_cost": "40", f"travel-{senior.pk}-unit_price": "60"},
    )
    # then
    assert r.status_code == 302
    assert {(x.rate_class_id, x.kind, x.unit_price) for x in Rate.objects.all()} == {
        (None, "labour", Decimal("80")),
        (senior.pk, "travel", Decimal("60")),
    }
    # when a price is no number
    r = admin.post("/settings/billing/rates/save/", {"labour-default-unit_price": "eighty"})
    # then the cell says so and nothing changed
    assert r.status_code == 422
    assert r.context["table_form"].errors["labour-default-unit_price"] == ["Enter a number for the unit price."]
    assert 'value="eighty"' in html(r)
    assert Rate.objects.count() == 2


def test_technicians_are_put_in_rate_classes_from_one_table(world, admin):
    senior = svc.rate_class_create(actor=world.admin, data={"name": "Senior engineer"})
    r = admin.post(
        "/settings/billing/rates/technicians/",
        {f"t-tech-{world.technician.user_id}": senior.pk, f"t-tech-{world.technician2.user_id}": ""},
    )
    assert r.status_code == 302
    assert list(TechnicianRateClass.objects.values_list("user_id", "rate_class_id")) == [
        (world.technician.user_id, senior.pk)
    ]


def test_dispatchers_see_the_rates_but_no_inputs(world, ref_login):
    svc.rates_replace(actor=world.admin, rows=[RateRow(None, "labour", "80")])
    page = html(ref_login(world.dispatcher).get("/settings/billing/rates/"))
    assert "80.00" in page and 'name="labour-default-unit_price"' not in page and "Save rates" not in page


# --- price lists ------------------------------------------------------------------------------


def test_a_price_list_cannot_be_in_a_three_decimal_currency(world, admin):
    r = admin.post("/settings/billing/price-lists/new/", {"name": "Kuwait", "currency": "KWD", "is_active": "on"})
    assert r.status_code == 422
    assert "currency" in r.context["form"].errors


def test_part_prices_are_added_by_sku_and_pasted(world, admin, price_list):
    PartFactory(organization=world.org, sku="SEAL-40", name="Mechanical seal")
    PartFactory(organization=world.org, sku="FLT-10", name="Bag filter")
    base = f"/settings/billing/price-lists/{price_list.pk}"
    # when
    assert admin.post(f"{base}/parts/add/", {"item-sku": "seal-40", "item-unit_price": "12.50"}).status_code == 302
    r = admin.post(f"{base}/parts/add/", {"item-sku": "NOPE", "item-unit_price": "1"})
    assert r.status_code == 422 and "No part with the SKU NOPE" in html(r)
    r = admin.post(f"{base}/parts/import/", {"import-lines": "FLT-10;8,90\nNOPE;1"})
    # then the bad paste is refused with its line and kept in the box
    assert r.status_code == 422
    assert "line 2: no part with the SKU NOPE" in str(r.context["import_form"].errors["lines"])
    assert "FLT-10;8,90" in html(r)
    assert admin.post(f"{base}/parts/import/", {"import-lines": "FLT-10;8,90"}).status_code == 302
    page = html(admin.get(f"{base}/"))
    assert "Mechanical seal" in page and "Bag filter" in page
    assert sorted(PriceListItem.objects.values_list("part__sku", "unit_price")) == [
        ("FLT-10", Decimal("8.9")),
        ("SEAL-40", Decimal("12.5")),
    ]


def test_part_suggestions_match_sku_and_name(world, admin):
    PartFactory(organization=world.org, sku="SEAL-40", name="Mechanical seal")
    PartFactory(organization=world.org, sku="FLT-10", name="Bag filter")
    options = html(admin.get("/settings/billing/price-lists/parts/", {"item-sku": "filter"}))
    assert 'value="FLT-10"' in options and "SEAL-40" not in options


def test_a_price_list_clients_use_is_not_deleted(world, admin, price_list):
    svc.client_billing_update(actor=world.admin, client_id=world.client.pk, data={"price_list_id": price_list.pk})
    r = admin.post(f"/settings/billing/price-lists/{price_list.pk}/delete/", follow=True)
    assert "choose another price list for them first" in html(r)


# --- the client page --------------------------------------------------------------------------


def test_the_client_page_loads_the_billing_card_for_billing_roles_only(world, ref_login, price_list):
    svc.client_billing_update(
        actor=world.admin, client_id=world.client.pk, data={"city": "Kiel", "price_list_id": price_list.pk}
    )
    card_url = f"/clients/{world.client.pk}/billing/card/"
    assert card_url in html(ref_login(world.dispatcher).get(f"/clients/{world.client.pk}/"))
    assert card_url not in html(ref_login(world.client_user).get(f"/clients/{world.client.pk}/"))
    admin_card = html(ref_login(world.admin).get(card_url))
    assert "Key accounts" in admin_card and "Edit billing details" in admin_card
    dispatcher_card = html(ref_login(world.dispatcher).get(card_url))
    assert "Key accounts" in dispatcher_card and "Edit billing details" not in dispatcher_card
    assert ref_login(world.client_user).get(card_url).status_code == 403


def test_the_client_billing_form_refuses_a_price_list_in_another_currency(world, admin):
    usd = svc.price_list_create(actor=world.admin, data={"name": "US", "currency": "USD"})
    url = f"/clients/{world.client.pk}/billing/"
    form = admin.get(url).context["form"]
    r = admin.post(url, {"currency": "EUR", "price_list": usd.pk, "city": "Kiel", "version": form.initial["version"]})
    assert r.status_code == 422
    assert "applies only in its own currency" in str(r.context["form"].errors["price_list"])
    assert not ClientBilling.objects.exists()
    r = admin.post(url, {"currency": "", "price_list": usd.pk, "vat_id": "de 123456789", "city": "Kiel"})
    assert r.status_code == 302
    world.client.refresh_from_db()
    assert world.client.vat_id == "DE123456789"


# --- contracts --------------------------------------------------------------------------------


def _contract_form(world, **changes) -> dict:
    return {
        "client": world.client.pk,
        "name": "Pump maintenance",
        "valid_from": "2026-01-01",
        "sites": [world.site.pk],
        "included_labour_hours": "7.5",
        "period": "quarter",
        "discount_percent": "0",
        "is_active": "on",
        **changes,
    }


def test_a_contract_is_made_from_the_client_page_and_shown_there(world, admin):
    form = admin.get(f"/contracts/new/?client={world.client.pk}").context["form"]
    assert form.initial["client"] == str(world.client.pk)
    r = admin.post("/contracts/new/", _contract_form(world))
    assert r.status_code == 302
    contract = ServiceContract.objects.get()
    assert contract.included_labour_minutes == 450
    assert "Pump maintenance" in html(admin.get(f"/clients/{world.client.pk}/billing/card/"))
    assert "7 h 30 min" in html(admin.get(f"/contracts/{contract.pk}/"))


def test_a_contract_with_another_clients_equipment_or_odd_minutes_is_refused_on_the_field(world, admin):
    r = admin.post("/contracts/new/", _contract_form(world, equipment=[world.other_equipment.pk]))
    assert r.status_code == 422
    assert "is not at a site of" in str(r.context["form"].errors["equipment"])
    r = admin.post("/contracts/new/", _contract_form(world, included_labour_hours="0.333"))
    assert r.status_code == 422 and "included_labour_hours" in r.context["form"].errors
    assert not ServiceContract.objects.exists()


def test_the_contract_list_filters_by_client(world, admin):
    admin.post("/contracts/new/", _contract_form(world))
    admin.post(
        "/contracts/new/",
        _contract_form(world, client=world.other_client.pk, name="Oven care", sites=[world.other_site.pk]),
    )
    pump, oven = ServiceContract.objects.order_by("name").reverse()
    page = html(admin.get("/contracts/", {"client": world.other_client.pk}))
    assert f'href="/contracts/{oven.pk}/"' in page and f'href="/contracts/{pump.pk}/"' not in page


# --- part categories --------------------------------------------------------------------------


def test_a_part_category_is_made_and_chosen_on_a_part(world, ref_login):
    accountant = ref_login(world.accountant)
    assert accountant.post("/parts/categories/new/", {"name": "Seals"}).status_code == 302
    category = inventory.PART_CATEGORY.model.objects.get(name="Seals")
    r = accountant.post(
        "/parts/new/",
        {"sku": "SEAL-1", "name": "Seal", "unit": "pc", "unit_cost": "1", "sale_price": "2", "category": category.pk},
    )
    assert r.status_code == 302
    assert Part.objects.get(sku="SEAL-1").category == category
    assert "Seals" in html(accountant.get("/parts/", {"category": category.pk}))


def test_a_part_category_a_contract_covers_is_not_deleted(world, admin):
    category = inventory.part_category_create(actor=world.admin, data={"name": "Seals"})
    admin.post("/contracts/new/", _contract_form(world, covered_part_categories=[category.pk]))
    r = admin.post(f"/parts/categories/{category.pk}/delete/", follow=True)
    assert "take it off the contract first" in html(r)
