"""``socialcredit demo``: the main job behind ``make run``.

Generates a synthetic registry and sample records, writes them as the files a department would
send, imports and ingests them through validation into a fresh ledger, verifies the chain, and
prints a summary. A handful of deliberately bad records show that rejects are kept with reasons.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from socialcredit.cli._common import fail

console = Console()


def bad_records(good: list[dict[str, Any]]) -> list[dict[str, Any] | str]:
    """One bad line per reject reason, built from valid sample records (the demo shows them)."""
    a, b = good[0], good[1]
    return [
        "{this is not json",
        {**a, "id": "bad-unknown-field", "mood": "defiant"},
        {k: v for k, v in a.items() if k != "source"} | {"id": "bad-missing-field"},
        {**a, "id": "bad-type", "occurred_at": "2018-02-30"},
        {**a, "id": "bad-identifier", "subject": "000101199001011234"},
        {**a, "id": "bad-unknown-subject", "subject": _unknown_person()},
        {**a, "id": "bad-unknown-category", "category": "thought.crime"},
        {**a, "id": "bad-unauthorized-source", "source": "bike_sharing"},
        {**a, "id": "bad-future", "occurred_at": "2099-01-01"},
        {**b, "id": a["id"]},  # same id, different content: a conflict
    ]


def _unknown_person() -> str:
    from socialcredit import ids

    # An index far beyond the sample's persons: valid, but not in the registry.
    return ids.generate_resident_id(2014, 10**9, region="Rongcheng")


def _write_jsonl(path: Path, rows: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")


def demo(
    out: Annotated[Path, typer.Option(help="Directory for the files and the ledger.")] = Path(
        "runs/demo"
    ),
    persons: Annotated[int, typer.Option(min=10, help="Synthetic persons.")] = 10_000,
    organisations: Annotated[int, typer.Option(min=1, help="Synthetic organisations.")] = 500,
    records: Annotated[int, typer.Option(min=10, help="Sample credit records.")] = 50_000,
    seed: Annotated[int, typer.Option(help="The one seed everything derives from.")] = 2014,
) -> None:
    """Generate a synthetic society, ingest it into a fresh ledger, verify it, summarise."""
    from socialcredit.ingest import import_registry_files, ingest_files
    from socialcredit.ledger import open_ledger, verify
    from socialcredit.society import sample_society

    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with console.status("Generating the synthetic society…"):
        society = sample_society(
            seed=seed, persons=persons, organisations=organisations, records=records
        )
    registry_path, records_path, bad_path = (
        out / "registry.jsonl",
        out / "records.jsonl",
        out / "bad-records.jsonl",
    )
    _write_jsonl(registry_path, society.registry)
    _write_jsonl(records_path, society.records)
    _write_jsonl(bad_path, bad_records(society.records))

    ledger = open_ledger(out / "ledger.db")
    now = dt.datetime(2019, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    reg_report = import_registry_files(ledger, [registry_path], now=now)
    rec_report = ingest_files(ledger, [records_path, bad_path], now=now, progress=True)
    result = verify(ledger)
    elapsed = time.perf_counter() - started

    table = Table(title=f"socialcredit demo — {out}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    kinds: dict[str, int] = {}
    for s in society.subjects:
        kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    for kind, n in sorted(kinds.items()):
        table.add_row(f"subjects: {kind}", f"{n:,}")
    table.add_row("relations", f"{len(society.relations):,}")
    table.add_row("registry lines imported", f"{reg_report.accepted:,}")
    table.add_row("records accepted", f"{rec_report.accepted:,}")
    table.add_row("records duplicate", f"{rec_report.duplicates:,}")
    table.add_row("records rejected (kept in quarantine)", f"{rec_report.rejected:,}")
    table.add_row("ledger verified", "intact" if result.ok else f"BROKEN: {result.message}")
    table.add_row("seconds", f"{elapsed:.1f}")
    console.print(table)

    reasons = Table(title="Rejected on purpose: one bad record per reason")
    for col in ("line", "id", "reason", "message"):
        reasons.add_column(col)
    for r in rec_report.rejects:
        reasons.add_row(str(r.line), str(r.id), r.reason, r.message)
    console.print(reasons)
    console.print(
        f"Files: {registry_path}, {records_path}, {bad_path}; ledger: {out / 'ledger.db'}\n"
        f"Next: socialcredit verify --db {out / 'ledger.db'}"
    )
    if not result.ok:
        fail("the ledger did not verify", code=1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
