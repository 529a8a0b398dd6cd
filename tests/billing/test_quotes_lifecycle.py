"""The life of a quote (DOMAIN.md §4 rule 5): draft → sent → accepted / rejected / expired. Sending dates it and
sets its validity; the client decides on the public page (name, drawn signature, time, IP) while it is sent
and valid; past its validity it expires (the worker's job); an accepted quote is frozen on every path and
converts once — into a work order at a fixed price or as an estimate, or into a draft invoice."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from PIL import Image

from fixflow.billing import quote_services as quotes
from fixflow.billing import services as billing
from fixflow.billing.choices import LineKind
from fixflow.billing.models import (
    FrozenQuoteError,
    Invoice,
    InvoiceLine,
    Quote,
    QuoteLine,
    WorkOrderBilling,
)
from fixflow.billing.quote_tasks import expire_quotes
from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.scheduler import jobs
from fixflow.service import services as service
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.models import PlannedMaterial, TimeEntry, WorkOrder, WorkOrderEvent

from .quote_fixtures import (
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
MAY_4 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 10:00 in Berlin


def refused(call, code: ErrorCode, field: str | None = None) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.code == code, info.value
    if field is not None:
        assert info.value.field == field, info.value
    return info.value


def snapshot(quote: Quote) -> tuple:
    quote = Quote.objects.get(pk=quote.pk)
    lines = list(QuoteLine.objects.filter(quote=quote).order_by("pk").values_list())
    return (
        quote.status,
        quote.title,
        quote.version,
        quote.total_gross,
        quote.decided_at,
        quote.decided_by_name,
        quote.converted_at,
        lines,
    )


# --- sending ----------------------------------------------------------------------------------


def test_sending_dates_the_quote_sets_its_validity_and_mails_the_primary_contact(qw):
    quote = blank_quote(qw, PUMP, FITTING)
    # when
    with clock.frozen_at(MAY_4):
        sent = quotes.quote_send(actor=qw.office, quote_id=quote.pk, message="As discussed on the phone.")
    # then
    assert (sent.status, sent.issue_date, sent.valid_until) == ("sent", date(2026, 5, 4), date(2026, 6, 3))
    assert (sent.sent_to, sent.sent_at, sent.number) == (CONTACT_EMAIL, MAY_4, quote.number)
    (message,) = mail.outbox
    assert message.to == [CONTACT_EMAIL]
    assert message.subject == f"Quote {quote.number} from Acme Maintenance GmbH: New circulation pump"
    assert "As discussed on the phone." in message.body
    assert f"/q/{quote.public_token}/" in message.body
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype, content[:5]) == (f"{quote.number}.pdf", "application/pdf", b"%PDF-")


def test_a_chosen_address_and_validity_are_used(qw):
    quote = blank_quote(qw, PUMP)
    with clock.frozen_at(MAY_4):
        sent = quotes.quote_send(
            actor=qw.office, quote_id=quote.pk, to="facility@stadtwerke.example", valid_until="2026-05-20"
        )
    assert (sent.sent_to, sent.valid_until) == ("facility@stadtwerke.example", date(2026, 5, 20))
    assert mail.outbox[0].to == ["facility@stadtwerke.example"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to": "not an address"}, "to"),
        ({"valid_until": "2026-05-03"}, "valid_until"),
    ],
)
def test_a_wrong_address_or_a_past_validity_is_refused_and_nothing_is_sent(qw, change, field):
    quote = blank_quote(qw, PUMP)
    before = snapshot(quote)
    with clock.frozen_at(MAY_4):
        refused(lambda: quotes.quote_send(actor=qw.office, quote_id=quote.pk, **change), ErrorCode.VALIDATION, field)
    assert snapshot(quote) == before
    assert mail.outbox == []


def test_a_quote_without_lines_is_not_sent(qw):
    quote = blank_quote(qw)
    refused(lambda: quotes.quote_send(actor=qw.office, quote_id=quote.pk), ErrorCode.VALIDATION, "lines")
    assert Quote.objects.get(pk=quote.pk).status == "draft"


def test_reverse_charge_for_a_client_without_vat_id_is_refused_before_sending(qw):
    from fixflow.billing import config_services as config

    reverse = config.tax_rate_create(
        actor=qw.world.admin,
        data={"name": "Reverse charge", "category": "AE", "rate": "0", "exemption_code": "VATEX-EU-AE"},
    )
    quote = blank_quote(qw, {**PUMP, "tax_rate_id": reverse.pk})
    error = refused(lambda: quotes.quote_send(actor=qw.office, quote_id=quote.pk), ErrorCode.VALIDATION)
    assert "VAT" in error.message
    assert mail.outbox == []


def test_a_sent_quote_is_not_edited_until_it_is_withdrawn(qw):
    quote = sent_quote(qw)
    error = refused(
        lambda: quotes.quote_update(actor=qw.office, quote_id=quote.pk, data={"title": "x"}), ErrorCode.CONFLICT
    )
    assert "withdraw" in error.message
    refused(lambda: quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data=PUMP), ErrorCode.CONFLICT)
    refused(lambda: quotes.quote_delete(actor=qw.office, quote_id=quote.pk), ErrorCode.CONFLICT)
    # when it is withdrawn
    quotes.quote_withdraw(actor=qw.office, quote_id=quote.pk)
    # then it is a draft again, and its link says it is being revised
    quotes.quote_update(actor=qw.office, quote_id=quote.pk, data={"title": "Revised"})
    assert Quote.objects.get(pk=quote.pk).status == "draft"
    refused(
        lambda: quotes.quote_accept(token=quote.public_token, signed_by_name="H", signature_png=signature_png()),
        ErrorCode.CONFLICT,
    )


def test_a_sent_quote_is_sent_again_with_its_dates_unchanged(qw):
    with clock.frozen_at(MAY_4):
        quote = sent_quote(qw)
    with clock.frozen_at(MAY_4 + timedelta(days=3)):
        again = quotes.quote_send(actor=qw.office, quote_id=quote.pk, to="other@stadtwerke.example")
    assert (again.status, again.issue_date, again.valid_until, again.sent_to) == (
        "sent",
        date(2026, 5, 4),
        date(2026, 6, 3),
        "other@stadtwerke.example",
    )
    assert len(mail.outbox) == 2


# --- the client's decision --------------------------------------------------------------------


def test_the_client_accepts_with_name_signature_time_and_ip(qw):
    quote = sent_quote(qw)
    # when
    with clock.frozen_at(MAY_4 + timedelta(hours=3)):
        accepted = quotes.quote_accept(
            token=quote.public_token,
            signed_by_name="  Hanna Hausmeister ",
            signature_png=signature_png(),
            ip_address="203.0.113.7",
        )
    # then
    accepted = Quote.objects.get(pk=quote.pk)
    assert (accepted.status, accepted.decided_by_name, accepted.decided_at, accepted.decided_from_ip) == (
        "accepted",
        "Hanna Hausmeister",
        MAY_4 + timedelta(hours=3),
        "203.0.113.7",
    )
    with accepted.decision_signature.open("rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).format == "PNG"


@pytest.mark.parametrize(
    ("image", "why"),
    [
        (signature_png(drawn=False), "empty"),
        (b"", "Sign"),
        (b"\x89PNG\r\n\x1a\n not really a png", "readable"),
    ],
)
def test_a_signature_that_is_not_a_drawn_png_is_refused(qw, image, why):
    quote = sent_quote(qw)
    error = refused(
        lambda: quotes.quote_accept(token=quote.public_token, signed_by_name="Hanna", signature_png=image),
        ErrorCode.VALIDATION,
        "signature",
    )
    assert why in error.message
    assert Quote.objects.get(pk=quote.pk).status == "sent"


def test_a_jpeg_signature_is_refused(qw):
    quote = sent_quote(qw)
    out = io.BytesIO()
    Image.new("RGB", (200, 80), (20, 20, 20)).save(out, "JPEG")
    refused(
        lambda: quotes.quote_accept(token=quote.public_token, signed_by_name="H", signature_png=out.getvalue()),
        ErrorCode.VALIDATION,
        "signature",
    )


def test_a_name_is_needed_to_accept(qw):
    quote = sent_quote(qw)
    refused(
        lambda: quotes.quote_accept(token=quote.public_token, signed_by_name=" ", signature_png=signature_png()),
        ErrorCode.VALIDATION,
        "signed_by_name",
    )


def test_the_client_rejects_with_a_reason(qw):
    quote = sent_quote(qw)
    refused(lambda: quotes.quote_reject(token=quote.public_token, reason=""), ErrorCode.VALIDATION, "reason")
    quotes.quote_reject(token=quote.public_token, reason="Too expensive", name="Hanna", ip_address="2001:db8::1")
    rejected = Quote.objects.get(pk=quote.pk)
    assert (rejected.status, rejected.rejection_reason, rejected.decided_by_name, rejected.decided_from_ip) == (
        "rejected",
        "Too expensive",
        "Hanna",
        "2001:db8::1",
    )
    # then it cannot be accepted any more, nor withdrawn
    error = refused(
        lambda: quotes.quote_accept(token=quote.public_token, signed_by_name="H", signature_png=signature_png()),
        ErrorCode.CONFLICT,
    )
    assert "rejected" in error.message
    refused(lambda: quotes.quote_withdraw(actor=qw.office, quote_id=quote.pk), ErrorCode.CONFLICT)


def test_a_quote_is_accepted_once(qw):
    quote = accepted_quote(qw)
    before = snapshot(quote)
    error = refused(
        lambda: quotes.quote_accept(
            token=quote.public_token, signed_by_name="Someone else", signature_png=signature_png()
        ),
        ErrorCode.CONFLICT,
    )
    assert "accepted" in error.message and "Hanna Hausmeister" in error.message
    refused(lambda: quotes.quote_reject(token=quote.public_token, reason="changed my mind"), ErrorCode.CONFLICT)
    assert snapshot(quote) == before


def test_an_unknown_or_unsent_token_is_not_found(qw):
    draft = blank_quote(qw, PUMP)
    for token in ("nope", "", draft.public_token):
        refused(
            lambda token=token: quotes.quote_accept(token=token, signed_by_name="H", signature_png=signature_png()),
            ErrorCode.NOT_FOUND,
        )


# --- validity and expiry ----------------------------------------------------------------------


def test_a_quote_past_its_validity_is_refused_and_the_job_expires_it(qw):
    with clock.frozen_at(MAY_4):
        quote = sent_quote(qw)  # valid until 3 June (Berlin)
    # when the client opens it on 3 June at 23:30 in Berlin: still valid
    with clock.frozen_at(datetime(2026, 6, 3, 21, 30, tzinfo=UTC)):
        assert quotes.quote_expire_due() == 0
    # when on 4 June just after midnight in Berlin
    after = datetime(2026, 6, 3, 22, 30, tzinfo=UTC)
    with clock.frozen_at(after):
        error = refused(
            lambda: quotes.quote_accept(token=quote.public_token, signed_by_name="H", signature_png=signature_png()),
            ErrorCode.CONFLICT,
        )
        assert "expired on 2026-06-03" in error.message
        # the worker's job runs
        assert quotes.quote_expire_due() == 1
        assert quotes.quote_expire_due() == 0  # running it again changes nothing
    expired = Quote.objects.get(pk=quote.pk)
    assert (expired.status, expired.version) == ("expired", quote.version + 1)
    # an expired quote goes back to draft to be revised; its past validity is cleared
    with clock.frozen_at(after):
        draft = quotes.quote_withdraw(actor=qw.office, quote_id=quote.pk)
    assert (draft.status, draft.valid_until) == ("draft", None)


def test_the_expiry_job_is_registered_with_the_worker_and_runs_the_service(qw):
    with clock.frozen_at(MAY_4):
        quote = sent_quote(qw)
    assert "billing.expire_quotes" in [job.name for job in jobs()]
    with clock.frozen_at(MAY_4 + timedelta(days=40)):
        assert expire_quotes.call() == 1
    assert Quote.objects.get(pk=quote.pk).status == "expired"


# --- frozen once accepted ---------------------------------------------------------------------


def test_an_accepted_quote_is_frozen_on_every_path(qw):
    quote = accepted_quote(qw)
    line = quote.lines.first()
    before = snapshot(quote)
    # services
    refused(lambda: quotes.quote_update(actor=qw.office, quote_id=quote.pk, data={"title": "x"}), ErrorCode.CONFLICT)
    refused(lambda: quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data=PUMP), ErrorCode.CONFLICT)
    refused(
        lambda: quotes.quote_line_update(actor=qw.office, line_id=line.pk, data={"quantity": 2}), ErrorCode.CONFLICT
    )
    refused(lambda: quotes.quote_line_remove(actor=qw.office, line_id=line.pk), ErrorCode.CONFLICT)
    refused(lambda: quotes.quote_delete(actor=qw.office, quote_id=quote.pk), ErrorCode.CONFLICT)
    refused(lambda: quotes.quote_withdraw(actor=qw.office, quote_id=quote.pk), ErrorCode.CONFLICT)
    refused(lambda: quotes.quote_send(actor=qw.office, quote_id=quote.pk), ErrorCode.CONFLICT)
    # the model and querysets (the admin, a shell, a careless script)
    row = Quote.objects.get(pk=quote.pk)
    row.title = "Changed in a shell"
    with pytest.raises(FrozenQuoteError):
        row.save()
    with pytest.raises(FrozenQuoteError):
        Quote.objects.filter(pk=quote.pk).update(total_net=1)
    with pytest.raises(FrozenQuoteError):
        Quote.objects.filter(pk=quote.pk).delete()
    with pytest.raises(FrozenQuoteError):
        row.delete()
    line.unit_price = D("1")
    with pytest.raises(FrozenQuoteError):
        line.save()
    with pytest.raises(FrozenQuoteError):
        line.delete()
    with pytest.raises(FrozenQuoteError):
        QuoteLine.objects.filter(quote=quote).update(unit_price=1)
    with pytest.raises(FrozenQuoteError):
        QuoteLine.objects.filter(quote=quote).delete()
    # then
    assert snapshot(quote) == before


# --- converting, once -------------------------------------------------------------------------


def _close(wo: WorkOrder, *, closed=datetime(2026, 5, 20, 14, 0, tzinfo=UTC)) -> None:
    """The work order done and closed (rows written directly: the lifecycle is covered elsewhere)."""
    WorkOrder.objects.filter(pk=wo.pk).update(
        status=Status.CLOSED,
        billing_status=BillingStatus.TO_INVOICE,
        started_at=closed - timedelta(hours=4),
        completed_at=closed - timedelta(hours=1),
        closed_at=closed,
    )


def _labour(qw, wo: WorkOrder, minutes: int) -> TimeEntry:
    start = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
    return TimeEntry.objects.create(
        organization_id=wo.organization_id,
        work_order=wo,
        technician=qw.world.technician.user,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        duration_minutes=minutes,
    )


def test_an_accepted_quote_becomes_a_work_order_at_a_fixed_price_invoiced_as_one_line(qw):
    seal = {"part_id": None, "description": "Seal", "unit_price": "10"}
    quote = accepted_quote(qw, PUMP, FITTING, {**seal, "part_id": qw.part.pk, "quantity": "2"})
    # when
    converted = quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order", mode="fixed_price")
    # then a new work order at the quote's site, with the part planned and the net total as fixed price
    wo = converted.converted_work_order
    assert (wo.client, wo.site, wo.title, wo.is_billable) == (qw.world.client, qw.world.site, quote.title, True)
    assert wo.estimated_duration_minutes == 180
    assert list(PlannedMaterial.objects.filter(work_order=wo).values_list("part_id", "quantity")) == [(qw.part.pk, 2)]
    terms = WorkOrderBilling.objects.get(work_order=wo)
    assert (terms.quote, terms.fixed_price) == (quote, D("1460.00"))
    assert (converted.conversion, converted.converted_at is not None) == ("fixed_price", True)
    event = WorkOrderEvent.objects.filter(work_order=wo, kind="updated").last()
    assert event.data == {"quote": ["", quote.number], "price": ["", "1460.00 EUR"]}
    # when the work is done, with more time than quoted, and invoiced
    _labour(qw, wo, 300)
    _close(wo)
    (invoice,) = billing.invoice_closed_work(actor=qw.world.accountant)
    # then the invoice has the fixed price as its one line
    (line,) = invoice.lines.all()
    assert (line.kind, line.unit_price, line.net_amount, line.work_order) == (
        LineKind.FIXED,
        D("1460.0000"),
        D("1460.00"),
        wo,
    )
    assert quote.number in line.detail


def test_converting_twice_is_refused(qw):
    quote = accepted_quote(qw)
    quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order")
    before = snapshot(quote)
    error = refused(
        lambda: quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="invoice"), ErrorCode.CONFLICT
    )
    assert "converted already" in error.message
    assert snapshot(quote) == before
    assert WorkOrder.objects.filter(client=qw.world.client).count() == 2  # the fixture's and the converted one


def test_a_quote_made_from_a_work_order_prices_that_work_order_as_an_estimate(qw):
    # given a quote from the work order, its labour rate raised to 95
    quote = quotes.quote_create(actor=qw.office, work_order_id=qw.work_order.pk)
    labour = quote.lines.get(kind="labour")
    quotes.quote_line_update(actor=qw.office, line_id=labour.pk, data={"unit_price": "95"})
    quotes.quote_send(actor=qw.office, quote_id=quote.pk)
    quotes.quote_accept(token=quote.public_token, signed_by_name="Hanna", signature_png=signature_png())
    # when
    converted = quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order", mode="estimate")
    # then no new work order; the existing one carries the quote as its estimate
    assert converted.converted_work_order == qw.work_order
    terms = WorkOrderBilling.objects.get(work_order=qw.work_order)
    assert (terms.quote, terms.fixed_price) == (quote, None)
    # and recorded labour is invoiced at the quoted rate
    _labour(qw, qw.work_order, 60)
    _close(qw.work_order)
    (invoice,) = billing.invoice_closed_work(actor=qw.world.accountant)
    labour_line = invoice.lines.get(kind="labour")
    assert (labour_line.quantity, labour_line.unit_price, labour_line.net_amount) == (
        D("1.0000"),
        D("95.0000"),
        D("95.00"),
    )


def test_a_quote_made_from_a_request_converts_the_request(qw):
    req = service.work_request_create(
        actor=qw.world.requester, title="Noise", site_id=qw.world.site.pk, equipment_id=qw.world.equipment.pk
    )
    quote = quotes.quote_create(actor=qw.office, work_request_id=req.pk)
    quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data=PUMP)
    quotes.quote_send(actor=qw.office, quote_id=quote.pk)
    quotes.quote_accept(token=quote.public_token, signed_by_name="Hanna", signature_png=signature_png())
    # when
    converted = quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order")
    # then
    req.refresh_from_db()
    assert req.status == "accepted"
    assert converted.converted_work_order.request == req
    assert converted.converted_work_order.equipment == qw.world.equipment


def test_a_request_without_equipment_still_becomes_site_level_work(qw):
    req = service.work_request_create(actor=qw.world.requester, title="Noise", site_id=qw.world.site.pk)
    quote = quotes.quote_create(actor=qw.office, work_request_id=req.pk)
    quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data=PUMP)
    quotes.quote_send(actor=qw.office, quote_id=quote.pk)
    quotes.quote_accept(token=quote.public_token, signed_by_name="Hanna", signature_png=signature_png())
    # when
    wo = quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order").converted_work_order
    # then the work order is at the request's site without equipment; the request waits for the dispatcher
    assert (wo.site, wo.equipment, wo.requires_equipment, wo.title) == (qw.world.site, None, False, "Noise")
    req.refresh_from_db()
    assert req.status == "new"


def test_a_quote_without_a_site_needs_one_to_become_a_work_order(qw):
    quote = quotes.quote_create(actor=qw.office, client_id=qw.world.client.pk, title="Consulting day")
    quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data=PUMP)
    quotes.quote_send(actor=qw.office, quote_id=quote.pk)
    quotes.quote_accept(token=quote.public_token, signed_by_name="H", signature_png=signature_png())
    refused(
        lambda: quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order"),
        ErrorCode.VALIDATION,
        "site",
    )
    assert Quote.objects.get(pk=quote.pk).converted_at is None
    converted = quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order", site_id=qw.world.site.pk)
    assert converted.converted_work_order.site == qw.world.site


def test_an_accepted_quote_becomes_a_draft_invoice_with_its_lines(qw):
    quote = accepted_quote(qw, PUMP, {**FITTING, "tax_rate_id": qw.reduced.pk})
    # when
    converted = quotes.quote_convert(actor=qw.world.accountant, quote_id=quote.pk, target="invoice")
    # then
    invoice = converted.converted_invoice
    assert (invoice.status, invoice.client, invoice.currency, invoice.number) == ("draft", qw.world.client, "EUR", None)
    assert list(
        invoice.lines.order_by("position").values_list("kind", "description", "quantity", "unit_price", "tax_rate")
    ) == [
        ("manual", "Circulation pump DN40", D("1.0000"), D("1200.0000"), D("19.00")),
        ("manual", "Fitting the pump", D("3.0000"), D("80.0000"), D("7.00")),
    ]
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (quote.total_net, D("244.80"), D("1684.80"))
    assert invoice.total_gross == quote.total_gross


def test_a_dispatcher_may_not_make_the_invoice_and_nothing_is_written(qw):
    quote = accepted_quote(qw)
    before = snapshot(quote)
    refused(
        lambda: quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="invoice"), ErrorCode.PERMISSION_DENIED
    )
    assert snapshot(quote) == before
    assert (Invoice.objects.count(), InvoiceLine.objects.count()) == (0, 0)


def test_an_accountant_may_not_make_a_work_order_and_nothing_is_written(qw):
    quote = accepted_quote(qw)
    before = snapshot(quote)
    count = WorkOrder.objects.count()
    refused(
        lambda: quotes.quote_convert(actor=qw.world.accountant, quote_id=quote.pk, target="work_order"),
        ErrorCode.PERMISSION_DENIED,
    )
    assert (snapshot(quote), WorkOrder.objects.count()) == (before, count)


def test_a_quote_of_a_work_order_is_not_invoiced_directly(qw):
    quote = quotes.quote_create(actor=qw.office, work_order_id=qw.work_order.pk)
    quotes.quote_send(actor=qw.office, quote_id=quote.pk)
    quotes.quote_accept(token=quote.public_token, signed_by_name="H", signature_png=signature_png())
    error = refused(
        lambda: quotes.quote_convert(actor=qw.world.accountant, quote_id=quote.pk, target="invoice"), ErrorCode.CONFLICT
    )
    assert qw.work_order.number in error.message
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize("state", ["draft", "sent", "rejected"])
def test_only_accepted_quotes_are_converted(qw, state):
    quote = blank_quote(qw, PUMP)
    if state != "draft":
        quotes.quote_send(actor=qw.office, quote_id=quote.pk)
    if state == "rejected":
        quotes.quote_reject(token=quote.public_token, reason="No")
    refused(lambda: quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order"), ErrorCode.CONFLICT)
    assert Quote.objects.get(pk=quote.pk).converted_at is None


def test_the_leakage_report_lists_the_accepted_quote_until_it_is_converted(qw):
    from fixflow.billing.selectors import leakage_report

    quote = accepted_quote(qw)
    assert [q.pk for q in leakage_report(actor=qw.world.accountant, estimate=False).quotes_not_converted] == [quote.pk]
    quotes.quote_convert(actor=qw.office, quote_id=quote.pk, target="work_order")
    assert leakage_report(actor=qw.world.accountant, estimate=False).quotes_not_converted == []
