"""The published heads (``/v1/tree-heads``), a subject's proofs in the API and the portal."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.ledger import open_ledger, read_actions
from socialcredit.ledger.merkle import load_or_create_key, public_key_bytes
from socialcredit.ledger.proofs import check_proofs, sign_heads
from socialcredit.service import Settings, create_app
from socialcredit.service.tokens import create_token

KEY = load_or_create_key(Path(tempfile.mkdtemp()) / "signing.key")
PUBLIC = public_key_bytes(KEY)


@pytest.fixture
def world(tmp_path: Path, tiny: Any) -> dict[str, Any]:
    db = tmp_path / "ledger.db"
    with open_ledger(db) as ledger:
        ledger.append_registry(tiny.registry)
        ledger.append_records(tiny.records(12))
        _, mine = create_token(ledger, role="subject", subject=tiny.persons[0], actor="admin", reason="hers")
        _, officer = create_token(ledger, role="officer")
        sign_heads(ledger, KEY, timestamp=1_000)
        ledger.append_records(tiny.records(2, start=12))  # not yet under a signed head
    return {"db": db, "mine": mine, "officer": officer, "subject": tiny.persons[0], "other": tiny.persons[1]}


@pytest.fixture
def client(world: dict[str, Any]) -> Iterator[TestClient]:
    settings = Settings(db=world["db"], today="2019-01-01", warm=False, audit_flush_ms=1)
    with TestClient(create_app(settings)) as c:
        yield c


def test_tree_heads_are_public(client: TestClient) -> None:
    got = client.get("/v1/tree-heads")
    assert got.status_code == 200
    body = got.json()
    assert body["public_key"] == PUBLIC.hex() and body["public_keys"] == [PUBLIC.hex()]
    assert [(h["tree"], h["size"]) for h in body["heads"]] == [
        ("records", 12),
        ("registry", 17),
        ("actions", 2),
    ]
    only = client.get("/v1/tree-heads", params={"tree": "actions"}).json()["heads"]
    assert [h["hid"] for h in only] == [3]
    assert client.get("/v1/tree-heads", params={"tree": "nope"}).status_code == 422
    cons = client.get("/v1/tree-heads/consistency", params={"old": 12, "new": 14}).json()
    assert cons["old_head"]["size"] == 12 and cons["new_head"] is None and len(cons["path"]) > 0
    assert client.get("/v1/tree-heads/consistency", params={"old": 5, "new": 99}).status_code == 422
    assert "/v1/tree-heads" in client.get("/openapi.json").json()["paths"]


def test_a_subject_reads_and_checks_the_proofs_of_her_records(client: TestClient, world: dict) -> None:
    mine = {"Authorization": f"Bearer {world['mine']}"}
    got = client.get(f"/v1/subjects/{world['subject']}/proofs", headers=mine)
    assert got.status_code == 200
    bundle = got.json()
    assert [p["record_id"] for p in bundle["proofs"] if p["tree"] == "records"] == ["t-000000", "t-000006"]
    assert [u["record_id"] for u in bundle["unproven"]] == ["t-000012"]
    assert any(p["tree"] == "actions" for p in bundle["proofs"])  # the token made for her
    result = check_proofs(bundle, PUBLIC)
    assert result.ok, result.lines
    assert client.get(f"/v1/subjects/{world['other']}/proofs", headers=mine).status_code == 403
    officer = {"Authorization": f"Bearer {world['officer']}"}
    assert client.get(f"/v1/subjects/{world['other']}/proofs", headers=officer).status_code == 200
    assert client.get(f"/v1/subjects/{world['other']}/proofs").status_code == 401


def test_the_portal_publishes_the_heads_and_hands_a_subject_her_proofs(
    client: TestClient, world: dict
) -> None:
    page = client.get("/transparency")
    assert page.status_code == 200 and PUBLIC.hex() in page.text and "Signed tree heads" in page.text
    assert client.get("/transparency.json").json()["heads"][0]["size"] == 12
    assert client.get("/my/proofs.json").status_code == 401
    signed_in = client.post("/my/signin", data={"token": world["mine"]}, follow_redirects=False)
    assert signed_in.status_code == 303
    assert "/my/proofs.json" in client.get("/my").text
    got = client.get("/my/proofs.json")
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    assert got.json()["subject"] == world["subject"] and check_proofs(got.json(), PUBLIC).ok


def test_the_audit_chain_records_who_made_the_tokens(world: dict) -> None:
    with open_ledger(world["db"]) as ledger:
        made = read_actions(ledger, kind="token.create")
    assert [(a["actor"], a["reason"]) for a in made] == [("admin", "hers"), ("unnamed", "no reason given")]
