"""What every benchmark shares: the machine, this process's CPU and memory, and the sections of
docs/performance.md.

Each ``bench_*.py`` owns one section of ``docs/performance.md`` between its own markers
(``<!-- bench:NAME:start -->`` … ``end``) and, on full runs, one row of the summary table at the
top (the first table, whose header starts ``| what |``), found by the row's first cell.

Example:
    >>> text = "| what |\\n|---|\\n| a | 1 |\\n\\nA <!-- s -->old<!-- e --> Z\\n"
    >>> text = with_section(text, "<!-- s -->", "<!-- e -->", "<!-- s -->new<!-- e -->")
    >>> print(with_summary_row(text, "| b", "| b | 2 |"))
    | what |
    |---|
    | a | 1 |
    | b | 2 |
    <BLANKLINE>
    A <!-- s -->new<!-- e --> Z
    <BLANKLINE>
"""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_seconds() -> float:
    """User and system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def two_cores() -> tuple[int | None, int | None]:
    """Two distinct cores this process may run on (server, client), or ``None``s."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cores = sorted(os.sched_getaffinity(0))
    return (cores[0], cores[1]) if len(cores) >= 2 else (None, None)


def with_section(text: str, start: str, end: str, section: str) -> str:
    """``text`` with the part from ``start`` to ``end`` (markers included) replaced by
    ``section``, which carries its own markers; appended after a blank line when absent."""
    if start in text and end in text[text.index(start) :]:
        head = text[: text.index(start)]
        tail = text[text.index(end, text.index(start)) + len(end) :]
        if section.endswith("\n"):
            tail = tail.removeprefix("\n")
        return head + section + tail
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + section


def with_summary_row(text: str, prefix: str, row: str) -> str:
    """``text`` with the summary table's row starting ``prefix`` replaced by ``row``, or ``row``
    added after the table's last row."""
    lines = text.split("\n")
    at = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    if at:
        lines[at[0]] = row
    else:
        first = next((i for i, line in enumerate(lines) if line.startswith("| what |")), None)
        if first is not None:
            last = first
            while last + 1 < len(lines) and lines[last + 1].startswith("|"):
                last += 1
            lines.insert(last + 1, row)
    return "\n".join(lines)


def update(start: str, end: str, section: str, row: tuple[str, str] | None = None, docs: Path = DOCS) -> None:
    """Write ``section`` (and the summary ``row``: prefix, text) into ``docs``."""
    text = docs.read_text("utf-8") if docs.exists() else "# Performance\n\n"
    text = with_section(text, start, end, section)
    if row is not None:
        text = with_summary_row(text, *row)
    docs.write_text(text, "utf-8")
