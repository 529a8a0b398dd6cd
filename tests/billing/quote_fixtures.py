"""Fixtures of the quote tests: the world's organization set up to price (tax rates, a labour rate, a part with
its cost), a client contact who receives quotes, a work order with an estimate, and helpers to bring a quote
into each state through the services.

Import the fixtures into a test module (``from .quote_fixtures import qw``) so pytest finds them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from PIL import Image, ImageDraw

from fixflow.billing import config_services as config
from fixflow.billing import quote_services as quotes
from fixflow.billing.config_services import RateRow
from fixflow.billing.models import Quote
from fixflow.customers.models import Contact
from fixflow.service import services as service
from fixflow.service.models import TemplatePart
from tests.factories import PartFactory, TemplateFactory

CONTACT_EMAIL = "hanna.hausmeister@stadtwerke.example"


@dataclass
class QuoteWorld:
    world: object
    standard: object  # VAT 19 % (the default)
    reduced: object  # VAT 7 %
    part: object
    template: object
    work_order: object

    @property
    def office(self):
        return self.world.dispatcher


def signature_png(size=(400, 150), drawn: bool = True) -> bytes:
    """A PNG like the signature pad sends: transparent, with a dark stroke when ``drawn``."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if drawn:
        ImageDraw.Draw(image).line([(20, 100), (120, 40), (220, 110), (360, 50)], fill=(16, 24, 40, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def qw(world) -> QuoteWorld:
    admin = world.admin
    standard = config.tax_rate_create(actor=admin, data={"name": "VAT 19 %", "category": "S", "rate": "19"})
    reduced = config.tax_rate_create(actor=admin, data={"name": "VAT 7 %", "category": "S", "rate": "7"})
    config.billing_settings_update(
        actor=admin,
        data={
            "legal_name": "Acme Maintenance GmbH",
            "street": "Hafenstraße 12",
            "postcode": "20457",
            "city": "Hamburg",
            "country": "DE",
            "vat_id": "DE123456789",
            "email": "office@acme.example",
            "default_tax_rate_id": standard.pk,
            "quote_validity_days": 30,
        },
    )
    config.rates_replace(actor=admin, rows=[RateRow(None, "labour", "80", "40"), RateRow(None, "travel", "50", "25")])
    Contact.objects.create(
        organization=world.org, client=world.client, name="Hanna Hausmeister", email=CONTACT_EMAIL, is_primary=True
    )
    part = PartFactory(
        organization=world.org,
        sku="SEAL-40",
        name="Mechanical seal 40 mm",
        unit_cost=Decimal("20.00"),
        sale_price=Decimal("0"),
    )
    template = TemplateFactory(organization=world.org, name="Pump repair", estimated_duration_minutes=100)
    TemplatePart.objects.create(organization=world.org, template=template, part=part, quantity=Decimal("2"))
    wo = service.work_order_create(
        actor=world.dispatcher,
        site_id=world.site.pk,
        equipment_id=world.equipment.pk,
        template_id=template.pk,
        title="Pump P1 leaking at the shaft",
    )
    return QuoteWorld(world, standard, reduced, part, template, wo)


def blank_quote(qw: QuoteWorld, *lines: dict, title: str = "New circulation pump") -> Quote:
    """A draft for the world's client with ``lines`` added through the service."""
    quote = quotes.quote_create(actor=qw.office, client_id=qw.world.client.pk, site_id=qw.world.site.pk, title=title)
    for data in lines:
        quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data=data)
    quote.refresh_from_db()
    return quote


PUMP = {"description": "Circulation pump DN40", "quantity": "1", "unit_price": "1200.00"}
FITTING = {"description": "Fitting the pump", "kind": "labour", "quantity": "3", "unit": "h", "unit_price": "80"}


def sent_quote(qw: QuoteWorld, *lines: dict) -> Quote:
    quote = blank_quote(qw, *(lines or (PUMP, FITTING)))
    return quotes.quote_send(actor=qw.office, quote_id=quote.pk)


def accepted_quote(qw: QuoteWorld, *lines: dict) -> Quote:
    quote = sent_quote(qw, *lines)
    return quotes.quote_accept(
        token=quote.public_token,
        signed_by_name="Hanna Hausmeister",
        signature_png=signature_png(),
        ip_address="203.0.113.7",
    )
