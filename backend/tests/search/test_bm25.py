"""lexical_candidates against a BM25 computed in Python from the chunks' own text."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.search.retrieval import (
    RetrievalParams,
    SearchScope,
    _pruned_lexemes,
    _Term,
    lexical_candidates,
)
from tests.conftest import register, upload, wait_until_settled

SECTIONS = [
    ("Rivers", "The river floods in spring when snow melts; river ice jams make floods worse."),
    ("Deltas", "A river delta forms where sediment settles as the river slows at the sea."),
    ("Bread", "Sourdough bread rises slowly; the starter holds wild yeast and bacteria."),
    ("Ovens", "Bake bread in a hot oven; steam in the oven gives the crust its shine."),
    ("Floods", "Flood plains store water; levees keep floods from towns along the river."),
    ("Yeast", "Yeast eats sugar and makes gas, so dough rises; cold slows the yeast."),
    ("Ice", "Lake ice forms in winter and melts in spring, feeding the river below."),
    ("Salt", "Salt tightens dough and slows yeast, and it flavours the bread."),
]


def _markdown(sections: list[tuple[str, str]]) -> bytes:
    return "\n\n".join(f"# {title}\n\n{body}" for title, body in sections).encode()


@dataclass
class Reference:
    scores: dict[int, float]  # BM25 per chunk that matches the query
    coverage: dict[int, float]
    documents: dict[int, uuid.UUID]
    max_score: float
    terms: list[_Term]  # the query's lexemes found in the user's corpus
    lexemes: dict[int, set[str]]  # the query lexemes each chunk holds


async def _reference(
    session: AsyncSession, user_id: uuid.UUID, query: str, params: RetrievalParams
) -> Reference:
    rows = (
        await session.execute(
            text(
                "SELECT c.id, c.document_id, t.lexeme, "
                "coalesce(array_length(t.positions, 1), 1) AS tf FROM chunks c, "
                "unnest(to_tsvector('english', array_to_string(c.heading_path, ' ') || ' ' "
                "|| c.text)) AS t WHERE c.user_id = :user_id"
            ),
            {"user_id": user_id},
        )
    ).all()
    query_terms = [
        row.lexeme
        for row in await session.execute(
            text("SELECT lexeme FROM unnest(to_tsvector('english', :q))"), {"q": query}
        )
    ]
    tf: dict[int, Counter[str]] = {}
    documents: dict[int, uuid.UUID] = {}
    for row in rows:
        tf.setdefault(row.id, Counter())[row.lexeme] += row.tf
        documents[row.id] = row.document_id
    n = len(tf)
    lengths = {chunk: sum(counts.values()) for chunk, counts in tf.items()}
    avgdl = max(sum(lengths.values()) / n, 1.0)
    df = {term: sum(1 for counts in tf.values() if term in counts) for term in query_terms}
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in query_terms if df[t]}
    k1, b = params.bm25_k1, params.bm25_b
    scores: dict[int, float] = {}
    coverage: dict[int, float] = {}
    lexemes: dict[int, set[str]] = {}
    for chunk, counts in tf.items():
        matched = [t for t in idf if t in counts]
        if not matched:
            continue
        norm = k1 * (1 - b + b * lengths[chunk] / avgdl)
        scores[chunk] = sum(idf[t] * counts[t] * (k1 + 1) / (counts[t] + norm) for t in matched)
        coverage[chunk] = len(matched) / len(query_terms)
        lexemes[chunk] = set(matched)
    terms = [_Term(t, df[t], idf[t]) for t in idf]
    return Reference(scores, coverage, documents, sum(idf.values()) * (k1 + 1), terms, lexemes)


PRUNING = RetrievalParams(
    candidates=4, lexical_exact_max_postings=0, lexical_pruned_share=0.5, lexical_pool=1000
)


@pytest.mark.parametrize("pruning", [False, True], ids=["exact", "pruned"])
@pytest.mark.parametrize("restrict", [False, True], ids=["all", "two-documents"])
async def test_lexical_candidates_match_reference_bm25(
    worker_app: FastAPI, worker_client: httpx.AsyncClient, restrict: bool, pruning: bool
) -> None:
    headers = await register(worker_client)
    other = await register(worker_client)
    uploads = [
        (headers, "water.md", _markdown(SECTIONS[0:2] + SECTIONS[4:5] + SECTIONS[6:7])),
        (headers, "baking.md", _markdown(SECTIONS[2:4] + SECTIONS[5:6] + SECTIONS[7:8])),
        (headers, "mixed.md", _markdown([SECTIONS[0], SECTIONS[5], SECTIONS[3]])),
        (other, "other.md", _markdown(SECTIONS)),  # another user's postings change nothing
    ]
    document_ids = {}
    for owner, name, data in uploads:
        document = (await upload(worker_client, owner, (name, data, "text/markdown"))).json()[0]
        settled = await wait_until_settled(worker_client, owner, document["id"])
        assert settled["status"] == "ready", settled
        document_ids[name] = uuid.UUID(document["id"])
    user_id = uuid.UUID((await worker_client.get("/api/v1/auth/me", headers=headers)).json()["id"])
    query = "why do river floods come with spring ice, and does yeast care?"
    params = PRUNING if pruning else RetrievalParams(candidates=4)
    async with worker_app.state.sessionmaker() as session:
        ref = await _reference(session, user_id, query, params)
        assert len(ref.scores) > params.candidates + 2, "the corpus must overflow the list"
        allowed = {document_ids["water.md"], document_ids["mixed.md"]} if restrict else None
        in_scope = [c for c in ref.scores if allowed is None or ref.documents[c] in allowed]
        pruned = _pruned_lexemes(ref.terms, params)
        assert bool(pruned) == pruning
        # candidates come from the lexemes that are not pruned (all of them when exact)
        generated = [c for c in in_scope if ref.lexemes[c] - pruned]
        if pruning:
            assert len(generated) < len(in_scope), "some chunks hold only pruned lexemes"
        ranked = sorted(in_scope, key=lambda c: (-ref.scores[c], c))
        also = [ranked[-1], ranked[params.candidates], 10**12]  # and one that does not exist
        pool = set(generated) | {c for c in also if c in ref.scores}
        expected = sorted(pool, key=lambda c: (-ref.scores[c], c))[: params.candidates]
        scope = SearchScope(user_id=user_id, document_ids=sorted(allowed) if allowed else None)
        got = await lexical_candidates(
            session, scope=scope, query=query, params=params, include_chunk_ids=also
        )
    listed = [c for c in got if c.lexical_rank is not None]
    assert [c.chunk_id for c in listed] == expected
    assert [c.lexical_rank for c in listed] == list(range(params.candidates))
    assert {c.chunk_id for c in got} == set(expected) | (set(also) & set(ref.scores))
    for candidate in got:  # every score is the exact BM25, pruned or not
        assert candidate.bm25 == pytest.approx(ref.scores[candidate.chunk_id], rel=1e-9)
        assert candidate.keyword_coverage == pytest.approx(ref.coverage[candidate.chunk_id])
        assert candidate.bm25_max == pytest.approx(ref.max_score, rel=1e-9)


async def _stored_and_counted_df(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> tuple[dict[tuple[uuid.UUID, str], int], dict[tuple[uuid.UUID, str], int]]:
    stored = await session.execute(
        text("SELECT user_id, lexeme, df FROM user_lexeme_stats WHERE user_id = ANY(:ids)"),
        {"ids": user_ids},
    )
    counted = await session.execute(
        text(
            "SELECT user_id, lexeme, count(*) FROM chunk_terms WHERE user_id = ANY(:ids) "
            "GROUP BY user_id, lexeme"
        ),
        {"ids": user_ids},
    )
    return (
        {(row[0], row[1]): row[2] for row in stored},
        {(row[0], row[1]): row[2] for row in counted},
    )


async def test_document_frequencies_follow_every_write_of_postings(
    worker_app: FastAPI, worker_client: httpx.AsyncClient
) -> None:
    """The stored df of each lexeme (user_lexeme_stats, kept by triggers on chunk_terms) is
    the count of the user's postings after uploads, a reindex and deletions, and the BM25
    that reads it is still the reference."""
    headers = await register(worker_client)
    other = await register(worker_client)
    user_id = uuid.UUID((await worker_client.get("/api/v1/auth/me", headers=headers)).json()["id"])
    other_id = uuid.UUID((await worker_client.get("/api/v1/auth/me", headers=other)).json()["id"])
    uploads = [
        (headers, "water.md", _markdown(SECTIONS[0:2] + SECTIONS[4:5] + SECTIONS[6:7])),
        (headers, "baking.md", _markdown(SECTIONS[2:4] + SECTIONS[5:6] + SECTIONS[7:8])),
        (headers, "mixed.md", _markdown([SECTIONS[0], SECTIONS[5], SECTIONS[3]])),
        (other, "other.md", _markdown(SECTIONS)),
    ]
    ids = {}
    for owner, name, data in uploads:
        document = (await upload(worker_client, owner, (name, data, "text/markdown"))).json()[0]
        assert (await wait_until_settled(worker_client, owner, document["id"]))["status"] == "ready"
        ids[name] = document["id"]

    async def check() -> None:
        async with worker_app.state.sessionmaker() as session:
            stored, counted = await _stored_and_counted_df(session, [user_id, other_id])
            assert stored == counted
            assert any(key[0] == user_id for key in counted)
            assert any(key[0] == other_id for key in counted)
            query = "river floods in spring and the yeast in bread dough"
            params = RetrievalParams(candidates=50)
            ref = await _reference(session, user_id, query, params)
            got = await lexical_candidates(
                session, scope=SearchScope(user_id=user_id), query=query, params=params
            )
        assert {c.chunk_id: c.bm25 for c in got} == pytest.approx(ref.scores, rel=1e-9)

    await check()
    reindexed = await worker_client.post(
        f"/api/v1/documents/{ids['mixed.md']}/reindex", headers=headers
    )
    assert reindexed.status_code == 202, reindexed.text
    assert (await wait_until_settled(worker_client, headers, ids["mixed.md"]))["status"] == "ready"
    await check()
    deleted = await worker_client.delete(f"/api/v1/documents/{ids['water.md']}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    await check()
