"""Quotas at upload and URL import: 403 quota_exceeded saying which limit and by how much,
nothing stored, the same bytes again cost nothing, and two uploads at once cannot both pass."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.settings import Settings
from tests.admin.accounts import API, admin_and_member, error_code
from tests.conftest import make_settings, upload

KB = 1024
PAGE = (
    b"<html><head><title>Quota page</title></head><body><article><p>"
    + b"Lanterns of the harbour. " * 40
    + b"</p></article></body></html>"
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # A 1 MB default storage quota; imports may reach the test's own server.
    return make_settings(
        database_url, tmp_path, run_worker=False, quota_storage_mb=1, url_import_allow_private=True
    )


def _text(name: str, size: int) -> tuple[str, bytes, str]:
    line = f"{name} line of plain text for the quota test.\n".encode()
    return (f"{name}.txt", (line * (size // len(line) + 1))[:size], "text/plain")


async def _documents(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return list((await client.get(f"{API}/documents", headers=headers)).json())


async def test_document_count_quota(client: httpx.AsyncClient) -> None:
    admin, member = await admin_and_member(client)
    limited = await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"quota_documents": 2}
    )
    assert limited.json()["quota"]["documents"] == 2
    first = _text("one", 100)
    assert (await upload(client, member.headers, first)).status_code == 202
    # Two more in one request: one over, so neither is stored.
    refused = await upload(client, member.headers, _text("two", 100), _text("three", 100))
    assert refused.status_code == 403, refused.text
    assert error_code(refused) == "quota_exceeded"
    message = refused.json()["error"]["message"]
    assert "Document limit" in message
    assert "may hold 2 documents and holds 1" in message
    assert "adds 2, 1 over the limit" in message
    assert len(await _documents(client, member.headers)) == 1
    # The same bytes again are the same document: no quota spent.
    assert (await upload(client, member.headers, first)).status_code == 202
    assert (await upload(client, member.headers, _text("two", 100))).status_code == 202
    assert (await upload(client, member.headers, _text("four", 100))).status_code == 403
    # Others are not limited by the member's quota ...
    assert (await upload(client, admin.headers, _text("admin", 100))).status_code == 202
    # ... and 0 lifts the limit.
    await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"quota_documents": 0}
    )
    assert (await upload(client, member.headers, _text("four", 100))).status_code == 202


async def test_storage_quota_from_the_configured_default(client: httpx.AsyncClient) -> None:
    admin, member = await admin_and_member(client)
    users = (await client.get(f"{API}/admin/users", headers=admin.headers)).json()
    assert users[1]["quota"]["storage_mb"] == 1
    assert users[1]["quota"]["storage_mb_is_default"] is True
    assert (await upload(client, member.headers, _text("big", 600 * KB))).status_code == 202
    refused = await upload(client, member.headers, _text("bigger", 500 * KB))
    assert refused.status_code == 403
    assert error_code(refused) == "quota_exceeded"
    message = refused.json()["error"]["message"]
    assert "Storage limit" in message
    assert "may store 1 MB and stores 0.6 MB" in message
    assert "adds 0.5 MB, 76.0 KB over the limit" in message
    assert len(await _documents(client, member.headers)) == 1
    # An admin raises this user's quota.
    await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"quota_storage_mb": 2}
    )
    assert (await upload(client, member.headers, _text("bigger", 500 * KB))).status_code == 202


async def test_two_uploads_at_once_cannot_both_fit_the_last_place(
    client: httpx.AsyncClient,
) -> None:
    admin, member = await admin_and_member(client)
    await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"quota_documents": 1}
    )
    responses = await asyncio.gather(
        *(upload(client, member.headers, _text(f"racer-{n}", 200)) for n in range(4))
    )
    assert sorted(r.status_code for r in responses) == [202, 403, 403, 403]
    assert len(await _documents(client, member.headers)) == 1


class _Page(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


async def test_url_import_counts_against_the_quota(client: httpx.AsyncClient, site: str) -> None:
    admin, member = await admin_and_member(client)
    await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"quota_documents": 1}
    )
    assert (await upload(client, member.headers, _text("first", 100))).status_code == 202
    refused = await client.post(
        f"{API}/documents/url", headers=member.headers, json={"url": f"{site}/page"}
    )
    assert refused.status_code == 403, refused.text
    assert error_code(refused) == "quota_exceeded"
    assert "Document limit" in refused.json()["error"]["message"]
    await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"quota_documents": 2}
    )
    imported = await client.post(
        f"{API}/documents/url", headers=member.headers, json={"url": f"{site}/page"}
    )
    assert imported.status_code == 202, imported.text
