from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import CORPUS, register, upload, wait_until_settled

RIVERS = b"""# Rivers of Canada

The Mackenzie River is the longest river system in Canada and flows into the Beaufort Sea.

## Hydrology

Spring floods on the Red River are caused by snowmelt and ice jams in April.
"""
BAKING = b"""# Sourdough baking

A sourdough starter is a fermented mixture of flour and water containing wild yeast.
Bake the loaf in a preheated Dutch oven at 250 degrees for twenty minutes.
"""


@pytest.fixture
async def two_users(
    worker_client: httpx.AsyncClient,
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    alice = await register(worker_client)
    bob = await register(worker_client)
    ids = {}
    for headers, name, data in ((alice, "rivers.md", RIVERS), (bob, "baking.md", BAKING)):
        doc = (await upload(worker_client, headers, (name, data, "text/markdown"))).json()[0]
        assert (await wait_until_settled(worker_client, headers, doc["id"]))["status"] == "ready"
        ids[name] = doc["id"]
    return alice, bob, ids


async def test_search_finds_passage_with_citation_fields(
    worker_client: httpx.AsyncClient,
    two_users: tuple[dict[str, str], dict[str, str], dict[str, str]],
) -> None:
    alice, _, ids = two_users
    response = await worker_client.post(
        "/api/v1/search",
        headers=alice,
        json={"query": "What causes floods on the Red River?", "k": 5},
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results, "expected at least one hit"
    top = results[0]
    assert top["document_id"] == ids["rivers.md"]
    assert top["filename"] == "rivers.md"
    assert "snowmelt" in top["text"]
    assert top["page_start"] == 1
    assert top["heading_path"][0] == "Rivers of Canada"
    assert top["char_end"] > top["char_start"] >= 0
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


async def test_search_never_returns_another_users_chunks(
    worker_client: httpx.AsyncClient,
    two_users: tuple[dict[str, str], dict[str, str], dict[str, str]],
) -> None:
    alice, bob, ids = two_users
    for query in ("sourdough starter wild yeast", "Mackenzie River Beaufort Sea"):
        for headers, own in ((alice, ids["rivers.md"]), (bob, ids["baking.md"])):
            results = (
                await worker_client.post("/api/v1/search", headers=headers, json={"query": query})
            ).json()["results"]
            assert {r["document_id"] for r in results} <= {own}


async def test_search_restricted_to_documents(
    worker_client: httpx.AsyncClient,
    two_users: tuple[dict[str, str], dict[str, str], dict[str, str]],
) -> None:
    alice, _, ids = two_users
    other = (
        await upload(
            worker_client,
            alice,
            ("crazy.pdf", (CORPUS / "crazyones.pdf").read_bytes(), "application/pdf"),
        )
    ).json()[0]
    await wait_until_settled(worker_client, alice, other["id"])
    body = {"query": "river", "document_ids": [other["id"]]}
    results = (await worker_client.post("/api/v1/search", headers=alice, json=body)).json()[
        "results"
    ]
    assert {r["document_id"] for r in results} <= {other["id"]}
    # Another user's document id in the filter gives nothing, not their content.
    body = {"query": "sourdough", "document_ids": [ids["baking.md"]]}
    assert (await worker_client.post("/api/v1/search", headers=alice, json=body)).json()[
        "results"
    ] == []


async def test_deleted_document_never_comes_back(
    worker_client: httpx.AsyncClient,
    two_users: tuple[dict[str, str], dict[str, str], dict[str, str]],
) -> None:
    alice, _, ids = two_users
    assert (
        await worker_client.delete(f"/api/v1/documents/{ids['rivers.md']}", headers=alice)
    ).status_code == 204
    results = (
        await worker_client.post("/api/v1/search", headers=alice, json={"query": "Mackenzie River"})
    ).json()
    assert results["results"] == []


async def test_search_validation(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    assert (
        await client.post("/api/v1/search", headers=auth_headers, json={"query": ""})
    ).status_code == 422
    assert (
        await client.post("/api/v1/search", headers=auth_headers, json={"query": "x", "k": 0})
    ).status_code == 422
    assert (await client.post("/api/v1/search", json={"query": "x"})).status_code == 401
    empty = await client.post("/api/v1/search", headers=auth_headers, json={"query": "anything"})
    assert empty.status_code == 200
    assert empty.json() == {"results": []}


async def test_exact_and_index_paths_agree(
    worker_app: FastAPI,
    worker_client: httpx.AsyncClient,
    two_users: tuple[dict[str, str], dict[str, str], dict[str, str]],
) -> None:
    """Small scopes are searched exactly, large ones through HNSW: same answers here."""
    import dataclasses
    import uuid as uuid_module

    from app.search.config import get_retrieval_params
    from app.search.service import search

    alice, _, _ = two_users
    me = (await worker_client.get("/api/v1/auth/me", headers=alice)).json()
    defaults = get_retrieval_params()
    exact = dataclasses.replace(defaults, exact_scan_max_chunks=10**9, exact_scan_max_share=1.0)
    indexed = dataclasses.replace(defaults, exact_scan_max_chunks=0)
    rankings = []
    for params in (exact, indexed):
        async with worker_app.state.sessionmaker() as session:
            hits = await search(
                session,
                settings=worker_app.state.settings,
                user_id=uuid_module.UUID(me["id"]),
                query="spring floods snowmelt",
                k=5,
                params=params,
            )
        rankings.append([hit.chunk_id for hit in hits])
    assert rankings[0]
    assert rankings[0] == rankings[1]


def test_hnsw_candidate_list_grows_as_the_tenants_share_shrinks() -> None:
    from app.search.retrieval import RetrievalParams, _ef_search, _searched_exactly, _Tenant

    params = RetrievalParams()
    whole = _ef_search(_Tenant(chunks=1_000_000, share=1.0), params)
    fifth = _ef_search(_Tenant(chunks=200_000, share=0.2), params)
    hundredth = _ef_search(_Tenant(chunks=50_000, share=0.01), params)
    assert whole == params.ef_search
    assert fifth == round(params.ef_search_per_share / 0.2)
    assert whole < fifth < hundredth == params.max_ef_search
    own = _ef_search(_Tenant(chunks=100_000, share=0.1, own_index=True), params)
    assert own == params.ef_search  # its own graph holds only its rows
    assert _searched_exactly(_Tenant(chunks=10_000, share=0.01), params)
    assert not _searched_exactly(_Tenant(chunks=100_000, share=0.1), params)
    assert not _searched_exactly(_Tenant(chunks=500, share=0.5), params)
