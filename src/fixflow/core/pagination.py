"""Keyset (cursor) pagination shared by the API and the pages: no OFFSET, no COUNT over the table.

The cursor is the sort values of the last row of the page, encoded opaquely. Sorting is always
completed by ``id`` so the order is total; nullable sort fields sort their NULLs last.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet

from .errors import DomainError, ErrorCode

MAX_LIMIT = 200


@dataclass
class Page:
    items: list
    next_cursor: str | None
    limit: int


def _encode(values: list[Any]) -> str:
    def plain(v):
        if isinstance(v, datetime | date):
            return {"t": v.isoformat()}
        if isinstance(v, Decimal):
            return {"d": str(v)}
        return v

    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, n: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != n:
            raise ValueError
        out = []
        for v in values:
            if isinstance(v, dict) and "t" in v:
                out.append(datetime.fromisoformat(v["t"]) if "T" in v["t"] else date.fromisoformat(v["t"]))
            elif isinstance(v, dict) and "d" in v:
                out.append(Decimal(v["d"]))
            else:
                out.append(v)
        return out
    except (ValueError, TypeError, InvalidOperation, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise _invalid_cursor() from None


def _invalid_cursor() -> DomainError:
    return DomainError(ErrorCode.VALIDATION, "The cursor is not valid; start again from the first page.",
                       field="cursor")


def paginate(qs: QuerySet, *, ordering: list[str], cursor: str | None = None, limit: int = 50) -> Page:
    """One page of ``qs`` sorted by ``ordering`` (field names, ``-`` for descending), after ``cursor``."""
    if limit < 1 or limit > MAX_LIMIT:
        raise DomainError(ErrorCode.VALIDATION, f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    keys = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    if keys[-1][0] not in ("id", "pk"):
        keys.append(("id", keys[-1][1] if keys else False))
    order_by = [F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True) for name, desc in keys]
    qs = qs.order_by(*order_by)
    if cursor:
        values = _decode(cursor, len(keys))
        condition = Q(pk__in=[])
        equal = Q()
        for (name, desc), value in zip(keys, values, strict=True):
            if value is None:
                after = Q(pk__in=[])
                same = Q(**{f"{name}__isnull": True})
            else:
                after = Q(**{f"{name}__{'lt' if desc else 'gt'}": value}) | Q(**{f"{name}__isnull": True})
                same = Q(**{name: value})
            condition |= equal & after
            equal &= same
        try:  # a value of the wrong type for its column (a tampered cursor) fails when the lookup is built
            qs = qs.filter(condition)
        except (ValueError, TypeError, ValidationError):
            raise _invalid_cursor() from None
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([_attr(last, name) for name, _ in keys])
    return Page(rows, next_cursor, limit)


def _attr(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part)
    return getattr(obj, "pk", obj) if hasattr(obj, "_meta") else obj
