"""Errors that point into a rulebook or case file: file, line, field, what is wrong, how to fix it.

Example:
    >>> err = RulebookFileError(
    ...     "rulebooks/bad.yaml", 14, "rules[3].points", "expected a number, got 'ten'",
    ...     fix="write the points as a number, e.g. `points: -10`",
    ... )
    >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
    rulebooks/bad.yaml:14: rules[3].points: expected a number, got 'ten'
    — fix: write the points as a number, e.g. `points: -10`
    >>> (err.file, err.line, err.field)
    ('rulebooks/bad.yaml', 14, 'rules[3].points')
"""

from __future__ import annotations

from collections.abc import Sequence

from socialcredit.errors import RulebookError

Loc = tuple[str | int, ...]
DOCS = "docs/rulebooks.md"


def format_loc(loc: Sequence[str | int]) -> str:
    """Render a location path the way an author reads it.

    Example:
        >>> format_loc(("versions", 1, "changes", "rules", 0, "points"))
        'versions[1].changes.rules[0].points'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class RulebookFileError(RulebookError):
    """A problem at a place in a rulebook (or case) file.

    Attributes:
        file: the file as the user named it (relative to the working directory when possible).
        line: 1-based line number, or 0 when the whole file is at fault.
        field: the dotted path of the field (``rules[3].points``), or ``""`` for the file.
        problem: what is wrong.
        fix: how to fix it.
    """

    def __init__(self, file: str, line: int, field: str, problem: str, *, fix: str = "") -> None:
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        head = f"{where}: {self.field}: " if self.field else f"{where}: "
        tail = f" — fix: {self.fix}" if self.fix else ""
        return head + self.problem + tail

    def to_dict(self) -> dict[str, object]:
        """The error as JSON-ready data (for ``--json`` output)."""
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "problem": self.problem,
            "fix": self.fix,
        }


class RulebookInvalid(RulebookFileError):
    """Raised by :func:`load_rulebook` when a file has problems; ``problems`` holds them all."""

    def __init__(self, problems: Sequence[RulebookFileError]) -> None:
        first = problems[0]
        self.problems = list(problems)
        super().__init__(first.file, first.line, first.field, first.problem, fix=first.fix)
        more = len(problems) - 1
        if more:
            self.args = (
                f"{self.args[0]}\n(and {more} more problem{'s' * (more > 1)}: "
                f"run `socialcredit rulebook lint {first.file}` to see all)",
            )


class CaseError(RulebookFileError):
    """A rulebook test-case file, or one case in it, is malformed."""
