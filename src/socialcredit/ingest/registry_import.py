"""``import_registry_files``: subjects and relations from JSONL, CSV or Parquet into the ledger.

A line with a ``relation`` is a relation, any other line a subject. Lines are checked in the order
of :data:`~socialcredit.ingest.report.REGISTRY_REASONS`; valid ones are appended to the registry
chain in file order. A relation may name only subjects already in the registry or imported in the
same run up to the same batch (put subjects before relations). A line equal to the current one
for the same subject, or the same relation, subject, object and ``since``, is a duplicate.

Example:
    >>> import json, tempfile, pathlib
    >>> from socialcredit import ids
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> person, company = ids.generate_resident_id(1, 0), ids.generate_uscc(1, 0)
    >>> lines = [{"id": person, "kind": "person", "name": "Li Wei (synthetic)"},
    ...          {"id": company, "kind": "organisation", "name": "Sample Co. (synthetic)"},
    ...          {"relation": "legal_representative_of", "subject": person, "object": company,
    ...           "since": "2017-05-01"},
    ...          {"relation": "friend_of", "subject": person, "object": "nobody"}]
    >>> _ = (tmp / "reg.jsonl").write_text("\\n".join(json.dumps(x) for x in lines))
    >>> report = import_registry_files(tmp / "ledger.db", [tmp / "reg.jsonl"])
    >>> report.accepted, [(r.line, r.reason) for r in report.rejects]
    (3, [(4, 'bad_identifier')])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from socialcredit import ids
from socialcredit.errors import IdentifierError, IngestError, LedgerError
from socialcredit.ingest.readers import BATCH_SIZE, Batch, read_batches
from socialcredit.ingest.report import FileError, IngestReport
from socialcredit.ingest.run import write_failed
from socialcredit.ledger import Ledger, Reject, open_ledger
from socialcredit.regions import is_synthetic_region
from socialcredit.registry import (
    RELATION_KINDS,
    RELATION_OPTIONAL,
    RELATION_REQUIRED,
    SUBJECT_KINDS,
    SUBJECT_OPTIONAL,
    SUBJECT_REQUIRED,
)

__all__ = ["check_registry_line", "import_registry_files"]

_SUBJECT_FIELDS = SUBJECT_REQUIRED + SUBJECT_OPTIONAL
_RELATION_FIELDS = RELATION_REQUIRED + RELATION_OPTIONAL
#: Which identifier kinds (from :func:`socialcredit.ids.identify`) each subject kind may use.
_ID_KINDS: dict[str, tuple[str, ...]] = {
    "person": ("person",),
    "organisation": ("organisation", "government", "social_organisation"),
    "government": ("organisation", "government", "social_organisation"),
    "vehicle": ("vehicle",),
    "dog": ("dog",),
}
_ID_NAMES = {
    "person": "a resident identity number",
    "organisation": "a unified social credit code",
    "government": "a unified social credit code",
    "vehicle": "a vehicle plate",
    "dog": "a dog licence",
}


class _Rejected(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _present(line: dict[str, Any]) -> dict[str, Any]:
    """Null and blank values are absent (an empty CSV cell, ``""`` or ``null`` in JSON)."""
    return {k: v for k, v in line.items() if v is not None and not (isinstance(v, str) and not v.strip())}


def _date(name: str, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Rejected("bad_type", f"{name} {value!r} is not a date (YYYY-MM-DD)")


def _identifier(name: str, value: str, kinds: tuple[str, ...] | None = None) -> str:
    try:
        kind, norm = ids.validate_identifier(value)
    except IdentifierError as exc:
        raise _Rejected("bad_identifier", f"{name}: {exc}") from None
    if kinds is not None and kind not in kinds:
        raise _Rejected(
            "bad_identifier",
            f"{name} {value!r} is a {kind.replace('_', ' ')} identifier, not the kind its line says",
        )
    return norm


def _boolean(name: str, value: object) -> bool:
    """JSON true/false, or the text a CSV cell carries (true/false, yes/no, 1/0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise _Rejected("bad_type", f"{name} must be true or false, got {value!r}")


def _shape(line: dict[str, Any], fields: tuple[str, ...], required: tuple[str, ...]) -> None:
    extra = sorted(k for k in line if k not in fields)
    if extra:
        what = "relation" if "relation" in line else "subject"
        raise _Rejected(
            "unknown_field",
            f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}: a "
            f"{what} line has only {', '.join(fields)}",
        )
    missing = [k for k in required if k not in line]
    if missing:
        raise _Rejected("missing_field", f"missing {', '.join(missing)}: a line needs {', '.join(required)}")
    if "consent" in line:
        line["consent"] = _boolean("consent", line["consent"])
    for k, v in line.items():
        if k not in ("since", "until", "consent") and not isinstance(v, str):
            raise _Rejected("bad_type", f"{k} must be text, got {type(v).__name__} {v!r}")
        if isinstance(v, str) and not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                msg = f"{k} is not valid Unicode text (a lone surrogate escape)"
                raise _Rejected("bad_type", msg) from None


def check_registry_line(line: dict[str, Any]) -> dict[str, Any]:
    """Validate one registry line (up to ``bad_identifier``); return its canonical form.

    Raises ``ValueError`` subclasses carrying ``reason`` and ``message``; ``unknown_subject`` is
    left to the caller, who knows the registry.
    """
    line = _present(line)
    if "relation" in line:
        _shape(line, _RELATION_FIELDS, RELATION_REQUIRED)
        rel = line["relation"]
        if rel not in RELATION_KINDS:
            raise _Rejected("bad_type", f"unknown relation {rel!r}: use one of {', '.join(RELATION_KINDS)}")
        since = _date("since", line["since"]) if "since" in line else None
        until = _date("until", line["until"]) if "until" in line else None
        if since and until and until < since:
            raise _Rejected("bad_type", f"until {until} is before since {since}")
        subject = _identifier("subject", line["subject"])
        obj = _identifier("object", line["object"])
        if subject == obj:
            raise _Rejected("bad_type", f"a {rel} relation needs two different subjects")
        out: dict[str, Any] = {"relation": rel, "subject": subject, "object": obj}
        if since:
            out["since"] = since.isoformat()
        if until:
            out["until"] = until.isoformat()
        return out
    _shape(line, _SUBJECT_FIELDS, SUBJECT_REQUIRED)
    kind = line["kind"]
    if kind not in SUBJECT_KINDS:
        raise _Rejected("bad_type", f"unknown kind {kind!r}: use one of {', '.join(SUBJECT_KINDS)}")
    region = line.get("region")
    if region is not None and not (len(region) == 6 and region.isdigit() and is_synthetic_region(region)):
        raise _Rejected(
            "bad_type",
            f"region {region!r} is not a synthetic division code: see `socialcredit regions list`",
        )
    try:
        norm = _identifier("id", line["id"], _ID_KINDS[kind])
    except _Rejected as exc:
        raise _Rejected(exc.reason, f"{exc.message} (a {kind} needs {_ID_NAMES[kind]})") from None
    out = {**line, "id": norm}
    if kind == "person" and region is None:
        out["region"] = ids.region_of(norm)
    return out


def _raw_id(line: dict[str, Any]) -> str | None:
    rid = line.get("id", line.get("subject"))
    if not isinstance(rid, str):
        return None
    return rid.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate as its escape


def _import_batch(ledger: Ledger, batch: Batch, known: set[str], report: IngestReport) -> None:
    rows = batch.rows if batch.rows is not None else []
    if batch.table is not None:
        rows = batch.table.to_pylist()
    rejects = list(batch.rejects)
    valid: list[tuple[int, dict[str, Any]]] = []
    for i, row in enumerate(rows):
        try:
            valid.append((i, check_registry_line(row)))
        except _Rejected as exc:
            line_no, raw = batch.lines[i], batch.raw(i)
            rejects.append(Reject(batch.file, line_no, _raw_id(row), exc.reason, exc.message, raw))
    known |= {line["id"] for _, line in valid if "relation" not in line}
    named = {x for _, line in valid if "relation" in line for x in (line["subject"], line["object"])}
    if named - known:
        known |= ledger.known_subjects(named - known)
    lines = []
    for i, line in valid:
        if "relation" in line:
            missing = [x for x in (line["subject"], line["object"]) if x not in known]
            if missing:
                msg = (
                    f"{' and '.join(map(repr, missing))} not in the registry: import the "
                    "subject lines first (earlier in the file, or an earlier file)"
                )
                rid, line_no, raw = _raw_id(rows[i]), batch.lines[i], batch.raw(i)
                rejects.append(Reject(batch.file, line_no, rid, "unknown_subject", msg, raw))
                continue
        lines.append(line)
    appended = ledger.append_registry(lines, rejects=rejects)
    report.accepted += sum(appended)
    report.duplicates += len(appended) - sum(appended)
    report.rejects += sorted(rejects, key=lambda r: r.line)


def import_registry_files(
    ledger: Ledger | str | Path,
    files: Iterable[str | Path],
    *,
    now: dt.datetime | str | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestReport:
    """Import registry files (JSONL, CSV or Parquet): subjects and dated relations.

    Args:
        ledger: an open ledger, or the path or URL of one (created when missing).
        files: the files, in order; a file that cannot be read is reported in ``errors``.
        now: accepted for symmetry with :func:`~socialcredit.ingest.ingest_files`; registry
            lines have no ``future`` check (a relation may be dated ahead: a job that starts
            next month).
        batch_size: lines per batch and per transaction.
    """
    del now
    if not isinstance(ledger, Ledger):
        with open_ledger(ledger) as opened:
            return import_registry_files(opened, files, batch_size=batch_size)
    report = IngestReport()
    known: set[str] = set()
    for file in files:
        path = Path(file)
        try:
            for batch in read_batches(path, batch_size=batch_size):
                _import_batch(ledger, batch, known, report)
        except IngestError as exc:
            report.errors.append(FileError(str(path), str(exc)))
        except (OperationalError, OSError) as exc:  # the disk is full, the ledger locked or gone
            raise LedgerError(write_failed(path, exc, report.accepted, "lines")) from None
    return report
