"""The ``socialcredit`` command: a thin typer layer over library functions.

Each area keeps its commands in a module of its own and registers them here.
"""

from __future__ import annotations

import typer

from socialcredit.cli import (
    catalog,
    demo,
    engine,
    ledger,
    objection,
    proof,
    report,
    reports,
    rulebook,
    service,
    simulate,
)

app = typer.Typer(
    name="socialcredit",
    help="An open, auditable model of the social credit system. All subjects are synthetic.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

catalog.register(app)
ledger.register(app)
rulebook.register(app)
demo.register(app)
service.register(app)
engine.register(app)
simulate.register(app)
report.register(app)
proof.register(app)
objection.register(app)
reports.register(app)


def main() -> None:
    """Console entry point."""
    app()
