"""Every figure as PNG and SVG (rendered by vl-convert, no browser) and every table as CSV."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import vl_convert as vlc

__all__ = ["VL_VERSION", "write_csv", "write_figure"]

VL_VERSION = "6.4"  # the Vega-Lite the altair schema targets (altair 6: v6.4)


def _cell(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return ";".join(str(x) for x in v)
    return "" if v is None else v


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    """``rows`` as CSV with the union of their keys as header, in first-seen order."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(r.get(k)) for k in cols})
    return path


def _png(spec: dict[str, Any], path: Path) -> Path:
    path.write_bytes(vlc.vegalite_to_png(spec, scale=2, vl_version=VL_VERSION))
    return path


def _svg(spec: dict[str, Any], path: Path) -> Path:
    path.write_text(vlc.vegalite_to_svg(spec, vl_version=VL_VERSION), "utf-8")
    return path


def write_figure(
    spec: dict[str, Any],
    rows: list[dict[str, Any]],
    folder: Path,
    stem: str,
    pool: ThreadPoolExecutor | None = None,
) -> list[Any]:
    """``stem.png`` (2x), ``stem.svg`` and ``stem.csv`` under ``folder``; with ``pool``, the
    images are rendered there and the futures returned."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(rows, folder / f"{stem}.csv")
    if pool is None:
        return [_png(spec, folder / f"{stem}.png"), _svg(spec, folder / f"{stem}.svg")]
    return [pool.submit(_png, spec, folder / f"{stem}.png"), pool.submit(_svg, spec, folder / f"{stem}.svg")]
