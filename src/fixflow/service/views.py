"""Work request and work order pages: parse with a form, call one service, redirect with a message.

A refused action (``DomainError``) is shown on the form it came from, with the input kept (422); a
refused actor is not an input error: PERMISSION_DENIED becomes the 403 page. Selectors raise NOT_FOUND
for anything outside the actor's scope; the page middleware makes that a 404. Sub-actions of the work
order page answer htmx requests with the page sections that changed (out-of-band swaps) and fall back
to a redirect (or the whole page with the error) without htmx.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.files import StoredFileResponse
from fixflow.sla import selectors as sla_selectors
from fixflow.web.helpers import actor_required, add_domain_error

from . import forms, lifecycle, selectors, services
from .choices import (
    ACTIVE_STATUSES,
    BillingStatus,
    ChecklistKind,
    EventKind,
    HoldReason,
    RequestStatus,
    Status,
    TimeKind,
)

# ---------------------------------------------------------------------------------------------
# small helpers


def _maybe_url(name: str, *args) -> str | None:
    """A link to a page another part of the app provides, or None when it is not there (yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _qty(value) -> str:
    """A quantity without trailing zeros: 2, 1.5, 0.25."""
    text = format(Decimal(value).normalize(), "f")
    return text


def _list_response(request, template: str, context: dict):
    """Render a list page; an htmx filter request gets a tidy address (no empty parameters) in the history."""
    response = render(request, template, context)
    if request.htmx:
        params = [(k, v) for k, values in request.GET.lists() for v in values if v]
        response["HX-Push-Url"] = request.path + (f"?{urlencode(params)}" if params else "")
    return response


def _cursor_page(fetch, request):
    """Call a list selector with the request's cursor; a broken cursor starts again from the first page."""
    try:
        return fetch(request.GET.get("cursor") or None)
    except DomainError as exc:
        if exc.field != "cursor":
            raise
        messages.warning(request, exc.message)
        return fetch(None)


def _raise_refusal(exc: DomainError) -> None:
    """NOT_FOUND and PERMISSION_DENIED are not input errors: they propagate and become the 404 or 403 page
    (see ``web.middleware``), as on the other pages (``web.forms.call_service``)."""
    if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
        raise exc


def _form_error(form, exc: DomainError) -> None:
    """A refused input shown on its form (``add_domain_error``); a refused actor gets the 403 / 404 page."""
    _raise_refusal(exc)
    add_domain_error(form, exc)


def _add_error(form, exc: DomainError) -> None:
    """Like ``add_domain_error``, but lists every unmet guard of a refused transition on its own line."""
    unmet = exc.details.get("unmet") if exc.details else None
    if not form.is_bound or not hasattr(form, "cleaned_data"):
        form.is_valid()
    if unmet:
        for problem in unmet:
            field = problem.get("field")
            form.add_error(field if field in form.fields else None, problem["message"])
    else:
        add_domain_error(form, exc)


# ---------------------------------------------------------------------------------------------
# work requests


@actor_required
def work_request_list(request):
    actor = request.actor
    form = forms.WorkRequestFilterForm(request.GET, actor=actor)
    filters = form.filters()
    page = _cursor_page(
        lambda cursor: selectors.work_request_list(actor=actor, filters=filters, cursor=cursor), request
    )
    return _list_response(
        request,
        "service/work_request_list.html",
        {
            "nav": "requests",
            "form": form,
            "page": page,
            "filtered": bool(filters),
        },
    )


@actor_required
def work_request_create(request):
    actor = request.actor
    if request.method == "POST":
        form = forms.WorkRequestForm(request.POST, request.FILES, actor=actor)
        if form.is_valid():
            try:
                with transaction.atomic():  # the request and its files are saved together or not at all
                    req = services.work_request_create(actor=actor, **form.service_kwargs())
                    for upload in form.cleaned_data["file"]:
                        services.attachment_add(actor=actor, upload=upload, work_request_id=req.pk)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"Request {req.reference} sent. We will get back to you.")
                return redirect("work_request_detail", req.pk)
        status = 422
    else:
        initial = {k: request.GET[k] for k in ("client", "site", "equipment") if request.GET.get(k)}
        form = forms.WorkRequestForm(initial=initial, actor=actor)
        status = 200
    return render(request, "service/work_request_form.html", {"nav": "requests", "form": form}, status=status)


def _request_page(request, req, *, status=200, **bound):
    actor = request.actor
    can_triage = actor.can("requests.triage") and req.status == RequestStatus.NEW
    context = {
        "nav": "requests",
        "req": req,
        "can_triage": can_triage,
        "work_order": selectors.work_order_queryset(actor=actor).filter(request=req).first(),
        "links": {
            "client": _maybe_url("client_detail", req.client_id),
            "site": _maybe_url("site_detail", req.site_id),
            "equipment": _maybe_url("equipment_detail", req.equipment_id) if req.equipment_id else None,
        },
    }
    if can_triage:
        context["convert_form"] = bound.get("convert_form") or forms.ConvertForm(actor=actor, work_request=req)
        context["reject_form"] = bound.get("reject_form") or forms.RejectForm()
        context["duplicate_form"] = bound.get("duplicate_form") or forms.DuplicateForm(actor=actor, work_request=req)
        context["open_form"] = next((k for k in ("convert_form", "reject_form", "duplicate_form") if k in bound), "")
    else:  # the request was decided meanwhile: no form to show the refusal on
        for form in bound.values():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
    return render(request, "service/work_request_detail.html", context, status=status)


@actor_required
def work_request_detail(request, pk):
    return _request_page(request, selectors.work_request_get(actor=request.actor, pk=pk))


@actor_required
@require_POST
def work_request_convert(request, pk):
    actor = request.actor
    req = selectors.work_request_get(actor=actor, pk=pk)
    form = forms.ConvertForm(request.POST, actor=actor, work_request=req)
    if form.is_valid():
        try:
            wo = services.work_request_convert(actor=actor, request_id=req.pk, **form.service_kwargs())
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Work order {wo.number} created from {req.reference}.")
            return redirect("work_order_detail", wo.pk)
    return _request_page(request, req, status=422, convert_form=form)


@actor_required
@require_POST
def work_request_reject(request, pk):
    actor = request.actor
    req = selectors.work_request_get(actor=actor, pk=pk)
    form = forms.RejectForm(request.POST)
    if form.is_valid():
        try:
            services.work_request_reject(actor=actor, request_id=req.pk, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{req.reference} rejected.")
            return redirect("work_request_detail", req.pk)
    return _request_page(request, req, status=422, reject_form=form)


@actor_required
@require_POST
def work_request_duplicate(request, pk):
    actor = request.actor
    req = selectors.work_request_get(actor=actor, pk=pk)
    form = forms.DuplicateForm(request.POST, actor=actor, work_request=req)
    if form.is_valid():
        try:
            services.work_request_mark_duplicate(
                actor=actor, request_id=req.pk, duplicate_of_id=form.cleaned_data["duplicate_of"]
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{req.reference} marked as a duplicate.")
            return redirect("work_request_detail", req.pk)
    return _request_page(request, req, status=422, duplicate_form=form)


# ---------------------------------------------------------------------------------------------
# work orders: list, create, edit


@actor_required
def work_order_list(request):
    actor = request.actor
    form = forms.WorkOrderFilterForm(request.GET, actor=actor)
    filters, sort = form.filters(), form.sort_key()
    page = _cursor_page(
        lambda cursor: selectors.work_order_list(actor=actor, filters=filters, sort=sort, cursor=cursor), request
    )
    now = clock.now()
    for wo in page.items:
        wo.is_overdue = wo.status in (Status.NEW, Status.PLANNED) and bool(wo.scheduled_end) and wo.scheduled_end < now
    sla_selectors.attach_sla_remaining(page.items, now=now)
    is_staff = actor.can("notes.internal")
    current = request.GET.copy()
    current.pop("cursor", None)
    quick = [
        {"label": label, "query": query, "active": current.urlencode() == query}
        for label, query, staff_only in QUICK_FILTERS
        if is_staff or not staff_only
    ]
    return _list_response(
        request,
        "service/work_order_list.html",
        {
            "nav": "work_orders",
            "form": form,
            "page": page,
            "sort": sort,
            "filtered": bool(filters),
            "can_create": actor.can("work_orders.create"),
            "is_staff": is_staff,
            "quick": quick,
        },
    )


_OPEN = "status=new&status=planned&status=in_progress&status=on_hold"
QUICK_FILTERS = [  # label, query string, only for staff
    ("All", "", False),
    ("Open", _OPEN, False),
    ("Mine", f"technician=me&{_OPEN}", True),
    ("Unassigned", "status=new&unassigned=on", True),
    ("Overdue", "overdue=on", False),
    ("SLA at risk", f"sla_state=at_risk&sla_state=breached&{_OPEN}&sort=sla_due", True),
    ("To review", "status=completed", False),
    ("Closed", "status=closed", False),
]


@actor_required
def work_order_create(request):
    actor = request.actor
    if not actor.can("work_orders.create"):
        raise PermissionDenied("Your role may not create work orders; send a request instead.")
    if request.method == "POST":
        form = forms.WorkOrderForm(request.POST, actor=actor)
        if form.is_valid():
            try:
                wo = services.work_order_create(actor=actor, **form.service_kwargs())
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"Work order {wo.number} created.")
                return redirect("work_order_detail", wo.pk)
        status = 422
    else:
        initial = {k: request.GET[k] for k in ("client", "site", "equipment", "template") if request.GET.get(k)}
        form = forms.WorkOrderForm(initial=initial, actor=actor)
        status = 200
    return render(request, "service/work_order_form.html", {"nav": "work_orders", "form": form}, status=status)


@actor_required
def work_order_edit(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    if not actor.can("work_orders.plan"):
        raise PermissionDenied("Your role may not edit work orders.")
    stale = False
    if request.method == "POST":
        form = forms.WorkOrderEditForm(request.POST, actor=actor, work_order=wo)
        if form.is_valid():
            try:
                services.work_order_update(
                    actor=actor, work_order_id=wo.pk, data=form.changes(), expected_version=form.cleaned_data["version"]
                )
            except DomainError as exc:
                stale = exc.code == ErrorCode.STALE_VERSION
                _form_error(form, exc)
            else:
                messages.success(request, "Saved." if form.changes() else "Nothing was changed.")
                return redirect("work_order_detail", wo.pk)
        status = 422
    else:
        form = forms.WorkOrderEditForm(actor=actor, work_order=wo)
        status = 200
    return render(
        request,
        "service/work_order_edit.html",
        {"nav": "work_orders", "wo": wo, "form": form, "stale": stale},
        status=status,
    )


# ---------------------------------------------------------------------------------------------
# the work order page

TRANSITION_UI = {
    # name: (button label, button style, what the form asks for)
    "plan": ("Mark as planned", "btn-primary", ()),
    "unplan": ("Back to new (unassign)", "", ()),
    "start": ("Start work", "btn-primary", ()),
    "hold": ("Put on hold", "", ("hold_reason", "reason")),
    "resume": ("Resume work", "btn-primary", ()),
    "complete": ("Complete", "btn-primary", ("resolution_notes",)),
    "reopen": ("Reopen", "", ("reason",)),
    "close": ("Close (accept the work)", "btn-primary", ()),
    "cancel": ("Cancel work order", "btn-danger", ("reason",)),
}
REASON_LABELS = {"hold": "Note (optional)", "reopen": "Why reopen it?", "cancel": "Why cancel it?"}
# rarer transitions with inputs stay folded behind their button until clicked
FOLDED_TRANSITIONS = {"hold", "reopen", "cancel"}
# where the user fixes what blocks a transition
PROBLEM_ANCHORS = {"checklist": "#wo-checklist", "signature": "#wo-signature"}


def _transition_options(actor, wo, facts, bound):
    result = []
    for opt in lifecycle.options(facts):
        t = opt.transition
        label, style, asks = TRANSITION_UI.get(t.name, (t.name.title(), "", ()))
        if bound is not None and bound.data.get("to") == t.target:
            form = bound
            form.auto_id = f"tr-{t.name}-%s"
        else:
            form = forms.TransitionForm(
                initial={"to": t.target, "resolution_notes": wo.resolution_notes},
                auto_id=f"tr-{t.name}-%s",
            )
        fixable = {p.field for p in opt.problems} <= set(asks)
        problems = [
            {
                "message": p.message,
                "anchor": PROBLEM_ANCHORS.get(p.field or ""),
                "edit": p.field in ("lead_technician", "scheduled_start") and actor.can("work_orders.plan"),
            }
            for p in opt.problems
            if p.field not in asks
        ]
        if "reason" in asks:
            form.fields["reason"].label = REASON_LABELS.get(t.name, "Reason")
            form.fields["reason"].required = t.reason_required
        result.append(
            {
                "name": t.name,
                "target": t.target,
                "label": label,
                "style": style,
                "asks": asks,
                "form": form,
                "problems": problems,
                "blocked": not fixable,
                "folded": t.name in FOLDED_TRANSITIONS,
                "confirm": "Cancel this work order?" if t.name == "cancel" else "",
            }
        )
    return result


def _event_text(e, tz: str) -> str:  # noqa: PLR0911 - one branch per kind of event reads best
    d = e.data or {}

    def when(iso):
        if not iso:
            return "none"
        from datetime import datetime

        return datetime.fromisoformat(iso).astimezone(zoneinfo.ZoneInfo(tz)).strftime("%a %-d %b %Y %H:%M")

    match e.kind:
        case EventKind.CREATED:
            parts = []
            if d.get("from_request"):
                parts.append(f"from request REQ-{d['from_request']}")
            if d.get("template"):
                parts.append(f"from the template {d['template']}")
            if d.get("follow_up_of"):
                parts.append(f"as a follow-up of {d['follow_up_of']}")
            return ", ".join(parts)
        case EventKind.TRANSITION:
            hold = d.get("hold_reason")
            return HoldReason(hold).label if hold in HoldReason.values else ""
        case EventKind.UPDATED:
            names = []
            for name, (old, new) in d.items():
                label = name.removesuffix("_id").replace("_", " ")
                if isinstance(new, str) and len(new) > 40 or name.endswith("_id") or name == "description":
                    names.append(label)
                else:
                    names.append(f"{label}: {old if old not in ('', None) else '–'} → {new}")
            return "; ".join(names)
        case EventKind.ASSIGNED:
            parts = []
            if "lead_technician" in d:
                old, new = d["lead_technician"]
                parts.append(f"lead technician: {old or 'nobody'} → {new or 'nobody'}")
            if "helpers" in d:
                parts.append(f"helpers: {', '.join(d['helpers']) or 'none'}")
            return "; ".join(parts)
        case EventKind.SCHEDULED:
            return "; ".join(f"{name.replace('_', ' ')}: {when(new)}" for name, (_old, new) in d.items())
        case EventKind.CHECKLIST:
            value = d.get("value") or "cleared"
            return f"“{d.get('item', '')}”: {value}"
        case EventKind.TIME:
            if d.get("timer") == "started":
                return "Timer started"
            if d.get("timer") == "stopped":
                return f"Timer stopped after {d.get('minutes', 0)} min"
            kind = TimeKind(d["kind"]).label.lower() if d.get("kind") in TimeKind.values else ""
            return f"{d.get('minutes', 0)} min {kind} for {d.get('technician', '')}".strip()
        case EventKind.TIME_REMOVED:
            return f"{d.get('minutes') or 0} min of {d.get('technician', '')} removed"
        case EventKind.PART | EventKind.PART_REMOVED:
            return f"{d.get('quantity', '')} × {d.get('part', '')}"
        case EventKind.MATERIAL:
            if "added" in d:
                return f"planned {d.get('quantity', '')} × {d['added']}"
            return f"removed {d.get('quantity', '')} × {d.get('removed', '')} from the plan"
        case EventKind.NOTE:
            return "visible to the client" if d.get("client_visible") else "internal"
        case EventKind.ATTACHMENT:
            return d.get("name", "")
        case EventKind.SIGNATURE:
            return f"signed by {d.get('signed_by', '')}"
        case EventKind.BILLING:
            labels = dict(BillingStatus.choices)
            return f"{labels.get(d.get('from'), d.get('from'))} → {labels.get(d.get('to'), d.get('to'))}"
        case EventKind.FOLLOW_UP:
            return f"follow-up {d.get('follow_up', '')} created"
    return ""


def _detail_context(request, wo, *, transition_form=None, **bound) -> dict:
    """Everything the work order page and its sections show, for this actor."""
    actor = request.actor
    facts = services.work_order_facts(actor, wo)
    is_staff = actor.can("notes.internal")
    editable = wo.status not in (Status.CLOSED, Status.CANCELLED) and wo.billing_status != BillingStatus.INVOICED
    can_record = (
        actor.can("work_orders.record")
        and (actor.can("work_orders.record_any") or facts.actor_is_assigned)
        and editable
    )
    can_plan = actor.can("work_orders.plan") and editable
    my_timer = next((e for e in wo.time_entries.all() if e.is_running and e.technician_id == actor.user_id), None)
    tz = wo.site.timezone
    events = selectors.work_order_timeline(actor=actor, work_order=wo)
    for e in events:
        e.text = _event_text(e, tz)
    events.reverse()
    for usage in wo.part_usages.all():
        usage.quantity_display = _qty(usage.quantity)
    materials = selectors.work_order_materials(work_order=wo) if is_staff else []
    for row in materials:
        row.update(
            planned_display=_qty(row["planned"]), used_display=_qty(row["used"]), missing_display=_qty(row["missing"])
        )
    now_local = forms.site_local(clock.now(), tz)
    item_errors = bound.get("item_errors", {})
    checklist = list(wo.checklist.all())
    prefetch_related_objects(checklist, "answered_by")
    prefetch_related_objects(list(wo.part_usages.all()), "created_by")
    for item in checklist:
        error = item_errors.get(item.pk)
        item.error = error["message"] if error else ""
        item.shown_value = error["value"] if error else item.value
    start, end = forms.site_local(wo.scheduled_start, tz), forms.site_local(wo.scheduled_end, tz)
    same_day = start and end and start.date() == end.date()
    sla = sla_selectors.work_order_sla(actor=actor, work_order=wo)
    if sla is not None:  # the head badge: the exact business time to the summary's due instant
        wo.sla_remaining = next(
            (s.remaining_minutes for s in sla.statuses if s.due_at and s.due_at == wo.sla_due_at), None
        )
    context = {
        "sla": sla,
        "can_recalculate_sla": sla is not None and actor.can("sla.recalculate") and wo.status in ACTIVE_STATUSES,
        "nav": "work_orders",
        "wo": wo,
        "tz": tz,
        "is_staff": is_staff,
        "scheduled_end_text": end.strftime("%H:%M" if same_day else "%a %-d %b %Y %H:%M") if end else "",
        "show_costs": actor.can("work_orders.costs"),
        "options": _transition_options(actor, wo, facts, transition_form),
        "can_edit": actor.can("work_orders.plan") and wo.status not in (Status.CLOSED, Status.CANCELLED),
        "can_record": can_record,
        "can_plan": can_plan,
        "can_note": actor.role in ("client_user", "requester", "accountant")
        or (actor.can("work_orders.record") and (actor.can("work_orders.record_any") or facts.actor_is_assigned)),
        "can_attach": editable and (can_record or actor.role in ("client_user", "requester", "accountant")),
        "can_sign": can_record and wo.status in (Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED),
        "can_bill": actor.can("work_orders.billing") and wo.is_billable,
        "can_follow_up": actor.can("work_orders.create") and wo.status in (Status.COMPLETED, Status.CLOSED),
        "is_assigned": facts.actor_is_assigned,
        "my_timer": my_timer,
        "timer_allowed": can_record and wo.status in (Status.NEW, Status.PLANNED, Status.IN_PROGRESS),
        "checklist": checklist,
        "checklist_done": sum(1 for i in checklist if i.is_answered),
        "time_kinds": TimeKind.choices,
        "can_record_any": actor.can("work_orders.record_any"),
        "request_link": reverse("work_request_detail", args=[wo.request_id])
        if wo.request_id and selectors.work_request_queryset(actor=actor).filter(pk=wo.request_id).exists()
        else None,
        "totals": selectors.work_order_totals(work_order=wo) if is_staff else None,
        "materials": materials,
        "events": events,
        "links": {
            "client": _maybe_url("client_detail", wo.client_id),
            "site": _maybe_url("site_detail", wo.site_id),
            "equipment": _maybe_url("equipment_detail", wo.equipment_id) if wo.equipment_id else None,
        },
        "time_form": bound.get("time_form")
        or forms.TimeEntryForm(
            actor=actor, work_order=wo, initial={"started_at": now_local - timedelta(hours=1)}, auto_id="time-%s"
        ),
        "part_form": bound.get("part_form") or forms.PartForm(actor=actor, auto_id="part-%s"),
        "material_form": bound.get("material_form") or forms.PartForm(actor=actor, auto_id="material-%s"),
        "note_form": bound.get("note_form") or forms.NoteForm(actor=actor, auto_id="note-%s"),
        "attachment_form": bound.get("attachment_form") or forms.AttachmentForm(actor=actor, auto_id="att-%s"),
        "signature_form": bound.get("signature_form") or forms.SignatureForm(auto_id="sig-%s"),
        "billing_form": bound.get("billing_form") or forms.BillingForm(auto_id="bill-%s"),
        "follow_up_form": bound.get("follow_up_form") or forms.FollowUpForm(auto_id="fu-%s"),
    }
    return context


def _detail_page(request, wo, *, status=200, **bound):
    return render(request, "service/work_order_detail.html", _detail_context(request, wo, **bound), status=status)


def _sections(request, wo, names, *, status=200, extra=None, **bound):
    """The named sections of the work order page, as htmx out-of-band swaps."""
    context = _detail_context(request, wo, **bound)
    context.update(extra or {}, oob=True, sections=names)
    if "item_pk" in context:
        context["item"] = next(i for i in context["checklist"] if i.pk == context["item_pk"])
    return HttpResponse(render_to_string("service/work_order/_sections.html", context, request=request), status=status)


def _done(request, pk, message: str, names, anchor: str = ""):
    if request.htmx:
        # Every sub-action bumps the work order's version: refresh the "Next step" forms too, or their
        # hidden version goes stale and the next transition is refused as "changed by someone else".
        names = names if "actions" in names else [*names, "actions"]
        return _sections(request, selectors.work_order_get(actor=request.actor, pk=pk), names)
    messages.success(request, message)
    return redirect(reverse("work_order_detail", args=[pk]) + (f"#{anchor}" if anchor else ""))


def _failed(request, wo, names, **bound):
    if request.htmx:
        return _sections(request, wo, names, status=422, **bound)
    return _detail_page(request, wo, status=422, **bound)


@actor_required
def work_order_detail(request, pk):
    return _detail_page(request, selectors.work_order_get(actor=request.actor, pk=pk))


def _may_move(actor, wo) -> bool:
    """Whether the lifecycle lets the actor take any transition on this work order (office roles, its assigned
    technicians). A transition refused to such an actor is shown on the page (422); anyone else gets 403."""
    facts = services.work_order_facts(actor, wo)
    return any(lifecycle.may_take(t, facts) for t in lifecycle.TRANSITIONS)


@actor_required
@require_POST
def work_order_transition(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.TransitionForm(request.POST)
    if form.is_valid():
        try:
            wo = services.work_order_transition(actor=actor, work_order_id=wo.pk, **form.service_kwargs())
        except DomainError as exc:
            if exc.code == ErrorCode.NOT_FOUND or (
                exc.code == ErrorCode.PERMISSION_DENIED and not _may_move(actor, wo)
            ):
                raise
            _add_error(form, exc)
        else:
            messages.success(request, f"{wo.number} is now {wo.get_status_display().lower()}.")
            return redirect("work_order_detail", wo.pk)
    offered = {opt.transition.target for opt in lifecycle.options(services.work_order_facts(actor, wo))}
    if form.data.get("to") not in offered:  # no button on the page to show the error next to
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return _detail_page(request, wo, status=422, transition_form=form)


@actor_required
@require_POST
def work_order_checklist_answer(request, pk, item_pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    item = next((i for i in wo.checklist.all() if i.pk == item_pk), None)
    if item is None:
        raise Http404("Checklist item not found.")
    data = request.POST.copy()
    value = data.get("value", "")
    if item.kind == ChecklistKind.NUMBER and value.count(",") == 1 and "." not in value:
        data["value"] = value.replace(",", ".")  # a decimal comma, as typed in much of Europe
    form = forms.ChecklistAnswerForm(data)
    try:
        if not form.is_valid():
            raise DomainError(ErrorCode.VALIDATION, " ".join(form.errors.get("value", [])), field="value")
        services.checklist_answer(actor=actor, work_order_id=wo.pk, item_id=item.pk, value=form.cleaned_data["value"])
    except DomainError as exc:
        _raise_refusal(exc)
        errors = {item.pk: {"message": exc.message, "value": value}}
        if request.htmx:
            return _sections(
                request, wo, ["checklist_item", "actions"], status=422, extra={"item_pk": item.pk}, item_errors=errors
            )
        return _detail_page(request, wo, status=422, item_errors=errors)
    if request.htmx:
        fresh = selectors.work_order_get(actor=actor, pk=pk)
        return _sections(request, fresh, ["checklist_item", "actions", "timeline"], extra={"item_pk": item_pk})
    messages.success(request, f"“{item.label}” saved.")
    return redirect(reverse("work_order_detail", args=[pk]) + "#wo-checklist")


@actor_required
@require_POST
def work_order_time_add(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.TimeEntryForm(request.POST, actor=actor, work_order=wo, auto_id="time-%s")
    if form.is_valid():
        try:
            services.time_entry_create(actor=actor, work_order_id=wo.pk, **form.service_kwargs())
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _done(request, wo.pk, "Time recorded.", ["time", "timeline"], "wo-time")
    return _failed(request, wo, ["time"], time_form=form)


@actor_required
@require_POST
def work_order_time_delete(request, pk, entry_pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    if entry_pk not in {e.pk for e in wo.time_entries.all()}:
        raise Http404("Time entry not found.")
    try:
        services.time_entry_delete(actor=actor, time_entry_id=entry_pk)
    except DomainError as exc:
        return _refused(request, wo, exc, ["time"], "wo-time")
    return _done(request, wo.pk, "Time entry removed.", ["time", "timeline"], "wo-time")


def _refused(request, wo, exc: DomainError, names, anchor: str):
    """A refused action without a form of its own (a delete, the timer): the message goes on top."""
    _raise_refusal(exc)
    if request.htmx:
        return _sections(request, wo, names, status=422, extra={"section_error": exc.message})
    messages.error(request, exc.message)
    return redirect(reverse("work_order_detail", args=[wo.pk]) + f"#{anchor}")


@actor_required
@require_POST
def work_order_timer(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    try:
        if request.POST.get("action") == "stop":
            entry = services.timer_stop(actor=actor, work_order_id=wo.pk)
            message = f"Timer stopped: {entry.duration_minutes} min recorded."
        else:
            services.timer_start(actor=actor, work_order_id=wo.pk, kind=request.POST.get("kind") or TimeKind.LABOUR)
            message = "Timer started."
    except DomainError as exc:
        return _refused(request, wo, exc, ["time"], "wo-time")
    return _done(request, wo.pk, message, ["time", "timeline"], "wo-time")


@actor_required
@require_POST
def work_order_part_add(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.PartForm(request.POST, actor=actor, auto_id="part-%s")
    if form.is_valid():
        try:
            services.part_usage_create(actor=actor, work_order_id=wo.pk, **form.service_kwargs())
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _done(request, wo.pk, "Part recorded.", ["parts", "timeline"], "wo-parts")
    return _failed(request, wo, ["parts"], part_form=form)


@actor_required
@require_POST
def work_order_part_delete(request, pk, usage_pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    if usage_pk not in {u.pk for u in wo.part_usages.all()}:
        raise Http404("Part usage not found.")
    try:
        services.part_usage_delete(actor=actor, part_usage_id=usage_pk)
    except DomainError as exc:
        return _refused(request, wo, exc, ["parts"], "wo-parts")
    return _done(request, wo.pk, "Part removed.", ["parts", "timeline"], "wo-parts")


@actor_required
@require_POST
def work_order_material_add(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.PartForm(request.POST, actor=actor, auto_id="material-%s")
    if form.is_valid():
        try:
            services.planned_material_add(actor=actor, work_order_id=wo.pk, **form.service_kwargs())
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _done(request, wo.pk, "Material planned.", ["parts", "timeline"], "wo-parts")
    return _failed(request, wo, ["parts"], material_form=form)


@actor_required
@require_POST
def work_order_material_delete(request, pk, material_pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    if material_pk not in {m.pk for m in wo.planned_materials.all()}:
        raise Http404("Planned material not found.")
    try:
        services.planned_material_remove(actor=actor, planned_material_id=material_pk)
    except DomainError as exc:
        return _refused(request, wo, exc, ["parts"], "wo-parts")
    return _done(request, wo.pk, "Material removed from the plan.", ["parts", "timeline"], "wo-parts")


@actor_required
@require_POST
def work_order_note_add(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.NoteForm(request.POST, actor=actor, auto_id="note-%s")
    if form.is_valid():
        try:
            services.note_create(
                actor=actor,
                work_order_id=wo.pk,
                body=form.cleaned_data["body"],
                is_client_visible=form.cleaned_data.get("is_client_visible", True),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _done(request, wo.pk, "Note added.", ["notes", "timeline"], "wo-notes")
    return _failed(request, wo, ["notes"], note_form=form)


@actor_required
@require_POST
def work_order_attachment_add(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.AttachmentForm(request.POST, request.FILES, actor=actor, auto_id="att-%s")
    if form.is_valid():
        try:
            services.attachment_add(
                actor=actor,
                upload=form.cleaned_data["file"],
                work_order_id=wo.pk,
                caption=form.cleaned_data["caption"],
                is_client_visible=form.cleaned_data.get("is_client_visible"),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _done(request, wo.pk, "File attached.", ["attachments", "timeline"], "wo-attachments")
    return _failed(request, wo, ["attachments"], attachment_form=form)


@actor_required
@require_POST
def work_order_signature(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.SignatureForm(request.POST, auto_id="sig-%s")
    if form.is_valid():
        try:
            services.signature_capture(
                actor=actor,
                work_order_id=wo.pk,
                image_png=form.cleaned_data["signature"],
                signed_by_name=form.cleaned_data["signed_by_name"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _done(request, wo.pk, "Signature saved.", ["signature", "actions", "timeline"], "wo-signature")
    return _failed(request, wo, ["signature"], signature_form=form)


@actor_required
@require_POST
def work_order_billing(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.BillingForm(request.POST, auto_id="bill-%s")
    if form.is_valid():
        try:
            wo = services.work_order_set_billing(
                actor=actor,
                work_order_id=wo.pk,
                billing_status=form.cleaned_data["billing_status"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Billing: {wo.get_billing_status_display().lower()}.")
            return redirect(reverse("work_order_detail", args=[wo.pk]) + "#wo-billing")
    return _detail_page(request, wo, status=422, billing_form=form)


@actor_required
@require_POST
def work_order_follow_up(request, pk):
    actor = request.actor
    wo = selectors.work_order_get(actor=actor, pk=pk)
    form = forms.FollowUpForm(request.POST, auto_id="fu-%s")
    if form.is_valid():
        try:
            new = services.work_order_follow_up(actor=actor, work_order_id=wo.pk, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Follow-up {new.number} created.")
            return redirect("work_order_detail", new.pk)
    return _detail_page(request, wo, status=422, follow_up_form=form)


# ---------------------------------------------------------------------------------------------
# files: always through these permission-checked views, never from MEDIA_URL


def _private(response):
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


@actor_required
def attachment_download(request, pk):
    att = selectors.attachment_get(actor=request.actor, pk=pk)
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    inline = bool(request.GET.get("inline")) and att.is_image
    return _private(
        StoredFileResponse(handle, as_attachment=not inline, filename=att.original_name, content_type=att.content_type)
    )


@actor_required
def attachment_thumbnail(request, pk):
    att = selectors.attachment_get(actor=request.actor, pk=pk)
    if not att.thumbnail:
        raise Http404("No thumbnail.")
    try:
        handle = att.thumbnail.open("rb")
    except FileNotFoundError:
        raise Http404("The thumbnail is missing from storage.") from None
    return _private(StoredFileResponse(handle, content_type="image/jpeg"))


@actor_required
def work_order_signature_image(request, pk):
    wo = selectors.work_order_queryset(actor=request.actor).filter(pk=pk).first()
    if wo is None or not wo.signature:
        raise Http404("No signature.")
    try:
        handle = wo.signature.open("rb")
    except FileNotFoundError:
        raise Http404("The signature is missing from storage.") from None
    return _private(StoredFileResponse(handle, content_type="image/png", filename=f"{wo.number}-signature.png"))
