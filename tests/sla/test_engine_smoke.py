from datetime import datetime
from zoneinfo import ZoneInfo

from fixflow.core.clock import frozen_at
from fixflow.service import services as wo_services
from fixflow.sla import engine
from fixflow.sla import services as sla_services
from fixflow.sla.models import SlaClock

BERLIN = ZoneInfo("Europe/Berlin")


def test_business_hours_policy_gives_due_instants_and_pauses(world):
    cal = sla_services.calendar_create(actor=world.admin, data={"name": "Office", "timezone": "Europe/Berlin"})
    sla_services.policy_create(
        actor=world.admin,
        data={
            "name": "Stadtwerke",
            "calendar_id": cal.pk,
            "client_ids": [world.client.pk],
            "targets": {p: {"response": 60, "resolution": 540} for p in ("critical", "high", "normal", "low")},
        },
    )
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)
    with frozen_at(friday):
        wo = wo_services.work_order_create(
            actor=world.dispatcher,
            title="Leak",
            site_id=world.site.pk,
            equipment_id=world.equipment.pk,
            lead_technician_id=world.technician.user_id,
        )
    clocks = {c.target: c for c in SlaClock.objects.filter(work_order=wo)}
    assert clocks["response"].due_at == datetime(2026, 11, 27, 17, 0, tzinfo=BERLIN)
    assert clocks["resolution"].due_at == datetime(2026, 11, 30, 16, 0, tzinfo=BERLIN)
    wo.refresh_from_db()
    assert wo.sla_state == "pending"
    with frozen_at(datetime(2026, 11, 27, 16, 30, tzinfo=BERLIN)):
        wo_services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to="in_progress")
        wo_services.work_order_transition(
            actor=world.technician, work_order_id=wo.pk, to="on_hold", hold_reason="waiting_for_parts"
        )
    resolution = SlaClock.objects.get(work_order=wo, target="resolution")
    assert resolution.state == "paused" and resolution.due_at is None
    # resumed Monday 10:00: paused 16:30 Fri → 10:00 Mon = 0.5 h + 2 h business time
    with frozen_at(datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN)):
        wo_services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to="in_progress")
    resolution.refresh_from_db()
    assert resolution.paused_seconds == 150 * 60
    assert resolution.due_at == datetime(2026, 12, 1, 9, 30, tzinfo=BERLIN)
    # scan later: breached
    counts = engine.scan(now=datetime(2026, 12, 2, 9, 0, tzinfo=BERLIN))
    assert counts["breached"] == 1
    resolution.refresh_from_db()
    assert resolution.state == "breached"
