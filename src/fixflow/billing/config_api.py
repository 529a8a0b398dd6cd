"""The billing configuration in the API, under ``/billing/``: the seller settings (GET/PATCH with
If-Match, the logo as an upload), tax rates, rate classes and the technicians billed at them, hourly rates,
price lists and their part prices (one by one or pasted as ``SKU;price`` lines), clients' billing details
and service contracts.

Writes go through :mod:`.config_services` (``billing.configure``: admins, accountants); reads through
:mod:`.config_selectors` (also whoever makes quotes or invoices, except the seller settings). An id of
another organization is a 404, also for roles that may not use the endpoint.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from fixflow.core.api_support import actor_of, if_match_version, page_of, page_response, set_etag
from fixflow.core.pagination import Page, paginate

from . import config_schemas as schemas
from . import config_selectors as selectors
from . import config_services as services

router = Router()

SETTINGS = ["billing settings"]
TAX = ["billing tax rates"]
RATES = ["billing rates"]
LISTS = ["billing price lists"]
CLIENTS = ["billing clients"]
CONTRACTS = ["billing contracts"]


def _data(payload, *, partial: bool) -> dict:
    return payload.model_dump(exclude_unset=partial)


def _created(response: HttpResponse, path: str, version: int | None = None) -> None:
    response["Location"] = f"/api/v1/billing/{path}"
    if version is not None:
        set_etag(response, version)


# --- settings ---------------------------------------------------------------------------------


@router.get(
    "/billing/settings",
    response=schemas.BillingSettingsOut,
    url_name="billing_settings_get",
    tags=SETTINGS,
    summary="The organization as seller and its billing defaults (its ETag is its version)",
)
def settings_get(request: HttpRequest, response: HttpResponse):
    row = selectors.billing_settings_get(actor=actor_of(request))
    set_etag(response, row.version)
    return row


@router.patch(
    "/billing/settings",
    response=schemas.BillingSettingsOut,
    url_name="billing_settings_patch",
    tags=SETTINGS,
    summary="Change the seller details and billing defaults (send If-Match)",
)
def settings_patch(request: HttpRequest, payload: schemas.BillingSettingsPatch, response: HttpResponse):
    row = services.billing_settings_update(
        actor=actor_of(request), data=_data(payload, partial=True), expected_version=if_match_version(request)
    )
    set_etag(response, row.version)
    return row


@router.post(
    "/billing/settings/logo",
    response=schemas.BillingSettingsOut,
    url_name="billing_settings_logo_upload",
    tags=SETTINGS,
    summary="Upload the logo printed on quotes and invoices (PNG or JPEG, at most 1 MB and 4000 px)",
)
def settings_logo_upload(request: HttpRequest, response: HttpResponse, file: File[UploadedFile]):
    row = services.billing_settings_update(
        actor=actor_of(request), data={}, logo=file, expected_version=if_match_version(request)
    )
    set_etag(response, row.version)
    return row


@router.delete(
    "/billing/settings/logo",
    response=schemas.BillingSettingsOut,
    url_name="billing_settings_logo_delete",
    tags=SETTINGS,
    summary="Remove the logo (issued invoices keep theirs)",
)
def settings_logo_delete(request: HttpRequest, response: HttpResponse):
    row = services.billing_settings_update(
        actor=actor_of(request), data={}, remove_logo=True, expected_version=if_match_version(request)
    )
    set_etag(response, row.version)
    return row


# --- tax rates --------------------------------------------------------------------------------


@router.get(
    "/billing/tax-rates",
    response=page_of(schemas.TaxRateOut),
    url_name="billing_tax_rate_list",
    tags=TAX,
    summary="List tax rates",
)
def tax_rate_list(request: HttpRequest, filters: Query[schemas.TaxRateFilter]):
    qs = selectors.tax_rate_list(actor=actor_of(request), active=filters.is_active, q=filters.q)
    page = paginate(qs, ordering=["category", "-rate", "name"], cursor=filters.cursor, limit=filters.limit)
    return page_response(page)


@router.post(
    "/billing/tax-rates",
    response={201: schemas.TaxRateOut},
    url_name="billing_tax_rate_create",
    tags=TAX,
    summary="Create a tax rate (S above 0 %; E, AE, K, G, O with an exemption reason or VATEX code)",
)
def tax_rate_create(request: HttpRequest, payload: schemas.TaxRateIn, response: HttpResponse):
    row = services.tax_rate_create(actor=actor_of(request), data=_data(payload, partial=False))
    _created(response, f"tax-rates/{row.pk}", row.version)
    return Status(201, row)


@router.get(
    "/billing/tax-rates/{id}",
    response=schemas.TaxRateOut,
    url_name="billing_tax_rate_get",
    tags=TAX,
    summary="Get a tax rate",
)
def tax_rate_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    row = selectors.tax_rate_get(actor=actor_of(request), pk=id)
    set_etag(response, row.version)
    return row


@router.patch(
    "/billing/tax-rates/{id}",
    response=schemas.TaxRateOut,
    url_name="billing_tax_rate_patch",
    tags=TAX,
    summary="Change a tax rate (send If-Match); one used on invoices keeps its category and rate",
)
def tax_rate_patch(request: HttpRequest, id: int, payload: schemas.TaxRatePatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.tax_rate_get(actor=actor, pk=id)
    row = services.tax_rate_update(
        actor=actor, tax_rate_id=id, data=_data(payload, partial=True), expected_version=if_match_version(request)
    )
    set_etag(response, row.version)
    return row


@router.delete(
    "/billing/tax-rates/{id}",
    response={204: None},
    url_name="billing_tax_rate_delete",
    tags=TAX,
    summary="Delete an unused tax rate (one on invoices is deactivated instead)",
)
def tax_rate_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.tax_rate_get(actor=actor, pk=id)
    services.tax_rate_delete(actor=actor, tax_rate_id=id)
    return Status(204, None)


# --- rate classes and technicians -------------------------------------------------------------


@router.get(
    "/billing/rate-classes",
    response=page_of(schemas.RateClassOut),
    url_name="billing_rate_class_list",
    tags=RATES,
    summary="List technician rate classes",
)
def rate_class_list(request: HttpRequest, filters: Query[schemas.PageFilter]):
    qs = selectors.rate_class_list(actor=actor_of(request))
    return page_response(paginate(qs, ordering=["name"], cursor=filters.cursor, limit=filters.limit))


@router.post(
    "/billing/rate-classes",
    response={201: schemas.RateClassOut},
    url_name="billing_rate_class_create",
    tags=RATES,
    summary="Create a technician rate class",
)
def rate_class_create(request: HttpRequest, payload: schemas.RateClassIn, response: HttpResponse):
    row = services.rate_class_create(actor=actor_of(request), data=_data(payload, partial=False))
    _created(response, f"rate-classes/{row.pk}", row.version)
    return Status(201, row)


@router.get(
    "/billing/rate-classes/{id}",
    response=schemas.RateClassOut,
    url_name="billing_rate_class_get",
    tags=RATES,
    summary="Get a rate class",
)
def rate_class_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    row = selectors.rate_class_list(actor=actor).get(pk=selectors.rate_class_get(actor=actor, pk=id).pk)
    set_etag(response, row.version)
    return row


@router.patch(
    "/billing/rate-classes/{id}",
    response=schemas.RateClassOut,
    url_name="billing_rate_class_patch",
    tags=RATES,
    summary="Rename a rate class (send If-Match)",
)
def rate_class_patch(request: HttpRequest, id: int, payload: schemas.RateClassPatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.rate_class_get(actor=actor, pk=id)
    row = services.rate_class_update(
        actor=actor, rate_class_id=id, data=_data(payload, partial=True), expected_version=if_match_version(request)
    )
    set_etag(response, row.version)
    return selectors.rate_class_list(actor=actor).get(pk=row.pk)


@router.delete(
    "/billing/rate-classes/{id}",
    response={204: None},
    url_name="billing_rate_class_delete",
    tags=RATES,
    summary="Delete a rate class and its rates (refused while technicians bill at it)",
)
def rate_class_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.rate_class_get(actor=actor, pk=id)
    services.rate_class_delete(actor=actor, rate_class_id=id)
    return Status(204, None)


@router.get(
    "/billing/technicians",
    response=page_of(schemas.TechnicianOut),
    url_name="billing_technician_list",
    tags=RATES,
    summary="Members whose time is billed, with their rate class",
)
def technician_list(request: HttpRequest):
    return page_response(Page(items=selectors.technician_list(actor=actor_of(request)), next_cursor=None, limit=0))


@router.get(
    "/billing/technicians/{id}",
    response=schemas.TechnicianOut,
    url_name="billing_technician_get",
    tags=RATES,
    summary="A technician's rate class (the id is the user's)",
)
def technician_get(request: HttpRequest, id: int):  # noqa: A002
    return selectors.technician_get(actor=actor_of(request), user_id=id)


@router.put(
    "/billing/technicians/{id}",
    response=schemas.TechnicianOut,
    url_name="billing_technician_set",
    tags=RATES,
    summary="Set the rate class a technician bills at (null: none)",
)
def technician_set(request: HttpRequest, id: int, payload: schemas.TechnicianRateClassIn):  # noqa: A002
    actor = actor_of(request)
    selectors.technician_get(actor=actor, user_id=id)
    services.technician_rate_class_set(actor=actor, user_id=id, rate_class_id=payload.rate_class_id)
    return selectors.technician_get(actor=actor, user_id=id)


# --- rates ------------------------------------------------------------------------------------


@router.get(
    "/billing/rates",
    response=page_of(schemas.RateOut),
    url_name="billing_rate_list",
    tags=RATES,
    summary="List hourly rates (the organization's and the price lists')",
)
def rate_list(request: HttpRequest, filters: Query[schemas.RateFilter]):
    qs = selectors.rate_list(
        actor=actor_of(request),
        price_list_id=filters.price_list_id,
        organization_only=filters.organization_only,
        rate_class_id=filters.rate_class_id,
        kind=filters.kind,
    )
    return page_response(paginate(qs, ordering=["id"], cursor=filters.cursor, limit=filters.limit))


@router.post(
    "/billing/rates",
    response={201: schemas.RateOut},
    url_name="billing_rate_create",
    tags=RATES,
    summary="Create an hourly rate (organization or price list; any technician or a rate class)",
)
def rate_create(request: HttpRequest, payload: schemas.RateIn, response: HttpResponse):
    row = services.rate_create(actor=actor_of(request), data=_data(payload, partial=False))
    _created(response, f"rates/{row.pk}")
    return Status(201, row)


@router.get(
    "/billing/rates/{id}",
    response=schemas.RateOut,
    url_name="billing_rate_get",
    tags=RATES,
    summary="Get an hourly rate",
)
def rate_get(request: HttpRequest, id: int):  # noqa: A002
    return selectors.rate_get(actor=actor_of(request), pk=id)


@router.patch(
    "/billing/rates/{id}",
    response=schemas.RateOut,
    url_name="billing_rate_patch",
    tags=RATES,
    summary="Change the price or cost per hour of a rate",
)
def rate_patch(request: HttpRequest, id: int, payload: schemas.RatePatch):  # noqa: A002
    actor = actor_of(request)
    selectors.rate_get(actor=actor, pk=id)
    return services.rate_update(actor=actor, rate_id=id, data=_data(payload, partial=True))


@router.delete(
    "/billing/rates/{id}",
    response={204: None},
    url_name="billing_rate_delete",
    tags=RATES,
    summary="Delete an hourly rate",
)
def rate_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.rate_get(actor=actor, pk=id)
    services.rate_delete(actor=actor, rate_id=id)
    return Status(204, None)


# --- price lists ------------------------------------------------------------------------------


@router.get(
    "/billing/price-lists",
    response=page_of(schemas.PriceListOut),
    url_name="billing_price_list_list",
    tags=LISTS,
    summary="List price lists",
)
def price_list_list(request: HttpRequest, filters: Query[schemas.PriceListFilter]):
    qs = selectors.price_list_list(actor=actor_of(request), active=filters.is_active, q=filters.q)
    return page_response(paginate(qs, ordering=["name"], cursor=filters.cursor, limit=filters.limit))


@router.post(
    "/billing/price-lists",
    response={201: schemas.PriceListOut},
    url_name="billing_price_list_create",
    tags=LISTS,
    summary="Create a price list (currencies with 3 decimals are refused: EN 16931 allows 2)",
)
def price_list_create(request: HttpRequest, payload: schemas.PriceListIn, response: HttpResponse):
    row = services.price_list_create(actor=actor_of(request), data=_data(payload, partial=False))
    _created(response, f"price-lists/{row.pk}", row.version)
    return Status(201, row)


@router.get(
    "/billing/price-lists/{id}",
    response=schemas.PriceListOut,
    url_name="billing_price_list_get",
    tags=LISTS,
    summary="Get a price list",
)
def price_list_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    row = selectors.price_list_get(actor=actor_of(request), pk=id)
    set_etag(response, row.version)
    return row


@router.patch(
    "/billing/price-lists/{id}",
    response=schemas.PriceListOut,
    url_name="billing_price_list_patch",
    tags=LISTS,
    summary="Change a price list (send If-Match)",
)
def price_list_patch(request: HttpRequest, id: int, payload: schemas.PriceListPatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.price_list_get(actor=actor, pk=id)
    row = services.price_list_update(
        actor=actor, price_list_id=id, data=_data(payload, partial=True), expected_version=if_match_version(request)
    )
    set_etag(response, row.version)
    return row


@router.delete(
    "/billing/price-lists/{id}",
    response={204: None},
    url_name="billing_price_list_delete",
    tags=LISTS,
    summary="Delete a price list with its rates and part prices (refused while clients or contracts use it)",
)
def price_list_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.price_list_get(actor=actor, pk=id)
    services.price_list_delete(actor=actor, price_list_id=id)
    return Status(204, None)


@router.get(
    "/billing/price-lists/{id}/items",
    response=page_of(schemas.PriceListItemOut),
    url_name="billing_price_list_item_list",
    tags=LISTS,
    summary="The part prices of a price list",
)
def price_list_item_list(request: HttpRequest, id: int, filters: Query[schemas.PriceListItemFilter]):  # noqa: A002
    actor = actor_of(request)
    price_list = selectors.price_list_get(actor=actor, pk=id)
    qs = selectors.price_list_items(actor=actor, price_list=price_list, q=filters.q)
    return page_response(paginate(qs, ordering=["id"], cursor=filters.cursor, limit=filters.limit))


@router.post(
    "/billing/price-lists/{id}/items",
    response={200: schemas.PriceListItemOut, 201: schemas.PriceListItemOut},
    url_name="billing_price_list_item_set",
    tags=LISTS,
    summary="Set a part's price on a price list (201 when added, 200 when changed)",
)
def price_list_item_set(request: HttpRequest, id: int, payload: schemas.PriceListItemIn):  # noqa: A002
    actor = actor_of(request)
    price_list = selectors.price_list_get(actor=actor, pk=id)
    existed = selectors.price_list_items(actor=actor, price_list=price_list).filter(part_id=payload.part_id).exists()
    item = services.price_list_item_set(
        actor=actor, price_list_id=id, part_id=payload.part_id, unit_price=payload.unit_price
    )
    return Status(200 if existed else 201, selectors.price_list_item_get(actor=actor, pk=item.pk))


@router.post(
    "/billing/price-lists/{id}/items/import",
    response=schemas.PriceListImportOut,
    url_name="billing_price_list_item_import",
    tags=LISTS,
    summary="Set many part prices from 'SKU;price' lines (all or nothing)",
)
def price_list_item_import(request: HttpRequest, id: int, payload: schemas.PriceListImportIn):  # noqa: A002
    actor = actor_of(request)
    selectors.price_list_get(actor=actor, pk=id)
    result = services.price_list_items_import(actor=actor, price_list_id=id, text=payload.text)
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


@router.patch(
    "/billing/price-list-items/{id}",
    response=schemas.PriceListItemOut,
    url_name="billing_price_list_item_patch",
    tags=LISTS,
    summary="Change a part's price on a price list",
)
def price_list_item_patch(request: HttpRequest, id: int, payload: schemas.PriceListItemPatch):  # noqa: A002
    actor = actor_of(request)
    selectors.price_list_item_get(actor=actor, pk=id)
    item = services.price_list_item_update(actor=actor, item_id=id, unit_price=payload.unit_price)
    return selectors.price_list_item_get(actor=actor, pk=item.pk)


@router.delete(
    "/billing/price-list-items/{id}",
    response={204: None},
    url_name="billing_price_list_item_delete",
    tags=LISTS,
    summary="Remove a part's price from a price list",
)
def price_list_item_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.price_list_item_get(actor=actor, pk=id)
    services.price_list_item_delete(actor=actor, item_id=id)
    return Status(204, None)


# --- clients' billing details -----------------------------------------------------------------


def _client_billing_out(actor, client_id) -> dict:
    client, billing = selectors.client_billing_get(actor=actor, client_id=client_id)
    fields = (
        "legal_name",
        "street",
        "address_line_2",
        "postcode",
        "city",
        "country",
        "buyer_reference",
        "endpoint_scheme",
        "endpoint_id",
        "invoice_email",
        "currency",
        "price_list_id",
        "tax_rate_id",
        "payment_terms_days",
    )
    return {
        "client_id": client.pk,
        "client_name": client.name,
        "vat_id": client.vat_id,
        "effective_currency": services.effective_currency(actor.organization, billing),
        "version": client.version,
        **{name: getattr(billing, name) for name in fields},
    }


@router.get(
    "/billing/clients/{id}",
    response=schemas.ClientBillingOut,
    url_name="billing_client_get",
    tags=CLIENTS,
    summary="A client's billing details (the id is the client's; the ETag the client's version)",
)
def client_billing_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    out = _client_billing_out(actor_of(request), id)
    set_etag(response, out["version"])
    return out


@router.patch(
    "/billing/clients/{id}",
    response=schemas.ClientBillingOut,
    url_name="billing_client_patch",
    tags=CLIENTS,
    summary="Change a client's billing details (send If-Match with the client's ETag)",
)
def client_billing_patch(request: HttpRequest, id: int, payload: schemas.ClientBillingPatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.client_billing_get(actor=actor, client_id=id)
    services.client_billing_update(
        actor=actor, client_id=id, data=_data(payload, partial=True), expected_version=if_match_version(request)
    )
    out = _client_billing_out(actor, id)
    set_etag(response, out["version"])
    return out


# --- service contracts ------------------------------------------------------------------------


@router.get(
    "/billing/contracts",
    response=page_of(schemas.ContractOut),
    url_name="billing_contract_list",
    tags=CONTRACTS,
    summary="List service contracts",
)
def contract_list(request: HttpRequest, filters: Query[schemas.ContractFilter]):
    qs = selectors.contract_list(
        actor=actor_of(request), client_id=filters.client_id, active=filters.is_active, q=filters.q
    )
    return page_response(paginate(qs, ordering=["-valid_from"], cursor=filters.cursor, limit=filters.limit))


@router.post(
    "/billing/contracts",
    response={201: schemas.ContractOut},
    url_name="billing_contract_create",
    tags=CONTRACTS,
    summary="Create a service contract for a client",
)
def contract_create(request: HttpRequest, payload: schemas.ContractIn, response: HttpResponse):
    actor = actor_of(request)
    row = services.contract_create(actor=actor, data=_data(payload, partial=False))
    _created(response, f"contracts/{row.pk}", row.version)
    return Status(201, selectors.contract_get(actor=actor, pk=row.pk))


@router.get(
    "/billing/contracts/{id}",
    response=schemas.ContractOut,
    url_name="billing_contract_get",
    tags=CONTRACTS,
    summary="Get a service contract",
)
def contract_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    row = selectors.contract_get(actor=actor_of(request), pk=id)
    set_etag(response, row.version)
    return row


@router.patch(
    "/billing/contracts/{id}",
    response=schemas.ContractOut,
    url_name="billing_contract_patch",
    tags=CONTRACTS,
    summary="Change a service contract (send If-Match)",
)
def contract_patch(request: HttpRequest, id: int, payload: schemas.ContractPatch, response: HttpResponse):  # noqa: A002
    actor = actor_of(request)
    selectors.contract_get(actor=actor, pk=id)
    row = services.contract_update(
        actor=actor, contract_id=id, data=_data(payload, partial=True), expected_version=if_match_version(request)
    )
    set_etag(response, row.version)
    return selectors.contract_get(actor=actor, pk=row.pk)


@router.delete(
    "/billing/contracts/{id}",
    response={204: None},
    url_name="billing_contract_delete",
    tags=CONTRACTS,
    summary="Delete a service contract no invoice names (else deactivate it)",
)
def contract_delete(request: HttpRequest, id: int):  # noqa: A002
    actor = actor_of(request)
    selectors.contract_get(actor=actor, pk=id)
    services.contract_delete(actor=actor, contract_id=id)
    return Status(204, None)
