"""The streamed national run: a whole nation, shard after shard, in one machine's memory.

See :mod:`socialcredit.simulate.national.run` (the driver), :mod:`.tables` (what the kernel reads,
built from the scenario, the behaviour tables and the rulebooks) and :mod:`.kernel` (the day
loop, compiled with numba) — and docs/performance.md for the measured sizes.
"""

from socialcredit.simulate.national.run import NationalRun, shard_plan
from socialcredit.simulate.national.tables import NotStreamable, build_tables

__all__ = ["NationalRun", "NotStreamable", "build_tables", "shard_plan"]
