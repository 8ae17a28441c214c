"""Placeholder: filled in by the demo work."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Register this area's commands on the main app."""
