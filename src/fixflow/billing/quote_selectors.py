"""Quote reads, narrowed to what the actor may see (ARCHITECTURE.md rule 3).

``quotes.view``: admins, dispatchers and accountants see their organization's quotes; a client user sees
their own client's quotes once sent (never drafts). Anything else is NOT_FOUND, never a 403 that would
confirm it exists. The public page reads a quote by its token alone (:func:`quote_public_get`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet

from fixflow.core.errors import not_found
from fixflow.core.permissions import Actor, require

from . import calculations as calc
from .choices import QuoteStatus
from .inputs import as_id
from .models import Quote, QuoteLine, TaxRate
from .quote_services import today_for


def quote_queryset(*, actor: Actor) -> QuerySet[Quote]:
    """The quotes the actor may see."""
    if not actor.can("quotes.view"):
        return Quote.objects.none()
    qs = Quote.objects.filter(organization_id=actor.organization_id)
    if actor.is_client:
        return qs.filter(client_id=actor.client_id).exclude(status=QuoteStatus.DRAFT)
    return qs


def quote_list(*, actor: Actor, status: str | None = None, client_id=None, q: str | None = None) -> QuerySet[Quote]:
    """The actor's quotes, filtered by status, client and a search in number, title and client name.
    PERMISSION_DENIED for roles that see no quotes (a list would only ever be empty for them)."""
    require(actor, "quotes.view")
    qs = quote_queryset(actor=actor).select_related("client", "site")
    if status:
        qs = qs.filter(status=status)
    if client_id not in (None, ""):
        qs = qs.filter(client_id=as_id(client_id))
    if q:
        q = q.strip()
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(client__name__icontains=q))
    return qs


def quote_get(*, actor: Actor, pk) -> Quote:
    """One quote the actor may see, with its client, site, equipment and sources; NOT_FOUND otherwise."""
    quote = (
        quote_queryset(actor=actor)
        .select_related(
            "client",
            "site",
            "equipment",
            "work_request",
            "work_order",
            "converted_work_order",
            "converted_invoice",
            "organization",
            "created_by",
        )
        .filter(pk=as_id(pk))
        .first()
    )
    if quote is None:
        raise not_found("Quote")
    return quote


def quote_lines(*, quote: Quote) -> QuerySet[QuoteLine]:
    """The lines of a quote already read with :func:`quote_get`, in order."""
    return quote.lines.select_related("part").order_by("position", "id")  # each line knows its quote: no query


def quote_line_get(*, actor: Actor, pk) -> QuoteLine:
    """A line of a quote the actor may see; NOT_FOUND otherwise."""
    line = QuoteLine.objects.filter(quote__in=quote_queryset(actor=actor), pk=as_id(pk)).select_related("quote").first()
    if line is None:
        raise not_found("Quote line")
    return line


def quote_public_get(*, token: str) -> Quote:
    """The quote behind a public link: sent, decided, expired, or withdrawn for revision after being sent.
    A draft never sent has no public page (NOT_FOUND), whatever its token."""
    token = (token or "").strip()
    quote = (
        Quote.objects.select_related("organization", "client", "site", "equipment").filter(public_token=token).first()
        if token
        else None
    )
    if quote is None or (quote.status == QuoteStatus.DRAFT and quote.sent_at is None):
        raise not_found("Quote")
    return quote


@dataclass(frozen=True)
class TaxRow:
    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_reason: str


def quote_tax_breakdown(*, quote: Quote, lines=None) -> list[TaxRow]:
    """The VAT per (category, rate) of the quote's lines, as the totals were computed (BG-23)."""
    lines = list(lines if lines is not None else quote_lines(quote=quote))
    if not lines or calc.minor_units(quote.currency) > calc.MAX_DOCUMENT_DECIMALS:
        return []
    groups = calc.tax_breakdown(
        [
            calc.Line(line.net_amount, line.tax_category, line.tax_rate, line.exemption_reason, line.exemption_code)
            for line in lines
        ],
        quote.currency,
    )
    return [TaxRow(g.category, g.rate, g.taxable, g.tax, g.exemption_reason or g.exemption_code) for g in groups]


def is_past_validity(quote: Quote, today: date | None = None) -> bool:
    """A sent quote whose validity has passed (the expiry job may not have run yet)."""
    today = today or today_for(quote.organization)
    return quote.status == QuoteStatus.SENT and quote.valid_until is not None and quote.valid_until < today


def tax_rate_choices(*, actor: Actor) -> list[TaxRate]:
    """The active tax rates a line can be given."""
    return list(TaxRate.objects.filter(organization_id=actor.organization_id, is_active=True))


def status_counts(*, actor: Actor) -> dict[str, int]:
    """How many quotes of each status the actor sees (the list's filter tabs)."""
    from django.db.models import Count

    rows = quote_queryset(actor=actor).order_by().values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows}
