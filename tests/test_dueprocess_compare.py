"""The due-process comparison: the same population with due process off and on."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from socialcredit.ids import generate_resident_ids
from socialcredit.records import records_table
from socialcredit.registry import Registry
from socialcredit.simulate.dueprocess import compare, render_markdown

N = 120


@pytest.fixture(scope="module")
def population() -> tuple:
    ids = generate_resident_ids(13, np.arange(N)).tolist()
    reg = Registry.from_lines(
        [{"id": i, "kind": "person", "name": f"p{k} (synthetic)"} for k, i in enumerate(ids)]
    )
    rng = np.random.default_rng(1)
    cats = [("judicial.judgment_default", "court"), ("rail.smoking", "railway"), ("tax.evasion", "tax")]
    rows = []
    for k in range(N):
        cat, src = cats[k % 3]
        day = dt.date(2019, 1, 1) + dt.timedelta(days=int(rng.integers(0, 120)))
        rows.append(
            {"id": f"r{k}", "subject": ids[k], "category": cat, "source": src, "occurred_at": day.isoformat()}
        )
    return records_table(rows), reg


def test_due_process_avoids_and_shortens_wrongful_listings(population: tuple) -> None:
    recs, reg = population
    out = compare(
        recs, reg, ["national"], "2019-01-01", "2019-09-30", error_rate=0.2, object_rate=1.0, seed=3
    )
    again = compare(
        recs, reg, ["national"], "2019-01-01", "2019-09-30", error_rate=0.2, object_rate=1.0, seed=3
    )
    assert out == again  # seeded
    assert out["wrongful"] > 0 and out["objections"] >= out["wrongful"]
    total = {k: sum(r[k] for r in out["lists"].values()) for k in next(iter(out["lists"].values()))}
    assert total["listings_due_process"] <= total["listings_original"]
    assert total["avoided"] == total["listings_original"] - total["listings_due_process"]
    # every wrongly listed subject objected in time: due process reverses every wrongful listing
    assert total["wrongful_reversed"] == total["wrongful"]
    assert total["wrongful_days_due_process"] < total["wrongful_days_original"]
    assert out["notice_steps"] > 0
    kinds = {e["event"] for e in out["events"]}
    assert {"notice.issued", "objection.filed", "objection.upheld", "listing.effective"} <= kinds
    assert [e["day"] for e in out["events"]] == sorted(e["day"] for e in out["events"])
    first = {}
    for e in out["events"]:
        first.setdefault((e["event"], e["record"]), e["day"])
    for (kind, rec), day in first.items():  # a listing takes effect no earlier than its notice
        if kind == "listing.effective" and ("notice.issued", rec) in first:
            assert day > first[("notice.issued", rec)]
    md = render_markdown(out)
    assert "national/judgment_defaulters" in md and "Assumed" in md
    # nobody objects: due process only delays (notice), it avoids no wrongful listing
    none = compare(recs, reg, ["national"], "2019-01-01", "2019-09-30", error_rate=0.2, object_rate=0.0,
                   frivolous_rate=0.0, seed=3)  # fmt: skip
    assert sum(r["avoided"] for r in none["lists"].values()) <= total["avoided"]


def test_compare_refuses_bad_parameters(population: tuple) -> None:
    recs, reg = population
    with pytest.raises(ValueError, match="error_rate"):
        compare(recs, reg, ["national"], "2019-01-01", "2019-02-01", error_rate=2)
    with pytest.raises(ValueError, match="end"):
        compare(recs, reg, ["national"], "2019-02-01", "2019-01-01")
