"""Held pages of the field app (issue 4): the office's queue of what the field sent that waits for a decision.

Each held command is shown with the technician, the phone's time beside the server's, the work order, the
command in plain words and, for a field edit in conflict, the value the phone started from, the server's
and the phone's side by side. Accept and reject swap the item's card with htmx (reject asks for a reason
the technician will read), or post the form and come back to the list without JavaScript. Who may decide
is checked by ``held.held_accept`` / ``held_reject`` (``field.review``: dispatchers and admins).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.pagination import paginate
from fixflow.web.forms import failed_status
from fixflow.web.helpers import actor_required

from . import held

PAGE_SIZE = 50


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the technician"),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why, for the technician.")},
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. Already billed on the next visit")}),
    )


def _card(c, *, form: RejectForm | None = None, notice: str = "", error: str = "") -> dict:
    """One held item as the card shows it."""
    item = held.held_summary(c)
    item["site_timezone"] = c.work_order.site.timezone if c.work_order_id else None
    item["work_order_url"] = reverse("work_order_detail", args=[c.work_order_id]) if c.work_order_id else ""
    item["reject_form"] = form or RejectForm(auto_id=f"reject-{c.pk}-%s")
    item["notice"], item["error"] = notice, error
    item["is_open"] = c.status == "held" and not c.resolution
    item["pairs"] = [p for p in c.pairs.all()]
    return item


@actor_required
def held_list(request):
    """The queue, oldest first."""
    qs = held.held_queryset(actor=request.actor)
    page = paginate(qs, ordering=["received_at"], cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    return render(
        request,
        "field/held/list.html",
        {"nav": "field_held", "items": [_card(c) for c in page.items], "page": page},
    )


def _answer(request, c, *, status: int = 200, **card) -> HttpResponse:
    """The card again (htmx), else back to the list with the message (a refused form: the list with it)."""
    if request.htmx:
        html = render_to_string("field/held/_card.html", {"item": _card(c, **card)}, request=request)
        count = {"held_n": held.held_count(actor=request.actor), "oob": True}
        return HttpResponse(html + render_to_string("field/held/_count.html", count), status=200)
    if card.get("error") or (card.get("form") is not None and card["form"].errors):
        items = [
            _card(x, **(card if x.pk == c.pk else {})) for x in held.held_queryset(actor=request.actor)[:PAGE_SIZE]
        ]
        return render(request, "field/held/list.html", {"nav": "field_held", "items": items}, status=status)
    messages.success(request, card.get("notice", ""))
    return redirect("field_held_list")


@require_POST
@actor_required
def held_accept_view(request, pk):
    """Apply the held command now; a refusal (e.g. the work order must be reopened first) is shown on its card."""
    try:
        c = held.held_accept(actor=request.actor, command_id=pk)
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        return _answer(
            request, held.held_get(actor=request.actor, pk=pk), status=failed_status(request), error=exc.message
        )
    return _answer(request, c, notice=_("Accepted: %(what)s") % {"what": held.held_summary(c)["summary"]})


@require_POST
@actor_required
def held_reject_view(request, pk):
    """Turn the held command down with the reason the technician reads."""
    c = held.held_get(actor=request.actor, pk=pk)
    form = RejectForm(request.POST, auto_id=f"reject-{pk}-%s")
    if form.is_valid():
        try:
            c = held.held_reject(actor=request.actor, command_id=pk, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
                raise
            form.add_error("reason" if exc.field == "reason" else None, exc.message)
        else:
            return _answer(request, c, notice=_("Rejected: %(what)s") % {"what": held.held_summary(c)["summary"]})
    return _answer(request, c, status=failed_status(request), form=form)


urlpatterns = [
    path("field/held/", held_list, name="field_held_list"),
    path("field/held/<int:pk>/accept/", held_accept_view, name="field_held_accept"),
    path("field/held/<int:pk>/reject/", held_reject_view, name="field_held_reject"),
]
