"""Merkle trees over a ledger: tree heads and inclusion proofs for its records.

Two trees, both RFC 6962 (:mod:`socialcredit.ledger.merkle`): ``records``, whose leaves are the
records' canonical JSON (UTF-8) in ``seq`` order, and ``registry``, whose leaves are the
registry changes' canonical lines in ``seq`` order. Leaf ``i`` is the row with ``seq = i + 1``.
Only reads: the leaves come through a read-only query on the ledger's engine.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.ledger import open_ledger
    >>> with open_ledger(pathlib.Path(tempfile.mkdtemp()) / "ledger.db") as ledger:
    ...     _ = ledger.append_records([{"id": "r1", "subject": "S", "category": "c.x",
    ...                                 "occurred_at": "2018-03-01", "source": "src"}])
    ...     proof = record_inclusion_proof(ledger, "r1")
    ...     (proof.index, proof.size, proof.verify())
    (0, 1, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from socialcredit.errors import LedgerError
from socialcredit.ledger.merkle import MerkleTree, TreeHead, leaf_hash, sign_tree_head, verify_inclusion
from socialcredit.ledger.store import Ledger

__all__ = ["TREES", "InclusionProof", "ledger_tree", "record_inclusion_proof", "tree_head"]

#: Tree name -> the query that yields its leaves in order.
TREES: dict[str, str] = {
    "records": "SELECT canonical FROM records ORDER BY seq",
    "registry": "SELECT line FROM registry_changes ORDER BY seq",
}
_FETCH = 100_000


def ledger_tree(ledger: Ledger, tree: str = "records") -> MerkleTree:
    """The Merkle tree of ``tree`` (``records`` or ``registry``) as the ledger holds it now."""
    if tree not in TREES:
        raise LedgerError(f"no tree {tree!r}: use one of {sorted(TREES)}")
    hashes: list[bytes] = []
    with ledger.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(TREES[tree])
            while rows := cursor.fetchmany(_FETCH):
                hashes += [leaf_hash(r[0].encode()) for r in rows]
        finally:
            cursor.close()
    return MerkleTree.from_leaf_hashes(hashes)


def tree_head(
    ledger: Ledger, key: Ed25519PrivateKey, *, tree: str = "records", timestamp: int | None = None
) -> TreeHead:
    """A signed head of the ledger's ``tree`` now (``timestamp`` in ms since 1970 UTC; default now)."""
    merkle = ledger_tree(ledger, tree)
    when = int(time.time() * 1000) if timestamp is None else timestamp
    return sign_tree_head(key, merkle.size, merkle.root(), when, tree=tree)


@dataclass(frozen=True)
class InclusionProof:
    """A record, where it stands in the records tree, and the audit path to the root."""

    record_id: str
    index: int  #: leaf index (``seq - 1``)
    size: int  #: the tree size the proof is for
    leaf: str  #: the record's canonical JSON, the leaf itself
    path: list[bytes]
    root: bytes

    def verify(self, root: bytes | None = None) -> bool:
        """Whether the path leads from the leaf to ``root`` (default: the root it carries;
        pass the root of a signed tree head to check against that instead)."""
        expected = self.root if root is None else root
        return verify_inclusion(leaf_hash(self.leaf.encode()), self.index, self.size, self.path, expected)

    def to_dict(self) -> dict[str, Any]:
        """The published form (hashes in hex)."""
        return {
            "tree": "records",
            "record_id": self.record_id,
            "index": self.index,
            "size": self.size,
            "leaf": self.leaf,
            "leaf_hash": leaf_hash(self.leaf.encode()).hex(),
            "path": [p.hex() for p in self.path],
            "root": self.root.hex(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InclusionProof:
        """Read back :meth:`to_dict`'s form."""
        return cls(
            record_id=str(data["record_id"]),
            index=int(data["index"]),
            size=int(data["size"]),
            leaf=str(data["leaf"]),
            path=[bytes.fromhex(p) for p in data["path"]],
            root=bytes.fromhex(data["root"]),
        )


def record_inclusion_proof(
    ledger: Ledger, record_id: str, *, size: int | None = None, merkle: MerkleTree | None = None
) -> InclusionProof:
    """The inclusion proof of record ``record_id`` in the records tree of ``size`` leaves
    (default: the whole ledger). Pass ``merkle`` (from :func:`ledger_tree`) to reuse a tree.

    Raises:
        LedgerError: no such record, or it is not among the first ``size`` leaves.
    """
    with ledger.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT seq, canonical FROM records WHERE id = ?", (record_id,)).first()
    if row is None:
        raise LedgerError(f"no record {record_id!r} in the ledger")
    seq, canonical = int(row[0]), str(row[1])
    merkle = merkle if merkle is not None else ledger_tree(ledger, "records")
    size = merkle.size if size is None else size
    index = seq - 1
    if not 0 <= index < size <= merkle.size:
        raise LedgerError(f"record {record_id!r} (seq {seq}) is not in a records tree of {size}")
    return InclusionProof(
        record_id=record_id,
        index=index,
        size=size,
        leaf=canonical,
        path=merkle.inclusion_proof(index, size),
        root=merkle.root(size),
    )
