"""The ledger: an append-only, hash-chained store of credit records and registry changes.

Every write goes through one :class:`Ledger` writer method, under a process lock and one
writer across processes (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory
lock per schema, taken before the chain head is read), one transaction per batch: a crash loses at
most the open batch, and appending the same records again is idempotent by record id.

The ledger lives in a SQLite file (a path) or a PostgreSQL database (a ``postgresql://`` URL,
with the ``socialcredit[postgres]`` extra; records go in with ``COPY``).

Example:
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> with open_ledger(tmp / "ledger.db") as ledger:
    ...     result = ledger.append_records([{"id": "r1", "subject": "S", "category": "c.x",
    ...                                      "occurred_at": "2018-03-01", "source": "src"}])
    ...     again = ledger.append_records([{"id": "r1", "subject": "S", "category": "c.x",
    ...                                     "occurred_at": "2018-03-01T00:00:00+08:00",
    ...                                     "source": "src", "value": 1}])
    ...     (result.accepted, again.accepted, len(again.duplicates), ledger.counts()["records"])
    (1, 0, 1, 1)
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import io
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from socialcredit.errors import LedgerError
from socialcredit.ledger import schema
from socialcredit.ledger.canonical import CanonicalBatch, canonical_batch
from socialcredit.ledger.chain import chain_hashes
from socialcredit.ledger.migrate import current_revision, upgrade
from socialcredit.records import RECORD_FIELDS, RECORDS_SCHEMA, canonical_json
from socialcredit.registry import Registry, as_date, is_relation_line

__all__ = ["AppendResult", "Ledger", "Reject", "database_url", "is_postgres", "open_ledger"]

#: Records per transaction when :meth:`Ledger.append_records` gets more than this many.
BATCH_SIZE = 50_000
_IN_CHUNK = 5_000  # parameters per ``IN (...)`` lookup
_INPUT_SCHEMA = pa.schema(
    [(name, pa.float64() if name == "value" else pa.string()) for name in RECORD_FIELDS]
)
_READ_CHUNK = 100_000  # rows per fetch when reading records back
_CURSORS = itertools.count()  # names of PostgreSQL server-side cursors
_CANONICAL_SCHEMA = pa.schema([f for f in RECORDS_SCHEMA if f.name not in ("seq", "day")])


@dataclass(frozen=True, slots=True)
class Reject:
    """A line that was not accepted, as the quarantine keeps it.

    ``line`` is 1-based: the line in JSONL, the data row in CSV and Parquet. ``id`` is the
    record id (or the registry subject id) when the line had one.
    """

    file: str
    line: int
    id: str | None
    reason: str
    message: str
    raw: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The public shape (``raw`` left out): file, line, id, reason, message."""
        return {
            "file": self.file,
            "line": self.line,
            "id": self.id,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass
class AppendResult:
    """What an append did: rows are indices into the batch that was passed in."""

    accepted: int = 0
    duplicates: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)  #: the conflicts' rejects, if quarantined


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL for ``db``: a URL is kept, a file path becomes ``sqlite:///<path>``.

    ``postgresql://`` and ``postgres://`` (libpq's spellings) select psycopg 3
    (``postgresql+psycopg://``).
    """
    text = str(db)
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text.removeprefix(prefix)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def is_postgres(engine_or_url: Engine | str) -> bool:
    """Whether an engine (or URL) is PostgreSQL."""
    if isinstance(engine_or_url, str):
        return engine_or_url.startswith(("postgresql", "postgres:"))
    return engine_or_url.dialect.name == "postgresql"


#: One writer per schema across processes: a transaction-scoped advisory lock whose key is
#: derived from the schema name (md5, documented functions only), released at commit or rollback.
PG_WRITE_LOCK = (
    "SELECT pg_advisory_xact_lock(1935896436, ('x' || left(md5(current_schema()), 8))::bit(32)::int)"
)


def _postgres_engine(url: str) -> Engine:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise LedgerError(
            "a PostgreSQL ledger needs psycopg 3: pip install 'socialcredit[postgres]'"
        ) from None
    # ``format`` (%s) keeps parameters positional, as with SQLite's ``?``: the writer compiles
    # its inserts once and passes tuples.
    engine = sa.create_engine(url, paramstyle="format", pool_pre_ping=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("ledger_write", False):
            conn.exec_driver_sql(PG_WRITE_LOCK)

    return engine


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("ledger_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")

    return engine


def open_ledger(db: str | Path, *, create: bool = True) -> Ledger:
    """Open (creating or upgrading as needed) the ledger at a file path or SQLAlchemy URL.

    Args:
        db: a file path (SQLite; the file and its folder are created) or a SQLAlchemy URL.
        create: when false, a missing SQLite file is an error instead of a new ledger.

    Raises:
        LedgerError: the file is missing (``create=False``), not a database, or cannot be
            upgraded.
    """
    url = database_url(db)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            if not create:
                raise LedgerError(f"no ledger at {path}: create one with `socialcredit ingest`")
            path.parent.mkdir(parents=True, exist_ok=True)
    if is_postgres(url):
        engine = _postgres_engine(url)
        shown = engine.url.render_as_string(hide_password=True)
        try:
            if not create and current_revision(engine) is None:
                raise LedgerError(f"no ledger at {shown}: create one with `socialcredit db upgrade --db URL`")
            upgrade(engine)
        except LedgerError:
            engine.dispose()
            raise
        except sa.exc.DBAPIError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise LedgerError(f"cannot open the ledger at {shown}: {reason}") from None
        return Ledger(engine)
    if not url.startswith("sqlite"):
        scheme = url.split("://")[0]
        raise LedgerError(f"{scheme!r} is not supported: use a SQLite file path or a postgresql:// URL")
    engine = _sqlite_engine(url)
    try:
        upgrade(engine)
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        raise LedgerError(f"{db} is not a ledger database ({exc.orig})") from None
    return Ledger(engine)


def _compiled_insert(engine: Engine, table: sa.Table, columns: Sequence[str]) -> str:
    # inline: no RETURNING of a generated key (PostgreSQL would add one for ``quarantine.qid``)
    sql = table.insert().inline().compile(dialect=engine.dialect, column_keys=list(columns))
    if not sql.positional:
        raise LedgerError(f"the {engine.dialect.name} driver is not supported yet")
    return str(sql)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch's many tuples are built and written
    (they hold no cycles; collecting would only walk them again and again)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _records_batch(seqs: Sequence[int], texts: Sequence[str]) -> pa.RecordBatch:
    """Canonical record texts (and their seqs) as a :data:`RECORDS_SCHEMA` batch."""
    parsed = pajson.read_json(
        io.BytesIO("\n".join(texts).encode()),
        read_options=pajson.ReadOptions(block_size=4 << 20),
        parse_options=pajson.ParseOptions(explicit_schema=_CANONICAL_SCHEMA),
    )
    if parsed.num_rows != len(texts):
        raise LedgerError("the ledger holds a canonical record that is not one JSON object: run verify")
    arrays = []
    for f in RECORDS_SCHEMA:
        if f.name == "seq":
            arrays.append(pa.array(seqs, pa.int64()))
        elif f.name == "day":
            occurred = parsed["occurred_at"].combine_chunks()
            arrays.append(pc.utf8_slice_codeunits(occurred, 0, 10).cast(pa.date32()))
        else:
            arrays.append(parsed[f.name].combine_chunks())
    return pa.RecordBatch.from_arrays(arrays, schema=RECORDS_SCHEMA)


def _is_duplicate_id(exc: sa.exc.IntegrityError) -> bool:
    """Whether an insert failed on the unique record id (SQLite's or PostgreSQL's wording)."""
    text = str(exc.orig)
    return "records.id" in text or "uq_records_id" in text


def _copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: write rows with ``COPY ... FROM STDIN`` in the connection's transaction (a
    unique violation comes back as SQLAlchemy's :class:`~sqlalchemy.exc.IntegrityError`)."""
    import psycopg

    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.errors.IntegrityError as exc:
        raise sa.exc.IntegrityError(f"COPY {table}", None, exc) from exc
    finally:
        cursor.close()


def _insert_actions(conn: Connection, actions: Sequence[Mapping[str, Any]]) -> None:
    if actions:
        from socialcredit.ledger.actions import insert_actions  # actions builds on this module

        insert_actions(conn, actions)


def _registry_key(line: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, key) of a canonical registry line: what a later line replaces."""
    if is_relation_line(line):
        since = line.get("since") or ""
        return "relation", f"{line['relation']}|{line['subject']}|{line['object']}|{since}"
    return "subject", str(line["id"])


class Ledger:
    """An open ledger. Use :func:`open_ledger`; close it (or use ``with``) when done."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._insert_records = _compiled_insert(engine, schema.records, schema.RECORD_COLUMNS)
        self._insert_registry = _compiled_insert(engine, schema.registry_changes, schema.REGISTRY_COLUMNS)
        self.postgres = is_postgres(engine)
        #: PostgreSQL: append records with ``COPY`` (else ``executemany``, as on SQLite).
        self.use_copy = self.postgres
        #: The driver's positional parameter mark, for hand-written SQL (``?`` or ``%s``).
        self.mark = "%s" if self.postgres else "?"
        insert_quarantine = _compiled_insert(engine, schema.quarantine, schema.QUARANTINE_COLUMNS)
        if self.postgres:
            self._insert_quarantine = insert_quarantine + " ON CONFLICT DO NOTHING"
        else:
            self._insert_quarantine = insert_quarantine.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)

    # -- life cycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Close every connection."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The database URL, password hidden (for messages)."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def location(self) -> Path | str:
        """What opens this ledger again: the SQLite file's path, or the full PostgreSQL URL
        (password included: never print it)."""
        if self.postgres:
            return self.engine.url.render_as_string(hide_password=False)
        return Path(self.url.removeprefix("sqlite:///"))

    # -- the one writer ------------------------------------------------------------------------
    def _write(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work`` in one write transaction, under the process lock and the database's
        writer lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: :data:`PG_WRITE_LOCK`)."""
        with self._lock, _no_gc(), self.engine.connect() as conn:
            conn.execution_options(ledger_write=True)
            with conn.begin():
                return work(conn)

    @staticmethod
    def _head(conn: Connection, chain: str) -> tuple[int, str]:
        row = conn.execute(
            sa.select(schema.meta.c.count, schema.meta.c.head).where(schema.meta.c.chain == chain)
        ).one()
        return int(row[0]), str(row[1])

    @staticmethod
    def _set_head(conn: Connection, chain: str, count: int, head: str, last_id: str) -> None:
        conn.execute(
            schema.meta.update()
            .where(schema.meta.c.chain == chain)
            .values(count=count, head=head, last_id=last_id)
        )

    def _insert_rejects(self, conn: Connection, target: str, rejects: Sequence[Reject]) -> None:
        if not rejects:
            return
        now = _now()
        rows = [
            (
                target,
                r.file,
                r.line,
                r.id,
                r.reason,
                r.message,
                r.raw,
                hashlib.sha256(r.raw.encode("utf-8", "backslashreplace")).hexdigest(),
                now,
            )
            for r in rejects
        ]
        conn.exec_driver_sql(self._insert_quarantine, rows)

    def _lookup(self, conn: Connection, sql: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (ending in ``IN``) for ``keys``, in chunks."""
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            marks = ",".join([self.mark] * len(chunk))
            out += conn.exec_driver_sql(f"{sql} ({marks})", tuple(chunk)).all()
        return out

    def _insert_chained(
        self, conn: Connection, table: pa.Table, canonical: list[str], count: int, head: str
    ) -> int:
        """Insert records after link ``count`` (hash ``head``) and move the chain head."""
        n = len(canonical)
        if not n:
            return 0
        hashes = chain_hashes(head, canonical)
        rows = zip(
            range(count + 1, count + n + 1),
            table["id"].to_pylist(),
            canonical,
            hashes,
            [head, *hashes[:-1]],
            *(table[name].to_pylist() for name in schema.RECORD_COLUMNS[5:]),
            strict=True,
        )
        if self.use_copy:
            _copy_rows(conn, "records", schema.RECORD_COLUMNS, rows)
        else:
            conn.exec_driver_sql(self._insert_records, list(rows))
        self._set_head(conn, schema.RECORDS_CHAIN, count + n, hashes[-1], table["id"][-1].as_py())
        return n

    def write_records(
        self,
        batch: CanonicalBatch,
        *,
        rejects: Sequence[Reject] = (),
        on_conflict: Callable[[int, str], Reject] | None = None,
        actions: Sequence[Mapping[str, Any]] = (),
    ) -> AppendResult:
        """Append canonical records in one transaction, chaining them; quarantine ``rejects``;
        append ``actions`` (:mod:`socialcredit.ledger.actions`) in the same transaction, so a
        decision and the records it makes are stored together or not at all.

        A record whose id is already in the ledger (or earlier in the batch) with the same
        canonical form is a duplicate and is skipped; with a different form it is a conflict:
        ``on_conflict(row, stored_canonical)`` makes its reject, or, without ``on_conflict``,
        :class:`LedgerError` is raised and nothing is written.
        """

        ids: list[str] = batch.table["id"].to_pylist()

        def optimistic(conn: Connection) -> AppendResult:
            count, head = self._head(conn, schema.RECORDS_CHAIN)
            n = self._insert_chained(conn, batch.table, batch.canonical, count, head)
            self._insert_rejects(conn, "records", rejects)
            _insert_actions(conn, actions)
            return AppendResult(accepted=n)

        if len(set(ids)) == len(ids):
            # Append everything at once; the unique index on id tells whether any record was
            # stored before. Only then (a re-run, a duplicate) sort them out one by one.
            try:
                return self._write(optimistic)
            except sa.exc.IntegrityError as exc:
                if not _is_duplicate_id(exc):
                    raise

        def work(conn: Connection) -> AppendResult:
            count, head = self._head(conn, schema.RECORDS_CHAIN)
            result = AppendResult()
            stored: dict[str, str] = {}
            if count:
                sql = "SELECT id, canonical FROM records WHERE id IN"
                stored = dict(self._lookup(conn, sql, list(set(ids))))
            keep: list[int] = []
            seen: dict[str, str] = {}
            for i, (rid, text) in enumerate(zip(ids, batch.canonical, strict=True)):
                before = stored.get(rid) or seen.get(rid)
                if before is None:
                    seen[rid] = text
                    keep.append(i)
                elif before == text:
                    result.duplicates.append(i)
                else:
                    result.conflicts.append(i)
            if result.conflicts and on_conflict is None:
                i = result.conflicts[0]
                raise LedgerError(
                    f"record id {ids[i]!r} is already in the ledger with a different content: "
                    "a correction is a new record with its own id and `corrects`"
                )
            result.rejects = [
                on_conflict(i, stored.get(ids[i]) or seen[ids[i]])  # type: ignore[misc]
                for i in result.conflicts
            ]
            table, canonical = batch.table, batch.canonical
            if len(keep) != len(ids):
                table = table.take(pa.array(keep, pa.int64()))
                canonical = [canonical[i] for i in keep]
            result.accepted = self._insert_chained(conn, table, canonical, count, head)
            self._insert_rejects(conn, "records", [*rejects, *result.rejects])
            _insert_actions(conn, actions)
            return result

        return self._write(work)

    def append_records(
        self,
        records: pa.Table | Iterable[Mapping[str, Any]],
        *,
        batch_size: int = BATCH_SIZE,
        actions: Sequence[Mapping[str, Any]] = (),
    ) -> AppendResult:
        """Append valid records (a table with the record fields as columns, or dicts).

        The fast path for callers that validated already (the simulator): no registry or
        vocabulary checks, only canonical form, chain and idempotency. One transaction per
        ``batch_size`` records. Raises :class:`LedgerError` on a conflict (nothing of that batch
        is written) and ``ValueError`` on a record that is not well-formed. ``actions`` are
        appended in the transaction of the last batch.
        """
        if not isinstance(records, pa.Table):
            rows = [dict(r) for r in records]
            for r in rows:
                if r.get("value") is not None:
                    r["value"] = float(r["value"])
            records = pa.Table.from_pylist(rows, schema=_INPUT_SCHEMA)
        total = AppendResult()
        for start in range(0, max(records.num_rows, 1), batch_size):
            part = records.slice(start, batch_size)
            if part.num_rows == 0:
                break
            last = start + batch_size >= records.num_rows
            got = self.write_records(canonical_batch(part), actions=actions if last else ())
            total.accepted += got.accepted
            total.duplicates += [start + i for i in got.duplicates]
        return total

    def quarantine(self, rejects: Sequence[Reject], *, target: str = "records") -> None:
        """Store rejects (the same reject of the same file line is stored once)."""
        if rejects:
            self._write(lambda conn: self._insert_rejects(conn, target, rejects))

    def append_registry(
        self, lines: Iterable[Mapping[str, Any]], *, rejects: Sequence[Reject] = ()
    ) -> list[bool]:
        """Append valid registry lines in order, chaining them; quarantine ``rejects``.

        Lines are canonicalised (``None`` fields dropped, keys sorted). A line equal to the
        current one for its key (the same subject id; the same relation, subject, object and
        since) changes nothing and is skipped. Returns, per line, whether it was appended.
        """
        clean = [
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in line.items() if v is not None}
            for line in lines
        ]
        keyed = [(*_registry_key(line), canonical_json(line)) for line in clean]

        def work(conn: Connection) -> list[bool]:
            count, head = self._head(conn, schema.REGISTRY_CHAIN)
            current: dict[str, str] = {}
            if count and keyed:
                sql = "SELECT seq, key, line FROM registry_changes WHERE key IN"
                found = self._lookup(conn, sql, list({k for _, k, _ in keyed}))
                for _seq, key, text in sorted(found):  # the latest line per key wins
                    current[key] = text
            appended: list[bool] = []
            rows = []
            for kind, key, text in keyed:
                if current.get(key) == text:
                    appended.append(False)
                    continue
                current[key] = text
                appended.append(True)
                rows.append((kind, key, text))
            if rows:
                hashes = chain_hashes(head, [text for _, _, text in rows])
                prevs = [head, *hashes[:-1]]
                conn.exec_driver_sql(
                    self._insert_registry,
                    [
                        (count + i + 1, text, hashes[i], prevs[i], kind, key)
                        for i, (kind, key, text) in enumerate(rows)
                    ],
                )
                self._set_head(conn, schema.REGISTRY_CHAIN, count + len(rows), hashes[-1], rows[-1][1])
            self._insert_rejects(conn, "registry", rejects)
            return appended

        return self._write(work)

    # -- reads ---------------------------------------------------------------------------------
    def read_cursor(self, conn: Connection) -> Any:
        """A driver cursor on ``conn`` for reading many rows with ``fetchmany`` (PostgreSQL: a
        server-side cursor, so rows arrive a chunk at a time rather than all at once). Close it."""
        driver = conn.connection.driver_connection
        if self.postgres:
            return driver.cursor(name=f"read_{next(_CURSORS)}")  # type: ignore[union-attr]
        return driver.cursor()  # type: ignore[union-attr]

    def heads(self) -> dict[str, dict[str, Any]]:
        """Each chain's head as ``meta`` records it: count, last hash, last id."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(schema.meta)).mappings().all()
        return {r["chain"]: {"count": r["count"], "head": r["head"], "last_id": r["last_id"]} for r in rows}

    def counts(self) -> dict[str, int]:
        """Rows per table, and distinct subjects and relations in the registry."""
        q = {
            "records": "SELECT count(*) FROM records",
            "registry_changes": "SELECT count(*) FROM registry_changes",
            "subjects": "SELECT count(DISTINCT key) FROM registry_changes WHERE kind = 'subject'",
            "relations": "SELECT count(DISTINCT key) FROM registry_changes WHERE kind = 'relation'",
            "quarantine": "SELECT count(*) FROM quarantine",
        }
        with self.engine.connect() as conn:
            return {name: int(conn.exec_driver_sql(sql).scalar_one()) for name, sql in q.items()}

    def records_table(self, until: dt.date | str | None = None) -> pa.Table:
        """All records (with ``day <= until`` when given) in append order, as
        :data:`socialcredit.records.RECORDS_SCHEMA`: the engine's input.

        Built from the hashed canonical text itself (what ``verify`` vouches for), fetched in
        chunks of (seq, canonical) and parsed by pyarrow's JSON reader: two values per row
        cross from SQLite to Python instead of twelve.
        """
        sql = "SELECT seq, canonical FROM records"
        params: tuple[Any, ...] = ()
        if until is not None:
            sql += f" WHERE day <= {self.mark}"
            params = (as_date(until).isoformat(),)  # type: ignore[union-attr]
        sql += " ORDER BY seq"
        batches = []
        with self.engine.connect() as conn:
            cursor = self.read_cursor(conn)
            try:
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(_READ_CHUNK):
                    batches.append(_records_batch([r[0] for r in rows], [r[1] for r in rows]))
            finally:
                cursor.close()
        return pa.Table.from_batches(batches, schema=RECORDS_SCHEMA)

    def records_of(self, subject: str) -> list[dict[str, Any]]:
        """One subject's records (canonical form plus ``seq``), in append order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(schema.records.c.seq, schema.records.c.canonical)
                .where(schema.records.c.subject == subject)
                .order_by(schema.records.c.seq)
            ).all()
        return [{"seq": seq, **json.loads(text)} for seq, text in rows]

    def record(self, record_id: str) -> dict[str, Any] | None:
        """One record by its id (canonical form plus ``seq``), or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(schema.records.c.seq, schema.records.c.canonical).where(
                    schema.records.c.id == record_id
                )
            ).first()
        return None if row is None else {"seq": row[0], **json.loads(row[1])}

    def registry_lines(self) -> Iterator[dict[str, Any]]:
        """Every registry change, in order, as the canonical line that was imported."""
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).exec_driver_sql(
                "SELECT line FROM registry_changes ORDER BY seq"
            )
            for (text,) in result:
                yield json.loads(text)

    def registry(self, on: dt.date | str | None = None) -> Registry:
        """The registry folded from every change; with ``on``, only relations valid that day."""
        reg = Registry.from_lines(self.registry_lines())
        if on is None:
            return reg
        return Registry(reg.subjects, reg.relations_on(on))

    def subject_ids(self) -> pa.Array:
        """Every subject id in the registry (distinct), as an arrow string array."""
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT DISTINCT key FROM registry_changes WHERE kind = 'subject'"
            ).all()
        return pa.array([r[0] for r in rows], pa.string())

    def known_subjects(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are subjects in the registry."""
        with self.engine.connect() as conn:
            sql = "SELECT DISTINCT key FROM registry_changes WHERE kind = 'subject' AND key IN"
            return {r[0] for r in self._lookup(conn, sql, list(set(ids)))}

    def subject(self, subject_id: str) -> dict[str, Any] | None:
        """One subject's current registry entry (its latest line), or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(schema.registry_changes.c.line)
                .where(schema.registry_changes.c.kind == "subject")
                .where(schema.registry_changes.c.key == subject_id)
                .order_by(schema.registry_changes.c.seq.desc())
                .limit(1)
            ).first()
        return json.loads(row[0]) if row else None

    def quarantine_rows(self, target: str | None = None) -> list[dict[str, Any]]:
        """Everything in quarantine (optionally only ``records`` or ``registry``), oldest first."""
        q = sa.select(schema.quarantine).order_by(schema.quarantine.c.qid)
        if target is not None:
            q = q.where(schema.quarantine.c.target == target)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def reasons(self, target: str | None = None) -> dict[str, int]:
        """Quarantined lines per reason."""
        q = sa.select(schema.quarantine.c.reason, sa.func.count()).group_by(schema.quarantine.c.reason)
        if target is not None:
            q = q.where(schema.quarantine.c.target == target)
        with self.engine.connect() as conn:
            return {r: int(n) for r, n in conn.execute(q).all()}
