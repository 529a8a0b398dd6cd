"""Browser test of the SLA configuration: a calendar with a split shift, its week picture, a holiday, a policy."""

import pytest
from playwright.sync_api import expect

from fixflow.sla.models import BusinessCalendar, Holiday, SlaPolicy

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_an_admin_sets_up_a_split_shift_calendar_and_a_policy_counting_in_it(world, browser_page):
    page = browser_page
    # given an admin on the settings page
    log_in(page, world.admin)
    page.goto("/settings/")
    page.get_by_role("link", name="Calendars").click()
    expect(page.locator("h1")).to_have_text("Business calendars")
    page.get_by_role("link", name="New calendar").click()

    # when they name the calendar and split Monday into a morning and an afternoon
    page.locator("input[name=name]").fill("Workshop")
    page.locator("input[name=w0-0-end]").fill("12:00")
    picture = page.locator("#week-picture")
    expect(picture.locator('rect[data-interval="08:00–12:00"]')).to_have_count(1)  # the live preview follows
    monday = page.locator('[data-weekday="0"]')
    monday.get_by_role("button", name="+ interval").click()
    monday.locator("input[name=w0-1-start]").fill("13:00")
    monday.locator("input[name=w0-1-end]").fill("17:00")
    expect(picture.locator('rect[data-interval="13:00–17:00"]')).to_have_count(1)
    # and Friday closes at noon
    page.locator("input[name=w4-0-end]").fill("12:00")
    expect(picture.locator('[data-day="4"] rect[data-interval="08:00–12:00"]')).to_have_count(1)
    page.get_by_role("button", name="Create calendar").click()

    # then the calendar is saved and its picture drawn by the server shows the split shift
    expect(page.locator(".messages")).to_contain_text("Calendar Workshop created")
    cal = BusinessCalendar.objects.get(organization=world.org, name="Workshop")
    assert cal.week[0] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert cal.week[4] == [["08:00", "12:00"]]
    expect(picture.locator('[data-day="0"] rect.work')).to_have_count(2)
    expect(picture.locator('[data-day="1"] rect[data-interval="08:00–17:00"]')).to_have_count(1)
    expect(picture.locator('[data-day="6"] rect.work')).to_have_count(0)

    # when they add a holiday
    page.locator("input[name=holiday-date]").fill("2026-12-24")
    page.locator("input[name=holiday-name]").fill("Christmas Eve")
    page.get_by_role("button", name="Add holiday").click()

    # then it is listed
    expect(page.locator(".messages")).to_contain_text("2026-12-24 added as a holiday")
    expect(page.locator('#holidays tr[data-holiday="2026-12-24"]')).to_contain_text("Christmas Eve")
    assert Holiday.objects.filter(calendar=cal, date="2026-12-24").exists()
    page.locator("#holidays").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/sla_calendar.png", full_page=True)

    # when they create a policy for critical work counted in this calendar
    page.goto("/settings/sla/policies/")
    page.get_by_role("link", name="New policy").click()
    page.locator("input[name=name]").fill("Workshop critical")
    page.locator("select[name=calendar]").select_option(label="Workshop")
    page.locator("[data-field=priorities]").get_by_label("Critical", exact=True).check()
    page.locator("input[name=target_critical_response]").fill("30 min")
    page.locator("input[name=target_critical_resolution]").fill("1 d 2 h")
    page.locator("input[name=target_high_resolution]").fill("2 h")  # shorter than its response: refused
    page.get_by_role("button", name="Create policy").click()
    expect(page.locator('[data-field="target_high_response"] .errorlist')).to_contain_text(
        "High: the response target (4 h) is longer than the resolution target (2 h)."
    )
    page.screenshot(path="/tmp/sla_policy_form.png", full_page=True)
    page.locator("input[name=target_high_resolution]").fill("16 h")
    page.get_by_role("button", name="Create policy").click()

    # then it is listed first, before the default, with its calendar and targets
    expect(page.locator(".messages")).to_contain_text("SLA policy Workshop critical saved")
    first = page.locator(".policy").first
    expect(first).to_contain_text("Workshop critical")
    expect(first).to_contain_text("Workshop")
    expect(first.locator('[data-target="critical-resolution"]')).to_have_text("26 h")
    expect(page.locator(".policy.is-default")).to_contain_text("Applies to everything else")
    policy = SlaPolicy.objects.get(organization=world.org, name="Workshop critical")
    assert policy.calendar == cal and policy.priorities == ["critical"]
    page.screenshot(path="/tmp/sla_policies.png", full_page=True)
