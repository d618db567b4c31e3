"""Prometheus metrics: request count and latency by route template."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

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


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
