"""The rulebook file: header, sources, dated versions, options, scores, rules, lists, measures.

The top level holds the content of the first version; each later entry of ``versions`` may carry
``changes``: items that replace earlier ones by id or add new ones, ``remove`` to drop items, and
option fields that replace earlier ones. History stays readable: a rule changes through a new
dated version, never by editing the old one. ``extends`` composes files the same way: the
extending rulebook's items override inherited ones by id.

Example:
    >>> rf = RulebookFile.model_validate({
    ...     "id": "demo", "title": "Demo", "jurisdiction": "Generic City",
    ...     "sources": {"s": {"title": "T", "publisher": "P", "date": "2020",
    ...                       "url": "https://example.org", "confidence": "M"}},
    ...     "versions": [{"id": "v1", "effective": "2020-01-01", "summary": "first",
    ...                   "source": "s"}]})
    >>> rf.versions[0].effective.isoformat(), rf.rules
    ('2020-01-01', [])
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from socialcredit.rulebooks._common import (
    Cited,
    Confidence,
    Duration,
    Ident,
    Model,
    Name,
    StrList,
    SubjectKind,
)
from socialcredit.rulebooks.lists import ListDef, Measure
from socialcredit.rulebooks.rules import Rule
from socialcredit.rulebooks.score import ScoreModel


def _date_text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


PartialDate = Annotated[str, BeforeValidator(_date_text), Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]


class SourceDoc(Model):
    """A document rules cite: title, publisher, date (``YYYY``, ``YYYY-MM`` or a full date;
    ``null`` when the source gives none), URL (or a ``file`` under ``../shared``), and the
    confidence tag facts.md gives it (``facts``: the section)."""

    title: str
    publisher: str
    date: PartialDate | None
    url: str | None = None
    file: str | None = None
    confidence: Confidence
    facts: Name | None = None
    also: StrList | None = None
    note: str | None = None


class Scope(Cited):
    """Who the rulebook applies to."""

    subject_kinds: list[SubjectKind] | None = None
    min_age: int | None = Field(None, ge=0)
    residents_only: bool = False
    note: str | None = None


class Consent(Cited):
    """Whether subjects are scored only with their consent (Rongcheng's newer rules)."""

    required: bool
    without_consent: str | None = None


class WarningPolicy(Cited):
    """Warning before punishment: a subject is warned before a punishing measure applies."""

    before_punishment: bool
    days: int | None = Field(None, ge=0)


class Expiry(Cited):
    """Default expiry of records' effect where a rule sets no ``expires_after``."""

    after: Duration
    applies_to: Literal["breaking", "keeping", "all"] = "breaking"


class Options(Model):
    """Rulebook-wide options; in ``changes`` and in extending rulebooks each given field
    replaces the earlier one."""

    scope: Scope | None = None
    consent: Consent | None = None
    warning: WarningPolicy | None = None
    expiry: Expiry | None = None


class Removals(Model):
    """Ids to drop from earlier versions or inherited rulebooks."""

    scores: StrList = Field(default_factory=list)
    rules: StrList = Field(default_factory=list)
    lists: StrList = Field(default_factory=list)
    measures: StrList = Field(default_factory=list)


class Content(Model):
    """What a version declares: options, score models, rules, lists and measures."""

    options: Options | None = None
    scores: list[ScoreModel] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    lists: list[ListDef] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    remove: Removals | None = None


class VersionHeader(Cited):
    """A dated version; the first describes the top-level content, later ones carry
    ``changes``."""

    id: Name
    effective: dt.date
    summary: str
    changes: Content | None = None


def _ended(value: Any) -> Any:
    """Accept ``ended: 2011-01-01`` as ``{on: 2011-01-01}`` (the citation check then asks for a
    source)."""
    return {"on": value} if isinstance(value, dt.date | str) else value


class Ended(Cited):
    """When a rulebook stopped applying (``status: ended``): on and after ``on`` the engine
    applies none of its rules."""

    on: dt.date
    note: str | None = None


class RulebookFile(Content):
    """A rulebook as written in YAML (before ``extends`` and versions are resolved).

    ``status`` says whether the scheme is ``active``, a ``pilot`` or ``ended``; an ended one
    gives the day it ended in ``ended`` (cited), from which the engine applies none of its rules.
    """

    id: Ident
    title: str
    description: str | None = None
    jurisdiction: str
    extends: str | None = None
    status: Literal["active", "ended", "pilot"] = "active"
    ended: Annotated[Ended, BeforeValidator(_ended)] | None = None
    sources: dict[str, SourceDoc] = Field(default_factory=dict)
    versions: list[VersionHeader] = Field(min_length=1)


KINDS = ("scores", "rules", "lists", "measures")
