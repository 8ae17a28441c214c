"""Scenarios: a YAML file that says who lives where, under which rulebooks, for how long.

A scenario names its population (size, regions, overrides of ``population.yaml``), its
behaviour (rate scales, coverage per region, a pre-run history), the rulebooks (one regime, or
several evaluated side by side on the same behaviour draws), interventions on given days, the
outputs, and how to repeat it: explicit seed lists or ``replicates``, and parameter sweeps. The
built-in scenarios ship in ``socialcredit/simulate/scenarios/``; see docs/simulate.md for the
format with a worked example.

Example:
    >>> s = load_scenario("classroom")
    >>> s.size, s.days, list(s.regimes)
    (1000, 365, ['main'])
    >>> [r.seed for r in s.runs()]
    [2014]
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from socialcredit.errors import SocialCreditError

__all__ = ["DueProcessSwitch", "Run", "Scenario", "ScenarioError", "builtin_scenarios", "load_scenario"]


class ScenarioError(SocialCreditError):
    """A scenario file that does not validate, or an unknown scenario name."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cited(_Strict):
    """Where a scenario's own number comes from."""

    source: str | None = None
    assumed: bool = False
    reason: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> Cited:
        if self.source is None and not (self.assumed and self.reason):
            raise ValueError("give `source`, or `assumed: true` with a `reason`")
        return self


class PopulationConfig(_Strict):
    regions: dict[str, float] = {"Generic City": 1.0}
    block_size: int = Field(1024, ge=16)
    parameters: dict[str, Any] = {}


class BehaviourConfig(_Strict):
    scale: dict[str, float] = {}
    coverage: dict[str, dict[str, float]] = {}
    notes: str | None = None


class History(Cited):
    """Records dated before the start: a ``share`` of the subjects of ``kind`` that could have
    such a record get one, on a day drawn uniformly from ``window``."""

    category: str
    kind: Literal["person", "organisation"] = "person"
    share: float = Field(ge=0, le=1)
    window: tuple[dt.date, dt.date]


class Intervention(_Strict):
    """From ``day`` (0 is the start) on: rulebooks added or removed, rates rescaled, coverage
    changed."""

    day: int = Field(ge=0)
    label: str
    regime: str | None = None
    add_rulebooks: list[str] = []
    remove_rulebooks: list[str] = []
    scale: dict[str, float] = {}
    coverage: dict[str, dict[str, float]] = {}


class Deterrence(_Strict):
    """A penalty (a recorded trust-breaking record of a person) multiplies that person's rate of
    the penalised category by ``factor`` for ``days`` days; ``categories``: which (default: every
    trust-breaking category). With ``on_listing``, a person newly put on any black list is deterred
    from every one of those categories for as long."""

    enabled: bool = False
    factor: float = Field(0.5, ge=0, le=1)
    days: int = Field(180, ge=1)
    categories: list[str] | None = None
    on_listing: bool = False
    assumed: bool = True
    reason: str = (
        "no source measures specific deterrence under the system; halving the rate for "
        "half a year is an assumption to sweep"
    )


class Chilling(_Strict):
    """Critical posts fall, "positive energy" posts rise, with the share ``L`` of persons
    listed: rates times ``exp(-elasticity * L)`` and ``exp(reward * L)``."""

    enabled: bool = False
    critical: str = "online.critical_post"
    positive: str = "online.positive_energy_post"
    elasticity: float = Field(20.0, ge=0)
    reward: float = Field(5.0, ge=0)
    assumed: bool = True
    reason: str = (
        "the sources describe self-censorship but give no elasticity; 20 means a 1 % "
        "listed share cuts critical posts by about 18 %"
    )


class Gaming(_Strict):
    """Persons graded below ``below`` buy ``category`` records of value ``amount`` (yuan), ``rate``
    times a year, at most ``max_per_year`` times a calendar year."""

    enabled: bool = False
    below: str = "A"
    category: str = "social.donation"
    amount: float = Field(1000.0, gt=0)
    rate: float = Field(6.0, ge=0, le=365)
    max_per_year: int = Field(12, ge=0)
    assumed: bool = True
    reason: str = (
        "seed 004 names donations as a way to raise a score; how often people below grade A "
        "buy points is not reported: about every two months, 1,000 yuan (1 Rongcheng point), "
        "at most 12 a year (under Rongcheng's 50-point cap) is assumed"
    )


class Ostracism(_Strict):
    """When a person is newly listed, each of their ties of the kinds in ``relations`` that holds
    that day ends with probability ``share`` (``by_relation[kind]`` where given, e.g. a lower
    share for ``spouse_of``): a dated end, the relation holds until that day. With disclosure on,
    only ties whose other end learned of the listing are at risk."""

    enabled: bool = False
    share: float = Field(0.2, ge=0, le=1)
    relations: list[str] = ["friend_of"]
    by_relation: dict[str, float] = {}  # a share per relation kind instead of ``share`` (family)
    assumed: bool = True
    reason: str = (
        "the documents describe friends avoiding listed people under network rules but give "
        "no rate; one tie in five cut on a listing is assumed"
    )


class Avoidance(_Strict):
    """A person refused an action (a denied first attempt) multiplies their own attempt rate of
    that action by ``factor`` for ``days`` days (they learn the ban)."""

    enabled: bool = False
    factor: float = Field(0.1, ge=0, le=1)
    days: int = Field(365, ge=1)
    assumed: bool = True
    reason: str = (
        "no source reports how often a refused person tries again on later days; the press "
        "figures count refused purchases, and a listed person who knows the ban mostly stops "
        "trying: one attempt in ten for a year is assumed"
    )


class Spiral(_Strict):
    """The "life in the blacklist" spiral (seed 004). A person newly listed, or refused an
    ``employment.*`` action, loses each job (an ``employee_of`` relation as employee) with
    probability ``job_loss``; a newly listed rail commuter whose listing bars high-speed rail
    loses it with a further ``commute_job_loss``. Someone left without a job has their own rates
    of ``arrears_categories`` multiplied by ``arrears_factor``; a newly listed organisation's
    partners (``partner_of``) each default (a ``judicial.judgment_default`` record) with
    probability ``partner_default`` — and the rulebooks list a defaulter's legal representative."""

    enabled: bool = False
    job_loss: float = Field(0.1, ge=0, le=1)
    commute_job_loss: float = Field(0.3, ge=0, le=1)
    arrears_factor: float = Field(3.0, ge=1, le=100)
    arrears_categories: list[str] = ["finance.loan_arrears", "judicial.judgment_default"]
    partner_default: float = Field(0.2, ge=0, le=1)
    assumed: bool = True
    reason: str = (
        "the documents describe listed people losing posts, employers screening the lists and a "
        "partner's default landing a business on the list (seed 004) but give no rates: one job "
        "in ten lost on a listing (three in ten more for rail commuters barred from the train), "
        "three times the arrears and default rate without a job, and one partner in five "
        "defaulting after a listing are assumed"
    )


class Informants(_Strict):
    """Rewarded reporting (seed 002): each adult files ``rate`` reports a year about a neighbour
    (a subject of the same block) in one of ``categories`` (each must list ``citizen_report`` as
    a source). A share ``malicious`` is made up (a uniform neighbour); the rest name a neighbour
    in proportion to their own rate of that conduct. Review catches a malicious report with
    probability ``caught``; the others are upheld: a record of the category by
    ``citizen_report`` with ``reported_by`` the reporter, and a ``reward`` record for the
    reporter. A caught reporter gets a ``penalty`` record."""

    enabled: bool = False
    rate: float = Field(0.03, ge=0, le=365)
    categories: list[str] = ["pet.dog_off_leash", "pet.dog_waste_not_cleaned", "pet.dog_nuisance"]
    malicious: float = Field(0.2, ge=0, le=1)
    caught: float = Field(0.5, ge=0, le=1)
    reward: str = "social.report_trust_breaking"
    penalty: str = "credit.false_materials"
    assumed: bool = True
    reason: str = (
        "seed 002 names rewarded reporting and malicious reports without rates: one report per "
        "33 adults a year (fewer true reports than the dog offences the other channels miss), one "
        "in five made up, and review catching half of those are assumed"
    )


class Disclosure(_Strict):
    """How many people learn of a listing: for each channel that publishes a newly listed
    person (the ``disclose`` measures of the first regime), each contact across a relation of
    ``relations`` learns of it with probability ``reach[channel]`` (and with ``word_of_mouth``
    whatever the channels). With ostracism on, only contacts who learned cut the tie."""

    enabled: bool = False
    reach: dict[str, float] = {
        "disclose.credit_website": 0.1,
        "disclose.local_newspaper": 0.2,
        "disclose.roadside_scoreboard": 0.2,
        "disclose.debtor_map": 0.3,
        "disclose.caller_ringtone": 0.6,
        "disclose.model_poster": 0.5,
        "disclose.integrity_story": 0.1,
    }
    word_of_mouth: float = Field(0.05, ge=0, le=1)
    relations: list[str] = ["friend_of", "spouse_of", "parent_of"]
    assumed: bool = True
    reason: str = (
        "the documents name the channels (seed 000: websites searchable by name, the honking "
        "scoreboard; seed 001: a warning ringtone for callers, a map of nearby debtors; seed 004: "
        "posters, national website) but not their audience: a caller warning reaching most "
        "contacts (they call), a website few (they must search) is assumed"
    )

    @field_validator("reach")
    @classmethod
    def _probabilities(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, p in v.items() if not 0 <= p <= 1]
        if bad:
            raise ValueError(f"reach must be a probability (channels {', '.join(bad)})")
        return v


class Feedback(_Strict):
    """The feedback loops (all off by default)."""

    deterrence: Deterrence = Deterrence()
    chilling: Chilling = Chilling()
    gaming: Gaming = Gaming()
    ostracism: Ostracism = Ostracism()
    avoidance: Avoidance = Avoidance()
    spiral: Spiral = Spiral()
    informants: Informants = Informants()
    disclosure: Disclosure = Disclosure()

    def all_on(self) -> Feedback:
        """Every loop switched on, each with its parameters as given (the defaults are the
        assumed values documented on each loop)."""
        return self.model_copy(
            update={
                name: getattr(self, name).model_copy(update={"enabled": True})
                for name in type(self).model_fields
            }
        )


class DueProcessSwitch(_Strict):
    """The due-process comparison (issue 13): with ``compare``, after the run the same records and
    registry are evaluated with due process off and on (:func:`socialcredit.simulate.dueprocess.compare`)
    under the rulebooks of ``regime`` (default: the first), every ``step_days`` from the start to
    the last day, and ``dueprocess.json`` (and ``dueprocess_events.parquet``) is written beside the
    run's outputs. The rates are the experiment's assumptions; the defaults are ``compare``'s."""

    compare: bool = False
    regime: str | None = None
    error_rate: float = Field(0.05, ge=0, le=1)
    object_rate: float = Field(0.8, ge=0, le=1)
    frivolous_rate: float = Field(0.1, ge=0, le=1)
    review_days: int = Field(15, ge=0)
    step_days: int = Field(7, ge=1)
    seed: int = 13
    assumed: bool = True
    reason: str = (
        "the sources give no share of wrongful listings and no rate of objections: 5 % of listing "
        "records wrongful, 80 % of the wrongly listed and 10 % of the others objecting within the "
        "notice period, and reviews of up to 15 days are assumed"
    )


class Outputs(_Strict):
    reporters: list[str] | None = None
    trajectories: int = Field(20, ge=0)
    final_state: bool = True
    records: bool = True
    subjects: bool = True


class Sweep(_Strict):
    """Run every value of ``parameter`` (a dotted path in the scenario, e.g.
    ``behaviour.scale.traffic.ticket``, ``population.parameters.dog_owner_share`` or
    ``feedback.deterrence.factor``)."""

    parameter: str
    values: list[Any]


class Comparison(Cited):
    """A reported figure a run's output can be scaled to and set beside."""

    reporter: str
    key: str
    reported: float
    reading: str
    population: float


class Scenario(_Strict):
    """A validated scenario (see the module docstring)."""

    name: str
    title: str
    description: str = ""
    seed: int = 2014
    seeds: list[int] | None = None
    replicates: int = Field(1, ge=1)
    size: int = Field(ge=1)
    start: dt.date = dt.date(2018, 1, 1)
    days: int = Field(ge=1)
    evaluate_every: int = Field(1, ge=1)
    shards: int = Field(1, ge=1)
    rulebooks: list[str] | None = None
    regimes: dict[str, list[str]] = {}
    population: PopulationConfig = PopulationConfig()
    behaviour: BehaviourConfig = BehaviourConfig()
    history: list[History] = []
    interventions: list[Intervention] = []
    feedback: Feedback = Feedback()
    outputs: Outputs = Outputs()
    dueprocess: DueProcessSwitch | None = None
    sweep: list[Sweep] = []
    compare: list[Comparison] = []

    @model_validator(mode="after")
    def _regimes(self) -> Scenario:
        if self.rulebooks is not None:
            if self.regimes:
                raise ValueError("give either `rulebooks` (one regime) or `regimes`, not both")
            self.regimes = {"main": list(self.rulebooks)}
            self.rulebooks = None
        if not self.regimes:
            raise ValueError("name the rulebooks: `rulebooks: [national]` or `regimes: {...}`")
        for h in self.history:
            if not h.window[0] <= h.window[1] < self.start:
                raise ValueError(
                    f"history of {h.category}: the window must end before the start ({self.start})"
                )
        if self.dueprocess is not None and self.dueprocess.regime not in (None, *self.regimes):
            raise ValueError(f"dueprocess names unknown regime {self.dueprocess.regime!r}")
        for iv in self.interventions:
            if iv.regime is not None and iv.regime not in self.regimes:
                raise ValueError(f"intervention {iv.label!r} names unknown regime {iv.regime!r}")
            if iv.day >= self.days:
                raise ValueError(
                    f"intervention {iv.label!r} on day {iv.day} is after the last day ({self.days - 1})"
                )
        return self

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.replace("-", "").replace("_", "").isalnum():
            raise ValueError("a scenario name is letters, digits, '-' and '_'")
        return v

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)

    def runs(self) -> list[Run]:
        """Every run: the sweep's value combinations times the seeds (explicit ``seeds``, else
        ``seed, seed + 1, ... seed + replicates - 1``)."""
        seeds = self.seeds or [self.seed + r for r in range(self.replicates)]
        combos = list(itertools.product(*[s.values for s in self.sweep])) if self.sweep else [()]
        out = []
        for ci, combo in enumerate(combos):
            data = self.model_dump(exclude_none=True)
            for sw, value in zip(self.sweep, combo, strict=True):
                _set_path(data, sw.parameter, value)
            data.pop("sweep", None)
            for seed in seeds:
                data_s = copy.deepcopy(data) | {"seed": seed, "seeds": None, "replicates": 1}
                scenario = _validate({k: v for k, v in data_s.items() if v is not None}, where=self.name)
                values = {sw.parameter: v for sw, v in zip(self.sweep, combo, strict=True)}
                name = (
                    ""
                    if len(combos) * len(seeds) == 1
                    else ((f"sweep{ci:02d}-" if self.sweep else "") + f"seed{seed}")
                )
                out.append(Run(name, seed, values, scenario))
        return out


@dataclass(frozen=True)
class Run:
    """One run of a scenario: its folder name (empty for a single run), seed and sweep values."""

    name: str
    seed: int
    values: Mapping[str, Any]
    scenario: Scenario


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path: ``behaviour.scale.<category>``, ``behaviour.coverage.<region>.<channel>``,
    ``population.parameters.<name>``, ``population.regions.<name>``, ``feedback.<loop>.<name>``,
    ``dueprocess.<name>``, or a top-level field."""
    if path.startswith("dueprocess.") and path.count(".") == 1:
        name = path.split(".")[1]
        if name not in DueProcessSwitch.model_fields:
            raise ScenarioError(f"cannot sweep {path!r}: no due-process setting {name!r}")
        data.setdefault("dueprocess", {})[name] = value
        return
    if path.startswith("feedback.") and path.count(".") == 2:
        _, loop, name = path.split(".")
        if loop not in Feedback.model_fields:
            raise ScenarioError(f"cannot sweep {path!r}: no feedback loop {loop!r}")
        data.setdefault("feedback", {}).setdefault(loop, {})[name] = value
        return
    maps = {
        "behaviour.scale.": 1,
        "behaviour.coverage.": 2,
        "population.parameters.": 1,
        "population.regions.": 1,
    }
    for prefix, depth in maps.items():
        if path.startswith(prefix):
            outer, inner = prefix[:-1].split(".")
            node = data.setdefault(outer, {}).setdefault(inner, {})
            rest = path[len(prefix) :]
            if depth == 2:
                region, _, channel = rest.partition(".")
                node.setdefault(region, {})[channel] = value
            else:
                node[rest] = value
            return
    if "." in path or path not in Scenario.model_fields:
        raise ScenarioError(
            f"cannot sweep {path!r}: use a top-level field or one of {', '.join(p + '<name>' for p in maps)}"
        )
    data[path] = value


def _validate(data: Mapping[str, Any], *, where: str) -> Scenario:
    try:
        return Scenario(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(top level)"
        raise ScenarioError(
            f"scenario {where}: {loc}: {first['msg']} ({len(exc.errors())} problem(s); see docs/simulate.md)"
        ) from None


def builtin_scenarios() -> list[str]:
    """The names of the scenarios shipped with the package."""
    folder = resources.files("socialcredit.simulate").joinpath("scenarios")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(name_or_path: str | Path, **changes: Any) -> Scenario:
    """A built-in scenario by name, or a scenario file by path; ``changes`` override top-level
    fields (``size=``, ``days=``, ``seed=``...)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        text, where = path.read_text("utf-8"), str(path)
    else:
        if str(name_or_path) not in builtin_scenarios():
            raise ScenarioError(
                f"unknown scenario {str(name_or_path)!r}: use a path to a YAML file "
                f"or one of {', '.join(builtin_scenarios())}"
            )
        folder = resources.files("socialcredit.simulate").joinpath("scenarios")
        text, where = folder.joinpath(f"{name_or_path}.yaml").read_text("utf-8"), str(name_or_path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(f"scenario {where}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario {where}: the top level must be a mapping")
    changes = {k: v for k, v in changes.items() if v is not None}
    if "regimes" in changes:
        data.pop("rulebooks", None)  # regimes given here replace the file's rulebooks
    data.update(changes)
    return _validate(data, where=where)
