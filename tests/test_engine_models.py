"""Engine part 2 through the library: factors and tiers models, network terms, and the documents'
cases of issue 6 (Jinan dog, Shanghai honking, friends under Sesame, a civil servant's promotion,
a company's serious dishonesty reaching its legal representative)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from socialcredit.engine import Engine, EngineError
from socialcredit.engine.reports import DECISIONS_SCHEMA, ReportReview
from socialcredit.records import records_table
from socialcredit.registry import Registry
from socialcredit.rulebooks.resolve import resolve
from socialcredit.rulebooks.schema import RulebookFile

ASSUMED = {"assumed": True, "reason": "test rulebook"}


def registry(*lines: dict[str, Any], **extra: dict[str, Any]) -> Registry:
    """Registry lines (names default to ids); keyword columns (``consent``, ``civil_servant``)
    map ids to values."""
    lines = tuple({"name": ln["id"], **ln} if "relation" not in ln else ln for ln in lines)
    reg = Registry.from_lines(lines)
    subjects = reg.subjects
    for name, values in extra.items():
        col = pa.array([values.get(i) for i in subjects["id"].to_pylist()], pa.bool_())
        at = subjects.schema.get_field_index(name)
        subjects = subjects.set_column(at, name, col) if at >= 0 else subjects.append_column(name, col)
    return Registry(subjects, reg.relations)


def recs(*rows: tuple[str, str, str, str, str]) -> pa.Table:
    return records_table(
        [{"id": i, "subject": s, "category": c, "occurred_at": d, "source": src} for i, s, c, d, src in rows]
    )


# ---------------------------------------------------------------------- friends under Sesame


def friends() -> tuple[pa.Table, Registry]:
    reg = registry(
        {"id": "ai", "kind": "person", "region": "Hangzhou"},
        {"id": "bo", "kind": "person", "region": "Hangzhou"},
        {"id": "cy", "kind": "person", "region": "Hangzhou"},
        {"id": "du", "kind": "person", "region": "Hangzhou"},
        {"relation": "friend_of", "subject": "ai", "object": "bo", "since": "2015-01-01"},
        {
            "relation": "friend_of",
            "subject": "cy",
            "object": "du",
            "since": "2015-01-01",
            "until": "2019-01-01",
        },
        consent={"ai": True, "bo": True, "cy": True, "du": True},
    )
    rows = recs(
        ("p1", "bo", "online.critical_post", "2019-03-01", "online_platform"),
        ("p2", "bo", "online.critical_post", "2019-04-01", "online_platform"),
        ("p3", "du", "online.critical_post", "2019-04-01", "online_platform"),
    )
    return rows, reg


def test_a_friends_critical_posts_lower_the_score_and_a_silent_friend_costs_nothing() -> None:
    rows, reg = friends()
    ev = Engine(["sesame"]).evaluate(rows, reg, "2019-06-01")
    # ai: relationships 50 - 2 x 10 = 30 -> 650 - 600 x 0.05 x 0.2 = 644
    assert ev.score_of("ai")[0] == pytest.approx(644.0)
    # bo's friend ai posts nothing: bo loses only for his own posts (2 x -5)
    assert ev.score_of("bo")[0] == pytest.approx(650 - 600 * 0.05 * 0.10)
    # cy's friendship with du ended before du posted: relations count as valid on the date
    assert ev.score_of("cy")[0] == pytest.approx(650.0)
    before = Engine(["sesame"]).evaluate(rows, reg, "2019-02-01")
    assert before.score_of("ai")[0] == pytest.approx(650.0)


def test_the_sesame_explanation_shows_each_factor_and_names_the_relation_not_the_friend() -> None:
    rows, reg = friends()
    ex = Engine(["sesame"]).evaluate(rows, reg, "2019-06-01").explain("ai")
    [score] = ex.to_dict()["rulebooks"][0]["scores"]
    assert score["kind"] == "factors" and score["score"] == pytest.approx(644.0)
    by_id = {f["factor"]: f for f in score["factors"]}
    assert len(by_id) == 5 and by_id["credit_history"]["sub_score"] == 50
    rel = by_id["interpersonal_relationships"]
    assert rel["sub_score"] == 30 and rel["weight"] == 0.05
    [part] = rel["parts"]
    assert part["network"] == {
        "relation": "friend_of",
        "to": "both",
        "aggregate": "count",
        "term": 2.0,
        "category": "online.critical_post",
        "list": None,
    }
    assert part["record"] is None and part["points"] == -20
    text = ex.render()
    assert "interpersonal_relationships (weight 0.05): 30 = base 50 -20" in text
    assert "via friend_of: count 2 of online.critical_post records" in text
    assert "bo" not in text and "p1" not in text and "p2" not in text


# ---------------------------------------------------------------------- Shanghai honking


def test_one_honk_gives_the_fine_the_scoreboard_and_the_owners_points() -> None:
    reg = registry(
        {"id": "xu", "kind": "person", "region": "Shanghai"},
        {"id": "cab", "kind": "vehicle", "region": "Shanghai"},
        {"relation": "owner_of", "subject": "xu", "object": "cab", "since": "2015-01-01"},
    )
    rows = recs(("h1", "cab", "traffic.honking", "2019-03-01", "traffic_police"))
    ev = Engine(["shanghai-honking"]).evaluate(rows, reg, "2019-03-10")
    assert ev.score_of("cab") == (None, None, None)  # fined, not scored
    assert ev.fines_of("cab") == 100.0 and ev.fines_of("xu") == 0.0
    assert ev.disclosed("cab") == ["disclose.roadside_scoreboard"]
    assert ev.score_of("xu")[0] == -5.0 and ev.disclosed("xu") == []
    text = ev.explain("xu").render()
    assert "via owner_of: count 1 of traffic.honking records" in text and "h1" not in text


# ---------------------------------------------------------------------- Jinan dog


def test_infractions_take_the_licence_to_zero_and_the_exam_restores_it() -> None:
    reg = registry(
        {"id": "wang", "kind": "person", "region": "Jinan"},
        {"id": "dog", "kind": "dog", "region": "Jinan"},
        {"relation": "owner_of", "subject": "wang", "object": "dog", "since": "2017-02-01"},
    )
    rows = recs(
        ("a", "dog", "pet.dog_off_leash", "2017-06-01", "grid_collector"),
        ("b", "dog", "pet.dog_off_leash", "2017-09-01", "public_security"),
        ("c", "dog", "pet.dog_off_leash", "2018-01-15", "citizen_report"),
        ("d", "dog", "pet.owner_exam_passed", "2018-03-20", "public_security"),
    )
    # the citizen report counts once a department has confirmed it (issue #16, item 5)
    confirmed = pa.Table.from_pylist(
        [{"record": "c", "outcome": "confirmed", "on": dt.date(2018, 1, 20)}], schema=DECISIONS_SCHEMA
    )
    held = Engine(["jinan-dogs"]).bind(rows, reg)
    assert held.evaluate("2018-03-01").score_of("dog")[0] == 3  # held for review: −3 twice
    bound = held.with_reports(ReportReview(decisions=confirmed))
    assert bound.evaluate("2018-01-19").score_of("dog")[0] == 3  # not yet confirmed
    assert bound.evaluate("2018-03-01").score_of("dog")[0] == 0
    assert bound.decide("wang", "pet.keep_dog", on="2018-03-01").outcome == "denied"
    assert bound.decide("wang", "pet.keep_dog", on="2018-05-01").outcome == "allowed"


# ---------------------------------------------------------------------- civil servants


def test_a_civil_servants_record_affects_promotion() -> None:
    reg = registry(
        {"id": "zhao", "kind": "person", "region": "Wenzhou"},
        {"id": "qian", "kind": "person", "region": "Wenzhou"},
        {"id": "sun", "kind": "person", "region": "Wenzhou"},
        civil_servant={"zhao": True, "qian": True, "sun": False},
    )
    rows = recs(
        ("b1", "zhao", "government.bribery", "2018-05-01", "discipline_commission"),
        ("b2", "zhao", "government.bribery", "2018-11-01", "discipline_commission"),
        ("b3", "sun", "government.bribery", "2018-11-01", "discipline_commission"),
    )
    ev = Engine(["civil-servants"]).evaluate(rows, reg, "2019-06-01")
    assert ev.score_of("zhao")[:2] == (50.0, "C")  # work 100 - 100 = 0, home 100
    assert ev.decide("zhao", "employment.civil_service").outcome == "restricted"
    assert ev.score_of("qian")[:2] == (100.0, "A")
    assert ev.decide("qian", "employment.civil_service").outcome == "rewarded"
    assert ev.score_of("sun") == (None, None, None)


# ---------------------------------------------------------------------- companies


def test_serious_dishonesty_lists_the_company_and_its_legal_representative() -> None:
    reg = registry(
        {"id": "co", "kind": "organisation"},
        {"id": "rep", "kind": "person", "birth_date": "1970-01-01"},
        {"id": "old", "kind": "person", "birth_date": "1970-01-01"},
        {"relation": "legal_representative_of", "subject": "rep", "object": "co", "since": "2015-01-01"},
        {
            "relation": "legal_representative_of",
            "subject": "old",
            "object": "co",
            "since": "2010-01-01",
            "until": "2014-01-01",
        },
    )
    rows = recs(("f1", "co", "org.serious_dishonesty", "2018-04-25", "civil_aviation"))
    ev = Engine(["enterprise"]).evaluate(rows, reg, "2018-06-01")
    assert ("enterprise", "serious_dishonesty") in ev.lists_of("co")
    assert ("enterprise", "serious_dishonesty") in ev.lists_of("rep")
    assert ev.lists_of("old") == []
    assert ev.decide("rep", "government.procurement").outcome == "denied"
    m = {r["subject"]: r["via"] for r in ev.memberships.to_pylist() if r["list"] == "serious_dishonesty"}
    assert m == {"co": None, "rep": "legal_representative_of"}


# ---------------------------------------------------------------------- tiers


def test_honest_shanghai_tiers_follow_the_records_of_five_years() -> None:
    reg = registry(
        {"id": "a", "kind": "person", "region": "Shanghai"},
        {"id": "b", "kind": "person", "region": "Shanghai"},
        {"id": "c", "kind": "person", "region": "Shanghai"},
        {"id": "d", "kind": "person", "region": "Shanghai"},
        consent={"a": True, "b": True, "c": True, "d": False},
    )
    rows = recs(
        ("t", "b", "traffic.ticket", "2017-01-05", "traffic_police"),
        ("f", "c", "commerce.fraud", "2012-06-10", "market_regulation"),
    )
    bound = Engine(["honest-shanghai"]).bind(rows, reg)
    ev = bound.evaluate("2017-06-01")
    assert [ev.score_of(x)[1] for x in "abcd"] == ["very_good", "good", "bad", None]
    assert ev.score_of("a")[0] is None  # a tier has no number
    assert ev.decide("c", "finance.loan").outcome == "restricted"
    # five years after the fraud it no longer makes the rating bad
    assert bound.evaluate("2017-06-10").score_of("c")[1] == "very_good"
    assert bound.evaluate("2017-06-09").score_of("c")[1] == "bad"
    row = next(r for r in ev.scores.to_pylist() if r["subject"] == "b")
    assert row["score"] is None and row["grade"] == "good"
    assert "tier bad: a record of" in bound.evaluate("2017-06-09").explain("c").render()


# ---------------------------------------------------------------------- refusals


def book(rule: dict[str, Any]) -> Any:
    data = {
        "id": "t",
        "title": "T",
        "jurisdiction": "China",
        "scores": [
            {"id": "p", "label": "p", "model": "points", "subject_kinds": ["person"], "base": 0, **ASSUMED}
        ],
        "rules": [{"id": "r", "label": "r", **rule, **ASSUMED}],
        "versions": [{"id": "v", "effective": "2000-01-01", "summary": "s", **ASSUMED}],
    }
    return resolve(RulebookFile.model_validate(data), None, Path("/nonexistent/t.yaml"))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"escalation": {"steps": [-1, -2]}}, "escalation, brackets and grade caps"),
        ({"points": -1, "cap": {"points": 5, "per": "year"}}, "takes no `cap`"),
        (
            {"points_per_unit": -1, "via": {"relation": "friend_of", "to": "both", "aggregate": "share"}},
            "times the share",
        ),
    ],
)
def test_network_terms_refuse_what_they_cannot_mean(rule: dict[str, Any], message: str) -> None:
    rule = {"category": "online.critical_post", "via": {"relation": "friend_of", "to": "both"}, **rule}
    reg = registry({"id": "a", "kind": "person"})
    with pytest.raises(EngineError, match=message):
        Engine([book(rule)]).evaluate(recs(), reg, "2020-01-01")


def test_a_share_of_listed_friends() -> None:
    data = {
        "id": "t",
        "title": "T",
        "jurisdiction": "China",
        "scores": [
            {"id": "p", "label": "p", "model": "points", "subject_kinds": ["person"], "base": 100, **ASSUMED}
        ],
        "lists": [
            {
                "id": "bad",
                "label": "bad",
                "kind": "black",
                "subject_kinds": ["person"],
                "enter": [{"category": "judicial.judgment_default"}],
                **ASSUMED,
            }
        ],
        "rules": [
            {
                "id": "r",
                "label": "r",
                "on_list": "bad",
                "points": -40,
                "via": {"relation": "friend_of", "to": "both", "aggregate": "share"},
                **ASSUMED,
            }
        ],
        "versions": [{"id": "v", "effective": "2000-01-01", "summary": "s", **ASSUMED}],
    }
    rb = resolve(RulebookFile.model_validate(data), None, Path("/nonexistent/t.yaml"))
    reg = registry(
        *({"id": x, "kind": "person"} for x in "abcde"),
        *({"relation": "friend_of", "subject": "a", "object": x} for x in "bcde"),
    )
    rows = recs(("1", "b", "judicial.judgment_default", "2019-01-01", "court"))
    ev = Engine([rb]).evaluate(rows, reg, "2019-06-01")
    assert ev.score_of("a")[0] == pytest.approx(90.0)  # one of four friends listed
    assert ev.score_of("b")[0] == pytest.approx(100.0)  # b's only friend, a, is not listed
    assert ev.score_of("c")[0] == pytest.approx(100.0)


# ---------------------------------------------------------------------- incremental updates


def test_an_incremental_update_looks_up_only_the_new_records(monkeypatch: Any) -> None:
    from socialcredit.engine import evaluate as evaluate_module

    seen: list[tuple[int, int]] = []
    real = evaluate_module.record_pass

    def spy(groups: Any, recs: Any, day: int, side: Any, prev: Any = None) -> Any:
        seen.append((len(recs), prev.n if prev is not None else 0))
        return real(groups, recs, day, side, prev)

    monkeypatch.setattr(evaluate_module, "record_pass", spy)
    reg = registry(
        {"id": "a", "kind": "person", "region": "000601"}, {"id": "b", "kind": "person", "region": "000601"}
    )
    day1 = recs(
        ("1", "a", "traffic.ticket", "2019-01-05", "traffic_police"),
        ("2", "b", "social.heroic_act", "2019-01-06", "people_government"),
    )
    day2 = records_table(
        [
            {
                "id": "3",
                "subject": "a",
                "category": "traffic.ticket",
                "occurred_at": "2019-01-07",
                "source": "traffic_police",
            },
            {
                "id": "4",
                "subject": "b",
                "category": "traffic.ticket",
                "occurred_at": "2019-01-07",
                "source": "traffic_police",
                "corrects": "2",
            },
        ]
    )
    engine = Engine(["rongcheng"])
    bound = engine.bind(day1, reg)
    bound.incremental = True
    assert bound.evaluate("2019-02-01").score_of("b")[0] == 1030
    later = bound.extend(day2)
    ev = later.evaluate("2019-02-01")
    assert seen == [(2, 0), (4, 2)]
    batch = Engine(["rongcheng"]).evaluate(pa.concat_tables([day1, day2]), reg, "2019-02-01")
    assert ev.scores.equals(batch.scores)
    assert ev.score_of("a")[0] == 990 and ev.score_of("b")[0] == 1000  # b's act annulled
    grown = registry(
        {"id": "a", "kind": "person", "region": "000601"},
        {"id": "b", "kind": "person", "region": "000601"},
        {"id": "c", "kind": "person", "region": "000601"},
    )
    assert later.extend(recs(), grown).evaluate("2019-02-01").score_of("c")[0] == 1000
    with pytest.raises(EngineError, match="reorders or drops"):
        later.extend(recs(), registry({"id": "b", "kind": "person"}))
