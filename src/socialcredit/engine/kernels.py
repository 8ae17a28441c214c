"""Column kernels shared by the scores and the lists: grouping sorts, ranks and windows.

Everything works on whole arrays; a "group" is a run of equal keys in a sorted array.

Example:
    >>> import numpy as np
    >>> order = sort_by(np.array([2, 1, 2]), np.array([5, 9, 4]))
    >>> order.tolist()
    [1, 2, 0]
    >>> rank_in_runs(np.array([1, 2, 2, 2])).tolist()
    [0, 0, 1, 2]
"""

from __future__ import annotations

import numpy as np

from socialcredit.engine.dates import add_duration
from socialcredit.rulebooks._common import Duration


def _bits(n: int) -> int:
    return max(int(n).bit_length(), 1)


def sort_by(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The order that sorts by ``(group, day, position)``: a stable sort on two keys.

    Packs both keys and the position into one ``int64`` when they fit (a plain sort is several
    times faster than an argsort), else falls back to ``lexsort``.
    """
    n = len(group)
    if n == 0:
        return np.zeros(0, np.int64)
    g = np.asarray(group, np.int64)
    d = np.asarray(day, np.int64)
    gmin, dmin = int(g.min()), int(d.min())
    bg, bd, bp = _bits(int(g.max()) - gmin), _bits(int(d.max()) - dmin), _bits(n - 1)
    if bg + bd + bp <= 63:
        key = (g - gmin) << (bd + bp)
        key |= (d - dmin) << bp
        key |= np.arange(n, dtype=np.int64)
        key.sort()
        return key & ((1 << bp) - 1)
    return np.lexsort((np.arange(n), d, g))


def run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal keys."""
    first = np.ones(len(sorted_keys), bool)
    if len(sorted_keys) > 1:
        first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return first


def rank_in_runs(sorted_keys: np.ndarray) -> np.ndarray:
    """0-based position of each element inside its run of equal keys."""
    n = len(sorted_keys)
    idx = np.arange(n, dtype=np.int64)
    start = np.maximum.accumulate(np.where(run_starts(sorted_keys), idx, 0)) if n else idx
    return idx - start


def cumsum_in_runs(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Inclusive running sum of ``values`` inside each run of equal keys."""
    if not len(values):
        return np.zeros(0)
    c = np.cumsum(values, dtype=np.float64)
    start = np.maximum.accumulate(np.where(run_starts(sorted_keys), np.arange(len(c)), 0))
    return c - (c[start] - values[start])


def window_rank(sorted_group: np.ndarray, sorted_day: np.ndarray, window: Duration | None) -> np.ndarray:
    """1-based rank of each event among the events of its group inside the window that ends on
    it: events ``j <= i`` of the group with ``day_j + window > day_i`` (no window: all)."""
    if window is None or not len(sorted_group):
        return rank_in_runs(sorted_group) + 1
    g = np.asarray(sorted_group, np.int64)
    d = np.asarray(sorted_day, np.int64)
    end = add_duration(d, window)
    lo = int(d.min())
    span = int(max(end.max(), d.max())) - lo + 2
    # inside a group ``end`` never decreases, so one searchsorted finds each window's start
    keys_end = (g - g.min()) * span + (end - lo)
    keys_day = (g - g.min()) * span + (d - lo)
    first = np.searchsorted(keys_end, keys_day, side="right")
    return np.arange(len(g)) - first + 1


def piecewise(
    x: np.ndarray, brackets: tuple[tuple[float, float, float], ...], rate: float, step: float
) -> np.ndarray:
    """Points earned by a cumulative value ``x`` under declining-return brackets: ``rate`` per
    ``step`` up to the first bracket's ``above``, then each bracket's own terms."""
    edges = [0.0] + [b[0] for b in brackets] + [np.inf]
    rates = [rate / step] + [b[1] / b[2] for b in brackets]
    out = np.zeros(len(x))
    for k, r in enumerate(rates):
        out += r * np.clip(x - edges[k], 0.0, edges[k + 1] - edges[k])
    return out


def ends(rel_subject: np.ndarray, rel_object: np.ndarray, to: str) -> tuple[np.ndarray, np.ndarray]:
    """``(from, to)`` subject codes of relations read in direction ``to``."""
    if to == "subject":
        return rel_object, rel_subject
    if to == "object":
        return rel_subject, rel_object
    return np.concatenate([rel_subject, rel_object]), np.concatenate([rel_object, rel_subject])
