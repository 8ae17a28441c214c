"""PostgreSQL benchmark: the same records ingested into SQLite and into PostgreSQL, in the same run.

Generates (seeded, with ``bench_ingest.generate``) a registry and valid records as Parquet, then
measures, each in a fresh subprocess on a fresh ledger that already holds the registry:

* ``sqlite``: ``socialcredit.ingest.ingest_files`` into a SQLite file (the embedded default);
* ``postgres``: the same call into a PostgreSQL schema (records go in with ``COPY``);
* ``postgres-executemany``: the same, with ``COPY`` turned off (``Ledger.use_copy = False``):
  what ``COPY`` buys;

interleaved, ``--rounds`` times (default 3), reporting the median of each, and ``verify`` once on
each database. The server is ``--url`` or ``SOCIALCREDIT_BENCH_PG`` / ``SOCIALCREDIT_TEST_PG``
(``make bench`` starts the local one, as ``make test`` does); without one the script says so and
exits 0 without figures. Writes ``bench/results/postgres.json`` and (full runs) the PostgreSQL
section of ``docs/performance.md``.

Usage: ``python bench/bench_postgres.py [--quick] [--records N] [--rounds R] [--url URL]``

Example (a smoke run; its figures are not comparable)::

    SOCIALCREDIT_BENCH_PG=postgresql://user:password@127.0.0.1/db python bench/bench_postgres.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_ingest import NOW, _summary, generate  # noqa: E402
from perfdoc import cpu_model, cpu_seconds, peak_mb  # noqa: E402

ROOT = HERE.parent
RESULTS = HERE / "results" / "postgres.json"
DOCS = ROOT / "docs" / "performance.md"
MODES = ("sqlite", "postgres", "postgres-executemany")
URL_ENV = ("SOCIALCREDIT_BENCH_PG", "SOCIALCREDIT_TEST_PG")


def _schema_url(base: str, schema: str) -> str:
    import sqlalchemy as sa

    from socialcredit.ledger.store import database_url

    url = sa.make_url(database_url(base))
    query = {"options": f"-csearch_path={schema}", "application_name": f"bench-{schema}"}
    return url.update_query_dict(query).render_as_string(hide_password=False)


def _admin(base: str) -> Any:
    import sqlalchemy as sa

    from socialcredit.ledger.store import database_url

    return sa.create_engine(database_url(base), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def prepare(mode: str, directory: Path, base: str | None) -> str:
    """A fresh ledger holding the registry, for one run: a SQLite path or a schema's URL."""
    if mode == "sqlite":
        db = directory / f"run-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(directory / "template.db", db)
        return str(db)
    from socialcredit.ingest import import_registry_files
    from socialcredit.ledger import open_ledger

    assert base is not None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with _admin(base).connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = _schema_url(base, schema)
    with open_ledger(url) as ledger:
        report = import_registry_files(ledger, [directory / "registry.jsonl"])
        assert not report.rejects, report.rejects[:3]
    return url


def cleanup(db: str, base: str | None) -> None:
    if "://" not in db:
        Path(db).unlink(missing_ok=True)
        return
    import sqlalchemy as sa

    assert base is not None
    schema = sa.make_url(db).query["options"].split("=", 1)[1]
    with _admin(base).connect() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def child(mode: str, db: str, directory: Path, check: bool) -> dict[str, Any]:
    """Run one measurement (in its own process) and return its figures."""
    from socialcredit.ingest import ingest_files
    from socialcredit.ledger import open_ledger, verify

    with open_ledger(db) as ledger:
        ledger.use_copy = mode == "postgres"
        start, cpu = time.perf_counter(), cpu_seconds()
        report = ingest_files(ledger, [directory / "records.parquet"], now=NOW, progress=False)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        assert report.rejected == 0 and not report.errors, report.by_reason()
        figures: dict[str, Any] = {
            "seconds": seconds,
            "rows": report.accepted,
            "rate": report.accepted / seconds,
        }
        figures["cpu_seconds"], figures["peak_mb"] = cpu, peak_mb()
        figures["head"] = ledger.heads()["records"]["head"]
        if check:
            start = time.perf_counter()
            figures["verified"] = verify(ledger).ok
            figures["verify_seconds"] = time.perf_counter() - start
    return figures


def _run_child(mode: str, directory: Path, base: str | None, check: bool) -> dict[str, Any]:
    db = prepare(mode, directory, base)
    try:
        cmd = [sys.executable, __file__, "--child", mode, "--db", db, "--dir", str(directory)]
        out = subprocess.run(
            [*cmd, *(["--check"] if check else [])], check=True, capture_output=True, text=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        cleanup(db, base)


def _table(results: dict[str, Any]) -> str:
    base = results["runs"]["sqlite"]
    lines = [
        "| ledger | records | seconds | records/s (median) | × SQLite | CPU s (client) | verify s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in MODES:
        r = results["runs"][mode]
        lines.append(
            f"| {mode} | {r['rows']:,} | {r['seconds']:.1f} | {r['rate']:,.0f} | "
            f"{r['rate'] / base['rate']:.2f} | {r['cpu_seconds']:.1f} | {r['verify_seconds']:.1f} |"
        )
    return "\n".join(lines)


def _update_docs(results: dict[str, Any]) -> None:
    start, end = "<!-- bench:postgres:start -->", "<!-- bench:postgres:end -->"
    if not DOCS.exists():
        return
    text = DOCS.read_text()
    if start not in text or end not in text:
        return
    m, runs = results["machine"], results["runs"]
    copy_gain = runs["postgres"]["rate"] / runs["postgres-executemany"]["rate"]
    body = (
        f"{start}\n"
        f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores, shared), Python {m['python']}, "
        f"SQLite {m['sqlite']}, {m['postgres']} on the same machine over loopback TCP "
        f"(`synchronous_commit = {m['synchronous_commit']}` for the role, the analogue of the ledger's "
        f"SQLite `synchronous=NORMAL`), psycopg {m['psycopg']}; `python bench/bench_postgres.py` "
        f"({results['generated']['records']:,} records from Parquet, {results['generated']['persons']:,} "
        f"persons; median of {results['rounds']} interleaved rounds, each run in a fresh process on a "
        f"fresh ledger holding the registry):\n\n{_table(results)}\n\n"
        f"Every rate measured (records/s): "
        + "; ".join(f"{k} {', '.join(f'{r:,}' for r in runs[k]['rates'])}" for k in MODES)
        + f". `COPY` is {copy_gain:.2f}× `executemany` on PostgreSQL. Every run ends at the same chain "
        f"head ({'yes' if results['same_head'] else 'NO'}) and verifies.\n{end}"
    )
    text = text[: text.index(start)] + body + text[text.index(end) + len(end) :]
    DOCS.write_text(_summary_rows(text, results))


def _summary_rows(text: str, results: dict[str, Any]) -> str:
    """Refresh the PostgreSQL row of the summary table at the top of docs/performance.md."""
    runs = results["runs"]
    pg, lite = runs["postgres"]["rate"], runs["sqlite"]["rate"]
    row = (
        f"| ingest, Parquet → PostgreSQL ledger | {pg:,.0f} records/s (`COPY`) | the same ingest into "
        f"SQLite, {lite:,.0f} records/s | {pg / lite:.2f}× | report | [PostgreSQL](#postgresql) |"
    )
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("| ingest, Parquet → PostgreSQL ledger "):
            lines[i] = row
            break
    else:  # not there yet: after the last row of the summary table
        last = max(i for i, line in enumerate(lines[:40]) if line.startswith("| ") and "[" in line)
        lines.insert(last + 1, row)
    return "\n".join(lines) + "\n"


def _server(base: str) -> dict[str, str]:
    import psycopg

    with _admin(base).connect() as conn:
        version = conn.exec_driver_sql("SHOW server_version").scalar_one()
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
    return {
        "postgres": f"PostgreSQL {version.split()[0]}",
        "synchronous_commit": sync,
        "psycopg": psycopg.__version__,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 records, one round (smoke)")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    parser.add_argument("--url", default=None, help="the PostgreSQL server (a database to make schemas in)")
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.db, args.dir, args.check)))
        return 0
    base = args.url or next((os.environ[k] for k in URL_ENV if os.environ.get(k)), None)
    if not base:
        print(f"no PostgreSQL server: pass --url or set {URL_ENV[0]} (make bench does); nothing measured")
        return 0
    n = args.records or (20_000 if args.quick else 500_000)
    rounds = args.rounds or (1 if args.quick else 3)
    directory = Path(tempfile.mkdtemp(prefix="bench-postgres-"))
    try:
        from socialcredit.ingest import import_registry_files
        from socialcredit.ledger import open_ledger

        t0 = time.perf_counter()
        generated = generate(directory, n)
        (directory / "records.jsonl").unlink()  # Parquet only here
        print(f"generated {generated} in {time.perf_counter() - t0:.1f} s", flush=True)
        with open_ledger(directory / "template.db") as ledger:
            report = import_registry_files(ledger, [directory / "registry.jsonl"])
            assert not report.rejects, report.rejects[:3]
        con = sqlite3.connect(directory / "template.db")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        samples: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
        for k in range(rounds):
            for mode in MODES:
                samples[mode].append(_run_child(mode, directory, base, check=k == 0))
                print(f"round {k + 1}: {mode} {samples[mode][-1]['rate']:,.0f} records/s", flush=True)
        runs = {m: _summary(samples[m]) for m in MODES}
        heads = {r["head"] for m in MODES for r in samples[m]}
        results = {
            "benchmark": "postgres",
            "date": time.strftime("%Y-%m-%d"),
            "quick": bool(args.quick),
            "rounds": rounds,
            "machine": {
                "cpu": cpu_model(),
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                **_server(base),
            },
            "generated": generated,
            "runs": runs,
            "ratios": {m: runs[m]["rate"] / runs["sqlite"]["rate"] for m in MODES},
            "copy_over_executemany": runs["postgres"]["rate"] / runs["postgres-executemany"]["rate"],
            "same_head": len(heads) == 1,
        }
        results["passed"] = results["same_head"] and all(runs[m]["verified"] for m in MODES)
        print(_table(results))
        print("same head, verified" if results["passed"] else "HEADS DIFFER OR VERIFY FAILED")
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        if not results["quick"]:
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
            _update_docs(results)
        return 0 if results["passed"] else 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
