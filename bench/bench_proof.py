"""Proof benchmark: appending with the Merkle tree beside the plain hash chain, proofs, verify.

Generates (seeded) valid records and measures, each in a fresh process on a fresh ledger:

* ``chain``: ``Ledger.append_records`` in batches of 50,000: the hash chain only (the baseline);
* ``tree``: the same batches, and after each one the Merkle tree grown by the batch's leaves and
  a signed tree head (Ed25519) stored: what a log that signs a head per batch costs;

interleaved, ``--rounds`` times (default 2), the median of each reported. Then, on the ``tree``
ledger: the latency of an inclusion proof of a random record (the record looked up by id, the
audit path from the tree in memory; target under 1 ms) and of checking one (the subject's side),
and ``verify`` (three chains and every signed head against rebuilt trees) over all the records.
``--verify-records N`` also times ``verify`` over a ledger of N records (10,000,000 for the
issue's figure: it takes the better part of an hour on a shared 2-core machine, so it is not in
the default run).

Writes ``bench/results/proof.json`` and (full runs) the Proof section of ``docs/performance.md``.

Usage: ``python bench/bench_proof.py [--quick] [--records N] [--rounds R] [--verify-records N]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

import perfdoc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "proof.json"
DOCS = ROOT / "docs" / "performance.md"
SEED = 2014
BATCH = 50_000
MODES = ("chain", "tree")
PROOF_TARGET_MS = 1.0


def records(n: int, start: int = 0) -> pa.Table:
    """``n`` valid records (synthetic subjects; the append path does not consult the registry)."""
    rng = np.random.default_rng(SEED + start)
    day = rng.integers(0, 1096, n)
    days = (np.datetime64("2016-01-01") + day.astype("timedelta64[D]")).astype(str)
    cats = np.array(
        ["traffic.red_light", "rail.smoking", "tax.arrears", "finance.loan_default"], dtype=object
    )
    srcs = np.array(["traffic_police", "railway", "tax", "bank"], dtype=object)
    k = rng.integers(0, len(cats), n)
    return pa.table(
        {
            "id": pa.array([f"p{SEED}-{i:09d}" for i in range(start, start + n)]),
            "subject": pa.array([f"S{s:07d}" for s in rng.integers(0, max(n // 10, 1), n)]),
            "category": pa.array(cats[k].tolist()),
            "occurred_at": pa.array([f"{d}T09:30:00+08:00" for d in days]),
            "source": pa.array(srcs[k].tolist()),
            "value": pa.array(np.round(rng.gamma(2.0, 100.0, n), 2)),
        }
    )


def child(mode: str, directory: Path, n: int, measure: bool) -> dict:
    """One append run (in its own process); with ``measure``, proofs and verify afterwards."""
    from socialcredit.ledger import open_ledger, verify
    from socialcredit.ledger.merkle import load_or_create_key, verify_inclusion
    from socialcredit.ledger.proofs import TreeCache, ledger_tree, record_inclusion_proof, sign_heads

    table = records(n)
    db = directory / f"{mode}.db"
    if db.exists():
        db.unlink()
    key = load_or_create_key(directory / "signing.key")
    cache = TreeCache()
    out: dict = {}
    with open_ledger(db) as ledger:
        start, cpu = time.perf_counter(), perfdoc.cpu_seconds()
        for i in range(0, n, BATCH):
            ledger.append_records(table.slice(i, BATCH))
            if mode == "tree":
                sign_heads(ledger, key, trees=["records"], cache=cache)
        seconds, cpu = time.perf_counter() - start, perfdoc.cpu_seconds() - cpu
        out.update(seconds=seconds, cpu_seconds=cpu, rows=n, rate=n / seconds, peak_mb=perfdoc.peak_mb())
        if mode == "tree":
            out["heads"] = -(-n // BATCH)
        if measure:
            merkle = cache.tree(ledger, "records")
            rng = random.Random(SEED)
            ids = [f"p{SEED}-{rng.randrange(n):09d}" for _ in range(2_000)]
            lat, check, path_only = [], [], []
            for rid in ids:
                t0 = time.perf_counter()
                proof = record_inclusion_proof(ledger, rid, merkle=merkle)
                lat.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                merkle.inclusion_proof(proof.index)
                path_only.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                from socialcredit.ledger.merkle import leaf_hash

                assert verify_inclusion(
                    leaf_hash(proof.leaf.encode()), proof.index, proof.size, proof.path, proof.root
                )
                check.append(time.perf_counter() - t0)

            def ms(xs: list[float], q: float) -> float:
                return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] * 1000

            out["proof_ms"] = {"median": statistics.median(lat) * 1000, "p99": ms(lat, 0.99)}
            out["path_ms"] = {"median": statistics.median(path_only) * 1000, "p99": ms(path_only, 0.99)}
            out["check_ms"] = {"median": statistics.median(check) * 1000, "p99": ms(check, 0.99)}
            out["path_length"] = len(proof.path)
            start = time.perf_counter()
            rebuilt = ledger_tree(ledger, "records")
            out["tree_build_seconds"] = time.perf_counter() - start
            assert rebuilt.root() == merkle.root()
            start, cpu = time.perf_counter(), perfdoc.cpu_seconds()
            report = verify(ledger)
            out["verify_seconds"] = time.perf_counter() - start
            out["verify_cpu_seconds"] = perfdoc.cpu_seconds() - cpu
            out["verified"] = report.ok
            out["verify_heads"] = report.tree_heads
            out["verify_peak_mb"] = perfdoc.peak_mb()
    if not measure:
        db.unlink()
    return out


def verify_big(directory: Path, n: int) -> dict:
    """Append ``n`` records (one signed head per million), then time ``verify`` over them."""
    from socialcredit.ledger import open_ledger, verify
    from socialcredit.ledger.merkle import load_or_create_key
    from socialcredit.ledger.proofs import TreeCache, sign_heads

    db = directory / "big.db"
    key = load_or_create_key(directory / "signing.key")
    cache = TreeCache()
    step = 1_000_000
    with open_ledger(db) as ledger:
        t0 = time.perf_counter()
        for i in range(0, n, step):
            ledger.append_records(records(min(step, n - i), start=i))
            sign_heads(ledger, key, trees=["records"], cache=cache)
            print(f"  appended {min(i + step, n):,} in {time.perf_counter() - t0:.0f} s", flush=True)
        append = time.perf_counter() - t0
        del cache
        start, cpu = time.perf_counter(), perfdoc.cpu_seconds()
        report = verify(ledger)
        seconds, cpu = time.perf_counter() - start, perfdoc.cpu_seconds() - cpu
    size = db.stat().st_size
    db.unlink()
    return {
        "records": n,
        "append_seconds": append,
        "verify_seconds": seconds,
        "verify_cpu_seconds": cpu,
        "verified": report.ok,
        "heads": report.tree_heads,
        "peak_mb": perfdoc.peak_mb(),
        "db_mb": round(size / 2**20),
    }


def _run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(results: dict) -> str:
    runs = results["runs"]
    base = runs["chain"]["rate"]
    lines = [
        "| append | records | seconds | records/s (median) | × chain | CPU s | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, label in (("chain", "hash chain only"), ("tree", "chain + tree + a signed head per batch")):
        r = runs[mode]
        lines.append(
            f"| {label} | {r['rows']:,} | {r['seconds']:.1f} | {r['rate']:,.0f} | {r['rate'] / base:.2f} | "
            f"{r['cpu_seconds']:.1f} | {r['peak_mb']:.0f} |"
        )
    return "\n".join(lines)


def runs_cpu_ratio(results: dict) -> float:
    """The tree run's extra CPU time over the chain run's."""
    runs = results["runs"]
    return runs["tree"]["cpu_seconds"] / runs["chain"]["cpu_seconds"] - 1


def _update_docs(results: dict) -> None:
    start, end = "<!-- bench:proof:start -->", "<!-- bench:proof:end -->"
    if not DOCS.exists():
        return
    text = DOCS.read_text()
    m, r = results["machine"], results["runs"]["tree"]
    big = results.get("verify_big")
    big_line = (
        f"`verify` over {big['records']:,} records (one signed head per million): "
        f"{big['verify_seconds']:.0f} s ({big['verify_cpu_seconds']:.0f} CPU s, "
        f"peak RSS {big['peak_mb']:,.0f} MB)."
        if big
        else f"`verify` over 10,000,000 records was not run here (`--verify-records 10000000`; at the rate "
        f"above it would take about {r['verify_seconds'] * 10 / 60:.0f} minutes, plus about "
        f"{10 * results['runs']['chain']['seconds'] / 60:.0f} to append them)."
    )
    body = (
        f"{start}\n## Proof\n\n"
        f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores, shared with other work), "
        f"Python {m['python']}, SQLite {m['sqlite']}: `python bench/bench_proof.py` "
        f"({results['records']:,} synthetic records appended in batches of {BATCH:,}; median of "
        f"{results['rounds']} interleaved rounds, each in a fresh process). The tree run also grows "
        f"the Merkle tree by each batch and signs and stores a head ({r['heads']} heads).\n\n"
        f"{_table(results)}\n\n"
        f"An inclusion proof of a random record (looked up by id, audit path of {r['path_length']} hashes "
        f"from the tree in memory): median {r['proof_ms']['median']:.3f} ms, "
        f"p99 {r['proof_ms']['p99']:.3f} ms "
        f"(target under {PROOF_TARGET_MS:g} ms: {'met' if results['proof_target_met'] else 'MISSED'}); "
        f"the audit path alone {r['path_ms']['median'] * 1000:.0f} µs; checking it (the subject's side) "
        f"{r['check_ms']['median'] * 1000:.0f} µs. Rebuilding the tree of {results['records']:,} leaves from "
        f"the database: {r['tree_build_seconds']:.1f} s. `verify` (three chains, every signed head "
        f"against the rebuilt tree): {r['verify_seconds']:.1f} s for {results['records']:,} records "
        f"({r['verify_cpu_seconds']:.1f} CPU s, peak RSS {r['verify_peak_mb']:,.0f} MB). {big_line}\n\n"
        f"Load average when it finished: {' / '.join(f'{x:.1f}' for x in m['load'])} on {m['cores']} "
        "cores: wall times are inflated by other work, CPU seconds are the fairer measure (the tree "
        f"adds {runs_cpu_ratio(results):.0%} CPU to appending).\n{end}"
    )
    if start in text and end in text:
        text = text[: text.index(start)] + body + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    DOCS.write_text(_summary_row(text, results))


def _summary_row(text: str, results: dict) -> str:
    """Add or refresh the Proof row of the summary table at the top of docs/performance.md.

    The ratio is of CPU seconds (chain / tree): on this shared machine wall-clock rates of two
    interleaved rounds swap places with the neighbours' load, CPU seconds do not."""
    tree, chain = results["runs"]["tree"], results["runs"]["chain"]
    ratio = chain["cpu_seconds"] / tree["cpu_seconds"]
    row = (
        f"| append with Merkle tree + signed head per batch | {tree['cpu_seconds']:.1f} CPU s per "
        f"{tree['rows']:,} records ({tree['rate']:,.0f} records/s wall); inclusion proof "
        f"{tree['proof_ms']['median']:.2f} ms | hash chain only, {chain['cpu_seconds']:.1f} CPU s "
        f"({chain['rate']:,.0f} records/s wall) | {ratio:.2f}× (CPU) | proof < 1 ms | [Proof](#proof) |"
    )
    return perfdoc.with_summary_row(text, "| append with Merkle tree", row).rstrip("\n") + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 records, one round (smoke)")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2)")
    parser.add_argument("--verify-records", type=int, default=0, help="also verify a ledger this large")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--big", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("-n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dir, args.n, args.measure)))
        return 0
    if args.big:
        print(json.dumps(verify_big(args.dir, args.n)))
        return 0
    n = args.records or (100_000 if args.quick else 1_000_000)
    rounds = args.rounds or (1 if args.quick else 2)
    directory = Path(tempfile.mkdtemp(prefix="bench-proof-"))
    try:
        samples: dict[str, list[dict]] = {m: [] for m in MODES}
        for k in range(rounds):
            for mode in MODES:
                measure = mode == "tree" and k == rounds - 1
                argv = ["--child", mode, "--dir", str(directory), "-n", str(n)]
                samples[mode].append(_run_child(argv + (["--measure"] if measure else [])))
                print(f"round {k + 1}: {mode} {samples[mode][-1]['rate']:,.0f} records/s", flush=True)
        runs = {}
        for mode in MODES:
            ordered = sorted(samples[mode], key=lambda r: r["rate"])
            runs[mode] = dict(ordered[len(ordered) // 2])
            runs[mode]["rates"] = [round(r["rate"]) for r in samples[mode]]
        measured = next(s for s in samples["tree"] if "proof_ms" in s)
        for name in ("proof_ms", "path_ms", "check_ms", "path_length", "tree_build_seconds", "verify_seconds",
                     "verify_cpu_seconds", "verified", "verify_heads", "verify_peak_mb"):  # fmt: skip
            runs["tree"][name] = measured[name]
        results = {
            "benchmark": "proof",
            "date": time.strftime("%Y-%m-%d"),
            "quick": n < 1_000_000,
            "records": n,
            "rounds": rounds,
            "machine": {
                "cpu": perfdoc.cpu_model(),
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "load": os.getloadavg(),
            },
            "runs": runs,
            "tree_over_chain": runs["tree"]["rate"] / runs["chain"]["rate"],
            "proof_target_met": runs["tree"]["proof_ms"]["median"] < PROOF_TARGET_MS,
        }
        if args.verify_records:
            print(f"verify over {args.verify_records:,} records ...", flush=True)
            results["verify_big"] = _run_child(
                ["--big", "--dir", str(directory), "-n", str(args.verify_records)]
            )
        print(_table(results))
        r = runs["tree"]
        print(
            f"inclusion proof: median {r['proof_ms']['median']:.3f} ms, p99 {r['proof_ms']['p99']:.3f} ms; "
            f"verify {r['verify_seconds']:.1f} s over {n:,} records "
            f"({'intact' if r['verified'] else 'BROKEN'})"
        )
        if "verify_big" in results:
            print(f"verify over {args.verify_records:,}: {results['verify_big']['verify_seconds']:.0f} s")
        passed = results["proof_target_met"] and r["verified"]
        if not results["quick"]:
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
            _update_docs(results)
        return 0 if passed else 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
