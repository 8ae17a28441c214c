"""``GET /v1/lists`` and ``GET /v1/lists/{id}``: the black and red lists and who is on them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from socialcredit.service import views
from socialcredit.service.auth import Officer
from socialcredit.service.errors import ApiError, error_responses
from socialcredit.service.routers._common import On, evaluation_on
from socialcredit.service.schemas import ListOut, ListsOut

router = APIRouter(prefix="/v1/lists", tags=["lists"])


@router.get("", response_model=ListsOut, responses=error_responses(401, 403, 422), summary="Every list")
async def get_lists(ctx: Officer, on: On = None) -> dict[str, Any]:
    """Every list of every rulebook served, with its size on the day."""
    state = ctx.state
    ev = await evaluation_on(state, on)
    return {"as_of": ev.as_of.isoformat(), "lists": views.list_summaries(ev)}


@router.get(
    "/{list_id}",
    response_model=ListOut,
    responses=error_responses(400, 401, 403, 404, 422),
    summary="One list and its members",
)
async def get_list(
    list_id: Annotated[str, Path(min_length=1, max_length=64)],
    ctx: Officer,
    rulebook: Annotated[
        str | None, Query(max_length=64, description="Needed when several rulebooks have a list of this id.")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    on: On = None,
) -> dict[str, Any]:
    """Members in subject order, with since, until and the relation when listed through someone."""
    state, who = ctx.state, ctx.who
    ev = await evaluation_on(state, on)
    found = [
        s
        for s in views.list_summaries(ev)
        if s["id"] == list_id and (rulebook is None or s["rulebook"] == rulebook)
    ]
    if not found:
        raise ApiError(
            404,
            f"no list {list_id!r}"
            + (f" in rulebook {rulebook!r}" if rulebook else "")
            + ": see GET /v1/lists",
            code="unknown_list",
        )
    if len(found) > 1:
        books = ", ".join(s["rulebook"] for s in found)
        raise ApiError(
            400, f"several rulebooks have a list {list_id!r} ({books}): add ?rulebook=", code="ambiguous_list"
        )
    summary = found[0]
    members = await run_in_threadpool(
        views.list_members, state, ev, summary["rulebook"], list_id, offset=offset, limit=limit
    )
    state.audit.log(
        who,
        "read_list",
        detail={"rulebook": summary["rulebook"], "list": list_id, "offset": offset, "returned": len(members)},
    )
    return {**summary, "as_of": ev.as_of.isoformat(), "offset": offset, "limit": limit, "members": members}
