"""Resolve a rulebook file into dated, complete versions, with ``extends`` applied.

Each version of a file is the previous one plus its ``changes`` (items replace by id, ``remove``
drops them, option fields replace). An extending rulebook's version in force on a date is the
parent's version in force on that date overlaid with its own: its items override inherited ones
by id. The resolved timeline has a version wherever either file changes, from the extending
rulebook's first effective date on.

Example:
    >>> from socialcredit.rulebooks import load_rulebook
    >>> rc = load_rulebook("rongcheng")
    >>> v = rc.version_on("2019-06-01")
    >>> v.label, "judgment_defaulters" in v.lists, v.origin[("lists", "judgment_defaulters")]
    ('2018 + national 2018', True, 'national')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from socialcredit.errors import RulebookError
from socialcredit.regions import Jurisdiction, jurisdiction
from socialcredit.rulebooks.lists import ListDef, Measure
from socialcredit.rulebooks.rules import Rule
from socialcredit.rulebooks.schema import (
    KINDS,
    Content,
    Options,
    RulebookFile,
    SourceDoc,
    VersionHeader,
)

#: The national level has no row in the synthetic jurisdictions table; rulebooks name it ``China``.
NATIONAL = Jurisdiction(
    code="000000",
    name="China",
    name_zh="中国",
    level="national",
    province="",
    real_code="",
    note="The national level: sectoral lists and joint measures, no single score (facts.md).",
)
_NATIONAL_NAMES = {"china", "national", "中国", "prc"}


def national_or_jurisdiction(name: str) -> Jurisdiction:
    """Resolve a rulebook's ``jurisdiction``: ``China`` (national) or a synthetic jurisdiction."""
    if name.strip().lower() in _NATIONAL_NAMES:
        return NATIONAL
    return jurisdiction(name)


@dataclass(frozen=True)
class RulebookVersion:
    """Everything in force during one period: options, scores, rules, lists and measures.

    ``origin[(kind, id)]`` names the rulebook an item comes from; ``based_on`` maps each
    extended rulebook to its version in force.
    """

    rulebook: str
    id: str
    effective: dt.date
    summary: str
    header: VersionHeader
    based_on: dict[str, str] = field(default_factory=dict)
    options: Options = field(default_factory=Options)
    scores: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    lists: dict[str, ListDef] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    origin: dict[tuple[str, str], str] = field(default_factory=dict)
    removed: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``"2021 + national 2018"``: this version and the versions it builds on."""
        parts = [self.id] + [f"{rb} {v}" for rb, v in self.based_on.items()]
        return " + ".join(parts)

    def scores_for(self, kind: str) -> list[Any]:
        """The score models that apply to subjects of ``kind``."""
        return [s for s in self.scores.values() if kind in s.subject_kinds]

    def grades(self) -> set[str]:
        """Every grade name of every score model in force."""
        return {g for s in self.scores.values() for g in s.grade_names}


def _merge_options(base: Options, top: Options | None) -> Options:
    if top is None:
        return base
    given = {k: getattr(top, k) for k in Options.model_fields if getattr(top, k) is not None}
    return base.model_copy(update=given)


def apply(prev: RulebookVersion, block: Content, source: str) -> RulebookVersion:
    """``prev`` with ``block`` applied: removals, then items by id, then options."""
    removed = {k: set(prev.removed.get(k, ())) for k in KINDS}
    origin = dict(prev.origin)
    out: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        items = dict(getattr(prev, kind))
        for ident in getattr(block.remove, kind, []) if block.remove else []:
            items.pop(ident, None)
            origin.pop((kind, ident), None)
            removed[kind].add(ident)
        for item in getattr(block, kind):
            items[item.id] = item
            origin[(kind, item.id)] = source
            removed[kind].discard(item.id)
        out[kind] = items
    return replace(
        prev,
        options=_merge_options(prev.options, block.options),
        origin=origin,
        removed={k: frozenset(v) for k, v in removed.items()},
        **out,
    )


def overlay(parent: RulebookVersion, own: RulebookVersion) -> RulebookVersion:
    """The parent's version with ``own``'s removals and items applied on top."""
    block = Content(
        options=own.options,
        remove={k: sorted(own.removed.get(k, ())) for k in KINDS},
        **{k: list(getattr(own, k).values()) for k in KINDS},
    )
    merged = apply(replace(parent, removed={}), block, own.rulebook)
    based = {parent.rulebook: parent.id, **parent.based_on}
    return replace(
        merged,
        rulebook=own.rulebook,
        id=own.id,
        summary=own.summary,
        header=own.header,
        based_on=based,
        removed=own.removed,
    )


def own_versions(rf: RulebookFile) -> list[RulebookVersion]:
    """The file's versions on their own, each complete (before ``extends``)."""
    first = rf.versions[0]
    current = apply(RulebookVersion(rf.id, first.id, first.effective, first.summary, first), rf, rf.id)
    out = [current]
    for header in rf.versions[1:]:
        current = replace(
            current, id=header.id, effective=header.effective, summary=header.summary, header=header
        )
        if header.changes is not None:
            current = apply(current, header.changes, rf.id)
        out.append(current)
    return out


def _on(versions: tuple[RulebookVersion, ...] | list[RulebookVersion], day: dt.date):
    in_force = [v for v in versions if v.effective <= day]
    return in_force[-1] if in_force else None


@dataclass(frozen=True)
class Rulebook:
    """A loaded rulebook: ``extends`` applied, versions resolved. See :func:`load_rulebook`."""

    id: str
    title: str
    description: str
    path: Path
    file: RulebookFile
    jurisdiction: Jurisdiction
    parent: Rulebook | None
    sources: dict[str, SourceDoc]
    versions: tuple[RulebookVersion, ...]

    @property
    def chain(self) -> tuple[str, ...]:
        """This rulebook's id, then the ids it extends, nearest first."""
        return (self.id, *(self.parent.chain if self.parent else ()))

    @property
    def latest(self) -> RulebookVersion:
        return self.versions[-1]

    @property
    def status(self) -> str:
        """``active``, ``pilot`` or ``ended`` (the file's ``status``)."""
        return self.file.status

    @property
    def ended_on(self) -> dt.date | None:
        """The day the rulebook ended (``status: ended``), from which the engine applies none of
        its rules; ``None`` while it applies.

        Example:
            >>> from socialcredit.rulebooks import load_rulebook
            >>> load_rulebook("national").ended_on is None
            True
        """
        return self.file.ended.on if self.file.status == "ended" and self.file.ended else None

    def in_force(self, day: dt.date | str) -> bool:
        """True when some version is in force on ``day`` and the rulebook has not ended."""
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        ended = self.ended_on
        return self.versions[0].effective <= day and (ended is None or day < ended)

    @property
    def cases_path(self) -> Path:
        """Where this rulebook's test cases live: ``<stem>.cases.yaml`` beside it."""
        return self.path.with_name(self.path.name.removesuffix(".yaml") + ".cases.yaml")

    def version_on(self, day: dt.date | str) -> RulebookVersion:
        """The version in force on ``day`` (the latest with ``effective <= day``). For an ended
        rulebook it still answers with the last version's text; the engine applies none of it
        from ``ended_on`` (see :meth:`in_force`).

        Raises:
            RulebookError: when ``day`` is before the first version.
        """
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        found = _on(self.versions, day)
        if found is None:
            raise RulebookError(
                f"rulebook {self.id!r} has no version in force on {day}: its first version "
                f"takes effect on {self.versions[0].effective} — fix: use a later date"
            )
        return found


def resolve(rf: RulebookFile, parent: Rulebook | None, path: Path) -> Rulebook:
    """Build the :class:`Rulebook` for a checked file and its loaded parent."""
    own = own_versions(rf)
    if parent is None:
        versions = own
    else:
        start = own[0].effective
        days = sorted(
            {v.effective for v in own} | {v.effective for v in parent.versions if v.effective > start}
        )
        versions = []
        for day in days:
            mine = _on(own, day)
            theirs = _on(parent.versions, day)
            merged = overlay(theirs, mine) if theirs is not None else mine
            versions.append(replace(merged, effective=day))
    sources = {**(parent.sources if parent else {}), **rf.sources}
    return Rulebook(
        id=rf.id,
        title=rf.title,
        description=rf.description or "",
        path=path,
        file=rf,
        jurisdiction=national_or_jurisdiction(rf.jurisdiction),
        parent=parent,
        sources=sources,
        versions=tuple(versions),
    )
