"""Feedback loops (simulator part 2): each loop on vs off moves its measured quantity in the
documented direction on a small population with the same seed (replicated over seeds in
tests/test_simulate_loops.py); determinism across shard counts and conservation through the
ledger with every loop on (``ALL_ON``) are tested in tests/test_simulate_determinism.py and
tests/test_simulate_conservation.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from socialcredit.simulate import load_scenario
from socialcredit.simulate.model import SocialCreditModel
from socialcredit.simulate.runner import run_scenario
from socialcredit.simulate.scenario import ScenarioError

ALL_ON = {
    "deterrence": {"enabled": True, "on_listing": True},
    "chilling": {"enabled": True, "elasticity": 50.0},
    "gaming": {"enabled": True, "below": "AA"},
    "ostracism": {"enabled": True, "share": 0.5},
    "avoidance": {"enabled": True, "factor": 0.2},
    "spiral": {"enabled": True, "job_loss": 0.5, "arrears_factor": 30.0, "partner_default": 1.0},
    "informants": {"enabled": True, "rate": 2.0, "malicious": 0.3},
    "disclosure": {"enabled": True, "reach": {"disclose.credit_website": 0.8}, "word_of_mouth": 0.1},
}
#: every loop's own reporter, which must report something when ``ALL_ON`` runs
LOOP_REPORTERS = {
    "deterrence": "deterred",
    "chilling": "critical_posts",
    "gaming": "points_bought",
    "ostracism": "ties_cut",
    "avoidance": "avoided_attempts",
    "spiral": "jobs_lost",
    "informants": "informants",
    "disclosure": "disclosure_reach",
}
POP = {"regions": {"Rongcheng": 1.0}, "block_size": 128}


def _run(
    feedback: dict[str, Any], *, size: int = 2000, days: int = 90, shards: int | None = None, **kw: Any
) -> SocialCreditModel:
    sc = load_scenario(
        "classroom", size=size, days=days, evaluate_every=10, feedback=feedback, population=POP, **kw
    )
    m = SocialCreditModel(sc, shards=shards)
    m.run()
    return m


def _total(m: SocialCreditModel, reporter: str, key: str | None = None) -> int:
    rows = m.datacollector.table().to_pylist()
    return sum(r["value"] for r in rows if r["reporter"] == reporter and (key is None or r["key"] == key))


@pytest.fixture(scope="module")
def off() -> SocialCreditModel:
    return _run({})


def test_feedback_is_off_by_default_and_reports_nothing(off: SocialCreditModel) -> None:
    for name in ("classroom", "city", "national-2018", "sesame-vs-rongcheng"):
        fb = load_scenario(name).feedback
        assert not (
            fb.deterrence.enabled
            or fb.chilling.enabled
            or fb.gaming.enabled
            or fb.ostracism.enabled
            or fb.avoidance.enabled
            or fb.spiral.enabled
            or fb.informants.enabled
            or fb.disclosure.enabled
        ), name
    reporters = set(off.datacollector.table().column("reporter").to_pylist())
    assert not reporters & {
        "deterred",
        "deterrence",
        "critical_posts",
        "positive_posts",
        "points_bought",
        "listed_share",
        "ties_cut",
        "avoided_attempts",
        "jobs_lost",
        "spiral",
        "informants",
        "disclosure_reach",
    }
    assert "reported_by" not in off.records_table().column_names


def test_avoidance_lowers_refusals_after_a_refusal(off: SocialCreditModel) -> None:
    on = _run({"avoidance": {"enabled": True, "factor": 0.2, "days": 365}})
    avoided = _total(on, "avoided_attempts")
    assert avoided > 0
    # the avoided attempts are the only change: the same first attempts are drawn, fewer made
    assert _total(on, "attempts") == _total(off, "attempts") - avoided
    assert _total(on, "events") == _total(off, "events")
    assert 0 < _total(on, "refused") < _total(off, "refused")
    weak = _run({"avoidance": {"enabled": True, "factor": 0.8, "days": 365}})
    assert 0 < _total(weak, "avoided_attempts") < avoided
    # the same on four shards, row for row
    four = _run({"avoidance": {"enabled": True, "factor": 0.2, "days": 365}}, shards=4)
    assert four.datacollector.table().equals(on.datacollector.table())


def test_deterrence_lowers_repeat_offending(off: SocialCreditModel) -> None:
    on = _run({"deterrence": {"enabled": True, "factor": 0.2, "days": 365}})
    deterred = _total(on, "deterred")
    assert deterred > 0 and _total(on, "deterrence", "windows") > 0
    # the same events happen; those of deterred persons are thinned away
    assert _total(on, "events") == _total(off, "events")
    assert _total(on, "records") == _total(off, "records") - deterred
    # a stronger factor deters more
    weak = _run({"deterrence": {"enabled": True, "factor": 0.8, "days": 365}})
    assert 0 < _total(weak, "deterred") < deterred


def test_a_listing_deters_too() -> None:
    records = _run({"deterrence": {"enabled": True, "factor": 0.2}}, days=60)
    listing = _run({"deterrence": {"enabled": True, "factor": 0.2, "on_listing": True}}, days=60)
    assert _total(listing, "deterrence", "new_listings") > 0
    assert _total(records, "deterrence", "new_listings") == 0
    assert _total(listing, "deterred") > _total(records, "deterred")


def _friends_of_listed(m: SocialCreditModel) -> int:
    from socialcredit.registry import RELATION_KINDS
    from socialcredit.simulate.feedback import listed

    rel, day = m.relations, m.day - 1
    now = listed(m.evaluations["main"], m._person_codes)
    on = (rel.kind == RELATION_KINDS.index("friend_of")) & (rel.since <= day) & (rel.until > day)
    return int((on & (np.isin(rel.subject, now) | np.isin(rel.object, now))).sum())


def test_ostracism_cuts_ties_to_listed_people(off: SocialCreditModel) -> None:
    on = _run({"ostracism": {"enabled": True, "share": 0.5}})
    cut = _total(on, "ties_cut", "ties")
    assert cut > 0 and len(on.relation_ends) == cut
    assert all("until" in line for line in on.relation_ends)
    assert _friends_of_listed(on) < _friends_of_listed(off)


def _jobs(m: SocialCreditModel) -> int:
    from socialcredit.registry import RELATION_KINDS

    rel, day = m.relations, m.day - 1
    on = (rel.kind == RELATION_KINDS.index("employee_of")) & (rel.since <= day) & (rel.until > day)
    return int(on.sum())


def test_the_spiral_ends_jobs_of_listed_people(off: SocialCreditModel) -> None:
    on = _run({"spiral": {"enabled": True, "job_loss": 0.5}})
    lost = _total(on, "jobs_lost", "jobs")
    assert lost > 0 and len(on.relation_ends) == lost
    assert all(line["relation"] == "employee_of" and "until" in line for line in on.relation_ends)
    assert _jobs(on) == _jobs(off) - lost
    four = _run({"spiral": {"enabled": True, "job_loss": 0.5}}, shards=4)
    assert four.relation_ends == on.relation_ends


def test_chilling_lowers_critical_posts_and_raises_positive_energy(off: SocialCreditModel) -> None:
    on = _run({"chilling": {"enabled": True, "elasticity": 80.0, "reward": 40.0}})
    assert _total(on, "listed_share", "per_100k") > 0
    crit = _total(on, "critical_posts")
    assert crit == _total(on, "events", "online.critical_post")
    assert crit < _total(off, "events", "online.critical_post")
    assert _total(on, "positive_posts") > _total(off, "events", "online.positive_energy_post")


def test_gaming_buys_donations_within_the_yearly_cap(off: SocialCreditModel) -> None:
    on = _run({"gaming": {"enabled": True, "below": "AA", "max_per_year": 2, "rate": 12}})
    bought = _total(on, "points_bought", "purchases")
    assert bought > 0 and _total(on, "points_bought", "yuan") == 1000 * bought
    assert _total(on, "records", "social.donation") == _total(off, "records", "social.donation") + bought
    per = on.gaming.bought
    assert per.max() <= 2
    # nobody at grade A or above games when the threshold is A and few fall below
    none = _run({"gaming": {"enabled": True, "below": "D"}}, days=30)
    assert _total(none, "points_bought") == 0


def test_unknown_feedback_categories_are_refused() -> None:
    with pytest.raises(ScenarioError, match="deterrence"):
        _run({"deterrence": {"enabled": True, "categories": ["no.such"]}}, size=100, days=1)
    with pytest.raises(ScenarioError, match="feedback"):
        load_scenario("classroom", feedback={"chilling": {"enabled": True, "elastic": 1}})
    # citizens may only report what the vocabulary lets `citizen_report` report
    with pytest.raises(ScenarioError, match="citizen_report"):
        _run({"informants": {"enabled": True, "categories": ["traffic.ticket"]}}, size=100, days=1)
    with pytest.raises(ScenarioError, match="disclosure: unknown channels"):
        _run({"disclosure": {"enabled": True, "reach": {"disclose.skywriting": 0.5}}}, size=100, days=1)
    with pytest.raises(ScenarioError, match="spiral: unknown categories"):
        _run({"spiral": {"enabled": True, "arrears_categories": ["finance.no_such"]}}, size=100, days=1)
    with pytest.raises(ScenarioError, match="ostracism: unknown relations"):
        _run({"ostracism": {"enabled": True, "by_relation": {"cousin_of": 0.1}}}, size=100, days=1)


def test_feedback_demo_scenario_runs() -> None:
    sc = load_scenario("feedback-demo", size=600, days=40)
    fb = sc.feedback
    assert all(getattr(fb, loop).enabled for loop in LOOP_REPORTERS)
    m = SocialCreditModel(sc)
    m.run()
    assert _total(m, "critical_posts") >= 0 and _total(m, "listed_share") > 0


def test_feedback_parameters_can_be_swept() -> None:
    sc = load_scenario(
        "feedback-demo",
        size=100,
        days=2,
        sweep=[{"parameter": "feedback.deterrence.factor", "values": [0.2, 0.8]}],
    )
    assert [r.scenario.feedback.deterrence.factor for r in sc.runs()] == [0.2, 0.8]
    assert all(r.scenario.feedback.gaming.enabled for r in sc.runs())


def test_the_report_plots_the_feedback_reporters(tmp_path: Path) -> None:
    from socialcredit.report.load import load_runs
    from socialcredit.report.sections import feedback_section

    sc = load_scenario("classroom", size=600, days=40, evaluate_every=10, feedback=ALL_ON, population=POP)
    run_scenario(sc, tmp_path / "on")
    sec = feedback_section(load_runs(tmp_path / "on"))
    effects = {r["effect"] for r in sec.table}
    assert {
        "deterrence: records deterred",
        "chilling: critical posts",
        "gaming: score purchases",
        "ostracism: ties cut",
    } <= effects
    bought = sum(r["count"] for r in sec.table if r["effect"] == "gaming: score purchases")
    daily = pq.read_table(tmp_path / "on" / "daily.parquet").to_pylist()
    assert bought == sum(
        r["value"] for r in daily if r["reporter"] == "points_bought" and r["key"] == "purchases"
    )
    run_scenario(load_scenario("classroom", size=300, days=5, population=POP), tmp_path / "off")
    off = feedback_section(load_runs(tmp_path / "off"))
    assert not off.table and "off" in off.note
