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
from socialcredit.ledger.chain import chain_hashes, link_hash
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


def _link_chunks(ledger: Ledger, chain: Chain) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of (seq, id, hashed text, hash, prev_hash, columns agree), in seq order."""
    if chain == "records":
        sql = f"SELECT {', '.join(schema.RECORD_COLUMNS)} FROM records ORDER BY seq"
        for rows in _chunks(ledger, sql):
            agree = _records_columns_agree(rows)
            yield [(r[0], r[1], r[2], r[3], r[4], ok) for r, ok in zip(rows, agree, strict=True)]
    else:
        sql = f"SELECT {', '.join(schema.REGISTRY_COLUMNS)} FROM registry_changes ORDER BY seq"
        for rows in _chunks(ledger, sql):
            agree = _registry_columns_agree(rows)
            yield [(r[0], r[5], r[1], r[2], r[3], ok) for r, ok in zip(rows, agree, strict=True)]


class _Walk:
    """The state of a walk along one chain."""

    def __init__(self, chain: Chain, recorded: dict[str, Any], rows: int) -> None:
        self.chain = chain
        self.what = "record" if chain == "records" else "registry change"
        self.count = int(recorded["count"])  # links the head says there are
        self.rows = rows  # links actually in the table
        self.expected, self.head, self.before = 1, schema.GENESIS, None
        self.prev_id: str | None = None
        self.first_extra: str | None = None

    def problem(self, seq: int, rid: str | None, kind: str, message: str) -> Problem:
        return Problem(self.chain, seq, rid, kind, message)  # type: ignore[arg-type]

    def intact(self, links: list[tuple[Any, ...]]) -> bool:
        """The fast check of a whole chunk: contiguous seqs, every hash and link right."""
        seqs = [link[0] for link in links]
        if seqs != list(range(self.expected, self.expected + len(links))):
            return False
        computed = chain_hashes(self.head, [link[2] for link in links])
        if computed != [link[3] for link in links]:
            return False
        if [link[4] for link in links] != [self.head, *computed[:-1]]:
            return False
        if not all(link[5] for link in links):
            return False
        if self.expected <= self.count + 1 < self.expected + len(links):
            self.first_extra = links[self.count + 1 - self.expected][1]
        self.before = computed[-2] if len(links) > 1 else self.head
        self.head, self.prev_id = computed[-1], links[-1][1]
        self.expected += len(links)
        return True

    def step(self, seq: int, rid: str, text: str, stored: str, prev: str, ok: bool) -> Problem | None:
        """Check one link (after a chunk failed the fast check): the first problem, or None."""
        what, name = self.what, f"{self.what} seq {seq} (id {rid})"
        if seq < self.expected:
            return self.problem(seq, rid, "inserted", f"{name} was inserted: seqs start at 1")
        if seq > self.expected:
            e = self.expected
            gap = f"seq {e}" if seq == e + 1 else f"seqs {e}-{seq - 1}"
            return self.problem(e, None, "removed", f"{what} {gap} removed: the next is {name}")
        if prev != self.head:
            if self.before is not None and prev == self.before:
                return self.problem(
                    seq - 1,
                    self.prev_id,
                    "inserted",
                    f"{what} seq {seq - 1} (id {self.prev_id}) was inserted: {name} links past it",
                )
            self_consistent = link_hash(prev, text) == stored
            if self_consistent and self.rows < self.count:
                return self.problem(
                    seq, rid, "removed", f"a {what} before {name} was removed: it links past a gap"
                )
            if self_consistent and self.before is not None:
                return self.problem(
                    seq - 1,
                    self.prev_id,
                    "altered",
                    f"{what} seq {seq - 1} (id {self.prev_id}) was altered and re-hashed: {name} "
                    "no longer links to it",
                )
            return self.problem(seq, rid, "altered", f"{name} was altered: its previous hash is wrong")
        if link_hash(self.head, text) != stored:
            return self.problem(seq, rid, "altered", f"{name} was altered: its hash does not match")
        if not ok:
            return self.problem(
                seq, rid, "altered", f"{name} was altered: its columns disagree with its content"
            )
        if seq == self.count + 1:
            self.first_extra = rid
        self.before, self.head, self.prev_id = self.head, stored, rid
        self.expected += 1
        return None

    def end(self, recorded_head: str, last_id: str | None) -> Problem | None:
        """Compare the end of the walk with the recorded head."""
        what, n, count = self.what, self.expected - 1, self.count
        if count > n:
            if count == n + 1:
                return self.problem(count, last_id, "removed", f"{what} seq {count} (id {last_id}) removed")
            return self.problem(
                n + 1, None, "removed", f"{what}s seq {n + 1}-{count} (the last id {last_id}) removed"
            )
        if count < n:
            return self.problem(
                count + 1,
                self.first_extra,
                "inserted",
                f"{what} seq {count + 1} (id {self.first_extra}) was inserted after the recorded "
                f"head (the ledger counted {count}, found {n})",
            )
        if self.head != recorded_head:
            return self.problem(
                n,
                self.prev_id,
                "altered",
                f"{what} seq {n} (id {self.prev_id}) was altered: the chain does not end at the "
                "recorded head",
            )
        return None


def _check_chain(ledger: Ledger, chain: Chain, recorded: dict[str, Any]) -> tuple[int, str, Problem | None]:
    """Walk one chain; return (links, head hash, first problem)."""
    table = "records" if chain == "records" else "registry_changes"
    with ledger.engine.connect() as conn:
        rows = int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
    walk = _Walk(chain, recorded, rows)
    for links in _link_chunks(ledger, chain):
        if walk.intact(links):
            continue
        for link in links:
            found = walk.step(*link)
            if found:
                return walk.expected - 1, walk.head, found
    return walk.expected - 1, walk.head, walk.end(recorded["head"], recorded["last_id"])


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
