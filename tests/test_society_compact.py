"""The compact population (society/compact.py) is the model's population, exactly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from socialcredit.registry import RELATION_KINDS
from socialcredit.simulate.model import population_spec
from socialcredit.simulate.scenario import load_scenario
from socialcredit.society import graph, rng
from socialcredit.society.behaviour import KINDS, BehaviourModel, coverage_table
from socialcredit.society.compact import CompactShard, _degree_of, _degree_steps, class_offsets, compact_shard
from socialcredit.society.parameters import ParameterError
from socialcredit.society.population import _GROUP_OF, Population, PopulationSpec, generate_shard
from socialcredit.society.rates import load_behaviour

MULTI = (("000600", 2.0), ("000100", 1.0), ("009100", 0.5))


def _national(size: int, **changes: object) -> PopulationSpec:
    spec = population_spec(load_scenario("national-2018", size=size))
    if changes:
        spec = PopulationSpec(**{**spec.__dict__, **changes})
    return spec


def _reference(
    spec: PopulationSpec, lo: int, hi: int, with_governments: bool
) -> tuple[Population, BehaviourModel]:
    pop = Population.concat([generate_shard(spec, lo, hi)])
    beh = load_behaviour()
    regions = sorted({int(c) for c in spec.region_codes()})
    model = BehaviourModel(
        pop,
        beh,
        seed=spec.seed,
        coverage=coverage_table(beh, regions),
        blocks=(lo, hi),
        with_governments=with_governments,
    )
    return pop, model


def _degrees(spec: PopulationSpec, index: np.ndarray) -> np.ndarray:
    f = spec.value("friends")
    u = rng.uniform(rng.key(spec.seed, "graph/degree"), index)
    deg = np.floor(int(f["min"]) * (1.0 - u) ** (-1.0 / (float(f["alpha"]) - 1.0)))
    return np.minimum(deg, int(f["cap"])).astype(np.int64)


def assert_same(spec: PopulationSpec, lo: int, hi: int, *, with_governments: bool) -> CompactShard:
    """``compact_shard`` against ``generate_shard`` + ``BehaviourModel`` on blocks ``lo..hi-1``."""
    pop, model = _reference(spec, lo, hi, with_governments)
    s = compact_shard(spec, lo, hi, with_governments=with_governments)
    tables = {
        "person": pop.persons,
        "organisation": pop.organisations,
        "government": pop.governments,
        "vehicle": pop.vehicles,
        "dog": pop.dogs,
    }
    assert model.offsets == class_offsets(spec)
    assert len(s) == len(model.group.codes)
    for k, kind in enumerate(KINDS):
        mem, rows, table = model.members(kind), s.rows(kind), tables[kind]
        assert (s.kind[rows] == k).all()
        np.testing.assert_array_equal(s.index[rows], mem.keys, err_msg=kind)
        np.testing.assert_array_equal(s.klass[rows], mem.klass + model.offsets[kind], err_msg=kind)
        at = np.searchsorted(table["index"], mem.keys)
        np.testing.assert_array_equal(s.region[rows], table["region"][at], err_msg=kind)
        block = np.zeros(len(at), np.int64) if kind == "government" else table["block"][at]
        np.testing.assert_array_equal(s.block[rows], block, err_msg=kind)
    assert s.klass.dtype == np.int32 and s.index.dtype == np.int64 and s.kind.dtype == np.int8
    # persons' attributes
    p = pop.persons
    np.testing.assert_array_equal(s.age, p["age"])
    np.testing.assert_array_equal(s.birth, p["birth"])
    np.testing.assert_array_equal(s.male, p["male"])
    np.testing.assert_array_equal(s.group, _GROUP_OF[p["occupation"]])
    np.testing.assert_array_equal(s.commute, p["commute"])
    r = pop.relations
    emp = (r["relation"] == RELATION_KINDS.index("employee_of")) & (r["s_kind"] == 0)
    np.testing.assert_array_equal(s.employed, np.isin(p["index"], r["s_key"][emp]))
    np.testing.assert_array_equal(s.degree, _degrees(spec, p["index"]))
    src, _ = graph.out_ties(
        spec.seed, p["index"], size=spec.size, block_size=spec.block_size, params=spec.value("friends")
    )
    started = np.bincount(src - p["index"][0], minlength=len(p["index"])) if len(src) else 0
    assert np.all(started <= s.degree)  # out_ties drops the rare self-ties
    # organisations' attributes
    o = pop.organisations
    np.testing.assert_array_equal(s.rep, o["rep"])
    partner = r["relation"] == RELATION_KINDS.index("partner_of")
    np.testing.assert_array_equal(s.has_partner, np.isin(o["index"], r["s_key"][partner]))
    return s


@pytest.mark.parametrize(
    ("spec", "lo", "hi"),
    [
        (_national(5000), 0, 5),
        (_national(5000), 2, 4),
        (_national(5000, block_size=512), 3, 10),
        (PopulationSpec(seed=4, size=3000, regions=MULTI, block_size=512), 0, 6),
        (PopulationSpec(seed=4, size=3000, regions=MULTI, block_size=512), 2, 5),
        (PopulationSpec(seed=9, size=2500, regions=(("000600", 1.0),), block_size=1024), 0, 3),
        (PopulationSpec(seed=9, size=2500, regions=(("000600", 1.0),), block_size=1024), 1, 3),
    ],
)
def test_compact_shard_is_the_models_population(spec: PopulationSpec, lo: int, hi: int) -> None:
    assert_same(spec, lo, hi, with_governments=lo == 0)


def _concat(parts: list[CompactShard]) -> dict[str, np.ndarray]:
    kinds = {k: np.concatenate([q.index[q.rows(k)] for q in parts]) for k in KINDS}
    out = {"persons": np.concatenate([q.age for q in parts])}
    for name in ("klass", "region", "block"):
        for k in KINDS:
            out[f"{k}/{name}"] = np.concatenate([getattr(q, name)[q.rows(k)] for q in parts])
    for name in ("age", "male", "group", "commute", "employed", "degree", "has_partner", "rep"):
        out[name] = np.concatenate([getattr(q, name) for q in parts])
    out.update({f"{k}/index": v for k, v in kinds.items()})
    return out


@pytest.mark.parametrize(
    "spec", [_national(9000, block_size=512), PopulationSpec(seed=2, size=4100, regions=MULTI)]
)
def test_shards_concatenate_to_the_whole(spec: PopulationSpec) -> None:
    n = spec.n_blocks
    whole = _concat([compact_shard(spec, 0, n, with_governments=True)])
    edges = [0, 1, n // 2, n - 1, n]
    parts = _concat(
        [compact_shard(spec, a, b, with_governments=a == 0) for a, b in itertools.pairwise(edges)]
    )
    assert whole.keys() == parts.keys()
    for name in whole:
        np.testing.assert_array_equal(parts[name], whole[name], err_msg=name)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**40),
    size=st.integers(1, 1500),
    block_size=st.sampled_from([64, 100, 256, 512]),
    multi=st.booleans(),
    data=st.data(),
)
def test_compact_matches_for_any_seed_and_size(
    seed: int, size: int, block_size: int, multi: bool, data: st.DataObject
) -> None:
    regions = MULTI if multi else (("009200", 1.0),)
    spec = PopulationSpec(seed=seed, size=size, regions=regions, block_size=block_size)
    lo = data.draw(st.integers(0, spec.n_blocks - 1))
    hi = data.draw(st.integers(lo + 1, spec.n_blocks))
    # generate_shard fails (IndexError) on a shard without organisations; compact_shard does not
    assume(compact_shard(spec, lo, hi, with_governments=False).n_organisations > 0)
    assert_same(spec, lo, hi, with_governments=lo == 0)


def test_national_size_indices_do_not_overflow() -> None:
    spec = _national(1_400_000_000)
    n = spec.n_blocks
    s = assert_same(spec, n - 2, n, with_governments=False)
    assert s.index[s.rows("person")][-1] == spec.size - 1
    assert s.block[0] == n - 2 and s.n_organisations > 0  # candidate ids up to 32 * size > 2**32
    with pytest.raises(ParameterError, match="identifier candidates"):
        compact_shard(_national(1_400_000_000, regions=(("000600", 1.0),)), 0, 1, with_governments=True)


@pytest.mark.parametrize(("lo", "alpha", "cap"), [(1, 2.5, 60), (2, 1.7, 500), (3, 3.0, 4)])
def test_degree_steps_agree_with_numpy_pow(lo: int, alpha: float, cap: int) -> None:
    steps = _degree_steps(lo, alpha, cap)
    base, at = int(steps["degree_base"]), steps["degree_steps"]
    near = (at[:, None] + np.arange(-300, 300)[None, :]).ravel()
    m = np.concatenate([near, np.random.default_rng(0).integers(0, 2**53, 200_000), [0, 2**53 - 1]])
    m = m[(m >= 0) & (m < 2**53)]
    mine = base + (m[:, None] >= at[None, :]).sum(1)
    np.testing.assert_array_equal(mine, _degree_of(m, lo, alpha, cap))


def test_empty_shard_and_shard_without_organisations() -> None:
    s = compact_shard(_national(2000), 1, 1, with_governments=False)
    assert len(s) == 0 and s.n_persons == 0
    s = compact_shard(_national(1030), 1, 2, with_governments=False)  # a last block of 6 persons
    assert (s.n_persons, s.n_organisations, len(s.rep)) == (6, 0, 0)
    assert not s.employed[s.group == 1].any()
