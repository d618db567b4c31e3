"""`docchat worker`'s side port (WORKER_HEALTH_PORT): /health for the platform's liveness
check and /metrics for Prometheus (queue depth, oldest queued job, documents processed).

/health answers 200 while the worker task runs and its event loop is responsive (this very
answer comes from that loop), and 503 once the worker has stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import orjson
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.core.logging import uvicorn_log_config
from app.core.metrics import refresh_queue_metrics
from app.core.settings import Settings


def worker_health_app(
    settings: Settings, engine: AsyncEngine, worker: asyncio.Task[None]
) -> Starlette:
    async def health(_: Request) -> Response:
        running = not worker.done()
        body = {"status": "ok" if running else "stopped", "version": settings.git_sha}
        return Response(
            orjson.dumps(body), status_code=200 if running else 503, media_type="application/json"
        )

    async def metrics(_: Request) -> Response:
        await refresh_queue_metrics(engine)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/health", health), Route("/metrics", metrics)])


class _SidePortServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The worker owns SIGTERM/SIGINT (procrastinate's graceful shutdown), not uvicorn.
        yield


@contextlib.asynccontextmanager
async def serve_worker_health(
    settings: Settings, engine: AsyncEngine, worker: asyncio.Task[None]
) -> AsyncIterator[None]:
    if not settings.worker_health_port:
        yield
        return
    server = _SidePortServer(
        uvicorn.Config(
            worker_health_app(settings, engine, worker),
            host="0.0.0.0",  # noqa: S104 - the platform's health checker is another host
            port=settings.worker_health_port,
            log_config=uvicorn_log_config(settings.log_output),
            log_level="warning",
            access_log=False,
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        yield
    finally:
        server.should_exit = True
        await serving
