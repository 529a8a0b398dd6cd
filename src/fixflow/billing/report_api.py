"""Report endpoints of the billing API: the revenue-leakage report, ``GET /billing/leakage``, as JSON or,
with ``?format=csv``, as one CSV table (a ``section`` column; ``&section=`` for one part only).

For the people who bill (admins, dispatchers, accountants); others get 403. ``days`` (0–3650) replaces
the billing settings' threshold for closed work not invoiced.
"""

from __future__ import annotations

import csv
from dataclasses import asdict

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from fixflow.core import clock
from fixflow.core.api_support import actor_of

from . import report_selectors as reports
from .report_schemas import LeakageOut, LeakageQuery

router = Router()

TAGS = ["billing reports"]


def _summary(section) -> dict:
    return {
        "count": section.count,
        "totals": [asdict(t) for t in section.totals],
        "without_estimate": section.without_estimate,
    }


def _leakage_json(report) -> dict:
    summary = reports.summarize(report)
    return {
        "days": report.days,
        "generated_at": clock.now(),
        "unbilled": {
            **_summary(summary.unbilled),
            "items": [
                {
                    "work_order_id": u.work_order.pk,
                    "number": u.work_order.number,
                    "title": u.work_order.title,
                    "client_id": u.work_order.client_id,
                    "client": u.work_order.client.name,
                    "closed_at": u.closed_at,
                    "days_waiting": u.days_waiting,
                    "is_on_draft": u.is_on_draft,
                    "estimate": reports.money(u.estimate, u.currency),
                    "currency": u.currency,
                    "problem": u.problem,
                }
                for u in report.unbilled
            ],
        },
        "late_facts": {
            **_summary(summary.late_facts),
            "items": [
                {
                    "kind": f.kind,
                    "fact_id": f.fact_id,
                    "work_order_id": f.work_order.pk,
                    "number": f.work_order.number,
                    "client_id": f.work_order.client_id,
                    "client": f.work_order.client.name,
                    "recorded_at": f.recorded_at,
                    "description": f.description,
                    "estimate": reports.money(f.estimate, f.currency),
                    "currency": f.currency,
                    "problem": f.problem,
                }
                for f in report.late_facts
            ],
        },
        "quotes_not_converted": {
            **_summary(summary.quotes),
            "items": [
                {
                    "quote_id": q.pk,
                    "number": q.number,
                    "title": q.title,
                    "client_id": q.client_id,
                    "client": q.client.name,
                    "accepted_at": q.decided_at,
                    "total_net": reports.money(q.total_net, q.currency),
                    "currency": q.currency,
                }
                for q in report.quotes_not_converted
            ],
        },
    }


def leakage_csv_response(report, *, section: str | None, today) -> HttpResponse:
    """The CSV download of the report (shared with the report page)."""
    rows = reports.csv_rows(report, section=section)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{reports.csv_filename(report, section, today)}"'
    csv.writer(response).writerows(rows)
    return response


@router.get(
    "/billing/leakage",
    response=LeakageOut,
    url_name="billing_leakage",
    tags=TAGS,
    summary="Revenue leakage: closed work not invoiced, work recorded after invoicing, quotes not converted",
    openapi_extra={"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}},
)
def leakage(request: HttpRequest, query: Query[LeakageQuery]):
    actor = actor_of(request)
    report = reports.leakage(actor=actor, days=query.days, estimate=True)
    if query.format == "csv":
        today = clock.now().astimezone(actor.organization.tzinfo).date()
        return leakage_csv_response(report, section=query.section, today=today)
    return _leakage_json(report)
