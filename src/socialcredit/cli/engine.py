"""``socialcredit score``, ``explain`` and ``check``: the engine over a ledger.

Exit codes: 0 done (``check``: allowed or rewarded); 1 (``check`` only) denied or restricted;
2 a usage error — unknown subject or action, malformed date, missing ledger, a rulebook that does
not load — with a one-line message.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from socialcredit.cli._common import console, print_json, print_table
from socialcredit.errors import SocialCreditError

DbOpt = Annotated[str, typer.Option("--db", help="The ledger: a SQLite file or a postgresql:// URL.")]
RulebookOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--rulebook",
        help="A built-in id or a path; repeat to combine (default: national).",
        show_default=False,
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Evaluate as of this date (YYYY-MM-DD; default: today).", show_default=False
    ),
]
OnOpt = Annotated[
    str | None,
    typer.Option("--on", help="Decide on this date (YYYY-MM-DD; default: today).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")]


def fail(message: str) -> None:
    """One line on standard error (never wrapped), exit 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _day(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        fail(f"malformed date {text!r}: use YYYY-MM-DD")
        raise  # unreachable: fail exits


def _evaluate(db: str, rulebooks: list[str] | None, day: dt.date):
    from socialcredit.dueprocess.reports import report_review
    from socialcredit.engine import Engine
    from socialcredit.ledger import open_ledger

    if "://" not in db and not Path(db).is_file():
        fail(f"no ledger at {db}: ingest records first (`socialcredit ingest --db {db} ...`)")
    try:
        engine = Engine(rulebooks or ["national"])
        with open_ledger(db, create=False) as ledger:
            records, registry = ledger.records_table(), ledger.registry()
            reports = report_review(ledger)  # citizen reports held until confirmed (issue #16)
        return engine.evaluate(records, registry, day, reports=reports)
    except SocialCreditError as exc:
        fail(str(exc).splitlines()[0])
        raise


def score(
    db: DbOpt,
    rulebook: RulebookOpt = None,
    as_of: AsOfOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write one row per subject to this Parquet file.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score everyone: list sizes, the grade distribution and the fines imposed (and a Parquet
    file per subject)."""
    day = _day(as_of)
    ev = _evaluate(db, rulebook, day)
    if out is not None:
        import pyarrow.parquet as pq

        pq.write_table(ev.to_table(), out)
    sizes = [{"rulebook": rb, "list": lid, "size": n} for (rb, lid), n in ev.list_sizes().items()]
    grades = [
        {"rulebook": rb, "model": m, "grade": g, "count": c}
        for (rb, m), dist in ev.grade_distribution().items()
        for g, c in dist.items()
    ]
    fines = [
        {"rulebook": r.cv.rulebook, "fines": len(r.fines.pos), "yuan": float(r.fines.yuan.sum())}
        for r in ev.results
        if len(r.fines.pos)
    ]
    notes = []
    for res in ev.results:
        if res.cv.ended is not None:
            notes.append(f"{res.cv.rulebook} ended on {res.cv.ended}: none of its rules apply")
        if res.cv.consent and not (ev.subjects.consent == 1).any():
            notes.append(
                f"{res.cv.rulebook} scores persons only with their consent, and the "
                "registry records no consent"
            )
    if as_json:
        print_json(
            {
                "as_of": day.isoformat(),
                "rulebooks": [r.cv.rulebook for r in ev.results],
                "subjects": len(ev.subjects),
                "lists": sizes,
                "grades": grades,
                "fines": fines,
                "out": str(out) if out else None,
                "notes": notes,
            }
        )
        return
    console.print(
        f"{len(ev.subjects)} subjects as of {day} under "
        + ", ".join(f"{r.cv.rulebook} ({r.cv.version.label})" for r in ev.results)
    )
    print_table(
        "List sizes", ["rulebook", "list", "subjects"], [(s["rulebook"], s["list"], s["size"]) for s in sizes]
    )
    if grades:
        print_table(
            "Grades",
            ["rulebook", "model", "grade", "subjects"],
            [(g["rulebook"], g["model"], g["grade"], g["count"]) for g in grades],
        )
    else:
        console.print("No score: none of these rulebooks has a score model for these subjects.")
    if fines:
        print_table(
            "Fines imposed",
            ["rulebook", "fines", "yuan"],
            [(f["rulebook"], f["fines"], f"{f['yuan']:g}") for f in fines],
        )
    for note in notes:
        console.print(f"note: {note}")
    if out is not None:
        console.print(f"wrote {len(ev.subjects)} rows to {out}")


def explain(
    db: DbOpt,
    subject: Annotated[str, typer.Argument(help="A subject id.")],
    rulebook: RulebookOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Why a subject stands where it does: every point, list and measure with its source."""
    day = _day(as_of)
    ev = _evaluate(db, rulebook, day)
    try:
        expl = ev.explain(subject)
    except SocialCreditError as exc:
        fail(str(exc))
        raise
    if as_json:
        print_json(expl.to_dict())
    else:
        typer.echo(expl.render())


def check(
    db: DbOpt,
    subject: Annotated[str, typer.Argument(help="A subject id.")],
    action: Annotated[str, typer.Argument(help="An action, e.g. travel.flight.")],
    rulebook: RulebookOpt = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide one action for one subject: allowed, denied, restricted or rewarded."""
    day = _day(on)
    ev = _evaluate(db, rulebook, day)
    try:
        decision = ev.decide(subject, action)
        reasons = decision.reasons
    except SocialCreditError as exc:
        fail(str(exc))
        raise
    if as_json:
        print_json(decision.to_dict())
    else:
        typer.echo(f"{subject} {action} on {day}: {decision.outcome}")
        for r in reasons:
            via = f" via {r['via']['relation']} of {r['via']['from']}" if r["via"] else ""
            what = r["list"] or f"grade {r.get('grade')}"
            span = f"since {r['since'] or '?'}" + (f" until {r['until']}" if r["until"] else "")
            typer.echo(
                f"  {r['effect']}: {r['rulebook']} {r['measure']} on {what}{via} ({span}) [{r['source']}]"
            )
    raise typer.Exit(1 if decision.outcome in ("denied", "restricted") else 0)


def register(app: typer.Typer) -> None:
    app.command("score")(score)
    app.command("explain")(explain)
    app.command("check")(check)
