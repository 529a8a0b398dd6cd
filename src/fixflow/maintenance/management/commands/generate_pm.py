"""``fixflow manage generate_pm --until DATE``: generate preventive maintenance now and plan ahead.

The same two steps as the worker's periodic job, idempotent, so it can run beside the worker or twice in a
row: the generator (``fixflow.maintenance.generator.generate``) creates the work orders whose creation day
(due date minus the plan's lead days) has come; then the planning calendar (``planning.plan_ahead``) is
filled with every calendar occurrence up to ``--until`` (a local date), never past a plan's horizon —
without work orders (DOMAIN.md §3 rule 9, decision 0009). Without ``--until``, up to each plan's horizon.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from fixflow.core import clock
from fixflow.core.errors import DomainError
from fixflow.core.models import Organization
from fixflow.maintenance import generator, planning
from fixflow.maintenance.models import MaintenancePlan

BAR_WIDTH = 30


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date such as 2027-01-31") from None


class ProgressBar:
    """A textual bar on stderr (``[#####.....]  50/100 plans``), redrawn only when it changes."""

    def __init__(self, stream, *, enabled: bool = True, what: str = "plans"):
        self.stream = stream
        self.what = what
        self.enabled = enabled
        self._last = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        filled = BAR_WIDTH * done // total
        if (filled, done == total) == self._last and done % 100:
            return
        self._last = (filled, done == total)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {done:>{len(str(total))}}/{total} {self.what}", ending="")
        if done == total:
            self.stream.write("")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Generate the preventive maintenance work orders due now (lead days before their due date) and put "
        "the calendar occurrences up to a date on the planning calendar, for every active plan, or for the "
        "given plans or organization. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--until",
            type=_date,
            default=None,
            metavar="DATE",
            help="Plan the calendar occurrences up to DATE (at most each plan's horizon; default: the horizon). "
            "Work orders are created only lead days before their due date.",
        )
        parser.add_argument(
            "--plan", type=int, action="append", dest="plans", metavar="ID", help="Only this plan (repeatable)."
        )
        parser.add_argument("--organization", type=int, metavar="ID", help="Only the plans of this organization.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, until: date | None, plans: list[int] | None, organization: int | None, **options):
        scope = MaintenancePlan.objects.all()
        if organization is not None:
            if not Organization.objects.filter(pk=organization).exists():
                raise CommandError(f"No such organization: {organization}.")
            scope = scope.filter(organization_id=organization)
        if plans:
            found = set(scope.filter(pk__in=plans).values_list("pk", flat=True))
            missing = sorted(set(plans) - found)
            if missing:
                raise CommandError(f"No such maintenance plan: {', '.join(map(str, missing))}.")
            paused = sorted(scope.filter(pk__in=plans, is_active=False).values_list("pk", flat=True))
            if paused:
                self.stderr.write(f"Paused, not generated: plan {', '.join(map(str, paused))}.")
        started = time.monotonic()
        try:
            generator.check_until(until, clock.now().date(), generator.MAX_UNTIL_DAYS, "five years ahead")
            stats = generator.generate(
                organization_id=organization,
                plan_ids=plans,
                progress=ProgressBar(self.stderr, enabled=not options["no_progress"]),
            )
            planned = planning.plan_ahead(
                until=until,
                organization_id=organization,
                plan_ids=plans,
                progress=ProgressBar(self.stderr, enabled=not options["no_progress"], what="plans planned"),
            )
        except DomainError as exc:  # --until too far ahead
            raise CommandError(f"--{exc.message}") from None
        for error in stats.errors:
            self.stderr.write(self.style.ERROR(f"Error: {error}"))
        replaced = f" ({stats.replaced} replacing an open one)" if stats.replaced else ""
        summary = (
            f"Generated and planned up to {until.isoformat() if until else 'the horizon'} in "
            f"{time.monotonic() - started:.1f} s: {stats.plans} plans, {stats.work_orders} work orders{replaced}, "
            f"{stats.skipped} skipped, {stats.missed} missed, {planned.occurrences} occurrences planned ahead, "
            f"{len(stats.errors)} errors."
        )
        if stats.errors:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
