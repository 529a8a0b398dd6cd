"""Domain errors: one exception type with a stable code, mapped once to HTTP and to form errors."""

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "validation_error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_TRANSITION = "invalid_transition"
    GUARD_FAILED = "transition_guard_failed"
    STALE_VERSION = "stale_version"
    CONFLICT = "conflict"
    IDEMPOTENCY_MISMATCH = "idempotency_key_reused"
    UPLOAD_TOO_LARGE = "upload_too_large"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    MALFORMED_REQUEST = "malformed_request"


# Default HTTP status per code; the API's exception handler is the only place this is read.
HTTP_STATUS = {
    ErrorCode.VALIDATION: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.INVALID_TRANSITION: 409,
    ErrorCode.GUARD_FAILED: 409,
    ErrorCode.STALE_VERSION: 412,
    ErrorCode.CONFLICT: 409,
    ErrorCode.IDEMPOTENCY_MISMATCH: 422,
    ErrorCode.UPLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_FILE_TYPE: 415,
    ErrorCode.MALFORMED_REQUEST: 400,
}


class DomainError(Exception):
    """A refused action, with a code the client can rely on and a message that says what to fix.

    ``field`` names the input field at fault when there is one; ``details`` carries extra structured
    data (e.g. the list of unmet guards of a transition).
    """

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def __repr__(self) -> str:
        return f"DomainError({self.code!s}, {self.message!r}, field={self.field!r})"


def not_found(what: str = "Object") -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found.")


def validation(message: str, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.VALIDATION, message, field=field)
