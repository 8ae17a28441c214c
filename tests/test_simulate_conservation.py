"""Conservation: what the simulator writes into a ledger, scored from the ledger, is the
simulator's final state — through the library and through `socialcredit score` — with the
feedback loops off and with every loop on (relations they end, records they add, reports
naming their reporter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.dueprocess.reports import report_review
from socialcredit.engine import Engine
from socialcredit.ledger import open_ledger, verify
from socialcredit.simulate import load_scenario
from socialcredit.simulate.runner import run_scenario
from test_simulate_feedback import ALL_ON, LOOP_REPORTERS


@pytest.mark.parametrize("feedback", [{}, ALL_ON], ids=["loops-off", "all-loops"])
def test_the_ledger_scores_to_the_simulators_final_state(tmp_path: Path, feedback: dict[str, Any]) -> None:
    sc = load_scenario(
        "city",
        size=800,
        days=40,
        evaluate_every=5,
        population={"regions": {"Rongcheng": 1.0}, "block_size": 128},
        feedback=feedback,
    )
    [result] = run_scenario(sc, tmp_path, ledger=True)
    model = result.model
    assert result.ledger["records"] == len(model.store)
    final = pq.read_table(tmp_path / "final" / "main.parquet")
    with open_ledger(tmp_path / "ledger.db") as ledger:
        assert verify(ledger).ok
        records, registry = ledger.records_table(), ledger.registry()
        # the run's reports, upheld by its own review, are confirmed in the actions chain
        review = report_review(ledger)
    assert records.num_rows == pq.read_table(tmp_path / "records.parquet").num_rows
    assert len(set(records.column("id").to_pylist())) == records.num_rows
    ended = model.datacollector.total("ties_cut", "ties") + model.datacollector.total("jobs_lost", "jobs")
    assert len(model.relation_ends) == ended
    assert registry.relations["until"].null_count == registry.relations.num_rows - ended
    reported = pc.sum(pc.is_valid(records["reported_by"])).as_py()
    assert reported == model.datacollector.total("informants", "upheld")
    if feedback:
        assert ended > 0 and reported > 0
        # the loops that change what reaches the ledger (avoidance only changes attempts)
        for loop, reporter in LOOP_REPORTERS.items():
            if loop != "avoidance":
                assert model.datacollector.total(reporter) > 0, reporter
    assert review.decisions.num_rows == reported
    ev = Engine(["national", "rongcheng"]).evaluate(records, registry, sc.end, reports=review)
    assert ev.to_table().equals(final)
    assert final.num_rows > 800 and final["grade"].null_count < final.num_rows

    out = tmp_path / "scored.parquet"
    res = CliRunner().invoke(
        app,
        [
            "score",
            "--db",
            str(tmp_path / "ledger.db"),
            "--rulebook",
            "national",
            "--rulebook",
            "rongcheng",
            "--as-of",
            sc.end.isoformat(),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert pq.read_table(out).equals(final)
