"""Clients, contacts and sites in the API."""

from ninja import Router

from fixflow.core.crud_api import ListFilter, register_crud

from . import schemas
from .services import CLIENT, CONTACT, SITE

router = Router()


class ClientFilter(ListFilter):
    is_active: bool | None = None


class ContactFilter(ListFilter):
    client: int | None = None


class SiteFilter(ListFilter):
    client: int | None = None
    is_active: bool | None = None


register_crud(
    router,
    spec=CLIENT,
    path="clients",
    name="client",
    schema_in=schemas.ClientIn,
    schema_patch=schemas.ClientPatch,
    schema_out=schemas.ClientOut,
    filter_schema=ClientFilter,
    tags=["clients"],
)
register_crud(
    router,
    spec=CONTACT,
    path="contacts",
    name="contact",
    schema_in=schemas.ContactIn,
    schema_patch=schemas.ContactPatch,
    schema_out=schemas.ContactOut,
    filter_schema=ContactFilter,
    tags=["clients"],
)
register_crud(
    router,
    spec=SITE,
    path="sites",
    name="site",
    schema_in=schemas.SiteIn,
    schema_patch=schemas.SitePatch,
    schema_out=schemas.SiteOut,
    filter_schema=SiteFilter,
    tags=["sites"],
)
