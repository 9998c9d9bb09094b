"""The errors the client raises: the TypeScript client's classes, by the same names and rules.

Every one carries the service's error code (``invalid_request``, ``carrier_error``, …, or
``network`` / ``timeout`` when no answer arrived), the HTTP status (0 without an answer) and
the request id the service gave the request, for its logs. An expected outcome, such as a
wrong code, is a value (``Validation``), never one of these.
"""

from __future__ import annotations

from typing import Any, Mapping


class VoiceOtpError(Exception):
    """Any failure: the service refused the request, or did not answer it."""

    def __init__(
        self,
        message: str,
        status: int,
        code: str,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: HTTP status, or 0 when no answer arrived.
        self.status = status
        #: The service's error code, or ``network`` / ``timeout``.
        self.code = code
        self.request_id = request_id
        #: The error body's other fields, as the service spells them (``limit``, ``carrier_code``, …).
        self.details: dict[str, Any] = dict(details or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code!r}, request_id={self.request_id!r})"

    # Exceptions are rebuilt from their arguments when unpickled (a worker pool sends them to its parent).
    def __reduce__(self) -> Any:
        return (type(self), (self.message, self.status, self.code, self.request_id, self.details))


class RateLimitedError(VoiceOtpError):
    """429: a limit refused the request; try again after ``retry_after_seconds``."""

    @property
    def retry_after_seconds(self) -> int:
        return int(self.details.get("retry_after_seconds") or 0)

    @property
    def limit(self) -> str:
        """Which limit: ``resend_cooldown``, ``calls_per_number_per_10_min``, ``attempts_exhausted``, …"""
        return str(self.details.get("limit") or self.code)


class InvalidNumberError(VoiceOtpError):
    """400: the number cannot be parsed, or may not be called (destination rules, or the carrier refused it)."""


class UnauthorizedError(VoiceOtpError):
    """401: missing, unknown or revoked API key."""


class CarrierError(VoiceOtpError):
    """502/504: the carrier refused the call or did not answer; the challenge is failed."""

    @property
    def carrier(self) -> str | None:
        return self.details.get("carrier")

    @property
    def carrier_code(self) -> str | None:
        return self.details.get("carrier_code")

    @property
    def challenge_id(self) -> str | None:
        return self.details.get("challenge_id")

    @property
    def timed_out(self) -> bool:
        return self.status == 504


class ServiceUnavailableError(VoiceOtpError):
    """503, or no answer at all: the service (or its database, or its carrier account) is unavailable."""


def error_for(status: int, body: Any, request_id: str | None = None) -> VoiceOtpError:
    """The error for an answer that is not a success: by status first, as the TypeScript client decides."""
    err = body.get("error") if isinstance(body, dict) else None
    err = err if isinstance(err, dict) else {}
    code = err["code"] if isinstance(err.get("code"), str) else f"http_{status}"
    message = err["message"] if isinstance(err.get("message"), str) else f"the service answered HTTP {status}"
    details = {k: v for k, v in err.items() if k not in ("code", "message")}
    if status == 429:
        return RateLimitedError(message, status, code, request_id, details)
    if status == 401:
        return UnauthorizedError(message, status, code, request_id, details)
    if code in ("invalid_number", "destination_not_allowed"):
        return InvalidNumberError(message, status, code, request_id, details)
    if status in (502, 504):
        return CarrierError(message, status, code, request_id, details)
    if status == 503:
        return ServiceUnavailableError(message, status, code, request_id, details)
    return VoiceOtpError(message, status, code, request_id, details)
