"""Cold search: a tenant's first search starts a background read of its own HNSW index (with
pg_prewarm), postings and chunk rows; later searches in the interval start none."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.ai.factory import get_embedder
from app.search.config import get_retrieval_params
from app.search.prewarm import prewarm_tenant, prewarmer
from app.search.queries import tenant_vector_index_name
from tests.conftest import register, upload, wait_until_settled
from tests.search.test_tenant_index import SECTIONS, _index_state, _user_id


@pytest.fixture
def small_exact_scan(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SEARCH_EXACT_SCAN_MAX_CHUNKS", "2")
    get_retrieval_params.cache_clear()
    yield
    get_retrieval_params.cache_clear()


async def test_first_search_prewarms_the_tenant_once(
    small_exact_scan: None, worker_app: FastAPI, worker_client: httpx.AsyncClient
) -> None:
    owner = await register(worker_client)
    doc = (await upload(worker_client, owner, ("notes.md", SECTIONS, "text/markdown"))).json()
    assert (await wait_until_settled(worker_client, owner, doc[0]["id"]))["status"] == "ready"
    owner_id = await _user_id(worker_client, owner)
    settings = worker_app.state.settings
    model = get_embedder(settings).model_id
    deadline = asyncio.get_running_loop().time() + 60
    name = tenant_vector_index_name(owner_id, model)
    while (state := _index_state(settings.database_url, name)) is None or not state[0]:
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.2)

    async with worker_app.state.sessionmaker() as session:
        done = await prewarm_tenant(session, user_id=owner_id, model_id=model)
        # the migration installed pg_prewarm: the tenant's own index was read whole
        assert done.index_blocks > 0
        assert done.chunks == 6
        assert done.postings > 6
        stranger = await prewarm_tenant(session, user_id=uuid.uuid4(), model_id=model)
        assert (stranger.index_blocks, stranger.postings, stranger.chunks) == (0, 0, 0)

    started: list[uuid.UUID] = []
    original = prewarmer._prewarm

    async def recording(engine: object, *, user_id: uuid.UUID, model_id: str) -> None:
        started.append(user_id)
        await original(engine, user_id=user_id, model_id=model_id)  # type: ignore[arg-type]

    prewarmer._last.clear()
    prewarmer._prewarm = recording  # type: ignore[method-assign]
    try:
        for query in ("river floods", "bread and yeast"):
            response = await worker_client.post(
                "/api/v1/search", headers=owner, json={"query": query, "k": 3}
            )
            assert response.status_code == 200, response.text
            assert response.json()
        await prewarmer.wait()
    finally:
        del prewarmer._prewarm
    assert started == [owner_id]
