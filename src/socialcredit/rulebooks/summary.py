"""A readable, JSON-ready summary of a rulebook version: what ``socialcredit rulebook show``
prints.

Rules are grouped by the Planning Outline's four key fields (government affairs integrity,
commercial integrity, social integrity, judicial credibility: facts 3.2), taken from each rule's
record category in the vocabulary; rules that read a list instead of records are grouped under
``lists``. Every item carries its citation rendered as text, and the rulebook it comes from.

Example:
    >>> s = summarise(load_rulebook("rongcheng"), "2019-06-01")
    >>> s["version"]["label"], [g["grade"] for g in s["scores"][0]["grades"]][:3]
    ('2018 + national 2018', ['AAA', 'AA', 'A'])
    >>> sorted(s["rules_by_area"])
    ['commercial', 'judicial', 'social']
    >>> s["rules_by_area"]["social"][0]["citation"]
    'rc_standard: social management / public services; facts 1.3'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from socialcredit.rulebooks._common import Cited, When
from socialcredit.rulebooks.lists import Entry, Exit, ListDef, Measure
from socialcredit.rulebooks.loader import load_rulebook
from socialcredit.rulebooks.resolve import Rulebook, RulebookVersion
from socialcredit.rulebooks.rules import Rule
from socialcredit.rulebooks.score import FactorsScore, PointsScore, TiersScore
from socialcredit.vocabulary import vocabulary

#: The Planning Outline's four key fields (GuoFa 2014 No. 21; facts 3.2), by vocabulary area.
AREA_TITLES = {
    "government": "Government affairs integrity",
    "commercial": "Commercial integrity",
    "social": "Social integrity",
    "judicial": "Judicial credibility",
    "lists": "List memberships",
}

__all__ = ["AREA_TITLES", "cite", "summarise"]


def cite(item: Cited) -> str:
    """A citation as one line: ``source: ref``, ``assumed: reason`` or both; ``UNVERIFIED``
    flagged; empty when the item has none (it then inherits its container's citation).

    Example:
        >>> cite(Cited(source="spc_2017", ref="Art. 10"))
        'spc_2017: Art. 10'
        >>> cite(Cited(assumed=True, reason="not readable", unverified=True))
        'assumed: not readable [UNVERIFIED]'
    """
    parts = []
    if item.source:
        parts.append(f"{item.source}: {item.ref}" if item.ref else item.source)
    elif item.ref:
        parts.append(item.ref)
    if item.assumed:
        parts.append(f"assumed: {item.reason}")
    text = "; ".join(parts)
    if item.unverified or item.confidence == "UNVERIFIED":
        text += " [UNVERIFIED]"
    return text.strip()


def _when(when: When | None) -> str:
    if when is None:
        return ""
    parts = []
    if when.subject_kinds:
        parts.append("kinds " + ", ".join(when.subject_kinds))
    if when.profession:
        parts.append("profession " + " or ".join(when.profession))
    if when.civil_servant is not None:
        parts.append("civil servants" if when.civil_servant else "not civil servants")
    if when.region:
        parts.append("in " + " or ".join(when.region))
    if when.min_age is not None:
        parts.append(f"age ≥ {when.min_age}")
    if when.max_age is not None:
        parts.append(f"age ≤ {when.max_age}")
    return "; ".join(parts)


def _rule(rule: Rule, origin: str) -> dict[str, Any]:
    if rule.categories is not None:
        reads = "categories " + ", ".join(rule.categories) + " (counted together)"
    else:
        reads = f"category {rule.category}" if rule.category else f"on list {rule.on_list}"
    if rule.via is not None:
        reads += f" of subjects related by {rule.via.relation} ({rule.via.aggregate})"
    conditions = "; ".join(
        x
        for x in (
            _when(rule.when),
            f"score {rule.score}" if rule.score else "",
            f"factor {rule.factor}" if rule.factor else "",
        )
        if x
    )
    return {
        "id": rule.id,
        "label": rule.label,
        "reads": reads,
        "category": rule.category,
        "on_list": rule.on_list,
        "effect": rule.describe_points(),
        "conditions": conditions,
        "fine": (
            None
            if rule.fine is None
            else {
                "yuan": rule.fine.yuan,
                "max_yuan": rule.fine.max_yuan,
                "steps": rule.fine.steps,
                "text": rule.fine.describe(),
                "citation": cite(rule.fine) or cite(rule),
            }
        ),
        "citation": cite(rule),
        "from": origin,
        "rule": rule.model_dump(mode="json", exclude_none=True, by_alias=True),
    }


def _entry(e: Entry) -> str:
    if e.category:
        how = f"record {e.category}"
        if e.min_count > 1:
            how += f" ×{e.min_count}" + (f" within {e.within}" if e.within else "")
        if e.decision:
            how += " (an authority's decision)"
        if e.by:
            how += " by " + ", ".join(e.by)
    elif e.on_list:
        how = f"on list {e.on_list}"
    elif e.score_below is not None:
        how = f"score below {e.score_below:g}" + (f" ({e.score})" if e.score else "")
    else:
        how = "grade " + ", ".join(e.grade_in or []) + (f" ({e.score})" if e.score else "")
    if e.duration:
        how += f"; for {e.duration}"
    if e.extensions:
        x = e.extensions
        how += f"; extendable by {x.min}–{x.max}"
        if x.total_max:
            how += f" (at most {x.total_max} in all)"
    return how


def _exit(x: Exit) -> str:
    if x.category:
        return f"record {x.category}"
    if x.expiry:
        return "term ends"
    if x.repair:
        return "credit repair"
    return "authority's decision"


def _list(lst: ListDef, origin: str) -> dict[str, Any]:
    return {
        "id": lst.id,
        "label": lst.label,
        "kind": lst.kind,
        "subject_kinds": list(lst.subject_kinds),
        "authority": lst.authority,
        "enter": [{"how": _entry(e), "label": e.label, "citation": cite(e)} for e in lst.enter],
        "notice": (
            None
            if lst.notice is None
            else (f"{lst.notice.days} days" if lst.notice.days is not None else "yes, period not fixed")
            + (f" ({lst.notice.label})" if lst.notice.label else "")
        ),
        "objection_suspends": lst.objection_suspends,
        "review_within": str(lst.review_within) if lst.review_within else None,
        "on_overdue": lst.on_overdue,
        "min_duration": str(lst.min_duration) if lst.min_duration else None,
        "exit": [{"how": _exit(x), "label": x.label, "citation": cite(x)} for x in lst.exit],
        "delist_within": str(lst.delist_within) if lst.delist_within else None,
        "exempt_under_age": lst.exempt.under_age if lst.exempt else None,
        "propagate": [f"{v.relation} (to {v.to})" for v in lst.propagate],
        "citation": cite(lst),
        "from": origin,
    }


def _measure(m: Measure, origin: str) -> dict[str, Any]:
    voc = vocabulary()
    target = m.on.describe()
    departments = (
        [m.department]
        if m.department
        else sorted({voc.actions[a].department for a in m.actions if a in voc.actions})
    )
    return {
        "id": m.id,
        "label": m.label,
        "on": target,
        "effect": m.effect,
        "actions": m.actions,
        "terms": m.terms.model_dump(exclude_none=True) if m.terms else None,
        "via": f"{m.via.relation} (to {m.via.to})" if m.via else None,
        "department": ", ".join(departments),
        "citation": cite(m),
        "from": origin,
    }


def _score(s: Any, origin: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "label": s.label,
        "model": s.model,
        "subject_kinds": list(s.subject_kinds),
        "citation": cite(s),
        "from": origin,
    }
    if isinstance(s, PointsScore):
        out["base"] = s.base
        if s.bounds:
            out["bounds"] = s.bounds.model_dump()
    if isinstance(s, FactorsScore):
        out["range"] = s.range.model_dump()
        out["factors"] = [{"id": f.id, "label": f.label, "weight": f.weight} for f in s.factors]
    if isinstance(s, PointsScore | FactorsScore):
        out["grades"] = [
            {
                "grade": g.grade,
                "min": g.min,
                "label": g.label,
                "citation": cite(g),
                "unverified": g.unverified,
            }
            for g in s.grades
        ]
    if isinstance(s, TiersScore):
        out["grades"] = [
            {
                "grade": t.grade,
                "label": t.label,
                "when": t.when.model_dump(mode="json", exclude_none=True) if t.when else None,
                "citation": cite(t),
                "unverified": t.unverified,
            }
            for t in s.tiers
        ]
    return out


def _options(v: RulebookVersion) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("scope", "consent", "warning", "expiry"):
        opt = getattr(v.options, name)
        if opt is not None:
            data = opt.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
            for key in ("source", "ref", "assumed", "reason", "unverified", "confidence"):
                data.pop(key, None)
            data["citation"] = cite(opt)
            out[name] = data
    return out


def _area(rule: Rule) -> str:
    if not rule.cats:
        return "lists"
    cat = vocabulary().categories.get(rule.cats[0])
    return cat.area if cat is not None else "lists"


def _change(book: Rulebook, day: dt.date) -> str:
    """What changed on ``day``: this file's version summary, or (prefixed with its id) the
    summary of the extended rulebook that changed."""
    node: Rulebook | None = book
    while node is not None:
        for header in node.file.versions:
            if header.effective == day:
                return header.summary if node is book else f"{node.id}: {header.summary}"
        node = node.parent
    return ""


def summarise(book: Rulebook | str, on: dt.date | str | None = None) -> dict[str, Any]:
    """The version of ``book`` in force ``on`` a date (default: the latest) as JSON-ready data."""
    if not isinstance(book, Rulebook):
        book = load_rulebook(book)
    v = book.latest if on is None else book.version_on(on)
    origin = v.origin
    rules_by_area: dict[str, list[dict[str, Any]]] = {}
    for rule in v.rules.values():
        rules_by_area.setdefault(_area(rule), []).append(_rule(rule, origin.get(("rules", rule.id), book.id)))
    order = list(AREA_TITLES)
    rules_by_area = dict(sorted(rules_by_area.items(), key=lambda kv: order.index(kv[0])))
    return {
        "id": book.id,
        "title": book.title,
        "description": book.description.strip(),
        "jurisdiction": {
            "name": book.jurisdiction.name,
            "code": book.jurisdiction.code,
            "level": book.jurisdiction.level,
        },
        "extends": list(book.chain[1:]),
        "status": book.status,
        "ended": (
            None
            if book.file.ended is None
            else {
                "on": book.file.ended.on.isoformat(),
                "note": book.file.ended.note,
                "citation": cite(book.file.ended),
            }
        ),
        "path": str(book.path),
        "version": {
            "id": v.id,
            "label": v.label,
            "effective": v.effective.isoformat(),
            "summary": v.summary,
            "based_on": dict(v.based_on),
        },
        "versions": [
            {
                "id": x.id,
                "label": x.label,
                "effective": x.effective.isoformat(),
                "summary": x.summary,
                "change": _change(book, x.effective),
                "citation": cite(x.header),
            }
            for x in book.versions
        ],
        "options": _options(v),
        "scores": [_score(s, origin.get(("scores", s.id), book.id)) for s in v.scores.values()],
        "rules_by_area": rules_by_area,
        "lists": [_list(x, origin.get(("lists", x.id), book.id)) for x in v.lists.values()],
        "measures": [_measure(m, origin.get(("measures", m.id), book.id)) for m in v.measures.values()],
        "sources": {sid: doc.model_dump(mode="json", exclude_none=True) for sid, doc in book.sources.items()},
    }
