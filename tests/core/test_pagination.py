"""Keyset pagination: the pages cover every row exactly once, in order, with ties and NULLs."""

import base64
import functools
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.pagination import MAX_LIMIT, paginate
from fixflow.service import selectors
from fixflow.service.models import WorkOrder

from ..factories import WorkOrderFactory

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FIELDS = ("scheduled_start", "title", "estimated_duration_minutes")
ORDERINGS = [
    ["scheduled_start"],
    ["-scheduled_start"],
    ["title"],
    ["-title", "scheduled_start"],
    ["estimated_duration_minutes", "-scheduled_start"],
    ["-estimated_duration_minutes", "title"],
    ["title", "estimated_duration_minutes", "-scheduled_start"],
    ["-created_at"],
    ["id"],
    ["-id"],
]

row_strategy = st.fixed_dictionaries(
    {
        # few distinct values, so there are many ties and NULLs
        "scheduled_start": st.one_of(st.none(), st.integers(0, 3).map(lambda h: T0 + timedelta(hours=h))),
        "title": st.sampled_from(["Leak", "Noise", "leak"]),
        "estimated_duration_minutes": st.one_of(st.none(), st.sampled_from([30, 60])),
    }
)


def _expected_order(rows: list[WorkOrder], ordering: list[str]) -> list[int]:
    """The order the pages must follow: each key ascending or descending, NULLs last, then id."""
    keys = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    if keys[-1][0] != "id":
        keys.append(("id", keys[-1][1]))

    def compare(a, b):
        for name, desc in keys:
            x, y = getattr(a, name), getattr(b, name)
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1  # NULLs last in both directions
            return (-1 if x < y else 1) * (-1 if desc else 1)
        return 0

    return [r.pk for r in sorted(rows, key=functools.cmp_to_key(compare))]


def _walk(qs, ordering, limit) -> list[int]:
    seen, cursor = [], None
    for _ in range(1000):
        page = paginate(qs, ordering=ordering, cursor=cursor, limit=limit)
        assert len(page.items) <= limit
        seen += [r.pk for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_strategy, max_size=24), ordering=st.sampled_from(ORDERINGS), limit=st.integers(1, 7))
def test_pages_cover_every_row_exactly_once_in_order(world, rows, ordering, limit):
    with transaction.atomic():  # each example starts from an empty table
        # given
        made = [WorkOrderFactory(equipment=world.equipment, **r) for r in rows]
        # when
        seen = _walk(WorkOrder.objects.filter(organization=world.org), ordering, limit)
        transaction.set_rollback(True)
    # then
    assert seen == _expected_order(made, ordering)


def test_a_row_added_before_the_cursor_does_not_shift_later_pages(world):
    # given
    for h in range(4):
        WorkOrderFactory(equipment=world.equipment, scheduled_start=T0 + timedelta(hours=h))
    qs = WorkOrder.objects.filter(organization=world.org)
    first = paginate(qs, ordering=["scheduled_start"], limit=2)
    # when a row sorting onto the first page appears meanwhile
    WorkOrderFactory(equipment=world.equipment, scheduled_start=T0 - timedelta(hours=1))
    second = paginate(qs, ordering=["scheduled_start"], cursor=first.next_cursor, limit=2)
    # then
    assert [w.scheduled_start for w in second.items] == [T0 + timedelta(hours=2), T0 + timedelta(hours=3)]
    assert second.next_cursor is None


def test_the_last_full_page_has_no_next_cursor(world):
    # given
    for _ in range(4):
        WorkOrderFactory(equipment=world.equipment)
    # when
    page = paginate(WorkOrder.objects.all(), ordering=["id"], limit=4)
    # then
    assert (len(page.items), page.next_cursor) == (4, None)


def test_the_work_order_list_pages_through_its_priority_sort(world):
    # given
    for i, priority in enumerate(["low", "critical", "normal", "high", "normal", "critical", "low"]):
        WorkOrderFactory(
            equipment=world.equipment,
            priority=priority,
            scheduled_start=None if i % 3 == 0 else T0 + timedelta(hours=i % 2),
        )
    # when
    seen, cursor = [], None
    while True:
        page = selectors.work_order_list(actor=world.dispatcher, sort="priority", cursor=cursor, limit=2)
        seen += page.items
        if not (cursor := page.next_cursor):
            break
    # then
    assert len({w.pk for w in seen}) == len(seen) == 7
    assert [w.priority for w in seen] == ["critical", "critical", "high", "normal", "normal", "low", "low"]


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _cursor({"a": 1}),
        _cursor([1]),
        _cursor([1, 2, 3]),
        _cursor([{"t": "yesterday"}, 5]),
        _cursor([{"t": 5}, 5]),
        _cursor([{"d": "lots"}, 5]),
        _cursor(["2026-03-02T08:00:00+00:00", "abc"]),
        _cursor(["soon", 5]),
        _cursor([[1, 2], 5]),
        _cursor([{"x": 1}, 5]),
    ],
    ids=[
        "garbage",
        "not-utf8",
        "not-a-list",
        "too-short",
        "too-long",
        "bad-date",
        "date-not-string",
        "bad-decimal",
        "id-not-a-number",
        "datetime-not-a-date",
        "nested-list",
        "unknown-object",
    ],
)
def test_an_invalid_cursor_is_a_validation_error(world, cursor):
    # given
    WorkOrderFactory(equipment=world.equipment)
    # when
    with pytest.raises(DomainError) as exc:
        paginate(WorkOrder.objects.all(), ordering=["scheduled_start"], cursor=cursor, limit=10)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "cursor")


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_a_limit_out_of_range_is_a_validation_error(world, limit):
    # when
    with pytest.raises(DomainError) as exc:
        paginate(WorkOrder.objects.all(), ordering=["id"], limit=limit)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "limit")
