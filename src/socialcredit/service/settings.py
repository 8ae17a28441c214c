"""Typed settings for the HTTP API, from arguments or ``SOCIALCREDIT_*`` environment variables.

Unsafe choices are refused, not defaulted: there is no default ledger (name one with ``--db`` or
``SOCIALCREDIT_DB``), a missing ledger file is an error (an empty one would answer every question
with "unknown subject"), and binding to anything but a loopback address needs
``allow_remote=True`` (``--allow-remote``), since bearer tokens travel in clear over plain HTTP.

Example:
    >>> import tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "ledger.db"
    >>> _ = db.write_bytes(b"")
    >>> Settings(db=db).host
    '127.0.0.1'
    >>> Settings(db=db, host="0.0.0.0")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings
    ...
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

CST = dt.timezone(dt.timedelta(hours=8))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Everything ``create_app`` needs; every field also reads ``SOCIALCREDIT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SOCIALCREDIT_", extra="forbid", frozen=True)

    db: Path | str = Field(
        description="The ledger: a SQLite file made by `socialcredit ingest`, or a PostgreSQL URL "
        "(postgresql://user:password@host/database, with the socialcredit[postgres] extra)."
    )
    rulebooks: tuple[str, ...] = Field(
        ("national",), min_length=1, description="Rulebooks evaluated (built-in ids or paths)."
    )
    host: str = Field("127.0.0.1", description="Address to bind; non-loopback needs allow_remote.")
    port: int = Field(8000, ge=1, le=65535)
    allow_remote: bool = Field(False, description="Allow binding a non-loopback address.")
    today: dt.date | None = Field(
        None,
        description="The service's clock for evaluations and the ingest `future` check "
        "(default: the real date in China Standard Time). Set it to replay a past day.",
    )
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="Largest request body (413 above).")
    max_batch: int = Field(
        10_000, ge=1, description="Most records or registry lines per request (413 above)."
    )
    audit_flush_entries: int = Field(512, ge=1, description="Audit entries buffered before a flush.")
    audit_flush_ms: int = Field(200, ge=1, description="Longest an audit entry waits in the buffer.")
    token_cache_seconds: float = Field(
        2.0,
        ge=0,
        description="How long a verified token is trusted before the database is asked again "
        "(a revocation through the CLI takes effect within this time; through the API at once).",
    )
    head_check_seconds: float = Field(
        1.0,
        ge=0,
        description="How often reads look for records written by other processes "
        "(writes through the API are seen at once).",
    )
    evaluations_kept: int = Field(4, ge=1, description="Evaluations (one per date) kept in memory.")
    search_limit: int = Field(20, ge=1, le=200, description="Most results of a public search.")
    warm: bool = Field(True, description="Evaluate today's standing at start-up, before serving.")
    rate_limit_per_token: float = Field(
        10_000.0,
        ge=0,
        description="Requests a second one token (or, without a token, one client address) may send, "
        "with bursts of one second's worth; more get 429 with Retry-After. 0 turns the limit off.",
    )

    @field_validator("db", mode="before")
    @classmethod
    def _ledger_exists(cls, value: Path | str) -> Path | str:
        text = str(value)
        if text.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            return text  # whether it holds a ledger is checked when it is opened
        if "://" in text:
            raise ValueError("the ledger is a SQLite file path or a postgresql:// URL")
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValueError(
                f"no ledger at {path}: create one with `socialcredit registry import` and "
                "`socialcredit ingest` (or `socialcredit db upgrade --db PATH` for an empty one)"
            )
        return path.resolve()

    @model_validator(mode="after")
    def _safe_bind(self) -> Settings:
        if not self.allow_remote and not _is_loopback(self.host):
            raise ValueError(
                f"refusing to bind {self.host!r}: tokens would cross the network in clear. Bind "
                "127.0.0.1 (the default), or pass --allow-remote behind a TLS proxy you trust"
            )
        return self

    @property
    def db_shown(self) -> str:
        """The ledger for messages: the path, or the URL with its password hidden."""
        if isinstance(self.db, Path):
            return str(self.db)
        from sqlalchemy.engine import make_url

        return make_url(self.db).render_as_string(hide_password=True)

    def clock_date(self) -> dt.date:
        """The service's date: ``today`` when set, else the current date in China Standard Time."""
        return self.today or dt.datetime.now(CST).date()

    def ingest_clock(self) -> dt.datetime:
        """The clock for the ingest ``future`` check: the end of ``today``, or now."""
        if self.today is None:
            return dt.datetime.now(dt.UTC)
        return dt.datetime.combine(self.today, dt.time(23, 59, 59), tzinfo=CST)
