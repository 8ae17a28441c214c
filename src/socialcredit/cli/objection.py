"""``socialcredit objection``: notices, objections and their review (issue 13).

::

    socialcredit objection notices --db PATH SUBJECT [--rulebook ID]... [--on DATE] [--issue] [--json]
    socialcredit objection file    --db PATH SUBJECT --record ID [--record ID]... --grounds TEXT
                                   [--evidence TEXT] [--list LIST] [--rulebook ID]... [--on DATE] [--json]
    socialcredit objection review  --db PATH OBJECTION --officer NAME [--on DATE] [--note TEXT]
                                   [--uphold | --reject] [--reasons TEXT] [--json]
    socialcredit objection list    --db PATH [--subject ID] [--state STATE] [--on DATE] [--json]
    socialcredit objection repair  --db PATH SUBJECT [--rulebook ID]... [--on DATE] [--json]
    socialcredit objection compare --db PATH --from DATE --to DATE [--rulebook ID]... [--step DAYS]
                                   [--error-rate X] [--object-rate X] [--seed N] [--out FILE.md] [--json]

``review`` without ``--uphold``/``--reject`` takes the objection up; with one of them it decides
(taking it up first when it is still only filed), ``--reasons`` required. Every step is appended
to the ledger's actions chain. Exit codes: 0 done, 2 a usage error (a missing ledger, an unknown
subject, record or objection, a step the objection's state does not allow) with a one-line
message naming the field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from socialcredit.cli._common import console, print_json, print_table

DbOpt = Annotated[str, typer.Option("--db", help="The ledger: a SQLite file.")]
RulebookOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--rulebook", help="A built-in id or a path; repeat (default: national).", show_default=False
    ),
]
OnOpt = Annotated[
    str | None, typer.Option("--on", help="The day (YYYY-MM-DD; default: today).", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead.")]

objection_app = typer.Typer(
    help="Notices before listing, objections and their review (due process).", no_args_is_help=True
)


def fail(message: str) -> None:
    """One line on standard error, exit 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _open(db: str) -> Any:
    from socialcredit.errors import SocialCreditError
    from socialcredit.ledger import open_ledger

    if "://" not in db and not Path(db).is_file():
        fail(f"--db: no ledger at {db}")
    try:
        return open_ledger(db, create=False)
    except SocialCreditError as exc:
        fail(f"--db: {str(exc).splitlines()[0]}")


def _engine(rulebooks: list[str] | None) -> Any:
    from socialcredit.engine import Engine
    from socialcredit.errors import SocialCreditError

    try:
        return Engine(rulebooks or ["national"])
    except SocialCreditError as exc:
        fail(f"--rulebook: {str(exc).splitlines()[0]}")


def _day(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--on: malformed date {text!r}: use YYYY-MM-DD")
        raise


def _show(o: Any, day: dt.date, as_json: bool) -> None:
    d = o.to_dict(day)
    if as_json:
        print_json(d)
        return
    console.print(
        f"[bold]{o.id}[/bold] {o.state}{' (overdue)' if d['overdue'] else ''} — {o.subject}: "
        f"records {', '.join(o.records)}{' on ' + o.list if o.list else ''}; review by {o.review_by}",
        highlight=False,
        soft_wrap=True,
    )
    for h in o.history:
        console.print(
            f"  {h['on']}  {h['kind']:<20} {h['actor']}: {h['reason']}", highlight=False, soft_wrap=True
        )


def notices_cmd(
    subject: Annotated[str, typer.Argument(help="The subject's id.")],
    db: DbOpt,
    rulebook: RulebookOpt = None,
    on: OnOpt = None,
    issue: Annotated[
        bool, typer.Option("--issue", help="Also record the notices not yet issued (notice.issued actions).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The notices of listings proposed for SUBJECT (due process on)."""
    from socialcredit.dueprocess import DueProcess
    from socialcredit.dueprocess.notices import issue_notices, notices
    from socialcredit.dueprocess.objections import bind_ledger
    from socialcredit.engine.errors import EngineError
    from socialcredit.errors import SocialCreditError

    day = _day(on)
    engine = _engine(rulebook)
    with _open(db) as ledger:
        try:
            ev = bind_ledger(engine, ledger, DueProcess()).evaluate(day)
            out = notices(ev, subject)
            if issue:
                issue_notices(ledger, ev, subject, actor="cli:notices")
        except (EngineError, SocialCreditError) as exc:
            fail(f"subject: {str(exc).splitlines()[0]}")
            return
    if as_json:
        print_json({"subject": subject, "as_of": day.isoformat(), "notices": out})
        return
    print_table(
        f"Notices for {subject} as of {day}",
        ["issued", "list", "record", "takes effect", "object by", "status"],
        [
            (
                n["issued"],
                n["list"],
                n["record"],
                n["takes_effect"] or "(suspended)",
                n["object_by"],
                n["status"],
            )
            for n in out
        ],
    )


def file_cmd(
    subject: Annotated[str, typer.Argument(help="The subject objecting.")],
    db: DbOpt,
    record: Annotated[list[str], typer.Option("--record", help="A record objected to; repeat.")],
    grounds: Annotated[str, typer.Option("--grounds", help="Why the record or listing is wrong.")],
    evidence: Annotated[str | None, typer.Option("--evidence", help="What shows it.")] = None,
    list_id: Annotated[str | None, typer.Option("--list", help="The listing objected to.")] = None,
    rulebook: RulebookOpt = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """File an objection (appends objection.filed to the actions chain)."""
    from socialcredit.dueprocess import ObjectionError, file_objection

    day = _day(on)
    engine = _engine(rulebook)
    with _open(db) as ledger:
        try:
            o = file_objection(
                ledger,
                subject=subject,
                records=record,
                grounds=grounds,
                evidence=evidence,
                list_id=list_id,
                on=day,
                rulebooks=engine.rulebooks,
                actor=f"cli:subject:{subject}",
            )
        except ObjectionError as exc:
            fail(str(exc))
            return
    _show(o, day, as_json)


def review_cmd(
    objection: Annotated[str, typer.Argument(help="The objection's id (obj-…).")],
    db: DbOpt,
    officer: Annotated[str, typer.Option("--officer", help="Who reviews (name or badge).")],
    uphold: Annotated[bool, typer.Option("--uphold", help="Uphold it: the records are annulled.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject it.")] = False,
    reasons: Annotated[str | None, typer.Option("--reasons", help="The decision's reasons.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note when taking it up.")] = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take an objection up, or decide it (--uphold / --reject with --reasons)."""
    from socialcredit.dueprocess import ObjectionError, decide_objection, start_review
    from socialcredit.dueprocess.objections import get_objection

    if uphold and reject:
        fail("--uphold and --reject: give one of them")
    day = _day(on)
    with _open(db) as ledger:
        try:
            o = get_objection(ledger, objection)
            if o.state == "filed":
                o = start_review(ledger, objection, officer=officer, on=day, note=note)
            elif not (uphold or reject):
                fail(f"objection: {o.id} is {o.state}, not filed: it cannot be taken up again")
            if uphold or reject:
                if not reasons:
                    fail("--reasons: a decision needs its reasons")
                o = decide_objection(
                    ledger,
                    objection,
                    outcome="upheld" if uphold else "rejected",
                    officer=officer,
                    reasons=reasons or "",
                    on=day,
                )
        except ObjectionError as exc:
            fail(str(exc))
            return
    _show(o, day, as_json)


def list_cmd(
    db: DbOpt,
    subject: Annotated[str | None, typer.Option("--subject", help="Only this subject's.")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="filed, under_review, upheld or rejected.")
    ] = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every objection with its state (overdue ones marked)."""
    from socialcredit.dueprocess.objections import STATES, list_objections

    if state is not None and state not in STATES:
        fail(f"--state: {state!r} is not one of {', '.join(STATES)}")
    day = _day(on)
    with _open(db) as ledger:
        found = [o for o in list_objections(ledger, subject) if state is None or o.state == state]
    if as_json:
        print_json({"as_of": day.isoformat(), "objections": [o.to_dict(day) for o in found]})
        return
    print_table(
        f"Objections as of {day}",
        ["id", "subject", "records", "filed", "review by", "state", "officer", "decided"],
        [
            (
                o.id,
                o.subject,
                ", ".join(o.records),
                o.filed_on,
                o.review_by,
                o.state + (" (overdue)" if o.overdue(day) else ""),
                o.officer,
                o.decided_on,
            )
            for o in found
        ],
    )


def compare_cmd(
    db: DbOpt,
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    rulebook: RulebookOpt = None,
    step: Annotated[int, typer.Option("--step", help="Days between evaluations.")] = 7,
    error_rate: Annotated[
        float, typer.Option("--error-rate", help="Share of wrongful listing records.")
    ] = 0.05,
    object_rate: Annotated[
        float, typer.Option("--object-rate", help="Share of the wrongly listed who object.")
    ] = 0.8,
    seed: Annotated[int, typer.Option("--seed")] = 13,
    out: Annotated[Path | None, typer.Option("--out", help="Write the Markdown report here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the ledger's population with due process off and on; report what changed."""
    from socialcredit.simulate.dueprocess import compare, render_markdown

    a, b = _day(start), _day(end)
    from socialcredit.dueprocess.reports import report_review

    with _open(db) as ledger:
        records, registry, reports = ledger.records_table(), ledger.registry(), report_review(ledger)
    try:
        report = compare(
            records,
            registry,
            rulebook or ["national"],
            a,
            b,
            step_days=step,
            error_rate=error_rate,
            object_rate=object_rate,
            seed=seed,
            reports=reports,
        )
    except ValueError as exc:
        fail(str(exc))
        return
    text = render_markdown(report)
    if out is not None:
        out.write_text(text)
    if as_json:
        print_json(report)
    else:
        typer.echo(text)


def repair_cmd(
    subject: Annotated[str, typer.Argument(help="The subject's id.")],
    db: DbOpt,
    rulebook: RulebookOpt = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The ways back the rulebooks offer SUBJECT: list exits and point-earning rules, cited."""
    from socialcredit.dueprocess.repair import repair_options
    from socialcredit.engine.errors import EngineError
    from socialcredit.errors import SocialCreditError

    day = _day(on)
    engine = _engine(rulebook)
    with _open(db) as ledger:
        try:
            from socialcredit.dueprocess.reports import report_review

            ev = engine.evaluate(
                ledger.records_table(), ledger.registry(), day, reports=report_review(ledger)
            )
            out = repair_options(ev, subject)
        except (EngineError, SocialCreditError) as exc:
            fail(f"subject: {str(exc).splitlines()[0]}")
            return
    if as_json:
        print_json({"subject": subject, "as_of": day.isoformat(), "options": out})
        return
    print_table(
        f"Credit repair for {subject} as of {day}",
        ["rulebook", "list / score", "action", "effect", "source"],
        [(o["rulebook"], o["list"] or o["score"], o["action"], o["effect"], o["source"]) for o in out],
    )


objection_app.command("compare")(compare_cmd)
objection_app.command("repair")(repair_cmd)
objection_app.command("notices")(notices_cmd)
objection_app.command("file")(file_cmd)
objection_app.command("review")(review_cmd)
objection_app.command("list")(list_cmd)


def register(app: typer.Typer) -> None:
    """Add ``socialcredit objection`` to the command."""
    app.add_typer(objection_app, name="objection")
