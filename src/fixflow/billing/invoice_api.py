"""Invoices and credit notes in the API (DOMAIN.md §4 rules 6-11), under ``/invoices``:

- ``GET /invoices`` (filters, keyset pages) and ``GET /invoices/{id}`` (lines in document order, VAT
  breakdown, payments; its ETag is its version);
- ``POST /invoices/invoice-closed-work``: the closed work of some or all clients as drafts;
- drafts: ``PATCH`` (If-Match), lines (``POST /invoices/{id}/lines``, ``PATCH``/``DELETE
  /invoice-lines/{id}``), ``POST …/regenerate``, ``DELETE``, ``POST …/issue``;
- issued documents: ``GET …/pdf``, ``GET …/xml?format=cii|ubl``, ``POST …/send`` (e-mail with both);
- ``POST …/payments`` and ``DELETE /invoice-payments/{id}``; ``POST …/credit-notes``;
- ``GET /invoices/accounting-export?date_from&date_to``: CSV, one row per VAT line.

Reads go through :mod:`.selectors` (``invoices.view``: client users see their own client's issued
documents only); writes through :mod:`.services` (``invoices.manage``: admins, accountants). An id of
another organization, or outside a client user's scope, is a 404.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from fixflow.core.api_support import actor_of, if_match_version, page_of, page_response, problem, set_etag
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.pagination import paginate
from fixflow.core.permissions import Actor

from . import exports, selectors, sending, services
from . import invoice_schemas as schemas
from .choices import InvoiceStatus
from .documents.terms import document_lines
from .models import Invoice

router = Router()

INVOICES = ["invoices"]
LINES = ["invoice lines"]
PAYMENTS = ["invoice payments"]
BASE = "/api/v1"
STATES = set(InvoiceStatus.values)
FILE_RESPONSE = {
    "responses": {
        "200": {
            "description": "The document",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "application/xml": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


# --- presentation helpers ---------------------------------------------------------------------


def _filters(actor: Actor, query: schemas.InvoiceFilter) -> selectors.InvoiceFilters:
    status = tuple(s.strip() for s in (query.status or "").split(",") if s.strip())
    unknown = [s for s in status if s not in STATES]
    if unknown:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"Unknown status {unknown[0]!r}; use {', '.join(InvoiceStatus.values)}.",
            field="status",
        )
    return selectors.InvoiceFilters(
        status=status,
        client_id=query.client,
        kind=query.kind,
        date_from=query.date_from,
        date_to=query.date_to,
        overdue=query.overdue,
        q=query.q or "",
    )


def _summary(invoice: Invoice, today: date) -> Invoice:
    invoice.is_overdue = selectors.is_overdue(invoice, today)
    return invoice


def _today(actor: Actor) -> date:
    from fixflow.core import clock

    return clock.now().astimezone(actor.organization.tzinfo).date()


def _detail(actor: Actor, invoice: Invoice) -> dict:
    """The detail body: the invoice's fields, its lines numbered as on the PDF, VAT, payments."""
    lines = document_lines(selectors.invoice_lines(actor=actor, invoice=invoice))
    for number, line in enumerate(lines, 1):
        line.number = number
    issued = invoice.status != InvoiceStatus.DRAFT
    data = schemas.InvoiceSummaryOut.model_validate(_summary(invoice, _today(actor))).model_dump()
    data.update(
        series=invoice.series,
        buyer_reference=invoice.buyer_reference,
        order_reference=invoice.order_reference,
        note=invoice.note,
        payment_terms=invoice.payment_terms,
        service_from=invoice.service_from,
        service_until=invoice.service_until,
        credit_reason=invoice.credit_reason,
        credited_invoice_number=invoice.credited_invoice.number if invoice.credited_invoice_id else None,
        seller=invoice.seller or {},
        buyer=invoice.buyer or {},
        issued_at=invoice.issued_at,
        sent_to=invoice.sent_to,
        lines=lines,
        vat_breakdown=invoice.tax_breakdown or [],
        payments=list(selectors.invoice_payments(actor=actor, invoice=invoice)),
        credit_note_ids=list(selectors.invoice_credit_notes(actor=actor, invoice=invoice).values_list("pk", flat=True)),
        pdf_url=f"{BASE}/invoices/{invoice.pk}/pdf" if issued else None,
        xml_url=f"{BASE}/invoices/{invoice.pk}/xml" if issued else None,
    )
    return data


def _reply(actor: Actor, invoice_id: int, response: HttpResponse) -> dict:
    invoice = selectors.invoice_get(actor=actor, pk=invoice_id)
    set_etag(response, invoice.version)
    return _detail(actor, invoice)


def _download(data: bytes, filename: str, content_type: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


def _stored(invoice: Invoice, field) -> bytes:
    if invoice.status == InvoiceStatus.DRAFT:
        raise DomainError(ErrorCode.CONFLICT, "A draft has no documents yet: they are made when it is issued.")
    try:
        with field.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError):
        raise DomainError(ErrorCode.NOT_FOUND, "The document is missing from storage.") from None


# --- list, export, invoicing closed work ------------------------------------------------------


@router.get(
    "/invoices",
    response=page_of(schemas.InvoiceSummaryOut),
    url_name="invoice_list",
    tags=INVOICES,
    summary="List invoices and credit notes (newest issue date first, drafts last)",
)
def invoice_list(request: HttpRequest, filters: Query[schemas.InvoiceFilter]):
    actor = actor_of(request)
    qs = selectors.invoice_list(actor=actor, filters=_filters(actor, filters))
    page = paginate(qs, ordering=["-issue_date", "-id"], cursor=filters.cursor, limit=filters.limit)
    today = _today(actor)
    page.items = [_summary(invoice, today) for invoice in page.items]
    return page_response(page)


@router.get(
    "/invoices/accounting-export",
    url_name="invoice_accounting_export",
    tags=INVOICES,
    summary="Issued invoices and credit notes of a period as CSV, one row per VAT line (credit notes negative)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "CSV (UTF-8, comma-separated)",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def accounting_export(request: HttpRequest, query: Query[schemas.AccountingExportQuery]):
    rows = selectors.accounting_rows(actor=actor_of(request), date_from=query.date_from, date_to=query.date_to)
    return exports.accounting_csv_response(rows, query.date_from, query.date_to)


@router.post(
    "/invoices/invoice-closed-work",
    response=schemas.ClosedWorkOut,
    url_name="invoice_closed_work",
    tags=INVOICES,
    summary="Put the closed work waiting to be invoiced on drafts: one per client, currency and tax regime",
)
def invoice_closed_work(request: HttpRequest, payload: schemas.ClosedWorkIn):
    actor = actor_of(request)
    drafts = services.invoice_closed_work(actor=actor, client_ids=payload.client_ids, until=payload.until)
    today = _today(actor)
    ids = [d.pk for d in drafts]
    found = {i.pk: i for i in Invoice.objects.filter(pk__in=ids).select_related("client")}
    return {"invoices": [_summary(found[pk], today) for pk in ids]}


# --- one invoice ------------------------------------------------------------------------------


@router.get(
    "/invoices/{id}",
    response=schemas.InvoiceOut,
    url_name="invoice_get",
    tags=INVOICES,
    summary="An invoice or credit note with its lines, VAT breakdown and payments (its ETag is its version)",
)
def invoice_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    return _reply(actor_of(request), id, response)


@router.patch(
    "/invoices/{id}",
    response=schemas.InvoiceOut,
    url_name="invoice_patch",
    tags=INVOICES,
    summary="Change a draft's due date, references, note or payment terms (send If-Match)",
)
def invoice_patch(request: HttpRequest, id: int, payload: schemas.InvoicePatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_get(actor=actor, pk=id)  # another organization's invoice is a 404 for every role
    services.invoice_update(
        actor=actor,
        invoice_id=id,
        data=payload.model_dump(exclude_unset=True),
        expected_version=if_match_version(request),
    )
    return _reply(actor, id, response)


@router.delete(
    "/invoices/{id}",
    response={204: None},
    url_name="invoice_delete",
    tags=INVOICES,
    summary="Delete a draft (its work becomes free to invoice again); issued invoices are never deleted",
)
def invoice_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_get(actor=actor, pk=id)
    services.invoice_delete(actor=actor, invoice_id=id, expected_version=if_match_version(request))
    return Status(204, None)


@router.post(
    "/invoices/{id}/regenerate",
    response=schemas.InvoiceOut,
    url_name="invoice_regenerate",
    tags=INVOICES,
    summary="Price a draft's work orders afresh (manual lines stay; send If-Match)",
)
def invoice_regenerate(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_get(actor=actor, pk=id)
    services.invoice_regenerate(actor=actor, invoice_id=id, expected_version=if_match_version(request))
    return _reply(actor, id, response)


@router.post(
    "/invoices/{id}/issue",
    response=schemas.InvoiceOut,
    url_name="invoice_issue",
    tags=INVOICES,
    summary="Issue a draft: the next number of its series, the documents, frozen (422 names a broken rule)",
)
def invoice_issue(request: HttpRequest, id: int, payload: schemas.IssueIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_get(actor=actor, pk=id)
    services.invoice_issue(
        actor=actor, invoice_id=id, issue_date=payload.issue_date, expected_version=if_match_version(request)
    )
    return _reply(actor, id, response)


@router.get(
    "/invoices/{id}/pdf",
    url_name="invoice_pdf",
    tags=INVOICES,
    summary="The issued PDF (PDF/A-3b with the Factur-X CII inside)",
    openapi_extra=FILE_RESPONSE,
)
def invoice_pdf(request: HttpRequest, id: int):  # noqa: A002
    invoice = selectors.invoice_get(actor=actor_of(request), pk=id)
    return _download(_stored(invoice, invoice.pdf), f"{sending.file_stem(invoice)}.pdf", sending.PDF)


@router.get(
    "/invoices/{id}/xml",
    url_name="invoice_xml",
    tags=INVOICES,
    summary="The issued e-invoice as XML: CII (default) or UBL",
    openapi_extra=FILE_RESPONSE,
)
def invoice_xml(request: HttpRequest, id: int, query: Query[schemas.XmlFormatQuery]):  # noqa: A002
    invoice = selectors.invoice_get(actor=actor_of(request), pk=id)
    if query.format not in sending.XML_FORMATS:
        raise DomainError(ErrorCode.VALIDATION, "Choose the format: cii or ubl.", field="format")
    stored = invoice.xml_ubl if query.format == "ubl" else invoice.xml_cii
    data = _stored(invoice, stored)
    return _download(data, f"{sending.file_stem(invoice)}-{query.format}.xml", sending.XML)


@router.post(
    "/invoices/{id}/send",
    response=schemas.SendOut,
    url_name="invoice_send",
    tags=INVOICES,
    summary="E-mail the issued PDF and XML to the client's invoice address or to the one given "
    "(503 when the mail server fails: nothing is recorded then)",
)
def invoice_send(request: HttpRequest, id: int, payload: schemas.SendIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_get(actor=actor, pk=id)
    try:
        invoice = services.invoice_send(
            actor=actor, invoice_id=id, to=payload.to, message=payload.message, xml_format=payload.xml_format
        )
    except sending.MailNotSentError as exc:
        return problem(exc.code, exc.message, status=503)
    set_etag(response, invoice.version)
    return invoice


# --- lines of a draft -------------------------------------------------------------------------


def _line_reply(actor: Actor, line_id: int, invoice_id: int, response: HttpResponse):
    invoice = selectors.invoice_get(actor=actor, pk=invoice_id)
    set_etag(response, invoice.version)
    lines = document_lines(selectors.invoice_lines(actor=actor, invoice=invoice))
    for number, line in enumerate(lines, 1):
        if line.pk == line_id:
            line.number = number
            return line
    raise DomainError(ErrorCode.NOT_FOUND, "Invoice line not found.")


@router.post(
    "/invoices/{id}/lines",
    response={201: schemas.InvoiceLineOut},
    url_name="invoice_line_add",
    tags=LINES,
    summary="Add a manual line to a draft (If-Match: the draft's version; the new one comes back as ETag)",
)
def invoice_line_add(request: HttpRequest, id: int, payload: schemas.InvoiceLineIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_get(actor=actor, pk=id)
    line = services.invoice_line_add(
        actor=actor, invoice_id=id, data=payload.model_dump(), expected_version=if_match_version(request)
    )
    response["Location"] = f"{BASE}/invoice-lines/{line.pk}"
    return Status(201, _line_reply(actor, line.pk, id, response))


@router.get(
    "/invoice-lines/{id}",
    response=schemas.InvoiceLineOut,
    url_name="invoice_line_get",
    tags=LINES,
    summary="A line of an invoice or credit note (its ETag is the invoice's version)",
)
def invoice_line_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    line = selectors.invoice_line_get(actor=actor, pk=id)
    return _line_reply(actor, line.pk, line.invoice_id, response)


@router.patch(
    "/invoice-lines/{id}",
    response=schemas.InvoiceLineOut,
    url_name="invoice_line_patch",
    tags=LINES,
    summary="Change a draft's line: description, quantity, price, discount, VAT… (If-Match: the draft's version)",
)
def invoice_line_patch(request: HttpRequest, id: int, payload: schemas.InvoiceLinePatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_line_get(actor=actor, pk=id)
    line = services.invoice_line_update(
        actor=actor, line_id=id, data=payload.model_dump(exclude_unset=True), expected_version=if_match_version(request)
    )
    return _line_reply(actor, line.pk, line.invoice_id, response)


@router.delete(
    "/invoice-lines/{id}",
    response={204: None},
    url_name="invoice_line_delete",
    tags=LINES,
    summary="Remove a line from a draft (a generated line's work becomes free to invoice again)",
)
def invoice_line_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_line_get(actor=actor, pk=id)
    services.invoice_line_remove(actor=actor, line_id=id, expected_version=if_match_version(request))
    return Status(204, None)


# --- payments and credit notes ----------------------------------------------------------------


@router.post(
    "/invoices/{id}/payments",
    response={201: schemas.PaymentOut},
    url_name="invoice_payment_create",
    tags=PAYMENTS,
    summary="Record a payment of an issued invoice (it becomes partially paid or paid)",
)
def payment_create(request: HttpRequest, id: int, payload: schemas.PaymentIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_get(actor=actor, pk=id)
    payment = services.payment_record(
        actor=actor,
        invoice_id=id,
        amount=payload.amount,
        paid_on=payload.paid_on,
        method=payload.method,
        reference=payload.reference,
    )
    response["Location"] = f"{BASE}/invoices/{id}"
    return Status(201, payment)


@router.delete(
    "/invoice-payments/{id}",
    response={204: None},
    url_name="invoice_payment_delete",
    tags=PAYMENTS,
    summary="Remove a payment recorded by mistake (the invoice's state follows)",
)
def payment_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_payment_get(actor=actor, pk=id)
    services.payment_delete(actor=actor, payment_id=id)
    return Status(204, None)


@router.post(
    "/invoices/{id}/credit-notes",
    response={201: schemas.InvoiceOut},
    url_name="invoice_credit_note_create",
    tags=INVOICES,
    summary="A draft credit note (type 381) for an issued invoice: everything left, or given lines and quantities",
)
def credit_note_create(request: HttpRequest, id: int, payload: schemas.CreditNoteIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.invoice_get(actor=actor, pk=id)
    lines = None if payload.lines is None else [(item.line_id, item.quantity) for item in payload.lines]
    note = services.credit_note_create(actor=actor, invoice_id=id, reason=payload.reason, lines=lines)
    response["Location"] = f"{BASE}/invoices/{note.pk}"
    return Status(201, _reply(actor, note.pk, response))
