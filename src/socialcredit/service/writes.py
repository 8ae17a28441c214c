"""Writes through the API: records and registry lines from a request body, validated by ingest.

A thin adapter over :mod:`socialcredit.ingest`: a request's items become one in-memory
:class:`~socialcredit.ingest.Batch` (line ``n`` is the ``n``-th item, 1-based), checked exactly
as a file would be, with the same reject reasons and partial success; rejects go to the
quarantine under the file name ``api:<token id>``. A ``source`` token adds one rule: it writes
only for its own source, so a record naming another source is rejected as
``unauthorized_source`` (checked in its place in the reason order).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from functools import cache
from typing import Any

import pyarrow as pa

from socialcredit.ingest import IngestReport
from socialcredit.ingest.checks import Checks, check_batch
from socialcredit.ingest.readers import Batch
from socialcredit.ingest.registry_import import _import_batch
from socialcredit.ledger import Ledger, Reject
from socialcredit.vocabulary import vocabulary

__all__ = ["batch_of", "store_records", "store_registry"]

_SEP = "\x1f"


def batch_of(file: str, items: Sequence[dict[str, Any]]) -> Batch:
    """A request's items as an ingest batch (raw text ASCII-escaped, as the checks expect)."""
    raws = [json.dumps(item, ensure_ascii=True, default=str) for item in items]
    return Batch(file, list(range(1, len(items) + 1)), rows=list(items), raws=raws)


@cache
def _pairs_of(source: str) -> pa.Array:
    """The authorised ``source\\x1fcategory`` pairs of one source (as ingest's checks spell them)."""
    return pa.array([f"{source}{_SEP}{c}" for c in vocabulary().categories_for(source)], pa.string())


def store_records(
    ledger: Ledger,
    items: Sequence[dict[str, Any]],
    checks: Checks,
    *,
    file: str,
    only_source: str | None = None,
) -> IngestReport:
    """Validate and append records in one transaction; quarantine the rejects."""
    report = IngestReport()
    if not items:
        return report
    batch = batch_of(file, items)
    if only_source is not None:
        checks = dataclasses.replace(checks, pairs=_pairs_of(only_source))
    checked = check_batch(batch, checks)
    rejects = checked.rejects
    if only_source is not None:
        rejects = [_own_source(r, items, only_source) for r in rejects]
    if checked.valid is None:
        ledger.quarantine(rejects, target="records")
        report.rejects = sorted(rejects, key=lambda r: r.line)
        return report
    index, table_ids = checked.index, checked.valid.table["id"]

    def conflict(j: int, _stored: str) -> Reject:
        i, rid = int(index[j]), table_ids[j].as_py()
        return Reject(
            file,
            batch.lines[i],
            rid,
            "conflict",
            f"id {rid!r} is already in the ledger with other content: a correction is a new "
            "record with its own id and `corrects`",
            batch.raw(i),
        )

    result = ledger.write_records(checked.valid, rejects=rejects, on_conflict=conflict)
    report.accepted = result.accepted
    report.duplicates = len(result.duplicates)
    report.rejects = sorted([*rejects, *result.rejects], key=lambda r: r.line)
    return report


def _own_source(reject: Reject, items: Sequence[dict[str, Any]], source: str) -> Reject:
    """Say why a record naming another source was refused to a source token."""
    if reject.reason != "unauthorized_source":
        return reject
    named = items[reject.line - 1].get("source")
    if named == source:
        return reject  # its own source, but a category it may not report: the ingest message
    return dataclasses.replace(
        reject,
        message=f"this token writes for source {source!r} only; the record names {named!r}",
    )


def store_registry(ledger: Ledger, items: Sequence[dict[str, Any]], *, file: str) -> IngestReport:
    """Validate and append registry lines (subjects before the relations that name them)."""
    report = IngestReport()
    if items:
        _import_batch(ledger, batch_of(file, items), set(), report)
    return report
