"""Pages for equipment (with its hierarchy and full work order history) and equipment categories."""

import zoneinfo

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fixflow.core import clock
from fixflow.core.entities import entity_get, entity_list, entity_queryset
from fixflow.core.permissions import require
from fixflow.service.selectors import equipment_history
from fixflow.web.forms import posted, render_form, save_form
from fixflow.web.helpers import actor_required

from . import services
from .forms import CategoryFilterForm, CategoryForm, EquipmentFilterForm, EquipmentForm
from .services import CATEGORY, EQUIPMENT


def _cursor(request) -> str | None:
    return request.GET.get("cursor") or None


@actor_required
def equipment_list(request):
    actor = request.actor
    filters = EquipmentFilterForm(request.GET, actor=actor)
    page = entity_list(EQUIPMENT, actor=actor, filters=filters.values(), cursor=_cursor(request))
    return render(
        request,
        "assets/equipment_list.html",
        {
            "nav": "equipment",
            "page": page,
            "filters": filters,
            "can_manage": actor.can(EQUIPMENT.manage_capability),
            "can_manage_categories": actor.can(CATEGORY.manage_capability),
        },
    )


def _ancestors(equipment) -> list:
    """The chain of larger items this equipment is part of, outermost first."""
    chain, node, seen = [], equipment.parent, {equipment.pk}
    while node is not None and node.pk not in seen:
        chain.append(node)
        seen.add(node.pk)
        node = node.parent
    return chain[::-1]


@actor_required
def equipment_detail(request, pk):
    return equipment_detail_page(request, entity_get(EQUIPMENT, actor=request.actor, pk=pk))


def equipment_detail_page(request, equipment, *, status: int = 200, forms: dict | None = None):
    """The equipment page; ``forms`` (meter id → bound reading form) shows a refused reading again."""
    from .meter_views import equipment_meter_context

    actor = request.actor
    children = entity_queryset(EQUIPMENT, actor=actor).filter(parent_id=equipment.pk).order_by("name", "id")
    history = equipment_history(actor=actor, equipment_id=equipment.pk, cursor=_cursor(request), limit=25)
    today = clock.now().astimezone(zoneinfo.ZoneInfo(equipment.site.timezone)).date()
    context = {
        "nav": "equipment",
        "equipment": equipment,
        "ancestors": _ancestors(equipment),
        "children": list(children),
        "history": history,
        "today": today,
        "under_warranty": bool(equipment.warranty_end and equipment.warranty_end >= today),
        "request_url": request.build_absolute_uri(f"/r/{equipment.public_token}"),
        "can_manage": actor.can(EQUIPMENT.manage_capability),
        "can_create_work_order": actor.can("work_orders.create"),
        **equipment_meter_context(request, equipment, forms=forms),
    }
    return render(request, "assets/equipment_detail.html", context, status=status)


@actor_required
def equipment_create(request):
    actor = request.actor
    require(actor, EQUIPMENT.manage_capability)
    initial = {key: request.GET[key] for key in ("site", "parent") if request.GET.get(key, "").isdigit()}
    form = EquipmentForm(posted(request), actor=actor, initial=initial)
    equipment = save_form(request, form, lambda: services.equipment_create(actor=actor, data=form.service_data()))
    if equipment:
        messages.success(request, _("Equipment %(name)s created.") % {"name": equipment.name})
        return redirect("equipment_detail", equipment.pk)
    return render_form(request, "assets/equipment_form.html", {"nav": "equipment", "form": form})


@actor_required
def equipment_edit(request, pk):
    actor = request.actor
    equipment = entity_get(EQUIPMENT, actor=actor, pk=pk)
    require(actor, EQUIPMENT.manage_capability)
    form = EquipmentForm(posted(request), instance=equipment, actor=actor)
    saved = save_form(
        request,
        form,
        lambda: services.equipment_update(
            actor=actor, pk=equipment.pk, data=form.service_data(), expected_version=form.expected_version
        ),
    )
    if saved:
        messages.success(request, _("Changes saved."))
        return redirect("equipment_detail", equipment.pk)
    return render_form(
        request, "assets/equipment_form.html", {"nav": "equipment", "form": form, "equipment": equipment}
    )


# --- categories ----------------------------------------------------------------------------------


@actor_required
def category_list(request):
    actor = request.actor
    filters = CategoryFilterForm(request.GET, actor=actor)
    page = entity_list(CATEGORY, actor=actor, filters=filters.values(), cursor=_cursor(request), limit=100)
    return render(
        request,
        "assets/category_list.html",
        {"nav": "equipment", "page": page, "filters": filters, "can_manage": actor.can(CATEGORY.manage_capability)},
    )


@actor_required
def category_create(request):
    actor = request.actor
    require(actor, CATEGORY.manage_capability)
    form = CategoryForm(posted(request), actor=actor)
    category = save_form(request, form, lambda: services.category_create(actor=actor, data=form.service_data()))
    if category:
        messages.success(request, _("Category %(name)s created.") % {"name": category.name})
        return redirect("category_list")
    return render_form(request, "assets/category_form.html", {"nav": "equipment", "form": form})


@actor_required
def category_edit(request, pk):
    actor = request.actor
    category = entity_get(CATEGORY, actor=actor, pk=pk)
    require(actor, CATEGORY.manage_capability)
    form = CategoryForm(posted(request), instance=category, actor=actor)
    saved = save_form(
        request,
        form,
        lambda: services.category_update(
            actor=actor, pk=category.pk, data=form.service_data(), expected_version=form.expected_version
        ),
    )
    if saved:
        messages.success(request, _("Changes saved."))
        return redirect("category_list")
    return render_form(request, "assets/category_form.html", {"nav": "equipment", "form": form, "category": category})
