"""One row per subject, for ``socialcredit score --out FILE.parquet``.

Built per profile, then taken by each subject's profile: the list and action columns of a
million subjects cost as many rows as there are profiles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from socialcredit.engine.compile import OUTCOMES
from socialcredit.registry import SUBJECT_KINDS

if TYPE_CHECKING:
    from socialcredit.engine.evaluate import Evaluation


def summary_table(ev: Evaluation) -> pa.Table:
    """``subject, kind, score, grade, score_model, lists, denied, restricted, rewarded,
    disclosed``; with several scoring rulebooks also ``<rulebook>.<model>.score`` and
    ``.grade`` for each."""
    prof = ev.profiles
    n = len(ev.subjects)
    rows = prof.outcome.shape[0]
    row_lists: list[list[str]] = [[] for _ in range(rows)]
    for ri, res in enumerate(ev.results):
        for lst in res.cv.lists:
            bit = prof.atoms.list_bit[(ri, lst.index)]
            on = (prof.row_bits[:, bit // 64] >> np.uint64(bit % 64)) & np.uint64(1)
            for r in np.flatnonzero(on):
                row_lists[r].append(f"{res.cv.rulebook}:{lst.id}")
    acts = list(prof.actions)
    by_effect = {}
    for name in ("denied", "restricted", "rewarded"):
        code = OUTCOMES.index(name)
        by_effect[name] = pa.array(
            [[acts[c] for c in np.flatnonzero(prof.outcome[r, :-1] == code)] for r in range(rows)],
            pa.list_(pa.string()),
        )
    disclosed = pa.array(
        [[prof.channels[c] for c in np.flatnonzero(prof.disclosed[r])] for r in range(rows)],
        pa.list_(pa.string()),
    )
    take = pa.array(prof.profile)
    kinds = pa.array([*list(SUBJECT_KINDS), None], pa.string())
    kind = np.where(ev.subjects.kind < 0, len(SUBJECT_KINDS), ev.subjects.kind).astype(np.int64)
    score = np.full(n, np.nan)
    grade = np.full(n, None, object)
    model = np.full(n, None, object)
    extra: dict[str, pa.Array] = {}
    scoring = [(r, ms) for r in ev.results for ms in r.models]
    taken = np.zeros(n, bool)  # a tier model has no number: NaN cannot mark "not yet taken"
    for r, ms in scoring:
        fresh = ms.scored & ~taken
        taken |= fresh
        score[fresh] = ms.score[fresh]
        names = np.array([*list(ms.model.grades), None], object)
        g = names[np.where(ms.grade < 0, len(names) - 1, ms.grade)]
        grade[fresh] = g[fresh]
        model[fresh] = f"{r.cv.rulebook}/{ms.model.id}"
        if len({x.cv.rulebook for x, _ in scoring}) > 1:
            key = f"{r.cv.rulebook}.{ms.model.id}"
            extra[f"{key}.score"] = pa.array(
                np.where(ms.scored, ms.score, np.nan), mask=~ms.scored | np.isnan(ms.score)
            )
            extra[f"{key}.grade"] = pa.array(np.where(ms.scored, g, None), pa.string())
    return pa.table(
        {
            "subject": ev.subjects.ids,
            "kind": kinds.take(pa.array(kind)),
            "score": pa.array(score, mask=np.isnan(score)),
            "grade": pa.array(grade, pa.string()),
            "score_model": pa.array(model, pa.string()),
            "lists": pa.array(row_lists, pa.list_(pa.string())).take(take),
            "denied": by_effect["denied"].take(take),
            "restricted": by_effect["restricted"].take(take),
            "rewarded": by_effect["rewarded"].take(take),
            "disclosed": disclosed.take(take),
            **extra,
        }
    )
