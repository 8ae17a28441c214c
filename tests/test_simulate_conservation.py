"""Conservation: what the simulator writes into a ledger, scored from the ledger, is the
simulator's final state — through the library and through `socialcredit score`."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.engine import Engine
from socialcredit.ledger import open_ledger, verify
from socialcredit.simulate import load_scenario
from socialcredit.simulate.runner import run_scenario


def test_the_ledger_scores_to_the_simulators_final_state(tmp_path: Path) -> None:
    sc = load_scenario(
        "city",
        size=800,
        days=40,
        evaluate_every=5,
        population={"regions": {"Rongcheng": 1.0}, "block_size": 128},
    )
    [result] = run_scenario(sc, tmp_path, ledger=True)
    assert result.ledger["records"] == len(result.model.store)
    final = pq.read_table(tmp_path / "final" / "main.parquet")
    with open_ledger(tmp_path / "ledger.db") as ledger:
        assert verify(ledger).ok
        records, registry = ledger.records_table(), ledger.registry()
    assert records.num_rows == pq.read_table(tmp_path / "records.parquet").num_rows
    ev = Engine(["national", "rongcheng"]).evaluate(records, registry, sc.end)
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
