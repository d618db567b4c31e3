"""Prometheus metrics: request count and latency by route template.

They show memory, versions and traffic per route: never public in production. `/metrics` on
the API port needs `Authorization: Bearer <METRICS_TOKEN>` (open without a token only in
development); METRICS_PORT serves them instead on a port of their own, for a scraper on the
platform's private network (Fly's `[metrics]`)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from starlette.requests import Request
from starlette.responses import Response

from app.core.errors import error_response
from app.core.settings import Settings

logger = logging.getLogger(__name__)

REQUESTS = Counter("docchat_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "docchat_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DOCUMENTS_PROCESSED = Counter(
    "docchat_documents_processed_total", "Documents processed by workers", ["outcome"]
)


# Label lookups take a lock and build a key on every call: keep the children (the label sets
# are bounded by routes x methods x statuses).
_request_counters: dict[tuple[str, str, int], Counter] = {}
_latency_histograms: dict[tuple[str, str], Histogram] = {}


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    counter = _request_counters.get((method, route, status))
    if counter is None:
        counter = _request_counters[(method, route, status)] = REQUESTS.labels(
            method, route, str(status)
        )
    counter.inc()
    histogram = _latency_histograms.get((method, route))
    if histogram is None:
        histogram = _latency_histograms[(method, route)] = LATENCY.labels(method, route)
    histogram.observe(duration_s)


def _authorized(request: Request, settings: Settings) -> bool:
    if settings.metrics_token:
        expected = f"Bearer {settings.metrics_token}".encode()
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, expected)
    return not settings.is_production and settings.metrics_port is None


async def metrics_endpoint(request: Request) -> Response:
    if not _authorized(request, request.app.state.settings):
        # As if there were nothing here: no hint that metrics exist.
        return error_response(404, "not_found", "Not found.")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@contextlib.asynccontextmanager
async def private_server(settings: Settings) -> AsyncIterator[None]:
    """Serve /metrics on METRICS_PORT (all interfaces, IPv6 included where there is IPv6)
    while the app runs."""
    if settings.metrics_port is None:
        yield
        return
    try:
        server, thread = await asyncio.to_thread(start_http_server, settings.metrics_port, "::")
    except OSError:  # no IPv6 on this host
        server, thread = await asyncio.to_thread(
            start_http_server,
            settings.metrics_port,
            "0.0.0.0",  # noqa: S104
        )
    logger.info("metrics_server_started", extra={"port": settings.metrics_port})
    try:
        yield
    finally:
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        thread.join(timeout=5)
