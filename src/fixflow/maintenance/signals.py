"""Receivers of the maintenance app: a change of a working-day calendar moves the shifted due dates of the
plans that use it, so their planning calendar (rule 9) is made again on the next run."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from fixflow.sla.models import BusinessCalendar

from .choices import DayShift
from .models import MaintenancePlan


@receiver(post_save, sender=BusinessCalendar, dispatch_uid="maintenance_calendar_changed")
def calendar_changed(sender, instance: BusinessCalendar, created: bool, **kwargs) -> None:
    """Every edit of a calendar and of its holidays saves the calendar (its version moves)."""
    if created:
        return
    from .planning import forget

    forget(MaintenancePlan.objects.filter(calendar_id=instance.pk).exclude(day_shift=DayShift.NONE))
