"""``socialcredit registry import``: subjects and dated relations, every reject reason, idempotency."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingest_helpers import write_jsonl
from socialcredit import ids
from socialcredit.cli import app
from socialcredit.ingest import REGISTRY_REASONS, check_registry_line, import_registry_files
from socialcredit.ledger import verify

runner = CliRunner()


def test_importing_the_registry_stores_subjects_and_relations(make_ledger, tiny, tmp_path) -> None:
    ledger = make_ledger(registry=False)
    path = write_jsonl(tmp_path / "registry.jsonl", tiny.registry)
    report = import_registry_files(ledger, [path])
    assert (report.accepted, report.duplicates, report.rejected) == (len(tiny.registry), 0, 0)
    reg = ledger.registry()
    assert reg.subjects.num_rows == len(tiny.subjects)
    assert reg.relations.num_rows == len(tiny.relations)
    assert verify(ledger).ok


def test_a_persons_region_is_derived_from_the_identity_number(make_ledger, tiny, tmp_path) -> None:
    ledger = make_ledger(registry=False)
    path = write_jsonl(tmp_path / "r.jsonl", tiny.subjects)
    import_registry_files(ledger, [path])
    person = ledger.subject(tiny.persons[0])
    assert person["region"] == ids.region_of(tiny.persons[0]) == "000600"  # Rongcheng
    assert "region" not in ledger.subject(tiny.companies[0])


def test_importing_again_changes_nothing_and_a_change_is_appended(make_ledger, tiny, tmp_path) -> None:
    ledger = make_ledger(registry=False)
    path = write_jsonl(tmp_path / "registry.jsonl", tiny.registry)
    import_registry_files(ledger, [path])
    changes = ledger.counts()["registry_changes"]
    again = import_registry_files(ledger, [path])
    assert (again.accepted, again.duplicates) == (0, len(tiny.registry))
    assert ledger.counts()["registry_changes"] == changes
    # the friendship ends, the spouse changes profession: two new changes
    ended = {**tiny.relations[0], "until": "2018-06-01"}
    moved = {**tiny.subjects[1], "profession": "lawyer"}
    report = import_registry_files(ledger, [write_jsonl(tmp_path / "c.jsonl", [ended, moved])])
    assert report.accepted == 2
    assert ledger.registry(on="2018-06-01").relations.num_rows == len(tiny.relations) - 2
    assert ledger.subject(tiny.persons[1])["profession"] == "lawyer"


def bad_lines(tiny) -> list[tuple[object, str | None]]:
    p, c = tiny.persons, tiny.companies
    return [
        ({"id": p[0], "kind": "person", "name": "ok (synthetic)"}, None),
        ("[1, 2", "malformed"),
        ({"id": p[1], "kind": "person", "name": "x", "salary": 3}, "unknown_field"),
        ({"relation": "friend_of", "subject": p[0], "object": p[1], "weight": 2}, "unknown_field"),
        ({"id": p[1], "kind": "person"}, "missing_field"),
        ({"relation": "friend_of", "subject": p[0]}, "missing_field"),
        ({"id": p[1], "kind": "alien", "name": "x"}, "bad_type"),
        ({"id": p[1], "kind": "person", "name": 7}, "bad_type"),
        ({"id": p[1], "kind": "person", "name": "x", "region": "110105"}, "bad_type"),
        ({"relation": "enemy_of", "subject": p[0], "object": p[1]}, "bad_type"),
        ({"relation": "friend_of", "subject": p[0], "object": p[1], "since": "2018-13-01"}, "bad_type"),
        (
            {
                "relation": "friend_of",
                "subject": p[0],
                "object": p[1],
                "since": "2018-05-01",
                "until": "2018-04-01",
            },
            "bad_type",
        ),
        ({"id": c[0], "kind": "person", "name": "a company code for a person"}, "bad_identifier"),
        ({"id": p[1], "kind": "organisation", "name": "a person's number for a company"}, "bad_identifier"),
        ({"id": "000101199001011234", "kind": "person", "name": "bad checksum"}, "bad_identifier"),
        ({"id": tiny.vehicle, "kind": "dog", "name": "a plate for a dog"}, "bad_identifier"),
        ({"relation": "friend_of", "subject": p[0], "object": "nobody"}, "bad_identifier"),
        ({"relation": "friend_of", "subject": p[0], "object": tiny.stranger}, "unknown_subject"),
        (
            {"relation": "legal_representative_of", "subject": p[0], "object": c[0]},
            "unknown_subject",
        ),  # c[0] is not imported in this file
        ({"relation": "friend_of", "subject": p[0], "object": p[0]}, "bad_type"),
        ({"relation": "friend_of", "subject": p[0], "object": p[2].lower()}, None),
        ({"id": p[2], "kind": "person", "name": "later (synthetic)"}, None),
    ]


def test_every_registry_reject_reason(make_ledger, tiny, tmp_path) -> None:
    ledger = make_ledger(registry=False)
    lines = bad_lines(tiny)
    # the relation to p[2] comes before p[2]'s subject line but in the same batch: allowed
    assert {r for _, r in lines} >= set(REGISTRY_REASONS)
    path = write_jsonl(tmp_path / "bad.jsonl", [x for x, _ in lines])
    report = import_registry_files(ledger, [path])
    expected = [(i, r) for i, (_, r) in enumerate(lines, 1) if r]
    assert [(r.line, r.reason) for r in report.rejects] == expected
    assert report.accepted == 3 and report.exit_code == 1
    stored = ledger.quarantine_rows("registry")
    assert sorted((q["line"], q["reason"]) for q in stored) == expected
    assert all(r.message for r in report.rejects)
    assert ledger.registry().relations.num_rows == 1


def test_registry_csv_with_subjects_and_relations_in_one_file(make_ledger, tiny, tmp_path) -> None:
    ledger = make_ledger(registry=False)
    columns = [
        "id",
        "kind",
        "name",
        "region",
        "profession",
        "nationality",
        "relation",
        "subject",
        "object",
        "since",
        "until",
    ]
    path = tmp_path / "registry.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for line in tiny.registry:
            writer.writerow([line.get(c, "") for c in columns])
    report = import_registry_files(ledger, [path])
    assert (report.accepted, report.rejected) == (len(tiny.registry), 0)
    assert ledger.registry().relations.num_rows == len(tiny.relations)


def test_registry_parquet_with_date_columns(make_ledger, tiny, tmp_path) -> None:
    ledger = make_ledger(registry=False)
    subjects = tmp_path / "subjects.parquet"
    pq.write_table(pa.Table.from_pylist(tiny.subjects), subjects)
    relations = tmp_path / "relations.parquet"
    rows = [
        {
            **r,
            "since": dt.date.fromisoformat(r["since"]) if "since" in r else None,
            "until": dt.date.fromisoformat(r["until"]) if "until" in r else None,
        }
        for r in tiny.relations
    ]
    schema = pa.schema(
        [
            ("relation", pa.string()),
            ("subject", pa.string()),
            ("object", pa.string()),
            ("since", pa.date32()),
            ("until", pa.date32()),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), relations)
    report = import_registry_files(ledger, [subjects, relations])
    assert (report.accepted, report.rejected) == (len(tiny.registry), 0)
    assert ledger.registry(on="2018-01-01").relations.num_rows == len(tiny.relations) - 1


def test_registry_import_cli(tiny, tmp_path) -> None:
    db = tmp_path / "l.db"
    good = write_jsonl(tmp_path / "ok.jsonl", tiny.registry)
    result = runner.invoke(app, ["registry", "import", "--db", str(db), str(good), "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert list(out) == ["accepted", "duplicates", "rejected", "rejects"]
    assert out["accepted"] == len(tiny.registry)
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "x", "kind": "person", "name": "x"}])
    result = runner.invoke(app, ["registry", "import", "--db", str(db), str(bad)])
    assert result.exit_code == 1 and "bad_identifier" in result.stdout
    result = runner.invoke(app, ["registry", "import", "--db", str(db), str(tmp_path / "no.csv")])
    assert result.exit_code == 2 and "no such file" in result.stderr


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ({"relation": "friend_of", "subject": "A", "object": "B", "since": None}, "bad_identifier"),
        ({"id": "x", "kind": "person", "name": "  "}, "missing_field"),
    ],
)
def test_check_registry_line_reasons(line, expected) -> None:
    with pytest.raises(ValueError) as info:
        check_registry_line(line)
    assert info.value.reason == expected  # type: ignore[attr-defined]


def test_consent_is_a_boolean_in_any_format(make_ledger, tiny, tmp_path) -> None:
    ledger = make_ledger(registry=False)
    p = tiny.persons
    lines = [
        {"id": p[0], "kind": "person", "name": "a", "consent": True},
        {"id": p[1], "kind": "person", "name": "b", "consent": "no"},
        {"id": p[2], "kind": "person", "name": "c", "consent": "maybe"},
    ]
    report = import_registry_files(ledger, [write_jsonl(tmp_path / "c.jsonl", lines)])
    assert [(r.line, r.reason) for r in report.rejects] == [(3, "bad_type")]
    assert ledger.subject(p[0])["consent"] is True and ledger.subject(p[1])["consent"] is False
