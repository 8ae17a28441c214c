"""The Ray backend: shards as Ray actors give the same bytes as the local backend (issue 15).

One local Ray instance (2 CPUs) serves the module; Ray takes a while to start, so its tests are
marked slow (``make test`` still runs them); they are skipped, saying so, where Ray is not
installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from socialcredit.simulate import load_scenario
from socialcredit.simulate.runner import run_scenario
from test_simulate_feedback import ALL_ON, LOOP_REPORTERS


@pytest.fixture(scope="module")
def local_ray() -> Any:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'socialcredit[ray]')")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}


def _scenario(**kw: Any) -> Any:
    return load_scenario(
        "classroom",
        size=1200,
        days=45,
        evaluate_every=5,
        regimes={"rongcheng": ["national", "rongcheng"], "national": ["national"]},
        population={"regions": {"Rongcheng": 1.0}, "block_size": 128},
        feedback=ALL_ON,
        **kw,
    )


@pytest.mark.slow
def test_ray_and_local_backends_give_byte_identical_outputs(tmp_path: Path, local_ray: Any) -> None:
    sc = _scenario()
    [local] = run_scenario(sc, tmp_path / "local", shards=1)
    [remote] = run_scenario(sc, tmp_path / "ray", shards=3, backend="ray", workers=2)
    assert local.model.backend.name == "local" and remote.model.backend.name == "ray"
    assert len(remote.model.shards) == 3 and not remote.model.workers  # actors, not in-process
    a, b = _files(tmp_path / "local"), _files(tmp_path / "ray")
    assert {"daily.parquet", "records.parquet", "final/rongcheng.parquet"} <= set(a)
    assert set(a) == set(b)
    for name in a:
        assert a[name] == b[name], name
    man = [json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("local", "ray")]
    assert man[0]["files"] == man[1]["files"]
    assert local.model.relation_ends == remote.model.relation_ends
    for reporter in LOOP_REPORTERS.values():  # every loop did something, on both
        assert remote.model.datacollector.total(reporter) > 0, reporter
    assert remote.model.open_cases("person") == local.model.open_cases("person") > 0


@pytest.mark.slow
def test_cli_backend_ray(tmp_path: Path, local_ray: Any) -> None:
    from socialcredit.cli import app

    runner = CliRunner()
    args = ["simulate", "classroom", "--size", "300", "--days", "8", "--json"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "ray"), "--backend", "ray", "--workers", "2"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "local")])
    assert res.exit_code == 0, res.output
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")
    man = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert man["run"]["shards"] == 2  # under Ray the shards default to the workers


def test_cli_refuses_ray_options_without_the_ray_backend(tmp_path: Path) -> None:
    from socialcredit.cli import app

    res = CliRunner().invoke(app, ["simulate", "classroom", "--out", str(tmp_path), "--workers", "2"])
    assert res.exit_code != 0 and "--backend ray" in res.output
    res = CliRunner().invoke(app, ["simulate", "classroom", "--out", str(tmp_path), "--backend", "spark"])
    assert res.exit_code != 0 and "unknown backend" in res.output
