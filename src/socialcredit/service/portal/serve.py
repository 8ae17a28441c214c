"""Serve the portal (and the API beside it) on a ledger: the hook ``socialcredit demo`` calls.

Example (not run here: it blocks until interrupted)::

    from socialcredit.service.portal.serve import serve_portal
    serve_portal(Path("runs/demo/ledger.db"), ["national", "rongcheng"], dt.date(2018, 12, 31))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from socialcredit.service.settings import Settings

__all__ = ["portal_app", "serve_portal"]


def portal_app(db: Path, rulebooks: Sequence[str], day: dt.date | None = None, **settings: object):
    """The application (portal at ``/``, API under ``/v1``) on ``db`` as of ``day``."""
    from socialcredit.service.app import create_app

    return create_app(Settings(db=db, rulebooks=tuple(rulebooks), today=day, **settings))


def serve_portal(
    db: Path,
    rulebooks: Sequence[str],
    day: dt.date | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    say: Callable[[str], object] = print,
) -> None:
    """Serve until interrupted (Ctrl-C), after saying where."""
    import uvicorn

    app = portal_app(db, rulebooks, day, host=host, port=port)
    say(f"Portal: http://{host}:{port}/ (search, lists, counter, scoreboard, stories, try it, my file); "
        f"API: http://{host}:{port}/v1 — Ctrl-C to stop")  # fmt: skip
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
