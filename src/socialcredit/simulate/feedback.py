"""Feedback loops: how the system's own outputs change behaviour (simulator part 2).

Every loop is switchable in the scenario's ``feedback`` block and off by default; see
docs/simulate.md ("Feedback") for the equations and which parameters are assumed.

* **Deterrence** — a penalty (a recorded trust-breaking record of a person; with
  ``on_listing`` also a new listing, which deters every category) lowers that person's rate of
  the penalised category by ``factor`` for ``days`` days. Implemented by exact
  thinning of the day's events: an event of a deterred (person, category) is kept with
  probability ``factor`` (uniform keyed by the event's id in the ``deterrence`` stream), so the
  result does not depend on the number of shards.
* **Chilling** — with ``L`` the share of persons on any list at the last published evaluation
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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from socialcredit.society import rng
from socialcredit.society.behaviour import KINDS, event_ids

__all__ = ["Avoidance", "Chilling", "Deterrence", "Gaming", "listed", "listed_share"]

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


def listed(ev: Any, person_codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """The ``person_codes`` on any list of the evaluation ``ev`` (sorted)."""
    parts = [m.subjects for r in ev.results for m in r.members.values() if len(m.subjects)] if ev else []
    if not parts:
        return np.zeros(0, np.int64)
    return np.intersect1d(person_codes, np.concatenate(parts).astype(np.int64))


def listed_share(ev: Any, person_codes: NDArray[np.int64]) -> float:
    """Share of ``person_codes`` on any list of the evaluation ``ev``."""
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
