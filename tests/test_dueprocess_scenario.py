"""Issue 13's scenario switch: a run with ``dueprocess: {compare: true}`` (or ``simulate
--due-process-compare``) evaluates its own records with due process off and on and writes
``dueprocess.json`` and ``dueprocess_events.parquet``; the report shows them; the subject's file
on the portal carries the pending notices. Runs without the switch are unchanged."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.simulate import load_scenario
from socialcredit.simulate.dueprocess import compare
from socialcredit.simulate.outputs import engine_records
from socialcredit.simulate.runner import run_scenario
from socialcredit.simulate.scenario import ScenarioError

POP = {"regions": {"Rongcheng": 1.0}, "block_size": 128}
HISTORY = [  # defaulters listed before the start, so that the comparison has listings to count
    {
        "category": "judicial.judgment_default",
        "share": 0.03,
        "window": ["2017-06-01", "2017-12-31"],
        "assumed": True,
        "reason": "test",
    }
]
SWITCH = {"compare": True, "error_rate": 0.5, "object_rate": 1.0, "frivolous_rate": 0.2, "step_days": 5}


def _scenario(**changes: Any) -> Any:
    base = {"size": 800, "days": 60, "evaluate_every": 10, "population": POP, "history": HISTORY}
    return load_scenario("classroom", **(base | changes))


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("dp-on")
    [result] = run_scenario(_scenario(dueprocess=SWITCH), out)
    return out, result


def test_the_switch_writes_the_comparison_beside_the_outputs(switched: tuple[Path, Any]) -> None:
    out, result = switched
    man = result.manifest
    for name in ("dueprocess.json", "dueprocess_events.parquet"):
        assert man["files"][name] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert json.loads((out / "manifest.json").read_text())["files"] == man["files"]
    assert man["scenario"]["dueprocess"]["compare"] is True
    dp = json.loads((out / "dueprocess.json").read_text())
    sc = result.run.scenario
    assert dp["regime"] == "main" and dp["rulebooks"] == sc.regimes["main"]
    assert (dp["start"], dp["end"], dp["step_days"]) == (str(sc.start), str(sc.end), 5)
    assert dp["assumptions"]["error_rate"] == 0.5 and dp["assumptions"]["object_rate"] == 1.0
    assert dp["wrongful"] > 0 and dp["objections"] > 0
    # with every wrongly listed subject objecting, every wrongful listing is reversed
    lists = dp["lists"]
    assert sum(r["wrongful_reversed"] for r in lists.values()) == sum(r["wrongful"] for r in lists.values())
    assert sum(r["wrongful_days_due_process"] for r in lists.values()) < sum(
        r["wrongful_days_original"] for r in lists.values()
    )
    for r in lists.values():
        assert r["avoided"] == r["listings_original"] - r["listings_due_process"]


def test_the_comparison_is_the_runs_own_records_both_ways(switched: tuple[Path, Any]) -> None:
    """Recomputed from records.parquet and the run's registry, the comparison is the same."""
    out, result = switched
    sc = result.run.scenario
    again = compare(
        engine_records(pq.read_table(out / "records.parquet")),
        result.model.registry,
        sc.regimes["main"],
        sc.start,
        sc.end,
        step_days=5,
        error_rate=0.5,
        object_rate=1.0,
        frivolous_rate=0.2,
    )
    dp = json.loads((out / "dueprocess.json").read_text())
    assert dp["lists"] == again["lists"] and dp["wrongful"] == again["wrongful"]
    events = pq.read_table(out / "dueprocess_events.parquet").to_pylist()
    assert len(events) == len(again["events"])
    assert [(str(e["day"]), e["event"], e["subject"], e["record"]) for e in events] == [
        (e["day"], e["event"], e["subject"], e["record"]) for e in again["events"]
    ]
    counts: dict[str, int] = {}
    for e in events:
        counts[e["event"]] = counts.get(e["event"], 0) + 1
    assert dp["events"] == counts and counts["objection.filed"] == dp["objections"]
    assert counts["objection.upheld"] + counts["objection.rejected"] == dp["objections"]


def test_without_the_switch_nothing_changes(tmp_path: Path) -> None:
    [result] = run_scenario(_scenario(days=10), tmp_path)
    assert not (tmp_path / "dueprocess.json").exists()
    assert not (tmp_path / "dueprocess_events.parquet").exists()
    assert "dueprocess" not in result.manifest["scenario"]  # the manifest dumps as it did before
    assert not any(name.startswith("dueprocess") for name in result.manifest["files"])
    # off explicitly: the block is recorded, no file is written
    [off] = run_scenario(_scenario(days=10, dueprocess={"compare": False}), tmp_path / "off")
    assert off.manifest["scenario"]["dueprocess"]["compare"] is False
    assert not (tmp_path / "off" / "dueprocess.json").exists()
    assert off.manifest["files"]["records.parquet"] == result.manifest["files"]["records.parquet"]


def test_the_switch_is_validated_and_can_be_swept() -> None:
    with pytest.raises(ScenarioError, match="error_rate"):
        _scenario(dueprocess={"compare": True, "error_rate": 1.5})
    with pytest.raises(ScenarioError, match="unknown regime"):
        _scenario(dueprocess={"compare": True, "regime": "nowhere"})
    sc = _scenario(
        dueprocess={"compare": True}, sweep=[{"parameter": "dueprocess.error_rate", "values": [0.1, 0.3]}]
    )
    assert [r.scenario.dueprocess.error_rate for r in sc.runs()] == [0.1, 0.3]
    assert all(r.scenario.dueprocess.compare for r in sc.runs())
    with pytest.raises(ScenarioError, match="no due-process setting"):
        _scenario(sweep=[{"parameter": "dueprocess.mood", "values": [1]}]).runs()


def test_defaults_are_compares_and_the_builtin_scenario_has_the_switch() -> None:
    import inspect

    sw = load_scenario("feedback-demo").dueprocess
    assert sw is not None and sw.compare and sw.assumed and sw.reason
    defaults = inspect.signature(compare).parameters
    fresh = type(sw)()
    for name in ("error_rate", "object_rate", "frivolous_rate", "review_days", "step_days", "seed"):
        assert getattr(fresh, name) == defaults[name].default, name
    assert fresh.compare is False


def test_cli_switch(tmp_path: Path) -> None:
    args = ["simulate", "classroom", "--size", "300", "--days", "8"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "on"), "--due-process-compare"])
    assert res.exit_code == 0, res.output
    dp = json.loads((tmp_path / "on" / "dueprocess.json").read_text())
    assert dp["assumptions"]["error_rate"] == 0.05 and dp["step_days"] == 7
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "off")])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "off" / "dueprocess.json").exists()


def test_the_portal_file_shows_pending_notices(tmp_path: Path) -> None:
    from socialcredit.ids import generate_resident_id
    from socialcredit.ledger import open_ledger
    from socialcredit.service import Settings, create_app
    from socialcredit.service.tokens import create_token

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    j = generate_resident_id(13, 1)
    db = tmp_path / "ledger.db"
    with open_ledger(db) as led:
        led.append_registry([{"id": j, "kind": "person", "name": "A journalist (synthetic)"}])
        rec = {"subject": j, "category": "judicial.judgment_default", "source": "court"}
        led.append_records([{"id": "court-1", "occurred_at": "2019-03-01", **rec}])
        _, token = create_token(led, label="j", role="subject", subject=j)
    for today, pending in (("2019-03-04", True), ("2019-03-20", False)):
        app_ = create_app(Settings(db=db, today=today))
        with TestClient(app_, raise_server_exceptions=False) as c:
            c.post("/my/signin", data={"token": token})
            mine = c.get("/my.json").json()
            page = c.get("/my").text
            if pending:
                [n] = mine["notices"]
                assert (n["record"], n["takes_effect"], n["object_by"]) == (
                    "court-1",
                    "2019-03-11",
                    "2019-03-10",
                )
                assert "2019-03-10" in page and 'href="/my/objections"' in page
            else:
                assert mine["notices"] == [] and "No listing is proposed against you" in page


def test_the_comparison_does_not_depend_on_shards(tmp_path: Path) -> None:
    sc = _scenario(size=600, days=20, dueprocess=SWITCH)
    run_scenario(sc, tmp_path / "one", shards=1)
    run_scenario(sc, tmp_path / "three", shards=3)
    for name in ("dueprocess.json", "dueprocess_events.parquet"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "three" / name).read_bytes(), name
