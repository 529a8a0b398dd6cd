"""Presentation helpers of the maintenance plan pages."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fixflow.web.forms import plain_decimal

register = template.Library()


@register.filter
def relative_day(day: date | None, today: date | None) -> str:
    """How far a date is from today: "today", "tomorrow", "in 12 days", "in 3 weeks", "2 days ago"."""
    if not day or not today:
        return ""
    days = (day - today).days
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    if days == -1:
        return _("yesterday")
    if days < 0:
        return ngettext("%(n)d day ago", "%(n)d days ago", -days) % {"n": -days}
    if days < 14:
        return ngettext("in %(n)d day", "in %(n)d days", days) % {"n": days}
    if days < 63:
        return ngettext("in %(n)d week", "in %(n)d weeks", days // 7) % {"n": days // 7}
    months = round(days / 30.44)
    return ngettext("in %(n)d month", "in %(n)d months", months) % {"n": months}


@register.filter
def plain_number(value) -> str:
    """A meter value without trailing zeros: 1500.000 → 1500, 12.500 → 12.5."""
    if value is None or value == "":
        return ""
    return plain_decimal(value)


@register.filter
def days_text(n) -> str:
    """1 day, 7 days."""
    if n in (None, ""):
        return ""
    return ngettext("%(n)d day", "%(n)d days", int(n)) % {"n": int(n)}
