"""``socialcredit proof``: an inclusion proof of a record, or a consistency proof between sizes.

Exit codes: 0 the proof was printed (and checks against the root it carries); 2 a usage error or
a ledger that cannot be read, an unknown record, or sizes out of range.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from socialcredit.cli._common import console, fail, print_json
from socialcredit.errors import SocialCreditError
from socialcredit.ledger import open_ledger
from socialcredit.ledger.merkle import verify_consistency
from socialcredit.ledger.proofs import TREES, ledger_tree, record_inclusion_proof


def proof_command(
    db: Annotated[Path, typer.Option("--db", help="The ledger: a SQLite file.")],
    record_id: Annotated[
        str | None, typer.Argument(help="The record whose inclusion proof to print.", show_default=False)
    ] = None,
    consistency: Annotated[
        tuple[int, int] | None,
        typer.Option("--consistency", help="Print a consistency proof between tree sizes OLD NEW instead."),
    ] = None,
    size: Annotated[
        int | None, typer.Option("--size", help="Prove against the tree of this many leaves (default: all).")
    ] = None,
    tree: Annotated[
        str, typer.Option("--tree", help=f"Which tree a consistency proof is for: {', '.join(TREES)}.")
    ] = "records",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")] = False,
) -> None:
    """Print a Merkle inclusion proof of RECORD_ID (RFC 6962), or a consistency proof."""
    if (record_id is None) == (consistency is None):
        fail("give either a RECORD_ID or --consistency OLD NEW")
    try:
        with open_ledger(db, create=False) as ledger:
            if consistency is not None:
                old, new = consistency
                merkle = ledger_tree(ledger, tree)
                if not 0 <= old <= new <= merkle.size:
                    fail(f"sizes must satisfy 0 <= OLD <= NEW <= {merkle.size} (the {tree} tree's size)")
                path = merkle.consistency_proof(old, new)
                out = {
                    "tree": tree,
                    "old_size": old,
                    "new_size": new,
                    "old_root": merkle.root(old).hex(),
                    "new_root": merkle.root(new).hex(),
                    "path": [p.hex() for p in path],
                }
                ok = verify_consistency(old, new, merkle.root(old), merkle.root(new), path)
            else:
                proof = record_inclusion_proof(ledger, record_id or "", size=size)
                out = proof.to_dict()
                ok = proof.verify()
    except SocialCreditError as exc:
        fail(str(exc))
        return
    out["verified"] = ok
    if as_json:
        print_json(out)
        return
    for name, value in out.items():
        if name == "path":
            console.print(f"{name}:")
            for i, step in enumerate(value):
                console.print(f"  {i}: {step}")
        else:
            console.print(f"{name}: {value}", soft_wrap=True, markup=False)


def register(app: typer.Typer) -> None:
    """Register ``proof``."""
    app.command("proof")(proof_command)
