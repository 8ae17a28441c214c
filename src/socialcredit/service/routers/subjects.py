"""``GET /v1/subjects/{id}`` and its explanation, records and proofs: a subject's file.

Officers and admins read any file; a subject token reads only its own. Every read, and every
refused attempt, is audited with the subject it concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from socialcredit.engine.errors import UnknownSubject
from socialcredit.ledger.proofs import CACHE, subject_proofs
from socialcredit.service import views
from socialcredit.service.auth import Context, FileReader, check_own_file, normalise_subject
from socialcredit.service.errors import ApiError, error_responses
from socialcredit.service.routers._common import On, evaluation_on
from socialcredit.service.schemas import ExplanationOut, SubjectOut, SubjectRecordsOut

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])

SubjectId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        description="A subject id (resident number, unified social credit code, plate or dog licence).",
    ),
]
_ERRORS = error_responses(401, 403, 404, 422)


async def _open_file(ctx: Context, subject_id: str, action: str) -> tuple[str, dict[str, Any]]:
    state, who = ctx.state, ctx.who
    sid = normalise_subject(subject_id)
    check_own_file(ctx, sid, action)
    entry = await run_in_threadpool(state.ledger.subject, sid)
    if entry is None:
        state.audit.log(who, action, subject=sid, status=404)
        raise ApiError(404, f"no subject {sid!r} in the registry", code="unknown_subject")
    return sid, entry


def _unknown(sid: str) -> ApiError:
    return ApiError(
        404, f"subject {sid!r} is not in this evaluation yet: try again in a moment", code="unknown_subject"
    )


async def _evaluated_view(
    ctx: Context,
    subject_id: str,
    on: Any,
    action: str,
    view: Callable[[Any, Any, str, dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """Open the file, evaluate as of ``on``, build ``view`` off the event loop, audit the read."""
    sid, entry = await _open_file(ctx, subject_id, action)
    ev = await evaluation_on(ctx.state, on)
    try:
        out = await run_in_threadpool(view, ctx.state, ev, sid, entry)
    except UnknownSubject:
        raise _unknown(sid) from None
    ctx.state.audit.log(ctx.who, action, subject=sid)
    return out


@router.get("/{subject_id}", response_model=SubjectOut, responses=_ERRORS, summary="A subject's file")
async def get_subject(subject_id: SubjectId, ctx: FileReader, on: On = None) -> dict[str, Any]:
    """Profile, scores and grades, lists, measures in force and their outcomes, disclosure, and
    the notices of listings proposed under due process that are not in force yet."""
    return await _evaluated_view(
        ctx,
        subject_id,
        on,
        "read_subject",
        lambda state, ev, sid, entry: (
            views.subject_file(state, ev, entry) | {"notices": views.pending_notices(state, ev, sid)}
        ),
    )


@router.get(
    "/{subject_id}/explanation",
    response_model=ExplanationOut,
    responses=_ERRORS,
    summary="Why the file says what it says",
)
async def get_explanation(subject_id: SubjectId, ctx: FileReader, on: On = None) -> dict[str, Any]:
    """Every point, list and measure with the record, rule and citation behind it."""
    return await _evaluated_view(
        ctx,
        subject_id,
        on,
        "read_explanation",
        lambda state, ev, sid, entry: views.explanation(state, ev, sid),
    )


@router.get(
    "/{subject_id}/records",
    response_model=SubjectRecordsOut,
    responses=_ERRORS,
    summary="Every record about a subject",
)
async def get_records(subject_id: SubjectId, ctx: FileReader) -> dict[str, Any]:
    """The subject's records in ledger order, in canonical form (corrections included)."""
    state, who = ctx.state, ctx.who
    sid, _ = await _open_file(ctx, subject_id, "read_records")
    records = await run_in_threadpool(state.ledger.records_of, sid)
    if who.role == "subject":  # a subject is not told who reported it (issue #16, item 5)
        records = views.mask_reporters(records)
    state.audit.log(who, "read_records", subject=sid, detail={"records": len(records)})
    return {"subject": sid, "records": records}


@router.get("/{subject_id}/proofs", responses=_ERRORS, summary="Proofs of a subject's records")
async def get_proofs(subject_id: SubjectId, ctx: FileReader) -> dict[str, Any]:
    """A Merkle inclusion proof of each record (and manual action) about the subject in the newest
    signed tree head, with the heads: keep it, and check it without trusting the operator by
    `socialcredit proof --check FILE --public-key KEY` (docs/proof.md)."""
    state, who = ctx.state, ctx.who
    sid, _ = await _open_file(ctx, subject_id, "read_proofs")
    bundle = await run_in_threadpool(subject_proofs, state.ledger, sid, cache=CACHE)
    if who.role == "subject":  # a proof's leaf names the reporter of a citizen report
        bundle = views.withhold_report_proofs(bundle)
    state.audit.log(who, "read_proofs", subject=sid, detail={"proofs": len(bundle["proofs"])})
    return bundle
