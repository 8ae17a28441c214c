"""The corpus of nasty inputs (tests/fixtures/nasty/, README.md there) through every door.

Each record file goes through ``ingest_files``, each registry file through
``import_registry_files``, each rulebook through ``load_rulebook``: nothing crashes, every line is
accepted, a duplicate, or rejected with a reason and a message (none lost), a file that cannot be
read at all is one clear error, SQL and HTML are stored as the text they are, and the ledger
verifies afterwards. Made at run time: a 10 MB line, and Parquet files with hostile types.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fuzz_helpers import NASTY_DIR, Figures
from ingest_helpers import NOW
from socialcredit.errors import SocialCreditError
from socialcredit.ingest import import_registry_files, ingest_files
from socialcredit.ingest.report import RECORD_REASONS, REGISTRY_REASONS
from socialcredit.ledger import Ledger, open_ledger, verify
from socialcredit.rulebooks.errors import RulebookFileError
from socialcredit.rulebooks.loader import load_rulebook

RECORD_FILES = sorted(p.name for p in NASTY_DIR.glob("records-*"))
RULEBOOK_FILES = sorted(p.name for p in NASTY_DIR.glob("rulebook-*.yaml"))
INJECT_EVIDENCE = "'; DROP TABLE records; --"

#: file -> (accepted, rejected by reason) on a fresh ledger with the tiny registry; ``None``: the
#: file cannot be read at all (one error, nothing stored).
EXPECTED: dict[str, tuple[int, dict[str, int]] | None] = {
    "records-bom-crlf.jsonl": (3, {}),
    "records-bom-crlf.csv": (1, {}),
    "records-nul.jsonl": (2, {"malformed": 2}),
    "records-deep.jsonl": (1, {"malformed": 2}),
    "records-numbers.jsonl": (4, {"bad_type": 10}),
    "records-dates.jsonl": (7, {"bad_type": 9, "future": 2}),
    "records-encodings.jsonl": (1, {"malformed": 5, "bad_type": 2}),
    "records-injection.jsonl": (
        9,
        {"bad_identifier": 2, "unknown_category": 1, "unauthorized_source": 1, "bad_type": 1},
    ),
    "records-injection.csv": (8, {}),
    "records-ragged.csv": (2, {"malformed": 3}),
    "records-unterminated.csv": (1, {}),
    "records-dupe-header.csv": None,
}


@pytest.fixture
def make_ledger(tmp_path: Path, tiny: Any) -> Any:
    """Fresh SQLite ledgers holding the tiny registry (the corpus is about input, not backends)."""
    opened: list[Ledger] = []

    def make() -> Ledger:
        ledger = open_ledger(tmp_path / f"ledger-{len(opened)}.db")
        ledger.append_registry(tiny.registry)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


def _lines(path: Path) -> int:
    """How many lines or rows ingest reads from a corpus file (every one must be accounted for)."""
    data = path.read_bytes()
    if path.suffix == ".csv":
        import pyarrow.csv as pacsv

        # rows as the reader splits them, counting rows it refuses for their cell count
        bad: list[int] = []
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda r: bad.append(1) or "skip"),
            convert_options=pacsv.ConvertOptions(
                column_types={}, strings_can_be_null=True, quoted_strings_can_be_null=True
            ),
        )
        return table.num_rows + len(bad)
    return sum(1 for line in data.removeprefix(b"\xef\xbb\xbf").split(b"\n") if line and not line.isspace())


def assert_accounted(report: Any, lines: int, reasons: tuple[str, ...]) -> int:
    """Every line accepted, a duplicate or rejected with a known reason and a message; returns the
    number lost (the test fails unless it is 0)."""
    for r in report.rejects:
        assert r.reason in reasons, r
        assert isinstance(r.message, str) and len(r.message) > 10, r
    lost = lines - (report.accepted + report.duplicates + report.rejected)
    assert lost == 0, (lines, report.accepted, report.duplicates, report.rejected)
    return lost


@pytest.mark.parametrize("name", RECORD_FILES)
def test_a_nasty_record_file_is_ingested_or_refused_clearly(
    make_ledger: Any, tmp_path: Path, name: str
) -> None:
    assert name in EXPECTED, f"add the expected outcome of the new corpus file {name}"
    ledger: Ledger = make_ledger()
    path = NASTY_DIR / name
    report = ingest_files(ledger, [path], now=NOW)
    expected = EXPECTED[name]
    if expected is None:
        assert len(report.errors) == 1 and str(path) in report.errors[0].message
        assert report.accepted == report.rejected == 0
    else:
        assert not report.errors, report.errors
        assert_accounted(report, _lines(path), RECORD_REASONS)
        assert (report.accepted, report.by_reason()) == expected
    assert ledger.counts()["records"] == report.accepted
    assert verify(ledger).ok


def test_sql_and_html_are_stored_as_text(make_ledger: Any, tiny: Any) -> None:
    ledger: Ledger = make_ledger()
    ingest_files(
        ledger, [NASTY_DIR / "records-injection.jsonl", NASTY_DIR / "records-injection.csv"], now=NOW
    )
    stored = ledger.records_of(tiny.persons[0])
    evidence = {r.get("evidence") for r in stored}
    assert INJECT_EVIDENCE in evidence and "<script>alert(1)</script>" in evidence
    assert any(r["id"].startswith("inject-0-'; DROP TABLE") for r in stored)
    assert ledger.counts()["records"] == 17 and verify(ledger).ok  # every table still there
    quarantined = ledger.quarantine_rows()
    assert any(INJECT_EVIDENCE in (q.get("raw") or "") for q in quarantined)


def test_the_nasty_registry_file(make_ledger: Any, tiny: Any) -> None:
    ledger: Ledger = make_ledger()
    path = NASTY_DIR / "registry-nasty.jsonl"
    report = import_registry_files(ledger, [path])
    assert not report.errors
    assert_accounted(report, _lines(path), REGISTRY_REASONS)
    assert report.by_reason() == {"bad_type": 4, "bad_identifier": 1, "malformed": 1}
    assert ledger.subject(tiny.persons[0])["name"] == INJECT_EVIDENCE  # stored as the text it is
    assert ledger.subject(tiny.persons[1])["name"] == "<script>alert(1)</script>"
    assert verify(ledger).ok


@pytest.mark.parametrize("name", RULEBOOK_FILES)
def test_a_nasty_rulebook_is_refused_with_its_file_and_line(name: str) -> None:
    path = NASTY_DIR / name
    with pytest.raises(SocialCreditError) as caught:
        load_rulebook(path)
    first = caught.value.errors[0] if hasattr(caught.value, "errors") else caught.value
    assert isinstance(first, RulebookFileError)
    assert name in first.file and first.problem and first.fix
    head = str(caught.value).splitlines()[0]  # `file:line: field: problem — fix: ...`
    assert head.startswith(first.file) and "fix:" in head


def test_a_10_mb_line(make_ledger: Any, tiny: Any, tmp_path: Path) -> None:
    ledger: Ledger = make_ledger()
    good = tiny.record(1)
    huge = {**tiny.record(2), "evidence": "x" * (10 * 1024 * 1024)}
    path = tmp_path / "huge.jsonl"
    path.write_text(
        "\n".join([json.dumps(good), json.dumps(huge), "[" * (10 * 1024 * 1024), json.dumps(tiny.record(3))])
        + "\n"
    )
    report = ingest_files(ledger, [path], now=NOW)
    assert_accounted(report, 4, RECORD_REASONS)
    assert report.accepted == 3 and report.by_reason() == {"malformed": 1}  # 10 MB of evidence is text
    assert verify(ledger).ok


def test_parquet_with_hostile_types(make_ledger: Any, tiny: Any, tmp_path: Path) -> None:
    ledger: Ledger = make_ledger()
    n = 4
    columns = {
        "id": pa.array([f"pq-{i}" for i in range(n)], pa.large_string()),
        "subject": pa.array([tiny.persons[0]] * n).dictionary_encode(),
        "category": pa.array(["traffic.red_light"] * n),
        "occurred_at": pa.array(
            [0, -62135596800 * 1000, 253402300799 * 1000, None], pa.timestamp("ms", "UTC")
        ),
        "source": pa.array(["traffic_police"] * n),
        "value": pa.array([1.0, float("nan"), float("inf"), -0.0]),
        "evidence": pa.array([b"\xff\xfe", b"ok", None, b"\x00"], pa.binary()),
    }
    path = tmp_path / "hostile.parquet"
    pq.write_table(pa.table(columns), path)
    report = ingest_files(ledger, [path], now=NOW)
    assert not report.errors
    assert_accounted(report, n, RECORD_REASONS)
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": pa.array([["a"], None]), "value": pa.array([{"x": 1}, None])}), nested)
    assert_accounted(ingest_files(ledger, [nested], now=NOW), 2, RECORD_REASONS)
    for name, data in (("garbage.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1"), ("empty.parquet", b"")):
        (tmp_path / name).write_bytes(data)
        bad = ingest_files(ledger, [tmp_path / name], now=NOW)
        assert len(bad.errors) == 1 and name in bad.errors[0].message
        assert "\n" not in bad.errors[0].message
    assert verify(ledger).ok


def test_the_corpus_figures(make_ledger: Any, tmp_path: Path) -> None:
    """Every corpus file once more, as one run: inputs tried, crashes, lines lost (printed)."""
    figures = Figures("corpus")
    ledger: Ledger = make_ledger()
    for path in sorted(NASTY_DIR.iterdir()):
        if path.suffix not in (".jsonl", ".csv", ".yaml"):
            continue
        with figures.example():
            if path.name.startswith("rulebook-"):
                with pytest.raises(SocialCreditError):
                    load_rulebook(path)
                continue
            if path.name.startswith("registry-"):
                report = import_registry_files(ledger, [path])
                reasons = REGISTRY_REASONS
            else:
                report = ingest_files(ledger, [path], now=NOW)
                reasons = RECORD_REASONS
            if not report.errors:
                lines = _lines(path)
                figures.lines += lines
                figures.lost += assert_accounted(report, lines, reasons)
    assert verify(ledger).ok
    con = sqlite3.connect(ledger.url.removeprefix("sqlite:///"))
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()
    assert {"records", "meta", "quarantine", "registry_changes"} <= tables
    assert figures.inputs >= 25 and figures.crashes == 0 and figures.lost == 0
    figures.report()
