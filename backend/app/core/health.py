"""Liveness and readiness probes for rolling deploys."""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.routing import api_router

READY_TIMEOUT_S = 2.0

router = api_router(tags=["operations"])


async def database_ready(engine: AsyncEngine, *, timeout_s: float) -> bool:
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(probe(), timeout=timeout_s)
    except Exception:  # any failure, including the timeout, means "not ready"
        return False
    return True


@router.get("/health")
async def health(request: Request) -> dict[str, str]:
    """Liveness: the process answers. Never touches the database."""
    return {"status": "ok", "version": request.app.state.settings.git_sha}


@router.get("/ready", responses={503: {"description": "The database is unreachable"}})
async def ready(request: Request) -> JSONResponse:
    """Readiness: the database answers `SELECT 1` within 2 s."""
    if await database_ready(request.app.state.engine, timeout_s=READY_TIMEOUT_S):
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable"}, status_code=503)
