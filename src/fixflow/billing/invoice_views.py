"""Invoice pages (DOMAIN.md §4 rules 6-11): the list with filters and totals, “invoice closed work” with a
preview per client, the draft editor (header, lines by work order edited in place with htmx, regenerate,
delete, issue), the issued invoice (documents, sending, payments, credit notes), the credit note form and the
accounting export.

``invoices.view`` (admins, dispatchers, accountants, client users) reads — client users their own client's
issued documents only; ``invoices.manage`` (admins, accountants) changes. Reads come from
:mod:`.selectors`, writes go through :mod:`.services`; a refused input is shown on the form it came from
and nothing typed is lost. htmx requests on the draft get the draft's body back (lines, totals, VAT) with
the draft's new version swapped into every form that carries it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.pagination import paginate
from fixflow.core.permissions import require
from fixflow.web.forms import call_service, failed_status
from fixflow.web.helpers import actor_required, add_domain_error

from . import exports, selectors, sending, services
from .choices import DocumentType, InvoiceStatus
from .documents.terms import document_lines
from .invoice_forms import (
    STATUS_FILTER,
    AccountingExportForm,
    ClosedWorkForm,
    CreditNoteForm,
    InvoiceFilterForm,
    InvoiceHeaderForm,
    InvoiceLineForm,
    IssueForm,
    PaymentForm,
    SendForm,
)
from .models import Invoice, InvoiceLine, Payment

NAV = "invoices"
MANAGE = "invoices.manage"
PAGE_SIZE = 50
DRAFTS_SHOWN = 20


def _today(actor) -> date:
    return clock.now().astimezone(actor.organization.tzinfo).date()


def _refused(request, exc: DomainError, url: str):
    """A refused one-click action shown as a message on the page it came from."""
    if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
        raise exc
    messages.error(request, exc.message)
    return redirect(url)


def _detail_url(invoice_or_pk, anchor: str = "") -> str:
    pk = getattr(invoice_or_pk, "pk", invoice_or_pk)
    return reverse("billing-invoice-detail", args=[pk]) + (f"#{anchor}" if anchor else "")


def _posted_version(request) -> int | None:
    try:
        return int(request.POST.get("version") or "")
    except ValueError:
        return None


# --- the list and the export ------------------------------------------------------------------


def _filters(form: InvoiceFilterForm) -> selectors.InvoiceFilters:
    values = form.values()
    status = values.get("status", "")
    return selectors.InvoiceFilters(
        status=STATUS_FILTER.get(status, (status,)),
        client_id=values.get("client"),
        kind=values.get("kind"),
        date_from=values.get("date_from"),
        date_to=values.get("date_to"),
        overdue=bool(values.get("overdue")),
        q=values.get("q", ""),
    )


def _last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


@actor_required
def invoice_list(request):
    """Issued invoices and credit notes with filters and their totals per currency; the drafts above them."""
    actor = request.actor
    require(actor, "invoices.view")
    filters = InvoiceFilterForm(request.GET, actor=actor)
    qs = selectors.invoice_list(actor=actor, filters=_filters(filters))
    try:
        page = paginate(qs, ordering=["-issue_date", "-id"], cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    except DomainError as exc:
        if exc.field != "cursor":
            raise
        messages.warning(request, exc.message)
        page = paginate(qs, ordering=["-issue_date", "-id"], limit=PAGE_SIZE)
    today = _today(actor)
    for invoice in page.items:
        invoice.is_overdue = selectors.is_overdue(invoice, today)
    drafts, draft_count = [], 0
    if not actor.is_client and not filters.status_value:
        draft_qs = selectors.invoice_list(actor=actor, filters=selectors.InvoiceFilters(status=(InvoiceStatus.DRAFT,)))
        draft_count = draft_qs.count()
        drafts = list(draft_qs.order_by("-created_at", "-id")[:DRAFTS_SHOWN])
    start, end = _last_month(today)
    return render(
        request,
        "billing/invoices/list.html",
        {
            "nav": NAV,
            "filters": filters,
            "page": page,
            "invoices": page.items,
            "totals": selectors.invoice_totals(actor=actor, queryset=qs),
            "drafts": drafts,
            "draft_count": draft_count,
            "can_manage": actor.can(MANAGE),
            "export_form": AccountingExportForm(initial={"date_from": start, "date_to": end}),
        },
    )


@require_GET
@actor_required
def accounting_export(request):
    """The accounting CSV of a period (default: last month), one row per VAT line."""
    actor = request.actor
    require(actor, MANAGE)
    start, end = _last_month(_today(actor))
    form = AccountingExportForm(request.GET or {"date_from": start, "date_to": end})
    if not form.is_valid():
        messages.error(request, _("Choose the first and last day of the period to export."))
        return redirect("billing-invoice-list")
    date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    try:
        return exports.accounting_csv_response(
            selectors.accounting_rows(actor=actor, date_from=date_from, date_to=date_to), date_from, date_to
        )
    except DomainError as exc:
        return _refused(request, exc, reverse("billing-invoice-list"))


# --- invoicing closed work --------------------------------------------------------------------


@actor_required
def closed_work(request):
    """What “invoice closed work” would do, per client (GET), and doing it (POST): the drafts made."""
    actor = request.actor
    require(actor, MANAGE)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = ClosedWorkForm(data, actor=actor)
    args = form.service_args() if form.is_valid() else {"client_ids": None, "until": None}
    made = None
    status = 200
    if request.method == "POST" and form.is_valid():
        made = call_service(form, lambda: services.invoice_closed_work(actor=actor, **args))
        if made is None:
            status = failed_status(request)
    elif request.method == "POST":
        status = failed_status(request)
    preview = selectors.closed_work_preview(actor=actor, **args) if made is None else None
    if made is not None:
        made = list(
            Invoice.objects.filter(pk__in=[d.pk for d in made])
            .select_related("client")
            .annotate(line_count=Count("lines"))
            .order_by("id")
        )
    return render(
        request,
        "billing/invoices/closed_work.html",
        {"nav": NAV, "form": form, "preview": preview, "made": made},
        status=status,
    )


# --- one invoice ------------------------------------------------------------------------------


def _groups(lines) -> list[dict]:
    """The lines by work order in document order, numbered as on the PDF (and in the XML)."""
    groups: list[dict] = []
    by_key: dict = {}
    for number, line in enumerate(document_lines(lines), 1):
        line.number = number
        key = line.work_order_id or 0
        if key not in by_key:
            by_key[key] = {"work_order": line.work_order, "lines": []}
            groups.append(by_key[key])
        by_key[key]["lines"].append(line)
    return groups


def _common(request, invoice: Invoice) -> dict:
    actor = request.actor
    lines = list(selectors.invoice_lines(actor=actor, invoice=invoice))
    return {
        "nav": NAV,
        "invoice": invoice,
        "is_credit_note": invoice.document_type == DocumentType.CREDIT_NOTE,
        "groups": _groups(lines),
        "line_count": len(lines),
        "vat_rows": invoice.tax_breakdown or [],
        "can_manage": actor.can(MANAGE),
        "today": _today(actor),
    }


def _draft_context(request, invoice: Invoice, *, editing: int | None = None, **forms) -> dict:
    actor = request.actor
    context = _common(request, invoice)
    can_edit = context["can_manage"] and invoice.document_type == DocumentType.INVOICE
    line_form = forms.get("line_form")
    if can_edit and editing and line_form is None:
        line = next((li for g in context["groups"] for li in g["lines"] if li.pk == editing), None)
        if line is not None:
            line_form = InvoiceLineForm(actor=actor, invoice=invoice, line=line, prefix="edit")
    context.update(
        is_draft=True,
        can_edit_lines=can_edit,
        editing=line_form.line.pk if line_form is not None and line_form.line is not None else None,
        line_form=line_form,
        add_form=forms.get("add_form")
        or (InvoiceLineForm(actor=actor, invoice=invoice, prefix="add") if can_edit else None),
        header_form=forms.get("header_form") or InvoiceHeaderForm(invoice=invoice),
        issue_form=forms.get("issue_form") or IssueForm(initial={"version": invoice.version}),
        series=_series(actor, invoice),
    )
    return context


def _series(actor, invoice: Invoice) -> str:
    settings = services.settings_for(actor.organization)
    return settings.credit_note_series if invoice.document_type == DocumentType.CREDIT_NOTE else settings.invoice_series


def _issued_context(request, invoice: Invoice, **forms) -> dict:
    actor = request.actor
    context = _common(request, invoice)
    today = context["today"]
    can_pay = (
        context["can_manage"]
        and invoice.document_type == DocumentType.INVOICE
        and invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
    )
    credit_left = selectors.credit_left(invoice=invoice) if invoice.document_type == DocumentType.INVOICE else {}
    context.update(
        is_draft=False,
        is_overdue=selectors.is_overdue(invoice, today),
        payments=list(selectors.invoice_payments(actor=actor, invoice=invoice)),
        credit_notes=list(selectors.invoice_credit_notes(actor=actor, invoice=invoice)),
        sendings=selectors.invoice_sendings(actor=actor, invoice=invoice),
        can_pay=can_pay,
        can_credit=context["can_manage"]
        and invoice.document_type == DocumentType.INVOICE
        and invoice.status != InvoiceStatus.CREDITED
        and any(left > 0 for left in credit_left.values()),
        send_form=forms.get("send_form") or (SendForm(invoice=invoice) if context["can_manage"] else None),
        payment_form=forms.get("payment_form") or (PaymentForm(invoice=invoice, today=today) if can_pay else None),
        open_dialog=forms.get("open_dialog", ""),
    )
    return context


def _detail_page(request, invoice: Invoice, *, status: int = 200, **forms):
    if invoice.status == InvoiceStatus.DRAFT:
        return render(request, "billing/invoices/draft.html", _draft_context(request, invoice, **forms), status=status)
    return render(request, "billing/invoices/issued.html", _issued_context(request, invoice, **forms), status=status)


def _body(request, invoice: Invoice, *, status: int = 200, error: str = "", **forms) -> HttpResponse:
    """The draft's body (lines, add form, totals) and its new version, for htmx; ``error`` above the lines."""
    context = _draft_context(request, invoice, **forms)
    context.update(oob=True, body_error=error)
    return HttpResponse(render_to_string("billing/invoices/_draft_body.html", context, request=request), status=status)


@actor_required
def invoice_detail(request, pk):
    """A draft in its editor (read-only for dispatchers), or an issued invoice or credit note."""
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    editing = request.GET.get("edit")
    editing = int(editing) if editing and editing.isdigit() else None
    if invoice.status != InvoiceStatus.DRAFT:
        return _detail_page(request, invoice)
    if request.htmx and request.GET.get("part") == "body":
        return _body(request, invoice)
    return _detail_page(request, invoice, editing=editing)


@require_GET
@actor_required
def invoice_pdf(request, pk):
    """The issued PDF (inline for the preview, ``?download=1`` as a file), or a draft's preview."""
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    name = f"{sending.file_stem(invoice)}.pdf"
    if invoice.status == InvoiceStatus.DRAFT:
        data = selectors.invoice_draft_pdf(actor=actor, invoice=invoice)
        name = f"draft-{invoice.pk}-preview.pdf"
    else:
        data = _stored(invoice, invoice.pdf)
    return _file(data, name, sending.PDF, inline=request.GET.get("download") != "1")


@require_GET
@actor_required
def invoice_xml(request, pk):
    """The issued e-invoice: CII, or UBL with ``?format=ubl``."""
    invoice = selectors.invoice_get(actor=request.actor, pk=pk)
    fmt = request.GET.get("format", "cii")
    if fmt not in sending.XML_FORMATS:
        fmt = "cii"
    if invoice.status == InvoiceStatus.DRAFT:
        raise DomainError(ErrorCode.CONFLICT, _("A draft has no e-invoice yet: it is made when the invoice is issued."))
    data = _stored(invoice, invoice.xml_ubl if fmt == "ubl" else invoice.xml_cii)
    return _file(data, f"{sending.file_stem(invoice)}-{fmt}.xml", sending.XML, inline=False)


def _stored(invoice: Invoice, field) -> bytes:
    try:
        with field.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError):
        raise DomainError(ErrorCode.NOT_FOUND, _("The document is missing from storage.")) from None


def _file(data: bytes, name: str, content_type: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


# --- editing a draft --------------------------------------------------------------------------


@require_POST
@actor_required
def invoice_update(request, pk):
    """Save a draft's header (due date, references, payment terms, note)."""
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    if frozen := _issued_already(request, invoice):
        return frozen
    form = InvoiceHeaderForm(request.POST, invoice=invoice)
    if form.is_valid():
        saved = call_service(
            form,
            lambda: services.invoice_update(
                actor=actor,
                invoice_id=invoice.pk,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"],
            ),
        )
        if saved:
            messages.success(request, _("Draft saved."))
            return redirect(_detail_url(invoice))
    return _detail_page(request, invoice, status=failed_status(request), header_form=form)


def _issued_already(request, invoice: Invoice):
    """A draft's form posted to an invoice issued meanwhile: say so on its page (None while it is a draft)."""
    if invoice.status == InvoiceStatus.DRAFT:
        return None
    messages.error(
        request,
        _("%(number)s is issued: it can no longer be changed; correct it with a credit note.")
        % {"number": invoice.number},
    )
    url = _detail_url(invoice)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _line_done(request, invoice_id: int, message: str):
    invoice = selectors.invoice_get(actor=request.actor, pk=invoice_id)
    if request.htmx:
        return _body(request, invoice)
    messages.success(request, message)
    return redirect(_detail_url(invoice, "lines"))


def _line_failed(request, invoice: Invoice, **forms):
    if request.htmx:
        return _body(request, invoice, status=failed_status(request), **forms)
    return _detail_page(request, invoice, status=failed_status(request), **forms)


@require_POST
@actor_required
def line_add(request, pk):
    """Add a manual line to a draft."""
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    if frozen := _issued_already(request, invoice):
        return frozen
    form = InvoiceLineForm(request.POST, actor=actor, invoice=invoice, prefix="add")
    if form.is_valid():
        line = call_service(
            form,
            lambda: services.invoice_line_add(
                actor=actor, invoice_id=invoice.pk, data=form.service_data(), expected_version=form.expected_version
            ),
        )
        if line:
            return _line_done(request, invoice.pk, _("Line “%(d)s” added.") % {"d": line.description})
    return _line_failed(request, invoice, add_form=form)


def _line(request, pk) -> tuple[InvoiceLine, Invoice]:
    line = selectors.invoice_line_get(actor=request.actor, pk=pk)
    return line, line.invoice


@actor_required
def line_edit(request, pk):
    """A line of a draft in edit mode (GET) and saving it (POST)."""
    actor = request.actor
    line, invoice = _line(request, pk)
    require(actor, MANAGE)
    if frozen := _issued_already(request, invoice):
        return frozen
    if request.method == "GET":
        if request.htmx:
            return _body(request, invoice, editing=line.pk)
        return redirect(reverse("billing-invoice-detail", args=[invoice.pk]) + f"?edit={line.pk}#line-{line.pk}")
    form = InvoiceLineForm(request.POST, actor=actor, invoice=invoice, line=line, prefix="edit")
    if form.is_valid():
        saved = call_service(
            form,
            lambda: services.invoice_line_update(
                actor=actor, line_id=line.pk, data=form.service_data(), expected_version=form.expected_version
            ),
        )
        if saved:
            return _line_done(request, invoice.pk, _("Line “%(d)s” saved.") % {"d": saved.description})
    return _line_failed(request, invoice, line_form=form)


@require_POST
@actor_required
def line_remove(request, pk):
    actor = request.actor
    line, invoice = _line(request, pk)
    require(actor, MANAGE)
    if frozen := _issued_already(request, invoice):
        return frozen
    try:
        services.invoice_line_remove(actor=actor, line_id=line.pk, expected_version=_posted_version(request))
    except DomainError as exc:
        if request.htmx and exc.code not in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            return _body(request, invoice, error=exc.message)
        return _refused(request, exc, _detail_url(invoice, "lines"))
    return _line_done(request, invoice.pk, _("Line “%(d)s” removed.") % {"d": line.description})


@require_POST
@actor_required
def invoice_regenerate(request, pk):
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    try:
        services.invoice_regenerate(actor=actor, invoice_id=invoice.pk, expected_version=_posted_version(request))
    except DomainError as exc:
        return _refused(request, exc, _detail_url(invoice))
    messages.success(request, _("The work orders of this draft were priced again; manual lines stayed."))
    return redirect(_detail_url(invoice, "lines"))


@require_POST
@actor_required
def invoice_delete(request, pk):
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    try:
        services.invoice_delete(actor=actor, invoice_id=invoice.pk, expected_version=_posted_version(request))
    except DomainError as exc:
        return _refused(request, exc, _detail_url(invoice))
    messages.success(request, _("Draft deleted; its work waits to be invoiced again."))
    return redirect("billing-invoice-list")


@require_POST
@actor_required
def invoice_issue(request, pk):
    """Issue a draft: its number, its documents, frozen. A broken rule is shown on the issue form."""
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    if frozen := _issued_already(request, invoice):
        return frozen
    form = IssueForm(request.POST)
    if form.is_valid():
        issued = call_service(
            form,
            lambda: services.invoice_issue(
                actor=actor,
                invoice_id=invoice.pk,
                issue_date=form.cleaned_data.get("issue_date"),
                expected_version=form.cleaned_data.get("version"),
            ),
        )
        if issued:
            what = _("Credit note") if issued.document_type == DocumentType.CREDIT_NOTE else _("Invoice")
            messages.success(request, _("%(what)s %(number)s issued.") % {"what": what, "number": issued.number})
            return redirect(_detail_url(issued))
    return _detail_page(request, invoice, status=failed_status(request), issue_form=form)


# --- an issued invoice ------------------------------------------------------------------------


@require_POST
@actor_required
def invoice_send(request, pk):
    """E-mail the issued PDF and XML; a failing mail server is shown on the form (nothing recorded)."""
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    form = SendForm(request.POST, invoice=invoice)
    status = failed_status(request)
    if form.is_valid():
        try:
            sent = services.invoice_send(
                actor=actor,
                invoice_id=invoice.pk,
                to=form.cleaned_data["to"],
                message=form.cleaned_data["message"],
                xml_format=form.cleaned_data["xml_format"],
            )
        except sending.MailNotSentError as exc:  # the mail server's fault, not the input's
            form.add_error(None, exc.message)
            status = 503
        except DomainError as exc:
            if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
                raise
            add_domain_error(form, exc)
        else:
            messages.success(request, _("%(number)s sent to %(to)s.") % {"number": sent.number, "to": sent.sent_to})
            return redirect(_detail_url(sent))
    return _detail_page(request, invoice, status=status, send_form=form, open_dialog="send")


@require_POST
@actor_required
def payment_add(request, pk):
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    form = PaymentForm(request.POST, invoice=invoice, today=_today(actor))
    if form.is_valid():
        payment = call_service(
            form,
            lambda: services.payment_record(
                actor=actor,
                invoice_id=invoice.pk,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data.get("paid_on"),
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
            ),
        )
        if payment:
            messages.success(request, _("Payment recorded."))
            return redirect(_detail_url(invoice, "payments"))
    return _detail_page(request, invoice, status=failed_status(request), payment_form=form, open_dialog="payment")


@require_POST
@actor_required
def payment_delete(request, pk):
    actor = request.actor
    payment: Payment = selectors.invoice_payment_get(actor=actor, pk=pk)
    try:
        services.payment_delete(actor=actor, payment_id=payment.pk)
    except DomainError as exc:
        return _refused(request, exc, _detail_url(payment.invoice_id, "payments"))
    messages.success(request, _("Payment removed."))
    return redirect(_detail_url(payment.invoice_id, "payments"))


@actor_required
def credit_note_create(request, pk):
    """Choose the lines and quantities to credit and say why; the credit note is made as a draft."""
    actor = request.actor
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    require(actor, MANAGE)
    if invoice.document_type != DocumentType.INVOICE or invoice.status == InvoiceStatus.DRAFT:
        raise DomainError(ErrorCode.CONFLICT, _("Only an issued invoice can be credited."))
    lines = document_lines(selectors.invoice_lines(actor=actor, invoice=invoice))
    for number, line in enumerate(lines, 1):
        line.number = number
    left = selectors.credit_left(invoice=invoice)
    form = CreditNoteForm(request.POST if request.method == "POST" else None, invoice=invoice, lines=lines, left=left)
    if request.method == "POST" and form.is_valid():
        chosen = form.chosen()
        if not chosen:
            form.add_error(None, _("Tick at least one line to credit."))
        else:
            note = call_service(
                form,
                lambda: services.credit_note_create(
                    actor=actor, invoice_id=invoice.pk, reason=form.cleaned_data["reason"], lines=chosen
                ),
            )
            if note:
                messages.success(
                    request,
                    ngettext(
                        "Credit note drafted with %(n)d line: check it and issue it.",
                        "Credit note drafted with %(n)d lines: check it and issue it.",
                        len(chosen),
                    )
                    % {"n": len(chosen)},
                )
                return redirect(_detail_url(note))
    return render(
        request,
        "billing/invoices/credit_note_form.html",
        {"nav": NAV, "invoice": invoice, "form": form},
        status=failed_status(request) if request.method == "POST" else 200,
    )


urlpatterns = [
    path("invoices/", invoice_list, name="billing-invoice-list"),
    path("invoices/accounting-export/", accounting_export, name="billing-invoice-export"),
    path("invoices/closed-work/", closed_work, name="billing-invoice-closed-work"),
    path("invoices/<int:pk>/", invoice_detail, name="billing-invoice-detail"),
    path("invoices/<int:pk>/pdf/", invoice_pdf, name="billing-invoice-pdf"),
    path("invoices/<int:pk>/xml/", invoice_xml, name="billing-invoice-xml"),
    path("invoices/<int:pk>/edit/", invoice_update, name="billing-invoice-update"),
    path("invoices/<int:pk>/lines/add/", line_add, name="billing-invoice-line-add"),
    path("invoices/lines/<int:pk>/edit/", line_edit, name="billing-invoice-line-edit"),
    path("invoices/lines/<int:pk>/remove/", line_remove, name="billing-invoice-line-remove"),
    path("invoices/<int:pk>/regenerate/", invoice_regenerate, name="billing-invoice-regenerate"),
    path("invoices/<int:pk>/delete/", invoice_delete, name="billing-invoice-delete"),
    path("invoices/<int:pk>/issue/", invoice_issue, name="billing-invoice-issue"),
    path("invoices/<int:pk>/send/", invoice_send, name="billing-invoice-send"),
    path("invoices/<int:pk>/payments/add/", payment_add, name="billing-invoice-payment-add"),
    path("invoices/payments/<int:pk>/delete/", payment_delete, name="billing-invoice-payment-delete"),
    path("invoices/<int:pk>/credit-note/", credit_note_create, name="billing-invoice-credit-note"),
]
