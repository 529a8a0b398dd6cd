"""Browser test of quotes: the office writes a quote in the editor (lines saved as they change, totals live),
sends it, the client opens the link from the e-mail on a phone, signs on the screen and accepts; the office
turns the accepted quote into a work order at the quoted price."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import expect

from fixflow.billing.models import Quote, WorkOrderBilling
from tests.billing.quote_fixtures import CONTACT_EMAIL, qw

from .conftest import log_in
from .flow_fixtures import loaded, settled

pytestmark = pytest.mark.browser
__all__ = ["qw"]  # a fixture, imported so pytest finds it


def sign(page) -> None:
    """Two strokes across the signature pad, with the mouse."""
    pad = page.locator("canvas[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    for stroke in (((0.1, 0.7), (0.3, 0.2), (0.45, 0.75)), ((0.5, 0.4), (0.7, 0.8), (0.9, 0.3))):
        page.mouse.move(x + w * stroke[0][0], y + h * stroke[0][1])
        page.mouse.down()
        for fx, fy in stroke[1:]:
            page.mouse.move(x + w * fx, y + h * fy, steps=8)
        page.mouse.up()


def test_the_client_signs_the_quote_on_a_phone_and_the_office_makes_the_work_order(qw, open_page, settings, site_url):
    settings.BASE_URL = site_url
    world = qw.world
    office = open_page()
    totals = office.locator("#quote-totals [data-total=gross]")

    # given the dispatcher starting a quote for the client
    log_in(office, qw.office)
    office.goto("/quotes/")
    office.get_by_role("link", name="New quote").click()
    office.locator("select[name=client]").select_option(str(world.client.pk))
    office.locator("select[name=site]").select_option(str(world.site.pk))
    office.locator("input[name=title]").fill("New circulation pump")
    office.get_by_role("button", name="Create quote").click()
    expect(office.locator(".messages")).to_contain_text("add its lines")
    loaded(office)

    # when they add the pump, and the fitting priced from the labour rate (no price typed)
    office.locator("input[name=new-description]").fill("Circulation pump DN40")
    office.locator("input[name=new-unit_price]").fill("1200")
    office.get_by_role("button", name="Add line").click()
    expect(totals).to_have_text("1,428.00 EUR")
    settled(office)
    office.locator("select[name=new-kind]").select_option("labour")
    office.locator("input[name=new-description]").fill("Fitting the pump")
    office.locator("input[name=new-quantity]").fill("2")
    office.get_by_role("button", name="Add line").click()
    expect(totals).to_have_text("1,618.40 EUR")
    settled(office)

    # and change the fitting to 3 hours in its row: it is saved on change and the totals follow
    fitting = office.locator("form[data-line]").nth(1)
    expect(fitting.locator("input[name$='-unit_price']")).to_have_value("80.00")
    fitting.locator("input[name$='-quantity']").fill("3")
    fitting.locator("input[name$='-quantity']").press("Tab")
    expect(fitting.locator(".qline-net")).to_have_text("240.00 EUR")
    expect(totals).to_have_text("1,713.60 EUR")
    settled(office)

    # and send it from the dialog, to the client's contact
    office.get_by_role("link", name="Send to the client").click()
    dialog = office.locator("#send-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=send-to]")).to_have_value(CONTACT_EMAIL)
    dialog.locator("textarea[name=send-message]").fill("As discussed on the phone.")
    dialog.get_by_role("button", name="Send").click()
    expect(office.locator(".messages")).to_contain_text(f"sent to {CONTACT_EMAIL}")
    quote = Quote.objects.get()
    assert (quote.status, quote.total_gross) == ("sent", Decimal("1713.60"))

    # then the client gets the e-mail with the PDF and opens its link on a phone
    (message,) = mail.outbox
    assert message.attachments[0][0] == f"{quote.number}.pdf"
    link = re.search(r"https?://\S+/q/\S+/", message.body).group(0)
    phone = open_page(phone=True)
    phone.goto(link)
    expect(phone.locator("h1")).to_contain_text(quote.number)
    expect(phone.locator("main")).to_contain_text("1,713.60 EUR")
    accept = phone.get_by_role("button", name=re.compile("Accept the quote"))

    # when they try to accept without signing, the pad asks for the signature
    phone.locator("input[name=signed_by_name]").fill("Hanna Hausmeister")
    phone.locator("input[name=agree]").check()
    accept.click()
    expect(phone.locator("canvas[data-signature-pad]")).to_have_class(re.compile("needs-signature"))
    assert Quote.objects.get(pk=quote.pk).status == "sent"

    # when they sign and accept
    sign(phone)
    accept.click()
    expect(phone.locator(".messages")).to_contain_text("the quote is accepted")
    expect(phone.locator(".public-decision")).to_contain_text("Accepted by Hanna Hausmeister")

    # then the quote records who, when, from where and the drawn signature
    quote.refresh_from_db()
    assert (quote.status, quote.decided_by_name, quote.decided_from_ip) == (
        "accepted",
        "Hanna Hausmeister",
        "127.0.0.1",
    )
    with quote.decision_signature.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
    assert image.format == "PNG"
    assert image.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox() is not None  # ink on it

    # when the office opens the quote and makes the work order at the quoted price
    office.reload()
    expect(office.locator("#decision")).to_contain_text("Accepted by Hanna Hausmeister")
    office.locator("#convert").get_by_role("button", name="Make the work order").click()
    expect(office.locator(".messages")).to_contain_text("converted into work order")

    # then the work order exists at the quote's site, priced at the quote's net total, and links back
    quote.refresh_from_db()
    wo = quote.converted_work_order
    assert (wo.client, wo.site, wo.title) == (world.client, world.site, "New circulation pump")
    assert WorkOrderBilling.objects.get(work_order=wo).fixed_price == Decimal("1440.00")
    office.locator("#decision").get_by_role("link", name=wo.number).click()
    expect(office.locator("h1")).to_contain_text(wo.number)
    expect(office.locator("#quotes")).to_contain_text(quote.number)
