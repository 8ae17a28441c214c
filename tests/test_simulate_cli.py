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
