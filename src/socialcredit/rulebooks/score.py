"""Score models a rulebook may declare (the engine computes them).

* ``points``: a base, optional bounds, plus and minus per rule; grade bands by threshold.
* ``factors``: weighted factor sub-scores mapped onto a range (Sesame: 350–950 from five factors).
  Each factor starts at ``factor_base`` on a 0..``factor_max`` scale; rules with ``factor: X``
  add to it; the score is ``range.min + (range.max - range.min) * sum(w * sub / factor_max)``.
* ``tiers``: ordered classes by conditions (Honest Shanghai: very good / good / bad); the first
  tier whose ``when`` holds is the grade; the last tier has no ``when`` and catches the rest.

A rulebook may declare several (persons, organisations, civil servants, dog licences) or none.

Example:
    >>> from pydantic import TypeAdapter
    >>> s = TypeAdapter(ScoreModel).validate_python(
    ...     {"id": "p", "label": "Points", "model": "points", "subject_kinds": ["person"],
    ...      "base": 1000, "grades": [{"grade": "A", "min": 960}, {"grade": "D"}],
    ...      "assumed": True, "reason": "example"})
    >>> s.grade_names, s.grade_for(990), s.grade_for(100)
    (['A', 'D'], 'A', 'D')
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from socialcredit.rulebooks._common import (
    Cited,
    Duration,
    Ident,
    Model,
    StrList,
    SubjectKind,
    When,
)


class Bounds(Model):
    """Inclusive bounds; ``None`` is unbounded on that side."""

    min: float | None = None
    max: float | None = None


class GradeBand(Cited):
    """A grade and the lowest score that earns it (``min``); the last band may omit ``min``."""

    grade: str = Field(min_length=1, max_length=20)
    min: float | None = None
    label: str | None = None


class _Score(Cited):
    id: Ident
    label: str
    subject_kinds: list[SubjectKind] = Field(min_length=1)
    when: When | None = None
    description: str | None = None

    @property
    def grade_names(self) -> list[str]:
        """Grade names, best first."""
        return [g.grade for g in getattr(self, "grades", [])]


class _Banded(_Score):
    grades: list[GradeBand] = Field(default_factory=list)

    def grade_for(self, score: float) -> str | None:
        """The grade for ``score`` under the bands (bands are ordered best first)."""
        for band in self.grades:
            if band.min is None or score >= band.min:
                return band.grade
        return None


class PointsScore(_Banded):
    """A points balance: ``base`` plus every rule's points, within ``bounds``."""

    model: Literal["points"]
    base: float
    bounds: Bounds | None = None


class Factor(Cited):
    """One weighted factor of a ``factors`` score."""

    id: Ident
    label: str
    weight: float = Field(gt=0, le=1)


class FactorsScore(_Banded):
    """Weighted factor sub-scores mapped onto ``range`` (weights sum to 1)."""

    model: Literal["factors"]
    range: Bounds
    factors: list[Factor] = Field(min_length=1)
    factor_base: float = 50
    factor_max: float = Field(100, gt=0)


class TierCondition(Model):
    """When a subject falls in a tier: all given conditions must hold."""

    on_list: StrList | None = None
    not_on_list: StrList | None = None
    any_record: StrList | None = None
    no_record: StrList | None = None
    within: Duration | None = None


class Tier(Cited):
    """One class of a ``tiers`` score; the last tier has no ``when``."""

    grade: str = Field(min_length=1, max_length=40)
    label: str | None = None
    when: TierCondition | None = None


class TiersScore(_Score):
    """Ordered classes by conditions; the first that holds wins."""

    model: Literal["tiers"]
    tiers: list[Tier] = Field(min_length=1)

    @property
    def grade_names(self) -> list[str]:
        return [t.grade for t in self.tiers]


ScoreModel = Annotated[PointsScore | FactorsScore | TiersScore, Field(discriminator="model")]

__all__ = [
    "Bounds",
    "Factor",
    "FactorsScore",
    "GradeBand",
    "PointsScore",
    "ScoreModel",
    "StrList",
    "Tier",
    "TierCondition",
    "TiersScore",
]
