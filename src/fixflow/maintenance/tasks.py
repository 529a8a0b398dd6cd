"""Background tasks of the maintenance app, run by ``fixflow worker`` (django-tasks-db)."""

from django.tasks import task

from . import generator, planning


@task()
def generate_pm(organization_id: int | None = None) -> dict:
    """Generate the preventive maintenance work orders due now (``lead_days`` before their due date) for
    every active plan (or one organization's), then keep each plan's planning calendar filled up to its
    horizon (rule 9); the worker's scheduler queues it every 15 minutes. Idempotent: a run that overlaps
    another, or ``fixflow manage generate_pm``, creates nothing twice. Returns the counts and errors."""
    result = generator.generate(organization_id=organization_id).as_dict()
    planned = planning.plan_ahead(organization_id=organization_id)
    result["planned_occurrences"] = planned.occurrences
    return result
