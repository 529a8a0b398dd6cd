"""Upload validation and storage: allowed types by content (not by name), size limit, thumbnails.

The stored file name is random; the uploaded name is kept only as ``original_name`` for display.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from fixflow.core.errors import DomainError, ErrorCode

# content type → extensions a file of that type may carry
ALLOWED = {
    "image/jpeg": {".jpg", ".jpeg"},
    "image/png": {".png"},
    "image/gif": {".gif"},
    "image/webp": {".webp"},
    "image/heic": {".heic"},
    "application/pdf": {".pdf"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx"},
    "application/vnd.oasis.opendocument.text": {".odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {".ods"},
    "application/msword": {".doc"},
    "application/vnd.ms-excel": {".xls"},
    "text/plain": {".txt", ".log"},
    "text/csv": {".csv"},
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_OFFICE = {".docx", ".xlsx", ".pptx", ".odt", ".ods"}
THUMBNAIL_SIZE = (320, 320)


@dataclass(frozen=True)
class StoredUpload:
    file_name: str
    thumbnail_name: str | None
    original_name: str
    content_type: str
    size_bytes: int


def _unsupported(name: str) -> DomainError:
    return DomainError(
        ErrorCode.UNSUPPORTED_FILE_TYPE,
        f"{name}: this type of file is not accepted. Upload a photo (JPEG, PNG, WebP, GIF, HEIC), a PDF, an office "
        "document (Word, Excel, PowerPoint, OpenDocument) or a text/CSV file.",
        field="file",
    )


def _looks_like_office_zip(head: bytes, ext: str) -> bool:
    """OOXML packages start with their parts list; OpenDocument files with a ``mimetype`` entry."""
    if ext in {".odt", ".ods"}:
        return head[30:38] == b"mimetype"
    return any(marker in head for marker in (b"[Content_Types].xml", b"_rels/.rels", b"word/", b"xl/", b"ppt/"))


def sniff(head: bytes, name: str) -> str:
    """The content type of a file judged by its bytes (and, for look-alike containers, its extension)."""
    ext = PurePath(name).suffix.lower()
    kind = filetype.guess(head)
    if kind is not None:
        mime = kind.mime
        if mime == "application/zip" and ext in _ZIP_OFFICE:
            if not _looks_like_office_zip(head, ext):
                raise _unsupported(name)
            mime = next(m for m, exts in ALLOWED.items() if ext in exts)
        if mime in ALLOWED and (ext in ALLOWED[mime] or mime.startswith("image/")):
            return mime
        raise _unsupported(name)
    if head.startswith(_OLE_MAGIC) and ext in {".doc", ".xls"}:
        return "application/msword" if ext == ".doc" else "application/vnd.ms-excel"
    if ext in {".txt", ".log", ".csv"} and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a multi-byte character cut at the end is fine
                raise _unsupported(name) from None
        return "text/csv" if ext == ".csv" else "text/plain"
    raise _unsupported(name)


def validate_upload(upload) -> tuple[str, int]:
    """Check size and type of an uploaded file; return (content type, size)."""
    name = PurePath(upload.name or "file").name
    size = upload.size
    limit = settings.FIXFLOW_MAX_UPLOAD_BYTES
    if size > limit:
        raise DomainError(
            ErrorCode.UPLOAD_TOO_LARGE,
            f"{name} is {size / 1048576:.1f} MB; files may be at most {limit // 1048576} MB.",
            field="file",
        )
    if size == 0:
        raise DomainError(ErrorCode.VALIDATION, f"{name} is empty.", field="file")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    return sniff(head, name), size


def _thumbnail(data: bytes) -> bytes | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img)
            img.thumbnail(THUMBNAIL_SIZE)
            if img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            out = io.BytesIO()
            img.save(out, "JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None


def store_upload(upload, *, organization_id: int) -> StoredUpload:
    content_type, size = validate_upload(upload)
    original = PurePath(upload.name or "file").name[:255]
    ext = (
        next(iter(sorted(ALLOWED[content_type])))
        if PurePath(original).suffix.lower() not in ALLOWED[content_type]
        else PurePath(original).suffix.lower()
    )
    token = secrets.token_hex(16)
    data = upload.read()
    name = default_storage.save(f"attachments/{organization_id}/{token}{ext}", ContentFile(data))
    thumb_name = None
    if content_type in {"image/jpeg", "image/png", "image/gif", "image/webp"}:
        thumb = _thumbnail(data)
        if thumb is None:
            default_storage.delete(name)
            raise DomainError(ErrorCode.UNSUPPORTED_FILE_TYPE, f"{original} is not a readable image.", field="file")
        thumb_name = default_storage.save(f"attachments/{organization_id}/{token}_thumb.jpg", ContentFile(thumb))
    return StoredUpload(name, thumb_name, original, content_type, size)


def store_signature(image_png: bytes, *, organization_id: int) -> str:
    """Validate a drawn signature (PNG, at most 1 MB) and store it; returns the storage name."""
    if not image_png or len(image_png) > 1024 * 1024:
        raise DomainError(ErrorCode.VALIDATION, "The signature image is missing or too large.", field="signature")
    try:
        with Image.open(io.BytesIO(image_png)) as img:
            if img.format != "PNG":
                raise DomainError(ErrorCode.VALIDATION, "The signature must be a PNG image.", field="signature")
            img.verify()
    except (UnidentifiedImageError, OSError):
        raise DomainError(ErrorCode.VALIDATION, "The signature is not a readable image.", field="signature") from None
    return default_storage.save(f"signatures/{organization_id}/{secrets.token_hex(16)}.png", ContentFile(image_png))
