"""``socialcredit rulebook list | show ID | lint [PATH...] | test [PATH...]``.

A thin layer over :mod:`socialcredit.rulebooks`: ``show`` prints
:func:`socialcredit.rulebooks.summary.summarise`, ``lint`` prints
:func:`socialcredit.rulebooks.lint`'s problems as ``file:line: field: problem — fix: …``, and
``test`` prints :func:`socialcredit.rulebooks.cases.run_cases`'s results.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from socialcredit.cli._common import console, err_console, fail, print_json, print_table
from socialcredit.errors import RulebookError
from socialcredit.rulebooks import builtin_rulebooks, lint, load_rulebook
from socialcredit.rulebooks.cases import engine_evaluator, is_case_file, run_cases
from socialcredit.rulebooks.errors import RulebookFileError, RulebookInvalid
from socialcredit.rulebooks.loader import BUILTIN_DIR, CASES_SUFFIX, expand
from socialcredit.rulebooks.summary import AREA_TITLES, summarise

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
PathsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Rulebook files, built-in ids or directories (default: the built-ins).", show_default=False
    ),
]

rulebook_app = typer.Typer(
    help="Rulebooks as code: list, show, lint and test them (docs/rulebooks.md).",
    no_args_is_help=True,
)


def _score_models(book: Any) -> str:
    models = {f"{s.model} ({', '.join(s.subject_kinds)})" for v in book.versions for s in v.scores.values()}
    return "; ".join(sorted(models)) or "none"


@rulebook_app.command("list")
def list_rulebooks(as_json: JsonOpt = False) -> None:
    """List the built-in rulebooks: id, title, jurisdiction, versions and score models."""
    rows = []
    for ident in builtin_rulebooks():
        book = load_rulebook(ident)
        rows.append(
            {
                "id": book.id,
                "title": book.title,
                "jurisdiction": book.jurisdiction.name,
                "extends": list(book.chain[1:]),
                "status": book.status,
                "ended": book.ended_on.isoformat() if book.ended_on else None,
                "versions": [{"id": v.id, "effective": v.effective.isoformat()} for v in book.file.versions],
                "score_models": _score_models(book),
                "file": "builtin/" + book.path.relative_to(BUILTIN_DIR).as_posix(),
            }
        )
    if as_json:
        print_json(rows)
        return
    print_table(
        "Built-in rulebooks (socialcredit rulebook show ID for details)",
        ["id", "title", "jurisdiction", "versions", "score model"],
        [
            (
                r["id"]
                + (f" (extends {', '.join(r['extends'])})" if r["extends"] else "")
                + (
                    f" [ended {r['ended']}]" if r["ended"] else (" [pilot]" if r["status"] == "pilot" else "")
                ),
                r["title"],
                r["jurisdiction"],
                ", ".join(f"{v['id']} ({v['effective']})" for v in r["versions"]),
                r["score_models"],
            )
            for r in rows
        ],
    )


def _load_or_fail(ident: str):
    try:
        return load_rulebook(ident)
    except RulebookInvalid as exc:
        for problem in exc.problems:
            err_console.print(Text(str(problem)), highlight=False)
        raise typer.Exit(1) from None
    except RulebookError as exc:
        fail(escape(str(exc)), 2)


def _line(*parts: tuple[str, str] | str, indent: int = 0) -> Text | Padding:
    """One line of styled parts; wrapped lines keep the indent."""
    text = Text()
    for part in parts:
        text.append(*(part if isinstance(part, tuple) else (part,)))
    return Padding(text, (0, 0, 0, indent), expand=False) if indent else text


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{v} {k}" for k, v in value.items())
    return str(value)


@rulebook_app.command("show")
def show(
    rulebook: Annotated[str, typer.Argument(help="A built-in id or a rulebook file.")],
    on: Annotated[
        str | None,
        typer.Option(
            "--on", help="Show the version in force on this date (YYYY-MM-DD); default: the latest."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Summarise a rulebook: model, grades, rules by area with points and citations, lists,
    measures."""
    book = _load_or_fail(rulebook)
    if on is not None:
        try:
            dt.date.fromisoformat(on)
        except ValueError:
            fail(f"--on {on!r} is not a date — fix: write YYYY-MM-DD", 2)
    try:
        s = summarise(book, on)
    except RulebookError as exc:
        fail(escape(str(exc)), 2)
    if as_json:
        print_json(s)
        return
    _print_summary(s)


def _heading(title: str) -> None:
    console.print()
    console.print(Text(title, style="bold underline"))


def _cite_line(citation: str, indent: int) -> Text:
    return _line(("cites ", "dim"), (citation or "(the enclosing item's source)", "dim"), indent=indent)


def _print_summary(s: dict[str, Any]) -> None:
    out = console
    head = Text(f"{s['id']} — {s['title']}", style="bold")
    out.print(head)
    juris = s["jurisdiction"]
    out.print(
        _line(
            ("jurisdiction: ", "dim"), f"{juris['name']} ({juris['level']}, synthetic code {juris['code']})"
        )
    )
    if s["extends"]:
        out.print(_line(("extends: ", "dim"), " → ".join(s["extends"])))
    if s.get("status", "active") != "active":
        out.print(_line(("status: ", "dim"), s["status"]))
    if s.get("ended"):
        end = s["ended"]
        out.print(
            _line(
                ("ended: ", "dim"),
                f"{end['on']} — from this day none of its rules apply"
                + (f" ({end['note']})" if end.get("note") else ""),
            )
        )
        out.print(_cite_line(end["citation"], 2))
    v = s["version"]
    out.print(_line(("version in force: ", "dim"), f"{v['label']} (from {v['effective']}): ", v["summary"]))
    if s["description"]:
        out.print(Text(s["description"], style="italic"))

    _heading("Versions")
    table = Table(show_header=True, box=None, pad_edge=False)
    for col in ("effective", "version", "what changed"):
        table.add_column(col)
    for x in s["versions"]:
        table.add_row(x["effective"], Text(x["label"]), Text(x["change"]))
    out.print(table)

    if s["options"]:
        _heading("Options")
        for name, opt in s["options"].items():
            cite = opt.pop("citation", "")
            body = "; ".join(f"{k.replace('_', ' ')} {_value(v)}" for k, v in opt.items())
            out.print(_line((f"{name}: ", "bold"), body))
            out.print(_cite_line(cite, 2))

    _heading("Score model")
    if not s["scores"]:
        out.print("No score: this rulebook works through lists and joint measures only.")
    for sc in s["scores"]:
        desc = f"{sc['model']} model for {', '.join(sc['subject_kinds'])}"
        if "base" in sc:
            desc += f"; base {sc['base']:g}"
        if sc.get("bounds"):
            lo, hi = sc["bounds"].get("min"), sc["bounds"].get("max")
            desc += f"; bounds {'-∞' if lo is None else f'{lo:g}'}–{'∞' if hi is None else f'{hi:g}'}"
        if "range" in sc:
            desc += f"; range {sc['range']['min']:g}–{sc['range']['max']:g}"
        out.print(_line((f"{sc['id']}", "bold"), f" ({sc['label']}): {desc}"))
        out.print(_cite_line(sc["citation"], 2))
        for f in sc.get("factors", []):
            out.print(_line(f"factor {f['id']}: {f['label']} (weight {f['weight']:g})", indent=2))
        if sc.get("grades"):
            grades = Table(box=None, pad_edge=False, show_header=True)
            for col in ("grade", "from", "label", "citation"):
                grades.add_column(col)
            for g in sc["grades"]:
                low = g.get("min")
                when = g.get("when")
                grades.add_row(
                    g["grade"],
                    f"{low:g}" if low is not None else ("if " + str(when) if when else "below"),
                    Text(g.get("label") or ""),
                    Text(g["citation"] or "(the score's source)"),
                )
            out.print(grades)

    _heading("Rules by area (Planning Outline key fields)")
    if not s["rules_by_area"]:
        out.print("No rules.")
    for area, rules in s["rules_by_area"].items():
        out.print(Text(f"{AREA_TITLES.get(area, area)} ({len(rules)})", style="bold"))
        for r in rules:
            out.print(_line((f"{r['effect'] or '-'}", "bold"), f"  {r['id']}: {r['label']}", indent=2))
            extra = r["reads"] + (f"; if {r['conditions']}" if r["conditions"] else "")
            if r.get("fine") and r["fine"]["citation"] != r["citation"]:
                extra += f"; fine cited: {r['fine']['citation']}"
            if r["from"] != s["id"]:
                extra += f"; from {r['from']}"
            out.print(_line((extra, "dim"), indent=4))
            out.print(_cite_line(r["citation"], 4))

    _heading("Lists")
    if not s["lists"]:
        out.print("No lists.")
    for lst in s["lists"]:
        origin = f" (from {lst['from']})" if lst["from"] != s["id"] else ""
        out.print(_line((f"{lst['kind']} list {lst['id']}", "bold"), f": {lst['label']}{origin}"))
        out.print(_cite_line(lst["citation"], 2))
        out.print(
            _line(
                ("for: ", "dim"),
                ", ".join(lst["subject_kinds"])
                + (f"; kept by {lst['authority']}" if lst["authority"] else ""),
                indent=2,
            )
        )
        for e in lst["enter"]:
            out.print(
                _line(("enter: ", "dim"), e["how"] + (f" — {e['label']}" if e["label"] else ""), indent=2)
            )
        facts = []
        if lst["notice"]:
            facts.append(f"notice {lst['notice']}")
        if lst["objection_suspends"] is not None:
            facts.append(
                "an objection suspends entry"
                if lst["objection_suspends"]
                else "an objection does not suspend entry"
            )
        for key, label in (
            ("review_within", "objections reviewed within"),
            ("on_overdue", "an objection unanswered past its deadline:"),
            ("min_duration", "minimum duration"),
            ("delist_within", "delisted within"),
        ):
            if lst[key]:
                facts.append(f"{label} {lst[key]}")
        if lst["exempt_under_age"] is not None:
            facts.append(f"never under {lst['exempt_under_age']}")
        if lst["propagate"]:
            facts.append("spreads along " + ", ".join(lst["propagate"]))
        if facts:
            out.print(_line(("; ".join(facts), ""), indent=2))
        for x in lst["exit"]:
            out.print(
                _line(("exit: ", "dim"), x["how"] + (f" — {x['label']}" if x["label"] else ""), indent=2)
            )

    _heading("Joint measures (deny beats restrict beats reward; disclose is separate)")
    if not s["measures"]:
        out.print("No measures.")
    for m in s["measures"]:
        origin = f" (from {m['from']})" if m["from"] != s["id"] else ""
        via = f" for those related by {m['via']}" if m["via"] else ""
        out.print(
            _line(
                (f"{m['effect']}", "bold"),
                f" {', '.join(m['actions'])}",
                " on ",
                (m["on"], "bold"),
                via,
                origin,
                indent=0,
            )
        )
        label = m["label"] or ""
        if m["terms"] and m["terms"].get("note"):
            label += f" ({m['terms']['note']})"
        out.print(_line(f"{m['id']}: {label}; department {m['department'] or '?'}", indent=2))
        out.print(_cite_line(m["citation"], 2))

    _heading("Sources")
    for sid, doc in s["sources"].items():
        where = doc.get("url") or doc.get("file") or ""
        out.print(
            _line(
                (sid, "bold"),
                f" [{doc['confidence']}] {doc['title']} — {doc['publisher']}, {doc.get('date') or 'undated'}",
            )
        )
        if where:
            out.print(_line((where, "dim"), indent=2))


@rulebook_app.command("lint")
def lint_cmd(paths: PathsArg = None, as_json: JsonOpt = False) -> None:
    """Check rulebooks; print each problem as file:line: field: problem — fix. Exit 1 on any."""
    targets = list(paths) if paths else builtin_rulebooks()
    problems = lint(targets)
    if as_json:
        print_json({"ok": not problems, "problems": [p.to_dict() for p in problems]})
    else:
        for p in problems:
            console.print(Text(str(p)), highlight=False, soft_wrap=True)
        files = len({p.file for p in problems})
        if problems:
            err_console.print(
                f"{len(problems)} problem{'s' * (len(problems) != 1)} in {files} file{'s' * (files != 1)}"
            )
        else:
            console.print(f"ok: {len(expand(targets))} rulebook(s) clean", highlight=False)
    if problems:
        raise typer.Exit(1)


def _test_targets(paths: list[str] | None) -> list[str]:
    if not paths:
        return builtin_rulebooks()
    out: list[str] = []
    for item in paths:
        if Path(item).is_dir():
            found = sorted(str(p) for p in Path(item).glob(f"*{CASES_SUFFIX}"))
            out += found
        else:
            out.append(item)
    return out


@rulebook_app.command("test")
def test_cmd(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Rulebook files or ids, *.cases.yaml files, or directories (default: the built-ins).",
            show_default=False,
        ),
    ] = None,
    shape_only: Annotated[
        bool,
        typer.Option("--shape-only", help="Only check the cases' shape, even when the engine is available."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the rulebooks' YAML test cases (``<id>.cases.yaml`` beside each). Exit 1 on any
    failure.

    Until the engine exists the cases are checked for shape only: subjects, relations,
    records against the vocabulary, and expectations against the version in force."""
    evaluator = None if shape_only else engine_evaluator()
    results: list[dict[str, Any]] = []
    broken: list[RulebookFileError] = []
    for item in _test_targets(paths):
        try:
            got = run_cases(item, evaluator)
        except RulebookInvalid as exc:
            broken += exc.problems
            continue
        except RulebookFileError as exc:
            broken.append(exc)
            continue
        if not got and not is_case_file(item):
            results.append(
                {
                    "rulebook": str(item),
                    "file": None,
                    "line": 0,
                    "case": "(none)",
                    "status": "no-cases",
                    "problems": [],
                    "errors": [],
                }
            )
        results += [r.to_dict() for r in got]
    failed = [r for r in results if r["status"] not in ("passed", "shape-ok", "no-cases")]
    if as_json:
        print_json(
            {
                "mode": "shape" if evaluator is None else "engine",
                "ok": not failed and not broken,
                "results": results,
                "rulebook_errors": [e.to_dict() for e in broken],
            }
        )
    else:
        if evaluator is None:
            why = "--shape-only" if shape_only else "the engine is not available yet"
            console.print(f"checking the cases' shape only ({why})", style="dim")
        marks = {
            "passed": ("PASS", "green"),
            "shape-ok": ("OK", "green"),
            "failed": ("FAIL", "red"),
            "invalid": ("BAD", "red"),
            "error": ("ERROR", "red"),
            "no-cases": ("NONE", "yellow"),
        }
        for r in results:
            mark, style = marks[r["status"]]
            where = f"{r['file']}:{r['line']}" if r["file"] else r["rulebook"]
            console.print(_line((f"{mark:5}", style), f" {where}  {r['case']}"), highlight=False)
            for p in r["problems"]:
                console.print(_line(p, indent=6), highlight=False)
            for e in r["errors"]:
                console.print(
                    _line(
                        str(
                            RulebookFileError(
                                **{k: e[k] for k in ("file", "line", "field", "problem")}, fix=e["fix"]
                            )
                        ),
                        indent=6,
                    ),
                    highlight=False,
                )
        for e in broken:
            console.print(_line(("BAD  ", "red"), " ", str(e)), highlight=False)
        n_ok = sum(1 for r in results if r["status"] in ("passed", "shape-ok"))
        console.print(f"{n_ok} ok, {len(failed)} failing, {len(broken)} rulebook error(s)", highlight=False)
    if failed or broken:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Register this area's commands on the main app."""
    app.add_typer(rulebook_app, name="rulebook")
