"""The audit log: who wrote what, and who looked at whose file, batched so it costs little.

:meth:`AuditLog.log` only appends to an in-memory buffer; a background thread writes the buffer
in one transaction every ``flush_ms`` milliseconds, or as soon as ``flush_entries`` entries are
waiting, and :meth:`AuditLog.close` writes what is left at shutdown. A crash can lose at most
the last ``flush_ms`` of entries; everything written is append-only.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.ledger import open_ledger
    >>> from socialcredit.service.tokens import PUBLIC
    >>> ledger = open_ledger(pathlib.Path(tempfile.mkdtemp()) / "ledger.db")
    >>> audit = AuditLog(ledger.engine)
    >>> audit.log(PUBLIC, "public_search", detail={"q": "Li"})
    >>> audit.flush()
    1
    >>> [(e["role"], e["action"]) for e in read_audit(ledger.engine)]
    [('public', 'public_search')]
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import deque
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from socialcredit.service.tables import AUDIT_COLUMNS, audit_log
from socialcredit.service.tokens import Principal

__all__ = ["AuditLog", "read_audit"]

log = logging.getLogger("socialcredit.service")


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")


class AuditLog:
    """A buffered, append-only writer of audit entries (see the module docstring)."""

    def __init__(self, engine: Engine, *, flush_entries: int = 512, flush_ms: int = 200) -> None:
        self.engine = engine
        self.flush_entries = flush_entries
        self.flush_ms = flush_ms
        self._buffer: deque[tuple[Any, ...]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        sql = audit_log.insert().compile(dialect=engine.dialect, column_keys=list(AUDIT_COLUMNS))
        self._insert = str(sql)

    def log(
        self,
        who: Principal,
        action: str,
        *,
        subject: str | None = None,
        status: int = 200,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Buffer one entry (cheap: no I/O and no formatting on the caller's thread)."""
        self._buffer.append((time.time(), who.token_id, who.role, action, subject, status, detail))
        if len(self._buffer) >= self.flush_entries:
            self._wake.set()

    def flush(self) -> int:
        """Write every buffered entry now; return how many were written."""
        with self._write_lock:
            entries = []
            while self._buffer:
                entries.append(self._buffer.popleft())
            if not entries:
                return 0
            rows = [
                (
                    _when(at),
                    token,
                    role,
                    action,
                    subject,
                    status,
                    json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
                )
                for at, token, role, action, subject, status, detail in entries
            ]
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(ledger_write=True)
                    with conn.begin():
                        conn.exec_driver_sql(self._insert, rows)
            except Exception:
                self._buffer.extendleft(reversed(entries))  # keep them for the next try
                raise
            return len(rows)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_ms / 1000)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                log.exception("audit log flush failed; retrying")

    def start(self) -> None:
        """Start the background writer (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the writer and write what is left."""
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join()
            self._thread = None
        self.flush()

    @property
    def pending(self) -> int:
        return len(self._buffer)


def read_audit(
    engine: Engine, *, subject: str | None = None, action: str | None = None, after: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """Audit entries in order (``seq > after``), optionally about one subject or of one action."""
    q = sa.select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(limit)
    if subject is not None:
        q = q.where(audit_log.c.subject == subject)
    if action is not None:
        q = q.where(audit_log.c.action == action)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    for r in rows:
        r["detail"] = json.loads(r["detail"]) if r["detail"] else None
    return rows
