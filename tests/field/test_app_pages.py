"""The technician app's pages under /m/: the shell, its manifest, its service worker, who may open it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image

from fixflow.field import app_views

pytestmark = pytest.mark.django_db

FIELD_ROLES = ("admin", "dispatcher", "technician")
OTHER_ROLES = ("accountant", "requester", "client_user")


def signed_in(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def config_of(html: str) -> dict:
    match = re.search(r'<script id="fapp-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the shell carries its configuration"
    return json.loads(match.group(1))


# --- the shell ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", FIELD_ROLES)
def test_the_shell_opens_for_everyone_who_does_field_work(world, role):
    # when
    response = signed_in(world.actors[role]).get("/m/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert '<link rel="manifest" href="/m/manifest.webmanifest">' in html
    assert '<script type="module" src="/static/field/app/main.js"></script>' in html
    assert response["Cache-Control"] == "no-cache"
    assert response.cookies["csrftoken"].value, "the app sends the CSRF cookie back with its sync"


def test_the_shell_names_the_api_and_pages_the_app_talks_to(world):
    html = signed_in(world.technician).get("/m/").content.decode()
    config = config_of(html)
    assert config == {
        "scope": "/m/",
        "bundle": "/api/v1/field/bundle",
        "parts": "/api/v1/field/parts",
        "sync": "/api/v1/field/sync",
        "session": "/m/session.json",
        "serviceWorker": "/m/sw.js",
        "login": "/login/",
        "home": "/",
        "workOrderPage": "/work-orders/{id}/",
        "csrfCookie": "csrftoken",
    }


def test_the_shell_holds_no_user_data_so_the_phone_may_keep_it_for_anyone(world):
    # given two people who use the app
    first = signed_in(world.technician).get("/m/")
    second = signed_in(world.technician2).get("/m/")
    # then they get the same page, without names, e-mail addresses or the CSRF token in it
    assert first.content == second.content
    html = first.content.decode()
    for actor in (world.technician, world.technician2):
        assert actor.user.email not in html
        assert actor.user.full_name not in html
    assert first.cookies["csrftoken"].value not in html


def test_anonymous_visitors_are_sent_to_sign_in_and_back(client):
    response = client.get("/m/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/m/"


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_roles_without_field_work_get_a_page_that_says_so(world, role):
    response = signed_in(world.actors[role]).get("/m/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "The technician app is for field work" in html
    assert str(world.actors[role].role.label) in html
    assert "/static/field/app/main.js" not in html


def test_a_user_without_an_organization_is_refused(db):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())
    assert client.get("/m/").status_code == 403


def test_the_shell_answers_only_get(world):
    assert signed_in(world.technician).post("/m/").status_code == 405


# --- who is signed in -------------------------------------------------------------------------------------


def test_the_session_says_who_is_signed_in_and_where(world):
    response = signed_in(world.technician).get("/m/session.json")
    assert response.status_code == 200
    assert response.json() == {
        "user": {"id": world.technician.user_id, "name": world.technician.user.full_name},
        "organization": {"id": world.org.pk, "name": world.org.name},
        "role": "technician",
    }
    assert response["Cache-Control"] == "no-store"
    assert response.cookies["csrftoken"].value


def test_the_session_of_a_role_without_field_work_is_refused(world):
    response = signed_in(world.requester).get("/m/session.json")
    assert response.status_code == 403
    assert "field work" in response.json()["detail"]


def test_the_session_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/m/session.json")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- manifest --------------------------------------------------------------------------------------------


def test_the_manifest_makes_the_app_installable(client):
    # when (browsers fetch manifests without cookies)
    response = client.get("/m/manifest.webmanifest")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Fixflow technician"
    assert manifest["short_name"] == "Fixflow"
    assert manifest["start_url"] == "/m/"
    assert manifest["scope"] == "/m/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#101828"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}


def test_every_icon_of_the_manifest_is_a_png_of_its_size(client):
    manifest = json.loads(client.get("/m/manifest.webmanifest").content)
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        image = Image.open(io.BytesIO(Path(path).read_bytes()))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"]


def test_the_maskable_icon_fills_its_square(client):
    # a maskable icon may be cut to a circle: its corners must be the background, not transparent
    path = finders.find("field/app/icons/maskable-512.png")
    image = Image.open(path).convert("RGBA")
    assert image.getpixel((0, 0))[3] == 255
    assert image.getpixel((0, 0))[:3] == (31, 95, 214)


# --- service worker --------------------------------------------------------------------------------------


def test_the_service_worker_is_served_from_the_app_with_its_scope(client, world):
    response = client.get("/m/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/m/"
    assert response["Cache-Control"] == "no-cache"
    assert 'const SHELL = "/m/";' in response.content.decode()
    assert signed_in(world.technician).get("/m/sw.js").content == response.content, "the same for everyone"


def _precache(script: str) -> list[str]:
    return json.loads(re.search(r"const PRECACHE = (\[.*?\]);", script).group(1))


def test_the_service_worker_keeps_the_shell_and_every_module_the_shell_loads(client, world):
    # given what the shell loads, and every module those import (directly or not)
    shell = signed_in(world.technician).get("/m/").content.decode()
    wanted = set(re.findall(r'(?:src|href)="(/(?:static|m)/[^"]+)"', shell))
    todo = [url for url in wanted if url.endswith(".js") and url.startswith("/static/")]
    while todo:
        url = todo.pop()
        source = Path(finders.find(url.removeprefix("/static/"))).read_text()
        for name in re.findall(r'from "\./([\w-]+\.js)"', source):
            imported = url.rsplit("/", 1)[0] + "/" + name
            if imported not in wanted:
                wanted.add(imported)
                todo.append(imported)
    # when
    precache = set(_precache(client.get("/m/sw.js").content.decode()))
    # then the worker keeps all of it (else the app would not open offline)
    assert "/m/" in precache
    assert wanted - precache == set()
    assert {"/static/field/app/main.js", "/static/field/app/workorder.js", "/m/i18n.js"} <= precache


def test_every_file_the_service_worker_keeps_is_served(client, world):
    technician = signed_in(world.technician)
    for url in _precache(client.get("/m/sw.js").content.decode()):
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
        else:
            assert technician.get(url).status_code == 200, url


def test_the_service_worker_version_follows_the_files_it_keeps(tmp_path, monkeypatch, settings):
    # given the version of the files as they are
    settings.DEBUG = True  # computed on every request, as while developing
    before = app_views._version()
    assert before == app_views._version()
    # when one of them changes
    changed = tmp_path / "app.css"
    changed.write_text(Path(finders.find("field/app/app.css")).read_text() + "\n/* changed */\n")
    real_find = finders.find
    monkeypatch.setattr(
        app_views.finders,
        "find",
        lambda name, *a, **k: str(changed) if name == "field/app/app.css" else real_find(name),
    )
    # then the worker's version (and so its cache name) changes
    assert app_views._version() != before


def test_the_translation_catalogue_for_the_app_is_javascript(client):
    response = client.get("/m/i18n.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    assert b"gettext" in response.content
