"""Hypothesis fuzzing of the HTTP API and the portal, in-process (FastAPI's test client).

* record batches built from the fuzz strategies (nasty text, numbers at the edges, impossible
  dates, unknown fields) posted by a source and by an admin: 200 with every record accepted, a
  duplicate or rejected with a known reason, or a 4xx in the one error shape; never a 5xx;
* bodies that are not what the endpoint takes (any bytes, deep JSON, huge numbers, the wrong
  shape) to every write endpoint: 400, 413 or 422 in the one error shape;
* query strings and path segments of any bytes (invalid UTF-8, NUL, SQL, HTML) to every read
  endpoint and portal page: never a 5xx, and an API error always in the one shape;
* schemathesis over the whole API document with every caller (each role's token, a second source
  and subject, an expired, a revoked and an unknown token, none), positive and negative cases.

Small by default; ``make fuzz`` runs the ``fuzz`` profile.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from fuzz_helpers import NASTY_TEXT, Figures, examples, nasty_value, records
from ingest_helpers import Tiny
from service_world import TestClient, World, build_world
from socialcredit.ingest.report import RECORD_REASONS
from socialcredit.ledger import open_ledger, verify
from socialcredit.service import create_app
from socialcredit.service.routers import ROUTERS

TINY = Tiny()
CALLERS = ("admin", "officer", "court", "traffic", "subject", "other_subject", "expired", "revoked")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> World:
    return build_world(tmp_path_factory.mktemp("fuzz-api"), tiny)


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with world.client() as c:
        yield c


def assert_shape(response: Any) -> None:
    """No 5xx; an API error in the one shape, with a code and a message."""
    assert response.status_code < 500, (response.request.url, response.status_code, response.text[:300])
    if response.status_code >= 400 and response.request.url.path.startswith("/v1"):
        body = response.json()
        assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], body


def test_fuzz_record_batches(client: TestClient, world: World) -> None:
    figures = Figures("api_records")

    @examples(40)
    @given(
        recs=st.lists(records(TINY), max_size=6),
        caller=st.sampled_from(["admin", "traffic", "court"]),
        extra=st.one_of(st.none(), st.sampled_from(NASTY_TEXT)),
    )
    def run(recs: list[dict[str, Any]], caller: str, extra: str | None) -> None:
        with figures.example():
            body = json.dumps({"records": recs} | ({extra: 1} if extra else {}), ensure_ascii=True)
            response = client.post(
                "/v1/records",
                content=body.encode("utf-8", "surrogatepass"),
                headers={**world.auth(caller), "content-type": "application/json"},
            )
            assert_shape(response)
            if response.status_code == 200:
                out = response.json()
                figures.lines += len(recs)
                lost = len(recs) - (out["accepted"] + out["duplicates"] + out["rejected"])
                figures.lost += abs(lost)
                assert lost == 0, out
                for r in out["rejects"]:
                    assert r["reason"] in RECORD_REASONS and r["message"], r

    run()
    with open_ledger(world.db) as ledger:
        assert verify(ledger).ok
    assert figures.crashes == 0 and figures.lost == 0
    figures.report()


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "deep", "number", "shape"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "deep":
        depth = draw(st.integers(100, 20_000))
        return b'{"records": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "number":
        digits = draw(st.integers(300, 5000))
        return b'{"records": [], "x": 1' + b"0" * digits + b"}"
    value = draw(nasty_value())
    if kind == "shape":
        key = draw(st.sampled_from(["records", "lines", "role", "label", "expires", "source", "subject"]))
        value = {key: value}
    return json.dumps(value).encode("utf-8", "surrogatepass")


def test_fuzz_bodies_of_every_write(client: TestClient, world: World) -> None:
    figures = Figures("api_bodies")
    writes = [("POST", "/v1/records"), ("POST", "/v1/registry"), ("POST", "/v1/tokens")]

    @examples(40)
    @given(body=bodies(), target=st.sampled_from(writes))
    def run(body: bytes, target: tuple[str, str]) -> None:
        with figures.example():
            method, path = target
            response = client.request(
                method,
                path,
                content=body,
                headers={**world.auth("admin"), "content-type": "application/json"},
            )
            assert_shape(response)
            assert response.status_code in (200, 201, 400, 413, 422), response.text[:200]
            if response.status_code == 400:  # a body that is not JSON says so, and why
                assert response.json()["error"]["code"] == "malformed_json", response.text[:200]

    run()
    assert figures.crashes == 0
    figures.report()


READS = [
    "/v1/public/search?q={v}",
    "/v1/decisions?subject={v}&action={v}",
    "/v1/decisions?subject={listed}&action=travel.flight&on={v}",
    "/v1/subjects/{v}",
    "/v1/subjects/{v}/explanation",
    "/v1/subjects/{v}/records",
    "/v1/lists/{v}?rulebook={v}",
    "/v1/lists?on={v}",
    "/v1/audit?subject={v}&action={v}",
    "/search.json?q={v}",
    "/search?q={v}",
    "/entity/{v}",
    "/counter.json?subject={v}&action={v}",
    "/try.json?name={v}&story={v}&add={v}&rulebook={v}",
]


def test_fuzz_query_strings_and_paths(client: TestClient, world: World) -> None:
    figures = Figures("api_queries")

    @examples(60)
    @given(
        template=st.sampled_from(READS),
        raw=st.one_of(
            st.binary(min_size=1, max_size=40),
            st.sampled_from(NASTY_TEXT).map(lambda s: s.encode("utf-8", "surrogatepass")),
        ),
        caller=st.sampled_from(["admin", "officer", "subject"]),
    )
    def run(template: str, raw: bytes, caller: str) -> None:
        with figures.example():
            value = urllib.parse.quote_from_bytes(raw, safe="")
            url = template.format(v=value, listed=world.listed)
            assert_shape(client.get(url, headers=world.auth(caller)))

    run()
    assert figures.crashes == 0
    figures.report()


@pytest.fixture(scope="module")
def api_schema(world: World) -> Iterator[Any]:
    app = create_app(world.settings(evaluations_kept=2))
    state = app.state.service
    state.start()
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        state.close()


OPERATIONS = sorted(
    (method, route.path)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)


@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_schemathesis_with_every_caller(api_schema: Any, world: World, method: str, path: str) -> None:
    """Every operation, every caller (tests/test_api_schemathesis.py checks responses against the
    document in depth; here the point is every token: no 5xx)."""
    figures = Figures(f"schemathesis {method} {path}")
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE))
    headers = [world.auth(c) for c in CALLERS] + [
        {},
        {"Authorization": "Bearer sct_0123456789ab_" + "x" * 43},
    ]

    @examples(3)
    @given(case=cases)
    def run(case: Any) -> None:
        for h in headers:
            with figures.example():
                case.call_and_validate(headers=h, checks=[not_a_server_error])

    run()
    assert figures.crashes == 0
    if figures.inputs >= 100:
        figures.report()
