"""Uploads are checked by content and size; downloads stream the file to those who may see it."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fixflow.core.files import StoredFileResponse
from fixflow.service.models import Attachment

from .conftest import assert_problem, png_bytes


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_photo_is_stored_with_its_metadata(api, world, started_work_order):
    # when
    r = api("technician").upload(
        f"/work-orders/{started_work_order.pk}/attachments",
        {"file": SimpleUploadedFile("valve.png", png_bytes(), "image/png")},
        {"caption": "Valve before repair"},
    )
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    att = Attachment.objects.get(pk=body["id"])
    assert body["original_name"] == "valve.png" and body["content_type"] == "image/png"
    assert body["caption"] == "Valve before repair" and body["is_image"] is True
    assert body["is_client_visible"] is False
    assert body["download_url"] == f"/api/v1/attachments/{att.pk}/download"
    assert r["Location"] == f"/api/v1/attachments/{att.pk}"
    assert "valve" not in att.file.name  # stored under a random name


def test_the_download_streams_the_file_under_its_original_name(api, world, started_work_order):
    # given
    data = png_bytes(color=(1, 2, 3))
    att_id = (
        api("technician")
        .upload(
            f"/work-orders/{started_work_order.pk}/attachments",
            {"file": SimpleUploadedFile("Ölpumpe vorher.png", data, "image/png")},
        )
        .json()["id"]
    )
    # when
    r = api("dispatcher").get(f"/attachments/{att_id}/download")
    # then
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == data
    assert r["Content-Type"] == "image/png"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%C3%96lpumpe%20vorher.png" in r["Content-Disposition"]
    assert isinstance(r, StoredFileResponse)  # streamed in chunks under ASGI too (tests/core/test_files.py)


def test_a_text_file_keeps_its_stored_type_and_is_never_sniffed(api, world, started_work_order):
    # given
    att_id = (
        api("technician")
        .upload(
            f"/work-orders/{started_work_order.pk}/attachments",
            {"file": SimpleUploadedFile("log.txt", b"<script>alert(1)</script>", "text/html")},
        )
        .json()["id"]
    )
    # when
    r = api("dispatcher").get(f"/attachments/{att_id}/download")
    # then
    assert r["Content-Type"] == "text/plain"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Disposition"] == 'attachment; filename="log.txt"'


def test_a_file_over_the_size_limit_is_a_413_and_nothing_is_stored(api, started_work_order, settings, nothing_written):
    # given
    settings.FIXFLOW_MAX_UPLOAD_BYTES = 1024
    before, version = _stored_files(settings), started_work_order.version
    with nothing_written():
        # when
        r = api("technician").upload(
            f"/work-orders/{started_work_order.pk}/attachments",
            {"file": SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * 2048, "application/pdf")},
        )
    # then
    assert_problem(r, 413, "upload_too_large", field="file", detail="big.pdf")
    assert _stored_files(settings) == before
    started_work_order.refresh_from_db()
    assert started_work_order.version == version


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200),
        ("photo.png", b"this is plain text pretending to be a picture"),
        ("report.pdf", b"#!/bin/sh\nrm -rf /\n"),
    ],
)
def test_a_file_whose_content_is_not_accepted_is_a_415(
    api, started_work_order, settings, nothing_written, name, content
):
    # given
    before = _stored_files(settings)
    with nothing_written():
        # when
        r = api("technician").upload(
            f"/work-orders/{started_work_order.pk}/attachments",
            {"file": SimpleUploadedFile(name, content, "image/png")},
        )
    # then
    assert_problem(r, 415, "unsupported_file_type", field="file", detail=name)
    assert _stored_files(settings) == before


def test_an_upload_without_a_file_is_a_422(api, started_work_order, nothing_written):
    with nothing_written():
        # when
        r = api("technician").upload(f"/work-orders/{started_work_order.pk}/attachments", {}, {"caption": "x"})
    # then
    assert_problem(r, 422, "validation_error", field="file")


def test_a_client_user_cannot_see_or_download_an_internal_file(api, world, started_work_order):
    # given
    technician = api("technician")
    internal = technician.upload(
        f"/work-orders/{started_work_order.pk}/attachments",
        {"file": SimpleUploadedFile("internal.png", png_bytes(), "image/png")},
    ).json()
    shared = technician.upload(
        f"/work-orders/{started_work_order.pk}/attachments",
        {"file": SimpleUploadedFile("shared.png", png_bytes(), "image/png")},
        {"is_client_visible": "true"},
    ).json()
    client_user = api("client_user")
    # when
    listed = client_user.get("/attachments", {"work_order": started_work_order.pk}).json()["items"]
    # then
    assert [a["original_name"] for a in listed] == ["shared.png"]
    assert_problem(client_user.get(f"/attachments/{internal['id']}/download"), 404, "not_found")
    assert_problem(client_user.get(f"/attachments/{internal['id']}"), 404, "not_found")
    assert client_user.get(f"/attachments/{shared['id']}/download").status_code == 200
    assert_problem(api("other_client_user").get(f"/attachments/{shared['id']}/download"), 404, "not_found")


def test_a_requester_attaches_a_photo_to_their_request_and_it_follows_the_work_order(api, world, template):
    # given
    requester = api("requester")
    req = requester.post(
        "/work-requests", {"site_id": world.site.pk, "equipment_id": world.equipment.pk, "title": "Noise"}
    ).json()
    # when
    r = requester.upload(
        f"/work-requests/{req['id']}/attachments", {"file": SimpleUploadedFile("noise.png", png_bytes(), "image/png")}
    )
    wo = api("dispatcher").post(f"/work-requests/{req['id']}/convert", {"template_id": template.pk}).json()
    # then
    assert r.status_code == 201 and r.json()["work_request_id"] == req["id"]
    assert r.json()["is_client_visible"] is True
    assert [a["original_name"] for a in requester.get("/attachments", {"work_request": req["id"]}).json()["items"]] == [
        "noise.png"
    ]
    on_wo = api("dispatcher").get("/attachments", {"work_order": wo["id"]}).json()["items"]
    assert [a["original_name"] for a in on_wo] == ["noise.png"]
    assert api("dispatcher").get(on_wo[0]["download_url"]).status_code == 200


def test_nobody_else_can_attach_to_a_requesters_request(api, world):
    # given
    req = api("requester").post("/work-requests", {"site_id": world.site.pk, "title": "Noise"}).json()
    # when
    r = api("other_client_user").upload(
        f"/work-requests/{req['id']}/attachments", {"file": SimpleUploadedFile("x.png", png_bytes(), "image/png")}
    )
    # then
    assert_problem(r, 404, "not_found")


def test_files_cannot_be_added_to_a_closed_work_order(api, world, work_order, nothing_written):
    # given
    api("dispatcher").post(f"/work-orders/{work_order.pk}/transitions", {"to": "cancelled", "reason": "dup"})
    with nothing_written():
        # when
        r = api("dispatcher").upload(
            f"/work-orders/{work_order.pk}/attachments", {"file": SimpleUploadedFile("x.png", png_bytes(), "image/png")}
        )
    # then
    assert_problem(r, 409, "conflict", detail="cancelled")
