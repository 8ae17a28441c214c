"""A small world for the HTTP API tests: the tiny registry, a few records, a token per role.

As of ``TODAY``: ``listed`` (a person) is on the judgment-defaulter list through their own
record, ``rep`` through the company they represent (``company``), ``plain`` has a traffic record
and is on no list. Tokens: admin, officer, court and traffic-police sources, a subject token for
``listed`` and one for ``plain``, an expired officer and a revoked officer.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socialcredit.ledger import open_ledger
from socialcredit.service import Settings, create_app
from socialcredit.service.tokens import create_token, revoke_token

with warnings.catch_warnings():  # starlette's TestClient warns about httpx on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TODAY = "2019-06-01"


@dataclass
class World:
    db: Path | str  # a SQLite file or a PostgreSQL URL
    listed: str
    rep: str
    company: str
    plain: str
    stranger: str
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        """The Authorization header of one of the world's tokens."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def settings(self, **changes: Any) -> Settings:
        return Settings(db=self.db, today=TODAY, **changes)

    def client(self, **changes: Any) -> TestClient:
        """A test client of a fresh app on this world's ledger (use it with ``with``)."""
        return TestClient(create_app(self.settings(**changes)), raise_server_exceptions=False)


def records(tiny: Any) -> list[dict[str, Any]]:
    p, c = tiny.persons, tiny.companies
    return [
        {
            "id": "w-def-1",
            "subject": p[4],
            "category": "judicial.judgment_default",
            "source": "court",
            "occurred_at": "2018-06-01",
        },
        {
            "id": "w-def-2",
            "subject": c[0],
            "category": "judicial.judgment_default",
            "source": "court",
            "occurred_at": "2018-07-01",
        },
        {
            "id": "w-red-1",
            "subject": p[1],
            "category": "traffic.red_light",
            "source": "traffic_police",
            "occurred_at": "2018-07-01",
        },
    ]


def build_world(directory: Path, tiny: Any, db: Path | str | None = None) -> World:
    """Write the world's ledger (``db``, default ``directory / "ledger.db"``) and make its tokens."""
    p = tiny.persons
    world = World(
        db if db is not None else directory / "ledger.db",
        listed=p[4],
        rep=p[3],
        company=tiny.companies[0],
        plain=p[1],
        stranger=tiny.stranger,
    )
    with open_ledger(world.db) as ledger:
        ledger.append_registry(tiny.registry)
        ledger.append_records(records(tiny))
        scopes: dict[str, dict[str, Any]] = {
            "admin": {"role": "admin"},
            "officer": {"role": "officer"},
            "court": {"role": "source", "source": "court"},
            "traffic": {"role": "source", "source": "traffic_police"},
            "subject": {"role": "subject", "subject": world.listed},
            "other_subject": {"role": "subject", "subject": world.plain},
            "expired": {"role": "officer", "expires": "2000-01-01"},
            "revoked": {"role": "officer"},
        }
        for name, scope in scopes.items():
            info, bearer = create_token(ledger, label=name, **scope)
            world.tokens[name], world.token_ids[name] = bearer, info.id
        revoke_token(ledger, world.token_ids["revoked"])
    return world
