from django.utils.functional import SimpleLazyObject

from .permissions import actor_for

SESSION_ORGANIZATION_KEY = "fixflow_organization_id"


class ActorMiddleware:
    """Attach ``request.actor``: the signed-in user in the organization chosen for this session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def load():
            return actor_for(request.user, request.session.get(SESSION_ORGANIZATION_KEY))

        request.actor = SimpleLazyObject(load) if request.user.is_authenticated else None
        return self.get_response(request)
