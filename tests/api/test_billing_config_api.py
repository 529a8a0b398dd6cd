"""The billing configuration API: settings with If-Match, tax rates, rate classes and technicians, rates,
price lists with part prices, clients' billing details, contracts, part categories."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fixflow.billing.models import BillingSettings, ClientBilling, PriceListItem, ServiceContract, TaxRate
from tests.factories import PartFactory, SiteFactory

from .conftest import assert_problem, png_bytes

STANDARD = {"name": "VAT 19 %", "category": "S", "rate": "19"}


@pytest.fixture
def tax_rate(api):
    return api("admin").post("/billing/tax-rates", STANDARD).json()


@pytest.fixture
def price_list(api):
    return api("admin").post("/billing/price-lists", {"name": "Key accounts"}).json()


# --- settings ---------------------------------------------------------------------------------


def test_the_settings_are_read_and_changed_with_their_etag(api, tax_rate):
    # given
    admin = api("admin")
    r = admin.get("/billing/settings")
    assert r.status_code == 200
    etag = r["ETag"]
    # when
    r = admin.patch(
        "/billing/settings",
        {"legal_name": "Acme GmbH", "iban": "de89370400440532013000", "default_tax_rate_id": tax_rate["id"]},
        headers={"If-Match": etag},
    )
    # then
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["legal_name"], body["iban"], body["default_tax_rate_id"]) == (
        "Acme GmbH",
        "DE89 3704 0044 0532 0130 00",
        tax_rate["id"],
    )
    assert r["ETag"] != etag
    # when the same old ETag is sent again
    r = admin.patch("/billing/settings", {"city": "Kiel"}, headers={"If-Match": etag})
    # then
    assert_problem(r, 412, "stale_version")


def test_a_mistyped_iban_is_a_problem_on_its_field(api, nothing_written):
    with nothing_written():
        r = api("accountant").patch("/billing/settings", {"iban": "DE89370400440532013001"})
    assert_problem(r, 422, "validation_error", field="iban", detail="check digits")


def test_dispatchers_may_not_read_the_seller_settings(api):
    assert_problem(api("dispatcher").get("/billing/settings"), 403, "permission_denied")
    assert_problem(api("client_user").get("/billing/tax-rates"), 403, "permission_denied")


def test_a_logo_is_uploaded_and_removed(api, world):
    admin = api("admin")
    # when
    r = admin.upload("/billing/settings/logo", {"file": SimpleUploadedFile("logo.png", png_bytes(), "image/png")})
    # then
    assert r.status_code == 200, r.content
    assert r.json()["logo_url"]
    assert BillingSettings.objects.get(organization=world.org).logo
    # when a PDF is sent as the logo
    r = admin.upload("/billing/settings/logo", {"file": SimpleUploadedFile("logo.png", b"%PDF-1.4 x", "image/png")})
    assert_problem(r, 415, "unsupported_file_type", field="logo")
    # when
    r = admin.delete("/billing/settings/logo")
    assert r.status_code == 200 and r.json()["logo_url"] is None


# --- tax rates --------------------------------------------------------------------------------


def test_tax_rates_are_created_listed_and_refused_per_category(api, tax_rate):
    admin = api("admin")
    assert tax_rate["rate"] in ("19.00", "19.0", "19")
    assert_problem(
        admin.post("/billing/tax-rates", {"name": "Exempt", "category": "E", "rate": "0"}),
        422,
        "validation_error",
        field="exemption_reason",
    )
    assert_problem(
        admin.post("/billing/tax-rates", {"name": "Zero", "category": "S", "rate": "0"}),
        422,
        "validation_error",
        field="rate",
    )
    r = api("dispatcher").get("/billing/tax-rates", {"is_active": "true"})
    assert [t["name"] for t in r.json()["items"]] == ["VAT 19 %"]


def test_a_tax_rate_patch_needs_the_current_etag_and_a_default_rate_is_not_deleted(api, tax_rate):
    admin = api("admin")
    r = admin.get(f"/billing/tax-rates/{tax_rate['id']}")
    r = admin.patch(f"/billing/tax-rates/{tax_rate['id']}", {"name": "VAT standard"}, headers={"If-Match": r["ETag"]})
    assert r.status_code == 200 and r.json()["version"] == 2
    admin.patch("/billing/settings", {"default_tax_rate_id": tax_rate["id"]})
    assert_problem(admin.delete(f"/billing/tax-rates/{tax_rate['id']}"), 409, "conflict")
    assert TaxRate.objects.filter(pk=tax_rate["id"]).exists()


# --- rate classes, technicians, rates -------------------------------------------------------


def test_a_technician_is_put_in_a_rate_class_and_rates_are_set_per_class(api, world, price_list):
    admin = api("admin")
    senior = admin.post("/billing/rate-classes", {"name": "Senior engineer"}).json()
    # when
    r = admin.put(f"/billing/technicians/{world.technician.user_id}", {"rate_class_id": senior["id"]})
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["rate_class_id"], r.json()["rate_class_name"]) == (senior["id"], "Senior engineer")
    assert admin.get(f"/billing/rate-classes/{senior['id']}").json()["technician_count"] == 1
    # when rates are added for the organization and for the class on the price list
    default = admin.post("/billing/rates", {"kind": "labour", "unit_price": "80", "unit_cost": "40"})
    on_list = admin.post(
        "/billing/rates",
        {"kind": "labour", "unit_price": "99.5", "price_list_id": price_list["id"], "rate_class_id": senior["id"]},
    )
    assert default.status_code == on_list.status_code == 201
    # then a second default labour rate is refused
    assert_problem(
        admin.post("/billing/rates", {"kind": "labour", "unit_price": "81"}), 422, "validation_error", field="kind"
    )
    listed = admin.get("/billing/rates", {"organization_only": "true"}).json()["items"]
    assert [(x["rate_class_id"], Decimal(x["unit_price"])) for x in listed] == [(None, Decimal("80"))]
    r = admin.patch(f"/billing/rates/{on_list.json()['id']}", {"unit_price": "101"})
    assert Decimal(r.json()["unit_price"]) == Decimal("101")
    # a requester is no technician
    assert_problem(admin.get(f"/billing/technicians/{world.requester.user_id}"), 404, "not_found")


# --- price lists ------------------------------------------------------------------------------


def test_a_price_list_in_a_three_decimal_currency_is_refused(api):
    r = api("admin").post("/billing/price-lists", {"name": "Kuwait", "currency": "KWD"})
    assert_problem(r, 422, "validation_error", field="currency", detail="at most 2 decimals")


def test_part_prices_are_set_imported_and_listed(api, world, price_list):
    admin = api("admin")
    seal = PartFactory(organization=world.org, sku="SEAL-40", name="Seal")
    PartFactory(organization=world.org, sku="FLT-10", name="Filter")
    url = f"/billing/price-lists/{price_list['id']}/items"
    # when
    first = admin.post(url, {"part_id": seal.pk, "unit_price": "12.5"})
    again = admin.post(url, {"part_id": seal.pk, "unit_price": "13"})
    imported = admin.post(url + "/import", {"text": "FLT-10;8,90\nSEAL-40;13"})
    # then
    assert (first.status_code, again.status_code) == (201, 200)
    assert imported.json() == {"created": 1, "updated": 0, "unchanged": 1}
    items = admin.get(url, {"q": "flt"}).json()["items"]
    assert [(i["part"]["sku"], Decimal(i["unit_price"])) for i in items] == [("FLT-10", Decimal("8.9"))]
    r = admin.patch(f"/billing/price-list-items/{first.json()['id']}", {"unit_price": "14"})
    assert Decimal(r.json()["unit_price"]) == Decimal("14")
    assert admin.delete(f"/billing/price-list-items/{first.json()['id']}").status_code == 204
    assert list(PriceListItem.objects.values_list("part__sku", flat=True)) == ["FLT-10"]
    # an unknown SKU imports nothing
    r = admin.post(url + "/import", {"text": "NOPE;1"})
    assert_problem(r, 422, "validation_error", field="lines", detail="no part with the SKU NOPE")


# --- clients' billing details -----------------------------------------------------------------


def test_a_clients_billing_details_share_the_clients_etag_and_vat_id(api, world, price_list):
    admin = api("admin")
    r = admin.get(f"/billing/clients/{world.client.pk}")
    assert r.status_code == 200
    assert r.json()["effective_currency"] == "EUR"
    etag = r["ETag"]
    # when
    r = admin.patch(
        f"/billing/clients/{world.client.pk}",
        {"vat_id": "ATU12345678", "price_list_id": price_list["id"], "endpoint_scheme": "9915", "endpoint_id": "x"},
        headers={"If-Match": etag},
    )
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["vat_id"], r.json()["price_list_id"]) == ("ATU12345678", price_list["id"])
    assert api("admin").get(f"/clients/{world.client.pk}").json()["vat_id"] == "ATU12345678"
    assert_problem(
        admin.patch(f"/billing/clients/{world.client.pk}", {"city": "Graz"}, headers={"If-Match": etag}),
        412,
        "stale_version",
    )
    assert_problem(
        admin.patch(f"/billing/clients/{world.client.pk}", {"endpoint_id": ""}),
        422,
        "validation_error",
        field="endpoint_id",
    )
    assert ClientBilling.objects.get(client=world.client).endpoint_id == "x"


def test_a_dispatcher_reads_but_does_not_change_a_clients_billing_details(api, world):
    assert api("dispatcher").get(f"/billing/clients/{world.client.pk}").status_code == 200
    assert_problem(
        api("dispatcher").patch(f"/billing/clients/{world.client.pk}", {"city": "x"}), 403, "permission_denied"
    )


# --- contracts --------------------------------------------------------------------------------


def test_a_contract_is_created_changed_and_deleted(api, world):
    admin = api("admin")
    # when
    r = admin.post(
        "/billing/contracts",
        {
            "client_id": world.client.pk,
            "name": "Pump maintenance",
            "valid_from": "2026-01-01",
            "site_ids": [world.site.pk],
            "equipment_ids": [world.equipment.pk],
            "included_labour_minutes": 600,
        },
    )
    # then
    assert r.status_code == 201, r.content
    contract = r.json()
    assert (contract["site_ids"], contract["equipment_ids"]) == ([world.site.pk], [world.equipment.pk])
    assert r["Location"].endswith(f"/billing/contracts/{contract['id']}")
    r = admin.patch(
        f"/billing/contracts/{contract['id']}", {"valid_until": "2026-12-31"}, headers={"If-Match": r["ETag"]}
    )
    assert r.status_code == 200 and r.json()["valid_until"] == "2026-12-31"
    listed = admin.get("/billing/contracts", {"client_id": world.client.pk}).json()["items"]
    assert [c["id"] for c in listed] == [contract["id"]]
    assert admin.get("/billing/contracts", {"client_id": world.other_client.pk}).json()["items"] == []
    assert admin.delete(f"/billing/contracts/{contract['id']}").status_code == 204
    assert not ServiceContract.objects.exists()


def test_a_contract_on_another_clients_equipment_is_refused(api, world, nothing_written):
    with nothing_written():
        r = api("accountant").post(
            "/billing/contracts",
            {
                "client_id": world.client.pk,
                "name": "Wrong",
                "valid_from": "2026-01-01",
                "equipment_ids": [world.other_equipment.pk],
            },
        )
    assert_problem(r, 422, "validation_error", field="equipment")


def test_the_contract_list_does_not_grow_queries_with_its_rows(api, world, django_assert_max_num_queries):
    # given eight contracts, each on its own site
    admin = api("admin")
    for n in range(8):
        site = SiteFactory(client=world.client)
        body = {"client_id": world.client.pk, "name": f"Contract {n}", "valid_from": "2026-01-01"}
        admin.post("/billing/contracts", {**body, "site_ids": [site.pk]})
    # then the token, the page and its three prefetches, whatever the number of rows
    with django_assert_max_num_queries(8):
        assert len(admin.get("/billing/contracts").json()["items"]) == 8


# --- part categories ----------------------------------------------------------------------------


def test_a_part_gets_a_category_through_the_parts_api(api, world):
    admin = api("admin")
    category = admin.post("/part-categories", {"name": "Seals"}).json()
    part = admin.post("/parts", {"sku": "SEAL-1", "name": "Seal", "category_id": category["id"]}).json()
    assert part["category_id"] == category["id"]
    listed = admin.get("/parts", {"category": category["id"]}).json()["items"]
    assert [p["sku"] for p in listed] == ["SEAL-1"]
    r = admin.patch(f"/parts/{part['id']}", {"category_id": None})
    assert r.json()["category_id"] is None
    assert admin.delete(f"/part-categories/{category['id']}").status_code == 204
