"""List memberships on the evaluation date, each with its reasons, start and end.

A subject is on a list on day ``D`` for one or more *reasons*, each with ``since`` and ``until``
(exclusive; ``NEVER`` when no end is known on ``D``):

* ``record``: a listing opened by a record of an entry's category (from the sources in ``by``;
  the ``min_count``-th such record within ``within``). The listing lasts the entry's
  ``duration`` (none: until an exit), extended by each record of ``extensions.on`` while its
  term runs (by ``extensions.min``, never beyond ``total_max`` from the start). A record of an
  exit's category (``repair: true`` listens to ``judicial.credit_repaired``) ends it
  ``delist_within`` later, and never before ``min_duration`` from the start; a fixed term also
  ends ``delist_within`` after it runs out. A new entry while a deletion is pending keeps the
  subject listed. Subjects under ``exempt.under_age`` on the record's day are never listed.
* ``on_list``: while the subject is on that other list (any reason).
* ``score_below`` / ``grade_in``: while the score or grade on ``D`` says so.
* ``via``: propagated along ``propagate`` relations from a subject listed for one of the reasons
  above, while both the listing and the relation hold (see :mod:`socialcredit.engine.propagate`).

With a :class:`DueProcess` (issue 13; none: the original behaviour) a black listing opened by a
record takes effect only after its notice period, and an objection filed in time suspends it
where the list's ``objection_suspends`` says so (see :func:`apply_due_process`); listings not
yet in force are kept as :class:`Pending` rows, from which notices are issued.

Listings follow records in their order (day, then ledger order); each subject's records for a
list run through a small state machine, stepped for all subjects at once: the loop runs over the
n-th event of every subject, never over subjects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit.engine.compile import CList
from socialcredit.engine.conditions import among
from socialcredit.engine.data import RecordArrays, SubjectArrays
from socialcredit.engine.dates import NEVER, UNKNOWN, add_duration, age_day, born_by
from socialcredit.engine.kernels import run_starts, sort_by, window_rank
from socialcredit.engine.points import ModelScores
from socialcredit.rulebooks._common import Duration

RECORD, ON_LIST, SCORE, GRADE, VIA = range(5)
REASON_KINDS = ("record", "on_list", "score_below", "grade_in", "via")


@dataclass
class Reasons:
    """Reasons in force on the evaluation date, one row each, sorted by subject.

    ``a`` and ``b`` by kind — record: record position, entry index; on_list: -, entry index;
    score/grade: model index, entry index; via: the listed subject, relation index in
    ``propagate``.
    """

    subject: np.ndarray
    since: np.ndarray
    until: np.ndarray
    kind: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def concat(cls, parts: list[Reasons]) -> Reasons:
        if not parts:
            z = np.zeros(0, np.int64)
            return cls(z.astype(np.int32), z, z, z.astype(np.int8), z, z)
        cols = [
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("subject", "since", "until", "kind", "a", "b")
        ]
        order = np.argsort(cols[0], kind="stable")
        return cls(*(c[order] for c in cols))

    @classmethod
    def of(
        cls,
        subject: np.ndarray,
        since: np.ndarray,
        until: np.ndarray,
        kind: int,
        a: np.ndarray | int,
        b: np.ndarray | int,
    ) -> Reasons:
        n = len(subject)
        return cls(
            np.asarray(subject, np.int32),
            np.asarray(since, np.int64),
            np.asarray(until, np.int64),
            np.full(n, kind, np.int8),
            np.broadcast_to(np.asarray(a, np.int64), (n,)).copy(),
            np.broadcast_to(np.asarray(b, np.int64), (n,)).copy(),
        )

    def rows(self, subject: int) -> slice:
        lo, hi = np.searchsorted(self.subject, [subject, subject + 1])
        return slice(int(lo), int(hi))


@dataclass
class Membership:
    """Who is on one list on the evaluation date: ``subjects`` (sorted, unique) with ``since``
    (earliest start among their reasons) and ``until`` (latest end), and every reason."""

    lst: CList
    subjects: np.ndarray
    since: np.ndarray
    until: np.ndarray
    reasons: Reasons
    direct: Reasons

    @classmethod
    def of(cls, lst: CList, reasons: Reasons, direct: Reasons) -> Membership:
        if not len(reasons.subject):
            z = np.zeros(0, np.int64)
            return cls(lst, z.astype(np.int32), z, z, reasons, direct)
        first = np.flatnonzero(run_starts(reasons.subject))
        return cls(
            lst,
            reasons.subject[first],
            np.minimum.reduceat(reasons.since, first),
            np.maximum.reduceat(reasons.until, first),
            reasons,
            direct,
        )

    def has(self, codes: np.ndarray) -> np.ndarray:
        """Whether each subject code is on the list."""
        i = np.searchsorted(self.subjects, codes)
        i = np.minimum(i, max(len(self.subjects) - 1, 0))
        return (self.subjects[i] == codes) if len(self.subjects) else np.zeros(len(codes), bool)


def exempt_mask(lst: CList, subjects: SubjectArrays, who: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """Whether each subject may be on ``lst`` on ``day``: a kind it lists, not exempt by age."""
    ok = among(subjects.kind[who], lst.kinds)
    if lst.under_age is not None:
        if np.ndim(day) == 0:
            ok &= subjects.birth[who] <= born_by(lst.under_age, int(day))
        else:
            ok &= age_day(subjects.birth[who], lst.under_age) <= day
    return ok


def record_reasons(
    lst: CList, by_cat: dict[int, np.ndarray], recs: RecordArrays, subjects: SubjectArrays, day: int
) -> Reasons:
    """Listings opened by records and still in force on ``day`` (see the module docstring).

    Each record is one event with flags (entry, extension, exit); a record has one category, so
    the events are built category by category, each block in ledger order.
    """
    cats = sorted(
        {e.cat for e in lst.entries if e.kind == "record"}
        | {c for e in lst.entries for c in e.ext_cats}
        | set(lst.exit_cats)
    )
    blocks = []
    for c in cats:
        pos = by_cat.get(c) if c >= 0 else None
        if pos is None or not len(pos):
            continue
        n = len(pos)
        b_entry = np.zeros(n, bool)
        b_entry_of = np.full(n, -1, np.int64)
        b_term = np.full(n, UNKNOWN, np.int64)
        b_ext_of = np.full(n, -1, np.int64)
        d = recs.day[pos].astype(np.int64)
        for e in lst.entries:
            if e.kind == "record" and e.cat == c:
                ok = np.ones(n, bool)
                codes = recs.source_codes(e.by)
                if codes is not None:
                    ok &= np.isin(recs.source[pos], codes)
                if e.entry.min_count > 1:
                    sel = np.flatnonzero(ok)
                    ss, dd = recs.subject[pos[sel]], d[sel]
                    o = sort_by(ss, dd)
                    rank = window_rank(ss[o], dd[o], e.entry.within)
                    ok[:] = False
                    ok[sel[o][rank >= e.entry.min_count]] = True
                sel = np.flatnonzero(ok)
                sel = sel[exempt_mask(lst, subjects, recs.subject[pos[sel]], d[sel])]
                b_entry_of[sel[b_entry_of[sel] < 0]] = e.index
                b_term[sel] = np.maximum(b_term[sel], add_duration(d[sel], e.duration))
                b_entry[sel] = True
            if c in e.ext_cats and e.ext_min is not None:
                b_ext_of[b_ext_of < 0] = e.index
        b_exit = np.full(n, c in lst.exit_cats)
        blocks.append((pos, d, b_entry, b_ext_of >= 0, b_exit, b_entry_of, b_ext_of, b_term))
    if not blocks:
        return Reasons.concat([])
    cols = [np.concatenate(col) for col in zip(*blocks, strict=True)]
    if len(blocks) > 1:  # back to ledger order, so that ties on one day follow the ledger
        o = np.argsort(cols[0], kind="stable")
        cols = [c[o] for c in cols]
    pos, days, is_entry, is_ext, is_exit, entry_of, ext_of, term = cols
    subj = recs.subject[pos]
    order = sort_by(subj, days)
    return _run(
        lst,
        pos[order],
        subj[order],
        days[order],
        is_entry[order],
        is_ext[order],
        is_exit[order],
        entry_of[order],
        ext_of[order],
        term[order],
        day,
    )


def _end(lst: CList, term: np.ndarray, exit_end: np.ndarray) -> np.ndarray:
    fixed = add_duration(term, lst.delist) if lst.delist is not None else term
    return np.minimum(fixed, exit_end)


def _run(
    lst: CList,
    pos: np.ndarray,
    subj: np.ndarray,
    days: np.ndarray,
    is_entry: np.ndarray,
    is_ext: np.ndarray,
    is_exit: np.ndarray,
    entry_of: np.ndarray,
    ext_of: np.ndarray,
    term_of: np.ndarray,
    day: int,
) -> Reasons:
    """Step every subject's state machine over its events, the k-th events of all at once."""
    first = np.flatnonzero(run_starts(subj))
    size = np.diff(np.append(first, len(subj)))
    g = len(first)
    open_ = np.zeros(g, bool)
    start = np.zeros(g, np.int64)
    term = np.zeros(g, np.int64)
    exit_end = np.full(g, NEVER, np.int64)
    opener = np.full(g, -1, np.int64)
    entry = np.full(g, -1, np.int64)
    exts = {e.index: e for e in lst.entries if e.ext_min is not None}
    for k in range(int(size.max()) if g else 0):
        live = np.flatnonzero(size > k)
        i = first[live] + k
        d = days[i]
        # a listing whose end has come closes before this event
        ended = open_[live] & (_end(lst, term[live], exit_end[live]) <= d)
        open_[live[ended]] = False
        o = open_[live]
        # extension: a running fixed term with no deletion pending
        ext = o & is_ext[i] & (term[live] < NEVER) & (exit_end[live] >= NEVER)
        for eidx, e in exts.items():
            sel = ext & (ext_of[i] == eidx)
            if sel.any():
                gi = live[sel]
                longer = add_duration(term[gi], e.ext_min)
                if e.ext_total is not None:
                    longer = np.minimum(longer, add_duration(start[gi], e.ext_total))
                term[gi] = np.maximum(term[gi], longer)
        ent = is_entry[i] & ~ext
        new = ent & ~o
        gi = live[new]
        open_[gi], start[gi], term[gi] = True, d[new], term_of[i][new]
        exit_end[gi], opener[gi], entry[gi] = NEVER, pos[i][new], entry_of[i][new]
        again = ent & o
        gi = live[again]
        term[gi] = np.maximum(term[gi], term_of[i][again])
        exit_end[gi] = NEVER
        # exit: the deletion deadline, not before the minimum duration
        out = is_exit[i] & open_[live] & ~is_entry[i]
        gi = live[out]
        when = add_duration(d[out], lst.delist) if lst.delist is not None else d[out]
        if lst.min_duration is not None:
            when = np.maximum(when, add_duration(start[gi], lst.min_duration))
        exit_end[gi] = np.minimum(exit_end[gi], when)
    end = _end(lst, term, exit_end)
    live = open_ & (end > day) & (start <= day)
    return Reasons.of(subj[first[live]], start[live], end[live], RECORD, opener[live], entry[live])


def derived_reasons(
    lst: CList, subjects: SubjectArrays, day: int, members: dict[str, Membership], models: list[ModelScores]
) -> list[Reasons]:
    """Reasons through another list, a score or a grade."""
    out = []
    for e in lst.entries:
        if e.kind == "on_list":
            src = members.get(e.entry.on_list or "")
            if src is None or not len(src.subjects):
                continue
            ok = exempt_mask(lst, subjects, src.subjects, day)
            out.append(Reasons.of(src.subjects[ok], src.since[ok], src.until[ok], ON_LIST, -1, e.index))
        elif e.kind in ("score_below", "grade_in"):
            for mi, ms in enumerate(models):
                if e.entry.score not in (None, ms.model.id):
                    continue
                if e.kind == "score_below":
                    hit = ms.scored & (ms.score < float(e.entry.score_below or 0))
                else:
                    codes = [ms.model.grade_index(gname) for gname in e.entry.grade_in or []]
                    hit = ms.scored & among(ms.grade, [c for c in codes if c >= 0])
                who = np.flatnonzero(hit).astype(np.int32)
                who = who[exempt_mask(lst, subjects, who, day)]
                kind = SCORE if e.kind == "score_below" else GRADE
                out.append(
                    Reasons.of(who, np.full(len(who), UNKNOWN), np.full(len(who), NEVER), kind, mi, e.index)
                )
    return out


# -- due process (issue 13) -------------------------------------------------------------------

#: What happens when an objection that suspends a listing is not answered by its review deadline:
#: ``keep`` — the listing stays suspended until the objection is answered (the authority, not the
#: subject, bears the delay); ``proceed`` — the listing takes effect on the deadline; ``uphold`` —
#: silence counts as upholding the objection, and the listing never takes effect.
OVERDUE_RULES = ("keep", "proceed", "uphold")
#: Facts 1.4 (Credit Reporting Industry Regulation, Art. 25): an objection to credit information
#: is verified and answered in writing within 20 days. A list's ``review_within`` overrides it
#: (the court list: 15 days, facts 2.3).
DEFAULT_REVIEW = Duration(days=20)
#: Assumed: a notice period of 10 days where a list sets none, taken from the 10 days a party has
#: to apply for reconsideration after a listing decision is served (facts 2.3, Art. 12); the
#: sources give no period between the warning and the listing (facts 2.1, Art. 5).
DEFAULT_NOTICE_DAYS = 10

#: The objections the engine reads: one row per objected record (ids as in the records table).
OBJECTIONS_SCHEMA = pa.schema(
    [
        ("objection", pa.string()),  # the objection's id
        ("record", pa.string()),  # the record objected to
        ("list", pa.string()),  # the listing objected to (null: any listing the record opens)
        ("rulebook", pa.string()),  # null: any rulebook
        ("filed", pa.date32()),
        ("decided", pa.date32()),  # null: not answered
        ("outcome", pa.string()),  # "upheld", "rejected" or null
    ]
)

NOTICE, SUSPENDED, OVERDUE = range(3)
PENDING_STATUS = ("notice", "suspended", "overdue")


@dataclass(frozen=True)
class DueProcess:
    """Due process as an input to the engine: notice periods and objections.

    ``notice``: black listings opened by a record take effect only after the list's notice
    period (``notice.days``; ``notice_days`` where the list gives none). ``objections``: a table
    of :data:`OBJECTIONS_SCHEMA`. An objection filed before the listing takes effect is *timely*;
    a timely objection suspends the listing while it is unanswered where the list's
    ``objection_suspends`` says so (``suspends`` overrides every list, ``suspends_lists`` one
    list; a list that says nothing does not suspend). Unanswered past its review deadline (the
    list's ``review_within``, else ``review``) it follows ``overdue`` (see
    :data:`OVERDUE_RULES`). A rejected objection lets the listing take effect on the day of the
    decision (or at the end of the notice period, whichever is later); an upheld one removes the
    listing from the day of the decision (and the correction record it comes with annuls the
    record on every date). Red lists take effect at once.

    Example:
        >>> dp = DueProcess(suspends=True)
        >>> dp.suspends_of("judgment_defaulters", False), DueProcess().suspends_of("x", None)
        (True, False)
    """

    notice: bool = True
    notice_days: int = DEFAULT_NOTICE_DAYS
    review: Duration = DEFAULT_REVIEW
    objections: pa.Table | None = None
    suspends: bool | None = None
    suspends_lists: Mapping[str, bool] = field(default_factory=dict)
    overdue: Literal["keep", "proceed", "uphold"] = "keep"
    overdue_lists: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rules = [self.overdue, *self.overdue_lists.values()]
        bad = [r for r in rules if r not in OVERDUE_RULES]
        if bad:
            raise ValueError(f"overdue: {bad[0]!r} is not one of {', '.join(OVERDUE_RULES)}")
        if self.notice_days < 0:
            raise ValueError(f"notice_days: {self.notice_days} is negative")
        if self.objections is not None:
            missing = [n for n in OBJECTIONS_SCHEMA.names if n not in self.objections.column_names]
            if missing:
                raise ValueError(f"objections: the table lacks the column {missing[0]!r}")
            for col in ("filed", "decided"):
                try:
                    self.objections[col].cast(pa.date32())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                    raise ValueError(f"objections: column {col!r} does not hold dates") from None
            bad = set(self.objections["outcome"].to_pylist()) - {None, "upheld", "rejected"}
            if bad:
                raise ValueError(
                    f"objections: outcome {sorted(map(str, bad))[0]!r} is not upheld, rejected or null"
                )

    def notice_days_of(self, clist: CList) -> int:
        """Days between the notice and the listing taking effect (0 without notice)."""
        if not self.notice or clist.lst.kind != "black":
            return 0
        n = clist.lst.notice.days if clist.lst.notice is not None else None
        return self.notice_days if n is None else int(n)

    def suspends_of(self, list_id: str, rule: bool | None) -> bool:
        """Whether a timely, unanswered objection suspends a listing on ``list_id``."""
        if list_id in self.suspends_lists:
            return bool(self.suspends_lists[list_id])
        if self.suspends is not None:
            return self.suspends
        return bool(rule)

    def review_of(self, clist: CList) -> Duration:
        return clist.lst.review_within or self.review

    def overdue_of(self, clist: CList) -> str:
        """The overdue rule of a list: the policy's for that list, else the list's own
        ``on_overdue``, else the policy's default."""
        if clist.id in self.overdue_lists:
            return self.overdue_lists[clist.id]
        return clist.lst.on_overdue or self.overdue

    def intern(self, recs: RecordArrays) -> ObjectionArrays:
        """The objections against ``recs``' positions (rows naming an unknown record are
        dropped: an objection about a record the engine does not see changes nothing)."""
        t = self.objections
        if t is None or not t.num_rows or recs.ids is None:
            return ObjectionArrays.empty()
        pos = pc.index_in(t["record"].combine_chunks().cast(pa.string()), value_set=recs.ids)
        keep = pc.is_valid(pos)
        t = t.filter(keep)
        pos = pos.filter(keep)

        def days(col: str) -> np.ndarray:
            a = t[col].combine_chunks().cast(pa.date32()).cast(pa.int32())
            return np.asarray(pc.fill_null(a, 0).to_numpy(zero_copy_only=False), np.int64), np.asarray(
                pc.is_valid(a).to_numpy(zero_copy_only=False), bool
            )

        filed, has_filed = days("filed")
        decided, has_decided = days("decided")
        outcome = t["outcome"].combine_chunks().cast(pa.string()).to_pylist()
        return ObjectionArrays(
            ids=t["objection"].combine_chunks().cast(pa.string()).to_pylist(),
            pos=np.asarray(pos.to_numpy(zero_copy_only=False), np.int64),
            lists=t["list"].combine_chunks().cast(pa.string()).to_pylist(),
            rulebooks=t["rulebook"].combine_chunks().cast(pa.string()).to_pylist(),
            filed=np.where(has_filed, filed, NEVER),
            decided=np.where(has_decided & np.isin(outcome, ["upheld", "rejected"]), decided, NEVER),
            upheld=np.array([o == "upheld" for o in outcome], bool),
        )


@dataclass
class ObjectionArrays:
    """Objections interned against one set of records (see :meth:`DueProcess.intern`)."""

    ids: list[str]
    pos: np.ndarray
    lists: list[str | None]
    rulebooks: list[str | None]
    filed: np.ndarray
    decided: np.ndarray
    upheld: np.ndarray

    @classmethod
    def empty(cls) -> ObjectionArrays:
        z = np.zeros(0, np.int64)
        return cls([], z, [], [], z, z, z.astype(bool))


@dataclass
class Pending:
    """Listings proposed but not in force on the evaluation date, one row each: the subject,
    the record that opens it (position) and its entry, the day it was proposed (the notice's
    day), the day it takes effect (``NEVER`` while suspended), the last day to object (the day
    before it would take effect without an objection), the status (:data:`PENDING_STATUS`) and
    the objection that holds it (-1: none)."""

    subject: np.ndarray
    record: np.ndarray
    entry: np.ndarray
    proposed: np.ndarray
    effective: np.ndarray
    deadline: np.ndarray
    status: np.ndarray
    objection: np.ndarray

    @classmethod
    def empty(cls) -> Pending:
        z = np.zeros(0, np.int64)
        return cls(z.astype(np.int32), z, z, z, z, z, z.astype(np.int8), z)


def apply_due_process(
    clist: CList,
    rulebook: str,
    reasons: Reasons,
    dp: DueProcess | None,
    objections: ObjectionArrays,
    day: int,
) -> tuple[Reasons, Pending]:
    """Record reasons (from :func:`record_reasons`) under due process: those in force on
    ``day``, with ``since`` moved to the day each took effect, and those pending.

    Without ``dp`` (the original behaviour) every reason is in force from its record's day.
    """
    n = len(reasons.subject)
    if dp is None or not n or clist.lst.kind != "black":
        return reasons, Pending.empty()
    proposed = reasons.since
    wait = dp.notice_days_of(clist)
    due = proposed + wait  # the day it takes effect without an objection
    eff = due.copy()
    status = np.full(n, -1, np.int8)
    held = np.full(n, -1, np.int64)
    drop = np.zeros(n, bool)
    if len(objections.pos):
        rows = np.flatnonzero(
            (objections.filed <= day)
            & np.array([x in (None, clist.id) for x in objections.lists], bool)
            & np.array([x in (None, rulebook) for x in objections.rulebooks], bool)
            & np.isin(objections.pos, reasons.a)
        )
        suspends = dp.suspends_of(clist.id, clist.lst.objection_suspends)
        review = dp.review_of(clist)
        rule = dp.overdue_of(clist)
        by_pos = np.argsort(reasons.a, kind="stable")
        sorted_pos = reasons.a[by_pos]
        for k in rows:
            f, decided = int(objections.filed[k]), int(objections.decided[k])
            lo, hi = np.searchsorted(sorted_pos, [objections.pos[k], objections.pos[k] + 1])
            for j in by_pos[lo:hi]:
                answered = decided <= day
                if answered and objections.upheld[k]:
                    drop[j] = True
                    continue
                if not suspends or f >= due[j]:  # a late objection does not suspend
                    continue
                if answered:  # rejected: in force from the decision
                    eff[j] = max(eff[j], decided)
                    continue
                end = int(add_duration(np.array([f]), review)[0])
                if day < end or rule == "keep":
                    eff[j], held[j] = NEVER, k
                    status[j] = SUSPENDED if day < end else OVERDUE
                elif rule == "proceed":
                    eff[j] = max(eff[j], end)
                else:
                    drop[j] = True
    live = ~drop & (eff <= day)
    eff = np.where(eff >= NEVER, NEVER, eff)
    waiting = ~drop & ~live & ((eff < reasons.until) | (eff >= NEVER))
    status = np.where(status < 0, NOTICE, status).astype(np.int8)
    kept = Reasons(
        reasons.subject[live],
        eff[live],
        reasons.until[live],
        reasons.kind[live],
        reasons.a[live],
        reasons.b[live],
    )
    pending = Pending(
        reasons.subject[waiting],
        reasons.a[waiting],
        reasons.b[waiting],
        proposed[waiting],
        eff[waiting],
        due[waiting] - 1,
        status[waiting],
        held[waiting],
    )
    return kept, pending
