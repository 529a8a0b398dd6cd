"""Authentication (personal tokens, the browser session with CSRF) and the published OpenAPI document."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from fixflow.api import api as ninja_api
from fixflow.core.middleware import SESSION_ORGANIZATION_KEY
from fixflow.core.models import ApiToken
from fixflow.service.models import WorkRequest

from .conftest import BASE, Api, assert_problem, session_client


def _operations() -> list[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return [(method.upper(), path) for path, ops in schema["paths"].items() for method in ops]


def test_a_personal_token_identifies_the_user_organization_and_role(api, world):
    # when
    r = api("client_user").get("/me")
    # then
    assert r.status_code == 200
    assert r.json() == {
        "user": {"id": world.client_user.user_id, "email": world.client_user.user.email, "full_name": "Clara Client"},
        "organization": {
            "id": world.org.pk,
            "name": "Acme Maintenance",
            "currency": "EUR",
            "timezone": "Europe/Berlin",
        },
        "role": "client_user",
        "client_id": world.client.pk,
    }


def test_using_a_token_records_when_it_was_last_used(api, world):
    # when
    api("technician").get("/me")
    # then
    assert ApiToken.objects.get(user=world.technician.user).last_used_at is not None


def test_the_browser_session_reads_without_a_csrf_token(world):
    # given
    client, _csrf = session_client(world.dispatcher.user)
    # when
    r = Api(world.dispatcher, client).get("/me")
    # then
    assert r.status_code == 200
    assert r.json()["role"] == "dispatcher"


def test_the_browser_session_must_send_the_csrf_token_to_write(world, nothing_written):
    # given
    client, _csrf = session_client(world.requester.user)
    with nothing_written():
        # when
        r = Api(world.requester, client).post("/work-requests", {"site_id": world.site.pk, "title": "Leak"})
    # then
    assert_problem(r, 403, "permission_denied", detail="X-CSRFToken")


def test_the_browser_session_writes_with_the_csrf_header(world):
    # given
    client, csrf = session_client(world.requester.user)
    # when
    r = Api(world.requester, client).post(
        "/work-requests", {"site_id": world.site.pk, "title": "Leak"}, headers={"X-CSRFToken": csrf}
    )
    # then
    assert r.status_code == 201, r.content
    assert WorkRequest.objects.get(pk=r.json()["id"]).requester == world.requester.user


def test_the_session_acts_in_the_organization_chosen_for_it(world, other_world):
    # given the dispatcher is also an admin of the other organization and switched to it
    from tests.factories import MembershipFactory

    MembershipFactory(organization=other_world.org, user=world.dispatcher.user, role="admin")
    client, _csrf = session_client(world.dispatcher.user)
    session = client.session
    session[SESSION_ORGANIZATION_KEY] = other_world.org.pk
    session.save()
    # when
    r = Api(world.dispatcher, client).get("/me")
    # then
    assert (r.json()["organization"]["id"], r.json()["role"]) == (other_world.org.pk, "admin")


def test_every_operation_refuses_anonymous_callers_with_401(world, nothing_written):
    # given every operation of the published API, ids filled with 1
    client = Client(enforce_csrf_checks=True)
    operations = _operations()
    assert len(operations) > 60
    with nothing_written():
        for method, path in operations:
            # when
            url = path.replace("{id}", "1").replace("{item_id}", "1")
            r = client.generic(method, url, "{}", content_type="application/json", secure=True)
            # then
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["code"] == "not_authenticated"


def test_the_openapi_document_is_valid_json_and_lists_every_resource(client, db):
    # when
    r = client.get(f"{BASE}/openapi.json", secure=True)
    # then
    assert r.status_code == 200
    schema = json.loads(r.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Fixflow API"
    for path in [
        "/me",
        "/organization",
        "/equipment-categories",
        "/equipment",
        "/equipment/{id}/work-orders",
        "/parts",
        "/templates",
        "/templates/{id}",
        "/work-requests",
        "/work-requests/{id}/reject",
        "/work-requests/{id}/duplicate",
        "/work-requests/{id}/convert",
        "/work-requests/{id}/attachments",
        "/work-orders",
        "/work-orders/{id}",
        "/work-orders/{id}/transitions",
        "/work-orders/{id}/timeline",
        "/work-orders/{id}/follow-ups",
        "/work-orders/{id}/billing",
        "/work-orders/{id}/checklist",
        "/work-orders/{id}/checklist/{item_id}",
        "/work-orders/{id}/planned-materials",
        "/planned-materials/{id}",
        "/work-orders/{id}/timer/start",
        "/work-orders/{id}/timer/stop",
        "/work-orders/{id}/attachments",
        "/work-orders/{id}/signature",
        "/time-entries",
        "/time-entries/{id}",
        "/part-usages",
        "/part-usages/{id}",
        "/notes",
        "/notes/{id}",
        "/attachments",
        "/attachments/{id}",
        "/attachments/{id}/download",
    ]:
        assert f"{BASE}{path}" in schema["paths"], path
    assert (
        "multipart/form-data"
        in schema["paths"][f"{BASE}/work-orders/{{id}}/attachments"]["post"]["requestBody"]["content"]
    )


def test_every_operation_has_a_unique_id_tags_and_a_summary(db):
    # given
    schema = ninja_api.get_openapi_schema()
    ids = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            # then
            assert op.get("tags"), (method, path)
            assert op.get("summary"), (method, path)
            ids.append(op["operationId"])
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("url_name", "kwargs", "path"),
    [
        ("work_order_list", {}, "/work-orders"),
        ("work_order_get", {"id": 7}, "/work-orders/7"),
        ("work_order_transition", {"id": 7}, "/work-orders/7/transitions"),
        ("work_order_checklist_answer", {"id": 7, "item_id": 3}, "/work-orders/7/checklist/3"),
        ("work_request_convert", {"id": 7}, "/work-requests/7/convert"),
        ("attachment_download", {"id": 7}, "/attachments/7/download"),
        ("equipment_work_orders", {"id": 7}, "/equipment/7/work-orders"),
        ("me", {}, "/me"),
    ],
)
def test_operations_have_url_names(url_name, kwargs, path):
    # then
    assert reverse(f"api:{url_name}", kwargs=kwargs) == f"{BASE}{path}"


def test_the_interactive_docs_answer(client, db):
    # when
    r = client.get(f"{BASE}/docs", secure=True)
    # then
    assert r.status_code == 200
    assert b"openapi.json" in r.content
