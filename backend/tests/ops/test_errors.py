"""Every error is JSON {"error": {"code", "message", "request_id"}}; oversize uploads are refused
before their body is read; unexpected exceptions never leak but are logged with the request id."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.logging import JsonFormatter
from app.core.settings import Settings
from app.main import create_app

SECRET_DETAIL = "db password is hunter2 at /srv/app/secret.py"


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message", "request_id"} <= set(error)
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    return dict(error)


async def test_unknown_path_404(client: httpx.AsyncClient) -> None:
    error = _assert_error(await client.get("/api/v1/does-not-exist"), 404, "not_found")
    assert set(error) == {"code", "message", "request_id"}


async def test_wrong_method_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/auth/login")
    _assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]


@pytest.fixture
async def with_web_app(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The one-process setup: the web app's static export mounted at `/`."""
    dist = tmp_path / "out"
    dist.mkdir()
    (dist / "index.html").write_text("<html>DocChat</html>")
    (dist / "404.html").write_text("<html>This page could not be found.</html>")
    application = create_app(settings.model_copy(update={"frontend_dist": dist}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_unknown_api_paths_answer_json_beside_the_web_app(
    with_web_app: httpx.AsyncClient,
) -> None:
    for path in ("/api/v1/nope", "/api/v1/documents/x/y/z", "/api/nope", "/api"):
        _assert_error(await with_web_app.get(path), 404, "not_found")
    # A known API path with the wrong method: 405, also where only the web app could answer GET.
    response = await with_web_app.get("/api/v1/search")
    _assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    _assert_error(await with_web_app.delete("/api/v1/auth/login"), 405, "method_not_allowed")
    # Everything else is still the web app's, its HTML 404 page included.
    page = await with_web_app.get("/")
    assert page.status_code == 200 and "DocChat" in page.text
    missing = await with_web_app.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "could not be found" in missing.text


async def test_validation_422_with_details(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "not-an-email", "password": "short-pw", "full_name": ""},
    )
    error = _assert_error(response, 422, "validation_error")
    fields = {detail["loc"][-1] for detail in error["details"]}
    assert {"email", "password", "full_name"} <= fields
    for detail in error["details"]:
        assert set(detail) == {"loc", "message", "type"}
    assert "short-pw" not in response.text  # inputs are not echoed back


async def test_malformed_json_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    _assert_error(response, 422, "validation_error")


async def test_unauthenticated_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    _assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    response = await client.get("/api/v1/documents", headers={"Authorization": "Bearer nope"})
    _assert_error(response, 401, "unauthorized")


# --- 413 before the body is read ---------------------------------------------------------


async def _call_raw(
    app: FastAPI, path: str, headers: list[tuple[bytes, bytes]], receive: Any
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("203.0.113.9", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=2)
    return sent


async def test_declared_oversize_upload_is_refused_without_reading_the_body(
    app: FastAPI, settings: Settings
) -> None:
    body_requested = asyncio.Event()

    async def never_delivering_receive() -> dict[str, Any]:
        body_requested.set()
        await asyncio.sleep(3600)  # a client that would take forever to upload
        raise AssertionError("unreachable")

    huge = str(settings.max_upload_bytes * 20).encode()
    started = time.perf_counter()
    sent = await _call_raw(
        app,
        "/api/v1/documents",
        [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=x"),
            (b"content-length", huge),
            (b"x-request-id", b"upload-req-0001"),
        ],
        never_delivering_receive,
    )
    assert time.perf_counter() - started < 1
    assert not body_requested.is_set()
    start = next(message for message in sent if message["type"] == "http.response.start")
    assert start["status"] == 413
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert headers["x-request-id"] == "upload-req-0001"
    body = json.loads(b"".join(m.get("body", b"") for m in sent if "body" in m))
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["request_id"] == "upload-req-0001"
    assert f"{settings.max_upload_mb} MB" in body["error"]["message"]


async def test_declared_size_within_limit_is_not_refused(app: FastAPI) -> None:
    async def empty_body() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent = await _call_raw(
        app, "/api/v1/documents", [(b"content-length", b"0"), (b"host", b"t")], empty_body
    )
    start = next(message for message in sent if message["type"] == "http.response.start")
    assert start["status"] != 413


@pytest.fixture
async def small_limit_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    small = settings.model_copy(update={"max_upload_mb": 1})
    application = create_app(small)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def test_streamed_oversize_upload_without_length_is_refused(
    small_limit_client: httpx.AsyncClient,
) -> None:
    chunks_sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        yield b"--x\r\nContent-Disposition: form-data; name=files; filename=a.txt\r\n\r\n"
        for _ in range(64):  # 16 MB if it were all read
            chunks_sent += 1
            yield b"a" * (256 * 1024)

    response = await small_limit_client.post(
        "/api/v1/documents",
        content=body(),
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    _assert_error(response, 413, "payload_too_large")
    assert chunks_sent < 10  # stopped soon after the 1 MB limit


# --- 500: no leak, logged with the request id ---------------------------------------------


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


@pytest.fixture
async def failing_app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)

    async def boom() -> None:
        raise RuntimeError(SECRET_DETAIL)

    async def boom_sync_dependency_free() -> None:
        raise KeyError(SECRET_DETAIL)

    application.add_api_route("/api/v1/test-boom", boom, methods=["GET"])
    application.add_api_route("/api/v1/test-boom-key", boom_sync_dependency_free, methods=["POST"])
    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.parametrize(("method", "path"), [("GET", "/test-boom"), ("POST", "/test-boom-key")])
async def test_unexpected_exception_is_a_json_500_that_leaks_nothing(
    failing_app: FastAPI, captured_logs: io.StringIO, method: str, path: str
) -> None:
    transport = httpx.ASGITransport(app=failing_app)  # raises if the exception escapes the app
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.request(
            method, "/api/v1" + path, headers={"X-Request-ID": "boom-request-0001"}
        )
    error = _assert_error(response, 500, "internal_error")
    assert error["request_id"] == "boom-request-0001"
    assert error["message"] == "An internal error occurred."
    for leak in ("hunter2", "Traceback", "RuntimeError", "KeyError", "secret.py", "test_errors"):
        assert leak not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"

    entries = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    [logged] = [entry for entry in entries if entry["event"] == "unhandled_error"]
    assert logged["level"] == "error"
    assert logged["request_id"] == "boom-request-0001"
    assert SECRET_DETAIL[:20] in logged["exception"]  # the details are in the log only
    [access] = [entry for entry in entries if entry["event"] == "request"]
    assert access["status"] == 500
    assert access["request_id"] == "boom-request-0001"
