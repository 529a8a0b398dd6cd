from fixflow.service import services


def test_a_dispatcher_creates_a_numbered_work_order(world):
    # when
    wo = services.work_order_create(actor=world.dispatcher, title="Leak", site_id=world.site.pk,
                                    equipment_id=world.equipment.pk)
    # then
    assert wo.number.startswith("WO-") and wo.number.endswith("-00001")
    assert wo.status == "new"
