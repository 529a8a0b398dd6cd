"""API schemas of the revenue-leakage report (``GET /billing/leakage``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from .report_selectors import MAX_DAYS


class LeakageQuery(Schema):
    days: int | None = Field(
        None, ge=0, le=MAX_DAYS, description="Closed for more than this many days; default: the billing settings'"
    )
    format: Literal["json", "csv"] = Field("json", description="csv: the rows of every section as one CSV table")
    section: Literal["unbilled", "late_facts", "quotes"] | None = Field(
        None, description="With format=csv: only this section"
    )


class AmountOut(Schema):
    amount: Decimal
    currency: str


class SectionSummaryOut(Schema):
    count: int
    totals: list[AmountOut] = Field(description="The estimated value per currency (never added across currencies)")
    without_estimate: int = Field(description="Rows that could not be priced (see their problem)")


class UnbilledOut(Schema):
    work_order_id: int
    number: str
    title: str
    client_id: int
    client: str
    closed_at: datetime
    days_waiting: int
    is_on_draft: bool
    estimate: Decimal | None
    currency: str
    problem: str


class LateFactOut(Schema):
    kind: Literal["time", "part", "charge"]
    fact_id: int = Field(description="The time entry, part usage or charge")
    work_order_id: int
    number: str
    client_id: int
    client: str
    recorded_at: datetime
    description: str
    estimate: Decimal | None
    currency: str
    problem: str


class QuoteNotConvertedOut(Schema):
    quote_id: int
    number: str
    title: str
    client_id: int
    client: str
    accepted_at: datetime | None
    total_net: Decimal
    currency: str


class UnbilledSectionOut(SectionSummaryOut):
    items: list[UnbilledOut]


class LateFactSectionOut(SectionSummaryOut):
    items: list[LateFactOut]


class QuoteSectionOut(SectionSummaryOut):
    items: list[QuoteNotConvertedOut]


class LeakageOut(Schema):
    days: int
    generated_at: datetime
    unbilled: UnbilledSectionOut
    late_facts: LateFactSectionOut
    quotes_not_converted: QuoteSectionOut
