"""Equipment categories, equipment (with its filters and work history) and parts."""

from decimal import Decimal

import pytest

from fixflow.assets.models import Equipment, EquipmentCategory
from fixflow.core.models import ChangeRecord
from fixflow.inventory.models import Part
from tests.factories import CategoryFactory, EquipmentFactory, PartFactory, WorkOrderFactory

from .conftest import assert_problem


def _names(r) -> list[str]:
    assert r.status_code == 200, r.content
    return [item["name"] for item in r.json()["items"]]


def test_a_dispatcher_creates_a_category_and_it_is_audited(api, world):
    # when
    r = api("dispatcher").post("/equipment-categories", {"name": "Boilers", "description": "Gas and oil"})
    # then
    assert r.status_code == 201, r.content
    assert r["ETag"] == '"1"'
    assert EquipmentCategory.objects.get(pk=r.json()["id"]).organization == world.org
    assert ChangeRecord.objects.filter(object_type="assets.equipmentcategory", action="create").count() == 1


def test_equipment_is_created_with_its_site_category_and_parent(api, world):
    # given
    category = CategoryFactory(organization=world.org, name="Pumps")
    # when
    r = api("dispatcher").post(
        "/equipment",
        {
            "site_id": world.site.pk,
            "name": "Pump P2",
            "category_id": category.pk,
            "parent_id": world.equipment.pk,
            "serial_number": "SN-42",
            "install_date": "2024-05-01",
            "criticality": "high",
        },
    )
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["client"] == {"id": world.client.pk, "name": "Stadtwerke"}
    assert body["site"] == {"id": world.site.pk, "name": "Pumpwerk Nord", "timezone": "Europe/Berlin"}
    assert body["category"] == {"id": category.pk, "name": "Pumps"}
    assert body["parent"] == {"id": world.equipment.pk, "name": "Pump P1"}
    assert (body["install_date"], body["criticality"], body["status"]) == ("2024-05-01", "high", "operational")


def test_a_parent_at_another_site_is_refused(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(
            "/equipment", {"site_id": world.site.pk, "name": "Pump P2", "parent_id": world.other_equipment.pk}
        )
    # then
    assert_problem(r, 422, "validation_error", field="parent")


def test_an_unknown_criticality_is_a_422(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post("/equipment", {"site_id": world.site.pk, "name": "X", "criticality": "extreme"})
    # then
    assert_problem(r, 422, "validation_error", field="criticality")


@pytest.fixture
def fleet(world):
    boilers = CategoryFactory(organization=world.org, name="Boilers")
    plant = EquipmentFactory(site=world.site, name="Boiler house", category=boilers, criticality="critical")
    EquipmentFactory(
        site=world.site, name="Burner", parent=plant, category=boilers, status="down", serial_number="BRN-7"
    )
    EquipmentFactory(site=world.other_site, name="Boiler B", category=boilers, criticality="low")
    return {"boilers": boilers, "plant": plant}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"client": "client"}, ["Boiler house", "Burner", "Pump P1"]),
        ({"site": "other_site"}, ["Boiler B", "Oven 2"]),
        ({"category": "boilers"}, ["Boiler B", "Boiler house", "Burner"]),
        ({"status": "down"}, ["Burner"]),
        ({"criticality": "critical"}, ["Boiler house"]),
        ({"parent": "plant"}, ["Burner"]),
        ({"q": "brn-7"}, ["Burner"]),
        ({"q": "backstube"}, ["Boiler B", "Oven 2"]),
    ],
)
def test_equipment_can_be_filtered(api, world, fleet, params, expected):
    # given
    objects = {"client": world.client.pk, "other_site": world.other_site.pk, **{k: v.pk for k, v in fleet.items()}}
    query = {k: objects.get(v, v) for k, v in params.items()}
    # when
    r = api("dispatcher").get("/equipment", query)
    # then
    assert _names(r) == expected


def test_equipment_in_use_cannot_be_deleted(api, world, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").delete(f"/equipment/{world.equipment.pk}")
    # then
    assert_problem(r, 409, "conflict", detail="still in use")
    assert Equipment.objects.filter(pk=world.equipment.pk).exists()


def test_a_patch_with_the_current_etag_changes_equipment(api, world):
    # given
    dispatcher = api("dispatcher")
    etag = dispatcher.get(f"/equipment/{world.equipment.pk}")["ETag"]
    # when
    r = dispatcher.patch(f"/equipment/{world.equipment.pk}", {"notes": "Noisy bearing"}, headers={"If-Match": etag})
    # then
    assert r.status_code == 200, r.content
    assert r.json()["notes"] == "Noisy bearing" and r["ETag"] == '"2"'


def test_the_equipment_history_lists_its_work_orders_newest_first(api, world):
    # given
    for i in range(3):
        WorkOrderFactory(organization=world.org, equipment=world.equipment, number=f"H-{i}", title=f"Job {i}")
    WorkOrderFactory(organization=world.org, equipment=world.other_equipment, number="H-9", title="Elsewhere")
    # when
    r = api("technician").get(f"/equipment/{world.equipment.pk}/work-orders", {"limit": 2})
    rest = api("technician").get(
        f"/equipment/{world.equipment.pk}/work-orders", {"limit": 2, "cursor": r.json()["next_cursor"]}
    )
    # then
    assert [wo["title"] for wo in r.json()["items"]] == ["Job 2", "Job 1"]
    assert [wo["title"] for wo in rest.json()["items"]] == ["Job 0"]
    assert rest.json()["next_cursor"] is None


def test_another_clients_equipment_history_is_a_404_for_a_client_user(api, world):
    # when
    r = api("client_user").get(f"/equipment/{world.other_equipment.pk}/work-orders")
    # then
    assert_problem(r, 404, "not_found")


def test_parts_are_searched_and_filtered(api, world):
    # given
    PartFactory(organization=world.org, sku="V-100", name="Valve", is_active=True)
    PartFactory(organization=world.org, sku="V-200", name="Old valve", is_active=False)
    PartFactory(organization=world.org, sku="F-1", name="Fuse")
    # when
    active_valves = api("technician").get("/parts", {"q": "valve", "is_active": "true"})
    # then
    assert _names(active_valves) == ["Valve"]
    assert _names(api("technician").get("/parts", {"is_active": "false"})) == ["Old valve"]


def test_a_part_is_created_with_decimal_prices(api, world):
    # when
    r = api("accountant").post("/parts", {"sku": "GSK-1", "name": "Gasket", "unit_cost": "1.2345", "sale_price": 2.5})
    # then
    assert r.status_code == 201, r.content
    assert (r.json()["unit_cost"], r.json()["sale_price"]) == ("1.2345", "2.5000")
    assert Part.objects.get(sku="GSK-1").unit_cost == Decimal("1.2345")


def test_a_negative_price_is_refused(api, world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post("/parts", {"sku": "X", "name": "X", "sale_price": "-1"})
    # then
    assert_problem(r, 422, "validation_error", field="sale_price")


def test_a_duplicate_sku_is_refused(api, world, nothing_written):
    # given
    PartFactory(organization=world.org, sku="DUP-1")
    with nothing_written():
        # when
        r = api("dispatcher").post("/parts", {"sku": "DUP-1", "name": "Second"})
    # then
    assert_problem(r, 422, "validation_error", detail="SKU")


def test_requesters_do_not_see_the_parts_catalogue(api, world):
    # when
    r = api("requester").get("/parts")
    # then
    assert_problem(r, 403, "permission_denied")
