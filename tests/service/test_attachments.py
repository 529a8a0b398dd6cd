"""Uploads: accepted by content (not by name), size-limited, stored under a random name, thumbnailed."""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service import attachments, services
from fixflow.service.choices import Status
from fixflow.service.models import Attachment, WorkOrderEvent

from .helpers import jpeg_bytes, png_bytes, state_of, work_order_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + b"\x00" * 200 + b"This program cannot"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
CSV = "Zähler;Stand\nWasser;1234,5\nStrom;99\n".encode()
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return out.getvalue()


def _upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type)


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("pump.jpg", jpeg_bytes(), "image/jpeg"),
        ("plate.PNG", png_bytes(), "image/png"),
        ("manual.pdf", PDF, "application/pdf"),
        ("report.docx", _docx(), DOCX_MIME),
        ("readings.csv", CSV, "text/csv"),
        ("notes.txt", "Ölstand geprüft.\n".encode(), "text/plain"),
        ("photo-from-phone.png", jpeg_bytes(), "image/jpeg"),
    ],
    ids=["jpeg", "png", "pdf", "docx", "csv", "txt", "jpeg-named-png"],
)
def test_real_files_of_accepted_types_are_recognised_by_their_content(name, data, expected):
    # when
    content_type, size = attachments.validate_upload(_upload(name, data))
    # then
    assert (content_type, size) == (expected, len(data))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.exe", EXE),
        ("invoice.pdf", EXE),
        ("photo.png", HTML),
        ("page.html", HTML),
        ("manual.docx", PDF),
        ("readings.csv", b"a;b\x00\x01\x02"),
        ("archive.zip", _docx()),
    ],
    ids=["exe", "exe-named-pdf", "html-named-png", "html", "pdf-named-docx", "binary-csv", "zip"],
)
def test_files_of_other_types_are_refused_whatever_their_name(name, data):
    # when
    with pytest.raises(DomainError) as exc:
        attachments.validate_upload(_upload(name, data))
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.UNSUPPORTED_FILE_TYPE, "file")


def test_an_empty_file_is_refused():
    # when
    with pytest.raises(DomainError) as exc:
        attachments.validate_upload(_upload("empty.pdf", b""))
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "file")


def test_a_file_over_the_size_limit_is_refused(settings):
    # given
    settings.FIXFLOW_MAX_UPLOAD_BYTES = 1024 * 1024
    data = PDF + b"0" * (1024 * 1024)
    # when
    with pytest.raises(DomainError) as exc:
        attachments.validate_upload(_upload("big.pdf", data))
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.UPLOAD_TOO_LARGE, "file")
    assert "at most 1 MB" in exc.value.message


def test_a_file_exactly_at_the_size_limit_is_accepted(settings):
    # given
    settings.FIXFLOW_MAX_UPLOAD_BYTES = 4096
    data = PDF + b"0" * (4096 - len(PDF))
    # when
    content_type, size = attachments.validate_upload(_upload("limit.pdf", data))
    # then
    assert (content_type, size) == ("application/pdf", 4096)


def test_a_photo_is_stored_under_a_random_name_with_a_thumbnail(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    att = services.attachment_add(
        actor=world.technician,
        work_order_id=wo.pk,
        caption="Seal",
        upload=_upload("../../etc/Leaking seal.jpg", jpeg_bytes((800, 600)), "image/jpeg"),
    )
    # then
    assert att.original_name == "Leaking seal.jpg"
    assert att.file.name.startswith(f"attachments/{world.org.pk}/") and att.file.name.endswith(".jpg")
    assert "Leaking" not in att.file.name and "seal" not in att.file.name
    assert (att.content_type, att.is_client_visible, att.uploaded_by) == ("image/jpeg", False, world.technician.user)
    assert default_storage.exists(att.file.name)
    with default_storage.open(att.thumbnail.name) as f, Image.open(f) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (320, 240))
    wo.refresh_from_db()
    assert wo.version == 2
    assert WorkOrderEvent.objects.get(work_order=wo).data == {"attachment": att.pk, "name": "Leaking seal.jpg"}


def test_two_uploads_with_the_same_name_are_stored_apart(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    first = services.attachment_add(actor=world.technician, work_order_id=wo.pk, upload=_upload("a.png", png_bytes()))
    second = services.attachment_add(
        actor=world.technician, work_order_id=wo.pk, upload=_upload("a.png", png_bytes(color=(0, 0, 0)))
    )
    # then
    assert first.file.name != second.file.name
    assert first.thumbnail.name and second.thumbnail.name


def test_a_pdf_is_stored_without_a_thumbnail(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    att = services.attachment_add(actor=world.technician, work_order_id=wo.pk, upload=_upload("manual.pdf", PDF))
    # then
    assert (att.content_type, att.size_bytes, bool(att.thumbnail)) == ("application/pdf", len(PDF), False)
    assert att.file.name.endswith(".pdf")


def test_a_broken_image_is_refused_and_leaves_no_file_behind(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    before = state_of(wo)
    broken = jpeg_bytes()[:40] + b"\x00" * 400
    # when
    with pytest.raises(DomainError) as exc:
        services.attachment_add(actor=world.technician, work_order_id=wo.pk, upload=_upload("broken.jpg", broken))
    # then
    assert exc.value.code == ErrorCode.UNSUPPORTED_FILE_TYPE
    assert state_of(wo) == before
    assert not Attachment.objects.exists()
    assert _stored_files() == []


def test_a_refused_upload_stores_nothing(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.attachment_add(actor=world.technician, work_order_id=wo.pk, upload=_upload("photo.png", HTML))
    # then
    assert exc.value.code == ErrorCode.UNSUPPORTED_FILE_TYPE
    assert state_of(wo) == before
    assert _stored_files() == []


def test_a_technician_not_assigned_cannot_attach_files(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.attachment_add(actor=world.technician2, work_order_id=wo.pk, upload=_upload("a.png", png_bytes()))
    # then
    assert exc.value.code == ErrorCode.PERMISSION_DENIED
    assert state_of(wo) == before
    assert _stored_files() == []


def test_files_cannot_be_added_to_closed_work(world):
    # given
    wo = work_order_in(world, Status.CLOSED)
    before = state_of(wo)
    # when
    with pytest.raises(DomainError) as exc:
        services.attachment_add(actor=world.dispatcher, work_order_id=wo.pk, upload=_upload("a.png", png_bytes()))
    # then
    assert exc.value.code == ErrorCode.CONFLICT
    assert state_of(wo) == before


def test_a_client_users_file_is_always_visible_to_the_client(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    att = services.attachment_add(
        actor=world.client_user, work_order_id=wo.pk, is_client_visible=False, upload=_upload("site.png", png_bytes())
    )
    # then
    assert att.is_client_visible is True


def test_a_file_goes_on_a_work_order_or_a_request_not_both(world):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    # when
    with pytest.raises(DomainError) as exc:
        services.attachment_add(
            actor=world.dispatcher, work_order_id=wo.pk, work_request_id=1, upload=_upload("a.png", png_bytes())
        )
    # then
    assert exc.value.code == ErrorCode.VALIDATION


@pytest.mark.parametrize(
    ("data", "ok"),
    [(png_bytes(), True), (jpeg_bytes(), False), (b"", False), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, False)],
    ids=["png", "jpeg", "empty", "truncated-png"],
)
def test_a_signature_must_be_a_readable_png(world, data, ok):
    # given
    wo = work_order_in(world, Status.IN_PROGRESS)
    before = state_of(wo)
    # when
    if ok:
        services.signature_capture(actor=world.technician, work_order_id=wo.pk, image_png=data, signed_by_name="Ann")
        # then
        wo.refresh_from_db()
        assert default_storage.exists(wo.signature.name) and wo.signed_by_name == "Ann"
    else:
        with pytest.raises(DomainError) as exc:
            services.signature_capture(
                actor=world.technician, work_order_id=wo.pk, image_png=data, signed_by_name="Ann"
            )
        # then
        assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "signature")
        assert state_of(wo) == before


def test_a_plain_zip_renamed_to_docx_is_refused():
    # given a zip archive that is not a Word document
    import io
    import zipfile

    from fixflow.core.errors import DomainError
    from fixflow.service.attachments import sniff

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.txt", "not a document")
    # when / then
    with pytest.raises(DomainError) as refused:
        sniff(buffer.getvalue()[:8192], "report.docx")
    assert refused.value.code == "unsupported_file_type"
