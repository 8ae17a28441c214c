"""The ledger's tables, in SQLAlchemy Core (no ORM), so another database can be added later.

* ``records``: one row per accepted credit record, in append order (``seq``). ``canonical`` is the
  record's canonical JSON (what is hashed); the other columns repeat its fields for queries.
* ``registry_changes``: one row per accepted registry line (a subject or a relation), in order.
* ``quarantine``: every rejected line, with its reason; never deleted.
* ``actions``: one row per manual action (an authority's listing, an objection decision, a
  correction, a token made or revoked), in order: who, when, about whom, why (see
  :mod:`socialcredit.ledger.actions`).
* ``meta``: the head of each chain (how many links, the last hash, the last id).
* ``tree_heads``: every signed Merkle tree head of the three chains (see
  :mod:`socialcredit.ledger.proofs`); the signing key itself is never in the database.

The migrations in ``ledger/migrations/versions`` create exactly these tables; a test compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: The ``prev_hash`` of the first link in every chain.
GENESIS = "0" * 64
#: Names of the three chains (rows of ``meta``).
RECORDS_CHAIN = "records"
REGISTRY_CHAIN = "registry_changes"
ACTIONS_CHAIN = "actions"

metadata = MetaData()

records = Table(
    "records",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("id", String, nullable=False),
    Column("canonical", Text, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("subject", String, nullable=False),
    Column("category", String, nullable=False),
    Column("occurred_at", String, nullable=False),
    Column("day", String(10), nullable=False),
    Column("source", String, nullable=False),
    Column("value", Float, nullable=False),
    Column("evidence", Text),
    Column("basis", Text),
    Column("reported_by", String),
    Column("corrects", String),
    UniqueConstraint("id", name="uq_records_id"),
    Index("ix_records_subject", "subject"),
)

#: Column order of an inserted ``records`` row (the writer's tuples follow it).
RECORD_COLUMNS: tuple[str, ...] = tuple(c.name for c in records.columns)

registry_changes = Table(
    "registry_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("line", Text, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    # "subject" or "relation"; ``key`` identifies what a line replaces: the subject id, or
    # relation, subject, object and since joined by "|".
    Column("kind", String(8), nullable=False),
    Column("key", String, nullable=False),
    Index("ix_registry_changes_key", "key"),
)

REGISTRY_COLUMNS: tuple[str, ...] = tuple(c.name for c in registry_changes.columns)

quarantine = Table(
    "quarantine",
    metadata,
    Column("qid", Integer, primary_key=True),
    # "records" or "registry": which ingest rejected the line.
    Column("target", String(16), nullable=False),
    Column("file", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("record_id", String),
    Column("reason", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("raw", Text, nullable=False),
    # sha256 of ``raw``: with target, file and line, what makes a reject the same reject again.
    Column("raw_hash", String(64), nullable=False),
    Column("first_seen", String, nullable=False),
    UniqueConstraint("target", "file", "line", "raw_hash", name="uq_quarantine_line"),
)

QUARANTINE_COLUMNS: tuple[str, ...] = tuple(c.name for c in quarantine.columns if c.name != "qid")

meta = Table(
    "meta",
    metadata,
    Column("chain", String(32), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("head", String(64), nullable=False),
    Column("last_id", String),
)

actions = Table(
    "actions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    # The action's canonical JSON (what is hashed): kind, actor, subject, reason, payload, at.
    Column("line", Text, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    # The line's fields again, for queries (verify checks they agree with ``line``).
    Column("kind", String(64), nullable=False),
    Column("actor", String, nullable=False),
    Column("subject", String),
    Column("at", String, nullable=False),
    Index("ix_actions_subject", "subject"),
    Index("ix_actions_kind", "kind"),
)

ACTION_COLUMNS: tuple[str, ...] = tuple(c.name for c in actions.columns)

tree_heads = Table(
    "tree_heads",
    metadata,
    Column("hid", Integer, primary_key=True),
    # "records", "registry" or "actions": which Merkle tree the head is of.
    Column("tree", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("root", String(64), nullable=False),  # hex
    Column("timestamp", BigInteger, nullable=False),  # ms since 1970-01-01 UTC
    Column("signature", String(128), nullable=False),  # Ed25519, hex
    Column("public_key", String(64), nullable=False),  # the raw Ed25519 public key that signed, hex
    Index("ix_tree_heads_tree_size", "tree", "size"),
)
