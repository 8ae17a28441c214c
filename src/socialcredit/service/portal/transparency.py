"""The portal's transparency page and the signed-in subject's proof file.

==========================  ==============================================================
page                        shows
==========================  ==============================================================
``/transparency``           the public key and every signed Merkle tree head (docs/proof.md)
``/my/proofs.json``         the signed-in subject's proof file, to keep and check offline
==========================  ==============================================================

Registered by ``portal/__init__.py`` beside the other pages (``routes.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from socialcredit.ledger.proofs import CACHE, subject_proofs
from socialcredit.service.portal.routes import _json, _portal, _who, render
from socialcredit.service.routers.tree_heads import published_heads
from socialcredit.service.views import withhold_report_proofs

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


async def _heads(request: Request) -> dict[str, Any]:
    state, _, _ = _portal(request)
    return await run_in_threadpool(published_heads, state.ledger)


@router.get("/transparency.json")
async def transparency_json(request: Request) -> JSONResponse:
    return _json(await _heads(request))


@router.get("/transparency", response_class=HTMLResponse)
async def transparency_page(request: Request) -> HTMLResponse:
    return render(request, "transparency.html", page=await _heads(request))


@router.get("/my/proofs.json")
async def my_proofs(request: Request) -> JSONResponse:
    """The signed-in subject's proof file (a download: keep it)."""
    who = _who(request)
    if who is None or who.role != "subject" or not who.subject:
        message = "sign in at /my with a subject token"
        return _json({"error": {"code": "not_signed_in", "message": message}}, 401)
    state, _, _ = _portal(request)
    bundle = await run_in_threadpool(subject_proofs, state.ledger, who.subject, cache=CACHE)
    bundle = withhold_report_proofs(bundle)  # a report's leaf names its reporter
    state.audit.log(who, "portal_my_proofs", subject=who.subject)
    response = _json(bundle)
    response.headers["Content-Disposition"] = 'attachment; filename="my-proofs.json"'
    return response
