"""Alembic environment for the ledger; run programmatically by :func:`socialcredit.ledger.upgrade`.

The caller passes an open SQLAlchemy connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from socialcredit.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
