"""Hypothesis fuzzing of the JSONL, CSV and Parquet readers, the record checks, the registry
import and the rulebook loader.

Each test generates hostile inputs (tests/fuzz_helpers.py: nasty text, numbers at the edges,
impossible dates, broken JSON, stray bytes, BOMs and CRLFs, random column types) and asserts:
no exception escapes but the documented refusal (``IngestError`` reported per file,
``RulebookInvalid`` for a rulebook); every line is accepted, a duplicate, or rejected with a known
reason and a message (``lost`` counts the others and must stay 0); the ledger holds exactly what
was accepted and verifies. Small by default; ``make fuzz`` runs the ``fuzz`` profile.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from fuzz_helpers import (
    Figures,
    counted_jsonl_lines,
    csv_cell,
    dates,
    examples,
    jsonl_files,
    mutated,
    nasty_text,
    records,
    registry_lines,
    yaml_data,
)
from ingest_helpers import NOW, Tiny
from socialcredit.errors import SocialCreditError
from socialcredit.ingest import import_registry_files, ingest_files
from socialcredit.ingest.report import RECORD_REASONS, REGISTRY_REASONS
from socialcredit.ledger import Ledger, open_ledger, verify
from socialcredit.records import RECORD_FIELDS
from socialcredit.rulebooks.loader import builtin_paths, load_rulebook

TINY = Tiny()
_names = itertools.count()


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """One SQLite ledger per module, shared by every example (the counts are checked as deltas)."""
    with open_ledger(tmp_path_factory.mktemp("fuzz") / "ledger.db") as opened:
        opened.append_registry(TINY.registry)
        yield opened


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-files")


def check_ingest(ledger: Ledger, path: Path, lines: int | None, figures: Figures) -> None:
    """Ingest ``path`` and check the report: every line accounted for, each reject explained,
    exactly the accepted records stored. ``lines=None``: the file may be unreadable (then one
    clear error and nothing stored)."""
    before = ledger.counts()["records"]
    report = ingest_files(ledger, [path], now=NOW)
    for r in report.rejects:
        assert r.reason in RECORD_REASONS and r.message and r.line >= 1, r
    assert ledger.counts()["records"] - before == report.accepted
    if report.errors:
        assert lines is None, report.errors
        assert len(report.errors) == 1 and str(path) in report.errors[0].message
        assert "\n" not in report.errors[0].message and "Traceback" not in report.errors[0].message
        return
    if lines is not None:
        figures.lines += lines
        lost = lines - (report.accepted + report.duplicates + report.rejected)
        figures.lost += abs(lost)
        assert lost == 0, (lines, report.accepted, report.duplicates, report.rejected)


# -- JSONL -------------------------------------------------------------------------------------------


def finish(figures: Figures, ledger: Ledger) -> None:
    """After a test's examples: the shared ledger verifies; the figures are reported."""
    assert verify(ledger).ok
    assert figures.inputs and figures.crashes == 0 and figures.lost == 0
    figures.report()


def test_fuzz_jsonl(ledger: Ledger, workdir: Path) -> None:
    figures = Figures("jsonl_reader")

    @examples(30)
    @given(data=jsonl_files(TINY))
    def run(data: bytes) -> None:
        with figures.example():
            path = workdir / f"f{next(_names)}.jsonl"
            path.write_bytes(data)
            check_ingest(ledger, path, counted_jsonl_lines(data), figures)
            path.unlink()

    run()
    finish(figures, ledger)


def test_fuzz_record_values(ledger: Ledger, workdir: Path) -> None:
    """Records as JSON (the pyarrow fast path and the line-by-line path both see them)."""
    figures = Figures("record_values")

    @examples(20)
    @given(recs=st.lists(records(TINY), min_size=1, max_size=8))
    def run(recs: list[dict[str, Any]]) -> None:
        with figures.example():
            path = workdir / f"r{next(_names)}.jsonl"
            path.write_bytes(b"\n".join(json.dumps(r).encode("utf-8", "surrogatepass") for r in recs) + b"\n")
            check_ingest(ledger, path, len(recs), figures)
            path.unlink()

    run()
    finish(figures, ledger)


# -- CSV ---------------------------------------------------------------------------------------------


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """A CSV file and its row count (``None`` when the header itself may be refused)."""
    names = draw(st.lists(st.sampled_from([*RECORD_FIELDS, "mood", " id ", ""]), min_size=1, max_size=8))
    rows = draw(st.lists(st.lists(csv_cell(), min_size=len(names), max_size=len(names)), max_size=8))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(names)
    for row in rows:
        if draw(st.booleans()):  # a valid record in the row's first cells, when the header has them
            rec = TINY.record(draw(st.integers(0, 99)))
            row = [rec.get(n, cell) for n, cell in zip(names, row, strict=True)]
        writer.writerow(row)
    data = buffer.getvalue().encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    stripped = [n.strip() for n in names]
    clean = len(set(stripped)) == len(stripped) and any(stripped)
    # Rows as a standard CSV reader sees them: the writer leaves a lone CR in a cell unquoted
    # when the line terminator is LF, and every reader then ends the row there; blank lines
    # are no rows.
    seen = sum(1 for row in csv.reader(io.StringIO(buffer.getvalue(), newline="")) if row) - 1
    return data, seen if clean else None


def test_fuzz_csv(ledger: Ledger, workdir: Path) -> None:
    figures = Figures("csv_reader")

    @examples(30)
    @given(case=csv_files())
    def run(case: tuple[bytes, int | None]) -> None:
        data, lines = case
        with figures.example():
            path = workdir / f"c{next(_names)}.csv"
            path.write_bytes(data)
            check_ingest(ledger, path, lines, figures)
            path.unlink()

    run()
    finish(figures, ledger)


def test_fuzz_raw_bytes_in_any_format(ledger: Ledger, workdir: Path) -> None:
    """Bytes that are nothing in particular: read, or refused in one line; never a crash."""
    figures = Figures("raw_bytes")

    @examples(20)
    @given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".jsonl", ".parquet", ""]))
    def run(data: bytes, suffix: str) -> None:
        with figures.example():
            path = workdir / f"b{next(_names)}{suffix}"
            path.write_bytes(data)
            check_ingest(ledger, path, None, figures)
            path.unlink()

    run()
    finish(figures, ledger)


# -- Parquet -----------------------------------------------------------------------------------------

_TYPES = ["string", "large_string", "binary", "int64", "float64", "bool", "date32", "timestamp", "null",
          "dictionary", "list", "struct"]  # fmt: skip


@st.composite
def parquet_columns(draw: st.DrawFn, name: str, n: int) -> pa.Array:
    kind = draw(st.sampled_from(_TYPES))
    rec = [TINY.record(i) for i in range(n)]
    text = st.one_of(st.none(), nasty_text().map(lambda s: s.encode("utf-8", "replace").decode()))
    if kind in ("string", "large_string", "dictionary"):
        values = [r.get(name) if draw(st.booleans()) else draw(text) for r in rec]
        arr = pa.array(values, pa.large_string() if kind == "large_string" else pa.string())
        return arr.dictionary_encode() if kind == "dictionary" else arr
    if kind == "binary":
        return pa.array([draw(st.one_of(st.none(), st.binary(max_size=12))) for _ in rec], pa.binary())
    if kind == "int64":
        return pa.array(
            [draw(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))) for _ in rec], pa.int64()
        )
    if kind == "float64":
        return pa.array([draw(st.one_of(st.none(), st.floats())) for _ in rec], pa.float64())
    if kind == "bool":
        return pa.array([draw(st.one_of(st.none(), st.booleans())) for _ in rec], pa.bool_())
    if kind == "date32":
        return pa.array([draw(st.one_of(st.none(), st.dates())) for _ in rec], pa.date32())
    if kind == "timestamp":
        unit = draw(st.sampled_from(["s", "ms", "us"]))
        tz = draw(st.sampled_from([None, "UTC", "Asia/Shanghai", "+14:00"]))
        limit = {"s": 253402300799, "ms": 253402300799000, "us": 253402300799000000}[unit]
        ints = [draw(st.one_of(st.none(), st.integers(-limit // 4, limit))) for _ in rec]
        return pa.array(ints, pa.int64()).cast(pa.timestamp(unit, tz))
    if kind == "null":
        return pa.nulls(n)
    if kind == "list":
        return pa.array([draw(st.one_of(st.none(), st.lists(st.text(max_size=3), max_size=2))) for _ in rec])
    return pa.array([{"a": draw(st.integers(0, 9))} for _ in rec])


@st.composite
def parquet_tables(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(0, 6))
    names = draw(st.lists(st.sampled_from([*RECORD_FIELDS, "mood"]), min_size=1, max_size=9, unique=True))
    return pa.table({name: draw(parquet_columns(name, n)) for name in names})


def test_fuzz_parquet(ledger: Ledger, workdir: Path) -> None:
    figures = Figures("parquet_reader")

    @examples(20)
    @given(table=parquet_tables())
    def run(table: pa.Table) -> None:
        with figures.example():
            path = workdir / f"p{next(_names)}.parquet"
            pq.write_table(table, path)
            check_ingest(ledger, path, table.num_rows, figures)
            path.unlink()

    run()
    finish(figures, ledger)


# -- the registry ------------------------------------------------------------------------------------


def test_fuzz_registry(ledger: Ledger, workdir: Path) -> None:
    figures = Figures("registry_import")

    @examples(20)
    @given(lines=st.lists(registry_lines(TINY), min_size=1, max_size=8))
    def run(lines: list[dict[str, Any]]) -> None:
        with figures.example():
            path = workdir / f"g{next(_names)}.jsonl"
            path.write_bytes(
                b"\n".join(json.dumps(x).encode("utf-8", "surrogatepass") for x in lines) + b"\n"
            )
            report = import_registry_files(ledger, [path])
            assert not report.errors
            for r in report.rejects:
                assert r.reason in REGISTRY_REASONS and r.message, r
            figures.lines += len(lines)
            lost = len(lines) - (report.accepted + report.duplicates + report.rejected)
            figures.lost += abs(lost)
            assert lost == 0
            path.unlink()

    run()
    finish(figures, ledger)


# -- rulebooks ---------------------------------------------------------------------------------------

_BUILTIN = {name: yaml.safe_load(path.read_text("utf-8")) for name, path in builtin_paths().items()}


def check_rulebook(path: Path) -> None:
    """Loaded, or refused with the file, a line and a fix; nothing else."""
    try:
        load_rulebook(path)
    except SocialCreditError as exc:
        head = str(exc).splitlines()[0]
        assert head.startswith(str(path.name)) or path.name in head, head
        assert "fix:" in str(exc), str(exc)


def test_fuzz_rulebooks(workdir: Path) -> None:
    """Built-in rulebooks mutated (values replaced, keys dropped or added), YAML of any shape,
    text that is not YAML, and versions dated anything."""
    figures = Figures("rulebook_loader")

    @examples(15)
    @given(name=st.sampled_from(sorted(_BUILTIN)), data=st.data())
    def mutated_builtin(name: str, data: st.DataObject) -> None:
        with figures.example():
            book = data.draw(mutated(_BUILTIN[name]))
            path = workdir / f"{name}-m{next(_names)}.yaml"
            path.write_text(yaml.safe_dump(book, allow_unicode=True), "utf-8")
            check_rulebook(path)

    @examples(30)
    @given(doc=st.one_of(yaml_data().map(lambda d: yaml.safe_dump(d, allow_unicode=True)), nasty_text()))
    def any_text(doc: str) -> None:
        with figures.example():
            path = workdir / f"t{next(_names)}.yaml"
            path.write_bytes(doc.encode("utf-8", "surrogatepass"))
            check_rulebook(path)

    @examples(4)
    @given(day=dates())
    def any_date(day: str) -> None:
        with figures.example():
            book = json.loads(json.dumps(_BUILTIN["national"], default=str))
            versions = book.get("versions") or []
            if versions and isinstance(versions[0], dict):
                versions[0]["from"] = day
            path = workdir / f"d{next(_names)}.yaml"
            path.write_text(yaml.safe_dump(book, allow_unicode=True), "utf-8")
            check_rulebook(path)

    mutated_builtin()
    any_text()
    any_date()
    assert figures.inputs and figures.crashes == 0
    figures.report()
