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
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
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
JOBS = Gauge("docchat_jobs", "Jobs in the queue by status (todo: due, not started)", ["status"])
OLDEST_QUEUED_JOB_AGE = Gauge(
    "docchat_oldest_queued_job_age_seconds",
    "Seconds the oldest due job has been waiting for a worker (0 when none waits)",
)
WORKERS_ALIVE = Gauge(
    "docchat_workers_alive", "Job workers that sent a heartbeat in the last 30 seconds"
)
WORKER_ALIVE_WITHIN_S = 30
QUEUE_METRICS_TIMEOUT_S = 2.0
# A job is waiting from when it was deferred (or, when scheduled, from its due time) until a
# worker takes it. One index scan of the todo jobs, one of the workers.
_QUEUE_STATE = text(
    """
    SELECT
      (SELECT count(*) FROM procrastinate_jobs
        WHERE status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())) AS todo,
      (SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing') AS doing,
      (SELECT coalesce(extract(epoch FROM now() - min(greatest(e.at, j.scheduled_at))), 0)
         FROM procrastinate_jobs j
         JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
        WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now()))
        AS oldest_s,
      (SELECT count(*) FROM procrastinate_workers
        WHERE last_heartbeat > now() - make_interval(secs => :alive_s)) AS workers
    """
)


@dataclass(frozen=True)
class QueueState:
    todo: int
    doing: int
    oldest_queued_s: float
    workers_alive: int


async def queue_state(connection: AsyncConnection) -> QueueState:
    row = (await connection.execute(_QUEUE_STATE, {"alive_s": WORKER_ALIVE_WITHIN_S})).one()
    return QueueState(
        todo=row.todo,
        doing=row.doing,
        oldest_queued_s=float(row.oldest_s),
        workers_alive=row.workers,
    )


async def refresh_queue_metrics(engine: AsyncEngine) -> None:
    """Read the queue's state into the gauges (at scrape time); a slow or unreachable database
    leaves the last values and the scrape still answers."""

    async def read() -> None:
        async with engine.connect() as connection:
            state = await queue_state(connection)
        JOBS.labels("todo").set(state.todo)
        JOBS.labels("doing").set(state.doing)
        OLDEST_QUEUED_JOB_AGE.set(state.oldest_queued_s)
        WORKERS_ALIVE.set(state.workers_alive)

    with contextlib.suppress(Exception):
        await asyncio.wait_for(read(), timeout=QUEUE_METRICS_TIMEOUT_S)


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
    await refresh_queue_metrics(request.app.state.engine)
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
