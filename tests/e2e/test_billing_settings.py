"""Browser test of the billing configuration: an admin fills in the seller details and a tax rate, makes a
price list with a labour rate and a part price, puts a client on it and gives the client a contract."""

import pytest
from playwright.sync_api import expect

from fixflow.billing.models import BillingSettings, ClientBilling, PriceList, Rate, ServiceContract, TaxRate
from tests.factories import PartFactory

from .conftest import log_in
from .flow_fixtures import settled

pytestmark = pytest.mark.browser


def test_an_admin_sets_up_billing_from_seller_details_to_a_clients_contract(world, browser_page):
    page = browser_page
    PartFactory(organization=world.org, sku="SEAL-40", name="Mechanical seal 40 mm")
    # given an admin on the settings page
    log_in(page, world.admin)
    page.goto("/settings/")
    page.get_by_role("link", name="Tax rates").click()
    expect(page.locator("h1")).to_have_text("Tax rates")

    # when they add the standard VAT rate, first forgetting that 0 % is not a standard rate
    page.get_by_role("link", name="New tax rate").click()
    page.locator("input[name=name]").fill("VAT 19 %")
    page.locator("select[name=category]").select_option("S")
    page.locator("input[name=rate]").fill("0")
    page.get_by_role("button", name="Create tax rate").click()
    # then the rate is refused next to its field, and what they typed stays
    expect(page.locator("[data-field=rate] .errorlist")).to_contain_text("above 0 %")
    expect(page.locator("input[name=name]")).to_have_value("VAT 19 %")
    page.locator("input[name=rate]").fill("19")
    page.get_by_role("button", name="Create tax rate").click()
    expect(page.locator(".messages")).to_contain_text("Tax rate VAT 19 % saved")
    rate = TaxRate.objects.get(organization=world.org, name="VAT 19 %")

    # when they fill in the seller details with a mistyped IBAN
    page.goto("/settings/")
    page.get_by_role("link", name="Billing settings").click()
    page.locator("input[name=legal_name]").fill("Acme Maintenance GmbH")
    page.locator("input[name=street]").fill("Hafenstraße 12")
    page.locator("input[name=postcode]").fill("20457")
    page.locator("input[name=city]").fill("Hamburg")
    page.locator("select[name=country]").select_option("DE")
    page.locator("input[name=vat_id]").fill("DE 123 456 789")
    page.locator("input[name=iban]").fill("DE89 3704 0044 0532 0130 01")
    page.locator("select[name=default_tax_rate]").select_option(str(rate.pk))
    page.get_by_role("button", name="Save billing settings").click()
    # then the IBAN's check digits are refused and nothing typed is lost
    expect(page.locator("[data-field=iban] .errorlist")).to_contain_text("check digits")
    expect(page.locator("input[name=legal_name]")).to_have_value("Acme Maintenance GmbH")
    page.locator("input[name=iban]").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Save billing settings").click()
    expect(page.locator(".messages")).to_contain_text("Billing settings saved")
    seller = BillingSettings.objects.get(organization=world.org)
    assert (seller.legal_name, seller.vat_id, seller.iban) == (
        "Acme Maintenance GmbH",
        "DE123456789",
        "DE89 3704 0044 0532 0130 00",
    )
    assert seller.default_tax_rate == rate

    # when they create a price list with a labour rate and a part price
    page.goto("/settings/billing/price-lists/")
    page.get_by_role("link", name="New price list").click()
    page.locator("input[name=name]").fill("Key accounts")
    page.get_by_role("button", name="Create price list").click()
    expect(page.locator("h1")).to_contain_text("Key accounts")
    page.locator("input[name='labour-default-unit_price']").fill("92.50")
    page.locator("input[name='labour-default-unit_cost']").fill("41")
    page.get_by_role("button", name="Save rates").click()
    expect(page.locator(".messages")).to_contain_text("Rates of Key accounts saved")
    expect(page.locator("input[name='labour-default-unit_price']")).to_have_value("92.50")
    settled(page)
    page.locator("input[name=item-sku]").fill("SEAL")
    expect(page.locator("#part-options option[value='SEAL-40']")).to_have_count(1)  # suggested while typing
    page.locator("input[name=item-sku]").fill("SEAL-40")
    page.locator("input[name=item-unit_price]").fill("48.90")
    page.get_by_role("button", name="Set price").click()
    expect(page.locator("#parts")).to_contain_text("Mechanical seal 40 mm")
    price_list = PriceList.objects.get(organization=world.org, name="Key accounts")
    labour = Rate.objects.get(price_list=price_list, rate_class=None, kind="labour")
    assert (str(labour.unit_price), str(labour.unit_cost)) == ("92.5000", "41.0000")
    assert str(price_list.items.get().unit_price) == "48.9000"

    # when they open the client, put it on the price list and give it a contract
    page.goto(f"/clients/{world.client.pk}/")
    card = page.locator("#billing")
    expect(card.get_by_role("link", name="Edit billing details")).to_be_visible()  # loaded by htmx
    card.get_by_role("link", name="Edit billing details").click()
    page.locator("input[name=street]").fill("Am Wasserturm 3")
    page.locator("input[name=postcode]").fill("24103")
    page.locator("input[name=city]").fill("Kiel")
    page.locator("select[name=country]").select_option("DE")
    page.locator("input[name=buyer_reference]").fill("04011000-12345-34")
    page.locator("select[name=price_list]").select_option(str(price_list.pk))
    page.get_by_role("button", name="Save billing details").click()
    expect(page.locator(".messages")).to_contain_text("Billing details of Stadtwerke saved")
    expect(page.locator("#billing")).to_contain_text("Key accounts")
    assert ClientBilling.objects.get(client=world.client).price_list == price_list

    page.locator("#billing").get_by_role("link", name="New contract").click()
    expect(page.locator("select[name=client]")).to_have_value(str(world.client.pk))
    page.locator("input[name=name]").fill("Pump maintenance 2026")
    page.locator("input[name=valid_from]").fill("2026-01-01")
    page.locator("input[name=valid_until]").fill("2025-12-31")
    page.locator("select[name=sites]").select_option(str(world.site.pk))
    page.locator("input[name=included_labour_hours]").fill("10")
    page.locator("input[name=waives_call_out]").check()
    page.get_by_role("button", name="Create contract").click()
    # then an end before the start is refused on its field, the choices stay
    expect(page.locator("[data-field=valid_until] .errorlist")).to_contain_text("ends before it starts")
    expect(page.locator("input[name=included_labour_hours]")).to_have_value("10")
    page.locator("input[name=valid_until]").fill("2026-12-31")
    page.get_by_role("button", name="Create contract").click()
    expect(page.locator("h1")).to_contain_text("Pump maintenance 2026")
    expect(page.locator("main")).to_contain_text("10 h per year")
    contract = ServiceContract.objects.get(organization=world.org)
    assert (contract.client, contract.included_labour_minutes, contract.waives_call_out) == (world.client, 600, True)
    assert list(contract.sites.all()) == [world.site]

    # and the client page shows the contract in its billing card
    page.goto(f"/clients/{world.client.pk}/")
    expect(page.locator("#billing")).to_contain_text("Pump maintenance 2026")
