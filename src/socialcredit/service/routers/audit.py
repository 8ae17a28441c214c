"""``GET /v1/audit``: who wrote what and who looked at whose file (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from socialcredit.service.audit import read_audit
from socialcredit.service.auth import Admin, normalise_subject
from socialcredit.service.errors import error_responses
from socialcredit.service.schemas import AuditEntryOut

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get(
    "",
    response_model=list[AuditEntryOut],
    responses=error_responses(401, 403, 422),
    summary="Read the audit log",
)
async def get_audit(
    ctx: Admin,
    subject: Annotated[
        str | None, Query(max_length=64, description="Only entries about this subject.")
    ] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="Only entries with seq above this.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Entries oldest first (the buffer is flushed first, so the answer is complete)."""
    state = ctx.state
    sid = normalise_subject(subject) if subject is not None else None

    def work() -> list[dict[str, Any]]:
        state.audit.flush()
        return read_audit(state.ledger.engine, subject=sid, action=action, after=after, limit=limit)

    return await run_in_threadpool(work)
