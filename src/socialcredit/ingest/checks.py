"""Record validation, column by column: each check drops the rows it rejects, in reason order.

A batch goes through the checks in the order of :data:`~socialcredit.ingest.report.RECORD_REASONS`,
so every rejected line gets the first reason that applies. Valid lines come out in canonical form,
ready for the ledger (which settles ``conflict`` and duplicates, since it alone knows what is
stored). Per-row Python runs only for JSONL parsing and for the rows that fail a check.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit import ids
from socialcredit.errors import IdentifierError
from socialcredit.ingest.readers import Batch
from socialcredit.ledger import Ledger, Reject
from socialcredit.ledger.canonical import (
    CanonicalBatch,
    canonical_json_column,
    normalise_occurred_at,
    standard_columns,
    string_bytes,
)
from socialcredit.records import (
    OPTIONAL_FIELDS,
    RECORD_FIELDS,
    REQUIRED_FIELDS,
    parse_occurred_at,
)
from socialcredit.vocabulary import vocabulary

__all__ = ["Checks", "check_batch"]

_FIELDS = frozenset(RECORD_FIELDS)
_TEXT = tuple(f for f in RECORD_FIELDS if f != "value")
_OPTIONAL_TEXT = tuple(f for f in OPTIONAL_FIELDS if f != "value")
_FIELD_LIST = ", ".join(RECORD_FIELDS)
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # high (d800-dbff) and low (dc00-dfff) halves
_NUMBER = re.compile(r"^\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")
_SEP = "\x1f"


@dataclass(frozen=True)
class Checks:
    """What validation compares against, loaded once per ingest."""

    subjects: pa.Array  #: every subject id in the registry
    categories: pa.Array  #: every category id
    pairs: pa.Array  #: "source\\x1fcategory" for every authorised pair
    sources: frozenset[str]
    now: dt.datetime

    @classmethod
    def load(cls, ledger: Ledger, now: dt.datetime | str | None = None) -> Checks:
        voc = vocabulary()
        clock = dt.datetime.now(dt.UTC) if now is None else parse_occurred_at(now)
        pairs = [f"{s}{_SEP}{c.id}" for c in voc.categories.values() for s in c.sources]
        return cls(
            subjects=ledger.subject_ids(),
            categories=pa.array(sorted(voc.categories), pa.string()),
            pairs=pa.array(pairs, pa.string()),
            sources=frozenset(voc.sources),
            now=clock,
        )


@dataclass
class Checked:
    """The outcome of :func:`check_batch`."""

    valid: CanonicalBatch | None  #: the valid rows in canonical form (None when there are none)
    index: np.ndarray  #: batch row of each valid row
    rejects: list[Reject]


def _mask(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean arrow array as numpy (null is false)."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _blank(col: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Null, empty or only whitespace (checked on the raw bytes first: usually none is)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    null = _mask(pc.is_null(col))
    offsets, data = string_bytes(col)
    if not ((data <= 0x20) | (data >= 0x80)).any():  # no whitespace, nothing non-ASCII
        return null | (np.diff(offsets) == 0)
    return _mask(pc.equal(pc.utf8_trim_whitespace(col), "")) | null


def _in_registry(col: pa.Array | pa.ChunkedArray, subjects: pa.Array) -> np.ndarray:
    """Which values of ``col`` are registry subjects (null counts as known: nothing to check).

    Probes the registry against the batch's distinct values (a hash table of the batch, not
    of the whole registry, is built per call): usually every value is known."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    null = _mask(pc.is_null(col))
    if null.all():
        return null
    distinct = pc.unique(col.drop_null())
    known = subjects.filter(pc.is_in(subjects, value_set=distinct))
    if len(known) == len(distinct):
        return np.ones(len(col), dtype=bool)
    return _mask(pc.is_in(col, value_set=known)) | null


def _close(value: str, known: list[str]) -> str:
    near = difflib.get_close_matches(value, known, n=3)
    return f" (did you mean {', '.join(near)}?)" if near else ""


class _Sieve:
    """Drops rejected rows from the working table, keeping each reject's line and raw text."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.rejects: list[Reject] = list(batch.rejects)

    def record_id(self, i: int, table: pa.Table, j: int) -> str | None:
        if self.batch.rows is not None:
            rid = self.batch.rows[i].get("id")
            return rid if isinstance(rid, str) else None
        if "id" in table.column_names and pa.types.is_string(table.schema.field("id").type):
            return table["id"][j].as_py()
        return None

    def reject(self, i: int, rid: str | None, reason: str, message: str) -> None:
        b = self.batch
        if rid is not None and not rid.isascii():
            try:
                rid.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (a JSON escape) cannot be stored as text
                rid = rid.encode("utf-8", "backslashreplace").decode("utf-8")
        self.rejects.append(Reject(b.file, b.lines[i], rid, reason, message, b.raw(i)))

    def drop(
        self,
        table: pa.Table,
        index: np.ndarray,
        mask: np.ndarray,
        reason: str,
        message: Callable[[int], str],
    ) -> tuple[pa.Table, np.ndarray]:
        """Reject the rows of ``table`` where ``mask`` is true; return the rest."""
        if not mask.any():
            return table, index
        for j in np.flatnonzero(mask).tolist():
            i = int(index[j])
            self.reject(i, self.record_id(i, table, j), reason, message(j))
        keep = ~mask
        return table.filter(pa.array(keep)), index[keep]


# -- JSONL: per-row shape and type checks ------------------------------------------------------


def _row_problem(obj: dict[str, Any], raw: str) -> tuple[str, str] | None:
    """(reason, message) for a parsed JSON object, up to ``bad_type``; ``None`` when it passes."""
    if not obj.keys() <= _FIELDS:
        extra = sorted(k for k in obj if k not in _FIELDS)
        return "unknown_field", (
            f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}: "
            f"a record has only {_FIELD_LIST}"
        )
    missing = [k for k in REQUIRED_FIELDS if not (v := obj.get(k)) or (type(v) is str and v.isspace())]
    # a present-but-falsy non-string (0, false, []) is a type problem, not a missing one
    missing = [k for k in missing if obj.get(k) is None or type(obj.get(k)) is str]
    if missing:
        need = ", ".join(REQUIRED_FIELDS)
        return "missing_field", f"missing {', '.join(missing)}: every record needs {need}"
    for k in _TEXT:
        v = obj.get(k)
        if v is not None and type(v) is not str:
            return "bad_type", f"{k} must be text, got {type(v).__name__} {v!r}"
    v = obj.get("value")
    if v is not None:
        if type(v) not in (int, float):
            return "bad_type", f"value must be a number, got {type(v).__name__} {v!r}"
        try:
            f = float(v)
        except OverflowError:
            return "bad_type", "value is too large to be a number"
        if not math.isfinite(f):
            return "bad_type", f"value must be a finite number, got {v!r}"
    if _SURROGATE.search(raw):
        for k in _TEXT:
            s = obj.get(k)
            if s is not None:
                try:
                    s.encode("utf-8")
                except UnicodeEncodeError:
                    return "bad_type", f"{k} is not valid Unicode text (a lone surrogate escape)"
    return None


def _from_rows(batch: Batch, sieve: _Sieve) -> tuple[pa.Table, np.ndarray]:
    rows = batch.rows
    assert rows is not None and batch.raws is not None
    good: list[int] = []
    for i, (obj, raw) in enumerate(zip(rows, batch.raws, strict=True)):
        problem = _row_problem(obj, raw)
        if problem is None:
            good.append(i)
        else:
            rid = obj.get("id")
            sieve.reject(i, rid if isinstance(rid, str) else None, *problem)
    picked = [rows[i] for i in good]
    arrays = []
    for name in RECORD_FIELDS:
        values = [obj.get(name) for obj in picked]
        if name == "value":
            arrays.append(pa.array([None if v is None else float(v) for v in values], pa.float64()))
        else:
            arrays.append(pa.array(values, pa.string()))
    table = pa.Table.from_arrays(arrays, names=list(RECORD_FIELDS))
    return standard_columns(table), np.asarray(good, dtype=np.int64)


# -- CSV and Parquet: the same checks on columns -----------------------------------------------


def _is_number(typ: pa.DataType) -> bool:
    t = pa.types
    return t.is_integer(typ) or t.is_floating(typ) or t.is_decimal(typ) or t.is_null(typ)


def _is_text(typ: pa.DataType) -> bool:
    return pa.types.is_string(typ) or pa.types.is_large_string(typ)


def _occurred_text(col: pa.ChunkedArray) -> pa.Array | None:
    """A date or timestamp column as ISO text (``None`` when the type cannot be a date)."""
    typ = col.type
    if pa.types.is_date(typ):
        return pc.cast(col, pa.date32()).cast(pa.string()).combine_chunks()
    if pa.types.is_timestamp(typ):
        try:
            return pa.array([None if v is None else v.isoformat() for v in col.to_pylist()], pa.string())
        except (OverflowError, ValueError):  # beyond Python's years 1 to 9999 (in the column's zone)
            out: list[str | None] = []
            for scalar, raw in zip(col, col.cast(pa.int64()).to_pylist(), strict=True):
                try:
                    out.append(None if raw is None else scalar.as_py().isoformat())
                except (OverflowError, ValueError):
                    out.append(f"{raw} {typ.unit} since 1970 (out of range)")
            return pa.array(out, pa.string())
    return None


def _parse_values(col: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """A CSV ``value`` column as floats, and the rows that are not numbers."""
    col = col.combine_chunks()
    try:
        return pc.cast(col, pa.float64()), np.zeros(len(col), dtype=bool)
    except pa.ArrowInvalid:
        pass
    out: list[float | None] = []
    bad = np.zeros(len(col), dtype=bool)
    for j, text in enumerate(col.to_pylist()):
        if text is None or not text.strip():
            out.append(None)
        elif _NUMBER.match(text):
            out.append(float(text))
        else:
            out.append(None)
            bad[j] = True
    return pa.array(out, pa.float64()), bad


def _from_table(batch: Batch, sieve: _Sieve) -> tuple[pa.Table, np.ndarray]:
    table = batch.table
    assert table is not None
    index = np.arange(table.num_rows, dtype=np.int64)
    extra = [c for c in table.column_names if c not in _FIELDS]
    if extra:
        present = np.zeros(table.num_rows, dtype=bool)
        for c in extra:
            present |= _mask(pc.is_valid(table[c]))

        def unknown(j: int) -> str:
            names = [c for c in extra if table[c][j].is_valid]
            return (
                f"unknown field{'s' if len(names) > 1 else ''} {', '.join(map(repr, names))}: "
                f"a record has only {_FIELD_LIST}"
            )

        table, index = sieve.drop(table, index, present, "unknown_field", unknown)
        table = table.drop_columns(extra)
    n = table.num_rows
    missing: dict[str, np.ndarray] = {}
    for name in REQUIRED_FIELDS:
        if name not in table.column_names:
            missing[name] = np.ones(n, dtype=bool)
        elif _is_text(table.schema.field(name).type):
            missing[name] = _blank(table[name])
        else:
            missing[name] = _mask(pc.is_null(table[name]))
    any_missing = np.zeros(n, dtype=bool)
    for m in missing.values():
        any_missing |= m

    def missing_message(j: int) -> str:
        names = [k for k, m in missing.items() if m[j]]
        where = " (the file has no such column)" if any(k not in table.column_names for k in names) else ""
        return f"missing {', '.join(names)}{where}: every record needs {', '.join(REQUIRED_FIELDS)}"

    table, index = sieve.drop(table, index, any_missing, "missing_field", missing_message)
    # types: text columns must be text (occurred_at may also be a date or timestamp); value a number
    for name in [c for c in table.column_names if c != "value"]:
        col = table[name]
        if _is_text(col.type):
            continue
        converted = _occurred_text(col) if name == "occurred_at" else None
        if converted is not None:
            table = table.set_column(table.column_names.index(name), name, converted)
            continue
        if pa.types.is_null(col.type):
            table = table.set_column(table.column_names.index(name), name, col.cast(pa.string()))
            continue
        typ = col.type
        table, index = sieve.drop(
            table,
            index,
            _mask(pc.is_valid(col)),
            "bad_type",
            lambda j, name=name, typ=typ: f"{name} must be text; this file's {name} column is {typ}",
        )
        table = table.set_column(table.column_names.index(name), name, pa.nulls(table.num_rows, pa.string()))
    if "value" in table.column_names:
        col = table["value"]
        if _is_text(col.type):
            values, bad = _parse_values(col)
            raw_values = col
            table, index = sieve.drop(
                table,
                index,
                bad,
                "bad_type",
                lambda j: f"value must be a number, got {raw_values[j].as_py()!r}",
            )
            values = values.filter(pa.array(~bad)) if bad.any() else values
            table = table.set_column(table.column_names.index("value"), "value", values)
        elif _is_number(col.type):
            table = table.set_column(table.column_names.index("value"), "value", pc.cast(col, pa.float64()))
        else:
            typ = col.type
            table, index = sieve.drop(
                table,
                index,
                _mask(pc.is_valid(col)),
                "bad_type",
                lambda j: f"value must be a number; this file's value column is {typ}",
            )
            table = table.set_column(
                table.column_names.index("value"), "value", pa.nulls(table.num_rows, pa.float64())
            )
    return standard_columns(table), index


# -- the checks every format shares -------------------------------------------------------------


def _identifiers(
    table: pa.Table, index: np.ndarray, checks: Checks, sieve: _Sieve
) -> tuple[pa.Table, np.ndarray]:
    """``bad_identifier`` then ``unknown_subject`` for ``subject`` and ``reported_by``."""
    n = table.num_rows
    bad: dict[int, str] = {}
    unknown: dict[int, str] = {}
    for name in ("subject", "reported_by"):
        col = table[name]
        known = _in_registry(col, checks.subjects)
        if known.all():
            continue
        values = col.to_pylist()
        fixed: dict[int, str] = {}
        for j in np.flatnonzero(~known).tolist():
            try:
                _, norm = ids.validate_identifier(values[j])
            except IdentifierError as exc:
                bad.setdefault(j, f"{name}: {exc}")
                continue
            if norm != values[j]:
                fixed[j] = norm
            else:
                unknown.setdefault(
                    j,
                    f"{name} {values[j]!r} is not in the registry: import it "
                    "first with `socialcredit registry import`",
                )
        if fixed:
            norms = pa.array(list(fixed.values()), pa.string())
            in_registry = _mask(pc.is_in(norms, value_set=checks.subjects))
            for (j, norm), ok in zip(fixed.items(), in_registry, strict=True):
                if ok:
                    values[j] = norm
                else:
                    unknown.setdefault(
                        j,
                        f"{name} {norm!r} is not in the registry: import it "
                        "first with `socialcredit registry import`",
                    )
            table = table.set_column(table.column_names.index(name), name, pa.array(values, pa.string()))
    bad_mask = np.zeros(n, dtype=bool)
    bad_mask[list(bad)] = True
    unknown_mask = np.zeros(n, dtype=bool)
    unknown_mask[list(unknown)] = True
    unknown_mask &= ~bad_mask
    positions = np.flatnonzero(~bad_mask)  # row j of the table after the first drop
    table, index = sieve.drop(table, index, bad_mask, "bad_identifier", lambda j: bad[j])
    unknown_after = unknown_mask[positions]
    return sieve.drop(table, index, unknown_after, "unknown_subject", lambda j: unknown[int(positions[j])])


def check_batch(batch: Batch, checks: Checks) -> Checked:
    """Validate one batch: the valid rows in canonical form, and a reject for every other."""
    sieve = _Sieve(batch)
    if batch.rows is not None:
        table, index = _from_rows(batch, sieve)
    elif batch.table is not None:
        table, index = _from_table(batch, sieve)
    else:
        return Checked(None, np.zeros(0, dtype=np.int64), sieve.rejects)
    # blank optional text is the same as absent (an empty CSV cell, or "" in JSON)
    for name in _OPTIONAL_TEXT:
        if table[name].null_count == table.num_rows:
            continue
        blank = _blank(table[name]) & _mask(pc.is_valid(table[name]))
        if blank.any():
            col = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), table[name])
            table = table.set_column(table.column_names.index(name), name, col)
    # bad_type: occurred_at must be a real date, value a finite number
    occ = normalise_occurred_at(table["occurred_at"])
    table = table.set_column(table.column_names.index("occurred_at"), "occurred_at", occ.canonical)
    table = table.append_column("_epoch", pa.array(occ.epoch, pa.float64()))
    not_date = np.zeros(table.num_rows, dtype=bool)
    not_date[list(occ.errors)] = True
    table, index = sieve.drop(table, index, not_date, "bad_type", lambda j: occ.errors[j])
    finite = _mask(pc.is_finite(table["value"]))
    values = table["value"]
    table, index = sieve.drop(
        table,
        index,
        ~finite,
        "bad_type",
        lambda j: f"value must be a finite number, got {values[j].as_py()!r}",
    )
    table, index = _identifiers(table, index, checks, sieve)
    # unknown_category
    known_cat = _mask(pc.is_in(table["category"], value_set=checks.categories))
    cats = table["category"]
    all_cats = checks.categories.to_pylist()
    table, index = sieve.drop(
        table,
        index,
        ~known_cat,
        "unknown_category",
        lambda j: (
            f"unknown category {cats[j].as_py()!r}{_close(cats[j].as_py(), all_cats)}: "
            "see `socialcredit sources list` for what each source may report"
        ),
    )
    # unauthorized_source
    pair = pc.binary_join_element_wise(table["source"], table["category"], _SEP)
    allowed = _mask(pc.is_in(pair, value_set=checks.pairs))
    srcs, cats = table["source"], table["category"]

    def unauthorised(j: int) -> str:
        src, cat = srcs[j].as_py(), cats[j].as_py()
        if src not in checks.sources:
            return (
                f"unknown source {src!r}{_close(src, sorted(checks.sources))}: see "
                "`socialcredit sources list`"
            )
        may = vocabulary().category(cat).sources
        return f"source {src!r} may not report {cat!r} (only {', '.join(may)} may)"

    table, index = sieve.drop(table, index, ~allowed, "unauthorized_source", unauthorised)
    # future
    now = checks.now.timestamp()
    future = table["_epoch"].to_numpy() > now
    occurred = table["occurred_at"]
    table, index = sieve.drop(
        table,
        index,
        future,
        "future",
        lambda j: (
            f"occurred_at {occurred[j].as_py()} is after the ingest clock "
            f"{checks.now.isoformat(timespec='seconds')}: fix the date, or set the clock with --now"
        ),
    )
    epoch = table["_epoch"].to_numpy()
    table = table.drop_columns(["_epoch"])
    if table.num_rows == 0:
        return Checked(None, index, sieve.rejects)
    canonical = canonical_json_column(table).to_pylist()
    day = pc.utf8_slice_codeunits(table["occurred_at"], 0, 10)
    valid = CanonicalBatch(table.append_column("day", day), canonical, epoch)
    return Checked(valid, index, sieve.rejects)
