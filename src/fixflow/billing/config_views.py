"""Pages to configure billing: the seller and pricing settings, tax rates, rates and rate classes with the
technicians in them, price lists with their rates and part prices, clients' billing details (a card on the
client page and its form) and service contracts.

``billing.configure`` (admins, accountants) changes everything; whoever makes quotes or invoices
(dispatchers too) reads tax rates, rates, price lists, contracts and clients' billing details; the seller
settings stay with ``billing.configure``. Reads come from :mod:`.config_selectors`, writes go through
:mod:`.config_services`; a refused input is shown on the form it came from, and nothing is lost.
"""

from __future__ import annotations

import base64

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.permissions import require
from fixflow.web.forms import call_service, failed_status, posted, render_form
from fixflow.web.helpers import actor_required

from . import config_selectors as selectors
from . import config_services as services
from .config_forms import (
    ENDPOINT_SCHEMES,
    ActiveFilterForm,
    BillingSettingsForm,
    ClientBillingForm,
    ContractFilterForm,
    ContractForm,
    PriceListForm,
    PriceListImportForm,
    PriceListItemForm,
    RateClassForm,
    RateTableForm,
    TaxRateForm,
    TechniciansForm,
)
from .config_services import VATEX_FOR_CATEGORY

NAV = "settings"
CONFIGURE = "billing.configure"
VATEX_SUGGESTIONS = [
    *VATEX_FOR_CATEGORY.values(),
    "VATEX-EU-132",
    "VATEX-EU-143",
    "VATEX-EU-148",
    "VATEX-EU-151",
    "VATEX-EU-309",
    "VATEX-EU-79-C",
    "VATEX-EU-F",
    "VATEX-EU-J",
    "VATEX-FR-FRANCHISE",
]


def _refused(request, exc: DomainError, url: str):
    """A refused one-click action (delete, remove) shown as a message on the page it came from."""
    if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
        raise exc
    messages.error(request, exc.message)
    return redirect(url)


# --- settings ---------------------------------------------------------------------------------


def _logo_src(row) -> str:
    """The current logo as a data: URL for the preview (at most 1 MB; media files are not served)."""
    if not row.logo:
        return ""
    try:
        with row.logo.open("rb") as handle:
            data = handle.read(services.LOGO_MAX_BYTES + 1)
    except OSError:
        return ""
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


@actor_required
def settings_page(request):
    """The one billing settings form (seller, tax ids, bank, terms, logo, numbering, pricing defaults)."""
    actor = request.actor
    row = selectors.billing_settings_get(actor=actor)
    form = BillingSettingsForm(posted(request), request.FILES or None, instance=row, actor=actor)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            lambda: services.billing_settings_update(
                actor=actor,
                data=form.service_data(),
                expected_version=form.expected_version,
                logo=form.cleaned_data.get("logo") or None,
                remove_logo=bool(form.cleaned_data.get("remove_logo")),
            ),
        )
        if saved:
            messages.success(request, _("Billing settings saved."))
            return redirect("billing-settings")
    return render_form(
        request,
        "billing/config/settings.html",
        {"nav": NAV, "form": form, "settings": row, "logo_src": _logo_src(row)},
    )


# --- tax rates --------------------------------------------------------------------------------


@actor_required
def tax_rate_list(request):
    actor = request.actor
    filters = ActiveFilterForm(request.GET)
    values = filters.values()
    rates = list(selectors.tax_rate_list(actor=actor, active=values["active"], q=values["q"]))
    default_id = services.settings_for(actor.organization).default_tax_rate_id
    return render(
        request,
        "billing/config/tax_rate_list.html",
        {
            "nav": NAV,
            "rates": rates,
            "filters": filters,
            "default_id": default_id,
            "can_manage": actor.can(CONFIGURE),
        },
    )


def _tax_rate_page(request, rate=None):
    actor = request.actor
    require(actor, CONFIGURE)
    form = TaxRateForm(posted(request), instance=rate, actor=actor)
    if request.method == "POST" and form.is_valid():
        if rate is None:
            saved = call_service(form, lambda: services.tax_rate_create(actor=actor, data=form.service_data()))
        else:
            saved = call_service(
                form,
                lambda: services.tax_rate_update(
                    actor=actor, tax_rate_id=rate.pk, data=form.service_data(), expected_version=form.expected_version
                ),
            )
        if saved:
            messages.success(request, _("Tax rate %(name)s saved.") % {"name": saved.name})
            return redirect("billing-tax-rate-list")
    usage = services.tax_rate_usage(rate) if rate is not None else None
    return render_form(
        request,
        "billing/config/tax_rate_form.html",
        {"nav": NAV, "form": form, "rate": rate, "usage": usage, "vatex": VATEX_SUGGESTIONS},
    )


@actor_required
def tax_rate_create(request):
    return _tax_rate_page(request)


@actor_required
def tax_rate_edit(request, pk):
    return _tax_rate_page(request, selectors.tax_rate_get(actor=request.actor, pk=pk))


@require_POST
@actor_required
def tax_rate_delete(request, pk):
    actor = request.actor
    rate = selectors.tax_rate_get(actor=actor, pk=pk)
    try:
        services.tax_rate_delete(actor=actor, tax_rate_id=rate.pk)
    except DomainError as exc:
        return _refused(request, exc, reverse("billing-tax-rate-edit", args=[rate.pk]))
    messages.success(request, _("Tax rate %(name)s deleted.") % {"name": rate.name})
    return redirect("billing-tax-rate-list")


# --- rates, rate classes and technicians ------------------------------------------------------


def _rates_page(request, *, table_form=None, class_form=None, tech_form=None, status=200):
    actor = request.actor
    classes = list(selectors.rate_class_list(actor=actor))
    table = selectors.rate_table(actor=actor)
    context = {
        "nav": NAV,
        "can_manage": actor.can(CONFIGURE),
        "classes": classes,
        "table_form": table_form or RateTableForm(table=table, currency=actor.organization.currency),
        "class_form": class_form or _class_form(actor),
        "tech_form": tech_form
        or TechniciansForm(technicians=selectors.technician_list(actor=actor), classes=classes, prefix="t"),
        "currency": actor.organization.currency,
    }
    return render(request, "billing/config/rates.html", context, status=status)


def _class_form(actor, data=None) -> RateClassForm:
    form = RateClassForm(data, actor=actor, prefix="class")
    form.fields["name"].label = _("New rate class")
    return form


@actor_required
def rates_page(request):
    """The organization's default rates per rate class, the rate classes and the technicians in them."""
    selectors.require_read(request.actor)
    return _rates_page(request)


@require_POST
@actor_required
def rates_save(request):
    """Save the organization's rate table."""
    actor = request.actor
    require(actor, CONFIGURE)
    form = RateTableForm(request.POST, table=selectors.rate_table(actor=actor), currency=actor.organization.currency)
    saved = form.is_valid() and call_service(form, lambda: services.rates_replace(actor=actor, rows=form.rows()))
    if saved is not None and saved is not False:
        messages.success(request, _("Rates saved. They price work invoiced from now on."))
        return redirect(reverse("billing-rates") + "#rates")
    return _rates_page(request, table_form=form, status=failed_status(request))


@require_POST
@actor_required
def rate_class_create(request):
    actor = request.actor
    require(actor, CONFIGURE)
    form = _class_form(actor, request.POST)
    if form.is_valid():
        saved = call_service(form, lambda: services.rate_class_create(actor=actor, data=form.service_data()))
        if saved:
            messages.success(request, _("Rate class %(name)s added: set its rates below.") % {"name": saved.name})
            return redirect(reverse("billing-rates") + "#rates")
    return _rates_page(request, class_form=form, status=failed_status(request))


@actor_required
def rate_class_edit(request, pk):
    actor = request.actor
    rate_class = selectors.rate_class_get(actor=actor, pk=pk)
    require(actor, CONFIGURE)
    form = RateClassForm(posted(request), instance=rate_class, actor=actor)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            lambda: services.rate_class_update(
                actor=actor,
                rate_class_id=rate_class.pk,
                data=form.service_data(),
                expected_version=form.expected_version,
            ),
        )
        if saved:
            messages.success(request, _("Rate class renamed to %(name)s.") % {"name": saved.name})
            return redirect(reverse("billing-rates") + "#classes")
    return render_form(
        request, "billing/config/rate_class_form.html", {"nav": NAV, "form": form, "rate_class": rate_class}
    )


@require_POST
@actor_required
def rate_class_delete(request, pk):
    actor = request.actor
    rate_class = selectors.rate_class_get(actor=actor, pk=pk)
    try:
        services.rate_class_delete(actor=actor, rate_class_id=rate_class.pk)
    except DomainError as exc:
        return _refused(request, exc, reverse("billing-rates") + "#classes")
    messages.success(request, _("Rate class %(name)s deleted with its rates.") % {"name": rate_class.name})
    return redirect(reverse("billing-rates") + "#classes")


@require_POST
@actor_required
def technicians_save(request):
    """Save the rate class of every technician of the table whose choice changed."""
    actor = request.actor
    require(actor, CONFIGURE)
    classes = list(selectors.rate_class_list(actor=actor))
    form = TechniciansForm(
        request.POST, technicians=selectors.technician_list(actor=actor), classes=classes, prefix="t"
    )
    if form.is_valid():
        changes = form.changes()

        def save():
            for user_id, class_id in changes:
                services.technician_rate_class_set(actor=actor, user_id=user_id, rate_class_id=class_id)
            return len(changes)

        count = call_service(form, save)
        if count is not None:
            messages.success(
                request,
                ngettext("%(n)d technician's rate class changed.", "%(n)d technicians' rate classes changed.", count)
                % {"n": count},
            )
            return redirect(reverse("billing-rates") + "#technicians")
    return _rates_page(request, tech_form=form, status=failed_status(request))


# --- price lists ------------------------------------------------------------------------------


@actor_required
def price_list_list(request):
    actor = request.actor
    filters = ActiveFilterForm(request.GET)
    values = filters.values()
    lists = selectors.price_list_list(actor=actor, active=values["active"], q=values["q"])
    return render(
        request,
        "billing/config/price_list_list.html",
        {"nav": NAV, "lists": lists, "filters": filters, "can_manage": actor.can(CONFIGURE)},
    )


def _price_list_form_page(request, price_list=None):
    actor = request.actor
    require(actor, CONFIGURE)
    form = PriceListForm(posted(request), instance=price_list, actor=actor)
    if request.method == "POST" and form.is_valid():
        if price_list is None:
            saved = call_service(form, lambda: services.price_list_create(actor=actor, data=form.service_data()))
        else:
            saved = call_service(
                form,
                lambda: services.price_list_update(
                    actor=actor,
                    price_list_id=price_list.pk,
                    data=form.service_data(),
                    expected_version=form.expected_version,
                ),
            )
        if saved:
            messages.success(request, _("Price list %(name)s saved.") % {"name": saved.name})
            return redirect("billing-price-list-detail", saved.pk)
    return render_form(
        request, "billing/config/price_list_form.html", {"nav": NAV, "form": form, "price_list": price_list}
    )


@actor_required
def price_list_create(request):
    return _price_list_form_page(request)


@actor_required
def price_list_edit(request, pk):
    return _price_list_form_page(request, selectors.price_list_get(actor=request.actor, pk=pk))


def _price_list_page(request, price_list, *, rates_form=None, item_form=None, import_form=None, status=200):
    actor = request.actor
    q = (request.GET.get("q") or "").strip()
    items = selectors.price_list_items(actor=actor, price_list=price_list, q=q)
    context = {
        "nav": NAV,
        "price_list": price_list,
        "can_manage": actor.can(CONFIGURE),
        "rates_form": rates_form
        or RateTableForm(table=selectors.rate_table(actor=actor, price_list=price_list), currency=price_list.currency),
        "item_form": item_form or PriceListItemForm(prefix="item"),
        "import_form": import_form or PriceListImportForm(prefix="import"),
        "items": items[:500],
        "item_count": items.count(),
        "q": q,
        "clients": selectors.price_list_clients(actor=actor, price_list=price_list),
    }
    return render(request, "billing/config/price_list_detail.html", context, status=status)


@actor_required
def price_list_detail(request, pk):
    return _price_list_page(request, selectors.price_list_get(actor=request.actor, pk=pk))


@require_POST
@actor_required
def price_list_delete(request, pk):
    actor = request.actor
    price_list = selectors.price_list_get(actor=actor, pk=pk)
    try:
        services.price_list_delete(actor=actor, price_list_id=price_list.pk)
    except DomainError as exc:
        return _refused(request, exc, reverse("billing-price-list-detail", args=[price_list.pk]))
    messages.success(request, _("Price list %(name)s deleted.") % {"name": price_list.name})
    return redirect("billing-price-list-list")


def _managed_price_list(request, pk):
    price_list = selectors.price_list_get(actor=request.actor, pk=pk)
    require(request.actor, CONFIGURE)
    return price_list


@require_POST
@actor_required
def price_list_rates(request, pk):
    actor = request.actor
    price_list = _managed_price_list(request, pk)
    table = selectors.rate_table(actor=actor, price_list=price_list)
    form = RateTableForm(request.POST, table=table, currency=price_list.currency)
    if form.is_valid():
        saved = call_service(
            form, lambda: services.rates_replace(actor=actor, price_list_id=price_list.pk, rows=form.rows())
        )
        if saved is not None:
            messages.success(request, _("Rates of %(name)s saved.") % {"name": price_list.name})
            return redirect(reverse("billing-price-list-detail", args=[price_list.pk]) + "#rates")
    return _price_list_page(request, price_list, rates_form=form, status=failed_status(request))


@require_POST
@actor_required
def price_list_item_add(request, pk):
    actor = request.actor
    price_list = _managed_price_list(request, pk)
    form = PriceListItemForm(request.POST, prefix="item")
    if form.is_valid():
        part = selectors.part_by_sku(actor=actor, sku=form.cleaned_data["sku"])
        if part is None:
            form.add_error("sku", _("No part with the SKU %(sku)s.") % {"sku": form.cleaned_data["sku"]})
        else:
            item = call_service(
                form,
                lambda: services.price_list_item_set(
                    actor=actor,
                    price_list_id=price_list.pk,
                    part_id=part.pk,
                    unit_price=form.cleaned_data["unit_price"],
                ),
            )
            if item:
                messages.success(request, _("Price of %(sku)s set.") % {"sku": part.sku})
                return redirect(reverse("billing-price-list-detail", args=[price_list.pk]) + "#parts")
    return _price_list_page(request, price_list, item_form=form, status=failed_status(request))


@require_POST
@actor_required
def price_list_import(request, pk):
    actor = request.actor
    price_list = _managed_price_list(request, pk)
    form = PriceListImportForm(request.POST, prefix="import")
    if form.is_valid():
        result = call_service(
            form,
            lambda: services.price_list_items_import(
                actor=actor, price_list_id=price_list.pk, text=form.cleaned_data["lines"]
            ),
        )
        if result is not None:
            messages.success(
                request,
                _("Part prices imported: %(c)d added, %(u)d changed, %(s)d already so.")
                % {"c": result.created, "u": result.updated, "s": result.unchanged},
            )
            return redirect(reverse("billing-price-list-detail", args=[price_list.pk]) + "#parts")
    return _price_list_page(request, price_list, import_form=form, status=failed_status(request))


@require_POST
@actor_required
def price_list_item_remove(request, pk):
    actor = request.actor
    item = selectors.price_list_item_get(actor=actor, pk=pk)
    url = reverse("billing-price-list-detail", args=[item.price_list_id]) + "#parts"
    try:
        services.price_list_item_delete(actor=actor, item_id=item.pk)
    except DomainError as exc:
        return _refused(request, exc, url)
    messages.success(request, _("%(sku)s removed from the price list.") % {"sku": item.part.sku})
    return redirect(url)


@require_GET
@actor_required
def part_options(request):
    """``<option>``s of parts matching ``?item-sku=`` for the part price form's suggestions (htmx)."""
    actor = request.actor
    selectors.require_read(actor)
    q = request.GET.get("item-sku") or request.GET.get("q") or ""
    parts = selectors.part_search(actor=actor, q=q)
    return render(request, "billing/config/_part_options.html", {"parts": parts})


# --- clients' billing details -----------------------------------------------------------------


@require_GET
@actor_required
def client_card(request, pk):
    """The "Billing" card of the client page (loaded by htmx): details, effective currency and tax,
    contracts."""
    actor = request.actor
    summary = selectors.client_billing_summary(actor=actor, client_id=pk)
    return render(
        request,
        "billing/config/_client_card.html",
        {"summary": summary, "can_manage": actor.can(CONFIGURE)},
    )


@actor_required
def client_billing_edit(request, pk):
    actor = request.actor
    client, billing = selectors.client_billing_get(actor=actor, client_id=pk)
    require(actor, CONFIGURE)
    form = ClientBillingForm(posted(request), actor=actor, client=client, billing=billing)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            lambda: services.client_billing_update(
                actor=actor, client_id=client.pk, data=form.service_data(), expected_version=form.expected_version
            ),
        )
        if saved:
            messages.success(request, _("Billing details of %(name)s saved.") % {"name": client.name})
            return redirect(reverse("client_detail", args=[client.pk]) + "#billing")
    return render_form(
        request,
        "billing/config/client_billing_form.html",
        {"nav": "clients", "form": form, "client": client, "schemes": ENDPOINT_SCHEMES},
    )


# --- service contracts ------------------------------------------------------------------------


@actor_required
def contract_list(request):
    actor = request.actor
    filters = ContractFilterForm(request.GET, actor=actor)
    values = filters.values()
    contracts = selectors.contract_list(
        actor=actor, client_id=values["client_id"], active=values["active"], q=values["q"]
    )
    return render(
        request,
        "billing/config/contract_list.html",
        {
            "nav": "clients",
            "contracts": contracts[:500],
            "filters": filters,
            "client_id": values["client_id"],
            "can_manage": actor.can(CONFIGURE),
        },
    )


@actor_required
def contract_detail(request, pk):
    actor = request.actor
    contract = selectors.contract_get(actor=actor, pk=pk)
    return render(
        request,
        "billing/config/contract_detail.html",
        {"nav": "clients", "contract": contract, "can_manage": actor.can(CONFIGURE)},
    )


def _contract_page(request, contract=None):
    actor = request.actor
    require(actor, CONFIGURE)
    form = ContractForm(posted(request), actor=actor, contract=contract, client_id=request.GET.get("client"))
    if request.method == "POST" and form.is_valid():
        if contract is None:
            saved = call_service(form, lambda: services.contract_create(actor=actor, data=form.service_data()))
        else:
            saved = call_service(
                form,
                lambda: services.contract_update(
                    actor=actor,
                    contract_id=contract.pk,
                    data=form.service_data(),
                    expected_version=form.expected_version,
                ),
            )
        if saved:
            messages.success(request, _("Contract %(name)s saved.") % {"name": saved.name})
            return redirect("billing-contract-detail", saved.pk)
    return render_form(
        request, "billing/config/contract_form.html", {"nav": "clients", "form": form, "contract": contract}
    )


@actor_required
def contract_create(request):
    return _contract_page(request)


@actor_required
def contract_edit(request, pk):
    return _contract_page(request, selectors.contract_get(actor=request.actor, pk=pk))


@require_POST
@actor_required
def contract_delete(request, pk):
    actor = request.actor
    contract = selectors.contract_get(actor=actor, pk=pk)
    try:
        services.contract_delete(actor=actor, contract_id=contract.pk)
    except DomainError as exc:
        return _refused(request, exc, reverse("billing-contract-detail", args=[contract.pk]))
    messages.success(request, _("Contract %(name)s deleted.") % {"name": contract.name})
    return redirect(reverse("billing-contract-list") + f"?client={contract.client_id}")


urlpatterns = [
    path("settings/billing/", settings_page, name="billing-settings"),
    path("settings/billing/tax-rates/", tax_rate_list, name="billing-tax-rate-list"),
    path("settings/billing/tax-rates/new/", tax_rate_create, name="billing-tax-rate-create"),
    path("settings/billing/tax-rates/<int:pk>/edit/", tax_rate_edit, name="billing-tax-rate-edit"),
    path("settings/billing/tax-rates/<int:pk>/delete/", tax_rate_delete, name="billing-tax-rate-delete"),
    path("settings/billing/rates/", rates_page, name="billing-rates"),
    path("settings/billing/rates/save/", rates_save, name="billing-rates-save"),
    path("settings/billing/rates/technicians/", technicians_save, name="billing-technicians"),
    path("settings/billing/rate-classes/new/", rate_class_create, name="billing-rate-class-create"),
    path("settings/billing/rate-classes/<int:pk>/edit/", rate_class_edit, name="billing-rate-class-edit"),
    path("settings/billing/rate-classes/<int:pk>/delete/", rate_class_delete, name="billing-rate-class-delete"),
    path("settings/billing/price-lists/", price_list_list, name="billing-price-list-list"),
    path("settings/billing/price-lists/new/", price_list_create, name="billing-price-list-create"),
    path("settings/billing/price-lists/parts/", part_options, name="billing-part-options"),
    path("settings/billing/price-lists/<int:pk>/", price_list_detail, name="billing-price-list-detail"),
    path("settings/billing/price-lists/<int:pk>/edit/", price_list_edit, name="billing-price-list-edit"),
    path("settings/billing/price-lists/<int:pk>/delete/", price_list_delete, name="billing-price-list-delete"),
    path("settings/billing/price-lists/<int:pk>/rates/", price_list_rates, name="billing-price-list-rates"),
    path("settings/billing/price-lists/<int:pk>/parts/add/", price_list_item_add, name="billing-price-list-item-add"),
    path("settings/billing/price-lists/<int:pk>/parts/import/", price_list_import, name="billing-price-list-import"),
    path(
        "settings/billing/price-list-parts/<int:pk>/remove/",
        price_list_item_remove,
        name="billing-price-list-item-remove",
    ),
    path("clients/<int:pk>/billing/", client_billing_edit, name="billing-client-edit"),
    path("clients/<int:pk>/billing/card/", client_card, name="billing-client-card"),
    path("contracts/", contract_list, name="billing-contract-list"),
    path("contracts/new/", contract_create, name="billing-contract-create"),
    path("contracts/<int:pk>/", contract_detail, name="billing-contract-detail"),
    path("contracts/<int:pk>/edit/", contract_edit, name="billing-contract-edit"),
    path("contracts/<int:pk>/delete/", contract_delete, name="billing-contract-delete"),
]
