"""Check a test case's shape against the vocabulary and the rulebook version in force.

These checks can fail: a record on an unknown category or a subject the category does not apply
to, a source not authorised to report it, a relation between the wrong kinds of subject, an
expected list that is not in force on ``as_of``, a grade no score model has, a score where the
rulebook scores nobody of that kind, or a decision no measure in force can produce.

Example:
    >>> from socialcredit.rulebooks.cases import load_cases
    >>> [check_case_shape(c) for c in load_cases("rongcheng")][:2]
    [[], []]
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from socialcredit.errors import JurisdictionError, RulebookError
from socialcredit.rulebooks._common import RELATION_ENDS, RELATIONS
from socialcredit.rulebooks._yaml import line_of
from socialcredit.rulebooks.cases import (
    ALIAS_PATTERN,
    Case,
    Expectation,
    RelationLine,
    SubjectLine,
)
from socialcredit.rulebooks.errors import CaseError, Loc, format_loc
from socialcredit.rulebooks.loader import load_rulebook
from socialcredit.rulebooks.resolve import Rulebook, RulebookVersion, national_or_jurisdiction
from socialcredit.vocabulary import Vocabulary, vocabulary

Problem = tuple[Loc, str, str]
_SYNTHETIC = re.compile(r"^0[0-9A-Z]{17}$")
_NEEDS = {"denied": "deny", "restricted": "restrict", "rewarded": "reward"}


def check_case_shape(case: Case, *, rulebook: Rulebook | None = None) -> list[CaseError]:
    """Every shape problem of ``case`` (empty when it is well formed)."""
    book = rulebook or load_rulebook(case.rulebook)
    problems = list(_check(case, book, vocabulary()))
    base: Loc = ("cases", case.index)
    return [
        CaseError(case.file, line_of(case._lines, base + loc), format_loc(base + loc), p, fix=f)
        for loc, p, f in problems
    ]


def _check(case: Case, book: Rulebook, voc: Vocabulary) -> Iterator[Problem]:
    subjects: dict[str, str] = {}
    for j, line in enumerate(case.registry):
        if isinstance(line, SubjectLine):
            if line.id in subjects:
                yield (("registry", j, "id"), f"duplicate subject {line.id!r}", "rename one")
            if not (re.match(ALIAS_PATTERN, line.id) or _SYNTHETIC.match(line.id)):
                yield (
                    ("registry", j, "id"),
                    f"{line.id!r} is neither an alias nor a synthetic identifier",
                    "use a lowercase alias such as `alice` or `acme`",
                )
            subjects[line.id] = line.kind
            if line.region is not None:
                try:
                    national_or_jurisdiction(line.region)
                except JurisdictionError as exc:
                    yield (
                        ("registry", j, "region"),
                        f"unknown region {line.region!r}",
                        str(exc).split(": ", 1)[-1],
                    )
    for j, line in enumerate(case.registry):
        if isinstance(line, RelationLine):
            yield from _relation(j, line, subjects)
    yield from _records(case, subjects, voc)
    try:
        version = book.version_on(case.as_of)
    except RulebookError as exc:
        yield (
            ("as_of",),
            str(exc).split(" — fix: ")[0],
            f"use a date on or after {book.versions[0].effective}",
        )
        return
    for alias, exp in case.expect.items():
        if alias not in subjects:
            yield (
                ("expect", alias),
                f"{alias!r} is not in the case's registry",
                f"expect only declared subjects: {', '.join(subjects) or '(none)'}",
            )
            continue
        ended = book.ended_on
        if ended is not None and case.as_of >= ended:
            yield from _after_end(("expect", alias), exp, ended)
            continue
        yield from _expectation(("expect", alias), exp, subjects[alias], version, voc)


def _after_end(loc: Loc, exp: Expectation, ended: dt.date) -> Iterator[Problem]:
    """On or after the day a rulebook ended nothing of it applies: no score, grade, list,
    measure (fines imposed before the end may remain)."""
    fix = "expect nothing (`score: null`, `lists: []`, `allowed`), or move as_of before the end"
    if exp.score is not None or exp.grade is not None:
        yield ((*loc, "score" if exp.score is not None else "grade"), f"the rulebook ended on {ended}", fix)
    if exp.lists:
        yield ((*loc, "lists"), f"the rulebook ended on {ended}: nobody is on its lists", fix)
    for action, want in exp.decisions.items():
        if want != "allowed":
            yield ((*loc, "decisions", action), f"the rulebook ended on {ended}: no measure applies", fix)
    if exp.disclosed:
        yield ((*loc, "disclosed"), f"the rulebook ended on {ended}: nobody is published", fix)


def _relation(j: int, rel: RelationLine, subjects: dict[str, str]) -> Iterator[Problem]:
    if rel.relation not in RELATIONS:
        yield (
            ("registry", j, "relation"),
            f"unknown relation {rel.relation!r}",
            f"use one of {', '.join(RELATIONS)}",
        )
        return
    ends = RELATION_ENDS[rel.relation]
    for end, allowed in zip(("subject", "object"), ends, strict=True):
        ident = getattr(rel, end)
        if ident not in subjects:
            yield (
                ("registry", j, end),
                f"{ident!r} is not a subject of this case",
                "declare it in `registry` first",
            )
        elif subjects[ident] not in allowed:
            yield (
                ("registry", j, end),
                f"{rel.relation} needs a {' or '.join(sorted(allowed))} as {end}, not a {subjects[ident]}",
                "swap subject and object, or fix kinds",
            )
    if rel.since and rel.until and rel.until < rel.since:
        yield (("registry", j, "until"), "`until` is before `since`", "swap them")


def _records(case: Case, subjects: dict[str, str], voc: Vocabulary) -> Iterator[Problem]:
    ids: set[str] = set()
    for j, rec in enumerate(case.records):
        loc: Loc = ("records", j)
        if rec.id is not None:
            if rec.id in ids:
                yield ((*loc, "id"), f"duplicate record id {rec.id!r}", "rename or drop ids")
            ids.add(rec.id)
        kind = subjects.get(rec.subject)
        if kind is None:
            yield (
                (*loc, "subject"),
                f"{rec.subject!r} is not a subject of this case",
                "declare it in `registry` first",
            )
        cat = voc.categories.get(rec.category)
        if cat is None:
            yield (
                (*loc, "category"),
                f"unknown record category {rec.category!r}",
                "see src/socialcredit/vocabulary/categories.yaml",
            )
            continue
        if kind is not None and kind not in cat.subject_kinds:
            yield (
                (*loc, "subject"),
                f"{rec.category} applies to {', '.join(cat.subject_kinds)}, not to a {kind}",
                "pick a subject of the right kind",
            )
        if not voc.authorised(rec.source, rec.category):
            yield (
                (*loc, "source"),
                f"source {rec.source!r} may not report {rec.category}",
                f"use one of {', '.join(cat.sources)}",
            )
        if cat.unit != "count" and rec.value is None:
            yield (
                (*loc, "value"),
                f"{rec.category} is measured in {cat.unit}: give `value`",
                "add `value: …`",
            )
        when = rec.occurred_at
        day = when.date() if isinstance(when, dt.datetime) else when
        if day > case.as_of:
            yield (
                (*loc, "occurred_at"),
                f"the record ({day}) is after as_of ({case.as_of})",
                "move the record earlier or as_of later",
            )


def _expectation(
    loc: Loc, exp: Expectation, kind: str, version: RulebookVersion, voc: Vocabulary
) -> Iterator[Problem]:
    scores = version.scores_for(kind)
    if exp.score is not None and not scores:
        yield (
            (*loc, "score"),
            f"{version.rulebook} (version {version.label}) scores no {kind}",
            "use `score: null` (no score) or leave it out",
        )
    grades = {g for s in scores for g in s.grade_names}
    if exp.grade is not None and exp.grade not in grades:
        yield (
            (*loc, "grade"),
            f"unknown grade {exp.grade!r} for a {kind}",
            f"use one of: {', '.join(sorted(grades)) or '(no grades in force)'}",
        )
    for j, lst in enumerate(exp.lists or []):
        if lst not in version.lists:
            yield (
                (*loc, "lists", j),
                f"list {lst!r} is not in force on this date (version {version.label})",
                f"use one of: {', '.join(version.lists)}",
            )
    effects: dict[str, set[str]] = {}
    for m in version.measures.values():
        for act in m.actions:
            effects.setdefault(act, set()).add(m.effect)
    for action, want in exp.decisions.items():
        act = voc.actions.get(action)
        if act is None or act.kind == "disclosure":
            yield (
                (*loc, "decisions", action),
                f"unknown action {action!r}",
                "see src/socialcredit/vocabulary/actions.yaml (channels go in `disclosed`)",
            )
        elif want in _NEEDS and _NEEDS[want] not in effects.get(action, set()):
            yield (
                (*loc, "decisions", action),
                f"no measure in force (version {version.label}) can make {action} {want}",
                "fix the expectation or the date, or add the measure",
            )
    if exp.fines and not any(r.fine is not None for r in version.rules.values()):
        yield (
            (*loc, "fines"),
            f"no rule in force (version {version.label}) imposes a fine",
            "fix the expectation or the date, or add `fine:` to a rule",
        )
    for j, channel in enumerate(exp.disclosed or []):
        if "disclose" not in effects.get(channel, set()):
            yield (
                (*loc, "disclosed", j),
                f"no disclose measure in force publishes on {channel!r}",
                f"use one of: {', '.join(sorted(voc.channels))}",
            )
