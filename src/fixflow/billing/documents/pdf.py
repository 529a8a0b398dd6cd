"""PDF documents rendered with WeasyPrint from the templates in ``billing/pdf/``.

:func:`render_invoice` gives a PDF/A-3b invoice or credit note with its Factur-X CII embedded (``factur-x``
adds the XML as ``factur-x.xml`` with relationship Data and replaces the XMP metadata with one that keeps
the PDF/A-3B identification and adds the Factur-X extension schema). :func:`render_quote` gives a plain PDF.

The invoice reads only what the invoice stores (its fields, lines, VAT breakdown and the seller and buyer
snapshots), like :mod:`.terms`; the quote, which has no snapshots, reads the organization's billing
settings and the client's billing details as they are now.
"""

from __future__ import annotations

import base64
import gc
import io
import mimetypes
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.resources import files
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import cssselect2
import weasyprint
import weasyprint.css
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import formats
from django.utils.translation import gettext as _
from weasyprint.css.counters import CounterStyle
from weasyprint.pdf.metadata import DocumentMetadata
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from fixflow.billing import calculations
from fixflow.billing.choices import DocumentType, VatCategory

from . import qr, terms

INVOICE_TEMPLATE = "billing/pdf/invoice.html"
QUOTE_TEMPLATE = "billing/pdf/quote.html"
STYLESHEET = "billing/pdf/document.css"
ZERO = Decimal(0)


def render_invoice(invoice, xml_cii: bytes) -> bytes:
    """The invoice (or credit note) as PDF/A-3b with ``xml_cii`` embedded as its Factur-X XML (EN 16931).

    ``xml_cii`` must already be valid (:func:`validate.check_cii`); it is not checked again here.
    """
    context = _common(invoice_context(invoice))
    seller = context["seller"]["display_name"]
    metadata = FacturXMetadata(
        title=f"{seller}: {context['title']} {context['number']}",
        authors=[seller],
        description=f"Factur-X {context['title']} {context['number']} {context['issue_date_iso']} {seller}",
        keywords=["Factur-X", str(context["title"])],
    )
    fetcher = _tools()[0]
    attachment = weasyprint.Attachment(
        file_obj=io.BytesIO(xml_cii),
        url_fetcher=fetcher,
        name=FACTURX_FILENAME,
        description="Factur-X XML file",
        relationship="Data",
    )
    return _weasyprint(
        render_to_string(INVOICE_TEMPLATE, context),
        metadata=metadata,
        pdf_variant="pdf/a-3b",
        attachments=[attachment],
    )


def render_preview(invoice) -> bytes:
    """A draft as a plain PDF marked “Draft”, without the e-invoice inside and without a payment QR code:
    for looking at it before it is issued. The caller puts the seller and buyer snapshots that issuing
    would take now on the (unsaved) ``invoice``; nothing is stored."""
    context = _common(invoice_context(invoice))
    context["is_preview"] = True
    context["qr"] = None
    return _weasyprint(render_to_string(INVOICE_TEMPLATE, context))


def render_quote(quote) -> bytes:
    """The quote as PDF (A4): seller, client, lines, VAT breakdown, totals, validity and terms."""
    return _weasyprint(render_to_string(QUOTE_TEMPLATE, _common(quote_context(quote))))


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (for the page counter labels in ``@page``)."""
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in str(text)) + '"'


def _columns(groups: list[Group]) -> dict:
    """Which optional columns the lines table has: a discount column when a line has a discount, a VAT
    column only when the lines' rates differ (one rate is stated once, in the VAT breakdown; the same
    "19 %" on every line also cost a tenth of a long invoice's rendering), and how many columns in all."""
    lines = [line for group in groups for line in group.lines]
    has_discounts = any(line["discount"] for line in lines)
    vat_column = len({line["tax"] for line in lines}) > 1
    return {"has_discounts": has_discounts, "vat_column": vat_column, "columns": 5 + has_discounts + vat_column}


def _common(context: dict) -> dict:
    context["page_label_css"] = _css_string(_("Page"))
    context["of_label_css"] = _css_string(_("of"))
    return context


_local = threading.local()


def _tools() -> tuple[URLFetcher, FontConfiguration, weasyprint.CSS]:
    """What every document shares, made once per thread: a fetcher that loads nothing from outside
    (images come inline as ``data:`` URIs: the logo, the QR code; it also spares building a TLS context
    for each document), the font configuration and the parsed ``document.css`` (a fifth of the time)."""
    tools = getattr(_local, "tools", None)
    if tools is None:
        fonts = FontConfiguration()
        css = weasyprint.CSS(string=render_to_string(STYLESHEET), font_config=fonts)
        tools = _local.tools = (URLFetcher(allowed_protocols={"data"}), fonts, css)
    return tools


# WeasyPrint's user agent stylesheet gives every element of the document a ::marker, two ::footnote-* and
# three ::note-* pseudo-elements, whose styles it computes for each element although the documents have no
# lists, footnotes or notes: a third of the style computation. The documents use the stylesheet without them.
_UNUSED_UA_RULES = re.compile(
    r"^::(?:marker|footnote-call|footnote-marker|note-call|note-marker|note-callback) \{[^}]*\}\n", re.MULTILINE
)
_ua_lock = threading.Lock()
_ua_sheets: list = []


def _ua_stylesheet() -> weasyprint.CSS:
    if not _ua_sheets:
        with _ua_lock:
            if not _ua_sheets:
                text = (files(weasyprint.css) / "html5_ua.css").read_text("utf-8")
                # the counter styles come from WeasyPrint's own parse of the same sheet (_ua_counter_style)
                counters = CounterStyle()
                _ua_sheets.append(weasyprint.CSS(string=_UNUSED_UA_RULES.sub("", text), counter_style=counters))
    return _ua_sheets[0]


class _DocumentHTML(weasyprint.HTML):
    """The billing templates' HTML, parsed as XML: the templates are well-formed (void elements closed,
    tables with their ``colgroup`` and ``tbody`` written out, so the tree is the one an HTML5 parser
    builds: ``test_documents`` compares them), which the C parser of ``xml.etree`` reads in well under a
    millisecond where WeasyPrint's pure-Python HTML5 parser took 5 % of the time. Anything that is not
    well-formed goes to WeasyPrint's parser as before. And the user agent stylesheet without the unused
    pseudo-elements; no forms."""

    def __init__(self, string: str, url_fetcher: URLFetcher):
        try:
            root = ElementTree.fromstring(string)  # noqa: S314 our template, every value escaped; no DTD
        except ElementTree.ParseError:
            super().__init__(string=string, url_fetcher=url_fetcher)
            return
        # what weasyprint.HTML.__init__ sets after parsing (no <base>: no base URL; everything is inline)
        self.base_url = None
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element

    def _ua_stylesheets(self, forms=False):
        return [_ua_stylesheet()]


_gc_lock = threading.Lock()
_gc_state = {"pauses": 0, "was_enabled": True}


@contextmanager
def _gc_paused():
    """The cyclic garbage collector off while WeasyPrint builds a document: its tens of thousands of boxes
    made it run generation-2 collections over a growing heap (5 % of a 64-line invoice, 17 % of 250 lines).
    It runs again afterwards and collects the document's cycles then. Nested and concurrent renderings
    turn it back on when the last one ends, and only if it was on before the first."""
    with _gc_lock:
        if _gc_state["pauses"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["pauses"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["pauses"] -= 1
            if _gc_state["pauses"] == 0 and _gc_state["was_enabled"]:
                gc.enable()


def _weasyprint(html: str, metadata: DocumentMetadata | None = None, **options) -> bytes:
    fetcher, fonts, css = _tools()
    with _gc_paused():
        document = _DocumentHTML(string=html, url_fetcher=fetcher).render(stylesheets=[css], font_config=fonts)
        if metadata is not None:
            metadata.lang = document.metadata.lang
            document.metadata = metadata
        return document.write_pdf(**options)


# ---------------------------------------------------------------------------------------------
# Factur-X metadata

FACTURX_FILENAME = "factur-x.xml"
FACTURX_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
FACTURX_PROPERTIES = (  # the PDF/A extension schema of Factur-X 1.0 (as the factur-x library writes it)
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)


def _facturx_rdf(level: str = "EN 16931") -> bytes:
    """The rdf:Description elements of the Factur-X XMP: the extension schema and the values."""
    properties = "".join(
        '<rdf:li rdf:parseType="Resource">'
        f"<pdfaProperty:name>{name}</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{escape(description)}</pdfaProperty:description></rdf:li>"
        for name, description in FACTURX_PROPERTIES
    )
    return (
        '<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"'
        ' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"'
        ' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
        '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
        "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{FACTURX_NAMESPACE}</pdfaSchema:namespaceURI>"
        "<pdfaSchema:prefix>fx</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{properties}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
        f'<rdf:Description rdf:about="" xmlns:fx="{FACTURX_NAMESPACE}">'
        f"<fx:DocumentType>INVOICE</fx:DocumentType><fx:DocumentFileName>{FACTURX_FILENAME}</fx:DocumentFileName>"
        f"<fx:Version>1.0</fx:Version><fx:ConformanceLevel>{level}</fx:ConformanceLevel></rdf:Description>"
    ).encode()


class FacturXMetadata(DocumentMetadata):
    """The document information and XMP metadata of a Factur-X invoice, written by WeasyPrint: its PDF/A
    identification, title, author, subject, keywords and dates (the same in the information dictionary
    and the XMP, as PDF/A wants), with the Factur-X extension schema and values in the same rdf:RDF, and
    the XMP stream left unfiltered (readable by any Factur-X reader, and required by PDF/A-1)."""

    def __init__(self, **kwargs):
        now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        kwargs.setdefault("created", now)
        kwargs.setdefault("modified", now)
        kwargs.setdefault("generator", "Fixflow")
        super().__init__(**kwargs)

    def generate_rdf_metadata(self, variant, version, conformance):
        rdf = super().generate_rdf_metadata(variant, version, conformance)
        end = rdf.rindex(b"</rdf:RDF>")
        return rdf[:end] + _facturx_rdf() + rdf[end:]

    def include_in_pdf(self, pdf, variant, version, conformance, compress):
        super().include_in_pdf(pdf, variant, version, conformance, compress=False)
        # WeasyPrint 70 lists each attachment twice in the catalog's /AF (from the name tree and from the
        # file specifications); this runs last in its PDF/A step, so the list is complete here
        associated = pdf.catalog.get("AF")
        if associated:
            associated[:] = list(dict.fromkeys(associated))


# ---------------------------------------------------------------------------------------------
# presentation data


@dataclass
class Group:
    """The lines of one work order under a heading (rule 6), or the lines without a work order."""

    heading: str = ""
    site: str = ""
    detail: str = ""
    lines: list = field(default_factory=list)


def invoice_context(invoice) -> dict:
    """The template context of an invoice or credit note."""
    currency = invoice.currency
    digits = calculations.check_currency(currency)
    is_credit_note = invoice.document_type == DocumentType.CREDIT_NOTE
    seller = _party(invoice.seller or {})
    buyer = _party(invoice.buyer or {})
    _with_countries(seller, buyer)
    number = invoice.number or _("Draft %(id)s") % {"id": invoice.pk}
    issue_date = invoice.issue_date or invoice.created_at.date()
    lines = terms.document_lines(invoice.lines.select_related("work_order", "work_order__site", "contract"))
    groups = _groups(lines, currency, digits)
    gross = Decimal(invoice.total_gross)
    credited = invoice.credited_invoice if invoice.credited_invoice_id else None
    context = {
        "document": invoice,
        "is_credit_note": is_credit_note,
        "title": _("Credit note") if is_credit_note else _("Invoice"),
        "number": number,
        "issue_date": issue_date,
        "issue_date_iso": issue_date.isoformat(),
        "due_date": invoice.due_date,
        "service_period": _period(invoice.service_from, invoice.service_until, lines),
        "buyer_reference": invoice.buyer_reference or (invoice.buyer or {}).get("buyer_reference", ""),
        "order_reference": invoice.order_reference,
        "credited_number": (credited.number or "") if credited else "",
        "credited_date": credited.issue_date if credited else None,
        "credit_reason": invoice.credit_reason,
        "note": invoice.note,
        "payment_terms": invoice.payment_terms,
        "seller": seller,
        "buyer": buyer,
        "logo": _logo((invoice.seller or {}).get("logo_path", "")),
        "currency": currency,
        "groups": groups,
        **_columns(groups),
        "vat_rows": _vat_rows(invoice.tax_breakdown or [], currency, digits),
        "total_net": _money(invoice.total_net, currency, digits),
        "total_tax": _money(invoice.total_tax, currency, digits),
        "total_gross": _money(gross, currency, digits),
        "iban": _iban(seller.get("iban", "")),
        "qr": None,
    }
    if not is_credit_note and currency == "EUR" and seller.get("iban") and gross > 0:
        try:
            context["qr"] = qr.epc_png_data_uri(
                name=seller["display_name"],
                iban=seller["iban"],
                bic=seller.get("bic", ""),
                amount=gross,
                remittance=number,
            )
        except ValueError:
            context["qr"] = None  # the transfer details are printed anyway
    return context


def quote_context(quote) -> dict:
    """The template context of a quote."""
    currency = quote.currency
    digits = calculations.check_currency(currency)
    lines = list(quote.lines.select_related("part"))
    group = Group(lines=[_line(line, currency, digits, number) for number, line in enumerate(lines, 1)])
    breakdown = calculations.tax_breakdown(
        [
            calculations.Line(
                net=calculations.quantize(line.net_amount, currency),
                category=line.tax_category,
                rate=line.tax_rate,
                exemption_reason=line.exemption_reason,
                exemption_code=line.exemption_code,
            )
            for line in lines
        ],
        currency,
    )
    seller_snapshot = organization_seller(quote.organization)
    seller, buyer = _party(seller_snapshot), _party(client_buyer(quote.client))
    _with_countries(seller, buyer)
    return {
        "document": quote,
        "title": _("Quote"),
        "number": quote.number,
        "issue_date": quote.issue_date or quote.created_at.date(),
        "valid_until": quote.valid_until,
        "seller": seller,
        "buyer": buyer,
        "logo": _logo(seller_snapshot.get("logo_path", "")),
        "currency": currency,
        "groups": [group],
        **_columns([group]),
        "vat_rows": _vat_rows(calculations.breakdown_to_json(breakdown), currency, digits),
        "total_net": _money(quote.total_net, currency, digits),
        "total_tax": _money(quote.total_tax, currency, digits),
        "total_gross": _money(quote.total_gross, currency, digits),
        "iban": _iban(seller_snapshot.get("iban", "")),
        "site": quote.site,
        "equipment": quote.equipment,
        "signature": _quote_signature(quote),
        "timezone": quote.organization.timezone,
    }


def _quote_signature(quote) -> str | None:
    """The client's drawn signature of an accepted quote as a ``data:`` URI (None: not signed, or lost)."""
    if quote.status != "accepted" or not quote.decision_signature:
        return None
    return _logo(quote.decision_signature.name)


def organization_seller(organization) -> dict:
    """The organization as seller in the ``Invoice.seller`` snapshot format (for quotes: live data)."""
    settings = getattr(organization, "billing_settings", None)
    data = {key: "" for key in ("legal_name", "street", "address_line_2", "postcode", "city", "country", "vat_id")}
    data.update({key: "" for key in ("tax_number", "registration_id", "email", "phone", "iban", "bic")})
    data.update(name=organization.name, bank_name="", logo_path="")
    if settings is not None:
        for key in list(data):
            if key not in ("name", "logo_path") and hasattr(settings, key):
                data[key] = getattr(settings, key) or ""
        data["logo_path"] = settings.logo.name if settings.logo else ""
    return data


def client_buyer(client) -> dict:
    """The client as buyer in the ``Invoice.buyer`` snapshot format (for quotes: live data)."""
    billing = getattr(client, "billing", None)
    data = {"name": client.name, "vat_id": client.vat_id, "email": client.email}
    for key in ("legal_name", "street", "address_line_2", "postcode", "city", "country", "buyer_reference"):
        data[key] = getattr(billing, key, "") if billing is not None else ""
    if billing is not None and billing.invoice_email:
        data["email"] = billing.invoice_email
    if billing is None or not (billing.street or billing.city):
        data["address_text"] = client.billing_address
    return data


def _party(snapshot: dict) -> dict:
    """A snapshot with a display name and the address as lines."""
    party = dict(snapshot)
    name = (snapshot.get("name") or "").strip()
    legal_name = (snapshot.get("legal_name") or "").strip()
    party["display_name"] = legal_name or name
    # a trading name that the legal name already says ("Acme" of "Acme GmbH") is not repeated
    party["trading_name"] = name if legal_name and name and not legal_name.startswith(name) else ""
    lines = [snapshot.get("street", ""), snapshot.get("address_line_2", "")]
    place = " ".join(part for part in (snapshot.get("postcode", ""), snapshot.get("city", "")) if part)
    lines.append(place)
    party["address_lines"] = [line for line in lines if line and line.strip()]
    party["country"] = (snapshot.get("country") or "").upper()
    if not party["address_lines"] and snapshot.get("address_text"):
        party["address_lines"] = [line for line in snapshot["address_text"].splitlines() if line.strip()]
    party["one_line"] = " · ".join([party["display_name"], *party["address_lines"]])
    return party


def _with_countries(seller: dict, buyer: dict) -> None:
    """Print the countries only on a cross-border document: a domestic letter has none."""
    if seller.get("country") and buyer.get("country") and seller["country"] != buyer["country"]:
        for party in (seller, buyer):
            party["address_lines"].append(party["country"])
            party["one_line"] += f" · {party['country']}"


def _groups(lines, currency: str, digits: int) -> list[Group]:
    """Lines grouped by work order, in the order of :func:`terms.document_lines` (which ``lines`` must
    have): the line numbers run 1 … n down the page and are the e-invoice's line ids (BT-126)."""
    groups: dict = {}
    numbered: list = []
    for line in lines:
        key = line.work_order_id or 0
        if key not in groups:
            groups[key] = Group()
            work_order = line.work_order
            if work_order is not None:
                groups[key].heading = f"{work_order.number} · {work_order.title}"
                groups[key].site = work_order.site.name if work_order.site_id else ""
            elif lines and any(other.work_order_id for other in lines):
                groups[key].heading = _("Other items")
        groups[key].lines.append(_line(line, currency, digits, number=len(numbered) + 1))
        numbered.append(line)
    for key, group in groups.items():
        days = sorted({item["service_date"] for item in group.lines if item["service_date"]})
        parts = [group.site] if key else []
        if days:
            parts.append(_date_range(days[0], days[-1]))
        group.detail = " · ".join(part for part in parts if part)
    return list(groups.values())


def _line(line, currency: str, digits: int, number: int = 0) -> dict:
    discount = Decimal(line.discount_percent or 0)
    reason = (line.discount_reason or "").strip()
    contract = getattr(line, "contract", None) if getattr(line, "contract_id", None) else None
    if discount and not reason and contract is not None:
        reason = _("Covered by service contract %(contract)s") % {"contract": contract}
    rate = Decimal(line.tax_rate or 0)
    return {
        "number": number,
        "description": line.description,
        "detail": line.detail,
        "quantity": _quantity(line.quantity),
        "unit": line.unit,
        "unit_price": formats.number_format(
            _price(line.unit_price, digits), use_l10n=True, force_grouping=True, decimal_pos=None
        ),
        "discount": formats.number_format(discount.normalize(), use_l10n=True) + " %" if discount else "",
        "discount_reason": reason,
        "contract": str(contract) if contract is not None else "",
        "tax": _tax_label(line.tax_category, rate),
        "net": _money(line.net_amount, currency, digits),
        "service_date": getattr(line, "service_date", None),
        "is_overtime": getattr(line, "is_overtime", False),
    }


def _vat_rows(breakdown: list[dict], currency: str, digits: int) -> list[dict]:
    return [
        {
            "label": (
                _tax_label(item["category"], Decimal(item["rate"]))
                if item["category"] == VatCategory.STANDARD
                else _category_name(item["category"])
            ),
            "category": _category_name(item["category"]),
            "taxable": _money(item["taxable"], currency, digits),
            "tax": _money(item["tax"], currency, digits),
            "exemption_reason": item.get("exemption_reason", ""),
            "exemption_code": item.get("exemption_code", ""),
        }
        for item in breakdown
    ]


def _category_name(category: str) -> str:
    return str(VatCategory(category).label) if category in VatCategory.values else category


def _tax_label(category: str, rate: Decimal) -> str:
    if category == VatCategory.STANDARD or rate:
        return formats.number_format(Decimal(rate).normalize(), use_l10n=True) + " %"
    return {"AE": _("Reverse charge"), "E": _("Exempt"), "Z": "0 %", "K": _("Intra-EU"), "G": _("Export")}.get(
        category, _("Not subject to VAT")
    )


def _money(amount, currency: str, digits: int) -> str:
    value = calculations.quantize(Decimal(amount or 0), currency)
    return formats.number_format(value, decimal_pos=digits, use_l10n=True, force_grouping=True)


def _price(price, digits: int) -> Decimal:
    exact = Decimal(price or 0).quantize(Decimal("0.0001"))
    shown = exact.quantize(Decimal(1).scaleb(-max(digits, 2)))
    return shown if shown == exact else exact.normalize()


def _quantity(quantity) -> str:
    value = Decimal(quantity or 0).normalize()
    return formats.number_format(value if value != value.to_integral() else value.quantize(Decimal(1)), use_l10n=True)


def _period(start: date | None, end: date | None, lines) -> str:
    days = sorted({line.service_date for line in lines if line.service_date})
    start = start or (days[0] if days else None)
    end = end or (days[-1] if days else None)
    if not start:
        return ""
    return _date_range(start, end or start)


def _date_range(start: date, end: date) -> str:
    first = formats.date_format(start, "SHORT_DATE_FORMAT")
    return first if start == end else f"{first} – {formats.date_format(end, 'SHORT_DATE_FORMAT')}"


def _iban(iban: str) -> str:
    compact = "".join((iban or "").split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _logo(path: str) -> str | None:
    """The logo as a ``data:`` URI (WeasyPrint then needs no file access); None when there is none."""
    if not path:
        return None
    try:
        with default_storage.open(path, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError, SuspiciousFileOperation):
        return None  # a logo that is gone or outside the media folder is left out, not a failed invoice
    mime = mimetypes.guess_type(path)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
