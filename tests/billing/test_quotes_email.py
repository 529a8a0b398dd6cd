"""Sending a quote over real SMTP (an aiosmtpd server on a local port): the client's contact receives the
e-mail with the quote's PDF attached and the link to the public page; a mail server that refuses leaves
the quote a draft."""

from __future__ import annotations

import pytest

from fixflow.billing import quote_services as quotes
from fixflow.billing.models import Quote
from fixflow.core.errors import DomainError, ErrorCode
from tests.smtp import smtp_mailers, smtp_server  # noqa: F401 (a fixture)

from .quote_fixtures import CONTACT_EMAIL, FITTING, PUMP, blank_quote, qw

__all__ = ["qw"]  # a fixture, imported so pytest finds it

BASE_URL = "https://fixflow.example.com"


@pytest.fixture
def smtp(settings, smtp_server):  # noqa: F811
    """Mail goes over SMTP to ``smtp_server`` (not Django's in-memory outbox); links use ``BASE_URL``."""
    settings.MAILERS = smtp_mailers(smtp_server.host, smtp_server.port)
    settings.DEFAULT_FROM_EMAIL = "Fixflow <fixflow@example.com>"
    settings.BASE_URL = BASE_URL
    return smtp_server


def test_the_client_receives_the_quote_with_its_pdf_and_link(qw, smtp):
    quote = blank_quote(qw, PUMP, FITTING)
    # when
    quotes.quote_send(actor=qw.office, quote_id=quote.pk, message="As discussed: the pump can be fitted next week.")
    # then
    (received,) = smtp.wait_for(1)
    assert received.rcpt_tos == [CONTACT_EMAIL]
    assert received.subject == f"Quote {quote.number} from Acme Maintenance GmbH: New circulation pump"
    assert received.message["Reply-To"] == "office@acme.example"
    link = f"{BASE_URL}/q/{quote.public_token}/"
    text, html = received.body("plain"), received.body("html")
    assert link in text and link in html
    assert "the pump can be fitted next week" in text
    assert "1,713.60 EUR" in text
    (attachment,) = list(received.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{quote.number}.pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5000


def test_a_refusing_mail_server_leaves_the_quote_a_draft(qw, smtp):
    quote = blank_quote(qw, PUMP)
    smtp.refuse = True
    # when
    with pytest.raises(DomainError) as info:
        quotes.quote_send(actor=qw.office, quote_id=quote.pk)
    # then
    assert info.value.code == ErrorCode.CONFLICT
    assert "could not be sent" in info.value.message
    after = Quote.objects.get(pk=quote.pk)
    assert (after.status, after.sent_at, after.sent_to, after.issue_date, after.version) == (
        "draft",
        None,
        "",
        None,
        quote.version,
    )
    # when the server takes mail again, sending works
    smtp.refuse = False
    quotes.quote_send(actor=qw.office, quote_id=quote.pk)
    assert len(smtp.wait_for(1)) == 1
    assert Quote.objects.get(pk=quote.pk).status == "sent"
