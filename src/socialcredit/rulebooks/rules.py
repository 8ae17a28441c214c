"""Rules: how records (or list memberships) move a score, and the fines records bring.

A rule reads one input — records of a ``category`` (or of any of several ``categories``: Jinan
counts a dog owner's offences across offence types), or membership of a list (``on_list``) —
optionally of related subjects (``via``: friends' critical posts, the share of listed friends),
for subjects that meet ``when``. Its effect is exactly one of:

* ``points`` per event;
* ``points_per_unit`` per ``unit_step`` of the record's value (``brackets`` give declining
  returns on the cumulative value, as in Weihai's volunteer hours);
* ``escalation``: the points for the 1st, 2nd, 3rd … event inside ``window`` (the last step
  repeats), as in Jinan's dog licence (−3, −6, −12);

and/or ``cap_grade``: the grade is at most this while the record is in effect (drunk driving
drops Rongcheng's grade to C), and/or ``fine``: a monetary fine in yuan per record (Shanghai's
100-yuan honking fine; with ``steps``, only for the n-th step of the rule's escalation, as
Jinan's second offence). A fine is imposed by the version in force on the record's day and never
expires. Modifiers: ``clamp`` (each event's points kept in a range),
``cap`` (at most so many points per year, month or lifetime) and ``expires_after`` (the
record stops counting; otherwise the rulebook's ``options.expiry`` applies).

Example:
    >>> r = Rule(id="traffic_ticket", label="Traffic ticket", category="traffic.ticket",
    ...          points=-5, source="fp2018", ref="facts 1.3")
    >>> r.effect_kind
    'points'
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from socialcredit.rulebooks._common import Cited, Duration, Ident, Model, Network, StrList, When


class Bracket(Model):
    """From ``above`` units of cumulative value on, use these terms instead."""

    above: float = Field(ge=0)
    points_per_unit: float | None = None
    unit_step: float | None = Field(None, gt=0)


class Escalation(Model):
    """Points for the n-th event inside ``window``; the last step repeats."""

    steps: list[float] = Field(min_length=1)
    window: Duration | None = None


class Fine(Cited):
    """A monetary fine per record: ``yuan`` is what the engine imposes; ``max_yuan`` the top of
    a range the sources give (``200–500 yuan``: ``yuan: 200, max_yuan: 500``); ``steps`` limits it
    to the events at those steps of the rule's ``escalation`` (1-based; the last step repeats).
    Without its own citation the fine shares the rule's.

    Example:
        >>> Fine(yuan=200, max_yuan=500, steps=[2]).describe()
        '200–500 yuan at step 2'
    """

    yuan: float = Field(gt=0)
    max_yuan: float | None = Field(None, gt=0)
    steps: list[int] | None = Field(None, min_length=1)
    label: str | None = None

    def describe(self) -> str:
        """``100 yuan``, ``200–500 yuan at step 2``."""
        text = f"{self.yuan:g}" + (f"–{self.max_yuan:g}" if self.max_yuan is not None else "") + " yuan"
        if self.steps:
            text += " at step " + ", ".join(str(s) for s in self.steps)
        return text


class Cap(Model):
    """At most ``points`` (in absolute value) from this rule per period."""

    points: float = Field(gt=0)
    per: Literal["year", "month", "lifetime"]


class Clamp(Model):
    """Keep each event's points within ``[min, max]``."""

    min: float
    max: float


class Rule(Cited):
    """One rule of a score (see the module docstring)."""

    id: Ident
    label: str
    category: str | None = None
    categories: StrList | None = None
    on_list: str | None = None
    via: Network | None = None
    when: When | None = None
    score: str | None = None
    factor: str | None = None
    points: float | None = None
    points_per_unit: float | None = None
    unit_step: float = Field(1, gt=0)
    brackets: list[Bracket] | None = None
    escalation: Escalation | None = None
    clamp: Clamp | None = None
    cap: Cap | None = None
    expires_after: Duration | None = None
    cap_grade: str | None = None
    fine: Fine | None = None
    description: str | None = None

    @property
    def cats(self) -> list[str]:
        """The record categories the rule reads: ``[category]``, ``categories`` or ``[]``.

        Example:
            >>> Rule(id="o", label="o", categories=["pet.dog_off_leash", "pet.dog_no_tag"],
            ...      points=-3, assumed=True, reason="r").cats
            ['pet.dog_off_leash', 'pet.dog_no_tag']
        """
        if self.categories is not None:
            return list(self.categories)
        return [self.category] if self.category is not None else []

    @property
    def effect_kind(self) -> str:
        """``points``, ``per_unit``, ``escalation``, ``grade_cap`` or ``fine`` (a fine alone)."""
        if self.points is not None:
            return "points"
        if self.points_per_unit is not None:
            return "per_unit"
        if self.escalation is not None:
            return "escalation"
        if self.cap_grade is None and self.fine is not None:
            return "fine"
        return "grade_cap"

    def describe_points(self) -> str:
        """A short human rendering of the effect (``-5 per event``, ``+1 per 4 hours``).

        Example:
            >>> Rule(id="v", label="v", category="x", points_per_unit=1, unit_step=4,
            ...      assumed=True, reason="r").describe_points()
            '+1 per 4 units'
        """
        parts: list[str] = []
        if self.points is not None:
            parts.append(f"{_num(self.points)} per event")
        elif self.points_per_unit is not None:
            step = "unit" if self.unit_step == 1 else f"{_num(self.unit_step, sign=False)} units"
            parts.append(f"{_num(self.points_per_unit)} per {step}")
            for b in self.brackets or []:
                ppu = b.points_per_unit if b.points_per_unit is not None else self.points_per_unit
                st = b.unit_step if b.unit_step is not None else self.unit_step
                above = _num(b.above, sign=False)
                parts.append(f"above {above}: {_num(ppu)}/{_num(st, sign=False)}")
        elif self.escalation is not None:
            steps = ", ".join(_num(s) for s in self.escalation.steps)
            window = f" within {self.escalation.window}" if self.escalation.window else ""
            parts.append(f"escalating {steps}{window}")
        if self.clamp:
            parts.append(f"each in [{_num(self.clamp.min)}, {_num(self.clamp.max)}]")
        if self.cap:
            parts.append(f"cap {_num(self.cap.points, sign=False)}/{self.cap.per}")
        if self.cap_grade:
            parts.append(f"grade at most {self.cap_grade}")
        if self.fine:
            parts.append(f"fine {self.fine.describe()}")
        if self.expires_after:
            parts.append(f"expires after {self.expires_after}")
        return "; ".join(parts)


def _num(x: float, *, sign: bool = True) -> str:
    text = f"{x:g}"
    return f"+{text}" if sign and x > 0 else text
