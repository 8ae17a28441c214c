"""The vocabularies shared by every layer: record categories, data sources and actions.

The data lives in YAML beside this module; authority (which source may report which category) is
declared once, on each category. Every category and action cites where the source documents name
it (``cite``: a seed file or a section of ``facts.md``). Loading rejects unknown keys and unknown
values by name.

Example:
    >>> from socialcredit.vocabulary import vocabulary
    >>> vocabulary().authorised("court", "judicial.judgment_default")
    True
    >>> vocabulary().authorised("railway", "judicial.judgment_default")
    False
    >>> vocabulary().category("rail.smoking").area
    'social'
    >>> vocabulary().action("travel.flight").department
    'civil_aviation'
    >>> "disclose.caller_ringtone" in vocabulary().channels
    True
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from socialcredit.errors import VocabularyError

AREAS = ("government", "commercial", "social", "judicial")
DIRECTIONS = ("breaking", "keeping")
SUBJECT_KINDS = ("person", "organisation", "government", "vehicle", "dog")
UNITS = ("count", "yuan", "hours", "points")
SOURCE_KINDS = ("department", "institution", "platform", "collector", "citizen")
ACTION_KINDS = ("restriction", "reward", "disclosure")

_CATEGORY_KEYS = ("id", "area", "direction", "unit", "description", "subject_kinds", "sources")
_ACTION_KEYS = ("id", "department", "kind", "description")
_SOURCE_KEYS = ("id", "name", "kind", "description")
_OPTIONAL_KEYS = ("cite", "note")


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of credit record (``traffic.red_light``).

    ``cite`` says where the source documents name it (e.g. ``"seed 000; facts 5.4"``).
    """

    id: str
    area: str
    direction: str
    unit: str
    description: str
    subject_kinds: tuple[str, ...]
    sources: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    cite: str = ""


@dataclass(frozen=True, slots=True)
class Source:
    """A data source allowed to write records (a department, platform, collector or citizens)."""

    id: str
    name: str
    kind: str
    description: str


@dataclass(frozen=True, slots=True)
class Action:
    """Something a decision is asked about (``travel.flight``), with the implementing department.

    ``kind`` is ``restriction``, ``reward`` or ``disclosure`` (a publication channel).
    """

    id: str
    department: str
    kind: str
    description: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    cite: str = ""


def _unknown(what: str, value: str, known: Any, hint: str) -> VocabularyError:
    close = difflib.get_close_matches(value, list(known), n=3)
    maybe = f" (did you mean {', '.join(close)}?)" if close else ""
    return VocabularyError(f"unknown {what} {value!r}{maybe}: {hint}")


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
        """The category ``category_id``; raises :class:`VocabularyError` naming close matches."""
        try:
            return self.categories[category_id]
        except KeyError:
            raise _unknown(
                "record category",
                category_id,
                self.categories,
                "see `socialcredit sources list` or docs/records.md for the catalog",
            ) from None

    def action(self, action_id: str) -> Action:
        """The action ``action_id``; raises :class:`VocabularyError` naming close matches."""
        try:
            return self.actions[action_id]
        except KeyError:
            raise _unknown(
                "action",
                action_id,
                self.actions,
                "see src/socialcredit/vocabulary/actions.yaml for the catalog",
            ) from None

    @property
    def channels(self) -> dict[str, Action]:
        """The disclosure channels (actions of kind ``disclosure``) for ``disclose`` measures."""
        return {a.id: a for a in self.actions.values() if a.kind == "disclosure"}

    @property
    def departments(self) -> frozenset[str]:
        """Every department that implements measures (from the actions) or reports records."""
        return frozenset(a.department for a in self.actions.values()) | frozenset(self.sources)


def _load(name: str) -> list[dict[str, Any]]:
    text = resources.files("socialcredit.vocabulary").joinpath(name).read_text("utf-8")
    return yaml.safe_load(text) or []


def _split(
    row: dict[str, Any], names: tuple[str, ...], *, file: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``row`` into required ``names`` and optional keys; reject missing or unknown keys."""
    missing = [k for k in names if k not in row]
    unknown = [k for k in row if k not in names and k not in _OPTIONAL_KEYS]
    ident = row.get("id", "?")
    if missing or unknown:
        raise VocabularyError(
            f"{file}: entry {ident!r}: "
            + (f"missing {missing} " if missing else "")
            + (f"unknown keys {unknown} " if unknown else "")
            + f"— fix: use exactly {list(names)} plus optional {list(_OPTIONAL_KEYS)}"
        )
    return {k: row[k] for k in names}, {k: v for k, v in row.items() if k not in names}


def _check(file: str, ident: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise VocabularyError(
            f"{file}: entry {ident!r}: {key} {value!r} is not one of {list(allowed)} — fix: use one"
        )


def _categories(sources: dict[str, Source]) -> dict[str, Category]:
    out: dict[str, Category] = {}
    for row in _load("categories.yaml"):
        known, extra = _split(row, _CATEGORY_KEYS, file="categories.yaml")
        ident = known["id"]
        if ident in out:
            raise VocabularyError(f"categories.yaml: duplicate category {ident!r} — fix: rename one")
        _check("categories.yaml", ident, "area", known["area"], AREAS)
        _check("categories.yaml", ident, "direction", known["direction"], DIRECTIONS)
        _check("categories.yaml", ident, "unit", known["unit"], UNITS)
        for kind in known["subject_kinds"]:
            _check("categories.yaml", ident, "subject kind", kind, SUBJECT_KINDS)
        unknown = [s for s in known["sources"] if s not in sources]
        if unknown:
            raise VocabularyError(
                f"category {ident!r} names unknown sources {unknown} — fix: add them to "
                "sources.yaml or use one of " + ", ".join(sources)
            )
        known["subject_kinds"] = tuple(known["subject_kinds"])
        known["sources"] = tuple(known["sources"])
        cite = str(extra.pop("cite", ""))
        out[ident] = Category(**known, extra=extra, cite=cite)
    return out


def _actions() -> dict[str, Action]:
    out: dict[str, Action] = {}
    for row in _load("actions.yaml"):
        known, extra = _split(row, _ACTION_KEYS, file="actions.yaml")
        ident = known["id"]
        if ident in out:
            raise VocabularyError(f"actions.yaml: duplicate action {ident!r} — fix: rename one")
        _check("actions.yaml", ident, "kind", known["kind"], ACTION_KINDS)
        cite = str(extra.pop("cite", ""))
        out[ident] = Action(**known, extra=extra, cite=cite)
    return out


@cache
def vocabulary() -> Vocabulary:
    """The built-in vocabulary (loaded once)."""
    sources: dict[str, Source] = {}
    for row in _load("sources.yaml"):
        known, _ = _split(row, _SOURCE_KEYS, file="sources.yaml")
        _check("sources.yaml", known["id"], "kind", known["kind"], SOURCE_KINDS)
        sources[known["id"]] = Source(**known)
    return Vocabulary(categories=_categories(sources), sources=sources, actions=_actions())
