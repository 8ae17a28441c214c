"""``socialcredit objection``: notices, file, review, list, compare."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.ids import generate_resident_id
from socialcredit.ledger import open_ledger, verify

J = generate_resident_id(13, 1)


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.output


def test_objection_cycle_on_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    with open_ledger(db) as led:
        led.append_registry([{"id": J, "kind": "person", "name": "A journalist (synthetic)"}])
        led.append_records(
            [{"id": "c1", "subject": J, "category": "judicial.judgment_default", "source": "court",
              "occurred_at": "2019-03-01"}]
        )  # fmt: skip
    code, out = run("objection", "notices", "--db", db, J, "--on", "2019-03-02", "--json")
    assert code == 0 and json.loads(out)["notices"][0]["object_by"] == "2019-03-10"
    code, out = run("objection", "file", "--db", db, J, "--record", "c1", "--grounds", "paid",
                    "--list", "judgment_defaulters", "--on", "2019-03-05", "--json")  # fmt: skip
    assert code == 0, out
    oid = json.loads(out)["id"]
    code, out = run("objection", "review", "--db", db, oid, "--officer", "judge-7", "--on", "2019-03-06")
    assert code == 0 and "under_review" in out
    code, out = run(
        "objection", "review", "--db", db, oid, "--officer", "judge-7", "--reject", "--on", "2019-03-07"
    )
    assert code == 2 and "--reasons" in out
    code, out = run("objection", "review", "--db", db, oid, "--officer", "judge-7", "--reject",
                    "--reasons", "no receipt", "--on", "2019-03-07", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["state"] == "rejected"
    code, out = run("objection", "list", "--db", db, "--subject", J, "--json")
    assert [o["state"] for o in json.loads(out)["objections"]] == ["rejected"]
    code, out = run("objection", "list", "--db", db, "--state", "maybe")
    assert code == 2 and "--state" in out
    code, out = run("objection", "file", "--db", db, J, "--record", "zz", "--grounds", "x")
    assert code == 2 and "records:" in out
    code, out = run(
        "objection", "file", "--db", str(tmp_path / "none.db"), J, "--record", "c1", "--grounds", "x"
    )
    assert code == 2 and "--db" in out
    code, out = run("objection", "compare", "--db", db, "--from", "2019-03-01", "--to", "2019-06-01",
                    "--error-rate", "1", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["wrongful"] == 1
    code, out = run("objection", "repair", "--db", db, J, "--on", "2019-06-01", "--json")
    assert code == 0 and "judicial.judgment_fulfilled" in {o["category"] for o in json.loads(out)["options"]}
    code, out = run("objection", "repair", "--db", db, "nobody", "--on", "2019-06-01")
    assert code == 2 and "subject:" in out
    assert verify(db).ok
