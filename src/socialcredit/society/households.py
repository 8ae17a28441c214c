"""Households inside neighbourhood blocks: spouses matched by age rank, children to mothers.

Everything here works on one shard's persons at once, but every match stays inside a block of
``block_size`` consecutive person indices, so the result does not depend on how blocks are
grouped into shards.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from socialcredit.society import rng

__all__ = ["match_parents", "match_spouses"]


def _ranks(block: NDArray[np.int64], order: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
    """For items sorted by ``order`` (grouped by block): rank in block and block size."""
    b = block[order]
    first = np.r_[True, b[1:] != b[:-1]] if len(b) else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    sizes = np.diff(np.r_[starts, len(b)])
    group = np.cumsum(first) - 1
    rank = np.arange(len(b)) - starts[group]
    return rank, sizes[group]


def match_spouses(
    block: NDArray[np.int64], birth: NDArray[np.int64], male: NDArray[np.bool_], married: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """The position of each person's spouse (-1: none).

    In each block, married men and married women are each sorted by birth date; the smaller
    group's ``j``-th member marries the larger group's member at the same age quantile, so ages
    match closely and nobody marries twice.
    """
    n = len(block)
    spouse = np.full(n, -1, np.int64)
    men = np.flatnonzero(married & male)
    women = np.flatnonzero(married & ~male)
    if not len(men) or not len(women):
        return spouse
    m_order = men[np.lexsort((birth[men], block[men]))]
    w_order = women[np.lexsort((birth[women], block[women]))]
    m_rank, m_size = _ranks(block, m_order)
    w_rank, w_size = _ranks(block, w_order)
    m_blocks, m_first = np.unique(block[m_order], return_index=True)
    w_blocks, w_first = np.unique(block[w_order], return_index=True)
    m_count = np.diff(np.r_[m_first, len(m_order)])
    w_count = np.diff(np.r_[w_first, len(w_order)])

    def other_side(order, rank, size, blocks_other, first_other, count_other, other_order, ties):
        b = block[order]
        pos = np.searchsorted(blocks_other, b)
        pos_c = np.minimum(pos, len(blocks_other) - 1)
        has = (pos < len(blocks_other)) & (blocks_other[pos_c] == b)
        n_other = np.where(has, count_other[pos_c], 0)
        smaller = has & ((size < n_other) | ((size == n_other) & ties))
        target = np.floor((rank + 0.5) * n_other / np.maximum(size, 1)).astype(np.int64)
        who = np.flatnonzero(smaller)
        return order[who], other_order[first_other[pos_c[who]] + target[who]]

    a, b = other_side(m_order, m_rank, m_size, w_blocks, w_first, w_count, w_order, True)
    c, d = other_side(w_order, w_rank, w_size, m_blocks, m_first, m_count, m_order, False)
    for x, y in ((a, b), (c, d)):
        spouse[x] = y
        spouse[y] = x
    return spouse


def match_parents(
    block: NDArray[np.int64],
    birth: NDArray[np.int64],
    male: NDArray[np.bool_],
    spouse: NDArray[np.int64],
    wants: NDArray[np.bool_],
    index: NDArray[np.int64],
    *,
    seed: int,
    gap: tuple[float, float],
    limits: tuple[float, float],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Positions of each person's mother and father (-1: none).

    A person who ``wants`` parents gets the married woman of the block whose birth date is
    nearest to their own minus a gap drawn uniformly from ``gap`` years; the match stands when
    the real gap lies within ``limits``. The father is her spouse, when he too is old enough.
    """
    n = len(block)
    mother = np.full(n, -1, np.int64)
    father = np.full(n, -1, np.int64)
    wives = np.flatnonzero(~male & (spouse >= 0))
    kids = np.flatnonzero(wants)
    if not len(wives) or not len(kids):
        return mother, father
    w_order = wives[np.lexsort((birth[wives], block[wives]))]
    w_block, w_birth = block[w_order], birth[w_order]
    u = rng.uniform(rng.key(seed, "population/mother-gap"), index[kids])
    target = birth[kids] - ((gap[0] + u * (gap[1] - gap[0])) * 365.25).astype(np.int64)
    k_block = block[kids]
    # Search the composite key (block, birth): births fit in 32 bits of days.
    off = np.int64(1 << 32)
    w_key = w_block * off + (w_birth + (1 << 31))
    k_key = k_block * off + (target + (1 << 31))
    pos = np.searchsorted(w_key, k_key)
    best = np.full(len(kids), -1, np.int64)
    best_dist = np.full(len(kids), np.iinfo(np.int64).max)
    for cand in (pos - 1, pos):
        ok = (cand >= 0) & (cand < len(w_order))
        c = np.where(ok, cand, 0)
        ok &= w_block[c] == k_block
        dist = np.abs(w_birth[c] - target)
        better = ok & (dist < best_dist)
        best = np.where(better, c, best)
        best_dist = np.where(better, dist, best_dist)
    has = best >= 0
    m = np.where(has, w_order[np.maximum(best, 0)], -1)
    years = (birth[kids] - birth[np.maximum(m, 0)]) / 365.25
    has &= (years >= limits[0]) & (years <= limits[1]) & (m != kids)
    mother[kids[has]] = m[has]
    f = spouse[m[has]]
    f_years = (birth[kids[has]] - birth[f]) / 365.25
    father[kids[has]] = np.where((f_years >= limits[0]) & (f_years <= limits[1] + 15), f, -1)
    return mother, father
