"""The procrastinate job queue: its App, the worker runner and crash recovery.

Workers heartbeat every 2 s; a periodic task re-queues jobs whose worker stopped
heartbeating (killed with SIGKILL, OOM, lost machine) so every job runs to completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from procrastinate import App, Blueprint, JobContext, PsycopgConnector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Every table in the ORM metadata: a session's flush resolves foreign keys (documents.user_id
# -> users) and a worker process imports none of the HTTP routers that would load them.
from app import models  # noqa: F401
from app.core.database_url import libpq_url
from app.core.settings import Settings
from app.documents.parse_process import get_parse_pool
from app.documents.storage import Originals

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 2.0
STALLED_WORKER_TIMEOUT_S = 6.0
POLL_INTERVAL_S = 1.0


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_WORKER_TIMEOUT_S)
    for job in stalled:
        logger.warning(
            "job_requeued_after_worker_loss", extra={"job_id": job.id, "task": job.task_name}
        )
        await manager.retry_job(job)


@dataclass
class WorkerDeps:
    """What tasks need, handed to them through procrastinate's additional context."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    originals: Originals


def worker_deps(context: JobContext) -> WorkerDeps:
    deps = context.additional_context["deps"]
    assert isinstance(deps, WorkerDeps)
    return deps


def maintenance_blueprint() -> Blueprint:
    blueprint = Blueprint()
    task = blueprint.task(
        name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True
    )(retry_stalled_jobs)
    blueprint.periodic(cron="* * * * * */2")(task)
    return blueprint


def create_job_app(database_url: str) -> App:
    """A job-queue App with every task registered. Blueprints are built fresh per App:
    registering one renames its tasks and binds them to that App."""
    from app.documents.tasks import documents_blueprint
    from app.search.tasks import search_blueprint

    connector = PsycopgConnector(
        conninfo=libpq_url(database_url),
        kwargs={"prepare_threshold": None},
        min_size=1,
        max_size=4,
    )
    job_app = App(connector=connector)
    job_app.add_tasks_from(maintenance_blueprint(), namespace="maintenance")
    job_app.add_tasks_from(documents_blueprint(), namespace="documents")
    job_app.add_tasks_from(search_blueprint(), namespace="search")
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
async def run_worker_in_background(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """With RUN_WORKER, run a job worker inside the web process. Without it, open nothing:
    the web app defers jobs with SQL in its request transaction (documents.service), so an
    API-only process holds no job-queue connection on the direct URL."""
    if not settings.run_worker:
        yield
        return
    url = settings.database_direct_url or settings.database_url
    assert url is not None
    job_app = create_job_app(url)
    async with job_app.open_async():
        deps = WorkerDeps(
            settings=settings, sessionmaker=app.state.sessionmaker, originals=app.state.originals
        )
        options = worker_options(
            deps, concurrency=settings.worker_concurrency, install_signal_handlers=False
        )
        worker = asyncio.create_task(job_app.run_worker_async(**options))
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            get_parse_pool(settings).close()
