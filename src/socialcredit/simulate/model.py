"""The time loop: a population living under rulebooks, day by day (Mesa's model habits).

:class:`SocialCreditModel` is the coordinator: it owns the population, the registry, one
engine per regime (a set of rulebooks evaluated side by side), the records so far and the data
collector; each shard's behaviour model lives in a shard worker
(:class:`~socialcredit.simulate.workers.ShardWorker`), run in this process or as a Ray actor
(:mod:`socialcredit.simulate.backends`), which the day loop calls with compact arrays.
Each :meth:`~SocialCreditModel.step` is one day:

1. interventions of the day (rulebooks added or removed, rates rescaled, coverage changed);
2. every shard draws the day's events and attempts (``ShardWorker.draw``); with the
   deterrence loop on, events of deterred persons are thinned; each shard applies the effects
   of its recorded events (enforcement cases opened or closed) and makes the loops' records of
   its subjects (``ShardWorker.settle``);
3. the records — with the loops on, plus the records the loops make: partner defaults, the
   jobless' extra arrears and defaults (spiral), citizens' upheld reports with their rewards and
   penalties (informants), bought donations (gaming) — are merged in canonical order and
   appended (ledger order); deterrence windows start for the penalised;
4. on evaluation days (every ``evaluate_every`` days, and the last day) each regime's engine
   evaluates all records and the registry as of that day — lists and grades are *published*;
   the feedback loops read the first regime's publication (chilling multipliers, who games,
   and for the newly black-listed: deterrence, disclosure reach, ostracism, job loss, partners'
   defaults; see :mod:`socialcredit.simulate.feedback`);
5. every attempt is decided on the latest published state of each regime (``decide_many``);
   a refused attempt may be retried the same day (each retry is another refusal);
6. the reporters are collected.

Example:
    >>> from socialcredit.simulate.scenario import load_scenario
    >>> m = SocialCreditModel(load_scenario("classroom", size=300, days=20))
    >>> m.run()
    >>> m.steps, len(m.store) > 0
    (20, True)
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from socialcredit.engine import Engine, relations_from_registry, subjects_from_registry
from socialcredit.regions import jurisdiction, jurisdictions
from socialcredit.simulate.datacollector import DataCollector
from socialcredit.simulate.feedback import (
    Arrears,
    Avoidance,
    Chilling,
    Deterrence,
    Gaming,
    Informants,
    learned,
    listed,
    listed_share,
)
from socialcredit.simulate.reporters import REPORTERS, standing
from socialcredit.simulate.scenario import Scenario, ScenarioError
from socialcredit.simulate.store import RecordStore, canonical_order, day_number
from socialcredit.society import rng
from socialcredit.society.behaviour import KINDS, BehaviourModel, coverage_table, event_ids
from socialcredit.society.parameters import load_parameters, with_overrides
from socialcredit.society.population import PopulationSpec, generate_population, shard_blocks
from socialcredit.society.rates import load_behaviour

__all__ = ["SocialCreditModel"]

OUTCOME_CODES = {"allowed": 0, "rewarded": 1, "restricted": 2, "denied": 3}


def population_spec(scenario: Scenario) -> PopulationSpec:
    """The population a scenario asks for."""
    regions = scenario.population.regions
    if list(regions) == ["all"]:
        pairs = tuple((j.code, float(regions["all"])) for j in jurisdictions())
    else:
        pairs = tuple((jurisdiction(name).code, float(w)) for name, w in regions.items())
    params = with_overrides(
        load_parameters("population"), scenario.population.parameters, where=f"scenario {scenario.name}"
    )
    return PopulationSpec(
        seed=scenario.seed,
        size=scenario.size,
        regions=pairs,
        start=scenario.start,
        block_size=scenario.population.block_size,
        params=params,
    )


def _kinds(ostracism: Any) -> list[str]:
    """The relation kinds ostracism acts on: ``relations`` and those ``by_relation`` names."""
    return list(dict.fromkeys([*ostracism.relations, *ostracism.by_relation]))


class SocialCreditModel:
    """One run of a scenario (see the module docstring).

    Args:
        scenario: the validated scenario (its ``seed`` is the run's seed).
        shards: how many shards to split the population into (default: the scenario's; under
            Ray at least ``workers``); the results do not depend on it.
        backend: where the shard workers run: ``local`` (in this process) or ``ray`` (Ray
            actors; see :mod:`socialcredit.simulate.backends`); the results do not depend on it.
        address: the Ray cluster's address (``ray`` only; default: a local Ray instance).
        workers: CPUs the shards spread over (``ray`` only; default 2).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        shards: int | None = None,
        backend: str = "local",
        address: str | None = None,
        workers: int | None = None,
    ) -> None:
        self.timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.scenario, self.seed = scenario, scenario.seed
        self.n_shards = shards or (
            max(scenario.shards, workers or 2) if backend == "ray" else scenario.shards
        )
        self.spec = population_spec(scenario)
        self.population = generate_population(self.spec, shards=self.n_shards)
        self.registry = self.population.registry()
        self.subjects = subjects_from_registry(self.registry)
        self.relations = relations_from_registry(self.registry, self.subjects)
        self.timings["population"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.behaviour = load_behaviour()
        self.region_codes = [int(c) for c, _ in self.spec.regions]
        self._coverage_overrides = dict(scenario.behaviour.coverage)
        self._scale = dict(scenario.behaviour.scale)
        self._coverage = coverage_table(self.behaviour, self.region_codes, self._coverage_overrides)
        # the vocabulary and rate columns, without subjects (the shards' are the workers')
        self.meta = BehaviourModel(
            self.population,
            self.behaviour,
            seed=self.seed,
            coverage=self._coverage,
            blocks=(0, 0),
            scale=self._scale,
            with_governments=False,
        )
        self.blocks = shard_blocks(self.spec.n_blocks, self.n_shards)
        self.actions = self.meta.actions
        self.retry = np.array([self.behaviour.spec(a).retry for a in self.actions])
        self.regimes = {name: list(books) for name, books in scenario.regimes.items()}
        self.engines = {name: Engine(books) for name, books in self.regimes.items()}
        self.store = RecordStore()
        self._feedback()
        self.backend = self._backend(backend, address, workers)
        self.workers = getattr(self.backend, "workers", [])
        self._open_cases: list[dict[str, int]] = [{} for _ in self.blocks]
        self.history()
        self.timings["setup"] = time.perf_counter() - t0
        for phase in ("behaviour", "engine", "decisions", "reporters"):
            self.timings[phase] = 0.0
        self.steps = 0
        self.running = True
        self.start_day = day_number(scenario.start)
        self.evaluations: dict[str, Any] = dict.fromkeys(self.regimes)
        self.evaluated_today = False
        self._force_evaluation = False
        self.today: dict[str, Any] = {}
        names = scenario.outputs.reporters or list(REPORTERS)
        unknown = sorted(set(names) - set(REPORTERS))
        if unknown:
            raise ScenarioError(f"unknown reporters {', '.join(unknown)}: use {', '.join(REPORTERS)}")
        self.datacollector = DataCollector({n: REPORTERS[n] for n in names})
        self.trajectory_codes = self._trajectory_sample(scenario.outputs.trajectories)
        self.trajectories: list[dict[str, Any]] = []

    def _backend(self, name: str, address: str | None, workers: int | None) -> Any:
        from socialcredit.simulate.backends import make_backend
        from socialcredit.simulate.workers import ShardWorker

        informants = self.informants.for_shards() if self.informants is not None else None
        spiral = self.scenario.feedback.spiral.enabled
        kwargs = [
            {
                "population": self.population,
                "behaviour": self.behaviour,
                "seed": self.seed,
                "index": i,
                "blocks": blocks,
                "coverage": self._coverage,
                "scale": self._scale,
                "arrears": self.arrears,
                "informants": informants,
                "default_category": self._default_cat if spiral else None,
            }
            for i, blocks in enumerate(self.blocks)
        ]
        return make_backend(name, kwargs, factory=ShardWorker, address=address, workers=workers)

    @property
    def shards(self) -> list[Any]:
        """The shards' behaviour models (local backend); under Ray, the actors (one per shard)."""
        if self.workers:
            return [w.model for w in self.workers]
        return list(getattr(self.backend, "actors", []))

    def open_cases(self, kind: str = "person") -> int:
        """Open enforcement cases of ``kind`` over all shards, as of the last day settled."""
        return sum(c.get(kind, 0) for c in self._open_cases)

    def close(self) -> None:
        """Let the workers go (Ray actors); the results stay."""
        self.backend.close()

    # -- properties ----------------------------------------------------------------------------
    @property
    def day(self) -> int:
        """The current day (days since 1970)."""
        return self.start_day + self.steps

    @property
    def date(self) -> dt.date:
        return self.scenario.start + dt.timedelta(days=self.steps)

    # -- history ---------------------------------------------------------------------------------
    def history(self) -> None:
        """Records dated before the start (the scenario's ``history``), in ledger order."""
        parts = []
        hist = self.scenario.history
        for h in hist:
            if h.category not in self.meta.categories:
                raise ScenarioError(f"history: unknown category {h.category!r}")
        if not hist:
            return
        weights = self.backend.call_all("history_weights", [(h.kind, h.category) for h in hist])
        for e, h in enumerate(hist):
            total = sum(w[e][0] for w in weights)
            count = sum(w[e][1] for w in weights)
            if not total:
                continue
            lo, hi = day_number(h.window[0]), day_number(h.window[1])
            cat = self.meta.categories.index(h.category)
            args = (e, h.kind, cat, h.share, (lo, hi), total, count)
            parts += [recs for recs in self.backend.call_all("history_draw", *args) if recs is not None]
        if not parts:
            return
        recs = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
        order = np.lexsort(
            (recs["k"], recs["category"], recs["block"], recs["kind"], recs["second"], recs["day"])
        )
        recs = {c: v[order] for c, v in recs.items()}
        self.store.append(recs, recs["day"], history=True)
        self.backend.call(
            "apply", [({c: v[recs["shard"] == s] for c, v in recs.items()},) for s in range(self.backend.n)]
        )
        self._open_cases = self.backend.call_all("open_cases_all")

    # -- the day ---------------------------------------------------------------------------------
    def step(self) -> None:
        """One day (see the module docstring)."""
        sc, day = self.scenario, self.day
        self._interventions()
        t0 = time.perf_counter()
        draws = self.backend.call_all("draw", day)
        deterred = np.zeros(len(self.meta.categories), np.int64)
        keeps: list[np.ndarray | None] = [None] * len(draws)
        if self.deterrence is not None:
            for s, d in enumerate(draws):
                keep = keeps[s] = self.deterrence.thin(d.records, day)
                deterred += np.bincount(d.records["category"][~keep], minlength=len(deterred))
                d.records = {c: v[keep] for c, v in d.records.items()}
        self.today = {"arrears": 0, "partner_defaults": 0, "informants": {}, "reach": {}}
        parts = [d.records for d in draws] + self._extra(day, keeps)
        bought = 0
        if self.gaming is not None:
            parts.append(self.gaming.draw(day, self.date.year))
            bought = len(parts[-1]["subject"])
        fields = [*draws[0].records, "reporter"]
        recs = {
            c: np.concatenate([p[c] if c in p else np.full(len(p["subject"]), -1, np.int64) for p in parts])
            for c in fields
        }
        order = canonical_order(recs)
        first = len(self.store)
        self.store.append({c: v[order] for c, v in recs.items()}, day)
        atts = {c: np.concatenate([d.attempts[c] for d in draws]) for c in draws[0].attempts}
        avoided = np.zeros(len(self.actions), np.int64)
        if self.avoidance is not None:
            keep = self.avoidance.thin(atts, day)
            avoided = np.bincount(atts["action"][~keep], minlength=len(avoided))
            atts = {c: v[keep] for c, v in atts.items()}
        if self.deterrence is not None:
            self.deterrence.penalise(recs, day)
        self.today |= {
            "events": sum(d.events for d in draws),
            "first_record": first,
            "deterred": deterred,
            "bought": bought,
            "ties_cut": 0,
            "jobs_lost": 0,
            "avoided": avoided,
            "attempts": np.bincount(atts["action"], minlength=len(self.actions)),
        }
        t1 = time.perf_counter()
        self.timings["behaviour"] += t1 - t0
        last = self.steps == sc.days - 1
        self.evaluated_today = self.steps % sc.evaluate_every == 0 or last or self._force_evaluation
        self._force_evaluation = False
        if self.evaluated_today:
            arrays = self.store.arrays()
            for name, engine in self.engines.items():
                self.evaluations[name] = engine.bind(arrays, (self.subjects, self.relations)).evaluate(day)
            if self.chilling is not None:
                self._chill()
            if self._track_listings:
                self._new_listings(day)
            if self.gaming is not None:
                self.gaming.update(self.evaluations[next(iter(self.regimes))])
        t2 = time.perf_counter()
        self.timings["engine"] += t2 - t1
        self._refused = None
        self.today["outcomes"] = {name: self._decide(ev, atts, day) for name, ev in self.evaluations.items()}
        if self.avoidance is not None and self._refused is not None:
            self.avoidance.penalise({c: v[self._refused] for c, v in atts.items()}, day)
        if self.scenario.feedback.spiral.enabled and self._refused is not None:
            job = np.array([a.startswith("employment.") for a in self.actions] + [False], bool)
            act = np.where(self._refused, atts["action"], len(self.actions))
            self._lose_jobs(np.unique(atts["subject"][job[act]]).astype(np.int64), day)
        t3 = time.perf_counter()
        self.timings["decisions"] += t3 - t2
        self.datacollector.collect(self)
        if self.evaluated_today and self.trajectory_codes is not None and len(self.trajectory_codes):
            self._record_trajectories()
        self.timings["reporters"] += time.perf_counter() - t3
        self.steps += 1
        self.running = self.steps < sc.days

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Step until the last day; ``progress(done, total)`` after each day."""
        while self.running:
            self.step()
            if progress is not None:
                progress(self.steps, self.scenario.days)

    def _decide(self, ev: Any, atts: dict[str, np.ndarray], day: int) -> dict[str, np.ndarray]:
        """Outcome counts per action (allowed, rewarded, restricted, denied) and retries."""
        n_act = len(self.actions)
        counts = np.zeros((n_act, 4), np.int64)
        retries = np.zeros(n_act, np.int64)
        if not len(atts["action"]):
            return {"counts": counts, "retries": retries}
        cols = np.array([ev.action_column(a) for a in self.actions], np.int64)
        out = ev.decide_many(atts["subject"], cols[atts["action"]]).astype(np.int64)
        if ev is self.evaluations[next(iter(self.regimes))]:
            self._refused = out == OUTCOME_CODES["denied"]
        np.add.at(counts, (atts["action"], out), 1)
        denied = np.flatnonzero((out == OUTCOME_CODES["denied"]) & (self.retry[atts["action"]] > 0))
        if len(denied):
            a = atts["action"][denied]
            eid = event_ids(atts["block"][denied] * 8 + atts["kind"][denied], a, atts["k"][denied])
            u = rng.uniform(rng.key(self.seed, "retry", day), eid)
            r = np.floor(np.log1p(-u) / np.log(self.retry[a])).astype(np.int64)
            retries = np.bincount(a, weights=r, minlength=n_act).astype(np.int64)
        return {"counts": counts, "retries": retries}

    # -- feedback ----------------------------------------------------------------------------------
    def _feedback(self) -> None:
        """Set up the scenario's feedback loops (``None`` when off)."""
        fb = self.scenario.feedback
        self.deterrence: Deterrence | None = None
        self.chilling: Chilling | None = None
        self.gaming: Gaming | None = None
        self.avoidance: Avoidance | None = None
        self._refused: np.ndarray | None = None
        cats = self.meta.categories
        p = self.population.persons
        self._person_codes = np.sort(self.population.codes("person", p["index"]).astype(np.int64))
        self._listed = np.zeros(0, np.int64)
        self.newly_listed = 0
        self.relation_ends: list[dict[str, Any]] = []  # registry lines of ties cut (ostracism)
        self._track_listings = (
            fb.ostracism.enabled
            or fb.spiral.enabled
            or fb.disclosure.enabled
            or (fb.deterrence.enabled and fb.deterrence.on_listing)
        )
        o = self.population.organisations
        self._org_codes = np.sort(self.population.codes("organisation", o["index"]).astype(np.int64))
        self._listed_orgs = np.zeros(0, np.int64)
        self.jobless = np.zeros(0, np.int64)  # persons the spiral left without a job
        self._partner_pending = np.zeros(0, np.int64)  # partners defaulting the next day
        self.arrears: Arrears | None = None
        self.informants: Informants | None = None
        self._rail = np.zeros(0, bool)
        self._default_cat = -1
        if fb.spiral.enabled:
            self._setup_spiral()
        if fb.informants.enabled:
            self._setup_informants()
        if fb.disclosure.enabled:
            from socialcredit.vocabulary import vocabulary

            unknown = sorted(set(fb.disclosure.reach) - set(vocabulary().channels))
            if unknown:
                raise ScenarioError(f"feedback.disclosure: unknown channels {', '.join(unknown)}")
        for loop in ("ostracism", "disclosure"):
            from socialcredit.registry import RELATION_KINDS

            named = set(getattr(fb, loop).relations) | set(getattr(getattr(fb, loop), "by_relation", {}))
            unknown = sorted(named - set(RELATION_KINDS))
            if unknown:
                raise ScenarioError(f"feedback.{loop}: unknown relations {', '.join(unknown)}")
        if fb.deterrence.enabled:
            names = fb.deterrence.categories or [
                c for c, _, breaking in self.meta.columns[: len(cats)] if breaking
            ]
            unknown = sorted(set(names) - set(cats))
            if unknown:
                raise ScenarioError(f"feedback.deterrence: unknown categories {', '.join(unknown)}")
            self.deterrence = Deterrence(
                seed=self.seed,
                factor=fb.deterrence.factor,
                days=fb.deterrence.days,
                categories=[cats.index(c) for c in names],
            )
        if fb.avoidance.enabled:
            self.avoidance = Avoidance(
                seed=self.seed,
                factor=fb.avoidance.factor,
                days=fb.avoidance.days,
                categories=list(range(len(self.actions))),
            )
        if fb.chilling.enabled:
            for c in (fb.chilling.critical, fb.chilling.positive):
                if c not in cats:
                    raise ScenarioError(f"feedback.chilling: unknown category {c!r}")
            self.chilling = Chilling(
                critical=fb.chilling.critical,
                positive=fb.chilling.positive,
                elasticity=fb.chilling.elasticity,
                reward=fb.chilling.reward,
            )
            self._chill_scale: dict[str, float] = {}

        if fb.gaming.enabled:
            g = fb.gaming
            if g.category not in cats:
                raise ScenarioError(f"feedback.gaming: unknown category {g.category!r}")
            if g.category in self.meta.effects:
                raise ScenarioError(f"feedback.gaming: {g.category} opens or closes cases; buy another")
            self.gaming = Gaming(
                seed=self.seed,
                category=cats.index(g.category),
                sources=self.meta.cat_sources[cats.index(g.category)],
                below=g.below,
                rate=g.rate,
                amount=g.amount,
                max_per_year=g.max_per_year,
                person_codes=self.population.codes("person", p["index"]),
                person_blocks=np.asarray(p["block"], np.int64),
            )

    def _new_listings(self, day: int) -> None:
        """Persons on a black list of the first regime who were not at the previous evaluation:
        deterrence on listing, disclosure reach, ostracism, the spiral (and organisations newly
        listed: their partners default)."""
        fb = self.scenario.feedback
        ev = self.evaluations[next(iter(self.regimes))]
        if fb.spiral.enabled and fb.spiral.partner_default > 0:
            orgs = listed(ev, self._org_codes)
            self._partner_defaults(np.setdiff1d(orgs, self._listed_orgs), day)
            self._listed_orgs = orgs
        now = listed(ev, self._person_codes)
        new = np.setdiff1d(now, self._listed)
        self._listed, self.newly_listed = now, len(new)
        if not len(new):
            return
        if self.deterrence is not None and fb.deterrence.on_listing:
            self.deterrence.penalise_listed(new, day)
        heard = self._disclose(new, day) if fb.disclosure.enabled else None
        if fb.ostracism.enabled:
            self._ostracise(new, day, heard)
        if fb.spiral.enabled:
            q = np.full(len(new), fb.spiral.job_loss)
            if fb.spiral.commute_job_loss > 0:
                barred = (
                    ev.decide_many(new, np.full(len(new), ev.action_column("travel.high_speed_rail")))
                    == OUTCOME_CODES["denied"]
                )
                rail = barred & self._rail[new]
                q[rail] = 1 - (1 - fb.spiral.job_loss) * (1 - fb.spiral.commute_job_loss)
            self._lose_jobs(new, day, q)

    def _ties_of(self, new: np.ndarray, kinds: list[str], day: int) -> np.ndarray:
        """Registry positions of the relations of ``kinds`` holding on ``day`` with one of
        ``new`` at either end."""
        from socialcredit.registry import RELATION_KINDS

        rel = self.relations
        on = (
            np.isin(rel.kind, [RELATION_KINDS.index(k) for k in kinds])
            & (rel.since <= day)
            & (rel.until > day)
            & (np.isin(rel.subject, new) | np.isin(rel.object, new))
        )
        return np.flatnonzero(on)

    def _disclose(self, new: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Disclosure reach: which contacts of the newly listed ``new`` learn of the listing,
        through which channel (see :func:`feedback.learned`); returns the relation positions
        (of the disclosure and ostracism relations) and whether the contact learned."""
        fb = self.scenario.feedback
        cfg = fb.disclosure
        ev = self.evaluations[next(iter(self.regimes))]
        prof = ev.profiles
        shown = prof.disclosed[prof.profile[new]]
        kinds = list(dict.fromkeys(cfg.relations + (_kinds(fb.ostracism) if fb.ostracism.enabled else [])))
        idx = self._ties_of(new, kinds, day)
        rel = self.relations
        args = (new, shown, list(prof.channels), cfg.reach, cfg.word_of_mouth)
        heard, _ = learned(rel.subject, rel.object, idx, *args, seed=self.seed, day=day)
        own = self._ties_of(new, cfg.relations, day)
        _, counts = learned(rel.subject, rel.object, own, *args, seed=self.seed, day=day)
        for ch, n in counts.items():
            self.today["reach"][ch] = self.today["reach"].get(ch, 0) + n
        return idx, heard

    def _ostracise(self, new: np.ndarray, day: int, heard: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Ostracism: each tie of the newly listed ``new`` that holds on ``day`` ends with
        probability ``share`` (uniform in the ``ostracism`` stream keyed by the relation's
        position in the registry): it holds until ``day + 1``, exclusive. With disclosure on,
        only ties whose other end learned of the listing (``heard``) are at risk."""
        cfg = self.scenario.feedback.ostracism
        idx = self._ties_of(new, _kinds(cfg), day)
        if heard is not None:
            at, ok = heard
            idx = np.intersect1d(idx, at[ok])
        share = np.full(len(idx), cfg.share)
        if cfg.by_relation:
            from socialcredit.registry import RELATION_KINDS

            for kind, q in cfg.by_relation.items():
                share[self.relations.kind[idx] == RELATION_KINDS.index(kind)] = q
        idx = idx[rng.uniform(rng.key(self.seed, "ostracism", day), idx) < share]
        self._end_relations(idx, day)
        self.today["ties_cut"] = self.today.get("ties_cut", 0) + len(idx)

    def _lose_jobs(self, persons: np.ndarray, day: int, prob: np.ndarray | None = None) -> None:
        """Spiral: each ``employee_of`` relation of ``persons`` (sorted; as employee) that holds
        on ``day`` ends with probability ``prob`` (per person; default ``job_loss``; uniform in
        the ``spiral`` stream keyed by the relation's position in the registry), as a dated end
        like ostracism's. Whoever holds no job afterwards is jobless (arrears)."""
        from socialcredit.registry import RELATION_KINDS

        rel = self.relations
        job = RELATION_KINDS.index("employee_of")
        on = (rel.kind == job) & (rel.since <= day) & (rel.until > day) & np.isin(rel.subject, persons)
        idx = np.flatnonzero(on)
        if prob is None:
            q = np.full(len(idx), self.scenario.feedback.spiral.job_loss)
        else:
            q = np.asarray(prob, float)[np.searchsorted(persons, rel.subject[idx])]
        idx = idx[rng.uniform(rng.key(self.seed, "spiral", day), idx) < q]
        self._end_relations(idx, day)
        self.today["jobs_lost"] = self.today.get("jobs_lost", 0) + len(idx)
        if len(idx):
            lost = np.unique(rel.subject[idx]).astype(np.int64)
            still = (
                (rel.kind == job)
                & (rel.since <= day + 1)
                & (rel.until > day + 1)
                & np.isin(rel.subject, lost)
            )
            self.jobless = np.union1d(self.jobless, np.setdiff1d(lost, rel.subject[still]))

    def _partner_defaults(self, orgs: np.ndarray, day: int) -> None:
        """Spiral: each organisation in a ``partner_of`` relation holding on ``day`` with a newly
        listed organisation of ``orgs`` defaults with probability ``partner_default`` (uniform in
        the ``spiral-partner`` stream keyed by the relation's position): a
        ``judicial.judgment_default`` record the next day (seed 004: a partner's default lands
        you on the list)."""
        if not len(orgs):
            return
        rel = self.relations
        idx = self._ties_of(orgs, ["partner_of"], day)
        idx = idx[
            rng.uniform(rng.key(self.seed, "spiral-partner", day), idx)
            < self.scenario.feedback.spiral.partner_default
        ]
        other = np.where(np.isin(rel.subject[idx], orgs), rel.object[idx], rel.subject[idx]).astype(np.int64)
        self._partner_pending = np.union1d(self._partner_pending, other)

    def _setup_spiral(self) -> None:
        fb, cats = self.scenario.feedback.spiral, self.meta.categories
        unknown = sorted(set(fb.arrears_categories) - set(cats))
        if unknown:
            raise ScenarioError(f"feedback.spiral: unknown categories {', '.join(unknown)}")
        self.arrears = Arrears(
            seed=self.seed,
            factor=fb.arrears_factor,
            categories=[cats.index(c) for c in fb.arrears_categories],
        )
        p = self.population.persons
        codes = self.population.codes("person", p["index"]).astype(np.int64)
        from socialcredit.society.population import COMMUTES

        self._rail = np.zeros(int(codes.max()) + 1 if len(codes) else 0, bool)
        self._rail[codes] = np.asarray(p["commute"]) == COMMUTES.index("rail")
        self._default_cat = cats.index("judicial.judgment_default")

    def _setup_informants(self) -> None:
        from socialcredit.vocabulary import vocabulary

        fb, voc, cats = self.scenario.feedback.informants, vocabulary(), self.meta.categories
        for c in [*fb.categories, fb.reward, fb.penalty]:
            if c not in cats:
                raise ScenarioError(f"feedback.informants: unknown category {c!r}")
        kinds = []
        for c in fb.categories:
            if not voc.authorised("citizen_report", c):
                raise ScenarioError(
                    f"feedback.informants: citizens may not report {c} (citizen_report is not among "
                    "its sources in the vocabulary)"
                )
            kinds.append(KINDS.index(voc.categories[c].subject_kinds[0]))
        for c in (fb.reward, fb.penalty):
            if "person" not in voc.categories[c].subject_kinds:
                raise ScenarioError(f"feedback.informants: {c} is not a category of persons")
        p = self.population.persons
        adult = np.asarray(p["age"]) >= 18
        self.informants = Informants(
            seed=self.seed,
            rate=fb.rate,
            categories=[cats.index(c) for c in fb.categories],
            kinds=kinds,
            malicious=fb.malicious,
            caught=fb.caught,
            reward=cats.index(fb.reward),
            penalty=cats.index(fb.penalty),
            report_source=list(voc.sources).index("citizen_report"),
            reporters=self.population.codes("person", p["index"][adult]).astype(np.int64),
            blocks=np.asarray(p["block"], np.int64)[adult],
        )
        self.store.reporters = True

    def _extra(self, day: int, keeps: list[np.ndarray | None]) -> list[dict[str, np.ndarray]]:
        """Settle the day in every shard: apply the kept draws, then the records made by the
        loops rather than drawn (partner defaults, the jobless' extra arrears, citizens' reports
        and their review), with their effects; returns the loops' records in shard order."""
        partners, self._partner_pending = self._partner_pending, np.zeros(0, np.int64)
        jobless = self.jobless if self.arrears is not None else np.zeros(0, np.int64)
        reports: list[dict[str, np.ndarray] | None] = [None] * len(keeps)
        if self.informants is not None:
            filed = self.informants.filed(day)
            if len(filed["who"]):
                for s, (lo, hi) in enumerate(self.blocks):
                    mine = (filed["block"] >= lo) & (filed["block"] < hi)
                    reports[s] = {c: v[mine] for c, v in filed.items()}
        settled = self.backend.call(
            "settle", [(day, keeps[s], partners, jobless, reports[s]) for s in range(len(keeps))]
        )
        out = []
        for res in settled:
            out += res["records"]
            self.today["partner_defaults"] += res["partner_defaults"]
            self.today["arrears"] += res["arrears"]
            if self.informants is not None:
                for name, n in res["informants"].items():
                    self.informants.stats[name] += n
        if self.informants is not None:
            self.today["informants"] = dict(self.informants.stats)
        self._open_cases = [res["open_cases"] for res in settled]
        return out

    def _end_relations(self, idx: np.ndarray, day: int) -> None:
        """End the relations at registry positions ``idx``: they hold until ``day + 1``,
        exclusive, and the ends are registry lines for the ledger."""
        from socialcredit.registry import RELATION_KINDS

        rel = self.relations
        if not len(idx):
            return
        rel.until[idx] = day + 1
        ids = self.subjects.ids
        until = self.date + dt.timedelta(days=1)
        for i in idx.tolist():
            line = {
                "relation": RELATION_KINDS[int(rel.kind[i])],
                "subject": ids[int(rel.subject[i])].as_py(),
                "object": ids[int(rel.object[i])].as_py(),
                "until": until,
            }
            if rel.since[i] > -(2**61):
                line["since"] = dt.date(1970, 1, 1) + dt.timedelta(days=int(rel.since[i]))
            self.relation_ends.append(line)

    def _chill(self) -> None:
        """Chilling: new post rate multipliers from the listed share of the first regime."""
        assert self.chilling is not None
        ev = self.evaluations[next(iter(self.regimes))]
        mult = self.chilling.multipliers(listed_share(ev, self._person_codes))
        if mult == self._chill_scale:
            return
        self._chill_scale = mult
        self._apply_scale()

    def _apply_scale(self) -> None:
        """The scenario's (and interventions') scales times the feedback multipliers."""
        scale = dict(self._scale)
        if self.chilling is not None:
            for c, m in self._chill_scale.items():
                scale[c] = scale.get(c, 1.0) * m
        self.backend.call_all("set_scale", scale)

    # -- interventions -----------------------------------------------------------------------------
    def _interventions(self) -> None:
        for iv in self.scenario.interventions:
            if iv.day != self.steps:
                continue
            for name in [iv.regime] if iv.regime else list(self.regimes):
                books = [b for b in self.regimes[name] if b not in iv.remove_rulebooks]
                books += [b for b in iv.add_rulebooks if b not in books]
                if books != self.regimes[name]:
                    if not books:
                        raise ScenarioError(
                            f"intervention {iv.label!r} leaves regime {name} without rulebooks"
                        )
                    self.regimes[name] = books
                    self.engines[name] = Engine(books)
                    self._force_evaluation = True
            if iv.scale:
                self._scale.update(iv.scale)
                self._apply_scale()
            if iv.coverage:
                for where, chans in iv.coverage.items():
                    self._coverage_overrides.setdefault(where, {}).update(chans)
                self._coverage = coverage_table(self.behaviour, self.region_codes, self._coverage_overrides)
                self.backend.call_all("set_coverage", self._coverage)

    # -- trajectories ----------------------------------------------------------------------------
    def _trajectory_sample(self, n: int) -> np.ndarray | None:
        if not n:
            return None
        idx = self.population.persons["index"]
        u = rng.uniform(rng.key(self.seed, "trajectories"), idx)
        return np.sort(self.population.codes("person", idx[np.argsort(u, kind="stable")[:n]]))

    def _record_trajectories(self) -> None:
        codes = self.trajectory_codes
        for name, ev in self.evaluations.items():
            score, grade, model, lists = standing(ev, codes)
            for i, c in enumerate(codes.tolist()):
                self.trajectories.append(
                    {
                        "day": self.steps,
                        "date": self.date,
                        "regime": name,
                        "subject": self.subjects.ids[c].as_py(),
                        "score": score[i],
                        "grade": grade[i],
                        "score_model": model[i],
                        "lists": lists[i],
                    }
                )

    def trajectory_table(self) -> pa.Table:
        schema = pa.schema(
            [
                ("day", pa.int32()),
                ("date", pa.date32()),
                ("regime", pa.string()),
                ("subject", pa.string()),
                ("score", pa.float64()),
                ("grade", pa.string()),
                ("score_model", pa.string()),
                ("lists", pa.string()),
            ]
        )
        return pa.Table.from_pylist(self.trajectories, schema=schema)

    # -- results ---------------------------------------------------------------------------------
    def records_table(self, start: int = 0, stop: int | None = None) -> pa.Table:
        """The run's records (positions ``start..stop``) in the record contract, in ledger
        order (see :meth:`RecordStore.table` for the ids)."""
        return self.store.table(
            self.subjects.ids, prefix=f"{self.scenario.name}-{self.seed}", start=start, stop=stop
        )

    def agent_days_per_second(self) -> float:
        """Residents x days over the time of the loop (behaviour, engine, decisions, reporters)."""
        loop = sum(self.timings.get(k, 0.0) for k in ("behaviour", "engine", "decisions", "reporters"))
        return round(self.scenario.size * self.steps / loop) if loop else 0.0

    def final_state(self) -> dict[str, pa.Table]:
        """Each regime's per-subject state on the last day (the engine's ``to_table``)."""
        return {name: ev.to_table() for name, ev in self.evaluations.items()}

    def comparisons(self) -> list[dict[str, Any]]:
        """The scenario's ``compare`` entries with this run's figure scaled to their population."""
        out = []
        for c in self.scenario.compare:
            regime = next(iter(self.regimes))
            total = self.datacollector.total(c.reporter, c.key, regime)
            scaled = total * c.population / self.scenario.size * 365 / self.scenario.days
            out.append(
                {
                    "reporter": c.reporter,
                    "key": c.key,
                    "regime": regime,
                    "simulated": total,
                    "scaled": round(scaled),
                    "reported": c.reported,
                    "ratio": scaled / c.reported,
                    "reading": c.reading,
                    "source": c.source,
                }
            )
        return out
