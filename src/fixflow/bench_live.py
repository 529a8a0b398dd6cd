"""The live events part of ``fixflow bench`` (issue 4): many office pages on one server, each event on time.

1. **Seed** an organization of its own ("Fixflow Live Benchmark", users at ``live-bench.fixflow.invalid``):
   one dispatcher per subscribed page (each page its own signed-in session), a technician, and twenty
   work orders in progress assigned to the technician.
2. **Serve**: ``fixflow serve`` as a subprocess (one process) against the same database
   (:func:`fixflow.bench.running_server`).
3. **Subscribe** N pages at once (``--live-subscribers``, default 100 in the issue's target): N httpx
   async streams of ``/live/events/``, each until its ``hello``.
4. **Write** the events the way a technician's phone does, through the services: notes on random work
   orders, one every ``interval`` seconds (each its own transaction, committed), recording when each
   commit returned.
5. **Measure** for every (event, page) pair the time from the commit to the moment the page's stream
   delivered the event (same process, same monotonic clock), and per event the time until the *last*
   page had it. Reported: p50/p95/p99/max in ms, deliveries missing, the server's memory and CPU, the
   database (LISTEN/NOTIFY on PostgreSQL, the 0.5 s poll on SQLite). Target: each event delivered to
   every page within 2 s (max and p95).

``fixflow bench --live-subscribers N [--live-only]`` runs it inside the benchmark's report (key ``live``);
``python -m fixflow.bench_live`` runs it alone.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, connections

from fixflow import bench

LIVE_ORG_NAME = "Fixflow Live Benchmark"
LIVE_EMAIL_DOMAIN = "live-bench.fixflow.invalid"
WORK_ORDERS = 20
TARGET_MS = 2000.0
SETTLE_SECONDS = 10.0  # how long to wait for the last deliveries after the last write


def seed_live(subscribers: int) -> dict[str, Any]:
    """The organization, its people and work orders in progress; returns ids and session keys."""
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from fixflow.assets.models import Equipment
    from fixflow.core import clock
    from fixflow.core.choices import Role
    from fixflow.core.models import Membership, Organization, User
    from fixflow.core.permissions import actor_for
    from fixflow.customers.models import Client, Site
    from fixflow.service import services

    for org_id in Organization.objects.filter(name=LIVE_ORG_NAME).values_list("pk", flat=True):
        bench.purge(org_id, email_domain=LIVE_EMAIL_DOMAIN)  # leftovers of an interrupted run
    org = Organization.objects.create(name=LIVE_ORG_NAME, currency="EUR", timezone="Europe/Berlin")
    technician = User.objects.create(email=f"tech@{LIVE_EMAIL_DOMAIN}", full_name="Live Technician")
    dispatchers = User.objects.bulk_create(
        [User(email=f"office{i:03d}@{LIVE_EMAIL_DOMAIN}", full_name=f"Office {i:03d}") for i in range(subscribers)]
    )
    Membership.objects.bulk_create(
        [Membership(organization=org, user=technician, role=Role.TECHNICIAN)]
        + [Membership(organization=org, user=u, role=Role.DISPATCHER) for u in dispatchers]
    )
    client = Client.objects.create(organization=org, name="Live Client")
    site = Site.objects.create(organization=org, client=client, name="Live Site", timezone="Europe/Berlin")
    unit = Equipment.objects.create(organization=org, site=site, name="Live Pump", public_token="livebench1")
    office, tech = actor_for(dispatchers[0], org.pk), actor_for(technician, org.pk)
    work_orders = []
    for i in range(WORK_ORDERS):
        wo = services.work_order_create(
            actor=office,
            site_id=site.pk,
            equipment_id=unit.pk,
            title=f"Live job {i}",
            lead_technician_id=tech.user_id,
            scheduled_start=clock.now() + timedelta(hours=1),
        )
        services.work_order_transition(actor=office, work_order_id=wo.pk, to="planned")
        services.work_order_transition(actor=tech, work_order_id=wo.pk, to="in_progress")
        work_orders.append(wo.pk)
    sessions = []
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    for user in dispatchers:  # a signed-in session per page, as the login page would leave it
        store = session_store()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    return {"organization_id": org.pk, "technician": tech, "work_orders": work_orders, "sessions": sessions}


class _Page:
    """One subscribed office page: its stream, and when each event arrived."""

    def __init__(self, client: httpx.AsyncClient, session_key: str):
        self.client, self.session_key = client, session_key
        self.arrived: dict[int, float] = {}
        self.ready = asyncio.Event()
        self.failure: str | None = None

    async def follow(self) -> None:
        cookies = {settings.SESSION_COOKIE_NAME: self.session_key}
        try:
            async with self.client.stream("GET", "/live/events/", cookies=cookies) as response:
                if response.status_code != 200:
                    self.failure = f"answered {response.status_code}"
                    return
                buffer = ""
                async for text in response.aiter_text():
                    now = time.perf_counter()
                    buffer += text
                    while "\n\n" in buffer:
                        frame, buffer = buffer.split("\n\n", 1)
                        self._read(frame, now)
        except httpx.HTTPError as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            self.ready.set()

    def _read(self, frame: str, now: float) -> None:
        fields = dict(line.split(": ", 1) for line in frame.split("\n") if ": " in line and not line.startswith(":"))
        if fields.get("event") == "hello":
            self.ready.set()
        elif fields.get("event") == "work_order":
            self.arrived.setdefault(json.loads(fields["data"])["id"], now)


def _write_events(seeded: dict[str, Any], events: int, interval: float) -> dict[int, float]:
    """Notes by the technician on random work orders; event id → when its commit returned."""
    from fixflow.service import services
    from fixflow.service.models import WorkOrderEvent

    rng = random.Random(11)
    committed: dict[int, float] = {}
    try:
        for i in range(events):
            started = time.perf_counter()
            wo_id = rng.choice(seeded["work_orders"])
            services.note_create(actor=seeded["technician"], work_order_id=wo_id, body=f"Live bench note {i}")
            committed_at = time.perf_counter()
            event_id = (
                WorkOrderEvent.objects.filter(work_order_id=wo_id).order_by("-id").values_list("id", flat=True)[0]
            )
            committed[event_id] = committed_at
            time.sleep(max(0.0, interval - (time.perf_counter() - started)))
    finally:
        connections.close_all()
    return committed


async def _measure(server: bench.Server, seeded: dict[str, Any], events: int, interval: float, log) -> dict[str, Any]:
    subscribers = len(seeded["sessions"])
    limits = httpx.Limits(max_connections=subscribers + 10, max_keepalive_connections=subscribers + 10)
    timeout = httpx.Timeout(30.0, read=None)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=timeout) as client:
        pages = [_Page(client, key) for key in seeded["sessions"]]
        started = time.perf_counter()
        tasks = [asyncio.create_task(page.follow()) for page in pages]
        await asyncio.wait_for(asyncio.gather(*(p.ready.wait() for p in pages)), 120)
        subscribe_seconds = time.perf_counter() - started
        failures = [p.failure for p in pages if p.failure]
        log(f"  {subscribers - len(failures)} of {subscribers} pages subscribed in {subscribe_seconds:.1f} s.")
        rss_subscribed = server.rss()
        cpu_before = server.cpu_seconds()
        committed = await asyncio.to_thread(_write_events, seeded, events, interval)
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline and any(len(p.arrived) < len(committed) for p in pages if not p.failure):
            await asyncio.sleep(0.1)
        cpu_seconds = server.cpu_seconds() - cpu_before
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies: list[float] = []
    last_page: list[float] = []
    missing = 0
    for event_id, at in committed.items():
        arrivals = [p.arrived.get(event_id) for p in pages if not p.failure]
        missing += sum(1 for a in arrivals if a is None)
        got = [(a - at) * 1000 for a in arrivals if a is not None]
        latencies += got
        if got:
            last_page.append(max(got))
    return {
        "subscribe_seconds": round(subscribe_seconds, 2),
        "subscribe_failures": failures[:5],
        "deliveries": len(latencies),
        "missing_deliveries": missing,
        "delivery": bench._percentiles(latencies),
        "last_page_per_event": bench._percentiles(last_page),
        "server_rss_subscribed_mb": round(rss_subscribed / 2**20, 1),
        "server_cpu_seconds_while_writing": round(cpu_seconds, 2),
    }


def bench_live(subscribers: int = 100, events: int = 200, *, interval: float = 0.05, keep: bool = False, log=print):
    """Seed, serve, subscribe ``subscribers`` pages, write ``events`` events; the report section."""
    log(f"Seeding the live benchmark ({subscribers} office pages) on {connection.vendor}…")
    seeded = seed_live(subscribers)
    try:
        with bench.running_server(log=log) as server:
            result = asyncio.run(_measure(server, seeded, events, interval, log))
        delivery = result["delivery"]
        report = {
            "database": connection.vendor,
            "source": "LISTEN/NOTIFY" if connection.vendor == "postgresql" else "poll of the event table every 0.5 s",
            "subscribers": subscribers,
            "events": events,
            "write_interval_ms": round(interval * 1000),
            **result,
            "delivery_p95_ms": delivery["p95_ms"],
            "delivery_max_ms": delivery["max_ms"],
        }
        met = result["missing_deliveries"] == 0 and (delivery["max_ms"] or 0) <= TARGET_MS
        report["targets"] = {"every_event_within_ms": {"value": delivery["max_ms"], "target": "<= 2000", "met": met}}
        log(
            f"  Live events: {result['deliveries']} deliveries, p95 {delivery['p95_ms']} ms,"
            f" max {delivery['max_ms']} ms, {result['missing_deliveries']} missing."
        )
        return report
    finally:
        if keep:
            log("Kept the live benchmark organization (--keep).")
        else:
            bench.purge(seeded["organization_id"], email_domain=LIVE_EMAIL_DOMAIN)


def main(argv: list[str] | None = None) -> int:
    """``python -m fixflow.bench_live``: only the live events part, as JSON on stdout."""
    import argparse
    import os

    parser = argparse.ArgumentParser(prog="python -m fixflow.bench_live", description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100, help="office pages subscribed at once")
    parser.add_argument("--events", type=int, default=200, help="events written")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two events")
    parser.add_argument("--keep", action="store_true", help="keep the seeded organization")
    args = parser.parse_args(argv)
    if args.subscribers < 1 or args.events < 1 or args.interval < 0:
        parser.error("--subscribers and --events must be at least 1, --interval not negative")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fixflow.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    report = bench_live(args.subscribers, args.events, interval=args.interval, keep=args.keep, log=log)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
