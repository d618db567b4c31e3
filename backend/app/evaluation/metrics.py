"""Ranking metrics as BEIR/trec_eval compute them (linear gain nDCG, binary recall/MRR).

``ranking`` is a list of document ids, best first; ``qrels`` maps document id to graded
relevance (> 0 means relevant). Every function returns a value in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at_k(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """nDCG@k with gain = relevance grade and discount log2(rank + 1), as trec_eval."""
    ideal = sorted((grade for grade in qrels.values() if grade > 0), reverse=True)[:k]
    idcg = sum(grade / math.log2(rank + 2) for rank, grade in enumerate(ideal))
    if idcg == 0:
        return 0.0
    dcg = sum(
        max(qrels.get(doc, 0), 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:k])
    )
    return dcg / idcg


def recall_at_k(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    relevant = {doc for doc, grade in qrels.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at_k(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    for rank, doc in enumerate(ranking[:k]):
        if qrels.get(doc, 0) > 0:
            return 1.0 / (rank + 1)
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def dedupe(ranking: Sequence[str]) -> list[str]:
    """Keep each document at its best (first) rank: chunk hits → document ranking."""
    seen: set[str] = set()
    out: list[str] = []
    for doc in ranking:
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out


def evaluate(
    rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """Mean metrics over the queries of ``qrels`` (a query without a ranking scores 0)."""
    queries = [qid for qid, judged in qrels.items() if any(g > 0 for g in judged.values())]
    if not queries:
        return {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    totals = {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for qid in queries:
        ranking = rankings.get(qid, [])
        judged = qrels[qid]
        totals["ndcg@10"] += ndcg_at_k(ranking, judged, 10)
        totals["recall@10"] += recall_at_k(ranking, judged, 10)
        totals["recall@100"] += recall_at_k(ranking, judged, 100)
        totals["mrr@10"] += mrr_at_k(ranking, judged, 10)
    return {name: value / len(queries) for name, value in totals.items()}
