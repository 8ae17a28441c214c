"""Credit repair: what each rulebook lets a subject do, and the national procedure as events.

:func:`repair_options` reads the rulebooks in force for a subject's standing and lists every way
back they offer, each with its citation: for a list the subject is on, its exits (paying the
debt — ``judicial.judgment_fulfilled`` ends a defaulter listing three working days later, facts
2.2 —, the national credit-repair procedure where the list has ``repair: true``, the end of a
fixed term, the authority's decision), and for a score, the rules that add points (volunteering,
donations where the rulebook counts them, Jinan's dog-owner exam), with their caps. Nothing is
invented: a rulebook without such a rule offers no such repair.

The procedure (facts 1.4, the June 2025 credit repair plan): the subject applies through Credit
China; the authority gives feedback within **10 working days** and decides within **3 working
days** after that; on success publication stops. Here each step is an action in the ledger's
actions chain (``repair.applied`` → ``repair.feedback`` → ``repair.approved`` or
``repair.refused``); an approval appends a ``judicial.credit_repaired`` record (source
``credit_center``), which ends the listings whose exits say ``repair: true``.

Example:
    >>> from socialcredit.engine.dates import iso
    >>> deadlines("2025-07-01")
    ('2025-07-15', '2025-07-18')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from socialcredit.dueprocess.objections import ObjectionError, _at, _day, _text
from socialcredit.engine import Evaluation
from socialcredit.engine.compile import REPAIR_CATEGORY
from socialcredit.engine.dates import NEVER, add_duration, iso, to_day
from socialcredit.engine.lists import RECORD
from socialcredit.ledger.actions import append_actions, read_actions
from socialcredit.ledger.store import Ledger
from socialcredit.rulebooks._common import Duration

__all__ = [
    "DECIDE_WITHIN",
    "FEEDBACK_WITHIN",
    "Repair",
    "apply_repair",
    "deadlines",
    "decide_repair",
    "fold_repairs",
    "list_repairs",
    "repair_feedback",
    "repair_options",
]

#: Facts 1.4 (credit repair plan, June 2025): feedback within 10 working days of the application.
FEEDBACK_WITHIN = Duration(working_days=10)
#: Facts 1.4: the authority decides within 3 working days (counted here from the feedback).
DECIDE_WITHIN = Duration(working_days=3)
KINDS = ("repair.applied", "repair.feedback", "repair.approved", "repair.refused")
#: Record categories a subject acts on to get off a list, in words (the rest show their id).
_ACTS = {
    "judicial.judgment_fulfilled": "pay the debt / perform the judgment",
    "pet.owner_exam_passed": "pass the dog-owner exam",
    REPAIR_CATEGORY: "apply for credit repair (national procedure, facts 1.4)",
}


def deadlines(applied: dt.date | str) -> tuple[str, str]:
    """The feedback and decision deadlines of an application made on ``applied``."""
    day = to_day(applied if isinstance(applied, str) else applied.isoformat())
    fb = int(add_duration(np.array([day]), FEEDBACK_WITHIN)[0])
    return str(iso(fb)), str(iso(int(add_duration(np.array([fb]), DECIDE_WITHIN)[0])))


def _cite(item: Any) -> str | None:
    if getattr(item, "source", None):
        return f"{item.source} ({item.ref})" if item.ref else item.source
    if getattr(item, "assumed", False):
        return f"assumed: {item.reason}"
    return None


def repair_options(ev: Evaluation, subject: str) -> list[dict[str, Any]]:
    """Every repair the rulebooks offer ``subject`` as of the evaluation date.

    One dict each: ``rulebook``, ``kind`` (``list_exit`` or ``points``), ``list`` or ``score``,
    ``action`` (in words), ``category``, ``effect`` (what it does: when the listing ends, how
    many points, the cap) and ``source``.
    """
    code = ev.code(subject)
    out: list[dict[str, Any]] = []
    for r in ev.results:
        for clist in r.cv.lists:
            mem = r.members.get(clist.id)
            if mem is None or not mem.has(np.array([code]))[0]:
                continue
            rows = mem.reasons.rows(code)
            if not (mem.reasons.kind[rows] == RECORD).any():
                continue  # listed through another list, a score or someone else: repair there
            lst = clist.lst
            delist = f" {lst.delist_within} later" if lst.delist_within else ""
            floor = f", not before {lst.min_duration} from the start" if lst.min_duration else ""
            until = int(mem.until[np.searchsorted(mem.subjects, code)])
            for ex in lst.exit:
                if ex.category or ex.repair:
                    cat = ex.category or REPAIR_CATEGORY
                    action = _ACTS.get(cat, f"a record of {cat}")
                    effect = f"ends the listing{delist}{floor}"
                elif ex.expiry:
                    cat, action = None, "wait for the fixed term to end"
                    effect = f"the term ends on {iso(until)}" if until < NEVER else "no fixed term is running"
                else:
                    cat, action, effect = None, "ask the authority to delist", "at the authority's discretion"
                out.append(
                    {
                        "rulebook": r.cv.rulebook,
                        "kind": "list_exit",
                        "list": clist.id,
                        "score": None,
                        "action": ex.label or action,
                        "category": cat,
                        "effect": effect,
                        "source": _cite(ex) or _cite(lst),
                    }
                )
        scored = [ms.model.id for ms in r.models if ms.scored[code]]
        if not scored:
            continue
        for rule in r.cv.version.rules.values():
            gain = (rule.points or 0) > 0 or (rule.points_per_unit or 0) > 0
            if not gain or rule.category is None or rule.via is not None or rule.on_list is not None:
                continue
            if rule.score is not None and rule.score not in scored:
                continue
            cap = f"; at most {rule.cap.points:g} points a {rule.cap.per}" if rule.cap else ""
            out.append(
                {
                    "rulebook": r.cv.rulebook,
                    "kind": "points",
                    "list": None,
                    "score": rule.score or scored[0],
                    "action": rule.label,
                    "category": rule.category,
                    "effect": rule.describe_points() + cap,
                    "source": _cite(rule),
                }
            )
    return out


@dataclasses.dataclass
class Repair:
    """One credit-repair application, folded from its events."""

    id: str
    subject: str
    list: str | None
    statement: str
    steps: list[str]
    applied_on: str
    feedback_by: str
    decide_by: str
    state: str = "applied"
    officer: str | None = None
    feedback_on: str | None = None
    decided_on: str | None = None
    reasons: str | None = None
    record: str | None = None
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def overdue(self, on: dt.date | str) -> bool:
        """Past the deadline of its current step (feedback, then decision) on ``on``."""
        day = on.isoformat() if isinstance(on, dt.date) else str(on)
        if self.state == "applied":
            return day > self.feedback_by
        return self.state == "feedback" and day > self.decide_by

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def fold_repairs(events: Iterable[Mapping[str, Any]]) -> dict[str, Repair]:
    """Every application's current state from its events (steps out of order are ignored)."""
    out: dict[str, Repair] = {}
    for ev in events:
        kind, p = ev.get("kind"), ev.get("payload") or {}
        if kind not in KINDS:
            continue
        rid = p.get("repair")
        step = {"kind": kind, "on": p.get("on"), "actor": ev.get("actor"), "reason": ev.get("reason")}
        if kind == "repair.applied":
            if rid and rid not in out:
                out[rid] = Repair(
                    rid,
                    str(ev.get("subject")),
                    p.get("list"),
                    str(ev.get("reason")),
                    list(p.get("steps") or []),
                    str(p.get("on")),
                    str(p.get("feedback_by")),
                    str(p.get("decide_by")),
                    history=[step],
                )
            continue
        rep = out.get(rid)  # type: ignore[arg-type]
        if rep is None:
            continue
        if kind == "repair.feedback" and rep.state == "applied":
            rep.state, rep.officer, rep.feedback_on = "feedback", ev.get("actor"), p.get("on")
        elif kind in ("repair.approved", "repair.refused") and rep.state in ("applied", "feedback"):
            rep.state = kind.split(".", 1)[1]
            rep.officer, rep.decided_on, rep.reasons = ev.get("actor"), p.get("on"), ev.get("reason")
            rep.record = p.get("record")
        else:
            step["ignored"] = True
        rep.history.append(step)
    return out


def list_repairs(ledger: Ledger, subject: str | None = None) -> list[Repair]:
    """Every application (of ``subject``), oldest first."""
    return list(fold_repairs(read_actions(ledger, subject=subject, kind_prefix="repair.")).values())


def _get(ledger: Ledger, repair_id: str) -> Repair:
    for rep in list_repairs(ledger):
        if rep.id == repair_id:
            return rep
    raise ObjectionError(f"repair: no application {repair_id!r}")


def apply_repair(
    ledger: Ledger,
    *,
    subject: str,
    statement: str,
    list_id: str | None = None,
    steps: Iterable[str] = (),
    on: dt.date | str | None = None,
    actor: str | None = None,
) -> Repair:
    """Apply for credit repair: ``statement`` (the commitment), ``steps`` taken (e.g. "debt
    paid", "training course completed" — evidence, not records)."""
    subject = _text(subject, "subject") or ""
    statement = _text(statement, "statement") or ""
    day = _day(on, "on")
    if ledger.subject(subject) is None:
        raise ObjectionError(f"subject: {subject!r} is not in the registry")
    fb, dec = deadlines(day)
    rid = f"rep-{day.replace('-', '')}-{secrets.token_hex(4)}"
    payload = {"repair": rid, "list": list_id, "steps": [str(s) for s in steps], "on": day}
    payload.update({"feedback_by": fb, "decide_by": dec})
    append_actions(
        ledger,
        [
            {
                "kind": "repair.applied",
                "actor": actor or f"subject:{subject}",
                "subject": subject,
                "reason": statement,
                "payload": {k: v for k, v in payload.items() if v is not None},
                "at": _at(day),
            }
        ],
    )
    return _get(ledger, rid)


def repair_feedback(
    ledger: Ledger, repair_id: str, *, officer: str, note: str, on: dt.date | str | None = None
) -> Repair:
    """The authority's feedback on an application (due within 10 working days)."""
    officer, note, day = _text(officer, "officer") or "", _text(note, "note") or "", _day(on, "on")
    rep = _get(ledger, repair_id)
    if rep.state != "applied":
        raise ObjectionError(f"repair: {rep.id} is {rep.state}; feedback follows an application")
    append_actions(
        ledger,
        [
            {
                "kind": "repair.feedback",
                "actor": officer,
                "subject": rep.subject,
                "reason": note,
                "payload": {"repair": rep.id, "on": day},
                "at": _at(day),
            }
        ],
    )
    return _get(ledger, rep.id)


def decide_repair(
    ledger: Ledger,
    repair_id: str,
    *,
    approved: bool,
    officer: str,
    reasons: str,
    on: dt.date | str | None = None,
) -> Repair:
    """Approve (appending a ``judicial.credit_repaired`` record) or refuse an application."""
    officer, reasons, day = _text(officer, "officer") or "", _text(reasons, "reasons") or "", _day(on, "on")
    rep = _get(ledger, repair_id)
    if rep.state not in ("applied", "feedback"):
        raise ObjectionError(f"repair: {rep.id} is already {rep.state}")
    record = None
    if approved:
        record = f"{rep.id}:repaired"
        ledger.append_records(
            [
                {
                    "id": record,
                    "subject": rep.subject,
                    "category": REPAIR_CATEGORY,
                    "source": "credit_center",
                    "occurred_at": day,
                    "evidence": f"credit repair {rep.id} approved by {officer}: {reasons}"[:4000],
                    "basis": "credit repair plan (facts 1.4)",
                }
            ]
        )
    append_actions(
        ledger,
        [
            {
                "kind": "repair.approved" if approved else "repair.refused",
                "actor": officer,
                "subject": rep.subject,
                "reason": reasons,
                "payload": {"repair": rep.id, "on": day, "record": record},
                "at": _at(day),
            }
        ],
    )
    return _get(ledger, rep.id)
