"""Background tasks of the quotes, run by ``fixflow worker`` (django-tasks-db)."""

from django.tasks import task


@task()
def expire_quotes() -> int:
    """Sent quotes past their validity become ``expired``; the scheduler queues this every 15 minutes."""
    from .quote_services import quote_expire_due

    return quote_expire_due()
