"""The named daily reporters of :class:`~socialcredit.simulate.model.SocialCreditModel`.

================  ========  ===============================================================
reporter          regime    key and value
================  ========  ===============================================================
events            (none)    category: events that happened (seen or not)
records           (none)    category: events recorded (detected), i.e. ledger records
attempts          (none)    action: first attempts
allowed           each      action: attempts allowed
rewarded          each      action: attempts granted a perk
restricted        each      action: attempts allowed with restrictions
denied            each      action: first attempts refused
retries           each      action: refused attempts tried again the same day (refused again)
refused           each      action: ``denied + retries``, the figure the press reports
list_size         each      ``rulebook:list``: subjects on the list (evaluation days)
grade             each      ``rulebook/model:grade``: subjects with the grade (evaluation days)
open_cases        (none)    ``person`` / ``organisation``: open enforcement cases
deterred          (none)    category: recorded events deterrence prevented (deterrence on)
deterrence        (none)    ``windows``: open deterrence windows, (person, category) (deterrence on);
                            ``new_listings``: persons newly listed (``on_listing``, evaluation days)
critical_posts    (none)    ``events``: critical posts that happened (chilling on)
positive_posts    (none)    ``events``: "positive energy" posts that happened (chilling on)
ties_cut          (none)    ``ties``: relations ended by ostracism (ostracism on)
points_bought     (none)    ``purchases`` / ``yuan``: score bought by gamers (gaming on)
jobs_lost         (none)    ``jobs``: ``employee_of`` relations ended by the spiral (spiral on)
spiral            (none)    ``jobless``: persons the spiral left without a job; ``arrears``: their
                            extra records (arrears, defaults); ``partner_defaults``: defaults of
                            listed organisations' partners (spiral on)
informants        (none)    ``reports`` filed, ``malicious`` among them, ``caught`` by review,
                            ``upheld`` (recorded), ``false_upheld`` (malicious but upheld)
                            (informants on)
disclosure_reach  (none)    channel (or ``word_of_mouth``): contacts of newly listed persons who
                            learned of the listing through it (disclosure on)
avoided_attempts  (none)    action: attempts not made: the person learnt the ban (avoidance on)
listed_share      (none)    ``per_100k``: persons listed per 100,000 driving chilling (chilling on)
================  ========  ===============================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["REPORTERS", "standing"]


def _nonzero(regime: str, names: list[str], counts: np.ndarray) -> Iterator[tuple[str, str, int]]:
    for i in np.flatnonzero(counts).tolist():
        yield regime, names[i], int(counts[i])


def events(model: Any) -> Iterator[tuple[str, str, int]]:
    yield from _nonzero("", model.store.categories, model.today["events"])


def records(model: Any) -> Iterator[tuple[str, str, int]]:
    yield from _nonzero("", model.store.categories, model.store.counts(model.today["first_record"]))


def attempts(model: Any) -> Iterator[tuple[str, str, int]]:
    yield from _nonzero("", model.actions, model.today["attempts"])


def _outcome(column: int | None, *, retries: bool = False, plus_retries: bool = False):
    def reporter(model: Any) -> Iterator[tuple[str, str, int]]:
        for regime, out in model.today["outcomes"].items():
            if retries:
                counts = out["retries"]
            else:
                counts = out["counts"][:, column] + (out["retries"] if plus_retries else 0)
            yield from _nonzero(regime, model.actions, counts)

    return reporter


def list_size(model: Any) -> Iterator[tuple[str, str, int]]:
    if not model.evaluated_today:
        return
    for regime, ev in model.evaluations.items():
        for (rb, lst), n in sorted(ev.list_sizes().items()):
            yield regime, f"{rb}:{lst}", n


def grade(model: Any) -> Iterator[tuple[str, str, int]]:
    if not model.evaluated_today:
        return
    for regime, ev in model.evaluations.items():
        for (rb, m), dist in sorted(ev.grade_distribution().items()):
            for g, n in dist.items():
                yield regime, f"{rb}/{m}:{g}", n


def open_cases(model: Any) -> Iterator[tuple[str, str, int]]:
    for kind in ("person", "organisation"):
        yield "", kind, model.open_cases(kind)


def deterred(model: Any) -> Iterator[tuple[str, str, int]]:
    if model.deterrence is not None:
        yield from _nonzero("", model.store.categories, model.today["deterred"])


def deterrence(model: Any) -> Iterator[tuple[str, str, int]]:
    if model.deterrence is not None:
        yield "", "windows", model.deterrence.open_windows(model.day + 1)
        if model.evaluated_today and model.scenario.feedback.deterrence.on_listing:
            yield "", "new_listings", model.newly_listed


def _posts(which: str):
    def reporter(model: Any) -> Iterator[tuple[str, str, int]]:
        if model.chilling is not None:
            cat = model.store.categories.index(getattr(model.chilling, which))
            yield "", "events", int(model.today["events"][cat])

    return reporter


def points_bought(model: Any) -> Iterator[tuple[str, str, int]]:
    if model.gaming is not None and model.today["bought"]:
        yield "", "purchases", model.today["bought"]
        yield "", "yuan", round(model.today["bought"] * model.gaming.amount)


def ties_cut(model: Any) -> Iterator[tuple[str, str, int]]:
    if model.scenario.feedback.ostracism.enabled and model.today["ties_cut"]:
        yield "", "ties", model.today["ties_cut"]


def jobs_lost(model: Any) -> Iterator[tuple[str, str, int]]:
    if model.scenario.feedback.spiral.enabled and model.today["jobs_lost"]:
        yield "", "jobs", model.today["jobs_lost"]


def spiral(model: Any) -> Iterator[tuple[str, str, int]]:
    if model.scenario.feedback.spiral.enabled:
        yield "", "jobless", len(model.jobless)
        for key in ("arrears", "partner_defaults"):
            if model.today[key]:
                yield "", key, model.today[key]


def informants(model: Any) -> Iterator[tuple[str, str, int]]:
    for key, n in model.today["informants"].items():
        if n:
            yield "", key, n


def disclosure_reach(model: Any) -> Iterator[tuple[str, str, int]]:
    for key, n in sorted(model.today["reach"].items()):
        if n:
            yield "", key, n


def avoided_attempts(model: Any) -> Iterator[tuple[str, str, int]]:
    if model.avoidance is not None:
        yield from _nonzero("", model.actions, model.today["avoided"])


def listed_share(model: Any) -> Iterator[tuple[str, str, int]]:
    if model.chilling is not None:
        yield "", "per_100k", round(model.chilling.share * 100_000)


REPORTERS = {
    "events": events,
    "records": records,
    "attempts": attempts,
    "allowed": _outcome(0),
    "rewarded": _outcome(1),
    "restricted": _outcome(2),
    "denied": _outcome(3),
    "retries": _outcome(None, retries=True),
    "refused": _outcome(3, plus_retries=True),
    "list_size": list_size,
    "grade": grade,
    "open_cases": open_cases,
    "deterred": deterred,
    "deterrence": deterrence,
    "critical_posts": _posts("critical"),
    "positive_posts": _posts("positive"),
    "points_bought": points_bought,
    "ties_cut": ties_cut,
    "listed_share": listed_share,
    "avoided_attempts": avoided_attempts,
    "jobs_lost": jobs_lost,
    "spiral": spiral,
    "informants": informants,
    "disclosure_reach": disclosure_reach,
}


def standing(ev: Any, codes: np.ndarray) -> tuple[list, list, list, list]:
    """Score, grade and scoring model (the first that scores each subject, as
    ``Evaluation.score_of``) and lists (``rulebook:list`` joined by ``;``) of ``codes``."""
    n = len(codes)
    score = [None] * n
    grade: list[str | None] = [None] * n
    model: list[str | None] = [None] * n
    lists: list[list[str]] = [[] for _ in range(n)]
    for r in ev.results:
        for ms in r.models:
            for i, c in enumerate(codes.tolist()):
                if score[i] is None and ms.scored[c]:
                    g = int(ms.grade[c])
                    score[i] = float(ms.score[c])
                    grade[i] = ms.model.grades[g] if g >= 0 else None
                    model[i] = f"{r.cv.rulebook}/{ms.model.id}"
        for lid, m in r.members.items():
            on = m.has(np.asarray(codes))
            for i in np.flatnonzero(on).tolist():
                lists[i].append(f"{r.cv.rulebook}:{lid}")
    return score, grade, model, [";".join(x) or None for x in lists]
