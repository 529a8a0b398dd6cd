"""API schemas of preventive maintenance (plans, occurrences, forecast, compliance, stale plans) and of
meters and their readings.

Inputs are checked for their shape here; what they mean (a trigger that fits the mode, an equipment item
at the site, a reading not below the last one) is checked once, by ``fixflow.maintenance.services`` and
``fixflow.assets.meters``.
"""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import AwareDatetime, Field

from fixflow.assets.schemas import CategoryRef, EquipmentRef, SiteRef, UserRef
from fixflow.service.schemas import Ref, WorkOrderRef

from . import selectors

ModeValue = Literal["fixed", "floating"]
OpenPolicyValue = Literal["skip", "stack", "replace"]
DayShiftValue = Literal["none", "previous", "next"]
FrequencyValue = Literal["daily", "weekly", "monthly", "yearly"]
MonthlyByValue = Literal["day", "nth_weekday", "last_day"]
TriggerValue = Literal["calendar", "floating", "meter"]
OccurrenceStatusValue = Literal["generated", "skipped", "missed"]
ForecastKindValue = Literal["generated", "upcoming", "skipped", "missed", "overdue"]
MeterKindValue = Literal["continuous", "gauge"]
ReadingKindValue = Literal["reading", "replacement", "rollover"]
ReadingSourceValue = Literal["page", "api", "phone", "import"]

# --- meters -------------------------------------------------------------------------------------------


class MeterIn(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["Running hours"])
    unit: str = Field(min_length=1, max_length=20, examples=["h"])
    kind: MeterKindValue = Field(
        "continuous", description="continuous: a counter with a lifetime value (hours, km); gauge: a level."
    )
    rollover_at: Decimal | None = Field(
        None, description="The value after which the display starts again at zero (e.g. 99999.9)."
    )
    usage_window_days: int = Field(30, description="The usage rate is the average per day over this window.")
    is_active: bool = True


class MeterPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    unit: str | None = Field(None, min_length=1, max_length=20)
    kind: MeterKindValue | None = Field(None, description="Only while the meter has no readings.")
    rollover_at: Decimal | None = None
    usage_window_days: int | None = None
    is_active: bool | None = None


class MeterOut(Schema):
    id: int
    equipment: EquipmentRef
    name: str
    unit: str
    kind: MeterKindValue
    rollover_at: Decimal | None
    usage_window_days: int
    last_value: Decimal | None = Field(description="The last displayed reading.")
    lifetime_value: Decimal | None = Field(
        description="Continuous meters: the total since the first reading, across replacements and rollovers."
    )
    last_read_at: datetime | None
    usage_per_day: Decimal | None = Field(
        None, description="Average use per day over the usage window (continuous meters; empty without two readings)."
    )
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class MeterFilter(Schema):
    cursor: str | None = None
    limit: int = 50


class ReadingIn(Schema):
    value: Decimal = Field(description="The displayed value.", examples=["1520.5"])
    read_at: AwareDatetime | None = Field(None, description="When it was read (default: now); not in the future.")
    kind: ReadingKindValue = Field(
        "reading",
        description="reading; replacement: a new meter starting at this value (the lifetime value does not move); "
        "rollover: the display passed rollover_at and started again.",
    )
    source: ReadingSourceValue = "api"
    work_order_id: int | None = Field(None, description="A work order on this meter's equipment.")
    note: str = Field("", max_length=500)


class ReadingOut(Schema):
    id: int
    meter_id: int
    value: Decimal
    lifetime: Decimal = Field(description="The meter's lifetime value after this reading.")
    kind: ReadingKindValue
    read_at: datetime
    source: ReadingSourceValue
    recorded_by: UserRef | None
    work_order: WorkOrderRef | None
    note: str
    created_at: datetime


class ReadingFilter(Schema):
    cursor: str | None = None
    limit: int = 50


# --- plans ----------------------------------------------------------------------------------------------


class RecurrenceIn(Schema):
    """The plain choices a calendar rule is built from (RFC 5545 ``RRULE``, computed from the anchor)."""

    frequency: FrequencyValue = "monthly"
    interval: int = Field(1, description="Every N days / weeks / months / years (1–1000).")
    weekdays: list[int] = Field([], description="Weekly: 0 (Monday) to 6 (Sunday); empty: the anchor's weekday.")
    monthly_by: MonthlyByValue = Field(
        "day", description="day (month_day; shorter months use their last day), nth_weekday (nth + weekday), last_day."
    )
    month_day: int | None = Field(None, description="1–31; default: the anchor's day.")
    nth: int | None = Field(None, description='1–5, or -1 for the last ("the 2nd Tuesday": nth=2, weekday=1).')
    weekday: int | None = Field(None, description="0 (Monday) to 6 (Sunday).")
    month: int | None = Field(None, description="Yearly: 1–12; default: the anchor's month.")


PLAN_EXAMPLE = {
    "name": "Quarterly boiler service",
    "template_id": 1,
    "equipment_id": 1,
    "anchor": "2027-01-31",
    "recurrence": {"frequency": "monthly", "interval": 3, "monthly_by": "last_day"},
    "lead_days": 7,
}


class PlanIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    template_id: int = Field(description="The work order template: checklist, parts, duration, priority, signature.")
    equipment_id: int | None = Field(None, description="One equipment item (or give site_id and category_id).")
    site_id: int | None = Field(None, description="With category_id: every item of the category at the site.")
    category_id: int | None = None
    anchor: date = Field(description="The first due date; calendar rules count from it.")
    recurrence: RecurrenceIn | None = Field(None, description="Calendar trigger from plain choices (fixed mode).")
    rule: str | None = Field(
        None, max_length=300, description="Or an RFC 5545 RRULE without DTSTART, UNTIL or COUNT, e.g. FREQ=WEEKLY."
    )
    due_time: time = Field(time(9, 0), description="Local time of day at the site.")
    mode: ModeValue = Field("fixed", description="fixed: from the anchor; floating: interval_days after completion.")
    interval_days: int | None = Field(None, description="Floating: days after the last completion.")
    meter_name: str = Field("", max_length=100, description="Meter trigger: the name of the equipment's meter.")
    meter_interval: Decimal | None = Field(None, description="Meter trigger: every N units.")
    meter_start: Decimal | None = Field(None, description="The first due meter value (default: now + interval).")
    meter_mode: ModeValue = Field("fixed", description="fixed: on the grid from the start; floating: from completion.")
    lead_days: int = Field(7, description="Create the work order this many days before it is due.")
    horizon_days: int = Field(365, description="How far ahead the forecast shows occurrences.")
    end_date: date | None = None
    max_count: int | None = Field(None, description="End after this many occurrences.")
    open_policy: OpenPolicyValue = Field("skip", description="When the previous one is still open.")
    day_shift: DayShiftValue = Field("none", description="Move a due date that is not a working day.")
    calendar_id: int | None = Field(None, description="The business calendar of working days (default: Mon–Fri).")
    lead_technician_id: int | None = None
    is_active: bool = True

    model_config = {"json_schema_extra": {"examples": [PLAN_EXAMPLE]}}


class PlanPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    template_id: int | None = None
    equipment_id: int | None = None
    site_id: int | None = None
    category_id: int | None = None
    anchor: date | None = None
    recurrence: RecurrenceIn | None = None
    rule: str | None = Field(None, max_length=300)
    due_time: time | None = None
    mode: ModeValue | None = None
    interval_days: int | None = None
    meter_name: str | None = Field(None, max_length=100)
    meter_interval: Decimal | None = None
    meter_start: Decimal | None = None
    meter_mode: ModeValue | None = None
    lead_days: int | None = None
    horizon_days: int | None = None
    end_date: date | None = None
    max_count: int | None = None
    open_policy: OpenPolicyValue | None = None
    day_shift: DayShiftValue | None = None
    calendar_id: int | None = None
    lead_technician_id: int | None = None
    is_active: bool | None = None


class PlanOut(Schema):
    id: int
    name: str
    summary: str = Field(description='The plan in words, e.g. "every 3 months on the last day, 7 days ahead, …".')
    template: Ref
    site: SiteRef
    equipment: EquipmentRef | None
    category: CategoryRef | None
    is_active: bool
    rule: str = Field(description="The calendar trigger as an RFC 5545 RRULE (empty: none).")
    anchor: date
    due_time: time
    mode: ModeValue
    interval_days: int | None
    meter_name: str
    meter_interval: Decimal | None
    meter_start: Decimal | None
    meter_mode: ModeValue
    lead_days: int
    horizon_days: int
    end_date: date | None
    max_count: int | None
    open_policy: OpenPolicyValue
    day_shift: DayShiftValue
    calendar: Ref | None
    lead_technician: UserRef | None
    generated_until: date | None = Field(description="The last day the generator ran up to.")
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_summary(obj) -> str:
        return selectors.plan_summary(obj)


class PlanDetailOut(PlanOut):
    next_due_dates: list[date] = Field(
        description="The next five due dates (open generated occurrences, then upcoming ones)."
    )


class PlanFilter(Schema):
    q: str | None = Field(None, description="Name contains.")
    site: int | None = None
    equipment: int | None = Field(None, description="Plans on this item: its own and its category's at its site.")
    active: bool | None = None
    cursor: str | None = None
    limit: int = 50


class GenerateIn(Schema):
    until: date | None = Field(
        None,
        description="Create the work orders whose creation day (due date − lead days) is on or before this local "
        "date (default: today; at most the plan's horizon ahead).",
    )


class GenerateOut(Schema):
    plans: int
    targets: int = Field(description="Equipment items looked at.")
    work_orders: int = Field(description="Work orders created.")
    skipped: int
    missed: int
    replaced: int = Field(description="Open work orders cancelled and replaced (open policy replace).")
    errors: list[str]


class WorkOrderStatusRef(Schema):
    id: int
    number: str
    status: str
    completed_at: datetime | None


class OccurrenceOut(Schema):
    id: int
    plan_id: int
    equipment: EquipmentRef
    key: str = Field(description="The local due date before a working-day shift, or m:<meter value>.")
    trigger: TriggerValue
    due_date: date
    due_at: datetime
    due_value: Decimal | None
    status: OccurrenceStatusValue
    reason: str
    is_catch_up: bool
    work_order: WorkOrderStatusRef | None
    created_at: datetime


class OccurrenceFilter(Schema):
    status: OccurrenceStatusValue | None = None
    cursor: str | None = None
    limit: int = 50


# --- forecast, compliance, stale plans ---------------------------------------------------------------------


class ForecastFilter(Schema):
    date_from: date | None = Field(None, description="First due date (sites' local dates); default: today.")
    date_to: date | None = Field(None, description="Last due date, included; default: 90 days from date_from.")
    site: int | None = None
    equipment: int | None = None
    technician: str | None = Field(None, description="A user id or `me`.")
    plan: int | None = None


class ForecastItemOut(Schema):
    kind: ForecastKindValue = Field(
        description="generated (a work order exists), upcoming (not generated yet), skipped, missed, overdue "
        "(generated, still open, due date passed)."
    )
    plan_id: int
    plan_name: str
    equipment_id: int
    equipment_name: str
    site_id: int
    site_name: str
    timezone: str
    due_date: date
    due_at: datetime
    trigger: TriggerValue
    key: str
    due_value: Decimal | None
    is_predicted: bool = Field(description="A meter threshold's date predicted from the usage rate.")
    occurrence_id: int | None
    work_order_id: int | None
    work_order_number: str
    work_order_status: str
    completed_at: datetime | None
    completed_on_time: bool | None = Field(description="Completed on or before the due date (local); empty: not yet.")
    is_catch_up: bool
    reason: str
    technician_id: int | None
    technician_name: str


class ForecastOut(Schema):
    date_from: date
    date_to: date
    items: list[ForecastItemOut]


class ComplianceFilter(Schema):
    date_from: date | None = Field(None, description="First due date; default: the first day of 11 months ago.")
    date_to: date | None = Field(None, description="Last due date, included; default: today.")
    site: int | None = None
    plan: int | None = None
    group: Literal["month", "week", "year"] = "month"


class ComplianceRowOut(Schema):
    key: str = Field(description="YYYY-MM, YYYY-Www or YYYY for periods; the id for sites and plans.")
    label: str
    due: int = Field(description="Occurrences due (their due date has passed).")
    on_time: int = Field(description="Completed on or before the due date, local time.")
    late: int
    open: int = Field(description="Generated and still open.")
    cancelled: int
    skipped: int
    missed: int
    compliance_percent: float | None = Field(description="on_time / due in %, one decimal; empty: nothing due.")


class ComplianceReportOut(Schema):
    """PM compliance: occurrences completed on time / due occurrences (skipped, missed, cancelled and open
    ones count as due and not done; occurrences not due yet are left out)."""

    date_from: date
    date_to: date
    group: Literal["month", "week", "year"]
    site_id: int | None
    plan_id: int | None
    totals: ComplianceRowOut
    by_period: list[ComplianceRowOut] = Field(description="Every period of the range, empty ones included.")
    by_site: list[ComplianceRowOut]
    by_plan: list[ComplianceRowOut]


class StaleWorkOrderOut(Schema):
    work_order_id: int
    number: str
    status: str
    due_date: date


class StalePlanOut(Schema):
    plan_id: int
    name: str
    site_id: int
    site_name: str
    work_orders: list[StaleWorkOrderOut] = Field(description="The last ones, newest first.")


class StalePlansOut(Schema):
    last_n: int
    items: list[StalePlanOut]
