"""A small synthetic registry with sample credit records, for the demo and for tests.

Everything is a deterministic function of the seed. Identifiers come from :mod:`socialcredit.ids`,
so they are valid in format and checksum yet name no real person or company.

Example:
    >>> s = sample_society(seed=1, persons=50, organisations=5, records=100)
    >>> len(s.subjects) >= 55 and len(s.records) == 100
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np

from socialcredit import ids
from socialcredit.regions import jurisdictions
from socialcredit.vocabulary import vocabulary

PROFESSIONS = (
    "doctor", "teacher", "lawyer", "accountant", "tour guide", "civil servant",
    "worker", "farmer", "driver", "engineer", "shopkeeper", "student", "retired",
)  # fmt: skip
# Assumed shares for the sample only; the simulator issue calibrates the population properly.
PROFESSION_WEIGHTS = (3, 4, 1, 2, 1, 4, 25, 15, 6, 8, 9, 10, 12)
CST = timezone(timedelta(hours=8))


@dataclass
class SampleSociety:
    """Registry lines (subjects then relations) and record lines, in the ingest contracts."""

    subjects: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def registry(self) -> list[dict[str, Any]]:
        return self.subjects + self.relations


def _names(rng: np.random.Generator, n: int) -> list[str]:
    family = ["Zhang", "Wang", "Li", "Zhao", "Chen", "Liu", "Yang", "Huang", "Zhou", "Wu", "Xu"]
    given = ["Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun", "Hui", "Tao", "Ying"]
    f = rng.integers(0, len(family), n)
    g = rng.integers(0, len(given), n)
    return [f"{family[a]} {given[b]} (synthetic)" for a, b in zip(f, g, strict=True)]


def sample_society(
    *,
    seed: int = 2014,
    persons: int = 10_000,
    organisations: int = 500,
    records: int = 50_000,
    start: date = date(2016, 1, 1),
    end: date = date(2018, 12, 31),
) -> SampleSociety:
    """Generate a sample registry and records.

    Args:
        seed: the one seed everything derives from.
        persons: number of persons (adults and their children share households).
        organisations: number of companies; each has a legal representative.
        records: number of credit records, spread over ``start``..``end``.
        start: first day a record may occur.
        end: last day a record may occur.
    """
    rng = np.random.default_rng(seed)
    regions = [j.code for j in jurisdictions()]
    out = SampleSociety()

    region_of_person = rng.integers(0, len(regions), persons)
    person_ids = [
        ids.generate_resident_id(seed, i, region=regions[r]) for i, r in enumerate(region_of_person)
    ]
    weights = np.array(PROFESSION_WEIGHTS, dtype=float)
    prof = rng.choice(len(PROFESSIONS), persons, p=weights / weights.sum())
    for pid, name, p in zip(person_ids, _names(rng, persons), prof, strict=True):
        out.subjects.append({"id": pid, "kind": "person", "name": name, "profession": PROFESSIONS[p]})

    org_ids = [
        ids.generate_uscc(seed, i, region=regions[int(rng.integers(0, len(regions)))])
        for i in range(organisations)
    ]
    for i, oid in enumerate(org_ids):
        out.subjects.append({"id": oid, "kind": "organisation", "name": f"Sample Co. {i} (synthetic)"})

    vehicles = [ids.generate_plate(seed, i) for i in range(persons // 10)]
    dogs = [ids.generate_dog_licence(seed, i) for i in range(persons // 20)]
    out.subjects += [{"id": v, "kind": "vehicle", "name": f"Car {v}"} for v in vehicles]
    out.subjects += [{"id": d, "kind": "dog", "name": f"Dog {d}"} for d in dogs]

    since = start.isoformat()
    rel = out.relations
    # Households: consecutive persons pair up as spouses, the next one is their child.
    for h in range(0, persons - 2, 3):
        a, b, child = person_ids[h], person_ids[h + 1], person_ids[h + 2]
        rel.append({"relation": "spouse_of", "subject": a, "object": b, "since": since})
        rel.append({"relation": "parent_of", "subject": a, "object": child, "since": since})
        rel.append({"relation": "parent_of", "subject": b, "object": child, "since": since})
    for i, oid in enumerate(org_ids):
        rep = person_ids[int(rng.integers(0, persons))]
        rel.append({"relation": "legal_representative_of", "subject": rep, "object": oid, "since": since})
        for worker in rng.integers(0, persons, 5):
            worker_id = person_ids[int(worker)]
            rel.append({"relation": "employee_of", "subject": worker_id, "object": oid, "since": since})
        if i and rng.random() < 0.2:
            rel.append({"relation": "partner_of", "subject": oid, "object": org_ids[i - 1], "since": since})
    for i, v in enumerate(vehicles):
        rel.append({"relation": "owner_of", "subject": person_ids[i * 10], "object": v, "since": since})
    for i, d in enumerate(dogs):
        rel.append({"relation": "owner_of", "subject": person_ids[i * 20 + 1], "object": d, "since": since})
    friends = rng.integers(0, persons, size=(persons * 2, 2))
    seen: set[tuple[int, int]] = set()
    for a, b in friends:
        key = (int(min(a, b)), int(max(a, b)))
        if a != b and key not in seen:
            seen.add(key)
            a_id, b_id = person_ids[key[0]], person_ids[key[1]]
            rel.append({"relation": "friend_of", "subject": a_id, "object": b_id, "since": since})

    out.records = _sample_records(rng, seed, out, records, start, end)
    return out


def _sample_records(
    rng: np.random.Generator,
    seed: int,
    society: SampleSociety,
    n: int,
    start: date,
    end: date,
) -> list[dict[str, Any]]:
    voc = vocabulary()
    by_kind: dict[str, list[str]] = {}
    for s in society.subjects:
        by_kind.setdefault(s["kind"], []).append(s["id"])
    cats = [c for c in voc.categories.values() if any(k in by_kind for k in c.subject_kinds)]
    cat_idx = rng.integers(0, len(cats), n)
    days = rng.integers(0, (end - start).days + 1, n)
    seconds = rng.integers(7 * 3600, 22 * 3600, n)
    records = []
    for i in range(n):
        cat = cats[cat_idx[i]]
        kinds = [k for k in cat.subject_kinds if k in by_kind]
        pool = by_kind[kinds[int(rng.integers(0, len(kinds)))]]
        when = datetime.combine(start + timedelta(days=int(days[i])), datetime.min.time(), CST)
        when += timedelta(seconds=int(seconds[i]))
        rec: dict[str, Any] = {
            "id": f"r{seed}-{i:08d}",
            "subject": pool[int(rng.integers(0, len(pool)))],
            "category": cat.id,
            "occurred_at": when.isoformat(),
            "source": cat.sources[int(rng.integers(0, len(cat.sources)))],
        }
        if cat.unit in ("yuan", "hours"):
            rec["value"] = float(round(rng.gamma(2.0, 200.0 if cat.unit == "yuan" else 3.0), 2))
        records.append(rec)
    return records
