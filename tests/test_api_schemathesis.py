"""Schemathesis against the app's /openapi.json, loaded in-process (ASGI), with each role's
token and none: no 5xx, no status, content type or body that breaks the document, for valid
requests and for invalid ones (schemathesis' negative mode) alike.

Each operation is one test; each generated request is sent once per caller. Examples per
operation are kept modest (``MAX_EXAMPLES``) so the file runs in well under a minute; raise it
locally for a deeper search. (Schemathesis' own pytest fixture loader does not run under
pytest 9, so the operations are driven with Hypothesis directly.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from service_world import World, build_world
from socialcredit.service import create_app
from socialcredit.service.routers import ROUTERS

MAX_EXAMPLES = 20
CALLERS = ("admin", "officer", "court", "subject", "none")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATIONS = sorted(
    (method, route.path)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> World:
    return build_world(tmp_path_factory.mktemp("schemathesis"), tiny)


@pytest.fixture(scope="module")
def api_schema(world: World) -> Iterator[Any]:
    app = create_app(world.settings(evaluations_kept=2))
    state = app.state.service
    state.start()  # the lifespan's work: the audit writer and today's evaluation
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        state.close()


def test_every_route_is_in_the_document(api_schema: Any) -> None:
    documented = {(op.method.upper(), op.path) for op in (r.ok() for r in api_schema.get_all_operations())}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_openapi_holds_for_every_role(api_schema: Any, world: World, method: str, path: str) -> None:
    operation = api_schema[path][method]

    cases = st.one_of(operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any) -> None:
        for caller in CALLERS:
            case.call_and_validate(headers={} if caller == "none" else world.auth(caller), checks=CHECKS)

    check()
