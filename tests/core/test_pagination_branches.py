"""Keyset pages read in branches (one per status, lead or helper) equal the plain filter, in order."""

import functools
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixflow.core.pagination import paginate
from fixflow.service import selectors
from fixflow.service.choices import ACTIVE_STATUSES
from fixflow.service.models import WorkOrder, WorkOrderHelper

from ..factories import WorkOrderFactory

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
STATUSES = ["new", "planned", "in_progress", "closed"]

row_strategy = st.fixed_dictionaries(
    {
        "status": st.sampled_from(STATUSES),
        "scheduled_start": st.one_of(st.none(), st.integers(0, 3).map(lambda h: T0 + timedelta(hours=h))),
        "lead": st.sampled_from([None, "technician", "technician2"]),
        "helper": st.sampled_from([None, "technician", "technician2"]),
    }
)
filter_strategy = st.fixed_dictionaries(
    {
        "status": st.lists(st.sampled_from(STATUSES), max_size=3, unique=True),
        "open": st.booleans(),
        "technician": st.sampled_from([None, "technician", "me"]),
    }
)


def _expected(world, rows, filters, desc) -> list[int]:
    statuses = set(filters["status"]) or set(STATUSES)
    if filters["open"]:
        statuses &= ACTIVE_STATUSES
    tech = {"technician": world.technician.user_id, "me": world.dispatcher.user_id, None: None}[filters["technician"]]

    def keep(wo):
        if wo.status not in statuses:
            return False
        return (
            tech is None
            or wo.lead_technician_id == tech
            or any(h.user_id == tech for h in WorkOrderHelper.objects.filter(work_order=wo))
        )

    def compare(a, b):
        for x, y, d in ((a.scheduled_start, b.scheduled_start, desc), (a.pk, b.pk, desc)):
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            return (-1 if x < y else 1) * (-1 if d else 1)
        return 0

    return [w.pk for w in sorted((w for w in rows if keep(w)), key=functools.cmp_to_key(compare))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_strategy, max_size=20), filters=filter_strategy, desc=st.booleans(), limit=st.integers(1, 5))
def test_branched_pages_list_the_filtered_rows_once_in_order(world, rows, filters, desc, limit):
    with transaction.atomic():
        # given
        made = []
        for r in rows:
            lead = getattr(world, r["lead"]).user if r["lead"] else None
            wo = WorkOrderFactory(
                equipment=world.equipment,
                status=r["status"],
                scheduled_start=r["scheduled_start"],
                lead_technician=lead,
            )
            if r["helper"] and r["helper"] != r["lead"]:
                WorkOrderHelper.objects.create(
                    organization=world.org, work_order=wo, user=getattr(world, r["helper"]).user
                )
            made.append(wo)
        query = {"status": filters["status"], "open": filters["open"]}
        if filters["technician"]:
            query["technician"] = str(world.technician.user_id) if filters["technician"] == "technician" else "me"
        # when
        seen, cursor = [], None
        for _ in range(100):
            page = selectors.work_order_list(
                actor=world.dispatcher,
                filters=query,
                sort="-scheduled_start" if desc else "scheduled_start",
                cursor=cursor,
                limit=limit,
            )
            assert len(page.items) <= limit
            seen += [w.pk for w in page.items]
            if not (cursor := page.next_cursor):
                break
        expected = _expected(world, made, filters, desc)
        transaction.set_rollback(True)
    # then
    assert seen == expected


def test_overlapping_branches_list_a_row_once(world):
    # given a work order that both branches match
    wo = WorkOrderFactory(
        equipment=world.equipment, status="planned", scheduled_start=T0, lead_technician=world.technician.user
    )
    WorkOrderHelper.objects.create(organization=world.org, work_order=wo, user=world.technician2.user)
    other = WorkOrderFactory(equipment=world.equipment, status="planned", scheduled_start=T0 + timedelta(hours=1))
    helps = Exists(WorkOrderHelper.objects.filter(work_order=OuterRef("pk"), user=world.technician2.user))
    # when
    page = paginate(
        WorkOrder.objects.all(), ordering=["scheduled_start"], limit=10, branches=[Q(status="planned"), Q(helps)]
    )
    # then
    assert [w.pk for w in page.items] == [wo.pk, other.pk]
    assert page.next_cursor is None
