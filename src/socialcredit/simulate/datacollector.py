"""Named daily reporters collected into one long table (Mesa's ``DataCollector`` habit).

A reporter is a function of the model returning ``(regime, key, value)`` triples for the
current day; ``regime`` is empty for what does not depend on the rulebooks (behaviour). The
table has one row per day, reporter, regime and key: ``day, date, reporter, regime, key,
value``. Counts that are zero are left out for per-category and per-action reporters (absent
means 0); list sizes and grades are reported in full on every evaluation day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyarrow as pa

__all__ = ["DAILY_SCHEMA", "DataCollector", "Reporter"]

Reporter = Callable[[Any], Iterable[tuple[str, str, int]]]

DAILY_SCHEMA = pa.schema(
    [
        ("day", pa.int32()),
        ("date", pa.date32()),
        ("reporter", pa.string()),
        ("regime", pa.string()),
        ("key", pa.string()),
        ("value", pa.int64()),
    ]
)


class DataCollector:
    """Collects every reporter once per step."""

    def __init__(self, reporters: Mapping[str, Reporter]) -> None:
        self.reporters = dict(reporters)
        self._rows: dict[str, list[Any]] = {name: [] for name in DAILY_SCHEMA.names}

    def collect(self, model: Any) -> None:
        step, date = model.steps, model.date
        for name, fn in self.reporters.items():
            for regime, key, value in fn(model):
                self._rows["day"].append(step)
                self._rows["date"].append(date)
                self._rows["reporter"].append(name)
                self._rows["regime"].append(regime)
                self._rows["key"].append(key)
                self._rows["value"].append(int(value))

    def table(self) -> pa.Table:
        """Everything collected so far (see the module docstring)."""
        return pa.Table.from_pydict(self._rows, schema=DAILY_SCHEMA)

    def total(self, reporter: str, key: str | None = None, regime: str | None = None) -> int:
        """Sum of a reporter's values for ``key`` (every key when ``None``) over all days (and
        one regime when given)."""
        rows = zip(
            self._rows["reporter"], self._rows["key"], self._rows["regime"], self._rows["value"], strict=True
        )
        return sum(
            v
            for r, k, g, v in rows
            if r == reporter and (key is None or k == key) and (regime is None or g == regime)
        )


def dates(start: dt.date, days: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(days)]
