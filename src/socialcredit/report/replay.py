"""Scores and lists of chosen persons over time, re-evaluated from a run's records.

The sampled trajectories rarely hold a listed person (about 1 % are listed), so a spiral — a
score that falls while its owner ends up on a list — is seldom among them. This module rebuilds
the run's registry from its scenario (the population is a pure function of the seed) and asks
the engine for the standing of a few persons on the last day of every month, from
``records.parquet``. It uses the regime's rulebooks as the run started; a run whose
interventions add or remove rulebooks is not replayed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from socialcredit.report.load import RunData

__all__ = ["month_ends", "replay"]


def month_ends(start: dt.date, days: int) -> list[dt.date]:
    """The last day of every month of the run (and its last day)."""
    last = start + dt.timedelta(days=days - 1)
    out = []
    d = start
    while d <= last:
        nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        out.append(min(nxt - dt.timedelta(days=1), last))
        d = nxt
    return out


def replay(run: RunData, regime: str, subjects: list[str]) -> list[dict[str, Any]]:
    """Rows ``date, subject, score, grade, score_model, lists`` for ``subjects`` on every
    month's last day; empty when the run cannot be replayed (no records, interventions)."""
    from socialcredit.engine import Engine
    from socialcredit.engine.reports import ReportReview
    from socialcredit.simulate.model import population_spec
    from socialcredit.simulate.reporters import standing
    from socialcredit.simulate.scenario import Scenario
    from socialcredit.society.population import generate_population

    records_path = run.path / "records.parquet"
    sc_data = run.manifest["scenario"]
    if not subjects or not records_path.is_file() or sc_data.get("interventions"):
        return []
    scenario = Scenario.model_validate(sc_data)
    registry = generate_population(population_spec(scenario)).registry()
    records = pq.read_table(records_path)
    # the engine reads the record's local day; occurred_at carries its local offset
    local_day = pc.utf8_slice_codeunits(records["occurred_at"], 0, 10).cast(pa.date32())
    records = records.append_column("day", local_day)
    # the run's citizen reports were upheld by its own review: none is held (as in the run)
    bound = Engine(run.manifest["regimes"][regime]).bind(records, registry, reports=ReportReview(quorum=0))
    ids = bound.subjects.ids.to_pylist()
    code_of = {s: i for i, s in enumerate(ids)}
    codes = np.array([code_of[s] for s in subjects if s in code_of], np.int64)
    rows = []
    for day in month_ends(dt.date.fromisoformat(str(sc_data["start"])), int(sc_data["days"])):
        score, grade, model, lists = standing(bound.evaluate(day), codes)
        for i, c in enumerate(codes.tolist()):
            rows.append(
                {
                    "date": day,
                    "subject": ids[c],
                    "score": score[i],
                    "grade": grade[i],
                    "score_model": model[i],
                    "lists": lists[i],
                }
            )
    return rows
