"""The ledger store: schema and migrations, the writer, idempotency, reads for the engine."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from socialcredit.errors import LedgerError
from socialcredit.ledger import GENESIS, Ledger, head_revision, link_hash, open_ledger, verify
from socialcredit.ledger.schema import metadata
from socialcredit.records import RECORDS_SCHEMA, canonical_json, canonical_record, records_table


def test_open_ledger_creates_a_wal_database_at_the_newest_revision(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.db"
    with open_ledger(path) as ledger:
        assert ledger.counts()["records"] == 0
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    heads = dict(con.execute("SELECT chain, head FROM meta").fetchall())
    assert heads == {"records": GENESIS, "registry_changes": GENESIS}


def test_open_ledger_accepts_a_sqlalchemy_url(tmp_path: Path) -> None:
    with open_ledger(f"sqlite:///{tmp_path / 'x.db'}") as ledger:
        assert ledger.counts()["quarantine"] == 0
    assert (tmp_path / "x.db").exists()


def test_migrations_create_exactly_the_ledger_tables_the_code_uses(tmp_path: Path) -> None:
    with open_ledger(tmp_path / "l.db") as ledger, ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)

    # other areas (the service) add tables of their own in later revisions: not compared here
    def foreign(d: object) -> bool:
        if not isinstance(d, tuple):
            return False  # a list of column modifications: always ours to explain
        if d[0] in ("add_column", "remove_column"):
            return d[2] not in metadata.tables
        obj = d[1]
        name = getattr(getattr(obj, "table", None), "name", None) or getattr(obj, "name", None)
        return name not in metadata.tables

    assert [d for d in diff if not foreign(d)] == []


def test_reopening_does_not_migrate_again_and_keeps_data(ledger: Ledger, tiny) -> None:
    ledger.append_records(tiny.records(3))
    where = ledger.location
    ledger.close()
    with open_ledger(where) as again:
        assert again.counts()["records"] == 3


def test_open_ledger_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "not.db"
    bad.write_text("hello, I am text")
    with pytest.raises(LedgerError, match="not a ledger"):
        open_ledger(bad)
    with pytest.raises(LedgerError, match="no ledger"):
        open_ledger(tmp_path / "missing.db", create=False)


def test_append_records_chains_them_over_their_canonical_form(ledger: Ledger, tiny) -> None:
    recs = tiny.records(3)
    assert ledger.append_records(recs).accepted == 3
    with ledger.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, id, canonical, hash, prev_hash FROM records ORDER BY seq"
        ).all()
    prev = GENESIS
    for (_seq, rid, text, h, p), rec in zip(rows, recs, strict=True):
        assert text == canonical_json(canonical_record(rec))
        assert p == prev and h == link_hash(prev, text)
        assert rid == rec["id"]
        prev = h
    assert [r[0] for r in rows] == [1, 2, 3]
    assert ledger.heads()["records"] == {"count": 3, "head": prev, "last_id": recs[-1]["id"]}


def test_the_same_record_again_is_a_counted_duplicate_in_any_spelling(ledger: Ledger, tiny) -> None:
    rec = tiny.record(0, occurred_at="2018-03-01")
    ledger.append_records([rec])
    respelled = {**rec, "occurred_at": "2018-03-01T00:00:00+08:00", "value": 1}
    again = ledger.append_records([dict(reversed(list(respelled.items()))), rec])
    assert again.accepted == 0 and again.duplicates == [0, 1]
    assert ledger.counts()["records"] == 1


def test_the_same_id_with_other_content_is_a_conflict(ledger: Ledger, tiny) -> None:
    ledger.append_records([tiny.record(0)])
    with pytest.raises(LedgerError, match="different content"):
        ledger.append_records([tiny.record(1), tiny.record(0, value=5)])
    assert ledger.counts()["records"] == 1  # nothing of the failed batch was written


def test_append_records_takes_an_arrow_table_in_batches(ledger: Ledger, tiny) -> None:
    table = pa.Table.from_pylist(tiny.records(25))
    result = ledger.append_records(table, batch_size=10)
    assert result.accepted == 25
    assert verify(ledger).ok


def test_records_table_matches_the_engine_schema_and_filters_by_day(ledger: Ledger, tiny) -> None:
    recs = [
        tiny.record(0, occurred_at="2018-03-01T23:30:00+08:00", value=2.5, evidence="photo"),
        tiny.record(1, occurred_at="2018-03-02", basis="Art. 1", corrects="t-000000"),
        tiny.record(2, occurred_at="2018-03-05T01:00:00-05:00", reported_by=tiny.persons[3]),
    ]
    ledger.append_records(recs)
    table = ledger.records_table()
    assert table.schema == RECORDS_SCHEMA
    expected = records_table(recs)
    assert table.equals(expected)
    assert ledger.records_table(until=dt.date(2018, 3, 2))["id"].to_pylist() == [
        "t-000000",
        "t-000001",
    ]
    assert ledger.records_table(until="2018-02-28").num_rows == 0
    assert ledger.records_table().column("day")[2].as_py() == dt.date(2018, 3, 5)


def test_empty_ledger_gives_an_empty_records_table(make_ledger) -> None:
    table = make_ledger(registry=False).records_table()
    assert table.num_rows == 0 and table.schema == RECORDS_SCHEMA


def test_registry_folds_changes_in_order(ledger: Ledger, tiny) -> None:
    reg = ledger.registry()
    assert reg.subjects.num_rows == len(tiny.subjects)
    assert reg.relations.num_rows == len(tiny.relations)
    # the job ended on 2018-01-01: not valid on that day
    assert ledger.registry(on="2017-12-31").relations.num_rows == len(tiny.relations)
    assert ledger.registry(on="2018-01-01").relations.num_rows == len(tiny.relations) - 1
    ledger.append_registry([{**tiny.subjects[0], "profession": "lawyer"}])
    assert ledger.subject(tiny.persons[0])["profession"] == "lawyer"
    assert ledger.registry().subject(tiny.persons[0])["profession"] == "lawyer"
    assert ledger.subject("nobody") is None


def test_append_registry_skips_lines_that_change_nothing(ledger: Ledger, tiny) -> None:
    before = ledger.counts()["registry_changes"]
    assert ledger.append_registry(tiny.registry) == [False] * len(tiny.registry)
    changed = {**tiny.relations[0], "until": "2019-01-01"}
    assert ledger.append_registry([changed, changed]) == [True, False]
    assert ledger.counts()["registry_changes"] == before + 1
    assert ledger.counts()["relations"] == len(tiny.relations)


def test_records_of_a_subject(ledger: Ledger, tiny) -> None:
    ledger.append_records(tiny.records(12))
    mine = ledger.records_of(tiny.persons[0])
    assert [r["id"] for r in mine] == ["t-000000", "t-000006"]
    assert mine[0]["seq"] == 1 and mine[0]["value"] == 1.0


def test_two_writers_on_one_file_keep_one_unbroken_chain(tmp_path: Path, tiny) -> None:
    path = tmp_path / "shared.db"
    open_ledger(path).close()
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        try:
            with open_ledger(path) as mine:
                for k in range(10):
                    start = offset + 20 * k
                    mine.append_records(tiny.records(20, start=start))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n * 1000,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with open_ledger(path) as ledger:
        assert ledger.counts()["records"] == 600
        assert verify(ledger).ok
