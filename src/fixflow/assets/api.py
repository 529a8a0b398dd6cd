"""Equipment categories and equipment in the API, and an equipment's work history."""

from django.http import HttpRequest
from ninja import Router
from pydantic import Field

from fixflow.core.api_support import actor_of, page_of, page_response
from fixflow.core.crud_api import ListFilter, register_crud
from fixflow.core.entities import entity_get
from fixflow.service.selectors import equipment_history

from . import schemas
from .services import CATEGORY, EQUIPMENT

router = Router()


class CategoryFilter(ListFilter):
    pass


class EquipmentFilter(ListFilter):
    site: int | None = None
    site__client: int | None = Field(None, alias="client", description="Equipment at this client's sites.")
    category: int | None = None
    status: schemas.EquipmentStatusValue | None = None
    criticality: schemas.CriticalityValue | None = None
    parent: int | None = Field(None, description="Only the direct parts of this equipment.")


register_crud(
    router,
    spec=CATEGORY,
    path="equipment-categories",
    name="equipment_category",
    schema_in=schemas.CategoryIn,
    schema_patch=schemas.CategoryPatch,
    schema_out=schemas.CategoryOut,
    filter_schema=CategoryFilter,
    tags=["equipment"],
)
register_crud(
    router,
    spec=EQUIPMENT,
    path="equipment",
    name="equipment",
    schema_in=schemas.EquipmentIn,
    schema_patch=schemas.EquipmentPatch,
    schema_out=schemas.EquipmentOut,
    filter_schema=EquipmentFilter,
    tags=["equipment"],
)


@router.get(
    "/equipment/{id}/work-orders",
    response=page_of(schemas.EquipmentWorkOrderOut),
    url_name="equipment_work_orders",
    tags=["equipment"],
    summary="Work history of one piece of equipment, newest first",
)
def equipment_work_orders(request: HttpRequest, id: int, cursor: str | None = None, limit: int = 50):  # noqa: A002
    actor = actor_of(request)
    entity_get(EQUIPMENT, actor=actor, pk=id)  # outside the caller's scope: 404
    return page_response(equipment_history(actor=actor, equipment_id=id, cursor=cursor, limit=limit))
