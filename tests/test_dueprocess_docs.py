"""docs/dueprocess.md's worked example runs as written and says what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "dueprocess.md"


def test_the_journalist_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DOC.read_text()
    block = re.search(r"## Worked example.*?```python\n(.*?)```", text, re.S)
    assert block, "the worked example has a python block"
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(block.group(1), str(DOC), "exec"), ns)
    try:
        assert ns["o"].review_by == "2019-03-20"
        bound = ns["bind_ledger"](ns["engine"], ns["ledger"], ns["policy"])
        for day in ("2019-03-01", "2019-03-12", "2019-03-15"):
            assert bound.decide(ns["j"], "travel.high_speed_rail", day).outcome == "allowed"
    finally:
        ns["ledger"].close()


@pytest.mark.parametrize(
    "name",
    [
        "socialcredit.dueprocess",
        "socialcredit.dueprocess.notices",
        "socialcredit.dueprocess.objections",
        "socialcredit.dueprocess.repair",
        "socialcredit.dueprocess.retention",
        "socialcredit.engine.lists",
        "socialcredit.simulate.dueprocess",
        "socialcredit.service.routers.objections",
        "socialcredit.service.portal.objections",
    ],
)
def test_module_examples(name: str) -> None:
    import doctest
    import importlib

    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
