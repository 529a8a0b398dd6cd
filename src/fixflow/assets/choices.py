from django.db import models
from django.utils.translation import gettext_lazy as _


class Criticality(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class EquipmentStatus(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    DOWN = "down", _("Down")
    RETIRED = "retired", _("Retired")
