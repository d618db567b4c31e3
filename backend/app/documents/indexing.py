"""The write side of retrieval, and its SQL: chunks with vectors, BM25 postings, corpus
statistics, page texts and the vector indexes that app.search reads.

Everything here runs inside the caller's transaction, so a document's chunks, postings and
statistics appear (or disappear) atomically. Values are bind parameters; index DDL (which
takes none) is composed with psycopg.sql.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy import Engine, delete, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.db import compose_sql
from app.documents.chunking import ChunkDraft
from app.documents.models import Chunk, DocumentPage
from app.documents.parsing import Page
from app.search.queries import VALID_INDEX_EXISTS, tenant_vector_index_name

logger = logging.getLogger(__name__)

# Lexemes come from heading path + text (english stemming), so a section title also matches
# its passages; the query side (app.search.queries) must use the same configuration.

CHUNK_INSERT_BATCH = 1000

_INDEX_POSTINGS = text("""
WITH lex AS (
    SELECT c.id AS chunk_id, c.user_id, c.document_id, t.lexeme,
           coalesce(array_length(t.positions, 1), 1) AS tf
    FROM chunks c,
         unnest(to_tsvector('english', array_to_string(c.heading_path, ' ') || ' ' || c.text)) AS t
    WHERE c.document_id = ANY(:document_ids)
), lengths AS (
    SELECT chunk_id, sum(tf)::int AS len FROM lex GROUP BY chunk_id
), postings AS (
    INSERT INTO chunk_terms (user_id, lexeme, chunk_id, document_id, tf, doc_len)
    SELECT lex.user_id, lex.lexeme, lex.chunk_id, lex.document_id, least(lex.tf, 32767), lengths.len
    FROM lex JOIN lengths USING (chunk_id)
)
UPDATE chunks SET lexeme_count = lengths.len
FROM lengths WHERE chunks.id = lengths.chunk_id
""")

# Users in order: two workers adding to the same users lock their rows in the same order.
_ADD_STATS = text("""
INSERT INTO user_corpus_stats (user_id, chunk_count, total_length)
SELECT user_id, count(*), coalesce(sum(lexeme_count), 0) FROM chunks
WHERE document_id = ANY(:document_ids) GROUP BY user_id ORDER BY user_id
ON CONFLICT (user_id) DO UPDATE
SET chunk_count = user_corpus_stats.chunk_count + excluded.chunk_count,
    total_length = user_corpus_stats.total_length + excluded.total_length
""")

# Also the document's own: shared-collection searches add these up instead of its chunks.
_DOCUMENT_STATS = text("""
UPDATE documents d SET lexeme_total = (
    SELECT coalesce(sum(c.lexeme_count), 0) FROM chunks c WHERE c.document_id = d.id
)
WHERE d.id = ANY(:document_ids)
""")

_SUBTRACT_STATS = text("""
UPDATE user_corpus_stats s
SET chunk_count = greatest(s.chunk_count - d.n, 0), total_length = greatest(s.total_length - d.len, 0)
FROM (SELECT count(*) AS n, coalesce(sum(lexeme_count), 0) AS len
      FROM chunks WHERE document_id = :document_id) AS d
WHERE s.user_id = :user_id
""")


@dataclass(frozen=True)
class DocumentContent:
    """What ingestion made of one document: its chunks with their vectors, and its pages."""

    user_id: uuid.UUID
    document_id: uuid.UUID
    rows: Sequence[ChunkDraft]
    vectors: np.ndarray
    pages: Sequence[Page] = ()


async def replace_pages_of_documents(
    session: AsyncSession, *, documents: Sequence[DocumentContent]
) -> None:
    """Store the documents' page texts, replacing older ones."""
    ids = [document.document_id for document in documents]
    await session.execute(delete(DocumentPage).where(DocumentPage.document_id.in_(ids)))
    rows = [
        {
            "document_id": document.document_id,
            "user_id": document.user_id,
            "number": page.number,
            "text": page.text,
            "furniture": [list(span) for span in page.furniture],
            "title": page.title,
            "row_numbers": list(page.row_numbers) or None,
            "words": [list(word) for word in page.words] if page.ocr else None,
        }
        for document in documents
        for page in document.pages
    ]
    if rows:
        await session.execute(insert(DocumentPage), rows)


async def remove_document_chunks(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID
) -> None:
    params = {"user_id": user_id, "document_id": document_id}
    await session.execute(_SUBTRACT_STATS, params)
    await session.execute(text("DELETE FROM chunk_terms WHERE document_id = :document_id"), params)
    await session.execute(text("DELETE FROM chunks WHERE document_id = :document_id"), params)
    # Unknown until chunks are written again (chunk_count still counts the old ones).
    await session.execute(
        text("UPDATE documents SET lexeme_total = NULL WHERE id = :document_id"), params
    )


async def write_chunks_of_documents(
    session: AsyncSession,
    *,
    documents: Sequence[DocumentContent],
    model_id: str,
    replacing: Collection[uuid.UUID],
) -> None:
    """Write several documents' chunks, postings and statistics in the current transaction
    (one statement per kind of row for all of them), replacing the chunks of the documents in
    ``replacing``."""
    for document in documents:
        if document.document_id in replacing:
            await remove_document_chunks(
                session, user_id=document.user_id, document_id=document.document_id
            )
    rows = (
        {
            "document_id": document.document_id,
            "user_id": document.user_id,
            "ordinal": row.ordinal,
            "page_start": row.page_start,
            "page_end": row.page_end,
            "char_start": row.char_start,
            "char_end": row.char_end,
            "heading_path": list(row.heading_path),
            "text": row.text,
            "token_count": row.token_count,
            "spans": [list(span) for span in row.spans] or None,
            "sheet": row.sheet,
            "row_start": row.row_start,
            "row_end": row.row_end,
            "embedding_model": model_id,
            "embedding": vector,
        }
        for document in documents
        for row, vector in zip(document.rows, document.vectors, strict=True)
    )
    # In slices: the parameters of one statement for a 75,000-chunk document took ~750 MB.
    while batch := list(itertools.islice(rows, CHUNK_INSERT_BATCH)):
        await session.execute(insert(Chunk), batch)
    params = {"document_ids": [document.document_id for document in documents]}
    await session.execute(_INDEX_POSTINGS, params)
    await session.execute(_ADD_STATS, params)
    await session.execute(_DOCUMENT_STATS, params)


_SAFE_MODEL_ID = re.compile(r"^[A-Za-z0-9/_.:@+-]{1,255}$")


def _check_model_id(model_id: str) -> None:
    """The model id ends up in index definitions: keep it to a safe alphabet."""
    if not _SAFE_MODEL_ID.match(model_id):
        raise ValueError(f"EMBEDDING_MODEL has unexpected characters: {model_id!r}")


def vector_index_name(model_id: str) -> str:
    return "ix_chunks_embedding_" + hashlib.sha256(model_id.encode()).hexdigest()[:12]


# (database URL, model id) pairs whose index this process has seen: the catalog lookup below
# is skipped for every later document. An index dropped by hand comes back after a restart.
_INDEXED_MODELS: set[tuple[str, str]] = set()


async def ensure_vector_index(session: AsyncSession, *, model_id: str, dimensions: int) -> None:
    """Give each embedding model its own partial HNSW index, so switching models needs no
    migration and a search never mixes vectors of two models."""
    _check_model_id(model_id)
    bind = session.get_bind()
    url = bind.url if isinstance(bind, Engine) else bind.engine.url
    key = (url.render_as_string(hide_password=True), model_id)
    if key in _INDEXED_MODELS:
        return
    # Remembered only once seen committed: a CREATE INDEX in this transaction may roll back.
    if await _index_exists_or_create(session, model_id=model_id, dimensions=dimensions):
        _INDEXED_MODELS.add(key)


_MODEL_INDEX_EXISTS = text(
    "SELECT 1 FROM pg_indexes WHERE tablename = 'chunks' AND indexdef LIKE '%hnsw%' "
    "AND indexdef LIKE :predicate AND indexdef NOT LIKE '%user_id%'"
)


async def _index_exists_or_create(session: AsyncSession, *, model_id: str, dimensions: int) -> bool:
    model = sql.Literal(model_id).as_string()
    existing = await session.execute(
        _MODEL_INDEX_EXISTS, {"predicate": f"%embedding_model)::text = {model}::text%"}
    )
    if existing.first():
        return True
    await session.execute(
        compose_sql(
            "CREATE INDEX IF NOT EXISTS {name} ON chunks "
            "USING hnsw ((embedding::vector({dimensions})) vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64) WHERE embedding_model = {model}",
            name=sql.Identifier(vector_index_name(model_id)),
            dimensions=sql.Literal(int(dimensions)),
            model=sql.Literal(model_id),
        )
    )
    return False


# --- a tenant's own HNSW index ----------------------------------------------------------
# A filtered walk of the shared graph keeps only the tenant's share of what it visits: at 1M
# chunks a 10 % tenant needed hnsw.ef_search 1000 for recall@10 0.96 (17 ms p95), while a
# partial index over its own rows gives 0.98 at ef_search 200 in 3.4 ms. Tenants small enough
# for an exact scan (SEARCH_EXACT_SCAN_MAX_CHUNKS) never need one. The planner picks the
# partial index by itself for `user_id = <that user>`; nothing in the query names it.

TENANT_INDEX_MAINTENANCE_WORK_MEM = "256MB"

_TENANT_INDEX_WANTED = compose_sql(
    """
    SELECT (SELECT chunk_count FROM user_corpus_stats WHERE user_id = :user_id) > :min_chunks
       AND NOT {valid_index_exists}
       AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs
                       WHERE queueing_lock = :queueing_lock AND status = 'todo')
    """,
    valid_index_exists=VALID_INDEX_EXISTS,
)


def tenant_index_queueing_lock(user_id: uuid.UUID, model_id: str) -> str:
    return f"tenant-vector-index:{user_id}:{model_id}"


async def tenant_vector_index_wanted(
    session: AsyncSession, *, user_id: uuid.UUID, model_id: str, min_chunks: int
) -> bool:
    """Whether the tenant has more than ``min_chunks`` chunks, no valid index of its own and
    no build of one waiting. Run after the corpus statistics are updated: their row lock
    orders concurrent documents of one user, so only one of them queues the build."""
    wanted = await session.execute(
        _TENANT_INDEX_WANTED,
        {
            "user_id": user_id,
            "min_chunks": min_chunks,
            "index_name": tenant_vector_index_name(user_id, model_id),
            "queueing_lock": tenant_index_queueing_lock(user_id, model_id),
        },
    )
    return bool(wanted.scalar())


async def create_tenant_vector_index(
    conninfo: str, *, user_id: uuid.UUID, model_id: str, dimensions: int
) -> bool:
    """Build the tenant's index without blocking writes (CONCURRENTLY, so on a direct, not a
    transaction-pooled, connection). Returns False when it exists or another worker is
    building it. A build cut short leaves an invalid index, which the next run replaces."""
    _check_model_id(model_id)
    name = tenant_vector_index_name(user_id, model_id)
    lock_key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    async with await psycopg.AsyncConnection.connect(
        conninfo, autocommit=True, prepare_threshold=None
    ) as conn:
        locked = await (
            await conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key,))
        ).fetchone()
        if not locked or not locked[0]:
            return False
        try:
            state = await (
                await conn.execute(
                    "SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
                    "WHERE c.relname = %s",
                    (name,),
                )
            ).fetchone()
            if state is not None and state[0]:
                return False
            identifier = sql.Identifier(name)
            if state is not None:
                await conn.execute(
                    sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(identifier)
                )
            await conn.execute(
                sql.SQL("SET maintenance_work_mem = {}").format(
                    sql.Literal(TENANT_INDEX_MAINTENANCE_WORK_MEM)
                )
            )
            await conn.execute(
                sql.SQL(
                    "CREATE INDEX CONCURRENTLY {} ON chunks "
                    "USING hnsw ((embedding::vector({})) vector_cosine_ops) "
                    "WITH (m = 16, ef_construction = 64) "
                    "WHERE user_id = {} AND embedding_model = {}"
                ).format(
                    identifier,
                    sql.Literal(int(dimensions)),
                    sql.Literal(str(user_id)),
                    sql.Literal(model_id),
                )
            )
            return True
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key,))


# What the workers index with right now: the model of the most recently indexed document.
_LATEST_INDEXED_MODEL = text(
    "SELECT embedding_model FROM documents WHERE status = 'ready' "
    "ORDER BY processed_at DESC NULLS LAST LIMIT 1"
)


async def latest_indexed_model(connection: AsyncConnection) -> str | None:
    result = await connection.execute(_LATEST_INDEXED_MODEL)
    model: str | None = result.scalar_one_or_none()
    return model


async def log_embedding_disagreement(engine: AsyncEngine, *, model_id: str, role: str) -> None:
    """At startup: an error naming both models when this process embeds with another model
    than the one documents were last indexed with (search filters by model, so the API would
    find nothing, or the worker would index what the API cannot find). Best effort: a
    database that cannot be reached is reported elsewhere."""
    try:
        async with engine.connect() as connection:
            indexed = await latest_indexed_model(connection)
    except Exception:  # the database being down is /ready's and the pool's to report
        return
    if indexed is not None and indexed != model_id:
        logger.error(
            "embedding_model_mismatch",
            extra={
                "role": role,
                "embedding_model": model_id,
                "indexed_embedding_model": indexed,
                "detail": "set EMBEDDING_PROVIDER/EMBEDDING_MODEL to the same values on the "
                "API and the worker; after a deliberate switch, reindex every document",
            },
        )
