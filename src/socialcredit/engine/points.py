"""Points scores: one pass over all records for the plain rules, then record by record for the
rest, summed per subject; then bounds, grade bands and grade caps.

The plain pass looks every record up in a small table indexed by ``(category, day)`` that holds
the points of the category's rule where the record is still in effect on the evaluation date
(zero where it expired or lies after that date). The same pass collects, by category, the records
whose rules need more — per-unit values with brackets, escalation, clamps, caps, conditions on the
subject, grade caps — and those lists listen to, for the record-by-record path.

What each record contributed is kept as the pass computes it (:class:`Trace`): the table and the
rule of each plain category, and ``(record, rule, points)`` for every other contribution, so an
explanation is a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from socialcredit.engine.compile import CGroup, CModel, CompiledVersion, CRule
from socialcredit.engine.conditions import among, scored_mask, when_mask
from socialcredit.engine.data import RecordArrays, SubjectArrays
from socialcredit.engine.dates import cutoff
from socialcredit.engine.kernels import cumsum_in_runs, piecewise, sort_by, window_rank


@dataclass
class Trace:
    """What every record contributed to one group of score models (see the module docstring).

    ``table[cat, day - dmin]`` holds a plain record's points; ``simple`` names the rule of each
    plain category. The other contributions are rows of ``pos`` (record position, -1 for a rule
    on a list), ``rule`` (its index: a grade cap is the rule's ``cap_grade``), ``subject`` and
    ``points``.
    """

    table: np.ndarray
    dmin: int
    simple: dict[int, CRule]
    pos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rule: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    subject: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    points: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def extend(self, parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]]) -> None:
        """Add ``(positions, rule index, subjects, points)`` parts, all at once."""
        if not parts:
            return
        self.pos = np.concatenate([self.pos, *(p.astype(np.int64, copy=False)
                                               for p, _, _, _ in parts)])
        self.rule = np.concatenate([self.rule, *(np.full(len(p), r, np.int32)
                                                 for p, r, _, _ in parts)])
        self.subject = np.concatenate([self.subject, *(s.astype(np.int32, copy=False)
                                                       for _, _, s, _ in parts)])
        self.points = np.concatenate([self.points, *(x.astype(np.float64, copy=False)
                                                     for _, _, _, x in parts)])


@dataclass
class ModelScores:
    """Scores and grades of one model for every subject (``NaN`` / -1 where not scored)."""

    model: CModel
    score: np.ndarray
    grade: np.ndarray
    scored: np.ndarray
    cap: np.ndarray  # the grade cap index applied (-1 none)


def grid(recs: RecordArrays) -> tuple[int, int]:
    """``(dmin, span)`` of the ``(category, day)`` table for these records."""
    if not len(recs):
        return 0, 1
    dmin = int(recs.day.min())
    return dmin, int(recs.day.max()) - dmin + 1


def table_for(group: CGroup, ncat: int, dmin: int, span: int, day: int,
              side: set[int], mark_side: bool) -> np.ndarray:
    """Points per ``(category, day)`` cell for ``group``'s plain rules as of ``day``."""
    t = np.zeros((max(ncat, 1), span))
    hi = min(day, dmin + span - 1) - dmin
    for cat, r in group.simple.items():
        if cat in side or hi < 0:
            continue
        lo = max(cutoff(r.expiry, day) - dmin, 0)
        if lo <= hi:
            t[cat, lo:hi + 1] = r.points
    if mark_side and side:
        t[sorted(side), :] = np.nan
    return t


CHUNK = 1 << 20


def record_pass(groups: list[CGroup], recs: RecordArrays, void_pos: np.ndarray,
                day: int, side: set[int]
                ) -> tuple[list[np.ndarray], list[Trace], dict[int, np.ndarray]]:
    """The one pass: per group each record's plain points and the trace, and the records of
    ``side`` categories
    (on or before ``day``, not void) split by category, in ledger order, for the
    record-by-record path. Runs in chunks that stay in cache."""
    dmin, span = grid(recs)
    ncat = len(recs.categories)
    n = len(recs)
    tables = [table_for(g, ncat, dmin, span, day, side, mark_side=False).ravel()
              for g in groups]
    weights = [np.empty(n) for _ in groups]
    lut = np.zeros(max(ncat, 1) + 1, bool)
    lut[sorted(side)] = True
    parts: dict[int, list[np.ndarray]] = {c: [] for c in side}
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        cat = recs.category[lo:hi]
        if groups:
            idx = cat.astype(np.intp)
            idx *= span
            idx += recs.day[lo:hi]
            idx -= dmin
            for t, w in zip(tables, weights, strict=True):
                t.take(idx, out=w[lo:hi], mode="clip")  # in range by construction
        if side:
            sp = np.flatnonzero(lut.take(cat, mode="clip"))
            if len(sp):
                sc = cat[sp]
                order = np.argsort(sc, kind="stable")
                sc, sp = sc[order], sp[order] + lo
                cut = np.flatnonzero(sc[1:] != sc[:-1]) + 1
                for a, b in zip(np.r_[0, cut], np.r_[cut, len(sc)], strict=True):
                    parts[int(sc[a])].append(sp[a:b])
    traces = []
    for g, t, w in zip(groups, tables, weights, strict=True):
        w[void_pos] = 0.0
        traces.append(Trace(t.reshape(max(ncat, 1), span), dmin,
                            {c: r for c, r in g.simple.items() if c not in side}))
    by_cat = {}
    for c, ps in parts.items():
        pos = np.concatenate(ps) if ps else np.zeros(0, np.int64)
        keep = (recs.day[pos] <= day) & ~recs.void[pos]
        by_cat[c] = pos[keep]
    return weights, traces, by_cat


def _needs_order(s: np.ndarray, flag: np.ndarray | None, more: np.ndarray) -> np.ndarray:
    """Records of subjects flagged in ``more`` (a per-subject boolean array)."""
    hit = more[s]
    return hit if flag is None else flag | hit


def rule_points(r: CRule, pos: np.ndarray, recs: RecordArrays, subjects: SubjectArrays,
                day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(positions, subjects, points)`` of the records ``r`` counts on ``day``.

    Running totals (brackets), ranks (escalation) and caps need the records in time order per
    subject; only the subjects for whom order can change a point are sorted: those whose total
    value passes the first bracket, who have two or more records to rank, or whose period total
    passes the cap. Everyone else's points follow in closed form.
    """
    d = recs.day[pos]
    keep = d >= cutoff(r.expiry, day)
    wm = when_mask(r.when, subjects, day)
    if wm is not None:
        keep &= wm[recs.subject[pos]]
    pos, d = pos[keep], d[keep]
    s = recs.subject[pos]
    n = len(subjects)
    v = recs.value[pos].astype(np.float64, copy=False) if r.kind == "per_unit" else None
    if r.kind == "points":
        pts = np.full(len(pos), r.points)
    elif r.kind == "per_unit":
        pts = r.per_unit * v / r.unit_step
    elif r.kind == "escalation":
        pts = np.full(len(pos), float(r.steps[0]))
    else:
        pts = np.zeros(len(pos))
    flag = None
    if r.kind == "per_unit" and r.brackets:
        total = np.bincount(s, weights=v, minlength=n)
        flag = _needs_order(s, flag, total > r.brackets[0][0])
        if len(v) and v.min() < 0:
            flag[:] = True
    if r.kind == "escalation" and len(r.steps) > 1:
        flag = _needs_order(s, flag, np.bincount(s, minlength=n) > 1)
    if r.clamp is not None:
        pts = np.clip(pts, r.clamp[0], r.clamp[1])
    if r.cap is not None:
        key = _period_key(s, d, r.cap[1])
        over = np.bincount(key, weights=np.abs(pts))[key] > r.cap[0]
        who = np.zeros(n, bool)
        who[s[over]] = True
        flag = _needs_order(s, flag, who)
    if flag is not None and flag.any():
        sub = np.flatnonzero(flag)
        ss, dd = s[sub], d[sub]
        o = sort_by(ss, dd)
        sub, ss, dd = sub[o], ss[o], dd[o]
        if r.kind == "per_unit" and r.brackets:
            vv = v[sub]
            c = cumsum_in_runs(ss, vv)
            q = piecewise(c, r.brackets, r.per_unit, r.unit_step) - piecewise(
                c - vv, r.brackets, r.per_unit, r.unit_step)
        elif r.kind == "escalation":
            rank = window_rank(ss, dd, r.window)
            steps = np.asarray(r.steps, np.float64)
            q = steps[np.minimum(rank, len(steps)) - 1]
        else:
            q = pts[sub]
        if r.clamp is not None:
            q = np.clip(q, r.clamp[0], r.clamp[1])
        if r.cap is not None:
            q = capped(q, ss, dd, r.cap)
        pts[sub] = q
    return pos, s, pts


def _period_key(s: np.ndarray, d: np.ndarray, per: str) -> np.ndarray:
    """A dense key per (subject, period): calendar year, calendar month or lifetime."""
    if per == "lifetime" or not len(d):
        return s.astype(np.int64)
    unit = "datetime64[Y]" if per == "year" else "datetime64[M]"
    period = d.astype("datetime64[D]").astype(unit).astype(np.int64)
    lo = int(period.min())
    return s.astype(np.int64) * (int(period.max()) - lo + 1) + (period - lo)


def capped(pts: np.ndarray, s: np.ndarray, d: np.ndarray, cap: tuple[float, str]) -> np.ndarray:
    """Points kept under ``cap`` (at most so many, in absolute value, per subject and period),
    first come first kept; ``pts`` is in ``(subject, day, ledger)`` order."""
    limit, per = cap
    if per == "lifetime":
        period = np.zeros(len(d), np.int64)
    else:
        unit = "datetime64[Y]" if per == "year" else "datetime64[M]"
        period = d.astype("datetime64[D]").astype(unit).astype(np.int64)
    key = s.astype(np.int64) * (1 << 20) + (period - (period.min() if len(period) else 0))
    a = np.abs(pts)
    c = cumsum_in_runs(key, a)
    taken = np.minimum(limit, c) - np.minimum(limit, c - a)
    return np.sign(pts) * taken


def grades_of(model: CModel, score: np.ndarray) -> np.ndarray:
    """Each score's band: the first band (best first) whose ``min`` it reaches; -1 for none."""
    grade = np.full(len(score), -1, np.int8)
    for i in range(len(model.grades) - 1, -1, -1):
        grade[score >= model.mins[i]] = i
    return grade


def score_group(cv: CompiledVersion, g: CGroup, weights: np.ndarray, trace: Trace,
                by_cat: dict[int, np.ndarray], side: set[int], recs: RecordArrays,
                subjects: SubjectArrays, day: int,
                members: dict[str, np.ndarray]) -> list[ModelScores]:
    """Finish one group: the record-by-record rules, rules on lists, then every model's scores
    and grades. ``members`` maps a list id to the subjects on it on ``day``."""
    n = len(subjects)
    parts = []
    for r in g.rules:
        if r.on_list is not None:
            who = members.get(r.on_list, np.zeros(0, np.int32))
            wm = when_mask(r.when, subjects, day)
            if wm is not None:
                who = who[wm[who]]
            parts.append((np.full(len(who), -1), r.index, who, np.full(len(who), r.points)))
        elif r.cat >= 0 and trace.simple.get(r.cat) is not r:
            pos, who, pts = rule_points(r, by_cat.get(r.cat, np.zeros(0, np.int64)), recs,
                                        subjects, day)
            parts.append((pos, r.index, who, pts))
    trace.extend(parts)
    # the record-by-record points join the plain ones in the per-record weights (their records
    # weigh nothing there), so one bincount sums them all
    on_rec = [(p, x) for p, _, _, x in parts if len(p) and p[0] >= 0]
    cats = [r.cat for r in g.rules if r.on_list is None and trace.simple.get(r.cat) is not r]
    if on_rec:
        pos = np.concatenate([p for p, _ in on_rec])
        pts = np.concatenate([x for _, x in on_rec])
        if len(set(cats)) == len(cats):  # one rule per category: positions are distinct
            weights[pos] += pts
        else:
            np.add.at(weights, pos, pts)
    sums = np.bincount(recs.subject, weights=weights, minlength=n)
    listed = [(w, x) for p, _, w, x in parts if len(p) and p[0] < 0]
    if listed:
        sums += np.bincount(np.concatenate([w for w, _ in listed]),
                            weights=np.concatenate([x for _, x in listed]), minlength=n)
    capping = [r.index for r in g.rules if r.cap_grade]
    rows = np.flatnonzero(among(trace.rule, capping)) if capping else np.zeros(0, np.int64)
    out = []
    for m in g.models:
        scored = scored_mask(cv, m, subjects, day)
        score = np.where(scored, np.clip(m.base + sums, m.lo, m.hi), np.nan)
        grade = grades_of(m, score)
        cap = np.full(n, -1, np.int8)
        lut = np.array([m.grade_index(r.cap_grade) if r.cap_grade else -1 for r in cv.rules]
                       + [-1], np.int8)
        k = lut[trace.rule[rows]]
        hit = k >= 0
        np.maximum.at(cap, trace.subject[rows][hit], k[hit])
        capped_now = (cap > grade) & (grade >= 0)
        grade = np.where(capped_now, cap, grade).astype(np.int8)
        out.append(ModelScores(m, score, grade, scored, cap))
    return out
