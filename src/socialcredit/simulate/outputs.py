"""A run's outputs: Parquet tables and a manifest, and the ledger the run's records go into.

Files of a run directory:

* ``daily.parquet`` — the named daily reporters (:mod:`socialcredit.simulate.reporters`);
* ``final/<regime>.parquet`` — each regime's per-subject state on the last day, exactly what
  ``socialcredit score --out`` writes for the same records and registry;
* ``trajectories.parquet`` — score, grade and lists of a sample of persons on evaluation days;
* ``records.parquet`` — every record the run produced, in the record contract and ledger order;
* ``subjects.parquet`` — the population: every subject with its attributes;
* ``dueprocess.json`` and ``dueprocess_events.parquet`` — only when the scenario's
  ``dueprocess.compare`` is on: the same records with due process off and on
  (:func:`socialcredit.simulate.dueprocess.compare`) and what happened under due process;
* ``manifest.json`` — scenario, seed, package versions, rulebook hashes, output hashes,
  comparisons with reported figures, and (under ``run``) shards and timings: everything in it
  but ``run`` is the same for the same scenario and seed.

The ledger (``ledger.db``) is written by :class:`socialcredit.simulate.ledger_writer.LedgerWriter`
while the run goes on (``run_scenario(..., ledger=True)``).

Parquet files are written without statistics timestamps or other run-dependent metadata, so
the same scenario and seed give byte-identical files on any number of shards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from socialcredit.engine.reports import ReportReview
from socialcredit.simulate.model import SocialCreditModel
from socialcredit.society.population import _GROUP_OF, COMMUTES, GROUPS

__all__ = [
    "engine_records",
    "rulebook_hash",
    "subjects_table",
    "write_dueprocess",
    "write_manifest",
    "write_outputs",
]


def _write(table: pa.Table, path: Path) -> str:
    """Write ``table`` to ``path`` atomically (a ``.partial`` file, synced, then renamed: a crash
    never leaves a half-written file under the final name); its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table.combine_chunks().replace_schema_metadata(None)
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial, compression="zstd", write_statistics=True, row_group_size=1 << 20)
    data = partial.read_bytes()
    _commit(partial, path)
    return hashlib.sha256(data).hexdigest()


def _commit(partial: Path, path: Path) -> None:
    with partial.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, path)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically: it exists only for a run whose files are all written."""
    partial = folder / "manifest.json.partial"
    partial.write_text(json.dumps(manifest, indent=2, default=str) + "\n", "utf-8")
    _commit(partial, folder / "manifest.json")


def rulebook_hash(rulebook: Any) -> str:
    """SHA-256 over the files of a loaded rulebook and every file it extends, in order."""
    h = hashlib.sha256()
    node = rulebook
    while node is not None:
        h.update(Path(node.path).read_bytes())
        node = node.parent
    return h.hexdigest()


def subjects_table(model: SocialCreditModel) -> pa.Table:
    """Every subject with its attributes (person columns are null for other kinds;
    ``linked_person`` is a vehicle's or dog's owner, an organisation's legal representative)."""
    pop, reg = model.population, model.registry.subjects
    p = pop.persons
    n, n_p = reg.num_rows, pop.count("person")
    ids = reg["id"].combine_chunks()
    not_person = np.arange(n) >= n_p

    def person_col(values: np.ndarray, typ: pa.DataType) -> pa.Array:
        full = np.empty(n, dtype=values.dtype)
        full[:n_p] = values
        if values.dtype != object:
            full[n_p:] = 0
        return pa.array(full, typ, mask=not_person)

    def names(codes: np.ndarray) -> np.ndarray:
        return ids.take(pa.array(np.maximum(codes, 0))).to_numpy(zero_copy_only=False)

    off = pop.offsets()
    linked = np.full(n, -1, np.int64)
    linked[off["vehicle"] : off["dog"]] = pop.codes("person", pop.vehicles["owner"])
    linked[off["dog"] : off["total"]] = pop.codes("person", pop.dogs["owner"])
    rep = pop.organisations["rep"]
    linked[off["organisation"] : off["government"]] = np.where(
        rep >= 0, pop.codes("person", np.maximum(rep, 0)), -1
    )
    index = np.concatenate(
        [
            p["index"],
            pop.organisations["index"],
            pop.governments["index"],
            pop.vehicles["index"],
            pop.dogs["index"],
        ]
    )
    return pa.table(
        {
            "subject": ids,
            "kind": reg["kind"],
            "region": reg["region"],
            "profession": reg["profession"],
            "index": pa.array(index),
            "birth_date": person_col(p["birth"].astype(np.int32), pa.int32()).cast(pa.date32()),
            "age": person_col(p["age"], pa.int16()),
            "sex": person_col(np.where(p["male"], "male", "female").astype(object), pa.string()),
            "group": person_col(np.array(GROUPS, object)[_GROUP_OF[p["occupation"]]], pa.string()),
            "income_band": person_col((p["income"] + 1).astype(np.int8), pa.int8()),
            "commute": person_col(np.array(COMMUTES, object)[p["commute"]], pa.string()),
            "propensity": person_col(p["propensity"], pa.int8()),
            "household": person_col(names(pop.codes("person", p["household"])).astype(object), pa.string()),
            "linked_person": pa.array(names(linked).astype(object), pa.string(), mask=linked < 0),
        }
    )


EVENTS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("event", pa.string()),
        ("rulebook", pa.string()),
        ("list", pa.string()),
        ("subject", pa.string()),
        ("record", pa.string()),
    ]
)


def engine_records(table: pa.Table) -> pa.Table:
    """The run's records (the record contract, :meth:`SocialCreditModel.records_table`) in the
    columnar layout the engine binds (:data:`~socialcredit.records.RECORDS_SCHEMA`): ``seq`` in
    ledger order from 1, ``day`` the date of ``occurred_at`` (its own offset, +08:00)."""
    from socialcredit.records import RECORDS_SCHEMA

    n = table.num_rows
    cols: dict[str, pa.Array] = {}
    for f in RECORDS_SCHEMA:
        if f.name == "seq":
            cols["seq"] = pa.array(np.arange(1, n + 1, dtype=np.int64))
        elif f.name == "day":
            cols["day"] = pc.utf8_slice_codeunits(table["occurred_at"], 0, 10).cast(pa.date32())
        elif f.name in table.column_names:
            cols[f.name] = table[f.name].cast(f.type)
        else:
            cols[f.name] = pa.nulls(n, f.type)
    return pa.table(cols, schema=RECORDS_SCHEMA)


def write_dueprocess(model: SocialCreditModel, out: Path) -> dict[str, str]:
    """Run the due-process comparison the scenario asks for (``dueprocess.compare``) on the run's
    own records and registry — the same population, both ways — and write ``dueprocess.json``
    (everything :func:`~socialcredit.simulate.dueprocess.compare` returns but the events, which
    it counts, plus the regime) and ``dueprocess_events.parquet``; their SHA-256 by file name.
    Nothing (an empty dict) when the switch is off."""
    from socialcredit.simulate.dueprocess import compare

    sw = model.scenario.dueprocess
    if sw is None or not sw.compare:
        return {}
    t0 = time.perf_counter()
    sc = model.scenario
    regime = sw.regime or next(iter(sc.regimes))
    report = compare(
        engine_records(model.records_table()),
        model.registry,
        sc.regimes[regime],
        sc.start,
        sc.end,
        step_days=sw.step_days,
        error_rate=sw.error_rate,
        object_rate=sw.object_rate,
        reports=ReportReview(quorum=0),  # the informants loop upheld its reports already
        frivolous_rate=sw.frivolous_rate,
        review_days=sw.review_days,
        seed=sw.seed,
    )
    events = report.pop("events")
    table = pa.Table.from_pylist(
        [{**e, "day": dt.date.fromisoformat(e["day"])} for e in events], schema=EVENTS_SCHEMA
    )
    files = {"dueprocess_events.parquet": _write(table, out / "dueprocess_events.parquet")}
    counts: dict[str, int] = {}
    for e in events:
        counts[e["event"]] = counts.get(e["event"], 0) + 1
    body = {"regime": regime, **report, "events": dict(sorted(counts.items()))}
    text = json.dumps(body, indent=2, default=str) + "\n"
    partial = out / "dueprocess.json.partial"
    partial.write_text(text, "utf-8")
    _commit(partial, out / "dueprocess.json")
    files["dueprocess.json"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    model.timings["dueprocess"] = time.perf_counter() - t0
    return files


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("socialcredit", "numpy", "pyarrow", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def write_outputs(
    model: SocialCreditModel, out: Path, *, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write the run's files under ``out`` (see the module docstring); returns the manifest."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)  # a manifest vouches only for a complete run
    sc = model.scenario
    files: dict[str, str] = {"daily.parquet": _write(model.datacollector.table(), out / "daily.parquet")}
    if sc.outputs.final_state:
        for regime, table in model.final_state().items():
            files[f"final/{regime}.parquet"] = _write(table, out / "final" / f"{regime}.parquet")
    if sc.outputs.trajectories:
        files["trajectories.parquet"] = _write(model.trajectory_table(), out / "trajectories.parquet")
    if sc.outputs.records:
        files["records.parquet"] = _write(model.records_table(), out / "records.parquet")
    if sc.outputs.subjects:
        files["subjects.parquet"] = _write(subjects_table(model), out / "subjects.parquet")
    for stale in ("dueprocess.json", "dueprocess_events.parquet"):
        (out / stale).unlink(missing_ok=True)
    files |= write_dueprocess(model, out)
    engines = {
        name: {rb.id: rulebook_hash(rb) for rb in eng.rulebooks} for name, eng in model.engines.items()
    }
    model.timings["outputs"] = time.perf_counter() - t0
    manifest = {
        # a scenario without the due-process switch dumps as it did before the switch existed
        "scenario": sc.model_dump(
            mode="json", exclude={"shards"} if sc.dueprocess is not None else {"shards", "dueprocess"}
        ),
        "seed": model.seed,
        "sweep_values": values or {},
        "population": {
            k: model.population.count(k) for k in ("person", "organisation", "government", "vehicle", "dog")
        }
        | {"relations": int(model.registry.relations.num_rows)},
        "records": len(model.store),
        "regimes": model.regimes,
        "rulebooks": engines,
        "versions": _versions(),
        "files": files,
        "comparisons": model.comparisons(),
        "run": {
            "shards": len(model.shards),
            "timings": {k: round(v, 3) for k, v in model.timings.items()},
            "agent_days_per_second": model.agent_days_per_second(),
        },
    }
    write_manifest(out, manifest)
    return manifest
