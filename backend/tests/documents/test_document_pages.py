"""Stored page text and passage locations: what the document viewer shows and marks."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, update

from app.documents.models import Chunk, DocumentPage
from tests.conftest import pdf, register, upload, wait_until_settled

VICKSBURG = "Seige_of_Vicksburg_Sample_OCR.pdf"


async def _ready(
    client: httpx.AsyncClient, headers: dict[str, str], *files: tuple[str, bytes, str]
) -> list[str]:
    ids = []
    for document in (await upload(client, headers, *files)).json():
        assert (await wait_until_settled(client, headers, document["id"]))["status"] == "ready"
        ids.append(str(document["id"]))
    return ids


async def test_pages_are_stored_with_their_furniture_and_scoped_to_their_owner(
    worker_client: httpx.AsyncClient,
) -> None:
    alice = await register(worker_client)
    (document_id,) = await _ready(worker_client, alice, pdf(VICKSBURG))
    page = await worker_client.get(f"/api/v1/documents/{document_id}/pages/4", headers=alice)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["number"] == 4
    assert body["page_count"] == 6
    assert "let the long roll" in body["text"]
    furniture = [body["text"][span["start"] : span["end"]] for span in body["furniture"]]
    assert furniture == ["THE SIEGE OP VICKSBURG. 53"]

    missing = await worker_client.get(f"/api/v1/documents/{document_id}/pages/7", headers=alice)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "This document has no page 7."
    bob = await register(worker_client)
    for path in ("/pages/1", "/chunks/1"):
        stranger = await worker_client.get(f"/api/v1/documents/{document_id}{path}", headers=bob)
        assert stranger.status_code == 404
        assert stranger.json()["error"]["message"] == "Document not found."
    invalid = await worker_client.get(f"/api/v1/documents/{document_id}/pages/0", headers=alice)
    assert invalid.status_code == 422


async def test_search_highlights_index_the_stored_page_text(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    (document_id,) = await _ready(worker_client, headers, pdf(VICKSBURG))
    results = (
        await worker_client.post(
            "/api/v1/search",
            headers=headers,
            json={"query": "How close to Fort Hill was the regiment?", "k": 5},
        )
    ).json()["results"]
    pages: dict[int, str] = {}
    for result in results:
        assert result["highlights"], result
        assert (
            result["page"]
            == max(result["highlights"][:1], key=lambda h: h["end"] - h["start"])["page"]
        )
        for highlight in result["highlights"]:
            if highlight["page"] not in pages:
                pages[highlight["page"]] = (
                    await worker_client.get(
                        f"/api/v1/documents/{document_id}/pages/{highlight['page']}",
                        headers=headers,
                    )
                ).json()["text"]
            # The offsets address the page text the viewer shows, and the text is the slice.
            assert (
                pages[highlight["page"]][highlight["start"] : highlight["end"]] == highlight["text"]
            )
        # The snippet holds the cited sentence whole, and says where it is.
        (start, end), *_ = result["snippet_highlights"]
        assert (
            " ".join(result["highlights"][0]["text"].split())[:40] in result["snippet"][start:end]
        )
    top = results[0]
    assert top["page"] == 5
    assert "so close to Fort Hill" in " ".join(top["highlights"][0]["text"].split())

    location = (
        await worker_client.get(
            f"/api/v1/documents/{document_id}/chunks/{top['chunk_id']}", headers=headers
        )
    ).json()
    assert location["page_start"] == top["page_start"]
    joined = "\n".join(piece["text"] for piece in location["highlights"])
    assert joined == top["text"]


async def test_documents_indexed_before_page_text_was_kept(
    worker_app: FastAPI, worker_client: httpx.AsyncClient
) -> None:
    """Rows written by the previous release: no page text, no chunk spans."""
    headers = await register(worker_client)
    (document_id,) = await _ready(
        worker_client,
        headers,
        ("notes.txt", b"The lamp is trimmed at dawn. The horn sounds in fog.", "text/plain"),
    )
    async with worker_app.state.sessionmaker() as session:
        await session.execute(
            delete(DocumentPage).where(DocumentPage.document_id == uuid.UUID(document_id))
        )
        await session.execute(
            update(Chunk).where(Chunk.document_id == uuid.UUID(document_id)).values(spans=None)
        )
        await session.commit()
    page = await worker_client.get(f"/api/v1/documents/{document_id}/pages/1", headers=headers)
    assert page.status_code == 404
    assert "Reindex it" in page.json()["error"]["message"]
    # A one-page passage is still located from its offsets.
    result = (
        await worker_client.post(
            "/api/v1/search", headers=headers, json={"query": "When does the horn sound?"}
        )
    ).json()["results"][0]
    assert result["page"] == 1
    assert [h["text"] for h in result["highlights"]] == ["The horn sounds in fog."]
    reindexed = await worker_client.post(
        f"/api/v1/documents/{document_id}/reindex", headers=headers
    )
    assert reindexed.status_code == 202
    await wait_until_settled(worker_client, headers, document_id)
    page = await worker_client.get(f"/api/v1/documents/{document_id}/pages/1", headers=headers)
    assert page.status_code == 200
    assert page.json()["text"] == "The lamp is trimmed at dawn. The horn sounds in fog."
