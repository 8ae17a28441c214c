"""One router per resource, each under ``/v1``."""

from socialcredit.service.routers import (
    audit,
    decisions,
    health,
    lists,
    public,
    records,
    registry,
    subjects,
    tokens,
)

#: In matching order: the hot path (decisions) first.
ROUTERS = [
    decisions.router,
    health.router,
    records.router,
    registry.router,
    subjects.router,
    lists.router,
    public.router,
    tokens.router,
    audit.router,
]

__all__ = ["ROUTERS"]
