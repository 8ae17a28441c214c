"""Shared fixtures: a tiny synthetic registry (tests/ingest_helpers.py) and a ledger factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest_helpers import Tiny
from socialcredit.ledger import Ledger, open_ledger


@pytest.fixture(scope="session")
def tiny() -> Tiny:
    return Tiny()


@pytest.fixture
def make_ledger(tmp_path: Path, tiny: Tiny) -> Iterator[Callable[..., Ledger]]:
    """``make_ledger(name="ledger.db", registry=True)``: a fresh ledger, with the tiny registry."""
    opened: list[Ledger] = []

    def make(name: str = "ledger.db", *, registry: bool = True) -> Ledger:
        ledger = open_ledger(tmp_path / name)
        opened.append(ledger)
        if registry:
            ledger.append_registry(tiny.registry)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(make_ledger: Callable[..., Ledger]) -> Ledger:
    """A fresh ledger holding the tiny registry."""
    return make_ledger()
