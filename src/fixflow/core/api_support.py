"""What every API router shares: authentication, problem+json errors, versions, idempotency, pages.

Errors follow RFC 9457 (``application/problem+json``) with a stable ``code`` and, where one input
is at fault, its ``field``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import create_model

from .errors import HTTP_STATUS, DomainError, ErrorCode
from .models import IdempotencyKey
from .pagination import Page
from .permissions import Actor
from .services import api_token_authenticate

PROBLEM_CONTENT_TYPE = "application/problem+json"
TITLES = {
    ErrorCode.VALIDATION: "Invalid input",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.PERMISSION_DENIED: "Not allowed",
    ErrorCode.NOT_AUTHENTICATED: "Authentication required",
    ErrorCode.INVALID_TRANSITION: "Transition not allowed",
    ErrorCode.GUARD_FAILED: "Transition blocked",
    ErrorCode.STALE_VERSION: "Stale version",
    ErrorCode.CONFLICT: "Conflict",
    ErrorCode.IDEMPOTENCY_MISMATCH: "Idempotency key reused",
    ErrorCode.UPLOAD_TOO_LARGE: "File too large",
    ErrorCode.UNSUPPORTED_FILE_TYPE: "File type not accepted",
    ErrorCode.MALFORMED_REQUEST: "Malformed request",
}


def problem(
    code: ErrorCode, message: str, *, status: int | None = None, field: str | None = None, **extra: Any
) -> JsonResponse:
    status = status or HTTP_STATUS[code]
    body = {
        "type": f"https://fixflow.dev/problems/{code.value}",
        "title": TITLES.get(code, "Error"),
        "status": status,
        "detail": message,
        "code": code.value,
    }
    if field:
        body["field"] = field
    body.update({k: v for k, v in extra.items() if v})
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fixflow"'
    return response


# --- authentication ---------------------------------------------------------------------------


class TokenAuth(HttpBearer):
    """``Authorization: Bearer ffx_…`` personal API tokens."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = api_token_authenticate(token)
        if actor is not None:
            request.actor = actor
        return actor


class SessionActorAuth(APIKeyCookie):
    """The browser session, with Django's CSRF check on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie there is nothing to protect: answer 401, not a CSRF failure.
        if not request.COOKIES.get(self.param_name):
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        actor = getattr(request, "actor", None)
        return actor or None


def actor_of(request: HttpRequest) -> Actor:
    return request.auth


# --- exception handlers -------------------------------------------------------------------------


def _field_of(loc: list | tuple) -> str | None:
    # ("body", "payload", "site_id") -> "site_id"; ("file", "file") -> "file" (a field may share a source's name)
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(parts) or None


def install_error_handlers(api) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        extra = {}
        if exc.details:
            extra["details"] = exc.details
        return problem(exc.code, exc.message, field=exc.field, **extra)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request, exc: NinjaValidationError):
        errors = []
        for err in exc.errors:
            field = _field_of(err.get("loc", ()))
            msg = err.get("msg", "Invalid value")
            if err.get("type") == "missing":
                msg = "This field is required"
            errors.append({"field": field, "message": msg, "type": err.get("type")})
        first = errors[0] if errors else {"field": None, "message": "Invalid input"}
        detail = f"{first['field']}: {first['message']}." if first["field"] else f"{first['message']}."
        return problem(ErrorCode.VALIDATION, detail, field=first["field"], errors=errors)

    @api.exception_handler(AuthenticationError)
    def auth_error(request, exc):
        return problem(
            ErrorCode.NOT_AUTHENTICATED, "Sign in, or send a personal API token as 'Authorization: Bearer <token>'."
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = {
            400: ErrorCode.MALFORMED_REQUEST,
            401: ErrorCode.NOT_AUTHENTICATED,
            403: ErrorCode.PERMISSION_DENIED,
            404: ErrorCode.NOT_FOUND,
            409: ErrorCode.CONFLICT,
            413: ErrorCode.UPLOAD_TOO_LARGE,
            415: ErrorCode.UNSUPPORTED_FILE_TYPE,
        }.get(exc.status_code, ErrorCode.MALFORMED_REQUEST)
        message = str(exc)
        if exc.status_code == 400 and "parse" in message.lower():
            message = "The request body is not valid JSON."
        if exc.status_code == 403 and "CSRF" in message:
            message = "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value."
        return problem(code, message, status=exc.status_code)

    @api.exception_handler(RequestDataTooBig)
    def request_too_big(request, exc):
        return request_too_large(request)

    @api.exception_handler(IntegrityError)
    def integrity_error(request, exc):
        return problem(
            ErrorCode.CONFLICT,
            "This would duplicate or orphan existing data; check unique fields such as names, numbers and SKUs.",
        )


# What to do about a body over DATA_UPLOAD_MAX_MEMORY_SIZE, by endpoint (its URL name); the default otherwise.
TOO_LARGE_ADVICE = {
    "field_sync": "Send fewer commands per request (the app sends its queue in batches of at most 3 MB), "
    "and photos of a few hundred KB.",
}


def request_too_large(request: HttpRequest) -> JsonResponse:
    """413 for a request body (not counting multipart files) over ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

    Django raises ``RequestDataTooBig`` when the body is read, which it would otherwise answer with a bare 400.
    """
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    match = getattr(request, "resolver_match", None)
    upload_mb = settings.FIXFLOW_MAX_UPLOAD_BYTES // (1024 * 1024)
    advice = TOO_LARGE_ADVICE.get(getattr(match, "url_name", None) or "") or (
        f"Send less per request; send files as multipart/form-data uploads (up to {upload_mb} MB each)."
    )
    return problem(
        ErrorCode.UPLOAD_TOO_LARGE,
        f"The request body is over the server's limit of {limit / (1024 * 1024):g} MB. {advice}",
        title="Request too large",
        max_bytes=limit,
    )


# --- versions (If-Match / ETag) -------------------------------------------------------------------

_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def if_match_version(request: HttpRequest) -> int | None:
    """The version a PATCH was based on, from ``If-Match: "3"``; None when the header is absent."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    m = _ETAG.match(raw.strip())
    if not m:
        raise DomainError(ErrorCode.VALIDATION, 'If-Match must be the ETag you read, e.g. "3".', field="If-Match")
    return int(m.group(1))


def set_etag(response: HttpResponse, version: int) -> None:
    response["ETag"] = f'"{version}"'


# --- pages ----------------------------------------------------------------------------------------

_page_schemas: dict[type, type] = {}


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """``{"items": [...], "next_cursor": "..."}`` for one item schema."""
    if item_schema not in _page_schemas:
        _page_schemas[item_schema] = create_model(
            f"{item_schema.__name__.removesuffix('Out')}Page",
            __base__=Schema,
            items=(list[item_schema], ...),
            next_cursor=(str | None, None),
        )
    return _page_schemas[item_schema]


def page_response(page: Page) -> dict[str, Any]:
    return {"items": page.items, "next_cursor": page.next_cursor}


# --- idempotency ----------------------------------------------------------------------------------


class IdempotencyMiddleware:
    """``Idempotency-Key`` on API POSTs: a retry with the same key gets the first response again.

    The key is reserved before the view runs (unique per organization, user and key), so two
    concurrent requests with one key cannot both run: the second gets 409 while the first is in
    flight. Server errors release the key so the client may retry.
    """

    header = "Idempotency-Key"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(self.header)
        if request.method != "POST" or not key or not request.path.startswith("/api/"):
            return self.get_response(request)
        if len(key) > 255:
            return problem(ErrorCode.VALIDATION, "Idempotency-Key must be at most 255 characters.", field=self.header)
        actor = self._actor(request)
        if actor is None:
            return self.get_response(request)
        fingerprint = self._fingerprint(request)
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    organization_id=actor.organization_id, user=actor.user, key=key, request_fingerprint=fingerprint
                )
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(
                organization_id=actor.organization_id, user=actor.user, key=key
            ).first()
            if existing is None:
                return self.get_response(request)
            if existing.request_fingerprint != fingerprint:
                return problem(
                    ErrorCode.IDEMPOTENCY_MISMATCH,
                    "This Idempotency-Key was used for a different request; use a new key for a new request.",
                    field=self.header,
                )
            if existing.status_code is None:
                return problem(
                    ErrorCode.CONFLICT,
                    "A request with this Idempotency-Key is still being processed; retry in a moment.",
                )
            response = HttpResponse(bytes(existing.response_body or b""), status=existing.status_code)
            for name, value in existing.response_headers.items():
                response[name] = value
            response["Idempotent-Replayed"] = "true"
            return response
        response = self.get_response(request)
        # Server errors and refused credentials (401/403 before the view ran, e.g. a failed CSRF
        # check) are not results of the request: release the key so a corrected retry can run.
        if response.status_code >= 500 or response.status_code in (401, 403) or getattr(response, "streaming", False):
            row.delete()
            return response
        headers = {h: response[h] for h in ("Content-Type", "Location", "ETag") if response.has_header(h)}
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status_code=response.status_code, response_body=response.content, response_headers=headers
        )
        return response

    @staticmethod
    def _fingerprint(request) -> str:
        """A hash of the path and the body. Multipart bodies are hashed from the parsed fields and files:
        ``request.body`` would refuse an upload larger than DATA_UPLOAD_MAX_MEMORY_SIZE."""
        digest = hashlib.sha256(request.path.encode() + b"\n")
        if request.content_type != "multipart/form-data":
            digest.update(request.body)
            return digest.hexdigest()
        for name, values in sorted(request.POST.lists()):
            digest.update(json.dumps([name, values]).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(json.dumps([name, upload.name, upload.size]).encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
        return digest.hexdigest()

    @staticmethod
    def _actor(request) -> Actor | None:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return api_token_authenticate(auth[7:].strip())
        actor = getattr(request, "actor", None)
        return actor or None


def dump(obj: Any) -> str:
    return json.dumps(obj, default=str)
