"""Liveness and readiness probes for rolling deploys.

Plain Starlette routes: probes are hit constantly and need none of FastAPI's per-request
machinery (it cost half of /health's throughput; see docs/benchmarks.md, "API overhead")."""

from __future__ import annotations

import asyncio

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

READY_TIMEOUT_S = 2.0


def _json(payload: dict[str, str], status_code: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json")


async def database_ready(engine: AsyncEngine, *, timeout_s: float) -> bool:
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(probe(), timeout=timeout_s)
    except Exception:  # any failure, including the timeout, means "not ready"
        return False
    return True


async def health(request: Request) -> Response:
    """Liveness: the process answers. Never touches the database."""
    return _json({"status": "ok", "version": request.app.state.settings.git_sha})


async def ready(request: Request) -> Response:
    """Readiness: the database answers `SELECT 1` within 2 s."""
    if await database_ready(request.app.state.engine, timeout_s=READY_TIMEOUT_S):
        return _json({"status": "ready"})
    return _json({"status": "unavailable"}, status_code=503)
