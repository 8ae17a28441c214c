"""The streamed run's kernel for one shard, compiled with numba: each subject's whole run in
one go, event after event — work per event, nothing per day.

A subject's days without an event are skipped with one geometric draw: with a daily total rate
``R`` (the sum of its class's rates over every category and action),
``P(no event on a day) = exp(-R)``; on an event day the number of events is Poisson
conditioned on at least one, and each event picks its column in proportion to the class's
rates. When the subject's rates change (an enforcement case opened or closed, a job lost) the
next event day is drawn again from the next day — exact, because daily counts are independent.
Rates that vary in time (months, chilling) are drawn from an upper envelope and thinned.

On an event day, records come before attempts (the in-memory model's order: the day's records
are appended, evaluated on evaluation days, then attempts are decided). A record of a record
category is seen by a source with the coverage of its channel in the subject's region, applies
its effects and steps the subject's list state machines (the engine's, see
:mod:`socialcredit.engine.lists`). A subject's *published* list state — what the last
evaluation day said — is kept per evaluation day as bits (``pub``), from which attempts are
decided, the subject's own and, along ``legal_representative_of``, those of the organisations it
represents (organisations run first).

Feedback, per subject: deterrence per (person, category) and on a listing; avoidance per
(person, action); the spiral (job loss on a listing or an employment refusal, more for rail
commuters barred from the train; the jobless' arrears rates; a listed organisation's partner
defaulting the next day — partners are consecutive, and run in order); ties cut by friends on
a listing. Chilling reads the black-listed share of the subject's county at the last
evaluation, which needs every subject's listings first: events of the chilled columns are kept
as *candidates* (with their draws) and settled in a second pass over the shard.

Every draw is keyed by ``(seed, stream, subject)`` and the subject's own counter with the
counter-based generator of :mod:`socialcredit.society.fastrng`, so a subject lives the same life
in any shard: the results do not depend on the number of shards.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from socialcredit.society.fastrng import fold, uniform

NEVER = np.int32(2**31 - 1)

# columns of the per-day `totals` counters
T_EVENTS, T_RECORDS, T_NEW_LISTINGS, T_JOBS_LOST, T_TIES_CUT, T_DETERRED, T_AVOIDED, T_PARTNER = range(8)
N_TOTALS = 8
# feedback vector `fb` (tables.FB gives the names)
(
    F_DET,
    F_DET_FACTOR,
    F_DET_DAYS,
    F_SPIRAL,
    F_JOB_LOSS,
    F_DET_LISTING,
    F_PARTNER,
    F_AVO,
    F_AVO_FACTOR,
    F_AVO_DAYS,
    F_CHILL,
    F_ELASTICITY,
    F_REWARD,
    F_CHILL_CAP,
    F_COMMUTE_LOSS,
    F_RAIL_COMMUTE,
    F_OSTRACISM,
    F_OSTRACISM_SHARE,
) = range(18)


@nb.njit(inline="always", cache=True)
def _add(dur, r, day, base):
    """``add_duration(day, duration r)`` from the precomputed table (days clamped to it)."""
    return dur[r, min(max(day - base, 0), dur.shape[1] - 1)]


@nb.njit(inline="always", cache=True)
def _end_of(term, exit_end, delist_row, dur, base):
    """End of a listing: the fixed term plus the deletion delay, or the exit, whichever first."""
    e = term
    if term < NEVER and delist_row >= 0:
        e = _add(dur, delist_row, term, base)
    return min(e, exit_end)


@nb.njit(inline="always", cache=True)
def _within(until, days, day):
    """Whether a window opened ``days`` before ``until`` covers ``day``: a penalty on day ``d``
    deters days ``d + 1 .. d + days`` (the model's windows), not the rest of day ``d``."""
    return until - days < day <= until


@nb.njit(cache=True)
def _skip(u, inv_rate):
    """Days to the next day with an event, counted from tomorrow (0: tomorrow), for a subject
    with no event on a day with probability ``exp(-rate)`` (``inv_rate`` = 1 / rate, 0 for none)."""
    if inv_rate <= 0.0:
        return 1 << 30
    return int(min(math.floor(-math.log1p(-u) * inv_rate), 1 << 30))


@nb.njit(cache=True)
def _zt_poisson(u, lam):
    """A Poisson count conditioned on at least one, by inversion."""
    if lam < 1e-9:
        return 1
    e = math.exp(-lam)
    p = lam * e / (1.0 - e)
    c = p
    k = 1
    while u > c and k < 200:
        k += 1
        p *= lam / k
        c += p
    return k


@nb.njit(cache=True)
def alias_tables(rates):
    """Walker's alias tables (Vose's construction), one per row of ``rates``: a column is then
    drawn with one uniform and two lookups, whatever the number of columns."""
    n_rows, k = rates.shape
    prob = np.ones((n_rows, k))
    alias = np.zeros((n_rows, k), np.int16)
    small = np.zeros(k, np.int64)
    large = np.zeros(k, np.int64)
    for r in range(n_rows):
        total = rates[r].sum()
        for j in range(k):
            alias[r, j] = j
        if total <= 0.0:
            continue
        p = rates[r] * (k / total)
        ns = nl = 0
        for j in range(k):
            if p[j] < 1.0:
                small[ns] = j
                ns += 1
            else:
                large[nl] = j
                nl += 1
        while ns and nl:
            ns -= 1
            a = small[ns]
            b = large[nl - 1]
            prob[r, a] = p[a]
            alias[r, a] = b
            p[b] = (p[b] + p[a]) - 1.0
            if p[b] < 1.0:
                nl -= 1
                small[ns] = b
                ns += 1
        for i in range(nl):
            prob[r, large[i]] = 1.0
        for i in range(ns):
            prob[r, small[i]] = 1.0
    return prob, alias


@nb.njit(inline="always", cache=True)
def _bits(sl, day, state, rules, derived_from, base):
    """The lists slot ``sl`` is on as the engine evaluates on ``day`` (one bit per list)."""
    s_open, s_start, s_term, s_exit = state
    delist, dur = rules[5], rules[10]
    nl = s_open.shape[1]
    b = 0
    for li in range(nl):
        if (
            s_open[sl, li]
            and s_start[sl, li] <= day
            and _end_of(s_term[sl, li], s_exit[sl, li], delist[li], dur, base) > day
        ):
            b |= 1 << li
    for li in range(nl):  # `on_list` entries: on this list while on that one
        src = derived_from[li]
        if src >= 0 and (b >> src) & 1:
            b |= 1 << li
    return b


@nb.njit(inline="always", cache=True)
def _record(s, sl, d, c, src, kind, of_age, state, rules, base, stock_delta):
    """Step subject ``s``'s list state machines (slot ``sl``) over one record — the engine's
    ``lists._run`` for one event. Returns the list of a black listing it opens, or -1.
    ``state``: the slots' (open, start, term, exit) arrays; ``rules``: the lists' arrays (see
    :func:`run_shard`)."""
    s_open, s_start, s_term, s_exit = state
    ent_dur, ent_src_ok, ext_min, ext_total, exit_cat, delist, min_dur, under_age, black, list_kind, dur = (
        rules
    )
    nl = ent_dur.shape[0]
    new_black = -1
    kd = kind[s]
    span = stock_delta.shape[2] - 1
    for li in range(nl):
        if not list_kind[li, kd]:
            continue
        is_entry = ent_dur[li, c] != -2 and ent_src_ok[li, c, src]
        if is_entry and under_age[li] > 0 and kd == 0 and of_age[s] > d:  # exempt: under age that day
            is_entry = False
        is_ext = ext_min[li, c] >= 0
        is_exit = exit_cat[li, c]
        if not (is_entry or is_ext or is_exit):
            continue
        o = s_open[sl, li]
        old_start = s_start[sl, li]
        old_end = _end_of(s_term[sl, li], s_exit[sl, li], delist[li], dur, base) if o else NEVER
        if o and old_end <= d:  # a listing whose end has come closes before this record
            o = False
            s_open[sl, li] = False
        was_open = o
        ext = o and is_ext and s_term[sl, li] < NEVER and s_exit[sl, li] >= NEVER
        if ext:
            longer = _add(dur, ext_min[li, c], s_term[sl, li], base)
            if ext_total[li, c] >= 0:
                longer = min(longer, _add(dur, ext_total[li, c], s_start[sl, li], base))
            s_term[sl, li] = max(s_term[sl, li], longer)
        ent = is_entry and not ext
        if ent:
            term = NEVER if ent_dur[li, c] < 0 else _add(dur, ent_dur[li, c], d, base)
            if not o:
                s_open[sl, li] = True
                s_start[sl, li] = d
                s_term[sl, li] = term
                s_exit[sl, li] = NEVER
                if black[li]:
                    new_black = li
            else:
                s_term[sl, li] = max(s_term[sl, li], term)
                s_exit[sl, li] = NEVER
        if is_exit and s_open[sl, li] and not is_entry:
            when = d if delist[li] < 0 else _add(dur, delist[li], d, base)
            if min_dur[li] >= 0:
                when = max(when, _add(dur, min_dur[li], s_start[sl, li], base))
            s_exit[sl, li] = min(s_exit[sl, li], when)
        # the list's stock by day: move this listing's interval (it never changes a past day)
        if kd <= 1:
            now_open = s_open[sl, li]
            new_end = _end_of(s_term[sl, li], s_exit[sl, li], delist[li], dur, base) if now_open else NEVER
            if was_open and (not now_open or old_start != s_start[sl, li] or old_end != new_end):
                stock_delta[li, kd, min(old_start - base, span)] -= 1
                stock_delta[li, kd, min(old_end - base, span) if old_end < NEVER else span] += 1
            if now_open and (not was_open or old_start != s_start[sl, li] or old_end != new_end):
                stock_delta[li, kd, min(s_start[sl, li] - base, span)] += 1
                stock_delta[li, kd, min(new_end - base, span) if new_end < NEVER else span] -= 1
    return new_black


@nb.njit(inline="always", cache=True)
def _hull(sl, state, rules, base):
    """The first start and last end of slot ``sl``'s black listings (chilling counts a person
    once while on any black list)."""
    s_open, s_start, s_term, s_exit = state
    black, delist, dur = rules[8], rules[5], rules[10]
    lo, hi = NEVER, np.int32(0)
    for li in range(s_open.shape[1]):
        if black[li] and s_open[sl, li]:
            lo = min(lo, s_start[sl, li])
            hi = max(hi, _end_of(s_term[sl, li], s_exit[sl, li], delist[li], dur, base))
    return lo, hi


@nb.njit(cache=True)
def run_shard(
    # subjects, in run order (organisations first: persons read the organisations they represent)
    gkey,
    kind,
    klass,
    region,
    county,
    of_age,
    commute,
    employed,
    degree,
    partner,
    rep_ptr,
    rep_org,
    # rates
    tot,
    inv_tot,
    p_one,
    prob,
    alias,
    col_cat,
    col_act,
    col_mult,
    jobless_rows,
    case_step,
    # categories and sources
    n_src,
    src_table,
    src_channel,
    coverage,
    effect,
    deterred,
    # lists
    ent_dur,
    ent_src_ok,
    ext_min,
    ext_total,
    exit_cat,
    delist,
    min_dur,
    under_age,
    derived_from,
    propagate,
    black,
    list_kind,
    dur,
    base,
    # calendar, versions and measures
    version_of_day,
    list_active,
    measure,
    dec_pub,
    evals,
    month_ok,
    month_of_day,
    # feedback
    fb,
    chill_crit,
    chill_pos,
    rail_lists,
    employment,
    retry_log,
    default_cat,
    # history records, grouped by subject (CSR over local positions) and sorted by day
    h_ptr,
    h_day,
    h_cat,
    h_src,
    # run
    seed_keys,
    start,
    n_days,
    n_counties,
    slot_cap,
    cand_cap,
    records_out,
    rec_cap,
):
    """Run one shard (see the module docstring); returns the counters (and records)."""
    n = len(gkey)
    n_cat = src_table.shape[0]
    n_act = measure.shape[2]
    nl = ent_dur.shape[0]
    ncol = prob.shape[1]
    n_ev = len(evals)
    det_days = np.int32(fb[F_DET_DAYS])
    avo_days = np.int32(fb[F_AVO_DAYS])
    list_cat = np.zeros(n_cat, np.bool_)  # categories that can open a listing
    for li in range(nl):
        for c in range(n_cat):
            if ent_dur[li, c] != -2:
                list_cat[c] = True
    k_event, k_fb, k_retry = seed_keys[0], seed_keys[1], seed_keys[2]
    rec_day = np.zeros((n_days, n_cat), np.int64)
    att_day = np.zeros((n_days, n_act, 4), np.int64)
    retry_day = np.zeros((n_days, n_act), np.int64)
    new_list_day = np.zeros((n_days, nl, 2), np.int64)
    totals = np.zeros((n_days, N_TOTALS), np.int64)
    span = dur.shape[1]
    stock_delta = np.zeros((nl, 2, span + 1), np.int64)
    black_delta = np.zeros((n_counties, span + 1), np.int64)
    persons_in = np.zeros(n_counties, np.int64)
    slot = np.full(n, -1, np.int32)
    cap = slot_cap
    s_open = np.zeros((cap, nl), np.bool_)
    s_start = np.zeros((cap, nl), np.int32)
    s_term = np.zeros((cap, nl), np.int32)
    s_exit = np.full((cap, nl), NEVER, np.int32)
    pub = np.zeros((cap, n_ev), np.uint16)
    final = np.zeros(cap, np.uint16)
    first = np.zeros(cap, np.uint16)
    hull_lo = np.full(cap, NEVER, np.int32)
    hull_hi = np.full(cap, NEVER, np.int32)
    state = (s_open, s_start, s_term, s_exit)  # bundled once, never rebound
    rules = (
        ent_dur,
        ent_src_ok,
        ext_min,
        ext_total,
        exit_cat,
        delist,
        min_dur,
        under_age,
        black,
        list_kind,
        dur,
    )
    hull = (hull_lo, hull_hi)
    n_slots = 0
    # a subject's own feedback state (reset per subject)
    det_until = np.zeros(n_cat, np.int32)
    avo_until = np.zeros(n_act, np.int32)
    # arrays are never rebound inside the loops: a rebound array costs numba a reference count
    # update (an atomic instruction) on every iteration
    day_att = np.zeros(256, np.int32)  # one event day has at most 200 events (_zt_poisson)
    day_ctr = np.zeros(256, np.int64)
    # chilling candidates: (subject, day index, which, county) and their draws
    c_cap = cand_cap
    cand_i = np.zeros((c_cap, 5), np.int64)
    cand_u = np.zeros((c_cap, 3), np.float64)
    n_cand = 0
    recs = np.zeros((rec_cap, 5), np.int64)
    atts = np.zeros((rec_cap, 4), np.int64)  # decided attempts: subject, day, action, outcome
    n_atts = 0
    n_recs = 0
    inbox = np.zeros((2, 8), np.int32)  # partner defaults for the next organisation (day indices)
    cur_box = 0
    n_in = 0
    n_next_in = 0
    for s in range(n):
        if kind[s] == 0:
            persons_in[county[s]] += 1
    for s in range(n):
        kd = kind[s]
        g = gkey[s]
        ks = fold(k_event, g)
        kf = fold(k_fb, g)
        ctr = np.uint64(0)
        row = np.int64(klass[s])
        jobless = False
        det_all = np.int32(0)
        touched_det = False
        touched_avo = False
        sl = slot[s]
        p_done = 0  # evaluations published for this subject so far
        mine_p = -1  # the latest of them, and the lists it says the subject is on
        mine_bits = 0
        # partner defaults flow to the next organisation in order
        cur_box = 1 - cur_box
        n_in, n_next_in = n_next_in, 0
        if kd != 1:
            n_in = 0
        # -------- history (before the start: no decisions, no feedback)
        for h in range(h_ptr[s], h_ptr[s + 1]):
            c = h_cat[h]
            if sl < 0 and list_cat[c]:
                if n_slots >= cap:
                    raise RuntimeError("list slots exhausted")
                sl = n_slots
                n_slots += 1
                slot[s] = sl
            if sl >= 0:
                _list_step(
                    s,
                    sl,
                    h_day[h],
                    c,
                    h_src[h],
                    kind,
                    of_age,
                    state,
                    rules,
                    base,
                    stock_delta,
                    county,
                    black_delta,
                    hull,
                )
            row = _case(row, effect[c], case_step[kd])
        # -------- the run
        u = uniform(ks, ctr)
        ctr += np.uint64(1)
        nd = _skip(u, inv_tot[row])
        ii = 0
        while True:
            din = inbox[cur_box, ii] if ii < n_in else n_days
            di = min(nd, din)
            if di >= n_days:
                break
            # publish the evaluations before today (their records are all in): every one for an
            # organisation (representatives read them), the latest for everyone else
            if sl >= 0 and p_done < n_ev and evals[p_done] < di:
                if p_done == 0:  # the standing on the first evaluation day (reported)
                    first[sl] = _bits(sl, start + evals[0], state, rules, derived_from, base)
                if kd == 1:
                    while p_done < n_ev and evals[p_done] < di:
                        pub[sl, p_done] = _bits(sl, start + evals[p_done], state, rules, derived_from, base)
                        p_done += 1
                    mine_p = p_done - 1
                    mine_bits = pub[sl, mine_p]
                else:
                    while p_done < n_ev and evals[p_done] < di:
                        p_done += 1
                    mine_p = p_done - 1
                    mine_bits = _bits(sl, start + evals[mine_p], state, rules, derived_from, base)
            day = start + di
            month = month_of_day[di]
            n_att = 0
            rates_changed = False
            k = 0
            if di == nd:
                uk = uniform(ks, ctr)
                k = 1 if uk < p_one[row] else _zt_poisson(uk, tot[row])
                ctr += np.uint64(1)
            n_partner = 0  # partners' defaults landing today (spiral): recorded like the others
            while ii + n_partner < n_in and inbox[cur_box, ii + n_partner] == di:
                n_partner += 1
            ii += n_partner
            for e_i in range(k + n_partner):
                if e_i >= k:  # a partner's default: the category's first source
                    c = default_cat
                    src = src_table[c, 0]
                    totals[di, T_PARTNER] += 1
                    rec_day[di, c] += 1
                    totals[di, T_RECORDS] += 1
                    # (falls through to the shared part below)
                else:
                    x = uniform(ks, ctr) * ncol
                    ctr += np.uint64(1)
                    col = int(x)
                    if x - col >= prob[row, col]:
                        col = alias[row, col]
                    if not month_ok[col, month]:
                        continue
                    a = col_act[col]
                    if a >= 0:
                        day_att[n_att] = a
                        day_ctr[n_att] = ctr
                        ctr += np.uint64(1)
                        n_att += 1
                        continue
                    c = col_cat[col]
                    totals[di, T_EVENTS] += 1
                    cc4 = ctr
                    ctr += np.uint64(4)
                    u_src = uniform(ks, cc4 + np.uint64(1))
                    u_cov = uniform(ks, cc4 + np.uint64(2))
                    if fb[F_CHILL] > 0 and (col in (chill_crit, chill_pos)):
                        u_det = uniform(ks, cc4)
                        u_chl = uniform(ks, cc4 + np.uint64(3))
                        if n_cand == c_cap:
                            raise RuntimeError("chilling candidates exhausted")
                        cand_i[n_cand, 0] = s
                        cand_i[n_cand, 1] = di
                        cand_i[n_cand, 2] = col
                        cand_i[n_cand, 4] = det_all  # a listing's deterrence, known by now
                        cand_u[n_cand, 0] = u_det
                        cand_u[n_cand, 1] = u_src
                        cand_u[n_cand, 2] = u_cov
                        # the chilling draw rides in the candidate's index column of `recs`
                        cand_i[n_cand, 3] = county[s] + (int(u_chl * 2**31) << 32)
                        n_cand += 1
                        continue
                    ns = n_src[c]
                    src = src_table[c, min(int(u_src * ns), ns - 1)]
                    if u_cov >= coverage[region[s], src_channel[src]]:
                        continue
                    # deterrence thins the recorded events of a penalised (person, category)
                    deter = (
                        kd == 0
                        and fb[F_DET] > 0
                        and deterred[c]
                        and (_within(det_until[c], det_days, day) or _within(det_all, det_days, day))
                    )
                    if deter and uniform(ks, cc4) >= fb[F_DET_FACTOR]:
                        totals[di, T_DETERRED] += 1
                        continue
                    rec_day[di, c] += 1
                    totals[di, T_RECORDS] += 1
                if records_out and n_recs < rec_cap:
                    recs[n_recs, 0] = s
                    recs[n_recs, 1] = day
                    recs[n_recs, 2] = c
                    recs[n_recs, 3] = src
                    recs[n_recs, 4] = -1
                    n_recs += 1
                if kd == 0 and fb[F_DET] > 0 and deterred[c]:
                    det_until[c] = day + np.int32(fb[F_DET_DAYS])
                    touched_det = True
                if sl < 0 and list_cat[c]:
                    if n_slots >= cap:
                        raise RuntimeError("list slots exhausted")
                    sl = n_slots
                    n_slots += 1
                    slot[s] = sl
                if sl >= 0:
                    newl = _list_step(
                        s,
                        sl,
                        day,
                        c,
                        src,
                        kind,
                        of_age,
                        state,
                        rules,
                        base,
                        stock_delta,
                        county,
                        black_delta,
                        hull,
                    )
                    if newl >= 0:
                        new_list_day[di, newl, min(int(kd), 1)] += 1
                        totals[di, T_NEW_LISTINGS] += 1
                        fu = uniform(kf, np.uint64(1 << 40) + ctr)
                        ctr += np.uint64(1)
                        if kd == 0:
                            if fb[F_DET] > 0 and fb[F_DET_LISTING] > 0:
                                det_all = day + np.int32(fb[F_DET_DAYS])
                            if fb[F_SPIRAL] > 0 and employed[s] and not jobless:
                                p = fb[F_JOB_LOSS]
                                if commute[s] == fb[F_RAIL_COMMUTE] and rail_lists[newl]:
                                    p = 1.0 - (1.0 - p) * (1.0 - fb[F_COMMUTE_LOSS])
                                if fu < p:
                                    jobless = True
                                    rates_changed = True
                                    totals[di, T_JOBS_LOST] += 1
                            if fb[F_OSTRACISM] > 0:
                                cut = 0
                                for t in range(degree[s]):
                                    if uniform(kf, ctr + np.uint64(t)) < fb[F_OSTRACISM_SHARE]:
                                        cut += 1
                                ctr += np.uint64(degree[s])
                                totals[di, T_TIES_CUT] += cut
                        elif (
                            kd == 1
                            and fb[F_PARTNER] > 0
                            and partner[s] >= 0
                            and fu < fb[F_PARTNER]
                            and di + 1 < n_days
                            and n_next_in < inbox.shape[1]
                        ):
                            inbox[1 - cur_box, n_next_in] = di + 1
                            n_next_in += 1
                new_row = _case(row, effect[c], case_step[kd])
                if new_row != row:
                    row = new_row
                    rates_changed = True
            # today's evaluation, when today is an evaluation day
            if sl >= 0 and p_done < n_ev and evals[p_done] == di:
                b = _bits(sl, start + evals[p_done], state, rules, derived_from, base)
                if kd == 1:
                    pub[sl, p_done] = b
                if p_done == 0:
                    first[sl] = b
                mine_p = p_done
                mine_bits = b
                p_done += 1
            # -------- attempts, on the published state
            if n_att:
                v = version_of_day[di]
                p = dec_pub[di]
                mine = np.uint32(mine_bits) if sl >= 0 and mine_p == p else np.uint32(0)
                via = np.uint32(0)
                if kd == 0:
                    for j in range(rep_ptr[s], rep_ptr[s + 1]):
                        so = slot[rep_org[j]]
                        if so >= 0:
                            via |= np.uint32(pub[so, p])
                for i in range(n_att):
                    a = day_att[i]
                    cc = np.uint64(day_ctr[i])
                    learned = kd == 0 and fb[F_AVO] > 0 and _within(avo_until[a], avo_days, day)
                    if learned and uniform(kf, cc) >= fb[F_AVO_FACTOR]:
                        totals[di, T_AVOIDED] += 1
                        continue
                    out = 0
                    for li in range(nl if (mine | via) else 0):
                        m = measure[v, li, a]
                        if m == 0 or not list_active[v, li]:
                            continue
                        if (mine >> li) & 1 or (propagate[li] and (via >> li) & 1):
                            out = max(out, int(m))
                    att_day[di, a, out] += 1
                    if records_out and n_atts < rec_cap:
                        atts[n_atts, 0] = s
                        atts[n_atts, 1] = day
                        atts[n_atts, 2] = a
                        atts[n_atts, 3] = out
                        n_atts += 1
                    if out == 3:
                        if retry_log[a] < 0.0:
                            ur = uniform(fold(k_retry, g), cc)
                            retry_day[di, a] += math.floor(math.log1p(-ur) / retry_log[a])
                        if kd == 0 and fb[F_AVO] > 0:
                            avo_until[a] = day + np.int32(fb[F_AVO_DAYS])
                            touched_avo = True
                        at_risk = (
                            kd == 0 and fb[F_SPIRAL] > 0 and employment[a] and employed[s] and not jobless
                        )
                        if at_risk and uniform(kf, cc + np.uint64(1 << 41)) < fb[F_JOB_LOSS]:
                            jobless = True
                            rates_changed = True
                            totals[di, T_JOBS_LOST] += 1
            if jobless and row < jobless_rows:
                row += jobless_rows
            if di == nd or rates_changed:
                u = uniform(ks, ctr)
                ctr += np.uint64(1)
                nd = di + 1 + _skip(u, inv_tot[row])
        while sl >= 0 and kd == 1 and p_done < n_ev:
            pub[sl, p_done] = _bits(sl, start + evals[p_done], state, rules, derived_from, base)
            p_done += 1
        if sl >= 0 and p_done == 0:  # nothing happened since the first evaluation day
            first[sl] = _bits(sl, start + evals[0], state, rules, derived_from, base)
        if sl >= 0:  # the lists as the last evaluation day says (tests compare with the engine)
            final[sl] = _bits(sl, start + evals[n_ev - 1], state, rules, derived_from, base)
        if touched_det:
            det_until[:] = 0
        if touched_avo:
            avo_until[:] = 0
    # -------- chilling: settle the candidates on each county's share at the last evaluation
    cand_ok = np.zeros(n_cand, np.bool_)
    if n_cand:
        share = np.zeros((n_counties, n_ev))
        for cty in range(n_counties):
            acc = 0
            t = 0
            for p in range(n_ev):
                while t <= start + evals[p] - base:
                    acc += black_delta[cty, t]
                    t += 1
                share[cty, p] = min(acc / max(persons_in[cty], 1), fb[F_CHILL_CAP])
        # candidates are in subject order, and in time order within a subject
        cur = -1
        for i in range(n_cand):
            s = cand_i[i, 0]
            if s != cur:
                if cur >= 0:
                    det_until[:] = 0
                cur = s
            di = cand_i[i, 1]
            col = cand_i[i, 2]
            cty = cand_i[i, 3] & 0xFFFFFFFF
            u_chl = (cand_i[i, 3] >> 32) / 2**31
            day = start + di
            c = col_cat[col]
            sh = share[cty, dec_pub[di]]
            m = math.exp(-fb[F_ELASTICITY] * sh) if col == chill_crit else math.exp(fb[F_REWARD] * sh)
            if u_chl * col_mult[col] >= m:
                continue
            ns = n_src[c]
            src = src_table[c, min(int(cand_u[i, 1] * ns), ns - 1)]
            if cand_u[i, 2] >= coverage[region[s], src_channel[src]]:
                continue
            deter = (
                kind[s] == 0
                and fb[F_DET] > 0
                and deterred[c]
                and (_within(det_until[c], det_days, day) or _within(cand_i[i, 4], det_days, day))
            )
            if deter and cand_u[i, 0] >= fb[F_DET_FACTOR]:
                totals[di, T_DETERRED] += 1
                continue
            cand_ok[i] = True
            rec_day[di, c] += 1
            totals[di, T_RECORDS] += 1
            if kind[s] == 0 and fb[F_DET] > 0 and deterred[c]:
                det_until[c] = day + np.int32(fb[F_DET_DAYS])
            if records_out and n_recs < rec_cap:
                recs[n_recs, 0] = s
                recs[n_recs, 1] = day
                recs[n_recs, 2] = c
                recs[n_recs, 3] = src
                recs[n_recs, 4] = i
                n_recs += 1
        det_until[:] = 0
    return (
        rec_day,
        att_day,
        retry_day,
        new_list_day,
        totals,
        stock_delta,
        black_delta,
        recs[:n_recs],
        atts[:n_atts],
        n_slots,
        final[:n_slots],
        first[:n_slots],
        slot,
    )


@nb.njit(inline="always", cache=True)
def _move_hull(black_delta, cty, lo, hi, base, sl, hull_lo, hull_hi):
    """Count a person in their county's black-listed stock over ``[lo, hi)`` instead of the
    interval counted before (``hull_lo``/``hull_hi`` of slot ``sl``)."""
    span = black_delta.shape[1] - 1
    if hull_lo[sl] == lo and hull_hi[sl] == hi:
        return
    if hull_lo[sl] < NEVER:
        black_delta[cty, min(hull_lo[sl] - base, span)] -= 1
        black_delta[cty, min(hull_hi[sl] - base, span) if hull_hi[sl] < NEVER else span] += 1
    hull_lo[sl] = lo
    hull_hi[sl] = hi
    if lo < NEVER:
        black_delta[cty, min(lo - base, span)] += 1
        black_delta[cty, min(hi - base, span) if hi < NEVER else span] -= 1


@nb.njit(inline="always", cache=True)
def _list_step(s, sl, d, c, src, kind, of_age, state, rules, base, stock_delta, county, black_delta, hull):
    """One record through subject ``s``'s lists (:func:`_record`), and, for a person, their
    black-listed span in the county's count (chilling). Returns a new black listing's list or -1."""
    newl = _record(s, sl, d, c, src, kind, of_age, state, rules, base, stock_delta)
    if kind[s] == 0:
        lo, hi = _hull(sl, state, rules, base)
        _move_hull(black_delta, county[s], lo, hi, base, sl, hull[0], hull[1])
    return newl


@nb.njit(inline="always", cache=True)
def _case(row, e, has_case):
    """The rate row after a record's effect: open (1) or close (2) an enforcement case (the
    case factor is the class's last digit)."""
    if has_case and e == 1 and row % 2 == 0:
        return row + 1
    if has_case and e == 2 and row % 2 == 1:
        return row - 1
    return row
