"""The counter-based generator of :mod:`socialcredit.society.rng`, compiled for per-element loops.

:mod:`~socialcredit.society.rng` works on numpy arrays; the streamed national run
(:mod:`socialcredit.simulate.national`) and the compact population generator
(:mod:`socialcredit.society.compact`) draw one number at a time inside ``numba`` loops. These
functions give bit-for-bit the same numbers: ``bits(fold(k, a), b) == rng.bits(k, a, b)``.

Example:
    >>> from socialcredit.society import rng
    >>> k = rng.key(7, "demo")
    >>> float(uniform(fold(k, 3), 5)) == float(rng.uniform(k, 3, 5))
    True
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["bits", "fold", "mix", "uniform"]

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_C1, _C2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0


@nb.njit(inline="always", cache=True)
def mix(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser."""
    z = z ^ (z >> np.uint64(30))
    z = z * _C1
    z = z ^ (z >> np.uint64(27))
    z = z * _C2
    return z ^ (z >> np.uint64(31))


@nb.njit(inline="always", cache=True)
def fold(k: np.uint64, c: np.int64) -> np.uint64:
    """Narrow key ``k`` by counter ``c`` (what ``rng.bits`` does to all counters but the last)."""
    return mix(np.uint64(k) + np.uint64(c) * _GAMMA)


@nb.njit(inline="always", cache=True)
def bits(k: np.uint64, c: np.int64) -> np.uint64:
    """64 random bits for the last counter ``c`` under (folded) key ``k``."""
    return mix(np.uint64(c) * _GAMMA + np.uint64(k))


@nb.njit(inline="always", cache=True)
def uniform(k: np.uint64, c: np.int64) -> float:
    """A uniform float in ``[0, 1)`` (53 bits), as ``rng.uniform``."""
    return np.float64(bits(k, c) >> np.uint64(11)) * _INV53
