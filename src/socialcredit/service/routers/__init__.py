"""One router per resource, each under ``/v1``."""

from socialcredit.service.routers import (
    audit,
    decisions,
    health,
    lists,
    objections,
    public,
    records,
    registry,
    reports,
    subjects,
    tokens,
    tree_heads,
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
    tree_heads.router,
    objections.router,
    reports.router,
]

__all__ = ["ROUTERS"]
