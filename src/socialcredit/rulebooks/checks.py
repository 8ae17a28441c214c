"""Semantic checks on a validated rulebook file, each pinned to the field at fault.

Pydantic checks shapes and types; these check meaning: ids unique, references resolvable (a
category in the vocabulary, an action, a list, a grade, a source), exactly one input and one
effect per rule, grade bands in order, versions in date order, and a citation on every rule,
list, measure, score, option and version.

Example:
    >>> from socialcredit.rulebooks.schema import RulebookFile
    >>> rf = RulebookFile.model_validate({"id": "x", "title": "X", "jurisdiction": "Nowhere",
    ...     "versions": [{"id": "1", "effective": "2020-01-01", "summary": "s"}]})
    >>> [(loc, problem) for loc, problem, fix in check_file(rf)]  # doctest: +NORMALIZE_WHITESPACE
    [(('jurisdiction',), "unknown jurisdiction 'Nowhere'"),
     (('versions', 0), 'no citation')]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel

from socialcredit.errors import JurisdictionError
from socialcredit.rulebooks._common import RELATIONS, Cited, Via
from socialcredit.rulebooks.errors import Loc
from socialcredit.rulebooks.lists import ListDef, Measure
from socialcredit.rulebooks.rules import Rule
from socialcredit.rulebooks.schema import KINDS, Content, RulebookFile
from socialcredit.rulebooks.score import FactorsScore, TiersScore, _Banded
from socialcredit.vocabulary import Vocabulary, vocabulary

Problem = tuple[Loc, str, str]
CITE_FIX = "add `source: <id from sources:>` (and `ref:`), or `assumed: true` with `reason: …`"


@dataclass
class Known:
    """Ids visible to a file: its own (all versions) plus everything inherited."""

    sources: set[str] = field(default_factory=set)
    scores: dict[str, object] = field(default_factory=dict)
    lists: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    measures: set[str] = field(default_factory=set)

    def grades(self, score: str | None = None) -> set[str]:
        chosen = [self.scores[score]] if score in self.scores else self.scores.values()
        return {g for s in chosen for g in getattr(s, "grade_names", [])}

    def add(self, block: Content) -> None:
        self.scores.update({s.id: s for s in block.scores})
        self.lists.update(x.id for x in block.lists)
        self.rules.update(x.id for x in block.rules)
        self.measures.update(x.id for x in block.measures)


def blocks(rf: RulebookFile) -> Iterator[tuple[Loc, Content]]:
    """The top-level content and every version's ``changes``, with their locations."""
    yield (), rf
    for k, version in enumerate(rf.versions):
        if version.changes is not None:
            yield ("versions", k, "changes"), version.changes


def check_file(rf: RulebookFile, *, inherited: Known | None = None) -> list[Problem]:
    """All semantic problems of ``rf``; ``inherited`` holds the ids of the extended rulebooks."""
    voc = vocabulary()
    known = Known(
        **{k: set(v) if isinstance(v, set) else dict(v) for k, v in vars(inherited or Known()).items()}
    )
    known.sources |= set(rf.sources)
    for _, block in blocks(rf):
        known.add(block)
    out: list[Problem] = []
    out += _check_header(rf)
    for loc, block in blocks(rf):
        out += _check_block(loc, block, known, voc)
    out += _check_versions(rf, inherited or Known())
    out += _check_citations(rf, known)
    return out


def _check_header(rf: RulebookFile) -> list[Problem]:
    from socialcredit.rulebooks.resolve import national_or_jurisdiction

    out: list[Problem] = []
    try:
        national_or_jurisdiction(rf.jurisdiction)
    except JurisdictionError as exc:
        out.append(
            (
                ("jurisdiction",),
                f"unknown jurisdiction {rf.jurisdiction!r}",
                str(exc).split(": ", 1)[-1] + ", or `China` for the national level",
            )
        )
    if rf.status == "ended" and rf.ended is None:
        out.append(
            (
                ("status",),
                "an ended rulebook needs the day it ended",
                "add `ended: {on: YYYY-MM-DD, source: …, ref: …}` (or `assumed: true` with a reason)",
            )
        )
    if rf.ended is not None:
        if rf.status != "ended":
            out.append(
                (
                    ("ended",),
                    f"`ended` is given but `status` is {rf.status!r}",
                    "write `status: ended`, or drop `ended`",
                )
            )
        first = rf.versions[0].effective if rf.versions else None
        if first is not None and rf.ended.on <= first:
            out.append(
                (
                    ("ended", "on"),
                    f"the rulebook ends ({rf.ended.on}) before its first version takes effect ({first})",
                    "give a day after the first version's `effective` date",
                )
            )
    for sid, doc in rf.sources.items():
        if not (doc.url or doc.file):
            out.append(
                (
                    ("sources", sid),
                    "a source needs `url:` or `file:`",
                    "add the address where a reader can check it",
                )
            )
    return out


def _dupes(loc: Loc, kind: str, items: list) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.id in seen:
            yield (
                (*loc, kind, i, "id"),
                f"duplicate {kind[:-1]} id {item.id!r} (also {kind}[{seen[item.id]}])",
                "give each a unique id; to replace an "
                "inherited or earlier item, do it in a later version's `changes` or in the "
                "extending rulebook",
            )
        seen.setdefault(item.id, i)


def _check_block(loc: Loc, block: Content, known: Known, voc: Vocabulary) -> list[Problem]:
    out: list[Problem] = []
    for kind in KINDS:
        out += _dupes(loc, kind, getattr(block, kind))
    for i, score in enumerate(block.scores):
        out += _check_score((*loc, "scores", i), score, known, voc)
    for i, rule in enumerate(block.rules):
        out += _check_rule((*loc, "rules", i), rule, known, voc)
    for i, lst in enumerate(block.lists):
        out += _check_list((*loc, "lists", i), lst, known, voc)
    for i, measure in enumerate(block.measures):
        out += _check_measure((*loc, "measures", i), measure, known, voc)
    if block.remove is not None:
        for kind in KINDS:
            have = getattr(known, kind)
            for j, ident in enumerate(getattr(block.remove, kind)):
                if ident not in have:
                    out.append(
                        (
                            (*loc, "remove", kind, j),
                            f"cannot remove unknown {kind[:-1]} {ident!r}",
                            f"use one of: {_some(have)}",
                        )
                    )
    return out


def _some(ids, n: int = 12) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:n]) + (" …" if len(ids) > n else "") if ids else "(none declared)"


def _category(loc: Loc, cat: str | None, voc: Vocabulary) -> Iterator[Problem]:
    if cat is not None and cat not in voc.categories:
        import difflib

        close = difflib.get_close_matches(cat, list(voc.categories), n=2)
        yield (
            loc,
            f"unknown record category {cat!r}",
            (f"did you mean {' or '.join(close)}? " if close else "")
            + "see src/socialcredit/vocabulary/categories.yaml",
        )


def _relation(loc: Loc, via: Via | None) -> Iterator[Problem]:
    if via is not None and via.relation not in RELATIONS:
        yield ((*loc, "relation"), f"unknown relation {via.relation!r}", f"use one of {', '.join(RELATIONS)}")


def _check_score(loc: Loc, score, known: Known, voc: Vocabulary) -> Iterator[Problem]:
    if isinstance(score, _Banded):
        names = [g.grade for g in score.grades]
        for j, band in enumerate(score.grades):
            if names.index(band.grade) != j:
                yield (
                    (*loc, "grades", j, "grade"),
                    f"duplicate grade {band.grade!r}",
                    "name each grade once",
                )
            last = j == len(score.grades) - 1
            if band.min is None and not last:
                yield (
                    (*loc, "grades", j, "min"),
                    "only the last (lowest) band may omit `min`",
                    "give this band its lower bound",
                )
            prev = score.grades[j - 1].min if j else None
            if j and band.min is not None and prev is not None and band.min >= prev:
                yield (
                    (*loc, "grades", j, "min"),
                    f"grade bands out of order: {band.grade} starts at {band.min:g}, not "
                    f"below {score.grades[j - 1].grade} ({prev:g})",
                    "list bands from the highest `min` to the lowest",
                )
    if isinstance(score, FactorsScore):
        total = sum(f.weight for f in score.factors)
        if abs(total - 1) > 1e-6:
            yield (
                (*loc, "factors"),
                f"factor weights sum to {total:g}, not 1",
                "adjust the weights so they add up to 1",
            )
        if score.range.min is None or score.range.max is None or score.range.min >= score.range.max:
            yield (
                (*loc, "range"),
                "a factors score needs `range: {min: …, max: …}` with min < max",
                "e.g. `range: {min: 350, max: 950}`",
            )
    if isinstance(score, TiersScore):
        for j, tier in enumerate(score.tiers):
            last = j == len(score.tiers) - 1
            if last and tier.when is not None:
                yield (
                    (*loc, "tiers", j, "when"),
                    "the last tier catches everyone else and has no `when`",
                    "remove `when` or add a final catch-all tier",
                )
            if not last and tier.when is None:
                yield (
                    (*loc, "tiers", j),
                    "only the last tier may omit `when`",
                    "give this tier its conditions",
                )
            cond = tier.when
            if cond is not None:
                for key in ("any_record", "no_record"):
                    for c, cat in enumerate(getattr(cond, key) or []):
                        yield from _category((*loc, "tiers", j, "when", key, c), cat, voc)
                for key in ("on_list", "not_on_list"):
                    for c, lst in enumerate(getattr(cond, key) or []):
                        if lst not in known.lists:
                            yield (
                                (*loc, "tiers", j, "when", key, c),
                                f"unknown list {lst!r}",
                                f"use one of: {_some(known.lists)}",
                            )


def _check_rule(loc: Loc, rule: Rule, known: Known, voc: Vocabulary) -> Iterator[Problem]:
    inputs = [k for k in ("category", "categories", "on_list") if getattr(rule, k) is not None]
    if len(inputs) != 1:
        yield (
            (*loc, inputs[1] if len(inputs) > 1 else "category"),
            "a rule reads exactly one input: `category`, `categories` or `on_list`"
            + (f"; found {', '.join(inputs)}" if inputs else ""),
            "give one of them (`categories: [a, b]` reads several record categories as one input)",
        )
    yield from _category((*loc, "category"), rule.category, voc)
    if rule.categories is not None:
        if not rule.categories:
            yield ((*loc, "categories"), "`categories` is empty", "name at least one record category")
        seen: dict[str, int] = {}
        for j, cat in enumerate(rule.categories):
            yield from _category((*loc, "categories", j), cat, voc)
            if cat in seen:
                yield (
                    (*loc, "categories", j),
                    f"category {cat!r} named twice (also categories[{seen[cat]}])",
                    "name each category once",
                )
            seen.setdefault(cat, j)
        directions = {voc.categories[c].direction for c in rule.categories if c in voc.categories}
        if len(directions) > 1:
            yield (
                (*loc, "categories"),
                "the categories of one rule mix trust-breaking and trust-keeping records",
                "split the rule: one for the breaking categories, one for the keeping ones "
                "(their default expiry differs)",
            )
    if rule.fine is not None:
        floc = (*loc, "fine")
        if rule.fine.max_yuan is not None and rule.fine.max_yuan < rule.fine.yuan:
            yield (
                (*floc, "max_yuan"),
                f"max_yuan {rule.fine.max_yuan:g} is below yuan {rule.fine.yuan:g}",
                "give the range from its lower end (`yuan`) to its upper end (`max_yuan`)",
            )
        if rule.fine.steps is not None:
            if rule.escalation is None:
                yield (
                    (*floc, "steps"),
                    "fine `steps` count the steps of the rule's `escalation`, and it has none",
                    "add `escalation: {steps: […], window: …}` or drop `steps`",
                )
            else:
                n = len(rule.escalation.steps)
                for j, k in enumerate(rule.fine.steps):
                    if not 1 <= k <= n:
                        yield (
                            (*floc, "steps", j),
                            f"step {k} is outside the escalation's steps 1..{n}",
                            f"use a step between 1 and {n}",
                        )
        if rule.on_list is not None or rule.via is not None:
            yield (
                floc,
                "a fine is imposed per record of the subject itself",
                "drop `fine` from a rule on a list or with `via`",
            )
    if rule.on_list is not None and rule.on_list not in known.lists:
        yield ((*loc, "on_list"), f"unknown list {rule.on_list!r}", f"use one of: {_some(known.lists)}")
    if rule.via is not None:
        yield from _relation((*loc, "via"), rule.via)
        if rule.via.aggregate == "share" and rule.on_list is None:
            yield (
                (*loc, "via", "aggregate"),
                "`aggregate: share` needs `on_list`",
                "use `aggregate: count` for records, or read a list",
            )
    effects = [k for k in ("points", "points_per_unit", "escalation") if getattr(rule, k) is not None]
    if len(effects) > 1 or (not effects and rule.cap_grade is None and rule.fine is None):
        yield (
            (*loc, effects[1] if len(effects) > 1 else "points"),
            "a rule needs exactly one of `points`, `points_per_unit`, `escalation` "
            f"(or only `cap_grade` or `fine`); found {effects or 'none'}",
            "keep exactly one",
        )
    if rule.brackets is not None:
        if rule.points_per_unit is None:
            yield ((*loc, "brackets"), "`brackets` need `points_per_unit`", "add it or drop them")
        aboves = [b.above for b in rule.brackets]
        for j in range(1, len(aboves)):
            if aboves[j] <= aboves[j - 1]:
                yield (
                    (*loc, "brackets", j, "above"),
                    f"brackets must rise: {aboves[j]:g} is not above {aboves[j - 1]:g}",
                    "order them by `above`",
                )
    if rule.clamp is not None and rule.clamp.min > rule.clamp.max:
        yield ((*loc, "clamp"), "clamp min is above max", "swap them")
    if rule.score is not None and rule.score not in known.scores:
        yield ((*loc, "score"), f"unknown score {rule.score!r}", f"use one of: {_some(known.scores)}")
    if rule.factor is not None:
        factors = {
            f.id
            for s in known.scores.values()
            if isinstance(s, FactorsScore) and rule.score in (None, s.id)
            for f in s.factors
        }
        if rule.factor not in factors:
            yield (
                (*loc, "factor"),
                f"unknown factor {rule.factor!r}",
                f"use a factor id of a `factors` score: {_some(factors)}",
            )
    if rule.cap_grade is not None and rule.cap_grade not in known.grades(rule.score):
        yield (
            (*loc, "cap_grade"),
            f"unknown grade {rule.cap_grade!r}",
            f"use one of: {_some(known.grades(rule.score))}",
        )
    yield from _when((*loc, "when"), rule.when)


def _when(loc: Loc, when) -> Iterator[Problem]:
    from socialcredit.rulebooks.resolve import national_or_jurisdiction

    for j, name in enumerate((when.region or []) if when else []):
        try:
            national_or_jurisdiction(name)
        except JurisdictionError as exc:
            yield ((*loc, "region", j), f"unknown region {name!r}", str(exc).split(": ", 1)[-1])


def _check_list(loc: Loc, lst: ListDef, known: Known, voc: Vocabulary) -> Iterator[Problem]:
    if lst.authority is not None and lst.authority not in voc.sources:
        yield (
            (*loc, "authority"),
            f"unknown authority {lst.authority!r}",
            f"use a source id: {_some(voc.sources)}",
        )
    if lst.kind == "black" and lst.objection_suspends is None:
        yield (
            (*loc, "objection_suspends"),
            "a black list must say whether an objection suspends entry",
            "add `objection_suspends: true` or `false`, citing the source",
        )
    for j, entry in enumerate(lst.enter):
        eloc = (*loc, "enter", j)
        ways = [
            k for k in ("category", "on_list", "score_below", "grade_in") if getattr(entry, k) is not None
        ]
        if len(ways) != 1:
            yield (
                eloc,
                f"an entry needs exactly one of category, on_list, score_below, "
                f"grade_in; found {ways or 'none'}",
                "split it into several entries",
            )
        yield from _category((*eloc, "category"), entry.category, voc)
        for s, src in enumerate(entry.by or []):
            if entry.category and not voc.authorised(src, entry.category):
                yield (
                    (*eloc, "by", s),
                    f"source {src!r} may not report {entry.category!r}",
                    f"use one of {list(voc.category(entry.category).sources)}"
                    if entry.category in voc.categories
                    else "fix the category first",
                )
        if entry.on_list is not None and entry.on_list not in known.lists:
            yield ((*eloc, "on_list"), f"unknown list {entry.on_list!r}", f"use one of: {_some(known.lists)}")
        if entry.score is not None and entry.score not in known.scores:
            yield ((*eloc, "score"), f"unknown score {entry.score!r}", f"use one of: {_some(known.scores)}")
        for g, grade in enumerate(entry.grade_in or []):
            if grade not in known.grades(entry.score):
                yield (
                    (*eloc, "grade_in", g),
                    f"unknown grade {grade!r}",
                    f"use one of: {_some(known.grades(entry.score))}",
                )
        if entry.decision and entry.category is None:
            yield (
                (*eloc, "decision"),
                "`decision: true` needs the `category` of the authority's decision record",
                "add `category:`",
            )
        for c, cat in enumerate((entry.extensions.on or []) if entry.extensions else []):
            yield from _category((*eloc, "extensions", "on", c), cat, voc)
    for j, ex in enumerate(lst.exit):
        ways = [k for k in ("category", "expiry", "repair", "decision") if getattr(ex, k)]
        if len(ways) != 1:
            yield (
                (*loc, "exit", j),
                f"an exit needs exactly one of category, expiry: true, "
                f"repair: true, decision: true; found {ways or 'none'}",
                "split it",
            )
        yield from _category((*loc, "exit", j, "category"), ex.category, voc)
    for j, via in enumerate(lst.propagate):
        yield from _relation((*loc, "propagate", j), via)


def _check_measure(loc: Loc, m: Measure, known: Known, voc: Vocabulary) -> Iterator[Problem]:
    on = m.on
    targets = [k for k, v in (("list", on.lists), ("grade", on.grade), ("score_at_least", on.threshold)) if v]
    if len(targets) != 1:
        yield (
            (*loc, "on"),
            "a measure hangs on exactly one of `list`, `grade` or a score threshold "
            f"(`score_at_least` / `score_below`); found {', '.join(targets) or 'none'}",
            "e.g. `on: {list: judgment_defaulters}`, `on: {grade: [C, D]}` or "
            "`on: {score_at_least: 650, score: sesame_score}`",
        )
    if on.threshold:
        model = known.scores.get(on.score) if on.score is not None else None
        if on.score is None:
            yield (
                (*loc, "on", "score"),
                "a score threshold needs the `score` it reads",
                f"add `score: <id>`, one of: {_some(known.scores)}",
            )
        elif model is not None and isinstance(model, TiersScore):
            yield (
                (*loc, "on", "score"),
                f"score {on.score!r} is a tiers model: it grades without a number",
                "hang the measure on its grades (`grade: [...]`) instead",
            )
        lo, hi = on.score_at_least, on.score_below
        if lo is not None and hi is not None and lo >= hi:
            yield (
                (*loc, "on", "score_below"),
                f"the band is empty: score_at_least {lo:g} is not below score_below {hi:g}",
                "give score_at_least below score_below",
            )
    for j, lst in enumerate(on.lists or []):
        if lst not in known.lists:
            yield ((*loc, "on", "list", j), f"unknown list {lst!r}", f"use one of: {_some(known.lists)}")
    if on.score is not None and on.score not in known.scores:
        yield ((*loc, "on", "score"), f"unknown score {on.score!r}", f"use one of: {_some(known.scores)}")
    for j, grade in enumerate(on.grade or []):
        if grade not in known.grades(on.score):
            yield (
                (*loc, "on", "grade", j),
                f"unknown grade {grade!r}",
                f"use one of: {_some(known.grades(on.score))}",
            )
    if m.effect == "disclose":
        if m.channel not in voc.channels:
            yield (
                (*loc, "channel"),
                f"a disclose measure needs a known `channel` (got {m.channel!r})",
                f"use one of: {_some(voc.channels)}",
            )
        if m.action is not None:
            yield (
                (*loc, "action"),
                "a disclose measure publishes on a `channel`, not an action",
                "move it to `channel:`",
            )
    else:
        if not m.action:
            yield (
                (*loc, "action"),
                f"a {m.effect} measure needs `action`",
                "name one or more actions, e.g. `action: travel.flight`",
            )
        for j, act in enumerate(m.action or []):
            if act not in voc.actions:
                import difflib

                close = difflib.get_close_matches(act, list(voc.actions), n=2)
                yield (
                    (*loc, "action", j),
                    f"unknown action {act!r}",
                    (f"did you mean {' or '.join(close)}? " if close else "")
                    + "see src/socialcredit/vocabulary/actions.yaml",
                )
            elif voc.actions[act].kind == "disclosure":
                yield (
                    (*loc, "action", j),
                    f"{act!r} is a disclosure channel",
                    "use `effect: disclose` with `channel:`",
                )
        if m.channel is not None:
            yield ((*loc, "channel"), "`channel` is only for disclose measures", "remove it")
    if m.terms is not None and m.effect != "restrict":
        yield ((*loc, "terms"), "`terms` are only for restrict measures", "remove them")
    if m.department is not None and m.department not in voc.departments:
        yield (
            (*loc, "department"),
            f"unknown department {m.department!r}",
            f"use one of: {_some(voc.departments, 40)}",
        )
    if m.via is not None:
        yield from _relation((*loc, "via"), m.via)


def _check_versions(rf: RulebookFile, inherited: Known) -> Iterator[Problem]:
    ids: set[str] = set()
    for k, version in enumerate(rf.versions):
        if version.id in ids:
            yield (("versions", k, "id"), f"duplicate version id {version.id!r}", "rename it")
        ids.add(version.id)
        prev = rf.versions[k - 1].effective if k else None
        if prev is not None and version.effective <= prev:
            yield (
                ("versions", k, "effective"),
                f"versions out of order: {version.effective} is not after {prev}",
                "list versions oldest first, each effective later",
            )
    if rf.versions and rf.versions[0].changes is not None:
        yield (
            ("versions", 0, "changes"),
            "the first version's content is the top level",
            "move these items to the top level of the file",
        )
    if rf.remove is not None:
        for kind in KINDS:
            for j, ident in enumerate(getattr(rf.remove, kind)):
                if ident not in getattr(inherited, kind):
                    yield (
                        ("remove", kind, j),
                        f"top-level `remove` drops inherited items; {ident!r} is not inherited",
                        "remove it from this list",
                    )


def _walk(model: BaseModel, loc: Loc) -> Iterator[tuple[Loc, BaseModel]]:
    yield loc, model
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = info.alias or name
        if isinstance(value, BaseModel):
            yield from _walk(value, (*loc, key))
        elif isinstance(value, list | dict):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for i, item in items:
                if isinstance(item, BaseModel):
                    yield from _walk(item, (*loc, key, i))


REQUIRED = {
    "rules",
    "lists",
    "measures",
    "scores",
    "versions",
    "scope",
    "consent",
    "warning",
    "expiry",
    "ended",
}


def _check_citations(rf: RulebookFile, known: Known) -> Iterator[Problem]:
    for loc, model in _walk(rf, ()):
        if not isinstance(model, Cited):
            continue
        if model.source is not None and model.source not in known.sources:
            yield (
                (*loc, "source"),
                f"unknown source {model.source!r}",
                f"add it under `sources:` or use one of: {_some(known.sources)}",
            )
        if model.assumed and not model.reason:
            yield (
                (*loc, "reason"),
                "`assumed: true` needs a `reason`",
                "say why the value is assumed (what the sources lack)",
            )
        container = next((p for p in reversed(loc) if isinstance(p, str)), "")
        if container in REQUIRED and not (model.source or model.assumed):
            yield (loc, "no citation", CITE_FIX)
