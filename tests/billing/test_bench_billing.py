"""The billing part of ``fixflow bench`` at a tiny size: the seeded data is data the billing services take
as real (every sampled draft issues with valid CII and UBL), the figures count what they say, and the
benchmark organization goes away with its documents.

Timings are not asserted (a loaded test machine says nothing about them).
"""

from collections import Counter
from datetime import UTC, datetime

import pytest
from django.conf import settings

from fixflow import bench, bench_billing
from fixflow.billing.models import ClientBilling, Invoice, ServiceContract
from fixflow.core.models import Organization, User
from fixflow.service.models import PartUsage, TimeEntry, WorkOrder

pytestmark = pytest.mark.django_db

QUIET = {"log": lambda _msg: None}


def _files_under(path) -> list:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def test_the_billing_benchmark_invoices_every_seeded_work_order_issues_a_sample_and_removes_everything():
    # when
    report = bench_billing.bench_billing(80, 20, issue_sample=3, **QUIET)
    # then: one call put every work order on a draft, one draft per client, currency and tax regime
    invoicing = report["invoice_closed_work"]
    assert report["work_orders"] == 80 and report["clients"] == 20
    assert invoicing["work_orders_on_drafts"] == 80 and invoicing["work_orders_left"] == 0
    assert invoicing["invoices"] == sum(invoicing["invoices_by_currency_and_tax"].values())
    assert {"EUR S", "EUR AE", "EUR E", "USD S"} <= set(invoicing["invoices_by_currency_and_tax"])
    assert {"labour", "travel", "part", "call_out"} <= set(invoicing["lines_by_kind"])
    assert invoicing["lines"] == sum(invoicing["lines_by_kind"].values()) > 80
    assert invoicing["overtime_lines"] > 0 and invoicing["contract_lines"] > 0
    assert invoicing["queries"] > 0 and invoicing["seconds"] >= invoicing["query_seconds"] >= 0
    # the sample issued: valid e-invoices, nothing refused
    issue = report["issue"]
    assert issue["invoices"] == 3 and issue["refused"] == []
    assert sum(b["invoices"] for b in issue["by_lines"].values()) == 3
    documents = report["documents"]
    assert documents["invoices"] == 4 and documents["invalid"] == 0  # the warm-up issue is checked too
    assert len(documents["cpu_fit"]) == 8 and documents["pdf"]["median_ms"] > 0
    assert report["validate_median_ms"] == max(documents["check_cii"]["median_ms"], documents["check_ubl"]["median_ms"])
    assert report["targets"]["invoice_seconds"]["met"] is None  # judged only at 10,000 work orders
    # and nothing is left: rows, users, stored PDFs and XML
    assert not Organization.objects.filter(name=bench_billing.BILLING_ORG_NAME).exists()
    assert not User.objects.filter(email__endswith="@" + bench_billing.BILLING_EMAIL_DOMAIN).exists()
    assert not Invoice.objects.exists() and not WorkOrder.objects.exists()
    assert _files_under(settings.MEDIA_ROOT / "billing" / "invoices") == []


def test_the_seeded_work_is_closed_billable_and_shaped_as_the_services_record_it():
    # when
    seeded = bench_billing.seed_billing(120, 25, **QUIET)
    # then
    org = seeded.organization_id
    work_orders = WorkOrder.objects.filter(organization_id=org)
    assert work_orders.count() == 120 == seeded.work_orders
    assert set(work_orders.values_list("status", "billing_status", "is_billable")) == {("closed", "to_invoice", True)}
    now = datetime.now(UTC)
    for wo in work_orders:
        assert wo.created_at < wo.started_at < wo.completed_at <= wo.closed_at < now, wo.number
    numbers = list(work_orders.order_by("created_at", "id").values_list("number", flat=True))
    assert numbers == sorted(numbers)
    entries = TimeEntry.objects.filter(organization_id=org)
    assert set(entries.values_list("kind", flat=True)) == {"labour", "travel"}
    for e in entries.select_related("work_order"):
        assert e.ended_at > e.started_at and e.duration_minutes == (e.ended_at - e.started_at).total_seconds() // 60
        assert e.technician_id == e.work_order.lead_technician_id and e.ended_at <= e.work_order.completed_at
    assert PartUsage.objects.filter(organization_id=org, part__sale_price=0).exists()
    # one client in five has a single job: the small invoices of the issue sample
    per_client = Counter(work_orders.values_list("client_id", flat=True))
    assert sum(1 for n in per_client.values() if n == 1) >= 25 // bench_billing.OCCASIONAL_EVERY
    # the configuration is what the forms would accept
    for contract in ServiceContract.objects.filter(organization_id=org):
        contract.full_clean()
    for cb in ClientBilling.objects.filter(organization_id=org).select_related("client", "tax_rate"):
        cb.full_clean()
        if cb.tax_rate_id and cb.tax_rate.category == "AE":
            assert cb.country != "DE" and cb.client.vat_id.startswith(cb.country)
    bench_billing._remove(org)
    assert not WorkOrder.objects.exists() and not ServiceContract.objects.exists()


def test_billing_only_without_work_orders_is_refused():
    assert bench.run(work_orders=1, requests=1, keep=False, output=None, billing_only=True) == 2
