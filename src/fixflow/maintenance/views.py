"""Pages for maintenance plans: list, form with a live preview, detail, pause/resume, generate now, delete.

Holders of ``maintenance.view`` (admins, dispatchers, technicians, accountants) read the plans;
``maintenance.manage`` (admins, dispatchers) creates, changes, pauses, generates and deletes them. Reads
come from :mod:`.selectors` and :mod:`.page_selectors`, writes go through :mod:`.services`; a refused
input is shown on the form next to the field it concerns, and a refused action as a message.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.permissions import require
from fixflow.web.forms import failed_status
from fixflow.web.helpers import actor_required

from . import page_selectors, selectors, services
from .choices import OccurrenceStatus
from .forms import PlanFilterForm, PlanForm

NAV = "maintenance"
PREVIEW_COUNT = 5


def _cursor(request) -> str | None:
    return request.GET.get("cursor") or None


def _refusal(exc: DomainError) -> None:
    """NOT_FOUND and PERMISSION_DENIED are not input errors: they become the 404 or 403 page."""
    if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
        raise exc


# --- the list --------------------------------------------------------------------------------------


@actor_required
def plan_list(request):
    actor = request.actor
    require(actor, "maintenance.view")
    filters = PlanFilterForm(request.GET, actor=actor)
    try:
        page = page_selectors.plan_page(actor=actor, filters=filters.values(), cursor=_cursor(request))
    except DomainError as exc:  # a stale cursor or an equipment id that is gone: start again unfiltered
        _refusal(exc)
        messages.warning(request, exc.message)
        return redirect("maintenance-plan-list")
    return render(
        request,
        "maintenance/plan_list.html",
        {
            "nav": NAV,
            "tab": "plans",
            "page": page,
            "rows": page_selectors.plan_rows(page.items),
            "filters": filters,
            "can_manage": actor.can("maintenance.manage"),
        },
    )


# --- the form and its live preview -----------------------------------------------------------------


def _preview(request, form: PlanForm) -> dict:
    """The preview of a plan form: its summary and next due dates, or what to fix first. Never raises for
    bad input: every problem becomes a line of the preview."""
    actor = request.actor
    if not form.is_valid():
        return {"problems": form.schedule_errors() or [("", _("Fill in the schedule to see the next dates."))]}
    data = form.preview_data()
    now = clock.now()
    today = form.today(now)
    try:
        dates = selectors.plan_preview(data=data, today=today, count=PREVIEW_COUNT, actor=actor)
        summary = selectors.plan_summary(form.summary_plan())
    except DomainError as exc:
        _refusal(exc)
        return {"problems": [(form.field_label(exc.field), exc.message)]}
    facts = page_selectors.preview_facts(
        actor=actor,
        equipment_id=data.get("equipment_id"),
        site_id=data.get("site_id"),
        category_id=data.get("category_id"),
        meter_name=data.get("meter_name") or "",
        meter_interval=data.get("meter_interval"),
    )
    lead = data.get("lead_days") or 0
    first_created = dates[0] - timedelta(days=lead) if dates else None
    return {
        "summary": summary,
        "dates": dates,
        "today": today,
        "lead_days": lead,
        "first_created": first_created,
        "created_at_once": first_created is not None and first_created <= today,
        "is_meter_only": not dates and bool(data.get("meter_name")) and data.get("mode") != "floating",
        "meter_name": data.get("meter_name") or "",
        "meter_start": data.get("meter_start"),
        "is_active": data.get("is_active"),
        "count": PREVIEW_COUNT,
        **facts,
    }


@actor_required
def plan_preview(request):
    """The summary and next five due dates of the plan form being edited (htmx on every change): nothing is
    saved. Always answers 200 (htmx swaps only those) with the dates or what to fix."""
    actor = request.actor
    require(actor, "maintenance.manage")
    data = request.POST if request.method == "POST" else request.GET
    plan = None
    if (plan_id := request.GET.get("plan") or "").isdigit():
        plan = services.plan_get(actor=actor, pk=plan_id)
    form = PlanForm(data, actor=actor, plan=plan, for_preview=True)
    return render(request, "maintenance/_plan_preview.html", {"preview": _preview(request, form)})


def _prefill(request) -> dict:
    """Initial values from the query string: ?equipment=, ?site=&category=, ?template=."""
    initial = {
        k: request.GET[k] for k in ("equipment", "site", "category", "template") if request.GET.get(k, "").isdigit()
    }
    if initial.get("category") and not initial.get("equipment"):
        initial["target_kind"] = "category"
    return initial


def _form_page(request, form: PlanForm, plan=None, *, status: int = 200, stale: bool = False):
    return render(
        request,
        "maintenance/plan_form.html",
        {
            "nav": NAV,
            "tab": "plans",
            "form": form,
            "plan": plan,
            "stale": stale,
            "preview": _preview(request, form) if form.is_bound else _initial_preview(request, form),
            "meter_names": page_selectors.meter_names(actor=request.actor),
        },
        status=status,
    )


def _initial_preview(request, form: PlanForm) -> dict:
    """The preview of an unbound form: the plan as saved (edit), or a hint (new)."""
    if form.plan is None:
        return {"problems": [("", _("Choose when the plan is due and its first due date to see the next dates."))]}
    bound = PlanForm(_as_post(form), actor=request.actor, plan=form.plan, for_preview=True)
    return _preview(request, bound)


def _as_post(form: PlanForm) -> QueryDict:
    """The data a browser would post for an unbound form (its initial values)."""
    data = QueryDict(mutable=True)
    for name in form.fields:
        value = form[name].value()
        if value in (None, "") or value is False:
            continue
        if isinstance(value, list | tuple):
            data.setlist(name, [str(v) for v in value])
        elif value is True:
            data[name] = "on"
        elif isinstance(value, time):
            data[name] = value.strftime("%H:%M")
        elif isinstance(value, date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    return data


@actor_required
def plan_create(request):
    actor = request.actor
    require(actor, "maintenance.manage")
    if request.method != "POST":
        return _form_page(request, PlanForm(actor=actor, initial=_prefill(request)))
    form = PlanForm(request.POST, actor=actor)
    if form.is_valid():
        try:
            plan = services.plan_create(actor=actor, data=form.service_data())
        except DomainError as exc:
            _refusal(exc)
            form.add_service_error(exc)
        else:
            messages.success(request, _("Plan %(name)s created.") % {"name": plan.name})
            return redirect("maintenance-plan-detail", plan.pk)
    return _form_page(request, form, status=failed_status(request))


@actor_required
def plan_edit(request, pk):
    actor = request.actor
    plan = services.plan_get(actor=actor, pk=pk)
    require(actor, "maintenance.manage")
    if request.method != "POST":
        return _form_page(request, PlanForm(actor=actor, plan=plan), plan)
    form = PlanForm(request.POST, actor=actor, plan=plan)
    stale = False
    if form.is_valid():
        try:
            saved = services.plan_update(
                actor=actor, plan_id=plan.pk, data=form.service_data(), expected_version=form.expected_version
            )
        except DomainError as exc:
            _refusal(exc)
            if exc.code == ErrorCode.STALE_VERSION:
                stale = True
                plan = services.plan_get(actor=actor, pk=pk)
                form = _stale_form(request, plan)
            else:
                form.add_service_error(exc)
        else:
            if saved.version == plan.version:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(request, _("Changes to %(name)s saved.") % {"name": saved.name})
            return redirect("maintenance-plan-detail", saved.pk)
    return _form_page(request, form, plan, status=failed_status(request), stale=stale)


def _stale_form(request, plan) -> PlanForm:
    """The form again with the user's input kept, now based on the current version of the plan: the
    message says someone else saved in between; saving again replaces their changes with these."""
    data = request.POST.copy()
    data["version"] = str(plan.version)
    form = PlanForm(data, actor=request.actor, plan=plan)
    form.is_valid()
    form.add_error(
        None,
        _(
            "Someone else saved this plan while you were editing it. Your changes are not saved yet: they are "
            "still in the form below. Open the current plan in a new tab to compare; saving again replaces "
            "their changes with yours."
        ),
    )
    return form


# --- the detail page and its actions ---------------------------------------------------------------


@actor_required
def plan_detail(request, pk):
    actor = request.actor
    plan = services.plan_get(actor=actor, pk=pk)
    status = request.GET.get("status") or ""
    if status not in OccurrenceStatus.values:
        status = ""
    occurrences = selectors.occurrence_list(
        actor=actor, plan_id=plan.pk, status=status or None, cursor=_cursor(request), limit=25
    )
    targets, target_total = page_selectors.plan_targets(actor=actor, plan=plan)
    return render(
        request,
        "maintenance/plan_detail.html",
        {
            "nav": NAV,
            "tab": "plans",
            "plan": plan,
            "summary": selectors.plan_summary(plan),
            "next_due": selectors.plan_next_due(plan=plan),
            "targets": targets,
            "target_total": target_total,
            "occurrences": occurrences,
            "status": status,
            "status_choices": OccurrenceStatus.choices,
            "can_manage": actor.can("maintenance.manage"),
        },
    )


def _managed_plan(request, pk):
    """The plan to act on: 404 outside the actor's scope, then 403 without ``maintenance.manage``."""
    plan = services.plan_get(actor=request.actor, pk=pk)
    require(request.actor, "maintenance.manage")
    return plan


def _set_active(request, pk, active: bool):
    plan = _managed_plan(request, pk)
    services.plan_set_active(actor=request.actor, plan_id=plan.pk, active=active)
    if active:
        messages.success(
            request,
            _("%(name)s resumed. Occurrences that fell due while it was paused are not made up for.")
            % {"name": plan.name},
        )
    else:
        messages.success(request, _("%(name)s paused: it creates no work orders until resumed.") % {"name": plan.name})
    return redirect("maintenance-plan-detail", plan.pk)


@require_POST
@actor_required
def plan_pause(request, pk):
    return _set_active(request, pk, False)


@require_POST
@actor_required
def plan_resume(request, pk):
    return _set_active(request, pk, True)


@require_POST
@actor_required
def plan_generate(request, pk):
    """Generate now what is due for this plan (its creation day — due date minus lead days — reached)."""
    actor = request.actor
    plan = _managed_plan(request, pk)
    try:
        stats = services.plan_generate(actor=actor, plan_id=plan.pk)
    except DomainError as exc:
        _refusal(exc)
        messages.error(request, exc.message)
        return redirect("maintenance-plan-detail", plan.pk)
    text = ngettext("%(n)d work order created", "%(n)d work orders created", stats.work_orders) % {
        "n": stats.work_orders
    }
    text += ", " + ngettext("%(n)d skipped", "%(n)d skipped", stats.skipped) % {"n": stats.skipped}
    if stats.missed:
        text += ", " + ngettext("%(n)d missed", "%(n)d missed", stats.missed) % {"n": stats.missed}
    if stats.replaced:
        text += ", " + ngettext(
            "%(n)d open one cancelled and replaced", "%(n)d open ones cancelled and replaced", stats.replaced
        ) % {"n": stats.replaced}
    text += "."
    if not stats.work_orders and not stats.skipped and not stats.missed:
        upcoming = page_selectors.plan_next_upcoming(actor=actor, plan=plan)
        if upcoming is not None:
            created = upcoming - timedelta(days=plan.lead_days)
            text += " " + _(
                "Nothing is due yet: the next one is due on %(due)s and its work order is created %(lead)s ahead, "
                "on %(created)s."
            ) % {
                "due": upcoming.strftime("%a %-d %b %Y"),
                "lead": ngettext("%(n)d day", "%(n)d days", plan.lead_days) % {"n": plan.lead_days},
                "created": created.strftime("%a %-d %b %Y"),
            }
        elif plan.has_meter_trigger:
            text += " " + _("Nothing is due yet: the meter has not reached the next due value.")
    if stats.errors:
        messages.error(
            request, _("Some equipment could not be generated: %(errors)s") % {"errors": "; ".join(stats.errors)}
        )
    messages.success(request, text)
    return redirect("maintenance-plan-detail", plan.pk)


@require_POST
@actor_required
def plan_delete(request, pk):
    actor = request.actor
    plan = _managed_plan(request, pk)
    try:
        services.plan_delete(actor=actor, plan_id=plan.pk)
    except DomainError as exc:
        _refusal(exc)
        messages.error(request, exc.message)
        return redirect("maintenance-plan-detail", plan.pk)
    messages.success(request, _("Plan %(name)s deleted.") % {"name": plan.name})
    return redirect(reverse("maintenance-plan-list"))


urlpatterns = [
    path("maintenance/plans/", plan_list, name="maintenance-plan-list"),
    path("maintenance/plans/new/", plan_create, name="maintenance-plan-create"),
    path("maintenance/plans/preview/", plan_preview, name="maintenance-plan-preview"),
    path("maintenance/plans/<int:pk>/", plan_detail, name="maintenance-plan-detail"),
    path("maintenance/plans/<int:pk>/edit/", plan_edit, name="maintenance-plan-edit"),
    path("maintenance/plans/<int:pk>/pause/", plan_pause, name="maintenance-plan-pause"),
    path("maintenance/plans/<int:pk>/resume/", plan_resume, name="maintenance-plan-resume"),
    path("maintenance/plans/<int:pk>/generate/", plan_generate, name="maintenance-plan-generate"),
    path("maintenance/plans/<int:pk>/delete/", plan_delete, name="maintenance-plan-delete"),
]
