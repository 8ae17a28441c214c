"""``GET /v1/health``: is the service up (no token needed, no personal data)."""

from __future__ import annotations

from fastapi import APIRouter

from socialcredit.service.auth import Anyone
from socialcredit.service.schemas import HealthOut

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Liveness")
async def health(ctx: Anyone) -> dict[str, object]:
    """The rulebooks served and the service's date."""
    s = ctx.state.settings
    return {"status": "ok", "rulebooks": list(s.rulebooks), "today": s.clock_date().isoformat()}
