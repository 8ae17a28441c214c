"""Explanations: every point, list and measure of one subject, read from what the evaluation
recorded while it computed (:class:`~socialcredit.engine.points.Trace`, the list reasons, the
``via`` links), never computed a second time.

Each rulebook's part also lists the ``fines`` imposed on the subject (record, rule, the version
that imposed it, yuan, citation) and, for a rulebook that has ended, the day it ended (``ended``:
none of its rules apply any more). ``held`` lists the informant reports about the subject that do
not count on the day (held for review, repeats, rejected; the reporter masked), when there are
any (:mod:`socialcredit.engine.reports`).

``Explanation.to_dict()`` is the ``--json`` form; ``Explanation.render()`` the text form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from socialcredit.engine.dates import add_duration, iso
from socialcredit.engine.decide import active_measures, measure_links
from socialcredit.engine.lists import GRADE, ON_LIST, PENDING_STATUS, RECORD, SCORE, VIA

if TYPE_CHECKING:
    from socialcredit.engine.evaluate import Evaluation, RulebookResult


def _cite(item: Any, sources: dict[str, Any] | None = None) -> dict[str, Any] | None:
    if item is None:
        return None
    src = getattr(item, "source", None)
    out: dict[str, Any] = {}
    if src:
        out["source"] = src
        if sources and src in sources:
            out["title"] = sources[src].title
    if getattr(item, "ref", None):
        out["ref"] = item.ref
    if getattr(item, "assumed", False):
        out["assumed"] = True
        out["reason"] = item.reason
    if getattr(item, "unverified", False):
        out["unverified"] = True
    return out or None


def _num(x: float) -> str:
    return f"{x:+g}" if x else "0"


@dataclass
class Explanation:
    """One subject's standing as of a day, with its reasons (see the module docstring)."""

    subject: str
    kind: str | None
    as_of: str
    rulebooks: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {"subject": self.subject, "kind": self.kind, "as_of": self.as_of, "rulebooks": self.rulebooks}
        if self.held:
            out["held"] = self.held
        return out

    def render(self) -> str:
        """Plain text, one fact per line."""
        out = [f"{self.subject} ({self.kind or 'unknown kind'}) as of {self.as_of}"]
        for rb in self.rulebooks:
            out.append(f"\n[{rb['rulebook']}, version {rb['version']}]")
            if rb.get("ended"):
                out.append(f"  ended {rb['ended']}: none of its rules apply any more")
            for s in rb["scores"]:
                out += _render_score(s)
            if not rb["scores"]:
                out.append("  score: none (this rulebook scores no such subject)")
            out.append("  lists:" + ("" if rb["lists"] else " none"))
            for lst in rb["lists"]:
                until = lst["until"] or "no end set"
                out.append(f"    {lst['list']} ({lst['label']}): since {lst['since'] or '?'}, until {until}")
                for r in lst["reasons"]:
                    out.append(f"      because {_reason_text(r)}")
            for p in rb.get("pending", []):
                when = (
                    f"takes effect {p['effective']}"
                    if p["effective"]
                    else "suspended by " + str(p["objection"])
                )
                out.append(
                    f"  proposed: {p['list']} by record {p['record']} of {p['proposed']} ({p['status']}; "
                    f"{when}; object by {p['deadline']})"
                )
            fines = rb.get("fines", [])
            if fines:
                out.append(f"  fines: {sum(f['yuan'] for f in fines):g} yuan")
                for f in fines:
                    cite = f["citation"] or {}
                    src = cite.get("source") or ("assumed" if cite.get("assumed") else "")
                    top = f"–{f['max_yuan']:g}" if f["max_yuan"] is not None else ""
                    out.append(
                        f"    {f['yuan']:g}{top} yuan  {f['record']} {f['date']} {f['category']}: "
                        f"rule {f['rule']} (version {f['version']}) [{src}]"
                    )
            out.append("  measures:" + ("" if rb["measures"] else " none"))
            for m in rb["measures"]:
                c = m["chain"]
                what = ", ".join(c["actions"])
                via = f" (via {m['via']['relation']} from {m['via']['from']})" if m["via"] else ""
                out.append(f"    {m['effect']} {what}: {m['measure']}{via}")
                out.append(
                    f"      {c['record'] or '-'} → "
                    f"{c['list'] or (('grade ' + c['grade']) if c['grade'] else _score_step(c))} → "
                    f"{c['memorandum'] or '-'} → {what}"
                )
        if self.held:
            out.append("\n[reports that do not count (the reporter masked)]")
            for h in self.held:
                out.append(
                    f"  {h['record']} {h['date']} {h['category']} ({h['source']}): {h['state']} — {h['why']}"
                )
        return "\n".join(out)


def _score_step(chain: dict[str, Any]) -> str:
    """The middle of a measure's chain on a score threshold: ``score ≥ 650``."""
    return "score " + chain["threshold"] if chain.get("threshold") else "-"


def _render_parts(parts: list[dict[str, Any]], expired: list[dict[str, Any]], indent: str) -> list[str]:
    out = []
    for p in parts:
        cite = p["citation"] or {}
        src = cite.get("source") or ("assumed" if cite.get("assumed") else "")
        exp = f", expires {p['expires']}" if p["expires"] else ""
        if p.get("network"):
            n = p["network"]
            what = (
                f"via {n['relation']}: {n['aggregate']} {n['term']:g} of "
                + (f"{n['category']} records" if n["category"] else f"list {n['list']}")
                + " of related subjects"
            )
        elif p["record"]:
            what = f"{p['record']} {p['date']} {p['category']}"
        else:
            what = f"on list {p['list']}"
        out.append(f"{indent}{_num(p['points']):>6}  {what}: rule {p['rule']} [{src}]{exp}")
    for p in expired:
        out.append(
            f"{indent}     0  {p['record']} {p['date']} {p['category']}: rule "
            f"{p['rule']} expired {p['expires']}"
        )
    return out


def _render_score(s: dict[str, Any]) -> list[str]:
    if s["score"] is None and s.get("kind") != "tiers":
        return [f"  {s['model']}: not scored ({s['why']})"]
    if s.get("kind") == "tiers":
        return [f"  {s['model']}: tier {s['grade'] or 'none'}: {s['grade_why']}"]
    if s.get("kind") == "factors":
        lo, hi = s["range"]
        out = [
            f"  {s['model']}: {s['score']:g} = {lo:g} + {hi - lo:g} × Σ weight × "
            f"sub-score / {s['factor_max']:g}"
        ]
        out.append(f"    grade {s['grade']}: {s['grade_why']}")
        for f in s["factors"]:
            out.append(
                f"    {f['factor']} (weight {f['weight']:g}): {f['sub_score']:g} = base "
                f"{f['base']:g}"
                + "".join(f" {_num(p['points'])}" for p in f["parts"])
                + (" (bounded)" if f["bounded"] else "")
            )
            out += _render_parts(f["parts"], f["expired"], "      ")
        return out
    out = [
        f"  {s['model']}: {s['score']:g} = base {s['base']:g}"
        + "".join(f" {_num(p['points'])}" for p in s["parts"])
        + (f" (bounded to {s['score']:g})" if s.get("bounded") else "")
    ]
    out.append(f"    grade {s['grade']}: {s['grade_why']}")
    out += _render_parts(s["parts"], s["expired"], "    ")
    return out


def _reason_text(r: dict[str, Any]) -> str:
    if r["kind"] == "record":
        return f"record {r['record']} ({r['category']}, {r['date']}): {r['entry']}"
    if r["kind"] == "on_list":
        return f"on list {r['list']}: {r['entry']}"
    if r["kind"] in ("score_below", "grade_in"):
        return f"{r['model']} {r['kind'].replace('_', ' ')}: {r['entry']}"
    return f"{r['relation']} of {r['from']}, who is on the list"


def _record(ev: Evaluation, pos: int) -> dict[str, Any]:
    recs = ev.records
    return {
        "record": recs.record_id(pos),
        "date": iso(int(recs.day[pos])),
        "category": recs.categories[int(recs.category[pos])],
    }


def _parts(
    ev: Evaluation, res: RulebookResult, trace: Any, code: int, mine: np.ndarray
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What fed one group's sum for ``code``: ``(parts, expired)``, read off the trace."""
    recs = ev.records
    sources = res.rulebook.sources
    plain: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    for pos in mine:
        cat = int(recs.category[pos])
        rule = trace.simple.get(cat)
        if rule is None or recs.void[pos]:
            continue
        pts = float(trace.table[cat, int(recs.day[pos]) - trace.dmin])
        row = {
            **_record(ev, int(pos)),
            "rule": rule.id,
            "label": rule.rule.label,
            "points": pts,
            "citation": _cite(rule.rule, sources),
            "list": None,
            "expires": iso(int(add_duration([int(recs.day[pos])], rule.expiry)[0])),
        }
        (plain if pts else expired).append(row)
    rows = np.flatnonzero(trace.subject == code)
    for i in rows:
        rule = res.cv.rules[int(trace.rule[i])]
        pos = int(trace.pos[i])
        base = _record(ev, pos) if pos >= 0 else {"record": None, "date": None, "category": None}
        row = {
            **base,
            "rule": rule.id,
            "label": rule.rule.label,
            "points": float(trace.points[i]),
            "citation": _cite(rule.rule, sources),
            "list": rule.on_list,
            "grade_cap": rule.cap_grade,
            "expires": iso(int(add_duration([int(recs.day[pos])], rule.expiry)[0])) if pos >= 0 else None,
        }
        if rule.via is not None:
            who, term = trace.terms[rule.index]
            k = int(np.searchsorted(who, code))
            row["network"] = {
                "relation": rule.via.relation,
                "to": rule.via.to,
                "aggregate": rule.via.aggregate,
                "term": float(term[k]) if k < len(who) and who[k] == code else 0.0,
                "category": rule.category,
                "list": rule.on_list,
            }
        plain.append(row)
    plain.sort(key=lambda p: (p["date"] or "", p["record"] or ""))
    return plain, expired


def _band_why(m: Any, ms: Any, code: int, plain: list[dict[str, Any]]) -> tuple[str, int]:
    score = float(ms.score[code])
    gi = int(ms.grade[code])
    band = next((i for i, mn in enumerate(m.mins) if score >= mn), -1)
    why = (
        (
            f"{score:g} ≥ {m.mins[band]:g}"
            if band >= 0 and np.isfinite(m.mins[band])
            else f"{score:g}, the lowest band"
        )
        if band >= 0
        else "below every band"
    )
    caps = [p for p in plain if p.get("grade_cap")]
    if int(ms.cap[code]) >= 0 and gi == int(ms.cap[code]) and gi != band:
        c = next(p for p in caps if p["grade_cap"] == m.grades[gi])
        why += (
            f" would give {m.grades[band]}; capped at {m.grades[gi]} by rule "
            f"{c['rule']} ({c['record']}, {c['date']})"
        )
    return why, band


def _tier_why(m: Any, gi: int) -> str:
    if gi < 0:
        return "no tier's conditions hold"
    w = m.model.tiers[gi].when
    if w is None:
        return "no earlier tier's conditions hold"
    parts = []
    span = f" within {w.within}" if w.within else ""
    if w.any_record is not None:
        parts.append(f"a record of {', '.join(w.any_record)}{span}")
    if w.no_record is not None:
        parts.append(f"no record of the {len(w.no_record)} listed categories{span}")
    if w.on_list is not None:
        parts.append(f"on list {', '.join(w.on_list)}")
    if w.not_on_list is not None:
        parts.append(f"not on list {', '.join(w.not_on_list)}")
    return "; ".join(parts) or "its conditions hold"


def _scores(ev: Evaluation, res: RulebookResult, code: int, mine: np.ndarray) -> list[dict[str, Any]]:
    out = []
    sources = res.rulebook.sources
    fed = [_parts(ev, res, trace, code, mine) for trace in res.traces]
    kind = int(ev.subjects.kind[code])
    by_id = {ms.model.id: ms for ms in res.models}
    for m in res.cv.models:
        ms = by_id[m.id]
        if kind not in m.kinds:
            continue
        if not ms.scored[code]:
            out.append(
                {
                    "model": m.id,
                    "score": None,
                    "grade": None,
                    "why": "outside the model's subjects, scope or consent",
                }
            )
            continue
        gi = int(ms.grade[code])
        grade = m.grades[gi] if gi >= 0 else None
        if m.kind == "tiers":
            out.append(
                {
                    "model": m.id,
                    "kind": "tiers",
                    "score": None,
                    "grade": grade,
                    "grade_why": _tier_why(m, gi),
                    "grade_citation": _cite(m.model.tiers[gi], sources) if gi >= 0 else None,
                }
            )
            continue
        score = float(ms.score[code])
        if m.kind == "factors":
            factors = []
            plain = []
            for k, (j, g) in enumerate(res.cv.factor_groups(m.id)):
                parts, expired = fed[j]
                plain += parts
                assert g.factor is not None and ms.sub is not None
                fid, weight = m.factors[k]
                factors.append(
                    {
                        "factor": fid,
                        "label": m.model.factors[k].label,
                        "weight": weight,
                        "base": m.factor_base,
                        "sub_score": float(ms.sub[k, code]),
                        "bounded": abs(
                            m.factor_base + sum(p["points"] for p in parts) - float(ms.sub[k, code])
                        )
                        > 1e-9,
                        "parts": parts,
                        "expired": expired,
                        "citation": _cite(m.model.factors[k], sources),
                    }
                )
            why, band = _band_why(m, ms, code, plain)
            out.append(
                {
                    "model": m.id,
                    "kind": "factors",
                    "score": score,
                    "range": [m.lo, m.hi],
                    "factor_max": m.factor_max,
                    "grade": grade,
                    "grade_why": why,
                    "factors": factors,
                    "grade_citation": _cite(m.model.grades[band], sources) if band >= 0 else None,
                }
            )
            continue
        gidx = next(j for j, g in enumerate(res.cv.groups) if m in g.models)
        plain, expired = fed[gidx]
        total = m.base + sum(p["points"] for p in plain)
        why, band = _band_why(m, ms, code, plain)
        out.append(
            {
                "model": m.id,
                "kind": "points",
                "score": score,
                "base": m.base,
                "grade": grade,
                "grade_why": why,
                "bounded": abs(total - score) > 1e-9,
                "parts": plain,
                "expired": expired,
                "grade_citation": _cite(m.model.grades[band], sources) if band >= 0 else None,
            }
        )
    return out


def _lists(ev: Evaluation, res: RulebookResult, code: int) -> list[dict[str, Any]]:
    out = []
    for lid, mem in res.members.items():
        i = int(np.searchsorted(mem.subjects, code))
        if i >= len(mem.subjects) or mem.subjects[i] != code:
            continue
        lst = mem.lst
        reasons = []
        rows = mem.reasons.rows(code)
        for j in range(rows.start, rows.stop):
            kind = int(mem.reasons.kind[j])
            a, b = int(mem.reasons.a[j]), int(mem.reasons.b[j])
            r: dict[str, Any] = {
                "kind": ("record", "on_list", "score_below", "grade_in", "via")[kind],
                "since": iso(int(mem.reasons.since[j])),
                "until": iso(int(mem.reasons.until[j])),
            }
            if kind in (RECORD, ON_LIST, SCORE, GRADE):
                entry = lst.lst.enter[b]
                r["entry"] = entry.label or entry.category or entry.on_list or ""
                r["citation"] = _cite(entry, res.rulebook.sources) or _cite(lst.lst, res.rulebook.sources)
            if kind == RECORD:
                r.update(_record(ev, a))
            elif kind == ON_LIST:
                r["list"] = lst.lst.enter[b].on_list
            elif kind in (SCORE, GRADE):
                r["model"] = res.models[a].model.id
            elif kind == VIA:
                r["relation"] = lst.propagate[b].relation
                r["from"] = ev.subjects.id(a)
                src = mem.direct.rows(a)
                if src.stop > src.start and mem.direct.kind[src.start] == RECORD:
                    r["from_record"] = _record(ev, int(mem.direct.a[src.start]))
            reasons.append(r)
        out.append(
            {
                "list": lid,
                "label": lst.lst.label,
                "kind": lst.lst.kind,
                "since": iso(int(mem.since[i])),
                "until": iso(int(mem.until[i])),
                "reasons": reasons,
            }
        )
    return out


def _origin(by_list: dict[str, dict[str, Any]], list_id: str, depth: int) -> str | None:
    """The record at the start of a listing's chain, following other lists and relations."""
    lst = by_list.get(list_id)
    if lst is None or depth > len(by_list):
        return None
    for r in lst["reasons"]:
        if r["kind"] == "record":
            return f"{r['record']} ({r['category']}, {r['date']})"
    for r in lst["reasons"]:
        if r["kind"] == "via" and "from_record" in r:
            fr = r["from_record"]
            return f"{fr['record']} ({fr['category']}, {fr['date']}) of {r['from']}"
        if r["kind"] == "on_list":
            inner = _origin(by_list, r["list"], depth + 1)
            if inner:
                return f"{inner} → {r['list']}"
    return None


def _measures(
    ev: Evaluation, ri: int, res: RulebookResult, code: int, lists: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    by_list = {lst["list"]: lst for lst in lists}
    for rj, m in active_measures(ev, code):
        if rj != ri:
            continue
        src = m.measure.source
        doc = res.rulebook.sources.get(src) if src else None
        memo = (
            (f"{doc.title}" + (f", {m.measure.ref}" if m.measure.ref else ""))
            if doc
            else (f"assumed: {m.measure.reason}" if m.measure.assumed else None)
        )
        for link in measure_links(ev, ri, m, code):
            record = None
            lst = by_list.get(link["list"]) if link["list"] else None
            if lst:
                record = _origin(by_list, lst["list"], 0)
            elif link["via"]:
                record = f"{link['list'] or 'standing'} of {link['via']['from']}"
            elif link.get("score"):
                record = link["score"].removesuffix(" " + link["threshold"])
            elif link["grade"]:
                scored = [
                    ms
                    for ms in res.models
                    if ms.scored[code] and ms.model.grade_index(link["grade"]) == int(ms.grade[code])
                ]
                if scored:
                    x = float(scored[0].score[code])
                    record = scored[0].model.id + (f" {x:g}" if not np.isnan(x) else " tier")
            out.append(
                {
                    "measure": m.id,
                    "label": m.measure.label,
                    "effect": m.effect,
                    "since": link["since"],
                    "until": link["until"],
                    "via": link["via"],
                    "citation": _cite(m.measure, res.rulebook.sources),
                    "chain": {
                        "record": record,
                        "list": link["list"],
                        "grade": link["grade"],
                        "score": link.get("score"),
                        "threshold": link.get("threshold"),
                        "memorandum": memo,
                        "actions": list(m.actions),
                    },
                }
            )
    return out


def explain(ev: Evaluation, code: int) -> Explanation:
    """The explanation of subject ``code`` (see the module docstring)."""
    from socialcredit.engine.evaluate import kind_name

    recs = ev.records
    mine = np.flatnonzero(recs.subject == code)
    mine = mine[recs.day[mine] <= ev.day]
    out = Explanation(ev.subjects.id(code), kind_name(int(ev.subjects.kind[code])), ev.as_of.isoformat())
    annulled = [_record(ev, int(p)) for p in mine if ev.bound.records.void[p]]
    out.held = [{k: v for k, v in h.items() if k != "subject"} for h in ev.held(out.subject)]
    for ri, res in enumerate(ev.results):
        lists = _lists(ev, res, code)
        out.rulebooks.append(
            {
                "rulebook": res.cv.rulebook,
                "version": res.cv.version.label,
                "scores": _scores(ev, res, code, mine),
                "lists": lists,
                "measures": _measures(ev, ri, res, code, lists),
                "fines": _fines(ev, res, code),
                "annulled": annulled,
            }
        )
        if res.cv.ended is not None:
            out.rulebooks[-1]["ended"] = res.cv.ended.isoformat()
        pending = _pending(ev, res, code)
        if pending:  # due process only (issue 13): listings proposed and not yet in force
            out.rulebooks[-1]["pending"] = pending
    return out


def _fines(ev: Evaluation, res: RulebookResult, code: int) -> list[dict[str, Any]]:
    """The fines imposed on ``code``: the record, the rule and the version in force on its day,
    the yuan (and the top of the source's range), the citation (the fine's, else the rule's)."""
    f = res.fines
    out = []
    for j in f.rows(code):
        label, rule = f.rules[int(f.rule[j])]
        fine = rule.rule.fine
        out.append(
            {
                **_record(ev, int(f.pos[j])),
                "rule": rule.id,
                "label": fine.label or rule.rule.label,
                "version": label,
                "yuan": float(f.yuan[j]),
                "max_yuan": fine.max_yuan,
                "citation": _cite(fine, res.rulebook.sources)
                if fine.cited
                else _cite(rule.rule, res.rulebook.sources),
            }
        )
    return out


def _pending(ev: Evaluation, res: RulebookResult, code: int) -> list[dict[str, Any]]:
    """The listings proposed for ``code`` and not in force (notice period, suspension)."""
    out = []
    ids = ev.records.ids
    for lid, p in res.pending.items():
        for j in np.flatnonzero(p.subject == code):
            k = int(p.objection[j])
            out.append(
                {
                    "list": lid,
                    "record": ids[int(p.record[j])].as_py() if ids is not None else None,
                    "proposed": iso(int(p.proposed[j])),
                    "effective": iso(int(p.effective[j])),
                    "deadline": iso(int(p.deadline[j])),
                    "status": PENDING_STATUS[int(p.status[j])],
                    "objection": ev.bound.objections.ids[k] if k >= 0 else None,
                }
            )
    return out
