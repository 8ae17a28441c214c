"""The main job behind ``make run``: generate, ingest, verify, summarise."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from socialcredit import ids
from socialcredit.cli import app
from socialcredit.ingest import RECORD_REASONS
from socialcredit.ledger import open_ledger, verify
from socialcredit.society import sample_society


def test_demo_ingests_everything_valid_and_quarantines_one_reject_per_reason(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--out", str(out), "--persons", "300", "--organisations", "20", "--records", "2000"]
    )
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    with open_ledger(out / "ledger.db") as ledger:
        assert ledger.records_table().num_rows == 2000
        reasons = sorted(r["reason"] for r in ledger.quarantine_rows())
        assert verify(ledger).ok
    # Every reject reason but `duplicate` (which is counted, not rejected) is demonstrated once.
    assert reasons == sorted(RECORD_REASONS)
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2000 and json.loads(lines[0])["id"]


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
