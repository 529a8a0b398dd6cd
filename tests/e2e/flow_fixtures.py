"""Data and page helpers shared by the browser flow tests (the harness itself lives in ``conftest.py``).

Import the fixtures into a test module (``from .flow_fixtures import flow_data``) so pytest finds them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from fixflow.service.choices import ChecklistKind, Status
from fixflow.service.models import ChecklistAnswer, WorkOrder

from ..factories import ChecklistItemFactory, PartFactory, TemplateFactory, WorkOrderFactory


@dataclass
class FlowData:
    """What the flows need besides ``world``: a template with a required checklist item, and a catalogue part."""

    template: object
    part: object


@pytest.fixture
def flow_data(world) -> FlowData:
    template = TemplateFactory(organization=world.org, name="Pump inspection", estimated_duration_minutes=90)
    ChecklistItemFactory(
        template=template, label="Seal checked for leaks", kind=ChecklistKind.CHECKBOX, is_required=True, position=1
    )
    part = PartFactory(organization=world.org, sku="GSK-050", name="Gasket DN50")
    return FlowData(template=template, part=part)


@pytest.fixture
def planned_work_order(world) -> WorkOrder:
    """A work order planned for ``world.technician`` (rows made directly: the lifecycle up to here is covered by
    the request-to-closed flow), with a required checklist item of each kind a technician taps or types."""
    wo = WorkOrderFactory(
        organization=world.org,
        equipment=world.equipment,
        title="Pump P1 makes a grinding noise",
        description="Grinding noise from the bearing since Monday.",
        lead_technician=world.technician.user,
        status=Status.PLANNED,
        scheduled_start=timezone.now() + timedelta(minutes=30),
    )
    for position, (label, kind) in enumerate(
        [
            ("Bearing greased", ChecklistKind.CHECKBOX),
            ("Outlet pressure (bar)", ChecklistKind.NUMBER),
            ("Vibration test", ChecklistKind.PASS_FAIL),
        ],
        start=1,
    ):
        ChecklistAnswer.objects.create(
            organization=world.org, work_order=wo, position=position, label=label, kind=kind, is_required=True
        )
    return wo


def photo_upload(name: str = "leak.jpg") -> dict:
    """A small real JPEG, in the shape Playwright's ``set_input_files`` takes."""
    image = Image.new("RGB", (640, 480), (40, 90, 160))
    ImageDraw.Draw(image).ellipse((200, 140, 440, 340), fill=(240, 240, 250))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def log_out(page: Page) -> None:
    """Log out through the account menu in the top bar."""
    menu = page.locator(".account details.menu")
    menu.locator("summary").click()
    menu.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def loaded(page: Page) -> None:
    """Wait until the page that just arrived has run its deferred scripts (htmx, app.js, workorder.js).

    Call it after an ``expect`` that proves the new page is there: htmx only handles a form once it has
    processed the page, and a checkbox ticked before that would not be sent at all."""
    page.wait_for_load_state("load")


def settled(page: Page) -> None:
    """Wait until htmx has finished swapping and settling: it binds the triggers of swapped-in content only
    when the settle step runs (20 ms after the swap), so a value typed before that would not be sent."""
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def status_badge(page: Page):
    """The work order's status badge in the page head."""
    return page.locator(".page-head .badges .badge").first


def transition_form(page: Page, name: str):
    """The form of one transition button in the "Next step" panel (plan, start, complete, close…)."""
    return page.locator(f"#wo-actions form[data-transition='{name}']")


def expect_message(page: Page, text: str) -> None:
    expect(page.locator(".messages")).to_contain_text(text)
