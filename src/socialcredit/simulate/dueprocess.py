"""Due process on and off, on the same population: what notice and objections change.

The documents' system lists people on the record's day, with no notice and no one to appeal to
(seed 001). :func:`compare` runs the same records and registry twice — as the original (no
notice, no objections) and under a :class:`~socialcredit.engine.lists.DueProcess` — stepping
through the period, and counts per list:

* **listings avoided**: listings (subject, list, opening record) in force at some step under the
  original and at none under due process;
* **wrongful listings reversed**: listings opened by a wrongful record that an upheld objection
  prevented or ended within the period (the notice period alone only delays them: that shows in
  the days);
* **time spent wrongly listed**: subject-days on a list through a wrongful record, both ways.

``events`` lists, in day order, what happened under due process as simulator events:
``notice.issued``, ``objection.filed``, ``objection.upheld`` / ``objection.rejected`` and
``listing.effective`` (the first step a listing was seen in force).

Which records are wrongful, and who objects, is drawn (seeded): a share ``error_rate`` of the
records that open listings are wrongful (data errors, malicious reports — seed 002); the subject
of a wrongful record objects within the notice period with probability ``object_rate``, of a
rightful one with ``frivolous_rate``; a review takes ``review_days`` (drawn up to the list's
deadline) and upholds exactly the wrongful ones. These rates are **assumptions** of the
experiment, not facts: the sources give none. Under the original nobody can object.

Example:
    >>> from socialcredit.records import records_table
    >>> from socialcredit.registry import Registry
    >>> reg = Registry.from_lines([{"id": f"p{i}", "kind": "person", "name": "x"} for i in range(20)])
    >>> recs = records_table([{"id": f"r{i}", "subject": f"p{i}", "occurred_at": "2019-03-01",
    ...     "category": "judicial.judgment_default", "source": "court"} for i in range(20)])
    >>> out = compare(recs, reg, ["national"], "2019-03-01", "2019-06-01", error_rate=0.5, object_rate=1.0)
    >>> out["lists"]["national/judgment_defaulters"]["wrongful_reversed"] == out["wrongful"]
    True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from socialcredit.engine import Engine
from socialcredit.engine.dates import iso, to_day
from socialcredit.engine.lists import OBJECTIONS_SCHEMA, RECORD, DueProcess
from socialcredit.engine.reports import ReportReview
from socialcredit.registry import Registry

__all__ = ["compare", "render_markdown"]


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def _listings(ev: Any) -> dict[tuple[str, str, int, int], None]:
    """(rulebook, list, subject code, opening record position) of every record listing."""
    out: dict[tuple[str, str, int, int], None] = {}
    for r in ev.results:
        for lid, mem in r.members.items():
            d = mem.direct
            sel = d.kind == RECORD
            for s, a in zip(d.subject[sel].tolist(), d.a[sel].tolist(), strict=True):
                out[(r.cv.rulebook, lid, s, a)] = None
    return out


def compare(
    records: pa.Table,
    registry: Registry,
    rulebooks: Sequence[str],
    start: dt.date | str,
    end: dt.date | str,
    *,
    step_days: int = 7,
    policy: DueProcess | None = None,
    error_rate: float = 0.05,
    object_rate: float = 0.8,
    frivolous_rate: float = 0.1,
    review_days: int = 15,
    seed: int = 13,
    reports: ReportReview | None = None,
) -> dict[str, Any]:
    """Run ``records`` with due process off and on from ``start`` to ``end`` (every
    ``step_days``) and count what changed (see the module docstring). ``policy`` defaults to
    notice on and every list suspending on a timely objection; ``reports`` is the review of
    citizen reports, both ways (default :class:`~socialcredit.engine.reports.ReportReview`; a
    simulation's own records pass ``ReportReview(quorum=0)``: its reports were upheld already)."""
    for name, rate in (
        ("error_rate", error_rate),
        ("object_rate", object_rate),
        ("frivolous_rate", frivolous_rate),
    ):
        if not 0 <= rate <= 1:
            raise ValueError(f"{name}: {rate} is not a share between 0 and 1")
    if step_days < 1 or review_days < 0:
        raise ValueError("step_days must be at least 1 and review_days not negative")
    d0 = to_day(start if isinstance(start, str) else start.isoformat())
    d1 = to_day(end if isinstance(end, str) else end.isoformat())
    if d1 < d0:
        raise ValueError(f"end: {iso(d1)} is before start {iso(d0)}")
    policy = policy or DueProcess(suspends=True)
    engine = Engine(list(rulebooks))
    original = engine.bind(records, registry, reports=reports)
    days = list(range(d0, d1 + 1, step_days))
    # which records open listings at all (under the original), and which of them are wrongful
    openers: dict[int, int] = {}  # record position -> first day seen opening a listing
    seen0: dict[tuple[str, str, int, int], int] = {}
    for day in days:
        for key in _listings(original.evaluate(day)):
            seen0[key] = seen0.get(key, 0) + 1
            openers.setdefault(key[3], day)
    rng = np.random.default_rng(seed)
    pos = np.array(sorted(openers), np.int64)
    wrong = pos[rng.random(len(pos)) < error_rate]
    wrong_set = set(wrong.tolist())
    ids = original.records.ids
    rows = []
    for p in pos.tolist():
        is_wrong = p in wrong_set
        if rng.random() >= (object_rate if is_wrong else frivolous_rate):
            continue
        rday = int(original.records.day[p])
        filed = rday + int(rng.integers(0, max(policy.notice_days, 1)))
        decided = filed + int(rng.integers(1, max(review_days, 1) + 1))
        rows.append(
            {
                "objection": f"sim-{p}",
                "record": ids[p].as_py(),
                "list": None,
                "rulebook": None,
                "filed": dt.date(1970, 1, 1) + dt.timedelta(days=filed),
                "decided": dt.date(1970, 1, 1) + dt.timedelta(days=decided),
                "outcome": "upheld" if is_wrong else "rejected",
            }
        )
    dp = dataclasses.replace(policy, objections=pa.Table.from_pylist(rows, schema=OBJECTIONS_SCHEMA))
    upheld = {int(r["objection"][4:]) for r in rows if r["outcome"] == "upheld" and r["decided"] <= _date(d1)}
    due = original.with_dueprocess(dp)
    seen1: dict[tuple[str, str, int, int], int] = {}
    notices = 0
    events: dict[tuple[str, str, str, str, str], str] = {}  # (event, rulebook, list, subject, record) -> day
    for day in days:
        ev = due.evaluate(day)
        for key in _listings(ev):
            if key not in seen1:
                events.setdefault(
                    ("listing.effective", key[0], key[1], ev.subjects.id(key[2]), ids[key[3]].as_py()),
                    str(iso(day)),
                )
            seen1[key] = seen1.get(key, 0) + 1
        pend = ev.pending
        notices += int((pend["status"].to_numpy(zero_copy_only=False) == "notice").sum())
        for row in pend.to_pylist():
            key5 = ("notice.issued", row["rulebook"], row["list"], row["subject"], row["record"])
            events.setdefault(key5, row["proposed"].isoformat())
    for row in rows:
        subj = original.records.subject[int(row["objection"][4:])]
        who = original.subjects.id(int(subj))
        events[("objection.filed", "", "", who, row["record"])] = row["filed"].isoformat()
        events[(f"objection.{row['outcome']}", "", "", who, row["record"])] = row["decided"].isoformat()
    timeline = sorted(
        (
            {
                "day": d,
                "event": k[0],
                "rulebook": k[1] or None,
                "list": k[2] or None,
                "subject": k[3],
                "record": k[4],
            }
            for k, d in events.items()
        ),
        key=lambda e: (e["day"], e["subject"], e["event"]),
    )
    per: dict[str, dict[str, float]] = {}
    for key, steps in seen0.items():
        name = f"{key[0]}/{key[1]}"
        row = per.setdefault(
            name,
            {
                "listings_original": 0,
                "listings_due_process": 0,
                "avoided": 0,
                "wrongful": 0,
                "wrongful_reversed": 0,
                "wrongful_days_original": 0,
                "wrongful_days_due_process": 0,
            },
        )
        row["listings_original"] += 1
        after = seen1.get(key, 0)
        row["listings_due_process"] += 1 if after else 0
        row["avoided"] += 0 if after else 1
        if key[3] in wrong_set:
            row["wrongful"] += 1
            row["wrongful_reversed"] += 1 if key[3] in upheld and after < steps else 0
            row["wrongful_days_original"] += steps * step_days
            row["wrongful_days_due_process"] += after * step_days
    return {
        "rulebooks": list(rulebooks),
        "start": iso(d0),
        "end": iso(d1),
        "step_days": step_days,
        "assumptions": {
            "error_rate": error_rate,
            "object_rate": object_rate,
            "frivolous_rate": frivolous_rate,
            "review_days": review_days,
            "seed": seed,
            "notice_days": policy.notice_days,
            "suspends": policy.suspends,
        },
        "records_opening_listings": len(pos),
        "wrongful": len(wrong_set),
        "objections": len(rows),
        "notice_steps": notices,
        "lists": dict(sorted(per.items())),
        "events": timeline,
    }


def render_markdown(report: dict[str, Any]) -> str:
    """The comparison as a Markdown table (one row per list)."""
    a = report["assumptions"]
    lines = [
        f"# Due process on and off — {', '.join(report['rulebooks'])}, {report['start']} to {report['end']}",
        "",
        f"Assumed (not from the sources): {a['error_rate']:.0%} of listing records wrongful; "
        f"{a['object_rate']:.0%} of the wrongly listed object, {a['frivolous_rate']:.0%} of the others; "
        f"reviews take up to {a['review_days']} days; seed {a['seed']}. Steps of {report['step_days']} days.",
        "",
        "| list | listings (original) | listings (due process) | avoided | wrongful | wrongful reversed "
        "| days wrongly listed (original) | (due process) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["lists"].items():
        lines.append(
            f"| {name} | {r['listings_original']} | {r['listings_due_process']} | {r['avoided']} | "
            f"{r['wrongful']} | {r['wrongful_reversed']} | {r['wrongful_days_original']} | "
            f"{r['wrongful_days_due_process']} |"
        )
    return "\n".join(lines) + "\n"
