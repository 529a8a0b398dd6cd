"""Pages for clients (with their contacts, edited in place) and sites."""

from urllib.parse import quote

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fixflow.assets.services import EQUIPMENT
from fixflow.core.entities import entity_get, entity_list, entity_queryset
from fixflow.core.permissions import require
from fixflow.service.selectors import work_order_list
from fixflow.web.forms import active_filter, failed_status, plain_decimal, posted, render_form, save_form
from fixflow.web.helpers import actor_required

from . import services
from .forms import ClientFilterForm, ClientForm, ContactForm, SiteFilterForm, SiteForm
from .services import CLIENT, CONTACT, SITE


def _cursor(request) -> str | None:
    return request.GET.get("cursor") or None


# --- clients -------------------------------------------------------------------------------------


@actor_required
def client_list(request):
    actor = request.actor
    filters = ClientFilterForm(request.GET, actor=actor)
    values = filters.values()
    page = entity_list(
        CLIENT,
        actor=actor,
        cursor=_cursor(request),
        filters={"q": values.get("q"), "is_active": active_filter(values.get("active"))},
    )
    return render(
        request,
        "customers/client_list.html",
        {"nav": "clients", "page": page, "filters": filters, "can_manage": actor.can(CLIENT.manage_capability)},
    )


def _client_page(request, client, *, add_form=None, edit_contact=None, edit_form=None, status=200):
    """The client page; the contact forms passed in (bound after a refused POST) are shown in place."""
    actor = request.actor
    can_manage = actor.can(CLIENT.manage_capability)
    contacts = None
    if actor.can(CONTACT.view_capability):
        contacts = entity_list(CONTACT, actor=actor, filters={"client": client.pk}, limit=200).items
    if can_manage and add_form is None:
        add_form = ContactForm(actor=actor, prefix="new")
    context = {
        "nav": "clients",
        "client": client,
        "can_manage": can_manage,
        "contacts": contacts,
        "add_form": add_form,
        "edit_contact": edit_contact,
        "edit_form": edit_form,
        "sites": entity_list(SITE, actor=actor, filters={"client": client.pk}, limit=100),
        "work_orders": work_order_list(actor=actor, filters={"client": client.pk}, limit=10).items,
        "can_create_work_order": actor.can("work_orders.create"),
    }
    return render(request, "customers/client_detail.html", context, status=status)


@actor_required
def client_detail(request, pk):
    return _client_page(request, entity_get(CLIENT, actor=request.actor, pk=pk))


@actor_required
def client_create(request):
    actor = request.actor
    require(actor, CLIENT.manage_capability)
    form = ClientForm(posted(request), actor=actor)
    client = save_form(request, form, lambda: services.client_create(actor=actor, data=form.service_data()))
    if client:
        messages.success(request, _("Client %(name)s created.") % {"name": client.name})
        return redirect("client_detail", client.pk)
    return render_form(request, "customers/client_form.html", {"nav": "clients", "form": form})


@actor_required
def client_edit(request, pk):
    actor = request.actor
    client = entity_get(CLIENT, actor=actor, pk=pk)
    require(actor, CLIENT.manage_capability)
    form = ClientForm(posted(request), instance=client, actor=actor)
    saved = save_form(
        request,
        form,
        lambda: services.client_update(
            actor=actor, pk=client.pk, data=form.service_data(), expected_version=form.expected_version
        ),
    )
    if saved:
        messages.success(request, _("Changes saved."))
        return redirect("client_detail", client.pk)
    return render_form(request, "customers/client_form.html", {"nav": "clients", "form": form, "client": client})


# --- contacts (on the client page) ---------------------------------------------------------------


def _contacts_url(client_id: int) -> str:
    return reverse("client_detail", args=[client_id]) + "#contacts"


@actor_required
def contact_create(request, client_pk):
    actor = request.actor
    client = entity_get(CLIENT, actor=actor, pk=client_pk)
    require(actor, CONTACT.manage_capability)
    if request.method != "POST":
        return redirect(_contacts_url(client.pk))
    form = ContactForm(request.POST, actor=actor, prefix="new")
    contact = save_form(
        request,
        form,
        lambda: services.contact_create(actor=actor, data={**form.service_data(), "client_id": client.pk}),
    )
    if contact:
        return redirect(_contacts_url(client.pk))
    return _client_page(request, client, add_form=form, status=failed_status(request))


@actor_required
def contact_edit(request, pk):
    actor = request.actor
    contact = entity_get(CONTACT, actor=actor, pk=pk)
    require(actor, CONTACT.manage_capability)
    form = ContactForm(posted(request), instance=contact, actor=actor, prefix=f"contact-{contact.pk}")
    saved = save_form(
        request,
        form,
        lambda: services.contact_update(
            actor=actor, pk=contact.pk, data=form.service_data(), expected_version=form.expected_version
        ),
    )
    if saved:
        return redirect(_contacts_url(contact.client_id))
    status = failed_status(request) if request.method == "POST" else 200
    return _client_page(request, contact.client, edit_contact=contact, edit_form=form, status=status)


@require_POST
@actor_required
def contact_delete(request, pk):
    actor = request.actor
    contact = entity_get(CONTACT, actor=actor, pk=pk)
    services.contact_delete(actor=actor, pk=contact.pk)
    return redirect(_contacts_url(contact.client_id))


# --- sites ---------------------------------------------------------------------------------------


@actor_required
def site_list(request):
    actor = request.actor
    filters = SiteFilterForm(request.GET, actor=actor)
    values = filters.values()
    page = entity_list(
        SITE,
        actor=actor,
        cursor=_cursor(request),
        filters={
            "q": values.get("q"),
            "client": values.get("client"),
            "is_active": active_filter(values.get("active")),
        },
    )
    return render(
        request,
        "customers/site_list.html",
        {"nav": "clients", "page": page, "filters": filters, "can_manage": actor.can(SITE.manage_capability)},
    )


def equipment_tree(items) -> list[tuple[object, int]]:
    """Equipment in hierarchy order with its depth (roots first, each followed by its parts)."""
    by_parent: dict[int | None, list] = {}
    ids = {e.pk for e in items}
    for e in items:
        by_parent.setdefault(e.parent_id if e.parent_id in ids else None, []).append(e)
    out: list[tuple[object, int]] = []

    def walk(parent_id, depth):
        for e in by_parent.get(parent_id, []):
            out.append((e, depth))
            walk(e.pk, depth + 1)

    walk(None, 0)
    return out


def maps_url(site) -> str:
    if site.latitude is not None and site.longitude is not None:
        return (
            f"https://www.openstreetmap.org/?mlat={site.latitude}&mlon={site.longitude}"
            f"#map=17/{site.latitude}/{site.longitude}"
        )
    if site.address.strip():
        return "https://www.openstreetmap.org/search?query=" + quote(" ".join(site.address.split()))
    return ""


@actor_required
def site_detail(request, pk):
    actor = request.actor
    site = entity_get(SITE, actor=actor, pk=pk)
    equipment = entity_queryset(EQUIPMENT, actor=actor).filter(site_id=site.pk).order_by("name", "id")
    context = {
        "nav": "clients",
        "site": site,
        "maps_url": maps_url(site),
        "coordinates": (
            f"{plain_decimal(site.latitude)}, {plain_decimal(site.longitude)}"
            if site.latitude is not None and site.longitude is not None
            else ""
        ),
        "equipment": equipment_tree(list(equipment)),
        "work_orders": work_order_list(actor=actor, filters={"site": site.pk}, limit=10).items,
        "can_manage": actor.can(SITE.manage_capability),
        "can_manage_equipment": actor.can(EQUIPMENT.manage_capability),
        "can_create_work_order": actor.can("work_orders.create"),
    }
    return render(request, "customers/site_detail.html", context)


@actor_required
def site_create(request):
    actor = request.actor
    require(actor, SITE.manage_capability)
    initial = {}
    if client_id := request.GET.get("client"):
        initial["client"] = client_id
    form = SiteForm(posted(request), actor=actor, initial=initial)
    site = save_form(request, form, lambda: services.site_create(actor=actor, data=form.service_data()))
    if site:
        messages.success(request, _("Site %(name)s created.") % {"name": site.name})
        return redirect("site_detail", site.pk)
    return render_form(request, "customers/site_form.html", {"nav": "clients", "form": form})


@actor_required
def site_edit(request, pk):
    actor = request.actor
    site = entity_get(SITE, actor=actor, pk=pk)
    require(actor, SITE.manage_capability)
    form = SiteForm(posted(request), instance=site, actor=actor)
    saved = save_form(
        request,
        form,
        lambda: services.site_update(
            actor=actor, pk=site.pk, data=form.service_data(), expected_version=form.expected_version
        ),
    )
    if saved:
        messages.success(request, _("Changes saved."))
        return redirect("site_detail", site.pk)
    return render_form(request, "customers/site_form.html", {"nav": "clients", "form": form, "site": site})
