"""Roles and the request dependency that enforces them.

Every endpoint but ``/v1/public/*`` and ``/v1/health`` needs ``Authorization: Bearer <token>``.
What each role may do:

============  =========================================================================
role          may
============  =========================================================================
``source``    ``POST /v1/records`` for its own source and that source's authorised categories
``officer``   read decisions, any subject's file and explanation, the lists
``subject``   read its own file, explanation, records and decisions; nobody else's
``admin``     everything: also ``POST /v1/registry``, tokens and the audit log
(public)      ``GET /v1/public/search``: only what disclosure measures publish, ids masked
============  =========================================================================

A missing, unknown, revoked or expired token is 401; a valid token whose role may not do
something is 403. A subject asking for another subject's file gets 403 whether or not that
subject exists, and the attempt is audited.

Each endpoint takes one dependency, a :class:`Context` (the service state and the caller),
made by :func:`require`: one dependency instead of a chain keeps a decision cheap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from socialcredit import ids
from socialcredit.errors import IdentifierError
from socialcredit.service.errors import ApiError, TokenError
from socialcredit.service.state import ServiceState
from socialcredit.service.tokens import PUBLIC, ROLES, Principal

__all__ = [
    "PUBLIC",
    "ROLES",
    "Admin",
    "Anyone",
    "Context",
    "FileReader",
    "Officer",
    "Principal",
    "Writer",
    "check_own_file",
    "normalise_subject",
    "require",
]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Context:
    """What an endpoint works with: the service's state and who is calling."""

    state: ServiceState
    who: Principal


def _principal(state: ServiceState, header: str | None) -> Principal:
    if not header:
        raise ApiError(
            401,
            "this endpoint needs a bearer token: send `Authorization: Bearer sct_...` "
            "(make one with `socialcredit token create`)",
            code="token_missing",
            headers=_CHALLENGE,
        )
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise ApiError(
            401,
            "the Authorization header must read `Bearer <token>`",
            code="token_missing",
            headers=_CHALLENGE,
        )
    try:
        return state.principal(credentials.strip())
    except TokenError as exc:
        raise ApiError(401, str(exc), code=f"token_{exc.reason}", headers=_CHALLENGE) from None


def require(*roles: str) -> Callable[[Request], Awaitable[Context]]:
    """A dependency letting through only tokens of ``roles`` (401 without a valid token, 403 for
    a valid token of another role); with no roles, anyone, token or not (the public)."""

    async def context(request: Request) -> Context:
        state: ServiceState = request.app.state.service
        if not roles:
            return Context(state, PUBLIC)
        who = _principal(state, request.headers.get("authorization"))
        if who.role not in roles:
            raise ApiError(
                403,
                f"a {who.role} token may not do this: it needs the role {' or '.join(roles)}",
                code="forbidden",
            )
        return Context(state, who)

    context.roles = roles  # type: ignore[attr-defined]  # read by the OpenAPI security marker
    return context


Anyone = Annotated[Context, Depends(require())]
Writer = Annotated[Context, Depends(require("source", "admin"))]
Officer = Annotated[Context, Depends(require("officer", "admin"))]
FileReader = Annotated[Context, Depends(require("officer", "admin", "subject"))]
Admin = Annotated[Context, Depends(require("admin"))]


def normalise_subject(value: str) -> str:
    """A subject id in its registry spelling (identifiers normalised; anything else as given)."""
    text = value.strip()
    try:
        return ids.validate_identifier(text)[1]
    except IdentifierError:
        return text


def check_own_file(ctx: Context, subject: str, action: str) -> None:
    """403 (audited) when a subject token asks for another subject's file."""
    who = ctx.who
    if who.role == "subject" and who.subject != subject:
        ctx.state.audit.log(who, action, subject=subject, status=403)
        raise ApiError(
            403,
            f"a subject token reads only its own file ({ids.mask_identifier(who.subject or '')})",
            code="not_your_file",
        )
