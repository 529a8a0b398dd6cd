from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkOrderType(models.TextChoices):
    CORRECTIVE = "corrective", _("Corrective")
    PREVENTIVE = "preventive", _("Preventive")
    INSPECTION = "inspection", _("Inspection")
    INSTALLATION = "installation", _("Installation")


class Priority(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Status(models.TextChoices):
    NEW = "new", _("New")
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class StatusCategory(models.TextChoices):
    OPEN = "open", _("Open")
    PAUSED = "paused", _("Paused")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


STATUS_CATEGORY = {
    Status.NEW: StatusCategory.OPEN,
    Status.PLANNED: StatusCategory.OPEN,
    Status.IN_PROGRESS: StatusCategory.OPEN,
    Status.ON_HOLD: StatusCategory.PAUSED,
    Status.COMPLETED: StatusCategory.RESOLVED,
    Status.CLOSED: StatusCategory.CLOSED,
    Status.CANCELLED: StatusCategory.CANCELLED,
}
ACTIVE_STATUSES = frozenset({Status.NEW, Status.PLANNED, Status.IN_PROGRESS, Status.ON_HOLD})


class BillingStatus(models.TextChoices):
    NOT_BILLABLE = "not_billable", _("Not billable")
    TO_INVOICE = "to_invoice", _("To invoice")
    INVOICED = "invoiced", _("Invoiced")
    NO_CHARGE = "no_charge", _("No charge")


class HoldReason(models.TextChoices):
    WAITING_FOR_CLIENT = "waiting_for_client", _("Waiting for client")
    WAITING_FOR_PARTS = "waiting_for_parts", _("Waiting for parts")
    WAITING_FOR_ACCESS = "waiting_for_access", _("Waiting for access")
    OTHER = "other", _("Other")


class ChecklistKind(models.TextChoices):
    CHECKBOX = "checkbox", _("Checkbox")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Text")
    PASS_FAIL = "pass_fail", _("Pass / fail")


class RequestSource(models.TextChoices):
    WEB = "web", _("Web form")
    API = "api", _("API")
    PORTAL = "portal", _("Client portal")
    QR = "qr", _("QR code")
    EMAIL = "email", _("E-mail")


class RequestStatus(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")


class TimeKind(models.TextChoices):
    LABOUR = "labour", _("Labour")
    TRAVEL = "travel", _("Travel")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    TRANSITION = "transition", _("Status changed")
    UPDATED = "updated", _("Details changed")
    ASSIGNED = "assigned", _("Assignment changed")
    SCHEDULED = "scheduled", _("Schedule changed")
    CHECKLIST = "checklist", _("Checklist answered")
    TIME = "time", _("Time recorded")
    TIME_REMOVED = "time_removed", _("Time removed")
    PART = "part", _("Part used")
    PART_REMOVED = "part_removed", _("Part removed")
    MATERIAL = "material", _("Planned materials changed")
    NOTE = "note", _("Note added")
    ATTACHMENT = "attachment", _("Attachment added")
    SIGNATURE = "signature", _("Signed by client")
    BILLING = "billing", _("Billing status changed")
    FOLLOW_UP = "follow_up", _("Follow-up created")
