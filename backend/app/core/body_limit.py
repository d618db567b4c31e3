"""Reject oversize request bodies before they are buffered (pure ASGI)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import send_error

# Bodies declared up to this multiple of the limit are read and discarded before the 413.
DRAIN_LIMIT_FACTOR = 4


async def _discard_body(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


class BodySizeLimitMiddleware:
    """413 as soon as Content-Length or the streamed byte count passes the limit for a path."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, path_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_prefixes = path_prefixes

    @property
    def message(self) -> str:
        return f"The upload is larger than the {self.max_bytes // (1024 * 1024)} MB limit."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefixes):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                declared = int(value)
                if declared <= DRAIN_LIMIT_FACTOR * self.max_bytes:
                    # Browsers read the answer only after sending the whole body: discard it
                    # (never buffered) so they see the 413 instead of a reset connection.
                    await _discard_body(receive)
                await self._reject(send)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPException from body parsing; the error handler
                    # turns it into the JSON 413.
                    raise HTTPException(413, detail=self.message)
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, send: Send) -> None:
        await send_error(send, 413, "payload_too_large", self.message, close=True)
