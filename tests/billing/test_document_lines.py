"""The line numbers of an invoice are the same on paper and in the e-invoice: the PDF groups the lines by work
order and numbers them 1 … n down the page, and the CII and UBL give each line that number as its id (BT-126,
unique within the invoice) — also when a line was added to a work order after other work orders' lines."""

from __future__ import annotations

from lxml import etree

from fixflow.billing.documents import cii, pdf, terms, ubl

from .conftest import make_invoice

NS = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def _interleaved(world):
    """Lines in the order they were added: pump, blower, a line without a work order, pump again."""
    return make_invoice(
        world,
        [
            {"kind": "labour", "unit": "h", "description": "Pump: labour", "unit_price": "80", "work_order": 0},
            {"kind": "labour", "unit": "h", "description": "Blower: labour", "unit_price": "80", "work_order": 1},
            {"description": "Disposal fee", "unit_price": "15"},
            {"description": "Pump: extra seal", "unit_price": "12", "work_order": 0},
        ],
    )


def test_the_pdf_numbers_run_down_the_work_order_groups(billing_world):
    invoice = _interleaved(billing_world)
    groups = pdf.invoice_context(invoice)["groups"]
    assert [
        (group.heading.split(" · ")[0], [(line["number"], line["description"]) for line in group.lines])
        for group in groups
    ] == [
        ("WO-2026-00041", [(1, "Pump: labour"), (2, "Pump: extra seal")]),
        ("WO-2026-00057", [(3, "Blower: labour")]),
        ("Other items", [(4, "Disposal fee")]),
    ]


def test_the_xml_line_ids_are_the_pdf_numbers(billing_world):
    invoice = _interleaved(billing_world)
    data = terms.build(invoice)
    printed = [
        (line["number"], line["description"])
        for group in pdf.invoice_context(invoice)["groups"]
        for line in group.lines
    ]
    # the terms, the CII and the UBL carry the same ids for the same lines, unique within the invoice
    assert [(int(line["BT-126"]), line["BT-153"]) for line in data["BG-25"]] == printed
    cii_lines = etree.fromstring(cii.render(data)).xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    assert [
        (
            int(item.xpath("string(ram:AssociatedDocumentLineDocument/ram:LineID)", namespaces=NS)),
            item.xpath("string(ram:SpecifiedTradeProduct/ram:Name)", namespaces=NS),
        )
        for item in cii_lines
    ] == printed
    ubl_lines = etree.fromstring(ubl.render(data)).xpath("//cac:InvoiceLine", namespaces=NS)
    assert [int(item.xpath("string(cbc:ID)", namespaces=NS)) for item in ubl_lines] == [n for n, _d in printed]
