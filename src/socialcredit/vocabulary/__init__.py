"""The vocabularies shared by every layer: record categories, data sources and actions.

The data lives in YAML beside this module; authority (which source may report which category) is
declared once, on each category.

Example:
    >>> from socialcredit.vocabulary import vocabulary
    >>> vocabulary().authorised("court", "judicial.judgment_default")
    True
    >>> vocabulary().authorised("railway", "judicial.judgment_default")
    False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from socialcredit.errors import VocabularyError

AREAS = ("government", "commercial", "social", "judicial")
DIRECTIONS = ("breaking", "keeping")
SUBJECT_KINDS = ("person", "organisation", "government", "vehicle", "dog")


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of credit record (``traffic.red_light``)."""

    id: str
    area: str
    direction: str
    unit: str
    description: str
    subject_kinds: tuple[str, ...]
    sources: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Source:
    """A data source allowed to write records (a department, platform, collector or citizens)."""

    id: str
    name: str
    kind: str
    description: str


@dataclass(frozen=True, slots=True)
class Action:
    """Something a decision is asked about (``travel.flight``), with the implementing department."""

    id: str
    department: str
    kind: str
    description: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Vocabulary:
    """Categories, sources and actions, with the authority relation between them."""

    categories: dict[str, Category]
    sources: dict[str, Source]
    actions: dict[str, Action]

    def authorised(self, source: str, category: str) -> bool:
        """May ``source`` report records of ``category``?"""
        cat = self.categories.get(category)
        return cat is not None and source in cat.sources

    def categories_for(self, source: str) -> list[str]:
        """The categories ``source`` may report, sorted."""
        return sorted(c.id for c in self.categories.values() if source in c.sources)

    def category(self, category_id: str) -> Category:
        try:
            return self.categories[category_id]
        except KeyError:
            raise VocabularyError(
                f"unknown record category {category_id!r}: see `socialcredit sources list` "
                "or docs/records.md for the catalog"
            ) from None


def _load(name: str) -> list[dict[str, Any]]:
    text = resources.files("socialcredit.vocabulary").joinpath(name).read_text("utf-8")
    return yaml.safe_load(text) or []


def _split(row: dict[str, Any], names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    known = {k: row[k] for k in names if k in row}
    return known, {k: v for k, v in row.items() if k not in names}


@cache
def vocabulary() -> Vocabulary:
    """The built-in vocabulary (loaded once)."""
    sources = {r["id"]: Source(**r) for r in _load("sources.yaml")}
    categories: dict[str, Category] = {}
    for row in _load("categories.yaml"):
        known, extra = _split(row, ("id", "area", "direction", "unit", "description"))
        kinds = tuple(extra.pop("subject_kinds"))
        srcs = tuple(extra.pop("sources"))
        unknown = [s for s in srcs if s not in sources]
        if unknown:
            raise VocabularyError(f"category {row['id']!r} names unknown sources {unknown}")
        categories[row["id"]] = Category(**known, subject_kinds=kinds, sources=srcs, extra=extra)
    actions: dict[str, Action] = {}
    for row in _load("actions.yaml"):
        known, extra = _split(row, ("id", "department", "kind", "description"))
        actions[row["id"]] = Action(**known, extra=extra)
    return Vocabulary(categories=categories, sources=sources, actions=actions)
