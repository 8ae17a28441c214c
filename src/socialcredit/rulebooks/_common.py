"""Building blocks shared by the rulebook schema: the strict base model, citations, durations,
conditions on subjects and paths along relations.

Every model rejects unknown keys by name (``extra="forbid"``). Cross-references (a category in the
vocabulary, a source in ``sources:``) are checked afterwards by :mod:`socialcredit.rulebooks.checks`
so that each problem can name its exact field.

Example:
    >>> Duration(years=2).model_dump(exclude_defaults=True)
    {'years': 2}
    >>> Via(relation="parent_of", to="object").to
    'object'
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

SubjectKind = Literal["person", "organisation", "government", "vehicle", "dog"]
Confidence = Literal["H", "M", "L", "UNVERIFIED"]
IDENT_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"

#: Relations of the registry contract (docs/records.md). ``friend_of`` and ``spouse_of`` are
#: symmetric: use ``to: both``.
RELATIONS = (
    "parent_of",
    "spouse_of",
    "legal_representative_of",
    "employee_of",
    "partner_of",
    "owner_of",
    "friend_of",
)
#: Which subject kinds may stand at each end of a relation (subject end, object end).
RELATION_ENDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "parent_of": (frozenset({"person"}), frozenset({"person"})),
    "spouse_of": (frozenset({"person"}), frozenset({"person"})),
    "legal_representative_of": (frozenset({"person"}), frozenset({"organisation", "government"})),
    "employee_of": (frozenset({"person"}), frozenset({"organisation", "government"})),
    "partner_of": (frozenset({"person", "organisation"}), frozenset({"person", "organisation"})),
    "owner_of": (frozenset({"person", "organisation"}), frozenset({"vehicle", "dog"})),
    "friend_of": (frozenset({"person"}), frozenset({"person"})),
}


def _as_list(value: Any) -> Any:
    """Accept a single string where a list of strings is expected."""
    return [value] if isinstance(value, str) else value


def _as_str(value: Any) -> Any:
    """Accept ``2016`` (a YAML number) where a string id is expected."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Ident = Annotated[str, Field(pattern=IDENT_PATTERN, min_length=1, max_length=80)]
Name = Annotated[str, BeforeValidator(_as_str), Field(min_length=1, max_length=200)]
StrList = Annotated[list[str], BeforeValidator(_as_list)]


class Model(BaseModel):
    """Strict, immutable base: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Cited(Model):
    """Where a value comes from.

    Either ``source`` (an id from the rulebook's ``sources:``) with an optional ``ref`` (article
    or section, e.g. ``"Art. 10; facts 2.2"``), or ``assumed: true`` with a ``reason``. Both may
    be given (an assumption adapted from a source). ``unverified: true`` marks values the fact
    sheet tags UNVERIFIED; ``confidence`` overrides the source's confidence for this one value.
    """

    source: str | None = None
    ref: Name | None = None
    assumed: bool = False
    reason: str | None = None
    unverified: bool = False
    confidence: Confidence | None = None

    @property
    def cited(self) -> bool:
        """True when this value names a source or an assumption with a reason."""
        return bool(self.source) or (self.assumed and bool(self.reason))


class Duration(Model):
    """A length of time; working days are counted by the engine's calendar.

    Example:
        >>> Duration(working_days=3).working_days
        3
    """

    years: int = Field(0, ge=0)
    months: int = Field(0, ge=0)
    days: int = Field(0, ge=0)
    working_days: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _not_empty(self) -> Duration:
        if not (self.years or self.months or self.days or self.working_days):
            raise ValueError("a duration needs at least one of years, months, days, working_days above 0")
        return self

    def __str__(self) -> str:
        parts = [
            f"{n} {unit if n == 1 else unit + 's'}"
            for n, unit in (
                (self.years, "year"),
                (self.months, "month"),
                (self.days, "day"),
                (self.working_days, "working day"),
            )
            if n
        ]
        return " ".join(parts)


class When(Model):
    """Conditions on the subject: all given conditions must hold.

    ``region`` takes jurisdiction names (``Rongcheng``), resolved through the synthetic
    jurisdictions table; ``civil_servant: true`` matches subjects whose registry ``profession`` is
    ``civil servant`` or who carry ``civil_servant: true``.
    """

    subject_kinds: list[SubjectKind] | None = None
    profession: StrList | None = None
    civil_servant: bool | None = None
    region: StrList | None = None
    min_age: int | None = Field(None, ge=0)
    max_age: int | None = Field(None, ge=0)


class Via(Model):
    """A path from a subject to related subjects along a registry relation.

    ``to: object`` goes from the relation's subject to its objects (a listed parent -> the child,
    for ``parent_of``); ``to: subject`` goes the other way (a listed organisation -> its legal
    representative, for ``legal_representative_of``); ``to: both`` for symmetric relations.
    """

    relation: str
    to: Literal["subject", "object", "both"]
    ref: Name | None = None


class Network(Via):
    """A network term of a rule: look at related subjects' records or list memberships.

    ``aggregate: count`` counts the related subjects' records (or listed related subjects);
    ``share`` takes the share (0 to 1) of related subjects that are on the list.
    """

    aggregate: Literal["count", "share"] = "count"
