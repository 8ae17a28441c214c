"""``/v1/tokens``: make, list and revoke bearer tokens (admin only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from socialcredit.service import tokens
from socialcredit.service.auth import Admin
from socialcredit.service.errors import ApiError, TokenError, error_responses
from socialcredit.service.schemas import TokenCreatedOut, TokenCreateIn, TokenOut

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.post(
    "",
    response_model=TokenCreatedOut,
    status_code=201,
    responses=error_responses(400, 401, 403, 413, 422),
    summary="Make a token",
)
async def create(body: TokenCreateIn, ctx: Admin) -> dict[str, Any]:
    """The bearer token is in `token`, this once; only its hash is stored."""
    state, who = ctx.state, ctx.who
    try:
        when = tokens.parse_expiry(body.expires)
        if when is not None and when <= dt.datetime.now(dt.UTC):
            raise TokenError(
                f"expires {body.expires} is in the past: the token would never work", reason="bad_request"
            )
        info, bearer = await run_in_threadpool(
            lambda: tokens.create_token(state.ledger, **body.model_dump(), actor=f"token:{who.token_id}")
        )
    except TokenError as exc:
        raise ApiError(422, str(exc), code="invalid_token_request") from None
    state.audit.log(who, "token_create", subject=info.subject, detail={"token": info.id, "role": info.role})
    return {**info.to_dict(), "token": bearer}


@router.get("", response_model=list[TokenOut], responses=error_responses(401, 403), summary="Every token")
async def list_all(ctx: Admin) -> list[dict[str, Any]]:
    """Every token with its status (secrets are never shown again)."""
    state = ctx.state
    return [t.to_dict() for t in await run_in_threadpool(tokens.list_tokens, state.ledger)]


@router.delete(
    "/{token_id}",
    response_model=TokenOut,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Revoke a token",
)
async def revoke(token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")], ctx: Admin) -> dict[str, Any]:
    """Revoke at once (the row stays, as revoked); revoking twice is 409."""
    state, who = ctx.state, ctx.who
    try:
        info = await run_in_threadpool(
            lambda: tokens.revoke_token(state.ledger, token_id, actor=f"token:{who.token_id}")
        )
    except TokenError as exc:
        status = 404 if exc.reason == "not_found" else 409
        code = "unknown_token" if status == 404 else "already_revoked"
        raise ApiError(status, str(exc), code=code) from None
    state.forget_token(token_id)
    state.audit.log(who, "token_revoke", detail={"token": token_id})
    return info.to_dict()
