"""The public portal: server-rendered pages (Jinja2, no JavaScript) over the HTTP API's state.

``create_app`` includes :data:`router`, so ``socialcredit serve`` serves the portal at ``/``
beside the API under ``/v1``. See docs/portal.md.
"""

from socialcredit.service.portal import objections as _objections
from socialcredit.service.portal import transparency as _transparency
from socialcredit.service.portal.routes import SESSION_COOKIE, router

router.include_router(_objections.router)  # /my/objections: notices and objections (issue 13)
router.include_router(_transparency.router)  # /transparency, /my/proofs.json (issue 14)

__all__ = ["SESSION_COOKIE", "router"]
