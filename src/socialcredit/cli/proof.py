"""``socialcredit proof``: signed tree heads, inclusion and consistency proofs, and their offline check.

::

    socialcredit proof --db PATH --sign-head --key KEY        # sign and store the head of each tree
    socialcredit proof --db PATH --heads                      # the public key and every stored head
    socialcredit proof --db PATH RECORD_ID                    # inclusion proof (in the newest signed head)
    socialcredit proof --db PATH --subject ID                 # a subject's proof file (all their records)
    socialcredit proof --db PATH --consistency OLD NEW        # consistency proof between two tree sizes
    socialcredit proof --check FILE --public-key KEY          # check a proof file: no database needed

Exit codes: 0 the proof was printed (and checks against the root it carries), the heads were
signed, or ``--check`` found everything in order; 1 ``--check`` found a proof or signature that
does not hold; 2 a usage error, a ledger or file that cannot be read, an unknown record, or sizes
out of range.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from socialcredit.cli._common import console, err_console, fail, print_json
from socialcredit.errors import SocialCreditError
from socialcredit.ledger import open_ledger
from socialcredit.ledger.merkle import load_or_create_key, verify_consistency
from socialcredit.ledger.proofs import (
    TREES,
    check_proofs,
    consistency_bundle,
    latest_head,
    ledger_tree,
    load_proof_file,
    record_inclusion_proof,
    sign_heads,
    stored_heads,
    subject_proofs,
)

#: The environment variable that names the signing key file when ``--key`` is not given.
KEY_ENV = "SOCIALCREDIT_SIGNING_KEY"


def _public_key_text(value: str) -> str:
    """``--public-key``: hex text, or a file holding hex or PEM."""
    path = Path(value).expanduser()
    if len(value) != 64 and path.is_file():
        return path.read_text()
    return value


def _check(file: str, public_key: str | None, as_json: bool) -> None:
    if not public_key:
        fail("--check needs --public-key: the operator's published key (hex, or a file holding it)")
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text()
        data = load_proof_file(text)
        key_text = _public_key_text(public_key or "")
    except (OSError, UnicodeDecodeError, SocialCreditError) as exc:
        fail(f"cannot read {file}: {exc}")
        return
    result = check_proofs(data, key_text)
    if as_json:
        print_json(result.to_dict())
    else:
        for good, message in result.lines:
            mark = "[green]ok[/green]" if good else "[red]FAILED[/red]"
            console.print(f"{mark} {message}", soft_wrap=True, highlight=False)
        console.print("[green]all proofs hold[/green]" if result.ok else "[red]the proofs do NOT hold[/red]")
    raise typer.Exit(0 if result.ok else 1)


def _print(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(out)
        return
    for name, value in out.items():
        if name == "path":
            console.print(f"{name}:")
            for i, step in enumerate(value):
                console.print(f"  {i}: {step}")
        elif isinstance(value, list):
            console.print(f"{name}: {len(value)}")
            for item in value:
                console.print(f"  {item}", soft_wrap=True, markup=False, highlight=False)
        else:
            console.print(f"{name}: {value}", soft_wrap=True, markup=False, highlight=False)


def proof_command(
    db: Annotated[
        str | None, typer.Option("--db", help="The ledger: a SQLite file or a postgresql:// URL.")
    ] = None,
    record_id: Annotated[
        str | None, typer.Argument(help="The record whose inclusion proof to print.", show_default=False)
    ] = None,
    consistency: Annotated[
        tuple[int, int] | None,
        typer.Option("--consistency", help="Print a consistency proof between tree sizes OLD NEW instead."),
    ] = None,
    size: Annotated[
        int | None,
        typer.Option(
            "--size", help="Prove against the tree of this many leaves (default: the newest signed head)."
        ),
    ] = None,
    tree: Annotated[
        str, typer.Option("--tree", help=f"Which tree a consistency proof is for: {', '.join(TREES)}.")
    ] = "records",
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="Print the proof file of every record (and action) about SUBJECT."),
    ] = None,
    sign_head: Annotated[
        bool, typer.Option("--sign-head", help="Sign and store the current head of each tree (needs --key).")
    ] = False,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            envvar=KEY_ENV,
            help="The Ed25519 signing key file (PEM, mode 0600; created when missing). Keep it off the "
            "database's machine if you can.",
        ),
    ] = None,
    heads: Annotated[
        bool, typer.Option("--heads", help="Print the public key and every stored head.")
    ] = False,
    check: Annotated[
        str | None,
        typer.Option("--check", help="Check a proof file (- for standard input) against --public-key."),
    ] = None,
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="For --check: the published public key (hex or file).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")] = False,
) -> None:
    """Sign tree heads, print Merkle proofs (RFC 6962), or check a proof file offline."""
    if check is not None:
        _check(check, public_key, as_json)
        return
    modes = [record_id is not None, consistency is not None, subject is not None, sign_head, heads]
    if sum(modes) != 1:
        fail(
            "give one of RECORD_ID, --consistency OLD NEW, --subject ID, --sign-head, --heads or --check FILE"
        )
    if db is None:
        fail("--db is needed (only --check works without the ledger)")
    if sign_head and key is None:
        fail(f"--sign-head needs --key PATH (or {KEY_ENV}): the signing key file, outside the database")
    try:
        with open_ledger(str(db), create=False) as ledger:
            if sign_head:
                signing = load_or_create_key(key)  # type: ignore[arg-type]
                made = [h.to_dict() for h in sign_heads(ledger, signing)]
                if as_json:
                    print_json({"public_key": made[0]["public_key"], "heads": made})
                else:
                    console.print(f"public key {made[0]['public_key']}", soft_wrap=True)
                    for h in made:
                        console.print(
                            f"signed {h['tree']}: size {h['size']}, root {h['root']}", soft_wrap=True
                        )
                return
            if heads:
                rows = [h.to_dict() for h in stored_heads(ledger)]
                if as_json:
                    print_json({"public_key": rows[-1]["public_key"] if rows else None, "heads": rows})
                    return
                console.print(f"public key: {rows[-1]['public_key'] if rows else None}", soft_wrap=True)
                for h in rows:
                    console.print(
                        f"#{h['hid']} {h['tree']}: size {h['size']}, root {h['root']}, signed at "
                        f"{h['timestamp']} ms, by {h['public_key'][:16]}..., signature {h['signature']}",
                        soft_wrap=True,
                        highlight=False,
                    )
                return
            if subject is not None:
                bundle = subject_proofs(ledger, subject)
                if not bundle["proofs"] and not bundle["unproven"]:
                    fail(f"no record or action about {subject!r} in the ledger")
                if bundle["unproven"]:
                    err_console.print(
                        f"{len(bundle['unproven'])} not yet covered by a signed head: sign one with "
                        "`socialcredit proof --sign-head`"
                    )
                _print(bundle, as_json)
                return
            if consistency is not None:
                old, new = consistency
                out = consistency_bundle(ledger, tree, old, new)
                path = [bytes.fromhex(p) for p in out["path"]]
                ok = verify_consistency(
                    old, new, bytes.fromhex(out["old_root"]), bytes.fromhex(out["new_root"]), path
                )
            else:
                merkle = ledger_tree(ledger, "records")
                signed = latest_head(ledger, "records", size=size)
                try:
                    proof = record_inclusion_proof(
                        ledger, record_id or "", size=signed.head.size if signed else size, merkle=merkle
                    )
                except SocialCreditError:
                    if signed is None or size is not None:
                        raise
                    signed = None  # newer than the newest signed head: prove in the tree as it is
                    proof = record_inclusion_proof(ledger, record_id or "", merkle=merkle)
                out = {**proof.to_dict(), "head": signed.to_dict() if signed else None}
                ok = proof.verify()
                if signed is None:
                    err_console.print(
                        "no signed head covers this proof: sign one with `socialcredit proof --sign-head`"
                    )
    except SocialCreditError as exc:
        fail(str(exc))
        return
    out["verified"] = ok
    _print(out, as_json)


def register(app: typer.Typer) -> None:
    """Register ``proof``."""
    app.command("proof")(proof_command)
