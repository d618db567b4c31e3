"""Search at scale: retrieval SQL latency, HNSW recall and API overhead at 100k-1M chunks.

    python bench/search_scale.py --chunks 100000 [--data-dir DIR] [--queries 200]
    python bench/search_scale.py --chunks 1000000 --data-dir /tmp/docchat-1m

Steps (all in one run; --data-dir reuses a loaded database and skips 1-4):

1. Embedded PostgreSQL 18 + pgvector, tuned with ALTER SYSTEM (shared_buffers 6GB,
   maintenance_work_mem 4GB, 1 parallel maintenance worker, random_page_cost 1.1), migrated
   with app.core.migrate.upgrade. The migration's HNSW index is dropped before loading and
   rebuilt afterwards with the same definition (timed: index_build_s). Then every tenant
   above the exact-scan size gets its own partial HNSW index, built by the app's
   create_tenant_vector_index as its worker job would (timed: tenant_indexes).
2. 1,000 users with skewed sizes: one with 10 %, one with 1 %, one with 0.1 % of the chunks,
   the other 997 lognormal (sigma 1) over the remaining 88.9 %. Documents of ~30 chunks each,
   inserted in random global order (a user's chunks are scattered over the heap as in
   production, not clustered).
3. Text: each chunk is 2-5 consecutive sentences of a SciFact abstract (the document's
   topic) plus, 40 % of the time, one sentence of another abstract; heading = the title.
   Vectors: every sentence of the 5,183 abstracts (--embed-sentences N takes only the first
   abstracts holding N sentences; with 3,000, as in the first runs, each sentence recurs in
   ~300 chunks per 1M and the space degenerates into tight near-duplicate clusters) is
   embedded once with the app's LocalEmbedder (all-MiniLM-L6-v2, cached as .npy); a
   chunk's vector is the length-weighted (x U(0.7, 1.3)) mean of its sentences' vectors plus
   Gaussian noise (cosine 0.95 to the clean mean), L2-normalised. So vectors live on the
   model's real manifold, clustered by topic, and agree with the chunk text.
   Rows arrive with psycopg binary COPY (pgvector binary format).
4. Postings exactly as app.documents.indexing (to_tsvector('english', heading || text)) with
   INSERT ... SELECT in batches of 20k chunks on 2 connections, with the chunk_terms
   primary key and document index dropped during the load and re-created after;
   user_corpus_stats from the same batches; VACUUM ANALYZE.
   (chunks.lexeme_count is left 0: only deletion reads it, and an UPDATE would rewrite
   the table.)
5. For the users with ~0.1 %, ~1 %, ~10 %: SciFact queries (real texts, real vectors),
   - sql: app.search.retrieval.hybrid_search with an AsyncSession from app.core.db, one
     transaction per query as in a request (dense + lexical + fuse + load_passages), twice: the
     first pass (sql_first_pass) warms the tenant's pages, the second is the steady state;
     dense_candidates and lexical_candidates are also timed alone;
   - recall@10: dense_candidates top 10 vs the same SQL with SET LOCAL enable_indexscan = off
     (exact: bitmap scan of the user's rows + sort), per query;
   - api: POST /api/v1/search of the real app (create_app, uvicorn on 127.0.0.1 in this
     process, httpx client, one request at a time) with the query embedding served from
     a dict of the precomputed vectors (api_p95_ms, overhead = api - sql). The real
     embedder's own time per query is measured separately (embed_query_ms), and a smaller
     pass with the real embedder gives api_full_p95_ms;
   - prototypes of alternative SQL, measured in the same run: fixed ef_search 100/200/400, larger
     hnsw.max_scan_tuples, exact scan for small users, a halfvec expression index, a
     covering postings index for BM25 (see docs/benchmarks.md, "Search at scale").

5b. Cold (first, before anything else warms the tenants' pages; --no-cold skips it,
   --only-cold runs it alone): for each of the three tenants, PostgreSQL is restarted (empty
   shared buffers) and the kernel's page cache dropped (echo 3 > /proc/sys/vm/drop_caches,
   root only: page_cache_dropped says whether it worked), then the tenant's first pass over its
   queries, no warm-up: sql_first_pass_cold. Then the same again with
   app.search.prewarm.prewarm_tenant awaited before the pass (prewarm_s):
   sql_first_pass_prewarmed.

6. The shared case (issue #16): a reader, the user other than the three above whose size is
   nearest 0.1 %, reads their own documents plus one collection of each of the 10 %, 1 % and
   0.1 % tenants (up to --shared-docs random documents of theirs, at most half of them),
   shared with the reader as a viewer: real collections, collection_documents and
   collection_members rows. Timed as a search request runs it (sql): app.sharing.access
   read_scope (the reader's whole partition + the collections and their owners) and
   hybrid_search over that scope, in one transaction; first pass, steady state, dense and
   BM25 alone; the read scope alone (read_scope); and the same retrieval with the shared
   documents handed over as ids (sql_listed_ids, how the first version ran it). recall@10 of
   the dense list against an exact scan of exactly the readable chunks; in the same phase the
   reader's own search and the three tenants' own searches, for the ratios. Again with
   exact_scan_max_chunks 0, so that the reader's own partition is walked through the HNSW
   index and merged. BM25 over shared documents reads documents.lexeme_total (the sum of
   chunks.lexeme_count), which the loader leaves unset: the case sets both from the postings'
   doc_len for its documents first.
   --only-shared runs this phase alone.

The last line is one JSON object (see docs/benchmarks.md). Progress goes to stderr, and the
partial results to DATA_DIR/results.json after every phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import tempfile
import threading
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

os.environ.setdefault("LOG_LEVEL", "WARNING")

import common
import numpy as np
from common import log, summary_ms

HNSW_INDEX = "ix_chunks_embedding_minilm_l6_v2"
HNSW_DDL = (
    f"CREATE INDEX {HNSW_INDEX} ON chunks "
    "USING hnsw ((embedding::vector(384)) vector_cosine_ops) WITH (m = 16, ef_construction = 64) "
    f"WHERE embedding_model = '{common.MODEL_ID}'"
)
HALFVEC_INDEX = "ix_chunks_embedding_minilm_l6_v2_half"
HALFVEC_DDL = (
    f"CREATE INDEX {HALFVEC_INDEX} ON chunks "
    "USING hnsw ((embedding::halfvec(384)) halfvec_cosine_ops) WITH (m = 16, ef_construction = 64) "
    f"WHERE embedding_model = '{common.MODEL_ID}'"
)
COVERING_INDEX = "ix_chunk_terms_covering"
COVERING_DDL = (
    f"CREATE INDEX {COVERING_INDEX} ON chunk_terms (user_id, lexeme) "
    "INCLUDE (chunk_id, document_id, tf, doc_len)"
)

USERVEC_INDEX = "ix_chunks_user_id_embedding"
USERVEC_DDL = (
    f"CREATE INDEX {USERVEC_INDEX} ON chunks (user_id, embedding_model) INCLUDE (embedding)"
)
EXACT_THRESHOLD = 20_000  # prototype per-user strategy: exact scan up to this many chunks

RESULTS: dict[str, Any] = {}
RESULTS_NAME = ["results.json"]


def save(data_dir: Path) -> None:
    (data_dir / RESULTS_NAME[0]).write_text(json.dumps(RESULTS, indent=1, default=str))


# --------------------------------------------------------------------------- data generation


def user_sizes(total: int, n_users: int, rng: np.random.Generator) -> list[int]:
    fixed = [round(total * 0.10), round(total * 0.01), max(1, round(total * 0.001))]
    rest = total - sum(fixed)
    weights = rng.lognormal(0.0, 1.0, n_users - len(fixed))
    sizes = np.maximum(1, np.floor(weights / weights.sum() * rest)).astype(int)
    sizes[np.argmax(sizes)] += rest - int(sizes.sum())
    return fixed + sizes.tolist()


class Corpus:
    """SciFact sentences with their embeddings, grouped by abstract."""

    def __init__(self, n_sentences: int, rng: np.random.Generator) -> None:
        abstracts = common.scifact_abstracts()
        order = rng.permutation(len(abstracts))
        self.titles: list[str] = []
        self.abstract_sentences: list[list[int]] = []  # indexes into self.sentences
        self.sentences: list[str] = []
        for i in order:
            sentences = common.split_sentences(abstracts[i]["text"])
            if len(sentences) < 3:
                continue
            start = len(self.sentences)
            self.sentences.extend(sentences)
            self.abstract_sentences.append(list(range(start, len(self.sentences))))
            self.titles.append(abstracts[i]["title"])
            if n_sentences and len(self.sentences) >= n_sentences:
                break
        self.vectors = common.cached_embeddings("scifact-sentences", self.sentences)
        self.lengths = np.array([len(s) for s in self.sentences], dtype=np.float32)


def generate_chunks(
    corpus: Corpus, docs: list[tuple[uuid.UUID, uuid.UUID, int]], rng: np.random.Generator
):
    """Yield COPY rows for the documents (user_id, document_id, n_chunks) in order."""
    from pgvector import Vector

    batch: list[tuple[Any, ...]] = []
    n_abstracts = len(corpus.abstract_sentences)
    sigma = 0.33 / np.sqrt(384)  # noise norm 0.33 -> cosine ~0.95 to the clean vector

    def flush() -> list[tuple[Any, ...]]:
        # rows: (doc, user, ordinal, heading, sentence ids) -> vectors in one numpy pass
        width = 6
        idx = np.zeros((len(batch), width), dtype=np.int64)
        weight = np.zeros((len(batch), width), dtype=np.float32)
        for r, row in enumerate(batch):
            ids = row[4]
            idx[r, : len(ids)] = ids
            weight[r, : len(ids)] = corpus.lengths[ids] * rng.uniform(0.7, 1.3, len(ids))
        mixed = np.einsum("bw,bwd->bd", weight, corpus.vectors[idx])
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        mixed += rng.normal(0.0, sigma, mixed.shape).astype(np.float32)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        out = []
        for r, (doc, user, ordinal, heading, ids) in enumerate(batch):
            text = " ".join(corpus.sentences[i] for i in ids)
            out.append(
                (
                    doc,
                    user,
                    ordinal,
                    1 + ordinal // 3,
                    1 + ordinal // 3,
                    ordinal * 700,
                    ordinal * 700 + len(text),
                    [heading],
                    text,
                    len(text) // 4,
                    common.MODEL_ID,
                    Vector(mixed[r].astype(np.float32)),
                )
            )
        batch.clear()
        return out

    for user, doc, n in docs:
        topics = rng.integers(0, n_abstracts, 3)
        for ordinal in range(n):
            a = int(topics[rng.integers(0, 3)])
            sents = corpus.abstract_sentences[a]
            length = int(rng.integers(2, 6))
            start = int(rng.integers(0, max(1, len(sents) - length + 1)))
            ids = sents[start : start + length]
            if rng.random() < 0.4:
                other = corpus.abstract_sentences[int(rng.integers(0, n_abstracts))]
                ids = [*ids, other[int(rng.integers(0, len(other)))]]
            batch.append((doc, user, ordinal, corpus.titles[a], ids))
            if len(batch) >= 5000:
                yield from flush()
    if batch:
        yield from flush()


def load_data(uri: str, n_chunks: int, n_users: int, n_sentences: int, seed: int) -> dict[str, Any]:
    import psycopg
    from pgvector.psycopg import register_vector

    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    corpus = Corpus(n_sentences, rng)
    timings["embed_sentences_s"] = round(time.perf_counter() - started, 1)
    sizes = user_sizes(n_chunks, n_users, rng)
    users = [uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | i) for i in range(n_users)]
    docs: list[tuple[uuid.UUID, uuid.UUID, int]] = []
    for user, size in zip(users, sizes, strict=True):
        n_docs = max(1, round(size / 30))
        per = np.full(n_docs, size // n_docs)
        per[: size - int(per.sum())] += 1
        docs.extend((user, uuid.UUID(bytes=rng.bytes(16)), int(k)) for k in per)
    random.Random(seed).shuffle(docs)

    with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
        register_vector(conn)
        conn.execute(f"DROP INDEX IF EXISTS {HNSW_INDEX}")
        t = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy("COPY users (id, email, full_name, password_hash) FROM STDIN") as copy:
                for i, user in enumerate(users):
                    copy.write_row((user, f"user{i}@bench.example", f"User {i}", "x"))
            with cur.copy(
                "COPY documents (id, user_id, filename, content_type, kind, size_bytes, sha256, "
                "status, progress, chunk_count, embedding_model) FROM STDIN"
            ) as copy:
                for user, doc, n in docs:
                    copy.write_row(
                        (
                            doc,
                            user,
                            f"paper-{doc.hex[:8]}.pdf",
                            "application/pdf",
                            "pdf",
                            n * 2000,
                            doc.hex + doc.hex,
                            "ready",
                            100,
                            n,
                            common.MODEL_ID,
                        )
                    )
            columns = (
                "document_id, user_id, ordinal, page_start, page_end, char_start, char_end, "
                "heading_path, text, token_count, embedding_model, embedding"
            )
            with cur.copy(f"COPY chunks ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(
                    [
                        "uuid",
                        "uuid",
                        "int4",
                        "int4",
                        "int4",
                        "int4",
                        "int4",
                        "text[]",
                        "text",
                        "int4",
                        "varchar",
                        "vector",
                    ]
                )
                for i, row in enumerate(generate_chunks(corpus, docs, rng)):
                    copy.write_row(row)
                    if i % 100_000 == 0 and i:
                        log(f"copied {i} chunks")
        timings["copy_s"] = round(time.perf_counter() - t, 1)
        log("chunks loaded", timings)

        t = time.perf_counter()
        conn.execute("ALTER TABLE chunk_terms DROP CONSTRAINT pk_chunk_terms")
        conn.execute("DROP INDEX ix_chunk_terms_document_id")
        conn.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_chunk_len "
            "(chunk_id bigint, user_id uuid, len int)"
        )
        lo, hi = conn.execute("SELECT min(id), max(id) FROM chunks").fetchone()
    ranges = [(a, min(a + 19_999, hi)) for a in range(lo, hi + 1, 20_000)]
    postings_sql = """
    WITH lex AS (
        SELECT c.id AS chunk_id, c.user_id, c.document_id, t.lexeme,
               coalesce(array_length(t.positions, 1), 1) AS tf
        FROM chunks c,
             unnest(to_tsvector('english', array_to_string(c.heading_path, ' ') || ' ' || c.text)) AS t
        WHERE c.id BETWEEN %s AND %s
    ), lengths AS (
        SELECT chunk_id, user_id, sum(tf)::int AS len FROM lex GROUP BY chunk_id, user_id
    ), postings AS (
        INSERT INTO chunk_terms (user_id, lexeme, chunk_id, document_id, tf, doc_len)
        SELECT lex.user_id, lex.lexeme, lex.chunk_id, lex.document_id, least(lex.tf, 32767), lengths.len
        FROM lex JOIN lengths USING (chunk_id)
    )
    INSERT INTO bench_chunk_len SELECT chunk_id, user_id, len FROM lengths
    """
    lock = threading.Lock()

    def worker() -> None:
        with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as c:
            while True:
                with lock:
                    if not ranges:
                        return
                    a, b = ranges.pop(0)
                c.execute(postings_sql, (a, b))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
        conn.execute(
            "INSERT INTO user_corpus_stats (user_id, chunk_count, total_length) "
            "SELECT user_id, count(*), sum(len) FROM bench_chunk_len GROUP BY user_id"
        )
        conn.execute("DROP TABLE bench_chunk_len")
        timings["postings_insert_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        conn.execute(
            "ALTER TABLE chunk_terms ADD CONSTRAINT pk_chunk_terms "
            "PRIMARY KEY (user_id, lexeme, chunk_id)"
        )
        conn.execute("CREATE INDEX ix_chunk_terms_document_id ON chunk_terms (document_id)")
        timings["postings_index_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
        log("postings loaded", timings)

        t = time.perf_counter()
        conn.execute(HNSW_DDL)
        timings["index_build_s"] = round(time.perf_counter() - t, 1)
        conn.execute("ANALYZE chunks")
        log("hnsw built", timings)
    return timings


def table_sizes(uri: str) -> dict[str, float]:
    import psycopg

    with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname IN ('chunks', 'chunk_terms', 'pk_chunk_terms', "
            "'ix_chunk_terms_document_id', 'ix_chunks_user_id', %s, %s, %s)",
            (HNSW_INDEX, HALFVEC_INDEX, COVERING_INDEX),
        ).fetchall()
        out = {name + "_mb": round(size / 2**20, 1) for name, size in rows}
        out["chunks_total_mb"] = round(
            conn.execute("SELECT pg_total_relation_size('chunks')").fetchone()[0] / 2**20, 1
        )
        out["postings_rows"] = conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'chunk_terms'"
        ).fetchone()[0]
        return out


def build_index(uri: str, ddl: str, name: str) -> dict[str, float]:
    import psycopg

    with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
        t = time.perf_counter()
        conn.execute(ddl)
        elapsed = time.perf_counter() - t
        size = conn.execute("SELECT pg_relation_size(%s::regclass)", (name,)).fetchone()[0]
        conn.execute("ANALYZE chunks")
    return {"build_s": round(elapsed, 1), "mb": round(size / 2**20, 1)}


def build_tenant_indexes(uri: str) -> list[dict[str, float]]:
    """What the app's build_tenant_vector_index job does for every tenant above the
    exact-scan size (the worker queues it when a document takes a tenant past it)."""
    import psycopg

    from app.documents.indexing import create_tenant_vector_index
    from app.search.queries import tenant_vector_index_name
    from app.search.retrieval import RetrievalParams

    with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
        users = conn.execute(
            "SELECT user_id, chunk_count FROM user_corpus_stats WHERE chunk_count > %s",
            (RetrievalParams().exact_scan_max_chunks,),
        ).fetchall()
    built = []
    for user, n in users:
        t = time.perf_counter()
        created = asyncio.run(
            create_tenant_vector_index(uri, user_id=user, model_id=common.MODEL_ID, dimensions=384)
        )
        elapsed = time.perf_counter() - t
        with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
            name = tenant_vector_index_name(user, common.MODEL_ID)
            size = conn.execute("SELECT pg_relation_size(%s::regclass)", (name,)).fetchone()[0]
            conn.execute("ANALYZE chunks")
        built.append(
            {
                "user_chunks": int(n),
                "built_now": created,
                "build_s": round(elapsed, 1),
                "mb": round(size / 2**20, 1),
            }
        )
        log("tenant index", built[-1])
    return built


# --------------------------------------------------------------------------- measurements


def pick_users(uri: str, total: int) -> dict[str, tuple[uuid.UUID, int]]:
    import psycopg

    with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
        rows = conn.execute("SELECT user_id, chunk_count FROM user_corpus_stats").fetchall()
    chosen = {}
    for label, share in (("0.1%", 0.001), ("1%", 0.01), ("10%", 0.10)):
        user, n = min(rows, key=lambda r: abs(r[1] - share * total))
        chosen[label] = (user, int(n))
    return chosen


class Bench:
    def __init__(self, url: str, queries: list[str], vectors: np.ndarray, n_queries: int) -> None:
        from app.core.db import create_engine, create_sessionmaker

        self.engine = create_engine(url, pool_size=2, max_overflow=0)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.queries = queries
        self.vectors = vectors
        self.n = n_queries
        self.exact: dict[str, list[list[int]]] = {}

    def sample(self, seed: int) -> list[int]:
        return random.Random(seed).sample(range(len(self.queries)), self.n)

    async def timed(self, fn, picks: list[int], warmup: int = 5) -> tuple[list[float], list[Any]]:
        """Run fn(session, i) in one transaction per query (as a request does)."""
        times, results = [], []
        for j, i in enumerate(picks[:warmup] + picks):
            async with self.sessionmaker() as session:
                t = time.perf_counter()
                result = await fn(session, i)
                elapsed = time.perf_counter() - t
                await session.commit()
            if j >= warmup:
                times.append(elapsed)
                results.append(result)
        return times, results


def scope_for(user: uuid.UUID):
    from app.search.retrieval import SearchScope

    return SearchScope(user_id=user, model_id=common.MODEL_ID, dimensions=384)


def search_scope_of(read):
    """The retrieval scope of an app.sharing.access.ReadScope, as app.search.readable builds
    it."""
    from app.search.retrieval import SearchScope, SharedCollections

    return SearchScope(
        owners={owner.owner_id: owner.document_ids for owner in read.owners},
        collections=SharedCollections(
            collection_ids=read.collection_ids, owner_ids=read.collection_owner_ids
        ),
        model_id=common.MODEL_ID,
        dimensions=384,
    )


DENSE_VARIANT_SQL = """
SELECT id, distance FROM (
    SELECT c.id, {expr} <=> CAST(:query AS {qtype}) AS distance
    FROM chunks c
    WHERE c.user_id = :user_id AND c.embedding_model = :model
    ORDER BY {expr} <=> CAST(:query AS {qtype})
    LIMIT :limit
) AS nearest
ORDER BY distance
"""


async def dense_variant(
    session, *, user, vector, limit=100, settings=(), half=False, exact=False
) -> list[int]:
    """Prototype of dense_candidates with other settings / a halfvec expression."""
    from sqlalchemy import text

    for stmt in settings:
        await session.execute(text(stmt))
    if exact:
        await session.execute(text("SET LOCAL enable_indexscan = off"))
    expr, qtype = (
        ("c.embedding::halfvec(384)", "halfvec(384)")
        if half
        else ("c.embedding::vector(384)", "vector(384)")
    )
    rows = (
        await session.execute(
            text(DENSE_VARIANT_SQL.format(expr=expr, qtype=qtype)),
            {
                "query": common.vector_literal(vector),
                "user_id": user,
                "model": common.MODEL_ID,
                "limit": limit,
            },
        )
    ).all()
    return [r.id for r in rows]


def recall_at(got: list[list[int]], truth: list[list[int]], k: int = 10) -> float:
    scores = [
        len(set(g[:k]) & set(t[:k])) / max(1, min(k, len(t)))
        for g, t in zip(got, truth, strict=True)
    ]
    return round(float(np.mean(scores)), 4)


async def explain(bench: Bench, sql_fn_name: str, user: uuid.UUID, i: int) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement the app's dense or lexical step runs for
    one query (settings aside), each then run for real so the next one sees its result."""
    from sqlalchemy import text

    from app.search.retrieval import RetrievalParams

    captured: list[Any] = []
    params = RetrievalParams()

    class Spy:
        def __init__(self, session) -> None:
            self.session = session

        async def execute(self, statement, bind=None):
            sql = str(statement)
            if not (sql.lstrip().upper().startswith("SET") or "set_config(" in sql):
                plan = await self.session.execute(
                    text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql).bindparams(
                        *statement._bindparams.values()
                    ),
                    bind,
                )
                captured.append("\n".join(r[0] for r in plan))
            return await self.session.execute(statement, bind)

    from app.search import retrieval

    async with bench.sessionmaker() as session:
        if sql_fn_name == "dense":
            await retrieval.dense_candidates(
                Spy(session), scope=scope_for(user), query_vector=bench.vectors[i], params=params
            )
        else:
            await retrieval.lexical_candidates(
                Spy(session), scope=scope_for(user), query=bench.queries[i], params=params
            )
        await session.rollback()
    return "\n\n".join(captured)


async def measure_user(
    bench: Bench, label: str, user: uuid.UUID, n_rows: int, *, half_index: bool, covering: bool
) -> dict[str, Any]:
    from app.search import retrieval
    from app.search.retrieval import RetrievalParams

    params = RetrievalParams()
    picks = bench.sample(zlib.crc32(label.encode()))
    scope = scope_for(user)
    out: dict[str, Any] = {"user_chunks": n_rows}

    async def hybrid(session, i):
        return await retrieval.hybrid_search(
            session,
            scope=scope,
            query=bench.queries[i],
            query_vector=bench.vectors[i],
            k=10,
            params=params,
        )

    async def dense(session, i, p=params):
        return [
            c.chunk_id
            for c in await retrieval.dense_candidates(
                session, scope=scope, query_vector=bench.vectors[i], params=p
            )
        ]

    async def lexical(session, i):
        return [
            c.chunk_id
            for c in await retrieval.lexical_candidates(
                session, scope=scope, query=bench.queries[i], params=params
            )
        ]

    # The first pass over a tenant reads its postings and rows into shared_buffers (the 1M
    # database is ~16 GB against 6 GB of them): reported apart from the steady state.
    times, _ = await bench.timed(hybrid, picks)
    out["sql_first_pass"] = summary_ms(times)
    times, _ = await bench.timed(hybrid, picks)
    out["sql"] = summary_ms(times)
    times, dense_ids = await bench.timed(dense, picks)
    out["dense"] = summary_ms(times)
    times, _ = await bench.timed(lexical, picks)
    out["lexical"] = summary_ms(times)
    times, exact_ids = await bench.timed(
        lambda s, i: dense_variant(s, user=user, vector=bench.vectors[i], exact=True), picks
    )
    out["dense_exact"] = summary_ms(times)
    bench.exact[label] = exact_ids
    out["recall@10"] = recall_at(dense_ids, exact_ids)
    out["recall@100"] = recall_at(dense_ids, exact_ids, 100)
    out["dense_returned_min"] = min(len(d) for d in dense_ids)
    log(label, "sql", out["sql"], "recall", out["recall@10"], "exact", out["dense_exact"])

    variants: dict[str, Any] = {}
    for ef in (100, 200, 400):  # fixed, whatever the tenant's share (the app scales it)
        p = RetrievalParams(ef_search=ef, ef_search_per_share=0.0)
        times, ids = await bench.timed(lambda s, i, p=p: dense(s, i, p), picks)
        variants[f"ef_search={ef}"] = {**summary_ms(times), "recall@10": recall_at(ids, exact_ids)}
    for tuples in (100_000,):
        settings = (
            "SET LOCAL hnsw.iterative_scan = relaxed_order",
            "SET LOCAL hnsw.ef_search = 100",
            f"SET LOCAL hnsw.max_scan_tuples = {tuples}",
        )
        times, ids = await bench.timed(
            lambda s, i, st=settings: dense_variant(
                s, user=user, vector=bench.vectors[i], settings=st
            ),
            picks,
        )
        variants[f"max_scan_tuples={tuples}"] = {
            **summary_ms(times),
            "recall@10": recall_at(ids, exact_ids),
        }
    if half_index:
        settings = (
            "SET LOCAL hnsw.iterative_scan = relaxed_order",
            "SET LOCAL hnsw.ef_search = 100",
        )
        times, ids = await bench.timed(
            lambda s, i: dense_variant(
                s, user=user, vector=bench.vectors[i], settings=settings, half=True
            ),
            picks,
        )
        variants["halfvec_hnsw"] = {**summary_ms(times), "recall@10": recall_at(ids, exact_ids)}
    out["dense_variants"] = variants
    log(label, "variants", variants)

    if covering:
        times, _ = await bench.timed(lexical, picks)
        out["lexical_covering_index"] = summary_ms(times)
        times, _ = await bench.timed(hybrid, picks)
        out["sql_covering_index"] = summary_ms(times)
        log(label, "covering", out["lexical_covering_index"])
    return out


async def measure_api(
    url: str, bench: Bench, users: dict[str, tuple[uuid.UUID, int]], n_full: int
) -> dict[str, Any]:
    """/api/v1/search through uvicorn: precomputed query vectors, then the real embedder."""
    import httpx

    from app.ai import factory
    from app.core.settings import Settings
    from app.main import create_app
    from app.search import retrieval, service
    from app.search.retrieval import RetrievalParams

    params = RetrievalParams()
    os.environ["JWT_SECRET"] = common.BENCH_JWT_SECRET
    settings = Settings(
        database_url=url,
        jwt_secret=common.BENCH_JWT_SECRET,
        run_worker=False,
        rate_limit_enabled=False,
        log_level="WARNING",
        environment="development",
    )
    real = factory.get_embedder(settings)
    real.embed_query("warm up")
    by_text = {q: bench.vectors[i] for i, q in enumerate(bench.queries)}

    class Precomputed:
        model_id = real.model_id
        dimensions = real.dimensions

        def embed_query(self, text: str) -> np.ndarray:
            return by_text[text]

    original = service.get_embedder
    app = create_app(settings)
    out: dict[str, Any] = {}
    async with (
        common.InProcessServer(app) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as client,
    ):
        for label, (user, _) in users.items():
            headers = {"Authorization": f"Bearer {common.access_token(user)}"}
            picks = bench.sample(zlib.crc32(label.encode()))
            res: dict[str, Any] = {}
            scope = scope_for(user)
            for mode, n in (("precomputed", len(picks)), ("real_embedder", n_full)):
                service.get_embedder = (
                    (lambda s: Precomputed()) if mode == "precomputed" else original
                )
                times, sql_times = [], []
                for j, i in enumerate(picks[:5] + picks[:n]):
                    if mode == "precomputed":
                        # paired: the bare SQL step right before the API call, same query
                        async with bench.sessionmaker() as session:
                            t = time.perf_counter()
                            await retrieval.hybrid_search(
                                session,
                                scope=scope,
                                query=bench.queries[i],
                                query_vector=bench.vectors[i],
                                k=10,
                                params=params,
                            )
                            sql_elapsed = time.perf_counter() - t
                            await session.commit()
                    t = time.perf_counter()
                    r = await client.post(
                        "/api/v1/search", json={"query": bench.queries[i], "k": 10}, headers=headers
                    )
                    elapsed = time.perf_counter() - t
                    r.raise_for_status()
                    if j >= 5:
                        times.append(elapsed)
                        if mode == "precomputed":
                            sql_times.append(sql_elapsed)
                res[mode] = summary_ms(times)
                if sql_times:
                    res["paired_sql"] = summary_ms(sql_times)
                    res["paired_overhead"] = summary_ms(
                        [a - b for a, b in zip(times, sql_times, strict=True)]
                    )
            out[label] = res
            log("api", label, res)
    service.get_embedder = original
    times = []
    for i in bench.sample(7)[:100]:
        t = time.perf_counter()
        real.embed_query(bench.queries[i])
        times.append(time.perf_counter() - t)
    out["embed_query"] = summary_ms(times)
    return out


# --------------------------------------------------------------------------- main


async def dense_exact_candidates(session, *, user, vector, limit=100, index_only=True):
    """Prototype for small users: exact distances over the user's rows, no HNSW.

    With ix_chunks_user_id_embedding (user_id, embedding_model) INCLUDE (embedding) this is an
    index-only scan of the user's vectors, which sit together in the btree."""
    from sqlalchemy import text

    from app.search.retrieval import Candidate

    await session.execute(text("SET LOCAL enable_indexscan = off"))
    if not index_only:
        await session.execute(text("SET LOCAL enable_indexonlyscan = off"))
    rows = (
        await session.execute(
            text(DENSE_VARIANT_SQL.format(expr="c.embedding::vector(384)", qtype="vector(384)")),
            {
                "query": common.vector_literal(vector),
                "user_id": user,
                "model": common.MODEL_ID,
                "limit": limit,
            },
        )
    ).all()
    return [
        Candidate(chunk_id=r.id, similarity=1.0 - float(r.distance), dense_rank=k)
        for k, r in enumerate(rows)
    ]


async def user_vector_phase(bench: Bench, users: dict, url: str, data_dir: Path) -> dict[str, Any]:
    """Build the per-user covering vector index and measure the per-user strategy."""
    import psycopg

    from app.search import retrieval
    from app.search.retrieval import RetrievalParams

    params = RetrievalParams()
    out: dict[str, Any] = {"index": build_index(url, USERVEC_DDL, USERVEC_INDEX)}
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("VACUUM ANALYZE chunks")
    log("user vector index", out["index"])
    for label, (user, n_rows) in users.items():
        picks = bench.sample(zlib.crc32(label.encode()))
        scope = scope_for(user)
        res: dict[str, Any] = {"user_chunks": n_rows}
        times, truth = await bench.timed(
            lambda s, i, user=user: dense_exact_candidates(
                s, user=user, vector=bench.vectors[i], index_only=False
            ),
            picks,
        )
        truth_ids = [[c.chunk_id for c in t] for t in truth]
        res["exact_heap"] = summary_ms(times)
        times, got = await bench.timed(
            lambda s, i, user=user: dense_exact_candidates(s, user=user, vector=bench.vectors[i]),
            picks,
        )
        res["exact_index_only"] = {
            **summary_ms(times),
            "recall@10": recall_at([[c.chunk_id for c in g] for g in got], truth_ids),
        }

        async def app_dense(session, i, scope=scope):
            return [
                c.chunk_id
                for c in await retrieval.dense_candidates(
                    session, scope=scope, query_vector=bench.vectors[i], params=params
                )
            ]

        times, got_ids = await bench.timed(app_dense, picks)
        res["app_dense_with_index"] = {
            **summary_ms(times),
            "recall@10": recall_at(got_ids, truth_ids),
        }

        async def app_hybrid(session, i, scope=scope):
            return await retrieval.hybrid_search(
                session,
                scope=scope,
                query=bench.queries[i],
                query_vector=bench.vectors[i],
                k=10,
                params=params,
            )

        times, _ = await bench.timed(app_hybrid, picks)
        res["app_sql_with_index"] = summary_ms(times)

        async def strategy_hybrid(session, i, scope=scope, user=user, n_rows=n_rows):
            if n_rows <= EXACT_THRESHOLD:
                dense = await dense_exact_candidates(session, user=user, vector=bench.vectors[i])
            else:
                dense = await retrieval.dense_candidates(
                    session, scope=scope, query_vector=bench.vectors[i], params=params
                )
            lexical = await retrieval.lexical_candidates(
                session, scope=scope, query=bench.queries[i], params=params
            )
            ranked = retrieval.fuse(dense, lexical, params)[:10]
            return await retrieval.load_passages(session, scope=scope, ranked=ranked)

        times, _ = await bench.timed(strategy_hybrid, picks)
        res["strategy_sql"] = summary_ms(times)
        res["plan_app_dense"] = await explain(bench, "dense", user, picks[0])
        out[label] = res
        log("uservec", label, {k: v for k, v in res.items() if k != "plan_app_dense"})
        RESULTS["user_vector_strategy"] = out
        save(data_dir)
    return out


SHARED_EXACT_SQL = """
SELECT id FROM (
    SELECT c.id, c.embedding::vector(384) <=> CAST(:query AS vector(384)) AS distance
    FROM chunks c
    WHERE (c.user_id = :reader OR c.document_id = ANY(:document_ids)) AND c.embedding_model = :model
    ORDER BY c.embedding::vector(384) <=> CAST(:query AS vector(384))
    LIMIT :limit
) AS nearest
ORDER BY distance
"""


def pick_shared_case(
    uri: str, users: dict[str, tuple[uuid.UUID, int]], per_tenant: int, seed: int
) -> tuple[uuid.UUID, int, dict[str, list[uuid.UUID]]]:
    """The reader (the user nearest 0.1 % but the three tenants) and, of each tenant, the
    documents shared with them: up to per_tenant random ones, at most half of theirs."""
    import psycopg

    tenants = {user for user, _ in users.values()}
    with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
        rows = conn.execute("SELECT user_id, chunk_count FROM user_corpus_stats").fetchall()
        target = users["0.1%"][1]
        reader, reader_chunks = min(
            ((u, n) for u, n in rows if u not in tenants),
            key=lambda r: (abs(r[1] - target), r[0]),
        )
        shared: dict[str, list[uuid.UUID]] = {}
        rng = random.Random(seed)
        for label, (user, _) in users.items():
            documents = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM documents WHERE user_id = %s ORDER BY id", (user,)
                ).fetchall()
            ]
            shared[label] = sorted(
                rng.sample(documents, min(per_tenant, max(1, len(documents) // 2)))
            )
        # One collection per tenant, owned by them and shared with the reader as a viewer
        # (replacing the ones an earlier run on this database made).
        conn.execute("DELETE FROM collections WHERE name LIKE 'search_scale shared %%'")
        for label, (user, _) in users.items():
            collection = uuid.uuid4()
            conn.execute(
                "INSERT INTO collections (id, owner_id, name) VALUES (%s, %s, %s)",
                (collection, user, f"search_scale shared {label}"),
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO collection_documents (collection_id, document_id, owner_id) "
                    "VALUES (%s, %s, %s)",
                    [(collection, document, user) for document in shared[label]],
                )
            conn.execute(
                "INSERT INTO collection_members (id, collection_id, user_id, role) "
                "VALUES (%s, %s, %s, 'viewer')",
                (uuid.uuid4(), collection, reader),
            )
        conn.execute("ANALYZE collections, collection_documents, collection_members")
        # BM25 of shared documents reads chunks.lexeme_count (set at indexing in the app,
        # left 0 by the bulk load): the lengths the postings were written with. One
        # document at a time: an UPDATE writes new row versions at the end of the table in
        # the order it visits them, and one statement over all documents (a hash join)
        # scattered each document's chunks over 30 pages, where the app writes them together.
        everything = [d for documents in shared.values() for d in documents]
        with conn.cursor() as cursor:
            cursor.executemany(
                "UPDATE chunks c SET lexeme_count = t.doc_len "
                "FROM (SELECT DISTINCT chunk_id, doc_len FROM chunk_terms "
                "      WHERE document_id = %s) AS t "
                "WHERE c.id = t.chunk_id AND c.lexeme_count <> t.doc_len",
                [(document,) for document in everything],
            )
        # and the documents' own sums, as app.documents.indexing writes them
        conn.execute(
            "UPDATE documents d SET lexeme_total = s.total "
            "FROM (SELECT document_id, sum(lexeme_count) AS total FROM chunks "
            "      WHERE document_id = ANY(%s) GROUP BY document_id) AS s "
            "WHERE d.id = s.document_id",
            (everything,),
        )
        conn.execute("VACUUM ANALYZE chunks")
    return reader, int(reader_chunks), shared


async def measure_shared(
    bench: Bench,
    users: dict[str, tuple[uuid.UUID, int]],
    per_tenant: int,
    seed: int,
    url: str,
) -> dict[str, Any]:
    from sqlalchemy import text

    from app.search import retrieval
    from app.search.retrieval import RetrievalParams, SearchScope
    from app.sharing import access

    reader, reader_chunks, shared = pick_shared_case(url, users, per_tenant, seed)
    import psycopg

    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        shared_chunks = {
            label: conn.execute(
                "SELECT count(*) FROM chunks WHERE document_id = ANY(%s)", (documents,)
            ).fetchone()[0]
            for label, documents in shared.items()
        }
    owners: dict[uuid.UUID, list[uuid.UUID] | None] = {reader: None}
    for label, (user, _) in users.items():
        owners[user] = shared[label]
    listed_scope = SearchScope(owners=owners, model_id=common.MODEL_ID, dimensions=384)
    async with bench.sessionmaker() as session:
        read = await access.read_scope(session, reader_id=reader)
    scope = search_scope_of(read)
    assert scope.collections is not None
    assert len(scope.collections.owner_ids) == len(users)
    everything = [d for documents in shared.values() for d in documents]
    params = RetrievalParams()
    picks = bench.sample(zlib.crc32(b"shared"))
    out: dict[str, Any] = {
        "reader_chunks": reader_chunks,
        "shared_documents": {label: len(d) for label, d in shared.items()},
        "shared_chunks": shared_chunks,
        "readable_chunks": reader_chunks + sum(shared_chunks.values()),
    }
    log("shared case", out)

    def hybrid_of(search_scope, p=params):
        async def hybrid(session, i):
            return await retrieval.hybrid_search(
                session,
                scope=search_scope,
                query=bench.queries[i],
                query_vector=bench.vectors[i],
                k=10,
                params=p,
            )

        return hybrid

    def request_of(p=params):
        """As a search request: the reader's scope decided in SQL, then retrieval over it."""

        async def request(session, i):
            read = await access.read_scope(session, reader_id=reader)
            return await hybrid_of(search_scope_of(read), p)(session, i)

        return request

    async def read_scope_only(session, i):
        return await access.read_scope(session, reader_id=reader)

    async def dense(session, i, p=params):
        return [
            c.chunk_id
            for c in await retrieval.dense_candidates(
                session, scope=scope, query_vector=bench.vectors[i], params=p
            )
        ]

    async def lexical(session, i):
        return await retrieval.lexical_candidates(
            session, scope=scope, query=bench.queries[i], params=params
        )

    async def exact(session, i):
        await session.execute(text("SET LOCAL enable_indexscan = off"))
        rows = await session.execute(
            text(SHARED_EXACT_SQL),
            {
                "query": common.vector_literal(bench.vectors[i]),
                "reader": reader,
                "document_ids": everything,
                "model": common.MODEL_ID,
                "limit": 100,
            },
        )
        return [r.id for r in rows]

    times, _ = await bench.timed(request_of(), picks)
    out["sql_first_pass"] = summary_ms(times)
    times, _ = await bench.timed(request_of(), picks)
    out["sql"] = summary_ms(times)
    times, _ = await bench.timed(read_scope_only, picks)
    out["read_scope"] = summary_ms(times)
    times, _ = await bench.timed(hybrid_of(listed_scope), picks)
    out["sql_listed_ids"] = summary_ms(times)
    times, dense_ids = await bench.timed(dense, picks)
    out["dense"] = summary_ms(times)
    times, _ = await bench.timed(lexical, picks)
    out["lexical"] = summary_ms(times)
    times, exact_ids = await bench.timed(exact, picks)
    out["dense_exact"] = summary_ms(times)
    out["recall@10"] = recall_at(dense_ids, exact_ids)
    walk = RetrievalParams(exact_scan_max_chunks=0)
    times, _ = await bench.timed(request_of(walk), picks)
    out["sql_reader_walked"] = summary_ms(times)
    times, walked_ids = await bench.timed(lambda s, i: dense(s, i, walk), picks)
    out["recall@10_reader_walked"] = recall_at(walked_ids, exact_ids)
    log(
        "shared",
        {k: v for k, v in out.items() if k.startswith(("sql", "recall", "dense", "lex"))},
    )

    # the same run's own searches: the reader alone, and each tenant's own corpus
    own: dict[str, Any] = {}
    for label, user in (("reader", reader), *((k, u) for k, (u, _) in users.items())):
        own_scope = scope_for(user)
        first, _ = await bench.timed(hybrid_of(own_scope), picks)
        steady, _ = await bench.timed(hybrid_of(own_scope), picks)
        own[label] = {"sql_first_pass": summary_ms(first), "sql": summary_ms(steady)}
        log("own", label, own[label]["sql"])
    out["own"] = own
    out["ratio_sql_p95_to_own"] = {
        label: round(out["sql"]["p95_ms"] / result["sql"]["p95_ms"], 2)
        for label, result in own.items()
    }
    return out


def cold_summary(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        label: {
            "sql_first_pass_cold_p95_ms": d["sql_first_pass_cold"]["p95_ms"],
            "sql_first_pass_prewarmed_p95_ms": d["sql_first_pass_prewarmed"]["p95_ms"],
            "prewarm_s": d["prewarm_s"],
            "page_cache_dropped": d["page_cache_dropped"],
        }
        for label, d in detail.items()
    }


def shared_summary(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "readable_chunks": detail["readable_chunks"],
        "shared_documents": detail["shared_documents"],
        "sql_p50_ms": detail["sql"]["p50_ms"],
        "sql_p95_ms": detail["sql"]["p95_ms"],
        "sql_first_pass_p95_ms": detail["sql_first_pass"]["p95_ms"],
        "read_scope_p95_ms": detail["read_scope"]["p95_ms"],
        "sql_listed_ids_p95_ms": detail["sql_listed_ids"]["p95_ms"],
        "dense_p95_ms": detail["dense"]["p95_ms"],
        "lexical_p95_ms": detail["lexical"]["p95_ms"],
        "recall@10": detail["recall@10"],
        "sql_reader_walked_p95_ms": detail["sql_reader_walked"]["p95_ms"],
        "recall@10_reader_walked": detail["recall@10_reader_walked"],
        "own_sql_p95_ms": {k: v["sql"]["p95_ms"] for k, v in detail["own"].items()},
        "ratio_sql_p95_to_own": detail["ratio_sql_p95_to_own"],
    }


async def measure_cold(bench: Bench, users: dict, server: Any, data_dir: Path) -> dict[str, Any]:
    """sql_first_pass from a cold cache: PostgreSQL restarted (empty shared buffers) and the
    kernel's page cache dropped before each tenant's first pass over its queries, once as is
    and once after app.search.prewarm.prewarm_tenant (what a tenant's first search starts in
    the background; here awaited first, as when a sign-in comes seconds before the searches)."""
    from app.search import retrieval
    from app.search.prewarm import prewarm_tenant
    from app.search.retrieval import RetrievalParams

    params = RetrievalParams()
    out: dict[str, Any] = {}
    for label, (user, _) in users.items():
        picks = bench.sample(zlib.crc32(label.encode()))
        scope = scope_for(user)

        async def hybrid(session, i, scope=scope):
            return await retrieval.hybrid_search(
                session,
                scope=scope,
                query=bench.queries[i],
                query_vector=bench.vectors[i],
                k=10,
                params=params,
            )

        result: dict[str, Any] = {}
        for mode in ("cold", "prewarmed"):
            await bench.engine.dispose()
            common.restart_postgres(server, data_dir)
            result["page_cache_dropped"] = common.drop_page_cache()
            if mode == "prewarmed":
                async with bench.sessionmaker() as session:
                    started = time.perf_counter()
                    done = await prewarm_tenant(session, user_id=user, model_id=common.MODEL_ID)
                    result["prewarm_s"] = round(time.perf_counter() - started, 3)
                    result["prewarmed"] = done.__dict__
            times, _ = await bench.timed(hybrid, picks, warmup=0)
            result[f"sql_first_pass_{mode}"] = summary_ms(times)
        out[label] = result
        log(label, "cold", result)
    return out


async def measure(args: argparse.Namespace, url: str, data_dir: Path, server: Any) -> None:
    queries_all = common.scifact_queries()
    queries = random.Random(1).sample(queries_all, min(len(queries_all), max(300, args.queries)))
    vectors = common.cached_embeddings("scifact-queries", queries)
    bench = Bench(url, queries, vectors, args.queries)
    users = pick_users(url, args.chunks)
    RESULTS["users"] = {k: {"user_id": str(u), "chunks": n} for k, (u, n) in users.items()}
    log("users", RESULTS["users"])
    if args.cold or args.only_cold:
        # First of all: the phases below would warm the tenants' pages.
        RESULTS["cold"] = await measure_cold(bench, users, server, data_dir)
        save(data_dir)
        if args.only_cold:
            await bench.engine.dispose()
            return
    if args.only_api:
        RESULTS["api"] = await measure_api(url, bench, users, args.api_full_queries)
        save(data_dir)
        await bench.engine.dispose()
        return
    if args.only_shared:
        RESULTS["shared"] = await measure_shared(bench, users, args.shared_docs, args.seed, url)
        save(data_dir)
        await bench.engine.dispose()
        return
    if args.only_user_vector:
        await user_vector_phase(bench, users, url, data_dir)
        if not args.keep_user_vector:
            import psycopg

            with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
                conn.execute(f"DROP INDEX {USERVEC_INDEX}")
        await bench.engine.dispose()
        return

    plans = {}
    for label, (user, _) in users.items():
        plans[label] = {
            "dense": await explain(bench, "dense", user, 0),
            "lexical": await explain(bench, "lexical", user, 0),
        }
    RESULTS["plans"] = plans
    (data_dir / f"plans-{args.chunks}.txt").write_text(
        "\n\n".join(f"== {k} {kind}\n{p}" for k, v in plans.items() for kind, p in v.items())
    )

    by_share: dict[str, Any] = {}
    for label, (user, n) in users.items():
        by_share[label] = await measure_user(
            bench, label, user, n, half_index=False, covering=False
        )
        RESULTS["by_user_share_detail"] = by_share
        save(data_dir)

    RESULTS["api"] = await measure_api(url, bench, users, args.api_full_queries)
    save(data_dir)
    RESULTS["shared"] = await measure_shared(bench, users, args.shared_docs, args.seed, url)
    save(data_dir)

    if args.halfvec:
        RESULTS["halfvec_index"] = build_index(url, HALFVEC_DDL, HALFVEC_INDEX)
        log("halfvec index", RESULTS["halfvec_index"])
        settings = (
            "SET LOCAL hnsw.iterative_scan = relaxed_order",
            "SET LOCAL hnsw.ef_search = 100",
        )
        for label, (user, _) in users.items():
            picks = bench.sample(zlib.crc32(label.encode()))
            for name, st in (
                ("halfvec_hnsw", settings),
                (
                    "halfvec_hnsw_max_scan_tuples=100000",
                    (*settings, "SET LOCAL hnsw.max_scan_tuples = 100000"),
                ),
            ):
                times, ids = await bench.timed(
                    lambda s, i, user=user, st=st: dense_variant(
                        s, user=user, vector=bench.vectors[i], settings=st, half=True
                    ),
                    picks,
                )
                by_share[label]["dense_variants"][name] = {
                    **summary_ms(times),
                    "recall@10": recall_at(ids, bench.exact[label]),
                }
            log(label, "halfvec", by_share[label]["dense_variants"]["halfvec_hnsw"])
        save(data_dir)
        import psycopg

        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
            conn.execute(f"DROP INDEX {HALFVEC_INDEX}")
    if args.covering:
        RESULTS["covering_index"] = build_index(url, COVERING_DDL, COVERING_INDEX)
        import psycopg

        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
            conn.execute("VACUUM ANALYZE chunk_terms")
        log("covering index", RESULTS["covering_index"])
        for label, (user, _) in users.items():
            from app.search import retrieval
            from app.search.retrieval import RetrievalParams

            scope = scope_for(user)
            picks = bench.sample(zlib.crc32(label.encode()))

            async def lexical(session, i, scope=scope):
                return await retrieval.lexical_candidates(
                    session, scope=scope, query=bench.queries[i], params=RetrievalParams()
                )

            times, _ = await bench.timed(lexical, picks)
            by_share[label]["lexical_covering_index"] = summary_ms(times)
            plans[label]["lexical_covering"] = await explain(bench, "lexical", user, 0)
            log(label, "covering", by_share[label]["lexical_covering_index"])
        save(data_dir)
        if not args.keep_covering:
            with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
                conn.execute(f"DROP INDEX {COVERING_INDEX}")
    if args.index_variants:
        variants = {}
        for m, efc in args.index_variants:
            ddl = HNSW_DDL.replace(
                "m = 16, ef_construction = 64", f"m = {m}, ef_construction = {efc}"
            )
            variants[f"m={m},ef_construction={efc}"] = build_index(url, ddl, HNSW_INDEX)
            for label, (user, _) in users.items():
                from app.search import retrieval
                from app.search.retrieval import RetrievalParams

                scope = scope_for(user)
                picks = bench.sample(zlib.crc32(label.encode()))

                async def dense(session, i, scope=scope):
                    return [
                        c.chunk_id
                        for c in await retrieval.dense_candidates(
                            session,
                            scope=scope,
                            query_vector=bench.vectors[i],
                            params=RetrievalParams(),
                        )
                    ]

                times, ids = await bench.timed(dense, picks)
                _, exact_ids = await bench.timed(
                    lambda s, i, user=user: dense_variant(
                        s, user=user, vector=bench.vectors[i], exact=True
                    ),
                    picks,
                    warmup=0,
                )
                variants[f"m={m},ef_construction={efc}"][label] = {
                    **summary_ms(times),
                    "recall@10": recall_at(ids, exact_ids),
                }
            log("index variant", m, efc, variants[f"m={m},ef_construction={efc}"])
            RESULTS["index_variants"] = variants
            save(data_dir)
        build_index(url, HNSW_DDL, HNSW_INDEX)  # back to the migration's definition
    await bench.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200, help="queries per user size")
    parser.add_argument("--api-full-queries", type=int, default=50)
    parser.add_argument(
        "--embed-sentences",
        type=int,
        default=0,
        help="embed only the abstracts holding this many sentences (0: all of SciFact)",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse a loaded database")
    parser.add_argument("--halfvec", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--covering", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--keep-covering", action="store_true")
    parser.add_argument(
        "--index-variant",
        dest="index_variants",
        action="append",
        default=[],
        type=lambda s: tuple(int(x) for x in s.split(",")),
        help="m,ef_construction (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--only-user-vector",
        action="store_true",
        help="only the per-user strategy phase (covering vector btree index)",
    )
    parser.add_argument("--keep-user-vector", action="store_true")
    parser.add_argument(
        "--shared-docs",
        type=int,
        default=300,
        help="documents of each tenant in the shared case's collections (at most half)",
    )
    parser.add_argument(
        "--only-shared",
        action="store_true",
        help="only the shared case (a reader's own documents + three tenants' collections)",
    )
    parser.add_argument(
        "--cold",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first measure each tenant's first pass from a cold cache (restart, drop caches)",
    )
    parser.add_argument("--only-cold", action="store_true", help="only the cold first passes")
    parser.add_argument(
        "--only-api",
        action="store_true",
        help="only the /api/v1/search pass (paired with the bare SQL)",
    )
    args = parser.parse_args()

    from app.core import migrate
    from app.core.embedded_pg import ensure_database

    if args.only_user_vector:
        RESULTS_NAME[0] = "results-user-vector.json"
    if args.only_api:
        RESULTS_NAME[0] = "results-api.json"
    if args.only_shared:
        RESULTS_NAME[0] = "results-shared.json"
    if args.only_cold:
        RESULTS_NAME[0] = "results-cold.json"
    temporary = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="docchat-scale-"))
    started = time.perf_counter()
    server, admin = common.start_postgres(data_dir)
    url = ensure_database(admin, "docchat")
    marker = data_dir / f"loaded-{args.chunks}.json"
    if marker.exists():
        timings = json.loads(marker.read_text())
        log("reusing loaded database", timings)
        started_migrations = time.perf_counter()
        migrate.upgrade(url)  # the code's newer migrations, if any, run on the loaded rows
        RESULTS["migrate_s"] = round(time.perf_counter() - started_migrations, 1)
    else:
        migrate.upgrade(url)
        timings = load_data(url, args.chunks, args.users, args.embed_sentences, args.seed)
        marker.write_text(json.dumps(timings))
    RESULTS["tenant_indexes"] = build_tenant_indexes(url)
    RESULTS.update(chunks=args.chunks, load=timings, sizes=table_sizes(url))
    RESULTS["pg_settings"] = common.pg_settings(
        url,
        [
            "server_version",
            "shared_buffers",
            "work_mem",
            "jit",
            "random_page_cost",
            "maintenance_work_mem",
            "max_parallel_workers_per_gather",
        ],
    )
    RESULTS["pgvector"] = None
    import psycopg

    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        RESULTS["pgvector"] = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).fetchone()[0]
    save(data_dir)
    log("sizes", RESULTS["sizes"])
    asyncio.run(measure(args, url, data_dir, server))
    if args.only_api:
        print(json.dumps({"chunks": args.chunks, "api": RESULTS["api"]}))
        return
    if args.only_cold:
        if temporary:
            server.cleanup()
            shutil.rmtree(data_dir, ignore_errors=True)
        print(json.dumps({"chunks": args.chunks, "cold": cold_summary(RESULTS["cold"])}))
        return
    if args.only_shared:
        summary = {"chunks": args.chunks, "shared": shared_summary(RESULTS["shared"])}
        if temporary:
            server.cleanup()
            shutil.rmtree(data_dir, ignore_errors=True)
        print(json.dumps(summary))
        return
    if args.only_user_vector:
        out = RESULTS["user_vector_strategy"]
        print(
            json.dumps(
                {
                    "chunks": args.chunks,
                    "user_vector_index": out["index"],
                    **{
                        k: {m: v[m] for m in v if m != "plan_app_dense"}
                        for k, v in out.items()
                        if k != "index"
                    },
                }
            )
        )
        return

    detail = RESULTS["by_user_share_detail"]
    api = RESULTS["api"]
    by_share = {}
    for label, d in detail.items():
        api_p95 = api[label]["precomputed"]["p95_ms"]
        paired = api[label].get("paired_overhead", {})
        by_share[label] = {
            "user_chunks": d["user_chunks"],
            "sql_p50_ms": d["sql"]["p50_ms"],
            "sql_p95_ms": d["sql"]["p95_ms"],
            "sql_p99_ms": d["sql"]["p99_ms"],
            "sql_first_pass_p95_ms": d["sql_first_pass"]["p95_ms"],
            "api_p95_ms": api_p95,
            "api_overhead_p50_ms": paired.get("p50_ms"),  # paired per query: api - sql
            "api_overhead_p95_ms": paired.get("p95_ms"),
            "api_full_p95_ms": api[label]["real_embedder"]["p95_ms"],
            "recall@10": d["recall@10"],
            "dense_p95_ms": d["dense"]["p95_ms"],
            "lexical_p95_ms": d["lexical"]["p95_ms"],
            "exact_dense_p95_ms": d["dense_exact"]["p95_ms"],
        }
    final = {
        "chunks": args.chunks,
        "index_build_s": timings["index_build_s"],
        "index_mb": RESULTS["sizes"].get(f"{HNSW_INDEX}_mb"),
        "tenant_indexes": RESULTS["tenant_indexes"],
        "by_user_share": by_share,
        "shared": shared_summary(RESULTS["shared"]),
        "cold": cold_summary(RESULTS.get("cold", {})),
        "embed_query_p95_ms": api["embed_query"]["p95_ms"],
        "total_s": round(time.perf_counter() - started, 1),
    }
    RESULTS["final"] = final
    save(data_dir)
    (data_dir / f"final-{args.chunks}.json").write_text(json.dumps(final))
    if temporary:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(final))


if __name__ == "__main__":
    main()
