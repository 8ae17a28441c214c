"""One error shape for every failure: ``{"error": {"code": "...", "message": "..."}}``.

Statuses are used as meant: 400 a request that cannot be parsed, 401 no valid token (missing,
unknown, revoked or expired), 403 a valid token whose role may not do this, 404 no such thing,
409 a state that forbids the change, 413 a body or batch too large, 422 a well-formed request
with invalid values, 500 a bug (logged). FastAPI's own validation errors and 404/405 go through
the same handlers, so a client parses errors one way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialcredit.errors import SocialCreditError

__all__ = [
    "ApiError",
    "ErrorBody",
    "ErrorResponse",
    "ServiceError",
    "TokenError",
    "error_bytes",
    "error_responses",
    "install_error_handlers",
    "validation_message",
]

log = logging.getLogger("socialcredit.service")

#: The code each status gets when the raiser names none.
DEFAULT_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_request",
    500: "internal_error",
}
_DESCRIPTIONS = {
    400: "The request could not be parsed (e.g. malformed JSON).",
    401: "No valid bearer token: missing, unknown, revoked or expired.",
    403: "The token's role may not do this.",
    404: "No such subject, list, token or path.",
    409: "The current state forbids the change.",
    413: "The body or batch is too large.",
    422: "A well-formed request with invalid values.",
}


class ServiceError(SocialCreditError):
    """The service refused an operation (the family of the HTTP API's errors)."""


class TokenError(ServiceError):
    """A token could not be created, verified or revoked.

    Attributes:
        reason: ``invalid``, ``unknown``, ``revoked``, ``expired``, ``not_found``,
            ``already_revoked`` or ``bad_request``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ErrorBody(BaseModel):
    code: str = Field(description="A stable, machine-readable code (e.g. `forbidden`).")
    message: str = Field(description="What went wrong, why, and how to fix it.")


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorBody


class ApiError(StarletteHTTPException):
    """An HTTP error with a code and a message, rendered in the one error shape."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code or DEFAULT_CODES.get(status, "error")


def error_bytes(code: str, message: str) -> bytes:
    """The error shape as JSON bytes (for ASGI middleware that answers before the app)."""
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for ``statuses``, each with the error shape."""
    return {s: {"model": ErrorResponse, "description": _DESCRIPTIONS.get(s, "Error.")} for s in statuses}


def _render(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or DEFAULT_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, default=str)
    if exc.status_code == 404 and message == "Not Found":
        message = "no such path: see /openapi.json or docs/api.md for the endpoints"
    elif exc.status_code == 405 and message == "Method Not Allowed":
        message = "this path does not take that method: see /openapi.json for the ones it takes"
    elif exc.status_code == 400 and message == "There was an error parsing the body":
        why = {UnicodeDecodeError: "not UTF-8 text", RecursionError: "nested too deeply"}.get(
            type(exc.__cause__), type(exc.__cause__).__name__
        )
        code, message = "malformed_json", f"the body is not valid JSON ({why}): send one JSON object in UTF-8"
    return _render(exc.status_code, code, message, exc.headers)


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def validation_message(errors: Sequence[Any], *, prefix: str = "") -> str:
    """Pydantic's errors as one line: where and what, the first three."""
    parts = [
        f"{_where(((prefix,) if prefix else ()) + tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}"
        for e in errors[:3]
    ]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        why = (first.get("ctx") or {}).get("error", "not JSON")
        return _render(400, "malformed_json", f"the body is not valid JSON ({why}): send one JSON object")
    return _render(422, "invalid_request", validation_message(errors))


def _server_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _render(
        500,
        "internal_error",
        f"the server failed ({type(exc).__name__}); this is a bug: please report it with the time "
        "of the request",
    )


def _storage_error(request: Request, exc: Exception) -> JSONResponse:
    """The ledger could not be read or written (a full disk, a lock held too long): 503, not a bug.
    A write is one transaction, so nothing of the request was stored."""
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    why = cause[0] if cause else type(exc).__name__
    log.error("the ledger failed on %s %s: %s", request.method, request.url.path, why)
    return _render(
        503,
        "storage_unavailable",
        f"the ledger could not be used ({why}): nothing of this request was stored; retry later",
        {"Retry-After": "30"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the one shape."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _storage_error)
    app.add_exception_handler(Exception, _server_error)
