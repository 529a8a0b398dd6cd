"""Preventive work orders made in bulk: what ``service.services.work_order_create`` and the SLA engine
write for each one, for many at once (the generator's fast path, ``generator._write_batch``).

Each work order gets exactly what ``work_order_create`` gives a preventive work order made from its
plan's template, in the same order: the next number of the year (reserved for all of them in one
``UPDATE … RETURNING`` on the same counter row, so numbers stay consecutive and gapless), the
template's type, priority, duration, billing and signature settings, its checklist and parts, the
CREATED event by the generator's system actor, and its SLA: the first matching policy
(``engine.policy_matches``, the default one otherwise), the calendar snapshot from the start date, the
two clocks of cycle 1 scheduled from ``sla_start`` (``engine._schedule``, remembered per calendar, start
and target, since many work orders share them), judged at now, and the response met at once when the
policy meets it on assignment and a technician is set (``engine.on_assigned``). Escalations crossed at
creation are recorded through ``engine._notify``.

What it does not check is checked by the caller before (``generator._batchable``): an active template,
the equipment at the plan's site, an active technician, a description of at most 20,000 characters.
Anything else goes through ``work_order_create`` itself.

The rows are written raw, as the benchmark seeder writes them (``COPY`` on PostgreSQL, ``executemany`` on
SQLite): every column the ORM would fill is filled the same way (:class:`Table`), but building and
saving a model instance per row costs more than everything else together. Work order ids come from
the table's own sequence (PostgreSQL) or after the highest one under the write lock (SQLite).

Precondition: inside the caller's transaction (the counter row stays locked until it commits).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, models

from fixflow.core import clock
from fixflow.core.permissions import Actor
from fixflow.service.choices import EventKind, Status, WorkOrderType
from fixflow.service.models import (
    ChecklistAnswer,
    PlannedMaterial,
    TemplateChecklistItem,
    TemplatePart,
    WorkOrder,
    WorkOrderEvent,
)
from fixflow.sla import engine
from fixflow.sla.choices import FINAL_STATES, STATE_SEVERITY, SlaState, Target
from fixflow.sla.models import SlaClock, SlaPolicy, WorkOrderSla

BULK = 5000  # rows per executemany (SQLite); PostgreSQL streams each table with one COPY


@dataclass
class NewWorkOrder:
    """One preventive work order to make: what ``generator._occur`` passes to ``work_order_create``."""

    plan: object  # MaintenancePlan, with site and template
    equipment: object  # Equipment
    title: str
    description: str
    scheduled_start: datetime
    sla_start: datetime


def reserve_numbers(organization, count: int) -> list[str]:
    """``count`` consecutive work order numbers of this year, as ``service.services._number`` gives them
    one by one (the same counter row, ``core.services.sequence_next``'s ``UPDATE … RETURNING``)."""
    from fixflow.core.models import Sequence

    if count <= 0:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("reserve_numbers must run inside transaction.atomic()")
    year = clock.now().astimezone(organization.tzinfo).year
    key = f"work_order:{year}"
    table = connection.ops.quote_name(Sequence._meta.db_table)
    sql = (
        f"UPDATE {table} SET last_value = last_value + %s "  # noqa: S608 - table name from the model
        "WHERE organization_id = %s AND key = %s RETURNING last_value"
    )
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [count, organization.pk, key])
            row = cursor.fetchone()
        if row is not None:
            last = row[0]
            prefix = organization.work_order_prefix
            return [f"{prefix}-{year}-{n:05d}" for n in range(last - count + 1, last + 1)]
        Sequence.objects.get_or_create(organization=organization, key=key)
    raise RuntimeError(f"counter {key!r} could not be created")


class Table:
    """Rows of one table written raw, with the values the ORM would write.

    ``columns`` are the ones each row gives (tuples in that order); every other column gets what saving a
    new instance gives it (its default, ``now`` for ``auto_now(_add)``), computed once. Values are converted
    per column as the field would convert them for the database (datetimes, dates, decimals, JSON), each
    distinct value once.
    """

    def __init__(self, model: type[models.Model], columns: list[str]):
        self.model = model
        fields = {f.column: f for f in model._meta.concrete_fields if not f.generated}
        blank = model()
        tail = []
        for column, f in fields.items():
            if column in columns or f.primary_key:
                continue
            value = f.pre_save(blank, add=True)
            if isinstance(f, models.JSONField):
                tail.append((column, None if value is None else _json_of(value)))
            else:
                tail.append((column, f.get_db_prep_save(value, connection)))
        self.columns = [*columns, *(c for c, _v in tail)]
        self.tail = tuple(v for _c, v in tail)
        self.types = [_pg_type(fields.get(c) or model._meta.pk) for c in self.columns]
        self.rows: list[tuple] = []
        vendor = connection.vendor
        self._convert = []
        for column in columns:
            f = fields.get(column) or model._meta.pk
            if isinstance(f, models.JSONField):
                self._convert.append((len(self._convert), _json_of, True))
            elif vendor != "postgresql" and isinstance(
                f, (models.DateTimeField, models.DateField, models.DecimalField, models.TimeField)
            ):
                self._convert.append((len(self._convert), lambda v, f=f: f.get_db_prep_save(v, connection), False))
            else:
                self._convert.append(None)
        self._convert = [c for c in self._convert if c is not None]

    def add(self, *values) -> None:
        self.rows.append(values)

    def write(self) -> int:
        """Insert the rows added so far (in order); returns their count."""
        rows, self.rows = self.rows, []
        if not rows:
            return 0
        if self._convert:
            memos = [{} for _ in self._convert]
            converted = []
            for row in rows:
                row = list(row)
                for (i, fn, by_id), memo in zip(self._convert, memos, strict=True):
                    value = row[i]
                    if value is None:
                        continue
                    key = id(value) if by_id else value  # JSON values are dicts: the same object, once
                    found = memo.get(key)
                    if found is None:
                        found = memo[key] = fn(value)
                    row[i] = found
                converted.append(row)
            rows = converted
        table = connection.ops.quote_name(self.model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        tail = self.tail
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                raw = cursor.cursor
                raw.adapters.register_dumper(_JsonText, _JsonTextBinaryDumper)
                with raw.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(self.types)
                    for row in rows:
                        copy.write_row((*row, *tail))
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - names from the model
                for first in range(0, len(rows), BULK):
                    cursor.executemany(sql, [(*row, *tail) for row in rows[first : first + BULK]])
        return len(rows)


class _JsonText(str):
    """JSON already written out (each distinct value once), sent as it is."""


def _json_of(value) -> str:
    return _JsonText(json.dumps(value))


def _pg_type(f: models.Field) -> str:
    """The PostgreSQL type name of a column, as ``COPY … (FORMAT BINARY)`` needs it."""
    if isinstance(f, models.JSONField):
        return "jsonb"
    name = re.sub(r"\(.*\)", "", (f.db_type(connection) or "")).strip().lower()
    return {
        "bigint": "int8",
        "integer": "int4",
        "smallint": "int2",
        "timestamp with time zone": "timestamptz",
        "boolean": "bool",
        "double precision": "float8",
        "character varying": "varchar",
    }.get(name, name)


try:  # the binary form of jsonb: a version byte, then the text
    from psycopg.adapt import Dumper
    from psycopg.postgres import types as pg_types
    from psycopg.pq import Format

    class _JsonTextBinaryDumper(Dumper):
        format = Format.BINARY
        oid = pg_types["jsonb"].oid

        def dump(self, obj) -> bytes:
            return b"\x01" + obj.encode()

except ImportError:  # SQLite only
    _JsonTextBinaryDumper = None


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model``: from its sequence (PostgreSQL), or after the highest one
    (SQLite: the caller's transaction has written already, so it holds the database's write lock)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a model's table
        highest = max(row[0] if row else 0, cursor.fetchone()[0] or 0)
    return list(range(highest + 1, highest + count + 1))


class _Sla:
    """The organization's policies, calendars and snapshots, read once for a batch."""

    def __init__(self, organization_id: int):
        self.default = engine.ensure_defaults(organization_id)
        self.policies = [
            (p, {c.pk for c in p.clients.all()}, {s.pk for s in p.sites.all()})
            for p in SlaPolicy.objects.filter(organization_id=organization_id, is_default=False, is_active=True)
            .select_related("calendar")
            .prefetch_related("clients", "sites")
            .order_by("position", "id")
        ]
        self._holidays: dict[int, list[date]] = {}
        self._snapshots: dict[tuple[int, date], tuple[dict, object]] = {}
        self._schedules: dict[tuple, tuple] = {}
        self._matches: dict[tuple, SlaPolicy] = {}

    def policy(self, wo) -> SlaPolicy:
        """``engine.policy_for``: the first matching policy (remembered per combination of what they test)."""
        key = (wo.client_id, wo.site_id, wo.priority, wo.type, wo.equipment.criticality if wo.equipment_id else None)
        found = self._matches.get(key)
        if found is None:
            found = self.default
            for policy, clients, sites in self.policies:
                if engine.policy_matches(policy, wo, client_ids=clients, site_ids=sites):
                    found = policy
                    break
            self._matches[key] = found
        return found

    def snapshot(self, policy: SlaPolicy, start: datetime) -> tuple[dict, object]:
        """``engine.calendar_snapshot(calendar, since=<local start date>)`` and its pure calendar."""
        cal = policy.calendar
        since = engine._local_date(cal, start)
        key = (cal.pk, since)
        found = self._snapshots.get(key)
        if found is None:
            if cal.pk not in self._holidays:
                self._holidays[cal.pk] = list(cal.holidays.all().values_list("date", flat=True))
            snap = {
                "id": cal.pk,
                "name": cal.name,
                "version": cal.version,
                "timezone": cal.timezone,
                "week": cal.week,
                "is_24x7": cal.is_24x7,
                "holidays": [d.isoformat() for d in self._holidays[cal.pk] if d >= since],
            }
            found = self._snapshots[key] = (snap, engine.calendar_from_snapshot(snap))
        return found

    def schedule(self, row, cal, percent: int) -> None:
        """``engine._schedule``, remembered: a pure function of the calendar, start, target and pauses."""
        key = (id(cal), row.started_at, row.target_minutes, percent, row.paused_seconds)
        found = self._schedules.get(key)
        if found is None:
            engine._schedule(row, cal, percent)
            self._schedules[key] = (row.due_at, row.at_risk_at)
        else:
            row.due_at, row.at_risk_at = found


@dataclass(slots=True)
class Made:
    """A work order made in bulk: what the caller and the SLA functions read of it."""

    pk: int
    number: str
    organization_id: int
    client_id: int
    site_id: int
    equipment_id: int | None
    equipment: object
    priority: str
    type: str
    lead_technician_id: int | None


@dataclass(slots=True)
class _Clock:
    """An SLA clock as the engine's pure functions (``_schedule``, ``_judge``, ``_meet``) see it."""

    target: str
    target_minutes: int
    started_at: datetime
    cycle: int = 1
    paused_seconds: int = 0
    paused_since: datetime | None = None
    due_at: datetime | None = None
    at_risk_at: datetime | None = None
    state: str = SlaState.PENDING
    met_at: datetime | None = None
    breached_at: datetime | None = None


def _summary(rows: list[_Clock]) -> tuple[str, datetime | None]:
    """``engine._summarize``: the worst state and the earliest open due instant."""
    state = min((r.state for r in rows), key=lambda s: STATE_SEVERITY[SlaState(s)], default="")
    dues = [r.due_at for r in rows if r.state not in FINAL_STATES and r.due_at is not None]
    return state, min(dues, default=None)


WO_COLUMNS = [
    "id",
    "organization_id",
    "number",
    "title",
    "description",
    "type",
    "priority",
    "client_id",
    "site_id",
    "equipment_id",
    "template_id",
    "lead_technician_id",
    "scheduled_start",
    "scheduled_end",
    "estimated_duration_minutes",
    "is_billable",
    "requires_equipment",
    "requires_signature",
    "reports_equipment_down",
    "created_by_id",
    "sla_state",
    "sla_due_at",
]


def create_work_orders(actor: Actor, items: list[NewWorkOrder]) -> list[Made]:
    """Make the work orders of ``items`` (one organization, the actor's) in bulk; returned in order, saved.

    Side effects as ``work_order_create`` for each: CREATED event, checklist and parts copied, SLA
    applied (snapshot, two clocks, summary on the work order), escalations recorded.
    """
    if not items:
        return []
    now = clock.now()
    organization = actor.organization
    org_id = organization.pk
    template_ids = {i.plan.template_id for i in items}
    steps = defaultdict(list)
    for step in TemplateChecklistItem.objects.filter(template_id__in=template_ids).order_by("position", "id"):
        steps[step.template_id].append((step.position, step.label, step.kind, step.is_required))
    parts = defaultdict(list)
    for tp in TemplatePart.objects.filter(template_id__in=template_ids).select_related("part"):
        parts[tp.template_id].append((tp.part_id, tp.part.name, tp.quantity, tp.part.unit))
    sla = _Sla(org_id)
    numbers = reserve_numbers(organization, len(items))  # takes the counter's row lock (and SQLite's write lock)
    ids = allocate_ids(WorkOrder, len(items))

    orders = Table(WorkOrder, WO_COLUMNS)
    answers = Table(ChecklistAnswer, ["organization_id", "work_order_id", "position", "label", "kind", "is_required"])
    materials = Table(
        PlannedMaterial, ["organization_id", "work_order_id", "part_id", "description", "quantity", "unit"]
    )
    events = Table(
        WorkOrderEvent,
        ["organization_id", "work_order_id", "actor_id", "kind", "to_status", "data", "occurred_at", "recorded_at"],
    )
    slas = Table(
        WorkOrderSla,
        [
            "organization_id",
            "work_order_id",
            "policy_id",
            "policy_name",
            "policy_version",
            "calendar",
            "targets",
            "at_risk_percent",
            "response_met_on",
            "pausing_hold_reasons",
            "notify_technician",
            "escalation_email",
            "started_at",
            "applied_at",
        ],
    )
    clocks = Table(
        SlaClock,
        [
            "organization_id",
            "work_order_id",
            "target",
            "cycle",
            "priority",
            "target_minutes",
            "started_at",
            "due_at",
            "at_risk_at",
            "state",
            "met_at",
            "breached_at",
        ],
    )
    user_id = actor.user.pk
    made: list[Made] = []
    crossings: list[tuple[Made, list]] = []
    event_data: dict[str, dict] = {}
    for item, number, pk in zip(items, numbers, ids, strict=True):
        plan, template, eq = item.plan, item.plan.template, item.equipment
        start = item.scheduled_start
        wo = Made(
            pk=pk,
            number=number,
            organization_id=org_id,
            client_id=plan.site.client_id,
            site_id=plan.site_id,
            equipment_id=eq.pk,
            equipment=eq,
            priority=template.default_priority,
            type=WorkOrderType.PREVENTIVE,
            lead_technician_id=plan.lead_technician_id,
        )
        # engine.apply: the policy, its snapshot, the two clocks judged at now
        policy = sla.policy(wo)
        snap, cal = sla.snapshot(policy, item.sla_start)
        rows = []
        for target in (Target.RESPONSE, Target.RESOLUTION):
            row = _Clock(target, int(policy.targets[wo.priority][target]), item.sla_start)
            sla.schedule(row, cal, policy.at_risk_percent)
            rows.append(row)
        crossed = engine._evaluate(wo, None, rows, now)
        # engine.on_assigned: the response is met at once when the policy says so
        if wo.lead_technician_id is not None and policy.response_met_on == "assignment":
            if rows[0].state not in FINAL_STATES:
                engine._meet(rows[0], now)
                crossed += engine._evaluate(wo, None, rows, now)
        state, due = _summary(rows)
        orders.add(
            pk,
            org_id,
            number,
            (item.title or "").strip(),
            (item.description or "").strip(),
            wo.type,
            wo.priority,
            wo.client_id,
            wo.site_id,
            eq.pk,
            template.pk,
            wo.lead_technician_id,
            start,
            start + timedelta(minutes=template.estimated_duration_minutes or 60) if start else None,
            template.estimated_duration_minutes,
            template.is_billable,
            template.requires_equipment,
            template.requires_signature,
            False,
            user_id,
            state,
            due,
        )
        for position, label, kind, required in steps[template.pk]:
            answers.add(org_id, pk, position, label, kind, required)
        for part_id, name, quantity, unit in parts[template.pk]:
            materials.add(org_id, pk, part_id, name, quantity, unit)
        data = event_data.get(template.name)
        if data is None:
            data = event_data[template.name] = {"from_request": None, "template": template.name, "follow_up_of": None}
        events.add(org_id, pk, user_id, EventKind.CREATED, Status.NEW, data, now, now)
        slas.add(
            org_id,
            pk,
            policy.pk,
            policy.name,
            policy.version,
            snap,
            policy.targets,
            policy.at_risk_percent,
            policy.response_met_on,
            policy.pausing_hold_reasons,
            policy.notify_technician,
            policy.escalation_email,
            item.sla_start,
            now,
        )
        for row in rows:
            clocks.add(
                org_id,
                pk,
                row.target,
                row.cycle,
                wo.priority,
                row.target_minutes,
                row.started_at,
                row.due_at,
                row.at_risk_at,
                row.state,
                row.met_at,
                row.breached_at,
            )
        made.append(wo)
        if crossed:
            crossings.append((wo, crossed))
    for table in (orders, answers, materials, events, slas, clocks):
        table.write()
    for wo, crossed in crossings:
        engine._notify(wo, crossed)
    return made
