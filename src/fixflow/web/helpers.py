"""Glue shared by the page views: the actor guard, domain errors on forms, list parameters."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden
from django.shortcuts import render

from fixflow.core.errors import DomainError


def actor_required(view):
    """The page needs a signed-in member of an organization; ``request.actor`` is then set."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.actor:
            return HttpResponseForbidden(render(request, "web/no_membership.html").content)
        return view(request, *args, **kwargs)

    return wrapped


def add_domain_error(form, exc: DomainError) -> None:
    """Show a refused action next to the field it concerns (or at the top of the form)."""
    field = exc.field if exc.field in form.fields else None
    if field is None and exc.field and f"{exc.field}_id" in form.fields:
        field = f"{exc.field}_id"
    form.add_error(field, exc.message)


def list_params(request) -> dict:
    return {"cursor": request.GET.get("cursor") or None}
