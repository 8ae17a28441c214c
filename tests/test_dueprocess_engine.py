"""Due process in the engine: invariants over random record streams (hypothesis).

* An upheld objection (its correction record appended) evaluates exactly as the ledger without
  the annulled record, on every date, with and without due process.
* Due process never lists anyone the original would not: notice periods and objections only
  delay or prevent listings.
* Without notice and objections, due process is the original behaviour exactly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.engine import Engine
from socialcredit.engine.lists import OBJECTIONS_SCHEMA, DueProcess
from socialcredit.records import records_table
from socialcredit.registry import Registry

CATS = {
    "judicial.judgment_default": "court",
    "judicial.judgment_fulfilled": "court",
    "judicial.obstructing_enforcement": "court",
    "judicial.spending_restriction_order": "court",
    "rail.smoking": "railway",
    "tax.evasion": "tax",
}
PEOPLE = ["p0", "p1", "p2"]
ACTIONS = ["travel.high_speed_rail", "travel.flight", "travel.train", "lodging.star_hotel"]
START = dt.date(2018, 1, 1)
ENGINE = Engine(["national"])
REGISTRY = Registry.from_lines(
    [{"id": p, "kind": "person", "name": p, "birth_date": "1980-01-01"} for p in PEOPLE]
    + [{"id": "org", "kind": "organisation", "name": "Org"}]
    + [{"relation": "legal_representative_of", "subject": "p0", "object": "org", "since": "2017-01-01"}]
)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def streams(draw: Any) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 8))
    out = []
    for i in range(n):
        cat = draw(st.sampled_from(sorted(CATS)))
        out.append(
            {
                "id": f"r{i}",
                "subject": draw(st.sampled_from([*PEOPLE, "org"])),
                "category": cat,
                "source": CATS[cat],
                "occurred_at": (START + dt.timedelta(days=draw(st.integers(0, 500)))).isoformat(),
            }
        )
    return out


def standing(recs: list[dict[str, Any]], day: dt.date, dp: DueProcess | None) -> tuple[Any, ...]:
    ev = ENGINE.evaluate(records_table(recs), REGISTRY, day, dp)
    rows = sorted((r["subject"], r["list"], r["since"], r["until"]) for r in ev.memberships.to_pylist())
    outs = ev.decide_many(np.repeat([*PEOPLE, "org"], len(ACTIONS)), ACTIONS * 4).tolist()
    return tuple(rows), tuple(outs)


def objection(rid: str, filed: dt.date, decided: dt.date | None, outcome: str | None) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "objection": "o1",
                "record": rid,
                "list": None,
                "rulebook": None,
                "filed": filed,
                "decided": decided,
                "outcome": outcome,
            }
        ],
        schema=OBJECTIONS_SCHEMA,
    )


@FAST
@given(
    recs=streams(),
    pick=st.integers(0, 7),
    offset=st.integers(0, 600),
    filed=st.integers(0, 30),
    took=st.integers(0, 40),
    suspends=st.booleans(),
    due=st.booleans(),
)
def test_upheld_objection_equals_the_ledger_without_the_record(
    recs: list[dict[str, Any]], pick: int, offset: int, filed: int, took: int, suspends: bool, due: bool
) -> None:
    target = recs[pick % len(recs)]
    day = START + dt.timedelta(days=offset)
    t0 = dt.date.fromisoformat(target["occurred_at"])
    f, d = t0 + dt.timedelta(days=filed), t0 + dt.timedelta(days=filed + took)
    correction = {**target, "id": "fix", "occurred_at": d.isoformat(), "corrects": target["id"]}
    without = [r for r in recs if r is not target]
    base = DueProcess(suspends=suspends) if due else None
    with_obj = dataclasses.replace(base, objections=objection(target["id"], f, d, "upheld")) if base else None
    # as of any date: with the correction in the records, or the objection upheld by then
    assert standing([*recs, correction], day, with_obj) == standing(without, day, base)


@FAST
@given(
    recs=streams(),
    offset=st.integers(0, 600),
    notice=st.integers(0, 30),
    suspends=st.booleans(),
    pick=st.integers(0, 7),
    filed=st.integers(0, 20),
    took=st.one_of(st.none(), st.integers(0, 60)),
    outcome=st.sampled_from(["upheld", "rejected"]),
    overdue=st.sampled_from(["keep", "proceed", "uphold"]),
)
def test_due_process_never_lists_more(
    recs: list[dict[str, Any]],
    offset: int,
    notice: int,
    suspends: bool,
    pick: int,
    filed: int,
    took: int | None,
    outcome: str,
    overdue: str,
) -> None:
    day = START + dt.timedelta(days=offset)
    target = recs[pick % len(recs)]
    t0 = dt.date.fromisoformat(target["occurred_at"])
    obj = objection(
        target["id"],
        t0 + dt.timedelta(days=filed),
        None if took is None else t0 + dt.timedelta(days=filed + took),
        None if took is None else outcome,
    )
    dp = DueProcess(notice_days=notice, suspends=suspends, objections=obj, overdue=overdue)  # type: ignore[arg-type]
    ev_dp = ENGINE.evaluate(records_table(recs), REGISTRY, day, dp)
    ev_0 = ENGINE.evaluate(records_table(recs), REGISTRY, day)
    listed = {(r["subject"], r["list"]) for r in ev_dp.memberships.to_pylist()}
    listed0 = {(r["subject"], r["list"]) for r in ev_0.memberships.to_pylist()}
    assert listed <= listed0
    # a listing under due process never starts before the original one
    since0 = {(r["subject"], r["list"]): r["since"] for r in ev_0.memberships.to_pylist()}
    for r in ev_dp.memberships.to_pylist():
        if r["since"] is not None and since0[(r["subject"], r["list"])] is not None:
            assert r["since"] >= since0[(r["subject"], r["list"])]
    # and whatever is pending (in notice, suspended) is a listing the original has in force
    pend = {(r["subject"], r["list"]) for r in ev_dp.pending.to_pylist()}
    assert pend <= listed0


@FAST
@given(recs=streams(), offset=st.integers(0, 600))
def test_no_notice_and_no_objections_is_the_original(recs: list[dict[str, Any]], offset: int) -> None:
    day = START + dt.timedelta(days=offset)
    assert standing(recs, day, DueProcess(notice=False)) == standing(recs, day, None)
    assert standing(recs, day, DueProcess(notice_days=0)) == standing(recs, day, None)


def test_notice_delays_by_the_period_and_red_lists_are_not_delayed() -> None:
    recs = [
        {
            "id": "a",
            "subject": "p1",
            "category": "rail.smoking",
            "source": "railway",
            "occurred_at": "2019-01-10",
        },
        {
            "id": "h",
            "subject": "p2",
            "category": "social.honour",
            "source": "civil_affairs",
            "occurred_at": "2019-01-10",
        },
    ]
    dp = DueProcess(notice_days=7)
    ev = ENGINE.evaluate(records_table(recs), REGISTRY, "2019-01-16", dp)
    assert ev.decide("p1", "travel.train").outcome == "allowed"
    assert ev.lists_of("p2") == [("national", "integrity_models")]
    ev = ENGINE.evaluate(records_table(recs), REGISTRY, "2019-01-17", dp)
    assert ev.decide("p1", "travel.train").outcome == "denied"
    [row] = [r for r in ev.memberships.to_pylist() if r["subject"] == "p1"]
    assert (row["since"], row["until"]) == (dt.date(2019, 1, 17), dt.date(2019, 7, 9))


def test_explanation_shows_a_proposed_listing() -> None:
    recs = [
        {
            "id": "a",
            "subject": "p1",
            "category": "rail.smoking",
            "source": "railway",
            "occurred_at": "2019-01-10",
        }
    ]
    ex = ENGINE.evaluate(records_table(recs), REGISTRY, "2019-01-12", DueProcess(notice_days=7)).explain("p1")
    [p] = ex.to_dict()["rulebooks"][0]["pending"]
    assert (p["list"], p["record"], p["effective"], p["deadline"], p["status"]) == (
        "rail_conduct_ban",
        "a",
        "2019-01-17",
        "2019-01-16",
        "notice",
    )
    assert "proposed: rail_conduct_ban by record a of 2019-01-10" in ex.render()
    # the original has no proposed listings: the explanation is unchanged
    assert (
        "pending"
        not in ENGINE.evaluate(records_table(recs), REGISTRY, "2019-01-12")
        .explain("p1")
        .to_dict()["rulebooks"][0]
    )


@FAST
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["filed", "review", "upheld", "rejected"]), st.sampled_from(["o1", "o2"])),
        max_size=12,
    )
)
def test_folding_objection_events_follows_the_state_machine(steps: list[tuple[str, str]]) -> None:
    from socialcredit.dueprocess import fold_objections

    events = []
    for i, (k, oid) in enumerate(steps):
        payload = {
            "objection": oid,
            "records": ["r1"],
            "on": f"2019-03-{i + 1:02d}",
            "review_by": "2019-03-20",
        }
        events.append(
            {
                "seq": i + 1,
                "kind": f"objection.{k}",
                "actor": f"a{i}",
                "subject": "s",
                "reason": "r",
                "payload": payload,
            }
        )
    events.insert(
        0, {"seq": 0, "kind": "objection.filed", "payload": {"objection": "o3"}}
    )  # no records: skipped
    events.insert(
        0, {"seq": 0, "kind": "objection.filed", "payload": {"objection": "o4", "records": ["r"], "on": "x"}}
    )
    folded = fold_objections(events)
    assert "o3" not in folded and "o4" not in folded
    for oid in ("o1", "o2"):  # a reference: walk the allowed transitions by hand
        state = None
        for k, o in steps:
            if o != oid:
                continue
            if k == "filed" and state is None:
                state = "filed"
            elif k == "review" and state == "filed":
                state = "under_review"
            elif k in ("upheld", "rejected") and state in ("filed", "under_review"):
                state = k
        assert (folded[oid].state if oid in folded else None) == state
        if oid in folded:
            h = folded[oid].history
            assert [e["seq"] for e in h] == sorted(e["seq"] for e in h)
            assert h[0]["kind"] == "objection.filed"
