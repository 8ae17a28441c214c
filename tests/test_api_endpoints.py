"""The HTTP API against the app (FastAPI's test client): every endpoint and role, the one error
shape, masking on the public search, partial success of writes, refreshing after a write."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service_world import TODAY, TestClient, World, build_world
from socialcredit import ids
from socialcredit.engine import Engine
from socialcredit.ledger import open_ledger
from socialcredit.service.tokens import revoke_token

ROLES = ("admin", "officer", "court", "subject", "other_subject")
BAD_TOKENS = ("none", "expired", "revoked", "garbage")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, tiny: Any, make_module_db: Any) -> World:
    return build_world(tmp_path_factory.mktemp("api"), tiny, make_module_db())


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with world.client() as c:
        yield c


@pytest.fixture
def fresh(tmp_path: Path, tiny: Any, make_db: Any) -> Iterator[tuple[World, TestClient]]:
    """A world and client of their own, for tests that write (on each backend)."""
    world = build_world(tmp_path, tiny, make_db())
    with world.client() as c:
        yield world, c


def headers(world: World, who: str) -> dict[str, str]:
    if who == "none":
        return {}
    if who == "garbage":
        return {"Authorization": "Bearer sct_0123456789ab_" + "x" * 43}
    return world.auth(who)


def call(client: TestClient, method: str, path: str, who_headers: dict[str, str], body: Any = None) -> Any:
    return client.request(method, path, headers=who_headers, json=body)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape: exactly {"error": {"code": str, "message": str}}, as JSON."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


# -- the role matrix -------------------------------------------------------------------------------

# (method, path template, body, roles allowed, success status); {listed} is filled in per world.
ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...], int]] = [
    (
        "GET",
        "/v1/decisions?subject={listed}&action=travel.flight",
        None,
        ("admin", "officer", "subject"),
        200,
    ),
    ("GET", "/v1/subjects/{listed}", None, ("admin", "officer", "subject"), 200),
    ("GET", "/v1/subjects/{listed}/explanation", None, ("admin", "officer", "subject"), 200),
    ("GET", "/v1/subjects/{listed}/records", None, ("admin", "officer", "subject"), 200),
    ("GET", "/v1/lists", None, ("admin", "officer"), 200),
    ("GET", "/v1/lists/judgment_defaulters", None, ("admin", "officer"), 200),
    ("POST", "/v1/records", {"records": []}, ("admin", "court"), 200),
    ("POST", "/v1/registry", {"lines": []}, ("admin",), 200),
    ("GET", "/v1/tokens", None, ("admin",), 200),
    ("POST", "/v1/tokens", {"role": "officer", "label": "matrix"}, ("admin",), 201),
    ("DELETE", "/v1/tokens/000000000000", None, ("admin",), 404),
    ("GET", "/v1/audit", None, ("admin",), 200),
]
PUBLIC_ENDPOINTS = ["/v1/public/search?q=Person", "/v1/health"]


@pytest.mark.parametrize("method,path,body,allowed,ok", ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_every_role_on_every_endpoint(
    client: TestClient, world: World, method: str, path: str, body: Any, allowed: tuple[str, ...], ok: int
) -> None:
    path = path.format(listed=world.listed)
    for role in ROLES:
        response = call(client, method, path, world.auth(role), body)
        if role in allowed:
            assert response.status_code == ok, (role, response.text)
        else:
            assert_error(response, 403)
    for bad in BAD_TOKENS:
        error = assert_error(call(client, method, path, headers(world, bad), body), 401)
        assert error["code"].startswith("token_")


def test_unauthenticated_responses_challenge_for_a_bearer_token(client: TestClient, world: World) -> None:
    response = client.get("/v1/lists")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(
        client.get("/v1/lists", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "token_missing"
    )
    assert (
        assert_error(client.get("/v1/lists", headers=headers(world, "expired")), 401)["code"]
        == "token_expired"
    )
    assert (
        assert_error(client.get("/v1/lists", headers=headers(world, "revoked")), 401)["code"]
        == "token_revoked"
    )
    assert (
        assert_error(client.get("/v1/lists", headers=headers(world, "garbage")), 401)["code"]
        == "token_unknown"
    )


@pytest.mark.parametrize("path", PUBLIC_ENDPOINTS)
def test_public_endpoints_need_no_token(client: TestClient, world: World, path: str) -> None:
    for who in (*ROLES, *BAD_TOKENS):
        assert client.get(path, headers=headers(world, who)).status_code == 200


# -- a subject reads only its own file ---------------------------------------------------------------

FILE_PATHS = [
    "/v1/subjects/{s}",
    "/v1/subjects/{s}/explanation",
    "/v1/subjects/{s}/records",
    "/v1/decisions?subject={s}&action=travel.flight",
]


@pytest.mark.parametrize("template", FILE_PATHS)
def test_a_subject_never_reads_another_subjects_file(client: TestClient, world: World, template: str) -> None:
    own = client.get(template.format(s=world.listed), headers=world.auth("subject"))
    assert own.status_code == 200
    for other in (world.rep, world.company, world.plain, world.stranger, "nobody"):
        error = assert_error(
            client.get(template.format(s=other), headers=world.auth("subject")), 403, "not_your_file"
        )
        assert other not in error["message"]


def test_refused_reads_of_a_file_are_audited(client: TestClient, world: World) -> None:
    client.get(f"/v1/subjects/{world.rep}", headers=world.auth("subject"))
    entries = client.get(
        "/v1/audit", params={"subject": world.rep, "limit": 1000}, headers=world.auth("admin")
    ).json()
    refused = [e for e in entries if e["status"] == 403 and e["token_id"] == world.token_ids["subject"]]
    assert refused and refused[-1]["action"] == "read_subject"


# -- what the endpoints answer -------------------------------------------------------------------------


def test_get_decision_matches_the_engine(client: TestClient, world: World, tiny: Any) -> None:
    from service_world import records
    from socialcredit.records import records_table
    from socialcredit.registry import Registry

    ev = Engine(["national"]).evaluate(
        records_table(records(tiny)), Registry.from_lines(tiny.registry), TODAY
    )
    for subject in (world.listed, world.rep, world.plain):
        for action in ("travel.flight", "travel.high_speed_rail", "finance.loan"):
            got = client.get(
                "/v1/decisions", params={"subject": subject, "action": action}, headers=world.auth("officer")
            )
            assert got.status_code == 200
            assert got.json() == ev.decide(subject, action).to_dict()
    denied = client.get(
        "/v1/decisions",
        params={"subject": world.rep, "action": "travel.flight"},
        headers=world.auth("officer"),
    ).json()
    assert denied["outcome"] == "denied"
    assert denied["reasons"][0]["via"] == {"relation": "legal_representative_of", "from": world.company}


def test_get_decision_on_a_past_day(client: TestClient, world: World) -> None:
    before = client.get(
        "/v1/decisions",
        params={"subject": world.listed, "action": "travel.flight", "on": "2018-01-01"},
        headers=world.auth("officer"),
    )
    assert before.json()["outcome"] == "allowed" and before.json()["on"] == "2018-01-01"
    error = assert_error(
        client.get(
            "/v1/decisions",
            params={"subject": world.listed, "action": "travel.flight", "on": "2010-01-01"},
            headers=world.auth("officer"),
        ),
        422,
        "cannot_evaluate",
    )
    assert "no version in force" in error["message"]


def test_get_decision_unknown_subject_and_action(client: TestClient, world: World) -> None:
    officer = world.auth("officer")
    assert_error(
        client.get(
            "/v1/decisions", params={"subject": world.stranger, "action": "travel.flight"}, headers=officer
        ),
        404,
        "unknown_subject",
    )
    assert_error(
        client.get(
            "/v1/decisions", params={"subject": world.listed, "action": "travel.teleport"}, headers=officer
        ),
        422,
        "unknown_action",
    )


def test_get_subject_file(client: TestClient, world: World) -> None:
    got = client.get(f"/v1/subjects/{world.listed}", headers=world.auth("officer")).json()
    assert got["id"] == world.listed and got["kind"] == "person" and got["as_of"] == TODAY
    assert {(x["rulebook"], x["list"]) for x in got["lists"]} >= {("national", "judgment_defaulters")}
    assert got["outcomes"]["travel.flight"] == "denied"
    assert "disclose.credit_website" in got["disclosed"]
    assert any(m["effect"] == "deny" and "travel.flight" in m["actions"] for m in got["measures"])
    plain = client.get(f"/v1/subjects/{world.plain}", headers=world.auth("other_subject")).json()
    assert plain["lists"] == [] and plain["outcomes"] == {} and plain["disclosed"] == []
    assert_error(
        client.get(f"/v1/subjects/{world.stranger}", headers=world.auth("officer")), 404, "unknown_subject"
    )


def test_get_subject_explanation_and_records(client: TestClient, world: World) -> None:
    ex = client.get(f"/v1/subjects/{world.rep}/explanation", headers=world.auth("officer")).json()
    assert ex["subject"] == world.rep and ex["rulebooks"][0]["rulebook"] == "national"
    assert "judgment_defaulters" in ex["text"] and world.company in ex["text"]
    recs = client.get(f"/v1/subjects/{world.listed}/records", headers=world.auth("subject")).json()
    assert [r["id"] for r in recs["records"]] == ["w-def-1"]
    assert recs["records"][0]["seq"] >= 1


def test_get_lists_and_one_list(client: TestClient, world: World) -> None:
    lists = client.get("/v1/lists", headers=world.auth("officer")).json()
    sizes = {(x["rulebook"], x["id"]): x["size"] for x in lists["lists"]}
    assert sizes[("national", "judgment_defaulters")] == 3
    one = client.get("/v1/lists/judgment_defaulters", headers=world.auth("officer")).json()
    assert {m["subject"] for m in one["members"]} == {world.listed, world.rep, world.company}
    rep = next(m for m in one["members"] if m["subject"] == world.rep)
    assert rep["via"] == "legal_representative_of" and rep["name"].endswith("(synthetic)")
    page = client.get(
        "/v1/lists/judgment_defaulters", params={"offset": 1, "limit": 1}, headers=world.auth("officer")
    ).json()
    assert page["members"] == one["members"][1:2]
    assert_error(client.get("/v1/lists/no_such_list", headers=world.auth("officer")), 404, "unknown_list")
    assert_error(
        client.get(
            "/v1/lists/judgment_defaulters", params={"rulebook": "rongcheng"}, headers=world.auth("officer")
        ),
        404,
        "unknown_list",
    )


def test_public_search_shows_only_what_is_published_with_ids_masked(
    client: TestClient, world: World, tiny: Any
) -> None:
    names = {s["id"]: s["name"] for s in tiny.subjects}
    by_name = client.get("/v1/public/search", params={"q": names[world.listed]}).json()
    assert [h["id_masked"] for h in by_name["results"]] == [ids.mask_identifier(world.listed)]
    masked = by_name["results"][0]["id_masked"]
    assert masked[:4] == world.listed[:4] and masked[-4:] == world.listed[-4:]
    assert set(masked[4:-4]) == {"*"} and len(masked) == len(world.listed)
    hit = by_name["results"][0]
    assert {p["channel"] for p in hit["published"]} == {"disclose.credit_website"}
    assert any(p["list"] == "judgment_defaulters" for p in hit["published"])
    # by identifier: the representative is published through the company, whose code is masked too
    rep = client.get("/v1/public/search", params={"q": world.rep}).json()
    assert len(rep["results"]) == 1 and rep["q"] == ids.mask_identifier(world.rep)
    via = [p["via"] for p in rep["results"][0]["published"] if p["via"]]
    assert via and via[0]["from"] == ids.mask_identifier(world.company)
    # by credit code
    assert len(client.get("/v1/public/search", params={"q": world.company}).json()["results"]) == 1
    # nobody unlisted is shown, and no full identifier appears anywhere
    assert client.get("/v1/public/search", params={"q": world.plain}).json()["results"] == []
    everyone = client.get("/v1/public/search", params={"q": "synthetic"})
    assert len(everyone.json()["results"]) == 3
    for subject in tiny.subjects:
        assert subject["id"] not in everyone.text and subject["id"] not in json.dumps(rep)
    assert_error(client.get("/v1/public/search", params={"q": "x"}), 422)


def test_health(client: TestClient) -> None:
    assert client.get("/v1/health").json() == {"status": "ok", "rulebooks": ["national"], "today": TODAY}


# -- writes ---------------------------------------------------------------------------------------


def test_post_records_partial_success_in_the_ingest_shape(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    plain = world.plain
    batch = [
        {
            "id": "p-1",
            "subject": plain,
            "category": "judicial.judgment_default",
            "source": "court",
            "occurred_at": "2019-01-02",
        },
        {
            "id": "p-2",
            "subject": plain,
            "category": "traffic.red_light",
            "source": "traffic_police",
            "occurred_at": "2019-01-02",
        },
        {
            "id": "p-3",
            "subject": plain,
            "category": "traffic.red_light",
            "source": "court",
            "occurred_at": "2019-01-02",
        },
        {"id": "p-4", "subject": plain},
        {
            "id": "w-def-1",
            "subject": world.listed,
            "category": "judicial.judgment_default",
            "source": "court",
            "occurred_at": "2018-06-01",
        },
        {
            "id": "w-def-1",
            "subject": world.listed,
            "category": "judicial.hiding_assets",
            "source": "court",
            "occurred_at": "2018-06-01",
        },
        {
            "id": "p-5",
            "subject": plain,
            "category": "judicial.judgment_default",
            "source": "court",
            "occurred_at": "2019-07-01",
        },
        {
            "id": "p-6",
            "subject": world.stranger,
            "category": "judicial.judgment_default",
            "source": "court",
            "occurred_at": "2019-01-01",
        },
    ]
    response = client.post("/v1/records", json={"records": batch}, headers=world.auth("court"))
    assert response.status_code == 200
    got = response.json()
    assert (got["accepted"], got["duplicates"], got["rejected"]) == (1, 1, 6)
    reasons = {r["line"]: (r["id"], r["reason"]) for r in got["rejects"]}
    assert reasons == {
        2: ("p-2", "unauthorized_source"),
        3: ("p-3", "unauthorized_source"),
        4: ("p-4", "missing_field"),
        6: ("w-def-1", "conflict"),
        7: ("p-5", "future"),
        8: ("p-6", "unknown_subject"),
    }
    messages = {r["line"]: r["message"] for r in got["rejects"]}
    assert "writes for source 'court' only" in messages[2]
    assert "may not report 'traffic.red_light'" in messages[3]
    assert all(set(r) == {"line", "id", "reason", "message"} for r in got["rejects"])
    with open_ledger(world.db) as ledger:
        assert "p-1" in {r["id"] for r in ledger.records_of(plain)}
        quarantined = ledger.quarantine_rows("records")
    assert {q["record_id"] for q in quarantined} >= {"p-2", "p-3", "p-4", "w-def-1", "p-5", "p-6"}
    assert {q["file"] for q in quarantined} == {f"api:{world.token_ids['court']}"}


def test_post_records_as_admin_writes_for_any_source(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    rec = {
        "id": "a-1",
        "subject": world.plain,
        "category": "traffic.red_light",
        "source": "traffic_police",
        "occurred_at": "2019-01-02",
    }
    assert (
        client.post("/v1/records", json={"records": [rec]}, headers=world.auth("admin")).json()["accepted"]
        == 1
    )


def test_a_decision_changes_after_a_record_is_posted(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    ask = {"subject": world.plain, "action": "travel.flight"}
    officer = world.auth("officer")
    assert client.get("/v1/decisions", params=ask, headers=officer).json()["outcome"] == "allowed"
    rec = {
        "id": "c-1",
        "subject": world.plain,
        "category": "judicial.judgment_default",
        "source": "court",
        "occurred_at": "2019-02-01",
    }
    assert (
        client.post("/v1/records", json={"records": [rec]}, headers=world.auth("court")).json()["accepted"]
        == 1
    )
    after = client.get("/v1/decisions", params=ask, headers=officer).json()
    assert after["outcome"] == "denied" and after["reasons"][0]["since"] == "2019-02-01"


def test_the_subject_file_carries_pending_notices(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    officer = world.auth("officer")
    before = client.get(f"/v1/subjects/{world.listed}", headers=officer).json()
    assert before["notices"] == []  # listed long ago: the listing is in force, nothing pending
    rec = {
        "id": "c-notice",
        "subject": world.plain,
        "category": "judicial.judgment_default",
        "source": "court",
        "occurred_at": "2019-05-29",
    }
    assert client.post("/v1/records", json={"records": [rec]}, headers=world.auth("court")).json()["accepted"]
    got = client.get(f"/v1/subjects/{world.plain}", headers=world.auth("other_subject")).json()
    [n] = [x for x in got["notices"] if x["list"] == "judgment_defaulters"]
    assert (n["record"], n["issued"], n["takes_effect"], n["object_by"], n["status"]) == (
        "c-notice",
        "2019-05-29",
        "2019-06-08",
        "2019-06-07",
        "notice",
    )
    assert n["object_at"] == "/my/objections" and n["rulebook"] == "national"
    # the file itself is the original system's: listed on the record's day
    assert any(x["list"] == "judgment_defaulters" for x in got["lists"])
    # once the notice period is over the listing is in force: no longer a notice
    later = client.get(f"/v1/subjects/{world.plain}?on=2019-06-20", headers=officer).json()
    assert [x for x in later["notices"] if x["record"] == "c-notice"] == []


def test_post_registry_adds_subjects_and_relations(fresh: tuple[World, TestClient], tiny: Any) -> None:
    world, client = fresh
    newcomer = next(p for p in (ids.generate_resident_id(99, i) for i in range(50)) if p not in tiny.persons)
    lines = [
        {"id": newcomer, "kind": "person", "name": "Newcomer (synthetic)"},
        {"relation": "employee_of", "subject": newcomer, "object": world.company, "since": "2019-01-01"},
        {"id": "not-an-id", "kind": "person", "name": "X"},
        {"id": newcomer, "kind": "person", "name": "Newcomer (synthetic)"},
    ]
    got = client.post("/v1/registry", json={"lines": lines}, headers=world.auth("admin")).json()
    assert (got["accepted"], got["duplicates"], got["rejected"]) == (2, 1, 1)
    assert got["rejects"][0]["line"] == 3 and got["rejects"][0]["reason"] == "bad_identifier"
    profile = client.get(f"/v1/subjects/{newcomer}", headers=world.auth("officer"))
    assert profile.status_code == 200 and profile.json()["name"] == "Newcomer (synthetic)"


def test_tokens_made_listed_and_revoked_through_the_api(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    admin = world.auth("admin")
    made = client.post(
        "/v1/tokens", json={"role": "subject", "subject": world.plain, "label": "portal"}, headers=admin
    )
    assert made.status_code == 201
    body = made.json()
    assert body["token"].startswith(f"sct_{body['id']}_") and body["status"] == "active"
    mine = {"Authorization": f"Bearer {body['token']}"}
    assert client.get(f"/v1/subjects/{world.plain}", headers=mine).status_code == 200
    listed = client.get("/v1/tokens", headers=admin).json()
    assert body["id"] in {t["id"] for t in listed}
    assert body["token"] not in json.dumps(listed) and "secret_hash" not in json.dumps(listed)
    statuses = {t["label"]: t["status"] for t in listed}
    assert statuses["expired"] == "expired" and statuses["revoked"] == "revoked"
    revoked = client.delete(f"/v1/tokens/{body['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert_error(client.get(f"/v1/subjects/{world.plain}", headers=mine), 401, "token_revoked")
    assert_error(client.delete(f"/v1/tokens/{body['id']}", headers=admin), 409, "already_revoked")
    assert_error(client.delete("/v1/tokens/ffffffffffff", headers=admin), 404, "unknown_token")
    for bad in (
        {"role": "subject", "subject": world.stranger},
        {"role": "source"},
        {"role": "source", "source": "ministry_of_truth"},
        {"role": "officer", "source": "court"},
        {"role": "officer", "expires": "someday"},
        {"role": "officer", "expires": "2001-01-01"},
    ):
        assert_error(client.post("/v1/tokens", json=bad, headers=admin), 422, "invalid_token_request")
    assert_error(client.post("/v1/tokens", json={"role": "emperor"}, headers=admin), 422, "invalid_request")


def test_a_token_revoked_by_another_process_stops_working(world: World, tmp_path: Path, tiny: Any) -> None:
    fresh_world = build_world(tmp_path, tiny)
    with fresh_world.client(token_cache_seconds=0) as client:
        officer = fresh_world.auth("officer")
        assert client.get("/v1/lists", headers=officer).status_code == 200
        with open_ledger(fresh_world.db) as ledger:
            revoke_token(ledger, fresh_world.token_ids["officer"])
        assert_error(client.get("/v1/lists", headers=officer), 401, "token_revoked")


def test_reads_and_writes_are_audited(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    client.get(f"/v1/subjects/{world.listed}", headers=world.auth("officer"))
    client.get(
        "/v1/decisions",
        params={"subject": world.rep, "action": "travel.flight"},
        headers=world.auth("officer"),
    )
    client.post("/v1/records", json={"records": []}, headers=world.auth("court"))
    client.get("/v1/public/search", params={"q": "Person"})
    log = client.get("/v1/audit", params={"limit": 1000}, headers=world.auth("admin")).json()
    seen = {(e["role"], e["action"], e["subject"], e["token_id"]) for e in log}
    assert ("officer", "read_subject", world.listed, world.token_ids["officer"]) in seen
    assert ("officer", "decide", world.rep, world.token_ids["officer"]) in seen
    assert ("source", "write_records", None, world.token_ids["court"]) in seen
    assert ("public", "public_search", None, None) in seen
    decide = next(e for e in log if e["action"] == "decide")
    assert decide["detail"] == {"action": "travel.flight", "outcome": "denied"}
    only_rep = client.get("/v1/audit", params={"subject": world.rep}, headers=world.auth("admin")).json()
    assert {e["subject"] for e in only_rep} == {world.rep}
    dt.datetime.fromisoformat(log[0]["at"])


# -- one error shape -------------------------------------------------------------------------------


def test_one_error_shape_for_every_status(tmp_path: Path, tiny: Any) -> None:
    world = build_world(tmp_path, tiny)
    with world.client(max_body_bytes=4096, max_batch=3) as client:
        court, officer, admin = world.auth("court"), world.auth("officer"), world.auth("admin")
        assert_error(
            client.post(
                "/v1/records", content=b"{not json", headers={**court, "content-type": "application/json"}
            ),
            400,
            "malformed_json",
        )
        assert_error(client.get("/v1/lists"), 401, "token_missing")
        assert_error(client.get("/v1/lists", headers=court), 403, "forbidden")
        assert_error(client.get("/v1/no/such/path", headers=officer), 404, "not_found")
        assert_error(client.get(f"/v1/subjects/{world.stranger}", headers=officer), 404, "unknown_subject")
        assert_error(client.put("/v1/lists", headers=officer), 405, "method_not_allowed")
        assert_error(client.delete(f"/v1/tokens/{world.token_ids['revoked']}", headers=admin), 409)
        big = {"records": [{"id": "x" * 100, "subject": world.plain}] * 40}
        assert_error(client.post("/v1/records", json=big, headers=court), 413, "payload_too_large")

        def streamed() -> Iterator[bytes]:
            yield b'{"records": ['
            for _ in range(100):
                yield b'{"id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},'
            yield b"{}]}"

        assert_error(
            client.post(
                "/v1/records", content=streamed(), headers={**court, "content-type": "application/json"}
            ),
            413,
            "payload_too_large",
        )
        assert_error(
            client.post("/v1/records", json={"records": [{}] * 4}, headers=court), 413, "batch_too_large"
        )
        assert_error(client.get("/v1/decisions", headers=officer), 422, "invalid_request")
        assert_error(
            client.get(
                "/v1/decisions",
                params={"subject": world.listed, "action": "travel.flight", "on": "yesterday"},
                headers=officer,
            ),
            422,
        )
        assert_error(client.post("/v1/records", json={"rows": []}, headers=court), 422, "invalid_request")
        assert_error(client.post("/v1/records", json=[1, 2], headers=court), 422, "invalid_request")
