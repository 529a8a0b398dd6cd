"""The shared create/update/delete/read rules of reference data (clients, sites, equipment, parts…)."""

import pytest

from fixflow.assets.services import CATEGORY, EQUIPMENT, equipment_update
from fixflow.core.entities import entity_create, entity_delete, entity_get, entity_list, entity_update
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.customers.models import Client
from fixflow.customers.services import CLIENT, SITE, client_create, client_update, site_create
from fixflow.inventory.services import PART

from ..factories import ClientFactory, EquipmentFactory, PartFactory, WorkOrderFactory


def _row(obj) -> dict:
    return type(obj).objects.filter(pk=obj.pk).values().get()


def test_a_row_of_another_organization_is_not_found(world, other_world):
    # when
    with pytest.raises(DomainError) as exc:
        entity_get(CLIENT, actor=world.admin, pk=other_world.client.pk)
    # then
    assert (exc.value.code, exc.value.message) == (ErrorCode.NOT_FOUND, "Client not found.")


@pytest.mark.parametrize("pk", ["abc", None, "", "1; DROP TABLE"])
def test_an_id_that_is_not_a_number_is_not_found(world, pk):
    # when
    with pytest.raises(DomainError) as exc:
        entity_get(CLIENT, actor=world.admin, pk=pk)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_lists_hold_only_the_actors_organization(world, other_world):
    # when
    names = [c.name for c in entity_list(CLIENT, actor=world.dispatcher).items]
    # then
    assert names == ["Bäckerei Kühn", "Stadtwerke"]


def test_client_users_see_only_their_client_and_its_sites(world):
    # when
    clients = [c.name for c in entity_list(CLIENT, actor=world.client_user).items]
    sites = [s.name for s in entity_list(SITE, actor=world.client_user).items]
    equipment = [e.name for e in entity_list(EQUIPMENT, actor=world.client_user).items]
    # then
    assert (clients, sites, equipment) == (["Stadtwerke"], ["Pumpwerk Nord"], ["Pump P1"])


def test_a_client_user_does_not_find_another_clients_site(world):
    # when
    with pytest.raises(DomainError) as exc:
        entity_get(SITE, actor=world.client_user, pk=world.other_site.pk)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_an_update_based_on_a_stale_version_is_refused_and_changes_nothing(world):
    # given someone else saved version 2 after we read version 1
    client_update(actor=world.dispatcher, pk=world.client.pk, data={"phone": "+49 30 1234"}, expected_version=1)
    before = _row(world.client)
    # when
    with pytest.raises(DomainError) as exc:
        client_update(actor=world.dispatcher, pk=world.client.pk, data={"phone": "+49 30 9999"}, expected_version=1)
    # then
    assert exc.value.code == ErrorCode.STALE_VERSION
    assert exc.value.details == {"current_version": 2}
    assert _row(world.client) == before


def test_an_update_with_the_current_version_bumps_it(world):
    # when
    client = client_update(
        actor=world.dispatcher, pk=world.client.pk, data={"name": "  Stadtwerke Nord "}, expected_version=1
    )
    # then
    assert (client.name, client.version) == ("Stadtwerke Nord", 2)
    assert _row(client)["version"] == 2


def test_an_update_that_changes_nothing_keeps_the_version(world):
    # given
    before = _row(world.client)
    # when
    client_update(actor=world.dispatcher, pk=world.client.pk, data={"name": "Stadtwerke"})
    # then
    assert _row(world.client) == before


@pytest.mark.parametrize("who", ["technician", "accountant", "requester", "client_user"])
def test_only_office_roles_manage_clients(world, who):
    # given
    before = _row(world.client)
    # when
    with pytest.raises(DomainError) as exc:
        client_update(actor=getattr(world, who), pk=world.client.pk, data={"name": "Hacked"})
    # then
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    assert _row(world.client) == before


def test_another_organization_cannot_update_the_row(world, other_world):
    # given
    before = _row(world.client)
    # when
    with pytest.raises(DomainError) as exc:
        client_update(actor=other_world.admin, pk=world.client.pk, data={"name": "Hacked"})
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND
    assert _row(world.client) == before


def test_a_related_row_of_another_organization_is_refused(world, other_world):
    # when
    with pytest.raises(DomainError) as exc:
        site_create(actor=world.dispatcher, data={"name": "Annex", "client_id": other_world.client.pk})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "client")


def test_a_required_relation_must_be_given(world):
    # when
    with pytest.raises(DomainError) as exc:
        site_create(actor=world.dispatcher, data={"name": "Annex"})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "client")


def test_an_unknown_or_read_only_field_is_refused(world):
    # when
    with pytest.raises(DomainError) as exc:
        client_create(actor=world.dispatcher, data={"name": "New", "organization_id": 99})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "organization_id")
    assert not Client.objects.filter(name="New").exists()


def test_model_validation_errors_name_the_field(world):
    # when
    with pytest.raises(DomainError) as exc:
        site_create(
            actor=world.dispatcher, data={"name": "Annex", "client_id": world.client.pk, "timezone": "Mars/Olympus"}
        )
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "timezone")


def test_a_duplicate_name_is_a_validation_error(world):
    # when
    with pytest.raises(DomainError) as exc:
        client_create(actor=world.dispatcher, data={"name": "Stadtwerke"})
    # then
    assert exc.value.code == ErrorCode.VALIDATION
    assert Client.objects.filter(name="Stadtwerke").count() == 1


def test_the_same_name_is_fine_in_another_organization(world, other_world):
    # when
    client = client_create(actor=other_world.admin, data={"name": "Stadtwerke"})
    # then
    assert client.organization == other_world.org


def test_deleting_a_row_still_in_use_is_a_conflict(world):
    # given
    WorkOrderFactory(equipment=world.equipment)
    # when
    with pytest.raises(DomainError) as exc:
        entity_delete(EQUIPMENT, actor=world.dispatcher, pk=world.equipment.pk)
    # then
    assert exc.value.code == ErrorCode.CONFLICT
    world.equipment.refresh_from_db()


def test_deleting_an_unused_row_removes_it(world):
    # given
    client = ClientFactory(organization=world.org)
    # when
    entity_delete(CLIENT, actor=world.dispatcher, pk=client.pk)
    # then
    assert not Client.objects.filter(pk=client.pk).exists()


def test_equipment_cannot_be_part_of_itself(world):
    # given
    before = _row(world.equipment)
    # when
    with pytest.raises(DomainError) as exc:
        equipment_update(actor=world.dispatcher, pk=world.equipment.pk, data={"parent_id": world.equipment.pk})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "parent")
    assert _row(world.equipment) == before


def test_equipment_hierarchy_cannot_loop(world):
    # given plant > pump
    plant = EquipmentFactory(site=world.site, name="Plant")
    equipment_update(actor=world.dispatcher, pk=world.equipment.pk, data={"parent_id": plant.pk})
    before = _row(plant)
    # when pump > plant
    with pytest.raises(DomainError) as exc:
        equipment_update(actor=world.dispatcher, pk=plant.pk, data={"parent_id": world.equipment.pk})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "parent")
    assert _row(plant) == before


def test_the_parent_equipment_must_be_at_the_same_site(world):
    # when
    with pytest.raises(DomainError) as exc:
        equipment_update(actor=world.dispatcher, pk=world.equipment.pk, data={"parent_id": world.other_equipment.pk})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "parent")


def test_accountants_manage_parts_but_not_categories(world):
    # given
    part = PartFactory(organization=world.org)
    # when
    updated = entity_update(PART, actor=world.accountant, pk=part.pk, data={"sale_price": "19.90"})
    with pytest.raises(DomainError) as exc:
        entity_create(CATEGORY, actor=world.accountant, data={"name": "Boilers"})
    # then
    assert str(updated.sale_price) == "19.90"
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
