"""The simulator's records, kept as growing integer columns and handed to the engine as
:class:`socialcredit.engine.RecordArrays` — the engine's own input type, so the simulator calls
the engine itself and never re-implements a rule.

Order is ledger order: history first, then day by day in canonical order (time of day, then
kind, block, category and event number), so the records written to a ledger get the same
``seq`` order and the engine breaks same-day ties the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from socialcredit.engine import RecordArrays
from socialcredit.registry import SUBJECT_KINDS
from socialcredit.vocabulary import vocabulary

__all__ = ["RecordStore"]

_COLUMNS = {
    "subject": np.int32,
    "category": np.int16,
    "day": np.int32,
    "value": np.float64,
    "source": np.int16,
    "second": np.int32,
    "kind": np.int8,
    "block": np.int64,
    "k": np.int64,
    "history": np.bool_,
    "reporter": np.int32,  # the reporting citizen's code (``reported_by``), -1 for none
}


def canonical_order(recs: Mapping[str, NDArray]) -> NDArray[np.int64]:
    """The order of one day's records: time of day, kind, block, category, event number."""
    return np.lexsort((recs["k"], recs["category"], recs["block"], recs["kind"], recs["second"]))


class RecordStore:
    """Records appended in ledger order, with amortised growth."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._cols = {c: np.zeros(capacity, t) for c, t in _COLUMNS.items()}
        self.n = 0
        voc = vocabulary()
        self.categories = tuple(voc.categories)
        self.sources = tuple(voc.sources)
        #: whether :meth:`table` has a ``reported_by`` column (the informants loop is on)
        self.reporters = False

    def __len__(self) -> int:
        return self.n

    def append(
        self, recs: Mapping[str, NDArray], day: NDArray[np.int64] | int, *, history: bool = False
    ) -> None:
        """Append records (already in order); ``day`` is one day or one per record."""
        m = len(recs["subject"])
        if not m:
            return
        if self.n + m > len(self._cols["subject"]):
            grow = max(2 * len(self._cols["subject"]), self.n + m)
            for c, arr in self._cols.items():
                new = np.zeros(grow, arr.dtype)
                new[: self.n] = arr[: self.n]
                self._cols[c] = new
        sl = slice(self.n, self.n + m)
        for c in _COLUMNS:
            if c == "day":
                self._cols[c][sl] = day
            elif c == "history":
                self._cols[c][sl] = history
            elif c == "reporter" and c not in recs:
                self._cols[c][sl] = -1
            else:
                self._cols[c][sl] = recs[c]
        self.n += m

    def column(self, name: str) -> NDArray:
        return self._cols[name][: self.n]

    def arrays(self) -> RecordArrays:
        """The records so far as the engine's input (views, no copy; nothing is void). Citizen
        reports among them were upheld by the informants loop's own review the day they were
        filed (:class:`~socialcredit.simulate.feedback.Informants`): ``reviewed``, none held."""
        c = self.column
        return RecordArrays(
            c("subject"),
            c("category"),
            c("day"),
            c("value"),
            np.zeros(self.n, bool),
            self.categories,
            c("source"),
            self.sources,
            None,
            reviewed=True,
        )

    def counts(self, first: int, what: str = "category") -> NDArray[np.int64]:
        """Records per category (or source) from position ``first`` on."""
        size = len(self.categories if what == "category" else self.sources)
        return np.bincount(self._cols[what][first : self.n], minlength=size)

    def table(
        self, subject_ids: pa.Array, *, prefix: str, start: int = 0, stop: int | None = None
    ) -> pa.Table:
        """The records in the record contract (id, subject, category, occurred_at, source,
        value, and with :attr:`reporters` ``reported_by``), ready for Parquet or
        ``Ledger.append_records``.

        Ids are ``<prefix>-<YYYYMMDD>-<kind letter><block>-<category index>-<event>``; history
        records (dated before the run) use ``h`` after the prefix. ``start``/``stop`` select
        positions.
        """
        stop = self.n if stop is None else stop

        def c(name: str) -> NDArray:
            return self._cols[name][start:stop]

        n = stop - start
        epoch = np.datetime64("1970-01-01", "s")
        when = epoch + (c("day").astype(np.int64) * 86400 + c("second")).astype("timedelta64[s]")
        stamp = pa.array(when, pa.timestamp("s"))
        occurred = pc.strftime(stamp, format="%Y-%m-%dT%H:%M:%S+08:00")
        ymd = pc.strftime(stamp, format="%Y%m%d")
        letters = np.array([k[0] for k in SUBJECT_KINDS])[c("kind")]
        tag = np.where(c("history"), f"{prefix}-h", prefix)
        body = np.char.add(np.char.add(letters, c("block").astype(str)), "-")
        body = np.char.add(np.char.add(body, c("category").astype(str)), "-")
        body = np.char.add(body, c("k").astype(str))
        ids = pc.binary_join_element_wise(pa.array(tag), ymd, pa.array(body), "-")
        cats = pa.array(list(self.categories), pa.string())
        srcs = pa.array(list(self.sources), pa.string())
        table = (
            pa.table(
                {
                    "id": ids,
                    "subject": subject_ids.take(pa.array(c("subject"))),
                    "category": cats.take(pa.array(c("category").astype(np.int32))),
                    "occurred_at": occurred,
                    "source": srcs.take(pa.array(c("source").astype(np.int32))),
                    "value": pa.array(c("value")),
                }
            )
            if n
            else pa.table(
                {k: pa.array([], pa.string()) for k in ("id", "subject", "category", "occurred_at", "source")}
                | {"value": pa.array([], pa.float64())}
            )
        )
        if self.reporters:
            rep = c("reporter")
            by = subject_ids.take(pa.array(np.maximum(rep, 0), pa.int32())) if n else None
            col = (
                pc.if_else(pa.array(rep >= 0), by, pa.scalar(None, pa.string()))
                if n
                else pa.array([], pa.string())
            )
            table = table.append_column("reported_by", col)
        return table


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - dt.date(1970, 1, 1)).days
