"""Quotes in the API: list with filters, create from each source, detail with lines and VAT, edit drafts with
If-Match, lines, reorder, send, withdraw, convert, the PDF — problems as problem+json naming the field, and a
client user reading only their own client's sent quotes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from fixflow.billing import quote_services as quotes
from fixflow.billing.models import Quote, QuoteLine
from tests.billing.quote_fixtures import (
    CONTACT_EMAIL,
    FITTING,
    PUMP,
    accepted_quote,
    blank_quote,
    qw,
    sent_quote,
)
from tests.smtp import smtp_mailers, smtp_server

from .conftest import assert_problem

__all__ = ["qw", "smtp_server"]  # fixtures, imported so pytest finds them

D = Decimal


def test_a_quote_is_created_from_a_work_order_with_its_estimate(qw, api):
    # when
    r = api("dispatcher").post("/quotes", {"work_order_id": qw.work_order.pk})
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    assert r["Location"] == f"/api/v1/quotes/{body['id']}"
    assert r["ETag"] == f'"{body["version"]}"'
    assert (body["status"], body["client_id"], body["work_order_id"], body["currency"]) == (
        "draft",
        qw.world.client.pk,
        qw.work_order.pk,
        "EUR",
    )
    assert [(line["kind"], line["net_amount"]) for line in body["lines"]] == [("labour", "140.00"), ("part", "52.00")]
    assert (body["total_net"], body["total_tax"], body["total_gross"]) == ("192.00", "36.48", "228.48")
    assert body["tax_breakdown"] == [
        {"category": "S", "rate": "19.00", "taxable": "192.00", "tax": "36.48", "exemption_reason": ""}
    ]
    assert body["public_url"] is None
    assert "unit_cost" not in body["lines"][0]


def test_a_blank_quote_needs_its_client(qw, api):
    r = api("admin").post("/quotes", {"title": "Pump"})
    assert_problem(r, 422, "validation_error", field="client")
    assert Quote.objects.count() == 0


def test_lines_are_added_changed_reordered_and_removed_with_the_quotes_version(qw, api):
    office = api("dispatcher")
    quote = office.post("/quotes", {"client_id": qw.world.client.pk, "title": "Pump"}).json()
    # when a part is added without a price, and a manual line
    r = office.post(f"/quotes/{quote['id']}/lines", {"part_id": qw.part.pk, "quantity": "2"})
    assert r.status_code == 201, r.content
    part_line = r.json()
    assert (part_line["description"], part_line["unit_price"], part_line["net_amount"]) == (
        "Mechanical seal 40 mm",
        "26.0000",
        "52.00",
    )
    version = int(r["ETag"].strip('"'))
    r = office.post(f"/quotes/{quote['id']}/lines", PUMP, headers={"If-Match": f'"{version}"'})
    assert r.status_code == 201, r.content
    pump = r.json()
    # a change on the old version is refused
    r = office.patch(f"/quote-lines/{pump['id']}", {"quantity": "2"}, headers={"If-Match": f'"{version}"'})
    assert_problem(r, 412, "stale_version")
    # when the pump's quantity changes
    r = office.patch(f"/quote-lines/{pump['id']}", {"quantity": "2"})
    assert r.status_code == 200 and r.json()["net_amount"] == "2400.00"
    # and the lines are reordered
    r = office.put(f"/quotes/{quote['id']}/lines/order", {"line_ids": [pump["id"], part_line["id"]]})
    assert r.status_code == 200, r.content
    assert [line["id"] for line in r.json()["lines"]] == [pump["id"], part_line["id"]]
    assert r.json()["total_gross"] == "2917.88"
    # and one is removed
    assert office.delete(f"/quote-lines/{part_line['id']}").status_code == 204
    assert office.get(f"/quotes/{quote['id']}").json()["total_net"] == "2400.00"


def test_a_bad_line_is_a_problem_on_its_field(qw, api):
    quote = blank_quote(qw)
    office = api("dispatcher")
    assert_problem(
        office.post(f"/quotes/{quote.pk}/lines", {"description": "x"}), 422, "validation_error", field="unit_price"
    )
    assert_problem(
        office.post(f"/quotes/{quote.pk}/lines", {**PUMP, "quantity": "0"}), 422, "validation_error", field="quantity"
    )
    assert_problem(
        office.post(f"/quotes/{quote.pk}/lines", {**PUMP, "discount_percent": "5"}),
        422,
        "validation_error",
        field="discount_reason",
    )
    assert QuoteLine.objects.count() == 0


def test_the_header_of_a_draft_is_patched_with_if_match(qw, api):
    quote = blank_quote(qw, PUMP)
    office = api("dispatcher")
    etag = office.get(f"/quotes/{quote.pk}")["ETag"]
    r = office.patch(f"/quotes/{quote.pk}", {"title": "Pump swap", "terms": "Net 14 days"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.content
    assert (r.json()["title"], r.json()["terms"]) == ("Pump swap", "Net 14 days")
    assert_problem(
        office.patch(f"/quotes/{quote.pk}", {"title": "Again"}, headers={"If-Match": etag}), 412, "stale_version"
    )


def test_a_quote_is_sent_withdrawn_and_sent_again(qw, api):
    quote = blank_quote(qw, PUMP, FITTING)
    office = api("dispatcher")
    # when
    r = office.post(f"/quotes/{quote.pk}/send", {"message": "Hello"})
    # then
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["status"], body["sent_to"]) == ("sent", CONTACT_EMAIL)
    assert body["public_url"].endswith(f"/q/{quote.public_token}/")
    assert mail.outbox[0].to == [CONTACT_EMAIL]
    # a sent quote is not patched
    assert_problem(office.patch(f"/quotes/{quote.pk}", {"title": "x"}), 409, "conflict")
    # withdrawn, it is a draft again
    assert office.post(f"/quotes/{quote.pk}/withdraw").json()["status"] == "draft"


def test_sending_to_a_bad_address_is_a_problem_on_its_field(qw, api):
    quote = blank_quote(qw, PUMP)
    assert_problem(api("admin").post(f"/quotes/{quote.pk}/send", {"to": "nobody"}), 422, "validation_error", field="to")
    assert Quote.objects.get(pk=quote.pk).status == "draft"


def test_an_accepted_quote_is_converted_once(qw, api):
    quote = accepted_quote(qw)
    office = api("dispatcher")
    r = office.post(f"/quotes/{quote.pk}/convert", {"target": "work_order", "mode": "estimate"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["conversion"], body["has_signature"], body["decided_by_name"]) == (
        "estimate",
        True,
        "Hanna Hausmeister",
    )
    assert body["converted_work_order_id"]
    assert_problem(office.post(f"/quotes/{quote.pk}/convert", {"target": "invoice"}), 409, "conflict")
    assert_problem(
        office.post(f"/quotes/{quote.pk}/convert", {"target": "somewhere"}), 422, "validation_error", field="target"
    )


def test_an_accepted_quote_is_frozen_in_the_api(qw, api):
    quote = accepted_quote(qw)
    office = api("admin")
    line = quote.lines.first()
    assert_problem(office.patch(f"/quotes/{quote.pk}", {"title": "x"}), 409, "conflict")
    assert_problem(office.patch(f"/quote-lines/{line.pk}", {"quantity": "9"}), 409, "conflict")
    assert_problem(office.delete(f"/quote-lines/{line.pk}"), 409, "conflict")
    assert_problem(office.delete(f"/quotes/{quote.pk}"), 409, "conflict")
    assert Quote.objects.get(pk=quote.pk).title == quote.title


def test_the_list_filters_by_status_and_client(qw, api):
    draft = blank_quote(qw, PUMP, title="Draft pump")
    sent = sent_quote(qw)
    office = api("accountant")
    assert [q["id"] for q in office.get("/quotes").json()["items"]] == [sent.pk, draft.pk]
    assert [q["id"] for q in office.get("/quotes", {"status": "sent"}).json()["items"]] == [sent.pk]
    assert office.get("/quotes", {"client_id": qw.world.other_client.pk}).json()["items"] == []
    assert [q["id"] for q in office.get("/quotes", {"q": "Draft"}).json()["items"]] == [draft.pk]
    assert_problem(office.get("/quotes", {"status": "lost"}), 422, "validation_error", field="status")


def test_a_client_user_reads_their_clients_sent_quotes_only(qw, api):
    draft = blank_quote(qw, PUMP, title="Draft pump")
    sent = sent_quote(qw)
    client = api("client_user")
    assert [q["id"] for q in client.get("/quotes").json()["items"]] == [sent.pk]
    assert client.get(f"/quotes/{sent.pk}").status_code == 200
    assert_problem(client.get(f"/quotes/{draft.pk}"), 404, "not_found")
    assert_problem(client.post(f"/quotes/{sent.pk}/withdraw"), 403, "permission_denied")
    assert api("other_client_user").get("/quotes").json()["items"] == []
    assert_problem(api("other_client_user").get(f"/quotes/{sent.pk}"), 404, "not_found")


def test_the_pdf_is_downloaded(qw, api):
    quote = sent_quote(qw)
    r = api("client_user").get(f"/quotes/{quote.pk}/pdf")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")


@pytest.mark.parametrize("role", ["technician", "requester"])
def test_roles_without_quotes_see_none(qw, api, role):
    sent = sent_quote(qw)
    assert_problem(api(role).get("/quotes"), 403, "permission_denied")
    assert_problem(api(role).get(f"/quotes/{sent.pk}"), 404, "not_found")
    assert_problem(api(role).post("/quotes", {"client_id": qw.world.client.pk, "title": "x"}), 403, "permission_denied")


def test_the_api_list_costs_a_fixed_number_of_queries(qw, api, django_assert_max_num_queries):
    for n in range(5):
        blank_quote(qw, PUMP, title=f"Quote {n}")
    office = api("dispatcher")
    office.get("/quotes")  # warm the token cache
    with django_assert_max_num_queries(8):
        r = office.get("/quotes")
    assert len(r.json()["items"]) == 5


def test_deleting_a_draft(qw, api):
    quote = blank_quote(qw, PUMP)
    assert api("dispatcher").delete(f"/quotes/{quote.pk}").status_code == 204
    assert not Quote.objects.filter(pk=quote.pk).exists()
    # the number is not reused
    assert quotes.quote_create(actor=qw.office, client_id=qw.world.client.pk, title="Next").number.endswith("00002")


@pytest.fixture
def refusing_smtp(settings, smtp_server):
    """A real SMTP server that answers every message with a temporary failure."""
    settings.MAILERS = smtp_mailers(smtp_server.host, smtp_server.port)
    smtp_server.refuse = True
    return smtp_server


def test_a_mail_server_that_fails_is_a_503_and_the_quote_stays_a_draft(qw, api, refusing_smtp):
    quote = blank_quote(qw, PUMP)
    r = api("dispatcher").post(f"/quotes/{quote.pk}/send", {})
    assert_problem(r, 503, "conflict", detail="could not be sent")
    after = Quote.objects.get(pk=quote.pk)
    assert (after.status, after.sent_at, after.version) == ("draft", None, quote.version)
