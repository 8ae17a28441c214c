"""The synthetic population: persons, households, organisations, vehicles, dogs and friends.

Every attribute is a pure function of ``(seed, index)`` through the counter-based generator
(:mod:`socialcredit.society.rng`); matches between people (spouses, parents, employers, legal
representatives) stay inside *neighbourhood blocks* of ``block_size`` consecutive person
indices. A shard is a range of whole blocks, so a shard can be generated alone and the
population is the same however it is split (:func:`generate_population` with any ``shards``).

Identifiers come from :mod:`socialcredit.ids` and stay one-to-one: person ``i`` tries the
generator's indices ``i*32, i*32+1, ...`` and keeps the first whose birth date (and region)
passes an acceptance test against the target age pyramid (rejection sampling), so ages are
realistic and the birth date in the identity number is the person's own.

Example:
    >>> pop = generate_population(PopulationSpec(seed=1, size=500, regions=(("000600", 1.0),)))
    >>> pop.count("person"), pop.count("organisation") > 0
    (500, True)
    >>> pop.persons["id"][0][:4]
    '0006'
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from socialcredit import ids
from socialcredit.regions import jurisdiction
from socialcredit.registry import RELATION_KINDS, RELATIONS_SCHEMA, SUBJECT_KINDS, SUBJECTS_SCHEMA, Registry
from socialcredit.society import graph, rng
from socialcredit.society.households import match_parents, match_spouses
from socialcredit.society.parameters import Parameter, ParameterError, load_parameters

__all__ = [
    "AGE_BANDS",
    "COMMUTES",
    "GROUPS",
    "OCCUPATIONS",
    "Population",
    "PopulationSpec",
    "check_capacity",
    "generate_population",
    "generate_shard",
    "shard_blocks",
]

OCCUPATIONS = (
    "student",
    "worker",
    "farmer",
    "office worker",
    "driver",
    "engineer",
    "shopkeeper",
    "doctor",
    "teacher",
    "lawyer",
    "accountant",
    "tour guide",
    "civil servant",
    "unemployed",
    "retired",
)
GROUPS = ("student", "worker", "professional", "civil_servant", "retired", "unemployed")
_GROUP_OF = np.array([0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 5, 4], np.int8)
_EMPLOYABLE = np.isin(
    np.arange(len(OCCUPATIONS)),
    [OCCUPATIONS.index(o) for o in ("worker", "office worker", "driver", "engineer", "accountant", "lawyer")],
)
COMMUTES = ("walk_bike", "transit", "car", "rail")
AGE_BANDS = (5, 18, 30, 45, 60, 75)  # lower bounds: 5-17, 18-29, ..., 75+
ORG_SIZE_WEIGHT = np.array([1, 5, 25], np.int64)  # employees drawn in proportion
CANDIDATES = 32  # identifier indices tried per person
KIND = {k: i for i, k in enumerate(SUBJECT_KINDS)}
_FAMILY = (
    "Zhang",
    "Wang",
    "Li",
    "Zhao",
    "Chen",
    "Liu",
    "Yang",
    "Huang",
    "Zhou",
    "Wu",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Gao",
    "Luo",
)
_GIVEN = (
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Lei",
    "Qiang",
    "Yan",
    "Jun",
    "Hui",
    "Tao",
    "Ying",
    "Li",
    "Hua",
    "Ping",
    "Gang",
    "Xin",
    "Yu",
    "Bo",
    "Lan",
    "Ming",
    "Hong",
    "Chao",
    "Xia",
)


@dataclass(frozen=True)
class PopulationSpec:
    """What to generate: ``size`` persons from ``seed`` in ``regions`` (code, weight) pairs."""

    seed: int
    size: int
    regions: tuple[tuple[str, float], ...] = (("009100", 1.0),)
    start: dt.date = dt.date(2018, 1, 1)
    block_size: int = 1024
    params: Mapping[str, Parameter] = field(
        default_factory=lambda: load_parameters("population"), hash=False, compare=False
    )

    @property
    def n_blocks(self) -> int:
        return -(-self.size // self.block_size)

    def value(self, name: str) -> Any:
        return self.params[name].value

    @property
    def org_slots(self) -> int:
        return max(1, self.block_size * int(self.value("organisations_per_1000")) // 1000)

    @property
    def vehicle_slots(self) -> int:
        return self.block_size // 4

    @property
    def dog_slots(self) -> int:
        return max(1, self.block_size // 16)

    def region_codes(self) -> list[str]:
        return [jurisdiction(code).code for code, _ in self.regions]


def _cdf(weights: Any) -> NDArray[np.float64]:
    w = np.asarray(list(weights.values()) if isinstance(weights, Mapping) else weights, float)
    return np.cumsum(w / w.sum())


def _pick(k: int, cdf: NDArray[np.float64], *counters: Any) -> NDArray[np.int64]:
    return np.minimum(rng.choice(k, cdf, *counters), len(cdf) - 1)


def _digits(idents: NDArray[np.str_]) -> NDArray[np.int64]:
    return idents.astype("U18").view(np.uint32).reshape(-1, 18).astype(np.int64) - ord("0")


def _parse_ids(idents: NDArray[np.str_]) -> tuple[NDArray, NDArray, NDArray]:
    """Birth day (days since 1970), male flag and jurisdiction code (e.g. 600) of resident ids."""
    d = _digits(idents)
    year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
    month = d[:, 10] * 10 + d[:, 11]
    day = d[:, 12] * 10 + d[:, 13]
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    birth = (months.astype("datetime64[D]") - np.datetime64("1970-01-01")).astype(np.int64) + day - 1
    region = d[:, 0] * 100000 + d[:, 1] * 10000 + d[:, 2] * 1000 + d[:, 3] * 100
    return birth, d[:, 16] % 2 == 1, region


def ages_on(birth: NDArray[np.int64], day: dt.date) -> NDArray[np.int64]:
    """Whole years of age on ``day`` for birth days (days since 1970).

    Example:
        >>> born = np.array([(dt.date(2000, 3, 1) - dt.date(1970, 1, 1)).days])
        >>> ages_on(born, dt.date(2018, 2, 28)).tolist(), ages_on(born, dt.date(2018, 3, 1)).tolist()
        ([17], [18])
    """
    b = np.asarray(birth, np.int64).astype("datetime64[D]")
    year = b.astype("datetime64[Y]")
    month = b.astype("datetime64[M]")
    y = year.astype(np.int64) + 1970
    m = (month - year.astype("datetime64[M]")).astype(np.int64) + 1
    d = (b - month.astype("datetime64[D]")).astype(np.int64) + 1
    later = (m > day.month) | ((m == day.month) & (d > day.day))
    return day.year - y - later


def _identities(spec: PopulationSpec, idx: NDArray[np.int64]) -> tuple[NDArray, ...]:
    """Resident ids accepted against the age pyramid (and region weights)."""
    codes = spec.region_codes()
    single = len(codes) == 1
    region_arg = codes[0] if single else None
    bands = {int(k): float(v) for k, v in spec.value("age_bands").items()}
    lows = np.array(sorted(bands))
    dens = np.array([bands[b] for b in lows]) / 5.0
    weights = np.zeros(10000)
    for code, w in spec.regions:
        weights[int(jurisdiction(code).code) // 100] = float(w)
    w_max = weights.max()
    ident = np.empty(len(idx), "U18")
    todo = np.arange(len(idx))
    key = rng.key(spec.seed, "population/accept")
    for k in range(CANDIDATES):
        cand = ids.generate_resident_ids(spec.seed, idx[todo] * CANDIDATES + k, region=region_arg)
        birth, _, region = _parse_ids(cand)
        age = ages_on(birth, spec.start)
        band = np.searchsorted(lows, age, side="right") - 1
        p = np.where((band >= 0) & (age < lows[-1] + 5), dens[np.maximum(band, 0)], 0.0) / dens.max()
        if not single:
            p = p * weights[region // 100] / w_max
        ok = (rng.uniform(key, idx[todo], k) < p) | (k == CANDIDATES - 1)
        ident[todo[ok]] = cand[ok]
        todo = todo[~ok]
        if not todo.size:
            break
    birth, male, region = _parse_ids(ident)
    return ident, birth, male, region


def _by_age(table: Mapping[Any, float], age: NDArray[np.int64]) -> NDArray[np.float64]:
    lows = np.array(sorted(int(k) for k in table))
    vals = np.array([float(table[k]) for k in sorted(table, key=int)])
    band = np.searchsorted(lows, age, side="right") - 1
    return np.where(band >= 0, vals[np.maximum(band, 0)], 0.0)


def _rank_in_block(block: NDArray[np.int64], mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Rank of each masked item among the masked items of its block (items sorted by block)."""
    c = np.cumsum(mask)
    first = np.r_[True, block[1:] != block[:-1]] if len(block) else np.zeros(0, bool)
    base = (c - mask)[first]
    return c - mask - base[np.cumsum(first) - 1]


def _persons(spec: PopulationSpec, lo: int, hi: int) -> dict[str, NDArray]:
    seed, idx = spec.seed, np.arange(lo, hi, dtype=np.int64)
    ident, birth, male, region = _identities(spec, idx)
    age = ages_on(birth, spec.start)
    block = idx // spec.block_size
    u = lambda name: rng.uniform(rng.key(seed, f"population/{name}"), idx)  # noqa: E731
    # occupation
    occ = _pick(rng.key(seed, "population/occupation"), _occupation_cdf(spec), idx)
    student = (
        (age < 18)
        | ((age < 22) & (u("student") < spec.value("student_share_18_21")))
        | ((age >= 22) & (age < 25) & (u("student") < spec.value("student_share_22_24")))
    )
    occ = np.where(student, 0, np.where(age >= 60, OCCUPATIONS.index("retired"), occ)).astype(np.int8)
    group = _GROUP_OF[occ]
    inc_table = spec.value("income_by_group")
    inc_cdf = np.array([_cdf(inc_table[g]) for g in GROUPS])
    income = np.minimum((u("income")[:, None] >= inc_cdf[group]).sum(1), 4).astype(np.int8)
    com_table = spec.value("commute_by_income")
    com_cdf = np.array([_cdf(com_table[str(i + 1)]) for i in range(5)])
    minors = _cdf(spec.value("commute_minors"))
    cdf = np.where((age < 18)[:, None], minors[None, :], com_cdf[income])
    commute = np.minimum((u("commute")[:, None] >= cdf).sum(1), 3).astype(np.int8)
    prop = spec.value("propensity")
    propensity = _pick(rng.key(seed, "population/propensity"), _cdf(prop["shares"]), idx).astype(np.int8)
    # households
    min_age = spec.value("marriage_min_age")
    old_enough = age >= np.where(male, int(min_age["male"]), int(min_age["female"]))
    married = old_enough & (u("married") < _by_age(spec.value("married_share"), age))
    spouse = match_spouses(block, birth, male, married)
    wants = (age < 18) | ((age < 50) & (u("parents") < spec.value("adult_child_link")))
    mother, father = match_parents(
        block,
        birth,
        male,
        spouse,
        wants,
        idx,
        seed=seed,
        gap=tuple(spec.value("mother_age_gap")),
        limits=tuple(spec.value("parent_gap_limits")),
    )
    head = np.where(male | (spouse < 0), np.arange(len(idx)), spouse)
    head = np.where((age < 18) & (father >= 0), father, head)
    # vehicles (car commuters, at most `vehicle_slots` per block) and dogs
    car = (commute == COMMUTES.index("car")) & (age >= 18)
    car_rank = _rank_in_block(block, car)
    over = car & (car_rank >= spec.vehicle_slots)
    commute[over] = COMMUTES.index("transit")
    car &= ~over
    dog = (age >= 18) & (u("dog") < spec.value("dog_owner_share"))
    dog_rank = _rank_in_block(block, dog)
    dog &= dog_rank < spec.dog_slots

    def pos_to_index(p: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.where(p >= 0, idx[np.maximum(p, 0)], -1)

    return {
        "index": idx,
        "id": ident,
        "block": block,
        "birth": birth,
        "male": male,
        "region": region.astype(np.int32),
        "age": age.astype(np.int16),
        "occupation": occ,
        "income": income,
        "commute": commute,
        "propensity": propensity,
        "spouse": pos_to_index(spouse),
        "mother": pos_to_index(mother),
        "father": pos_to_index(father),
        "household": idx[head],
        "car": car,
        "car_rank": car_rank,
        "dog": dog,
        "dog_rank": dog_rank,
    }


def _occupation_cdf(spec: PopulationSpec) -> NDArray[np.float64]:
    weights = spec.value("occupations")
    w = np.array([float(weights.get(o, 0.0)) for o in OCCUPATIONS])
    w[[OCCUPATIONS.index("student"), OCCUPATIONS.index("retired")]] = 0.0
    return np.cumsum(w / w.sum())


def _organisations(
    spec: PopulationSpec, p: dict[str, NDArray], lo_block: int, hi_block: int
) -> tuple[dict[str, NDArray], list[tuple]]:
    seed, slots, rate = spec.seed, spec.org_slots, int(spec.value("organisations_per_1000"))
    blocks = np.arange(lo_block, hi_block, dtype=np.int64)
    in_block = np.bincount(p["block"] - lo_block, minlength=len(blocks))
    count = np.minimum(in_block * rate // 1000, slots)
    b = np.repeat(blocks, count)
    k = np.arange(len(b)) - np.repeat(np.cumsum(count) - count, count)
    index = b * slots + k
    sector = _pick(rng.key(seed, "org/sector"), _cdf(spec.value("org_sectors")), index)
    size = _pick(rng.key(seed, "org/size"), _cdf(spec.value("org_sizes")), index)
    prop = _pick(rng.key(seed, "org/propensity"), _cdf(spec.value("propensity")["shares"]), index)
    # legal representative: a person aged 25-65 of the block, neither student nor retired
    age, group = p["age"], _GROUP_OF[p["occupation"]]
    eligible = (age >= 25) & (age <= 65) & (group != 0) & (group != 4)
    n_elig = np.bincount(p["block"] - lo_block, weights=eligible, minlength=len(blocks)).astype(np.int64)
    elig_pos = np.flatnonzero(eligible)
    first_elig = np.r_[0, np.cumsum(n_elig)][:-1]
    nb = n_elig[b - lo_block]
    pick = np.floor(rng.uniform(rng.key(seed, "org/rep"), index) * nb).astype(np.int64)
    rep = np.full(len(index), -1, np.int64)
    has = nb > 0
    rep[has] = p["index"][elig_pos[first_elig[b[has] - lo_block] + pick[has]]]
    first_in_block = np.r_[0, np.cumsum(in_block)][:-1]
    region_src = np.where(rep >= 0, rep - p["index"][0], first_in_block[b - lo_block])
    region = p["region"][region_src]
    orgs = {
        "index": index,
        "block": b,
        "sector": sector.astype(np.int8),
        "size": size.astype(np.int8),
        "propensity": prop.astype(np.int8),
        "rep": rep,
        "region": region,
    }
    rel: list[tuple] = [
        ("legal_representative_of", KIND["person"], rep[rep >= 0], KIND["organisation"], index[rep >= 0])
    ]
    # employees: size-weighted choice among the block's organisations (integer weights: exact)
    emp = _EMPLOYABLE[p["occupation"]] & (
        rng.uniform(rng.key(seed, "org/employed"), p["index"]) < spec.value("employed_share")
    )
    has_org = count[p["block"] - lo_block] > 0
    emp &= has_org
    w = ORG_SIZE_WEIGHT[size]
    cum = np.cumsum(w)
    org_first = np.r_[0, np.cumsum(count)][:-1]
    before = np.where(org_first > 0, cum[np.maximum(org_first - 1, 0)], 0)
    total = np.r_[cum, 0][np.maximum(org_first + count - 1, 0)] - before
    who = np.flatnonzero(emp)
    bb = p["block"][who] - lo_block
    target = before[bb] + np.floor(
        rng.uniform(rng.key(seed, "org/employer"), p["index"][who]) * total[bb]
    ).astype(np.int64)
    employer = np.searchsorted(cum, target, side="right")
    rel.append(("employee_of", KIND["person"], p["index"][who], KIND["organisation"], index[employer]))
    partner = (rng.uniform(rng.key(seed, "org/partner"), index) < spec.value("partner_share")) & (
        k + 1 < count[b - lo_block]
    )
    rel.append(("partner_of", KIND["organisation"], index[partner], KIND["organisation"], index[partner] + 1))
    return orgs, rel


def generate_shard(spec: PopulationSpec, lo_block: int, hi_block: int) -> Population:
    """The part of the population living in blocks ``lo_block..hi_block-1``."""
    lo, hi = lo_block * spec.block_size, min(hi_block * spec.block_size, spec.size)
    p = _persons(spec, lo, hi)
    rel: list[tuple] = []
    person = KIND["person"]
    sp = p["spouse"] >= 0
    husband = sp & p["male"]
    rel.append(("spouse_of", person, p["index"][husband], person, p["spouse"][husband]))
    for parent in ("mother", "father"):
        has = p[parent] >= 0
        rel.append(("parent_of", person, p[parent][has], person, p["index"][has]))
    orgs, org_rel = _organisations(spec, p, lo_block, hi_block)
    rel += org_rel
    cs = p["occupation"] == OCCUPATIONS.index("civil servant")
    rel.append(("employee_of", person, p["index"][cs], KIND["government"], p["region"][cs].astype(np.int64)))
    vehicles = {
        "index": p["block"][p["car"]] * spec.vehicle_slots + p["car_rank"][p["car"]],
        "owner": p["index"][p["car"]],
        "block": p["block"][p["car"]],
        "region": p["region"][p["car"]],
    }
    dogs = {
        "index": p["block"][p["dog"]] * spec.dog_slots + p["dog_rank"][p["dog"]],
        "owner": p["index"][p["dog"]],
        "block": p["block"][p["dog"]],
        "region": p["region"][p["dog"]],
    }
    rel.append(("owner_of", person, vehicles["owner"], KIND["vehicle"], vehicles["index"]))
    rel.append(("owner_of", person, dogs["owner"], KIND["dog"], dogs["index"]))
    a, b = graph.out_ties(
        spec.seed, p["index"], size=spec.size, block_size=spec.block_size, params=spec.value("friends")
    )
    a, b = graph.undirected(a, b, spec.size)
    rel.append(("friend_of", person, a, person, b))
    for extra in ("car", "car_rank", "dog", "dog_rank"):
        del p[extra]
    relations = {
        "relation": np.concatenate([np.full(len(r[2]), RELATION_KINDS.index(r[0]), np.int8) for r in rel]),
        "s_kind": np.concatenate([np.full(len(r[2]), r[1], np.int8) for r in rel]),
        "s_key": np.concatenate([np.asarray(r[2], np.int64) for r in rel]),
        "o_kind": np.concatenate([np.full(len(r[4]), r[3], np.int8) for r in rel]),
        "o_key": np.concatenate([np.asarray(r[4], np.int64) for r in rel]),
    }
    return Population(spec, p, orgs, vehicles, dogs, relations)


def shard_blocks(n_blocks: int, shards: int) -> list[tuple[int, int]]:
    """``(first, last + 1)`` block of each shard: ``shards`` ranges as even as possible."""
    edges = np.linspace(0, n_blocks, max(1, min(shards, n_blocks)) + 1).round().astype(int)
    return [(int(lo), int(hi)) for lo, hi in itertools.pairwise(edges)]


def check_capacity(spec: PopulationSpec) -> None:
    """Refuse a population too big for the identifier generator of its region(s)."""
    codes = spec.region_codes()
    region = codes[0] if len(codes) == 1 else None
    have = ids.capacity("person", region=region)
    if spec.size * CANDIDATES > have:
        raise ParameterError(
            f"{spec.size:,} persons need {spec.size * CANDIDATES:,} identifier candidates but the "
            f"generator has {have:,}; spread the population over several regions or lower `size`"
        )


def generate_population(spec: PopulationSpec, *, shards: int = 1) -> Population:
    """The whole population, generated shard by shard (the result does not depend on
    ``shards``)."""
    check_capacity(spec)
    return Population.concat([generate_shard(spec, lo, hi) for lo, hi in shard_blocks(spec.n_blocks, shards)])


@dataclass
class Population:
    """Columns per subject kind (numpy arrays, sorted by index) and relations keyed by
    ``(kind, index)``; identifiers and codes are filled in by :meth:`finish`."""

    spec: PopulationSpec
    persons: dict[str, NDArray]
    organisations: dict[str, NDArray]
    vehicles: dict[str, NDArray]
    dogs: dict[str, NDArray]
    relations: dict[str, NDArray]
    governments: dict[str, NDArray] = field(default_factory=dict)

    @classmethod
    def concat(cls, parts: list[Population]) -> Population:
        def cat(name: str) -> dict[str, NDArray]:
            cols = getattr(parts[0], name)
            return {c: np.concatenate([getattr(q, name)[c] for q in parts]) for c in cols}

        rel = cat("relations")
        friend = rel["relation"] == RELATION_KINDS.index("friend_of")
        if len(parts) > 1 and friend.any():  # ties started in two shards appear twice
            size = parts[0].spec.size
            a, b = graph.undirected(rel["s_key"][friend], rel["o_key"][friend], size)
            rest = {c: v[~friend] for c, v in rel.items()}
            rel = {
                c: np.concatenate([rest[c], v])
                for c, v in {
                    "relation": np.full(len(a), RELATION_KINDS.index("friend_of"), np.int8),
                    "s_kind": np.zeros(len(a), np.int8),
                    "s_key": a,
                    "o_kind": np.zeros(len(a), np.int8),
                    "o_key": b,
                }.items()
            }
        pop = cls(parts[0].spec, cat("persons"), cat("organisations"), cat("vehicles"), cat("dogs"), rel)
        pop.finish()
        return pop

    # -- identifiers, codes -------------------------------------------------------------------
    def finish(self) -> None:
        """Issue identifiers for organisations, governments, vehicles and dogs; order relations."""
        spec = self.spec
        codes = spec.region_codes()
        single = codes[0] if len(codes) == 1 else None
        o = self.organisations
        o["id"] = _by_region(
            lambda idx, r: ids.generate_usccs(spec.seed, idx, region=r), o["index"], o["region"]
        )
        gov_regions = np.array(sorted({int(c) for c in codes}), np.int32)
        self.governments = {
            "index": gov_regions.astype(np.int64),
            "region": gov_regions,
            "id": np.array(
                [
                    ids.generate_usccs(spec.seed, np.array([i]), kind="government", region=f"{r:06d}")[0]
                    for i, r in enumerate(gov_regions)
                ],
                "U18",
            ),
        }
        for kinds, gen in ((self.vehicles, ids.generate_plates), (self.dogs, ids.generate_dog_licences)):
            kinds["id"] = gen(spec.seed, kinds["index"], region=single)
        # relations in a canonical order: by kind of relation, then subject, then object
        r = self.relations
        order = np.lexsort((r["o_key"], r["o_kind"], r["s_key"], r["s_kind"], r["relation"]))
        self.relations = {c: v[order] for c, v in r.items()}

    def count(self, kind: str) -> int:
        return len(self._table(kind)["index"])

    def _table(self, kind: str) -> dict[str, NDArray]:
        return {
            "person": self.persons,
            "organisation": self.organisations,
            "government": self.governments,
            "vehicle": self.vehicles,
            "dog": self.dogs,
        }[kind]

    def offsets(self) -> dict[str, int]:
        """First code of each kind: persons, organisations, governments, vehicles, dogs."""
        out, n = {}, 0
        for kind in ("person", "organisation", "government", "vehicle", "dog"):
            out[kind] = n
            n += self.count(kind)
        out["total"] = n
        return out

    def codes(self, kind: int | str, keys: NDArray[np.int64]) -> NDArray[np.int64]:
        """Subject codes (positions in :meth:`subject_ids`) of subjects of ``kind`` by index."""
        name = SUBJECT_KINDS[kind] if isinstance(kind, int | np.integer) else kind
        return self.offsets()[name] + np.searchsorted(self._table(name)["index"], keys)

    def subject_ids(self) -> NDArray[np.str_]:
        return np.concatenate(
            [
                self._table(k)["id"].astype("U18")
                for k in ("person", "organisation", "government", "vehicle", "dog")
            ]
        )

    @property
    def size(self) -> int:
        return self.offsets()["total"]

    # -- registry -----------------------------------------------------------------------------
    def subjects_table(self) -> pa.Table:
        """Every subject in the registry contract (:data:`socialcredit.registry.SUBJECTS_SCHEMA`)."""
        p, o, g = self.persons, self.organisations, self.governments
        seed = self.spec.seed
        fam = rng.choice(rng.key(seed, "names/family"), np.arange(1, len(_FAMILY) + 1.0), p["index"])
        giv = rng.choice(rng.key(seed, "names/given"), np.arange(1, len(_GIVEN) + 1.0), p["index"])
        names = [
            f"{_FAMILY[a]} {_GIVEN[b]} (synthetic)" for a, b in zip(fam.tolist(), giv.tolist(), strict=True)
        ]
        sectors = list(self.spec.value("org_sectors"))
        org_names = [
            f"{_FAMILY[i % len(_FAMILY)]} {sectors[s].title()} Co. {i} (synthetic)"
            for i, s in zip(o["index"].tolist(), o["sector"].tolist(), strict=True)
        ]
        gov_names = [
            f"{jurisdiction(f'{r:06d}').name} People's Government (synthetic)" for r in g["region"].tolist()
        ]
        veh_names = [f"Car {v} (synthetic)" for v in self.vehicles["id"].tolist()]
        dog_names = [f"Dog {d} (synthetic)" for d in self.dogs["id"].tolist()]
        regions = np.concatenate(
            [p["region"], o["region"], g["region"], self.vehicles["region"], self.dogs["region"]]
        )
        professions = np.concatenate(
            [
                np.array(OCCUPATIONS, object)[p["occupation"]],
                np.array(sectors, object)[o["sector"]],
                np.full(self.count("government") + self.count("vehicle") + self.count("dog"), None),
            ]
        )
        kinds = np.concatenate(
            [
                np.full(self.count(k), k, object)
                for k in ("person", "organisation", "government", "vehicle", "dog")
            ]
        )
        n = len(kinds)
        return pa.table(
            {
                "id": pa.array(self.subject_ids().tolist(), pa.string()),
                "kind": pa.array(kinds.tolist(), pa.string()),
                "name": pa.array(names + org_names + gov_names + veh_names + dog_names, pa.string()),
                "region": pa.array(np.char.zfill(regions.astype(str), 6).tolist(), pa.string()),
                "profession": pa.array(professions.tolist(), pa.string()),
                "nationality": pa.nulls(n, pa.string()),
                "consent": pa.nulls(n, pa.bool_()),
            },
            schema=SUBJECTS_SCHEMA,
        )

    def relation_codes(self) -> tuple[NDArray, NDArray, NDArray]:
        """``(relation kind, subject code, object code)`` of every relation."""
        r = self.relations
        s = np.empty(len(r["s_key"]), np.int64)
        o = np.empty(len(r["o_key"]), np.int64)
        for kind in range(len(SUBJECT_KINDS)):
            m = r["s_kind"] == kind
            if m.any():
                s[m] = self.codes(kind, r["s_key"][m])
            m = r["o_kind"] == kind
            if m.any():
                o[m] = self.codes(kind, r["o_key"][m])
        return r["relation"], s, o

    def relations_table(self) -> pa.Table:
        """Every relation in the registry contract (open-ended: no ``since``, no ``until``)."""
        kind, s, o = self.relation_codes()
        ids_ = pa.array(self.subject_ids().tolist(), pa.string())
        n = len(kind)
        return pa.table(
            {
                "relation": pa.array(np.array(RELATION_KINDS, object)[kind].tolist(), pa.string()),
                "subject": ids_.take(pa.array(s)),
                "object": ids_.take(pa.array(o)),
                "since": pa.nulls(n, pa.date32()),
                "until": pa.nulls(n, pa.date32()),
            },
            schema=RELATIONS_SCHEMA,
        )

    def registry(self) -> Registry:
        return Registry(self.subjects_table(), self.relations_table())

    def registry_lines(self, registry: Registry | None = None) -> Iterator[dict[str, Any]]:
        """Registry lines (subjects, then relations) for the ledger, without empty fields."""
        reg = registry or self.registry()
        for table in (reg.subjects, reg.relations):
            for batch in table.to_batches(50_000):
                for row in batch.to_pylist():
                    yield {k: v for k, v in row.items() if v is not None}


def _by_region(gen: Any, index: NDArray[np.int64], region: NDArray[np.int32]) -> NDArray[np.str_]:
    out = np.empty(len(index), "U18")
    for r in np.unique(region):
        m = region == r
        out[m] = gen(index[m], f"{int(r):06d}")
    return out
