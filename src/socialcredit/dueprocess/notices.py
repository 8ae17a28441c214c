"""Notices before listing: what the subject is told when a record meets a list's entry conditions.

A notice is derived, not stored: the engine evaluated under a
:class:`~socialcredit.engine.lists.DueProcess` knows every black listing opened by a record, the
day it was proposed (the record's day), the day it takes effect (after the list's notice period,
later while a timely objection suspends it) and the last day to object. :func:`notices` gives one
notice per (rulebook, list, record): the record, the rule (the list's entry), the list, the dates,
how to object, the review deadline that will apply and whether an objection suspends the listing.
Under the original behaviour (no due process) there are none: "no official advance notification"
(seed 001).

Example:
    >>> from socialcredit.engine import Engine
    >>> from socialcredit.engine.lists import DueProcess
    >>> from socialcredit.records import records_table
    >>> from socialcredit.registry import Registry
    >>> reg = Registry.from_lines([{"id": "a", "kind": "person", "name": "A"}])
    >>> recs = records_table([{"id": "r1", "subject": "a", "occurred_at": "2019-03-01",
    ...     "category": "judicial.judgment_default", "source": "court"}])
    >>> ev = Engine(["national"]).evaluate(recs, reg, "2019-03-02", DueProcess())
    >>> n = notices(ev, "a")[0]
    >>> n["list"], n["issued"], n["takes_effect"], n["object_by"], n["status"]
    ('judgment_defaulters', '2019-03-01', '2019-03-11', '2019-03-10', 'notice')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from socialcredit.engine import Evaluation
from socialcredit.engine.dates import NEVER, iso
from socialcredit.engine.lists import PENDING_STATUS, RECORD, DueProcess
from socialcredit.ledger.actions import append_actions, read_actions
from socialcredit.ledger.store import Ledger

__all__ = ["HOW_TO_OBJECT", "issue_notices", "notice_events", "notices", "timeline"]

#: What every notice says about objecting.
HOW_TO_OBJECT = (
    "File an objection with your grounds and evidence: in your credit file on the portal "
    "(/my/objections), with `socialcredit objection file`, or POST /v1/objections."
)


def notices(ev: Evaluation, subject: str | None = None) -> list[dict[str, Any]]:
    """The notices of listings proposed by records on or before the evaluation date — pending
    ones and those already in force — for ``subject`` (every subject when ``None``), oldest
    first. Empty when the evaluation ran without due process or without notices."""
    dp: DueProcess | None = ev.bound.dueprocess
    if dp is None or not dp.notice:
        return []
    code = ev.code(subject) if subject is not None else None
    ids = ev.records.ids
    obj = ev.bound.objections
    out: list[dict[str, Any]] = []
    for r in ev.results:
        for clist in r.cv.lists:
            wait = dp.notice_days_of(clist)
            if not wait:
                continue
            rows: list[tuple[int, int, int, int, int, int, str, int]] = []
            mem = r.members.get(clist.id)
            if mem is not None:
                d = mem.direct
                sel = np.flatnonzero(d.kind == RECORD)
                if code is not None:
                    sel = sel[d.subject[sel] == code]
                for j in sel:
                    pos = int(d.a[j])
                    day = int(ev.records.day[pos])
                    rows.append(
                        (
                            int(d.subject[j]),
                            pos,
                            int(d.b[j]),
                            day,
                            int(d.since[j]),
                            day + wait - 1,
                            "in_force",
                            -1,
                        )
                    )
            p = r.pending.get(clist.id)
            if p is not None:
                sel = np.arange(len(p.subject))
                if code is not None:
                    sel = sel[p.subject == code]
                for j in sel:
                    rows.append(
                        (
                            int(p.subject[j]),
                            int(p.record[j]),
                            int(p.entry[j]),
                            int(p.proposed[j]),
                            int(p.effective[j]),
                            int(p.deadline[j]),
                            PENDING_STATUS[int(p.status[j])],
                            int(p.objection[j]),
                        )
                    )
            lst = clist.lst
            suspends = dp.suspends_of(clist.id, lst.objection_suspends)
            review = dp.review_of(clist)
            for who, pos, entry, proposed, effective, deadline, status, k in rows:
                e = clist.entries[entry].entry
                rid = ids[pos].as_py() if ids is not None else None
                out.append(
                    {
                        "id": f"notice:{r.cv.rulebook}:{clist.id}:{rid}",
                        "subject": ev.subjects.ids[who].as_py(),
                        "rulebook": r.cv.rulebook,
                        "list": clist.id,
                        "list_label": lst.label,
                        "record": rid,
                        "category": ev.records.categories[int(ev.records.category[pos])],
                        "rule": e.label or e.category,
                        "rule_source": _cite(e.source, e.ref),
                        "issued": iso(proposed),
                        "takes_effect": iso(effective) if effective < NEVER else None,
                        "object_by": iso(deadline),
                        "status": status,
                        "objection": obj.ids[k] if k >= 0 else None,
                        "notice_days": wait,
                        "notice_source": _cite(lst.notice.source, lst.notice.ref)
                        if lst.notice is not None and lst.notice.days is not None
                        else "assumed: 10 days (reconsideration window of facts 2.3, Art. 12)",
                        "objection_suspends": suspends,
                        "review_within": str(review),
                        "how_to_object": HOW_TO_OBJECT,
                    }
                )
    out.sort(key=lambda n: (n["issued"] or "", n["subject"], n["rulebook"], n["list"]))
    return out


def _cite(source: str | None, ref: str | None) -> str | None:
    if source is None:
        return ref
    return f"{source} ({ref})" if ref else source


def notice_events(ev: Evaluation) -> list[dict[str, Any]]:
    """The notices issued on the evaluation date itself, as simulator events: ``day``,
    ``subject``, ``event`` (``notice.issued``), ``rulebook``, ``list``, ``record``,
    ``takes_effect`` and ``object_by``."""
    today = iso(ev.day)
    return [
        {
            "day": today,
            "subject": n["subject"],
            "event": "notice.issued",
            "rulebook": n["rulebook"],
            "list": n["list"],
            "record": n["record"],
            "takes_effect": n["takes_effect"],
            "object_by": n["object_by"],
        }
        for n in notices(ev)
        if n["issued"] == today
    ]


def issue_notices(
    ledger: Ledger, ev: Evaluation, subject: str | None = None, *, actor: str = "system:notices"
) -> list[str]:
    """Append a ``notice.issued`` action for each notice of ``ev`` (of ``subject``, or of
    everyone) not issued before (by its id), so that the notice stays in the subject's history
    even after the listing is gone (an upheld objection annuls the record the notice came from).
    Returns the ids issued now."""
    done = {a["payload"].get("notice") for a in read_actions(ledger, kind="notice.issued")}
    todo = [n for n in notices(ev, subject) if n["id"] not in done]
    append_actions(
        ledger,
        [
            {
                "kind": "notice.issued",
                "actor": actor,
                "subject": n["subject"],
                "reason": f"listing on {n['list']} proposed by record {n['record']}",
                "payload": {
                    "notice": n["id"],
                    "on": n["issued"],
                    **{k: n[k] for k in ("rulebook", "list", "record", "rule", "object_by", "takes_effect")},
                },
                "at": f"{n['issued']}T00:00:00+08:00",
            }
            for n in todo
        ],
    )
    return [n["id"] for n in todo]


def timeline(ledger: Ledger, subject: str) -> list[dict[str, Any]]:
    """Everything that happened in ``subject``'s file, oldest first: records (and corrections),
    notices issued, objection and repair steps, review decisions on citizen reports — each with
    its day, kind, who and why."""
    out: list[dict[str, Any]] = []
    for r in ledger.records_of(subject):
        kind = "record.correction" if r.get("corrects") else "record"
        what = f"{r['category']} ({r['id']})" + (f" annuls {r['corrects']}" if r.get("corrects") else "")
        out.append(
            {
                "day": r["occurred_at"][:10],
                "order": (0, r["seq"]),
                "kind": kind,
                "by": r["source"],
                "what": what,
            }
        )
    for a in read_actions(ledger, subject=subject):
        if not a["kind"].startswith(("notice.", "objection.", "repair.", "report.")):
            continue
        day = (a["payload"] or {}).get("on") or a["at"][:10]
        out.append(
            {"day": day, "order": (1, a["seq"]), "kind": a["kind"], "by": a["actor"], "what": a["reason"]}
        )
    out.sort(key=lambda e: (e["day"], e["order"]))
    for e in out:
        del e["order"]
    return out
