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
from typing import Any, LiteralString

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
REFRESH_QUEUE_STATISTICS = "maintenance:refresh_queue_statistics"
# Jobs whose every run is routine: what the queue logs about them is DEBUG (app.core.logging).
ROUTINE_TASKS = frozenset({RETRY_STALLED_JOBS, REFRESH_QUEUE_STATISTICS})


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_WORKER_TIMEOUT_S)
    for job in stalled:
        logger.warning(
            "job_requeued_after_worker_loss", extra={"job_id": job.id, "task": job.task_name}
        )
        await manager.retry_job(job)


# The queue table is usually near empty, and that is what the planner last saw of it. After a
# bulk upload queues thousands of jobs, fetching one (procrastinate_fetch_job_v2) is planned for
# a handful of rows: it reads and sorts every waiting job instead of taking the first from the
# queue's index: 65-70 ms per fetch with 1,300 waiting, more with more, until autovacuum's next
# round (up to a minute: autovacuum_naptime). Fresh statistics make it an index scan again.
QUEUE_STATISTICS_MIN_CHANGES = 500
_QUEUE_STATISTICS_STALE: LiteralString = """
    SELECT coalesce(bool_or(s.n_mod_since_analyze > greatest(%(min_changes)s, c.reltuples)),
                    false) AS stale
    FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
    WHERE s.relid = to_regclass('procrastinate_jobs')
"""


async def refresh_queue_statistics(context: JobContext, timestamp: int) -> None:
    """Analyze the queue table once it has changed by more rows than the planner knows of."""
    connector = context.app.connector
    row = await connector.execute_query_one_async(
        _QUEUE_STATISTICS_STALE, min_changes=QUEUE_STATISTICS_MIN_CHANGES
    )
    if row["stale"]:
        await connector.execute_query_async("ANALYZE procrastinate_jobs")


# Ahead of every other job: the queue is first in, first out within a priority, and behind
# the 10,000 jobs of a bulk upload neither would run until they had all been done.
MAINTENANCE_PRIORITY = 100


def maintenance_jobs() -> Blueprint:
    """Built for each App: procrastinate defers a periodic job through the App its task was
    last registered with, so a task shared by two Apps (tests run several in one process)
    would be deferred through one that may be closed. Jobs deferred with ``defer_job`` never
    go through an App, which is why the domains' tasks can be declared once."""
    blueprint = Blueprint()
    for name, job, every_s in (
        (RETRY_STALLED_JOBS, retry_stalled_jobs, 2),
        (REFRESH_QUEUE_STATISTICS, refresh_queue_statistics, 5),
    ):
        task = blueprint.task(
            name=name,
            queueing_lock=job.__name__,
            pass_context=True,
            priority=MAINTENANCE_PRIORITY,
        )(job)
        blueprint.periodic(cron=f"* * * * * */{every_s}")(task)
    return blueprint
