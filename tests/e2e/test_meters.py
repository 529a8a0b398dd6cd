"""A technician records a meter reading on the work order's "Meter readings" card on the phone; the equipment
page's chart then shows the new point (issue 6)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fixflow.assets import meters
from fixflow.assets.models import MeterReading

from .conftest import log_in
from .flow_fixtures import loaded, planned_work_order, settled

__all__ = ["planned_work_order"]  # a fixture, imported so pytest finds it

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390


@pytest.fixture
def running_hours(world):
    """Running hours on the work order's pump: 1,000 h ten days ago, 1,234 h yesterday."""
    meter = meters.meter_create(
        actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Running hours", "unit": "h"}
    )
    now = timezone.now()
    for value, days_ago in (("1000", 10), ("1234", 1)):
        meters.reading_record(
            actor=world.technician, meter_id=meter.pk, value=value, read_at=now - timedelta(days=days_ago)
        )
    return meter


def test_a_technician_records_a_meter_reading_on_the_phone_and_the_chart_shows_it(
    world, planned_work_order, running_hours, phone_page
):
    page = phone_page
    wo, meter = planned_work_order, running_hours
    log_in(page, world.technician)
    # given the work order open on the phone, with its equipment's meter and the last value
    page.goto(f"/work-orders/{wo.pk}/")
    card = page.locator("#wo-meters")
    expect(card).to_contain_text("Running hours")
    expect(card.locator(f".wo-meter[data-meter='{meter.pk}'] [data-last-value]")).to_have_text("1,234 h")
    loaded(page)
    # when a lower value is typed by mistake: the card says why and keeps the value
    row = card.locator(f".wo-meter[data-meter='{meter.pk}']")
    row.locator(f"input[name='m{meter.pk}-value']").fill("1200")
    row.get_by_role("button", name="Record").click()
    settled(page)
    expect(page.locator("#wo-meters .errorlist")).to_contain_text("is below the last reading 1,234 h")
    # when the right value is recorded
    row = page.locator(f"#wo-meters .wo-meter[data-meter='{meter.pk}']")
    expect(row.locator(f"input[name='m{meter.pk}-value']")).to_have_value("1200")
    row.locator(f"input[name='m{meter.pk}-value']").fill("1300")
    row.get_by_role("button", name="Record").click()
    settled(page)
    # then the card shows the new value, in place, and the page still fits the phone
    expect(page.locator("#wo-meters [data-notice]")).to_contain_text("Recorded 1,300 h.")
    expect(page.locator(f"#wo-meters .wo-meter[data-meter='{meter.pk}'] [data-last-value]")).to_have_text("1,300 h")
    assert re.search(rf"/work-orders/{wo.pk}/$", page.url)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    reading = MeterReading.objects.filter(meter=meter).first()
    assert (str(reading.value), reading.source, reading.work_order_id) == ("1300.000", "phone", wo.pk)
    # when the technician opens the equipment page
    page.goto(f"/equipment/{world.equipment.pk}/")
    # then the chart has the new point
    chart = page.locator(f"#meter-{meter.pk} figure.meter-chart")
    expect(chart).to_have_attribute("data-points", "3")
    expect(chart.locator("circle.pt").last.locator("title")).to_contain_text("1,300 h")
    expect(page.locator(f"#meter-{meter.pk} [data-last-value] b")).to_have_text("1,300 h")
