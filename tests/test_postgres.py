"""The ledger on a database server (issue #15), run on SQLite and PostgreSQL alike where it can:
two ingesters writing at once, migrations on a fresh database raced by two processes, tampering
found by verify, and the PostgreSQL specifics (URLs, refusals, the writer lock).

The PostgreSQL cases need ``SOCIALCREDIT_TEST_PG`` (``make test`` sets it); without it they are
skipped, saying so.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ingest_helpers import write_jsonl
from socialcredit.errors import LedgerError
from socialcredit.ledger import Ledger, open_ledger, verify
from socialcredit.ledger.schema import metadata as ledger_metadata
from socialcredit.ledger.store import PG_WRITE_LOCK, database_url
from socialcredit.service import Settings
from socialcredit.service.tables import metadata as service_metadata

# One ingester, released in two steps together with the other: it opens the (not yet migrated)
# ledger and imports the registry (the other imports the same lines), then ingests its file in
# small batches, one transaction each, pausing 20 ms between them (outside the writer lock, as a
# reader of a slow source would), so that the two ingesters' transactions interleave.
INGESTER = """
import json, pathlib, sys, time
from socialcredit.ingest import import_registry_files, ingest_files
from socialcredit.ledger import Ledger, open_ledger
db, registry, records, folder, name, batch = sys.argv[1:7]
write_records = Ledger.write_records
def paced(self, *args, **kwargs):
    time.sleep(0.02)
    return write_records(self, *args, **kwargs)
Ledger.write_records = paced
folder = pathlib.Path(folder)
def barrier(step):
    (folder / f"{step}-{name}").touch()
    while not (folder / f"go-{step}").exists():
        time.sleep(0.001)
barrier("open")
with open_ledger(db) as ledger:
    import_registry_files(ledger, [registry])
    barrier("ingest")
    report = ingest_files(ledger, [records], batch_size=int(batch))
print(json.dumps({"accepted": report.accepted, "duplicates": report.duplicates,
                  "rejects": len(report.rejects), "errors": len(report.errors)}))
"""


def _run_at_once(argvs: list[list[str]], folder: Path) -> list[dict[str, int]]:
    """Start one ingester per argument list (db, registry, records, batch size), release them
    together at each step, return their reports."""
    names = [f"i{k}" for k in range(len(argvs))]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", INGESTER, *argv[:3], str(folder), name, argv[3]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv, name in zip(argvs, names, strict=True)
    ]
    for step in ("open", "ingest"):
        deadline = time.monotonic() + 120
        while not all((folder / f"{step}-{n}").exists() for n in names):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), step
            time.sleep(0.002)
        (folder / f"go-{step}").touch()
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def test_two_ingesters_at_once_lose_nothing_and_duplicate_nothing(
    make_db: Callable[..., str | Path], tiny, tmp_path: Path
) -> None:
    db = str(make_db())  # nothing there yet: both ingesters race to create the tables too
    registry = write_jsonl(tmp_path / "registry.jsonl", tiny.registry)
    a = write_jsonl(tmp_path / "a.jsonl", tiny.records(3000))
    b = write_jsonl(tmp_path / "b.jsonl", tiny.records(3000, start=2000))  # 1000 ids in both
    reports = _run_at_once([[db, str(registry), str(a), "50"], [db, str(registry), str(b), "50"]], tmp_path)

    assert all(r["rejects"] == 0 and r["errors"] == 0 for r in reports)
    assert sum(r["accepted"] for r in reports) == 5000
    assert sum(r["duplicates"] for r in reports) == 1000
    with open_ledger(db, create=False) as ledger:
        with ledger.engine.connect() as conn:
            seqs, ids = zip(
                *conn.exec_driver_sql("SELECT seq, id FROM records ORDER BY seq").all(), strict=True
            )
        assert list(seqs) == list(range(1, 5001))  # one chain, no gap, no fork
        # the ingesters wrote at once: their own records (not the shared ones) alternate in the chain
        only = ["a" if int(i[2:]) < 2000 else "b" for i in ids if not 2000 <= int(i[2:]) < 3000]
        switches = sum(x != y for x, y in itertools.pairwise(only))
        if ledger.postgres:  # waiters queue for the advisory lock and take turns (SQLite's busy
            # handler polls with back-off, so there one ingester may well run all its batches first)
            assert switches >= 2, "the two ingesters did not write at the same time"
        assert sorted(ids) == sorted(r["id"] for r in tiny.records(5000))  # each id exactly once
        assert ledger.counts()["registry_changes"] == len(tiny.registry)  # imported once, not twice
        report = verify(ledger)
        assert report.ok, report.message
        assert report.records == 5000


def test_verify_names_a_record_altered_behind_the_ledgers_back(ledger: Ledger, tiny) -> None:
    ledger.append_records(tiny.records(5))
    assert verify(ledger).ok
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE records SET canonical = replace(canonical, 'red_light', 'speeding') WHERE seq = 3"
        )
    report = verify(ledger)
    assert not report.ok
    (problem,) = report.problems
    assert (problem.chain, problem.seq, problem.kind) == ("records", 3, "altered")


def test_migrations_create_exactly_the_tables_the_code_uses(make_db: Callable[..., str | Path]) -> None:
    combined = sa.MetaData()  # the ledger's tables and the service's, as the code declares them
    for md in (ledger_metadata, service_metadata):
        for table in md.tables.values():
            table.to_metadata(combined)
    with open_ledger(make_db()) as ledger, ledger.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), combined)
    assert diffs == []


def test_postgresql_urls_select_psycopg_and_other_schemes_are_refused(tmp_path: Path) -> None:
    assert database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("postgres://u:p@h:5433/d") == "postgresql+psycopg://u:p@h:5433/d"
    assert database_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url(tmp_path / "l.db") == f"sqlite:///{tmp_path / 'l.db'}"
    with pytest.raises(LedgerError, match="not supported"):
        open_ledger("mysql://u@h/d")
    settings = Settings(db="postgresql://reader:secret@127.0.0.1/ledger")
    assert settings.db == "postgresql://reader:secret@127.0.0.1/ledger"
    assert "secret" not in settings.db_shown and "reader" in settings.db_shown
    with pytest.raises(ValueError, match="postgresql:// URL"):
        Settings(db="mysql://u@h/d")


@pytest.fixture
def pg_url(make_pg_db: Callable[..., str | Path]) -> str:
    """The URL of a fresh, empty PostgreSQL schema."""
    return str(make_pg_db())


def test_an_empty_postgresql_database_is_no_ledger_unless_created(pg_url: str) -> None:
    with pytest.raises(LedgerError, match=r"no ledger at .*db upgrade"):
        open_ledger(pg_url, create=False)
    with open_ledger(pg_url) as ledger:
        assert ledger.counts()["records"] == 0
    with open_ledger(pg_url, create=False) as ledger:
        assert ledger.postgres and ledger.mark == "%s"


def test_a_refused_login_is_a_ledger_error_that_does_not_show_the_password(pg_url: str) -> None:
    wrong = sa.make_url(pg_url).set(username="no_such_role_xyz", password="not-the-password-xyz")
    with pytest.raises(LedgerError, match="cannot open the ledger") as exc:
        open_ledger(wrong.render_as_string(hide_password=False))
    assert "not-the-password-xyz" not in str(exc.value)


def test_a_postgresql_writer_waits_for_the_other_writers_lock(pg_url: str, tiny) -> None:
    """The advisory lock is what makes the writers of two connections (or processes) take turns:
    while one transaction holds it, another ledger's append waits, then chains after it."""
    with open_ledger(pg_url) as first, open_ledger(pg_url) as second:
        first.append_registry(tiny.registry)
        with first.engine.connect() as conn, conn.begin():
            conn.exec_driver_sql(PG_WRITE_LOCK)
            done: list[float] = []

            def append() -> None:
                second.append_records(tiny.records(3))
                done.append(time.monotonic())

            thread = threading.Thread(target=append)
            thread.start()
            time.sleep(0.5)
            assert not done  # still waiting for the lock
            released = time.monotonic()
        thread.join(timeout=30)
        assert done and done[0] >= released
        assert second.heads()["records"]["count"] == 3 and verify(second).ok


def test_copy_and_executemany_store_the_same_chain(make_pg_db: Callable[..., str | Path], tiny) -> None:
    """``COPY`` (the default on PostgreSQL) and ``executemany`` write the same rows and head, and a
    re-run through ``COPY`` sorts out duplicates as ``executemany`` does."""
    heads, tables = [], []
    for use_copy in (True, False):
        with open_ledger(make_pg_db()) as ledger:
            ledger.use_copy = use_copy
            ledger.append_registry(tiny.registry)
            assert ledger.append_records(tiny.records(300), batch_size=128).accepted == 300
            again = ledger.append_records(tiny.records(310), batch_size=128)
            assert (again.accepted, len(again.duplicates)) == (10, 300)
            heads.append(ledger.heads()["records"])
            tables.append(ledger.records_table())
            assert verify(ledger).ok
    assert heads[0] == heads[1] and heads[0]["count"] == 310
    assert tables[0].equals(tables[1])


def test_tokens_are_listed_oldest_first_within_one_second(ledger: Ledger) -> None:
    from socialcredit.service.tokens import create_token, list_tokens

    made = [create_token(ledger, role="officer", label=str(i))[0].id for i in range(6)]
    assert [t.id for t in list_tokens(ledger)] == made


def test_an_objection_cycle_is_stored_and_chained(make_db: Callable[..., str | Path]) -> None:
    """Objections (due process) live in the chain of actions: filed, reviewed and decided on
    either database, read back in order, and the ledger still verifies."""
    from socialcredit.dueprocess import decide_objection, file_objection, list_objections, start_review
    from socialcredit.engine import Engine
    from socialcredit.ids import generate_resident_id

    person = generate_resident_id(13, 1)
    with open_ledger(make_db()) as ledger:
        ledger.append_registry([{"id": person, "kind": "person", "name": "A journalist (synthetic)"}])
        record = {"id": "court-1", "subject": person, "category": "judicial.judgment_default"}
        ledger.append_records([{**record, "source": "court", "occurred_at": "2019-03-01"}])
        filed = file_objection(
            ledger,
            subject=person,
            records=["court-1"],
            list_id="judgment_defaulters",
            grounds="the fine was paid",
            on="2019-03-05",
            rulebooks=Engine(["national"]).rulebooks,
        )
        start_review(ledger, filed.id, officer="officer:1", on="2019-03-06")
        decide_objection(
            ledger, filed.id, outcome="upheld", officer="officer:1", reasons="paid", on="2019-03-09"
        )
        (stored,) = list_objections(ledger)
        assert (stored.id, stored.subject, stored.state, stored.officer) == (
            filed.id,
            person,
            "upheld",
            "officer:1",
        )
        assert ledger.heads()["actions"]["count"] >= 3
        assert verify(ledger).ok
