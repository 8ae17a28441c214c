"""What the portal's pages show, as plain JSON-safe dictionaries (each page's ``.json`` twin).

Everything a public page shows goes through here, and every identifier on a public page is
masked (first 4 and last 4 characters shown) with :func:`socialcredit.ids.mask_identifier`;
the one exception is the roadside scoreboard, whose channel publishes the plate itself. Entity
pages are addressed by an opaque key (a keyed hash of the id), never by the id.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from socialcredit import ids
from socialcredit.engine import Evaluation
from socialcredit.engine.errors import UnknownAction, UnknownSubject
from socialcredit.errors import IdentifierError
from socialcredit.service import views
from socialcredit.service.state import ServiceState
from socialcredit.vocabulary import vocabulary

__all__ = ["PortalData"]

SCOREBOARD = "disclose.roadside_scoreboard"
STORY_CHANNELS = ("disclose.integrity_story", "disclose.model_poster")
#: The actions offered first at the ticket counter.
COUNTER_FIRST = ("travel.high_speed_rail", "travel.flight", "travel.train", "travel.soft_sleeper")


class PortalData:
    """Builds each page's data from the service state's current evaluation."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(16)
        self._keys: dict[str, str] = {}

    # -- opaque entity keys ------------------------------------------------------------------
    def key(self, sid: str) -> str:
        """The entity page key of ``sid``: stable for the life of the process, reveals nothing."""
        k = hashlib.blake2b(sid.encode(), key=self._secret, digest_size=8).hexdigest()
        if len(self._keys) > 200_000:
            self._keys.clear()
        self._keys[k] = sid
        return k

    def resolve(self, state: ServiceState, ev: Evaluation, key: str) -> str | None:
        sid = self._keys.get(key)
        if sid is not None:
            return sid
        for candidate in state.registry(ev).subjects["id"].to_pylist():
            if self.key(candidate) == key:
                return candidate
        return None

    # -- search and entity ---------------------------------------------------------------------
    def search(self, state: ServiceState, ev: Evaluation, q: str) -> dict[str, Any]:
        q = q.strip()
        try:
            shown = ids.mask_identifier(ids.validate_identifier(q)[1])
        except IdentifierError:
            shown = q
        if len(q) < 2:
            return {"q": shown, "as_of": ev.as_of.isoformat(), "results": []}
        hits = self._search_ids(state, ev, q, state.settings.search_limit)
        return {
            "q": shown,
            "as_of": ev.as_of.isoformat(),
            "results": [self.entity(state, ev, sid) for sid in hits],
        }

    def _search_ids(self, state: ServiceState, ev: Evaluation, q: str, limit: int) -> list[str]:
        subjects = state.registry(ev).subjects
        found = views._candidates(subjects, q).to_pylist()
        out = []
        for sid in found:
            if ev.subjects.code(sid) is not None and ev.disclosed(sid):
                out.append(sid)
                if len(out) >= limit:
                    break
        return out

    def entity(self, state: ServiceState, ev: Evaluation, sid: str) -> dict[str, Any]:
        """What the disclosure measures publish about ``sid``: good information (red lists),
        warning information (black lists), and the decisions behind each published listing."""
        entry = _registry_row(state, ev, sid)
        ex = views.explanation(state, ev, sid)
        good, warning, decisions = [], [], []
        seen_lists: set[tuple[str, str]] = set()
        for rb in ex["rulebooks"]:
            lists = {lst["list"]: lst for lst in rb["lists"]}
            for m in rb["measures"]:
                if m["effect"] != "disclose":
                    continue
                lid = m["chain"].get("list")
                lst = lists.get(lid) or {}
                via = m.get("via")
                item = {
                    "rulebook": rb["rulebook"],
                    "list": lid,
                    "list_label": lst.get("label"),
                    "list_kind": lst.get("kind"),
                    "measure": m["label"],
                    "channels": list(m["chain"]["actions"]),
                    "since": m["since"],
                    "until": m["until"],
                    "via": {"relation": via["relation"], "from": ids.mask_identifier(via["from"])}
                    if via
                    else None,
                }
                (good if lst.get("kind") == "red" else warning).append(item)
                if (rb["rulebook"], lid) in seen_lists:
                    continue
                seen_lists.add((rb["rulebook"], lid))
                for reason in lst.get("reasons", []):
                    if reason.get("kind") != "record":
                        continue
                    cite = reason.get("citation") or {}
                    decisions.append(
                        {
                            "date": reason.get("date"),
                            "category": reason.get("category"),
                            "decision": reason.get("entry"),
                            "list_label": lst.get("label"),
                            "list_kind": lst.get("kind"),
                            "basis": " ".join(str(cite.get(k)) for k in ("title", "ref") if cite.get(k)),
                        }
                    )
        return {
            "key": self.key(sid),
            "id_masked": ids.mask_identifier(sid),
            "kind": entry.get("kind"),
            "name": entry.get("name"),
            "region": entry.get("region"),
            "as_of": ev.as_of.isoformat(),
            "good": good,
            "warning": warning,
            "decisions": decisions,
            "channels": ev.disclosed(sid),
        }

    # -- lists -----------------------------------------------------------------------------------
    def lists(self, state: ServiceState, ev: Evaluation, limit: int = 100) -> dict[str, Any]:
        """Every black and red list with the members a disclosure measure publishes."""
        out = []
        names = _names(state, ev)
        mem = ev.memberships
        shown = _published_lists(ev)
        for summary in views.list_summaries(ev):
            mask = pc.and_(
                pc.equal(mem["rulebook"], summary["rulebook"]), pc.equal(mem["list"], summary["id"])
            )
            channels = shown.get((summary["rulebook"], summary["id"]), set())
            rows = mem.filter(mask).to_pylist() if channels else []
            published = []
            for r in rows:
                sid = r["subject"]
                if channels.isdisjoint(ev.disclosed(sid)):
                    continue
                published.append(self._member(sid, names, r))
            published.sort(key=lambda m: m["since"] or "", reverse=True)
            out.append(
                {
                    **{k: summary[k] for k in ("rulebook", "id", "label", "kind", "size", "authority")},
                    "published": len(published),
                    "members": published[:limit],
                }
            )
        return {"as_of": ev.as_of.isoformat(), "lists": out}

    def _member(self, sid: str, names: dict[str, tuple[str, str]], row: dict[str, Any]) -> dict[str, Any]:
        name, kind = names.get(sid, ("", ""))
        return {
            "key": self.key(sid),
            "id_masked": ids.mask_identifier(sid),
            "name": name,
            "kind": kind,
            "since": row["since"].isoformat() if row.get("since") else None,
            "until": row["until"].isoformat() if row.get("until") else None,
            "via": row.get("via"),
        }

    def published_on(self, state: ServiceState, ev: Evaluation, channels: tuple[str, ...]) -> list[dict]:
        """Members of any list that a measure publishes on one of ``channels``, latest first."""
        names = _names(state, ev)
        lists = {k for k, v in _published_lists(ev).items() if not v.isdisjoint(channels)}
        seen: dict[str, dict[str, Any]] = {}
        for row in ev.memberships.to_pylist():
            if (row["rulebook"], row["list"]) not in lists:
                continue
            sid = row["subject"]
            shown = [c for c in ev.disclosed(sid) if c in channels]
            if not shown:
                continue
            item = self._member(sid, names, row)
            item["list"] = row["list"]
            item["rulebook"] = row["rulebook"]
            item["channels"] = shown
            old = seen.get(sid)
            if old is None or (item["since"] or "") > (old["since"] or ""):
                seen[sid] = item
        return sorted(seen.values(), key=lambda m: (m["since"] or "", m["id_masked"]), reverse=True)

    def scoreboard(self, state: ServiceState, ev: Evaluation, limit: int = 20) -> dict[str, Any]:
        """The latest plates on the roadside scoreboard (the channel publishes the plate)."""
        plates = []
        for m in self.published_on(state, ev, (SCOREBOARD,))[:limit]:
            sid = self._keys.get(m["key"], "")
            plates.append({"plate": sid if _is_plate(sid) else m["id_masked"], "since": m["since"],
                           "until": m["until"]})  # fmt: skip
        return {"as_of": ev.as_of.isoformat(), "channel": SCOREBOARD, "plates": plates}

    def stories(self, state: ServiceState, ev: Evaluation, limit: int = 50) -> dict[str, Any]:
        """Red-listed subjects published as stories of integrity or on model posters."""
        out = []
        for m in self.published_on(state, ev, STORY_CHANNELS)[:limit]:
            sid = self._keys[m["key"]]
            ent = self.entity(state, ev, sid)
            deeds = [d for d in ent["decisions"] if d["list_kind"] == "red"]
            out.append({**m, "honours": [g["list_label"] for g in ent["good"]], "deeds": deeds})
        return {"as_of": ev.as_of.isoformat(), "stories": out}

    # -- the ticket counter ------------------------------------------------------------------
    def counter_actions(self) -> list[dict[str, str]]:
        vocab = vocabulary()
        acts = [a for a in vocab.actions.values() if a.kind != "disclosure"]
        acts.sort(key=lambda a: (a.id not in COUNTER_FIRST, COUNTER_FIRST.index(a.id)
                                 if a.id in COUNTER_FIRST else 0, a.id))  # fmt: skip
        return [{"id": a.id, "description": a.description} for a in acts]

    def counter(self, state: ServiceState, ev: Evaluation, subject: str, action: str) -> dict[str, Any]:
        """The counter's decision: outcome and the chain record → list → measure behind it."""
        text = subject.strip()
        try:
            sid = ids.validate_identifier(text)[1]
        except IdentifierError:
            sid = text
        out: dict[str, Any] = {
            "subject_masked": ids.mask_identifier(sid),
            "action": action,
            "as_of": ev.as_of.isoformat(),
            "outcome": None,
            "error": None,
            "reasons": [],
        }
        try:
            d = views.decision(state, ev, sid, action)
        except UnknownSubject:
            out["error"] = "No such identity number in the registry."
            return out
        except UnknownAction:
            out["error"] = f"Unknown action {action!r}."
            return out
        out["outcome"] = d["outcome"]
        if not d["reasons"]:
            return out
        ex = views.explanation(state, ev, sid)
        by_list = {(rb["rulebook"], lst["list"]): lst for rb in ex["rulebooks"] for lst in rb["lists"]}
        labels = {
            (rb["rulebook"], m["measure"]): m["label"] for rb in ex["rulebooks"] for m in rb["measures"]
        }
        for r in d["reasons"]:
            lst = by_list.get((r["rulebook"], r.get("list"))) or {}
            via = r.get("via")
            out["reasons"].append(
                {
                    "rulebook": r["rulebook"],
                    "measure": r["measure"],
                    "measure_label": labels.get((r["rulebook"], r["measure"])) or r["measure"],
                    "effect": r["effect"],
                    "since": r["since"],
                    "until": r["until"],
                    "source": r.get("source"),
                    "list": r.get("list"),
                    "list_label": lst.get("label"),
                    "list_kind": lst.get("kind"),
                    "via": {"relation": via["relation"], "from": ids.mask_identifier(via["from"])}
                    if via
                    else None,
                    "records": [
                        {
                            "date": x.get("date") or x.get("since"),
                            "category": x.get("category") or x.get("kind"),
                            "entry": x.get("entry"),
                        }
                        for x in lst.get("reasons", [])
                    ],
                }
            )
        return out

    # -- my credit file ----------------------------------------------------------------------
    def my_file(self, state: ServiceState, ev: Evaluation, sid: str) -> dict[str, Any]:
        """The signed-in subject's own file: everything, unmasked (it is theirs)."""
        entry = state.ledger.subject(sid) or {"id": sid}
        try:
            file = views.subject_file(state, ev, entry)
            ex = views.explanation(state, ev, sid)
        except UnknownSubject:
            file = {"id": sid, "name": entry.get("name"), "kind": entry.get("kind"), "scores": [],
                    "lists": [], "measures": [], "outcomes": {}, "disclosed": [], "held": []}  # fmt: skip
            ex = {"text": "Not in this evaluation yet.", "rulebooks": []}
        records = views.mask_reporters(state.ledger.records_of(sid))  # who reported stays masked
        notices = views.pending_notices(state, ev, sid)
        return {
            **file,
            "as_of": ev.as_of.isoformat(),
            "records": records,
            "explanation": ex["text"],
            "notices": notices,
        }


def _registry_row(state: ServiceState, ev: Evaluation, sid: str) -> dict[str, Any]:
    subjects = state.registry(ev).subjects
    i = pc.index_in(pa.array([sid], pa.string()), value_set=subjects["id"])[0].as_py()
    if i is None:
        return {"id": sid}
    return subjects.slice(i, 1).to_pylist()[0]


def _published_lists(ev: Evaluation) -> dict[tuple[str, str], set[str]]:
    """(rulebook, list) → the channels a disclosure measure on that list publishes it on."""
    out: dict[tuple[str, str], set[str]] = {}
    for r in ev.results:
        for m in r.cv.measures:
            if m.effect != "disclose":
                continue
            for lid in m.measure.on.lists or ():
                out.setdefault((r.cv.rulebook, lid), set()).update(m.actions)
    return out


def _names(state: ServiceState, ev: Evaluation) -> dict[str, tuple[str, str]]:
    def make() -> dict[str, tuple[str, str]]:
        subjects = state.registry(ev).subjects
        return dict(
            zip(
                subjects["id"].to_pylist(),
                zip(subjects["name"].to_pylist(), subjects["kind"].to_pylist(), strict=True),
                strict=True,
            )
        )

    return state.memo(ev, ("portal_names",), make)


def _is_plate(sid: str) -> bool:
    try:
        return ids.validate_identifier(sid)[0] == "vehicle"
    except IdentifierError:
        return False
