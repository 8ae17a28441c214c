"""Loading a simulation run directory (``socialcredit simulate SCENARIO --out DIR``).

A run directory holds one run (``manifest.json`` at its top) or several (one sub-folder per
sweep value and seed, each with its own ``manifest.json``). :func:`load_runs` returns one
:class:`RunData` per run, in folder order; missing optional files are ``None`` (``dueprocess.json``
exists only when the scenario's due-process comparison was on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["RunData", "list_kinds", "load_runs"]


@dataclass
class RunData:
    """One run's files, read with pyarrow."""

    path: Path
    name: str
    manifest: dict[str, Any]
    daily: pa.Table
    subjects: pa.Table | None = None
    finals: dict[str, pa.Table] = field(default_factory=dict)
    trajectories: pa.Table | None = None
    dueprocess: dict[str, Any] | None = None  # dueprocess.json: due process on and off, when run

    @property
    def regimes(self) -> list[str]:
        return list(self.manifest.get("regimes") or self.finals or ["main"])

    def regimes_map(self) -> dict[str, list[str]]:
        return dict(self.manifest.get("regimes") or {r: [] for r in self.regimes})

    @property
    def days(self) -> int:
        return int(self.manifest["scenario"]["days"])

    @property
    def persons(self) -> int:
        return int(self.manifest["population"]["person"])

    @cached_property
    def daily_rows(self) -> list[dict[str, Any]]:
        return self.daily.to_pylist()


def _read(path: Path) -> pa.Table | None:
    return pq.read_table(path) if path.is_file() else None


def _load_one(folder: Path, name: str) -> RunData:
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    finals = {p.stem: pq.read_table(p) for p in sorted((folder / "final").glob("*.parquet"))}
    return RunData(
        folder,
        name,
        manifest,
        pq.read_table(folder / "daily.parquet"),
        _read(folder / "subjects.parquet"),
        finals,
        _read(folder / "trajectories.parquet"),
        json.loads(dp.read_text("utf-8")) if (dp := folder / "dueprocess.json").is_file() else None,
    )


def load_runs(run_dir: str | Path) -> list[RunData]:
    """Every run under ``run_dir``: the folder itself, or its sub-folders with a manifest."""
    root = Path(run_dir)
    if (root / "manifest.json").is_file():
        return [_load_one(root, "")]
    subs = sorted(p for p in root.iterdir() if (p / "manifest.json").is_file()) if root.is_dir() else []
    if not subs:
        raise FileNotFoundError(
            f"{root}: no manifest.json here or in its sub-folders; "
            "make one with `socialcredit simulate SCENARIO --out DIR`"
        )
    return [_load_one(p, p.name) for p in subs]


@lru_cache(maxsize=64)
def latest_version(rulebook_id: str) -> Any | None:
    """The latest version of a rulebook by id, or ``None`` when it no longer loads (the report
    must still render)."""
    from socialcredit.rulebooks.loader import load_rulebook

    try:
        return load_rulebook(rulebook_id).latest
    except Exception:
        return None


def list_kinds(rulebook_ids: list[str]) -> dict[str, str]:
    """``rulebook:list`` -> ``black`` or ``red`` from the rulebooks' latest versions (a list
    whose rulebook cannot be loaded is guessed from its name: ``*_models`` are red lists)."""
    out: dict[str, str] = {}
    for rid in rulebook_ids:
        version = latest_version(rid)
        if version is None:
            continue
        for lid, ld in version.lists.items():
            out[f"{rid}:{lid}"] = ld.kind
    return out


def kind_of(key: str, kinds: dict[str, str]) -> str:
    return kinds.get(key) or ("red" if key.endswith("_models") else "black")
