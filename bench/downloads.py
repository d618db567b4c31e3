"""Memory and throughput of concurrent original downloads from a real server.

    .venv/bin/python bench/downloads.py [--size-mb 50] [--concurrent 20]

Starts `docchat serve` on a fresh embedded PostgreSQL (temporary data directory, removed at
the end), uploads one plain-text original of --size-mb (random hex: Postgres cannot compress
it much), then downloads it --concurrent times at once, checking every copy's SHA-256, while
sampling the server's RSS (process and children) every 20 ms. Issue #12's figure for the
code that held each original whole: +2.4 GB for 20 x 50 MB. The last line is JSON:
{"size_mb", "concurrent", "baseline_rss_mb", "peak_rss_mb", "growth_mb", "seconds", "mb_per_s"}.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(process: psutil.Process) -> float:
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def start_server(size_mb: int, data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir / "data"),
        "ENVIRONMENT": "development",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "RUN_WORKER": "false",
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "MAX_UPLOAD_MB": str(size_mb + 1),
        "FRONTEND_DIST": str(data_dir / "no-frontend"),
        "HF_HUB_OFFLINE": "1",
    }
    for name in ("DATABASE_URL", "DATABASE_DIRECT_URL"):
        env.pop(name, None)
    with (data_dir / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            cwd=ROOT / "backend",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return server, port


async def run(
    size_mb: int, concurrent: int, data_dir: Path, server: subprocess.Popen[bytes], port: int
) -> dict[str, float]:
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start; see {data_dir / 'server.log'}")
                await asyncio.sleep(0.3)
            credentials = {"email": "bench@example.com", "password": "bench-password-1"}
            await client.post("/api/v1/auth/register", json={**credentials, "full_name": "B"})
            token = (await client.post("/api/v1/auth/login", json=credentials)).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            data = os.urandom(size_mb * 1_000_000 // 2).hex().encode()
            expected = hashlib.sha256(data).hexdigest()
            upload = await client.post(
                "/api/v1/documents", headers=headers, files=[("files", ("big.txt", data))]
            )
            upload.raise_for_status()
            document_id = upload.json()[0]["id"]
            del data

            process = psutil.Process(server.pid)
            await asyncio.sleep(1)
            baseline = rss_mb(process)
            peak = baseline
            sampling = True

            def sample() -> None:
                nonlocal peak
                while sampling:
                    peak = max(peak, rss_mb(process))
                    time.sleep(0.02)

            async def download() -> str:
                digest = hashlib.sha256()
                url = f"/api/v1/documents/{document_id}/file"
                async with client.stream("GET", url, headers=headers) as response:
                    response.raise_for_status()
                    async for piece in response.aiter_bytes():
                        digest.update(piece)
                return digest.hexdigest()

            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.perf_counter()
            try:
                digests = await asyncio.gather(*(download() for _ in range(concurrent)))
            finally:
                seconds = time.perf_counter() - started
                sampling = False
                sampler.join()
            if digests != [expected] * concurrent:
                raise SystemExit("a download came back different from the upload")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return {
        "size_mb": size_mb,
        "concurrent": concurrent,
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak, 1),
        "growth_mb": round(peak - baseline, 1),
        "seconds": round(seconds, 2),
        "mb_per_s": round(size_mb * concurrent / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--concurrent", type=int, default=20)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="docchat-bench-downloads-"))
    try:
        server, port = start_server(args.size_mb, data_dir)
        result = asyncio.run(run(args.size_mb, args.concurrent, data_dir, server, port))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
