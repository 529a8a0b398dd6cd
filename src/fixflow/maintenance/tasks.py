"""Background tasks of the maintenance app, run by ``fixflow worker`` (django-tasks-db)."""

from django.tasks import task

from . import generator


@task()
def generate_pm(organization_id: int | None = None) -> dict:
    """Generate the preventive maintenance work orders due now for every active plan (or one
    organization's); the worker's scheduler queues it every 15 minutes. Idempotent: a run that overlaps
    another, or ``fixflow manage generate_pm``, creates nothing twice. Returns the counts and errors."""
    return generator.generate(organization_id=organization_id).as_dict()
