"""Search over several owners' partitions (shared collections): BM25 against a BM25 computed
in Python over exactly the readable chunks, dense candidates against a brute-force scan of
them, and nothing outside the scope in any result."""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections import Counter
from collections.abc import Collection

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.factory import get_embedder
from app.search.retrieval import (
    Candidate,
    ReadableDocuments,
    RetrievalParams,
    SearchScope,
    SharedCollections,
    _one_owner,
    _pruned_lexemes,
    _Term,
    dense_candidates,
    hybrid_search,
    lexical_candidates,
)
from app.search.service import search
from tests.conftest import register, upload, wait_until_settled

SECTIONS = {
    "rivers": "The river floods in spring when snow melts; river ice jams make floods worse.",
    "delta": "A river delta forms where sediment settles as the river slows at the sea.",
    "bread": "Sourdough bread rises slowly; the starter holds wild yeast and bacteria.",
    "oven": "Bake bread in a hot oven; steam in the oven gives the crust its shine.",
    "plains": "Flood plains store water; levees keep floods from towns along the river.",
    "yeast": "Yeast eats sugar and makes gas, so dough rises; cold slows the yeast.",
    "lake": "Lake ice forms in winter and melts in spring, feeding the river below.",
    "salt": "Salt tightens dough and slows yeast, and it flavours the bread.",
    "dams": "Dams hold spring meltwater back; a river below a dam rarely floods.",
    "glacier": "Glacier ice feeds rivers all summer; floods follow a warm spell.",
    "starter": "Feed the starter flour and water daily; yeast and bacteria thrive in it.",
    "ferry": "The ferry crosses the river twice a day unless ice blocks the landing.",
}
# A private document full of the query's words: its postings would change N, df and avgdl
# of its owner's whole corpus, so a scope without it gets other scores than the owner's.
FLOODED = ["rivers", "plains", "glacier", "dams", "rivers", "lake", "ferry", "plains"]

DOCUMENTS = {  # owner -> document name -> sections
    "reader": {"r1": ["rivers", "bread", "dams"], "r2": ["yeast", "oven", "lake"]},
    "a": {"a1": ["delta", "salt", "ferry", "rivers", "glacier", "yeast"], "a2": FLOODED},
    "b": {"b1": ["glacier", "starter"], "b2": ["plains", "yeast", "bread"], "b3": FLOODED},
    "c": {"c1": ["lake", "oven", "dams"], "c2": FLOODED},
}
QUERY = "why do river floods come with spring ice, and does yeast care?"

# name -> owner -> None (every document of theirs) or the names of the readable ones
SCOPES: dict[str, dict[str, list[str] | None]] = {
    "single owner, all documents": {"reader": None},
    "own documents + shared subsets": {"reader": None, "a": ["a1"], "b": ["b1", "b2"]},
    "collection of three other owners": {"a": ["a1"], "b": ["b2"], "c": ["c1"]},
    "document ids of two owners": {"reader": ["r1"], "b": ["b1"]},
    "documents of one other owner": {"a": ["a1"]},
}

EXACT = RetrievalParams(candidates=4)
PRUNING = RetrievalParams(
    candidates=4, lexical_exact_max_postings=0, lexical_pruned_share=0.5, lexical_pool=1000
)


def _markdown(names: list[str]) -> bytes:
    return "\n\n".join(f"# {name.title()}\n\n{SECTIONS[name]}" for name in names).encode()


@dataclasses.dataclass
class Corpus:
    users: dict[str, uuid.UUID]
    documents: dict[str, uuid.UUID]  # name -> id
    owner_of: dict[str, str]  # document name -> owner name
    collections: dict[str, uuid.UUID] = dataclasses.field(default_factory=dict)  # scope name

    def readable(self, scope: dict[str, list[str] | None]) -> ReadableDocuments:
        return {
            self.users[owner]: None if names is None else [self.documents[n] for n in names]
            for owner, names in scope.items()
        }

    def forms(self, name: str, scope: dict[str, list[str] | None]) -> dict[str, dict[str, object]]:
        """The SearchScope arguments that read the scope: its listed documents as ids, as the
        scope's collection (which also holds a document of an owner outside the scope), and
        both at once (the first listed owner's ids, and the collection)."""
        whole = {self.users[o]: None for o, names in scope.items() if names is None}
        listed = [o for o, names in scope.items() if names is not None]
        forms: dict[str, dict[str, object]] = {"ids": {"owners": self.readable(scope)}}
        if listed:
            collected = SharedCollections(
                collection_ids=[self.collections[name]],
                owner_ids=[self.users[o] for o in listed],
            )
            forms["collections"] = {"owners": whole, "collections": collected}
            first = listed[0]
            forms["ids and collections"] = {
                "owners": {**whole, **self.readable({first: scope[first]})},
                "collections": collected,
            }
        return forms

    def document_ids(self, scope: dict[str, list[str] | None]) -> set[uuid.UUID]:
        return {
            self.documents[name]
            for owner, names in scope.items()
            for name in (names if names is not None else DOCUMENTS[owner])
        }

    def owners_documents(self, scope: dict[str, list[str] | None]) -> set[uuid.UUID]:
        """Every document of the scope's owners, readable or not."""
        return {self.documents[name] for owner in scope for name in DOCUMENTS[owner]}


@pytest.fixture
async def corpus(worker_app: FastAPI, worker_client: httpx.AsyncClient) -> Corpus:
    users, documents, owner_of = {}, {}, {}
    for owner, docs in DOCUMENTS.items():
        headers = await register(worker_client)
        me = (await worker_client.get("/api/v1/auth/me", headers=headers)).json()
        users[owner] = uuid.UUID(me["id"])
        files = [
            (f"{name}.md", _markdown(sections), "text/markdown") for name, sections in docs.items()
        ]
        response = await upload(worker_client, headers, *files)
        assert response.status_code == 202, response.text
        for item in response.json():
            settled = await wait_until_settled(worker_client, headers, item["id"])
            assert settled["status"] == "ready", settled
            name = item["filename"].removesuffix(".md")
            documents[name] = uuid.UUID(item["id"])
            owner_of[name] = owner
    corpus = Corpus(users, documents, owner_of)
    async with worker_app.state.sessionmaker() as session:
        for name, spec in SCOPES.items():
            outsider = next(o for o in DOCUMENTS if o not in spec)
            names = [n for names in spec.values() if names is not None for n in names]
            if names:
                names.append(next(iter(DOCUMENTS[outsider])))
                corpus.collections[name] = await _collection(session, corpus, names)
        # a collection outside every scope, holding the unreadable a2
        await _collection(session, corpus, ["a2", "r1"])
        await session.commit()
    return corpus


async def _collection(session: AsyncSession, corpus: Corpus, names: list[str]) -> uuid.UUID:
    collection_id = uuid.uuid4()
    await session.execute(
        text("INSERT INTO collections (id, owner_id, name) VALUES (:id, :owner, 'Scope')"),
        {"id": collection_id, "owner": corpus.users["c"]},
    )
    await session.execute(
        text(
            "INSERT INTO collection_documents (collection_id, document_id, owner_id) "
            "SELECT :id, d.id, d.user_id FROM documents d WHERE d.id = ANY(:documents)"
        ),
        {"id": collection_id, "documents": [corpus.documents[n] for n in names]},
    )
    return collection_id


@dataclasses.dataclass
class Reference:
    scores: dict[int, float]  # BM25 of every chunk that matches a query lexeme
    coverage: dict[int, float]
    lexemes: dict[int, set[str]]
    terms: list[_Term]
    max_score: float


async def _reference_bm25(
    session: AsyncSession, document_ids: Collection[uuid.UUID], params: RetrievalParams
) -> Reference:
    """BM25 over exactly the chunks of ``document_ids``, from their text: N counts every
    chunk (as the corpus statistics do), lengths and tf come from to_tsvector."""
    chunks = (
        await session.execute(
            text("SELECT id FROM chunks WHERE document_id = ANY(:ids)"),
            {"ids": list(document_ids)},
        )
    ).all()
    rows = (
        await session.execute(
            text(
                "SELECT c.id, t.lexeme, coalesce(array_length(t.positions, 1), 1) AS tf "
                "FROM chunks c, unnest(to_tsvector('english', "
                "array_to_string(c.heading_path, ' ') || ' ' || c.text)) AS t "
                "WHERE c.document_id = ANY(:ids)"
            ),
            {"ids": list(document_ids)},
        )
    ).all()
    query_terms = [
        row.lexeme
        for row in await session.execute(
            text("SELECT lexeme FROM unnest(to_tsvector('english', :q))"), {"q": QUERY}
        )
    ]
    tf: dict[int, Counter[str]] = {row.id: Counter() for row in chunks}
    for row in rows:
        tf[row.id][row.lexeme] += row.tf
    n = len(tf)
    lengths = {chunk: sum(counts.values()) for chunk, counts in tf.items()}
    avgdl = max(sum(lengths.values()) / n, 1.0)
    df = {term: sum(1 for counts in tf.values() if term in counts) for term in query_terms}
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in query_terms if df[t]}
    k1, b = params.bm25_k1, params.bm25_b
    ref = Reference(
        {}, {}, {}, [_Term(t, df[t], idf[t]) for t in idf], sum(idf.values()) * (k1 + 1)
    )
    for chunk, counts in tf.items():
        matched = {t for t in idf if t in counts}
        if matched:
            norm = k1 * (1 - b + b * lengths[chunk] / avgdl)
            ref.scores[chunk] = sum(
                idf[t] * counts[t] * (k1 + 1) / (counts[t] + norm) for t in matched
            )
            ref.coverage[chunk] = len(matched) / len(query_terms)
            ref.lexemes[chunk] = matched
    return ref


def _expected(
    ref: Reference, params: RetrievalParams, also: list[int]
) -> tuple[list[int], set[int]]:
    """What lexical_candidates ranks, and every chunk it returns: candidates come from the
    lexemes that are not pruned (all of them unpruned), the best ``lexical_pool`` of them
    (``candidates`` unpruned) plus the ``also`` chunks that match are scored on every
    lexeme, and the best ``candidates`` of those are ranked."""
    pruned = _pruned_lexemes(ref.terms, params)
    generated = {chunk for chunk, lexemes in ref.lexemes.items() if lexemes - pruned}
    pool_size = params.lexical_pool if pruned else params.candidates
    pool = set(sorted(generated, key=lambda c: (-ref.scores[c], c))[:pool_size])
    pool |= {chunk for chunk in also if chunk in ref.scores}
    return sorted(pool, key=lambda c: (-ref.scores[c], c))[: params.candidates], pool


@pytest.mark.parametrize("params", [EXACT, PRUNING], ids=["exact", "pruned"])
async def test_bm25_over_exactly_the_readable_chunks(
    worker_app: FastAPI, corpus: Corpus, params: RetrievalParams
) -> None:
    async with worker_app.state.sessionmaker() as session:
        for name, spec in SCOPES.items():
            readable = corpus.document_ids(spec)
            ref = await _reference_bm25(session, readable, params)
            assert len(ref.scores) > params.candidates, name
            assert bool(_pruned_lexemes(ref.terms, params)) == (params is PRUNING), name
            if readable != corpus.owners_documents(spec):
                # the owners' whole corpora score differently: the test tells them apart
                whole = await _reference_bm25(session, corpus.owners_documents(spec), params)
                assert any(
                    whole.scores[c] != pytest.approx(s, rel=1e-6) for c, s in ref.scores.items()
                ), name
            ranked = sorted(ref.scores, key=lambda c: (-ref.scores[c], c))
            # a2 is never readable, but its owner is in some scopes, and it matches the query
            unreadable = (
                await session.execute(
                    text("SELECT min(chunk_id) FROM chunk_terms WHERE document_id = :id"),
                    {"id": corpus.documents["a2"]},
                )
            ).scalar_one()
            # the readable chunk that ranks last, one that is not readable, one that does not exist
            also = [ranked[-1], unreadable, 10**12]
            pruned_lists = _expected(ref, params, also)
            # over several owners' partitions BM25 is never pruned (queries.scoped_bm25)
            exact_lists = _expected(ref, EXACT, also)
            for _, expected_all in (pruned_lists, exact_lists):
                assert ranked[-1] in expected_all and unreadable not in expected_all, name
            for form, arguments in corpus.forms(name, spec).items():
                scope = SearchScope(**arguments)  # type: ignore[arg-type]
                one_owner = _one_owner(scope) is not None
                expected_list, expected_all = pruned_lists if one_owner else exact_lists
                got = await lexical_candidates(
                    session, scope=scope, query=QUERY, params=params, include_chunk_ids=also
                )
                listed = [c for c in got if c.lexical_rank is not None]
                assert [c.chunk_id for c in listed] == expected_list, (name, form)
                assert [c.lexical_rank for c in listed] == list(range(params.candidates)), name
                assert {c.chunk_id for c in got} == expected_all, (name, form)
                for candidate in got:  # every score is the exact BM25 of the scope
                    chunk = candidate.chunk_id
                    assert candidate.bm25 == pytest.approx(ref.scores[chunk], rel=1e-9), form
                    assert candidate.keyword_coverage == pytest.approx(ref.coverage[chunk])
                    assert candidate.bm25_max == pytest.approx(ref.max_score, rel=1e-9), form


async def test_documents_carry_their_bm25_length(worker_app: FastAPI, corpus: Corpus) -> None:
    """Indexing writes each document's chunk count and lexeme total with its chunks; a
    document whose total is unknown (indexed by the previous release: NULL) is counted from
    its chunks, with the same statistics."""
    async with worker_app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT d.id, d.chunk_count, d.lexeme_total, count(c.id) AS chunks, "
                    "sum(c.lexeme_count) AS lexemes "
                    "FROM documents d JOIN chunks c ON c.document_id = d.id "
                    "WHERE d.id = ANY(:ids) GROUP BY d.id"
                ),
                {"ids": list(corpus.documents.values())},
            )
        ).all()
        assert len(rows) == len(corpus.documents)
        for row in rows:
            assert row.lexemes > 0
            assert (row.chunk_count, row.lexeme_total) == (row.chunks, row.lexemes)
        spec = SCOPES["collection of three other owners"]
        arguments = corpus.forms("collection of three other owners", spec)["collections"]
        scope = SearchScope(**arguments)  # type: ignore[arg-type]
        known = await lexical_candidates(session, scope=scope, query=QUERY, params=EXACT)
        await session.execute(
            text("UPDATE documents SET lexeme_total = NULL, chunk_count = 0 WHERE id = ANY(:ids)"),
            {"ids": [corpus.documents[name] for name in ("a1", "b2")]},
        )
        unknown = await lexical_candidates(session, scope=scope, query=QUERY, params=EXACT)
        assert [(c.chunk_id, c.bm25) for c in unknown] == [(c.chunk_id, c.bm25) for c in known]
        await session.rollback()


async def _nearest_by_scan(
    session: AsyncSession, document_ids: Collection[uuid.UUID], vector: np.ndarray
) -> dict[int, float]:
    rows = await session.execute(
        text(
            "SELECT id, 1 - (embedding::vector(384) <=> CAST(:q AS vector(384))) AS similarity "
            "FROM chunks WHERE document_id = ANY(:ids)"
        ),
        {"q": "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]", "ids": list(document_ids)},
    )
    return {row.id: float(row.similarity) for row in rows}


def _check_dense(got: list[Candidate], truth: dict[int, float], k: int, name: str) -> None:
    assert {c.chunk_id for c in got} <= set(truth), name
    best = sorted(truth.values(), reverse=True)[:k]
    assert [c.similarity for c in got] == pytest.approx(best, abs=1e-6), name
    assert [c.dense_rank for c in got] == list(range(len(got))), name
    for candidate in got:
        assert candidate.similarity == pytest.approx(truth[candidate.chunk_id], abs=1e-6), name


async def test_dense_candidates_merge_the_partitions(worker_app: FastAPI, corpus: Corpus) -> None:
    """Top k of the readable chunks, whether an owner's partition is scanned exactly or
    walked through the HNSW index (exact_scan_max_chunks 0 walks every whole owner)."""
    embedder = get_embedder(worker_app.state.settings)
    vector = embedder.embed_query(QUERY)
    # A whole owner is scanned exactly at any share of this small table (base), or walked
    # through the HNSW index (walked).
    base = RetrievalParams(candidates=5, exact_scan_max_share=1.0)
    async with worker_app.state.sessionmaker() as session:
        for name, spec in SCOPES.items():
            truth = await _nearest_by_scan(session, corpus.document_ids(spec), vector)
            for form, arguments in corpus.forms(name, spec).items():
                scope = SearchScope(
                    **arguments,  # type: ignore[arg-type]
                    model_id=embedder.model_id,
                    dimensions=embedder.dimensions,
                )
                # (more candidates than there are chunks: every readable chunk, nothing else)
                everything = dataclasses.replace(base, candidates=1000)
                walked = dataclasses.replace(base, exact_scan_max_chunks=0)
                for params in (base, walked, everything):
                    got = await dense_candidates(
                        session, scope=scope, query_vector=vector, params=params
                    )
                    _check_dense(got, truth, params.candidates, f"{name}, {form}")
                await session.rollback()


async def test_service_search_reads_only_the_scope(worker_app: FastAPI, corpus: Corpus) -> None:
    settings = worker_app.state.settings
    reader = corpus.users["reader"]
    async with worker_app.state.sessionmaker() as session:
        for name, spec in SCOPES.items():
            found = {}
            for form, arguments in corpus.forms(name, spec).items():
                hits = await search(
                    session,
                    settings=settings,
                    user_id=reader,
                    query=QUERY,
                    k=50,
                    readable=arguments["owners"],  # type: ignore[arg-type]
                    collections=arguments.get("collections"),  # type: ignore[arg-type]
                )
                # each readable document with a matching chunk is found, and nothing else
                assert {hit.document_id for hit in hits} == corpus.document_ids(spec), form
                found[form] = [(h.chunk_id, round(h.score, 9)) for h in hits]
            # the same passages with the same scores, however the scope is spelt
            assert all(hits == found["ids"] for hits in found.values()), name
        # {reader: None} is the single-owner search, with the same results
        own = await search(session, settings=settings, user_id=reader, query=QUERY, k=10)
        same = await search(
            session, settings=settings, user_id=reader, query=QUERY, k=10, readable={reader: None}
        )
        assert [(h.chunk_id, h.score) for h in own] == [(h.chunk_id, h.score) for h in same]
        # nothing readable: nothing found, and a caller cannot mix both ways of scoping
        embedder = get_embedder(settings)
        for nothing in ({}, {corpus.users["a"]: []}):
            scope = SearchScope(
                owners=nothing, model_id=embedder.model_id, dimensions=embedder.dimensions
            )
            assert not await hybrid_search(
                session,
                scope=scope,
                query=QUERY,
                query_vector=embedder.embed_query(QUERY),
                k=10,
                params=RetrievalParams(),
            )
        with pytest.raises(ValueError, match="readable lists the documents"):
            await search(
                session,
                settings=settings,
                user_id=reader,
                query=QUERY,
                k=10,
                document_ids=[corpus.documents["r1"]],
                readable={reader: None},
            )


def test_a_scope_is_one_owner_or_owners() -> None:
    owner = uuid.uuid4()
    with pytest.raises(ValueError, match="either user_id or owners"):
        SearchScope()
    with pytest.raises(ValueError, match="either user_id or owners"):
        SearchScope(user_id=owner, owners={owner: None})
    with pytest.raises(ValueError, match="owners list their documents"):
        SearchScope(owners={owner: None}, document_ids=[uuid.uuid4()])
    with pytest.raises(ValueError, match="collections are read with owners"):
        SearchScope(
            user_id=owner,
            collections=SharedCollections(collection_ids=[uuid.uuid4()], owner_ids=[owner]),
        )
