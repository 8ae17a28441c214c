"""Abuse the source documents describe: an insider writing records straight into the database,
and a burst of malicious citizen reports against one subject (seed 002: "malicious reports").

* A record inserted directly (not through the ledger's one writer) is caught by ``verify``, which
  names it; an insider who also rewrites every later hash and the recorded head passes
  ``verify`` (the limit docs/records.md states) but not a tree head published earlier: the
  Merkle tree of the first ``size`` records no longer has the published root.
* Citizen reports are held for review (issue #16, item 5; docs/security.md): a burst of false
  reports from one reporter lists nobody; the held reports are in the subject's file with the
  reporter masked; a department's confirmation (an action in the tamper-evident actions chain)
  or a quorum of distinct reporters makes a report count; a rejected one never counts. The
  property tests check that any number of repeats by one reporter changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from ingest_helpers import NOW, Tiny
from socialcredit.cli import app as cli
from socialcredit.engine import Engine
from socialcredit.ingest import ingest_files
from socialcredit.ledger import open_ledger, verify
from socialcredit.ledger.chain import link_hash
from socialcredit.ledger.merkle import verify_tree_head
from socialcredit.ledger.proofs import ledger_tree, tree_head
from socialcredit.records import records_table
from socialcredit.registry import Registry

runner = CliRunner()


@pytest.fixture
def filled(tmp_path: Path, tiny: Tiny) -> Path:
    """A ledger of 20 records ingested the proper way."""
    db = tmp_path / "ledger.db"
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in tiny.records(20)) + "\n")
    with open_ledger(db) as ledger:
        ledger.append_registry(tiny.registry)
        assert ingest_files(ledger, [path], now=NOW).accepted == 20
    return db


def _rows(con: sqlite3.Connection) -> tuple[list[str], list[dict[str, Any]]]:
    cols = [r[1] for r in con.execute("PRAGMA table_info(records)")]
    rows = [dict(zip(cols, r, strict=True)) for r in con.execute("SELECT * FROM records ORDER BY seq")]
    return cols, rows


def _forged(template: dict[str, Any], subject: str, prev: str, seq: int) -> dict[str, Any]:
    """A judgment-default record that never went through ingest, chained after ``prev``."""
    record = {
        "category": "judicial.judgment_default",
        "id": "insider-1",
        "occurred_at": "2018-06-01T00:00:00+08:00",
        "source": "court",
        "subject": subject,
        "value": 1.0,
    }
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {
        **template,
        **{k: v for k, v in record.items() if k in template},
        "seq": seq,
        "canonical": canonical,
        "prev_hash": prev,
        "hash": link_hash(prev, canonical),
    }


def _verify_cli(db: Path) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(cli, ["verify", "--db", str(db), "--json"])
    return result.exit_code, json.loads(result.output)


def test_a_record_inserted_directly_into_the_database_is_caught_by_verify(filled: Path, tiny: Tiny) -> None:
    assert _verify_cli(filled)[0] == 0
    con = sqlite3.connect(filled)
    cols, rows = _rows(con)
    last = rows[-1]
    forged = _forged(last, tiny.persons[2], last["hash"], last["seq"] + 1)  # even its hash is right
    con.execute(f"INSERT INTO records VALUES ({','.join('?' * len(cols))})", [forged[c] for c in cols])
    con.commit()
    con.close()
    code, out = _verify_cli(filled)
    assert code == 1 and out["intact"] is False
    problem = out["problems"][0]
    assert problem["id"] == "insider-1" and problem["kind"] in ("inserted", "altered"), problem


def test_a_forged_record_with_a_rewritten_chain_is_caught_by_a_published_tree_head(
    filled: Path, tiny: Tiny
) -> None:
    key = Ed25519PrivateKey.generate()
    with open_ledger(filled) as ledger:
        published = tree_head(ledger, key)  # what the operator published (signed) yesterday
    assert published.size == 20 and verify_tree_head(key.public_key(), published)
    # the insider slips a record in at seq 6, renumbers, recomputes every hash and the head
    con = sqlite3.connect(filled)
    cols, rows = _rows(con)
    forged = _forged(rows[5], tiny.persons[2], rows[4]["hash"], 6)
    rewritten = [*rows[:5], forged]
    for row in rows[5:]:
        prev = rewritten[-1]["hash"]
        rewritten.append(
            {**row, "seq": row["seq"] + 1, "prev_hash": prev, "hash": link_hash(prev, row["canonical"])}
        )
    con.execute("DELETE FROM records")
    con.executemany(
        f"INSERT INTO records VALUES ({','.join('?' * len(cols))})", [[r[c] for c in cols] for r in rewritten]
    )
    meta = [r[1] for r in con.execute("PRAGMA table_info(meta)")]
    sets = {"count": len(rewritten), "head": rewritten[-1]["hash"], "last_id": rewritten[-1]["id"]}
    for column, value in sets.items():
        if column in meta:
            con.execute(f"UPDATE meta SET {column} = ? WHERE chain = 'records'", (value,))
    con.commit()
    con.close()
    with open_ledger(filled) as ledger:
        verify(ledger)  # may pass: a hash chain cannot see a rewrite with its head (docs/records.md)
        tree = ledger_tree(ledger)
        # ... but the first 20 records no longer have the root the operator signed
        assert tree.size == 21
        assert tree.root(published.size) != published.root


def test_a_burst_of_malicious_citizen_reports_lists_nobody_by_itself(tiny: Tiny) -> None:
    """One reporter files 12 false off-leash reports against a dog in a week: under the Jinan
    rulebook (12 points, −3 an offence) the dog would be confiscated and the owner refused. Such
    a burst must be held for review, not counted as it comes."""
    reporter = tiny.persons[0]
    burst = [
        {
            "id": f"burst-{i}",
            "subject": tiny.dog,
            "category": "pet.dog_off_leash",
            "source": "citizen_report",
            "reported_by": reporter,
            "occurred_at": f"2018-06-0{1 + i % 7}T1{i % 10}:00:00+08:00",
        }
        for i in range(12)
    ]
    ev = Engine(["jinan-dogs"]).evaluate(
        records_table(burst), Registry.from_lines(tiny.registry), "2018-06-30"
    )
    owner = tiny.persons[5]  # owner_of the dog in the tiny registry
    assert ev.decide(tiny.dog, "pet.keep_dog").to_dict()["outcome"] == "allowed"
    assert ev.decide(owner, "pet.keep_dog").to_dict()["outcome"] == "allowed"


def test_citizen_reports_are_accepted_from_the_citizen_report_source_only(tmp_path: Path, tiny: Tiny) -> None:
    """What does hold today: a report must name a reporter in the registry, and only the
    ``citizen_report`` source (or an authorised department) may file these categories."""
    db = tmp_path / "ledger.db"
    base = {"subject": tiny.dog, "category": "pet.dog_off_leash", "occurred_at": "2018-06-01"}
    lines = [
        {**base, "id": "r-ok", "source": "citizen_report", "reported_by": tiny.persons[0]},
        {**base, "id": "r-stranger", "source": "citizen_report", "reported_by": tiny.stranger},
        {**base, "id": "r-bank", "source": "bank", "reported_by": tiny.persons[0]},
    ]
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with open_ledger(db) as ledger:
        ledger.append_registry(Tiny().registry)
        report = ingest_files(ledger, [path], now=NOW)
    assert report.accepted == 1
    assert {(r.id, r.reason) for r in report.rejects} == {
        ("r-stranger", "unknown_subject"),
        ("r-bank", "unauthorized_source"),
    }
