"""The ledger: credit records, registry changes and manual actions, append-only and
hash-chained, in SQLite.

Example:
    >>> import tempfile, pathlib
    >>> from socialcredit.ledger import open_ledger, verify
    >>> with open_ledger(pathlib.Path(tempfile.mkdtemp()) / "ledger.db") as ledger:
    ...     _ = ledger.append_registry([{"id": "S", "kind": "person", "name": "S (synthetic)"}])
    ...     (ledger.counts()["subjects"], verify(ledger).ok)
    (1, True)
"""

from socialcredit.ledger.actions import append_actions, read_actions
from socialcredit.ledger.chain import GENESIS, chain_hashes, link_hash
from socialcredit.ledger.migrate import head_revision, upgrade
from socialcredit.ledger.store import (
    AppendResult,
    Ledger,
    Reject,
    database_url,
    open_ledger,
)
from socialcredit.ledger.verify import Problem, VerifyReport, verify

__all__ = [
    "GENESIS",
    "AppendResult",
    "Ledger",
    "Problem",
    "Reject",
    "VerifyReport",
    "append_actions",
    "chain_hashes",
    "database_url",
    "head_revision",
    "link_hash",
    "open_ledger",
    "read_actions",
    "upgrade",
    "verify",
]
