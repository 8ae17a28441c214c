"""``ingest_files``: read record files in batches, validate, append to the ledger.

Each batch is validated column by column, then appended (with its rejects) in one transaction,
so a crash loses at most the open batch, and running the same ingest again stores every record
exactly once (the records already stored come back as duplicates).
"""

from __future__ import annotations

import datetime as dt
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
from sqlalchemy.exc import OperationalError

from socialcredit.errors import IngestError, LedgerError
from socialcredit.ingest.checks import Checks, check_batch
from socialcredit.ingest.readers import BATCH_SIZE, Batch, detect_format, progress_total
from socialcredit.ingest.readers import read_batches as _read_batches
from socialcredit.ingest.report import FileError, IngestReport
from socialcredit.ledger import Ledger, Reject, open_ledger
from socialcredit.records import RECORD_FIELDS

__all__ = ["ingest_batches", "ingest_files", "prefetch"]

T = TypeVar("T")

#: Fields and types of a record line, for reading JSONL batches in one go.
RECORD_SCHEMA = pa.schema(
    [(name, pa.float64() if name == "value" else pa.string()) for name in RECORD_FIELDS]
)

#: Files at least this large get a progress bar when standard error is a terminal.
PROGRESS_MIN_BYTES = 16 * 1024 * 1024


@contextmanager
def _progress(path: Path, enabled: bool | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on standard error for large files (``advance(position)``)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    show = enabled if enabled is not None else sys.stderr.isatty() and size >= PROGRESS_MIN_BYTES
    if not show or size == 0:
        yield lambda _position: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    try:
        fmt = detect_format(path)
    except OSError:
        yield lambda _position: None
        return
    total = progress_total(path, fmt)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(path.name, total=total or None)
        yield lambda position: bar.update(task, completed=position)


_DONE = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead.

    Reading and checking the next batch (pyarrow, which releases the GIL) then overlaps with
    writing this one (SQLite, which releases it too). An exception in the thread is raised here,
    in order; stopping early stops the thread.
    """
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((None, exc))
            return
        put((_DONE, None))

    thread = threading.Thread(target=produce, name="ingest-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = box.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def ingest_batches(
    ledger: Ledger,
    batches: Iterable[Batch],
    checks: Checks,
    report: IngestReport,
    *,
    advance: Callable[[int], None] | None = None,
) -> None:
    """Validate and append batches (one transaction each, in order), adding to ``report``;
    ``advance(batch.position)`` after each (a progress bar).

    The next batch is read and checked in a background thread while this one is written.
    """
    checked_batches = ((batch, check_batch(batch, checks)) for batch in batches)
    for batch, checked in prefetch(checked_batches):
        if advance is not None:
            advance(batch.position)
        if checked.valid is None:
            ledger.quarantine(checked.rejects, target="records")
            report.rejects += sorted(checked.rejects, key=lambda r: r.line)
            continue
        index = checked.index
        ids = checked.valid.table["id"]

        def conflict(j: int, _stored: str, batch: Batch = batch, index=index, ids=ids) -> Reject:
            i, rid = int(index[j]), ids[j].as_py()
            return Reject(
                batch.file,
                batch.lines[i],
                rid,
                "conflict",
                f"id {rid!r} is already in the ledger with other content: a correction is a "
                "new record with its own id and `corrects`",
                batch.raw(i),
            )

        result = ledger.write_records(checked.valid, rejects=checked.rejects, on_conflict=conflict)
        report.accepted += result.accepted
        report.duplicates += len(result.duplicates)
        report.rejects += sorted([*checked.rejects, *result.rejects], key=lambda r: r.line)


def ingest_files(
    ledger: Ledger | str | Path,
    files: Iterable[str | Path],
    *,
    now: dt.datetime | str | None = None,
    progress: bool | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestReport:
    """Ingest record files (JSONL, CSV or Parquet) into the ledger.

    Args:
        ledger: an open ledger, or the path or URL of one (created when missing).
        files: the files, read in order. A file that cannot be read is reported in
            :attr:`IngestReport.errors`; the other files are still ingested.
        now: the ingest clock for the ``future`` check (default: the current time); an
            ISO 8601 date or date-time, +08:00 when no offset is given.
        progress: show a progress bar (default: on large files when standard error is a
            terminal).
        batch_size: lines per batch and per transaction.

    Example:
        >>> import tempfile, pathlib
        >>> tmp = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (tmp / "r.jsonl").write_text('{"id": "r1"}\\n')
        >>> report = ingest_files(tmp / "ledger.db", [tmp / "r.jsonl"])
        >>> report.accepted, [(r.line, r.reason) for r in report.rejects], report.exit_code
        (0, [(1, 'missing_field')], 1)
    """
    if not isinstance(ledger, Ledger):
        with open_ledger(ledger) as opened:
            return ingest_files(opened, files, now=now, progress=progress, batch_size=batch_size)
    checks = Checks.load(ledger, now)
    report = IngestReport()
    for file in files:
        path = Path(file)
        try:
            with _progress(path, progress) as advance:
                batches = _read_batches(path, batch_size=batch_size, schema=RECORD_SCHEMA)
                ingest_batches(ledger, batches, checks, report, advance=advance)
        except IngestError as exc:
            report.errors.append(FileError(str(path), str(exc)))
        except (OperationalError, OSError) as exc:  # the disk is full, the ledger locked or gone
            raise LedgerError(write_failed(path, exc, report.accepted)) from None
    return report


def write_failed(path: Path, exc: BaseException, stored: int, what: str = "records") -> str:
    """One line for a ledger that could not be written (a full disk, a lock, an I/O error)."""
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (
        f"{path}: the ledger could not be written ({cause[0] if cause else type(exc).__name__}); "
        f"{stored} {what} of this run were stored, in whole batches, and nothing half-written "
        "is kept. Free space (or wait for the other writer) and run the same command again: "
        "what is stored counts as duplicates"
    )
