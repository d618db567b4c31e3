"""Tenant isolation, route by route: another user's ids answer 404, filters naming them find
nothing, and no byte of the owner's content (filenames, distinctive words, document, chat and
chunk ids) appears in anything the intruder gets back. The matrix is checked against
`app.routes`, so a new route with a path parameter fails here until it is covered.

One app (with its in-process worker) and one database serve the whole module: ingestion is
the slow part, so the two users' documents and answered chats are built once."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import (
    TEST_SECRET,
    every_route,
    make_settings,
    register,
    sse_events,
    upload,
    wait_until_settled,
)

API = "/api/v1"

ALPHA_DOCS = {
    "alpha-zorblax-reactor.md": (
        b"# Zorblax reactor notes\n\n"
        b"The zorblax reactor in Quaffleton valley runs on vexmorian crystals harvested "
        b"each spring.\n\nEngineers cool the zorblax core with glacier water drawn from the "
        b"Quaffleton river every night.\n",
        "text/markdown",
    ),
    "alpha-vexmorian.txt": (
        b"Vexmorian crystals glow amber when the zorblax reactor overheats, and the "
        b"Quaffleton wardens then open the spillway.\n",
        "text/plain",
    ),
}
ALPHA_WORDS = ("zorblax", "quaffleton", "vexmorian")
ALPHA_QUESTION = "How is the zorblax reactor cooled?"

BRAVO_DOCS = {
    "bravo-plimbrook-orchard.md": (
        b"# Plimbrook orchard diary\n\n"
        b"The plimbrook orchard grows drassenfel apples that ripen in late autumn.\n\n"
        b"Mookwhistle bees pollinate the drassenfel trees every May.\n",
        "text/markdown",
    ),
    "bravo-mookwhistle.txt": (
        b"Mookwhistle honey from the plimbrook hives is sold at the drassenfel fair.\n",
        "text/plain",
    ),
}
BRAVO_WORDS = ("plimbrook", "drassenfel", "mookwhistle")
BRAVO_QUESTION = "Which bees pollinate the drassenfel trees?"

CHUNK_ID = re.compile(r'"chunk_id"\s*:\s*(\d+)')


@dataclass
class Tenant:
    name: str
    headers: dict[str, str]
    user_id: str
    email: str
    words: tuple[str, ...]
    question: str
    documents: dict[str, str] = field(default_factory=dict)  # filename -> id
    chat_id: str = ""
    answer_id: str = ""
    bulk_id: str = ""
    api_key_id: str = ""
    chunk_ids: set[int] = field(default_factory=set)
    collection_id: str = ""
    group_id: str = ""
    member_id: str = ""  # the collection's share with the group

    def secrets(self) -> list[str]:
        """Strings that must never reach another user."""
        candidates = [
            *self.words,
            *self.documents,
            *self.documents.values(),
            self.chat_id,
            self.answer_id,
            self.bulk_id,
            self.api_key_id,
            self.collection_id,
            self.group_id,
            self.member_id,
            self.user_id,
            self.email.lower(),
        ]
        return [secret for secret in candidates if secret]

    def assert_absent_from(self, body: str, where: str) -> None:
        lowered = body.lower()
        for secret in self.secrets():
            assert secret.lower() not in lowered, f"{self.name}'s {secret!r} leaked into {where}"
        leaked = {int(n) for n in CHUNK_ID.findall(body)} & self.chunk_ids
        assert not leaked, f"{self.name}'s chunk ids {leaked} leaked into {where}"


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    alpha: Tenant
    bravo: Tenant


# --------------------------------------------------------------------------- helpers


def of_type(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(e for e in events if e["type"] == kind)


def without_searched_query(stream: str, question: str) -> str:
    """An answer stream names the query it searched ("Searched for: …"), which is the
    asker's own question: remove that echo before looking for someone else's words."""
    return stream.replace(f'"search_query":{json.dumps(question)}', "")


def answer_of(events: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in events if e["type"] == "text-delta")


async def ask(
    client: httpx.AsyncClient, tenant: Tenant, chat_id: str, content: str, **extra: Any
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    response = await client.post(
        f"{API}/chats/{chat_id}/messages",
        headers=tenant.headers,
        json={"content": content, **extra},
    )
    events = sse_events(response.text) if response.status_code == 200 else []
    return response, events


# --------------------------------------------------------------------------- the world


async def _tenant(
    client: httpx.AsyncClient,
    name: str,
    docs: dict[str, tuple[bytes, str]],
    words: tuple[str, ...],
    question: str,
) -> Tenant:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    headers = await register(client, email)
    me = (await client.get(f"{API}/auth/me", headers=headers)).json()
    tenant = Tenant(name, headers, me["id"], email, words, question)
    files = [(filename, data, ctype) for filename, (data, ctype) in docs.items()]
    response = await upload(client, headers, *files)
    assert response.status_code == 202, response.text
    for doc in response.json():
        settled = await wait_until_settled(client, headers, doc["id"])
        assert settled["status"] == "ready", settled
        tenant.documents[doc["filename"]] = doc["id"]
    assert set(tenant.documents) == set(docs)
    for word in words:
        hits = (
            await client.post(
                f"{API}/search", headers=headers, json={"query": f"{word} {question}", "k": 50}
            )
        ).json()["results"]
        tenant.chunk_ids |= {hit["chunk_id"] for hit in hits}
    assert tenant.chunk_ids
    key = await client.post(
        f"{API}/api-keys", headers=headers, json={"name": f"{name} laptop", "scopes": ["read"]}
    )
    tenant.api_key_id = key.json()["id"]
    chat = await client.post(f"{API}/chats", headers=headers, json={"title": f"{name} research"})
    tenant.chat_id = chat.json()["id"]
    # A collection of the documents, shared with a group of one (its owner).
    collection = await client.post(
        f"{API}/collections", headers=headers, json={"name": f"{words[0]} shelf"}
    )
    tenant.collection_id = collection.json()["id"]
    added = await client.post(
        f"{API}/collections/{tenant.collection_id}/documents",
        headers=headers,
        json={"document_ids": list(tenant.documents.values())},
    )
    assert added.status_code == 204, added.text
    group = await client.post(f"{API}/groups", headers=headers, json={"name": f"{words[1]} crew"})
    tenant.group_id = group.json()["id"]
    member = await client.put(
        f"{API}/collections/{tenant.collection_id}/members",
        headers=headers,
        json={"group_id": tenant.group_id, "role": "viewer"},
    )
    tenant.member_id = member.json()["id"]
    _, events = await ask(client, tenant, tenant.chat_id, question)
    tenant.answer_id = of_type(events, "start")["messageId"]
    # A bulk action that changes nothing (its documents are in the collection already).
    bulk = await client.post(
        f"{API}/documents/bulk",
        headers=headers,
        json={
            "action": "add_to_collection",
            "collection_id": tenant.collection_id,
            "document_ids": list(tenant.documents.values()),
        },
    )
    assert bulk.status_code in (200, 201, 202), bulk.text
    tenant.bulk_id = bulk.json()["id"]
    cited = of_type(events, "data-citations")["data"]["citations"]
    assert cited, "the owner's own answer should cite the owner's documents"
    assert {c["document_id"] for c in cited} <= set(tenant.documents.values())
    return tenant


@pytest.fixture(scope="module")
async def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("isolation")
    settings = make_settings(module_database_url, tmp)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            alpha = await _tenant(client, "alpha", ALPHA_DOCS, ALPHA_WORDS, ALPHA_QUESTION)
            # The first account is the install's admin: in the bravo->alpha direction the
            # intruder is an admin, who must not read anyone's content either.
            me = await client.get(f"{API}/auth/me", headers=alpha.headers)
            assert me.json()["role"] == "admin"
            bravo = await _tenant(client, "bravo", BRAVO_DOCS, BRAVO_WORDS, BRAVO_QUESTION)
            yield World(app, client, alpha, bravo)


# --------------------------------------------------------------------------- the matrix

Probe = Callable[[httpx.AsyncClient, Tenant, Tenant], Awaitable[list[httpx.Response]]]


def _first_doc(tenant: Tenant) -> str:
    return next(iter(tenant.documents.values()))


async def _get_document(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [
        await c.get(f"{API}/documents/{doc_id}", headers=intruder.headers)
        for doc_id in owner.documents.values()
    ]


async def _delete_document(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [
        await c.delete(f"{API}/documents/{doc_id}", headers=intruder.headers)
        for doc_id in owner.documents.values()
    ]


async def _document_file(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [
        await c.get(f"{API}/documents/{doc_id}/file", headers=intruder.headers)
        for doc_id in owner.documents.values()
    ]


async def _document_page(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [
        await c.get(f"{API}/documents/{doc_id}/pages/1", headers=intruder.headers)
        for doc_id in owner.documents.values()
    ]


async def _page_image(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [
        await c.get(f"{API}/documents/{doc_id}/pages/1/image", headers=intruder.headers)
        for doc_id in owner.documents.values()
    ]


async def _chunk_location(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    """The owner's passages, through the owner's documents and through the intruder's own."""
    return [
        await c.get(f"{API}/documents/{doc_id}/chunks/{chunk_id}", headers=intruder.headers)
        for doc_id in [*owner.documents.values(), _first_doc(intruder)]
        for chunk_id in sorted(owner.chunk_ids)[:3]
    ]


async def _reindex(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [
        await c.post(f"{API}/documents/{doc_id}/reindex", headers=intruder.headers)
        for doc_id in owner.documents.values()
    ]


async def _get_chat(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [await c.get(f"{API}/chats/{owner.chat_id}", headers=intruder.headers)]


async def _patch_chat(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [
        await c.patch(
            f"{API}/chats/{owner.chat_id}",
            headers=intruder.headers,
            json={"title": "hijacked", "document_ids": [_first_doc(intruder)]},
        )
    ]


async def _delete_chat(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [await c.delete(f"{API}/chats/{owner.chat_id}", headers=intruder.headers)]


async def _post_message(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    response, _ = await ask(c, intruder, owner.chat_id, owner.question)
    return [response]


async def _message(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    """The owner's answer through the owner's chat, and through the intruder's own chat."""
    url = f"{API}/chats/{owner.chat_id}/messages/{owner.answer_id}"
    through_own_chat = f"{API}/chats/{intruder.chat_id}/messages/{owner.answer_id}"
    rating = {"rating": -1, "comment": "hijacked"}
    return [
        await c.get(url, headers=intruder.headers),
        await c.get(through_own_chat, headers=intruder.headers),
        await c.post(f"{url}/regenerate", headers=intruder.headers),
        await c.post(f"{through_own_chat}/regenerate", headers=intruder.headers),
        await c.post(f"{url}/select", headers=intruder.headers),
        await c.post(f"{url}/stop", headers=intruder.headers),
        await c.put(f"{url}/feedback", headers=intruder.headers, json=rating),
        await c.put(f"{through_own_chat}/feedback", headers=intruder.headers, json=rating),
        await c.delete(f"{url}/feedback", headers=intruder.headers),
    ]


async def _export_chat(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    url = f"{API}/chats/{owner.chat_id}/export"
    return [
        await c.get(f"{url}?format=markdown", headers=intruder.headers),
        await c.get(f"{url}?format=json", headers=intruder.headers),
    ]


async def _suggested_questions(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [
        await c.get(f"{API}/documents/{doc_id}/suggested-questions", headers=intruder.headers)
        for doc_id in owner.documents.values()
    ]


async def _bulk_action(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [await c.get(f"{API}/documents/bulk/{owner.bulk_id}", headers=intruder.headers)]


async def _revoke_api_key(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [await c.delete(f"{API}/api-keys/{owner.api_key_id}", headers=intruder.headers)]


async def _revoke_session(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    sessions = (await c.get(f"{API}/auth/sessions", headers=owner.headers)).json()
    assert sessions
    return [
        await c.delete(f"{API}/auth/sessions/{session['id']}", headers=intruder.headers)
        for session in sessions
    ]


async def _collection(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    url = f"{API}/collections/{owner.collection_id}"
    return [
        await c.get(url, headers=intruder.headers),
        await c.get(f"{url}/documents", headers=intruder.headers),
        await c.get(f"{url}/members", headers=intruder.headers),
    ]


async def _change_collection(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    url = f"{API}/collections/{owner.collection_id}"
    own_docs = {"document_ids": list(intruder.documents.values())}
    owner_docs = {"document_ids": list(owner.documents.values())}
    return [
        await c.patch(url, headers=intruder.headers, json={"name": "hijacked"}),
        await c.patch(url, headers=intruder.headers, json={"owner_email": intruder.email}),
        await c.post(f"{url}/documents", headers=intruder.headers, json=own_docs),
        await c.request("DELETE", f"{url}/documents", headers=intruder.headers, json=owner_docs),
        await c.put(
            f"{url}/members",
            headers=intruder.headers,
            json={"email": intruder.email, "role": "editor"},
        ),
        await c.delete(f"{url}/members/{owner.member_id}", headers=intruder.headers),
        await c.delete(url, headers=intruder.headers),
    ]


async def _group(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    return [await c.get(f"{API}/groups/{owner.group_id}/members", headers=intruder.headers)]


async def _change_group(c: httpx.AsyncClient, owner: Tenant, intruder: Tenant) -> list[Any]:
    url = f"{API}/groups/{owner.group_id}"
    return [
        await c.patch(url, headers=intruder.headers, json={"name": "hijacked"}),
        await c.put(f"{url}/members", headers=intruder.headers, json={"email": intruder.email}),
        await c.delete(f"{url}/members/{owner.user_id}", headers=intruder.headers),
        await c.delete(f"{url}/members/{intruder.user_id}", headers=intruder.headers),
        await c.delete(url, headers=intruder.headers),
    ]


MATRIX: dict[tuple[str, str], Probe] = {
    ("GET", f"{API}/documents/{{document_id}}"): _get_document,
    ("DELETE", f"{API}/documents/{{document_id}}"): _delete_document,
    ("GET", f"{API}/documents/{{document_id}}/file"): _document_file,
    ("GET", f"{API}/documents/{{document_id}}/pages/{{number}}"): _document_page,
    ("GET", f"{API}/documents/{{document_id}}/pages/{{number}}/image"): _page_image,
    ("GET", f"{API}/documents/{{document_id}}/chunks/{{chunk_id}}"): _chunk_location,
    ("POST", f"{API}/documents/{{document_id}}/reindex"): _reindex,
    ("GET", f"{API}/chats/{{chat_id}}"): _get_chat,
    ("PATCH", f"{API}/chats/{{chat_id}}"): _patch_chat,
    ("DELETE", f"{API}/chats/{{chat_id}}"): _delete_chat,
    ("POST", f"{API}/chats/{{chat_id}}/messages"): _post_message,
    ("GET", f"{API}/chats/{{chat_id}}/messages/{{message_id}}"): _message,
    ("POST", f"{API}/chats/{{chat_id}}/messages/{{message_id}}/regenerate"): _message,
    ("POST", f"{API}/chats/{{chat_id}}/messages/{{message_id}}/select"): _message,
    ("POST", f"{API}/chats/{{chat_id}}/messages/{{message_id}}/stop"): _message,
    ("PUT", f"{API}/chats/{{chat_id}}/messages/{{message_id}}/feedback"): _message,
    ("DELETE", f"{API}/chats/{{chat_id}}/messages/{{message_id}}/feedback"): _message,
    ("GET", f"{API}/chats/{{chat_id}}/export"): _export_chat,
    ("GET", f"{API}/documents/{{document_id}}/suggested-questions"): _suggested_questions,
    ("GET", f"{API}/documents/bulk/{{bulk_id}}"): _bulk_action,
    ("DELETE", f"{API}/api-keys/{{key_id}}"): _revoke_api_key,
    ("DELETE", f"{API}/auth/sessions/{{session_id}}"): _revoke_session,
    ("GET", f"{API}/collections/{{collection_id}}"): _collection,
    ("PATCH", f"{API}/collections/{{collection_id}}"): _change_collection,
    ("DELETE", f"{API}/collections/{{collection_id}}"): _change_collection,
    ("GET", f"{API}/collections/{{collection_id}}/documents"): _collection,
    ("POST", f"{API}/collections/{{collection_id}}/documents"): _change_collection,
    ("DELETE", f"{API}/collections/{{collection_id}}/documents"): _change_collection,
    ("GET", f"{API}/collections/{{collection_id}}/members"): _collection,
    ("PUT", f"{API}/collections/{{collection_id}}/members"): _change_collection,
    ("DELETE", f"{API}/collections/{{collection_id}}/members/{{member_id}}"): _change_collection,
    ("PATCH", f"{API}/groups/{{group_id}}"): _change_group,
    ("DELETE", f"{API}/groups/{{group_id}}"): _change_group,
    ("GET", f"{API}/groups/{{group_id}}/members"): _group,
    ("PUT", f"{API}/groups/{{group_id}}/members"): _change_group,
    ("DELETE", f"{API}/groups/{{group_id}}/members/{{user_id}}"): _change_group,
}


def test_matrix_covers_every_route_with_a_path_parameter() -> None:
    settings = Settings(
        _env_file=None, database_url="postgresql://unused/db", jwt_secret=TEST_SECRET
    )
    app = create_app(settings)
    routes = every_route(app)
    # Admin routes act on accounts, not on someone's content: who may call them (admins only)
    # is checked route by route in tests/admin/test_access.py, which fails on a new one too.
    with_parameters = {
        (method, path)
        for method, path in routes
        if "{" in path and not path.startswith(f"{API}/admin/")
    }
    assert with_parameters, "the route walk found no parameterised route at all"
    missing = with_parameters - set(MATRIX)
    assert not missing, (
        f"routes with a path parameter not covered by the isolation matrix: {missing}"
    )
    stale = set(MATRIX) - with_parameters
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


def _directions(world: World) -> list[tuple[Tenant, Tenant]]:
    return [(world.alpha, world.bravo), (world.bravo, world.alpha)]


async def _json(client: httpx.AsyncClient, owner: Tenant, path: str) -> Any:
    response = await client.get(f"{API}/{path}", headers=owner.headers)
    assert response.status_code == 200, (path, response.text)
    return response.json()


async def _snapshot(client: httpx.AsyncClient, owner: Tenant) -> dict[str, Any]:
    docs = (await client.get(f"{API}/documents", headers=owner.headers)).json()
    chat = (await client.get(f"{API}/chats/{owner.chat_id}", headers=owner.headers)).json()
    keys = (await client.get(f"{API}/api-keys", headers=owner.headers)).json()
    return {
        "api_keys": [k["id"] for k in keys],
        "documents": sorted((d["id"], d["status"], d["chunk_count"]) for d in docs),
        "chat": (chat["title"], chat["document_ids"], [m["id"] for m in chat["messages"]]),
        "collection": await _json(client, owner, f"collections/{owner.collection_id}"),
        "collection documents": sorted(
            d["id"]
            for d in await _json(client, owner, f"collections/{owner.collection_id}/documents")
        ),
        "members": await _json(client, owner, f"collections/{owner.collection_id}/members"),
        "groups": await _json(client, owner, "groups"),
        "group members": await _json(client, owner, f"groups/{owner.group_id}/members"),
    }


@pytest.mark.parametrize("direction", ["alpha->bravo", "bravo->alpha"])
async def test_every_id_route_answers_404_and_leaks_nothing(world: World, direction: str) -> None:
    owner, intruder = (
        (world.alpha, world.bravo) if direction == "alpha->bravo" else (world.bravo, world.alpha)
    )
    client = world.client
    before = await _snapshot(client, owner)
    for (method, path), probe in MATRIX.items():
        for response in await probe(client, owner, intruder):
            where = f"{intruder.name}'s {method} {path}"
            assert response.status_code == 404, (where, response.status_code, response.text)
            assert response.json()["error"]["code"] == "not_found", where
            assert "text/event-stream" not in response.headers.get("content-type", "")
            owner.assert_absent_from(response.text, where)
            # 404 headers too: no Content-Disposition with the owner's filename, etc.
            owner.assert_absent_from(json.dumps(dict(response.headers)), where + " headers")
    # None of the intruder's writes (delete, reindex, rename, message) touched the owner.
    assert await _snapshot(client, owner) == before
    # And the owner still reads everything normally.
    for doc_id in owner.documents.values():
        own = await client.get(f"{API}/documents/{doc_id}/file", headers=owner.headers)
        assert own.status_code == 200


async def test_listings_searches_and_answers_never_show_the_other_user(world: World) -> None:
    client = world.client
    for owner, intruder in _directions(world):
        listed = [
            await client.get(f"{API}/documents", headers=intruder.headers),
            await client.get(f"{API}/chats", headers=intruder.headers),
            await client.get(f"{API}/api-keys", headers=intruder.headers),
            await client.get(f"{API}/auth/me", headers=intruder.headers),
        ]
        for response in listed:
            assert response.status_code == 200
            owner.assert_absent_from(response.text, f"{intruder.name}'s {response.url.path}")
        # Searching with the owner's own distinctive words finds nothing of the owner's.
        for query in (" ".join(owner.words), owner.question, *owner.documents):
            response = await client.post(
                f"{API}/search", headers=intruder.headers, json={"query": query, "k": 50}
            )
            assert response.status_code == 200
            for hit in response.json()["results"]:
                assert hit["document_id"] in intruder.documents.values(), hit
            owner.assert_absent_from(response.text, f"{intruder.name}'s search {query!r}")
        # Asking the intruder's own chat about the owner's content: sources, deltas,
        # citations and the stored answer are all free of it.
        chat_id = (await client.post(f"{API}/chats", headers=intruder.headers, json={})).json()[
            "id"
        ]
        response, events = await ask(client, intruder, chat_id, owner.question)
        assert response.status_code == 200
        assert events[-1]["type"] == "finish"
        owner.assert_absent_from(
            without_searched_query(response.text, owner.question),
            f"{intruder.name}'s answer stream",
        )
        detail = (await client.get(f"{API}/chats/{chat_id}", headers=intruder.headers)).json()
        # (The intruder's own question, and the title made from it, naturally echo the words.)
        answers = [(m["content"], m["citations"]) for m in detail["messages"]]
        assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
        owner.assert_absent_from(json.dumps(answers[1:]), f"{intruder.name}'s stored answer")


async def test_filters_naming_the_other_users_documents_give_nothing(world: World) -> None:
    client = world.client
    for owner, intruder in _directions(world):
        foreign = list(owner.documents.values())
        own = list(intruder.documents.values())
        for query in (owner.question, " ".join(owner.words)):
            only_foreign = await client.post(
                f"{API}/search",
                headers=intruder.headers,
                json={"query": query, "document_ids": foreign},
            )
            assert only_foreign.status_code == 200
            assert only_foreign.json() == {"results": []}
            mixed = await client.post(
                f"{API}/search",
                headers=intruder.headers,
                json={"query": f"{query} {intruder.question}", "document_ids": [*foreign, *own]},
            )
            assert mixed.status_code == 200
            assert {h["document_id"] for h in mixed.json()["results"]} <= set(own)
            owner.assert_absent_from(mixed.text, f"{intruder.name}'s filtered search")

        # A chat scoped to the owner's documents (at creation, by PATCH, per message).
        scoped = await client.post(
            f"{API}/chats", headers=intruder.headers, json={"document_ids": foreign}
        )
        assert scoped.status_code == 201
        scoped_id = scoped.json()["id"]
        plain_id = (await client.post(f"{API}/chats", headers=intruder.headers, json={})).json()[
            "id"
        ]
        patched = await client.patch(
            f"{API}/chats/{plain_id}", headers=intruder.headers, json={"document_ids": foreign}
        )
        assert patched.status_code == 200
        attempts = [
            await ask(client, intruder, scoped_id, owner.question),
            await ask(client, intruder, plain_id, owner.question),
            await ask(client, intruder, plain_id, owner.question, document_ids=foreign),
            await ask(client, intruder, plain_id, owner.question, document_ids=[*foreign, *own]),
        ]
        for response, events in attempts:
            assert response.status_code == 200
            sources = of_type(events, "data-sources")["data"]["sources"]
            assert {s["document_id"] for s in sources} <= set(own)
            cited = of_type(events, "data-citations")["data"]["citations"]
            assert {c["document_id"] for c in cited} <= set(own)
            owner.assert_absent_from(
                json.dumps([sources, cited, answer_of(events)]),
                f"{intruder.name}'s document-scoped answer",
            )
        for chat_id in (scoped_id, plain_id):
            detail = (await client.get(f"{API}/chats/{chat_id}", headers=intruder.headers)).json()
            stored = json.dumps(
                [(m["content"], m["citations"]) for m in detail["messages"] if m["role"] != "user"]
            )
            owner.assert_absent_from(stored, f"{intruder.name}'s stored scoped answers")


# --------------------------------------------------------------------------- deletion

DOOMED = (
    "gamma-frobnitz.md",
    b"# Frobnitz lighthouse\n\nThe frobnitz lighthouse on Snarfle island flashes green "
    b"every nine seconds.\n\nKeepers of the frobnitz lamp polish its snarfle lens at dawn.\n",
    "text/markdown",
)
KEPT = (
    "gamma-harbour.txt",
    b"The harbour master logs every ferry that docks at the northern pier.\n",
    "text/plain",
)
RACED = (
    "gamma-wibblethorpe.txt",
    b"Wibblethorpe tunnels connect the old granaries under the market square.\n",
    "text/plain",
)
DOOMED_QUESTION = "How often does the frobnitz lighthouse flash?"


async def _job_pending(app: FastAPI, document_id: str) -> bool:
    async with app.state.sessionmaker() as session:
        from sqlalchemy import text

        count = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE lock = :lock "
                "AND status IN ('todo', 'doing')"
            ),
            {"lock": f"document:{document_id}"},
        )
    return bool(count)


async def test_deleted_document_never_comes_back(world: World) -> None:
    client = world.client
    headers = await register(client)
    docs = (await upload(client, headers, DOOMED, KEPT, RACED)).json()
    ids = {d["filename"]: d["id"] for d in docs}
    for doc_id in ids.values():
        assert (await wait_until_settled(client, headers, doc_id))["status"] == "ready"
    doomed_id, raced_id = ids[DOOMED[0]], ids[RACED[0]]

    old_chat = (await client.post(f"{API}/chats", headers=headers, json={})).json()["id"]
    owner = Tenant("gamma", headers, "", "", (), DOOMED_QUESTION)
    _, events = await ask(client, owner, old_chat, DOOMED_QUESTION)
    cited = of_type(events, "data-citations")["data"]["citations"]
    assert doomed_id in {c["document_id"] for c in cited}, "precondition: the old answer cites it"
    hits = (
        await client.post(
            f"{API}/search", headers=headers, json={"query": "frobnitz lighthouse", "k": 50}
        )
    ).json()["results"]
    doomed_chunks = {h["chunk_id"] for h in hits if h["document_id"] == doomed_id}
    assert doomed_chunks

    assert (await client.delete(f"{API}/documents/{doomed_id}", headers=headers)).status_code == 204
    # A delete racing a reindex: the job finishes (or starts) after the delete and must not
    # resurrect anything.
    assert (
        await client.post(f"{API}/documents/{raced_id}/reindex", headers=headers)
    ).status_code == 202
    assert (await client.delete(f"{API}/documents/{raced_id}", headers=headers)).status_code == 204
    deadline = asyncio.get_running_loop().time() + 30
    while await _job_pending(world.app, raced_id):
        assert asyncio.get_running_loop().time() < deadline, "the raced job never finished"
        await asyncio.sleep(0.2)

    gone = Tenant(
        "the deleted documents",
        {},
        "",
        "",
        ("frobnitz", "snarfle", "wibblethorpe"),
        "",
        documents={DOOMED[0]: doomed_id, RACED[0]: raced_id},
        chunk_ids=doomed_chunks,
    )
    for doc_id in (doomed_id, raced_id):
        for suffix in ("", "/file"):
            assert (
                await client.get(f"{API}/documents/{doc_id}{suffix}", headers=headers)
            ).status_code == 404
    listed = await client.get(f"{API}/documents", headers=headers)
    assert [d["id"] for d in listed.json()] == [ids[KEPT[0]]]
    for query in ("frobnitz lighthouse snarfle", DOOMED_QUESTION, "wibblethorpe tunnels"):
        response = await client.post(
            f"{API}/search", headers=headers, json={"query": query, "k": 50}
        )
        gone.assert_absent_from(response.text, f"search {query!r} after delete")
    # New answers, in the old chat and in a new one.
    new_chat = (await client.post(f"{API}/chats", headers=headers, json={})).json()["id"]
    for chat_id in (old_chat, new_chat):
        response, events = await ask(client, owner, chat_id, DOOMED_QUESTION)
        assert response.status_code == 200
        gone.assert_absent_from(
            without_searched_query(response.text, DOOMED_QUESTION), "a new answer after delete"
        )
    # The old answer keeps its text; its citation of the deleted document says "source
    # deleted" and keeps nothing of the passage.
    detail = (await client.get(f"{API}/chats/{old_chat}", headers=headers)).json()
    first_answer = detail["messages"][1]
    assert first_answer["role"] == "assistant"
    doomed_citations = [c for c in first_answer["citations"] if c["document_id"] == doomed_id]
    assert doomed_citations
    assert all(c["source_deleted"] and not c["snippet"] for c in doomed_citations)
    assert all(c["highlights"] == [] for c in doomed_citations)
    stored = json.dumps([m["citations"] for m in detail["messages"]]).lower()
    assert all(word not in stored for word in gone.words), stored
