"""The memory attacks of issue #12 against the real stack (uvicorn on a socket, its worker,
PostgreSQL), scaled down to seconds: each document fails with a reason or goes through
within bounded memory, deleting a document stops its job, and the worker carries on."""

from __future__ import annotations

import asyncio
import threading
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import psycopg
import pytest

from app.documents.parse_process import MEMORY_LIMIT
from app.main import create_app
from tests.conftest import make_settings, register, upload, wait_until_settled
from tests.documents.test_parse_process import MEMORY_HUNGRY_HTML, prose
from tests.hostile_files import lying_docx, one_line_text
from tests.ops.test_faults import LiveServer, module_database

API = "/api/v1"
MB = 1024 * 1024
OUR_CHILDREN = ("app.documents.parse_process", "app.ai.embedding_process")


class TreeMemory:
    """Peak resident memory of this process (the server runs in it) and its parse and
    embedding children, sampled every 20 ms."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.baseline = self.peak = tree_rss()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, tree_rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / MB

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def tree_rss() -> int:
    total = psutil.Process().memory_info().rss
    for child in psutil.Process().children(recursive=True):
        try:
            if any(name in " ".join(child.cmdline()) for name in OUR_CHILDREN):
                total += child.memory_info().rss
        except psutil.Error:
            continue
    return total


def parse_children() -> list[psutil.Process]:
    children = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "app.documents.parse_process" in " ".join(child.cmdline()):
                children.append(child)
        except psutil.Error:
            continue
    return children


async def wait_until_busy(process: psutil.Process, timeout_s: float = 30) -> None:
    """Until the process spends CPU: the job says "parse" as soon as it claims the
    document, a moment before the parse process has the file."""
    start = sum(process.cpu_times()[:2])
    deadline = time.monotonic() + timeout_s
    while sum(process.cpu_times()[:2]) - start < 0.2:
        assert time.monotonic() < deadline, "the parse process never started on the file"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def limits_database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    yield from module_database(pg_admin_url, "limits")


def live_server(database_url: str, tmp: Path, **overrides: Any) -> LiveServer:
    settings = make_settings(database_url, tmp, rate_limit_enabled=False, **overrides)
    return LiveServer(create_app(settings))


@pytest.fixture(scope="module")
def server(limits_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("limits")
    with live_server(limits_database_url, tmp, parse_memory_limit_mb=128) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
        yield client


@pytest.fixture
async def headers(http: httpx.AsyncClient) -> dict[str, str]:
    """A user with one ready document: the embedding and parse children are running."""
    user = await register(http)
    await ingest_small_document(http, user)
    return user


async def ingest_small_document(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    marker = uuid.uuid4().hex[:8]
    good = f"# Canal report {marker}\n\nThe Kallisto canal locks open at dawn.\n".encode()
    doc = (await upload(client, headers, (f"good-{marker}.md", good, "text/markdown"))).json()[0]
    settled = await wait_until_settled(client, headers, doc["id"])
    assert settled["status"] == "ready", settled


async def upload_one(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, data: bytes
) -> dict[str, Any]:
    response = await upload(client, headers, (name, data, "application/octet-stream"))
    assert response.status_code == 202, response.text
    return dict(response.json()[0])


async def wait_for_stage(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    document_id: str,
    stages: tuple[str, ...],
    timeout_s: float = 90,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = (await client.get(f"{API}/documents/{document_id}", headers=headers)).json()
        if body["status"] == "processing" and body["stage"] in stages:
            return dict(body)
        assert body["status"] in ("queued", "processing"), body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


def job_state(database_url: str, document_id: str) -> list[tuple[str, bool]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT status::text, abort_requested FROM procrastinate_jobs WHERE lock = %s",
            (f"document:{document_id}",),
        ).fetchall()
    return [(status, abort_requested) for status, abort_requested in rows]


def chunk_rows(database_url: str, document_id: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM chunks WHERE document_id = %s", (document_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


async def wait_for_job_to_end(database_url: str, document_id: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        states = job_state(database_url, document_id)
        if not states or states[0][0] != "doing":
            return states[0][0] if states else "deleted"
        assert time.monotonic() < deadline, f"the job is still running: {states}"
        await asyncio.sleep(0.1)


async def test_a_docx_lying_about_its_size_fails_fast_as_a_zip_bomb(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """510 kB that inflate to 500 MB while declaring 4 kB: +875 MB and 'damaged' before."""
    bomb = lying_docx(500_000_000)
    assert len(bomb) < 600_000
    with TreeMemory() as memory:
        started = time.monotonic()
        doc = await upload_one(http, headers, "bomb.docx", bomb)
        settled = await wait_until_settled(http, headers, doc["id"])
        elapsed = time.monotonic() - started
    assert settled["status"] == "failed", settled
    assert "zip bomb" in settled["error"]
    assert elapsed < 30
    assert memory.growth_mb < 150, memory.growth_mb
    await ingest_small_document(http, headers)


async def test_a_document_over_the_memory_limit_fails_and_the_worker_carries_on(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    with TreeMemory() as memory:
        doc = await upload_one(http, headers, "elements.html", MEMORY_HUNGRY_HTML)
        settled = await wait_until_settled(http, headers, doc["id"])
    assert settled["status"] == "failed", settled
    assert settled["error"] == MEMORY_LIMIT
    assert settled["chunk_count"] == 0
    assert memory.growth_mb < 128 + 100, memory.growth_mb  # the limit, plus the upload
    await ingest_small_document(http, headers)


async def test_a_document_over_the_time_limit_fails_and_the_worker_carries_on(
    database_url: str, tmp_path: Path
) -> None:
    # A database of its own: the module's server would otherwise take the job.
    with live_server(database_url, tmp_path, parse_timeout_s=1) as quick:
        async with httpx.AsyncClient(base_url=quick.base_url, timeout=120) as client:
            user = await register(client)
            started = time.monotonic()
            doc = await upload_one(client, user, "prose.txt", prose(8 * MB))
            settled = await wait_until_settled(client, user, doc["id"])
            assert settled["status"] == "failed", settled
            assert settled["error"].startswith(
                "Reading this file takes longer than this server allows (1 second)."
            )
            assert time.monotonic() - started < 30
            await ingest_small_document(client, user)


async def test_a_megabytes_long_line_is_chunked_in_bounded_memory_and_delete_stops_it(
    http: httpx.AsyncClient, headers: dict[str, str], limits_database_url: str
) -> None:
    """The 49 MB one-line attack at 3 MB (before: +475 MB, in the server process),
    then a delete during its embedding: the job is aborted and nothing is written."""
    with TreeMemory() as memory:
        doc = await upload_one(http, headers, "line.txt", one_line_text(3 * MB))
        await wait_for_stage(http, headers, doc["id"], ("embed",), timeout_s=120)
    assert memory.growth_mb < 250, memory.growth_mb
    response = await http.delete(f"{API}/documents/{doc['id']}", headers=headers)
    assert response.status_code == 204
    assert await wait_for_job_to_end(limits_database_url, doc["id"], timeout_s=20) == "aborted"
    assert chunk_rows(limits_database_url, doc["id"]) == 0
    response = await http.get(f"{API}/documents/{doc['id']}", headers=headers)
    assert response.status_code == 404
    await ingest_small_document(http, headers)


async def test_deleting_a_document_mid_parse_kills_its_parse(
    http: httpx.AsyncClient, headers: dict[str, str], limits_database_url: str
) -> None:
    doc = await upload_one(http, headers, "prose.txt", prose(8 * MB))
    await wait_for_stage(http, headers, doc["id"], ("parse", "chunk"))
    (parsing,) = parse_children()
    await wait_until_busy(parsing)
    response = await http.delete(f"{API}/documents/{doc['id']}", headers=headers)
    assert response.status_code == 204
    assert await wait_for_job_to_end(limits_database_url, doc["id"], timeout_s=10) == "aborted"
    parsing.wait(timeout=5)  # killed, not left to finish
    assert chunk_rows(limits_database_url, doc["id"]) == 0
    await ingest_small_document(http, headers)


async def test_deleting_a_document_waiting_for_its_parse(
    http: httpx.AsyncClient, headers: dict[str, str], limits_database_url: str
) -> None:
    """Waiting for the parse process behind a long parse, deleted before its turn."""
    slow = await upload_one(http, headers, "prose.txt", prose(8 * MB))
    await wait_for_stage(http, headers, slow["id"], ("parse", "chunk"))
    waiting = await upload_one(http, headers, "later.txt", prose(MB // 2))
    response = await http.delete(f"{API}/documents/{waiting['id']}", headers=headers)
    assert response.status_code == 204
    ended = await wait_for_job_to_end(limits_database_url, waiting["id"], timeout_s=10)
    assert ended in ("aborted", "deleted")
    assert (await http.delete(f"{API}/documents/{slow['id']}", headers=headers)).status_code == 204
    await wait_for_job_to_end(limits_database_url, slow["id"], timeout_s=10)
    await ingest_small_document(http, headers)


async def test_a_job_whose_document_vanished_stops_at_the_next_stage(
    http: httpx.AsyncClient, headers: dict[str, str], limits_database_url: str
) -> None:
    """The job's own check, for an abort request that never reaches the worker (here the
    row is deleted behind the API's back): it stops between embedding batches."""
    doc = await upload_one(http, headers, "prose.txt", prose(2 * MB))  # minutes to embed
    await wait_for_stage(http, headers, doc["id"], ("embed",))
    with psycopg.connect(limits_database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM documents WHERE id = %s", (doc["id"],))
    assert await wait_for_job_to_end(limits_database_url, doc["id"], timeout_s=30) == "deleted"
    assert chunk_rows(limits_database_url, doc["id"]) == 0
    await ingest_small_document(http, headers)


async def test_a_large_documents_chunks_are_written_a_slice_at_a_time(database_url: str) -> None:
    """75,000 chunks (a 49 MB text) once took ~750 MB of parameters in one statement."""
    from sqlalchemy import text

    from app.auth.service import create_user
    from app.core.db import create_engine, create_sessionmaker
    from app.documents.chunking import ChunkDraft
    from app.documents.indexing import DocumentContent, write_chunks_of_documents

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    document_id = uuid.uuid4()
    async with sessionmaker() as session:
        user = await create_user(
            session, email="large@example.com", password="long-password-1", full_name="L"
        )
        await session.execute(
            text(
                "INSERT INTO documents (id, user_id, filename, content_type, kind, size_bytes, "
                "sha256, status, stage) VALUES (:id, :user_id, 'large.txt', 'text/plain', "
                "'text', 1, 'x', 'processing', 'embed')"
            ),
            {"id": document_id, "user_id": user.id},
        )
        await session.commit()
    count = 6000
    chunk_text = "lorem ipsum dolor sit amet " * 40
    drafts = [
        ChunkDraft(i, chunk_text, 1, 1, i, i + len(chunk_text), (), 230) for i in range(count)
    ]
    vectors = np.random.default_rng(7).random((count, 384), dtype=np.float32)
    try:
        async with sessionmaker() as session:
            tracemalloc.start()
            try:
                await write_chunks_of_documents(
                    session,
                    documents=[DocumentContent(user.id, document_id, drafts, vectors)],
                    model_id="test-model",
                    replacing=(),
                )
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            await session.commit()
    finally:
        await engine.dispose()
    assert chunk_rows(database_url, str(document_id)) == count
    assert peak < 15 * MB, peak / MB
