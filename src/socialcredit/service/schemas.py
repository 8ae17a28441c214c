"""What comes in and what goes out: one schema class per shape, ``*In`` and ``*Out``.

Engine-made parts (decision reasons, explanations) allow extra keys, so a richer engine does
not break clients that read the documented ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from socialcredit.engine import OUTCOMES

Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
#: The days an evaluation may be asked for (``on``).
EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2099, 12, 31)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- in ------------------------------------------------------------------------------------------


class RecordBatchIn(BaseModel):
    """A batch of credit records, each validated on its own (partial success is stored)."""

    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(
        description="Records in the record contract (docs/records.md): id, subject, category, "
        "occurred_at and source; optional value, evidence, basis, reported_by and corrects.",
        examples=[
            [
                {
                    "id": "court-2019-0001",
                    "subject": "000601199001011239",
                    "source": "court",
                    "category": "judicial.judgment_default",
                    "occurred_at": "2019-03-01",
                }
            ]
        ],
    )


class RegistryBatchIn(BaseModel):
    """Registry lines: subjects, then the dated relations that name them."""

    model_config = ConfigDict(extra="forbid")
    lines: list[dict[str, Any]] = Field(
        description="Subject lines (id, kind, name; optional region, profession, nationality) "
        "and relation lines (relation, subject, object; optional since, until).",
        examples=[[{"id": "000601199001011239", "kind": "person", "name": "Li Wei (synthetic)"}]],
    )


class DecisionQuery(BaseModel):
    """The query of ``GET /v1/decisions``."""

    model_config = ConfigDict(extra="ignore")
    subject: str = Field(min_length=1, max_length=64)
    action: str = Field(min_length=1, max_length=64)
    on: dt.date | None = Field(None, ge=EARLIEST, le=LATEST)


class TokenCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["source", "officer", "subject", "admin"]
    source: str | None = Field(None, max_length=64, description="For role source: the data source.")
    subject: str | None = Field(None, max_length=64, description="For role subject: the subject id.")
    expires: str | None = Field(
        None,
        max_length=40,
        description="ISO date or date-time; a date means its start in China Standard Time.",
    )
    label: str | None = Field(None, max_length=200, description="A note: who holds it, and why.")


# -- out -----------------------------------------------------------------------------------------


class RejectOut(BaseModel):
    line: int = Field(description="1-based position of the item in the request.")
    id: str | None
    reason: str = Field(description="One reject reason of the ingest contract.")
    message: str


class IngestOut(BaseModel):
    """The ingest contract's result shape (as `socialcredit ingest --json`)."""

    accepted: int
    duplicates: int
    rejected: int
    rejects: list[RejectOut]


class ScoreOut(BaseModel):
    rulebook: str
    model: str
    score: float | None
    grade: str | None


class ListingOut(BaseModel):
    rulebook: str
    list: str
    label: str
    kind: str
    since: str | None
    until: str | None


class Via(BaseModel):
    relation: str
    from_: str = Field(alias="from")

    model_config = ConfigDict(populate_by_name=True)


class MeasureOut(BaseModel):
    rulebook: str
    measure: str
    label: str | None
    effect: str
    actions: list[str]
    since: str | None
    until: str | None
    via: Via | None = None


class NoticeOut(BaseModel):
    """A listing proposed under due process and not in force yet: what the subject is told."""

    id: str
    rulebook: str
    list: str
    list_label: str | None = None
    record: str | None = Field(description="The record that opens the listing.")
    category: str | None = None
    rule: str | None = Field(None, description="The list's entry condition the record meets.")
    issued: str | None = Field(description="The day the notice was issued (the record's day).")
    takes_effect: str | None = Field(
        description="The day the listing would take effect; null while a timely objection suspends it."
    )
    object_by: str = Field(description="The last day to object in time.")
    status: Literal["notice", "suspended", "overdue"]
    objection: str | None = Field(None, description="The objection filed against it, if any.")
    objection_suspends: bool
    how_to_object: str
    object_at: str = Field(description="Where to object: the portal's objections page.")


class HeldReportOut(BaseModel):
    """A citizen report about the subject that does not count on the day (issue #16, item 5)."""

    record: str
    category: str
    date: str
    source: str | None = None
    state: Literal["held", "repeat", "rejected", "anonymous"]
    why: str
    reported_by: str = Field("(masked)", description="Always masked: the subject is not told who reported.")


class SubjectOut(BaseModel):
    """A subject's file as of a day: who they are, score, grade, lists and measures in force."""

    id: str
    kind: str
    name: str
    region: str | None = None
    profession: str | None = None
    nationality: str | None = None
    as_of: str
    scores: list[ScoreOut]
    lists: list[ListingOut]
    measures: list[MeasureOut]
    outcomes: dict[str, Outcome] = Field(description="Every action a measure acts on, with its outcome.")
    disclosed: list[str] = Field(description="The channels that publish this subject.")
    notices: list[NoticeOut] = Field(
        default_factory=list,
        description="Listings proposed under due process that are not in force yet (docs/dueprocess.md); "
        "the rest of the file is the original system's, without due process.",
    )
    held: list[HeldReportOut] = Field(
        default_factory=list,
        description="Citizen reports held for review (not counted): waiting for a department's confirmation "
        "or a quorum of distinct reporters, repeats of one reporter, rejected; the reporter masked.",
    )


class ExplanationOut(_Open):
    subject: str
    kind: str | None
    as_of: str
    rulebooks: list[dict[str, Any]]
    text: str = Field(description="The same explanation as plain text, one fact per line.")


class SubjectRecordsOut(BaseModel):
    subject: str
    records: list[dict[str, Any]] = Field(description="Canonical records with their ledger `seq`.")


class ReasonOut(_Open):
    rulebook: str
    list: str | None
    measure: str
    effect: str
    since: str | None
    until: str | None
    source: str | None
    via: Via | None


class DecisionOut(BaseModel):
    """The engine's decision with its reasons (as `socialcredit check --json`)."""

    subject: str
    action: str
    on: str
    outcome: Outcome
    reasons: list[ReasonOut]


class ListSummaryOut(BaseModel):
    rulebook: str
    id: str
    label: str
    kind: str
    size: int
    authority: str | None = None
    description: str | None = None


class ListsOut(BaseModel):
    as_of: str
    lists: list[ListSummaryOut]


class MemberOut(BaseModel):
    subject: str
    name: str | None
    kind: str | None
    since: str | None
    until: str | None
    via: str | None = Field(description="The relation, when listed only through someone else.")


class ListOut(ListSummaryOut):
    as_of: str
    offset: int
    limit: int
    members: list[MemberOut]


class PublishedOut(BaseModel):
    rulebook: str
    list: str | None
    list_label: str | None
    list_kind: str | None
    measure: str | None = Field(description="What the disclosure measure publishes.")
    channel: str
    since: str | None
    until: str | None
    via: Via | None = Field(None, description="Published through someone else (their id masked).")


class PublicHitOut(BaseModel):
    id_masked: str = Field(description="The identifier with only its first 4 and last 4 characters shown.")
    kind: str
    name: str
    region: str | None
    published: list[PublishedOut]


class PublicSearchOut(BaseModel):
    q: str
    as_of: str
    results: list[PublicHitOut]


class TokenOut(BaseModel):
    id: str
    role: str
    source: str | None
    subject: str | None
    label: str | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    status: Literal["active", "revoked", "expired"]


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The bearer token: shown this once, stored only as a hash.")


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    token_id: str | None
    role: str
    action: str
    subject: str | None
    status: int
    detail: dict[str, Any] | None


class HealthOut(BaseModel):
    status: Literal["ok"]
    rulebooks: list[str]
    today: str
