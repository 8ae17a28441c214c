"""Hypothesis strategies for the fuzz tests (records, registry lines, rulebooks, nasty values), the
``fuzz`` profile, and the figures each fuzz test reports.

The default is small, for ``make test``; ``make fuzz`` sets ``SOCIALCREDIT_FUZZ=1`` (and
optionally ``SOCIALCREDIT_FUZZ_EXAMPLES``) to run the ``fuzz`` profile, with many examples per
test, and to write the figures to ``bench/results/fuzz.json``.

Figures, per test: ``inputs`` (examples tried), ``lines`` (records or lines inside them),
``crashes`` (exceptions other than a clear refusal: a test fails on the first), ``lost`` (lines
neither accepted, nor counted as duplicates, nor rejected with a reason: must be 0).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ingest_helpers import Tiny
from socialcredit.records import RECORD_FIELDS

ROOT = Path(__file__).resolve().parent.parent
NASTY_DIR = Path(__file__).resolve().parent / "fixtures" / "nasty"
RESULTS = ROOT / "bench" / "results" / "fuzz.json"
FUZZ = os.environ.get("SOCIALCREDIT_FUZZ") == "1"
FUZZ_EXAMPLES = int(os.environ.get("SOCIALCREDIT_FUZZ_EXAMPLES", "2000"))

settings.register_profile(
    "fuzz",
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def examples(quick: int) -> settings:
    """Hypothesis settings: ``quick`` examples normally; under ``make fuzz`` the ``fuzz`` profile,
    scaled so that a property run 30 times by default gets ``SOCIALCREDIT_FUZZ_EXAMPLES`` (the slow
    ones, run fewer times by default, get proportionally fewer)."""
    if FUZZ:
        return settings(settings.get_profile("fuzz"), max_examples=max(quick, FUZZ_EXAMPLES * quick // 30))
    return settings(
        max_examples=quick,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


class Figures:
    """What one fuzz test tried, printed at the end and (under ``make fuzz``) recorded."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.inputs = 0
        self.lines = 0
        self.crashes = 0
        self.lost = 0
        self.extra: dict[str, Any] = {}  #: e.g. kills survived, records stored twice
        self.started = time.perf_counter()

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "lines": self.lines,
            "crashes": self.crashes,
            "lost": self.lost,
            "seconds": round(time.perf_counter() - self.started, 1),
            "profile": "fuzz" if FUZZ else "default",
            **self.extra,
        }

    @contextlib.contextmanager
    def example(self) -> Iterator[None]:
        """Count one input; an exception escaping it is a crash (and fails the test)."""
        self.inputs += 1
        try:
            yield
        except Exception:
            self.crashes += 1
            raise

    def report(self) -> None:
        print(f"fuzz {self.name}: {json.dumps(self.as_dict())}")
        if FUZZ:
            record(self.name, self.as_dict())


def record(name: str, figures: dict[str, Any]) -> None:
    """Merge ``figures`` under ``name`` into bench/results/fuzz.json (safe across processes)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with (Path(tempfile.gettempdir()) / "socialcredit-fuzz.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("tests", {})[name] = figures
        data["date"] = time.strftime("%Y-%m-%d")
        data["examples_per_test"] = FUZZ_EXAMPLES
        tests = data["tests"].values()
        data["total"] = {k: sum(t.get(k, 0) for t in tests) for k in ("inputs", "lines", "crashes", "lost")}
        RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


SECURITY_DOC = ROOT / "docs" / "security.md"
FIGURES_START, FIGURES_END = "<!-- security:figures:start -->", "<!-- security:figures:end -->"


def update_security_doc() -> None:
    """Rewrite the Figures section of docs/security.md from bench/results/fuzz.json (the last
    ``make fuzz``) and bench/results/load.json (the last ``bench_load.py``)."""
    fuzz = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    load_path = RESULTS.with_name("load.json")
    load = json.loads(load_path.read_text()) if load_path.exists() else None
    out = [FIGURES_START]
    if fuzz:
        tests = fuzz["tests"]
        total = fuzz["total"]
        out += [
            f"Last `make fuzz`: {fuzz['date']}, `SOCIALCREDIT_FUZZ_EXAMPLES={fuzz['examples_per_test']}` "
            f"(each property run that many times, the slow ones proportionally fewer). "
            f"**{total['inputs']:,} inputs tried, {total['lines']:,} lines or records inside them, "
            f"{total['crashes']} crashes, {total['lost']} records lost.**",
            "",
            "| test | inputs | lines / records | crashes | lost | kills survived | stored twice | seconds |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        rows = {k: v for k, v in tests.items() if not k.startswith("schemathesis ")}
        operations = [v for k, v in tests.items() if k.startswith("schemathesis ")]
        if operations:  # one row for every operation of the document
            rows[f"schemathesis, {len(operations)} operations × every caller"] = {
                k: sum(o.get(k, 0) for o in operations)
                for k in ("inputs", "lines", "crashes", "lost", "seconds")
            }
        for name in sorted(rows):
            f = rows[name]
            out.append(
                f"| {name} | {f['inputs']:,} | {f['lines']:,} | {f['crashes']} | {f['lost']} | "
                f"{f.get('kills_survived', '')} | {f.get('stored_twice', '')} | {f['seconds']:,.0f} |"
            )
    else:
        out.append("No `make fuzz` run recorded yet (bench/results/fuzz.json).")
    if load:
        runs, mem, led = load["runs"], load["memory"], load["ledger"]
        d = runs["decisions"]
        out += [
            "",
            f"Last load run ({load['date']}, `bench/bench_load.py`, docs/performance.md#load): "
            f"{load['setup']['seconds']:.0f} s of mixed load on {load['setup']['records']:,} records; "
            f"decisions p50 {d.get('p50_ms', 0):.0f} ms, p95 {d.get('p95_ms', 0):.0f} ms, "
            f"p99 {d.get('p99_ms', 0):.0f} ms; {sum(r['errors'] for r in runs.values())} errors; "
            f"{led['acknowledged']:,} records acknowledged, {led['lost']} lost, {led['stored_twice']} "
            f"stored twice; server memory {100 * (mem.get('growth') or 0):+.1f} % from the first third "
            f"to the last ({'flat' if mem.get('flat') else 'NOT flat'}).",
        ]
    out.append(FIGURES_END)
    text = SECURITY_DOC.read_text()
    start, end = text.index(FIGURES_START), text.index(FIGURES_END) + len(FIGURES_END)
    SECURITY_DOC.write_text(text[:start] + "\n".join(out) + text[end:])


# -- nasty values ---------------------------------------------------------------------------------

#: Text that has broken parsers, databases and pages somewhere.
NASTY_TEXT: list[str] = [
    "",
    " ",
    "\t\r\n",
    "\x00",
    "a\x00b",
    "\ufeff",
    "\ufeffid",
    "\r",
    "\u2028\u2029",
    "\u202eevil",
    "\x1b[31mred",
    "\x7f\x1f\x01",
    "'; DROP TABLE records; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM meta;--",
    "1; UPDATE records SET value = 0",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
    "${jndi:ldap://x}",
    "../../../../etc/passwd",
    "%s%s%n",
    "NaN",
    "Infinity",
    "-0",
    "1e309",
    "null",
    "true",
    "0000-01-01",
    "9999-12-31T23:59:59+14:00",
    "2018-02-30",
    "2018-03-01T24:00:00",
    "1970-01-01T00:00:00-12:00",
    "𠜎𠜱𠝹",
    "e\u0301",
    "💥🔥",
    "李伟（合成）",
    "x" * 5000,
]


def _nested(depth: int) -> list[Any]:
    out: list[Any] = []
    for _ in range(depth):
        out = [out]
    return out


#: JSON values of every type, and numbers at the edges.
NASTY_JSON: list[Any] = [
    None,
    True,
    False,
    0,
    -0.0,
    1,
    -1,
    1e308,
    -1e308,
    5e-324,
    10**400,
    -(10**400),
    float("nan"),
    float("inf"),
    float("-inf"),
    [],
    {},
    [1, "a"],
    {"a": {"b": {"c": []}}},
    _nested(40),
]


def nasty_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40))


def nasty_value() -> st.SearchStrategy[Any]:
    return st.one_of(
        nasty_text(),
        st.sampled_from(NASTY_JSON),
        st.integers(),
        st.floats(),
        st.lists(st.integers(), max_size=3),
    )


def dates() -> st.SearchStrategy[str]:
    """occurred_at spellings: real instants, edge years, impossible dates, offsets at the limits."""
    real = st.datetimes(
        min_value=dt.datetime(1, 1, 1),
        max_value=dt.datetime(9999, 12, 31),
        timezones=st.one_of(st.none(), st.timezones()),
    ).map(lambda d: d.isoformat())
    day = st.dates().map(lambda d: d.isoformat())
    return st.one_of(real, day, st.sampled_from(NASTY_TEXT), st.text(max_size=30))


# -- records --------------------------------------------------------------------------------------


@st.composite
def records(draw: st.DrawFn, tiny: Tiny) -> dict[str, Any]:
    """A record: valid, or with fields broken, dropped, added or replaced by nasty values."""
    i = draw(st.integers(0, 10_000))
    rec: dict[str, Any] = tiny.record(i)
    rec["id"] = draw(st.one_of(st.just(f"f-{i}"), nasty_text()))
    if draw(st.booleans()):
        rec["occurred_at"] = draw(dates())
    for name in draw(st.lists(st.sampled_from([*RECORD_FIELDS, "mood", ""]), max_size=3)):
        action = draw(st.sampled_from(["nasty", "drop", "text"]))
        if action == "drop":
            rec.pop(name, None)
        elif action == "text":
            rec[name] = draw(nasty_text())
        else:
            rec[name] = draw(nasty_value())
    if draw(st.booleans()):
        rec["subject"] = draw(st.sampled_from([*tiny.persons, *tiny.companies, tiny.stranger, tiny.dog]))
    return rec


@st.composite
def jsonl_lines(draw: st.DrawFn, tiny: Tiny) -> bytes:
    """One line of a JSONL file (no newline): a record as JSON, or something else entirely."""
    kind = draw(st.sampled_from(["record", "record", "record", "json", "text", "bytes"]))
    if kind == "record":
        rec = draw(records(tiny))
        return json.dumps(rec, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if kind == "json":
        return json.dumps(draw(nasty_value())).encode()
    if kind == "text":
        return draw(nasty_text()).encode("utf-8", "surrogatepass")
    return draw(st.binary(max_size=60))


@st.composite
def jsonl_files(draw: st.DrawFn, tiny: Tiny) -> bytes:
    """A JSONL file: lines joined by LF or CRLF, perhaps a BOM, perhaps no final newline."""
    lines = draw(st.lists(jsonl_lines(tiny), max_size=12))
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = end.join(lines) + (end if draw(st.booleans()) else b"")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data


def counted_jsonl_lines(data: bytes) -> int:
    """The lines ingest reads from ``data``: split on LF, BOM dropped, blank lines skipped."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return sum(1 for line in data.split(b"\n") if line and not line.isspace())


def csv_cell() -> st.SearchStrategy[str]:
    return st.one_of(nasty_text().map(lambda s: s.replace("\x00", "")), st.just(""))


# -- registry lines -------------------------------------------------------------------------------


@st.composite
def registry_lines(draw: st.DrawFn, tiny: Tiny) -> dict[str, Any]:
    """A registry line: a subject or a relation, valid or broken."""
    ids = [*tiny.persons, *tiny.companies, tiny.vehicle, tiny.dog, tiny.stranger, tiny.government]
    if draw(st.booleans()):
        line: dict[str, Any] = {
            "id": draw(st.one_of(st.sampled_from(ids), nasty_text())),
            "kind": draw(st.sampled_from(["person", "organisation", "government", "vehicle", "dog", "cat"])),
            "name": draw(nasty_text()),
        }
        for name in draw(
            st.lists(st.sampled_from(["region", "profession", "consent", "salary"]), max_size=2)
        ):
            line[name] = draw(nasty_value())
    else:
        line = {
            "relation": draw(st.sampled_from(["spouse_of", "friend_of", "owner_of", "enemy_of"])),
            "subject": draw(st.one_of(st.sampled_from(ids), nasty_text())),
            "object": draw(st.one_of(st.sampled_from(ids), nasty_text())),
        }
        for name in draw(st.lists(st.sampled_from(["since", "until"]), max_size=2)):
            line[name] = draw(st.one_of(dates(), nasty_value()))
    return line


# -- rulebooks ------------------------------------------------------------------------------------


def yaml_data() -> st.SearchStrategy[Any]:
    """Nested YAML-able data."""
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), nasty_text(), st.dates()
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(nasty_text(), inner, max_size=4)
        ),
        max_leaves=20,
    )


@st.composite
def mutated(draw: st.DrawFn, data: Any, depth: int = 0) -> Any:
    """``data`` with a few values replaced, keys dropped or added, at random depths."""
    if isinstance(data, dict) and data:
        out = dict(data)
        for key in draw(st.lists(st.sampled_from(sorted(out, key=str)), max_size=2, unique=True)):
            action = draw(st.sampled_from(["drop", "replace", "recurse", "recurse"]))
            if action == "drop":
                del out[key]
            elif action == "replace":
                out[key] = draw(st.one_of(yaml_data(), nasty_value()))
            else:
                out[key] = draw(mutated(out[key], depth + 1))
        if draw(st.integers(0, 9)) == 0:
            out[draw(nasty_text())] = draw(yaml_data())
        return out
    if isinstance(data, list) and data:
        out_list = list(data)
        j = draw(st.integers(0, len(out_list) - 1))
        action = draw(st.sampled_from(["drop", "replace", "recurse", "recurse", "duplicate"]))
        if action == "drop":
            del out_list[j]
        elif action == "replace":
            out_list[j] = draw(yaml_data())
        elif action == "duplicate":
            out_list.append(out_list[j])
        else:
            out_list[j] = draw(mutated(out_list[j], depth + 1))
        return out_list
    return draw(st.one_of(st.just(data), yaml_data()))
