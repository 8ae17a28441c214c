"""Feedback loops: how the system's own outputs change behaviour (simulator part 2).

Every loop is switchable in the scenario's ``feedback`` block and off by default; see
docs/simulate.md ("Feedback") for the equations and which parameters are assumed.

* **Deterrence** — a penalty (a recorded trust-breaking record of a person; with
  ``on_listing`` also a new listing, which deters every category) lowers that person's rate of
  the penalised category by ``factor`` for ``days`` days. Implemented by exact
  thinning of the day's events: an event of a deterred (person, category) is kept with
  probability ``factor`` (uniform keyed by the event's id in the ``deterrence`` stream), so the
  result does not depend on the number of shards.
* **Chilling** — with ``L`` the share of persons on any black list at the last published evaluation
  (the first regime), the rate of critical posts is multiplied by ``exp(-elasticity * L)`` and
  that of "positive energy" posts by ``exp(reward * L)``; the multipliers change on evaluation
  days and act from the next day.
* **Gaming** — persons graded below a threshold buy score (donations by default) at a price,
  at a yearly rate and at most so many times a year; what it earns is the rulebook's business
  (Rongcheng: 1 point per 1,000 yuan, capped at 50 points a year).
* **Avoidance** — a person refused an action (a denied first attempt, in the first regime)
  keeps each later attempt of that action with probability ``factor`` for ``days`` days: they
  learn the ban. Same exact thinning as deterrence, of attempts, keyed by the attempt's id in
  the ``avoidance`` stream.
* **Spiral** — job loss on a listing (more for rail commuters barred from the train; the
  relations end in the model), then :class:`Arrears`: a jobless person's own rates of arrears
  and defaults times ``arrears_factor``, by extra draws; a listed organisation's partners
  default (the model adds their records).
* **Informants** — :class:`Informants`: adults report neighbours for a reward, some reports
  malicious; review catches a share; upheld reports are ``citizen_report`` records naming the
  reporter, caught ones a penalty of the reporter.
* **Disclosure reach** — :func:`learned`: which contacts of a newly listed person learn of it,
  through each channel that publishes them; with ostracism on, only they cut ties.

Records a loop adds (:func:`extra_records`) take the path of drawn events: an authorised source,
event numbers from ``2**19`` up (one range per loop) so ids never meet, effects applied.

Example:
    >>> c = Chilling(critical="online.critical_post", positive="online.positive_energy_post",
    ...              elasticity=20.0, reward=5.0)
    >>> c.multipliers(0.01)
    {'online.critical_post': 0.818731, 'online.positive_energy_post': 1.051271}
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from socialcredit.society import rng
from socialcredit.society.behaviour import KINDS, draw_values, event_ids
from socialcredit.society.rates import ONE

__all__ = [
    "Arrears",
    "Avoidance",
    "Chilling",
    "Deterrence",
    "Gaming",
    "Informants",
    "Located",
    "extra_records",
    "learned",
    "listed",
    "listed_share",
]

_PERSON = KINDS.index("person")


class Deterrence:
    """Who is deterred from which category until when (persons only).

    State is a sorted array of keys ``code * 256 + category`` with the last deterred day of
    each; it is built from the merged (canonical) records, so it is the same on any number of
    shards.
    """

    STREAM = "deterrence"
    FIELD = "category"

    def __init__(self, *, seed: int, factor: float, days: int, categories: list[int]) -> None:
        self.seed, self.factor, self.days = seed, float(factor), int(days)
        self.categories = np.asarray(sorted(categories), np.int64)
        self.keys = np.zeros(0, np.int64)
        self.until = np.zeros(0, np.int64)
        self.deterred_today = 0

    def active(self, subject: NDArray, category: NDArray, day: int) -> NDArray[np.bool_]:
        """Whether each (subject, category) is deterred on ``day``."""
        if not len(self.keys) or not len(subject):
            return np.zeros(len(subject), bool)
        k = np.asarray(subject, np.int64) * 256 + np.asarray(category, np.int64)
        i = np.minimum(np.searchsorted(self.keys, k), len(self.keys) - 1)
        return (self.keys[i] == k) & (self.until[i] >= day)

    def thin(self, records: Mapping[str, NDArray], day: int) -> NDArray[np.bool_]:
        """Which of a shard's drawn records are kept (``False``: deterred, never happened)."""
        f = self.FIELD
        on = self.active(records["subject"], records[f], day) & (records["kind"] == _PERSON)
        keep = np.ones(len(on), bool)
        if on.any():
            idx = np.flatnonzero(on)
            eid = event_ids(
                records["block"][idx] * 8 + records["kind"][idx], records[f][idx], records["k"][idx]
            )
            keep[idx] = rng.uniform(rng.key(self.seed, self.STREAM, day), eid) < self.factor
        return keep

    def penalise(self, records: Mapping[str, NDArray], day: int) -> None:
        """Start (or extend) windows for the persons penalised by ``records`` (recorded on
        ``day``): the window covers days ``day + 1 .. day + days``."""
        f = self.FIELD
        m = (records["kind"] == _PERSON) & np.isin(records[f], self.categories)
        if not m.any():
            return
        k = records["subject"][m].astype(np.int64) * 256 + records[f][m].astype(np.int64)
        keys = np.concatenate([self.keys, k])
        until = np.concatenate([self.until, np.full(len(k), day + self.days, np.int64)])
        live = until > day  # drop expired windows
        keys, until = keys[live], until[live]
        order = np.lexsort((-until, keys))
        keys, until = keys[order], until[order]
        first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, bool)
        self.keys, self.until = keys[first], until[first]

    def penalise_listed(self, codes: NDArray[np.int64], day: int) -> None:
        """Start windows in every deterred category for newly listed persons ``codes``."""
        n, c = len(codes), len(self.categories)
        self.penalise(
            {
                "subject": np.repeat(np.asarray(codes, np.int64), c),
                self.FIELD: np.tile(self.categories, n),
                "kind": np.full(n * c, _PERSON),
            },
            day,
        )

    def open_windows(self, day: int) -> int:
        return int((self.until >= day).sum())


class Avoidance(Deterrence):
    """Who avoids which action until when: a :class:`Deterrence` of attempts (persons only),
    keyed by ``code * 256 + action``; windows start from the first regime's denied attempts."""

    STREAM = "avoidance"
    FIELD = "action"


class Chilling:
    """Rate multipliers of critical and "positive energy" posts from the listed share."""

    def __init__(self, *, critical: str, positive: str, elasticity: float, reward: float) -> None:
        self.critical, self.positive = critical, positive
        self.elasticity, self.reward = float(elasticity), float(reward)
        self.share = 0.0

    def multipliers(self, share: float) -> dict[str, float]:
        self.share = share
        # rounded so that the rate table only changes when the share does, and is reproducible
        return {
            self.critical: round(math.exp(-self.elasticity * share), 6),
            self.positive: round(math.exp(self.reward * share), 6),
        }


def _black(result: Any) -> set[str]:
    """The ids of a rulebook result's black lists (red lists — integrity models — list people
    to praise them: nobody is deterred, shunned or sacked for being on one)."""
    return {cl.id for cl in result.cv.lists if getattr(cl.lst, "kind", "black") == "black"}


def listed(ev: Any, person_codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """The ``person_codes`` on any black list of the evaluation ``ev`` (sorted)."""
    parts = (
        [
            m.subjects
            for r in ev.results
            for lid, m in r.members.items()
            if len(m.subjects) and lid in _black(r)
        ]
        if ev
        else []
    )
    if not parts:
        return np.zeros(0, np.int64)
    return np.intersect1d(person_codes, np.concatenate(parts).astype(np.int64))


def listed_share(ev: Any, person_codes: NDArray[np.int64]) -> float:
    """Share of ``person_codes`` on any black list of the evaluation ``ev``."""
    if ev is None or not len(person_codes):
        return 0.0
    return len(listed(ev, person_codes)) / len(person_codes)


class Gaming:
    """Persons graded below ``below`` (in the first scoring model that has that grade) buy
    score: each day each of them makes a purchase (a record of ``category`` with value
    ``amount``) with probability ``rate / 365``, at most ``max_per_year`` a calendar year.

    The purchases are new records of the day: kind person, the buyer's block, event numbers from
    ``2**19`` up (above any drawn event of a cell), so their ids never meet a drawn event's.
    """

    K0 = 1 << 19

    def __init__(
        self,
        *,
        seed: int,
        category: int,
        sources: NDArray,
        below: str,
        rate: float,
        amount: float,
        max_per_year: int,
        person_codes: NDArray[np.int64],
        person_blocks: NDArray[np.int64],
    ) -> None:
        self.seed, self.category, self.sources, self.below = seed, category, sources, below
        self.p, self.amount, self.max_per_year = rate / 365.0, float(amount), int(max_per_year)
        order = np.argsort(person_codes)
        self.codes, self.blocks = person_codes[order], person_blocks[order]
        self.eligible = np.zeros(0, np.int64)
        self.bought = np.zeros(len(self.codes), np.int64)  # purchases this calendar year
        self.year = -1

    def update(self, ev: Any) -> None:
        """Who games from now on: persons graded below the threshold on evaluation ``ev``."""
        for r in ev.results:
            for ms in r.models:
                grades = list(ms.model.grades)
                if self.below not in grades:
                    continue
                g = ms.grade[self.codes]
                worse = ms.scored[self.codes] & (g > grades.index(self.below))
                self.eligible = np.flatnonzero(worse)
                return
        self.eligible = np.zeros(0, np.int64)

    def draw(self, day: int, year: int) -> dict[str, NDArray]:
        """The day's purchases as records (fields of a behaviour draw)."""
        if year != self.year:
            self.year = year
            self.bought[:] = 0
        cand = self.eligible[self.bought[self.eligible] < self.max_per_year]
        key = rng.key(self.seed, "gaming", day)
        codes = self.codes[cand]
        buy = cand[rng.uniform(key, codes, 0) < self.p]
        self.bought[buy] += 1
        codes, blocks = self.codes[buy], self.blocks[buy]
        order = np.lexsort((codes, blocks))
        codes, blocks = codes[order], blocks[order]
        first = np.r_[True, blocks[1:] != blocks[:-1]] if len(blocks) else np.zeros(0, bool)
        start = np.maximum.accumulate(np.where(first, np.arange(len(blocks)), 0)) if len(blocks) else first
        n = len(codes)
        pick = np.minimum(
            (rng.uniform(key, codes, 1) * len(self.sources)).astype(np.int64), len(self.sources) - 1
        )
        return {
            "subject": codes,
            "category": np.full(n, self.category, np.int16),
            "source": self.sources[pick].astype(np.int16),
            "second": (7 * 3600 + rng.uniform(key, codes, 2) * 15 * 3600).astype(np.int32),
            "value": np.full(n, self.amount),
            "kind": np.full(n, _PERSON, np.int8),
            "block": blocks.astype(np.int64),
            "k": self.K0 + np.arange(n) - start,
            "member": np.full(n, -1, np.int64),
        }


def _ranks(kind: NDArray, block: NDArray, category: NDArray, subject: NDArray) -> tuple[NDArray, NDArray]:
    """An order of extra records (kind, block, category, subject) and each record's rank in its
    (kind, block, category) group: the event number of a record id, from a loop's ``K0``."""
    order = np.lexsort((subject, category, block, kind))
    kd, bl, ct = kind[order], block[order], category[order]
    n = len(order)
    new = (
        np.r_[True, (kd[1:] != kd[:-1]) | (bl[1:] != bl[:-1]) | (ct[1:] != ct[:-1])]
        if n
        else np.zeros(0, bool)
    )
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    return order, np.arange(n) - start


class Located:
    """Where each subject code sits in each shard's group (position, or -1), for loops that add
    records of given subjects; ``find(s, codes)`` answers for shard ``s``."""

    def __init__(self, shards: list[Any]) -> None:
        self.order = [np.argsort(b.group.codes, kind="stable") for b in shards]
        self.sorted = [b.group.codes[o] for b, o in zip(shards, self.order, strict=True)]

    def find(self, s: int, codes: NDArray) -> NDArray[np.int64]:
        srt = self.sorted[s]
        if not len(srt):
            return np.full(len(codes), -1, np.int64)
        i = np.minimum(np.searchsorted(srt, codes), len(srt) - 1)
        return np.where(srt[i] == codes, self.order[s][i], -1).astype(np.int64)


def extra_records(
    shard: Any,
    member: NDArray[np.int64],
    category: NDArray,
    day: int,
    stream: str,
    k0: int,
    *,
    seed: int,
    source: NDArray | None = None,
    reporter: NDArray | None = None,
    detect: bool = False,
) -> dict[str, NDArray]:
    """Records of the shard's ``member`` positions in ``category`` made by a loop (not drawn
    events): the source is ``source`` or one of the category's authorised sources (uniform),
    seen with the coverage of its channel when ``detect``; time of day and value as for drawn
    events; event numbers ``k0 + rank`` in (kind, block, category). Draws are keyed by subject
    and category in ``stream``, so they do not depend on the shard."""
    g = shard.group
    member = np.asarray(member, np.int64)
    category = np.asarray(category, np.int64)
    codes = g.codes[member].astype(np.int64)
    key = rng.key(seed, stream, day)
    ctr = codes.astype(np.uint64) * np.uint64(256) + category.astype(np.uint64)
    ctr = ctr << np.uint64(3)
    if source is None:
        n_src = shard.n_sources[category]
        pick = np.minimum((rng.uniform(key, ctr | np.uint64(1)) * n_src).astype(np.int64), n_src - 1)
        source = shard.source_table[category, pick]
    source = np.asarray(source, np.int64)
    keep = np.ones(len(member), bool)
    if detect and len(member):
        cov = shard.coverage[g.region[member], shard.source_channel[source]]
        keep = rng.uniform(key, ctr | np.uint64(2)) < cov
    member, category, codes, source, ctr = member[keep], category[keep], codes[keep], source[keep], ctr[keep]
    rep = np.full(len(member), -1, np.int64) if reporter is None else np.asarray(reporter, np.int64)[keep]
    kind = g.kind[member].astype(np.int8)
    block = (g.cell[member] // 8).astype(np.int64)
    order, rank = _ranks(kind, block, category, codes)
    return {
        "subject": codes[order],
        "category": category[order].astype(np.int16),
        "source": source[order].astype(np.int16),
        "second": (7 * 3600 + rng.uniform(key, ctr[order] | np.uint64(3)) * 15 * 3600).astype(np.int32),
        "value": draw_values(shard.values, category[order], key, ctr[order] | np.uint64(4)),
        "kind": kind[order],
        "block": block[order],
        "k": k0 + rank,
        "member": member[order],
        "reporter": rep[order],
    }


class Arrears:
    """The spiral's second half: a person left without a job has their own daily rate of each
    of ``categories`` multiplied by ``factor``. The extra events are drawn per (person,
    category) and day with probability ``1 - exp(-(factor - 1) * rate)`` (at most one a day;
    the rates are far below one a day) in the ``spiral-arrears`` stream, recorded with the
    coverage of their source's channel, and apply their effects (a judgment default opens an
    enforcement case)."""

    K0 = (1 << 19) + (1 << 18)
    STREAM = "spiral-arrears"

    def __init__(self, *, seed: int, factor: float, categories: list[int]) -> None:
        self.seed, self.factor = seed, float(factor)
        self.categories = np.asarray(categories, np.int64)

    def draw(self, shards: list[Any], located: Located, jobless: NDArray[np.int64], day: int) -> list[dict]:
        """The day's extra records, one dict per shard (``member`` positions are the shard's)."""
        return [self.draw_shard(b, located, s, jobless, day) for s, b in enumerate(shards)]

    def draw_shard(
        self, shard: Any, located: Located, s: int, jobless: NDArray[np.int64], day: int
    ) -> dict[str, NDArray]:
        """The day's extra records of one shard (``located.find(s, ...)`` finds its members):
        what a shard worker computes; ``{}`` when there are none."""
        if not len(jobless) or self.factor <= 1:
            return {}
        key = rng.key(self.seed, self.STREAM, day)
        pos = located.find(s, jobless)
        pos = pos[pos >= 0]
        mem, cat = [], []
        g = shard.group
        for c in self.categories.tolist():
            col = int(shard.col_position[c])
            if col < 0 or not len(pos):
                continue
            rate = g.flat[g.row[pos] + col] / ONE
            p = -np.expm1(-(self.factor - 1.0) * rate)
            ctr = (g.codes[pos].astype(np.uint64) * np.uint64(256) + np.uint64(c)) << np.uint64(3)
            hit = pos[rng.uniform(key, ctr) < p]
            mem.append(hit)
            cat.append(np.full(len(hit), c))
        if not mem or not sum(len(m) for m in mem):
            return {}
        return extra_records(
            shard,
            np.concatenate(mem),
            np.concatenate(cat),
            day,
            self.STREAM,
            self.K0,
            seed=self.seed,
            detect=True,
        )


class Informants:
    """Rewarded reporting: see :class:`socialcredit.simulate.scenario.Informants`.

    Each day each adult files a report with probability ``rate / 365`` (``informants`` stream
    keyed by the reporter's code): a category (uniform among ``categories``), malicious with
    probability ``malicious``; a malicious report names a uniform subject of the category's
    kind in the reporter's block, a true one a subject in proportion to its own rate of the
    category (no one with a positive rate: no report). Review catches a malicious report with
    probability ``caught``. Upheld reports become a record of the category by ``citizen_report``
    (``reported_by`` the reporter) and a ``reward`` record of the reporter; caught ones a
    ``penalty`` record of the reporter. Reports are reviewed the day they are filed."""

    K0 = (1 << 19) + (1 << 17)
    STREAM = "informants"

    def __init__(
        self,
        *,
        seed: int,
        rate: float,
        categories: list[int],
        kinds: list[int],
        malicious: float,
        caught: float,
        reward: int,
        penalty: int,
        report_source: int,
        reporters: NDArray[np.int64],
        blocks: NDArray[np.int64],
    ) -> None:
        self.seed, self.p = seed, rate / 365.0
        self.categories, self.kinds = list(categories), list(kinds)
        self.malicious, self.caught = float(malicious), float(caught)
        self.reward, self.penalty, self.report_source = reward, penalty, report_source
        order = np.argsort(reporters)
        self.reporters, self.blocks = reporters[order], blocks[order]
        self.stats = dict.fromkeys(("reports", "malicious", "caught", "upheld", "false_upheld"), 0)

    def for_shards(self) -> Informants:
        """A copy without the reporters (what a shard worker needs to review its reports)."""
        out = copy.copy(self)
        out.reporters = out.blocks = np.zeros(0, np.int64)
        return out

    def filed(self, day: int) -> dict[str, NDArray]:
        """The reports filed on ``day`` (resets the day's ``stats``): reporter ``who`` and their
        ``block``, the category's index ``which``, whether ``bad`` (malicious), the uniform ``u``
        that picks the subject, whether ``caught`` in review. Each goes to the shard of its
        block (:meth:`draw_shard`)."""
        self.stats = dict.fromkeys(self.stats, 0)
        key = rng.key(self.seed, self.STREAM, day)
        filed = rng.uniform(key, self.reporters, 0) < self.p
        who, blk = self.reporters[filed], self.blocks[filed]
        which = np.minimum(
            (rng.uniform(key, who, 1) * len(self.categories)).astype(np.int64), len(self.categories) - 1
        )
        bad = rng.uniform(key, who, 2) < self.malicious
        u = rng.uniform(key, who, 3)
        caught = bad & (rng.uniform(key, who, 4) < self.caught)
        return {"who": who, "block": blk, "which": which, "bad": bad, "u": u, "caught": caught}

    def draw(self, shards: list[Any], located: Located, day: int) -> list[dict]:
        """The day's records (reports upheld, rewards, penalties), one dict per shard."""
        reports = self.filed(day)
        if not len(reports["who"]):
            return [{} for _ in shards]
        out = []
        for s, b in enumerate(shards):
            lo_b, hi_b = b.blocks_range
            mine = (reports["block"] >= lo_b) & (reports["block"] < hi_b)
            recs, stats = self.draw_shard(b, located, s, {c: v[mine] for c, v in reports.items()}, day)
            for name, n in stats.items():
                self.stats[name] += n
            out.append(recs)
        return out

    def draw_shard(
        self, b: Any, located: Located, s: int, reports: Mapping[str, NDArray], day: int
    ) -> tuple[dict[str, NDArray], dict[str, int]]:
        """The records of one shard's filed ``reports`` (those of its blocks, in filing order)
        and the counts of the review: what a shard worker computes."""
        stats = dict.fromkeys(self.stats, 0)
        who, blk, which = reports["who"], reports["block"], reports["which"]
        bad, u, caught = reports["bad"], reports["u"], reports["caught"]
        g = b.group
        tgt, tcat, trep, own, ocat = [], [], [], [], []
        me = located.find(s, who)
        for i in range(len(who)):
            c = self.categories[int(which[i])]
            cell = int(blk[i]) * 8 + self.kinds[int(which[i])]
            ci = int(np.searchsorted(g.cells, cell))
            if ci >= len(g.cells) or g.cells[ci] != cell:
                continue
            lo, hi = int(g.starts[ci]), int(g.starts[ci + 1])
            if bad[i]:
                m = lo + min(int(u[i] * (hi - lo)), hi - lo - 1)
            else:
                col = int(b.col_position[c])
                if col < 0:
                    continue
                cum = np.cumsum(g.flat[g.row[lo:hi] + col])
                if not len(cum) or cum[-1] <= 0:
                    continue
                m = lo + int(np.searchsorted(cum, np.floor(u[i] * cum[-1]), side="right"))
            if g.codes[m] == who[i] or me[i] < 0:
                continue
            stats["reports"] += 1
            stats["malicious"] += int(bad[i])
            if caught[i]:
                stats["caught"] += 1
                own.append(int(me[i]))
                ocat.append(self.penalty)
                continue
            stats["upheld"] += 1
            stats["false_upheld"] += int(bad[i])
            tgt.append(m)
            tcat.append(c)
            trep.append(int(who[i]))
            own.append(int(me[i]))
            ocat.append(self.reward)
        if not tgt and not own:
            return {}, stats
        reports_ = extra_records(
            b,
            np.asarray(tgt, np.int64),
            np.asarray(tcat, np.int64),
            day,
            self.STREAM,
            self.K0,
            seed=self.seed,
            source=np.full(len(tgt), self.report_source),
            reporter=np.asarray(trep, np.int64),
        )
        rewards = extra_records(
            b,
            np.asarray(own, np.int64),
            np.asarray(ocat, np.int64),
            day,
            self.STREAM + "-review",
            self.K0,
            seed=self.seed,
        )
        return {c: np.concatenate([reports_[c], rewards[c]]) for c in reports_}, stats


def learned(
    rel_subject: NDArray,
    rel_object: NDArray,
    idx: NDArray[np.int64],
    new: NDArray[np.int64],
    disclosed: NDArray[np.bool_],
    channels: list[str],
    reach: Mapping[str, float],
    word_of_mouth: float,
    *,
    seed: int,
    day: int,
) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """Disclosure reach: for the relations at ``idx`` (each with a newly listed person of the
    sorted ``new`` at one end at least), whether the other end learns of the listing, and how
    many learn through each channel. ``disclosed[i, j]``: whether ``new[i]`` is published on
    ``channels[j]``. The contact learns through channel ``j`` with probability ``reach[j]``
    (``disclosure`` stream keyed by relation position and channel), and by word of mouth with
    probability ``word_of_mouth``.

    >>> ok, n = learned(np.array([0]), np.array([1]), np.array([0]), np.array([0]),
    ...                 np.array([[True]]), ["disclose.credit_website"],
    ...                 {"disclose.credit_website": 1.0}, 0.0, seed=1, day=0)
    >>> ok.tolist(), n
    ([True], {'disclose.credit_website': 1, 'word_of_mouth': 0})
    """
    from socialcredit.vocabulary import vocabulary

    order = list(vocabulary().channels)
    key = rng.key(seed, "disclosure", day)
    n = len(idx)
    on = np.zeros((n, len(channels)), bool)
    for end in (rel_subject[idx], rel_object[idx]):
        i = np.minimum(np.searchsorted(new, end), max(len(new) - 1, 0))
        hit = (new[i] == end) if len(new) else np.zeros(n, bool)
        on[hit] |= disclosed[i[hit]]
    ctr = np.asarray(idx, np.uint64) * np.uint64(64)
    out = rng.uniform(key, ctr | np.uint64(63)) < word_of_mouth
    counts = {}
    for j, ch in enumerate(channels):
        p = float(reach.get(ch, 0.0))
        if p <= 0:
            continue
        got = on[:, j] & (rng.uniform(key, ctr | np.uint64(order.index(ch))) < p)
        counts[ch] = int(got.sum())
        out |= got
    counts["word_of_mouth"] = int((rng.uniform(key, ctr | np.uint64(63)) < word_of_mouth).sum())
    return out, counts
