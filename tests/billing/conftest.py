"""Fixtures of the billing tests: an organization as seller, a client as buyer, work orders, and invoices
written directly to the database with their amounts computed by ``billing.calculations`` (lines, VAT
breakdown, totals) and the seller and buyer snapshots in the format the issuing service stores.

``InvoiceBuilder`` makes the invoices of the document tests: standard 19 %, mixed 19 % / 7 %, exempt,
reverse charge, a credit note referencing an invoice, a yen invoice, each one line dict at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest

from fixflow.billing import calculations
from fixflow.billing.choices import DocumentType, InvoiceStatus
from fixflow.billing.models import BillingSettings, ClientBilling, Invoice, InvoiceLine, ServiceContract
from tests.factories import (
    ClientFactory,
    EquipmentFactory,
    OrganizationFactory,
    PartFactory,
    SiteFactory,
    WorkOrderFactory,
)

ISSUE_DATE = date(2026, 3, 16)

SELLER = {
    "name": "Nordlicht Haustechnik",
    "legal_name": "Nordlicht Haustechnik GmbH",
    "street": "Hafenstraße 12",
    "address_line_2": "",
    "postcode": "20457",
    "city": "Hamburg",
    "country": "DE",
    "vat_id": "DE123456789",
    "tax_number": "22/815/08150",
    "registration_id": "HRB 123456, Amtsgericht Hamburg",
    "email": "rechnung@nordlicht.example",
    "phone": "+49 40 123456-0",
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
    "bank_name": "Commerzbank",
    "logo_path": "",
}

BUYER = {
    "name": "Stadtwerke Musterstadt",
    "legal_name": "Stadtwerke Musterstadt GmbH",
    "street": "Am Wasserturm 3",
    "address_line_2": "Gebäude B",
    "postcode": "24103",
    "city": "Kiel",
    "country": "DE",
    "vat_id": "DE987654321",
    "buyer_reference": "04011000-12345-34",
    "endpoint_scheme": "0204",
    "endpoint_id": "04011000-12345-34",
    "email": "eingangsrechnung@stadtwerke.example",
}

STANDARD = {"tax_category": "S", "tax_rate": Decimal("19.00")}
REDUCED = {"tax_category": "S", "tax_rate": Decimal("7.00")}
EXEMPT = {
    "tax_category": "E",
    "tax_rate": Decimal("0"),
    "exemption_reason": "Steuerfreie Leistung nach § 4 Nr. 16 UStG",
    "exemption_code": "",
}
REVERSE_CHARGE = {
    "tax_category": "AE",
    "tax_rate": Decimal("0"),
    "exemption_reason": "Reverse charge: VAT to be accounted for by the recipient",
    "exemption_code": "VATEX-EU-AE",
}


@dataclass
class BillingWorld:
    org: object
    settings: BillingSettings
    client: object
    client_billing: ClientBilling
    site: object
    equipment: object
    work_orders: list
    part: object
    contract: ServiceContract
    counter: list = field(default_factory=lambda: [0])


@pytest.fixture
def billing_world(db, settings, tmp_path) -> BillingWorld:
    """A seller with full billing settings, a client with billing details, two work orders, a part and a
    maintenance contract."""
    org = OrganizationFactory(name="Nordlicht Haustechnik", currency="EUR")
    billing_settings = BillingSettings.objects.create(
        organization=org,
        **{key: value for key, value in SELLER.items() if key not in {"name", "logo_path"}},
        payment_terms_days=14,
        payment_terms_note="Zahlbar innerhalb von 14 Tagen ohne Abzug.",
    )
    client = ClientFactory(organization=org, name=BUYER["name"], vat_id=BUYER["vat_id"], email=BUYER["email"])
    client_billing = ClientBilling.objects.create(
        organization=org,
        client=client,
        **{key: BUYER[key] for key in ("legal_name", "street", "address_line_2", "postcode", "city", "country")},
        buyer_reference=BUYER["buyer_reference"],
        endpoint_scheme=BUYER["endpoint_scheme"],
        endpoint_id=BUYER["endpoint_id"],
        invoice_email=BUYER["email"],
    )
    site = SiteFactory(client=client, name="Pumpwerk Nord")
    equipment = EquipmentFactory(site=site, name="Kreiselpumpe P1")
    other_site = SiteFactory(client=client, name="Klärwerk Süd")
    other_equipment = EquipmentFactory(site=other_site, name="Gebläse G2")
    work_orders = [
        WorkOrderFactory(equipment=equipment, number="WO-2026-00041", title="Pump leaking at the shaft seal"),
        WorkOrderFactory(equipment=other_equipment, number="WO-2026-00057", title="Annual blower inspection"),
    ]
    part = PartFactory(organization=org, sku="GLRD-40", name="Mechanical seal 40 mm")
    contract = ServiceContract.objects.create(
        organization=org,
        client=client,
        name="Wartungsvertrag Pumpen",
        reference="WV-2026-007",
        valid_from=date(2026, 1, 1),
        included_labour_minutes=600,
    )
    return BillingWorld(org, billing_settings, client, client_billing, site, equipment, work_orders, part, contract)


def make_invoice(
    world: BillingWorld,
    lines: list[dict],
    *,
    currency: str = "EUR",
    number: str | None = None,
    document_type: str = DocumentType.INVOICE,
    credited: Invoice | None = None,
    credit_reason: str = "",
    seller: dict | None = None,
    buyer: dict | None = None,
    note: str = "",
    issue: bool = True,
) -> Invoice:
    """An invoice (or credit note) with ``lines`` written directly, amounts by ``billing.calculations``.

    A line dict has ``description`` and ``unit_price`` and optionally ``quantity`` (1), ``unit`` ("pc"),
    ``discount_percent``, ``discount_reason``, ``kind``, ``detail``, ``work_order`` (index into
    ``world.work_orders``), ``service_date``, ``contract`` (True: the world's contract), ``part`` (True)
    and the tax fields (``STANDARD`` when absent).
    """
    world.counter[0] += 1
    series = "CN" if document_type == DocumentType.CREDIT_NOTE else "INV"
    number = number or f"{series}-2026-{world.counter[0]:04d}"
    invoice = Invoice.objects.create(
        organization=world.org,
        document_type=document_type,
        series=series,
        number=number,
        client=world.client,
        currency=currency,
        issue_date=ISSUE_DATE,
        due_date=ISSUE_DATE + timedelta(days=14),
        buyer_reference=(buyer or BUYER).get("buyer_reference", ""),
        payment_terms="Zahlbar innerhalb von 14 Tagen ohne Abzug." if document_type == DocumentType.INVOICE else "",
        credited_invoice=credited,
        credit_reason=credit_reason,
        note=note,
        seller=dict(SELLER, **(seller or {})),
        buyer=dict(BUYER, **(buyer or {})),
    )
    calc_lines = []
    for position, spec in enumerate(lines, 1):
        tax = {
            "tax_category": spec.get("tax_category", STANDARD["tax_category"]),
            "tax_rate": Decimal(str(spec.get("tax_rate", STANDARD["tax_rate"]))),
            "exemption_reason": spec.get("exemption_reason", ""),
            "exemption_code": spec.get("exemption_code", ""),
        }
        quantity = Decimal(str(spec.get("quantity", "1")))
        unit_price = Decimal(str(spec["unit_price"]))
        discount = Decimal(str(spec.get("discount_percent", "0")))
        net = calculations.line_net(quantity, unit_price, discount, currency)
        work_order = world.work_orders[spec["work_order"]] if "work_order" in spec else None
        InvoiceLine.objects.create(
            organization=world.org,
            invoice=invoice,
            position=position,
            kind=spec.get("kind", "manual"),
            description=spec["description"],
            detail=spec.get("detail", ""),
            quantity=quantity,
            unit=spec.get("unit", "pc"),
            unit_price=unit_price,
            discount_percent=discount,
            discount_reason=spec.get("discount_reason", ""),
            net_amount=net,
            work_order=work_order,
            service_date=spec.get("service_date", date(2026, 3, 10) if work_order else None),
            contract=world.contract if spec.get("contract") else None,
            part=world.part if spec.get("part") else None,
            **tax,
        )
        calc_lines.append(
            calculations.Line(
                net=net,
                category=tax["tax_category"],
                rate=tax["tax_rate"],
                exemption_reason=tax["exemption_reason"],
                exemption_code=tax["exemption_code"],
            )
        )
    totals = calculations.totals(calc_lines, currency)
    Invoice.objects.filter(pk=invoice.pk).update(
        total_net=totals.total_net,
        total_tax=totals.total_tax,
        total_gross=totals.total_gross,
        amount_due=totals.amount_due,
        tax_breakdown=totals.breakdown_json(),
    )
    if issue:
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.ISSUED)
    return Invoice.objects.get(pk=invoice.pk)


# The invoices of the document tests, by name: (lines, options)
LABOUR = {"kind": "labour", "unit": "h"}
SCENARIOS = {
    "standard": (
        [
            {
                **LABOUR,
                "description": "Labour: service technician",
                "quantity": "2.5",
                "unit_price": "78.00",
                "work_order": 0,
                "detail": "Replaced the shaft seal, pressure test 6 bar",
            },
            {
                "kind": "part",
                "description": "Mechanical seal 40 mm",
                "quantity": "1",
                "unit_price": "129.90",
                "work_order": 0,
                "part": True,
            },
            {"kind": "call_out", "description": "Call-out fee", "unit_price": "45.00", "work_order": 0},
            {
                **LABOUR,
                "description": "Labour: covered by contract",
                "quantity": "1.5",
                "unit_price": "78.00",
                "discount_percent": "100",
                "contract": True,
                "work_order": 0,
                "discount_reason": "Included hours of service contract Wartungsvertrag Pumpen (WV-2026-007)",
            },
        ],
        {"note": "Thank you for your order."},
    ),
    "mixed": (
        [
            {
                **LABOUR,
                "description": "Labour: senior engineer",
                "quantity": "3",
                "unit_price": "95.00",
                "work_order": 0,
            },
            {"kind": "part", "description": "O-ring kit", "quantity": "3", "unit_price": "0.333", "work_order": 0},
            {
                **LABOUR,
                "description": "Inspection according to DIN 1988",
                "quantity": "1.25",
                "unit_price": "82.00",
                "work_order": 1,
                "discount_percent": "10",
                "discount_reason": "Framework agreement discount 10 %",
                "service_date": date(2026, 3, 12),
            },
            {
                "kind": "expense",
                "description": "Technical handbook (printed)",
                "unit_price": "24.50",
                "work_order": 1,
                **REDUCED,
                "service_date": date(2026, 3, 12),
            },
        ],
        {},
    ),
    "exempt": (
        [
            {
                **LABOUR,
                "description": "Care service hours",
                "quantity": "4",
                "unit_price": "55.00",
                "work_order": 0,
                **EXEMPT,
            },
        ],
        {},
    ),
    "reverse_charge": (
        [
            {
                **LABOUR,
                "description": "Commissioning of pump station",
                "quantity": "6",
                "unit_price": "92.00",
                "work_order": 0,
                **REVERSE_CHARGE,
            },
            {
                "kind": "part",
                "description": "Frequency converter 7.5 kW",
                "unit_price": "1840.00",
                "work_order": 0,
                **REVERSE_CHARGE,
            },
        ],
        {
            "buyer": {
                "name": "Alpenwasser GmbH",
                "legal_name": "Alpenwasser GmbH",
                "street": "Innrain 1",
                "address_line_2": "",
                "postcode": "6020",
                "city": "Innsbruck",
                "country": "AT",
                "vat_id": "ATU12345678",
                "buyer_reference": "PO-7781",
                "endpoint_scheme": "9914",
                "endpoint_id": "ATU12345678",
                "email": "ap@alpenwasser.example",
            }
        },
    ),
    "yen": (
        [
            {
                **LABOUR,
                "description": "Maintenance visit",
                "quantity": "2",
                "unit_price": "12500",
                "work_order": 0,
                **{"tax_category": "S", "tax_rate": Decimal("10.00")},
            },
            {
                "kind": "part",
                "description": "Filter cartridge",
                "quantity": "3",
                "unit_price": "1333",
                "work_order": 0,
                **{"tax_category": "S", "tax_rate": Decimal("10.00")},
            },
        ],
        {"currency": "JPY", "seller": {"iban": "", "bic": ""}},
    ),
}


def make_scenario(world: BillingWorld, name: str, **overrides) -> Invoice:
    lines, options = SCENARIOS[name]
    return make_invoice(world, lines, **{**options, **overrides})


def make_credit_note(world: BillingWorld, invoice: Invoice) -> Invoice:
    """A partial credit note (381) for ``invoice``: its first line credited in full."""
    first = invoice.lines.order_by("position").first()
    line = {
        "description": f"Credit: {first.description}",
        "kind": first.kind,
        "quantity": first.quantity,
        "unit": first.unit,
        "unit_price": first.unit_price,
        "tax_category": first.tax_category,
        "tax_rate": first.tax_rate,
        "work_order": world.work_orders.index(first.work_order) if first.work_order else None,
        "service_date": first.service_date,
    }
    if line["work_order"] is None:
        del line["work_order"]
    return make_invoice(
        world,
        [line],
        document_type=DocumentType.CREDIT_NOTE,
        credited=invoice,
        credit_reason="Labour hours entered twice",
    )
