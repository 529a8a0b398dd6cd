"""Browser test of the maintenance plan pages: a monthly "last day" plan through the form with its live
preview, saved, generated at once, the work order it made, and the plan on the forecast calendar."""

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from fixflow.maintenance.models import MaintenancePlan, Occurrence

from ..factories import TemplateFactory
from .conftest import log_in
from .flow_fixtures import settled

pytestmark = pytest.mark.browser


def _month_ends(first: date, n: int) -> list[date]:
    out, year, month = [], first.year, first.month
    for _ in range(n):
        out.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def test_a_dispatcher_plans_monthly_work_on_the_last_day_and_generates_it_now(world, browser_page):
    page = browser_page
    TemplateFactory(organization=world.org, name="Pump inspection")
    today = datetime.now(ZoneInfo(world.site.timezone)).date()
    month_ends = _month_ends(today, 5)
    lead_days = (month_ends[0] - today).days  # the first one is created at once, the next ones later

    # given a dispatcher on the maintenance pages
    log_in(page, world.dispatcher)
    page.get_by_role("navigation").get_by_role("link", name="Maintenance").click()
    expect(page.locator("h1")).to_have_text("Preventive maintenance")
    page.get_by_role("link", name="New plan").click()

    # when they describe the plan in plain choices
    page.locator("input[name=name]").fill("Monthly pump inspection")
    page.locator("select[name=template]").select_option(label="Pump inspection")
    page.locator("select[name=equipment]").select_option(label="Pump P1 · Pumpwerk Nord")
    expect(page.locator("select[name=site]")).to_have_value(str(world.site.pk))  # the site follows the equipment
    page.get_by_label("On fixed dates (a calendar repeat from the first due date)").check()
    expect(page.locator("[data-field=weekdays]")).to_be_hidden()  # monthly: no weekdays to pick
    page.get_by_label("On the last day of the month").check()
    expect(page.locator("[data-field=month_day]")).to_be_hidden()
    page.locator("input[name=anchor]").fill(month_ends[0].isoformat())
    page.locator("input[name=lead_days]").fill(str(lead_days))

    # then the preview follows: the summary and the next five month ends
    preview = page.locator("#plan-preview")
    expect(preview.locator("[data-preview-summary]")).to_contain_text("Every month on the last day")
    dates = preview.locator("[data-preview-dates] li")
    expect(dates).to_have_count(5)
    for item, day in zip(dates.all(), month_ends, strict=True):
        expect(item).to_have_attribute("data-date", day.isoformat())
    settled(page)
    page.screenshot(path="/tmp/pm_plan_form.png", full_page=True)

    # when they save
    page.get_by_role("button", name="Create plan").click()

    # then the plan page says what it does
    expect(page.locator(".messages")).to_contain_text("Plan Monthly pump inspection created.")
    plan = MaintenancePlan.objects.get(organization=world.org, name="Monthly pump inspection")
    assert (plan.rule, plan.anchor, plan.equipment_id) == (
        "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1",
        month_ends[0],
        world.equipment.pk,
    )
    expect(page.locator("[data-summary]")).to_contain_text("Every month on the last day")
    expect(page.locator("[data-next-due] li").first).to_have_attribute("data-date", month_ends[0].isoformat())

    # when they generate it now
    page.get_by_role("button", name="Generate now").click()

    # then one work order was made, and it opens from the plan
    expect(page.locator(".messages")).to_contain_text("1 work order created, 0 skipped.")
    occurrence = Occurrence.objects.get(plan=plan)
    wo = occurrence.work_order
    page.screenshot(path="/tmp/pm_plan_detail.png", full_page=True)
    page.locator("#occurrences").get_by_role("link", name=wo.number).click()
    expect(page).to_have_url(f"{page.url.split('/work-orders/')[0]}/work-orders/{wo.pk}/")
    expect(page.locator("h1")).to_contain_text("Monthly pump inspection")
    assert occurrence.due_date == month_ends[0] and wo.type == "preventive"
    assert Occurrence.objects.filter(plan=plan).count() == 1 and today + timedelta(days=lead_days) == month_ends[0]

    # and the forecast shows the plan: generated at the first month end, upcoming at the next one
    for day, kind in ((month_ends[0], "generated"), (month_ends[1], "upcoming")):
        page.goto(f"/maintenance/forecast/?view=month&date={day.isoformat()}")
        cell = page.locator(f'.pm-day[data-date="{day.isoformat()}"]')
        expect(cell.locator(f'.pm-item[data-kind="{kind}"]')).to_contain_text("Monthly pump inspection")
