"""Decisions: every subject's outcome on every action, precomputed as a small table.

Which measures fall on a subject depends only on a few facts: the lists it is on, its grade under
each score model, whether its score passes a measure's threshold (``score_at_least`` /
``score_below``: one bit per such measure), and whether someone related to it stands on a ``via``
measure's target. Subjects
that share those facts share a *profile*; the engine computes the outcome of each action once per
profile (``deny`` beats ``restrict`` beats ``reward``; ``disclose`` is kept apart as the channels
that publish the subject) and each subject's profile, so that a decision is two array lookups.
Almost everyone is on no list, so their profile is their grade combination alone; only the few
listed or related subjects need sorting out.

Example:
    >>> OUTCOMES[combine_codes([1, 3, 2])]
    'denied'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from socialcredit.engine.compile import EFFECT_CODE, OUTCOMES, CMeasure, CompiledVersion
from socialcredit.engine.propagate import Links

if TYPE_CHECKING:
    from socialcredit.engine.evaluate import Evaluation, RulebookResult

OUTCOME_CODE = {name: i for i, name in enumerate(OUTCOMES)}
DENIED_OR_RESTRICTED = (OUTCOME_CODE["restricted"], OUTCOME_CODE["denied"])


def combine_codes(codes: list[int]) -> int:
    """The combined effect code of several measures on one action: the strongest."""
    return max(codes, default=0)


@dataclass
class Atoms:
    """Per rulebook: the bit of each list and of each ``via`` measure, and where its grade
    digits sit in the grade code."""

    list_bit: dict[tuple[int, int], int] = field(default_factory=dict)
    via_bit: dict[tuple[int, int], int] = field(default_factory=dict)
    threshold_bit: dict[tuple[int, int], int] = field(default_factory=dict)
    grade_digit: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    n_bits: int = 0
    n_codes: int = 1


@dataclass
class Profiles:
    """``profile[subject]`` indexes the rows of ``outcome`` (row x action column; the last
    column is for actions no measure names) and ``disclosed`` (row x channel)."""

    profile: np.ndarray
    row_bits: np.ndarray
    row_grades: np.ndarray
    outcome: np.ndarray
    disclosed: np.ndarray
    actions: dict[str, int]
    channels: list[str]
    atoms: Atoms

    def row_has_bit(self, row: int, bit: int) -> bool:
        return bool((int(self.row_bits[row, bit // 64]) >> (bit % 64)) & 1)

    def row_grade(self, row: int, ri: int, mi: int, nb: int) -> int:
        radix, base = self.atoms.grade_digit[(ri, mi)]
        return int(self.row_grades[row] // radix % base) - 1 if nb >= 0 else -1


def _set_bits(keys: np.ndarray, who: np.ndarray, bit: int) -> None:
    if len(who):
        keys[who, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)


def threshold_mask(m: CMeasure, ms: Any) -> np.ndarray:
    """Subjects whose score under ``ms`` (a model's :class:`ModelScores`) meets measure ``m``'s
    threshold: scored, with a number, ``>= at_least`` and ``< below`` where given."""
    x = ms.score
    ok = ms.scored & ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        if m.at_least is not None:
            ok &= x >= m.at_least
        if m.below is not None:
            ok &= x < m.below
    return ok


def _bit(bits: np.ndarray, bit: int) -> np.ndarray:
    return ((bits[:, bit // 64] >> np.uint64(bit % 64)) & np.uint64(1)).astype(bool)


def measure_active(
    cv: CompiledVersion, ri: int, m: CMeasure, atoms: Atoms, bits: np.ndarray, grades: np.ndarray
) -> np.ndarray:
    """Rows (given their list bits and grade codes) on which measure ``m`` falls."""
    rows = len(grades)
    if m.via is not None:
        return _bit(bits, atoms.via_bit[(ri, m.index)])
    if m.threshold:
        return _bit(bits, atoms.threshold_bit[(ri, m.index)])
    on = np.zeros(rows, bool)
    for li in m.lists:
        bit = atoms.list_bit[(ri, li)]
        on |= ((bits[:, bit // 64] >> np.uint64(bit % 64)) & np.uint64(1)).astype(bool)
    if m.grades:
        for mi, model in enumerate(cv.models):
            if m.score not in (None, model.id):
                continue
            radix, base = atoms.grade_digit[(ri, mi)]
            g = grades // radix % base - 1
            codes = [model.grade_index(x) for x in m.grades]
            on |= np.isin(g, [c for c in codes if c >= 0])
    return on


def build_profiles(results: list[RulebookResult], n: int) -> Profiles:
    """Profiles, outcome and disclosure tables for every subject (see the module docstring)."""
    atoms = Atoms()
    for ri, res in enumerate(results):
        for lst in res.cv.lists:
            atoms.list_bit[(ri, lst.index)] = atoms.n_bits
            atoms.n_bits += 1
        for m in res.cv.measures:
            if m.via is not None:
                atoms.via_bit[(ri, m.index)] = atoms.n_bits
                atoms.n_bits += 1
            elif m.threshold:
                atoms.threshold_bit[(ri, m.index)] = atoms.n_bits
                atoms.n_bits += 1
        for mi, ms in enumerate(res.models):
            base = len(ms.model.grades) + 1
            atoms.grade_digit[(ri, mi)] = (atoms.n_codes, base)
            atoms.n_codes *= base
    words = max(1, -(-atoms.n_bits // 64))
    keys = np.zeros((n, words), np.uint64)
    gcode = np.zeros(n, np.int64)
    for ri, res in enumerate(results):
        for lst in res.cv.lists:
            _set_bits(keys, res.members[lst.id].subjects, atoms.list_bit[(ri, lst.index)])
        for mi_, links in res.via.items():
            _set_bits(keys, np.unique(links.receiver), atoms.via_bit[(ri, mi_)])
        for (rj, mj), bit in atoms.threshold_bit.items():
            if rj != ri:
                continue
            m = res.cv.measures[mj]
            for ms in res.models:
                if ms.model.id == m.score:
                    _set_bits(keys, np.flatnonzero(threshold_mask(m, ms)), bit)
        for mi, ms in enumerate(res.models):
            radix, _ = atoms.grade_digit[(ri, mi)]
            gcode += (ms.grade.astype(np.int64) + 1) * radix
    # grade combinations that occur, as dense rows
    if atoms.n_codes <= 1 << 22:
        present = (
            np.flatnonzero(np.bincount(gcode, minlength=atoms.n_codes)) if n else (np.zeros(0, np.int64))
        )
        remap = np.full(atoms.n_codes, -1, np.int64)
        remap[present] = np.arange(len(present))
        profile = remap[gcode]
    else:
        present, profile = np.unique(gcode, return_inverse=True)
    g_rows = len(present)
    special = np.flatnonzero(keys.any(axis=1))
    row_bits = np.zeros((g_rows, words), np.uint64)
    row_grades = present.astype(np.int64)
    if len(special):
        gbits = max(int(atoms.n_codes - 1).bit_length(), 1)
        if words == 1 and atoms.n_bits + gbits <= 63:  # one integer key: a hash unique
            key = (keys[special, 0] << np.uint64(gbits)) | gcode[special].astype(np.uint64)
            uniq1, inv = np.unique(key, return_inverse=True)
            uniq = np.column_stack([uniq1 >> np.uint64(gbits), uniq1 & np.uint64((1 << gbits) - 1)])
        else:
            table = np.column_stack([keys[special], gcode[special].astype(np.uint64)])
            uniq, inv = np.unique(table, axis=0, return_inverse=True)
        profile[special] = g_rows + inv.ravel()
        row_bits = np.vstack([row_bits, uniq[:, :words]])
        row_grades = np.concatenate([row_grades, uniq[:, words].astype(np.int64)])
    actions: dict[str, int] = {}
    channels: list[str] = []
    for res in results:
        for m in res.cv.measures:
            for a in m.actions:
                if m.effect == "disclose":
                    if a not in channels:
                        channels.append(a)
                else:
                    actions.setdefault(a, len(actions))
    rows = len(row_grades)
    outcome = np.zeros((rows, len(actions) + 1), np.int8)
    disclosed = np.zeros((rows, len(channels)), bool)
    for ri, res in enumerate(results):
        for m in res.cv.measures:
            on = measure_active(res.cv, ri, m, atoms, row_bits, row_grades)
            for a in m.actions:
                if m.effect == "disclose":
                    disclosed[on, channels.index(a)] = True
                else:
                    col = actions[a]
                    outcome[on, col] = np.maximum(outcome[on, col], EFFECT_CODE[m.effect])
    return Profiles(
        profile.astype(np.int32), row_bits, row_grades, outcome, disclosed, actions, channels, atoms
    )


@dataclass(slots=True)
class Decision:
    """The answer on one action for one subject on one day; ``reasons`` are looked up from the
    evaluation when first read (strongest effect first)."""

    subject: str
    action: str
    on: str
    outcome: str
    _evaluation: Any = field(repr=False, compare=False, default=None)
    _code: int = field(repr=False, compare=False, default=-1)
    _reasons: list[dict[str, Any]] | None = field(repr=False, compare=False, default=None)

    @property
    def reasons(self) -> list[dict[str, Any]]:
        if self._reasons is None:
            self._reasons = reasons_for(self._evaluation, self._code, self.action)
        return self._reasons

    def to_dict(self) -> dict[str, Any]:
        """The ``socialcredit check --json`` form."""
        return {
            "subject": self.subject,
            "action": self.action,
            "on": self.on,
            "outcome": self.outcome,
            "reasons": self.reasons,
        }


def _citation(item: Any) -> str | None:
    if getattr(item, "source", None):
        return f"{item.source} ({item.ref})" if item.ref else item.source
    if getattr(item, "assumed", False):
        return f"assumed: {item.reason}"
    return None


def active_measures(ev: Evaluation, code: int) -> list[tuple[int, CMeasure]]:
    """``(rulebook index, measure)`` of every measure falling on subject ``code``."""
    prof = ev.profiles
    row = int(prof.profile[code])
    bits = prof.row_bits[row : row + 1]
    grades = prof.row_grades[row : row + 1]
    out = []
    for ri, res in enumerate(ev.results):
        for m in res.cv.measures:
            if measure_active(res.cv, ri, m, prof.atoms, bits, grades)[0]:
                out.append((ri, m))
    return out


def measure_links(ev: Evaluation, ri: int, m: CMeasure, code: int) -> list[dict[str, Any]]:
    """Why measure ``m`` falls on subject ``code``: one entry per list, grade or related
    subject, with ``since``, ``until`` and ``via``."""
    from socialcredit.engine.dates import iso

    res = ev.results[ri]
    out: list[dict[str, Any]] = []
    if m.via is not None:
        links: Links = res.via[m.index]
        lo, hi = np.searchsorted(links.receiver, [code, code + 1])
        for k in range(lo, hi):
            src = int(links.source[k])
            on = [
                lst.id
                for lst in res.cv.lists
                if lst.index in m.lists and res.members[lst.id].has(np.array([src]))[0]
            ]
            out.append(
                {
                    "list": on[0] if on else None,
                    "grade": None,
                    "since": iso(int(links.since[k])),
                    "until": iso(int(links.until[k])),
                    "via": {"relation": links.relation, "from": ev.subjects.id(src)},
                }
            )
        return out
    for li in m.lists:
        lst = res.cv.lists[li]
        mem = res.members[lst.id]
        i = int(np.searchsorted(mem.subjects, code))
        if i >= len(mem.subjects) or mem.subjects[i] != code:
            continue
        via = via_of(ev, res, lst.id, code)
        out.append(
            {
                "list": lst.id,
                "grade": None,
                "since": iso(int(mem.since[i])),
                "until": iso(int(mem.until[i])),
                "via": via,
            }
        )
    if m.threshold:
        for ms in res.models:
            if ms.model.id == m.score and threshold_mask(m, ms)[code]:
                out.append(
                    {
                        "list": None,
                        "grade": None,
                        "score": f"{ms.model.id} {float(ms.score[code]):g} {_threshold_text(m)}",
                        "threshold": _threshold_text(m),
                        "since": None,
                        "until": None,
                        "via": None,
                    }
                )
    if m.grades:
        for ms in res.models:
            if m.score not in (None, ms.model.id) or ms.grade[code] < 0:
                continue
            grade = ms.model.grades[int(ms.grade[code])]
            if grade in m.grades:
                out.append({"list": None, "grade": grade, "since": None, "until": None, "via": None})
    return out


def _threshold_text(m: CMeasure) -> str:
    parts = []
    if m.at_least is not None:
        parts.append(f"≥ {m.at_least:g}")
    if m.below is not None:
        parts.append(f"< {m.below:g}")
    return " and ".join(parts)


def via_of(
    ev: Evaluation, res: RulebookResult, list_id: str, code: int, depth: int = 0
) -> dict[str, Any] | None:
    """The relation through which subject ``code`` is on ``list_id``, when it is on it only
    through someone else (directly, or through another list it is on only so); else ``None``."""
    from socialcredit.engine.lists import ON_LIST, VIA

    mem = res.members[list_id]
    rows = mem.reasons.rows(code)
    kinds = mem.reasons.kind[rows]
    if not len(kinds) or depth > len(res.members):
        return None
    found = None
    for j in range(rows.start, rows.stop):
        kind = int(mem.reasons.kind[j])
        if kind == VIA:
            found = found or {
                "relation": mem.lst.propagate[int(mem.reasons.b[j])].relation,
                "from": ev.subjects.id(int(mem.reasons.a[j])),
            }
        elif kind == ON_LIST:
            src = mem.lst.lst.enter[int(mem.reasons.b[j])].on_list or ""
            inner = via_of(ev, res, src, code, depth + 1) if src in res.members else None
            if inner is None:
                return None
            found = found or inner
        else:
            return None
    return found


def reasons_for(ev: Evaluation, code: int, action: str) -> list[dict[str, Any]]:
    """The ``reasons`` of a decision: every measure in force on ``action``, strongest first."""
    out = []
    for ri, m in active_measures(ev, code):
        if action not in m.actions or m.effect == "disclose":
            continue
        for link in measure_links(ev, ri, m, code):
            entry = {
                "rulebook": ev.results[ri].cv.rulebook,
                "list": link["list"],
                "measure": m.id,
                "effect": m.effect,
                "since": link["since"],
                "until": link["until"],
                "source": _citation(m.measure),
                "via": link["via"],
            }
            if link["grade"] is not None:
                entry["grade"] = link["grade"]
            if link.get("score") is not None:
                entry["score"] = link["score"]
            if m.measure.terms is not None and m.measure.terms.note:
                entry["terms"] = m.measure.terms.note
            out.append(entry)
    out.sort(key=lambda r: -EFFECT_CODE.get(r["effect"], 0))
    return out
