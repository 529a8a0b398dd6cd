from django.db import models
from django.utils.translation import gettext_lazy as _


class CommandType(models.TextChoices):
    """What a technician did offline: one service call each (DOMAIN.md §5 rule 2)."""

    TRANSITION = "transition", _("Status change")
    TIMER_START = "timer.start", _("Timer started")
    TIMER_STOP = "timer.stop", _("Timer stopped")
    TIME_ADD = "time.add", _("Time recorded")
    PART_USE = "part.use", _("Part used")
    CHECKLIST_ANSWER = "checklist.answer", _("Checklist answered")
    NOTE_ADD = "note.add", _("Note added")
    PHOTO_ADD = "photo.add", _("Photo added")
    SIGNATURE_ADD = "signature.add", _("Signature captured")
    READING_ADD = "reading.add", _("Meter reading")
    FIELD_UPDATE = "field.update", _("Details edited")


# Records that only add to a work order (rule 3): accepted whatever changed meanwhile, held when the work
# order is closed, cancelled or invoiced. Transitions and field edits follow their own rules (4, 5).
APPEND_ONLY = frozenset(CommandType) - {CommandType.TRANSITION, CommandType.FIELD_UPDATE}


class CommandStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for earlier changes")
    APPLIED = "applied", _("Applied")
    REFUSED = "refused", _("Refused")
    HELD = "held", _("Held for the office")


class HoldReason(models.TextChoices):
    CLOSED = "closed", _("Work order closed")
    CANCELLED = "cancelled", _("Work order cancelled")
    INVOICED = "invoiced", _("Work order invoiced")
    CONFLICT = "conflict", _("Changed in the office too")
    ERROR = "error", _("Could not be applied")


class Resolution(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
