"""``{% live_events_script %}``: the live updates script of the office pages, for roles that may subscribe."""

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def live_events_script(context) -> str:
    """The ``<script>`` of ``field/live.js`` with its stream URL and texts; nothing for other roles.

    ``base.html`` includes it once, so every office page follows the technicians' work (issue 4).
    """
    actor = context.get("actor")
    if not actor or not actor.can("field.live"):
        return ""
    from fixflow.field.live import read_latest_event_id

    return format_html(
        '<script src="{}" data-events="{}" data-since="{}" data-updated="{}" defer></script>',
        static("field/live.js"),
        reverse("live_events"),
        read_latest_event_id(),  # the stream replays what happens between this render and its start
        _("Updated"),
    )
