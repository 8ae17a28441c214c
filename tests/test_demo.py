"""The main job behind `make run`: generate the city, simulate, ledger, verify, summarise."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from socialcredit import ids
from socialcredit.cli import app
from socialcredit.ingest import RECORD_REASONS
from socialcredit.ledger import open_ledger, verify
from socialcredit.society import sample_society


def test_demo_simulates_the_city_ledgers_it_and_quarantines_one_reject_per_reason(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--out", str(out), "--size", "600", "--days", "30", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    records = pq.read_table(out / "records.parquet")
    with open_ledger(out / "ledger.db") as ledger:
        assert ledger.records_table().num_rows == records.num_rows > 0
        assert ledger.counts()["subjects"] == pq.read_table(out / "subjects.parquet").num_rows
        reasons = sorted(r["reason"] for r in ledger.quarantine_rows())
        assert verify(ledger).ok
    # Every reject reason but `duplicate` (which is counted, not rejected) is demonstrated once.
    assert reasons == sorted(RECORD_REASONS)
    assert (out / "summary.txt").read_text().count("\n") > 10
    assert (out / "report.html").stat().st_size > 100_000  # self-contained: charts and their JavaScript
    assert (out / "final" / "main.parquet").is_file()


def test_sample_society_is_deterministic_and_uses_synthetic_identifiers() -> None:
    a = sample_society(seed=7, persons=60, organisations=5, records=200)
    b = sample_society(seed=7, persons=60, organisations=5, records=200)
    c = sample_society(seed=8, persons=60, organisations=5, records=200)
    assert a == b
    assert a.records != c.records
    for subject in a.subjects:
        kind, _ = ids.validate_identifier(subject["id"])
        assert ids.region_of(subject["id"]).startswith("0")
        assert kind == subject["kind"] or (kind, subject["kind"]) == ("social_organisation", "organisation")
    assert len({s["id"] for s in a.subjects}) == len(a.subjects)
