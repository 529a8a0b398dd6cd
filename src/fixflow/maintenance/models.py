"""Preventive maintenance plans, the per-equipment state of each plan, and its occurrences (DOMAIN.md §3)."""

from datetime import time

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fixflow.core.models import TenantModel, VersionedModel

from .choices import DayShift, Mode, OccurrenceStatus, OpenPolicy, TriggerKind


class MaintenancePlan(VersionedModel):
    """What to do (a template), on what (one equipment item, or every item of a category at a site),
    and when: a calendar rule, a number of days after the last completion, a meter interval, or
    several of them (whichever comes first)."""

    name = models.CharField(_("name"), max_length=200)
    template = models.ForeignKey(
        "service.WorkOrderTemplate", on_delete=models.PROTECT, related_name="+", verbose_name=_("template")
    )
    site = models.ForeignKey("customers.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    equipment = models.ForeignKey(
        "assets.Equipment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="maintenance_plans",
        verbose_name=_("equipment"),
    )
    category = models.ForeignKey(
        "assets.EquipmentCategory",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("every equipment item of the category"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # calendar trigger: an RFC 5545 RRULE (no DTSTART/UNTIL/COUNT) from the anchor date
    rule = models.CharField(_("recurrence rule"), max_length=300, blank=True)
    anchor = models.DateField(_("first due date"))
    due_time = models.TimeField(_("due at (local time)"), default=time(9, 0))
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.FIXED)
    # floating trigger: N days after the last completion (the rule is not used in floating mode)
    interval_days = models.PositiveIntegerField(_("days after the last completion"), null=True, blank=True)
    # meter trigger
    meter_name = models.CharField(
        _("meter"), max_length=100, blank=True, help_text=_("The name of the equipment's meter, e.g. Running hours.")
    )
    meter_interval = models.DecimalField(
        _("every (meter units)"), max_digits=16, decimal_places=3, null=True, blank=True
    )
    meter_start = models.DecimalField(
        _("first due at (meter value)"), max_digits=16, decimal_places=3, null=True, blank=True
    )
    meter_mode = models.CharField(_("meter mode"), max_length=10, choices=Mode.choices, default=Mode.FIXED)
    lead_days = models.PositiveIntegerField(_("create the work order (days ahead)"), default=7)
    horizon_days = models.PositiveIntegerField(_("planning horizon (days)"), default=365)
    end_date = models.DateField(_("ends on"), null=True, blank=True)
    max_count = models.PositiveIntegerField(_("ends after (occurrences)"), null=True, blank=True)
    open_policy = models.CharField(
        _("when the previous one is still open"), max_length=10, choices=OpenPolicy.choices, default=OpenPolicy.SKIP
    )
    day_shift = models.CharField(
        _("on a non-working day"), max_length=10, choices=DayShift.choices, default=DayShift.NONE
    )
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("working days from"),
    )
    lead_technician = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("technician")
    )
    generated_until = models.DateField(null=True, blank=True, editable=False)
    # rule 9: every calendar date up to this one is on the planning calendar (``PlannedDates``) or
    # recorded; cleared when an edit or a calendar change may move the dates
    planned_until = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("maintenance plan")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(equipment__isnull=False) | Q(category__isnull=False), name="plan_targets_equipment"
            ),
        ]
        indexes = [models.Index(fields=["organization", "is_active", "site"], name="plan_org_active_site")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_calendar_trigger(self) -> bool:
        return bool(self.rule) and self.mode == Mode.FIXED

    @property
    def has_floating_trigger(self) -> bool:
        return self.mode == Mode.FLOATING and bool(self.interval_days)

    @property
    def has_meter_trigger(self) -> bool:
        return bool(self.meter_name) and self.meter_interval is not None


class PlanTarget(TenantModel):
    """A plan on one equipment item: where its floating and meter counters stand."""

    plan = models.ForeignKey(MaintenancePlan, on_delete=models.CASCADE, related_name="targets")
    equipment = models.ForeignKey("assets.Equipment", on_delete=models.CASCADE, related_name="+")
    next_due_date = models.DateField(null=True, blank=True, help_text="floating: last completion + interval")
    next_due_value = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    last_completed_at = models.DateTimeField(null=True, blank=True)
    last_completed_value = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    count = models.PositiveIntegerField(default=0, help_text="occurrences so far (for an end by count)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "equipment"], name="plan_target_once")]


class Occurrence(TenantModel):
    """One due occurrence of a plan on one equipment item, generated once (rule 6).

    ``key`` is the local due date (``2026-03-31``) or the due meter value (``m:1500``); the unique
    constraint makes a second or concurrent generator create nothing. A skipped or missed occurrence
    is kept with its reason for compliance; a cancelled work order keeps its occurrence and key.
    """

    plan = models.ForeignKey(MaintenancePlan, on_delete=models.CASCADE, related_name="occurrences")
    equipment = models.ForeignKey("assets.Equipment", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=40)
    trigger = models.CharField(max_length=10, choices=TriggerKind.choices)
    due_date = models.DateField(help_text="the local due date after the working-day shift")
    due_at = models.DateTimeField()
    due_value = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    status = models.CharField(max_length=10, choices=OccurrenceStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    is_catch_up = models.BooleanField(default=False)
    work_order = models.OneToOneField(
        "service.WorkOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="pm_occurrence"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("maintenance occurrence")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "equipment", "key"], name="occurrence_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["organization", "due_date"], name="occurrence_org_due"),
            models.Index(fields=["plan", "equipment", "-due_date"], name="occurrence_plan_recent"),
        ]


class PlannedDates(TenantModel):
    """The planning calendar of one target (a plan on one equipment item): its calendar occurrences from
    when it was planned up to the plan's ``planned_until``, without work orders (rule 9).

    ``generate_pm --until`` and the periodic job write it (``planning.plan_ahead``); the generator creates
    each work order ``lead_days`` before its due date; the forecast reads these dates instead of expanding
    the rule, skipping those recorded since (an :class:`Occurrence` holds the key) or passed. ``days`` is
    a list of ``[rule date, due date]`` (ISO dates; the due date after the working-day shift). One row per
    target keeps a year of 100,000 plans at 100,000 rows instead of 800,000 (decision 0009).
    """

    plan = models.ForeignKey(MaintenancePlan, on_delete=models.CASCADE, related_name="planned")
    equipment = models.ForeignKey("assets.Equipment", on_delete=models.CASCADE, related_name="+")
    days = models.JSONField(default=list)

    class Meta:
        verbose_name = _("planned maintenance dates")
        constraints = [models.UniqueConstraint(fields=["plan", "equipment"], name="planned_dates_once")]
