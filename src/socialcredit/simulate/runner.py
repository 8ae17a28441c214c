"""Run a scenario end to end: every run (sweep values x seeds), its outputs and its ledger.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.simulate import load_scenario
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> results = run_scenario(load_scenario("classroom", size=200, days=10), out)
    >>> (out / "manifest.json").is_file(), results[0].model.steps
    (True, 10)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialcredit.simulate.ledger_writer import LedgerWriter
from socialcredit.simulate.model import SocialCreditModel
from socialcredit.simulate.outputs import write_manifest, write_outputs
from socialcredit.simulate.scenario import Run, Scenario

__all__ = ["RunResult", "run_scenario"]

Progress = Callable[[str, int, int], None]
_CHUNK_DAYS = 30  # records go to the ledger writer once a month of days


@dataclass
class RunResult:
    """A finished run: where its files are, its model and manifest, and ledger counts."""

    run: Run
    out: Path
    model: SocialCreditModel
    manifest: dict[str, Any]
    ledger: dict[str, int] | None = None


class _DayDone:
    """After each day: send a month of records to the ledger writer; report progress."""

    def __init__(
        self, model: SocialCreditModel, writer: LedgerWriter | None, label: str, progress: Progress | None
    ) -> None:
        self.model, self.writer, self.label, self.progress = model, writer, label, progress
        self.sent = 0
        self.ends_sent = 0

    def __call__(self, done: int, total: int) -> None:
        if self.writer is not None and (done % _CHUNK_DAYS == 0 or done == total):
            self.writer.append(self.model.records_table(self.sent, len(self.model.store)))
            self.sent = len(self.model.store)
            ends = self.model.relation_ends
            if len(ends) > self.ends_sent:  # ties cut by ostracism: dated relation ends
                self.writer.append_registry(ends[self.ends_sent :])
                self.ends_sent = len(ends)
        if self.progress is not None:
            self.progress(self.label, done, total)


def _writer(model: SocialCreditModel, folder: Path) -> LedgerWriter:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "ledger.db"
    if db.exists():
        db.unlink()
    return LedgerWriter(db, model.registry)


def run_scenario(
    scenario: Scenario,
    out: Path,
    *,
    shards: int | None = None,
    ledger: bool = False,
    progress: Progress | None = None,
    backend: str = "local",
    address: str | None = None,
    workers: int | None = None,
) -> list[RunResult]:
    """Run every run of ``scenario`` into ``out`` (one sub-folder per run when there are
    several); with ``ledger``, also write ``ledger.db`` per run (from a second process, while
    the run goes on: :class:`LedgerWriter`). ``progress(label, done, total)`` is called as days
    pass. ``backend`` (``local`` or ``ray``, with the Ray cluster's ``address`` and ``workers``)
    says where the shards run (see :mod:`socialcredit.simulate.backends`); the files are the
    same bytes either way."""
    results = []
    for run in scenario.runs():
        folder = out / run.name if run.name else out
        label = run.name or scenario.name
        model = SocialCreditModel(
            run.scenario, shards=shards, backend=backend, address=address, workers=workers
        )
        try:
            writer = _writer(model, folder) if ledger else None
            model.run(_DayDone(model, writer, label, progress))
        finally:
            model.close()
        t0 = time.perf_counter()
        manifest = write_outputs(model, folder, values=dict(run.values))
        counts = None
        if writer is not None:
            counts = writer.close()
            model.timings["ledger_wait"] = time.perf_counter() - t0 - model.timings["outputs"]
            manifest["run"]["timings"]["ledger_wait"] = round(model.timings["ledger_wait"], 3)
            write_manifest(folder, manifest)
        results.append(RunResult(run, folder, model, manifest, counts))
    return results
