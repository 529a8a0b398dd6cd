"""Work order numbers: WO-<year>-00001, consecutive per organization, without gaps or duplicates."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from fixflow.core.errors import DomainError
from fixflow.core.models import Sequence
from fixflow.core.permissions import actor_for
from fixflow.core.services import organization_update, sequence_next
from fixflow.service import services
from fixflow.service.models import WorkOrder


def _create(w, title="Leak"):
    return services.work_order_create(actor=w.dispatcher, title=title, site_id=w.site.pk, equipment_id=w.equipment.pk)


def _year(org):
    return timezone.now().astimezone(org.tzinfo).year


def test_work_orders_are_numbered_consecutively_per_year(world):
    # when
    numbers = [_create(world).number for _ in range(3)]
    # then
    year = _year(world.org)
    assert numbers == [f"WO-{year}-00001", f"WO-{year}-00002", f"WO-{year}-00003"]


def test_each_organization_has_its_own_counter(world, other_world):
    # when
    ours = [_create(world).number for _ in range(2)]
    theirs = _create(other_world).number
    # then
    year = _year(world.org)
    assert ours == [f"WO-{year}-00001", f"WO-{year}-00002"]
    assert theirs == f"WO-{year}-00001"


def test_the_organization_chooses_its_prefix(world):
    # given
    organization_update(actor=world.admin, data={"work_order_prefix": "SV"})
    dispatcher = actor_for(world.dispatcher.user, world.org.pk)
    # when
    wo = services.work_order_create(
        actor=dispatcher, title="Leak", site_id=world.site.pk, equipment_id=world.equipment.pk
    )
    # then
    assert wo.number == f"SV-{_year(world.org)}-00001"


def test_a_rolled_back_creation_gives_its_number_back(world):
    # given
    first = _create(world)

    # when
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        _create(world, "Rolled back")
        raise Abort
    after = _create(world, "Kept")
    # then
    year = _year(world.org)
    assert [first.number, after.number] == [f"WO-{year}-00001", f"WO-{year}-00002"]
    assert list(WorkOrder.objects.order_by("id").values_list("title", flat=True)) == ["Leak", "Kept"]


def test_a_refused_creation_takes_no_number(world):
    # given
    with pytest.raises(DomainError):
        services.work_order_create(
            actor=world.dispatcher, title="", site_id=world.site.pk, equipment_id=world.equipment.pk
        )
    # when
    wo = _create(world)
    # then
    assert wo.number.endswith("-00001")


@pytest.mark.django_db(transaction=True)
def test_the_counter_refuses_to_run_outside_a_transaction(world):
    # when / then: a number taken in autocommit mode could not be given back on failure
    with pytest.raises(RuntimeError):
        sequence_next(organization=world.org, key="work_order:2026")
    assert not Sequence.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_consecutive_numbers_without_duplicates(world):
    # given eight threads that start creating at the same instant, before the counter row exists
    threads, per_thread = 8, 3
    barrier = threading.Barrier(threads)

    def work(i):
        try:
            barrier.wait(timeout=10)
            return [_create(world, f"T{i}-{n}").number for n in range(per_thread)]
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(work, range(threads)))
    # then
    numbers = sorted(n for r in results for n in r)
    year = _year(world.org)
    assert numbers == [f"WO-{year}-{i:05d}" for i in range(1, threads * per_thread + 1)]
    assert Sequence.objects.get(organization=world.org, key=f"work_order:{year}").last_value == threads * per_thread
