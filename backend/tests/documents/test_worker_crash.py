"""A worker killed with SIGKILL mid-document: nothing half-written is ever visible, and the job
is retried to completion by another worker, leaving exactly one set of chunks."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from fpdf import FPDF

from tests.conftest import SHARED

if TYPE_CHECKING:
    from app.documents.models import Document

SCIFACT = SHARED / "bench" / "scifact" / "corpus.jsonl"
REPO = Path(__file__).resolve().parents[3]


def long_pdf(pages: int) -> bytes:
    document = FPDF()
    document.set_font("Helvetica", size=10)
    with SCIFACT.open() as corpus:
        for _ in range(pages):
            record = json.loads(next(corpus))
            document.add_page()
            text = f"{record['title']}\n\n{record['text']}"
            document.multi_cell(0, 5, text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(document.output())


def start_worker(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO", "HF_HUB_OFFLINE": "1"}
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=REPO / "backend",
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def document_state(
    conn: psycopg.Connection, document_id: uuid.UUID
) -> tuple[str, str | None, int, int]:
    row = conn.execute(
        "SELECT status, stage, progress, (SELECT count(*) FROM chunks WHERE document_id = d.id) "
        "FROM documents d WHERE id = %s",
        (document_id,),
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


async def queue_long_pdf(database_url: str, *, email: str) -> Document:
    """A new user's 60-page PDF, queued for ingestion (committed)."""
    from app.auth.service import create_user
    from app.core.db import create_engine, create_sessionmaker
    from app.documents.service import Upload, create_documents
    from app.documents.storage import postgres_originals

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        user = await create_user(
            session, email=email, password="long-password-1", full_name="Worker Test"
        )
        (document,) = await create_documents(
            session,
            user_id=user.id,
            uploads=[Upload(filename="long.pdf", data=long_pdf(60))],
            originals=postgres_originals(sessionmaker),
        )
        await session.commit()
    await engine.dispose()
    return document


@pytest.mark.skipif(not SCIFACT.exists(), reason="needs ../shared/bench/scifact")
async def test_kill_9_mid_document_then_retry_completes_once(
    database_url: str, tmp_path: Path, workers: list[subprocess.Popen[bytes]]
) -> None:
    document = await queue_long_pdf(database_url, email="crash@example.com")

    log = tmp_path / "workers.log"
    workers.append(start_worker(database_url, log))
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Wait until the first worker is embedding, checking nothing is visible meanwhile.
        deadline = time.monotonic() + 120
        while True:
            status, stage, progress, chunks = document_state(conn, document.id)
            assert chunks == 0, "chunks became visible before the document was ready"
            if status == "processing" and stage == "embed" and progress > 30:
                break
            assert status != "ready", "the document finished before the kill; make it longer"
            assert time.monotonic() < deadline, (status, stage, progress)
            await asyncio.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        assert document_state(conn, document.id)[3] == 0

        killed_at = time.monotonic()
        workers.append(start_worker(database_url, log))
        while True:
            status, stage, progress, chunks = document_state(conn, document.id)
            if status == "ready":
                break
            assert status != "failed", log.read_text()[-3000:]
            assert chunks == 0
            assert time.monotonic() - killed_at < 180, (status, stage, progress)
            await asyncio.sleep(0.2)

        chunk_count = conn.execute(
            "SELECT chunk_count FROM documents WHERE id = %s", (document.id,)
        ).fetchone()
        ordinals = [
            r[0]
            for r in conn.execute(
                "SELECT ordinal FROM chunks WHERE document_id = %s ORDER BY ordinal", (document.id,)
            ).fetchall()
        ]
        assert chunk_count is not None
        assert ordinals == list(range(chunk_count[0]))
        jobs = conn.execute(
            "SELECT status, attempts FROM procrastinate_jobs WHERE task_name = 'documents:ingest_document'"
        ).fetchall()
        # The job ran to completion (successful jobs are deleted) and was not duplicated.
        assert all(status != "doing" for status, _ in jobs), jobs
        postings_docs = conn.execute(
            "SELECT count(DISTINCT chunk_id) FROM chunk_terms WHERE document_id = %s",
            (document.id,),
        ).fetchone()
        assert postings_docs == (chunk_count[0],)


@pytest.mark.skipif(not SCIFACT.exists(), reason="needs ../shared/bench/scifact")
async def test_graceful_shutdown_mid_document_requeues_it(
    database_url: str, tmp_path: Path, workers: list[subprocess.Popen[bytes]]
) -> None:
    """SIGTERM with a job running longer than the grace period: the job goes back to the
    queue (not `aborted` for good) and the document says it is waiting, then completes."""
    document = await queue_long_pdf(database_url, email="stop@example.com")

    log = tmp_path / "workers.log"
    os.environ["WORKER_SHUTDOWN_GRACE_S"] = "0.5"
    try:
        workers.append(start_worker(database_url, log))
    finally:
        del os.environ["WORKER_SHUTDOWN_GRACE_S"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        deadline = time.monotonic() + 120
        while document_state(conn, document.id)[1] != "embed":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        workers[0].send_signal(signal.SIGTERM)
        workers[0].wait(30)
        status, stage, _, chunks = document_state(conn, document.id)
        assert (status, stage, chunks) == ("queued", "queued", 0)
        job_status = conn.execute(
            "SELECT status FROM procrastinate_jobs WHERE task_name = 'documents:ingest_document'"
        ).fetchall()
        assert job_status == [("todo",)], log.read_text()[-2000:]

        workers.append(start_worker(database_url, log))
        deadline = time.monotonic() + 180
        while (status := document_state(conn, document.id)[0]) != "ready":
            assert status != "failed", log.read_text()[-2000:]
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
