"""The accounting export as a CSV download (the API and the invoice list page serve the same file).

One row per VAT line (EN 16931 BG-23 group) of each issued invoice and credit note, as
:func:`selectors.accounting_rows` reads them: credit notes (type 381) have negative amounts, so the sums of a
column over a period are that period's revenue and VAT. Amounts have a dot as decimal separator and no
thousands separator; dates are ISO (``2026-03-16``); text that a spreadsheet would take for a formula is
written with a leading apostrophe.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date

from django.http import HttpResponse

from .selectors import AccountingRow

COLUMNS = (
    "number",
    "type",
    "issue_date",
    "due_date",
    "client",
    "client_vat_id",
    "buyer_reference",
    "currency",
    "vat_category",
    "vat_rate",
    "net",
    "vat",
    "gross",
    "exemption_reason",
    "exemption_code",
    "credited_invoice",
    "status",
)


def _safe(text: str) -> str:
    """Text cells that start like a formula (``=``, ``+``, ``-``, ``@``) are kept as text (CSV injection)."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def row_values(row: AccountingRow) -> list[str]:
    return [
        _safe(row.number),
        row.document_type,
        row.issue_date.isoformat(),
        row.due_date.isoformat() if row.due_date else "",
        _safe(row.client),
        _safe(row.client_vat_id),
        _safe(row.buyer_reference),
        row.currency,
        row.category,
        f"{row.rate:.2f}",
        str(row.net),
        str(row.tax),
        str(row.gross),
        _safe(row.exemption_reason),
        _safe(row.exemption_code),
        _safe(row.credited_invoice),
        row.status,
    ]


def write_accounting_csv(rows: Iterable[AccountingRow], out) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row_values(row))


def accounting_csv_response(rows: Iterable[AccountingRow], date_from: date, date_to: date) -> HttpResponse:
    """The CSV as a download named for its period; the rows are read before the response starts, so a
    refusal (a period that ends before it starts) is still a clean error, not a broken download."""
    rows = list(rows)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"accounting-{date_from.isoformat()}-{date_to.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-cache"
    write_accounting_csv(rows, response)
    return response
