"""``socialcredit report-review``: citizen reports held for review, and their review (issue #16).

::

    socialcredit report-review list    --db PATH [--subject ID] [--state STATE] [--on DATE] [--json]
    socialcredit report-review confirm --db PATH RECORD --officer NAME --reasons TEXT [--on DATE] [--json]
    socialcredit report-review reject  --db PATH RECORD --officer NAME --reasons TEXT [--on DATE] [--json]

A record from ``citizen_report`` counts only once a department confirms it or a quorum of
distinct reporters (3 within 30 days, assumed) reports the same subject for the same category;
one reporter's repeats count as one (:mod:`socialcredit.engine.reports`). ``list`` shows every
report with its state as of a day — the reviewing officer's view, reporter named. ``confirm`` and
``reject`` append a ``report.confirmed`` / ``report.rejected`` action to the ledger's actions
chain (a report is decided once). Exit codes: 0 done, 2 a usage error (a missing ledger, an
unknown record, a record that is not a report, one decided already) with a one-line message.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from socialcredit.cli._common import console, print_json, print_table
from socialcredit.cli.objection import DbOpt, JsonOpt, OnOpt, _day, _open, fail

review_app = typer.Typer(
    help="Citizen reports held for review: list them, confirm or reject one (issue #16).",
    no_args_is_help=True,
)

RecordArg = Annotated[str, typer.Argument(help="The report's record id.")]
OfficerOpt = Annotated[str, typer.Option("--officer", help="Who decides (recorded in the actions chain).")]
ReasonsOpt = Annotated[str, typer.Option("--reasons", help="Why (recorded in the actions chain).")]


def list_cmd(
    db: DbOpt,
    subject: Annotated[str | None, typer.Option("--subject", help="Only this subject's reports.")] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="Only reports in this state (held, repeat, confirmed, quorum, rejected, anonymous).",
        ),
    ] = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every citizen report with its review state as of a day (reporter named: the officer's view)."""
    from socialcredit.dueprocess.reports import list_reports
    from socialcredit.engine.reports import STATES

    if state is not None and state not in STATES[1:]:
        fail(f"--state: {state!r} is not one of {', '.join(STATES[1:])}")
    day = _day(on)
    with _open(db) as ledger:
        rows = list_reports(ledger, subject=subject, on=day, state=state)
    if as_json:
        print_json({"as_of": day.isoformat(), "reports": rows})
        return
    print_table(
        f"Citizen reports as of {day}",
        ["record", "subject", "category", "date", "reported by", "state", "counts"],
        [
            (
                r["record"],
                r["subject"],
                r["category"],
                r["date"],
                r["reported_by"] or "-",
                r["state"],
                r["counts"],
            )
            for r in rows
        ],
    )


def _decide(
    record: str, db: str, officer: str, reasons: str, on: str | None, as_json: bool, outcome: str
) -> None:
    from socialcredit.dueprocess.reports import ReportError, decide_report

    day = _day(on)
    with _open(db) as ledger:
        try:
            d = decide_report(ledger, record, outcome=outcome, officer=officer, reasons=reasons, on=day)
        except ReportError as exc:
            fail(str(exc))
            return
    out: dict[str, Any] = d.to_dict()
    if as_json:
        print_json(out)
        return
    console.print(
        f"[bold]{d.record}[/bold] {d.outcome} on {d.on} by {d.officer}: {d.reasons} (action {d.seq})",
        highlight=False,
        soft_wrap=True,
    )


def confirm_cmd(
    record: RecordArg,
    db: DbOpt,
    officer: OfficerOpt,
    reasons: ReasonsOpt,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Confirm RECORD: the report counts from that day (a report.confirmed action)."""
    _decide(record, db, officer, reasons, on, as_json, "confirmed")


def reject_cmd(
    record: RecordArg,
    db: DbOpt,
    officer: OfficerOpt,
    reasons: ReasonsOpt,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject RECORD: the report never counts, nor takes part in a quorum (a report.rejected action)."""
    _decide(record, db, officer, reasons, on, as_json, "rejected")


review_app.command("list")(list_cmd)
review_app.command("confirm")(confirm_cmd)
review_app.command("reject")(reject_cmd)


def register(app: typer.Typer) -> None:
    """Add ``socialcredit report-review`` to the command."""
    app.add_typer(review_app, name="report-review")
