"""Schema migrations with Alembic, run programmatically: every open upgrades to the head.

The scripts live in ``ledger/migrations/versions``; add a change with
``alembic -c <config pointing at ledger/migrations> revision -m "..."`` and edit it by hand
(Core operations only, so both databases, SQLite and PostgreSQL, keep working; the tests run
every migration on both).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

__all__ = ["current_revision", "head_revision", "upgrade"]


def _config() -> Config:
    cfg = Config()
    location = resources.files("socialcredit.ledger").joinpath("migrations")
    cfg.set_main_option("script_location", str(location))
    return cfg


@cache
def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest revision (a no-op when it is there); return it.

    The migration runs in one write transaction (``ledger_write``), under the ledger's writer
    lock: on PostgreSQL, where DDL is transactional, two processes opening a fresh database at
    once take turns, and the second finds the tables made and the revision current.
    """
    if current_revision(engine) == head_revision():
        return head_revision()
    cfg = _config()
    with engine.connect() as conn:
        conn.execution_options(ledger_write=True)
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return head_revision()
