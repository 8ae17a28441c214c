"""The engine through the library: the documents' cases, decisions, explanations and tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from socialcredit.engine import OUTCOMES, Engine, EngineError, UnknownAction, UnknownSubject
from socialcredit.records import records_table
from socialcredit.registry import Registry

DOCS = Path(__file__).resolve().parents[1] / "docs" / "engine.md"
RONGCHENG = "000601"  # a synthetic area code inside Rongcheng


def registry(*lines: dict[str, Any], consent: dict[str, bool] | None = None) -> Registry:
    """Registry lines (names default to ids); ``consent`` adds the consent column."""
    lines = tuple({"name": ln["id"], **ln} if "relation" not in ln else ln for ln in lines)
    reg = Registry.from_lines(lines)
    if consent is None:
        return reg
    col = pa.array([consent.get(i) for i in reg.subjects["id"].to_pylist()], pa.bool_())
    subjects = reg.subjects.set_column(reg.subjects.schema.get_field_index("consent"), "consent", col)
    return Registry(subjects, reg.relations)


def recs(*rows: tuple[str, str, str, str] | dict[str, Any]) -> pa.Table:
    """Records from ``(id, subject, category, date)`` tuples (source from the category)."""
    source = {
        "judicial": "court",
        "social": "civil_affairs",
        "traffic": "traffic_police",
        "utility": "utilities",
        "finance": "bank",
    }
    out = []
    for r in rows:
        if isinstance(r, tuple):
            rid, subject, cat, day = r
            r = {"id": rid, "subject": subject, "category": cat, "occurred_at": day}
        r.setdefault("source", source[r["category"].split(".")[0]])
        if r["category"] == "social.heroic_act":
            r["source"] = "people_government"
        out.append(r)
    return records_table(out)


# ---------------------------------------------------------------------- life in the blacklist


@pytest.fixture
def blacklist() -> tuple[pa.Table, Registry]:
    """Two partners' company defaults; both legal representatives are listed; a third person
    stopped being a legal representative before the default."""
    reg = registry(
        {"id": "acme", "kind": "organisation"},
        {"id": "ann", "kind": "person"},
        {"id": "bo", "kind": "person"},
        {"id": "cy", "kind": "person"},
        {"relation": "legal_representative_of", "subject": "ann", "object": "acme", "since": "2015-01-01"},
        {"relation": "legal_representative_of", "subject": "bo", "object": "acme", "since": "2015-01-01"},
        {"relation": "partner_of", "subject": "ann", "object": "bo", "since": "2015-01-01"},
        {
            "relation": "legal_representative_of",
            "subject": "cy",
            "object": "acme",
            "since": "2012-01-01",
            "until": "2016-01-01",
        },
    )
    rows = recs(
        ("r1", "acme", "judicial.judgment_default", "2018-03-05"),
        ("r2", "acme", "judicial.judgment_fulfilled", "2019-04-03"),
    )
    return rows, reg


def test_life_in_the_blacklist(blacklist: tuple[pa.Table, Registry]) -> None:
    rows, reg = blacklist
    bound = Engine(["national"]).bind(rows, reg)
    ev = bound.evaluate("2018-06-01")
    for person in ("ann", "bo"):
        assert {"judgment_defaulters", "spending_restricted"} <= {x for _, x in ev.lists_of(person)}
    assert ev.lists_of("cy") == []
    d = ev.decide("ann", "travel.high_speed_rail")
    assert d.outcome == "denied"
    reason = d.reasons[0]
    assert reason == {
        "rulebook": "national",
        "list": "spending_restricted",
        "measure": "hs_high_speed_rail",
        "effect": "deny",
        "since": "2018-03-05",
        "until": None,
        "source": "chinadaily_2015 (Art. 3 item 9 (new in 2015); facts 2.4)",
        "via": {"relation": "legal_representative_of", "from": "acme"},
    }
    assert ev.decide("cy", "travel.high_speed_rail").outcome == "allowed"
    # the chain: record -> list -> memorandum -> action
    text = ev.explain("ann").render()
    assert "r1 (judicial.judgment_default, 2018-03-05) of acme → judgment_defaulters" in text
    # fulfilled on Wednesday 3 April 2019: deleted within 3 working days, i.e. by Monday 8 April
    assert bound.decide("ann", "travel.high_speed_rail", "2019-04-05").outcome == "denied"
    assert bound.decide("ann", "travel.high_speed_rail", "2019-04-05").reasons[0]["until"] == ("2019-04-08")
    assert bound.decide("ann", "travel.high_speed_rail", "2019-04-08").outcome == "allowed"
    assert bound.evaluate("2019-04-08").lists_of("bo") == []


def test_a_family_member_of_a_listed_parent_is_refused_a_private_school() -> None:
    reg = registry(
        {"id": "dan", "kind": "person"},
        {"id": "erin", "kind": "person"},
        {"relation": "parent_of", "subject": "dan", "object": "erin", "since": "2010-01-01"},
    )
    ev = Engine(["national"]).evaluate(
        recs(("r1", "dan", "judicial.judgment_default", "2019-02-01")), reg, "2019-06-01"
    )
    d = ev.decide("erin", "education.private_school")
    assert d.outcome == "denied"
    assert d.reasons[0]["via"] == {"relation": "parent_of", "from": "dan"}
    assert ev.lists_of("erin") == []
    assert ev.decide("dan", "education.private_school").outcome == "allowed"
    assert ev.decide("erin", "travel.flight").outcome == "allowed"


def test_red_list_a_volunteer_reaching_the_top_grade_is_rewarded() -> None:
    reg = registry(
        {"id": "li", "kind": "person", "region": RONGCHENG},
        {"id": "wu", "kind": "person", "region": RONGCHENG},
        consent={"li": True},
    )
    rows = recs(
        {
            "id": "v1",
            "subject": "li",
            "category": "social.volunteering",
            "occurred_at": "2022-03-01",
            "value": 120,
        }
    )
    ev = Engine(["rongcheng"]).evaluate(rows, reg, "2022-06-01")
    score, grade, model = ev.score_of("li")
    assert model == "rongcheng/person_points"
    assert score == pytest.approx(1000 + 20 + 30 + 40 / 3)  # +1/h, +1/2 h, +1/3 h
    assert grade == "AAA"
    d = ev.decide("li", "rental.deposit_free")
    assert d.outcome == "rewarded"
    assert d.reasons[0]["grade"] == "AAA" and d.reasons[0]["measure"] == "a_deposit_free"
    assert ("rongcheng", "honesty_models") in ev.lists_of("li")
    assert ev.disclosed("li") == ["disclose.model_poster"]
    # wu gave no consent: no score, no incentives
    assert ev.score_of("wu") == (None, None, None)
    assert ev.decide("wu", "rental.deposit_free").outcome == "allowed"


def test_expiry_a_negative_record_stops_counting_and_the_grade_recovers() -> None:
    reg = registry({"id": "mei", "kind": "person", "region": RONGCHENG})
    bound = Engine(["rongcheng"]).bind(recs(("t1", "mei", "utility.theft", "2015-06-10")), reg)
    assert bound.evaluate("2020-06-09").score_of("mei")[:2] == (940.0, "B")
    assert bound.evaluate("2020-06-10").score_of("mei")[:2] == (1000.0, "A")
    expl = bound.evaluate("2020-06-10").explain("mei").to_dict()
    points = expl["rulebooks"][0]["scores"][0]
    assert points["parts"] == [] and points["expired"][0]["expires"] == "2020-06-10"


def test_correction_an_annulled_record_never_counts_on_any_date() -> None:
    reg = registry({"id": "ann", "kind": "person", "region": RONGCHENG})
    rows = recs(
        ("r1", "ann", "judicial.judgment_default", "2019-03-01"),
        ("t1", "ann", "traffic.ticket", "2019-03-02"),
        {
            "id": "c1",
            "subject": "ann",
            "category": "judicial.judgment_default",
            "occurred_at": "2019-09-01",
            "corrects": "r1",
        },
        {
            "id": "c2",
            "subject": "ann",
            "category": "traffic.ticket",
            "occurred_at": "2019-09-01",
            "corrects": "t1",
        },
    )
    for book in ("national", "rongcheng"):
        bound = Engine([book]).bind(rows, reg)
        for day in ("2019-03-01", "2019-06-01", "2019-12-31"):
            ev = bound.evaluate(day)
            assert ev.lists_of("ann") == []
            assert ev.decide("ann", "travel.flight").outcome == "allowed"
            if book == "rongcheng":
                assert ev.score_of("ann")[:2] == (1000.0, "A")
    # without the corrections the default lists and costs points
    ev = Engine(["rongcheng"]).evaluate(rows.slice(0, 2), reg, "2019-06-01")
    assert ev.score_of("ann")[:2] == (945.0, "B")
    assert ev.decide("ann", "travel.flight").outcome == "denied"


# ---------------------------------------------------------------------- combination, batch


def test_several_rulebooks_combine_deny_beats_reward() -> None:
    reg = registry({"id": "jack", "kind": "person", "region": RONGCHENG})
    rows = recs(
        ("h", "jack", "social.honour", "2016-10-01"), ("d", "jack", "judicial.judgment_default", "2017-03-01")
    )
    rows = rows.set_column(
        rows.schema.get_field_index("source"), "source", pa.array(["people_government", "court"])
    )
    ev = Engine(["national", "rongcheng"]).evaluate(rows, reg, "2017-06-01")
    d = ev.decide("jack", "government.subsidy")
    assert d.outcome == "denied"
    assert d.reasons[0]["effect"] == "deny"
    assert "reward" in {r["effect"] for r in d.reasons}
    assert ev.decide("jack", "government.green_channel").outcome == "rewarded"


def test_decide_many_matches_decide(blacklist: tuple[pa.Table, Registry]) -> None:
    rows, reg = blacklist
    ev = Engine(["national"]).evaluate(rows, reg, "2018-06-01")
    subjects = ["acme", "ann", "bo", "cy"] * 2
    actions = ["travel.flight"] * 4 + ["leisure.golf"] * 4
    got = ev.decide_many(subjects, actions)
    assert [OUTCOMES[c] for c in got] == [
        ev.decide(s, a).outcome for s, a in zip(subjects, actions, strict=True)
    ]
    codes = np.array([ev.subjects.code(s) for s in subjects])
    assert (ev.decide_many(codes, actions) == got).all()
    assert (ev.decide_many(subjects[:4], "travel.flight") == got[:4]).all()
    assert OUTCOMES[ev.decide_many(["cy"], "pet.keep_dog")[0]] == "allowed"


def test_errors_are_one_line(blacklist: tuple[pa.Table, Registry]) -> None:
    rows, reg = blacklist
    ev = Engine(["national"]).evaluate(rows, reg, "2018-06-01")
    with pytest.raises(UnknownSubject, match="unknown subject 'zed'"):
        ev.decide("zed", "travel.flight")
    with pytest.raises(UnknownAction, match=r"unknown action 'travel\.teleport'"):
        ev.decide("ann", "travel.teleport")
    with pytest.raises(UnknownSubject):
        ev.decide_many(["ann", "zed"], "travel.flight")
    with pytest.raises(EngineError, match="malformed date"):
        Engine(["national"]).evaluate(rows, reg, "2018-13-01")


def test_tables(blacklist: tuple[pa.Table, Registry]) -> None:
    rows, reg = blacklist
    ev = Engine(["national"]).evaluate(rows, reg, "2018-06-01")
    m = ev.memberships.to_pylist()
    ann = next(r for r in m if r["subject"] == "ann" and r["list"] == "judgment_defaulters")
    assert ann["via"] == "legal_representative_of" and str(ann["since"]) == "2018-03-05"
    t = ev.to_table()
    assert {"subject", "score", "grade", "lists", "denied"} <= set(t.column_names)
    row = t.filter(pa.compute.equal(t["subject"], "bo")).to_pylist()[0]
    assert "travel.high_speed_rail" in row["denied"] and row["score"] is None
    assert ev.scores.num_rows == 0
    assert ev.list_sizes()[("national", "judgment_defaulters")] == 3


def test_points_scores_table_and_grade_distribution() -> None:
    reg = registry(
        {"id": "a", "kind": "person", "region": RONGCHENG},
        {"id": "b", "kind": "person", "region": RONGCHENG},
        {"id": "c", "kind": "organisation", "region": RONGCHENG},
        {"id": "d", "kind": "person", "region": "000101"},
    )
    rows = recs(
        ("1", "a", "traffic.drunk_driving", "2019-04-01"), ("2", "b", "finance.loan_arrears", "2019-04-01")
    )
    ev = Engine(["rongcheng"]).evaluate(rows, reg, "2019-06-01")
    scores = {(r["subject"], r["model"]): (r["score"], r["grade"]) for r in ev.scores.to_pylist()}
    assert scores == {
        ("a", "person_points"): (1000.0, "C"),
        ("b", "person_points"): (990.0, "A"),
        ("c", "org_points"): (1000.0, "A"),
    }
    assert ev.grade_distribution()[("rongcheng", "person_points")] == {
        "AAA": 0,
        "AA": 0,
        "A": 1,
        "B": 0,
        "C": 1,
        "D": 0,
    }
    why = ev.explain("a").to_dict()["rulebooks"][0]["scores"][0]["grade_why"]
    assert "capped at C by rule drunk_driving" in why


# ---------------------------------------------------------------------- the docs' example


def explain_example() -> str:
    reg = registry({"id": "mei", "kind": "person", "region": RONGCHENG})
    rows = recs(
        ("t1", "mei", "utility.theft", "2015-06-10"),
        ("h1", "mei", "social.heroic_act", "2019-05-01"),
        ("k1", "mei", "traffic.ticket", "2020-01-15"),
    )
    return Engine(["rongcheng"]).evaluate(rows, reg, "2020-06-10").explain("mei").render()


def test_the_docs_explain_example_is_reproduced() -> None:
    text = DOCS.read_text("utf-8")
    block = re.search(r"<!-- explain-example -->\n```text\n(.*?)\n```", text, re.S)
    assert block, "docs/engine.md lacks the explain example"
    assert block.group(1) == explain_example()


# ---------------------------------------------------------------------- the rulebook cases


def test_every_builtin_case_passes() -> None:
    from socialcredit.engine import run_case
    from socialcredit.rulebooks import builtin_rulebooks, load_rulebook
    from socialcredit.rulebooks.cases import compare, load_cases

    for ident in builtin_rulebooks():
        book = load_rulebook(ident)
        for case in load_cases(book):
            assert compare(case, run_case(case, book)) == [], (ident, case.name)
