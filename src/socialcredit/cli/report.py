"""``socialcredit report RUN_DIR [--out FILE.html]``: the research report of a simulation run.

A thin layer over :func:`socialcredit.report.write_report`. See docs/report.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from socialcredit.cli._common import console, fail


def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run directory written by `socialcredit simulate SCENARIO --out DIR`.", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="The HTML file to write (default RUN_DIR/report.html); figures go to a folder beside it.",
            show_default=False,
        ),
    ] = None,
    images: Annotated[
        bool, typer.Option("--images/--no-images", help="Also write PNG and SVG of every figure.")
    ] = True,
) -> None:
    """Write a self-contained HTML report of a simulation run, with its figures as PNG, SVG and CSV."""
    from socialcredit.report import figures_dir, write_report

    try:
        path = write_report(run_dir, out, images=images)
    except FileNotFoundError as exc:
        fail(str(exc))
        return
    console.print(f"report: {path}")
    console.print(f"figures: {figures_dir(path)}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
