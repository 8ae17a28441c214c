"""The engine's input as integer columns: records, subjects and relations, interned once.

Subjects become ``int32`` codes (their position in :attr:`SubjectArrays.ids`), categories and
sources small codes into per-table name lists, days ``int32`` days since 1970-01-01. Records are
kept in ledger order (``seq``): ties on a day are broken by that order everywhere.

A record that names another in ``corrects`` annuls it on every date; the correcting record is a
statement about another record and never counts itself. Both are marked ``void``.

:func:`records_from_table` and :func:`subjects_from_registry` build these from the record and
registry contracts (:mod:`socialcredit.records`, :mod:`socialcredit.registry`); the benchmark and
the simulator may build them directly.

Example:
    >>> from socialcredit.records import records_table
    >>> from socialcredit.registry import Registry
    >>> reg = Registry.from_lines([{"id": "a", "kind": "person", "name": "A"}])
    >>> subs = subjects_from_registry(reg)
    >>> recs = records_from_table(records_table([
    ...     {"id": "r1", "subject": "a", "category": "traffic.ticket",
    ...      "occurred_at": "2020-01-02", "source": "traffic_police"},
    ...     {"id": "r2", "subject": "a", "category": "traffic.ticket",
    ...      "occurred_at": "2020-01-03", "source": "traffic_police", "corrects": "r1"}]), subs)
    >>> recs.subject.tolist(), recs.void.tolist()
    ([0, 0], [True, True])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit.engine.dates import NEVER, UNKNOWN
from socialcredit.errors import JurisdictionError
from socialcredit.regions import jurisdiction
from socialcredit.registry import RELATION_KINDS, SUBJECT_KINDS, Registry

CIVIL_SERVANT = "civil servant"


@dataclass
class SubjectArrays:
    """Every subject the engine knows, by code.

    ``kind`` indexes :data:`socialcredit.registry.SUBJECT_KINDS` (-1: unknown); ``region`` is
    the jurisdiction code as an integer (``000600`` -> 600; -1: unknown); ``birth`` a day or
    ``UNKNOWN``; ``consent``, ``resident`` and ``civil_servant`` are -1 (unknown), 0 or 1;
    ``profession`` indexes ``professions`` (-1: none).
    """

    ids: pa.Array
    kind: np.ndarray
    region: np.ndarray
    birth: np.ndarray
    consent: np.ndarray
    resident: np.ndarray
    civil_servant: np.ndarray
    profession: np.ndarray
    professions: tuple[str, ...] = ()
    _index: dict[str, int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.kind)

    def code(self, subject: str) -> int | None:
        """The code of ``subject`` (built into a dict on first use), or ``None``."""
        if self._index is None:
            self._index = {s: i for i, s in enumerate(self.ids.to_pylist())}
        return self._index.get(subject)

    def codes(self, subjects: pa.Array | list[str]) -> np.ndarray:
        """Codes for many subject ids at once (-1 where unknown)."""
        arr = pc.index_in(pa.array(subjects, pa.string()), value_set=self.ids)
        return arr.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)

    def id(self, code: int) -> str:
        return self.ids[int(code)].as_py()

    @classmethod
    def build(
        cls,
        ids: pa.Array | list[str],
        kind: np.ndarray | list[int],
        *,
        region: np.ndarray | None = None,
        birth: np.ndarray | None = None,
        consent: np.ndarray | None = None,
        resident: np.ndarray | None = None,
        civil_servant: np.ndarray | None = None,
        profession: np.ndarray | None = None,
        professions: tuple[str, ...] = (),
    ) -> SubjectArrays:
        """Subjects from columns; omitted attributes are unknown."""
        n = len(kind)

        def col(x: np.ndarray | None, dtype: type, fill: int) -> np.ndarray:
            return np.full(n, fill, dtype) if x is None else np.asarray(x, dtype)

        return cls(
            ids=pa.array(ids, pa.string()) if not isinstance(ids, pa.Array) else ids,
            kind=np.asarray(kind, np.int8),
            region=col(region, np.int32, -1),
            birth=col(birth, np.int64, int(UNKNOWN)),
            consent=col(consent, np.int8, -1),
            resident=col(resident, np.int8, -1),
            civil_servant=col(civil_servant, np.int8, -1),
            profession=col(profession, np.int16, -1),
            professions=professions,
        )


@dataclass
class RelationArrays:
    """Dated relations: ``kind`` indexes :data:`socialcredit.registry.RELATION_KINDS`; a
    relation holds on day ``D`` when ``since <= D < until`` (``UNKNOWN``/``NEVER`` when open)."""

    kind: np.ndarray
    subject: np.ndarray
    object: np.ndarray
    since: np.ndarray
    until: np.ndarray

    @classmethod
    def empty(cls) -> RelationArrays:
        z = np.zeros(0, np.int64)
        return cls(np.zeros(0, np.int8), z.astype(np.int32), z.astype(np.int32), z, z)

    def on(self, day: int, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(subject, object, since, until)`` of the relations of ``kind`` valid on ``day``."""
        k = RELATION_KINDS.index(kind)
        m = (self.kind == k) & (self.since <= day) & (self.until > day)
        return self.subject[m], self.object[m], self.since[m], self.until[m]


@dataclass
class RecordArrays:
    """Records as columns in ledger order; ``void`` marks annulled and annulling records.

    ``categories`` and ``sources`` name the codes; ``ids`` (record ids) may be ``None`` when the
    caller has none (then ``#<position>`` stands in). ``source`` may be ``None`` (every ``by:``
    condition then holds). ``reporter`` is the subject code of ``reported_by`` (-1: none or
    unknown; ``None``: no record names one). ``reviewed`` says that the informant reports among
    these records were reviewed and upheld before they arrived (the simulator's informants loop):
    none of them is held for review (:mod:`socialcredit.engine.reports`).
    """

    subject: np.ndarray
    category: np.ndarray
    day: np.ndarray
    value: np.ndarray
    void: np.ndarray
    categories: tuple[str, ...]
    source: np.ndarray | None = None
    sources: tuple[str, ...] = ()
    ids: pa.Array | None = None
    reporter: np.ndarray | None = None
    reviewed: bool = False

    def __len__(self) -> int:
        return len(self.subject)

    def record_id(self, pos: int) -> str:
        return self.ids[int(pos)].as_py() if self.ids is not None else f"#{int(pos)}"

    def category_code(self, name: str) -> int:
        """The code of a category in these records (-1 when no record has it)."""
        try:
            return self.categories.index(name)
        except ValueError:
            return -1

    def source_codes(self, names: list[str] | None) -> np.ndarray | None:
        if names is None or self.source is None:
            return None
        return np.array([self.sources.index(s) for s in names if s in self.sources], np.int64)


def _as_numpy(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return (
        col.to_numpy(zero_copy_only=False)
        if isinstance(col, pa.Array)
        else (col.combine_chunks().to_numpy(zero_copy_only=False))
    )


def _encode(col: pa.ChunkedArray) -> tuple[np.ndarray, tuple[str, ...]]:
    enc = col.combine_chunks().dictionary_encode() if len(col) else pa.array([], pa.string())
    if not len(col):
        return np.zeros(0, np.int16), ()
    names = tuple(enc.dictionary.to_pylist())
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return idx.astype(np.int16 if len(names) < 32000 else np.int32), names


def records_from_table(table: pa.Table, subjects: SubjectArrays) -> RecordArrays:
    """Intern a :data:`socialcredit.records.RECORDS_SCHEMA` table against ``subjects``.

    Records of subjects the registry does not know are dropped (the ledger never accepts them).
    The table is put in ``seq`` order first when it is not already.
    """
    if table.num_rows and "seq" in table.column_names:
        seq = _as_numpy(table["seq"])
        if len(seq) > 1 and np.any(seq[1:] < seq[:-1]):
            table = table.take(pa.array(np.argsort(seq, kind="stable")))
    codes = pc.index_in(table["subject"], value_set=subjects.ids)
    known = pc.is_valid(codes)
    if not pc.all(known).as_py() and table.num_rows:
        table, codes = table.filter(known), codes.filter(known)
    n = table.num_rows
    subject = _as_numpy(codes.fill_null(-1)).astype(np.int32) if n else np.zeros(0, np.int32)
    category, categories = _encode(table["category"])
    source, sources = _encode(table["source"])
    day = _as_numpy(table["day"].cast(pa.int32())).astype(np.int32) if n else np.zeros(0, np.int32)
    value = _as_numpy(table["value"].fill_null(1.0)).astype(np.float64) if n else np.zeros(0)
    ids = table["id"].combine_chunks() if n else pa.array([], pa.string())
    void = np.zeros(n, bool)
    if n and "corrects" in table.column_names:
        corrects = table["corrects"].combine_chunks()
        has = pc.is_valid(corrects)
        void |= _as_numpy(has).astype(bool)
        target = pc.index_in(corrects.filter(has), value_set=ids).drop_null()
        void[_as_numpy(target).astype(np.int64)] = True
    reporter = None
    if n and "reported_by" in table.column_names and table["reported_by"].null_count < n:
        at = pc.index_in(table["reported_by"].combine_chunks(), value_set=subjects.ids)
        reporter = _as_numpy(at.fill_null(-1)).astype(np.int32)
    return RecordArrays(subject, category, day, value, void, categories, source, sources, ids, reporter)


def _region_code(text: str | None) -> int:
    if not text:
        return -1
    t = text.strip()
    if len(t) == 6 and t.isdigit():
        return int(t[:4]) * 100
    try:
        return int(jurisdiction(t).code)
    except JurisdictionError:
        return -1


def _tristate(col: pa.ChunkedArray) -> np.ndarray:
    return _as_numpy(col.cast(pa.int8()).fill_null(-1)).astype(np.int8)


def subjects_from_registry(registry: Registry) -> SubjectArrays:
    """Subjects of a :class:`~socialcredit.registry.Registry`, in registry order.

    Beyond the contract's ``kind``, ``region`` and ``profession`` the subjects table may carry
    ``birth_date``, ``consent``, ``resident`` and ``civil_servant`` columns (rulebook cases do).
    A person's birth date and region otherwise come from the identity number (positions 7-14
    and 1-6), an organisation's region from its credit code (positions 3-8).
    """
    t = registry.subjects
    n = t.num_rows
    ids = t["id"].combine_chunks() if n else pa.array([], pa.string())
    kinds = pc.index_in(t["kind"], value_set=pa.array(SUBJECT_KINDS))
    kind = _as_numpy(kinds.fill_null(-1)).astype(np.int8) if n else np.zeros(0, np.int8)
    is_person = kind == SUBJECT_KINDS.index("person")
    is_org = np.isin(kind, [SUBJECT_KINDS.index("organisation"), SUBJECT_KINDS.index("government")])
    # birth date
    birth = np.full(n, UNKNOWN, np.int64)
    if n:
        from_id = (
            pc.strptime(pc.utf8_slice_codeunits(ids, 6, 14), format="%Y%m%d", unit="s", error_is_null=True)
            .cast(pa.date32())
            .cast(pa.int32())
        )
        b = _as_numpy(from_id.fill_null(-(2**31))).astype(np.int64)
        ok = is_person & (b > -(2**31)) & (_as_numpy(pc.utf8_length(ids)) == 18)
        birth[ok] = b[ok]
        if "birth_date" in t.column_names:
            given = _as_numpy(t["birth_date"].cast(pa.date32()).cast(pa.int32()).fill_null(-(2**31))).astype(
                np.int64
            )
            birth = np.where(given > -(2**31), given, birth)
    # region: given, else from the identifier
    region = np.full(n, -1, np.int32)
    if n:
        area = pc.if_else(
            pa.array(is_person),
            pc.utf8_slice_codeunits(ids, 0, 6),
            pc.if_else(pa.array(is_org), pc.utf8_slice_codeunits(ids, 2, 8), None),
        )
        given = t["region"].combine_chunks() if "region" in t.column_names else None
        text = pc.coalesce(given, area) if given is not None else area
        enc = text.dictionary_encode()
        lut = np.array([_region_code(s) for s in enc.dictionary.to_pylist()] + [-1], np.int32)
        idx = _as_numpy(enc.indices.fill_null(len(lut) - 1)).astype(np.int64)
        region = lut[idx]
    professions: tuple[str, ...] = ()
    profession = np.full(n, -1, np.int16)
    if n and "profession" in t.column_names:
        profession, professions = _encode(t["profession"])
    extra = {
        c: _tristate(t[c]) if c in t.column_names and n else None
        for c in ("consent", "resident", "civil_servant")
    }
    return SubjectArrays.build(
        ids, kind, region=region, birth=birth, profession=profession, professions=professions, **extra
    )


def relations_from_registry(registry: Registry, subjects: SubjectArrays) -> RelationArrays:
    """The registry's relations with both ends interned (relations to unknown subjects and of
    unknown kinds are dropped)."""
    r = registry.relations
    if not r.num_rows:
        return RelationArrays.empty()
    s = pc.index_in(r["subject"], value_set=subjects.ids)
    o = pc.index_in(r["object"], value_set=subjects.ids)
    k = pc.index_in(r["relation"], value_set=pa.array(RELATION_KINDS))
    keep = pc.and_(pc.and_(pc.is_valid(s), pc.is_valid(o)), pc.is_valid(k))
    since = r["since"].cast(pa.int32()).cast(pa.int64()).fill_null(int(UNKNOWN))
    until = r["until"].cast(pa.int32()).cast(pa.int64()).fill_null(int(NEVER))

    def arr(c: pa.ChunkedArray, dtype: type) -> np.ndarray:
        return _as_numpy(c.filter(keep)).astype(dtype)

    return RelationArrays(
        arr(k, np.int8), arr(s, np.int32), arr(o, np.int32), arr(since, np.int64), arr(until, np.int64)
    )


def _recode(
    codes: np.ndarray, names: tuple[str, ...], into: tuple[str, ...]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """``codes`` over ``names`` as codes over ``into`` extended by the names it lacks."""
    merged = into + tuple(x for x in names if x not in into)
    lut = np.array([merged.index(x) for x in names] + [-1], np.int64)
    out = lut[np.where(codes < 0, len(names), codes)]
    return out.astype(np.int16 if len(merged) < 32000 else np.int32), merged


def append_records(
    old: RecordArrays, table: pa.Table | RecordArrays, subjects: SubjectArrays
) -> RecordArrays:
    """``old`` followed by the newly arrived records of ``table`` (interned against
    ``subjects``, whose first codes must be those ``old`` was interned against; or already
    interned ``RecordArrays`` with their own category and source names). Category and source
    codes of ``old`` are kept; new names get new codes after them. A new record of a table that
    annuls an earlier one (``corrects``) voids it, old or new; interned arrays carry their own
    ``void`` and annul nothing of ``old``."""
    new = table if isinstance(table, RecordArrays) else records_from_table(table, subjects)
    cat, categories = _recode(new.category, new.categories, old.categories)
    if old.source is not None and new.source is not None:
        src, sources = _recode(new.source, new.sources, old.sources)
        source: np.ndarray | None = np.concatenate([old.source, src])
    else:
        source, sources = None, ()
    n_old = len(old)

    def numbered(ids: pa.Array | None, lo: int, k: int) -> pa.Array:
        return (ids if ids is not None else pa.array([f"#{i}" for i in range(lo, lo + k)], pa.string())).cast(
            pa.string()
        )

    ids = None
    if old.ids is not None or new.ids is not None:
        ids = pa.concat_arrays([numbered(old.ids, 0, n_old), numbered(new.ids, n_old, len(new))])
    void = np.concatenate([old.void, new.void])
    reporter = None
    if old.reporter is not None or new.reporter is not None:
        reporter = np.concatenate(
            [x.reporter if x.reporter is not None else np.full(len(x), -1, np.int32) for x in (old, new)]
        )
    if isinstance(table, pa.Table) and len(new) and "corrects" in table.column_names:
        known = pc.is_valid(pc.index_in(table["subject"], value_set=subjects.ids))
        corrects = table["corrects"].filter(known).combine_chunks()
        has = pc.is_valid(corrects)
        old_ids = ids.slice(0, n_old) if ids is not None else pa.array([], pa.string())
        target = pc.index_in(corrects.filter(has), value_set=old_ids).drop_null()
        void[_as_numpy(target).astype(np.int64)] = True
    return RecordArrays(
        np.concatenate([old.subject, new.subject]),
        np.concatenate([old.category.astype(cat.dtype), cat]),
        np.concatenate([old.day, new.day]),
        np.concatenate([old.value, new.value]),
        void,
        categories,
        source,
        sources,
        ids,
        reporter,
        old.reviewed and new.reviewed,
    )
