"""Black and red lists, and the joint measures that hang on lists and grades.

A list says how subjects get on it (``enter``: any one entry suffices — a record category, an
authority's decision recorded as a record, membership of another list, a score below a
threshold, or a grade), the notice before entry, whether an objection suspends entry, how long
an entry lasts and may be extended, how a subject gets off (``exit``) and how fast
(``delist_within``), who is never listed (``exempt``), and to whom a listing spreads
(``propagate``: an organisation's listing lists its legal representative).

A measure maps a list or grades to actions with an effect: ``deny``, ``restrict`` (``terms``:
higher price, slower internet), ``reward`` or ``disclose`` (publication on a ``channel``).
With ``via`` the measure falls on related subjects (a listed parent's child is refused a
private school). When several measures — or several rulebooks — meet on one action, ``deny``
beats ``restrict`` beats ``reward``.

Example:
    >>> m = Measure(id="no_flights", on={"list": "defaulters"}, action="travel.flight",
    ...             effect="deny", source="spc2015", ref="Art. 3 item 1")
    >>> m.on.lists, m.actions
    (['defaulters'], ['travel.flight'])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from socialcredit.rulebooks._common import Cited, Duration, Ident, Model, StrList, SubjectKind, Via

EFFECTS = ("deny", "restrict", "reward", "disclose")
#: When several measures meet on one action the strongest wins (docs/rulebooks.md).
PRECEDENCE = {"deny": 3, "restrict": 2, "reward": 1}
DECISIONS = {"deny": "denied", "restrict": "restricted", "reward": "rewarded"}


def combine(effects: Iterable[str]) -> str:
    """The decision on one action from the effects of every measure in force on it.

    ``deny`` beats ``restrict`` beats ``reward``; no effect means ``allowed``. ``disclose`` is a
    publication, not a decision, and is ignored here.

    Example:
        >>> combine(["reward", "deny", "restrict"]), combine(["reward"]), combine([])
        ('denied', 'rewarded', 'allowed')
    """
    ranked = [e for e in effects if e in PRECEDENCE]
    return DECISIONS[max(ranked, key=PRECEDENCE.__getitem__)] if ranked else "allowed"


class Extension(Cited):
    """A listing may be extended by ``min``..``max`` up to ``total_max`` in all."""

    min: Duration
    max: Duration
    total_max: Duration | None = None
    on: StrList | None = None
    label: str | None = None


class Entry(Cited):
    """One way onto a list; exactly one of ``category``, ``on_list``, ``score_below``,
    ``grade_in``."""

    label: str | None = None
    category: str | None = None
    min_count: int = Field(1, ge=1)
    within: Duration | None = None
    by: StrList | None = None
    decision: bool = False
    on_list: str | None = None
    score_below: float | None = None
    grade_in: StrList | None = None
    score: str | None = None
    duration: Duration | None = None
    extensions: Extension | None = None


class Exit(Cited):
    """One way off a list; exactly one of ``category``, ``expiry``, ``repair``, ``decision``."""

    label: str | None = None
    category: str | None = None
    expiry: bool = False
    repair: bool = False
    decision: bool = False


class Notice(Cited):
    """A warning before entry; ``days`` is the period (``None``: not fixed by the source)."""

    days: int | None = Field(None, ge=0)
    label: str | None = None


class Exempt(Model):
    """Subjects who are never listed."""

    under_age: int | None = Field(None, ge=0)
    ref: str | None = None


class ListDef(Cited):
    """A black or red list."""

    id: Ident
    label: str
    kind: Literal["black", "red"]
    subject_kinds: list[SubjectKind] = Field(min_length=1)
    authority: str | None = None
    enter: list[Entry] = Field(min_length=1)
    notice: Notice | None = None
    objection_suspends: bool | None = None
    review_within: Duration | None = None
    #: What an objection unanswered past ``review_within`` does: ``keep`` the listing suspended,
    #: ``proceed`` (it takes effect on the deadline) or ``uphold`` (silence upholds it); ``None``:
    #: the due-process policy decides (docs/dueprocess.md). No source fixes this.
    on_overdue: Literal["keep", "proceed", "uphold"] | None = None
    min_duration: Duration | None = None
    exit: list[Exit] = Field(default_factory=list)
    delist_within: Duration | None = None
    exempt: Exempt | None = None
    propagate: list[Via] = Field(default_factory=list)
    description: str | None = None


class Target(Model):
    """What a measure hangs on: lists (any of them), grades (any of them) of a score, or a score
    threshold: ``score_at_least`` and/or ``score_below`` of the ``score`` named (a ``points`` or
    ``factors`` model), as Sesame's perks from 650 or 750.

    Example:
        >>> Target(score_at_least=650, score="sesame_score").describe()
        'sesame_score ≥ 650'
    """

    lists: StrList | None = Field(None, alias="list")
    grade: StrList | None = None
    score: str | None = None
    score_at_least: float | None = None
    score_below: float | None = None

    @property
    def threshold(self) -> bool:
        """True when the measure hangs on a score threshold."""
        return self.score_at_least is not None or self.score_below is not None

    def describe(self) -> str:
        """The target as text: ``list a or b``, ``grade A, B (score)``, ``score ≥ 650``."""
        if self.lists:
            return "list " + " or ".join(self.lists)
        if self.threshold:
            parts = []
            if self.score_at_least is not None:
                parts.append(f"≥ {self.score_at_least:g}")
            if self.score_below is not None:
                parts.append(f"< {self.score_below:g}")
            return f"{self.score or 'score'} " + " and ".join(parts)
        return "grade " + ", ".join(self.grade or []) + (f" ({self.score})" if self.score else "")


class Terms(Model):
    """How a ``restrict`` measure restricts."""

    price_factor: float | None = Field(None, gt=0)
    speed_factor: float | None = Field(None, gt=0)
    note: str | None = None


class Measure(Cited):
    """A joint measure: on a list or grade, an effect on one or more actions."""

    id: Ident
    label: str | None = None
    on: Target
    effect: Literal["deny", "restrict", "reward", "disclose"]
    action: StrList | None = None
    channel: str | None = None
    department: str | None = None
    terms: Terms | None = None
    via: Via | None = None
    description: str | None = None

    @property
    def actions(self) -> list[str]:
        """The actions (or, for ``disclose``, the channel) this measure acts on."""
        if self.effect == "disclose":
            return [self.channel] if self.channel else []
        return list(self.action or [])
