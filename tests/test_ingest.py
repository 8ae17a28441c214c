"""Ingest of records: every reject reason in JSONL, CSV and Parquet, the CLI contract, bad files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingest_helpers import NOW, write_jsonl, write_parquet
from socialcredit.cli import app
from socialcredit.ingest import RECORD_REASONS, ingest_files
from socialcredit.ledger import Ledger, head_revision, verify

runner = CliRunner()
BAD_CHECKSUM = "000101199001011234"


def mixed(tiny) -> list[tuple[Any, str | None]]:
    """(line, expected reason) pairs: valid lines have None, duplicates "duplicate"."""
    good = tiny.record(0)
    return [
        (good, None),
        ("{not json", "malformed"),
        ({**tiny.record(2), "mood": "defiant"}, "unknown_field"),
        ({k: v for k, v in tiny.record(3).items() if k != "source"}, "missing_field"),
        (tiny.record(4, occurred_at="2018-02-30"), "bad_type"),
        (tiny.record(5, subject=BAD_CHECKSUM), "bad_identifier"),
        (tiny.record(6, subject=tiny.stranger), "unknown_subject"),
        (tiny.record(7, category="thought.crime"), "unknown_category"),
        (tiny.record(8, source="railway"), "unauthorized_source"),
        (tiny.record(9, occurred_at="2099-01-01"), "future"),
        ({**good, "value": 5}, "conflict"),
        ({**dict(reversed(list(good.items()))), "value": 1.0}, "duplicate"),
        (tiny.record(12, value=2.5, evidence="camera 7", basis="Road Traffic Safety Law"), None),
    ]


def expectations(lines: list[tuple[Any, str | None]]) -> tuple[int, int, list[tuple[int, str]]]:
    accepted = sum(1 for _, r in lines if r is None)
    duplicates = sum(1 for _, r in lines if r == "duplicate")
    rejects = [(i, r) for i, (_, r) in enumerate(lines, 1) if r not in (None, "duplicate")]
    return accepted, duplicates, rejects


def write_csv(path: Path, rows: list[Any], columns: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        for row in [None, *rows]:
            if row is None:
                csv.writer(fh).writerow(columns)
            elif isinstance(row, str):
                fh.write("a,b,c,d,e,f,g,h,i,j,k,l\r\n")  # too many cells: malformed
            else:
                csv.writer(fh).writerow(["" if row.get(c) is None else row[c] for c in columns])
    return path


def check_outcome(ledger: Ledger, report, lines, file: Path) -> None:
    accepted, duplicates, rejects = expectations(lines)
    assert (report.accepted, report.duplicates) == (accepted, duplicates)
    assert [(r.line, r.reason) for r in report.rejects] == rejects
    assert all(r.file == str(file) and r.message for r in report.rejects)
    assert report.exit_code == 1
    stored = ledger.quarantine_rows("records")
    assert sorted((q["line"], q["reason"]) for q in stored) == rejects
    assert all(q["raw"] and q["file"] == str(file) for q in stored)
    assert ledger.counts()["records"] == accepted
    assert verify(ledger).ok


def test_a_jsonl_file_with_every_reject_reason(ledger: Ledger, tiny, tmp_path: Path) -> None:
    lines = mixed(tiny)
    assert {r for _, r in lines} >= set(RECORD_REASONS)
    path = write_jsonl(tmp_path / "mixed.jsonl", [x for x, _ in lines])
    report = ingest_files(ledger, [path], now=NOW)
    check_outcome(ledger, report, lines, path)
    ids = {r.reason: r.id for r in report.rejects}
    assert ids["malformed"] is None and ids["conflict"] == "t-000000"


def test_a_csv_file_with_every_reject_reason(ledger: Ledger, tiny, tmp_path: Path) -> None:
    lines = mixed(tiny)
    columns = ["id", "subject", "category", "occurred_at", "source", "value", "evidence", "basis", "mood"]
    path = write_csv(tmp_path / "mixed.csv", [x for x, _ in lines], columns)
    report = ingest_files(ledger, [path], now=NOW)
    check_outcome(ledger, report, lines, path)


def test_a_parquet_file_with_every_reject_reason_but_malformed(ledger: Ledger, tiny, tmp_path: Path) -> None:
    lines = [(x, r) for x, r in mixed(tiny) if r != "malformed"]
    path = write_parquet(tmp_path / "mixed.parquet", [x for x, _ in lines])
    report = ingest_files(ledger, [path], now=NOW)
    check_outcome(ledger, report, lines, path)


def test_the_cli_json_output_and_exit_code(ledger: Ledger, tiny, tmp_path: Path) -> None:
    lines = mixed(tiny)
    path = write_jsonl(tmp_path / "mixed.jsonl", [x for x, _ in lines])
    db = str(ledger.location)
    result = runner.invoke(app, ["ingest", "--db", db, str(path), "--json", "--now", NOW])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert list(out) == ["accepted", "duplicates", "rejected", "rejects"]
    assert (out["accepted"], out["duplicates"], out["rejected"]) == (2, 1, 10)
    for r in out["rejects"]:
        assert list(r) == ["file", "line", "id", "reason", "message"]
        assert r["file"] == str(path) and isinstance(r["line"], int) and r["line"] >= 1
        assert r["reason"] in RECORD_REASONS
    # the same file again: everything valid is a duplicate, quarantine does not grow
    before = ledger.counts()["quarantine"]
    again = json.loads(runner.invoke(app, ["ingest", "--db", db, str(path), "--json", "--now", NOW]).stdout)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 10)
    assert ledger.counts()["quarantine"] == before


def test_the_cli_text_output_groups_rejects_by_reason(ledger: Ledger, tiny, tmp_path) -> None:
    path = write_jsonl(tmp_path / "mixed.jsonl", [x for x, _ in mixed(tiny)])
    db = str(ledger.location)
    result = runner.invoke(app, ["ingest", "--db", db, str(path), "--now", NOW])
    assert result.exit_code == 1
    assert "2 accepted, 1 duplicates, 10 rejected" in result.stdout
    for reason in RECORD_REASONS:
        assert reason in result.stdout


def test_all_valid_exits_0_and_creates_the_ledger(tiny, tmp_path: Path) -> None:
    db = tmp_path / "new" / "ledger.db"
    registry = write_jsonl(tmp_path / "registry.jsonl", tiny.registry)
    assert runner.invoke(app, ["registry", "import", "--db", str(db), str(registry)]).exit_code == 0
    path = write_jsonl(tmp_path / "ok.jsonl", tiny.records(20))
    result = runner.invoke(app, ["ingest", "--db", str(db), str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["accepted"] == 20


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ({"id": "x", "mood": 1, "subject": 5}, "unknown_field"),  # before missing and bad_type
        ({"id": "x", "subject": 5}, "missing_field"),  # before bad_type
        (
            {
                "id": 5,
                "subject": "nobody",
                "category": "thought.crime",
                "occurred_at": "2018-01-01",
                "source": "nobody",
            },
            "bad_type",
        ),  # before bad_identifier
        (
            {
                "id": "x",
                "subject": "nobody",
                "category": "thought.crime",
                "occurred_at": "2018-01-01",
                "source": "nobody",
            },
            "bad_identifier",
        ),  # before unknown_category
    ],
)
def test_the_first_reason_that_applies_wins(ledger, tmp_path, line, reason) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", [line])
    assert [r.reason for r in ingest_files(ledger, [path], now=NOW).rejects] == [reason]


def test_an_unknown_category_comes_before_an_unknown_source_before_the_future(ledger, tiny, tmp_path) -> None:
    lines = [
        tiny.record(0, category="thought.crime", source="nobody", occurred_at="2099-01-01"),
        tiny.record(1, source="nobody", occurred_at="2099-01-01"),
        tiny.record(2, occurred_at="2099-01-01"),
    ]
    path = write_jsonl(tmp_path / "f.jsonl", lines)
    reasons = [r.reason for r in ingest_files(ledger, [path], now=NOW).rejects]
    assert reasons == ["unknown_category", "unauthorized_source", "future"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (3, True),
        (2.5, True),
        (0, True),
        (-1e300, True),
        ("3", False),
        (True, False),
        (None, True),
        ([1], False),
        ({"a": 1}, False),
    ],
)
def test_value_must_be_a_finite_number(ledger, tiny, tmp_path, value, ok) -> None:
    path = write_jsonl(tmp_path / "v.jsonl", [{**tiny.record(0), "value": value}])
    report = ingest_files(ledger, [path], now=NOW)
    assert report.accepted == int(ok)
    if not ok:
        assert report.rejects[0].reason == "bad_type"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_json_numbers_are_bad_types(ledger, tiny, tmp_path, literal) -> None:
    text = json.dumps(tiny.record(0))[:-1] + f', "value": {literal}}}'
    path = write_jsonl(tmp_path / "n.jsonl", [text])
    assert [r.reason for r in ingest_files(ledger, [path], now=NOW).rejects] == ["bad_type"]


def test_csv_values_are_parsed_and_checked(ledger, tiny, tmp_path) -> None:
    rows = [
        tiny.record(0, value="2.5"),
        tiny.record(1, value="abc"),
        tiny.record(2, value="nan"),
        tiny.record(3, value=""),
        tiny.record(4, value="1e3"),
    ]
    path = write_csv(
        tmp_path / "v.csv", rows, ["id", "subject", "category", "occurred_at", "source", "value"]
    )
    report = ingest_files(ledger, [path], now=NOW)
    assert [(r.line, r.reason) for r in report.rejects] == [(2, "bad_type"), (3, "bad_type")]
    values = dict(zip(*ledger.records_table().select(["id", "value"]).to_pydict().values(), strict=True))
    assert values == {"t-000000": 2.5, "t-000003": 1.0, "t-000004": 1000.0}


def test_parquet_with_typed_columns(ledger, tiny, tmp_path) -> None:
    import datetime as dt

    rows = [{**tiny.record(i), "occurred_at": dt.date(2018, 3, 1 + i), "value": i} for i in range(3)]
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("subject", pa.string()),
            ("category", pa.string()),
            ("occurred_at", pa.date32()),
            ("source", pa.string()),
            ("value", pa.int32()),
        ]
    )
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    report = ingest_files(ledger, [path], now=NOW)
    assert report.accepted == 3 and not report.rejects
    table = ledger.records_table()
    assert table["occurred_at"][1].as_py() == "2018-03-02T00:00:00+08:00"
    assert table["value"].to_pylist() == [0.0, 1.0, 2.0]


def test_a_parquet_id_column_of_numbers_is_a_bad_type(ledger, tiny, tmp_path) -> None:
    rows = [{**tiny.record(0), "id": 7}]
    schema = pa.schema([("id", pa.int64())] + [(k, pa.string()) for k in list(rows[0])[1:]])
    path = tmp_path / "ints.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    report = ingest_files(ledger, [path], now=NOW)
    assert [r.reason for r in report.rejects] == ["bad_type"]
    assert "int64" in report.rejects[0].message


def test_duplicates_within_one_file_are_counted_not_rejected(ledger, tiny, tmp_path) -> None:
    recs = tiny.records(5)
    path = write_jsonl(tmp_path / "d.jsonl", recs + recs[:2])
    report = ingest_files(ledger, [path], now=NOW, batch_size=3)  # across batches too
    assert (report.accepted, report.duplicates, report.rejected) == (5, 2, 0)


def test_the_future_is_relative_to_the_ingest_clock(ledger, tiny, tmp_path) -> None:
    path = write_jsonl(tmp_path / "f.jsonl", [tiny.record(0, occurred_at="2018-06-01T12:00:00")])
    assert ingest_files(ledger, [path], now="2018-06-01T11:59:59").rejects[0].reason == "future"
    assert ingest_files(ledger, [path], now="2018-06-01T12:00:00").accepted == 1


def test_blank_optional_fields_are_the_same_as_absent(ledger, tiny, tmp_path) -> None:
    path = write_jsonl(tmp_path / "b.jsonl", [tiny.record(0, evidence="", basis=" ")])
    ingest_files(ledger, [path], now=NOW)
    again = write_jsonl(tmp_path / "b2.jsonl", [tiny.record(0)])
    assert ingest_files(ledger, [again], now=NOW).duplicates == 1


# -- files that are odd or cannot be read -----------------------------------------------------


def test_non_utf8_bytes_reject_only_their_line(ledger, tiny, tmp_path) -> None:
    path = tmp_path / "latin1.jsonl"
    good = [json.dumps(r).encode() for r in tiny.records(3)]
    path.write_bytes(good[0] + b"\n" + b'{"id": "caf\xe9"}\n' + good[1] + b"\n" + good[2] + b"\n")
    report = ingest_files(ledger, [path], now=NOW)
    assert report.accepted == 3
    assert [(r.line, r.reason) for r in report.rejects] == [(2, "malformed")]
    assert "UTF-8" in report.rejects[0].message
    assert ledger.quarantine_rows()[0]["raw"] == '{"id": "caf\\xe9"}'


def test_non_utf8_bytes_in_csv_reject_only_their_row(ledger, tiny, tmp_path) -> None:
    path = write_csv(
        tmp_path / "x.csv", tiny.records(3), ["id", "subject", "category", "occurred_at", "source"]
    )
    path.write_bytes(path.read_bytes().replace(b"t-000001", b"t-00000\xff"))
    report = ingest_files(ledger, [path], now=NOW)
    assert report.accepted == 2
    assert [(r.line, r.reason) for r in report.rejects] == [(2, "malformed")]


def test_a_malformed_row_that_is_not_utf8_rejects_only_itself(ledger, tiny, tmp_path) -> None:
    """pyarrow cannot hand such a row to the invalid-row handler (it decodes its text first), so
    the file takes the row-by-row path: the good rows are stored, the bad one is a reject."""
    path = write_csv(
        tmp_path / "x.csv", tiny.records(4), ["id", "subject", "category", "occurred_at", "source"]
    )
    lines = path.read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace(b"t-000001", b"t-00000\xff") + b",an extra cell"
    path.write_bytes(b"\r\n".join(lines))
    report = ingest_files(ledger, [path], now=NOW)
    assert report.accepted == 3
    assert [(r.line, r.reason) for r in report.rejects] == [(2, "malformed")]
    assert "wrong number of cells" in report.rejects[0].message


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "blank.jsonl"])
def test_an_empty_text_file_ingests_nothing(ledger, tmp_path, name) -> None:
    path = tmp_path / name
    path.write_text("\n\n" if name.startswith("blank") else "")
    report = ingest_files(ledger, [path], now=NOW)
    assert (report.accepted, report.rejected, report.exit_code) == (0, 0, 0)


def test_a_utf8_bom_and_crlf_line_endings_are_fine(ledger, tiny, tmp_path) -> None:
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(
        b"\xef\xbb\xbf" + b"\r\n".join(json.dumps(r).encode() for r in tiny.records(3)) + b"\r\n"
    )
    csv_path = write_csv(
        tmp_path / "bom.csv", tiny.records(3, start=3), ["id", "subject", "category", "occurred_at", "source"]
    )
    csv_path.write_bytes(b"\xef\xbb\xbf" + csv_path.read_bytes())  # csv module writes CRLF
    report = ingest_files(ledger, [jsonl, csv_path], now=NOW)
    assert (report.accepted, report.rejected) == (6, 0)


def test_a_csv_missing_a_column_rejects_every_row(ledger, tiny, tmp_path) -> None:
    path = write_csv(tmp_path / "nosource.csv", tiny.records(3), ["id", "subject", "category", "occurred_at"])
    report = ingest_files(ledger, [path], now=NOW)
    assert [(r.line, r.reason) for r in report.rejects] == [(i, "missing_field") for i in (1, 2, 3)]
    assert "no such column" in report.rejects[0].message


def test_missing_and_unreadable_files_exit_2_but_other_files_are_stored(ledger, tiny, tmp_path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", tiny.records(4))
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not really parquet PAR1")
    empty_parquet = tmp_path / "empty.parquet"
    empty_parquet.write_bytes(b"")
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    db = str(ledger.location)
    args = [str(tmp_path / "missing.jsonl"), str(corrupt), str(good), str(empty_parquet), str(folder)]
    result = runner.invoke(app, ["ingest", "--db", db, *args, "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["accepted"] == 4
    assert ledger.counts()["records"] == 4
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 4
    assert "Traceback" not in result.output
    assert "missing.jsonl: no such file" in result.stderr


def test_a_truncated_parquet_file_is_unreadable(ledger, tiny, tmp_path) -> None:
    path = write_parquet(tmp_path / "t.parquet", tiny.records(50))
    path.write_bytes(path.read_bytes()[:-30])
    report = ingest_files(ledger, [path], now=NOW)
    assert report.exit_code == 2 and report.errors[0].file == str(path)


def test_a_file_without_a_known_extension_is_sniffed(ledger, tiny, tmp_path) -> None:
    path = write_jsonl(tmp_path / "records.txt", tiny.records(2))
    assert ingest_files(ledger, [path], now=NOW).accepted == 2


def test_usage_errors_exit_2(ledger, tiny, tmp_path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", tiny.records(1))
    db = str(ledger.location)
    assert runner.invoke(app, ["ingest", "--db", db, str(path), "--now", "soon"]).exit_code == 2
    assert runner.invoke(app, ["ingest", str(path)]).exit_code == 2  # no --db
    assert runner.invoke(app, ["ingest", "--db", db]).exit_code == 2  # no file


def test_a_progress_bar_can_be_forced(ledger, tiny, tmp_path, capsys) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", tiny.records(30))
    assert ingest_files(ledger, [path], now=NOW, progress=True, batch_size=10).accepted == 30


def test_db_upgrade_creates_a_ledger(tmp_path) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--db", str(tmp_path / "l.db")])
    assert result.exit_code == 0 and head_revision() in result.stdout
    assert (tmp_path / "l.db").exists()


def test_jsonl_read_in_one_go_and_line_by_line_agree(ledger, tiny, tmp_path) -> None:
    from socialcredit.ingest import read_batches
    from socialcredit.ingest.run import RECORD_SCHEMA

    recs = [
        tiny.record(0, value=3),
        tiny.record(1, value=-0.5, evidence='quote " backslash \\ tab \t newline \n'),
        tiny.record(2, evidence="汉字 and emoji 🚦", basis=""),
        tiny.record(3, value=1e-7, occurred_at="2018-03-04"),
        tiny.record(4, value=12345678901234567890),
        tiny.record(5, occurred_at="2018-03-06T10:00:00Z", reported_by=tiny.persons[2]),
    ]
    fast = write_jsonl(tmp_path / "fast.jsonl", recs)
    careful = write_jsonl(tmp_path / "careful.jsonl", ["{oops", *recs])
    assert [b.table is not None for b in read_batches(fast, schema=RECORD_SCHEMA)] == [True]
    assert [b.rows is not None for b in read_batches(careful, schema=RECORD_SCHEMA)] == [True]
    first = ingest_files(ledger, [fast], now=NOW)
    assert (first.accepted, first.rejected) == (len(recs), 0)
    second = ingest_files(ledger, [careful], now=NOW)
    assert (second.accepted, second.duplicates) == (0, len(recs))
    assert [r.reason for r in second.rejects] == ["malformed"]


def test_a_reject_in_a_batch_read_in_one_go_keeps_its_raw_line(ledger, tiny, tmp_path) -> None:
    line = tiny.record(1, subject=tiny.stranger)
    path = write_jsonl(tmp_path / "r.jsonl", [tiny.record(0), line])
    report = ingest_files(ledger, [path], now=NOW)
    assert [(r.line, r.reason) for r in report.rejects] == [(2, "unknown_subject")]
    assert json.loads(ledger.quarantine_rows()[0]["raw"]) == line


def test_a_subject_spelled_with_a_lower_case_x_is_the_registry_subject(make_ledger, tmp_path) -> None:
    from socialcredit import ids

    person = next(p for p in (ids.generate_resident_id(3, i) for i in range(500)) if p.endswith("X"))
    ledger = make_ledger(registry=False)
    ledger.append_registry([{"id": person, "kind": "person", "name": "X (synthetic)"}])
    rec = {"id": "x1", "subject": person.lower(), "category": "traffic.red_light",
           "occurred_at": "2018-03-01", "source": "traffic_police"}  # fmt: skip
    report = ingest_files(ledger, [write_jsonl(tmp_path / "x.jsonl", [rec])], now=NOW)
    assert report.accepted == 1
    assert ledger.records_table()["subject"].to_pylist() == [person]


def test_prefetch_keeps_order_raises_in_order_and_stops_early() -> None:
    from socialcredit.ingest.run import prefetch

    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise ValueError("boom")

    got = []
    with pytest.raises(ValueError, match="boom"):
        for item in prefetch(failing()):
            got.append(item)
    assert got == [1, 2]
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for item in prefetch(endless(), depth=2):
        if item == 5:
            break
    assert len(produced) <= 5 + 1 + 2 + 1  # stopped soon after the consumer did


@pytest.mark.parametrize("lines", [["null"], [" null"], ["{}", "null"], ["RECORD", "null", "[1]"]])
def test_lines_that_are_not_objects_are_malformed_and_never_crash(ledger, tiny, tmp_path, lines) -> None:
    """pyarrow's JSON reader crashed the process on a file holding only ``null`` (found by the
    fuzzer): such lines are rejected one by one, and the valid rest is stored."""
    path = tmp_path / "not-objects.jsonl"
    path.write_text("\n".join(json.dumps(tiny.record(0)) if x == "RECORD" else x for x in lines) + "\n")
    report = ingest_files(ledger, [path], now=NOW)
    assert report.accepted == lines.count("RECORD")
    reasons = {r.line: r.reason for r in report.rejects}
    assert [reasons[i] for i, x in enumerate(lines, 1) if x.strip() in ("null", "[1]")] == [
        "malformed" for x in lines if x.strip() in ("null", "[1]")
    ]
    assert report.accepted + report.rejected == len(lines)
