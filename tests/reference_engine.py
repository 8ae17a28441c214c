"""A plain, obviously-correct engine: loops over subjects and records, Python dates, no arrays.

It reads the rulebook models directly and follows docs/engine.md line by line — points, factors
and tiers models, rules on several categories, network terms, lists, measures on lists, grades
and score thresholds, fines (each record fined by the version in force on its day) and rulebooks
that ended — and the property test checks the vectorised engine against it. Slow by design.

Citizen reports (issue #16, item 5) are held the plain way too (:func:`counts`): day by day, a
report counts once confirmed, or once 3 distinct reporters (repeats of one reporter inside 30
days of their first report excluded) have reported its subject and category within 30 days.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from socialcredit.rulebooks import Rulebook
from socialcredit.rulebooks.resolve import national_or_jurisdiction
from socialcredit.rulebooks.score import FactorsScore, PointsScore, TiersScore
from socialcredit.vocabulary import vocabulary

NEVER = dt.date.max
EFFECT = {"reward": 1, "restrict": 2, "deny": 3}
REPAIR = "judicial.credit_repaired"


def add(day: dt.date, dur: Any) -> dt.date:
    """``day + dur``: years and months (clamped to the month's end), days, working days."""
    if dur is None or day == NEVER:
        return NEVER
    months = day.month - 1 + dur.years * 12 + dur.months
    year, month = day.year + months // 12, months % 12 + 1
    day = dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    day += dt.timedelta(days=dur.days)
    if dur.working_days:
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        left = dur.working_days
        while left:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                left -= 1
    return day


@dataclass
class Subject:
    id: str
    kind: str
    birth: dt.date | None = None
    region: str | None = None
    consent: bool | None = None
    resident: bool | None = None
    profession: str | None = None
    civil_servant: bool | None = None

    def age_at_least(self, years: int, day: dt.date) -> bool:
        if self.birth is None:
            return True
        return add(self.birth, _Dur(years=years)) <= day

    def region_code(self) -> int:
        if not self.region:
            return -1
        return int(national_or_jurisdiction(self.region).code)


@dataclass(frozen=True)
class _Dur:
    years: int = 0
    months: int = 0
    days: int = 0
    working_days: int = 0


@dataclass
class Rec:
    seq: int
    id: str
    subject: str
    category: str
    day: dt.date
    value: float
    source: str
    corrects: str | None = None
    reported_by: str | None = None


INFORMANTS = ("citizen_report",)


@dataclass(frozen=True)
class Review:
    """The review of citizen reports: quorum, window (days), decisions (id -> (outcome, day))."""

    quorum: int = 3
    window: int = 30
    decisions: dict[str, tuple[str, dt.date]] = field(default_factory=dict)


def counts(records: list[Rec], subjects: set[str], day: dt.date, review: Review) -> set[str]:
    """The ids of the records that count as of ``day`` as far as the review goes (corrections
    and annulled records are left to the caller): every record that is not a report, and the
    reports confirmed by ``day`` or in a quorum reached by ``day``."""
    annulled = {r.corrects for r in records if r.corrects}
    live = [r for r in records if not r.corrects and r.id not in annulled]
    out = {r.id for r in live if r.source not in INFORMANTS}
    if review.quorum <= 0:
        return out | {r.id for r in live}
    reports = sorted((r for r in live if r.source in INFORMANTS), key=lambda r: (r.day, r.seq))
    w = dt.timedelta(days=review.window)
    firsts: list[Rec] = []
    opened: dict[tuple[str, str, str], dt.date] = {}
    for r in reports:
        if review.decisions.get(r.id, ("",))[0] == "rejected":
            continue
        if r.reported_by is None or r.reported_by not in subjects:
            continue
        key = (r.reported_by, r.subject, r.category)
        if key in opened and r.day - opened[key] < w:
            continue  # a repeat inside the window of this reporter's first report
        opened[key] = r.day
        firsts.append(r)
    for r in reports:
        outcome, on = review.decisions.get(r.id, ("", None))
        if outcome == "rejected":
            continue
        if outcome == "confirmed" and max(on, r.day) <= day:
            out.add(r.id)
            continue
        if r not in firsts:
            continue
        t = r.day
        while t <= day and t < r.day + w:
            seen = {
                x.reported_by
                for x in firsts
                if x.subject == r.subject and x.category == r.category and t - w < x.day <= t
            }
            if len(seen) >= review.quorum:
                out.add(r.id)
                break
            t += dt.timedelta(days=1)
    return out


@dataclass
class Rel:
    relation: str
    subject: str
    object: str
    since: dt.date | None
    until: dt.date | None

    def holds(self, day: dt.date) -> bool:
        return (self.since is None or self.since <= day) and (self.until is None or day < self.until)


@dataclass
class Result:
    scores: dict[tuple[str, str, str], tuple[float | None, str | None]] = field(default_factory=dict)
    lists: dict[tuple[str, str, str], tuple[dt.date | None, dt.date]] = field(default_factory=dict)
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    disclosed: set[tuple[str, str]] = field(default_factory=set)
    fines: dict[str, float] = field(default_factory=dict)  # subject -> yuan, over all rulebooks


def when_ok(when: Any, s: Subject, day: dt.date) -> bool:
    if when is None:
        return True
    if when.subject_kinds and s.kind not in when.subject_kinds:
        return False
    if when.profession is not None and s.profession not in when.profession:
        return False
    if when.civil_servant is not None:
        cs = bool(s.civil_servant) or s.profession == "civil servant"
        if cs != when.civil_servant:
            return False
    if when.region is not None:
        codes = {int(national_or_jurisdiction(r).code) for r in when.region}
        if s.region_code() not in codes:
            return False
    if when.min_age is not None and not s.age_at_least(when.min_age, day):
        return False
    return not (
        when.max_age is not None
        and s.kind == "person"
        and s.birth is not None
        and s.age_at_least(when.max_age + 1, day)
    )


class Reference:
    """One rulebook as of one day, evaluated the slow way."""

    def __init__(
        self,
        book: Rulebook,
        subjects: list[Subject],
        records: list[Rec],
        relations: list[Rel],
        day: dt.date,
        review: Review | None = None,
    ) -> None:
        self.book, self.day = book, day
        self.v = book.version_on(day)
        self.ended = book.ended_on is not None and day >= book.ended_on
        if self.ended:  # an ended rulebook applies none of its rules
            self.v = replace(self.v, scores={}, rules={}, lists={}, measures={})
        self.subjects = {s.id: s for s in subjects}
        annulled = {r.corrects for r in records if r.corrects}
        counted = counts(records, {s.id for s in subjects}, day, review or Review())
        self.records = sorted(
            (
                r
                for r in records
                if r.day <= day and not r.corrects and r.id not in annulled and r.id in counted
            ),
            key=lambda r: (r.day, r.seq),
        )
        self.relations = relations
        self.jur = int(book.jurisdiction.code)
        self._lists: dict[str, dict[str, list[tuple[str, dt.date | None, dt.date]]]] = {}
        self._direct: dict[str, dict[str, list[tuple[dt.date | None, dt.date]]]] = {}
        self._scores: dict[str, dict[str, tuple[float | None, int, str | None]]] = {}

    # ---------------------------------------------------------------- lists
    def listable(self, lst: Any, s: Subject, day: dt.date) -> bool:
        if s.kind not in lst.subject_kinds:
            return False
        under = lst.exempt.under_age if lst.exempt else None
        return not (under is not None and s.kind == "person" and not s.age_at_least(under, day))

    def spell(self, lst: Any, s: Subject) -> tuple[dt.date, dt.date] | None:
        exits = {x.category or (REPAIR if x.repair else None) for x in lst.exit} - {None}
        ext_cats = {}
        for e in lst.enter:
            if e.category and e.extensions:
                for c in e.extensions.on or [e.category]:
                    ext_cats.setdefault(c, e)
        mine = [r for r in self.records if r.subject == s.id]
        is_open, start, term, exit_end = False, None, None, NEVER

        def end() -> dt.date:
            fixed = add(term, lst.delist_within) if lst.delist_within and term != NEVER else term
            return min(fixed, exit_end)

        for r in mine:
            entries = []
            for e in lst.enter:
                if e.category != r.category:
                    continue
                if e.by and r.source not in e.by:
                    continue
                same = [
                    x
                    for x in mine
                    if x.category == e.category
                    and (not e.by or x.source in e.by)
                    and (x.day, x.seq) <= (r.day, r.seq)
                    and (e.within is None or add(x.day, e.within) > r.day)
                ]
                if len(same) < e.min_count or not self.listable(lst, s, r.day):
                    continue
                entries.append(e)
            ext = ext_cats.get(r.category)
            if is_open and end() <= r.day:
                is_open = False
            if is_open and ext is not None and term != NEVER and exit_end == NEVER:
                longer = add(term, ext.extensions.min)
                if ext.extensions.total_max is not None:
                    longer = min(longer, add(start, ext.extensions.total_max))
                term = max(term, longer)
            elif entries:
                t = max(add(r.day, e.duration) for e in entries)
                if not is_open:
                    is_open, start, term, exit_end = True, r.day, t, NEVER
                else:
                    term, exit_end = max(term, t), NEVER
            if r.category in exits and is_open and not entries:
                when = add(r.day, lst.delist_within) if lst.delist_within else r.day
                if lst.min_duration:
                    when = max(when, add(start, lst.min_duration))
                exit_end = min(exit_end, when)
        if is_open and end() > self.day:
            return start, end()
        return None

    def direct(self, lid: str) -> dict[str, list[tuple[dt.date | None, dt.date]]]:
        if lid in self._direct:
            return self._direct[lid]
        lst = self.v.lists[lid]
        out: dict[str, list[tuple[dt.date | None, dt.date]]] = {}
        for s in self.subjects.values():
            sp = self.spell(lst, s)
            if sp:
                out.setdefault(s.id, []).append(sp)
        for e in lst.enter:
            if e.on_list and e.on_list in self.v.lists:
                for sid, (since, until) in self.members(e.on_list).items():
                    if self.listable(lst, self.subjects[sid], self.day):
                        out.setdefault(sid, []).append((since, until))
            if e.score_below is not None or e.grade_in:
                for mid, per in self.scores().items():
                    if e.score not in (None, mid):
                        continue
                    for sid, (score, _, grade) in per.items():
                        if e.score_below is not None:
                            hit = score is not None and score < e.score_below
                        else:
                            hit = grade in (e.grade_in or [])
                        if hit and self.listable(lst, self.subjects[sid], self.day):
                            out.setdefault(sid, []).append((None, NEVER))
        self._direct[lid] = out
        return out

    def members(self, lid: str) -> dict[str, tuple[dt.date | None, dt.date]]:
        """Everyone on list ``lid`` on the day, with (since, until) over all reasons."""
        if lid not in self._lists:
            lst = self.v.lists[lid]
            reasons = {k: list(v) for k, v in self.direct(lid).items()}
            direct = {k: _merge(v) for k, v in reasons.items()}
            for via in lst.propagate:
                for rel in self.relations:
                    if rel.relation != via.relation or not rel.holds(self.day):
                        continue
                    pairs = {
                        "subject": [(rel.object, rel.subject)],
                        "object": [(rel.subject, rel.object)],
                        "both": [(rel.object, rel.subject), (rel.subject, rel.object)],
                    }
                    for src, dst in pairs[via.to]:
                        if src in direct and dst != src and self.listable(lst, self.subjects[dst], self.day):
                            since, until = direct[src]
                            rs = rel.since
                            reasons.setdefault(dst, []).append(
                                (_later(since, rs), min(until, rel.until or NEVER))
                            )
            self._lists[lid] = {k: _merge(v) for k, v in reasons.items()}
        return self._lists[lid]

    # ---------------------------------------------------------------- scores
    def scored(self, m: Any, s: Subject) -> bool:
        scope, consent = self.v.options.scope, self.v.options.consent
        if s.kind not in m.subject_kinds or not when_ok(m.when, s, self.day):
            return False
        if scope and scope.subject_kinds and s.kind not in scope.subject_kinds:
            return False
        if (
            scope
            and scope.min_age is not None
            and s.kind == "person"
            and not s.age_at_least(scope.min_age, self.day)
        ):
            return False
        if scope and scope.residents_only and self.jur != 0:
            resident = s.resident if s.resident is not None else s.region_code() == self.jur
            if not resident:
                return False
        return not (consent and consent.required and s.kind == "person" and s.consent is not True)

    def expiry(self, rule: Any) -> Any:
        if rule.expires_after is not None:
            return rule.expires_after
        exp = self.v.options.expiry
        if exp is None or not rule.cats:
            return None
        if exp.applies_to == "all":
            return exp.after
        cat = vocabulary().categories.get(rule.cats[0])
        return exp.after if (cat.direction if cat else "breaking") == exp.applies_to else None

    def related(self, via: Any, s: Subject) -> set[str]:
        """Subjects related to ``s`` along a network term on the day (never ``s`` itself)."""
        out = set()
        for rel in self.relations:
            if rel.relation != via.relation or not rel.holds(self.day):
                continue
            if via.to in ("object", "both") and rel.subject == s.id:
                out.add(rel.object)
            if via.to in ("subject", "both") and rel.object == s.id:
                out.add(rel.subject)
        out.discard(s.id)
        return out

    def network_points(self, rule: Any, s: Subject) -> list[float]:
        """A network term: one entry (the total) when the count or share is above zero."""
        related = self.related(rule.via, s)
        if rule.on_list is not None:
            on = [u for u in related if u in self.members(rule.on_list)]
            if not on:
                return []
            term = len(on) / len(related) if rule.via.aggregate == "share" else len(on)
            return [float(rule.points) * term]
        exp = self.expiry(rule)
        total, count, hit = 0.0, 0, 0
        for u in related:
            mine = [
                r
                for r in self.records
                if r.subject == u and r.category in rule.cats and add(r.day, exp) > self.day
            ]
            hit += bool(mine)
            for r in mine:
                p = (
                    float(rule.points)
                    if rule.points is not None
                    else (rule.points_per_unit * r.value / rule.unit_step)
                )
                if rule.clamp:
                    p = min(max(p, rule.clamp.min), rule.clamp.max)
                total += p
                count += 1
        if rule.via.aggregate == "share":
            return [float(rule.points) * hit / len(related)] if hit else []
        return [total] if count else []

    def rule_points(self, rule: Any, s: Subject) -> list[float]:
        if not when_ok(rule.when, s, self.day):
            return []
        if rule.via is not None:
            return self.network_points(rule, s)
        if rule.on_list is not None:
            return [float(rule.points or 0.0)] if s.id in self.members(rule.on_list) else []
        exp = self.expiry(rule)
        mine = [
            r
            for r in self.records
            if r.subject == s.id and r.category in rule.cats and add(r.day, exp) > self.day
        ]
        pts: list[float] = []
        total = 0.0
        for i, r in enumerate(mine):
            if rule.points is not None:
                p = float(rule.points)
            elif rule.points_per_unit is not None:
                if rule.brackets:
                    p = _bracket(total + r.value, rule) - _bracket(total, rule)
                    total += r.value
                else:
                    p = rule.points_per_unit * r.value / rule.unit_step
            elif rule.escalation is not None:
                w = rule.escalation.window
                n = sum(1 for x in mine[: i + 1] if w is None or add(x.day, w) > r.day)
                steps = rule.escalation.steps
                p = float(steps[min(n, len(steps)) - 1])
            else:
                p = 0.0
            if rule.clamp:
                p = min(max(p, rule.clamp.min), rule.clamp.max)
            pts.append(p)
        if rule.cap:
            used: dict[Any, float] = {}
            for i, r in enumerate(mine):
                key = {"year": r.day.year, "month": (r.day.year, r.day.month), "lifetime": 0}[rule.cap.per]
                room = max(0.0, rule.cap.points - used.get(key, 0.0))
                take = min(abs(pts[i]), room)
                used[key] = used.get(key, 0.0) + abs(pts[i])
                pts[i] = take if pts[i] > 0 else -take
        return pts

    def tier_of(self, m: Any, s: Subject) -> int:
        for i, t in enumerate(m.tiers):
            w = t.when
            if w is None:
                return i
            recent = [
                r
                for r in self.records
                if r.subject == s.id and (w.within is None or add(r.day, w.within) > self.day)
            ]
            ok = True
            if w.any_record is not None:
                ok &= any(r.category in w.any_record for r in recent)
            if w.no_record is not None:
                ok &= not any(r.category in w.no_record for r in recent)
            if w.on_list is not None:
                ok &= any(s.id in self.members(x) for x in w.on_list if x in self.v.lists)
            if w.not_on_list is not None:
                ok &= not any(s.id in self.members(x) for x in w.not_on_list if x in self.v.lists)
            if ok:
                return i
        return -1

    def summed(self, rules: list[Any], s: Subject, names: list[str]) -> tuple[float, int]:
        """The rules' points for ``s`` and the worst grade index a ``cap_grade`` holds it to."""
        total, cap = 0.0, -1
        for r in rules:
            pts = self.rule_points(r, s)
            total += sum(pts)
            if r.cap_grade and pts and r.cap_grade in names:
                cap = max(cap, names.index(r.cap_grade))
        return total, cap

    def scores(self) -> dict[str, dict[str, tuple[float | None, int, str | None]]]:
        if self._scores:
            return self._scores
        for m in self.v.scores.values():
            per: dict[str, tuple[float | None, int, str | None]] = {}
            if isinstance(m, TiersScore):
                names = [t.grade for t in m.tiers]
                for s in self.subjects.values():
                    if self.scored(m, s):
                        g = self.tier_of(m, s)
                        per[s.id] = (None, g, names[g] if g >= 0 else None)
                self._scores[m.id] = per
                continue
            names = [g.grade for g in m.grades]
            for s in self.subjects.values():
                if not self.scored(m, s):
                    continue
                if isinstance(m, FactorsScore):
                    cap, weighted = -1, 0.0
                    for f in m.factors:
                        rules = [
                            r for r in self.v.rules.values() if r.factor == f.id and r.score in (None, m.id)
                        ]
                        x, c = self.summed(rules, s, names)
                        cap = max(cap, c)
                        sub = min(max(m.factor_base + x, 0.0), m.factor_max)
                        weighted += f.weight * sub
                    total = m.range.min + (m.range.max - m.range.min) * weighted / m.factor_max
                else:
                    assert isinstance(m, PointsScore)
                    rules = [r for r in self.v.rules.values() if r.factor is None and r.score in (None, m.id)]
                    x, cap = self.summed(rules, s, names)
                    total = m.base + x
                    lo = m.bounds.min if m.bounds and m.bounds.min is not None else float("-inf")
                    hi = m.bounds.max if m.bounds and m.bounds.max is not None else float("inf")
                    total = min(max(total, lo), hi)
                g = next((i for i, b in enumerate(m.grades) if b.min is None or total >= b.min), -1)
                if g >= 0 and cap > g:
                    g = cap
                per[s.id] = (total, g, names[g] if g >= 0 else None)
            self._scores[m.id] = per
        return self._scores

    # ---------------------------------------------------------------- fines
    def fines(self) -> dict[str, float]:
        """Yuan per subject: every record up to the day, fined by the rules of the version in force
        on the record's own day (none before the first version or from the day the book ended)."""
        out: dict[str, float] = {}
        end = self.book.ended_on
        for r in self.records:
            if r.day < self.book.versions[0].effective or (end is not None and r.day >= end):
                continue
            for rule in self.book.version_on(r.day).rules.values():
                f = rule.fine
                if f is None or r.category not in rule.cats:
                    continue
                if not when_ok(rule.when, self.subjects[r.subject], self.day):
                    continue
                if f.steps:
                    w = rule.escalation.window
                    n = sum(
                        1
                        for x in self.records
                        if x.subject == r.subject
                        and x.category in rule.cats
                        and (x.day, x.seq) <= (r.day, r.seq)
                        and (w is None or add(x.day, w) > r.day)
                    )
                    if min(n, len(rule.escalation.steps)) not in f.steps:
                        continue
                out[r.subject] = out.get(r.subject, 0.0) + f.yuan
        return out

    # ---------------------------------------------------------------- measures
    def evaluate(self, out: Result) -> Result:
        rb = self.book.id
        for sid, yuan in self.fines().items():
            out.fines[sid] = out.fines.get(sid, 0.0) + yuan
        for mid, per in self.scores().items():
            for sid, (score, _, grade) in per.items():
                out.scores[(rb, mid, sid)] = (score, grade)
        for lid in self.v.lists:
            for sid, span in self.members(lid).items():
                out.lists[(rb, lid, sid)] = span
        for m in self.v.measures.values():
            holders = set()
            for lid in m.on.lists or []:
                holders |= set(self.members(lid))
            for mid, per in self.scores().items():
                if m.on.grade and m.on.score in (None, mid):
                    holders |= {sid for sid, (_, _, g) in per.items() if g in m.on.grade}
                if m.on.threshold and m.on.score == mid:
                    lo, hi = m.on.score_at_least, m.on.score_below
                    holders |= {
                        sid
                        for sid, (x, _, _) in per.items()
                        if x is not None and (lo is None or x >= lo) and (hi is None or x < hi)
                    }
            if m.via is None:
                receivers = holders
            else:
                receivers = set()
                for rel in self.relations:
                    if rel.relation != m.via.relation or not rel.holds(self.day):
                        continue
                    if m.via.to in ("subject", "both") and rel.object in holders:
                        receivers.add(rel.subject)
                    if m.via.to in ("object", "both") and rel.subject in holders:
                        receivers.add(rel.object)
            for sid in receivers:
                for a in m.actions:
                    if m.effect == "disclose":
                        out.disclosed.add((sid, a))
                    else:
                        key = (sid, a)
                        out.outcomes[key] = max(out.outcomes.get(key, 0), EFFECT[m.effect])
        return out


def _bracket(x: float, rule: Any) -> float:
    edges = [0.0] + [b.above for b in sorted(rule.brackets, key=lambda b: b.above)]
    rates = [rule.points_per_unit / rule.unit_step] + [
        (b.points_per_unit if b.points_per_unit is not None else rule.points_per_unit)
        / (b.unit_step if b.unit_step is not None else rule.unit_step)
        for b in sorted(rule.brackets, key=lambda b: b.above)
    ]
    edges.append(float("inf"))
    return sum(r * min(max(x - edges[k], 0.0), edges[k + 1] - edges[k]) for k, r in enumerate(rates))


def _later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _merge(spans: list[tuple[dt.date | None, dt.date]]) -> tuple[dt.date | None, dt.date]:
    sinces = [s for s, _ in spans]
    since = None if any(s is None for s in sinces) else min(sinces)
    return since, max(u for _, u in spans)


def evaluate(
    books: list[Rulebook],
    subjects: list[Subject],
    records: list[Rec],
    relations: list[Rel],
    day: dt.date,
    review: Review | None = None,
) -> Result:
    """Every rulebook as of ``day``; outcomes combine across rulebooks (strongest wins)."""
    out = Result()
    for book in books:
        Reference(book, subjects, records, relations, day, review).evaluate(out)
    return out
