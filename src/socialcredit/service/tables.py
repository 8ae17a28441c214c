"""The service's two tables, in SQLAlchemy Core, beside the ledger's (the same SQLite file or
PostgreSQL database).

* ``api_tokens``: one row per bearer token. Only the SHA-256 of the secret is stored; the secret
  is shown once, when the token is made. Revoking sets ``revoked_at``; rows are never deleted.
* ``audit_log``: who did what to whose file: every write and every read of a personal file,
  including refused attempts. Append-only.

The migration ``ledger/migrations/versions/0002_tokens_audit.py`` creates exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("source", String),
    Column("subject", String),
    Column("label", Text),
    Column("created_at", String, nullable=False),
    Column("expires_at", String),
    Column("revoked_at", String),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("at", String, nullable=False),
    Column("token_id", String(16)),
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String),
    Column("status", Integer, nullable=False),
    Column("detail", Text),
    Index("ix_audit_log_subject", "subject"),
)

#: Column order of an inserted ``audit_log`` row (without ``seq``).
AUDIT_COLUMNS: tuple[str, ...] = tuple(c.name for c in audit_log.columns if c.name != "seq")
