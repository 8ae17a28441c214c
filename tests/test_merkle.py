"""The RFC 6962 Merkle tree, its proofs, signed tree heads and the ledger's trees."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.errors import LedgerError
from socialcredit.ledger import open_ledger
from socialcredit.ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    TreeHead,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    load_or_create_key,
    load_public_key,
    node_hash,
    public_key_bytes,
    root,
    sign_tree_head,
    verify_consistency,
    verify_inclusion,
    verify_tree_head,
)
from socialcredit.ledger.proofs import InclusionProof, ledger_tree, record_inclusion_proof, tree_head

# -- a naive reference, straight from RFC 6962 §2.1 -----------------------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) <= 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


# -- test vectors ----------------------------------------------------------------------------------

# The eight leaves and roots of the Certificate Transparency reference implementation's tests.
CT_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_empty_tree_hash() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT


def test_hash_prefixes() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


def test_ct_reference_roots() -> None:
    leaves = [bytes.fromhex(x) for x in CT_LEAVES]
    tree = MerkleTree.from_leaves(leaves)
    for size, expected in enumerate(CT_ROOTS, start=1):
        assert tree.root(size).hex() == expected
        assert root(leaves[:size]).hex() == expected


def test_ct_vectors_all_proofs() -> None:
    leaves = [bytes.fromhex(x) for x in CT_LEAVES]
    tree = MerkleTree.from_leaves(leaves)
    for n in range(1, 9):
        for m in range(n):
            proof = tree.inclusion_proof(m, n)
            assert proof == ref_path(m, leaves[:n])
            assert verify_inclusion(leaf_hash(leaves[m]), m, n, proof, tree.root(n))
        for m in range(1, n):
            proof = tree.consistency_proof(m, n)
            assert proof == ref_subproof(m, leaves[:n], True)
            assert verify_consistency(m, n, tree.root(m), tree.root(n), proof)


def test_append_equals_batch_and_function_forms() -> None:
    leaves = [str(i).encode() for i in range(100)]
    grown = MerkleTree()
    for i, leaf in enumerate(leaves):
        assert grown.append(leaf) == i
        assert grown.root() == ref_mth(leaves[: i + 1])
    batch = MerkleTree.from_leaves(leaves)
    hashes = [leaf_hash(x) for x in leaves]
    assert batch.root() == grown.root()
    assert inclusion_proof(hashes, 37) == batch.inclusion_proof(37) == grown.inclusion_proof(37)
    assert consistency_proof(hashes, 33, 77) == grown.consistency_proof(33, 77)


def test_edge_sizes() -> None:
    tree = MerkleTree.from_leaves([b"a", b"b", b"c"])
    assert tree.consistency_proof(0) == [] and tree.consistency_proof(3) == []
    assert verify_consistency(0, 3, EMPTY_ROOT, tree.root(), [])
    assert not verify_consistency(0, 3, tree.root(), tree.root(), [])
    assert verify_consistency(3, 3, tree.root(), tree.root(), [])
    assert not verify_consistency(3, 3, tree.root(), tree.root(2), [])
    assert not verify_consistency(2, 3, tree.root(2), tree.root(), [])
    assert not verify_consistency(3, 2, tree.root(), tree.root(2), tree.consistency_proof(2))
    assert not verify_inclusion(leaf_hash(b"a"), 3, 3, [], tree.root())
    with pytest.raises(IndexError):
        tree.inclusion_proof(3)
    with pytest.raises(ValueError):
        tree.root(4)
    with pytest.raises(ValueError):
        MerkleTree.from_leaf_hashes([b"x" * 31, b"y" * 33])
    with pytest.raises(ValueError):
        tree.append_hash(b"short")


# -- properties ------------------------------------------------------------------------------------


def _flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 1]) + b[1:]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_inclusion_property(n: int, data: st.DataObject) -> None:
    leaves = [f"leaf {i}".encode() for i in range(n)]
    tree = MerkleTree.from_leaves(leaves)
    m = data.draw(st.integers(0, n - 1))
    size = data.draw(st.integers(m + 1, n))
    proof = tree.inclusion_proof(m, size)
    r = tree.root(size)
    h = leaf_hash(leaves[m])
    assert proof == ref_path(m, leaves[:size])
    assert verify_inclusion(h, m, size, proof, r)
    assert not verify_inclusion(leaf_hash(leaves[m] + b"!"), m, size, proof, r)  # tampered leaf
    assert not verify_inclusion(h, m, size, proof, _flip(r))  # tampered root
    other = data.draw(st.integers(0, size - 1))
    if other != m:  # another index
        assert not verify_inclusion(h, other, size, proof, r)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        assert not verify_inclusion(h, m, size, [*proof[:i], _flip(proof[i]), *proof[i + 1 :]], r)
        assert not verify_inclusion(h, m, size, proof[:-1], r)  # a step missing
    assert not verify_inclusion(h, m, size, [*proof, r], r)  # a step too many


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_consistency_property(n: int, data: st.DataObject) -> None:
    leaves = [f"leaf {i}".encode() for i in range(n)]
    tree = MerkleTree.from_leaves(leaves)
    m = data.draw(st.integers(1, n))
    proof = tree.consistency_proof(m, n)
    if m < n:
        assert proof == ref_subproof(m, leaves, True)
    old, new = tree.root(m), tree.root(n)
    assert verify_consistency(m, n, old, new, proof)
    # History rewritten: one old leaf changed, and the new tree built over the changed history.
    j = data.draw(st.integers(0, m - 1))
    rewritten = [*leaves[:j], leaves[j] + b" (edited)", *leaves[j + 1 :]]
    forged = MerkleTree.from_leaves(rewritten)
    assert not verify_consistency(m, n, old, forged.root(n), forged.consistency_proof(m, n))
    assert not verify_consistency(m, n, old, forged.root(n), proof)
    assert not verify_consistency(m, n, _flip(old), new, proof)
    assert not verify_consistency(m, n, old, _flip(new), proof)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        assert not verify_consistency(m, n, old, new, [*proof[:i], _flip(proof[i]), *proof[i + 1 :]])


# -- signed tree heads and keys --------------------------------------------------------------------


def test_tree_head_signature(tmp_path) -> None:
    key = load_or_create_key(tmp_path / "keys" / "head.key")
    public = key.public_key()
    r = root([b"a", b"b"])
    head = sign_tree_head(key, 2, r, 1_700_000_000_000)
    assert verify_tree_head(public, head)
    assert verify_tree_head(public_key_bytes(key), head)
    assert verify_tree_head(load_public_key(public_key_bytes(key).hex()), head)
    assert TreeHead.from_dict(head.to_dict()) == head
    changed = [
        TreeHead(3, r, head.timestamp, head.signature),
        TreeHead(2, _flip(r), head.timestamp, head.signature),
        TreeHead(2, r, head.timestamp + 1, head.signature),
        TreeHead(2, r, head.timestamp, _flip(head.signature)),
        TreeHead(2, r, head.timestamp, head.signature, tree="registry"),
    ]
    for bad in changed:
        assert not verify_tree_head(public, bad)
    other = load_or_create_key(tmp_path / "other.key")
    assert not verify_tree_head(other.public_key(), head)


def test_key_file_permissions(tmp_path) -> None:
    path = tmp_path / "signing.key"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_key(path)
    assert public_key_bytes(again) == public_key_bytes(key)
    for mode in (0o640, 0o604, 0o644):
        os.chmod(path, mode)
        with pytest.raises(LedgerError, match="only by its owner"):
            load_or_create_key(path)
    os.chmod(path, 0o400)
    assert public_key_bytes(load_or_create_key(path)) == public_key_bytes(key)


def test_key_file_created_0600_under_loose_umask(tmp_path) -> None:
    old = os.umask(0)
    try:
        load_or_create_key(tmp_path / "k.key")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600


# -- the ledger's trees ----------------------------------------------------------------------------


def _records(n: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {
            "id": f"r{i}",
            "subject": f"S{i % 3}",
            "category": "c.x",
            "occurred_at": "2018-03-01",
            "source": "src",
        }
        for i in range(start, start + n)
    ]


def test_ledger_trees_and_record_proofs(tmp_path) -> None:
    key = load_or_create_key(tmp_path / "head.key")
    with open_ledger(tmp_path / "ledger.db") as ledger:
        assert ledger_tree(ledger).root() == EMPTY_ROOT
        ledger.append_records(_records(5))
        first = tree_head(ledger, key, timestamp=1)
        ledger.append_records(_records(6, start=5))
        ledger.append_registry([{"id": "S0", "kind": "person", "name": "S0 (synthetic)"}])
        second = tree_head(ledger, key, timestamp=2)
        registry_head = tree_head(ledger, key, tree="registry", timestamp=2)
        assert (first.size, second.size, registry_head.size) == (5, 11, 1)
        assert all(verify_tree_head(key.public_key(), h) for h in (first, second, registry_head))
        with ledger.engine.connect() as conn:
            texts = [
                r[0].encode() for r in conn.exec_driver_sql("SELECT canonical FROM records ORDER BY seq")
            ]
        assert second.root == ref_mth(texts)
        merkle = ledger_tree(ledger)
        assert verify_consistency(5, 11, first.root, second.root, merkle.consistency_proof(5))
        proof = record_inclusion_proof(ledger, "r7")
        assert proof.index == 7 and proof.size == 11 and proof.verify(second.root)
        assert InclusionProof.from_dict(proof.to_dict()) == proof
        old = record_inclusion_proof(ledger, "r2", size=5)
        assert old.verify(first.root)
        with pytest.raises(LedgerError):
            record_inclusion_proof(ledger, "r7", size=5)
        with pytest.raises(LedgerError):
            record_inclusion_proof(ledger, "nope")
        with pytest.raises(LedgerError):
            ledger_tree(ledger, "nope")


def test_bribed_operator_edit_is_caught(tmp_path) -> None:
    """A direct database edit of an old record no longer matches the signed head, and the
    subject's saved proof shows which record text the head vouched for."""
    key = load_or_create_key(tmp_path / "head.key")
    with open_ledger(tmp_path / "ledger.db") as ledger:
        ledger.append_records(_records(9))
        head = tree_head(ledger, key, timestamp=1)
        saved = record_inclusion_proof(ledger, "r4")
        assert saved.verify(head.root)
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE records SET canonical = replace(canonical, '\"value\":1.0', '\"value\":-5.0') "
                "WHERE id = 'r4'"
            )
        now = ledger_tree(ledger)
        assert now.root() != head.root
        assert not verify_consistency(head.size, now.size, head.root, now.root(), now.consistency_proof(9))
        fresh = record_inclusion_proof(ledger, "r4")
        assert fresh.leaf != saved.leaf
        assert not fresh.verify(head.root)
        assert saved.verify(head.root)  # the subject's copy still checks against the signed head


# -- the command -----------------------------------------------------------------------------------


def test_proof_command(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from socialcredit.cli import app

    db = tmp_path / "ledger.db"
    with open_ledger(db) as ledger:
        ledger.append_records(_records(7))
        head_root = ledger_tree(ledger).root()
    runner = CliRunner()
    got = runner.invoke(app, ["proof", "--db", str(db), "r3", "--json"])
    assert got.exit_code == 0, got.output
    proof = InclusionProof.from_dict(json.loads(got.stdout))
    assert proof.index == 3 and proof.verify(head_root)
    got = runner.invoke(app, ["proof", "--db", str(db), "--consistency", "3", "7", "--json"])
    assert got.exit_code == 0, got.output
    out = json.loads(got.stdout)
    path = [bytes.fromhex(p) for p in out["path"]]
    assert out["verified"] and verify_consistency(3, 7, bytes.fromhex(out["old_root"]), head_root, path)
    got = runner.invoke(app, ["proof", "--db", str(db), "r3"])
    assert got.exit_code == 0 and "verified: True" in got.stdout
    assert runner.invoke(app, ["proof", "--db", str(db), "nope"]).exit_code == 2
    assert runner.invoke(app, ["proof", "--db", str(db)]).exit_code == 2
    assert runner.invoke(app, ["proof", "--db", str(db), "--consistency", "3", "9"]).exit_code == 2
