"""Expiry and retention: when negative records stop counting, and when their content goes.

**Expiry** is the rulebooks' (a rule's ``expires_after``, else the rulebook's ``options.expiry``
by the category's direction — the national default: negative information counts 5 years, facts
1.4, Art. 16). :func:`record_status` gives, for each of a subject's records, whether it is in
effect, expired (and since when, per rulebook), annulled by a correction, a correction itself,
or purged. The subject's own file shows them all; :func:`public_records` keeps only those still
in effect somewhere, which is all a public page may show.

**Retention**: after the retention period (5 years from the record's day by default, facts 1.4:
"5 years from end of the conduct/event, then delete") a negative record's *content* may be
purged. :func:`purge_records` replaces the row's canonical text with a tombstone that keeps the
id, category, day and source (no subject, value, evidence, basis or reporter) and the record's
chain link hash, Merkle leaf hash and content digest. ``verify`` accepts a tombstone in place of
its record — the link hash it keeps is the one the next link was chained to, so the chain and
every later hash still verify — and each purge is first recorded as a ``record.purged`` action in
the actions chain, so :func:`check_purges` can show that every tombstone was a purge, not an
edit. A purge is the one operation that rewrites a ledger row: it is never part of an objection.
A record that still opens a listing in force is not purged (its conduct has not ended).

Example:
    >>> t = tombstone({"id": "r1", "subject": "S", "category": "traffic.ticket",
    ...                "occurred_at": "2010-01-01", "source": "traffic_police"}, "ab" * 32, "2016-01-01")
    >>> sorted(json.loads(t)["purged"]), json.loads(t)["subject"]
    (['content_sha256', 'leaf_hash', 'link_hash', 'on'], '')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from socialcredit.engine import Evaluation
from socialcredit.engine.dates import add_duration, iso, to_day
from socialcredit.engine.lists import RECORD
from socialcredit.ledger.actions import append_actions, read_actions
from socialcredit.ledger.store import Ledger
from socialcredit.records import canonical_json
from socialcredit.rulebooks._common import Duration
from socialcredit.vocabulary import vocabulary

__all__ = [
    "RETENTION",
    "check_purges",
    "is_tombstone",
    "public_records",
    "purge_candidates",
    "purge_records",
    "record_status",
    "tombstone",
]

#: Facts 1.4 (Credit Reporting Industry Regulation, Art. 16): negative personal credit
#: information is kept 5 years from the end of the conduct, then deleted.
RETENTION = Duration(years=5)
_KEPT = ("id", "category", "occurred_at", "source")


def tombstone(record: dict[str, Any], link_hash: str, on: str) -> str:
    """The canonical text that replaces a purged record (see the module docstring)."""
    text = canonical_json({k: v for k, v in record.items() if k not in ("seq",)})
    kept = {k: record[k] for k in _KEPT if record.get(k) is not None}
    return canonical_json(
        {
            **kept,
            "subject": "",
            "purged": {
                "on": on,
                "link_hash": link_hash,
                "leaf_hash": hashlib.sha256(b"\x00" + text.encode()).hexdigest(),
                "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
            },
        }
    )


def is_tombstone(text: str) -> bool:
    """Whether a stored canonical text is a purged record's tombstone."""
    if '"purged":{' not in text:
        return False
    try:
        return isinstance(json.loads(text).get("purged"), dict)
    except (ValueError, AttributeError):
        return False


def _direction(category: str) -> str | None:
    cat = vocabulary().categories.get(category)
    return getattr(cat, "direction", None) if cat is not None else None


def record_status(ev: Evaluation, subject: str, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of ``subject``'s ``records`` (as :meth:`Ledger.records_of` gives them) as of the
    evaluation date: ``status`` (``in_effect``, ``expired``, ``annulled``, ``correction``,
    ``purged``, ``future``) and, per rulebook that counts its category, when it expires."""
    annulled = {r["corrects"] for r in records if r.get("corrects")}
    today = ev.as_of.isoformat()
    out = []
    for r in records:
        expiries: dict[str, str | None] = {}
        for res in ev.results:
            rules = [c for c in res.cv.rules if c.category == r.get("category")]
            entries = [c for c in res.cv.lists if r.get("category") in {e.category for e in c.lst.enter}]
            if not rules and not entries:
                continue
            ends = [
                iso(int(add_duration(np.array([to_day(r["occurred_at"][:10])]), c.expiry)[0]))
                for c in rules
                if c.expiry is not None
            ]
            expiries[res.cv.rulebook] = (
                max(ends) if ends and len(ends) == len(rules) and not entries else None
            )
        if isinstance(r.get("purged"), dict):
            status = "purged"
        elif r.get("corrects"):
            status = "correction"
        elif r["id"] in annulled:
            status = "annulled"
        elif r["occurred_at"][:10] > today:
            status = "future"
        elif expiries and all(e is not None and e <= today for e in expiries.values()):
            status = "expired"
        else:
            status = "in_effect"
        out.append(
            {
                "id": r["id"],
                "category": r.get("category"),
                "occurred_at": r.get("occurred_at"),
                "source": r.get("source"),
                "status": status,
                "expires": expiries,
            }
        )
    return out


def public_records(statuses: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a public page may show of :func:`record_status`: records still in effect."""
    return [s for s in statuses if s["status"] == "in_effect"]


def purge_candidates(
    ledger: Ledger, on: dt.date | str, *, retention: Duration = RETENTION, ev: Evaluation | None = None
) -> list[dict[str, Any]]:
    """Negative records (category direction ``breaking``) whose retention ended by ``on``,
    not yet purged, and — given ``ev`` — not opening a listing in force on its date."""
    day = to_day(on if isinstance(on, str) else on.isoformat())
    keep: set[str] = set()
    if ev is not None and ev.records.ids is not None:
        for res in ev.results:
            for mem in res.members.values():
                d = mem.direct
                keep |= {ev.records.ids[int(p)].as_py() for p in d.a[d.kind == RECORD]}
    rows = []
    with ledger.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT seq, canonical, hash FROM records ORDER BY seq").all()
    for seq, text, link in found:
        if is_tombstone(text):
            continue
        rec = json.loads(text)
        if _direction(rec["category"]) != "breaking" or rec["id"] in keep:
            continue
        ends = int(add_duration(np.array([to_day(rec["occurred_at"][:10])]), retention)[0])
        if ends <= day:
            rows.append({"seq": int(seq), "hash": str(link), "record": rec})
    return rows


def purge_records(
    ledger: Ledger,
    on: dt.date | str,
    *,
    actor: str,
    reason: str = "retention period ended (5 years, facts 1.4, Art. 16)",
    retention: Duration = RETENTION,
    ev: Evaluation | None = None,
) -> list[str]:
    """Purge the content of every :func:`purge_candidates` record: first a ``record.purged``
    action each (the id, seq, link hash and content digest), then the tombstones. Returns the
    purged record ids."""
    day = on if isinstance(on, str) else on.isoformat()
    todo = purge_candidates(ledger, day, retention=retention, ev=ev)
    if not todo:
        return []
    stones = [(c["seq"], tombstone(c["record"], c["hash"], day)) for c in todo]
    append_actions(
        ledger,
        [
            {
                "kind": "record.purged",
                "actor": actor,
                "subject": None,  # the purge must not keep whose record it was
                "reason": reason,
                "payload": {
                    "record": c["record"]["id"],
                    "seq": c["seq"],
                    "link_hash": c["hash"],
                    "content_sha256": json.loads(s)["purged"]["content_sha256"],
                    "on": day,
                },
                "at": f"{day}T00:00:00+08:00",
            }
            for c, (_, s) in zip(todo, stones, strict=True)
        ],
    )

    def work(conn: Any) -> None:
        conn.exec_driver_sql(
            f"UPDATE records SET canonical = {ledger.mark}, subject = '', value = 1, evidence = NULL, "
            f"basis = NULL, reported_by = NULL, corrects = NULL WHERE seq = {ledger.mark}",
            [(s, seq) for seq, s in stones],
        )

    ledger._write(work)
    return [c["record"]["id"] for c in todo]


def check_purges(ledger: Ledger) -> list[str]:
    """Problems with purges: a tombstone no ``record.purged`` action accounts for (an edit made
    to look like a purge), or one whose link hash differs from the action's. Empty when every
    tombstone is a recorded purge."""
    purged = {a["payload"].get("seq"): a["payload"] for a in read_actions(ledger, kind="record.purged")}
    out = []
    with ledger.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT seq, id, canonical, hash FROM records ORDER BY seq").all()
    for seq, rid, text, link in rows:
        if not is_tombstone(text):
            continue
        act = purged.get(int(seq))
        if act is None:
            out.append(f"record seq {seq} (id {rid}) is a tombstone no record.purged action accounts for")
        elif act.get("link_hash") != link or json.loads(text)["purged"]["link_hash"] != link:
            out.append(f"record seq {seq} (id {rid}): its tombstone does not match the purge action")
    return out
