"""The engine as the rulebook cases' evaluator: ``run_case(case, rulebook)``.

A case's aliases (``alice``, ``acme``) stand as subject ids; what a real registry derives from an
identity number or keeps elsewhere (``birth_date``, ``region``, ``consent``, ``resident``,
``civil_servant``) travels as extra columns of the subjects table.

Example:
    >>> from socialcredit.rulebooks.cases import load_cases, compare
    >>> case = load_cases("national")[0]
    >>> compare(case, run_case(case, None))
    []
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from socialcredit.engine.evaluate import Engine, Evaluation
from socialcredit.engine.reports import ReportReview
from socialcredit.records import records_table
from socialcredit.registry import RELATIONS_SCHEMA, SUBJECTS_SCHEMA, Registry
from socialcredit.rulebooks import Rulebook, load_rulebook

_EXTRA = tuple(
    (n, t)
    for n, t in (
        ("birth_date", pa.date32()),
        ("consent", pa.bool_()),
        ("resident", pa.bool_()),
        ("civil_servant", pa.bool_()),
    )
    if n not in SUBJECTS_SCHEMA.names
)


def case_registry(case: Any) -> Registry:
    """The case's registry lines as a :class:`Registry` with the extra subject columns."""
    subjects = [s for s in case.subjects.values()]
    schema = pa.schema(list(SUBJECTS_SCHEMA) + [pa.field(n, t) for n, t in _EXTRA])
    rows = [
        {
            "id": s.id,
            "kind": s.kind,
            "name": s.name or s.id,
            "region": s.region,
            "profession": s.profession,
            "nationality": getattr(s, "nationality", None),
            "consent": getattr(s, "consent", None),
            **{n: getattr(s, n, None) for n, _ in _EXTRA},
        }
        for s in subjects
    ]
    rels = [
        {"relation": r.relation, "subject": r.subject, "object": r.object, "since": r.since, "until": r.until}
        for r in case.relations
    ]
    return Registry(
        pa.Table.from_pylist(rows, schema=schema), pa.Table.from_pylist(rels, schema=RELATIONS_SCHEMA)
    )


def case_records(case: Any) -> pa.Table:
    """The case's records in the record contract (unnamed records are numbered ``r1``...)."""
    rows = []
    for i, r in enumerate(case.records, start=1):
        row = {k: v for k, v in r.model_dump().items() if v is not None}
        row.setdefault("id", f"r{i}")
        rows.append(row)
    return records_table(rows)


def outcome_of(ev: Evaluation, subject: str) -> dict[str, Any]:
    """What a case may expect of ``subject``: score, grade, lists, decisions, disclosed and
    fines (yuan in all)."""
    score, grade, _ = ev.score_of(subject)
    return {
        "score": score,
        "grade": grade,
        "lists": sorted({lid for _, lid in ev.lists_of(subject)}),
        "decisions": ev.outcomes(subject),
        "disclosed": ev.disclosed(subject),
        "fines": ev.fines_of(subject),
    }


def run_case(case: Any, rulebook: Rulebook | str | None) -> dict[str, dict[str, Any]]:
    """Evaluate ``case`` under ``rulebook`` (default: the case's own) as of ``case.as_of``.

    A case's records are the facts it states: a citizen report in a case is one the review
    upheld, so none is held (``ReportReview(quorum=0)``; :mod:`socialcredit.engine.reports`)."""
    book = rulebook if rulebook is not None else load_rulebook(case.rulebook)
    ev = Engine([book]).evaluate(
        case_records(case), case_registry(case), case.as_of, reports=ReportReview(quorum=0)
    )
    return {alias: outcome_of(ev, alias) for alias in case.subjects}
