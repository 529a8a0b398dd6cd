"""Pages of the parts catalogue."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fixflow.core.entities import entity_get, entity_list
from fixflow.core.permissions import require
from fixflow.web.forms import active_filter, posted, render_form, save_form
from fixflow.web.helpers import actor_required

from . import services
from .forms import PartFilterForm, PartForm
from .services import PART


@actor_required
def part_list(request):
    actor = request.actor
    filters = PartFilterForm(request.GET, actor=actor)
    values = filters.values()
    page = entity_list(
        PART,
        actor=actor,
        cursor=request.GET.get("cursor") or None,
        filters={"q": values.get("q"), "is_active": active_filter(values.get("active"))},
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
