"""Crash safety: ``kill -9`` at random points during ingest (from a file and through the API),
during objection review and during a simulation run; a full disk during ingest, through the API
and while a run writes its outputs.

After every kill: the ledger verifies, holds only whole batches (nothing half-written is
visible), every record acknowledged before the kill is there exactly once, and running the same
work again stores the rest exactly once. After a full disk: one clear error (no traceback, no
"bug"), nothing corrupted, and the same command stores everything once space is back.

Figures (printed; recorded under ``make fuzz``): kills survived, records lost (must be 0),
records stored twice (must be 0). ``SOCIALCREDIT_FUZZ=1`` raises the number of kills.

Objection review: an upheld objection's correction records and its decision are one transaction
(``Ledger.append_records(..., actions=...)``), so no kill leaves a correction without the decision
that made it, or a decision without its corrections.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from fuzz_helpers import FUZZ, Figures
from ingest_helpers import NOW
from service_world import TODAY, World, build_world
from socialcredit.errors import LedgerError
from socialcredit.ingest import ingest_files
from socialcredit.ledger import Ledger, open_ledger, verify

ROOT = Path(__file__).resolve().parent.parent
KILLS = 12 if FUZZ else 3
SEED = int(os.environ.get("SOCIALCREDIT_CRASH_SEED", "16"))


def write_records(path: Path, tiny: Any, n: int, prefix: str = "k") -> list[str]:
    """``n`` valid records in a JSONL file; their ids in file order."""
    persons = tiny.persons
    ids = [f"{prefix}-{i:07d}" for i in range(n)]
    with path.open("w", encoding="utf-8") as fh:
        for i, rid in enumerate(ids):
            fh.write(
                f'{{"id":"{rid}","subject":"{persons[i % len(persons)]}","category":"traffic.red_light",'
                f'"occurred_at":"2018-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+08:00",'
                f'"source":"traffic_police"}}\n'
            )
    return ids


def stored_ids(db: Path) -> list[str]:
    """The record ids in ledger order, read without the ledger's code (as a reader would)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return [r[0] for r in con.execute("SELECT id FROM records ORDER BY seq")]
    finally:
        con.close()


def assert_intact(db: Path) -> None:
    with open_ledger(db, create=False) as ledger:
        report = verify(ledger)
        assert report.ok, report.message


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL the process and everything it started (as a power cut would)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# -- kill -9 during ingest of a file -------------------------------------------------------------------

INGEST = """
import sys
from socialcredit.ingest import ingest_files
report = ingest_files(sys.argv[1], [sys.argv[2]], now=sys.argv[3], batch_size=int(sys.argv[4]))
print(report.accepted, report.duplicates, report.rejected, flush=True)
"""


@pytest.mark.slow
def test_kill_9_at_random_points_during_ingest(tmp_path: Path, tiny: Any) -> None:
    n, batch = (60_000 if FUZZ else 20_000), 1_000
    db = tmp_path / "ledger.db"
    with open_ledger(db) as ledger:
        ledger.append_registry(tiny.registry)
    path = tmp_path / "records.jsonl"
    ids = write_records(path, tiny, n)
    figures = Figures("crash_ingest")
    rng = random.Random(SEED)
    argv = [sys.executable, "-c", INGEST, str(db), str(path), NOW, str(batch)]
    kills = 0
    for _ in range(KILLS):
        before = len(stored_ids(db))
        if before == n:
            break
        with figures.example():
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
            )
            deadline = time.monotonic() + 120
            target = before + batch * rng.randint(1, 4)  # a few batches into this run, then a random pause
            while (
                len(stored_ids(db)) < min(target, n) and proc.poll() is None and time.monotonic() < deadline
            ):
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.3))
            finished = proc.poll() is not None
            _kill_group(proc)
            kills += not finished
            got = stored_ids(db)
            assert len(got) % batch == 0 or len(got) == n, len(got)  # whole batches only
            assert got == ids[: len(got)]  # in file order, each once: nothing lost, nothing twice
            assert_intact(db)
    with open_ledger(db) as ledger:  # the same ingest again, to the end
        report = ingest_files(ledger, [path], now=NOW, batch_size=batch)
        at_restart = n - report.accepted
        assert (report.duplicates, report.rejected) == (at_restart, 0)
    got = stored_ids(db)
    figures.lines = n
    figures.lost = n - len(set(got))
    twice = len(got) - len(set(got))
    assert got == ids and figures.lost == 0 and twice == 0
    assert_intact(db)
    assert kills >= 1, "every run finished before it could be killed"
    figures.extra.update(kills_survived=kills, stored_twice=twice)
    figures.report()
    print(f"crash ingest: {kills} kills survived, {figures.lost} records lost, {twice} stored twice")


# -- kill -9 during objection review ----------------------------------------------------------------

REVIEW = """
import sys
from socialcredit.dueprocess.objections import decide_objection, file_objection, list_objections, start_review
from socialcredit.ledger import open_ledger

db, n = sys.argv[1], int(sys.argv[2])
with open_ledger(db, create=False) as ledger:
    rows = ledger.records_table()
    pairs = list(zip(rows["id"].to_pylist(), rows["subject"].to_pylist()))[:n]
    for k, (rid, subject) in enumerate(pairs):  # each step only if not done yet: a re-run resumes
        mine = [o for o in list_objections(ledger, subject) if rid in o.records]
        o = mine[0] if mine else file_objection(
            ledger, subject=subject, records=[rid], grounds="not me", on="2019-01-10", actor=subject
        )
        if o.state == "filed":
            o = start_review(ledger, o.id, officer="officer-1", on="2019-01-12")
        if o.state == "under_review":
            outcome = "upheld" if k % 2 == 0 else "rejected"
            decide_objection(
                ledger, o.id, outcome=outcome, officer="officer-1", reasons="checked", on="2019-01-15"
            )
print("done", flush=True)
"""


def _objection_state(db: Path) -> tuple[list[Any], list[dict[str, Any]], int]:
    """The objections (folded), the correction records, and the number of actions."""
    from socialcredit.dueprocess.objections import list_objections
    from socialcredit.ledger import read_actions

    with open_ledger(db, create=False) as ledger:
        objections = list_objections(ledger)
        corrections = [r for r in ledger.records_table().to_pylist() if r["corrects"]]
        return objections, corrections, len(read_actions(ledger))


def _assert_review_consistent(db: Path) -> None:
    """No correction without the upheld decision that lists it, no upheld decision without its
    corrections, each step of each objection at most once, and the ledger verifies."""
    assert_intact(db)
    objections, corrections, _ = _objection_state(db)
    listed = {c for o in objections if o.state == "upheld" for c in o.corrections}
    assert {r["id"] for r in corrections} == listed
    for o in objections:
        kinds = [e["kind"] for e in o.history]
        assert len(kinds) == len(set(kinds)), kinds  # filed, review, decision: each once
        assert (o.state == "upheld") == bool(o.corrections)


@pytest.mark.slow
def test_kill_9_at_random_points_during_objection_review(tmp_path: Path, tiny: Any) -> None:
    n = 120 if FUZZ else 40
    db = tmp_path / "ledger.db"
    path = tmp_path / "records.jsonl"
    write_records(path, tiny, n)
    with open_ledger(db) as ledger:
        ledger.append_registry(tiny.registry)
        assert ingest_files(ledger, [path], now=NOW).accepted == n
    figures = Figures("crash_objection_review")
    rng = random.Random(SEED)
    argv = [sys.executable, "-c", REVIEW, str(db), str(n)]
    kills = 0
    for _ in range(KILLS):
        with figures.example():
            before = _objection_state(db)[2]
            if before >= 3 * n:
                break
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
            )
            target, deadline = before + rng.randint(3, 12), time.monotonic() + 120
            while _objection_state(db)[2] < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.05))
            finished = proc.poll() is not None
            _kill_group(proc)
            kills += not finished
            _assert_review_consistent(db)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)  # resume to the end
    assert done.returncode == 0, done.stderr[-2000:]
    _assert_review_consistent(db)
    objections, corrections, actions = _objection_state(db)
    assert len(objections) == n and all(not o.open for o in objections)
    assert actions == 3 * n  # filed, review, decision: each exactly once
    assert len(corrections) == sum(o.state == "upheld" for o in objections) == (n + 1) // 2
    assert kills >= 1, "every run finished before it could be killed"
    figures.lines = n
    figures.extra.update(kills_survived=kills, objections=n)
    figures.report()
    print(f"crash objection review: {kills} kills survived, {n} objections, each step once")


# -- kill -9 of the server while sources send batches ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-c", "from socialcredit.cli import main; main()", "serve", "--db", str(db),
            "--port", str(port), "--today", TODAY]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "the server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    _kill_group(proc)
    raise RuntimeError("the server did not start")


def _post(port: int, token: str, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/records",
        data=json.dumps({"records": records}).encode(),
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except (OSError, urllib.error.HTTPError, json.JSONDecodeError):
        return None  # not acknowledged


def _court_batches(world: World, tiny: Any, n_batches: int, size: int) -> list[list[dict[str, Any]]]:
    return [
        [
            {
                "id": f"api-{b:04d}-{i:03d}",
                "subject": tiny.persons[i % len(tiny.persons)],
                "category": "judicial.judgment_default",
                "source": "court",
                "occurred_at": f"2018-{1 + b % 12:02d}-{1 + i % 28:02d}",
            }
            for i in range(size)
        ]
        for b in range(n_batches)
    ]


@pytest.mark.slow
def test_kill_9_of_the_server_loses_no_acknowledged_record(tmp_path: Path, tiny: Any) -> None:
    world = build_world(tmp_path, tiny)
    token = world.tokens["court"]
    batches = _court_batches(world, tiny, 60, 50)
    figures = Figures("crash_api")
    rng = random.Random(SEED)
    acknowledged: set[str] = set()
    rounds = max(1, KILLS // 3)
    for _ in range(rounds):
        with figures.example():
            port = _free_port()
            server = _serve(world.db, port)
            stop = threading.Event()

            def send(port: int = port, stop: threading.Event = stop) -> None:
                for batch in batches:
                    if stop.is_set():
                        return
                    answer = _post(port, token, batch)
                    if answer is not None and answer["accepted"] + answer["duplicates"] == len(batch):
                        acknowledged.update(r["id"] for r in batch)

            sender = threading.Thread(target=send)
            sender.start()
            time.sleep(rng.uniform(0.5, 2.5))
            _kill_group(server)
            stop.set()
            sender.join()
            got = [i for i in stored_ids(world.db) if i.startswith("api-")]
            assert acknowledged <= set(got), sorted(acknowledged - set(got))[:5]  # acknowledged: there
            assert len(got) == len(set(got))  # each once
            assert len(got) % 50 == 0  # whole requests only: a request is one transaction
            assert_intact(world.db)
    server = _serve(world.db, _free_port())
    port = int(server.args[server.args.index("--port") + 1])
    try:
        for batch in batches:  # every source sends again what was not acknowledged
            assert _post(port, token, batch) is not None
    finally:
        _kill_group(server)
    got = [i for i in stored_ids(world.db) if i.startswith("api-")]
    expected = {r["id"] for batch in batches for r in batch}
    figures.lines = len(expected)
    figures.lost = len(expected - set(got))
    twice = len(got) - len(set(got))
    assert figures.lost == 0 and twice == 0 and set(got) == expected
    assert_intact(world.db)
    figures.extra.update(kills_survived=rounds, stored_twice=twice, acknowledged=len(acknowledged))
    figures.report()
    print(f"crash api: {rounds} kills survived, {len(acknowledged)} acknowledged records kept, 0 lost")


# -- kill -9 during a simulation run ----------------------------------------------------------------


def _simulate(out: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-c", "from socialcredit.cli import main; main()", "simulate", "classroom",
            "--out", str(out), "--ledger", "--size", "300", "--days", "30", "--json"]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def assert_run_dir_consistent(out: Path) -> bool:
    """Whatever is under a final name is whole; a manifest vouches for every file it lists.
    Returns whether the run is complete (has a manifest)."""
    import hashlib

    import pyarrow.parquet as pq

    for path in out.rglob("*.parquet"):
        pq.read_table(path)  # a half-written Parquet file fails here
    manifest = out / "manifest.json"
    if not manifest.exists():
        return False
    data = json.loads(manifest.read_text("utf-8"))
    for name, digest in data["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    return True


@pytest.mark.slow
def test_kill_9_during_a_simulation_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    figures = Figures("crash_simulate")
    rng = random.Random(SEED)
    kills = 0
    for _ in range(max(1, KILLS // 3)):
        with figures.example():
            proc = _simulate(out)
            time.sleep(rng.uniform(1.0, 8.0))
            finished = proc.poll() is not None
            _kill_group(proc)
            kills += not finished
            assert_run_dir_consistent(out)
            if (out / "ledger.db").exists():
                assert_intact(out / "ledger.db")
    proc = _simulate(out)  # the same run again, to the end
    assert proc.wait(timeout=600) == 0, proc.stderr.read().decode() if proc.stderr else ""
    assert assert_run_dir_consistent(out)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    got = stored_ids(out / "ledger.db")
    records = pa.parquet.read_table(out / "records.parquet")  # type: ignore[attr-defined]
    figures.lines = manifest["records"]
    figures.lost = manifest["records"] - len(set(got))
    assert len(got) == len(set(got)) == manifest["records"] == records.num_rows
    assert got == records["id"].to_pylist()
    assert_intact(out / "ledger.db")
    figures.extra.update(kills_survived=kills, stored_twice=len(got) - len(set(got)))
    figures.report()
    print(f"crash simulate: {kills} kills survived, {figures.lost} records lost")


def test_simulation_outputs_are_never_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails half-way (a full disk, a crash) leaves the file under its final name as it
    was, and no manifest vouches for the run."""
    import pyarrow.parquet as pq

    from socialcredit.simulate import outputs

    path = tmp_path / "daily.parquet"
    old = pa.table({"day": [1, 2]})
    outputs._write(old, path)
    outputs.write_manifest(tmp_path, {"files": {"daily.parquet": "old"}})
    real = pq.write_table

    def half_then_full(table: pa.Table, where: Any, **kw: Any) -> None:
        Path(where).write_bytes(b"PAR1\x00\x00")  # some bytes reach the disk, then it is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.pq, "write_table", half_then_full)
    with pytest.raises(OSError, match="No space"):
        outputs._write(pa.table({"day": [1, 2, 3]}), path)
    assert pq.read_table(path).equals(old)  # the whole old file, not a half new one
    monkeypatch.setattr(outputs.pq, "write_table", real)
    assert outputs._write(pa.table({"day": [3]}), path)
    assert pq.read_table(path).num_rows == 1
    assert json.loads((tmp_path / "manifest.json").read_text())["files"] == {"daily.parquet": "old"}
    assert not list(tmp_path.glob("manifest.json.partial"))


# -- a full disk ------------------------------------------------------------------------------------


def _limit_pages(ledger: Ledger, pages: int) -> None:
    """Every new connection of ``ledger`` may grow the file to ``pages`` pages: SQLite then fails
    writes with "database or disk is full", as on a full disk."""

    @sa.event.listens_for(ledger.engine, "connect")
    def _limit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    ledger.engine.dispose()


def test_a_full_disk_during_ingest_is_a_clear_error_and_corrupts_nothing(tmp_path: Path, tiny: Any) -> None:
    n, batch = 6_000, 500
    db = tmp_path / "ledger.db"
    path = tmp_path / "records.jsonl"
    ids = write_records(path, tiny, n)
    with open_ledger(db) as ledger:
        ledger.append_registry(tiny.registry)
        pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
        _limit_pages(ledger, pages + 60)
        with pytest.raises(LedgerError) as caught:
            ingest_files(ledger, [path], now=NOW, batch_size=batch)
        message = str(caught.value)
        assert "full" in message and "run the same command again" in message and "\n" not in message
        assert verify(ledger).ok
        kept = stored_ids(db)
        assert 0 < len(kept) < n and len(kept) % batch == 0 and kept == ids[: len(kept)]
    with open_ledger(db) as ledger:  # space is back: the same ingest stores the rest, once
        report = ingest_files(ledger, [path], now=NOW, batch_size=batch)
        assert (report.accepted, report.duplicates) == (n - len(kept), len(kept))
        assert verify(ledger).ok
    assert stored_ids(db) == ids
    print(f"disk full: {len(kept)} of {n} records stored before, 0 lost after the rerun")


def test_a_full_disk_during_a_registry_import_is_a_clear_error(tmp_path: Path, tiny: Any) -> None:
    from socialcredit.ingest import import_registry_files
    from socialcredit.society import sample_society

    lines = sample_society(seed=3, persons=1_500, organisations=50, records=0).registry
    path = tmp_path / "registry.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    db = tmp_path / "ledger.db"
    with open_ledger(db) as ledger:
        pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
        _limit_pages(ledger, pages + 40)
        with pytest.raises(LedgerError, match=r"could not be written .*full.* lines of this run"):
            import_registry_files(ledger, [path], batch_size=500)
        assert verify(ledger).ok
    with open_ledger(db) as ledger:
        report = import_registry_files(ledger, [path], batch_size=500)
        assert report.accepted + report.duplicates == len(lines) and not report.rejects
        assert verify(ledger).ok


def test_a_full_disk_through_the_api_is_503_and_stores_nothing(tmp_path: Path, tiny: Any) -> None:
    world = build_world(tmp_path, tiny)
    batch = _court_batches(world, tiny, 1, 400)[0]
    with world.client(warm=False) as client:
        ledger = client.app.state.service.ledger  # type: ignore[attr-defined]
        pages = sqlite3.connect(world.db).execute("PRAGMA page_count").fetchone()[0]
        _limit_pages(ledger, pages + 2)
        before = len(stored_ids(world.db))
        response = client.post("/v1/records", json={"records": batch}, headers=world.auth("court"))
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "storage_unavailable" and "full" in error["message"]
        assert "nothing of this request was stored" in error["message"]
        assert response.headers["retry-after"]
        assert len(stored_ids(world.db)) == before
        assert client.get("/v1/health").status_code == 200  # the service keeps serving reads
    assert_intact(world.db)


@pytest.mark.slow
def test_a_full_disk_on_a_real_small_filesystem(tmp_path: Path, tiny: Any) -> None:
    """The CLI on a 3 MB tmpfs (needs root to mount; skipped otherwise): exit 2, one line."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        db = mount / "ledger.db"
        with open_ledger(db) as ledger:
            ledger.append_registry(tiny.registry)
        path = tmp_path / "records.jsonl"
        ids = write_records(path, tiny, 40_000)
        cli = [sys.executable, "-c", "from socialcredit.cli import main; main()"]
        run = subprocess.run([*cli, "ingest", "--db", str(db), str(path), "--now", NOW], capture_output=True)
        stderr = run.stderr.decode()
        assert run.returncode == 2, stderr
        assert "could not be written" in stderr and "Traceback" not in stderr
        kept = stored_ids(db)
        assert len(kept) < len(ids) and kept == ids[: len(kept)]
        assert_intact(db)
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
