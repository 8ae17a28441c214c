"""`socialcredit simulate`: list, run, replicates."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from socialcredit.cli import app


def test_list_shows_the_builtin_scenarios() -> None:
    res = CliRunner().invoke(app, ["simulate", "--list", "--json"])
    assert res.exit_code == 0, res.output
    assert {s["name"] for s in json.loads(res.output)} >= {"classroom", "city"}


def test_replicates_write_one_folder_per_seed(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "simulate",
            "classroom",
            "--out",
            str(tmp_path),
            "--size",
            "200",
            "--days",
            "4",
            "--replicates",
            "2",
            "--seed",
            "40",
        ],
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed40", "seed41"]
    man = json.loads((tmp_path / "seed41" / "manifest.json").read_text())
    assert man["seed"] == 41 and man["scenario"]["size"] == 200


def test_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["simulate", "atlantis", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "unknown scenario" in res.output
    res = CliRunner().invoke(app, ["simulate", "classroom"])
    assert res.exit_code == 2


def test_streamed_run_writes_its_summary_and_days(tmp_path: Path) -> None:
    """`--streamed` runs the compiled kernel shard by shard; `--feedback-all` switches the loops on."""
    out = tmp_path / "n18"
    args = ["simulate", "national-2018", "--out", str(out), "--size", "3000", "--days", "30"]
    res = CliRunner().invoke(app, [*args, "--streamed", "--feedback-all", "--processes", "1", "--json"])
    assert res.exit_code == 0, res.output
    printed = json.loads(res.output[res.output.index("{") :])
    summary = json.loads((out / "summary.json").read_text())
    assert printed["records"] == summary["records"] > 0
    assert summary["residents"] == 3000 and summary["days"] == 30
    assert "feedback loop gaming" in summary["left_out"]  # nothing to act on under national
    rows = (out / "daily.csv").read_text().splitlines()
    assert len(rows) == 31 and rows[0].startswith("date,records")


def test_streamed_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["simulate", "city", "--out", str(tmp_path), "--size", "500", "--streamed"])
    assert res.exit_code != 0
    assert "cannot run streamed" in res.output and "scores" in res.output
    res = CliRunner().invoke(
        app, ["simulate", "classroom", "--out", str(tmp_path), "--size", "200", "--processes", "2"]
    )
    assert res.exit_code != 0 and "--streamed" in res.output
