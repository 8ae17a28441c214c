"""What the running service holds: the ledger, the engine, cached evaluations, token and
audit machinery.

Evaluations are cached per (ledger heads, rulebooks, date): the rulebooks are fixed for the life
of the process, the heads are the hash-chain heads of records and registry. A write through the
API marks the cache stale, so the next read re-reads the ledger and evaluates again (after a
review decision on a citizen report, :mod:`socialcredit.dueprocess.reports`, the bound records
are kept and evaluated under the new decisions); writes by other processes (``socialcredit
ingest``) are noticed within ``head_check_seconds``. Incremental updates arrive with a later
issue; until then a read after a write pays one full evaluation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict
from typing import Any

from socialcredit.dueprocess.reports import report_review, review_head
from socialcredit.engine import Bound, Engine, Evaluation
from socialcredit.ingest.checks import Checks
from socialcredit.ledger import Ledger, open_ledger
from socialcredit.registry import Registry
from socialcredit.service.audit import AuditLog
from socialcredit.service.settings import Settings
from socialcredit.service.tokens import Principal, verify_bearer

__all__ = ["ServiceState"]

Key = tuple[int, str, int, str, int, int]


@dataclasses.dataclass
class Snapshot:
    """The ledger as of one pair of chain heads (and the review actions on citizen reports),
    bound to the engine."""

    key: Key
    bound: Bound
    registry: Registry
    evaluations: OrderedDict[int, Evaluation] = dataclasses.field(default_factory=OrderedDict)
    extras: dict[Any, Any] = dataclasses.field(default_factory=dict)  # per-evaluation memos


class ServiceState:
    """Shared by every request (``app.state.service``)."""

    def __init__(self, settings: Settings, ledger: Ledger | None = None) -> None:
        self.settings = settings
        self.engine = Engine(settings.rulebooks)
        self._owns_ledger = ledger is None
        self.ledger = ledger or open_ledger(settings.db, create=False)
        self.audit = AuditLog(
            self.ledger.engine, flush_entries=settings.audit_flush_entries, flush_ms=settings.audit_flush_ms
        )
        self._lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._key: Key | None = None
        self._checked = 0.0
        self._dirty = True
        self._checks: tuple[tuple[int, str], Checks] | None = None
        self._tokens: dict[str, tuple[Principal, float]] = {}

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        self.audit.start()
        if self.settings.warm:
            self.evaluation(self.settings.clock_date())

    def close(self) -> None:
        """Write the audit buffer; close the ledger when this state opened it."""
        self.audit.close()
        if self._owns_ledger:
            self.ledger.close()

    # -- tokens ----------------------------------------------------------------------------
    def principal(self, bearer: str) -> Principal:
        """The principal of a bearer token, trusted for ``token_cache_seconds`` once verified.

        Raises:
            TokenError: invalid, unknown, revoked or expired.
        """
        now = time.monotonic()
        hit = self._tokens.get(bearer)
        if hit is not None and hit[1] > now:
            return hit[0]
        who = verify_bearer(self.ledger, bearer)
        ttl = self.settings.token_cache_seconds
        if ttl > 0:
            until = now + ttl
            if who.expires_at is not None:
                left = (dt.datetime.fromisoformat(who.expires_at) - dt.datetime.now(dt.UTC)).total_seconds()
                until = min(until, now + left)
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[bearer] = (who, until)
        return who

    def forget_token(self, token_id: str) -> None:
        """Drop a (revoked) token from the cache at once."""
        for bearer, (who, _) in list(self._tokens.items()):
            if who.token_id == token_id:
                self._tokens.pop(bearer, None)

    # -- ledger snapshots and evaluations ---------------------------------------------------
    def mark_written(self) -> None:
        """A write went through: the next read re-reads the ledger."""
        self._dirty = True

    def _current_key(self) -> Key:
        now = time.monotonic()
        if self._dirty or self._key is None or now - self._checked >= self.settings.head_check_seconds:
            self._dirty = False
            heads = self.ledger.heads()
            rec, reg = heads["records"], heads["registry_changes"]
            reviewed = review_head(self.ledger)
            self._key = (int(rec["count"]), str(rec["head"]), int(reg["count"]), str(reg["head"]), *reviewed)
            self._checked = now
        return self._key

    def snapshot(self) -> Snapshot:
        """The current snapshot (re-read when the chain heads moved)."""
        with self._lock:
            key = self._current_key()
            snap = self._snapshot
            if snap is not None and snap.key[:4] == key[:4] and snap.key != key:
                # only a citizen report was decided: the same records under the new decisions
                bound = snap.bound.with_reports(report_review(self.ledger))
                snap = self._snapshot = Snapshot(key, bound, snap.registry)
            elif snap is None or snap.key != key:
                registry = self.ledger.registry()
                bound = self.engine.bind(
                    self.ledger.records_table(), registry, reports=report_review(self.ledger)
                )
                snap = self._snapshot = Snapshot(key, bound, registry)
            return snap

    def evaluation(self, day: dt.date | None = None) -> Evaluation:
        """The evaluation as of ``day`` (default: the service's date), computed once per snapshot."""
        d = (day or self.settings.clock_date()).toordinal() - 719163  # days since 1970-01-01
        with self._lock:
            snap = self.snapshot()
            ev = snap.evaluations.get(d)
            if ev is None:
                ev = snap.bound.evaluate(d)
                snap.evaluations[d] = ev
                while len(snap.evaluations) > self.settings.evaluations_kept:
                    snap.evaluations.popitem(last=False)
            return ev

    def ready_evaluation(self, day: dt.date | None = None) -> Evaluation | None:
        """The cached evaluation when no ledger check is due (no I/O, no lock); else ``None``,
        and the caller runs :meth:`evaluation` in a worker thread."""
        snap = self._snapshot
        if snap is None or self._dirty or snap.key != self._key:
            return None
        if time.monotonic() - self._checked >= self.settings.head_check_seconds:
            return None
        d = (day or self.settings.clock_date()).toordinal() - 719163
        return snap.evaluations.get(d)

    def memo(self, ev: Evaluation, key: Any, make: Any, limit: int = 4096) -> Any:
        """A per-evaluation memo (explanations, decision reasons), dropped with the snapshot."""
        snap = self._snapshot
        if snap is None or snap.bound is not ev.bound:
            return make()
        store = snap.extras.setdefault(ev.day, {})
        if key in store:
            return store[key]
        value = make()
        if len(store) >= limit:
            store.clear()
        store[key] = value
        return value

    def registry(self, ev: Evaluation | None = None) -> Registry:
        """The registry of the snapshot ``ev`` was made from (default: the current one)."""
        snap = self._snapshot
        if ev is not None and snap is not None and snap.bound is ev.bound:
            return snap.registry
        return self.snapshot().registry

    def checks(self) -> Checks:
        """Ingest checks against the current registry (reloaded when the registry moved)."""
        with self._lock:
            key = self._current_key()
            head = (key[2], key[3])
            if self._checks is None or self._checks[0] != head:
                self._checks = (head, Checks.load(self.ledger))
            return dataclasses.replace(self._checks[1], now=self.settings.ingest_clock())
