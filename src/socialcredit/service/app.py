"""``create_app(settings)``: the FastAPI application of the HTTP API.

Example:
    >>> import tempfile, pathlib
    >>> from fastapi.testclient import TestClient
    >>> from socialcredit.ledger import open_ledger
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "ledger.db"
    >>> open_ledger(db).close()
    >>> with TestClient(create_app(Settings(db=db, today="2020-01-01"))) as client:
    ...     client.get("/v1/health").json()["status"], client.get("/v1/lists").status_code
    ('ok', 401)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from socialcredit import __version__
from socialcredit.ledger import Ledger
from socialcredit.service.allocator import use_steady_allocators
from socialcredit.service.errors import install_error_handlers
from socialcredit.service.limits import BodyLimit, RateLimit
from socialcredit.service.portal import router as portal_router
from socialcredit.service.routers import ROUTERS
from socialcredit.service.settings import Settings
from socialcredit.service.state import ServiceState

__all__ = ["create_app"]

DESCRIPTION = """\
Records in, decisions out: the interface the documents describe between departments, the
platform and the counters, with roles that cannot overreach and an audit of who looked at whom.
All subjects are synthetic. Errors have one shape: `{"error": {"code": "...", "message": "..."}}`.
See docs/api.md.
"""


def create_app(settings: Settings, *, ledger: Ledger | None = None) -> FastAPI:
    """The application for ``settings`` (``ledger``: an already open ledger, for tests).

    The ledger is opened (and upgraded to the newest schema) here; at start-up the audit writer
    starts and, with ``settings.warm``, today's evaluation is computed before the first request.
    """
    state = ServiceState(settings, ledger)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        use_steady_allocators()  # memory stays flat under sustained writes (docs/security.md)
        state.start()
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="socialcredit API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = state
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(portal_router)  # the public portal's pages (docs/portal.md), not in the schema
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimit, per_second=settings.rate_limit_per_token)  # outermost: before the body
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the bearer scheme on every operation that needs a token."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from `socialcredit token create` (sct_<id>_<secret>).",
            }
        }
        for route in (r for router in ROUTERS for r in router.routes):
            if not isinstance(route, APIRoute):
                continue
            roles = next(
                (
                    getattr(d.call, "roles", None)
                    for d in route.dependant.dependencies
                    if hasattr(d.call, "roles")
                ),
                None,
            )
            if roles:
                for method in route.methods:
                    operation = schema["paths"][route.path_format][method.lower()]
                    operation["security"] = [{"bearer": []}]
                    operation["description"] = (
                        operation.get("description", "") + f"\n\nRoles: {', '.join(roles)}."
                    ).strip()
        app.openapi_schema = schema
    return app.openapi_schema
