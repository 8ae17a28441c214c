"""Run every benchmark in bench/ (``bench_*.py``) one after another.

Each script measures socialcredit and its peer in the same run, writes its figures to
``bench/results/<name>.json`` and updates its section of ``docs/performance.md``.
Set ``BENCH_QUICK=1`` for a fast smoke run with small sizes (figures then are not comparable).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    scripts = sorted(HERE.glob("bench_*.py"))
    failures = 0
    for script in scripts:
        args = [sys.executable, str(script)] + (["--quick"] if quick else [])
        print(f"== {script.name} {'(quick)' if quick else ''}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call(args)
        print(f"== {script.name}: exit {rc} after {time.perf_counter() - start:.1f} s", flush=True)
        failures += rc != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
