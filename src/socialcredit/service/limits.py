"""A pure ASGI middleware that refuses bodies above a size with 413, in the one error shape."""

from __future__ import annotations

from typing import Any

from socialcredit.service.errors import ApiError, error_bytes

Scope = dict[str, Any]


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
