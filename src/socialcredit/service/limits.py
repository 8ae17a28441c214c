"""Pure ASGI middleware for the API's limits, answering in the one error shape.

* :class:`BodyLimit`: 413 for a body above ``max_body_bytes``;
* :class:`RateLimit`: 429 (with ``Retry-After``) for a token that sends more than
  ``rate_limit_per_token`` requests a second, beyond a burst of one second's worth. Requests
  without a token are counted per client address.

Example:
    >>> import asyncio
    >>> async def app(scope, receive, send):
    ...     await send({"type": "http.response.start", "status": 200, "headers": []})
    ...     await send({"type": "http.response.body", "body": b""})
    >>> sent = []
    >>> async def send(message):
    ...     sent.append(message)
    >>> limited = RateLimit(app, per_second=1, clock=lambda: 0.0)
    >>> scope = {"type": "http", "path": "/v1/lists", "headers": [(b"authorization", b"Bearer x")]}
    >>> for _ in range(2):
    ...     asyncio.run(limited(scope, None, send))
    >>> [m["status"] for m in sent if m["type"] == "http.response.start"]
    [200, 429]
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from socialcredit.service.errors import ApiError, error_bytes

__all__ = ["BodyLimit", "RateLimit"]

Scope = dict[str, Any]
#: API paths anyone may call without a token (everything outside ``/v1/`` is public too).
PUBLIC_PATHS = ("/v1/public/", "/v1/health", "/v1/tree-heads")


class BodyLimit:
    """413 when ``Content-Length`` says too much, or when a streamed body grows past it."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
                if length > limit:
                    await self._refuse(
                        send, f"the body has {length} bytes; at most {limit}: send smaller batches"
                    )
                    return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise ApiError(
                        413, f"the body is over {limit} bytes: send smaller batches", code="payload_too_large"
                    )
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _refuse(send: Any, message: str) -> None:
        body = error_bytes("payload_too_large", message)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RateLimit:
    """A token bucket per caller: ``per_second`` requests a second on average, bursts of up to
    ``burst`` (default: one second's worth); the request beyond gets 429 ``rate_limited`` with
    ``Retry-After`` (whole seconds until one request is allowed again). ``per_second=0`` turns
    the limit off.

    The caller is the bearer token (kept as a hash, never as the token itself), or, without an
    ``Authorization`` header, the client address. The table of callers is bounded
    (``max_callers``): callers whose bucket has refilled are forgotten first, since a full bucket
    is the same as none.
    """

    def __init__(
        self,
        app: Any,
        per_second: float,
        *,
        burst: float | None = None,
        max_callers: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.rate = float(per_second)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate)
        self.max_callers = max_callers
        self.clock = clock
        self._buckets: dict[bytes, tuple[float, float]] = {}  # caller -> (level, when)

    @staticmethod
    def caller(scope: Scope) -> bytes:
        """The key a request is counted under: a hash of its credentials, or its address. Pages
        that need no token (the portal, the public search, health, tree heads) count by address
        even when a header is sent: a made-up token must not buy a bucket of its own there."""
        path = scope.get("path") or ""
        if path.startswith("/v1/") and not path.startswith(PUBLIC_PATHS):
            for name, value in scope.get("headers") or ():
                if name == b"authorization":
                    return b"t:" + hashlib.blake2b(value.strip(), digest_size=16).digest()
        client = scope.get("client")
        return b"a:" + (str(client[0]).encode() if client else b"?")

    def take(self, key: bytes) -> float:
        """Spend one request of ``key``'s bucket: 0 when allowed, else seconds until one is."""
        now = self.clock()
        level, when = self._buckets.get(key, (self.burst, now))
        level = min(self.burst, level + (now - when) * self.rate)
        if level >= 1.0:
            if key not in self._buckets and len(self._buckets) >= self.max_callers:
                self._prune(now)
            self._buckets[key] = (level - 1.0, now)
            return 0.0
        self._buckets[key] = (level, now)
        return (1.0 - level) / self.rate

    def _prune(self, now: float) -> None:
        for key, (level, when) in list(self._buckets.items()):
            if level + (now - when) * self.rate >= self.burst:
                del self._buckets[key]
        if len(self._buckets) >= self.max_callers:  # all busy: forget the oldest half
            oldest = sorted(self._buckets.items(), key=lambda kv: kv[1][1])[: len(self._buckets) // 2]
            for key, _ in oldest:
                del self._buckets[key]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.rate <= 0:
            await self.app(scope, receive, send)
            return
        wait = self.take(self.caller(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        body = error_bytes(
            "rate_limited",
            f"more than {self.rate:g} requests a second from this token (bursts up to {self.burst:g}): "
            f"retry after {retry} s",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
