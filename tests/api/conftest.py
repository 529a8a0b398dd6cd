"""API test helpers: a JSON client per role (bearer token), a session client with CSRF, and checks for
problem+json bodies and for "nothing was written"."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from PIL import Image

from fixflow.core.services import api_token_create
from fixflow.service import services
from fixflow.service.models import TemplatePart
from tests.factories import ChecklistItemFactory, PartFactory, TemplateFactory

BASE = "/api/v1"


class Api:
    """A Django test client speaking JSON to /api/v1/ with one actor's personal token.

    Requests go over HTTPS, as in production (plain HTTP is redirected).
    """

    def __init__(self, actor, client: Client | None = None):
        self.actor = actor
        if client is None:
            _token, raw = api_token_create(actor=actor, name="tests")
            client = Client(headers={"Authorization": f"Bearer {raw}"})
        self.client = client

    @staticmethod
    def _url(path: str) -> str:
        return path if path.startswith("/api/") else BASE + path

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(self._url(path), params or {}, secure=True, headers=headers or {})

    def post(self, path: str, body: Any = None, headers: dict | None = None, raw: bytes | str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            self._url(path), data, content_type="application/json", secure=True, headers=headers or {}
        )

    def upload(self, path: str, files: dict, data: dict | None = None, headers: dict | None = None):
        return self.client.post(self._url(path), {**(data or {}), **files}, secure=True, headers=headers or {})

    def patch(self, path: str, body: Any, headers: dict | None = None):
        return self.client.patch(
            self._url(path), json.dumps(body), content_type="application/json", secure=True, headers=headers or {}
        )

    def put(self, path: str, body: Any, headers: dict | None = None):
        return self.client.put(
            self._url(path), json.dumps(body), content_type="application/json", secure=True, headers=headers or {}
        )

    def delete(self, path: str, headers: dict | None = None):
        return self.client.delete(self._url(path), secure=True, headers=headers or {})


@pytest.fixture
def api(world):
    """``api("dispatcher")`` → an Api for that role of the world (one token per role, reused)."""
    cache: dict[str, Api] = {}

    def make(role: str) -> Api:
        if role not in cache:
            cache[role] = Api(getattr(world, role))
        return cache[role]

    return make


@pytest.fixture
def other_api(other_world):
    cache: dict[str, Api] = {}

    def make(role: str) -> Api:
        if role not in cache:
            cache[role] = Api(getattr(other_world, role))
        return cache[role]

    return make


def session_client(user) -> tuple[Client, str]:
    """A browser-like client signed in with the session, and the CSRF token its cookie carries."""
    # Over HTTPS, like production; a browser sends its Origin with every POST.
    client = Client(enforce_csrf_checks=True, headers={"Origin": "https://testserver"})
    client.force_login(user)
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    return client, token


def assert_problem(response, status: int, code: str, field: str | None = None, detail: str | None = None) -> dict:
    """The response is an application/problem+json with this status, code (and field, and detail text)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["detail"], body
    assert body["title"]
    assert body["type"].endswith(code)
    if field is not None:
        assert body.get("field") == field, body
    if detail is not None:
        assert detail in body["detail"], body
    return body


_COUNTED = [
    "service.WorkRequest",
    "service.WorkOrder",
    "service.WorkOrderEvent",
    "service.ChecklistAnswer",
    "service.TimeEntry",
    "service.PartUsage",
    "service.PlannedMaterial",
    "service.WorkOrderNote",
    "service.Attachment",
    "service.WorkOrderTemplate",
    "service.TemplateChecklistItem",
    "service.TemplatePart",
    "assets.Equipment",
    "assets.EquipmentCategory",
    "inventory.Part",
    "core.ChangeRecord",
]


def row_counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in _COUNTED}


class Unchanged:
    """``with nothing_written(): ...`` asserts no counted table gained or lost rows."""

    def __enter__(self):
        self.before = row_counts()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert row_counts() == self.before


@pytest.fixture
def nothing_written():
    return Unchanged


@pytest.fixture
def template(world):
    """A template with two checklist items (one required, a pass/fail one) and one planned part."""
    t = TemplateFactory(organization=world.org, name="Boiler service", estimated_duration_minutes=90)
    ChecklistItemFactory(template=t, label="Check pressure", kind="number", is_required=True, position=0)
    ChecklistItemFactory(template=t, label="Flue gas test", kind="pass_fail", is_required=False, position=1)
    part = PartFactory(
        organization=world.org, sku="GSK-10", name="Gasket", unit_cost=Decimal("2.50"), sale_price=Decimal("4.90")
    )
    TemplatePart.objects.create(organization=world.org, template=t, part=part, quantity=Decimal("2"))
    return t


@pytest.fixture
def part(world):
    return PartFactory(
        organization=world.org,
        sku="FLT-1",
        name="Filter",
        unit="pc",
        unit_cost=Decimal("8.00"),
        sale_price=Decimal("12.50"),
    )


@pytest.fixture
def work_order(world, template):
    """A new work order from the template on the world's pump, created through the service."""
    return services.work_order_create(
        actor=world.dispatcher,
        site_id=world.site.pk,
        equipment_id=world.equipment.pk,
        template_id=template.pk,
        title="Pump P1 leaking",
    )


@pytest.fixture
def started_work_order(world, work_order):
    """The work order planned for the technician and started by them."""
    start = timezone.now() + timedelta(hours=1)
    services.work_order_update(
        actor=world.dispatcher,
        work_order_id=work_order.pk,
        data={"lead_technician_id": world.technician.user_id, "scheduled_start": start},
    )
    services.work_order_transition(actor=world.dispatcher, work_order_id=work_order.pk, to="planned")
    services.work_order_transition(actor=world.technician, work_order_id=work_order.pk, to="in_progress")
    work_order.refresh_from_db()
    return work_order


def png_bytes(size: tuple[int, int] = (8, 8), color=(200, 30, 30)) -> bytes:
    """A real PNG image, generated."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()
