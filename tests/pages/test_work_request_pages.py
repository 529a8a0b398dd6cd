"""Work request pages: list, report a problem, the request page and its decisions."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fixflow.service import services
from fixflow.service.models import Attachment, WorkOrder, WorkRequest
from tests.factories import TemplateFactory


def png(name="photo.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 200)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), "image/png")


def html(response) -> str:
    return response.content.decode()


def request_by(world, actor_name="requester", **kwargs) -> WorkRequest:
    kwargs.setdefault("title", "Heating off in room 12")
    kwargs.setdefault("site_id", world.site.pk)
    return services.work_request_create(actor=getattr(world, actor_name), **kwargs)


def listed(response) -> list[str]:
    return re.findall(r'<span class="ref">(REQ-\d+)</span>', html(response))


# ---------------------------------------------------------------------------------------------
# who sees what


@pytest.mark.parametrize("role", ["admin", "dispatcher"])
def test_office_roles_see_every_request(world, svc_login, role):
    # given
    a = request_by(world, "requester")
    b = request_by(world, "client_user", title="Lift stuck")
    # when
    response = svc_login(getattr(world, role)).get("/requests/")
    # then
    assert response.status_code == 200
    assert set(listed(response)) == {a.reference, b.reference}


@pytest.mark.parametrize("role", ["requester", "technician", "accountant"])
def test_other_roles_see_the_requests_they_made(world, svc_login, role):
    # given
    mine = request_by(world, role, title="My own report")
    other = request_by(world, "client_user", title="Someone else's report")
    client = svc_login(getattr(world, role))
    # when
    response = client.get("/requests/")
    # then
    assert listed(response) == [mine.reference]
    assert client.get(f"/requests/{mine.pk}/").status_code == 200
    assert client.get(f"/requests/{other.pk}/").status_code == 404


def test_a_client_user_sees_the_requests_of_their_client_only(world, svc_login):
    # given
    ours = request_by(world, "requester", title="At our site")
    theirs = request_by(world, "requester", title="At the bakery", site_id=world.other_site.pk)
    client = svc_login(world.client_user)
    # when / then
    assert listed(client.get("/requests/")) == [ours.reference]
    assert client.get(f"/requests/{ours.pk}/").status_code == 200
    assert client.get(f"/requests/{theirs.pk}/").status_code == 404


def test_a_request_of_another_organization_is_not_found(world, other_world, svc_login):
    # given
    req = request_by(world)
    att = services.attachment_add(actor=world.requester, work_request_id=req.pk, upload=png())
    outsider = svc_login(other_world.dispatcher)
    # when / then
    assert outsider.get(f"/requests/{req.pk}/").status_code == 404
    assert outsider.get(f"/files/{att.pk}/").status_code == 404
    response = outsider.post(f"/requests/{req.pk}/reject/", {"reason": "Spam"})
    assert response.status_code == 404
    assert WorkRequest.objects.get(pk=req.pk).status == "new"


# ---------------------------------------------------------------------------------------------
# the list


def test_the_list_filters_by_status_site_source_and_search(world, svc_login):
    # given
    boiler = request_by(world, title="Boiler makes noise")
    oven = request_by(world, title="Oven too cold", site_id=world.other_site.pk)
    api = request_by(world, title="Leak reported by API", source="api")
    services.work_request_reject(actor=world.dispatcher, request_id=boiler.pk, reason="Known issue")
    client = svc_login(world.dispatcher)
    # when / then
    assert listed(client.get("/requests/?status=rejected")) == [boiler.reference]
    assert listed(client.get(f"/requests/?site={world.other_site.pk}")) == [oven.reference]
    assert listed(client.get("/requests/?source=api")) == [api.reference]
    assert listed(client.get("/requests/?q=oven")) == [oven.reference]
    assert set(listed(client.get("/requests/"))) == {boiler.reference, oven.reference, api.reference}


# ---------------------------------------------------------------------------------------------
# reporting a problem


def test_the_form_offers_a_client_user_only_their_own_sites(world, svc_login):
    # when
    page = html(svc_login(world.client_user).get("/requests/new/"))
    # then
    assert world.site.name in page and world.equipment.name in page
    assert world.other_site.name not in page and world.other_equipment.name not in page
    assert world.other_client.name not in page


def test_sites_and_equipment_name_their_parent_for_the_dependent_selects(world, svc_login):
    page = html(svc_login(world.dispatcher).get("/requests/new/"))
    assert re.search(rf'<option value="{world.other_site.pk}" data-parent="{world.other_client.pk}">', page)
    assert re.search(rf'<option value="{world.equipment.pk}" data-parent="{world.site.pk}">', page)
    assert 'data-filter-by="client"' in page and 'data-filter-by="site"' in page


def test_reporting_a_problem_with_several_photos(world, svc_login):
    # when
    response = svc_login(world.client_user).post(
        "/requests/new/",
        {
            "client": world.client.pk,
            "site": world.site.pk,
            "equipment": world.equipment.pk,
            "title": "Pump P1 leaking",
            "description": "Water on the floor",
            "suggested_priority": "high",
            "file": [png("front.png"), png("back.png")],
        },
    )
    # then
    req = WorkRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{req.pk}/"
    assert (req.title, req.suggested_priority, req.requester) == ("Pump P1 leaking", "high", world.client_user.user)
    assert sorted(a.original_name for a in req.attachments.all()) == ["back.png", "front.png"]
    page = html(svc_login(world.client_user).get(f"/requests/{req.pk}/"))
    assert "Water on the floor" in page and page.count("/thumbnail/") == 2


def test_an_invalid_report_keeps_the_input_and_shows_the_error(world, svc_login):
    # when
    response = svc_login(world.requester).post(
        "/requests/new/",
        {
            "client": world.client.pk,
            "site": world.site.pk,
            "title": "",
            "description": "Smells of burning",
            "suggested_priority": "critical",
        },
    )
    # then
    assert response.status_code == 422
    assert "Smells of burning" in html(response) and "This field is required." in html(response)
    assert not WorkRequest.objects.exists()


def test_a_site_of_another_client_is_refused_for_a_client_user(world, svc_login):
    response = svc_login(world.client_user).post(
        "/requests/new/",
        {"client": world.client.pk, "site": world.other_site.pk, "title": "Not ours", "suggested_priority": "normal"},
    )
    assert response.status_code == 422
    assert not WorkRequest.objects.exists()


def test_a_fake_image_is_refused_and_nothing_is_saved(world, svc_login):
    # given a text file named like a photo
    fake = SimpleUploadedFile("leak.jpg", b"just some text, not a jpeg at all", "image/jpeg")
    # when
    response = svc_login(world.requester).post(
        "/requests/new/",
        {
            "client": world.client.pk,
            "site": world.site.pk,
            "title": "Leak",
            "suggested_priority": "normal",
            "file": [png("good.png"), fake],
        },
    )
    # then
    assert response.status_code == 422
    assert "leak.jpg: this type of file is not accepted" in html(response)
    assert 'value="Leak"' in html(response)
    assert not WorkRequest.objects.exists() and not Attachment.objects.exists()


# ---------------------------------------------------------------------------------------------
# deciding


def test_only_dispatchers_get_the_decision_forms(world, svc_login):
    req = request_by(world)
    assert "Convert to a work order" in html(svc_login(world.dispatcher).get(f"/requests/{req.pk}/"))
    assert "Convert to a work order" not in html(svc_login(world.requester).get(f"/requests/{req.pk}/"))


def test_converting_creates_the_work_order_with_the_requests_files(world, svc_login):
    # given
    req = request_by(world, equipment_id=world.equipment.pk, suggested_priority="high")
    services.attachment_add(actor=world.requester, work_request_id=req.pk, upload=png("leak.png"))
    template = TemplateFactory(organization=world.org, name="Leak repair")
    # when
    response = svc_login(world.dispatcher).post(
        f"/requests/{req.pk}/convert/",
        {
            "title": "Repair leak at P1",
            "template": template.pk,
            "equipment": world.equipment.pk,
            "priority": "high",
            "lead_technician": world.technician.user_id,
            "scheduled_start": "2026-09-01T07:30",
        },
    )
    # then
    wo = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/work-orders/{wo.pk}/"
    assert (wo.title, wo.request, wo.lead_technician, wo.template) == (
        "Repair leak at P1",
        req,
        world.technician.user,
        template,
    )
    assert wo.scheduled_start.isoformat() == "2026-09-01T05:30:00+00:00"  # Berlin summer time
    assert [a.original_name for a in wo.attachments.all()] == ["leak.png"]
    req.refresh_from_db()
    assert req.status == "accepted"
    page = html(svc_login(world.requester).get(f"/requests/{req.pk}/"))
    assert wo.number in page


def test_an_invalid_conversion_keeps_the_input_and_shows_the_error(world, svc_login):
    # given a request without equipment, converted without a template that allows site-level work
    req = request_by(world)
    # when
    response = svc_login(world.dispatcher).post(
        f"/requests/{req.pk}/convert/", {"title": "Check heating", "template": "", "equipment": "", "priority": "low"}
    )
    # then
    assert response.status_code == 422
    assert "Choose the equipment the work is done on" in html(response)
    assert 'value="Check heating"' in html(response)
    assert not WorkOrder.objects.exists()
    assert WorkRequest.objects.get(pk=req.pk).status == "new"


def test_rejecting_needs_a_reason_the_requester_then_sees(world, svc_login):
    # given
    req = request_by(world)
    client = svc_login(world.dispatcher)
    # when
    refused = client.post(f"/requests/{req.pk}/reject/", {"reason": ""})
    accepted = client.post(f"/requests/{req.pk}/reject/", {"reason": "That is the tenant's own appliance."})
    # then
    assert refused.status_code == 422 and "This field is required." in html(refused)
    assert accepted.status_code == 302
    page = html(svc_login(world.requester).get(f"/requests/{req.pk}/"))
    assert "Rejected" in page and "That is the tenant&#x27;s own appliance." in page


def test_marking_a_duplicate_links_the_original(world, svc_login):
    # given
    original = request_by(world, title="Lift stuck on floor 2")
    copy = request_by(world, "client_user", title="Lift not moving")
    client = svc_login(world.dispatcher)
    form = html(client.get(f"/requests/{copy.pk}/"))
    # when
    response = client.post(f"/requests/{copy.pk}/duplicate/", {"duplicate_of": original.pk})
    # then
    assert original.reference in form
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.status == "duplicate" and copy.duplicate_of == original
    assert f"/requests/{original.pk}/" in html(client.get(f"/requests/{copy.pk}/"))


def test_a_decided_request_cannot_be_decided_again(world, svc_login):
    req = request_by(world)
    services.work_request_reject(actor=world.dispatcher, request_id=req.pk, reason="No")
    response = svc_login(world.dispatcher).post(
        f"/requests/{req.pk}/convert/", {"title": "x", "equipment": world.equipment.pk, "priority": "normal"}
    )
    assert response.status_code == 422
    assert "already rejected" in html(response)
    assert not WorkOrder.objects.exists()


def test_a_requests_file_is_downloadable_by_who_sees_the_request_only(world, svc_login):
    req = request_by(world)
    att = services.attachment_add(actor=world.requester, work_request_id=req.pk, upload=png("meter.png"))
    assert svc_login(world.requester).get(f"/files/{att.pk}/").status_code == 200
    assert svc_login(world.dispatcher).get(f"/files/{att.pk}/").status_code == 200
    assert svc_login(world.technician).get(f"/files/{att.pk}/").status_code == 404
    assert svc_login(world.other_client_user).get(f"/files/{att.pk}/").status_code == 404
