"""The parts catalogue, on the shared create/update/delete rules."""

from functools import partial

from fixflow.core.entities import EntitySpec, entity_create, entity_delete, entity_update

from .models import Part

PART = EntitySpec(
    model=Part,
    label="part",
    view_capability="parts.view",
    manage_capability="parts.manage",
    fields=("sku", "name", "unit", "unit_cost", "sale_price", "barcode", "is_active"),
    search_fields=("sku", "name", "barcode"),
    filter_fields=("is_active",),
    ordering=("name",),
)

part_create = partial(entity_create, PART)
part_update = partial(entity_update, PART)
part_delete = partial(entity_delete, PART)
