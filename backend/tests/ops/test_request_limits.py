"""Limits on what one client or user can make the server do, and what it answers with:
body sizes (real uvicorn, raw sockets), per-user rates, inputs that used to be 500s, and what
production exposes (/docs, /metrics)."""

from __future__ import annotations

import json
import re
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import free_port, make_settings, register, upload
from tests.ops.test_errors import _assert_error
from tests.ops.test_faults import LiveServer

# --------------------------------------------------------------------------- request bodies


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings)) as server:
        yield server


def _raw_request(port: int, head: str, body: bytes = b"", *, timeout_s: float = 10) -> str:
    """Send `head` and `body` over a socket and return everything the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received.decode("latin-1")


def _status_and_json(raw: str) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition("\r\n\r\n")
    return int(head.split(" ", 2)[1]), json.loads(body)


def test_oversize_json_is_refused_before_its_body_is_sent(live: LiveServer) -> None:
    """A 300 MB login: the 413 comes back while the client has sent only the headers (the old
    server waited to read and parse all of it: 7.5 s and +900 MB)."""
    raw = _raw_request(
        live.port,
        "POST /api/v1/auth/login HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        f"Content-Length: {300 * 1024 * 1024}\n",
        b'{"email": "',
    )
    status, body = _status_and_json(raw)
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["message"] == "The request body is larger than the 1 MB limit."
    assert body["error"]["request_id"]


def test_streamed_oversize_json_is_refused(live: LiveServer) -> None:
    """No Content-Length (chunked): counted as it arrives, refused past 1 MB."""
    piece = b"a" * (256 * 1024)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(6)) + b"0\r\n\r\n"
    raw = _raw_request(
        live.port,
        "POST /api/v1/auth/register HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked\n",
        chunks,
    )
    status, body = _status_and_json(raw)
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"


def test_body_under_the_limit_is_served(live: LiveServer) -> None:
    padding = "x" * (900 * 1024)
    response = httpx.post(
        f"{live.base_url}/api/v1/auth/login",
        json={"email": "a@example.com", "password": "p", "padding": padding},
        timeout=30,
    )
    assert response.status_code == 401


async def test_body_limit_is_a_setting(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_request_body_kb": 4}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/api/v1/auth/login", json={"email": "a@example.com", "password": "p" * 5000}
            )
    error = _assert_error(response, 413, "payload_too_large")
    assert error["message"] == "The request body is larger than the 4 KB limit."


# --------------------------------------------------------------------------- per-user limits


@pytest.fixture
async def limited_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(
        settings.model_copy(
            update={
                "chat_rate_limit": "2/minute",
                "search_rate_limit": "2/minute",
                "upload_rate_limit": "2/minute",
                "download_rate_limit": "2/minute",
            }
        )
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def limited(limited_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=limited_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def _third_is_refused(
    client: httpx.AsyncClient, send: Any, headers: dict[str, str], other: dict[str, str]
) -> None:
    for _ in range(2):
        assert (await send(headers)).status_code < 400
    refused = await send(headers)
    error = _assert_error(refused, 429, "rate_limited")
    assert error["message"] == "Too many requests; try again in a moment."
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert (await send(other)).status_code < 400  # another user has a budget of their own


async def test_search_is_limited_per_user(limited: httpx.AsyncClient) -> None:
    alice, bob = await register(limited), await register(limited)

    async def send(headers: dict[str, str]) -> httpx.Response:
        return await limited.post("/api/v1/search", headers=headers, json={"query": "lamps"})

    await _third_is_refused(limited, send, alice, bob)


async def test_chat_messages_are_limited_per_user(limited: httpx.AsyncClient) -> None:
    alice, bob = await register(limited), await register(limited)
    chats = {}
    for name, headers in (("alice", alice), ("bob", bob)):
        chats[name] = (await limited.post("/api/v1/chats", headers=headers, json={})).json()["id"]

    async def send(headers: dict[str, str]) -> httpx.Response:
        chat_id = chats["alice" if headers is alice else "bob"]
        return await limited.post(
            f"/api/v1/chats/{chat_id}/messages", headers=headers, json={"content": "lamps?"}
        )

    await _third_is_refused(limited, send, alice, bob)


async def test_uploads_and_downloads_are_limited_per_user(limited: httpx.AsyncClient) -> None:
    alice, bob = await register(limited), await register(limited)

    async def send_upload(headers: dict[str, str]) -> httpx.Response:
        return await upload(limited, headers, (f"{uuid.uuid4()}.txt", b"Some text.", "text/plain"))

    await _third_is_refused(limited, send_upload, alice, bob)
    documents = {
        name: (await limited.get("/api/v1/documents", headers=h)).json()[0]["id"]
        for name, h in (("alice", alice), ("bob", bob))
    }

    async def send_download(headers: dict[str, str]) -> httpx.Response:
        document_id = documents["alice" if headers is alice else "bob"]
        return await limited.get(f"/api/v1/documents/{document_id}/file", headers=headers)

    await _third_is_refused(limited, send_download, alice, bob)


# --------------------------------------------------------------------------- 500s that are 422s


async def test_lone_surrogate_in_a_chat_title_is_422(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    headers = {**auth_headers, "Content-Type": "application/json"}
    created = await client.post(
        "/api/v1/chats", headers=headers, content=json.dumps({"title": "\udfff x"})
    )
    error = _assert_error(created, 422, "validation_error")
    assert "lone surrogate" in error["message"]
    chat_id = (await client.post("/api/v1/chats", headers=auth_headers, json={})).json()["id"]
    renamed = await client.patch(
        f"/api/v1/chats/{chat_id}", headers=headers, content=json.dumps({"title": "\udfff x"})
    )
    _assert_error(renamed, 422, "validation_error")


def _operations(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _with_ids(path: str) -> str:
    """The path with every `{name}` filled: a number for pages and passages, else a uuid."""
    return re.sub(
        r"\{(\w+)\}",
        lambda m: "1" if m.group(1) in ("number", "chunk_id") else str(uuid.uuid4()),
        path,
    )


def _json_string_fields(app: FastAPI, operation: dict[str, Any]) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref")
    if ref is None:
        return []
    schema = app.openapi()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    fields = []
    for name, prop in schema["properties"].items():
        types = [prop.get("type")] + [option.get("type") for option in prop.get("anyOf", [])]
        if "string" in types:
            fields.append(name)
    return fields


async def test_every_string_of_every_json_body_refuses_lone_surrogates(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    """Any string field of any JSON body, today's and tomorrow's, answers "\\udfff" with a 422
    naming that field, before anything tries to encode it (a 500)."""
    headers = {**auth_headers, "Content-Type": "application/json"}
    checked = []
    for method, path, operation in _operations(app):
        fields = _json_string_fields(app, operation)
        if not fields:
            continue
        url = _with_ids(path)
        for field in fields:
            body = json.dumps({field: "\udfff x"})
            response = await client.request(method, url, headers=headers, content=body)
            error = _assert_error(response, 422, "validation_error")
            details = [d for d in error["details"] if d["loc"] == ["body", field]]
            assert details, (method, path, field, error)
            checked.append((method, path, field))
    assert len(checked) >= 8, checked  # register, login, refresh, logout, chats, search, ...


async def test_huge_offsets_on_every_list_route_are_422(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    routes = [
        path
        for method, path, operation in _operations(app)
        if method == "GET" and any(p["name"] == "offset" for p in operation.get("parameters", []))
    ]
    assert set(routes) >= {"/api/v1/chats", "/api/v1/documents"}
    for path in routes:
        url = _with_ids(path)
        huge = await client.get(url, headers=auth_headers, params={"offset": 10**20})
        _assert_error(huge, 422, "validation_error")
        if "{" in path:  # a list of something the caller does not have: its own 404
            continue
        largest = await client.get(url, headers=auth_headers, params={"offset": 2**63 - 1})
        assert largest.status_code == 200, (path, largest.text)
        assert largest.json() == []


# --------------------------------------------------------------------------- what production shows


def _production(database_url: str, tmp: Path, **overrides: Any) -> Settings:
    return make_settings(
        database_url,
        tmp,
        environment="production",
        jwt_secret=secrets.token_urlsafe(48),
        frontend_origin=["https://app.example.com"],
        run_worker=False,
        **overrides,
    )


@pytest.fixture
async def production_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_production(database_url, tmp_path, metrics_token="scrape-" + "k" * 30))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            yield client


async def test_production_hides_the_api_docs(production_client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        response = await production_client.get(path)
        assert response.status_code == 404, path


async def test_development_serves_the_api_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs")).status_code == 200


async def test_api_docs_can_be_enabled_in_production(database_url: str, tmp_path: Path) -> None:
    app = create_app(_production(database_url, tmp_path, api_docs_enabled=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            assert (await client.get("/openapi.json")).status_code == 200


async def test_production_metrics_need_the_token(production_client: httpx.AsyncClient) -> None:
    anonymous = await production_client.get("/metrics")
    _assert_error(anonymous, 404, "not_found")
    assert "python_info" not in anonymous.text
    wrong = await production_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404
    scraped = await production_client.get(
        "/metrics", headers={"Authorization": "Bearer scrape-" + "k" * 30}
    )
    assert scraped.status_code == 200
    assert "docchat_http_requests_total" in scraped.text


async def test_production_without_a_token_has_no_public_metrics(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app(_production(database_url, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            assert (await client.get("/metrics")).status_code == 404


def test_metrics_port_serves_prometheus_privately(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    app = create_app(_production(database_url, tmp_path, metrics_port=port))
    with LiveServer(app) as server:
        assert httpx.get(f"{server.base_url}/metrics", timeout=5).status_code == 404
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert scraped.status_code == 200
        assert "docchat_http_requests_total" in scraped.text
    with pytest.raises(httpx.TransportError):  # stopped with the app
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


async def test_a_query_parameter_given_twice_is_422(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    """FastAPI would keep the last value silently: `?limit=1&limit=500` is refused instead."""
    response = await client.get(
        "/api/v1/documents", headers=auth_headers, params=[("limit", "1"), ("limit", "500")]
    )
    error = _assert_error(response, 422, "validation_error")
    assert [d["loc"] for d in error["details"]] == [["query", "limit"]]
    once = await client.get("/api/v1/documents", headers=auth_headers, params={"limit": "1"})
    assert once.status_code == 200
