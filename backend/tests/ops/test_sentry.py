"""Sentry: an unhandled error reaches the ingest endpoint (a local stand-in) tagged with the
request id, the release (GIT_SHA) and the environment, without credentials or passwords."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI, Request

from app.core.settings import Settings
from app.main import create_app

PASSWORD = "sentry-test-password-4471"
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZW50cnkifQ.c2VudHJ5LXNpZ25hdHVyZQ"


class _Ingest(BaseHTTPRequestHandler):
    envelopes: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found, unused-ignore]

            body = brotli.decompress(body)
        self.server.envelopes.append((self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def ingest() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    server.envelopes = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
async def sentry_app(settings: Settings, ingest: ThreadingHTTPServer) -> AsyncIterator[FastAPI]:
    dsn = f"http://publickey@127.0.0.1:{ingest.server_address[1]}/1"
    configured = settings.model_copy(
        update={"sentry_dsn": dsn, "git_sha": "sentry-sha-123", "sentry_traces_sample_rate": 0.0}
    )
    application = create_app(configured)

    async def explode(request: Request) -> None:
        payload = await request.json()
        password = payload["password"]
        raise RuntimeError(f"cannot handle this request (len {len(password)})")

    application.add_api_route("/api/v1/test-explode", explode, methods=["POST"])
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.init()  # no DSN: later tests report nothing
        assert sentry_sdk.get_client().dsn is None


def _events(server: ThreadingHTTPServer) -> list[tuple[bytes, dict[str, Any]]]:
    events = []
    for path, _headers, body in server.envelopes:  # type: ignore[attr-defined]
        assert path == "/api/1/envelope/"
        lines = body.split(b"\n")
        for index in range(1, len(lines) - 1):
            try:
                item_header = json.loads(lines[index])
            except ValueError:
                continue
            if isinstance(item_header, dict) and item_header.get("type") == "event":
                events.append((body, json.loads(lines[index + 1])))
    return events


async def test_unhandled_error_reaches_sentry_tagged_and_scrubbed(
    sentry_app: FastAPI, ingest: ThreadingHTTPServer
) -> None:
    transport = httpx.ASGITransport(app=sentry_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/api/v1/test-explode",
            json={"email": "a@example.com", "password": PASSWORD},
            headers={
                "Authorization": BEARER,
                "X-Request-ID": "sentry-request-0001",
                "Cookie": "session=cookie-secret-value",
            },
        )
    assert response.status_code == 500
    assert response.json()["error"]["request_id"] == "sentry-request-0001"
    assert sentry_sdk.flush(timeout=10) is not False

    events = _events(ingest)
    assert events, f"no event arrived; envelopes: {ingest.envelopes}"  # type: ignore[attr-defined]
    raw, event = events[0]
    assert len(events) == 1, [e["exception"] for _, e in events if "exception" in e]
    assert event["tags"]["request_id"] == "sentry-request-0001"
    assert event["release"] == "sentry-sha-123"
    assert event["environment"] == "development"
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"

    for secret in (PASSWORD, BEARER, BEARER.split()[1], "cookie-secret-value"):
        assert secret.encode() not in raw, f"{secret!r} was sent to Sentry"


async def test_handled_errors_are_not_reported(
    sentry_app: FastAPI, ingest: ThreadingHTTPServer
) -> None:
    transport = httpx.ASGITransport(app=sentry_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/api/v1/auth/me")).status_code == 401
        assert (await client.get("/api/v1/nope")).status_code == 404
        assert (await client.post("/api/v1/auth/login", json={})).status_code == 422
    sentry_sdk.flush(timeout=5)
    assert _events(ingest) == []
