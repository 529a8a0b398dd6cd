"""Presentation helpers of the forecast calendar: an occurrence's kind tag and its hover text."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from fixflow.maintenance.choices import TriggerKind
from fixflow.service.choices import Status

register = template.Library()


def _kinds() -> dict:
    from fixflow.maintenance.report_views import KINDS

    return KINDS


@register.simple_tag
def pm_kind(kind: str):
    """The kind of a forecast item as text and symbol (never colour alone): ``! Overdue``."""
    label, symbol, _help = _kinds().get(kind, (kind.capitalize(), "·", ""))
    return format_html('<span class="pm-tag"><span aria-hidden="true">{}</span> {}</span>', symbol, label)


@register.filter
def pm_due_time(item) -> str:
    """The due time in the site's own zone (``09:00``)."""
    return item.due_at.astimezone(ZoneInfo(item.timezone)).strftime("%H:%M")


@register.filter
def pm_status_label(value: str) -> str:
    try:
        return str(Status(value).label)
    except ValueError:
        return value


@register.filter
def pm_title(item) -> str:
    """Everything about one forecast item in a line, for its hover text (the reason of a skip or miss)."""
    label = _kinds().get(item.kind, (item.kind,))[0]
    due = item.due_at.astimezone(ZoneInfo(item.timezone))
    parts = [
        f"{label}: {item.plan_name}",
        item.equipment_name,
        item.site_name,
        _("due %(when)s (%(zone)s)") % {"when": f"{due:%a %-d %b %Y %H:%M}", "zone": item.timezone},
    ]
    if item.trigger == TriggerKind.METER and item.due_value is not None:
        value = f"{item.due_value.normalize():f}"
        parts.append(
            _("meter at %(value)s") % {"value": value}
            + (" " + _("(date predicted from the usage rate)") if item.is_predicted else "")
        )
    if item.work_order_number:
        parts.append(f"{item.work_order_number} {pm_status_label(item.work_order_status).lower()}")
    if item.completed_on_time is True:
        parts.append(_("completed on time"))
    elif item.completed_on_time is False:
        parts.append(_("completed late"))
    if item.is_catch_up:
        parts.append(_("catch-up"))
    if item.technician_name:
        parts.append(item.technician_name)
    if item.reason:
        parts.append(item.reason)
    return " · ".join(parts)
