"""Collections, shares and groups through the API: the rules the access matrix does not
spell out (upserts, transfers, leaving, cascades, scopes that outlive a share)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from fastapi import FastAPI

from tests.conftest import register, sse_events, upload, wait_until_settled

API = "/api/v1"


@dataclass
class Person:
    headers: dict[str, str]
    id: str
    email: str


async def person(client: httpx.AsyncClient) -> Person:
    email = f"p-{uuid.uuid4().hex[:8]}@example.com"
    headers = await register(client, email)
    me = (await client.get(f"{API}/auth/me", headers=headers)).json()
    return Person(headers, me["id"], email)


async def people(client: httpx.AsyncClient, count: int) -> list[Person]:
    return [await person(client) for _ in range(count)]


async def ok(response: Any) -> Any:
    result = await response
    assert result.status_code < 300, result.text
    return result.json() if result.content else None


async def collection(client: httpx.AsyncClient, owner: Person, name: str = "Shelf") -> str:
    body = await ok(client.post(f"{API}/collections", headers=owner.headers, json={"name": name}))
    return str(body["id"])


async def share(
    client: httpx.AsyncClient, owner: Person, collection_id: str, role: str, **grantee: str
) -> dict[str, Any]:
    return dict(
        await ok(
            client.put(
                f"{API}/collections/{collection_id}/members",
                headers=owner.headers,
                json={**grantee, "role": role},
            )
        )
    )


async def note(client: httpx.AsyncClient, owner: Person, text: str = "") -> str:
    name = f"note-{uuid.uuid4().hex[:6]}.txt"
    response = await upload(client, owner.headers, (name, (text or name).encode(), "text/plain"))
    assert response.status_code == 202, response.text
    return str(response.json()[0]["id"])


async def add(client: httpx.AsyncClient, who: Person, collection_id: str, *ids: str) -> int:
    response = await client.post(
        f"{API}/collections/{collection_id}/documents",
        headers=who.headers,
        json={"document_ids": list(ids)},
    )
    return response.status_code


async def test_collections_listed_with_owner_role_and_count(client: httpx.AsyncClient) -> None:
    owner, friend, stranger = await people(client, 3)
    mine = await collection(client, owner, "Bravo")
    theirs = await collection(client, friend, "alpha")
    await collection(client, stranger, "Hidden")
    document_id = await note(client, owner)
    assert await add(client, owner, mine, document_id) == 204
    await share(client, friend, theirs, "editor", email=owner.email)

    listed = await ok(client.get(f"{API}/collections", headers=owner.headers))
    assert [(c["name"], c["my_role"]) for c in listed] == [("alpha", "editor"), ("Bravo", "owner")]
    bravo = listed[1]
    assert bravo["document_count"] == 1
    assert bravo["owner"] == {"id": owner.id, "email": owner.email, "full_name": "Test User"}
    assert listed[0]["owner"]["id"] == friend.id


async def test_sharing_again_changes_the_role_of_the_same_share(client: httpx.AsyncClient) -> None:
    owner, friend = await person(client), await person(client)
    collection_id = await collection(client, owner)
    first = await share(client, owner, collection_id, "viewer", email=friend.email.upper())
    second = await share(client, owner, collection_id, "editor", email=friend.email)
    assert first["id"] == second["id"]
    assert second["kind"] == "user" and second["group"] is None
    assert second["user"]["id"] == friend.id and second["role"] == "editor"
    members = await ok(
        client.get(f"{API}/collections/{collection_id}/members", headers=friend.headers)
    )
    assert [(m["id"], m["role"]) for m in members] == [(first["id"], "editor")]


async def test_share_refusals(client: httpx.AsyncClient) -> None:
    owner, friend = await person(client), await person(client)
    collection_id = await collection(client, owner)
    url = f"{API}/collections/{collection_id}/members"
    foreign_group = await ok(
        client.post(f"{API}/groups", headers=friend.headers, json={"name": "X"})
    )
    cases = [
        ({"email": owner.email, "role": "viewer"}, 422),
        ({"email": "nobody@example.com", "role": "viewer"}, 404),
        ({"group_id": foreign_group["id"], "role": "viewer"}, 404),
        ({"email": friend.email, "group_id": foreign_group["id"], "role": "viewer"}, 422),
        ({"role": "viewer"}, 422),
        ({"email": friend.email, "role": "owner"}, 422),
    ]
    for body, status in cases:
        response = await client.put(url, headers=owner.headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert {"code", "message", "request_id"} <= set(response.json()["error"])
    assert await ok(client.get(url, headers=owner.headers)) == []


async def test_a_member_removes_their_own_share_but_no_other(client: httpx.AsyncClient) -> None:
    owner, viewer, other = await people(client, 3)
    collection_id = await collection(client, owner)
    mine = await share(client, owner, collection_id, "viewer", email=viewer.email)
    theirs = await share(client, owner, collection_id, "editor", email=other.email)
    url = f"{API}/collections/{collection_id}/members"
    refused = await client.delete(f"{url}/{theirs['id']}", headers=viewer.headers)
    assert refused.status_code == 403
    assert (await client.delete(f"{url}/{mine['id']}", headers=viewer.headers)).status_code == 204
    assert (await client.get(url, headers=viewer.headers)).status_code == 404
    missing = await client.delete(f"{url}/{uuid.uuid4()}", headers=owner.headers)
    assert missing.status_code == 404


async def test_transfer_keeps_the_previous_owner_as_editor(client: httpx.AsyncClient) -> None:
    owner, heir = await person(client), await person(client)
    collection_id = await collection(client, owner)
    await share(client, owner, collection_id, "viewer", email=heir.email)
    url = f"{API}/collections/{collection_id}"
    unknown = await client.patch(url, headers=owner.headers, json={"owner_email": "no@example.com"})
    assert unknown.status_code == 404
    moved = await ok(client.patch(url, headers=owner.headers, json={"owner_email": heir.email}))
    assert moved["owner"]["id"] == heir.id and moved["my_role"] == "editor"
    seen_by_heir = await ok(client.get(url, headers=heir.headers))
    assert seen_by_heir["my_role"] == "owner"
    members = await ok(client.get(f"{url}/members", headers=heir.headers))
    assert [(m["user"]["id"], m["role"]) for m in members] == [(owner.id, "editor")]
    refused = await client.patch(url, headers=owner.headers, json={"name": "Mine again"})
    assert refused.status_code == 403


async def test_editors_add_only_documents_they_can_read(client: httpx.AsyncClient) -> None:
    owner, editor, stranger = await people(client, 3)
    collection_id = await collection(client, owner)
    await share(client, owner, collection_id, "editor", email=editor.email)
    foreign = await note(client, stranger)
    own = await note(client, editor)
    assert await add(client, editor, collection_id, own, foreign) == 404
    listed = await ok(
        client.get(f"{API}/collections/{collection_id}/documents", headers=owner.headers)
    )
    assert listed == [], "a refused add adds nothing"
    assert await add(client, editor, collection_id, own) == 204
    assert await add(client, editor, collection_id, own) == 204  # again: no duplicate
    [document] = await ok(
        client.get(f"{API}/collections/{collection_id}/documents", headers=owner.headers)
    )
    assert document["id"] == own
    assert document["owner"]["id"] == editor.id and document["my_role"] == "editor"
    # The collection's owner reads it, but only its uploader deletes or reindexes it.
    for method, path in (("DELETE", ""), ("POST", "/reindex")):
        response = await client.request(
            method, f"{API}/documents/{own}{path}", headers=owner.headers
        )
        assert response.status_code == 403, response.text


async def test_upload_into_a_collection(client: httpx.AsyncClient) -> None:
    owner, editor, viewer = await people(client, 3)
    collection_id = await collection(client, owner)
    await share(client, owner, collection_id, "editor", email=editor.email)
    await share(client, owner, collection_id, "viewer", email=viewer.email)
    files = [("files", ("minutes.txt", b"Minutes of the meeting.", "text/plain"))]
    form = {"collection_id": collection_id}
    refused = await client.post(f"{API}/documents", headers=viewer.headers, data=form, files=files)
    assert refused.status_code == 403
    assert (await ok(client.get(f"{API}/documents", headers=viewer.headers))) == []
    uploaded = await client.post(f"{API}/documents", headers=editor.headers, data=form, files=files)
    assert uploaded.status_code == 202, uploaded.text
    [document] = uploaded.json()
    assert document["owner"]["id"] == editor.id and document["my_role"] == "owner"
    # The same bytes again (deduplicated) stay one document, and one collection entry.
    again = await client.post(f"{API}/documents", headers=editor.headers, data=form, files=files)
    assert [d["id"] for d in again.json()] == [document["id"]]
    seen = await ok(client.get(f"{API}/documents/{document['id']}", headers=viewer.headers))
    assert seen["my_role"] == "viewer"
    assert (await ok(client.get(f"{API}/collections/{collection_id}", headers=viewer.headers)))[
        "document_count"
    ] == 1


async def test_document_list_filters(client: httpx.AsyncClient) -> None:
    owner, reader = await person(client), await person(client)
    collection_id = await collection(client, owner)
    shared, private = await note(client, owner), await note(client, owner)
    own = await note(client, reader)
    await add(client, owner, collection_id, shared)
    await share(client, owner, collection_id, "viewer", email=reader.email)

    async def ids(**params: str) -> set[str]:
        listed = await ok(client.get(f"{API}/documents", headers=reader.headers, params=params))
        return {d["id"] for d in listed}

    assert await ids() == {shared, own}
    assert await ids(owned="true") == {own}
    assert await ids(collection_id=collection_id) == {shared}
    assert private not in await ids()
    unknown = await client.get(
        f"{API}/documents", headers=reader.headers, params={"collection_id": str(uuid.uuid4())}
    )
    assert unknown.status_code == 404


async def test_groups_membership_and_leaving(client: httpx.AsyncClient) -> None:
    owner, member, other = await people(client, 3)
    group = await ok(client.post(f"{API}/groups", headers=owner.headers, json={"name": "Crew"}))
    url = f"{API}/groups/{group['id']}"
    assert group["my_role"] == "owner" and group["member_count"] == 1
    for who in (member, other):
        await ok(client.put(f"{url}/members", headers=owner.headers, json={"email": who.email}))
    collection_id = await collection(client, owner)
    document_id = await note(client, owner)
    await add(client, owner, collection_id, document_id)
    await share(client, owner, collection_id, "viewer", group_id=group["id"])

    [seen] = await ok(client.get(f"{API}/groups", headers=member.headers))
    assert seen["my_role"] == "member" and seen["member_count"] == 3
    refused = await client.delete(f"{url}/members/{other.id}", headers=member.headers)
    assert refused.status_code == 403
    assert (
        await client.patch(url, headers=member.headers, json={"name": "Mine"})
    ).status_code == 403
    assert (
        await client.get(f"{API}/documents/{document_id}", headers=member.headers)
    ).status_code == 200

    await ok(client.delete(f"{url}/members/{member.id}", headers=member.headers))
    assert (
        await client.get(f"{API}/documents/{document_id}", headers=member.headers)
    ).status_code == 404
    assert await ok(client.get(f"{API}/groups", headers=member.headers)) == []
    not_member = await client.delete(f"{url}/members/{member.id}", headers=owner.headers)
    assert not_member.status_code == 404

    # The owner may leave and still manage the group (no longer reading through it).
    await ok(client.delete(f"{url}/members/{owner.id}", headers=owner.headers))
    [kept] = await ok(client.get(f"{API}/groups", headers=owner.headers))
    assert kept["my_role"] == "owner" and kept["member_count"] == 1
    emails = [m["email"] for m in await ok(client.get(f"{url}/members", headers=owner.headers))]
    assert emails == [other.email]

    # Deleting the group ends every share made with it.
    assert (
        await client.get(f"{API}/documents/{document_id}", headers=other.headers)
    ).status_code == 200
    await ok(client.delete(url, headers=owner.headers))
    assert (
        await client.get(f"{API}/documents/{document_id}", headers=other.headers)
    ).status_code == 404
    members = await ok(
        client.get(f"{API}/collections/{collection_id}/members", headers=owner.headers)
    )
    assert members == []


async def test_deletes_cascade(client: httpx.AsyncClient, app: FastAPI) -> None:
    owner, reader = await person(client), await person(client)
    collection_id = await collection(client, owner)
    first, second = await note(client, owner), await note(client, owner)
    await add(client, owner, collection_id, first, second)
    await share(client, owner, collection_id, "viewer", email=reader.email)
    url = f"{API}/collections/{collection_id}"

    await ok(client.delete(f"{API}/documents/{first}", headers=owner.headers))
    assert (await ok(client.get(url, headers=reader.headers)))["document_count"] == 1

    chat = await ok(
        client.post(f"{API}/chats", headers=reader.headers, json={"collection_id": collection_id})
    )
    assert chat["collection_id"] == collection_id
    await ok(client.delete(url, headers=owner.headers))
    # The documents stay with their owner; the chat's scope goes.
    assert (await client.get(f"{API}/documents/{second}", headers=owner.headers)).status_code == 200
    assert (
        await client.get(f"{API}/documents/{second}", headers=reader.headers)
    ).status_code == 404
    chat_now = await ok(client.get(f"{API}/chats/{chat['id']}", headers=reader.headers))
    assert chat_now["collection_id"] is None

    # A deleted account leaves no membership or share behind.
    collection_id = await collection(client, owner)
    await share(client, owner, collection_id, "editor", email=reader.email)
    group = await ok(client.post(f"{API}/groups", headers=owner.headers, json={"name": "G"}))
    await ok(
        client.put(
            f"{API}/groups/{group['id']}/members",
            headers=owner.headers,
            json={"email": reader.email},
        )
    )
    with psycopg.connect(app.state.settings.database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (reader.id,))
    assert (
        await ok(client.get(f"{API}/collections/{collection_id}/members", headers=owner.headers))
        == []
    )
    assert (await ok(client.get(f"{API}/groups", headers=owner.headers)))[0]["member_count"] == 1


async def test_chat_scope_after_its_collection_is_unshared_reads_nothing(
    worker_client: httpx.AsyncClient,
) -> None:
    client = worker_client
    owner, reader = await person(client), await person(client)
    collection_id = await collection(client, owner)
    shared = await upload(
        client,
        owner.headers,
        ("orchards.txt", b"The quenwick orchard ripens plums in August.", "text/plain"),
    )
    mine = await upload(
        client,
        reader.headers,
        ("my-orchard.txt", b"My own quenwick orchard ripens plums in September.", "text/plain"),
    )
    for headers, response in ((owner.headers, shared), (reader.headers, mine)):
        doc = response.json()[0]
        assert (await wait_until_settled(client, headers, doc["id"]))["status"] == "ready"
    shared_id, mine_id = shared.json()[0]["id"], mine.json()[0]["id"]
    await add(client, owner, collection_id, shared_id)
    member = await share(client, owner, collection_id, "viewer", email=reader.email)

    async def found(**body: Any) -> set[str]:
        response = await client.post(
            f"{API}/search", headers=reader.headers, json={"query": "quenwick plums", **body}
        )
        assert response.status_code == 200, response.text
        return {hit["document_id"] for hit in response.json()["results"]}

    assert await found() == {shared_id, mine_id}
    assert await found(collection_id=collection_id) == {shared_id}
    assert await found(collection_id=collection_id, document_ids=[mine_id]) == set()
    assert await found(document_ids=[mine_id]) == {mine_id}

    chat = await ok(
        client.post(f"{API}/chats", headers=reader.headers, json={"collection_id": collection_id})
    )

    async def sources(**body: Any) -> set[str]:
        response = await client.post(
            f"{API}/chats/{chat['id']}/messages",
            headers=reader.headers,
            json={"content": "When do quenwick plums ripen?", **body},
        )
        assert response.status_code == 200, response.text
        events = sse_events(response.text)
        data = next(e for e in events if e["type"] == "data-sources")["data"]["sources"]
        return {s["document_id"] for s in data}

    assert await sources() == {shared_id}
    await ok(
        client.delete(
            f"{API}/collections/{collection_id}/members/{member['id']}", headers=owner.headers
        )
    )
    # The chat still names the collection; it now reads nothing rather than everything.
    assert await sources() == set()
    named = await client.post(
        f"{API}/chats/{chat['id']}/messages",
        headers=reader.headers,
        json={"content": "When do quenwick plums ripen?", "collection_id": collection_id},
    )
    assert named.status_code == 404
    await ok(
        client.patch(
            f"{API}/chats/{chat['id']}", headers=reader.headers, json={"collection_id": None}
        )
    )
    assert await sources() == {mine_id}
    gone = await client.post(
        f"{API}/search",
        headers=reader.headers,
        json={"query": "quenwick", "collection_id": collection_id},
    )
    assert gone.status_code == 404
