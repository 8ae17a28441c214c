"""``socialcredit ingest``, ``verify``, ``db upgrade`` and ``registry import``.

Exit codes: 0 all accepted (or duplicates) / intact; 1 some lines rejected / the ledger was
tampered with; 2 a usage error or a file or ledger that cannot be read at all.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer

from socialcredit.cli._common import console, err_console, fail, print_json, print_table
from socialcredit.errors import SocialCreditError
from socialcredit.ingest import IngestReport, import_registry_files, ingest_files
from socialcredit.ledger import head_revision, open_ledger, verify
from socialcredit.records import parse_occurred_at

DbOpt = Annotated[
    str,
    typer.Option("--db", help="The ledger: a SQLite file (created when missing) or a postgresql:// URL."),
]
FilesArg = Annotated[list[Path], typer.Argument(help="JSONL, CSV or Parquet files.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")]
NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="The ingest clock for the `future` check (ISO 8601; default: now; +08:00 when no "
        "offset is given).",
    ),
]
ProgressOpt = Annotated[
    bool | None,
    typer.Option("--progress/--no-progress", help="Progress bar (default: large files on a TTY)."),
]

db_app = typer.Typer(help="The ledger database.", no_args_is_help=True)
registry_app = typer.Typer(help="The registry of subjects and relations.", no_args_is_help=True)

EXAMPLES_PER_REASON = 3


def _print_report(report: IngestReport, what: str) -> None:
    console.print(
        f"{what}: [green]{report.accepted} accepted[/green], {report.duplicates} duplicates, "
        f"[{'red' if report.rejected else 'green'}]{report.rejected} rejected[/]"
    )
    if report.rejects:
        grouped = defaultdict(list)
        for r in report.rejects:
            grouped[r.reason].append(r)
        rows = []
        for reason, count in report.by_reason().items():
            examples = [
                f"{r.file}:{r.line}" + (f" {r.id}" if r.id else "") + f" — {r.message}"
                for r in grouped[reason][:EXAMPLES_PER_REASON]
            ]
            more = count - len(examples)
            if more:
                examples.append(f"… and {more} more (all are in the quarantine table)")
            rows.append((reason, count, "\n".join(examples)))
        print_table("Rejects by reason", ["reason", "count", "examples"], rows)


def _finish(report: IngestReport, as_json: bool, what: str) -> None:
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report, what)
    for error in report.errors:
        err_console.print(f"[red]error:[/red] {error.message}", soft_wrap=True)
    raise typer.Exit(report.exit_code)


def ingest(
    files: FilesArg,
    db: DbOpt,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    progress: ProgressOpt = None,
) -> None:
    """Validate credit records and append them to the ledger; rejects go to quarantine."""
    clock = None
    if now is not None:
        try:
            clock = parse_occurred_at(now)
        except ValueError as exc:
            fail(f"--now {now!r} is not an ISO 8601 date or date-time ({exc})")
    try:
        with open_ledger(db) as ledger:
            report = ingest_files(ledger, files, now=clock, progress=progress)
    except SocialCreditError as exc:
        fail(str(exc))
    _finish(report, as_json, "records")


def verify_command(
    db: DbOpt,
    as_json: JsonOpt = False,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key", help="The published key every signed tree head must be signed by (hex or file)."
        ),
    ] = None,
) -> None:
    """Recompute the hash chains; exit 1 naming the first record or registry change that was
    altered, removed or inserted.

    Checks the chains of credit records, registry changes and manual actions, and every signed
    Merkle tree head (`socialcredit proof --sign-head`) against the trees.
    """
    try:
        if public_key is not None and len(public_key) != 64 and Path(public_key).is_file():
            public_key = Path(public_key).read_text()
        report = verify(db, public_key=public_key)
    except SocialCreditError as exc:
        fail(str(exc))
    if as_json:
        print_json(report.to_dict())
    else:
        for key, count in (
            ("records", report.records),
            ("registry_changes", report.registry_changes),
            ("actions", report.actions),
        ):
            chain = key.replace("_", " ")
            console.print(f"{chain}: {count} links intact, head {report.heads[key]}", soft_wrap=True)
        console.print(f"signed tree heads: {report.tree_heads} checked")
        for p in report.problems:
            err_console.print(f"[red]tampered:[/red] {p.message}", soft_wrap=True)
        if report.ok:
            console.print("[green]intact[/green]")
    raise typer.Exit(0 if report.ok else 1)


@db_app.command("upgrade")
def db_upgrade(db: DbOpt) -> None:
    """Create the ledger or bring its schema to the newest migration."""
    try:
        with open_ledger(db):
            pass
    except SocialCreditError as exc:
        fail(str(exc))
    console.print(f"{db}: schema at revision {head_revision()} (newest)")


@registry_app.command("import")
def registry_import(files: FilesArg, db: DbOpt, as_json: JsonOpt = False) -> None:
    """Import subjects and relations (JSONL, CSV or Parquet) into the ledger's registry."""
    try:
        with open_ledger(db) as ledger:
            report = import_registry_files(ledger, files)
    except SocialCreditError as exc:
        fail(str(exc))
    _finish(report, as_json, "registry lines")


def register(app: typer.Typer) -> None:
    """Register ``ingest``, ``verify``, ``db upgrade`` and ``registry import``."""
    app.command("ingest")(ingest)
    app.command("verify")(verify_command)
    app.add_typer(db_app, name="db")
    app.add_typer(registry_app, name="registry")
