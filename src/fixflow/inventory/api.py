"""The parts catalogue in the API."""

from ninja import Router

from fixflow.core.crud_api import ListFilter, register_crud

from . import schemas
from .services import PART

router = Router()


class PartFilter(ListFilter):
    is_active: bool | None = None


register_crud(
    router,
    spec=PART,
    path="parts",
    name="part",
    schema_in=schemas.PartIn,
    schema_patch=schemas.PartPatch,
    schema_out=schemas.PartOut,
    filter_schema=PartFilter,
    tags=["parts"],
)
