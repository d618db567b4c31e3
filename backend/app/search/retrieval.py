"""Hybrid retrieval: dense (pgvector HNSW, cosine) + BM25 over Postgres postings, fused.

The scope (owners, documents) is part of every SQL statement; nothing is filtered afterwards
in Python. One owner's partition runs the tuned single-tenant statements; several owners'
partitions (shared collections) run each large owner's HNSW walk apart, one exact scan for
the rest, and BM25 with statistics over exactly the scope's chunks.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.search import queries
from app.search.passages import Passage

# linear: (1 - w) * cosine + w * BM25 / (the query's maximum BM25), every candidate of either
#         retriever scored by both (tuned on BEIR SciFact train: see docs/benchmarks.md);
# convex: the same weights over min-max normalised scores of each retriever's own list;
# rrf:    reciprocal rank fusion.
Fusion = Literal["linear", "convex", "rrf"]


@dataclass(frozen=True)
class RetrievalParams:
    candidates: int = 100  # per retriever, before fusion
    fusion: Fusion = "linear"
    rrf_k: int = 60
    lexical_weight: float = 0.5  # share of BM25 in the fused score
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    # A filtered walk of the shared HNSW graph keeps only the tenant's share of the rows it
    # visits, so the candidate list grows as that share shrinks: ef_search_per_share / share,
    # within [ef_search, max_ef_search] (1,000 is pgvector's limit). A tenant with its own
    # index (app.documents.indexing) walks it with ef_search. See docs/benchmarks.md,
    # "Search at scale".
    ef_search: int = 100
    ef_search_per_share: float = 100.0
    max_ef_search: int = 1000
    min_similarity: float = 0.25  # cosine below which a passage is not semantically related
    min_keyword_coverage: float = 0.5  # or: at least this share of the query's keywords
    # A user with at most this many chunks, and at most this share of the table, is searched
    # exactly (recall 1.0): at 1M chunks that beats a filtered HNSW walk for a 10k-chunk user
    # (28 vs 69 ms); when the user owns most of the table, the unfiltered HNSW walk is faster.
    exact_scan_max_chunks: int = 20_000
    exact_scan_max_share: float = 0.2
    # BM25 costs ~0.35 us per posting of the query's lexemes in the tenant; above this many,
    # the commonest lexemes (together at most lexical_pruned_share of the largest possible
    # score) only score the lexical_pool best candidates of the others. At 1M chunks, for a
    # 100,000-chunk tenant: see docs/benchmarks.md, "Search at scale".
    lexical_exact_max_postings: int = 20_000
    lexical_pruned_share: float = 0.25
    lexical_pool: int = 300


@dataclass
class Candidate:
    chunk_id: int
    bm25_max: float = 0.0  # the query's largest possible BM25 (sum of idf * (k1 + 1))
    similarity: float | None = None  # cosine similarity, dense retriever
    bm25: float | None = None
    keyword_coverage: float = 0.0  # share of the query's lexemes found in the chunk
    dense_rank: int | None = None
    lexical_rank: int | None = None
    score: float = 0.0


ReadableDocuments = Mapping[uuid.UUID, Collection[uuid.UUID] | None]
"""Per owner: None for every document of theirs, or the ids of the documents to read (an
empty collection reads nothing of theirs)."""


@dataclass(frozen=True)
class SharedCollections:
    """The documents of ``owner_ids`` that are in any of ``collection_ids`` (a reader's shared
    collections, read in SQL from collection_documents: however many documents they hold,
    no ids are handed around)."""

    collection_ids: Sequence[uuid.UUID]
    owner_ids: Sequence[uuid.UUID]


@dataclass(frozen=True)
class SearchScope:
    """The chunks one search reads, in one of two forms.

    - ``user_id`` (+ ``document_ids``): one owner's corpus, narrowed to ``document_ids``;
      BM25 statistics are those of the owner's whole corpus (a user searching their own
      documents). Runs the tuned single-tenant statements.
    - ``owners``: for each owner, all their documents (None) or the listed ones, and the
      documents of ``collections``; BM25 statistics are those of exactly these chunks.
      ``{owner: None}`` alone is the first form without ``document_ids``, and runs the same
      statements.
    """

    user_id: uuid.UUID | None = None
    document_ids: Sequence[uuid.UUID] | None = None
    model_id: str = ""
    dimensions: int = 384
    owners: ReadableDocuments | None = None
    collections: SharedCollections | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.owners is None):
            raise ValueError("a search scope has either user_id or owners")
        if self.owners is not None and self.document_ids is not None:
            raise ValueError("owners list their documents themselves")
        if self.collections is not None and self.owners is None:
            raise ValueError("collections are read with owners (an empty mapping for none)")


@dataclass(frozen=True)
class _Partitions:
    """A scope over several owners, as the bind parameters of queries.ScopeShape."""

    whole_owner_ids: tuple[uuid.UUID, ...]
    listed: tuple[tuple[uuid.UUID, tuple[uuid.UUID, ...]], ...]  # (owner, its document ids)
    collection_ids: tuple[uuid.UUID, ...] = ()
    collection_owner_ids: tuple[uuid.UUID, ...] = ()  # never a whole owner

    @property
    def empty(self) -> bool:
        return not (self.whole_owner_ids or self.listed or self.collection_owner_ids)

    @property
    def shape(self) -> queries.ScopeShape:
        return queries.ScopeShape(
            whole_owners=bool(self.whole_owner_ids),
            listed_documents=bool(self.listed),
            collections=bool(self.collection_owner_ids),
        )

    def bind(self) -> dict[str, object]:
        listed_owners = [owner for owner, _ in self.listed]
        owners = dict.fromkeys([*self.whole_owner_ids, *listed_owners, *self.collection_owner_ids])
        values: dict[str, object] = {
            "owner_ids": list(owners),
            "whole_owner_ids": list(self.whole_owner_ids),
        }
        if self.listed:
            values["document_ids"] = [d for _, documents in self.listed for d in documents]
        if self.collection_owner_ids:
            values["collection_ids"] = list(self.collection_ids)
            values["collection_owner_ids"] = list(self.collection_owner_ids)
        return values

    def without_whole(self, owners: Collection[uuid.UUID]) -> _Partitions:
        kept = tuple(owner for owner in self.whole_owner_ids if owner not in owners)
        return dataclasses.replace(self, whole_owner_ids=kept)


def _one_owner(scope: SearchScope) -> SearchScope | None:
    """The scope in its single-owner form, or None when it reads from several partitions."""
    if scope.owners is None:
        return scope
    if len(scope.owners) == 1 and not _partitions(scope).collection_owner_ids:
        ((owner, documents),) = scope.owners.items()
        if documents is None:
            return dataclasses.replace(scope, user_id=owner, owners=None, collections=None)
    return None


def _partitions(scope: SearchScope) -> _Partitions:
    owners = scope.owners or {}
    whole = tuple(sorted(o for o, documents in owners.items() if documents is None))
    collection_ids: tuple[uuid.UUID, ...] = ()
    collection_owners: tuple[uuid.UUID, ...] = ()
    if scope.collections is not None and scope.collections.collection_ids:
        collection_owners = tuple(sorted(set(scope.collections.owner_ids) - set(whole)))
        collection_ids = tuple(sorted(set(scope.collections.collection_ids)))
    return _Partitions(
        whole_owner_ids=whole,
        listed=tuple(
            sorted(
                (o, tuple(sorted(set(documents)))) for o, documents in owners.items() if documents
            )
        ),
        collection_ids=collection_ids if collection_owners else (),
        collection_owner_ids=collection_owners,
    )


@dataclass(frozen=True)
class _Tenant:
    chunks: int
    share: float  # of all rows in chunks, from the planner's estimate
    own_index: bool = False  # a valid HNSW index over this tenant's rows alone


def _tenant(chunks: int | None, table_rows: float | None, own_index: bool | None) -> _Tenant:
    count, rows = int(chunks or 0), float(table_rows or 0)
    # reltuples is an estimate, unknown (-1 or 0) before the first ANALYZE of a small table.
    share = count / rows if rows > 0 else 1.0
    return _Tenant(chunks=count, share=min(share, 1.0), own_index=bool(own_index))


async def _tenant_size(session: AsyncSession, scope: SearchScope) -> _Tenant:
    assert scope.user_id is not None
    row = (
        await session.execute(
            queries.TENANT_SIZE,
            {
                "user_id": scope.user_id,
                "index_name": queries.tenant_vector_index_name(scope.user_id, scope.model_id),
            },
        )
    ).one()
    return _tenant(row[0], row[1], row[2])


async def _tenant_sizes(
    session: AsyncSession, *, owners: Sequence[uuid.UUID], model_id: str
) -> dict[uuid.UUID, _Tenant]:
    rows = await session.execute(
        queries.TENANT_SIZES,
        {
            "owner_ids": list(owners),
            "index_names": [queries.tenant_vector_index_name(o, model_id) for o in owners],
        },
    )
    return {row.owner_id: _tenant(row.chunk_count, row.table_rows, row.own_index) for row in rows}


def _searched_exactly(tenant: _Tenant, params: RetrievalParams) -> bool:
    return (
        tenant.chunks <= params.exact_scan_max_chunks
        and tenant.share <= params.exact_scan_max_share
    )


def _ef_search(tenant: _Tenant, params: RetrievalParams) -> int:
    share = 1.0 if tenant.own_index else max(tenant.share, 1e-6)
    wanted = params.ef_search_per_share / share
    return int(min(params.max_ef_search, max(params.ef_search, wanted)))


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


async def dense_candidates(
    session: AsyncSession, *, scope: SearchScope, query_vector: np.ndarray, params: RetrievalParams
) -> list[Candidate]:
    one = _one_owner(scope)
    if one is None:
        return await _dense_over_owners(
            session, scope=scope, query_vector=query_vector, params=params
        )
    return await _dense_one_owner(session, scope=one, query_vector=query_vector, params=params)


async def _dense_over_owners(
    session: AsyncSession, *, scope: SearchScope, query_vector: np.ndarray, params: RetrievalParams
) -> list[Candidate]:
    """Each whole owner too large for an exact scan walks their HNSW index (their own or the
    shared one, as in _dense_one_owner), one statement each; every other partition is in one
    exact scan (listed documents always: as in the single-owner form). Merged by distance."""
    partitions = _partitions(scope)
    if partitions.empty:
        return []
    dims, vector = int(scope.dimensions), _vector_literal(query_vector)
    bind: dict[str, object] = {"query": vector, "model": scope.model_id, "limit": params.candidates}
    tenants = (
        await _tenant_sizes(session, owners=partitions.whole_owner_ids, model_id=scope.model_id)
        if partitions.whole_owner_ids
        else {}
    )
    walked = [o for o, tenant in tenants.items() if not _searched_exactly(tenant, params)]
    found: list[tuple[float, int]] = []
    for owner in walked:
        ef_search = str(_ef_search(tenants[owner], params))
        await session.execute(queries.HNSW_SCAN, {"ef_search": ef_search})
        statement = queries.nearest_chunks(dims, by_document=False)
        rows = await session.execute(statement, {**bind, "user_id": owner})
        found.extend((float(row.distance), row.id) for row in rows)
    scanned = partitions.without_whole(walked)
    if not scanned.empty:
        await session.execute(queries.EXACT_SCAN_ON)
        statement = queries.nearest_scoped_chunks(dims, scanned.shape)
        rows = await session.execute(statement, {**bind, **scanned.bind()})
        found.extend((float(row.distance), row.id) for row in rows)
        await session.execute(queries.EXACT_SCAN_OFF)
    found.sort()
    return [
        Candidate(chunk_id=chunk_id, similarity=1.0 - distance, dense_rank=rank)
        for rank, (distance, chunk_id) in enumerate(found[: params.candidates])
    ]


async def _dense_one_owner(
    session: AsyncSession, *, scope: SearchScope, query_vector: np.ndarray, params: RetrievalParams
) -> list[Candidate]:
    dims = int(scope.dimensions)
    tenant = await _tenant_size(session, scope)
    exact = scope.document_ids is not None or _searched_exactly(tenant, params)
    if exact:
        await session.execute(queries.EXACT_SCAN_ON)
    else:
        await session.execute(queries.HNSW_SCAN, {"ef_search": str(_ef_search(tenant, params))})
    by_document = bool(scope.document_ids)
    statement = queries.nearest_chunks(dims, by_document=by_document)
    bind: dict[str, object] = {
        "query": _vector_literal(query_vector),
        "user_id": scope.user_id,
        "model": scope.model_id,
        "limit": params.candidates,
    }
    if scope.document_ids:
        bind["document_ids"] = list(scope.document_ids)
    rows = (await session.execute(statement, bind)).all()
    if exact:
        await session.execute(queries.EXACT_SCAN_OFF)
    return [
        Candidate(chunk_id=row.id, similarity=1.0 - float(row.distance), dense_rank=rank)
        for rank, row in enumerate(rows)
    ]


@dataclass(frozen=True)
class _Term:
    lexeme: str
    df: int
    idf: float

    def max_score(self, params: RetrievalParams) -> float:
        """The most this lexeme can add to a chunk's BM25 (its tf factor tends to k1 + 1)."""
        return self.idf * (params.bm25_k1 + 1)


def _pruned_lexemes(terms: Sequence[_Term], params: RetrievalParams) -> set[str]:
    """The query's most common lexemes that do not generate candidates (they still score them).

    Only when the query has more than ``lexical_exact_max_postings`` postings in the tenant:
    the commonest lexemes hold most of the postings and, having the lowest idf, can add at
    most ``lexical_pruned_share`` of the query's largest possible score together."""
    if sum(term.df for term in terms) <= params.lexical_exact_max_postings:
        return set()
    bound = {term.lexeme: term.max_score(params) for term in terms}
    budget = params.lexical_pruned_share * sum(bound.values())
    pruned: set[str] = set()
    spent = 0.0
    for term in sorted(terms, key=lambda t: (-t.df, t.lexeme)):
        if len(pruned) + 1 >= len(terms) or spent + bound[term.lexeme] >= budget:
            break
        pruned.add(term.lexeme)
        spent += bound[term.lexeme]
    return pruned


async def lexical_candidates(
    session: AsyncSession,
    *,
    scope: SearchScope,
    query: str,
    params: RetrievalParams,
    include_chunk_ids: Sequence[int] = (),
) -> list[Candidate]:
    """BM25 from postings (index-only range scans of the user's postings per query lexeme).

    Returns the top ``params.candidates`` chunks, ranked, and the ``include_chunk_ids`` that
    match a query lexeme but rank below them (``lexical_rank`` None), so fusion can score
    dense candidates by BM25 too. N, average length and document frequencies are those of
    the owner's whole corpus in the single-owner form (also when ``document_ids`` narrow the
    search), of exactly the scope's chunks for ``owners``. Every returned score is the exact
    BM25; in the single-owner form, for a query with very many postings the candidates come
    from its rarer lexemes (``_pruned_lexemes``), the top ``lexical_pool`` of them then
    scored on all lexemes."""
    one = _one_owner(scope)
    if one is None:
        return await _lexical_over_owners(
            session, scope=scope, query=query, params=params, include_chunk_ids=include_chunk_ids
        )
    by_document = bool(one.document_ids)
    scope_bind: dict[str, object] = {"user_id": one.user_id}
    if one.document_ids:
        scope_bind["document_ids"] = list(one.document_ids)
    rows = (await session.execute(queries.QUERY_TERMS, {"query": query, **scope_bind})).all()
    if not rows:
        return []
    n, avgdl, query_lexemes = float(rows[0].n), float(rows[0].avgdl), len(rows)
    terms = [
        _Term(row.lexeme, int(row.df), math.log(1 + (n - row.df + 0.5) / (row.df + 0.5)))
        for row in rows
        if row.df > 0
    ]
    if not terms:
        return []
    pruned = _pruned_lexemes(terms, params)
    statement = queries.bm25_candidates(pruned=bool(pruned), by_document=by_document)
    bind: dict[str, object] = {
        "lexemes": [term.lexeme for term in terms],
        "idfs": [term.idf for term in terms],
        "generates": [term.lexeme not in pruned for term in terms],
        "k1": params.bm25_k1,
        "b": params.bm25_b,
        "avgdl": avgdl,
        "pool": params.lexical_pool if pruned else params.candidates,
        "limit": params.candidates,
        "include_ids": list(include_chunk_ids),
        **scope_bind,
    }
    found = (await session.execute(statement, bind)).all()
    max_score = sum(term.max_score(params) for term in terms)
    return [
        Candidate(
            chunk_id=row.id,
            bm25=float(row.score),
            bm25_max=max_score,
            keyword_coverage=row.matched / query_lexemes,
            lexical_rank=None if row.rank is None else int(row.rank),
        )
        for row in found
    ]


async def _lexical_over_owners(
    session: AsyncSession,
    *,
    scope: SearchScope,
    query: str,
    params: RetrievalParams,
    include_chunk_ids: Sequence[int],
) -> list[Candidate]:
    """lexical_candidates over several owners' partitions: one statement (queries.scoped_bm25)
    reads the scope's postings once for the statistics and the scores, and is exact."""
    partitions = _partitions(scope)
    if partitions.empty:
        return []
    found = await session.execute(
        queries.scoped_bm25(partitions.shape),
        {
            "query": query,
            "k1": params.bm25_k1,
            "b": params.bm25_b,
            "limit": params.candidates,
            "include_ids": list(include_chunk_ids),
            **partitions.bind(),
        },
    )
    return [
        Candidate(
            chunk_id=row.id,
            bm25=float(row.score),
            bm25_max=float(row.bm25_max),
            keyword_coverage=row.matched / row.lexemes,
            lexical_rank=None if row.rank is None else int(row.rank),
        )
        for row in found
    ]


async def similarities(
    session: AsyncSession,
    *,
    scope: SearchScope,
    query_vector: np.ndarray,
    chunk_ids: Sequence[int],
) -> dict[int, float]:
    """Cosine similarity of given chunks (primary-key lookups), for lexical-only candidates."""
    if not chunk_ids:
        return {}
    one = _one_owner(scope)
    if one is not None:
        statement = queries.chunk_distances(int(scope.dimensions))
        scope_bind: dict[str, object] = {"user_id": one.user_id}
    else:
        partitions = _partitions(scope)
        statement = queries.scoped_chunk_distances(int(scope.dimensions), partitions.shape)
        scope_bind = partitions.bind()
    rows = await session.execute(
        statement,
        {
            "query": _vector_literal(query_vector),
            **scope_bind,
            "model": scope.model_id,
            "ids": list(chunk_ids),
        },
    )
    return {row.id: 1.0 - float(row.distance) for row in rows}


def _min_max(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    span = high - low
    return {key: (value - low) / span if span > 0 else 1.0 for key, value in values.items()}


def fuse(
    dense: list[Candidate], lexical: list[Candidate], params: RetrievalParams
) -> list[Candidate]:
    merged: dict[int, Candidate] = {}
    for candidate in dense:
        merged[candidate.chunk_id] = Candidate(
            chunk_id=candidate.chunk_id,
            similarity=candidate.similarity,
            dense_rank=candidate.dense_rank,
        )
    in_lexical_list = [
        c for c in lexical if c.lexical_rank is not None and c.lexical_rank < params.candidates
    ]
    for candidate in lexical if params.fusion == "linear" else in_lexical_list:
        entry = merged.setdefault(candidate.chunk_id, Candidate(chunk_id=candidate.chunk_id))
        entry.bm25 = candidate.bm25
        entry.bm25_max = candidate.bm25_max
        entry.keyword_coverage = candidate.keyword_coverage
        entry.lexical_rank = candidate.lexical_rank
    weight = params.lexical_weight
    if params.fusion == "linear":
        for entry in merged.values():
            bm25 = (entry.bm25 or 0.0) / entry.bm25_max if entry.bm25_max > 0 else 0.0
            entry.score = (1 - weight) * (entry.similarity or 0.0) + weight * bm25
    elif params.fusion == "rrf":
        for entry in merged.values():
            if entry.dense_rank is not None:
                entry.score += (1 - weight) / (params.rrf_k + entry.dense_rank + 1)
            if entry.lexical_rank is not None:
                entry.score += weight / (params.rrf_k + entry.lexical_rank + 1)
    else:
        dense_norm = _min_max({c.chunk_id: c.similarity or 0.0 for c in dense})
        lexical_norm = _min_max({c.chunk_id: c.bm25 or 0.0 for c in in_lexical_list})
        for entry in merged.values():
            entry.score = (1 - weight) * dense_norm.get(
                entry.chunk_id, 0.0
            ) + weight * lexical_norm.get(entry.chunk_id, 0.0)
    return sorted(merged.values(), key=lambda c: (-c.score, c.chunk_id))


async def load_passages(
    session: AsyncSession, *, scope: SearchScope, ranked: Sequence[Candidate]
) -> list[Passage]:
    if not ranked:
        return []
    one = _one_owner(scope)
    scope_bind: dict[str, object]
    if one is not None:
        statement, scope_bind = queries.PASSAGES, {"user_id": one.user_id}
    else:
        partitions = _partitions(scope)
        statement, scope_bind = queries.scoped_passages(partitions.shape), partitions.bind()
    rows = (
        await session.execute(statement, {**scope_bind, "ids": [c.chunk_id for c in ranked]})
    ).all()
    by_id = {row.id: row for row in rows}
    passages = []
    for candidate in ranked:
        row = by_id.get(candidate.chunk_id)
        if row is None:
            continue
        passages.append(
            Passage(
                chunk_id=row.id,
                document_id=row.document_id,
                filename=row.filename,
                content_type=row.content_type,
                page_start=row.page_start,
                page_end=row.page_end,
                heading_path=list(row.heading_path or []),
                text=row.text,
                char_start=row.char_start,
                char_end=row.char_end,
                score=candidate.score,
                similarity=candidate.similarity,
                bm25=candidate.bm25,
                keyword_coverage=candidate.keyword_coverage,
                spans=row.spans,
                sheet=row.sheet,
                row_start=row.row_start,
                row_end=row.row_end,
            )
        )
    return passages


async def hybrid_search(
    session: AsyncSession,
    *,
    scope: SearchScope,
    query: str,
    query_vector: np.ndarray,
    k: int,
    params: RetrievalParams,
) -> list[Passage]:
    """Top-k passages of the scope for the query. Runs in the caller's transaction."""
    dense = await dense_candidates(session, scope=scope, query_vector=query_vector, params=params)
    linear = params.fusion == "linear"
    lexical = await lexical_candidates(
        session,
        scope=scope,
        query=query,
        params=params,
        include_chunk_ids=[c.chunk_id for c in dense] if linear else (),
    )
    if linear:
        # Lexical-only candidates get their true cosine, so every candidate has both scores.
        seen = {c.chunk_id for c in dense}
        missing = [c.chunk_id for c in lexical if c.chunk_id not in seen]
        found = await similarities(
            session, scope=scope, query_vector=query_vector, chunk_ids=missing
        )
        dense = dense + [
            Candidate(chunk_id=chunk_id, similarity=similarity)
            for chunk_id, similarity in found.items()
        ]
    ranked = fuse(dense, lexical, params)[:k]
    return await load_passages(session, scope=scope, ranked=ranked)


def is_relevant(passage: Passage, params: RetrievalParams) -> bool:
    """A passage is evidence when it is semantically close or holds most of the query's
    keywords."""
    if passage.keyword_coverage >= params.min_keyword_coverage:
        return True
    return passage.similarity is not None and passage.similarity >= params.min_similarity
