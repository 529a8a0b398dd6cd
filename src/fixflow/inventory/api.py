"""The parts catalogue and its categories in the API."""

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from fixflow.core import entities
from fixflow.core.api_support import actor_of, if_match_version, page_of, page_response, set_etag
from fixflow.core.crud_api import ListFilter, register_crud

from . import schemas, services
from .services import PART, PART_CATEGORY

router = Router()


class PartFilter(ListFilter):
    is_active: bool | None = None
    category: int | None = None


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

# Part categories: the standard operations, but deleting goes through the service (a category that an
# active service contract covers stays).
CATEGORY_TAGS = ["parts"]


@router.get(
    "/part-categories",
    response=page_of(schemas.PartCategoryOut),
    url_name="part_category_list",
    operation_id="part_category_list",
    tags=CATEGORY_TAGS,
    summary="List part categories",
)
def part_category_list(request: HttpRequest, filters: Query[ListFilter]):
    params = filters.model_dump(exclude_none=True)
    cursor, limit = params.pop("cursor", None), params.pop("limit", 50)
    page = entities.entity_list(PART_CATEGORY, actor=actor_of(request), filters=params, cursor=cursor, limit=limit)
    return page_response(page)


@router.post(
    "/part-categories",
    response={201: schemas.PartCategoryOut},
    url_name="part_category_create",
    operation_id="part_category_create",
    tags=CATEGORY_TAGS,
    summary="Create a part category",
)
def part_category_create(request: HttpRequest, payload: schemas.PartCategoryIn, response: HttpResponse):
    obj = services.part_category_create(actor=actor_of(request), data=payload.model_dump())
    set_etag(response, obj.version)
    response["Location"] = f"/api/v1/part-categories/{obj.pk}"
    return Status(201, obj)


@router.get(
    "/part-categories/{id}",
    response=schemas.PartCategoryOut,
    url_name="part_category_get",
    operation_id="part_category_get",
    tags=CATEGORY_TAGS,
    summary="Get a part category",
)
def part_category_get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
    obj = entities.entity_get(PART_CATEGORY, actor=actor_of(request), pk=id)
    set_etag(response, obj.version)
    return obj


@router.patch(
    "/part-categories/{id}",
    response=schemas.PartCategoryOut,
    url_name="part_category_patch",
    operation_id="part_category_patch",
    tags=CATEGORY_TAGS,
    summary="Rename a part category (send If-Match with its ETag)",
)
def part_category_patch(
    request: HttpRequest,
    id: int,  # noqa: A002
    payload: schemas.PartCategoryPatch,
    response: HttpResponse,
):
    obj = services.part_category_update(
        actor=actor_of(request),
        pk=id,
        data=payload.model_dump(exclude_unset=True, exclude_none=True),
        expected_version=if_match_version(request),
    )
    set_etag(response, obj.version)
    return obj


@router.delete(
    "/part-categories/{id}",
    response={204: None},
    url_name="part_category_delete",
    operation_id="part_category_delete",
    tags=CATEGORY_TAGS,
    summary="Delete a part category (its parts stay; refused while an active contract covers it)",
)
def part_category_delete(request: HttpRequest, id: int):  # noqa: A002
    services.part_category_delete(actor=actor_of(request), pk=id)
    return Status(204, None)
