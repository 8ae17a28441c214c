"""A Merkle tree in the style of RFC 6962 (Certificate Transparency), and signed tree heads.

Pure functions over bytes; no SQL (:mod:`socialcredit.ledger.proofs` reads the leaves from a
ledger). Hashing follows RFC 6962 §2.1 exactly:

* the empty tree's hash is ``SHA-256()``;
* a leaf's hash is ``SHA-256(0x00 || leaf)``;
* a node's hash is ``SHA-256(0x01 || left || right)``;
* a tree of ``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``.

Inclusion and consistency proofs are built as RFC 6962 §2.1.1/§2.1.2 define them and checked
with the algorithms of RFC 9162 §2.1.3.2/§2.1.4.2. :class:`MerkleTree` keeps the hash of every
complete, aligned subtree (one contiguous buffer per level), so a proof is ``O(log² n)`` hashes.

A tree head (size, root, timestamp) is signed with Ed25519 (the ``cryptography`` package); the
signed message is :func:`tree_head_message`.

Example:
    >>> leaves = [b"a", b"b", b"c"]
    >>> tree = MerkleTree.from_leaves(leaves)
    >>> proof = tree.inclusion_proof(2)
    >>> verify_inclusion(leaf_hash(b"c"), 2, 3, proof, tree.root())
    True
    >>> verify_consistency(2, 3, tree.root(2), tree.root(), tree.consistency_proof(2, 3))
    True
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from socialcredit.errors import LedgerError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "TreeHead",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "load_or_create_key",
    "load_public_key",
    "node_hash",
    "public_key_bytes",
    "root",
    "sign_tree_head",
    "tree_head_message",
    "verify_consistency",
    "verify_inclusion",
    "verify_tree_head",
]

HASH_SIZE = 32
#: The hash of the empty tree: SHA-256 of nothing.
EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)``."""
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """The leaf hashes of a growing log and the hash of every complete, aligned subtree.

    ``levels[j]`` holds, 32 bytes each, the hashes of leaves ``[i·2^j, (i+1)·2^j)`` for every
    such range that is complete. Those never change as the log grows, so the tree answers for
    any earlier size too (``root(size)``, proofs between sizes).
    """

    __slots__ = ("_levels", "_size")

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes]) -> MerkleTree:
        """A tree over raw leaves (each is hashed with :func:`leaf_hash`)."""
        return cls.from_leaf_hashes(_sha256(b"\x00" + leaf).digest() for leaf in leaves)

    @classmethod
    def from_leaf_hashes(cls, hashes: Iterable[bytes]) -> MerkleTree:
        """A tree over leaf hashes (32 bytes each), built level by level."""
        hashes = hashes if isinstance(hashes, list) else list(hashes)
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError("leaf hashes must be 32 bytes each")
        return cls.from_leaf_hash_bytes(b"".join(hashes))

    @classmethod
    def from_leaf_hash_bytes(cls, data: bytes | bytearray) -> MerkleTree:
        """A tree over leaf hashes given as one buffer (32 bytes per leaf, in order): no list of
        millions of small objects in between. A ``bytearray`` is taken over, not copied."""
        if len(data) % HASH_SIZE:
            raise ValueError("leaf hashes must be 32 bytes each")
        tree = cls()
        level = data if isinstance(data, bytearray) else bytearray(data)
        tree._size = len(level) // HASH_SIZE
        tree._levels = [level]
        sha = _sha256
        while len(level) >= 2 * HASH_SIZE:
            with memoryview(level) as view:
                pairs = range(0, len(view) - 63, 64)
                level = bytearray(b"".join([sha(b"\x01" + view[i : i + 64]).digest() for i in pairs]))
            tree._levels.append(level)
        return tree

    def __len__(self) -> int:
        return self._size

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> int:
        """Append a raw leaf; returns its index."""
        return self.append_hash(leaf_hash(leaf))

    def append_hash(self, hashed: bytes) -> int:
        """Append a leaf hash; returns its index."""
        if len(hashed) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        index = self._size
        self._levels[0] += hashed
        self._size += 1
        level, i, h = 0, index, hashed
        while i & 1:  # a right child completes its parent
            left = bytes(self._levels[level][(i - 1) * HASH_SIZE : i * HASH_SIZE])
            h = node_hash(left, h)
            level += 1
            i >>= 1
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += h
        return index

    def leaf_hash(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        if not 0 <= index < self._size:
            raise IndexError(f"leaf {index} is not in a tree of {self._size}")
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _hash(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)`` (non-empty)."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            level = n.bit_length() - 1
            i = start >> level
            return bytes(self._levels[level][i * HASH_SIZE : (i + 1) * HASH_SIZE])
        k = _split(n)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise ValueError(f"size {size} is not between 0 and the tree's {self._size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (default: all)."""
        size = self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of the first ``size`` leaves (RFC 6962
        §2.1.1), deepest sibling first."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise IndexError(f"leaf {index} is not in a tree of {size}")
        start, end, m = 0, size, index
        stack: list[bytes] = []
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                stack.append(self._hash(start + k, end))
                end = start + k
            else:
                stack.append(self._hash(start, start + k))
                start, m = start + k, m - k
        return stack[::-1]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the first ``old_size`` leaves are a prefix of the first ``new_size``
        (RFC 6962 §2.1.2). Empty when ``old_size`` is 0 or equals ``new_size``."""
        new_size = self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} is not between 0 and {new_size}")
        if old_size == 0 or old_size == new_size:
            return []
        stack: list[bytes] = []
        start, end, m, whole = 0, new_size, old_size, True
        while True:
            n = end - start
            if m == n:
                if not whole:
                    stack.append(self._hash(start, end))
                break
            k = _split(n)
            if m <= k:
                stack.append(self._hash(start + k, end))
                end = start + k
            else:
                stack.append(self._hash(start, start + k))
                start, m, whole = start + k, m - k, False
        return stack[::-1]


def _as_tree(tree_or_hashes: MerkleTree | Sequence[bytes]) -> MerkleTree:
    if isinstance(tree_or_hashes, MerkleTree):
        return tree_or_hashes
    return MerkleTree.from_leaf_hashes(tree_or_hashes)


def root(leaves: Iterable[bytes]) -> bytes:
    """The RFC 6962 root hash of raw ``leaves`` (:data:`EMPTY_ROOT` for none)."""
    return MerkleTree.from_leaves(leaves).root()


def inclusion_proof(
    tree_or_hashes: MerkleTree | Sequence[bytes], index: int, size: int | None = None
) -> list[bytes]:
    """The audit path of leaf ``index``: ``tree_or_hashes`` is a :class:`MerkleTree` or the
    leaf hashes (:func:`leaf_hash` of each leaf), in order."""
    return _as_tree(tree_or_hashes).inclusion_proof(index, size)


def consistency_proof(
    tree_or_hashes: MerkleTree | Sequence[bytes], old_size: int, new_size: int | None = None
) -> list[bytes]:
    """The consistency proof between sizes ``old_size`` and ``new_size`` (default: all leaves);
    ``tree_or_hashes`` is a :class:`MerkleTree` or the leaf hashes, in order."""
    return _as_tree(tree_or_hashes).consistency_proof(old_size, new_size)


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows leaf ``index`` with hash ``leaf_hash`` in the tree of ``size``
    leaves with ``root`` (RFC 9162 §2.1.3.2, step by step)."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``old_size`` leaves with ``old_root`` is a prefix of
    the tree of ``new_size`` leaves with ``new_root`` (RFC 9162 §2.1.4.2, step by step).

    Equal sizes need an empty proof and equal roots; an empty old tree needs an empty proof
    and :data:`EMPTY_ROOT` as its root.
    """
    if not 0 <= old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


# -- signed tree heads ---------------------------------------------------------------------------

_HEAD_DOMAIN = b"socialcredit/tree-head/v1\x00"


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A signed tree head: the tree of the first ``size`` leaves of ``tree`` had ``root`` at
    ``timestamp`` (milliseconds since 1970-01-01 UTC), as the key holder signed it."""

    size: int
    root: bytes
    timestamp: int
    signature: bytes
    tree: str = "records"

    def to_dict(self) -> dict[str, Any]:
        """The published form: hashes and signature in lower-case hex."""
        return {
            "tree": self.tree,
            "size": self.size,
            "root": self.root.hex(),
            "timestamp": self.timestamp,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreeHead:
        """Read back :meth:`to_dict`'s form."""
        return cls(
            size=int(data["size"]),
            root=bytes.fromhex(data["root"]),
            timestamp=int(data["timestamp"]),
            signature=bytes.fromhex(data["signature"]),
            tree=str(data.get("tree", "records")),
        )


def tree_head_message(size: int, root: bytes, timestamp: int, tree: str = "records") -> bytes:
    """The bytes a tree head's signature covers: a domain tag, the tree's name, then size and
    timestamp as 8-byte big-endian integers and the 32-byte root."""
    if len(root) != HASH_SIZE:
        raise ValueError("a root hash is 32 bytes")
    name = tree.encode()
    return (
        _HEAD_DOMAIN
        + len(name).to_bytes(2, "big")
        + name
        + size.to_bytes(8, "big")
        + timestamp.to_bytes(8, "big")
        + root
    )


def sign_tree_head(
    key: Ed25519PrivateKey, size: int, root: bytes, timestamp: int, *, tree: str = "records"
) -> TreeHead:
    """Sign (tree, size, root, timestamp) with ``key``."""
    signature = key.sign(tree_head_message(size, root, timestamp, tree))
    return TreeHead(size, root, timestamp, signature, tree)


def verify_tree_head(public_key: Ed25519PublicKey | bytes, head: TreeHead) -> bool:
    """Whether ``head``'s signature is ``public_key``'s over its fields (raw 32-byte keys too)."""
    if isinstance(public_key, bytes):
        public_key = Ed25519PublicKey.from_public_bytes(public_key)
    try:
        message = tree_head_message(head.size, head.root, head.timestamp, head.tree)
        public_key.verify(head.signature, message)
    except (InvalidSignature, ValueError, OverflowError):
        return False
    return True


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The raw 32-byte public key (what is published)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_public_key(data: bytes | str) -> Ed25519PublicKey:
    """A public key from raw bytes, hex text or PEM."""
    if isinstance(data, str):
        data = data.strip()
        if data.startswith("-----BEGIN"):
            data = data.encode()
        else:
            return Ed25519PublicKey.from_public_bytes(bytes.fromhex(data))
    if data.startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise LedgerError("the public key is not an Ed25519 key")
        return key
    return Ed25519PublicKey.from_public_bytes(data)


def load_or_create_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 signing key in ``path`` (PEM, PKCS #8), created with mode 0600 when missing.

    Raises:
        LedgerError: the file can be read by its group or by others, or is not an Ed25519 key.
    """
    path = Path(path).expanduser()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        os.chmod(path, 0o600)  # whatever the umask
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise LedgerError(
            f"the signing key {path} has mode {mode:04o}: it must be readable only by its owner "
            f"(chmod 600 {path})"
        )
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise LedgerError(f"{path} is not an Ed25519 private key")
    return key
