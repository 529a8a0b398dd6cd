"""A request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is answered 413 with the API's problem JSON, saying
what to do, and changes nothing; a full batch of ``MAX_COMMANDS`` ordinary commands fits well under it."""

import base64
import json
import uuid

from django.conf import settings

from fixflow.core import clock
from fixflow.field.models import SyncCommand
from fixflow.field.sync import MAX_COMMANDS
from fixflow.service.models import Attachment, WorkOrderNote
from tests.api.conftest import Api, assert_problem, session_client

from .conftest import at, png, started_work_order


def note(wo, seq: int, body: str = "Seal worn, replaced with the spare from the van.") -> dict:
    return {
        "mutation_id": str(uuid.uuid4()),
        "seq": seq,
        "type": "note.add",
        "work_order_id": wo.pk,
        "payload": {"body": body},
        "occurred_at": at("10:00").isoformat(),
        "base_version": wo.version,
    }


def photo(wo, seq: int, size: int) -> dict:
    """A photo command carrying ``size`` bytes (a real PNG, padded: the body's size is what counts here)."""
    data = png() + b"\0" * max(0, size - len(png()))
    return {
        **note(wo, seq),
        "type": "photo.add",
        "payload": {"content_type": "image/png", "caption": "Valve", "data_base64": base64.b64encode(data).decode()},
    }


def body_of(wo, commands: list[dict]) -> str:
    return json.dumps({"device_id": str(uuid.uuid4()), "commands": commands})


def test_a_sync_request_over_the_size_limit_is_a_413_problem_that_says_to_send_fewer_commands(world):
    # given a batch of photos whose JSON is over the server's limit for a request body
    wo = started_work_order(world)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = body_of(wo, [photo(wo, seq, size=1_000_000) for seq in range(1, 7)])
    assert len(body) > limit
    # when the phone sends it
    with clock.frozen_at(at("11:00")):
        response = Api(world.technician).post("/field/sync", raw=body)
    # then it is refused as too large, with what to do, and nothing was applied or recorded
    problem = assert_problem(response, 413, "upload_too_large")
    assert problem["title"] == "Request too large"
    assert problem["detail"] == (
        f"The request body is over the server's limit of {limit // (1024 * 1024)} MB. "
        "Send fewer commands per request (the app sends its queue in batches of at most 3 MB), "
        "and photos of a few hundred KB."
    )
    assert problem["max_bytes"] == limit
    assert not SyncCommand.objects.exists()
    assert not Attachment.objects.exists()


def test_the_same_goes_for_a_browser_session_and_any_other_endpoint(world):
    # given a signed-in browser (session and CSRF header) and a JSON body over the limit
    wo = started_work_order(world)
    client, token = session_client(world.technician.user)
    body = json.dumps({"work_order_id": wo.pk, "body": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    # when it is posted to an ordinary endpoint
    response = client.post(
        "/api/v1/notes",
        body,
        content_type="application/json",
        secure=True,
        headers={"X-CSRFToken": token},
    )
    # then: 413, a problem naming the limit, and no note
    problem = assert_problem(response, 413, "upload_too_large")
    assert problem["detail"].startswith("The request body is over the server's limit of 5 MB.")
    assert "Send less per request; send files as multipart/form-data uploads" in problem["detail"]
    assert not WorkOrderNote.objects.exists()


def test_a_full_batch_of_ordinary_commands_fits_under_the_limit(world):
    # given the most commands one request may carry, each a note of a few words
    wo = started_work_order(world)
    body = body_of(wo, [note(wo, seq) for seq in range(1, MAX_COMMANDS + 1)])
    # then its JSON is a small part of the limit (about 260 bytes a command)
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 10
    # and the server takes it in one request
    with clock.frozen_at(at("11:00")):
        response = Api(world.technician).post("/field/sync", raw=body)
    assert response.status_code == 200, response.content[:500]
    assert {r["status"] for r in response.json()["results"]} == {"applied"}
    assert WorkOrderNote.objects.filter(work_order=wo).count() == MAX_COMMANDS
