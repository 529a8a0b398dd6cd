"""The maintenance app's periodic jobs (imported by ``fixflow.core.scheduler.jobs()``)."""

from fixflow.core.scheduler import register

GENERATE_INTERVAL_SECONDS = 15 * 60  # the generator looks for due plans every 15 minutes

register("maintenance.generate", "fixflow.maintenance.tasks.generate_pm", interval_seconds=GENERATE_INTERVAL_SECONDS)
