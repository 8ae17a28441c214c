"""Compile a rulebook version into plain arrays and small objects the kernels run on.

A compiled version knows, against one set of records' category codes: each rule's category code,
effect parameters and expiry; the score models, grouped by identical rule sets so that their sums
are computed once; the lists in the order their dependencies require (a list entered through
another list, or through a score or grade, comes after it; a score that counts a list comes after
that list); and each measure's targets and actions.

A rule may read several record categories (``categories``): its records are read together, in
time order, so that an escalation counts across them. A rule's ``fine`` is kept beside the scores
(:attr:`CompiledVersion.fine_rules`); fines are imposed by the version in force on each record's
day (:func:`socialcredit.engine.points.fines`). A measure may hang on a score threshold
(``score_at_least`` / ``score_below``) as well as on lists and grades.

Three score models compile: ``points`` (a group of rules summed onto a base), ``factors`` (one
group of rules per factor, each summed onto ``factor_base``, weighted onto a range) and ``tiers``
(ordered conditions on records and lists). Rules with a network term (``via``) read the records or
list standing of related subjects; what a network term cannot mean (escalation, brackets, caps,
grade caps through someone else) is refused by name.

Example:
    >>> from socialcredit.rulebooks import load_rulebook
    >>> v = load_rulebook("national").version_on("2019-06-01")
    >>> c = compile_version(v, ("judicial.judgment_default",))
    >>> [lst.id for lst in c.lists][:2]
    ['judgment_defaulters', 'spending_restricted']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from socialcredit.engine.errors import EngineError
from socialcredit.registry import RELATION_KINDS, SUBJECT_KINDS
from socialcredit.rulebooks._common import Duration, Network, Via, When
from socialcredit.rulebooks.lists import Entry, ListDef, Measure
from socialcredit.rulebooks.resolve import RulebookVersion, national_or_jurisdiction
from socialcredit.rulebooks.rules import Rule
from socialcredit.rulebooks.score import FactorsScore, PointsScore, TiersScore
from socialcredit.vocabulary import vocabulary

#: The record category that a list's ``repair: true`` exit listens to.
REPAIR_CATEGORY = "judicial.credit_repaired"
#: Effect codes: the combination keeps the largest; ``disclose`` is kept apart.
EFFECT_CODE = {"reward": 1, "restrict": 2, "deny": 3}
OUTCOMES = ("allowed", "rewarded", "restricted", "denied")


@dataclass(frozen=True)
class CWhen:
    """A compiled ``when``: subject kinds, professions, civil servant, regions, ages."""

    kinds: tuple[int, ...] | None = None
    professions: tuple[str, ...] | None = None
    civil_servant: bool | None = None
    regions: tuple[int, ...] | None = None
    min_age: int | None = None
    max_age: int | None = None

    @classmethod
    def of(cls, when: When | None) -> CWhen | None:
        if when is None:
            return None
        regions = None
        if when.region is not None:
            regions = tuple(int(national_or_jurisdiction(r).code) for r in when.region)
        return cls(
            kinds=tuple(SUBJECT_KINDS.index(k) for k in when.subject_kinds) if when.subject_kinds else None,
            professions=tuple(when.profession) if when.profession is not None else None,
            civil_servant=when.civil_servant,
            regions=regions,
            min_age=when.min_age,
            max_age=when.max_age,
        )


@dataclass
class CRule:
    """One rule, compiled. ``kind``: ``points``, ``per_unit``, ``escalation``, ``grade_cap`` or
    ``fine`` (a fine alone, which feeds no score). ``cats`` are the codes of every category the
    rule reads (-1 for one no record has); ``cat`` is the code of a single-category rule (-1 for
    a rule on several categories or on a list)."""

    index: int
    id: str
    rule: Rule
    kind: str
    category: str | None
    cat: int
    on_list: str | None
    when: CWhen | None
    expiry: Duration | None
    points: float = 0.0
    per_unit: float = 0.0
    unit_step: float = 1.0
    brackets: tuple[tuple[float, float, float], ...] = ()
    steps: tuple[float, ...] = ()
    window: Duration | None = None
    clamp: tuple[float, float] | None = None
    cap: tuple[float, str] | None = None
    cap_grade: str | None = None
    via: Network | None = None
    cats: tuple[int, ...] = ()

    @property
    def fine(self) -> Any:
        """The rule's :class:`~socialcredit.rulebooks.rules.Fine` (``None``: no fine)."""
        return self.rule.fine

    @property
    def simple(self) -> bool:
        """A constant number of points per record, nothing else: the one-pass table path."""
        return (
            self.kind == "points"
            and self.on_list is None
            and self.when is None
            and self.cap is None
            and self.clamp is None
            and self.cap_grade is None
            and self.via is None
            and self.cat >= 0
            and len(self.cats) == 1
        )


@dataclass(frozen=True)
class CTier:
    """One tier of a ``tiers`` model: record category codes for ``any_record`` / ``no_record``
    (-1 for a category no record has), list ids, and the ``within`` window."""

    grade: str
    any_cats: tuple[int, ...] | None = None
    no_cats: tuple[int, ...] | None = None
    on_lists: tuple[str, ...] | None = None
    not_on_lists: tuple[str, ...] | None = None
    within: Duration | None = None


@dataclass
class CModel:
    """A score model: ``kind`` (``points``, ``factors``, ``tiers``), base, bounds (the range of a
    ``factors`` model), grade names (bands or tiers, best first, ``mins`` their thresholds) and
    who it scores; ``factors`` holds ``(id, weight)`` of a factors model, ``tiers`` the tiers."""

    id: str
    model: PointsScore | FactorsScore | TiersScore
    base: float
    lo: float
    hi: float
    grades: tuple[str, ...]
    mins: np.ndarray
    kinds: tuple[int, ...]
    when: CWhen | None
    kind: str = "points"
    factors: tuple[tuple[str, float], ...] = ()
    factor_base: float = 0.0
    factor_max: float = 1.0
    tiers: tuple[CTier, ...] = ()

    def grade_index(self, grade: str) -> int:
        return self.grades.index(grade) if grade in self.grades else -1


@dataclass
class CGroup:
    """Score models that share one rule set (their sums are computed once), or one factor of a
    ``factors`` model (``factor``: ``(model id, factor id)``; ``models`` is then empty)."""

    rules: list[CRule]
    models: list[CModel]
    simple: dict[int, CRule] = field(default_factory=dict)  # category code -> the simple rule
    factor: tuple[str, str] | None = None

    @property
    def side_rules(self) -> list[CRule]:
        return [r for r in self.rules if r not in self.simple.values()]


@dataclass
class CEntry:
    index: int
    entry: Entry
    kind: str  # record | on_list | score_below | grade_in
    cat: int = -1
    by: list[str] | None = None
    duration: Duration | None = None
    ext_cats: tuple[int, ...] = ()
    ext_min: Duration | None = None
    ext_total: Duration | None = None


@dataclass
class CList:
    index: int
    id: str
    lst: ListDef
    kinds: tuple[int, ...]
    entries: list[CEntry]
    exit_cats: dict[int, int]  # category code -> exit index
    delist: Duration | None
    min_duration: Duration | None
    under_age: int | None
    propagate: list[Via]
    stage: int  # 0: before scores, 1: after

    @property
    def record_cats(self) -> set[int]:
        cats = {e.cat for e in self.entries if e.kind == "record"}
        cats |= {c for e in self.entries for c in e.ext_cats}
        return {c for c in cats | set(self.exit_cats) if c >= 0}


@dataclass
class CMeasure:
    index: int
    id: str
    measure: Measure
    effect: str
    code: int  # EFFECT_CODE, 0 for disclose
    actions: tuple[str, ...]
    lists: tuple[int, ...]
    grades: tuple[str, ...]
    score: str | None
    via: Via | None
    at_least: float | None = None  # a score threshold: score >= at_least
    below: float | None = None  # and/or score < below

    @property
    def threshold(self) -> bool:
        return self.at_least is not None or self.below is not None


@dataclass
class CompiledVersion:
    """A rulebook version compiled against a set of record categories."""

    version: RulebookVersion
    jurisdiction: int  # 0 for national
    rules: list[CRule]
    groups: list[CGroup]
    lists: list[CList]
    measures: list[CMeasure]
    scope_kinds: tuple[int, ...] | None
    min_age: int | None
    residents_only: bool
    consent: bool
    list_index: dict[str, int] = field(default_factory=dict)
    factor_models: list[CModel] = field(default_factory=list)
    tier_models: list[CModel] = field(default_factory=list)
    #: the day the rulebook ended (``status: ended``) when this is the empty version evaluated
    #: on or after it
    ended: Any = None

    @property
    def rulebook(self) -> str:
        return self.version.rulebook

    @property
    def fine_rules(self) -> list[CRule]:
        """The rules that impose a fine."""
        return [r for r in self.rules if r.fine is not None]

    @property
    def models(self) -> list[CModel]:
        """Every model, in the order of the evaluation's results: the points models (group by
        group), then the factors models, then the tiers models."""
        return [m for g in self.groups for m in g.models] + self.factor_models + self.tier_models

    def side_cats(self) -> set[int]:
        """Categories read record by record (lists and rules off the table path)."""
        cats = {c for lst in self.lists for c in lst.record_cats}
        for g in self.groups:
            cats |= {c for r in g.side_rules for c in r.cats if c >= 0}
        return cats

    def factor_groups(self, model: str) -> list[tuple[int, CGroup]]:
        """``(group index, group)`` of each factor of factors model ``model``, in factor
        order."""
        return [(i, g) for i, g in enumerate(self.groups) if g.factor is not None and g.factor[0] == model]


def _expiry(rule: Rule, version: RulebookVersion) -> Duration | None:
    if rule.expires_after is not None:
        return rule.expires_after
    exp = version.options.expiry
    if exp is None or not rule.cats:
        return None
    if exp.applies_to == "all":
        return exp.after
    # the categories of one rule share a direction (rulebook lint)
    cat = vocabulary().categories.get(rule.cats[0])
    direction = cat.direction if cat else "breaking"
    return exp.after if direction == exp.applies_to else None


def _network(rule: Rule, version: RulebookVersion) -> None:
    """Refuse what a network term cannot mean."""
    via = rule.via
    assert via is not None
    where = f"rule {rule.id!r} of {version.rulebook}"
    if via.relation not in RELATION_KINDS:
        raise EngineError(f"{where}: unknown relation {via.relation!r} in its network term")
    if rule.effect_kind not in ("points", "per_unit") or rule.brackets:
        raise EngineError(
            f"{where}: a network term gives `points` (or plain "
            "`points_per_unit`) per related record or related subject; escalation, "
            "brackets and grade caps through someone else are not defined"
        )
    if rule.cap is not None:
        raise EngineError(f"{where}: a network term takes no `cap`")
    if via.aggregate == "share" and rule.effect_kind != "points":
        raise EngineError(f"{where}: a `share` network term gives `points` times the share")
    if rule.on_list is not None and rule.effect_kind != "points":
        raise EngineError(f"{where}: a network term on a list gives `points`")


def _rule(i: int, rule: Rule, version: RulebookVersion, cats: dict[str, int]) -> CRule:
    if rule.via is not None:
        _network(rule, version)
    kind = rule.effect_kind
    codes = tuple(cats.get(c, -1) for c in rule.cats)
    c = CRule(
        i,
        rule.id,
        rule,
        kind,
        rule.category,
        codes[0] if len(codes) == 1 else -1,
        rule.on_list,
        CWhen.of(rule.when),
        _expiry(rule, version),
        via=rule.via,
        cats=codes,
    )
    if rule.fine is not None and (rule.via is not None or rule.on_list is not None):
        raise EngineError(f"rule {rule.id!r}: a fine is imposed per record of the subject itself")
    if kind == "points":
        c.points = float(rule.points or 0.0)
    elif kind == "per_unit":
        c.per_unit, c.unit_step = float(rule.points_per_unit or 0.0), float(rule.unit_step)
        c.brackets = tuple(
            (
                b.above,
                float(b.points_per_unit if b.points_per_unit is not None else c.per_unit),
                float(b.unit_step if b.unit_step is not None else c.unit_step),
            )
            for b in sorted(rule.brackets or [], key=lambda b: b.above)
        )
    if rule.escalation is not None:
        c.steps, c.window = tuple(rule.escalation.steps), rule.escalation.window
    if rule.on_list is not None and kind not in ("points", "grade_cap", "fine"):
        raise EngineError(
            f"rule {rule.id!r}: a rule on a list gives fixed `points` (or "
            "`cap_grade`) while the subject is on it"
        )
    c.clamp = (rule.clamp.min, rule.clamp.max) if rule.clamp else None
    c.cap = (rule.cap.points, rule.cap.per) if rule.cap else None
    c.cap_grade = rule.cap_grade
    return c


def _tier(t: Any, cats: dict[str, int]) -> CTier:
    w = t.when
    if w is None:
        return CTier(t.grade)
    return CTier(
        t.grade,
        tuple(cats.get(c, -1) for c in w.any_record) if w.any_record is not None else None,
        tuple(cats.get(c, -1) for c in w.no_record) if w.no_record is not None else None,
        tuple(w.on_list) if w.on_list is not None else None,
        tuple(w.not_on_list) if w.not_on_list is not None else None,
        w.within,
    )


def _model(m: Any, version: RulebookVersion, cats: dict[str, int]) -> CModel:
    kinds = tuple(SUBJECT_KINDS.index(k) for k in m.subject_kinds)
    if isinstance(m, TiersScore):
        names = tuple(t.grade for t in m.tiers)
        return CModel(
            m.id,
            m,
            0.0,
            -np.inf,
            np.inf,
            names,
            np.full(len(names), -np.inf),
            kinds,
            CWhen.of(m.when),
            kind="tiers",
            tiers=tuple(_tier(t, cats) for t in m.tiers),
        )
    bands = list(m.grades)
    mins = np.array([b.min if b.min is not None else -np.inf for b in bands], np.float64)
    if isinstance(m, FactorsScore):
        lo = m.range.min if m.range.min is not None else 0.0
        hi = m.range.max if m.range.max is not None else float(m.factor_max)
        return CModel(
            m.id,
            m,
            float(m.factor_base),
            float(lo),
            float(hi),
            tuple(b.grade for b in bands),
            mins,
            kinds,
            CWhen.of(m.when),
            kind="factors",
            factors=tuple((f.id, float(f.weight)) for f in m.factors),
            factor_base=float(m.factor_base),
            factor_max=float(m.factor_max),
        )
    lo = m.bounds.min if m.bounds and m.bounds.min is not None else -np.inf
    hi = m.bounds.max if m.bounds and m.bounds.max is not None else np.inf
    return CModel(
        m.id, m, float(m.base), lo, hi, tuple(b.grade for b in bands), mins, kinds, CWhen.of(m.when)
    )


def _groups(
    rules: list[CRule], version: RulebookVersion, cats: dict[str, int]
) -> tuple[list[CGroup], list[CModel], list[CModel]]:
    models = [_model(m, version, cats) for m in version.scores.values()]
    by_set: dict[tuple[int, ...], CGroup] = {}
    factor_groups: list[CGroup] = []
    for m in models:
        if m.kind == "factors":
            for fid, _ in m.factors:
                mine = tuple(
                    r.index
                    for r in rules
                    if r.kind != "fine" and r.rule.factor == fid and r.rule.score in (None, m.id)
                )
                factor_groups.append(CGroup([rules[i] for i in mine], [], factor=(m.id, fid)))
            continue
        if m.kind != "points":
            continue
        mine = tuple(
            r.index
            for r in rules
            if r.kind != "fine" and r.rule.factor is None and r.rule.score in (None, m.id)
        )
        group = by_set.setdefault(mine, CGroup([rules[i] for i in mine], []))
        group.models.append(m)
    groups = [*by_set.values(), *factor_groups]
    for g in groups:
        for r in g.rules:
            if r.simple and r.cat not in g.simple:
                g.simple[r.cat] = r
        # a category with any other rule in the group goes record by record, all its rules
        side = {c for r in g.rules if r not in g.simple.values() for c in r.cats}
        g.simple = {c: r for c, r in g.simple.items() if c not in side}
    return (groups, [m for m in models if m.kind == "factors"], [m for m in models if m.kind == "tiers"])


def _entry(i: int, e: Entry, cats: dict[str, int]) -> CEntry:
    if e.category is not None:
        ext = e.extensions
        return CEntry(
            i,
            e,
            "record",
            cats.get(e.category, -1),
            list(e.by) if e.by else None,
            e.duration,
            tuple(cats.get(c, -1) for c in (ext.on or [e.category])) if ext else (),
            ext.min if ext else None,
            ext.total_max if ext else None,
        )
    if e.on_list is not None:
        return CEntry(i, e, "on_list")
    if e.score_below is not None:
        return CEntry(i, e, "score_below")
    if e.grade_in is not None:
        return CEntry(i, e, "grade_in")
    raise EngineError(f"list entry {i} names no category, list, score or grade")


def _order_lists(version: RulebookVersion, uses_lists: set[str]) -> list[tuple[str, int]]:
    """Lists in dependency order with their stage (0 before the scores, 1 after)."""
    lists = version.lists
    deps = {k: {e.on_list for e in v.enter if e.on_list} for k, v in lists.items()}
    scored = {k for k, v in lists.items() if any(e.score_below is not None or e.grade_in for e in v.enter)}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(k: str, path: tuple[str, ...]) -> None:
        if state.get(k) == 2:
            return
        if state.get(k) == 1:
            raise EngineError("lists enter each other in a cycle: " + " → ".join((*path, k)))
        state[k] = 1
        for d in sorted(deps.get(k, ())):
            if d in lists:
                visit(d, (*path, k))
        state[k] = 2
        order.append(k)

    for k in lists:
        visit(k, ())
    stage: dict[str, int] = {}
    for k in order:
        stage[k] = 1 if k in scored or any(stage.get(d) == 1 for d in deps[k]) else 0
    late = sorted(k for k in uses_lists if stage.get(k) == 1)
    if late:
        raise EngineError(
            f"a score counts list {late[0]!r}, which is itself entered through a "
            "score or grade: the rulebook is circular"
        )
    return [(k, stage[k]) for k in order]


def compile_version(
    version: RulebookVersion, categories: tuple[str, ...], *, jurisdiction: str = "000000"
) -> CompiledVersion:
    """Compile ``version`` against the record category names ``categories`` (their codes);
    ``jurisdiction`` is the rulebook's jurisdiction code (``000000``: national).

    Raises:
        EngineError: for what the engine does not define (a network term with escalation,
            say), or a circular rulebook.
    """
    cats = {c: i for i, c in enumerate(categories)}
    rules = [_rule(i, r, version, cats) for i, r in enumerate(version.rules.values())]
    groups, factor_models, tier_models = _groups(rules, version, cats)
    used = {r.on_list for r in rules if r.on_list}
    for m in tier_models:
        for t in m.tiers:
            used |= set(t.on_lists or ()) | set(t.not_on_lists or ())
    lists: list[CList] = []
    for i, (lid, stage) in enumerate(_order_lists(version, used)):
        lst = version.lists[lid]
        exits: dict[int, int] = {}
        for j, x in enumerate(lst.exit):
            cat = x.category or (REPAIR_CATEGORY if x.repair else None)
            if cat is not None and cats.get(cat, -1) >= 0:
                exits.setdefault(cats[cat], j)
        lists.append(
            CList(
                i,
                lid,
                lst,
                tuple(SUBJECT_KINDS.index(k) for k in lst.subject_kinds),
                [_entry(j, e, cats) for j, e in enumerate(lst.enter)],
                exits,
                lst.delist_within,
                lst.min_duration,
                lst.exempt.under_age if lst.exempt else None,
                list(lst.propagate),
                stage,
            )
        )
    index = {lst.id: lst.index for lst in lists}
    measures = []
    for i, m in enumerate(version.measures.values()):
        if m.via is not None and m.via.relation not in RELATION_KINDS:
            raise EngineError(f"measure {m.id!r}: unknown relation {m.via.relation!r}")
        measures.append(
            CMeasure(
                i,
                m.id,
                m,
                m.effect,
                EFFECT_CODE.get(m.effect, 0),
                tuple(m.actions),
                tuple(index[x] for x in (m.on.lists or []) if x in index),
                tuple(m.on.grade or []),
                m.on.score,
                m.via,
                m.on.score_at_least,
                m.on.score_below,
            )
        )
    scope = version.options.scope
    consent = version.options.consent
    code = int(jurisdiction)
    return CompiledVersion(
        version,
        code,
        rules,
        groups,
        lists,
        measures,
        tuple(SUBJECT_KINDS.index(k) for k in scope.subject_kinds) if scope and scope.subject_kinds else None,
        scope.min_age if scope else None,
        bool(scope and scope.residents_only),
        bool(consent and consent.required),
        index,
        factor_models,
        tier_models,
    )


__all__ = ["OUTCOMES", "CompiledVersion", "compile_version"]
