"""Work requests: reporting a problem, and triage (convert, reject, mark as duplicate)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services
from fixflow.service.choices import Priority, RequestStatus, Status
from fixflow.service.models import Attachment, WorkOrder, WorkRequest

from ..factories import ChecklistItemFactory, EquipmentFactory, TemplateFactory, WorkRequestFactory
from .helpers import jpeg_bytes


def _request_state(req) -> dict:
    return WorkRequest.objects.filter(pk=req.pk).values().get()


def _report(actor, site, **kw):
    return services.work_request_create(
        actor=actor,
        title="Water under the boiler",
        site_id=site.pk,
        description="Since this morning, about a bucket per hour.",
        **kw,
    )


# --- reporting ---------------------------------------------------------------------------------------


def test_a_client_user_reports_a_problem_at_their_own_site(world):
    # when
    req = _report(world.client_user, world.site, equipment_id=world.equipment.pk, suggested_priority="high")
    # then
    assert (req.client, req.site, req.equipment, req.status) == (
        world.client,
        world.site,
        world.equipment,
        RequestStatus.NEW,
    )
    assert (req.requester, req.requester_email) == (world.client_user.user, world.client_user.user.email)
    assert req.suggested_priority == Priority.HIGH


def test_a_client_user_cannot_request_work_at_another_clients_site(world):
    # when
    with pytest.raises(DomainError) as exc:
        _report(world.client_user, world.other_site)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "site")
    assert world.other_site.name not in exc.value.message
    assert not WorkRequest.objects.exists()


def test_a_client_user_naming_their_client_with_another_clients_site_learns_nothing_about_it(world):
    # when
    with pytest.raises(DomainError) as exc:
        _report(world.client_user, world.other_site, client_id=world.client.pk)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "site")
    assert world.other_site.name not in exc.value.message
    assert not WorkRequest.objects.exists()


def test_a_client_user_cannot_name_another_clients_equipment(world):
    # when the client user names the other client's equipment at their own site
    with pytest.raises(DomainError) as exc:
        _report(world.client_user, world.site, equipment_id=world.other_equipment.pk)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "equipment")
    assert world.other_equipment.name not in exc.value.message
    assert not WorkRequest.objects.exists()


def test_nobody_can_request_work_at_another_organizations_site(world, other_world):
    # when
    with pytest.raises(DomainError) as exc:
        _report(world.requester, other_world.site)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "site")
    assert not WorkRequest.objects.exists()


def test_equipment_must_be_at_the_chosen_site(world):
    # when
    with pytest.raises(DomainError) as exc:
        _report(world.requester, world.site, equipment_id=world.other_equipment.pk)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "equipment")


def test_a_request_needs_a_title(world):
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_create(actor=world.requester, title="  ", site_id=world.site.pk)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "title")


# --- converting -----------------------------------------------------------------------------------------


def test_converting_a_request_keeps_its_text_and_attachments_and_links_it(world):
    # given
    req = _report(world.client_user, world.site, equipment_id=world.equipment.pk, suggested_priority="high")
    photo = services.attachment_add(
        actor=world.client_user,
        work_request_id=req.pk,
        upload=SimpleUploadedFile("leak.jpg", jpeg_bytes(), "image/jpeg"),
    )
    # when
    wo = services.work_request_convert(actor=world.dispatcher, request_id=req.pk)
    # then
    req.refresh_from_db()
    assert (wo.title, wo.description, wo.priority) == (req.title, req.description, Priority.HIGH)
    assert (wo.client, wo.site, wo.equipment, wo.status) == (world.client, world.site, world.equipment, Status.NEW)
    assert wo.request == req and req.work_order == wo
    assert (req.status, req.decided_by) == (RequestStatus.ACCEPTED, world.dispatcher.user)
    copied = Attachment.objects.get(work_order=wo)
    assert (copied.file.name, copied.thumbnail.name, copied.original_name, copied.size_bytes) == (
        photo.file.name,
        photo.thumbnail.name,
        "leak.jpg",
        photo.size_bytes,
    )
    assert copied.is_client_visible


def test_converting_with_a_template_copies_its_checklist_and_overrides(world):
    # given
    req = _report(world.requester, world.site, equipment_id=world.equipment.pk)
    template = TemplateFactory(organization=world.org, name="Boiler leak", estimated_duration_minutes=90)
    ChecklistItemFactory(template=template, label="Isolate", is_required=True)
    # when
    wo = services.work_request_convert(
        actor=world.dispatcher,
        request_id=req.pk,
        template_id=template.pk,
        priority="critical",
        title="Boiler leak, plant room",
    )
    # then
    assert (wo.title, wo.priority, wo.template, wo.estimated_duration_minutes) == (
        "Boiler leak, plant room",
        Priority.CRITICAL,
        template,
        90,
    )
    assert list(wo.checklist.values_list("label", "is_required")) == [("Isolate", True)]


def test_converting_twice_is_refused_and_creates_one_work_order(world):
    # given
    req = _report(world.requester, world.site, equipment_id=world.equipment.pk)
    services.work_request_convert(actor=world.dispatcher, request_id=req.pk)
    before = _request_state(req)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_convert(actor=world.dispatcher, request_id=req.pk)
    # then
    assert exc.value.code == ErrorCode.INVALID_TRANSITION
    assert WorkOrder.objects.count() == 1
    assert _request_state(req) == before


def test_a_refused_conversion_leaves_the_request_new(world):
    # given a request without equipment, converted without a template that allows site-level work
    req = _report(world.requester, world.site)
    before = _request_state(req)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_convert(actor=world.dispatcher, request_id=req.pk)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "equipment")
    assert _request_state(req) == before
    assert not WorkOrder.objects.exists()


def test_converting_with_equipment_chosen_by_the_dispatcher(world):
    # given
    req = _report(world.requester, world.site)
    pump2 = EquipmentFactory(site=world.site)
    # when
    wo = services.work_request_convert(actor=world.dispatcher, request_id=req.pk, equipment_id=pump2.pk)
    # then
    assert wo.equipment == pump2


@pytest.mark.parametrize("who", ["technician", "accountant", "requester", "client_user"])
def test_only_the_office_triages_requests(world, who):
    # given
    req = WorkRequestFactory(site=world.site, requester=world.requester.user)
    before = _request_state(req)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_convert(actor=getattr(world, who), request_id=req.pk)
    # then
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    assert _request_state(req) == before


def test_another_organization_cannot_convert_the_request(world, other_world):
    # given
    req = WorkRequestFactory(site=world.site)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_convert(actor=other_world.dispatcher, request_id=req.pk)
    # then
    assert exc.value.code == ErrorCode.NOT_FOUND


# --- rejecting and duplicates ----------------------------------------------------------------------------


def test_rejecting_without_a_reason_is_refused(world):
    # given
    req = WorkRequestFactory(site=world.site)
    before = _request_state(req)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_reject(actor=world.dispatcher, request_id=req.pk, reason="  ")
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "reason")
    assert _request_state(req) == before


def test_rejecting_with_a_reason_tells_the_requester_why(world):
    # given
    req = WorkRequestFactory(site=world.site)
    # when
    services.work_request_reject(actor=world.dispatcher, request_id=req.pk, reason="Landlord's responsibility")
    # then
    req.refresh_from_db()
    assert (req.status, req.rejection_reason, req.decided_by, req.version) == (
        RequestStatus.REJECTED,
        "Landlord's responsibility",
        world.dispatcher.user,
        2,
    )


def test_a_rejected_request_cannot_be_converted(world):
    # given
    req = WorkRequestFactory(site=world.site, equipment=world.equipment)
    services.work_request_reject(actor=world.dispatcher, request_id=req.pk, reason="Not ours")
    before = _request_state(req)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_convert(actor=world.dispatcher, request_id=req.pk)
    # then
    assert exc.value.code == ErrorCode.INVALID_TRANSITION
    assert _request_state(req) == before
    assert not WorkOrder.objects.exists()


def test_a_request_cannot_duplicate_itself(world):
    # given
    req = WorkRequestFactory(site=world.site)
    before = _request_state(req)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_mark_duplicate(actor=world.dispatcher, request_id=req.pk, duplicate_of_id=req.pk)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "duplicate_of")
    assert _request_state(req) == before


def test_a_request_cannot_duplicate_another_organizations_request(world, other_world):
    # given
    req = WorkRequestFactory(site=world.site)
    foreign = WorkRequestFactory(site=other_world.site)
    before = _request_state(req)
    # when
    with pytest.raises(DomainError) as exc:
        services.work_request_mark_duplicate(actor=world.dispatcher, request_id=req.pk, duplicate_of_id=foreign.pk)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "duplicate_of")
    assert _request_state(req) == before


def test_marking_a_duplicate_links_the_original(world):
    # given
    original, req = WorkRequestFactory(site=world.site), WorkRequestFactory(site=world.site)
    # when
    services.work_request_mark_duplicate(actor=world.dispatcher, request_id=req.pk, duplicate_of_id=original.pk)
    # then
    req.refresh_from_db()
    assert (req.status, req.duplicate_of, req.decided_by) == (RequestStatus.DUPLICATE, original, world.dispatcher.user)
