"""Citizen reports held for review (issue #16, item 5; docs/security.md).

A burst of false ``citizen_report`` records by one reporter lists nobody by itself
(tests/test_security_abuse.py); here the rest of the defence:

* the held reports are in the subject's file — the engine's ``Evaluation.held``, the
  explanation, the API file and the portal's ``/my`` — with the reporter masked (and masked in
  the records a subject token reads), while the officer's list names the reporter;
* a department's confirmation, an action in the tamper-evident actions chain (CLI and API), makes
  the report count from its day; a quorum of distinct reporters makes reports count; a rejected
  report never counts and breaks a quorum it was part of; a report is decided once;
* property: any number of repeats by one reporter changes no evaluation (vs their first report).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ingest_helpers import NOW, Tiny
from service_world import build_world
from socialcredit.cli import app as cli
from socialcredit.dueprocess.objections import bind_ledger
from socialcredit.dueprocess.reports import decide_report, report_review
from socialcredit.engine import Engine
from socialcredit.engine.reports import DECISIONS_SCHEMA, ReportReview
from socialcredit.ingest import ingest_files
from socialcredit.ledger import open_ledger
from socialcredit.ledger.actions import read_actions
from socialcredit.records import records_table
from socialcredit.registry import Registry
from socialcredit.service.tokens import create_token

runner = CliRunner()
OFF_LEASH = "pet.dog_off_leash"


def _report(rid: str, dog: str, reporter: str, day: str, category: str = OFF_LEASH) -> dict[str, Any]:
    return {
        "id": rid,
        "subject": dog,
        "category": category,
        "source": "citizen_report",
        "reported_by": reporter,
        "occurred_at": day,
    }


def _burst(tiny: Tiny, n: int = 12) -> list[dict[str, Any]]:
    return [_report(f"burst-{i}", tiny.dog, tiny.persons[0], f"2018-06-{1 + i % 7:02d}") for i in range(n)]


def _ledger(tmp_path: Path, tiny: Tiny, lines: list[dict[str, Any]]) -> Path:
    db = tmp_path / "ledger.db"
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with open_ledger(db) as ledger:
        ledger.append_registry(tiny.registry)
        assert ingest_files(ledger, [path], now=NOW).accepted == len(lines)
    return db


def _score(ev: Any, subject: str) -> float | None:
    return ev.score_of(subject)[0]


def test_a_burst_is_held_and_visible_to_its_subject_with_the_reporter_masked(tiny: Tiny) -> None:
    reporter = tiny.persons[0]
    ev = Engine(["jinan-dogs"]).evaluate(
        records_table(_burst(tiny)), Registry.from_lines(tiny.registry), "2018-06-30"
    )
    assert _score(ev, tiny.dog) == 12  # nothing counted
    held = ev.held(tiny.dog)
    assert len(held) == 12
    assert [h["state"] for h in held].count("held") == 1  # the first, waiting for review
    assert [h["state"] for h in held].count("repeat") == 11  # one reporter's burst counts as one
    assert all(h["reported_by"] == "(masked)" for h in held)
    ex = ev.explain(tiny.dog)
    assert [h["record"] for h in ex.to_dict()["held"]] == [h["record"] for h in held]
    text = ex.render() + json.dumps(ex.to_dict())
    assert "burst-0" in text and "held for review" in text and reporter not in text


def test_a_quorum_of_distinct_reporters_makes_the_reports_count(tiny: Tiny) -> None:
    reg = Registry.from_lines(tiny.registry)
    three = [_report(f"q{i}", tiny.dog, tiny.persons[i], f"2018-06-{1 + 5 * i:02d}") for i in range(3)]
    engine = Engine(["jinan-dogs"])
    as_department = [{**r, "source": "public_security", "reported_by": None} for r in three]
    want = engine.evaluate(records_table(as_department), reg, "2018-06-30")
    bound = engine.bind(records_table(three), reg)
    assert _score(bound.evaluate("2018-06-10"), tiny.dog) == 12  # two reporters so far: held
    got = bound.evaluate("2018-06-30")  # the third reporter on 06-11 makes all three count
    assert _score(got, tiny.dog) == _score(want, tiny.dog) < 12
    assert got.held(tiny.dog) == []
    # two reporters are not a quorum, however often they report
    two = [_report(f"t{i}", tiny.dog, tiny.persons[i % 2], f"2018-06-{1 + i:02d}") for i in range(8)]
    assert _score(engine.evaluate(records_table(two), reg, "2018-06-30"), tiny.dog) == 12
    # nor three spread over more than the window
    apart = [_report(f"a{i}", tiny.dog, tiny.persons[i], f"2018-{6 + i:02d}-01") for i in range(3)]
    assert _score(engine.evaluate(records_table(apart), reg, "2018-09-30"), tiny.dog) == 12


def test_a_confirmation_through_the_actions_chain_makes_the_report_count(tmp_path: Path, tiny: Tiny) -> None:
    db = _ledger(tmp_path, tiny, _burst(tiny, 5))
    engine = Engine(["jinan-dogs"])
    with open_ledger(db) as ledger:
        assert _score(bind_ledger(engine, ledger).evaluate("2018-06-30"), tiny.dog) == 12
    # an officer confirms the first report with the CLI; the list names the reporter
    out = runner.invoke(cli, ["report-review", "list", "--db", str(db), "--on", "2018-06-30", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["reports"]
    assert [r["state"] for r in rows] == ["held"] + ["repeat"] * 4
    assert rows[0]["reported_by"] == tiny.persons[0] and rows[0]["counts"] is False
    args = [
        "--db",
        str(db),
        "--officer",
        "officer:li",
        "--reasons",
        "seen by the patrol",
        "--on",
        "2018-06-10",
    ]
    out = runner.invoke(cli, ["report-review", "confirm", "burst-0", *args, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["outcome"] == "confirmed"
    with open_ledger(db) as ledger:
        bound = bind_ledger(engine, ledger)
        assert _score(bound.evaluate("2018-06-09"), tiny.dog) == 12  # before the confirmation
        assert _score(bound.evaluate("2018-06-30"), tiny.dog) == 9  # one offence, not five
        assert [h["record"] for h in bound.evaluate("2018-06-30").held(tiny.dog)] == [
            f"burst-{i}" for i in range(1, 5)
        ]
    # audited: the decision is in the actions chain, with its officer and reasons, and it verifies
    with open_ledger(db) as ledger:
        acts = read_actions(ledger, kind_prefix="report.")
    assert [(a["kind"], a["actor"], a["reason"], a["subject"], a["payload"]["record"]) for a in acts] == [
        ("report.confirmed", "officer:li", "seen by the patrol", tiny.dog, "burst-0")
    ]
    assert tiny.persons[0] not in json.dumps(acts)  # the chain names the record, not the reporter
    out = runner.invoke(cli, ["verify", "--db", str(db), "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["intact"] is True
    # decided once; `socialcredit explain` reads the decisions too and shows what is held
    again = runner.invoke(cli, ["report-review", "reject", "burst-0", *args])
    assert again.exit_code == 2 and "decided once" in again.output
    argv = [
        "explain",
        "--db",
        str(db),
        tiny.dog,
        "--rulebook",
        "jinan-dogs",
        "--as-of",
        "2018-06-30",
        "--json",
    ]
    explained = runner.invoke(cli, argv)
    assert explained.exit_code == 0, explained.output
    shown = json.loads(explained.output)
    assert [h["record"] for h in shown["held"]] == [f"burst-{i}" for i in range(1, 5)]
    assert tiny.persons[0] not in explained.output


def test_a_rejected_report_never_counts_and_breaks_its_quorum(tmp_path: Path, tiny: Tiny) -> None:
    three = [_report(f"q{i}", tiny.dog, tiny.persons[i], f"2018-06-{1 + i:02d}") for i in range(3)]
    db = _ledger(tmp_path, tiny, three)
    engine = Engine(["jinan-dogs"])
    with open_ledger(db) as ledger:
        assert _score(bind_ledger(engine, ledger).evaluate("2018-06-30"), tiny.dog) < 12  # a quorum
        decide_report(
            ledger, "q2", outcome="rejected", officer="officer:li", reasons="false", on="2018-06-05"
        )
        ev = bind_ledger(engine, ledger).evaluate("2019-06-30")
        assert _score(ev, tiny.dog) == 12  # two reporters left: no quorum, nothing counts
        assert {h["record"]: h["state"] for h in ev.held(tiny.dog)} == {
            "q0": "held",
            "q1": "held",
            "q2": "rejected",
        }
        # confirming the other two makes them count; the rejected one still never does
        for rid in ("q0", "q1"):
            decide_report(
                ledger, rid, outcome="confirmed", officer="officer:li", reasons="seen", on="2018-06-06"
            )
        ev = bind_ledger(engine, ledger).evaluate("2019-06-30")
        assert [h["record"] for h in ev.held(tiny.dog)] == ["q2"]
        two = engine.evaluate(
            records_table([{**r, "source": "public_security", "reported_by": None} for r in three[:2]]),
            Registry.from_lines(tiny.registry),
            "2019-06-30",
        )
        assert _score(ev, tiny.dog) == _score(two, tiny.dog)
        # only reports are reviewed, and only known records
        for rid, why in (("nope", "no record"),):
            try:
                decide_report(ledger, rid, outcome="confirmed", officer="o", reasons="r")
            except ValueError as exc:
                assert why in str(exc)
            else:
                raise AssertionError("decided a record that is not there")


def test_officers_review_over_http_and_the_subject_sees_its_held_reports_masked(
    tmp_path: Path, tiny: Tiny
) -> None:
    world = build_world(tmp_path, tiny)
    reporter = tiny.persons[0]
    with open_ledger(world.db) as ledger:  # two reports about the dog from one reporter
        ledger.append_records(
            [_report("h1", tiny.dog, reporter, "2019-05-01"), _report("h2", tiny.dog, reporter, "2019-05-02")]
        )
        _, dog_token = create_token(ledger, role="subject", subject=tiny.dog, label="the dog's keeper")
    dog = {"Authorization": f"Bearer {dog_token}"}
    with world.client(rulebooks=["national", "jinan-dogs"]) as client:
        file = client.get(f"/v1/subjects/{tiny.dog}", headers=dog)
        assert file.status_code == 200, file.text
        held = file.json()["held"]
        assert [(h["record"], h["state"], h["reported_by"]) for h in held] == [
            ("h1", "held", "(masked)"),
            ("h2", "repeat", "(masked)"),
        ]
        mine = client.get(f"/v1/subjects/{tiny.dog}/records", headers=dog).json()
        assert reporter not in json.dumps(mine) and "(masked)" in json.dumps(mine)
        theirs = client.get(f"/v1/subjects/{tiny.dog}/records", headers=world.auth("officer")).json()
        assert reporter in json.dumps(theirs)  # the officer reviewing sees who reported
        listed = client.get("/v1/reports", params={"subject": tiny.dog}, headers=world.auth("officer"))
        assert listed.status_code == 200 and [r["record"] for r in listed.json()["reports"]] == ["h1", "h2"]
        assert client.get("/v1/reports", headers=dog).status_code == 403
        body = {"outcome": "confirmed", "reasons": "seen by the grid officer", "on": "2019-05-03"}
        assert client.post("/v1/reports/h1/decision", json=body, headers=dog).status_code == 403
        ok = client.post("/v1/reports/h1/decision", json=body, headers=world.auth("officer"))
        assert ok.status_code == 200 and ok.json()["outcome"] == "confirmed", ok.text
        again = client.post("/v1/reports/h1/decision", json=body, headers=world.auth("officer"))
        assert again.status_code == 422 and again.json()["error"]["code"] == "invalid_report", again.text
        bad = client.post("/v1/reports/w-red-1/decision", json=body, headers=world.auth("officer"))
        assert bad.status_code == 422  # a department's record is not a report
        # the portal's /my: the held reports, and the records with the reporter masked
        signed = client.post("/my/signin", data={"token": dog_token}, follow_redirects=False)
        assert signed.status_code in (200, 303), signed.text
        page = client.get("/my.json")
        assert page.status_code == 200 and [h["record"] for h in page.json()["held"]] == [
            "h2"
        ]  # h1 confirmed
        assert reporter not in page.text
        assert "Reports held for review" in client.get("/my").text and reporter not in client.get("/my").text
        client.post("/my/signout", follow_redirects=False)
        after = client.get(f"/v1/subjects/{tiny.dog}", headers=dog).json()
        assert [h["record"] for h in after["held"]] == ["h2"]  # h1 counts now
        before = file.json()["scores"]
        assert before != after["scores"]  # the licence lost points
    with open_ledger(world.db) as ledger:
        acts = read_actions(ledger, kind_prefix="report.")
        assert [a["payload"]["record"] for a in acts] == ["h1"]
        assert acts[0]["actor"].startswith("officer:")


@st.composite
def bursts(draw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Reports by up to four reporters about one dog, each a first report and repeats inside
    the window after it; and the same with the first reports only."""
    tiny = Tiny()
    first, every = [], []
    for k in range(draw(st.integers(1, 4))):
        day = dt.date(2018, 6, 1) + dt.timedelta(days=draw(st.integers(0, 40)))
        head = _report(f"p{k}-0", tiny.dog, tiny.persons[k], day.isoformat())
        first.append(head)
        every.append(head)
        for j in range(draw(st.integers(0, 8))):
            later = day + dt.timedelta(days=draw(st.integers(0, 29)))
            every.append(_report(f"p{k}-{j + 1}", tiny.dog, tiny.persons[k], later.isoformat()))
    on = (dt.date(2018, 6, 1) + dt.timedelta(days=draw(st.integers(0, 90)))).isoformat()
    return first, every, on


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=bursts(), confirm=st.booleans())
def test_repeats_by_one_reporter_never_change_the_evaluation(case: Any, confirm: bool) -> None:
    first, every, on = case
    tiny = Tiny()
    reg = Registry.from_lines(tiny.registry)
    review = ReportReview()
    if confirm:  # a department confirmed the first reporter's first report
        decided = [{"record": first[0]["id"], "outcome": "confirmed", "on": dt.date(2018, 7, 1)}]
        review = ReportReview(decisions=pa.Table.from_pylist(decided, schema=DECISIONS_SCHEMA))
    engine = Engine(["jinan-dogs"])
    a = engine.evaluate(records_table(first), reg, on, reports=review)
    b = engine.evaluate(records_table(sorted(every, key=lambda r: r["occurred_at"])), reg, on, reports=review)
    assert a.to_table().equals(b.to_table())
    assert a.fines_of(tiny.dog) == b.fines_of(tiny.dog)
    # what counts is what counts by the first reports alone
    assert {h["record"] for h in b.held() if h["state"] != "repeat"} == {h["record"] for h in a.held()}


def test_the_review_policy_is_marked_assumed() -> None:
    from socialcredit.engine import reports

    assert (reports.QUORUM, reports.WINDOW_DAYS) == (3, 30)
    assert reports.ASSUMED.startswith("assumed:")
    assert reports.informant_sources() == ("citizen_report",)


def test_report_review_reads_the_ledgers_decisions(tmp_path: Path, tiny: Tiny) -> None:
    db = _ledger(tmp_path, tiny, _burst(tiny, 2))
    with open_ledger(db) as ledger:
        assert report_review(ledger).decisions.num_rows == 0
        decide_report(
            ledger, "burst-1", outcome="confirmed", officer="officer:x", reasons="seen", on="2018-06-03"
        )
        got = report_review(ledger).decisions.to_pylist()
    assert got == [{"record": "burst-1", "outcome": "confirmed", "on": dt.date(2018, 6, 3)}]


def test_a_subjects_proof_file_withholds_the_proofs_that_name_a_reporter() -> None:
    from socialcredit.service.views import withhold_report_proofs

    report = {"tree": "records", "record_id": "h1", "leaf": json.dumps({"id": "h1", "reported_by": "p0"})}
    court = {"tree": "records", "record_id": "c1", "leaf": json.dumps({"id": "c1", "source": "court"})}
    action = {"tree": "actions", "record_id": "seq 1", "leaf": json.dumps({"kind": "report.confirmed"})}
    out = withhold_report_proofs({"proofs": [report, court, action], "unproven": []})
    assert out["proofs"] == [court, action] and "p0" not in json.dumps(out)
    assert [w["record_id"] for w in out["withheld"]] == ["h1"]
    assert withhold_report_proofs({"proofs": [court]}) == {"proofs": [court]}
