"""Behaviour: cited rates for every category, event-driven draws that do not depend on shards."""

from __future__ import annotations

import numpy as np
import pytest

from socialcredit.society.behaviour import BehaviourModel, coverage_table
from socialcredit.society.parameters import ParameterError
from socialcredit.society.population import PopulationSpec, generate_population
from socialcredit.society.rates import ONE, load_behaviour, parse_behaviour
from socialcredit.vocabulary import vocabulary

SPEC = PopulationSpec(seed=5, size=2000, regions=(("000600", 1.0),), block_size=128)
DAY0 = 17532  # 2018-01-01


@pytest.fixture(scope="module")
def pop():
    return generate_population(SPEC)


def _model(pop, blocks=None, **kw):
    beh = load_behaviour()
    cov = coverage_table(beh, [600])
    return BehaviourModel(
        pop, beh, seed=5, coverage=cov, blocks=blocks, with_governments=blocks is None or blocks[0] == 0, **kw
    )


def test_every_category_has_a_cited_rate_and_every_attempt_is_an_action() -> None:
    beh = load_behaviour()
    voc = vocabulary()
    assert set(beh.categories) == set(voc.categories)
    for name, p in {**beh.categories, **beh.attempts}.items():
        assert p.source or (p.assumed and p.reason), name
    for name in beh.attempts:
        assert voc.actions[name].kind in ("restriction", "reward")


def test_behaviour_file_is_validated() -> None:
    from importlib import resources

    import yaml

    data = yaml.safe_load(
        resources.files("socialcredit.society").joinpath("data/behaviour.yaml").read_text("utf-8")
    )
    del data["categories"]["traffic.ticket"]
    with pytest.raises(ParameterError, match=r"traffic\.ticket"):
        parse_behaviour(data)
    data = yaml.safe_load(
        resources.files("socialcredit.society").joinpath("data/behaviour.yaml").read_text("utf-8")
    )
    data["categories"]["traffic.honking"]["value"]["rate"] = {"person": 1.0}
    with pytest.raises(ParameterError, match="vocabulary allows only vehicle"):
        parse_behaviour(data)


def test_draws_do_not_depend_on_the_shards(pop) -> None:
    whole = _model(pop)
    halves = [_model(pop, (0, 7)), _model(pop, (7, SPEC.n_blocks))]
    for day in range(DAY0, DAY0 + 5):
        a = whole.draw(day)
        parts = [h.draw(day) for h in halves]
        for what in ("records", "attempts"):
            one = getattr(a, what)
            two = {c: np.concatenate([getattr(p, what)[c] for p in parts]) for c in one}
            key = lambda d: np.lexsort((d["k"], d["block"], d["kind"], d["subject"]))  # noqa: E731
            for c in one:
                if c == "member":
                    continue
                assert np.array_equal(one[c][key(one)], two[c][key(two)]), (what, c)
        assert np.array_equal(a.events, parts[0].events + parts[1].events)


def test_event_counts_match_the_rates(pop) -> None:
    m = _model(pop)
    g = m.group
    cols = m.cols
    expected = g.lam.sum(axis=0) / ONE  # events per day per column (all kinds)
    counts = np.zeros(len(m.columns))
    days = 60
    for day in range(DAY0, DAY0 + days):
        d = m.draw(day)
        counts[: len(m.categories)] += d.events
    j = m.categories.index("finance.bill_paid_on_time")
    e = expected[list(cols).index(j)] * days
    assert abs(counts[j] - e) < 5 * np.sqrt(e)


def test_subjects_are_chosen_in_proportion_to_their_rates(pop) -> None:
    m = _model(pop)
    p = pop.persons
    hits = np.zeros(SPEC.size)
    j = m.categories.index("online.gaming_hours")
    for day in range(DAY0, DAY0 + 60):
        d = m.draw(day)
        r = d.records
        sel = (r["category"] == j) & (r["kind"] == 0)
        np.add.at(hits, r["subject"][sel], 1)
    young = p["age"] < 30
    old = p["age"] >= 60
    assert hits[young].mean() > 10 * max(hits[old].mean(), 1e-3)


def test_open_cases_change_who_can_settle(pop) -> None:
    m = _model(pop)
    assert m.open_cases() == 0
    j = m.categories.index("judicial.judgment_default")
    persons = m.members("person")
    adults = np.flatnonzero(pop.persons["age"][persons.keys] >= 18)[:3]  # settling is for adults
    member = persons.position[adults]
    recs = {"kind": np.zeros(3, np.int8), "category": np.full(3, j), "member": member}
    m.apply(recs)
    assert m.open_cases() == 3
    fulfilled = m.categories.index("judicial.judgment_fulfilled")
    g = m.group
    col = m.col_position[fulfilled]
    others = persons.position[np.setdiff1d(np.arange(20), adults)]
    assert m.table[g.klass[member], col].all() and not m.table[g.klass[others], col].any()
    m.apply({"kind": np.zeros(1, np.int8), "category": np.array([fulfilled]), "member": member[:1]})
    assert m.open_cases() == 2


def test_coverage_is_set_per_region_and_channel() -> None:
    beh = load_behaviour()
    _, table = coverage_table(beh, [600, 200], {"Shanghai": {"camera": 0.9}})
    channels = sorted(set(beh.channels.value.values()))
    assert table[1, channels.index("camera")] == 0.9
    assert table[0, channels.index("camera")] == beh.coverage.value["camera"]
    with pytest.raises(KeyError):
        coverage_table(beh, [600], {"all": {"telepathy": 1.0}})
