"""Forms of the shared pages (sign-in, tokens, settings) and the base every page form builds on.

Forms only parse input and show it again; the services validate against the organization's data and
write. A refused input comes back as a DomainError and is shown next to the field it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from fixflow.core.choices import Role
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import TIMEZONE_CHOICES, Membership, Organization, User
from fixflow.core.permissions import Actor
from fixflow.service.choices import ChecklistKind
from fixflow.service.models import WorkOrderTemplate

from .helpers import add_domain_error

# --- shared building blocks ----------------------------------------------------------------------


def call_service(form: forms.BaseForm, call: Callable[[], Any]) -> Any:
    """Run a service call; a refused input becomes an error on ``form`` and None is returned.

    NOT_FOUND and PERMISSION_DENIED are not input errors: they propagate and become the 404 or 403
    page (see ``web.middleware``).
    """
    try:
        return call()
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        add_domain_error(form, exc)
        return None


def failed_status(request) -> int:
    """422 for a refused full-page POST; htmx only swaps 2xx responses, so 200 for those."""
    return 200 if getattr(request, "htmx", False) else 422


class DependentSelect(forms.Select):
    """A select whose options carry ``data-parent`` so app.js shows only those of the chosen parent.

    ``parent_field`` is the name of the controlling select in the same form; ``parent_attr`` the
    attribute of each option's object that holds the parent's value (e.g. ``site_id``).
    """

    def __init__(self, *, parent_field: str, parent_attr: str, attrs: dict | None = None):
        super().__init__(attrs={**(attrs or {}), "data-filter-by": parent_field})
        self.parent_attr = parent_attr

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-parent"] = str(getattr(instance, self.parent_attr))
        return option


class ServiceForm(forms.ModelForm):
    """A ModelForm used to parse and show a row, never to save it.

    Fields, labels and help texts come from the model. The view passes :meth:`service_data` to the
    app's service, which checks scope and relations, runs the model's validation and writes; that is
    why the model validation of ModelForm is skipped here. Every related-object select is narrowed
    to the actor's organization.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, actor: Actor, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)
        if any(f.name == "version" for f in self._meta.model._meta.concrete_fields):
            if self.instance.pk:
                self.fields["version"].initial = self.instance.version
        else:
            del self.fields["version"]
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
                if any(f.name == "organization" for f in field.queryset.model._meta.concrete_fields):
                    field.queryset = field.queryset.filter(organization_id=actor.organization_id)

    layout: tuple[tuple[str, ...], ...] = ()

    def _post_clean(self):
        """The service runs the model validation, against the organization's data."""

    def rows(self) -> list[list]:
        """Visible fields grouped as in ``layout`` (fields side by side on wide screens)."""
        visible = {f.name: f for f in self.visible_fields()}
        rows, seen = [], set()
        for names in self.layout:
            row = [visible[n] for n in names if n in visible]
            seen.update(names)
            if row:
                rows.append(row)
        rows.extend([f] for name, f in visible.items() if name not in seen)
        return rows

    @property
    def is_edit(self) -> bool:
        return self.instance.pk is not None

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def service_data(self) -> dict[str, Any]:
        """The cleaned input as the services take it: related objects as ``<name>_id``."""
        data = {}
        for name, value in self.cleaned_data.items():
            if name == "version":
                continue
            if isinstance(self.fields[name], forms.ModelChoiceField):
                data[f"{name}_id"] = value.pk if value is not None else None
            else:
                data[name] = value
        return data


class ListFilterForm(forms.Form):
    """A GET form of list filters; invalid values are ignored instead of failing the page."""

    q = forms.CharField(
        label=_("Search"), required=False, widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search…")})
    )

    def __init__(self, data, *, actor: Actor, **kwargs):
        self.actor = actor
        super().__init__(data, **kwargs)

    def values(self) -> dict[str, Any]:
        self.is_valid()
        out = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            out[name] = value.pk if hasattr(value, "pk") else value
        return out

    @property
    def is_filtered(self) -> bool:
        return any(v not in (None, "") for k, v in self.values().items() if k != "active")


ACTIVE_CHOICES = [("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All"))]


def active_filter(value: str | None) -> bool | None:
    """The ``active`` list filter: active rows unless the user asked for inactive or all."""
    if value == "all":
        return None
    return value != "inactive"


TIMEZONE_FIELD_CHOICES = [(tz, tz) for tz, _label in TIMEZONE_CHOICES]


def plain_decimal(value, min_places: int = 0):
    """A stored Decimal without trailing zeros beyond ``min_places`` (48.5000 → 48.50, 52.548000 → 52.548)."""
    if value is None:
        return None
    exponent = value.normalize().as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return f"{value:.{places}f}"


# --- sign-in and tokens --------------------------------------------------------------------------


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That e-mail and password do not match an account. Check both and try again."),
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("What will use it, e.g. “nightly export script”.")
    )


# --- settings ------------------------------------------------------------------------------------


class OrganizationForm(ServiceForm):
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIMEZONE_FIELD_CHOICES,
        help_text=_("Used for dates on documents and for the home pages."),
    )
    layout = (("name",), ("currency", "timezone"), ("work_order_prefix", "reopen_window_days"))

    class Meta:
        model = Organization
        fields = [
            "name",
            "currency",
            "timezone",
            "work_order_prefix",
            "reopen_window_days",
            "requires_four_eyes_review",
        ]


class MemberCreateForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        required=False,
        help_text=_("Needed when the person has no Fixflow account yet."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.TECHNICIAN)
    client = forms.ModelChoiceField(
        label=_("Client"),
        queryset=None,
        required=False,
        help_text=_("Only for client users: the client whose data they see."),
    )
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters. Pass it on safely; an existing account keeps its own password."),
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        from fixflow.customers.models import Client

        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(organization_id=actor.organization_id)
        self.fields["client"].empty_label = _("— choose a client —")

    def clean(self):
        data = super().clean()
        email = (data.get("email") or "").strip().lower()
        password = data.get("password")
        exists = bool(email) and User.objects.filter(email=email).exists()
        if not exists and email:
            if not (data.get("full_name") or "").strip():
                self.add_error("full_name", _("Enter the person's name: they have no Fixflow account yet."))
            if not password:
                self.add_error("password", _("Set an initial password: this person has no Fixflow account yet."))
            else:
                try:
                    password_validation.validate_password(
                        password, User(email=email, full_name=data.get("full_name") or "")
                    )
                except ValidationError as exc:
                    self.add_error("password", exc)
        return data


class MemberEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    client = forms.ModelChoiceField(
        label=_("Client"),
        queryset=None,
        required=False,
        help_text=_("Only for client users: the client whose data they see."),
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("Inactive members cannot sign in to this organization.")
    )

    def __init__(self, *args, actor: Actor, membership: Membership, **kwargs):
        from fixflow.customers.models import Client

        kwargs.setdefault(
            "initial", {"role": membership.role, "client": membership.client_id, "is_active": membership.is_active}
        )
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(organization_id=actor.organization_id)
        self.fields["client"].empty_label = _("— choose a client —")


class TemplateForm(ServiceForm):
    class Meta:
        model = WorkOrderTemplate
        fields = [
            "name",
            "type",
            "default_priority",
            "description",
            "estimated_duration_minutes",
            "is_billable",
            "requires_equipment",
            "requires_signature",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class ChecklistItemForm(forms.Form):
    label = forms.CharField(
        label=_("Step"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Check the pressure"), "aria-label": _("Step")}),
    )
    kind = forms.ChoiceField(
        label=_("Answer"),
        choices=ChecklistKind.choices,
        initial=ChecklistKind.CHECKBOX,
        widget=forms.Select(attrs={"aria-label": _("Answer")}),
    )
    is_required = forms.BooleanField(label=_("Required"), required=False)


class TemplatePartForm(forms.Form):
    part = forms.ModelChoiceField(
        label=_("Part"),
        queryset=None,
        required=False,
        empty_label=_("— choose a part —"),
        widget=forms.Select(attrs={"aria-label": _("Part")}),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=3,
        widget=forms.NumberInput(
            attrs={"step": "any", "inputmode": "decimal", "aria-label": _("Quantity"), "placeholder": "1"}
        ),
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        from fixflow.inventory.models import Part

        super().__init__(*args, **kwargs)
        self.fields["part"].queryset = Part.objects.filter(organization_id=actor.organization_id)


ChecklistFormSet = forms.formset_factory(ChecklistItemForm, extra=1, can_order=True, can_delete=True)
TemplatePartFormSet = forms.formset_factory(TemplatePartForm, extra=1, can_delete=True)


def checklist_data(formset) -> list[dict]:
    """The checklist rows in the order the user gave them; rows without a label are dropped."""
    return [
        {
            "label": f.cleaned_data["label"],
            "kind": f.cleaned_data.get("kind") or ChecklistKind.CHECKBOX,
            "is_required": bool(f.cleaned_data.get("is_required")),
        }
        for f in formset.ordered_forms
        if (f.cleaned_data.get("label") or "").strip()
    ]


def template_parts_data(formset) -> list[dict]:
    rows = []
    deleted = set(map(id, formset.deleted_forms))
    for f in formset.forms:
        if id(f) in deleted or not f.cleaned_data.get("part"):
            continue
        quantity = f.cleaned_data.get("quantity")
        rows.append({"part_id": f.cleaned_data["part"].pk, "quantity": quantity if quantity is not None else 1})
    return rows


# --- view glue -----------------------------------------------------------------------------------


def save_form(request, form: forms.BaseForm, save: Callable[[], Any]) -> Any:
    """On a valid POST run ``save`` (a service call); return what it returned, or None.

    An invalid form or a refused input leaves the errors on ``form`` for the page to show again.
    """
    if request.method == "POST" and form.is_valid():
        return call_service(form, save)
    return None


def render_form(request, template: str, context: dict):
    """Render a form page; after a refused POST with 422 (or 200 for htmx)."""
    status = failed_status(request) if request.method == "POST" else 200
    return render(request, template, context, status=status)


def posted(request):
    """The POST data on a POST (even an empty one), else None for an unbound form."""
    return request.POST if request.method == "POST" else None
