"""Live status in the office (issue 4): the dispatcher's open pages show a technician's work by themselves.

The pages run against uvicorn (``asgi_site_url``: ASGI, as ``fixflow serve``), where ``/live/events/``
stays open. The technician acts through the services, from this test, as the sync endpoint and the pages
do. Each wait is an ``expect`` with a 5-second deadline: the target is 2 seconds.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from fixflow.service import services
from fixflow.service.choices import Status

from .conftest import log_in
from .flow_fixtures import loaded, planned_work_order, status_badge

__all__ = ["planned_work_order"]  # a fixture, imported so pytest finds it

pytestmark = pytest.mark.browser

LIVE_MS = 5_000  # how long a page may take to show what happened


@pytest.fixture
def site_url(asgi_site_url):
    return asgi_site_url


def open_live(page: Page, url: str) -> Page:
    """Open ``url`` and wait until the page follows the live events; mark the window to detect a reload."""
    page.goto(url)
    loaded(page)
    expect(page.locator("html")).to_have_attribute("data-live", "on")
    page.evaluate("window.fixflowNotReloaded = true")
    return page


def not_reloaded(page: Page) -> bool:
    return page.evaluate("window.fixflowNotReloaded === true")


def list_row(page: Page, wo):
    return page.locator("#results tbody tr").filter(has=page.locator(f"a[href$='/work-orders/{wo.pk}/']"))


def test_the_dispatchers_open_pages_show_a_technicians_work_without_a_reload(world, planned_work_order, open_page):
    # given a dispatcher with the work order's page, the work order list and the home page open
    wo = planned_work_order
    detail = open_page()
    log_in(detail, world.dispatcher)
    open_live(detail, f"/work-orders/{wo.pk}/")
    work_orders = open_live(detail.context.new_page(), "/work-orders/")
    home = open_live(detail.context.new_page(), "/")
    expect(list_row(work_orders, wo).locator(".badge").first).to_have_text("Planned")
    expect(home.locator(".grid .panel", has_text="In progress")).not_to_contain_text(wo.number)
    # and typing a note on the work order's page, not sent yet
    note = detail.locator("#wo-notes textarea")
    note.fill("Called the client about access")

    # when the technician starts the work and records a note from the field
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.IN_PROGRESS)
    services.note_create(actor=world.technician, work_order_id=wo.pk, body="Bearing is worn; replacing it.")

    # then the work order's page shows the new status, the history and the note, without a reload
    expect(status_badge(detail)).to_have_text("In progress", timeout=LIVE_MS)
    expect(detail.locator("#wo-timeline")).to_contain_text("Status changed", timeout=LIVE_MS)
    expect(detail.locator(".live-toast")).to_have_text("Updated", timeout=LIVE_MS)
    expect(detail.locator("#wo-actions form[data-transition='complete']")).to_be_attached(timeout=LIVE_MS)
    # the notes section waits while the dispatcher types in it; what they typed is untouched
    expect(note).to_have_value("Called the client about access")
    expect(detail.locator("#wo-notes")).not_to_contain_text("Bearing is worn")
    # the list shows the work order's row in its new status, and the home page lists it as in progress
    expect(list_row(work_orders, wo).locator(".badge").first).to_have_text("In progress", timeout=LIVE_MS)
    expect(home.locator(".grid .panel", has_text="In progress")).to_contain_text(wo.number, timeout=LIVE_MS)
    assert [not_reloaded(p) for p in (detail, work_orders, home)] == [True, True, True]

    # when the dispatcher clears the note box and leaves it
    note.fill("")
    detail.locator("h1").click()
    # then the notes section catches up with the technician's note
    expect(detail.locator("#wo-notes")).to_contain_text("Bearing is worn", timeout=LIVE_MS)
    assert not_reloaded(detail)


def test_a_page_whose_refetch_failed_tries_again_by_itself(world, planned_work_order, open_page):
    # given the dispatcher's work order page, and the server failing the page's next fetch of itself
    wo = planned_work_order
    detail = open_page()
    log_in(detail, world.dispatcher)
    open_live(detail, f"/work-orders/{wo.pk}/")
    failed = []

    def fail_once(route):
        if not failed:
            failed.append(route.request.url)
            route.fulfill(status=503, body="Service restarting")
        else:
            route.continue_()

    detail.route(f"**/work-orders/{wo.pk}/", fail_once)
    # when the technician starts the work
    services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to=Status.IN_PROGRESS)
    # then the page shows it anyway, a little later, without a reload and without another event
    expect(status_badge(detail)).to_have_text("In progress", timeout=LIVE_MS)
    assert failed and not_reloaded(detail)
