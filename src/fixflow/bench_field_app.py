"""The technician app part of ``fixflow bench`` (issue 4): how fast the app and its "Today" list open on a
slow phone network, once the app has been opened before.

1. **Seed** an organization of its own ("Fixflow Field App Benchmark", users at
   ``field-app-bench.fixflow.invalid``): one technician with a full week, made through the domain
   services as the office and the technician would: N work orders (default 30) from a template with an
   eight-item checklist, at 25 sites of 5 clients (addresses, access notes, a contact), each on equipment
   with five earlier work orders as its history; a third of them for today (some started, one on hold,
   with time, parts and notes recorded), a third over the next six days, a third completed lately; and a
   catalogue of 200 parts.
2. **Serve**: ``fixflow serve`` on a free port (:func:`fixflow.bench.running_server`).
3. **Measure** in Chromium (Debian's; Playwright drives it), as a phone (390×844, touch): sign in, then
   throttle the network with the DevTools protocol (``Network.emulateNetworkConditions``: 400 ms
   latency, 400 kbit/s down and up, a slow 4G) for the page *and* for the app's service worker (attached
   through the browser's DevTools target), open ``/m/`` once (the first visit: the service worker keeps
   the app, the first sync stores the work orders), then reload it R times (default 7). Each time the
   page's own clock says when the "Today" list was on screen with the work orders
   (``performance.mark("fapp-list-shown")``, from navigation start) and when the fresh bundle from the
   server had been stored (``fapp-bundle-fresh``).
4. **Report** median and maximum per measure, the bundle's size, and the target (≤ 1.5 s to open). The
   organization is removed afterwards unless ``keep``.

``fixflow bench --field-app`` runs it inside the benchmark's report (key ``field_app``);
``python -m fixflow.bench_field_app`` runs it alone.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from fixflow import bench

ORG_NAME = "Fixflow Field App Benchmark"
EMAIL_DOMAIN = "field-app-bench.fixflow.invalid"
TECHNICIAN_EMAIL = f"technician@{EMAIL_DOMAIN}"
PREFIX = "FA"
OPEN_TARGET_MS = 1500.0
# a slow 4G: 400 ms round trip, 400 kbit/s each way (DevTools takes bytes per second)
SLOW_4G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
CHECKLIST = [
    ("Isolate and lock out", "checkbox", True),
    ("Inlet pressure (bar)", "number", True),
    ("Outlet pressure (bar)", "number", True),
    ("Vibration test", "pass_fail", True),
    ("Filters checked", "checkbox", False),
    ("Belt tension", "pass_fail", False),
    ("Remarks for the client", "text", False),
    ("Area left clean", "checkbox", True),
]


# --- seed -----------------------------------------------------------------------------------------------


def _people():
    from fixflow.core.choices import Role
    from fixflow.core.models import Membership, Organization, User
    from fixflow.core.permissions import actor_for

    org = Organization.objects.create(name=ORG_NAME, currency="EUR", timezone="Europe/Berlin", work_order_prefix=PREFIX)
    User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).delete()  # leftovers of an interrupted run
    password = make_password(bench.PASSWORD)
    office = User.objects.create(
        email=f"dispatcher@{EMAIL_DOMAIN}", full_name="App Bench Dispatcher", password=password
    )
    tech = User.objects.create(email=TECHNICIAN_EMAIL, full_name="App Bench Technician", password=password)
    Membership.objects.create(organization=org, user=office, role=Role.DISPATCHER)
    Membership.objects.create(organization=org, user=tech, role=Role.TECHNICIAN)
    return org, actor_for(office, org.pk), actor_for(tech, org.pk)


def _places(org):
    from fixflow.assets.models import Equipment
    from fixflow.customers.models import Client, Contact, Site

    clients = Client.objects.bulk_create([Client(organization=org, name=f"Client {i}") for i in range(1, 6)])
    Contact.objects.bulk_create(
        [Contact(organization=org, client=c, name=f"Caretaker {c.name}", phone="+49 40 1234 5678") for c in clients]
    )
    sites = Site.objects.bulk_create(
        [
            Site(
                organization=org,
                client=clients[i % len(clients)],
                name=f"Site {i}",
                address=f"Hauptstraße {i}\n2{i:04d} Hamburg",
                access_notes="Key at the front desk; plant room in the basement, door B2.",
                timezone="Europe/Berlin",
            )
            for i in range(1, 26)
        ]
    )
    return Equipment.objects.bulk_create(
        [
            Equipment(
                organization=org,
                site=s,
                name=f"Pump {s.pk}",
                manufacturer="Grundfos",
                model="NBG 125",
                serial_number=f"SN-{s.pk:06d}",
                public_token=f"fabench{s.pk}",
            )
            for s in sites
        ]
    )


def _history(org, office, units) -> None:
    """Five closed work orders per unit: the equipment history the app shows."""
    from fixflow.core import clock
    from fixflow.service.models import WorkOrder

    now = clock.now()
    rows = [
        WorkOrder(
            organization=org,
            client_id=u.site.client_id,
            site=u.site,
            equipment=u,
            number=f"{PREFIX}-HIST-{u.pk}-{k}",
            title=f"Service visit {k}",
            status="closed",
            resolution_notes="Seal replaced, pressure back to 2 bar, vibration within limits.",
            completed_at=now - timedelta(days=30 * k),
            closed_at=now - timedelta(days=30 * k - 1),
            created_by=office.user,
        )
        for u in units
        for k in range(1, 6)
    ]
    WorkOrder.objects.bulk_create(rows)


def _work(office, tech, units, parts, template, work_orders: int) -> None:
    """The technician's week: a third today, a third in the next days, a third done lately."""
    from fixflow.core import clock
    from fixflow.service import services

    now = clock.now()
    for i in range(work_orders):
        unit = units[i % len(units)]
        group = i % 3  # 0 today, 1 upcoming, 2 done
        start = now.replace(hour=7, minute=0, second=0, microsecond=0) + timedelta(
            days=(1 + i % 6) if group == 1 else 0, minutes=45 * (i % 10)
        )
        wo = services.work_order_create(
            actor=office,
            title=f"Pump {unit.name} service {i + 1}",
            description="Annual service: check the seal, the bearings and the pressures; clean the strainer.",
            site_id=unit.site_id,
            equipment_id=unit.pk,
            template_id=template.pk,
            lead_technician_id=tech.user_id,
            scheduled_start=start,
        )
        services.work_order_transition(actor=office, work_order_id=wo.pk, to="planned")
        if group == 1 or (group == 0 and i % 2):
            continue
        services.work_order_transition(actor=tech, work_order_id=wo.pk, to="in_progress")
        services.time_entry_create(
            actor=tech, work_order_id=wo.pk, started_at=now - timedelta(hours=2), duration_minutes=45
        )
        services.part_usage_create(actor=tech, work_order_id=wo.pk, part_id=parts[i % len(parts)].pk, quantity=2)
        services.note_create(actor=tech, work_order_id=wo.pk, body="Strainer was clogged; cleaned.")
        if group == 2:
            for item in wo.checklist.filter(is_required=True):
                value = {"checkbox": "true", "number": "2.5", "pass_fail": "pass"}.get(item.kind, "ok")
                services.checklist_answer(actor=tech, work_order_id=wo.pk, item_id=item.pk, value=value)
            services.work_order_transition(
                actor=tech, work_order_id=wo.pk, to="completed", resolution_notes="Serviced, all values in range."
            )
        elif i % 6 == 0:
            services.work_order_transition(
                actor=tech, work_order_id=wo.pk, to="on_hold", hold_reason="waiting_for_parts", reason="Seal kit"
            )


@transaction.atomic
def seed(work_orders: int = 30):
    """The organization of this benchmark (see the module docstring); returns it."""
    from fixflow.inventory.models import Part
    from fixflow.service import services

    org, office, tech = _people()
    units = _places(org)
    parts = Part.objects.bulk_create(
        [
            Part(organization=org, sku=f"FA-{i:04d}", name=f"Spare part {i:03d}", barcode=f"40000{i:08d}")
            for i in range(1, 201)
        ]
    )
    template = services.template_create(
        actor=office,
        data={
            "name": "Pump service",
            "checklist": [{"label": lab, "kind": kind, "is_required": req} for lab, kind, req in CHECKLIST],
        },
    )
    _history(org, office, units)
    _work(office, tech, units, parts, template, work_orders)
    return org


def _purge_leftovers() -> None:
    from fixflow.core.models import Organization

    for org_id in Organization.objects.filter(name=ORG_NAME).values_list("pk", flat=True):
        bench.purge(org_id, email_domain=EMAIL_DOMAIN)


# --- measure --------------------------------------------------------------------------------------------


def chromium_executable() -> str | None:
    """Debian's Chromium, or the one ``FIXFLOW_CHROMIUM`` names (never a browser Playwright downloads)."""
    for candidate in (os.environ.get("FIXFLOW_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _throttle_service_worker(browser) -> bool:
    """Throttle the app's service worker too: it is its own DevTools target, which Playwright does not expose
    as a session, so attach to it through the browser's session. True when it was found and throttled."""
    session = browser.new_browser_cdp_session()
    workers = [t for t in session.send("Target.getTargets")["targetInfos"] if t["type"] == "service_worker"]
    for target in workers:
        attached = session.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})
        for n, (method, params) in enumerate((("Network.enable", {}), ("Network.emulateNetworkConditions", SLOW_4G))):
            message = json.dumps({"id": n + 1, "method": method, "params": params})
            session.send("Target.sendMessageToTarget", {"sessionId": attached["sessionId"], "message": message})
    return bool(workers)


def _marks(page) -> dict[str, float]:
    page.wait_for_function("performance.getEntriesByName('fapp-list-shown').length > 0", timeout=60_000)
    page.wait_for_function("performance.getEntriesByName('fapp-bundle-fresh').length > 0", timeout=60_000)
    return page.evaluate(
        """() => ({
            shown: performance.getEntriesByName('fapp-list-shown')[0].startTime,
            fresh: performance.getEntriesByName('fapp-bundle-fresh')[0].startTime,
            cards: document.querySelectorAll("[data-screen='today'] .fapp-card").length,
            bundleBytes: (performance.getEntriesByType('resource').find((e) => e.name.includes('/field/bundle'))
                || {}).encodedBodySize || null,
        })"""
    )


def measure(url: str, runs: int, log=print) -> dict[str, Any]:
    """Open the app once, then ``runs`` more times, on the throttled network (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    if executable is None:
        return {"skipped": "Chromium not found (apt-get install chromium, or set FIXFLOW_CHROMIUM)"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            context = browser.new_context(base_url=url, locale="en-GB", timezone_id="Europe/Berlin", **PHONE)
            page = context.new_page()
            page.goto("/login/?next=/m/")
            page.fill("input[name=username]", TECHNICIAN_EMAIL)
            page.fill("input[name=password]", bench.PASSWORD)
            page.click("form[action$='/login/'] button[type=submit]")
            page.wait_for_url("**/m/")
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_4G)
            log("First visit of /m/ on the throttled network…")
            page.goto("/m/", wait_until="commit")
            first = _marks(page)
            page.wait_for_selector("html[data-offline-ready][data-last-sync]", timeout=60_000)
            worker_throttled = _throttle_service_worker(browser)
            samples = []
            for n in range(runs):
                page.reload(wait_until="commit")
                samples.append(_marks(page))
                log(
                    f"  open {n + 1}: list on screen {samples[-1]['shown']:.0f} ms, fresh {samples[-1]['fresh']:.0f} ms"
                )
        finally:
            browser.close()
    shown = [s["shown"] for s in samples]
    fresh = [s["fresh"] for s in samples]
    return {
        "network": "400 ms latency, 400 kbit/s down and up (DevTools emulation)",
        "service_worker_throttled": worker_throttled,
        "runs": runs,
        "today_cards": samples[-1]["cards"],
        "bundle_bytes": samples[-1]["bundleBytes"],
        "first_visit_list_ms": round(first["shown"]),
        "open_median_ms": round(statistics.median(shown)),
        "open_max_ms": round(max(shown)),
        "fresh_bundle_median_ms": round(statistics.median(fresh)),
        "open_samples_ms": [round(x) for x in shown],
        "target_open_ms": OPEN_TARGET_MS,
        "met": statistics.median(shown) <= OPEN_TARGET_MS,
    }


def bench_field_app(work_orders: int = 30, runs: int = 7, *, keep: bool = False, log=print) -> dict[str, Any]:
    """Seed, serve, measure (see the module docstring)."""
    from fixflow.service.models import WorkOrder

    _purge_leftovers()
    started = time.perf_counter()
    org = seed(work_orders)
    log(f"Seeded the field app benchmark in {time.perf_counter() - started:.1f} s.")
    try:
        with bench.running_server(log=log) as server:
            result = measure(server.url, runs, log=log)
        result["work_orders"] = WorkOrder.objects.filter(organization=org, lead_technician__isnull=False).count()
        return result
    finally:
        if not keep:
            bench.purge(org.pk, email_domain=EMAIL_DOMAIN)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m fixflow.bench_field_app", description=__doc__.split("\n")[0])
    parser.add_argument("--work-orders", type=int, default=30, help="the technician's work orders")
    parser.add_argument("--runs", type=int, default=7, help="times the app is opened after the first visit")
    parser.add_argument("--keep", action="store_true", help="keep the seeded organization")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fixflow.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    load_before = [round(x, 2) for x in os.getloadavg()]
    result = bench_field_app(args.work_orders, args.runs, keep=args.keep, log=lambda m: print(m, file=sys.stderr))
    report = {
        "benchmark": "python -m fixflow.bench_field_app",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": bench._database_info(),
        "machine": {
            **bench._machine(),
            "load_average_before": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "results": {"field_app": result},
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if result.get("met", True) else 1


if __name__ == "__main__":
    sys.exit(main())
