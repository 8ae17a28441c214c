"""The public portal: server-rendered pages (Jinja2, no JavaScript) over the HTTP API's state.

``create_app`` includes :data:`router`, so ``socialcredit serve`` serves the portal at ``/``
beside the API under ``/v1``. See docs/portal.md.
"""

from socialcredit.service.portal.routes import SESSION_COOKIE, router

__all__ = ["SESSION_COOKIE", "router"]
