"""Helpers the routers share: the ``on`` date parameter and getting an evaluation for it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query
from starlette.concurrency import run_in_threadpool

from socialcredit.engine import Evaluation
from socialcredit.engine.errors import EngineError
from socialcredit.errors import RulebookError
from socialcredit.service.errors import ApiError
from socialcredit.service.schemas import EARLIEST, LATEST
from socialcredit.service.state import ServiceState

On = Annotated[
    dt.date | None,
    Query(ge=EARLIEST, le=LATEST, description="Evaluate as of this day (default: the service's date)."),
]


async def evaluation_on(state: ServiceState, on: dt.date | None) -> Evaluation:
    """The evaluation as of ``on``: from the cache, or computed in a worker thread."""
    ev = state.ready_evaluation(on)
    if ev is not None:
        return ev
    try:
        return await run_in_threadpool(state.evaluation, on)
    except (RulebookError, EngineError) as exc:
        raise ApiError(422, str(exc), code="cannot_evaluate") from None
