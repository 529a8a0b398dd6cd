"""Browser tests: Playwright (Python, sync API) driving Debian's Chromium against pytest-django's live server.

Fixtures:

- ``site_url``: the live server's base URL, on plain HTTP (HTTPS redirect and Secure cookies off), with
  transactional database access so the server thread sees the rows the test creates.
- ``browser_page``: a fresh desktop-sized page (own cookies) whose relative URLs resolve to ``site_url``.
- ``phone_page``: the same on a phone-sized (390×844), touch screen.
- ``open_page(phone=False)``: more pages, each in its own context, for tests with several users.
- ``log_in(page, who)``: signs ``who`` (an Actor or a User) in through the login page.
- ``asgi_site_url``: like ``site_url``, but served by uvicorn (ASGI, as ``fixflow serve``) on a thread of its own, for
  tests of pages that update themselves over a stream (live events); such a module overrides ``site_url``
  with it.

A failing test leaves a full-page screenshot in ``test-artifacts/``. Without Chromium the tests skip,
unless ``CI`` is set: then they fail, so a CI machine cannot silently skip them.

We never run ``playwright install``; pytest-playwright's own fixtures (``page``, ``browser``…) are not
used, so its ``--browser`` options do not apply here.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started
from django.db import connections
from django.test import override_settings

from ..conftest import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000
_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


def chromium_executable() -> str | None:
    """Debian's Chromium, or the one ``FIXFLOW_CHROMIUM`` names; never a browser downloaded by Playwright."""
    if explicit := os.environ.get("FIXFLOW_CHROMIUM"):
        candidates = [explicit]
    else:
        candidates = ["/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell in teardown whether the test failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


# --- the server -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _http_live_server(request, django_db_setup):
    """pytest-django's live server, started with the HTTPS redirect and HSTS off.

    Django's SecurityMiddleware reads those settings once, when the server thread builds its handler, so
    the override must be active when ``live_server`` starts (after the test database exists).
    """
    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        return request.getfixturevalue("live_server")


def _check_plain_http(server) -> None:
    """Fail clearly when someone started the live server before the HTTPS redirect could be turned off."""
    try:
        with urllib.request.urlopen(urllib.request.Request(server.url + "/login/", method="HEAD"), timeout=10):
            pass
    except urllib.error.HTTPError:
        pass  # an answer over plain HTTP, whatever it is: the test itself will judge the page
    except urllib.error.URLError as exc:  # urllib followed a redirect to https://, which cannot connect
        raise RuntimeError(
            "The live server redirects plain HTTP to HTTPS: it was started before the e2e fixtures could turn "
            "SECURE_SSL_REDIRECT off. Request `site_url` instead of `live_server` in browser tests."
        ) from exc
    server.plain_http_checked = True


@pytest.fixture
def site_url(_http_live_server, transactional_db, settings) -> str:
    """Base URL of the live server. Cookies without the Secure flag: the browser talks plain HTTP."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, _http_live_server.thread.host]
    if not getattr(_http_live_server, "plain_http_checked", False):
        _check_plain_http(_http_live_server)
    return _http_live_server.url


class _AsgiServer:
    """uvicorn serving Django's ASGI handler on a thread of this process: what ``fixflow serve`` runs.

    Django's live server is threaded WSGI, which cannot hold a stream open: there the live events of the
    office pages (``/live/events/``) answer with a replay and a 5-second retry, a poll. Tests that watch a
    page update by itself run against this server instead. As in Django's live server, an in-memory SQLite
    test database is shared with the request threads (each request runs on a thread of its own), and
    every request thread closes its connections when the request ends.
    """

    def __init__(self):
        import uvicorn
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
        from django.core.handlers.asgi import ASGIHandler

        # SecurityMiddleware reads the HTTPS settings when the handler loads its middleware
        with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
            app = ASGIStaticFilesHandler(ASGIHandler())
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.host, self.port = self.socket.getsockname()
        config = uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="asgi-live-server", daemon=True)
        self.shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.socket]))

    def _share_connections(self, **kwargs) -> None:
        if threading.current_thread() is not threading.main_thread():
            for alias, conn in self.shared.items():
                connections[alias] = conn

    def _close_connections(self, **kwargs) -> None:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()  # a no-op on the shared in-memory database

    def start(self) -> None:
        for conn in self.shared.values():
            conn.inc_thread_sharing()
        request_started.connect(self._share_connections)
        request_finished.connect(self._close_connections)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        # the first request imports and compiles what every page needs: not on a test's clock
        with urllib.request.urlopen(self.url + "/login/", timeout=120):
            pass

    def stop(self) -> None:
        from fixflow.field import live

        if self.thread.is_alive():  # close the live events hub's connections, then stop serving
            asyncio.run_coroutine_threadsafe(live.shutdown(), self.loop).result(30)
            self.server.should_exit = True
            self.thread.join(30)
        request_started.disconnect(self._share_connections)
        request_finished.disconnect(self._close_connections)
        for conn in self.shared.values():
            conn.dec_thread_sharing()


@pytest.fixture(scope="session")
def _asgi_live_server(django_db_setup):
    server = _AsgiServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def asgi_site_url(_asgi_live_server, transactional_db, settings) -> str:
    """Base URL of the ASGI live server (see ``_AsgiServer``). A test module that needs it for every page
    overrides ``site_url`` with it::

        @pytest.fixture
        def site_url(asgi_site_url):
            return asgi_site_url
    """
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, _asgi_live_server.host]
    return _asgi_live_server.url


# --- the browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module.

    Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse ORM calls from
    the test ("async unsafe"); DJANGO_ALLOW_ASYNC_UNSAFE lifts that while the browser is running only.
    """
    executable = chromium_executable()
    if executable is None:
        message = "Chromium not found (apt-get install chromium, or set FIXFLOW_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; browser tests may not be skipped in CI.", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


@pytest.fixture
def open_page(request, chromium, site_url):
    """``open_page(phone=False)`` → a new page in its own browser context (own cookies, so another user).

    For tests with several people at once, e.g. a dispatcher on a desktop and a technician on a phone.
    Every page of a failed test is saved as a screenshot in ``test-artifacts/``.
    """
    contexts = []

    def open_(*, phone: bool = False):
        context = chromium.new_context(
            base_url=site_url, locale="en-GB", timezone_id="Europe/Berlin", **(PHONE if phone else DESKTOP)
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    call = request.node.stash.get(_reports, {}).get("call")
    failed = call is not None and call.failed
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-180:]
    pages = [page for context in contexts for page in context.pages]
    for i, page in enumerate(pages):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            path = ARTIFACTS / (f"{name}.png" if len(pages) == 1 else f"{name}-{i + 1}.png")
            try:
                page.screenshot(path=str(path), full_page=True)
            except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the test's own failure
                print(f"screenshot failed: {exc}")
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(open_page):
    """A desktop-sized (1280×800) page in a fresh browser context; ``page.goto("/")`` opens the live server."""
    return open_page()


@pytest.fixture
def phone_page(open_page):
    """A phone-sized (390×844) touch page in a fresh browser context, like a technician's phone."""
    return open_page(phone=True)


def log_in(page, who, password: str = PASSWORD) -> None:
    """Sign ``who`` (an Actor or a User) in through the login page; waits until the login page is left."""
    user = getattr(who, "user", who)
    page.goto("/login/")
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action$='/login/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture
def logged_in() -> Callable:
    """``logged_in(page, who)``: the ``log_in`` helper as a fixture, for tests that prefer fixtures."""
    return log_in
