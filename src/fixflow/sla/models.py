"""Business calendars, SLA policies, and the SLA clocks of each work order (DOMAIN.md §2)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fixflow.core.models import TenantModel, VersionedModel, validate_timezone

from .choices import NotificationLevel, ResponseMetOn, SlaState, Target


def default_week() -> list:
    """Monday to Friday 08:00–17:00."""
    return [[["08:00", "17:00"]]] * 5 + [[], []]


def default_pausing_reasons() -> list:
    return ["waiting_for_client", "waiting_for_parts"]


class BusinessCalendar(VersionedModel):
    """Working hours per weekday in a time zone, and holidays. ``is_24x7``: the built-in calendar."""

    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_timezone])
    week = models.JSONField(
        _("working hours"),
        default=default_week,
        help_text=_('Seven lists (Monday first) of working intervals such as ["08:00", "17:00"].'),
    )
    is_24x7 = models.BooleanField(_("24×7"), default=False, editable=False)

    class Meta:
        verbose_name = _("business calendar")
        ordering = ["-is_24x7", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="calendar_unique_name"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_24x7=True), name="calendar_one_24x7_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Holiday(TenantModel):
    """A local date without working time in one calendar."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("holiday")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SlaPolicy(VersionedModel):
    """Targets per priority on a calendar, for the work orders its conditions match.

    Policies are ordered by ``position``; the first whose conditions all match applies (an empty
    condition matches everything); the default policy matches what no other does and always exists.
    ``targets`` maps each priority to ``{"response": minutes, "resolution": minutes}`` of business time.
    """

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_default = models.BooleanField(_("default policy"), default=False, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies", verbose_name=_("calendar")
    )
    clients = models.ManyToManyField("customers.Client", blank=True, related_name="+", verbose_name=_("clients"))
    sites = models.ManyToManyField("customers.Site", blank=True, related_name="+", verbose_name=_("sites"))
    priorities = models.JSONField(_("priorities"), default=list, blank=True)
    types = models.JSONField(_("work order types"), default=list, blank=True)
    criticalities = models.JSONField(_("equipment criticalities"), default=list, blank=True)
    targets = models.JSONField(_("targets"), default=dict)
    at_risk_percent = models.PositiveSmallIntegerField(
        _("at risk at (% of target used)"), default=80, help_text=_("Between 1 and 99.")
    )
    response_met_on = models.CharField(
        _("response is met when"), max_length=12, choices=ResponseMetOn.choices, default=ResponseMetOn.START
    )
    pausing_hold_reasons = models.JSONField(
        _("hold reasons that pause the resolution clock"), default=default_pausing_reasons, blank=True
    )
    notify_technician = models.BooleanField(_("notify the assigned technician"), default=False)
    escalation_email = models.EmailField(_("escalation address"), blank=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["is_default", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="sla_policy_unique_name"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True), name="sla_policy_one_default_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WorkOrderSla(TenantModel):
    """The policy applied to one work order, as a snapshot (rule 4): later edits do not change it."""

    work_order = models.OneToOneField("service.WorkOrder", on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    policy_name = models.CharField(max_length=200)
    policy_version = models.PositiveIntegerField()
    calendar = models.JSONField(help_text="name, timezone, week, holidays (ISO dates), is_24x7")
    targets = models.JSONField()
    at_risk_percent = models.PositiveSmallIntegerField()
    response_met_on = models.CharField(max_length=12, choices=ResponseMetOn.choices)
    pausing_hold_reasons = models.JSONField(default=list)
    notify_technician = models.BooleanField(default=False)
    escalation_email = models.EmailField(blank=True)
    started_at = models.DateTimeField(help_text="the instant the clocks start (the request's arrival)")
    applied_at = models.DateTimeField()
    recalculated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("applied SLA")


class SlaClock(TenantModel):
    """One target of one work order in one cycle: its due instant and state.

    A reopen starts a new resolution cycle (``cycle`` + 1); the earlier row stays for reports with
    ``is_current`` False. ``paused_seconds`` is the business time of the finished pauses;
    ``paused_since`` is set while a pause lasts (``due_at`` is then unknown and empty).
    """

    work_order = models.ForeignKey("service.WorkOrder", on_delete=models.CASCADE, related_name="sla_clocks")
    target = models.CharField(max_length=10, choices=Target.choices)
    cycle = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    priority = models.CharField(max_length=10)
    target_minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    paused_seconds = models.PositiveIntegerField(default=0)
    paused_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=SlaState.choices, default=SlaState.PENDING)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA clock")
        ordering = ["work_order", "target", "cycle"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "target", "cycle"], name="sla_clock_once_per_cycle"),
        ]
        indexes = [
            # the breach scan: running clocks whose threshold has passed, over all organizations
            models.Index(
                fields=["at_risk_at"], name="sla_clock_risk_scan", condition=Q(state="pending", paused_since=None)
            ),
            models.Index(
                fields=["due_at"],
                name="sla_clock_due_scan",
                condition=Q(state__in=["pending", "at_risk"], paused_since=None),
            ),
            models.Index(fields=["organization", "target", "started_at"], name="sla_clock_report"),
        ]

    @property
    def is_running(self) -> bool:
        return self.state in (SlaState.PENDING, SlaState.AT_RISK) and self.paused_since is None


class SlaPause(TenantModel):
    """A pause of a work order's resolution clock (rule 7): from going on hold to resuming."""

    work_order = models.ForeignKey("service.WorkOrder", on_delete=models.CASCADE, related_name="sla_pauses")
    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=40)
    business_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA pause")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clock"], condition=Q(ended_at=None), name="sla_pause_one_open_per_clock")
        ]


class SlaNotification(TenantModel):
    """An escalation, once per (work order, target, level, cycle) whatever the number of scans (rule 10)."""

    work_order = models.ForeignKey("service.WorkOrder", on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=10, choices=Target.choices)
    level = models.CharField(max_length=10, choices=NotificationLevel.choices)
    cycle = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="a sender holds it until then")
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("SLA notification")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "target", "level", "cycle"], name="sla_notification_once_per_key"
            )
        ]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="sla_notification_unsent")]


__all__ = [
    "BusinessCalendar",
    "Holiday",
    "SlaClock",
    "SlaNotification",
    "SlaPause",
    "SlaPolicy",
    "WorkOrderSla",
]
