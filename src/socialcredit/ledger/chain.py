"""The hash chain: each link commits to everything before it.

``hash = sha256(prev_hash + "\\n" + canonical_json)`` as lower-case hex, where ``prev_hash`` is the
hex hash of the previous link (:data:`~socialcredit.ledger.schema.GENESIS`, 64 zeros, for the
first). Changing, removing or inserting any link changes every hash after it.

Example:
    >>> h1 = link_hash(GENESIS, '{"a":1}')
    >>> h1 == chain_hashes(GENESIS, ['{"a":1}'])[0]
    True
    >>> len(h1)
    64
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from socialcredit.ledger.schema import GENESIS

__all__ = ["GENESIS", "chain_hashes", "link_hash"]


def link_hash(prev_hash: str, canonical: str) -> str:
    """The hash of one link: sha256 over the previous hash, a newline and the canonical JSON."""
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def chain_hashes(prev_hash: str, canonicals: Sequence[str]) -> list[str]:
    """The hashes of consecutive links after ``prev_hash`` (a tight loop: ~1 µs per link)."""
    sha = hashlib.sha256
    out: list[str] = []
    append = out.append
    for text in canonicals:
        prev_hash = sha(f"{prev_hash}\n{text}".encode()).hexdigest()
        append(prev_hash)
    return out
