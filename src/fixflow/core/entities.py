"""Create, update, delete and read for the reference data (clients, sites, equipment, parts…).

Each app describes its entities with an :class:`EntitySpec`; the functions below apply the same
rules to all of them: role check, organization scope, related rows from the same organization,
model validation, optimistic locking with ``version``, a ChangeRecord for configuration objects,
and a clear error when a row that is still in use is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import ProtectedError, Q, QuerySet

from .errors import DomainError, ErrorCode, not_found, validation
from .pagination import Page, paginate
from .permissions import Actor, require
from .services import change_record_write, check_version, full_clean_or_raise, snapshot


@dataclass(frozen=True)
class EntitySpec:
    model: type[models.Model]
    label: str
    view_capability: str
    manage_capability: str
    fields: tuple[str, ...]
    relations: dict[str, type[models.Model]] = field(default_factory=dict)  # name -> model (data key: name_id)
    required_relations: tuple[str, ...] = ()
    scope: Callable[[Actor, QuerySet], QuerySet] | None = None  # narrows what client users see
    validate: Callable[[Actor, models.Model], None] | None = None
    audited: bool = False
    search_fields: tuple[str, ...] = ("name",)
    filter_fields: tuple[str, ...] = ()
    ordering: tuple[str, ...] = ("name",)
    select_related: tuple[str, ...] = ()


def entity_queryset(spec: EntitySpec, *, actor: Actor) -> QuerySet:
    require(actor, spec.view_capability)
    qs = spec.model.objects.filter(organization_id=actor.organization_id)
    if spec.scope is not None:
        qs = spec.scope(actor, qs)
    if spec.select_related:
        qs = qs.select_related(*spec.select_related)
    return qs


def entity_get(spec: EntitySpec, *, actor: Actor, pk) -> models.Model:
    obj = entity_queryset(spec, actor=actor).filter(pk=pk).first() if _is_int(pk) else None
    if obj is None:
        raise not_found(spec.label.capitalize())
    return obj


def entity_filter(spec: EntitySpec, qs: QuerySet, filters: dict[str, Any]) -> QuerySet:
    if q := (filters.get("q") or "").strip():
        cond = Q()
        for name in spec.search_fields:
            cond |= Q(**{f"{name}__icontains": q})
        qs = qs.filter(cond)
    for name in spec.filter_fields:
        value = filters.get(name)
        if value not in (None, ""):
            qs = qs.filter(**{name if name in spec.fields else f"{name}_id": value})
    return qs


def entity_list(
    spec: EntitySpec, *, actor: Actor, filters: dict[str, Any] | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    qs = entity_filter(spec, entity_queryset(spec, actor=actor), filters or {})
    return paginate(qs, ordering=list(spec.ordering), cursor=cursor, limit=limit)


def _is_int(value) -> bool:
    try:
        int(value)
        return True
    except (TypeError, ValueError):
        return False


def _resolve_relations(spec: EntitySpec, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for name, model in spec.relations.items():
        key = f"{name}_id"
        if key not in out:
            continue
        pk = out.pop(key)
        if pk in (None, ""):
            if name in spec.required_relations:
                raise validation(f"Choose the {name.replace('_', ' ')}.", field=name)
            out[name] = None
            continue
        obj = model.objects.filter(organization_id=actor.organization_id, pk=pk).first() if _is_int(pk) else None
        if obj is None:
            raise validation(f"Unknown {name.replace('_', ' ')} (id {pk}).", field=name)
        out[name] = obj
    return out


def _apply(spec: EntitySpec, actor: Actor, instance: models.Model, data: dict[str, Any]) -> None:
    data = _resolve_relations(spec, actor, data)
    allowed = set(spec.fields) | set(spec.relations)
    unknown = set(data) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise validation(f"Unknown or read-only field: {name}.", field=name)
    for name, value in data.items():
        if isinstance(value, str) and name in spec.fields:
            value = value.strip()
        setattr(instance, name, value)
    if spec.validate is not None:
        spec.validate(actor, instance)
    full_clean_or_raise(instance)


@transaction.atomic
def entity_create(spec: EntitySpec, *, actor: Actor, data: dict[str, Any]) -> models.Model:
    require(actor, spec.manage_capability)
    missing = [r for r in spec.required_relations if data.get(f"{r}_id") in (None, "")]
    if missing:
        raise validation(f"Choose the {missing[0].replace('_', ' ')}.", field=missing[0])
    instance = spec.model(organization_id=actor.organization_id)
    _apply(spec, actor, instance, data)
    instance.save()
    if spec.audited:
        change_record_write(actor=actor, instance=instance, action="create", before=None, after=snapshot(instance))
    return instance


@transaction.atomic
def entity_update(
    spec: EntitySpec, *, actor: Actor, pk, data: dict[str, Any], expected_version: int | None = None
) -> models.Model:
    require(actor, spec.manage_capability)
    instance = (
        entity_queryset(spec, actor=actor).select_for_update(of=("self",)).filter(pk=pk).first()
        if _is_int(pk)
        else None
    )
    if instance is None:
        raise not_found(spec.label.capitalize())
    check_version(instance, expected_version)
    before = snapshot(instance)
    _apply(spec, actor, instance, data)
    after = snapshot(instance)
    if after == before:
        return instance
    instance.version += 1
    instance.save()
    if spec.audited:
        change_record_write(actor=actor, instance=instance, action="update", before=before, after=snapshot(instance))
    return instance


@transaction.atomic
def entity_delete(spec: EntitySpec, *, actor: Actor, pk) -> None:
    require(actor, spec.manage_capability)
    instance = entity_get(spec, actor=actor, pk=pk)
    before = snapshot(instance)
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError:
        raise DomainError(
            ErrorCode.CONFLICT, f"This {spec.label} is still in use (e.g. by work orders); deactivate it instead."
        ) from None
    if spec.audited:
        instance.pk = before.get("id")
        change_record_write(actor=actor, instance=instance, action="delete", before=before, after=None)


__all__ = [
    "EntitySpec",
    "entity_create",
    "entity_delete",
    "entity_filter",
    "entity_get",
    "entity_list",
    "entity_queryset",
    "entity_update",
]
