"""Engine benchmark: score a city under ``rongcheng`` as of the last day of three years.

Workload (seeded, generated here): 100 million records over 10 million subjects (``--quick``:
1 million over 100,000), categories drawn from the ``rongcheng`` rulebook's categories in
proportion to the assumed base rates below, days uniform over 2018-01-01..2020-12-31, in ledger
(day) order. Evaluated as of 2020-12-31 with expiry, per-unit brackets, caps, clamps, grade caps
and grades — and, by the engine only, every list, propagation, measure and decision profile.

The peers compute the same scores and grades from the same integer columns, in DuckDB SQL and in
Polars, in the same run, each in the cheapest correct form (a bracket's total is taken from the
subject's total value, a yearly cap per subject and year). Figures: records per second (per core
for the engine, which runs on one thread; the peers use all threads, ``--threads``), the ratios,
``decide_many`` decisions per second and the median latency of a single ``decide``.

Run ``python bench/bench_engine.py [--quick] [--records N] [--subjects N]``; results go to
``bench/results/engine.json`` and the engine section of ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from socialcredit.engine import Engine, RecordArrays, RelationArrays, SubjectArrays
from socialcredit.engine.dates import cutoff, to_day
from socialcredit.registry import RELATION_KINDS, SUBJECT_KINDS
from socialcredit.rulebooks import load_rulebook

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "engine.json"
DOC = HERE.parent / "docs" / "performance.md"
START, END = dt.date(2018, 1, 1), dt.date(2020, 12, 31)
RONGCHENG = 600
#: Assumed shares of records by category (the simulator issue calibrates base rates properly):
#: everyday offences and keeping records dominate, court and list categories are rare.
RATES = {
    "traffic.ticket": 28,
    "finance.loan_arrears": 10,
    "finance.credit_card_overdue": 9,
    "utility.late_payment": 10,
    "social.volunteering": 14,
    "social.donation": 5,
    "social.blood_donation": 3,
    "contract.nonperformance": 2,
    "commerce.other_dishonesty": 1.5,
    "social.heroic_act": 0.4,
    "traffic.drunk_driving": 0.4,
    "judicial.judgment_default": 1.0,
    "judicial.judgment_fulfilled": 0.6,
    "utility.theft": 0.3,
    "social.honour": 0.4,
    "contract.breach_judgment": 0.5,
    "finance.private_lending_breach": 0.5,
    "finance.debt_judgment": 0.5,
    "utility.arrears_judgment": 0.3,
    "rail.smoking": 0.3,
    "finance.guarantee_breach": 0.4,
    "commerce.counterfeit": 0.2,
    "commerce.fraud": 0.2,
    "finance.illegal_fundraising": 0.1,
    "utility.heating_tampering": 0.2,
    "utility.equipment_damage": 0.1,
}
SOURCES = ("court", "bank", "civil_affairs", "people_government", "traffic_police", "utilities", "railway")
SOURCE_OF = {
    "judicial": 0,
    "finance": 1,
    "social": 2,
    "traffic": 4,
    "utility": 5,
    "rail": 6,
    "contract": 0,
    "commerce": 1,
}


def workload(
    n_records: int, n_subjects: int, seed: int = 20201231
) -> tuple[RecordArrays, SubjectArrays, RelationArrays]:
    """The seeded workload as the engine's integer columns."""
    rng = np.random.default_rng(seed)
    cats = tuple(RATES)
    p = np.array([RATES[c] for c in cats], np.float64)
    p /= p.sum()
    d0, d1 = to_day(START), to_day(END)
    per_day = rng.multinomial(n_records, np.full(d1 - d0 + 1, 1 / (d1 - d0 + 1)))
    day = np.repeat(np.arange(d0, d1 + 1, dtype=np.int32), per_day)
    category = rng.choice(len(cats), size=n_records, p=p).astype(np.int16)
    subject = rng.integers(0, n_subjects, n_records, dtype=np.int32)
    value = np.ones(n_records, np.float32)
    for name, lo, hi in (
        ("social.volunteering", 1, 9),
        ("social.donation", 100, 3000),
        ("commerce.other_dishonesty", 1, 60),
    ):
        m = category == cats.index(name)
        value[m] = rng.integers(lo, hi, int(m.sum()))
    src_lut = np.array([SOURCE_OF[c.split(".")[0]] for c in cats], np.int8)
    src_lut[cats.index("social.honour")] = 3
    src_lut[cats.index("social.heroic_act")] = 3
    source = src_lut[category]
    recs = RecordArrays(subject, category, day, value, np.zeros(n_records, bool), cats, source, SOURCES, None)
    n_org = n_subjects // 10
    kind = np.zeros(n_subjects, np.int8)
    kind[-n_org:] = SUBJECT_KINDS.index("organisation")
    ids = pa.compute.utf8_lpad(pa.array(np.arange(n_subjects)).cast(pa.string()), 18, "0")
    birth = rng.integers(to_day(dt.date(1940, 1, 1)), to_day(dt.date(2000, 1, 1)), n_subjects)
    subjects = SubjectArrays.build(ids, kind, region=np.full(n_subjects, RONGCHENG), birth=birth)
    reps = rng.integers(0, n_subjects - n_org, n_org).astype(np.int32)
    orgs = np.arange(n_subjects - n_org, n_subjects, dtype=np.int32)
    k = RELATION_KINDS.index("legal_representative_of")
    z = np.full(n_org, -(2**62), np.int64)
    relations = RelationArrays(np.full(n_org, k, np.int8), reps, orgs, z, np.full(n_org, 2**62))
    return recs, subjects, relations


def rule_table(day: int, recs: RecordArrays) -> list[dict[str, Any]]:
    """The rongcheng rules in force on ``day`` as plain rows for the peers' SQL and Polars."""
    v = load_rulebook("rongcheng").version_on(dt.date(1970, 1, 1) + dt.timedelta(days=day))
    from socialcredit.engine.compile import _expiry

    rows = []
    for r in v.rules.values():
        if r.category not in recs.categories:
            continue
        rows.append(
            {
                "cat": recs.categories.index(r.category),
                "kind": r.effect_kind,
                "points": float(r.points or 0.0),
                "ppu": float(r.points_per_unit or 0.0),
                "step": float(r.unit_step),
                "cutoff": cutoff(_expiry(r, v), day),
                "clamp_lo": r.clamp.min if r.clamp else -1e18,
                "clamp_hi": r.clamp.max if r.clamp else 1e18,
                "cap": r.cap.points if r.cap else 0.0,
                "brackets": bool(r.brackets),
                "capgrade": bool(r.cap_grade),
            }
        )
    return rows


def bracket_sql(col: str) -> str:
    """Weihai's volunteer brackets as a closed form of the total value (the engine's rule)."""
    return (
        f"(LEAST({col}, 20) + GREATEST(LEAST({col}, 80) - 20, 0) / 2"
        f" + GREATEST(LEAST({col}, 200) - 80, 0) / 3 + GREATEST({col} - 200, 0) / 4)"
    )


def duckdb_scores(
    recs: RecordArrays, n: int, day: int, rules: list[dict[str, Any]], threads: int
) -> tuple[float, float, np.ndarray, np.ndarray]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    t = pa.table(
        {
            "subject": recs.subject,
            "cat": recs.category,
            "day": recs.day,
            "value": recs.value.astype(np.float64),
        }
    )
    k = pa.Table.from_pylist(rules)
    con.register("recs", t)
    con.register("rules", k)
    sql = f"""
    WITH j AS (
      SELECT r.subject, r.day, r.value, k.* FROM recs r JOIN rules k ON r.cat = k.cat
      WHERE r.day <= {day} AND r.day >= k.cutoff),
    plain AS (
      SELECT subject, sum(points) AS p FROM j WHERE kind = 'points' AND cap = 0
      GROUP BY subject),
    unit AS (
      SELECT subject, sum(LEAST(GREATEST(ppu * value / step, clamp_lo), clamp_hi)) AS p
      FROM j WHERE kind = 'per_unit' AND NOT brackets AND cap = 0 GROUP BY subject),
    br AS (
      SELECT subject, {bracket_sql("sum(value)")} AS p FROM j
      WHERE kind = 'per_unit' AND brackets GROUP BY subject),
    capped AS (
      SELECT subject, sum(p) AS p FROM (
        SELECT subject, year(make_date(1970, 1, 1) + to_days(CAST(day AS INTEGER))) AS y,
               LEAST(sum(ppu * value / step), max(cap)) AS p
        FROM j WHERE cap > 0 GROUP BY subject, y) GROUP BY subject),
    cg AS (SELECT DISTINCT subject FROM j WHERE capgrade),
    s AS (
      SELECT i AS subject, 1000 + coalesce(plain.p, 0) + coalesce(unit.p, 0)
             + coalesce(br.p, 0) + coalesce(capped.p, 0) AS score,
             cg.subject IS NOT NULL AS capped
      FROM range({n}) t(i)
      LEFT JOIN plain ON plain.subject = i LEFT JOIN unit ON unit.subject = i
      LEFT JOIN br ON br.subject = i LEFT JOIN capped ON capped.subject = i
      LEFT JOIN cg ON cg.subject = i)
    SELECT subject, score, GREATEST(CASE WHEN score >= 1050 THEN 0 WHEN score >= 1030 THEN 1
      WHEN score >= 960 THEN 2 WHEN score >= 850 THEN 3 WHEN score >= 600 THEN 4 ELSE 5 END,
      CASE WHEN capped THEN 4 ELSE 0 END) AS grade FROM s ORDER BY subject
    """
    t0, c0 = time.perf_counter(), time.process_time()
    out = con.sql(sql).to_arrow_table()
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    con.close()
    return secs, cpu, out["score"].to_numpy(), out["grade"].to_numpy()


def polars_scores(
    recs: RecordArrays, n: int, day: int, rules: list[dict[str, Any]]
) -> tuple[float, float, np.ndarray, np.ndarray]:
    import polars as pl

    df = pl.DataFrame(
        {"subject": recs.subject, "cat": recs.category, "day": recs.day, "value": recs.value}
    ).with_columns(pl.col("value").cast(pl.Float64))
    k = pl.DataFrame(rules).with_columns(pl.col("cat").cast(pl.Int16))
    t0, c0 = time.perf_counter(), time.process_time()
    j = (
        df.lazy()
        .filter(pl.col("day") <= day)
        .join(k.lazy(), on="cat")
        .filter(pl.col("day") >= pl.col("cutoff"))
    )
    unit = (pl.col("ppu") * pl.col("value") / pl.col("step")).clip(pl.col("clamp_lo"), pl.col("clamp_hi"))
    plain = (
        j.filter((pl.col("kind") == "points") & (pl.col("cap") == 0))
        .group_by("subject")
        .agg(pl.col("points").sum().alias("p"))
    )
    per = (
        j.filter((pl.col("kind") == "per_unit") & ~pl.col("brackets") & (pl.col("cap") == 0))
        .group_by("subject")
        .agg(unit.sum().alias("p"))
    )
    tot = pl.col("v")
    br = (
        j.filter(pl.col("brackets"))
        .group_by("subject")
        .agg(pl.col("value").sum().alias("v"))
        .select(
            "subject",
            (
                tot.clip(upper_bound=20)
                + ((tot.clip(upper_bound=80) - 20).clip(lower_bound=0) / 2)
                + ((tot.clip(upper_bound=200) - 80).clip(lower_bound=0) / 3)
                + ((tot - 200).clip(lower_bound=0) / 4)
            ).alias("p"),
        )
    )
    capped = (
        j.filter(pl.col("cap") > 0)
        .with_columns((pl.col("day").cast(pl.Int32).cast(pl.Date).dt.year()).alias("y"))
        .group_by("subject", "y")
        .agg(
            pl.min_horizontal(
                (pl.col("ppu") * pl.col("value") / pl.col("step")).sum(), pl.col("cap").max()
            ).alias("p")
        )
        .group_by("subject")
        .agg(pl.col("p").sum())
    )
    cg = j.filter(pl.col("capgrade")).select("subject").unique().with_columns(pl.lit(True).alias("cg"))
    parts = pl.concat([x.select("subject", pl.col("p").cast(pl.Float64)) for x in (plain, per, br, capped)])
    sums = parts.group_by("subject").agg(pl.col("p").sum())
    base = pl.DataFrame({"subject": np.arange(n, dtype=np.int32)}).lazy()
    s = (
        base.join(sums, on="subject", how="left")
        .join(cg, on="subject", how="left")
        .with_columns((1000 + pl.col("p").fill_null(0)).alias("score"))
        .with_columns(
            pl.when(pl.col("score") >= 1050)
            .then(0)
            .when(pl.col("score") >= 1030)
            .then(1)
            .when(pl.col("score") >= 960)
            .then(2)
            .when(pl.col("score") >= 850)
            .then(3)
            .when(pl.col("score") >= 600)
            .then(4)
            .otherwise(5)
            .alias("g")
        )
        .with_columns(
            pl.when(pl.col("cg").fill_null(False))
            .then(pl.max_horizontal("g", 4))
            .otherwise("g")
            .alias("grade")
        )
        .sort("subject")
        .select("score", "grade")
    )
    out = s.collect()
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    return secs, cpu, out["score"].to_numpy(), out["grade"].to_numpy()


def best(f: Any, repeat: int) -> tuple[float, float, Any]:
    """The fastest of ``repeat`` runs: ``(wall seconds, CPU seconds, result)``."""
    runs = []
    for _ in range(repeat):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = f()
        runs.append((time.perf_counter() - t0, time.process_time() - c0, result))
    return min(runs, key=lambda r: r[0])


def run(n_records: int, n_subjects: int, repeat: int, threads: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    recs, subjects, relations = workload(n_records, n_subjects)
    gen = time.perf_counter() - t0
    day = to_day(END)
    engine = Engine(["rongcheng"])
    secs, cpu, ev = best(lambda: engine.bind(recs, (subjects, relations)).evaluate(day), repeat)
    ms = ev.results[0].models
    person, org = ms[0], ms[1]
    score = np.where(person.scored, person.score, org.score)
    grade = np.where(person.scored, person.grade, org.grade)
    rules = rule_table(day, recs)
    out: dict[str, Any] = {
        "engine": {
            "seconds": secs,
            "cpu_seconds": cpu,
            "records_per_s": n_records / secs,
            "records_per_cpu_s": n_records / cpu,
            "threads": 1,
        }
    }
    peers = {
        "duckdb": lambda: duckdb_scores(recs, n_subjects, day, rules, threads),
        "polars": lambda: polars_scores(recs, n_subjects, day, rules),
    }
    if threads:
        os.environ["POLARS_MAX_THREADS"] = str(threads)
    for name, f in peers.items():
        runs = [f() for _ in range(repeat)]
        s, c, ps, pg = min(runs, key=lambda r: r[0])
        out[name] = {
            "seconds": s,
            "cpu_seconds": c,
            "records_per_s": n_records / s,
            "records_per_cpu_s": n_records / c,
            "threads": threads,
            "same_scores": bool(np.allclose(ps, score)),
            "same_grades": bool((pg == grade).all()),
        }
        out[name]["engine_ratio"] = s / secs
        out[name]["engine_ratio_per_core"] = c / cpu
    # decisions
    rng = np.random.default_rng(1)
    m = min(n_subjects * 2, 20_000_000)
    codes = rng.integers(0, n_subjects, m).astype(np.int32)
    cols = rng.integers(0, len(ev.profiles.actions) + 1, m).astype(np.int32)
    dsecs, _, _ = best(lambda: ev.decide_many(codes, cols), repeat)
    t0 = time.perf_counter()
    ev.subjects.code("0")  # builds the id index once
    index_secs = time.perf_counter() - t0
    ids = ev.subjects.ids.take(pa.array(codes[:20_000])).to_pylist()
    actions = list(ev.profiles.actions)
    lat = []
    for i, sid in enumerate(ids):
        a = actions[i % len(actions)]
        t1 = time.perf_counter_ns()
        ev.decide(sid, a).outcome  # noqa: B018
        lat.append(time.perf_counter_ns() - t1)
    lists = {f"{rb}:{lid}": n for (rb, lid), n in ev.list_sizes().items()}
    out.update(
        {
            "records": n_records,
            "subjects": n_subjects,
            "generate_s": gen,
            "decide_many": {"decisions": m, "seconds": dsecs, "per_s": m / dsecs},
            "decide": {
                "median_us": float(np.median(lat)) / 1000,
                "p99_us": float(np.percentile(lat, 99)) / 1000,
                "calls": len(lat),
                "index_build_s": index_secs,
            },
            "grades": {k[1]: v for k, v in ev.grade_distribution().items()},
            "list_sizes": lists,
        }
    )
    return out


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def write_doc(res: dict[str, Any]) -> None:
    e, d, p = res["engine"], res["duckdb"], res["polars"]
    quick = " (quick: not comparable)" if res["quick"] else ""
    body = f"""## Engine{quick}

`python bench/bench_engine.py` on {res["machine"]}, {res["date"]}: {res["records"]:,} records over
{res["subjects"]:,} subjects (`rongcheng` categories by assumed base rates, three years), as of
the last day with expiry, brackets, caps, clamps, grade caps and grades. The engine runs on one
thread and also computes every list, propagation, measure and decision profile; DuckDB and Polars
compute the scores and grades only, on {d["threads"]} threads, in their cheapest correct form.

| | wall s | CPU s | records/s (wall) | records per CPU second | engine's advantage (wall; CPU) |
| --- | ---: | ---: | ---: | ---: | ---: |
| engine (numpy, 1 thread) | {e["seconds"]:.2f} | {e["cpu_seconds"]:.2f} | \
{e["records_per_s"] / 1e6:.1f} M | {e["records_per_cpu_s"] / 1e6:.1f} M | |
| DuckDB SQL | {d["seconds"]:.2f} | {d["cpu_seconds"]:.2f} | {d["records_per_s"] / 1e6:.1f} M | \
{d["records_per_cpu_s"] / 1e6:.1f} M | {d["engine_ratio"]:.1f}x; {d["engine_ratio_per_core"]:.1f}x |
| Polars | {p["seconds"]:.2f} | {p["cpu_seconds"]:.2f} | {p["records_per_s"] / 1e6:.1f} M | \
{p["records_per_cpu_s"] / 1e6:.1f} M | {p["engine_ratio"]:.1f}x; {p["engine_ratio_per_core"]:.1f}x |

Load average while it ran: {res["load"]} (other work shared the machine; CPU seconds are the fairer
per-core measure then).
Same scores and grades as the engine, subject by subject: DuckDB \
{_yes(d["same_scores"] and d["same_grades"])}, Polars {_yes(p["same_scores"] and p["same_grades"])}.
`decide_many`: {res["decide_many"]["per_s"] / 1e6:.0f} million decisions per second (subject and
action codes). A single `decide` (by subject id): median {res["decide"]["median_us"]:.2f} µs,
p99 {res["decide"]["p99_us"]:.2f} µs (after a one-time id index of
{res["decide"]["index_build_s"]:.1f} s). Targets (issue 5): ≥ 20 M records/s per core and ≥ 2x
DuckDB and Polars; ≥ 20 M decisions/s; ≤ 5 µs per decision.
"""
    start, end = "<!-- bench:engine:start -->", "<!-- bench:engine:end -->"
    block = f"{start}\n{body}{end}\n"
    text = DOC.read_text("utf-8") if DOC.is_file() else "# Performance\n\n"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end) + r"\n?", lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text, "utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1M records over 100K subjects")
    ap.add_argument("--records", type=int)
    ap.add_argument("--subjects", type=int)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="threads for DuckDB and Polars (default: all)",
    )
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    n = args.records or (1_000_000 if args.quick else 100_000_000)
    s = args.subjects or max(n // 10, 1)
    res = run(n, s, args.repeat, args.threads)
    res.update(
        {
            "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
            "quick": args.quick,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "date": dt.date.today().isoformat(),
            "numpy": np.__version__,
        }
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n", "utf-8")
    if not args.no_doc:
        write_doc(res)
    e = res["engine"]
    print(
        json.dumps(
            {k: res[k] for k in ("records", "subjects")}
            | {
                "engine_Mrec_s": round(e["records_per_s"] / 1e6, 1),
                "duckdb_Mrec_s": round(res["duckdb"]["records_per_s"] / 1e6, 1),
                "polars_Mrec_s": round(res["polars"]["records_per_s"] / 1e6, 1),
                "same": [res[p]["same_scores"] and res[p]["same_grades"] for p in ("duckdb", "polars")],
                "decide_many_M_s": round(res["decide_many"]["per_s"] / 1e6, 1),
                "decide_median_us": round(res["decide"]["median_us"], 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
