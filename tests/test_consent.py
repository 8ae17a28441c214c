"""Consent in the registry: opt-in systems (Sesame, Rongcheng from 2021) score only those who agreed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from socialcredit import ids
from socialcredit.cli import app

runner = CliRunner()


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _ledger(tmp_path: Path, consent: object) -> tuple[Path, str]:
    person = ids.generate_resident_id(3, 11, region="Hangzhou")
    friend = ids.generate_resident_id(3, 12, region="Hangzhou")
    subject: dict = {"id": person, "kind": "person", "name": "Wei (synthetic)"}
    if consent is not None:
        subject["consent"] = consent
    reg = _write(
        tmp_path / "reg.jsonl",
        [
            subject,
            {"id": friend, "kind": "person", "name": "Friend (synthetic)", "consent": "yes"},
            {"relation": "friend_of", "subject": person, "object": friend, "since": "2017-01-01"},
        ],
    )
    recs = _write(
        tmp_path / "rec.jsonl",
        [
            {
                "id": "b1",
                "subject": person,
                "category": "finance.bill_paid_on_time",
                "occurred_at": "2018-03-01",
                "source": "payment_platform",
            },
            {
                "id": "v1",
                "subject": person,
                "category": "identity.verified",
                "occurred_at": "2018-03-02",
                "source": "payment_platform",
            },
        ],
    )
    db = tmp_path / "l.db"
    res = runner.invoke(app, ["registry", "import", "--db", str(db), str(reg), "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["ingest", "--db", str(db), str(recs), "--now", "2019-01-01"])
    assert res.exit_code == 0, res.output
    return db, person


def test_explain_shows_each_sesame_factor_and_what_fed_it(tmp_path: Path) -> None:
    db, person = _ledger(tmp_path, True)
    res = runner.invoke(
        app, ["explain", "--db", str(db), person, "--rulebook", "sesame", "--as-of", "2018-06-01", "--json"]
    )
    assert res.exit_code == 0, res.output
    [score] = json.loads(res.output)["rulebooks"][0]["scores"]
    text = json.dumps(score)
    for factor in (
        "credit_history",
        "fulfilment_capacity",
        "personal_characteristics",
        "behaviour_preferences",
        "interpersonal_relationships",
    ):
        assert factor in text
    assert "b1" in text and "v1" in text
    assert score["score"] > 650  # two positive records above the 650 starting point


def test_without_consent_sesame_gives_no_score(tmp_path: Path) -> None:
    db, person = _ledger(tmp_path, None)
    out = tmp_path / "scores.parquet"
    res = runner.invoke(
        app, ["score", "--db", str(db), "--rulebook", "sesame", "--as-of", "2018-06-01", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    import pyarrow.parquet as pq

    rows = {r["subject"]: r for r in pq.read_table(out).to_pylist()}
    assert rows[person]["score"] is None
    assert [r["score"] for s, r in rows.items() if s != person] != [None]


def test_a_consent_that_is_not_a_boolean_is_rejected_as_bad_type(tmp_path: Path) -> None:
    person = ids.generate_resident_id(3, 13, region="Hangzhou")
    reg = _write(tmp_path / "reg.jsonl", [{"id": person, "kind": "person", "name": "X", "consent": "maybe"}])
    res = runner.invoke(app, ["registry", "import", "--db", str(tmp_path / "l.db"), str(reg), "--json"])
    assert res.exit_code == 1
    [reject] = json.loads(res.output)["rejects"]
    assert reject["reason"] == "bad_type" and "consent" in reject["message"]
