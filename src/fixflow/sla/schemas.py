"""API schemas of the SLA configuration (calendars, holidays, policies) and of the SLA on work orders.

Inputs are checked for their shape here; what they mean (a week of working intervals, targets per
priority, response ≤ resolution, a time zone, a country) is checked once, by ``fixflow.sla.services``.
"""

import datetime as dt
from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from fixflow.assets.schemas import ClientRef, SiteRef
from fixflow.service.schemas import HoldReasonValue, PriorityValue, SlaStateValue, TypeValue

CriticalityValue = Literal["low", "medium", "high", "critical"]
TargetValue = Literal["response", "resolution"]

WEEK_DESCRIPTION = (
    'Seven lists, Monday first, of working intervals ["HH:MM", "HH:MM"]; several per day are allowed, '
    '"24:00" ends a day, and a night shift is two intervals (["22:00", "24:00"] and the next day\'s '
    '["00:00", "06:00"]). An empty list is a day off.'
)
WEEK_EXAMPLE = [[["08:00", "12:00"], ["13:00", "17:00"]]] * 5 + [[], []]

# --- calendars ---------------------------------------------------------------------------------------


class SlaCalendarIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    timezone: str | None = Field(
        None, max_length=64, description="An IANA time zone such as Europe/Berlin; default: the organization's."
    )
    week: list[list[list[str]]] | None = Field(
        None, description=WEEK_DESCRIPTION + " Default: Monday to Friday 08:00–17:00.", examples=[WEEK_EXAMPLE]
    )


class SlaCalendarPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    timezone: str | None = Field(None, max_length=64)
    week: list[list[list[str]]] | None = Field(None, description=WEEK_DESCRIPTION)


class SlaCalendarOut(Schema):
    id: int
    name: str
    timezone: str
    week: list[list[list[str]]]
    is_24x7: bool = Field(description="The built-in calendar: every minute counts; it cannot be changed.")
    version: int
    created_at: datetime
    updated_at: datetime


class SlaCalendarFilter(Schema):
    q: str | None = Field(None, description="Name contains.")
    cursor: str | None = None
    limit: int = 50


class SlaHolidayIn(Schema):
    date: dt.date
    name: str = Field("", max_length=200)


class SlaHolidayOut(Schema):
    id: int
    calendar_id: int
    date: dt.date
    name: str


class SlaHolidayFilter(Schema):
    year: int | None = Field(None, ge=1, le=9999, description="Only the holidays of this year.")
    cursor: str | None = None
    limit: int = 50


class SlaHolidayGenerateIn(Schema):
    country: str = Field(min_length=2, max_length=3, description="ISO 3166 code, e.g. DE, AT, US.")
    year: int = Field(description="e.g. 2027 (1990–2100).")
    subdivision: str = Field("", max_length=10, description="A state or region code, e.g. BY for Bavaria.")


class SlaHolidaysAddedOut(Schema):
    added: int = Field(description="How many dates were new (dates that already were holidays are skipped).")


# --- policies ----------------------------------------------------------------------------------------


class SlaTargetPair(Schema):
    response: int = Field(description="Business minutes until the response is due.")
    resolution: int = Field(description="Business minutes until the resolution is due (≥ response).")


TARGETS_DESCRIPTION = (
    "Per priority (critical, high, normal, low — all four) a response and a resolution target in "
    "business minutes of the policy's calendar."
)
TARGETS_EXAMPLE = {
    "critical": {"response": 60, "resolution": 240},
    "high": {"response": 240, "resolution": 960},
    "normal": {"response": 480, "resolution": 2400},
    "low": {"response": 960, "resolution": 4800},
}


class SlaPolicyIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    calendar_id: int
    targets: dict[str, SlaTargetPair] = Field(description=TARGETS_DESCRIPTION, examples=[TARGETS_EXAMPLE])
    is_active: bool = True
    client_ids: list[int] = Field([], description="Condition: one of these clients (empty: any).")
    site_ids: list[int] = Field([], description="Condition: one of these sites (empty: any).")
    priorities: list[PriorityValue] = Field([], description="Condition: one of these priorities (empty: any).")
    types: list[TypeValue] = Field([], description="Condition: one of these work order types (empty: any).")
    criticalities: list[CriticalityValue] = Field(
        [], description="Condition: the equipment has one of these criticalities (empty: any)."
    )
    at_risk_percent: int = Field(80, description="At risk once this % of a target is used (1–99).")
    response_met_on: Literal["start", "assignment"] = Field(
        "start", description="start: the technician starts work on site; assignment: a technician is assigned."
    )
    pausing_hold_reasons: list[HoldReasonValue] = Field(
        ["waiting_for_client", "waiting_for_parts"], description="Hold reasons that pause the resolution clock."
    )
    notify_technician: bool = False
    escalation_email: str = Field("", max_length=254, description="Also told when a target is at risk or breached.")


class SlaPolicyPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    calendar_id: int | None = None
    targets: dict[str, SlaTargetPair] | None = Field(None, description=TARGETS_DESCRIPTION)
    is_active: bool | None = None
    client_ids: list[int] | None = None
    site_ids: list[int] | None = None
    priorities: list[PriorityValue] | None = None
    types: list[TypeValue] | None = None
    criticalities: list[CriticalityValue] | None = None
    at_risk_percent: int | None = None
    response_met_on: Literal["start", "assignment"] | None = None
    pausing_hold_reasons: list[HoldReasonValue] | None = None
    notify_technician: bool | None = None
    escalation_email: str | None = Field(None, max_length=254)


class SlaCalendarRef(Schema):
    id: int
    name: str
    timezone: str
    is_24x7: bool


class SlaPolicyOut(Schema):
    id: int
    name: str
    position: int = Field(description="Evaluation order among the non-default policies (1 = checked first).")
    is_default: bool = Field(description="Applies when no other policy matches; always last, never deleted.")
    is_active: bool
    calendar: SlaCalendarRef
    clients: list[ClientRef]
    sites: list[SiteRef]
    priorities: list[PriorityValue]
    types: list[TypeValue]
    criticalities: list[CriticalityValue]
    targets: dict[str, SlaTargetPair]
    at_risk_percent: int
    response_met_on: Literal["start", "assignment"]
    pausing_hold_reasons: list[HoldReasonValue]
    notify_technician: bool
    escalation_email: str
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_clients(obj) -> list:
        return list(obj.clients.all())

    @staticmethod
    def resolve_sites(obj) -> list:
        return list(obj.sites.all())


class SlaPolicyFilter(Schema):
    is_active: bool | None = None
    cursor: str | None = None
    limit: int = 50


class SlaPolicyMoveIn(Schema):
    position: int = Field(ge=1, description="1 = checked first; larger than the number of policies: last.")


class SlaRecalculatedOut(Schema):
    recalculated: int = Field(description="How many open work orders were given the policy that matches now.")


# --- the SLA of a work order ---------------------------------------------------------------------------


class SlaCalendarSnapshotOut(Schema):
    name: str
    timezone: str
    is_24x7: bool
    week: list[list[list[str]]]
    week_text: str = Field(description="The week in one line, e.g. Mon–Fri 08:00–17:00.")
    holidays: list[dt.date] = Field(description="Holidays of the snapshot between the start and the last due day.")


class SlaTargetOut(Schema):
    target: TargetValue
    label: str
    cycle: int = Field(description="1, or more after the work order was reopened (resolution).")
    priority: PriorityValue
    target_minutes: int = Field(description="Business minutes of the target for this priority.")
    started_at: datetime
    state: SlaStateValue
    due_at: datetime | None = Field(description="Empty while paused.")
    at_risk_at: datetime | None
    remaining_minutes: int | None = Field(
        description="Business minutes left (negative: overdue); while paused, what will be left when work resumes."
    )
    paused_since: datetime | None
    paused_minutes: int = Field(description="Business minutes of the finished pauses.")
    met_at: datetime | None
    breached_at: datetime | None


class SlaPauseOut(Schema):
    target: TargetValue
    cycle: int
    started_at: datetime
    ended_at: datetime | None
    reason: HoldReasonValue | str
    reason_label: str
    business_minutes: int = Field(description="Business time of the pause (an open pause: until now).")


class SlaCycleOut(Schema):
    """An earlier cycle of a target (before a reopen), kept for reports."""

    target: TargetValue
    cycle: int
    state: SlaStateValue
    started_at: datetime
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None


class WorkOrderSlaOut(Schema):
    """The SLA applied to one work order, and why its targets are due when they are."""

    policy_id: int | None = Field(description="Empty when the policy was deleted since (the snapshot stays).")
    policy_name: str
    policy_version: int
    priority: PriorityValue
    targets: dict[str, int] = Field(description="Business minutes per target for the current priority.")
    at_risk_percent: int
    started_at: datetime
    applied_at: datetime
    recalculated_at: datetime | None
    timezone: str = Field(description="The zone the explanation shows instants in (the site's).")
    calendar: SlaCalendarSnapshotOut
    statuses: list[SlaTargetOut] = Field(description="The current targets: response, then resolution.")
    pauses: list[SlaPauseOut]
    cycles: list[SlaCycleOut]
    explanation: list[str] = Field(description="The steps from the start to the due instants, in plain language.")
    state: SlaStateValue | Literal[""] = Field(description="The work order's summary: its worst current state.")
    due_at: datetime | None = Field(description="The earliest open due instant.")


class SlaComplianceFilter(Schema):
    date_from: dt.date | None = Field(
        None, description="First day (the organization's time zone) the clocks started on; default: 5 months back."
    )
    date_to: dt.date | None = Field(
        None, description="The day after the last one: clocks started in [date_from, date_to); default: next month."
    )
    client: int | None = None
    priority: PriorityValue | None = None
    target: TargetValue | None = None


class SlaComplianceRowOut(Schema):
    key: str = Field(description="Client id, priority, YYYY-MM or target.")
    label: str
    met: int
    breached: int
    open: int = Field(description="Pending, at risk or paused.")
    total: int
    compliance_percent: float | None = Field(
        description="met / (met + breached) in %, one decimal; empty: none decided."
    )


class SlaComplianceReportOut(Schema):
    """Met, breached and open SLA targets whose clock started in the range (cancelled ones left out).

    Every cycle counts: a reopened work order keeps its earlier cycle's result.
    """

    date_from: dt.date
    date_to: dt.date
    timezone: str
    client_id: int | None
    priority: PriorityValue | None
    target: TargetValue | None
    totals: SlaComplianceRowOut
    by_client: list[SlaComplianceRowOut]
    by_priority: list[SlaComplianceRowOut]
    by_month: list[SlaComplianceRowOut] = Field(description="Every month of the range, empty ones included.")
    by_target: list[SlaComplianceRowOut]
