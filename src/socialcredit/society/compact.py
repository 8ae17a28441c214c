"""A compact, fast population: only what the streamed national kernel needs, per subject.

:func:`compact_shard` gives, for the blocks ``lo_block..hi_block-1`` of a
:class:`~socialcredit.society.population.PopulationSpec`, every subject's kind, index, block,
class (the row of :attr:`BehaviourModel.table <socialcredit.society.behaviour.BehaviourModel>`,
enforcement case closed) and jurisdiction, plus a few person and organisation attributes — the
same subjects and the same values as :func:`~socialcredit.society.population.generate_shard`
followed by :class:`~socialcredit.society.behaviour.BehaviourModel`, without identifier
strings, households or the friendship graph, in one compiled pass (``numba``) over the blocks.

Exactness: everything is exact (bit for bit the same draws, through
:mod:`socialcredit.society.fastrng`); nothing is replaced by "the same distribution". The
resident identity numbers are not built as strings: the keyed Feistel permutation of
:mod:`socialcredit.ids` (same keys, rounds and cycle-walking) is run on each candidate index and
the permuted number split arithmetically into area, birth day and sequence, which is what
parsing the generated number gives back (birth day; sex from the parity of the sequence;
jurisdiction from the area prefix). The acceptance probability of each generated birth day
against the age pyramid is tabulated with the numpy expression of ``population._identities``
(region weights are applied per candidate, in the same order of operations). The friendship
``degree`` is the out-degree ``graph.out_ties`` draws, ``min(floor(min * (1 - u) **
(-1 / (alpha - 1))), cap)``, before self-ties are dropped: its steps in the 53-bit integer
behind ``u`` are found once by bisection with numpy's own ``pow`` (:func:`_degree_steps`), so the
compiled pass needs no ``pow`` and agrees with numpy on the machine it runs on.

Cost: about 0.2 microseconds per person (all kinds), single-threaded, once compiled; the
candidates of the persons of a block still without an identity are permuted a batch at a time,
so the compiler vectorises the Feistel rounds. Memory: the output arrays (25 bytes per subject
and 8 per person) and 17 bytes per person of temporaries.

Example:
    >>> from socialcredit.society.population import PopulationSpec
    >>> s = compact_shard(PopulationSpec(seed=1, size=500, regions=(("000600", 1.0),)), 0, 1,
    ...                   with_governments=True)
    >>> s.n_persons, int(s.region[0]), s.n_governments
    (500, 600, 1)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numba as nb
import numpy as np
from numpy.typing import NDArray

from socialcredit import ids
from socialcredit.society import fastrng, rng
from socialcredit.society.behaviour import KINDS
from socialcredit.society.population import (
    _EMPLOYABLE,
    _GROUP_OF,
    AGE_BANDS,
    CANDIDATES,
    COMMUTES,
    GROUPS,
    OCCUPATIONS,
    PopulationSpec,
    _cdf,
    _occupation_cdf,
    ages_on,
    check_capacity,
)
from socialcredit.society.rates import class_spaces

__all__ = ["CompactShard", "class_offsets", "compact_shard"]

_U = np.uint64
_DAYS = ids._DAYS
_SEQ = ids._SEQUENCES
_AREAS = ids.AREAS_PER_REGION
_FIRST_BIRTH = (ids.GENERATED_BIRTH_DATES[0] - dt.date(1970, 1, 1)).days
_CIVIL = OCCUPATIONS.index("civil servant")
_RETIRED = OCCUPATIONS.index("retired")
_CAR = COMMUTES.index("car")
_TRANSIT = COMMUTES.index("transit")
_LAST = CANDIDATES - 1
_ROUNDS = ids._ROUNDS


@dataclass
class CompactShard:
    """All subjects of a shard, every kind, in the order persons, organisations, governments,
    vehicles, dogs (each kind sorted by index). ``age`` .. ``degree`` are aligned with the first
    ``n_persons`` rows, ``has_partner`` and ``rep`` with the organisation rows."""

    kind: NDArray[np.int8]  # index into behaviour.KINDS
    index: NDArray[np.int64]  # index within the kind (as the population tables hold it)
    block: NDArray[np.int64]  # block (governments: 0)
    klass: NDArray[np.int32]  # row of BehaviourModel.table (class + offset of the kind; case closed)
    region: NDArray[np.int32]  # jurisdiction code, e.g. 600
    # persons
    age: NDArray[np.int16]
    birth: NDArray[np.int32]  # birth day (days since 1970)
    male: NDArray[np.bool_]
    group: NDArray[np.int8]
    commute: NDArray[np.int8]
    employed: NDArray[np.bool_]  # employee of an organisation or a government
    degree: NDArray[np.int16]  # friendship out-degree (before self-ties are dropped)
    # organisations
    has_partner: NDArray[np.bool_]  # partner_of the next organisation of the block
    rep: NDArray[np.int64]  # legal representative (person index) or -1
    n_persons: int
    n_organisations: int
    n_governments: int
    n_vehicles: int
    n_dogs: int

    def __len__(self) -> int:
        return len(self.kind)

    def rows(self, kind: str) -> slice:
        """The rows of ``kind``."""
        counts = [self.n_persons, self.n_organisations, self.n_governments, self.n_vehicles, self.n_dogs]
        k = KINDS.index(kind)
        lo = sum(counts[:k])
        return slice(lo, lo + counts[k])


def class_offsets(spec: PopulationSpec) -> dict[str, int]:
    """The first row of each kind in the combined rate table (``BehaviourModel.offsets``)."""
    spaces = class_spaces(tuple(spec.value("org_sectors")), tuple(spec.value("org_sizes")))
    out, n = {}, 0
    for kind in KINDS:
        out[kind] = n
        n += spaces[kind].size
    return out


# -- the compiled pass -------------------------------------------------------------------------


@nb.njit(inline="always", cache=True)
def _feistel(x: np.uint64, half: np.uint64, mask: np.uint64, keys: NDArray[np.uint64]) -> np.uint64:
    """One pass of the Feistel network of ``ids._Permutation`` (``_ROUNDS`` rounds)."""
    left = x >> half
    right = x & mask
    for r in range(_ROUNDS):  # a constant trip count: unrolled, and vectorised over a batch
        t = left ^ (fastrng.mix(right ^ keys[r]) & mask)
        left = right
        right = t
    return (left << half) | right


@nb.njit(cache=True, nogil=True)
def _identities(
    first: np.int64,
    last: np.int64,
    perm_size: np.uint64,
    half: np.uint64,
    keys: NDArray[np.uint64],
    prefix_weight: NDArray[np.float64],
    w_max: float,
    multi: bool,
    accept_of_day: NDArray[np.float64],
    k_acc: np.uint64,
    ys: NDArray[np.uint64],
    todo: NDArray[np.int64],
    xs: NDArray[np.uint64],
    walk: NDArray[np.int64],
) -> None:
    """``ys[i - first]``: the permuted resident number of persons ``first..last-1``, the first
    of their candidates ``i * CANDIDATES + c`` accepted against the age pyramid (and region
    weights), as ``population._identities``. Candidates are permuted a batch at a time (all the
    persons still without an identity), which keeps the multiplier busy."""
    mask = (_U(1) << half) - _U(1)
    nt = last - first
    for t in range(nt):
        todo[t] = first + t
    for c in range(CANDIDATES):
        for t in range(nt):
            xs[t] = _U(todo[t]) * _U(CANDIDATES) + _U(c)
        for t in range(nt):
            xs[t] = _feistel(xs[t], half, mask, keys)
        # cycle-walking: permute again while outside the range
        nw = 0
        for t in range(nt):
            if xs[t] >= perm_size:
                walk[nw] = t
                nw += 1
        while nw > 0:
            m = 0
            for w in range(nw):
                t = walk[w]
                y = _feistel(xs[t], half, mask, keys)
                xs[t] = y
                if y >= perm_size:
                    walk[m] = t
                    m += 1
            nw = m
        m = 0
        for t in range(nt):
            i = todo[t]
            y = xs[t]
            rest = y // _U(_SEQ)
            p = accept_of_day[np.int64(rest % _U(_DAYS))]
            if multi:
                p = p * prefix_weight[np.int64(rest // _U(_DAYS)) // _AREAS] / w_max
            if fastrng.uniform(fastrng.fold(k_acc, i), c) < p or c == _LAST:
                ys[i - first] = y
            else:
                todo[m] = i
                m += 1
        nt = m
        if nt == 0:
            break


@nb.njit(inline="always", cache=True)
def _count_le(cdf: NDArray[np.float64], x: float) -> int:
    """``np.searchsorted(cdf, x, side="right")`` for a short non-decreasing ``cdf``."""
    n = 0
    for j in range(cdf.shape[0]):
        if cdf[j] <= x:
            n += 1
    return n


@nb.njit(inline="always", cache=True)
def _pick(key: np.uint64, cdf: NDArray[np.float64], c: np.int64) -> int:
    """``population._pick``: a draw from ``cdf`` addressed by counter ``c``."""
    u = fastrng.uniform(key, c) * cdf[cdf.shape[0] - 1]
    return min(_count_le(cdf, u), cdf.shape[0] - 1)


@nb.njit(cache=True, nogil=True)
def _kernel(
    lo_block: np.int64,
    hi_block: np.int64,
    size: np.int64,
    block_size: np.int64,
    # identities
    perm_size: np.uint64,
    half: np.uint64,
    keys: NDArray[np.uint64],
    prefix_region: NDArray[np.int32],
    prefix_weight: NDArray[np.float64],
    w_max: float,
    multi: bool,
    accept_of_day: NDArray[np.float64],
    age_of_day: NDArray[np.int16],
    # draws
    stream_keys: NDArray[np.uint64],
    occ_cdf: NDArray[np.float64],
    group_of: NDArray[np.int8],
    employable: NDArray[np.bool_],
    inc_cdf: NDArray[np.float64],
    com_cdf: NDArray[np.float64],  # rows: income bands, then minors
    prop_cdf: NDArray[np.float64],
    sector_cdf: NDArray[np.float64],
    size_cdf: NDArray[np.float64],
    shares: NDArray[np.float64],  # student 18-21, student 22-24, dog owner, employed, partner
    degree_base: np.int64,
    degree_steps: NDArray[np.int64],
    band_of_age: NDArray[np.int64],
    strides: NDArray[np.int64],  # person: age, sex, income, group, commute, propensity; org: ...
    offsets: NDArray[np.int64],
    slots: NDArray[np.int64],  # org, vehicle, dog
    rate: np.int64,
    # outputs (persons)
    p_klass: NDArray[np.int32],
    p_region: NDArray[np.int32],
    p_age: NDArray[np.int16],
    p_birth: NDArray[np.int32],  # days since 1970
    p_male: NDArray[np.bool_],
    p_group: NDArray[np.int8],
    p_commute: NDArray[np.int8],
    p_employed: NDArray[np.bool_],
    p_degree: NDArray[np.int16],
    p_car: NDArray[np.int32],  # rank of the person's vehicle in the block, or -1
    p_dog: NDArray[np.int32],
    p_prop: NDArray[np.int8],
    # outputs (organisations)
    o_index: NDArray[np.int64],
    o_block: NDArray[np.int64],
    o_klass: NDArray[np.int32],
    o_region: NDArray[np.int32],
    o_partner: NDArray[np.bool_],
    o_rep: NDArray[np.int64],
) -> tuple[int, int]:
    k_acc, k_occ, k_student, k_income, k_commute, k_prop, k_dog = (
        stream_keys[0],
        stream_keys[1],
        stream_keys[2],
        stream_keys[3],
        stream_keys[4],
        stream_keys[5],
        stream_keys[6],
    )
    k_sector, k_size, k_oprop, k_rep, k_employed, k_partner, k_degree = (
        stream_keys[7],
        stream_keys[8],
        stream_keys[9],
        stream_keys[10],
        stream_keys[11],
        stream_keys[12],
        stream_keys[13],
    )
    org_slots, veh_slots, dog_slots = slots[0], slots[1], slots[2]
    com_rows = com_cdf.shape[0]
    s_age, s_sex, s_inc, s_grp, s_com, s_prop = (
        strides[0],
        strides[1],
        strides[2],
        strides[3],
        strides[4],
        strides[5],
    )
    s_sector, s_size, s_oprop = strides[6], strides[7], strides[8]
    elig = np.empty(block_size, np.int64)
    ys = np.empty(block_size, np.uint64)
    xs = np.empty(block_size, np.uint64)
    todo = np.empty(block_size, np.int64)
    walk = np.empty(block_size, np.int64)
    lo = lo_block * block_size
    o = 0
    vehicles = 0
    dogs = 0
    for b in range(lo_block, hi_block):
        first = b * block_size
        last = min(first + block_size, size)
        n_in = last - first
        count = min(n_in * rate // 1000, org_slots)
        # organisations (before the persons: employment needs their count)
        for k in range(count):
            idx = b * org_slots + k
            sec = _pick(k_sector, sector_cdf, idx)
            siz = _pick(k_size, size_cdf, idx)
            pr = _pick(k_oprop, prop_cdf, idx)
            o_index[o + k] = idx
            o_block[o + k] = b
            o_klass[o + k] = offsets[1] + sec * s_sector + siz * s_size + pr * s_oprop
            o_partner[o + k] = fastrng.uniform(k_partner, idx) < shares[4] and k + 1 < count
        _identities(
            first,
            last,
            perm_size,
            half,
            keys,
            prefix_weight,
            w_max,
            multi,
            accept_of_day,
            k_acc,
            ys,
            todo,
            xs,
            walk,
        )
        n_elig = 0
        n_car = 0
        n_dog = 0
        for i in range(first, last):
            pos = i - lo
            y = ys[i - first]
            seq = y % _U(_SEQ)
            rest = y // _U(_SEQ)
            area = np.int64(rest // _U(_DAYS))
            day = np.int64(rest % _U(_DAYS))
            age = np.int64(age_of_day[day])
            male = seq % _U(2) == _U(1)
            region = prefix_region[area // 100]
            # occupation, group, income, commute, propensity
            occ = _pick(k_occ, occ_cdf, i)
            # (selects rather than branches: the branches would be mispredicted)
            u = fastrng.uniform(k_student, i)
            student = (
                (age < 18) | ((age < 22) & (u < shares[0])) | ((age >= 22) & (age < 25) & (u < shares[1]))
            )
            occ = 0 if student else (_RETIRED if age >= 60 else occ)
            grp = np.int64(group_of[occ])
            u = fastrng.uniform(k_income, i)
            inc = 0
            for j in range(inc_cdf.shape[1]):
                inc += u >= inc_cdf[grp, j]
            inc = min(inc, 4)
            u = fastrng.uniform(k_commute, i)
            row = com_rows - 1 if age < 18 else inc  # the last row: minors
            com = 0
            for j in range(com_cdf.shape[1]):
                com += u >= com_cdf[row, j]
            com = min(com, 3)
            prop = _pick(k_prop, prop_cdf, i)
            # vehicle (car commuters, at most `veh_slots` per block) and dog
            adult = age >= 18
            has_car = (com == _CAR) & adult
            p_car[pos] = n_car if has_car & (n_car < veh_slots) else -1
            com = _TRANSIT if has_car & (n_car >= veh_slots) else com
            n_car += has_car
            has_dog = adult & (fastrng.uniform(k_dog, i) < shares[2])
            p_dog[pos] = n_dog if has_dog & (n_dog < dog_slots) else -1
            n_dog += has_dog
            # employment
            u = fastrng.uniform(k_employed, i)
            emp = (occ == _CIVIL) | (employable[occ] & (count > 0) & (u < shares[3]))
            # friendship out-degree
            m = np.int64(fastrng.bits(k_degree, i) >> _U(11))
            deg = degree_base
            for j in range(degree_steps.shape[0]):
                deg += m >= degree_steps[j]
            # eligible legal representative
            elig[n_elig] = pos
            n_elig += (age >= 25) & (age <= 65) & (grp != 0) & (grp != 4)
            band = band_of_age[age]
            p_klass[pos] = (
                offsets[0]
                + band * s_age
                + (1 if male else 0) * s_sex
                + inc * s_inc
                + grp * s_grp
                + com * s_com
                + prop * s_prop
            )
            p_region[pos] = region
            p_age[pos] = age
            p_birth[pos] = day + _FIRST_BIRTH
            p_male[pos] = male
            p_group[pos] = grp
            p_commute[pos] = com
            p_employed[pos] = emp
            p_degree[pos] = np.int64(deg)
            p_prop[pos] = prop
        # legal representatives and the organisations' regions
        for k in range(count):
            idx = b * org_slots + k
            if n_elig > 0:
                pick = np.int64(np.floor(fastrng.uniform(k_rep, idx) * n_elig))
                r = elig[pick]
                o_rep[o + k] = r + lo
                o_region[o + k] = p_region[r]
            else:
                o_rep[o + k] = -1
                o_region[o + k] = p_region[first - lo]
        o += count
        vehicles += min(n_car, veh_slots)
        dogs += min(n_dog, dog_slots)
    return vehicles, dogs


@nb.njit(cache=True, nogil=True)
def _fill(
    lo: np.int64,
    block_size: np.int64,
    veh_slots: np.int64,
    dog_slots: np.int64,
    offsets: NDArray[np.int64],
    p_klass: NDArray[np.int32],
    p_region: NDArray[np.int32],
    p_car: NDArray[np.int32],
    p_dog: NDArray[np.int32],
    p_prop: NDArray[np.int8],
    o_index: NDArray[np.int64],
    o_block: NDArray[np.int64],
    o_klass: NDArray[np.int32],
    o_region: NDArray[np.int32],
    gov: NDArray[np.int64],
    n_vehicles: np.int64,
    kind: NDArray[np.int8],
    index: NDArray[np.int64],
    block: NDArray[np.int64],
    klass: NDArray[np.int32],
    region: NDArray[np.int32],
) -> None:
    """The rows of every kind: persons, organisations, governments, vehicles, dogs."""
    n_p, n_o, n_g = p_klass.shape[0], o_index.shape[0], gov.shape[0]
    v = n_p + n_o + n_g
    d = v + n_vehicles
    for pos in range(n_p):
        i = lo + pos
        b = i // block_size
        kind[pos] = 0
        index[pos] = i
        block[pos] = b
        klass[pos] = p_klass[pos]
        region[pos] = p_region[pos]
        if p_car[pos] >= 0:
            kind[v] = 3
            index[v] = b * veh_slots + p_car[pos]
            block[v] = b
            klass[v] = offsets[3] + p_prop[pos]
            region[v] = p_region[pos]
            v += 1
        if p_dog[pos] >= 0:
            kind[d] = 4
            index[d] = b * dog_slots + p_dog[pos]
            block[d] = b
            klass[d] = offsets[4] + p_prop[pos]
            region[d] = p_region[pos]
            d += 1
    for k in range(n_o):
        r = n_p + k
        kind[r] = 1
        index[r] = o_index[k]
        block[r] = o_block[k]
        klass[r] = o_klass[k]
        region[r] = o_region[k]
    for k in range(n_g):
        r = n_p + n_o + k
        kind[r] = 2
        index[r] = gov[k]
        block[r] = 0
        klass[r] = offsets[2]
        region[r] = gov[k]


def _tables(spec: PopulationSpec) -> dict[str, object]:
    """Everything the compiled pass takes from the spec (arrays built as the numpy path does)."""
    codes = spec.region_codes()
    single = len(codes) == 1
    code, perm_size, perm = ids._setup("person", spec.seed, codes[0] if single else None)
    if len(perm.keys) != _ROUNDS or perm_size >= 1 << 63:
        raise ValueError("the resident number permutation changed: update society/compact.py")
    prefixes = ids._prefixes(code)
    prefix_int = np.array([int(p) for p in prefixes], np.int64)
    weights = np.zeros(10000)
    for c, w in spec.regions:
        weights[int(c) // 100] = float(w)
    # acceptance per generated birth day (the expression of population._identities)
    bands = {int(k): float(v) for k, v in spec.value("age_bands").items()}
    lows = np.array(sorted(bands))
    dens = np.array([bands[b] for b in lows]) / 5.0
    birth = np.arange(_DAYS, dtype=np.int64) + _FIRST_BIRTH
    age = ages_on(birth, spec.start)
    band = np.searchsorted(lows, age, side="right") - 1
    accept = np.where((band >= 0) & (age < lows[-1] + 5), dens[np.maximum(band, 0)], 0.0) / dens.max()
    if age.min() < 0 or age.max() > 255:
        raise ValueError(f"start {spec.start} gives ages outside 0..255 for the generated birth dates")
    band_of_age = np.maximum(np.searchsorted(np.array(AGE_BANDS), np.arange(256), side="right") - 1, 0)
    inc_table = spec.value("income_by_group")
    com_table = spec.value("commute_by_income")
    friends = spec.value("friends")
    spaces = class_spaces(tuple(spec.value("org_sectors")), tuple(spec.value("org_sizes")))
    ps, os_ = spaces["person"], spaces["organisation"]
    strides = [ps.stride(f) for f in ("age", "sex", "income", "group", "commute", "propensity")]
    strides += [os_.stride(f) for f in ("sector", "size", "propensity")]
    offsets = class_offsets(spec)
    names = [
        "population/accept",
        "population/occupation",
        "population/student",
        "population/income",
        "population/commute",
        "population/propensity",
        "population/dog",
        "org/sector",
        "org/size",
        "org/propensity",
        "org/rep",
        "org/employed",
        "org/partner",
        "graph/degree",
    ]
    prop_cdf = _cdf(spec.value("propensity")["shares"])
    return {
        "perm_size": _U(perm_size),
        "half": _U(perm.half),
        "keys": np.array(perm.keys, np.uint64),
        "prefix_region": (prefix_int * 100).astype(np.int32),
        "prefix_weight": weights[prefix_int],
        "w_max": float(weights.max()),
        "multi": not single,
        "accept_of_day": accept.astype(np.float64),
        "age_of_day": age.astype(np.int16),
        "stream_keys": np.array([rng.key(spec.seed, n) for n in names], np.uint64),
        "occ_cdf": _occupation_cdf(spec),
        "group_of": _GROUP_OF,
        "employable": _EMPLOYABLE,
        "inc_cdf": np.array([_cdf(inc_table[g]) for g in GROUPS]),
        "com_cdf": np.array(
            [_cdf(com_table[str(i + 1)]) for i in range(5)] + [_cdf(spec.value("commute_minors"))]
        ),
        "prop_cdf": prop_cdf,
        "sector_cdf": _cdf(spec.value("org_sectors")),
        "size_cdf": _cdf(spec.value("org_sizes")),
        "shares": np.array(
            [
                float(spec.value(n))
                for n in (
                    "student_share_18_21",
                    "student_share_22_24",
                    "dog_owner_share",
                    "employed_share",
                    "partner_share",
                )
            ]
        ),
        **_degree_steps(int(friends["min"]), float(friends["alpha"]), int(friends["cap"])),
        "band_of_age": band_of_age.astype(np.int64),
        "strides": np.array(strides, np.int64),
        "offsets": np.array([offsets[k] for k in KINDS], np.int64),
        "slots": np.array([spec.org_slots, spec.vehicle_slots, spec.dog_slots], np.int64),
        "rate": np.int64(int(spec.value("organisations_per_1000"))),
    }


def _degree_of(m: NDArray[np.int64], lo: int, alpha: float, cap: int) -> NDArray[np.int64]:
    """The out-degree ``graph.out_ties`` draws from the 53-bit integer ``m`` of its uniform."""
    u = m.astype(np.float64) * (1.0 / 9007199254740992.0)  # as rng.uniform
    deg = np.minimum(np.floor(lo * (1.0 - u) ** (-1.0 / (alpha - 1.0))), cap).astype(np.int64)
    return deg


@cache
def _degree_steps(lo: int, alpha: float, cap: int) -> dict[str, object]:
    """``degree_base`` and ``degree_steps``: the degree of the 53-bit uniform integer ``m`` is
    ``degree_base + (m >= degree_steps).sum()``. The steps are found by bisection with numpy's
    own ``pow`` (the degree grows with ``m``), so the compiled pass needs no ``pow`` and agrees
    with ``graph.out_ties`` on this machine bit for bit."""
    top = (1 << 53) - 1
    base, most = (int(d) for d in _degree_of(np.array([0, top]), lo, alpha, cap))
    target = np.arange(base + 1, most + 1, dtype=np.int64)
    a, b = np.zeros(len(target), np.int64), np.full(len(target), top, np.int64)
    while (a < b).any():
        mid = (a + b) // 2
        ok = _degree_of(mid, lo, alpha, cap) >= target
        b = np.where(ok, mid, b)
        a = np.where(ok, a, mid + 1)
    return {"degree_base": np.int64(base), "degree_steps": a}


def compact_shard(
    spec: PopulationSpec, lo_block: int, hi_block: int, *, with_governments: bool
) -> CompactShard:
    """The subjects of blocks ``lo_block..hi_block-1`` (see :class:`CompactShard`); governments
    (one per jurisdiction of the spec) only ``with_governments``."""
    check_capacity(spec)
    hi_block = min(hi_block, spec.n_blocks)
    lo_block = min(lo_block, hi_block)
    lo, hi = lo_block * spec.block_size, min(hi_block * spec.block_size, spec.size)
    n_p = hi - lo
    t = _tables(spec)
    # organisations per block: known before any draw
    blocks = np.arange(lo_block, hi_block, dtype=np.int64)
    in_block = np.minimum(spec.block_size, spec.size - blocks * spec.block_size)
    n_o = int(np.minimum(in_block * int(t["rate"]) // 1000, spec.org_slots).sum())
    p = {
        "klass": np.empty(n_p, np.int32),
        "region": np.empty(n_p, np.int32),
        "age": np.empty(n_p, np.int16),
        "birth": np.empty(n_p, np.int32),
        "male": np.empty(n_p, np.bool_),
        "group": np.empty(n_p, np.int8),
        "commute": np.empty(n_p, np.int8),
        "employed": np.empty(n_p, np.bool_),
        "degree": np.empty(n_p, np.int16),
        "car": np.empty(n_p, np.int32),
        "dog": np.empty(n_p, np.int32),
        "prop": np.empty(n_p, np.int8),
    }
    o = {
        "index": np.empty(n_o, np.int64),
        "block": np.empty(n_o, np.int64),
        "klass": np.empty(n_o, np.int32),
        "region": np.empty(n_o, np.int32),
        "partner": np.empty(n_o, np.bool_),
        "rep": np.empty(n_o, np.int64),
    }
    n_v, n_d = _kernel(
        np.int64(lo_block),
        np.int64(hi_block),
        np.int64(spec.size),
        np.int64(spec.block_size),
        t["perm_size"],
        t["half"],
        t["keys"],
        t["prefix_region"],
        t["prefix_weight"],
        t["w_max"],
        t["multi"],
        t["accept_of_day"],
        t["age_of_day"],
        t["stream_keys"],
        t["occ_cdf"],
        t["group_of"],
        t["employable"],
        t["inc_cdf"],
        t["com_cdf"],
        t["prop_cdf"],
        t["sector_cdf"],
        t["size_cdf"],
        t["shares"],
        t["degree_base"],
        t["degree_steps"],
        t["band_of_age"],
        t["strides"],
        t["offsets"],
        t["slots"],
        t["rate"],
        *p.values(),
        *o.values(),
    )
    return _assemble(spec, lo, p, o, n_v, n_d, with_governments)


def _assemble(
    spec: PopulationSpec,
    lo: int,
    p: dict[str, NDArray],
    o: dict[str, NDArray],
    n_v: int,
    n_d: int,
    with_governments: bool,
) -> CompactShard:
    """Concatenate the kinds: persons, organisations, governments, vehicles, dogs."""
    gov = np.array(sorted({int(c) for c in spec.region_codes()}), np.int64)
    if not with_governments:
        gov = gov[:0]
    counts = [len(p["klass"]), len(o["index"]), len(gov), n_v, n_d]
    n = sum(counts)
    kind, index, block = np.empty(n, np.int8), np.empty(n, np.int64), np.empty(n, np.int64)
    klass, region = np.empty(n, np.int32), np.empty(n, np.int32)
    off = class_offsets(spec)
    _fill(
        np.int64(lo),
        np.int64(spec.block_size),
        np.int64(spec.vehicle_slots),
        np.int64(spec.dog_slots),
        np.array([off[k] for k in KINDS], np.int64),
        p["klass"],
        p["region"],
        p["car"],
        p["dog"],
        p["prop"],
        o["index"],
        o["block"],
        o["klass"],
        o["region"],
        gov,
        np.int64(n_v),
        kind,
        index,
        block,
        klass,
        region,
    )
    return CompactShard(
        kind=kind,
        index=index,
        block=block,
        klass=klass,
        region=region,
        age=p["age"],
        birth=p["birth"],
        male=p["male"],
        group=p["group"],
        commute=p["commute"],
        employed=p["employed"],
        degree=p["degree"],
        has_partner=o["partner"],
        rep=o["rep"],
        n_persons=counts[0],
        n_organisations=counts[1],
        n_governments=counts[2],
        n_vehicles=counts[3],
        n_dogs=counts[4],
    )
