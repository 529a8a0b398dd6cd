from datetime import date, datetime
from zoneinfo import ZoneInfo

from fixflow.assets import meters
from fixflow.core.clock import frozen_at
from fixflow.maintenance import generator, services
from fixflow.maintenance.models import Occurrence
from fixflow.service import services as wo_services
from fixflow.service.models import WorkOrder

from ..factories import TemplateFactory

BERLIN = ZoneInfo("Europe/Berlin")


def test_monthly_plan_generates_once_and_skips_while_open(world):
    template = TemplateFactory(organization=world.org, requires_signature=True, requires_equipment=True)
    with frozen_at(datetime(2026, 1, 20, 12, tzinfo=BERLIN)):
        plan = services.plan_create(
            actor=world.dispatcher,
            data={
                "name": "Monthly pump check",
                "template_id": template.pk,
                "equipment_id": world.equipment.pk,
                "anchor": "2026-01-31",
                "recurrence": {"frequency": "monthly", "monthly_by": "day"},
                "lead_days": 7,
            },
        )
        stats = generator.generate(now=datetime(2026, 1, 25, 6, tzinfo=BERLIN))
    assert stats.work_orders == 1
    occ = Occurrence.objects.get(plan=plan)
    assert occ.key == "2026-01-31" and occ.work_order.requires_signature
    assert generator.generate(now=datetime(2026, 1, 25, 7, tzinfo=BERLIN)).work_orders == 0
    stats = generator.generate(now=datetime(2026, 2, 22, 7, tzinfo=BERLIN))
    assert stats.skipped == 1
    assert Occurrence.objects.get(plan=plan, key="2026-02-28").status == "skipped"


def test_meter_plan_jump_over_three_intervals_gives_one_work_order(world):
    template = TemplateFactory(organization=world.org)
    meter = meters.meter_create(actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Hours", "unit": "h"})
    meters.reading_record(actor=world.technician, meter_id=meter.pk, value="100")
    plan = services.plan_create(
        actor=world.dispatcher,
        data={
            "name": "Every 500 h",
            "template_id": template.pk,
            "equipment_id": world.equipment.pk,
            "anchor": date.today().isoformat(),
            "meter_name": "Hours",
            "meter_interval": "500",
            "meter_start": "500",
        },
    )
    meters.reading_record(actor=world.technician, meter_id=meter.pk, value="1750")
    occs = list(Occurrence.objects.filter(plan=plan))
    assert [o.key for o in occs] == ["m:500"]
    assert plan.targets.get().next_due_value == 2000
    wo = occs[0].work_order
    assert WorkOrder.objects.filter(pk=wo.pk, type="preventive").exists()
    assert wo_services  # used


def test_lower_reading_refused_unless_replacement(world):
    import pytest

    from fixflow.core.errors import DomainError

    meter = meters.meter_create(actor=world.admin, equipment_id=world.equipment.pk, data={"name": "km", "unit": "km"})
    meters.reading_record(actor=world.technician, meter_id=meter.pk, value="1000")
    with pytest.raises(DomainError) as err:
        meters.reading_record(actor=world.technician, meter_id=meter.pk, value="10")
    assert err.value.field == "value"
    r = meters.reading_record(actor=world.technician, meter_id=meter.pk, value="10", kind="replacement")
    assert r.lifetime == 1000
    r = meters.reading_record(actor=world.technician, meter_id=meter.pk, value="60")
    assert r.lifetime == 1050
