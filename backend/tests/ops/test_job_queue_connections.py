"""Only processes that run a worker hold job-queue connections on the direct URL: an API with
RUN_WORKER=false defers jobs with SQL in its request transaction and keeps no direct pool open
(Neon counts direct connections, and an idle one keeps the compute awake)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import psycopg

from app.main import create_app
from tests.conftest import make_settings, register, upload


def _tagged(url: str, application_name: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}application_name={application_name}"


def _connections(url: str, application_name: str) -> int:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
        assert row is not None
        return int(row[0])


async def _direct_connections_while_serving(
    database_url: str, tmp_path: Path, *, run_worker: bool
) -> tuple[int, int]:
    """(direct connections after an upload, ingestion jobs queued)."""
    tag = f"direct-{uuid.uuid4().hex[:12]}"
    settings = make_settings(
        database_url,
        tmp_path,
        run_worker=run_worker,
        database_direct_url=_tagged(database_url, tag),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = await register(client)
            response = await upload(client, headers, ("note.txt", b"a queued note", "text/plain"))
            assert response.status_code == 202, response.text
            held = _connections(database_url, tag)
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'documents:ingest_document'"
        ).fetchone()
        assert row is not None
    return held, int(row[0])


async def test_api_without_worker_holds_no_direct_connection(
    database_url: str, tmp_path: Path
) -> None:
    held, jobs = await _direct_connections_while_serving(database_url, tmp_path, run_worker=False)
    assert jobs == 1  # the upload still queued its ingestion (SQL in the request transaction)
    assert held == 0


async def test_api_with_worker_listens_on_the_direct_url(database_url: str, tmp_path: Path) -> None:
    """The other side, so the check above can fail: a worker process does hold them."""
    held, _ = await _direct_connections_while_serving(database_url, tmp_path, run_worker=True)
    assert held >= 1
