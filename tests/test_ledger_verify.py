"""Tampering with the database directly (SQLite or PostgreSQL, behind the ledger's back): verify
must exit 1 and name what was changed."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.ledger import Ledger, link_hash, verify

runner = CliRunner()


@pytest.fixture(autouse=True, params=[3, 50_000], ids=["chunks-of-3", "one-chunk"])
def chunk_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run every test with links read in chunks of 3 too: problems past the first chunk."""
    monkeypatch.setattr(sys.modules["socialcredit.ledger.verify"], "_CHUNK", request.param)
    return request.param


@pytest.fixture
def filled(ledger: Ledger, tiny) -> Path | str:
    """The ledger's file (SQLite) or URL (PostgreSQL), with 10 records, closed."""
    ledger.append_records(tiny.records(10))
    where = ledger.location
    ledger.close()
    return where


class Db:
    """sqlite3-style access to either database, behind the ledger's back (``?`` marks)."""

    def __init__(self, where: Path | str) -> None:
        if isinstance(where, Path):
            self.con, self.mark = sqlite3.connect(where), "?"
        else:
            import psycopg

            url = sa.make_url(where).set(drivername="postgresql")
            self.con, self.mark = psycopg.connect(url.render_as_string(hide_password=False)), "%s"

    def execute(self, sql: str, params: tuple = ()) -> Any:
        return self.con.execute(sql.replace("?", self.mark), params)

    def row(self, sql: str) -> dict[str, Any]:
        """One row as a dict of column names (in table order for ``SELECT *``)."""
        cur = self.execute(sql)
        return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))

    def commit(self) -> None:
        self.con.commit()

    def close(self) -> None:
        self.con.close()


def tamper(path: Path | str, *sql: str, params: tuple = ()) -> None:
    con = Db(path)
    for statement in sql:
        con.execute(statement, params if "?" in statement else ())
    con.commit()
    con.close()


def cli_verify(path: Path) -> tuple[int, dict]:
    result = runner.invoke(app, ["verify", "--db", str(path), "--json"])
    return result.exit_code, json.loads(result.stdout)


def problem(path: Path) -> dict:
    code, out = cli_verify(path)
    assert code == 1, out
    assert out["intact"] is False
    return out["problems"][0]


def test_an_untouched_ledger_verifies(filled: Path) -> None:
    code, out = cli_verify(filled)
    assert code == 0 and out["intact"] and out["records"] == 10 and out["problems"] == []
    assert len(out["heads"]["records"]) == 64
    result = runner.invoke(app, ["verify", "--db", str(filled)])
    assert result.exit_code == 0 and "intact" in result.stdout


def test_altering_a_records_content_is_named(filled: Path) -> None:
    tamper(filled, "UPDATE records SET canonical = replace(canonical, '1.0', '0.0') WHERE seq = 4")
    p = problem(filled)
    assert (p["chain"], p["seq"], p["id"], p["kind"]) == ("records", 4, "t-000003", "altered")


def test_altering_a_query_column_the_engine_reads_is_named(filled: Path, tiny) -> None:
    tamper(filled, "UPDATE records SET subject = ? WHERE seq = 6", params=(tiny.persons[1],))
    p = problem(filled)
    assert (p["seq"], p["id"], p["kind"]) == (6, "t-000005", "altered")
    assert "columns" in p["message"]


def test_altering_content_and_recomputing_its_hash_is_named(filled: Path) -> None:
    con = Db(filled)
    prev, text = con.execute("SELECT prev_hash, canonical FROM records WHERE seq = 5").fetchone()
    forged = text.replace('"value":1.0', '"value":9.0')
    con.execute(
        "UPDATE records SET canonical = ?, value = 9.0, hash = ? WHERE seq = 5",
        (forged, link_hash(prev, forged)),
    )
    con.commit()
    con.close()
    p = problem(filled)
    assert (p["seq"], p["id"], p["kind"]) == (5, "t-000004", "altered")
    assert "seq 6" in p["message"]


def test_deleting_a_record_in_the_middle_is_named(filled: Path) -> None:
    tamper(filled, "DELETE FROM records WHERE seq = 3")
    p = problem(filled)
    assert (p["seq"], p["kind"]) == (3, "removed")
    assert "seq 3" in p["message"] and "t-000003" in p["message"]  # the next one is named


def test_deleting_the_first_record_is_named(filled: Path) -> None:
    tamper(filled, "DELETE FROM records WHERE seq = 1")
    assert (problem(filled)["seq"], problem(filled)["kind"]) == (1, "removed")


def test_deleting_the_last_record_is_named_with_its_id(filled: Path) -> None:
    tamper(filled, "DELETE FROM records WHERE seq = 10")
    p = problem(filled)
    assert (p["seq"], p["id"], p["kind"]) == (10, "t-000009", "removed")
    result = runner.invoke(app, ["verify", "--db", str(filled)])
    assert result.exit_code == 1 and "t-000009" in result.output


def test_deleting_and_renumbering_is_named(filled: Path) -> None:
    tamper(filled, "DELETE FROM records WHERE seq = 4", "UPDATE records SET seq = seq - 1 WHERE seq > 4")
    p = problem(filled)
    assert (p["seq"], p["id"], p["kind"]) == (4, "t-000004", "removed")


def test_inserting_a_forged_record_at_the_end_is_named(filled: Path, tiny) -> None:
    con = Db(filled)
    last = con.row("SELECT * FROM records WHERE seq = 10")
    cols = list(last)
    text = last["canonical"].replace("t-000009", "forged")
    row = {
        **last,
        "seq": 11,
        "id": "forged",
        "canonical": text,
        "prev_hash": last["hash"],
        "hash": link_hash(last["hash"], text),
    }
    con.execute(f"INSERT INTO records VALUES ({','.join('?' * len(cols))})", [row[c] for c in cols])
    con.commit()
    con.close()
    p = problem(filled)
    assert (p["seq"], p["id"], p["kind"]) == (11, "forged", "inserted")


def test_inserting_a_forged_record_in_the_middle_is_named(filled: Path) -> None:
    con = Db(filled)
    con.execute("UPDATE records SET seq = seq + 100 WHERE seq > 5")
    con.execute("UPDATE records SET seq = seq - 99 WHERE seq > 100")
    fifth = con.row("SELECT * FROM records WHERE seq = 5")
    cols = list(fifth)
    text = fifth["canonical"].replace("t-000004", "forged")
    row = {
        **fifth,
        "seq": 6,
        "id": "forged",
        "canonical": text,
        "prev_hash": fifth["hash"],
        "hash": link_hash(fifth["hash"], text),
    }
    con.execute(f"INSERT INTO records VALUES ({','.join('?' * len(cols))})", [row[c] for c in cols])
    con.commit()
    con.close()
    p = problem(filled)
    assert (p["seq"], p["id"], p["kind"]) == (6, "forged", "inserted")


@pytest.mark.parametrize(
    ("sql", "kind", "seq"),
    [
        ("UPDATE registry_changes SET line = replace(line, 'teacher', 'lawyer') WHERE seq = 2", "altered", 2),
        ("DELETE FROM registry_changes WHERE seq = 12", "removed", 12),
        ("DELETE FROM registry_changes WHERE seq = (SELECT max(seq) FROM registry_changes)", "removed", None),
        ("UPDATE registry_changes SET key = 'someone else' WHERE seq = 3", "altered", 3),
    ],
)
def test_tampering_with_registry_changes_is_named(
    filled: Path, tiny, sql: str, kind: str, seq: int | None
) -> None:
    tamper(filled, sql)
    p = problem(filled)
    assert p["chain"] == "registry_changes" and p["kind"] == kind
    assert p["seq"] == (seq if seq is not None else len(tiny.registry))


def test_a_forged_relation_is_named(filled: Path, tiny) -> None:
    """A forged legal_representative_of link would list an innocent person."""
    con = Db(filled)
    sql = "SELECT count, head FROM meta WHERE chain = 'registry_changes'"
    count, head = con.execute(sql).fetchone()
    line = json.dumps(
        {"object": tiny.companies[1], "relation": "legal_representative_of", "subject": tiny.persons[2]},
        separators=(",", ":"),
        sort_keys=True,
    )
    key = f"legal_representative_of|{tiny.persons[2]}|{tiny.companies[1]}|"
    con.execute(
        "INSERT INTO registry_changes VALUES (?, ?, ?, ?, 'relation', ?)",
        (count + 1, line, link_hash(head, line), head, key),
    )
    con.commit()
    con.close()
    p = problem(filled)
    assert (p["chain"], p["seq"], p["id"], p["kind"]) == ("registry_changes", count + 1, key, "inserted")


def test_verify_reports_each_chain(filled: Path) -> None:
    tamper(
        filled,
        "DELETE FROM records WHERE seq = 2",
        "UPDATE registry_changes SET line = replace(line, 'Dog', 'Cat') WHERE seq = 11",
    )
    report = verify(filled)
    assert not report.ok
    assert [p.chain for p in report.problems] == ["records", "registry_changes"]
    assert "seq 2" in report.message


def test_verify_of_a_missing_ledger_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert not (tmp_path / "none.db").exists()
