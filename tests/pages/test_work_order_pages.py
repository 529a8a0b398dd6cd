"""Work order pages: list, create, edit, the work order page and its sub-actions, files, signature."""

import base64
import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from fixflow.customers.models import Site
from fixflow.service import services
from fixflow.service.models import Attachment, ChecklistAnswer, PartUsage, TimeEntry, WorkOrder, WorkRequest
from tests.factories import (
    ChecklistItemFactory,
    EquipmentFactory,
    PartFactory,
    SiteFactory,
    TemplateFactory,
    WorkOrderFactory,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def png_bytes(size=(40, 30), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def html(response) -> str:
    return response.content.decode()


def new_work_order(world, **kwargs) -> WorkOrder:
    kwargs.setdefault("title", "Pump leaking")
    kwargs.setdefault("equipment_id", world.equipment.pk)
    return services.work_order_create(actor=world.dispatcher, site_id=kwargs.pop("site_id", world.site.pk), **kwargs)


def started_work_order(world, **kwargs) -> WorkOrder:
    """A work order led by world.technician and in progress."""
    wo = new_work_order(
        world,
        lead_technician_id=world.technician.user_id,
        scheduled_start=timezone.now() + timedelta(hours=1),
        **kwargs,
    )
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to="in_progress")
    return WorkOrder.objects.get(pk=wo.pk)


def transitions_offered(response) -> set[str]:
    return set(re.findall(r'data-transition="([a-z_]+)"', html(response)))


# ---------------------------------------------------------------------------------------------
# who sees what


@pytest.mark.parametrize("role", ["admin", "dispatcher", "technician", "accountant", "client_user"])
def test_each_role_that_may_see_work_orders_gets_the_list_and_the_page(world, svc_login, role):
    # given
    wo = new_work_order(world, title="Boiler pressure low")
    client = svc_login(getattr(world, role))
    # when
    listing = client.get("/work-orders/")
    page = client.get(f"/work-orders/{wo.pk}/")
    # then
    assert listing.status_code == 200 and wo.number in html(listing)
    assert page.status_code == 200 and "Boiler pressure low" in html(page)


def test_a_requester_sees_only_the_work_orders_made_from_their_requests(world, svc_login):
    # given
    req = services.work_request_create(actor=world.requester, title="Door stuck", site_id=world.site.pk)
    mine = services.work_request_convert(actor=world.dispatcher, request_id=req.pk, equipment_id=world.equipment.pk)
    other = new_work_order(world, title="Someone else's job")
    client = svc_login(world.requester)
    # when
    listing = client.get("/work-orders/")
    # then
    assert mine.number in html(listing) and other.number not in html(listing)
    assert client.get(f"/work-orders/{mine.pk}/").status_code == 200
    assert client.get(f"/work-orders/{other.pk}/").status_code == 404


def test_a_work_order_of_another_organization_is_not_found_anywhere(world, other_world, svc_login):
    # given
    wo = started_work_order(world)
    att = services.attachment_add(
        actor=world.technician, work_order_id=wo.pk, upload=SimpleUploadedFile("leak.png", png_bytes(), "image/png")
    )
    outsider = svc_login(other_world.dispatcher)
    # when / then
    for url in (
        f"/work-orders/{wo.pk}/",
        f"/work-orders/{wo.pk}/edit/",
        f"/files/{att.pk}/",
        f"/files/{att.pk}/thumbnail/",
        f"/work-orders/{wo.pk}/signature.png",
    ):
        assert outsider.get(url).status_code == 404, url
    response = outsider.post(f"/work-orders/{wo.pk}/transition/", {"to": "on_hold", "hold_reason": "other"})
    assert response.status_code == 404
    assert WorkOrder.objects.get(pk=wo.pk).status == "in_progress"


def test_a_client_user_of_another_client_gets_not_found(world, svc_login):
    # given
    wo = new_work_order(world)
    client = svc_login(world.other_client_user)
    # when
    response = client.get(f"/work-orders/{wo.pk}/")
    listing = client.get("/work-orders/")
    # then
    assert response.status_code == 404
    assert wo.number not in html(listing)


def test_only_office_roles_may_open_the_create_and_edit_forms(world, svc_login):
    # given
    wo = new_work_order(world)
    # when / then
    assert svc_login(world.technician).get("/work-orders/new/").status_code == 403
    assert svc_login(world.technician).get(f"/work-orders/{wo.pk}/edit/").status_code == 403
    assert svc_login(world.dispatcher).get("/work-orders/new/").status_code == 200


# ---------------------------------------------------------------------------------------------
# the list: filters, sorting, pages, local times


@pytest.fixture
def svc_three_work_orders(world):
    low = new_work_order(world, title="Alpha low job", priority="low")
    critical = new_work_order(
        world,
        title="Bravo critical job",
        priority="critical",
        lead_technician_id=world.technician.user_id,
        scheduled_start=timezone.now() + timedelta(days=1),
    )
    services.work_order_transition(actor=world.dispatcher, work_order_id=critical.pk, to="planned")
    other = new_work_order(
        world, title="Charlie oven job", site_id=world.other_site.pk, equipment_id=world.other_equipment.pk
    )
    return low, critical, other


def listed(response) -> list[str]:
    return re.findall(r'<span class="ref">(WO-[0-9-]+)</span>', html(response))


def test_the_list_filters_by_status_technician_client_and_search(world, svc_login, svc_three_work_orders):
    # given
    low, critical, other = svc_three_work_orders
    dispatcher, technician = svc_login(world.dispatcher), svc_login(world.technician)
    # when / then
    assert listed(dispatcher.get("/work-orders/?status=planned")) == [critical.number]
    assert set(listed(dispatcher.get("/work-orders/?status=new&status=planned"))) == {
        low.number,
        critical.number,
        other.number,
    }
    assert set(listed(dispatcher.get("/work-orders/?status=planned,in_progress"))) == {critical.number}
    assert listed(technician.get("/work-orders/?technician=me")) == [critical.number]
    assert listed(dispatcher.get(f"/work-orders/?client={world.other_client.pk}")) == [other.number]
    assert set(listed(dispatcher.get("/work-orders/?unassigned=on"))) == {low.number, other.number}
    assert listed(dispatcher.get("/work-orders/?q=oven")) == [other.number]
    assert listed(dispatcher.get("/work-orders/?priority=critical")) == [critical.number]


def test_the_list_shows_overdue_work(world, svc_login):
    # given
    late = new_work_order(
        world,
        title="Late job",
        scheduled_start=timezone.now() - timedelta(days=2),
        scheduled_end=timezone.now() - timedelta(days=1),
    )
    new_work_order(world, title="Future job", scheduled_start=timezone.now() + timedelta(days=2))
    # when
    response = svc_login(world.dispatcher).get("/work-orders/?overdue=1")
    # then
    assert listed(response) == [late.number]
    assert "Overdue" in html(response)


def test_the_list_sorts_by_priority_and_by_number(world, svc_login, svc_three_work_orders):
    # given
    low, critical, other = svc_three_work_orders
    client = svc_login(world.dispatcher)
    # when
    by_priority = listed(client.get("/work-orders/?sort=priority"))
    by_number = listed(client.get("/work-orders/?sort=number"))
    newest_first = listed(client.get("/work-orders/"))
    # then
    assert by_priority[0] == critical.number and by_priority[-1] == low.number
    assert by_number == sorted(by_number)
    assert newest_first == [other.number, critical.number, low.number]


def test_the_list_pages_with_a_cursor(world, svc_login):
    # given
    WorkOrderFactory.create_batch(52, equipment=world.equipment)
    client = svc_login(world.dispatcher)
    # when
    first = client.get("/work-orders/?sort=number")
    cursor = re.search(r'href="\?sort=number&amp;cursor=([^"]+)" rel="next"', html(first)).group(1)
    second = client.get(f"/work-orders/?sort=number&cursor={cursor}")
    # then
    assert len(listed(first)) == 50 and len(listed(second)) == 2
    assert not set(listed(first)) & set(listed(second))


def test_a_broken_cursor_starts_again_from_the_first_page(world, svc_login):
    new_work_order(world)
    response = svc_login(world.dispatcher).get("/work-orders/?cursor=garbage")
    assert response.status_code == 200
    assert "start again from the first page" in html(response)


def test_scheduled_start_is_shown_in_the_sites_time_zone(world, svc_login):
    # given a site in New York and a start at 14:00 UTC (10:00 there, daylight saving time)
    site = SiteFactory(client=world.client, name="Newark plant", timezone="America/New_York")
    eq = EquipmentFactory(site=site, name="Chiller")
    start = timezone.datetime(2026, 3, 10, 14, 0, tzinfo=timezone.UTC)
    wo = new_work_order(world, site_id=site.pk, equipment_id=eq.pk, scheduled_start=start)
    client = svc_login(world.dispatcher)
    # when
    listing = client.get("/work-orders/")
    page = client.get(f"/work-orders/{wo.pk}/")
    # then
    assert "Tue 10 Mar 2026 10:00" in html(listing)
    assert "Tue 10 Mar 2026 10:00" in html(page) and "America/New_York" in html(page)


# ---------------------------------------------------------------------------------------------
# create and edit


def test_creating_a_work_order_reads_times_in_the_sites_time_zone(world, svc_login):
    # given
    site = Site.objects.get(pk=world.site.pk)
    site.timezone = "America/New_York"
    site.save()
    template = TemplateFactory(organization=world.org, name="Pump service", default_priority="high")
    # when
    response = svc_login(world.dispatcher).post(
        "/work-orders/new/",
        {
            "client": world.client.pk,
            "site": world.site.pk,
            "equipment": world.equipment.pk,
            "template": template.pk,
            "title": "",
            "type": "",
            "priority": "",
            "lead_technician": world.technician.user_id,
            "helpers": [world.technician2.user_id],
            "scheduled_start": "2026-07-01T09:00",
            "is_billable": "on",
        },
    )
    # then
    wo = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/work-orders/{wo.pk}/"
    assert wo.title == "Pump service" and wo.priority == "high" and wo.template == template
    assert wo.scheduled_start == timezone.datetime(2026, 7, 1, 13, 0, tzinfo=timezone.UTC)
    assert list(wo.helpers.all()) == [world.technician2.user]


def test_the_create_form_is_prefilled_from_the_query_string(world, svc_login):
    # when
    response = svc_login(world.dispatcher).get(f"/work-orders/new/?equipment={world.equipment.pk}")
    # then: the equipment fills in its site and client
    selected = {
        (select, value)
        for select, value in re.findall(
            r'<select name="(\w+)".*?<option value="(\d+)" selected', html(response), flags=re.S
        )
    }
    assert selected == {
        ("client", str(world.client.pk)),
        ("site", str(world.site.pk)),
        ("equipment", str(world.equipment.pk)),
    }


def test_an_invalid_create_keeps_the_input_and_shows_the_error(world, svc_login):
    # given no equipment and no template (site-level work needs a template that allows it)
    data = {
        "client": world.client.pk,
        "site": world.site.pk,
        "equipment": "",
        "title": "Strange noise",
        "description": "Since Monday",
        "priority": "high",
    }
    # when
    response = svc_login(world.dispatcher).post("/work-orders/new/", data)
    # then
    assert response.status_code == 422
    page = html(response)
    assert "Choose the equipment the work is done on" in page
    assert 'value="Strange noise"' in page and "Since Monday" in page
    assert not WorkOrder.objects.exists()


def test_editing_plans_the_work_and_writes_the_timeline(world, svc_login):
    # given
    wo = new_work_order(world)
    client = svc_login(world.dispatcher)
    form = client.get(f"/work-orders/{wo.pk}/edit/")
    # when
    response = client.post(
        f"/work-orders/{wo.pk}/edit/",
        {
            "version": wo.version,
            "title": "Pump leaking badly",
            "type": "corrective",
            "priority": "high",
            "equipment": world.equipment.pk,
            "description": "",
            "lead_technician": world.technician.user_id,
            "scheduled_start": "2026-06-01T08:00",
            "scheduled_end": "2026-06-01T10:00",
            "is_billable": "on",
        },
    )
    # then
    assert form.status_code == 200
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.title == "Pump leaking badly" and wo.lead_technician == world.technician.user
    assert wo.scheduled_start == timezone.datetime(2026, 6, 1, 6, 0, tzinfo=timezone.UTC)  # Berlin, summer time
    page = html(client.get(f"/work-orders/{wo.pk}/"))
    assert "Assignment changed" in page and "Schedule changed" in page


def test_a_stale_edit_shows_the_conflict_and_changes_nothing(world, svc_login):
    # given the form was opened at one version, then someone else changed the work order
    wo = new_work_order(world, title="Original title")
    stale_version = wo.version
    services.work_order_update(actor=world.admin, work_order_id=wo.pk, data={"priority": "critical"})
    # when
    response = svc_login(world.dispatcher).post(
        f"/work-orders/{wo.pk}/edit/",
        {
            "version": stale_version,
            "title": "My new title",
            "type": "corrective",
            "priority": "normal",
            "equipment": world.equipment.pk,
            "is_billable": "on",
        },
    )
    # then
    assert response.status_code == 422
    page = html(response)
    assert "Someone else changed this work order" in page and "Reload the form" in page
    assert 'value="My new title"' in page
    wo.refresh_from_db()
    assert wo.title == "Original title" and wo.priority == "critical"


# ---------------------------------------------------------------------------------------------
# the whole flow through the pages


def test_request_to_closed_work_order_through_the_pages(world, svc_login):
    # given a template with a required checklist item
    template = TemplateFactory(organization=world.org, name="Leak repair")
    ChecklistItemFactory(template=template, label="Pressure tested", kind="pass_fail", is_required=True)
    ChecklistItemFactory(template=template, label="Area cleaned", kind="checkbox", is_required=False)
    part = PartFactory(organization=world.org, name="Gasket DN50")
    requester, dispatcher, technician = (
        svc_login(world.requester),
        svc_login(world.dispatcher),
        svc_login(world.technician),
    )

    # a requester reports the problem with a photo
    response = requester.post(
        "/requests/new/",
        {
            "client": world.client.pk,
            "site": world.site.pk,
            "equipment": world.equipment.pk,
            "title": "Water under pump P1",
            "description": "A puddle since this morning.",
            "suggested_priority": "high",
            "file": [SimpleUploadedFile("puddle.png", png_bytes(), "image/png")],
        },
    )
    req = WorkRequest.objects.get()
    assert response.status_code == 302 and req.attachments.count() == 1

    # the dispatcher converts it
    response = dispatcher.post(
        f"/requests/{req.pk}/convert/",
        {"title": req.title, "template": template.pk, "equipment": world.equipment.pk, "priority": "high"},
    )
    wo = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/work-orders/{wo.pk}/"
    assert wo.attachments.count() == 1 and wo.checklist.count() == 2

    # plans it: planning is refused until a technician and a start are set
    page = dispatcher.get(f"/work-orders/{wo.pk}/")
    assert "Assign a lead technician first." in html(page)
    response = dispatcher.post(
        f"/work-orders/{wo.pk}/edit/",
        {
            "version": wo.version,
            "title": wo.title,
            "type": wo.type,
            "priority": "high",
            "equipment": world.equipment.pk,
            "lead_technician": world.technician.user_id,
            "scheduled_start": "2026-05-04T08:00",
            "is_billable": "on",
        },
    )
    assert response.status_code == 302
    wo.refresh_from_db()
    response = dispatcher.post(f"/work-orders/{wo.pk}/transition/", {"to": "planned", "version": wo.version})
    assert response.status_code == 302
    assert WorkOrder.objects.get(pk=wo.pk).status == "planned"

    # the technician starts
    page = technician.get(f"/work-orders/{wo.pk}/")
    assert "start" in transitions_offered(page)
    wo.refresh_from_db()
    assert (
        technician.post(f"/work-orders/{wo.pk}/transition/", {"to": "in_progress", "version": wo.version}).status_code
        == 302
    )

    # records time and a part
    response = technician.post(
        f"/work-orders/{wo.pk}/time/",
        {"started_at": "2026-05-04T08:00", "duration_minutes": "45", "kind": "labour", "note": "Replaced gasket"},
    )
    assert response.status_code == 302
    response = technician.post(f"/work-orders/{wo.pk}/parts/", {"part": part.pk, "quantity": "2", "unit": ""})
    assert response.status_code == 302
    assert TimeEntry.objects.get(work_order=wo).duration_minutes == 45
    assert PartUsage.objects.get(work_order=wo).description == "Gasket DN50"

    # completing is refused while the required checklist item is open; the notes typed are kept
    wo.refresh_from_db()
    response = technician.post(
        f"/work-orders/{wo.pk}/transition/",
        {"to": "completed", "version": wo.version, "resolution_notes": "Gasket replaced, no more leak."},
    )
    assert response.status_code == 422
    assert "Answer the required checklist items: Pressure tested." in html(response)
    assert "Gasket replaced, no more leak." in html(response)
    assert WorkOrder.objects.get(pk=wo.pk).status == "in_progress"

    # answers the checklist (htmx) and completes
    item = ChecklistAnswer.objects.get(work_order=wo, label="Pressure tested")
    response = technician.post(f"/work-orders/{wo.pk}/checklist/{item.pk}/", {"value": "pass"}, **HTMX)
    assert response.status_code == 200 and f'id="check-{item.pk}"' in html(response)
    wo.refresh_from_db()
    response = technician.post(
        f"/work-orders/{wo.pk}/transition/",
        {"to": "completed", "version": wo.version, "resolution_notes": "Gasket replaced, no more leak."},
    )
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.status == "completed" and wo.resolution_notes == "Gasket replaced, no more leak."

    # the technician may not close their own work; the dispatcher closes it
    assert "close" not in transitions_offered(technician.get(f"/work-orders/{wo.pk}/"))
    assert "close" in transitions_offered(dispatcher.get(f"/work-orders/{wo.pk}/"))
    response = dispatcher.post(f"/work-orders/{wo.pk}/transition/", {"to": "closed", "version": wo.version})
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.status == "closed" and wo.billing_status == "to_invoice" and wo.closed_by == world.dispatcher.user
    page = html(dispatcher.get(f"/work-orders/{wo.pk}/"))
    assert "Completed" in page and "Closed" in page and "REQ-" in page


# ---------------------------------------------------------------------------------------------
# transition buttons


def test_buttons_are_shown_only_for_the_transitions_the_user_may_take(world, svc_login):
    # given
    wo = started_work_order(world)
    # when
    technician = transitions_offered(svc_login(world.technician).get(f"/work-orders/{wo.pk}/"))
    other_technician = transitions_offered(svc_login(world.technician2).get(f"/work-orders/{wo.pk}/"))
    dispatcher = transitions_offered(svc_login(world.dispatcher).get(f"/work-orders/{wo.pk}/"))
    accountant = transitions_offered(svc_login(world.accountant).get(f"/work-orders/{wo.pk}/"))
    client_user = transitions_offered(svc_login(world.client_user).get(f"/work-orders/{wo.pk}/"))
    # then
    assert technician == {"hold", "complete"}
    assert other_technician == set()
    assert dispatcher == {"hold", "complete", "cancel"}
    assert accountant == set() and client_user == set()


def test_a_transition_the_user_may_not_take_is_refused_and_changes_nothing(world, svc_login):
    # given
    wo = started_work_order(world)
    # when
    response = svc_login(world.technician).post(
        f"/work-orders/{wo.pk}/transition/", {"to": "cancelled", "reason": "Not needed"}
    )
    # then
    assert response.status_code == 422
    assert "may not cancel" in html(response)
    assert WorkOrder.objects.get(pk=wo.pk).status == "in_progress"


def test_putting_on_hold_needs_a_reason_and_keeps_the_note_typed(world, svc_login):
    # given
    wo = started_work_order(world)
    client = svc_login(world.technician)
    # when
    refused = client.post(
        f"/work-orders/{wo.pk}/transition/", {"to": "on_hold", "version": wo.version, "reason": "Client not on site"}
    )
    accepted = client.post(
        f"/work-orders/{wo.pk}/transition/",
        {"to": "on_hold", "version": wo.version, "hold_reason": "waiting_for_client", "reason": "Client not on site"},
    )
    # then
    assert refused.status_code == 422 and "Choose a hold reason." in html(refused)
    assert "Client not on site" in html(refused)
    assert accepted.status_code == 302
    wo.refresh_from_db()
    assert wo.status == "on_hold" and wo.hold_reason == "waiting_for_client"
    page = client.get(f"/work-orders/{wo.pk}/")
    assert "On hold: Waiting for client" in html(page) and "resume" in transitions_offered(page)


def test_a_note_added_meanwhile_does_not_block_a_transition_from_an_older_page(world, svc_login):
    # given the technician's page was loaded before the dispatcher added a note
    wo = started_work_order(world)
    stale = wo.version
    services.note_create(actor=world.dispatcher, work_order_id=wo.pk, body="Call before arriving")
    # when
    response = svc_login(world.technician).post(
        f"/work-orders/{wo.pk}/transition/", {"to": "on_hold", "version": stale, "hold_reason": "waiting_for_parts"}
    )
    # then the transition is checked against the current state, not the page's version
    assert response.status_code == 302
    assert WorkOrder.objects.get(pk=wo.pk).status == "on_hold"


def test_a_transition_that_no_longer_fits_the_current_status_is_refused(world, svc_login):
    # given the technician's page shows the work in progress, but the dispatcher has put it on hold
    wo = started_work_order(world)
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=wo.pk, to="on_hold", hold_reason="waiting_for_client"
    )
    version = WorkOrder.objects.get(pk=wo.pk).version
    # when the technician sends "on hold" from the old page
    response = svc_login(world.technician).post(
        f"/work-orders/{wo.pk}/transition/", {"to": "on_hold", "hold_reason": "waiting_for_parts"}
    )
    # then
    assert response.status_code == 422
    assert "cannot become on hold" in html(response)
    assert WorkOrder.objects.get(pk=wo.pk).version == version


# ---------------------------------------------------------------------------------------------
# checklist, time, parts, notes


def test_an_invalid_checklist_answer_is_shown_next_to_the_item(world, svc_login):
    # given
    template = TemplateFactory(organization=world.org)
    ChecklistItemFactory(template=template, label="Pressure (bar)", kind="number", is_required=True)
    wo = started_work_order(world, template_id=template.pk)
    item = wo.checklist.get()
    # when
    response = svc_login(world.technician).post(f"/work-orders/{wo.pk}/checklist/{item.pk}/", {"value": "abc"}, **HTMX)
    # then
    assert response.status_code == 422
    assert "Enter a number for value." in html(response) and 'value="abc"' in html(response)
    assert ChecklistAnswer.objects.get(pk=item.pk).value == ""


def test_a_checklist_answer_without_htmx_redirects_back_to_the_checklist(world, svc_login):
    template = TemplateFactory(organization=world.org)
    ChecklistItemFactory(template=template, label="Filter changed", kind="checkbox")
    wo = started_work_order(world, template_id=template.pk)
    item = wo.checklist.get()
    response = svc_login(world.technician).post(f"/work-orders/{wo.pk}/checklist/{item.pk}/", {"value": ["", "done"]})
    assert response.status_code == 302 and response["Location"].endswith("#wo-checklist")
    assert ChecklistAnswer.objects.get(pk=item.pk).value == "done"


def test_an_invalid_time_entry_keeps_the_input(world, svc_login):
    # given
    wo = started_work_order(world)
    # when
    response = svc_login(world.technician).post(
        f"/work-orders/{wo.pk}/time/",
        {"started_at": "2026-05-04T08:00", "duration_minutes": "", "kind": "travel", "note": "Drive from depot"},
        **HTMX,
    )
    # then
    assert response.status_code == 422
    page = html(response)
    assert "Enter the duration or the end." in page and "Drive from depot" in page and 'hx-swap-oob="true"' in page
    assert not TimeEntry.objects.exists()


def test_the_timer_starts_and_stops_for_the_current_user(world, svc_login):
    # given
    wo = started_work_order(world)
    client = svc_login(world.technician)
    # when
    client.post(f"/work-orders/{wo.pk}/timer/", {"action": "start", "kind": "labour"})
    running_page = html(client.get(f"/work-orders/{wo.pk}/"))
    client.post(f"/work-orders/{wo.pk}/timer/", {"action": "stop"})
    # then
    assert "Stop timer" in running_page and "timer is running since" in running_page
    entry = TimeEntry.objects.get(work_order=wo)
    assert entry.ended_at is not None and entry.technician == world.technician.user


def test_removing_a_part_and_planning_materials(world, svc_login):
    # given
    wo = started_work_order(world)
    part = PartFactory(organization=world.org, name="Filter F7")
    dispatcher = svc_login(world.dispatcher)
    dispatcher.post(f"/work-orders/{wo.pk}/materials/", {"part": part.pk, "quantity": "3"})
    svc_login(world.technician).post(f"/work-orders/{wo.pk}/parts/", {"part": part.pk, "quantity": "1"})
    # when
    page = html(dispatcher.get(f"/work-orders/{wo.pk}/"))
    usage = PartUsage.objects.get()
    removed = dispatcher.post(f"/work-orders/{wo.pk}/parts/{usage.pk}/delete/")
    # then: planned 3, used 1, 2 still to use
    assert "2 still to use" in page
    assert removed.status_code == 302 and not PartUsage.objects.exists()


def test_a_part_needs_a_catalogue_entry_or_a_description(world, svc_login):
    wo = started_work_order(world)
    response = svc_login(world.technician).post(f"/work-orders/{wo.pk}/parts/", {"part": "", "quantity": "1"})
    assert response.status_code == 422
    assert "Choose a part from the catalogue or describe it." in html(response)


def test_client_users_see_only_the_notes_meant_for_them(world, svc_login):
    # given
    wo = started_work_order(world)
    services.note_create(actor=world.technician, work_order_id=wo.pk, body="Internal: pump is old")
    services.note_create(
        actor=world.technician, work_order_id=wo.pk, body="Visible: replaced seal", is_client_visible=True
    )
    # when
    page = html(svc_login(world.client_user).get(f"/work-orders/{wo.pk}/"))
    # then
    assert "Visible: replaced seal" in page and "Internal: pump is old" not in page


def test_a_note_added_with_htmx_answers_with_the_notes_and_the_timeline(world, svc_login):
    wo = started_work_order(world)
    response = svc_login(world.technician).post(
        f"/work-orders/{wo.pk}/notes/", {"body": "Needs a new bearing", "is_client_visible": "on"}, **HTMX
    )
    page = html(response)
    assert response.status_code == 200
    assert 'id="wo-notes" hx-swap-oob="true"' in page and 'id="wo-timeline" hx-swap-oob="true"' in page
    assert "Needs a new bearing" in page


# ---------------------------------------------------------------------------------------------
# files and signature


def test_an_attachment_downloads_with_its_name_only_for_those_who_may_see_it(world, other_world, svc_login):
    # given
    wo = started_work_order(world)
    svc_login(world.technician).post(
        f"/work-orders/{wo.pk}/attachments/",
        {"file": SimpleUploadedFile("Pump nameplate.png", png_bytes(), "image/png"), "caption": "Nameplate"},
    )
    att = Attachment.objects.get()
    # when
    ok = svc_login(world.dispatcher).get(f"/files/{att.pk}/")
    thumb = svc_login(world.dispatcher).get(f"/files/{att.pk}/thumbnail/")
    internal_for_client = svc_login(world.client_user).get(f"/files/{att.pk}/")
    other_client = svc_login(world.other_client_user).get(f"/files/{att.pk}/")
    other_org = svc_login(other_world.admin).get(f"/files/{att.pk}/")
    # then
    assert ok.status_code == 200 and 'filename="Pump nameplate.png"' in ok["Content-Disposition"]
    assert b"".join(ok.streaming_content) == png_bytes()
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert internal_for_client.status_code == 404  # not marked visible to the client
    assert other_client.status_code == 404 and other_org.status_code == 404
    assert "/media/" not in html(svc_login(world.dispatcher).get(f"/work-orders/{wo.pk}/"))


def test_a_file_that_is_not_an_image_but_named_like_one_is_refused(world, svc_login):
    # given
    wo = started_work_order(world)
    fake = SimpleUploadedFile("photo.jpg", b"#!/bin/sh\necho this is not a photo\n", "image/jpeg")
    # when
    response = svc_login(world.technician).post(
        f"/work-orders/{wo.pk}/attachments/", {"file": fake, "caption": "Site photo"}
    )
    # then
    assert response.status_code == 422
    assert "photo.jpg: this type of file is not accepted" in html(response)
    assert 'value="Site photo"' in html(response)
    assert not Attachment.objects.exists()


def test_the_client_signs_on_the_technicians_phone(world, other_world, svc_login):
    # given
    wo = started_work_order(world)
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes((300, 100), (255, 255, 255))).decode()
    technician = svc_login(world.technician)
    # when
    response = technician.post(
        f"/work-orders/{wo.pk}/signature/", {"signed_by_name": "Frau Meier", "signature": data_url}
    )
    # then
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.signed_by_name == "Frau Meier" and wo.signed_at is not None
    page = html(technician.get(f"/work-orders/{wo.pk}/"))
    assert "Signed by <b>Frau Meier</b>" in page
    image = technician.get(f"/work-orders/{wo.pk}/signature.png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert svc_login(other_world.admin).get(f"/work-orders/{wo.pk}/signature.png").status_code == 404


def test_a_signature_without_a_drawing_is_refused(world, svc_login):
    wo = started_work_order(world)
    response = svc_login(world.technician).post(
        f"/work-orders/{wo.pk}/signature/", {"signed_by_name": "Frau Meier", "signature": ""}
    )
    assert response.status_code == 422
    assert "Draw the signature in the box first." in html(response)
    assert 'value="Frau Meier"' in html(response)


# ---------------------------------------------------------------------------------------------
# billing and follow-up


def closed_work_order(world) -> WorkOrder:
    wo = started_work_order(world)
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to="completed", resolution_notes="Done")
    services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to="closed")
    return WorkOrder.objects.get(pk=wo.pk)


def test_the_accountant_marks_closed_work_as_no_charge_and_back(world, svc_login):
    # given
    wo = closed_work_order(world)
    client = svc_login(world.accountant)
    # when
    refused = client.post(f"/work-orders/{wo.pk}/billing/", {"billing_status": "no_charge", "reason": ""})
    no_charge = client.post(
        f"/work-orders/{wo.pk}/billing/", {"billing_status": "no_charge", "reason": "Warranty repair"}
    )
    wo.refresh_from_db()
    status_after_no_charge = wo.billing_status
    back = client.post(f"/work-orders/{wo.pk}/billing/", {"billing_status": "to_invoice"})
    # then
    assert refused.status_code == 422 and "The reason is required." in html(refused)
    assert no_charge.status_code == 302 and status_after_no_charge == "no_charge"
    assert back.status_code == 302
    wo.refresh_from_db()
    assert wo.billing_status == "to_invoice"


def test_a_follow_up_is_created_from_closed_work(world, svc_login):
    # given
    wo = closed_work_order(world)
    # when
    response = svc_login(world.dispatcher).post(
        f"/work-orders/{wo.pk}/follow-up/", {"reason": "Leak came back after a week"}
    )
    # then
    follow_up = WorkOrder.objects.get(follow_up_of=wo)
    assert response.status_code == 302 and response["Location"] == f"/work-orders/{follow_up.pk}/"
    assert follow_up.description == "Leak came back after a week"
    assert wo.number in html(svc_login(world.dispatcher).get(f"/work-orders/{follow_up.pk}/"))


def test_the_history_hides_internal_notes_and_files_from_the_client(world, svc_login):
    # given
    wo = started_work_order(world)
    services.note_create(actor=world.technician, work_order_id=wo.pk, body="Internal remark")
    services.attachment_add(
        actor=world.technician,
        work_order_id=wo.pk,
        is_client_visible=False,
        upload=SimpleUploadedFile("internal-costing.png", png_bytes(), "image/png"),
    )
    services.attachment_add(
        actor=world.technician,
        work_order_id=wo.pk,
        is_client_visible=True,
        upload=SimpleUploadedFile("after-repair.png", png_bytes(), "image/png"),
    )
    # when
    client_page = html(svc_login(world.client_user).get(f"/work-orders/{wo.pk}/"))
    staff_page = html(svc_login(world.dispatcher).get(f"/work-orders/{wo.pk}/"))
    # then
    assert "internal-costing.png" not in client_page and "Note added" not in client_page
    assert "after-repair.png" in client_page
    assert "internal-costing.png" in staff_page and "Note added" in staff_page


def test_an_htmx_filter_request_pushes_a_tidy_address(world, svc_login):
    new_work_order(world, title="Valve stuck")
    response = svc_login(world.dispatcher).get(
        "/work-orders/?q=valve&priority=&type=&status=new", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Push-Url"] == "/work-orders/?q=valve&status=new"
