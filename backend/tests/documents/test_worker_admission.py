"""How many documents a worker processes at once: ``concurrency`` large ones (each holds its
original, pages and chunks in memory), and small ones beyond that, so that a bulk import of
small files keeps the embedding model's passes full."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.core.settings import Settings
from app.documents import tasks
from app.documents.models import Document
from app.documents.storage import postgres_originals
from app.documents.tasks import SMALL_DOCUMENTS_EXTRA, WorkerDeps
from app.worker import running_worker
from tests.conftest import register, upload

LARGE = 4096  # bytes, above the lowered small-document size below


async def in_flight_at_most(
    app: FastAPI, settings: Settings, ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int]:
    """Run a real worker (concurrency 1) over the queued jobs, with each job's processing
    replaced by a probe that holds it for a while: the most large and the most small
    documents in processing at the same moment."""
    sizes: dict[uuid.UUID, int] = {}
    running = {"large": 0, "small": 0}
    peak = {"large": 0, "small": 0}
    done: set[uuid.UUID] = set()
    all_done = asyncio.Event()

    async def probe(
        sessionmaker: Any, embedder_factory: Any, parse_pool: Any, document_id: uuid.UUID, **_: Any
    ) -> None:
        kind = "large" if sizes[document_id] >= LARGE else "small"
        running[kind] += 1
        peak[kind] = max(peak[kind], running[kind])
        await asyncio.sleep(0.3)
        running[kind] -= 1
        done.add(document_id)
        if len(done) == len(ids):
            all_done.set()

    async with app.state.sessionmaker() as session:
        rows = await session.execute(select(Document.id, Document.size_bytes))
        sizes.update({row.id: row.size_bytes for row in rows})
    monkeypatch.setattr(tasks, "ingest", probe)
    deps = WorkerDeps(
        settings=settings,
        sessionmaker=app.state.sessionmaker,
        originals=postgres_originals(app.state.sessionmaker),
        concurrency=1,
    )
    assert settings.database_url is not None
    async with running_worker(settings.database_url, deps):
        async with asyncio.timeout(60):
            await all_done.wait()
    return peak["large"], peak["small"]


async def test_large_documents_are_bounded_and_small_ones_run_beyond(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "SMALL_DOCUMENT_BYTES", LARGE - 1)
    headers = await register(client)
    files = [(f"big-{n}.txt", f"{n} ".encode() * LARGE, "text/plain") for n in range(3)] + [
        (f"small-{n}.txt", f"small note {n}".encode(), "text/plain") for n in range(6)
    ]
    response = await upload(client, headers, *files)
    assert response.status_code == 202, response.text
    ids = [document["id"] for document in response.json()]

    large, small = await in_flight_at_most(app, settings, ids, monkeypatch)

    # concurrency=1: one large document at a time, however many jobs the queue hands out;
    # the six small ones were processed side by side.
    assert large == 1
    assert 1 < small <= 1 + SMALL_DOCUMENTS_EXTRA
