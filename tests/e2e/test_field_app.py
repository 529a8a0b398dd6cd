"""The technician app (/m/) on a phone, offline: a whole job is done without network, survives a reload,
and reaches the server exactly once when the network comes back, while the dispatcher's open pages show
it by themselves.

The pages run against uvicorn (``asgi_site_url``: ASGI, as ``fixflow serve``), where the office's live
events (``/live/events/``) stay open."""

from __future__ import annotations

import io
import re
import time

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from fixflow.field.models import SyncCommand
from fixflow.service import services
from fixflow.service.choices import EventKind, Status
from fixflow.service.models import Attachment, PartUsage, TimeEntry, WorkOrder, WorkOrderEvent, WorkOrderNote

from .conftest import log_in
from .flow_fixtures import flow_data, log_out, planned_work_order, status_badge
from .test_live_updates import LIVE_MS, not_reloaded, open_live
from .test_work_order_phone import assert_fits_the_screen, draw_signature

__all__ = ["flow_data", "planned_work_order"]  # fixtures, imported so pytest finds them

pytestmark = pytest.mark.browser

CHANGES = 11  # start, timer start and stop, time by hand, part, three checklist answers, photo, signature, complete


@pytest.fixture
def site_url(asgi_site_url):
    return asgi_site_url


def png_photo() -> dict:
    """A generated PNG, as a phone's gallery would hand it over."""
    image = Image.new("RGB", (2400, 1800), (30, 120, 90))
    ImageDraw.Draw(image).rectangle((600, 400, 1800, 1400), fill=(240, 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return {"name": "valve.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


def eventually(read, timeout: float = 30.0):
    """``read()`` once it stops raising (a row the server writes after the page says it is done)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return read()
        except (AssertionError, WorkOrderNote.DoesNotExist):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def indicator(page: Page):
    return page.locator("#fapp-status")


def section(page: Page, name: str):
    return page.locator(f"[data-section='{name}']")


def open_the_app(page: Page, wo: WorkOrder) -> None:
    """Open /m/ online and wait until the phone has everything for offline work: the service worker has
    cached the app, and the first sync has stored the work orders and the parts catalogue."""
    page.goto("/m/")
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "true")
    expect(page.locator("html")).to_have_attribute("data-last-sync", re.compile(r"^\d+$"))
    expect(indicator(page)).to_have_attribute("data-state", "online")
    expect(page.locator("[data-screen='today'] .fapp-card", has_text=wo.number)).to_be_visible()


def test_a_technician_does_a_whole_job_offline_and_it_reaches_the_server_once(
    world, flow_data, planned_work_order, open_page
):
    # given today's work order for the technician, which needs the client's signature
    wo = planned_work_order
    WorkOrder.objects.filter(pk=wo.pk).update(scheduled_start=timezone.now(), requires_signature=True)
    # and the dispatcher in the office, with the work order's page and the home page open
    office = open_page()
    log_in(office, world.dispatcher)
    detail = open_live(office, f"/work-orders/{wo.pk}/")
    home = open_live(office.context.new_page(), "/")
    expect(status_badge(detail)).to_have_text("Planned")
    to_review = home.locator(".grid .panel", has_text="To review")
    expect(to_review).not_to_contain_text(wo.number)
    page = open_page(phone=True)
    log_in(page, world.technician)
    open_the_app(page, wo)

    # when the technician opens it and the network goes
    page.locator(".fapp-card a.job-link", has_text=wo.number).click()
    expect(page.locator("[data-screen='work-order']")).to_have_attribute("data-id", str(wo.pk))
    assert_fits_the_screen(page)
    page.context.set_offline(True)
    expect(indicator(page)).to_have_attribute("data-state", "offline")

    # start the work
    page.locator(".fapp-actionbar [data-step='start']").click()
    expect(page.locator(".fapp-wo-head .badge").first).to_have_attribute("data-value", "in_progress")

    # run the timer: it shows the elapsed time, then stops into a time entry
    time = section(page, "time")
    time.get_by_role("button", name="Start timer").click()
    expect(time.locator(".fapp-elapsed")).to_have_text(re.compile(r"^\d+:\d\d:\d\d$"))
    time.get_by_role("button", name="Stop timer").click()
    expect(time.locator("[data-entry]")).to_have_count(1)
    # and record the travel by hand
    time.locator("summary", has_text="Add time by hand").click()
    time.get_by_label("Minutes").fill("25")
    time.get_by_label("Note").fill("Drive from the depot")
    time.get_by_role("button", name="Add time").click()
    expect(time.locator("[data-entry]")).to_have_count(2)
    expect(time.locator("[data-entry]", has_text="Drive from the depot")).to_contain_text("25 min")

    # add a part, found by typing in the catalogue the bundle put on the phone
    parts = section(page, "parts")
    parts.locator("summary", has_text="Add a part").click()
    parts.get_by_label("Find a part").fill("gasket")
    expect(parts.locator(".fapp-part-results")).to_contain_text("Offline: searching the parts kept on this phone.")
    parts.locator(".fapp-part-option", has_text="Gasket DN50").click()
    expect(parts.locator(".fapp-part-chosen")).to_have_text("Gasket DN50 · GSK-050")
    parts.get_by_label("Quantity").fill("2")
    parts.get_by_role("button", name="Add part").click()
    expect(parts.locator("[data-usage]")).to_contain_text("2 pc Gasket DN50")

    # answer the checklist: tick, type, tap
    checklist = section(page, "checklist")
    checklist.get_by_label("Bearing greased").check()
    pressure = checklist.get_by_label("Outlet pressure (bar)")
    pressure.fill("2.5")
    pressure.press("Tab")
    checklist.locator("li.check-item", has_text="Vibration test").locator("label.seg-pass").click()
    expect(checklist.locator("li.check-item.answered")).to_have_count(3)

    # add a photo (made smaller on the phone) with a caption
    photos = section(page, "photos")
    photos.locator("input.fapp-photo-input").set_input_files(png_photo())
    expect(photos.locator(".fapp-photo-preview img")).to_be_visible()
    photos.get_by_label("Caption").fill("Valve after cleaning")
    photos.get_by_role("button", name="Add photo").click()
    expect(photos.locator("figure[data-photo]")).to_contain_text("Valve after cleaning")

    # the client signs on the screen
    signature = section(page, "signature")
    pad = signature.locator("canvas[data-pad]")
    expect(pad).to_have_attribute("data-ready", "true")
    draw_signature(page, pad)
    signature.get_by_label("Name of the person signing").fill("Hans Meier")
    signature.get_by_role("button", name="Save signature").click()
    expect(section(page, "signature").locator("figcaption")).to_contain_text("Signed by Hans Meier")

    # and completes it: what completing needs is shown as a checklist, all ticked
    page.locator(".fapp-actionbar [data-step='complete']").click()
    sheet = page.locator(f"#sheet-complete-{wo.pk}")
    expect(sheet).to_be_visible()
    expect(sheet.locator("[data-guard='has_resolution_notes']")).to_have_attribute("data-met", "false")
    sheet.get_by_label("Resolution notes").fill("Bearing regreased, gasket replaced.")
    expect(sheet.locator("[data-guard]")).to_have_count(3)
    expect(sheet.locator("[data-met='false']")).to_have_count(0)
    sheet.get_by_role("button", name="Complete work order").click()

    # then it is done on the phone, with every change waiting
    expect(page.locator(".fapp-wo-head .badge").first).to_have_attribute("data-value", "completed")
    expect(indicator(page)).to_have_attribute("data-waiting", str(CHANGES))
    expect(indicator(page)).to_contain_text(f"Offline · {CHANGES} waiting")
    assert WorkOrder.objects.get(pk=wo.pk).status == Status.PLANNED, "nothing reached the server"
    assert SyncCommand.objects.count() == 0

    # when the app is reloaded without network, it still opens, with the queued changes
    page.reload()
    expect(page.locator("[data-screen='work-order']")).to_have_attribute("data-status", "completed")
    expect(page.locator(".fapp-wo-waiting")).to_have_text(f"{CHANGES} changes waiting to be sent")
    expect(indicator(page)).to_have_attribute("data-waiting", str(CHANGES))
    assert page.evaluate("navigator.serviceWorker.controller !== null"), "the service worker opened the app"

    # and the network comes back: the app sends everything by itself
    page.context.set_offline(False)
    expect(indicator(page)).to_have_attribute("data-waiting", "0", timeout=30_000)
    expect(indicator(page)).to_have_attribute("data-state", "online")
    expect(indicator(page)).to_contain_text("all sent")

    # then the dispatcher's open pages show it by themselves, without a reload
    # (checked before the test reads the database: on SQLite the server's threads share the test's connection)
    expect(status_badge(detail)).to_have_text("Completed", timeout=LIVE_MS)
    expect(detail.locator("#wo-time")).to_contain_text("Drive from the depot", timeout=LIVE_MS)
    expect(detail.locator("#wo-parts")).to_contain_text("Gasket DN50", timeout=LIVE_MS)
    expect(detail.locator("#checklist-count")).to_have_text("3/3 done", timeout=LIVE_MS)
    expect(detail.locator("#wo-attachments")).to_contain_text("Valve after cleaning", timeout=LIVE_MS)
    expect(detail.locator("#wo-signature")).to_contain_text("Hans Meier", timeout=LIVE_MS)
    expect(detail.locator("#wo-timeline")).to_contain_text("Status changed", timeout=LIVE_MS)
    expect(to_review).to_contain_text(wo.number, timeout=LIVE_MS)
    assert [not_reloaded(p) for p in (detail, home)] == [True, True]

    # and the server has every change, exactly once
    wo = WorkOrder.objects.get(pk=wo.pk)
    assert wo.status == Status.COMPLETED
    assert wo.resolution_notes == "Bearing regreased, gasket replaced."
    assert [(a.label, a.value) for a in wo.checklist.order_by("position")] == [
        ("Bearing greased", "done"),
        ("Outlet pressure (bar)", "2.5"),
        ("Vibration test", "pass"),
    ]
    entries = TimeEntry.objects.filter(work_order=wo, technician=world.technician.user)
    assert entries.count() == 2
    timer, by_hand = entries.order_by("note")  # the timer's entry has no note
    assert timer.note == "" and timer.ended_at is not None
    assert (by_hand.note, by_hand.duration_minutes) == ("Drive from the depot", 25)
    usage = PartUsage.objects.get(work_order=wo)
    assert (usage.part_id, usage.quantity) == (flow_data.part.pk, 2)
    photo = Attachment.objects.get(work_order=wo)
    assert photo.caption == "Valve after cleaning"
    assert photo.content_type == "image/jpeg"
    with photo.file.open("rb") as handle, Image.open(io.BytesIO(handle.read())) as stored:
        assert max(stored.size) == 1600, "resized on the phone before it was queued"
    assert wo.signed_by_name == "Hans Meier"
    with wo.signature.open("rb") as handle, Image.open(io.BytesIO(handle.read())) as png:
        assert png.format == "PNG"
    transitions = WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.TRANSITION)
    assert [e.to_status for e in transitions.order_by("id")] == [Status.IN_PROGRESS, Status.COMPLETED]
    assert WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.SIGNATURE).count() == 1
    commands = SyncCommand.objects.filter(work_order=wo)
    assert commands.count() == CHANGES
    assert set(commands.values_list("status", flat=True)) == {"applied"}
    assert list(commands.order_by("seq").values_list("seq", flat=True)) == list(range(1, CHANGES + 1))

    # and the phone's outbox is empty, its screen shows the server's copy
    assert page.evaluate("async () => (await window.fixflowField.person.all('outbox')).length") == 0
    expect(page.locator(".fapp-wo-waiting")).to_have_count(0)
    expect(page.locator(".fapp-pending")).to_have_count(0)


def test_changes_the_office_overtook_are_shown_on_the_work_order_until_dismissed(
    world, flow_data, planned_work_order, open_page
):
    # given a started work order of the technician, open in the app, and the network gone
    wo = planned_work_order
    WorkOrder.objects.filter(pk=wo.pk).update(scheduled_start=timezone.now())
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.IN_PROGRESS)
    page = open_page(phone=True)
    log_in(page, world.technician)
    open_the_app(page, wo)
    page.locator(".fapp-card a.job-link", has_text=wo.number).click()
    page.context.set_offline(True)
    expect(indicator(page)).to_have_attribute("data-state", "offline")

    # when the technician puts it on hold and writes a finding, offline
    page.locator(".fapp-actionbar [data-step='hold']").click()
    sheet = page.locator(f"#sheet-hold-{wo.pk}")
    sheet.get_by_label("Why?").select_option("waiting_for_parts")
    sheet.get_by_label("Details").fill("Seal kit DN50")
    sheet.get_by_role("button", name="Put on hold").click()
    expect(page.locator(".fapp-wo-head .badge").first).to_have_attribute("data-value", "on_hold")
    notes = section(page, "notes")
    notes.get_by_label("New note").fill("The seal is cracked.")
    notes.get_by_role("button", name="Add note").click()
    expect(indicator(page)).to_have_attribute("data-waiting", "2")
    # while the office cancels it
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=wo.pk, to=Status.CANCELLED, reason="Client sold the building"
    )
    # and the network comes back
    page.context.set_offline(False)
    expect(indicator(page)).to_have_attribute("data-waiting", "0", timeout=30_000)

    # then the work order shows what the server did: cancelled, the hold refused, the note held for the office
    screen = page.locator("[data-screen='work-order']")
    expect(screen).to_have_attribute("data-status", "cancelled")
    refused = page.locator(".fapp-notice[data-kind='refused']")
    held = page.locator(".fapp-notice[data-kind='held']")
    expect(refused).to_contain_text("cancelled in the office")
    expect(refused).to_contain_text("Client sold the building")
    expect(held).to_contain_text("Held for the office")
    commands = SyncCommand.objects.filter(work_order=wo).order_by("seq")
    assert [(c.type, c.status) for c in commands] == [("transition", "refused"), ("note.add", "held")]
    assert WorkOrder.objects.get(pk=wo.pk).status == Status.CANCELLED

    # and each message stays until the technician dismisses it, also after a reload
    refused.get_by_role("button", name="Dismiss").click()
    expect(refused).to_have_count(0)
    page.reload()
    expect(held).to_be_visible()
    expect(refused).to_have_count(0)
    held.get_by_role("button", name="Dismiss").click()
    expect(page.locator(".fapp-notice")).to_have_count(0)
    page.reload()
    expect(screen).to_have_attribute("data-status", "cancelled")
    expect(page.locator(".fapp-notice")).to_have_count(0)


def test_the_app_rules_replay_queued_changes_over_the_servers_copy(browser_page):
    # given the app's rules, loaded in the browser as the app loads them
    page = browser_page
    page.goto("/login/")
    result = page.evaluate(
        """async () => {
            const m = await import("/static/field/app/model.js");
            const wo = {id: 1, version: 4, status: "planned", requires_signature: true, missing: [],
                checklist: [{id: 9, label: "Seal", kind: "checkbox", is_required: true, value: ""}]};
            const at = "2026-03-02T09:00:00.000+01:00";
            const c = (seq, type, payload, extra = {}) =>
                ({mutation_id: `m${seq}`, seq, type, work_order_id: 1, payload, occurred_at: at, ...extra});
            const queued = [c(3, "timer.start", {}), c(4, "checklist.answer", {item_id: 9, value: "true"})];
            const applied = c(2, "part.use", {part_id: 7, quantity: "2"}, {applied_version: 5, meta: {name: "Seal"}});
            const stale = m.viewOf({...wo, part_usages: []}, {queued, settled: [applied], me: "Tom"});
            const server = {id: 70, part_id: 7, description: "Seal", quantity: "2.000", unit: "pc"};
            const fresh = m.viewOf({...wo, version: 5, part_usages: [server]}, {queued, settled: [applied]});
            const now = new Date(2026, 2, 2, 12, 0);
            const grouped = m.lists([
                {...wo, id: 1, scheduled_start: new Date(2026, 2, 2, 7, 0).toISOString()},
                {...wo, id: 2, scheduled_start: new Date(2026, 2, 3, 7, 0).toISOString()},
                {...wo, id: 3, status: "on_hold", scheduled_start: new Date(2026, 2, 9, 7, 0).toISOString()},
                {...wo, id: 4, status: "cancelled"},
            ], now);
            const catalogue = [
                {id: 3, sku: "GSK-080", name: "Gasket DN80", barcode: ""},
                {id: 1, sku: "VLV-1", name: "Valve", barcode: "4006381333931"},
                {id: 2, sku: "GSK-050", name: "gasket DN50", barcode: ""},
            ];
            return {
                stale: [stale.part_usages.length, stale.time_entries.length, stale.checklist[0].value],
                fresh: [fresh.part_usages.map((u) => u.id), fresh.time_entries.length, fresh.queued],
                guards: m.completionChecklist(stale, "Done").map((g) => [g.guard, g.met]),
                lists: Object.fromEntries(Object.entries(grouped).map(([k, v]) => [k, v.map((w) => w.id)])),
                parts: ["gsk", "DN", "4006381333931", "400638"]
                    .map((q) => m.searchParts(catalogue, q).map((p) => p.id)),
                offset: /^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d$/
                    .test(m.isoWithOffset(now)),
            };
        }"""
    )
    # then a change applied on the server but not yet in the phone's copy is still shown, once
    assert result["stale"] == [1, 1, "done"]
    # and once the phone's copy has it (its version), it is not shown twice; queued changes still are
    assert result["fresh"] == [[70], 1, 2]
    # the completion guards are ticked from what the phone knows
    assert result["guards"] == [
        ["has_resolution_notes", True],
        ["required_checklist_answered", True],
        ["has_required_signature", False],
    ]
    # started or paused work is today's, whatever its date; planned work by its day
    assert result["lists"] == {"today": [3, 1], "upcoming": [2], "done": [4]}
    assert result["offset"] is True
    # parts are found on the phone by name or SKU, or by the whole barcode, listed by name
    assert result["parts"] == [[2, 3], [2, 3], [1], []]


def test_on_a_shared_phone_changes_are_sent_only_under_the_session_of_who_made_them(
    world, flow_data, planned_work_order, open_page
):
    # given a work order the two technicians share, and the first one writing a note on it offline
    wo = planned_work_order
    WorkOrder.objects.filter(pk=wo.pk).update(scheduled_start=timezone.now())
    services.work_order_update(
        actor=world.dispatcher, work_order_id=wo.pk, data={"helper_ids": [world.technician2.user_id]}
    )
    page = open_page(phone=True)
    log_in(page, world.technician)
    open_the_app(page, wo)
    page.locator(".fapp-card a.job-link", has_text=wo.number).click()
    page.context.set_offline(True)
    notes = section(page, "notes")
    notes.get_by_label("New note").fill("Tom's finding")
    notes.get_by_role("button", name="Add note").click()
    expect(indicator(page)).to_have_attribute("data-waiting", "1")
    phone = page.context
    page.close()  # the app is closed before the network is back

    # when someone else signs in on the phone and opens the app
    page = phone.new_page()
    phone.set_offline(False)
    page.goto("/")
    log_out(page)
    log_in(page, world.technician2)
    open_the_app(page, wo)
    # then the app shows their own work, with nothing waiting, and sent nothing of the first technician's
    expect(indicator(page)).to_have_attribute("data-waiting", "0")
    assert SyncCommand.objects.count() == 0
    assert not WorkOrderNote.objects.filter(work_order=wo).exists()

    # when the first technician signs in again, their note is sent, under their name
    page.goto("/")
    log_out(page)
    log_in(page, world.technician)
    page.goto("/m/")
    expect(indicator(page)).to_have_attribute("data-waiting", "0", timeout=30_000)
    expect(indicator(page)).to_contain_text("all sent")
    # (the indicator reads 0 too before the app has read this person's queue: wait for the row)
    note = eventually(lambda: WorkOrderNote.objects.get(work_order=wo))
    assert (note.body, note.author_id) == ("Tom's finding", world.technician.user_id)
    assert list(SyncCommand.objects.values_list("user_id", "status")) == [(world.technician.user_id, "applied")]
