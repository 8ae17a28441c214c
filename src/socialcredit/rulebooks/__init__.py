"""Rulebooks as code: every rule is data a person can read, cite, diff, test and change.

The format is documented in docs/rulebooks.md. Load a rulebook by built-in id or path; the
result has ``extends`` applied and its dated versions resolved:

Example:
    >>> from socialcredit.rulebooks import builtin_rulebooks, load_rulebook
    >>> {"national", "rongcheng"} <= set(builtin_rulebooks())
    True
    >>> v = load_rulebook("rongcheng").version_on("2019-06-01")
    >>> v.scores["person_points"].base, v.rules["loan_arrears"].points
    (1000.0, -10.0)
    >>> combine(m.effect for m in v.measures.values() if "travel.flight" in m.actions)
    'denied'
"""

from socialcredit.rulebooks.cases import (
    Case,
    CaseResult,
    compare,
    engine_evaluator,
    load_cases,
    run_cases,
)
from socialcredit.rulebooks.errors import CaseError, RulebookFileError, RulebookInvalid
from socialcredit.rulebooks.lists import Entry, Exit, ListDef, Measure, combine
from socialcredit.rulebooks.loader import builtin_paths, builtin_rulebooks, lint, load_rulebook
from socialcredit.rulebooks.resolve import Rulebook, RulebookVersion
from socialcredit.rulebooks.rules import Rule
from socialcredit.rulebooks.score import FactorsScore, PointsScore, TiersScore
from socialcredit.rulebooks.summary import summarise

__all__ = [
    "Case",
    "CaseError",
    "CaseResult",
    "Entry",
    "Exit",
    "FactorsScore",
    "ListDef",
    "Measure",
    "PointsScore",
    "Rule",
    "Rulebook",
    "RulebookFileError",
    "RulebookInvalid",
    "RulebookVersion",
    "TiersScore",
    "builtin_paths",
    "builtin_rulebooks",
    "combine",
    "compare",
    "engine_evaluator",
    "lint",
    "load_cases",
    "load_rulebook",
    "run_cases",
    "summarise",
]
