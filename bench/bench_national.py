"""National-run benchmark: the full model (``national-2018``, every category, every feedback loop
on) streamed through the compiled kernel at 100,000, 1 M, 10 M and 100 M residents (and, with
``--full``, the whole nation: 1.4 billion) for a year, beside Mesa at 100,000 in the same run.

* ``socialcredit``: :class:`socialcredit.simulate.national.NationalRun` with its default shards
  (whole counties, at most 4 M residents each, a multiple of the processes), 2 worker
  processes, into a temporary folder deleted afterwards: behaviour, records seen by their
  sources, list state machines and the published evaluations, decisions on every attempt,
  retries and every feedback loop the national rulebook can run (``left_out`` in the results
  names what it leaves out).
* ``mesa``: the Mesa 3 model of ``bench/bench_simulate.py`` (imported from there: one
  ``mesa.Agent`` per subject, a Bernoulli draw per thing its class can do, decisions read from a
  fixed table), on the ``national-2018`` population and rate tables at 100,000 residents — the
  in-memory model's population, the kernel's bit for bit — for a few days (it is slow); rated per
  agent-day. Its workload (behaviour and decisions on a fixed table) is a subset of ours (ours
  also runs the lists, the weekly published evaluations and the loops), so the ratio is
  conservative. ``bench_simulate``'s own draw loop on the same tables is measured beside it.

Every size runs in a fresh process (peak memory is per size: the maximum over that process and
its workers), after a tiny warm-up run in that process (numba loads the compiled kernel from
its disk cache; the first run ever compiles it). Rates are agent-days (residents x days) per wall
second and per CPU-second (the process's and its workers' user and system time): the machine is
shared with other work, so CPU-seconds are the steadier figure; load averages are recorded
before and after each size. The 1-hour target is judged on the wall time including setup.

Targets (issue 9): at least 1,000x Mesa's agent-days per second at 100,000 residents (same
run); at least 200 million agent-days per second at 1,000,000; the national year
(1.4 billion x 365 days) in under one hour.

Writes ``bench/results/national.json`` (sizes measured earlier but not in this run, such as the
full size, are kept from the previous file, each row with its own date and load), the plot
``docs/figures/national_scaling.svg`` and the national section of ``docs/performance.md``. A
``--quick`` smoke run (small sizes) writes nothing and prints its section.

Usage: ``python bench/bench_national.py [--quick] [--sizes 1e6,1e7,1e8] [--full] [--no-doc]
[--doc-only]`` (``--doc-only`` rewrites the doc and the plot from the stored results).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import perfdoc  # noqa: E402

RESULTS = HERE / "results" / "national.json"
DOCS = HERE.parent / "docs" / "performance.md"
PLOT = HERE.parent / "docs" / "figures" / "national_scaling.svg"
START, END = "<!-- bench:national:start -->", "<!-- bench:national:end -->"
SUMMARY_PREFIX = "| national run, full model"

SCENARIO = "national-2018"
NATION = 1_400_000_000
DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000, 100_000_000)
QUICK_SIZES = (20_000, 200_000)
MESA_SIZE = 100_000
MESA_STEPS = 3
RATIO_TARGET = 1_000
RATE_TARGET = 200e6  # agent-days per second at 1 M
HOUR = 3_600.0
PROCESSES = 2
REPEAT_UP_TO = 1_000_000  # sizes up to this are run REPEATS times (median by wall): short runs are noisy
REPEATS = 5


def scenario(size: int, days: int | None = None) -> Any:
    """``national-2018`` at ``size`` with every feedback loop on (the full model)."""
    from socialcredit.simulate import load_scenario

    kw = {"size": size} if days is None else {"size": size, "days": days}
    sc = load_scenario(SCENARIO, **kw)
    return sc.model_copy(update={"feedback": sc.feedback.all_on()})


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# ------------------------------------------------------------------------------ one size (child)
def measure_size(size: int, repeat: int) -> dict[str, Any]:
    """The full model at ``size`` for the scenario's year (run in a fresh process)."""
    from socialcredit.simulate.national import NationalRun

    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-national-warm-") as d:
        NationalRun(scenario(2_000, days=14), out=Path(d)).run(processes=1)
    warmup_s = time.perf_counter() - t
    runs = []
    if size >= NATION:  # the whole nation: the command the issue names, as a user runs it
        repeat = 0
        runs.append(run_cli(size))
    for _ in range(repeat):
        gc.collect()
        with tempfile.TemporaryDirectory(prefix="bench-national-") as d:
            t = time.perf_counter()
            run = NationalRun(scenario(size), out=Path(d))
            setup_s = time.perf_counter() - t
            c, cc = time.process_time(), children_cpu()
            s = run.run(processes=PROCESSES)
            wall_total = time.perf_counter() - t
            cpu = time.process_time() - c + children_cpu() - cc  # the run's: parent and workers
        s.pop("versions", None)
        s.update(setup_s=setup_s, wall_total_s=wall_total, cpu_total_s=cpu)
        runs.append(s)
        del run
    runs.sort(key=lambda r: r["wall_s"])
    s = runs[len(runs) // 2]
    refused = s["refused"]
    scale = NATION / s["residents"]
    return {
        "size": size,
        "residents": s["residents"],
        "subjects": s["subjects"],
        "days": s["days"],
        "shards": s["shards"],
        "processes": PROCESSES,
        "repeats": repeat,
        "warmup_s": round(warmup_s, 2),
        "setup_s": round(s["setup_s"], 2),
        "wall_s": s["wall_s"],
        "wall_total_s": round(s["wall_total_s"], 2),
        "walls_s": [r["wall_s"] for r in runs],
        "cpu_s": round(s["cpu_total_s"], 2),
        "cpu_workers_s": s["cpu_s"],
        "agent_days": s["agent_days"],
        "agent_days_per_s": s["agent_days"] / s["wall_s"],
        "agent_days_per_cpu_s": s["agent_days"] / s["cpu_total_s"],
        "peak_rss_mb": max(s["peak_rss_mb"], perfdoc.peak_mb()),
        "timings": s["timings"],
        "records": s["records"],
        "history_records": s["history_records"],
        "events": s["events"],
        "attempts": s["attempts"],
        "refused": sum(refused.values()),
        "refused_flights": refused.get("travel.flight", 0),
        "refused_rail": refused.get("travel.high_speed_rail", 0),
        "refused_flights_scaled": round(refused.get("travel.flight", 0) * scale),
        "refused_rail_scaled": round(refused.get("travel.high_speed_rail", 0) * scale),
        "feedback": s["feedback"],
        "lists": s["lists"],
        "left_out": s["left_out"],
    }


def run_cli(size: int) -> dict[str, Any]:
    """``socialcredit simulate national-2018 --size SIZE --feedback-all --out DIR`` in a child
    process: its ``summary.json``, with the CPU of the command and its worker processes."""
    with tempfile.TemporaryDirectory(prefix="bench-national-cli-") as d:
        cmd = [
            sys.executable,
            "-c",
            "import sys; from socialcredit.cli import main; sys.argv[0] = 'socialcredit'; main()",
            *("simulate", SCENARIO, "--size", str(size), "--feedback-all", "--out", d),
            *("--processes", str(PROCESSES), "--json"),
        ]
        if size <= 5_000_000:  # streamed by default only above 5 million
            cmd.append("--streamed")
        print("   $ socialcredit " + " ".join(cmd[3:]), flush=True)
        t, cc = time.perf_counter(), children_cpu()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall_total = time.perf_counter() - t
        s = json.loads((Path(d) / "summary.json").read_text("utf-8"))
    s.pop("versions", None)
    s.update(setup_s=wall_total - s["wall_s"], wall_total_s=wall_total, cpu_total_s=children_cpu() - cc)
    return s


def measure_mesa(size: int, steps: int) -> dict[str, Any]:
    """Mesa (and bench_simulate's in-memory draw loop) on the national-2018 population and rate
    tables at ``size``, with the published decisions of the first day (run in a fresh process)."""
    import numpy as np

    import bench_simulate
    from socialcredit.simulate import SocialCreditModel

    t = time.perf_counter()
    model = SocialCreditModel(scenario(size))
    name = next(iter(model.engines))
    ev = (
        model.engines[name]
        .bind(model.store.arrays(), (model.subjects, model.relations))
        .evaluate(model.start_day)
    )
    cols = np.array([ev.action_column(a) for a in model.actions])
    outcome = ev.profiles.outcome[ev.profiles.profile][:, cols].astype(np.int8)
    setup_s = time.perf_counter() - t
    out = {"size": size, "setup_s": setup_s, "subjects": len(model.subjects)}
    out["in_memory"] = bench_simulate.run_ours(model, outcome, model.scenario.days)
    out["mesa"] = bench_simulate.run_mesa(model, outcome, steps)
    return out


# ------------------------------------------------------------------------------ driver
def machine() -> str:
    import mesa
    import numba

    try:
        mem = next(
            int(line.split()[1]) / 1024**2
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        gb = f", {mem:.0f} GB"
    except (OSError, StopIteration):
        gb = ""
    return (
        f"{perfdoc.cpu_model()}, {os.cpu_count()} cores{gb}, Python {platform.python_version()}, "
        f"numba {numba.__version__}, Mesa {mesa.__version__}"
    )


def child(args: list[str]) -> dict[str, Any]:
    """Run ``bench_national.py --child ...`` in a fresh process; its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = Path(f.name)
    try:
        rc = subprocess.call([sys.executable, __file__, *args, "--result", str(path)])
        if rc != 0:
            raise RuntimeError(f"bench_national.py {' '.join(args)} exited {rc}")
        return json.loads(path.read_text())
    finally:
        path.unlink(missing_ok=True)


def source() -> dict[str, Any]:
    """The commit and a hash of the streamed kernel's source as measured (the tree may be dirty)."""
    import hashlib

    root = HERE.parent
    folder = root / "src" / "socialcredit" / "simulate" / "national"
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.py")):
        h.update(f.read_bytes())
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {"commit": commit, "national_sha256": h.hexdigest()[:12]}


def load3() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(sizes: list[int], quick: bool) -> dict[str, Any]:
    rows = []
    mesa_size = QUICK_SIZES[0] if quick else MESA_SIZE
    # compile the kernel into numba's disk cache first (when its source changed), so that no
    # measured process pays for (or holds the memory of) compiling it
    t = time.perf_counter()
    child(["--child", "2000", "--repeat", "1"])
    print(f"== warm-up (numba cache): {time.perf_counter() - t:.1f} s", flush=True)
    for size in sizes:
        print(f"== {size:,} residents", flush=True)
        before = load3()
        repeat = REPEATS if size <= REPEAT_UP_TO else 1
        row = child(["--child", str(size), "--repeat", str(repeat)])
        row.update(date=time.strftime("%Y-%m-%d"), load_before=before, load_after=load3(), source=source())
        print(
            f"   {row['wall_s']:.1f} s run ({row['setup_s']:.1f} s setup), "
            f"{row['agent_days_per_s'] / 1e6:,.0f} M agent-days/s, "
            f"{row['agent_days_per_cpu_s'] / 1e6:,.0f} M per CPU-s, peak {row['peak_rss_mb']:,.0f} MB; "
            f"load {before[0]:.1f} -> {row['load_after'][0]:.1f}",
            flush=True,
        )
        if size == mesa_size:
            before = load3()
            steps = 1 if quick else MESA_STEPS
            peer = child(["--mesa", str(size), "--steps", str(steps)])
            peer.update(load_before=before, load_after=load3())
            m = peer["mesa"]
            peer["ratio_cpu"] = row["agent_days_per_cpu_s"] / m["agent_days_per_cpu_s"]
            peer["ratio_wall"] = row["agent_days_per_s"] / m["agent_days_per_s"]
            row["peer"] = peer
            print(
                f"   mesa: {m['agent_days_per_cpu_s']:,.0f} agent-days per CPU-s ({m['days']} days); "
                f"x{peer['ratio_cpu']:,.0f} (CPU), x{peer['ratio_wall']:,.0f} (wall)",
                flush=True,
            )
        rows.append(row)
    return {"machine": machine(), "quick": quick, "scenario": SCENARIO, "sizes": rows}


def merge(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """``new`` with the rows of ``old`` (a full run's) for sizes this run did not measure."""
    if old is None or old.get("quick") or new["quick"]:
        return new
    have = {r["size"] for r in new["sizes"]}
    kept = [dict(r, machine=r.get("machine", old["machine"])) for r in old["sizes"] if r["size"] not in have]
    for r in new["sizes"]:
        r["machine"] = new["machine"]
    new["sizes"] = sorted(new["sizes"] + kept, key=lambda r: r["size"])
    return new


# ------------------------------------------------------------------------------ report
def _t(s: float) -> str:
    if s >= 600:
        return f"{s / 60:.1f} min"
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def _wall(r: dict[str, Any]) -> str:
    w = r.get("walls_s", [])
    f = ".2f" if r["wall_s"] < 10 else ".1f"
    return _t(r["wall_s"]) + (f" ({min(w):{f}}–{max(w):{f}})" if len(w) > 1 else "")


def _cores(r: dict[str, Any]) -> float:
    return r["cpu_s"] / r["wall_s"]


def _n(size: int) -> str:
    return (
        f"{size / 1e9:.2g} bn"
        if size >= 1e9
        else f"{size / 1e6:.3g}M"
        if size >= 1e6
        else f"{size / 1e3:.3g}k"
    )


def _mb(mb: float) -> str:
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


def _m(rate: float) -> str:
    return f"{rate / 1e6:,.0f} M"


def _row(res: dict[str, Any], size: int) -> dict[str, Any] | None:
    return next((r for r in res["sizes"] if r["size"] == size), None)


def targets(res: dict[str, Any]) -> list[tuple[str, bool | None, str]]:
    """(target, met or None when not measured, figures) for each of issue 9's targets."""
    out: list[tuple[str, bool | None, str]] = []
    small = next((r for r in res["sizes"] if "peer" in r), None)
    if small is None:
        out.append((f"≥ {RATIO_TARGET:,}× Mesa at {MESA_SIZE:,}", None, "no row with the Mesa peer"))
    else:
        p = small["peer"]
        out.append(
            (
                f"≥ {RATIO_TARGET:,}× Mesa at {small['size']:,}",
                p["ratio_cpu"] >= RATIO_TARGET,
                f"{p['ratio_cpu']:,.0f}× per CPU-second ({_m(small['agent_days_per_cpu_s'])} vs "
                f"{p['mesa']['agent_days_per_cpu_s']:,.0f} agent-days per CPU-s), "
                f"{p['ratio_wall']:,.0f}× per wall second "
                f"({'met' if p['ratio_wall'] >= RATIO_TARGET else 'also short'} by that reading: Mesa "
                f"runs on one core, the kernel on {PROCESSES} processes; the verdict is per CPU-second)",
            )
        )
    one = _row(res, 1_000_000)
    if one is None:
        out.append(("≥ 200 M agent-days/s at 1,000,000", None, "no 1,000,000 row"))
    else:
        out.append(
            (
                "≥ 200 M agent-days/s at 1,000,000",
                one["agent_days_per_s"] >= RATE_TARGET,
                f"{_m(one['agent_days_per_s'])} agent-days per wall second "
                f"({one['agent_days_per_s'] / RATE_TARGET:.2f}× the target; {one['shards']} "
                f"{'shard' if one['shards'] == 1 else 'shards'} on {PROCESSES} processes, "
                f"{_cores(one):.2f} cores busy), {_m(one['agent_days_per_cpu_s'])} per CPU-second",
            )
        )
    full = _row(res, NATION)
    if full is None:
        big = max(res["sizes"], key=lambda r: r["size"])
        proj = NATION * 365 / big["agent_days_per_s"]
        out.append(
            (
                "national year (1.4 bn × 365) < 1 hour",
                None,
                f"run `--full` to measure it; at the {big['size']:,} row's wall rate "
                f"({_m(big['agent_days_per_s'])} agent-days/s, {_cores(big):.2f} cores busy) it would take "
                f"about {proj / 60:.0f} min; at its per-CPU-second rate on 2 free cores "
                f"({_m(big['agent_days_per_cpu_s'])} × 2) about "
                f"{NATION * 365 / (2 * big['agent_days_per_cpu_s']) / 60:.0f} min",
            )
        )
    else:
        total = full["wall_total_s"]
        out.append(
            (
                "national year (1.4 bn × 365) < 1 hour",
                total < HOUR,
                f"{total / 60:.1f} min including {full['setup_s']:.1f} s setup "
                f"({total / HOUR:.2f}× the hour; {_cores(full):.2f} cores busy, "
                f"{_m(full['agent_days_per_s'])} agent-days/s), peak {_mb(full['peak_rss_mb'])}",
            )
        )
    return out


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("met" if met else "MISSED")


def doc_section(res: dict[str, Any]) -> str:
    q = " (quick: not comparable)" if res["quick"] else ""
    lines = [
        f"## National run{q}",
        "",
        "`python bench/bench_national.py` (`--full` adds the whole nation: half an hour to an hour, "
        "as other work allows; "
        "`--sizes 1e6,1e7` measures some sizes and keeps the others' stored rows; `--doc-only` "
        "rewrites this section and the plot from `bench/results/national.json`). The full model: "
        f"`{res['scenario']}` with every feedback loop on (`feedback.all_on()`), a year "
        "(2018), streamed through the compiled kernel (`socialcredit.simulate.national`, "
        "default shards — at most 4 M residents each, a multiple of the 2 worker processes; each size "
        "in a fresh process after a warm-up). "
        "Wall time and CPU seconds (the process's and its workers') are the run's; setup (rate tables "
        "and rulebooks) is shown apart, and counted in the 1-hour target; peak memory is the "
        "largest resident set of the process and "
        f"its workers. Sizes up to 1 M are run {REPEATS} times: the median by wall time, the range "
        "in brackets (a few seconds' run is easily disturbed by other work). The machine is "
        "shared with other work, so load averages (1 min) are given per size, and *cores busy* (CPU "
        "seconds over wall seconds) says how much of the 2 cores the run got: "
        "where other work held a core, the wall rate is about half what the per-CPU-second rate "
        "gives on 2 free cores. Refused flights and "
        "high-speed rail tickets are scaled to 1.4 billion (reported for 2018: 17.5 M flights and "
        "5.5 M rail tickets cumulative, 8.1 M and 1.8 M during the year; see the `national-2018` "
        "scenario).",
        "",
        "| residents | subjects | shards | setup | wall | CPU s | cores busy | agent-days per s (wall) "
        "| per CPU-s | peak memory | records | attempts | flights / rail refused (× to 1.4 bn) "
        "| load before → after | date |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in res["sizes"]:
        scaled = (
            f"{r['refused_flights']:,} / {r['refused_rail']:,}"
            if r["residents"] == NATION
            else f"{r['refused_flights']:,} / {r['refused_rail']:,} "
            f"({r['refused_flights_scaled'] / 1e6:.1f} M / {r['refused_rail_scaled'] / 1e6:.1f} M)"
        )
        lines.append(
            f"| {r['size']:,} | {r['subjects']:,} | {r['shards']} | {r['setup_s']:.1f} s "
            f"| {_wall(r)} | {r['cpu_s']:,.1f} | {_cores(r):.2f} | {_m(r['agent_days_per_s'])} "
            f"| {_m(r['agent_days_per_cpu_s'])} | {_mb(r['peak_rss_mb'])} | {r['records']:,} "
            f"| {r['attempts']:,} | {scaled} | {r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} "
            f"| {r['date']} |"
        )
    machines = sorted({r.get("machine", res["machine"]) for r in res["sizes"]})
    lines += ["", f"Machine: {'; '.join(machines)}.", ""]
    lines += [f"![Wall time and peak memory against residents](figures/{PLOT.name})", ""]
    small = next((r for r in res["sizes"] if "peer" in r), None)
    if small is not None:
        p = small["peer"]
        m, im = p["mesa"], p["in_memory"]
        lines += [
            f"**Beside Mesa at {small['size']:,} residents** ({small['date']}, same run): Mesa 3 "
            f"(`bench_simulate.py`'s model, one agent per subject, {p['subjects']:,} subjects) on the "
            f"`{res['scenario']}` population and rate tables, "
            f"{m['days']} day{'s' if m['days'] != 1 else ''}: "
            f"{m['agent_days_per_cpu_s']:,.0f} agent-days per CPU-second "
            f"({m['agent_days_per_s']:,.0f} per wall second). The full model in the kernel: "
            f"{small['agent_days_per_cpu_s']:,.0f} per CPU-second, "
            f"{small['agent_days_per_s']:,.0f} per wall second, "
            f"**{p['ratio_cpu']:,.0f}×** Mesa per CPU-second and {p['ratio_wall']:,.0f}× per wall "
            f"second. Mesa's workload — behaviour and decisions read from a fixed table — is a "
            "subset of ours (the kernel also runs the lists' state machines, the weekly published "
            "evaluations, retries and the feedback loops), so the ratio is conservative. "
            f"`bench_simulate`'s in-memory draw loop on Mesa's workload ran at "
            f"{im['agent_days_per_cpu_s']:,.0f} agent-days per CPU-second ({im['days']} days). "
            f"Load {p['load_before'][0]:.1f} → {p['load_after'][0]:.1f}.",
            "",
        ]
    lines.append("Targets (issue 9):")
    lines.append("")
    for name, met, figures in targets(res):
        lines.append(f"- {name}: **{_verdict(met)}** — {figures}.")
    left = next((r["left_out"] for r in res["sizes"] if r.get("left_out")), [])
    if left:
        lines += ["", "Left out by the kernel under the national rulebook: " + "; ".join(left) + "."]
    return "\n".join(lines).rstrip() + "\n"


def summary_row(res: dict[str, Any]) -> str:
    t = targets(res)
    small = next((r for r in res["sizes"] if "peer" in r), None)
    one, full = _row(res, 1_000_000), _row(res, NATION)
    measured = []
    if small is not None:
        measured.append(
            f"100k: {_m(small['agent_days_per_s'])} agent-days/s "
            f"({_m(small['agent_days_per_cpu_s'])} per CPU-s)"
        )
    if one is not None:
        measured.append(f"1M: {_m(one['agent_days_per_s'])}/s")
    if full is not None:
        measured.append(f"1.4 bn × 365 days: {full['wall_total_s'] / 60:.0f} min, {_mb(full['peak_rss_mb'])}")
    else:
        big = max(res["sizes"], key=lambda r: r["size"])
        proj = NATION * 365 / big["agent_days_per_s"] / 60
        measured.append(f"1.4 bn: not yet measured (about {proj:.0f} min at the {_n(big['size'])} rate)")
    peer = (
        f"Mesa 3 at 100k, same run, {small['peer']['mesa']['agent_days_per_cpu_s'] / 1e3:,.0f} k per CPU-s"
        if small is not None
        else "—"
    )
    ratio = (
        f"{small['peer']['ratio_cpu']:,.0f}× per CPU-s, {small['peer']['ratio_wall']:,.0f}× wall"
        if small is not None
        else "—"
    )
    goal = "; ".join(f"{name} ({_verdict(met)})" for name, met, _ in t)
    return (
        f"{SUMMARY_PREFIX} (streamed) | {'; '.join(measured)} | {peer} | {ratio} | {goal} "
        "| [National run](#national-run) |"
    )


def plot_spec(res: dict[str, Any]) -> dict[str, Any]:
    import altair as alt

    data = [
        {
            "residents": r["size"],
            "value": v,
            "what": what,
        }
        for r in res["sizes"]
        for what, v in (
            ("wall time with setup (s)", r["wall_total_s"]),
            ("peak memory (MB)", r["peak_rss_mb"]),
        )
    ]
    sizes = sorted({r["size"] for r in res["sizes"]} | {NATION})
    label = (
        "datum.value >= 1e9 ? format(datum.value / 1e9, '.2~f') + ' bn' : datum.value >= 1e6 "
        "? format(datum.value / 1e6, '~g') + ' M' : format(datum.value / 1e3, '~g') + 'k'"
    )
    x = alt.X(
        "residents:Q",
        scale=alt.Scale(type="log", domain=[min(sizes), max(sizes)]),
        title="residents",
        axis=alt.Axis(values=sizes, labelExpr=label),
    )

    def panel(what: str, title: str, rule: float, label: str) -> alt.LayerChart:
        base = alt.Chart(alt.Data(values=[d for d in data if d["what"] == what]))
        line = base.mark_line(point=True).encode(
            x=x, y=alt.Y("value:Q", scale=alt.Scale(type="log"), title=title)
        )
        ref = alt.Chart(alt.Data(values=[{"y": rule, "label": label}]))
        return alt.layer(
            line,
            ref.mark_rule(strokeDash=[4, 4], color="firebrick").encode(y="y:Q"),
            ref.mark_text(align="left", dx=4, dy=-6, color="firebrick").encode(
                y="y:Q", text="label:N", x=alt.datum(res["sizes"][0]["size"])
            ),
        ).properties(width=300, height=240, title=what)

    chart = alt.hconcat(
        panel("wall time with setup (s)", "seconds (log)", HOUR, "1 hour"),
        panel("peak memory (MB)", "MB (log)", 24 * 1024, "24 GB"),
    ).properties(title=f"{res['scenario']}, full model, one year, 2 processes")
    return chart.to_dict()


def write_plot(res: dict[str, Any]) -> None:
    import vl_convert as vlc

    from socialcredit.report.export import VL_VERSION

    PLOT.parent.mkdir(parents=True, exist_ok=True)
    PLOT.write_text(vlc.vegalite_to_svg(plot_spec(res), vl_version=VL_VERSION), "utf-8")


def write_doc(res: dict[str, Any]) -> None:
    write_plot(res)
    perfdoc.update(
        START, END, f"{START}\n{doc_section(res)}{END}\n", (SUMMARY_PREFIX, summary_row(res)), DOCS
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 and 200,000 residents; writes nothing")
    ap.add_argument("--sizes", help="comma-separated residents (default 1e5,1e6,1e7,1e8)")
    ap.add_argument("--full", action="store_true", help="add the whole nation, 1.4 billion (35-60 min)")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md and the plot")
    ap.add_argument("--doc-only", action="store_true", help="rewrite the doc and plot from stored results")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--mesa", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=MESA_STEPS, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None or args.mesa is not None:
        out = (
            measure_size(args.child, args.repeat)
            if args.child is not None
            else measure_mesa(args.mesa, args.steps)
        )
        args.result.write_text(json.dumps(out, indent=2) + "\n", "utf-8")
        return 0
    if args.doc_only:
        write_doc(json.loads(RESULTS.read_text("utf-8")))
        return 0
    if args.quick:
        sizes = list(QUICK_SIZES)
    elif args.sizes:
        sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    else:
        sizes = list(DEFAULT_SIZES)
    if args.full and NATION not in sizes:
        sizes.append(NATION)
    res = measure(sorted(set(sizes)), args.quick)
    if not args.quick:
        old = json.loads(RESULTS.read_text("utf-8")) if RESULTS.exists() else None
        res = merge(res, old)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(res, indent=2) + "\n", "utf-8")
        if not args.no_doc:
            write_doc(res)
    print(doc_section(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
