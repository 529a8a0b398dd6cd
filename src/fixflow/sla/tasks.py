"""Background tasks of the SLA app, run by ``fixflow worker`` (django-tasks-db)."""

from django.tasks import task

from . import engine


@task()
def sla_scan() -> dict:
    """The breach scan; the worker's scheduler queues it every minute."""
    return engine.scan()


@task()
def send_sla_notifications(notification_ids: list[int]) -> int:
    """Send the escalation e-mails of these notifications (each at most once); returns how many were sent."""
    from .notifications import send_notifications

    return send_notifications(notification_ids)
