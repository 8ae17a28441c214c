"""Access control, tested as a matrix: every role × every endpoint × own / other subject.

The matrix is written here by hand from docs/api.md and docs/portal.md and checked against the
application's routes: a route the app serves that has no entry here (a new endpoint) fails
``test_every_route_has_an_entry_in_the_matrix``, and so does an entry whose roles differ from the
roles the code enforces. Then each entry is called by every caller: a valid token of each role,
an expired, a revoked and an unknown token, and no token. Allowed callers get the entry's
success status; a valid token of another role 403; a missing or bad token 401. Subject tokens
are tried on their own file, on another subject's and on one that does not exist (403 both, so
a subject token cannot learn who exists).

Also here: tokens expire and are revoked (through the API at once, through the CLI within the
token cache), request size limits (413), the per-token rate limit (429 with ``Retry-After``),
and that no token secret is ever written to a log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from starlette.routing import Route

from service_world import TestClient, World, build_world
from socialcredit.ledger import open_ledger
from socialcredit.service import Settings, create_app
from socialcredit.service.limits import RateLimit
from socialcredit.service.tokens import create_token, revoke_token

ROOT = Path(__file__).resolve().parent.parent
#: Every caller: a name of the world's tokens, or ``none`` / ``garbage``.
CALLERS = (
    "none",
    "garbage",
    "expired",
    "revoked",
    "admin",
    "officer",
    "court",
    "traffic",
    "subject",
    "other_subject",
)
ROLE_OF = {
    "admin": "admin",
    "officer": "officer",
    "court": "source",
    "traffic": "source",
    "subject": "subject",
    "other_subject": "subject",
}
PUBLIC = frozenset({"public"})
READERS = frozenset({"officer", "admin", "subject"})
OFFICERS = frozenset({"officer", "admin"})
SESSION = frozenset({"portal session"})  # a subject signed in at /my; a bearer header opens nothing


@dataclass(frozen=True)
class Entry:
    """Who may call an endpoint, how to call it, and what an allowed call answers.

    ``roles``: the roles allowed (``public``: anyone, with any token or none). ``make(world,
    target)`` gives the keyword arguments of ``TestClient.request`` for a call about subject
    ``target``. ``scoped``: a subject token may call it only about itself.
    """

    roles: frozenset[str]
    make: Callable[[World, str], dict[str, Any]]
    ok: int = 200
    scoped: bool = False


def _get(path: str, **params: Any) -> Callable[[World, str], dict[str, Any]]:
    return lambda w, t: {"url": path.format(t=t), "params": {k: v.format(t=t) for k, v in params.items()}}


def _record(w: World, t: str) -> dict[str, Any]:
    rec = {
        "id": "matrix-court-1",
        "subject": w.listed,
        "category": "judicial.judgment_default",
        "source": "court",
        "occurred_at": "2018-06-01",
    }
    return {"url": "/v1/records", "json": {"records": [rec]}}


def _objection(t: str) -> dict[str, Any]:
    return {"subject": t, "records": ["matrix-no-such-record"], "grounds": "not mine"}


def _registry(w: World, t: str) -> dict[str, Any]:
    line = {"id": w.listed, "kind": "person", "name": "Person 4 (synthetic)", "profession": "teacher"}
    return {"url": "/v1/registry", "json": {"lines": [line]}}


#: (method, path) -> entry, for every route the app serves.
MATRIX: dict[tuple[str, str], Entry] = {
    # the API (docs/api.md)
    ("GET", "/v1/health"): Entry(PUBLIC, _get("/v1/health")),
    ("GET", "/v1/public/search"): Entry(PUBLIC, _get("/v1/public/search", q="Person")),
    ("GET", "/v1/decisions"): Entry(
        READERS, _get("/v1/decisions", subject="{t}", action="travel.flight"), scoped=True
    ),
    ("GET", "/v1/subjects/{subject_id}"): Entry(READERS, _get("/v1/subjects/{t}"), scoped=True),
    ("GET", "/v1/subjects/{subject_id}/explanation"): Entry(
        READERS, _get("/v1/subjects/{t}/explanation"), scoped=True
    ),
    ("GET", "/v1/subjects/{subject_id}/records"): Entry(
        READERS, _get("/v1/subjects/{t}/records"), scoped=True
    ),
    ("GET", "/v1/lists"): Entry(frozenset({"officer", "admin"}), _get("/v1/lists")),
    ("GET", "/v1/lists/{list_id}"): Entry(
        frozenset({"officer", "admin"}), _get("/v1/lists/judgment_defaulters")
    ),
    ("POST", "/v1/records"): Entry(frozenset({"source", "admin"}), _record),
    ("POST", "/v1/registry"): Entry(frozenset({"admin"}), _registry),
    ("GET", "/v1/tokens"): Entry(frozenset({"admin"}), _get("/v1/tokens")),
    ("POST", "/v1/tokens"): Entry(
        frozenset({"admin"}), lambda w, t: {"url": "/v1/tokens", "json": {"role": "officer"}}, ok=201
    ),
    ("DELETE", "/v1/tokens/{token_id}"): Entry(  # no such token: 404 for the admin, not 401/403
        frozenset({"admin"}), lambda w, t: {"url": "/v1/tokens/0123456789ab"}, ok=404
    ),
    ("GET", "/v1/audit"): Entry(frozenset({"admin"}), _get("/v1/audit")),
    ("GET", "/v1/subjects/{subject_id}/proofs"): Entry(READERS, _get("/v1/subjects/{t}/proofs"), scoped=True),
    ("GET", "/v1/tree-heads"): Entry(PUBLIC, _get("/v1/tree-heads")),
    ("GET", "/v1/tree-heads/consistency"): Entry(
        PUBLIC, _get("/v1/tree-heads/consistency", old="1", new="3")
    ),
    # due process (docs/dueprocess.md)
    ("GET", "/v1/notices"): Entry(READERS, _get("/v1/notices", subject="{t}"), scoped=True),
    ("POST", "/v1/notices/issue"): Entry(OFFICERS, lambda w, t: {"url": "/v1/notices/issue", "json": {}}),
    ("GET", "/v1/dueprocess/decisions"): Entry(
        READERS, _get("/v1/dueprocess/decisions", subject="{t}", action="travel.flight"), scoped=True
    ),
    ("GET", "/v1/objections"): Entry(READERS, _get("/v1/objections", subject="{t}"), scoped=True),
    ("POST", "/v1/objections"): Entry(  # past the role and own-file checks: 422 for a record not there
        READERS, lambda w, t: {"url": "/v1/objections", "json": _objection(t)}, ok=422, scoped=True
    ),
    ("GET", "/v1/objections/{objection_id}"): Entry(READERS, _get("/v1/objections/obj-nothing"), ok=404),
    ("POST", "/v1/objections/{objection_id}/review"): Entry(
        OFFICERS, lambda w, t: {"url": "/v1/objections/obj-nothing/review", "json": {}}, ok=404
    ),
    ("POST", "/v1/objections/{objection_id}/decision"): Entry(
        OFFICERS,
        lambda w, t: {
            "url": "/v1/objections/obj-nothing/decision",
            "json": {"outcome": "rejected", "reasons": "matrix"},
        },
        ok=404,
    ),
    # citizen reports held for review (docs/security.md, issue #16 item 5)
    ("GET", "/v1/reports"): Entry(OFFICERS, _get("/v1/reports")),
    ("POST", "/v1/reports/{record_id}/decision"): Entry(  # no such record: 404 past the role check
        OFFICERS,
        lambda w, t: {
            "url": "/v1/reports/matrix-no-such-report/decision",
            "json": {"outcome": "rejected", "reasons": "matrix"},
        },
        ok=404,
    ),
    # FastAPI's own
    ("GET", "/openapi.json"): Entry(PUBLIC, _get("/openapi.json")),
    ("GET", "/docs"): Entry(PUBLIC, _get("/docs")),
    ("GET", "/docs/oauth2-redirect"): Entry(PUBLIC, _get("/docs/oauth2-redirect")),
    # the portal (docs/portal.md): public pages; the Authorization header plays no part
    ("GET", "/static/portal.css"): Entry(PUBLIC, _get("/static/portal.css")),
    ("GET", "/report"): Entry(PUBLIC, _get("/report"), ok=404),  # no report beside this ledger
    ("GET", "/"): Entry(PUBLIC, _get("/", q="Person")),
    ("GET", "/search"): Entry(PUBLIC, _get("/search", q="Person")),
    ("GET", "/search.json"): Entry(PUBLIC, _get("/search.json", q="Person")),
    ("GET", "/entity/{key}"): Entry(PUBLIC, _get("/entity/nokey"), ok=404),
    ("GET", "/entity/{key}.json"): Entry(PUBLIC, _get("/entity/nokey.json"), ok=404),
    ("GET", "/lists"): Entry(PUBLIC, _get("/lists")),
    ("GET", "/lists.json"): Entry(PUBLIC, _get("/lists.json")),
    ("GET", "/scoreboard"): Entry(PUBLIC, _get("/scoreboard")),
    ("GET", "/scoreboard.json"): Entry(PUBLIC, _get("/scoreboard.json")),
    ("GET", "/stories"): Entry(PUBLIC, _get("/stories")),
    ("GET", "/stories.json"): Entry(PUBLIC, _get("/stories.json")),
    ("GET", "/counter"): Entry(PUBLIC, _get("/counter", subject="{t}", action="travel.flight")),
    ("GET", "/counter.json"): Entry(PUBLIC, _get("/counter.json", subject="{t}", action="travel.flight")),
    ("GET", "/try"): Entry(PUBLIC, _get("/try")),
    ("GET", "/try.json"): Entry(PUBLIC, _get("/try.json")),
    # /my reads the session cookie only (a bearer header opens nothing): the sign-in form
    ("GET", "/my"): Entry(PUBLIC, _get("/my")),
    ("GET", "/my.json"): Entry(SESSION, _get("/my.json")),  # only with a session cookie, else 401
    ("POST", "/my/signin"): Entry(PUBLIC, lambda w, t: {"url": "/my/signin", "data": {"token": ""}}, ok=401),
    ("GET", "/transparency"): Entry(PUBLIC, _get("/transparency")),
    ("GET", "/transparency.json"): Entry(PUBLIC, _get("/transparency.json")),
    ("GET", "/my/objections"): Entry(PUBLIC, _get("/my/objections")),  # the sign-in form
    ("GET", "/my/objections.json"): Entry(SESSION, _get("/my/objections.json")),
    ("GET", "/my/proofs.json"): Entry(SESSION, _get("/my/proofs.json")),
    ("POST", "/my/objections"): Entry(
        SESSION, lambda w, t: {"url": "/my/objections", "data": {"grounds": "x"}}
    ),
    ("POST", "/my/signout"): Entry(
        PUBLIC, lambda w, t: {"url": "/my/signout", "follow_redirects": False}, ok=303
    ),
}


def app_routes(app: Any) -> dict[tuple[str, str], Any]:
    """Every (method, path) the application serves (HEAD left out: Starlette adds it to GET),
    walking into included routers (FastAPI keeps them as wrappers of the original router)."""
    out: dict[tuple[str, str], Any] = {}

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes, prefix + getattr(route.include_context, "prefix", ""))
            elif isinstance(route, Route | APIRoute) and route.methods:
                for method in route.methods - {"HEAD"}:
                    out[(method, prefix + route.path)] = route

    walk(app.routes, "")
    return out


def enforced_roles(route: Any) -> frozenset[str] | None:
    """The roles the route's ``require`` dependency lets through (``public`` for none); ``None``
    for a route without one (FastAPI's own and the portal's)."""
    if not isinstance(route, APIRoute):
        return None
    for dep in route.dependant.dependencies:
        roles = getattr(dep.call, "roles", None)
        if roles is not None:
            return frozenset(roles) or PUBLIC
    return None


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> World:
    return build_world(tmp_path_factory.mktemp("access"), tiny)


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with world.client() as c:
        yield c


def headers(world: World, caller: str) -> dict[str, str]:
    if caller == "none":
        return {}
    if caller == "garbage":
        return {"Authorization": "Bearer sct_0123456789ab_" + "x" * 43}
    return world.auth(caller)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


# -- the matrix covers the app -----------------------------------------------------------------------


def test_every_route_has_an_entry_in_the_matrix(world: World) -> None:
    routes = app_routes(create_app(world.settings()))
    missing = sorted(set(routes) - set(MATRIX))
    assert not missing, f"routes with no entry in the access matrix (add one to MATRIX): {missing}"
    stale = sorted(set(MATRIX) - set(routes))
    assert not stale, f"entries for routes the app no longer serves: {stale}"
    for key, route in routes.items():
        enforced = enforced_roles(route)
        if enforced is not None:
            assert enforced == MATRIX[key].roles, (key, enforced, MATRIX[key].roles)


# -- every caller on every endpoint ----------------------------------------------------------------


def _targets(world: World, entry: Entry, caller: str) -> list[tuple[str, bool]]:
    """(subject asked about, whether the caller may ask about it)."""
    if not entry.scoped or ROLE_OF.get(caller) != "subject":
        return [(world.listed, True)]
    own = world.listed if caller == "subject" else world.plain
    other = world.plain if caller == "subject" else world.listed
    return [(own, True), (other, False), (world.stranger, False)]


@pytest.mark.parametrize("method,path", sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)])
def test_every_caller_on_every_endpoint(client: TestClient, world: World, method: str, path: str) -> None:
    entry = MATRIX[(method, path)]
    tried = 0
    for caller in CALLERS:
        role = ROLE_OF.get(caller)
        for target, own in _targets(world, entry, caller):
            response = client.request(method, headers=headers(world, caller), **entry.make(world, target))
            tried += 1
            where = (method, path, caller, target)
            if entry.roles == SESSION:  # a bearer header opens no portal session
                assert response.status_code == 401, (where, response.text[:200])
                if response.headers["content-type"].startswith("application/json"):
                    assert response.json()["error"]["code"] == "not_signed_in"
            elif "public" in entry.roles or (role in entry.roles and own):
                assert response.status_code == entry.ok, (where, response.text[:300])
            elif role is None:
                error = assert_error(response, 401)
                assert error["code"].startswith(("token_", "not_signed_in")), where
            elif role in entry.roles:  # a subject asking about another subject
                assert_error(response, 403, "not_your_file")
            else:
                assert_error(response, 403, "forbidden")
    assert tried >= len(CALLERS)


def test_a_source_writes_only_for_itself(client: TestClient, world: World) -> None:
    body = _record(world, world.listed)["json"]
    body["records"][0]["id"] = "matrix-court-by-traffic"
    out = client.post("/v1/records", json=body, headers=world.auth("traffic")).json()
    assert (out["accepted"], out["rejected"]) == (0, 1)
    assert out["rejects"][0]["reason"] == "unauthorized_source"
    assert "traffic_police" in out["rejects"][0]["message"]
    records = client.get(f"/v1/subjects/{world.listed}/records", headers=world.auth("officer")).json()
    assert "matrix-court-by-traffic" not in {r["id"] for r in records["records"]}


def test_only_a_subject_token_opens_a_portal_session(client: TestClient, world: World) -> None:
    for caller in ("admin", "officer", "court", "expired", "revoked", "garbage", "subject"):
        bearer = headers(world, caller)["Authorization"].removeprefix("Bearer ")
        with TestClient(client.app, raise_server_exceptions=False) as fresh:
            signin = fresh.post("/my/signin", data={"token": bearer}, follow_redirects=False)
            mine = fresh.get("/my.json")
        if caller == "subject":
            assert signin.status_code == 303 and mine.status_code == 200
            assert mine.json()["id"] == world.listed
        else:
            assert signin.status_code == 401 and mine.status_code == 401, caller


# -- expiry and revocation ---------------------------------------------------------------------------


def test_a_token_stops_working_when_it_expires(tmp_path: Path, tiny: Any) -> None:
    world = build_world(tmp_path, tiny)
    with open_ledger(world.db) as ledger:
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
        _, bearer = create_token(ledger, role="officer", expires=soon.isoformat())
    auth = {"Authorization": f"Bearer {bearer}"}
    with world.client(warm=False) as client:
        assert client.get("/v1/tokens", headers=auth).status_code == 403  # valid: an officer
        time.sleep(max(0.0, (soon - dt.datetime.now(dt.UTC)).total_seconds()) + 0.2)
        assert_error(client.get("/v1/tokens", headers=auth), 401, "token_expired")


def test_revocation_through_the_api_is_immediate_and_through_the_cli_within_the_cache(
    tmp_path: Path, tiny: Any
) -> None:
    world = build_world(tmp_path, tiny)
    with open_ledger(world.db) as ledger:
        first, a = create_token(ledger, role="officer")
        second, b = create_token(ledger, role="officer")
    with world.client(warm=False, token_cache_seconds=0.5) as client:
        for bearer in (a, b):
            assert client.get("/v1/lists", headers={"Authorization": f"Bearer {bearer}"}).status_code == 200
        assert client.delete(f"/v1/tokens/{first.id}", headers=world.auth("admin")).status_code == 200
        assert_error(client.get("/v1/lists", headers={"Authorization": f"Bearer {a}"}), 401, "token_revoked")
        with open_ledger(world.db) as ledger:  # as `socialcredit token revoke` does
            revoke_token(ledger, second.id)
        time.sleep(0.6)
        assert_error(client.get("/v1/lists", headers={"Authorization": f"Bearer {b}"}), 401, "token_revoked")


# -- request size limits -----------------------------------------------------------------------------


def test_bodies_and_batches_over_the_limits_get_413(tmp_path: Path, tiny: Any) -> None:
    world = build_world(tmp_path, tiny)
    with world.client(warm=False, max_body_bytes=4096, max_batch=3) as client:
        admin = world.auth("admin")
        big = {"records": [tiny.record(i) for i in range(60)]}
        assert_error(client.post("/v1/records", json=big, headers=admin), 413, "payload_too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts the streamed body
            data = json.dumps(big).encode()
            for i in range(0, len(data), 1000):
                yield data[i : i + 1000]

        streamed = client.post(
            "/v1/records", content=chunks(), headers={**admin, "content-type": "application/json"}
        )
        assert_error(streamed, 413, "payload_too_large")
        four = {"records": [tiny.record(i) for i in range(4)]}
        assert_error(client.post("/v1/records", json=four, headers=admin), 413, "batch_too_large")
        lines = {"lines": tiny.subjects[:4]}
        assert_error(client.post("/v1/registry", json=lines, headers=admin), 413, "batch_too_large")
        with open_ledger(world.db) as ledger:
            assert ledger.counts()["records"] == 3  # the world's own: nothing of the refused batches


# -- rate limiting ------------------------------------------------------------------------------------


def test_the_rate_limit_counts_each_token_apart(tmp_path: Path, tiny: Any) -> None:
    world = build_world(tmp_path, tiny)
    with world.client(rate_limit_per_token=3) as client:  # today's evaluation made at start-up
        officer = world.auth("officer")
        statuses = [client.get("/v1/lists", headers=officer).status_code for _ in range(10)]
        assert statuses[:3] == [200, 200, 200] and 429 in statuses and set(statuses) == {200, 429}
        refused = client.get("/v1/lists", headers=officer)
        error = assert_error(refused, 429, "rate_limited")
        assert "retry after" in error["message"]
        assert int(refused.headers["retry-after"]) >= 1
        assert client.get("/v1/lists", headers=world.auth("admin")).status_code == 200  # its own bucket
        anonymous = [client.get("/v1/health").status_code for _ in range(10)]
        assert anonymous[:3] == [200, 200, 200] and 429 in anonymous  # without a token: by address
        time.sleep(1.1)
        assert client.get("/v1/lists", headers=officer).status_code == 200  # refilled


def test_the_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limit = RateLimit(None, per_second=10, burst=5, clock=lambda: now[0], max_callers=4)
    assert [limit.take(b"a") for _ in range(5)] == [0.0] * 5
    assert limit.take(b"a") == pytest.approx(0.1)
    now[0] += 0.25  # 2.5 requests' worth
    assert [limit.take(b"a") == 0.0 for _ in range(3)] == [True, True, False]
    for k in range(10):  # many callers: the table stays bounded
        limit.take(bytes([k]))
        now[0] += 1.0
    assert len(limit._buckets) <= 4
    off = RateLimit(None, per_second=0)
    assert off.rate == 0  # __call__ passes everything through

    def key(path: str, token: bytes | None, host: str = "10.0.0.1") -> bytes:
        headers = [(b"authorization", b"Bearer " + token)] if token else []
        return RateLimit.caller({"path": path, "headers": headers, "client": (host, 1)})

    assert key("/v1/lists", b"sct_x_secret") != key("/v1/lists", b"sct_x_other")  # a bucket per token
    assert b"secret" not in key("/v1/lists", b"sct_x_secret")  # kept as a hash
    assert key("/v1/lists", None) == key("/v1/lists", None) != key("/v1/lists", None, "10.0.0.2")
    for public in ("/v1/public/search", "/v1/health", "/search.json", "/my", "/v1/tree-heads"):
        assert key(public, b"made-up-1") == key(public, b"made-up-2") == key(public, None)  # by address


def test_the_default_rate_limit_is_above_what_the_benchmarks_apply(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    db.write_bytes(b"")
    default = Settings(db=db).rate_limit_per_token
    applied = [1000.0]  # at least this: bench_api's decisions rate on a faster machine
    for name in ("api.json", "load.json"):
        path = ROOT / "bench" / "results" / name
        if path.exists():
            data = json.loads(path.read_text())
            runs = data.get("runs", {})
            applied += [r.get("rps", 0.0) for r in runs.values() if isinstance(r, dict)]
            applied.append(float(data.get("per_token_rps_max", 0.0)))
    assert default >= 2 * max(applied)  # with room to spare on a faster machine


# -- no secret in any log ---------------------------------------------------------------------------


@pytest.mark.slow
def test_no_token_secret_is_ever_written_to_a_log(
    tmp_path: Path, tiny: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    world = build_world(tmp_path, tiny)
    caplog.set_level(logging.DEBUG)  # every logger, every level
    secrets_seen: list[str] = []
    with world.client(audit_flush_ms=10) as client:
        made = client.post(
            "/v1/tokens", json={"role": "officer", "label": "fresh"}, headers=world.auth("admin")
        )
        fresh = made.json()["token"]
        bearers = [*world.tokens.values(), fresh, "sct_0123456789ab_" + "s" * 43]
        for bearer in bearers:
            auth = {"Authorization": f"Bearer {bearer}"}
            for (method, _path), entry in MATRIX.items():
                client.request(method, headers=auth, **entry.make(world, world.listed))
            client.post("/my/signin", data={"token": bearer}, follow_redirects=False)
            client.get("/my.json")
            client.post("/my/signout")
        # a bug answered with 500, logged with its traceback, while a token is in the request
        app_state = client.app.state.service  # type: ignore[attr-defined]
        original = app_state.ledger.records_of

        def boom(subject: str) -> Any:
            raise RuntimeError("injected failure")

        app_state.ledger.records_of = boom
        try:
            failed = client.get(f"/v1/subjects/{world.listed}/records", headers=world.auth("officer"))
        finally:
            app_state.ledger.records_of = original
        assert failed.status_code == 500
        for bearer in bearers:
            secrets_seen.append(bearer.split("_", 2)[2])
    logged = "\n".join(
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
    )
    assert "unhandled error" in logged and "injected failure" in logged  # the capture works
    out, err = capfd.readouterr()
    with sa.create_engine(f"sqlite:///{world.db}").connect() as conn:
        audit = json.dumps([list(r) for r in conn.exec_driver_sql("SELECT * FROM audit_log")], default=str)
        quarantine = json.dumps([list(r) for r in conn.exec_driver_sql("SELECT * FROM quarantine")])
    assert audit.count("token_create") >= 1 and len(audit) > 1000  # the audit log was written
    for secret in secrets_seen:
        for name, text in (("log", logged), ("stdout", out), ("stderr", err), ("audit", audit)):
            assert secret not in text, f"a token secret in the {name}"
        assert secret not in quarantine
    assert not re.search(r"sct_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}", logged + out + err + audit + quarantine)
    print(f"no secret in logs: {len(caplog.records)} log records, {len(secrets_seen)} tokens tried")


@pytest.mark.slow
def test_no_token_secret_in_a_real_servers_logs(tmp_path: Path, tiny: Any) -> None:
    """``socialcredit serve --access-log`` in its own process: what it prints while every token
    is used (and refused) holds no secret."""
    import socket
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    world = build_world(tmp_path, tiny)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-c", "from socialcredit.cli import main; main()", "serve", "--db", str(world.db),
            "--port", str(port), "--today", "2019-06-01", "--access-log"]  # fmt: skip
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"{base}/v1/health", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            bearers = [*world.tokens.values(), "sct_0123456789ab_" + "q" * 43]
            for bearer in bearers:
                for path in ("/v1/lists", f"/v1/subjects/{world.listed}", "/v1/tokens", "/v1/audit"):
                    request = urllib.request.Request(
                        base + path, headers={"Authorization": f"Bearer {bearer}"}
                    )
                    with contextlib.suppress(urllib.error.HTTPError):
                        urllib.request.urlopen(request, timeout=30).close()
                signin = urllib.request.Request(
                    base + "/my/signin", data=f"token={bearer}".encode(), method="POST"
                )
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(signin, timeout=30).close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text("utf-8", "replace")
    assert "GET /v1/lists" in text  # the access log was on and captured
    for bearer in bearers:
        assert bearer.split("_", 2)[2] not in text


def test_the_limits_module_docstring_example_runs() -> None:
    import doctest

    from socialcredit.service import limits

    result = doctest.testmod(limits, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed
