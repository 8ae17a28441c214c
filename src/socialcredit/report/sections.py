"""Each section's numbers, computed from a run's Parquet outputs and manifest.

Every function takes the loaded runs (:func:`socialcredit.report.load.load_runs`) and returns a
:class:`Section`: a title, one or two sentences of plain reading, the table of numbers shown in
the report, and the data behind each figure (plain rows; the charts are drawn by
:mod:`socialcredit.report.charts`). A section whose data the run lacks carries a one-line
``note`` instead. Time series come from the first run and its first regime; who gets listed
averages over every run (replicates) with confidence intervals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from socialcredit.report.load import RunData, kind_of, latest_version, list_kinds

__all__ = ["POPULATION", "REPORTED", "Section", "build_sections"]

POPULATION = 1.4e9  # the population the refusals are scaled to

# Reported refusals (flight, high-speed rail) under each reading, facts 6 (/shared/reference/facts.md).
REPORTED: list[dict[str, Any]] = [
    {
        "reading": "2018 (seed 001's reading of the end-2018 figure)",
        "flight": 17.5e6,
        "rail": 5.5e6,
        "short": "2018 (seed 001)",
        "source": "seed 001; facts 6",
    },
    {
        "reading": "cumulative to end-2018 (national credit centre report)",
        "flight": 17.46e6,
        "rail": 5.47e6,
        "short": "cumulative to end-2018",
        "source": "facts 6: Global Times / Shanghai Daily, end 2018",
    },
    {
        "reading": "increase during 2018 (end-2018 minus end-2017 cumulative)",
        "flight": 8.10e6,
        "rail": 1.80e6,
        "short": "increase during 2018",
        "source": "facts 6: 17.46M - 9.36M and 5.47M - 3.67M",
    },
    {
        "reading": "cumulative by late 2016 (UNVERIFIED in facts 6)",
        "flight": 4.9e6,
        "rail": 1.65e6,
        "short": "by late 2016 (unverified)",
        "source": "commonly repeated; facts 6 marks it unverified",
    },
]
FLIGHT, RAIL = "travel.flight", "travel.high_speed_rail"
GRADE_ORDER = ["AAA", "AA", "A", "B", "C", "D"]
AGE_GROUPS = [(0, 18, "under 18"), (18, 30, "18-29"), (30, 45, "30-44"), (45, 60, "45-59"), (60, 200, "60+")]
DIMENSIONS = [
    ("income_band", "income band"),
    ("region", "region"),
    ("age_group", "age group"),
    ("group", "occupation"),
    ("sex", "sex"),
]
FEEDBACK = {
    "deterred": "deterrence: records deterred",
    "critical_posts": "chilling: critical posts",
    "positive_posts": "chilling: positive-energy posts",
    "points_bought": "gaming: score purchases",
    "ties_cut": "ostracism: ties cut",
    "avoided_attempts": "avoidance: attempts avoided",
    "jobs_lost": "spiral: jobs lost",
}
# reporters with several keys: the one the feedback section counts
FEEDBACK_KEY = {"points_bought": "purchases"}


@dataclass
class Figure:
    """One chart: its id (file stem), title, the rows it draws (also its CSV) and chart kind."""

    id: str
    title: str
    rows: list[dict[str, Any]]
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Section:
    id: str
    title: str
    reading: str = ""
    table: list[dict[str, Any]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    note: str | None = None
    extra: list[dict[str, Any]] = field(default_factory=list)  # a second table (e.g. the comparison)


def _month(d: Any) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _daily(run: RunData, reporter: str, regime: str | None = None) -> list[dict[str, Any]]:
    return [
        r for r in run.daily_rows if r["reporter"] == reporter and (regime is None or r["regime"] == regime)
    ]


def _grade_key(g: str) -> tuple[int, str]:
    return (GRADE_ORDER.index(g) if g in GRADE_ORDER else len(GRADE_ORDER), g)


def _fmt_int(x: float) -> int:
    return round(x)


# --- scores and grades -------------------------------------------------------------------------


def scores_section(runs: list[RunData]) -> Section:
    run = runs[0]
    regime = run.regimes[0]
    sec = Section("scores", "Scores and grades over time")
    grade_rows = _daily(run, "grade", regime)
    if not grade_rows:
        sec.note = "The run's rulebooks compute no score or grade, so there is nothing to show here."
        return sec
    last_day: dict[str, int] = {}
    for r in grade_rows:
        m = _month(r["date"])
        last_day[m] = max(last_day.get(m, -1), r["day"])
    per: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for r in grade_rows:
        m = _month(r["date"])
        if r["day"] == last_day[m]:
            model, grade = r["key"].rsplit(":", 1)
            per[(m, model)][grade] = per[(m, model)].get(grade, 0) + r["value"]
    rows = []
    for (m, model), counts in sorted(per.items()):
        total = sum(counts.values())
        for g in sorted(counts, key=_grade_key):
            rows.append(
                {
                    "month": m,
                    "model": model,
                    "grade": g,
                    "subjects": counts[g],
                    "share": round(counts[g] / total, 6) if total else 0.0,
                }
            )
    models = sorted(
        {r["model"] for r in rows}, key=lambda mo: -sum(r["subjects"] for r in rows if r["model"] == mo)
    )
    main_model = models[0]
    chart_rows = [r for r in rows if r["model"] == main_model]
    sec.figures.append(
        Figure(
            "grade_shares",
            f"Grade shares by month ({main_model})",
            chart_rows,
            "grades",
            {"order": sorted({r["grade"] for r in chart_rows}, key=_grade_key)},
        )
    )
    months = sorted({r["month"] for r in chart_rows})
    first = {r["grade"]: r["share"] for r in chart_rows if r["month"] == months[0]}
    last = {r["grade"]: r["share"] for r in chart_rows if r["month"] == months[-1]}
    below_a = [g for g in GRADE_ORDER[3:] if g in last or g in first]
    fb = sum(first.get(g, 0) for g in below_a)
    lb = sum(last.get(g, 0) for g in below_a)
    sec.reading = (
        f"Under {main_model}, the share of scored subjects below grade A went from {fb:.1%} at the "
        f"end of {months[0]} to {lb:.1%} at the end of {months[-1]} (shares on each month's last "
        "evaluation day)."
    )
    sec.table = [r for r in rows if r["month"] in (months[0], months[-1])]
    traj = run.trajectories
    if traj is not None and traj.num_rows:
        t = [
            r
            for r in traj.to_pylist()
            if r["regime"] == regime and r["score"] is not None and r["score_model"] == main_model
        ]
        tl: dict[str, int] = {}
        for r in t:
            m = _month(r["date"])
            tl[m] = max(tl.get(m, -1), r["day"])
        by_month: dict[str, list[float]] = defaultdict(list)
        for r in t:
            if r["day"] == tl[_month(r["date"])]:
                by_month[_month(r["date"])].append(r["score"])
        qrows = []
        for m, xs in sorted(by_month.items()):
            q = np.quantile(np.array(xs), [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
            qrows.append(
                {
                    "month": m,
                    "persons": len(xs),
                    "min": float(q[0]),
                    "p10": float(q[1]),
                    "p25": float(q[2]),
                    "median": float(q[3]),
                    "p75": float(q[4]),
                    "p90": float(q[5]),
                    "max": float(q[6]),
                }
            )
        if qrows:
            n = qrows[-1]["persons"]
            sec.figures.append(
                Figure(
                    "score_distribution",
                    f"Score distribution by month, {n} sampled persons ({main_model})",
                    qrows,
                    "quantiles",
                    {"subtitle": "bands: 10th-90th and 25th-75th percentiles; line: median; dashed: lowest"},
                )
            )
            sec.reading += (
                f" Among the {n} sampled persons the median score was {qrows[0]['median']:g} in "
                f"{qrows[0]['month']} and {qrows[-1]['median']:g} in {qrows[-1]['month']}; the "
                f"lowest was {qrows[-1]['min']:g}."
            )
    return sec


# --- lists ---------------------------------------------------------------------------------------


def lists_section(runs: list[RunData]) -> Section:
    run = runs[0]
    regime = run.regimes[0]
    sec = Section("lists", "List sizes over time, entries and exits")
    rows = _daily(run, "list_size", regime)
    if not rows:
        sec.note = "The run has no list_size reporter, so list sizes cannot be shown."
        return sec
    kinds = list_kinds(sorted({k.split(":", 1)[0] for k in (r["key"] for r in rows)}))
    days = sorted({(r["day"], r["date"]) for r in rows})
    keys = sorted({r["key"] for r in rows})
    size = {(r["day"], r["key"]): r["value"] for r in rows}
    series = []
    table = []
    for key in keys:
        vals = [size.get((d, key), 0) for d, _ in days]
        for (_d, date), v in zip(days, vals, strict=True):
            series.append({"date": date.isoformat(), "list": key, "kind": kind_of(key, kinds), "size": v})
        diffs = np.diff(np.array(vals, np.int64))
        table.append(
            {
                "list": key,
                "kind": kind_of(key, kinds),
                "start": vals[0],
                "end": vals[-1],
                "max": max(vals),
                "entries": int(diffs[diffs > 0].sum()),
                "exits": int(-diffs[diffs < 0].sum()),
            }
        )
    sec.table = table
    sec.figures.append(
        Figure("list_sizes", f"List sizes on evaluation days (regime {regime})", series, "lists")
    )
    black = [t for t in table if t["kind"] == "black"]
    red = [t for t in table if t["kind"] == "red"]
    big = max(black, key=lambda t: t["end"]) if black else None
    sec.reading = (
        (
            f"The largest black list at the end was {big['list']} with {big['end']} subjects "
            f"(from {big['start']}; {big['entries']} net entries and {big['exits']} net exits). "
            if big
            else ""
        )
        + f"Red lists held {sum(t['end'] for t in red)} subjects at the end. Entries and exits are net "
        "day-to-day changes in the published sizes: a subject who enters and another who leaves on the same "
        "day cancel out, so they are lower bounds on the true flows."
    )
    return sec


# --- refusals --------------------------------------------------------------------------------------


def refusals_section(runs: list[RunData]) -> Section:
    sec = Section("refusals", "Refusals per year by action, scaled to 1.4 billion")
    run = runs[0]
    regime = run.regimes[0]
    per: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0] * len(runs))
    attempts: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0] * len(runs))
    days_in_year: dict[int, set[int]] = defaultdict(set)
    for i, rn in enumerate(runs):
        for r in rn.daily_rows:
            y = r["date"].year
            days_in_year[y].add(r["day"])
            if r["reporter"] == "refused" and r["regime"] == regime:
                per[(y, r["key"])][i] += r["value"]
            elif r["reporter"] == "attempts":
                attempts[(y, r["key"])][i] += r["value"]
    if not per:
        sec.note = "No attempt was refused in this run (or the run has no refused reporter)."
        return sec
    persons = run.persons
    factor = POPULATION / persons
    rows = []
    for (y, action), vals in sorted(per.items()):
        refused = float(np.mean(vals))
        tried = float(np.mean(attempts.get((y, action), [0.0])))
        annual = refused * 365 / len(days_in_year[y])
        rows.append(
            {
                "year": y,
                "action": action,
                "refused": refused,
                "first_attempts": tried,
                "per_1000_persons_year": round(annual / persons * 1000, 4),
                "scaled_to_1_4bn": _fmt_int(annual * factor),
            }
        )
    rows.sort(key=lambda r: (r["year"], -r["refused"]))
    sec.table = rows
    sec.figures.append(
        Figure(
            "refusals_by_action",
            f"Refusals per year by action (regime {regime}), scaled to 1.4 billion",
            rows,
            "refusals",
        )
    )
    last_year = max(r["year"] for r in rows)
    sim = {
        a: next((r["scaled_to_1_4bn"] for r in rows if r["year"] == last_year and r["action"] == a), 0)
        for a in (FLIGHT, RAIL)
    }
    comp = []
    for rep in REPORTED:
        for mode, action in (("flight", FLIGHT), ("rail", RAIL)):
            comp.append(
                {
                    "reading": rep["reading"],
                    "label": rep["short"],
                    "mode": mode,
                    "simulated_scaled": sim[action],
                    "reported": _fmt_int(rep[mode]),
                    "ratio": round(sim[action] / rep[mode], 4),
                    "source": rep["source"],
                }
            )
    sec.figures.append(
        Figure(
            "refusals_vs_reported",
            "Simulated refusals scaled to 1.4 billion beside the reported figures",
            comp,
            "compare",
        )
    )
    sec.extra = comp
    n_runs = f" averaged over {len(runs)} runs" if len(runs) > 1 else ""
    sec.reading = (
        f"Scaling: refusals of {last_year}{n_runs} x 365 / days simulated in that year x 1.4 billion / "
        f"{persons:,} simulated persons. Reading: a one-year run is best set beside the increase during "
        "2018; the 17.5 M / 5.5 M figures are cumulative to the end of 2018 in the national credit "
        "centre's report (one source calls them 2018's). Scaled, the run gives "
        f"{sim[FLIGHT]:,} refused flights and {sim[RAIL]:,} refused high-speed rail tickets a year."
    )
    return sec


# --- who gets listed --------------------------------------------------------------------------------


def _age_group(age: int | None) -> str | None:
    if age is None:
        return None
    return next(label for lo, hi, label in AGE_GROUPS if lo <= age < hi)


def _wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    if n <= 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def listed_persons(run: RunData, regime: str, kinds: dict[str, str]) -> dict[str, bool]:
    """Person id -> on at least one black list on the last day."""
    final = run.finals[regime]
    out = {}
    for s, k, lists in zip(
        final["subject"].to_pylist(), final["kind"].to_pylist(), final["lists"].to_pylist(), strict=True
    ):
        if k == "person":
            out[s] = any(kind_of(x, kinds) == "black" for x in (lists or []))
    return out


def who_section(runs: list[RunData]) -> Section:
    sec = Section("who", "Who gets listed")
    usable = [r for r in runs if r.subjects is not None and r.regimes[0] in r.finals]
    if not usable:
        sec.note = (
            "The run wrote no subjects.parquet or final state, so listing cannot be broken down by group."
        )
        return sec
    regime = usable[0].regimes[0]
    rbs = sorted({rb for r in usable for rb in r.manifest.get("rulebooks", {}).get(regime, {})})
    kinds = list_kinds(rbs)
    per_run: list[dict[tuple[str, str], tuple[int, int]]] = []
    for run in usable:
        listed = listed_persons(run, regime, kinds)
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for p in run.subjects.to_pylist():
            if p["kind"] != "person":
                continue
            p["age_group"] = _age_group(p["age"])
            on = listed.get(p["subject"], False)
            for dim, label in DIMENSIONS:
                c = counts[(label, str(p[dim]))]
                c[0] += 1
                c[1] += int(on)
        per_run.append({k: (v[0], v[1]) for k, v in counts.items()})
    rows = []
    k = len(per_run)
    for _dim, label in DIMENSIONS:
        groups = sorted({g for pr in per_run for (d, g) in pr if d == label})
        rates = np.array(
            [
                [pr.get((label, g), (0, 0))[1] / max(pr.get((label, g), (0, 0))[0], 1) for g in groups]
                for pr in per_run
            ]
        )
        ratios = np.full_like(rates, np.nan)
        refs = []
        for i in range(k):
            pos = rates[i][rates[i] > 0]
            ref = pos.min() if len(pos) else np.nan
            refs.append(groups[int(np.flatnonzero(rates[i] == ref)[0])] if len(pos) else None)
            ratios[i] = rates[i] / ref if len(pos) else np.nan
        for j, g in enumerate(groups):
            n = sum(pr.get((label, g), (0, 0))[0] for pr in per_run)
            listed = sum(pr.get((label, g), (0, 0))[1] for pr in per_run)
            rate = float(rates[:, j].mean())
            di = ratios[:, j]
            row = {"dimension": label, "group": g, "persons": n, "listed": listed, "rate": round(rate, 6)}
            if k > 1:
                half = 1.96 * rates[:, j].std(ddof=1) / math.sqrt(k)
                row |= {"rate_lo": round(max(0.0, rate - half), 6), "rate_hi": round(rate + half, 6)}
            else:
                lo, hi = _wilson(listed, n)
                row |= {"rate_lo": round(lo, 6), "rate_hi": round(hi, 6)}
            if np.all(np.isnan(di)):
                row |= {"di_ratio": None, "di_lo": None, "di_hi": None}
            else:
                m = float(np.nanmean(di))
                row["di_ratio"] = round(m, 4)
                if k > 1 and np.sum(~np.isnan(di)) > 1:
                    half = 1.96 * float(np.nanstd(di, ddof=1)) / math.sqrt(int(np.sum(~np.isnan(di))))
                    row |= {"di_lo": round(max(0.0, m - half), 4), "di_hi": round(m + half, 4)}
                else:
                    row |= {"di_lo": None, "di_hi": None}
            row["reference"] = refs[0]
            rows.append(row)
    sec.table = rows
    sec.figures.append(
        Figure(
            "who_listed", f"Rate of being on a black list by group (regime {regime}, last day)", rows, "who"
        )
    )
    top = max((r for r in rows if r["di_ratio"] is not None), key=lambda r: r["di_ratio"], default=None)
    total_n = sum(r["persons"] for r in rows if r["dimension"] == "sex")
    total_l = sum(r["listed"] for r in rows if r["dimension"] == "sex")
    ci = (
        "95% intervals are over the " + str(k) + " replicates"
        if k > 1
        else "with one run, 95% Wilson intervals for the rates and no interval for the ratios"
    )
    sec.reading = (
        f"{total_l} of {total_n} persons ({total_l / max(total_n, 1):.2%}) were on a black list on the "
        "last day. The disparate-impact ratio is a group's rate over the rate of the least affected "
        "group with any listed member (groups with none have ratio 0)"
        + (f"; the highest is {top['dimension']} {top['group']} at {top['di_ratio']:.2f}" if top else "")
        + f" ({ci})."
    )
    return sec


# --- reach through relations -------------------------------------------------------------------------


def _via_actions(rulebook_ids: list[str]) -> set[str]:
    """Actions that a ``via`` measure of the rulebooks imposes on a related subject."""
    out: set[str] = set()
    for rid in rulebook_ids:
        version = latest_version(rid)
        for m in version.measures.values() if version is not None else []:
            if m.via is not None and m.action:
                out.update(m.action if isinstance(m.action, list) else [m.action])
    return out


def reach_section(runs: list[RunData]) -> Section:
    sec = Section("reach", "Reach through relations")
    run = runs[0]
    regime = run.regimes[0]
    if regime not in run.finals or run.subjects is None:
        sec.note = "The run wrote no final state or subjects, so reach through relations cannot be counted."
        return sec
    rbs = list(run.manifest.get("rulebooks", {}).get(regime, {}))
    kinds, via = list_kinds(rbs), _via_actions(rbs)
    final = run.finals[regime].to_pylist()
    lists_of = {r["subject"]: [x for x in (r["lists"] or []) if kind_of(x, kinds) == "black"] for r in final}
    reps: dict[str, set[str]] = defaultdict(set)
    for s in run.subjects.to_pylist():
        if s["kind"] == "organisation" and s["linked_person"]:
            reps[s["linked_person"]].update(lists_of.get(s["subject"], []))
    counts = {
        "own listing": 0,
        "listed through an organisation they represent": 0,
        "no list of their own: a measure through a relation": 0,
        "other (grade or score)": 0,
    }
    by_action: dict[str, int] = defaultdict(int)
    for r in final:
        if r["kind"] != "person":
            continue
        acts = set(r["denied"] or []) | set(r["restricted"] or [])
        if not acts:
            continue
        own = lists_of[r["subject"]]
        if own and set(own) <= reps.get(r["subject"], set()):
            counts["listed through an organisation they represent"] += 1
        elif own:
            counts["own listing"] += 1
        elif acts <= via:
            counts["no list of their own: a measure through a relation"] += 1
            for a in acts:
                by_action[a] += 1
        else:
            counts["other (grade or score)"] += 1
    total = sum(counts.values())
    if not total:
        sec.note = "Nobody was restricted on the last day of this run."
        return sec
    rows = [
        {"reason": k, "persons": v, "share_of_restricted": round(v / total, 6)} for k, v in counts.items()
    ]
    sec.table = rows + [
        {"reason": f"  of which: {a}", "persons": n, "share_of_restricted": round(n / total, 6)}
        for a, n in sorted(by_action.items())
    ]
    sec.figures.append(
        Figure("reach", f"Why persons are restricted on the last day (regime {regime})", rows, "reach")
    )
    other = total - counts["own listing"] - counts["other (grade or score)"]
    sec.reading = (
        f"Of {total} persons denied or restricted something on the last day, {other} "
        f"({other / total:.1%}) were restricted because of someone else: a listed parent, or an "
        "organisation they represent. 'Through an organisation' counts persons whose every black "
        "list their organisation is also on (an upper bound: their own record may list them too)."
    )
    return sec


# --- trajectories -------------------------------------------------------------------------------------


def _trajectory_point(r: dict[str, Any]) -> dict[str, Any]:
    """One subject's state on one date, as the trajectory charts and tables show it."""
    return {
        "date": r["date"].isoformat(),
        "subject": r["subject"],
        "score": r["score"],
        "grade": r["grade"],
        "listed": bool(r["lists"]),
        "lists": r["lists"],
    }


def trajectories_section(runs: list[RunData], n: int = 6) -> Section:
    sec = Section("trajectories", "Sampled trajectories")
    run = runs[0]
    regime = run.regimes[0]
    traj = run.trajectories
    if traj is None or not traj.num_rows:
        sec.note = "The run wrote no trajectories (outputs.trajectories is 0)."
        return sec
    rows = [r for r in traj.to_pylist() if r["regime"] == regime]
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[r["subject"]].append(r)
    summary = []
    for s, rs in by.items():
        rs.sort(key=lambda r: r["day"])
        scores = [r["score"] for r in rs if r["score"] is not None]
        listed_days = [r for r in rs if r["lists"]]
        first_listed = listed_days[0]["date"].isoformat() if listed_days else None
        drop = (scores[0] - min(scores)) if scores else 0.0
        spiral = bool(scores and drop > 0 and listed_days)
        summary.append(
            {
                "subject": s,
                "first_score": scores[0] if scores else None,
                "lowest_score": min(scores) if scores else None,
                "last_score": scores[-1] if scores else None,
                "last_grade": rs[-1]["grade"],
                "days_listed": len(listed_days),
                "first_listed": first_listed,
                "last_lists": rs[-1]["lists"],
                "spiral": spiral,
                "source": "sampled",
                "_drop": drop,
            }
        )
    summary.sort(key=lambda r: (not r["spiral"], not r["days_listed"], -r["_drop"], r["subject"]))
    chosen = [r for r in summary if r["first_score"] is not None][:n]
    for r in summary:
        r.pop("_drop")
    keep = {r["subject"] for r in chosen}
    series = [_trajectory_point(r) for r in rows if r["subject"] in keep and r["score"] is not None]
    sec.table = chosen
    if series:
        sec.figures.append(
            Figure(
                "trajectories",
                f"Scores of {len(keep)} sampled persons (filled: on a list)",
                series,
                "trajectories",
            )
        )
    spirals = [r for r in chosen if r["spiral"]]
    sec.reading = (
        f"{len(by)} persons were sampled; {len(chosen)} scored ones are drawn, listed and falling ones "
        "first. "
        + (
            f"{len(spirals)} are spirals (score fell and they were listed), e.g. "
            f"{spirals[0]['subject']} from {spirals[0]['first_score']:g} to "
            f"{spirals[0]['lowest_score']:g}."
            if spirals
            else "None of the sampled persons spiralled (score fell while listed) in this run."
        )
    )
    _add_spirals(sec, run, regime)
    return sec


def _add_spirals(sec: Section, run: RunData, regime: str, candidates: int = 12, keep: int = 3) -> None:
    """Replay up to ``candidates`` persons listed and scored on the last day (lowest scores
    first) month by month (:mod:`socialcredit.report.replay`); keep up to ``keep`` spirals:
    unlisted at some month's end, listed later, with a score that fell."""
    from socialcredit.report.replay import replay

    final = run.finals.get(regime)
    if final is None:
        return
    rbs = list(run.manifest.get("rulebooks", {}).get(regime, {}))
    kinds = list_kinds(rbs)
    listed = sorted(
        (r["score"], r["subject"])
        for r in final.to_pylist()
        if r["kind"] == "person"
        and r["score"] is not None
        and any(kind_of(x, kinds) == "black" for x in r["lists"] or [])
    )
    try:
        rows = replay(run, regime, [s for _, s in listed[:candidates]])
    except Exception as exc:  # the report must render even where the replay cannot run
        sec.reading += f" (Listed persons could not be replayed: {type(exc).__name__}.)"
        return
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[r["subject"]].append(r)
    spirals = []
    for subject, rs in by.items():
        scores = [r["score"] for r in rs if r["score"] is not None]
        on = [bool(r["lists"]) for r in rs]
        if scores and not on[0] and on[-1] and min(scores) < scores[0]:
            spirals.append((min(scores) - scores[0], subject))
    chosen = {s for _, s in sorted(spirals)[:keep]}
    if not chosen:
        sec.reading += " Replaying the listed persons month by month found no spiral either."
        return
    series = [_trajectory_point(r) for r in rows if r["subject"] in chosen]
    sec.figures.append(
        Figure(
            "spirals",
            f"Spirals: {len(chosen)} persons listed during the run (month ends; filled: on a list)",
            series,
            "trajectories",
            {"legend": "Listed person"},
        )
    )
    for subject in sorted(chosen):
        rs = by[subject]
        scores = [r["score"] for r in rs if r["score"] is not None]
        first_on = next(r["date"] for r in rs if r["lists"])
        sec.table.append(
            {
                "subject": subject,
                "first_score": scores[0],
                "lowest_score": min(scores),
                "last_score": scores[-1],
                "last_grade": rs[-1]["grade"],
                "days_listed": None,
                "first_listed": first_on.isoformat(),
                "last_lists": rs[-1]["lists"],
                "spiral": True,
                "source": "replayed",
            }
        )
    s0 = sorted(chosen)[0]
    sc0 = [r["score"] for r in by[s0] if r["score"] is not None]
    sec.reading += (
        f" Replaying listed persons month by month from the run's records, with the engine, found "
        f"{len(spirals)} spirals; e.g. {s0} fell from {sc0[0]:g} to {min(sc0):g} and was listed "
        f"from {next(r['date'] for r in by[s0] if r['lists'])}."
    )


# --- rulebook comparison ------------------------------------------------------------------------------


def comparison_section(runs: list[RunData]) -> Section:
    sec = Section("comparison", "Rulebook comparison")
    run = runs[0]
    if len(run.regimes) < 2:
        sec.note = (
            f"The run had one regime ({run.regimes[0]}); a comparison needs several "
            "(e.g. the sesame-vs-rongcheng scenario)."
        )
        return sec
    rbs = sorted({rb for reg in run.manifest.get("rulebooks", {}).values() for rb in reg})
    kinds = list_kinds(rbs)
    rows = []
    listed_sets = {}
    for regime in run.regimes:
        if regime not in run.finals:
            continue
        listed = listed_persons(run, regime, kinds)
        listed_sets[regime] = {s for s, on in listed.items() if on}
        final = run.finals[regime].to_pylist()
        restricted = sum(1 for r in final if r["kind"] == "person" and (r["denied"] or r["restricted"]))
        refused = sum(r["value"] for r in _daily(run, "refused", regime))
        rows += [
            {"regime": regime, "measure": "persons on a black list", "value": len(listed_sets[regime])},
            {"regime": regime, "measure": "persons restricted (last day)", "value": restricted},
            {"regime": regime, "measure": "refusals (whole run)", "value": refused},
        ]
    regs = list(listed_sets)
    a, b = regs[0], regs[1]
    rows.append(
        {
            "regime": f"{a} and {b}",
            "measure": "persons listed under both",
            "value": len(listed_sets[a] & listed_sets[b]),
        }
    )
    sec.table = rows
    sec.figures.append(Figure("comparison", "The same population under each regime", rows[:-1], "comparison"))
    sec.reading = (
        "The regimes ran on the same behaviour draws (the same people doing the same things), so the "
        f"differences are the rulebooks' alone; {rows[-1]['value']} persons are listed under both "
        f"{a} and {b}."
    )
    return sec


# --- feedback --------------------------------------------------------------------------------------------


def feedback_section(runs: list[RunData]) -> Section:
    sec = Section("feedback", "Feedback effects")
    run = runs[0]
    rows = [
        r
        for r in run.daily_rows
        if r["reporter"] in FEEDBACK and r["key"] == FEEDBACK_KEY.get(r["reporter"], r["key"])
    ]
    if not rows:
        sec.note = (
            "Feedback effects are not simulated in this run: its scenario leaves the feedback loops "
            "(deterrence, chilling, gaming, ostracism, avoidance, spiral) off, so the outputs have no "
            "deterred, critical_posts, positive_posts, points_bought, ties_cut, avoided_attempts or "
            "jobs_lost reporter."
        )
        return sec
    per: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        per[(_month(r["date"]), FEEDBACK[r["reporter"]])] += r["value"]
    data = [{"month": m, "effect": e, "count": v} for (m, e), v in sorted(per.items())]
    sec.table = data
    sec.figures.append(Figure("feedback", "Feedback effects by month", data, "feedback"))
    sec.reading = (
        "Monthly totals of the feedback reporters: recorded events that deterrence prevented, critical "
        "and positive-energy posts that happened (chilling), and donations bought to repair a score "
        "(gaming), and ties cut to newly listed people (ostracism). The loops' parameters are assumed "
        "(docs/simulate.md, Feedback)."
    )
    return sec


# --- due process ----------------------------------------------------------------------------------------


def dueprocess_section(runs: list[RunData]) -> Section | None:
    """Due process on and off on the same records (``dueprocess.json`` of the first run that has
    one); ``None`` — no section — when no run has the file."""
    run = next((r for r in runs if r.dueprocess is not None), None)
    if run is None:
        return None
    dp = run.dueprocess
    assert dp is not None
    a = dp["assumptions"]
    sec = Section("dueprocess", "Due process")
    kinds = list_kinds(list(dp["rulebooks"]))
    table = []
    series = []
    for name, r in dp["lists"].items():
        table.append(
            {
                "list": name,
                "kind": kind_of(name.replace("/", ":", 1), kinds),
                "listings (original)": r["listings_original"],
                "listings (due process)": r["listings_due_process"],
                "listings avoided": r["avoided"],
                "wrongful listings": r["wrongful"],
                "wrongful listings reversed": r["wrongful_reversed"],
                "subject-days wrongly listed (original)": r["wrongful_days_original"],
                "subject-days wrongly listed (due process)": r["wrongful_days_due_process"],
            }
        )
        if r["wrongful"]:
            series += [
                {"list": name, "regime": "original", "days": r["wrongful_days_original"]},
                {"list": name, "regime": "due process", "days": r["wrongful_days_due_process"]},
            ]
    sec.table = table
    if series:
        sec.figures.append(
            Figure(
                "dueprocess_days",
                "Subject-days wrongly listed, without and with due process",
                series,
                "dueprocess",
                {"subtitle": f"Rulebooks {', '.join(dp['rulebooks'])}, {dp['start']} to {dp['end']}"},
            )
        )
    # a rulebook that extends another repeats its lists: sum over one rulebook's lists only
    rb = dp["rulebooks"][0]
    own = [r for name, r in dp["lists"].items() if name.startswith(f"{rb}/")]
    avoided = sum(r["avoided"] for r in own)
    wrongful = sum(r["wrongful"] for r in own)
    reversed_ = sum(r["wrongful_reversed"] for r in own)
    d0 = sum(r["wrongful_days_original"] for r in own)
    d1 = sum(r["wrongful_days_due_process"] for r in own)
    sec.reading = (
        f"The same records and population evaluated twice, every {dp['step_days']} days from {dp['start']} "
        f"to {dp['end']}: as the original (listed on the record's day, no notice, no appeal) and with notice "
        f"before black listings ({a['notice_days']} days) and objections. Over {rb}'s lists, {avoided} "
        f"listings were avoided and {reversed_} of {wrongful} wrongful listings were reversed by an upheld "
        f"objection; subject-days wrongly listed went from {d0:,} to {d1:,} (red lists take effect at "
        "once: due process changes nothing there). The rates are assumptions of "
        f"the experiment, not facts (the sources give none): {a['error_rate']:.0%} of listing records "
        f"wrongful, {a['object_rate']:.0%} of the wrongly listed and {a['frivolous_rate']:.0%} of the others "
        f"objecting, reviews of up to {a['review_days']} days (seed {a['seed']}). People do not react to "
        "the difference: the behaviour is the run's."
    )
    return sec


# --- provenance -----------------------------------------------------------------------------------------


def provenance_section(runs: list[RunData]) -> Section:
    sec = Section("provenance", "Provenance")
    rows = []
    for run in runs:
        m = run.manifest
        sc = m["scenario"]
        tag = run.name or sc["name"]
        rows += [
            {"run": tag, "item": "scenario", "value": f"{sc['name']}: {sc.get('title', '')}"},
            {"run": tag, "item": "seed", "value": str(m.get("seed"))},
            {"run": tag, "item": "size, start, days", "value": f"{sc['size']}, {sc['start']}, {sc['days']}"},
            {"run": tag, "item": "evaluate every (days)", "value": str(sc.get("evaluate_every"))},
            {"run": tag, "item": "sweep values", "value": str(m.get("sweep_values") or {})},
            {
                "run": tag,
                "item": "population",
                "value": ", ".join(f"{k} {v}" for k, v in m.get("population", {}).items()),
            },
        ]
        for regime, rbs in m.get("rulebooks", {}).items():
            for rb, h in rbs.items():
                rows.append({"run": tag, "item": f"rulebook {regime}/{rb} sha256", "value": h})
        rows += [{"run": tag, "item": f"version {k}", "value": v} for k, v in m.get("versions", {}).items()]
        rows += [{"run": tag, "item": f"file {k} sha256", "value": v} for k, v in m.get("files", {}).items()]
    sc = runs[0].manifest["scenario"]
    cmd = (
        f"socialcredit simulate {sc['name']} --out DIR --size {sc['size']} --days {sc['days']} "
        f"--seed {sc['seed']}"
    )
    if len(runs) > 1 and not sc.get("seeds"):
        cmd += f" --replicates {sc.get('replicates', len(runs))}"
    sec.table = rows
    sec.reading = (
        f"Re-run with `{cmd}`; the same scenario and seed give byte-identical Parquet files, "
        "whose SHA-256 are listed here, and the rulebook hashes say which rulebook files were used."
    )
    return sec


SECTIONS = [
    scores_section,
    lists_section,
    refusals_section,
    who_section,
    reach_section,
    trajectories_section,
    comparison_section,
    feedback_section,
    dueprocess_section,
    provenance_section,
]


def build_sections(runs: list[RunData]) -> list[Section]:
    """Every section in report order; an optional section whose file the run lacks (due process)
    is left out."""
    return [sec for f in SECTIONS if (sec := f(runs)) is not None]
