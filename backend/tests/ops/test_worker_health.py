"""Worker health and the queue, as operators see them: `docchat worker`'s side port (/health,
/metrics), queue depth and the oldest queued job as metrics, live workers in /ready, and the
embedding-model agreement check (/ready 503 and a startup error naming both models)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import free_port, make_settings, register, upload

BACKEND = Path(__file__).resolve().parents[2]
OTHER_MODEL = "text-embedding-3-small"


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


async def test_queue_depth_and_oldest_job_are_metrics(
    client: httpx.AsyncClient, database_url: str
) -> None:
    headers = await register(client)
    for name in ("a.txt", "b.txt"):
        response = await upload(client, headers, (name, f"{name} waits".encode(), "text/plain"))
        assert response.status_code == 202
    # No worker runs (run_worker=False): both wait. Make the older one 10 minutes old.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE procrastinate_events SET at = now() - interval '10 minutes' "
            "WHERE type = 'deferred' AND job_id = (SELECT min(id) FROM procrastinate_jobs)"
        )
    text = (await client.get("/metrics")).text
    assert _metric(text, 'docchat_jobs{status="todo"}') == 2
    assert _metric(text, 'docchat_jobs{status="doing"}') == 0
    assert 590 < _metric(text, "docchat_oldest_queued_job_age_seconds") < 700
    assert _metric(text, "docchat_workers_alive") == 0
    ready = (await client.get("/ready")).json()
    assert ready["workers"] == 0
    assert ready["oldest_queued_job_s"] > 590


async def _ready_document_indexed_with(
    database_url: str, model: str, client: httpx.AsyncClient
) -> None:
    headers = await register(client)
    response = await upload(client, headers, ("n.txt", b"indexed elsewhere", "text/plain"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE documents SET status = 'ready', embedding_model = %s, processed_at = now() "
            "WHERE id = %s",
            (model, response.json()[0]["id"]),
        )


async def test_ready_is_503_naming_both_models_when_the_api_embeds_differently(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _ready_document_indexed_with(database_url, OTHER_MODEL, client)
    response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "misconfigured"
    assert body["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert body["indexed_embedding_model"] == OTHER_MODEL


async def test_startup_logs_an_error_naming_both_models(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _ready_document_indexed_with(database_url, OTHER_MODEL, client)
    capsys.readouterr()
    app: FastAPI = create_app(
        make_settings(database_url, tmp_path, run_worker=False, log_format="json")
    )
    async with app.router.lifespan_context(app):
        pass
    lines = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if '"embedding_model_mismatch"' in line
    ]
    assert len(lines) == 1
    assert lines[0]["level"] == "error"
    assert lines[0]["role"] == "api"
    assert lines[0]["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert lines[0]["indexed_embedding_model"] == OTHER_MODEL


def test_worker_side_port_serves_health_and_queue_metrics(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "HF_HUB_OFFLINE")}
    env.update(
        ENVIRONMENT="development",
        DATABASE_URL=database_url,
        PYTHONPATH=str(BACKEND),
        WORKER_HEALTH_PORT=str(port),
        GIT_SHA="worker-sha",
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert worker.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "version": "worker-sha"}
        # Its heartbeat (every 2 s) makes it count as alive.
        deadline = time.monotonic() + 30
        while True:
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            if _metric(metrics, "docchat_workers_alive") >= 1:
                break
            assert time.monotonic() < deadline, metrics
            time.sleep(0.5)
        assert "docchat_oldest_queued_job_age_seconds" in metrics
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
