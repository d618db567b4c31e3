"""Finished documents of concurrent jobs become searchable together (one transaction), and each
keeps its own outcome: a document whose rows fail the shared transaction fails alone, and a
document deleted meanwhile is written by nobody."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.ai.embeddings import DEFAULT_LOCAL_MODEL_ID
from app.documents import tasks
from app.documents.chunking import ChunkDraft
from app.documents.models import Chunk, Document
from app.documents.tasks import DocumentPublisher, FinishedDocument
from tests.conftest import register, upload


class FixedEmbedder:
    model_id = DEFAULT_LOCAL_MODEL_ID
    dimensions = 384


def finished(document: Document, *, dimensions: int = 384) -> FinishedDocument:
    drafts = [
        ChunkDraft(i, f"Passage {i} of {document.filename} about rivers.", 1, 1, 0, 40, ("T",), 9)
        for i in range(3)
    ]
    vectors = np.random.default_rng(0).normal(size=(3, dimensions))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return FinishedDocument(document, drafts, vectors, ())


async def queued_documents(client: httpx.AsyncClient, app: FastAPI, count: int) -> list[Document]:
    headers = await register(client)
    files = [
        (f"note-{n}.md", f"# Note {n}\n\nText {n}.".encode(), "text/markdown") for n in range(count)
    ]
    ids = [uuid.UUID(d["id"]) for d in (await upload(client, headers, *files)).json()]
    async with app.state.sessionmaker() as session:
        rows = await session.execute(select(Document).where(Document.id.in_(ids)))
        by_id = {document.id: document for document in rows.scalars()}
    return [by_id[i] for i in ids]


async def states(app: FastAPI, documents: list[Document]) -> list[tuple[str, int]]:
    async with app.state.sessionmaker() as session:
        out = []
        for document in documents:
            status = await session.scalar(select(Document.status).where(Document.id == document.id))
            chunks = await session.scalar(
                select(func.count()).select_from(Chunk).where(Chunk.document_id == document.id)
            )
            out.append((str(status), int(chunks or 0)))
        return out


async def test_concurrent_documents_share_one_transaction(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = await queued_documents(client, app, 4)
    calls: list[int] = []
    original = tasks.publish_documents

    async def counting(sessionmaker, finished, *, embedder):  # type: ignore[no-untyped-def]
        calls.append(len(finished))
        return await original(sessionmaker, finished, embedder=embedder)

    monkeypatch.setattr(tasks, "publish_documents", counting)
    publisher = DocumentPublisher(app.state.sessionmaker)
    results = await asyncio.gather(
        *(publisher.publish(finished(d), embedder=FixedEmbedder()) for d in documents)  # type: ignore[arg-type]
    )
    assert results == [True] * 4
    assert calls == [4]
    assert await states(app, documents) == [("ready", 3)] * 4


async def test_a_failing_document_fails_alone_and_a_deleted_one_is_not_written(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    documents = await queued_documents(client, app, 4)
    good, bad, gone, other = documents
    async with app.state.sessionmaker() as session:
        await session.execute(Document.__table__.delete().where(Document.id == gone.id))
        await session.commit()
    publisher = DocumentPublisher(app.state.sessionmaker)
    embedder = FixedEmbedder()
    results = await asyncio.gather(
        publisher.publish(finished(good), embedder=embedder),  # type: ignore[arg-type]
        publisher.publish(finished(bad, dimensions=7), embedder=embedder),  # type: ignore[arg-type]
        publisher.publish(finished(gone), embedder=embedder),  # type: ignore[arg-type]
        publisher.publish(finished(other), embedder=embedder),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    assert results[0] is True and results[3] is True
    assert isinstance(results[1], Exception)  # its job marks it failed
    assert results[2] is False
    assert await states(app, [good, bad, other]) == [("ready", 3), ("queued", 0), ("ready", 3)]
