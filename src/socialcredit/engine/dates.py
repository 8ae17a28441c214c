"""Days as integers, and durations added to whole columns of them.

The engine counts days since 1970-01-01 (``int64``; records carry ``int32``). ``NEVER`` is the
end of an open interval, ``UNKNOWN`` a birth date nobody knows. Durations add calendar years and
months first (a day past the end of the target month falls back to its last day: 29 Feb + 1 year
is 28 Feb), then days, then working days (Monday to Friday; a start on a weekend rolls forward
to Monday first; public holidays are not modelled).

Example:
    >>> from socialcredit.rulebooks._common import Duration
    >>> d = to_day("2019-05-06")                  # a Monday
    >>> from_day(int(add_duration([d], Duration(working_days=3))[0]))
    datetime.date(2019, 5, 9)
    >>> from_day(int(add_duration([to_day("2016-02-29")], Duration(years=1))[0]))
    datetime.date(2017, 2, 28)
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

from socialcredit.rulebooks._common import Duration

EPOCH = dt.date(1970, 1, 1)
NEVER = np.int64(2**62)
UNKNOWN = np.int64(-(2**62))


def to_day(value: dt.date | str) -> int:
    """A date (or ISO ``YYYY-MM-DD`` text) as days since 1970-01-01."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value.strip()[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return (value - EPOCH).days


def from_day(day: int | None) -> dt.date | None:
    """Days since 1970-01-01 as a date; ``None`` for ``NEVER``/``UNKNOWN`` or ``None``."""
    if day is None or day >= NEVER or day <= UNKNOWN:
        return None
    return EPOCH + dt.timedelta(days=int(day))


def iso(day: int | None) -> str | None:
    """Days as ``YYYY-MM-DD`` (``None`` for open ends)."""
    d = from_day(day)
    return d.isoformat() if d else None


def add_duration(days: np.ndarray | list[int], dur: Duration | None) -> np.ndarray:
    """``days + dur`` element-wise (``int64``); ``NEVER`` and ``UNKNOWN`` stay as they are.

    ``dur=None`` is an open duration: the result is ``NEVER``.
    """
    d = np.asarray(days, dtype=np.int64)
    if dur is None:
        return np.full(d.shape, NEVER, dtype=np.int64)
    special = (d >= NEVER) | (d <= UNKNOWN)
    out = np.where(special, 0, d)
    months = dur.years * 12 + dur.months
    if months:
        dd = out.astype("datetime64[D]")
        month = dd.astype("datetime64[M]")
        dom = (dd - month.astype("datetime64[D]")).astype(np.int64)
        target = month + months
        first = target.astype("datetime64[D]").astype(np.int64)
        length = (target + 1).astype("datetime64[D]").astype(np.int64) - first
        out = first + np.minimum(dom, length - 1)
    if dur.days:
        out = out + dur.days
    if dur.working_days:
        out = np.busday_offset(out.astype("datetime64[D]"), dur.working_days, roll="forward").astype(np.int64)
    return np.where(special, d, out)


@lru_cache(maxsize=4096)
def cutoff(dur: Duration | None, as_of: int) -> int:
    """The first day ``d`` with ``d + dur > as_of``: a record of day ``d`` is still in effect on
    ``as_of`` exactly when ``d >= cutoff(dur, as_of)`` (``add_duration`` never decreases)."""
    if dur is None:
        return int(UNKNOWN)
    span = dur.years * 367 + dur.months * 32 + dur.days + dur.working_days * 2 + 8
    candidates = np.arange(as_of - span - 1, as_of + 2, dtype=np.int64)
    after = add_duration(candidates, dur) > as_of
    return int(candidates[int(np.argmax(after))])


@lru_cache(maxsize=4096)
def born_by(years: int, day: int) -> int:
    """The last birth day of someone at least ``years`` old on ``day``: ``age >= years`` exactly
    when ``birth <= born_by(years, day)`` (``UNKNOWN`` births always pass)."""
    if years <= 0:
        return int(NEVER)
    return cutoff(Duration(years=years), day) - 1


def age_day(birth: np.ndarray, years: int) -> np.ndarray:
    """The day each subject turns ``years`` old (``UNKNOWN`` birth gives ``UNKNOWN``:
    a subject of unknown age counts as old enough)."""
    return add_duration(birth, Duration(years=years)) if years else np.asarray(birth, np.int64)
