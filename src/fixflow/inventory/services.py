"""The parts catalogue and its categories, on the shared create/update/delete rules."""

from functools import partial

from django.db import transaction

from fixflow.core.entities import EntitySpec, entity_create, entity_delete, entity_get, entity_update
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.permissions import Actor, require

from .models import Part, PartCategory

PART = EntitySpec(
    model=Part,
    label="part",
    view_capability="parts.view",
    manage_capability="parts.manage",
    fields=("sku", "name", "unit", "unit_cost", "sale_price", "barcode", "is_active"),
    relations={"category": PartCategory},
    search_fields=("sku", "name", "barcode"),
    filter_fields=("is_active", "category"),
    ordering=("name",),
    select_related=("category",),
)

# Categories group parts (filters, seals, refrigerants…); service contracts cover parts by category.
PART_CATEGORY = EntitySpec(
    model=PartCategory,
    label="part category",
    view_capability="parts.view",
    manage_capability="parts.manage",
    fields=("name",),
    audited=True,
    ordering=("name",),
)

part_create = partial(entity_create, PART)
part_update = partial(entity_update, PART)
part_delete = partial(entity_delete, PART)
part_category_create = partial(entity_create, PART_CATEGORY)
part_category_update = partial(entity_update, PART_CATEGORY)


@transaction.atomic
def part_category_delete(*, actor: Actor, pk) -> None:
    """Delete a part category; its parts stay, without a category. Refused (CONFLICT) while an active
    service contract covers it: the contract's coverage would silently shrink."""
    from fixflow.billing.models import ServiceContract

    require(actor, PART_CATEGORY.manage_capability)
    category = entity_get(PART_CATEGORY, actor=actor, pk=pk)
    covering = ServiceContract.objects.filter(covered_part_categories=category, is_active=True).count()
    if covering:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"{covering} active service contract{'s' if covering != 1 else ''} cover{'' if covering != 1 else 's'} "
            f"{category.name}: take it off the contract{'s' if covering != 1 else ''} first.",
        )
    entity_delete(PART_CATEGORY, actor=actor, pk=category.pk)
