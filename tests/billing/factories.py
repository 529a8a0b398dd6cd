"""Builders for the billing tests: a seller with a tax rate and rates, clients as buyers, closed work
orders with time, parts and charges. Rows are created directly (fast); behaviour under test goes
through ``billing.services``.

``stub_documents`` replaces the rendering of the PDF and the XML (tested in test_documents.py) by fixed
bytes, for tests about numbering, credit notes and payments; ``needs_documents`` skips a test until
``fixflow.billing.documents`` exists.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory
import pytest

from fixflow.billing import services
from fixflow.billing.models import (
    BillingSettings,
    ClientBilling,
    PriceList,
    PriceListItem,
    Rate,
    RateClass,
    ServiceContract,
    TaxRate,
    TechnicianRateClass,
    WorkOrderBilling,
    WorkOrderCharge,
)
from fixflow.inventory.models import PartCategory
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import PartUsage, TimeEntry

from ..factories import PartFactory, WorkOrderFactory

needs_documents = pytest.mark.skipif(
    importlib.util.find_spec("fixflow.billing.documents") is None,
    reason="fixflow.billing.documents (PDF, CII, UBL: task B2) does not exist yet",
)

STUB_PDF = b"%PDF-1.7 stub"
STUB_CII = b"<rsm:CrossIndustryInvoice>stub</rsm:CrossIndustryInvoice>"
STUB_UBL = b"<Invoice>stub</Invoice>"


def stub_documents(monkeypatch) -> list:
    """Render fixed bytes instead of the real documents; returns the list of invoices rendered."""
    rendered = []

    def render(invoice):
        rendered.append((invoice.pk, invoice.number))
        return services.Documents(pdf=STUB_PDF, xml_cii=STUB_CII, xml_ubl=STUB_UBL)

    monkeypatch.setattr(services, "_render_documents", render)
    return rendered


# ---------------------------------------------------------------------------------------------
# configuration


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    name = factory.Sequence(lambda n: f"VAT {n}")
    category = "S"
    rate = Decimal("19.00")


class RateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rate

    kind = "labour"
    unit_price = Decimal("80.00")
    unit_cost = Decimal("45.00")


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"Price list {n}")
    currency = "EUR"


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceContract

    name = factory.Sequence(lambda n: f"Wartung {n}")
    reference = factory.Sequence(lambda n: f"SV-{n:04d}")
    valid_from = date(2026, 1, 1)


@dataclass
class Billing:
    """The seller's configuration of a test world."""

    settings: BillingSettings
    vat19: TaxRate
    vat7: TaxRate
    labour: Rate
    travel: Rate


def billing_setup(world, *, call_out_fee=Decimal(0), calendar=None) -> Billing:
    """Seller details (Germany, VAT id, IBAN), VAT 19 % as default, labour 80/h and travel 50/h."""
    org = world.org
    vat19 = TaxRateFactory(organization=org, name="VAT 19 %", rate=Decimal("19.00"))
    vat7 = TaxRateFactory(organization=org, name="VAT 7 %", rate=Decimal("7.00"))
    settings = services.settings_for(org)
    for name, value in {
        "legal_name": "Acme Maintenance GmbH",
        "street": "Industriestraße 5",
        "postcode": "80331",
        "city": "München",
        "country": "DE",
        "vat_id": "DE123456789",
        "registration_id": "HRB 12345, Amtsgericht München",
        "email": "billing@acme.example",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "bank_name": "Commerzbank",
        "default_tax_rate": vat19,
        "call_out_fee": call_out_fee,
        "overtime_calendar": calendar,
    }.items():
        setattr(settings, name, value)
    settings.save()
    labour = RateFactory(organization=org, kind="labour", unit_price=Decimal("80.00"), unit_cost=Decimal("45.00"))
    travel = RateFactory(organization=org, kind="travel", unit_price=Decimal("50.00"), unit_cost=Decimal("30.00"))
    return Billing(settings, vat19, vat7, labour, travel)


def client_billing(client, **fields) -> ClientBilling:
    values = {
        "street": "Am Wasserwerk 1",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "invoice_email": "rechnung@example.com",
    }
    values.update(fields)
    return ClientBilling.objects.create(organization=client.organization, client=client, **values)


def rate_class(world, user, name="Senior engineer", price=Decimal("110.00")) -> RateClass:
    rc = RateClass.objects.create(organization=world.org, name=name)
    TechnicianRateClass.objects.create(organization=world.org, user=user, rate_class=rc)
    RateFactory(organization=world.org, rate_class=rc, unit_price=price, unit_cost=Decimal("60.00"))
    return rc


def price_list(world, *, currency="EUR", labour=None, parts=None, **fields) -> PriceList:
    pl = PriceListFactory(organization=world.org, currency=currency, **fields)
    if labour is not None:
        RateFactory(organization=world.org, price_list=pl, unit_price=labour)
    for part, price in (parts or {}).items():
        PriceListItem.objects.create(organization=world.org, price_list=pl, part=part, unit_price=price)
    return pl


def part_category(world, name="Filters") -> PartCategory:
    return PartCategory.objects.create(organization=world.org, name=name)


# ---------------------------------------------------------------------------------------------
# work


def at(day: str, hhmm: str, zone: str = "Europe/Berlin") -> datetime:
    """An aware instant from a local date and time (``at("2026-03-02", "08:00")``)."""
    from zoneinfo import ZoneInfo

    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=ZoneInfo(zone))


def closed_work_order(world, *, client=None, site=None, equipment=None, closed=None, **fields):
    """A closed, billable work order waiting to be invoiced (``to_invoice``)."""
    if equipment is None and site is None and client is None:
        equipment = world.equipment
    if client is not None and equipment is None and site is None:
        site = client.sites.first()
    closed = closed or datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
    values = {
        "status": Status.CLOSED,
        "billing_status": BillingStatus.TO_INVOICE,
        "started_at": closed - timedelta(days=1),
        "completed_at": closed - timedelta(hours=20),
        "closed_at": closed,
        "lead_technician": world.technician.user,
    }
    if equipment is not None:
        values["equipment"] = equipment
    else:
        values |= {"equipment": None, "site": site, "client": site.client, "organization": site.organization}
    values.update(fields)
    return WorkOrderFactory(**values)


def time_entry(wo, start: datetime, minutes: int, *, technician=None, kind="labour", **fields) -> TimeEntry:
    return TimeEntry.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        technician=technician or wo.lead_technician,
        kind=kind,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        duration_minutes=minutes,
        **fields,
    )


def part_usage(wo, *, part=None, quantity="1", unit_price=None, unit_cost=None, **fields) -> PartUsage:
    if part is None and "description" not in fields:
        part = PartFactory(organization=wo.organization)
    return PartUsage.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        part=part,
        description=fields.pop("description", part.name if part else ""),
        quantity=Decimal(quantity),
        unit=part.unit if part else "pc",
        unit_cost=unit_cost if unit_cost is not None else (part.unit_cost if part else Decimal(0)),
        unit_price=unit_price if unit_price is not None else (part.sale_price if part else Decimal(0)),
        **fields,
    )


def charge(wo, description="Parking", unit_price="12.50", *, kind="expense", **fields) -> WorkOrderCharge:
    return WorkOrderCharge.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        kind=kind,
        description=description,
        unit_price=Decimal(unit_price),
        incurred_on=fields.pop("incurred_on", date(2026, 3, 2)),
        **fields,
    )


def wo_billing(wo, **fields) -> WorkOrderBilling:
    return WorkOrderBilling.objects.create(organization_id=wo.organization_id, work_order=wo, **fields)


def lines_of(invoice) -> list[tuple]:
    """An invoice's lines as (description, quantity, unit price, discount %, net) for exact assertions."""
    return [
        (line.description, line.quantity, line.unit_price, line.discount_percent, line.net_amount)
        for line in invoice.lines.order_by("position", "id")
    ]
