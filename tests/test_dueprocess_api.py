"""Due process over HTTP: ``/v1/objections``, ``/v1/notices``, ``/v1/dueprocess/decisions``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from socialcredit.ids import generate_resident_id
from socialcredit.ledger import open_ledger
from socialcredit.service import Settings, create_app
from socialcredit.service.tokens import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

J = generate_resident_id(13, 1)
OTHER = generate_resident_id(13, 2)


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    db = tmp_path / "ledger.db"
    tokens = {}
    with open_ledger(db) as led:
        led.append_registry(
            [
                {"id": J, "kind": "person", "name": "A journalist (synthetic)"},
                {"id": OTHER, "kind": "person", "name": "Someone else (synthetic)"},
            ]
        )
        led.append_records(
            [
                {
                    "id": "court-1",
                    "subject": J,
                    "category": "judicial.judgment_default",
                    "source": "court",
                    "occurred_at": "2019-03-01",
                },
                {
                    "id": "court-2",
                    "subject": OTHER,
                    "category": "judicial.judgment_default",
                    "source": "court",
                    "occurred_at": "2019-03-01",
                },
            ]
        )
        for name, scope in {
            "officer": {"role": "officer"},
            "subject": {"role": "subject", "subject": J},
            "other": {"role": "subject", "subject": OTHER},
            "court": {"role": "source", "source": "court"},
        }.items():
            _, tokens[name] = create_token(led, label=name, **scope)
    return {"db": db, "tokens": tokens}


def client(world: dict[str, Any], today: str) -> TestClient:
    return TestClient(create_app(Settings(db=world["db"], today=today)), raise_server_exceptions=False)


def auth(world: dict[str, Any], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][who]}"}


def test_objection_cycle_over_http(world: dict[str, Any]) -> None:
    with client(world, "2019-03-04") as c:
        r = c.get("/v1/notices", params={"subject": J}, headers=auth(world, "subject"))
        assert r.status_code == 200
        [n] = r.json()["notices"]
        assert (n["record"], n["object_by"], n["status"]) == ("court-1", "2019-03-10", "notice")
        r = c.get(
            "/v1/dueprocess/decisions",
            params={"subject": J, "action": "travel.flight"},
            headers=auth(world, "subject"),
        )
        assert r.json()["outcome"] == "allowed" and r.json()["pending"][0]["status"] == "notice"
        # the plain counter is the original system: listed on the record's day
        r = c.get(
            "/v1/decisions", params={"subject": J, "action": "travel.flight"}, headers=auth(world, "subject")
        )
        assert r.json()["outcome"] == "denied"
        assert c.post("/v1/notices/issue", json={}, headers=auth(world, "subject")).status_code == 403
        r = c.post("/v1/notices/issue", json={}, headers=auth(world, "officer"))
        assert r.status_code == 200 and len(r.json()["issued"]) == 2  # both subjects' notices
        assert c.post("/v1/notices/issue", json={}, headers=auth(world, "officer")).json()["issued"] == []
        body = {
            "subject": J,
            "records": ["court-1"],
            "list": "judgment_defaulters",
            "grounds": "paid in full",
            "evidence": "bank receipt",
        }
        r = c.post("/v1/objections", json=body, headers=auth(world, "subject"))
        assert r.status_code == 201, r.text
        o = r.json()
        assert (o["state"], o["filed_on"], o["review_by"], o["overdue"]) == (
            "filed",
            "2019-03-04",
            "2019-03-19",
            False,
        )
        # another subject may neither file for nor read it; a source token may not file at all
        assert c.post("/v1/objections", json=body, headers=auth(world, "other")).status_code == 403
        assert c.get(f"/v1/objections/{o['id']}", headers=auth(world, "other")).status_code == 403
        assert c.post("/v1/objections", json=body, headers=auth(world, "court")).status_code == 403
        assert c.get("/v1/objections", headers=auth(world, "other")).json()["objections"] == []
        # subjects cannot review or decide
        assert (
            c.post(f"/v1/objections/{o['id']}/review", json={}, headers=auth(world, "subject")).status_code
            == 403
        )
        r = c.post(
            f"/v1/objections/{o['id']}/review",
            json={"note": "case file requested"},
            headers=auth(world, "officer"),
        )
        assert r.status_code == 200 and r.json()["state"] == "under_review"
        r = c.post(
            f"/v1/objections/{o['id']}/decision",
            json={"outcome": "upheld", "reasons": "receipt checked"},
            headers=auth(world, "officer"),
        )
        assert r.status_code == 200 and r.json()["state"] == "upheld"
        assert r.json()["corrections"] == [f"{o['id']}:corrects:court-1"]
        r = c.get("/v1/objections", params={"subject": J}, headers=auth(world, "officer"))
        assert [x["state"] for x in r.json()["objections"]] == ["upheld"]
        # the correction annuls the record: the ordinary counter allows now too
        r = c.get(
            "/v1/decisions", params={"subject": J, "action": "travel.flight"}, headers=auth(world, "officer")
        )
        assert r.json()["outcome"] == "allowed"


def test_bad_objections_are_422_naming_the_field(world: dict[str, Any]) -> None:
    with client(world, "2019-03-04") as c:
        h = auth(world, "officer")
        r = c.post("/v1/objections", json={"subject": J, "records": ["court-2"], "grounds": "x"}, headers=h)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_objection"
        assert r.json()["error"]["message"].startswith("records:")
        r = c.post("/v1/objections", json={"subject": J, "records": [], "grounds": "x"}, headers=h)
        assert r.status_code == 422
        r = c.post(
            "/v1/objections",
            json={"subject": J, "records": ["court-1"], "grounds": "x", "mood": 1},
            headers=h,
        )
        assert r.status_code == 422
        r = c.get("/v1/objections/obj-nope", headers=h)
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_objection"
        r = c.post("/v1/objections/obj-nope/decision", json={"outcome": "maybe", "reasons": "r"}, headers=h)
        assert r.status_code == 422
        r = c.get("/v1/notices", params={"subject": "nobody"}, headers=h)
        assert r.status_code == 404
        # against a listing, without naming records: the records that open it
        r = c.post(
            "/v1/objections",
            json={"subject": OTHER, "list": "judgment_defaulters", "grounds": "x"},
            headers=h,
        )
        assert r.status_code == 201 and r.json()["records"] == ["court-2"]
        r = c.post("/v1/objections", json={"subject": OTHER, "list": "flight_ban", "grounds": "x"}, headers=h)
        assert r.status_code == 422 and r.json()["error"]["message"].startswith("list:")


def test_portal_objection_form_and_status_page(world: dict[str, Any]) -> None:
    with client(world, "2019-03-04") as c:
        assert c.get("/my/objections.json").status_code == 401
        c.post("/my/signin", data={"token": world["tokens"]["subject"]})
        page = c.get("/my/objections")
        assert page.status_code == 200 and "court-1" in page.text and "2019-03-10" in page.text
        assert "<script" not in page.text
        bad = c.post("/my/objections", data={"record": "court-1", "grounds": ""}, follow_redirects=False)
        assert bad.status_code == 422 and "grounds: required" in bad.text
        r = c.post(
            "/my/objections",
            data={
                "record": "court-1",
                "grounds": "never owed <b>anything</b>",
                "list": "judgment_defaulters",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/my/objections?filed=obj-")
        page = c.get(r.headers["location"])
        assert "never owed &lt;b&gt;anything&lt;/b&gt;" in page.text and "filed" in page.text
        assert "History of my file" in page.text and "objection.filed" in page.text
        data = c.get("/my/objections.json").json()
        assert [o["state"] for o in data["objections"]] == ["filed"]
        assert data["notices"][0]["record"] == "court-1"
        # someone else's record cannot be objected to from this file
        r = c.post("/my/objections", data={"record": "court-2", "grounds": "x"}, follow_redirects=False)
        assert r.status_code == 422
