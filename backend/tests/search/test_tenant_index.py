"""A tenant above the exact-scan size gets its own HNSW index, built by a job."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.ai.factory import get_embedder
from app.core.database_url import libpq_url
from app.documents.indexing import create_tenant_vector_index
from app.documents.tasks import queue_tenant_vector_index
from app.search.config import get_retrieval_params
from app.search.queries import tenant_vector_index_name
from tests.conftest import register, upload, wait_until_settled

SECTIONS = "\n\n".join(
    f"# Section {i}\n\nParagraph {i} about rivers, floods, bread and yeast, number {i}."
    for i in range(6)
).encode()


@pytest.fixture
def small_exact_scan(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SEARCH_EXACT_SCAN_MAX_CHUNKS", "2")
    get_retrieval_params.cache_clear()
    yield
    get_retrieval_params.cache_clear()


async def _user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/api/v1/auth/me", headers=headers)).json()["id"])


def _index_state(database_url: str, name: str) -> tuple[bool, str] | None:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_class c "
            "JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = %s",
            (name,),
        ).fetchone()
    return None if row is None else (bool(row[0]), str(row[1]))


async def test_large_tenant_gets_its_own_index_and_search_uses_it(
    small_exact_scan: None, worker_app: FastAPI, worker_client: httpx.AsyncClient
) -> None:
    owner, other = await register(worker_client), await register(worker_client)
    for headers in (owner, other):
        doc = (await upload(worker_client, headers, ("notes.md", SECTIONS, "text/markdown"))).json()
        assert (await wait_until_settled(worker_client, headers, doc[0]["id"]))["status"] == "ready"
    owner_id, other_id = await _user_id(worker_client, owner), await _user_id(worker_client, other)
    settings = worker_app.state.settings
    model = get_embedder(settings).model_id
    name = tenant_vector_index_name(owner_id, model)
    deadline = asyncio.get_running_loop().time() + 60
    while (state := _index_state(settings.database_url, name)) is None or not state[0]:
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.2)
    assert str(owner_id) in state[1] and "hnsw" in state[1]
    # both tenants are over the threshold: each has an index of its own, over its rows only
    assert _index_state(settings.database_url, tenant_vector_index_name(other_id, model))

    plan_sql = text(
        "EXPLAIN SELECT id FROM chunks c WHERE c.user_id = :user_id AND c.embedding_model = :m "
        "ORDER BY c.embedding::vector(384) <=> CAST(:q AS vector(384)) LIMIT 5"
    )
    query_vector = "[" + ",".join(["0.05"] * 384) + "]"
    async with worker_app.state.sessionmaker() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            row[0]
            for row in await session.execute(
                plan_sql, {"user_id": owner_id, "m": model, "q": query_vector}
            )
        )
    assert name in plan

    response = await worker_client.post(
        "/api/v1/search", headers=owner, json={"query": "floods and yeast", "k": 5}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results and all(r["filename"] == "notes.md" for r in results)
    mine = {r["document_id"] for r in results}
    listed = (await worker_client.get("/api/v1/documents", headers=owner)).json()
    assert mine <= {d["id"] for d in listed}


async def test_build_is_idempotent_and_replaces_an_invalid_index(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await register(client)
    user_id = await _user_id(client, headers)
    url = libpq_url(app.state.settings.database_url)
    name = tenant_vector_index_name(user_id, "test-model")
    assert await create_tenant_vector_index(
        url, user_id=user_id, model_id="test-model", dimensions=384
    )
    assert not await create_tenant_vector_index(
        url, user_id=user_id, model_id="test-model", dimensions=384
    )
    with psycopg.connect(url, autocommit=True) as conn:  # as a build cut short leaves it
        conn.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", (name,)
        )
    assert _index_state(app.state.settings.database_url, name) is not None
    assert await create_tenant_vector_index(
        url, user_id=user_id, model_id="test-model", dimensions=384
    )
    state = _index_state(app.state.settings.database_url, name)
    assert state is not None and state[0]


async def test_no_build_while_another_worker_holds_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user_id = await _user_id(client, await register(client))
    url = libpq_url(app.state.settings.database_url)
    name = tenant_vector_index_name(user_id, "test-model")
    lock_key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with psycopg.connect(url, autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
        assert not await create_tenant_vector_index(
            url, user_id=user_id, model_id="test-model", dimensions=384
        )
    assert _index_state(app.state.settings.database_url, name) is None


async def test_build_is_queued_once_and_only_above_the_threshold(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user_id = await _user_id(client, await register(client))
    async with app.state.sessionmaker() as session:
        await session.execute(
            text(
                "INSERT INTO user_corpus_stats (user_id, chunk_count, total_length) "
                "VALUES (:user_id, 50, 500)"
            ),
            {"user_id": user_id},
        )
        for min_chunks in (50, 49, 49):  # not above 50; then above, twice
            await queue_tenant_vector_index(
                session,
                user_id=user_id,
                model_id="test-model",
                dimensions=384,
                min_chunks=min_chunks,
            )
        await session.commit()
        queued = (
            await session.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task "
                    "AND args->>'user_id' = :user_id AND status = 'todo'"
                ),
                {"task": "search:build_tenant_vector_index", "user_id": str(user_id)},
            )
        ).scalar_one()
    assert queued == 1
