"""The parts a phone keeps for offline search (DOMAIN.md §5 rule 1): the bundle carries the parts planned on
the technician's work orders and the organization's most used active parts, never another organization's."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from fixflow.core import clock
from fixflow.field import bundle as field_bundle
from fixflow.service import services
from fixflow.service.models import PartUsage
from tests.api.conftest import Api
from tests.factories import PartFactory

from .conftest import at, planned_work_order, started_work_order

NOW = at("11:00")


def used(world, wo, part, *, times: int = 1, days_ago: int = 1) -> None:
    """``part`` used ``times`` on ``wo``, recorded ``days_ago`` days before ``NOW``."""
    for _ in range(times):
        usage = services.part_usage_create(actor=world.technician, work_order_id=wo.pk, part_id=part.pk, quantity=1)
        PartUsage.objects.filter(pk=usage.pk).update(created_at=NOW - timedelta(days=days_ago))


def bundle_parts(world) -> list[dict]:
    with clock.frozen_at(NOW):
        response = Api(world.technician).get("/field/bundle")
    assert response.status_code == 200, response.content
    return response.json()["parts"]


def test_the_bundle_carries_the_planned_parts_and_the_most_used_ones_and_nothing_of_another_organization(
    world, other_world, monkeypatch
):
    # given a catalogue bigger than what the phone keeps (three parts here), with parts used more or less lately
    monkeypatch.setattr(field_bundle, "BUNDLE_PARTS", 3)
    wo = started_work_order(world)
    often = PartFactory(organization=world.org, sku="BRG-1", name="Bearing 6204", barcode="4006381333931")
    twice = PartFactory(organization=world.org, sku="FLT-1", name="Filter cartridge")
    once = PartFactory(organization=world.org, sku="ORG-1", name="O-ring 40")
    long_ago = PartFactory(organization=world.org, sku="OLD-1", name="Anchor bolt")  # first by name, used long ago
    retired = PartFactory(organization=world.org, sku="RET-1", name="Retired seal", is_active=False)
    PartFactory(organization=world.org, sku="ZZZ-1", name="Zinc anode")  # never used, last by name
    used(world, wo, often, times=3)
    used(world, wo, twice, times=2, days_ago=89)
    used(world, wo, once)
    used(world, wo, long_ago, times=5, days_ago=91)
    used(world, wo, retired, times=5)
    # and a part the office planned on the technician's work order, deactivated since
    planned = PartFactory(organization=world.org, sku="PLN-1", name="Pump impeller")
    services.planned_material_add(actor=world.dispatcher, work_order_id=wo.pk, part_id=planned.pk, quantity=1)
    planned.is_active = False
    planned.save()
    # and another organization's parts, one with the same name, much used
    foreign = PartFactory(organization=other_world.org, sku="BRG-1", name="Bearing 6204")
    foreign_wo = planned_work_order(other_world)
    for _ in range(4):
        services.part_usage_create(
            actor=other_world.dispatcher, work_order_id=foreign_wo.pk, part_id=foreign.pk, quantity=1
        )

    # when the technician's phone fetches its bundle
    parts = bundle_parts(world)

    # then it holds the planned part and the three most used active parts of the last 90 days, by name
    assert [(p["sku"], p["name"]) for p in parts] == [
        ("BRG-1", "Bearing 6204"),
        ("FLT-1", "Filter cartridge"),
        ("ORG-1", "O-ring 40"),
        ("PLN-1", "Pump impeller"),
    ]
    # with what the phone needs to find and record them: SKU, name, unit, barcode
    assert parts[0] == {
        "id": often.pk,
        "sku": "BRG-1",
        "name": "Bearing 6204",
        "unit": "pc",
        "barcode": "4006381333931",
    }
    assert foreign.pk not in {p["id"] for p in parts}


def test_a_catalogue_used_little_is_filled_up_by_name(world, monkeypatch):
    # given four active parts, one used lately, and room for three on the phone
    monkeypatch.setattr(field_bundle, "BUNDLE_PARTS", 3)
    wo = started_work_order(world)
    for sku, name in [("A-1", "Adapter"), ("B-1", "Bolt"), ("C-1", "Clamp"), ("D-1", "Damper")]:
        PartFactory(organization=world.org, sku=sku, name=name)
    used(world, wo, PartFactory(organization=world.org, sku="V-1", name="Valve"))
    PartFactory(organization=world.org, sku="X-1", name="Axle", is_active=False)
    # when / then: the used part, then the others by name, inactive ones left out
    assert [p["sku"] for p in bundle_parts(world)] == ["A-1", "B-1", "V-1"]


def test_without_work_orders_the_phone_still_gets_the_catalogue(world):
    PartFactory(organization=world.org, sku="A-1", name="Adapter")
    assert [p["sku"] for p in bundle_parts(world)] == ["A-1"]


def test_the_bundles_parts_cost_a_fixed_number_of_queries(world):
    # given work orders with planned parts
    wo = started_work_order(world)
    part = PartFactory(organization=world.org, sku="A-1", name="Adapter")
    services.planned_material_add(actor=world.dispatcher, work_order_id=wo.pk, part_id=part.pk, quantity=1)
    bundle_parts(world)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as one:
        bundle_parts(world)
    for i in range(3):
        more = started_work_order(world)
        other = PartFactory(organization=world.org, sku=f"B-{i}", name=f"Bolt {i}")
        services.planned_material_add(actor=world.dispatcher, work_order_id=more.pk, part_id=other.pk, quantity=1)
        used(world, more, other)
    # when / then
    with CaptureQueriesContext(connection) as four:
        assert len(bundle_parts(world)) == 4
    assert len(four) == len(one)
