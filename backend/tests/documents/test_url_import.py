"""Import from URL over real HTTP: a local server (started here) serves a page, a PDF and
hostile answers; the import refuses private, link-local and metadata addresses, on the
first hop and on every redirect, and bounds time, size and redirects."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from fpdf import FPDF

from app.core.settings import Settings
from app.documents.url_import import (
    BlockedAddress,
    FetchLimits,
    UrlImportError,
    address_allowed,
    fetch_document,
)
from app.main import create_app
from tests.conftest import make_settings, register, wait_until_settled

API = "/api/v1"
TIMEOUT_S = 3.0
ARTICLE_SENTENCE = "The Skerryvore tower was finished in 1844 after six years of work on the reef."
PDF_SENTENCE = "Paraffin lamps were replaced by electric light at Skerryvore in 1959."
ARTICLE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Skerryvore lighthouse</title></head>
<body>
<nav><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/about">About us</a></nav>
<div class="cookie-banner">We use cookies. Accept our cookie policy to continue.</div>
<article>
<h1>Skerryvore</h1>
<p>Skerryvore stands on a reef twelve miles south-west of Tiree in the Inner Hebrides.</p>
<p>{ARTICLE_SENTENCE} Alan Stevenson designed it with a granite base.</p>
<h2>Keepers</h2>
<p>Keepers lived in the tower for months at a time and were relieved by boat from Hynish.</p>
</article>
<footer>Copyright 2026 Example Lights Ltd. All rights reserved. Privacy. Terms.</footer>
</body></html>""".encode()


def _pdf() -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.multi_cell(0, 8, "Skerryvore history\n\n" + PDF_SENTENCE)
    return bytes(document.output())


class _Handler(BaseHTTPRequestHandler):
    pdf = b""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/article":
            self._send(200, "text/html; charset=utf-8", ARTICLE)
        elif path == "/article.gz":
            self._send(200, "text/html", gzip.compress(ARTICLE), {"Content-Encoding": "gzip"})
        elif path == "/report.pdf":
            self._send(200, "application/pdf", self.pdf)
        elif path == "/picture":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        elif path == "/redirect":
            self._send(302, "text/plain", b"", {"Location": unquote(query.removeprefix("to="))})
        elif path == "/loop":
            self._send(302, "text/plain", b"", {"Location": "/loop"})
        elif path == "/missing":
            self._send(404, "text/html", b"<p>Not here</p>")
        elif path == "/endless":
            self._endless()
        elif path == "/huge":
            self._huge()
        else:
            self._send(404, "text/plain", b"")

    def _send(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        """Sends a little every 100 ms and never ends (until the client hangs up)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            self.wfile.write(b"<html><body>")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                self.wfile.write(b"<p>more</p>")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return

    def _huge(self) -> None:
        """3 MB without a Content-Length."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            for _ in range(3 * 16):
                self.wfile.write(b"<p>" + b"x" * 65_536 + b"</p>")
        except OSError:
            return


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    _Handler.pdf = _pdf()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        run_worker=False,
        log_level="INFO",
        url_import_allow_private=True,
        url_import_timeout_s=TIMEOUT_S,
        url_import_max_mb=1,
        url_import_max_redirects=3,
    )


async def _import(client: httpx.AsyncClient, headers: dict[str, str], url: str) -> httpx.Response:
    return await client.post(f"{API}/documents/url", headers=headers, json={"url": url})


async def test_a_web_page_is_imported_with_its_main_content_and_original(
    worker_client: httpx.AsyncClient, site: str
) -> None:
    headers = await register(worker_client)
    response = await _import(worker_client, headers, f"{site}/article")
    assert response.status_code == 202, response.text
    record = response.json()
    assert record["filename"] == "Skerryvore lighthouse.html"
    assert record["content_type"] == "text/html"
    assert record["source_url"] == f"{site}/article"
    assert record["size_bytes"] == len(ARTICLE)
    document = await wait_until_settled(worker_client, headers, record["id"])
    assert document["status"] == "ready", document

    results = (
        await worker_client.post(
            f"{API}/search",
            headers=headers,
            json={"query": "When was the Skerryvore tower finished?"},
        )
    ).json()["results"]
    assert results[0]["document_id"] == record["id"]
    assert results[0]["page"] == 1
    page = (
        await worker_client.get(f"{API}/documents/{record['id']}/pages/1", headers=headers)
    ).json()
    assert ARTICLE_SENTENCE in page["text"]
    highlight = results[0]["highlights"][0]
    assert page["text"][highlight["start"] : highlight["end"]] == ARTICLE_SENTENCE
    # Navigation, the cookie banner and the footer are not the page's content.
    for boilerplate in ("About us", "cookie policy", "All rights reserved"):
        assert boilerplate not in page["text"]
    original = await worker_client.get(f"{API}/documents/{record['id']}/file", headers=headers)
    assert original.content == ARTICLE

    again = await _import(worker_client, headers, f"{site}/article.gz")
    assert again.status_code == 202, again.text
    assert again.json()["id"] == record["id"]  # the same bytes, once inflated


async def test_a_pdf_is_imported_through_a_redirect(
    worker_client: httpx.AsyncClient, site: str
) -> None:
    headers = await register(worker_client)
    response = await _import(worker_client, headers, f"{site}/redirect?to=/report.pdf")
    assert response.status_code == 202, response.text
    record = response.json()
    assert record["content_type"] == "application/pdf"
    assert record["filename"] == "report.pdf"
    assert record["source_url"] == f"{site}/report.pdf"
    document = await wait_until_settled(worker_client, headers, record["id"])
    assert document["status"] == "ready", document
    hit = (
        await worker_client.post(
            f"{API}/search", headers=headers, json={"query": "When did electric light arrive?"}
        )
    ).json()["results"][0]
    assert hit["document_id"] == record["id"]
    assert hit["page"] == 1
    assert "electric light at Skerryvore in 1959" in hit["text"]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/redirect?to=http://169.254.169.254/latest/meta-data/", 422, "169.254.169.254"),
        ("/redirect?to=http://[fd00:ec2::254]/latest/", 422, "fd00:ec2::254"),
        ("/redirect?to=http://[::ffff:169.254.169.254]/", 422, "private, local or reserved"),
        ("/redirect?to=file:///etc/passwd", 422, "Only http:// and https://"),
        ("/loop", 422, "redirects more than 3 times"),
        ("/endless", 422, f"took longer than {TIMEOUT_S:g} seconds"),
        ("/huge", 413, "larger than 1 MB"),
        ("/picture", 415, "returns image/png; DocChat imports web pages (HTML) and PDF files"),
        ("/missing", 422, "HTTP status 404 (not found)"),
    ],
)
async def test_hostile_addresses_and_answers_are_refused_with_a_reason(
    client: httpx.AsyncClient, site: str, path: str, status: int, message: str
) -> None:
    headers = await register(client)
    started = time.monotonic()
    response = await _import(client, headers, f"{site}{path}")
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert message in error["message"], error
    assert error["request_id"]
    assert time.monotonic() - started < TIMEOUT_S + 5  # no import outlives its time limit
    listed = await client.get(f"{API}/documents", headers=headers)
    assert listed.json() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "ftp://example.com/file.html",
        "http://user:secret@example.com/",
        "not a url",
        "http://exa mple.com/",
        "http://[::1/",
        "http://\u2603.invalid/page",
        "http://xn--/",
    ],
)
async def test_addresses_that_are_never_fetched(client: httpx.AsyncClient, url: str) -> None:
    headers = await register(client)
    response = await _import(client, headers, url)
    assert response.status_code == 422, response.text


@asynccontextmanager
async def _app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application: FastAPI = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_private_addresses_are_refused_unless_allowed(settings: Settings, site: str) -> None:
    """With URL_IMPORT_ALLOW_PRIVATE off (the default) the local server is out of reach,
    by address and by a name that resolves to it."""
    closed = settings.model_copy(update={"url_import_allow_private": False})
    port = site.rsplit(":", 1)[1]
    async with _app(closed) as client:
        headers = await register(client)
        for url in (f"{site}/article", f"http://localhost:{port}/article"):
            response = await _import(client, headers, url)
            assert response.status_code == 422, response.text
            message = response.json()["error"]["message"]
            assert "resolves to 127.0.0.1" in message or "resolves to ::1" in message
            assert "only imports pages from public addresses" in message


async def test_imports_are_rate_limited_per_user(settings: Settings, site: str) -> None:
    limited = settings.model_copy(update={"url_import_rate_limit": "2/minute"})
    async with _app(limited) as client:
        headers = await register(client)
        statuses = [
            (await _import(client, headers, f"{site}/missing")).status_code for _ in range(3)
        ]
        assert statuses == [422, 422, 429]
        other = await register(client)
        assert (await _import(client, other, f"{site}/missing")).status_code == 422


async def test_fetch_checks_the_address_it_connects_to(site: str) -> None:
    limits = FetchLimits(timeout_s=TIMEOUT_S, max_bytes=1024 * 1024, max_redirects=2,
                         allow_private=False)  # fmt: skip
    with pytest.raises(BlockedAddress):
        await fetch_document(f"{site}/article", limits)
    allowed = FetchLimits(timeout_s=TIMEOUT_S, max_bytes=1024 * 1024, max_redirects=2,
                          allow_private=True)  # fmt: skip
    fetched = await fetch_document(f"{site}/article", allowed)
    assert fetched.data == ARTICLE
    with pytest.raises(UrlImportError, match="169.254.169.254"):
        await fetch_document(
            f"{site}/redirect?to=http://169.254.169.254:{site.rsplit(':', 1)[1]}/", allowed
        )


@pytest.mark.parametrize(
    ("address", "public_only", "private_allowed"),
    [
        ("93.184.216.34", True, True),
        ("2606:4700::1111", True, True),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("10.1.2.3", False, True),
        ("172.16.0.1", False, True),
        ("192.168.1.1", False, True),
        ("fd12:3456::1", False, True),
        ("100.64.0.1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("64:ff9b::7f00:1", False, True),
        ("169.254.169.254", False, False),
        ("::ffff:169.254.169.254", False, False),
        ("fe80::1", False, False),
        ("fd00:ec2::254", False, False),
        ("100.100.100.200", False, False),
        ("0.0.0.0", False, False),
        ("::", False, False),
        ("224.0.0.1", False, False),
        ("ff02::1", False, False),
        ("255.255.255.255", False, False),
    ],
)
def test_address_policy(address: str, public_only: bool, private_allowed: bool) -> None:
    ip = ip_address(address)
    assert address_allowed(ip, allow_private=False) is public_only
    assert address_allowed(ip, allow_private=True) is private_allowed
