"""Retrieval metrics against hand-computed values, and the BEIR eval end to end on a tiny set."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from app.core.settings import Settings
from app.evaluation import metrics
from app.evaluation.beir import (
    load_beir,
    parse_param_overrides,
    render_markdown,
    run_beir,
    summary_lines,
)

QRELS = {"a": 1, "b": 1, "c": 0}


def test_ndcg_binary_hand_computed() -> None:
    # relevant at ranks 2 and 4 of [x, a, y, b]: DCG = 1/log2(3) + 1/log2(5);
    # ideal: relevant at ranks 1, 2: IDCG = 1 + 1/log2(3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert metrics.ndcg_at_k(["x", "a", "y", "b"], QRELS, 10) == pytest.approx(dcg / idcg)
    assert metrics.ndcg_at_k(["a", "b"], QRELS, 10) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(["x", "y"], QRELS, 10) == 0.0
    # cut-off: only the first two ranks count
    assert metrics.ndcg_at_k(["x", "a", "b"], QRELS, 2) == pytest.approx((1 / math.log2(3)) / idcg)


def test_ndcg_graded() -> None:
    qrels = {"a": 2, "b": 1}
    # [b, a]: DCG = 1 + 2/log2(3); ideal [a, b]: 2 + 1/log2(3)
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert metrics.ndcg_at_k(["b", "a"], qrels, 10) == pytest.approx(expected)
    assert metrics.ndcg_at_k(["a"], {}, 10) == 0.0


def test_recall_and_mrr() -> None:
    assert metrics.recall_at_k(["x", "a", "y"], QRELS, 10) == pytest.approx(0.5)
    assert metrics.recall_at_k(["x", "a", "y", "b"], QRELS, 2) == pytest.approx(0.5)
    assert metrics.recall_at_k(["c"], QRELS, 10) == 0.0  # grade 0 is not relevant
    assert metrics.mrr_at_k(["x", "y", "b", "a"], QRELS, 10) == pytest.approx(1 / 3)
    assert metrics.mrr_at_k(["x", "y", "b"], QRELS, 2) == 0.0
    assert metrics.mrr_at_k(["c", "a"], QRELS, 10) == pytest.approx(0.5)


def test_dedupe_keeps_best_rank_and_evaluate_averages() -> None:
    assert metrics.dedupe(["d1", "d2", "d1", "d3", "d2"]) == ["d1", "d2", "d3"]
    result = metrics.evaluate(
        {"q1": ["a", "b"], "q2": ["x"]},  # q1 perfect, q2 misses, q3 has no ranking
        {"q1": {"a": 1, "b": 1}, "q2": {"y": 1}, "q3": {"z": 1}, "q4": {"w": 0}},
    )
    # q4 has no relevant document and is not counted
    assert result["ndcg@10"] == pytest.approx(1 / 3)
    assert result["recall@100"] == pytest.approx(1 / 3)
    assert result["mrr@10"] == pytest.approx(1 / 3)


def test_percentile_linear() -> None:
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert metrics.percentile(values, 50) == pytest.approx(5.5)
    assert metrics.percentile(values, 95) == pytest.approx(9.55)
    assert metrics.percentile([], 95) == 0.0


def test_param_overrides() -> None:
    assert parse_param_overrides(["bm25_k1=0.9", "fusion=rrf", "candidates=50"]) == {
        "bm25_k1": 0.9,
        "fusion": "rrf",
        "candidates": 50,
    }
    with pytest.raises(ValueError, match="unknown"):
        parse_param_overrides(["nope=1"])


def test_render_markdown() -> None:
    assert render_markdown("A  title", "Body.") == b"# A title\n\nBody.\n"
    assert render_markdown("", "Body.") == b"Body.\n"


CORPUS = [
    (
        "d1",
        "Volcanoes of Iceland",
        "Iceland has many active volcanoes; lava flows from eruptions shape the island.",
    ),
    (
        "d2",
        "Coral reef bleaching",
        "Warm ocean water causes coral bleaching, as corals expel their algae.",
    ),
    (
        "d3",
        "Honey bee navigation",
        "Honey bees communicate the direction of flowers with a waggle dance.",
    ),
    (
        "d4",
        "Antibiotic resistance",
        "Bacteria evolve resistance to antibiotics through mutation and gene transfer.",
    ),
    ("d5", "Glacier retreat", "Alpine glaciers are retreating as summer temperatures rise."),
]
QUERIES = [
    ("q1", "Bees dance to tell the hive where flowers are."),
    ("q2", "Ocean warming bleaches corals."),
    ("q3", "Bacteria become resistant to antibiotics by gene transfer."),
]


def write_beir(directory: Path) -> None:
    (directory / "qrels").mkdir(parents=True)
    with (directory / "corpus.jsonl").open("w") as handle:
        for cid, title, text in CORPUS:
            handle.write(json.dumps({"_id": cid, "title": title, "text": text}) + "\n")
    with (directory / "queries.jsonl").open("w") as handle:
        for qid, text in [*QUERIES, ("q9", "not judged")]:
            handle.write(json.dumps({"_id": qid, "text": text}) + "\n")
    (directory / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td3\t1\nq2\td2\t1\nq3\td4\t1\n"
    )


async def test_beir_end_to_end(settings: Settings, database_url: str, tmp_path: Path) -> None:
    beir = tmp_path / "beir"
    write_beir(beir)
    dataset = load_beir(beir, "test")
    assert set(dataset.queries) == {"q1", "q2", "q3"}
    assert len(dataset.corpus) == 5

    summary = await run_beir(settings, database_url, beir, split="test", concurrency=2)
    assert summary["queries"] == 3
    assert summary["ndcg@10"] == pytest.approx(1.0)
    assert summary["recall@100"] == pytest.approx(1.0)
    assert summary["mrr@10"] == pytest.approx(1.0)
    assert 0 < summary["p50_ms"] <= summary["p95_ms"]
    last = list(summary_lines(summary, title="tiny"))[-1]
    parsed = json.loads(last)
    assert {"ndcg@10", "recall@10", "recall@100", "mrr@10", "p50_ms", "p95_ms", "queries"} <= set(
        parsed
    )

    # A second run reuses the ingested corpus: nothing new is uploaded.
    again = await run_beir(settings, database_url, beir, split="test", concurrency=1)
    assert again["ndcg@10"] == pytest.approx(1.0)
    from app.core.db import create_engine, create_sessionmaker
    from app.evaluation.beir import ensure_eval_user, status_counts

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        sessionmaker = create_sessionmaker(engine)
        counts = await status_counts(sessionmaker, await ensure_eval_user(sessionmaker))
    finally:
        await engine.dispose()
    assert counts == {"ready": 5}


def test_linear_fusion_scores_every_candidate_with_both_retrievers() -> None:
    from app.search.retrieval import Candidate, RetrievalParams, fuse

    params = RetrievalParams(fusion="linear", lexical_weight=0.5, candidates=2)
    dense = [
        Candidate(chunk_id=1, similarity=0.8, dense_rank=0),
        Candidate(chunk_id=2, similarity=0.6, dense_rank=1),
        Candidate(chunk_id=3, similarity=0.1),  # lexical-only, cosine looked up
    ]
    lexical = [
        Candidate(chunk_id=3, bm25=8.0, bm25_max=10.0, lexical_rank=0),
        Candidate(chunk_id=2, bm25=6.0, bm25_max=10.0, lexical_rank=1),
        Candidate(chunk_id=1, bm25=1.0, bm25_max=10.0, lexical_rank=7),  # beyond the list
    ]
    scores = {c.chunk_id: c.score for c in fuse(dense, lexical, params)}
    assert scores[1] == pytest.approx(0.5 * 0.8 + 0.5 * 0.1)
    assert scores[2] == pytest.approx(0.5 * 0.6 + 0.5 * 0.6)
    assert scores[3] == pytest.approx(0.5 * 0.1 + 0.5 * 0.8)
    assert [c.chunk_id for c in fuse(dense, lexical, params)] == [2, 1, 3]
    # convex ignores lexical entries beyond its candidate list
    convex = {
        c.chunk_id: c for c in fuse(dense, lexical, RetrievalParams(fusion="convex", candidates=2))
    }
    assert convex[1].bm25 is None
