"""The SLA read models: a work order's explanation and the compliance report."""

from dataclasses import asdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from fixflow.core.clock import frozen_at
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services as wo_services
from fixflow.sla import engine
from fixflow.sla import services as sla_services
from fixflow.sla.models import SlaClock
from fixflow.sla.selectors import compliance_report, default_report_range, format_minutes, week_text, work_order_sla

BERLIN = ZoneInfo("Europe/Berlin")
ALL = ("critical", "high", "normal", "low")


def office_policy(world, *, response=60, resolution=540, clients=None, holidays=()):
    cal = sla_services.calendar_create(
        actor=world.admin, data={"name": "Office hours Berlin", "timezone": "Europe/Berlin"}
    )
    for day in holidays:
        sla_services.holiday_add(actor=world.admin, calendar_id=cal.pk, day=day, name="Holiday")
    return sla_services.policy_create(
        actor=world.admin,
        data={
            "name": "Stadtwerke",
            "calendar_id": cal.pk,
            "client_ids": [c.pk for c in (clients or [world.client])],
            "targets": {p: {"response": response, "resolution": resolution} for p in ALL},
        },
    )


def create_wo(world, when, *, site=None, priority=None):
    site = site or world.site
    equipment = world.equipment if site == world.site else world.other_equipment
    with frozen_at(when):
        return wo_services.work_order_create(
            actor=world.dispatcher,
            title="Leak",
            site_id=site.pk,
            equipment_id=equipment.pk,
            priority=priority,
            lead_technician_id=world.technician.user_id,
        )


def move(world, wo, when, to, **kwargs):
    actor = kwargs.pop("actor", world.technician)
    with frozen_at(when):
        return wo_services.work_order_transition(actor=actor, work_order_id=wo.pk, to=to, **kwargs)


def at(*args):
    return datetime(*args, tzinfo=BERLIN)


def test_format_helpers():
    assert format_minutes(130) == "2 h 10 min"
    assert format_minutes(-35) == "35 min"
    assert format_minutes(180) == "3 h"
    assert week_text([[["08:00", "17:00"]]] * 5 + [[["08:00", "12:00"]], []]) == "Mon–Fri 08:00–17:00; Sat 08:00–12:00"
    assert week_text([[["08:00", "12:00"], ["13:00", "17:00"]]] * 2 + [[]] * 5) == "Mon–Tue 08:00–12:00, 13:00–17:00"
    assert default_report_range(date(2026, 11, 25)) == (date(2026, 6, 1), date(2026, 12, 1))
    assert default_report_range(date(2026, 3, 2)) == (date(2025, 10, 1), date(2026, 4, 1))
    assert default_report_range(date(2026, 12, 31)) == (date(2026, 7, 1), date(2027, 1, 1))


def test_explanation_walks_start_calendar_pause_and_due(world):
    office_policy(world)
    wo = create_wo(world, at(2026, 11, 27, 16, 0))
    move(world, wo, at(2026, 11, 27, 16, 30), "in_progress")
    move(world, wo, at(2026, 11, 27, 16, 30), "on_hold", hold_reason="waiting_for_parts")

    # while paused: no due instant, the business time left is known
    view = work_order_sla(actor=world.dispatcher, work_order=wo, now=at(2026, 11, 30, 9, 0))
    resolution = {s.target: s for s in view.statuses}["resolution"]
    assert resolution.state == "paused" and resolution.due_at is None
    assert resolution.remaining_minutes == 540 - 30
    assert any(
        s.startswith("Paused since Fri 27 Nov 16:30 while waiting for parts (1 h 30 min of business")
        for s in view.explanation
    )

    move(world, wo, at(2026, 11, 30, 10, 0), "in_progress")
    wo.refresh_from_db()
    view = work_order_sla(actor=world.dispatcher, work_order=wo, now=at(2026, 11, 30, 11, 0))
    assert view.policy_name == "Stadtwerke" and view.policy_version == 1
    assert view.calendar.name == "Office hours Berlin"
    assert view.calendar.week_text == "Mon–Fri 08:00–17:00"
    assert view.timezone == "Europe/Berlin"
    assert view.targets == {"response": 60, "resolution": 540}
    statuses = {s.target: s for s in view.statuses}
    assert statuses["response"].state == "met" and statuses["response"].met_at == at(2026, 11, 27, 16, 30)
    assert statuses["resolution"].due_at == at(2026, 12, 1, 9, 30)
    # 11:00 Mon → 17:00 Mon (6 h) + 08:00 → 09:30 Tue (1 h 30)
    assert statuses["resolution"].remaining_minutes == 450
    assert statuses["resolution"].paused_minutes == 150
    assert [(p.reason, p.business_minutes) for p in view.pauses] == [("waiting_for_parts", 150)]
    assert view.explanation == [
        "Policy “Stadtwerke” (version 1) applies; targets for priority normal.",
        "Started Fri 27 Nov 16:00 (Europe/Berlin) when the work order was created.",
        "Response target 1 h of business time on Office hours Berlin (Mon–Fri 08:00–17:00).",
        "Resolution target 9 h of business time on Office hours Berlin (Mon–Fri 08:00–17:00).",
        "Paused 2 h 30 min while waiting for parts (Fri 27 Nov 16:30 – Mon 30 Nov 10:00).",
        "Response met Fri 27 Nov 16:30, within the target (due Fri 27 Nov 17:00).",
        "Resolution due Tue 1 Dec 09:30 (start + 9 h + 2 h 30 min paused).",
    ]
    # JSON-friendly
    data = asdict(view)
    assert data["statuses"][1]["due_at"] == at(2026, 12, 1, 9, 30)


def test_explanation_outside_hours_holidays_and_breach(world):
    office_policy(world, response=60, resolution=120, holidays=["2026-12-24", "2026-12-25"])
    # Wednesday 23 Dec 20:00: outside hours; Thursday and Friday are holidays
    wo = create_wo(world, at(2026, 12, 23, 20, 0))
    clocks = {c.target: c for c in SlaClock.objects.filter(work_order=wo)}
    assert clocks["response"].due_at == at(2026, 12, 28, 9, 0)
    engine.scan(now=at(2026, 12, 28, 9, 45))
    wo.refresh_from_db()
    view = work_order_sla(actor=world.dispatcher, work_order=wo, now=at(2026, 12, 28, 9, 45))
    assert "That is outside working hours: the clock starts running Mon 28 Dec 08:00." in view.explanation
    assert "Holidays without working time: Thu 24 Dec, Fri 25 Dec." in view.explanation
    assert view.calendar.holidays == [date(2026, 12, 24), date(2026, 12, 25)]
    statuses = {s.target: s for s in view.statuses}
    assert statuses["response"].state == "breached"
    assert statuses["response"].remaining_minutes == -45
    assert "Response breached: it was due Mon 28 Dec 09:00; overdue 45 min." in view.explanation
    assert statuses["resolution"].state == "at_risk"  # 80 % of 2 h used at 09:36
    assert "Resolution due Mon 28 Dec 10:00; at risk since Mon 28 Dec 09:36." in view.explanation
    assert view.state == "breached"


def test_no_sla_gives_none(world):
    wo = create_wo(world, at(2026, 11, 27, 16, 0))
    wo.sla.delete()
    assert work_order_sla(actor=world.dispatcher, work_order=wo) is None


def test_reopened_work_keeps_the_earlier_cycle(world):
    office_policy(world)
    wo = create_wo(world, at(2026, 11, 23, 9, 0))
    move(world, wo, at(2026, 11, 23, 9, 30), "in_progress")
    move(world, wo, at(2026, 11, 23, 11, 0), "completed", resolution_notes="Fixed")
    move(world, wo, at(2026, 11, 24, 9, 0), "in_progress", actor=world.dispatcher, reason="Leaks again")
    wo.refresh_from_db()
    view = work_order_sla(actor=world.dispatcher, work_order=wo, now=at(2026, 11, 24, 10, 0))
    assert [(c.target, c.cycle, c.state) for c in view.cycles] == [("resolution", 1, "met")]
    resolution = {s.target: s for s in view.statuses}["resolution"]
    assert resolution.cycle == 2 and resolution.due_at == at(2026, 11, 25, 9, 0)
    assert "Resolution cycle 2 started Tue 24 Nov 09:00 when the work order was reopened." in view.explanation


# ---------------------------------------------------------------------------------------------
# compliance


def test_compliance_counts_per_client_priority_month_and_cycles(world):
    office_policy(world, response=60, resolution=120, clients=[world.client, world.other_client])
    # October, Stadtwerke, high: response met, resolution breached
    a = create_wo(world, at(2026, 10, 5, 9, 0), priority="high")
    move(world, a, at(2026, 10, 5, 9, 30), "in_progress")
    move(world, a, at(2026, 10, 5, 13, 0), "completed", resolution_notes="Done")
    # November, Stadtwerke, normal: response met, resolution met, then reopened: cycle 2 open
    b = create_wo(world, at(2026, 11, 2, 9, 0))
    move(world, b, at(2026, 11, 2, 9, 10), "in_progress")
    move(world, b, at(2026, 11, 2, 10, 0), "completed", resolution_notes="Done")
    move(world, b, at(2026, 11, 3, 9, 0), "in_progress", actor=world.dispatcher, reason="Again")
    # November, Bäckerei, normal: both open; then a cancelled one that is left out
    create_wo(world, at(2026, 11, 10, 9, 0), site=world.other_site)
    d = create_wo(world, at(2026, 11, 11, 9, 0), site=world.other_site)
    move(world, d, at(2026, 11, 11, 9, 5), "cancelled", actor=world.dispatcher, reason="Duplicate")
    # outside the range
    create_wo(world, at(2026, 12, 1, 9, 0))

    report = compliance_report(actor=world.accountant, date_from=date(2026, 10, 1), date_to=date(2026, 12, 1))
    assert (report.totals.met, report.totals.breached, report.totals.open) == (3, 1, 3)
    assert report.totals.compliance_percent == 75.0
    clients = {r.label: (r.met, r.breached, r.open) for r in report.by_client}
    assert clients == {"Stadtwerke": (3, 1, 1), "Bäckerei Kühn": (0, 0, 2)}
    assert [r.label for r in report.by_client] == ["Bäckerei Kühn", "Stadtwerke"]
    assert {r.key: (r.met, r.breached, r.open) for r in report.by_priority} == {"high": (1, 1, 0), "normal": (2, 0, 3)}
    assert [(r.key, r.met, r.breached, r.open) for r in report.by_month] == [
        ("2026-10", 1, 1, 0),
        ("2026-11", 2, 0, 3),
    ]
    assert {r.key: (r.met, r.breached, r.open) for r in report.by_target} == {
        "response": (2, 0, 1),
        "resolution": (1, 1, 2),
    }

    only = compliance_report(
        actor=world.admin,
        date_from="2026-10-01",
        date_to="2026-12-01",
        client_id=world.client.pk,
        target="resolution",
    )
    assert (only.totals.met, only.totals.breached, only.totals.open) == (1, 1, 1)
    assert only.totals.compliance_percent == 50.0
    high = compliance_report(actor=world.admin, date_from="2026-10-01", date_to="2026-11-01", priority="high")
    assert (high.totals.met, high.totals.breached) == (1, 1)
    assert [r.key for r in high.by_month] == ["2026-10"]
    assert high.as_dict()["totals"] == {
        "key": "total",
        "label": "Total",
        "met": 1,
        "breached": 1,
        "open": 0,
        "total": 2,
        "compliance_percent": 50.0,
    }


def test_compliance_dates_are_the_organizations(world):
    office_policy(world)
    # 00:30 on 1 November in Berlin is still October in UTC: it counts for November
    create_wo(world, at(2026, 11, 1, 0, 30))
    report = compliance_report(actor=world.admin, date_from=date(2026, 11, 1), date_to=date(2026, 11, 2))
    assert report.totals.open == 2
    assert [r.key for r in report.by_month] == ["2026-11"] and report.by_month[0].open == 2
    october = compliance_report(actor=world.admin, date_from=date(2026, 10, 1), date_to=date(2026, 11, 1))
    assert october.totals.total == 0 and october.totals.compliance_percent is None


@pytest.mark.parametrize("role", ["client_user", "other_client_user", "technician", "requester"])
def test_compliance_report_is_not_for_clients_or_field_roles(world, role):
    office_policy(world)
    create_wo(world, at(2026, 11, 2, 9, 0))
    with pytest.raises(DomainError) as err:
        compliance_report(actor=getattr(world, role), date_from="2026-11-01", date_to="2026-12-01")
    assert err.value.code == ErrorCode.PERMISSION_DENIED


def test_compliance_report_stays_in_the_organization(world, other_world):
    office_policy(world)
    create_wo(world, at(2026, 11, 2, 9, 0))
    report = compliance_report(actor=other_world.admin, date_from="2026-11-01", date_to="2026-12-01")
    assert report.totals.total == 0 and report.by_client == []
    with pytest.raises(DomainError) as err:
        compliance_report(
            actor=other_world.admin, date_from="2026-11-01", date_to="2026-12-01", client_id=world.client.pk
        )
    assert err.value.code == ErrorCode.VALIDATION


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"date_from": "2026-12-01", "date_to": "2026-11-01"}, "date_to"),
        ({"date_from": "yesterday", "date_to": "2026-11-01"}, "date_from"),
        ({"priority": "urgent"}, "priority"),
        ({"target": "closing"}, "target"),
        ({"client_id": "abc"}, "client"),
    ],
)
def test_compliance_report_rejects_bad_input(world, kwargs, field):
    args = {"date_from": "2026-11-01", "date_to": "2026-12-01", **kwargs}
    with pytest.raises(DomainError) as err:
        compliance_report(actor=world.admin, **args)
    assert err.value.code == ErrorCode.VALIDATION and err.value.field == field
