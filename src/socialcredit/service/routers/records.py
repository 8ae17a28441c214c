"""``POST /v1/records``: a data source sends a batch of credit records."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from socialcredit.service.auth import Writer
from socialcredit.service.errors import ApiError, error_responses
from socialcredit.service.schemas import IngestOut, RecordBatchIn
from socialcredit.service.writes import store_records

router = APIRouter(prefix="/v1/records", tags=["records"])


@router.post(
    "",
    response_model=IngestOut,
    responses=error_responses(400, 401, 403, 413, 422),
    summary="Append a batch of records",
)
async def post_records(batch: RecordBatchIn, ctx: Writer) -> dict[str, object]:
    """Validate each record as `socialcredit ingest` would and store the valid ones.

    Always 200 when the batch itself is well-formed: each record is accepted, a duplicate, or
    rejected with one reason (rejects are kept in the quarantine). A `source` token writes only
    for its own source and that source's authorised categories; an `admin` token for any source.
    """
    state, who = ctx.state, ctx.who
    n = len(batch.records)
    if n > state.settings.max_batch:
        raise ApiError(
            413,
            f"{n} records in one batch; at most {state.settings.max_batch}: split it",
            code="batch_too_large",
        )

    def work() -> dict[str, object]:
        report = store_records(
            state.ledger,
            batch.records,
            state.checks(),
            file=f"api:{who.token_id}",
            only_source=who.source if who.role == "source" else None,
        )
        if report.accepted:
            state.mark_written()
        return report.to_dict()

    out = await run_in_threadpool(work)
    state.audit.log(who, "write_records", detail={k: out[k] for k in ("accepted", "duplicates", "rejected")})
    return out  # IngestOut leaves out each reject's `file` (the quarantine keeps it)
