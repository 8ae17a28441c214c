"""Write a run into a ledger from a second process, while the run goes on.

The registry is known before the first day and a day's records are final once drawn, so a
child process can append the registry and then the records, chunk by chunk, through the
ledger's bulk paths (``Ledger.append_registry``, ``Ledger.append_records``) while the main
process simulates the next days; relations ended during the run (ostracism) follow as registry
lines (:meth:`LedgerWriter.append_registry`) in the same queue. On a two-core machine this
hides most of the cost of the ledger. The ledger's one-writer rule holds: only the child writes.

The informants loop's reports reach the records only once its own review upheld them (the day
they were filed), so each ``citizen_report`` record is written with a ``report.confirmed`` action
in the same transaction (:mod:`socialcredit.dueprocess.reports`): scored from the ledger, they
count as they did in the run. A report confirmed already (a run written again after a crash) gets
no second action.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.registry import Registry
    >>> reg = Registry.from_lines([{"id": "A", "kind": "person", "name": "A"}])
    >>> w = LedgerWriter(pathlib.Path(tempfile.mkdtemp()) / "l.db", reg)
    >>> w.close()["registry_lines"]
    1
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

import pyarrow as pa

from socialcredit.errors import LedgerError
from socialcredit.registry import Registry

__all__ = ["LedgerWriter"]


def _lines(table: pa.Table) -> list[dict[str, Any]]:
    out = []
    for batch in table.to_batches(50_000):
        for row in batch.to_pylist():
            out.append({k: v for k, v in row.items() if v is not None})
    return out


#: Who confirms the simulated reports in the actions chain, and why.
CONFIRMED_BY = "simulation:informants"
CONFIRMED_WHY = (
    "upheld by the simulated review the day it was filed (socialcredit.simulate.feedback.Informants)"
)


def confirmations(table: pa.Table, decided: set[str]) -> list[dict[str, Any]]:
    """``report.confirmed`` actions for the ``citizen_report`` records of ``table`` not in
    ``decided`` (which they are added to)."""
    if "reported_by" not in table.column_names or not table.num_rows:
        return []
    import pyarrow.compute as pc

    from socialcredit.engine.reports import informant_sources

    mask = pc.is_in(table["source"], value_set=pa.array(list(informant_sources()), pa.string()))
    out = []
    for row in table.filter(mask).select(["id", "subject", "category", "occurred_at"]).to_pylist():
        if row["id"] in decided:
            continue
        decided.add(row["id"])
        day = str(row["occurred_at"])[:10]
        out.append(
            {
                "kind": "report.confirmed",
                "actor": CONFIRMED_BY,
                "subject": row["subject"],
                "reason": CONFIRMED_WHY,
                "payload": {"record": row["id"], "category": row["category"], "on": day},
                "at": f"{day}T00:00:00+08:00",
            }
        )
    return out


def _child(db: str, subjects: pa.Table, relations: pa.Table, inbox: Any, outbox: Any) -> None:
    from socialcredit.dueprocess.reports import report_decisions
    from socialcredit.ledger import open_ledger

    try:
        with open_ledger(Path(db)) as ledger:
            appended = ledger.append_registry(_lines(subjects) + _lines(relations))
            decided = {d.record for d in report_decisions(ledger)}
            records = 0
            while (table := inbox.get()) is not None:
                if isinstance(table, list):  # registry lines (relations ended during the run)
                    appended += ledger.append_registry(table)
                else:
                    actions = confirmations(table, decided)
                    records += ledger.append_records(table, actions=actions).accepted
        outbox.put({"registry_lines": int(sum(appended)), "records": records})
    except Exception as exc:  # reported to the parent, which raises
        outbox.put({"error": f"{type(exc).__name__}: {exc}"})


class LedgerWriter:
    """A child process appending a registry, then record tables, to the ledger at ``db``."""

    def __init__(self, db: Path, registry: Registry) -> None:
        ctx = mp.get_context("spawn")
        self._inbox, self._outbox = ctx.Queue(maxsize=8), ctx.Queue()
        self._proc = ctx.Process(
            target=_child,
            args=(str(db), registry.subjects, registry.relations, self._inbox, self._outbox),
            daemon=True,
        )
        self._proc.start()

    def append(self, records: pa.Table) -> None:
        """Queue records (in ledger order) for appending."""
        if records.num_rows:
            self._inbox.put(records)

    def append_registry(self, lines: list[dict[str, Any]]) -> None:
        """Queue registry lines (e.g. relations ended during the run) for appending."""
        if lines:
            self._inbox.put(list(lines))

    def close(self) -> dict[str, int]:
        """Wait for everything queued to be written; the counts appended."""
        self._inbox.put(None)
        result = self._outbox.get()
        self._proc.join()
        if "error" in result:
            raise LedgerError(f"writing the ledger failed: {result['error']}")
        return result
