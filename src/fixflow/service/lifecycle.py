"""The work order lifecycle as data: every allowed transition, who may take it, and its guards.

Pure Python, no ORM: the service builds :class:`Facts` from the database and asks this module.
``work_order_transition`` in ``services.py`` is the only writer of ``WorkOrder.status``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fixflow.core.choices import Role

from .choices import ACTIVE_STATUSES, BillingStatus, Status

OFFICE = frozenset({Role.ADMIN, Role.DISPATCHER})


@dataclass(frozen=True)
class Transition:
    source: Status
    target: Status
    name: str
    roles: frozenset[Role]  # roles that may take it regardless of assignment
    assigned_technician: bool = False  # the work order's assigned technicians may take it too
    guards: tuple[str, ...] = ()
    reason_required: bool = False


def _t(source, target, name, *, assigned=False, guards=(), reason=False, roles=OFFICE):
    return Transition(source, target, name, roles, assigned, tuple(guards), reason)


_CANCEL = [
    _t(s, Status.CANCELLED, "cancel", guards=["not_invoiced"], reason=True)
    for s in (Status.NEW, Status.PLANNED, Status.IN_PROGRESS, Status.ON_HOLD)
]

TRANSITIONS: tuple[Transition, ...] = (
    _t(Status.NEW, Status.PLANNED, "plan", guards=["has_assignee", "has_scheduled_start"]),
    _t(Status.PLANNED, Status.NEW, "unplan"),
    _t(Status.NEW, Status.IN_PROGRESS, "start", assigned=True, guards=["has_assignee"]),
    _t(Status.PLANNED, Status.IN_PROGRESS, "start", assigned=True, guards=["has_assignee"]),
    _t(Status.IN_PROGRESS, Status.ON_HOLD, "hold", assigned=True, guards=["has_hold_reason"]),
    _t(Status.ON_HOLD, Status.IN_PROGRESS, "resume", assigned=True),
    _t(
        Status.IN_PROGRESS,
        Status.COMPLETED,
        "complete",
        assigned=True,
        guards=[
            "has_resolution_notes",
            "required_checklist_answered",
            "has_required_equipment",
            "has_required_signature",
        ],
    ),
    _t(Status.COMPLETED, Status.IN_PROGRESS, "reopen", reason=True),
    _t(Status.COMPLETED, Status.CLOSED, "close", guards=["four_eyes"]),
    _t(Status.CLOSED, Status.IN_PROGRESS, "reopen", reason=True, guards=["within_reopen_window", "not_invoiced"]),
    *_CANCEL,
)

TABLE: dict[tuple[Status, Status], Transition] = {(t.source, t.target): t for t in TRANSITIONS}


@dataclass(frozen=True)
class Facts:
    """What the guards need to know about one work order and the actor, read by the service."""

    status: Status
    now: datetime
    actor_role: Role
    actor_user_id: int
    actor_is_assigned: bool = False
    has_assignee: bool = False
    has_scheduled_start: bool = False
    hold_reason: str = ""
    resolution_notes: str = ""
    unanswered_required_items: tuple[str, ...] = ()
    requires_equipment: bool = True
    has_equipment: bool = True
    requires_signature: bool = False
    has_signature: bool = False
    completed_by_id: int | None = None
    requires_four_eyes_review: bool = True
    closed_at: datetime | None = None
    reopen_window_days: int = 14
    billing_status: str = BillingStatus.NOT_BILLABLE
    has_invoiced_items: bool = False


@dataclass(frozen=True)
class Problem:
    guard: str
    message: str
    field: str | None = None


def _guard(name: str, f: Facts) -> Problem | None:  # noqa: PLR0911 - one branch per guard reads best
    match name:
        case "has_assignee" if not f.has_assignee:
            return Problem(name, "Assign a lead technician first.", "lead_technician")
        case "has_scheduled_start" if not f.has_scheduled_start:
            return Problem(name, "Set the scheduled start first.", "scheduled_start")
        case "has_hold_reason" if not f.hold_reason:
            return Problem(name, "Choose why the work is on hold.", "hold_reason")
        case "has_resolution_notes" if not f.resolution_notes.strip():
            return Problem(name, "Write the resolution notes: what was found and done.", "resolution_notes")
        case "required_checklist_answered" if f.unanswered_required_items:
            items = ", ".join(f.unanswered_required_items)
            return Problem(name, f"Answer the required checklist items: {items}.", "checklist")
        case "has_required_equipment" if f.requires_equipment and not f.has_equipment:
            return Problem(name, "This type of work needs the equipment it was done on.", "equipment")
        case "has_required_signature" if f.requires_signature and not f.has_signature:
            return Problem(name, "The client's signature is required.", "signature")
        case "four_eyes" if f.requires_four_eyes_review and f.completed_by_id == f.actor_user_id:
            return Problem(name, "Someone other than the technician who completed it must close it (four-eyes review).")
        case "within_reopen_window" if f.closed_at is None or f.now - f.closed_at > timedelta(
            days=f.reopen_window_days
        ):
            return Problem(
                name,
                f"Closed more than {f.reopen_window_days} days ago: create a follow-up work order "
                "instead of reopening.",
            )
        case "not_invoiced" if f.billing_status == BillingStatus.INVOICED or f.has_invoiced_items:
            return Problem(name, "Work on it has been invoiced; issue a credit note or create a follow-up instead.")
    return None


GUARDS = (
    "has_assignee",
    "has_scheduled_start",
    "has_hold_reason",
    "has_resolution_notes",
    "required_checklist_answered",
    "has_required_equipment",
    "has_required_signature",
    "four_eyes",
    "within_reopen_window",
    "not_invoiced",
)


def transition_for(source: str, target: str) -> Transition | None:
    try:
        return TABLE.get((Status(source), Status(target)))
    except ValueError:
        return None


def may_take(t: Transition, f: Facts) -> bool:
    """Whether the actor's role (or assignment) lets them take this transition at all."""
    return f.actor_role in t.roles or (
        t.assigned_technician and f.actor_role == Role.TECHNICIAN and f.actor_is_assigned
    )


def unmet_guards(t: Transition, f: Facts) -> list[Problem]:
    return [p for name in t.guards if (p := _guard(name, f)) is not None]


@dataclass(frozen=True)
class Option:
    """A transition offered to the actor now, with what still blocks it (shown next to the button)."""

    transition: Transition
    problems: list[Problem] = field(default_factory=list)

    @property
    def is_possible(self) -> bool:
        return not self.problems


# Guards the user fixes in the same form as the button (reason and hold reason are asked for there).
_ASKED_WITH_BUTTON = {"has_hold_reason"}


def options(f: Facts) -> list[Option]:
    """Transitions from the current status that the actor may take, each with its unmet guards."""
    result = []
    for t in TRANSITIONS:
        if t.source == f.status and may_take(t, f):
            problems = [p for p in unmet_guards(t, f) if p.guard not in _ASKED_WITH_BUTTON]
            result.append(Option(t, problems))
    return result


def is_active(status: str) -> bool:
    return status in ACTIVE_STATUSES
