"""Conditions on subjects, evaluated for every subject at once on the evaluation date.

Unknown attributes are read so that a condition does not silently exclude: a subject whose birth
date nobody knows counts as an adult; one whose residence is not recorded is a resident when its
region lies in the rulebook's jurisdiction. Consent is the exception: without a recorded
``consent: true`` a person is not scored where a rulebook requires consent.
"""

from __future__ import annotations

import numpy as np

from socialcredit.engine.compile import CModel, CompiledVersion, CWhen
from socialcredit.engine.data import CIVIL_SERVANT, SubjectArrays
from socialcredit.engine.dates import UNKNOWN, born_by
from socialcredit.registry import SUBJECT_KINDS

PERSON = SUBJECT_KINDS.index("person")


def among(values: np.ndarray, allowed: tuple[int, ...] | list[int]) -> np.ndarray:
    """``np.isin`` for small integer codes, by a lookup table (negative codes never match)."""
    values = np.asarray(values)
    if not len(values):
        return np.zeros(0, bool)
    top = max(int(values.max()), int(max(allowed, default=0)), 0)
    lut = np.zeros(top + 2, bool)  # the last cell answers for -1
    lut[[a for a in allowed if a >= 0]] = True
    if values.min() < -1:
        values = np.maximum(values, -1)
    return lut[values]


def when_mask(when: CWhen | None, subjects: SubjectArrays, day: int) -> np.ndarray | None:
    """Subjects meeting ``when`` on ``day`` (``None``: everyone)."""
    if when is None:
        return None
    m = np.ones(len(subjects), bool)
    if when.kinds is not None:
        m &= among(subjects.kind, when.kinds)
    if when.professions is not None:
        codes = [i for i, p in enumerate(subjects.professions) if p in when.professions]
        m &= among(subjects.profession, codes)
    if when.civil_servant is not None:
        codes = [i for i, p in enumerate(subjects.professions) if p == CIVIL_SERVANT]
        cs = (subjects.civil_servant == 1) | among(subjects.profession, codes)
        m &= cs if when.civil_servant else ~cs
    if when.regions is not None:
        m &= among(subjects.region, when.regions)
    if when.min_age is not None:
        m &= subjects.birth <= born_by(when.min_age, day)
    if when.max_age is not None:
        older = (subjects.birth <= born_by(when.max_age + 1, day)) & (subjects.birth > UNKNOWN)
        m &= ~older | (subjects.kind != PERSON)
    return m


def scored_mask(cv: CompiledVersion, model: CModel, subjects: SubjectArrays, day: int) -> np.ndarray:
    """Subjects ``model`` scores on ``day``: its kinds and ``when``, and the rulebook's scope
    (kinds, minimum age, residents) and consent."""
    m = among(subjects.kind, model.kinds)
    if cv.scope_kinds is not None:
        m &= among(subjects.kind, cv.scope_kinds)
    w = when_mask(model.when, subjects, day)
    if w is not None:
        m &= w
    person = subjects.kind == PERSON
    if cv.min_age is not None:
        m &= ~person | (subjects.birth <= born_by(cv.min_age, day))
    if cv.residents_only and cv.jurisdiction != 0:
        local = subjects.region == cv.jurisdiction
        m &= (subjects.resident == 1) | ((subjects.resident == -1) & local)
    if cv.consent:
        m &= ~person | (subjects.consent == 1)
    return m
