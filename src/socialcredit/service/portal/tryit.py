""" "Try it yourself": a fictional persona, a rulebook, behaviours day by day, and what changes.

Nothing is stored: the whole story travels in the page's query string (``rulebook``, ``name``,
``story``: behaviour ids in order, one a day from :data:`START`), and each request evaluates it
afresh on a one-person registry with the real engine. No ledger is touched.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from socialcredit.engine import Engine
from socialcredit.records import records_table
from socialcredit.registry import Registry
from socialcredit.vocabulary import vocabulary

__all__ = ["BEHAVIOURS", "MAX_DAYS", "RULEBOOKS", "START", "persona_story"]

PERSONA = "persona"
START = dt.date(2019, 1, 1)
MAX_DAYS = 30
#: Rulebooks offered, with the region the persona is registered in for each.
RULEBOOKS = {
    "rongcheng": "Rongcheng",
    "national": "Rongcheng",
    "suining": "Suining",
    "honest-shanghai": "Shanghai",
    "regional": "Beijing",
    "sesame": "Hangzhou",
}
#: Behaviours offered first (any person category of the vocabulary may be given).
BEHAVIOURS = (
    "social.volunteering",
    "traffic.honking",
    "utility.late_payment",
    "finance.bill_paid_on_time",
    "online.critical_post",
    "social.blood_donation",
    "traffic.red_light",
    "social.honour",
    "judicial.judgment_default",
    "family.visiting_parents",
    "public_order.illegal_petitioning",
    "rail.smoking",
)


@lru_cache(maxsize=8)
def _engine(rulebook: str) -> Engine:
    return Engine((rulebook,))


def behaviours() -> list[dict[str, str]]:
    """The person behaviours a visitor may add, the suggested ones first."""
    cats = [c for c in vocabulary().categories.values() if "person" in c.subject_kinds and c.sources]
    first = {b: i for i, b in enumerate(BEHAVIOURS)}
    cats.sort(key=lambda c: (first.get(c.id, len(first)), c.id))
    return [{"id": c.id, "description": c.description, "direction": c.direction} for c in cats]


def parse_story(text: str) -> list[str]:
    """The behaviour ids of a ``story`` parameter, unknown ones dropped, at most :data:`MAX_DAYS`."""
    known = {b["id"] for b in behaviours()}
    return [c for c in text.split(",") if c in known][:MAX_DAYS]


def _state(ev: Any) -> dict[str, Any]:
    ex = ev.explain(PERSONA).to_dict()
    scores = [
        {"model": s["model"], "score": s.get("score"), "grade": s.get("grade")}
        for rb in ex["rulebooks"]
        for s in rb["scores"]
        if s.get("score") is not None
    ]
    lists = [f"{lst['label']} ({lst['kind']})" for rb in ex["rulebooks"] for lst in rb["lists"]]
    outcomes = {a: o for a, o in ev.outcomes(PERSONA).items() if o != "allowed"}
    return {"scores": scores, "lists": lists, "outcomes": outcomes}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = []
    old = {s["model"]: s for s in before["scores"]}
    for s in after["scores"]:
        o = old.get(s["model"])
        if o is None or (o["score"], o["grade"]) != (s["score"], s["grade"]):
            was = f"{o['score']:g} ({o['grade'] or '—'})" if o else "none"
            out.append(f"score {s['model']}: {was} → {s['score']:g} ({s['grade'] or '—'})")
    out += [f"put on {lst}" for lst in after["lists"] if lst not in before["lists"]]
    out += [f"taken off {lst}" for lst in before["lists"] if lst not in after["lists"]]
    for action, outcome in sorted(after["outcomes"].items()):
        if before["outcomes"].get(action) != outcome:
            out.append(f"{action}: {outcome}")
    out += [f"{a}: allowed again" for a in sorted(before["outcomes"]) if a not in after["outcomes"]]
    return out


def persona_story(rulebook: str, name: str, story: list[str]) -> dict[str, Any]:
    """Evaluate the persona after each day of ``story``: state, changes and their explanation."""
    region = RULEBOOKS[rulebook]
    vocab = vocabulary()
    persona = {
        "id": PERSONA,
        "kind": "person",
        "name": name or "A fictional persona",
        "birth_date": "1985-05-05",
        "region": region,
        "consent": True,
    }
    records = [
        {
            "id": f"try-{i + 1}",
            "subject": PERSONA,
            "category": cat,
            "source": vocab.categories[cat].sources[0],
            "occurred_at": (START + dt.timedelta(days=i)).isoformat(),
        }
        for i, cat in enumerate(story)
    ]
    bound = _engine(rulebook).bind(records_table(records), Registry.from_lines([persona]))
    days = []
    before = _state(bound.evaluate(START.toordinal() - 719164))
    ev = None
    for i, cat in enumerate(story):
        day = START + dt.timedelta(days=i)
        ev = bound.evaluate(day.toordinal() - 719163)
        after = _state(ev)
        days.append({"day": i + 1, "date": day.isoformat(), "behaviour": cat, **after,
                     "changes": _changes(before, after) or ["nothing changed"]})  # fmt: skip
        before = after
    return {
        "rulebook": rulebook,
        "region": region,
        "name": persona["name"],
        "story": story,
        "days": days,
        "explanation": ev.explain(PERSONA).render() if ev is not None else "",
    }
