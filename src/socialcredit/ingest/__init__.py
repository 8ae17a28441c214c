"""Validated ingest of credit records and registry files (JSONL, CSV, Parquet) into the ledger.

Every line is accepted, counted as a duplicate, or rejected with one reason code (the first that
applies, in the order of :data:`RECORD_REASONS`); rejects go to the quarantine table, never away.
See ``docs/records.md`` for the contracts and a worked example of every reason.
"""

from socialcredit.ingest.readers import Batch, detect_format, read_batches
from socialcredit.ingest.registry_import import check_registry_line, import_registry_files
from socialcredit.ingest.report import (
    RECORD_REASONS,
    REGISTRY_REASONS,
    FileError,
    IngestReport,
    Reject,
)
from socialcredit.ingest.run import ingest_files

__all__ = [
    "RECORD_REASONS",
    "REGISTRY_REASONS",
    "Batch",
    "FileError",
    "IngestReport",
    "Reject",
    "check_registry_line",
    "detect_format",
    "import_registry_files",
    "ingest_files",
    "read_batches",
]
