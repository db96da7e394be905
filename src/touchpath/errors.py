"""The one exception hierarchy of Touchpath. Messages say what was wrong and where."""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Forbidden",
    "ImportFailed",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "SpecError",
    "StoreUnavailable",
    "TooManyAttempts",
    "TouchpathError",
    "Unauthorized",
]


class TouchpathError(Exception):
    """Base class of every error Touchpath raises on purpose."""

    code = "touchpath_error"


class BadRequest(TouchpathError):
    """The input is malformed or over a limit; the message says what and where."""

    code = "bad_request"


class Unauthorized(TouchpathError):
    """No credential, or one that is not valid: a write key on /v1, a session or token elsewhere."""

    code = "unauthorized"


class Forbidden(TouchpathError):
    """A valid credential whose role is too low for the route, or a missing CSRF token."""

    code = "forbidden"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class PayloadTooLarge(TouchpathError):
    """A request body over its route's limit (413)."""

    code = "too_large"


class Overloaded(TouchpathError):
    """The writer queue is full; retry after `retry_after` seconds."""

    code = "overloaded"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyAttempts(Overloaded):
    """Too many failed sign-ins for an account or from an address; retry after `retry_after`."""

    code = "rate_limited"


class StoreUnavailable(TouchpathError):
    """The store cannot take writes (closed, failed, or the disk refused)."""

    code = "store_unavailable"


class NotFound(TouchpathError):
    """A named thing (source, profile, map, journey) does not exist."""

    code = "not_found"


class SpecError(TouchpathError):
    """An analysis spec, map document or journey definition is invalid."""

    code = "invalid_spec"


class ImportFailed(TouchpathError):
    """A file could not be imported at all (unreadable, unknown format, bad mapping)."""

    code = "import_failed"
