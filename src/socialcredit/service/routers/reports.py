"""``/v1/reports``: citizen reports held for review, and their review (issue #16, item 5).

* ``GET /v1/reports?subject=&state=&on=`` — every citizen report with its review state as of a
  day (``held``, ``repeat``, ``confirmed``, ``quorum``, ``rejected``, ``anonymous``), whether it
  counts, why, and the decision: the reviewing officer's view (officers and admins), reporter
  named. A subject sees its own held reports in its file, reporter masked.
* ``POST /v1/reports/{record_id}/decision`` — an officer confirms (the report counts from that
  day) or rejects (it never counts) a report: ``{outcome, reasons, on?}``; a ``report.confirmed``
  or ``report.rejected`` action in the ledger's actions chain. A report is decided once.

Every call is audited. Bad input is 422 ``invalid_report`` with the field named; an unknown
record 404 ``unknown_record``.

Example:
    >>> [r.path for r in router.routes]
    ['/v1/reports', '/v1/reports/{record_id}/decision']
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from socialcredit.dueprocess.reports import ReportError, decide_report, list_reports
from socialcredit.service.auth import Officer, normalise_subject
from socialcredit.service.errors import ApiError, error_responses
from socialcredit.service.routers._common import On
from socialcredit.service.schemas import EARLIEST, LATEST

router = APIRouter(tags=["citizen reports"])

_ERRORS = error_responses(401, 403, 422)
_POST_ERRORS = error_responses(400, 401, 403, 404, 413, 422)
RecordId = Annotated[str, Path(min_length=1, max_length=200, description="The report's record id.")]


class ReportDecisionIn(BaseModel):
    """An officer's review of a citizen report."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["confirmed", "rejected"]
    reasons: Annotated[str, Field(min_length=1, max_length=4000)]
    on: Annotated[
        dt.date | None, Field(ge=EARLIEST, le=LATEST, description="The day (default: the service's date).")
    ] = None


def _invalid(exc: Exception) -> ApiError:
    text = str(exc)
    if text.startswith("record: no record"):
        return ApiError(404, text, code="unknown_record")
    return ApiError(422, text, code="invalid_report")


@router.get("/v1/reports", responses=_ERRORS, summary="Citizen reports and their review")
async def get_reports(
    ctx: Officer,
    subject: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    state: Annotated[
        Literal["held", "repeat", "confirmed", "quorum", "rejected", "anonymous"] | None, Query()
    ] = None,
    on: On = None,
) -> dict[str, Any]:
    """Every citizen report (about ``subject``) with its review state as of ``on``."""
    st = ctx.state
    sid = normalise_subject(subject) if subject else None
    day = on or st.settings.clock_date()
    try:
        rows = await run_in_threadpool(lambda: list_reports(st.ledger, subject=sid, on=day, state=state))
    except ReportError as exc:
        raise _invalid(exc) from None
    st.audit.log(ctx.who, "report_list", subject=sid, detail={"n": len(rows)})
    return {"as_of": day.isoformat(), "reports": rows}


@router.post("/v1/reports/{record_id}/decision", responses=_POST_ERRORS, summary="Confirm or reject a report")
async def post_report_decision(record_id: RecordId, body: ReportDecisionIn, ctx: Officer) -> dict[str, Any]:
    """Confirm (it counts from that day) or reject (it never counts) a citizen report, with reasons."""
    st = ctx.state
    day = body.on or st.settings.clock_date()
    actor = f"{ctx.who.role}:{ctx.who.token_id}"
    try:
        d = await run_in_threadpool(
            lambda: decide_report(
                st.ledger, record_id, outcome=body.outcome, officer=actor, reasons=body.reasons, on=day
            )
        )
    except ReportError as exc:
        st.audit.log(ctx.who, "report_decide", status=422 if "no record" not in str(exc) else 404)
        raise _invalid(exc) from None
    st.mark_written()
    st.audit.log(
        ctx.who, "report_decide", subject=d.subject, detail={"record": d.record, "outcome": d.outcome}
    )
    return d.to_dict()
