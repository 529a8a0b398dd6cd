"""Offline sync (DOMAIN.md §5): a technician's phone sends the commands it queued while offline; each is
applied once, in the device's order, through the domain services, and answered applied, refused (with the
reason) or held for the office.

The flow of one batch (``sync_commands``), in one transaction that holds the device row's lock, so two
batches of one device (a retry racing the original) run one after the other:

1. the device is registered (or found) and locked;
2. a command whose ``mutation_id`` is stored already is a replay: its stored outcome is the answer and it
   is never applied again;
3. the device's pending commands (stored earlier, and this batch's new ones) are applied in ``seq`` order,
   each in its own savepoint: a command whose predecessor has not arrived waits (stored ``pending``) until
   it does, or ``SEQ_GAP_WAIT`` has passed;
4. the new commands are stored with their outcomes (the unique key on ``mutation_id`` makes a batch that
   raced another device's copy of the same commands start again, and then answer them as replays);
5. the answers are read back in the order received.

Per command: the work order is locked; the phone's time is checked (rule 6); append-only records on closed,
cancelled or invoiced work are held (rule 3); otherwise the command's handler (``commands.py``) applies it.
A ``DomainError`` refuses the command with its message; anything unexpected holds it for the office
(logged), so a bug never loses a technician's work.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode, validation
from fixflow.core.permissions import Actor, require
from fixflow.service.choices import BillingStatus, EventKind, Status
from fixflow.service.models import TimeEntry, WorkOrder, WorkOrderEvent, WorkOrderHelper

from .choices import CommandStatus, CommandType, HoldReason
from .commands import HANDLERS, SKEW, Ctx, Done, parse_instant, time_bounds
from .models import Device, SyncCommand

logger = logging.getLogger(__name__)

MAX_COMMANDS = 1000  # per request; the phone sends a longer queue in several batches
# A command whose predecessor (by ``seq``) has not arrived waits this long after it was received, then is
# applied anyway: the phone may have dropped a queued command (an undo) and will never send it.
SEQ_GAP_WAIT = timedelta(minutes=10)
BINARY_KEYS = ("data_base64",)  # dropped from the stored payload once decided (the file is stored)


@dataclass(frozen=True)
class CommandIn:
    """One command as the phone sent it (shape checked by the API schema)."""

    mutation_id: uuid.UUID
    seq: int
    type: str
    work_order_id: int | None = None
    payload: dict = field(default_factory=dict)
    occurred_at: str | None = None
    base_version: int | None = None


@dataclass
class Answer:
    mutation_id: uuid.UUID
    status: str
    message: str
    result: dict[str, Any]
    work_order: dict[str, Any] | None


@dataclass
class SyncAnswer:
    server_time: datetime
    results: list[Answer]


@dataclass
class Outcome:
    """What was decided for one command (stored on it)."""

    status: str
    message: str
    result: dict[str, Any] = field(default_factory=dict)
    hold_reason: str = ""
    conflict: dict[str, Any] = field(default_factory=dict)
    paired_with: SyncCommand | None = None


# --- the batch ---------------------------------------------------------------------------------------


def sync_commands(*, actor: Actor, device_id: uuid.UUID, commands: list[CommandIn], label: str = "") -> SyncAnswer:
    """Apply a batch of offline commands from one device; answer each, in the order received.

    Requires ``field.sync``. Refuses (VALIDATION) more than ``MAX_COMMANDS`` commands. Takes the device
    row's lock (FOR UPDATE) for the whole batch; each command runs in its own savepoint and locks its
    work order. Side effects: those of the services each command calls (events, SLA, equipment status).

    The new commands are stored with their outcomes when the batch ends (held ones at once: a later
    command may pair with them). If another device of the technician stored one of them meanwhile (the
    unique key refuses the insert), the whole batch is rolled back and run once more: it then answers those
    as replays, so nothing is applied twice.
    """
    require(actor, "field.sync", _("Only technicians sync work from the field."))
    if len(commands) > MAX_COMMANDS:
        raise validation(
            _("Send at most %(n)s commands per request; send the rest in the next one.") % {"n": MAX_COMMANDS},
            field="commands",
        )
    commands = [
        c if isinstance(c.mutation_id, uuid.UUID) else replace(c, mutation_id=uuid.UUID(c.mutation_id))
        for c in commands
    ]
    for attempt in (1, 2):
        try:
            return _sync_once(actor, device_id, commands, label)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _sync_once(actor: Actor, device_id: uuid.UUID, commands: list[CommandIn], label: str) -> SyncAnswer:
    with transaction.atomic():
        now = clock.now()
        device = _device_locked(actor, device_id, label, now)
        fresh = _register(actor, device, commands, now)
        _drain(actor, device, fresh)
        device.last_seen_at = now
        device.save(update_fields=["last_seen_at", "last_seq", "label"])
        answers = _answers(actor, commands)
    return SyncAnswer(server_time=clock.now(), results=answers)


def _device_locked(actor: Actor, device_id: uuid.UUID, label: str, now: datetime) -> Device:
    key = {"organization_id": actor.organization_id, "user": actor.user, "device_id": device_id}
    Device.objects.get_or_create(**key, defaults={"label": label[:200], "first_seen_at": now, "last_seen_at": now})
    device = Device.objects.select_for_update().get(**key)
    if label and device.label != label[:200]:
        device.label = label[:200]
    return device


def _register(actor: Actor, device: Device, commands: list[CommandIn], now: datetime) -> list[SyncCommand]:
    """The new commands, as pending rows not saved yet; a command already stored is a replay (its stored
    outcome is the answer)."""
    ids = [c.mutation_id for c in commands]
    known = set(
        SyncCommand.objects.filter(organization_id=actor.organization_id, mutation_id__in=ids).values_list(
            "mutation_id", flat=True
        )
    )
    fresh: dict[uuid.UUID, SyncCommand] = {}
    for c in commands:
        if c.mutation_id not in known and c.mutation_id not in fresh:
            fresh[c.mutation_id] = _new_row(actor, device, c, now)
    return list(fresh.values())


def _new_row(actor: Actor, device: Device, c: CommandIn, now: datetime) -> SyncCommand:
    return SyncCommand(
        organization_id=actor.organization_id,
        device=device,
        user=actor.user,
        mutation_id=c.mutation_id,
        seq=c.seq,
        type=c.type[:20],
        work_order_ref=c.work_order_id,
        payload=c.payload if isinstance(c.payload, dict) else {},
        base_version=c.base_version,
        occurred_at=parse_instant(c.occurred_at),
        received_at=now,
    )


def _drain(actor: Actor, device: Device, fresh: list[SyncCommand]) -> None:
    """Apply the device's pending commands (stored earlier, and this batch's new ones) in ``seq`` order,
    stopping at a gap that may still fill; then store this batch's new commands, decided or pending."""
    now = clock.now()
    batch = Batch(device.pk)
    waiting = list(device.commands.filter(status=CommandStatus.PENDING))
    queue = sorted([*waiting, *fresh], key=lambda c: (c.seq, c.pk is None, c.pk or 0))
    to_insert: list[SyncCommand] = []
    for cmd in queue:
        if cmd.seq > device.last_seq + 1 and cmd.received_at > now - SEQ_GAP_WAIT:
            to_insert += [c for c in queue[queue.index(cmd) :] if c.pk is None]
            break
        cmd.device = device
        _store(cmd, apply_command(actor, cmd, batch), clock.now())
        if cmd.pk is not None or cmd.status == CommandStatus.HELD:
            cmd.save()  # a command stored earlier, or one a later command of the batch may pair with
        else:
            to_insert.append(cmd)
        batch.passed(cmd)
        device.last_seq = max(device.last_seq, cmd.seq)
    SyncCommand.objects.bulk_create(to_insert, batch_size=200)


def _answers(actor: Actor, commands: list[CommandIn]) -> list[Answer]:
    """The answer to each command, in the order received, from the rows as stored now."""
    rows = {
        r.mutation_id: r
        for r in SyncCommand.objects.filter(
            organization_id=actor.organization_id, mutation_id__in=[c.mutation_id for c in commands]
        ).defer("payload")
    }
    wo_ids = {r.work_order_id for r in rows.values() if r.work_order_id}
    states = {
        pk: {"id": pk, "status": status, "version": version}
        for pk, status, version in WorkOrder.objects.filter(
            organization_id=actor.organization_id, pk__in=wo_ids
        ).values_list("pk", "status", "version")
    }
    out = []
    for c in commands:
        row = rows[c.mutation_id]
        if row.user_id != actor.user_id:
            message = _("This mutation id belongs to another person's change; the app must make a new one.")
            out.append(Answer(c.mutation_id, CommandStatus.REFUSED, message, {}, None))
        else:
            out.append(answer_of(row, states.get(row.work_order_id)))
    return out


def answer_of(row: SyncCommand, work_order: dict | None) -> Answer:
    message = row.message
    if row.status == CommandStatus.PENDING:
        message = _("Waiting for this phone's earlier changes to arrive.")
    return Answer(row.mutation_id, row.status, message, row.result, work_order)


# --- one command ---------------------------------------------------------------------------------------


def apply_command(actor: Actor, cmd: SyncCommand, batch: Batch | None = None) -> Outcome:
    """Decide one command in its own savepoint (see the module docstring). ``batch``: what the batch has
    read already (work orders, previous events); read from the database without it."""
    batch = batch or Batch(cmd.device_id)
    handler = HANDLERS.get(cmd.type)
    if handler is None:
        return Outcome(
            CommandStatus.REFUSED,
            _("Unknown kind of change %(type)r; update the app.") % {"type": cmd.type},
        )
    try:
        with transaction.atomic():
            wo = batch.work_order(actor, cmd, current=cmd.type in CURRENT_STATE_TYPES)
            cmd.work_order = wo
            when = _decide_time(cmd, wo, batch)
            args = handler.parse(cmd.payload)
            ctx = Ctx(actor=actor, command=cmd, work_order=wo, when=when)
            hold = hold_reason_of(wo) if handler.holds_when_closed else ""
            if hold:
                if handler.check:  # what could never apply is refused, not held (else the services check)
                    handler.check(ctx, args)
                return _held(actor, cmd, wo, hold)
            if cmd.type == CommandType.TIMER_STOP and (start := _held_timer_start(actor, cmd)) is not None:
                return _held(actor, cmd, wo, start.hold_reason, paired_with=start)
            if cmd.type == CommandType.TIME_ADD:
                _flag_moved_time(cmd, args)
            done = handler.apply(ctx, args)
    except DomainError as exc:
        if exc.code == ErrorCode.CONFLICT and handler.holds_when_closed and cmd.work_order is not None:
            held = _held_if_closed_meanwhile(actor, cmd, batch)
            if held is not None:
                return held
        return Outcome(CommandStatus.REFUSED, exc.message, {"code": str(exc.code), "field": exc.field})
    except Exception:  # a bug must not lose the technician's work: the office sees it held
        logger.exception("Sync command %s (%s) failed", cmd.mutation_id, cmd.type)
        return Outcome(
            CommandStatus.HELD,
            _("The server could not apply this change; it is held for the office."),
            hold_reason=HoldReason.ERROR,
        )
    return _outcome_of(cmd, done)


def _outcome_of(cmd: SyncCommand, done: Done) -> Outcome:
    result = dict(done.result)
    message = done.message
    if cmd.time_flagged:
        message = f"{message} {cmd.time_note}"
    if done.conflict:
        return Outcome(CommandStatus.HELD, message, result, hold_reason=HoldReason.CONFLICT, conflict=done.conflict)
    return Outcome(CommandStatus.APPLIED, message, result)


def _held_if_closed_meanwhile(actor: Actor, cmd: SyncCommand, batch: Batch) -> Outcome | None:
    """A record refused because the office closed, cancelled or invoiced the work order while the batch ran
    (it was read without a lock) is held after all (rule 3)."""
    wo = batch.work_order(actor, cmd, current=True)
    reason = hold_reason_of(wo)
    if not reason:
        return None
    try:
        return _held(actor, cmd, wo, reason)
    except DomainError:
        return None


# Commands that read the work order's current state (status, field values): read under a lock each time.
# Records only need to know whether it is closed; they read it once per batch (the services lock it).
CURRENT_STATE_TYPES = frozenset({CommandType.TRANSITION, CommandType.FIELD_UPDATE})


def _work_order(actor: Actor, cmd: SyncCommand, *, lock: bool) -> WorkOrder:
    """The command's work order if the technician may see it (locked FOR UPDATE when asked); refused
    otherwise."""
    from fixflow.service.selectors import work_order_queryset

    wo = None
    if cmd.work_order_ref is not None:
        qs = work_order_queryset(actor=actor).select_related("site").filter(pk=cmd.work_order_ref)
        wo = (qs.select_for_update(of=("self",)) if lock else qs).first()
    if wo is None:
        raise DomainError(
            ErrorCode.NOT_FOUND, _("Work order %(id)s not found.") % {"id": cmd.work_order_ref}, field="work_order_id"
        )
    return wo


def hold_reason_of(wo: WorkOrder) -> str:
    """Why an append-only record on this work order must wait for the office (rule 3), or ''."""
    if wo.billing_status == BillingStatus.INVOICED:
        return HoldReason.INVOICED
    if wo.status == Status.CLOSED:
        return HoldReason.CLOSED
    if wo.status == Status.CANCELLED:
        return HoldReason.CANCELLED
    return ""


HELD_MESSAGES = {
    HoldReason.CLOSED: "%(number)s was closed in the office: this is held for the office to accept or reject.",
    HoldReason.CANCELLED: "%(number)s was cancelled in the office: this is held for the office to accept or reject.",
    HoldReason.INVOICED: "%(number)s has been invoiced: this is held for the office to accept or reject.",
}


def _held(actor: Actor, cmd: SyncCommand, wo: WorkOrder, reason: str, paired_with=None) -> Outcome:
    if not _may_record(actor, wo):
        raise DomainError(
            ErrorCode.PERMISSION_DENIED, _("Only the technicians assigned to this work order may record work on it.")
        )
    message = _(HELD_MESSAGES.get(reason, HELD_MESSAGES[HoldReason.CLOSED])) % {"number": wo.number}
    if cmd.time_flagged:
        message = f"{message} {cmd.time_note}"
    return Outcome(CommandStatus.HELD, message, hold_reason=reason, paired_with=paired_with)


def _may_record(actor: Actor, wo: WorkOrder) -> bool:
    if not actor.can("work_orders.record"):
        return False
    if actor.can("work_orders.record_any") or wo.lead_technician_id == actor.user_id:
        return True
    return WorkOrderHelper.objects.filter(work_order=wo, user_id=actor.user_id).exists()


def _held_timer_start(actor: Actor, cmd: SyncCommand) -> SyncCommand | None:
    """A timer stop whose start is held (and no timer runs) waits with it: together they are one time entry
    for the office to accept or reject."""
    if TimeEntry.objects.filter(work_order_id=cmd.work_order_ref, technician_id=actor.user_id, ended_at=None).exists():
        return None
    return (
        SyncCommand.objects.filter(
            user_id=cmd.user_id,
            work_order_id=cmd.work_order_ref,
            type=CommandType.TIMER_START,
            status=CommandStatus.HELD,
            resolution="",
        )
        .exclude(pairs__isnull=False)
        .order_by("-seq", "-id")
        .first()
    )


# --- device time (rule 6) ------------------------------------------------------------------------------


def _decide_time(cmd: SyncCommand, wo: WorkOrder, batch: Batch) -> datetime:
    """The phone's time when believable, else the server's (``received_at``), with the reason kept.

    Believable: not ahead of the server's clock by more than ``SKEW`` when the command arrived, and not
    before the work order's previous event (``previous_event_at``).
    """
    device_time = cmd.occurred_at
    note = ""
    if device_time is None:
        note = _("The phone sent no readable time; the server's time was used.")
    elif device_time > cmd.received_at + SKEW:
        ahead = device_time - cmd.received_at
        note = _("The phone's clock was %(ahead)s ahead; the server's time was used.") % {"ahead": _duration(ahead)}
    else:
        floor = batch.floor(wo, cmd)
        if floor is not None and device_time < floor:
            note = _("The phone's time was before the work order's previous event; the server's time was used.")
    cmd.time_flagged = bool(note)
    cmd.time_note = note[:300]
    cmd.effective_at = cmd.received_at if note else device_time
    return cmd.effective_at


class Batch:
    """What one batch reads once: its work orders, and each work order's previous event, the instant a
    command cannot have happened before (rule 6):

    - a status change not before the work order's latest status change (the state it moves from began
      then); any other command not before the work order was created;
    - no command before the same device's previous command on the work order (a phone's commands follow
      each other).

    Other people's records do not count: a technician's timer started at 09:10 stays at 09:10 though a
    helper's note says 09:30 (decision 0010). Read once per work order in a batch (two queries), then kept
    up to date as the batch's own commands apply.
    """

    def __init__(self, device_id: int):
        self.device_id = device_id
        self.known: dict[int, dict[str, datetime | None]] = {}
        self.work_orders: dict[int, WorkOrder] = {}

    def work_order(self, actor: Actor, cmd: SyncCommand, *, current: bool) -> WorkOrder:
        """The command's work order: read under a lock when ``current``, else as the batch read it last."""
        cached = self.work_orders.get(cmd.work_order_ref)
        if cached is not None and not current:
            return cached
        wo = _work_order(actor, cmd, lock=current)
        self.work_orders[wo.pk] = wo
        return wo

    def floor(self, wo: WorkOrder, cmd: SyncCommand) -> datetime | None:
        f = self._of(wo.pk)
        status = f["status"] if cmd.type == CommandType.TRANSITION else f["created"]
        return max(filter(None, (status, f["own"])), default=None)

    def passed(self, cmd: SyncCommand) -> None:
        """A command of the batch was applied at ``effective_at``: later ones follow it."""
        if cmd.status != CommandStatus.APPLIED or cmd.work_order_id is None or cmd.effective_at is None:
            return
        f = self._of(cmd.work_order_id)
        f["own"] = max(filter(None, (f["own"], cmd.effective_at)))
        if cmd.type == CommandType.TRANSITION:
            f["status"] = max(filter(None, (f["status"], cmd.effective_at)))
            self.work_orders.pop(cmd.work_order_id, None)  # its status changed: read it again

    def _of(self, wo_id: int) -> dict[str, datetime | None]:
        if wo_id not in self.known:
            events = WorkOrderEvent.objects.filter(work_order_id=wo_id).aggregate(
                status=Max("occurred_at", filter=Q(kind__in=(EventKind.CREATED, EventKind.TRANSITION))),
                created=Max("occurred_at", filter=Q(kind=EventKind.CREATED)),
            )
            own = SyncCommand.objects.filter(
                device_id=self.device_id, work_order_id=wo_id, status=CommandStatus.APPLIED
            ).aggregate(own=Max("effective_at"))
            self.known[wo_id] = {**events, **own}
        return self.known[wo_id]


def _flag_moved_time(cmd: SyncCommand, args: dict) -> None:
    _start, note = time_bounds(args, cmd.received_at)
    if note:
        cmd.time_flagged = True
        cmd.time_note = " ".join(filter(None, [cmd.time_note, note]))[:300]


def _duration(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    if minutes < 120:
        return _("%(n)s min") % {"n": minutes}
    return _("%(n)s h") % {"n": round(minutes / 60, 1)}


# --- storing the outcome --------------------------------------------------------------------------------


def _store(cmd: SyncCommand, out: Outcome, now: datetime) -> None:
    """Put the outcome on the command (the caller saves it)."""
    cmd.status, cmd.message = out.status, out.message
    cmd.hold_reason, cmd.conflict, cmd.paired_with = out.hold_reason, out.conflict, out.paired_with
    cmd.result = {**out.result, **_time_result(cmd)}
    cmd.applied_at = now
    if cmd.status != CommandStatus.HELD:
        cmd.payload = strip_binary(cmd.payload)


def _time_result(cmd: SyncCommand) -> dict:
    if cmd.effective_at is None:
        return {}
    return {"effective_at": cmd.effective_at.isoformat(), "time_flagged": cmd.time_flagged}


def strip_binary(payload: dict) -> dict:
    """The payload without the file's bytes (kept only while a command is held)."""
    if not isinstance(payload, dict) or not any(k in payload for k in BINARY_KEYS):
        return payload
    return {
        k: (f"<{len(v)} characters, stored>" if k in BINARY_KEYS and isinstance(v, str) else v)
        for k, v in payload.items()
    }
