"""Review of citizen reports (issue #16, item 5): confirmations and rejections as events in the
actions chain.

The engine holds every informant report (``citizen_report``) out of evaluation until a
department confirms it or a quorum of distinct reporters reports the same subject
(:mod:`socialcredit.engine.reports`). Confirming or rejecting is a manual decision, so it is an
action in the ledger's hash-chained ``actions`` chain (:mod:`socialcredit.ledger.actions`) —

* ``report.confirmed``: an officer confirms the report (the record id), with reasons and the day;
  the report counts from that day;
* ``report.rejected``: an officer rejects it; it never counts, nor takes part in a quorum.

A report is decided once: a second decision is refused (and, appended by other means, ignored).
Nothing is updated or deleted; :func:`report_review` folds the events into the engine's input.
The actions name the record and its subject, never the reporter: the subject's history
(:func:`socialcredit.dueprocess.notices.timeline`) shows them as they are.

Example:
    >>> events = [{"seq": 1, "kind": "report.confirmed", "actor": "officer:7", "subject": "dog",
    ...            "reason": "seen by the patrol", "at": "2019-03-06T00:00:00+08:00", "hash": "h1",
    ...            "payload": {"record": "r1", "on": "2019-03-06"}}]
    >>> d = fold_report_decisions(events)["r1"]
    >>> d.outcome, d.on, d.officer
    ('confirmed', '2019-03-06', 'officer:7')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from socialcredit.engine.dates import iso
from socialcredit.engine.reports import DECISIONS_SCHEMA, ReportReview, informant_sources
from socialcredit.ledger.actions import append_actions, read_actions
from socialcredit.ledger.store import Ledger

__all__ = [
    "KINDS",
    "OUTCOMES",
    "ReportDecision",
    "ReportError",
    "decide_report",
    "fold_report_decisions",
    "list_reports",
    "report_decisions",
    "report_review",
    "review_head",
]

KINDS = ("report.confirmed", "report.rejected")
OUTCOMES = ("confirmed", "rejected")
_MAX_TEXT = 4000


class ReportError(ValueError):
    """A review that cannot be carried out; the message names the field."""


@dataclass
class ReportDecision:
    """One report's review decision, from its action."""

    record: str
    subject: str | None
    outcome: str
    on: str
    officer: str
    reasons: str
    seq: int | None = None
    hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _day(value: Any) -> str | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None


def fold_report_decisions(events: Iterable[Mapping[str, Any]]) -> dict[str, ReportDecision]:
    """Each report's decision (the first one about it, in chain order; later ones change
    nothing), by record id."""
    out: dict[str, ReportDecision] = {}
    for ev in events:
        kind = ev.get("kind")
        if kind not in KINDS:
            continue
        p = ev.get("payload") or {}
        rid = p.get("record")
        on = _day(p.get("on")) or _day(ev.get("at"))
        if not rid or on is None or rid in out:
            continue
        out[str(rid)] = ReportDecision(
            record=str(rid),
            subject=ev.get("subject"),
            outcome=str(kind).split(".", 1)[1],
            on=on,
            officer=str(ev.get("actor")),
            reasons=str(ev.get("reason") or ""),
            seq=ev.get("seq"),
            hash=ev.get("hash"),
        )
    return out


def report_decisions(ledger: Ledger, subject: str | None = None) -> list[ReportDecision]:
    """Every review decision (about ``subject``'s reports, when given), oldest first."""
    return list(fold_report_decisions(read_actions(ledger, subject=subject, kind_prefix="report.")).values())


def review_head(ledger: Ledger) -> tuple[int, int]:
    """``(count, last seq)`` of the review actions: what changes when a report is decided (the
    service re-reads the decisions only then)."""
    import sqlalchemy as sa

    from socialcredit.ledger import schema

    t = schema.actions
    q = sa.select(sa.func.count(), sa.func.max(t.c.seq)).where(t.c.kind.in_(KINDS))
    with ledger.engine.connect() as conn:
        n, last = conn.execute(q).one()
    return int(n or 0), int(last or 0)


def decisions_table(decisions: Iterable[ReportDecision]) -> pa.Table:
    """The engine's decisions input (:data:`socialcredit.engine.reports.DECISIONS_SCHEMA`)."""
    rows = [{"record": d.record, "outcome": d.outcome, "on": dt.date.fromisoformat(d.on)} for d in decisions]
    return pa.Table.from_pylist(rows, schema=DECISIONS_SCHEMA)


def report_review(ledger: Ledger, policy: ReportReview | None = None) -> ReportReview:
    """The engine's review input: ``policy`` (default :class:`ReportReview`: 3 distinct
    reporters within 30 days, assumed) with every decision in the ledger."""
    return dataclasses.replace(policy or ReportReview(), decisions=decisions_table(report_decisions(ledger)))


def list_reports(
    ledger: Ledger,
    *,
    subject: str | None = None,
    on: dt.date | str | None = None,
    policy: ReportReview | None = None,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """Every citizen report (about ``subject``, when given) with its review as of ``on``
    (default: today), oldest first: ``record, subject, category, date, source, reported_by,
    state`` (:data:`socialcredit.engine.reports.STATES`, ``held`` until a confirmation or quorum
    takes effect), ``counts`` (whether it counts on that day), ``why`` and ``decision`` (the
    officer's, or ``None``). The reporter is named: this is the reviewing officer's view; a
    subject's own file shows the reports with the reporter masked
    (:meth:`socialcredit.engine.Evaluation.held`). ``state`` keeps only reports in that state."""
    import numpy as np
    import pyarrow.compute as pc

    from socialcredit.engine.data import SubjectArrays, records_from_table
    from socialcredit.engine.dates import to_day
    from socialcredit.engine.reports import describe, review_of

    day = (
        _day(on.isoformat() if isinstance(on, dt.date) else on)
        if on is not None
        else dt.date.today().isoformat()
    )
    if day is None:
        raise ReportError(f"on: {on!r} is not a date (YYYY-MM-DD)")
    policy = report_review(ledger, policy)
    table = ledger.records_table()
    table = table.filter(
        pc.is_in(table["source"], value_set=pa.array(list(policy.informants()), pa.string()))
    )
    if not table.num_rows:
        return []
    names = sorted(
        {x for x in table["subject"].to_pylist() + table["reported_by"].to_pylist() if x is not None}
    )
    subjects = SubjectArrays.build(pa.array(names, pa.string()), np.zeros(len(names), np.int8))
    recs = records_from_table(table, subjects)
    review = review_of(recs, policy)
    d = to_day(day)
    decided = {x.record: x for x in report_decisions(ledger)}
    reporters = table["reported_by"].to_pylist()
    held = review.held_on(d)
    out = []
    for pos in range(len(recs)):
        sid = subjects.id(int(recs.subject[pos]))
        if review.state[pos] == 0 or (subject is not None and sid != subject) or int(recs.day[pos]) > d:
            continue
        rid = recs.record_id(pos)
        s = review.state_on(pos, d)
        if state is not None and s != state:
            continue
        dec = decided.get(rid)
        out.append(
            {
                "record": rid,
                "subject": sid,
                "category": recs.categories[int(recs.category[pos])],
                "date": iso(int(recs.day[pos])),
                "source": recs.sources[int(recs.source[pos])] if recs.source is not None else None,
                "reported_by": reporters[pos],
                "state": s,
                "counts": not bool(held[pos]),
                "why": describe(review, pos, d, policy),
                "decision": dec.to_dict() if dec is not None else None,
            }
        )
    return out


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ReportError(f"{what}: required, and must not be blank")
    if len(value) > _MAX_TEXT:
        raise ReportError(f"{what}: longer than {_MAX_TEXT} characters")
    return value.strip()


def decide_report(
    ledger: Ledger,
    record_id: str,
    *,
    outcome: str,
    officer: str,
    reasons: str,
    on: dt.date | str | None = None,
) -> ReportDecision:
    """Confirm or reject the informant report ``record_id``: one ``report.confirmed`` or
    ``report.rejected`` action, by ``officer``, with ``reasons``, on ``on`` (default: today).

    Raises:
        ReportError: an unknown outcome or record, a record that is not an informant report (or
            is a correction), blank reasons, a malformed date, a day before the report, or a
            report decided already.
    """
    if outcome not in OUTCOMES:
        raise ReportError(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}")
    officer = _text(officer, "officer")
    reasons = _text(reasons, "reasons")
    if on is None:
        day = dt.date.today().isoformat()
    else:
        day = _day(on.isoformat() if isinstance(on, dt.date) else on) or ""
        if not day:
            raise ReportError(f"on: {on!r} is not a date (YYYY-MM-DD)")
    rid = _text(record_id, "record")
    rec = ledger.record(rid)
    if rec is None:
        raise ReportError(f"record: no record {rid!r}")
    if rec.get("source") not in informant_sources() or rec.get("corrects"):
        raise ReportError(
            f"record: {rid!r} is not a citizen report (source {rec.get('source')!r}): "
            "only reports are reviewed"
        )
    if rec["occurred_at"][:10] > day:
        raise ReportError(f"on: {day} is before the report ({rec['occurred_at'][:10]})")
    done = fold_report_decisions(read_actions(ledger, subject=rec["subject"], kind_prefix="report."))
    if rid in done:
        d = done[rid]
        raise ReportError(
            f"record: {rid!r} was {d.outcome} on {d.on} by {d.officer}; a report is decided once"
        )
    append_actions(
        ledger,
        [
            {
                "kind": f"report.{outcome}",
                "actor": officer,
                "subject": rec["subject"],
                "reason": reasons,
                "payload": {"record": rid, "category": rec["category"], "on": day},
                "at": f"{day}T00:00:00+08:00",
            }
        ],
    )
    decided = fold_report_decisions(read_actions(ledger, subject=rec["subject"], kind_prefix="report."))
    return decided[rid]
