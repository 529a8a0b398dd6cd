"""Equipment and its categories, on the shared create/update/delete rules."""

from functools import partial

from fixflow.core.entities import EntitySpec, entity_create, entity_delete, entity_update
from fixflow.core.errors import validation
from fixflow.customers.models import Site

from .models import Equipment, EquipmentCategory


def _equipment_scope(actor, qs):
    return qs.filter(site__client_id=actor.client_id) if actor.is_client else qs


def _validate_equipment(actor, eq: Equipment) -> None:
    if eq.parent_id is not None:
        if eq.pk is not None and eq.parent_id == eq.pk:
            raise validation("Equipment cannot be part of itself.", field="parent")
        if eq.parent.site_id != eq.site_id:
            raise validation(
                f"{eq.parent.name} is at another site; the parent must be at the same site.", field="parent"
            )
        # no cycles: walk up from the parent
        seen, node = {eq.pk}, eq.parent
        while node is not None:
            if node.pk in seen:
                raise validation("That parent would make a loop in the equipment hierarchy.", field="parent")
            seen.add(node.pk)
            node = node.parent
    if eq.install_date and eq.warranty_end and eq.warranty_end < eq.install_date:
        raise validation("The warranty cannot end before the install date.", field="warranty_end")


CATEGORY = EntitySpec(
    model=EquipmentCategory,
    label="equipment category",
    view_capability="equipment.view",
    manage_capability="equipment.manage",
    fields=("name", "description"),
    audited=True,
)
EQUIPMENT = EntitySpec(
    model=Equipment,
    label="equipment",
    view_capability="equipment.view",
    manage_capability="equipment.manage",
    fields=(
        "name",
        "manufacturer",
        "model",
        "serial_number",
        "install_date",
        "warranty_end",
        "criticality",
        "status",
        "notes",
    ),
    relations={"site": Site, "parent": Equipment, "category": EquipmentCategory},
    required_relations=("site",),
    scope=_equipment_scope,
    validate=_validate_equipment,
    search_fields=("name", "serial_number", "manufacturer", "model", "site__name"),
    filter_fields=("site", "category", "status", "criticality", "parent", "site__client"),
    select_related=("site", "site__client", "category", "parent"),
)

category_create = partial(entity_create, CATEGORY)
category_update = partial(entity_update, CATEGORY)
category_delete = partial(entity_delete, CATEGORY)
equipment_create = partial(entity_create, EQUIPMENT)
equipment_update = partial(entity_update, EQUIPMENT)
equipment_delete = partial(entity_delete, EQUIPMENT)
