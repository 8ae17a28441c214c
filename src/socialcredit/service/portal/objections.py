"""The portal's due-process pages: a subject's notices and objections, and the objection form.

``/my/objections`` (and its ``.json`` twin) shows the signed-in subject's notices of proposed
listings (record, rule, list, the day it takes effect, the last day to object, whether an
objection suspends it), every objection with its state, officer, reasons, dates and history, and
a form (no JavaScript) to object to records of the file with grounds and evidence. ``POST
/my/objections`` files it — an ``objection.filed`` event in the ledger's actions chain — and
returns to the page. Only the session's own subject is ever shown or objected for; the same
session rules as ``/my`` apply (docs/portal.md).

Example:
    >>> sorted({r.path for r in router.routes})
    ['/my/objections', '/my/objections.json']
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from socialcredit.dueprocess import ObjectionError
from socialcredit.dueprocess import objections as obj
from socialcredit.dueprocess.notices import notices, timeline
from socialcredit.service.portal.routes import _json, _portal, _who, render
from socialcredit.service.routers.objections import dueprocess_evaluation

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _file(state: Any, subject: str) -> dict[str, Any]:
    day = state.settings.clock_date()
    ev = dueprocess_evaluation(state, day)
    records = state.ledger.records_of(subject)
    annulled = {r["corrects"] for r in records if r.get("corrects")}
    found = obj.list_objections(state.ledger, subject)
    return {
        "subject": subject,
        "as_of": day.isoformat(),
        "notices": notices(ev, subject),
        "objections": [o.to_dict(day) for o in reversed(found)],
        "timeline": timeline(state.ledger, subject),
        "records": [
            {
                "id": r["id"],
                "category": r["category"],
                "occurred_at": r["occurred_at"],
                "source": r["source"],
                "annulled": r["id"] in annulled,
                "correction": bool(r.get("corrects")),
            }
            for r in records
        ],
    }


async def _mine(request: Request) -> tuple[Any, str] | None:
    who = _who(request)
    if who is None or who.role != "subject" or not who.subject:
        return None
    state, _, _ = _portal(request)
    return state, who.subject


@router.get("/my/objections.json")
async def objections_json(request: Request) -> JSONResponse:
    got = await _mine(request)
    if got is None:
        return _json(
            {"error": {"code": "not_signed_in", "message": "sign in at /my with a subject token"}}, 401
        )
    state, subject = got
    out = await run_in_threadpool(_file, state, subject)
    state.audit.log(_who(request), "portal_objections", subject=subject)
    return _json(out)


@router.get("/my/objections", response_class=HTMLResponse)
async def objections_page(request: Request, filed: str = "") -> HTMLResponse:
    got = await _mine(request)
    if got is None:
        return render(request, "signin.html", error=None)
    state, subject = got
    out = await run_in_threadpool(_file, state, subject)
    state.audit.log(_who(request), "portal_objections", subject=subject)
    return render(request, "my_objections.html", f=out, filed=filed, error=None)


@router.post("/my/objections", response_class=HTMLResponse)
async def objections_post(request: Request) -> Response:
    got = await _mine(request)
    if got is None:
        return render(request, "signin.html", 401, error="Sign in first.")
    state, subject = got
    body = (await request.body())[:65536].decode("utf-8", "replace")
    form = parse_qs(body)
    day = state.settings.clock_date()

    def work() -> obj.Objection:
        records, list_id = form.get("record") or [], (form.get("list") or [None])[0] or None
        if not records and list_id:  # against the listing: the records that open it
            records = obj.listing_records(dueprocess_evaluation(state, day), subject, list_id)
        return obj.file_objection(
            state.ledger,
            subject=subject,
            records=records,
            grounds=(form.get("grounds") or [""])[0],
            evidence=(form.get("evidence") or [None])[0],
            list_id=list_id,
            on=day,
            actor=f"portal:subject:{subject}",
            rulebooks=state.engine.rulebooks,
        )

    try:
        o = await run_in_threadpool(work)
    except ObjectionError as exc:
        out = await run_in_threadpool(_file, state, subject)
        state.audit.log(_who(request), "portal_objection_file", subject=subject, status=422)
        return render(request, "my_objections.html", 422, f=out, filed="", error=str(exc))
    state.mark_written()
    state.audit.log(_who(request), "portal_objection_file", subject=subject, detail={"objection": o.id})
    return RedirectResponse(f"/my/objections?filed={o.id}", status_code=303)
