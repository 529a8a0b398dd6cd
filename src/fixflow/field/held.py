"""The office's queue of commands held from the field (DOMAIN.md §5 rules 3 and 4): read, accept, reject.

Accepting applies the technician's command now, with the accepting dispatcher's authority: records held
because the work order was closed, cancelled or invoiced are recorded anyway (on invoiced work they
become late facts of the revenue-leakage report; the issued invoice never changes); a field edit in
conflict takes the phone's values. Rejecting records the reason, which the technician's phone reads in
its next sync answer (a replay of the command) and in its bundle.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from fixflow.core import clock
from fixflow.core.choices import Role
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.models import Membership
from fixflow.core.permissions import Actor, require
from fixflow.service import services
from fixflow.service.choices import ACTIVE_STATUSES
from fixflow.service.models import WorkOrder

from .choices import CommandStatus, CommandType, HoldReason, Resolution
from .commands import HANDLERS, Ctx, Done, accept_conflicts, describe, field_values
from .models import SyncCommand
from .sync import apply_command, strip_binary


def held_queryset(*, actor: Actor) -> QuerySet[SyncCommand]:
    """Commands waiting for the office, oldest first. A held timer stop is shown with its held start."""
    require(actor, "field.review", _("The held queue is for dispatchers and admins."))
    return (
        SyncCommand.objects.filter(
            organization_id=actor.organization_id, status=CommandStatus.HELD, resolution="", paired_with=None
        )
        .select_related("user", "device", "work_order", "work_order__site")
        .prefetch_related("pairs")
    )


def held_count(*, actor: Actor) -> int:
    if not actor.can("field.review"):
        return 0
    return held_queryset(actor=actor).count()


def held_get(*, actor: Actor, pk, lock: bool = False) -> SyncCommand:
    """One command of the actor's organization that was held (resolved or not); 404 otherwise."""
    require(actor, "field.review", _("The held queue is for dispatchers and admins."))
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise not_found("Held item") from None
    qs = SyncCommand.objects.filter(organization_id=actor.organization_id).exclude(hold_reason="")
    if lock:
        qs = qs.select_for_update(of=("self",))
    cmd = qs.select_related("user", "device", "work_order").filter(pk=pk).first()
    if cmd is None:
        raise not_found("Held item")
    return cmd


def _still_held(cmd: SyncCommand) -> None:
    if cmd.status != CommandStatus.HELD or cmd.resolution:
        state = Resolution(cmd.resolution).label.lower() if cmd.resolution else cmd.get_status_display().lower()
        raise DomainError(ErrorCode.CONFLICT, _("This item was already %(state)s.") % {"state": state})
    if cmd.paired_with_id is not None:
        raise DomainError(ErrorCode.CONFLICT, _("This timer stop is decided with its timer start."))


def technician_actor(cmd: SyncCommand) -> Actor:
    """The technician who sent the command, in its organization (even if their membership ended since)."""
    membership = (
        Membership.objects.select_related("organization")
        .filter(organization_id=cmd.organization_id, user_id=cmd.user_id)
        .first()
    )
    if membership is None:
        raise DomainError(ErrorCode.CONFLICT, _("The technician is no longer a member of this organization."))
    return Actor(
        user=cmd.user,
        organization=membership.organization,
        role=Role(membership.role),
        client_id=membership.client_id,
        membership_id=membership.pk,
    )


@transaction.atomic
def held_accept(*, actor: Actor, command_id) -> SyncCommand:
    """Apply a held command now (see the module docstring).

    Locks the command row, then its work order (through the services). Refuses with CONFLICT when the
    item was already decided, and with the domain's own error when the command still cannot apply (e.g.
    a field edit on a closed work order: reopen it first). On success the command is ``applied`` with
    resolution ``accepted``; a paired timer stop with it.
    """
    cmd = held_get(actor=actor, pk=command_id, lock=True)
    _still_held(cmd)
    technician = technician_actor(cmd)
    if cmd.hold_reason == HoldReason.ERROR:
        return _retry(actor, technician, cmd)
    done = _accepted(actor, technician, cmd)
    _resolve(actor, cmd, CommandStatus.APPLIED, Resolution.ACCEPTED, done.message, done.result)
    return cmd


def _accepted(office: Actor, technician: Actor, cmd: SyncCommand) -> Done:
    if cmd.hold_reason == HoldReason.CONFLICT:
        wo = accept_conflicts(office=office, command=cmd)
        return Done(_("The phone's values were taken."), {"version": wo.version})
    wo = WorkOrder.objects.select_for_update().select_related("site").filter(pk=cmd.work_order_id).first()
    if wo is None:
        raise not_found("Work order")
    ctx = Ctx(
        actor=technician, command=cmd, work_order=wo, when=cmd.effective_at or cmd.received_at, accepted_by=office
    )
    if cmd.type == CommandType.TIMER_START:
        return _accept_timer(ctx)
    handler = HANDLERS[cmd.type]
    return handler.apply(ctx, handler.parse(cmd.payload))


def _accept_timer(ctx: Ctx) -> Done:
    """A held timer start with its held stop becomes one time entry; without its stop it can only start
    a timer on work that is open again."""
    stop = ctx.command.pairs.order_by("seq", "id").first()
    if stop is None:
        if ctx.work_order.status in ACTIVE_STATUSES:
            return HANDLERS[CommandType.TIMER_START].apply(ctx, {})
        raise DomainError(
            ErrorCode.CONFLICT,
            _("The timer's stop has not arrived from the phone yet: accept it once it has, or reject it."),
        )
    ended = max(stop.effective_at or stop.received_at, ctx.when)
    if ended <= ctx.when:
        raise DomainError(ErrorCode.CONFLICT, _("The timer was stopped the moment it started: nothing to record."))
    entry = services.time_entry_create(
        actor=ctx.actor,
        work_order_id=ctx.work_order.pk,
        started_at=ctx.when,
        ended_at=ended,
        occurred_at=ended,
        accepted_by=ctx.accepted_by,
    )
    return Done(_("%(minutes)s min recorded.") % {"minutes": entry.duration_minutes}, {"time_entry_id": entry.pk})


def _retry(office: Actor, technician: Actor, cmd: SyncCommand) -> SyncCommand:
    """A command held because applying it failed is tried again as it came from the phone."""
    outcome = apply_command(technician, cmd)
    if outcome.status == CommandStatus.APPLIED:
        _resolve(office, cmd, CommandStatus.APPLIED, Resolution.ACCEPTED, outcome.message, outcome.result)
        return cmd
    if outcome.status == CommandStatus.HELD and outcome.hold_reason != HoldReason.ERROR:
        cmd.hold_reason, cmd.message, cmd.conflict = outcome.hold_reason, outcome.message, outcome.conflict
        cmd.save(update_fields=["hold_reason", "message", "conflict"])
        return cmd
    raise DomainError(ErrorCode.CONFLICT, outcome.message)


@transaction.atomic
def held_reject(*, actor: Actor, command_id, reason: str) -> SyncCommand:
    """Turn a held command down with a reason the technician reads (nothing of it is recorded)."""
    cmd = held_get(actor=actor, pk=command_id, lock=True)
    reason = (reason or "").strip()
    if not reason:
        raise validation(_("Say why, for the technician."), field="reason")
    if len(reason) > 2000:
        raise validation(_("Keep the reason under 2000 characters."), field="reason")
    _still_held(cmd)
    message = _("Rejected by %(name)s: %(reason)s") % {
        "name": actor.user.full_name or actor.user.email,
        "reason": reason,
    }
    _resolve(actor, cmd, CommandStatus.REFUSED, Resolution.REJECTED, message, {}, reason=reason)
    return cmd


def _resolve(actor: Actor, cmd: SyncCommand, status, resolution, message: str, result: dict, reason: str = "") -> None:
    now = clock.now()
    if resolution == Resolution.ACCEPTED:
        message = f"{message} " + _("Accepted by %(name)s.") % {"name": actor.user.full_name or actor.user.email}
    for row in (cmd, *cmd.pairs.all()):
        row.status, row.resolution, row.resolution_reason = status, resolution, reason
        row.resolved_by, row.resolved_at = actor.user, now
        row.message = message
        row.result = {**row.result, **result}
        row.payload = strip_binary(row.payload)
        row.save()


def _summary(c: SyncCommand) -> str:
    """The command in plain words, times at the site; a held timer with its stop as the entry it makes."""
    tz = ZoneInfo(c.work_order.site.timezone) if c.work_order_id else None
    stop = next(iter(c.pairs.all()), None) if c.type == CommandType.TIMER_START else None
    if stop is not None and c.effective_at and stop.effective_at:
        start, end = c.effective_at.astimezone(tz), stop.effective_at.astimezone(tz)
        minutes = max(0, round((stop.effective_at - c.effective_at).total_seconds() / 60))
        return _("Timer %(start)s–%(end)s (%(minutes)s min)") % {
            "start": f"{start:%-d %b %H:%M}",
            "end": f"{end:%H:%M}",
            "minutes": minutes,
        }
    return describe(c, tz)


def held_summary(c: SyncCommand) -> dict:
    """A held command as the office reads it (the API's ``HeldOut`` and the held page): for a conflict, each
    field's value the phone started from, the server's value now and the phone's value."""
    wo = c.work_order
    current = field_values(wo) if wo is not None and c.conflict else {}
    return {
        "id": c.pk,
        "mutation_id": c.mutation_id,
        "type": c.type,
        "type_label": c.type_label,
        "summary": _summary(c),
        "technician": {"id": c.user_id, "name": str(c.user)},
        "device": c.device.label or str(c.device.device_id),
        "work_order": None
        if wo is None
        else {
            "id": wo.pk,
            "number": wo.number,
            "title": wo.title,
            "status": wo.status,
            "billing_status": wo.billing_status,
        },
        "occurred_at": c.occurred_at,
        "received_at": c.received_at,
        "effective_at": c.effective_at,
        "time_flagged": c.time_flagged,
        "time_note": c.time_note,
        "hold_reason": c.hold_reason,
        "hold_reason_label": str(HoldReason(c.hold_reason).label) if c.hold_reason else "",
        "message": c.message,
        "conflicts": [
            {
                "field": name,
                "label": str(WorkOrder._meta.get_field(name).verbose_name),
                "base": v.get("base"),
                "server": current.get(name, v.get("server")),
                "device": v.get("device"),
            }
            for name, v in sorted(c.conflict.items())
        ],
        "status": c.status,
        "resolution": c.resolution,
        "resolution_reason": c.resolution_reason,
    }
