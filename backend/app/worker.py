"""The job worker: the one place that builds the procrastinate App from every domain's jobs
and runs it (in the web process with RUN_WORKER, in `docchat worker`, `docchat ingest` and
the BEIR evaluation).

Workers heartbeat every 2 s; the maintenance job (app.core.jobs) re-queues jobs whose
worker stopped heartbeating, so every job runs to completion.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from procrastinate import App, PsycopgConnector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Every table in the ORM metadata: a session's flush resolves foreign keys (documents.user_id
# -> users) and a worker process imports none of the HTTP routers that would load them.
from app import models  # noqa: F401
from app.core.database_url import libpq_url
from app.core.jobs import HEARTBEAT_INTERVAL_S, STALLED_WORKER_TIMEOUT_S, maintenance_jobs
from app.core.settings import Settings
from app.documents.parse_process import get_parse_pool
from app.documents.storage import Originals
from app.documents.tasks import WorkerDeps, document_jobs
from app.library.tasks import library_jobs

POLL_INTERVAL_S = 1.0


def create_job_app(database_url: str) -> App:
    """A job-queue App with every task registered."""
    connector = PsycopgConnector(
        conninfo=libpq_url(database_url),
        kwargs={"prepare_threshold": None},
        min_size=1,
        max_size=4,
    )
    job_app = App(connector=connector)
    # Tasks carry their full names: registered without a namespace, they keep them.
    for blueprint in (maintenance_jobs(), document_jobs, library_jobs):
        job_app.add_tasks_from(blueprint, namespace="")
    return job_app


def worker_options(
    deps: WorkerDeps, *, concurrency: int, install_signal_handlers: bool
) -> dict[str, Any]:
    return {
        "concurrency": concurrency,
        "install_signal_handlers": install_signal_handlers,
        "additional_context": {"deps": deps},
        "update_heartbeat_interval": HEARTBEAT_INTERVAL_S,
        "stalled_worker_timeout": STALLED_WORKER_TIMEOUT_S,
        "fetch_job_polling_interval": POLL_INTERVAL_S,
        "shutdown_graceful_timeout": deps.settings.worker_shutdown_grace_s,
        "delete_jobs": "successful",
    }


@contextlib.asynccontextmanager
async def running_worker(
    queue_url: str,
    deps: WorkerDeps,
    *,
    concurrency: int,
    install_signal_handlers: bool = False,
) -> AsyncIterator[asyncio.Task[None]]:
    """A worker running in this event loop until the block ends (then cancelled); the block
    gets its task, to await it or to see whether it stopped."""
    job_app = create_job_app(queue_url)
    async with job_app.open_async():
        options = worker_options(
            deps, concurrency=concurrency, install_signal_handlers=install_signal_handlers
        )
        worker = asyncio.create_task(job_app.run_worker_async(**options))
        try:
            yield worker
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker


@contextlib.asynccontextmanager
async def run_worker_in_background(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], originals: Originals
) -> AsyncIterator[None]:
    """With RUN_WORKER, run a job worker inside the web process. Without it, open nothing:
    the web app defers jobs with SQL in its request transaction (app.core.jobs), so an
    API-only process holds no job-queue connection on the direct URL."""
    if not settings.run_worker:
        yield
        return
    url = settings.database_direct_url or settings.database_url
    assert url is not None
    deps = WorkerDeps(settings=settings, sessionmaker=sessionmaker, originals=originals)
    try:
        async with running_worker(url, deps, concurrency=settings.worker_concurrency):
            yield
    finally:
        get_parse_pool(settings).close()
