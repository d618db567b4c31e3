"""The search domain's SQL: every statement retrieval runs, and nothing else.

Hand-tuned for their plans (docs/benchmarks.md, "Search at scale"): change one only with
EXPLAIN ANALYZE at a million chunks. Values are bind parameters; the few parts that cannot
be (a vector type's dimensions, optional fixed clauses) are composed with psycopg.sql.

A search reads one owner's partition (``:user_id``, the tuned statements below) or several
(``ScopeShape``): owners whose every document is readable (``:whole_owner_ids``), listed
documents of others (``:document_ids``) and the documents of ``:collection_owner_ids`` in
the collections ``:collection_ids`` (a reader's shared collections, however many documents
they hold: the ids are not handed around), ``:owner_ids`` being all of them.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass

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


@dataclass(frozen=True)
class ScopeShape:
    """Which kinds of partition a search over several owners reads."""

    whole_owners: bool  # owners all of whose documents are in scope
    listed_documents: bool  # listed documents of other owners
    collections: bool = False  # other owners' documents in the listed collections


_OWNER_IDS = bindparam("owner_ids", type_=ARRAY(UUID(as_uuid=True)))
_WHOLE_OWNER_IDS = bindparam("whole_owner_ids", type_=ARRAY(UUID(as_uuid=True)))
_COLLECTION_IDS = bindparam("collection_ids", type_=ARRAY(UUID(as_uuid=True)))
_COLLECTION_OWNER_IDS = bindparam("collection_owner_ids", type_=ARRAY(UUID(as_uuid=True)))
_SCOPE_ARRAYS = (
    _OWNER_IDS,
    _WHOLE_OWNER_IDS,
    _DOCUMENT_IDS,
    _COLLECTION_IDS,
    _COLLECTION_OWNER_IDS,
)

# The documents of the collection owners in the scope's collections. As a filter (inside an
# OR) the planner hashes it once per statement; as the driving side of a join it reads the
# collections' rows of collection_documents by its primary key.
_COLLECTED_DOCUMENTS = sql.SQL(
    "SELECT cd.document_id FROM collection_documents cd "
    "WHERE cd.collection_id = ANY(:collection_ids) AND cd.owner_id = ANY(:collection_owner_ids)"
)


def _scope_bindparams(statement: TextClause) -> TextClause:
    """Types the scope's arrays that the statement names (for shapes without whole owners or
    without listed documents, some are absent)."""
    for param in _SCOPE_ARRAYS:
        if f":{param.key}" in statement.text:
            statement = statement.bindparams(param)
    return statement


def _owners(alias: str, shape: ScopeShape | None) -> sql.Composable:
    """The owner condition an index is searched by: one owner, or several."""
    column = sql.SQL(alias + ".user_id")
    if shape is None:
        return sql.SQL("{} = :user_id").format(column)
    return sql.SQL("{} = ANY(:owner_ids)").format(column)


def _narrowing(alias: str, shape: ScopeShape) -> sql.Composable:
    """What keeps only the scope's rows of its owners (empty when every document of every
    owner is in scope). A document has one owner: ``:document_ids`` need no pairing."""
    kinds: list[sql.Composable] = []
    if shape.whole_owners:
        kinds.append(sql.SQL(alias + ".user_id = ANY(:whole_owner_ids)"))
    if shape.listed_documents:
        kinds.append(sql.SQL(alias + ".document_id = ANY(:document_ids)"))
    if shape.collections:
        kinds.append(sql.SQL(alias + ".document_id IN ({})").format(_COLLECTED_DOCUMENTS))
    if not (shape.listed_documents or shape.collections):
        return sql.SQL("")
    if len(kinds) == 1:
        return sql.SQL(" AND {}").format(kinds[0])
    return sql.SQL(" AND ({})").format(sql.SQL(" OR ").join(kinds))


def _in_scope(alias: str, shape: ScopeShape) -> sql.Composable:
    return sql.SQL("{}{}").format(_owners(alias, shape), _narrowing(alias, shape))


def _chunks_in_scope(shape: ScopeShape) -> sql.Composable:
    """The same rows of ``chunks c``, spelt so that the planner can OR the user_id index
    (whole owners) with the document_id one (listed documents) in one bitmap. With
    collections, a filter on rows found otherwise (by id)."""
    if shape.collections or not (shape.whole_owners and shape.listed_documents):
        return _in_scope("c", shape)
    return sql.SQL("({})").format(_whole_or_listed_chunks(shape))


def _whole_or_listed_chunks(shape: ScopeShape) -> sql.Composable:
    """The whole owners' and the listed documents' rows of ``chunks c``, each naming its own
    owners (``:owner_ids`` also holds the collections' owners)."""
    whole = sql.SQL("c.user_id = ANY(:whole_owner_ids)")
    listed = sql.SQL("(c.user_id = ANY(:owner_ids) AND c.document_id = ANY(:document_ids))")
    kinds = ((whole, shape.whole_owners), (listed, shape.listed_documents))
    return sql.SQL(" OR ").join([kind for kind, present in kinds if present])


_DISTANCE = "c.embedding::vector({dims}) <=> CAST(:query AS vector({dims}))"


@functools.cache
def nearest_chunks(dims: int, *, by_document: bool) -> TextClause:
    """The :limit chunks nearest to :query (a vector literal), with their cosine distance."""
    statement = compose_sql(
        """
        SELECT id, distance FROM (
            SELECT c.id, {distance} AS distance
            FROM chunks c
            WHERE c.user_id = :user_id AND c.embedding_model = :model
            {document_filter}
            ORDER BY {distance}
            LIMIT :limit
        ) AS nearest
        ORDER BY distance
        """,
        distance=sql.SQL(_DISTANCE).format(dims=sql.Literal(int(dims))),
        document_filter=_document_filter("c.document_id", by_document),
    )
    return statement.bindparams(_DOCUMENT_IDS) if by_document else statement


@functools.cache
def nearest_scoped_chunks(dims: int, shape: ScopeShape) -> TextClause:
    """nearest_chunks over several owners' partitions, for an exact scan. The collections'
    documents are a branch of their own, joined to chunks through its document index."""
    distance = sql.SQL(_DISTANCE).format(dims=sql.Literal(int(dims)))
    branches: list[sql.Composable] = []
    if shape.whole_owners or shape.listed_documents:
        branches.append(
            sql.SQL(
                "SELECT c.id, {distance} AS distance FROM chunks c "
                "WHERE ({rest}) AND c.embedding_model = :model"
            ).format(distance=distance, rest=_whole_or_listed_chunks(shape))
        )
    if shape.collections:
        branches.append(
            sql.SQL(
                "SELECT c.id, {distance} AS distance FROM chunks c "
                "WHERE c.document_id IN ({collected}) "
                "AND c.user_id = ANY(:collection_owner_ids) AND c.embedding_model = :model"
            ).format(distance=distance, collected=_COLLECTED_DOCUMENTS)
        )
    statement = compose_sql(
        """
        SELECT id, distance FROM (
            {branches}
            ORDER BY distance
            LIMIT :limit
        ) AS nearest
        ORDER BY distance
        """,
        branches=sql.SQL(" UNION ").join(branches),
    )
    return _scope_bindparams(statement)


# Per owner: chunks, own valid HNSW index, and the table's estimated rows (as TENANT_SIZE).
TENANT_SIZES = text("""
SELECT o.owner_id, s.chunk_count,
       (SELECT reltuples FROM pg_class WHERE oid = 'chunks'::regclass) AS table_rows,
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
               WHERE c.relname = o.index_name AND i.indisvalid) AS own_index
FROM unnest(CAST(:owner_ids AS uuid[]), CAST(:index_names AS text[])) AS o(owner_id, index_name)
LEFT JOIN user_corpus_stats s ON s.user_id = o.owner_id
""")


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


@functools.cache
def scoped_chunk_distances(dims: int, shape: ScopeShape) -> TextClause:
    """chunk_distances over several owners' partitions."""
    statement = compose_sql(
        """
        SELECT c.id, c.embedding::vector({dims}) <=> CAST(:query AS vector({dims})) AS distance
        FROM chunks c
        WHERE {in_scope} AND c.embedding_model = :model AND c.id = ANY(:ids)
        """,
        dims=sql.Literal(int(dims)),
        in_scope=_chunks_in_scope(shape),
    ).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))
    return _scope_bindparams(statement)


# --- BM25 over the postings --------------------------------------------------------------

# The df of each query lexeme over the user's whole corpus: user_lexeme_stats, kept by
# triggers on chunk_terms (migration 0025), one primary-key probe per lexeme.
QUERY_TERMS = text("""
SELECT q.lexeme, coalesce(d.df, 0) AS df, s.n, s.avgdl
FROM unnest(to_tsvector('english', :query)) AS q
CROSS JOIN (
    SELECT chunk_count::float8 AS n,
           greatest(total_length::float8 / nullif(chunk_count, 0), 1.0) AS avgdl
    FROM user_corpus_stats WHERE user_id = :user_id
) AS s
LEFT JOIN user_lexeme_stats d ON d.user_id = :user_id AND d.lexeme = q.lexeme
""")


def _documents_stats(documents: sql.Composable) -> sql.Composable:
    """N and total length of the chunks of ``documents d``: from each document's own row
    (written with its chunks), or counted from its chunks when that is unknown (NULL)."""
    return sql.SQL(
        "SELECT coalesce(sum(CASE WHEN d.lexeme_total IS NULL "
        "THEN (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) "
        "ELSE d.chunk_count END), 0), "
        "coalesce(sum(coalesce(d.lexeme_total, "
        "(SELECT sum(c.lexeme_count) FROM chunks c WHERE c.document_id = d.id))), 0) "
        "FROM documents d WHERE {documents}"
    ).format(documents=documents)


def _tf_part(avgdl: sql.Composable) -> sql.Composable:
    """A posting's BM25 term frequency factor (times its lexeme's idf, its score)."""
    return sql.SQL("ct.tf * (:k1 + 1) / (ct.tf + :k1 * (1 - :b + :b * ct.doc_len / {}))").format(
        avgdl
    )


@functools.cache
def scoped_bm25(shape: ScopeShape) -> TextClause:
    """BM25 over exactly the scope's chunks, in one pass over the scope's postings of the
    :query's lexemes: they give each lexeme's df (so its idf) and each chunk's score. N and
    total length are the whole owners' (their statistics rows) plus those of the listed and
    collected documents (their own rows). Returns the :limit best chunks ranked, then the
    :include_ids chunks that match a lexeme but rank below them (rank NULL); every row also
    carries the query's lexeme count and its largest possible BM25 (sum of idf * (k1 + 1)).

    No pruning, unlike bm25_candidates: the owners' postings of each lexeme are read in full
    anyway to keep the scope's (the index is by owner and lexeme), and scoring them all costs
    less than reading them twice, for the df and for the score (at 1M chunks, a reader of
    three collections: lexical p95 38.5 -> 29.0 ms, docs/benchmarks.md)."""
    parts: list[sql.Composable] = []
    if shape.whole_owners:
        parts.append(
            sql.SQL(
                "SELECT chunk_count, total_length FROM user_corpus_stats "
                "WHERE user_id = ANY(:whole_owner_ids)"
            )
        )
    if shape.listed_documents:
        parts.append(
            _documents_stats(sql.SQL("d.user_id = ANY(:owner_ids) AND d.id = ANY(:document_ids)"))
        )
    if shape.collections:
        # Listed documents are not in the collections' part (it would count them twice).
        not_listed = sql.SQL(" AND NOT d.id = ANY(:document_ids)" if shape.listed_documents else "")
        parts.append(
            _documents_stats(
                sql.SQL(
                    "d.id IN ({collected}) AND d.user_id = ANY(:collection_owner_ids){not_listed}"
                ).format(collected=_COLLECTED_DOCUMENTS, not_listed=not_listed)
            )
        )
    statement = compose_sql(
        """
        WITH corpus AS (
            SELECT n, greatest(len / nullif(n, 0), 1.0) AS avgdl
            FROM (SELECT coalesce(sum(p.n), 0)::float8 AS n, coalesce(sum(p.len), 0)::float8 AS len
                  FROM ({parts}) AS p(n, len)) AS totals
        ), query AS (
            SELECT q.lexeme FROM unnest(to_tsvector('english', :query)) AS q
        ), hits AS MATERIALIZED (
            SELECT ct.lexeme, ct.chunk_id, {tf_part} AS tf_part
            FROM query q CROSS JOIN corpus s
            JOIN chunk_terms ct ON {owners} AND ct.lexeme = q.lexeme{narrowing}
        ), terms AS (
            SELECT h.lexeme, ln(1 + (s.n - count(*) + 0.5) / (count(*) + 0.5)) AS idf
            FROM hits h CROSS JOIN corpus s
            GROUP BY h.lexeme, s.n
        ), scored AS MATERIALIZED (
            SELECT h.chunk_id, sum(t.idf * h.tf_part) AS score, count(*) AS matched
            FROM hits h JOIN terms t ON t.lexeme = h.lexeme
            GROUP BY h.chunk_id
        ), listed AS (
            SELECT chunk_id, score, matched,
                   row_number() OVER (ORDER BY score DESC, chunk_id) - 1 AS rank
            FROM (SELECT * FROM scored ORDER BY score DESC, chunk_id LIMIT :limit) AS best
        ), query_stats AS (
            SELECT (SELECT count(*) FROM query) AS lexemes,
                   (SELECT sum(idf) FROM terms) * (:k1 + 1) AS bm25_max
        )
        SELECT r.*, m.lexemes, m.bm25_max FROM (
            SELECT chunk_id AS id, score, matched, rank FROM listed
            UNION ALL
            SELECT chunk_id, score, matched, NULL FROM scored
            WHERE chunk_id = ANY(CAST(:include_ids AS bigint[]))
              AND chunk_id NOT IN (SELECT chunk_id FROM listed)
        ) AS r CROSS JOIN query_stats m
        ORDER BY r.rank NULLS LAST, r.id
        """,
        parts=sql.SQL(" UNION ALL ").join(parts),
        tf_part=_tf_part(sql.SQL("s.avgdl")),
        owners=_owners("ct", shape),
        narrowing=_narrowing("ct", shape),
    ).bindparams(bindparam("include_ids", type_=ARRAY(BigInteger)))
    return _scope_bindparams(statement)


_TERM_SCORE = sql.SQL("t.idf * {}").format(_tf_part(sql.SQL(":avgdl")))


@functools.cache
def bm25_candidates(*, pruned: bool, by_document: bool) -> TextClause:
    """The :limit best chunks by BM25 over the :lexemes (with :idfs) that :generates
    candidates, then every lexeme scoring the :pool best of them (``pruned``), plus the
    :include_ids chunks that match a lexeme, unranked. Over one owner's postings
    (``by_document``: of the :document_ids); several owners' are scoped_bm25."""
    pruned_scores: sql.Composable
    if pruned:
        pruned_scores = sql.SQL("""
        LEFT JOIN LATERAL (
            SELECT sum({term_score}) AS score, count(*) AS matched
            FROM terms t JOIN chunk_terms ct
              ON {owners} AND ct.lexeme = t.lexeme AND ct.chunk_id = pool.chunk_id
            WHERE NOT t.generates
        ) AS x ON true""").format(term_score=_TERM_SCORE, owners=_owners("ct", None))
    else:
        pruned_scores = sql.SQL(" CROSS JOIN (SELECT 0.0::float8 AS score, 0 AS matched) AS x")
    statement = compose_sql(
        """
        WITH terms AS (
            SELECT * FROM unnest(CAST(:lexemes AS text[]), CAST(:idfs AS float8[]),
                                 CAST(:generates AS boolean[])) AS t(lexeme, idf, generates)
        ), partial AS MATERIALIZED (
            SELECT ct.chunk_id, sum({term_score}) AS score, count(*) AS matched
            FROM terms t JOIN chunk_terms ct ON {owners} AND ct.lexeme = t.lexeme
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
        owners=_owners("ct", None),
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


@functools.cache
def scoped_passages(shape: ScopeShape) -> TextClause:
    """PASSAGES over several owners' partitions."""
    statement = compose_sql(
        """
        SELECT c.id, c.document_id, d.filename, d.content_type, c.page_start, c.page_end,
               c.heading_path, c.text, c.char_start, c.char_end, c.spans,
               c.sheet, c.row_start, c.row_end
        FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE {in_scope} AND d.user_id = c.user_id AND c.id = ANY(:ids)
        """,
        in_scope=_chunks_in_scope(shape),
    ).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))
    return _scope_bindparams(statement)
