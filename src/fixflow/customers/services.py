"""Clients, contacts and sites: specs for the shared create/update/delete rules, and their services."""

from functools import partial

from fixflow.core.entities import EntitySpec, entity_create, entity_delete, entity_update

from .models import Client, Contact, Site


def _client_scope(actor, qs):
    return qs.filter(pk=actor.client_id) if actor.is_client else qs


def _by_client_scope(actor, qs):
    return qs.filter(client_id=actor.client_id) if actor.is_client else qs


CLIENT = EntitySpec(
    model=Client,
    label="client",
    view_capability="clients.view",
    manage_capability="clients.manage",
    fields=("name", "billing_address", "vat_id", "email", "phone", "notes", "is_active"),
    scope=_client_scope,
    search_fields=("name", "email", "vat_id"),
    filter_fields=("is_active",),
)
CONTACT = EntitySpec(
    model=Contact,
    label="contact",
    view_capability="contacts.view",
    manage_capability="clients.manage",
    fields=("name", "job_title", "email", "phone", "is_primary", "notes"),
    relations={"client": Client},
    required_relations=("client",),
    scope=_by_client_scope,
    search_fields=("name", "email", "phone"),
    filter_fields=("client",),
    select_related=("client",),
)
SITE = EntitySpec(
    model=Site,
    label="site",
    view_capability="clients.view",
    manage_capability="clients.manage",
    fields=("name", "address", "timezone", "latitude", "longitude", "access_notes", "is_active"),
    relations={"client": Client},
    required_relations=("client",),
    scope=_by_client_scope,
    search_fields=("name", "address", "client__name"),
    filter_fields=("client", "is_active"),
    select_related=("client",),
)

client_create = partial(entity_create, CLIENT)
client_update = partial(entity_update, CLIENT)
client_delete = partial(entity_delete, CLIENT)
contact_create = partial(entity_create, CONTACT)
contact_update = partial(entity_update, CONTACT)
contact_delete = partial(entity_delete, CONTACT)
site_create = partial(entity_create, SITE)
site_update = partial(entity_update, SITE)
site_delete = partial(entity_delete, SITE)
