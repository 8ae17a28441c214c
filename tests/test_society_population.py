"""The synthetic population: shard-independent, realistic enough, identifiers one-to-one."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from socialcredit import ids
from socialcredit.registry import RELATION_KINDS
from socialcredit.society import graph
from socialcredit.society.parameters import Parameter, ParameterError, load_parameters, with_overrides
from socialcredit.society.population import (
    OCCUPATIONS,
    PopulationSpec,
    ages_on,
    generate_population,
)

SPEC = PopulationSpec(seed=11, size=3000, regions=(("000600", 1.0),), block_size=256)


@pytest.fixture(scope="module")
def pop():
    return generate_population(SPEC)


def _rel(pop, name):
    r = pop.relations
    m = r["relation"] == RELATION_KINDS.index(name)
    return r["s_key"][m], r["o_key"][m], r["s_kind"][m], r["o_kind"][m]


def test_population_does_not_depend_on_the_number_of_shards(pop) -> None:
    other = generate_population(SPEC, shards=5)
    for table in ("persons", "organisations", "vehicles", "dogs", "relations", "governments"):
        a, b = getattr(pop, table), getattr(other, table)
        assert a.keys() == b.keys()
        for col in a:
            assert np.array_equal(a[col], b[col]), (table, col)
    assert pop.registry().subjects.equals(other.registry().subjects)
    assert pop.registry().relations.equals(other.registry().relations)


def test_identifiers_are_valid_distinct_and_carry_the_persons_birth_date(pop) -> None:
    all_ids = pop.subject_ids().tolist()
    assert len(set(all_ids)) == len(all_ids)
    for sid in all_ids[:50] + all_ids[-50:]:
        ids.validate_identifier(sid)
    p = pop.persons
    born = [ids.parse_resident_id(x).birth_date for x in p["id"][:200].tolist()]
    assert [(b - dt.date(1970, 1, 1)).days for b in born] == p["birth"][:200].tolist()
    sexes = [ids.parse_resident_id(x).sex == "male" for x in p["id"][:200].tolist()]
    assert sexes == p["male"][:200].tolist()
    assert set(p["region"].tolist()) == {600}


def test_ages_follow_the_pyramid_not_the_uniform_generator(pop) -> None:
    age = pop.persons["age"]
    assert age.min() >= 5 and age.max() <= 89
    thirties = ((age >= 30) & (age < 35)).mean()
    eighties = ((age >= 80) & (age < 85)).mean()
    assert thirties > 4 * eighties  # the generator alone would give about equal shares
    assert ages_on(
        np.array([(dt.date(2000, 3, 1) - dt.date(1970, 1, 1)).days]), dt.date(2018, 3, 1)
    ).tolist() == [18]


def test_households_are_plausible(pop) -> None:
    p = pop.persons
    husband, wife, *_ = _rel(pop, "spouse_of")
    assert len(husband) > 0.2 * len(p["index"])
    assert p["male"][husband].all() and not p["male"][wife].any()
    assert (np.abs(p["age"][husband].astype(int) - p["age"][wife]) <= 15).mean() > 0.95
    assert (p["spouse"][wife] == husband).all()
    parent, child, *_ = _rel(pop, "parent_of")
    gap = (p["birth"][child] - p["birth"][parent]) / 365.25
    assert gap.min() >= 18 and gap.max() <= 60
    minors = np.flatnonzero(p["age"] < 18)
    assert (p["mother"][minors] >= 0).mean() > 0.9


def test_occupations_and_organisations(pop) -> None:
    p = pop.persons
    occ = np.array(OCCUPATIONS)[p["occupation"]]
    assert (occ[p["age"] < 18] == "student").all()
    assert (occ[p["age"] >= 60] == "retired").all()
    for prof in ("doctor", "teacher", "civil servant", "farmer"):
        assert (occ == prof).any(), prof
    rep, org, *_ = _rel(pop, "legal_representative_of")
    assert len(org) == pop.count("organisation")
    assert ((p["age"][rep] >= 25) & (p["age"][rep] <= 65)).all()
    *_, okind = _rel(pop, "employee_of")
    assert set(okind.tolist()) == {1, 2}  # organisations and the government
    owner, *_ = _rel(pop, "owner_of")
    assert (p["age"][owner] >= 18).all()
    assert pop.count("vehicle") > 0 and pop.count("dog") > 0


def test_friendship_graph_is_heavy_tailed_and_clustered(pop) -> None:
    a, b, *_ = _rel(pop, "friend_of")
    n = SPEC.size
    assert (a < b).all() and len(np.unique(a * n + b)) == len(a)
    deg = graph.degrees(a, b, n)
    assert deg.max() > 6 * deg.mean()
    c = graph.clustering(a, b, n, sample=300)
    random_c = deg.mean() / n
    assert c > 10 * random_c


def test_out_ties_are_generated_on_demand_per_person() -> None:
    params = load_parameters("population")["friends"].value
    s1, t1 = graph.out_ties(3, np.arange(0, 200), size=1000, block_size=128, params=params)
    _, t2 = graph.out_ties(3, np.array([150]), size=1000, block_size=128, params=params)
    assert t1[s1 == 150].tolist() == t2.tolist()


def test_parameters_must_be_cited() -> None:
    with pytest.raises(ValueError):
        Parameter(value=1)
    with pytest.raises(ValueError):
        Parameter(value=1, assumed=True)
    assert Parameter(value=1, source="facts 6").value == 1
    base = load_parameters("population")
    for name, p in base.items():
        assert p.source or (p.assumed and p.reason), name
    over = with_overrides(base, {"dog_owner_share": 0.2}, where="test")
    assert over["dog_owner_share"].value == 0.2 and over["dog_owner_share"].reason
    with pytest.raises(ParameterError, match="unknown parameter"):
        with_overrides(base, {"dogs": 1}, where="test")


def test_too_many_persons_for_one_region_is_refused() -> None:
    spec = PopulationSpec(seed=1, size=200_000_000, regions=(("000600", 1.0),))
    with pytest.raises(ParameterError, match="identifier candidates"):
        generate_population(PopulationSpec(seed=1, size=spec.size, regions=spec.regions))
