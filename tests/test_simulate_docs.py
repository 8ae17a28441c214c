"""The simulator's documentation runs: docstring examples, and the worked scenario example."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import socialcredit.simulate
import socialcredit.society
from socialcredit.simulate import load_scenario
from socialcredit.simulate.reporters import REPORTERS

DOC = Path(__file__).resolve().parents[1] / "docs" / "simulate.md"


@pytest.mark.parametrize("package", [socialcredit.society, socialcredit.simulate])
def test_docstring_examples_run(package) -> None:
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__


def test_the_worked_example_in_the_docs_is_a_valid_scenario(tmp_path: Path) -> None:
    text = DOC.read_text("utf-8")
    block = re.search(r"### Worked example\n\n```yaml\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "ticket-crackdown.yaml"
    path.write_text(block, "utf-8")
    sc = load_scenario(path)
    runs = sc.runs()
    assert [r.name for r in runs] == [f"sweep{i:02d}-seed{s}" for i in (0, 1) for s in (7, 8, 9)]
    assert runs[-1].scenario.behaviour.scale == {"traffic.ticket": 2.0}
    assert sc.population.parameters["dog_owner_share"]["value"] == 0.08


def test_every_reporter_is_documented() -> None:
    text = DOC.read_text("utf-8")
    for name in REPORTERS:
        assert f"`{name}`" in text, name
