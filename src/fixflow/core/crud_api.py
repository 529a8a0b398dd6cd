"""Standard list/get/create/patch/delete endpoints for an EntitySpec, registered on a router.

The operations follow one pattern (see docs/api.md): cursor-paginated lists with ``q`` search and
the spec's filters; GET returns an ETag; PATCH honours ``If-Match``; DELETE refuses rows in use.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status

from . import entities
from .api_support import actor_of, if_match_version, page_of, page_response, set_etag
from .entities import EntitySpec


def _data(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    for key, value in list(data.items()):
        if (
            value is None
            and not key.endswith("_id")
            and key not in ("latitude", "longitude", "install_date", "warranty_end")
        ):
            if partial:
                data.pop(key)
            else:
                data[key] = ""
    return data


def register_crud(
    router: Router,
    *,
    spec: EntitySpec,
    path: str,
    name: str,
    schema_in: type[Schema],
    schema_patch: type[Schema],
    schema_out: type[Schema],
    filter_schema: type[Schema],
    tags: list[str],
) -> None:
    """Add ``GET/POST {path}`` and ``GET/PATCH/DELETE {path}/{id}`` for one entity."""
    page_schema = page_of(schema_out)

    def list_(request: HttpRequest, filters: Query[filter_schema]):  # type: ignore[valid-type]
        params = filters.model_dump(exclude_none=True)
        cursor, limit = params.pop("cursor", None), params.pop("limit", 50)
        page = entities.entity_list(spec, actor=actor_of(request), filters=params, cursor=cursor, limit=limit)
        return page_response(page)

    def create(request: HttpRequest, payload: schema_in, response: HttpResponse):  # type: ignore[valid-type]
        obj = entities.entity_create(spec, actor=actor_of(request), data=_data(payload, partial=False))
        set_etag(response, obj.version)
        response["Location"] = f"/api/v1/{path}/{obj.pk}"
        return Status(201, entities.entity_get(spec, actor=actor_of(request), pk=obj.pk))

    def get(request: HttpRequest, id: int, response: HttpResponse):  # noqa: A002
        obj = entities.entity_get(spec, actor=actor_of(request), pk=id)
        set_etag(response, obj.version)
        return obj

    def patch(request: HttpRequest, id: int, payload: schema_patch, response: HttpResponse):  # noqa: A002
        obj = entities.entity_update(
            spec,
            actor=actor_of(request),
            pk=id,
            data=_data(payload, partial=True),
            expected_version=if_match_version(request),
        )
        obj = entities.entity_get(spec, actor=actor_of(request), pk=obj.pk)
        set_etag(response, obj.version)
        return obj

    def delete(request: HttpRequest, id: int):  # noqa: A002
        entities.entity_delete(spec, actor=actor_of(request), pk=id)
        return Status(204, None)

    def add(route: str, method: str, view, verb: str, response, summary: str) -> None:
        # operation_id = url_name: unique across entities, so the OpenAPI document stays valid
        router.add_api_operation(
            route,
            [method],
            view,
            response=response,
            url_name=f"{name}_{verb}",
            operation_id=f"{name}_{verb}",
            tags=tags,
            summary=summary,
        )

    add(f"/{path}", "GET", list_, "list", page_schema, f"List {path.replace('-', ' ')}")
    add(f"/{path}", "POST", create, "create", {201: schema_out}, f"Create a {spec.label}")
    add(f"/{path}/{{id}}", "GET", get, "get", schema_out, f"Get a {spec.label}")
    add(f"/{path}/{{id}}", "PATCH", patch, "patch", schema_out, f"Change a {spec.label} (send If-Match with its ETag)")
    add(f"/{path}/{{id}}", "DELETE", delete, "delete", {204: None}, f"Delete a {spec.label} not in use")


class ListFilter(Schema):
    q: str | None = None
    cursor: str | None = None
    limit: int = 50
