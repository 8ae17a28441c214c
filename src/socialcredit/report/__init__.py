"""The research report: what a simulation did to its population, in figures a paper can use.

``write_report(run_dir)`` reads a run directory written by ``socialcredit simulate SCENARIO
--out DIR`` and writes one self-contained HTML file (interactive Vega-Lite charts, no network
requests when opened) plus, in a folder beside it, every figure as PNG and SVG and the numbers
behind each figure and table as CSV.

Modules, one job each: :mod:`~socialcredit.report.load` (reading the run),
:mod:`~socialcredit.report.sections` (each section's numbers), :mod:`~socialcredit.report.charts`
(altair charts), :mod:`~socialcredit.report.export` (PNG, SVG, CSV) and
:mod:`~socialcredit.report.render` (the HTML page).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from socialcredit.report.charts import spec
from socialcredit.report.export import write_csv, write_figure
from socialcredit.report.load import load_runs
from socialcredit.report.render import render_html
from socialcredit.report.sections import build_sections

__all__ = ["figures_dir", "write_report"]


def figures_dir(out: Path) -> Path:
    """The folder of PNG, SVG and CSV files beside the report ``out``."""
    return out.with_name(f"{out.stem}_figures")


def write_report(run_dir: str | Path, out: str | Path | None = None, *, images: bool = True) -> Path:
    """Write the report of the run(s) under ``run_dir`` to ``out`` (default
    ``run_dir/report.html``) with its figures folder beside it; returns the HTML path.
    ``images=False`` skips the PNG and SVG files (the CSV files are always written)."""
    run_dir = Path(run_dir)
    runs = load_runs(run_dir)
    out = Path(out) if out is not None else run_dir / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = figures_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    sections = build_sections(runs)
    specs = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = []
        for sec in sections:
            if sec.table:
                write_csv(sec.table, folder / f"{sec.id}_table.csv")
            for fig in sec.figures:
                specs[fig.id] = spec(fig)
                if images:
                    futures += write_figure(specs[fig.id], fig.rows, folder, fig.id, pool)
                else:
                    write_csv(fig.rows, folder / f"{fig.id}.csv")
        for f in futures:
            f.result()
    sc = runs[0].manifest["scenario"]
    n = f"{len(runs)} runs" if len(runs) > 1 else f"seed {runs[0].manifest['seed']}"
    regimes = ", ".join(f"{k} ({' + '.join(v)})" for k, v in runs[0].regimes_map().items())
    subtitle = (
        f"Scenario {sc['name']}, {n}: {sc['size']:,} residents from {sc['start']} for {sc['days']} days "
        f"under {regimes}."
    )
    html = render_html(f"Report: {sc.get('title') or sc['name']}", subtitle, sections, specs, folder.name)
    out.write_text(html, "utf-8")
    return out
