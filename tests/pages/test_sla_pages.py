"""SLA on the work order pages (badges, filters, sort, panel, recalculation) and the compliance report."""

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from fixflow.core.clock import frozen_at
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import selectors as wo_selectors
from fixflow.service import services as wo_services
from fixflow.service.models import WorkOrder
from fixflow.sla import engine
from fixflow.sla import services as sla_services
from fixflow.sla.models import SlaClock

BERLIN = ZoneInfo("Europe/Berlin")
ALL = ("critical", "high", "normal", "low")


def at(*args):
    return datetime(*args, tzinfo=BERLIN)


def html(response) -> str:
    return response.content.decode()


def office_policy(world, *, response=60, resolution=540):
    cal = sla_services.calendar_create(
        actor=world.admin, data={"name": "Office hours Berlin", "timezone": "Europe/Berlin"}
    )
    return sla_services.policy_create(
        actor=world.admin,
        data={
            "name": "Stadtwerke",
            "calendar_id": cal.pk,
            "client_ids": [world.client.pk, world.other_client.pk],
            "targets": {p: {"response": response, "resolution": resolution} for p in ALL},
        },
    )


def create_wo(world, when, *, title="Leak", other=False, lead=True):
    with frozen_at(when):
        return wo_services.work_order_create(
            actor=world.dispatcher,
            title=title,
            site_id=(world.other_site if other else world.site).pk,
            equipment_id=(world.other_equipment if other else world.equipment).pk,
            lead_technician_id=world.technician.user_id if lead else None,
        )


def move(world, wo, when, to, **kwargs):
    actor = kwargs.pop("actor", world.technician)
    with frozen_at(when):
        return wo_services.work_order_transition(actor=actor, work_order_id=wo.pk, to=to, **kwargs)


def badges(page: str) -> dict[str, tuple[str, str]]:
    """Work order number → (SLA state, badge text) of each list row."""
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        number = re.search(r'<span class="ref">([^<]+)</span>', row)
        badge = re.search(r'data-sla-state="([a-z_]+)"[^>]*><span class="sla-label">SLA</span> ([^<]+)</span>', row)
        if number and badge:
            out[number.group(1)] = (badge.group(1), badge.group(2))
    return out


@pytest.fixture
def three(world):
    """Monday 23 Nov 2026, office hours: one pending, one at risk and breached, one paused, one met."""
    office_policy(world, response=60, resolution=120)
    pending = create_wo(world, at(2026, 11, 23, 10, 0), title="Pending")
    risky = create_wo(world, at(2026, 11, 23, 8, 0), title="Risky")  # response due 09:00 → breached at 10:05
    paused = create_wo(world, at(2026, 11, 23, 8, 0), title="Paused", other=True)
    move(world, paused, at(2026, 11, 23, 8, 30), "in_progress")
    move(world, paused, at(2026, 11, 23, 8, 40), "on_hold", hold_reason="waiting_for_client")
    done = create_wo(world, at(2026, 11, 23, 8, 0), title="Done")
    move(world, done, at(2026, 11, 23, 8, 10), "in_progress")
    move(world, done, at(2026, 11, 23, 9, 0), "completed", resolution_notes="Fixed")
    engine.scan(now=at(2026, 11, 23, 10, 5))
    return {wo.title: WorkOrder.objects.get(pk=wo.pk) for wo in (pending, risky, paused, done)}


def test_list_rows_show_badges_with_business_time_left_or_overdue(world, svc_login, three):
    client = svc_login(world.dispatcher)
    with frozen_at(at(2026, 11, 23, 10, 5)):
        page = html(client.get("/work-orders/"))
    shown = badges(page)
    assert shown[three["Pending"].number] == ("pending", "55 min left")
    assert shown[three["Risky"].number] == ("breached", "overdue 1 h 5 min")
    assert shown[three["Paused"].number] == ("paused", "paused")
    assert shown[three["Done"].number] == ("met", "met")
    # the due instant in the site's zone
    assert "Mon 23 Nov 2026 11:00" in page
    # after closing time, overdue counts business time only: Mon 09:00 → 17:00 plus Tue 08:00 → 08:30
    with frozen_at(at(2026, 11, 24, 8, 30)):
        page = html(client.get("/work-orders/"))
    assert badges(page)[three["Risky"].number] == ("breached", "overdue 8 h 30 min")


def test_list_is_not_one_query_per_row(world, svc_login, three, django_assert_max_num_queries):
    for i in range(6):
        create_wo(world, at(2026, 11, 23, 9, i), title=f"More {i}")
    client = svc_login(world.dispatcher)
    with frozen_at(at(2026, 11, 23, 10, 5)), django_assert_max_num_queries(14):
        response = client.get("/work-orders/")
    assert len(badges(html(response))) == 10


def test_filter_by_sla_state_and_due_window(world, svc_login, three):
    client = svc_login(world.dispatcher)
    with frozen_at(at(2026, 11, 23, 10, 5)):
        breached = html(client.get("/work-orders/?sla_state=breached"))
        several = html(client.get("/work-orders/?sla_state=paused&sla_state=met"))
        comma = html(client.get("/work-orders/?sla_state=paused,met"))
        due = html(client.get("/work-orders/?sla_due_after=2026-11-23&sla_due_before=2026-11-24"))
        later = html(client.get("/work-orders/?sla_due_after=2026-11-24"))
        bad = client.get("/work-orders/?sla_state=late")
    assert set(badges(breached)) == {three["Risky"].number}
    assert set(badges(several)) == {three["Paused"].number, three["Done"].number} == set(badges(comma))
    assert set(badges(due)) == {three["Pending"].number, three["Risky"].number}
    assert badges(later) == {}
    assert bad.status_code == 200 and "late is not one of the available choices" in html(bad)


def test_the_selector_refuses_unknown_states_and_bad_instants(world, three):
    with pytest.raises(DomainError) as err:
        wo_selectors.work_order_list(actor=world.dispatcher, filters={"sla_state": "late"})
    assert (err.value.code, err.value.field) == (ErrorCode.VALIDATION, "sla_state")
    with pytest.raises(DomainError) as err:
        wo_selectors.work_order_list(actor=world.dispatcher, filters={"sla_due_before": "soon"})
    assert (err.value.code, err.value.field) == (ErrorCode.VALIDATION, "sla_due_before")
    # ISO instants: with an offset, or in the organization's zone without one
    page = wo_selectors.work_order_list(actor=world.dispatcher, filters={"sla_due_before": "2026-11-23T09:00:01+01:00"})
    assert [wo.title for wo in page.items] == ["Risky"]
    page = wo_selectors.work_order_list(actor=world.dispatcher, filters={"sla_due_after": "2026-11-23T10:00"})
    assert [wo.title for wo in page.items] == ["Pending"]


def _walk(actor, sort, limit=2) -> list[str]:
    titles, cursor = [], None
    while True:
        page = wo_selectors.work_order_list(actor=actor, sort=sort, cursor=cursor, limit=limit)
        titles += [wo.title for wo in page.items]
        if not page.next_cursor:
            return titles
        cursor = page.next_cursor


def test_sort_by_sla_due_pages_through_the_nulls(world, three):
    # Risky 09:00 (response), Pending 11:00; Paused and Done have no open due instant; two without an SLA
    no_sla = [create_wo(world, at(2026, 11, 23, 7, 0), title=f"No SLA {i}") for i in range(3)]
    for wo in no_sla:
        wo.sla.delete()
        WorkOrder.objects.filter(pk=wo.pk).update(sla_state="", sla_due_at=None)
    nulls = sorted([three["Paused"], three["Done"], *no_sla], key=lambda wo: wo.pk)
    expected_nulls = [wo.title for wo in nulls]
    for limit in (1, 2, 3, 50):
        assert _walk(world.dispatcher, "sla_due", limit) == ["Risky", "Pending", *expected_nulls]
        assert _walk(world.dispatcher, "-sla_due", limit) == ["Pending", "Risky", *reversed(expected_nulls)]


def test_sort_links_and_paging_on_the_page(world, svc_login, three):
    client = svc_login(world.dispatcher)
    page = html(client.get("/work-orders/?sort=sla_due"))
    order = re.findall(r'<span class="ref">([^<]+)</span>', page)
    assert order[:2] == [three["Risky"].number, three["Pending"].number]
    assert "SLA due ↑" in page and "sort=-sla_due" in page
    page = html(client.get("/work-orders/?sort=-sla_due"))
    assert re.findall(r'<span class="ref">([^<]+)</span>', page)[:2] == [three["Pending"].number, three["Risky"].number]
    # the next page of a sorted page continues after the last row (cursor over the nullable column)
    first = wo_selectors.work_order_list(actor=world.dispatcher, sort="sla_due", limit=3)
    rest = html(client.get(f"/work-orders/?sort=sla_due&cursor={first.next_cursor}"))
    assert (
        re.findall(r'<span class="ref">([^<]+)</span>', rest)
        == [wo.number for wo in sorted([three["Paused"], three["Done"]], key=lambda w: w.pk)][1:]
    )


def test_work_order_page_shows_the_panel_badge_and_explanation(world, svc_login):
    office_policy(world)
    wo = create_wo(world, at(2026, 11, 27, 16, 0))
    move(world, wo, at(2026, 11, 27, 16, 30), "in_progress")
    move(world, wo, at(2026, 11, 27, 16, 30), "on_hold", hold_reason="waiting_for_parts")
    move(world, wo, at(2026, 11, 30, 10, 0), "in_progress")
    client = svc_login(world.dispatcher)
    with frozen_at(at(2026, 11, 30, 11, 0)):
        page = html(client.get(f"/work-orders/{wo.pk}/"))
    head = page.split('<div class="wo-layout">')[0]
    assert 'data-sla-state="pending"' in head and "7 h 30 min left" in head
    panel = page.split('id="sla"')[1].split("</section>")[0]
    assert "Stadtwerke · v1" in panel
    assert 'Due <b class="sla-due">Tue 1 Dec 2026 09:30</b>' in panel
    assert "Waiting for parts" in panel and "2 h 30 min" in panel
    assert "<summary>Why is this due then?</summary>" in panel
    assert "<li>Resolution due Tue 1 Dec 09:30 (start + 9 h + 2 h 30 min paused).</li>" in panel
    assert "Recalculate SLA" in panel
    # a technician sees the SLA but may not recalculate
    with frozen_at(at(2026, 11, 30, 11, 0)):
        tech_page = html(svc_login(world.technician).get(f"/work-orders/{wo.pk}/"))
    assert "Why is this due then?" in tech_page and "Recalculate SLA" not in tech_page


def test_no_recalculate_button_on_finished_work(world, svc_login):
    office_policy(world)
    wo = create_wo(world, at(2026, 11, 23, 9, 0))
    move(world, wo, at(2026, 11, 23, 9, 30), "cancelled", actor=world.dispatcher, reason="Duplicate")
    page = html(svc_login(world.dispatcher).get(f"/work-orders/{wo.pk}/"))
    assert 'id="sla"' in page and "Recalculate SLA" not in page


def test_recalculate_applies_the_edited_policy(world, svc_login):
    policy = office_policy(world)
    wo = create_wo(world, at(2026, 11, 23, 9, 0))
    sla_services.policy_update(
        actor=world.admin, policy_id=policy.pk, data={"targets": {p: {"response": 120, "resolution": 600} for p in ALL}}
    )
    response_clock = SlaClock.objects.get(work_order=wo, target="response")
    assert response_clock.due_at == at(2026, 11, 23, 10, 0)  # the snapshot is kept until recalculated
    client = svc_login(world.dispatcher)
    with frozen_at(at(2026, 11, 23, 9, 30)):
        response = client.post(f"/work-orders/{wo.pk}/sla/recalculate/", follow=True)
    assert response.redirect_chain[-1][0] == f"/work-orders/{wo.pk}/#sla"
    assert "SLA recalculated with the policy “Stadtwerke” (version 2)." in html(response)
    response_clock.refresh_from_db()
    assert response_clock.due_at == at(2026, 11, 23, 11, 0)


def test_recalculate_is_refused_to_others_and_on_finished_work(world, svc_login):
    office_policy(world)
    wo = create_wo(world, at(2026, 11, 23, 9, 0))
    url = f"/work-orders/{wo.pk}/sla/recalculate/"
    assert svc_login(world.technician).post(url).status_code == 403
    assert svc_login(world.client_user).post(url).status_code == 403
    assert svc_login(world.other_client_user).post(url).status_code == 404
    assert svc_login(world.dispatcher).get(url).status_code == 405
    move(world, wo, at(2026, 11, 23, 9, 30), "cancelled", actor=world.dispatcher, reason="Duplicate")
    response = svc_login(world.dispatcher).post(url, follow=True)
    assert "Only open work orders are recalculated" in html(response)
    assert SlaClock.objects.get(work_order=wo, target="response").state == "cancelled"


def test_dispatcher_home_lists_sla_at_risk_or_breached(world, svc_login, three):
    with frozen_at(at(2026, 11, 23, 10, 5)):
        page = html(svc_login(world.dispatcher).get("/"))
    panel = page.split("SLA at risk or breached")[1].split("</section>")[0]
    assert three["Risky"].number in panel and "overdue 1 h 5 min" in panel
    assert three["Pending"].number not in panel and three["Done"].number not in panel
    assert "1 breached · 0 at risk" in panel


# ---------------------------------------------------------------------------------------------
# the compliance report


@pytest.fixture
def history(world):
    office_policy(world, response=60, resolution=120)
    a = create_wo(world, at(2026, 10, 5, 9, 0))
    move(world, a, at(2026, 10, 5, 9, 30), "in_progress")
    move(world, a, at(2026, 10, 5, 13, 0), "completed", resolution_notes="Done")  # resolution breached
    b = create_wo(world, at(2026, 11, 2, 9, 0), other=True)
    move(world, b, at(2026, 11, 2, 9, 10), "in_progress")
    move(world, b, at(2026, 11, 2, 10, 0), "completed", resolution_notes="Done")


def test_compliance_report_page_tables_and_chart(world, svc_login, history):
    client = svc_login(world.accountant)
    with frozen_at(at(2026, 11, 25, 12, 0)):
        response = client.get("/sla/report/")
    assert response.status_code == 200
    page = html(response)
    report = response.context["report"]
    assert (report.date_from, report.date_to) == (date(2026, 6, 1), date(2026, 12, 1))
    assert [m.key for m in report.by_month] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert (report.totals.met, report.totals.breached, report.totals.open) == (3, 1, 0)
    assert "75.0 %" in page
    assert "<svg" in page and page.count('class="bar-met"') == 6 and "2026-10: 1 breached" in page
    assert "Stadtwerke" in page and "Bäckerei Kühn" in page
    assert 'href="/sla/report/"' in page  # the navigation link


def test_compliance_report_filters(world, svc_login, history):
    client = svc_login(world.dispatcher)
    response = client.get(
        f"/sla/report/?date_from=2026-10-01&date_to=2026-12-01&client={world.other_client.pk}&target=resolution"
    )
    report = response.context["report"]
    assert (report.totals.met, report.totals.breached) == (1, 0)
    assert [r.label for r in report.by_client] == ["Bäckerei Kühn"]
    bad = client.get("/sla/report/?date_from=2026-12-01&date_to=2026-10-01")
    assert bad.status_code == 200 and "date_to must be after date_from." in html(bad)
    unknown = client.get("/sla/report/?date_from=yesterday&priority=urgent")
    assert unknown.status_code == 200 and "Enter a valid date." in html(unknown)


def test_compliance_csv_export(world, svc_login, history):
    response = svc_login(world.admin).get("/sla/report/?date_from=2026-10-01&date_to=2026-12-01&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="sla-compliance-2026-10-01-2026-12-01.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["group", "key", "label", "met", "breached", "open", "total", "compliance_percent"]
    body = {(r[0], r[2]): r[3:] for r in rows[1:]}
    assert body[("client", "Stadtwerke")] == ["1", "1", "0", "2", "50.0"]
    assert body[("client", "Bäckerei Kühn")] == ["2", "0", "0", "2", "100.0"]
    assert body[("month", "2026-10")] == ["1", "1", "0", "2", "50.0"]
    assert body[("priority", "Normal")] == ["3", "1", "0", "4", "75.0"]
    assert body[("total", "Total")] == ["3", "1", "0", "4", "75.0"]


def test_csv_cells_cannot_run_as_formulas(world, svc_login):
    office_policy(world)
    world.client.name = '=HYPERLINK("http://x")'
    world.client.save()
    with frozen_at(at(2026, 11, 2, 9, 0)):
        create_wo(world, at(2026, 11, 2, 9, 0))
        response = svc_login(world.admin).get("/sla/report/?date_from=2026-11-01&date_to=2026-12-01&format=csv")
    labels = [r[2] for r in csv.reader(io.StringIO(response.content.decode()))]
    assert '\'=HYPERLINK("http://x")' in labels


@pytest.mark.parametrize("role", ["client_user", "other_client_user", "technician", "requester"])
def test_compliance_report_is_refused_to_clients_and_field_roles(world, svc_login, history, role):
    client = svc_login(getattr(world, role))
    assert client.get("/sla/report/").status_code == 403
    assert client.get("/sla/report/?format=csv").status_code == 403
    assert 'href="/sla/report/"' not in html(client.get("/"))
