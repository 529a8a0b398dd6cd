"""The technician app under ``/m/`` (issue 4): an installable, offline-first web app for phones.

Five URLs, all small:

- ``/m/`` the app shell: one page that holds no user data, so the service worker may keep it and open it
  without network (the data comes from ``GET /api/v1/field/bundle`` and lives in the phone's IndexedDB).
  It needs a signed-in member whose role does field work (``field.sync``); others get a page that says so.
- ``/m/session.json`` who is signed in: the app keeps each person's queued changes apart on a shared phone
  and never sends one person's changes under another's session. It also sets the CSRF cookie the app
  sends back as ``X-CSRFToken``.
- ``/m/manifest.webmanifest`` the web app manifest (install to the home screen). Public: browsers fetch
  manifests without cookies.
- ``/m/sw.js`` the service worker, served from ``/m/`` so that its scope is the app (and with
  ``Service-Worker-Allowed: /m/``). Public: the browser re-fetches it to look for updates, signed in or not.
  Its cache name carries a hash of everything it caches, so a changed file installs a new worker.
- ``/m/i18n.js`` the JavaScript translation catalogue (``gettext`` in the app's modules).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

from fixflow.web.helpers import actor_required

SCOPE = "/m/"
THEME_COLOUR = "#101828"  # the top bar of every Fixflow page
BACKGROUND_COLOUR = "#f5f6f8"
ICONS = (
    ("field/app/icons/icon-192.png", "192x192", "any"),
    ("field/app/icons/icon-512.png", "512x512", "any"),
    ("field/app/icons/maskable-512.png", "512x512", "maskable"),
)
# Static files the service worker keeps (besides the shell, the manifest and the catalogue): every module
# the shell imports, directly or not, must be here or the app will not open offline.
APP_STATIC = (
    "fixflow/app.css",
    "field/app/app.css",
    "field/app/main.js",
    "field/app/db.js",
    "field/app/model.js",
    "field/app/outbox.js",
    "field/app/sync.js",
    "field/app/ui.js",
    "field/app/screens.js",
    "field/app/workorder.js",
    "field/app/capture.js",
    "field/app/icons/icon-192.png",
    "field/app/icons/apple-touch-icon.png",
)
SHELL_TEMPLATE = "field/app/shell.html"


def _may_use_app(actor) -> bool:
    return actor.can("field.sync")


@require_GET
@actor_required
@ensure_csrf_cookie
def app_shell(request):
    """The app shell (see the module docstring); the same bytes for every user, so it can be cached."""
    if not _may_use_app(request.actor):
        return render(request, "field/app/not_for_you.html", status=403)
    response = render(request, SHELL_TEMPLATE, {"config": _config()})
    response["Cache-Control"] = "no-cache"  # the service worker decides when the cached copy is used
    return response


def _config() -> dict:
    """What the app's JavaScript needs to know: where the API and the pages are."""
    return {
        "scope": SCOPE,
        "bundle": reverse("api:field_bundle"),
        "parts": reverse("api:field_parts"),
        "sync": reverse("api:field_sync"),
        "session": reverse("field-app-session"),
        "serviceWorker": reverse("field-app-sw"),
        "login": reverse("login"),
        "home": reverse("home"),
        "workOrderPage": reverse("work_order_detail", args=[0]).replace("/0/", "/{id}/"),
        "csrfCookie": settings.CSRF_COOKIE_NAME,
    }


@require_GET
@actor_required
@ensure_csrf_cookie
def app_session(request):
    """Who is signed in, in which organization (JSON); 403 for roles that do no field work."""
    actor = request.actor
    if not _may_use_app(actor):
        return JsonResponse({"detail": _("The technician app is for people who do field work.")}, status=403)
    response = JsonResponse(
        {
            "user": {"id": actor.user_id, "name": actor.user.full_name or actor.user.email},
            "organization": {"id": actor.organization_id, "name": actor.organization.name},
            "role": actor.role.value,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@cache_control(public=True, max_age=3600)
def app_manifest(request):
    """The web app manifest: name, icons (and a maskable one), colours, start URL and scope ``/m/``."""
    manifest = {
        "id": SCOPE,
        "name": _("Fixflow technician"),
        "short_name": _("Fixflow"),
        "description": _("Your work orders, offline too: time, parts, checklists, photos and signatures."),
        "start_url": SCOPE,
        "scope": SCOPE,
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [{"src": static(src), "sizes": sizes, "type": "image/png", "purpose": p} for src, sizes, p in ICONS],
    }
    return HttpResponse(json.dumps(manifest, ensure_ascii=False), content_type="application/manifest+json")


@require_GET
def service_worker(request):
    """The service worker script, rendered with the URLs it keeps and the version of what they hold."""
    # Rendered without the request: the same script for everyone, whoever is signed in (no Vary: Cookie).
    script = render_to_string(
        "field/app/sw.js",
        {
            "version": _version(),
            "shell": SCOPE,
            "precache": json.dumps(_precache_urls()),
            "static_url": settings.STATIC_URL,
        },
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = SCOPE
    response["Cache-Control"] = "no-cache"
    return response


def _precache_urls() -> list[str]:
    return [
        SCOPE,
        reverse("field-app-manifest"),
        reverse("field-app-i18n"),
        *(static(name) for name in APP_STATIC),
        *(static(src) for src, _sizes, _purpose in ICONS[1:]),
    ]


def _version() -> str:
    return _version_cached() if not settings.DEBUG else _compute_version()


@lru_cache(maxsize=1)
def _version_cached() -> str:
    return _compute_version()


def _compute_version() -> str:
    """A hash of the shell (template and configuration) and every static file the worker keeps: changes when any
    of them does."""
    digest = hashlib.sha256()
    template = get_template(SHELL_TEMPLATE)
    digest.update(template.template.source.encode())
    digest.update(json.dumps(_config(), sort_keys=True).encode())
    for name in (*APP_STATIC, *(src for src, _sizes, _purpose in ICONS)):
        found = finders.find(name)
        if found:
            with open(found, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:16]


app_i18n = cache_control(public=True, max_age=3600)(JavaScriptCatalog.as_view(packages=["fixflow.field"]))

urlpatterns = [
    path("m/", app_shell, name="field-app"),
    path("m/session.json", app_session, name="field-app-session"),
    path("m/manifest.webmanifest", app_manifest, name="field-app-manifest"),
    path("m/sw.js", service_worker, name="field-app-sw"),
    path("m/i18n.js", app_i18n, name="field-app-i18n"),
]
