from django.http import Http404
from django.shortcuts import render

from fixflow.core.errors import DomainError, ErrorCode


class DomainErrorPageMiddleware:
    """A DomainError that escapes a page view becomes a 404 or an explanatory error page, never a 500.

    Only for pages: the API has its own problem+json handler.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/") or not isinstance(exception, DomainError):
            return None
        if exception.code == ErrorCode.NOT_FOUND:
            raise Http404(exception.message)
        return render(request, "web/error.html", {"error": exception}, status=exception.http_status)
