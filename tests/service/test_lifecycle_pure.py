"""The pure lifecycle module: guards and the options offered to an actor, without a database."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixflow.core.choices import Role
from fixflow.service import lifecycle
from fixflow.service.choices import BillingStatus, Status
from fixflow.service.lifecycle import GUARDS, TABLE, Facts, _guard, options

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

facts_strategy = st.builds(
    Facts,
    status=st.sampled_from(Status),
    now=st.just(NOW),
    actor_role=st.sampled_from(Role),
    actor_user_id=st.integers(1, 3),
    actor_is_assigned=st.booleans(),
    has_assignee=st.booleans(),
    has_scheduled_start=st.booleans(),
    hold_reason=st.sampled_from(["", "waiting_for_parts"]),
    resolution_notes=st.sampled_from(["", "  ", "Replaced the seal."]),
    unanswered_required_items=st.lists(st.sampled_from(["Isolate", "Test run"]), max_size=2).map(tuple),
    requires_equipment=st.booleans(),
    has_equipment=st.booleans(),
    requires_signature=st.booleans(),
    has_signature=st.booleans(),
    completed_by_id=st.one_of(st.none(), st.integers(1, 3)),
    requires_four_eyes_review=st.booleans(),
    closed_at=st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=40)).map(lambda d: NOW - d)),
    reopen_window_days=st.integers(0, 30),
    billing_status=st.sampled_from(BillingStatus),
    has_invoiced_items=st.booleans(),
)


def _facts(**kw) -> Facts:
    base = {"status": Status.NEW, "now": NOW, "actor_role": Role.DISPATCHER, "actor_user_id": 1}
    return Facts(**(base | kw))


@given(facts_strategy)
def test_options_only_offer_transitions_from_the_current_status(f):
    assert all(o.transition.source == f.status for o in options(f))


@given(facts_strategy)
def test_options_offer_exactly_the_table_edges_the_actor_may_take(f):
    # when
    offered = {(o.transition.source, o.transition.target) for o in options(f)}
    # then
    expected = {edge for edge, t in TABLE.items() if edge[0] == f.status and lifecycle.may_take(t, f)}
    assert offered == expected


@given(facts_strategy)
def test_an_option_is_possible_exactly_when_no_guard_but_the_hold_reason_blocks_it(f):
    for option in options(f):
        unmet = {p.guard for p in lifecycle.unmet_guards(option.transition, f)} - {"has_hold_reason"}
        assert option.is_possible == (not unmet)
        assert {p.guard for p in option.problems} == unmet


@given(facts_strategy)
def test_cancelled_work_offers_nothing_and_nobody_outside_the_office_and_technicians_gets_anything(f):
    if f.status == Status.CANCELLED or f.actor_role in (Role.ACCOUNTANT, Role.REQUESTER, Role.CLIENT_USER):
        assert options(f) == []


@given(facts_strategy)
def test_a_technician_is_offered_something_only_when_assigned(f):
    if f.actor_role == Role.TECHNICIAN and not f.actor_is_assigned:
        assert options(f) == []


@given(facts_strategy)
def test_guards_name_a_known_guard_and_say_what_to_do(f):
    for name in GUARDS:
        problem = _guard(name, f)
        if problem is not None:
            assert problem.guard == name
            assert problem.message.endswith(".")


def test_every_guard_in_the_table_is_a_known_guard():
    used = {g for t in TABLE.values() for g in t.guards}
    assert used <= set(GUARDS)


def test_office_roles_get_every_edge_leaving_the_status():
    # given
    f = _facts(status=Status.IN_PROGRESS)
    # when
    targets = [o.transition.target for o in options(f)]
    # then
    assert targets == [Status.ON_HOLD, Status.COMPLETED, Status.CANCELLED]


def test_an_assigned_technician_is_offered_hold_and_complete_but_not_cancel():
    # given
    f = _facts(status=Status.IN_PROGRESS, actor_role=Role.TECHNICIAN, actor_is_assigned=True)
    # when
    targets = [o.transition.target for o in options(f)]
    # then
    assert targets == [Status.ON_HOLD, Status.COMPLETED]


def test_the_hold_reason_is_asked_with_the_button_not_shown_as_a_blocker():
    # given
    f = _facts(status=Status.IN_PROGRESS, hold_reason="")
    # when
    hold = next(o for o in options(f) if o.transition.target == Status.ON_HOLD)
    # then
    assert hold.is_possible and hold.problems == []


def test_completion_lists_each_unmet_guard_with_its_field():
    # given
    f = _facts(
        status=Status.IN_PROGRESS,
        resolution_notes="",
        unanswered_required_items=("Test run",),
        requires_equipment=True,
        has_equipment=False,
        requires_signature=True,
    )
    # when
    complete = next(o for o in options(f) if o.transition.target == Status.COMPLETED)
    # then
    assert [(p.guard, p.field) for p in complete.problems] == [
        ("has_resolution_notes", "resolution_notes"),
        ("required_checklist_answered", "checklist"),
        ("has_required_equipment", "equipment"),
        ("has_required_signature", "signature"),
    ]


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("has_assignee", {"has_assignee": True}),
        ("has_scheduled_start", {"has_scheduled_start": True}),
        ("has_hold_reason", {"hold_reason": "other"}),
        ("has_resolution_notes", {"resolution_notes": "Done."}),
        ("required_checklist_answered", {}),
        ("has_required_equipment", {"has_equipment": False, "requires_equipment": False}),
        ("has_required_signature", {"requires_signature": True, "has_signature": True}),
        ("four_eyes", {"completed_by_id": 2}),
        ("four_eyes", {"completed_by_id": 1, "requires_four_eyes_review": False}),
        ("within_reopen_window", {"closed_at": NOW - timedelta(days=14)}),
        ("not_invoiced", {"billing_status": BillingStatus.TO_INVOICE}),
    ],
)
def test_a_guard_whose_condition_holds_is_met(name, kw):
    assert _guard(name, _facts(**kw)) is None


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("has_assignee", {}),
        ("has_scheduled_start", {}),
        ("has_hold_reason", {"hold_reason": ""}),
        ("has_resolution_notes", {"resolution_notes": " \n "}),
        ("required_checklist_answered", {"unanswered_required_items": ("Test run",)}),
        ("has_required_equipment", {"has_equipment": False}),
        ("has_required_signature", {"requires_signature": True}),
        ("four_eyes", {"completed_by_id": 1}),
        ("within_reopen_window", {"closed_at": NOW - timedelta(days=14, seconds=1)}),
        ("within_reopen_window", {"closed_at": None}),
        ("within_reopen_window", {"closed_at": NOW - timedelta(days=1), "reopen_window_days": 0}),
        ("not_invoiced", {"billing_status": BillingStatus.INVOICED}),
        ("not_invoiced", {"has_invoiced_items": True}),
    ],
)
def test_a_guard_whose_condition_fails_reports_a_problem(name, kw):
    problem = _guard(name, _facts(**kw))
    assert problem is not None and problem.guard == name


def test_an_unknown_status_has_no_transition():
    assert lifecycle.transition_for("new", "done") is None
    assert lifecycle.transition_for("new", "planned") is TABLE[(Status.NEW, Status.PLANNED)]


def test_active_statuses_are_the_open_and_paused_ones():
    assert [s for s in Status if lifecycle.is_active(s)] == [
        Status.NEW,
        Status.PLANNED,
        Status.IN_PROGRESS,
        Status.ON_HOLD,
    ]
