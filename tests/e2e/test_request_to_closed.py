"""The main flow through the pages, in a real browser: a reported problem becomes a work order that is planned,
done on site and closed by the office. Only the starting data (people, places, a template, a part) is made
directly; everything after that goes through the pages as the users would click it."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from fixflow.service.choices import BillingStatus, EventKind, RequestStatus, Status
from fixflow.service.models import Attachment, PartUsage, TimeEntry, WorkOrder, WorkOrderEvent, WorkRequest

from .conftest import log_in
from .flow_fixtures import (
    expect_message,
    flow_data,
    loaded,
    log_out,
    photo_upload,
    status_badge,
    transition_form,
)

__all__ = ["flow_data"]  # a fixture, imported so pytest finds it

pytestmark = pytest.mark.browser

TITLE = "Pump P1 is leaking"


def report_the_problem(page: Page, world) -> WorkRequest:
    """The requester fills in the request form: client → site → equipment, what is wrong, a photo."""
    page.get_by_role("link", name="Report a problem").first.click()
    expect(page.locator("h1")).to_have_text("Report a problem")
    page.locator("select[name=client]").select_option(label="Stadtwerke")
    site = page.locator("select[name=site]")
    # the site list now offers only the chosen client's sites
    expect(site.locator(f"option[value='{world.other_site.pk}']")).to_be_hidden()
    site.select_option(label="Pumpwerk Nord")
    equipment = page.locator("select[name=equipment]")
    expect(equipment.locator(f"option[value='{world.other_equipment.pk}']")).to_be_disabled()
    equipment.select_option(value=str(world.equipment.pk))
    page.locator("input[name=title]").fill(TITLE)
    page.locator("textarea[name=description]").fill("Water under the pump since this morning.")
    page.locator("input[name=file]").set_input_files(photo_upload("leak.jpg"))
    page.get_by_role("button", name="Send request").click()

    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    expect_message(page, "sent")
    expect(page.locator("h1")).to_contain_text(TITLE)
    expect(page.locator(".thumbs img[alt='leak.jpg']")).to_be_visible()
    req = WorkRequest.objects.get(title=TITLE)
    assert page.url.endswith(f"/requests/{req.pk}/")
    return req


def convert_and_plan(page: Page, flow, start_local: str) -> int:
    """The dispatcher turns the request into a work order from the template, plans it and marks it planned."""
    page.locator("nav.mainnav").get_by_role("link", name="Requests").click()
    page.get_by_role("link", name=TITLE).click()
    triage = page.locator("#triage")
    triage.locator("select[name=template]").select_option(label=flow.template.name)
    triage.get_by_role("button", name="Create work order").click()

    page.wait_for_url(re.compile(r"/work-orders/\d+/$"))
    wo_pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
    expect(status_badge(page)).to_have_attribute("data-value", Status.NEW)
    # the photo came along with the request
    expect(page.locator("#wo-attachments .thumbs img[alt='leak.jpg']")).to_be_visible()
    plan = transition_form(page, "plan")
    expect(plan.get_by_role("button", name="Mark as planned")).to_be_disabled()
    expect(plan.locator(".missing")).to_contain_text("Assign a lead technician first.")

    page.get_by_role("link", name="Edit / plan").click()
    page.locator("select[name=lead_technician]").select_option(label="Tom Technician")
    page.locator("input[name=scheduled_start]").fill(start_local)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/work-orders/{wo_pk}/$"))
    expect_message(page, "Saved.")
    expect(page.locator("#wo-info")).to_contain_text("Tom Technician")

    transition_form(page, "plan").get_by_role("button", name="Mark as planned").click()
    expect(status_badge(page)).to_have_attribute("data-value", Status.PLANNED)
    expect_message(page, "is now planned")
    return wo_pk


def do_the_work(page: Page, flow, number: str) -> None:
    """The technician starts the job, answers the checklist, records time and a part, and completes it."""
    expect(page.locator("h1")).to_have_text("My work")
    page.locator(".job-card a.job-link", has_text=number).click()
    page.wait_for_url(re.compile(r"/work-orders/\d+/$"))
    transition_form(page, "start").get_by_role("button", name="Start work").click()
    expect(status_badge(page)).to_have_attribute("data-value", Status.IN_PROGRESS)
    loaded(page)

    complete = transition_form(page, "complete")
    complete_button = complete.get_by_role("button", name="Complete")
    expect(complete_button).to_be_disabled()
    expect(complete.locator(".missing")).to_contain_text("Seal checked for leaks")

    # the checklist answer is saved by htmx as soon as the box is ticked; the Next step panel follows
    item = page.locator("#wo-checklist li.check-item", has_text="Seal checked for leaks")
    item.get_by_role("checkbox").check()
    expect(item).to_have_class(re.compile(r"\banswered\b"))
    expect(page.locator("#checklist-count")).to_have_text("1/1 done")
    expect(complete_button).to_be_enabled()
    expect(complete.locator(".missing")).to_have_count(0)

    time = page.locator("#wo-time")
    time.locator("summary", has_text="Add time by hand").click()
    time.locator("input[name=duration_minutes]").fill("45")
    time.locator("input[name=note]").fill("Gasket replaced")
    time.get_by_role("button", name="Add time").click()
    expect(time.locator("table tbody tr")).to_have_count(1)
    expect(time.locator("table tbody tr")).to_contain_text("45 min")
    expect(time.locator("h2")).to_contain_text("labour 45 min")

    parts = page.locator("#wo-parts")
    parts.locator("summary", has_text="Record a part used").click()
    parts.locator("select[name=part]").select_option(label=f"{flow.part.name} ({flow.part.sku})")
    parts.locator("input[name=quantity]").fill("2")
    parts.get_by_role("button", name="Add part").click()
    used = parts.locator("table").first.locator("tbody tr")  # (the second table compares with the plan)
    expect(used).to_have_count(1)
    expect(used).to_contain_text(f"{flow.part.name} {flow.part.sku}")
    expect(used).to_contain_text("2 pc")

    # without resolution notes the page says what is missing, and the work order stays in progress
    complete_button.click()
    expect(complete.locator(".field[data-field=resolution_notes] .errorlist")).to_contain_text(
        "Write the resolution notes"
    )
    expect(complete.locator(".form-errors")).to_have_count(0)  # only that: not "changed by someone else"
    expect(status_badge(page)).to_have_attribute("data-value", Status.IN_PROGRESS)
    assert WorkOrder.objects.get(number=number).status == Status.IN_PROGRESS

    complete.locator("textarea[name=resolution_notes]").fill("Replaced the worn gasket; no more leaking.")
    complete_button.click()
    expect(status_badge(page)).to_have_attribute("data-value", Status.COMPLETED)
    expect(page.locator("#wo-summary")).to_contain_text("Replaced the worn gasket")


def test_a_reported_problem_goes_all_the_way_to_closed(world, flow_data, browser_page):
    page = browser_page
    start_local = (
        (timezone.now() + timedelta(days=1))
        .astimezone(ZoneInfo("Europe/Berlin"))
        .replace(hour=9, minute=0)
        .strftime("%Y-%m-%dT%H:%M")
    )

    # the requester reports the problem
    log_in(page, world.requester)
    req = report_the_problem(page, world)
    log_out(page)

    # the dispatcher converts it with a template and plans it
    log_in(page, world.dispatcher)
    wo_pk = convert_and_plan(page, flow_data, start_local)
    number = WorkOrder.objects.get(pk=wo_pk).number
    log_out(page)

    # the technician does the work
    log_in(page, world.technician)
    do_the_work(page, flow_data, number)
    log_out(page)

    # the dispatcher (not the technician who completed it) accepts the work
    log_in(page, world.dispatcher)
    page.locator("nav.mainnav").get_by_role("link", name="Work orders").click()
    page.get_by_role("link", name=number).click()
    transition_form(page, "close").get_by_role("button", name="Close (accept the work)").click()
    expect(status_badge(page)).to_have_attribute("data-value", Status.CLOSED)
    expect(page.locator("#wo-billing .badge")).to_have_attribute("data-value", BillingStatus.TO_INVOICE)

    # what the database holds
    wo = WorkOrder.objects.get(pk=wo_pk)
    req.refresh_from_db()
    assert req.status == RequestStatus.ACCEPTED
    assert wo.request_id == req.pk and wo.template_id == flow_data.template.pk
    assert wo.status == Status.CLOSED
    assert wo.billing_status == BillingStatus.TO_INVOICE
    assert wo.lead_technician_id == world.technician.user.pk
    assert wo.completed_by_id == world.technician.user.pk and wo.closed_by_id == world.dispatcher.user.pk
    assert wo.resolution_notes == "Replaced the worn gasket; no more leaking."
    assert timezone.localtime(wo.scheduled_start, ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M") == start_local

    [answer] = wo.checklist.all()
    assert (answer.label, answer.is_required, answer.value) == ("Seal checked for leaks", True, "done")
    assert answer.answered_by_id == world.technician.user.pk

    [entry] = TimeEntry.objects.filter(work_order=wo)
    assert (entry.technician_id, entry.kind, entry.duration_minutes, entry.note) == (
        world.technician.user.pk,
        "labour",
        45,
        "Gasket replaced",
    )
    [usage] = PartUsage.objects.filter(work_order=wo)
    assert (usage.part_id, usage.quantity, usage.description) == (flow_data.part.pk, 2, flow_data.part.name)

    [request_photo] = Attachment.objects.filter(work_request=req)
    [copied] = Attachment.objects.filter(work_order=wo)
    assert copied.pk != request_photo.pk
    assert (copied.original_name, copied.content_type) == ("leak.jpg", "image/jpeg")
    assert copied.file.name == request_photo.file.name and copied.thumbnail.name == request_photo.thumbnail.name

    events = [
        (e.kind, e.from_status, e.to_status, e.actor_id)
        for e in WorkOrderEvent.objects.filter(work_order=wo).order_by("recorded_at", "id")
    ]
    dispatcher, technician = world.dispatcher.user.pk, world.technician.user.pk
    assert events == [
        (EventKind.CREATED, "", Status.NEW, dispatcher),
        (EventKind.SCHEDULED, "", "", dispatcher),
        (EventKind.ASSIGNED, "", "", dispatcher),
        (EventKind.TRANSITION, Status.NEW, Status.PLANNED, dispatcher),
        (EventKind.TRANSITION, Status.PLANNED, Status.IN_PROGRESS, technician),
        (EventKind.CHECKLIST, "", "", technician),
        (EventKind.TIME, "", "", technician),
        (EventKind.PART, "", "", technician),
        (EventKind.TRANSITION, Status.IN_PROGRESS, Status.COMPLETED, technician),
        (EventKind.TRANSITION, Status.COMPLETED, Status.CLOSED, dispatcher),
    ]
