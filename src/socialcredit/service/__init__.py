"""The HTTP API: records in, decisions out, each role seeing only what it may.

Start it with ``socialcredit serve --db PATH``; build it in code with :func:`create_app`.
Layout: :mod:`.settings` (typed settings), :mod:`.auth` and :mod:`.tokens` (roles and tokens),
:mod:`.audit` (the batched audit log), :mod:`.schemas` (what comes in and goes out),
:mod:`.errors` (the one error shape), :mod:`.routers` (one router per resource). See docs/api.md.
"""

from socialcredit.service.app import create_app
from socialcredit.service.settings import Settings

__all__ = ["Settings", "create_app"]
