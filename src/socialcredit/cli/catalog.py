"""``socialcredit regions list``, ``sources list``, ``categories list`` and ``actions list``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli._common import console, print_json, print_table
from socialcredit.regions import jurisdictions
from socialcredit.vocabulary import vocabulary

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

regions_app = typer.Typer(help="The synthetic jurisdictions table.", no_args_is_help=True)
sources_app = typer.Typer(help="The data sources and what each may report.", no_args_is_help=True)
categories_app = typer.Typer(help="The record categories (the behaviour vocabulary).", no_args_is_help=True)
actions_app = typer.Typer(
    help="The actions measures act on, and the disclosure channels.", no_args_is_help=True
)


@regions_app.command("list")
def regions_list(as_json: JsonOpt = False) -> None:
    """List synthetic jurisdictions with their real names and real codes."""
    rows = [j.to_dict() for j in jurisdictions()]
    if as_json:
        print_json(rows)
        return
    print_table(
        "Synthetic jurisdictions (codes beginning with 0 are assigned by no scheme)",
        ["code", "name", "level", "province", "real code", "note"],
        [(r["code"], r["name"], r["level"], r["province"], r["real_code"], r["note"]) for r in rows],
    )


@sources_app.command("list")
def sources_list(as_json: JsonOpt = False) -> None:
    """List data sources and the record categories each is authorised to report."""
    voc = vocabulary()
    rows = [
        {"id": s.id, "name": s.name, "kind": s.kind, "categories": voc.categories_for(s.id)}
        for s in voc.sources.values()
    ]
    if as_json:
        print_json(rows)
        return
    print_table(
        "Data sources",
        ["id", "name", "kind", "may report"],
        [(r["id"], r["name"], r["kind"], ", ".join(r["categories"])) for r in rows],
    )


@categories_app.command("list")
def categories_list(
    as_json: JsonOpt = False,
    area: Annotated[
        str | None,
        typer.Option(
            "--area", help="Only this Planning Outline area: government, commercial, social or judicial."
        ),
    ] = None,
) -> None:
    """List record categories: area, direction, unit, subject kinds and authorised sources."""
    rows = [
        {
            "id": c.id,
            "area": c.area,
            "direction": c.direction,
            "unit": c.unit,
            "subject_kinds": list(c.subject_kinds),
            "sources": list(c.sources),
            "description": c.description,
            "cite": c.cite,
        }
        for c in vocabulary().categories.values()
        if area is None or c.area == area
    ]
    if as_json:
        print_json(rows)
        return
    wide = console.width >= 140
    table = Table(
        title="Record categories (trust-breaking and trust-keeping behaviour)"
        + ("" if wide else "; --json or a wider terminal for descriptions")
    )
    table.add_column("id", no_wrap=True)
    for col in ("area", "direction", "unit", "subjects", "sources"):
        table.add_column(col)
    if wide:
        table.add_column("description")
    for r in rows:
        cells = [
            r["id"],
            r["area"],
            r["direction"],
            r["unit"],
            ", ".join(r["subject_kinds"]),
            ", ".join(r["sources"]),
        ]
        table.add_row(*cells, *([r["description"]] if wide else []))
    console.print(table)


@actions_app.command("list")
def actions_list(as_json: JsonOpt = False) -> None:
    """List actions (restrictions and rewards) and disclosure channels with their departments."""
    rows = [
        {"id": a.id, "kind": a.kind, "department": a.department, "description": a.description, "cite": a.cite}
        for a in vocabulary().actions.values()
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Actions and disclosure channels")
    table.add_column("id", no_wrap=True)
    table.add_column("kind")
    table.add_column("department")
    table.add_column("description")
    for r in rows:
        table.add_row(r["id"], r["kind"], r["department"], r["description"])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(regions_app, name="regions")
    app.add_typer(sources_app, name="sources")
    app.add_typer(categories_app, name="categories")
    app.add_typer(actions_app, name="actions")
