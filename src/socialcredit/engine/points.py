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
from socialcredit.engine.data import RecordArrays, RelationArrays, SubjectArrays
from socialcredit.engine.dates import cutoff
from socialcredit.engine.kernels import cumsum_in_runs, ends, piecewise, sort_by, window_rank


@dataclass
class Trace:
    """What every record contributed to one group of score models (see the module docstring).

    ``table[cat, day - dmin]`` holds a plain record's points; ``simple`` names the rule of each
    plain category. The other contributions are rows of ``pos`` (record position, -1 for a rule
    on a list), ``rule`` (its index: a grade cap is the rule's ``cap_grade``), ``subject`` and
    ``points``. A network term's rows have position -1; ``terms[rule]`` holds its receivers and
    the count or share behind their points (never the related subjects' records).
    """

    table: np.ndarray
    dmin: int
    simple: dict[int, CRule]
    pos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rule: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    subject: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    points: np.ndarray = field(default_factory=lambda: np.zeros(0))
    terms: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def extend(self, parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]]) -> None:
        """Add ``(positions, rule index, subjects, points)`` parts, all at once."""
        if not parts:
            return
        self.pos = np.concatenate([self.pos, *(p.astype(np.int64, copy=False) for p, _, _, _ in parts)])
        self.rule = np.concatenate([self.rule, *(np.full(len(p), r, np.int32) for p, r, _, _ in parts)])
        self.subject = np.concatenate(
            [self.subject, *(s.astype(np.int32, copy=False) for _, _, s, _ in parts)]
        )
        self.points = np.concatenate(
            [self.points, *(x.astype(np.float64, copy=False) for _, _, _, x in parts)]
        )


@dataclass
class ModelScores:
    """Scores and grades of one model for every subject (``NaN`` / -1 where not scored)."""

    model: CModel
    score: np.ndarray
    grade: np.ndarray
    scored: np.ndarray
    cap: np.ndarray  # the grade cap index applied (-1 none)
    sub: np.ndarray | None = None  # a factors model's sub-scores, one row per factor


def grid(recs: RecordArrays) -> tuple[int, int]:
    """``(dmin, span)`` of the ``(category, day)`` table for these records."""
    if not len(recs):
        return 0, 1
    dmin = int(recs.day.min())
    return dmin, int(recs.day.max()) - dmin + 1


def table_for(
    group: CGroup, ncat: int, dmin: int, span: int, day: int, side: set[int], mark_side: bool
) -> np.ndarray:
    """Points per ``(category, day)`` cell for ``group``'s plain rules as of ``day``."""
    t = np.zeros((max(ncat, 1), span))
    hi = min(day, dmin + span - 1) - dmin
    for cat, r in group.simple.items():
        if cat in side or hi < 0:
            continue
        lo = max(cutoff(r.expiry, day) - dmin, 0)
        if lo <= hi:
            t[cat, lo : hi + 1] = r.points
    if mark_side and side:
        t[sorted(side), :] = np.nan
    return t


CHUNK = 1 << 20


@dataclass
class Pass:
    """What the one pass computed as of ``day`` over the first ``n`` records: per group each
    record's plain points (void records included: they are taken out when summing), and the
    positions of the ``side`` categories' records by category, on or before ``day``. Newly
    arrived records extend it (:func:`record_pass` with ``prev``)."""

    day: int
    n: int
    side: frozenset[int]
    weights: list[np.ndarray]
    parts: dict[int, np.ndarray]


def record_pass(
    groups: list[CGroup], recs: RecordArrays, day: int, side: set[int], prev: Pass | None = None
) -> tuple[list[Trace], dict[int, np.ndarray], Pass]:
    """The one pass: per group each record's plain points and the trace, and the records of
    ``side`` categories (on or before ``day``, not void) split by category, in ledger order, for
    the record-by-record path. Runs in chunks that stay in cache.

    With ``prev`` (the pass of the same groups, side categories and day over the first
    ``prev.n`` records of ``recs``) only the records after those are looked up: an incremental
    update gives exactly the batch pass.
    """
    dmin, span = grid(recs)
    ncat = len(recs.categories)
    n = len(recs)
    start = prev.n if prev is not None else 0
    tables = [table_for(g, ncat, dmin, span, day, side, mark_side=False).ravel() for g in groups]
    weights = [np.empty(n) for _ in groups]
    if prev is not None:
        for w, old in zip(weights, prev.weights, strict=True):
            w[:start] = old
    lut = np.zeros(max(ncat, 1) + 1, bool)
    lut[sorted(side)] = True
    parts: dict[int, list[np.ndarray]] = {c: [] for c in side}
    if prev is not None:
        for c, p in prev.parts.items():
            parts[c].append(p)
    for lo in range(start, n, CHUNK):
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
                    parts[int(sc[a])].append(sp[a:b].astype(np.int64))
    state = Pass(day, n, frozenset(side), weights, {})
    for c, ps in parts.items():
        pos = np.concatenate(ps) if ps else np.zeros(0, np.int64)
        state.parts[c] = pos[recs.day[pos] <= day]
    traces = [
        Trace(t.reshape(max(ncat, 1), span), dmin, {c: r for c, r in g.simple.items() if c not in side})
        for g, t in zip(groups, tables, strict=True)
    ]
    by_cat = {c: pos[~recs.void[pos]] for c, pos in state.parts.items()}
    return traces, by_cat, state


def positions(r: CRule, by_cat: dict[int, np.ndarray]) -> np.ndarray:
    """The positions of the records rule ``r`` reads, in ledger order: one category's, or the
    union of several categories' (``categories``), merged so that ranks and running totals run
    across them."""
    parts = [by_cat[c] for c in r.cats if c >= 0 and c in by_cat]
    if not parts:
        return np.zeros(0, np.int64)
    if len(parts) == 1:
        return parts[0]
    return np.sort(np.concatenate(parts), kind="stable")


def _needs_order(s: np.ndarray, flag: np.ndarray | None, more: np.ndarray) -> np.ndarray:
    """Records of subjects flagged in ``more`` (a per-subject boolean array)."""
    hit = more[s]
    return hit if flag is None else flag | hit


def rule_points(
    r: CRule, pos: np.ndarray, recs: RecordArrays, subjects: SubjectArrays, day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
                c - vv, r.brackets, r.per_unit, r.unit_step
            )
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


def network_points(
    r: CRule,
    pos: np.ndarray,
    recs: RecordArrays,
    subjects: SubjectArrays,
    relations: RelationArrays,
    day: int,
    members: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(receivers, points, term)`` of a rule with a network term on ``day``.

    The rule reads the subjects related to each receiver along ``via`` (relations valid on
    ``day``; each related subject once, never the receiver itself): with a category, their
    records still in effect (``count``: the rule's points per record, summed; ``share``: the
    share of related subjects with such a record); with ``on_list``, their standing on the list
    (``count``: points per related subject on it; ``share``: points times the share on it).
    ``term`` is the count or share behind each receiver's points (what an explanation shows).
    """
    via = r.via
    assert via is not None
    n = len(subjects)
    rs, ro, _, _ = relations.on(day, via.relation)
    recv, src = ends(rs, ro, via.to)  # from the scored subject to its related subjects
    recv, src = recv.astype(np.int64), src.astype(np.int64)
    keep = recv != src
    wm = when_mask(r.when, subjects, day)
    if wm is not None:
        keep &= wm[recv]
    key = np.unique(recv[keep] * n + src[keep])
    recv, src = key // n, key % n
    if r.on_list is not None:
        on = np.zeros(n, bool)
        on[members.get(r.on_list, np.zeros(0, np.int64))] = True
        per_src = on.astype(np.float64)
        hit_src = on
    else:
        d = recs.day[pos]
        pos = pos[d >= cutoff(r.expiry, day)]
        s = recs.subject[pos]
        if r.kind == "per_unit":
            pts = r.per_unit * recs.value[pos].astype(np.float64) / r.unit_step
        else:
            pts = np.full(len(pos), r.points)
        if r.clamp is not None:
            pts = np.clip(pts, r.clamp[0], r.clamp[1])
        count_src = np.bincount(s, minlength=n)
        hit_src = count_src > 0
        per_src = (
            np.bincount(s, weights=pts, minlength=n)
            if via.aggregate == "count"
            else (hit_src.astype(np.float64))
        )
    if via.aggregate == "share":
        degree = np.bincount(recv, minlength=n)
        hits = np.bincount(recv, weights=hit_src[src].astype(np.float64), minlength=n)
        term = np.divide(hits, degree, out=np.zeros(n), where=degree > 0)
        total = r.points * term
    elif r.on_list is not None:
        term = np.bincount(recv, weights=per_src[src], minlength=n)
        total = r.points * term
    else:
        term = np.bincount(recv, weights=count_src[src].astype(np.float64), minlength=n)
        total = np.bincount(recv, weights=per_src[src], minlength=n)
    who = np.flatnonzero(term > 0).astype(np.int32)
    return who, total[who], term[who]


def group_sums(
    cv: CompiledVersion,
    g: CGroup,
    weights: np.ndarray,
    trace: Trace,
    by_cat: dict[int, np.ndarray],
    recs: RecordArrays,
    subjects: SubjectArrays,
    relations: RelationArrays,
    day: int,
    members: dict[str, np.ndarray],
    void: np.ndarray,
) -> np.ndarray:
    """Finish one group's sums: the record-by-record rules, rules on lists and network terms,
    added to the plain points (less those of the ``void`` positions). ``members`` maps a list id
    to the subjects on it on ``day``."""
    n = len(subjects)
    parts = []
    for r in g.rules:
        if r.via is not None:
            who, pts, term = network_points(r, positions(r, by_cat), recs, subjects, relations, day, members)
            parts.append((np.full(len(who), -1), r.index, who, pts))
            trace.terms[r.index] = (who, term)
        elif r.on_list is not None:
            who = members.get(r.on_list, np.zeros(0, np.int32))
            wm = when_mask(r.when, subjects, day)
            if wm is not None:
                who = who[wm[who]]
            parts.append((np.full(len(who), -1), r.index, who, np.full(len(who), r.points)))
        elif r.cats and trace.simple.get(r.cat) is not r:
            pos, who, pts = rule_points(r, positions(r, by_cat), recs, subjects, day)
            parts.append((pos, r.index, who, pts))
    trace.extend(parts)
    # the plain points in one bincount over the per-record weights (left untouched, so that an
    # incremental update can reuse them), the record-by-record ones and the rest in another
    sums = np.bincount(recs.subject, weights=weights, minlength=n)
    if len(void):  # annulled and annulling records count for nothing
        sums -= np.bincount(recs.subject[void], weights=weights[void], minlength=n)
    if parts:
        sums += np.bincount(
            np.concatenate([w for _, _, w, _ in parts]).astype(np.int64),
            weights=np.concatenate([x for _, _, _, x in parts]),
            minlength=n,
        )
    return sums


def grade_caps(cv: CompiledVersion, m: CModel, traces: list[Trace], n: int) -> np.ndarray:
    """Per subject the worst grade index a ``cap_grade`` rule in effect holds ``m`` to (-1:
    none), from the traces of the groups feeding ``m``."""
    cap = np.full(n, -1, np.int8)
    lut = np.array([m.grade_index(r.cap_grade) if r.cap_grade else -1 for r in cv.rules] + [-1], np.int8)
    capping = [r.index for r in cv.rules if r.cap_grade]
    if not capping:
        return cap
    for trace in traces:
        rows = np.flatnonzero(among(trace.rule, capping))
        k = lut[trace.rule[rows]]
        hit = k >= 0
        np.maximum.at(cap, trace.subject[rows][hit], k[hit])
    return cap


def _finish(
    cv: CompiledVersion,
    m: CModel,
    score: np.ndarray,
    scored: np.ndarray,
    cap: np.ndarray,
    sub: np.ndarray | None = None,
) -> ModelScores:
    grade = grades_of(m, score)
    capped_now = (cap > grade) & (grade >= 0)
    grade = np.where(capped_now, cap, grade).astype(np.int8)
    return ModelScores(m, score, grade, scored, cap, sub)


def score_group(
    cv: CompiledVersion,
    g: CGroup,
    weights: np.ndarray,
    trace: Trace,
    by_cat: dict[int, np.ndarray],
    recs: RecordArrays,
    subjects: SubjectArrays,
    relations: RelationArrays,
    day: int,
    members: dict[str, np.ndarray],
    void: np.ndarray,
) -> tuple[np.ndarray, list[ModelScores]]:
    """Finish one group: its sums (see :func:`group_sums`), then every points model's scores
    and grades (none for a factor's group)."""
    sums = group_sums(cv, g, weights, trace, by_cat, recs, subjects, relations, day, members, void)
    n = len(subjects)
    out = []
    for m in g.models:
        scored = scored_mask(cv, m, subjects, day)
        score = np.where(scored, np.clip(m.base + sums, m.lo, m.hi), np.nan)
        out.append(_finish(cv, m, score, scored, grade_caps(cv, m, [trace], n)))
    return sums, out


def factor_scores(
    cv: CompiledVersion,
    m: CModel,
    sums: list[np.ndarray],
    traces: list[Trace],
    subjects: SubjectArrays,
    day: int,
) -> ModelScores:
    """A ``factors`` model: each factor's sub-score is ``factor_base`` plus its rules' points,
    kept within ``0..factor_max``; the score is ``lo + (hi - lo) * Σ weight * sub / factor_max``.
    ``sums`` are the factor groups' sums in factor order."""
    n = len(subjects)
    scored = scored_mask(cv, m, subjects, day)
    sub = np.empty((len(m.factors), n))
    total = np.zeros(n)
    for k, ((_, w), x) in enumerate(zip(m.factors, sums, strict=True)):
        sub[k] = np.clip(m.factor_base + x, 0.0, m.factor_max)
        total += w * sub[k]
    score = np.where(scored, m.lo + (m.hi - m.lo) * total / m.factor_max, np.nan)
    return _finish(cv, m, score, scored, grade_caps(cv, m, traces, n), sub)


def tier_scores(
    cv: CompiledVersion,
    m: CModel,
    recs: RecordArrays,
    subjects: SubjectArrays,
    day: int,
    members: dict[str, np.ndarray],
) -> ModelScores:
    """A ``tiers`` model: the first tier whose conditions all hold is the grade (-1 when none
    does); there is no number (the score is ``NaN``).

    ``any_record``: a record of one of the categories on or before ``day`` and, with ``within``,
    inside it (a record of day ``d`` counts while ``d + within > day``); ``no_record``: none
    such; ``on_list``: on one of the lists; ``not_on_list``: on none of them.
    """
    n = len(subjects)
    scored = scored_mask(cv, m, subjects, day)
    grade = np.full(n, -1, np.int8)
    free = scored.copy()
    cache: dict[tuple[tuple[int, ...], int], np.ndarray] = {}

    def has_record(cats: tuple[int, ...], lo: int) -> np.ndarray:
        key = (cats, lo)
        if key not in cache:
            hit = among(recs.category, [c for c in cats if c >= 0])
            hit &= (recs.day >= lo) & (recs.day <= day) & ~recs.void
            cache[key] = np.bincount(recs.subject[hit], minlength=n) > 0
        return cache[key]

    def on_any(lids: tuple[str, ...]) -> np.ndarray:
        on = np.zeros(n, bool)
        for lid in lids:
            on[members.get(lid, np.zeros(0, np.int64))] = True
        return on

    for i, t in enumerate(m.tiers):
        ok = free.copy()
        lo = cutoff(t.within, day)
        if t.any_cats is not None:
            ok &= has_record(t.any_cats, lo)
        if t.no_cats is not None:
            ok &= ~has_record(t.no_cats, lo)
        if t.on_lists is not None:
            ok &= on_any(t.on_lists)
        if t.not_on_lists is not None:
            ok &= ~on_any(t.not_on_lists)
        grade[ok] = i
        free &= ~ok
    return ModelScores(m, np.full(n, np.nan), grade, scored, np.full(n, -1, np.int8))


@dataclass
class Fines:
    """The fines one rulebook imposed up to the evaluation date: one row per fined record —
    ``pos`` (record position), ``subject``, ``yuan`` and ``rule`` (an index into ``rules``:
    ``(version label, compiled rule)``, the rule of the version in force on the record's day).

    Example:
        >>> f = Fines.empty()
        >>> f.total(3).tolist()
        [0.0, 0.0, 0.0]
    """

    pos: np.ndarray
    subject: np.ndarray
    yuan: np.ndarray
    rule: np.ndarray
    rules: list[tuple[str, CRule]] = field(default_factory=list)

    @classmethod
    def empty(cls) -> Fines:
        z = np.zeros(0, np.int64)
        return cls(z, z.astype(np.int32), np.zeros(0), z.astype(np.int32))

    def total(self, n: int) -> np.ndarray:
        """Yuan imposed per subject (``n`` subjects)."""
        out = np.bincount(self.subject.astype(np.int64), weights=self.yuan, minlength=n)[:n]
        return out.astype(np.float64, copy=False)

    def rows(self, code: int) -> np.ndarray:
        """The rows of subject ``code``, in time order."""
        mine = np.flatnonzero(self.subject == code)
        return mine[np.argsort(self.pos[mine], kind="stable")]


def fine_rows(
    r: CRule, recs: RecordArrays, subjects: SubjectArrays, day: int, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(positions, yuan)`` of the records of days ``lo <= d < hi`` (and ``<= day``) that rule
    ``r`` fines. With ``fine.steps`` only the records at those steps of the rule's escalation are
    fined: the step is the record's rank among the subject's records of the rule's categories
    inside the escalation window (the last step repeats), counted over every record up to
    ``day``, whatever the version then in force."""
    fine = r.fine
    codes = [c for c in r.cats if c >= 0]
    if fine is None or not codes or hi <= lo:
        return np.zeros(0, np.int64), np.zeros(0)
    pos = np.flatnonzero(among(recs.category, codes) & (recs.day <= day) & ~recs.void)
    wm = when_mask(r.when, subjects, day)
    if wm is not None:
        pos = pos[wm[recs.subject[pos]]]
    if fine.steps:
        s, d = recs.subject[pos], recs.day[pos]
        o = sort_by(s, d)
        pos = pos[o]
        step = np.minimum(window_rank(s[o], d[o], r.window), max(len(r.steps), 1))
        pos = pos[among(step, list(fine.steps))]
    d = recs.day[pos]
    pos = np.sort(pos[(d >= lo) & (d < hi)])
    return pos, np.full(len(pos), float(fine.yuan))


def fines(
    periods: list[tuple[int, int, str, list[CRule]]],
    recs: RecordArrays,
    subjects: SubjectArrays,
    day: int,
) -> Fines:
    """Every fine imposed up to ``day``: each record is fined by the fine rules of the version in
    force on its own day (``periods``: ``(first day, day after the last, version label, fine
    rules)``); a fine, once imposed, stays (it does not expire with the record's effect on a
    score), and records on or after a rulebook's end are fined by nothing."""
    pos, yuan, idx = [], [], []
    rules: list[tuple[str, CRule]] = []
    for lo, hi, label, frules in periods:
        for r in frules:
            p, y = fine_rows(r, recs, subjects, day, lo, hi)
            if len(p):
                pos.append(p)
                yuan.append(y)
                idx.append(np.full(len(p), len(rules), np.int32))
            rules.append((label, r))
    if not pos:
        out = Fines.empty()
        out.rules = rules
        return out
    p = np.concatenate(pos)
    return Fines(p, recs.subject[p].astype(np.int32), np.concatenate(yuan), np.concatenate(idx), rules)
