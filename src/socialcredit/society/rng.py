"""A counter-based random generator: every number is a pure function of its key.

A draw is addressed by ``(seed, stream, *counters)`` — for example ``(seed, "age", person)`` or
``(seed, "events/traffic.ticket", day, block, k)`` — and hashed to 64 bits by chained SplitMix64
finalisers (each a bijection on 64-bit integers). Nothing is stateful, so any shard can draw its
own numbers without knowing how the population is split, and the same key gives the same number
on any machine, in any order, with any numpy version.

Streams are named by strings; :func:`stream` turns a name into a 64-bit word with BLAKE2b, so
adding a stream never shifts the numbers of another.

Example:
    >>> import numpy as np
    >>> k = key(7, "age")
    >>> u = uniform(k, np.arange(3))
    >>> bool(np.all((0 <= u) & (u < 1))), bool(np.array_equal(u, uniform(k, np.arange(3))))
    (True, True)
    >>> float(uniform(k, np.arange(3))[1]) == float(uniform(k, np.array([1]))[0])
    True
    >>> poisson(np.array([0.5, 50.0]), key(7, "n"), np.arange(2)).tolist()  # doctest: +SKIP
    [0, 47]
"""

from __future__ import annotations

import hashlib
import math
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "bits",
    "choice",
    "key",
    "normal",
    "poisson",
    "poisson_inversion",
    "stream",
    "uniform",
    "uniform_pair",
]

_M64 = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15  # golden-ratio increment of SplitMix64
_C1, _C2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
SPLIT = 10.0  # inversion below, transformed rejection (PTRS, valid from 10) above
_SPLIT = SPLIT
_U_GAMMA, _U_C1, _U_C2 = np.uint64(_GAMMA), np.uint64(_C1), np.uint64(_C2)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def _mix(z: int) -> int:
    z = (z ^ (z >> 30)) * _C1 & _M64
    z = (z ^ (z >> 27)) * _C2 & _M64
    return z ^ (z >> 31)


def _mix_np(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = z ^ (z >> _S30)
    z *= _U_C1
    z ^= z >> _S27
    z *= _U_C2
    z ^= z >> _S31
    return z


@cache
def stream(name: str) -> int:
    """A stable 64-bit word for a stream name (BLAKE2b of its UTF-8 text)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def key(seed: int, name: str, *words: int) -> int:
    """The 64-bit key of stream ``name`` under ``seed``, optionally narrowed by integer words.

    Example:
        >>> key(1, "age") == key(1, "age") != key(2, "age")
        True
    """
    z = _mix((int(seed) & _M64) ^ stream(name))
    for w in words:
        z = _mix((z + (int(w) & _M64) * _GAMMA) & _M64)
    return z


def bits(k: int, *counters: ArrayLike) -> NDArray[np.uint64]:
    """64 random bits per element of the (broadcast) counter arrays, under key ``k``.

    Leading scalar counters are folded into the key in Python (the same result, less work).
    """
    k = int(k)
    cs = list(counters)
    while cs and np.ndim(cs[0]) == 0:
        k = _mix((k + (int(cs.pop(0)) & _M64) * _GAMMA) & _M64)
    if not cs:
        return np.array(k, dtype=np.uint64)
    arrays = [np.asarray(c).astype(np.uint64, copy=False) for c in cs]
    with np.errstate(over="ignore"):
        z = _mix_np(arrays[0] * _U_GAMMA + np.uint64(k))
        for c in arrays[1:]:
            z = _mix_np(z + c * _U_GAMMA)
    if len(arrays) > 1 and z.shape != np.broadcast_shapes(*[a.shape for a in arrays]):
        z = np.broadcast_to(z, np.broadcast_shapes(*[a.shape for a in arrays])).copy()
    return z


def uniform(k: int, *counters: ArrayLike) -> NDArray[np.float64]:
    """Uniform floats in ``[0, 1)`` (53 bits), one per element of the counters."""
    return (bits(k, *counters) >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


def uniform_pair(k: int, *counters: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two uniforms in ``[0, 1)`` with 32 bits each, from one 64-bit draw."""
    z = bits(k, *counters)
    return (
        (z >> np.uint64(32)).astype(np.float64) * 2.0**-32,
        (z & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32,
    )


def normal(k: int, *counters: ArrayLike) -> NDArray[np.float64]:
    """Standard normal variates (Box–Muller on the two halves of one 64-bit draw)."""
    u1, u2 = uniform_pair(k, *counters)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def choice(k: int, cdf: NDArray[np.float64], *counters: ArrayLike) -> NDArray[np.int64]:
    """Indices drawn from a discrete distribution given by its cumulative weights ``cdf``."""
    u = uniform(k, *counters) * cdf[-1]
    return np.searchsorted(cdf, u, side="right").astype(np.int64)


@cache
def _log_factorials(n: int = 256) -> NDArray[np.float64]:
    return np.array([math.lgamma(i + 1.0) for i in range(n)])


def _log_factorial(k: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log(k!)``: a table below 256, Stirling's series above (error below 1e-12)."""
    table = _log_factorials()
    small = k < len(table)
    out = np.empty_like(k)
    out[small] = table[k[small].astype(np.int64)]
    x = k[~small] + 1.0
    out[~small] = (x - 0.5) * np.log(x) - x + 0.5 * math.log(2 * math.pi) + 1 / (12 * x) - 1 / (360 * x**3)
    return out


def poisson(lam: ArrayLike, k: int, *counters: ArrayLike) -> NDArray[np.int64]:
    """Poisson variates with means ``lam``, one per element, addressed by the counters.

    Means below 10 use inversion of one uniform; larger ones Hörmann's transformed rejection
    (PTRS), whose attempts are numbered as an extra counter, so the result stays a pure function
    of the key whatever the other elements are.
    """
    arrays = np.broadcast_arrays(np.asarray(lam, dtype=np.float64), *[np.asarray(c) for c in counters])
    shape = arrays[0].shape
    flat = arrays[0].ravel()
    cs = [c.ravel() for c in arrays[1:]]
    res = np.zeros(flat.shape, dtype=np.int64)
    small = np.flatnonzero((flat > 0) & (flat < _SPLIT))
    if small.size:
        res[small] = _inversion(flat[small], uniform(k, *[c[small] for c in cs], 0))
    large = np.flatnonzero(flat >= _SPLIT)
    if large.size:
        res[large] = _ptrs(flat[large], k, [c[large] for c in cs])
    return res.reshape(shape)


def poisson_inversion(
    lam: NDArray[np.float64], u: NDArray[np.float64], exp_neg: NDArray[np.float64] | None = None
) -> NDArray[np.int64]:
    """Poisson variates by inversion of given uniforms ``u`` (means below :data:`SPLIT`);
    ``exp_neg`` may pass ``exp(-lam)`` when it is known already."""
    return _inversion(lam, u, exp_neg)


def _inversion(
    lam: NDArray[np.float64], u: NDArray[np.float64], exp_neg: NDArray[np.float64] | None = None
) -> NDArray[np.int64]:
    n = np.zeros(lam.shape, dtype=np.int64)
    active = np.flatnonzero(u > (np.exp(-lam) if exp_neg is None else exp_neg))
    if not active.size:
        return n
    # continue only where the first step did not settle it (most means are tiny)
    lam_a = lam[active]
    p = np.exp(-lam_a) if exp_neg is None else exp_neg[active].copy()
    cdf = p.copy()
    u_a = u[active]
    out = np.zeros(active.size, dtype=np.int64)
    act = np.arange(active.size)
    i = 0
    while act.size:
        i += 1
        p[act] *= lam_a[act] / i
        cdf[act] += p[act]
        out[act] = i
        still = u_a[act] > cdf[act]
        # Round-off can leave the cdf a hair below u deep in the tail: stop there.
        act = act[still & (p[act] > 1e-300)]
    n[active] = out
    return n


def _ptrs(lam: NDArray[np.float64], k: int, counters: list[NDArray]) -> NDArray[np.int64]:
    slam, loglam = np.sqrt(lam), np.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    out = np.full(lam.shape, -1, dtype=np.int64)
    todo = np.arange(lam.size)
    attempt = 1
    while todo.size:
        cs = [c[todo] for c in counters]
        uu = uniform(k, *cs, 2 * attempt) - 0.5
        v = uniform(k, *cs, 2 * attempt + 1)
        us = 0.5 - np.abs(uu)
        kk = np.floor((2 * a[todo] / us + b[todo]) * uu + lam[todo] + 0.43)
        quick = (us >= 0.07) & (v <= vr[todo])
        bad = (kk < 0) | ((us < 0.013) & (v > us))
        with np.errstate(divide="ignore", invalid="ignore"):
            lhs = np.log(v) + np.log(invalpha[todo]) - np.log(a[todo] / (us * us) + b[todo])
            rhs = -lam[todo] + kk * loglam[todo] - _log_factorial(np.maximum(kk, 0))
        ok = quick | (~bad & (lhs <= rhs))
        out[todo[ok]] = kk[ok].astype(np.int64)
        todo = todo[~ok]
        attempt += 1
    return out
