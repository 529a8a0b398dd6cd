"""``fixflow manage load_demo``: the demo organization with 90 days of work (see ``fixflow.demo``)."""

import time

from django.core.management.base import BaseCommand

from fixflow.core.choices import Role
from fixflow.demo import ORG_NAME, load_demo


class Command(BaseCommand):
    help = (
        f"Load the demo organization ({ORG_NAME}) with clients, sites, equipment and 90 days of work "
        "orders, and print the demo logins. Does nothing when the demo organization already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where the server will be reachable (only printed)."
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        result = load_demo()
        out = self.stdout
        if result.created:
            c = result.counts
            out.write(
                self.style.SUCCESS(
                    f"Loaded the demo organization “{ORG_NAME}” in {time.monotonic() - started:.1f} s: "
                    f"{c['clients']} clients, {c['sites']} sites, {c['equipment']} equipment, {c['parts']} parts, "
                    f"{c['templates']} templates, {c['work_orders']} work orders, {c['work_requests']} requests."
                )
            )
        else:
            out.write(f"The demo organization “{ORG_NAME}” already exists; nothing was changed.")
        rows = [(Role(login.role).label, login.email, login.password, login.full_name) for login in result.logins]
        widths = [max(len(r[i]) for r in [("Role", "E-mail", "Password", "Name"), *rows]) for i in range(4)]
        out.write("")
        for i, row in enumerate([("Role", "E-mail", "Password", "Name"), *rows]):
            out.write("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
            if i == 0:
                out.write("  " + "  ".join("-" * w for w in widths))
        out.write("")
        out.write(
            f"Sign in at {options['url']} once the server runs (`fixflow demo` starts it; after "
            "`--no-serve`, start it with `fixflow serve`)."
        )
