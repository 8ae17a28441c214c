"""``GET /v1/decisions``: may this subject do this, today? The counter's question.

This is the hot path (a ticket counter asks it for every sale), so it reads its query itself,
validated by one schema class (:class:`~socialcredit.service.schemas.DecisionQuery`), instead of
through FastAPI's per-parameter machinery, which costs more than the decision; the parameters
are still documented in the OpenAPI document, and errors keep the one shape.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from socialcredit.engine.errors import UnknownAction, UnknownSubject
from socialcredit.service import views
from socialcredit.service.auth import FileReader, check_own_file, normalise_subject
from socialcredit.service.errors import ApiError, error_responses, validation_message
from socialcredit.service.routers._common import evaluation_on
from socialcredit.service.schemas import EARLIEST, LATEST, DecisionOut, DecisionQuery

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])

_PARAMETERS = [
    {"name": "subject", "in": "query", "required": True, "description": "The subject id.",
     "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
    {"name": "action", "in": "query", "required": True, "description": "An action, e.g. travel.flight.",
     "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
    {"name": "on", "in": "query", "required": False,
     "description": f"Decide as of this day, {EARLIEST} to {LATEST} (default: the service's date).",
     "schema": {"type": "string", "format": "date"}},
]  # fmt: skip


def _query(request: Request) -> DecisionQuery:
    q = request.query_params
    try:
        return DecisionQuery.model_validate({k: q[k] for k in ("subject", "action", "on") if k in q})
    except ValidationError as exc:
        raise ApiError(
            422, validation_message(exc.errors(), prefix="query"), code="invalid_request"
        ) from None


@router.get(
    "",
    response_class=Response,
    responses={
        200: {"model": DecisionOut, "description": "The decision."},
        **error_responses(401, 403, 404, 422),
    },
    openapi_extra={"parameters": _PARAMETERS},
    summary="The decision on one action for one subject",
)
async def get_decision(request: Request, ctx: FileReader) -> Response:
    """The outcome (`allowed`, `rewarded`, `restricted` or `denied`) with every measure behind it,
    strongest first, as `socialcredit check --json` prints it. A subject token asks only about
    itself."""
    state, who = ctx.state, ctx.who
    query = _query(request)
    subject, action = query.subject, query.action
    ev = await evaluation_on(state, query.on)
    sid = subject if ev.subjects.code(subject) is not None else normalise_subject(subject)
    check_own_file(ctx, sid, "decide")
    try:
        out = views.decision(state, ev, sid, action)
    except UnknownSubject:
        state.audit.log(who, "decide", subject=sid, status=404, detail={"action": action})
        raise ApiError(404, f"no subject {sid!r} in the registry", code="unknown_subject") from None
    except UnknownAction as exc:
        raise ApiError(422, str(exc), code="unknown_action") from None
    state.audit.log(who, "decide", subject=sid, detail={"action": action, "outcome": out["outcome"]})
    body = DecisionOut.model_validate(out).model_dump_json(by_alias=True)
    return Response(body, media_type="application/json")
