"""The synthetic jurisdictions table.

Each jurisdiction the sources name gets a synthetic division code beginning with ``0`` (no scheme
assigns such codes), with its real name and real GB/T 2260 code kept as data. A jurisdiction code has
the form ``0RRR00``; the area codes inside it are ``0RRRdd`` (``dd`` = district 00-99), so the region
of any synthetic resident number is its first four digits followed by ``00``.

Example:
    >>> from socialcredit.regions import jurisdiction
    >>> jurisdiction("Rongcheng").code
    '000600'
    >>> jurisdiction("000601").name  # an area code inside Rongcheng
    'Rongcheng'
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources

from socialcredit.errors import JurisdictionError


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """One row of the synthetic jurisdictions table."""

    code: str
    name: str
    name_zh: str
    level: str
    province: str
    real_code: str
    note: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@cache
def jurisdictions() -> tuple[Jurisdiction, ...]:
    """All synthetic jurisdictions, in code order."""
    text = resources.files("socialcredit").joinpath("data/jurisdictions.csv").read_text("utf-8")
    rows = [Jurisdiction(**row) for row in csv.DictReader(text.splitlines())]
    return tuple(sorted(rows, key=lambda j: j.code))


def region_of_area(area: str) -> str:
    """The jurisdiction code containing a six-digit synthetic area code (``000601`` -> ``000600``)."""
    return area[:4] + "00"


def jurisdiction(name_or_code: str) -> Jurisdiction:
    """Look a jurisdiction up by name (case-insensitive), jurisdiction code or area code.

    Raises:
        JurisdictionError: when nothing matches; the message lists the known names.
    """
    key = name_or_code.strip()
    for j in jurisdictions():
        if key.lower() in (j.name.lower(), j.name_zh) or key == j.code:
            return j
    if len(key) == 6 and key.isdigit():
        for j in jurisdictions():
            if j.code == region_of_area(key):
                return j
    known = ", ".join(j.name for j in jurisdictions())
    raise JurisdictionError(
        f"unknown jurisdiction {name_or_code!r}: use one of {known} (see `socialcredit regions list`)"
    )


def is_synthetic_region(code: str) -> bool:
    """True when ``code`` (a jurisdiction or area code) lies in a jurisdiction of the table."""
    return any(j.code == region_of_area(code) for j in jurisdictions())
