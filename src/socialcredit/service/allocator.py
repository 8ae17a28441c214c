"""Allocators that give memory back: the service's memory stays flat under sustained writes.

Under mixed load (writes every few seconds, each followed by a full evaluation) the server's
resident memory grew by a third in ``bench/bench_load.py``: not a leak, but pyarrow's default
pool (mimalloc) and glibc's per-thread malloc arenas keeping what was freed. Arrow's system pool
with at most two glibc arenas keeps it flat (docs/security.md, docs/performance.md "Load").
:func:`use_steady_allocators` switches both when the application starts (its lifespan, so for
``socialcredit serve`` and the demo's portal alike), before the first evaluation; an
``ARROW_DEFAULT_MEMORY_POOL`` or ``MALLOC_ARENA_MAX`` already set by the operator wins.

Example:
    >>> sorted(use_steady_allocators())
    ['arrow_pool', 'malloc_arenas']
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import pyarrow as pa

__all__ = ["use_steady_allocators"]

_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
ARENAS = 2


def use_steady_allocators() -> dict[str, str]:
    """Use Arrow's system pool and at most :data:`ARENAS` glibc arenas; what each now is."""
    out: dict[str, str] = {}
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())
    out["arrow_pool"] = pa.default_memory_pool().backend_name
    if "MALLOC_ARENA_MAX" in os.environ:
        out["malloc_arenas"] = os.environ["MALLOC_ARENA_MAX"] + " (from the environment)"
        return out
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_ARENA_MAX, ARENAS) == 1
    except (OSError, AttributeError):  # not glibc: its allocator has no arenas to cap
        ok = False
    out["malloc_arenas"] = str(ARENAS) if ok else "unchanged (not glibc)"
    return out
