"""Determinism: the same scenario and seed give byte-identical outputs on 1 shard or 4, with the
feedback loops off and with every loop on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from socialcredit.simulate import load_scenario
from socialcredit.simulate.runner import run_scenario
from test_simulate_feedback import ALL_ON, LOOP_REPORTERS


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}


def _manifest(folder: Path) -> dict:
    man = json.loads((folder / "manifest.json").read_text())
    del man["run"]  # shards and timings
    return man


@pytest.mark.parametrize("feedback", [{}, ALL_ON], ids=["loops-off", "all-loops"])
def test_one_shard_and_four_shards_give_byte_identical_outputs(
    tmp_path: Path, feedback: dict[str, Any]
) -> None:
    sc = load_scenario(
        "classroom",
        size=1200,
        days=45 if feedback else 15,
        evaluate_every=5 if feedback else 3,
        regimes={"rongcheng": ["national", "rongcheng"], "national": ["national"]},
        population={"regions": {"Rongcheng": 1.0}, "block_size": 128},
        feedback=feedback,
    )
    one, four = tmp_path / "one", tmp_path / "four"
    [r1] = run_scenario(sc, one, shards=1)
    [r4] = run_scenario(sc, four, shards=4)
    assert len(r1.model.shards) == 1 and len(r4.model.shards) == 4
    a, b = _files(one), _files(four)
    assert set(a) == {
        "daily.parquet",
        "final/rongcheng.parquet",
        "final/national.parquet",
        "records.parquet",
        "subjects.parquet",
        "trajectories.parquet",
    }
    for name in a:
        assert a[name] == b[name], name
    assert _manifest(one) == _manifest(four)
    assert r1.model.relation_ends == r4.model.relation_ends
    if feedback:  # every loop did something, identically on both
        for reporter in LOOP_REPORTERS.values():
            assert r1.model.datacollector.total(reporter) > 0, reporter


def test_a_different_seed_gives_a_different_run(tmp_path: Path) -> None:
    a = run_scenario(load_scenario("classroom", size=300, days=5), tmp_path / "a")[0]
    b = run_scenario(load_scenario("classroom", size=300, days=5, seed=9), tmp_path / "b")[0]
    assert a.manifest["files"]["records.parquet"] != b.manifest["files"]["records.parquet"]
    again = run_scenario(load_scenario("classroom", size=300, days=5), tmp_path / "c")[0]
    assert again.manifest["files"] == a.manifest["files"]
