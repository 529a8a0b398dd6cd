"""Quote pages: the list with its status filters, a new quote from each source, the draft editor (header,
lines added, changed, moved and removed — with htmx answering only what changed), the send dialog, withdraw,
convert, the PDF, and the public page where the client accepts with a drawn signature or rejects. Every
refused input comes back on its form with what was typed, and changes nothing."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.core import mail

from fixflow.billing import quote_services as quotes
from fixflow.billing.models import BillingSettings, Quote, QuoteLine
from tests.billing.quote_fixtures import (
    CONTACT_EMAIL,
    FITTING,
    PUMP,
    accepted_quote,
    blank_quote,
    qw,
    sent_quote,
    signature_png,
)

__all__ = ["qw"]  # a fixture, imported so pytest finds it

D = Decimal
HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def office(qw, ref_login):
    return ref_login(qw.office)


# --- list -------------------------------------------------------------------------------------


def test_the_list_shows_quotes_with_status_badges_and_filters(qw, office):
    draft = blank_quote(qw, PUMP, title="Draft pump")
    sent = sent_quote(qw)
    # when
    response = office.get("/quotes/")
    # then
    assert response.status_code == 200
    page = html(response)
    assert draft.number in page and sent.number in page
    assert 'data-status="draft"' in page and 'data-status="sent"' in page
    assert "1,713.60 EUR" in page
    assert '<option value="" selected>All clients</option>' in page
    # when filtered by status
    page = html(office.get("/quotes/", {"status": "sent"}))
    assert sent.number in page and draft.number not in page
    page = html(office.get("/quotes/", {"q": "Draft pump"}))
    assert draft.number in page and sent.number not in page


def test_a_client_user_lists_only_their_clients_sent_quotes(qw, ref_login):
    draft = blank_quote(qw, PUMP, title="Draft pump")
    sent = sent_quote(qw)
    other = quotes.quote_create(actor=qw.office, client_id=qw.world.other_client.pk, title="Oven")
    quotes.quote_line_add(actor=qw.office, quote_id=other.pk, data=PUMP)
    quotes.quote_send(actor=qw.office, quote_id=other.pk, to="baker@example.com")
    # when
    page = html(ref_login(qw.world.client_user).get("/quotes/"))
    # then
    assert sent.number in page
    assert draft.number not in page and other.number not in page
    assert qw.world.other_client.name not in page  # no client filter listing the other clients


def test_the_quotes_page_is_not_for_technicians(qw, ref_login):
    assert ref_login(qw.world.technician).get("/quotes/").status_code == 403


# --- create -----------------------------------------------------------------------------------


def test_a_blank_quote_is_made_for_a_client(qw, office):
    response = office.post(
        "/quotes/new/", {"source": "blank", "client": qw.world.client.pk, "site": qw.world.site.pk, "title": "New pump"}
    )
    quote = Quote.objects.get()
    assert response.status_code == 302 and response.url == f"/quotes/{quote.pk}/"
    assert (quote.title, quote.site) == ("New pump", qw.world.site)


def test_a_quote_from_a_work_order_page_link_starts_with_the_estimate(qw, office):
    # the work order page links to the form with the work order chosen
    page = html(office.get(f"/work-orders/{qw.work_order.pk}/"))
    assert f"/quotes/new/?work_order={qw.work_order.pk}" in page
    form = office.get(f"/quotes/new/?work_order={qw.work_order.pk}")
    assert form.context["form"].initial == {"work_order": str(qw.work_order.pk), "source": "work_order"}
    # when
    response = office.post("/quotes/new/", {"source": "work_order", "work_order": qw.work_order.pk})
    # then
    quote = Quote.objects.get()
    assert response.status_code == 302
    assert quote.lines.count() == 2 and quote.total_gross == D("228.48")
    page = html(office.get(response.url))
    assert "Labour (estimate)" in page and "228.48 EUR" in page


def test_a_source_without_its_choice_is_shown_on_the_form(qw, office):
    response = office.post("/quotes/new/", {"source": "work_order", "title": "Kept"})
    assert response.status_code == 422
    assert response.context["form"].errors == {"work_order": ["Choose one."]}
    assert 'value="Kept"' in html(response)
    assert Quote.objects.count() == 0


def test_a_request_page_links_to_a_quote_from_the_request(qw, office):
    from fixflow.service import services as service

    req = service.work_request_create(actor=qw.world.requester, title="Noise", site_id=qw.world.site.pk)
    assert f"/quotes/new/?work_request={req.pk}" in html(office.get(f"/requests/{req.pk}/"))


# --- the editor -------------------------------------------------------------------------------


def _row(line, **changes) -> dict:
    data = {
        "kind": line.kind,
        "description": line.description,
        "quantity": str(line.quantity.normalize()),
        "unit": line.unit,
        "unit_price": str(line.unit_price.normalize()),
        "discount_percent": "",
        "discount_reason": "",
        "tax_rate": "",
    }
    data.update(changes)
    return {f"line-{line.pk}-{k}": v for k, v in data.items()}


def test_a_line_changed_in_the_editor_answers_its_amount_the_totals_and_the_version(qw, office):
    quote = blank_quote(qw, PUMP, FITTING)
    line = quote.lines.get(description=FITTING["description"])
    # when the quantity changes (htmx posts the row on change)
    response = office.post(
        f"/quotes/lines/{line.pk}/", {**_row(line, quantity="4"), "version": quote.version}, headers=HTMX
    )
    # then only the out-of-band parts come back: the line's amount, the totals and the new version
    assert response.status_code == 200
    page = html(response)
    assert f'id="line-{line.pk}-net"' in page and "320.00 EUR" in page
    assert 'id="quote-totals"' in page and "1,808.80 EUR" in page
    quote.refresh_from_db()
    assert f'id="quote-version" name="version" value="{quote.version}"' in page
    assert 'name="line-' + str(line.pk) + '-quantity"' not in page  # the row's inputs are left as typed
    assert quote.total_gross == D("1808.80")


def test_a_refused_line_change_shows_its_error_and_changes_nothing(qw, office):
    quote = blank_quote(qw, PUMP)
    line = quote.lines.get()
    response = office.post(
        f"/quotes/lines/{line.pk}/",
        {**_row(line, discount_percent="10"), "version": quote.version},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Say why the line is discounted" in html(response)
    line.refresh_from_db()
    assert (line.discount_percent, line.net_amount) == (0, D("1200.00"))


def test_a_change_on_a_stale_version_is_refused_in_the_row(qw, office):
    quote = blank_quote(qw, PUMP)
    line = quote.lines.get()
    response = office.post(f"/quotes/lines/{line.pk}/", {**_row(line, quantity="2"), "version": 1}, headers=HTMX)
    assert "changed by someone else" in html(response)
    assert QuoteLine.objects.get(pk=line.pk).quantity == 1


def test_a_line_is_added_and_the_editor_comes_back(qw, office):
    quote = blank_quote(qw, PUMP)
    # when a part is added without a price
    response = office.post(
        f"/quotes/{quote.pk}/lines/",
        {"new-kind": "part", "new-part": qw.part.pk, "new-quantity": "2", "version": quote.version},
        headers=HTMX,
    )
    # then
    assert response.status_code == 200
    page = html(response)
    assert 'id="quote-editor"' in page and "Mechanical seal 40 mm" in page
    assert Quote.objects.get(pk=quote.pk).total_net == D("1252.00")


def test_a_line_without_description_is_refused_on_the_add_form(qw, office):
    quote = blank_quote(qw)
    response = office.post(
        f"/quotes/{quote.pk}/lines/", {"new-kind": "manual", "new-quantity": "1", "new-unit_price": "12"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Describe the line" in html(response)
    assert 'value="12"' in html(response)
    assert QuoteLine.objects.count() == 0


def test_without_javascript_the_line_forms_post_and_come_back(qw, office):
    quote = blank_quote(qw, PUMP, FITTING)
    line = quote.lines.get(description=FITTING["description"])
    response = office.post(f"/quotes/lines/{line.pk}/", _row(line, quantity="5"))
    assert response.status_code == 302
    assert QuoteLine.objects.get(pk=line.pk).quantity == 5
    # a refused change comes back on the full page with its error
    response = office.post(f"/quotes/lines/{line.pk}/", _row(line, quantity="-1"))
    assert response.status_code == 422
    assert "Ensure this value" in html(response) or "more than 0" in html(response)


def test_lines_are_moved_and_removed(qw, office):
    quote = blank_quote(qw, PUMP, FITTING)
    first, second = quote.lines.order_by("position")
    office.post(f"/quotes/lines/{second.pk}/move/", {"direction": "up", "version": quote.version}, headers=HTMX)
    assert list(quote.lines.order_by("position").values_list("pk", flat=True)) == [second.pk, first.pk]
    response = office.post(f"/quotes/lines/{first.pk}/remove/")
    assert response.status_code == 302
    assert list(quote.lines.values_list("pk", flat=True)) == [second.pk]


def test_the_header_is_saved_and_a_bad_date_is_shown_on_its_field(qw, office):
    quote = blank_quote(qw, PUMP)
    data = {"quote-version": quote.version, "quote-title": "Pump swap", "quote-valid_until": "2000-01-01"}
    response = office.post(f"/quotes/{quote.pk}/edit/", data)
    assert response.status_code == 422
    assert response.context["header_form"].errors["valid_until"]
    assert Quote.objects.get(pk=quote.pk).title == "New circulation pump"
    response = office.post(f"/quotes/{quote.pk}/edit/", {**data, "quote-valid_until": ""})
    assert response.status_code == 302
    assert Quote.objects.get(pk=quote.pk).title == "Pump swap"


# --- send, withdraw, convert, PDF -------------------------------------------------------------


def test_the_send_dialog_sends_the_quote(qw, office):
    quote = blank_quote(qw, PUMP)
    page = html(office.get(f"/quotes/{quote.pk}/"))
    assert 'id="send-dialog"' in page and CONTACT_EMAIL in page
    # when
    response = office.post(f"/quotes/{quote.pk}/send/", {"send-to": CONTACT_EMAIL, "send-version": quote.version})
    # then
    assert response.status_code == 302
    assert Quote.objects.get(pk=quote.pk).status == "sent"
    assert mail.outbox[0].to == [CONTACT_EMAIL]
    page = html(office.get(response.url))
    assert "Sent to" in page and f"/q/{quote.public_token}/" in page


def test_a_refused_send_keeps_what_was_typed(qw, office):
    quote = blank_quote(qw)
    response = office.post(f"/quotes/{quote.pk}/send/", {"send-to": "a@b.example", "send-message": "Hello there"})
    assert response.status_code == 422
    assert "at least one line" in html(response) and "Hello there" in html(response)
    assert Quote.objects.get(pk=quote.pk).status == "draft" and mail.outbox == []


def test_a_sent_quote_goes_back_to_draft(qw, office):
    quote = sent_quote(qw)
    response = office.post(f"/quotes/{quote.pk}/withdraw/")
    assert response.status_code == 302
    assert Quote.objects.get(pk=quote.pk).status == "draft"


def test_an_accepted_quote_is_converted_from_its_page_once(qw, office):
    quote = accepted_quote(qw)
    page = html(office.get(f"/quotes/{quote.pk}/"))
    assert "Accepted by Hanna Hausmeister" in page and "data:image/png;base64," in page and "203.0.113.7" in page
    # when
    response = office.post(
        f"/quotes/{quote.pk}/convert/", {"target": "work_order", "mode": "fixed_price", "version": quote.version}
    )
    # then
    quote.refresh_from_db()
    assert response.status_code == 302
    assert quote.converted_work_order is not None
    page = html(office.get(response.url))
    assert quote.converted_work_order.number in page
    # a second conversion is refused with a message
    response = office.post(f"/quotes/{quote.pk}/convert/", {"target": "invoice"})
    assert response.status_code == 302
    assert "converted already" in html(office.get(response.url))


def test_the_pdf_is_downloaded(qw, office):
    quote = sent_quote(qw)
    response = office.get(f"/quotes/{quote.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f'filename="{quote.number}.pdf"' in response["Content-Disposition"]


# --- the public page --------------------------------------------------------------------------


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def test_the_client_opens_the_link_and_accepts_with_a_signature(qw, ref_login):
    quote = sent_quote(qw)
    client = ref_login(None)
    page = html(client.get(f"/q/{quote.public_token}/"))
    assert quote.number in page and "Circulation pump DN40" in page and "1,713.60 EUR" in page
    assert "Acme Maintenance GmbH" in page and "csrfmiddlewaretoken" in page and "data-signature-pad" in page
    # when
    response = client.post(
        f"/q/{quote.public_token}/accept/",
        {"signed_by_name": "Hanna Hausmeister", "agree": "on", "signature": _data_url(signature_png())},
        REMOTE_ADDR="198.51.100.23",
    )
    # then
    assert response.status_code == 302
    accepted = Quote.objects.get(pk=quote.pk)
    assert (accepted.status, accepted.decided_by_name, accepted.decided_from_ip) == (
        "accepted",
        "Hanna Hausmeister",
        "198.51.100.23",
    )
    page = html(client.get(response.url))
    assert "Accepted by Hanna Hausmeister" in page and "Thank you" in page
    assert "Accept the quote" not in page


def test_an_empty_signature_is_refused_on_the_page_and_the_name_stays(qw, ref_login):
    quote = sent_quote(qw)
    client = ref_login(None)
    response = client.post(
        f"/q/{quote.public_token}/accept/",
        {"signed_by_name": "Hanna", "agree": "on", "signature": _data_url(signature_png(drawn=False))},
    )
    assert response.status_code == 422
    assert "empty" in html(response) and 'value="Hanna"' in html(response)
    assert Quote.objects.get(pk=quote.pk).status == "sent"


def test_the_client_rejects_with_a_reason(qw, ref_login):
    quote = sent_quote(qw)
    client = ref_login(None)
    response = client.post(f"/q/{quote.public_token}/reject/", {"reject-reason": ""})
    assert response.status_code == 422 and Quote.objects.get(pk=quote.pk).status == "sent"
    response = client.post(
        f"/q/{quote.public_token}/reject/", {"reject-reason": "Too expensive", "reject-name": "Hanna"}
    )
    assert response.status_code == 302
    assert Quote.objects.get(pk=quote.pk).rejection_reason == "Too expensive"
    assert "Rejected on" in html(client.get(response.url))


def test_a_decided_quote_refuses_a_second_decision_with_a_message(qw, ref_login):
    quote = accepted_quote(qw)
    client = ref_login(None)
    response = client.post(f"/q/{quote.public_token}/reject/", {"reject-reason": "Changed my mind"})
    assert response.status_code == 302
    assert "was accepted on" in html(client.get(response.url))
    assert Quote.objects.get(pk=quote.pk).status == "accepted"


def test_the_public_page_checks_csrf(qw):
    from django.test import Client

    quote = sent_quote(qw)
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/q/{quote.public_token}/reject/", {"reject-reason": "x"}, secure=True)
    assert response.status_code == 403
    assert Quote.objects.get(pk=quote.pk).status == "sent"


def test_unknown_and_unsent_links_are_not_found(qw, ref_login):
    draft = blank_quote(qw, PUMP)
    client = ref_login(None)
    assert client.get("/q/nothing-here/").status_code == 404
    assert client.get(f"/q/{draft.public_token}/").status_code == 404
    assert client.post(f"/q/{draft.public_token}/reject/", {"reject-reason": "x"}).status_code == 404


def test_a_withdrawn_quote_says_it_is_being_revised(qw, ref_login):
    quote = sent_quote(qw)
    quotes.quote_withdraw(actor=qw.office, quote_id=quote.pk)
    page = html(ref_login(None).get(f"/q/{quote.public_token}/"))
    assert "being revised" in page and "Circulation pump DN40" not in page


def test_the_public_pdf_is_served_inline(qw, ref_login):
    quote = sent_quote(qw)
    response = ref_login(None).get(f"/q/{quote.public_token}/pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"].startswith("inline")


def test_the_public_page_shows_the_legal_name_and_not_the_staff(qw, ref_login):
    BillingSettings.objects.filter(organization=qw.world.org).update(legal_name="Nordwind Service GmbH")
    quote = sent_quote(qw)
    page = html(ref_login(None).get(f"/q/{quote.public_token}/"))
    assert "Nordwind Service GmbH" in page
    assert qw.office.user.full_name not in page
