"""Simulator benchmark: agent-days per second at 100,000 and 1,000,000 residents, beside the same
daily workload written idiomatically in Mesa 3, measured in the same run.

The workload (issue 7, simulator part 1): every resident, organisation, vehicle and dog of the
synthetic city, every day, may do anything in the vocabulary (82 record categories) at the rate
its class gives (age band, sex, income, group, commute, propensity, open enforcement case); an
event is recorded when its source sees it (coverage by channel); residents try actions (fly,
take the train, book a hotel, borrow, enrol a child...) and each attempt is decided on the
published state of the rulebooks (national + rongcheng, evaluated once before the clock
starts, the same table for both); a refused attempt may be retried; records that open or
close enforcement cases change the subject's rates.

* ``socialcredit``: :class:`socialcredit.society.behaviour.BehaviourModel` — per block and
  column one Poisson draw, then who (event-driven), vectorised with numpy;
* ``mesa``: one ``mesa.Agent`` per subject whose ``step`` draws a Bernoulli per column it can
  do (its class's non-zero rates, shared per class), called by ``model.agents.shuffle_do``.

Both run on the same population and rate tables. Agent-days are residents x days (the other
subjects come along). Rates are given per CPU-second of the process (``time.process_time``) —
steadier than wall time on a shared machine — and per wall second. The full simulator loop
(behaviour plus the engine evaluating every record weekly, decisions and reporters) is
measured too, without a peer.

Targets (issue 7): at least 300 times Mesa's agent-days per second at 100,000 residents.
Writes ``bench/results/simulate.json`` and the simulator section of ``docs/performance.md``.

Usage: ``python bench/bench_simulate.py [--quick] [--no-doc]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from socialcredit.simulate import SocialCreditModel, load_scenario
from socialcredit.society.behaviour import KINDS
from socialcredit.society.rates import ONE

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "simulate.json"
DOCS = HERE.parent / "docs" / "performance.md"
TARGET = 300


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(t: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - t[0], time.process_time() - t[1]


# ------------------------------------------------------------------------------ socialcredit
def setup(size: int, seed: int = 2018) -> tuple[SocialCreditModel, Any, np.ndarray]:
    """The city at ``size`` with its history, its behaviour model and the published outcome
    table (national + rongcheng as of the first day)."""
    model = SocialCreditModel(load_scenario("city", size=size, days=365, seed=seed))
    ev = (
        model.engines["main"]
        .bind(model.store.arrays(), (model.subjects, model.relations))
        .evaluate(model.start_day)
    )
    cols = np.array([ev.action_column(a) for a in model.actions])
    outcome = ev.profiles.outcome[ev.profiles.profile][:, cols]  # subject code x action
    return model, ev, outcome.astype(np.int8)


def run_ours(model: SocialCreditModel, outcome: np.ndarray, days: int) -> dict[str, Any]:
    b = model.shards[0]
    counts = np.zeros((len(model.actions), 4), np.int64)
    n_records = 0
    gc.collect()
    t = clocks()
    for d in range(days):
        day = model.start_day + d
        draws = b.draw(day)
        b.apply(draws.records)
        a = draws.attempts
        np.add.at(counts, (a["action"], outcome[a["subject"], a["action"]]), 1)
        n_records += len(draws.records["subject"])
    wall, cpu = since(t)
    size = model.scenario.size
    return {
        "days": days,
        "wall_s": wall,
        "cpu_s": cpu,
        "records": n_records,
        "attempts": int(counts.sum()),
        "refused": int(counts[:, 3].sum()),
        "agent_days_per_s": size * days / wall,
        "agent_days_per_cpu_s": size * days / cpu,
    }


def run_full(size: int, days: int, seed: int = 2018) -> dict[str, Any]:
    sc = load_scenario("city", size=size, days=days, seed=seed)
    t = clocks()
    model = SocialCreditModel(sc)
    setup_wall, _ = since(t)
    t = clocks()
    model.run()
    wall, cpu = since(t)
    return {
        "days": days,
        "setup_s": setup_wall,
        "wall_s": wall,
        "cpu_s": cpu,
        "records": len(model.store),
        "timings": {k: round(v, 2) for k, v in model.timings.items()},
        "agent_days_per_s": size * days / wall,
        "agent_days_per_cpu_s": size * days / cpu,
    }


# ------------------------------------------------------------------------------ Mesa
class Subject(mesa.Agent):
    """A resident (or organisation, vehicle, dog): each day, one Bernoulli draw per thing its
    class can do."""

    def __init__(self, model: CityModel, kind: int, klass: int, code: int, region: int) -> None:
        super().__init__(model)
        self.kind, self.klass, self.code, self.region = kind, klass, code, region

    def step(self) -> None:
        rnd = self.random.random
        for col, p in self.model.rates[self.klass]:
            if rnd() < p:
                self.model.event(self, col)


class CityModel(mesa.Model):
    """The same daily workload, the Mesa way."""

    def __init__(self, ours: SocialCreditModel, outcome: np.ndarray, seed: int = 2018) -> None:
        super().__init__(seed=seed)
        b = ours.shards[0]
        self.b, self.outcome = b, outcome
        self.n_cat = len(b.categories)
        self.case_stride = [
            b.spaces[k].stride("case") if "case" in dict(b.spaces[k].factors) else 0 for k in KINDS
        ]
        self.offsets = [b.offsets[k] for k in KINDS]
        # the classes' non-zero rates (shared by the agents of a class), as (column, p per day)
        self.rates = [[(int(b.cols[j]), float(row[j]) / ONE) for j in np.flatnonzero(row)] for row in b.table]
        g = b.group
        for kind, klass, code, region in zip(
            g.kind.tolist(), g.klass.tolist(), g.codes.tolist(), g.region.tolist(), strict=True
        ):
            Subject(self, kind, klass, code, region)
        self.retry = ours.retry
        self.opens = {b.categories.index(c) for c, e in b.effects.items() if e == "open_case"}
        self.closes = {b.categories.index(c) for c, e in b.effects.items() if e == "close_case"}
        self.events = np.zeros(self.n_cat, np.int64)
        self.records: list[tuple[int, int, int, int]] = []
        self.decisions = np.zeros((len(ours.actions), 4), np.int64)

    def event(self, agent: Subject, col: int) -> None:
        rnd = self.random.random
        if col < self.n_cat:
            self.events[col] += 1
            srcs = self.b.cat_sources[col]
            src = int(srcs[int(rnd() * len(srcs))])
            if rnd() < self.b.coverage[agent.region, self.b.source_channel[src]]:
                self.records.append((agent.code, col, self.steps, src))
                stride = self.case_stride[agent.kind]
                level = (agent.klass - self.offsets[agent.kind]) // stride % 2 if stride else -1
                if col in self.opens and level == 0:
                    agent.klass += stride
                elif col in self.closes and level == 1:
                    agent.klass -= stride
        else:
            a = col - self.n_cat
            out = int(self.outcome[agent.code, a])
            self.decisions[a, out] += 1
            p = self.retry[a]
            while out == 3 and p > 0 and rnd() < p:
                self.decisions[a, 3] += 1

    def step(self) -> None:
        self.agents.shuffle_do("step")


def run_mesa(ours: SocialCreditModel, outcome: np.ndarray, steps: int) -> dict[str, Any]:
    t = clocks()
    city = CityModel(ours, outcome)
    setup_wall, _ = since(t)
    gc.collect()
    t = clocks()
    for _ in range(steps):
        city.step()
    wall, cpu = since(t)
    size = ours.scenario.size
    return {
        "days": steps,
        "setup_s": setup_wall,
        "wall_s": wall,
        "cpu_s": cpu,
        "records": len(city.records),
        "attempts": int(city.decisions.sum()),
        "agent_days_per_s": size * steps / wall,
        "agent_days_per_cpu_s": size * steps / cpu,
    }


# ------------------------------------------------------------------------------ report
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, Mesa {mesa.__version__}"


def measure(quick: bool) -> dict[str, Any]:
    plan = (
        [(10_000, 30, 3, 30), (50_000, 20, 1, 20)]
        if quick
        else [(100_000, 365, 3, 365), (1_000_000, 120, 1, 60)]
    )
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "quick": quick,
        "load_before": os.getloadavg()[0],
        "sizes": [],
    }
    for size, days, mesa_steps, full_days in plan:
        print(f"== {size:,} residents", flush=True)
        t = clocks()
        ours, _, outcome = setup(size)
        setup_s = since(t)[0]
        row: dict[str, Any] = {
            "size": size,
            "setup_s": setup_s,
            "subjects": len(ours.subjects),
            "records_history": len(ours.store),
        }
        row["socialcredit"] = run_ours(ours, outcome, days)
        print(
            f"   socialcredit: {row['socialcredit']['agent_days_per_cpu_s']:,.0f} agent-days per CPU-s",
            flush=True,
        )
        row["mesa"] = run_mesa(ours, outcome, mesa_steps)
        print(f"   mesa: {row['mesa']['agent_days_per_cpu_s']:,.0f} agent-days per CPU-s", flush=True)
        row["ratio_cpu"] = row["socialcredit"]["agent_days_per_cpu_s"] / row["mesa"]["agent_days_per_cpu_s"]
        row["ratio_wall"] = row["socialcredit"]["agent_days_per_s"] / row["mesa"]["agent_days_per_s"]
        del ours, outcome
        gc.collect()
        row["full_loop"] = run_full(size, full_days)
        print(
            f"   full loop: {row['full_loop']['agent_days_per_cpu_s']:,.0f} agent-days per CPU-s", flush=True
        )
        out["sizes"].append(row)
    out["load_after"] = os.getloadavg()[0]
    return out


def doc_section(res: dict[str, Any]) -> str:
    q = " (quick: not comparable)" if res["quick"] else ""
    lines = [
        f"## Simulator{q}",
        "",
        f"`python bench/bench_simulate.py` on {res['machine']}, {res['date']}; load average "
        f"{res['load_before']:.1f} before and {res['load_after']:.1f} after (the machine is shared "
        "with other work, so rates are given per CPU-second of the process as well as per wall "
        "second). The `city` scenario (Rongcheng, national + rongcheng, end-2017 defaulter "
        "stock); the same population, rate tables and published decisions for both. "
        "socialcredit draws the days in one shard; Mesa runs `shuffle_do('step')` on one agent per "
        "subject. See the docstring of `bench/bench_simulate.py` for the workload.",
        "",
        "| residents | subjects | socialcredit agent-days per CPU-s | Mesa agent-days per CPU-s "
        "| × Mesa (CPU) | × Mesa (wall) | days measured (ours / Mesa) | full loop with engine, "
        "agent-days per CPU-s |",
        "|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in res["sizes"]:
        s, m, f = r["socialcredit"], r["mesa"], r["full_loop"]
        lines.append(
            f"| {r['size']:,} | {r['subjects']:,} | {s['agent_days_per_cpu_s']:,.0f} | "
            f"{m['agent_days_per_cpu_s']:,.0f} | {r['ratio_cpu']:,.0f} | {r['ratio_wall']:,.0f} | "
            f"{s['days']} / {m['days']} | {f['agent_days_per_cpu_s']:,.0f} ({f['days']} days) |"
        )
    first = res["sizes"][0]
    met = "met" if first["ratio_cpu"] >= TARGET else "not met"
    lines += [
        "",
        f"Target: at least {TARGET} times Mesa at 100,000 residents: {met} "
        f"({first['ratio_cpu']:,.0f}× per CPU-second at {first['size']:,})."
        if not res["quick"]
        else "",
        "",
    ]
    return "\n".join(lines).rstrip() + "\n"


def write_doc(res: dict[str, Any]) -> None:
    start, end = "<!-- bench:simulate:start -->", "<!-- bench:simulate:end -->"
    block = f"{start}\n{doc_section(res)}{end}\n"
    text = DOCS.read_text("utf-8") if DOCS.exists() else "# Performance\n\n"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end) + r"\n?", lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    DOCS.write_text(text, "utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few days (not comparable)")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    res = measure(args.quick)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n", "utf-8")
    if not args.no_doc:
        write_doc(res)
    print(doc_section(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
