"""Cited parameters: every value states its source or says it is assumed, and why.

Parameter files live in ``socialcredit/society/data/``. Each entry is a mapping with ``value``
and either ``source`` (where the number comes from) or ``assumed: true`` and a ``reason``;
loading refuses anything else, naming the entry. Scenarios override values, never the citation
rule: an override that changes a number must say why (``reason``) unless it only rescales.

Example:
    >>> p = load_parameters("population")
    >>> p["dog_owner_share"].value, p["dog_owner_share"].assumed
    (0.05, True)
    >>> p["dog_owner_share"].reason.startswith("facts 5.3")
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from socialcredit.errors import SocialCreditError

__all__ = ["Parameter", "ParameterError", "load_parameters", "with_overrides"]


class ParameterError(SocialCreditError):
    """A parameter file or override that breaks the citation rule or names nothing known."""


class Parameter(BaseModel):
    """One cited value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Any
    source: str | None = None
    assumed: bool = False
    reason: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> Parameter:
        if self.source is None and not (self.assumed and self.reason):
            raise ValueError("give `source`, or `assumed: true` with a `reason`")
        if self.assumed and not self.reason:
            raise ValueError("`assumed: true` needs a `reason`")
        return self


def _parse(name: str, text: str) -> dict[str, Parameter]:
    data = yaml.safe_load(text) or {}
    out = {}
    for key, entry in data.items():
        if not isinstance(entry, Mapping):
            raise ParameterError(f"{name}.yaml: {key} must be a mapping with `value` and a citation")
        try:
            out[key] = Parameter(**entry)
        except Exception as exc:  # pydantic's message names the field
            raise ParameterError(f"{name}.yaml: parameter {key!r}: {exc}") from None
    return out


@cache
def load_parameters(name: str) -> dict[str, Parameter]:
    """The parameters of ``socialcredit/society/data/<name>.yaml``, validated."""
    path = resources.files("socialcredit.society").joinpath(f"data/{name}.yaml")
    return _parse(name, path.read_text("utf-8"))


def with_overrides(
    base: Mapping[str, Parameter], overrides: Mapping[str, Any] | None, *, where: str
) -> dict[str, Parameter]:
    """``base`` with scenario overrides applied.

    An override is either a bare value (kept with the base's citation, marked as set by the
    scenario) or a full entry (``value`` plus ``source`` or ``assumed``/``reason``).
    """
    out = dict(base)
    for key, over in (overrides or {}).items():
        if key not in base:
            known = ", ".join(sorted(base))
            raise ParameterError(f"{where}: unknown parameter {key!r}; known: {known}")
        if isinstance(over, Mapping) and "value" in over:
            try:
                out[key] = Parameter(**over)
            except Exception as exc:
                raise ParameterError(f"{where}: parameter {key!r}: {exc}") from None
        else:
            old = base[key]
            out[key] = old.model_copy(update={"value": over, "note": f"value set by {where}"})
    return out
