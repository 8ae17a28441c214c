"""The registry contract: who exists, and how they are related on a given day.

Subjects are persons, organisations, government bodies, vehicles and dogs. Relations are dated:
valid from ``since`` (inclusive; open when absent) until ``until`` (exclusive: the day the
relation ended; open when absent). Registry lines are applied in order: a later subject line
with the same ``id`` replaces the earlier one (a new profession, a new region); a later relation
line with the same ``(relation, subject, object, since)`` replaces it (typically adding
``until``: a friendship cut, a job lost).

This module is pure data (pyarrow tables); the ledger stores registry lines and builds a
:class:`Registry` from them, the engine reads it.

Example:
    >>> reg = Registry.from_lines([
    ...     {"id": "A", "kind": "person", "name": "A"},
    ...     {"id": "C", "kind": "organisation", "name": "C"},
    ...     {"relation": "legal_representative_of", "subject": "A", "object": "C",
    ...      "since": "2017-01-01"},
    ...     {"relation": "legal_representative_of", "subject": "A", "object": "C",
    ...      "since": "2017-01-01", "until": "2018-01-01"},
    ... ])
    >>> reg.relations.num_rows, reg.relations_on("2017-06-01").num_rows
    (1, 1)
    >>> reg.relations_on("2018-01-01").num_rows
    0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

SUBJECT_KINDS: tuple[str, ...] = ("person", "organisation", "government", "vehicle", "dog")
RELATION_KINDS: tuple[str, ...] = (
    "parent_of",
    "spouse_of",
    "friend_of",
    "employee_of",
    "legal_representative_of",
    "partner_of",
    "owner_of",
)
SUBJECT_REQUIRED: tuple[str, ...] = ("id", "kind", "name")
#: ``consent`` (true/false): the subject agreed to be scored where a rulebook requires consent
#: (Sesame's opt-in platform, Rongcheng from 2021). Absent means unknown, which counts as no.
SUBJECT_OPTIONAL: tuple[str, ...] = ("region", "profession", "nationality", "consent")
RELATION_REQUIRED: tuple[str, ...] = ("relation", "subject", "object")
RELATION_OPTIONAL: tuple[str, ...] = ("since", "until")

SUBJECTS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("name", pa.string()),
        ("region", pa.string()),
        ("profession", pa.string()),
        ("nationality", pa.string()),
        ("consent", pa.bool_()),
    ]
)
RELATIONS_SCHEMA = pa.schema(
    [
        ("relation", pa.string()),
        ("subject", pa.string()),
        ("object", pa.string()),
        ("since", pa.date32()),
        ("until", pa.date32()),
    ]
)


def is_relation_line(line: Mapping[str, Any]) -> bool:
    """A registry line is a relation when it has a ``relation`` key, else a subject."""
    return "relation" in line


def as_date(value: object) -> dt.date | None:
    """``None``, a date, or an ISO date string (``YYYY-MM-DD``) as a date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip()[:10])
    raise ValueError(f"expected an ISO date, got {type(value).__name__}")


@dataclass(frozen=True)
class Registry:
    """Subjects and relations (all of them, with their dates), as pyarrow tables."""

    subjects: pa.Table
    relations: pa.Table

    @classmethod
    def empty(cls) -> Registry:
        return cls(SUBJECTS_SCHEMA.empty_table(), RELATIONS_SCHEMA.empty_table())

    @classmethod
    def from_lines(cls, lines: Iterable[Mapping[str, Any]]) -> Registry:
        """Fold registry lines (already validated) in order into the current registry."""
        subjects: dict[str, dict[str, Any]] = {}
        relations: dict[tuple[Any, ...], dict[str, Any]] = {}
        for line in lines:
            if is_relation_line(line):
                since = as_date(line.get("since"))
                key = (line["relation"], line["subject"], line["object"], since)
                relations[key] = {
                    "relation": line["relation"],
                    "subject": line["subject"],
                    "object": line["object"],
                    "since": since,
                    "until": as_date(line.get("until")),
                }
            else:
                subjects[line["id"]] = {name: line.get(name) for name in SUBJECTS_SCHEMA.names}
        return cls(
            pa.Table.from_pylist(list(subjects.values()), schema=SUBJECTS_SCHEMA),
            pa.Table.from_pylist(list(relations.values()), schema=RELATIONS_SCHEMA),
        )

    def relations_on(self, day: dt.date | str, kinds: Iterable[str] | None = None) -> pa.Table:
        """Relations valid on ``day`` (``since <= day < until``), optionally of some kinds."""
        d = as_date(day)
        rel = self.relations
        started = pc.or_kleene(pc.is_null(rel["since"]), pc.less_equal(rel["since"], d))
        not_ended = pc.or_kleene(pc.is_null(rel["until"]), pc.greater(rel["until"], d))
        mask = pc.and_kleene(started, not_ended)
        if kinds is not None:
            mask = pc.and_kleene(mask, pc.is_in(rel["relation"], pa.array(list(kinds))))
        return rel.filter(mask)

    def subject(self, subject_id: str) -> dict[str, Any] | None:
        """One subject's registry entry, or ``None``."""
        hit = self.subjects.filter(pc.equal(self.subjects["id"], subject_id))
        return hit.to_pylist()[0] if hit.num_rows else None

    def __contains__(self, subject_id: object) -> bool:
        return self.subject(str(subject_id)) is not None
