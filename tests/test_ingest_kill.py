"""SIGKILL an ingest halfway through a large file; the re-run stores every record exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest_helpers import NOW
from socialcredit.ingest import ingest_files
from socialcredit.ledger import open_ledger, verify

N = 200_000
BATCH = 50_000


def big_file(path: Path, tiny, n: int) -> Path:
    persons = tiny.persons
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(
                f'{{"id":"k-{i:07d}","subject":"{persons[i % len(persons)]}",'
                f'"category":"traffic.red_light","occurred_at":"2018-{1 + i % 12:02d}-'
                f'{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+08:00","source":"traffic_police"}}\n'
            )
    return path


def stored(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count FROM meta WHERE chain = 'records'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_stores_every_record_exactly_once(tmp_path, tiny) -> None:
    db = tmp_path / "ledger.db"
    with open_ledger(db) as ledger:
        ledger.append_registry(tiny.registry)
    path = big_file(tmp_path / "big.jsonl", tiny, N)
    cmd = [
        sys.executable,
        "-c",
        "from socialcredit.cli import main; main()",
        "ingest",
        "--db",
        str(db),
        str(path),
        "--now",
        NOW,
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while stored(db) < BATCH and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the ingest finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    at_kill = stored(db)
    assert BATCH <= at_kill < N and at_kill % BATCH == 0  # whole batches only
    with open_ledger(db) as ledger:
        report = ingest_files(ledger, [path], now=NOW)
        assert (report.accepted, report.duplicates, report.rejected) == (N - at_kill, at_kill, 0)
        counts = ledger.counts()
        assert counts["records"] == N and counts["quarantine"] == 0
        with ledger.engine.connect() as conn:
            distinct = conn.exec_driver_sql("SELECT count(DISTINCT id) FROM records").scalar()
        assert distinct == N
        assert verify(ledger).ok
