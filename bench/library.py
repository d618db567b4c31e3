"""A library of small documents: bulk import against the raw model, then the library's list and
search latency on it.

    python bench/library.py [--docs 10000] [--concurrency 4] [--requests 200]

In a fresh embedded PostgreSQL (temporary directory, deleted at exit) this

1. makes ``--docs`` small Markdown documents from NFCorpus abstracts (``# title`` + text;
   past the corpus's 3,633 abstracts they recur with "(copy n)" in the title, so none is a
   duplicate by hash) for one user, uploads them with the upload API's call
   (create_documents) and runs the app's worker (``--concurrency`` jobs) until every one is
   ready: docs_per_s, and the peak RSS of this process and its embedding and parse processes
   (PostgreSQL not counted);
2. embeds exactly the chunk texts the pipeline embedded with ``LocalEmbedder`` in calls of the
   pipeline's batch size, in this process: model_docs_per_s, and ratio = model time / pipeline
   time;
3. serves the real app (uvicorn on 127.0.0.1, no worker) and times, one request at a time
   after 10 warm-up requests, ``--requests`` ``GET /api/v1/documents`` pages (50 documents at
   a random offset, the existing parameters) and ``--requests`` ``POST /api/v1/search``
   (NFCorpus queries, the real embedder, k=10): list_p95_ms, search_p95_ms.

The last line is one JSON object: docs, chunks, docs_per_s, model_docs_per_s, ratio,
list_p95_ms, search_p95_ms (and p50s), peak_rss_mb, loadavg_1m. Not a test: at 10,000
documents it takes about an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ENVIRONMENT", "development")
os.environ.setdefault("LOG_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
NFCORPUS = ROOT.parent / "shared" / "bench" / "nfcorpus"

import common  # noqa: E402
from common import summary_ms  # noqa: E402
from ingest import RssSampler, chunk_stats, ingest_phase  # noqa: E402


def nfcorpus_documents(count: int) -> list[tuple[str, bytes]]:
    from app.evaluation.beir import render_markdown

    abstracts = [json.loads(line) for line in (NFCORPUS / "corpus.jsonl").open(encoding="utf-8")]
    documents = []
    for n in range(count):
        row = abstracts[n % len(abstracts)]
        copy = n // len(abstracts)
        title = str(row.get("title") or "") + (f" (copy {copy})" if copy else "")
        documents.append(
            (f"{row['_id']}-{copy}.md", render_markdown(title, str(row.get("text") or "")))
        )
    return documents


def nfcorpus_queries() -> list[str]:
    return [
        str(json.loads(line)["text"])
        for line in (NFCORPUS / "queries.jsonl").open(encoding="utf-8")
    ]


async def timed_requests(
    client: Any, requests: list[tuple[str, str, dict[str, Any]]], headers: dict[str, str]
) -> list[float]:
    times = []
    for j, (method, path, kwargs) in enumerate(requests):
        started = time.perf_counter()
        response = await client.request(method, path, headers=headers, **kwargs)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        if j >= 10:  # warm-up
            times.append(elapsed)
    return times


async def main(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from app.ai.embeddings import LocalEmbedder
    from app.ai.factory import get_embedder
    from app.auth import service as auth
    from app.core import migrate
    from app.core.db import create_engine, create_sessionmaker
    from app.core.embedded_pg import start_embedded
    from app.core.settings import Settings
    from app.documents.service import Upload
    from app.documents.tasks import EMBED_BATCH
    from app.main import create_app

    data_dir = Path(tempfile.mkdtemp(prefix="docchat-library-"))
    atexit.register(shutil.rmtree, data_dir, True)  # after the server's own exit hook
    database_url = start_embedded(data_dir, cleanup_mode="delete")
    migrate.upgrade(database_url)
    settings = Settings(
        _env_file=None,
        environment="development",
        database_url=database_url,
        data_dir=data_dir,
        run_worker=False,
        rate_limit_enabled=False,
        log_level="WARNING",
        jwt_secret=common.BENCH_JWT_SECRET,
    )
    engine = create_engine(database_url, pool_size=4, max_overflow=4)
    sessionmaker = create_sessionmaker(engine)
    result: dict[str, Any] = {"docs": args.docs, "concurrency": args.concurrency}
    try:
        get_embedder(settings).embed_documents(["warm up the model"])  # load outside the timings
        async with sessionmaker() as session:
            user_id = (
                await auth.create_user(
                    session,
                    email="library-bench@docchat.local",
                    password=uuid.uuid4().hex,
                    full_name="bench",
                )
            ).id
            await session.commit()
        uploads = [Upload(filename=name, data=data) for name, data in nfcorpus_documents(args.docs)]

        with RssSampler() as rss:
            pipeline_s = await ingest_phase(
                settings, sessionmaker, database_url, user_id, uploads, args.concurrency
            )
            result["peak_rss_mb"] = round(rss.peak / 1e6, 1)
        chunks, texts = await chunk_stats(sessionmaker, user_id)
        result["chunks"] = chunks
        result["pipeline_s"] = round(pipeline_s, 1)
        result["docs_per_s"] = round(args.docs / pipeline_s, 2)
        result["loadavg_1m_ingest"] = round(os.getloadavg()[0], 2)

        model = LocalEmbedder()
        model.embed_documents(["warm up"])
        flat = [text for document in texts for text in document]
        started = time.perf_counter()
        for start in range(0, len(flat), EMBED_BATCH):
            model.embed_documents(flat[start : start + EMBED_BATCH])
        model_s = time.perf_counter() - started
        result["model_s"] = round(model_s, 1)
        result["model_docs_per_s"] = round(args.docs / model_s, 2)
        result["ratio"] = round(model_s / pipeline_s, 3)

        rng = random.Random(7)
        headers = {"Authorization": f"Bearer {common.access_token(user_id)}"}
        lists = [
            ("GET", "/api/v1/documents", {"params": {"limit": 50, "offset": offset}})
            for offset in (rng.randrange(max(1, args.docs - 50)) for _ in range(args.requests + 10))
        ]
        queries = rng.sample(nfcorpus_queries(), args.requests + 10)
        searches = [("POST", "/api/v1/search", {"json": {"query": q, "k": 10}}) for q in queries]
        app = create_app(settings)
        async with (
            common.InProcessServer(app) as server,
            httpx.AsyncClient(base_url=server.base_url, timeout=60) as client,
        ):
            list_times = await timed_requests(client, lists, headers)
            search_times = await timed_requests(client, searches, headers)
        listed, searched = summary_ms(list_times), summary_ms(search_times)
        result["list_p50_ms"], result["list_p95_ms"] = listed["p50_ms"], listed["p95_ms"]
        result["search_p50_ms"], result["search_p95_ms"] = searched["p50_ms"], searched["p95_ms"]
        result["loadavg_1m"] = round(os.getloadavg()[0], 2)
        return result
    finally:
        await engine.dispose()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4, help="worker concurrency")
    parser.add_argument("--requests", type=int, default=200, help="timed list and search calls")
    args = parser.parse_args()
    result = asyncio.run(main(args))
    for key, value in result.items():
        print(f"{key:>24}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    cli()
