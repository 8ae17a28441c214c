"""The engine: records and a dated registry in, lists, scores, grades and decisions out, each
with its reasons.

Example:
    >>> from socialcredit.engine import Engine
    >>> from socialcredit.records import records_table
    >>> from socialcredit.registry import Registry
    >>> reg = Registry.from_lines([
    ...     {"id": "acme", "kind": "organisation", "name": "Acme"},
    ...     {"id": "carol", "kind": "person", "name": "Carol"},
    ...     {"relation": "legal_representative_of", "subject": "carol", "object": "acme"}])
    >>> recs = records_table([{"id": "r1", "subject": "acme", "occurred_at": "2019-01-10",
    ...     "category": "judicial.judgment_default", "source": "court"}])
    >>> ev = Engine(["national"]).evaluate(recs, reg, "2019-06-01")
    >>> d = ev.decide("carol", "travel.high_speed_rail")
    >>> d.outcome, d.reasons[0]["list"], d.reasons[0]["via"]
    ('denied', 'spending_restricted', {'relation': 'legal_representative_of', 'from': 'acme'})

See docs/engine.md for dates, combination rules and explanations.
"""

from __future__ import annotations

from socialcredit.engine.cases import run_case
from socialcredit.engine.compile import OUTCOMES, CompiledVersion, compile_version
from socialcredit.engine.data import (
    RecordArrays,
    RelationArrays,
    SubjectArrays,
    records_from_table,
    relations_from_registry,
    subjects_from_registry,
)
from socialcredit.engine.decide import Decision
from socialcredit.engine.errors import (
    EngineError,
    NotSupportedYet,
    UnknownAction,
    UnknownSubject,
)
from socialcredit.engine.evaluate import Bound, Engine, Evaluation
from socialcredit.engine.explain import Explanation

__all__ = [
    "OUTCOMES",
    "Bound",
    "CompiledVersion",
    "Decision",
    "Engine",
    "EngineError",
    "Evaluation",
    "Explanation",
    "NotSupportedYet",
    "RecordArrays",
    "RelationArrays",
    "SubjectArrays",
    "UnknownAction",
    "UnknownSubject",
    "compile_version",
    "records_from_table",
    "relations_from_registry",
    "run_case",
    "subjects_from_registry",
]
