from fixflow.core.models import Membership


def fixflow(request):
    """The acting user's organization, role and other organizations, for the page header."""
    actor = getattr(request, "actor", None)
    if not actor:
        return {"actor": None}
    memberships = Membership.objects.filter(user=actor.user, is_active=True).select_related("organization")
    return {
        "actor": actor,
        "other_organizations": [m.organization for m in memberships if m.organization_id != actor.organization_id],
    }
