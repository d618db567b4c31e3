"""CORS: exactly the FRONTEND_ORIGIN origins may call the API with credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from app.main import create_app

ALLOWED = ["https://docchat.example.com", "http://localhost:3000"]
FOREIGN = ["https://evil.example.com", "https://docchat.example.com.evil.com", "null"]


@pytest.fixture
async def cors_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application: FastAPI = create_app(settings.model_copy(update={"frontend_origin": ALLOWED}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("origin", ALLOWED)
async def test_allowed_origin_preflight(cors_client: httpx.AsyncClient, origin: str) -> None:
    response = await cors_client.options("/api/v1/auth/login", headers=_preflight(origin))
    assert response.status_code == 200
    headers = _cors_headers(response)
    assert headers["access-control-allow-origin"] == origin
    assert headers["access-control-allow-credentials"] == "true"
    assert "POST" in headers["access-control-allow-methods"]
    allowed_headers = headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "origin" in response.headers.get("vary", "").lower()


@pytest.mark.parametrize("origin", ALLOWED)
async def test_allowed_origin_simple_request(cors_client: httpx.AsyncClient, origin: str) -> None:
    response = await cors_client.get("/health", headers={"Origin": origin})
    assert response.status_code == 200
    headers = _cors_headers(response)
    assert headers["access-control-allow-origin"] == origin
    assert headers["access-control-allow-credentials"] == "true"
    assert "x-request-id" in headers["access-control-expose-headers"].lower()
    # Error responses carry them too, so the browser can read the JSON error.
    error = await cors_client.get("/api/v1/auth/me", headers={"Origin": origin})
    assert error.status_code == 401
    assert error.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize("origin", FOREIGN)
async def test_foreign_origin_gets_no_cors_headers(
    cors_client: httpx.AsyncClient, origin: str
) -> None:
    preflight = await cors_client.options("/api/v1/auth/login", headers=_preflight(origin))
    assert preflight.status_code == 400
    assert _cors_headers(preflight) == {}
    simple = await cors_client.get("/health", headers={"Origin": origin})
    assert simple.status_code == 200
    assert _cors_headers(simple) == {}
    login = await cors_client.post(
        "/api/v1/auth/login",
        json={"email": "a@example.com", "password": "irrelevant-pw"},
        headers={"Origin": origin},
    )
    assert _cors_headers(login) == {}


async def test_preflight_with_disallowed_header_is_refused(cors_client: httpx.AsyncClient) -> None:
    headers = _preflight(ALLOWED[0]) | {"Access-Control-Request-Headers": "x-evil"}
    response = await cors_client.options("/api/v1/auth/login", headers=headers)
    assert response.status_code == 400
