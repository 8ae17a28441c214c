"""The friendship graph: heavy-tailed degrees, clustering from locality, generated on demand.

Person ``i``'s out-ties are a pure function of ``(seed, i)``: their number is Pareto-distributed
(exponent ``alpha`` from ``min``, capped), and each tie goes, with probability ``local``, to a
person at a geometric distance (mean ``scale``) in index order inside ``i``'s neighbourhood
block — neighbours of neighbours are then often neighbours, which gives clustering — and
otherwise to anyone in the population. Ties are undirected: ``(min, max)`` pairs, duplicates
merged.

Storage: out-ties can be regenerated for any person without the rest of the graph
(:func:`out_ties`); a shard stores only the ties its persons start, as two ``int64`` columns,
and the merged edge list (sorted, unique) is what the registry writes. At national scale the
graph never needs to be held whole: ties can be regenerated shard by shard and a person's
in-ties found by scanning, or stored as a sorted edge list on disk (see docs/simulate.md).

Example:
    >>> a, b = out_ties(1, np.arange(100), size=100, block_size=64,
    ...                 params={"alpha": 2.5, "min": 1, "cap": 20, "local": 0.85, "scale": 4})
    >>> bool(np.all(a != b)) and len(a) >= 100
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from socialcredit.society import rng

__all__ = ["clustering", "degrees", "out_ties", "undirected"]


def out_ties(
    seed: int, persons: NDArray[np.int64], *, size: int, block_size: int, params: Mapping[str, Any]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The ties that ``persons`` start: ``(source, target)`` index arrays (no self-ties)."""
    persons = np.asarray(persons, np.int64)
    alpha, lo, cap = float(params["alpha"]), int(params["min"]), int(params["cap"])
    u = rng.uniform(rng.key(seed, "graph/degree"), persons)
    deg = np.minimum(np.floor(lo * (1.0 - u) ** (-1.0 / (alpha - 1.0))), cap).astype(np.int64)
    src = np.repeat(persons, deg)
    first = np.cumsum(deg) - deg
    k = np.arange(len(src)) - np.repeat(first, deg)
    kind = rng.uniform(rng.key(seed, "graph/local"), src, k)
    local = kind < float(params["local"])
    # Local: a geometric distance (mean `scale`), either side, wrapped inside the block.
    start = (src // block_size) * block_size
    width = np.minimum(start + block_size, size) - start
    dist = 1 + np.floor(
        -np.log1p(-rng.uniform(rng.key(seed, "graph/distance"), src, k)) * float(params["scale"])
    ).astype(np.int64)
    side = np.where(rng.uniform(rng.key(seed, "graph/side"), src, k) < 0.5, -1, 1)
    near = start + np.mod(src - start + side * dist, np.maximum(width, 1))
    far = np.floor(rng.uniform(rng.key(seed, "graph/far"), src, k) * size).astype(np.int64)
    dst = np.where(local, near, far)
    keep = dst != src
    return src[keep], dst[keep]


def undirected(
    src: NDArray[np.int64], dst: NDArray[np.int64], size: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Ties as sorted unique ``(min, max)`` pairs."""
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    key = np.unique(a * np.int64(size) + b)
    return key // size, key % size


def degrees(a: NDArray[np.int64], b: NDArray[np.int64], size: int) -> NDArray[np.int64]:
    """Each person's number of friends."""
    return np.bincount(a, minlength=size) + np.bincount(b, minlength=size)


def clustering(
    a: NDArray[np.int64], b: NDArray[np.int64], size: int, *, sample: int = 2000, seed: int = 0
) -> float:
    """Average local clustering coefficient over a sample of persons with two friends or more
    (a check for tests and docs, not used by the model)."""
    order = np.argsort(np.r_[a, b], kind="stable")
    nbr = np.r_[b, a][order]
    start = np.searchsorted(np.r_[a, b][order], np.arange(size + 1))
    deg = np.diff(start)
    cand = np.flatnonzero(deg >= 2)
    if not len(cand):
        return 0.0
    pick = cand[np.argsort(rng.uniform(rng.key(seed, "graph/clustering"), cand))[:sample]]
    edges = set(zip(a.tolist(), b.tolist(), strict=True))
    total = 0.0
    for v in pick.tolist():
        ns = nbr[start[v] : start[v + 1]].tolist()
        links = sum((min(x, y), max(x, y)) in edges for i, x in enumerate(ns) for y in ns[i + 1 :])
        total += links / (len(ns) * (len(ns) - 1) / 2)
    return total / len(pick)
