"""The field part of ``fixflow bench`` (issue 4): a phone's queue of offline commands synced in one request.

1. **Seed** an organization of its own ("Fixflow Field Benchmark", users at ``field-bench.fixflow.invalid``):
   one client and site, 20 pumps with a running-hours meter each, a template with three checklist items
   (one required), a catalogue of 50 parts, a dispatcher and a technician with 20 planned work orders
   assigned to them, through the services as the office would make them.
2. **Queue** N commands (default 1,000) from one device, as a technician's offline day makes them, per
   work order in turn: start, timer start, checklist answers, parts used, notes, meter readings, manual
   time, a photo (a 640×480 JPEG as the app resizes it), a resolution-notes edit with its base version,
   timer stop and completion; the phone's clock runs through the morning (one command every 20 seconds).
3. **Sync**: ``fixflow serve`` runs against the same database; the whole queue goes in one
   ``POST /api/v1/field/sync`` with the technician's token, timed end to end (target ≤ 5 s on PostgreSQL
   for 1,000 commands); every answer is checked (``applied``). The same batch is sent again: a replay,
   answered from the stored results without applying anything.
4. The organization is removed unless ``--keep``.

``fixflow bench --field-commands N [--field-only]`` runs it inside the benchmark's report (key ``field``);
``python -m fixflow.bench_field N`` runs it alone.
"""

from __future__ import annotations

import base64
import io
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx

from fixflow import bench

FIELD_ORG_NAME = "Fixflow Field Benchmark"
FIELD_EMAIL_DOMAIN = "field-bench.fixflow.invalid"
WORK_ORDERS = 20
PARTS = 50
SYNC_TARGET_SECONDS = 5.0
TARGET_COMMANDS = 1000
STEP = timedelta(seconds=20)  # the phone's clock between two commands


def bench_field(commands: int = TARGET_COMMANDS, *, keep: bool = False, log=print) -> dict[str, Any]:
    """Seed, queue, sync over HTTP, replay; the figures for the report."""
    from fixflow.core.models import Organization

    if Organization.objects.filter(name=FIELD_ORG_NAME).exists():
        _purge(log)
    morning = bench_now() - STEP * (commands + 10)  # the phone's clock at its first command
    started = time.perf_counter()
    with frozen_at(morning - timedelta(hours=1)):  # the office planned the work before the day began
        world = _seed(log)
    seed_seconds = time.perf_counter() - started
    try:
        queue = _queue(world, commands, morning)
        body = {"device_id": str(uuid.uuid4()), "commands": queue}
        payload = httpx.Request("POST", "http://x", json=body).content
        log(f"Syncing {len(queue)} commands ({len(payload) / 1024:.0f} KB) in one request…")
        with bench.running_server(log=log) as server:
            headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}
            with httpx.Client(base_url=server.url, timeout=900, headers=headers) as client:
                client.get("/api/v1/field/bundle")  # warm the process (imports, a connection)
                cpu_before = server.cpu_seconds()
                first, sync_seconds = _post(client, payload)
                sync_cpu_seconds = server.cpu_seconds() - cpu_before
                replay, replay_seconds = _post(client, payload)
        statuses = Counter(r["status"] for r in first["results"])
        refused = [r["message"] for r in first["results"] if r["status"] != "applied"][:5]
        return {
            "commands": len(queue),
            "types": dict(Counter(c["type"] for c in queue)),
            "work_orders": WORK_ORDERS,
            "request_kb": round(len(payload) / 1024),
            "seed_seconds": round(seed_seconds, 1),
            "sync_seconds": round(sync_seconds, 2),
            "per_command_ms": round(sync_seconds * 1000 / max(len(queue), 1), 2),
            "server_cpu_seconds": round(sync_cpu_seconds, 2),  # the server process's CPU for the sync request
            "statuses": dict(statuses),
            "not_applied_examples": refused,
            "replay_seconds": round(replay_seconds, 2),
            "replay_same_answers": replay["results"] == first["results"],
            "target_seconds": SYNC_TARGET_SECONDS,
            "met": sync_seconds <= SYNC_TARGET_SECONDS if len(queue) >= TARGET_COMMANDS else None,
        }
    finally:
        if keep:
            log("Kept the field benchmark organization (--keep).")
        else:
            _purge(log)


def _post(client: httpx.Client, payload: bytes) -> tuple[dict, float]:
    started = time.perf_counter()
    response = client.post("/api/v1/field/sync", content=payload)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"POST /field/sync answered {response.status_code}: {response.text[:500]}")
    return response.json(), seconds


def _purge(log) -> None:
    from fixflow.core.models import Organization

    for org_id in Organization.objects.filter(name=FIELD_ORG_NAME).values_list("pk", flat=True):
        bench.purge(org_id, email_domain=FIELD_EMAIL_DOMAIN)
    log("Removed the field benchmark organization.")


def _seed(log) -> dict[str, Any]:
    """The organization, its people and 20 planned work orders, through the services."""
    from fixflow.assets import meters
    from fixflow.assets.models import Equipment
    from fixflow.core.choices import Role
    from fixflow.core.models import Membership, Organization, User
    from fixflow.core.permissions import actor_for
    from fixflow.core.services import api_token_create
    from fixflow.customers.models import Client, Site
    from fixflow.inventory.models import Part
    from fixflow.service import services
    from fixflow.service.models import TemplateChecklistItem, WorkOrderTemplate

    log("Seeding the field benchmark organization…")
    org = Organization.objects.create(name=FIELD_ORG_NAME, work_order_prefix="FB")
    people = {}
    for role in (Role.DISPATCHER, Role.TECHNICIAN):
        user = User.objects.create_user(f"{role}@{FIELD_EMAIL_DOMAIN}", None, full_name=f"Field bench {role}")
        Membership.objects.create(organization=org, user=user, role=role)
        people[role] = actor_for(user, org.pk)
    dispatcher, technician = people[Role.DISPATCHER], people[Role.TECHNICIAN]
    client = Client.objects.create(organization=org, name="Stadtwerke Benchmark")
    site = Site.objects.create(organization=org, client=client, name="Pumpwerk", timezone="Europe/Berlin")
    template = WorkOrderTemplate.objects.create(organization=org, name="Pump service")
    for i, (label, kind, required) in enumerate(
        [("Check pressure", "number", True), ("Seal tight", "pass_fail", False), ("Area cleaned", "checkbox", False)]
    ):
        TemplateChecklistItem.objects.create(
            organization=org, template=template, position=i, label=label, kind=kind, is_required=required
        )
    parts = Part.objects.bulk_create(
        Part(organization=org, sku=f"FB-{i:03d}", name=f"Part {i}", unit_cost=2 + i, sale_price=4 + i)
        for i in range(PARTS)
    )
    work_orders = []
    start = bench_now()
    for i in range(WORK_ORDERS):
        equipment = Equipment.objects.create(organization=org, site=site, name=f"Pump P{i + 1}")
        meter = meters.meter_create(actor=dispatcher, equipment_id=equipment.pk, data={"name": "Hours", "unit": "h"})
        wo = services.work_order_create(
            actor=dispatcher,
            site_id=site.pk,
            equipment_id=equipment.pk,
            template_id=template.pk,
            lead_technician_id=technician.user_id,
            scheduled_start=start + timedelta(minutes=20 * i),
        )
        services.work_order_transition(actor=dispatcher, work_order_id=wo.pk, to="planned")
        wo.refresh_from_db()
        work_orders.append((wo, list(wo.checklist.values_list("pk", "kind")), meter.pk))
    _token, raw = api_token_create(actor=technician, name="fixflow bench (field)")
    return {"work_orders": work_orders, "parts": [p.pk for p in parts], "token": raw}


def bench_now():
    from fixflow.core import clock

    return clock.now()


def frozen_at(instant):
    from fixflow.core import clock

    return clock.frozen_at(instant)


def _photo() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((640, 480), 40).convert("RGB").save(out, "JPEG", quality=70)
    return base64.b64encode(out.getvalue()).decode()


def _queue(world: dict[str, Any], total: int, morning) -> list[dict[str, Any]]:
    """``total`` commands of a morning's offline work, work order after work order, in seq order."""
    per = max(13, -(-total // len(world["work_orders"])))  # every kind of command on each work order
    photo = _photo()
    queue: list[dict[str, Any]] = []
    clock_at = morning - STEP
    seq = 0
    for wo, checklist, meter_id in world["work_orders"]:
        steps = _steps(wo, checklist, meter_id, world["parts"], per, photo)
        for type_, payload, extra in steps:
            seq += 1
            clock_at += STEP
            if type_ == "time.add":
                payload = {**payload, "started_at": (clock_at - timedelta(minutes=30)).isoformat()}
            queue.append(
                {
                    "mutation_id": str(uuid.uuid4()),
                    "seq": seq,
                    "type": type_,
                    "work_order_id": wo.pk,
                    "payload": payload,
                    "occurred_at": clock_at.isoformat(),
                    **extra,
                }
            )
            if len(queue) == total:
                return queue
    return queue


def _steps(wo, checklist, meter_id, parts, per: int, photo: str) -> list[tuple[str, dict, dict]]:
    answers = {"number": "2.4", "pass_fail": "pass", "checkbox": "true"}
    head = [("transition", {"to": "in_progress"}, {}), ("timer.start", {}, {})]
    head += [("checklist.answer", {"item_id": pk, "value": answers[kind]}, {}) for pk, kind in checklist]
    tail = [
        ("photo.add", {"caption": "Seal before", "content_type": "image/jpeg", "data_base64": photo}, {}),
        (
            "field.update",
            {"fields": {"resolution_notes": "Replaced the shaft seal; pressure back to 2.4 bar."}},
            {"base_version": wo.version},
        ),
        ("timer.stop", {}, {}),
        ("transition", {"to": "completed"}, {}),
    ]
    middle = []
    kinds = ["part.use", "note.add", "reading.add", "time.add"]
    for i in range(max(0, per - len(head) - len(tail))):
        kind = kinds[i % len(kinds)]
        if kind == "part.use":
            middle.append((kind, {"part_id": parts[(wo.pk + i) % len(parts)], "quantity": "1"}, {}))
        elif kind == "note.add":
            middle.append((kind, {"body": f"Finding {i}: bearing noise at the drive end."}, {}))
        elif kind == "reading.add":
            middle.append((kind, {"meter_id": meter_id, "value": str(1000 + i)}, {}))
        else:
            middle.append((kind, {"duration_minutes": 15, "note": "Travel to the pump house"}, {}))
    return head + middle + tail


def main(argv: list[str] | None = None) -> int:
    """``python -m fixflow.bench_field [N] [--keep]``."""
    import argparse
    import json
    import os

    parser = argparse.ArgumentParser(prog="python -m fixflow.bench_field", description=__doc__.split("\n")[0])
    parser.add_argument("commands", type=int, nargs="?", default=TARGET_COMMANDS)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fixflow.settings")
    import django

    django.setup()
    result = bench_field(args.commands, keep=args.keep, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
