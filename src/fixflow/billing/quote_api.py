"""Quotes in the API, under ``/quotes`` and ``/quote-lines``: list (status, client, search), detail with lines
and VAT breakdown, create (blank, from a request, from a work order), edit drafts (If-Match), lines, send,
withdraw, convert an accepted quote, and the PDF.

Writes go through :mod:`.quote_services` (``quotes.manage``); reads through :mod:`.quote_selectors`, so a
client user reads their own client's sent quotes. The client accepts or rejects on the public page, not
here. An id outside the caller's scope is a 404, also for roles that may not use the endpoint.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from fixflow.core.api_support import actor_of, if_match_version, page_of, page_response, problem, set_etag
from fixflow.core.pagination import paginate

from . import quote_schemas as schemas
from . import quote_selectors as selectors
from . import quote_services as services
from .sending import MailNotSentError

router = Router()

QUOTES = ["quotes"]
PDF_RESPONSE = {
    "responses": {
        "200": {
            "description": "The quote as PDF (A4)",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def _detail(request: HttpRequest, response: HttpResponse, pk) -> object:
    quote = selectors.quote_get(actor=actor_of(request), pk=pk)
    set_etag(response, quote.version)
    return quote


@router.get(
    "/quotes",
    response=page_of(schemas.QuoteOut),
    url_name="quote_list",
    tags=QUOTES,
    summary="List quotes, newest first (client users: their client's sent quotes)",
)
def quote_list(request: HttpRequest, filters: Query[schemas.QuoteFilter]):
    qs = selectors.quote_list(actor=actor_of(request), status=filters.status, client_id=filters.client_id, q=filters.q)
    page = paginate(qs, ordering=["-created_at"], cursor=filters.cursor, limit=filters.limit)
    return page_response(page)


@router.post(
    "/quotes",
    response={201: schemas.QuoteDetailOut},
    url_name="quote_create",
    tags=QUOTES,
    summary="Create a draft quote: blank, from a work request, or from a work order with its estimate priced",
)
def quote_create(request: HttpRequest, payload: schemas.QuoteIn, response: HttpResponse):
    actor = actor_of(request)
    quote = services.quote_create(actor=actor, **payload.model_dump())
    response["Location"] = f"/api/v1/quotes/{quote.pk}"
    return Status(201, _detail(request, response, quote.pk))


@router.get(
    "/quotes/{id}",
    response=schemas.QuoteDetailOut,
    url_name="quote_get",
    tags=QUOTES,
    summary="Get a quote with its lines and VAT breakdown (its ETag is its version)",
)
def quote_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    return _detail(request, response, id)


@router.patch(
    "/quotes/{id}",
    response=schemas.QuoteDetailOut,
    url_name="quote_patch",
    tags=QUOTES,
    summary="Change a draft's title, texts, site, equipment or validity (send If-Match)",
)
def quote_patch(request: HttpRequest, id: int, payload: schemas.QuotePatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_get(actor=actor, pk=id)
    services.quote_update(
        actor=actor,
        quote_id=id,
        data=payload.model_dump(exclude_unset=True),
        expected_version=if_match_version(request),
    )
    return _detail(request, response, id)


@router.delete(
    "/quotes/{id}", response={204: None}, url_name="quote_delete", tags=QUOTES, summary="Delete a draft quote"
)
def quote_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_get(actor=actor, pk=id)
    services.quote_delete(actor=actor, quote_id=id, expected_version=if_match_version(request))
    return Status(204, None)


@router.post(
    "/quotes/{id}/lines",
    response={201: schemas.QuoteLineOut},
    url_name="quote_line_add",
    tags=QUOTES,
    summary="Add a line to a draft (a part, labour or travel without a price is priced from the rates)",
)
def quote_line_add(request: HttpRequest, id: int, payload: schemas.QuoteLineIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_get(actor=actor, pk=id)
    data = payload.model_dump(exclude_none=True)
    line = services.quote_line_add(actor=actor, quote_id=id, data=data, expected_version=if_match_version(request))
    response["Location"] = f"/api/v1/quote-lines/{line.pk}"
    set_etag(response, line.quote.version)
    return Status(201, line)


@router.put(
    "/quotes/{id}/lines/order",
    response=schemas.QuoteDetailOut,
    url_name="quote_lines_reorder",
    tags=QUOTES,
    summary="Put a draft's lines in a new order (every line once)",
)
def quote_lines_reorder(request: HttpRequest, id: int, payload: schemas.QuoteLineOrderIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_get(actor=actor, pk=id)
    services.quote_lines_reorder(
        actor=actor, quote_id=id, line_ids=payload.line_ids, expected_version=if_match_version(request)
    )
    return _detail(request, response, id)


@router.patch(
    "/quote-lines/{id}",
    response=schemas.QuoteLineOut,
    url_name="quote_line_patch",
    tags=QUOTES,
    summary="Change a line of a draft (If-Match: the quote's version)",
)
def quote_line_patch(request: HttpRequest, id: int, payload: schemas.QuoteLinePatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_line_get(actor=actor, pk=id)
    line = services.quote_line_update(
        actor=actor, line_id=id, data=payload.model_dump(exclude_unset=True), expected_version=if_match_version(request)
    )
    set_etag(response, line.quote.version)
    return line


@router.delete(
    "/quote-lines/{id}",
    response={204: None},
    url_name="quote_line_delete",
    tags=QUOTES,
    summary="Remove a line from a draft (If-Match: the quote's version)",
)
def quote_line_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_line_get(actor=actor, pk=id)
    services.quote_line_remove(actor=actor, line_id=id, expected_version=if_match_version(request))
    return Status(204, None)


@router.post(
    "/quotes/{id}/send",
    response=schemas.QuoteDetailOut,
    url_name="quote_send",
    tags=QUOTES,
    summary="E-mail the quote with its PDF and the link where the client accepts it (draft → sent; again; "
    "503 when the mail server fails: nothing is recorded then)",
)
def quote_send(request: HttpRequest, id: int, payload: schemas.QuoteSendIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_get(actor=actor, pk=id)
    try:
        services.quote_send(
            actor=actor, quote_id=id, expected_version=if_match_version(request), **payload.model_dump()
        )
    except MailNotSentError as exc:
        return problem(exc.code, exc.message, status=503)
    return _detail(request, response, id)


@router.post(
    "/quotes/{id}/withdraw",
    response=schemas.QuoteDetailOut,
    url_name="quote_withdraw",
    tags=QUOTES,
    summary="Take a sent or expired quote back to draft to revise it",
)
def quote_withdraw(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_get(actor=actor, pk=id)
    services.quote_withdraw(actor=actor, quote_id=id, expected_version=if_match_version(request))
    return _detail(request, response, id)


@router.post(
    "/quotes/{id}/convert",
    response=schemas.QuoteDetailOut,
    url_name="quote_convert",
    tags=QUOTES,
    summary="Convert an accepted quote, once, into a work order (fixed price or estimate) or a draft invoice",
)
def quote_convert(request: HttpRequest, id: int, payload: schemas.QuoteConvertIn, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.quote_get(actor=actor, pk=id)
    services.quote_convert(
        actor=actor,
        quote_id=id,
        target=payload.target,
        mode=payload.mode,
        site_id=payload.site_id,
        expected_version=if_match_version(request),
    )
    return _detail(request, response, id)


@router.get(
    "/quotes/{id}/pdf",
    url_name="quote_pdf",
    tags=QUOTES,
    summary="Download the quote as PDF",
    openapi_extra=PDF_RESPONSE,
)
def quote_pdf(request: HttpRequest, id: int):  # noqa: A002
    from .documents.pdf import render_quote

    quote = selectors.quote_get(actor=actor_of(request), pk=id)
    response = HttpResponse(render_quote(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote.number}.pdf"'
    response["Cache-Control"] = "private, no-cache"
    return response
