"""Sending the SLA escalation e-mails (DOMAIN.md §2 rule 10): each notification row at most once.

The engine records a ``SlaNotification`` per (work order, target, level, cycle) and queues
``send_sla_notifications`` after its commit; the scheduler's ``sla.send_unsent_notifications`` job
sweeps what is left unsent (the queue was down, the SMTP server failed).

Exactly once, with any number of senders: a sender first claims the row with one conditional UPDATE
(``sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < now)`` → ``claimed_until = now +
CLAIM_SECONDS``, ``attempts + 1``); only the sender whose UPDATE matched sends, then stores
``sent_at`` and the recipients. A failed attempt records ``last_error`` and keeps the row claimed for
a growing delay (the retry back-off); after ``MAX_ATTEMPTS`` it is given up. A sender that dies
between claim and ``sent_at`` leaves the row to the sweep once the claim expires (the one case where
a mail could go out twice: the SMTP server took it and the process died before recording it).
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat

from fixflow.core import clock as wall_clock
from fixflow.core.choices import Role
from fixflow.core.models import Membership

from .choices import FINAL_STATES, NotificationLevel, SlaState, Target
from .models import SlaClock, SlaNotification

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300  # far above the SMTP timeout: a claim never runs out while its sender still works
MAX_ATTEMPTS = 5
RETRY_DELAYS_SECONDS = (60, 300, 900, 3600)  # after the 1st, 2nd, 3rd, 4th failed attempt
SWEEP_BATCH = 500
ERROR_MAX_LENGTH = 2000


@dataclass(frozen=True)
class Outcome:
    sent: bool
    recipients: tuple[str, ...] = ()
    error: str = ""


def send_notifications(ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Send the e-mails of these notifications; return how many were sent by this call.

    Rows already sent, claimed by another sender, or given up are skipped. Never raises for a
    mail failure: it is recorded on the row for the sweep to retry.
    """
    sent = 0
    for pk in dict.fromkeys(int(i) for i in ids):
        if _send_one(pk, now=now).sent:
            sent += 1
    return sent


def send_unsent(now: datetime | None = None, *, batch: int = SWEEP_BATCH) -> int:
    """The sweep: send the notifications left unsent whose claim (or retry delay) has run out."""
    now = now or wall_clock.now()
    ids = list(
        _claimable(SlaNotification.objects.all(), now).order_by("created_at", "id").values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0
    sent = send_notifications(ids, now=now)
    log.info("SLA sweep: %d of %d unsent notification(s) sent", sent, len(ids))
    return sent


def _claimable(queryset, now: datetime):
    return queryset.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS
    )


def claim(pk: int, *, now: datetime) -> bool:
    """Take notification ``pk`` for sending: True for exactly one of any number of concurrent callers."""
    updated = _claimable(SlaNotification.objects.filter(pk=pk), now).update(
        claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=F("attempts") + 1
    )
    return updated == 1


def _send_one(pk: int, *, now: datetime | None) -> Outcome:
    # Each claim from the time it is made: a sweep's start time would let a claim made minutes into a
    # long sweep expire at once (another worker could take the row being sent).
    now = max(now, wall_clock.now()) if now else wall_clock.now()
    if not claim(pk, now=now):
        return Outcome(sent=False)
    notification = (
        SlaNotification.objects.select_related(
            "work_order__client",
            "work_order__site",
            "work_order__equipment",
            "work_order__lead_technician",
            "work_order__sla",
            "organization",
        )
        .filter(pk=pk)
        .first()
    )
    if notification is None:  # deleted with its work order meanwhile
        return Outcome(sent=False)
    wo = notification.work_order
    sla_clock = SlaClock.objects.filter(
        work_order_id=wo.pk, target=notification.target, cycle=notification.cycle
    ).first()
    if notification.level == NotificationLevel.AT_RISK and sla_clock is not None and sla_clock.state in FINAL_STATES:
        # met (or cancelled) before the warning could go out: telling the dispatchers now is noise
        _record(pk, sent_at=now, recipients=[], last_error="Not sent: the target was met before the e-mail went out.")
        log.info("SLA notification %s not sent: %s %s is %s", pk, wo.number, notification.target, sla_clock.state)
        return Outcome(sent=False)
    to = recipients(notification)
    if not to:
        _record(pk, sent_at=now, recipients=[], last_error="Not sent: no dispatcher or escalation address to send to.")
        log.warning("SLA notification %s for %s has no recipients", pk, wo.number)
        return Outcome(sent=False)
    try:
        message = build_message(notification, sla_clock, to)
        message.send()
    except Exception as exc:
        log.debug("SLA notification %s: sending failed", pk, exc_info=True)
        return _failed(notification, exc, now)
    _record(pk, sent_at=wall_clock.now(), recipients=to, last_error="")
    log.info("SLA notification %s sent to %s: %s", pk, ", ".join(to), message.subject)
    return Outcome(sent=True, recipients=tuple(to))


def _record(pk: int, **fields) -> None:
    SlaNotification.objects.filter(pk=pk).update(claimed_until=None, **fields)


def _failed(notification: SlaNotification, exc: Exception, now: datetime) -> Outcome:
    attempts = SlaNotification.objects.filter(pk=notification.pk).values_list("attempts", flat=True).first() or 0
    error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX_LENGTH]
    if attempts >= MAX_ATTEMPTS:
        SlaNotification.objects.filter(pk=notification.pk).update(last_error=error, claimed_until=None)
        log.error("SLA notification %s given up after %d attempts: %s", notification.pk, attempts, error)
    else:
        delay = RETRY_DELAYS_SECONDS[min(attempts, len(RETRY_DELAYS_SECONDS)) - 1]
        SlaNotification.objects.filter(pk=notification.pk).update(
            last_error=error, claimed_until=now + timedelta(seconds=delay)
        )
        log.warning(
            "SLA notification %s failed (attempt %d, retry in %ss): %s", notification.pk, attempts, delay, error
        )
    return Outcome(sent=False, error=error)


def recipients(notification: SlaNotification) -> list[str]:
    """The organization's active dispatchers, the lead technician when the policy says so, and the
    policy's escalation address; each address once, in that order."""
    wo = notification.work_order
    addresses = list(
        Membership.objects.filter(
            organization_id=notification.organization_id,
            role=Role.DISPATCHER,
            is_active=True,
            user__is_active=True,
        )
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    sla = getattr(wo, "sla", None)
    if sla is not None and sla.notify_technician and wo.lead_technician_id and wo.lead_technician.is_active:
        addresses.append(wo.lead_technician.email)
    if sla is not None and sla.escalation_email:
        addresses.append(sla.escalation_email)
    seen, result = set(), []
    for address in addresses:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


def work_order_url(wo) -> str:
    return settings.BASE_URL.rstrip("/") + reverse("work_order_detail", args=[wo.pk])


def _local(instant: datetime | None, zone: str) -> str:
    """``Fri 27 Nov 2026, 17:00 CET (Europe/Berlin)``: an instant as people at ``zone`` read it."""
    if instant is None:
        return ""
    local = instant.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{dateformat.format(local, 'D j M Y, H:i T')} ({zone})"


def subject(notification: SlaNotification) -> str:
    wo = notification.work_order
    what = "SLA breached" if notification.level == NotificationLevel.BREACHED else "SLA at risk"
    title = " ".join(wo.title.split())  # a header is one line: titles may hold line breaks
    return f"[Fixflow] {what}: {wo.number} {title} — {Target(notification.target).label.lower()}"


def context(notification: SlaNotification, sla_clock: SlaClock | None) -> dict:
    """What the e-mail says: target, level, due instant in the site's local time, the work order."""
    from fixflow.service.choices import Priority

    wo = notification.work_order
    sla = getattr(wo, "sla", None)
    site_zone = wo.site.timezone
    calendar = sla.calendar if sla is not None else {}
    calendar_zone = calendar.get("timezone") or site_zone
    due_at = sla_clock.due_at if sla_clock is not None else None
    state = SlaState(sla_clock.state).label if sla_clock is not None else ""
    return {
        "notification": notification,
        "work_order": wo,
        "is_breach": notification.level == NotificationLevel.BREACHED,
        "level": NotificationLevel(notification.level).label,
        "target": Target(notification.target).label,
        "cycle": notification.cycle,
        "state": state,
        "priority": Priority(wo.priority).label if wo.priority in Priority.values else wo.priority,
        "client": wo.client.name,
        "site": wo.site.name,
        "equipment": wo.equipment.name if wo.equipment_id else "",
        "policy": sla.policy_name if sla is not None else "",
        "calendar": calendar.get("name", ""),
        "due_local": _local(due_at, site_zone),
        # the calendar's own time, when its zone differs from the site's (not for 24×7: it has none)
        "due_calendar": (
            _local(due_at, calendar_zone)
            if due_at and calendar_zone != site_zone and not calendar.get("is_24x7")
            else ""
        ),
        "is_paused": sla_clock is not None and sla_clock.paused_since is not None,
        "url": work_order_url(wo),
    }


def build_message(notification: SlaNotification, sla_clock: SlaClock | None, to: list[str]) -> EmailMultiAlternatives:
    ctx = context(notification, sla_clock)
    message = EmailMultiAlternatives(
        subject=subject(notification),
        body=render_to_string("sla/email/notification.txt", ctx),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={
            "Auto-Submitted": "auto-generated",
            "X-Fixflow-Notification": str(notification.pk),
            "X-Fixflow-Work-Order": notification.work_order.number,
        },
    )
    message.attach_alternative(render_to_string("sla/email/notification.html", ctx), "text/html")
    return message
