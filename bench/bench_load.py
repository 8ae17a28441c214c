"""Load benchmark: sustained mixed load on ``socialcredit serve`` for a bounded time, on loopback.

Builds a ledger from the synthetic sample society (as bench_api.py does), makes a token per
client (two sources, an officer, an admin), starts the server (uvicorn, one process, access log
off, pinned to one core) and loads it with a small asyncio HTTP/1.1 client (keep-alive
connections, one request in flight on each, pinned to another core) mixing, at once:

* ``ingest``: sources sending ``POST /v1/records`` batches of new records (court judgments and
  traffic violations), paced at ``--write-interval`` per connection, as feeds arrive;
* ``decisions``: counters asking ``GET /v1/decisions`` for random subjects and actions;
* ``files``: officers reading ``GET /v1/subjects/{id}``;
* ``portal``: the public searching (``GET /search.json?q=`` on the portal, ``GET
  /v1/public/search?q=`` on the API) by name.

It records requests, errors (any status other than the one expected), latency percentiles (p50,
p95, p99, max) per kind, the server's resident memory every half second, and afterwards checks
the ledger: every record a source was told was accepted is stored, once, and ``verify`` passes.

Pass: no errors, no record lost, memory flat (resident memory in the last third of the run at
most ``MEMORY_SLACK`` above the first third, after warm-up). Writes ``bench/results/load.json``
and (full runs) the Load section and summary row of ``docs/performance.md``.

The service evaluates the whole ledger again on the first read after a write (docs/api.md;
incremental updates come with a later issue), so the feeds are paced (default: a batch every 2 s
per source connection) and the ledger is small (5,000 persons, 20,000 records), for 120 s: a load
the service sustains. ``--write-interval 1 --persons 50000 --records 200000`` shows what happens when
writes come faster than an evaluation takes (docs/performance.md, Load).

Usage: ``python bench/bench_load.py [--quick] [--seconds S] [--write-interval S] [--persons N]
[--records N] [--system-allocator] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import perfdoc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_api  # noqa: E402  (the server start-up and machine helpers)

RESULTS = HERE / "results" / "load.json"
DOCS = ROOT / "docs" / "performance.md"
SEED = 2016
TODAY = "2019-06-01"
MEMORY_SLACK = 0.25
ACTIONS = bench_api.ACTIONS
START, END = "<!-- bench:load:start -->", "<!-- bench:load:end -->"
SUMMARY_PREFIX = "| mixed load (ingest + decisions + files + portal)"
#: (kind, connections, expected status)
MIX = (("ingest", 2, 200), ("decisions", 4, 200), ("files", 1, 200), ("portal", 2, 200))


# -- set-up ---------------------------------------------------------------------------------------


def build_ledger(directory: Path, persons: int, records: int) -> dict[str, Any]:
    """A ledger of the sample society and a token per client."""
    from socialcredit.ledger import open_ledger
    from socialcredit.service.tokens import create_token
    from socialcredit.society import sample_society

    society = sample_society(
        seed=SEED, persons=persons, organisations=max(10, persons // 20), records=records
    )
    tokens = {}
    with open_ledger(directory / "ledger.db") as ledger:
        ledger.append_registry(society.registry)
        ledger.append_records(society.records)
        for name, scope in {
            "court": {"role": "source", "source": "court"},
            "traffic": {"role": "source", "source": "traffic_police"},
            "officer": {"role": "officer"},
            "admin": {"role": "admin"},
        }.items():
            tokens[name] = create_token(ledger, label=f"load {name}", **scope)[1]
        counts = ledger.counts()
    subjects = [s for s in society.subjects]
    return {
        "tokens": tokens,
        "persons": [s["id"] for s in subjects if s["kind"] == "person"],
        "names": sorted({s["name"].split(" (")[0] for s in subjects if s["kind"] == "person"})[:200],
        "subjects": [s["id"] for s in subjects],
        "records": counts["records"],
        "registry_subjects": counts["subjects"],
    }


# -- the load generator ---------------------------------------------------------------------------


class Requests:
    """Endless requests of one kind (the ingest ones with fresh record ids)."""

    def __init__(self, kind: str, setup: dict[str, Any], port: int, seed: int, batch: int) -> None:
        self.kind, self.setup, self.port = kind, setup, port
        self.rng = np.random.default_rng(seed)
        self.batch = batch
        self.sent_ids: list[list[str]] = []
        self.n = 0

    def _get(self, path: str, token: str | None = None) -> bytes:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{auth}\r\n".encode()

    def next(self) -> tuple[bytes, list[str] | None]:
        s, r = self.setup, self.rng
        self.n += 1
        if self.kind == "decisions":
            subject = s["subjects"][int(r.integers(len(s["subjects"])))]
            action = ACTIONS[int(r.integers(len(ACTIONS)))]
            return self._get(f"/v1/decisions?subject={subject}&action={action}", s["tokens"]["officer"]), None
        if self.kind == "files":
            subject = s["persons"][int(r.integers(len(s["persons"])))]
            return self._get(f"/v1/subjects/{subject}", s["tokens"]["officer"]), None
        if self.kind == "portal":
            name = s["names"][int(r.integers(len(s["names"])))].replace(" ", "%20")
            path = f"/search.json?q={name}" if self.n % 2 else f"/v1/public/search?q={name}"
            return self._get(path), None
        source = "court" if self.n % 2 else "traffic"
        category, src = (
            ("judicial.judgment_default", "court")
            if source == "court"
            else ("traffic.red_light", "traffic_police")
        )
        ids, records = [], []
        for i in range(self.batch):
            rid = f"load-{id(self):x}-{self.n:06d}-{i:03d}"
            ids.append(rid)
            day = 1 + int(r.integers(28))
            records.append(
                {
                    "id": rid,
                    "subject": s["persons"][int(r.integers(len(s["persons"])))],
                    "category": category,
                    "source": src,
                    "occurred_at": f"2019-0{1 + int(r.integers(5))}-{day:02d}T10:00:00+08:00",
                }
            )
        body = json.dumps({"records": records}).encode()
        head = (
            f"POST /v1/records HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {s['tokens'][source]}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode()
        return head + body, ids


async def _worker(
    requests: Requests,
    expect: int,
    stop_at: float,
    record_from: float,
    pace: float,
    out: dict[str, Any],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", requests.port)
    clock = time.perf_counter
    try:
        while True:
            t0 = clock()
            if t0 >= stop_at:
                break
            data, ids = requests.next()
            writer.write(data)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            at = head.lower().find(b"content-length:")
            length = int(head[at + 15 : head.index(b"\r\n", at)]) if at >= 0 else 0
            body = await reader.readexactly(length) if length else b""
            t1 = clock()
            if ids is not None and status == 200:
                answer = json.loads(body)
                if answer["accepted"] == len(ids):
                    out["acknowledged"].extend(ids)
            if t0 >= record_from:
                out["latencies"].append(t1 - t0)
                out["at"].append(t1)
                if status != expect:
                    out["errors"].append(status)
            if pace:  # sources send at their own pace, never past the end of the run
                await asyncio.sleep(max(0.0, min(pace - (clock() - t0), stop_at - clock())))
    finally:
        writer.close()


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def _load(
    pid: int, port: int, setup: dict[str, Any], seconds: float, warmup: float, pace: float, batch: int
) -> dict[str, Any]:
    now = time.perf_counter()
    record_from, stop_at = now + warmup, now + warmup + seconds
    kinds: dict[str, dict[str, Any]] = {}
    memory: list[tuple[float, float]] = []
    workers = []
    for k, (kind, connections, expect) in enumerate(MIX):
        out = kinds[kind] = {"latencies": [], "at": [], "errors": [], "acknowledged": []}
        for c in range(connections):
            requests = Requests(kind, setup, port, SEED + 100 * k + c, batch)
            workers.append(
                _worker(requests, expect, stop_at, record_from, pace if kind == "ingest" else 0.0, out)
            )

    async def sample() -> None:
        while time.perf_counter() < stop_at:
            rss = _rss_mb(pid)
            if rss is not None:
                memory.append((time.perf_counter() - record_from, rss))
            await asyncio.sleep(0.5)

    await asyncio.gather(sample(), *workers)
    return {"kinds": kinds, "memory": memory}


def _summary(kind: dict[str, Any], seconds: float) -> dict[str, Any]:
    lat = np.array(kind["latencies"]) * 1000
    if not len(lat):
        return {"requests": 0, "errors": len(kind["errors"])}
    return {
        "requests": len(lat),
        "errors": len(kind["errors"]),
        "error_statuses": sorted(set(kind["errors"])),
        "rps": len(lat) / seconds,
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
    }


def _memory(samples: list[tuple[float, float]], seconds: float) -> dict[str, Any]:
    measured = [m for t, m in samples if t >= 0]
    if len(measured) < 3:
        return {"samples": len(measured), "flat": True, "growth": None}
    third = max(1, len(measured) // 3)
    first, last = float(np.mean(measured[:third])), float(np.mean(measured[-third:]))
    growth = (last - first) / first
    return {
        "samples": len(measured),
        "first_third_mb": round(first, 1),
        "last_third_mb": round(last, 1),
        "max_mb": round(max(measured), 1),
        "growth": round(growth, 4),
        "flat": growth <= MEMORY_SLACK,
    }


def check_ledger(db: Path, acknowledged: list[str]) -> dict[str, Any]:
    """Every acknowledged record is stored exactly once, and the chain verifies."""
    from socialcredit.ledger import open_ledger, verify

    with open_ledger(db, create=False) as ledger:
        with ledger.engine.connect() as conn:
            stored = [r[0] for r in conn.exec_driver_sql("SELECT id FROM records WHERE id LIKE 'load-%'")]
        report = verify(ledger)
    got = set(stored)
    return {
        "acknowledged": len(acknowledged),
        "stored": len(stored),
        "lost": len(set(acknowledged) - got),
        "stored_twice": len(stored) - len(got),
        "verify": report.ok,
    }


# -- report ---------------------------------------------------------------------------------------

LABELS = {
    "ingest": "POST /v1/records (batches)",
    "decisions": "GET /v1/decisions",
    "files": "GET /v1/subjects/{id}",
    "portal": "portal + public search",
}


def _table(results: dict[str, Any]) -> str:
    lines = [
        "| requests | connections | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, connections, _ in MIX:
        r = results["runs"][kind]
        lines.append(
            f"| {LABELS[kind]} | {connections} | {r.get('rps', 0):,.1f} | {r.get('p50_ms', 0):.1f} | "
            f"{r.get('p95_ms', 0):.1f} | {r.get('p99_ms', 0):.1f} | {r.get('max_ms', 0):.0f} | "
            f"{r['errors']} |"
        )
    return "\n".join(lines)


def _section(results: dict[str, Any]) -> str:
    m, s, mem, led = results["machine"], results["setup"], results["memory"], results["ledger"]
    return (
        f"{START}\n## Load\n\n"
        f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"{bench_api._load_note(m.get('load_average'))}: `python bench/bench_load.py`. One "
        f"`socialcredit serve` (uvicorn, one process) pinned to core {s['server_core']}, the load "
        f"generator (asyncio) to core {s['client_core']}; {s['seconds']:.0f} s of mixed load after "
        f"{s['warmup']:.0f} s of warm-up on {s['registry_subjects']:,} subjects and {s['records']:,} "
        f"records (rulebook national): sources posting batches of {s['batch']} new records every "
        f"{s['write_interval']:.1f} s per connection, counters asking for decisions, officers "
        f"reading files, the public searching by name, all at once. A write makes the next read "
        f"evaluate the ledger again (docs/api.md), so reads right after a write wait for it: that is "
        f"the tail of the read latencies.\n\n"
        f"{_table(results)}\n\n"
        f"Ledger afterwards: {led['acknowledged']:,} records acknowledged to the sources, "
        f"{led['stored']:,} stored, {led['lost']} lost, {led['stored_twice']} stored twice, "
        f"verify {'intact' if led['verify'] else 'BROKEN'}. Server memory: "
        f"{mem.get('first_third_mb', 0):,.0f} MB in the first third, {mem.get('last_third_mb', 0):,.0f} MB "
        f"in the last (growth {100 * (mem.get('growth') or 0):+.1f} %, limit +{100 * MEMORY_SLACK:.0f} %), "
        f"peak {mem.get('max_mb', 0):,.0f} MB. Highest rate one token sent: "
        f"{results['per_token_rps_max']:,.0f} requests/s (the per-token rate limit's default, "
        f"10,000/s, is far above it). Pass (no errors, nothing lost, memory flat): "
        f"{'met' if results['passed'] else 'MISSED'}. `socialcredit serve` uses Arrow's system pool "
        f"and at most two glibc malloc arenas (`socialcredit.service.allocator`): with the default "
        f"allocators the same run grew +34.6 % (544 → 733 MB, 2026-11-26), freed memory held in "
        f"per-thread heaps; without writes memory stays flat either way.\n{_heavy_note()}{END}\n"
    )


def _heavy_note() -> str:
    """A paragraph on the last write-heavy run (bench/results/load-write-heavy.json), if any."""
    path = RESULTS.with_name("load-write-heavy.json")
    if not path.exists():
        return ""
    h = json.loads(path.read_text())
    s, r, mem = h["setup"], h["runs"], h["memory"]
    return (
        f"\nWrites faster than an evaluation ({h['date']}, `--write-interval {s['write_interval']:g} "
        f"--persons 50000 --records {s['records']}`, kept in `bench/results/load-write-heavy.json`): "
        f"with a batch every {s['write_interval']:g} s per source on {s['records']:,} records, every "
        f"read waits for a full evaluation of the ledger: decisions {r['decisions'].get('rps', 0):.2f}/s, "
        f"p99 {r['decisions'].get('p99_ms', 0) / 1000:.0f} s; no errors and nothing lost; memory "
        f"{100 * (mem.get('growth') or 0):+.0f} % ({mem.get('first_third_mb', 0):,.0f} → "
        f"{mem.get('last_third_mb', 0):,.0f} MB). Incremental evaluation (a later issue) is what "
        f"removes the wait.\n"
    )


def _summary_row(results: dict[str, Any]) -> str:
    d, led, mem = results["runs"]["decisions"], results["ledger"], results["memory"]
    total = sum(results["runs"][k]["requests"] for k, _, _ in MIX) / results["setup"]["seconds"]
    return (
        f"{SUMMARY_PREFIX} | {total:,.0f} requests/s for {results['setup']['seconds']:.0f} s; decisions "
        f"p99 {d.get('p99_ms', 0):.0f} ms; {led['lost']} lost; "
        f"memory {100 * (mem.get('growth') or 0):+.1f} % "
        f"| — | — | 0 errors, 0 lost, memory ≤ +{100 * MEMORY_SLACK:.0f} % "
        f"({'met' if results['passed'] else 'MISSED'}) | [Load](#load) |"
    )


def update_docs(results: dict[str, Any]) -> None:
    """Replace (or append) the Load section and the summary row of docs/performance.md."""
    perfdoc.update(START, END, _section(results), (SUMMARY_PREFIX, _summary_row(results)), docs=DOCS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small ledger, 8 s of load (smoke)")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--write-interval", type=float, default=None, help="seconds between batches")
    parser.add_argument("--persons", type=int, default=5_000, help="persons in the ledger (full runs)")
    parser.add_argument("--records", type=int, default=20_000, help="records in the ledger (full runs)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the ledger in this folder")
    parser.add_argument(
        "--system-allocator",
        action="store_true",
        help="serve with ARROW_DEFAULT_MEMORY_POOL=system MALLOC_ARENA_MAX=2 (docs/security.md)",
    )
    args = parser.parse_args()
    if args.system_allocator:  # inherited by the server process
        os.environ.update(ARROW_DEFAULT_MEMORY_POOL="system", MALLOC_ARENA_MAX="2")

    quick = args.quick
    persons, n_records = (3_000, 10_000) if quick else (args.persons, args.records)
    seconds = args.seconds or (8.0 if quick else 120.0)
    warmup = 1.0 if quick else 3.0
    pace = args.write_interval or 2.0
    batch = 50 if quick else 100
    server_core, client_core = perfdoc.two_cores()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="bench-load-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        setup = build_ledger(directory, persons, n_records)
        print(
            f"ledger: {setup['records']:,} records, {setup['registry_subjects']:,} subjects "
            f"in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        if client_core is not None:
            os.sched_setaffinity(0, {client_core})
        port = bench_api._free_port()
        argv = [sys.executable, "-c", "from socialcredit.cli import main; main()", "serve", "--db",
                str(directory / "ledger.db"), "--port", str(port), "--today", TODAY]  # fmt: skip
        proc = bench_api.start_server(argv, port, "/v1/health", server_core)
        try:
            raw = asyncio.run(_load(proc.pid, port, setup, seconds, warmup, pace, batch))
        finally:
            bench_api.stop_server(proc)
        runs = {kind: _summary(raw["kinds"][kind], seconds) for kind, _, _ in MIX}
        acknowledged = [i for k in raw["kinds"].values() for i in k["acknowledged"]]
        ledger = check_ledger(directory / "ledger.db", acknowledged)
        memory = _memory(raw["memory"], seconds)
        per_token = max(
            runs["decisions"].get("rps", 0) + runs["files"].get("rps", 0),  # the one officer token
            runs["ingest"].get("rps", 0),
        )
        import fastapi
        import uvicorn

        results = {
            "benchmark": "load",
            "date": time.strftime("%Y-%m-%d"),
            "quick": quick,
            "machine": {
                "cpu": perfdoc.cpu_model(),
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "fastapi": fastapi.__version__,
                "uvicorn": uvicorn.__version__,
                "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            },
            "setup": {
                "server_core": server_core,
                "client_core": client_core,
                "seconds": seconds,
                "warmup": warmup,
                "write_interval": pace,
                "batch": batch,
                "mix": {k: c for k, c, _ in MIX},
                "records": setup["records"],
                "registry_subjects": setup["registry_subjects"],
                "today": TODAY,
                "rulebooks": ["national"],
                "allocator": "system, 2 arenas" if args.system_allocator else "default (mimalloc for arrow)",
            },
            "runs": runs,
            "memory": memory,
            "memory_samples_mb": [round(m, 1) for _, m in raw["memory"]],
            "ledger": ledger,
            "per_token_rps_max": per_token,
        }
        errors = sum(r["errors"] for r in runs.values())
        results["passed"] = bool(
            errors == 0 and ledger["lost"] == 0 and ledger["stored_twice"] == 0 and ledger["verify"]
            and memory["flat"]
        )  # fmt: skip
        print(_table(results))
        print(json.dumps({"memory": memory, "ledger": ledger}))
        print("passed" if results["passed"] else "FAILED")
        if not quick:
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
            update_docs(results)
        return 0 if results["passed"] else 1
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
