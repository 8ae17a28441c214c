"""Helpers for the ledger, ingest and registry tests: a tiny synthetic registry, valid records
for it, and writers for JSONL and Parquet files. The fixtures using them are in conftest.py."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from socialcredit import ids

SEED = 7
NOW = "2019-01-01T00:00:00+08:00"


def _distinct(values: Iterable[str], n: int) -> list[str]:
    out = list(dict.fromkeys(values))
    assert len(out) >= n
    return out[:n]


class Tiny:
    """A tiny registry: 6 persons, 2 companies, a government body, a vehicle and a dog."""

    def __init__(self) -> None:
        self.persons = _distinct(
            (ids.generate_resident_id(SEED, i, region="Rongcheng") for i in range(12)), 6
        )
        self.companies = _distinct((ids.generate_uscc(SEED, i) for i in range(4)), 2)
        self.government = ids.generate_uscc(SEED, 0, kind="government")
        self.vehicle = ids.generate_plate(SEED, 0)
        self.dog = ids.generate_dog_licence(SEED, 0)
        # valid identifiers that are not in the registry
        self.stranger = next(
            p
            for p in (ids.generate_resident_id(SEED, i, region="Jinan") for i in range(50))
            if p not in self.persons
        )

    @property
    def subjects(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"id": p, "kind": "person", "name": f"Person {i} (synthetic)", "profession": "teacher"}
            for i, p in enumerate(self.persons)
        ]
        out += [
            {"id": c, "kind": "organisation", "name": f"Co {i} (synthetic)"}
            for i, c in enumerate(self.companies)
        ]
        out.append({"id": self.government, "kind": "government", "name": "Bureau (synthetic)"})
        out.append({"id": self.vehicle, "kind": "vehicle", "name": "Car (synthetic)"})
        out.append({"id": self.dog, "kind": "dog", "name": "Dog (synthetic)"})
        return out

    @property
    def relations(self) -> list[dict[str, Any]]:
        p, c = self.persons, self.companies
        return [
            {"relation": "spouse_of", "subject": p[0], "object": p[1], "since": "2010-05-01"},
            {"relation": "parent_of", "subject": p[0], "object": p[2]},
            {"relation": "legal_representative_of", "subject": p[3], "object": c[0], "since": "2017-01-01"},
            {
                "relation": "employee_of",
                "subject": p[4],
                "object": c[0],
                "since": "2016-01-01",
                "until": "2018-01-01",
            },
            {"relation": "owner_of", "subject": p[5], "object": self.vehicle},
            {"relation": "owner_of", "subject": p[5], "object": self.dog},
        ]

    @property
    def registry(self) -> list[dict[str, Any]]:
        return self.subjects + self.relations

    def record(self, i: int = 0, **fields: Any) -> dict[str, Any]:
        """A valid record (``traffic.red_light`` by traffic police), with ``fields`` changed."""
        rec: dict[str, Any] = {
            "id": f"t-{i:06d}",
            "subject": self.persons[i % len(self.persons)],
            "category": "traffic.red_light",
            "occurred_at": f"2018-03-{1 + i % 28:02d}T08:{i % 60:02d}:00+08:00",
            "source": "traffic_police",
        }
        rec.update(fields)
        return {k: v for k, v in rec.items() if v is not None}

    def records(self, n: int, start: int = 0) -> list[dict[str, Any]]:
        return [self.record(i) for i in range(start, start + n)]


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]], schema: pa.Schema | None = None) -> Path:
    names = list(dict.fromkeys(k for r in rows for k in r))
    if schema is None:
        schema = pa.schema([(n, pa.float64() if n == "value" else pa.string()) for n in names])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path
