"""Incremental update versus batch recomputation (issue #6's benchmark).

A state of ``--subjects`` subjects holds ``--history`` records up to the day before the last;
one day's ``--day-records`` records then arrive. We time (a) ``Bound.extend`` + ``evaluate`` on
a bound that has already evaluated the previous day with ``incremental`` set, and (b) binding all
the records afresh and evaluating in batch; both must give the same scores and grades.
The workload is ``bench_engine.workload`` (rongcheng categories at plausible base rates).

    python bench/bench_incremental.py            # 10M subjects, 30M history, 1M new
    python bench/bench_incremental.py --quick    # 1M subjects, 3M history, 100k new
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench_engine import END, to_day, workload
from socialcredit.engine import Engine, RecordArrays

RESULTS = Path(__file__).with_name("results") / "incremental.json"


def _take(recs: RecordArrays, mask: np.ndarray) -> RecordArrays:
    cut = {
        f.name: getattr(recs, f.name)[mask]
        for f in dataclasses.fields(recs)
        if isinstance(getattr(recs, f.name), np.ndarray)
    }
    return dataclasses.replace(recs, **cut, ids=None)


def run(subjects: int, history: int, day_records: int) -> dict[str, Any]:
    recs, subs, rels = workload(history + day_records, subjects)
    last = to_day(END)
    # The last day's records: move exactly `day_records` of them onto the last day.
    order = np.argsort(recs.day, kind="stable")
    recs = _take(recs, order)
    day = recs.day.copy()
    day[-day_records:] = last
    day[:-day_records] = np.minimum(day[:-day_records], last - 1)
    recs = dataclasses.replace(recs, day=day)
    new_mask = np.zeros(len(recs), bool)
    new_mask[-day_records:] = True
    old, new = _take(recs, ~new_mask), _take(recs, new_mask)

    engine = Engine(["rongcheng"])
    bound = engine.bind(old, (subs, rels))
    bound.incremental = True
    t = time.perf_counter()
    bound.evaluate(last - 1)
    warm = time.perf_counter() - t

    t = time.perf_counter()
    inc = bound.extend(new).evaluate(last)
    incremental = time.perf_counter() - t

    t = time.perf_counter()
    batch = engine.bind(recs, (subs, rels)).evaluate(last)
    batch_s = time.perf_counter() - t

    same = all(
        np.array_equal(a.score, b.score, equal_nan=True) and np.array_equal(a.grade, b.grade)
        for a, b in zip(inc.results[0].models, batch.results[0].models, strict=True)
    )
    return {
        "subjects": subjects,
        "history": history,
        "day_records": day_records,
        "previous_day_evaluation_s": warm,
        "incremental_s": incremental,
        "batch_s": batch_s,
        "incremental_over_batch": incremental / batch_s,
        "same_result": same,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--subjects", type=int)
    ap.add_argument("--history", type=int)
    ap.add_argument("--day-records", type=int)
    a = ap.parse_args()
    s, h, d = (1_000_000, 3_000_000, 100_000) if a.quick else (10_000_000, 30_000_000, 1_000_000)
    res = run(a.subjects or s, a.history or h, a.day_records or d)
    res["quick"] = a.quick
    print(json.dumps(res, indent=2))
    if not a.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    return 0 if res["same_result"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
