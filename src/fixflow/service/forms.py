"""Forms of the work request and work order pages: they parse and pre-check input, the services decide.

Times typed into ``datetime-local`` fields are wall-clock times at the work order's site; the forms
turn them into aware instants in the site's time zone before a service sees them.
"""

from __future__ import annotations

import base64
import binascii
import zoneinfo
from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fixflow.core.errors import DomainError
from fixflow.core.permissions import Actor

from . import selectors
from .attachments import validate_upload
from .choices import (
    BillingStatus,
    HoldReason,
    Priority,
    RequestSource,
    RequestStatus,
    Status,
    TimeKind,
    WorkOrderType,
)
from .selectors import WORK_ORDER_SORTS

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
MAX_FILES_PER_REQUEST = 10


# ---------------------------------------------------------------------------------------------
# widgets and fields


class ParentSelect(forms.Select):
    """A select whose options name their parent (``data-parent``) for app.js dependent selects."""

    def __init__(self, *args, filter_by: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.parents: dict[str, str] = {}
        if filter_by:
            self.attrs["data-filter-by"] = filter_by

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        parent = self.parents.get(str(value))
        if parent is not None:
            option["attrs"]["data-parent"] = parent
        return option


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL_FORMAT)


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock date and time, returned naive; the form attaches the site's time zone."""

    widget = LocalDateTimeInput
    input_formats = [DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and timezone.is_aware(result):
            result = timezone.make_naive(result, timezone.get_current_timezone())
        return result

    def prepare_value(self, value):
        return value  # initial values are already naive site-local times


def site_local(value: datetime | None, tz_name: str) -> datetime | None:
    """An aware instant as the naive wall-clock time at a site (for a datetime-local input)."""
    if value is None:
        return None
    return value.astimezone(zoneinfo.ZoneInfo(tz_name)).replace(tzinfo=None, second=0, microsecond=0)


def site_aware(value: datetime | None, tz_name: str) -> datetime | None:
    """A naive wall-clock time at a site as an aware instant."""
    if value is None:
        return None
    return value.replace(tzinfo=zoneinfo.ZoneInfo(tz_name))


ACCEPT = "image/*,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.txt,.csv,.log"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by ``attachments.validate_upload``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True, "accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        if len(files) > MAX_FILES_PER_REQUEST:
            raise forms.ValidationError(_("Attach at most %(n)s files at once."), params={"n": MAX_FILES_PER_REQUEST})
        for f in files:
            check_upload(f)
        return files


def check_upload(upload) -> None:
    """Refuse a file the attachment service would refuse, before anything is written."""
    try:
        validate_upload(upload)
    except DomainError as exc:
        raise forms.ValidationError(exc.message) from None


def _choices(items, label=str, empty: str | None = None) -> list[tuple[str, str]]:
    out = [("", empty)] if empty is not None else []
    return out + [(str(i.pk), label(i)) for i in items]


def _equipment_label(eq) -> str:
    extra = " ".join(x for x in (eq.manufacturer, eq.model) if x)
    return f"{eq.name} ({extra})" if extra else eq.name


def _user_label(user) -> str:
    return user.full_name or user.email


# ---------------------------------------------------------------------------------------------
# location (client → site → equipment), shared by the request and work order forms


class LocationMixin:
    """Adds client, site and equipment selects limited to what the actor may see."""

    def _setup_location(self, actor: Actor, *, equipment_empty: str) -> None:
        loc = selectors.location_choices(actor=actor)
        self._sites = {str(s.pk): s for s in loc["sites"]}
        self.fields["client"].choices = _choices(loc["clients"], empty=_("Choose the client…"))
        self.fields["site"].choices = _choices(loc["sites"], empty=_("Choose the site…"))
        self.fields["site"].widget.parents = {str(s.pk): str(s.client_id) for s in loc["sites"]}
        self.fields["equipment"].choices = _choices(loc["equipment"], _equipment_label, empty=equipment_empty)
        self.fields["equipment"].widget.parents = {str(e.pk): str(e.site_id) for e in loc["equipment"]}
        if len(loc["clients"]) == 1 and not self.is_bound:
            self.initial.setdefault("client", str(loc["clients"][0].pk))
        equipment = {str(e.pk): e for e in loc["equipment"]}
        # a prefilled equipment or site fills in its parents
        eq = equipment.get(str(self.initial.get("equipment") or ""))
        if eq is not None:
            self.initial.setdefault("site", str(eq.site_id))
        site = self._sites.get(str(self.initial.get("site") or ""))
        if site is not None:
            self.initial.setdefault("client", str(site.client_id))

    def site_timezone(self) -> str | None:
        site = self._sites.get(str(self.cleaned_data.get("site") or ""))
        return site.timezone if site else None


def _location_fields():
    return {
        "client": forms.ChoiceField(label=_("Client"), widget=ParentSelect()),
        "site": forms.ChoiceField(label=_("Site"), widget=ParentSelect(filter_by="client")),
        "equipment": forms.ChoiceField(label=_("Equipment"), required=False, widget=ParentSelect(filter_by="site")),
    }


# ---------------------------------------------------------------------------------------------
# work requests


class WorkRequestForm(LocationMixin, forms.Form):
    client, site, equipment = _location_fields().values()
    title = forms.CharField(
        label=_("What is the problem?"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Boiler leaking in the basement")}),
    )
    description = forms.CharField(
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What happened, since when, anything already tried."),
    )
    suggested_priority = forms.ChoiceField(
        label=_("How urgent is it?"), choices=Priority.choices, initial=Priority.NORMAL
    )
    file = MultipleFileField(
        label=_("Photos and documents"), required=False, help_text=_("Photos, PDFs, office documents; up to 10 files.")
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_location(actor, equipment_empty=_("Not sure / the whole site"))
        self.fields["equipment"].help_text = _("Leave empty if you do not know.")

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "client_id": d["client"],
            "site_id": d["site"],
            "equipment_id": d["equipment"] or None,
            "title": d["title"],
            "description": d["description"],
            "suggested_priority": d["suggested_priority"],
        }


class WorkRequestFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title, text or site")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status"))] + list(RequestStatus.choices)
    )
    client = forms.ChoiceField(label=_("Client"), required=False, widget=ParentSelect())
    site = forms.ChoiceField(label=_("Site"), required=False, widget=ParentSelect(filter_by="client"))
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("Any source"))] + list(RequestSource.choices)
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        loc = selectors.location_choices(actor=actor, with_equipment=False)
        self.fields["client"].choices = _choices(loc["clients"], empty=_("All clients"))
        self.fields["site"].choices = _choices(loc["sites"], empty=_("All sites"))
        self.fields["site"].widget.parents = {str(s.pk): str(s.client_id) for s in loc["sites"]}
        if actor.is_client:
            del self.fields["client"]

    def filters(self) -> dict:
        self.is_valid()  # invalid fields are left out (and shown with their error); valid ones still apply
        return {k: v for k, v in self.cleaned_data.items() if v}


class ConvertForm(forms.Form):
    """Accept a request: the work order's template, equipment, priority and (optionally) its plan."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    template = forms.ChoiceField(label=_("Template"), required=False)
    equipment = forms.ChoiceField(label=_("Equipment"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    lead_technician = forms.ChoiceField(label=_("Lead technician"), required=False)
    scheduled_start = LocalDateTimeField(label=_("Scheduled start"), required=False)
    scheduled_end = LocalDateTimeField(label=_("Scheduled end"), required=False)

    def __init__(self, *args, actor: Actor, work_request, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "title": work_request.title,
                "priority": work_request.suggested_priority,
                "equipment": str(work_request.equipment_id or ""),
            },
        )
        super().__init__(*args, **kwargs)
        self.tz = work_request.site.timezone
        self.fields["template"].choices = _choices(
            selectors.template_queryset(actor=actor).filter(is_active=True), empty=_("No template")
        )
        equipment = [
            e for e in selectors.location_choices(actor=actor)["equipment"] if e.site_id == work_request.site_id
        ]
        self.fields["equipment"].choices = _choices(equipment, _equipment_label, empty=_("None (site-level work)"))
        self.fields["lead_technician"].choices = _choices(
            selectors.assignable_users(actor=actor), _user_label, empty=_("Not assigned yet")
        )
        for name in ("scheduled_start", "scheduled_end"):
            self.fields[name].help_text = _("Local time at the site (%(tz)s).") % {"tz": self.tz}

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"] or None,
            "template_id": d["template"] or None,
            "equipment_id": d["equipment"] or None,
            "priority": d["priority"],
            "lead_technician_id": d["lead_technician"] or None,
            "scheduled_start": site_aware(d["scheduled_start"], self.tz),
            "scheduled_end": site_aware(d["scheduled_end"], self.tz),
        }


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The requester sees this."),
    )


class DuplicateForm(forms.Form):
    duplicate_of = forms.ChoiceField(label=_("Duplicate of"))

    def __init__(self, *args, actor: Actor, work_request, **kwargs):
        super().__init__(*args, **kwargs)
        candidates = selectors.work_request_duplicate_candidates(actor=actor, work_request=work_request)
        self.fields["duplicate_of"].choices = _choices(
            candidates,
            lambda r: f"{r.reference} · {r.title} · {r.site.name} ({r.get_status_display()})",
            empty=_("Choose the original request…"),
        )


# ---------------------------------------------------------------------------------------------
# work orders: create, edit, list


def _assignee_fields(form, actor: Actor) -> None:
    users = selectors.assignable_users(actor=actor)
    form.fields["lead_technician"].choices = _choices(users, _user_label, empty=_("Not assigned yet"))
    form.fields["helpers"].choices = _choices(users, _user_label)


class WorkOrderForm(LocationMixin, forms.Form):
    """Create a work order. Type and priority left empty take the template's defaults."""

    client, site, equipment = _location_fields().values()
    template = forms.ChoiceField(
        label=_("Template"), required=False, help_text=_("Copies the checklist, planned parts and requirements.")
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("May stay empty when a template is chosen: its name is used."),
    )
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("From the template"))] + list(WorkOrderType.choices)
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("From the template"))] + list(Priority.choices)
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    lead_technician = forms.ChoiceField(label=_("Lead technician"), required=False)
    helpers = forms.MultipleChoiceField(label=_("Helpers"), required=False, widget=forms.CheckboxSelectMultiple)
    scheduled_start = LocalDateTimeField(
        label=_("Scheduled start"), required=False, help_text=_("Local time at the site.")
    )
    scheduled_end = LocalDateTimeField(
        label=_("Scheduled end"), required=False, help_text=_("Empty: start + the estimated duration.")
    )
    is_billable = forms.BooleanField(label=_("Billable"), required=False, initial=True)
    reports_equipment_down = forms.BooleanField(
        label=_("The equipment is down"),
        required=False,
        help_text=_("Marks the equipment out of service until this work is completed."),
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_location(actor, equipment_empty=_("None (site-level work)"))
        templates = selectors.template_queryset(actor=actor).filter(is_active=True)
        self._templates = {str(t.pk): t for t in templates}
        self.fields["template"].choices = _choices(templates, empty=_("No template"))
        _assignee_fields(self, actor)
        template = self._templates.get(str(self.initial.get("template") or ""))
        if template is not None and not self.is_bound:
            self.initial.setdefault("is_billable", template.is_billable)

    def clean(self):
        d = super().clean()
        if not d.get("title") and not d.get("template"):
            self.add_error("title", _("Give the work order a title, or choose a template."))
        return d

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        tz = self.site_timezone() or "UTC"
        return {
            "client_id": d["client"],
            "site_id": d["site"],
            "equipment_id": d["equipment"] or None,
            "template_id": d["template"] or None,
            "title": d["title"] or None,
            "type": d["type"] or None,
            "priority": d["priority"] or None,
            "description": d["description"],
            "lead_technician_id": d["lead_technician"] or None,
            "helper_ids": d["helpers"],
            "scheduled_start": site_aware(d["scheduled_start"], tz),
            "scheduled_end": site_aware(d["scheduled_end"], tz),
            "is_billable": d["is_billable"],
            "reports_equipment_down": d["reports_equipment_down"],
        }


class WorkOrderEditForm(forms.Form):
    """Details and planning of an existing work order; ``version`` detects edits made meanwhile."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=WorkOrderType.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    equipment = forms.ChoiceField(label=_("Equipment"), required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    lead_technician = forms.ChoiceField(label=_("Lead technician"), required=False)
    helpers = forms.MultipleChoiceField(label=_("Helpers"), required=False, widget=forms.CheckboxSelectMultiple)
    scheduled_start = LocalDateTimeField(label=_("Scheduled start"), required=False)
    scheduled_end = LocalDateTimeField(label=_("Scheduled end"), required=False)
    estimated_duration_minutes = forms.IntegerField(
        label=_("Estimated duration (minutes)"), required=False, min_value=1
    )
    is_billable = forms.BooleanField(label=_("Billable"), required=False)
    reports_equipment_down = forms.BooleanField(label=_("The equipment is down"), required=False)
    resolution_notes = forms.CharField(
        label=_("Resolution notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    # form field → service data key
    DATA_KEYS = {"equipment": "equipment_id", "lead_technician": "lead_technician_id", "helpers": "helper_ids"}

    def __init__(self, *args, actor: Actor, work_order, **kwargs):
        wo = work_order
        self.tz = wo.site.timezone
        initial = {
            "version": wo.version,
            "title": wo.title,
            "type": wo.type,
            "priority": wo.priority,
            "equipment": str(wo.equipment_id or ""),
            "description": wo.description,
            "lead_technician": str(wo.lead_technician_id or ""),
            "helpers": [str(u.pk) for u in wo.helpers.all()],
            "scheduled_start": site_local(wo.scheduled_start, self.tz),
            "scheduled_end": site_local(wo.scheduled_end, self.tz),
            "estimated_duration_minutes": wo.estimated_duration_minutes,
            "is_billable": wo.is_billable,
            "reports_equipment_down": wo.reports_equipment_down,
            "resolution_notes": wo.resolution_notes,
        }
        super().__init__(*args, initial=initial, **kwargs)
        equipment = [e for e in selectors.location_choices(actor=actor)["equipment"] if e.site_id == wo.site_id]
        if wo.equipment_id and wo.equipment_id not in {e.pk for e in equipment}:
            equipment.append(wo.equipment)
        empty = None if wo.requires_equipment else _("None (site-level work)")
        self.fields["equipment"].choices = _choices(equipment, _equipment_label, empty=empty)
        _assignee_fields(self, actor)
        for name in ("scheduled_start", "scheduled_end"):
            self.fields[name].help_text = _("Local time at the site (%(tz)s).") % {"tz": self.tz}
        if wo.billing_status == BillingStatus.INVOICED:
            self.fields["is_billable"].disabled = True
        if wo.status not in (Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED):
            del self.fields["resolution_notes"]

    def changes(self) -> dict:
        """Only what the user changed, in the shape ``work_order_update`` takes."""
        data = {}
        for name in self.changed_data:
            if name == "version" or name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            if name in ("scheduled_start", "scheduled_end"):
                value = site_aware(value, self.tz)
            elif name in ("equipment", "lead_technician"):
                value = value or None
            data[self.DATA_KEYS.get(name, name)] = value
        return data


TECHNICIAN_ME = "me"
SORT_CHOICES = [
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
    ("scheduled_start", _("Scheduled start")),
    ("-scheduled_start", _("Scheduled start, latest first")),
    ("priority", _("Priority")),
    ("number", _("Number")),
    ("-number", _("Number, highest first")),
    ("sla_due", _("SLA due, earliest first")),
    ("-sla_due", _("SLA due, latest first")),
]
assert {k for k, _label in SORT_CHOICES} == set(WORK_ORDER_SORTS)


class CommaMultipleChoiceField(forms.MultipleChoiceField):
    """Several values as repeated parameters (``?status=new&status=planned``) or comma-separated."""

    def to_python(self, value):
        values = super().to_python(value)
        return [part for v in values for part in v.split(",") if part]


class WorkOrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, title, client, site, equipment")}),
    )
    status = CommaMultipleChoiceField(
        label=_("Status"), required=False, choices=Status.choices, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("Any priority"))] + list(Priority.choices)
    )
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any type"))] + list(WorkOrderType.choices)
    )
    technician = forms.ChoiceField(label=_("Technician"), required=False)
    client = forms.ChoiceField(label=_("Client"), required=False, widget=ParentSelect())
    site = forms.ChoiceField(label=_("Site"), required=False, widget=ParentSelect(filter_by="client"))
    billing_status = forms.ChoiceField(
        label=_("Billing"), required=False, choices=[("", _("Any billing status"))] + list(BillingStatus.choices)
    )
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    unassigned = forms.BooleanField(label=_("Unassigned"), required=False)
    sla_state = CommaMultipleChoiceField(
        label=_("SLA"),
        required=False,
        choices=[
            ("pending", _("On track")),
            ("at_risk", _("At risk")),
            ("paused", _("Paused")),
            ("breached", _("Breached")),
            ("met", _("Met")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    sla_due_after = forms.DateField(
        label=_("SLA due from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sla_due_before = forms.DateField(
        label=_("SLA due before"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    ADVANCED = (
        "status",
        "priority",
        "type",
        "technician",
        "client",
        "site",
        "billing_status",
        "overdue",
        "unassigned",
        "sla_state",
        "sla_due_after",
        "sla_due_before",
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        loc = selectors.location_choices(actor=actor, with_equipment=False)
        self.fields["client"].choices = _choices(loc["clients"], empty=_("All clients"))
        self.fields["site"].choices = _choices(loc["sites"], empty=_("All sites"))
        self.fields["site"].widget.parents = {str(s.pk): str(s.client_id) for s in loc["sites"]}
        if actor.can("notes.internal"):  # staff: who does the work
            self.fields["technician"].choices = [("", _("Anyone")), (TECHNICIAN_ME, _("Me"))] + _choices(
                selectors.assignable_users(actor=actor), _user_label
            )
        else:
            del self.fields["technician"], self.fields["unassigned"], self.fields["billing_status"]
        if actor.is_client:
            del self.fields["client"]

    def filters(self) -> dict:
        self.is_valid()  # invalid fields are left out (and shown with their error); valid ones still apply
        return {k: v for k, v in self.cleaned_data.items() if v and k != "sort"}

    def sort_key(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("sort") or "-created"

    def has_advanced(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.ADVANCED)


# ---------------------------------------------------------------------------------------------
# work order detail: transitions and records


class TransitionForm(forms.Form):
    """One transition button with the inputs it asks for (reason, hold reason, resolution notes)."""

    to = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)
    # hx-preserve: what the user is typing survives when htmx refreshes the panel (e.g. after a checklist answer)
    hold_reason = forms.ChoiceField(
        label=_("Why on hold?"),
        required=False,
        choices=[("", _("Choose…"))] + list(HoldReason.choices),
        widget=forms.Select(attrs={"hx-preserve": "true"}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "hx-preserve": "true"}),
    )
    resolution_notes = forms.CharField(
        label=_("Resolution notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "hx-preserve": "true"}),
        help_text=_("What was found and what was done."),
    )

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        # No expected version: a transition is checked against the current status and guards (DOMAIN.md
        # §5), so a note or a time entry added by someone else meanwhile does not refuse it.
        kwargs = {
            "to": d["to"],
            "reason": d["reason"],
            "hold_reason": d["hold_reason"],
        }
        if d["to"] == Status.COMPLETED:
            kwargs["resolution_notes"] = d["resolution_notes"]
        return kwargs


class ChecklistAnswerForm(forms.Form):
    value = forms.CharField(required=False, max_length=500)


class TimeEntryForm(forms.Form):
    started_at = LocalDateTimeField(label=_("Start"))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=1, max_value=24 * 60)
    ended_at = LocalDateTimeField(label=_("or end"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=TimeKind.choices, initial=TimeKind.LABOUR)
    technician = forms.ChoiceField(label=_("Technician"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, actor: Actor, work_order, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = work_order.site.timezone
        if actor.can("work_orders.record_any"):
            self.fields["technician"].choices = _choices(
                selectors.assignable_users(actor=actor), _user_label, empty=_("Me")
            )
        else:
            del self.fields["technician"]

    def clean(self):
        d = super().clean()
        if d.get("started_at") and not d.get("ended_at") and not d.get("duration_minutes"):
            self.add_error("duration_minutes", _("Enter the duration or the end."))
        return d

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "started_at": site_aware(d["started_at"], self.tz),
            "ended_at": site_aware(d["ended_at"], self.tz),
            "duration_minutes": d["duration_minutes"],
            "kind": d["kind"],
            "technician_id": d.get("technician") or None,
            "note": d["note"],
        }


class PartForm(forms.Form):
    """A part used (or a planned material): from the catalogue or described freely."""

    part = forms.ChoiceField(label=_("Part"), required=False)
    description = forms.CharField(label=_("or describe it"), required=False, max_length=200)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=3,
        min_value=0,
        initial=1,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    unit = forms.CharField(
        label=_("Unit"), required=False, max_length=20, widget=forms.TextInput(attrs={"placeholder": _("pc")})
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].choices = _choices(
            selectors.part_choices(actor=actor), lambda p: f"{p.name} ({p.sku})", empty=_("Free text…")
        )

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "part_id": d["part"] or None,
            "description": d["description"],
            "quantity": d["quantity"],
            "unit": d["unit"] or None,
        }


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))
    is_client_visible = forms.BooleanField(label=_("Visible to the client"), required=False)

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        if not actor.can("notes.internal"):
            del self.fields["is_client_visible"]


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("Photo, PDF, office document or text file."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    caption = forms.CharField(label=_("Caption"), required=False, max_length=200)
    is_client_visible = forms.BooleanField(label=_("Visible to the client"), required=False)

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        if not actor.can("notes.internal"):
            del self.fields["is_client_visible"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload(upload)
        return upload


class SignatureForm(forms.Form):
    signed_by_name = forms.CharField(label=_("Name of the person signing"), max_length=200)
    signature = forms.CharField(widget=forms.HiddenInput, required=False)

    PREFIX = "data:image/png;base64,"

    def clean_signature(self) -> bytes:
        raw = self.cleaned_data["signature"]
        if not raw:
            raise forms.ValidationError(_("Draw the signature in the box first."))
        if not raw.startswith(self.PREFIX):
            raise forms.ValidationError(_("The signature must be a PNG image."))
        try:
            return base64.b64decode(raw[len(self.PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("The signature image could not be read; draw it again.")) from None


class BillingForm(forms.Form):
    billing_status = forms.ChoiceField(
        choices=[(BillingStatus.NO_CHARGE, _("No charge")), (BillingStatus.TO_INVOICE, _("To invoice"))],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label=_("Why no charge?"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class FollowUpForm(forms.Form):
    reason = forms.CharField(
        label=_("What needs doing?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Becomes the description of the new work order."),
    )
