"""``{% held_count actor as n %}``: how many items from the field wait for the office (the nav badge)."""

from django import template

register = template.Library()


@register.simple_tag
def held_count(actor) -> int:
    """The number of held items the actor may decide; 0 for everyone else (no query then)."""
    if not actor or not actor.can("field.review"):
        return 0
    from fixflow.field.held import held_count as count

    return count(actor=actor)
