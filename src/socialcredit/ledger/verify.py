"""Recompute the three hash chains and check every signed Merkle tree head; name the first record,
registry change or action that was altered, removed, inserted or moved.

For each chain (records, registry changes, manual actions), links must run ``seq = 1, 2, 3, ...``
without gaps; each ``prev_hash`` must be the hash before it; each hash must be
``sha256(prev_hash + "\\n" + canonical)``; and the count and last hash must match the chain head in
``meta``. For records, the query columns (``subject``, ``category``, ``day``...) must also say what
the hashed canonical text says, since the engine reads them (likewise ``kind``, ``actor``,
``subject`` and ``at`` of actions, and the keys of registry changes).

What a hash chain alone cannot catch is someone who rewrites the whole chain *and* its head. The
signed tree heads (:mod:`socialcredit.ledger.proofs`) catch that: every stored head must carry a
valid Ed25519 signature (by ``public_key`` when given) and its root must be the root of the
Merkle tree of the first ``size`` leaves as the ledger holds them now; two heads that both match
one tree are consistent with each other (the older is a prefix of the newer). A head that no
longer matches names the span of seqs between it and the last head that still matches: a link
there was changed after it was signed.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.ledger import open_ledger
    >>> with open_ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db") as ledger:
    ...     verify(ledger).ok
    True
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from socialcredit.errors import LedgerError
from socialcredit.ledger import schema
from socialcredit.ledger.canonical import canonical_json_column
from socialcredit.ledger.chain import chain_hashes, link_hash
from socialcredit.ledger.merkle import MerkleTree, load_public_key, public_key_bytes, verify_tree_head
from socialcredit.ledger.proofs import TREE_CHAINS, leaf_hash_bytes, ledger_tree, stored_heads
from socialcredit.ledger.store import Ledger, _registry_key, open_ledger
from socialcredit.records import RECORD_FIELDS

__all__ = ["Problem", "VerifyReport", "verify"]

Chain = Literal["records", "registry_changes", "actions"]
#: Each chain's table, and what one link is called in messages.
_TABLES: dict[str, tuple[str, str]] = {
    "records": ("records", "record"),
    "registry_changes": ("registry_changes", "registry change"),
    "actions": ("actions", "action"),
}
_CHUNK = 50_000
_NO_LINKS = {"count": 0, "head": schema.GENESIS, "last_id": None}
_TEXT_FIELDS = [name for name in RECORD_FIELDS if name != "value"]


@dataclass(frozen=True)
class Problem:
    """The first broken link of a chain, or the first signed head of its tree that no longer
    holds (``head``: its row in ``tree_heads``; ``seq``: the first seq it may concern)."""

    chain: Chain
    seq: int
    id: str | None
    kind: Literal["altered", "removed", "inserted", "reordered", "rewritten", "forged"]
    message: str
    head: int | None = None


@dataclass
class VerifyReport:
    """The outcome of :func:`verify`: counts, heads, and the first problem in each chain."""

    records: int = 0
    registry_changes: int = 0
    actions: int = 0
    tree_heads: int = 0  #: signed heads checked
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
            "actions": self.actions,
            "tree_heads": self.tree_heads,
            "heads": self.heads,
            "problems": [asdict(p) for p in self.problems],
        }


def _chunks(ledger: Ledger, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    with ledger.engine.connect() as conn:
        cursor = ledger.read_cursor(conn)  # PostgreSQL: server-side, a chunk at a time
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


def _actions_columns_agree(rows: list[tuple[Any, ...]]) -> list[bool]:
    # row layout: seq, line, hash, prev_hash, kind, actor, subject, at
    out = []
    for row in rows:
        try:
            line = json.loads(row[1])
            out.append((line["kind"], line["actor"], line.get("subject"), line["at"]) == tuple(row[4:8]))
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
    elif chain == "registry_changes":
        sql = f"SELECT {', '.join(schema.REGISTRY_COLUMNS)} FROM registry_changes ORDER BY seq"
        for rows in _chunks(ledger, sql):
            agree = _registry_columns_agree(rows)
            yield [(r[0], r[5], r[1], r[2], r[3], ok) for r, ok in zip(rows, agree, strict=True)]
    else:
        sql = f"SELECT {', '.join(schema.ACTION_COLUMNS)} FROM actions ORDER BY seq"
        for rows in _chunks(ledger, sql):
            agree = _actions_columns_agree(rows)
            yield [(r[0], r[4], r[1], r[2], r[3], ok) for r, ok in zip(rows, agree, strict=True)]


def _purged_link(text: str) -> str | None:
    """The link hash a purged record's tombstone keeps (socialcredit.dueprocess.retention): the
    content is gone, the hash the next link was chained to stays. ``None`` for any other text."""
    if '"purged":{' not in text:
        return None
    try:
        kept = json.loads(text)["purged"]["link_hash"]
    except (ValueError, KeyError, TypeError):
        return None
    return kept if isinstance(kept, str) else None


def _purged_id(text: str) -> str | None:
    try:
        return json.loads(text).get("id")
    except (ValueError, AttributeError):
        return None


def _recorded_purges(ledger: Ledger) -> set[tuple[int, str]]:
    """(seq, link hash) of each ``record.purged`` action: a tombstone must be one of them."""
    t = schema.actions
    with ledger.engine.connect() as conn:
        lines = conn.execute(sa.select(t.c.line).where(t.c.kind == "record.purged")).scalars().all()
    out = set()
    for line in lines:
        try:
            payload = json.loads(line)["payload"]
            out.add((int(payload["seq"]), str(payload["link_hash"])))
        except (ValueError, KeyError, TypeError):
            continue
    return out


class _Walk:
    """The state of a walk along one chain."""

    def __init__(
        self, chain: Chain, recorded: dict[str, Any], rows: int, find: Callable[[str], int | None]
    ) -> None:
        self.chain = chain
        self.find = find  # the seq of the link with a given hash, if any
        self.what = _TABLES[chain][1]
        self.count = int(recorded["count"])  # links the head says there are
        self.rows = rows  # links actually in the table
        self.expected, self.head, self.before = 1, schema.GENESIS, None
        self.prev_id: str | None = None
        self.first_extra: str | None = None
        #: (seq, link hash) of every purge the actions chain records (loaded at the first tombstone)
        self.purges: Callable[[], set[tuple[int, str]]] = set

    def problem(self, seq: int, rid: str | None, kind: str, message: str) -> Problem:
        return Problem(self.chain, seq, rid, kind, message)  # type: ignore[arg-type]

    def intact(self, links: list[tuple[Any, ...]]) -> bool:
        """The fast check of a whole chunk: contiguous seqs, every hash and link right."""
        seqs = [link[0] for link in links]
        if seqs != list(range(self.expected, self.expected + len(links))):
            return False
        if any('"purged":{' in link[2] for link in links):
            return False  # a purged record's tombstone: checked link by link (step)
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
            elsewhere = self.find(prev) if self_consistent else None
            if elsewhere is not None and elsewhere != seq - 1:
                return self.problem(
                    seq,
                    rid,
                    "reordered",
                    f"{name} is out of place: it follows {what} seq {elsewhere}, not seq {seq - 1}",
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
        kept = _purged_link(text) if self.chain == "records" else None
        if (kept or link_hash(self.head, text)) != stored:
            return self.problem(seq, rid, "altered", f"{name} was altered: its hash does not match")
        if not ok and kept is None:
            return self.problem(
                seq, rid, "altered", f"{name} was altered: its columns disagree with its content"
            )
        if kept is not None and ((seq, stored) not in self.purges() or _purged_id(text) != rid):
            return self.problem(
                seq,
                rid,
                "altered",
                f"{name} was emptied as if purged, but no record.purged action accounts for it",
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


def _check_chain(
    ledger: Ledger, chain: Chain, recorded: dict[str, Any], leaves: bytearray | None = None
) -> tuple[int, str, Problem | None]:
    """Walk one chain; return (links, head hash, first problem). With ``leaves``, the Merkle leaf
    hashes of the links walked are appended to it (all of them when there is no problem)."""
    table = _TABLES[chain][0]
    with ledger.engine.connect() as conn:
        rows = int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())

    def find(link: str) -> int | None:
        with ledger.engine.connect() as conn:
            sql = f"SELECT seq FROM {table} WHERE hash = {ledger.mark}"
            row = conn.exec_driver_sql(sql, (link,)).first()
        return int(row[0]) if row else None

    walk = _Walk(chain, recorded, rows, find)
    if chain == "records":
        walk.purges = functools.cache(lambda: _recorded_purges(ledger))
    for links in _link_chunks(ledger, chain):
        if leaves is not None:
            leaves += leaf_hash_bytes([link[2] for link in links])
        if walk.intact(links):
            continue
        for link in links:
            found = walk.step(*link)
            if found:
                return walk.expected - 1, walk.head, found
    return walk.expected - 1, walk.head, walk.end(recorded["head"], recorded["last_id"])


def _check_heads(
    tree: str, merkle: MerkleTree, heads: list[Any], public_key: bytes | None
) -> tuple[int, Problem | None]:
    """Check each stored head of one tree against the tree; return (heads, first problem)."""
    chain: Chain = TREE_CHAINS[tree]  # type: ignore[assignment]
    what = _TABLES[chain][1]
    good = 0  # the size of the largest head that still matches
    for stored in heads:
        h = stored.head
        name = f"the signed {tree} tree head #{stored.hid} (size {h.size}, signed at {h.timestamp} ms)"
        if public_key is not None and stored.public_key != public_key:
            return len(heads), Problem(
                chain, max(h.size, 1), None, "forged", f"{name} was signed by another key", stored.hid
            )
        if not verify_tree_head(stored.public_key, h):
            return len(heads), Problem(
                chain, max(h.size, 1), None, "forged", f"{name} has an invalid signature", stored.hid
            )
        low = good if good < h.size else 0  # leaves up to ``good`` are vouched for
        if h.size > merkle.size:
            return len(heads), Problem(
                chain,
                low + 1,
                None,
                "removed",
                f"{name}: the tree has {merkle.size} leaves now, fewer than were signed: a {what} "
                f"among seqs {low + 1}-{h.size} was removed",
                stored.hid,
            )
        if merkle.root(h.size) != h.root:
            return len(heads), Problem(
                chain,
                low + 1,
                None,
                "rewritten",
                f"{name} no longer matches the ledger: a {what} among seqs {low + 1}-{h.size} was "
                "altered, removed, inserted or moved after it was signed"
                + (f" (the head of size {good} still matches)" if low else ""),
                stored.hid,
            )
        good = max(good, h.size)
    return len(heads), None


def verify(ledger: Ledger | str | Path, *, public_key: bytes | str | None = None) -> VerifyReport:
    """Recompute the chains of records, registry changes and actions and check every stored
    signed tree head; report the first problem in each chain and in each tree's heads.

    ``ledger`` is an open :class:`Ledger`, or a path or URL (which must exist). ``public_key``
    (raw, hex or PEM): the key every head must be signed by (default: the key stored with each).
    """
    if not isinstance(ledger, Ledger):
        with open_ledger(ledger, create=False) as opened:
            return verify(opened, public_key=public_key)
    expected_key = None
    if public_key is not None:
        try:
            expected_key = public_key_bytes(load_public_key(public_key))
        except (ValueError, TypeError) as exc:
            raise LedgerError(f"not an Ed25519 public key (hex, or PEM): {exc}") from None
    heads = ledger.heads()
    signed = stored_heads(ledger)
    report = VerifyReport()
    for tree, chain in TREE_CHAINS.items():
        recorded = heads.get(chain, _NO_LINKS)  # the actions chain has a row from its first action
        mine = [h for h in signed if h.head.tree == tree]
        leaves = bytearray() if mine else None
        n, head, problem = _check_chain(ledger, chain, recorded, leaves)  # type: ignore[arg-type]
        setattr(report, chain, n)
        report.heads[chain] = head
        if problem:
            report.problems.append(problem)
        if mine:
            merkle = ledger_tree(ledger, tree) if problem else MerkleTree.from_leaf_hash_bytes(leaves or b"")
            checked, bad = _check_heads(tree, merkle, mine, expected_key)
            report.tree_heads += checked
            if bad:
                report.problems.append(bad)
    return report
