"""Rulebook test cases: YAML beside each rulebook (``<id>.cases.yaml``) that pytest and
``socialcredit rulebook test`` both run.

A case gives a small registry (subjects and relations, in the registry contract form), records
(in the record contract form), a date ``as_of``, and what to expect per subject: ``score``,
``grade``, ``lists`` (the complete set), ``decisions`` (action -> allowed | denied | restricted |
rewarded), ``disclosed`` (channels) and ``fines`` (yuan imposed in all up to ``as_of``). Subject
ids in cases are aliases (``alice``, ``acme``) that the case runner maps to generated synthetic
identifiers.

:func:`run_cases` runs a rulebook's cases: it always checks their shape
(:func:`~socialcredit.rulebooks.case_checks.check_case_shape`) and, given an ``evaluator``
(``evaluator(case, rulebook) -> outcome``), compares the outcome with ``expect``. The engine plugs
in as ``socialcredit.engine.run_case(case, rulebook)``; :func:`engine_evaluator` finds it.

Example:
    >>> cases = load_cases("national")
    >>> cases[0].name, cases[0].as_of.isoformat()
    ('a listed defaulter cannot fly, take high-speed trains or stay at star hotels', '2019-06-01')
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, PrivateAttr, Tag

from socialcredit.errors import RulebookError
from socialcredit.rulebooks._common import Model, SubjectKind
from socialcredit.rulebooks._yaml import Lines, load_marked
from socialcredit.rulebooks.errors import CaseError, RulebookFileError
from socialcredit.rulebooks.loader import CASES_SUFFIX, builtin_rulebooks, display, load_rulebook
from socialcredit.rulebooks.resolve import Rulebook
from socialcredit.rulebooks.validate import validate

ALIAS_PATTERN = r"^[a-z][a-z0-9_]*$"
Decision = Literal["allowed", "denied", "restricted", "rewarded"]


class SubjectLine(Model):
    """A subject of the case's registry: the registry contract's fields (``id`` is an alias
    here), plus what the engine needs to know about a person that a real registry derives from
    the identity number (``birth_date``) or holds elsewhere: ``civil_servant``, ``resident``
    and ``consent`` (which matters where a rulebook requires consent)."""

    id: str = Field(min_length=1)
    kind: SubjectKind
    name: str | None = None
    profession: str | None = None
    birth_date: dt.date | None = None
    region: str | None = None
    nationality: str | None = None
    civil_servant: bool | None = None
    consent: bool | None = None
    resident: bool | None = None


class RelationLine(Model):
    """A dated relation between two subjects of the case."""

    relation: str
    subject: str
    object: str
    since: dt.date | None = None
    until: dt.date | None = None


def _line_kind(value: Any) -> str:
    return "relation" if isinstance(value, Mapping) and "relation" in value else "subject"


RegistryLine = Annotated[
    Annotated[SubjectLine, Tag("subject")] | Annotated[RelationLine, Tag("relation")],
    Discriminator(_line_kind),
]


class RecordLine(Model):
    """A credit record in the record contract's fields (docs/records.md); ``id`` may be left
    out (the runner numbers records); ``subject`` and ``reported_by`` are aliases of the case's
    registry. ``value`` left out means the contract's default, 1."""

    id: str | None = None
    subject: str
    category: str
    occurred_at: dt.datetime | dt.date
    source: str
    value: float | None = None
    evidence: str | None = None
    basis: str | None = None
    reported_by: str | None = None
    corrects: str | None = None


class Expectation(Model):
    """What to expect for one subject; leave a field out to not check it.

    ``score: null`` expects no score; ``lists`` is the complete set of lists (``[]``: none);
    actions not named in ``decisions`` are not checked; ``fines`` is the yuan of every fine
    imposed up to ``as_of`` (``0``: none).
    """

    score: float | None = None
    tolerance: float = Field(0, ge=0)
    grade: str | None = None
    lists: list[str] | None = None
    decisions: dict[str, Decision] = Field(default_factory=dict)
    disclosed: list[str] | None = None
    fines: float | None = Field(None, ge=0)


class Case(Model):
    """One test case; ``rulebook``, ``file`` and ``line`` say where it comes from."""

    name: str = Field(min_length=1)
    description: str | None = None
    as_of: dt.date
    registry: list[RegistryLine] = Field(default_factory=list)
    records: list[RecordLine] = Field(default_factory=list)
    expect: dict[str, Expectation] = Field(min_length=1)

    _rulebook: str = PrivateAttr("")
    _file: str = PrivateAttr("")
    _index: int = PrivateAttr(0)
    _lines: Lines = PrivateAttr(default_factory=dict)

    @property
    def rulebook(self) -> str:
        """The path of the rulebook this case tests."""
        return self._rulebook

    @property
    def file(self) -> str:
        return self._file

    @property
    def index(self) -> int:
        return self._index

    @property
    def line(self) -> int:
        return self._lines.get(("cases", self._index), 0)

    @property
    def subjects(self) -> dict[str, SubjectLine]:
        return {s.id: s for s in self.registry if isinstance(s, SubjectLine)}

    @property
    def relations(self) -> list[RelationLine]:
        return [r for r in self.registry if isinstance(r, RelationLine)]


class CaseFile(Model):
    """A ``<id>.cases.yaml`` file: the rulebook it tests and its cases."""

    rulebook: str
    cases: list[Case] = Field(min_length=1)


def cases_path(rulebook: Rulebook | str | os.PathLike[str]) -> Path:
    """Where a rulebook's cases live (``national`` -> ``.../national.cases.yaml``)."""
    book = rulebook if isinstance(rulebook, Rulebook) else load_rulebook(rulebook)
    return book.cases_path


def is_case_file(path: str | os.PathLike[str]) -> bool:
    """True for a ``*.cases.yaml`` path."""
    return os.fspath(path).endswith(CASES_SUFFIX)


def rulebook_for_cases(path: str | os.PathLike[str]) -> Rulebook:
    """The rulebook a cases file tests: ``<stem>.yaml`` beside it, else the built-in named by
    its ``rulebook:`` field.

    Raises:
        CaseError: when neither exists; RulebookInvalid when the rulebook is broken.
    """
    path = Path(path)
    sibling = path.with_name(path.name.removesuffix(CASES_SUFFIX) + ".yaml")
    if sibling.is_file():
        return load_rulebook(sibling)
    shown = display(path)
    data, lines = load_marked(path.read_text("utf-8"), shown, error=CaseError)
    name = data.get("rulebook") if isinstance(data, dict) else None
    if isinstance(name, str) and name in builtin_rulebooks():
        return load_rulebook(name)
    raise CaseError(
        shown,
        lines.get(("rulebook",), 1),
        "rulebook",
        f"cannot find the rulebook for these cases ({name!r})",
        fix=f"put the cases beside `{sibling.name}`, or name a built-in rulebook "
        f"({', '.join(builtin_rulebooks())}) in `rulebook:`",
    )


def read_cases(
    rulebook: Rulebook | str | os.PathLike[str], *, path: str | os.PathLike[str] | None = None
) -> tuple[list[Case], list[CaseError]]:
    """The cases of ``rulebook`` (from ``path``, default the file beside it) and every problem
    that kept the file from loading. No cases file gives ``([], [])``."""
    book = rulebook if isinstance(rulebook, Rulebook) else load_rulebook(rulebook)
    file = Path(path) if path is not None else book.cases_path
    if not file.is_file():
        return [], []
    shown = display(file)
    try:
        data, lines = load_marked(file.read_text("utf-8"), shown, error=CaseError)
    except CaseError as exc:
        return [], [exc]
    parsed, errors = validate(CaseFile, data, lines, shown, error=CaseError)
    if parsed is None:
        return [], errors  # type: ignore[return-value]
    if parsed.rulebook not in (book.id, book.path.name, book.path.stem):
        return [], [
            CaseError(
                shown,
                lines.get(("rulebook",), 1),
                "rulebook",
                f"the cases are for {parsed.rulebook!r}, not {book.id!r}",
                fix=f"write `rulebook: {book.id}`",
            )
        ]
    for i, case in enumerate(parsed.cases):
        case._rulebook, case._file, case._index, case._lines = str(book.path), shown, i, lines
    return list(parsed.cases), []


def load_cases(
    rulebook: Rulebook | str | os.PathLike[str], *, path: str | os.PathLike[str] | None = None
) -> list[Case]:
    """The cases beside ``rulebook`` (an id, a path or a loaded rulebook), or in ``path``.

    Raises:
        CaseError: naming file, line and field when the file is malformed or names another
            rulebook; an empty list is returned when the rulebook has no cases file.
    """
    cases, errors = read_cases(rulebook, path=path)
    if errors:
        raise errors[0]
    return cases


#: What an evaluator returns for a case: per subject alias, a mapping with ``score`` (number or
#: None), ``grade`` (str or None), ``lists`` (ids), ``decisions`` (action -> allowed | denied |
#: restricted | rewarded), ``disclosed`` (channels) and ``fines`` (yuan). Keys left out are taken
#: as none.
Outcome = Mapping[str, Mapping[str, Any]]
Evaluator = Callable[[Case, Rulebook], Outcome]


class EngineUnavailable(RulebookError):
    """``socialcredit.engine`` (or its ``run_case``) does not exist yet."""


def engine_evaluator() -> Evaluator | None:
    """``socialcredit.engine.run_case`` when the engine provides it, else ``None``."""
    try:
        engine = importlib.import_module("socialcredit.engine")
    except ModuleNotFoundError as exc:
        if exc.name not in ("socialcredit.engine", "socialcredit"):
            raise
        return None
    return getattr(engine, "run_case", None)


def evaluate_case(case: Case, rulebook: Rulebook | None = None) -> list[str]:
    """Run ``case`` on the engine and return the mismatches (empty when it passes).

    The engine contract: ``socialcredit.engine.run_case(case, rulebook)`` returns an
    :data:`Outcome`.

    Raises:
        EngineUnavailable: while the engine issue has not landed.
    """
    run = engine_evaluator()
    if run is None:
        raise EngineUnavailable(
            "socialcredit.engine.run_case(case, rulebook) does not exist yet: cases are checked "
            "for shape only"
        )
    book = rulebook or load_rulebook(case.rulebook)
    return compare(case, run(case, book))


@dataclass(frozen=True)
class CaseResult:
    """The result of one case (or of a file that could not be read: ``case`` is None).

    ``status``: ``passed`` (the evaluator's outcome matched), ``failed`` (it did not: see
    ``problems``), ``shape-ok`` (no evaluator; the shape is sound), ``invalid`` (the case or its
    file is malformed: ``errors`` name file, line and field), ``error`` (the evaluator raised).
    """

    rulebook: str
    file: str
    case: Case | None
    status: Literal["passed", "failed", "shape-ok", "invalid", "error"]
    problems: tuple[str, ...] = ()
    errors: tuple[RulebookFileError, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "shape-ok")

    @property
    def name(self) -> str:
        return self.case.name if self.case is not None else "(file)"

    @property
    def line(self) -> int:
        if self.case is not None:
            return self.case.line
        return self.errors[0].line if self.errors else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (for ``socialcredit rulebook test --json``)."""
        return {
            "rulebook": self.rulebook,
            "file": self.file,
            "line": self.line,
            "case": self.name,
            "status": self.status,
            "problems": list(self.problems),
            "errors": [e.to_dict() for e in self.errors],
        }


def run_cases(
    rulebook: Rulebook | str | os.PathLike[str],
    evaluator: Evaluator | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
) -> list[CaseResult]:
    """Run the test cases of ``rulebook`` (an id, a rulebook path, or a ``*.cases.yaml`` path).

    Every case is first checked for shape (:func:`check_case_shape`); a well-formed case is
    then given to ``evaluator`` (``evaluator(case, rulebook) -> Outcome``) and its outcome
    compared with ``expect``. With ``evaluator=None`` only the shape is checked (status
    ``shape-ok``); pass :func:`engine_evaluator()` to use the engine once it exists.

    Raises:
        RulebookInvalid: when the rulebook itself does not load.

    Example:
        >>> [r.status for r in run_cases("rongcheng")][:2]
        ['shape-ok', 'shape-ok']
        >>> fake = lambda case, book: {}
        >>> run_cases("rongcheng", fake)[0].problems[0]
        'alice: score: expected 1000.0, got None'
    """
    from socialcredit.rulebooks.case_checks import check_case_shape

    if path is None and not isinstance(rulebook, Rulebook) and is_case_file(rulebook):
        path = rulebook
        book = rulebook_for_cases(rulebook)
    else:
        book = rulebook if isinstance(rulebook, Rulebook) else load_rulebook(rulebook)
    file = display(Path(path) if path is not None else book.cases_path)
    cases, errors = read_cases(book, path=path)
    if errors:
        return [CaseResult(book.id, file, None, "invalid", errors=tuple(errors))]
    out: list[CaseResult] = []
    for case in cases:
        shape = check_case_shape(case, rulebook=book)
        if shape:
            out.append(CaseResult(book.id, file, case, "invalid", errors=tuple(shape)))
            continue
        if evaluator is None:
            out.append(CaseResult(book.id, file, case, "shape-ok"))
            continue
        try:
            problems = compare(case, evaluator(case, book))
        except Exception as exc:  # an evaluator bug is reported against its case
            out.append(CaseResult(book.id, file, case, "error", problems=(f"{type(exc).__name__}: {exc}",)))
            continue
        out.append(
            CaseResult(book.id, file, case, "failed" if problems else "passed", problems=tuple(problems))
        )
    return out


def compare(case: Case, outcome: Outcome) -> list[str]:
    """Mismatches between ``case.expect`` and an engine's ``outcome`` (per alias).

    Example:
        >>> c = Case.model_validate({"name": "n", "as_of": "2020-01-01",
        ...     "registry": [{"id": "alice", "kind": "person"}],
        ...     "expect": {"alice": {"score": 990, "decisions": {"travel.flight": "denied"}}}})
        >>> compare(c, {"alice": {"score": 990.0, "decisions": {}}})
        ['alice: travel.flight: expected denied, got allowed']
    """
    out: list[str] = []
    for alias, exp in case.expect.items():
        got = outcome.get(alias, {})
        given = exp.model_fields_set
        if "score" in given:
            score = got.get("score")
            if (score is None) != (exp.score is None) or (
                score is not None and exp.score is not None and abs(score - exp.score) > exp.tolerance
            ):
                out.append(f"{alias}: score: expected {exp.score}, got {score}")
        if "grade" in given and got.get("grade") != exp.grade:
            out.append(f"{alias}: grade: expected {exp.grade}, got {got.get('grade')}")
        if exp.lists is not None and set(got.get("lists") or ()) != set(exp.lists):
            out.append(f"{alias}: lists: expected {sorted(exp.lists)}, got {sorted(got.get('lists') or ())}")
        decisions = got.get("decisions") or {}
        for action, want in exp.decisions.items():
            have = decisions.get(action, "allowed")
            if have != want:
                out.append(f"{alias}: {action}: expected {want}, got {have}")
        if "fines" in given:
            want_f, have_f = float(exp.fines or 0), float(got.get("fines") or 0)
            if abs(want_f - have_f) > 1e-9:
                out.append(f"{alias}: fines: expected {want_f:g} yuan, got {have_f:g}")
        if exp.disclosed is not None and set(got.get("disclosed") or ()) != set(exp.disclosed):
            out.append(
                f"{alias}: disclosed: expected {sorted(exp.disclosed)}, "
                f"got {sorted(got.get('disclosed') or ())}"
            )
    return out
