"""Behaviour, first version: what happens each day, who is seen, and who tries what.

Work grows with the number of events, not with residents x days. For every neighbourhood block,
subject kind and column (a record category or an attempted action) the day's number of events
is one Poisson draw with the block's total rate; each event then picks its subject by rejection
sampling (a uniform member of the block, accepted with probability ``rate / block maximum``),
which is exact. Every draw is keyed by ``(seed, stream, day, block, column, event)`` in the
counter-based generator, so a shard — a range of whole blocks — draws exactly what it would
draw inside a bigger run.

An event in a record category is *recorded* when its source (one of the category's authorised
sources, picked uniformly) sees it: with the coverage of that source's channel in the subject's
region. Attempted actions are handed to the simulation, which asks the engine for the outcome.

State: a subject's class includes whether it has an open enforcement case; records of
``effect: open_case`` / ``close_case`` categories change it, and the block's rates are
recomputed (exact integer sums) for the next day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from socialcredit.society import rng
from socialcredit.society.population import _GROUP_OF, AGE_BANDS, Population
from socialcredit.society.rates import ONE, Behaviour, RateSpec, class_spaces, rate_table
from socialcredit.vocabulary import vocabulary

__all__ = [
    "EPOCH",
    "KINDS",
    "BehaviourModel",
    "DayDraws",
    "Group",
    "coverage_table",
    "draw_values",
    "event_ids",
    "value_table",
]

EPOCH = dt.date(1970, 1, 1)
KINDS = ("person", "organisation", "government", "vehicle", "dog")
_MAX_TRIES = 64
_TRY_BATCHES = ((0, 3), (3, 11), (11, 27), (27, 64))  # tries drawn at once (acceptance ~1/3)
_CHUNK_CELLS = 32


@dataclass
class Group:
    """All subjects of a shard, sorted by *cell* (block x 8 + kind), with per-cell rate sums.

    ``klass`` indexes the rows of the combined rate table (each kind's classes at its offset);
    ``lam`` and ``rmax`` hold, per cell and active column, the exact sum and maximum of the
    members' rates; ``nz_*`` cache, for the positive entries of ``lam``, what the daily Poisson
    draw reuses.
    """

    codes: NDArray[np.int64]
    keys: NDArray[np.int64]
    kind: NDArray[np.int8]
    cell: NDArray[np.int64]
    klass: NDArray[np.int32]
    region: NDArray[np.int16]  # row of the coverage table
    cells: NDArray[np.int64] = field(init=False)
    starts: NDArray[np.int64] = field(init=False)
    cell_of: NDArray[np.int64] = field(init=False)  # each member's cell position

    def __post_init__(self) -> None:
        first = np.r_[True, self.cell[1:] != self.cell[:-1]] if len(self.cell) else np.zeros(0, bool)
        self.cells = self.cell[first]
        self.starts = np.r_[np.flatnonzero(first), len(self.cell)].astype(np.int64)
        self.cell_of = np.cumsum(first) - 1

    def setup(self, table: NDArray[np.int64]) -> None:
        """Compute everything from the rate ``table`` (rows: classes, columns: active columns)."""
        ncol = table.shape[1]
        self.table, self.flat, self.ncol = table, table.ravel(), ncol
        self.lam = np.zeros((len(self.cells), ncol), np.int64)
        self.rmax = np.zeros_like(self.lam)
        self.row = self.klass.astype(np.int64) * ncol
        self.refresh(np.arange(len(self.cells)))
        self.nz_rebuild()

    def refresh(self, rows: NDArray[np.int64]) -> None:
        """Recompute the rate sums and maxima of cell ``rows`` (exact integer sums)."""
        for lo in range(0, len(rows), _CHUNK_CELLS):
            part = rows[lo : lo + _CHUNK_CELLS]
            a, b = self.starts[part], self.starts[part + 1]
            idx = np.concatenate([np.arange(x, y) for x, y in zip(a, b, strict=True)])
            vals = self.table[self.klass[idx]]
            offs = np.r_[0, np.cumsum(b - a)[:-1]]
            self.lam[part] = np.add.reduceat(vals, offs, axis=0)
            self.rmax[part] = np.maximum.reduceat(vals, offs, axis=0)

    def nz_rebuild(self) -> None:
        """The positive (cell, column) entries and what the daily draw reuses for them."""
        self.nonzero = np.flatnonzero(self.lam)
        self.nz_col = self.nonzero % self.ncol
        self.nz_cell = self.nonzero // self.ncol
        self.nz_update()

    def nz_update(self) -> None:
        self.nz_lam = self.lam.ravel()[self.nonzero] / ONE
        self.nz_exp = np.exp(-self.nz_lam)
        self.nz_small = np.flatnonzero(self.nz_lam < rng.SPLIT)
        self.nz_large = np.flatnonzero(self.nz_lam >= rng.SPLIT)
        self.rmax_f = self.rmax.astype(np.float64)

    def change(self, members: NDArray[np.int64], klass: NDArray[np.int64]) -> None:
        """Give ``members`` new classes and recompute their cells (and only their cells)."""
        self.klass[members] = klass
        self.row[members] = klass.astype(np.int64) * self.ncol
        rows = np.unique(self.cell_of[members])
        before = self.lam[rows] > 0
        self.refresh(rows)
        if not np.array_equal(before, self.lam[rows] > 0):
            self.nz_rebuild()  # a rate appeared or vanished: the positive entries changed
            return
        self.rmax_f[rows] = self.rmax[rows]
        lo = np.searchsorted(self.nonzero, rows * self.ncol)
        hi = np.searchsorted(self.nonzero, (rows + 1) * self.ncol)
        pos = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
        lam = self.lam.ravel()[self.nonzero[pos]] / ONE
        crossed = (lam < rng.SPLIT) != (self.nz_lam[pos] < rng.SPLIT)
        self.nz_lam[pos] = lam
        self.nz_exp[pos] = np.exp(-lam)
        if crossed.any():
            self.nz_small = np.flatnonzero(self.nz_lam < rng.SPLIT)
            self.nz_large = np.flatnonzero(self.nz_lam >= rng.SPLIT)


@dataclass(frozen=True)
class Members:
    """The subjects of one kind in a shard: positions in the group, codes, keys (person,
    organisation or slot index), local class numbers and coverage rows."""

    kind: str
    position: NDArray[np.int64]
    codes: NDArray[np.int64]
    keys: NDArray[np.int64]
    klass: NDArray[np.int64]
    region: NDArray[np.int16]


@dataclass
class DayDraws:
    """One day's draws for one shard: recorded events and attempted actions.

    Records: ``subject`` (engine code), ``category`` (vocabulary index), ``source`` (vocabulary
    source index), ``second`` (of the day), ``value``, and ``kind``/``block``/``k`` which name
    the event (for record ids). Attempts: ``action`` (index into the model's actions),
    ``subject``, ``kind``, ``block``, ``k``. ``events``: occurred events per category.
    """

    records: dict[str, NDArray]
    attempts: dict[str, NDArray]
    events: NDArray[np.int64]


class BehaviourModel:
    """The behaviour of a population under a parameter set, for a range of blocks (a shard).

    Args:
        population: the population (codes are its subject codes).
        behaviour: the behaviour parameters.
        seed: the run's seed.
        coverage: ``(regions, channel table)``: jurisdiction codes and the coverage per region
            row and channel (see :meth:`coverage_table`).
        blocks: the shard's ``(first, last + 1)`` block; ``None`` for all.
        scale: rate multipliers per category or action name.
    """

    def __init__(
        self,
        population: Population,
        behaviour: Behaviour,
        *,
        seed: int,
        coverage: tuple[list[int], NDArray[np.float64]],
        blocks: tuple[int, int] | None = None,
        scale: Mapping[str, float] | None = None,
        with_governments: bool = True,
    ) -> None:
        voc = vocabulary()
        self.population, self.behaviour, self.seed = population, behaviour, seed
        self.categories = list(voc.categories)
        self.sources = list(voc.sources)
        self.actions = list(behaviour.attempts)
        self.columns: list[tuple[str, RateSpec, bool]] = [
            (c, behaviour.spec(c), voc.categories[c].direction == "breaking") for c in self.categories
        ] + [(a, behaviour.spec(a), False) for a in self.actions]
        n_cat = len(self.categories)
        self.is_attempt = np.arange(len(self.columns)) >= n_cat
        sectors = tuple(population.spec.value("org_sectors"))
        sizes = tuple(population.spec.value("org_sizes"))
        self.spaces = class_spaces(sectors, sizes)
        prop = population.spec.value("propensity")
        shares, mults = np.array(prop["shares"], float), np.array(prop["multipliers"], float)
        self.propensity = mults / float(shares @ mults)
        self.region_codes, self.coverage = coverage
        channels = behaviour.channels.value
        self.channel_names = sorted(set(channels.values()))
        self.source_channel = np.array([self.channel_names.index(channels[s]) for s in self.sources])
        self.cat_sources = [
            np.array([self.sources.index(s) for s in voc.categories[c].sources]) for c in self.categories
        ]
        self.n_sources = np.array([len(x) for x in self.cat_sources])
        self.source_table = np.zeros((len(self.categories), self.n_sources.max()), np.int16)
        for c, srcs in enumerate(self.cat_sources):
            self.source_table[c, : len(srcs)] = srcs
        self.effects = {c: behaviour.spec(c).effect for c in self.categories if behaviour.spec(c).effect}
        self.values = value_table([spec.value for _, spec, _ in self.columns])
        self.months = np.ones((len(self.columns), 13), bool)
        for j, (_, spec, _) in enumerate(self.columns):
            if spec.months:
                self.months[j] = np.isin(np.arange(13), spec.months)
        self.uniform_coverage = bool((self.coverage == self.coverage[0]).all())
        self.blocks_range = blocks or (0, population.spec.n_blocks)
        self.offsets, n = {}, 0
        for kind in KINDS:
            self.offsets[kind] = n
            n += self.spaces[kind].size
        self.group = self._group(with_governments)
        self.set_scale(scale or {})

    # -- set-up --------------------------------------------------------------------------------
    def _region_rows(self, region: NDArray[np.int32]) -> NDArray[np.int16]:
        lut = {int(c): i for i, c in enumerate(self.region_codes)}
        return np.array([lut.get(int(r), 0) for r in region] or [], np.int16)

    def _group(self, with_governments: bool) -> Group:
        pop = self.population
        lo, hi = self.blocks_range
        p, o, g = pop.persons, pop.organisations, pop.governments
        parts = []

        def add(kind: str, index: NDArray, block: NDArray, klass: NDArray, region: NDArray) -> None:
            k = KINDS.index(kind)
            parts.append(
                {
                    "codes": pop.codes(kind, index),
                    "keys": index,
                    "kind": np.full(len(index), k, np.int8),
                    "cell": block * 8 + k,
                    "klass": np.asarray(klass, np.int64) + self.offsets[kind],
                    "region": self._region_rows(region),
                }
            )

        pm = (p["block"] >= lo) & (p["block"] < hi)
        age_band = np.searchsorted(np.array(AGE_BANDS), p["age"][pm], side="right") - 1
        add(
            "person",
            p["index"][pm],
            p["block"][pm],
            self.spaces["person"].encode(
                age=np.maximum(age_band, 0),
                sex=p["male"][pm].astype(int),
                income=p["income"][pm],
                group=_GROUP_OF[p["occupation"][pm]],
                commute=p["commute"][pm],
                propensity=p["propensity"][pm],
                case=np.zeros(pm.sum(), int),
            ),
            p["region"][pm],
        )
        om = (o["block"] >= lo) & (o["block"] < hi)
        add(
            "organisation",
            o["index"][om],
            o["block"][om],
            self.spaces["organisation"].encode(
                sector=o["sector"][om],
                size=o["size"][om],
                propensity=o["propensity"][om],
                case=np.zeros(om.sum(), int),
            ),
            o["region"][om],
        )
        gm = np.full(len(g["index"]), with_governments)
        add("government", g["index"][gm], np.zeros(gm.sum(), np.int64), np.zeros(gm.sum()), g["region"][gm])
        owner_prop = np.zeros(pop.spec.size, np.int8)
        owner_prop[p["index"]] = p["propensity"]
        for kind, table in (("vehicle", pop.vehicles), ("dog", pop.dogs)):
            m = (table["block"] >= lo) & (table["block"] < hi)
            add(kind, table["index"][m], table["block"][m], owner_prop[table["owner"][m]], table["region"][m])
        cols = {c: np.concatenate([q[c] for q in parts]) for c in parts[0]}
        order = np.argsort(cols["cell"], kind="stable")
        return Group(**{c: v[order] for c, v in cols.items()})

    def members(self, kind: str) -> Members:
        """The subjects of ``kind`` in this shard (see :class:`Members`)."""
        g = self.group
        pos = np.flatnonzero(g.kind == KINDS.index(kind))
        return Members(kind, pos, g.codes[pos], g.keys[pos], g.klass[pos] - self.offsets[kind], g.region[pos])

    def set_coverage(self, coverage: tuple[list[int], NDArray[np.float64]]) -> None:
        """New coverage per region row and channel (see :func:`coverage_table`)."""
        self.region_codes, self.coverage = coverage
        self.uniform_coverage = bool((self.coverage == self.coverage[0]).all())

    def set_scale(self, scale: Mapping[str, float]) -> None:
        """(Re)build the rate table with rate multipliers per category or action."""
        unknown = sorted(set(scale) - {c for c, _, _ in self.columns})
        if unknown:
            raise KeyError(f"no category or action {', '.join(unknown)} to rescale")
        self.scale = dict(scale)
        full = np.concatenate(
            [rate_table(self.spaces[k], self.columns, self.propensity, self.scale)[:-1] for k in KINDS]
            + [np.zeros((1, len(self.columns)), np.int64)]
        )
        self.cols = np.flatnonzero(full.any(axis=0))
        self.table = np.ascontiguousarray(full[:, self.cols])
        self.col_position = np.full(len(self.columns), -1, np.int64)
        self.col_position[self.cols] = np.arange(len(self.cols))
        if len(self.group.codes):
            self.group.setup(self.table)

    # -- the day --------------------------------------------------------------------------------
    def draw(self, day: int) -> DayDraws:
        """The events and attempts of ``day`` (days since 1970) in this shard."""
        g, cols = self.group, self.cols
        n_cat = len(self.categories)
        events = np.zeros(n_cat, np.int64)
        empty = DayDraws(_cat([], _RECORD_FIELDS), _cat([], _ATTEMPT_FIELDS), events)
        if not len(g.codes) or not len(cols):
            return empty
        month = (EPOCH + dt.timedelta(days=int(day))).month
        # one Poisson count per (cell, column) with a positive rate; most means are tiny, so
        # one uniform against the cached exp(-mean) settles almost all of them
        counter = (g.cells[g.nz_cell].astype(np.uint64) << np.uint64(8)) | cols[g.nz_col].astype(np.uint64)
        key = rng.key(self.seed, "events", day)
        counts = np.zeros(len(counter), np.int64)
        s = g.nz_small
        counts[s] = rng.poisson_inversion(g.nz_lam[s], rng.uniform(key, counter[s], 0), g.nz_exp[s])
        big = g.nz_large
        if len(big):
            counts[big] = rng.poisson(g.nz_lam[big], key, counter[big])
        counts[~self.months[cols[g.nz_col], month]] = 0
        hit = np.flatnonzero(counts)
        if not len(hit):
            return empty
        n = counts[hit]
        bi, ci = np.repeat(g.nz_cell[hit], n), np.repeat(g.nz_col[hit], n)
        k = np.arange(len(bi)) - np.repeat(np.cumsum(n) - n, n)
        cl, col = g.cells[bi], cols[ci]
        eid = event_ids(cl, col, k)
        att = self.is_attempt[col]
        ev = np.flatnonzero(~att)
        events += np.bincount(col[ev], minlength=n_cat)
        # Each event's source, and whether it sees the event: decided before choosing who when
        # coverage does not depend on the region (then unseen events need no subject).
        key = rng.key(self.seed, "detect", day)
        sub = eid[ev] << np.uint64(2)
        n_src = self.n_sources[col[ev]]
        pick = np.minimum((rng.uniform(key, sub) * n_src).astype(np.int64), n_src - 1)
        source = self.source_table[col[ev], pick]
        u_seen = rng.uniform(key, sub | np.uint64(1))
        if self.uniform_coverage:
            seen = u_seen < self.coverage[0, self.source_channel[source]]
            ev, source, sub = ev[seen], source[seen], sub[seen]
        need = np.flatnonzero(att)
        need = np.concatenate([need, ev]) if len(ev) else need
        member = np.full(len(bi), -1, np.int64)
        member[need] = self._choose(day, bi[need], ci[need], eid[need])
        if not self.uniform_coverage:
            seen = u_seen < self.coverage[g.region[member[ev]], self.source_channel[source]]
            ev, source, sub = ev[seen], source[seen], sub[seen]
        a = np.flatnonzero(att)
        attempts = {
            "action": col[a] - n_cat,
            "subject": g.codes[member[a]],
            "kind": (cl[a] % 8).astype(np.int8),
            "block": cl[a] // 8,
            "k": k[a],
            "member": member[a],
        }
        second = 7 * 3600 + (rng.uniform(key, sub | np.uint64(2)) * 15 * 3600).astype(np.int32)
        records = {
            "subject": g.codes[member[ev]],
            "category": col[ev].astype(np.int16),
            "source": source.astype(np.int16),
            "second": second,
            "value": draw_values(self.values, col[ev], key, sub | np.uint64(3)),
            "kind": (cl[ev] % 8).astype(np.int8),
            "block": cl[ev] // 8,
            "k": k[ev],
            "member": member[ev],
        }
        return DayDraws(_cat([records], _RECORD_FIELDS), _cat([attempts], _ATTEMPT_FIELDS), events)

    def _choose(self, day: int, bi: NDArray, ci: NDArray, eid: NDArray[np.uint64]) -> NDArray[np.int64]:
        """Each event's member (position in the group), in proportion to the members' rates:
        uniform proposals from the event's cell, accepted with probability rate / cell maximum,
        a batch of proposals at a time (try ``t`` is keyed by ``t``; the first accepted wins;
        one 64-bit draw per try: the high 32 bits pick the member, the low 32 bits accept);
        exact inversion on the cell after 64 tries."""
        g = self.group
        key = rng.key(self.seed, "who", day)
        start = g.starts[bi]
        size = (g.starts[bi + 1] - start).astype(np.float64)
        rmax = g.rmax_f[bi, ci]
        member = np.full(len(bi), -1, np.int64)
        todo = np.arange(len(bi))
        base = eid << np.uint64(6)
        for t0, t1 in _TRY_BATCHES:
            if not todo.size:
                break
            t = np.arange(t0, t1, dtype=np.uint64)[None, :]
            u1, u2 = rng.uniform_pair(key, base[todo, None] | t)
            m = start[todo, None] + (u1 * size[todo, None]).astype(np.int64)  # u1 < 1: m < end
            ok = u2 * rmax[todo, None] < g.flat[g.row[m] + ci[todo, None]]
            hit = ok.any(axis=1)
            first = ok.argmax(axis=1)
            member[todo[hit]] = m[hit, first[hit]]
            todo = todo[~hit]
        for e in todo.tolist():  # rare: a cell whose rates are very uneven
            lo, hi = start[e], start[e] + int(size[e])
            cum = np.cumsum(g.table[g.klass[lo:hi], ci[e]])
            u = rng.uniform(rng.key(self.seed, "who-exact", day), eid[e])
            member[e] = lo + int(np.searchsorted(cum, np.floor(u * cum[-1]), side="right"))
        return member

    # -- state ------------------------------------------------------------------------------------
    def apply(self, records: Mapping[str, NDArray]) -> None:
        """Apply the effects of recorded events (open or close enforcement cases)."""
        if not self.effects or not len(records["category"]):
            return
        g = self.group
        for effect, to in (("open_case", 1), ("close_case", 0)):
            cats = [self.categories.index(c) for c, e in self.effects.items() if e == effect]
            m = np.isin(records["category"], cats)
            for kind in ("person", "organisation"):
                mk = m & (records["kind"] == KINDS.index(kind))
                if not mk.any():
                    continue
                mem = np.unique(records["member"][mk])
                stride = self.spaces[kind].stride("case")
                level = ((g.klass[mem] - self.offsets[kind]) // stride) % 2
                if (level != to).any():
                    mem = mem[level != to]
                    g.change(mem, g.klass[mem] + (to - level[level != to]) * stride)

    def open_cases(self, kind: str = "person") -> int:
        mem = self.members(kind)
        return int(((mem.klass // self.spaces[kind].stride("case")) % 2).sum())

    # -- history ----------------------------------------------------------------------------------
    def weights(self, kind: str, column: str) -> NDArray[np.int64]:
        """Each member of ``kind``'s rate (2**-40 per day) for ``column``, ignoring the case
        requirement."""
        j = [c for c, _, _ in self.columns].index(column)
        full = rate_table(self.spaces[kind], [self.columns[j]], self.propensity, self.scale)[:, 0]
        return full[self.members(kind).klass]


_RECORD_FIELDS = {
    "subject": np.int64,
    "category": np.int16,
    "source": np.int16,
    "second": np.int32,
    "value": np.float64,
    "kind": np.int8,
    "block": np.int64,
    "k": np.int64,
    "member": np.int64,
}
_ATTEMPT_FIELDS = {
    "action": np.int64,
    "subject": np.int64,
    "kind": np.int8,
    "block": np.int64,
    "k": np.int64,
    "member": np.int64,
}


def event_ids(cell: NDArray, column: NDArray, k: NDArray) -> NDArray[np.uint64]:
    """One counter per event of a day: cell (block x 8 + kind, 30 bits), column (8), event
    number (20) packed into 58 bits, leaving 6 for the tries of :meth:`BehaviourModel._choose`."""
    if len(k) and (
        int(np.max(k)) >= 1 << 20 or int(np.max(column)) >= 1 << 8 or int(np.max(cell)) >= 1 << 30
    ):
        raise OverflowError(
            "more than 2**20 events in one cell, column and day, 256 columns or "
            "2**27 blocks: use bigger blocks"
        )
    return (
        (np.asarray(cell, np.uint64) << np.uint64(28))
        | (np.asarray(column, np.uint64) << np.uint64(20))
        | np.asarray(k, np.uint64)
    )


def _cat(parts: list[dict[str, NDArray]], fields: Mapping[str, Any]) -> dict[str, NDArray]:
    if not parts:
        return {f: np.zeros(0, t) for f, t in fields.items()}
    return {f: np.concatenate([p[f] for p in parts]).astype(t, copy=False) for f, t in fields.items()}


def value_table(specs: list[Mapping[str, Any] | None]) -> NDArray[np.float64]:
    """Per column: distribution (0 none, 1 uniform, 2 gamma), two parameters, decimals, minimum."""
    out = np.zeros((len(specs), 5))
    for j, spec in enumerate(specs):
        if not spec:
            continue
        if "uniform" in spec:
            out[j, :3] = (1, *spec["uniform"])
        elif "gamma" in spec:
            out[j, :3] = (2, *spec["gamma"])
        else:
            raise ValueError(f"unknown value distribution {spec!r}: use uniform or gamma")
        out[j, 3:] = (spec.get("round", 2), spec.get("min", 0.01))
    return out


def draw_values(
    table: NDArray[np.float64], col: NDArray, key: int, counter: NDArray[np.uint64]
) -> NDArray[np.float64]:
    """Record values for events of columns ``col`` (rows of :func:`value_table`): ``uniform``
    between the two parameters, or ``gamma`` (shape, scale) by the Wilson–Hilferty
    approximation; rounded to the decimals, at least the minimum; 1 where the column has none.
    """
    t = table[col]
    u1, u2 = rng.uniform_pair(key, counter)
    z = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
    shape = np.where(t[:, 0] == 2, t[:, 1], 1.0)
    c = 1.0 / (9.0 * shape)
    gamma = shape * t[:, 2] * np.maximum(1.0 - c + z * np.sqrt(c), 0.0) ** 3
    v = np.where(t[:, 0] == 1, t[:, 1] + u1 * (t[:, 2] - t[:, 1]), gamma)
    scale = 10.0 ** t[:, 3]
    v = np.maximum(np.round(v * scale) / scale, t[:, 4])
    return np.where(t[:, 0] == 0, 1.0, v)


def coverage_table(
    behaviour: Behaviour, regions: list[int], overrides: Mapping[str, Mapping[str, float]] | None = None
) -> tuple[list[int], NDArray[np.float64]]:
    """Coverage per region row and channel: the defaults, then per-region overrides (keyed by
    jurisdiction name or code, or ``all``)."""
    from socialcredit.regions import jurisdiction

    channels = sorted(set(behaviour.channels.value.values()))
    base = np.array([float(behaviour.coverage.value[c]) for c in channels])
    table = np.tile(base, (max(len(regions), 1), 1))
    for where, chans in (overrides or {}).items():
        rows = range(len(regions)) if where == "all" else [regions.index(int(jurisdiction(where).code))]
        for ch, p in chans.items():
            if ch not in channels:
                raise KeyError(f"unknown channel {ch!r}: use one of {', '.join(channels)}")
            for r in rows:
                table[r, channels.index(ch)] = float(p)
    return regions, table
