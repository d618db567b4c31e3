"""The MCP server at /mcp, driven by the official SDK's client over a real uvicorn socket."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from app.main import create_app
from tests.apikeys.test_api_keys import bearer, create_key
from tests.conftest import make_settings, register, upload_and_settle
from tests.ops.test_faults import LiveServer, module_database

ALPHA = (
    "Zephyrine valves. The zephyrine valve regulates coolant flow in the Mark IV reactor. "
    "It opens when the coolant temperature passes ninety degrees."
)
BETA = (
    "Quokka migration. Quokkas on Rottnest island move to the wetlands every spring. "
    "The zephyrine valve is mentioned here only to tempt a leaky search."
)
TOOLS = {"search_documents", "list_documents", "get_passage", "ask"}


@pytest.fixture(scope="module")
def mcp_database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    yield from module_database(pg_admin_url, "mcp")


@pytest.fixture(scope="module")
def server(mcp_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(mcp_database_url, tmp_path_factory.mktemp("mcp"))
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
        yield client


@contextlib.asynccontextmanager
async def mcp_client(
    server: LiveServer, key: str, statuses: list[int] | None = None
) -> AsyncIterator[Client]:
    """The SDK's client with the key; `statuses` collects the HTTP status of each response."""

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    async with (
        httpx2.AsyncClient(
            headers=bearer(key), timeout=120, event_hooks={"response": [record]}
        ) as http_client,
        Client(streamable_http_client(f"{server.base_url}/mcp", http_client=http_client)) as client,
    ):
        yield client


async def user_with_document(
    http: httpx.AsyncClient, filename: str, text: str
) -> tuple[dict[str, str], dict[str, Any], str]:
    """A new user, their ready document and a read-only API key."""
    headers = await register(http)
    document = await upload_and_settle(http, headers, filename, text.encode(), "text/plain")
    assert document["status"] == "ready", document
    return headers, document, (await create_key(http, headers))["key"]


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    content = result.structured_content
    return (
        content["result"] if isinstance(content, dict) and set(content) == {"result"} else content
    )


async def test_tools_see_only_the_keys_user(server: LiveServer, http: httpx.AsyncClient) -> None:
    _, alpha, alpha_key = await user_with_document(http, "alpha.txt", ALPHA)
    _, beta, beta_key = await user_with_document(http, "beta.txt", BETA)

    async with mcp_client(server, beta_key) as client:
        beta_hits = structured(await client.call_tool("search_documents", {"query": "quokka"}))
    beta_chunk = beta_hits[0]["chunk_id"]
    assert {hit["document_id"] for hit in beta_hits} == {beta["id"]}

    async with mcp_client(server, alpha_key) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS

        documents = structured(await client.call_tool("list_documents", {}))
        assert [(d["id"], d["filename"]) for d in documents] == [(alpha["id"], "alpha.txt")]

        hits = structured(
            await client.call_tool("search_documents", {"query": "zephyrine valve", "k": 5})
        )
        assert hits, "the key's own document matches"
        assert {hit["document_id"] for hit in hits} == {alpha["id"]}
        assert hits[0]["filename"] == "alpha.txt"
        assert hits[0]["page"] == 1
        assert "coolant flow" in hits[0]["text"]
        nothing = structured(await client.call_tool("search_documents", {"query": "quokka"}))
        assert all(hit["document_id"] == alpha["id"] for hit in nothing)

        passage = structured(
            await client.call_tool("get_passage", {"chunk_id": hits[0]["chunk_id"]})
        )
        assert passage["text"] == hits[0]["text"]
        assert passage["filename"] == "alpha.txt"
        refused = await client.call_tool("get_passage", {"chunk_id": beta_chunk})
        assert refused.is_error
        assert "not found" in refused.content[0].text.lower()
        assert "quokka" not in refused.content[0].text.lower()

        unknown = await client.call_tool(
            "search_documents", {"query": "valve", "collection_id": str(uuid.uuid4())}
        )
        assert unknown.is_error

        answer = structured(
            await client.call_tool("ask", {"question": "What does the zephyrine valve regulate?"})
        )
        assert "coolant" in answer["answer"]
        assert answer["citations"]
        assert {c["document_id"] for c in answer["citations"]} == {alpha["id"]}
        assert all("quokka" not in c["snippet"].lower() for c in answer["citations"])


async def test_ask_is_kept_as_a_chat_of_the_user(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    headers, _, key = await user_with_document(http, "alpha.txt", ALPHA)
    async with mcp_client(server, key) as client:
        answer = structured(
            await client.call_tool("ask", {"question": "When does the zephyrine valve open?"})
        )
    chat = (await http.get(f"/api/v1/chats/{answer['chat_id']}", headers=headers)).json()
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant"]
    assert chat["messages"][1]["content"] == answer["answer"]
    assert "ninety degrees" in answer["answer"]


async def test_revoked_key_fails_at_its_next_request(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    headers = await register(http)
    created = await create_key(http, headers)
    statuses: list[int] = []
    async with mcp_client(server, created["key"], statuses) as client:
        assert structured(await client.call_tool("list_documents", {})) == []
        assert set(statuses) == {200}
        revoked = await http.delete(f"/api/v1/api-keys/{created['id']}", headers=headers)
        assert revoked.status_code == 204
        with pytest.raises(MCPError):
            await client.call_tool("list_documents", {})
        assert statuses[-1] == 401
    statuses.clear()
    with pytest.raises(ExceptionGroup) as refused:
        async with mcp_client(server, created["key"], statuses) as client:
            await client.list_tools()
    assert refused.group_contains(MCPError)
    assert statuses and set(statuses) == {401}


@pytest.mark.parametrize("credential", ["none", "jwt", "unknown-key"])
async def test_mcp_endpoint_needs_an_api_key(
    server: LiveServer, http: httpx.AsyncClient, credential: str
) -> None:
    headers = {
        "none": {},
        "jwt": await register(http),
        "unknown-key": bearer("dc_live_" + "x" * 43),
    }[credential]
    response = await http.post(
        "/mcp",
        headers={**headers, "Accept": "application/json, text/event-stream"},
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
