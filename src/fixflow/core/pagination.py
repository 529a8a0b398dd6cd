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
from functools import cmp_to_key
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
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
    return DomainError(
        ErrorCode.VALIDATION, "The cursor is not valid; start again from the first page.", field="cursor"
    )


def paginate(
    qs: QuerySet, *, ordering: list[str], cursor: str | None = None, limit: int = 50, branches: list[Q] | None = None
) -> Page:
    """One page of ``qs`` sorted by ``ordering`` (field names, ``-`` for descending), after ``cursor``.

    Every query reads its rows in the order of an index on the sort keys when there is one:
    non-nullable keys are sorted plainly (``DESC`` matches a descending index, ``DESC NULLS LAST``
    would not), and for a nullable first key the rows with a value and then its NULLs are read one
    after the other, the first part starting at the cursor (``key >= value`` is an index condition).

    ``branches``: conditions whose union is the wanted set, e.g. one per status of ``status IN (…)``.
    Each branch is read in sort order on its own (one index range each, at most ``limit + 1`` rows)
    and the rows are merged, instead of the database walking the whole list to find the few rows of
    an ``IN`` or ``OR`` that fit. Rows in several branches appear once.
    """
    if limit < 1 or limit > MAX_LIMIT:
        raise DomainError(ErrorCode.VALIDATION, f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    keys = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    if keys[-1][0] not in ("id", "pk"):
        keys.append(("id", keys[-1][1] if keys else False))
    keys3 = [(name, desc, _nullable(qs, name)) for name, desc in keys]
    values = _decode(cursor, len(keys)) if cursor else None
    try:  # a value of the wrong type for its column (a tampered cursor) fails when a lookup is built
        if branches and len(branches) > 1:
            rows = _merged_rows(qs, branches, keys3, values, limit + 1)
        else:
            rows = _rows_after(qs.filter(branches[0]) if branches else qs, keys3, values, limit + 1)
    except (ValueError, TypeError, ValidationError):
        raise _invalid_cursor() from None
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([_attr(last, name) for name, _ in keys])
    return Page(rows, next_cursor, limit)


def _nullable(qs: QuerySet, path: str) -> bool:
    """Whether the sort key can be NULL: a nullable field on its path, or an annotation (unknown)."""
    if path in ("id", "pk"):
        return False
    if path in qs.query.annotations:
        return True
    model, nullable = qs.model, False
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return True
        nullable = nullable or bool(getattr(field, "null", True))
        model = field.related_model if field.is_relation else model
    return nullable


def _order(keys3: list[tuple[str, bool, bool]], *, first_has_values: bool = False) -> list:
    out = []
    for i, (name, desc, nullable) in enumerate(keys3):
        plain = not nullable or (i == 0 and first_has_values)
        if plain:
            out.append(F(name).desc() if desc else F(name).asc())
        else:
            out.append(F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True))
    return out


def _after(keys3: list[tuple[str, bool, bool]], values: list[Any]) -> Q:
    """Rows sorting after ``values`` (NULLs last), plus a range on the first key that an index can use."""
    condition = Q(pk__in=[])
    equal = Q()
    for (name, desc, nullable), value in zip(keys3, values, strict=True):
        if value is None:
            after = Q(pk__in=[])
            same = Q(**{f"{name}__isnull": True})
        else:
            after = Q(**{f"{name}__{'lt' if desc else 'gt'}": value})
            if nullable:
                after |= Q(**{f"{name}__isnull": True})
            same = Q(**{name: value})
        condition |= equal & after
        equal &= same
    name, desc, nullable = keys3[0]
    if values[0] is not None and not nullable:
        condition &= Q(**{f"{name}__{'lte' if desc else 'gte'}": values[0]})
    return condition


def _rows_after(qs: QuerySet, keys3: list[tuple[str, bool, bool]], values: list[Any] | None, n: int) -> list:
    """Up to ``n`` rows of ``qs`` after the cursor ``values``, in sort order."""
    first, desc, nullable = keys3[0]
    if not nullable:
        if values is not None:
            qs = qs.filter(_after(keys3, values))
        return list(qs.order_by(*_order(keys3))[:n])
    rest = keys3[1:]
    nulls = qs.filter(**{f"{first}__isnull": True})
    if values is not None and values[0] is None:  # the cursor is among the NULLs already
        return list(nulls.filter(_after(rest, values[1:])).order_by(*_order(rest))[:n])
    with_value = qs.filter(**{f"{first}__isnull": False})
    if values is not None:
        with_value = with_value.filter(_after([(first, desc, False), *rest], values))
    rows = list(with_value.order_by(*_order(keys3, first_has_values=True))[:n])
    if len(rows) < n:
        rows += list(nulls.order_by(*_order(rest))[: n - len(rows)])
    return rows


class _Keys:
    """The sort key values and id of one row, read without building the model instance."""

    __slots__ = ("pk", "values")

    def __init__(self, names: list[str], row: tuple):
        self.values = dict(zip(names, row, strict=True))
        self.pk = self.values["pk"]

    def __getattr__(self, name: str):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def _merged_rows(
    qs: QuerySet, branches: list[Q], keys3: list[tuple[str, bool, bool]], values: list[Any] | None, n: int
) -> list:
    """Read each branch's next ``n`` keys (no joins, often from the index alone), merge, then load the rows."""
    names = [name for name, _d, _n in keys3 if name not in ("id", "pk")] + ["pk"]
    bare = qs.select_related(None).prefetch_related(None)
    found: dict[Any, _Keys] = {}
    for branch in branches:
        for row in _rows_after(bare.filter(branch).values_list(*names), keys3, values, n):
            keys = _Keys(names, row)
            found[keys.pk] = keys
    chosen = sorted(found.values(), key=cmp_to_key(_comparator(keys3)))[:n]
    by_pk = {row.pk: row for row in qs.filter(pk__in=[k.pk for k in chosen])}
    return [by_pk[k.pk] for k in chosen if k.pk in by_pk]


def _comparator(keys3: list[tuple[str, bool, bool]]):
    """Compare two rows as the database sorts them: each key ascending or descending, NULLs last."""

    def compare(a, b) -> int:
        for name, desc, _nullable in keys3:
            x, y = _attr(a, name), _attr(b, name)
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            return (-1 if x < y else 1) * (-1 if desc else 1)
        return 0

    return compare


def _attr(obj, path: str):
    if isinstance(obj, _Keys):
        return obj.pk if path in ("id", "pk") else obj.values[path]
    for part in path.split("__"):
        obj = getattr(obj, part)
    return getattr(obj, "pk", obj) if hasattr(obj, "_meta") else obj
