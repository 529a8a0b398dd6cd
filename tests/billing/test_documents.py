"""Invoice documents (DOMAIN.md §4 rules 9 and 11): the EN 16931 terms, Factur-X CII and Peppol BIS UBL
checked against the official XSD and EN 16931 schematron, the PDF/A-3b invoice with the CII embedded, the
credit note, the quote PDF and the EPC QR code.

The invoices are written directly by the fixtures of ``conftest.py`` with amounts from
``billing.calculations``. The first schematron check of the session compiles the stylesheets (seconds).
"""

import base64
import io
import json
import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
import segno
import tinyhtml5
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from facturx import get_level, get_xml_from_pdf
from lxml import etree
from PIL import Image
from pypdf import PdfReader

from fixflow.billing.documents import cii, pdf, qr, terms, ubl, validate
from fixflow.billing.models import Invoice, Quote, QuoteLine
from fixflow.core.errors import DomainError, ErrorCode

from .conftest import SCENARIOS, make_credit_note, make_invoice, make_scenario

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def documents(invoice):
    """The terms and both XMLs of ``invoice``."""
    built = terms.build(invoice)
    return built, cii.render(built), ubl.render(built)


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(value) for value in etree.fromstring(xml).xpath(path, namespaces=NS)]


def refused(excinfo) -> DomainError:
    error = excinfo.value
    assert error.code == ErrorCode.VALIDATION
    return error


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


# ---------------------------------------------------------------------------------------------
# every invoice of the suite passes XSD and schematron in both syntaxes


@pytest.mark.parametrize("name", [*SCENARIOS, "credit_note"])
def test_every_generated_cii_and_ubl_passes_xsd_and_the_en16931_schematron(billing_world, name):
    # given
    if name == "credit_note":
        invoice = make_credit_note(billing_world, make_scenario(billing_world, "standard"))
    else:
        invoice = make_scenario(billing_world, name)
    # when
    _terms, xml_cii, xml_ubl = documents(invoice)
    # then
    assert validate.findings_cii(xml_cii) == []
    assert validate.findings_ubl(xml_ubl) == []
    validate.check_cii(xml_cii)
    validate.check_ubl(xml_ubl)


def test_the_same_invoice_gives_the_same_xml_bytes(billing_world):
    # given
    invoice = make_scenario(billing_world, "mixed")
    first = documents(invoice)
    # when
    again = documents(Invoice.objects.get(pk=invoice.pk))
    # then
    assert again == first
    assert json.loads(json.dumps(first[0])) == first[0]


# ---------------------------------------------------------------------------------------------
# the terms


def test_the_terms_carry_the_en16931_fields_of_the_stored_invoice(billing_world):
    # given
    invoice = make_scenario(billing_world, "standard")
    # when
    built = terms.build(invoice)
    # then
    assert {key: built[key] for key in ("BT-1", "BT-2", "BT-3", "BT-5", "BT-9", "BT-10")} == {
        "BT-1": invoice.number,
        "BT-2": "2026-03-16",
        "BT-3": "380",
        "BT-5": "EUR",
        "BT-9": "2026-03-30",
        "BT-10": "04011000-12345-34",
    }
    assert built["BT-20"] == "Zahlbar innerhalb von 14 Tagen ohne Abzug."
    assert built["BG-1"] == [{"BT-22": "Thank you for your order."}]
    assert built["BG-4"]["name"] == "Nordlicht Haustechnik GmbH"
    assert built["BG-4"]["vat_identifier"] == "DE123456789"
    assert built["BG-4"]["tax_identifier"] == "22/815/08150"
    assert built["BG-4"]["legal_identifier"] == "HRB 123456, Amtsgericht Hamburg"
    assert built["BG-7"]["einvoicing_addr"] == "04011000-12345-34"
    assert built["BG-7"]["einvoicing_addr_schemeid"] == "0204"
    assert (built["BT-81"], built["BT-83"], built["BT-84"], built["BT-86"]) == (
        "58",
        invoice.number,
        "DE89370400440532013000",
        "COBADEFFXXX",
    )
    assert built["BG-23"] == [{"BT-116": "369.90", "BT-117": "70.28", "BT-118": "S", "BT-119": "19.00"}]
    totals = {key: built[key] for key in ("BT-106", "BT-109", "BT-110", "BT-112", "BT-115")}
    assert totals == {"BT-106": "369.90", "BT-109": "369.90", "BT-110": "70.28", "BT-112": "440.18", "BT-115": "440.18"}
    labour, part, _call_out, covered = built["BG-25"]
    assert (labour["BT-126"], labour["BT-129"], labour["BT-130"], labour["BT-131"], labour["BT-146"]) == (
        "1",
        "2.5",
        "HUR",
        "195.00",
        "78.00",
    )
    assert labour["BT-127-00"] == [{"BT-127": "WO-2026-00041 · Pump leaking at the shaft seal · Pumpwerk Nord"}]
    assert (labour["BT-134"], labour["BT-135"]) == ("2026-03-10", "2026-03-10")
    assert part["BT-155"] == "GLRD-40"
    assert part["BT-130"] == "H87"
    assert covered["BT-131"] == "0.00"
    assert covered["BG-27"] == [
        {
            "amount": "117.00",
            "base_amount": "117.00",
            "reason": "Included hours of service contract Wartungsvertrag Pumpen (WV-2026-007)",
            "rate": "100.00",
        }
    ]
    assert built["BT-72"] == built["BT-73"] == built["BT-74"] == "2026-03-10"


def test_a_contract_line_without_a_reason_names_the_contract(billing_world):
    # given
    line = {"description": "Inspection", "unit_price": "80", "discount_percent": "100", "contract": True}
    invoice = make_invoice(billing_world, [line, {"description": "Filter", "unit_price": "12.50"}])
    # when
    built, xml_cii, xml_ubl = documents(invoice)
    # then
    reason = "Covered by service contract Wartungsvertrag Pumpen (WV-2026-007)"
    assert built["BG-25"][0]["BG-27"][0]["reason"] == reason
    assert xpath(xml_cii, "//ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:Reason/text()") == [
        reason
    ]
    assert xpath(xml_ubl, "//cac:InvoiceLine/cac:AllowanceCharge/cbc:AllowanceChargeReason/text()") == [reason]
    validate.check_cii(xml_cii)
    validate.check_ubl(xml_ubl)


def test_a_negative_price_is_written_as_a_positive_price_of_a_negative_quantity(billing_world):
    # given: a goodwill deduction entered as a line with a negative price (BR-27: prices are never negative)
    lines = [
        {"description": "Repair", "unit_price": "200.00"},
        {"description": "Goodwill deduction", "unit_price": "-20.00"},
    ]
    invoice = make_invoice(billing_world, lines)
    # when
    built, xml_cii, xml_ubl = documents(invoice)
    # then
    deduction = built["BG-25"][1]
    assert (deduction["BT-129"], deduction["BT-146"], deduction["BT-131"]) == ("-1", "20.00", "-20.00")
    assert built["BT-109"] == "180.00"
    validate.check_cii(xml_cii)
    validate.check_ubl(xml_ubl)


def test_a_yen_invoice_has_amounts_without_decimals(billing_world):
    # given
    invoice = make_scenario(billing_world, "yen")
    # when
    built, xml_cii, _xml_ubl = documents(invoice)
    # then: 2 × 12 500 + 3 × 1 333 = 28 999; 10 % VAT on the group = 2 899.9 → 2 900
    assert (built["BT-109"], built["BT-110"], built["BT-112"]) == ("28999", "2900", "31899")
    assert [line["BT-131"] for line in built["BG-25"]] == ["25000", "3999"]
    assert xpath(xml_cii, "//ram:GrandTotalAmount/text()") == ["31899"]
    assert "BT-81" not in built  # no IBAN: no payment means


def test_a_three_decimal_currency_is_refused(billing_world):
    # given
    invoice = make_invoice(billing_world, [{"description": "Service", "unit_price": "10"}], issue=False)
    Invoice.objects.filter(pk=invoice.pk).update(currency="KWD")
    # when
    with pytest.raises(DomainError) as excinfo:
        terms.build(Invoice.objects.get(pk=invoice.pk))
    # then
    error = refused(excinfo)
    assert error.field == "currency"
    assert "KWD" in error.message


def test_reverse_charge_carries_the_buyer_vat_id_and_the_exemption(billing_world):
    # given
    invoice = make_scenario(billing_world, "reverse_charge")
    # when
    built, xml_cii, xml_ubl = documents(invoice)
    # then
    assert built["BG-23"] == [
        {
            "BT-116": "2392.00",
            "BT-117": "0.00",
            "BT-118": "AE",
            "BT-119": "0.00",
            "BT-120": "Reverse charge: VAT to be accounted for by the recipient",
            "BT-121": "VATEX-EU-AE",
        }
    ]
    assert xpath(xml_cii, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()") == ["ATU12345678"]
    assert xpath(xml_ubl, "//cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReasonCode/text()") == ["VATEX-EU-AE"]


def test_the_ubl_follows_peppol_bis_billing_3(billing_world):
    # given
    invoice = make_scenario(billing_world, "standard")
    # when
    _built, _xml_cii, xml_ubl = documents(invoice)
    # then
    assert xpath(xml_ubl, "/inv:Invoice/cbc:CustomizationID/text()") == [ubl.CUSTOMIZATION_ID]
    assert xpath(xml_ubl, "/inv:Invoice/cbc:ProfileID/text()") == [ubl.PROFILE_ID]
    assert xpath(xml_ubl, "//cac:AccountingSupplierParty//cbc:EndpointID/@schemeID") == ["EM"]
    assert xpath(xml_ubl, "//cac:AccountingCustomerParty//cbc:EndpointID/text()") == ["04011000-12345-34"]
    assert xpath(xml_ubl, "//cac:PaymentMeans/cbc:PaymentMeansCode/text()") == ["58"]


def test_a_ubl_invoice_without_buyer_or_order_reference_gets_the_invoice_number(billing_world):
    # given
    invoice = make_invoice(
        billing_world, [{"description": "Service", "unit_price": "10"}], buyer={"buyer_reference": ""}
    )
    # when
    built, xml_cii, xml_ubl = documents(invoice)
    # then: PEPPOL-EN16931-R003 wants one of the two in UBL; the CII stays as stored
    assert "BT-10" not in built
    assert xpath(xml_ubl, "/inv:Invoice/cbc:BuyerReference/text()") == [invoice.number]
    assert xpath(xml_cii, "//ram:BuyerReference/text()") == []


def test_a_credit_note_references_the_invoice_in_both_syntaxes(billing_world):
    # given
    invoice = make_scenario(billing_world, "standard")
    credit_note = make_credit_note(billing_world, invoice)
    # when
    built, xml_cii, xml_ubl = documents(credit_note)
    # then
    assert built["BT-3"] == "381"
    assert built["BG-3"] == [{"BT-25": invoice.number, "BT-26": "2026-03-16"}]
    assert xpath(xml_cii, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    assert xpath(xml_cii, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [invoice.number]
    assert etree.fromstring(xml_ubl).tag == f"{{{NS['cn']}}}CreditNote"
    assert xpath(xml_ubl, "/cn:CreditNote/cbc:CreditNoteTypeCode/text()") == ["381"]
    assert xpath(xml_ubl, "//cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID/text()") == [invoice.number]
    assert xpath(xml_ubl, "//cac:CreditNoteLine/cbc:CreditedQuantity/text()") == ["2.5"]
    assert "BT-81" not in built  # the seller does not ask for a transfer on a credit note
    assert built["BT-20"] == terms.CREDIT_NOTE_TERMS  # BR-CO-25


# ---------------------------------------------------------------------------------------------
# a broken invoice fails naming the rule


def test_totals_that_do_not_add_up_fail_naming_the_rule(billing_world):
    # given: a stored total 1 cent off
    invoice = make_scenario(billing_world, "standard", issue=False)
    Invoice.objects.filter(pk=invoice.pk).update(total_gross=Decimal("440.19"))
    _built, xml_cii, xml_ubl = documents(Invoice.objects.get(pk=invoice.pk))
    # when
    with pytest.raises(DomainError) as cii_error:
        validate.check_cii(xml_cii)
    with pytest.raises(DomainError) as ubl_error:
        validate.check_ubl(xml_ubl)
    # then
    for excinfo, syntax in ((cii_error, "CII"), (ubl_error, "UBL")):
        error = refused(excinfo)
        assert error.message.startswith("BR-CO-15: Invoice total amount with VAT (BT-112) = ")
        assert error.details["rule"] == "BR-CO-15"
        assert error.details["syntax"] == syntax
        assert [item["rule"] for item in error.details["errors"]] == ["BR-CO-15"]


def test_a_vat_amount_off_the_rate_fails_naming_the_rule(billing_world):
    # given: 19 % of 369.90 is 70.28, stored as 71.28 in the breakdown and the totals
    invoice = make_scenario(billing_world, "standard", issue=False)
    breakdown = [dict(invoice.tax_breakdown[0], tax="71.28")]
    Invoice.objects.filter(pk=invoice.pk).update(
        tax_breakdown=breakdown, total_tax=Decimal("71.28"), total_gross=Decimal("441.18")
    )
    _built, xml_cii, _xml_ubl = documents(Invoice.objects.get(pk=invoice.pk))
    # when
    with pytest.raises(DomainError) as excinfo:
        validate.check_cii(xml_cii)
    # then
    rules = [item["rule"] for item in refused(excinfo).details["errors"]]
    assert "BR-S-09" in rules


def test_reverse_charge_without_the_buyer_vat_id_fails_naming_the_rule(billing_world):
    # given
    lines, options = SCENARIOS["reverse_charge"]
    invoice = make_invoice(billing_world, lines, buyer=dict(options["buyer"], vat_id=""))
    _built, xml_cii, xml_ubl = documents(invoice)
    # when
    with pytest.raises(DomainError) as excinfo:
        validate.check_ubl(xml_ubl)
    # then
    error = refused(excinfo)
    assert error.message.startswith("BR-AE-02: ")
    assert "BR-AE-02" in [finding.rule for finding in validate.findings_cii(xml_cii)]


def test_an_xml_against_the_schema_fails_as_xsd(billing_world):
    # given
    _built, xml_cii, xml_ubl = documents(make_scenario(billing_world, "standard"))
    broken = xml_ubl.replace(b"<cbc:IssueDate>", b"<cbc:Unknown>x</cbc:Unknown><cbc:IssueDate>", 1)
    # when
    with pytest.raises(DomainError) as excinfo:
        validate.check_ubl(broken)
    # then
    error = refused(excinfo)
    assert error.message.startswith("XSD: Element '{urn:oasis:names:specification:ubl:schema:xsd:")
    assert "Unknown" in error.message
    with pytest.raises(DomainError) as excinfo:
        validate.check_cii(b"<not-xml")
    assert refused(excinfo).details["rule"] == "XML"
    with pytest.raises(DomainError):
        validate.check_cii(xml_ubl)  # a UBL document is no CII


# ---------------------------------------------------------------------------------------------
# PDF


def test_the_invoice_pdf_is_pdf_a_3b_with_the_factur_x_xml_attached(billing_world):
    # given
    invoice = make_scenario(billing_world, "standard")
    _built, xml_cii, _xml_ubl = documents(invoice)
    # when
    data = pdf.render_invoice(invoice, xml_cii)
    # then: the XML reads back unchanged
    filename, attached = get_xml_from_pdf(data, check_xsd=False)
    assert (filename, attached) == ("factur-x.xml", xml_cii)
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object()
    assert "/Filter" not in xmp
    metadata = xmp.get_data().decode()
    assert re.search(r"<pdfaid:part>3</pdfaid:part>|pdfaid:part=\"3\"", metadata)  # element or attribute
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>|pdfaid:conformance=\"B\"", metadata)
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in metadata
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert len(root["/AF"]) == 1  # the XML once (WeasyPrint lists it twice unless told otherwise)
    filespec = root["/AF"][0].get_object()
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/F"] == filespec["/UF"] == "factur-x.xml"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    # the Factur-X extension schema and values in the one rdf:RDF, and the same title in both places
    assert metadata.count("<rdf:RDF") == 1
    assert "<pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#<" in metadata
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in metadata
    assert "<fx:DocumentType>INVOICE</fx:DocumentType>" in metadata
    assert f">{reader.metadata.title}</rdf:li>" in metadata
    assert reader.metadata.title == f"{invoice.seller['legal_name']}: Invoice {invoice.number}"
    assert get_level(etree.fromstring(attached)) == "en16931"
    text = pdf_text(data)
    for expected in (
        f"Invoice {invoice.number}",
        "WO-2026-00041 · Pump leaking at the shaft seal",
        "Pumpwerk Nord",
        "Included hours of service contract Wartungsvertrag Pumpen",
        "100 %",
        "DE89 3704 0044 0532 0130 00",
        "Total due 440.18 EUR",
        "Page 1 of 1",
    ):
        assert expected in text


def test_a_credit_note_pdf_says_which_invoice_it_credits(billing_world):
    # given
    invoice = make_scenario(billing_world, "standard")
    credit_note = make_credit_note(billing_world, invoice)
    # when
    context = pdf.invoice_context(credit_note)
    data = pdf.render_invoice(credit_note, documents(credit_note)[1])
    # then
    assert context["qr"] is None
    text = pdf_text(data)
    assert f"Credit note {credit_note.number} for invoice {invoice.number} of 03/16/2026" in text
    assert "Total credited 232.05 EUR" in text


def test_a_credit_note_pdf_asks_for_no_payment(billing_world):
    # given: payment terms on the credit note (issuing gives it its own; a draft's may be edited)
    invoice = make_scenario(billing_world, "standard")
    credit_note = make_credit_note(billing_world, invoice)
    credit_note.payment_terms = "Payable within 14 days without deduction."  # not saved: it is issued
    # when
    text = pdf_text(pdf.render_invoice(credit_note, documents(credit_note)[1]))
    # then: the invoice it credits, and nothing to pay
    assert f"For invoice {invoice.number}" in text
    assert f"We credit you 232.05 EUR for invoice {invoice.number}." in text
    for unwanted in ("Payable within", "Please transfer", "Payment", "Due date", "GiroCode"):
        assert unwanted not in text


def test_the_pdf_groups_lines_by_work_order_with_the_date_of_service(billing_world):
    # given
    invoice = make_scenario(billing_world, "mixed")
    # when
    groups = pdf.invoice_context(invoice)["groups"]
    # then
    assert [(group.heading, group.detail) for group in groups] == [
        ("WO-2026-00041 · Pump leaking at the shaft seal", "Pumpwerk Nord · 03/10/2026"),
        ("WO-2026-00057 · Annual blower inspection", "Klärwerk Süd · 03/12/2026"),
    ]
    assert [[line["number"] for line in group.lines] for group in groups] == [[1, 2], [3, 4]]
    assert groups[1].lines[0]["discount_reason"] == "Framework agreement discount 10 %"


def test_the_vat_column_is_there_only_when_the_lines_rates_differ(billing_world):
    # given
    one_rate = make_scenario(billing_world, "standard")
    two_rates = make_scenario(billing_world, "mixed")
    # when
    one, two = pdf.invoice_context(one_rate), pdf.invoice_context(two_rates)
    # then: one rate is stated once, in the VAT breakdown
    assert (one["vat_column"], one["columns"]) == (False, 6)  # with the discount column
    assert two["vat_column"] is True
    one_text = pdf_text(pdf.render_invoice(one_rate, documents(one_rate)[1]))
    assert "# DESCRIPTION QUANTITY UNIT PRICE DISCOUNT NET (EUR)" in one_text
    assert "VAT Taxable amount VAT amount 19 % 369.90 EUR 70.28 EUR" in one_text
    two_text = pdf_text(pdf.render_invoice(two_rates, documents(two_rates)[1]))
    assert "# DESCRIPTION QUANTITY UNIT PRICE DISCOUNT VAT NET (EUR)" in two_text
    assert "4 Technical handbook (printed) 1 pc 24.50 – 7 % 24.50" in two_text


def test_the_epc_qr_code_is_an_image_of_the_code_module_for_module(billing_world):
    # given
    invoice = make_scenario(billing_world, "standard")
    seller = invoice.seller
    # when
    uri = pdf.invoice_context(invoice)["qr"]
    # then: one black or white pixel a module, no quiet zone (the stylesheet scales it without smoothing)
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("L")
    code = segno.make_qr(
        qr.epc_payload(
            name=seller["legal_name"],
            iban=seller["iban"],
            bic=seller["bic"],
            amount=invoice.total_gross,
            remittance=invoice.number,
        ),
        error="m",
        boost_error=False,
        encoding="utf-8",
    )
    pixels = image.load()
    modules = [[pixels[x, y] < 128 for x in range(image.width)] for y in range(image.height)]
    assert modules == [[bool(module) for module in row] for row in code.matrix]


def test_the_epc_qr_code_is_only_for_euro_to_an_iban(billing_world):
    # given
    euro = make_scenario(billing_world, "standard")
    yen = make_scenario(billing_world, "yen")
    no_iban = make_invoice(billing_world, [{"description": "Service", "unit_price": "10"}], seller={"iban": ""})
    # then
    assert pdf.invoice_context(euro)["qr"].startswith("data:image/png;base64,")
    assert pdf.invoice_context(yen)["qr"] is None
    assert pdf.invoice_context(no_iban)["qr"] is None


def test_the_epc_payload_follows_epc069_12_version_2():
    payload = qr.epc_payload(
        name="Nordlicht Haustechnik GmbH",
        iban="DE89 3704 0044 0532 0130 00",
        bic="cobadeffxxx",
        amount=Decimal("440.18"),
        remittance="INV-2026-0001",
    )
    assert payload.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "COBADEFFXXX",
        "Nordlicht Haustechnik GmbH",
        "DE89370400440532013000",
        "EUR440.18",
        "",
        "",
        "INV-2026-0001",
    ]
    for amount in (Decimal("0"), Decimal("1000000000"), Decimal("1.005")):
        with pytest.raises(ValueError):
            qr.epc_payload(name="A", iban="DE89370400440532013000", amount=amount, remittance="X")


def test_a_quote_renders_as_a_pdf(billing_world):
    # given
    quote = Quote.objects.create(
        organization=billing_world.org,
        number="Q-2026-0012",
        client=billing_world.client,
        site=billing_world.site,
        title="Replacement of pump P1",
        currency="EUR",
        total_net=Decimal("468.00"),
        total_tax=Decimal("88.92"),
        total_gross=Decimal("556.92"),
    )
    QuoteLine.objects.create(
        organization=billing_world.org,
        quote=quote,
        description="Installation labour",
        quantity=Decimal("6"),
        unit="h",
        unit_price=Decimal("78.00"),
        net_amount=Decimal("468.00"),
        tax_category="S",
        tax_rate=Decimal("19.00"),
    )
    # when
    data = pdf.render_quote(quote)
    # then
    text = pdf_text(data)
    assert "Quote Q-2026-0012" in text
    assert "Replacement of pump P1" in text
    assert "Total 556.92 EUR" in text
    assert pdf.quote_context(quote)["vat_rows"][0]["tax"] == "88.92"


def _tree(root) -> list:
    return [
        (element.tag, dict(element.attrib), (element.text or "").strip(), (element.tail or "").strip())
        for element in root.iter()
    ]


def test_the_templates_parse_as_xml_into_the_tree_an_html5_parser_builds(billing_world):
    """documents.pdf parses the templates with xml.etree (fast) and falls back to WeasyPrint's HTML5
    parser only for markup that is not well-formed: every template must stay well-formed and give the
    same tree (closed void elements, colgroup and tbody written out)."""
    # given
    invoice = make_scenario(billing_world, "mixed")
    credit_note = make_credit_note(billing_world, make_scenario(billing_world, "standard"))
    preview = pdf._common(pdf.invoice_context(invoice)) | {"is_preview": True, "qr": None}
    quote = Quote.objects.create(
        organization=billing_world.org, number="Q-2026-0013", client=billing_world.client, title="Pump", currency="EUR"
    )
    contexts = [
        (pdf.INVOICE_TEMPLATE, pdf._common(pdf.invoice_context(invoice))),
        (pdf.INVOICE_TEMPLATE, pdf._common(pdf.invoice_context(credit_note))),
        (pdf.INVOICE_TEMPLATE, preview),
        (pdf.QUOTE_TEMPLATE, pdf._common(pdf.quote_context(quote))),
    ]
    for template, context in contexts:
        # when
        html = render_to_string(template, context)
        # then
        assert _tree(ElementTree.fromstring(html)) == _tree(tinyhtml5.parse(html, namespace_html_elements=False))


def test_the_organization_logo_is_embedded_and_a_missing_one_is_left_out(billing_world):
    # given
    image = io.BytesIO()
    Image.new("RGB", (120, 40), (15, 95, 143)).save(image, "PNG")
    path = default_storage.save("billing/logos/logo.png", ContentFile(image.getvalue()))
    with_logo = make_invoice(
        billing_world, [{"description": "Service", "unit_price": "10"}], seller={"logo_path": path}
    )
    gone = make_invoice(billing_world, [{"description": "Service", "unit_price": "10"}], seller={"logo_path": "x.png"})
    outside = make_invoice(
        billing_world, [{"description": "Service", "unit_price": "10"}], seller={"logo_path": "/etc/hostname"}
    )
    # then
    assert pdf.invoice_context(with_logo)["logo"].startswith("data:image/png;base64,iVBOR")
    assert pdf.invoice_context(gone)["logo"] is None
    assert pdf.invoice_context(outside)["logo"] is None


# ---------------------------------------------------------------------------------------------
# the schematron as Fixflow runs it reports exactly what the stylesheet as shipped reports


def _broken_documents(billing_world):
    """Invoices that break rules: totals off by a cent, VAT off the rate, reverse charge without VAT id."""
    off = make_scenario(billing_world, "standard", issue=False)
    Invoice.objects.filter(pk=off.pk).update(total_gross=Decimal("440.19"))
    vat = make_scenario(billing_world, "mixed", issue=False)
    breakdown = [dict(vat.tax_breakdown[0], tax=str(Decimal(vat.tax_breakdown[0]["tax"]) + 1))]
    Invoice.objects.filter(pk=vat.pk).update(tax_breakdown=breakdown + vat.tax_breakdown[1:])
    lines, options = SCENARIOS["reverse_charge"]
    no_vat_id = make_invoice(billing_world, lines, buyer=dict(options["buyer"], vat_id=""))
    return [Invoice.objects.get(pk=invoice.pk) for invoice in (off, vat, no_vat_id)]


def test_the_schematron_as_run_reports_what_the_stylesheet_as_shipped_reports(billing_world):
    # given every kind of invoice of the suite, valid and broken, in both syntaxes
    invoices = [make_scenario(billing_world, name) for name in SCENARIOS]
    invoices.append(make_credit_note(billing_world, invoices[0]))
    invoices += _broken_documents(billing_world)
    failed = 0
    for invoice in invoices:
        _terms, xml_cii, xml_ubl = documents(invoice)
        for kind, xml in (("cii", xml_cii), ("ubl", xml_ubl)):
            # when
            report = validate.svrl_report(kind, xml)
            # then the same rules fire on the same nodes, and the same asserts fail, in the same order
            assert report == validate.svrl_report(kind, xml, as_shipped=True), (invoice.pk, kind)
            failed += report.count("<svrl:failed-assert")
    assert failed >= 4  # the broken invoices were compared on their failures too


def test_each_pattern_visits_only_the_elements_its_rules_match(billing_world):
    # given the CII stylesheet as Fixflow compiles it
    from fixflow.billing.documents.validate import _direct_patterns, _last_steps

    with open(validate._resource(validate.SCHEMATRON["cii"]), encoding="utf-8") as handle:
        text = handle.read()
    # when
    direct = _direct_patterns(text)
    # then every pattern starts from the elements it names, and nothing walks the document node by node
    assert direct.count('select="//(') == 66 - 1  # one pattern has a rule for any element: it walks them
    assert direct.count('select="@*|*"') == 0 and text.count('select="@*|*"') == 439
    assert _last_steps("//ram:ID[@schemeID='VA'] | /rsm:A/ram:B[ram:C/@x]") == {"ram:ID", "ram:B"}
    assert _last_steps("//*[not(*)]") == {"*"} and _last_steps("@*|node()") is None
