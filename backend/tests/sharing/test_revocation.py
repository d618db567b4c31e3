"""Revocation is immediate: once a share is removed, a member leaves the group, or the owner
deletes the document, the very next search, answer, download, page or citation view of the
former reader has nothing of it, while an answer stream that was open during the revocation
finishes normally."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import register, sse_events, upload, wait_until_settled
from tests.fakes import FakeOpenAI, ok

API = "/api/v1"
SHARED = (
    "velmorran-tide-tables.md",
    b"# Velmorran tide tables\n\n"
    b"The Velmorran ferry crosses to Glimmerholt only at slack water, twice a day.\n\n"
    b"Tide keepers at Glimmerholt ring the zentrophe bell before each crossing.\n",
    "text/markdown",
)
SHARED_WORDS = ("velmorran", "glimmerholt", "zentrophe")
OWN = (
    "reader-garden.txt",
    b"The reader's garden grows runner beans along the south fence every summer.\n",
    "text/plain",
)
QUESTION = "When does the Velmorran ferry cross to Glimmerholt?"
SLOW_ANSWER = "The ferry crosses at slack water [1]. " * 8
REVOKED_WITHIN_S = 1.0


@dataclass
class Sharing:
    owner: dict[str, str]
    reader: dict[str, str]
    reader_id: str
    collection_id: str
    group_id: str
    share_id: str  # the reader's own share (direct) or the group's
    document_id: str
    chunk_id: int


async def _share(client: httpx.AsyncClient, *, through_group: bool) -> Sharing:
    owner = await register(client)
    reader_email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
    reader = await register(client, reader_email)
    reader_id = (await client.get(f"{API}/auth/me", headers=reader)).json()["id"]
    collection = await client.post(f"{API}/collections", headers=owner, json={"name": "Tides"})
    collection_id = collection.json()["id"]
    shared = await client.post(
        f"{API}/documents",
        headers=owner,
        data={"collection_id": collection_id},
        files=[("files", SHARED)],
    )
    own = await upload(client, reader, OWN)
    for headers, response in ((owner, shared), (reader, own)):
        document = response.json()[0]
        assert (await wait_until_settled(client, headers, document["id"]))["status"] == "ready"
    document_id = shared.json()[0]["id"]
    group = await client.post(f"{API}/groups", headers=owner, json={"name": "Harbour"})
    group_id = group.json()["id"]
    if through_group:
        added = await client.put(
            f"{API}/groups/{group_id}/members", headers=owner, json={"email": reader_email}
        )
        assert added.status_code == 204
        grantee: dict[str, Any] = {"group_id": group_id}
    else:
        grantee = {"email": reader_email}
    share = await client.put(
        f"{API}/collections/{collection_id}/members",
        headers=owner,
        json={**grantee, "role": "viewer"},
    )
    assert share.status_code == 200, share.text
    hits = (await client.post(f"{API}/search", headers=reader, json={"query": QUESTION})).json()[
        "results"
    ]
    chunk_id = next(h["chunk_id"] for h in hits if h["document_id"] == document_id)
    return Sharing(
        owner, reader, reader_id, collection_id, group_id, share.json()["id"], document_id, chunk_id
    )


async def _ask(
    client: httpx.AsyncClient, headers: dict[str, str], chat_id: str
) -> list[dict[str, Any]]:
    response = await client.post(
        f"{API}/chats/{chat_id}/messages", headers=headers, json={"content": QUESTION}
    )
    assert response.status_code == 200, response.text
    events = sse_events(response.text)
    assert events[-1]["type"] == "finish", events[-1]
    return events


def _sources(events: list[dict[str, Any]]) -> set[str]:
    sources = next(e for e in events if e["type"] == "data-sources")["data"]["sources"]
    return {s["document_id"] for s in sources}


def _revoke(client: httpx.AsyncClient, sharing: Sharing, how: str) -> Any:
    if how == "share removed":
        url = f"{API}/collections/{sharing.collection_id}/members/{sharing.share_id}"
        return client.delete(url, headers=sharing.owner)
    if how == "left the group":
        url = f"{API}/groups/{sharing.group_id}/members/{sharing.reader_id}"
        return client.delete(url, headers=sharing.reader)
    return client.delete(f"{API}/documents/{sharing.document_id}", headers=sharing.owner)


@pytest.mark.parametrize("how", ["share removed", "left the group", "document deleted"])
async def test_revocation_is_immediate_with_an_answer_stream_open(
    llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI, how: str
) -> None:
    client = llm_client
    sharing = await _share(client, through_group=how == "left the group")
    chat_id = (await client.post(f"{API}/chats", headers=sharing.reader, json={})).json()["id"]
    fake_llm.push(ok("The ferry crosses at slack water [1]."))
    assert sharing.document_id in _sources(await _ask(client, sharing.reader, chat_id))

    # A second answer streams slowly (about 3 s) while the access is revoked.
    fake_llm.push(ok(SLOW_ANSWER, chunk_size=4, delay_s=0.04))
    asked = len(fake_llm.requests_to("chat"))
    open_stream = asyncio.create_task(_ask(client, sharing.reader, chat_id))
    while len(fake_llm.requests_to("chat")) == asked:
        assert not open_stream.done(), open_stream
        await asyncio.sleep(0.01)
    revoked = await _revoke(client, sharing, how)
    assert revoked.status_code == 204, revoked.text
    revoked_at = time.monotonic()
    assert not open_stream.done(), "the answer stream should still be open during the revoke"

    fake_llm.push(ok("Runner beans grow by the fence [1]."))
    events = await _ask(client, sharing.reader, chat_id)
    searched = await client.post(f"{API}/search", headers=sharing.reader, json={"query": QUESTION})
    views = [
        await client.get(f"{API}/documents/{sharing.document_id}{suffix}", headers=sharing.reader)
        for suffix in ("", "/file", "/pages/1", f"/chunks/{sharing.chunk_id}")
    ]
    elapsed = time.monotonic() - revoked_at

    assert sharing.document_id not in _sources(events)
    stream = json.dumps(events).replace(json.dumps(QUESTION), "").lower()
    assert not [word for word in SHARED_WORDS if word in stream], stream
    assert searched.status_code == 200
    assert sharing.document_id not in searched.text
    assert [view.status_code for view in views] == [404, 404, 404, 404]
    assert not any(word in view.text.lower() for view in views for word in SHARED_WORDS)
    assert elapsed < REVOKED_WITHIN_S, f"{how}: {elapsed:.3f} s"

    # The stream that was open finishes normally, and the stored citations of the document
    # now say it is gone, keeping nothing of it.
    finished = await open_stream
    assert sharing.document_id in _sources(finished)
    detail = (await client.get(f"{API}/chats/{chat_id}", headers=sharing.reader)).json()
    citations = [c for m in detail["messages"] for c in m["citations"]]
    of_document = [c for c in citations if c["document_id"] == sharing.document_id]
    assert len(of_document) == 2  # the first and the open answer cited it
    assert all(c["source_deleted"] and not c["snippet"] for c in of_document)
    stored = json.dumps(citations).lower()
    assert not [word for word in SHARED_WORDS if word in stored], stored
