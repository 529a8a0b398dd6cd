"""Sending an issued invoice or credit note by e-mail through a real SMTP server (aiosmtpd): the PDF and the XML
attached as issued (the PDF parses and carries the CII, the XML passes XSD and schematron), the buyer's
address by default, the sending recorded on the invoice; refusals and a failing server record nothing."""

from __future__ import annotations

import hashlib
import io

import pytest
from facturx import get_xml_from_pdf
from pypdf import PdfReader

from fixflow.billing import services
from fixflow.billing.documents import validate
from fixflow.billing.sending import MailNotSentError
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import ChangeRecord
from tests.smtp import free_port, smtp_mailers, smtp_server  # noqa: F401 (a fixture)

from .factories import at, billing_setup, client_billing, closed_work_order, time_entry

MONDAY = "2026-03-02"


@pytest.fixture
def smtp(settings, smtp_server):  # noqa: F811
    """Mail goes over SMTP to ``smtp_server``, not to Django's in-memory outbox."""
    settings.MAILERS = smtp_mailers(smtp_server.host, smtp_server.port)
    settings.DEFAULT_FROM_EMAIL = "Fixflow <fixflow@example.com>"
    return smtp_server


@pytest.fixture
def issued(world):
    """An invoice issued with its real documents: 2 h of labour for the world's client (190.40 EUR)."""
    billing_setup(world)
    client_billing(world.client, invoice_email="rechnung@stadtwerke.example", legal_name="Stadtwerke Berlin GmbH")
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "08:00"), 120)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    return services.invoice_issue(actor=world.accountant, invoice_id=draft.pk)


def _attachments(message) -> dict[str, tuple[str, bytes]]:
    return {
        part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }


def test_the_invoice_goes_to_the_buyer_with_its_pdf_and_xml(world, issued, smtp):
    # when
    sent = services.invoice_send(actor=world.accountant, invoice_id=issued.pk, message="As agreed on the phone.")
    # then one message to the client's invoice address, from the configured sender, replying to the seller
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ["rechnung@stadtwerke.example"]
    message = received.message
    assert message["Subject"] == f"Invoice {issued.number} from Acme Maintenance GmbH"
    assert message["Reply-To"] == "billing@acme.example"
    assert message["X-Fixflow-Invoice"] == issued.number
    body = received.body()
    assert "Dear Stadtwerke Berlin GmbH," in body and "190.40 EUR" in body and "As agreed on the phone." in body
    assert "DE89 3704 0044 0532 0130 00" in body and f"Reference: {issued.number}" in body
    assert "Factur-X" in received.body("html")
    # the attachments are the issued files, byte for byte: a PDF/A-3 that carries the CII, and the CII
    files = _attachments(message)
    assert list(files) == [f"{issued.number}.pdf", f"{issued.number}-cii.xml"]
    pdf_type, pdf = files[f"{issued.number}.pdf"]
    xml_type, xml = files[f"{issued.number}-cii.xml"]
    assert (pdf_type, xml_type) == ("application/pdf", "application/xml")
    assert hashlib.sha256(pdf).hexdigest() == issued.pdf_sha256
    assert issued.number in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert get_xml_from_pdf(pdf, check_xsd=False) == ("factur-x.xml", xml)
    validate.check_cii(xml)
    # and the sending is recorded
    issued.refresh_from_db()
    assert (issued.sent_to, issued.sent_at) == ("rechnung@stadtwerke.example", sent.sent_at)
    record = ChangeRecord.objects.get(object_type="billing.invoice", object_id=str(issued.pk))
    assert record.after["attachments"] == list(files)


def test_the_ubl_is_attached_instead_on_request_and_to_another_address(world, issued, smtp):
    services.invoice_send(actor=world.accountant, invoice_id=issued.pk, to="ap@example.org", xml_format="ubl")
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ["ap@example.org"]
    files = _attachments(received.message)
    assert list(files) == [f"{issued.number}.pdf", f"{issued.number}-ubl.xml"]
    validate.check_ubl(files[f"{issued.number}-ubl.xml"][1])


def test_a_credit_note_is_sent_as_a_credit_note(world, issued, smtp):
    note = services.credit_note_create(actor=world.accountant, invoice_id=issued.pk, reason="Wrong client")
    note = services.invoice_issue(actor=world.accountant, invoice_id=note.pk)
    services.invoice_send(actor=world.accountant, invoice_id=note.pk)
    [received] = smtp.wait_for(1)
    assert received.subject == f"Credit note {note.number} from Acme Maintenance GmbH"
    body = received.body()
    assert f"credit note {note.number} for invoice {issued.number}" in body and "IBAN" not in body
    validate.check_cii(_attachments(received.message)[f"{note.number}-cii.xml"][1])


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"to": "not an address"}, ErrorCode.VALIDATION, "to"),
        ({"xml_format": "pdf"}, ErrorCode.VALIDATION, "xml_format"),
        ({"message": "x" * 2001}, ErrorCode.VALIDATION, "message"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(world, issued, smtp, kwargs, code, field):
    with pytest.raises(DomainError) as refused:
        services.invoice_send(actor=world.accountant, invoice_id=issued.pk, **kwargs)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert smtp.messages == []
    issued.refresh_from_db()
    assert issued.sent_at is None


def test_a_draft_is_not_sent_and_a_dispatcher_may_not_send(world, issued, smtp):
    wo = closed_work_order(world)
    time_entry(wo, at(MONDAY, "10:00"), 60)
    [draft] = services.invoice_closed_work(actor=world.accountant)
    with pytest.raises(DomainError) as refused:
        services.invoice_send(actor=world.accountant, invoice_id=draft.pk)
    assert refused.value.code == ErrorCode.CONFLICT
    with pytest.raises(DomainError) as refused:
        services.invoice_send(actor=world.dispatcher, invoice_id=issued.pk)
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert smtp.messages == []


def test_a_client_without_an_invoice_address_needs_one_given(world, issued, smtp):
    # given an invoice to a client that had no e-mail address when it was issued
    world.other_client.email = ""
    world.other_client.save()
    client_billing(world.other_client, invoice_email="")
    wo = closed_work_order(world, client=world.other_client)
    time_entry(wo, at(MONDAY, "10:00"), 60)
    [draft] = services.invoice_closed_work(actor=world.accountant, client_ids=[world.other_client.pk])
    invoice = services.invoice_issue(actor=world.accountant, invoice_id=draft.pk)
    # when it is sent without an address, it is refused on the address
    with pytest.raises(DomainError) as refused:
        services.invoice_send(actor=world.accountant, invoice_id=invoice.pk)
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION, "to")
    # and with one, it goes out
    services.invoice_send(actor=world.accountant, invoice_id=invoice.pk, to="office@baeckerei.example")
    assert smtp.wait_for(1)[0].rcpt_tos == ["office@baeckerei.example"]


def test_a_mail_server_that_refuses_records_nothing(world, issued, smtp):
    smtp.refuse = True
    with pytest.raises(MailNotSentError):
        services.invoice_send(actor=world.accountant, invoice_id=issued.pk)
    issued.refresh_from_db()
    assert (issued.sent_at, issued.sent_to) == (None, "")
    assert not ChangeRecord.objects.filter(object_type="billing.invoice").exists()


def test_a_mail_server_that_is_down_records_nothing(world, issued, settings):
    settings.MAILERS = smtp_mailers("127.0.0.1", free_port())  # nothing listens there
    with pytest.raises(MailNotSentError) as failed:
        services.invoice_send(actor=world.accountant, invoice_id=issued.pk)
    assert "could not be sent" in failed.value.message
    issued.refresh_from_db()
    assert issued.sent_at is None
