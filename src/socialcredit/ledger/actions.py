"""The chain of manual actions: every decision a person took, hash-chained like the records.

The ledger's third chain, ``actions``, records what people (not sources) did by hand: an
authority's listing, an objection and its decision, a correction, a token made or revoked. Each
action says **who** (``actor``), **when** (``at``), **about whom** (``subject``, or none),
**why** (``reason``, required) and **what** (``kind`` and a ``payload`` of details). It is
append-only and tamper-evident exactly like the records: each link is
``sha256(prev_hash + "\\n" + line)`` over the action's canonical JSON ``line``, the head sits in
``meta``, ``socialcredit verify`` recomputes it, and it has a Merkle tree of its own with signed
heads (:mod:`socialcredit.ledger.proofs`).

Kinds are dotted names, area first, so that ``kind_prefix`` selects an area: ``token.create``,
``token.revoke``, ``objection.filed``, ``objection.decided``, ``listing.manual``, ``correction``.

Writes go through the ledger's single writer (:meth:`Ledger._write`); callers that already hold
a write transaction (to store an action atomically with what it acts on) use
:func:`insert_actions` with that connection. SQLAlchemy Core only, so other databases work.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.ledger import open_ledger, verify
    >>> with open_ledger(pathlib.Path(tempfile.mkdtemp()) / "ledger.db") as ledger:
    ...     seqs = append_actions(ledger, [{"kind": "token.create", "actor": "cli:admin",
    ...                                     "subject": None, "reason": "court feed",
    ...                                     "payload": {"token": "ab12", "role": "source"},
    ...                                     "at": "2019-01-01T08:00:00+00:00"}])
    ...     got = read_actions(ledger, kind_prefix="token.")
    ...     (seqs, got[0]["actor"], got[0]["payload"]["role"], verify(ledger).ok)
    ([1], 'cli:admin', 'source', True)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from socialcredit.errors import LedgerError
from socialcredit.ledger import schema
from socialcredit.ledger.chain import chain_hashes
from socialcredit.ledger.store import Ledger
from socialcredit.records import canonical_json

__all__ = ["ACTION_FIELDS", "action_line", "append_actions", "insert_actions", "read_actions"]

#: The fields of an action, as :func:`append_actions` takes them.
ACTION_FIELDS: tuple[str, ...] = ("kind", "actor", "subject", "reason", "payload", "at")
_REQUIRED_TEXT = ("kind", "actor", "reason")
_KIND_MAX = 64


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _normalise_at(value: Any) -> str:
    if value is None:
        return _now()
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise LedgerError(
                f"action time {value!r} is not an ISO 8601 date-time: e.g. 2019-01-01T08:00:00+00:00"
            ) from None
    else:
        raise LedgerError(f"action time {value!r} is not an ISO 8601 date-time text")
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)  # a time without an offset is UTC
    return when.isoformat()


def action_line(action: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """An action's canonical JSON line (what is hashed) and its normalised fields.

    ``at`` becomes an ISO 8601 date-time with an offset (now, in UTC, when absent; UTC when it
    has none); ``subject`` is left out of the line when ``None``; ``payload`` defaults to ``{}``.

    Raises:
        LedgerError: an unknown field; ``kind``, ``actor`` or ``reason`` missing or blank; a
            ``subject`` that is not text; a ``payload`` that is not a JSON object; a bad ``at``.

    Example:
        >>> action_line({"kind": "fix", "actor": "clerk", "reason": "typo", "at": "2019-01-01T08:00Z"})[0]
        '{"actor":"clerk","at":"2019-01-01T08:00:00+00:00","kind":"fix","payload":{},"reason":"typo"}'
    """
    if not isinstance(action, Mapping):
        raise LedgerError(f"an action is a mapping of {', '.join(ACTION_FIELDS)}, not {action!r}")
    unknown = sorted(set(action) - set(ACTION_FIELDS))
    if unknown:
        fields = ", ".join(ACTION_FIELDS)
        raise LedgerError(f"unknown action field {unknown[0]!r}: an action has only {fields}")
    out: dict[str, Any] = {}
    for name in _REQUIRED_TEXT:
        value = action.get(name)
        if not isinstance(value, str) or not value.strip():
            why = "a reason is required: say why" if name == "reason" else f"every action needs a {name}"
            raise LedgerError(f"action {name} is missing or blank ({value!r}): {why}")
        out[name] = value.strip()
    if len(out["kind"]) > _KIND_MAX:
        raise LedgerError(f"action kind {out['kind'][:20]!r}... is longer than {_KIND_MAX} characters")
    subject = action.get("subject")
    if subject is not None:
        if not isinstance(subject, str) or not subject.strip():
            raise LedgerError(f"action subject {subject!r} is not a subject id (text) or None")
        out["subject"] = subject.strip()
    payload = action.get("payload")
    payload = {} if payload is None else payload
    if not isinstance(payload, Mapping):
        raise LedgerError(f"action payload {payload!r} is not a JSON object (a dict)")
    out["payload"] = dict(payload)
    out["at"] = _normalise_at(action.get("at"))
    try:
        line = canonical_json(out)
    except (TypeError, ValueError) as exc:
        raise LedgerError(f"action payload cannot be stored as JSON ({exc})") from None
    return line, out


def _head(conn: Connection) -> tuple[int, str]:
    """The chain's (count, head hash); its ``meta`` row is made with the first action."""
    m = schema.meta
    row = conn.execute(sa.select(m.c.count, m.c.head).where(m.c.chain == schema.ACTIONS_CHAIN)).first()
    if row is not None:
        return int(row[0]), str(row[1])
    conn.execute(m.insert().values(chain=schema.ACTIONS_CHAIN, count=0, head=schema.GENESIS, last_id=None))
    return 0, schema.GENESIS


def insert_actions(conn: Connection, actions: Sequence[Mapping[str, Any]]) -> list[int]:
    """Append actions inside a write transaction the caller already holds (a
    :meth:`Ledger._write` callback), so they commit or roll back with the rest of its work.

    Returns their seqs. Raises :class:`LedgerError` as :func:`action_line` does (nothing is
    written then).
    """
    lines = [action_line(a) for a in actions]
    if not lines:
        return []
    count, head = _head(conn)
    hashes = chain_hashes(head, [text for text, _ in lines])
    prevs = [head, *hashes[:-1]]
    rows = [
        {
            "seq": count + i + 1,
            "line": text,
            "hash": hashes[i],
            "prev_hash": prevs[i],
            "kind": fields["kind"],
            "actor": fields["actor"],
            "subject": fields.get("subject"),
            "at": fields["at"],
        }
        for i, (text, fields) in enumerate(lines)
    ]
    conn.execute(schema.actions.insert(), rows)
    Ledger._set_head(conn, schema.ACTIONS_CHAIN, count + len(rows), hashes[-1], lines[-1][1]["kind"])
    return [r["seq"] for r in rows]


def append_actions(ledger: Ledger, actions: Sequence[Mapping[str, Any]]) -> list[int]:
    """Append manual actions, in order, in one transaction through the ledger's single writer.

    Each action is a mapping with ``kind`` (dotted, e.g. ``objection.decided``), ``actor`` (who
    did it), ``subject`` (whose file it concerns, or ``None``), ``reason`` (required, non-empty),
    ``payload`` (a JSON object of details, default ``{}``) and ``at`` (ISO 8601; default now,
    UTC). Returns the seqs the actions got.

    Raises:
        LedgerError: an action is not well-formed (nothing of the batch is written).
    """
    for a in actions:  # fail before taking the write lock
        action_line(a)
    if not actions:
        return []
    return ledger._write(lambda conn: insert_actions(conn, actions))  # type: ignore[no-any-return]


def read_actions(
    ledger: Ledger,
    *,
    subject: str | None = None,
    kind: str | None = None,
    kind_prefix: str | None = None,
    after: int = 0,
    limit: int | None = None,
    actor: str | None = None,
) -> list[dict[str, Any]]:
    """Actions in chain order (oldest first), optionally only about ``subject``, of ``kind`` or
    of kinds starting with ``kind_prefix``, by ``actor``, with ``seq > after``, at most ``limit``.

    Each is a dict: ``seq``, ``kind``, ``actor``, ``subject`` (``None`` when none), ``reason``,
    ``payload``, ``at`` and ``hash`` (its chain hash, to cite it).
    """
    t = schema.actions
    q = sa.select(t.c.seq, t.c.line, t.c.hash).where(t.c.seq > after).order_by(t.c.seq)
    if subject is not None:
        q = q.where(t.c.subject == subject)
    if kind is not None:
        q = q.where(t.c.kind == kind)
    if kind_prefix is not None:
        q = q.where(t.c.kind.startswith(kind_prefix, autoescape=True))
    if actor is not None:
        q = q.where(t.c.actor == actor)
    if limit is not None:
        q = q.limit(max(int(limit), 0))
    with ledger.engine.connect() as conn:
        rows = conn.execute(q).all()
    out = []
    for seq, line, link in rows:
        fields = json.loads(line)
        out.append({"seq": int(seq), "subject": None, **fields, "hash": link})
    return out
