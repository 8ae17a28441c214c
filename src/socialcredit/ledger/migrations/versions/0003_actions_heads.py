"""The chain of manual actions (the audit chain) and the signed Merkle tree heads.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("subject", sa.String),
        sa.Column("at", sa.String, nullable=False),
    )
    op.create_index("ix_actions_subject", "actions", ["subject"])
    op.create_index("ix_actions_kind", "actions", ["kind"])
    op.create_table(
        "tree_heads",
        sa.Column("hid", sa.Integer, primary_key=True),
        sa.Column("tree", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
    )
    op.create_index("ix_tree_heads_tree_size", "tree_heads", ["tree", "size"])
    # The actions chain's row of ``meta`` is added with its first action (see ledger/actions.py).


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE chain = 'actions'")
    op.drop_index("ix_tree_heads_tree_size", "tree_heads")
    op.drop_table("tree_heads")
    op.drop_index("ix_actions_kind", "actions")
    op.drop_index("ix_actions_subject", "actions")
    op.drop_table("actions")
