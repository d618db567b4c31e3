"""Liveness and readiness probes for rolling deploys.

Plain Starlette routes: probes are hit constantly and need none of FastAPI's per-request
machinery (it cost half of /health's throughput; see docs/benchmarks.md, "API overhead")."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.core.metrics import QueueState, queue_state
from app.documents.indexing import latest_indexed_model

READY_TIMEOUT_S = 2.0


def _json(payload: Mapping[str, str | int | float], status_code: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json")


async def health(request: Request) -> Response:
    """Liveness: the process answers. Never touches the database."""
    return _json({"status": "ok", "version": request.app.state.settings.git_sha})


async def ready(request: Request) -> Response:
    """Readiness: the database answers within 2 s, and this API embeds queries with the model
    documents are being indexed with (else search finds nothing: 503 `misconfigured` naming
    both). Also reports the job workers alive (heartbeat in the last 30 s) and how long the
    oldest due job has waited, for dashboards; neither fails the probe."""

    async def probe() -> tuple[QueueState, str | None]:
        async with request.app.state.engine.connect() as connection:
            return await queue_state(connection), await latest_indexed_model(connection)

    try:
        queue, indexed = await asyncio.wait_for(probe(), timeout=READY_TIMEOUT_S)
    except Exception:  # any failure, including the timeout, means "not ready"
        return _json({"status": "unavailable"}, status_code=503)
    body: dict[str, str | int | float] = {
        "status": "ready",
        "workers": queue.workers_alive,
        "oldest_queued_job_s": round(queue.oldest_queued_s, 1),
    }
    model: str = request.app.state.embedding_model_id
    if indexed is not None and indexed != model:
        body.update(status="misconfigured", embedding_model=model, indexed_embedding_model=indexed)
        return _json(body, status_code=503)
    return _json(body)
