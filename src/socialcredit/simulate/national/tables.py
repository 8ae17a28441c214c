"""What the streamed kernel reads, built once from a scenario: rate tables, sources and
coverage, the rulebooks' lists and measures as arrays, the calendar and the feedback settings.

Everything comes from the same places the in-memory model reads: the behaviour rate tables
(:class:`~socialcredit.society.behaviour.BehaviourModel`, built on a one-block population — the
tables do not depend on who lives where), the engine's compiled rulebook versions
(:meth:`~socialcredit.engine.Engine.compiled`) and the scenario's ``feedback`` block.

The kernel runs *list* rulebooks: listings opened by records (with ``by``, terms, extensions,
exits, deletion delays, minimum terms, the age exemption), lists entered while on another list,
propagation to an organisation's legal representative, and measures on lists. A rulebook with
scores, grades or other entries is refused with :class:`NotStreamable` (run it in memory).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from socialcredit.engine import Engine
from socialcredit.engine.compile import CList
from socialcredit.engine.dates import add_duration
from socialcredit.simulate.scenario import Scenario
from socialcredit.simulate.store import day_number
from socialcredit.society import rng
from socialcredit.society.behaviour import KINDS, BehaviourModel, coverage_table
from socialcredit.society.population import COMMUTES, PopulationSpec, generate_population
from socialcredit.society.rates import ONE, load_behaviour
from socialcredit.vocabulary import vocabulary

__all__ = ["NotStreamable", "Tables", "build_tables"]

#: blocks per *county*: chilling reads the black-listed share of one's county, and shards are
#: runs of whole counties, so the share does not depend on how the run is sharded
COUNTY_BLOCKS = 64
#: chilling's listed share is capped here, which bounds the envelope of "positive energy" posts
CHILL_CAP = 0.2

# layout of the feedback vector `fb` (see kernel.py)
FB = (
    "deterrence",
    "deterrence_factor",
    "deterrence_days",
    "spiral",
    "job_loss",
    "deterrence_on_listing",
    "partner_default",
    "avoidance",
    "avoidance_factor",
    "avoidance_days",
    "chilling",
    "elasticity",
    "reward",
    "chill_cap",
    "commute_job_loss",
    "rail_commute",
    "ostracism",
    "ostracism_share",
)


class NotStreamable(ValueError):
    """The scenario uses something the streamed kernel does not run (the message says what)."""


@dataclass
class Tables:
    scenario: Scenario
    spec: PopulationSpec
    meta: BehaviourModel
    categories: list[str]
    actions: list[str]
    # rates: rows = classes (then the same classes jobless), columns = active columns
    tot: NDArray[np.float64]
    inv_tot: NDArray[np.float64]
    p_one: NDArray[np.float64]
    cum: NDArray[np.float64]
    prob: NDArray[np.float64]
    alias: NDArray[np.int16]
    col_cat: NDArray[np.int32]
    col_act: NDArray[np.int32]
    col_mult: NDArray[np.float64]
    jobless_rows: int
    case_step: NDArray[np.bool_]
    n_src: NDArray[np.int64]
    src_table: NDArray[np.int16]
    src_channel: NDArray[np.int8]
    coverage: NDArray[np.float64]
    region_rows: dict[int, int]
    effect: NDArray[np.int8]
    deterred: NDArray[np.bool_]
    # lists (the union over the versions in force during the run) and measures per version
    list_ids: list[str]
    list_black: NDArray[np.bool_]
    ent_dur: NDArray[np.int32]
    ent_src_ok: NDArray[np.bool_]
    ext_min: NDArray[np.int32]
    ext_total: NDArray[np.int32]
    exit_cat: NDArray[np.bool_]
    delist: NDArray[np.int32]
    min_dur: NDArray[np.int32]
    under_age: NDArray[np.int32]
    derived_from: NDArray[np.int32]
    propagate: NDArray[np.bool_]
    list_kind: NDArray[np.bool_]
    dur: NDArray[np.int32]
    base: int
    versions: list[str]
    version_of_day: NDArray[np.int32]
    list_active: NDArray[np.bool_]
    measure: NDArray[np.int8]
    # calendar
    start: int
    days: int
    evals: NDArray[np.int32]  # day indices of the evaluation days
    dec_pub: NDArray[np.int32]  # per day index: the evaluation its decisions read
    month_ok: NDArray[np.bool_]
    month_of_day: NDArray[np.int8]
    # feedback
    fb: NDArray[np.float64]
    chill_crit: int
    chill_pos: int
    rail_lists: NDArray[np.bool_]
    employment: NDArray[np.bool_]
    retry_log: NDArray[np.float64]
    default_cat: int
    history: list[dict[str, Any]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    @functools.cached_property
    def list_rate(self) -> NDArray[np.float64]:
        """Per row, the daily rate of records that can touch a list (slot sizing)."""
        relevant = np.zeros(len(self.categories) + 1, bool)
        relevant[:-1] = (self.ent_dur != -2).any(axis=0) | (self.ext_min >= 0).any(axis=0)
        cols = np.where(self.col_cat >= 0, self.col_cat, len(self.categories))
        rates = np.diff(np.concatenate([np.zeros((len(self.cum), 1)), self.cum], axis=1), axis=1)
        return rates[:, relevant[cols]].sum(axis=1)


def _population_spec(scenario: Scenario) -> PopulationSpec:
    from socialcredit.simulate.model import population_spec

    return population_spec(scenario)


def _same_list(a: CList, b: CList) -> bool:
    return dataclasses.replace(a, index=0) == dataclasses.replace(b, index=0)


def build_tables(scenario: Scenario) -> Tables:
    """Every array the kernel needs for ``scenario`` (see the module docstring)."""
    left_out: list[str] = []
    spec = _population_spec(scenario)
    tiny = dataclasses.replace(spec, size=min(spec.size, spec.block_size))
    behaviour = load_behaviour()
    region_codes = [int(c) for c, _ in spec.regions]
    cov = coverage_table(behaviour, region_codes, dict(scenario.behaviour.coverage))
    meta = BehaviourModel(
        generate_population(tiny),
        behaviour,
        seed=scenario.seed,
        coverage=cov,
        blocks=(0, 0),
        scale=dict(scenario.behaviour.scale),
        with_governments=False,
    )
    if scenario.interventions:
        raise NotStreamable("interventions are not run by the streamed kernel; run the scenario in memory")
    cats, acts = meta.categories, meta.actions
    n_cat = len(cats)
    fbk = scenario.feedback
    table = meta.table.astype(np.float64) / ONE  # rows: classes of every kind, + a zero row
    cols = meta.cols
    col_cat = np.where(cols < n_cat, cols, -1).astype(np.int32)
    col_act = np.where(cols >= n_cat, cols - n_cat, -1).astype(np.int32)
    col_mult = np.ones(len(cols))
    chill_crit = chill_pos = -1
    if fbk.chilling.enabled:
        chill_crit = int(meta.col_position[cats.index(fbk.chilling.critical)])
        chill_pos = int(meta.col_position[cats.index(fbk.chilling.positive)])
        if chill_pos >= 0:
            col_mult[chill_pos] = math.exp(fbk.chilling.reward * CHILL_CAP)
    env = table * col_mult[None, :]
    jobless = env.copy()
    if fbk.spiral.enabled:
        for name in fbk.spiral.arrears_categories:
            j = meta.col_position[cats.index(name)]
            if j >= 0:
                jobless[: meta.offsets["organisation"], j] *= fbk.spiral.arrears_factor
    rates = np.concatenate([env, jobless])
    cum = np.cumsum(rates, axis=1)
    tot = cum[:, -1].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_tot = np.where(tot > 0, 1.0 / tot, 0.0)
        # P(one event | at least one) on an event day: most event days have one
        p_one = np.where(tot > 0, tot * np.exp(-tot) / -np.expm1(-tot), 1.0)
    from socialcredit.simulate.national.kernel import alias_tables

    prob, alias = alias_tables(np.ascontiguousarray(rates))
    case_step = np.array([k in ("person", "organisation", "government") for k in KINDS])
    effect = np.zeros(n_cat, np.int8)
    for c, e in meta.effects.items():
        effect[cats.index(c)] = 1 if e == "open_case" else 2
    voc = vocabulary()
    if fbk.deterrence.categories:
        deterred = np.isin(np.arange(n_cat), [cats.index(c) for c in fbk.deterrence.categories])
    else:
        deterred = np.array([voc.categories[c].direction == "breaking" for c in cats])
    # ---------------------------------------------------------------- calendar and versions
    start = day_number(scenario.start)
    days = scenario.days
    every = scenario.evaluate_every
    steps = np.arange(days)
    is_eval = (steps % every == 0) | (steps == days - 1)
    evals = np.flatnonzero(is_eval)
    dec_pub = (np.searchsorted(evals, steps, side="right") - 1).astype(np.int32)
    eval_day = start + evals[dec_pub]
    months = np.array(
        [(dt.date(1970, 1, 1) + dt.timedelta(days=int(start + i))).month for i in steps], np.int8
    )
    month_ok = meta.months[cols]
    regimes = list(scenario.regimes.values())
    if len(regimes) > 1:
        left_out.append(f"regimes after the first ({', '.join(list(scenario.regimes)[1:])})")
    engine = Engine(regimes[0])
    cat_t = tuple(cats)
    history_lo = min([day_number(h.window[0]) for h in scenario.history] or [start])
    base = min(history_lo, start) - 1
    span = start + days + 7 * 366 - base
    compiled: list[list[Any]] = []  # per rulebook, the distinct versions of the run's evaluations
    version_of_day = np.zeros(days, np.int32)
    keys: list[tuple[str, ...]] = []
    for i, d in enumerate(eval_day):
        cvs = [engine.compiled(r, int(d), cat_t) for r in range(len(engine.rulebooks))]
        key = tuple(f"{cv.rulebook}@{cv.version.id}" for cv in cvs)
        if key not in keys:
            keys.append(key)
            compiled.append(cvs)
        version_of_day[i] = keys.index(key)
    lists: dict[str, CList] = {}
    order: list[str] = []
    for cvs in compiled:
        for cv in cvs:
            if cv.rules or cv.groups or cv.factor_models or cv.tier_models:
                raise NotStreamable(
                    f"rulebook {cv.rulebook!r} (version {cv.version.id}) has scores; the streamed kernel "
                    "runs list rulebooks only — run this scenario in memory (without --streamed)"
                )
            for lst in cv.lists:
                lid = f"{cv.rulebook}/{lst.id}"
                if lid in lists and not _same_list(lists[lid], lst):
                    raise NotStreamable(
                        f"list {lid} changes its definition between versions during the run; "
                        "run this scenario in memory"
                    )
                if lid not in lists:
                    lists[lid] = lst
                    order.append(lid)
    nl, n_src_all = len(order), len(meta.sources)
    if nl > 16:
        raise NotStreamable(f"{nl} lists: the streamed kernel keeps at most 16")
    durations: list[Any] = []

    def dur_row(d: Any) -> int:
        if d is None:
            return -1
        if d not in durations:
            durations.append(d)
        return durations.index(d)

    ent_dur = np.full((nl, n_cat), -2, np.int32)
    ent_src_ok = np.zeros((nl, n_cat, n_src_all), bool)
    ext_min = np.full((nl, n_cat), -1, np.int32)
    ext_total = np.full((nl, n_cat), -1, np.int32)
    exit_cat = np.zeros((nl, n_cat), bool)
    delist = np.full(nl, -1, np.int32)
    min_dur = np.full(nl, -1, np.int32)
    under_age = np.zeros(nl, np.int32)
    derived_from = np.full(nl, -1, np.int32)
    propagate = np.zeros(nl, bool)
    list_kind = np.zeros((nl, len(KINDS)), bool)
    black = np.zeros(nl, bool)
    for li, lid in enumerate(order):
        lst = lists[lid]
        rb = lid.split("/")[0]
        black[li] = lst.lst.kind == "black"
        for k in lst.kinds:
            list_kind[li, k] = True
        for e in lst.entries:
            if e.kind == "record":
                if e.entry.min_count > 1:
                    raise NotStreamable(
                        f"list {lid}: entries that count records (min_count) are not streamed"
                    )
                if e.cat < 0:
                    continue
                # several entries of one category: the longest term wins (as the engine's max)
                row = dur_row(e.duration)
                prev = ent_dur[li, e.cat]
                if prev == -2 or row == -1 or (prev >= 0 and _longer(durations[row], durations[prev])):
                    ent_dur[li, e.cat] = row
                srcs = np.arange(n_src_all) if e.by is None else [meta.sources.index(s) for s in e.by]
                ent_src_ok[li, e.cat, srcs] = True
                for c in e.ext_cats:
                    if c >= 0 and e.ext_min is not None:
                        ext_min[li, c] = dur_row(e.ext_min)
                        ext_total[li, c] = dur_row(e.ext_total)
            elif e.kind == "on_list":
                target = f"{rb}/{e.entry.on_list}" if getattr(e.entry, "on_list", None) else None
                if target not in order:
                    raise NotStreamable(f"list {lid}: entry on list {target!r} not found")
                derived_from[li] = order.index(target)
            else:
                raise NotStreamable(f"list {lid}: '{e.kind}' entries (scores, grades) are not streamed")
        for c in lst.exit_cats:
            if c >= 0:
                exit_cat[li, c] = True
        delist[li] = dur_row(lst.delist)
        min_dur[li] = dur_row(lst.min_duration)
        under_age[li] = lst.under_age or 0
        for via in lst.propagate:
            if via.relation == "legal_representative_of" and via.to == "subject":
                propagate[li] = True
            else:
                left_out.append(f"list {lid}: propagation along {via.relation}")
    if len(set(under_age[under_age > 0])) > 1:
        raise NotStreamable("lists with different age exemptions are not streamed")
    n_act = len(acts)
    measure = np.zeros((len(compiled), nl, n_act), np.int8)
    list_active = np.zeros((len(compiled), nl), bool)
    for v, cvs in enumerate(compiled):
        for cv in cvs:
            idx = {lst.index: order.index(f"{cv.rulebook}/{lst.id}") for lst in cv.lists}
            for li in idx.values():
                list_active[v, li] = True
            for m in cv.measures:
                if m.code == 0:
                    continue  # disclosure: no outcome
                if m.threshold or m.grades or m.score:
                    raise NotStreamable(f"measure {m.id}: measures on scores or grades are not streamed")
                if m.via is not None:
                    why = "households are not generated"
                    note = f"measure {cv.rulebook}/{m.id} (through {m.via.relation}: {why})"
                    if note not in left_out:
                        left_out.append(note)
                    continue
                for a in m.actions:
                    if a not in acts:
                        continue
                    for li in m.lists:
                        gi = idx[li]
                        measure[v, gi, acts.index(a)] = max(measure[v, gi, acts.index(a)], m.code)
    dur = np.zeros((max(len(durations), 1), span), np.int32)
    all_days = base + np.arange(span)
    for r, d in enumerate(durations):
        dur[r] = np.minimum(add_duration(all_days, d), 2**31 - 2)
    # ---------------------------------------------------------------- feedback
    fb = np.zeros(len(FB))
    if fbk.deterrence.enabled:
        fb[0:3] = 1, fbk.deterrence.factor, fbk.deterrence.days
        fb[5] = float(fbk.deterrence.on_listing)
    if fbk.spiral.enabled:
        fb[3], fb[4], fb[6] = 1, fbk.spiral.job_loss, fbk.spiral.partner_default
        fb[14] = fbk.spiral.commute_job_loss
    fb[15] = COMMUTES.index("rail") if "rail" in COMMUTES else -1
    if fbk.avoidance.enabled:
        fb[7:10] = 1, fbk.avoidance.factor, fbk.avoidance.days
    if fbk.chilling.enabled:
        fb[10:14] = 1, fbk.chilling.elasticity, fbk.chilling.reward, CHILL_CAP
    if fbk.ostracism.enabled:
        fb[16], fb[17] = 1, fbk.ostracism.share
        if fbk.disclosure.enabled:
            left_out.append("disclosure reach (every friend learns of a listing)")
    for name in ("gaming", "informants"):
        if getattr(fbk, name).enabled:
            left_out.append(f"feedback loop {name}")
    rail_act = acts.index("travel.high_speed_rail") if "travel.high_speed_rail" in acts else -1
    rail_lists = (measure[:, :, rail_act] == 3).any(axis=0) if rail_act >= 0 else np.zeros(nl, bool)
    employment = np.array([a.startswith("employment.") for a in acts])
    retry = np.array([behaviour.spec(a).retry for a in acts])
    retry_log = np.where(retry > 0, np.log(np.where(retry > 0, retry, 1.0)), 0.0)
    history = [
        {
            "entry": e,
            "kind": h.kind,
            "category": cats.index(h.category),
            "share": h.share,
            "window": (day_number(h.window[0]), day_number(h.window[1])),
        }
        for e, h in enumerate(scenario.history)
    ]
    for h in scenario.history:
        if h.category not in cats:
            raise NotStreamable(f"history: unknown category {h.category!r}")
    region_rows = {int(c): i for i, c in enumerate(meta.region_codes)}
    return Tables(
        scenario=scenario,
        spec=spec,
        meta=meta,
        categories=cats,
        actions=acts,
        tot=tot,
        inv_tot=inv_tot,
        p_one=p_one,
        cum=cum,
        prob=prob,
        alias=alias,
        col_cat=col_cat,
        col_act=col_act,
        col_mult=col_mult,
        jobless_rows=len(table),
        case_step=case_step,
        n_src=meta.n_sources.astype(np.int64),
        src_table=meta.source_table,
        src_channel=meta.source_channel.astype(np.int8),
        coverage=np.ascontiguousarray(meta.coverage, np.float64),
        region_rows=region_rows,
        effect=effect,
        deterred=deterred,
        list_ids=order,
        list_black=black,
        ent_dur=ent_dur,
        ent_src_ok=ent_src_ok,
        ext_min=ext_min,
        ext_total=ext_total,
        exit_cat=exit_cat,
        delist=delist,
        min_dur=min_dur,
        under_age=under_age,
        derived_from=derived_from,
        propagate=propagate,
        list_kind=list_kind,
        dur=dur,
        base=int(base),
        versions=[" + ".join(k) for k in keys],
        version_of_day=version_of_day,
        list_active=list_active,
        measure=measure,
        start=start,
        days=days,
        evals=evals.astype(np.int32),
        dec_pub=dec_pub,
        month_ok=month_ok,
        month_of_day=months,
        fb=fb,
        chill_crit=chill_crit,
        chill_pos=chill_pos,
        rail_lists=rail_lists,
        employment=employment,
        retry_log=retry_log,
        default_cat=cats.index("judicial.judgment_default"),
        history=history,
        left_out=left_out,
    )


def _longer(a: Any, b: Any) -> bool:
    day = 17532  # 2018-01-01: compare two terms from one day
    return int(add_duration(np.array([day]), a)[0]) > int(add_duration(np.array([day]), b)[0])


def history_weights(
    tables: Tables, kind: str, category: int, klass: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Each subject's rate of ``category`` for its class (``BehaviourModel.weights``)."""
    j = tables.meta.col_position[category]
    if j < 0:
        return np.zeros(len(klass))
    base_rows = tables.meta.table[:, j].astype(np.float64)
    # the case requirement is ignored, as in the model: use the closed-case row
    return base_rows[klass - (klass % 2) * tables.case_step[KINDS.index(kind)]]


def draw_history(
    tables: Tables, kind_code: int, keys: NDArray[np.int64], w: NDArray[np.float64], mean_w: float, h: dict
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The history entry ``h``'s records among subjects ``keys`` with weights ``w``: who, day
    and source (the draws of ``ShardWorker.history_draw``, with the population's mean weight)."""
    key = rng.key(tables.scenario.seed, "history", h["entry"])
    p = h["share"] * w / mean_w if mean_w > 0 else np.zeros(len(w))
    chosen = np.flatnonzero((w > 0) & (rng.uniform(key, keys, 0) < p))
    lo, hi = h["window"]
    ks = keys[chosen]
    day = lo + np.floor(rng.uniform(key, ks, 1) * (hi - lo + 1)).astype(np.int64)
    srcs = tables.meta.cat_sources[h["category"]]
    src = srcs[np.minimum((rng.uniform(key, ks, 2) * len(srcs)).astype(int), len(srcs) - 1)]
    return chosen, day, src.astype(np.int64)
