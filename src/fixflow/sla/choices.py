from django.db import models
from django.utils.translation import gettext_lazy as _


class Target(models.TextChoices):
    RESPONSE = "response", _("Response")
    RESOLUTION = "resolution", _("Resolution")


class SlaState(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAUSED = "paused", _("Paused")
    AT_RISK = "at_risk", _("At risk")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


# Worst first: the work order's summary state is the worst of its current targets.
STATE_SEVERITY = {
    SlaState.BREACHED: 0,
    SlaState.AT_RISK: 1,
    SlaState.PENDING: 2,
    SlaState.PAUSED: 3,
    SlaState.MET: 4,
    SlaState.CANCELLED: 5,
}
# States the clock still runs in (the breach scan looks at these only).
RUNNING_STATES = frozenset({SlaState.PENDING, SlaState.AT_RISK})
FINAL_STATES = frozenset({SlaState.MET, SlaState.CANCELLED})


class ResponseMetOn(models.TextChoices):
    START = "start", _("Work started (technician on site)")
    ASSIGNMENT = "assignment", _("A technician is assigned")


class NotificationLevel(models.TextChoices):
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")


# Hold reasons that stop the resolution clock (DOMAIN.md §2 rule 7).
PAUSING_HOLD_REASONS = frozenset({"waiting_for_client", "waiting_for_parts"})

# The targets of the default policy created for a new organization, in business minutes.
DEFAULT_TARGETS = {
    "critical": {"response": 60, "resolution": 240},
    "high": {"response": 240, "resolution": 960},
    "normal": {"response": 480, "resolution": 2400},
    "low": {"response": 960, "resolution": 4800},
}

WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]
