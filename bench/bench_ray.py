"""Ray backend benchmark: the simulator's day loop with its shards as Ray actors, beside the local
backend, on the same scenario, size and machine, in the same run (issue 15).

Four runs of the ``city`` scenario (national + rongcheng, the defaulter stock, every feedback
loop off) at the same size, seed and days:

* ``local, 1 shard`` — the baseline: one process, one shard;
* ``local, 2 shards`` — the same process with the population in two shards (what the Ray runs
  split);
* ``ray, 1 worker`` — one Ray actor holding the one shard (the cost of the wire alone);
* ``ray, 2 workers`` — two actors, one shard each, on a local Ray instance with 2 CPUs.

Each run reports the loop's wall and process-CPU seconds (behaviour, engine, decisions,
reporters: the model's own timings) and residents x days per wall second; the set-up (population,
actors, history) is reported apart. Ray's own start is timed once. The daily table and the
records of every run must be identical (the run fails otherwise). **Overhead** is ray 1 worker
over local 1 shard (loop wall time); **scaling** is ray 1 worker over ray 2 workers.

It also measures what a resident costs in memory (for docs/deploy.md): the bytes of the state
arrays per resident — the population, a shard worker's arrays, the registry's subjects and
relations (coordinator) — and the records per resident-year and bytes per record of the store.

Writes ``bench/results/ray.json`` and the Ray section and summary row of ``docs/performance.md``.

Usage: ``python bench/bench_ray.py [--quick] [--no-doc]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import perfdoc
from socialcredit.simulate import SocialCreditModel, load_scenario

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "ray.json"
DOCS = HERE.parent / "docs" / "performance.md"
START, END = "<!-- bench:ray:start -->", "<!-- bench:ray:end -->"
SUMMARY_PREFIX = "| simulator on Ray"
LOOP = ("behaviour", "engine", "decisions", "reporters")


def _digest(model: SocialCreditModel) -> str:
    """A hash of the run's daily table and records (ledger order)."""
    h = hashlib.sha256()
    for table in (model.datacollector.table(), model.records_table()):
        for col in table.columns:
            for chunk in col.chunks:
                for buf in chunk.buffers():
                    if buf is not None:
                        h.update(memoryview(buf))
    return h.hexdigest()


def run_one(label: str, scenario: Any, **kw: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    model = SocialCreditModel(scenario, **kw)
    setup = time.perf_counter() - t0
    remote = model.backend.name != "local"
    w_cpu0 = sum(model.backend.call_all("cpu_seconds")) if remote else 0.0
    w0, c1 = time.perf_counter(), time.process_time()
    model.run()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c1
    w_cpu = sum(model.backend.call_all("cpu_seconds")) - w_cpu0 if remote else 0.0
    digest = _digest(model)
    model.close()
    residents_days = scenario.size * model.steps
    row = {
        "label": label,
        "backend": model.backend.name,
        "shards": model.backend.n,
        "setup_s": round(setup, 2),
        "loop_wall_s": round(wall, 2),
        "loop_cpu_s": round(cpu + w_cpu, 2),
        "loop_cpu_s_coordinator": round(cpu, 2),
        "phases_s": {k: round(model.timings[k], 2) for k in LOOP},
        "agent_days_per_wall_s": round(residents_days / wall),
        "records": len(model.store),
        "digest": digest,
    }
    print(
        f"  {label}: set-up {setup:.1f} s, loop {wall:.1f} s wall, {cpu + w_cpu:.1f} s CPU "
        f"({cpu:.1f} s coordinator), {row['agent_days_per_wall_s']:,} agent-days/s",
        flush=True,
    )
    return row


def median_run(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The repetition with the median loop wall time, with every repetition's times."""
    rows = sorted(rows, key=lambda r: r["loop_wall_s"])
    out = dict(rows[len(rows) // 2])
    out["loop_wall_s_all"] = [r["loop_wall_s"] for r in rows]
    out["loop_cpu_s_median"] = sorted(r["loop_cpu_s"] for r in rows)[len(rows) // 2]
    return out


def memory(size: int, days: int) -> dict[str, Any]:
    """Bytes of state per resident (arrays), at ``size`` residents after ``days`` days."""

    def nbytes(d: Any) -> int:
        if isinstance(d, np.ndarray):
            return d.nbytes
        if isinstance(d, dict):
            return sum(nbytes(v) for v in d.values())
        return 0

    sc = load_scenario("city", size=size, days=days, seed=2018)
    m = SocialCreditModel(sc, shards=1)
    m.run()
    pop = m.population
    pop_b = sum(
        nbytes(getattr(pop, k)) for k in ("persons", "organisations", "vehicles", "dogs", "governments")
    )
    worker = m.workers[0].state_bytes()
    rel = m.relations
    rel_b = sum(getattr(rel, k).nbytes for k in vars(rel) if isinstance(getattr(rel, k), np.ndarray))
    sub = m.subjects
    sub_b = sum(getattr(sub, k).nbytes for k in vars(sub) if isinstance(getattr(sub, k), np.ndarray))
    sub_b += sub.ids.nbytes if hasattr(sub.ids, "nbytes") else 0
    cols = m.store._cols
    rec_b = sum(v.itemsize for v in cols.values()) * len(m.store)
    n_hist = int(cols["history"][: len(m.store)].sum())
    m.close()
    return {
        "size": size,
        "days": days,
        "population_bytes_per_resident": round(pop_b / size, 1),
        "worker_bytes_per_resident": round(worker["subjects"] / size, 1),
        "worker_table_bytes": worker["tables"],
        "registry_bytes_per_resident": round((rel_b + sub_b) / size, 1),
        "records": len(m.store),
        "bytes_per_record": round(rec_b / max(len(m.store), 1), 1),
        "records_per_resident_year": round((len(m.store) - n_hist) / size * 365 / days, 2),
    }


_RSS = """
import sys
from socialcredit.simulate import SocialCreditModel, load_scenario
m = SocialCreditModel(load_scenario("city", size=int(sys.argv[1]), days=int(sys.argv[2]), seed=2018))
m.run()
st = {x.split(":")[0]: int(x.split()[1]) * 1024 for x in open("/proc/self/status") if x.startswith("Vm")}
print(st["VmHWM"], st["VmRSS"])  # not ru_maxrss: Linux keeps the parent's across exec
"""


def peak_rss(sizes: tuple[int, int], days: int) -> dict[str, Any]:
    """Peak and final resident memory of a whole local run (one process: population, workers,
    registry, records, engine) at two sizes, and the slope of the final one: bytes per
    resident, all in (the peak is set by fixed costs — rate tables, rulebook compilation — up
    to some hundreds of thousands of residents)."""
    peak, rss = [], []
    for n in sizes:
        res = subprocess.run([sys.executable, "-c", _RSS, str(n), str(days)], capture_output=True, text=True)
        a, b = res.stdout.strip().splitlines()[-1].split()
        peak.append(int(a))
        rss.append(int(b))
    slope = (rss[1] - rss[0]) / (sizes[1] - sizes[0])
    return {
        "sizes": list(sizes),
        "days": days,
        "peak": peak,
        "bytes": rss,
        "bytes_per_resident": round(slope),
    }


def measure(quick: bool) -> dict[str, Any]:
    import ray

    size, days = (3_000, 10) if quick else (200_000, 120)
    sc = load_scenario("city", size=size, days=days, seed=2018)
    out: dict[str, Any] = {
        "quick": quick,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Ray {ray.__version__}",
        "date": dt.date.today().isoformat(),
        "scenario": "city",
        "size": size,
        "days": days,
        "load_before": os.getloadavg()[0],
    }
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    out["ray_start_s"] = round(time.perf_counter() - t0, 1)
    print(f"  ray start: {out['ray_start_s']} s", flush=True)
    configs = [
        ("local, 1 shard", {"shards": 1}),
        ("local, 2 shards", {"shards": 2}),
        ("ray, 1 worker", {"shards": 1, "backend": "ray", "workers": 1}),
        ("ray, 2 workers", {"shards": 2, "backend": "ray", "workers": 2}),
    ]
    warm = load_scenario("city", size=2_000, days=5, seed=2018)
    for label, kw in configs:  # warm-up: imports, caches, Ray's worker processes
        run_one(f"warm-up {label}", warm, **kw)
    reps = 1 if quick else 3
    out["repetitions"] = reps
    rows: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in configs}
    for _ in range(reps):  # interleaved, so that the machine's load falls on all alike
        for label, kw in configs:
            rows[label].append(run_one(label, sc, **kw))
    ray.shutdown()
    digests = {r["digest"] for rs in rows.values() for r in rs}
    if len(digests) != 1:
        raise SystemExit(f"the runs differ: {len(digests)} different outputs")
    runs = [median_run(rows[label]) for label, _ in configs]
    out["runs"] = runs
    out["identical"] = True
    by = {r["label"]: r for r in runs}
    out["overhead"] = round(by["ray, 1 worker"]["loop_wall_s"] / by["local, 1 shard"]["loop_wall_s"], 2)
    out["overhead_cpu"] = round(
        by["ray, 1 worker"]["loop_cpu_s_median"] / by["local, 1 shard"]["loop_cpu_s_median"], 2
    )
    out["scaling"] = round(by["ray, 1 worker"]["loop_wall_s"] / by["ray, 2 workers"]["loop_wall_s"], 2)
    out["ray2_vs_local"] = round(by["local, 1 shard"]["loop_wall_s"] / by["ray, 2 workers"]["loop_wall_s"], 2)
    out["memory"] = memory(*((3_000, 10) if quick else (100_000, 30)))
    out["memory"]["peak_rss"] = peak_rss((2_000, 4_000) if quick else (250_000, 500_000), 30)
    out["load_after"] = os.getloadavg()[0]
    return out


def doc_section(res: dict[str, Any]) -> str:
    q = " (quick: not comparable)" if res["quick"] else ""
    mem = res["memory"]
    base = next(r for r in res["runs"] if r["label"] == "local, 1 shard")
    share = base["phases_s"]["behaviour"] / max(sum(base["phases_s"].values()), 1e-9)
    amdahl = 1 / ((1 - share) + share / 2)
    lines = [
        f"## Ray{q}",
        "",
        f"`python bench/bench_ray.py` on {res['machine']}, {res['date']}; load average "
        f"{res['load_before']:.1f} before and {res['load_after']:.1f} after (the machine is shared). "
        f"The `city` scenario at {res['size']:,} residents for {res['days']} days (feedback loops off), "
        f"run four ways in the same process, interleaved, {res['repetitions']} time(s) each (after a "
        "small warm-up run of each); the median by loop wall time is shown. The daily table and the "
        "records of every run are identical (checked). Ray: a local instance with 2 CPUs "
        f"(`ray.init(num_cpus=2)`, {res['ray_start_s']} s to start, not counted). Loop: the "
        "day loop's wall seconds (set-up — population, actors, history — apart); behaviour is "
        "the phase the shards run in (draws and settling, over the wire under Ray).",
        "",
        "| run | shards | set-up (s) | loop wall (s), median | every repetition | behaviour (s) | "
        "engine (s) | loop CPU (s), all processes | of which coordinator | agent-days per wall s |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in res["runs"]:
        p = r["phases_s"]
        lines.append(
            f"| {r['label']} | {r['shards']} | {r['setup_s']:.1f} | {r['loop_wall_s']:.1f} | "
            f"{', '.join(f'{x:.1f}' for x in r['loop_wall_s_all'])} | "
            f"{p['behaviour']:.1f} | {p['engine']:.1f} | {r['loop_cpu_s']:.1f} | "
            f"{r['loop_cpu_s_coordinator']:.1f} | {r['agent_days_per_wall_s']:,} |"
        )
    lines += [
        "",
        f"Overhead of the wire (ray 1 worker / local 1 shard, loop wall): **{res['overhead']:.2f}×** "
        f"({res['overhead_cpu']:.2f}× in CPU seconds of all processes). "
        f"Scaling from 1 to 2 Ray workers (loop wall, 1 worker / 2 workers): **{res['scaling']:.2f}×**; "
        f"ray 2 workers against local 1 shard: {res['ray2_vs_local']:.2f}×. Only the shards' "
        "work (the behaviour phase) runs on the workers; the engine's evaluation, the decisions "
        f"and the reporters run on the coordinator: with behaviour {share:.0%} of the local loop, "
        f"two workers could at best make the loop {amdahl:.2f}× faster (Amdahl). On this 2-core "
        "machine, shared with other work (see the load average), the two workers and the "
        "coordinator compete for the cores, and the repetitions spread by a third: no speed-up "
        "shows, and the wall-time overhead is within the noise; the CPU seconds of all processes "
        "(the actors' included) show what the wire costs: the two calls per shard and day, "
        "pickling the drawn records and attempts both ways.",
        "",
        f"Memory (arrays, {mem['size']:,} residents after {mem['days']} days; used for the "
        "national estimate in [deploy](deploy.md#simulator-on-ray)): population "
        f"{mem['population_bytes_per_resident']:.0f} B per resident, a shard worker's per-subject "
        f"state {mem['worker_bytes_per_resident']:.0f} B (plus "
        f"{mem['worker_table_bytes'] / 2**20:.0f} MiB of rate tables per worker, whatever its size), "
        "the registry's subjects and relations "
        f"{mem['registry_bytes_per_resident']:.0f} B; records {mem['bytes_per_record']:.0f} B each, "
        f"{mem['records_per_resident_year']:.2f} per resident-year. Resident memory of a whole local "
        f"run after {mem['peak_rss']['days']} days at {mem['peak_rss']['sizes'][0]:,} and "
        f"{mem['peak_rss']['sizes'][1]:,} residents: "
        f"{mem['peak_rss']['bytes'][0] / 2**20:,.0f} and {mem['peak_rss']['bytes'][1] / 2**20:,.0f} MiB "
        f"(peaks {mem['peak_rss']['peak'][0] / 2**20:,.0f} and {mem['peak_rss']['peak'][1] / 2**20:,.0f} "
        f"MiB), so **{mem['peak_rss']['bytes_per_resident']:,} B per resident** all in "
        "(the slope).",
        "",
    ]
    return "\n".join(lines)


def summary_row(res: dict[str, Any]) -> str:
    by = {r["label"]: r for r in res["runs"]}
    return (
        f"{SUMMARY_PREFIX}, {res['size']:,} residents × {res['days']} days | "
        f"2 workers: {by['ray, 2 workers']['loop_wall_s']:.1f} s loop; 1 worker "
        f"{by['ray, 1 worker']['loop_wall_s']:.1f} s | local backend, 1 shard, "
        f"{by['local, 1 shard']['loop_wall_s']:.1f} s | wire overhead {res['overhead']:.2f}× wall, "
        f"{res['overhead_cpu']:.2f}× CPU; 1→2 workers {res['scaling']:.2f}× (2 shared cores) | "
        "identical outputs; report | [Ray](#ray) |"
    )


def write_doc(res: dict[str, Any]) -> None:
    row = None if res["quick"] else (SUMMARY_PREFIX, summary_row(res))
    perfdoc.update(START, END, f"{START}\n{doc_section(res)}{END}\n", row, docs=DOCS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small size, few days (not comparable)")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    try:
        import ray  # noqa: F401
    except ImportError:
        print("bench_ray: skipped, Ray is not installed (pip install 'socialcredit[ray]')")
        return 0
    res = measure(args.quick)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n", "utf-8")
    if not args.no_doc:
        write_doc(res)
    print(doc_section(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
