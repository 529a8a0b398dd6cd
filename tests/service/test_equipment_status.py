"""Equipment reported down stays down while any work order reporting it down is still open."""

from django.utils import timezone

from fixflow.assets.choices import EquipmentStatus
from fixflow.service import services
from fixflow.service.choices import HoldReason, Status


def _report_down(world, title):
    return services.work_order_create(
        actor=world.dispatcher,
        title=title,
        site_id=world.site.pk,
        equipment_id=world.equipment.pk,
        reports_equipment_down=True,
        lead_technician_id=world.technician.user.pk,
        scheduled_start=timezone.now(),
    )


def _complete(world, wo):
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.IN_PROGRESS)
    services.work_order_transition(
        actor=world.technician, work_order_id=wo.pk, to=Status.COMPLETED, resolution_notes="Fixed."
    )


def _equipment_status(world):
    world.equipment.refresh_from_db()
    return world.equipment.status


def test_equipment_with_two_open_work_orders_reporting_it_down_stays_down_until_both_complete(world):
    # given
    first, second = _report_down(world, "Pump noisy"), _report_down(world, "Pump leaking")
    assert _equipment_status(world) == EquipmentStatus.DOWN
    # when
    _complete(world, first)
    # then
    assert _equipment_status(world) == EquipmentStatus.DOWN
    # when
    _complete(world, second)
    # then
    assert _equipment_status(world) == EquipmentStatus.OPERATIONAL


def test_equipment_on_hold_work_stays_down_and_cancelling_brings_it_back(world):
    # given
    wo = _report_down(world, "Pump noisy")
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.IN_PROGRESS)
    # when
    services.work_order_transition(
        actor=world.technician, work_order_id=wo.pk, to=Status.ON_HOLD, hold_reason=HoldReason.WAITING_FOR_PARTS
    )
    # then
    assert _equipment_status(world) == EquipmentStatus.DOWN
    # when
    services.work_order_transition(
        actor=world.dispatcher,
        work_order_id=wo.pk,
        to=Status.CANCELLED,
        reason="Replaced under warranty by the manufacturer",
    )
    # then
    assert _equipment_status(world) == EquipmentStatus.OPERATIONAL


def test_reopening_work_that_reported_the_equipment_down_puts_it_down_again(world):
    # given
    wo = _report_down(world, "Pump noisy")
    _complete(world, wo)
    # when
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=wo.pk, to=Status.IN_PROGRESS, reason="Still noisy"
    )
    # then
    assert _equipment_status(world) == EquipmentStatus.DOWN


def test_work_that_does_not_report_the_equipment_down_leaves_it_alone(world):
    # given
    _report_down(world, "Pump noisy")
    other = services.work_order_create(
        actor=world.dispatcher,
        title="Inspection",
        site_id=world.site.pk,
        equipment_id=world.equipment.pk,
        lead_technician_id=world.technician.user.pk,
    )
    # when
    _complete(world, other)
    # then
    assert _equipment_status(world) == EquipmentStatus.DOWN


def test_clearing_the_down_flag_on_the_work_order_brings_the_equipment_back(world):
    # given
    wo = _report_down(world, "Pump noisy")
    # when
    services.work_order_update(actor=world.dispatcher, work_order_id=wo.pk, data={"reports_equipment_down": False})
    # then
    assert _equipment_status(world) == EquipmentStatus.OPERATIONAL
