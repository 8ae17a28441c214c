"""Due process (issue 13): notice before listing, objections, credit repair, expiry and retention.

The documents' complaint — "There was no file, no police warrant, no official advance
notification… You can report to no one" (seed 001) — answered with mechanisms that can be switched
on and off, so that the same population can be run both ways:

* :mod:`~socialcredit.dueprocess.notices` — the notice a subject gets when a record meets a list's
  entry conditions: which record, rule and list, when it takes effect, how to object and by when.
* :mod:`~socialcredit.dueprocess.objections` — objections as events in the ledger's tamper-evident
  actions chain (``objection.filed`` → ``objection.review`` → ``objection.upheld`` or
  ``objection.rejected``), folded into their current state; nothing is ever updated. An upheld
  objection appends a correction record (``corrects``).
* :mod:`~socialcredit.dueprocess.repair` — credit repair: what each rulebook lets a subject do, and
  the national procedure (facts 1.4) as events.
* :mod:`~socialcredit.dueprocess.reports` — the review of citizen reports (issue #16): held until
  a department confirms them (``report.confirmed``) or a quorum of distinct reporters reports the
  same, never counted once rejected (``report.rejected``); the engine's ``reports`` input.
* :mod:`~socialcredit.dueprocess.retention` — expiry of negative records and the purge of a
  record's content after the retention period, its hash kept in the chain.

The engine knows nothing of the ledger: :func:`due_process` folds the actions into a
:class:`socialcredit.engine.lists.DueProcess`, an input to ``Engine.bind`` like the records.

Example:
    >>> from socialcredit.dueprocess import DueProcess
    >>> DueProcess().notice_days
    10
"""

from socialcredit.dueprocess.objections import (
    Objection,
    ObjectionError,
    decide_objection,
    due_process,
    file_objection,
    fold_objections,
    list_objections,
    objections_table,
    start_review,
)
from socialcredit.engine.lists import DueProcess

__all__ = [
    "DueProcess",
    "Objection",
    "ObjectionError",
    "decide_objection",
    "due_process",
    "file_objection",
    "fold_objections",
    "list_objections",
    "objections_table",
    "start_review",
]
