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

__all__ = ["EPOCH", "KINDS", "BehaviourModel", "DayDraws", "Group", "coverage_table", "draw_values",
           "event_ids", "value_table"]

EPOCH = dt.date(1970, 1, 1)
KINDS = ("person", "organisation", "government", "vehicle", "dog")
_MAX_TRIES = 64
_TRY_BATCHES = ((0, 3), (3, 11), (11, 27), (27, 64))  # tries drawn at once (acceptance ~1/3)
_CHUNK_BLOCKS = 32


@dataclass
class Group:
    """The subjects of one kind in one shard, sorted by block, with per-block rate sums."""

    kind: str
    codes: NDArray[np.int64]
    keys: NDArray[np.int64]
    block: NDArray[np.int64]
    klass: NDArray[np.int32]
    region: NDArray[np.int16]  # row of the coverage table
    blocks: NDArray[np.int64] = field(init=False)
    starts: NDArray[np.int64] = field(init=False)
    lam: NDArray[np.int64] = field(init=False)
    rmax: NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        first = np.r_[True, self.block[1:] != self.block[:-1]] if len(self.block) else np.zeros(0, bool)
        self.blocks = self.block[first]
        self.starts = np.r_[np.flatnonzero(first), len(self.block)].astype(np.int64)

    def refresh(self, table: NDArray[np.int64], rows: NDArray[np.int64] | None = None) -> None:
        """Recompute the per-block rate sums and maxima (all blocks, or block ``rows``)."""
        if rows is None:
            self.lam = np.zeros((len(self.blocks), table.shape[1]), np.int64)
            self.rmax = np.zeros_like(self.lam)
            rows = np.arange(len(self.blocks))
        for lo in range(0, len(rows), _CHUNK_BLOCKS):
            part = rows[lo:lo + _CHUNK_BLOCKS]
            a, b = self.starts[part], self.starts[part + 1]
            idx = np.concatenate([np.arange(x, y) for x, y in zip(a, b, strict=True)])
            vals = table[self.klass[idx]]
            offs = np.r_[0, np.cumsum(b - a)[:-1]]
            self.lam[part] = np.add.reduceat(vals, offs, axis=0)
            self.rmax[part] = np.maximum.reduceat(vals, offs, axis=0)


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

    def __init__(self, population: Population, behaviour: Behaviour, *, seed: int,
                 coverage: tuple[list[int], NDArray[np.float64]],
                 blocks: tuple[int, int] | None = None, scale: Mapping[str, float] | None = None,
                 with_governments: bool = True) -> None:
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
        self.cat_sources = [np.array([self.sources.index(s) for s in voc.categories[c].sources])
                            for c in self.categories]
        self.n_sources = np.array([len(x) for x in self.cat_sources])
        self.source_table = np.zeros((len(self.categories), self.n_sources.max()), np.int16)
        for c, srcs in enumerate(self.cat_sources):
            self.source_table[c, :len(srcs)] = srcs
        self.effects = {c: behaviour.spec(c).effect for c in self.categories
                        if behaviour.spec(c).effect}
        self.values = value_table([spec.value for _, spec, _ in self.columns])
        self.months = np.ones((len(self.columns), 13), bool)
        for j, (_, spec, _) in enumerate(self.columns):
            if spec.months:
                self.months[j] = np.isin(np.arange(13), spec.months)
        self.uniform_coverage = bool((self.coverage == self.coverage[0]).all())
        self.blocks_range = blocks or (0, population.spec.n_blocks)
        self.groups = self._groups(with_governments)
        self.set_scale(scale or {})

    # -- set-up --------------------------------------------------------------------------------
    def _region_rows(self, region: NDArray[np.int32]) -> NDArray[np.int16]:
        lut = {int(c): i for i, c in enumerate(self.region_codes)}
        return np.array([lut.get(int(r), 0) for r in region] or [], np.int16)

    def _groups(self, with_governments: bool) -> dict[str, Group]:
        pop, spec = self.population, self.population.spec
        lo, hi = self.blocks_range
        p = pop.persons
        sp = self.spaces
        groups: dict[str, Group] = {}
        pm = (p["block"] >= lo) & (p["block"] < hi)
        age_band = np.searchsorted(np.array(AGE_BANDS), p["age"][pm], side="right") - 1
        klass = sp["person"].encode(
            age=np.maximum(age_band, 0), sex=p["male"][pm].astype(int), income=p["income"][pm],
            group=_GROUP_OF[p["occupation"][pm]], commute=p["commute"][pm],
            propensity=p["propensity"][pm], case=np.zeros(pm.sum(), int))
        groups["person"] = Group("person", pop.codes("person", p["index"][pm]), p["index"][pm],
                                 p["block"][pm], klass, self._region_rows(p["region"][pm]))
        o = pop.organisations
        om = (o["block"] >= lo) & (o["block"] < hi)
        groups["organisation"] = Group(
            "organisation", pop.codes("organisation", o["index"][om]), o["index"][om], o["block"][om],
            sp["organisation"].encode(sector=o["sector"][om], size=o["size"][om],
                                      propensity=o["propensity"][om], case=np.zeros(om.sum(), int)),
            self._region_rows(o["region"][om]))
        g = pop.governments
        gm = np.full(len(g["index"]), with_governments)
        groups["government"] = Group(
            "government", pop.codes("government", g["index"][gm]), g["index"][gm],
            np.zeros(gm.sum(), np.int64), np.zeros(gm.sum(), np.int32), self._region_rows(g["region"][gm]))
        owner_prop = np.zeros(spec.size, np.int8)
        owner_prop[p["index"]] = p["propensity"]
        for kind, table in (("vehicle", pop.vehicles), ("dog", pop.dogs)):
            m = (table["block"] >= lo) & (table["block"] < hi)
            groups[kind] = Group(kind, pop.codes(kind, table["index"][m]), table["index"][m],
                                 table["block"][m], owner_prop[table["owner"][m]].astype(np.int32),
                                 self._region_rows(table["region"][m]))
        return groups

    def set_coverage(self, coverage: tuple[list[int], NDArray[np.float64]]) -> None:
        """New coverage per region row and channel (see :func:`coverage_table`)."""
        self.region_codes, self.coverage = coverage
        self.uniform_coverage = bool((self.coverage == self.coverage[0]).all())

    def set_scale(self, scale: Mapping[str, float]) -> None:
        """(Re)build the rate tables with rate multipliers per category or action."""
        unknown = sorted(set(scale) - {c for c, _, _ in self.columns})
        if unknown:
            raise KeyError(f"no category or action {', '.join(unknown)} to rescale")
        self.scale = dict(scale)
        self.tables: dict[str, NDArray[np.int64]] = {}
        self.cols: dict[str, NDArray[np.int64]] = {}
        for kind in KINDS:
            full = rate_table(self.spaces[kind], self.columns, self.propensity, self.scale)
            active = np.flatnonzero(full.any(axis=0))
            self.tables[kind], self.cols[kind] = full[:, active], active
            if len(self.groups[kind].codes):
                self.groups[kind].refresh(self.tables[kind])

    # -- the day --------------------------------------------------------------------------------
    def draw(self, day: int) -> DayDraws:
        """The events and attempts of ``day`` (days since 1970) in this shard."""
        month = (EPOCH + dt.timedelta(days=int(day))).month
        recs: list[dict[str, NDArray]] = []
        atts: list[dict[str, NDArray]] = []
        events = np.zeros(len(self.categories), np.int64)
        for kind in KINDS:
            g = self.groups[kind]
            cols = self.cols[kind]
            if not len(g.codes) or not len(cols):
                continue
            mult = self.months[cols, month].astype(float) / ONE
            kk = rng.key(self.seed, f"events/{kind}", day)
            cell = (g.blocks[:, None].astype(np.uint64) << np.uint64(8)) | cols[None, :].astype(np.uint64)
            counts = rng.poisson(g.lam * mult[None, :], kk, cell)
            bi, ci = np.nonzero(counts)
            n = counts[bi, ci]
            if not len(n):
                continue
            bi, ci = np.repeat(bi, n), np.repeat(ci, n)
            k = np.arange(len(bi)) - np.repeat(np.cumsum(n) - n, n)
            blk, col = g.blocks[bi], cols[ci]
            eid = event_ids(blk, col, k)
            att = self.is_attempt[col]
            ev = np.flatnonzero(~att)
            events += np.bincount(col[ev], minlength=len(self.columns))[:len(self.categories)]
            # Each event's source, and whether it sees the event: decided before choosing who
            # when coverage does not depend on the region (then unseen events need no subject).
            key = rng.key(self.seed, f"detect/{kind}", day)
            sub = eid[ev] << np.uint64(2)
            n_src = self.n_sources[col[ev]]
            pick = np.minimum((rng.uniform(key, sub) * n_src).astype(np.int64), n_src - 1)
            source = self.source_table[col[ev], pick]
            u_seen = rng.uniform(key, sub | np.uint64(1))
            if self.uniform_coverage:
                seen = u_seen < self.coverage[0, self.source_channel[source]]
                ev, source, sub = ev[seen], source[seen], sub[seen]
            need = np.sort(np.concatenate([np.flatnonzero(att), ev]))
            member = np.full(len(bi), -1, np.int64)
            member[need] = self._choose(kind, day, bi[need], ci[need], eid[need])
            if not self.uniform_coverage:
                seen = u_seen < self.coverage[g.region[member[ev]], self.source_channel[source]]
                ev, source, sub = ev[seen], source[seen], sub[seen]
            if att.any():
                atts.append({"action": col[att] - len(self.categories), "subject": g.codes[member[att]],
                             "kind": np.full(att.sum(), KINDS.index(kind), np.int8),
                             "block": blk[att], "k": k[att], "member": member[att]})
            if len(ev):
                second = 7 * 3600 + (rng.uniform(key, sub | np.uint64(2)) * 15 * 3600).astype(np.int32)
                value = draw_values(self.values, col[ev], key, sub | np.uint64(3))
                recs.append({"subject": g.codes[member[ev]], "category": col[ev].astype(np.int16),
                             "source": source, "second": second, "value": value,
                             "kind": np.full(len(ev), KINDS.index(kind), np.int8), "block": blk[ev],
                             "k": k[ev], "member": member[ev]})
        return DayDraws(_cat(recs, _RECORD_FIELDS), _cat(atts, _ATTEMPT_FIELDS), events)

    def _choose(self, kind: str, day: int, bi: NDArray, ci: NDArray, eid: NDArray[np.uint64]
                ) -> NDArray[np.int64]:
        """Each event's member (position in the group): uniform proposals, accepted with
        probability rate / block maximum, a batch of proposals at a time (try ``t`` is keyed by
        ``t``; the first accepted wins); after ``_MAX_TRIES``, exact inversion on the block.
        One 64-bit draw per try: the high 32 bits pick the member, the low 32 bits accept."""
        g, table = self.groups[kind], self.tables[kind]
        key = rng.key(self.seed, f"who/{kind}", day)
        start = g.starts[bi]
        size = g.starts[bi + 1] - start
        rmax = g.rmax[bi, ci].astype(np.float64)
        member = np.full(len(bi), -1, np.int64)
        todo = np.arange(len(bi))
        base = eid << np.uint64(6)
        for t0, t1 in _TRY_BATCHES:
            if not todo.size:
                break
            t = np.arange(t0, t1, dtype=np.uint64)[None, :]
            u1, u2 = rng.uniform_pair(key, base[todo, None] | t)
            sz = size[todo, None]
            m = start[todo, None] + np.minimum((u1 * sz).astype(np.int64), sz - 1)
            ok = u2 * rmax[todo, None] < table[g.klass[m], ci[todo, None]]
            hit = ok.any(axis=1)
            first = ok.argmax(axis=1)
            member[todo[hit]] = m[hit, first[hit]]
            todo = todo[~hit]
        for e in todo.tolist():  # rare: a block whose rates are very uneven
            lo, hi = start[e], start[e] + size[e]
            cum = np.cumsum(table[g.klass[lo:hi], ci[e]])
            u = rng.uniform(rng.key(self.seed, f"who-exact/{kind}", day), eid[e])
            member[e] = lo + int(np.searchsorted(cum, np.floor(u * cum[-1]), side="right"))
        return member

    # -- state ------------------------------------------------------------------------------------
    def apply(self, records: Mapping[str, NDArray]) -> None:
        """Apply the effects of recorded events (open or close enforcement cases)."""
        if not self.effects or not len(records["category"]):
            return
        for kind in ("person", "organisation"):
            space = self.spaces[kind]
            stride = space.stride("case")
            g = self.groups[kind]
            touched = []
            for effect, to in (("open_case", 1), ("close_case", 0)):
                cats = [self.categories.index(c) for c, e in self.effects.items() if e == effect]
                m = (records["kind"] == KINDS.index(kind)) & np.isin(records["category"], cats)
                if not m.any():
                    continue
                mem = records["member"][m]
                level = (g.klass[mem] // stride) % 2
                g.klass[mem] += ((to - level) * stride).astype(np.int32)
                touched.append(np.searchsorted(g.blocks, g.block[mem]))
            if touched:
                g.refresh(self.tables[kind], np.unique(np.concatenate(touched)))

    def open_cases(self, kind: str = "person") -> int:
        g = self.groups[kind]
        return int(((g.klass // self.spaces[kind].stride("case")) % 2).sum())

    # -- history ----------------------------------------------------------------------------------
    def weights(self, kind: str, column: str) -> NDArray[np.int64]:
        """Each member's rate (2**-40 per day) for ``column``, ignoring the case requirement."""
        j = [c for c, _, _ in self.columns].index(column)
        full = rate_table(self.spaces[kind], [self.columns[j]], self.propensity, self.scale)[:, 0]
        return full[self.groups[kind].klass]


_RECORD_FIELDS = {"subject": np.int64, "category": np.int16, "source": np.int16, "second": np.int32,
                  "value": np.float64, "kind": np.int8, "block": np.int64, "k": np.int64,
                  "member": np.int64}
_ATTEMPT_FIELDS = {"action": np.int64, "subject": np.int64, "kind": np.int8, "block": np.int64,
                   "k": np.int64, "member": np.int64}


def event_ids(block: NDArray, column: NDArray, k: NDArray) -> NDArray[np.uint64]:
    """One counter per event of a day: block (30 bits), column (8), event number (20) packed into
    58 bits, leaving 6 for the tries of :meth:`BehaviourModel._choose`."""
    if len(k) and (int(np.max(k)) >= 1 << 20 or int(np.max(column)) >= 1 << 8
                   or int(np.max(block)) >= 1 << 30):
        raise OverflowError("more than 2**20 events in one block, column and day, 256 columns or "
                            "2**30 blocks: use bigger blocks")
    return ((np.asarray(block, np.uint64) << np.uint64(28)) | (np.asarray(column, np.uint64) << np.uint64(20))
            | np.asarray(k, np.uint64))


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


def draw_values(table: NDArray[np.float64], col: NDArray, key: int, counter: NDArray[np.uint64]
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


def coverage_table(behaviour: Behaviour, regions: list[int],
                   overrides: Mapping[str, Mapping[str, float]] | None = None
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
