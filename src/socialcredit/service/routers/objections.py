"""``/v1/objections`` and ``/v1/notices``: due process (issue 13) over HTTP.

* ``POST /v1/objections`` — a subject objects to records of its own file (officers and admins may
  file for a subject): ``{subject, records, list?, rulebook?, grounds, evidence?, on?}``; 201 with
  the objection.
* ``GET /v1/objections?subject=&state=`` and ``GET /v1/objections/{id}`` — objections with their
  state, deadlines and history (a subject token sees only its own).
* ``POST /v1/objections/{id}/review`` and ``POST /v1/objections/{id}/decision`` — an officer takes
  an objection up, then upholds or rejects it with reasons (upholding appends the correction).
* ``GET /v1/notices?subject=&on=`` — the notices of listings proposed for the subject;
  ``POST /v1/notices/issue`` (officers) records the notices due as ``notice.issued`` actions; and
  ``GET /v1/dueprocess/decisions?subject=&action=&on=`` — the counter's answer under due process
  (notice periods and suspending objections applied).

Every step is an event in the ledger's actions chain (nothing is updated), and every call is
audited. Bad input is 422 ``invalid_objection`` with the field named; an unknown objection 404
``unknown_objection``.

Example:
    >>> [r.path for r in router.routes][:2]
    ['/v1/objections', '/v1/objections']
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from socialcredit.dueprocess import DueProcess, ObjectionError
from socialcredit.dueprocess import objections as obj
from socialcredit.dueprocess.notices import issue_notices, notices
from socialcredit.engine import Evaluation
from socialcredit.engine.errors import EngineError, UnknownAction, UnknownSubject
from socialcredit.errors import RulebookError
from socialcredit.service.auth import Context, FileReader, Officer, check_own_file, normalise_subject
from socialcredit.service.errors import ApiError, error_responses
from socialcredit.service.routers._common import On
from socialcredit.service.schemas import EARLIEST, LATEST
from socialcredit.service.state import ServiceState

router = APIRouter(tags=["due process"])

_ERRORS = error_responses(401, 403, 404, 422)
#: A POST may also get 400 (a body that is not JSON) and 413 (too large).
_POST_ERRORS = error_responses(400, 401, 403, 404, 413, 422)
Text = Annotated[str, Field(min_length=1, max_length=4000)]
RecordIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=0, max_length=100)
]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Day = Annotated[dt.date, Field(ge=EARLIEST, le=LATEST, description="The day (default: the service's date).")]
ObjectionId = Annotated[str, Path(min_length=1, max_length=64, description="An objection id (obj-…).")]


class ObjectionIn(BaseModel):
    """An objection: the records objected to (and the listing, if it is one), grounds, evidence."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    subject: Name
    records: RecordIds = Field(default_factory=list)
    list_id: Name | None = Field(None, alias="list")
    rulebook: Name | None = None
    grounds: Text
    evidence: Text | None = None
    on: Day | None = None


class ReviewIn(BaseModel):
    """An officer takes the objection up."""

    model_config = ConfigDict(extra="forbid")
    on: Day | None = None
    note: Text | None = None


class DecisionIn(BaseModel):
    """An officer's decision: upheld (the records are annulled by corrections) or rejected."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["upheld", "rejected"]
    reasons: Text
    on: Day | None = None
    annul: RecordIds | None = None


def _invalid(exc: Exception) -> ApiError:
    text = str(exc)
    if text.startswith("objection: no objection"):
        return ApiError(404, text, code="unknown_objection")
    return ApiError(422, text, code="invalid_objection")


def _actor(ctx: Context) -> str:
    who = ctx.who
    if who.role == "subject":
        return f"subject:{who.subject}"
    return f"{who.role}:{who.token_id}"


def _today(state: ServiceState, on: dt.date | None) -> dt.date:
    return on or state.settings.clock_date()


_dp_lock = threading.Lock()


def dueprocess_evaluation(state: ServiceState, day: dt.date) -> Evaluation:
    """The evaluation as of ``day`` under due process (:class:`DueProcess` defaults and the
    ledger's objections), cached on the service state per ledger heads (records, registry and
    actions) and day (the last four days asked about)."""
    heads = state.ledger.heads()
    key = tuple(sorted((k, v["count"], v["head"]) for k, v in heads.items()))
    d = day.toordinal() - 719163
    with _dp_lock:
        cache: dict[Any, Evaluation] = state.__dict__.setdefault("_dueprocess_evaluations", {})
        hit = cache.get((key, d))
    if hit is not None:
        return hit
    try:
        ev = obj.bind_ledger(state.engine, state.ledger, DueProcess()).evaluate(d)
    except (RulebookError, EngineError) as exc:
        raise ApiError(422, str(exc), code="cannot_evaluate") from None
    with _dp_lock:
        if len(cache) >= 4:
            cache.pop(next(iter(cache)))
        cache[(key, d)] = ev
    return ev


def _own(ctx: Context, o: obj.Objection, action: str) -> None:
    check_own_file(ctx, o.subject, action)


@router.post(
    "/v1/objections",
    status_code=201,
    responses=error_responses(400, 401, 403, 413, 422),
    summary="File an objection",
)
async def post_objection(body: ObjectionIn, ctx: FileReader) -> dict[str, Any]:
    """A subject objects to records of its own file (an officer or admin may file on a subject's
    behalf). The review deadline comes from the list's rulebook (else 20 days, facts 1.4)."""
    state = ctx.state
    sid = normalise_subject(body.subject)
    check_own_file(ctx, sid, "objection_file")
    day = _today(state, body.on)

    def work() -> obj.Objection:
        records = body.records
        if not records and body.list_id:  # against a listing: the records that open it
            ev = dueprocess_evaluation(state, day)
            try:
                records = obj.listing_records(ev, sid, body.list_id, body.rulebook)
            except UnknownSubject:
                raise ObjectionError(f"subject: {sid!r} is not in the registry") from None
        return obj.file_objection(
            state.ledger,
            subject=sid,
            records=records,
            list_id=body.list_id,
            rulebook=body.rulebook,
            grounds=body.grounds,
            evidence=body.evidence,
            on=day,
            actor=_actor(ctx),
            rulebooks=state.engine.rulebooks,
        )

    try:
        o = await run_in_threadpool(work)
    except ObjectionError as exc:
        state.audit.log(ctx.who, "objection_file", subject=sid, status=422)
        raise _invalid(exc) from None
    state.mark_written()
    state.audit.log(ctx.who, "objection_file", subject=sid, status=201, detail={"objection": o.id})
    return o.to_dict(day)


@router.get("/v1/objections", responses=_ERRORS, summary="Objections and their state")
async def get_objections(
    ctx: FileReader,
    subject: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    state_: Annotated[
        Literal["filed", "under_review", "upheld", "rejected"] | None, Query(alias="state")
    ] = None,
    on: On = None,
) -> dict[str, Any]:
    """Every objection (a subject token: its own; officers: any, or one subject's)."""
    state = ctx.state
    sid = normalise_subject(subject) if subject else None
    if ctx.who.role == "subject":
        sid = sid or ctx.who.subject
        check_own_file(ctx, sid or "", "objection_list")
    found = await run_in_threadpool(obj.list_objections, state.ledger, sid)
    day = _today(state, on)
    out = [o.to_dict(day) for o in found if state_ is None or o.state == state_]
    state.audit.log(ctx.who, "objection_list", subject=sid, detail={"n": len(out)})
    return {"as_of": day.isoformat(), "objections": out}


@router.get("/v1/objections/{objection_id}", responses=_ERRORS, summary="One objection")
async def get_one(objection_id: ObjectionId, ctx: FileReader, on: On = None) -> dict[str, Any]:
    """An objection with its state, officer, reasons, dates and every step."""
    try:
        o = await run_in_threadpool(obj.get_objection, ctx.state.ledger, objection_id)
    except ObjectionError as exc:
        raise _invalid(exc) from None
    _own(ctx, o, "objection_read")
    ctx.state.audit.log(ctx.who, "objection_read", subject=o.subject, detail={"objection": o.id})
    return o.to_dict(_today(ctx.state, on))


@router.post("/v1/objections/{objection_id}/review", responses=_POST_ERRORS, summary="Take an objection up")
async def post_review(objection_id: ObjectionId, body: ReviewIn, ctx: Officer) -> dict[str, Any]:
    """``filed`` → ``under_review``, by the calling officer."""
    state = ctx.state
    day = _today(state, body.on)
    try:
        o = await run_in_threadpool(
            lambda: obj.start_review(state.ledger, objection_id, officer=_actor(ctx), on=day, note=body.note)
        )
    except ObjectionError as exc:
        raise _invalid(exc) from None
    state.audit.log(ctx.who, "objection_review", subject=o.subject, detail={"objection": o.id})
    return o.to_dict(day)


@router.post("/v1/objections/{objection_id}/decision", responses=_POST_ERRORS, summary="Decide an objection")
async def post_decision(objection_id: ObjectionId, body: DecisionIn, ctx: Officer) -> dict[str, Any]:
    """Uphold (correction records annul the records; nothing is deleted) or reject, with reasons."""
    state = ctx.state
    day = _today(state, body.on)
    try:
        o = await run_in_threadpool(
            lambda: obj.decide_objection(
                state.ledger,
                objection_id,
                outcome=body.outcome,
                officer=_actor(ctx),
                reasons=body.reasons,
                on=day,
                annul=body.annul,
            )
        )
    except ObjectionError as exc:
        raise _invalid(exc) from None
    state.mark_written()
    state.audit.log(
        ctx.who, "objection_decide", subject=o.subject, detail={"objection": o.id, "outcome": o.state}
    )
    return o.to_dict(day)


@router.get("/v1/notices", responses=_ERRORS, summary="Notices of proposed listings")
async def get_notices(
    ctx: FileReader, subject: Annotated[str, Query(min_length=1, max_length=64)], on: On = None
) -> dict[str, Any]:
    """The notices of every listing proposed by a record of the subject's: record, rule, list,
    the day issued, when it takes effect, the last day to object, and how."""
    state = ctx.state
    sid = normalise_subject(subject)
    check_own_file(ctx, sid, "notices_read")
    day = _today(state, on)
    ev = await run_in_threadpool(dueprocess_evaluation, state, day)
    try:
        out = notices(ev, sid)
    except UnknownSubject:
        raise ApiError(404, f"no subject {sid!r} in the registry", code="unknown_subject") from None
    state.audit.log(ctx.who, "notices_read", subject=sid)
    return {"subject": sid, "as_of": day.isoformat(), "notices": out}


class IssueIn(BaseModel):
    """Issue the notices due as of a day (default: the service's date)."""

    model_config = ConfigDict(extra="forbid")
    on: Day | None = None


@router.post(
    "/v1/notices/issue", responses=error_responses(400, 401, 403, 413, 422), summary="Issue the notices due"
)
async def post_issue(body: IssueIn, ctx: Officer) -> dict[str, Any]:
    """Record every notice not yet issued as a ``notice.issued`` action (idempotent), so that
    it stays in the subject's history whatever happens to the listing later."""
    state = ctx.state
    day = _today(state, body.on)
    ev = await run_in_threadpool(dueprocess_evaluation, state, day)
    issued = await run_in_threadpool(lambda: issue_notices(state.ledger, ev, actor=_actor(ctx)))
    state.audit.log(ctx.who, "notices_issue", detail={"issued": len(issued)})
    return {"as_of": day.isoformat(), "issued": issued}


@router.get("/v1/dueprocess/decisions", responses=_ERRORS, summary="The counter under due process")
async def get_decision(
    ctx: FileReader,
    subject: Annotated[str, Query(min_length=1, max_length=64)],
    action: Annotated[str, Query(min_length=1, max_length=64)],
    on: On = None,
) -> dict[str, Any]:
    """``GET /v1/decisions`` with notice periods and suspending objections applied."""
    state = ctx.state
    sid = normalise_subject(subject)
    check_own_file(ctx, sid, "dueprocess_decision")
    day = _today(state, on)
    ev = await run_in_threadpool(dueprocess_evaluation, state, day)
    try:
        d = ev.decide(sid, action)
        out = {
            "subject": sid,
            "action": action,
            "on": day.isoformat(),
            "outcome": d.outcome,
            "reasons": d.reasons,
        }
    except UnknownSubject:
        raise ApiError(404, f"no subject {sid!r} in the registry", code="unknown_subject") from None
    except UnknownAction as exc:
        raise ApiError(422, str(exc), code="unknown_action") from None
    pending = [p for p in ev.pending.to_pylist() if p["subject"] == sid]
    out["pending"] = [
        {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in p.items()} for p in pending
    ]
    state.audit.log(
        ctx.who, "dueprocess_decision", subject=sid, detail={"action": action, "outcome": d.outcome}
    )
    return out
