"""Citizen reports held for review (issue #16, item 5): a burst of malicious reports by one
reporter lists nobody by itself.

A record from an informant source (a source of kind ``citizen`` in the vocabulary:
``citizen_report``) is a claim by one resident about another (seed 002: "malicious reports",
rewarded informants). The engine holds such a record out of evaluation until

* a department **confirms** it (a ``report.confirmed`` action in the ledger's actions chain,
  :mod:`socialcredit.dueprocess.reports`): it counts from the day of the confirmation; or
* a **quorum** of distinct reporters (``reported_by``) report the same subject for the same
  category within a **window**: it counts from the day the quorum is reached, which is at most
  ``window_days - 1`` days after the report itself.

A burst by one reporter counts as one: of one reporter's reports about one subject and category,
the first opens a window of ``window_days`` days and the reports inside it are **repeats**, never
counted by the quorum (the reporter is one voice) — only a confirmation of the repeat itself makes
it count. A **rejected** report (``report.rejected``) never counts and takes no part in a quorum.
A report without a reporter the registry knows counts only when confirmed. Annulled reports and
corrections (``corrects``) take no part.

The quorum size and the window are policy settings (:class:`ReportReview`); no source document
gives numbers, so the defaults — 3 distinct reporters within 30 days — are **assumed**
(:data:`ASSUMED`): three, so that neither one resident nor a pair of quarrelling neighbours lists
anyone; 30 days, the span of a month's reporting cycle in the pilots' informant rewards.

Records that reached the engine only after a review upheld them — the simulator's informants loop
reviews each report the day it is filed (:class:`socialcredit.simulate.feedback.Informants`) —
come with :attr:`socialcredit.engine.data.RecordArrays.reviewed` set: nothing of them is held.

The engine knows nothing of the ledger: the decisions arrive as a table (:data:`DECISIONS_SCHEMA`)
in the :class:`ReportReview` given to ``Engine.bind(..., reports=...)``.

Example:
    >>> from socialcredit.records import records_table
    >>> from socialcredit.registry import Registry
    >>> from socialcredit.engine.data import records_from_table, subjects_from_registry
    >>> reg = Registry.from_lines([{"id": x, "kind": "person", "name": x} for x in "abcd"])
    >>> subs = subjects_from_registry(reg)
    >>> recs = records_from_table(records_table([
    ...     {"id": f"r{i}", "subject": "a", "category": "pet.dog_off_leash", "source": "citizen_report",
    ...      "reported_by": who, "occurred_at": day}
    ...     for i, (who, day) in enumerate([("b", "2020-01-01"), ("b", "2020-01-02"),
    ...                                     ("c", "2020-01-05"), ("d", "2020-01-09")])]), subs)
    >>> review = review_of(recs, ReportReview())
    >>> [iso(int(d)) if d < NEVER else None for d in review.release]
    ['2020-01-09', None, '2020-01-09', '2020-01-09']
    >>> [STATES[int(s)] for s in review.state]
    ['quorum', 'repeat', 'quorum', 'quorum']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from socialcredit.engine.data import RecordArrays
from socialcredit.engine.dates import NEVER, UNKNOWN, iso, to_day
from socialcredit.vocabulary import vocabulary

__all__ = [
    "ASSUMED",
    "DECISIONS_SCHEMA",
    "INFORMANT_KINDS",
    "QUORUM",
    "STATES",
    "WINDOW_DAYS",
    "ReportReview",
    "Review",
    "informant_sources",
    "review_of",
]

#: Source kinds whose records are claims by one person about another (``citizen_report``).
INFORMANT_KINDS = ("citizen",)
#: Distinct reporters whose reports about one subject and category make them count (assumed).
QUORUM = 3
#: The window, in days, of a quorum and of a reporter's repeats (assumed).
WINDOW_DAYS = 30
#: Why the defaults are what they are: no source gives a number.
ASSUMED = (
    "assumed: 3 distinct reporters within 30 days (no source gives a quorum or a window for "
    "citizen reports; three so that neither one resident nor a pair of quarrelling neighbours "
    "lists anyone, 30 days a month's reporting cycle)"
)

#: The review decisions the engine reads: the record, ``confirmed`` or ``rejected``, the day.
DECISIONS_SCHEMA = pa.schema([("record", pa.string()), ("outcome", pa.string()), ("on", pa.date32())])

#: Per-record review state (indexes into this tuple): ``counts`` — not a report, or a report
#: whose records were reviewed upstream; ``confirmed``; ``quorum``; ``held`` — waiting for a
#: confirmation or a quorum; ``repeat`` — a reporter's repeat inside the window of an earlier
#: report; ``rejected``; ``anonymous`` — no reporter the registry knows.
STATES = ("counts", "confirmed", "quorum", "held", "repeat", "rejected", "anonymous")
COUNTS, CONFIRMED, QUORUM_MET, HELD, REPEAT, REJECTED, ANONYMOUS = range(len(STATES))


def informant_sources() -> tuple[str, ...]:
    """The sources of kind :data:`INFORMANT_KINDS` in the vocabulary (``citizen_report``)."""
    return tuple(s.id for s in vocabulary().sources.values() if s.kind in INFORMANT_KINDS)


@dataclass(frozen=True)
class ReportReview:
    """The review policy for informant reports, and the decisions taken so far.

    ``quorum`` distinct reporters within ``window_days`` make a report count (``quorum`` 0: no
    report is held — the original system, where reports count as they come); ``decisions`` a
    :data:`DECISIONS_SCHEMA` table (``None``: none); ``sources`` the informant sources (``None``:
    :func:`informant_sources`).
    """

    quorum: int = QUORUM
    window_days: int = WINDOW_DAYS
    decisions: pa.Table | None = None
    sources: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.quorum < 0 or self.window_days < 1:
            raise ValueError("quorum must not be negative and window_days at least 1")

    @property
    def holds(self) -> bool:
        """Whether any report is held at all."""
        return self.quorum > 0

    def informants(self) -> tuple[str, ...]:
        return self.sources if self.sources is not None else informant_sources()


@dataclass
class Review:
    """Per record: ``release`` (the first day it counts: ``UNKNOWN`` for every record that is
    not a held report, ``NEVER`` while nothing releases it), ``state`` (a :data:`STATES` index,
    as of the decisions: a report confirmed or in a quorum later than the evaluation date is
    still held on that date, see :meth:`state_on`) and ``reporters`` (for a report: the distinct
    reporters about its subject and category inside its window, repeats and rejected excluded)."""

    release: np.ndarray
    state: np.ndarray
    reporters: np.ndarray

    @property
    def any_held(self) -> bool:
        return bool(len(self.release)) and bool((self.release > UNKNOWN).any())

    def held_on(self, day: int) -> np.ndarray:
        """Whether each record is held out of the evaluation as of ``day``."""
        return self.release > day

    def state_on(self, pos: int, day: int) -> str:
        """The state of the record at ``pos`` as of ``day``."""
        s = int(self.state[pos])
        if s in (CONFIRMED, QUORUM_MET) and self.release[pos] > day:
            return STATES[HELD]
        return STATES[s]


def _decisions(recs: RecordArrays, table: pa.Table | None) -> dict[int, tuple[str, int]]:
    """Record position -> (outcome, day) of the last decision about it."""
    if table is None or not table.num_rows or recs.ids is None:
        return {}
    where: dict[str, list[int]] = {}
    for i, rid in enumerate(recs.ids.to_pylist()):
        where.setdefault(rid, []).append(i)
    out: dict[int, tuple[str, int]] = {}
    for row in table.to_pylist():
        on = row["on"]
        day = to_day(on.isoformat() if isinstance(on, dt.date) else str(on))
        for i in where.get(row["record"], ()):
            out[i] = (row["outcome"], day)
    return out


def review_of(recs: RecordArrays, review: ReportReview) -> Review:
    """Every record's review (see the module docstring): what :class:`~socialcredit.engine.Bound`
    computes once per binding."""
    n = len(recs)
    release = np.full(n, UNKNOWN, np.int64)
    state = np.full(n, COUNTS, np.int8)
    reporters = np.zeros(n, np.int32)
    if not n or not review.holds or recs.reviewed or recs.source is None:
        return Review(release, state, reporters)
    codes = [recs.sources.index(s) for s in review.informants() if s in recs.sources]
    if not codes:
        return Review(release, state, reporters)
    reports = np.flatnonzero(np.isin(recs.source, codes) & ~recs.void)
    if not len(reports):
        return Review(release, state, reporters)
    decided = _decisions(recs, review.decisions)
    who = recs.reporter[reports] if recs.reporter is not None else np.full(len(reports), -1)
    window = review.window_days
    release[reports] = NEVER
    state[reports] = HELD
    # one reporter's repeats: per (reporter, subject, category), in time (then ledger) order,
    # the first report opens a window; the reports inside it are repeats
    groups: dict[
        tuple[int, int], list[tuple[int, int, int]]
    ] = {}  # (subject, category) -> (day, pos, reporter)
    last: dict[tuple[int, int, int], int] = {}
    order = np.lexsort((reports, recs.day[reports]))
    for k in order:
        pos, r = int(reports[k]), int(who[k])
        outcome = decided.get(pos)
        if outcome is not None and outcome[0] == "rejected":
            state[pos] = REJECTED
            continue
        if r < 0:
            state[pos] = ANONYMOUS
            continue
        day = int(recs.day[pos])
        key = (r, int(recs.subject[pos]), int(recs.category[pos]))
        opened = last.get(key)
        if opened is not None and day - opened < window:
            state[pos] = REPEAT
            continue
        last[key] = day
        groups.setdefault(key[1:], []).append((day, pos, r))
    # the quorum: the first day t in [d, d + window) on which the reporters of the last
    # `window` days (t - window, t] number `quorum` or more
    for items in groups.values():
        days = [d for d, _, _ in items]
        for i, (d, pos, _) in enumerate(items):
            near = {r for d2, _, r in items if d - window < d2 < d + window}
            reporters[pos] = len(near)
            if len(near) < review.quorum:
                continue
            for t in sorted({x for x in days[i:] if x < d + window}):
                seen = {r for d2, _, r in items if t - window < d2 <= t}
                if len(seen) >= review.quorum:
                    release[pos] = t
                    state[pos] = QUORUM_MET
                    break
    # confirmations: from the day of the confirmation (or the quorum's, if earlier)
    for pos, (outcome, day) in decided.items():
        if outcome != "confirmed" or state[pos] in (COUNTS, REJECTED):
            continue
        when = max(day, int(recs.day[pos]))
        if when <= release[pos]:
            release[pos] = when
            state[pos] = CONFIRMED
    return Review(release, state, reporters)


def describe(review: Review, pos: int, day: int, policy: ReportReview) -> str:
    """Why the report at ``pos`` is held (or counts) as of ``day``, in words, naming no reporter."""
    s = review.state_on(pos, day)
    if s == "held":
        if review.state[pos] in (CONFIRMED, QUORUM_MET):
            return f"held until {iso(int(review.release[pos]))}"
        return (
            f"held for review: {int(review.reporters[pos])} of {policy.quorum} distinct reporters "
            f"within {policy.window_days} days; counts once a department confirms it or a quorum reports"
        )
    return {
        "repeat": f"a repeat by the same reporter within {policy.window_days} days: "
        "counts once, as the first",
        "rejected": "rejected in review: never counts",
        "anonymous": "no reporter the registry knows: counts only when a department confirms it",
        "confirmed": "confirmed by a department",
        "quorum": f"reported by {policy.quorum} or more distinct reporters within {policy.window_days} days",
    }.get(s, s)
