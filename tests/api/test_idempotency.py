"""``Idempotency-Key`` on POST: a retry gets the first response again and writes nothing more."""

from django.core.files.uploadedfile import SimpleUploadedFile

from fixflow.service.models import Attachment, WorkOrder, WorkOrderEvent, WorkRequest

from .conftest import assert_problem, png_bytes


def test_the_same_key_twice_creates_one_request_and_replays_the_first_response(api, world):
    # given
    requester = api("requester")
    body = {"site_id": world.site.pk, "title": "Door sensor broken"}
    first = requester.post("/work-requests", body, headers={"Idempotency-Key": "req-1"})
    # when the network dropped the answer and the client retries
    second = requester.post("/work-requests", body, headers={"Idempotency-Key": "req-1"})
    # then
    assert first.status_code == second.status_code == 201
    assert WorkRequest.objects.filter(title="Door sensor broken").count() == 1
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert second.json() == first.json()
    assert second["Location"] == first["Location"]
    assert second["Content-Type"] == first["Content-Type"]


def test_the_same_key_with_a_different_body_is_refused(api, world, nothing_written):
    # given
    requester = api("requester")
    requester.post(
        "/work-requests", {"site_id": world.site.pk, "title": "Door sensor"}, headers={"Idempotency-Key": "req-2"}
    )
    with nothing_written():
        # when
        r = requester.post(
            "/work-requests", {"site_id": world.site.pk, "title": "Window sensor"}, headers={"Idempotency-Key": "req-2"}
        )
    # then
    assert_problem(r, 422, "idempotency_key_reused", field="Idempotency-Key")


def test_keys_belong_to_one_user(api, world):
    # given
    body = {"site_id": world.site.pk, "title": "Light out"}
    api("requester").post("/work-requests", body, headers={"Idempotency-Key": "same"})
    # when another user happens to use the same key
    r = api("client_user").post("/work-requests", body, headers={"Idempotency-Key": "same"})
    # then
    assert r.status_code == 201
    assert not r.has_header("Idempotent-Replayed")
    assert WorkRequest.objects.filter(title="Light out").count() == 2


def test_a_retried_conversion_returns_the_same_work_order(api, world, template):
    # given
    request_id = (
        api("requester")
        .post("/work-requests", {"site_id": world.site.pk, "title": "Leak", "equipment_id": world.equipment.pk})
        .json()["id"]
    )
    dispatcher = api("dispatcher")
    first = dispatcher.post(
        f"/work-requests/{request_id}/convert", {"template_id": template.pk}, headers={"Idempotency-Key": "convert-1"}
    )
    # when
    second = dispatcher.post(
        f"/work-requests/{request_id}/convert", {"template_id": template.pk}, headers={"Idempotency-Key": "convert-1"}
    )
    # then
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert WorkOrder.objects.filter(request_id=request_id).count() == 1


def test_a_retried_transition_is_not_taken_twice(api, started_work_order):
    # given
    technician = api("technician")
    body = {"to": "on_hold", "hold_reason": "waiting_for_parts"}
    first = technician.post(
        f"/work-orders/{started_work_order.pk}/transitions", body, headers={"Idempotency-Key": "hold-1"}
    )
    events = WorkOrderEvent.objects.filter(work_order=started_work_order).count()
    # when
    second = technician.post(
        f"/work-orders/{started_work_order.pk}/transitions", body, headers={"Idempotency-Key": "hold-1"}
    )
    # then
    assert first.status_code == second.status_code == 200
    assert second["ETag"] == first["ETag"]
    assert WorkOrderEvent.objects.filter(work_order=started_work_order).count() == events


def test_a_refusal_is_replayed_too(api, work_order):
    # given
    dispatcher = api("dispatcher")
    first = dispatcher.post(
        f"/work-orders/{work_order.pk}/transitions", {"to": "closed"}, headers={"Idempotency-Key": "close-1"}
    )
    # when
    second = dispatcher.post(
        f"/work-orders/{work_order.pk}/transitions", {"to": "closed"}, headers={"Idempotency-Key": "close-1"}
    )
    # then
    assert first.status_code == second.status_code == 409
    assert second.json() == first.json()


def test_an_upload_larger_than_the_in_memory_limit_can_carry_a_key(api, started_work_order, settings):
    # given a photo bigger than what Django keeps in memory for a request body
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    photo = png_bytes(size=(200, 200), color=(10, 20, 30)) + b"\0" * 4096
    technician = api("technician")

    def send():
        return technician.upload(
            f"/work-orders/{started_work_order.pk}/attachments",
            {"file": SimpleUploadedFile("pump.png", photo, "image/png")},
            {"caption": "Pump"},
            headers={"Idempotency-Key": "photo-1"},
        )

    first = send()
    # when
    second = send()
    # then
    assert first.status_code == 201, first.content
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert Attachment.objects.filter(work_order=started_work_order).count() == 1


def test_a_different_file_under_the_same_key_is_refused(api, started_work_order, nothing_written):
    # given
    technician = api("technician")
    path = f"/work-orders/{started_work_order.pk}/attachments"
    technician.upload(
        path,
        {"file": SimpleUploadedFile("a.png", png_bytes(color=(1, 2, 3)), "image/png")},
        headers={"Idempotency-Key": "photo-2"},
    )
    with nothing_written():
        # when
        r = technician.upload(
            path,
            {"file": SimpleUploadedFile("a.png", png_bytes(color=(9, 9, 9)), "image/png")},
            headers={"Idempotency-Key": "photo-2"},
        )
    # then
    assert_problem(r, 422, "idempotency_key_reused")
