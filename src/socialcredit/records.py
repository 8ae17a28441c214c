"""The record contract: one credit record, its canonical form, and its columnar layout.

A credit record says that something happened to a subject, reported by a source. Its canonical
form (keys sorted, ``occurred_at`` as a date-time with offset, ``value`` always present) is what
the ledger hashes, so two spellings of the same record are the same record.

Example:
    >>> canonical_record({"id": "r1", "subject": "S", "category": "traffic.red_light",
    ...                   "occurred_at": "2018-03-01", "source": "traffic_police"})["occurred_at"]
    '2018-03-01T00:00:00+08:00'
    >>> canonical_json({"b": 1, "a": "é"})
    '{"a":"é","b":1}'
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

#: Fields every record must have.
REQUIRED_FIELDS: tuple[str, ...] = ("id", "subject", "category", "occurred_at", "source")
#: Fields a record may have; anything else is rejected as ``unknown_field``.
OPTIONAL_FIELDS: tuple[str, ...] = ("value", "evidence", "basis", "reported_by", "corrects")
RECORD_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS
#: The offset assumed when ``occurred_at`` gives none (China Standard Time).
DEFAULT_OFFSET = dt.timezone(dt.timedelta(hours=8))
DEFAULT_VALUE = 1.0

#: Columnar layout of records, as the ledger hands them to the engine. ``day`` is the calendar
#: date of ``occurred_at`` in its own offset; ``seq`` is the ledger's append order.
RECORDS_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("id", pa.string()),
        ("subject", pa.string()),
        ("category", pa.string()),
        ("occurred_at", pa.string()),
        ("day", pa.date32()),
        ("source", pa.string()),
        ("value", pa.float64()),
        ("evidence", pa.string()),
        ("basis", pa.string()),
        ("reported_by", pa.string()),
        ("corrects", pa.string()),
    ]
)


def parse_occurred_at(value: object) -> dt.datetime:
    """Parse an ISO 8601 date or date-time into an aware date-time (+08:00 when no offset).

    Raises:
        ValueError: not a string/date, or not a real date (e.g. ``2018-02-30``).
    """
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty date")
        if len(text) == 10:
            when = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        else:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    else:
        raise ValueError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=DEFAULT_OFFSET)
    return when


def canonical_occurred_at(value: object) -> str:
    """``occurred_at`` normalised to ``YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM``."""
    return parse_occurred_at(value).isoformat()


def canonical_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of a (valid) record: known keys only, sorted, defaults filled in.

    Optional text fields that are absent or ``None`` are left out, so ``{"basis": null}`` and no
    ``basis`` at all are the same record. ``value`` is always present, as a float.
    """
    out: dict[str, Any] = {}
    for key in sorted(RECORD_FIELDS):
        v = record.get(key)
        if key == "occurred_at":
            out[key] = canonical_occurred_at(v)
        elif key == "value":
            out[key] = DEFAULT_VALUE if v is None else float(v)
        elif v is not None:
            out[key] = str(v)
    return out


def canonical_json(obj: Mapping[str, Any]) -> str:
    """Compact JSON with sorted keys and UTF-8 text: the bytes the ledger hashes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_day(occurred_at: str) -> dt.date:
    """The calendar day a canonical ``occurred_at`` falls on, in its own offset."""
    return dt.date.fromisoformat(occurred_at[:10])


def records_table(records: Iterable[Mapping[str, Any]], *, first_seq: int = 1) -> pa.Table:
    """Build the columnar :data:`RECORDS_SCHEMA` table from record dicts (tests, simulator).

    Records are canonicalised; ``seq`` numbers them in the given order from ``first_seq``.
    """
    cols: dict[str, list[Any]] = {name: [] for name in RECORDS_SCHEMA.names}
    for i, rec in enumerate(records):
        c = canonical_record(rec)
        if not math.isfinite(c["value"]):
            raise ValueError(f"record {c.get('id')!r}: value must be a finite number")
        cols["seq"].append(first_seq + i)
        cols["day"].append(record_day(c["occurred_at"]))
        for name in RECORD_FIELDS:
            cols[name].append(c.get(name))
    return pa.Table.from_pydict(cols, schema=RECORDS_SCHEMA)
