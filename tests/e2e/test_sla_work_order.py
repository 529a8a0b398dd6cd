"""Browser test: a dispatcher sees a work order's SLA (badge, explanation) and the compliance report's chart."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from fixflow.core import clock
from fixflow.service import services as wo_services
from fixflow.sla import engine
from fixflow.sla import services as sla_services
from fixflow.sla.models import BusinessCalendar

from .conftest import log_in

pytestmark = pytest.mark.browser
PRIORITIES = ("critical", "high", "normal", "low")


def _policy(world, name, client, response, resolution):
    engine.ensure_defaults(world.org.pk)
    always = BusinessCalendar.objects.get(organization=world.org, is_24x7=True)
    sla_services.policy_create(
        actor=world.admin,
        data={
            "name": name,
            "calendar_id": always.pk,
            "client_ids": [client.pk],
            "targets": {p: {"response": response, "resolution": resolution} for p in PRIORITIES},
        },
    )


def _work_order(world, title, started, *, other=False):
    return wo_services.work_order_create(
        actor=world.dispatcher,
        title=title,
        site_id=(world.other_site if other else world.site).pk,
        equipment_id=(world.other_equipment if other else world.equipment).pk,
        lead_technician_id=world.technician.user_id,
        sla_start=started,
    )


def test_a_dispatcher_reads_why_a_work_order_is_due_and_the_compliance_chart(world, browser_page):
    now = clock.now()
    # given 24×7 policies: one hour to respond for Stadtwerke, ten weeks for the bakery
    _policy(world, "Stadtwerke 24×7", world.client, 60, 240)
    _policy(world, "Bakery relaxed", world.other_client, 100_000, 100_000)
    # a leak reported 90 minutes ago: the response is overdue, the resolution still running
    leak = _work_order(world, "Pump leaking", now - timedelta(minutes=90))
    # and last month's work: one breached at once, one met in time
    _work_order(world, "Old valve", now - timedelta(days=35))
    oven = _work_order(world, "Oven door", now - timedelta(days=35), other=True)
    wo_services.work_order_transition(actor=world.technician, work_order_id=oven.pk, to="in_progress")
    wo_services.work_order_transition(
        actor=world.technician, work_order_id=oven.pk, to="completed", resolution_notes="Hinge replaced"
    )

    page = browser_page
    log_in(page, world.dispatcher)

    # when the dispatcher looks at the home page
    page.goto("/")
    panel = page.locator("section.sla-attention")
    # then both breached work orders are listed, the longest overdue first, with the business time overdue
    expect(panel.locator("li")).to_have_count(2)
    expect(panel.locator("li").first).to_contain_text("Old valve")
    row = panel.locator("li", has_text=leak.number)
    expect(row.locator(".sla-badge")).to_contain_text(re.compile(r"overdue 3[01] min"))
    expect(panel.locator(".sla-counts")).to_have_text("2 breached · 0 at risk")

    page.screenshot(path="/tmp/sla_home.png", full_page=True)

    # when they open the leak
    row.locator("a").click()
    expect(page.locator("h1")).to_contain_text("Pump leaking")
    # then the head badge and the SLA panel say what is due when
    expect(page.locator(".wo-head .sla-badge")).to_have_attribute("data-sla-state", "breached")
    sla = page.locator("#sla")
    expect(sla).to_contain_text("Stadtwerke 24×7 · v1")
    expect(sla.locator('[data-target="response"] .sla-badge')).to_contain_text(re.compile(r"overdue 3[01] min"))
    expect(sla.locator('[data-target="resolution"] .sla-badge')).to_contain_text(re.compile(r"2 h (29|30) min left"))
    # and the explanation opens on demand
    why = sla.locator("details.sla-why")
    expect(why.locator("ol")).to_be_hidden()
    why.locator("summary").click()
    expect(why.locator("ol")).to_be_visible()
    expect(why).to_contain_text("Response target 1 h of real elapsed time (calendar 24×7, open around the clock).")
    expect(why).to_contain_text("Response breached: it was due")
    expect(page.get_by_role("button", name="Recalculate SLA")).to_be_visible()
    sla.scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/sla_wo.png", full_page=True)

    # when they open the compliance report from the navigation
    page.get_by_role("link", name="SLA report").first.click()
    expect(page.locator("h1")).to_have_text("SLA compliance")
    # then the chart shows six months with last month's met and breached bars
    chart = page.locator("figure.sla-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("g.month")).to_have_count(6)
    last_month = clock.now().astimezone(world.org.tzinfo) - timedelta(days=35)
    month = chart.locator(f'g.month[data-month="{last_month:%Y-%m}"]')
    expect(month.locator("rect.bar-met title")).to_have_text(f"{last_month:%Y-%m}: 2 met")
    expect(month.locator("rect.bar-breached title")).to_have_text(f"{last_month:%Y-%m}: 2 breached")
    assert float(month.locator("rect.bar-met").get_attribute("height")) > 0
    expect(page.locator("table.sla-table").first).to_contain_text("Stadtwerke")
    page.screenshot(path="/tmp/sla_report.png", full_page=True)

    # and the work order list sorts by the SLA due instant
    page.goto("/work-orders/?sort=sla_due")
    expect(page.locator("table.wo-list tbody tr").first).to_contain_text("Old valve")
    expect(page.locator("table.wo-list tbody tr").nth(1).locator(".sla-badge")).to_have_attribute(
        "data-sla-state", "breached"
    )
    page.screenshot(path="/tmp/sla_list.png", full_page=True)
    page.go_back()

    # and the CSV link downloads the same numbers
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("sla-compliance-")
