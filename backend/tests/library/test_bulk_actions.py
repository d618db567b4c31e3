"""Select-all bulk actions: run as a job over a frozen filter, document by document
permissions, progress, audit rows."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import psycopg
from fastapi import FastAPI

from tests.conftest import register
from tests.library.seeding import SeedDocument, at, seed

API = "/api/v1"


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    return dict((await client.get(f"{API}/auth/me", headers=headers)).json())


async def settled(
    client: httpx.AsyncClient, headers: dict[str, str], bulk_id: str
) -> dict[str, Any]:
    """Poll the action until it is done or failed; every poll's progress must not go back."""
    processed = 0
    for _ in range(600):
        response = await client.get(f"{API}/documents/bulk/{bulk_id}", headers=headers)
        assert response.status_code == 200, response.text
        body = dict(response.json())
        assert body["processed"] >= processed
        processed = body["processed"]
        if body["status"] in ("done", "failed"):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(body)


async def shelf_shared_with(
    client: httpx.AsyncClient, owner: dict[str, str], reader_email: str, role: str, ids: list[str]
) -> str:
    collection = (
        await client.post(f"{API}/collections", headers=owner, json={"name": "Shelf"})
    ).json()["id"]
    added = await client.post(
        f"{API}/collections/{collection}/documents", headers=owner, json={"document_ids": ids}
    )
    assert added.status_code < 300, added.text
    granted = await client.put(
        f"{API}/collections/{collection}/members",
        headers=owner,
        json={"email": reader_email, "role": role},
    )
    assert granted.status_code < 300, granted.text
    return str(collection)


def count(database_url: str, statement: str, *args: Any) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(statement, args).fetchone()
    assert row is not None
    return int(row[0])


async def test_select_all_delete_deletes_the_filter_and_only_what_is_the_callers(
    worker_client: httpx.AsyncClient, worker_app: FastAPI
) -> None:
    client = worker_client
    url = worker_app.state.settings.database_url
    mine, theirs = await register(client), await register(client)
    me_, them = await me(client, mine), await me(client, theirs)
    failed = [
        SeedDocument(f"bad-{n:03d}.pdf", status="failed", created_at=at(n)) for n in range(230)
    ]
    ready = [SeedDocument(f"good-{n}.pdf", created_at=at(n)) for n in range(4)]
    seed(url, me_["id"], failed + ready)
    shared_failed = [SeedDocument(f"theirs-{n}.pdf", status="failed") for n in range(3)]
    seed(url, them["id"], shared_failed)
    # An editor of the collection reads their documents but may not delete them.
    await shelf_shared_with(
        client, theirs, me_["email"], "editor", [str(d.id) for d in shared_failed]
    )

    started = await client.post(
        f"{API}/documents/bulk",
        headers=mine,
        json={"action": "delete", "filter": {"status": ["failed"]}},
    )
    assert started.status_code == 202, started.text
    assert started.json()["total"] == 233
    done = await settled(client, mine, started.json()["id"])

    assert done["status"] == "done", done
    assert (done["processed"], done["succeeded"], done["denied"]) == (233, 230, 3)
    left = (await client.get(f"{API}/documents", headers=mine, params={"limit": 500})).json()
    assert sorted(document["filename"] for document in left) == sorted(
        [f"good-{n}.pdf" for n in range(4)] + [f"theirs-{n}.pdf" for n in range(3)]
    )
    deleted_audit = count(
        url,
        "SELECT count(*) FROM audit_events WHERE action = 'document.delete' AND actor_id = %s",
        me_["id"],
    )
    assert deleted_audit == 230
    # Someone else cannot see the action.
    peek = await client.get(f"{API}/documents/bulk/{done['id']}", headers=theirs)
    assert peek.status_code == 404


async def test_a_document_added_after_select_all_is_left_alone(
    worker_client: httpx.AsyncClient, worker_app: FastAPI
) -> None:
    client = worker_client
    url = worker_app.state.settings.database_url
    mine = await register(client)
    user_id = (await me(client, mine))["id"]
    seed(url, user_id, [SeedDocument(f"old-{n}.txt") for n in range(3)])

    started = await client.post(
        f"{API}/documents/bulk", headers=mine, json={"action": "delete", "filter": {}}
    )
    # Added after the action was asked for, even if the job has not started yet.
    seed(url, user_id, [SeedDocument("new.txt", created_at=at(60 * 24 * 365 * 50))])
    done = await settled(client, mine, started.json()["id"])

    assert done["succeeded"] == 3
    left = (await client.get(f"{API}/documents", headers=mine)).json()
    assert [document["filename"] for document in left] == ["new.txt"]


async def test_add_to_collection_and_reindex_check_permissions(
    worker_client: httpx.AsyncClient, worker_app: FastAPI
) -> None:
    client = worker_client
    url = worker_app.state.settings.database_url
    mine, theirs = await register(client), await register(client)
    me_ = await me(client, mine)
    own = [SeedDocument(f"own-{n}.md", kind="markdown", status="failed") for n in range(5)]
    seed(url, me_["id"], own)
    their_docs = [SeedDocument(f"theirs-{n}.md", kind="markdown") for n in range(2)]
    seed(url, (await me(client, theirs))["id"], their_docs)
    viewing = await shelf_shared_with(
        client, theirs, me_["email"], "viewer", [str(d.id) for d in their_docs]
    )
    target = (await client.post(f"{API}/collections", headers=mine, json={"name": "Mine"})).json()[
        "id"
    ]

    # Into a collection the caller only views: refused before anything runs.
    refused = await client.post(
        f"{API}/documents/bulk",
        headers=mine,
        json={"action": "add_to_collection", "filter": {}, "collection_id": viewing},
    )
    assert refused.status_code == 403, refused.text
    stranger = await register(client)
    unseen = await client.post(
        f"{API}/documents/bulk",
        headers=stranger,
        json={"action": "add_to_collection", "filter": {}, "collection_id": target},
    )
    assert unseen.status_code == 404

    added = await client.post(
        f"{API}/documents/bulk",
        headers=mine,
        json={
            "action": "add_to_collection",
            "filter": {"kind": ["markdown"]},
            "collection_id": target,
        },
    )
    assert added.status_code == 202, added.text
    done = await settled(client, mine, added.json()["id"])
    assert (done["succeeded"], done["denied"]) == (7, 0)
    in_target = (
        await client.get(f"{API}/documents", headers=mine, params={"collection_id": target})
    ).json()
    assert len(in_target) == 7

    unknown = str(uuid.uuid4())
    reindex = await client.post(
        f"{API}/documents/bulk",
        headers=mine,
        json={
            "action": "reindex",
            "document_ids": [str(own[0].id), str(their_docs[0].id), unknown],
        },
    )
    done = await settled(client, mine, reindex.json()["id"])
    assert (done["total"], done["succeeded"], done["denied"]) == (3, 1, 2)
    # Seeded failed without a reason: requeued, it is queued, processing, or failed again
    # with one (its original was never stored).
    first = (await client.get(f"{API}/documents/{own[0].id}", headers=mine)).json()
    assert first["status"] != "failed" or first["error"]
    untouched = (await client.get(f"{API}/documents/{own[1].id}", headers=mine)).json()
    assert (untouched["status"], untouched["error"]) == ("failed", None)


async def test_a_bulk_request_must_say_what_it_covers(client: httpx.AsyncClient) -> None:
    headers = await register(client)
    for body in (
        {"action": "delete"},
        {"action": "delete", "filter": {}, "document_ids": []},
        {"action": "add_to_collection", "filter": {}},
        {"action": "reindex", "filter": {}, "collection_id": str(uuid.uuid4())},
        {"action": "archive", "filter": {}},
    ):
        response = await client.post(f"{API}/documents/bulk", headers=headers, json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["message"]
