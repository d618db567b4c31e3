"""The search domain's SQL: every statement retrieval runs, and nothing else.

Hand-tuned for their plans (docs/benchmarks.md, "Search at scale"): change one only with
EXPLAIN ANALYZE at a million chunks. Values are bind parameters; the few parts that cannot
be (a vector type's dimensions, optional fixed clauses) are composed with psycopg.sql.
"""

from __future__ import annotations

import functools
import hashlib
import uuid

from psycopg import sql
from sqlalchemy import BigInteger, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from app.core.db import compose_sql

# --- a tenant's own HNSW index (built by app.documents.indexing) ------------------------

# True when the index named :index_name exists and is valid: a CONCURRENTLY build cut short
# leaves an invalid one, which the planner never uses.
VALID_INDEX_EXISTS = sql.SQL(
    "EXISTS (SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
    "WHERE c.relname = :index_name AND i.indisvalid)"
)


def tenant_vector_index_name(user_id: uuid.UUID, model_id: str) -> str:
    digest = hashlib.sha256(f"{user_id}:{model_id}".encode()).hexdigest()[:20]
    return f"ix_chunks_embedding_tenant_{digest}"


TENANT_SIZE = compose_sql(
    "SELECT (SELECT chunk_count FROM user_corpus_stats WHERE user_id = :user_id), "
    "(SELECT reltuples FROM pg_class WHERE oid = 'chunks'::regclass), {valid_index_exists}",
    valid_index_exists=VALID_INDEX_EXISTS,
)

# --- dense retrieval ---------------------------------------------------------------------

# Without plain index scans the planner cannot walk the HNSW index: it reads the scope's rows
# through the user/document btrees (bitmap scans) and sorts them.
EXACT_SCAN_ON = text("SET LOCAL enable_indexscan = off")
EXACT_SCAN_OFF = text("SET LOCAL enable_indexscan = on")
# Iterative index scans keep going until LIMIT rows pass the user filter, so a user who owns
# a share of a large table still gets k results from the HNSW index.
HNSW_SCAN = text(
    "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
    "set_config('hnsw.ef_search', :ef_search, true)"
)

_DOCUMENT_IDS = bindparam("document_ids", type_=ARRAY(UUID(as_uuid=True)))


def _document_filter(column: str, by_document: bool) -> sql.Composable:
    if not by_document:
        return sql.SQL("")
    return sql.SQL(" AND {} = ANY(:document_ids)").format(sql.SQL(column))


@functools.cache
def nearest_chunks(dims: int, *, by_document: bool) -> TextClause:
    """The :limit chunks nearest to :query (a vector literal), with their cosine distance."""
    statement = compose_sql(
        """
        SELECT id, distance FROM (
            SELECT c.id, c.embedding::vector({dims}) <=> CAST(:query AS vector({dims})) AS distance
            FROM chunks c
            WHERE c.user_id = :user_id AND c.embedding_model = :model
            {document_filter}
            ORDER BY c.embedding::vector({dims}) <=> CAST(:query AS vector({dims}))
            LIMIT :limit
        ) AS nearest
        ORDER BY distance
        """,
        dims=sql.Literal(int(dims)),
        document_filter=_document_filter("c.document_id", by_document),
    )
    return statement.bindparams(_DOCUMENT_IDS) if by_document else statement


@functools.cache
def chunk_distances(dims: int) -> TextClause:
    """Cosine distance of given chunks (:ids, primary-key lookups) to :query."""
    return compose_sql(
        """
        SELECT c.id, c.embedding::vector({dims}) <=> CAST(:query AS vector({dims})) AS distance
        FROM chunks c
        WHERE c.user_id = :user_id AND c.embedding_model = :model AND c.id = ANY(:ids)
        """,
        dims=sql.Literal(int(dims)),
    ).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))


# --- BM25 over the postings --------------------------------------------------------------

QUERY_TERMS = text("""
SELECT q.lexeme, d.df, s.n, s.avgdl
FROM unnest(to_tsvector('english', :query)) AS q
CROSS JOIN (
    SELECT chunk_count::float8 AS n,
           greatest(total_length::float8 / nullif(chunk_count, 0), 1.0) AS avgdl
    FROM user_corpus_stats WHERE user_id = :user_id
) AS s
CROSS JOIN LATERAL (
    SELECT count(*) AS df FROM chunk_terms ct WHERE ct.user_id = :user_id AND ct.lexeme = q.lexeme
) AS d
""")

_TERM_SCORE = sql.SQL(
    "t.idf * ct.tf * (:k1 + 1) / (ct.tf + :k1 * (1 - :b + :b * ct.doc_len / :avgdl))"
)


@functools.cache
def bm25_candidates(*, pruned: bool, by_document: bool) -> TextClause:
    """The :limit best chunks by BM25 over the :lexemes (with :idfs) that :generates
    candidates, then every lexeme scoring the :pool best of them (``pruned``), plus the
    :include_ids chunks that match a lexeme, unranked."""
    pruned_scores: sql.Composable
    if pruned:
        pruned_scores = sql.SQL("""
        LEFT JOIN LATERAL (
            SELECT sum({term_score}) AS score, count(*) AS matched
            FROM terms t JOIN chunk_terms ct
              ON ct.user_id = :user_id AND ct.lexeme = t.lexeme AND ct.chunk_id = pool.chunk_id
            WHERE NOT t.generates
        ) AS x ON true""").format(term_score=_TERM_SCORE)
    else:
        pruned_scores = sql.SQL(" CROSS JOIN (SELECT 0.0::float8 AS score, 0 AS matched) AS x")
    statement = compose_sql(
        """
        WITH terms AS (
            SELECT * FROM unnest(CAST(:lexemes AS text[]), CAST(:idfs AS float8[]),
                                 CAST(:generates AS boolean[])) AS t(lexeme, idf, generates)
        ), partial AS MATERIALIZED (
            SELECT ct.chunk_id, sum({term_score}) AS score, count(*) AS matched
            FROM terms t JOIN chunk_terms ct ON ct.user_id = :user_id AND ct.lexeme = t.lexeme
            WHERE t.generates {document_filter}
            GROUP BY ct.chunk_id
        ), pool AS (
            SELECT chunk_id, score, matched
            FROM (SELECT * FROM partial ORDER BY score DESC, chunk_id LIMIT :pool) AS best
            UNION
            SELECT a.chunk_id, coalesce(p.score, 0), coalesce(p.matched, 0)
            FROM unnest(CAST(:include_ids AS bigint[])) AS a(chunk_id)
            LEFT JOIN partial p ON p.chunk_id = a.chunk_id
        ), scored AS MATERIALIZED (
            SELECT pool.chunk_id, pool.score + coalesce(x.score, 0) AS score,
                   pool.matched + coalesce(x.matched, 0) AS matched
            FROM pool{pruned_scores}
            WHERE pool.matched + coalesce(x.matched, 0) > 0
        ), listed AS (
            SELECT chunk_id, score, matched,
                   row_number() OVER (ORDER BY score DESC, chunk_id) - 1 AS rank
            FROM (SELECT * FROM scored ORDER BY score DESC, chunk_id LIMIT :limit) AS best
        )
        SELECT chunk_id AS id, score, matched, rank FROM listed
        UNION ALL
        SELECT chunk_id, score, matched, NULL FROM scored
        WHERE chunk_id NOT IN (SELECT chunk_id FROM listed)
        ORDER BY rank NULLS LAST, id
        """,
        term_score=_TERM_SCORE,
        document_filter=_document_filter("ct.document_id", by_document),
        pruned_scores=pruned_scores,
    ).bindparams(bindparam("include_ids", type_=ARRAY(BigInteger)))
    return statement.bindparams(_DOCUMENT_IDS) if by_document else statement


# --- the passages found ------------------------------------------------------------------

PASSAGES = text(
    """
    SELECT c.id, c.document_id, d.filename, d.content_type, c.page_start, c.page_end,
           c.heading_path, c.text, c.char_start, c.char_end, c.spans,
           c.sheet, c.row_start, c.row_end
    FROM chunks c JOIN documents d ON d.id = c.document_id
    WHERE c.user_id = :user_id AND d.user_id = :user_id AND c.id = ANY(:ids)
    """
)
