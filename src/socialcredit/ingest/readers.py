"""Read JSONL, CSV and Parquet files in batches, streaming (a file is never loaded whole).

A JSONL batch holds parsed objects (``rows``) with their raw text; a CSV or Parquet batch holds a
pyarrow table (``table``; CSV cells are text, an empty cell is null). Lines that cannot be parsed
at all are rejected here as ``malformed``. A file that cannot be read at all raises
:class:`~socialcredit.errors.IngestError` with a one-line message.

Line numbers are 1-based: the physical line in JSONL, the data row in CSV (the header is not
counted; a quoted value spanning lines counts as one row) and Parquet.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from socialcredit.errors import IngestError
from socialcredit.ledger import Reject

__all__ = ["Batch", "Format", "detect_format", "read_batches", "row_raw"]

Format = Literal["jsonl", "csv", "parquet"]
BATCH_SIZE = 50_000
_EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_BOM = b"\xef\xbb\xbf"


@dataclass
class Batch:
    """Up to ``batch_size`` lines of one file."""

    file: str
    lines: list[int]  #: 1-based line (JSONL) or data row (CSV, Parquet) of each row
    rows: list[dict[str, Any]] | None = None  #: JSONL: the parsed objects
    raws: list[str] | None = None  #: JSONL: each row's text
    table: pa.Table | None = None  #: CSV and Parquet: the rows as columns
    rejects: list[Reject] = field(default_factory=list)  #: malformed lines
    position: int = 0  #: progress so far: bytes read (JSONL, CSV) or rows read (Parquet)
    raw_lines: list[bytes] | None = None  #: JSONL read as a table: each row's bytes

    def __len__(self) -> int:
        return len(self.lines)

    def raw(self, i: int) -> str:
        """Row ``i`` as text, for the quarantine."""
        if self.raws is not None:
            return self.raws[i]
        if self.raw_lines is not None:
            return self.raw_lines[i].decode("utf-8", "backslashreplace")
        assert self.table is not None
        row = self.table.slice(i, 1)
        try:
            return row_raw(row.to_pylist()[0])
        except (OverflowError, ValueError):  # a value Python cannot hold (a timestamp past 9999)
            return row_raw({name: _cell(row[name][0]) for name in row.column_names})


def _cell(scalar: pa.Scalar) -> Any:
    try:
        return scalar.as_py()
    except (OverflowError, ValueError):
        return f"{getattr(scalar, 'value', '?')} ({scalar.type}, out of range)"


def row_raw(row: dict[str, Any]) -> str:
    """A columnar row as JSON text (null cells left out)."""
    clean = {k: v for k, v in row.items() if v is not None}
    return json.dumps(clean, ensure_ascii=False, default=str)


def detect_format(path: Path) -> Format:
    """The format from the extension, or by looking at the first bytes."""
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt:
        return fmt
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.removeprefix(_BOM).lstrip().startswith(b"{"):
        return "jsonl"
    return "csv"


def progress_total(path: Path, fmt: Format) -> int:
    """The unit total for a progress bar: rows for Parquet, bytes for JSONL, 0 (unknown) for CSV,
    whose batches count rows."""
    if fmt == "csv":
        return 0
    if fmt == "parquet":
        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:
            return 0
    return path.stat().st_size


def read_batches(
    path: Path, *, batch_size: int = BATCH_SIZE, schema: pa.Schema | None = None
) -> Iterator[Batch]:
    """Batches of ``path`` (JSONL, CSV or Parquet, by extension or content).

    With ``schema`` (the expected fields and types), a JSONL batch in which every line fits it
    is parsed at once by pyarrow and comes as a ``table``; otherwise as ``rows``.

    Raises:
        IngestError: the file is missing, unreadable, or not in a format that can be read.
    """
    if not path.exists():
        raise IngestError(f"{path}: no such file")
    if not path.is_file():
        raise IngestError(f"{path}: not a file")
    try:
        fmt = detect_format(path)
        if fmt == "jsonl":
            yield from _jsonl(path, batch_size, schema)
        else:
            yield from {"csv": _csv, "parquet": _parquet}[fmt](path, batch_size)
    except IngestError:
        raise
    except (OSError, pa.ArrowException) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IngestError(f"{path}: cannot be read: {first}") from None


def _jsonl(path: Path, batch_size: int, schema: pa.Schema | None) -> Iterator[Batch]:
    """Non-blank lines in batches; each batch parsed by :func:`_parse_jsonl`."""
    lines: list[bytes] = []
    numbers: list[int] = []
    position = 0
    with path.open("rb") as fh:
        for lineno, data in enumerate(fh, 1):
            position += len(data)
            if lineno == 1:
                data = data.removeprefix(_BOM)
            if data.isspace() or not data:
                continue
            lines.append(data.rstrip(b"\r\n"))
            numbers.append(lineno)
            if len(lines) >= batch_size:
                yield _parse_jsonl(str(path), lines, numbers, schema, position)
                lines, numbers = [], []
    if lines:
        yield _parse_jsonl(str(path), lines, numbers, schema, position)


def _parse_jsonl_fast(lines: list[bytes], schema: pa.Schema) -> pa.Table | None:
    """All lines at once with pyarrow's JSON reader, or ``None`` when any line needs a closer
    look (not valid JSON, an unknown field, a wrong type, two objects on one line, -0, a line
    that is not an object): then every line goes through Python's json module, which gives each
    its own reason."""
    # pyarrow's reader (26.0) crashes the process on a file holding only ``null`` and reads a
    # ``null`` line as a row of nulls: only lines that open an object go to it.
    if not all(line.lstrip().startswith(b"{") for line in lines):
        return None
    try:
        table = pajson.read_json(
            io.BytesIO(b"\n".join(lines)),
            read_options=pajson.ReadOptions(use_threads=False, block_size=64 << 20),
            parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != len(lines):
        return None
    try:
        table.validate(full=True)  # the reader does not check that all text is UTF-8
    except pa.ArrowInvalid:
        return None
    for f in schema:
        if pa.types.is_floating(f.type):
            values = table[f.name].to_numpy(zero_copy_only=False)
            if (np.signbit(values) & (values == 0)).any():  # json.loads reads -0 as int 0
                return None
    return table


def _parse_jsonl(
    name: str, lines: list[bytes], numbers: list[int], schema: pa.Schema | None, position: int
) -> Batch:
    if schema is not None:
        table = _parse_jsonl_fast(lines, schema)
        if table is not None:
            return Batch(name, numbers, table=table, raw_lines=lines, position=position)
    batch = Batch(name, [], rows=[], raws=[], position=position)
    loads = json.loads
    for lineno, data in zip(numbers, lines, strict=True):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = data.decode("utf-8", "backslashreplace")
            msg = f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {exc.start + 1})"
            batch.rejects.append(Reject(name, lineno, None, "malformed", msg, raw))
            continue
        try:
            obj = loads(text)
        except ValueError as exc:
            msg = f"not valid JSON ({exc}): each line must be one JSON object"
            batch.rejects.append(Reject(name, lineno, None, "malformed", msg, text))
            continue
        except RecursionError:  # json's C decoder gives up on deep nesting this way
            msg = "not valid JSON (nested too deeply): each line must be one flat JSON object"
            batch.rejects.append(Reject(name, lineno, None, "malformed", msg, text))
            continue
        if type(obj) is not dict:
            msg = f"not a JSON object (got {type(obj).__name__}): each line must be {{...}}"
            batch.rejects.append(Reject(name, lineno, None, "malformed", msg, text))
            continue
        batch.lines.append(lineno)
        batch.rows.append(obj)  # type: ignore[union-attr]
        batch.raws.append(text)  # type: ignore[union-attr]
    return batch


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IngestError(f"{path}: the CSV header is not UTF-8 text") from None
    header = next(csv.reader(io.StringIO(text)), [])
    names = [h.strip() for h in header]
    dupes = sorted({h for h in names if names.count(h) > 1})
    if dupes:
        raise IngestError(f"{path}: the CSV header repeats {', '.join(dupes)}")
    return header


def _to_text(table: pa.Table, lines: list[int], name: str) -> tuple[pa.Table, list[int], list[Reject]]:
    """Cast binary CSV columns to text; rows with bytes that are not UTF-8 become rejects."""
    try:
        return table.cast(pa.schema([(f.name, pa.string()) for f in table.schema])), lines, []
    except pa.ArrowInvalid:
        pass
    rows = table.to_pylist()
    good, rejects = [], []
    for i, row in enumerate(rows):
        try:
            {k: v.decode("utf-8") for k, v in row.items() if v is not None}
            good.append(i)
        except UnicodeDecodeError:
            raw = ",".join(v.decode("utf-8", "backslashreplace") for v in row.values() if v)
            rejects.append(Reject(name, lines[i], None, "malformed", "not UTF-8 text", raw))
    table = table.take(pa.array(good, pa.int64()))
    table = table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
    return table, [lines[i] for i in good], rejects


def _all_utf8(path: Path) -> bool:
    """Whether the whole file is UTF-8 text (read in 1 MiB chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_checked(path: Path, header: list[str], batch_size: int) -> Iterator[Batch]:
    """A CSV file with bytes that are not UTF-8, row by row with Python's csv module (the bytes
    kept as they are through ``surrogateescape``): what the fast path gives for every row it can
    read, and a reject for each row it cannot — rows with bytes that are not UTF-8, rows with
    the wrong number of cells, rows the csv module refuses (a NUL byte)."""
    name = str(path)
    names = [h.strip() for h in header]
    csv.field_size_limit(2**31 - 1)  # a 10 MB line is a reject downstream, not a crash here
    number = read = 0
    lines: list[int] = []
    cells: list[list[bytes | None]] = [[] for _ in names]
    rejects: list[Reject] = []

    def batch() -> Batch:
        nonlocal lines, cells, rejects, read
        table = pa.Table.from_arrays([pa.array(c, pa.binary()) for c in cells], names=names)
        table, good, bad_text = _to_text(table, lines, name)
        read += table.num_rows
        out = Batch(name, good, table=table, rejects=rejects + bad_text, position=read)
        lines, cells, rejects = [], [[] for _ in names], []
        return out

    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        rows = csv.reader(fh)
        try:
            next(rows)  # the header
        except (StopIteration, csv.Error):
            return
        while True:
            try:
                fields = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                number += 1
                rejects.append(Reject(name, number, None, "malformed", f"unreadable CSV row: {exc}", ""))
                continue
            if not fields:
                continue  # an empty line, skipped as the fast path skips it
            number += 1
            if len(fields) != len(names):
                raw = ",".join(fields).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                rejects.append(
                    Reject(name, number, None, "malformed", "wrong number of cells for the header", raw)
                )
            else:
                lines.append(number)
                for col, v in zip(cells, fields, strict=True):
                    col.append(v.encode("utf-8", "surrogateescape") if v != "" else None)
            if len(lines) + len(rejects) >= max(batch_size, 1):
                yield batch()
    if lines or rejects:
        yield batch()


def _csv(path: Path, batch_size: int) -> Iterator[Batch]:
    name = str(path)
    if path.stat().st_size == 0:
        return
    header = _csv_header(path)  # as written (pyarrow matches column types by these names)
    if not any(h.strip() for h in header):
        return
    if not _all_utf8(path):
        # pyarrow decodes a malformed row's text before handing it over, and a row that is
        # both malformed and not UTF-8 would fail the whole file: such files take the slow path
        yield from _csv_checked(path, header, batch_size)
        return
    invalid: dict[int, str] = {}

    def on_invalid(row: Any) -> str:
        number = row.number - 1 if row.number and row.number > 0 else -len(invalid) - 1
        invalid[number] = row.text
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False, block_size=max(batch_size, 1) * 160),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.binary() for h in header},
            null_values=[""],  # only an empty cell is absent ("NA", "null", "nan" are text)
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    next_row = 1
    rows_read = 0
    for record_batch in reader:
        table = pa.Table.from_batches([record_batch])
        table = table.rename_columns([c.strip() for c in table.column_names])
        lines = []
        for _ in range(table.num_rows):
            while next_row in invalid:
                next_row += 1
            lines.append(next_row)
            next_row += 1
        rejects = [
            Reject(name, abs(n), None, "malformed", "wrong number of cells for the header", text)
            for n, text in sorted(invalid.items())
        ]
        invalid.clear()
        table, lines, bad_text = _to_text(table, lines, name)
        rows_read += table.num_rows
        yield Batch(name, lines, table=table, rejects=rejects + bad_text, position=rows_read)
    if invalid:
        rejects = [
            Reject(name, abs(n), None, "malformed", "wrong number of cells for the header", text)
            for n, text in sorted(invalid.items())
        ]
        yield Batch(name, [], table=None, rejects=rejects, position=rows_read)


def _parquet(path: Path, batch_size: int) -> Iterator[Batch]:
    name = str(path)
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: an empty file is not a Parquet file")
    pfile = pq.ParquetFile(path)
    row = 0
    for record_batch in pfile.iter_batches(batch_size=batch_size):
        table = pa.Table.from_batches([record_batch])
        table = _plain(table)
        lines = list(range(row + 1, row + table.num_rows + 1))
        row += table.num_rows
        yield Batch(name, lines, table=table, position=row)


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary-encoded and large string columns as plain strings."""
    for i, f in enumerate(table.schema):
        typ = f.type
        if pa.types.is_dictionary(typ) or pa.types.is_large_string(typ):
            value_type = typ.value_type if pa.types.is_dictionary(typ) else typ
            target = pa.string() if pa.types.is_large_string(value_type) else value_type
            table = table.set_column(i, f.name, pc.cast(table[f.name], target))
    return table
