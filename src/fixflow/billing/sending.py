"""The e-mail that carries an issued invoice or credit note to the client: its PDF (PDF/A-3b with the
Factur-X CII inside) and its XML (CII, or UBL for Peppol receivers) attached, through Django's default
mailer (decision 0003: ``MAILERS``), like the SLA notifications.

Only :func:`fixflow.billing.services.invoice_send` calls this: it checks who may send what, sends, and
records the sending on the invoice. Everything here reads the issued invoice as stored (its number, its
snapshots, its rendered files), never the live client or organization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats

from fixflow.core.errors import DomainError, ErrorCode

from . import calculations as calc
from .choices import DocumentType

PDF = "application/pdf"
XML = "application/xml"
XML_FORMATS = ("cii", "ubl")


class MailNotSentError(DomainError):
    """The mail server refused or could not be reached: nothing was sent, nothing recorded. The API answers
    503 (the server's fault, not the request's); the page shows the message."""

    def __init__(self, reason: str):
        super().__init__(
            ErrorCode.CONFLICT,
            f"The e-mail could not be sent ({reason}); nothing was recorded. Try again later.",
        )


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    mimetype: str


def file_stem(invoice) -> str:
    """``INV-2026-00042``: the number as a safe file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", invoice.number or f"draft-{invoice.pk}")


def attachments(invoice, xml_format: str) -> list[Attachment]:
    """The issued PDF and the XML in ``xml_format``, read from the stored files (CONFLICT when one is gone)."""
    xml_file = invoice.xml_ubl if xml_format == "ubl" else invoice.xml_cii
    out = []
    for stored, name, mimetype in (
        (invoice.pdf, f"{file_stem(invoice)}.pdf", PDF),
        (xml_file, f"{file_stem(invoice)}-{xml_format}.xml", XML),
    ):
        try:
            with stored.open("rb") as handle:
                out.append(Attachment(name, handle.read(), mimetype))
        except (OSError, ValueError):
            raise DomainError(
                ErrorCode.CONFLICT,
                f"The stored document {name} of {invoice.number} cannot be read; nothing was sent.",
            ) from None
    return out


def subject(invoice) -> str:
    seller = invoice.seller or {}
    what = "Credit note" if invoice.document_type == DocumentType.CREDIT_NOTE else "Invoice"
    name = seller.get("legal_name") or seller.get("name") or ""
    text = f"{what} {invoice.number}" + (f" from {name}" if name else "")
    return " ".join(text.split())  # a header is one line


def context(invoice, *, message: str, xml_format: str) -> dict:
    seller = invoice.seller or {}
    buyer = invoice.buyer or {}
    is_credit = invoice.document_type == DocumentType.CREDIT_NOTE
    return {
        "invoice": invoice,
        "is_credit_note": is_credit,
        "seller_name": seller.get("legal_name") or seller.get("name", ""),
        "seller_email": seller.get("email", ""),
        "seller_phone": seller.get("phone", ""),
        "buyer_name": buyer.get("legal_name") or buyer.get("name", ""),
        "total": formats.number_format(
            calc.quantize(invoice.total_gross, invoice.currency),
            decimal_pos=calc.minor_units(invoice.currency),
            force_grouping=True,
        ),
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "iban": " ".join(re.findall(".{1,4}", seller.get("iban", "").replace(" ", ""))),
        "bic": seller.get("bic", ""),
        "credited_number": invoice.credited_invoice.number if invoice.credited_invoice_id else "",
        "message": message,
        "xml_label": "UBL 2.1 (Peppol BIS Billing 3.0)" if xml_format == "ubl" else "Factur-X / ZUGFeRD CII (EN 16931)",
    }


def build_message(invoice, *, to: str, message: str, xml_format: str) -> EmailMultiAlternatives:
    """The e-mail with both documents attached; Reply-To is the seller's billing address when it has one."""
    ctx = context(invoice, message=message, xml_format=xml_format)
    files = attachments(invoice, xml_format)
    mail = EmailMultiAlternatives(
        subject=subject(invoice),
        body=render_to_string("billing/invoices/email/invoice.txt", ctx),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[ctx["seller_email"]] if ctx["seller_email"] else None,
        headers={"X-Fixflow-Invoice": invoice.number},
    )
    mail.attach_alternative(render_to_string("billing/invoices/email/invoice.html", ctx), "text/html")
    for item in files:
        mail.attach(item.name, item.content, item.mimetype)
    return mail


def send(invoice, *, to: str, message: str, xml_format: str) -> list[str]:
    """Send the invoice; returns the attachment names. Raises :class:`MailNotSentError` when the mail server
    fails (connection refused, timeout, refused message)."""
    mail = build_message(invoice, to=to, message=message, xml_format=xml_format)
    try:
        mail.send()
    except Exception as exc:  # noqa: BLE001 - smtplib and socket errors alike: the server's problem
        raise MailNotSentError(f"{type(exc).__name__}: {exc}"[:300]) from exc
    return [name for name, _content, _mimetype in mail.attachments]
