from django.db import models
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    FIXED = "fixed", _("Fixed schedule (from the anchor)")
    FLOATING = "floating", _("Floating (after the last completion)")


class TriggerKind(models.TextChoices):
    CALENDAR = "calendar", _("Calendar")
    FLOATING = "floating", _("Days after completion")
    METER = "meter", _("Meter")


class OpenPolicy(models.TextChoices):
    SKIP = "skip", _("Skip the new one")
    STACK = "stack", _("Create it anyway")
    REPLACE = "replace", _("Cancel the old one and create the new one")


class DayShift(models.TextChoices):
    NONE = "none", _("Keep the date")
    PREVIOUS = "previous", _("Previous working day")
    NEXT = "next", _("Next working day")


class OccurrenceStatus(models.TextChoices):
    GENERATED = "generated", _("Work order created")
    SKIPPED = "skipped", _("Skipped")
    MISSED = "missed", _("Missed")
