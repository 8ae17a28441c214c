"""The initial ledger: records, registry changes, quarantine and chain heads.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String, nullable=False),
        sa.Column("canonical", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("category", sa.String, nullable=False),
        sa.Column("occurred_at", sa.String, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("basis", sa.Text),
        sa.Column("reported_by", sa.String),
        sa.Column("corrects", sa.String),
        sa.UniqueConstraint("id", name="uq_records_id"),
    )
    op.create_index("ix_records_subject", "records", ["subject"])
    op.create_table(
        "registry_changes",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key", sa.String, nullable=False),
    )
    op.create_index("ix_registry_changes_key", "registry_changes", ["key"])
    op.create_table(
        "quarantine",
        sa.Column("qid", sa.Integer, primary_key=True),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("record_id", sa.String),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("raw_hash", sa.String(64), nullable=False),
        sa.Column("first_seen", sa.String, nullable=False),
        sa.UniqueConstraint("target", "file", "line", "raw_hash", name="uq_quarantine_line"),
    )
    meta = op.create_table(
        "meta",
        sa.Column("chain", sa.String(32), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("last_id", sa.String),
    )
    op.bulk_insert(
        meta,
        [
            {"chain": "records", "count": 0, "head": GENESIS, "last_id": None},
            {"chain": "registry_changes", "count": 0, "head": GENESIS, "last_id": None},
        ],
    )


def downgrade() -> None:
    for name in ("meta", "quarantine", "registry_changes", "records"):
        op.drop_table(name)
