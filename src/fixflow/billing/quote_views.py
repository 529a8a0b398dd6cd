"""Quote pages: the list (status, client, search), a new quote (blank, from a request, from a work order), the
editor of a draft (header, lines edited in place with htmx and live totals), the send dialog, withdraw,
convert an accepted quote, the PDF — and the public page ``/q/<token>/`` where the client, without an
account, reads the quote and accepts it (name and a signature drawn on the screen) or rejects it.

Reads come from :mod:`.quote_selectors` (client users: their own client's sent quotes, read-only); writes
go through :mod:`.quote_services`. A refused input is shown on the form it came from and nothing typed is
lost; a refused one-click action comes back as a message on the quote.
"""

from __future__ import annotations

import base64
from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.pagination import paginate
from fixflow.core.permissions import require
from fixflow.inventory.models import Part
from fixflow.web.forms import call_service, posted, render_form
from fixflow.web.helpers import actor_required, add_domain_error

from . import quote_selectors as selectors
from . import quote_services as services
from .choices import QuoteConversion, QuoteStatus
from .quote_forms import (
    PublicAcceptForm,
    PublicRejectForm,
    QuoteConvertForm,
    QuoteCreateForm,
    QuoteFilterForm,
    QuoteHeaderForm,
    QuoteLineForm,
    QuoteSendForm,
)
from .services import settings_for

NAV = "quotes"
MANAGE = "quotes.manage"
PART_CHOICES_LIMIT = 500


def _detail_url(quote_or_pk, anchor: str = "") -> str:
    pk = getattr(quote_or_pk, "pk", quote_or_pk)
    return reverse("billing-quote-detail", args=[pk]) + anchor


def _refused(request, exc: DomainError, url: str):
    """A refused one-click action, shown as a message on the page it came from."""
    if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
        raise exc
    messages.error(request, exc.message)
    return redirect(url)


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


# --- list and create --------------------------------------------------------------------------


@actor_required
def quote_list(request):
    actor = request.actor
    require(actor, "quotes.view")
    filters = QuoteFilterForm(request.GET, actor=actor)
    values = filters.values()
    qs = selectors.quote_list(
        actor=actor, status=values.get("status"), client_id=values.get("client"), q=values.get("q")
    )
    page = paginate(qs, ordering=["-created_at"], cursor=request.GET.get("cursor") or None, limit=50)
    counts = selectors.status_counts(actor=actor)
    chips = [("", _("All"), sum(counts.values()))] + [
        (value, label, counts.get(value, 0))
        for value, label in QuoteStatus.choices
        if not (actor.is_client and value == QuoteStatus.DRAFT)
    ]
    return render(
        request,
        "billing/quotes/list.html",
        {
            "nav": NAV,
            "filters": filters,
            "page": page,
            "chips": chips,
            "status": values.get("status", ""),
            "can_manage": actor.can(MANAGE),
        },
    )


@actor_required
def quote_create(request):
    """A new draft: the choice of source; ``?work_order=`` / ``?work_request=`` / ``?client=`` preselect it."""
    actor = request.actor
    require(actor, MANAGE)
    initial = {}
    for name, source in (("work_order", "work_order"), ("work_request", "request"), ("client", "blank")):
        if request.GET.get(name):
            initial = {name: request.GET[name], "source": source}
    form = QuoteCreateForm(posted(request), actor=actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        quote = call_service(form, lambda: services.quote_create(actor=actor, **form.service_data()))
        if quote:
            count = quote.lines.count()
            if count:
                messages.success(
                    request, _("Quote %(n)s made with %(c)d priced line(s).") % {"n": quote.number, "c": count}
                )
            else:
                messages.success(request, _("Quote %(n)s made: add its lines.") % {"n": quote.number})
            return redirect(_detail_url(quote))
    return render_form(request, "billing/quotes/create.html", {"nav": NAV, "form": form})


# --- the quote and its editor -----------------------------------------------------------------


def _signature_src(quote) -> str:
    """The client's drawn signature as a data: URL (media files are not served)."""
    if not quote.decision_signature:
        return ""
    try:
        with quote.decision_signature.open("rb") as handle:
            data = handle.read(services.SIGNATURE_MAX_BYTES + 1)
    except OSError:
        return ""
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _parts(actor):
    return list(
        Part.objects.filter(organization_id=actor.organization_id, is_active=True).order_by("sku")[:PART_CHOICES_LIMIT]
    )


def _editor_context(request, quote, *, line_forms=None, add_form=None) -> dict:
    """The draft editor: the lines as forms, the form to add one, the totals and the version they rest on."""
    actor = request.actor
    lines = list(selectors.quote_lines(quote=quote))
    tax_rates = selectors.tax_rate_choices(actor=actor)
    bound = line_forms or {}
    rows = [(line, bound.get(line.pk) or QuoteLineForm(line=line, tax_rates=tax_rates)) for line in lines]
    return {
        "quote": quote,
        "lines": lines,
        "rows": rows,
        "add_form": add_form or QuoteLineForm(tax_rates=tax_rates, parts=_parts(actor)),
        "tax_rows": selectors.quote_tax_breakdown(quote=quote, lines=lines),
    }


def _detail_context(request, quote, **bound) -> dict:
    actor = request.actor
    can_manage = actor.can(MANAGE) and not actor.is_client
    is_draft = quote.status == QuoteStatus.DRAFT
    context = {
        "nav": NAV,
        "quote": quote,
        "can_manage": can_manage,
        "is_draft": is_draft,
        "past_validity": selectors.is_past_validity(quote),
        "public_url": services.public_url(quote) if quote.sent_at else "",
        "signature_src": _signature_src(quote),
    }
    if is_draft and can_manage:
        context.update(
            _editor_context(request, quote, line_forms=bound.get("line_forms"), add_form=bound.get("add_form"))
        )
        context["header_form"] = bound.get("header_form") or QuoteHeaderForm(quote=quote)
    else:
        lines = list(selectors.quote_lines(quote=quote))
        context.update(lines=lines, tax_rows=selectors.quote_tax_breakdown(quote=quote, lines=lines))
    if can_manage and quote.status in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        context["send_form"] = bound.get("send_form") or _send_form(quote)
        context["recipients"] = _recipients(quote)
    if can_manage and quote.status == QuoteStatus.ACCEPTED and quote.converted_at is None:
        context["convert_form"] = bound.get("convert_form") or QuoteConvertForm(quote=quote)
    return context


def _render_detail(request, quote, *, status: int = 200, **bound):
    return render(request, "billing/quotes/detail.html", _detail_context(request, quote, **bound), status=status)


@actor_required
def quote_detail(request, pk):
    return _render_detail(request, selectors.quote_get(actor=request.actor, pk=pk))


@require_POST
@actor_required
def quote_edit(request, pk):
    """Save a draft's header (title, texts, site, equipment, validity)."""
    actor = request.actor
    quote = selectors.quote_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    form = QuoteHeaderForm(request.POST, quote=quote)
    if form.is_valid():
        saved = call_service(
            form,
            lambda: services.quote_update(
                actor=actor, quote_id=quote.pk, data=form.service_data(), expected_version=form.expected_version
            ),
        )
        if saved:
            messages.success(request, _("Quote %(n)s saved.") % {"n": saved.number})
            return redirect(_detail_url(saved))
    return _render_detail(request, quote, status=422, header_form=form)


@require_POST
@actor_required
def quote_delete(request, pk):
    actor = request.actor
    quote = selectors.quote_get(actor=actor, pk=pk)
    try:
        services.quote_delete(actor=actor, quote_id=quote.pk)
    except DomainError as exc:
        return _refused(request, exc, _detail_url(quote))
    messages.success(request, _("Draft quote %(n)s deleted.") % {"n": quote.number})
    return redirect("billing-quote-list")


# --- lines (htmx: the editor is re-rendered, or just the totals when a row changes) --------------


def _version(request) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _editor_response(request, quote, *, status: int = 200, error: str = "", **bound):
    quote.refresh_from_db()
    context = {**_editor_context(request, quote, **bound), "nav": NAV, "editor_error": error}
    return render(request, "billing/quotes/_editor.html", context, status=status)


@require_POST
@actor_required
def quote_line_add(request, pk):
    actor = request.actor
    quote = selectors.quote_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    form = QuoteLineForm(request.POST, tax_rates=selectors.tax_rate_choices(actor=actor), parts=_parts(actor))
    if form.is_valid():
        line = call_service(
            form,
            lambda: services.quote_line_add(
                actor=actor, quote_id=quote.pk, data=form.service_data(), expected_version=_version(request)
            ),
        )
        if line:
            if _is_htmx(request):
                return _editor_response(request, quote)
            messages.success(request, _("Line added."))
            return redirect(_detail_url(quote, "#lines"))
    if _is_htmx(request):
        return _editor_response(request, quote, add_form=form)
    return _render_detail(request, quote, status=422, add_form=form)


def _line_and_quote(request, pk):
    line = selectors.quote_line_get(actor=request.actor, pk=pk)
    return line, selectors.quote_get(actor=request.actor, pk=line.quote_id)


@require_POST
@actor_required
def quote_line_edit(request, pk):
    """Save one line. From the editor (htmx, on each change) the answer updates the line's amount, its
    errors, the totals and the version in place: what is being typed in the row stays as it is."""
    actor = request.actor
    line, quote = _line_and_quote(request, pk)
    require(actor, MANAGE)
    form = QuoteLineForm(request.POST, line=line, tax_rates=selectors.tax_rate_choices(actor=actor))
    saved = None
    if form.is_valid():
        saved = call_service(
            form,
            lambda: services.quote_line_update(
                actor=actor, line_id=line.pk, data=form.service_data(), expected_version=_version(request)
            ),
        )
    if _is_htmx(request):
        quote.refresh_from_db()
        line.refresh_from_db()
        lines = list(selectors.quote_lines(quote=quote))
        context = {
            "quote": quote,
            "line": line,
            "form": form,
            "saved": saved is not None,
            "tax_rows": selectors.quote_tax_breakdown(quote=quote, lines=lines),
        }
        return render(request, "billing/quotes/_line_saved.html", context)
    if saved is not None:
        return redirect(_detail_url(quote, f"#line-{line.pk}"))
    return _render_detail(request, quote, status=422, line_forms={line.pk: form})


@require_POST
@actor_required
def quote_line_remove(request, pk):
    actor = request.actor
    line, quote = _line_and_quote(request, pk)
    try:
        services.quote_line_remove(actor=actor, line_id=line.pk, expected_version=_version(request))
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED) or not _is_htmx(request):
            return _refused(request, exc, _detail_url(quote, "#lines"))
        return _editor_response(request, quote, error=exc.message)
    if _is_htmx(request):
        return _editor_response(request, quote)
    messages.success(request, _("Line removed."))
    return redirect(_detail_url(quote, "#lines"))


@require_POST
@actor_required
def quote_line_move(request, pk):
    actor = request.actor
    line, quote = _line_and_quote(request, pk)
    try:
        services.quote_line_move(
            actor=actor,
            line_id=line.pk,
            direction=request.POST.get("direction", ""),
            expected_version=_version(request),
        )
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED) or not _is_htmx(request):
            return _refused(request, exc, _detail_url(quote, "#lines"))
        return _editor_response(request, quote, error=exc.message)
    if _is_htmx(request):
        return _editor_response(request, quote)
    return redirect(_detail_url(quote, f"#line-{line.pk}"))


# --- send, withdraw, convert, PDF -------------------------------------------------------------


def _recipients(quote) -> list[str]:
    emails = [c.email for c in quote.client.contacts.exclude(email="").order_by("-is_primary", "name")]
    if quote.client.email:
        emails.append(quote.client.email)
    return list(dict.fromkeys(emails))


def _send_form(quote, data=None) -> QuoteSendForm:
    validity = quote.valid_until
    if quote.status == QuoteStatus.DRAFT and (validity is None or validity < services.today_for(quote.organization)):
        days = settings_for(quote.organization).quote_validity_days
        validity = services.today_for(quote.organization) + timedelta(days=days)
    return QuoteSendForm(data, quote=quote, recipient=services.default_recipient(quote), validity=validity)


@require_http_methods(["GET", "POST"])
@actor_required
def quote_send(request, pk):
    """The send dialog as a page of its own (without JavaScript, and after a refused send)."""
    actor = request.actor
    quote = selectors.quote_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        messages.error(request, services.not_editable(quote).message)
        return redirect(_detail_url(quote))
    form = _send_form(quote, posted(request))
    if request.method == "POST" and form.is_valid():
        again = quote.status == QuoteStatus.SENT
        sent = call_service(
            form,
            lambda: services.quote_send(
                actor=actor, quote_id=quote.pk, expected_version=form.cleaned_data.get("version"), **form.service_data()
            ),
        )
        if sent:
            text = _("Quote %(n)s sent again to %(to)s.") if again else _("Quote %(n)s sent to %(to)s.")
            messages.success(request, text % {"n": sent.number, "to": sent.sent_to})
            return redirect(_detail_url(sent))
    return render_form(
        request,
        "billing/quotes/send.html",
        {"nav": NAV, "quote": quote, "form": form, "recipients": _recipients(quote)},
    )


@require_POST
@actor_required
def quote_withdraw(request, pk):
    actor = request.actor
    quote = selectors.quote_get(actor=actor, pk=pk)
    try:
        services.quote_withdraw(actor=actor, quote_id=quote.pk)
    except DomainError as exc:
        return _refused(request, exc, _detail_url(quote))
    messages.success(request, _("Quote %(n)s is a draft again: revise it and send it again.") % {"n": quote.number})
    return redirect(_detail_url(quote))


@require_POST
@actor_required
def quote_convert(request, pk):
    actor = request.actor
    quote = selectors.quote_get(actor=actor, pk=pk)
    form = QuoteConvertForm(request.POST, quote=quote)
    if form.is_valid():
        data = form.cleaned_data
        site = data.get("site")
        try:
            converted = services.quote_convert(
                actor=actor,
                quote_id=quote.pk,
                target=data["target"],
                mode=data.get("mode") or QuoteConversion.FIXED_PRICE,
                site_id=site.pk if site else None,
                expected_version=data.get("version"),
            )
        except DomainError as exc:
            if exc.code != ErrorCode.VALIDATION or exc.field not in ("mode", "site"):
                return _refused(request, exc, _detail_url(quote))
            form.add_error(exc.field, exc.message)
        else:
            if converted.converted_work_order_id:
                wo = converted.converted_work_order
                messages.success(
                    request, _("Quote %(n)s converted into work order %(wo)s.") % {"n": quote.number, "wo": wo.number}
                )
            else:
                messages.success(request, _("Quote %(n)s converted into a draft invoice.") % {"n": quote.number})
            return redirect(_detail_url(quote))
    return _render_detail(request, quote, status=422, convert_form=form)


def _pdf_response(quote, *, inline: bool = False) -> HttpResponse:
    from .documents.pdf import render_quote

    response = HttpResponse(render_quote(quote), content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{quote.number}.pdf"'
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@actor_required
def quote_pdf(request, pk):
    return _pdf_response(selectors.quote_get(actor=request.actor, pk=pk))


# --- the public page: the client decides, without an account ----------------------------------


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _logo_src(organization) -> str:
    """The seller's logo as a data: URL (media files are not served)."""
    row = settings_for(organization)
    if not row.logo:
        return ""
    try:
        with row.logo.open("rb") as handle:
            data = handle.read(2 * 1024 * 1024)
    except OSError:
        return ""
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def _public_context(quote, *, accept_form=None, reject_form=None) -> dict:
    from .documents.pdf import organization_seller

    seller = organization_seller(quote.organization)
    today = services.today_for(quote.organization)
    lines = list(selectors.quote_lines(quote=quote))
    is_open = quote.status == QuoteStatus.SENT and not selectors.is_past_validity(quote, today)
    name = seller.get("legal_name") or seller["name"]
    place = " ".join(part for part in (seller.get("postcode", ""), seller.get("city", "")) if part)
    return {
        "quote": quote,
        "seller_name": name,
        "seller_line": " · ".join(
            part for part in (name, seller.get("street", ""), place, seller.get("vat_id", "")) if part
        ),
        "seller": seller,
        "logo": _logo_src(quote.organization),
        "lines": lines if quote.status != QuoteStatus.DRAFT else [],
        "tax_rows": selectors.quote_tax_breakdown(quote=quote, lines=lines),
        "is_open": is_open,
        "past_validity": selectors.is_past_validity(quote, today),
        "signature_src": _signature_src(quote),
        "accept_form": accept_form or PublicAcceptForm(),
        "reject_form": reject_form or PublicRejectForm(prefix="reject"),
        "reject_open": reject_form is not None,
    }


def _public_quote(token):
    try:
        return selectors.quote_public_get(token=token)
    except DomainError as exc:
        raise Http404(exc.message) from None


def public_quote(request, token):
    """The quote as the client reads it, with the accept and reject forms while it is open."""
    quote = _public_quote(token)
    return render(request, "billing/quotes/public.html", _public_context(quote))


def _decided(request, token, form, call, *, which: str):
    try:
        call()
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise Http404(exc.message) from None
        if exc.code == ErrorCode.CONFLICT:
            messages.error(request, exc.message)
            return redirect("billing-quote-public", token=token)
        add_domain_error(form, exc)
        quote = _public_quote(token)
        bound = {"accept_form": form} if which == "accept" else {"reject_form": form}
        return render(request, "billing/quotes/public.html", _public_context(quote, **bound), status=422)
    return redirect("billing-quote-public", token=token)


@require_POST
def public_accept(request, token):
    quote = _public_quote(token)
    form = PublicAcceptForm(request.POST)
    if not form.is_valid():
        return render(request, "billing/quotes/public.html", _public_context(quote, accept_form=form), status=422)
    data = form.cleaned_data

    def accept():
        services.quote_accept(
            token=token,
            signed_by_name=data["signed_by_name"],
            signature_png=data["signature"],
            ip_address=_client_ip(request),
        )
        messages.success(request, _("Thank you: the quote is accepted. We will be in touch to plan the work."))

    return _decided(request, token, form, accept, which="accept")


@require_POST
def public_reject(request, token):
    quote = _public_quote(token)
    form = PublicRejectForm(request.POST, prefix="reject")
    if not form.is_valid():
        return render(request, "billing/quotes/public.html", _public_context(quote, reject_form=form), status=422)
    data = form.cleaned_data

    def reject():
        services.quote_reject(token=token, reason=data["reason"], name=data["name"], ip_address=_client_ip(request))
        messages.success(request, _("Thank you for letting us know. The quote is marked as rejected."))

    return _decided(request, token, form, reject, which="reject")


def public_pdf(request, token):
    quote = _public_quote(token)
    if quote.status == QuoteStatus.DRAFT:
        raise Http404("This quote is being revised.")
    return _pdf_response(quote, inline=True)


urlpatterns = [
    path("quotes/", quote_list, name="billing-quote-list"),
    path("quotes/new/", quote_create, name="billing-quote-create"),
    path("quotes/<int:pk>/", quote_detail, name="billing-quote-detail"),
    path("quotes/<int:pk>/edit/", quote_edit, name="billing-quote-edit"),
    path("quotes/<int:pk>/delete/", quote_delete, name="billing-quote-delete"),
    path("quotes/<int:pk>/lines/", quote_line_add, name="billing-quote-line-add"),
    path("quotes/lines/<int:pk>/", quote_line_edit, name="billing-quote-line-edit"),
    path("quotes/lines/<int:pk>/remove/", quote_line_remove, name="billing-quote-line-remove"),
    path("quotes/lines/<int:pk>/move/", quote_line_move, name="billing-quote-line-move"),
    path("quotes/<int:pk>/send/", quote_send, name="billing-quote-send"),
    path("quotes/<int:pk>/withdraw/", quote_withdraw, name="billing-quote-withdraw"),
    path("quotes/<int:pk>/convert/", quote_convert, name="billing-quote-convert"),
    path("quotes/<int:pk>/pdf/", quote_pdf, name="billing-quote-pdf"),
    path("q/<str:token>/", public_quote, name="billing-quote-public"),
    path("q/<str:token>/accept/", public_accept, name="billing-quote-public-accept"),
    path("q/<str:token>/reject/", public_reject, name="billing-quote-public-reject"),
    path("q/<str:token>/pdf/", public_pdf, name="billing-quote-public-pdf"),
]
