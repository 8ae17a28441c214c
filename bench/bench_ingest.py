"""Ingest benchmark: 1,000,000 records from Parquet and from JSONL, beside a bare executemany.

Generates (seeded) a registry and valid records, imports the registry into a template ledger,
then measures, each in a fresh subprocess on a copy of that ledger:

* ``bare``: ``executemany`` of the very rows the ledger stores (canonical text, hashes and all,
  computed before the clock starts) into the same ``records`` table (same keys and indexes, same
  pragmas), one transaction per 50,000 rows: the practical limit of this machine;
* ``parquet`` and ``jsonl``: ``socialcredit.ingest.ingest_files`` on the same records: read,
  validate, canonicalise, chain and insert.

The three run interleaved, ``--rounds`` times (default 3), and the median of each is reported
(this machine's disk and neighbours make single runs vary by a third).

Targets (issue #2): Parquet at least 0.5x the bare rate, JSONL at least 0.25x, peak memory under
1 GB. Writes ``bench/results/ingest.json`` and (full runs) the ingest section of
``docs/performance.md``.

Usage: ``python bench/bench_ingest.py [--quick] [--records N] [--rounds R] [--keep DIR]``
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
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import perfdoc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "ingest.json"
DOCS = ROOT / "docs" / "performance.md"
SEED = 2016
TARGETS = {"parquet": 0.5, "jsonl": 0.25}
MODES = ("bare", "parquet", "jsonl")
MEMORY_LIMIT_MB = 1024
START, END = "2016-01-01", "2018-12-31"
NOW = "2019-01-01T00:00:00+08:00"


def generate(directory: Path, n_records: int) -> dict[str, int]:
    """Write registry.jsonl, records.parquet and records.jsonl under ``directory``."""
    from socialcredit import ids
    from socialcredit.regions import jurisdictions
    from socialcredit.vocabulary import vocabulary

    rng = np.random.default_rng(SEED)
    regions = [j.code for j in jurisdictions()]
    n_persons = max(1_000, n_records // 10)
    n_orgs = max(100, n_records // 200)
    persons: list[str] = []
    for k, region in enumerate(regions):
        share = range(k, n_persons, len(regions))
        persons += ids.generate_resident_ids(SEED, np.arange(len(share)), region=region).tolist()
    persons = list(dict.fromkeys(persons))
    orgs = list(dict.fromkeys(ids.generate_usccs(SEED, np.arange(n_orgs)).tolist()))
    with (directory / "registry.jsonl").open("w") as fh:
        for i, p in enumerate(persons):
            fh.write(json.dumps({"id": p, "kind": "person", "name": f"P{i} (synthetic)"}) + "\n")
        for i, o in enumerate(orgs):
            fh.write(json.dumps({"id": o, "kind": "organisation", "name": f"Co{i} (synthetic)"}) + "\n")

    voc = vocabulary()
    cats = [c for c in voc.categories.values() if {"person", "organisation"} & set(c.subject_kinds)]
    cat_idx = rng.integers(0, len(cats), n_records)
    subjects = np.empty(n_records, dtype=object)
    person_arr, org_arr = np.array(persons, dtype=object), np.array(orgs, dtype=object)
    for c, cat in enumerate(cats):
        rows = np.flatnonzero(cat_idx == c)
        pool = person_arr if "person" in cat.subject_kinds else org_arr
        subjects[rows] = pool[rng.integers(0, len(pool), len(rows))]
    sources = np.array([cat.sources[int(rng.integers(0, len(cat.sources)))] for cat in cats], dtype=object)
    start = np.datetime64(START)
    days = (np.datetime64(END) - start).astype(int) + 1
    when = (
        start.astype("datetime64[s]")
        + rng.integers(0, days, n_records).astype("timedelta64[D]")
        + rng.integers(7 * 3600, 22 * 3600, n_records).astype("timedelta64[s]")
    )
    occurred = np.char.add(np.datetime_as_string(when, unit="s"), "+08:00")
    amount = np.array([c.unit in ("yuan", "hours") for c in cats])[cat_idx]
    value = np.where(amount, np.round(rng.gamma(2.0, 100.0, n_records), 2), np.nan)
    table = pa.table(
        {
            "id": pa.array([f"b{SEED}-{i:08d}" for i in range(n_records)], pa.string()),
            "subject": pa.array(subjects.tolist(), pa.string()),
            "category": pa.array([cats[c].id for c in cat_idx.tolist()], pa.string()),
            "occurred_at": pa.array(occurred.tolist(), pa.string()),
            "source": pa.array(sources[cat_idx].tolist(), pa.string()),
            "value": pa.array(value, pa.float64(), from_pandas=True),
        }
    )
    pq.write_table(table, directory / "records.parquet", row_group_size=100_000)
    with (directory / "records.jsonl").open("w", encoding="utf-8") as fh:
        for chunk in table.to_batches(100_000):
            cols = chunk.to_pydict()
            for i in range(chunk.num_rows):
                v = cols["value"][i]
                fh.write(
                    f'{{"id":{encode_basestring(cols["id"][i])},'
                    f'"subject":{encode_basestring(cols["subject"][i])},'
                    f'"category":{encode_basestring(cols["category"][i])},'
                    f'"occurred_at":{encode_basestring(cols["occurred_at"][i])},'
                    f'"source":{encode_basestring(cols["source"][i])}'
                    + ("}\n" if v is None else f',"value":{v!r}}}\n')
                )
    return {"records": n_records, "persons": len(persons), "organisations": len(orgs)}


def child(mode: str, directory: Path, check: bool) -> dict[str, float]:
    """Run one measurement (in its own process) and return its figures."""
    from socialcredit.ingest import ingest_files
    from socialcredit.ledger import open_ledger, verify

    db = directory / f"{mode}.db"
    shutil.copy(directory / "template.db", db)
    if mode == "bare":
        return _bare(directory, db)
    with open_ledger(db) as ledger:
        start, cpu = time.perf_counter(), perfdoc.cpu_seconds()
        report = ingest_files(ledger, [directory / f"records.{mode}"], now=NOW, progress=False)
        seconds, cpu = time.perf_counter() - start, perfdoc.cpu_seconds() - cpu
        peak = perfdoc.peak_mb()
        assert report.rejected == 0 and not report.errors, report.by_reason()
        figures = {"seconds": seconds, "rows": report.accepted, "rate": report.accepted / seconds}
        figures["cpu_seconds"], figures["peak_mb"] = cpu, peak
        if check:
            start = time.perf_counter()
            figures["verified"] = verify(ledger).ok
            figures["verify_seconds"] = time.perf_counter() - start
    db.unlink()
    return figures


def _bare(directory: Path, db: Path) -> dict[str, float]:
    """The same rows, prepared before the clock starts, inserted with a bare executemany."""
    from socialcredit.ledger import GENESIS, chain_hashes
    from socialcredit.ledger.canonical import canonical_batch
    from socialcredit.ledger.schema import RECORD_COLUMNS

    table = pq.read_table(directory / "records.parquet")
    batches, head = [], GENESIS
    seq = 1
    for part in table.to_batches(50_000):
        canon = canonical_batch(pa.Table.from_batches([part]))
        hashes = chain_hashes(head, canon.canonical)
        cols = [canon.table[name].to_pylist() for name in RECORD_COLUMNS[5:]]
        n = len(hashes)
        batches.append(
            list(
                zip(
                    range(seq, seq + n),
                    canon.table["id"].to_pylist(),
                    canon.canonical,
                    hashes,
                    [head, *hashes[:-1]],
                    *cols,
                    strict=True,
                )
            )
        )
        head, seq = hashes[-1], seq + n
    from socialcredit.ledger import open_ledger

    open_ledger(db).close()  # same schema, migrations, pragmas as the ledger
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA temp_store=MEMORY")
    sql = f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"
    start, cpu = time.perf_counter(), perfdoc.cpu_seconds()
    for rows in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - start, perfdoc.cpu_seconds() - cpu
    conn.close()
    rows = seq - 1
    db.unlink()
    return {
        "seconds": seconds,
        "rows": rows,
        "rate": rows / seconds,
        "cpu_seconds": cpu,
        "peak_mb": perfdoc.peak_mb(),
    }


def _run_child(mode: str, directory: Path, check: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", mode, "--dir", str(directory)]
    out = subprocess.run([*cmd, *(["--check"] if check else [])], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(samples: list[dict[str, float]]) -> dict[str, float]:
    """The median run (by rate) of a mode, with every rate measured."""
    ordered = sorted(samples, key=lambda r: r["rate"])
    mid = dict(ordered[len(ordered) // 2])
    mid["rates"] = [round(r["rate"]) for r in samples]
    mid["peak_mb"] = max(r["peak_mb"] for r in samples)
    for r in samples:
        if "verified" in r:
            mid["verified"], mid["verify_seconds"] = r["verified"], r["verify_seconds"]
    return mid


def _table(results: dict) -> str:
    bare = results["runs"]["bare"]["rate"]
    lines = [
        "| path | records | seconds | records/s (median) | × bare | target | CPU s | × bare (CPU) "
        "| peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in MODES:
        r = results["runs"][mode]
        ratio = r["rate"] / bare
        target = f"≥ {TARGETS[mode]}" if mode in TARGETS else ""
        cpu_ratio = results["runs"]["bare"]["cpu_seconds"] / r["cpu_seconds"]
        lines.append(
            f"| {mode} | {r['rows']:,} | {r['seconds']:.1f} | {r['rate']:,.0f} | {ratio:.2f} | "
            f"{target} | {r['cpu_seconds']:.1f} | {cpu_ratio:.2f} | {r['peak_mb']:.0f} |"
        )
    return "\n".join(lines)


def _update_docs(results: dict) -> None:
    start, end = "<!-- bench:ingest:start -->", "<!-- bench:ingest:end -->"
    if not DOCS.exists():
        return
    text = DOCS.read_text()
    if start not in text or end not in text:
        return
    m = results["machine"]
    body = (
        f"{start}\n"
        f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"SQLite {m['sqlite']}, `python bench/bench_ingest.py` "
        f"({results['generated']['records']:,} records, {results['generated']['persons']:,} "
        f"persons; median of {results['rounds']} interleaved rounds, each run in a fresh process):"
        f"\n\n{_table(results)}\n\n"
        f"Every rate measured (records/s): "
        + "; ".join(f"{m} {', '.join(f'{r:,}' for r in results['runs'][m]['rates'])}" for m in MODES)
        + f". `socialcredit verify` afterwards: {results['runs']['parquet']['verify_seconds']:.1f} s "
        f"for {results['runs']['parquet']['rows']:,} records.\n{end}"
    )
    text = text[: text.index(start)] + body + text[text.index(end) + len(end) :]
    DOCS.write_text(_summary_rows(text, results))


def _summary_rows(text: str, results: dict) -> str:
    """Refresh the ingest rows of the summary table at the top of docs/performance.md."""
    bare = results["runs"]["bare"]["rate"]
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for mode, label in (("parquet", "ingest, Parquet"), ("jsonl", "ingest, JSONL")):
            if line.startswith(f"| {label} "):
                rate = results["runs"][mode]["rate"]
                lines[i] = (
                    f"| {label} → ledger | {rate:,.0f} records/s | bare `executemany` of the same rows, "
                    f"{bare:,.0f} records/s | {rate / bare:.2f}× | ≥ {TARGETS[mode]}× | [Ingest](#ingest) |"
                )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 records (CI smoke)")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["bare", "parquet", "jsonl"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dir, args.check)))
        return 0
    n = args.records or (100_000 if args.quick else 1_000_000)
    rounds = args.rounds or (1 if args.quick else 3)
    directory = args.keep or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        from socialcredit.ingest import import_registry_files
        from socialcredit.ledger import open_ledger

        t0 = time.perf_counter()
        generated = generate(directory, n)
        print(f"generated {generated} in {time.perf_counter() - t0:.1f} s", flush=True)
        with open_ledger(directory / "template.db") as ledger:
            report = import_registry_files(ledger, [directory / "registry.jsonl"])
            assert not report.rejects, report.rejects[:3]
        con = sqlite3.connect(directory / "template.db")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        samples: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
        for k in range(rounds):
            for mode in MODES:
                samples[mode].append(_run_child(mode, directory, check=k == 0 and mode != "bare"))
                print(f"round {k + 1}: {mode} {samples[mode][-1]['rate']:,.0f} records/s", flush=True)
        runs = {m: _summary(samples[m]) for m in MODES}
        results = {
            "benchmark": "ingest",
            "date": time.strftime("%Y-%m-%d"),
            "quick": n < 1_000_000,
            "rounds": rounds,
            "machine": {
                "cpu": perfdoc.cpu_model(),
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "pyarrow": pa.__version__,
            },
            "generated": generated,
            "sizes_mb": {
                f: round((directory / f).stat().st_size / 2**20, 1)
                for f in ("records.parquet", "records.jsonl", "registry.jsonl")
            },
            "runs": runs,
            "ratios": {m: runs[m]["rate"] / runs["bare"]["rate"] for m in TARGETS},
            "targets": TARGETS,
            "memory_limit_mb": MEMORY_LIMIT_MB,
        }
        results["passed"] = all(
            results["ratios"][m] >= TARGETS[m]
            and runs[m]["peak_mb"] < MEMORY_LIMIT_MB
            and runs[m]["verified"]
            for m in TARGETS
        )
        print(_table(results))
        print("targets met" if results["passed"] else "TARGETS MISSED")
        if not results["quick"]:
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
            _update_docs(results)
        return 0 if results["passed"] else 1
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
