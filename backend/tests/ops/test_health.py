from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from app.main import create_app


async def test_health_reports_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "test-sha"}
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_ready_when_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "workers": 0, "oldest_queued_job_s": 0.0}


@pytest.fixture
async def app_with_dead_database(settings: Settings) -> FastAPI:
    """An app whose database does not exist (nothing listens on that port)."""
    dead = settings.model_copy(
        update={"database_url": "postgresql://nobody:pw@127.0.0.1:9/none?connect_timeout=1"}
    )
    application = create_app(dead)
    # The lifespan would open the job queue against the dead database; build state by hand.
    from app.core.db import create_engine, create_sessionmaker

    application.state.engine = create_engine(dead.database_url or "")
    application.state.sessionmaker = create_sessionmaker(application.state.engine)
    return application


async def test_health_ok_and_ready_503_while_database_down(app_with_dead_database: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app_with_dead_database)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        health = await client.get("/health")
        assert health.status_code == 200
        started = time.perf_counter()
        ready = await client.get("/ready")
        assert time.perf_counter() - started < 2.5
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable"}
        api = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer x"})
        assert api.status_code in (401, 503)
        login = await client.post(
            "/api/v1/auth/login", json={"email": "a@example.com", "password": "whatever-123"}
        )
        assert login.status_code == 503
        body = login.json()
        assert body["error"]["code"] == "service_unavailable"
        assert body["error"]["request_id"]
    await app_with_dead_database.state.engine.dispose()


async def test_metrics_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    await client.get("/api/v1/documents/00000000-0000-0000-0000-000000000000")
    text = (await client.get("/metrics")).text
    assert 'docchat_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'route="/api/v1/documents/{document_id}"' in text
