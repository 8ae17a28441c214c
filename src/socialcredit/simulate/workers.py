"""The shard worker: one shard's behaviour model and its state, behind the calls the day loop makes.

:class:`SocialCreditModel` (the coordinator) holds the registry, the relations, the records and
the rulebook engines; a :class:`ShardWorker` holds one shard — its
:class:`~socialcredit.society.behaviour.BehaviourModel` (its subjects' classes, rate tables and
open enforcement cases) and where each of its subject codes sits (for the loops that add records
of named subjects). The coordinator calls, per day:

1. :meth:`ShardWorker.draw` → the shard's drawn records and attempts (a ``DayDraws``: dicts of
   numpy columns) — the coordinator thins them (deterrence), merges all shards' records in
   canonical order and decides the attempts on the published state;
2. :meth:`ShardWorker.settle` ← which drawn records were kept (a boolean mask, or ``None``), the
   partners defaulting today, the jobless and the reports filed in the shard's blocks (arrays of
   subject codes and draws) → the records the loops add in the shard (partner defaults, the
   jobless' arrears, upheld reports with rewards and penalties), their counts and the shard's
   open cases, with every effect applied in the shard.

Rarely: :meth:`set_scale` (chilling, interventions), :meth:`set_coverage` (interventions), and
once the history (:meth:`history_weights`, :meth:`history_draw`, :meth:`apply`). Everything that
crosses is numpy arrays and small dicts, so a backend (:mod:`socialcredit.simulate.backends`)
may call the workers in-process or as Ray actors: the results are the same bytes.

Example:
    >>> from socialcredit.simulate.scenario import load_scenario
    >>> from socialcredit.simulate.model import SocialCreditModel
    >>> m = SocialCreditModel(load_scenario("classroom", size=300, days=2))
    >>> w = m.workers[0]
    >>> d = w.draw(m.day)
    >>> out = w.settle(m.day, None)
    >>> sorted(out), out["open_cases"]["person"] >= 0
    (['arrears', 'informants', 'open_cases', 'partner_defaults', 'records'], True)
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from socialcredit.simulate.feedback import Arrears, Informants, Located, extra_records
from socialcredit.society import rng
from socialcredit.society.behaviour import KINDS, BehaviourModel, DayDraws, draw_values

__all__ = ["ShardWorker"]

_EMPTY = np.zeros(0, np.int64)


class ShardWorker:
    """One shard (see the module docstring).

    Args:
        population: the population (under Ray, shipped once through the object store).
        behaviour: the behaviour parameters.
        seed: the run's seed.
        index: the shard's number.
        blocks: the shard's ``(first, last + 1)`` block.
        coverage: the coverage table (see :func:`~socialcredit.society.behaviour.coverage_table`).
        scale: rate multipliers per category or action name.
        arrears: the spiral's :class:`Arrears` (``None`` when off).
        informants: the informants loop without its reporters (:meth:`Informants.for_shards`).
        default_category: the category of partners' defaults (spiral), or ``None``.
    """

    def __init__(
        self,
        population: Any,
        behaviour: Any,
        *,
        seed: int,
        index: int,
        blocks: tuple[int, int],
        coverage: tuple[list[int], NDArray[np.float64]],
        scale: dict[str, float],
        arrears: Arrears | None = None,
        informants: Informants | None = None,
        default_category: int | None = None,
    ) -> None:
        self.seed, self.index, self.blocks = seed, index, blocks
        self.model = BehaviourModel(
            population,
            behaviour,
            seed=seed,
            coverage=coverage,
            blocks=blocks,
            scale=scale,
            with_governments=index == 0,
        )
        self.arrears, self.informants, self.default_category = arrears, informants, default_category
        loops = arrears is not None or informants is not None or default_category is not None
        self.located = Located([self.model]) if loops else None
        self._drawn: dict[str, NDArray] | None = None

    # -- the day --------------------------------------------------------------------------------
    def draw(self, day: int) -> DayDraws:
        """The shard's events and attempts of ``day``, without the ``member`` positions (which
        only the shard needs); the records are kept until :meth:`settle`."""
        d = self.model.draw(day)
        self._drawn = d.records
        return DayDraws(
            {c: v for c, v in d.records.items() if c != "member"},
            {c: v for c, v in d.attempts.items() if c != "member"},
            d.events,
        )

    def settle(
        self,
        day: int,
        keep: NDArray[np.bool_] | None,
        partners: NDArray[np.int64] = _EMPTY,
        jobless: NDArray[np.int64] = _EMPTY,
        reports: dict[str, NDArray] | None = None,
    ) -> dict[str, Any]:
        """Apply the kept drawn records (``keep``: mask over the drawn records, ``None`` for all),
        then make and apply the loops' records of the day: defaults of ``partners`` (codes),
        arrears of the ``jobless`` (codes), the filed ``reports`` of the shard's blocks. Returns
        ``records`` (the loops' record dicts, in order), the counts ``partner_defaults``,
        ``arrears``, ``informants`` (review counts) and ``open_cases`` per kind."""
        drawn = self._drawn if self._drawn is not None else {}
        self._drawn = None
        if keep is not None:
            drawn = {c: v[keep] for c, v in drawn.items()}
        if drawn:
            self.model.apply(drawn)
        out: list[dict[str, NDArray]] = []
        n_partner = n_arrears = 0
        stats: dict[str, int] = {}
        if len(partners) and self.located is not None:
            pos = self.located.find(0, partners)
            pos = pos[pos >= 0]
            if len(pos):
                assert self.default_category is not None
                out.append(
                    extra_records(
                        self.model,
                        pos,
                        np.full(len(pos), self.default_category),
                        day,
                        "spiral-partner",
                        Arrears.K0 + (1 << 17),
                        seed=self.seed,
                    )
                )
                n_partner = len(pos)
        if self.arrears is not None and len(jobless) and self.located is not None:
            recs = self.arrears.draw_shard(self.model, self.located, 0, jobless, day)
            if recs:
                out.append(recs)
                n_arrears = len(recs["subject"])
        if self.informants is not None and reports is not None and self.located is not None:
            recs, stats = self.informants.draw_shard(self.model, self.located, 0, reports, day)
            if recs:
                out.append(recs)
        for recs in out:
            self.model.apply(recs)
        return {
            "records": out,
            "partner_defaults": n_partner,
            "arrears": n_arrears,
            "informants": stats,
            "open_cases": self.open_cases_all(),
        }

    # -- settings ---------------------------------------------------------------------------------
    def set_scale(self, scale: dict[str, float]) -> None:
        """New rate multipliers per category or action (chilling, interventions)."""
        self.model.set_scale(scale)

    def set_coverage(self, coverage: tuple[list[int], NDArray[np.float64]]) -> None:
        """New coverage per region row and channel (interventions)."""
        self.model.set_coverage(coverage)

    def apply(self, records: dict[str, NDArray]) -> None:
        """Apply the effects of records of the shard's subjects (the history's)."""
        self.model.apply(records)

    def open_cases(self, kind: str = "person") -> int:
        """Open enforcement cases of ``kind`` in the shard."""
        return self.model.open_cases(kind)

    def open_cases_all(self) -> dict[str, int]:
        """Open enforcement cases of persons and organisations in the shard."""
        return {k: self.model.open_cases(k) for k in ("person", "organisation")}

    # -- history ----------------------------------------------------------------------------------
    def history_weights(self, entries: list[tuple[str, str]]) -> list[tuple[int, int]]:
        """For each ``(kind, category)``: the sum of the shard's weights and how many are positive."""
        out = []
        for kind, category in entries:
            w = self.model.weights(kind, category)
            out.append((int(w.sum()), int((w > 0).sum())))
        return out

    def history_draw(
        self,
        e: int,
        kind: str,
        category: int,
        share: float,
        window: tuple[int, int],
        total: int,
        count: int,
    ) -> dict[str, NDArray] | None:
        """The shard's history records of entry ``e`` (``share`` of the subjects of ``kind``,
        in proportion to their weights, with ``total`` and ``count`` over all shards), dated
        uniformly in ``window`` (inclusive days); ``None`` when none."""
        b = self.model
        w = b.weights(kind, b.categories[category])
        g = b.members(kind)
        key = rng.key(self.seed, "history", e)
        p = share * w.astype(float) * count / total
        chosen = np.flatnonzero(rng.uniform(key, g.keys, 0) < p)
        if not len(chosen):
            return None
        lo, hi = window
        keys = g.keys[chosen]
        day = lo + np.floor(rng.uniform(key, keys, 1) * (hi - lo + 1)).astype(np.int64)
        srcs = b.cat_sources[category]
        return {
            "subject": g.codes[chosen],
            "category": np.full(len(chosen), category, np.int16),
            "source": srcs[
                np.minimum((rng.uniform(key, keys, 2) * len(srcs)).astype(int), len(srcs) - 1)
            ].astype(np.int16),
            "second": (7 * 3600 + rng.uniform(key, keys, 3) * 15 * 3600).astype(np.int32),
            "value": draw_values(
                b.values,
                np.full(len(chosen), category),
                key,
                keys.astype(np.uint64) * np.uint64(8) + np.uint64(4),
            ),
            "kind": np.full(len(chosen), KINDS.index(kind), np.int8),
            "block": keys,
            "k": np.full(len(chosen), e, np.int64),
            "member": g.position[chosen],
            "day": day,
            "shard": np.full(len(chosen), self.index),
        }

    def where(self) -> dict[str, Any]:
        """Where the worker runs: shard, host, process id and Ray node (``None`` outside Ray)."""
        node = None
        try:
            import ray

            if ray.is_initialized():
                node = ray.get_runtime_context().get_node_id()
        except ImportError:  # pragma: no cover - depends on the install
            pass
        return {"shard": self.index, "host": socket.gethostname(), "pid": os.getpid(), "node": node}

    def cpu_seconds(self) -> float:
        """CPU seconds of the worker's process so far (for benchmarks)."""
        return time.process_time()

    # -- size ---------------------------------------------------------------------------------------
    def state_bytes(self) -> dict[str, int]:
        """Bytes of the shard's state arrays: ``subjects`` (one entry per subject: codes, keys,
        classes, cells, regions...) and ``tables`` (rate tables and per-cell rates, which do not
        grow with the subjects)."""
        g = self.model.group
        n = len(g.codes)
        arrays = [v for v in vars(g).values() if isinstance(v, np.ndarray)]
        per = sum(v.nbytes for v in arrays if v.ndim == 1 and len(v) == n)
        return {"subjects": int(per), "tables": int(sum(v.nbytes for v in arrays) - per)}
