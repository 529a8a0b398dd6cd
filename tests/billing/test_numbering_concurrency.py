"""Gap-free numbering under concurrency (DOMAIN.md §4 rule 8), on PostgreSQL: issues in one series from
several threads and from several processes at once get consecutive numbers, no gap, no duplicate.

The documents are stubbed (fixed bytes, with a short sleep while the series row is locked so the other
issues really queue behind it): what is tested here is the counter; test_documents.py tests rendering.
``FIXFLOW_TEST_ISSUES_PER_PROCESS`` sets how many invoices each of the 4 processes issues (default 50;
the issue asks for 4 × 200, run it so once: ``FIXFLOW_TEST_ISSUES_PER_PROCESS=200``).
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import pytest
from django.db import connection, connections

from fixflow.billing import services
from fixflow.billing.models import Invoice, InvoiceLine, InvoiceSeries
from fixflow.core import clock

from .factories import STUB_CII, STUB_PDF, STUB_UBL, billing_setup

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

PROCESSES = 4
PER_PROCESS = int(os.environ.get("FIXFLOW_TEST_ISSUES_PER_PROCESS", "50"))


def _drafts(world, count: int) -> list[int]:
    """``count`` drafts of 10.00 + 19 % VAT, made directly (fast); the issue is what is under test."""
    invoices = Invoice.objects.bulk_create(
        [
            Invoice(
                organization=world.org,
                series="INV",
                client=world.client if i % 2 else world.other_client,
                currency="EUR",
                total_net=D("10.00"),
                total_tax=D("1.90"),
                total_gross=D("11.90"),
                amount_due=D("11.90"),
            )
            for i in range(count)
        ]
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                organization=world.org,
                invoice=invoice,
                position=1,
                description="Inspection",
                quantity=D("1"),
                unit_price=D("10.00"),
                net_amount=D("10.00"),
                tax_category="S",
                tax_rate=D("19.00"),
            )
            for invoice in invoices
        ]
    )
    return [invoice.pk for invoice in invoices]


def _year(world) -> int:
    return clock.now().astimezone(world.org.tzinfo).year


def test_two_concurrent_issues_get_consecutive_numbers(world, monkeypatch):
    # given two drafts, and documents that take a moment while the series row is locked
    billing_setup(world)
    first, second = _drafts(world, 2)

    def slow(invoice):
        time.sleep(0.3)
        return services.Documents(pdf=STUB_PDF, xml_cii=STUB_CII, xml_ubl=STUB_UBL)

    monkeypatch.setattr(services, "_render_documents", slow)
    barrier = threading.Barrier(2)

    def issue(invoice_id):
        try:
            barrier.wait(timeout=10)
            return services.invoice_issue(actor=world.accountant, invoice_id=invoice_id).number
        finally:
            connections.close_all()

    # when both are issued at the same instant
    with ThreadPoolExecutor(2) as pool:
        numbers = sorted(pool.map(issue, [first, second]))
    # then
    year = _year(world)
    assert numbers == [f"INV-{year}-00001", f"INV-{year}-00002"]
    assert InvoiceSeries.objects.get(organization=world.org, code="INV").last_number == 2


WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import django

    django.setup()
    from fixflow.billing import services
    from fixflow.core.models import User
    from fixflow.core.permissions import actor_for

    services._render_documents = lambda invoice: services.Documents(
        pdf=b"%PDF-1.7 stub", xml_cii=b"<cii/>", xml_ubl=b"<ubl/>"
    )
    user_id, org_id, start_at, ids = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    actor = actor_for(User.objects.get(pk=user_id), org_id)
    ids = [int(i) for i in ids.split(",")]
    time.sleep(max(0.0, start_at - time.time()))
    out = []
    for invoice_id in ids:
        invoice = services.invoice_issue(actor=actor, invoice_id=invoice_id)
        out.append([invoice_id, invoice.number, time.time()])
    print(json.dumps(out))
    """
)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_four_processes_issuing_in_one_series_leave_no_gap_and_no_duplicate(world, tmp_path):
    # given 4 × N drafts, a quarter for each process
    billing_setup(world)
    ids = _drafts(world, PROCESSES * PER_PROCESS)
    chunks = [ids[i::PROCESSES] for i in range(PROCESSES)]
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "fixflow.settings",
        "FIXFLOW_DATABASE_URL": _database_url(),
        "FIXFLOW_DB_POOL": "0",
        "FIXFLOW_MEDIA_ROOT": str(tmp_path / "media"),
    }
    start_at = time.time() + 4  # every process waits for this instant, once Django is loaded
    # when they all issue at once
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(world.accountant.user.pk),
                str(world.org.pk),
                str(start_at),
                ",".join(map(str, chunk)),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for chunk in chunks
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=900)
        assert worker.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = max(at for result in results for _id, _number, at in result) - start_at
    # then: 1 … 4N, each once, and each process's own numbers increase
    year = _year(world)
    total = PROCESSES * PER_PROCESS
    numbers = sorted(number for result in results for _id, number, _at in result)
    assert numbers == [f"INV-{year}-{n:05d}" for n in range(1, total + 1)]
    for result in results:
        own = [number for _id, number, _at in result]
        assert own == sorted(own)
    assert InvoiceSeries.objects.get(organization=world.org, code="INV").last_number == total
    stored = sorted(Invoice.objects.filter(organization=world.org).values_list("number", flat=True))
    assert stored == numbers
    # and the processes really ran side by side: their numbers interleave
    owners = {number: i for i, result in enumerate(results) for _id, number, _at in result}
    switches = sum(1 for a, b in zip(numbers, numbers[1:], strict=False) if owners[a] != owners[b])
    assert switches >= PROCESSES - 1
    print(f"\n{PROCESSES} processes × {PER_PROCESS} invoices: {total} numbers in {elapsed:.1f} s, {switches} switches")
