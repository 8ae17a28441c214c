"""The portal's test world: the API's world (tests/service_world.py) plus a red-listed model
citizen, a honking car, and a listed person whose name is an HTML/script injection attempt.

Served with the national and shanghai-honking rulebooks, as of ``TODAY``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest_helpers import SEED
from service_world import TODAY, World, build_world
from socialcredit import ids
from socialcredit.ledger import open_ledger
from socialcredit.service import Settings

__all__ = ["EVIL_NAME", "RULEBOOKS", "TODAY", "PortalWorld", "build_portal_world"]

RULEBOOKS = ("national", "shanghai-honking")
EVIL_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)> Evil (synthetic)'


@dataclass
class PortalWorld:
    world: World
    model: str  # red-listed (an honour), published as a story of integrity
    vehicle: str  # caught honking: on the scoreboard
    evil: str  # a listed person whose name is markup

    def settings(self, **changes: Any) -> Settings:
        return Settings(db=self.world.db, today=TODAY, rulebooks=RULEBOOKS, **changes)


def build_portal_world(directory: Path, tiny: Any) -> PortalWorld:
    world = build_world(directory, tiny)
    evil = next(
        p
        for p in (ids.generate_resident_id(SEED, i, region="Jinan") for i in range(60, 200))
        if p not in tiny.persons and p != tiny.stranger
    )
    pw = PortalWorld(world, model=tiny.persons[0], vehicle=tiny.vehicle, evil=evil)
    with open_ledger(world.db) as ledger:
        ledger.append_registry([{"id": evil, "kind": "person", "name": EVIL_NAME}])
        ledger.append_records(
            [
                {
                    "id": "p-honour-1",
                    "subject": pw.model,
                    "category": "social.honour",
                    "source": "people_government",
                    "occurred_at": "2018-09-01",
                },
                {
                    "id": "p-honk-1",
                    "subject": pw.vehicle,
                    "category": "traffic.honking",
                    "source": "traffic_police",
                    "occurred_at": "2019-05-20",
                },
                {
                    "id": "p-def-evil",
                    "subject": evil,
                    "category": "judicial.judgment_default",
                    "source": "court",
                    "occurred_at": "2019-01-15",
                },
            ]
        )
    return pw
