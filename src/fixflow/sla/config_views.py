"""Pages to configure SLAs: business calendars (week, holidays) and policies.

Everyone with ``sla.view`` (admins, dispatchers, accountants) reads the calendars and policies;
``sla.manage`` (admins) changes them; ``sla.recalculate`` (admins, dispatchers) re-applies the policies
to the open work orders. Reads come from :mod:`.config_selectors`, writes go through :mod:`.services`;
a refused input is shown on the form it came from.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from fixflow.core import clock as wall_clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.permissions import require
from fixflow.service.choices import Priority
from fixflow.web.forms import call_service, failed_status
from fixflow.web.helpers import actor_required

from . import config_selectors as selectors
from . import services
from .forms import (
    CalendarForm,
    HolidayForm,
    HolidayGenerateForm,
    HolidayImportForm,
    PolicyForm,
    country_for_timezone,
)
from .templatetags.sla_config_tags import week_picture

NAV = "settings"


def _posted(request):
    return request.POST if request.method == "POST" else None


# --- calendars -----------------------------------------------------------------------------------


@actor_required
def calendar_list(request):
    actor = request.actor
    calendars = selectors.calendar_list(actor=actor)
    return render(
        request,
        "sla/config/calendar_list.html",
        {"nav": NAV, "calendars": calendars, "can_manage": actor.can("sla.manage")},
    )


@actor_required
def calendar_detail(request, pk):
    """A calendar, read-only: the week picture, the holidays and the policies counting in it."""
    actor = request.actor
    cal = selectors.calendar_get(actor=actor, pk=pk)
    holidays = list(selectors.calendar_holidays(actor=actor, calendar=cal))
    return render(
        request,
        "sla/config/calendar_detail.html",
        {
            "nav": NAV,
            "calendar": cal,
            "holidays": holidays,
            "holiday_dates": [h.date for h in holidays],
            "policies": selectors.calendar_policies(actor=actor, calendar=cal),
            "can_manage": actor.can("sla.manage") and not cal.is_24x7,
        },
    )


@actor_required
def calendar_create(request):
    actor = request.actor
    require(actor, "sla.manage")
    form = CalendarForm(_posted(request), actor=actor)
    if request.method == "POST" and form.is_valid():
        cal = call_service(form, lambda: services.calendar_create(actor=actor, data=form.service_data()))
        if cal:
            messages.success(request, _("Calendar %(name)s created. Add its holidays below.") % {"name": cal.name})
            return redirect("sla-calendar-edit", cal.pk)
    status = failed_status(request) if request.method == "POST" else 200
    return render(
        request,
        "sla/config/calendar_form.html",
        {"nav": NAV, "form": form, "calendar": None, "pic_week": form.valid_week()},
        status=status,
    )


def _editable_calendar(request, pk):
    """The calendar to change: 404 outside the organization, then 403 without ``sla.manage``."""
    cal = selectors.calendar_get(actor=request.actor, pk=pk)
    require(request.actor, "sla.manage")
    return cal


def _calendar_edit_page(
    request, cal, *, form=None, holiday_form=None, import_form=None, generate_form=None, status=200
):
    actor = request.actor
    holidays = list(selectors.calendar_holidays(actor=actor, calendar=cal))
    form = form or CalendarForm(actor=actor, calendar=cal)
    local_year = wall_clock.now().astimezone(dj_timezone.get_current_timezone()).year
    context = {
        "nav": NAV,
        "calendar": cal,
        "form": form,
        "pic_week": form.valid_week(),
        "holidays": holidays,
        "holiday_dates": [h.date for h in holidays],
        "policies": selectors.calendar_policies(actor=actor, calendar=cal),
        "holiday_form": holiday_form or HolidayForm(prefix="holiday"),
        "import_form": import_form or HolidayImportForm(prefix="ics"),
        "generate_form": generate_form
        or HolidayGenerateForm(
            prefix="gen", initial={"country": country_for_timezone(cal.timezone), "year": local_year + 1}
        ),
    }
    return render(request, "sla/config/calendar_form.html", context, status=status)


@actor_required
def calendar_edit(request, pk):
    actor = request.actor
    cal = _editable_calendar(request, pk)
    if cal.is_24x7:
        messages.warning(request, _("The built-in 24×7 calendar counts every minute and cannot be changed."))
        return redirect("sla-calendar-detail", cal.pk)
    form = CalendarForm(_posted(request), actor=actor, calendar=cal)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            lambda: services.calendar_update(
                actor=actor, calendar_id=cal.pk, data=form.service_data(), expected_version=form.expected_version
            ),
        )
        if saved:
            messages.success(request, _("Working hours of %(name)s saved.") % {"name": saved.name})
            return redirect("sla-calendar-edit", saved.pk)
    status = failed_status(request) if request.method == "POST" else 200
    return _calendar_edit_page(request, cal, form=form, status=status)


@require_GET
@actor_required
def calendar_preview(request):
    """The week picture of a calendar form being edited (htmx, on every change): nothing is saved."""
    actor = request.actor
    require(actor, "sla.manage")
    form = CalendarForm(request.GET, actor=actor)
    tz = request.GET.get("timezone") or actor.organization.timezone
    return render(request, "sla/config/_week_svg.html", {"pic": week_picture(form.valid_week(), tz)})


@require_POST
@actor_required
def calendar_delete(request, pk):
    actor = request.actor
    cal = _editable_calendar(request, pk)
    try:
        services.calendar_delete(actor=actor, calendar_id=cal.pk)
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        messages.error(request, exc.message)
        return redirect("sla-calendar-edit" if not cal.is_24x7 else "sla-calendar-detail", cal.pk)
    messages.success(request, _("Calendar %(name)s deleted.") % {"name": cal.name})
    return redirect("sla-calendar-list")


# --- holidays (on the calendar's edit page) ------------------------------------------------------


def _holidays_url(cal) -> str:
    return reverse("sla-calendar-edit", args=[cal.pk]) + "#holidays"


def _holiday_action(request, pk, form_class, prefix: str, context_key: str, run):
    """Run one holiday form of the edit page; on success back to the holidays, else the page with its errors."""
    cal = _editable_calendar(request, pk)
    form = form_class(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        result = call_service(form, lambda: run(cal, form.cleaned_data))
        if result is not None:
            messages.success(request, result)
            return redirect(_holidays_url(cal))
    return _calendar_edit_page(request, cal, status=failed_status(request), **{context_key: form})


@require_POST
@actor_required
def holiday_add(request, pk):
    def run(cal, d):
        holiday = services.holiday_add(actor=request.actor, calendar_id=cal.pk, day=d["date"], name=d["name"])
        return _("%(date)s added as a holiday.") % {"date": holiday.date.isoformat()}

    return _holiday_action(request, pk, HolidayForm, "holiday", "holiday_form", run)


def _added(count: int) -> str:
    if count == 0:
        return _("No new holidays: every date was already in the calendar.")
    return ngettext("%(n)d holiday added.", "%(n)d holidays added.", count) % {"n": count}


@require_POST
@actor_required
def holiday_import(request, pk):
    def run(cal, d):
        return _added(services.holidays_import_ics(actor=request.actor, calendar_id=cal.pk, content=d["file"]))

    return _holiday_action(request, pk, HolidayImportForm, "ics", "import_form", run)


@require_POST
@actor_required
def holiday_generate(request, pk):
    def run(cal, d):
        count = services.holidays_generate(
            actor=request.actor, calendar_id=cal.pk, country=d["country"], year=d["year"], subdivision=d["subdivision"]
        )
        return _added(count)

    return _holiday_action(request, pk, HolidayGenerateForm, "gen", "generate_form", run)


@require_POST
@actor_required
def holiday_remove(request, pk):
    actor = request.actor
    holiday = selectors.holiday_get(actor=actor, pk=pk)
    require(actor, "sla.manage")
    services.holiday_remove(actor=actor, holiday_id=holiday.pk)
    messages.success(request, _("%(date)s is no longer a holiday.") % {"date": holiday.date.isoformat()})
    return redirect(_holidays_url(holiday.calendar))


# --- policies ------------------------------------------------------------------------------------


@actor_required
def policy_list(request):
    actor = request.actor
    policies = selectors.policy_list(actor=actor)
    movable = [p for p in policies if not p.is_default]
    return render(
        request,
        "sla/config/policy_list.html",
        {
            "nav": NAV,
            "policies": policies,
            "first_movable": movable[0].pk if movable else None,
            "last_movable": movable[-1].pk if movable else None,
            "can_manage": actor.can("sla.manage"),
            "can_recalculate": actor.can("sla.recalculate"),
            "priorities": Priority.choices,
        },
    )


def _policy_page(request, policy=None):
    actor = request.actor
    require(actor, "sla.manage")
    form = PolicyForm(_posted(request), actor=actor, policy=policy)
    if request.method == "POST" and form.is_valid():
        if policy is None:
            saved = call_service(form, lambda: services.policy_create(actor=actor, data=form.service_data()))
        else:
            saved = call_service(
                form,
                lambda: services.policy_update(
                    actor=actor, policy_id=policy.pk, data=form.service_data(), expected_version=form.expected_version
                ),
            )
        if saved:
            messages.success(
                request,
                _("SLA policy %(name)s saved. Open work orders keep their targets until they are recalculated.")
                % {"name": saved.name},
            )
            return redirect("sla-policy-list")
    status = failed_status(request) if request.method == "POST" else 200
    return render(request, "sla/config/policy_form.html", {"nav": NAV, "form": form, "policy": policy}, status=status)


@actor_required
def policy_create(request):
    return _policy_page(request)


def _managed_policy(request, pk):
    actor = request.actor
    policy = selectors.policy_get(actor=actor, pk=pk)
    require(actor, "sla.manage")
    return policy


@actor_required
def policy_edit(request, pk):
    return _policy_page(request, _managed_policy(request, pk))


@require_POST
@actor_required
def policy_delete(request, pk):
    actor = request.actor
    policy = _managed_policy(request, pk)
    try:
        services.policy_delete(actor=actor, policy_id=policy.pk)
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        messages.error(request, exc.message)
        return redirect("sla-policy-list")
    messages.success(request, _("SLA policy %(name)s deleted.") % {"name": policy.name})
    return redirect("sla-policy-list")


@require_POST
@actor_required
def policy_move(request, pk):
    """Move a policy one place up or down (``direction``), or to ``position`` (1 = tried first)."""
    actor = request.actor
    policy = _managed_policy(request, pk)
    order = [p.pk for p in selectors.policy_list(actor=actor) if not p.is_default]
    direction = request.POST.get("direction")
    if direction in ("up", "down") and policy.pk in order:
        position = order.index(policy.pk) + 1 + (-1 if direction == "up" else 1)
    else:
        position = request.POST.get("position")
    try:
        services.policy_move(actor=actor, policy_id=policy.pk, position=position)
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        messages.error(request, exc.message)
    return redirect(reverse("sla-policy-list") + f"#policy-{policy.pk}")


@actor_required
def recalculate(request):
    """Re-apply the policies to every open work order: GET asks for confirmation, POST does it."""
    actor = request.actor
    require(actor, "sla.recalculate")
    if request.method == "POST":
        count = services.recalculate_open(actor=actor)
        messages.success(
            request,
            ngettext(
                "%(n)d open work order recalculated with the current policies and calendars.",
                "%(n)d open work orders recalculated with the current policies and calendars.",
                count,
            )
            % {"n": count},
        )
        return redirect("sla-policy-list")
    return render(
        request,
        "sla/config/recalculate.html",
        {"nav": NAV, "count": selectors.open_work_order_count(actor=actor)},
    )


urlpatterns = [
    path("settings/sla/calendars/", calendar_list, name="sla-calendar-list"),
    path("settings/sla/calendars/new/", calendar_create, name="sla-calendar-create"),
    path("settings/sla/calendars/preview/", calendar_preview, name="sla-calendar-preview"),
    path("settings/sla/calendars/<int:pk>/", calendar_detail, name="sla-calendar-detail"),
    path("settings/sla/calendars/<int:pk>/edit/", calendar_edit, name="sla-calendar-edit"),
    path("settings/sla/calendars/<int:pk>/delete/", calendar_delete, name="sla-calendar-delete"),
    path("settings/sla/calendars/<int:pk>/holidays/add/", holiday_add, name="sla-holiday-add"),
    path("settings/sla/calendars/<int:pk>/holidays/import/", holiday_import, name="sla-holiday-import"),
    path("settings/sla/calendars/<int:pk>/holidays/generate/", holiday_generate, name="sla-holiday-generate"),
    path("settings/sla/holidays/<int:pk>/remove/", holiday_remove, name="sla-holiday-remove"),
    path("settings/sla/policies/", policy_list, name="sla-policy-list"),
    path("settings/sla/policies/new/", policy_create, name="sla-policy-create"),
    path("settings/sla/policies/recalculate/", recalculate, name="sla-policy-recalculate"),
    path("settings/sla/policies/<int:pk>/edit/", policy_edit, name="sla-policy-edit"),
    path("settings/sla/policies/<int:pk>/delete/", policy_delete, name="sla-policy-delete"),
    path("settings/sla/policies/<int:pk>/move/", policy_move, name="sla-policy-move"),
]
