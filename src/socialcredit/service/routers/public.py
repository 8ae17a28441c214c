"""``GET /v1/public/search``: what the public credit websites show, and nothing more."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from socialcredit.service import views
from socialcredit.service.auth import Anyone
from socialcredit.service.errors import error_responses
from socialcredit.service.routers._common import evaluation_on
from socialcredit.service.schemas import PublicSearchOut

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get(
    "/search",
    response_model=PublicSearchOut,
    responses=error_responses(422),
    summary="Search what disclosure measures publish",
)
async def search(
    ctx: Anyone,
    q: Annotated[
        str,
        Query(
            min_length=2,
            max_length=64,
            description="A name (or part of one), a "
            "resident number, a unified social credit code or a plate.",
        ),
    ],
) -> dict[str, Any]:
    """Subjects a disclosure measure publishes today, and only what it publishes: name, kind,
    region, the lists and channels, identifiers masked (first 4 and last 4 characters shown).
    No token needed; searches are audited as the public's. An identifier searched for is
    masked in the answer's `q` too."""
    state = ctx.state
    ev = await evaluation_on(state, None)
    results = await run_in_threadpool(views.public_search, state, ev, q, state.settings.search_limit)
    state.audit.log(ctx.who, "public_search", detail={"q": q, "results": len(results)})
    return {"q": views.masked_query(q), "as_of": ev.as_of.isoformat(), "results": results}
