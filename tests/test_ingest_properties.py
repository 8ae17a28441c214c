"""Property tests: the canonical form (what the chain hashes) is stable and equals the reference."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest_helpers import Tiny, write_jsonl
from socialcredit.ingest import ingest_files
from socialcredit.ledger import open_ledger
from socialcredit.ledger.canonical import canonical_batch, normalise_occurred_at
from socialcredit.records import RECORD_FIELDS, canonical_json, canonical_record, parse_occurred_at

TINY = Tiny()
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
instants = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2018, 12, 31), timezones=offsets)


@st.composite
def spellings(draw: st.DrawFn) -> str:
    """``occurred_at`` spelled in one of the ways ISO 8601 allows (and Python reads)."""
    when = draw(instants)
    form = draw(st.sampled_from(["date", "naive", "offset", "micro", "Z", "space"]))
    if form == "date":
        return when.date().isoformat()
    if form == "naive":
        return when.replace(tzinfo=None, microsecond=0).isoformat()
    if form == "Z":
        return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if form == "space":
        return when.replace(microsecond=0).isoformat(sep=" ")
    if form == "micro":
        return when.isoformat(timespec="microseconds")
    return when.replace(microsecond=0).isoformat()


values = st.one_of(
    st.none(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
)


@st.composite
def records(draw: st.DrawFn) -> dict:
    rec = {
        "id": draw(text),
        "subject": draw(text),
        "category": draw(text),
        "occurred_at": draw(spellings()),
        "source": draw(text),
    }
    for name in ("value", "evidence", "basis", "reported_by", "corrects"):
        if draw(st.booleans()):
            rec[name] = draw(values if name == "value" else text)
    return rec


SCHEMA = pa.schema([(n, pa.float64() if n == "value" else pa.string()) for n in RECORD_FIELDS])


@given(st.lists(records(), min_size=1, max_size=20))
@settings(max_examples=200, deadline=None)
def test_the_columnar_canonical_form_equals_the_reference(recs: list[dict]) -> None:
    rows = [{**r, "value": None if r.get("value") is None else float(r["value"])} for r in recs]
    got = canonical_batch(pa.Table.from_pylist(rows, schema=SCHEMA)).canonical
    assert got == [canonical_json(canonical_record(r)) for r in recs]


@given(st.lists(st.one_of(spellings(), st.text(max_size=30)), min_size=1, max_size=30))
@settings(max_examples=300, deadline=None)
def test_occurred_at_fast_path_agrees_with_the_reference_parser(texts: list[str]) -> None:
    got = normalise_occurred_at(pa.array(texts, pa.string()))
    for i, t in enumerate(texts):
        try:
            want = parse_occurred_at(t)
        except (ValueError, OverflowError):
            assert i in got.errors, t
            continue
        assert got.canonical[i].as_py() == want.isoformat(), t
        assert got.epoch[i] == want.timestamp(), t


def _respell(occurred_at: str) -> str:
    """Another spelling of the same canonical ``occurred_at``."""
    when = parse_occurred_at(occurred_at)
    if when.utcoffset() == dt.timedelta(hours=8) and when.time() == dt.time():
        return when.date().isoformat()
    if when.utcoffset() == dt.timedelta(hours=8):
        return when.replace(tzinfo=None).isoformat()
    return when.isoformat(timespec="microseconds")


@given(
    st.permutations(["id", "subject", "category", "occurred_at", "source", "value", "evidence"]),
    instants,
    st.sampled_from([None, 1, 1.0, 2, 2.5]),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_same_record_in_another_key_order_and_date_spelling_is_a_duplicate(
    order: list[str], when: dt.datetime, value: float | None
) -> None:
    first = TINY.record(0, occurred_at=when.replace(microsecond=0).isoformat(), value=value, evidence="photo")
    second = {k: first[k] for k in order if k in first}
    second["occurred_at"] = _respell(first["occurred_at"])
    if value is not None and value == int(value):
        second["value"] = int(value) if isinstance(value, float) else float(value)
    with tempfile.TemporaryDirectory() as tmp, open_ledger(Path(tmp) / "l.db") as ledger:
        ledger.append_registry(TINY.registry)
        a = write_jsonl(Path(tmp) / "a.jsonl", [first])
        b = write_jsonl(Path(tmp) / "b.jsonl", [second])
        now = "2100-01-01"
        assert ingest_files(ledger, [a], now=now).accepted == 1
        report = ingest_files(ledger, [b], now=now)
        assert (report.accepted, report.duplicates, report.rejected) == (0, 1, 0), (
            json.dumps(first),
            json.dumps(second),
        )
