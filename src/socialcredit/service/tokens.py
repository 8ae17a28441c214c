"""Bearer tokens: made, listed, revoked and verified; only a hash of each secret is stored.

A token reads ``sct_<id>_<secret>``: the id (12 hex digits) names the row, the secret (43
URL-safe characters, 256 bits) proves possession; the database keeps ``sha256(secret)``, so a copy
of the database grants nothing. Each token has one role:

* ``source``: a data source (``--source``): writes records of its authorised categories only;
* ``officer``: reads decisions, subjects' files and lists;
* ``subject``: a person or organisation (``--subject``): reads its own file only;
* ``admin``: everything, including the registry, tokens and the audit log.

Making and revoking a token are manual actions: each also appends a ``token.create`` or
``token.revoke`` action (actor, reason) to the ledger's tamper-evident chain of actions
(:mod:`socialcredit.ledger.actions`), in the same transaction as the change itself.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.ledger import open_ledger
    >>> ledger = open_ledger(pathlib.Path(tempfile.mkdtemp()) / "ledger.db")
    >>> info, bearer = create_token(ledger, role="officer", label="counter 3")
    >>> verify_bearer(ledger, bearer).role
    'officer'
    >>> revoke_token(ledger, info.id).status()
    'revoked'
    >>> verify_bearer(ledger, bearer)
    Traceback (most recent call last):
    ...
    socialcredit.service.errors.TokenError: token ... was revoked on ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any, Literal

import sqlalchemy as sa

from socialcredit import ids
from socialcredit.errors import IdentifierError
from socialcredit.ledger import Ledger, schema
from socialcredit.ledger.actions import insert_actions
from socialcredit.records import parse_occurred_at
from socialcredit.service.errors import TokenError
from socialcredit.service.tables import api_tokens
from socialcredit.vocabulary import vocabulary

__all__ = [
    "ROLES",
    "Principal",
    "Role",
    "TokenInfo",
    "create_token",
    "list_tokens",
    "parse_expiry",
    "revoke_token",
    "verify_bearer",
]

Role = Literal["source", "officer", "subject", "admin"]
ROLES: tuple[str, ...] = ("source", "officer", "subject", "admin")
PREFIX = "sct_"
_BEARER = re.compile(r"^sct_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a verified token's id, role and scope (``None`` for the public)."""

    token_id: str | None
    role: str
    source: str | None = None
    subject: str | None = None
    expires_at: str | None = None


PUBLIC = Principal(None, "public")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as stored, without its secret."""

    id: str
    role: str
    source: str | None
    subject: str | None
    label: str | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None

    def status(self, now: dt.datetime | None = None) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and _parse(self.expires_at) <= (now or _now()):
            return "expired"
        return "active"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status()}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_expiry(value: str | dt.date | dt.datetime | None) -> dt.datetime | None:
    """An expiry as an aware date-time: a date means its start (00:00) in China Standard Time.

    Raises:
        TokenError: not an ISO 8601 date or date-time.
    """
    if value is None or value == "":
        return None
    try:
        return parse_occurred_at(value).astimezone(dt.UTC)
    except ValueError as exc:
        raise TokenError(
            f"expiry {value!r} is not an ISO 8601 date or date-time ({exc}): e.g. 2026-12-31",
            reason="bad_request",
        ) from None


def _info(row: Any) -> TokenInfo:
    m = row._mapping
    return TokenInfo(
        m["id"],
        m["role"],
        m["source"],
        m["subject"],
        m["label"],
        m["created_at"],
        m["expires_at"],
        m["revoked_at"],
    )


#: The actor recorded when a caller names none.
UNNAMED_ACTOR = "unnamed"
_NO_REASON = "no reason given"


def _write(ledger: Ledger, statement: Any, action: dict[str, Any]) -> Any:
    """Run ``statement`` and append ``action`` to the chain of actions, in one transaction
    through the ledger's single writer."""

    def work(conn: Any) -> Any:
        result = conn.execute(statement)
        if result.rowcount == 0:  # revoked by someone else meanwhile: no action to record
            token = action["payload"]["token"]
            raise TokenError(f"token {token} was already revoked", reason="already_revoked")
        insert_actions(conn, [action])
        return result

    return ledger._write(work)


def create_token(
    ledger: Ledger,
    *,
    role: str,
    source: str | None = None,
    subject: str | None = None,
    expires: str | dt.date | dt.datetime | None = None,
    label: str | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> tuple[TokenInfo, str]:
    """Make a token; return its stored form and the bearer string (shown once, never stored).

    A ``token.create`` action records ``actor`` (who made it) and ``reason`` (default: the
    label, else "no reason given") in the chain of actions.

    Raises:
        TokenError: an unknown role; a source role without a known ``source``; a subject role
            without a ``subject`` in the registry; a scope given to a role that takes none.
    """
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}: use one of {', '.join(ROLES)}", reason="bad_request")
    if role == "source":
        if not source:
            raise TokenError(
                "a source token needs --source: the data source it writes for "
                "(see `socialcredit sources list`)",
                reason="bad_request",
            )
        if source not in vocabulary().sources:
            raise TokenError(
                f"unknown source {source!r}: see `socialcredit sources list`", reason="bad_request"
            )
    elif source is not None:
        raise TokenError(f"--source is for source tokens only, not {role}", reason="bad_request")
    if role == "subject":
        if not subject:
            raise TokenError(
                "a subject token needs --subject: the subject whose file it reads", reason="bad_request"
            )
        with contextlib.suppress(IdentifierError):  # ids made outside ingest may be free text
            subject = ids.validate_identifier(subject)[1]
        if ledger.subject(subject) is None:
            raise TokenError(
                f"subject {subject!r} is not in the registry: import it first "
                "with `socialcredit registry import`",
                reason="bad_request",
            )
    elif subject is not None:
        raise TokenError(f"--subject is for subject tokens only, not {role}", reason="bad_request")
    when = parse_expiry(expires)
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    info = TokenInfo(token_id, role, source, subject, label, _iso(_now()), _iso(when) if when else None, None)
    action = {
        "kind": "token.create",
        "actor": actor or UNNAMED_ACTOR,
        "subject": subject,
        "reason": (reason or "").strip() or (label or "").strip() or _NO_REASON,
        "payload": {"token": token_id, "role": role, "source": source, "expires_at": info.expires_at},
        "at": info.created_at,
    }
    _write(ledger, api_tokens.insert().values(secret_hash=_hash(secret), **asdict(info)), action)
    return info, f"{PREFIX}{token_id}_{secret}"


def get_token(ledger: Ledger, token_id: str) -> TokenInfo | None:
    """A token's stored form, or ``None``."""
    with ledger.engine.connect() as conn:
        row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return _info(row) if row else None


def list_tokens(ledger: Ledger) -> list[TokenInfo]:
    """Every token, oldest first (revoked and expired ones too)."""
    with ledger.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            order: tuple[Any, ...] = (sa.literal_column("rowid"),)  # insertion order
        else:  # PostgreSQL keeps no insertion order: by creation time (seconds), then by the
            # token's place in the chain of actions (its token.create action), then by id
            made = (
                sa.select(sa.func.min(schema.actions.c.seq))
                .where(schema.actions.c.kind == "token.create")
                .where(schema.actions.c.line.contains(sa.literal('"token":"') + api_tokens.c.id + '"'))
                .scalar_subquery()
            )
            order = (api_tokens.c.created_at, made, api_tokens.c.id)
        rows = conn.execute(sa.select(api_tokens).order_by(*order))
        return [_info(r) for r in rows]


def revoke_token(
    ledger: Ledger, token_id: str, *, actor: str | None = None, reason: str | None = None
) -> TokenInfo:
    """Revoke a token (it stays listed, as revoked); a ``token.revoke`` action records ``actor``
    and ``reason`` in the chain of actions.

    Raises:
        TokenError: ``not_found`` when there is no such token, ``already_revoked`` when it was.
    """
    info = get_token(ledger, token_id)
    if info is None:
        raise TokenError(f"no token {token_id!r}: see `socialcredit token list`", reason="not_found")
    if info.revoked_at is not None:
        raise TokenError(
            f"token {token_id} was already revoked on {info.revoked_at}", reason="already_revoked"
        )
    now = _iso(_now())
    _write(
        ledger,
        api_tokens.update()
        .where(api_tokens.c.id == token_id)
        .where(api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now),
        {
            "kind": "token.revoke",
            "actor": actor or UNNAMED_ACTOR,
            "subject": info.subject,
            "reason": (reason or "").strip() or _NO_REASON,
            "payload": {"token": token_id, "role": info.role},
            "at": now,
        },
    )
    return TokenInfo(**{**asdict(info), "revoked_at": now})


def verify_bearer(ledger: Ledger, bearer: str) -> Principal:
    """The principal of a bearer string.

    Raises:
        TokenError: ``invalid`` (not a token), ``unknown``, ``revoked`` or ``expired``.
    """
    match = _BEARER.match(bearer.strip())
    if not match:
        raise TokenError(
            "not a socialcredit token (they read sct_<id>_<secret>): make one with "
            "`socialcredit token create`",
            reason="invalid",
        )
    token_id, secret = match.groups()
    with ledger.engine.connect() as conn:
        row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None or not hmac.compare_digest(row._mapping["secret_hash"], _hash(secret)):
        raise TokenError("unknown token: check it was copied whole", reason="unknown")
    info = _info(row)
    status = info.status()
    if status == "revoked":
        raise TokenError(f"token {token_id} was revoked on {info.revoked_at}", reason="revoked")
    if status == "expired":
        raise TokenError(f"token {token_id} expired on {info.expires_at}", reason="expired")
    return Principal(token_id, info.role, info.source, info.subject, info.expires_at)
