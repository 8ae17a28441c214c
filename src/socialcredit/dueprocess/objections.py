"""Objections: filed → under review → upheld or rejected, as events in the actions chain.

An objection is never a row that changes: each step is an action appended to the ledger's
hash-chained ``actions`` chain (:mod:`socialcredit.ledger.actions`) —

* ``objection.filed``: the subject, the records objected to (and the listing, when it is one),
  the grounds and evidence, the day, and the review deadline the rulebook gives (the list's
  ``review_within``; else 20 days, the national default of facts 1.4, Art. 25);
* ``objection.review``: an officer takes it up;
* ``objection.upheld`` / ``objection.rejected``: the officer, the reasons and the day. Upholding
  appends first a correction record per annulled record (an ordinary record with ``corrects``,
  through the ledger's append path), so that the engine no longer counts the record on any date.
  Nothing is deleted; decisions given in the past stay where they were logged.

:func:`fold_objections` folds the events into each objection's current state (with its
history); :func:`due_process` turns them into the engine's input.

Example:
    >>> events = [
    ...     {"seq": 1, "kind": "objection.filed", "actor": "subject:a", "subject": "a",
    ...      "reason": "never owed", "at": "2019-03-05T00:00:00+08:00", "hash": "h1",
    ...      "payload": {"objection": "obj-1", "records": ["r1"], "on": "2019-03-05",
    ...                  "review_by": "2019-03-20"}},
    ...     {"seq": 2, "kind": "objection.review", "actor": "officer:7", "subject": "a",
    ...      "reason": "taken up", "at": "2019-03-06T00:00:00+08:00", "hash": "h2",
    ...      "payload": {"objection": "obj-1", "on": "2019-03-06"}}]
    >>> o = fold_objections(events)["obj-1"]
    >>> o.state, o.officer, o.overdue("2019-03-21")
    ('under_review', 'officer:7', True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from socialcredit.engine.dates import add_duration, iso, to_day
from socialcredit.engine.lists import DEFAULT_REVIEW, OBJECTIONS_SCHEMA, DueProcess
from socialcredit.errors import LedgerError, RulebookError
from socialcredit.ledger.actions import append_actions, read_actions
from socialcredit.ledger.store import Ledger
from socialcredit.rulebooks import Rulebook

__all__ = [
    "KINDS",
    "STATES",
    "Objection",
    "ObjectionError",
    "decide_objection",
    "due_process",
    "file_objection",
    "fold_objections",
    "get_objection",
    "list_objections",
    "objections_table",
    "start_review",
]

STATES = ("filed", "under_review", "upheld", "rejected")
KINDS = ("objection.filed", "objection.review", "objection.upheld", "objection.rejected")
OUTCOMES = ("upheld", "rejected")
_MAX_TEXT = 4000


class ObjectionError(ValueError):
    """A request about an objection that cannot be carried out; the message names the field."""


@dataclass
class Objection:
    """One objection's state, folded from its events (``history``: the events, oldest first)."""

    id: str
    subject: str
    records: list[str]
    list: str | None
    rulebook: str | None
    grounds: str
    evidence: str | None
    filed_on: str
    filed_by: str
    review_by: str | None
    state: str = "filed"
    review_started_on: str | None = None
    officer: str | None = None
    reasons: str | None = None
    decided_on: str | None = None
    corrections: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Not yet upheld or rejected."""
        return self.state in ("filed", "under_review")

    def overdue(self, on: dt.date | str) -> bool:
        """Still open after its review deadline (``review_by``) on ``on``."""
        day = on.isoformat() if isinstance(on, dt.date) else str(on)
        return self.open and self.review_by is not None and day > self.review_by

    def to_dict(self, on: dt.date | str | None = None) -> dict[str, Any]:
        """The public shape (``overdue`` as of ``on`` when given)."""
        out = dataclasses.asdict(self)
        if on is not None:
            out["overdue"] = self.overdue(on)
        return out


def _day(value: dt.date | str | None, what: str) -> str:
    if value is None:
        return dt.date.today().isoformat()
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise ObjectionError(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None


def _text(value: Any, what: str, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ObjectionError(f"{what}: required, and must not be blank")
        return None
    if not isinstance(value, str):
        raise ObjectionError(f"{what}: {value!r} is not text")
    if len(value) > _MAX_TEXT:
        raise ObjectionError(f"{what}: longer than {_MAX_TEXT} characters")
    return value.strip()


def fold_objections(events: Iterable[Mapping[str, Any]]) -> dict[str, Objection]:
    """Every objection's current state from its events (in chain order).

    A step that does not follow from the state (a decision on a decided objection, a review of
    an unknown one) is kept in the history with ``"ignored": true`` and changes nothing: the
    writers below never append one, but the chain is the record of what was appended.
    """
    out: dict[str, Objection] = {}
    for ev in events:
        kind = ev.get("kind")
        if kind not in KINDS:
            continue
        p = ev.get("payload") or {}
        oid = p.get("objection")
        on = _event_day(p.get("on"), ev.get("at"))
        step = {
            "seq": ev.get("seq"),
            "kind": kind,
            "on": on,
            "at": ev.get("at"),
            "actor": ev.get("actor"),
            "reason": ev.get("reason"),
            "hash": ev.get("hash"),
        }
        if on is None:  # a step without a readable day cannot be placed in time
            continue
        if kind == "objection.filed":
            records = p.get("records")
            if not oid or oid in out or not isinstance(records, list) or not records:
                continue
            out[oid] = Objection(
                id=oid,
                subject=str(ev.get("subject") or p.get("subject")),
                records=[str(r) for r in records],
                list=p.get("list"),
                rulebook=p.get("rulebook"),
                grounds=str(p.get("grounds") or ev.get("reason") or ""),
                evidence=p.get("evidence"),
                filed_on=on,
                filed_by=str(ev.get("actor")),
                review_by=p.get("review_by"),
                history=[step],
            )
            continue
        o = out.get(oid)  # type: ignore[arg-type]
        if o is None:
            continue
        ok = (kind == "objection.review" and o.state == "filed") or (kind != "objection.review" and o.open)
        if not ok:
            o.history.append({**step, "ignored": True})
            continue
        o.history.append(step)
        if kind == "objection.review":
            o.state, o.review_started_on, o.officer = "under_review", on, ev.get("actor")
        else:
            o.state = kind.split(".", 1)[1]
            o.officer, o.reasons, o.decided_on = ev.get("actor"), ev.get("reason"), on
            o.corrections = list(p.get("corrections") or [])
    return out


def _event_day(on: Any, at: Any) -> str | None:
    """An event's day: its payload's ``on``, else the day of its ``at``; ``None`` if neither
    reads as a date."""
    for value in (on, at):
        try:
            return dt.date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            continue
    return None


def list_objections(ledger: Ledger, subject: str | None = None) -> list[Objection]:
    """Every objection (about ``subject``, when given), oldest first."""
    return list(fold_objections(read_actions(ledger, subject=subject, kind_prefix="objection.")).values())


def get_objection(ledger: Ledger, objection_id: str) -> Objection:
    """One objection; :class:`ObjectionError` when there is none with that id."""
    for o in list_objections(ledger):
        if o.id == objection_id:
            return o
    raise ObjectionError(f"objection: no objection {objection_id!r}")


def review_deadline(
    rulebooks: Sequence[Rulebook], list_id: str | None, rulebook: str | None, on: str
) -> tuple[str, str]:
    """The review deadline of an objection filed on ``on`` against ``list_id`` and where it
    comes from: the list's ``review_within`` in the rulebook version in force that day, else
    the national default (20 days, facts 1.4)."""
    for rb in rulebooks:
        if rulebook not in (None, rb.id) or list_id is None:
            continue
        try:
            version = rb.version_on(on)
        except RulebookError:  # a day before the rulebook's first version: no list there
            continue
        lst = version.lists.get(list_id)
        if lst is not None and lst.review_within is not None:
            end = add_duration(np.array([to_day(on)]), lst.review_within)[0]
            return str(iso(int(end))), f"{rb.id}: {list_id}.review_within ({lst.review_within})"
    end = add_duration(np.array([to_day(on)]), DEFAULT_REVIEW)[0]
    return str(
        iso(int(end))
    ), "national default: 20 days (Credit Reporting Industry Regulation, Art. 25; facts 1.4)"


def _at(on: str) -> str:
    return f"{on}T00:00:00+08:00"


def file_objection(
    ledger: Ledger,
    *,
    subject: str,
    records: Sequence[str],
    grounds: str,
    evidence: str | None = None,
    list_id: str | None = None,
    rulebook: str | None = None,
    on: dt.date | str | None = None,
    actor: str | None = None,
    rulebooks: Sequence[Rulebook] = (),
) -> Objection:
    """File an objection against ``records`` of ``subject`` (and the listing on ``list_id``).

    Raises:
        ObjectionError: an unknown subject, no records, a record that is not the subject's or
            is itself a correction, blank grounds, a malformed date, or an open objection
            against the same record and list already.
    """
    subject = _text(subject, "subject") or ""
    grounds = _text(grounds, "grounds") or ""
    evidence = _text(evidence, "evidence", required=False)
    list_id = _text(list_id, "list", required=False)
    rulebook = _text(rulebook, "rulebook", required=False)
    day = _day(on, "on")
    if isinstance(records, str) or not records:
        raise ObjectionError("records: name at least one record id (a list of ids)")
    wanted = [_text(r, "records") or "" for r in records]
    if ledger.subject(subject) is None:
        raise ObjectionError(f"subject: {subject!r} is not in the registry")
    if rulebook is not None and rulebooks and rulebook not in {rb.id for rb in rulebooks}:
        raise ObjectionError(f"rulebook: {rulebook!r} is not one of {', '.join(rb.id for rb in rulebooks)}")
    if list_id is not None and rulebooks:
        known = {lid for rb in rulebooks for v in rb.versions for lid in v.lists}
        if list_id not in known:
            raise ObjectionError(f"list: {list_id!r} is not a list of the rulebooks in use")
    own = {r["id"]: r for r in ledger.records_of(subject)}
    annulled = {r["corrects"] for r in own.values() if r.get("corrects")}
    for rid in wanted:
        if rid not in own:
            raise ObjectionError(f"records: {rid!r} is not a record about {subject!r}")
        if own[rid].get("corrects"):
            raise ObjectionError(f"records: {rid!r} is a correction, not a record to object to")
        if rid in annulled:
            raise ObjectionError(f"records: {rid!r} is already annulled by a correction")
        if own[rid]["occurred_at"][:10] > day:
            raise ObjectionError(f"on: {day} is before record {rid!r} ({own[rid]['occurred_at'][:10]})")
    for o in list_objections(ledger, subject):
        if o.open and o.list == list_id and set(o.records) & set(wanted):
            raise ObjectionError(
                f"records: objection {o.id} against {sorted(set(o.records) & set(wanted))[0]!r} is still open"
            )
    review_by, basis = review_deadline(rulebooks, list_id, rulebook, day)
    oid = f"obj-{day.replace('-', '')}-{secrets.token_hex(4)}"
    payload = {
        "objection": oid,
        "records": wanted,
        "list": list_id,
        "rulebook": rulebook,
        "grounds": grounds,
        "evidence": evidence,
        "on": day,
        "review_by": review_by,
        "review_basis": basis,
    }
    append_actions(
        ledger,
        [
            {
                "kind": "objection.filed",
                "actor": actor or f"subject:{subject}",
                "subject": subject,
                "reason": grounds,
                "payload": {k: v for k, v in payload.items() if v is not None},
                "at": _at(day),
            }
        ],
    )
    return get_objection(ledger, oid)


def start_review(
    ledger: Ledger,
    objection_id: str,
    *,
    officer: str,
    on: dt.date | str | None = None,
    note: str | None = None,
) -> Objection:
    """An officer takes an objection up (``filed`` → ``under_review``)."""
    officer = _text(officer, "officer") or ""
    day = _day(on, "on")
    o = get_objection(ledger, objection_id)
    if o.state != "filed":
        raise ObjectionError(f"objection: {o.id} is {o.state}, not filed: it cannot be taken up again")
    if day < o.filed_on:
        raise ObjectionError(f"on: {day} is before the objection was filed ({o.filed_on})")
    append_actions(
        ledger,
        [
            {
                "kind": "objection.review",
                "actor": officer,
                "subject": o.subject,
                "reason": _text(note, "note", required=False) or "taken up for review",
                "payload": {"objection": o.id, "on": day},
                "at": _at(day),
            }
        ],
    )
    return get_objection(ledger, o.id)


def decide_objection(
    ledger: Ledger,
    objection_id: str,
    *,
    outcome: str,
    officer: str,
    reasons: str,
    on: dt.date | str | None = None,
    annul: Sequence[str] | None = None,
) -> Objection:
    """Uphold or reject an objection under review.

    Upholding appends, first, one correction record per annulled record (all the objection's
    records unless ``annul`` names some of them): the same subject, category and source, on
    the day of the decision, with ``corrects`` naming the record. Then the decision is appended.

    Raises:
        ObjectionError: an unknown objection or outcome, one not under review, blank reasons,
            a day before the review began, or ``annul`` naming a record not objected to.
    """
    if outcome not in OUTCOMES:
        raise ObjectionError(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}")
    officer = _text(officer, "officer") or ""
    reasons = _text(reasons, "reasons") or ""
    day = _day(on, "on")
    o = get_objection(ledger, objection_id)
    if o.state != "under_review":
        raise ObjectionError(
            f"objection: {o.id} is {o.state}; only an objection under review is decided (review it first)"
        )
    if day < (o.review_started_on or o.filed_on):
        raise ObjectionError(f"on: {day} is before the review began ({o.review_started_on})")
    corrections: list[str] = []
    rows: list[dict[str, Any]] = []
    if outcome == "upheld":
        targets = list(annul) if annul is not None else o.records
        stray = [r for r in targets if r not in o.records]
        if stray:
            raise ObjectionError(f"annul: {stray[0]!r} is not one of the objection's records")
        own = {r["id"]: r for r in ledger.records_of(o.subject)}
        for rid in targets:
            orig = own[rid]
            cid = f"{o.id}:corrects:{rid}"
            rows.append(
                {
                    "id": cid,
                    "subject": o.subject,
                    "category": orig["category"],
                    "source": orig["source"],
                    "occurred_at": day,
                    "corrects": rid,
                    "evidence": f"objection {o.id} upheld by {officer}: {reasons}"[:_MAX_TEXT],
                    "basis": "objection upheld (socialcredit.dueprocess)",
                }
            )
            corrections.append(cid)
    decision = {
        "kind": f"objection.{outcome}",
        "actor": officer,
        "subject": o.subject,
        "reason": reasons,
        "payload": {"objection": o.id, "on": day, "corrections": corrections},
        "at": _at(day),
    }
    if rows:  # the corrections and the decision in one transaction: both or neither
        try:
            ledger.append_records(rows, actions=[decision])
        except (LedgerError, ValueError) as exc:
            raise ObjectionError(f"annul: the correction could not be appended ({exc})") from None
    else:
        append_actions(ledger, [decision])
    return get_objection(ledger, o.id)


def objections_table(objections: Iterable[Objection]) -> pa.Table:
    """The engine's objections input (:data:`OBJECTIONS_SCHEMA`): one row per objected record.

    Example:
        >>> o = Objection("o1", "a", ["r1", "r2"], None, None, "wrong", None, "2019-03-05", "a", None)
        >>> objections_table([o]).column("record").to_pylist()
        ['r1', 'r2']
    """
    rows = []
    for o in objections:
        decided = o.decided_on if o.state in OUTCOMES else None
        for rid in o.records:
            rows.append(
                {
                    "objection": o.id,
                    "record": rid,
                    "list": o.list,
                    "rulebook": o.rulebook,
                    "filed": dt.date.fromisoformat(o.filed_on),
                    "decided": dt.date.fromisoformat(decided) if decided else None,
                    "outcome": o.state if o.state in OUTCOMES else None,
                }
            )
    return pa.Table.from_pylist(rows, schema=OBJECTIONS_SCHEMA)


def due_process(ledger: Ledger, policy: DueProcess | None = None) -> DueProcess:
    """The engine's due-process input: ``policy`` (default: :class:`DueProcess` — notice
    periods on, each list's own ``objection_suspends``) with every objection in the ledger."""
    return dataclasses.replace(policy or DueProcess(), objections=objections_table(list_objections(ledger)))


def bind_ledger(engine: Any, ledger: Ledger, policy: DueProcess | None = None) -> Any:
    """``engine`` bound to the ledger's records and registry under ``policy`` with the ledger's
    objections (:func:`due_process`) and its review decisions on citizen reports
    (:func:`socialcredit.dueprocess.reports.report_review`): a
    :class:`socialcredit.engine.Bound`. Without ``policy`` the original behaviour: no notice,
    objections change nothing until a correction annuls."""
    from socialcredit.dueprocess.reports import report_review

    dp = due_process(ledger, policy) if policy is not None else None
    return engine.bind(ledger.records_table(), ledger.registry(), dp, report_review(ledger))


def listing_records(ev: Any, subject: str, list_id: str, rulebook: str | None = None) -> list[str]:
    """The records that open ``subject``'s listing on ``list_id`` (in force or proposed) in the
    evaluation ``ev``: what an objection "against a listing" objects to.

    Raises:
        ObjectionError: the subject is neither on nor proposed for that list.
    """
    from socialcredit.engine.lists import RECORD

    code = ev.code(subject)
    ids = ev.records.ids
    out: list[str] = []
    for r in ev.results:
        if rulebook not in (None, r.cv.rulebook):
            continue
        mem = r.members.get(list_id)
        if mem is not None:
            d = mem.direct
            rows = d.rows(code)
            out += [ids[int(a)].as_py() for k, a in zip(d.kind[rows], d.a[rows], strict=True) if k == RECORD]
        p = r.pending.get(list_id)
        if p is not None:
            out += [ids[int(a)].as_py() for a in p.record[p.subject == code]]
    if not out:
        raise ObjectionError(
            f"list: {subject!r} is neither on nor proposed for {list_id!r}: name the records"
        )
    return list(dict.fromkeys(out))
