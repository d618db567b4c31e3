"""The queue's statistics after a bulk upload: fetching a job stays a walk down the queue's
index however many jobs wait (app.core.jobs.refresh_queue_statistics)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import psycopg
from procrastinate import JobContext
from procrastinate.jobs import Job

from app.core.db import create_engine, create_sessionmaker
from app.core.jobs import (
    QUEUE_STATISTICS_MIN_CHANGES,
    REFRESH_QUEUE_STATISTICS,
    refresh_queue_statistics,
)
from app.documents.storage import postgres_originals
from app.documents.tasks import WorkerDeps
from app.worker import create_job_app, running_worker
from tests.conftest import make_settings

# What a bulk upload queues: one ingestion job per document, each with its own lock (here
# of documents that no longer exist: a worker takes each and finds nothing to do).
QUEUE_JOBS = """
    SELECT procrastinate_defer_jobs_v1(array_agg(
        ROW('default', 'documents:ingest_document', 0, 'bulk-' || n, NULL,
            jsonb_build_object('document_id', gen_random_uuid()), NULL)
            ::procrastinate_job_to_defer_v1))
    FROM generate_series(1, %(count)s) AS n
"""
# The candidate query of procrastinate_fetch_job_v2 (procrastinate 3), for every queue.
FETCH_CANDIDATE = """
    EXPLAIN SELECT jobs.* FROM procrastinate_jobs AS jobs
    WHERE NOT EXISTS (
            SELECT 1 FROM procrastinate_jobs AS other_jobs
            WHERE jobs.lock IS NOT NULL AND other_jobs.lock = jobs.lock
              AND (other_jobs.status = 'doing'
                   OR (other_jobs.status = 'todo'
                       AND (other_jobs.priority > jobs.priority
                            OR (other_jobs.priority = jobs.priority
                                AND other_jobs.id < jobs.id)))))
      AND jobs.status = 'todo'
      AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= now())
    ORDER BY jobs.priority DESC, jobs.id ASC LIMIT 1
    FOR UPDATE OF jobs SKIP LOCKED
"""
STATISTICS = """
    SELECT n_mod_since_analyze, last_analyze FROM pg_stat_user_tables
    WHERE relname = 'procrastinate_jobs'
"""
WAITING = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"


def queue_jobs(database_url: str, count: int) -> None:
    """In a connection of its own: its backend's counts reach the statistics when it ends."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(QUEUE_JOBS, {"count": count})


def statistics(database_url: str) -> tuple[int, datetime | None]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(STATISTICS).fetchone()
    assert row is not None
    return row[0], row[1]


async def changes_counted(database_url: str, at_least: int) -> None:
    deadline = time.monotonic() + 15
    while statistics(database_url)[0] < at_least:
        assert time.monotonic() < deadline, "the changes never reached the statistics"
        await asyncio.sleep(0.1)


async def refresh(database_url: str) -> None:
    """The periodic maintenance job, run once through a real job-queue App."""
    job_app = create_job_app(database_url)
    async with job_app.open_async():
        job = Job(
            id=1,
            queue="default",
            lock=None,
            queueing_lock=None,
            task_name=REFRESH_QUEUE_STATISTICS,
            task_kwargs={"timestamp": 0},
        )
        context = JobContext(
            app=job_app, job=job, start_timestamp=time.time(), abort_reason=lambda: None
        )
        await refresh_queue_statistics(context, 0)


async def test_a_bulk_upload_refreshes_the_queue_statistics(database_url: str) -> None:
    queue_jobs(database_url, 1200)
    await changes_counted(database_url, at_least=1200)
    await refresh(database_url)

    changes, analyzed = statistics(database_url)
    assert analyzed is not None
    assert changes == 0
    with psycopg.connect(database_url) as conn:
        plan = "\n".join(str(row[0]) for row in conn.execute(FETCH_CANDIDATE))
    # The first waiting job from the queue's index, not a sort of all 1,200.
    assert "procrastinate_jobs_priority_idx" in plan, plan
    assert "Sort" not in plan, plan

    # Fifty more jobs on top of 1,200 are not worth a new analysis.
    queue_jobs(database_url, QUEUE_STATISTICS_MIN_CHANGES // 10)
    await changes_counted(database_url, at_least=QUEUE_STATISTICS_MIN_CHANGES // 10)
    await refresh(database_url)
    assert statistics(database_url)[1] == analyzed


async def test_the_maintenance_jobs_run_ahead_of_a_bulk_upload(
    database_url: str, tmp_path: Path
) -> None:
    """A real worker behind 2,000 queued jobs: the periodic refresh (and the stalled-job retry
    beside it) is taken before them, not after the last."""
    queue_jobs(database_url, 2000)
    await changes_counted(database_url, at_least=2000)
    settings = make_settings(database_url, tmp_path)
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    deps = WorkerDeps(
        settings=settings, sessionmaker=sessionmaker, originals=postgres_originals(sessionmaker)
    )
    try:
        async with running_worker(database_url, deps, concurrency=2):
            deadline = time.monotonic() + 30
            while statistics(database_url)[1] is None:
                assert time.monotonic() < deadline, "the queue was never analyzed"
                await asyncio.sleep(0.05)
            with psycopg.connect(database_url, autocommit=True) as conn:
                row = conn.execute(WAITING).fetchone()
            assert row is not None
            assert row[0] > 1000, f"analyzed only once {2000 - row[0]} of 2,000 jobs were done"
    finally:
        await engine.dispose()
