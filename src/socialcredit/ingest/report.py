"""What an ingest or a registry import did: counts, rejects, files that could not be read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from socialcredit.ledger import Reject

__all__ = ["RECORD_REASONS", "REGISTRY_REASONS", "FileError", "IngestReport", "Reject"]

#: Reject reasons for records, in the order they are checked (the first that applies is given).
RECORD_REASONS: tuple[str, ...] = (
    "malformed",
    "unknown_field",
    "missing_field",
    "bad_type",
    "bad_identifier",
    "unknown_subject",
    "unknown_category",
    "unauthorized_source",
    "future",
    "conflict",
)
#: Reject reasons for registry lines, in the order they are checked.
REGISTRY_REASONS: tuple[str, ...] = (
    "malformed",
    "unknown_field",
    "missing_field",
    "bad_type",
    "bad_identifier",
    "unknown_subject",
)


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be read at all (missing, unreadable, not the format it claims)."""

    file: str
    message: str


@dataclass
class IngestReport:
    """Counts and rejects of one ``ingest`` or ``registry import`` run over some files.

    ``accepted`` lines were appended; ``duplicates`` were already there (same id and canonical
    form for records, the same current line for the registry) and change nothing; ``rejected``
    lines are in :attr:`rejects` and in the quarantine table.
    """

    accepted: int = 0
    duplicates: int = 0
    rejects: list[Reject] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    @property
    def exit_code(self) -> int:
        """0 all accepted or duplicates, 1 some rejected, 2 a file could not be read."""
        if self.errors:
            return 2
        return 1 if self.rejects else 0

    def by_reason(self) -> dict[str, int]:
        """Rejects per reason, most frequent first."""
        return dict(Counter(r.reason for r in self.rejects).most_common())

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: accepted, duplicates, rejected, rejects."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejects": [r.to_dict() for r in self.rejects],
        }
