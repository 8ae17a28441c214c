"""Behaviour parameters and the rate tables built from them.

:func:`load_behaviour` reads ``society/data/behaviour.yaml`` (every entry cited or marked
``assumed`` with a reason). :class:`ClassSpace` turns a subject's attributes into a *class*
(a mixed-radix number over its factors: age band, sex, income, group, commute, propensity and
whether an enforcement case is open, for persons), and :func:`rate_table` gives every class its
daily rate for every category and action, as integers in units of 2**-40 events per day — so
sums over a block are exact and do not depend on the order of addition.

Example:
    >>> b = load_behaviour()
    >>> b.categories["traffic.ticket"].value.rate["vehicle"]
    0.5
    >>> sorted(b.coverage.value)[:2]
    ['administrative', 'camera']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, field_validator

from socialcredit.society.parameters import Parameter, ParameterError
from socialcredit.society.population import AGE_BANDS, COMMUTES, GROUPS
from socialcredit.vocabulary import vocabulary

__all__ = ["ONE", "Behaviour", "ClassSpace", "RateSpec", "class_spaces", "load_behaviour", "rate_table"]

ONE = float(1 << 40)  # fixed-point unit of the rate tables
AGE_LABELS = ("5-17", "18-29", "30-44", "45-59", "60-74", "75+")
assert len(AGE_LABELS) == len(AGE_BANDS)


class RateSpec(BaseModel):
    """One category's (or action's) behaviour: rates per subject kind and modifiers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: dict[str, float]
    by: dict[str, dict[str, float]] = {}
    minors: bool = False
    requires: Literal["open_case"] | None = None
    effect: Literal["open_case", "close_case"] | None = None
    value: dict[str, Any] | None = None
    subjects: Literal["adults", "children", "all"] | None = None
    months: list[int] | None = None
    retry: float = 0.0

    @field_validator("rate")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, r in v.items() if r < 0]
        if bad:
            raise ValueError(f"rates must be >= 0 (negative for {', '.join(bad)})")
        return v


@dataclass(frozen=True)
class Behaviour:
    """The behaviour parameters: channels, default coverage, categories and attempts."""

    channels: Parameter
    coverage: Parameter
    categories: dict[str, Parameter]
    attempts: dict[str, Parameter]

    def spec(self, name: str) -> RateSpec:
        entry = self.categories.get(name) or self.attempts[name]
        return entry.value


def _entries(section: Mapping[str, Any], what: str) -> dict[str, Parameter]:
    out = {}
    for name, entry in (section or {}).items():
        try:
            p = Parameter(**entry)
            out[name] = p.model_copy(update={"value": RateSpec(**p.value)})
        except Exception as exc:
            raise ParameterError(f"behaviour.yaml {what} {name!r}: {exc}") from None
    return out


def parse_behaviour(data: Mapping[str, Any]) -> Behaviour:
    """Validate a behaviour mapping (the layout of ``behaviour.yaml``)."""
    voc = vocabulary()
    cats = _entries(data.get("categories", {}), "category")
    acts = _entries(data.get("attempts", {}), "attempt")
    missing = sorted(set(voc.categories) - set(cats))
    if missing:
        raise ParameterError(
            f"behaviour.yaml: no rate for categories {', '.join(missing)}; every "
            "category needs one (0 with a reason when it does not happen)"
        )
    for name in cats:
        if name not in voc.categories:
            raise ParameterError(f"behaviour.yaml: unknown category {name!r}")
        cat, spec = voc.categories[name], cats[name].value
        wrong = sorted(set(spec.rate) - set(cat.subject_kinds))
        if wrong:
            raise ParameterError(
                f"behaviour.yaml: {name} has rates for {', '.join(wrong)}, but the "
                f"vocabulary allows only {', '.join(cat.subject_kinds)}"
            )
        if cat.unit != "count" and spec.value is None and any(spec.rate.values()):
            raise ParameterError(f"behaviour.yaml: {name} is measured in {cat.unit}; give `value`")
    for name in acts:
        act = voc.actions.get(name)
        if act is None or act.kind == "disclosure":
            raise ParameterError(f"behaviour.yaml: unknown action {name!r}")
    return Behaviour(Parameter(**data["channels"]), Parameter(**data["coverage"]), cats, acts)


@cache
def load_behaviour() -> Behaviour:
    """The built-in behaviour parameters."""
    text = resources.files("socialcredit.society").joinpath("data/behaviour.yaml").read_text("utf-8")
    return parse_behaviour(yaml.safe_load(text))


@dataclass(frozen=True)
class ClassSpace:
    """The classes of one subject kind: the product of its factors' levels."""

    kind: str
    factors: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def size(self) -> int:
        return int(np.prod([len(levels) for _, levels in self.factors]))

    def stride(self, factor: str) -> int:
        s = 1
        for name, levels in reversed(self.factors):
            if name == factor:
                return s
            s *= len(levels)
        raise KeyError(factor)

    def levels(self, factor: str) -> NDArray[np.int64]:
        """The level of ``factor`` for every class."""
        n = dict(self.factors)[factor]
        return (np.arange(self.size) // self.stride(factor)) % len(n)

    def encode(self, **levels: NDArray) -> NDArray[np.int32]:
        """Class numbers from per-subject factor levels (every factor must be given)."""
        out = 0
        for name, _ in self.factors:
            out = out + np.asarray(levels[name], np.int64) * self.stride(name)
        return np.asarray(out, np.int32)

    def multipliers(self, by: Mapping[str, Mapping[str, float]]) -> NDArray[np.float64]:
        m = np.ones(self.size)
        names = dict(self.factors)
        for factor, table in by.items():
            if factor not in names:
                continue  # a factor of another kind (e.g. `sector` on a person rate)
            levels = names[factor]
            vals = np.ones(len(levels))
            for level, mult in table.items():
                if str(level) not in levels:
                    raise ParameterError(
                        f"unknown level {level!r} of factor {factor!r}; use one of {', '.join(levels)}"
                    )
                vals[levels.index(str(level))] = mult
            m *= vals[self.levels(factor)]
        return m


def class_spaces(sectors: tuple[str, ...], sizes: tuple[str, ...]) -> dict[str, ClassSpace]:
    """The class spaces of the five subject kinds."""
    prop, case = ("low", "mid", "high"), ("closed", "open")
    return {
        "person": ClassSpace(
            "person",
            (
                ("age", AGE_LABELS),
                ("sex", ("female", "male")),
                ("income", ("1", "2", "3", "4", "5")),
                ("group", GROUPS),
                ("commute", COMMUTES),
                ("propensity", prop),
                ("case", case),
            ),
        ),
        "organisation": ClassSpace(
            "organisation", (("sector", sectors), ("size", sizes), ("propensity", prop), ("case", case))
        ),
        "government": ClassSpace("government", (("case", case),)),
        "vehicle": ClassSpace("vehicle", (("propensity", prop),)),
        "dog": ClassSpace("dog", (("propensity", prop),)),
    }


def rate_table(
    space: ClassSpace,
    specs: list[tuple[str, RateSpec, bool]],
    propensity: NDArray[np.float64],
    scale: Mapping[str, float] | None = None,
) -> NDArray[np.int64]:
    """Daily rates (units of 2**-40) for every class (rows) and column (``specs``: name, spec,
    whether the column is trust-breaking)."""
    factors = dict(space.factors)
    out = np.zeros((space.size + 1, len(specs)), np.int64)  # last row: padding, rate 0
    for j, (name, spec, breaking) in enumerate(specs):
        base = spec.rate.get(space.kind, 0.0) * (scale or {}).get(name, 1.0)
        if base <= 0:
            continue
        r = base / 365.25 * space.multipliers(spec.by)
        if "age" in factors:
            minor = space.levels("age") == 0
            who = spec.subjects or ("all" if spec.minors else "adults")
            if who == "adults":
                r[minor] = 0.0
            elif who == "children":
                r[~minor] = 0.0
        if "propensity" in factors and breaking:
            r *= propensity[space.levels("propensity")]
        if "case" in factors and spec.requires == "open_case":
            r[space.levels("case") == 0] = 0.0
        out[:-1, j] = np.round(r * ONE).astype(np.int64)
    return out
