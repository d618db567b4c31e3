"""Pure ASGI middleware (BaseHTTPMiddleware halves throughput): request context, access log,
metrics and security headers in one pass."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.errors import send_error
from app.core.logging import client_ip_var, request_id_var, user_id_var
from app.core.routing import ROUTE_TEMPLATE_KEY

logger = logging.getLogger("app.access")
error_logger = logging.getLogger("app.errors")

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_API_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-site",
}
_RAW_SECURITY_HEADERS = [(k.lower().encode(), v.encode()) for k, v in _API_SECURITY_HEADERS.items()]
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"
_HSTS = b"max-age=63072000; includeSubDomains"
_QUIET_PATHS = frozenset({"/health", "/metrics"})


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            candidate: str = bytes(value).decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    template = scope["state"].get(ROUTE_TEMPLATE_KEY)
    if template is None:
        route = scope.get("route")
        template = getattr(route, "path", None)
    return template if isinstance(template, str) else "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, sentry_enabled: bool = False) -> None:
        self.app = app
        self.sentry_enabled = sentry_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope)
        rid_token = request_id_var.set(request_id)
        uid_token = user_id_var.set(None)
        client = scope.get("client")
        ip_token = client_ip_var.set(client[0] if client else None)
        scope.setdefault("state", {})["request_id"] = request_id
        if self.sentry_enabled:
            import sentry_sdk

            sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)

        path: str = scope["path"]
        is_api = path.startswith("/api/") or path in ("/health", "/ready", "/metrics")
        https = scope.get("scheme") == "https"
        status_holder: dict[str, Any] = {"status": 500, "started": False}
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                raw: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in raw}
                raw.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                raw.extend(h for h in _RAW_SECURITY_HEADERS if h[0] not in present)
                if is_api and b"content-security-policy" not in present:
                    raw.append((b"content-security-policy", _API_CSP))
                if https and b"strict-transport-security" not in present:
                    raw.append((b"strict-transport-security", _HSTS))
                message["headers"] = raw
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # An exception no handler turned into a response. Answer here, inside the request
            # context, so the JSON 500 carries the request id and the security headers, and the
            # error is logged (and reported to Sentry) once, with the request id. Starlette's
            # outer ServerErrorMiddleware would run after the context is gone.
            error_logger.error("unhandled_error", exc_info=exc)
            if self.sentry_enabled:
                import sentry_sdk

                sentry_sdk.capture_exception(exc)
            if status_holder["started"]:
                raise  # too late for an error response: let the server drop the connection
            await send_error(
                send_with_headers, 500, "internal_error", "An internal error occurred."
            )
        finally:
            duration = time.perf_counter() - started
            route = _route_template(scope)
            status = status_holder["status"]
            metrics.observe_request(scope["method"], route, status, duration)
            user_id = scope["state"].get("user_id")
            if path not in _QUIET_PATHS or status >= 400:
                logger.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": path,
                        "route": route,
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                        # As ClientAddressMiddleware resolved it: what rate limits key on.
                        **({"client": client[0]} if client else {}),
                        **({"user_id": user_id} if user_id else {}),
                    },
                )
            request_id_var.reset(rid_token)
            user_id_var.reset(uid_token)
            client_ip_var.reset(ip_token)
