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


class MeterKind(models.TextChoices):
    CONTINUOUS = "continuous", _("Continuous (counter: hours, km, cycles)")
    GAUGE = "gauge", _("Gauge (level: temperature, pressure)")


class ReadingKind(models.TextChoices):
    READING = "reading", _("Reading")
    REPLACEMENT = "replacement", _("Meter replaced (new meter starts here)")
    ROLLOVER = "rollover", _("Rollover (the display started again at zero)")


class ReadingSource(models.TextChoices):
    PAGE = "page", _("Page")
    API = "api", _("API")
    PHONE = "phone", _("Phone")
    IMPORT = "import", _("Import")
