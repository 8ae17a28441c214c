"""API benchmark: ``GET /v1/decisions`` beside a bare FastAPI endpoint, on loopback.

Builds a ledger from the synthetic sample society, makes an officer token, then measures two
servers, each started the same way (uvicorn, one process, access log off) and pinned to the same
core, with the load generator pinned to another core. The two are loaded in turns, in several
rounds, so that a change in the machine's other load falls on both alike:

* ``bare``: a FastAPI app whose one endpoint returns a constant: the framework's own limit here;
* ``decisions``: ``socialcredit serve`` answering ``GET /v1/decisions?subject=&action=`` for
  random subjects and actions, bearer token, role check, audit entry and all.

The load generator is a small asyncio HTTP/1.1 client written here (keep-alive connections, one
request in flight on each), so no tool has to be installed. It reports requests per second and
latency percentiles (p50, p95, p99) per endpoint.

Targets (issue #11): decisions at least half the bare endpoint's throughput, p99 under 50 ms.
Writes ``bench/results/api.json`` and (full runs) the API section of ``docs/performance.md``.

Usage: ``python bench/bench_api.py [--quick] [--connections N] [--seconds S] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

import perfdoc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "api.json"
DOCS = ROOT / "docs" / "performance.md"
SEED = 2016
TODAY = "2019-06-01"
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
ACTIONS = (
    "travel.high_speed_rail",
    "travel.flight",
    "lodging.star_hotel",
    "finance.loan",
    "employment.civil_service",
    "government.procurement",
)
START, END = "<!-- bench:api:start -->", "<!-- bench:api:end -->"


# -- the bare endpoint ---------------------------------------------------------------------------


def bare_app() -> Any:
    """A FastAPI app with one endpoint returning a constant."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"outcome": "allowed"}

    return app


def serve_bare(port: int) -> None:
    import uvicorn

    uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- set-up ---------------------------------------------------------------------------------------


def build_ledger(directory: Path, persons: int, records: int) -> dict[str, Any]:
    """A ledger of the sample society, an officer token, and the subjects to ask about."""
    from socialcredit.ledger import open_ledger
    from socialcredit.service.tokens import create_token
    from socialcredit.society import sample_society

    society = sample_society(
        seed=SEED, persons=persons, organisations=max(10, persons // 20), records=records
    )
    with open_ledger(directory / "ledger.db") as ledger:
        ledger.append_registry(society.registry)
        ledger.append_records(society.records)
        _, token = create_token(ledger, role="officer", label="bench")
        counts = ledger.counts()
    return {
        "token": token,
        "subjects": [s["id"] for s in society.subjects],
        "records": counts["records"],
        "registry_subjects": counts["subjects"],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(core: int | None) -> Any:
    if core is None or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {core})


def start_server(argv: list[str], port: int, probe: str, core: int | None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, preexec_fn=_pin(core), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 300 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- the load generator ---------------------------------------------------------------------------


async def _worker(
    port: int,
    requests: list[bytes],
    offset: int,
    stop_at: float,
    record_from: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    n = len(requests)
    clock = time.perf_counter
    try:
        while True:
            t0 = clock()
            if t0 >= stop_at:
                break
            writer.write(requests[i % n])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            at = head.lower().find(b"content-length:")
            length = int(head[at + 15 : head.index(b"\r\n", at)]) if at >= 0 else 0
            if length:
                await reader.readexactly(length)
            t1 = clock()
            if t0 >= record_from:
                latencies.append(t1 - t0)
                if status != 200:
                    errors.append(status)
    finally:
        writer.close()


def _cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of process ``pid`` (Linux), else ``None``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _burst(
    pid: int, port: int, requests: list[bytes], connections: int, warmup: float, seconds: float
) -> tuple[list[float], list[int], float | None]:
    """Load the server for ``warmup + seconds``; latencies and errors of the last ``seconds``, and
    the server's CPU seconds over them."""
    latencies: list[float] = []
    errors: list[int] = []
    now = time.perf_counter()
    record_from, stop_at = now + warmup, now + warmup + seconds
    step = max(1, len(requests) // connections)
    cpu_from: list[float | None] = []

    async def mark() -> None:
        await asyncio.sleep(warmup)
        cpu_from.append(_cpu_seconds(pid))

    await asyncio.gather(
        mark(),
        *(
            _worker(port, requests, k * step, stop_at, record_from, latencies, errors)
            for k in range(connections)
        ),
    )
    end, start = _cpu_seconds(pid), cpu_from[0]
    return latencies, errors, (end - start) if end is not None and start is not None else None


def _summary(
    latencies: list[float], errors: int, seconds: float, rounds: list[float], cpu: float | None
) -> dict[str, Any]:
    lat = np.array(latencies) * 1000
    return {
        "requests": len(lat),
        "errors": errors,
        "seconds": seconds,
        "rps": len(lat) / seconds,
        "rps_per_round": [round(r, 1) for r in rounds],
        "server_cpu_seconds": cpu,
        "requests_per_cpu_second": len(lat) / cpu if cpu else None,
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
    }


def _request(path: str, port: int, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}\r\n".encode()


def measure(
    servers: dict[str, tuple[list[str], str, list[bytes], int]],
    *,
    server_core: int | None,
    connections: int,
    warmup: float,
    seconds: float,
    rounds: int,
) -> dict[str, Any]:
    """Start every server (all pinned to ``server_core``; an idle one costs nothing), then load
    them in turns, ``rounds`` times, so that a change in the machine's load falls on all alike."""
    procs = []
    try:
        for argv, probe, _requests, port in servers.values():
            procs.append(start_server(argv, port, probe, server_core))
        pooled: dict[str, tuple[list[float], list[int], list[float], list[float]]] = {
            n: ([], [], [], []) for n in servers
        }
        for r in range(rounds):
            for proc, (name, (_argv, _probe, requests, port)) in zip(procs, servers.items(), strict=True):
                lat, err, cpu = asyncio.run(
                    _burst(proc.pid, port, requests, connections, warmup if r == 0 else 0.3, seconds / rounds)
                )
                pooled[name][0].extend(lat)
                pooled[name][1].extend(err)
                pooled[name][2].append(len(lat) / (seconds / rounds))
                if cpu is not None:
                    pooled[name][3].append(cpu)
        return {
            n: _summary(lat, len(err), seconds, per, sum(cpu) if len(cpu) == rounds else None)
            for n, (lat, err, per, cpu) in pooled.items()
        }
    finally:
        for proc in procs:
            stop_server(proc)


# -- report ---------------------------------------------------------------------------------------


def _table(results: dict[str, Any]) -> str:
    lines = [
        "| endpoint | requests/s | × bare | requests per server CPU-second | × bare | p50 (ms) | p95 (ms) "
        "| p99 (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    bare = results["runs"]["bare"]
    for name, label in (("bare", "bare FastAPI constant"), ("decisions", "GET /v1/decisions")):
        r = results["runs"][name]
        per_cpu, per_cpu_ratio = "n/a", "n/a"
        if r["requests_per_cpu_second"] and bare["requests_per_cpu_second"]:
            per_cpu = f"{r['requests_per_cpu_second']:,.0f}"
            per_cpu_ratio = f"{r['requests_per_cpu_second'] / bare['requests_per_cpu_second']:.2f}"
        lines.append(
            f"| {label} | {r['rps']:,.0f} | {r['rps'] / bare['rps']:.2f} | {per_cpu} | {per_cpu_ratio} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |"
        )
    return "\n".join(lines)


def _load_note(load: float | None) -> str:
    if load is None:
        return "on a machine shared with other work (load not recorded)"
    return f"load average {load:.1f} when the run began (other work shares the machine)"


def _section(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["setup"]
    return (
        f"{START}\n## HTTP API (`GET /v1/decisions`)\n\n"
        f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"FastAPI {m['fastapi']}, uvicorn {m['uvicorn']} ({m.get('http', '?')}, {m.get('loop', '?')}), "
        f"{_load_note(m.get('load_average'))}: "
        f"`python bench/bench_api.py`. Server pinned "
        f"to core {s['server_core']}, load generator (asyncio, {s['connections']} keep-alive "
        f"connections) to core {s['client_core']}; {s['seconds']:.0f} s per endpoint in "
        f"{s['rounds']} alternating rounds, after {s['warmup']:.0f} s of warm-up; "
        f"{s['registry_subjects']:,} subjects, {s['records']:,} "
        f"records, rulebook national, random subjects and actions. Requests per server CPU-second "
        f"(the server's user and system time while measured) is the rate one core would sustain "
        f"with nothing else running: steadier than requests/s on a shared machine.\n\n"
        f"{_table(results)}\n\n"
        f"Targets: at least {TARGET_RATIO}× the bare endpoint's throughput, p99 under "
        f"{TARGET_P99_MS:.0f} ms: {'met' if results['passed'] else 'MISSED'}.\n{END}\n"
    )


def update_docs(results: dict[str, Any]) -> None:
    """Replace the API section of docs/performance.md, or append it when there is none."""
    perfdoc.update(START, END, _section(results), docs=DOCS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small ledger, 2 s per endpoint (smoke)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections (default 8)")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the ledger in this folder")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    import fastapi
    import uvicorn

    quick = args.quick
    persons, n_records = (5_000, 20_000) if quick else (50_000, 200_000)
    seconds = args.seconds or (3.0 if quick else 20.0)
    warmup = 0.5 if quick else 2.0
    rounds = 3 if quick else 5
    server_core, client_core = perfdoc.two_cores()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="bench-api-"))
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
        rng = np.random.default_rng(SEED)
        subjects = setup["subjects"]
        port, bare_port = _free_port(), _free_port()
        asks = [
            (subjects[int(i)], ACTIONS[int(a)])
            for i, a in zip(
                rng.integers(0, len(subjects), 5000), rng.integers(0, len(ACTIONS), 5000), strict=True
            )
        ]
        decision_requests = [
            _request(f"/v1/decisions?subject={s}&action={a}", port, setup["token"]) for s, a in asks
        ]
        common = {
            "server_core": server_core,
            "connections": args.connections,
            "warmup": warmup,
            "seconds": seconds,
            "rounds": rounds,
        }
        serve = [
            sys.executable,
            "-c",
            "from socialcredit.cli import main; main()",
            "serve",
            "--db",
            str(directory / "ledger.db"),
            "--port",
            str(port),
            "--today",
            TODAY,
        ]
        bare = [sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(bare_port)]
        runs = measure(
            {
                "bare": (bare, "/bare", [_request("/bare", bare_port)], bare_port),
                "decisions": (serve, "/v1/health", decision_requests, port),
            },
            **common,
        )
        for name, run in runs.items():
            print(f"{name}: {run['rps']:,.0f} requests/s (rounds: {run['rps_per_round']})", flush=True)
        ratio = runs["decisions"]["rps"] / runs["bare"]["rps"]
        results = {
            "benchmark": "api",
            "date": time.strftime("%Y-%m-%d"),
            "quick": quick,
            "machine": {
                "cpu": perfdoc.cpu_model(),
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "fastapi": fastapi.__version__,
                "uvicorn": uvicorn.__version__,
                "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
                "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
                "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            },
            "setup": {
                **common,
                "client_core": client_core,
                "records": setup["records"],
                "registry_subjects": setup["registry_subjects"],
                "today": TODAY,
                "rulebooks": ["national"],
                "load_generator": "asyncio (bench_api.py)",
            },
            "runs": runs,
            "ratio": ratio,
            "targets": {"ratio": TARGET_RATIO, "p99_ms": TARGET_P99_MS},
        }
        results["passed"] = bool(
            ratio >= TARGET_RATIO
            and runs["decisions"]["p99_ms"] < TARGET_P99_MS
            and runs["decisions"]["errors"] == 0
        )
        print(_table(results))
        print("targets met" if results["passed"] else "TARGETS MISSED")
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
