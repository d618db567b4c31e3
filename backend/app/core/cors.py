"""CORS for exactly the configured frontend origins."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Send


def _drop_orphan_cors_headers(headers: MutableHeaders) -> None:
    if "access-control-allow-origin" not in headers:
        for name in [key for key in headers if key.startswith("access-control-")]:
            del headers[name]


class StrictCORSMiddleware(CORSMiddleware):
    """Starlette adds the allowed methods, headers and credentials even for a foreign origin.
    Without Access-Control-Allow-Origin those grant nothing, and a foreign origin should learn
    nothing: drop them."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        _drop_orphan_cors_headers(response.headers)
        return response

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        async def strip_then_send(outgoing: Message) -> None:
            if outgoing["type"] == "http.response.start":
                _drop_orphan_cors_headers(MutableHeaders(scope=outgoing))
            await send(outgoing)

        await super().send(message, strip_then_send, request_headers)
