"""Due process (issue 13): notices, objections and their effect on listings, on a real ledger.

The acceptance story is seed 001's listed journalist ("There was no file, no police warrant, no
official advance notification… You can report to no one"), replayed with a synthetic person.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from socialcredit.dueprocess import (
    DueProcess,
    ObjectionError,
    decide_objection,
    file_objection,
    list_objections,
    start_review,
)
from socialcredit.dueprocess.notices import issue_notices, notices, timeline
from socialcredit.dueprocess.objections import bind_ledger, get_objection
from socialcredit.engine import Engine
from socialcredit.ids import generate_resident_id
from socialcredit.ledger import open_ledger, verify
from socialcredit.ledger.actions import read_actions

JOURNALIST = generate_resident_id(13, 1)
RAIL = "travel.high_speed_rail"
#: The replay's policy with the court list's objection rule switched on (the national rulebook
#: says it does not suspend, facts 2.3): the two variants of the acceptance story.
SUSPENDS = DueProcess(suspends_lists={"judgment_defaulters": True})
STAYS = DueProcess()


@pytest.fixture
def engine() -> Engine:
    return Engine(["national"])


@pytest.fixture
def ledger(tmp_path: Path):
    with open_ledger(tmp_path / "ledger.db") as led:
        led.append_registry([{"id": JOURNALIST, "kind": "person", "name": "A journalist (synthetic)"}])
        led.append_records(
            [
                {
                    "id": "court-2019-0301",
                    "subject": JOURNALIST,
                    "category": "judicial.judgment_default",
                    "source": "court",
                    "occurred_at": "2019-03-01",
                    "basis": "Art. 1 ground 1 (refuses to perform)",
                }
            ]
        )
        yield led


def counter(engine: Engine, ledger, policy: DueProcess | None, on: str) -> str:
    """The ticket counter's answer on ``on``, with what the ledger holds now."""
    return bind_ledger(engine, ledger, policy).decide(JOURNALIST, RAIL, on).outcome


def file_it(engine: Engine, ledger, on: str = "2019-03-05") -> str:
    o = file_objection(
        ledger,
        subject=JOURNALIST,
        records=["court-2019-0301"],
        list_id="judgment_defaulters",
        grounds="should not have been listed: the fine was paid",
        evidence="receipt of 2019-02-20",
        on=on,
        rulebooks=engine.rulebooks,
    )
    return o.id


@pytest.mark.parametrize("policy", [SUSPENDS, STAYS], ids=["suspends", "stays_in_force"])
def test_journalist_replayed(engine: Engine, ledger, policy: DueProcess) -> None:
    # the original: listed on the record's day, no notice at all
    assert counter(engine, ledger, None, "2019-03-01") == "denied"
    assert notices(bind_ledger(engine, ledger, None).evaluate("2019-03-02"), JOURNALIST) == []
    # a listing is proposed and a notice issued: record, rule, list, date, how to object, deadline
    ev = bind_ledger(engine, ledger, policy).evaluate("2019-03-02")
    [n] = notices(ev, JOURNALIST)
    assert (n["record"], n["list"], n["issued"], n["object_by"], n["takes_effect"]) == (
        "court-2019-0301",
        "judgment_defaulters",
        "2019-03-01",
        "2019-03-10",
        "2019-03-11",
    )
    assert n["rule"].startswith("Ground 1") and "objection" in n["how_to_object"]
    assert issue_notices(ledger, ev) == [n["id"]] and issue_notices(ledger, ev) == []  # issued once
    assert counter(engine, ledger, policy, "2019-03-05") == "allowed"  # the notice period runs
    # an objection within the deadline; the court list's review deadline is 15 days (facts 2.3)
    oid = file_it(engine, ledger)
    assert get_objection(ledger, oid).review_by == "2019-03-20"
    start_review(ledger, oid, officer="officer:court-7", on="2019-03-08")
    after_notice = counter(engine, ledger, policy, "2019-03-12")
    if policy is SUSPENDS:
        assert after_notice == "allowed"
        [n] = notices(bind_ledger(engine, ledger, policy).evaluate("2019-03-12"), JOURNALIST)
        assert (n["status"], n["objection"], n["takes_effect"]) == ("suspended", oid, None)
    else:
        assert after_notice == "denied"  # refused until the objection is upheld
    o = decide_objection(
        ledger,
        oid,
        outcome="upheld",
        officer="officer:court-7",
        reasons="the obligation had been performed before the listing",
        on="2019-03-15",
    )
    assert o.state == "upheld" and o.corrections == [f"{oid}:corrects:court-2019-0301"]
    # the counter allows the ticket, and the annulled record counts on no date any more
    for day in ("2019-03-01", "2019-03-12", "2019-03-15", "2019-06-01"):
        assert counter(engine, ledger, policy, day) == "allowed"
    # the history shows every step, in the tamper-evident chain
    steps = [(h["kind"], h["on"], h["actor"]) for h in o.history]
    assert steps == [
        ("objection.filed", "2019-03-05", f"subject:{JOURNALIST}"),
        ("objection.review", "2019-03-08", "officer:court-7"),
        ("objection.upheld", "2019-03-15", "officer:court-7"),
    ]
    assert all(re.fullmatch("[0-9a-f]{64}", h["hash"]) for h in o.history)
    assert [(e["day"], e["kind"]) for e in timeline(ledger, JOURNALIST)] == [
        ("2019-03-01", "record"),
        ("2019-03-01", "notice.issued"),
        ("2019-03-05", "objection.filed"),
        ("2019-03-08", "objection.review"),
        ("2019-03-15", "record.correction"),
        ("2019-03-15", "objection.upheld"),
    ]
    records = ledger.records_of(JOURNALIST)
    assert [r["id"] for r in records] == ["court-2019-0301", o.corrections[0]]  # nothing deleted
    assert records[1]["corrects"] == "court-2019-0301"
    assert verify(ledger).ok


def test_rejected_objection_lists_on_the_decision_day(engine: Engine, ledger) -> None:
    oid = file_it(engine, ledger)
    start_review(ledger, oid, officer="officer:1", on="2019-03-06")
    decide_objection(
        ledger, oid, outcome="rejected", officer="officer:1", reasons="no proof", on="2019-03-18"
    )
    assert counter(engine, ledger, SUSPENDS, "2019-03-17") == "allowed"
    assert counter(engine, ledger, SUSPENDS, "2019-03-18") == "denied"
    ev = bind_ledger(engine, ledger, SUSPENDS).evaluate("2019-03-18")
    row = next(r for r in ev.memberships.to_pylist() if r["list"] == "judgment_defaulters")
    assert row["since"] == dt.date(2019, 3, 18)
    # rejected before the notice ran out: it takes effect when the notice period ends
    assert counter(engine, ledger, STAYS, "2019-03-11") == "denied"
    assert counter(engine, ledger, STAYS, "2019-03-10") == "allowed"


@pytest.mark.parametrize(
    ("rule", "on_21", "on_30"),
    [("keep", "allowed", "allowed"), ("proceed", "denied", "denied"), ("uphold", "allowed", "allowed")],
)
def test_unanswered_objection_past_its_deadline(
    engine: Engine, ledger, rule: str, on_21: str, on_30: str
) -> None:
    oid = file_it(engine, ledger)  # review by 2019-03-20 (15 days, the court list)
    policy = DueProcess(suspends_lists={"judgment_defaulters": True}, overdue=rule)  # type: ignore[arg-type]
    assert counter(engine, ledger, policy, "2019-03-19") == "allowed"
    assert counter(engine, ledger, policy, "2019-03-21") == on_21
    assert counter(engine, ledger, policy, "2019-03-30") == on_30
    ev = bind_ledger(engine, ledger, policy).evaluate("2019-03-21")
    pending = ev.pending.to_pylist()
    if rule == "keep":
        assert [(p["status"], p["objection"]) for p in pending] == [("overdue", oid)]
        assert get_objection(ledger, oid).overdue("2019-03-21")
    elif rule == "proceed":
        row = next(r for r in ev.memberships.to_pylist() if r["list"] == "judgment_defaulters")
        assert row["since"] == dt.date(2019, 3, 20)
    else:
        assert pending == []


def test_a_late_objection_does_not_suspend(engine: Engine, ledger) -> None:
    file_it(engine, ledger, on="2019-03-12")  # after the listing took effect (2019-03-11)
    assert counter(engine, ledger, SUSPENDS, "2019-03-13") == "denied"


def test_no_update_or_delete_during_a_full_objection_cycle(engine: Engine, ledger) -> None:
    issued: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany) -> None:
        issued.append(" ".join(statement.split()).upper())

    sa.event.listen(ledger.engine, "before_cursor_execute", spy)
    try:
        issue_notices(ledger, bind_ledger(engine, ledger, SUSPENDS).evaluate("2019-03-02"))
        oid = file_it(engine, ledger)
        start_review(ledger, oid, officer="officer:1", on="2019-03-06")
        decide_objection(ledger, oid, outcome="rejected", officer="officer:1", reasons="no", on="2019-03-09")
        oid2 = file_it(engine, ledger, on="2019-03-10")
        start_review(ledger, oid2, officer="officer:1", on="2019-03-10")
        decide_objection(ledger, oid2, outcome="upheld", officer="officer:1", reasons="paid", on="2019-03-11")
        list_objections(ledger)
        bind_ledger(engine, ledger, SUSPENDS).evaluate("2019-03-12")
    finally:
        sa.event.remove(ledger.engine, "before_cursor_execute", spy)
    inserts = [s for s in issued if s.startswith("INSERT")]
    assert any("INTO ACTIONS" in s for s in inserts) and any("INTO RECORDS" in s for s in inserts)
    changes = [s for s in issued if re.match(r"(UPDATE|DELETE|REPLACE|INSERT OR REPLACE)\b", s)]
    # the only UPDATE is the chain head in `meta` (count and last hash), never a ledger row
    assert changes and all(re.match(r"UPDATE META SET .*\bWHERE META\.CHAIN\b", s) for s in changes)
    assert not [s for s in issued if re.search(r"\b(DELETE|TRUNCATE|DROP)\b", s)]


def test_objection_states_and_bad_input(engine: Engine, ledger) -> None:
    with pytest.raises(ObjectionError, match=r"^records:"):
        file_objection(ledger, subject=JOURNALIST, records=[], grounds="x")
    with pytest.raises(ObjectionError, match=r"^records: 'nope'"):
        file_objection(ledger, subject=JOURNALIST, records=["nope"], grounds="x")
    with pytest.raises(ObjectionError, match=r"^grounds:"):
        file_objection(ledger, subject=JOURNALIST, records=["court-2019-0301"], grounds="  ")
    with pytest.raises(ObjectionError, match=r"^subject:"):
        file_objection(ledger, subject="000000", records=["court-2019-0301"], grounds="x")
    with pytest.raises(ObjectionError, match=r"^on:"):
        file_objection(ledger, subject=JOURNALIST, records=["court-2019-0301"], grounds="x", on="March")
    for kw, field in (({"rulebook": "zz"}, "rulebook"), ({"list_id": "no_such_list"}, "list")):
        with pytest.raises(ObjectionError, match=rf"^{field}: "):
            file_objection(ledger, subject=JOURNALIST, records=["court-2019-0301"], grounds="x",
                           rulebooks=engine.rulebooks, **kw)  # fmt: skip
    with pytest.raises(ObjectionError, match=r"^on: 2019-02-01 is before record"):
        file_objection(ledger, subject=JOURNALIST, records=["court-2019-0301"], grounds="x", on="2019-02-01")
    oid = file_it(engine, ledger)
    with pytest.raises(ObjectionError, match="still open"):
        file_it(engine, ledger)
    with pytest.raises(ObjectionError, match=r"^objection:.*review it first"):
        decide_objection(ledger, oid, outcome="upheld", officer="o", reasons="r", on="2019-03-06")
    start_review(ledger, oid, officer="o", on="2019-03-06")
    with pytest.raises(ObjectionError, match=r"^objection:.*not filed"):
        start_review(ledger, oid, officer="o", on="2019-03-06")
    with pytest.raises(ObjectionError, match=r"^outcome:"):
        decide_objection(ledger, oid, outcome="maybe", officer="o", reasons="r", on="2019-03-07")
    with pytest.raises(ObjectionError, match=r"^reasons:"):
        decide_objection(ledger, oid, outcome="rejected", officer="o", reasons="", on="2019-03-07")
    with pytest.raises(ObjectionError, match=r"^on:"):
        decide_objection(ledger, oid, outcome="rejected", officer="o", reasons="r", on="2019-03-01")
    decide_objection(ledger, oid, outcome="rejected", officer="o", reasons="r", on="2019-03-07")
    with pytest.raises(ObjectionError, match=r"^objection:"):
        decide_objection(ledger, oid, outcome="upheld", officer="o", reasons="r", on="2019-03-08")
    with pytest.raises(ObjectionError, match=r"^objection: no objection"):
        get_objection(ledger, "obj-x")
    assert [a["kind"] for a in read_actions(ledger, kind_prefix="objection.")] == [
        "objection.filed",
        "objection.review",
        "objection.rejected",
    ]
    # the default review deadline without a list: 20 days (facts 1.4)
    o = file_objection(
        ledger, subject=JOURNALIST, records=["court-2019-0301"], grounds="again", on="2019-04-01"
    )
    assert o.review_by == "2019-04-21"
    start_review(ledger, o.id, officer="o", on="2019-04-02")
    decide_objection(ledger, o.id, outcome="upheld", officer="o", reasons="r", on="2019-04-02")
    with pytest.raises(ObjectionError, match=r"^records: .* already annulled"):
        file_objection(
            ledger, subject=JOURNALIST, records=["court-2019-0301"], grounds="more", on="2019-04-03"
        )
    with pytest.raises(ObjectionError, match=r"^records: .* is a correction"):
        file_objection(ledger, subject=JOURNALIST, records=[f"{o.id}:corrects:court-2019-0301"], grounds="x")


def test_due_process_policy_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match="overdue"):
        DueProcess(overdue="never")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="notice_days"):
        DueProcess(notice_days=-1)
    bad = pa.table({"objection": ["o"], "record": ["r"], "list": [None], "rulebook": [None], "filed": [True],
                    "decided": [None], "outcome": [None]})  # fmt: skip
    with pytest.raises(ValueError, match="column 'filed'"):
        DueProcess(objections=bad)
    with pytest.raises(ValueError, match="lacks the column 'outcome'"):
        DueProcess(objections=bad.drop_columns(["outcome"]))
    odd = pa.table({"objection": ["o"], "record": ["r"], "list": [None], "rulebook": [None],
                    "filed": [dt.date(2019, 1, 1)], "decided": [None], "outcome": ["maybe"]})  # fmt: skip
    with pytest.raises(ValueError, match="outcome 'maybe'"):
        DueProcess(objections=odd)
