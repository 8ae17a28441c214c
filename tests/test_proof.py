"""Signed tree heads, proofs and verify: random ledgers (Hypothesis), the bribed operator, the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.engine import Engine
from socialcredit.errors import LedgerError
from socialcredit.ledger import append_actions, link_hash, open_ledger, verify
from socialcredit.ledger.merkle import TreeHead, load_or_create_key, public_key_bytes, sign_tree_head
from socialcredit.ledger.proofs import (
    TreeCache,
    check_proofs,
    consistency_bundle,
    latest_head,
    ledger_tree,
    record_inclusion_proof,
    sign_heads,
    stored_heads,
    subject_proofs,
)
from socialcredit.records import canonical_json

runner = CliRunner()
KEY = load_or_create_key(Path(tempfile.mkdtemp()) / "signing.key")
PUBLIC = public_key_bytes(KEY)


def _record(i: int, subject: str = "S0", value: float = 1.0) -> dict:
    return {
        "id": f"r{i}",
        "subject": subject,
        "category": "c.x",
        "occurred_at": f"2018-03-{1 + i % 28:02d}",
        "source": "src",
        "value": value,
    }


def _sql(path: Path, *statements: tuple[str, tuple]) -> None:
    con = sqlite3.connect(path)
    for sql, params in statements:
        con.execute(sql, params)
    con.commit()
    con.close()


def _rows(path: Path) -> list[dict]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM records ORDER BY seq")]
    con.close()
    return rows


def _bumped(canonical: str) -> str:
    """The canonical text with its value raised by 1000."""
    record = json.loads(canonical)
    return canonical_json({**record, "value": record["value"] + 1000})


def _rechain(path: Path) -> None:
    """The careful operator: recompute every link hash and the head in meta after an edit."""
    con = sqlite3.connect(path)
    prev, n = "0" * 64, 0
    for seq, text in con.execute("SELECT seq, canonical FROM records ORDER BY seq").fetchall():
        new = link_hash(prev, text)
        con.execute("UPDATE records SET hash = ?, prev_hash = ? WHERE seq = ?", (new, prev, seq))
        prev, n = new, n + 1
    con.execute("UPDATE meta SET head = ?, count = ? WHERE chain = 'records'", (prev, n))
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty ledger at the newest revision, copied for each example (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    open_ledger(path).close()
    return path


# -- signing, storing, publishing ------------------------------------------------------------------


def test_sign_heads_stores_every_head_of_the_three_trees(tmp_path: Path) -> None:
    with open_ledger(tmp_path / "l.db") as ledger:
        assert stored_heads(ledger) == [] and latest_head(ledger) is None
        ledger.append_records([_record(i) for i in range(5)])
        first = sign_heads(ledger, KEY, timestamp=1000)
        ledger.append_records([_record(i) for i in range(5, 9)])
        ledger.append_registry([{"id": "S0", "kind": "person", "name": "S0 (synthetic)"}])
        append_actions(ledger, [{"kind": "correction", "actor": "clerk", "subject": "S0", "reason": "typo"}])
        second = sign_heads(ledger, KEY, trees=["records", "actions"], timestamp=2000)
        assert [(h.head.tree, h.head.size) for h in first] == [
            ("records", 5),
            ("registry", 0),
            ("actions", 0),
        ]
        assert [(h.head.tree, h.head.size) for h in second] == [("records", 9), ("actions", 1)]
        every = stored_heads(ledger)
        assert [h.hid for h in every] == [1, 2, 3, 4, 5] and every == first + second
        assert all(h.public_key == PUBLIC for h in every)
        assert [h.hid for h in stored_heads(ledger, tree="records")] == [1, 4]
        assert [h.hid for h in stored_heads(ledger, after=2, limit=2)] == [3, 4]
        assert latest_head(ledger).hid == 4 and latest_head(ledger, size=5).hid == 1
        assert latest_head(ledger, "actions").head.size == 1
        assert second[0].head.root == ledger_tree(ledger).root()
        report = verify(ledger, public_key=PUBLIC)
        assert report.ok and report.tree_heads == 5 and report.actions == 1
        with pytest.raises(LedgerError, match="no tree"):
            sign_heads(ledger, KEY, trees=["nope"])


def test_a_head_signed_by_another_key_or_with_a_bad_signature_fails_verify(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    with open_ledger(path) as ledger:
        ledger.append_records([_record(i) for i in range(4)])
        sign_heads(ledger, KEY, trees=["records"], timestamp=1)
        other = load_or_create_key(tmp_path / "other.key")
        assert not verify(ledger, public_key=public_key_bytes(other)).ok
        assert verify(ledger, public_key=PUBLIC.hex()).ok
        with pytest.raises(LedgerError, match="not an Ed25519 public key"):
            verify(ledger, public_key="zz")
    _sql(path, ("UPDATE tree_heads SET timestamp = 2 WHERE hid = 1", ()))
    report = verify(path)
    assert [(p.chain, p.kind, p.head) for p in report.problems] == [("records", "forged", 1)]
    assert "invalid signature" in report.message


def test_tree_cache_grows_with_the_ledger(tmp_path: Path) -> None:
    cache = TreeCache()
    with open_ledger(tmp_path / "l.db") as ledger:
        assert cache.tree(ledger).size == 0
        ledger.append_records([_record(i) for i in range(3)])
        grown = cache.tree(ledger)
        assert grown.size == 3 and grown.root() == ledger_tree(ledger).root()
        assert cache.tree(ledger, "actions").size == 0
        ledger.append_records([_record(i) for i in range(3, 7)])
        head = sign_heads(ledger, KEY, trees=["records"], cache=cache)[0].head
        assert head.size == 7 and head.root == ledger_tree(ledger).root()
        assert verify(ledger).ok
    (tmp_path / "l.db").unlink()  # the same path, now a ledger of fewer links: rebuilt
    with open_ledger(tmp_path / "l.db") as fresh:
        fresh.append_records([_record(i) for i in range(2)])
        assert cache.tree(fresh).size == 2 and cache.tree(fresh).root() == ledger_tree(fresh).root()


# -- random ledgers (Hypothesis) ------------------------------------------------------------------

ledgers = st.lists(
    st.tuples(st.integers(0, 2), st.integers(-5, 50)), min_size=2, max_size=24
)  # (subject, value) per record


def _build(template: Path, where: Path, spec: list[tuple[int, int]], cuts: list[int]) -> tuple[Path, list]:
    """A ledger of ``spec`` records, appended in batches ending at ``cuts``, a head signed after each."""
    path = where / "l.db"
    shutil.copy(template, path)
    records = [_record(i, f"S{s}", float(v)) for i, (s, v) in enumerate(spec)]
    with open_ledger(path) as ledger:
        start = 0
        for cut in sorted({*cuts, len(records)}):
            if cut > start:
                ledger.append_records(records[start:cut])
                sign_heads(ledger, KEY, trees=["records"], timestamp=cut)
                start = cut
        heads = stored_heads(ledger)
    return path, heads


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=ledgers, data=st.data())
def test_inclusion_and_consistency_proofs_verify_in_random_ledgers(
    template: Path, spec: list, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(1, len(spec)), max_size=3))
    with tempfile.TemporaryDirectory() as tmp:
        path, heads = _build(template, Path(tmp), spec, cuts)
        with open_ledger(path) as ledger:
            assert verify(ledger, public_key=PUBLIC).ok
            merkle = ledger_tree(ledger)
            newest = heads[-1].head
            for i in range(len(spec)):
                proof = record_inclusion_proof(ledger, f"r{i}", merkle=merkle)
                assert proof.verify(newest.root)
                assert check_proofs({**proof.to_dict(), "head": newest.to_dict()}, PUBLIC).ok
            for s in range(3):
                bundle = subject_proofs(ledger, f"S{s}")
                mine = [i for i, (subj, _) in enumerate(spec) if subj == s]
                assert [p["record_id"] for p in bundle["proofs"]] == [f"r{i}" for i in mine]
                assert bundle["unproven"] == [] and (not mine or check_proofs(bundle, PUBLIC).ok)
            for a in heads:
                for b in heads:
                    if a.head.size <= b.head.size:
                        out = consistency_bundle(ledger, "records", a.head.size, b.head.size, merkle=merkle)
                        assert out["old_head"] is not None and out["new_head"] is not None
                        assert check_proofs(out, PUBLIC).ok, (a, b)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=ledgers,
    how=st.sampled_from(["alter", "alter_rehash", "remove", "remove_renumber", "reorder", "insert"]),
    data=st.data(),
)
def test_tampering_with_any_leaf_fails_verify_at_the_first_bad_position(
    template: Path, spec: list, how: str, data: st.DataObject
) -> None:
    n = len(spec)
    pos = data.draw(st.integers(0, n - 1 if how != "insert" else n), label="position")
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = _build(template, Path(tmp), spec, [])
        rows = _rows(path)
        seq = pos + 1
        expected = {"alter": "altered", "alter_rehash": "altered", "remove": "removed"}.get(how, "")
        if how in ("alter", "alter_rehash"):
            row = rows[pos]
            text = _bumped(row["canonical"])
            new_hash = link_hash(row["prev_hash"], text) if how == "alter_rehash" else row["hash"]
            _sql(
                path,
                (
                    "UPDATE records SET canonical = ?, value = ?, hash = ? WHERE seq = ?",
                    (text, json.loads(text)["value"], new_hash, seq),
                ),
            )
        elif how == "remove":
            _sql(path, ("DELETE FROM records WHERE seq = ?", (seq,)))
        elif how == "remove_renumber":
            expected = "removed"
            _sql(
                path,
                ("DELETE FROM records WHERE seq = ?", (seq,)),
                ("UPDATE records SET seq = seq - 1 WHERE seq > ?", (seq,)),
            )
        elif how == "reorder":
            if n < 2:
                return
            other = data.draw(st.integers(0, n - 1).filter(lambda j: j != pos), label="other")
            seq = min(pos, other) + 1
            expected = "reordered"
            a, b = pos + 1, other + 1
            _sql(
                path,
                ("UPDATE records SET seq = -1 WHERE seq = ?", (a,)),
                ("UPDATE records SET seq = ? WHERE seq = ?", (a, b)),
                ("UPDATE records SET seq = ? WHERE seq = -1", (b,)),
            )
        else:  # insert a well-formed, well-linked forged record at pos
            expected = "inserted"
            prev = rows[pos - 1]["hash"] if pos else "0" * 64
            model = dict(rows[0])
            text = model["canonical"].replace(f'"id":"{model["id"]}"', '"id":"forged"')
            forged = {**model, "seq": seq, "id": "forged", "canonical": text, "prev_hash": prev}
            forged["hash"] = link_hash(prev, text)
            cols = list(forged)
            _sql(
                path,
                ("UPDATE records SET seq = seq + 1000 WHERE seq >= ?", (seq,)),
                ("UPDATE records SET seq = seq - 999 WHERE seq > 1000", ()),
                (
                    f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    tuple(forged.values()),
                ),
            )
        report = verify(path)
        assert not report.ok
        first = report.problems[0]
        assert (first.chain, first.seq, first.kind) == ("records", seq, expected), report.message
        heads = [p for p in report.problems if p.head is not None]
        if seq <= n:  # the signed head of all n no longer matches either (an append after it may)
            assert heads and heads[0].seq <= seq


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=ledgers, data=st.data())
def test_a_rewritten_history_fails_consistency_and_the_signed_heads(
    template: Path, spec: list, data: st.DataObject
) -> None:
    """The careful operator re-chains everything after the edit, so the hash chain holds: the
    signed heads do not, and no consistency proof from an old head to a new one holds."""
    n = len(spec)
    cuts = data.draw(st.lists(st.integers(1, n), max_size=3))
    pos = data.draw(st.integers(0, n - 1), label="position")
    with tempfile.TemporaryDirectory() as tmp:
        path, heads = _build(template, Path(tmp), spec, cuts)
        row = _rows(path)[pos]
        text = _bumped(row["canonical"])
        value = json.loads(text)["value"]
        _sql(path, ("UPDATE records SET canonical = ?, value = ? WHERE seq = ?", (text, value, pos + 1)))
        _rechain(path)
        with open_ledger(path) as ledger:
            report = verify(ledger)
            assert report.records == n and not report.ok
            assert all(p.kind == "rewritten" for p in report.problems)
            covering = [h for h in heads if h.head.size > pos]
            first = report.problems[0]
            assert first.head == covering[0].hid and first.seq <= pos + 1 <= covering[0].head.size
            merkle = ledger_tree(ledger)
            resigned = sign_tree_head(KEY, merkle.size, merkle.root(), 10**9)
            for old in covering:
                forged = consistency_bundle(ledger, "records", old.head.size, n, merkle=merkle)
                forged["old_head"], forged["new_head"] = old.head.to_dict(), resigned.to_dict()
                assert not check_proofs(forged, PUBLIC).ok
            fresh = record_inclusion_proof(ledger, f"r{pos}", size=heads[-1].head.size, merkle=merkle)
            assert not check_proofs({**fresh.to_dict(), "head": heads[-1].head.to_dict()}, PUBLIC).ok


# -- the bribed operator ----------------------------------------------------------------------------

MEI = "mei"
RONGCHENG = "000601"


def _grade(ledger) -> tuple[float, str]:
    engine = Engine(["rongcheng"])
    ev = engine.bind(ledger.records_table(), ledger.registry()).evaluate("2020-06-09")
    score, grade, _ = ev.score_of(MEI)
    return score, grade


def test_the_bribed_operator_is_caught_by_verify_and_by_the_subjects_own_check(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with open_ledger(path) as ledger:
        ledger.append_registry(
            [
                {"id": MEI, "kind": "person", "name": "Mei (synthetic)", "region": RONGCHENG},
                {"id": "li", "kind": "person", "name": "Li (synthetic)", "region": RONGCHENG},
            ]
        )
        ledger.append_records(
            [_record(i, "li") for i in range(4)]
            + [
                {
                    "id": "theft-1",
                    "subject": MEI,
                    "category": "utility.theft",
                    "occurred_at": "2015-06-10",
                    "source": "utilities",
                }
            ]
            + [_record(i, "li") for i in range(4, 9)]
        )
        assert _grade(ledger) == (940.0, "B")
        sign_heads(ledger, KEY, timestamp=1_600_000_000_000)
        saved = subject_proofs(ledger, MEI)  # Mei downloads her proof file and keeps it
        assert [p["record_id"] for p in saved["proofs"]] == ["theft-1"]
        assert check_proofs(saved, PUBLIC).ok

    # Paid to help, the operator moves the theft back a year, columns and all: it has expired.
    _sql(
        path,
        (
            "UPDATE records SET canonical = replace(canonical, '2015-06-10', '2014-06-10'), "
            "occurred_at = replace(occurred_at, '2015', '2014'), day = '2014-06-10' WHERE id = 'theft-1'",
            (),
        ),
    )
    with open_ledger(path) as ledger:
        assert _grade(ledger) == (1000.0, "A")  # the edit raised her grade
        report = verify(ledger, public_key=PUBLIC)
        assert not report.ok
        p = report.problems[0]
        assert (p.chain, p.seq, p.id, p.kind) == ("records", 5, "theft-1", "altered")
        fresh = subject_proofs(ledger, MEI)  # what the operator serves now
        result = check_proofs(fresh, PUBLIC)
        assert not result.ok and "NOT in the signed tree" in result.lines[-1][1]
        assert check_proofs(saved, PUBLIC).ok  # her copy still proves what was signed: 2015

    # A more careful operator also re-chains every later link and the head: the chain holds, the
    # signed head does not, and neither does the proof served to Mei.
    _rechain(path)
    with open_ledger(path) as ledger:
        report = verify(ledger)
        assert report.records == 10 and [p.kind for p in report.problems] == ["rewritten"]
        assert report.problems[0].seq == 1 and "seqs 1-10" in report.problems[0].message
        assert not check_proofs(subject_proofs(ledger, MEI), PUBLIC).ok
        # The CLI, on the file she saved and on a fresh one.
        (tmp_path / "saved.json").write_text(json.dumps(saved))
        (tmp_path / "fresh.json").write_text(json.dumps(subject_proofs(ledger, MEI)))
    ok = runner.invoke(app, ["proof", "--check", str(tmp_path / "saved.json"), "--public-key", PUBLIC.hex()])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["proof", "--check", str(tmp_path / "fresh.json"), "--public-key", PUBLIC.hex()])
    assert bad.exit_code == 1 and "FAILED" in bad.output
    cli = runner.invoke(app, ["verify", "--db", str(path)])
    assert cli.exit_code == 1 and "no longer matches" in " ".join(cli.output.split())


# -- the command -----------------------------------------------------------------------------------


def test_proof_command_signs_lists_proves_and_checks(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    key = tmp_path / "keys" / "signing.key"
    with open_ledger(db) as ledger:
        ledger.append_records([_record(i, f"S{i % 2}") for i in range(6)])

    def run(*args: str) -> tuple[int, str]:
        got = runner.invoke(app, ["proof", *args])
        return got.exit_code, got.stdout

    code, out = run("--db", str(db), "--heads", "--json")
    assert code == 0 and json.loads(out) == {"public_key": None, "heads": []}
    assert run("--db", str(db), "--sign-head")[0] == 2  # no key
    code, out = run("--db", str(db), "--sign-head", "--key", str(key), "--json")
    signed = json.loads(out)
    assert code == 0 and [h["size"] for h in signed["heads"]] == [6, 0, 0]
    assert key.stat().st_mode & 0o077 == 0
    public = signed["public_key"]
    with open_ledger(db) as ledger:
        ledger.append_records([_record(6, "S0")])
    code, out = run("--db", str(db), "r2", "--json")  # proved in the newest signed head
    proof = json.loads(out)
    assert code == 0 and proof["size"] == 6 and proof["head"]["size"] == 6 and proof["verified"]
    (tmp_path / "r2.json").write_text(out)
    code, out = run("--check", str(tmp_path / "r2.json"), "--public-key", public)
    assert code == 0 and "all proofs hold" in out
    piped = runner.invoke(app, ["proof", "--check", "-", "--public-key", public], input=json.dumps(proof))
    assert piped.exit_code == 0, piped.output  # from standard input
    piped = runner.invoke(app, ["proof", "--check", "-", "--public-key", public], input="not json")
    assert piped.exit_code == 2
    code, out = run("--db", str(db), "r6", "--json")  # newer than the signed head
    assert code == 0 and json.loads(out)["head"] is None and json.loads(out)["size"] == 7
    code, out = run("--db", str(db), "--subject", "S0", "--json")
    bundle = json.loads(out)
    assert code == 0 and [p["record_id"] for p in bundle["proofs"]] == ["r0", "r2", "r4"]
    assert bundle["unproven"] == [{"tree": "records", "record_id": "r6", "seq": 7}]
    (tmp_path / "s0.json").write_text(out)
    (tmp_path / "pub.hex").write_text(public + "\n")
    code, out = run("--check", str(tmp_path / "s0.json"), "--public-key", str(tmp_path / "pub.hex"), "--json")
    assert code == 0 and json.loads(out)["ok"]
    other = public_key_bytes(load_or_create_key(tmp_path / "other.key")).hex()
    code, out = run("--check", str(tmp_path / "s0.json"), "--public-key", other)
    assert code == 1 and "INVALID" in out
    run("--db", str(db), "--sign-head", "--key", str(key))
    code, out = run("--db", str(db), "--consistency", "6", "7", "--json")
    cons = json.loads(out)
    assert code == 0 and cons["verified"] and cons["old_head"]["size"] == 6 and cons["new_head"]["size"] == 7
    (tmp_path / "c.json").write_text(out)
    assert run("--check", str(tmp_path / "c.json"), "--public-key", public)[0] == 0
    code, out = run("--db", str(db), "--heads")
    assert code == 0 and public in out
    # usage errors
    assert run("--check", str(tmp_path / "c.json"))[0] == 2  # no public key
    assert run("--check", str(tmp_path / "missing.json"), "--public-key", public)[0] == 2
    (tmp_path / "junk.json").write_text("{not json")
    assert run("--check", str(tmp_path / "junk.json"), "--public-key", public)[0] == 2
    (tmp_path / "empty.json").write_text("{}")
    assert run("--check", str(tmp_path / "empty.json"), "--public-key", public)[0] == 1
    assert run("--check", str(tmp_path / "c.json"), "--public-key", "abc")[0] == 1
    assert run("r1")[0] == 2  # no --db
    assert run("--db", str(db), "r1", "--heads")[0] == 2  # two modes
    assert run("--db", str(db), "--subject", "nobody")[0] == 2
    assert run("--db", str(tmp_path / "none.db"), "--heads")[0] == 2


def test_check_refuses_a_head_that_does_not_match_the_proof(tmp_path: Path) -> None:
    with open_ledger(tmp_path / "l.db") as ledger:
        ledger.append_records([_record(i) for i in range(5)])
        head = sign_heads(ledger, KEY, trees=["records"], timestamp=5)[0].head
        proof = record_inclusion_proof(ledger, "r1").to_dict()
    smaller = TreeHead.from_dict({**head.to_dict(), "size": 4})
    assert not check_proofs({**proof, "head": smaller.to_dict()}, PUBLIC).ok  # bad signature
    other = sign_tree_head(KEY, 5, bytes(32), 5)
    assert not check_proofs({**proof, "head": other.to_dict()}, PUBLIC).ok  # signed, other root
    assert not check_proofs({**proof, "head": None}, PUBLIC).ok  # unsigned
    assert not check_proofs([proof], PUBLIC).ok
    assert not check_proofs({**proof, "head": {"size": "x"}}, PUBLIC).ok
    assert check_proofs({**proof, "head": head.to_dict()}, PUBLIC).ok


@pytest.mark.parametrize("module", ["actions", "merkle", "proofs", "verify"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(f"socialcredit.ledger.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed


def test_a_tombstone_counts_only_when_a_purge_action_accounts_for_it(tmp_path: Path) -> None:
    """Emptying a record "as if purged" (keeping its link and leaf hashes, so that the chain and
    the tree still hold) is the bribed operator's quiet delete: verify needs the purge action."""
    import hashlib

    path = tmp_path / "l.db"
    with open_ledger(path) as ledger:
        ledger.append_records([_record(i) for i in range(6)])
        root = ledger_tree(ledger).root()
        sign_heads(ledger, KEY, trees=["records"], timestamp=1)
    row = _rows(path)[2]
    stone = canonical_json(
        {
            **{k: json.loads(row["canonical"])[k] for k in ("id", "category", "occurred_at", "source")},
            "subject": "",
            "purged": {
                "on": "2024-01-01",
                "link_hash": row["hash"],
                "leaf_hash": hashlib.sha256(b"\x00" + row["canonical"].encode()).hexdigest(),
                "content_sha256": hashlib.sha256(row["canonical"].encode()).hexdigest(),
            },
        }
    )
    _sql(path, ("UPDATE records SET canonical = ?, subject = '' WHERE seq = 3", (stone,)))
    with open_ledger(path) as ledger:
        assert ledger_tree(ledger).root() == root  # the tree keeps the purged leaf's hash
        report = verify(ledger)
        assert [(p.seq, p.kind) for p in report.problems] == [(3, "altered")]
        assert "no record.purged action" in report.message
        payload = {"record": "r2", "seq": 3, "link_hash": row["hash"]}
        append_actions(
            ledger, [{"kind": "record.purged", "actor": "archivist", "reason": "5 years", "payload": payload}]
        )
        assert verify(ledger, public_key=PUBLIC).ok
