"""Sign-in, organization switch, the home page of each role, and personal API tokens."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fixflow.core import clock
from fixflow.core.choices import Role
from fixflow.core.errors import DomainError
from fixflow.core.middleware import SESSION_ORGANIZATION_KEY
from fixflow.core.models import ApiToken, Membership
from fixflow.core.services import api_token_create, api_token_revoke
from fixflow.service import selectors as service_selectors

from .forms import EmailAuthenticationForm, TokenForm, call_service, failed_status
from .helpers import actor_required


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


@require_POST
def switch_organization(request):
    if not request.user.is_authenticated:
        return redirect("login")
    try:
        org_id = int(request.POST.get("organization", ""))
    except ValueError:
        return HttpResponseBadRequest(_("Choose an organization."))
    if not Membership.objects.filter(user=request.user, organization_id=org_id, is_active=True).exists():
        messages.error(request, _("You are not a member of that organization."))
        return redirect("home")
    request.session[SESSION_ORGANIZATION_KEY] = org_id
    return redirect("home")


@actor_required
def home(request):
    actor = request.actor
    context = {"nav": "home"}
    tz = actor.organization.tzinfo
    now = clock.now()
    today = now.astimezone(tz).date()
    day_start = datetime.combine(today, time.min, tzinfo=tz)
    if actor.role in (Role.ADMIN, Role.DISPATCHER):
        context.update(service_selectors.dispatcher_home(actor=actor))
        template = "web/home_dispatcher.html"
    elif actor.role == Role.TECHNICIAN:
        context.update(
            service_selectors.technician_home(actor=actor, day_start=day_start, day_end=day_start + timedelta(days=1))
        )
        context["today_date"] = today
        template = "web/home_technician.html"
    elif actor.role == Role.ACCOUNTANT:
        from fixflow.billing import report_selectors

        context.update(service_selectors.accountant_home(actor=actor))
        for wo in context["to_invoice"]:
            wo.days_waiting = (now - wo.closed_at).days if wo.closed_at else None
        context["leakage"] = report_selectors.summarize(report_selectors.leakage(actor=actor))
        template = "web/home_accountant.html"
    else:
        context["requests"] = service_selectors.work_request_list(actor=actor, limit=20).items
        context["work_orders"] = service_selectors.work_order_list(actor=actor, filters={"open": True}, limit=20).items
        template = "web/home_requester.html"
    return render(request, template, context)


@actor_required
def api_tokens(request):
    actor = request.actor
    form = TokenForm(request.POST or None)
    raw = None
    status = 200
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                api_token_revoke(actor=actor, token_id=int(request.POST["revoke"]))
                messages.success(request, _("Token revoked. Scripts using it stop working now."))
            except (DomainError, ValueError):
                messages.error(request, _("Token not found."))
            return redirect("api_tokens")
        if form.is_valid():
            created = call_service(form, lambda: api_token_create(actor=actor, name=form.cleaned_data["name"]))
            if created:
                raw = created[1]
                form = TokenForm()
        if raw is None:
            status = failed_status(request)
    tokens = ApiToken.objects.filter(organization_id=actor.organization_id, user=actor.user)
    return render(request, "web/api_tokens.html", {"form": form, "tokens": tokens, "raw_token": raw}, status=status)
