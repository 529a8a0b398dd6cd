"""The SLA app's periodic jobs (imported by ``fixflow.core.scheduler.jobs()``) and the re-send task."""

from django.tasks import task

from fixflow.core.scheduler import register

SCAN_INTERVAL_SECONDS = 60  # DOMAIN.md §2 rule 9: the scan runs every minute
RESEND_INTERVAL_SECONDS = 300


@task()
def send_unsent_sla_notifications() -> int:
    """Send the escalations still unsent (the queue was down, SMTP failed); returns how many went out."""
    from .notifications import send_unsent

    return send_unsent()


register("sla.scan", "fixflow.sla.tasks.sla_scan", interval_seconds=SCAN_INTERVAL_SECONDS)
register(
    "sla.send_unsent_notifications",
    "fixflow.sla.jobs.send_unsent_sla_notifications",
    interval_seconds=RESEND_INTERVAL_SECONDS,
)
