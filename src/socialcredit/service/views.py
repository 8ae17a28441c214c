"""What the routers answer, built from an evaluation: files, decisions, lists, public hits.

Everything here reads what the engine already computed (its profiles, memberships and
explanations); nothing is evaluated a second time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialcredit import ids
from socialcredit.engine import Evaluation
from socialcredit.engine.errors import UnknownSubject
from socialcredit.errors import IdentifierError
from socialcredit.service.state import ServiceState

__all__ = [
    "MASKED",
    "decision",
    "explanation",
    "list_members",
    "list_summaries",
    "mask_reporters",
    "masked_query",
    "pending_notices",
    "public_search",
    "subject_file",
    "withhold_report_proofs",
]

#: Where a subject objects to a notice (the portal's page; ``POST /v1/objections`` in the API).
OBJECT_AT = "/my/objections"
#: What a subject sees in place of the reporter of a citizen report about them.
MASKED = "(masked)"


def mask_reporters(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records as their subject sees them: ``reported_by`` masked (issue #16, item 5)."""
    return [{**r, "reported_by": MASKED} if r.get("reported_by") else r for r in records]


def withhold_report_proofs(bundle: dict[str, Any]) -> dict[str, Any]:
    """A subject's proof file without the proofs of records that name a reporter: a proof
    carries the record's canonical line (its leaf), which cannot be masked without breaking the
    proof. Each is listed under ``withheld`` instead (issue #16, item 5)."""
    import json

    keep, withheld = [], []
    for p in bundle.get("proofs", []):
        named = False
        if p.get("tree") == "records":
            try:
                named = bool(json.loads(p.get("leaf") or "{}").get("reported_by"))
            except (ValueError, AttributeError):
                named = False
        if named:
            withheld.append(
                {
                    "tree": "records",
                    "record_id": p.get("record_id"),
                    "reason": "a citizen report: names its reporter",
                }
            )
        else:
            keep.append(p)
    if not withheld:
        return bundle
    return {**bundle, "proofs": keep, "withheld": withheld}


def explanation(state: ServiceState, ev: Evaluation, subject: str) -> dict[str, Any]:
    """The engine's explanation (``to_dict`` plus ``text``), memoised per evaluation."""

    def make() -> dict[str, Any]:
        ex = ev.explain(subject)
        return {**ex.to_dict(), "text": ex.render()}

    return state.memo(ev, ("explain", subject), make, limit=256)


def _scores(ev: Evaluation, code: int) -> list[dict[str, Any]]:
    out = []
    for r in ev.results:
        for ms in r.models:
            if not ms.scored[code]:
                continue
            g = int(ms.grade[code])
            out.append(
                {
                    "rulebook": r.cv.rulebook,
                    "model": ms.model.id,
                    "score": float(ms.score[code]),
                    "grade": ms.model.grades[g] if g >= 0 else None,
                }
            )
    return out


def subject_file(state: ServiceState, ev: Evaluation, entry: dict[str, Any]) -> dict[str, Any]:
    """A subject's file: registry entry, scores, lists, measures, outcomes, disclosure."""
    sid = entry["id"]
    code = ev.code(sid)
    ex = explanation(state, ev, sid)
    lists, measures = [], []
    for rb in ex["rulebooks"]:
        for lst in rb["lists"]:
            lists.append(
                {
                    "rulebook": rb["rulebook"],
                    **{k: lst[k] for k in ("list", "label", "kind", "since", "until")},
                }
            )
        for m in rb["measures"]:
            measures.append(
                {
                    "rulebook": rb["rulebook"],
                    "measure": m["measure"],
                    "label": m["label"],
                    "effect": m["effect"],
                    "actions": m["chain"]["actions"],
                    "since": m["since"],
                    "until": m["until"],
                    "via": m["via"],
                }
            )
    return {
        "id": sid,
        "kind": entry.get("kind"),
        "name": entry.get("name"),
        "region": entry.get("region"),
        "profession": entry.get("profession"),
        "nationality": entry.get("nationality"),
        "as_of": ev.as_of.isoformat(),
        "scores": _scores(ev, code),
        "lists": lists,
        "measures": measures,
        "outcomes": ev.outcomes(sid),
        "disclosed": ev.disclosed(sid),
        "held": [{k: v for k, v in h.items() if k != "subject"} for h in ev.held(sid)],
    }


def pending_notices(state: ServiceState, ev: Evaluation, subject: str) -> list[dict[str, Any]]:
    """The subject's notices of listings proposed under due process and not yet in force on the
    evaluation's day (:func:`socialcredit.dueprocess.notices.notices`): list, record, rule, the
    day it would take effect, the last day to object and where to object. The file itself stays
    the original system's (no due process).

    The due-process evaluation reuses ``ev``'s bound records and registry
    (:meth:`~socialcredit.engine.Bound.with_dueprocess`: nothing is read or bound again) with
    :class:`~socialcredit.dueprocess.DueProcess` defaults and the ledger's objections, memoised
    per evaluation and actions-chain head."""
    from socialcredit.dueprocess import DueProcess
    from socialcredit.dueprocess.notices import notices
    from socialcredit.dueprocess.objections import due_process

    head = state.ledger.heads().get("actions") or {}

    def make() -> Evaluation:
        return ev.bound.with_dueprocess(due_process(state.ledger, DueProcess())).evaluate(ev.day)

    dev = state.memo(ev, ("dueprocess", head.get("count"), head.get("head")), make, limit=256)
    try:
        found = notices(dev, subject)
    except UnknownSubject:
        return []
    keep = ("id", "rulebook", "list", "list_label", "record", "category", "rule", "issued", "takes_effect")
    return [
        {
            **{k: n[k] for k in keep},
            **{k: n[k] for k in ("object_by", "status", "objection", "objection_suspends", "how_to_object")},
            "object_at": OBJECT_AT,
        }
        for n in found
        if n["status"] != "in_force"
    ]


def decision(state: ServiceState, ev: Evaluation, subject: str, action: str) -> dict[str, Any]:
    """``check --json``: outcome and reasons (an ``allowed`` outcome has no measure to cite)."""
    d = ev.decide(subject, action)
    if d.outcome == "allowed":
        reasons: list[dict[str, Any]] = []
    else:
        reasons = state.memo(ev, ("reasons", subject, action), lambda: d.reasons)
    return {"subject": d.subject, "action": d.action, "on": d.on, "outcome": d.outcome, "reasons": reasons}


def list_summaries(ev: Evaluation) -> list[dict[str, Any]]:
    """Every list of every rulebook, with its size on the evaluation date."""
    out = []
    for r in ev.results:
        for lid, m in r.members.items():
            d = m.lst.lst
            out.append(
                {
                    "rulebook": r.cv.rulebook,
                    "id": lid,
                    "label": d.label,
                    "kind": d.kind,
                    "size": len(m.subjects),
                    "authority": d.authority,
                    "description": d.description,
                }
            )
    return out


def list_members(
    state: ServiceState, ev: Evaluation, rulebook: str, list_id: str, *, offset: int, limit: int
) -> list[dict[str, Any]]:
    """One page of a list's members, with names and kinds from the registry."""
    mem = ev.memberships
    mask = pc.and_(pc.equal(mem["rulebook"], rulebook), pc.equal(mem["list"], list_id))
    page = mem.filter(mask).slice(offset, limit)
    subjects = state.registry(ev).subjects
    at = pc.index_in(page["subject"], value_set=subjects["id"])
    names = pc.take(subjects["name"], at).to_pylist()
    kinds = pc.take(subjects["kind"], at).to_pylist()
    rows = page.to_pylist()
    return [
        {
            "subject": r["subject"],
            "name": n,
            "kind": k,
            "since": r["since"].isoformat() if r["since"] else None,
            "until": r["until"].isoformat() if r["until"] else None,
            "via": r["via"],
        }
        for r, n, k in zip(rows, names, kinds, strict=True)
    ]


def masked_query(q: str) -> str:
    """A search query as it may be shown: masked when it is an identifier."""
    try:
        ids.validate_identifier(q.strip())
    except IdentifierError:
        return q
    return ids.mask_identifier(q)


def _candidates(subjects: pa.Table, q: str) -> pa.Array:
    """Subject ids matching ``q``: an identifier exactly (resident number, credit code, plate,
    dog licence, in any spelling), else a name containing ``q`` (case-insensitive)."""
    text = q.strip()
    try:
        norm = ids.validate_identifier(text)[1]
    except IdentifierError:
        norm = None
    if norm is not None:
        return subjects["id"].filter(pc.equal(subjects["id"], norm)).combine_chunks()
    hit = pc.match_substring(subjects["name"], text, ignore_case=True)
    return subjects["id"].filter(pc.fill_null(hit, False)).combine_chunks()


def public_search(state: ServiceState, ev: Evaluation, q: str, limit: int) -> list[dict[str, Any]]:
    """Subjects matching ``q`` that a disclosure measure publishes, and only what it publishes."""
    subjects = state.registry(ev).subjects
    found = _candidates(subjects, q)
    if not len(found):
        return []
    codes = ev.subjects.codes(found)
    known = codes >= 0
    prof = ev.profiles
    shown = np.zeros(len(codes), bool)
    if prof.disclosed.shape[1]:
        shown[known] = prof.disclosed[prof.profile[codes[known]]].any(axis=1)
    picked = found.filter(pa.array(shown))[:limit].to_pylist()
    if not picked:
        return []
    at = pc.index_in(pa.array(picked, pa.string()), value_set=subjects["id"])
    rows = subjects.take(at).to_pylist()
    return [_hit(state, ev, row) for row in rows]


def _hit(state: ServiceState, ev: Evaluation, row: dict[str, Any]) -> dict[str, Any]:
    ex = explanation(state, ev, row["id"])
    published = []
    for rb in ex["rulebooks"]:
        lists = {lst["list"]: lst for lst in rb["lists"]}
        for m in rb["measures"]:
            if m["effect"] != "disclose":
                continue
            lid = m["chain"]["list"]
            lst = lists.get(lid) or {}
            via = m["via"]
            for channel in m["chain"]["actions"]:
                published.append(
                    {
                        "rulebook": rb["rulebook"],
                        "list": lid,
                        "list_label": lst.get("label"),
                        "list_kind": lst.get("kind"),
                        "measure": m["label"],
                        "channel": channel,
                        "since": m["since"],
                        "until": m["until"],
                        "via": {"relation": via["relation"], "from": ids.mask_identifier(via["from"])}
                        if via
                        else None,
                    }
                )
    return {
        "id_masked": ids.mask_identifier(row["id"]),
        "kind": row["kind"],
        "name": row["name"],
        "region": row.get("region"),
        "published": published,
    }
