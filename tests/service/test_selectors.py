"""Reads are narrowed to what the actor may see: organization, role, own client, own requests."""

import pytest

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import selectors, services
from fixflow.service.choices import Status
from fixflow.service.models import WorkOrderHelper

from ..factories import WorkOrderFactory, WorkRequestFactory
from .helpers import work_order_in


def _numbers(page) -> set[str]:
    return {wo.number for wo in page.items}


@pytest.fixture
def two_tenants(world, other_world):
    """Per tenant: a work order for each client, one made from the requester's request."""
    ours = work_order_in(world, Status.NEW, number="WO-2026-00001")
    ours_other_client = WorkOrderFactory(equipment=world.other_equipment, number="WO-2026-00002")
    request = WorkRequestFactory(site=world.site, requester=world.requester.user)
    from_request = work_order_in(world, Status.NEW, number="WO-2026-00003", request=request)
    theirs = WorkOrderFactory(equipment=other_world.equipment, number="WO-2026-00001")
    return {"ours": ours, "ours_other_client": ours_other_client, "from_request": from_request, "theirs": theirs}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", {"WO-2026-00001", "WO-2026-00002", "WO-2026-00003"}),
        ("dispatcher", {"WO-2026-00001", "WO-2026-00002", "WO-2026-00003"}),
        ("technician", {"WO-2026-00001", "WO-2026-00002", "WO-2026-00003"}),
        ("accountant", {"WO-2026-00001", "WO-2026-00002", "WO-2026-00003"}),
        ("client_user", {"WO-2026-00001", "WO-2026-00003"}),
        ("other_client_user", {"WO-2026-00002"}),
        ("requester", {"WO-2026-00003"}),
    ],
)
def test_each_role_lists_only_the_work_orders_in_its_scope(world, two_tenants, who, expected):
    # when
    page = selectors.work_order_list(actor=getattr(world, who))
    # then
    assert _numbers(page) == expected
    assert {wo.organization_id for wo in page.items} == {world.org.pk}


def test_the_other_organization_sees_only_its_own_work_order(world, other_world, two_tenants):
    # when
    page = selectors.work_order_list(actor=other_world.dispatcher)
    # then
    assert [wo.pk for wo in page.items] == [two_tenants["theirs"].pk]


def test_a_work_order_of_another_organization_is_not_found(world, two_tenants):
    # when
    with pytest.raises(DomainError) as exc:
        selectors.work_order_get(actor=world.admin, pk=two_tenants["theirs"].pk)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_a_client_user_does_not_find_another_clients_work_order(world, two_tenants):
    # when
    with pytest.raises(DomainError) as exc:
        selectors.work_order_get(actor=world.client_user, pk=two_tenants["ours_other_client"].pk)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_a_requester_finds_the_work_order_made_from_their_request_only(world, two_tenants):
    # when
    found = selectors.work_order_get(actor=world.requester, pk=two_tenants["from_request"].pk)
    with pytest.raises(DomainError) as exc:
        selectors.work_order_get(actor=world.requester, pk=two_tenants["ours"].pk)
    # then
    assert found == two_tenants["from_request"]
    assert exc.value.code == ErrorCode.NOT_FOUND


@pytest.mark.parametrize("pk", ["abc", None, 10**12, 2**70])
def test_a_work_order_id_that_is_not_one_is_not_found(world, pk):
    # when
    with pytest.raises(DomainError) as exc:
        selectors.work_order_get(actor=world.admin, pk=pk)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_requesters_see_only_their_own_requests_and_client_users_their_clients(world, other_world):
    # given
    mine = WorkRequestFactory(site=world.site, requester=world.requester.user)
    colleague = WorkRequestFactory(site=world.site, requester=world.client_user.user)
    other_client = WorkRequestFactory(site=world.other_site, requester=world.other_client_user.user)
    WorkRequestFactory(site=other_world.site)
    # when
    seen = {
        who: {r.pk for r in selectors.work_request_list(actor=getattr(world, who)).items}
        for who in ("requester", "client_user", "other_client_user", "dispatcher")
    }
    # then
    assert seen == {
        "requester": {mine.pk},
        "client_user": {mine.pk, colleague.pk},
        "other_client_user": {other_client.pk},
        "dispatcher": {mine.pk, colleague.pk, other_client.pk},
    }


def test_a_requester_does_not_find_someone_elses_request(world):
    # given
    theirs = WorkRequestFactory(site=world.site, requester=world.client_user.user)
    # when
    with pytest.raises(DomainError) as exc:
        selectors.work_request_get(actor=world.requester, pk=theirs.pk)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_client_users_see_only_client_visible_notes(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    services.note_create(actor=world.technician, work_order_id=wo.pk, body="Client was rude", is_client_visible=False)
    services.note_create(actor=world.technician, work_order_id=wo.pk, body="Seal replaced", is_client_visible=True)
    # when
    for_client = selectors.work_order_get(actor=world.client_user, pk=wo.pk)
    for_office = selectors.work_order_get(actor=world.dispatcher, pk=wo.pk)
    # then
    assert [n.body for n in for_client.notes.all()] == ["Seal replaced"]
    assert [n.body for n in for_office.notes.all()] == ["Client was rude", "Seal replaced"]


def test_client_users_do_not_see_time_and_parts_in_the_timeline(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    services.timer_start(actor=world.technician, work_order_id=wo.pk)
    services.part_usage_create(actor=world.technician, work_order_id=wo.pk, description="Seal kit", quantity=1)
    services.note_create(actor=world.technician, work_order_id=wo.pk, body="Done", is_client_visible=True)
    # when
    kinds = [e.kind for e in selectors.work_order_timeline(actor=world.client_user, work_order=wo)]
    # then
    assert kinds == ["note"]


def test_my_work_includes_work_i_help_on(world):
    # given
    lead = work_order_in(world, Status.PLANNED, lead_technician=world.technician2.user)
    helping = work_order_in(world, Status.PLANNED, lead_technician=world.technician.user)
    WorkOrderHelper.objects.create(organization=world.org, work_order=lead, user=world.technician.user)
    work_order_in(world, Status.PLANNED, lead_technician=world.technician2.user)
    # when
    page = selectors.work_order_list(actor=world.technician, filters={"technician": "me"})
    # then
    assert {wo.pk for wo in page.items} == {lead.pk, helping.pk}


def test_an_unknown_sort_is_a_validation_error(world):
    # when
    with pytest.raises(DomainError) as exc:
        selectors.work_order_list(actor=world.dispatcher, sort="colour")
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "sort")
