"""``socialcredit score``, ``explain`` and ``check`` over a real ledger: the documents' cases
through the command line, JSON shapes and exit codes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from socialcredit import ids
from socialcredit.cli import app

runner = CliRunner()
ANN = ids.make_resident_id("000601", date(1975, 4, 2), 11)
BO = ids.make_resident_id("000601", date(1978, 9, 9), 13)
CY = ids.make_resident_id("000601", date(1969, 1, 30), 15)
DAN = ids.make_resident_id("000601", date(1980, 1, 1), 17)
ERIN = ids.make_resident_id("000601", date(2010, 5, 5), 18)
LI = ids.make_resident_id("000601", date(1985, 6, 1), 19)
ACME = ids.generate_uscc(5, 0, region="Rongcheng")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("engine_cli")
    db = tmp / "ledger.db"
    registry = [
        {"id": ACME, "kind": "organisation", "name": "Acme Trading (synthetic)"},
        *(
            {"id": p, "kind": "person", "name": f"{n} (synthetic)"}
            for p, n in ((ANN, "Ann"), (BO, "Bo"), (CY, "Cy"), (DAN, "Dan"), (ERIN, "Erin"), (LI, "Li"))
        ),
        {"relation": "legal_representative_of", "subject": ANN, "object": ACME, "since": "2015-01-01"},
        {"relation": "legal_representative_of", "subject": BO, "object": ACME, "since": "2015-01-01"},
        {
            "relation": "legal_representative_of",
            "subject": CY,
            "object": ACME,
            "since": "2012-01-01",
            "until": "2016-01-01",
        },
        {"relation": "parent_of", "subject": DAN, "object": ERIN, "since": "2010-05-05"},
    ]
    records = [
        {
            "id": "r1",
            "subject": ACME,
            "category": "judicial.judgment_default",
            "occurred_at": "2018-03-05",
            "source": "court",
        },
        {
            "id": "r2",
            "subject": ACME,
            "category": "judicial.judgment_fulfilled",
            "occurred_at": "2019-04-03",
            "source": "court",
        },
        {
            "id": "d1",
            "subject": DAN,
            "category": "judicial.judgment_default",
            "occurred_at": "2018-02-01",
            "source": "court",
        },
        {
            "id": "v1",
            "subject": LI,
            "category": "social.volunteering",
            "occurred_at": "2019-03-01",
            "source": "civil_affairs",
            "value": 120,
        },
        {
            "id": "t1",
            "subject": LI,
            "category": "traffic.ticket",
            "occurred_at": "2019-05-01",
            "source": "traffic_police",
        },
        {
            "id": "c1",
            "subject": LI,
            "category": "traffic.ticket",
            "occurred_at": "2019-07-01",
            "source": "traffic_police",
            "corrects": "t1",
        },
    ]
    for args in (
        ["registry", "import", "--db", str(db), str(write_jsonl(tmp / "registry.jsonl", registry))],
        ["ingest", "--db", str(db), "--now", "2020-01-01", str(write_jsonl(tmp / "records.jsonl", records))],
    ):
        got = runner.invoke(app, args)
        assert got.exit_code == 0, got.output
    return db


def check(db: Path, subject: str, action: str, on: str, *extra: str) -> tuple[int, dict]:
    got = runner.invoke(app, ["check", "--db", str(db), subject, action, "--on", on, "--json", *extra])
    return got.exit_code, json.loads(got.stdout)


def test_life_in_the_blacklist_through_the_cli(db: Path) -> None:
    code, out = check(db, ANN, "travel.high_speed_rail", "2018-06-01")
    assert code == 1 and out["outcome"] == "denied"
    assert set(out) == {"subject", "action", "on", "outcome", "reasons"}
    r = out["reasons"][0]
    assert set(r) >= {"rulebook", "list", "measure", "effect", "since", "until", "source", "via"}
    assert r["via"] == {"relation": "legal_representative_of", "from": ACME}
    assert r["list"] == "spending_restricted" and r["since"] == "2018-03-05"
    assert check(db, BO, "travel.high_speed_rail", "2018-06-01")[0] == 1
    code, out = check(db, CY, "travel.high_speed_rail", "2018-06-01")
    assert code == 0 and out["outcome"] == "allowed" and out["reasons"] == []
    # fulfilled Wednesday 3 April 2019; deleted within 3 working days
    assert check(db, ANN, "travel.high_speed_rail", "2019-04-05")[1]["reasons"][0]["until"] == ("2019-04-08")
    assert check(db, ANN, "travel.high_speed_rail", "2019-04-08")[0] == 0
    text = runner.invoke(app, ["explain", "--db", str(db), ANN, "--as-of", "2018-06-01"]).stdout
    assert f"r1 (judicial.judgment_default, 2018-03-05) of {ACME} → judgment_defaulters" in text


def test_family_and_red_list_through_the_cli(db: Path) -> None:
    code, out = check(db, ERIN, "education.private_school", "2019-06-01")
    assert code == 1 and out["reasons"][0]["via"] == {"relation": "parent_of", "from": DAN}
    # rongcheng before its consent rule (2021): the volunteer reaches AAA and is rewarded
    code, out = check(db, LI, "rental.deposit_free", "2020-06-01", "--rulebook", "rongcheng")
    assert code == 0 and out["outcome"] == "rewarded" and out["reasons"][0]["grade"] == "AAA"
    got = runner.invoke(
        app, ["explain", "--db", str(db), LI, "--rulebook", "rongcheng", "--as-of", "2020-06-01", "--json"]
    )
    expl = json.loads(got.stdout)
    score = expl["rulebooks"][0]["scores"][0]
    assert score["grade"] == "AAA" and [p["record"] for p in score["parts"]] == ["v1"]
    assert expl["rulebooks"][0]["annulled"][0]["record"] == "t1"


def test_score_writes_parquet_and_prints_sizes(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    got = runner.invoke(
        app,
        [
            "score",
            "--db",
            str(db),
            "--rulebook",
            "national",
            "--rulebook",
            "rongcheng",
            "--as-of",
            "2020-06-01",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert got.exit_code == 0, got.output
    summary = json.loads(got.stdout)
    sizes = {(x["rulebook"], x["list"]): x["size"] for x in summary["lists"]}
    assert sizes[("national", "judgment_defaulters")] == 1  # dan
    table = pq.read_table(out)
    assert {"subject", "score", "grade"} <= set(table.column_names)
    rows = {r["subject"]: r for r in table.to_pylist()}
    assert rows[LI]["grade"] == "AAA" and rows[LI]["score"] > 1050
    text = runner.invoke(app, ["score", "--db", str(db), "--as-of", "2020-06-01"]).stdout
    assert "judgment_defaulters" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "NOBODY", "travel.flight"], "unknown subject 'NOBODY'"),
        (["check", ANN, "travel.teleport"], "unknown action 'travel.teleport'"),
        (["check", ANN, "travel.flight", "--on", "2019-02-30"], "malformed date"),
        (["explain", "NOBODY"], "unknown subject"),
        (["score", "--as-of", "yesterday"], "malformed date"),
        (["score", "--rulebook", "no-such-rulebook"], "no-such-rulebook"),
    ],
)
def test_usage_errors_exit_2_with_one_line(db: Path, args: list[str], message: str) -> None:
    got = runner.invoke(app, [args[0], "--db", str(db), *args[1:]])
    assert got.exit_code == 2
    assert message in got.output
    assert "Traceback" not in got.output and len(got.output.strip().splitlines()) == 1


def test_a_missing_ledger_is_a_usage_error(tmp_path: Path) -> None:
    got = runner.invoke(app, ["score", "--db", str(tmp_path / "none.db")])
    assert got.exit_code == 2 and "no ledger" in got.output


def test_score_and_explain_report_fines(db: Path, tmp_path: Path) -> None:
    """A rulebook with fines: ``score`` totals them per rulebook, ``explain`` lists each with its
    record and rule; an annulled record is never fined."""
    book = tmp_path / "fines.yaml"
    book.write_text(
        "id: fines\ntitle: Fines\njurisdiction: China\n"
        "versions:\n  - {id: a, effective: 2000-01-01, summary: s, assumed: true, reason: test}\n"
        "rules:\n"
        "  - {id: default_fine, label: Default fine, category: judicial.judgment_default,"
        " fine: {yuan: 1000}, assumed: true, reason: test}\n"
        "  - {id: ticket_fine, label: Ticket fine, category: traffic.ticket,"
        " fine: {yuan: 50}, assumed: true, reason: test}\n",
        "utf-8",
    )
    got = runner.invoke(
        app, ["score", "--db", str(db), "--rulebook", str(book), "--as-of", "2019-06-01", "--json"]
    )
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["fines"] == [{"rulebook": "fines", "fines": 2, "yuan": 2000.0}]
    text = runner.invoke(
        app, ["explain", "--db", str(db), DAN, "--rulebook", str(book), "--as-of", "2019-06-01"]
    )
    assert "fines: 1000 yuan" in text.output and "d1 2018-02-01 judicial.judgment_default" in text.output
    li = runner.invoke(
        app, ["explain", "--db", str(db), LI, "--rulebook", str(book), "--as-of", "2019-08-01", "--json"]
    )
    assert json.loads(li.stdout)["rulebooks"][0]["fines"] == []  # its ticket was annulled
