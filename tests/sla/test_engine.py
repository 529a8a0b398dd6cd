"""The SLA engine through the services: policies, snapshots, clocks, pauses, cycles and the scan.

Times are frozen with ``fixflow.core.clock.frozen_at``. Unless a test says otherwise the work orders
are for Stadtwerke (``world.client``), whose policy counts in an office calendar in Europe/Berlin
(Monday to Friday 08:00–17:00) with the normal targets response 60 and resolution 540 business
minutes (at risk at 80 %). June 2026: Mon 1, Tue 2, Wed 3, Thu 4, Fri 5, Sat 6, Sun 7, Mon 8.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fixflow.core.clock import frozen_at
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import services as wo_services
from fixflow.service.models import WorkOrder, WorkRequest
from fixflow.sla import engine
from fixflow.sla import services as sla_services
from fixflow.sla.models import BusinessCalendar, SlaClock, SlaNotification, SlaPause, SlaPolicy, WorkOrderSla
from tests.conftest import build_other_world
from tests.factories import EquipmentFactory

BERLIN = ZoneInfo("Europe/Berlin")
PRIORITIES = ("critical", "high", "normal", "low")


def at(*parts) -> datetime:
    """A Berlin wall time."""
    return datetime(*parts, tzinfo=BERLIN)


MON = (2026, 6, 1)
TUE = (2026, 6, 2)


def targets(**by_priority) -> dict:
    """Normal 60/540; other priorities as given (critical 30/120 by default)."""
    base = {"critical": (30, 120), "high": (60, 240), "normal": (60, 540), "low": (240, 1080)}
    base.update(by_priority)
    return {p: {"response": r, "resolution": s} for p, (r, s) in base.items()}


@pytest.fixture
def office(world):
    return sla_services.calendar_create(actor=world.admin, data={"name": "Office", "timezone": "Europe/Berlin"})


@pytest.fixture
def policy(world, office):
    return sla_services.policy_create(
        actor=world.admin,
        data={"name": "Stadtwerke", "calendar_id": office.pk, "client_ids": [world.client.pk], "targets": targets()},
    )


def create(world, when, **kwargs) -> WorkOrder:
    kwargs.setdefault("site_id", world.site.pk)
    kwargs.setdefault(
        "equipment_id", world.equipment.pk if kwargs["site_id"] == world.site.pk else world.other_equipment.pk
    )
    kwargs.setdefault("lead_technician_id", world.technician.user_id)
    with frozen_at(when):
        return wo_services.work_order_create(actor=world.dispatcher, title="Pump leaks", **kwargs)


def move(world, wo, when, to, *, actor=None, **kwargs) -> WorkOrder:
    if to == "completed":
        kwargs.setdefault("resolution_notes", "Seal replaced.")
    if to in ("cancelled",) or (
        to == "in_progress" and WorkOrder.objects.get(pk=wo.pk).status in ("completed", "closed")
    ):
        kwargs.setdefault("reason", "Client asked")
        actor = actor or world.dispatcher
    if to == "closed":
        actor = actor or world.dispatcher
    with frozen_at(when):
        return wo_services.work_order_transition(actor=actor or world.technician, work_order_id=wo.pk, to=to, **kwargs)


def update(world, wo, when, **data) -> WorkOrder:
    with frozen_at(when):
        return wo_services.work_order_update(actor=world.dispatcher, work_order_id=wo.pk, data=data)


def clocks(wo) -> dict[str, SlaClock]:
    return {c.target: c for c in SlaClock.objects.filter(work_order=wo, is_current=True)}


def summary(wo) -> tuple[str, datetime | None]:
    wo = WorkOrder.objects.get(pk=wo.pk)
    return wo.sla_state, wo.sla_due_at


def clock_values(wo) -> list[dict]:
    """Everything a clock says (``updated_at`` apart: a transition may save a row unchanged)."""
    return [
        {k: v for k, v in row.items() if k != "updated_at"}
        for row in SlaClock.objects.filter(work_order=wo).order_by("pk").values()
    ]


def notifications(wo) -> list[tuple]:
    return sorted(
        SlaNotification.objects.filter(work_order=wo).values_list("target", "level", "cycle"), key=lambda k: k
    )


# ---------------------------------------------------------------------------------------------
# policies: which one applies (rule 1)


@pytest.fixture
def ordered_policies(world, office):
    """Five policies, one per kind of condition, checked in this order."""
    names = {}
    conditions = [
        ("Bakery", {"client_ids": [world.other_client.pk]}),
        ("Critical", {"priorities": ["critical"]}),
        ("Pump house", {"site_ids": [world.site.pk], "types": ["inspection"]}),
        ("Preventive", {"types": ["preventive"]}),
        ("Critical machines", {"criticalities": ["critical"]}),
    ]
    for name, data in conditions:
        names[name] = sla_services.policy_create(
            actor=world.admin, data={"name": name, "calendar_id": office.pk, "targets": targets(), **data}
        )
    return names


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "Standard"),  # nothing matches: the default policy
        ({"other": True}, "Bakery"),  # client condition
        ({"other": True, "priority": "critical"}, "Bakery"),  # both match: the first in order wins
        ({"priority": "critical"}, "Critical"),  # priority condition
        ({"type": "inspection"}, "Pump house"),  # site and type: both must match
        ({"other": True, "type": "inspection", "no_client": True}, "Standard"),  # type matches, site does not
        ({"type": "preventive"}, "Preventive"),
        ({"critical_machine": True}, "Critical machines"),  # equipment criticality
    ],
)
def test_the_first_matching_policy_applies(world, ordered_policies, kwargs, expected):
    kwargs = dict(kwargs)
    if kwargs.pop("no_client", False):
        sla_services.policy_update(
            actor=world.admin, policy_id=ordered_policies["Bakery"].pk, data={"is_active": False}
        )
    if kwargs.pop("other", False):
        kwargs.update(site_id=world.other_site.pk, equipment_id=world.other_equipment.pk)
    if kwargs.pop("critical_machine", False):
        kwargs["equipment_id"] = EquipmentFactory(site=world.site, criticality="critical").pk
    wo = create(world, at(*MON, 10, 0), **kwargs)
    assert wo.sla.policy_name == expected


def test_policy_order_can_be_changed_and_inactive_policies_are_skipped(world, ordered_policies):
    # the critical bakery work order: Bakery first
    wo = create(world, at(*MON, 10, 0), site_id=world.other_site.pk, priority="critical")
    assert wo.sla.policy_name == "Bakery"
    order = sla_services.policy_move(actor=world.admin, policy_id=ordered_policies["Critical"].pk, position=1)
    assert [p.name for p in order][:2] == ["Critical", "Bakery"]
    wo = create(world, at(*MON, 10, 0), site_id=world.other_site.pk, priority="critical")
    assert wo.sla.policy_name == "Critical"
    sla_services.policy_update(actor=world.admin, policy_id=ordered_policies["Critical"].pk, data={"is_active": False})
    wo = create(world, at(*MON, 10, 0), site_id=world.other_site.pk, priority="critical")
    assert wo.sla.policy_name == "Bakery"


def test_the_default_policy_exists_and_stays_unconditional(world):
    wo = create(world, at(*MON, 10, 0))
    default = SlaPolicy.objects.get(organization=world.org, is_default=True)
    assert wo.sla.policy_id == default.pk and default.calendar.is_24x7
    # the 24×7 default: response 480 real minutes for normal
    assert clocks(wo)["response"].due_at == at(*MON, 18, 0)
    with pytest.raises(DomainError) as exc:
        sla_services.policy_delete(actor=world.admin, policy_id=default.pk)
    assert exc.value.code == ErrorCode.CONFLICT
    with pytest.raises(DomainError) as exc:
        sla_services.policy_update(actor=world.admin, policy_id=default.pk, data={"is_active": False})
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "is_active")
    for condition in (
        {"client_ids": [world.client.pk]},
        {"site_ids": [world.site.pk]},
        {"priorities": ["high"]},
        {"types": ["preventive"]},
        {"criticalities": ["high"]},
    ):
        with pytest.raises(DomainError) as exc:
            sla_services.policy_update(actor=world.admin, policy_id=default.pk, data=condition)
        assert exc.value.code == ErrorCode.VALIDATION
    default.refresh_from_db()
    assert default.is_active and default.priorities == [] and default.version == 1
    with pytest.raises(DomainError) as exc:
        sla_services.policy_move(actor=world.admin, policy_id=default.pk, position=1)
    assert exc.value.field == "position"


# ---------------------------------------------------------------------------------------------
# snapshot (rule 4)


def test_later_edits_do_not_change_an_open_work_order_until_recalculated(world, office, policy):
    wo = create(world, at(*MON, 10, 0))
    before = clocks(wo)
    assert before["response"].due_at == at(*MON, 11, 0)
    assert before["resolution"].due_at == at(*TUE, 10, 0)
    sla_services.policy_update(actor=world.admin, policy_id=policy.pk, data={"targets": targets(normal=(30, 540))})
    sla_services.holiday_add(actor=world.admin, calendar_id=office.pk, day="2026-06-02", name="Closed")
    sla_services.calendar_update(
        actor=world.admin, calendar_id=office.pk, data={"week": [[["09:00", "17:00"]]] * 5 + [[], []]}
    )
    after = clocks(wo)
    assert after["response"].due_at == at(*MON, 11, 0)
    assert after["resolution"].due_at == at(*TUE, 10, 0)
    sla = WorkOrderSla.objects.get(work_order=wo)
    assert sla.targets["normal"] == {"response": 60, "resolution": 540}
    assert sla.calendar["week"][0] == [["08:00", "17:00"]] and sla.calendar["holidays"] == []
    assert sla.policy_version == 1
    # a new work order gets the new rules at once
    fresh = create(world, at(*MON, 10, 0))
    assert clocks(fresh)["response"].due_at == at(*MON, 10, 30)

    with frozen_at(at(*MON, 10, 20)):
        sla_services.work_order_recalculate(actor=world.dispatcher, work_order_id=wo.pk)
    now = clocks(wo)
    assert now["response"].due_at == at(*MON, 10, 30)
    # 540 min from Mon 10:00 with 09:00–17:00 days and Tue a holiday: Mon 7 h, Wed 09:00 + 2 h
    assert now["resolution"].due_at == at(2026, 6, 3, 11, 0)
    sla.refresh_from_db()
    assert sla.policy_version == 2 and sla.calendar["holidays"] == ["2026-06-02"]
    assert sla.started_at == at(*MON, 10, 0) and sla.recalculated_at == at(*MON, 10, 20)


def test_recalculate_keeps_met_times_and_judges_again(world, office, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 50), "in_progress")  # response met at 10:50 (due 11:00)
    sla_services.policy_update(actor=world.admin, policy_id=policy.pk, data={"targets": targets(normal=(30, 540))})
    with frozen_at(at(*MON, 11, 0)):
        sla_services.work_order_recalculate(actor=world.dispatcher, work_order_id=wo.pk)
    response = clocks(wo)["response"]
    # under the new 30-minute target, 10:50 is late: breached at the new due, met time kept
    assert (response.state, response.met_at, response.breached_at) == ("breached", at(*MON, 10, 50), at(*MON, 10, 30))


def test_recalculate_refuses_finished_and_foreign_work_orders(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    move(world, wo, at(*MON, 11, 0), "completed")
    with pytest.raises(DomainError) as exc:
        sla_services.work_order_recalculate(actor=world.dispatcher, work_order_id=wo.pk)
    assert exc.value.code == ErrorCode.CONFLICT
    other = build_other_world()
    with pytest.raises(DomainError) as exc:
        sla_services.work_order_recalculate(actor=other.admin, work_order_id=wo.pk)
    assert exc.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as exc:
        sla_services.work_order_recalculate(actor=world.technician, work_order_id=wo.pk)
    assert exc.value.code == ErrorCode.PERMISSION_DENIED


# ---------------------------------------------------------------------------------------------
# response and resolution (rule 6)


def test_response_is_met_at_the_first_start(world, policy):
    wo = create(world, at(*MON, 10, 0))
    c = clocks(wo)
    assert (c["response"].state, c["response"].due_at, c["response"].at_risk_at) == (
        "pending",
        at(*MON, 11, 0),
        at(*MON, 10, 48),
    )
    assert summary(wo) == ("pending", at(*MON, 11, 0))
    move(world, wo, at(*MON, 10, 59), "in_progress")
    response = clocks(wo)["response"]
    assert (response.state, response.met_at, response.breached_at) == ("met", at(*MON, 10, 59), None)
    assert summary(wo) == ("pending", at(*TUE, 10, 0))  # the resolution is what is still open


def test_a_start_exactly_at_the_due_instant_is_in_time(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 11, 0), "in_progress")
    assert clocks(wo)["response"].state == "met"


def test_a_late_start_breaches_the_response_for_good(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 11, 0, 1), "in_progress")
    response = clocks(wo)["response"]
    assert (response.state, response.met_at, response.breached_at) == ("breached", at(*MON, 11, 0, 1), at(*MON, 11))
    # holding, resuming, completing and another scan leave it breached
    move(world, wo, at(*MON, 12, 0), "on_hold", hold_reason="waiting_for_parts")
    move(world, wo, at(*MON, 13, 0), "in_progress")
    move(world, wo, at(*MON, 14, 0), "completed")
    engine.scan(now=at(*MON, 15, 0))
    c = clocks(wo)
    # reached at the first start, not again at resuming
    assert (c["response"].state, c["response"].breached_at, c["response"].met_at) == (
        "breached",
        at(*MON, 11, 0),
        at(*MON, 11, 0, 1),
    )
    # the badge says how late it was reached, not how long ago the due instant is
    sla = WorkOrderSla.objects.get(work_order=wo)
    assert engine.clock_status(c["response"], sla, at(*MON, 15, 0)).remaining_minutes == -1
    assert (c["resolution"].state, c["resolution"].met_at) == ("met", at(*MON, 14, 0))
    assert summary(wo) == ("breached", at(*MON, 11, 0))


def test_response_met_at_assignment_when_the_policy_says_so(world, policy):
    sla_services.policy_update(actor=world.admin, policy_id=policy.pk, data={"response_met_on": "assignment"})
    wo = create(world, at(*MON, 10, 0), lead_technician_id=None)
    assert clocks(wo)["response"].state == "pending"
    update(world, wo, at(*MON, 10, 20), lead_technician_id=world.technician.user_id)
    response = clocks(wo)["response"]
    assert (response.state, response.met_at) == ("met", at(*MON, 10, 20))
    # assigned at creation: met at once
    wo = create(world, at(*MON, 11, 0))
    assert (clocks(wo)["response"].state, clocks(wo)["response"].met_at) == ("met", at(*MON, 11, 0))


def test_assignment_does_not_meet_the_response_by_default(world, policy):
    wo = create(world, at(*MON, 10, 0), lead_technician_id=None)
    update(world, wo, at(*MON, 10, 20), lead_technician_id=world.technician.user_id)
    assert clocks(wo)["response"].state == "pending"


def test_resolution_met_on_completion_and_closing_recomputes_nothing(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    move(world, wo, at(*TUE, 10, 0), "completed")  # exactly at the due instant
    resolution = clocks(wo)["resolution"]
    assert (resolution.state, resolution.met_at) == ("met", at(*TUE, 10, 0))
    assert summary(wo) == ("met", None)
    rows = clock_values(wo)
    move(world, wo, at(2026, 6, 10, 9, 0), "closed")  # a week later, long after every due instant
    engine.scan(now=at(2026, 6, 10, 9, 1))
    assert clock_values(wo) == rows
    assert summary(wo) == ("met", None)


def test_a_late_completion_breaches_the_resolution(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    move(world, wo, at(*TUE, 10, 1), "completed")
    resolution = clocks(wo)["resolution"]
    assert (resolution.state, resolution.breached_at, resolution.met_at) == (
        "breached",
        at(*TUE, 10, 0),
        at(*TUE, 10, 1),
    )


# ---------------------------------------------------------------------------------------------
# pauses (rule 7)


def test_waiting_for_parts_pauses_the_resolution_clock(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    move(world, wo, at(*MON, 11, 0), "on_hold", hold_reason="waiting_for_parts")
    c = clocks(wo)
    assert (c["resolution"].state, c["resolution"].due_at, c["resolution"].paused_since) == (
        "paused",
        None,
        at(*MON, 11, 0),
    )
    assert c["response"].state == "met"  # the response clock does not pause
    assert summary(wo) == ("paused", None)
    # a scan long after the due instant leaves a paused clock alone
    assert engine.scan(now=at(*TUE, 12, 0)) == {"at_risk": 0, "breached": 0}
    move(world, wo, at(*MON, 14, 0), "in_progress")
    resolution = clocks(wo)["resolution"]
    assert (resolution.state, resolution.paused_seconds, resolution.paused_since) == ("pending", 3 * 3600, None)
    # due = Mon 10:00 + 9 h + 3 h paused: Mon 7 h, Tue 08:00 + 5 h
    assert resolution.due_at == at(*TUE, 13, 0)
    # at risk = 80 % of 540 = 432 min + 180 paused: Mon 420, Tue 08:00 + 192 min
    assert resolution.at_risk_at == at(*TUE, 11, 12)
    pause = SlaPause.objects.get(work_order=wo)
    assert (pause.started_at, pause.ended_at, pause.reason, pause.business_seconds) == (
        at(*MON, 11, 0),
        at(*MON, 14, 0),
        "waiting_for_parts",
        3 * 3600,
    )
    assert summary(wo) == ("pending", at(*TUE, 13, 0))


def test_waiting_for_access_does_not_pause(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    move(world, wo, at(*MON, 11, 0), "on_hold", hold_reason="waiting_for_access")
    resolution = clocks(wo)["resolution"]
    assert (resolution.state, resolution.due_at, resolution.paused_since) == ("pending", at(*TUE, 10, 0), None)
    move(world, wo, at(*MON, 14, 0), "in_progress")
    resolution = clocks(wo)["resolution"]
    assert (resolution.paused_seconds, resolution.due_at) == (0, at(*TUE, 10, 0))
    assert not SlaPause.objects.filter(work_order=wo).exists()


def test_a_pause_over_the_weekend_counts_business_time_only(world, policy):
    friday = (2026, 6, 5)
    wo = create(world, at(*friday, 16, 0))
    c = clocks(wo)
    assert c["response"].due_at == at(*friday, 17, 0)
    assert c["resolution"].due_at == at(2026, 6, 8, 16, 0)  # 1 h Friday + 8 h Monday
    move(world, wo, at(*friday, 16, 30), "in_progress")
    move(world, wo, at(*friday, 16, 30), "on_hold", hold_reason="waiting_for_client")
    # resumed Monday 10:00: paused 30 min on Friday + 2 h on Monday
    move(world, wo, at(2026, 6, 8, 10, 0), "in_progress")
    resolution = clocks(wo)["resolution"]
    assert resolution.paused_seconds == 150 * 60
    # Fri 16:00 + 540 + 150 = 690 min: 60 Friday, 540 Monday, Tuesday 08:00 + 90 min
    assert resolution.due_at == at(2026, 6, 9, 9, 30)


def test_several_pauses_are_summed(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    move(world, wo, at(*MON, 11, 0), "on_hold", hold_reason="waiting_for_client")
    move(world, wo, at(*MON, 11, 30), "in_progress")  # 30 min
    move(world, wo, at(*MON, 12, 0), "on_hold", hold_reason="waiting_for_access")  # does not pause
    move(world, wo, at(*MON, 13, 0), "in_progress")
    move(world, wo, at(*MON, 16, 0), "on_hold", hold_reason="waiting_for_parts")
    move(world, wo, at(*TUE, 9, 0), "in_progress")  # 1 h Monday + 1 h Tuesday
    resolution = clocks(wo)["resolution"]
    assert resolution.paused_seconds == 150 * 60
    assert list(SlaPause.objects.filter(work_order=wo).values_list("business_seconds", flat=True)) == [1800, 7200]
    # Mon 10:00 + 540 + 150 = 690 min: Mon 420, Tue 08:00 + 270 min
    assert resolution.due_at == at(*TUE, 12, 30)


def test_a_breached_clock_is_not_paused(world, policy):
    """Breach is sticky: holding a breached work order must not move its due instant."""
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    engine.scan(now=at(*TUE, 10, 0))
    assert clocks(wo)["resolution"].state == "breached"
    move(world, wo, at(*TUE, 11, 0), "on_hold", hold_reason="waiting_for_parts")
    move(world, wo, at(*TUE, 15, 0), "in_progress")
    resolution = clocks(wo)["resolution"]
    assert (resolution.state, resolution.due_at, resolution.breached_at) == ("breached", at(*TUE, 10), at(*TUE, 10))
    assert summary(wo) == ("breached", at(*TUE, 10, 0))


# ---------------------------------------------------------------------------------------------
# priority changes (rule 8)


def test_priority_raised_late_breaches_at_once(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 10), "in_progress")
    update(world, wo, at(*MON, 13, 0), priority="critical")
    c = clocks(wo)
    # critical resolution: 120 min from the same start, Mon 12:00, already past at 13:00
    assert (c["resolution"].state, c["resolution"].due_at, c["resolution"].breached_at) == (
        "breached",
        at(*MON, 12, 0),
        at(*MON, 12, 0),
    )
    assert (c["resolution"].priority, c["resolution"].target_minutes) == ("critical", 120)
    assert c["response"].state == "met"  # met at 10:10, within the critical 30 minutes too
    assert summary(wo) == ("breached", at(*MON, 12, 0))
    assert notifications(wo) == [("resolution", "breached", 1)]


def test_priority_raised_in_time_swaps_the_targets_keeping_start_and_pauses(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 10), "in_progress")
    move(world, wo, at(*MON, 10, 30), "on_hold", hold_reason="waiting_for_parts")
    move(world, wo, at(*MON, 11, 0), "in_progress")  # 30 min paused
    update(world, wo, at(*MON, 11, 15), priority="critical")
    resolution = clocks(wo)["resolution"]
    # 10:00 + 120 + 30 paused = 12:30; at risk after 96 min + 30 paused = 12:06
    assert (resolution.due_at, resolution.at_risk_at, resolution.state) == (
        at(*MON, 12, 30),
        at(*MON, 12, 6),
        "pending",
    )
    assert notifications(wo) == []


def test_priority_raised_past_the_at_risk_instant_is_at_risk_at_once(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 10), "in_progress")
    update(world, wo, at(*MON, 11, 40), priority="critical")  # at risk 11:36, due 12:00
    resolution = clocks(wo)["resolution"]
    assert (resolution.state, resolution.at_risk_at, resolution.due_at) == ("at_risk", at(*MON, 11, 36), at(*MON, 12))
    assert summary(wo) == ("at_risk", at(*MON, 12, 0))
    assert notifications(wo) == [("resolution", "at_risk", 1)]


def test_priority_lowered_keeps_met_met_and_breached_breached(world, policy):
    wo = create(world, at(*MON, 10, 0), priority="critical")
    move(world, wo, at(*MON, 10, 20), "in_progress")  # response met (due 10:30)
    engine.scan(now=at(*MON, 12, 0))  # resolution due 12:00: breached
    update(world, wo, at(*MON, 12, 30), priority="low")
    c = clocks(wo)
    assert (c["response"].state, c["response"].met_at, c["response"].target_minutes) == ("met", at(*MON, 10, 20), 30)
    assert (c["resolution"].state, c["resolution"].breached_at, c["resolution"].due_at) == (
        "breached",
        at(*MON, 12, 0),
        at(*MON, 12, 0),
    )
    assert summary(wo) == ("breached", at(*MON, 12, 0))


def test_priority_lowered_while_at_risk_is_judged_again(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 10), "in_progress")
    engine.scan(now=at(*TUE, 8, 12))  # 432 min used: at risk
    assert clocks(wo)["resolution"].state == "at_risk"
    update(world, wo, at(*TUE, 8, 30), priority="low")  # 1080 min: Mon 420, Tue 540, Wed 08:00 + 120
    resolution = clocks(wo)["resolution"]
    assert (resolution.state, resolution.due_at) == ("pending", at(2026, 6, 3, 10, 0))


# ---------------------------------------------------------------------------------------------
# reopen and cancel (rule 11)


@pytest.mark.parametrize("closed_first", [False, True])
def test_reopen_starts_a_new_resolution_cycle_and_keeps_the_old_one(world, policy, closed_first):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    move(world, wo, at(*MON, 15, 0), "completed")
    if closed_first:
        move(world, wo, at(*MON, 16, 0), "closed")
    move(world, wo, at(*TUE, 9, 0), "in_progress")  # reopened
    old, new = SlaClock.objects.filter(work_order=wo, target="resolution").order_by("cycle")
    assert (old.cycle, old.is_current, old.state, old.met_at) == (1, False, "met", at(*MON, 15, 0))
    assert (new.cycle, new.is_current, new.state, new.started_at) == (2, True, "pending", at(*TUE, 9, 0))
    assert new.due_at == at(2026, 6, 3, 9, 0)  # a full new target from the reopen
    response = clocks(wo)["response"]
    assert (response.cycle, response.state, response.met_at) == (1, "met", at(*MON, 10, 30))
    assert summary(wo) == ("pending", at(2026, 6, 3, 9, 0))
    # the new cycle has its own breach and notification key; the old one is left alone by the scan
    engine.scan(now=at(2026, 6, 3, 9, 0))
    assert clocks(wo)["resolution"].state == "breached"
    assert SlaClock.objects.get(pk=old.pk).state == "met"
    assert notifications(wo) == [("resolution", "breached", 2)]
    move(world, wo, at(2026, 6, 3, 10, 0), "completed")
    assert clocks(wo)["resolution"].state == "breached"


def test_cancel_cancels_running_clocks_and_keeps_breaches(world, policy):
    wo = create(world, at(*MON, 10, 0))
    engine.scan(now=at(*MON, 11, 0))  # response breached
    move(world, wo, at(*MON, 12, 0), "cancelled")
    c = clocks(wo)
    assert (c["response"].state, c["resolution"].state) == ("breached", "cancelled")


def test_cancel_while_paused_ends_the_pause(world, policy):
    wo = create(world, at(*MON, 10, 0))
    move(world, wo, at(*MON, 10, 30), "in_progress")
    move(world, wo, at(*MON, 11, 0), "on_hold", hold_reason="waiting_for_parts")
    move(world, wo, at(*MON, 12, 0), "cancelled")
    c = clocks(wo)
    assert (c["response"].state, c["resolution"].state, c["resolution"].paused_since) == ("met", "cancelled", None)
    assert SlaPause.objects.get(work_order=wo).ended_at == at(*MON, 12, 0)
    assert summary(wo) == ("met", None)
    assert engine.scan(now=at(2026, 6, 10, 12, 0)) == {"at_risk": 0, "breached": 0}


# ---------------------------------------------------------------------------------------------
# from a request; zones


def test_a_work_order_from_a_request_starts_at_the_request_arrival(world, policy):
    sla_services.policy_update(actor=world.admin, policy_id=policy.pk, data={"targets": targets(normal=(240, 540))})
    request = wo_services.work_request_create(actor=world.requester, title="Water on the floor", site_id=world.site.pk)
    arrived = at(2026, 5, 29, 16, 0)  # Friday
    WorkRequest.objects.filter(pk=request.pk).update(created_at=arrived)
    with frozen_at(at(*MON, 9, 0)):
        wo = wo_services.work_request_convert(
            actor=world.dispatcher, request_id=request.pk, equipment_id=world.equipment.pk
        )
    assert wo.sla.started_at == arrived and wo.sla.applied_at == at(*MON, 9, 0)
    c = clocks(wo)
    # response 240: 1 h Friday, Monday 08:00 + 3 h; at risk at 192 min: Monday 10:12
    assert (c["response"].started_at, c["response"].due_at, c["response"].at_risk_at) == (
        arrived,
        at(*MON, 11, 0),
        at(*MON, 10, 12),
    )
    assert c["resolution"].due_at == at(*MON, 16, 0)  # 1 h Friday + 8 h Monday
    assert c["response"].state == "pending"


def test_a_work_order_created_after_its_due_instant_is_breached_and_escalated(world, policy):
    request = wo_services.work_request_create(actor=world.requester, title="Water on the floor", site_id=world.site.pk)
    WorkRequest.objects.filter(pk=request.pk).update(created_at=at(2026, 5, 29, 15, 0))  # response due 16:00
    with frozen_at(at(*MON, 9, 0)):
        wo = wo_services.work_request_convert(
            actor=world.dispatcher, request_id=request.pk, equipment_id=world.equipment.pk
        )
    response = clocks(wo)["response"]
    assert (response.state, response.breached_at) == ("breached", at(2026, 5, 29, 16, 0))
    assert summary(wo)[0] == "breached"
    assert notifications(wo) == [("response", "breached", 1)]


def test_holidays_are_snapshotted_by_the_calendar_local_date(world):
    """New York calendar, created on Wed 3 June 03:30Z (Tue 23:30 in New York): Tuesday's holiday
    is still part of the snapshot although the server's (UTC) date is already Wednesday."""
    new_york = ZoneInfo("America/New_York")
    cal = sla_services.calendar_create(
        actor=world.admin,
        data={"name": "Night desk", "timezone": "America/New_York", "week": [[["00:00", "24:00"]]] * 7},
    )
    sla_services.holiday_add(actor=world.admin, calendar_id=cal.pk, day="2026-06-02")
    sla_services.policy_create(
        actor=world.admin,
        data={"name": "US", "calendar_id": cal.pk, "client_ids": [world.client.pk], "targets": targets()},
    )
    wo = create(world, datetime(2026, 6, 3, 3, 30, tzinfo=UTC))
    assert wo.sla.calendar["holidays"] == ["2026-06-02"]
    # response 60: Tuesday's last half hour is a holiday, so Wednesday 00:00 + 60 min
    assert clocks(wo)["response"].due_at == datetime(2026, 6, 3, 1, 0, tzinfo=new_york)


def test_a_site_far_from_the_server_counts_in_its_calendar(world):
    """The server runs in UTC; a Kolkata calendar counts Kolkata's office hours."""
    kolkata = ZoneInfo("Asia/Kolkata")
    cal = sla_services.calendar_create(actor=world.admin, data={"name": "Pune", "timezone": "Asia/Kolkata"})
    sla_services.policy_create(
        actor=world.admin,
        data={"name": "India", "calendar_id": cal.pk, "client_ids": [world.client.pk], "targets": targets()},
    )
    wo = create(world, datetime(2026, 6, 5, 11, 0, tzinfo=UTC))  # Friday 16:30 in Kolkata
    c = clocks(wo)
    assert c["response"].due_at == datetime(2026, 6, 8, 8, 30, tzinfo=kolkata)  # 30 min Fri + 30 min Mon
    assert c["resolution"].due_at == datetime(2026, 6, 8, 16, 30, tzinfo=kolkata)  # 30 min Fri + 510 Mon


def test_24x7_counts_real_time_across_dst(world):
    """The default 24×7 policy: normal resolution 2400 min = 40 real hours, also over the DST night."""
    wo = create(world, at(2026, 3, 28, 12, 0))
    assert clocks(wo)["resolution"].due_at == at(2026, 3, 30, 5, 0)  # 40 h later, on the 23-hour Sunday


# ---------------------------------------------------------------------------------------------
# the breach scan (rule 9) and escalation keys (rule 10)


def test_the_scan_moves_clocks_exactly_at_their_instants(world, policy):
    wo = create(world, at(*MON, 10, 0))  # response at risk 10:48, due 11:00
    other = create(world, at(*MON, 10, 30))  # response at risk 11:18, due 11:30
    untouched = list(SlaClock.objects.filter(work_order=other).order_by("pk").values())

    assert engine.scan(now=at(*MON, 10, 47, 59)) == {"at_risk": 0, "breached": 0}
    assert clocks(wo)["response"].state == "pending"
    assert engine.scan(now=at(*MON, 10, 48)) == {"at_risk": 1, "breached": 0}
    assert clocks(wo)["response"].state == "at_risk"
    assert summary(wo) == ("at_risk", at(*MON, 11, 0))
    assert engine.scan(now=at(*MON, 10, 59, 59)) == {"at_risk": 0, "breached": 0}
    assert clocks(wo)["response"].state == "at_risk"
    assert engine.scan(now=at(*MON, 11, 0)) == {"at_risk": 0, "breached": 1}
    response = clocks(wo)["response"]
    assert (response.state, response.breached_at) == ("breached", at(*MON, 11, 0))
    assert summary(wo) == ("breached", at(*MON, 11, 0))
    # only the clocks that changed were written
    assert list(SlaClock.objects.filter(work_order=other).order_by("pk").values()) == untouched
    assert clocks(wo)["resolution"].state == "pending"

    # a second scan at the same instant changes nothing and records nothing new
    assert engine.scan(now=at(*MON, 11, 0)) == {"at_risk": 0, "breached": 0}
    assert notifications(wo) == [("response", "at_risk", 1), ("response", "breached", 1)]
    assert notifications(other) == []


def test_a_scan_that_skips_at_risk_goes_straight_to_breached(world, policy):
    wo = create(world, at(*MON, 10, 0))
    assert engine.scan(now=at(*MON, 12, 0)) == {"at_risk": 0, "breached": 1}
    assert clocks(wo)["response"].breached_at == at(*MON, 11, 0)
    assert notifications(wo) == [("response", "breached", 1)]


def test_two_scans_in_a_row_record_one_notification_per_key(world, policy):
    wos = [create(world, at(*MON, 10, minute)) for minute in (0, 5, 10)]
    first = engine.scan(now=at(*TUE, 12, 0))
    second = engine.scan(now=at(*TUE, 12, 0))
    assert first == {"at_risk": 0, "breached": 6} and second == {"at_risk": 0, "breached": 0}
    for wo in wos:
        assert notifications(wo) == [("resolution", "breached", 1), ("response", "breached", 1)]
    assert SlaNotification.objects.count() == 6
    # later scans, transitions of the breached work orders: still one per key
    engine.scan(now=at(*TUE, 13, 0))
    move(world, wos[0], at(*TUE, 13, 0), "in_progress")
    assert SlaNotification.objects.count() == 6


def test_the_scan_batches(world, policy):
    wos = [create(world, at(*MON, 10, 0)) for _ in range(3)]
    assert engine.scan(now=at(*MON, 11, 0), batch=2) == {"at_risk": 0, "breached": 3}
    assert {summary(wo)[0] for wo in wos} == {"breached"}


def test_clock_status_tells_the_remaining_business_minutes(world, policy):
    wo = create(world, at(*MON, 16, 0))
    sla = WorkOrderSla.objects.get(work_order=wo)
    response = clocks(wo)["response"]
    assert engine.clock_status(response, sla, at(*MON, 16, 30)).remaining_minutes == 30
    engine.scan(now=at(*TUE, 9, 0))
    response.refresh_from_db()
    # due 17:00 Monday; Tuesday 09:00 is one business hour later
    assert engine.clock_status(response, sla, at(*TUE, 9, 0)).remaining_minutes == -60
    move(world, wo, at(*TUE, 9, 0), "in_progress")
    move(world, wo, at(*TUE, 10, 0), "on_hold", hold_reason="waiting_for_parts")
    resolution = clocks(wo)["resolution"]
    # 540 min target, 1 h Monday + 2 h Tuesday used before the pause
    status = engine.clock_status(resolution, sla, at(*TUE, 15, 0))
    assert (status.state, status.due_at, status.remaining_minutes) == ("paused", None, 360)


# ---------------------------------------------------------------------------------------------
# configuration: validation, permissions, tenancy


def error(call, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        call(**kwargs)
    return exc.value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (targets(normal=(600, 540)), "longer than its resolution"),
        ({p: v for p, v in targets().items() if p != "low"}, "low priority has no targets"),
        (targets(normal=(0, 540)), "more than zero"),
        (targets(high=(60, -5)), "more than zero"),
        (targets(normal=("soon", 540)), "whole minutes"),
        (targets(normal=(60.5, 540)), "whole minutes"),
        (targets(normal=(True, 540)), "whole minutes"),
        (targets(normal=(60, 366 * 24 * 60 + 1)), "longer than a year"),
        ({**targets(), "urgent": {"response": 1, "resolution": 2}}, "urgent is not a priority"),
        ("60/540", "each priority"),
    ],
)
def test_policy_targets_are_validated(world, office, value, fragment):
    exc = error(
        sla_services.policy_create, actor=world.admin, data={"name": "P", "calendar_id": office.pk, "targets": value}
    )
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "targets")
    assert fragment in exc.message
    assert not SlaPolicy.objects.filter(name="P").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"at_risk_percent": 0}, "at_risk_percent"),
        ({"at_risk_percent": 100}, "at_risk_percent"),
        ({"at_risk_percent": "most"}, "at_risk_percent"),
        ({"response_met_on": "never"}, "response_met_on"),
        ({"pausing_hold_reasons": ["lunch"]}, "pausing_hold_reasons"),
        ({"priorities": ["urgent"]}, "priorities"),
        ({"types": ["repair"]}, "types"),
        ({"criticalities": ["extreme"]}, "criticalities"),
        ({"client_ids": [987654]}, "clients"),
        ({"site_ids": ["x"]}, "sites"),
        ({"calendar_id": None}, "calendar"),
        ({"escalation_email": "not-an-address"}, "escalation_email"),
        ({"colour": "red"}, "colour"),
        ({"name": ""}, "name"),
    ],
)
def test_policy_fields_are_validated(world, office, data, field):
    exc = error(
        sla_services.policy_create,
        actor=world.admin,
        data={"name": "P", "calendar_id": office.pk, "targets": targets(), **data},
    )
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, field)


def test_policy_names_are_unique(world, office, policy):
    exc = error(
        sla_services.policy_create,
        actor=world.admin,
        data={"name": "Stadtwerke", "calendar_id": office.pk, "targets": targets()},
    )
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "name")


def test_a_policy_needs_a_calendar(world):
    exc = error(sla_services.policy_create, actor=world.admin, data={"name": "P", "targets": targets()})
    assert exc.field == "calendar"


@pytest.mark.parametrize(
    ("week", "fragment"),
    [
        ([[["17:00", "08:00"]]] * 5 + [[], []], "ends before it starts"),
        ([[["08:00", "08:00"]]] * 5 + [[], []], "ends before it starts"),
        ([[["08:00", "25:00"]]] * 5 + [[], []], "between 00:00 and 24:00"),
        ([[["08:00", "12:30"], ["12:00", "17:00"]]] + [[]] * 6, "overlap"),
        ([[["8am", "5pm"]]] + [[]] * 6, "is not a time"),
        ([[["08:00"]]] + [[]] * 6, "pair of times"),
        ([["08:00-17:00"]] + [[]] * 6, "pair of times"),
        ([[]] * 7, "at least one working interval"),
        ([[["08:00", "17:00"]]] * 6, "seven weekdays"),
        ("Mon-Fri 8-17", "seven weekdays"),
    ],
)
def test_calendar_weeks_are_validated(world, week, fragment):
    exc = error(sla_services.calendar_create, actor=world.admin, data={"name": "C", "week": week})
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "week")
    assert fragment in exc.message
    assert not BusinessCalendar.objects.filter(name="C").exists()


def test_calendar_timezone_and_name_are_validated(world, office):
    exc = error(sla_services.calendar_create, actor=world.admin, data={"name": "Mars", "timezone": "Mars/Olympus"})
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "timezone")
    exc = error(sla_services.calendar_update, actor=world.admin, calendar_id=office.pk, data={"timezone": "CEST+2"})
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "timezone")
    exc = error(sla_services.calendar_create, actor=world.admin, data={"name": "Office"})
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "name")
    exc = error(sla_services.calendar_create, actor=world.admin, data={"name": "X", "holidays": []})
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "holidays")
    office.refresh_from_db()
    assert office.timezone == "Europe/Berlin" and office.version == 1


def test_the_24x7_calendar_cannot_be_changed_and_a_used_calendar_not_deleted(world, office, policy):
    engine.ensure_defaults(world.org.pk)
    builtin = BusinessCalendar.objects.get(organization=world.org, is_24x7=True)
    for call, kwargs in (
        (sla_services.calendar_update, {"calendar_id": builtin.pk, "data": {"name": "Always"}}),
        (sla_services.calendar_delete, {"calendar_id": builtin.pk}),
        (sla_services.holiday_add, {"calendar_id": builtin.pk, "day": "2026-12-25"}),
        (sla_services.calendar_delete, {"calendar_id": office.pk}),
    ):
        assert error(call, actor=world.admin, **kwargs).code == ErrorCode.CONFLICT
    assert BusinessCalendar.objects.filter(pk=office.pk).exists()


@pytest.mark.parametrize("day", ["2026-13-01", "25.12.2026", "", None, "christmas"])
def test_holiday_dates_are_validated(world, office, day):
    exc = error(sla_services.holiday_add, actor=world.admin, calendar_id=office.pk, day=day)
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "date")


def test_a_holiday_is_added_once(world, office):
    sla_services.holiday_add(actor=world.admin, calendar_id=office.pk, day=date(2026, 12, 25), name="Christmas")
    exc = error(sla_services.holiday_add, actor=world.admin, calendar_id=office.pk, day="2026-12-25")
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "date")
    office.refresh_from_db()
    assert office.version == 2  # bumped once


ICS_ALL_DAY = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:1@test\r
SUMMARY:Christmas\r
DTSTART;VALUE=DATE:20261224\r
DTEND;VALUE=DATE:20261227\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2@test\r
SUMMARY:New Year\r
DTSTART;VALUE=DATE:20270101\r
END:VEVENT\r
END:VCALENDAR\r
"""
ICS_TIMED = ICS_ALL_DAY.replace(b"DTSTART;VALUE=DATE:20270101", b"DTSTART:20270101T090000Z")


def test_ics_import_adds_each_day_of_all_day_events(world, office):
    assert sla_services.holidays_import_ics(actor=world.admin, calendar_id=office.pk, content=ICS_ALL_DAY) == 4
    days = list(office.holidays.values_list("date", "name"))
    assert days == [
        (date(2026, 12, 24), "Christmas"),
        (date(2026, 12, 25), "Christmas"),
        (date(2026, 12, 26), "Christmas"),
        (date(2027, 1, 1), "New Year"),
    ]
    # importing again adds nothing
    assert sla_services.holidays_import_ics(actor=world.admin, calendar_id=office.pk, content=ICS_ALL_DAY) == 0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (ICS_TIMED, "time of day"),
        (b"this is not a calendar", "not an iCalendar"),
        (b"", "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no all-day events"),
        (b"x" * (1024 * 1024 + 1), "larger than 1 MB"),
    ],
)
def test_ics_import_refuses_what_is_not_a_list_of_holidays(world, office, content, fragment):
    exc = error(sla_services.holidays_import_ics, actor=world.admin, calendar_id=office.pk, content=content)
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "file")
    assert fragment in exc.message
    assert not office.holidays.exists()


def test_generated_holidays_of_a_country(world, office):
    added = sla_services.holidays_generate(
        actor=world.admin, calendar_id=office.pk, country="de", year=2026, subdivision="be"
    )
    days = set(office.holidays.values_list("date", flat=True))
    assert added == len(days) and {date(2026, 12, 25), date(2026, 3, 8), date(2026, 10, 3)} <= days  # 8 March: Berlin
    assert sla_services.holidays_generate(actor=world.admin, calendar_id=office.pk, country="DE", year=2026) == 0
    # subdivisions that are names rather than codes, in any case: Augsburg has its Peace Festival
    sla_services.holidays_generate(
        actor=world.admin, calendar_id=office.pk, country="DE", year=2026, subdivision="augsburg"
    )
    assert office.holidays.filter(date=date(2026, 8, 8)).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"country": "XX", "year": 2026}, "country"),
        ({"country": "", "year": 2026}, "country"),
        ({"country": "DE", "year": "next"}, "year"),
        ({"country": "DE", "year": 1800}, "year"),
        ({"country": "DE", "year": 2026, "subdivision": "ZZ"}, "subdivision"),
    ],
)
def test_generated_holidays_are_validated(world, office, kwargs, field):
    exc = error(sla_services.holidays_generate, actor=world.admin, calendar_id=office.pk, **kwargs)
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, field)


@pytest.mark.parametrize("role", ["technician", "dispatcher", "accountant", "requester", "client_user"])
def test_only_admins_manage_calendars_and_policies(world, office, policy, role):
    actor = getattr(world, role)
    for call, kwargs in (
        (sla_services.calendar_create, {"data": {"name": "Mine"}}),
        (sla_services.calendar_update, {"calendar_id": office.pk, "data": {"name": "Mine"}}),
        (sla_services.calendar_delete, {"calendar_id": office.pk}),
        (sla_services.holiday_add, {"calendar_id": office.pk, "day": "2026-12-25"}),
        (sla_services.holidays_import_ics, {"calendar_id": office.pk, "content": ICS_ALL_DAY}),
        (sla_services.holidays_generate, {"calendar_id": office.pk, "country": "DE", "year": 2026}),
        (sla_services.policy_create, {"data": {"name": "Mine"}}),
        (sla_services.policy_update, {"policy_id": policy.pk, "data": {"name": "Mine"}}),
        (sla_services.policy_delete, {"policy_id": policy.pk}),
        (sla_services.policy_move, {"policy_id": policy.pk, "position": 1}),
    ):
        assert error(call, actor=actor, **kwargs).code == ErrorCode.PERMISSION_DENIED
    office.refresh_from_db()
    assert office.name == "Office" and not office.holidays.exists()


def test_another_organizations_calendar_and_policy_are_not_found(world, office, policy):
    other = build_other_world()
    for call, kwargs in (
        (sla_services.calendar_update, {"calendar_id": office.pk, "data": {"name": "Mine"}}),
        (sla_services.calendar_delete, {"calendar_id": office.pk}),
        (sla_services.holiday_add, {"calendar_id": office.pk, "day": "2026-12-25"}),
        (sla_services.policy_update, {"policy_id": policy.pk, "data": {"name": "Mine"}}),
        (sla_services.policy_delete, {"policy_id": policy.pk}),
        (sla_services.policy_create, {"data": {"name": "Mine", "calendar_id": office.pk, "targets": targets()}}),
        (sla_services.calendar_update, {"calendar_id": "not-a-number", "data": {}}),
    ):
        assert error(call, actor=other.admin, **kwargs).code == ErrorCode.NOT_FOUND
    holiday = sla_services.holiday_add(actor=world.admin, calendar_id=office.pk, day="2026-12-25")
    assert error(sla_services.holiday_remove, actor=other.admin, holiday_id=holiday.pk).code == ErrorCode.NOT_FOUND
    # a policy may not use a client of another organization either
    exc = error(
        sla_services.policy_update, actor=world.admin, policy_id=policy.pk, data={"client_ids": [other.client.pk]}
    )
    assert (exc.code, exc.field) == (ErrorCode.VALIDATION, "clients")
    office.refresh_from_db()
    assert office.name == "Office"


def test_dispatchers_recalculate_open_work_orders(world, policy):
    wo = create(world, at(*MON, 10, 0))
    sla_services.policy_update(actor=world.admin, policy_id=policy.pk, data={"targets": targets(normal=(30, 540))})
    with frozen_at(at(*MON, 10, 10)):
        assert sla_services.recalculate_open(actor=world.dispatcher) == 1
    assert clocks(wo)["response"].due_at == at(*MON, 10, 30)
    assert error(sla_services.recalculate_open, actor=world.technician).code == ErrorCode.PERMISSION_DENIED


def test_the_engine_leaves_work_orders_without_sla_alone(world):
    """Work orders from before the SLA feature have no snapshot: transitions just skip the clocks."""
    wo = create(world, at(*MON, 10, 0))
    WorkOrderSla.objects.filter(work_order=wo).delete()
    SlaClock.objects.filter(work_order=wo).delete()
    move(world, wo, at(*MON, 10, 30), "in_progress")
    update(world, wo, at(*MON, 11, 0), priority="high")
    assert not SlaClock.objects.filter(work_order=wo).exists()
    with frozen_at(at(*MON, 11, 0)):
        sla_services.work_order_recalculate(actor=world.dispatcher, work_order_id=wo.pk)
    assert set(clocks(wo)) == {"response", "resolution"}
    assert clocks(wo)["response"].started_at == at(*MON, 11, 0)


def test_timestamps_are_stored_in_utc(world, policy):
    wo = create(world, at(*MON, 10, 0))
    response = clocks(wo)["response"]
    assert response.due_at.utcoffset() == timedelta(0)
    assert response.due_at == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
