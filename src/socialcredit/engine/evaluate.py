"""Batch evaluation as of a date: the entry point that runs the compiled kernels in order.

As of day ``D``: records that occurred on or before ``D`` count (annulled ones never do);
relations count when valid on ``D``; each rulebook applies its version in force on ``D`` to the
whole history. Per rulebook the order is: lists that depend on no score, then the scores, then the
lists entered through a score or grade, then the measures. Several rulebooks are evaluated side by
side and meet only in the decisions, where ``deny`` beats ``restrict`` beats ``reward``.

Due process (issue 13) is an input like the records: ``Engine.bind(records, registry,
dueprocess=DueProcess(...))`` delays black listings by their notice period and lets objections
suspend them (:class:`socialcredit.engine.lists.DueProcess`); without it the engine behaves as the
original system does, a listing in force on its record's day. ``Evaluation.pending`` lists the
listings proposed and not yet in force.

Informant reports (``citizen_report``) are held out of evaluation until a department confirms
them or a quorum of distinct reporters reports the same subject (issue #16, item 5;
:mod:`socialcredit.engine.reports`): as of ``D`` a held report counts for nothing, as an annulled
record does. The policy and the decisions are an input too: ``Engine.bind(records, registry,
reports=ReportReview(...))`` (default: 3 distinct reporters within 30 days, nothing confirmed).
``Evaluation.held`` lists the reports held as of the evaluation date.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa

from socialcredit.engine.compile import OUTCOMES, CompiledVersion, compile_version
from socialcredit.engine.conditions import among
from socialcredit.engine.data import (
    RecordArrays,
    RelationArrays,
    SubjectArrays,
    append_records,
    records_from_table,
    relations_from_registry,
    subjects_from_registry,
)
from socialcredit.engine.dates import NEVER, UNKNOWN, iso, to_day
from socialcredit.engine.decide import Decision, Profiles, build_profiles, threshold_mask
from socialcredit.engine.errors import EngineError, UnknownAction, UnknownSubject
from socialcredit.engine.lists import (
    PENDING_STATUS,
    DueProcess,
    Membership,
    ObjectionArrays,
    Pending,
    Reasons,
    apply_due_process,
    derived_reasons,
    record_reasons,
)
from socialcredit.engine.points import (
    Fines,
    ModelScores,
    Pass,
    Trace,
    factor_scores,
    fines,
    record_pass,
    score_group,
    tier_scores,
)
from socialcredit.engine.propagate import Links, follow, propagated_reasons
from socialcredit.engine.reports import ReportReview, Review, describe, review_of
from socialcredit.registry import SUBJECT_KINDS, Registry
from socialcredit.rulebooks import Rulebook, load_rulebook
from socialcredit.vocabulary import vocabulary

RulebookLike = str | os.PathLike[str] | Rulebook


@dataclass
class RulebookResult:
    """One rulebook's results: memberships by list id, scores per model, the traces of each
    score group, and the links of each ``via`` measure (sorted by receiver)."""

    rulebook: Rulebook
    cv: CompiledVersion
    members: dict[str, Membership]
    models: list[ModelScores]
    traces: list[Trace]
    via: dict[int, Links]
    pending: dict[str, Pending] = field(default_factory=dict)
    fines: Fines = field(default_factory=Fines.empty)


def _as_day(value: dt.date | str | int) -> int:
    if isinstance(value, int | np.integer):
        return int(value)
    try:
        return to_day(value)
    except ValueError:
        raise EngineError(f"malformed date {value!r}: use YYYY-MM-DD") from None


class Engine:
    """Rulebooks ready to evaluate (by built-in id, path or loaded :class:`Rulebook`).

    Example:
        >>> from socialcredit.records import records_table
        >>> from socialcredit.registry import Registry
        >>> reg = Registry.from_lines([{"id": "a", "kind": "person", "name": "A"}])
        >>> recs = records_table([{"id": "r1", "subject": "a", "occurred_at": "2019-03-01",
        ...     "category": "judicial.judgment_default", "source": "court"}])
        >>> ev = Engine(["national"]).evaluate(recs, reg, "2019-06-01")
        >>> ev.decide("a", "travel.flight").outcome
        'denied'
    """

    def __init__(self, rulebooks: Iterable[RulebookLike] = ("national",)) -> None:
        self.rulebooks = [rb if isinstance(rb, Rulebook) else load_rulebook(rb) for rb in rulebooks]
        if not self.rulebooks:
            raise EngineError("no rulebook given: name at least one (e.g. national)")
        self._compiled: dict[tuple[int, str, tuple[str, ...]], CompiledVersion] = {}
        self._periods: dict[tuple[int, tuple[str, ...]], list[tuple[int, int, str, list[Any]]]] = {}

    def compiled(self, i: int, day: int, categories: tuple[str, ...]) -> CompiledVersion:
        """Rulebook ``i``'s version in force on ``day``, compiled (cached). On and after the day
        an ended rulebook ended (``status: ended``) it is an empty version: no scores, rules,
        lists or measures apply."""
        rb = self.rulebooks[i]
        date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
        version = rb.version_on(date)
        ended = rb.ended_on
        over = ended is not None and date >= ended
        key = (i, version.id + ("/ended" if over else ""), categories)
        if key not in self._compiled:
            if over:
                version = replace(version, scores={}, rules={}, lists={}, measures={})
            cv = compile_version(version, categories, jurisdiction=rb.jurisdiction.code)
            cv.ended = ended if over else None
            self._compiled[key] = cv
        return self._compiled[key]

    def fine_periods(self, i: int, categories: tuple[str, ...]) -> list[tuple[int, int, str, list[Any]]]:
        """``(first day, day after the last, version label, fine rules)`` of each version of
        rulebook ``i`` that imposes fines, cut at the day the rulebook ended (cached)."""
        key = (i, categories)
        if key not in self._periods:
            rb = self.rulebooks[i]
            out: list[tuple[int, int, str, list[Any]]] = []
            if any(r.fine is not None for v in rb.versions for r in v.rules.values()):
                ended = to_day(rb.ended_on.isoformat()) if rb.ended_on is not None else NEVER
                for k, v in enumerate(rb.versions):
                    lo = to_day(v.effective.isoformat())
                    nxt = rb.versions[k + 1].effective if k + 1 < len(rb.versions) else None
                    hi = min(to_day(nxt.isoformat()) if nxt is not None else NEVER, ended)
                    frules = [r for r in self.compiled(i, lo, categories).fine_rules] if lo < hi else []
                    if frules:
                        out.append((lo, hi, v.label, frules))
            self._periods[key] = out
        return self._periods[key]

    def bind(
        self,
        records: pa.Table | RecordArrays,
        registry: Registry | tuple[SubjectArrays, RelationArrays],
        dueprocess: DueProcess | None = None,
        reports: ReportReview | None = None,
    ) -> Bound:
        """Intern records and registry once, for evaluations on any number of dates (with
        ``dueprocess``: notice periods and objections, see :class:`DueProcess`; ``reports``: the
        review of informant reports, default :class:`ReportReview` — see
        :mod:`socialcredit.engine.reports`)."""
        if isinstance(registry, Registry):
            subjects = subjects_from_registry(registry)
            relations = relations_from_registry(registry, subjects)
        else:
            subjects, relations = registry
        recs = records if isinstance(records, RecordArrays) else records_from_table(records, subjects)
        return Bound(self, recs, subjects, relations, dueprocess, reports)

    def evaluate(
        self,
        records: pa.Table | RecordArrays,
        registry: Registry | tuple[SubjectArrays, RelationArrays],
        as_of: dt.date | str | int,
        dueprocess: DueProcess | None = None,
        reports: ReportReview | None = None,
    ) -> Evaluation:
        """Evaluate ``records`` and ``registry`` as of ``as_of`` (see the module docstring)."""
        return self.bind(records, registry, dueprocess, reports).evaluate(as_of)


class Bound:
    """An engine bound to interned records and registry; evaluations are cached by date."""

    def __init__(
        self,
        engine: Engine,
        records: RecordArrays,
        subjects: SubjectArrays,
        relations: RelationArrays,
        dueprocess: DueProcess | None = None,
        reports: ReportReview | None = None,
    ) -> None:
        self.engine, self.records, self.subjects, self.relations = (engine, records, subjects, relations)
        self.dueprocess = dueprocess
        self.reports = reports if reports is not None else ReportReview()
        self._review: Review | None = None
        self._objections: ObjectionArrays | None = None
        self._void = np.flatnonzero(records.void)
        self._cache: dict[int, Evaluation] = {}
        #: keep the last record pass so that :meth:`extend` looks up only the new records
        self.incremental = False
        self._passes: dict[int, Pass] = {}

    def extend(self, records: pa.Table | RecordArrays, registry: Registry | None = None) -> Bound:
        """This bound with newly arrived ``records`` (and, optionally, the registry as it now
        stands) applied: the result evaluates exactly as a batch over all records would.

        The registry may add subjects after those already known (their codes stay) and change
        relations; one that reorders or drops subjects is refused (:class:`EngineError`). With
        ``incremental`` set, the record pass of the last evaluated date is extended by the new
        records rather than recomputed; everything after the pass (record-by-record rules,
        lists, scores, decisions) is recomputed, as it depends on the whole history.
        """
        subjects, relations = self.subjects, self.relations
        if registry is not None:
            subjects = subjects_from_registry(registry)
            n = len(self.subjects)
            if len(subjects) < n or not subjects.ids.slice(0, n).equals(self.subjects.ids):
                raise EngineError(
                    "the new registry reorders or drops subjects: bind all the "
                    "records afresh (Engine.bind) with it"
                )
            relations = relations_from_registry(registry, subjects)
        recs = append_records(self.records, records, subjects)
        out = Bound(self.engine, recs, subjects, relations, self.dueprocess, self.reports)
        out.incremental = self.incremental
        if self.incremental and len(recs.categories) == len(self.records.categories):
            out._passes = dict(self._passes)
        return out

    def with_dueprocess(self, dueprocess: DueProcess | None) -> Bound:
        """The same records and registry under other due process (``None``: the original)."""
        out = Bound(self.engine, self.records, self.subjects, self.relations, dueprocess, self.reports)
        out.incremental, out._passes, out._review = self.incremental, self._passes, self._review
        return out

    def with_reports(self, reports: ReportReview | None) -> Bound:
        """The same records and registry under another review of informant reports (other
        decisions, quorum or window); ``None``: the default :class:`ReportReview`."""
        out = Bound(self.engine, self.records, self.subjects, self.relations, self.dueprocess, reports)
        out.incremental, out._passes = self.incremental, self._passes
        return out

    @property
    def review(self) -> Review:
        """Every record's review (:func:`socialcredit.engine.reports.review_of`), computed once."""
        if self._review is None:
            self._review = review_of(self.records, self.reports)
        return self._review

    def records_on(self, day: int) -> RecordArrays:
        """The records as the evaluation as of ``day`` sees them: the informant reports held on
        that day marked ``void`` (they count for nothing, as annulled records do)."""
        review = self.review
        if not review.any_held:
            return self.records
        held = review.held_on(day)
        if not held.any():
            return self.records
        return replace(self.records, void=self.records.void | held)

    @property
    def objections(self) -> ObjectionArrays:
        """The due-process objections interned against these records."""
        if self._objections is None:
            dp = self.dueprocess
            self._objections = dp.intern(self.records) if dp is not None else ObjectionArrays.empty()
        return self._objections

    def evaluate(self, as_of: dt.date | str | int) -> Evaluation:
        day = _as_day(as_of)
        if day not in self._cache:
            self._cache = {day: evaluate(self, day)}
        return self._cache[day]

    def decide(self, subject: str, action: str, on: dt.date | str | int) -> Decision:
        """The decision on ``action`` for ``subject`` on ``on``."""
        return self.evaluate(on).decide(subject, action)

    def decide_many(
        self,
        subjects: Sequence[str] | np.ndarray | pa.Array,
        actions: Sequence[str] | np.ndarray | str,
        on: dt.date | str | int,
    ) -> np.ndarray:
        """Outcome codes (indexes into :data:`OUTCOMES`) for many pairs at once."""
        return self.evaluate(on).decide_many(subjects, actions)


@dataclass
class Evaluation:
    """Everything computed as of one day (see :meth:`Engine.evaluate`)."""

    day: int
    bound: Bound
    results: list[RulebookResult]
    profiles: Profiles
    _tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)
    _on: str = field(default="", repr=False)
    _records: RecordArrays | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._on = self.as_of.isoformat()

    @property
    def as_of(self) -> dt.date:
        return dt.date(1970, 1, 1) + dt.timedelta(days=self.day)

    @property
    def subjects(self) -> SubjectArrays:
        return self.bound.subjects

    @property
    def records(self) -> RecordArrays:
        """The records as this evaluation saw them (reports held on its date are ``void``)."""
        return self._records if self._records is not None else self.bound.records

    def held(self, subject: str | None = None) -> list[dict[str, Any]]:
        """The informant reports about ``subject`` (everyone when ``None``) that occurred on or
        before the evaluation date and do not count on it — held for review, repeats, rejected —
        oldest first: ``record, category, date, source, state, why``. The reporter is masked:
        no field names who reported (docs/security.md)."""
        review = self.bound.review
        if not review.any_held:
            return []
        recs = self.bound.records
        mask = (review.state > 0) & (recs.day <= self.day) & review.held_on(self.day)
        if subject is not None:
            mask &= recs.subject == self.code(subject)
        out = []
        for pos in np.flatnonzero(mask):
            p = int(pos)
            out.append(
                {
                    "record": recs.record_id(p),
                    "subject": self.subjects.id(int(recs.subject[p])),
                    "category": recs.categories[int(recs.category[p])],
                    "date": iso(int(recs.day[p])),
                    "source": recs.sources[int(recs.source[p])] if recs.source is not None else None,
                    "state": review.state_on(p, self.day),
                    "why": describe(review, p, self.day, self.bound.reports),
                    "reported_by": "(masked)",
                }
            )
        out.sort(key=lambda r: (r["date"], r["record"]))
        return out

    # -- lookups ---------------------------------------------------------------------------

    def code(self, subject: str) -> int:
        """A subject's code; raises :class:`UnknownSubject` (one line) when unknown."""
        c = self.subjects.code(subject)
        if c is None:
            raise UnknownSubject(f"unknown subject {subject!r}: not in the registry")
        return c

    def action_column(self, action: str) -> int:
        """The outcome-table column of ``action``; raises :class:`UnknownAction`."""
        col = self.profiles.actions.get(action)
        if col is not None:
            return col
        act = vocabulary().actions.get(action)
        if act is None or act.kind == "disclosure":
            raise UnknownAction(
                f"unknown action {action!r}: see the catalog in src/socialcredit/vocabulary/actions.yaml"
            )
        return len(self.profiles.actions)

    def decide(self, subject: str, action: str, on: dt.date | str | int | None = None) -> Decision:
        """The decision on ``action`` for ``subject`` (``on``, when given, must be the
        evaluation date)."""
        if on is not None and _as_day(on) != self.day:
            raise EngineError(
                f"this evaluation is as of {self.as_of}, not {on}: evaluate again (Bound.decide does)"
            )
        index = self.subjects._index
        code = index.get(subject) if index is not None else None
        if code is None:
            code = self.code(subject)
        col = self.profiles.actions.get(action)
        if col is None:
            col = self.action_column(action)
        out = self.profiles.outcome[self.profiles.profile[code], col]
        return Decision(subject, action, self._on, OUTCOMES[out], self, code)

    def decide_many(
        self, subjects: Sequence[str] | np.ndarray | pa.Array, actions: Sequence[str] | np.ndarray | str
    ) -> np.ndarray:
        """Outcome codes (indexes into :data:`OUTCOMES`, ``int8``) for subject/action pairs.

        ``subjects`` are ids, or codes (an integer array) for speed; ``actions`` one action or
        one per subject. Unknown ids raise :class:`UnknownSubject`.
        """
        if isinstance(subjects, np.ndarray) and subjects.dtype.kind in "iu":
            codes = subjects
        else:
            codes = self.subjects.codes(subjects)
            if len(codes) and codes.min() < 0:
                bad = pa.array(subjects, pa.string())[int(np.argmin(codes))].as_py()
                raise UnknownSubject(f"unknown subject {bad!r}: not in the registry")
        if isinstance(actions, str):
            cols: np.ndarray | int = self.action_column(actions)
        elif isinstance(actions, np.ndarray) and actions.dtype.kind in "iu":
            cols = actions
        else:
            names = list(actions)
            uniq = {a: self.action_column(a) for a in set(names)}
            cols = np.array([uniq[a] for a in names], np.int32)
        return self.profiles.outcome[self.profiles.profile[codes], cols]

    def disclosed(self, subject: str) -> list[str]:
        """The channels that publish ``subject``."""
        row = self.profiles.profile[self.code(subject)]
        return [c for i, c in enumerate(self.profiles.channels) if self.profiles.disclosed[row, i]]

    def lists_of(self, subject: str) -> list[tuple[str, str]]:
        """``(rulebook, list)`` of every list ``subject`` is on."""
        code = self.code(subject)
        return [
            (r.cv.rulebook, lid)
            for r in self.results
            for lid, m in r.members.items()
            if m.has(np.array([code]))[0]
        ]

    def outcomes(self, subject: str) -> dict[str, str]:
        """Every action with a measure in force on ``subject`` and its outcome (no
        ``allowed``)."""
        row = self.profiles.profile[self.code(subject)]
        return {
            a: OUTCOMES[int(self.profiles.outcome[row, c])]
            for a, c in self.profiles.actions.items()
            if self.profiles.outcome[row, c]
        }

    def score_of(self, subject: str) -> tuple[float | None, str | None, str | None]:
        """``(score, grade, "rulebook/model")`` from the first rulebook and model scoring
        ``subject`` (``None`` three times when nobody scores it; the score is ``None`` under a
        ``tiers`` model, which grades without a number)."""
        code = self.code(subject)
        for r in self.results:
            for ms in r.models:
                if ms.scored[code]:
                    g = int(ms.grade[code])
                    x = float(ms.score[code])
                    return (
                        None if np.isnan(x) else x,
                        ms.model.grades[g] if g >= 0 else None,
                        f"{r.cv.rulebook}/{ms.model.id}",
                    )
        return None, None, None

    def fines_of(self, subject: str) -> float:
        """The yuan of every fine imposed on ``subject`` up to the evaluation date, over all
        rulebooks (0 when none)."""
        code = self.code(subject)
        return float(sum(r.fines.yuan[r.fines.subject == code].sum() for r in self.results))

    @property
    def fines(self) -> pa.Table:
        """One row per fine imposed up to the evaluation date: ``subject, rulebook, version,
        rule, record, date, yuan`` and ``max_yuan`` (the top of the range the source gives;
        null when it gives one amount)."""
        if "fines" not in self._tables:
            cols: dict[str, list[Any]] = {
                k: []
                for k in ("subject", "rulebook", "version", "rule", "record", "date", "yuan", "max_yuan")
            }
            for r in self.results:
                f = r.fines
                for j in range(len(f.pos)):
                    label, rule = f.rules[int(f.rule[j])]
                    pos = int(f.pos[j])
                    cols["subject"].append(self.subjects.id(int(f.subject[j])))
                    cols["rulebook"].append(r.cv.rulebook)
                    cols["version"].append(label)
                    cols["rule"].append(rule.id)
                    cols["record"].append(self.records.record_id(pos))
                    cols["date"].append(dt.date(1970, 1, 1) + dt.timedelta(days=int(self.records.day[pos])))
                    cols["yuan"].append(float(f.yuan[j]))
                    cols["max_yuan"].append(rule.fine.max_yuan)
            types = {"date": pa.date32(), "yuan": pa.float64(), "max_yuan": pa.float64()}
            self._tables["fines"] = pa.table(
                {k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()}
            )
        return self._tables["fines"]

    def explain(self, subject: str) -> Any:
        """The explanation of ``subject``'s standing (see :mod:`socialcredit.engine.explain`)."""
        from socialcredit.engine.explain import explain

        return explain(self, self.code(subject))

    # -- tables ----------------------------------------------------------------------------

    @property
    def scores(self) -> pa.Table:
        """One row per scored subject and model: ``subject, rulebook, model, score, grade``
        (``score`` null under a ``tiers`` model)."""
        if "scores" not in self._tables:
            parts = []
            for r in self.results:
                for ms in r.models:
                    who = np.flatnonzero(ms.scored)
                    grades = pa.array([*list(ms.model.grades), None], pa.string())
                    g = ms.grade[who].astype(np.int64)
                    parts.append(
                        pa.table(
                            {
                                "subject": self.subjects.ids.take(pa.array(who)),
                                "rulebook": pa.array([r.cv.rulebook] * len(who), pa.string()),
                                "model": pa.array([ms.model.id] * len(who), pa.string()),
                                "score": pa.array(ms.score[who], mask=np.isnan(ms.score[who])),
                                "grade": grades.take(pa.array(np.where(g < 0, len(grades) - 1, g))),
                            }
                        )
                    )
            self._tables["scores"] = (
                pa.concat_tables(parts)
                if parts
                else pa.table(
                    {
                        "subject": pa.array([], pa.string()),
                        "rulebook": pa.array([], pa.string()),
                        "model": pa.array([], pa.string()),
                        "score": pa.array([], pa.float64()),
                        "grade": pa.array([], pa.string()),
                    }
                )
            )
        return self._tables["scores"]

    @property
    def grades(self) -> pa.Table:
        """``subject, rulebook, model, grade`` (the scores table without the score)."""
        return self.scores.drop_columns(["score"])

    @property
    def memberships(self) -> pa.Table:
        """One row per subject and list on the evaluation date: ``subject, rulebook, list,
        since, until`` (``null`` when not known) and ``via`` (the relation, when the subject
        is listed only through someone else)."""
        if "memberships" not in self._tables:
            from socialcredit.engine.lists import VIA

            parts = []
            for r in self.results:
                for lid, m in r.members.items():
                    k = len(m.subjects)
                    if not k:
                        continue
                    first = np.searchsorted(m.reasons.subject, m.subjects)
                    only_via = np.logical_and.reduceat(m.reasons.kind == VIA, first)
                    rel = np.array([p.relation for p in m.lst.propagate] + [""], object)
                    b = np.where(only_via, m.reasons.b[first], len(rel) - 1)
                    parts.append(
                        pa.table(
                            {
                                "subject": self.subjects.ids.take(pa.array(m.subjects)),
                                "rulebook": pa.array([r.cv.rulebook] * k, pa.string()),
                                "list": pa.array([lid] * k, pa.string()),
                                "since": _dates(m.since),
                                "until": _dates(m.until),
                                "via": pa.array([x or None for x in rel[b]], pa.string()),
                            }
                        )
                    )
            empty = pa.table(
                {
                    c: pa.array([], t)
                    for c, t in (
                        ("subject", pa.string()),
                        ("rulebook", pa.string()),
                        ("list", pa.string()),
                        ("since", pa.date32()),
                        ("until", pa.date32()),
                        ("via", pa.string()),
                    )
                }
            )
            self._tables["memberships"] = pa.concat_tables(parts) if parts else empty
        return self._tables["memberships"]

    @property
    def pending(self) -> pa.Table:
        """Listings proposed and not in force on the evaluation date (due process only): one
        row per subject, list and opening record — ``subject, rulebook, list, record, entry,
        proposed, effective`` (null while suspended), ``deadline`` (the last day to object
        before it takes effect), ``status`` (``notice``, ``suspended``, ``overdue``) and
        ``objection`` (the objection suspending it)."""
        if "pending" not in self._tables:
            cols: dict[str, list[Any]] = {
                k: []
                for k in (
                    "subject",
                    "rulebook",
                    "list",
                    "record",
                    "entry",
                    "proposed",
                    "effective",
                    "deadline",
                    "status",
                    "objection",
                )
            }
            ids = self.records.ids
            obj = self.bound.objections
            for r in self.results:
                for lid, p in r.pending.items():
                    lst = next(c for c in r.cv.lists if c.id == lid)
                    for j in range(len(p.subject)):
                        e = lst.entries[int(p.entry[j])].entry
                        cols["subject"].append(self.subjects.ids[int(p.subject[j])].as_py())
                        cols["rulebook"].append(r.cv.rulebook)
                        cols["list"].append(lid)
                        cols["record"].append(ids[int(p.record[j])].as_py() if ids is not None else None)
                        cols["entry"].append(e.label or e.category)
                        cols["proposed"].append(iso(int(p.proposed[j])))
                        cols["effective"].append(iso(int(p.effective[j])))
                        cols["deadline"].append(iso(int(p.deadline[j])))
                        cols["status"].append(PENDING_STATUS[int(p.status[j])])
                        k = int(p.objection[j])
                        cols["objection"].append(obj.ids[k] if k >= 0 else None)
            types = {"proposed": pa.date32(), "effective": pa.date32(), "deadline": pa.date32()}
            self._tables["pending"] = pa.table(
                {
                    k: pa.array([dt.date.fromisoformat(x) if x else None for x in v], types[k])
                    if k in types
                    else pa.array(v, pa.string())
                    for k, v in cols.items()
                }
            )
        return self._tables["pending"]

    def list_sizes(self) -> dict[tuple[str, str], int]:
        """``(rulebook, list) -> number of subjects on it``."""
        return {(r.cv.rulebook, lid): len(m.subjects) for r in self.results for lid, m in r.members.items()}

    def grade_distribution(self) -> dict[tuple[str, str], dict[str, int]]:
        """``(rulebook, model) -> {grade: count}`` (best grade first)."""
        out = {}
        for r in self.results:
            for ms in r.models:
                counts = np.bincount(
                    ms.grade[ms.scored].astype(np.int64) + 1, minlength=len(ms.model.grades) + 1
                )
                out[(r.cv.rulebook, ms.model.id)] = {
                    **{g: int(counts[i + 1]) for i, g in enumerate(ms.model.grades)},
                    **({"(none)": int(counts[0])} if counts[0] else {}),
                }
        return out

    def to_table(self) -> pa.Table:
        """One row per subject: ``subject, kind, score, grade, score_model, lists, denied,
        restricted, rewarded, disclosed`` (lists as ``rulebook:list``)."""
        from socialcredit.engine.summary import summary_table

        return summary_table(self)


def _dates(days: np.ndarray) -> pa.Array:
    d = np.asarray(days, np.int64)
    mask = (d >= NEVER) | (d <= UNKNOWN)
    return pa.array(np.where(mask, 0, d).astype(np.int32), pa.int32(), mask=mask).cast(pa.date32())


def evaluate(bound: Bound, day: int) -> Evaluation:
    """Evaluate every rulebook of ``bound.engine`` as of ``day``."""
    engine, recs, subjects = bound.engine, bound.records_on(day), bound.subjects
    void = bound._void if recs is bound.records else np.flatnonzero(recs.void)
    cvs = [engine.compiled(i, day, recs.categories) for i in range(len(engine.rulebooks))]
    side = set().union(*(cv.side_cats() for cv in cvs))
    groups = [g for cv in cvs for g in cv.groups]
    prev = bound._passes.get(day)
    if prev is not None and (prev.side != side or len(prev.weights) != len(groups)):
        prev = None
    traces, cats, state = record_pass(groups, recs, day, side, prev)
    if bound.incremental:
        bound._passes = {day: state}
    weights = state.weights
    results = []
    k = 0
    for i, cv in enumerate(cvs):
        members: dict[str, Membership] = {}
        pending: dict[str, Pending] = {}
        models: list[ModelScores] = []
        mine = list(range(k, k + len(cv.groups)))
        k += len(cv.groups)
        for stage in (0, 1):
            if stage == 1:
                plain = {lid: m.subjects for lid, m in members.items()}
                sums = []
                for gi, g in zip(mine, cv.groups, strict=True):
                    x, ms = score_group(
                        cv,
                        g,
                        weights[gi],
                        traces[gi],
                        cats,
                        recs,
                        subjects,
                        bound.relations,
                        day,
                        plain,
                        void,
                    )
                    sums.append(x)
                    models += ms
                for m in cv.factor_models:
                    fg = cv.factor_groups(m.id)
                    models.append(
                        factor_scores(
                            cv, m, [sums[j] for j, _ in fg], [traces[mine[j]] for j, _ in fg], subjects, day
                        )
                    )
                for m in cv.tier_models:
                    models.append(tier_scores(cv, m, recs, subjects, day, plain))
            for lst in cv.lists:
                if lst.stage != stage:
                    continue
                by_record, pending[lst.id] = apply_due_process(
                    lst,
                    cv.rulebook,
                    record_reasons(lst, cats, recs, subjects, day),
                    bound.dueprocess,
                    bound.objections,
                    day,
                )
                direct = Reasons.concat([by_record, *derived_reasons(lst, subjects, day, members, models)])
                dm = Membership.of(lst, direct, direct)
                spread = propagated_reasons(lst, dm, bound.relations, subjects, day)
                members[lst.id] = Membership.of(lst, Reasons.concat([direct, *spread]), direct)
        via = {}
        for m in cv.measures:
            if m.via is None:
                continue
            holders, since, until = _targets(cv, m, members, models)
            links = follow(bound.relations, m.via.relation, m.via.to, day, holders, since, until)
            o = np.argsort(links.receiver, kind="stable")
            via[m.index] = Links(
                links.receiver[o], links.source[o], links.since[o], links.until[o], links.relation
            )
        periods = engine.fine_periods(i, recs.categories)
        results.append(
            RulebookResult(
                engine.rulebooks[i],
                cv,
                members,
                models,
                [traces[j] for j in mine],
                via,
                pending,
                fines(periods, recs, subjects, day) if periods else Fines.empty(),
            )
        )
    return Evaluation(day, bound, results, build_profiles(results, len(subjects)), _records=recs)


def _targets(
    cv: CompiledVersion, m: Any, members: dict[str, Membership], models: list[ModelScores]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Subjects standing on a measure's target (lists or grades), sorted, with since/until."""
    subj, since, until = [], [], []
    for li in m.lists:
        mem = members[cv.lists[li].id]
        subj.append(mem.subjects)
        since.append(mem.since)
        until.append(mem.until)
    for ms in models:
        if m.grades and m.score in (None, ms.model.id):
            codes = [ms.model.grade_index(g) for g in m.grades]
            who = np.flatnonzero(ms.scored & among(ms.grade, [c for c in codes if c >= 0]))
            subj.append(who.astype(np.int32))
            since.append(np.full(len(who), UNKNOWN))
            until.append(np.full(len(who), NEVER))
        if m.threshold and m.score == ms.model.id:
            who = np.flatnonzero(threshold_mask(m, ms))
            subj.append(who.astype(np.int32))
            since.append(np.full(len(who), UNKNOWN))
            until.append(np.full(len(who), NEVER))
    if not subj:
        z = np.zeros(0, np.int64)
        return z.astype(np.int32), z, z
    s, a, b = np.concatenate(subj), np.concatenate(since), np.concatenate(until)
    order = np.lexsort((a, s))
    s, a, b = s[order], a[order], b[order]
    first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(s) else np.zeros(0, np.int64)
    return (
        s[first],
        np.minimum.reduceat(a, first) if len(s) else a,
        np.maximum.reduceat(b, first) if len(s) else b,
    )


def kind_name(code: int) -> str | None:
    return SUBJECT_KINDS[code] if 0 <= code < len(SUBJECT_KINDS) else None


__all__ = ["OUTCOMES", "Bound", "Engine", "Evaluation", "iso"]
