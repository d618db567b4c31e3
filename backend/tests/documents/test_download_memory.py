"""Downloads stream: 20 concurrent downloads of a 50 MB original, from a real server process,
keep its memory growth bounded (before: each download held the whole file, twice, and 20 of
them added 2.4 GB). The bound here is generous (timing-free, loaded machine); the measured
figure is bench/downloads.py's, in docs/benchmarks.md."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import free_port, register

BACKEND = Path(__file__).resolve().parents[2]
FILE_BYTES = 50 * 1000 * 1000
CONCURRENT = 20
# Streaming costs a few 1 MiB pieces per download; holding files would cost 20 x 50 MB x 2.
MAX_GROWTH_MB = 400


def _rss_mb(process: psutil.Process) -> float:
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`docchat serve` on a free port (no in-process worker), its base URL and process."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "HF_HUB_OFFLINE")}
    env.update(
        ENVIRONMENT="development",
        DATABASE_URL=database_url,
        PYTHONPATH=str(BACKEND),
        JWT_SECRET=secrets.token_urlsafe(48),
        RUN_WORKER="false",
        RATE_LIMIT_ENABLED="false",
        LOG_LEVEL="WARNING",
        FRONTEND_DIST=str(tmp_path / "no-frontend"),
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_twenty_concurrent_downloads_of_a_large_original_stay_small(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, process = server
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        headers = await register(client)
        # Plain text (an accepted type) that Postgres cannot compress much.
        data = os.urandom(FILE_BYTES // 2).hex().encode()
        expected = hashlib.sha256(data).hexdigest()
        upload = await client.post(
            "/api/v1/documents",
            headers=headers,
            files=[("files", ("big.txt", data, "text/plain"))],
        )
        assert upload.status_code == 202, upload.text
        document_id = upload.json()[0]["id"]
        del data

        server_process = psutil.Process(process.pid)
        baseline = _rss_mb(server_process)
        peak = baseline
        sampling = True

        def sample() -> None:
            nonlocal peak
            while sampling:
                peak = max(peak, _rss_mb(server_process))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()

        async def download() -> str:
            digest = hashlib.sha256()
            url = f"/api/v1/documents/{document_id}/file"
            async with client.stream("GET", url, headers=headers) as response:
                assert response.status_code == 200, (await response.aread())[:300]
                async for piece in response.aiter_bytes():
                    digest.update(piece)
            return digest.hexdigest()

        try:
            digests = await asyncio.gather(*(download() for _ in range(CONCURRENT)))
        finally:
            sampling = False
            sampler.join()
    assert digests == [expected] * CONCURRENT
    growth = peak - baseline
    print(f"20 x 50 MB downloads: server RSS {baseline:.0f} -> peak {peak:.0f} MB")
    assert growth < MAX_GROWTH_MB, f"RSS grew {growth:.0f} MB during the downloads"
