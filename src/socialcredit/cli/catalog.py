"""``socialcredit regions list`` and ``socialcredit sources list``."""

from __future__ import annotations

from typing import Annotated

import typer

from socialcredit.cli._common import print_json, print_table
from socialcredit.regions import jurisdictions
from socialcredit.vocabulary import vocabulary

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

regions_app = typer.Typer(help="The synthetic jurisdictions table.", no_args_is_help=True)
sources_app = typer.Typer(help="The data sources and what each may report.", no_args_is_help=True)


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


def register(app: typer.Typer) -> None:
    app.add_typer(regions_app, name="regions")
    app.add_typer(sources_app, name="sources")
