"""Merkle trees over a ledger: signed tree heads, inclusion proofs, and their offline check.

Three trees, all RFC 6962 (:mod:`socialcredit.ledger.merkle`), one per chain: ``records`` (leaves:
the records' canonical JSON, UTF-8, in ``seq`` order), ``registry`` (the registry changes'
canonical lines) and ``actions`` (the manual actions' canonical lines). Leaf ``i`` is the row
with ``seq = i + 1``.

**Signed heads** are made on demand, not by the writer: :func:`sign_heads` (``socialcredit proof
--sign-head --key PATH``) signs the head of each tree with the Ed25519 key in a file outside the
database and stores it in ``tree_heads``, with the public key. Everything stored is published
(``GET /v1/tree-heads``, the portal's ``/transparency``), so anyone can keep copies and check that
a later head extends an earlier one (a consistency proof) and that a record is in a head (an
inclusion proof). ``verify`` checks every stored head against the trees.

**Proof files** are JSON a subject can keep and check without the database or trusting the
operator: :func:`subject_proofs` (the API's ``/v1/subjects/{id}/proofs``, the portal's
``/my/proofs.json``) and ``socialcredit proof RECORD_ID --json`` make them;
:func:`check_proofs` (``socialcredit proof --check FILE --public-key KEY``) needs only the file
and the public key.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.ledger import open_ledger
    >>> from socialcredit.ledger.merkle import load_or_create_key, public_key_bytes
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> key = load_or_create_key(tmp / "signing.key")
    >>> with open_ledger(tmp / "ledger.db") as ledger:
    ...     _ = ledger.append_records([{"id": "r1", "subject": "S", "category": "c.x",
    ...                                 "occurred_at": "2018-03-01", "source": "src"}])
    ...     heads = sign_heads(ledger, key, timestamp=1)
    ...     bundle = subject_proofs(ledger, "S")
    >>> [(h.head.tree, h.head.size) for h in heads]
    [('records', 1), ('registry', 0), ('actions', 0)]
    >>> check_proofs(bundle, public_key_bytes(key)).ok
    True
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from socialcredit.errors import LedgerError
from socialcredit.ledger import schema
from socialcredit.ledger.merkle import (
    MerkleTree,
    TreeHead,
    leaf_hash,
    load_public_key,
    public_key_bytes,
    sign_tree_head,
    verify_consistency,
    verify_inclusion,
    verify_tree_head,
)
from socialcredit.ledger.store import Ledger

__all__ = [
    "BUNDLE_FORMAT",
    "TREES",
    "TREE_CHAINS",
    "InclusionProof",
    "ProofCheck",
    "StoredHead",
    "TreeCache",
    "check_proofs",
    "consistency_bundle",
    "latest_head",
    "leaf_hash_bytes",
    "ledger_tree",
    "load_proof_file",
    "record_inclusion_proof",
    "sign_heads",
    "stored_heads",
    "subject_proofs",
    "tree_head",
]

#: Tree name -> (table, the column hashed as the leaf).
_TREE_TABLES: dict[str, tuple[str, str]] = {
    "records": ("records", "canonical"),
    "registry": ("registry_changes", "line"),
    "actions": ("actions", "line"),
}
#: Tree name -> the query that yields its leaves in order.
TREES: dict[str, str] = {
    name: f"SELECT {col} FROM {t} ORDER BY seq" for name, (t, col) in _TREE_TABLES.items()
}
#: Tree name -> the chain (row of ``meta``, chain in ``verify``) it is built over.
TREE_CHAINS: dict[str, str] = {"records": "records", "registry": "registry_changes", "actions": "actions"}
#: The ``format`` of a proof file.
BUNDLE_FORMAT = "socialcredit-proofs/1"
_FETCH = 100_000


def leaf_hash_bytes(texts: Iterable[str]) -> bytes:
    """The RFC 6962 leaf hashes of UTF-8 texts, concatenated (32 bytes each)."""
    sha = hashlib.sha256
    return b"".join([_purged_leaf(t) or sha(b"\x00" + t.encode()).digest() for t in texts])


def _purged_leaf(text: str) -> bytes | None:
    """The leaf hash a purged record's tombstone keeps (socialcredit.dueprocess.retention), so
    the tree and its signed heads stay the same after a purge; ``None`` for any other text."""
    if '"purged":{' not in text:
        return None
    try:
        return bytes.fromhex(json.loads(text)["purged"]["leaf_hash"])
    except (ValueError, KeyError, TypeError):
        return None


def _check_tree(tree: str) -> None:
    if tree not in TREES:
        raise LedgerError(f"no tree {tree!r}: use one of {', '.join(TREES)}")


def _leaf_chunks(ledger: Ledger, tree: str, after: int = 0) -> Iterator[list[str]]:
    table, col = _TREE_TABLES[tree]
    sql = f"SELECT {col} FROM {table} WHERE seq > {int(after)} ORDER BY seq"
    with ledger.engine.connect() as conn:
        cursor = ledger.read_cursor(conn)  # PostgreSQL: server-side, a chunk at a time
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(_FETCH):
                yield [r[0] for r in rows]
        finally:
            cursor.close()


def ledger_tree(ledger: Ledger, tree: str = "records") -> MerkleTree:
    """The Merkle tree of ``tree`` (``records``, ``registry`` or ``actions``) as the ledger
    holds it now."""
    _check_tree(tree)
    buf = bytearray()
    for texts in _leaf_chunks(ledger, tree):
        buf += leaf_hash_bytes(texts)
    return MerkleTree.from_leaf_hash_bytes(buf)


class TreeCache:
    """Trees kept in memory between requests (the service), grown by the links appended since.

    A tree is rebuilt when its chain's head count went down (a different ledger); otherwise the
    new leaves are appended. A database edit of an old leaf does not reach a cached tree, and
    need not: proofs read the leaf itself from the database, so an edited record's proof fails
    against the signed head all the same, and ``verify`` reads everything again.
    """

    def __init__(self) -> None:
        self._trees: dict[tuple[str, str], MerkleTree] = {}
        self._lock = threading.Lock()

    def tree(self, ledger: Ledger, tree: str = "records") -> MerkleTree:
        _check_tree(tree)
        count = int(ledger.heads().get(TREE_CHAINS[tree], {"count": 0})["count"])
        key = (ledger.url, tree)
        with self._lock:
            merkle = self._trees.get(key)
            if merkle is None or merkle.size > count:
                merkle = self._trees[key] = ledger_tree(ledger, tree)
            elif merkle.size < count:
                for texts in _leaf_chunks(ledger, tree, after=merkle.size):
                    for text in texts:
                        merkle.append_hash(_purged_leaf(text) or leaf_hash(text.encode()))
            return merkle


#: The service's cache (one per process).
CACHE = TreeCache()


def tree_head(
    ledger: Ledger, key: Ed25519PrivateKey, *, tree: str = "records", timestamp: int | None = None
) -> TreeHead:
    """A signed head of the ledger's ``tree`` now (``timestamp`` in ms since 1970 UTC; default now).
    Not stored: :func:`sign_heads` signs and stores."""
    merkle = ledger_tree(ledger, tree)
    when = int(time.time() * 1000) if timestamp is None else timestamp
    return sign_tree_head(key, merkle.size, merkle.root(), when, tree=tree)


# -- stored heads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredHead:
    """A signed tree head as ``tree_heads`` keeps it: its row id and the key that signed it."""

    hid: int
    head: TreeHead
    public_key: bytes

    def to_dict(self) -> dict[str, Any]:
        """The published form: ``hid``, the head's fields (hex) and ``public_key`` (hex)."""
        return {"hid": self.hid, **self.head.to_dict(), "public_key": self.public_key.hex()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredHead:
        return cls(int(data.get("hid", 0)), TreeHead.from_dict(dict(data)), bytes.fromhex(data["public_key"]))


def sign_heads(
    ledger: Ledger,
    key: Ed25519PrivateKey,
    *,
    trees: Sequence[str] | None = None,
    timestamp: int | None = None,
    cache: TreeCache | None = None,
) -> list[StoredHead]:
    """Sign the current head of each tree (default: all three) and store it in ``tree_heads``.

    The heads are stored under the ledger's write lock, so nothing is appended between reading
    a tree and storing its head. Each tree is read whole, or, with ``cache`` (a writer that signs
    after every batch), grown by the leaves appended since the last time.
    """
    names = list(trees or TREES)
    for name in names:
        _check_tree(name)
    when = int(time.time() * 1000) if timestamp is None else timestamp
    public = public_key_bytes(key)

    def work(conn: sa.Connection) -> list[StoredHead]:
        out = []
        for name in names:
            merkle = cache.tree(ledger, name) if cache is not None else _tree_in(conn, name)
            head = sign_tree_head(key, merkle.size, merkle.root(), when, tree=name)
            result = conn.execute(
                schema.tree_heads.insert().values(
                    tree=name,
                    size=head.size,
                    root=head.root.hex(),
                    timestamp=head.timestamp,
                    signature=head.signature.hex(),
                    public_key=public.hex(),
                )
            )
            out.append(StoredHead(int(result.inserted_primary_key[0]), head, public))
        return out

    return ledger._write(work)  # type: ignore[no-any-return]


def _tree_in(conn: sa.Connection, tree: str) -> MerkleTree:
    """The tree of ``tree`` read through an open connection (inside the write transaction)."""
    table, col = _TREE_TABLES[tree]
    t = sa.table(table, sa.column("seq"), sa.column(col))
    result = conn.execute(sa.select(t.c[col]).order_by(t.c.seq).execution_options(yield_per=_FETCH))
    buf = bytearray()
    for part in result.partitions():
        buf += leaf_hash_bytes([r[0] for r in part])
    return MerkleTree.from_leaf_hash_bytes(buf)


def _row_head(row: Any) -> StoredHead:
    m = row._mapping
    head = TreeHead(
        size=int(m["size"]),
        root=bytes.fromhex(m["root"]),
        timestamp=int(m["timestamp"]),
        signature=bytes.fromhex(m["signature"]),
        tree=str(m["tree"]),
    )
    return StoredHead(int(m["hid"]), head, bytes.fromhex(m["public_key"]))


def stored_heads(
    ledger: Ledger, *, tree: str | None = None, after: int = 0, limit: int | None = None
) -> list[StoredHead]:
    """Every stored signed head (of ``tree``, or all), oldest first, with ``hid > after``."""
    t = schema.tree_heads
    q = sa.select(t).where(t.c.hid > after).order_by(t.c.hid)
    if tree is not None:
        q = q.where(t.c.tree == tree)
    if limit is not None:
        q = q.limit(max(int(limit), 0))
    with ledger.engine.connect() as conn:
        return [_row_head(r) for r in conn.execute(q)]


def latest_head(ledger: Ledger, tree: str = "records", *, size: int | None = None) -> StoredHead | None:
    """The newest stored head of ``tree`` (of exactly ``size`` leaves, when given), or ``None``."""
    t = schema.tree_heads
    q = sa.select(t).where(t.c.tree == tree).order_by(t.c.hid.desc()).limit(1)
    if size is not None:
        q = q.where(t.c.size == size)
    with ledger.engine.connect() as conn:
        row = conn.execute(q).first()
    return _row_head(row) if row is not None else None


# -- inclusion proofs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InclusionProof:
    """A leaf (a record, a registry change, an action), where it stands in its tree, and the
    audit path to the root of the tree of ``size`` leaves."""

    record_id: str  #: the record id (for other trees: ``seq N``)
    index: int  #: leaf index (``seq - 1``)
    size: int  #: the tree size the proof is for
    leaf: str  #: the canonical JSON, the leaf itself
    path: list[bytes]
    root: bytes
    tree: str = "records"

    def verify(self, root: bytes | None = None) -> bool:
        """Whether the path leads from the leaf to ``root`` (default: the root it carries;
        pass the root of a signed tree head to check against that instead)."""
        expected = self.root if root is None else root
        return verify_inclusion(leaf_hash(self.leaf.encode()), self.index, self.size, self.path, expected)

    def to_dict(self) -> dict[str, Any]:
        """The published form (hashes in hex)."""
        return {
            "tree": self.tree,
            "record_id": self.record_id,
            "index": self.index,
            "size": self.size,
            "leaf": self.leaf,
            "leaf_hash": leaf_hash(self.leaf.encode()).hex(),
            "path": [p.hex() for p in self.path],
            "root": self.root.hex(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InclusionProof:
        """Read back :meth:`to_dict`'s form."""
        return cls(
            record_id=str(data["record_id"]),
            index=int(data["index"]),
            size=int(data["size"]),
            leaf=str(data["leaf"]),
            path=[bytes.fromhex(p) for p in data["path"]],
            root=bytes.fromhex(data["root"]),
            tree=str(data.get("tree", "records")),
        )


def _proof(merkle: MerkleTree, tree: str, name: str, seq: int, leaf: str, size: int) -> InclusionProof:
    index = seq - 1
    if not 0 <= index < size <= merkle.size:
        raise LedgerError(f"{name} (seq {seq}) is not in a {tree} tree of {size}")
    return InclusionProof(
        name, index, size, leaf, merkle.inclusion_proof(index, size), merkle.root(size), tree
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
        sql = f"SELECT seq, canonical FROM records WHERE id = {ledger.mark}"  # ? or %s
        row = conn.exec_driver_sql(sql, (record_id,)).first()
    if row is None:
        raise LedgerError(f"no record {record_id!r} in the ledger")
    seq, canonical = int(row[0]), str(row[1])
    merkle = merkle if merkle is not None else ledger_tree(ledger, "records")
    size = merkle.size if size is None else size
    if not 0 <= seq - 1 < size <= merkle.size:
        raise LedgerError(f"record {record_id!r} (seq {seq}) is not in a records tree of {size}")
    return _proof(merkle, "records", record_id, seq, canonical, size)


def subject_proofs(ledger: Ledger, subject: str, *, cache: TreeCache | None = None) -> dict[str, Any]:
    """A subject's proof file: an inclusion proof of each of their records (and of each manual
    action about them) in the newest signed head of its tree, with those heads.

    Records and actions newer than the newest signed head are listed under ``unproven`` (sign a
    head to cover them). Without any signed head, every one is unproven. Check the file with
    :func:`check_proofs` (``socialcredit proof --check``) and the published public key.
    """
    records, actions = schema.records, schema.actions
    with ledger.engine.connect() as conn:
        rec_rows = conn.execute(
            sa.select(records.c.seq, records.c.id, records.c.canonical)
            .where(records.c.subject == subject)
            .order_by(records.c.seq)
        ).all()
        act_rows = conn.execute(
            sa.select(actions.c.seq, actions.c.line)
            .where(actions.c.subject == subject)
            .order_by(actions.c.seq)
        ).all()
    heads: list[StoredHead] = []
    proofs: list[dict[str, Any]] = []
    unproven: list[dict[str, Any]] = []
    wanted = (
        ("records", [(int(s), str(i), str(c)) for s, i, c in rec_rows]),
        ("actions", [(int(s), f"seq {s}", str(line)) for s, line in act_rows]),
    )
    for tree, rows in wanted:
        if not rows:
            continue
        head = latest_head(ledger, tree)
        merkle = (cache or TreeCache()).tree(ledger, tree) if head is not None else None
        used = False
        for seq, name, leaf in rows:
            if head is None or merkle is None or seq > head.head.size or head.head.size > merkle.size:
                unproven.append({"tree": tree, "record_id": name, "seq": seq})
                continue
            proofs.append(_proof(merkle, tree, name, seq, leaf, head.head.size).to_dict())
            used = True
        if used and head is not None:
            heads.append(head)
    return {
        "format": BUNDLE_FORMAT,
        "subject": subject,
        "public_key": heads[0].public_key.hex() if heads else None,
        "heads": [h.to_dict() for h in heads],
        "proofs": proofs,
        "unproven": unproven,
    }


def consistency_bundle(
    ledger: Ledger, tree: str, old: int, new: int, *, merkle: MerkleTree | None = None
) -> dict:
    """A consistency proof between the ``tree``'s sizes ``old`` and ``new``, with the stored
    signed heads of those sizes when there are (``old_head``, ``new_head``; else ``None``).

    Raises:
        LedgerError: an unknown tree, or sizes not ``0 <= old <= new <= size``.
    """
    _check_tree(tree)
    merkle = merkle if merkle is not None else ledger_tree(ledger, tree)
    if not 0 <= old <= new <= merkle.size:
        raise LedgerError(f"sizes must satisfy 0 <= OLD <= NEW <= {merkle.size} (the {tree} tree's size)")
    old_head, new_head = latest_head(ledger, tree, size=old), latest_head(ledger, tree, size=new)
    return {
        "format": BUNDLE_FORMAT,
        "tree": tree,
        "old_size": old,
        "new_size": new,
        "old_root": merkle.root(old).hex(),
        "new_root": merkle.root(new).hex(),
        "path": [p.hex() for p in merkle.consistency_proof(old, new)],
        "old_head": old_head.to_dict() if old_head else None,
        "new_head": new_head.to_dict() if new_head else None,
    }


# -- the offline check -----------------------------------------------------------------------------


@dataclass
class ProofCheck:
    """The outcome of :func:`check_proofs`: one line per proof or head, and whether all hold."""

    lines: list[tuple[bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.lines) and all(good for good, _ in self.lines)

    def add(self, good: bool, message: str) -> bool:
        self.lines.append((good, message))
        return good

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [{"ok": good, "message": m} for good, m in self.lines]}


def _head_of(data: Any) -> TreeHead | None:
    try:
        return TreeHead.from_dict(dict(data))
    except (KeyError, ValueError, TypeError):
        return None


def _check_head(out: ProofCheck, key: Ed25519PublicKey, data: Any, what: str) -> TreeHead | None:
    head = _head_of(data)
    if head is None:
        out.add(False, f"{what}: not a signed tree head")
        return None
    good = verify_tree_head(key, head)
    name = f"{what} ({head.tree} tree, size {head.size}, signed at {head.timestamp})"
    out.add(good, f"{name}: signature " + ("valid" if good else "INVALID for this public key"))
    return head if good else None


def check_proofs(data: Mapping[str, Any], public_key: Ed25519PublicKey | bytes | str) -> ProofCheck:
    """Check a proof file with nothing but the operator's public key (raw bytes, hex or PEM).

    Takes what ``socialcredit proof`` and the API print: a subject's proof file (``heads`` and
    ``proofs``), one inclusion proof (with its ``head``), or a consistency proof (``old_head``,
    ``new_head`` and ``path``). Every head's signature must be valid for ``public_key``, every
    inclusion proof must lead from its leaf to the root of a signed head of its tree and size,
    and a consistency proof must show the old signed head is a prefix of the new one. The public
    key a file names itself is never trusted.
    """
    out = ProofCheck()
    try:
        key = public_key if isinstance(public_key, Ed25519PublicKey) else load_public_key(public_key)
    except (ValueError, LedgerError) as exc:
        out.add(False, f"not an Ed25519 public key ({exc})")
        return out
    if not isinstance(data, Mapping):
        out.add(False, "not a proof file (a JSON object)")
        return out
    if "path" in data and "old_size" in data:  # a consistency proof
        old = _check_head(out, key, data.get("old_head"), "old head")
        new = _check_head(out, key, data.get("new_head"), "new head")
        if old is None or new is None:
            return out
        try:
            path = [bytes.fromhex(p) for p in data["path"]]
        except (ValueError, TypeError):
            out.add(False, "the consistency path is not hex")
            return out
        good = verify_consistency(old.size, new.size, old.root, new.root, path) and old.tree == new.tree
        out.add(
            good,
            f"the {new.tree} tree of {new.size} "
            + ("extends" if good else "does NOT extend (history was rewritten, or the proof is forged)")
            + f" the tree of {old.size} signed earlier",
        )
        return out
    if "proofs" in data:
        proofs, heads = list(data.get("proofs") or []), list(data.get("heads") or [])
    elif "leaf" in data:
        proofs, heads = [data], [data["head"]] if data.get("head") else []
    else:
        out.add(False, "not a proof file: no proofs, leaf or consistency path in it")
        return out
    signed: dict[tuple[str, int], TreeHead] = {}
    for i, h in enumerate(heads):
        head = _check_head(out, key, h, f"head {i + 1}")
        if head is not None:
            signed[(head.tree, head.size)] = head
    if not proofs:
        out.add(False, "no inclusion proof in the file (nothing signed covers it yet)")
    for p in proofs:
        try:
            proof = InclusionProof.from_dict(p)
        except (KeyError, ValueError, TypeError) as exc:
            out.add(False, f"a proof that cannot be read ({exc})")
            continue
        name = f"{proof.tree} {proof.record_id} (seq {proof.index + 1})"
        head = signed.get((proof.tree, proof.size))
        if head is None:
            out.add(
                False, f"{name}: no valid signed head of the {proof.tree} tree of {proof.size} in the file"
            )
            continue
        good = proof.verify(head.root)
        out.add(
            good,
            f"{name}: "
            + (
                f"included, as the file shows it, in the signed {proof.tree} tree of {head.size}"
                if good
                else "NOT in the signed tree: its text differs from what was signed, or the proof is forged"
            ),
        )
    return out


def load_proof_file(text: str) -> Any:
    """Parse a proof file's JSON.

    Raises:
        LedgerError: not JSON.
    """
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LedgerError(f"not a proof file: not JSON ({exc})") from None
