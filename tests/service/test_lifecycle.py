"""The work order lifecycle table, walked edge by edge, and who may take each edge."""

import itertools

import pytest

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import lifecycle, services
from fixflow.service.choices import EventKind, HoldReason, Status
from fixflow.service.models import WorkOrderEvent, WorkOrderHelper

from ..factories import WorkRequestFactory
from .helpers import state_of, work_order_in

PAIRS = list(itertools.product(Status, Status))


def _take(actor, wo, to):
    return services.work_order_transition(
        actor=actor, work_order_id=wo.pk, to=to, reason="Client asked for it", hold_reason=HoldReason.WAITING_FOR_PARTS
    )


def test_the_matrix_has_every_status_pair():
    assert len(PAIRS) == 49
    assert set(lifecycle.TABLE) <= set(PAIRS)


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s}->{t}" for s, t in PAIRS])
def test_every_status_pair_is_allowed_exactly_when_the_table_lists_it(world, source, target):
    # given a work order in the source status with every guard satisfied
    wo = work_order_in(world, source)
    before = state_of(wo)
    if (source, target) in lifecycle.TABLE:
        # when a dispatcher takes the edge
        result = _take(world.dispatcher, wo, target)
        # then it is taken, once, with one timeline event
        wo.refresh_from_db()
        assert result.status == wo.status == target
        assert wo.version == before["version"] + 1
        event = WorkOrderEvent.objects.get(work_order=wo)
        assert (event.kind, event.from_status, event.to_status) == (EventKind.TRANSITION, source, target)
        assert event.actor == world.dispatcher.user
    else:
        # when / then the edge is refused and nothing is written
        with pytest.raises(DomainError) as exc:
            _take(world.dispatcher, wo, target)
        assert exc.value.code == ErrorCode.INVALID_TRANSITION
        assert exc.value.field == "to"
        assert state_of(wo) == before


# Edges an assigned technician may take (DOMAIN.md §1: start, hold, resume, complete).
TECHNICIAN_EDGES = {
    (Status.NEW, Status.IN_PROGRESS),
    (Status.PLANNED, Status.IN_PROGRESS),
    (Status.IN_PROGRESS, Status.ON_HOLD),
    (Status.ON_HOLD, Status.IN_PROGRESS),
    (Status.IN_PROGRESS, Status.COMPLETED),
}
EDGES = sorted(lifecycle.TABLE)
ACTORS = [
    "admin",
    "dispatcher",
    "assigned_technician",
    "helper_technician",
    "unassigned_technician",
    "accountant",
    "requester",
    "client_user",
]


def _actor_and_work_order(world, who, source):
    request = WorkRequestFactory(site=world.site, requester=world.requester.user)
    # the closer must not be the technician who completed it, so let technician2 have completed it
    wo = work_order_in(
        world,
        source,
        request=request,
        completed_by=world.technician2.user if source in (Status.COMPLETED, Status.CLOSED) else None,
    )
    match who:
        case "assigned_technician":
            return world.technician, wo
        case "helper_technician":
            WorkOrderHelper.objects.create(organization=world.org, work_order=wo, user=world.technician2.user)
            return world.technician2, wo
        case "unassigned_technician":
            return world.technician2, wo
        case _:
            return getattr(world, who), wo


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize(("source", "target"), EDGES, ids=[f"{s}->{t}" for s, t in EDGES])
def test_each_role_may_take_only_its_edges(world, who, source, target):
    # given
    actor, wo = _actor_and_work_order(world, who, source)
    before = state_of(wo)
    allowed = who in ("admin", "dispatcher") or (
        who in ("assigned_technician", "helper_technician") and (source, target) in TECHNICIAN_EDGES
    )
    if allowed:
        # when
        _take(actor, wo, target)
        # then
        wo.refresh_from_db()
        assert wo.status == target
        assert WorkOrderEvent.objects.get(work_order=wo).actor == actor.user
    else:
        # when
        with pytest.raises(DomainError) as exc:
            _take(actor, wo, target)
        # then
        assert exc.value.code == ErrorCode.PERMISSION_DENIED
        assert state_of(wo) == before


def test_a_client_user_of_another_client_does_not_even_see_the_work_order(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _take(world.other_client_user, wo, Status.ON_HOLD)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND
    assert state_of(wo) == before


def test_another_organization_cannot_move_the_work_order(world, other_world):
    # given
    wo = work_order_in(world, Status.NEW)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        _take(other_world.dispatcher, wo, Status.CANCELLED)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND
    assert state_of(wo) == before


def test_an_unknown_target_status_is_a_validation_error(world):
    # given
    wo = work_order_in(world, Status.NEW)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to="done")
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "to")
    assert state_of(wo) == before


def test_a_transition_based_on_a_stale_version_is_refused(world):
    # given the dispatcher moved the schedule (version 2) after the technician loaded version 1
    wo = work_order_in(world, Status.PLANNED)
    services.work_order_update(
        actor=world.dispatcher, work_order_id=wo.pk, expected_version=1, data={"priority": "high"}
    )
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_order_transition(
            actor=world.technician, work_order_id=wo.pk, to=Status.IN_PROGRESS, expected_version=1
        )
    # then
    assert exc.value.code == ErrorCode.STALE_VERSION
    assert exc.value.details == {"current_version": 2}
    assert state_of(wo) == before


@pytest.mark.parametrize("pk", ["abc", None, 2**70])
def test_a_work_order_id_that_is_not_one_is_not_found(world, pk):
    # when
    with pytest.raises(DomainError) as exc:
        services.work_order_transition(actor=world.dispatcher, work_order_id=pk, to=Status.CANCELLED, reason="x")
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND
