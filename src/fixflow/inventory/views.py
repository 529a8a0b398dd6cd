"""Pages of the parts catalogue and its categories."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fixflow.core.entities import entity_filter, entity_get, entity_list, entity_queryset
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.pagination import paginate
from fixflow.core.permissions import require
from fixflow.web.forms import active_filter, posted, render_form, save_form
from fixflow.web.helpers import actor_required

from . import services
from .forms import PartCategoryFilterForm, PartCategoryForm, PartFilterForm, PartForm
from .services import PART, PART_CATEGORY


@actor_required
def part_list(request):
    actor = request.actor
    filters = PartFilterForm(request.GET, actor=actor)
    values = filters.values()
    page = entity_list(
        PART,
        actor=actor,
        cursor=request.GET.get("cursor") or None,
        filters={
            "q": values.get("q"),
            "category": values.get("category"),
            "is_active": active_filter(values.get("active")),
        },
    )
    return render(
        request,
        "inventory/part_list.html",
        {
            "nav": "parts",
            "page": page,
            "filters": filters,
            "can_manage": actor.can(PART.manage_capability),
            "currency": actor.organization.currency,
        },
    )


@actor_required
def part_create(request):
    actor = request.actor
    require(actor, PART.manage_capability)
    form = PartForm(posted(request), actor=actor)
    part = save_form(request, form, lambda: services.part_create(actor=actor, data=form.service_data()))
    if part:
        messages.success(request, _("Part %(sku)s created.") % {"sku": part.sku})
        return redirect("part_list")
    return render_form(request, "inventory/part_form.html", {"nav": "parts", "form": form})


@actor_required
def part_edit(request, pk):
    actor = request.actor
    part = entity_get(PART, actor=actor, pk=pk)
    require(actor, PART.manage_capability)
    form = PartForm(posted(request), instance=part, actor=actor)
    saved = save_form(
        request,
        form,
        lambda: services.part_update(
            actor=actor, pk=part.pk, data=form.service_data(), expected_version=form.expected_version
        ),
    )
    if saved:
        messages.success(request, _("Changes saved."))
        return redirect("part_list")
    return render_form(request, "inventory/part_form.html", {"nav": "parts", "form": form, "part": part})


# --- part categories -----------------------------------------------------------------------------


@actor_required
def part_category_list(request):
    actor = request.actor
    filters = PartCategoryFilterForm(request.GET, actor=actor)
    qs = entity_filter(PART_CATEGORY, entity_queryset(PART_CATEGORY, actor=actor), filters.values())
    qs = qs.annotate(part_count=Count("parts"))
    page = paginate(qs, ordering=["name"], cursor=request.GET.get("cursor") or None, limit=100)
    return render(
        request,
        "inventory/part_category_list.html",
        {"nav": "parts", "page": page, "filters": filters, "can_manage": actor.can(PART_CATEGORY.manage_capability)},
    )


@actor_required
def part_category_create(request):
    actor = request.actor
    require(actor, PART_CATEGORY.manage_capability)
    form = PartCategoryForm(posted(request), actor=actor)
    category = save_form(request, form, lambda: services.part_category_create(actor=actor, data=form.service_data()))
    if category:
        messages.success(request, _("Part category %(name)s created.") % {"name": category.name})
        return redirect("part_category_list")
    return render_form(request, "inventory/part_category_form.html", {"nav": "parts", "form": form})


@actor_required
def part_category_edit(request, pk):
    actor = request.actor
    category = entity_get(PART_CATEGORY, actor=actor, pk=pk)
    require(actor, PART_CATEGORY.manage_capability)
    form = PartCategoryForm(posted(request), instance=category, actor=actor)
    saved = save_form(
        request,
        form,
        lambda: services.part_category_update(
            actor=actor, pk=category.pk, data=form.service_data(), expected_version=form.expected_version
        ),
    )
    if saved:
        messages.success(request, _("Changes saved."))
        return redirect("part_category_list")
    return render_form(
        request, "inventory/part_category_form.html", {"nav": "parts", "form": form, "category": category}
    )


@require_POST
@actor_required
def part_category_delete(request, pk):
    actor = request.actor
    category = entity_get(PART_CATEGORY, actor=actor, pk=pk)
    try:
        services.part_category_delete(actor=actor, pk=category.pk)
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        messages.error(request, exc.message)
        return redirect("part_category_edit", category.pk)
    messages.success(request, _("Part category %(name)s deleted.") % {"name": category.name})
    return redirect("part_category_list")
