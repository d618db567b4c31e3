"""Cold search: a tenant's first searches after a restart, or after its pages left memory,
read its index and postings from disk (at 1M chunks the 10 % tenant's first pass had SQL p95
53.8 ms against 30.6 ms warm). On a tenant's first search in a while, this reads the pages its
searches need into PostgreSQL's buffers in the background (its own HNSW index with
pg_prewarm, its BM25 postings and lexeme statistics, its chunk rows by index), so the searches
that follow are warm. The retrieval SQL itself is app.search.queries'; nothing here changes a
result.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.search.queries import tenant_vector_index_name

logger = logging.getLogger(__name__)

# A tenant is prewarmed again after this long: by then its pages may have left memory.
PREWARM_INTERVAL_S = 600.0

# Reads whole index pages: the planner must not pick a sequential scan of the whole table.
_INDEX_ONLY = text("SET LOCAL enable_seqscan = off")
_OWN_INDEX_BLOCKS = text(
    "SELECT pg_prewarm(c.oid) FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
    "WHERE c.relname = :index_name AND i.indisvalid "
    "AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm')"
)
# The tenant's range of the postings' primary key, which BM25 reads index-only (migration
# 0023): sum(tf) keeps the scan off the table.
_POSTINGS = text("SELECT count(*), sum(tf) FROM chunk_terms WHERE user_id = :user_id")
# Its lexemes' document frequencies (one probe per query lexeme): index and rows.
_LEXEME_STATS = text("SELECT count(*), sum(df) FROM user_lexeme_stats WHERE user_id = :user_id")
_CHUNK_ROWS = text(
    "SELECT count(*), sum(octet_length(text)), sum(vector_dims(embedding)) "
    "FROM chunks WHERE user_id = :user_id AND embedding_model = :model_id"
)
# The found chunks (lexical-only candidates' similarities, the passages) and their documents
# are then read by primary key: those two indexes are small (~22 MB per million chunks) and
# shared by every tenant, so they are read whole.
_PRIMARY_KEYS = text(
    "SELECT pg_prewarm(c.oid) FROM pg_class c "
    "WHERE c.relname IN ('pk_chunks', 'pk_documents') "
    "AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm')"
)
_DOCUMENT_ROWS = text(
    "SELECT count(*), sum(octet_length(filename)) FROM documents WHERE user_id = :user_id"
)


@dataclass(frozen=True)
class Prewarmed:
    index_blocks: int
    postings: int
    chunks: int


async def prewarm_tenant(session: AsyncSession, *, user_id: uuid.UUID, model_id: str) -> Prewarmed:
    """Read what a search of ``user_id``'s documents reads: its own HNSW index (if it has one
    and pg_prewarm is installed), its postings, its chunk and document rows
    and the primary keys they are found by."""
    await session.execute(_INDEX_ONLY)
    blocks = await session.execute(
        _OWN_INDEX_BLOCKS, {"index_name": tenant_vector_index_name(user_id, model_id)}
    )
    postings = (await session.execute(_POSTINGS, {"user_id": user_id})).one()
    await session.execute(_LEXEME_STATS, {"user_id": user_id})
    chunks = (await session.execute(_CHUNK_ROWS, {"user_id": user_id, "model_id": model_id})).one()
    await session.execute(_PRIMARY_KEYS)
    await session.execute(_DOCUMENT_ROWS, {"user_id": user_id})
    return Prewarmed(
        index_blocks=sum(int(row[0] or 0) for row in blocks),
        postings=int(postings[0]),
        chunks=int(chunks[0]),
    )


class Prewarmer:
    """Starts a background prewarm for tenants not prewarmed in the last PREWARM_INTERVAL_S
    (per process; a search never waits for it)."""

    def __init__(self, interval_s: float = PREWARM_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._last: dict[tuple[uuid.UUID, str], float] = {}
        self._running: set[asyncio.Task[None]] = set()

    def tenants_searched(
        self, engine: AsyncEngine, *, user_ids: Iterable[uuid.UUID], model_id: str
    ) -> None:
        now = time.monotonic()
        for user_id in user_ids:
            key = (user_id, model_id)
            if now - self._last.get(key, -self._interval_s) < self._interval_s:
                continue
            self._last[key] = now
            task = asyncio.create_task(self._prewarm(engine, user_id=user_id, model_id=model_id))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def wait(self) -> None:
        """Until every prewarm started so far has finished (tests, benchmarks)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _prewarm(self, engine: AsyncEngine, *, user_id: uuid.UUID, model_id: str) -> None:
        started = time.perf_counter()
        try:
            async with AsyncSession(engine) as session:
                done = await prewarm_tenant(session, user_id=user_id, model_id=model_id)
                await session.rollback()
        except Exception:  # a hint: a search never depends on it
            logger.warning("search_prewarm_failed", exc_info=True, extra={"user_id": str(user_id)})
            return
        logger.info(
            "search_prewarmed",
            extra={
                "user_id": str(user_id),
                "index_blocks": done.index_blocks,
                "postings": done.postings,
                "chunks": done.chunks,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )


prewarmer = Prewarmer()
