"""Reject oversize request bodies before they are buffered (pure ASGI): every body is
limited, uploads by their own, larger limit."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import send_error

# Bodies declared up to this multiple of the limit are read and discarded before the 413.
DRAIN_LIMIT_FACTOR = 4
# No route reads a body of these (and uvicorn buffers at most 64 KB of one nobody reads).
BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


async def _discard_body(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _size(n_bytes: int) -> str:
    mb = n_bytes / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{n_bytes // 1024} KB"


class BodySizeLimitMiddleware:
    """413 as soon as Content-Length or the streamed byte count passes the request's limit:
    `upload_max_bytes` under `upload_prefixes`, `max_bytes` everywhere else."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        upload_max_bytes: int,
        upload_prefixes: tuple[str, ...],
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes
        self.upload_prefixes = upload_prefixes

    def _limit(self, path: str) -> tuple[int, str]:
        if path.startswith(self.upload_prefixes):
            limit = self.upload_max_bytes
            return limit, f"The upload is larger than the {_size(limit)} limit."
        limit = self.max_bytes
        return limit, f"The request body is larger than the {_size(limit)} limit."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS_METHODS:
            await self.app(scope, receive, send)
            return
        max_bytes, message = self._limit(scope["path"])
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                if int(value) <= DRAIN_LIMIT_FACTOR * max_bytes:
                    # Browsers read the answer only after sending the whole body: discard it
                    # (never buffered) so they see the 413 instead of a reset connection.
                    await _discard_body(receive)
                await send_error(send, 413, "payload_too_large", message, close=True)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            incoming = await receive()
            if incoming["type"] == "http.request":
                received += len(incoming.get("body", b""))
                if received > max_bytes:
                    # FastAPI re-raises HTTPException from body parsing; the error handler
                    # turns it into the JSON 413.
                    raise HTTPException(413, detail=message)
            return incoming

        await self.app(scope, limited_receive, send)
