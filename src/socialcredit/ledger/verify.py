"""Recompute both hash chains and name the first record or registry change that was altered,
removed or inserted.

For each chain, links must run ``seq = 1, 2, 3, ...`` without gaps; each ``prev_hash`` must be the
hash before it; each hash must be ``sha256(prev_hash + "\\n" + canonical)``; and the count and last
hash must match the chain head in ``meta``. For records, the query columns (``subject``,
``category``, ``day``...) must also say what the hashed canonical text says, since the engine reads
them. What this cannot catch: someone who rewrites the whole chain *and* the head. Publish the head
hash (``socialcredit verify`` prints it) to rule that out too.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.ledger import open_ledger
    >>> with open_ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db") as ledger:
    ...     verify(ledger).ok
    True
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from socialcredit.ledger import schema
from socialcredit.ledger.canonical import canonical_json_column
from socialcredit.ledger.chain import link_hash
from socialcredit.ledger.store import Ledger, _registry_key, open_ledger
from socialcredit.records import RECORD_FIELDS

__all__ = ["Problem", "VerifyReport", "verify"]

Chain = Literal["records", "registry_changes"]
_CHUNK = 50_000
_TEXT_FIELDS = [name for name in RECORD_FIELDS if name != "value"]


@dataclass(frozen=True)
class Problem:
    """The first broken link of a chain."""

    chain: Chain
    seq: int
    id: str | None
    kind: Literal["altered", "removed", "inserted"]
    message: str


@dataclass
class VerifyReport:
    """The outcome of :func:`verify`: counts, heads, and the first problem in each chain."""

    records: int = 0
    registry_changes: int = 0
    heads: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def message(self) -> str:
        """One line: ``intact`` or the first problem of each chain."""
        return "intact" if self.ok else "; ".join(p.message for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "intact": self.ok,
            "records": self.records,
            "registry_changes": self.registry_changes,
            "heads": self.heads,
            "problems": [asdict(p) for p in self.problems],
        }


def _chunks(ledger: Ledger, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    with ledger.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(_CHUNK):
                yield rows
        finally:
            cursor.close()


def _records_columns_agree(rows: list[tuple[Any, ...]]) -> list[bool]:
    """Per row: do the query columns rebuild exactly the stored canonical text?"""
    cols = list(zip(*rows, strict=True))
    # row layout: seq, id, canonical, hash, prev_hash, then RECORD_COLUMNS[5:]
    by_name = dict(zip(schema.RECORD_COLUMNS, cols, strict=True))
    arrays = {}
    for name in RECORD_FIELDS:
        typ = pa.float64() if name == "value" else pa.string()
        try:
            arrays[name] = pa.array(by_name[name], typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[name] = pa.array([None] * len(rows), typ)
    rebuilt = canonical_json_column(pa.table(arrays))
    same = pc.fill_null(pc.equal(rebuilt, pa.array(by_name["canonical"], pa.string())), False)
    day_ok = pc.fill_null(
        pc.equal(
            pc.utf8_slice_codeunits(arrays["occurred_at"], 0, 10),
            pa.array(by_name["day"], pa.string()),
        ),
        False,
    )
    return pc.and_(same, day_ok).to_pylist()


def _registry_columns_agree(rows: list[tuple[Any, ...]]) -> list[bool]:
    out = []
    for row in rows:
        try:
            out.append(_registry_key(json.loads(row[1])) == (row[4], row[5]))
        except (ValueError, KeyError, TypeError):
            out.append(False)
    return out


def _links(ledger: Ledger, chain: Chain) -> Iterator[tuple[int, str, str, str, str, bool]]:
    """(seq, id, hashed text, hash, prev_hash, columns agree) per link, in seq order."""
    if chain == "records":
        sql = f"SELECT {', '.join(schema.RECORD_COLUMNS)} FROM records ORDER BY seq"
        for rows in _chunks(ledger, sql):
            agree = _records_columns_agree(rows)
            for r, ok in zip(rows, agree, strict=True):
                yield r[0], r[1], r[2], r[3], r[4], ok
    else:
        sql = f"SELECT {', '.join(schema.REGISTRY_COLUMNS)} FROM registry_changes ORDER BY seq"
        for rows in _chunks(ledger, sql):
            agree = _registry_columns_agree(rows)
            for r, ok in zip(rows, agree, strict=True):
                yield r[0], r[5], r[1], r[2], r[3], ok


def _check_chain(ledger: Ledger, chain: Chain, recorded: dict[str, Any]) -> tuple[int, str, Problem | None]:
    """Walk one chain; return (links, head hash, first problem)."""
    what = "record" if chain == "records" else "registry change"
    count = int(recorded["count"])
    expected, head, before = 1, schema.GENESIS, None
    prev_id: str | None = None
    first_extra: str | None = None

    def problem(seq: int, rid: str | None, kind: str, message: str) -> tuple[int, str, Problem]:
        return expected - 1, head, Problem(chain, seq, rid, kind, message)  # type: ignore[arg-type]

    table = "records" if chain == "records" else "registry_changes"
    with ledger.engine.connect() as conn:
        rows = int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
    for seq, rid, text, stored, prev, ok in _links(ledger, chain):
        name = f"{what} seq {seq} (id {rid})"
        if seq < expected:
            return problem(seq, rid, "inserted", f"{name} was inserted: seqs start at 1")
        if seq > expected:
            gap = f"seq {expected}" if seq == expected + 1 else f"seqs {expected}-{seq - 1}"
            return problem(expected, None, "removed", f"{what} {gap} removed: the next is {name}")
        if prev != head:
            if before is not None and prev == before:
                return problem(
                    seq - 1,
                    prev_id,
                    "inserted",
                    f"{what} seq {seq - 1} (id {prev_id}) was inserted: {name} links past it",
                )
            if link_hash(prev, text) == stored and rows < count:
                return problem(
                    seq, rid, "removed", f"a {what} before {name} was removed: it links past a gap"
                )
            if link_hash(prev, text) == stored and before is not None:
                return problem(
                    seq - 1,
                    prev_id,
                    "altered",
                    f"{what} seq {seq - 1} (id {prev_id}) was altered and re-hashed: {name} no "
                    "longer links to it",
                )
            return problem(seq, rid, "altered", f"{name} was altered: its previous hash is wrong")
        if link_hash(head, text) != stored:
            return problem(seq, rid, "altered", f"{name} was altered: its hash does not match")
        if not ok:
            return problem(seq, rid, "altered", f"{name} was altered: its columns disagree with its content")
        if seq == count + 1:
            first_extra = rid
        before, head, prev_id = head, stored, rid
        expected += 1
    n = expected - 1
    last_id = recorded["last_id"]
    if count > n:
        if count == n + 1:
            return problem(count, last_id, "removed", f"{what} seq {count} (id {last_id}) removed")
        return problem(n + 1, None, "removed", f"{what}s seq {n + 1}-{count} (the last id {last_id}) removed")
    if count < n:
        return problem(
            count + 1,
            first_extra,
            "inserted",
            f"{what} seq {count + 1} (id {first_extra}) was inserted after the recorded head "
            f"(the ledger counted {count}, found {n})",
        )
    if head != recorded["head"]:
        return problem(
            n,
            prev_id,
            "altered",
            f"{what} seq {n} (id {prev_id}) was altered: the chain does not end at the recorded head",
        )
    return n, head, None


def verify(ledger: Ledger | str | Path) -> VerifyReport:
    """Recompute the chains of records and registry changes; report the first problem in each.

    ``ledger`` is an open :class:`Ledger`, or a path or URL (which must exist).
    """
    if not isinstance(ledger, Ledger):
        with open_ledger(ledger, create=False) as opened:
            return verify(opened)
    heads = ledger.heads()
    report = VerifyReport()
    for chain in ("records", "registry_changes"):
        n, head, problem = _check_chain(ledger, chain, heads[chain])  # type: ignore[arg-type]
        setattr(report, chain, n)
        report.heads[chain] = head
        if problem:
            report.problems.append(problem)
    return report
