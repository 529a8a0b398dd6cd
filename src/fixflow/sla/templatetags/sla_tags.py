"""SLA badges: the state's colour with the business time left or overdue."""

from __future__ import annotations

import zoneinfo

from django import template
from django.utils import timezone
from django.utils.html import format_html

from fixflow.sla.selectors import format_minutes

register = template.Library()

STATE_LABELS = {
    "pending": "On track",
    "at_risk": "At risk",
    "paused": "Paused",
    "breached": "Breached",
    "met": "Met",
    "cancelled": "Cancelled",
}


def _when(instant, tz) -> str:
    if instant is None:
        return ""
    local = instant.astimezone(zoneinfo.ZoneInfo(str(tz))) if tz else timezone.localtime(instant)
    return local.strftime("%a %-d %b %H:%M")


def badge_text(state: str, remaining: int | None, due_at=None, tz=None) -> str:
    """What the badge says: ``2 h 10 min left``, ``overdue 35 min``, ``paused``, ``met``."""
    if state == "met":
        return "met"
    if state == "paused":
        return "paused"
    if state == "cancelled":
        return "cancelled"
    if remaining is not None:
        if state == "breached" or remaining < 0:
            return f"overdue {format_minutes(remaining)}" if remaining else "breached"
        return f"{format_minutes(remaining)} left"
    if state == "breached":
        return "breached"
    if due_at is not None:
        return f"due {_when(due_at, tz)}"
    return STATE_LABELS.get(state, state).lower()


def render_badge(state, remaining=None, due_at=None, tz=None, prefix: str = "SLA", label: bool = True):
    state = str(state or "")
    if not state or state == "cancelled":
        return ""
    title = f"{prefix}: {STATE_LABELS.get(state, state)}"
    if due_at is not None and state not in ("met", "paused"):
        title += f" · due {_when(due_at, tz)}"
    text = badge_text(state, remaining, due_at, tz)
    if not label:
        return format_html(
            '<span class="badge sla-badge sla-{}" data-sla-state="{}" title="{}">{}</span>', state, state, title, text
        )
    return format_html(
        '<span class="badge sla-badge sla-{}" data-sla-state="{}" title="{}">'
        '<span class="sla-label">{}</span> {}</span>',
        state,
        state,
        title,
        prefix,
        text,
    )


@register.simple_tag
def sla_badge(wo, tz=None):
    """The SLA summary of a work order row (``sla_state``, ``sla_due_at``, and ``sla_remaining`` when attached)."""
    return render_badge(
        getattr(wo, "sla_state", ""), getattr(wo, "sla_remaining", None), getattr(wo, "sla_due_at", None), tz
    )


@register.simple_tag
def sla_target_badge(status, tz=None):
    """One target of the work order page's SLA panel (a ``TargetStatus``), labelled with the target."""
    return render_badge(status.state, status.remaining_minutes, status.due_at, tz, prefix=status.label, label=False)


@register.filter
def sla_minutes(value):
    return format_minutes(value)
