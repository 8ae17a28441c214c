"""The portal's pages: server-rendered HTML (no JavaScript needed), each with a ``.json`` twin.

==================  ====================================================================
page                shows
==================  ====================================================================
``/``, ``/search``  search by name, resident number, credit code or plate (ids masked)
``/entity/{key}``   what disclosure publishes about one subject (key: opaque, not the id)
``/lists``          the published black and red lists
``/counter``        the ticket counter: identity number + action → decision and reasons
``/scoreboard``     the roadside honking scoreboard (latest plates)
``/stories``        red-listed "stories of integrity" and model posters
``/my``             the signed-in subject's own file (token → HttpOnly session cookie)
``/report``         the latest research report, when one lies beside the ledger
``/try``            try it yourself: a fictional persona's behaviours, day by day (not stored)
==================  ====================================================================

Add ``.json`` to any page's path (``/search.json?q=...``) for the same data as JSON.
"""

from __future__ import annotations

import secrets
import time
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from socialcredit import __version__, ids
from socialcredit.engine import Evaluation
from socialcredit.service import views
from socialcredit.service.auth import normalise_subject
from socialcredit.service.errors import TokenError
from socialcredit.service.portal import tryit
from socialcredit.service.portal.data import PortalData
from socialcredit.service.routers._common import evaluation_on
from socialcredit.service.state import ServiceState
from socialcredit.service.tokens import PUBLIC, Principal

__all__ = ["SESSION_COOKIE", "router"]

SESSION_COOKIE = "sc_portal"
SESSION_SECONDS = 8 * 3600

router = APIRouter(include_in_schema=False)

ENV = Environment(
    loader=PackageLoader("socialcredit.service.portal", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["mask"] = ids.mask_identifier


class Sessions:
    """Portal sign-ins held in memory: session id → bearer token. Nothing is written to disk;
    the token is checked again on every request, so a revoked token ends its session."""

    def __init__(self, limit: int = 10_000) -> None:
        self._by_id: dict[str, tuple[str, float]] = {}
        self._limit = limit

    def open(self, bearer: str) -> str:
        if len(self._by_id) >= self._limit:
            self._by_id.clear()
        sid = secrets.token_urlsafe(32)
        self._by_id[sid] = (bearer, time.monotonic() + SESSION_SECONDS)
        return sid

    def bearer(self, sid: str | None) -> str | None:
        hit = self._by_id.get(sid or "")
        if hit is None:
            return None
        if hit[1] < time.monotonic():
            self._by_id.pop(sid or "", None)
            return None
        return hit[0]

    def close(self, sid: str | None) -> None:
        self._by_id.pop(sid or "", None)


def _portal(request: Request) -> tuple[ServiceState, PortalData, Sessions]:
    app_state = request.app.state
    if not hasattr(app_state, "portal"):
        app_state.portal = PortalData()
        app_state.portal_sessions = Sessions()
    return app_state.service, app_state.portal, app_state.portal_sessions


def _who(request: Request) -> Principal | None:
    state, _, sessions = _portal(request)
    bearer = sessions.bearer(request.cookies.get(SESSION_COOKIE))
    if bearer is None:
        return None
    try:
        return state.principal(bearer)
    except TokenError:
        sessions.close(request.cookies.get(SESSION_COOKIE))
        return None


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    who = _who(request)
    path = request.url.path
    json_path = {"/": "/search.json", "/my/signin": "/my.json"}.get(path, path + ".json")
    if request.url.query and all(views.masked_query(v) == v for v in request.query_params.values()):
        json_path += "?" + request.url.query  # never an identifier in a link: it would show unmasked
    page = ENV.get_template(template).render(
        request_path=path,
        json_path=json_path,
        signed_in=who is not None,
        version=__version__,
        report=_report_path(request.app.state.service) is not None,
        **context,
    )
    return HTMLResponse(page, status_code=status, headers=_HEADERS)


_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _json(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"X-Content-Type-Options": "nosniff"})


async def _ev(state: ServiceState) -> Evaluation:
    return await evaluation_on(state, None)


def _report_path(state: ServiceState) -> Path | None:
    """The latest research report: ``report.html`` beside the ledger (where the demo writes it)."""
    path = state.settings.db.parent / "report.html"
    return path if path.is_file() else None


# -- static --------------------------------------------------------------------------------------


@router.get("/static/portal.css")
async def css() -> Response:
    text = resources.files("socialcredit.service.portal").joinpath("static/portal.css").read_text("utf-8")
    return Response(text, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/report", response_class=HTMLResponse)
async def report(request: Request) -> HTMLResponse:
    """The research report as written, in a sandbox (its charts' scripts run in an opaque origin)."""
    path = _report_path(request.app.state.service)
    if path is None:
        message = "No research report yet: `socialcredit report RUN_DIR` writes one; the portal shows "
        return render(
            request, "error.html", 404, title="No report", message=message + "report.html beside the ledger."
        )
    text = await run_in_threadpool(path.read_text, "utf-8")
    headers = {
        "Content-Security-Policy": "sandbox allow-scripts allow-popups; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(text, headers=headers)


# -- search and entity ---------------------------------------------------------------------------


async def _search(request: Request, q: str) -> dict[str, Any]:
    state, data, _ = _portal(request)
    ev = await _ev(state)
    out = await run_in_threadpool(data.search, state, ev, q)
    if q.strip():
        state.audit.log(PUBLIC, "portal_search", detail={"q": out["q"], "results": len(out["results"])})
    return out


@router.get("/search.json")
async def search_json(request: Request, q: str = "") -> JSONResponse:
    return _json(await _search(request, q[:64]))


@router.get("/", response_class=HTMLResponse)
@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, q: str = "") -> HTMLResponse:
    out = await _search(request, q[:64])
    return render(request, "search.html", page=out, asked=bool(q.strip()))


async def _entity(request: Request, key: str) -> dict[str, Any] | None:
    state, data, _ = _portal(request)
    ev = await _ev(state)
    sid = await run_in_threadpool(data.resolve, state, ev, key)
    if sid is None or ev.subjects.code(sid) is None or not ev.disclosed(sid):
        return None
    state.audit.log(PUBLIC, "portal_entity", subject=sid)
    return await run_in_threadpool(data.entity, state, ev, sid)


_NOT_PUBLISHED = "No published subject has this address (entity addresses change when the portal restarts)."


@router.get("/entity/{key}.json")
async def entity_json(request: Request, key: str) -> JSONResponse:
    out = await _entity(request, key[:64])
    if out is None:
        return _json({"error": {"code": "not_found", "message": _NOT_PUBLISHED}}, 404)
    return _json(out)


@router.get("/entity/{key}", response_class=HTMLResponse)
async def entity_page(request: Request, key: str) -> HTMLResponse:
    out = await _entity(request, key[:64])
    if out is None:
        return render(request, "error.html", 404, title="Not published", message=_NOT_PUBLISHED)
    return render(request, "entity.html", e=out)


# -- lists, scoreboard, stories ------------------------------------------------------------------


async def _lists(request: Request) -> dict[str, Any]:
    state, data, _ = _portal(request)
    return await run_in_threadpool(data.lists, state, await _ev(state))


@router.get("/lists.json")
async def lists_json(request: Request) -> JSONResponse:
    return _json(await _lists(request))


@router.get("/lists", response_class=HTMLResponse)
async def lists_page(request: Request) -> HTMLResponse:
    return render(request, "lists.html", page=await _lists(request))


async def _scoreboard(request: Request) -> dict[str, Any]:
    state, data, _ = _portal(request)
    return await run_in_threadpool(data.scoreboard, state, await _ev(state))


@router.get("/scoreboard.json")
async def scoreboard_json(request: Request) -> JSONResponse:
    return _json(await _scoreboard(request))


@router.get("/scoreboard", response_class=HTMLResponse)
async def scoreboard_page(request: Request) -> HTMLResponse:
    state = request.app.state.service
    page = await _scoreboard(request)
    return render(request, "scoreboard.html", page=page, rulebooks=list(state.settings.rulebooks))


async def _stories(request: Request) -> dict[str, Any]:
    state, data, _ = _portal(request)
    return await run_in_threadpool(data.stories, state, await _ev(state))


@router.get("/stories.json")
async def stories_json(request: Request) -> JSONResponse:
    return _json(await _stories(request))


@router.get("/stories", response_class=HTMLResponse)
async def stories_page(request: Request) -> HTMLResponse:
    return render(request, "stories.html", page=await _stories(request))


# -- the ticket counter --------------------------------------------------------------------------


async def _counter(request: Request, subject: str, action: str) -> dict[str, Any]:
    state, data, _ = _portal(request)
    out: dict[str, Any] = {"actions": data.counter_actions(), "result": None}
    if subject.strip() and action.strip():
        ev = await _ev(state)
        result = await run_in_threadpool(data.counter, state, ev, subject[:64], action[:64])
        state.audit.log(
            PUBLIC,
            "portal_counter",
            subject=normalise_subject(subject[:64]),
            detail={"action": action[:64], "outcome": result["outcome"]},
        )
        out["result"] = result
    return out


@router.get("/counter.json")
async def counter_json(request: Request, subject: str = "", action: str = "") -> JSONResponse:
    out = await _counter(request, subject, action)
    return _json({"result": out["result"], "actions": [a["id"] for a in out["actions"]]})


@router.get("/counter", response_class=HTMLResponse)
async def counter_page(request: Request, subject: str = "", action: str = "") -> HTMLResponse:
    out = await _counter(request, subject, action)
    return render(request, "counter.html", page=out, action=action or "travel.high_speed_rail")


# -- my credit file ------------------------------------------------------------------------------


async def _my(request: Request) -> dict[str, Any] | None:
    who = _who(request)
    if who is None or who.role != "subject" or not who.subject:
        return None
    state, data, _ = _portal(request)
    ev = await _ev(state)
    out = await run_in_threadpool(data.my_file, state, ev, who.subject)
    state.audit.log(who, "portal_my_file", subject=who.subject)
    return out


@router.get("/my.json")
async def my_json(request: Request) -> JSONResponse:
    out = await _my(request)
    if out is None:
        message = "sign in at /my with a subject token"
        return _json({"error": {"code": "not_signed_in", "message": message}}, 401)
    return _json(out)


@router.get("/my", response_class=HTMLResponse)
async def my_page(request: Request) -> HTMLResponse:
    out = await _my(request)
    if out is None:
        return render(request, "signin.html", error=None)
    return render(request, "my.html", f=out)


@router.post("/my/signin", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    state, _, sessions = _portal(request)
    body = (await request.body())[:4096].decode("utf-8", "replace")
    token = (parse_qs(body).get("token") or [""])[0].strip()
    try:
        who = state.principal(token) if token else None
    except TokenError:
        who = None
    if who is None or who.role != "subject":
        state.audit.log(PUBLIC, "portal_sign_in", status=401)
        message = "This is not a valid subject token." if token else "Enter your token."
        return render(request, "signin.html", 401, error=message)
    response = RedirectResponse("/my", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, sessions.open(token), max_age=SESSION_SECONDS, httponly=True, samesite="strict",
        path="/",
    )  # fmt: skip
    state.audit.log(who, "portal_sign_in", subject=who.subject)
    return response


@router.post("/my/signout")
async def sign_out(request: Request) -> Response:
    _, _, sessions = _portal(request)
    sessions.close(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- try it yourself -----------------------------------------------------------------------------


async def _try(rulebook: str, name: str, story: str, add: str) -> dict[str, Any]:
    book = rulebook if rulebook in tryit.RULEBOOKS else "rongcheng"
    steps = tryit.parse_story(story)
    if add and len(steps) < tryit.MAX_DAYS:
        steps += tryit.parse_story(add)
    out = await run_in_threadpool(tryit.persona_story, book, name.strip()[:60], steps)
    return {**out, "story_param": ",".join(steps), "max_days": tryit.MAX_DAYS}


@router.get("/try.json")
async def try_json(
    rulebook: str = "rongcheng", name: str = "", story: str = "", add: str = ""
) -> JSONResponse:
    return _json(await _try(rulebook, name, story[:2000], add[:64]))


@router.get("/try", response_class=HTMLResponse)
async def try_page(
    request: Request, rulebook: str = "rongcheng", name: str = "", story: str = "", add: str = ""
) -> HTMLResponse:
    out = await _try(rulebook, name, story[:2000], add[:64])
    return render(request, "try.html", t=out, rulebooks=list(tryit.RULEBOOKS), behaviours=tryit.behaviours())
