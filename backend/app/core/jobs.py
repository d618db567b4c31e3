"""The job queue (procrastinate) as the rest of the app uses it.

Each domain declares its tasks on its own module-level ``Blueprint`` under their full, stable
names (a queued job names its task, so a name outlives a release); ``app.worker`` is the one
place that builds an App from those blueprints and runs it.

A job is deferred with SQL in the caller's transaction (an outbox): it exists exactly when
the change that created its work commits, and a web process needs no connection of its own
to the queue.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from procrastinate import Blueprint, JobContext
from procrastinate.tasks import Task
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 2.0
STALLED_WORKER_TIMEOUT_S = 6.0

_DEFER_JOB = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, "
    ":queueing_lock, CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)
_CANCEL_JOBS = text(
    "SELECT procrastinate_cancel_job_v1(id, true, true) FROM procrastinate_jobs "
    "WHERE lock = :lock AND task_name = :task AND status IN ('todo', 'doing')"
)


async def defer_job(
    session: AsyncSession,
    task: Task[Any, Any, Any],
    *,
    lock: str | None = None,
    queueing_lock: str | None = None,
    **task_kwargs: Any,
) -> None:
    """Queue ``task(**task_kwargs)`` in the caller's transaction (see the module docstring).
    A ``queueing_lock`` already held by a waiting job fails the statement: check first."""
    await session.execute(
        _DEFER_JOB,
        {
            "queue": task.queue,
            "task": task.name,
            "priority": task.priority,
            "lock": lock if lock is not None else task.lock,
            "queueing_lock": queueing_lock if queueing_lock is not None else task.queueing_lock,
            "args": json.dumps(task_kwargs),
        },
    )


async def cancel_jobs(session: AsyncSession, task: Task[Any, Any, Any], *, lock: str) -> None:
    """When the caller's transaction commits: delete the task's waiting jobs with this lock
    and ask a running one to abort (its worker hears of it at once through LISTEN/NOTIFY, or
    when it polls)."""
    await session.execute(_CANCEL_JOBS, {"lock": lock, "task": task.name})


# --- queue maintenance ------------------------------------------------------------------
# Workers heartbeat every 2 s; this periodic task re-queues jobs whose worker stopped
# heartbeating (killed with SIGKILL, OOM, lost machine) so every job runs to completion.

RETRY_STALLED_JOBS = "maintenance:retry_stalled_jobs"
# Jobs whose every run is routine: what the queue logs about them is DEBUG (app.core.logging).
ROUTINE_TASKS = frozenset({RETRY_STALLED_JOBS})


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_WORKER_TIMEOUT_S)
    for job in stalled:
        logger.warning(
            "job_requeued_after_worker_loss", extra={"job_id": job.id, "task": job.task_name}
        )
        await manager.retry_job(job)


def maintenance_jobs() -> Blueprint:
    """Built for each App: procrastinate defers a periodic job through the App its task was
    last registered with, so a task shared by two Apps (tests run several in one process)
    would be deferred through one that may be closed. Jobs deferred with ``defer_job`` never
    go through an App, which is why the domains' tasks can be declared once."""
    blueprint = Blueprint()
    task = blueprint.task(
        name=RETRY_STALLED_JOBS, queueing_lock="retry_stalled_jobs", pass_context=True
    )(retry_stalled_jobs)
    blueprint.periodic(cron="* * * * * */2")(task)
    return blueprint
