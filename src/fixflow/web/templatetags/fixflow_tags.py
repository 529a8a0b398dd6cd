"""Small presentation helpers used by every page."""

from urllib.parse import urlencode

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

STATUS_TONES = {
    "new": "info",
    "planned": "info",
    "in_progress": "active",
    "on_hold": "warn",
    "completed": "ok",
    "closed": "muted",
    "cancelled": "muted",
    "accepted": "ok",
    "rejected": "muted",
    "duplicate": "muted",
    "operational": "ok",
    "down": "danger",
    "retired": "muted",
    "to_invoice": "warn",
    "invoiced": "ok",
    "no_charge": "muted",
    "not_billable": "muted",
    "critical": "danger",
    "high": "warn",
    "normal": "info",
    "low": "muted",
}


@register.simple_tag
def badge(value, label=None):
    """A coloured pill for a status, priority or other choice value."""
    value = str(value or "")
    return format_html(
        '<span class="badge badge-{}" data-value="{}">{}</span>',
        STATUS_TONES.get(value, "info"),
        value,
        label or value.replace("_", " ").capitalize(),
    )


@register.filter
def minutes(value):
    """Minutes as ``1 h 30 min``."""
    if value in (None, ""):
        return ""
    value = int(value)
    h, m = divmod(value, 60)
    if h and m:
        return f"{h} h {m:02d} min"
    return f"{h} h" if h else f"{m} min"


@register.filter
def local(value, tz=None):
    """An instant in a given time zone (a site's) or the active one, as ``Mon 3 Mar 2026 14:05``."""
    if not value:
        return ""
    if tz:
        import zoneinfo

        value = value.astimezone(zoneinfo.ZoneInfo(str(tz)))
    else:
        value = timezone.localtime(value)
    return value.strftime("%a %-d %b %Y %H:%M")


@register.simple_tag(takes_context=True)
def query(context, **kwargs):
    """The current query string with some parameters replaced (None removes one)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    if "cursor" not in kwargs:
        params.pop("cursor", None)  # a new filter or sort starts from the first page
    return "?" + urlencode(params, doseq=True) if params else "?"
