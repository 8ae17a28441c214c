"""The service's parts: settings that refuse unsafe defaults, tokens, the batched audit log, the
migration of its tables, the CLI (`serve`, `token`), and the modules' docstring examples."""

from __future__ import annotations

import datetime as dt
import doctest
import hashlib
import importlib
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import ValidationError
from typer.testing import CliRunner

from socialcredit.cli import app as cli
from socialcredit.ledger import Ledger, open_ledger
from socialcredit.ledger.schema import metadata as ledger_metadata
from socialcredit.service import Settings
from socialcredit.service.audit import AuditLog, read_audit
from socialcredit.service.errors import TokenError
from socialcredit.service.tables import api_tokens
from socialcredit.service.tables import metadata as service_metadata
from socialcredit.service.tokens import (
    PUBLIC,
    Principal,
    create_token,
    list_tokens,
    revoke_token,
    verify_bearer,
)

runner = CliRunner()


@pytest.fixture
def db(ledger: Ledger) -> Path | str:
    return ledger.location


# -- settings ------------------------------------------------------------------------------------


def test_settings_refuse_a_missing_ledger_and_a_public_bind(tmp_path: Path, db: Path) -> None:
    with pytest.raises(ValidationError, match="no ledger at"):
        Settings(db=tmp_path / "missing.db")
    with pytest.raises(ValidationError, match="Field required"):
        Settings()  # type: ignore[call-arg]
    for host in ("0.0.0.0", "192.168.1.5", "example.org", "::"):
        with pytest.raises(ValidationError, match="refusing to bind"):
            Settings(db=db, host=host)
    assert Settings(db=db, host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert Settings(db=db, host=host).host == host
    with pytest.raises(ValidationError):
        Settings(db=db, rulebooks=())
    with pytest.raises(ValidationError):
        Settings(db=db, port=0)


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    monkeypatch.setenv("SOCIALCREDIT_DB", str(db))
    monkeypatch.setenv("SOCIALCREDIT_TODAY", "2019-06-01")
    monkeypatch.setenv("SOCIALCREDIT_RULEBOOKS", '["national", "rongcheng"]')
    s = Settings()  # type: ignore[call-arg]
    assert s.db == db and s.today == dt.date(2019, 6, 1) and s.rulebooks == ("national", "rongcheng")
    assert s.clock_date() == dt.date(2019, 6, 1)
    assert s.ingest_clock().date() == dt.date(2019, 6, 1)


# -- tokens --------------------------------------------------------------------------------------


def test_tokens_are_stored_as_a_hash_of_the_secret(ledger: Ledger) -> None:
    info, bearer = create_token(ledger, role="officer")
    secret = bearer.split("_", 2)[2]
    with ledger.engine.connect() as conn:
        row = conn.execute(sa.select(api_tokens)).mappings().one()
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(dict(row))
    assert verify_bearer(ledger, bearer) == Principal(info.id, "officer")


def test_token_scopes_are_checked(ledger: Ledger, tiny: Any) -> None:
    src, _ = create_token(ledger, role="source", source="court")
    assert (src.role, src.source) == ("source", "court")
    _, bearer = create_token(ledger, role="subject", subject=tiny.persons[0])
    assert verify_bearer(ledger, bearer).subject == tiny.persons[0]
    for bad in (
        {"role": "source"},
        {"role": "source", "source": "nobody"},
        {"role": "subject"},
        {"role": "subject", "subject": tiny.stranger},
        {"role": "officer", "subject": tiny.persons[0]},
        {"role": "admin", "source": "court"},
        {"role": "king"},
        {"role": "officer", "expires": "soon"},
    ):
        with pytest.raises(TokenError):
            create_token(ledger, **bad)


def test_tokens_expire_and_are_revoked(ledger: Ledger) -> None:
    old, old_bearer = create_token(ledger, role="officer", expires="2001-01-01")
    with pytest.raises(TokenError, match="expired") as exc:
        verify_bearer(ledger, old_bearer)
    assert exc.value.reason == "expired" and old.status() == "expired"
    # a date means its start in China Standard Time
    assert old.expires_at == "2000-12-31T16:00:00+00:00"
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    info, bearer = create_token(ledger, role="officer", expires=soon)
    assert verify_bearer(ledger, bearer).role == "officer"
    revoked = revoke_token(ledger, info.id)
    assert revoked.status() == "revoked"
    with pytest.raises(TokenError) as exc:
        verify_bearer(ledger, bearer)
    assert exc.value.reason == "revoked"
    with pytest.raises(TokenError) as exc:
        revoke_token(ledger, info.id)
    assert exc.value.reason == "already_revoked"
    with pytest.raises(TokenError) as exc:
        revoke_token(ledger, "000000000000")
    assert exc.value.reason == "not_found"
    # oldest first (to the second: PostgreSQL keeps no insertion order, ties go by id)
    assert {t.id: t.status() for t in list_tokens(ledger)} == {old.id: "expired", info.id: "revoked"}


@pytest.mark.parametrize("bearer", ["", "sct_", "hello", "sct_0123456789ab_short", "sct_XYZ_" + "a" * 43])
def test_malformed_tokens_are_invalid(ledger: Ledger, bearer: str) -> None:
    with pytest.raises(TokenError) as exc:
        verify_bearer(ledger, bearer)
    assert exc.value.reason == "invalid"


def test_a_wrong_secret_is_unknown(ledger: Ledger) -> None:
    info, _ = create_token(ledger, role="officer")
    with pytest.raises(TokenError) as exc:
        verify_bearer(ledger, f"sct_{info.id}_" + "a" * 43)
    assert exc.value.reason == "unknown"


# -- the audit log ---------------------------------------------------------------------------------


def test_audit_log_flushes_when_the_buffer_fills(ledger: Ledger) -> None:
    audit = AuditLog(ledger.engine, flush_entries=5, flush_ms=60_000)
    audit.start()
    try:
        for i in range(4):
            audit.log(PUBLIC, "public_search", detail={"i": i})
        time.sleep(0.2)
        assert read_audit(ledger.engine) == [] and audit.pending == 4
        audit.log(PUBLIC, "public_search", detail={"i": 4})
        deadline = time.monotonic() + 10
        while audit.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [e["detail"]["i"] for e in read_audit(ledger.engine)] == [0, 1, 2, 3, 4]
    finally:
        audit.close()


def test_audit_log_flushes_on_a_timer_and_at_close(ledger: Ledger) -> None:
    audit = AuditLog(ledger.engine, flush_entries=10_000, flush_ms=50)
    audit.start()
    who = Principal("0123456789ab", "officer")
    audit.log(who, "read_subject", subject="S1")
    deadline = time.monotonic() + 10
    while not read_audit(ledger.engine) and time.monotonic() < deadline:
        time.sleep(0.01)
    entry = read_audit(ledger.engine)[0]
    assert (entry["token_id"], entry["role"], entry["action"], entry["subject"], entry["status"]) == (
        "0123456789ab",
        "officer",
        "read_subject",
        "S1",
        200,
    )
    audit.flush_ms = 60_000
    time.sleep(0.1)
    audit.log(who, "read_subject", subject="S2", status=403)
    audit.close()
    assert [e["subject"] for e in read_audit(ledger.engine)] == ["S1", "S2"]
    assert read_audit(ledger.engine, subject="S2")[0]["status"] == 403


def test_audit_log_costs_little_per_entry(ledger: Ledger) -> None:
    audit = AuditLog(ledger.engine, flush_entries=512, flush_ms=100)
    audit.start()
    start = time.perf_counter()
    for i in range(20_000):
        audit.log(PUBLIC, "decide", subject=f"S{i}", detail={"action": "travel.flight"})
    per_entry = (time.perf_counter() - start) / 20_000
    audit.close()
    assert len(read_audit(ledger.engine, limit=100_000)) == 20_000
    assert per_entry < 200e-6  # generous: a deque append and a tuple, not a database write


# -- the migration -------------------------------------------------------------------------------


def test_the_migration_creates_exactly_the_service_tables(tmp_path: Path) -> None:
    with open_ledger(tmp_path / "l.db") as ledger, ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), [ledger_metadata, service_metadata])
    assert diff == []


def test_an_existing_ledger_is_upgraded_with_the_service_tables(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from socialcredit.ledger import migrate

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg: Config = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert "api_tokens" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    with open_ledger(tmp_path / "old.db") as ledger:
        assert {"api_tokens", "audit_log"} <= set(sa.inspect(ledger.engine).get_table_names())


# -- the CLI ---------------------------------------------------------------------------------------


def test_cli_token_create_list_revoke(db: Path, tiny: Any) -> None:
    made = runner.invoke(
        cli,
        [
            "token",
            "create",
            "--db",
            str(db),
            "--role",
            "source",
            "--source",
            "court",
            "--label",
            "court feed",
            "--json",
        ],
    )
    assert made.exit_code == 0, made.output
    token = json.loads(made.stdout)
    assert token["token"].startswith(f"sct_{token['id']}_") and token["source"] == "court"
    plain = runner.invoke(
        cli, ["token", "create", "--db", str(db), "--role", "subject", "--subject", tiny.persons[0]]
    )
    assert plain.exit_code == 0 and "sct_" in plain.stdout and "shown this once" in plain.output
    listed = json.loads(runner.invoke(cli, ["token", "list", "--db", str(db), "--json"]).stdout)
    assert [t["role"] for t in listed] == ["source", "subject"]
    assert token["token"] not in json.dumps(listed)
    assert runner.invoke(cli, ["token", "list", "--db", str(db)]).exit_code == 0
    revoked = runner.invoke(cli, ["token", "revoke", token["id"], "--db", str(db)])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    again = runner.invoke(cli, ["token", "revoke", token["id"], "--db", str(db)])
    assert again.exit_code == 2 and "already revoked" in again.output
    with open_ledger(db) as ledger, pytest.raises(TokenError):
        verify_bearer(ledger, token["token"])


@pytest.mark.parametrize(
    "args,message",
    [
        (["--role", "source"], "needs --source"),
        (["--role", "officer", "--expires", "2001-01-01"], "in the past"),
        (["--role", "officer", "--expires", "tomorrow"], "not an ISO 8601"),
        (["--role", "mayor"], "unknown role"),
    ],
)
def test_cli_token_create_refuses(db: Path, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["token", "create", "--db", str(db), *args])
    assert result.exit_code == 2 and message in " ".join(result.output.split())


def test_cli_token_commands_need_an_existing_ledger(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["token", "list", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "no ledger" in result.output
    assert not (tmp_path / "none.db").exists()


def test_cli_serve_refuses_unsafe_settings(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw))
    public = runner.invoke(cli, ["serve", "--db", str(db), "--host", "0.0.0.0"])
    assert public.exit_code == 2 and "refusing to bind" in " ".join(public.output.split())
    missing = runner.invoke(cli, ["serve", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "no ledger" in missing.output
    ok = runner.invoke(cli, ["serve", "--db", str(db), "--port", "8123", "--today", "2019-06-01"])
    assert ok.exit_code == 0, ok.output
    assert served == [{"host": "127.0.0.1", "port": 8123, "log_level": "info", "access_log": False}]
    remote = runner.invoke(cli, ["serve", "--db", str(db), "--host", "0.0.0.0", "--allow-remote"])
    assert remote.exit_code == 0 and served[-1]["host"] == "0.0.0.0"


# -- docstring examples --------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["settings", "tokens", "audit", "app"])
def test_docstring_examples_run(module: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = importlib.import_module(f"socialcredit.service.{module}")
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed
