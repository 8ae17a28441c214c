"""``POST /v1/registry``: subjects and dated relations (admin only)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from socialcredit.service.auth import Admin
from socialcredit.service.errors import ApiError, error_responses
from socialcredit.service.schemas import IngestOut, RegistryBatchIn
from socialcredit.service.writes import store_registry

router = APIRouter(prefix="/v1/registry", tags=["registry"])


@router.post(
    "",
    response_model=IngestOut,
    responses=error_responses(400, 401, 403, 413, 422),
    summary="Append registry lines",
)
async def post_registry(batch: RegistryBatchIn, ctx: Admin) -> dict[str, object]:
    """Validate each line as `socialcredit registry import` would; store the valid ones in order.

    Put subjects before the relations that name them. A line equal to the current one for the
    same subject (or relation and since) is a duplicate.
    """
    state, who = ctx.state, ctx.who
    n = len(batch.lines)
    if n > state.settings.max_batch:
        raise ApiError(
            413,
            f"{n} lines in one batch; at most {state.settings.max_batch}: split it",
            code="batch_too_large",
        )

    def work() -> dict[str, object]:
        report = store_registry(state.ledger, batch.lines, file=f"api:{who.token_id}")
        if report.accepted:
            state.mark_written()
        return report.to_dict()

    out = await run_in_threadpool(work)
    state.audit.log(who, "write_registry", detail={k: out[k] for k in ("accepted", "duplicates", "rejected")})
    return out  # IngestOut leaves out each reject's `file` (the quarantine keeps it)
