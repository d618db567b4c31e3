"""Security headers on every response; a strict CSP on the API; HSTS only over https."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI


@pytest.fixture
async def https_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # the ASGI scope's scheme follows the base URL
    async with httpx.AsyncClient(transport=transport, base_url="https://docchat.test") as client:
        yield client


API_PATHS = ["/health", "/ready", "/api/v1/auth/me", "/api/v1/nope"]


@pytest.mark.parametrize("path", API_PATHS)
async def test_api_responses_carry_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code in (200, 401, 404)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp


async def test_security_headers_on_posts_and_errors(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", json={})
    assert response.status_code == 422
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_no_api_csp_outside_the_api(client: httpx.AsyncClient) -> None:
    """The frontend (served at /) needs its own scripts; the API's `default-src 'none'` would
    break it."""
    response = await client.get("/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" not in response.headers.get("content-security-policy", "")


@pytest.mark.parametrize("path", ["/health", "/api/v1/auth/me"])
async def test_no_hsts_over_plain_http(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("path", ["/health", "/api/v1/auth/me", "/api/v1/nope"])
async def test_hsts_over_https(https_client: httpx.AsyncClient, path: str) -> None:
    response = await https_client.get(path)
    hsts = response.headers["strict-transport-security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 180 * 24 * 3600
    assert "includesubdomains" in hsts.lower()
    assert response.headers["x-content-type-options"] == "nosniff"
