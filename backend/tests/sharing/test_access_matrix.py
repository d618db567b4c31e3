"""Every API route, for every role, around a shared collection: who reads, who changes, and who
gets a 404 that leaks nothing.

The roles (`ROLES`) are people around one owner's collection: its owner, an editor, a
viewer, a member of a group it is shared with, a former member (once a viewer and a group
member, since removed and left) and a non-member. Each role is one entry: how to grant it
on a collection and group, and the level it stands at on each (collection: owner / editor /
viewer / none; group: owner / member / none). A role at level "disabled" expects 401 from
every route.

Each route has one or more cases (`MATRIX`), each a probe and what each level must get:
a status, and for readable content whether the owner's shared content shows or must not.
Probes that change things act on a fresh collection and group granted the same way, so no
case depends on another. `test_every_api_route_is_in_the_matrix` enumerates `app.routes`
and fails for a route that is neither in the matrix nor in `OWN_ACCOUNT_ROUTES`.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import psycopg
import pytest

from app.chat.service import title_of_question
from app.core.database_url import libpq_url
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import (
    TEST_SECRET,
    every_route,
    make_settings,
    register,
    sse_events,
    wait_until_settled,
)
from tests.ocr_samples import page_image

API = "/api/v1"

SHARED_WORDS = ("quillomere", "brantwhistle", "osskerry")
SHARED_DOC = (
    "quillomere-archive.md",
    b"# Quillomere archive\n\n"
    b"The quillomere archive on Osskerry island keeps the brantwhistle maps in oak drawers.\n\n"
    b"Archivists unroll the brantwhistle maps only on foggy Thursdays.\n",
    "text/markdown",
)
QUESTION = "Where does the quillomere archive keep the brantwhistle maps?"
SCAN_LINES = ("Osskerry harbour ledger", "Quillomere ferries sail at dawn.")

Level = str  # "owner" | "editor" | "viewer" | "member" | "none" | "disabled"


# --------------------------------------------------------------------------- the world


@dataclass
class Actor:
    role: str
    headers: dict[str, str]
    user_id: str
    email: str


@dataclass
class Target:
    """A collection and a group of the owner, the group sharing the collection as viewer."""

    collection_id: str
    group_id: str
    member_id: str  # the group's share
    document_id: str = ""


@dataclass
class World:
    client: httpx.AsyncClient
    owner: Actor
    heir: Actor  # an account the owner shares with, adds to groups and transfers to
    actors: dict[str, Actor]
    target: Target
    image_id: str = ""
    chunk_id: int = 0
    owner_chat_id: str = ""
    owner_answer_id: str = ""
    secrets: list[str] = field(default_factory=list)
    database_url: str = ""

    async def call(self, actor: Actor, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, f"{API}{path}", headers=actor.headers, **kwargs)

    async def as_owner(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.call(self.owner, method, path, **kwargs)
        assert response.status_code < 300, (method, path, response.text)
        return response

    async def as_owner_status(self, method: str, path: str) -> int:
        return (await self.call(self.owner, method, path)).status_code

    async def arrange(self, actor: Actor, *, document: bool = False) -> Target:
        """A fresh collection and group of the owner with ``actor`` granted their role."""
        target = await new_target(self, document=document)
        await ROLES[actor.role].grant(self, target, actor)
        return target


async def new_target(world: World, *, document: bool) -> Target:
    tag = uuid.uuid4().hex[:8]
    collection = await world.as_owner("POST", "/collections", json={"name": f"scratch {tag}"})
    group = await world.as_owner("POST", "/groups", json={"name": f"scratch crew {tag}"})
    target = Target(collection.json()["id"], group.json()["id"], "")
    member = await world.as_owner(
        "PUT",
        f"/collections/{target.collection_id}/members",
        json={"group_id": target.group_id, "role": "viewer"},
    )
    target.member_id = member.json()["id"]
    if document:
        target.document_id = await upload_into(world, world.owner, target, f"scratch-{tag}.txt")
    return target


async def upload_into(world: World, actor: Actor, target: Target | None, name: str) -> str:
    response = await world.client.post(
        f"{API}/documents",
        headers=actor.headers,
        data={"collection_id": target.collection_id} if target else {},
        files=[("files", (name, f"A note called {name}.".encode(), "text/plain"))],
    )
    assert response.status_code == 202, response.text
    return str(response.json()[0]["id"])


# --------------------------------------------------------------------------- roles


Grant = Callable[[World, Target, Actor], Awaitable[None]]


async def _no_grant(world: World, target: Target, actor: Actor) -> None:
    return None


def _share(role: str) -> Grant:
    async def grant(world: World, target: Target, actor: Actor) -> None:
        await world.as_owner(
            "PUT",
            f"/collections/{target.collection_id}/members",
            json={"email": actor.email, "role": role},
        )

    return grant


async def _join_group(world: World, target: Target, actor: Actor) -> None:
    await world.as_owner("PUT", f"/groups/{target.group_id}/members", json={"email": actor.email})


async def _former_member(world: World, target: Target, actor: Actor) -> None:
    """A viewer and group member who could read the collection, then lost both."""
    share = await world.as_owner(
        "PUT",
        f"/collections/{target.collection_id}/members",
        json={"email": actor.email, "role": "viewer"},
    )
    await _join_group(world, target, actor)
    seen = await world.call(actor, "GET", f"/collections/{target.collection_id}")
    assert seen.status_code == 200, "precondition: the former member could read it"
    await world.as_owner(
        "DELETE", f"/collections/{target.collection_id}/members/{share.json()['id']}"
    )
    left = await world.call(actor, "DELETE", f"/groups/{target.group_id}/members/{actor.user_id}")
    assert left.status_code == 204, left.text


async def _as_database(world: World, statement: str, actor: Actor) -> None:
    async with await psycopg.AsyncConnection.connect(
        libpq_url(world.database_url), autocommit=True
    ) as connection:
        await connection.execute(statement, {"id": actor.user_id})


async def _promote(world: World, target: Target, actor: Actor) -> None:
    """An administrator: manages accounts, reads nothing that is not shared with them."""
    await _as_database(world, "UPDATE users SET role = 'admin' WHERE id = %(id)s", actor)


async def _disabled_viewer(world: World, target: Target, actor: Actor) -> None:
    """A viewer of the collection whose account an admin then disabled (as the admin API
    does: `disabled_at` and `is_active` together)."""
    await _share("viewer")(world, target, actor)
    await _as_database(
        world,
        "UPDATE users SET disabled_at = now(), is_active = false WHERE id = %(id)s",
        actor,
    )


@dataclass(frozen=True)
class RoleSpec:
    grant: Grant
    collection: Level  # on the owner's collection
    group: Level  # on the owner's group


ROLES: dict[str, RoleSpec] = {
    "owner": RoleSpec(_no_grant, collection="owner", group="owner"),
    "editor": RoleSpec(_share("editor"), collection="editor", group="none"),
    "viewer": RoleSpec(_share("viewer"), collection="viewer", group="none"),
    "group member": RoleSpec(_join_group, collection="viewer", group="member"),
    "former member": RoleSpec(_former_member, collection="none", group="none"),
    "non-member": RoleSpec(_no_grant, collection="none", group="none"),
    "admin": RoleSpec(_promote, collection="none", group="none"),
    "disabled user": RoleSpec(_disabled_viewer, collection="disabled", group="disabled"),
}


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Expect:
    status: int
    # True: the probe's marker (the shared content) must be in the body; False: it must not.
    # None: not content (a change, or binary).
    shows: bool | None = None


SHOWS = True
HIDDEN = False
COLLECTION_LEVELS = ("owner", "editor", "viewer")
GROUP_LEVELS = ("owner", "member")


def at_least(
    level: Level,
    ok: int,
    *,
    below: Expect | int = 403,
    none: Expect | int = 404,
    shows: bool | None = None,
    axis: Literal["collection", "group"] = "collection",
) -> dict[Level, Expect]:
    """``ok`` for ``level`` and above, ``below`` for the levels under it, ``none`` for no
    access."""
    order = COLLECTION_LEVELS if axis == "collection" else GROUP_LEVELS
    rank = order.index(level)
    below_expect = below if isinstance(below, Expect) else Expect(below)
    expects = {
        name: Expect(ok, shows) if order.index(name) <= rank else below_expect for name in order
    }
    expects["none"] = none if isinstance(none, Expect) else Expect(none)
    return expects


def readers(ok: int = 200, *, none: Expect | int = 404) -> dict[Level, Expect]:
    """Everyone who can read the collection gets its content; others ``none``."""
    return at_least("viewer", ok, none=none, shows=SHOWS)


def everyone(status: int) -> dict[Level, Expect]:
    return {level: Expect(status) for level in (*COLLECTION_LEVELS, *GROUP_LEVELS, "none")}


@dataclass(frozen=True)
class Seen:
    response: httpx.Response
    marker: str | None = None  # what shows that the shared content came back
    echo: str | None = None  # the caller's own words echoed back (a searched question)


Probe = Callable[[World, Actor], Awaitable[Seen]]


@dataclass(frozen=True)
class Case:
    name: str
    probe: Probe
    expect: dict[Level, Expect]
    axis: Literal["collection", "group"] = "collection"


# --------------------------------------------------------------------------- probes


def _document(w: World) -> str:
    return w.target.document_id


async def list_documents(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", "/documents"), _document(w))


async def list_documents_of_collection(w: World, a: Actor) -> Seen:
    response = await w.call(
        a, "GET", "/documents", params={"collection_id": w.target.collection_id}
    )
    return Seen(response, _document(w))


async def list_owned_documents(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", "/documents", params={"owned": "true"}), _document(w))


async def search_documents_by_name(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", "/documents", params={"q": "QUILLOMERE-arch"})
    return Seen(response, _document(w))


async def count_collection_documents(w: World, a: Actor) -> Seen:
    response = await w.call(
        a, "GET", "/documents/counts", params={"collection_id": w.target.collection_id}
    )
    # The collection holds the shared note and the scan, both ready.
    return Seen(response, '"ready":2')


async def _bulk_settled(w: World, a: Actor, bulk_id: str) -> dict[str, Any]:
    for _ in range(300):
        body = dict((await w.call(a, "GET", f"/documents/bulk/{bulk_id}")).json())
        if body["status"] in ("done", "failed"):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(body)


async def bulk_delete_selected(w: World, a: Actor) -> Seen:
    """Select a document and bulk-delete it: the job checks each document's role. Seen as
    the action's progress (200) when it went; when it was denied, as what the single delete
    answers the actor (403 when they read it but may not delete it, 404 when they cannot
    read it)."""
    target = await w.arrange(a, document=True)
    started = await w.call(
        a,
        "POST",
        "/documents/bulk",
        json={"action": "delete", "document_ids": [target.document_id]},
    )
    if started.status_code != 202:
        return Seen(started)
    done = await _bulk_settled(w, a, started.json()["id"])
    assert done["status"] == "done", done
    gone = (await w.as_owner_status("GET", f"/documents/{target.document_id}")) == 404
    assert done["succeeded"] == (1 if gone else 0) and done["denied"] == (0 if gone else 1)
    if gone:
        return Seen(await w.call(a, "GET", f"/documents/bulk/{done['id']}"))
    return Seen(await w.call(a, "DELETE", f"/documents/{target.document_id}"))


async def bulk_delete_collection_filter(w: World, a: Actor) -> Seen:
    """Select all of a collection: who cannot see it gets a 404 at once."""
    target = await w.arrange(a)
    started = await w.call(
        a,
        "POST",
        "/documents/bulk",
        json={"action": "delete", "filter": {"collection_id": target.collection_id}},
    )
    if started.status_code == 202:
        done = await _bulk_settled(w, a, started.json()["id"])
        assert done["status"] == "done", done
    return Seen(started)


async def bulk_add_to_collection(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    return Seen(
        await w.call(
            a,
            "POST",
            "/documents/bulk",
            json={
                "action": "add_to_collection",
                "document_ids": [_document(w)],
                "collection_id": target.collection_id,
            },
        )
    )


async def read_owners_bulk_action(w: World, a: Actor) -> Seen:
    started = await w.as_owner(
        "POST", "/documents/bulk", json={"action": "reindex", "document_ids": []}
    )
    bulk_id = started.json()["id"]
    return Seen(await w.call(a, "GET", f"/documents/bulk/{bulk_id}"), bulk_id)


async def upload_into_collection(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    response = await w.client.post(
        f"{API}/documents",
        headers=a.headers,
        data={"collection_id": target.collection_id},
        files=[("files", (f"up-{uuid.uuid4().hex[:6]}.txt", b"Uploaded note.", "text/plain"))],
    )
    return Seen(response)


async def get_document(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", f"/documents/{_document(w)}"), SHARED_DOC[0])


async def delete_document(w: World, a: Actor) -> Seen:
    target = await w.arrange(a, document=True)
    return Seen(await w.call(a, "DELETE", f"/documents/{target.document_id}"))


async def reindex_document(w: World, a: Actor) -> Seen:
    target = await w.arrange(a, document=True)
    return Seen(await w.call(a, "POST", f"/documents/{target.document_id}/reindex"))


async def download(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", f"/documents/{_document(w)}/file"), "oak drawers")


async def page_text(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", f"/documents/{_document(w)}/pages/1"), "oak drawers")


async def page_image_of_scan(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/documents/{w.image_id}/pages/1/image")
    if response.status_code == 200:
        assert response.headers["content-type"] == "image/png"
    return Seen(response)


async def citation_location(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/documents/{_document(w)}/chunks/{w.chunk_id}")
    return Seen(response, f'"chunk_id":{w.chunk_id}')


async def collection_documents(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/collections/{w.target.collection_id}/documents")
    return Seen(response, _document(w))


async def search_everything(w: World, a: Actor) -> Seen:
    return Seen(
        await w.call(a, "POST", "/search", json={"query": QUESTION}), _document(w), QUESTION
    )


async def search_collection(w: World, a: Actor) -> Seen:
    response = await w.call(
        a, "POST", "/search", json={"query": QUESTION, "collection_id": w.target.collection_id}
    )
    return Seen(response, _document(w), QUESTION)


async def search_documents(w: World, a: Actor) -> Seen:
    response = await w.call(
        a, "POST", "/search", json={"query": QUESTION, "document_ids": [_document(w)]}
    )
    return Seen(response, _document(w), QUESTION)


async def create_chat_on_collection(w: World, a: Actor) -> Seen:
    response = await w.call(a, "POST", "/chats", json={"collection_id": w.target.collection_id})
    return Seen(response)


async def list_chats(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", "/chats"), w.owner_chat_id, QUESTION)


async def search_chats(w: World, a: Actor) -> Seen:
    # Words of the owner's answer (from the shared document), not of the question everyone
    # asked in their own chats: a reader with no access has no answer that holds them.
    response = await w.call(a, "GET", "/chats", params={"q": "brantwhistle oak drawers"})
    return Seen(response, w.owner_chat_id, QUESTION)


async def pin_owner_chat(w: World, a: Actor) -> Seen:
    response = await w.call(a, "PATCH", f"/chats/{w.owner_chat_id}", json={"pinned": True})
    return Seen(response)


async def rate_owner_answer(w: World, a: Actor) -> Seen:
    path = f"/chats/{w.owner_chat_id}/messages/{w.owner_answer_id}/feedback"
    return Seen(await w.call(a, "PUT", path, json={"rating": 1, "comment": "good"}))


async def clear_owner_rating(w: World, a: Actor) -> Seen:
    path = f"/chats/{w.owner_chat_id}/messages/{w.owner_answer_id}/feedback"
    await w.as_owner("PUT", path, json={"rating": -1})
    return Seen(await w.call(a, "DELETE", path))


async def list_models(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", "/models"))


async def suggested_questions(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/documents/{_document(w)}/suggested-questions")
    return Seen(response, "Quillomere archive")


async def suggested_for_collection(w: World, a: Actor) -> Seen:
    params = {"collection_id": w.target.collection_id}
    return Seen(await w.call(a, "GET", "/suggested-questions", params=params), _document(w))


async def suggested_for_documents(w: World, a: Actor) -> Seen:
    params = {"document_ids": _document(w)}
    response = await w.call(a, "GET", "/suggested-questions", params=params)
    return Seen(response, "Quillomere archive")


async def get_owner_chat(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", f"/chats/{w.owner_chat_id}"), w.owner_chat_id)


async def rename_owner_chat(w: World, a: Actor) -> Seen:
    response = await w.call(a, "PATCH", f"/chats/{w.owner_chat_id}", json={"title": "Archive"})
    return Seen(response)


async def scope_own_chat_to_collection(w: World, a: Actor) -> Seen:
    chat = await w.call(a, "POST", "/chats", json={})
    response = await w.call(
        a, "PATCH", f"/chats/{chat.json()['id']}", json={"collection_id": w.target.collection_id}
    )
    return Seen(response)


async def delete_owner_chat(w: World, a: Actor) -> Seen:
    chat = await w.as_owner("POST", "/chats", json={"title": "scratch"})
    return Seen(await w.call(a, "DELETE", f"/chats/{chat.json()['id']}"))


async def _ask(w: World, a: Actor, chat_id: str, **scope: Any) -> Seen:
    response = await w.call(
        a, "POST", f"/chats/{chat_id}/messages", json={"content": QUESTION, **scope}
    )
    if response.status_code == 200:
        events = sse_events(response.text)
        assert events[-1]["type"] == "finish", events[-1]
    return Seen(response, _document(w), QUESTION)


async def ask_own_chat(w: World, a: Actor) -> Seen:
    chat = await w.call(a, "POST", "/chats", json={})
    return await _ask(w, a, chat.json()["id"])


async def ask_own_chat_about_collection(w: World, a: Actor) -> Seen:
    chat = await w.call(a, "POST", "/chats", json={})
    return await _ask(w, a, chat.json()["id"], collection_id=w.target.collection_id)


async def ask_in_owner_chat(w: World, a: Actor) -> Seen:
    return await _ask(w, a, w.owner_chat_id)


async def _stream(response: httpx.Response) -> httpx.Response:
    if response.status_code == 200:
        events = sse_events(response.text)
        assert events[-1]["type"] == "finish", events[-1]
    return response


async def regenerate_in_own_chat(w: World, a: Actor) -> Seen:
    chat = (await w.call(a, "POST", "/chats", json={})).json()["id"]
    asked = sse_events((await _ask(w, a, chat)).response.text)
    answer_id = asked[0]["messageId"]
    response = await w.call(a, "POST", f"/chats/{chat}/messages/{answer_id}/regenerate")
    return Seen(await _stream(response), _document(w), QUESTION)


async def regenerate_in_owner_chat(w: World, a: Actor) -> Seen:
    response = await w.call(
        a, "POST", f"/chats/{w.owner_chat_id}/messages/{w.owner_answer_id}/regenerate"
    )
    return Seen(await _stream(response), _document(w))


async def get_owner_answer(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/chats/{w.owner_chat_id}/messages/{w.owner_answer_id}")
    return Seen(response, w.owner_answer_id)


async def select_owner_answer(w: World, a: Actor) -> Seen:
    response = await w.call(
        a, "POST", f"/chats/{w.owner_chat_id}/messages/{w.owner_answer_id}/select"
    )
    return Seen(response, w.owner_answer_id)


async def stop_owner_answer(w: World, a: Actor) -> Seen:
    response = await w.call(
        a, "POST", f"/chats/{w.owner_chat_id}/messages/{w.owner_answer_id}/stop"
    )
    return Seen(response)


async def export_owner_chat(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/chats/{w.owner_chat_id}/export", params={"format": "json"})
    return Seen(response, w.owner_chat_id)


async def export_own_chat(w: World, a: Actor) -> Seen:
    # Titled, so the file name (a header) is not the question (which echoes the shared words).
    chat = (await w.call(a, "POST", "/chats", json={"title": "Mine"})).json()["id"]
    await _ask(w, a, chat)
    response = await w.call(a, "GET", f"/chats/{chat}/export", params={"format": "markdown"})
    return Seen(response, SHARED_DOC[0], QUESTION)


async def list_collections(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", "/collections"), w.target.collection_id)


async def create_collection(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "POST", "/collections", json={"name": "Mine"}))


async def get_collection(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/collections/{w.target.collection_id}")
    return Seen(response, w.target.collection_id)


async def rename_collection(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    response = await w.call(
        a, "PATCH", f"/collections/{target.collection_id}", json={"name": "Renamed"}
    )
    return Seen(response)


async def transfer_collection(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    response = await w.call(
        a, "PATCH", f"/collections/{target.collection_id}", json={"owner_email": w.heir.email}
    )
    return Seen(response)


async def delete_collection(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    return Seen(await w.call(a, "DELETE", f"/collections/{target.collection_id}"))


async def add_own_document(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    own = await upload_into(w, a, None, f"own-{uuid.uuid4().hex[:6]}.txt")
    response = await w.call(
        a, "POST", f"/collections/{target.collection_id}/documents", json={"document_ids": [own]}
    )
    return Seen(response)


async def remove_document(w: World, a: Actor) -> Seen:
    target = await w.arrange(a, document=True)
    response = await w.call(
        a,
        "DELETE",
        f"/collections/{target.collection_id}/documents",
        json={"document_ids": [target.document_id]},
    )
    return Seen(response)


async def list_members(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/collections/{w.target.collection_id}/members")
    return Seen(response, w.target.group_id)


async def share_with_heir(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    response = await w.call(
        a,
        "PUT",
        f"/collections/{target.collection_id}/members",
        json={"email": w.heir.email, "role": "viewer"},
    )
    return Seen(response)


async def unshare_group(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    response = await w.call(
        a, "DELETE", f"/collections/{target.collection_id}/members/{target.member_id}"
    )
    return Seen(response)


async def list_groups(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "GET", "/groups"), w.target.group_id)


async def create_group(w: World, a: Actor) -> Seen:
    return Seen(await w.call(a, "POST", "/groups", json={"name": "Mine"}))


async def rename_group(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    return Seen(await w.call(a, "PATCH", f"/groups/{target.group_id}", json={"name": "Renamed"}))


async def delete_group(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    return Seen(await w.call(a, "DELETE", f"/groups/{target.group_id}"))


async def list_group_members(w: World, a: Actor) -> Seen:
    response = await w.call(a, "GET", f"/groups/{w.target.group_id}/members")
    return Seen(response, w.owner.email)


async def add_heir_to_group(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    response = await w.call(
        a, "PUT", f"/groups/{target.group_id}/members", json={"email": w.heir.email}
    )
    return Seen(response)


async def remove_heir_from_group(w: World, a: Actor) -> Seen:
    target = await w.arrange(a)
    await w.as_owner("PUT", f"/groups/{target.group_id}/members", json={"email": w.heir.email})
    response = await w.call(a, "DELETE", f"/groups/{target.group_id}/members/{w.heir.user_id}")
    return Seen(response)


# --------------------------------------------------------------------------- the matrix

BLIND = Expect(200, HIDDEN)
OWNER_ONLY_CHAT = at_least("owner", 200, below=404, shows=SHOWS)

MATRIX: dict[tuple[str, str], list[Case]] = {
    ("GET", "/documents"): [
        Case("everything readable", list_documents, readers(none=BLIND)),
        Case("?collection_id=", list_documents_of_collection, readers()),
        Case(
            "?owned=true",
            list_owned_documents,
            at_least("owner", 200, below=BLIND, none=BLIND, shows=SHOWS),
        ),
        Case("?q= the shared filename", search_documents_by_name, readers(none=BLIND)),
    ],
    ("GET", "/documents/counts"): [
        Case("?collection_id=", count_collection_documents, readers()),
    ],
    ("POST", "/documents/bulk"): [
        Case("delete selected documents", bulk_delete_selected, at_least("owner", 200)),
        Case("delete all of a collection", bulk_delete_collection_filter, at_least("viewer", 202)),
        Case("add to a collection", bulk_add_to_collection, at_least("editor", 202)),
    ],
    ("GET", "/documents/bulk/{bulk_id}"): [
        Case(
            "the owner's own action",
            read_owners_bulk_action,
            at_least("owner", 200, below=404, shows=SHOWS),
        ),
    ],
    ("POST", "/documents"): [
        Case("upload into a collection", upload_into_collection, at_least("editor", 202)),
    ],
    ("GET", "/documents/{document_id}"): [Case("shared document", get_document, readers())],
    ("DELETE", "/documents/{document_id}"): [
        Case("owner only", delete_document, at_least("owner", 204)),
    ],
    ("POST", "/documents/{document_id}/reindex"): [
        Case("owner only", reindex_document, at_least("owner", 202)),
    ],
    ("GET", "/documents/{document_id}/file"): [Case("download", download, readers())],
    ("GET", "/documents/{document_id}/pages/{number}"): [Case("viewer text", page_text, readers())],
    ("GET", "/documents/{document_id}/pages/{number}/image"): [
        Case("viewer image", page_image_of_scan, at_least("viewer", 200)),
    ],
    ("GET", "/documents/{document_id}/chunks/{chunk_id}"): [
        Case("citation view", citation_location, readers()),
    ],
    ("GET", "/collections/{collection_id}/documents"): [
        Case("collection's documents", collection_documents, readers()),
    ],
    ("POST", "/search"): [
        Case("everything readable", search_everything, readers(none=BLIND)),
        Case("collection_id", search_collection, readers()),
        Case("document_ids", search_documents, readers(none=BLIND)),
    ],
    ("POST", "/chats"): [
        Case("scoped to the collection", create_chat_on_collection, at_least("viewer", 201)),
    ],
    ("GET", "/chats"): [
        Case(
            "the owner's chat",
            list_chats,
            at_least("owner", 200, below=BLIND, none=BLIND, shows=SHOWS),
        ),
        Case(
            "?q= finds the owner's chat",
            search_chats,
            at_least("owner", 200, below=BLIND, none=BLIND, shows=SHOWS),
        ),
    ],
    ("PUT", "/chats/{chat_id}/messages/{message_id}/feedback"): [
        Case("the owner's answer", rate_owner_answer, at_least("owner", 200, below=404)),
    ],
    ("DELETE", "/chats/{chat_id}/messages/{message_id}/feedback"): [
        Case("the owner's answer", clear_owner_rating, at_least("owner", 204, below=404)),
    ],
    ("GET", "/models"): [Case("configured models", list_models, everyone(200))],
    ("GET", "/documents/{document_id}/suggested-questions"): [
        Case("shared document", suggested_questions, readers()),
    ],
    ("GET", "/suggested-questions"): [
        Case("?collection_id=", suggested_for_collection, readers()),
        Case("?document_ids= the shared document", suggested_for_documents, readers(none=BLIND)),
    ],
    ("GET", "/chats/{chat_id}"): [Case("the owner's chat", get_owner_chat, OWNER_ONLY_CHAT)],
    ("PATCH", "/chats/{chat_id}"): [
        Case("the owner's chat", rename_owner_chat, at_least("owner", 200, below=404)),
        Case("pin the owner's chat", pin_owner_chat, at_least("owner", 200, below=404)),
        Case(
            "own chat scoped to the collection",
            scope_own_chat_to_collection,
            at_least("viewer", 200),
        ),
    ],
    ("DELETE", "/chats/{chat_id}"): [
        Case("the owner's chat", delete_owner_chat, at_least("owner", 204, below=404)),
    ],
    ("POST", "/chats/{chat_id}/messages"): [
        Case("own chat, everything readable", ask_own_chat, readers(none=BLIND)),
        Case("own chat, collection_id", ask_own_chat_about_collection, readers()),
        Case("the owner's chat", ask_in_owner_chat, OWNER_ONLY_CHAT),
    ],
    ("POST", "/chats/{chat_id}/messages/{message_id}/regenerate"): [
        Case("own chat, everything readable", regenerate_in_own_chat, readers(none=BLIND)),
        Case("the owner's chat", regenerate_in_owner_chat, OWNER_ONLY_CHAT),
    ],
    ("GET", "/chats/{chat_id}/messages/{message_id}"): [
        Case("the owner's answer", get_owner_answer, OWNER_ONLY_CHAT),
    ],
    ("POST", "/chats/{chat_id}/messages/{message_id}/select"): [
        Case("the owner's answer", select_owner_answer, OWNER_ONLY_CHAT),
    ],
    ("POST", "/chats/{chat_id}/messages/{message_id}/stop"): [
        Case("the owner's answer", stop_owner_answer, at_least("owner", 204, below=404)),
    ],
    ("GET", "/chats/{chat_id}/export"): [
        Case("the owner's chat", export_owner_chat, OWNER_ONLY_CHAT),
        Case("own chat, everything readable", export_own_chat, readers(none=BLIND)),
    ],
    ("GET", "/collections"): [Case("shared with me", list_collections, readers(none=BLIND))],
    ("POST", "/collections"): [Case("my own", create_collection, everyone(201))],
    ("GET", "/collections/{collection_id}"): [Case("shared", get_collection, readers())],
    ("PATCH", "/collections/{collection_id}"): [
        Case("rename", rename_collection, at_least("owner", 200)),
        Case("transfer", transfer_collection, at_least("owner", 200)),
    ],
    ("DELETE", "/collections/{collection_id}"): [
        Case("delete", delete_collection, at_least("owner", 204)),
    ],
    ("POST", "/collections/{collection_id}/documents"): [
        Case("add my document", add_own_document, at_least("editor", 204)),
    ],
    ("DELETE", "/collections/{collection_id}/documents"): [
        Case("remove a document", remove_document, at_least("editor", 204)),
    ],
    ("GET", "/collections/{collection_id}/members"): [
        Case("who it is shared with", list_members, readers()),
    ],
    ("PUT", "/collections/{collection_id}/members"): [
        Case("share", share_with_heir, at_least("owner", 200)),
    ],
    ("DELETE", "/collections/{collection_id}/members/{member_id}"): [
        Case("unshare someone else", unshare_group, at_least("owner", 204)),
    ],
    ("GET", "/groups"): [
        Case(
            "mine",
            list_groups,
            at_least("member", 200, none=BLIND, shows=SHOWS, axis="group"),
            axis="group",
        ),
    ],
    ("POST", "/groups"): [Case("my own", create_group, everyone(201), axis="group")],
    ("PATCH", "/groups/{group_id}"): [
        Case("rename", rename_group, at_least("owner", 200, axis="group"), axis="group"),
    ],
    ("DELETE", "/groups/{group_id}"): [
        Case("delete", delete_group, at_least("owner", 204, axis="group"), axis="group"),
    ],
    ("GET", "/groups/{group_id}/members"): [
        Case(
            "members",
            list_group_members,
            at_least("member", 200, shows=SHOWS, axis="group"),
            axis="group",
        ),
    ],
    ("PUT", "/groups/{group_id}/members"): [
        Case("add", add_heir_to_group, at_least("owner", 204, axis="group"), axis="group"),
    ],
    ("DELETE", "/groups/{group_id}/members/{user_id}"): [
        Case(
            "remove someone else",
            remove_heir_from_group,
            at_least("owner", 204, axis="group"),
            axis="group",
        ),
    ],
}

# Routes about the caller's own account or library that take no id of anything shared.
# The caller's own account, sessions and keys: nothing in them is shared, so no role reaches
# another person's (tests/auth/test_isolation.py probes the ones that take an id).
OWN_ACCOUNT_ROUTES = {
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/me"),
    ("PATCH", "/auth/me"),
    ("DELETE", "/auth/me"),
    ("GET", "/auth/me/export"),
    ("POST", "/auth/password"),
    ("GET", "/auth/sessions"),
    ("DELETE", "/auth/sessions/{session_id}"),
    ("POST", "/auth/email/confirm"),
    ("POST", "/auth/password-reset"),
    ("POST", "/auth/password-reset/confirm"),
    ("GET", "/auth/oidc/config"),
    ("GET", "/auth/oidc/login"),
    ("GET", "/auth/oidc/callback"),
    ("POST", "/auth/oidc/exchange"),
    ("GET", "/api-keys"),
    ("POST", "/api-keys"),
    ("DELETE", "/api-keys/{key_id}"),
    ("POST", "/documents/url"),  # imports into the caller's own library
}


def test_every_api_route_is_in_the_matrix() -> None:
    settings = Settings(
        _env_file=None, database_url="postgresql://unused/db", jwt_secret=TEST_SECRET
    )
    api_routes = {
        (method, path.removeprefix(API))
        for method, path in every_route(create_app(settings))
        if path.startswith(f"{API}/")
    }
    assert api_routes, "the route walk found no API route"
    # Admin routes act on accounts, not on anyone's content: who may call them (admins only)
    # is checked route by route in tests/admin/test_access.py, which fails on a new one too.
    admin_routes = {route for route in api_routes if route[1].startswith("/admin/")}
    missing = api_routes - set(MATRIX) - OWN_ACCOUNT_ROUTES - admin_routes
    assert not missing, f"routes in no access-matrix case: {sorted(missing)}"
    stale = (set(MATRIX) | OWN_ACCOUNT_ROUTES) - api_routes
    assert admin_routes, "the admin routes are not where this test expects them"
    assert not stale, f"matrix entries for routes that do not exist: {sorted(stale)}"
    for cases in MATRIX.values():
        for case in cases:
            levels = COLLECTION_LEVELS if case.axis == "collection" else GROUP_LEVELS
            assert set(case.expect) >= {*levels, "none"}, case.name
    for spec in ROLES.values():
        assert spec.collection in (*COLLECTION_LEVELS, "none", "disabled")
        assert spec.group in (*GROUP_LEVELS, "none", "disabled")


# --------------------------------------------------------------------------- building it


async def _actor(client: httpx.AsyncClient, role: str) -> Actor:
    email = f"{role.replace(' ', '-')}-{uuid.uuid4().hex[:8]}@example.com"
    headers = await register(client, email)
    me = (await client.get(f"{API}/auth/me", headers=headers)).json()
    return Actor(role, headers, me["id"], email)


def _scan_png() -> bytes:
    buffer = io.BytesIO()
    page_image(SCAN_LINES, size=(900, 300)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
async def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    # The owner uploads and asks for every role's probes, faster than a person would: the
    # per-user limits (tested in tests/ops) are lifted for this world.
    settings = make_settings(
        module_database_url, tmp_path_factory.mktemp("access-matrix")
    ).model_copy(update={"upload_rate_limit": "10000/minute", "chat_rate_limit": "10000/minute"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            actors = {role: await _actor(client, role) for role in ROLES}
            owner = actors["owner"]
            w = World(client, owner, await _actor(client, "heir"), actors, Target("", "", ""))
            w.database_url = module_database_url
            w.target = await new_target(w, document=False)
            shared = await w.client.post(
                f"{API}/documents",
                headers=owner.headers,
                data={"collection_id": w.target.collection_id},
                files=[
                    ("files", SHARED_DOC),
                    ("files", ("osskerry-ledger.png", _scan_png(), "image/png")),
                ],
            )
            assert shared.status_code == 202, shared.text
            for document in shared.json():
                settled = await wait_until_settled(client, owner.headers, document["id"])
                assert settled["status"] == "ready", settled
            w.target.document_id, w.image_id = (d["id"] for d in shared.json())
            for actor in actors.values():
                await ROLES[actor.role].grant(w, w.target, actor)
            hits = (await w.as_owner("POST", "/search", json={"query": QUESTION})).json()
            w.chunk_id = next(
                h["chunk_id"] for h in hits["results"] if h["document_id"] == w.target.document_id
            )
            chat = await w.as_owner("POST", "/chats", json={"title": "Quillomere research"})
            w.owner_chat_id = chat.json()["id"]
            asked = await w.as_owner(
                "POST", f"/chats/{w.owner_chat_id}/messages", json={"content": QUESTION}
            )
            w.owner_answer_id = sse_events(asked.text)[0]["messageId"]
            w.secrets = [
                *SHARED_WORDS,
                SHARED_DOC[0],
                "osskerry-ledger.png",
                w.target.document_id,
                w.image_id,
                w.target.collection_id,
                w.target.group_id,
                w.owner_chat_id,
                w.owner_answer_id,
                "quillomere research",
            ]
            yield w


# --------------------------------------------------------------------------- the test


def _leaks(world: World, seen: Seen) -> list[str]:
    """The owner's names, ids and words in a response to someone who has no access."""
    body = seen.response.text
    if seen.echo:
        # The caller's own question, and the chat title made of it, come back to them.
        for echo in (json.dumps(seen.echo), seen.echo, title_of_question(seen.echo)):
            body = body.replace(echo, "")
    lowered = (body + json.dumps(dict(seen.response.headers))).lower()
    return [secret for secret in world.secrets if secret.lower() in lowered]


def _check(world: World, case: Case, level: Level, seen: Seen) -> str | None:
    """What is wrong with the response, or None."""
    expect = Expect(401) if level == "disabled" else case.expect[level]
    response = seen.response
    if response.status_code != expect.status:
        return f"status {response.status_code} (expected {expect.status}): {response.text[:300]}"
    if response.status_code >= 400:
        if response.json()["error"]["code"] not in ("not_found", "forbidden", "unauthorized"):
            return f"error shape: {response.text[:300]}"
        if response.status_code in (401, 404) and (leaked := _leaks(world, seen)):
            return f"{response.status_code} leaks {leaked}"
        return None
    if expect.shows is True:
        assert seen.marker is not None
        if seen.marker not in response.text:
            return f"does not show the shared content ({seen.marker})"
    if expect.shows is False:
        if seen.marker is not None and seen.marker in response.text:
            return f"shows what it must not: {seen.marker}"
        if level == "none" and (leaked := _leaks(world, seen)):
            return f"shows what it must not: {leaked}"
    return None


def _with_world_ids(world: World, path: str) -> str:
    return path.format(
        collection_id=world.target.collection_id,
        group_id=world.target.group_id,
        member_id=world.target.member_id,
        document_id=world.target.document_id,
        chat_id=world.owner_chat_id,
        message_id=world.owner_answer_id,
        user_id=world.owner.user_id,
        chunk_id=world.chunk_id,
        number=1,
        bulk_id=uuid.uuid4(),
    )


@pytest.mark.parametrize("role", list(ROLES))
async def test_every_route_for_every_role(world: World, role: str) -> None:
    actor = world.actors[role]
    spec = ROLES[role]
    failures = []
    for (method, path), cases in MATRIX.items():
        for case in cases:
            level = spec.collection if case.axis == "collection" else spec.group
            if level == "disabled":
                # A disabled account can create nothing a probe would build on: every route
                # answers 401 to it, whatever the ids (the real ones of this world here).
                seen = Seen(await world.call(actor, method, _with_world_ids(world, path), json={}))
            else:
                seen = await case.probe(world, actor)
            problem = _check(world, case, level, seen)
            if problem:
                failures.append(f"{method} {path} [{case.name}] as {role} ({level}): {problem}")
    assert not failures, "\n".join(failures)
