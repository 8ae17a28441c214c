"""API tokens and the audit log of the HTTP service (see socialcredit/service/tables.py).

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("source", sa.String),
        sa.Column("subject", sa.String),
        sa.Column("label", sa.Text),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("expires_at", sa.String),
        sa.Column("revoked_at", sa.String),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.String, nullable=False),
        sa.Column("token_id", sa.String(16)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject", "audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_tokens")
