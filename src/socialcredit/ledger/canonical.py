"""Canonical forms of many records at once (columnar, with pyarrow compute).

:func:`socialcredit.records.canonical_record` and :func:`~socialcredit.records.canonical_json` are
the reference: for every valid record, :func:`canonical_batch` gives the same text, byte for
byte (a property test checks it), many times faster than calling them per record.

Example:
    >>> import pyarrow as pa
    >>> t = pa.table({"id": ["r1"], "subject": ["S"], "category": ["c.x"],
    ...               "occurred_at": ["2018-03-01"], "source": ["src"]})
    >>> canonical_batch(t).canonical[0]
    '{"category":"c.x","id":"r1","occurred_at":"2018-03-01T00:00:00+08:00","source":"src","subject":"S","value":1.0}'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit.records import DEFAULT_VALUE, RECORD_FIELDS, parse_occurred_at

__all__ = [
    "CanonicalBatch",
    "OccurredAt",
    "canonical_batch",
    "canonical_json_column",
    "normalise_occurred_at",
    "standard_columns",
]

_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'
# Spellings whose canonical form is a string operation away; anything else goes through
# records.parse_occurred_at one by one (the reference), so both paths agree.
_FULL = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
_NAIVE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_UTC_SECONDS = pa.timestamp("s", tz="UTC")
_REQUIRED_TEXT = ("category", "id", "occurred_at", "source", "subject")
_OPTIONAL_TEXT = ("basis", "corrects", "evidence", "reported_by")


@dataclass(frozen=True)
class OccurredAt:
    """Normalised ``occurred_at`` values: canonical text, instant, and the rows that failed."""

    canonical: pa.Array  #: string; null where the input was null or not a date
    epoch: np.ndarray  #: float64 seconds since 1970-01-01 UTC; NaN where null or not a date
    errors: dict[int, str]  #: row -> why it is not a date


@dataclass(frozen=True)
class CanonicalBatch:
    """Records in canonical form, column by column (``table`` has the standard columns)."""

    table: pa.Table  #: RECORD_FIELDS, occurred_at canonical, value filled in, plus ``day``
    canonical: list[str]  #: canonical JSON per record, the text the chain hashes
    epoch: np.ndarray  #: ``occurred_at`` as seconds since 1970 UTC


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    return _mask(pc.match_substring_regex(values, pattern))


_DIGIT_POSITIONS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24]
_PUNCTUATION = {4: b"-", 7: b"-", 10: b"T", 13: b":", 16: b":", 22: b":"}


def _all_canonical_shape(values: pa.Array) -> bool:
    """True when every value is ``YYYY-MM-DDTHH:MM:SS+HH:MM`` (not ``-00:00``, not year 0000):
    a check on the raw bytes as one (rows x 25) matrix, no per-row work."""
    if values.null_count or len(values) == 0:
        return False
    offsets, data = string_bytes(values)
    if not (np.diff(offsets) == 25).all():
        return False
    m = data.reshape(len(values), 25)
    digits = m[:, _DIGIT_POSITIONS]
    if not ((digits >= 0x30) & (digits <= 0x39)).all():
        return False
    for pos, char in _PUNCTUATION.items():
        if not (m[:, pos] == char[0]).all():
            return False
    sign = m[:, 19]
    if not ((sign == 0x2B) | (sign == 0x2D)).all():
        return False
    zero_offset = (sign == 0x2D) & (m[:, 20:25] == np.frombuffer(b"00:00", np.uint8)).all(axis=1)
    year_zero = (m[:, 0:4] == 0x30).all(axis=1)
    return not (zero_offset | year_zero).any()


def normalise_occurred_at(values: pa.Array | pa.ChunkedArray) -> OccurredAt:
    """Canonical ``occurred_at`` for a column of text (nulls stay null and are not errors).

    Example:
        >>> o = normalise_occurred_at(pa.array(["2018-03-01", "2018-02-30", None]))
        >>> o.canonical.to_pylist(), sorted(o.errors)
        (['2018-03-01T00:00:00+08:00', None, None], [1])
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    n = len(values)
    null = pc.is_null(values).to_numpy(zero_copy_only=False)
    if _all_canonical_shape(values):  # the common case: already canonical, checked on bytes
        fast, canon = np.ones(n, dtype=bool), values
    else:
        full = _matches(values, _FULL)
        full &= ~_mask(pc.ends_with(values, "-00:00"))
        full &= ~_mask(pc.starts_with(values, "0000"))
        date = _matches(values, _DATE) & ~_mask(pc.starts_with(values, "0000"))
        naive = _matches(values, _NAIVE) & ~_mask(pc.starts_with(values, "0000"))
        fast = date | naive | full
        canon = pc.if_else(
            pa.array(date),
            pc.binary_join_element_wise(values, "T00:00:00+08:00", ""),
            pc.if_else(pa.array(naive), pc.binary_join_element_wise(values, "+08:00", ""), values),
        )
    epoch = np.full(n, np.nan)
    if fast.any():
        try:
            seconds = pc.cast(canon.filter(pa.array(fast)), _UTC_SECONDS).cast(pa.int64())
        except pa.ArrowInvalid:  # an impossible date among them: sort them out one by one
            fast[:] = False
        else:
            epoch[fast] = seconds.to_numpy(zero_copy_only=False)
    slow = ~fast & ~null
    errors: dict[int, str] = {}
    if not slow.any():
        return OccurredAt(canon, epoch, errors)
    out = canon.to_pylist()
    for i in np.flatnonzero(slow).tolist():
        raw = values[i].as_py()
        try:
            when = parse_occurred_at(raw)
            out[i] = when.isoformat()
            epoch[i] = when.timestamp()
        except (ValueError, OverflowError) as exc:
            out[i] = None
            errors[i] = f"occurred_at {raw!r} is not a real ISO 8601 date or date-time ({exc})"
    return OccurredAt(pa.array(out, pa.string()), epoch, errors)


def string_bytes(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of a string array without copying: row ``i`` is
    ``bytes[offsets[i] - offsets[0]:offsets[i + 1] - offsets[0]]`` (nulls are empty)."""
    values = values.cast(pa.string())
    _, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
    if data_buf is None or len(values) == 0:
        return offsets, np.zeros(0, dtype=np.uint8)
    return offsets, np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]


def _escaped_content(values: pa.Array) -> pa.Array:
    """Each value as the inside of a JSON string literal (``json.dumps(ensure_ascii=False)``
    escapes only ``"``, ``\\`` and control characters). Checked on the raw bytes first: most
    columns need no escaping at all."""
    _, data = string_bytes(values)
    if not ((data < 0x20) | (data == 0x22) | (data == 0x5C)).any():
        return values
    escape = pc.fill_null(pc.match_substring_regex(values, _NEEDS_ESCAPE), False)
    needing = values.filter(escape).to_pylist()
    fixed = pa.array([encode_basestring(v)[1:-1] for v in needing], pa.string())
    return pc.replace_with_mask(values, escape, fixed)


def _json_numbers(values: pa.Array) -> pa.Array:
    """Each float as ``repr`` writes it (what ``json.dumps`` writes): ``1.0``, ``0.1``, ``1e+20``."""
    distinct = pc.unique(values)
    text = pa.array([repr(float(v)) for v in distinct.to_pylist()], pa.string())
    return pc.take(text, pc.index_in(values, distinct))


def canonical_json_column(table: pa.Table) -> pa.Array:
    """Canonical JSON text of each row of a :func:`standard_columns` table.

    ``occurred_at`` must already be canonical and ``value`` a non-null finite float. Built with
    one string join over the columns and the literal text between them (keys, quotes, commas);
    an optional field that is null in some rows becomes a piece of its own, empty where null.
    """
    if table.num_rows == 0:
        return pa.array([], pa.string())
    parts: list[pa.Array | str] = []
    literal = "{"
    first = True
    for name in sorted(RECORD_FIELDS):
        col = table[name].combine_chunks()
        if name == "value":
            parts += [f'{literal}{"" if first else ","}"value":', _json_numbers(col)]
            literal = "}"
            continue
        sep = "" if first else ","
        if name in _OPTIONAL_TEXT and col.null_count == len(col):
            continue
        content = _escaped_content(col)
        if name in _OPTIONAL_TEXT and col.null_count:
            if first:  # only "basis" sorts before the first required key: its own comma after
                piece = pc.binary_join_element_wise(f'"{name}":"', content, '",', "")
                parts += [literal, pc.fill_null(piece, "")]
                literal = ""
                continue
            piece = pc.binary_join_element_wise(f',"{name}":"', content, '"', "")
            parts += [literal, pc.fill_null(piece, "")]
            literal = ""
            continue
        parts += [f'{literal}{sep}"{name}":"', content]
        literal = '"'
        first = False
    parts.append(literal)
    merged: list[pa.Array | str] = []
    for part in parts:  # adjacent literals as one (fewer, longer arguments join faster)
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif not (isinstance(part, str) and part == ""):
            merged.append(part)
    return pc.binary_join_element_wise(*merged, "")


def standard_columns(table: pa.Table) -> pa.Table:
    """``table`` with exactly the record fields: text columns as strings (absent ones null),
    ``value`` as float64 with the default filled in. Other columns are dropped."""
    n = table.num_rows
    arrays = []
    for name in RECORD_FIELDS:
        if name in table.column_names:
            col = table[name].combine_chunks()
        else:
            col = pa.nulls(n, pa.float64() if name == "value" else pa.string())
        if name == "value":
            col = pc.fill_null(col.cast(pa.float64()), DEFAULT_VALUE)
        else:
            col = col.cast(pa.string())
        arrays.append(col)
    return pa.Table.from_arrays(arrays, names=list(RECORD_FIELDS))


def canonical_batch(records: pa.Table) -> CanonicalBatch:
    """Canonical forms of valid records (fields as columns; absent optional ones may be missing).

    Raises:
        ValueError: a required field is null, ``occurred_at`` is not a date, or ``value`` is
            not finite. (Ingest checks these first and reports them as rejects instead.)
    """
    table = standard_columns(records)
    for name in _REQUIRED_TEXT:
        if table[name].null_count:
            raise ValueError(f"records without {name}: every record needs {list(_REQUIRED_TEXT)}")
    values = table["value"].to_numpy()
    if not np.isfinite(values).all():
        bad = float(values[~np.isfinite(values)][0])
        raise ValueError(f"value must be a finite number, got {bad if not math.isnan(bad) else 'NaN'}")
    occ = normalise_occurred_at(table["occurred_at"])
    if occ.errors:
        raise ValueError(next(iter(occ.errors.values())))
    table = table.set_column(RECORD_FIELDS.index("occurred_at"), "occurred_at", occ.canonical)
    day = pc.utf8_slice_codeunits(occ.canonical, 0, 10)
    canonical = canonical_json_column(table).to_pylist()
    return CanonicalBatch(table.append_column("day", day), canonical, occ.epoch)
