"""The billing app's periodic jobs (imported by ``fixflow.core.scheduler.jobs()``).

Each area registers its own job below its comment line; the tasks live beside the services they call.
"""

from fixflow.core.scheduler import register

# --- quotes: sent quotes past their validity become expired --------------------------------------
EXPIRE_QUOTES_INTERVAL_SECONDS = 15 * 60  # a quote expires at most 15 minutes after midnight (seller's time)

register(
    "billing.expire_quotes",
    "fixflow.billing.quote_tasks.expire_quotes",
    interval_seconds=EXPIRE_QUOTES_INTERVAL_SECONDS,
)
