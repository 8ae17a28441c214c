"""The chain of manual actions: append, read, validation, verify, and the token actions."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.errors import LedgerError
from socialcredit.ledger import Ledger, append_actions, link_hash, open_ledger, read_actions, verify
from socialcredit.ledger.actions import action_line, insert_actions
from socialcredit.service.tokens import create_token, revoke_token

runner = CliRunner()


def _action(i: int, **extra: object) -> dict:
    return {
        "kind": "objection.filed" if i % 2 else "listing.manual",
        "actor": f"clerk {i % 3}",
        "subject": f"S{i % 4}",
        "reason": f"reason {i}",
        "payload": {"n": i},
        "at": f"2019-01-0{1 + i % 9}T08:00:00+08:00",
        **extra,
    }


def test_append_and_read_back_in_order(ledger: Ledger) -> None:
    assert append_actions(ledger, []) == []
    assert append_actions(ledger, [_action(i) for i in range(6)]) == [1, 2, 3, 4, 5, 6]
    assert append_actions(ledger, [_action(6)]) == [7]
    everything = read_actions(ledger)
    assert [a["seq"] for a in everything] == list(range(1, 8))
    first = everything[0]
    assert {k: first[k] for k in ("kind", "actor", "subject", "reason", "payload", "at")} == {
        "kind": "listing.manual",
        "actor": "clerk 0",
        "subject": "S0",
        "reason": "reason 0",
        "payload": {"n": 0},
        "at": "2019-01-01T08:00:00+08:00",
    }
    assert len(first["hash"]) == 64
    assert [a["seq"] for a in read_actions(ledger, subject="S1")] == [2, 6]
    assert [a["seq"] for a in read_actions(ledger, kind="objection.filed")] == [2, 4, 6]
    assert [a["seq"] for a in read_actions(ledger, kind_prefix="objection.")] == [2, 4, 6]
    assert read_actions(ledger, kind_prefix="objection%") == []  # LIKE wildcards are literal
    assert [a["seq"] for a in read_actions(ledger, after=3, limit=2)] == [4, 5]
    assert [a["seq"] for a in read_actions(ledger, actor="clerk 2")] == [3, 6]
    heads = ledger.heads()["actions"]
    assert heads["count"] == 7 and heads["head"] == everything[-1]["hash"]
    assert heads["last_id"] == "listing.manual"


def test_the_chain_is_sha256_over_the_canonical_lines(ledger: Ledger) -> None:
    append_actions(ledger, [_action(i) for i in range(3)])
    prev = "0" * 64
    for a in read_actions(ledger):
        line, _ = action_line({k: a[k] for k in ("kind", "actor", "subject", "reason", "payload", "at")})
        prev = link_hash(prev, line)
        assert a["hash"] == prev


def test_time_defaults_to_now_in_utc_and_naive_times_are_utc(ledger: Ledger) -> None:
    base = {"kind": "correction", "actor": "clerk", "subject": None, "reason": "typo"}
    append_actions(ledger, [base, {**base, "at": "2019-05-01T10:00:00"}])
    now, naive = read_actions(ledger)
    assert now["at"].endswith("+00:00") and now["at"] >= "2026"
    assert naive["at"] == "2019-05-01T10:00:00+00:00"
    assert now["subject"] is None and now["payload"] == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": ""}, "reason is missing or blank"),
        ({"reason": "   "}, "reason is missing or blank"),
        ({"reason": None}, "reason is missing or blank"),
        ({"actor": ""}, "actor is missing"),
        ({"kind": 3}, "kind is missing"),
        ({"kind": "x" * 65}, "longer than 64"),
        ({"subject": 12}, "not a subject id"),
        ({"payload": [1]}, "not a JSON object"),
        ({"payload": {"x": float("nan")}}, "cannot be stored as JSON"),
        ({"payload": {"x": object()}}, "cannot be stored as JSON"),
        ({"at": "yesterday"}, "not an ISO 8601"),
        ({"at": 5}, "not an ISO 8601"),
        ({"why": "x"}, "unknown action field 'why'"),
    ],
)
def test_bad_actions_are_refused_and_nothing_is_written(ledger: Ledger, change: dict, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        append_actions(ledger, [_action(1), {**_action(2), **change}])
    assert read_actions(ledger) == [] and "actions" not in ledger.heads()


def test_missing_reason_key_is_refused(ledger: Ledger) -> None:
    bad = _action(1)
    del bad["reason"]
    with pytest.raises(LedgerError, match="a reason is required"):
        append_actions(ledger, [bad])


def test_insert_actions_rolls_back_with_the_callers_transaction(ledger: Ledger) -> None:
    def work(conn: sa.Connection) -> None:
        insert_actions(conn, [_action(1)])
        raise RuntimeError("the decision itself failed")

    with pytest.raises(RuntimeError):
        ledger._write(work)
    assert read_actions(ledger) == [] and "actions" not in ledger.heads()
    assert ledger._write(lambda conn: insert_actions(conn, [_action(1), _action(2)])) == [1, 2]


# -- verify covers the chain --------------------------------------------------------------------


@pytest.fixture
def acted(tmp_path: Path) -> Path:
    """A SQLite ledger with 8 actions (tampered with through sqlite3 below)."""
    path = tmp_path / "acted.db"
    with open_ledger(path) as ledger:
        append_actions(ledger, [_action(i) for i in range(8)])
    return path


def _problem(path: Path) -> dict:
    result = runner.invoke(app, ["verify", "--db", str(path), "--json"])
    out = json.loads(result.stdout)
    assert result.exit_code == 1 and not out["intact"], out
    return out["problems"][0]


def test_an_intact_chain_of_actions_verifies(acted: Path) -> None:
    result = runner.invoke(app, ["verify", "--db", str(acted), "--json"])
    out = json.loads(result.stdout)
    assert result.exit_code == 0 and out["actions"] == 8 and len(out["heads"]["actions"]) == 64
    text = runner.invoke(app, ["verify", "--db", str(acted)]).stdout
    assert "actions: 8 links intact" in text


@pytest.mark.parametrize(
    ("sql", "kind", "seq"),
    [
        ("UPDATE actions SET line = replace(line, 'reason 3', 'reason 33') WHERE seq = 4", "altered", 4),
        ("UPDATE actions SET actor = 'someone else' WHERE seq = 5", "altered", 5),
        ("UPDATE actions SET subject = NULL WHERE seq = 2", "altered", 2),
        ("DELETE FROM actions WHERE seq = 3", "removed", 3),
        ("DELETE FROM actions WHERE seq = 8", "removed", 8),
        ("DELETE FROM meta WHERE chain = 'actions'", "inserted", 1),
    ],
)
def test_tampering_with_actions_is_named(acted: Path, sql: str, kind: str, seq: int) -> None:
    con = sqlite3.connect(acted)
    con.execute(sql)
    con.commit()
    con.close()
    p = _problem(acted)
    assert (p["chain"], p["kind"], p["seq"]) == ("actions", kind, seq)
    assert "action seq" in p["message"]


# -- the migration ----------------------------------------------------------------------------------


def test_an_older_ledger_gets_the_actions_chain_and_keeps_its_data(tmp_path: Path) -> None:
    from alembic import command

    from socialcredit.ledger import migrate

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    assert "actions" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    with open_ledger(tmp_path / "old.db") as ledger:
        assert {"actions", "tree_heads"} <= set(sa.inspect(ledger.engine).get_table_names())
        assert "actions" not in ledger.heads()  # its row of meta comes with the first action
        assert verify(ledger).ok and verify(ledger).actions == 0
        append_actions(ledger, [_action(1)])
        assert ledger.heads()["actions"]["count"] == 1
        assert verify(ledger).ok and verify(ledger).actions == 1


# -- tokens are manual actions -------------------------------------------------------------------


def test_making_and_revoking_a_token_appends_actions(ledger: Ledger, tiny) -> None:
    info, _ = create_token(
        ledger, role="subject", subject=tiny.persons[0], label="her own", actor="admin:li", reason="asked"
    )
    create_token(ledger, role="officer", label="counter 3")
    revoke_token(ledger, info.id, actor="admin:wang", reason="lost her phone")
    made, made2, revoked = read_actions(ledger, kind_prefix="token.")
    assert (made["kind"], made["actor"], made["reason"], made["subject"]) == (
        "token.create",
        "admin:li",
        "asked",
        tiny.persons[0],
    )
    assert made["payload"] == {"token": info.id, "role": "subject", "source": None, "expires_at": None}
    assert made["at"] == info.created_at
    assert (made2["actor"], made2["reason"], made2["subject"]) == ("unnamed", "counter 3", None)
    assert (revoked["kind"], revoked["actor"], revoked["reason"]) == (
        "token.revoke",
        "admin:wang",
        "lost her phone",
    )
    assert revoked["subject"] == tiny.persons[0] and revoked["payload"]["token"] == info.id
    assert read_actions(ledger, subject=tiny.persons[0]) == [made, revoked]
    assert verify(ledger).ok


def test_a_refused_token_leaves_no_action(ledger: Ledger) -> None:
    from socialcredit.service.errors import TokenError

    with pytest.raises(TokenError):
        create_token(ledger, role="source", source="no such source")
    info, _ = create_token(ledger, role="officer")
    revoke_token(ledger, info.id)
    with pytest.raises(TokenError):
        revoke_token(ledger, info.id)
    assert [a["kind"] for a in read_actions(ledger)] == ["token.create", "token.revoke"]
    assert read_actions(ledger)[1]["reason"] == "no reason given"


def test_token_cli_records_actor_and_reason(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    ledger = open_ledger(db)
    made = runner.invoke(
        app, ["token", "create", "--db", db, "--role", "officer", "--reason", "new clerk", "--json"]
    )
    assert made.exit_code == 0, made.output
    token_id = json.loads(made.stdout)["id"]
    gone = runner.invoke(
        app, ["token", "revoke", token_id, "--db", db, "--actor", "admin:zhao", "--reason", "left the job"]
    )
    assert gone.exit_code == 0, gone.output
    made_action, revoked = read_actions(ledger)
    assert made_action["actor"].startswith("cli") and made_action["reason"] == "new clerk"
    assert (revoked["actor"], revoked["reason"]) == ("admin:zhao", "left the job")
    ledger.close()
