"""Settings pages: the organization, its members, work order templates and the change history.

Admins see everything; dispatchers manage templates. The services check the roles again on every
write; here the pages only refuse early (403) what the role could never do.
"""

from __future__ import annotations

import json

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import ChangeRecord, Membership
from fixflow.core.pagination import paginate
from fixflow.core.permissions import require
from fixflow.core.services import membership_create, membership_update, organization_update
from fixflow.service.choices import ChecklistKind
from fixflow.service.selectors import template_queryset
from fixflow.service.services import template_create, template_update

from .forms import (
    ChecklistFormSet,
    MemberCreateForm,
    MemberEditForm,
    OrganizationForm,
    TemplateForm,
    TemplatePartFormSet,
    checklist_data,
    posted,
    render_form,
    save_form,
    template_parts_data,
)
from .helpers import actor_required


@actor_required
def settings_home(request):
    actor = request.actor
    if not (actor.can("organization.manage") or actor.can("templates.view")):
        require(actor, "organization.manage")
    return render(
        request,
        "web/settings_home.html",
        {
            "nav": "settings",
            "can_admin": actor.can("organization.manage"),
            "can_templates": actor.can("templates.view"),
            "can_categories": actor.can("equipment.manage"),
            "member_count": Membership.objects.filter(organization_id=actor.organization_id, is_active=True).count(),
        },
    )


@actor_required
def organization_settings(request):
    actor = request.actor
    require(actor, "organization.manage")
    form = OrganizationForm(posted(request), instance=actor.organization, actor=actor)
    if save_form(
        request,
        form,
        lambda: organization_update(actor=actor, data=form.service_data(), expected_version=form.expected_version),
    ):
        messages.success(request, _("Organization settings saved."))
        return redirect("settings_organization")
    return render_form(request, "web/settings_organization.html", {"nav": "settings", "form": form})


# --- members -------------------------------------------------------------------------------------


@actor_required
def member_list(request):
    actor = request.actor
    require(actor, "members.manage")
    qs = Membership.objects.filter(organization_id=actor.organization_id).select_related("user", "client")
    if role := request.GET.get("role"):
        qs = qs.filter(role=role)
    page = paginate(qs, ordering=["user__full_name"], cursor=request.GET.get("cursor") or None, limit=100)
    return render(
        request,
        "web/member_list.html",
        {"nav": "settings", "page": page, "roles": Membership._meta.get_field("role").choices},
    )


@actor_required
def member_create(request):
    actor = request.actor
    require(actor, "members.manage")
    form = MemberCreateForm(posted(request), actor=actor)

    def save():
        d = form.cleaned_data
        return membership_create(
            actor=actor,
            email=d["email"],
            full_name=d.get("full_name") or "",
            role=d["role"],
            client_id=d["client"].pk if d.get("client") else None,
            password=d.get("password") or None,
        )

    membership = save_form(request, form, save)
    if membership:
        messages.success(
            request,
            _("%(name)s can now sign in as %(role)s.")
            % {"name": membership.user, "role": membership.get_role_display()},
        )
        return redirect("member_list")
    return render_form(request, "web/member_form.html", {"nav": "settings", "form": form})


@actor_required
def member_edit(request, pk):
    actor = request.actor
    # another organization's membership does not exist here (404), whatever the role; then the role (403)
    membership = (
        Membership.objects.select_related("user", "client").filter(organization_id=actor.organization_id, pk=pk).first()
    )
    if membership is None:
        raise Http404
    require(actor, "members.manage")
    form = MemberEditForm(posted(request), actor=actor, membership=membership)

    def save():
        d = form.cleaned_data
        return membership_update(
            actor=actor,
            membership_id=membership.pk,
            role=d["role"],
            client_id=d["client"].pk if d.get("client") else None,
            is_active=bool(d.get("is_active")),
        )

    if save_form(request, form, save):
        messages.success(request, _("Changes to %(name)s saved.") % {"name": membership.user})
        return redirect("member_list")
    return render_form(request, "web/member_form.html", {"nav": "settings", "form": form, "membership": membership})


# --- work order templates ------------------------------------------------------------------------


@actor_required
def template_list(request):
    actor = request.actor
    require(actor, "templates.view")
    templates = (
        template_queryset(actor=actor)
        .annotate(checklist_count=Count("checklist_items", distinct=True), part_count=Count("parts", distinct=True))
        .order_by("-is_active", "name", "id")
    )
    return render(
        request,
        "web/template_list.html",
        {"nav": "settings", "templates": templates, "can_manage": actor.can("templates.manage")},
    )


def _template_page(request, *, template=None):
    """Create or edit a template: its fields, the checklist editor and the planned parts."""
    actor = request.actor
    require(actor, "templates.manage")
    data = posted(request)
    form = TemplateForm(data, instance=template, actor=actor)
    checklist_initial = parts_initial = None
    if template is not None:
        checklist_initial = [
            {"label": i.label, "kind": i.kind, "is_required": i.is_required} for i in template.checklist_items.all()
        ]
        parts_initial = [
            {"part": p.part_id, "quantity": format(p.quantity.normalize(), "f")} for p in template.parts.all()
        ]
    checklist = ChecklistFormSet(data, prefix="checklist", initial=checklist_initial)
    parts = TemplatePartFormSet(data, prefix="parts", initial=parts_initial, form_kwargs={"actor": actor})
    errors = {}
    if request.method == "POST" and form.is_valid() & checklist.is_valid() & parts.is_valid():
        payload = {**form.service_data(), "checklist": checklist_data(checklist), "parts": template_parts_data(parts)}
        try:
            if template is None:
                saved = template_create(actor=actor, data=payload)
            else:
                saved = template_update(
                    actor=actor, pk=template.pk, data=payload, expected_version=form.expected_version
                )
        except DomainError as exc:
            if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
                raise
            if exc.field in ("checklist", "kind"):
                errors["checklist"] = exc.message
            elif exc.field in ("parts", "quantity"):
                errors["parts"] = exc.message
            else:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Template %(name)s saved.") % {"name": saved.name})
            return redirect("template_list")
    return render_form(
        request,
        "web/template_form.html",
        {
            "nav": "settings",
            "form": form,
            "checklist": checklist,
            "parts": parts,
            "template": template,
            "errors": errors,
        },
    )


@actor_required
def template_create_view(request):
    return _template_page(request)


@actor_required
def template_edit(request, pk):
    template = template_queryset(actor=request.actor).filter(pk=pk).first()
    if template is None:
        raise Http404
    return _template_page(request, template=template)


# --- change history ------------------------------------------------------------------------------


def _model(object_type: str):
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _type_label(object_type: str) -> str:
    model = _model(object_type)
    return str(model._meta.verbose_name).capitalize() if model else object_type


OBJECT_URLS = {
    "service.workordertemplate": "template_edit",
    "core.membership": "member_edit",
    "assets.equipmentcategory": "category_edit",
}
HIDDEN_KEYS = {"id", "organization"}


class _Names:
    """Names for the ids a page of change records mentions (clients, parts), looked up once."""

    def __init__(self, records):
        from fixflow.customers.models import Client
        from fixflow.inventory.models import Part

        client_ids, part_ids = set(), set()
        for r in records:
            for data in (r.before or {}, r.after or {}):
                if isinstance(data.get("client"), int):
                    client_ids.add(data["client"])
                for item in data.get("parts") or []:
                    if isinstance(item, dict) and isinstance(item.get("part"), int):
                        part_ids.add(item["part"])
        org = records[0].organization_id if records else None
        self.clients = dict(Client.objects.filter(organization_id=org, pk__in=client_ids).values_list("pk", "name"))
        self.parts = {p.pk: str(p) for p in Part.objects.filter(organization_id=org, pk__in=part_ids)}


def _plain(value, *, key: str = "", model=None, names: _Names | None = None) -> str:
    """A stored snapshot value as people read it: choice labels, names instead of ids, one line per item."""
    if value in (None, "", []):
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "client" and names and value in names.clients:
        return names.clients[value]
    if key == "checklist" and isinstance(value, list):
        return "\n".join(
            "• "
            + str(item.get("label", ""))
            + " · "
            + str(dict(ChecklistKind.choices).get(item.get("kind"), ""))
            + (" · " + _("required") if item.get("is_required") else "")
            for item in value
            if isinstance(item, dict)
        )
    if key == "parts" and isinstance(value, list):
        part_names = names.parts if names else {}
        return "\n".join(
            f"• {item.get('quantity')} × {part_names.get(item.get('part'), item.get('part'))}"
            for item in value
            if isinstance(item, dict)
        )
    if isinstance(value, list):
        return "\n".join(
            "• " + (" · ".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item))
            for item in value
        )
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if model is not None:
        try:
            field = model._meta.get_field(key)
        except FieldDoesNotExist:
            field = None
        if getattr(field, "choices", None):
            return str(dict(field.flatchoices).get(value, value))
    return str(value)


def change_diff(record: ChangeRecord, names: _Names | None = None) -> list[tuple[str, str, str]]:
    """(field, before, after) for what a change record changed; for a create or delete, what was set."""
    before, after = record.before or {}, record.after or {}
    model = _model(record.object_type)
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in HIDDEN_KEYS:
            continue
        old, new = before.get(key), after.get(key)
        if old == new or (record.action != ChangeRecord.Action.UPDATE and (old or new) in (None, "", [], False)):
            continue
        label = key.replace("_", " ")
        if model is not None:
            try:
                label = str(getattr(model._meta.get_field(key), "verbose_name", label))
            except FieldDoesNotExist:
                pass
        rows.append(
            (
                label,
                _plain(old, key=key, model=model, names=names) if before else "",
                _plain(new, key=key, model=model, names=names) if after else "",
            )
        )
    return rows


def _object_url(record: ChangeRecord) -> str | None:
    if record.action == ChangeRecord.Action.DELETE:
        return None
    if record.object_type == "core.organization":
        return reverse("settings_organization")
    name = OBJECT_URLS.get(record.object_type)
    try:
        return reverse(name, args=[record.object_id]) if name else None
    except NoReverseMatch:
        return None


@actor_required
def change_history(request):
    actor = request.actor
    require(actor, "organization.manage")
    records = ChangeRecord.objects.filter(organization_id=actor.organization_id).select_related("actor")
    types = sorted(records.order_by().values_list("object_type", flat=True).distinct())
    if (object_type := request.GET.get("type")) in types:
        records = records.filter(object_type=object_type)
    page = paginate(records, ordering=["-at"], cursor=request.GET.get("cursor") or None, limit=50)
    names = _Names(page.items)
    for record in page.items:
        record.type_label = _type_label(record.object_type)
        record.diff = change_diff(record, names)
        record.url = _object_url(record)
    return render(
        request,
        "web/change_history.html",
        {
            "nav": "settings",
            "page": page,
            "types": [(t, _type_label(t)) for t in types],
            "current_type": request.GET.get("type", ""),
        },
    )
