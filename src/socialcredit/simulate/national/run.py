"""The streamed run: a scenario's population lives its whole run shard after shard, each shard
generated where it runs, run with the compiled kernel, summarised to disk and dropped — so
memory holds one shard, whatever the population's size.

A shard is a run of whole *counties* (:data:`~socialcredit.simulate.national.tables.COUNTY_BLOCKS`
blocks). Nothing crosses shards: households, employers, organisations' partners and legal
representatives live in one block, and what the feedback reads (chilling's listed share) is the
county's. Every draw is keyed by the subject, so the totals do not depend on the number of
shards (tests/test_simulate_national.py checks it). A run can be stopped and resumed: each
finished shard's counters are a file in ``DIR/shards/``.

Outputs in ``DIR``: ``summary.json`` (totals, refusals beside the reported figures, listed stock,
what the kernel leaves out, timings and peak memory), ``daily.csv`` (one row a day) and, with
``records=True``, ``records/shard-*.parquet`` (kind, index, day, category, source).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from socialcredit.engine.dates import age_day
from socialcredit.simulate.national import kernel
from socialcredit.simulate.national.tables import COUNTY_BLOCKS, Tables, draw_history, history_weights
from socialcredit.simulate.scenario import Scenario
from socialcredit.society import rng
from socialcredit.society.behaviour import KINDS

__all__ = ["NationalRun", "Subjects", "shard_plan"]

_RUN: NationalRun | None = None  # the run a forked worker process serves


def _run_part(lo: int, hi: int) -> dict[str, Any]:
    assert _RUN is not None
    return _RUN._part(lo, hi)


#: residents per shard by default: about 0.6 GB of working memory per shard
SHARD_RESIDENTS = 4_000_000
#: residents a process is worth: smaller runs use fewer processes
MIN_PER_PROCESS = 500_000
#: blocks sampled (from the first) for the population's mean history weight
HISTORY_SAMPLE_BLOCKS = 1024


@dataclass
class Subjects:
    """One shard's subjects, every kind (see :func:`socialcredit.society.compact.compact_shard`)."""

    kind: NDArray[np.int8]
    index: NDArray[np.int64]
    block: NDArray[np.int64]
    klass: NDArray[np.int32]
    region: NDArray[np.int32]
    age: NDArray[np.int16]
    birth: NDArray[np.int32]  # persons: days since 1970 (others 0)
    commute: NDArray[np.int8]
    employed: NDArray[np.bool_]
    degree: NDArray[np.int16]
    partner: NDArray[np.int32]  # local position of an organisation's partner, or -1
    rep: NDArray[np.int64]  # organisations: local position of the legal representative, or -1


def shard_plan(n_blocks: int, shard_blocks: int) -> list[tuple[int, int]]:
    """``(first block, last + 1)`` of each shard: whole counties, ``shard_blocks`` blocks or so."""
    per = max(COUNTY_BLOCKS, (shard_blocks // COUNTY_BLOCKS) * COUNTY_BLOCKS)
    return [(lo, min(lo + per, n_blocks)) for lo in range(0, n_blocks, per)]


def _col_rate(tables: Tables, col: int) -> NDArray[np.float64]:
    """Each rate row's (envelope) daily rate of active column ``col``."""
    c = tables.cum[:, col]
    return c - (tables.cum[:, col - 1] if col > 0 else 0.0)


def _subjects(tables: Tables, lo: int, hi: int) -> Subjects:
    """The shard's subjects from the compact generator (the population's own draws)."""
    from socialcredit.society.compact import compact_shard

    c = compact_shard(tables.spec, lo, hi, with_governments=lo == 0)
    n = len(c.kind)
    npers, norg = c.n_persons, c.n_organisations
    age = np.full(n, 99, np.int16)
    age[:npers] = c.age
    birth = np.zeros(n, np.int32)
    birth[:npers] = c.birth
    commute = np.full(n, -1, np.int8)
    commute[:npers] = c.commute
    employed = np.zeros(n, bool)
    employed[:npers] = c.employed
    degree = np.zeros(n, np.int16)
    degree[:npers] = c.degree
    partner = np.full(n, -1, np.int32)
    org_pos = npers + np.arange(norg)
    partner[org_pos[c.has_partner]] = org_pos[c.has_partner] + 1
    rep = np.full(n, -1, np.int64)
    first_person = c.index[0] if npers else 0
    has = c.rep >= 0
    rep[org_pos[has]] = c.rep[has] - first_person
    return Subjects(
        c.kind, c.index, c.block, c.klass, c.region, age, birth, commute, employed, degree, partner, rep
    )


class NationalRun:
    """A streamed run of ``scenario`` (see the module docstring).

    Example:
        >>> from socialcredit.simulate import load_scenario
        >>> run = NationalRun(load_scenario("national-2018", size=2000, days=30))
        >>> out = run.run()
        >>> out["residents"], out["days"]
        (2000, 30)
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        shard_residents: int | None = None,
        out: Path | None = None,
        records: bool = False,
    ) -> None:
        from socialcredit.simulate.national.tables import build_tables

        self.scenario = scenario
        self.tables = build_tables(scenario)
        self.shard_residents = shard_residents
        self.plan = self.plan_for(1)
        self.out = Path(out) if out is not None else None
        self.records = records
        self._mean_w: dict[int, float] = {}
        self.timings = {"population": 0.0, "history": 0.0, "kernel": 0.0}

    # -- history ---------------------------------------------------------------------------------
    def _history_means(self) -> dict[int, float]:
        """Each history entry's mean positive weight over a fixed sample of blocks (the first
        :data:`HISTORY_SAMPLE_BLOCKS`): the model divides by the population's; a sample keeps the
        run streamed and the same for any sharding."""
        if self._mean_w or not self.tables.history:
            return self._mean_w
        hi = min(self.tables.spec.n_blocks, HISTORY_SAMPLE_BLOCKS)
        sub = _subjects(self.tables, 0, hi)
        for h in self.tables.history:
            k = KINDS.index(h["kind"])
            m = sub.kind == k
            w = history_weights(self.tables, h["kind"], h["category"], sub.klass[m].astype(np.int64))
            pos = w[w > 0]
            self._mean_w[h["entry"]] = float(pos.mean()) if len(pos) else 0.0
        return self._mean_w

    def _history(self, sub: Subjects) -> tuple[NDArray, ...]:
        means = self._history_means()
        parts = []
        for h in self.tables.history:
            k = KINDS.index(h["kind"])
            pos = np.flatnonzero(sub.kind == k)
            w = history_weights(self.tables, h["kind"], h["category"], sub.klass[pos].astype(np.int64))
            chosen, day, src = draw_history(self.tables, k, sub.index[pos], w, means[h["entry"]], h)
            parts.append((pos[chosen], day, np.full(len(chosen), h["category"]), src))
        if not parts:
            z = np.zeros(0, np.int64)
            return z, z, z, z
        s, d, c, src = (np.concatenate(x).astype(np.int64) for x in zip(*parts, strict=True))
        return s, d, c, src  # sorted by subject and day once the shard is in run order

    # -- one shard -------------------------------------------------------------------------------
    def run_shard(self, lo: int, hi: int) -> dict[str, Any]:
        """Run blocks ``lo..hi-1`` for the whole run; the per-day counters."""
        t = self.tables
        t0 = time.perf_counter()
        sub = _subjects(t, lo, hi)
        t1 = time.perf_counter()
        h_subj, h_day, h_cat, h_src = self._history(sub)
        t2 = time.perf_counter()
        n = len(sub.kind)
        # memory order = run order: organisations first, in index order (a partner is the next
        # one), the rest by class, so that a class's rate row stays in cache (no result changes)
        rest = np.flatnonzero(sub.kind != 1)
        k16 = np.asarray(sub.klass)[rest].astype(np.int16 if len(t.tot) < 2**15 else np.int32)
        rest = rest[np.argsort(k16, kind="stable")]  # a radix sort for 16-bit keys
        perm = np.concatenate([np.flatnonzero(sub.kind == 1), rest]).astype(np.int64)
        inv = np.empty(n, np.int64)
        inv[perm] = np.arange(n)
        sub = Subjects(**{f: getattr(sub, f)[perm] for f in Subjects.__dataclass_fields__})
        sub.partner = np.where(sub.partner >= 0, inv[np.maximum(sub.partner, 0)], -1).astype(np.int32)
        sub.rep = np.where(sub.rep >= 0, inv[np.maximum(sub.rep, 0)], -1)
        if len(h_subj):
            h_subj = inv[h_subj]
            o = np.lexsort((h_day, h_subj))
            h_subj, h_day, h_cat, h_src = h_subj[o], h_day[o], h_cat[o], h_src[o]
        gkey = (sub.kind.astype(np.int64) << 40) | sub.index
        county = ((sub.block // COUNTY_BLOCKS) - lo // COUNTY_BLOCKS).astype(np.int32)
        n_counties = int(county.max()) + 1 if n else 1
        uniq = np.unique(sub.region)
        rows = np.array([t.region_rows.get(int(r), 0) for r in uniq], np.int16)
        region = rows[np.searchsorted(uniq, sub.region)] if n else np.zeros(0, np.int16)
        orgs = np.flatnonzero((sub.kind == 1) & (sub.rep >= 0))
        reps = sub.rep[orgs]
        o = np.argsort(reps, kind="stable")
        rep_org = orgs[o].astype(np.int32)
        rep_ptr = np.concatenate([[0], np.cumsum(np.bincount(reps, minlength=n))]).astype(np.int64)
        h_ptr = np.concatenate([[0], np.cumsum(np.bincount(h_subj, minlength=n))]).astype(np.int64)
        keys = np.array(
            [rng.key(t.scenario.seed, f"streamed/{name}") for name in ("event", "feedback", "retry")],
            np.uint64,
        )
        ua = int(t.under_age.max())
        of_age = np.full(n, -(2**31), np.int32)
        if ua:  # only those who were under age some day since the earliest record need the day
            young = np.flatnonzero((sub.kind == 0) & (sub.age < ua + (t.start - t.base) // 365 + 2))
            of_age[young] = age_day(sub.birth[young].astype(np.int64), ua)
        # capacities from the expected counts (per class, then weighted by the class counts; no
        # matrix product: OpenBLAS's threads would spin on the other core for a while after it)
        per_row = np.bincount(sub.klass, minlength=len(t.tot))[: len(t.tot)]
        expect = float((per_row * (1.0 - np.exp(-t.list_rate * t.days * 4.0))).sum()) + len(h_subj)
        slot_cap = int(expect * 1.5) + 1024
        chilled = [c for c in (t.chill_crit, t.chill_pos) if c >= 0]
        cand_rate = float(sum((per_row * _col_rate(t, c)).sum() for c in chilled))
        cand_cap = int(cand_rate * t.days * 1.3) + 4096
        rec_cap = (
            int(float((per_row * t.tot).sum()) * t.days * 1.5) + len(h_subj) + 4096 if self.records else 1
        )
        while True:
            try:
                res = kernel.run_shard(
                    gkey,
                    sub.kind,
                    np.asarray(sub.klass, np.int32),
                    region,
                    county,
                    of_age,
                    sub.commute,
                    sub.employed,
                    sub.degree,
                    sub.partner,
                    rep_ptr,
                    rep_org,
                    t.tot,
                    t.inv_tot,
                    t.p_one,
                    t.prob,
                    t.alias,
                    t.col_cat,
                    t.col_act,
                    t.col_mult,
                    t.jobless_rows,
                    t.case_step,
                    t.n_src,
                    t.src_table,
                    t.src_channel,
                    t.coverage,
                    t.effect,
                    t.deterred,
                    t.ent_dur,
                    t.ent_src_ok,
                    t.ext_min,
                    t.ext_total,
                    t.exit_cat,
                    t.delist,
                    t.min_dur,
                    t.under_age,
                    t.derived_from,
                    t.propagate,
                    t.list_black,
                    t.list_kind,
                    t.dur,
                    t.base,
                    t.version_of_day,
                    t.list_active,
                    t.measure,
                    t.dec_pub,
                    t.evals,
                    t.month_ok,
                    t.month_of_day,
                    t.fb,
                    t.chill_crit,
                    t.chill_pos,
                    t.rail_lists,
                    t.employment,
                    t.retry_log,
                    t.default_cat,
                    h_ptr,
                    h_day,
                    h_cat,
                    h_src,
                    keys,
                    t.start,
                    t.days,
                    n_counties,
                    slot_cap,
                    cand_cap,
                    self.records,
                    rec_cap,
                )
                break
            except RuntimeError as e:  # slots or candidates exhausted: a rare shard; give it more
                if "slots" in str(e):
                    slot_cap *= 2
                elif "candidates" in str(e):
                    cand_cap *= 2
                else:
                    raise
        t3 = time.perf_counter()
        (
            rec_day,
            att_day,
            retry_day,
            new_list_day,
            totals,
            stock_delta,
            black_delta,
            recs,
            atts,
            _n_slots,
            final,
            first,
            slot,
        ) = res
        #: the last shard's subjects (in run order), final list bits per slot, slots and records (tests)
        self.last = {
            "subjects": sub,
            "final": final,
            "slot": slot,
            "records": recs,
            "attempts": atts,
            "rep_ptr": rep_ptr,
            "rep_org": rep_org,
            "history": (h_subj, h_day, h_cat, h_src),
        }
        self.timings["population"] += t1 - t0
        self.timings["history"] += t2 - t1
        self.timings["kernel"] += t3 - t2
        out = {
            "residents": int((sub.kind == 0).sum()),
            "subjects": int(n),
            "records_by_category": rec_day,
            "attempts": att_day,
            "retries": retry_day,
            "new_listings": new_list_day,
            "totals": totals,
            "stock_delta": stock_delta,
            "black_delta": black_delta.sum(axis=0),
            "history_records": len(h_subj),
            "members_start": self._members(self._standing(first, slot, rep_ptr, rep_org)[0], sub.kind),
            "members_end": self._members(self._standing(final, slot, rep_ptr, rep_org)[0], sub.kind),
        }
        if self.out is not None:
            self._write_shard(lo, sub, recs, *self._standing(final, slot, rep_ptr, rep_org))
        return out

    def _standing(
        self, bits_of_slot: NDArray, slot: NDArray, rep_ptr: NDArray, rep_org: NDArray
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Each subject's lists (bit per list) from its slot's bits, and the lists it is on only
        as the legal representative of an organisation on a list that propagates."""
        bits = np.where(slot >= 0, bits_of_slot[np.maximum(slot, 0)], 0).astype(np.int64)
        prop = int(sum(1 << i for i, p in enumerate(self.tables.propagate) if p))
        via = np.zeros(len(bits), np.int64)
        n_rep = np.diff(rep_ptr)
        reps = np.repeat(np.arange(len(bits)), n_rep)
        if len(reps):
            np.bitwise_or.at(via, reps, bits[rep_org[: len(reps)]] & prop)
        return bits | via, via & ~bits

    def _members(self, bits: NDArray[np.int64], kind: NDArray[np.int8]) -> NDArray[np.int64]:
        """Members of each list, persons and organisations (list x 2)."""
        out = np.zeros((len(self.tables.list_ids), 2), np.int64)
        for li in range(len(self.tables.list_ids)):
            on = ((bits >> li) & 1).astype(bool)
            out[li] = (on & (kind == 0)).sum(), (on & (kind == 1)).sum()
        return out

    def _write_shard(self, lo: int, sub: Subjects, recs: NDArray, bits: NDArray, via: NDArray) -> None:
        """``listed/shard-*.parquet``: who is on which list on the last evaluation day (one row
        per subject and list; ``through_representative``: only as an organisation's legal
        representative); with ``records``, ``records/shard-*.parquet``. Names are Parquet
        dictionaries; each file is written under a temporary name and renamed."""
        assert self.out is not None
        t = self.tables

        def names(codes: NDArray, vocab: list[str]) -> pa.DictionaryArray:
            return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(vocab))

        def write(folder: str, table: pa.Table) -> None:
            (self.out / folder).mkdir(parents=True, exist_ok=True)
            path = self.out / folder / f"shard-{lo:09d}.parquet"
            tmp = path.with_name(path.name + ".partial")
            pq.write_table(table, tmp)
            os.replace(tmp, path)

        who, lst = [], []
        for li in range(len(t.list_ids)):
            on = np.flatnonzero((bits >> li) & 1)
            who.append(on)
            lst.append(np.full(len(on), li))
        who_a, lst_a = np.concatenate(who), np.concatenate(lst)
        write(
            "listed",
            pa.table(
                {
                    "kind": names(sub.kind[who_a], list(KINDS)),
                    "index": pa.array(sub.index[who_a]),
                    "list": names(lst_a, t.list_ids),
                    "through_representative": pa.array(((via[who_a] >> lst_a) & 1).astype(bool)),
                }
            ),
        )
        if self.records and len(recs):
            s = recs[:, 0]
            write(
                "records",
                pa.table(
                    {
                        "kind": names(sub.kind[s], list(KINDS)),
                        "index": pa.array(sub.index[s]),
                        "day": pa.array(recs[:, 1].astype(np.int32)),
                        "category": names(recs[:, 2], t.categories),
                        "source": names(recs[:, 3], t.meta.sources),
                    }
                ),
            )

    # -- the whole run ---------------------------------------------------------------------------
    def plan_for(self, processes: int) -> list[tuple[int, int]]:
        """The shards: ``shard_residents`` each when given; else at most :data:`SHARD_RESIDENTS`,
        and at least one per process (the results do not depend on it)."""
        spec = self.tables.spec
        if self.shard_residents:
            return shard_plan(spec.n_blocks, max(1, self.shard_residents // spec.block_size))
        p = max(processes, 1)
        shards = max(p, -(-spec.size // SHARD_RESIDENTS))
        shards = -(-shards // p) * p  # a multiple of the processes: none waits at the end
        counties = -(-spec.n_blocks // COUNTY_BLOCKS)
        return shard_plan(spec.n_blocks, -(-counties // shards) * COUNTY_BLOCKS)

    def _part(self, lo: int, hi: int) -> dict[str, Any]:
        """Shard ``lo..hi-1``'s counters: from ``DIR/shards`` when a finished run left them,
        else run (and saved there, written under a temporary name and renamed)."""
        path = self.out / "shards" / f"shard-{lo:09d}.npz" if self.out is not None else None
        if path is not None and path.exists():
            with np.load(path) as f:
                return {k: (v.item() if v.ndim == 0 else v) for k, v in f.items()}
        c0 = time.process_time()
        before = dict(self.timings)
        part = self.run_shard(lo, hi)
        part["cpu_s"] = np.float64(time.process_time() - c0)
        for k, v in self.timings.items():
            part[f"seconds_{k}"] = np.float64(v - before[k])
        part["peak_rss_mb"] = np.float64(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.stem + ".partial.npz")
            np.savez(tmp, **part)
            os.replace(tmp, path)
        return part

    def run(
        self, progress: Callable[[int, int, int], None] | None = None, *, processes: int = 1
    ) -> dict[str, Any]:
        """Every shard (``processes`` at a time, each in its own process), resuming from
        ``DIR/shards`` when given; the summary."""
        t0 = time.perf_counter()
        # a process costs a fork and a shard's fixed costs: on the default plan, below
        # MIN_PER_PROCESS residents each, fewer processes are faster
        if self.shard_residents is None:
            processes = min(processes, -(-self.tables.spec.size // MIN_PER_PROCESS))
        self.plan = self.plan_for(processes)
        processes = max(1, min(processes, len(self.plan)))
        self._history_means()  # once, before any fork
        acc: dict[str, Any] = {}
        done_residents = 0
        cpu = peak = 0.0
        seconds = dict.fromkeys(self.timings, 0.0)

        def add(part: dict[str, Any]) -> None:
            nonlocal done_residents, cpu, peak
            cpu += float(part.pop("cpu_s", 0.0))
            peak = max(peak, float(part.pop("peak_rss_mb", 0.0)))
            for k in seconds:
                seconds[k] += float(part.pop(f"seconds_{k}", 0.0))
            for k, v in part.items():
                acc[k] = acc[k] + v if k in acc else v
            done_residents += int(part["residents"])

        if processes <= 1 or len(self.plan) == 1:
            for i, (lo, hi) in enumerate(self.plan):
                add(self._part(lo, hi))
                if progress is not None:
                    progress(i + 1, len(self.plan), done_residents)
        else:
            global _RUN
            _RUN = self
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=processes, mp_context=ctx) as pool:
                futures = [pool.submit(_run_part, lo, hi) for lo, hi in self.plan]
                for i, fut in enumerate(as_completed(futures)):
                    add(fut.result())
                    if progress is not None:
                        progress(i + 1, len(self.plan), done_residents)
            _RUN = None
        wall = time.perf_counter() - t0
        summary = self.summarise(acc, wall, cpu, peak)
        summary["timings"] = {k: round(v, 2) for k, v in seconds.items()}  # CPU-side seconds, all processes
        summary["processes"] = processes
        if self.out is not None:
            self._write(summary, acc)
        return summary

    def summarise(self, acc: dict[str, Any], wall: float, cpu: float, peak_mb: float = 0.0) -> dict[str, Any]:
        t = self.tables
        residents = int(acc["residents"])
        agent_days = residents * t.days
        att = acc["attempts"]
        acts = t.actions
        stock = np.cumsum(acc["stock_delta"], axis=2)  # list x (persons, orgs) x day since base
        end = t.start + t.days - 1 - t.base
        start_m, end_m = acc["members_start"], acc["members_end"]
        lists = {
            lid: {
                "persons_at_start": int(start_m[i, 0]),
                "persons_at_end": int(end_m[i, 0]),
                "organisations_at_start": int(start_m[i, 1]),
                "organisations_at_end": int(end_m[i, 1]),
                "new_listings": int(acc["new_listings"][:, i, :].sum()),
                "opened_by_own_records_at_end": int(stock[i, 0, end] + stock[i, 1, end]),
            }
            for i, lid in enumerate(t.list_ids)
        }
        # a refused attempt may be retried the same day, each retry another refusal (as the
        # in-memory model's `refused` reporter counts them)
        refused = {a: int(att[:, j, 3].sum() + acc["retries"][:, j].sum()) for j, a in enumerate(acts)}
        compare = []
        for c in t.scenario.compare:
            if c.reporter != "refused" or c.key not in refused:
                continue
            scaled = refused[c.key] * c.population / max(residents, 1) * 365 / t.days  # a year, as the model
            compare.append(
                {
                    "key": c.key,
                    "reading": c.reading,
                    "reported": c.reported,
                    "simulated": refused[c.key],
                    "scaled": round(scaled),
                    "ratio": round(scaled / c.reported, 3) if c.reported else None,
                    "source": c.source,
                }
            )
        rss = max(peak_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return {
            "scenario": t.scenario.name,
            "seed": t.scenario.seed,
            "residents": residents,
            "subjects": int(acc["subjects"]),
            "days": t.days,
            "start": str(t.scenario.start),
            "shards": len(self.plan),
            "agent_days": agent_days,
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "agent_days_per_s": round(agent_days / wall) if wall else None,
            "peak_rss_mb": round(rss, 1),
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "records": int(acc["totals"][:, kernel.T_RECORDS].sum()),
            "history_records": int(acc["history_records"]),
            "events": int(acc["totals"][:, kernel.T_EVENTS].sum()),
            "attempts": int(att.sum()),
            "refused": {a: v for a, v in refused.items() if v},
            "retries": {
                a: int(acc["retries"][:, j].sum()) for j, a in enumerate(acts) if acc["retries"][:, j].sum()
            },
            "lists": lists,
            "feedback": {
                "new_black_listings": int(acc["totals"][:, kernel.T_NEW_LISTINGS].sum()),
                "jobs_lost": int(acc["totals"][:, kernel.T_JOBS_LOST].sum()),
                "ties_cut": int(acc["totals"][:, kernel.T_TIES_CUT].sum()),
                "events_deterred": int(acc["totals"][:, kernel.T_DETERRED].sum()),
                "attempts_avoided": int(acc["totals"][:, kernel.T_AVOIDED].sum()),
                "partner_defaults": int(acc["totals"][:, kernel.T_PARTNER].sum()),
            },
            "compare": compare,
            "versions": t.versions,
            "left_out": t.left_out,
        }

    def _write(self, summary: dict[str, Any], acc: dict[str, Any]) -> None:
        assert self.out is not None
        t = self.tables
        tmp = self.out / "summary.json.partial"
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
        os.replace(tmp, self.out / "summary.json")
        stock = np.cumsum(acc["stock_delta"], axis=2)
        black = np.cumsum(acc["black_delta"])
        flight = t.actions.index("travel.flight") if "travel.flight" in t.actions else None
        rail = t.actions.index("travel.high_speed_rail") if "travel.high_speed_rail" in t.actions else None
        tmp = self.out / "daily.csv.partial"
        with tmp.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(
                [
                    "date",
                    "records",
                    "attempts",
                    "refused",
                    "flights_refused",
                    "rail_refused",
                    "new_black_listings",
                    "persons_on_a_black_list",
                    *[f"opened:{lid}" for lid in t.list_ids],
                    "jobs_lost",
                ]
            )
            for i in range(t.days):
                d = t.start + i - t.base
                att = acc["attempts"][i]
                w.writerow(
                    [
                        str(dt.date(1970, 1, 1) + dt.timedelta(days=t.start + i)),
                        int(acc["totals"][i, kernel.T_RECORDS]),
                        int(att.sum()),
                        int(att[:, 3].sum() + acc["retries"][i].sum()),
                        int(att[flight, 3] + acc["retries"][i, flight]) if flight is not None else 0,
                        int(att[rail, 3] + acc["retries"][i, rail]) if rail is not None else 0,
                        int(acc["totals"][i, kernel.T_NEW_LISTINGS]),
                        int(black[d]),
                        *[int(stock[j, 0, d] + stock[j, 1, d]) for j in range(len(t.list_ids))],
                        int(acc["totals"][i, kernel.T_JOBS_LOST]),
                    ]
                )
        os.replace(tmp, self.out / "daily.csv")
