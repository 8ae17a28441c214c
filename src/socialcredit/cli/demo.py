"""``socialcredit demo``: the main job behind ``make run``.

Generates the synthetic city (the ``city`` scenario: Rongcheng, 100,000 residents by default),
simulates a year under the national framework and Rongcheng's points, writes the simulation's
outputs (Parquet and a manifest), writes the registry and every record the year produced into a
fresh SQLite ledger through its bulk path, ingests a file of deliberately bad records to show
that rejects are quarantined with their reasons, verifies the hash chains, and prints a
summary.

It then writes the research report (:func:`write_report`) and serves the portal
(:func:`serve_portal`; skipped with ``--no-serve``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit.cli._common import console, fail

CST = dt.timezone(dt.timedelta(hours=8))


def bad_records(good: list[dict[str, Any]]) -> list[dict[str, Any] | str]:
    """One bad line per reject reason, built from valid records (the demo shows them)."""
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

    # The last index of the generator: valid, but no synthetic resident ever gets it.
    return ids.generate_resident_id(2014, ids.capacity("person", region="Rongcheng") - 1, region="Rongcheng")


def _two_records(table: Any) -> list[dict[str, Any]]:
    """The last two records of the run that are not bike-sharing ones (a bike-sharing source
    would be authorised for them, and the `unauthorized_source` example must be refused)."""
    import pyarrow.compute as pc

    other = table.filter(pc.not_equal(table["category"], "bike.misuse"))
    return other.slice(max(other.num_rows - 2, 0), 2).to_pylist()


def _write_jsonl(path: Path, rows: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")


def write_summary(out: Path, rows: list[tuple[str, str]]) -> Path:
    """The printed summary as text (``summary.txt``)."""
    path = out / "summary.txt"
    width = max(len(w) for w, _ in rows)
    path.write_text("\n".join(f"{w:<{width}}  {v}" for w, v in rows) + "\n", "utf-8")
    return path


def write_report(out: Path) -> Path:
    """The research report of the run (``report.html`` with its figures beside it)."""
    from socialcredit.report import write_report as research_report

    with console.status("Writing the research report…"):
        return research_report(out)


def serve_portal(db: Path, rulebooks: list[str], day: dt.date) -> None:
    """Serve the portal (and the API) on the demo's ledger until Ctrl-C.

    Only on an interactive terminal: run from a script or CI, the demo says how to serve it and
    returns, so ``make run`` never hangs where nobody can press Ctrl-C.
    """
    books = " ".join(f"--rulebook {b}" for b in rulebooks)
    if not sys.stdin.isatty():
        console.print(
            f"Portal: socialcredit serve --db {db} {books} --today {day}  "
            "(not started: no terminal to stop it from)"
        )
        return
    from socialcredit.service.portal.serve import serve_portal as run_portal

    run_portal(db, rulebooks, day, say=console.print)


def demo(
    out: Annotated[Path, typer.Option(help="Directory for the outputs and the ledger.")] = Path("runs/demo"),
    size: Annotated[int, typer.Option(min=50, help="Synthetic residents of the city.")] = 100_000,
    days: Annotated[int, typer.Option(min=1, help="Days to simulate from 2018-01-01.")] = 365,
    seed: Annotated[
        int | None, typer.Option(help="The one seed everything derives from (default: the city scenario's).")
    ] = None,
    shards: Annotated[int, typer.Option(min=1, help="Shards (the results do not depend on it).")] = 1,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Do not serve the portal.")] = False,
) -> None:
    """Generate the city, simulate a year, ledger and verify it, and summarise."""
    from socialcredit.cli.simulate import progress_bar, summary_rows
    from socialcredit.ingest import ingest_files
    from socialcredit.ledger import open_ledger, verify
    from socialcredit.simulate import load_scenario
    from socialcredit.simulate.runner import run_scenario

    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    scenario = load_scenario("city", size=size, days=days, seed=seed)
    bar, update = progress_bar()
    with bar:
        [result] = run_scenario(scenario, out, shards=shards, ledger=True, progress=update)
    model = result.model
    computed = time.perf_counter() - started

    good = _two_records(model.records_table())
    bad_path = out / "bad-records.jsonl"
    _write_jsonl(bad_path, bad_records(good))
    db = out / "ledger.db"
    with open_ledger(db) as ledger:
        rec_report = ingest_files(ledger, [bad_path], now=dt.datetime(2019, 1, 1, tzinfo=CST))
        check = verify(ledger)
        counts = ledger.counts()
    elapsed = time.perf_counter() - started

    rows = summary_rows(result)
    rows += [
        ("ledger: registry lines", f"{counts['registry_changes']:,}"),
        ("ledger: records", f"{counts['records']:,}"),
        ("ledger: rejected on purpose (quarantined)", f"{rec_report.rejected:,}"),
        ("ledger verified", "intact" if check.ok else f"BROKEN: {check.message}"),
        ("seconds: computing (generate, simulate, ledger)", f"{computed:.1f}"),
        ("seconds: total", f"{elapsed:.1f}"),
    ]
    table = Table(
        title=f"socialcredit demo — {size:,} residents of Rongcheng, {days} days — {out}", show_header=False
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    for what, value in rows:
        table.add_row(what, value)
    console.print(table)
    reasons = Table(title="Rejected on purpose: one bad record per reason")
    for col in ("line", "id", "reason", "message"):
        reasons.add_column(col)
    for r in rec_report.rejects:
        reasons.add_row(str(r.line), str(r.id), r.reason, r.message)
    console.print(reasons)
    summary = write_summary(out, rows)
    report = write_report(out)
    end = scenario.end.isoformat()
    console.print(
        f"Outputs: {out}/daily.parquet, final/, records.parquet, subjects.parquet, manifest.json; "
        f"summary: {summary}\n"
        f"Research report: {report}\n"
        f"Next: socialcredit score --db {db} --rulebook national --rulebook rongcheng --as-of {end}"
    )
    if not no_serve:
        serve_portal(db, model.regimes["main"], scenario.end)
    if not check.ok:
        fail("the ledger did not verify", code=1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
